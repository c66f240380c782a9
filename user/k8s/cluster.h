/* SPDX-License-Identifier: MIT */
/*
 * cluster: the size of the cluster under test (nodes, pods, namespaces),
 * read from kube-apiserver's /metrics: apiserver_storage_objects
 * (Kubernetes 1.21+) or etcd_object_counts (older), the objects of each
 * resource in etcd. One job: fetch and read those gauges; the run keeps
 * them (store__set_cluster).
 */
#ifndef CPPROF_CLUSTER_H
#define CPPROF_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>

#include "store.h"

struct cluster_opts {
	const char *url;         /* https://HOST:PORT of kube-apiserver */
	const char *ca_file;     /* CA bundle; NULL: the system's */
	const char *token_file;  /* bearer token; NULL: none */
	bool insecure;           /* skip certificate verification */
	long timeout_ms;         /* whole request; 0: 5000 */
};

/*
 * Fill OUT (-1 where /metrics has no figure) from the apiserver. 0, or a
 * negative errno with cp_lasterr() naming the cause and the fix
 * ("cannot reach 'https://...': Connection refused", "HTTP 401 ...").
 */
int cluster__from_apiserver(const struct cluster_opts *o, struct cluster_size *out);

/* BASE (https://HOST:PORT, with or without a final '/') + "/metrics", into URL. */
void cluster__metrics_url(const char *base, char *url, size_t len);

/* The same, from /metrics text already fetched (for tests and fuzzing). */
int cluster__from_metrics(const char *text, size_t len, struct cluster_size *out);

#endif
