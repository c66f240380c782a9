// SPDX-License-Identifier: MIT
/*
 * cluster: cluster size from kube-apiserver's /metrics. See cluster.h.
 *
 * apiserver_storage_objects{resource="pods"} (staging/src/k8s.io/apiserver
 * /pkg/storage/etcd3/metrics, 1.21+; etcd_object_counts before) is what
 * the apiserver last counted in etcd: cheap to read on a 60,000-pod
 * cluster, unlike listing every object.
 */
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster.h"
#include "log.h"
#include "promtext.h"

#define METRICS_MAX (64 << 20)

struct buf {
	char *p;
	size_t n, cap;
	bool too_big;
};

static size_t on_data(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct buf *b = ctx;
	size_t n = size * nmemb;

	if (b->n + n > METRICS_MAX) {
		b->too_big = true;
		return 0;
	}
	if (b->n + n + 1 > b->cap) {
		size_t cap = (b->n + n + 1) * 2;
		char *p = realloc(b->p, cap);

		if (!p)
			return 0;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->n, data, n);
	b->n += n;
	b->p[b->n] = 0;
	return n;
}

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

static int read_token(const char *path, char *tok, size_t len)
{
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f) {
		cp_seterr("cannot read token file '%s': %s", path, strerror(errno));
		return -errno;
	}
	n = fread(tok, 1, len - 1, f);
	fclose(f);
	tok[n] = 0;
	while (n && (tok[n - 1] == '\n' || tok[n - 1] == '\r' || tok[n - 1] == ' '))
		tok[--n] = 0;
	if (!n || strpbrk(tok, "\r\n")) {
		cp_seterr("token file '%s' does not hold one token", path);
		return -EINVAL;
	}
	return 0;
}

int cluster__from_apiserver(const struct cluster_opts *o, struct cluster_size *out)
{
	char url[2048], auth[4200], tok[4096], errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *hdrs = NULL;
	struct buf b = {};
	long code = 0;
	CURL *c;
	CURLcode rc;
	int err = 0;

	out->nodes = out->pods = out->namespaces = -1;
	out->source = NULL;
	if (!o->url || !o->url[0]) {
		cp_seterr("no apiserver URL");
		return -EINVAL;
	}
	snprintf(url, sizeof(url), "%s%smetrics", o->url, o->url[strlen(o->url) - 1] == '/' ? "" : "/");
	if (o->token_file) {
		err = read_token(o->token_file, tok, sizeof(tok));
		if (err)
			return err;
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", tok);
		hdrs = curl_slist_append(hdrs, auth);
		memset(tok, 0, sizeof(tok));
	}
	c = curl_easy_init();
	if (!c) {
		curl_slist_free_all(hdrs);
		cp_seterr("cannot start libcurl");
		return -ENOMEM;
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, o->timeout_ms ? o->timeout_ms : 5000L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	if (o->ca_file)
		curl_easy_setopt(c, CURLOPT_CAINFO, o->ca_file);
	if (o->insecure) {
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	if (rc != CURLE_OK) {
		cp_seterr("cannot read '%s': %s%s", url, b.too_big ? "answer larger than 64 MiB" :
			  errbuf[0] ? errbuf : curl_easy_strerror(rc),
			  rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE ?
			  "; give its CA with --apiserver-ca" : "");
		err = rc == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : -EHOSTUNREACH;
	} else if (code != 200) {
		cp_seterr("'%s' answered HTTP %ld%s", url, code,
			  code == 401 || code == 403 ?
			  "; give a token allowed to read /metrics with --apiserver-token-file" : "");
		err = code == 401 || code == 403 ? -EACCES : -EIO;
	} else {
		err = cluster__from_metrics(b.p ? b.p : "", b.n, out);
	}
	curl_easy_cleanup(c);
	curl_slist_free_all(hdrs);
	memset(auth, 0, sizeof(auth));
	free(b.p);
	return err;
}
