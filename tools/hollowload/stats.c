// SPDX-License-Identifier: MIT
/*
 * stats: exact latency samples (sorted on demand, nearest-rank
 * percentiles: the smallest sample with at least P% of the samples at or
 * below it), error counts by kind, a table for people and JSON for tests.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"

const char *const hl_err_names[ERR_KINDS] = {
	[ERR_NONE] = "none", [ERR_CONNECT] = "connect", [ERR_DNS] = "dns",
	[ERR_TLS] = "tls", [ERR_TIMEOUT] = "timeout", [ERR_RESET] = "reset",
	[ERR_HTTP_400] = "http_400", [ERR_HTTP_401] = "http_401",
	[ERR_HTTP_403] = "http_403", [ERR_HTTP_404] = "http_404",
	[ERR_HTTP_405] = "http_405", [ERR_HTTP_409] = "http_409",
	[ERR_HTTP_410] = "http_410", [ERR_HTTP_415] = "http_415",
	[ERR_HTTP_422] = "http_422", [ERR_HTTP_429] = "http_429",
	[ERR_HTTP_4XX] = "http_4xx", [ERR_HTTP_5XX] = "http_5xx",
	[ERR_PROTOCOL] = "protocol", [ERR_OTHER] = "other",
};

enum hl_err hl_err_of_status(long status)
{
	switch (status) {
	case 400: return ERR_HTTP_400;
	case 401: return ERR_HTTP_401;
	case 403: return ERR_HTTP_403;
	case 404: return ERR_HTTP_404;
	case 405: return ERR_HTTP_405;
	case 409: return ERR_HTTP_409;
	case 410: return ERR_HTTP_410;
	case 415: return ERR_HTTP_415;
	case 422: return ERR_HTTP_422;
	case 429: return ERR_HTTP_429;
	}
	if (status >= 500)
		return ERR_HTTP_5XX;
	if (status >= 400)
		return ERR_HTTP_4XX;
	if (status < 100)
		return ERR_OTHER;
	return ERR_NONE;
}

int samples__add(struct samples *sm, double v)
{
	if (sm->len == sm->cap) {
		size_t cap = sm->cap ? 2 * sm->cap : 64;
		double *n = realloc(sm->v, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		sm->v = n;
		sm->cap = cap;
	}
	sm->v[sm->len++] = v;
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double samples__pct(struct samples *sm, double p)
{
	size_t rank;

	if (!sm->len)
		return 0;
	qsort(sm->v, sm->len, sizeof(double), cmp_double);
	rank = (size_t)ceil(p / 100.0 * sm->len);
	if (rank < 1)
		rank = 1;
	if (rank > sm->len)
		rank = sm->len;
	return sm->v[rank - 1];
}

double samples__max(const struct samples *sm)
{
	double m = 0;

	for (size_t i = 0; i < sm->len; i++)
		if (sm->v[i] > m)
			m = sm->v[i];
	return m;
}

struct stat_key *stats__key(struct stats *s, const char *verb, const char *resource,
			    const char *subresource)
{
	struct stat_key *k;

	for (size_t i = 0; i < s->nkeys; i++) {
		k = &s->keys[i];
		if (!strcmp(k->verb, verb) && !strcmp(k->resource, resource) &&
		    !strcmp(k->subresource, subresource))
			return k;
	}
	if (s->nkeys == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 16;
		struct stat_key *n = realloc(s->keys, cap * sizeof(*n));

		if (!n)
			return NULL;
		s->keys = n;
		s->cap = cap;
	}
	k = &s->keys[s->nkeys++];
	memset(k, 0, sizeof(*k));
	snprintf(k->verb, sizeof(k->verb), "%s", verb);
	snprintf(k->resource, sizeof(k->resource), "%s", resource);
	snprintf(k->subresource, sizeof(k->subresource), "%s", subresource);
	return k;
}

void stats__record(struct stats *s, const char *verb, const char *resource,
		   const char *subresource, double latency_ms, long status, enum hl_err err)
{
	struct stat_key *k = stats__key(s, verb, resource, subresource ? subresource : "");

	if (!k)
		return;
	k->count++;
	if (status >= 100) {
		k->responses++;
		samples__add(&k->lat, latency_ms < 0 ? 0 : latency_ms);
		if (status < 300 && err == ERR_NONE)
			s->ok++;
	}
	if (err != ERR_NONE) {
		k->errors++;
		k->err[err]++;
	}
}

long stats__total(const struct stats *s)
{
	long n = 0;

	for (size_t i = 0; i < s->nkeys; i++)
		n += s->keys[i].count;
	return n;
}

static int cmp_key(const void *a, const void *b)
{
	const struct stat_key *x = a, *y = b;
	int c = strcmp(x->resource, y->resource);

	if (!c)
		c = strcmp(x->subresource, y->subresource);
	return c ? c : strcmp(x->verb, y->verb);
}

static void errs_text(const struct stat_key *k, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = 0;
	for (int e = 1; e < ERR_KINDS && off < len; e++)
		if (k->err[e])
			off += snprintf(buf + off, len - off, "%s%s=%ld", off ? "," : "",
					hl_err_names[e], k->err[e]);
	if (!off)
		snprintf(buf, len, "-");
}

void stats__print(struct stats *s, FILE *f)
{
	char what[100], errs[200];

	qsort(s->keys, s->nkeys, sizeof(*s->keys), cmp_key);
	fprintf(f, "%-10s %-28s %8s %7s %9s %9s %9s %10s  %s\n", "VERB", "RESOURCE", "COUNT",
		"ERRORS", "P50(ms)", "P90(ms)", "P99(ms)", "MAX(ms)", "ERROR KINDS");
	for (size_t i = 0; i < s->nkeys; i++) {
		struct stat_key *k = &s->keys[i];

		snprintf(what, sizeof(what), "%s%s%s", k->resource[0] ? k->resource : "(non-resource)",
			 k->subresource[0] ? "/" : "", k->subresource);
		errs_text(k, errs, sizeof(errs));
		fprintf(f, "%-10s %-28s %8ld %7ld %9.2f %9.2f %9.2f %10.2f  %s\n", k->verb, what,
			k->count, k->errors, samples__pct(&k->lat, 50), samples__pct(&k->lat, 90),
			samples__pct(&k->lat, 99), samples__max(&k->lat), errs);
	}
	if (s->pods_created || s->startup.len)
		fprintf(f, "pod startup (create to Running seen by the node's watch): %zu pods, "
			"p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms; %ld created, %ld never ran\n",
			s->startup.len, samples__pct(&s->startup, 50), samples__pct(&s->startup, 90),
			samples__pct(&s->startup, 99), samples__max(&s->startup), s->pods_created,
			s->pods_not_running);
	if (s->watch_lists || s->watch_list_fallbacks)
		fprintf(f, "watch-lists: %ld synced by their initial-events-end bookmark, "
			"%ld refused (then list and watch)\n", s->watch_lists, s->watch_list_fallbacks);
	if (s->lease_lag.len)
		fprintf(f, "lease renewals: %zu, lag behind schedule p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
			s->lease_lag.len, samples__pct(&s->lease_lag, 50),
			samples__pct(&s->lease_lag, 99), samples__max(&s->lease_lag));
}

static void json_pcts(FILE *f, struct samples *sm)
{
	double sum = 0;

	for (size_t i = 0; i < sm->len; i++)
		sum += sm->v[i];
	fprintf(f, "\"count\": %zu, \"mean_ms\": %.3f, \"p50_ms\": %.3f, \"p90_ms\": %.3f, "
		"\"p99_ms\": %.3f, \"max_ms\": %.3f",
		sm->len, sm->len ? sum / sm->len : 0.0, samples__pct(sm, 50), samples__pct(sm, 90),
		samples__pct(sm, 99), samples__max(sm));
}

void stats__json(struct stats *s, FILE *f, const char *meta)
{
	qsort(s->keys, s->nkeys, sizeof(*s->keys), cmp_key);
	fprintf(f, "{\n");
	if (meta && *meta)
		fprintf(f, "  %s,\n", meta);
	fprintf(f, "  \"requests\": [");
	for (size_t i = 0; i < s->nkeys; i++) {
		struct stat_key *k = &s->keys[i];
		int first = 1;

		/* verbs, resources and subresources are our own constants */
		fprintf(f, "%s\n    {\"verb\": \"%s\", \"resource\": \"%s\", \"subresource\": \"%s\", "
			"\"count\": %ld, \"responses\": %ld, \"errors\": %ld, \"error_kinds\": {",
			i ? "," : "", k->verb, k->resource, k->subresource, k->count, k->responses,
			k->errors);
		for (int e = 1; e < ERR_KINDS; e++) {
			if (!k->err[e])
				continue;
			fprintf(f, "%s\"%s\": %ld", first ? "" : ", ", hl_err_names[e], k->err[e]);
			first = 0;
		}
		fprintf(f, "}, \"latency\": {");
		json_pcts(f, &k->lat);
		fprintf(f, "}}");
	}
	fprintf(f, "\n  ],\n  \"pod_startup\": {\"created\": %ld, \"running\": %ld, \"not_running\": %ld, ",
		s->pods_created, s->pods_running, s->pods_not_running);
	json_pcts(f, &s->startup);
	fprintf(f, "},\n  \"lease_lag\": {");
	json_pcts(f, &s->lease_lag);
	fprintf(f, "},\n  \"total\": %ld,\n  \"ok\": %ld,\n"
		"  \"watch_lists\": {\"synced\": %ld, \"fell_back\": %ld}\n}\n",
		stats__total(s), s->ok, s->watch_lists, s->watch_list_fallbacks);
}

void stats__free(struct stats *s)
{
	for (size_t i = 0; i < s->nkeys; i++)
		free(s->keys[i].lat.v);
	free(s->keys);
	free(s->startup.v);
	free(s->lease_lag.v);
	memset(s, 0, sizeof(*s));
}
