/* SPDX-License-Identifier: MIT */
/*
 * etcd_key: tag an etcd call the way kube-apiserver's storage lays out its
 * keys, so that etcd's calls can be grouped by the same resource and
 * namespace as the API requests that caused them:
 *
 *   <prefix>/<resource>/<namespace>/<name>           namespaced object
 *   <prefix>/<resource>/<name>                       cluster-scoped object
 *   <prefix>/<group>/<resource>/...                  groups whose storage
 *                                                    prefix names the group
 *                                                    (CRDs, apiregistration,
 *                                                    custom resources)
 *
 * prefix is kube-apiserver's --etcd-prefix ("/registry" by default). The
 * resource prefix is the lower-case resource name except for the legacy
 * ones compiled into kube-apiserver (pkg/kubeapiserver/
 * default_storage_factory_builder.go, SpecialDefaultResourcePrefixes):
 * minions (nodes), services/specs, services/endpoints, controllers
 * (replicationcontrollers), ingress, podsecuritypolicy; etcd_key reports
 * the API resource name (nodes, services, endpoints, ...) for them.
 *
 * The verb is the etcd operation, from the full gRPC method name
 * ("/etcdserverpb.KV/DeleteRange" -> "delete_range"). A range with a
 * range_end is a list (a prefix read, key ending in '/'); without one, a
 * single-key read.
 */
#ifndef CPPROF_ETCD_KEY_H
#define CPPROF_ETCD_KEY_H

#include <stdbool.h>
#include <stddef.h>

#include "k8s_reqinfo.h"

#define ETCD_KEY_PREFIX_DEFAULT "/registry"
#define ETCD_KEY_STR 64

struct etcd_key {
	char verb[24];                  /* range, put, delete_range, txn, compact, watch, lease_grant, ... */
	char group[ETCD_KEY_STR];       /* "" for core and for groups stored without their name */
	char resource[ETCD_KEY_STR];    /* API resource name: pods, nodes, services, endpoints, ... */
	char namespace[ETCD_KEY_STR];
	char name[ETCD_KEY_STR];        /* cut to ETCD_KEY_STR-1 bytes */
	enum k8s_scope scope;           /* SCOPE_NONE when the key is not a Kubernetes object key */
	bool is_list;                   /* a prefix read (range with range_end) */
	bool is_k8s;                    /* the key lies under the prefix */
};

/*
 * The etcd verb of a full gRPC method name ("/etcdserverpb.KV/Range" ->
 * "range", "/etcdserverpb.Lease/LeaseKeepAlive" -> "lease_keepalive").
 * Methods not in etcd's table come out in snake case
 * ("/etcdserverpb.Maintenance/HashKV" -> "hash_kv"); an empty or
 * malformed name gives "". Always NUL-terminates OUT (if N > 0).
 */
void etcd_verb_from_method(const char *method, char *out, size_t n);

/*
 * Tag one call. PREFIX may be NULL (ETCD_KEY_PREFIX_DEFAULT); METHOD is the
 * full gRPC method name (may be NULL or ""); KEY/KEY_LEN the request key
 * as captured (not NUL-terminated, may be cut or contain any byte);
 * RANGE_END_LEN the length of the request's range_end (0: single key).
 * Never fails; no allocation.
 */
void etcd_key__parse(const char *prefix, const char *method, const char *key, size_t key_len,
		     size_t range_end_len, struct etcd_key *out);

#endif
