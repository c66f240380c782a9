// SPDX-License-Identifier: MIT
/*
 * cluster: cluster size from kube-apiserver's /metrics. See cluster.h.
 *
 * apiserver_storage_objects{resource="pods"} (staging/src/k8s.io/apiserver
 * /pkg/storage/etcd3/metrics, 1.21+; etcd_object_counts before) is what
 * the apiserver last counted in etcd: cheap to read on a 60,000-pod
 * cluster, unlike listing every object.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster.h"
#include "log.h"
#include "promtext.h"
#include "scrape.h"

static int on_sample(void *ctx, const struct prom_sample *s)
{
	struct cluster_size *cs = ctx;
	const char *res;
	int64_t *slot;

	if (strcmp(s->name, "apiserver_storage_objects") && strcmp(s->name, "etcd_object_counts"))
		return 0;
	res = promtext__label(s, "resource");
	if (!res)
		return 0;
	/* "nodes", or with a group: "pods" is core; ignore e.g. "pods.metrics.k8s.io" */
	slot = !strcmp(res, "nodes") ? &cs->nodes : !strcmp(res, "pods") ? &cs->pods :
	       !strcmp(res, "namespaces") ? &cs->namespaces : NULL;
	if (slot && s->value >= 0 && s->value < 1e12 && (*slot < 0 || s->name[0] == 'a'))
		*slot = (int64_t)s->value;  /* the newer metric wins when both are served */
	return 0;
}

int cluster__from_metrics(const char *text, size_t len, struct cluster_size *out)
{
	int err;

	out->nodes = out->pods = out->namespaces = -1;
	out->source = NULL;
	err = promtext__parse(text, len, on_sample, out);
	if (err) {
		char why[256];

		snprintf(why, sizeof(why), "%s", cp_lasterr());
		cp_seterr("/metrics is not Prometheus text: %s", why);
		return err;
	}
	if (out->nodes < 0 && out->pods < 0 && out->namespaces < 0) {
		cp_seterr("/metrics has no apiserver_storage_objects or etcd_object_counts: not a kube-apiserver?");
		return -ENOENT;
	}
	out->source = "apiserver";
	return 0;
}

int cluster__from_apiserver(const struct cluster_opts *o, struct cluster_size *out)
{
	struct scrape_opts so = { .timeout_ms = o->timeout_ms ? o->timeout_ms : 5000L };
	struct scrape_endpoint ep = {
		.ca_file = o->ca_file, .token_file = o->token_file, .insecure = o->insecure,
	};
	struct scrape_body b;
	char url[2048];
	int err;

	out->nodes = out->pods = out->namespaces = -1;
	out->source = NULL;
	if (!o->url || !o->url[0]) {
		cp_seterr("no apiserver URL");
		return -EINVAL;
	}
	cluster__metrics_url(o->url, url, sizeof(url));
	ep.url = url;
	err = scrape__get(&ep, &so, &b);
	if (err) {
		if (b.error == SCRAPE_ERR_TLS) {
			char why[600];

			snprintf(why, sizeof(why), "%s", cp_lasterr());
			cp_seterr("%s; give its CA with --apiserver-ca", why);
		}
		return err;
	}
	err = cluster__from_metrics(b.data, b.len, out);
	free(b.data);
	return err;
}

void cluster__metrics_url(const char *base, char *url, size_t len)
{
	size_t n = strlen(base);

	snprintf(url, len, "%s%smetrics", base, n && base[n - 1] == '/' ? "" : "/");
}
