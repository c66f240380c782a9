// SPDX-License-Identifier: MIT
/*
 * test_report: a database with known latencies, written through store.c,
 * and the report's exact percentiles, SLO verdicts, error counts, label
 * errors, and the three output formats (text width, Markdown, JSON that
 * parses back).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "log.h"
#include "report.h"
#include "store.h"

#define MS 1000000LL
#define S  1000000000LL

static char dir[] = "/tmp/test_report.XXXXXX";
static char db[256];

static struct store *st;
static int64_t run_id, target_api, target_etcd;

static void add(const char *comp, const char *verb, const char *res, const char *sub,
		const char *scope, const char *path, int status, long long latency)
{
	struct request_rec r = {
		.run_id = run_id, .component = comp,
		/* etcd's calls here are gRPC, except its HTTP endpoints (a path) */
		.protocol = strcmp(comp, "etcd") || path ? "HTTP/2" : "gRPC",
		.target_id = strcmp(comp, "etcd") ? target_api : target_etcd,
		.verb = verb, .resource = res, .subresource = sub, .scope = scope,
		.path = path, .status = status, .latency_ns = latency,
		.start_ns = 1700000000LL * S,
	};

	if (store__add_request(st, &r))
		CHECK(0, "add_request: %s", cp_lasterr());
}

static const char long_res[] = "customresourcedefinitions-with-a-very-long-name-that-goes-on-and-on";

static int build_db(void)
{
	struct run_info ri = { .label = "real-1", .kind = "real", .started_ns = 1700000000LL * S,
			       .host = "master-0", .kernel = "6.18.0",
			       .command = "cpprof record --db r.db" };
	struct target_info ti = { .pid = 812, .component = "apiserver",
				  .exe = "/usr/local/bin/kube-\"api\\server\"\n\xff",
				  .go_version = "go1.22.1" };
	struct run_stats rs = { .ended_ns = 1700003725LL * S, .requests = 2000,
				.lost_events = 4, .unmatched = 5 };
	int err;
	int i;

	st = store__open(db, &err);
	CHECK(st != NULL, "store__open: %s", cp_lasterr());
	if (!st)
		return -1;
	CHECK_INT(store__begin_run(st, &ri, &run_id), 0);
	CHECK_INT(store__add_target(st, run_id, &ti, &target_api), 0);
	ti.pid = 900;
	ti.component = "etcd";
	ti.exe = "/usr/bin/etcd";
	ti.go_version = "go1.19.8";
	CHECK_INT(store__add_target(st, run_id, &ti, &target_etcd), 0);

	/* 1..1000 ms in a scrambled order: p50 500ms, p90 900ms, p99 990ms, max 1s. */
	for (i = 0; i < 1000; i++)
		add("apiserver", "list", "pods", "", "namespace", NULL, 200,
		    ((i * 7919) % 1000 + 1) * MS);
	/* 98 x 10ms, 2 x 1.5s: the 99th of 100 is 1.5s, over the 1s of a single get. */
	for (i = 0; i < 100; i++)
		add("apiserver", "get", "pods", "", "resource", NULL, 200, i < 2 ? 1500 * MS : 10 * MS);
	/* Cluster list at 20s: inside its 30s. */
	for (i = 0; i < 100; i++)
		add("apiserver", "list", "nodes", "", "cluster", NULL, 200, 20 * S);
	/* Namespace list at 6s: over its 5s. */
	for (i = 0; i < 10; i++)
		add("apiserver", "list", "events", "", "namespace", NULL, 200, 6 * S);
	/* Mutating, 100ms; errors are 5xx and 429, not 404. */
	for (i = 0; i < 10; i++)
		add("apiserver", "create", "pods", "", "namespace", NULL,
		    i < 2 ? 500 : i == 2 ? 429 : i == 3 ? 404 : 201, 100 * MS);
	add("apiserver", "patch", "nodes", "status", "resource", NULL, 200, 2 * S);
	/* Outside the SLO: watch, long-running, non-resource, etcd. */
	add("apiserver", "watch", "pods", "", "namespace", NULL, 200, 300 * S);
	add("apiserver", "create", "pods", "exec", "resource", NULL, 101, 60 * S);
	add("apiserver", "get", "", "", "", "/healthz", 200, 150000);
	add("apiserver", "get", "", "", "", "/healthz", 200, 250000);
	add("apiserver", "list", long_res, "status", "cluster", NULL, 200, 5 * MS);
	add("etcd", "range", "pods", "", "", NULL, 0, 2 * MS);
	add("etcd", "range", "pods", "", "", NULL, 14, 3 * MS);
	add("etcd", "watch", "", "", "", NULL, 1, 2 * S);      /* ended by its client: Canceled */
	add("etcd", "watch", "", "", "", NULL, 14, 2 * S);     /* Unavailable: an error */
	add("etcd", "get", "", "", "", "/health", 200, 100000); /* etcd's HTTP side */
	CHECK_INT(store__end_run(st, run_id, &rs), 0);

	ri.label = "km-1";
	ri.kind = "kubemark";
	CHECK_INT(store__begin_run(st, &ri, &run_id), 0);
	add("apiserver", "get", "pods", "", "resource", NULL, 200, 7 * MS);
	/* Left unended: the report must say so rather than invent an end. */
	CHECK_INT(store__flush(st), 0);
	store__close(st);
	return 0;
}

static const struct report_call *find(const struct report_call *k, size_t n, const char *comp,
				      const char *verb, const char *res, const char *sub,
				      const char *path)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(k[i].component, comp) && !strcmp(k[i].verb, verb) &&
		    !strcmp(k[i].resource, res) && !strcmp(k[i].subresource, sub) &&
		    (!path || (k[i].path && !strcmp(k[i].path, path))))
			return &k[i];
	CHECK(0, "no group %s %s %s/%s", comp, verb, res, sub);
	return NULL;
}

static void test_calls(void)
{
	struct report_call *k = NULL;
	const struct report_call *g;
	size_t n = 0;

	CHECK_INT(report__calls(db, "real-1", &k, &n), 0);
	CHECK_INT(n, 13); /* 11 apiserver/etcd call kinds, etcd watch and etcd GET /health */

	if ((g = find(k, n, "apiserver", "list", "pods", "", NULL))) {
		CHECK_INT(g->count, 1000);
		CHECK_INT(g->p50_ns, 500 * MS);
		CHECK_INT(g->p90_ns, 900 * MS);
		CHECK_INT(g->p99_ns, 990 * MS);
		CHECK_INT(g->max_ns, 1000 * MS);
		CHECK_INT(g->errors, 0);
		CHECK_INT(g->slo_threshold_ns, 5 * S);
		CHECK_INT(g->slo_ok, 1);
	}
	if ((g = find(k, n, "apiserver", "get", "pods", "", NULL))) {
		CHECK_INT(g->p50_ns, 10 * MS);
		CHECK_INT(g->p99_ns, 1500 * MS);
		CHECK_INT(g->slo_threshold_ns, 1 * S);
		CHECK_INT(g->slo_ok, 0);
	}
	if ((g = find(k, n, "apiserver", "list", "nodes", "", NULL))) {
		CHECK_INT(g->slo_threshold_ns, 30 * S);
		CHECK_INT(g->slo_ok, 1);
	}
	if ((g = find(k, n, "apiserver", "list", "events", "", NULL)))
		CHECK_INT(g->slo_ok, 0);
	if ((g = find(k, n, "apiserver", "create", "pods", "", NULL))) {
		CHECK_INT(g->errors, 3);
		CHECK_INT(g->slo_threshold_ns, 1 * S);
		CHECK_INT(g->slo_ok, 1);
	}
	if ((g = find(k, n, "apiserver", "patch", "nodes", "status", NULL))) {
		CHECK_INT(g->count, 1);
		CHECK_INT(g->p50_ns, 2 * S);
		CHECK_INT(g->slo_ok, 0);
	}
	if ((g = find(k, n, "apiserver", "watch", "pods", "", NULL)))
		CHECK_INT(g->slo_ok, -1);
	if ((g = find(k, n, "apiserver", "create", "pods", "exec", NULL)))
		CHECK_INT(g->slo_ok, -1);
	if ((g = find(k, n, "apiserver", "get", "", "", "/healthz"))) {
		CHECK_INT(g->count, 2);
		CHECK_INT(g->p50_ns, 150000);
		CHECK_INT(g->max_ns, 250000);
		CHECK_INT(g->slo_ok, -1);
	}
	if ((g = find(k, n, "etcd", "range", "pods", "", NULL))) {
		CHECK_INT(g->errors, 1);
		CHECK_INT(g->slo_ok, -1);
	}
	g = find(k, n, "etcd", "watch", "", "", NULL);
	CHECK(g && g->count == 2 && g->errors == 1, "etcd watch: a Canceled end is no error, Unavailable is");
	g = find(k, n, "etcd", "get", "", "", "/health");
	CHECK(g && g->errors == 0, "etcd's HTTP 200 is no error");
	report__calls_free(k, n);

	CHECK_INT(report__calls(db, NULL, &k, &n), -EINVAL);
	CHECK(strstr(cp_lasterr(), "holds 2 runs (real-1, km-1); name one as "), "%s",
	      cp_lasterr());
	CHECK(k == NULL && n == 0, "calls left on error");
}

static void test_slo_and_units(void)
{
	char b[32];

	CHECK_INT(report__slo_threshold_ns("create", "namespace", "pods", ""), 1 * S);
	CHECK_INT(report__slo_threshold_ns("deletecollection", "namespace", "pods", ""), 1 * S);
	CHECK_INT(report__slo_threshold_ns("update", "resource", "nodes", "status"), 1 * S);
	CHECK_INT(report__slo_threshold_ns("get", "resource", "pods", ""), 1 * S);
	CHECK_INT(report__slo_threshold_ns("list", "resource", "pods", ""), 1 * S);
	CHECK_INT(report__slo_threshold_ns("list", "namespace", "pods", ""), 5 * S);
	CHECK_INT(report__slo_threshold_ns("list", "cluster", "pods", ""), 30 * S);
	CHECK_INT(report__slo_threshold_ns("watch", "namespace", "pods", ""), 0);
	CHECK_INT(report__slo_threshold_ns("get", "resource", "pods", "log"), 0);
	CHECK_INT(report__slo_threshold_ns("create", "resource", "pods", "attach"), 0);
	CHECK_INT(report__slo_threshold_ns("get", "resource", "services", "proxy"), 0);
	CHECK_INT(report__slo_threshold_ns("create", "resource", "pods", "portforward"), 0);
	CHECK_INT(report__slo_threshold_ns("get", "", "", ""), 0);
	CHECK_INT(report__slo_threshold_ns("range", "", "pods", ""), 0);
	CHECK_INT(report__slo_threshold_ns(NULL, NULL, NULL, NULL), 0);

	report__fmt_ns(0, b, sizeof(b));
	CHECK_STR(b, "0ns");
	report__fmt_ns(999, b, sizeof(b));
	CHECK_STR(b, "999ns");
	report__fmt_ns(1000, b, sizeof(b));
	CHECK_STR(b, "1.00µs");
	report__fmt_ns(999999, b, sizeof(b));
	CHECK_STR(b, "1.00ms");
	report__fmt_ns(12345678, b, sizeof(b));
	CHECK_STR(b, "12.3ms");
	report__fmt_ns(990 * MS, b, sizeof(b));
	CHECK_STR(b, "990ms");
	report__fmt_ns(1200 * MS, b, sizeof(b));
	CHECK_STR(b, "1.20s");
	report__fmt_ns(3600 * S, b, sizeof(b));
	CHECK_STR(b, "3600s");
}

/* Run the report into a string. */
static int render(const char *label, enum report_format f, char **text)
{
	struct report_opts o = { .label = label, .format = f };
	size_t len = 0;
	FILE *out;
	int err;

	*text = NULL;
	out = open_memstream(text, &len);
	if (!out)
		return -errno;
	err = report__write(db, &o, out);
	fclose(out);
	return err;
}

static int dwidth(const char *s, size_t n)
{
	int w = 0;

	for (size_t i = 0; i < n; i++)
		w += ((unsigned char)s[i] & 0xc0) != 0x80;
	return w;
}

static void test_text(void)
{
	char *t = NULL, *p, *nl;
	int lines = 0, wide = 0;

	CHECK_INT(render(NULL, REPORT_TEXT, &t), 0);
	if (!t)
		return;
	for (p = t; *p; p = nl + 1) {
		nl = strchr(p, '\n');
		if (!nl)
			break;
		lines++;
		if (dwidth(p, nl - p) > 100) {
			wide++;
			fprintf(stderr, "wide line: %.*s\n", (int)(nl - p), p);
		}
	}
	CHECK_INT(wide, 0);
	CHECK(lines > 20, "only %d lines", lines);
	CHECK(strstr(t, "run 'real-1' (real)"), "no run header");
	CHECK(strstr(t, "started   2023-11-14 22:13:20 UTC"), "start time");
	CHECK(strstr(t, "after 1h 02m 05s"), "duration");
	CHECK(strstr(t, "requests  2000, lost events 4, unmatched 5"), "counters");
	CHECK(strstr(t, "pid 812") && strstr(t, "go1.22.1"), "targets");
	CHECK(strstr(t, "FAIL (p99 1.50s > 1s)"), "get verdict");
	CHECK(strstr(t, "FAIL (p99 6.00s > 5s)"), "list verdict");
	CHECK(strstr(t, "pods/exec"), "subresource");
	CHECK(strstr(t, "/healthz"), "non-resource path");
	CHECK(strstr(t, "500ms  900ms  990ms  1.00s"), "percentile cells");
	CHECK(strstr(t, "…"), "long resource not cut");
	CHECK(strstr(t, "ended     - (still recording"), "unended run");
	CHECK(!strchr(t, '\xff'), "control/invalid bytes reached the terminal");
	if (check_failed)
		fputs(t, stderr);
	free(t);
}

static void test_md(void)
{
	char *t = NULL;

	CHECK_INT(render("real-1", REPORT_MD, &t), 0);
	if (!t)
		return;
	CHECK(strstr(t, "## Run real-1 (real)"), "heading");
	CHECK(strstr(t, "| component | verb | resource | scope | count |"), "table head");
	CHECK(strstr(t, "| apiserver | list | pods | namespace | 1000 | 500ms | 900ms | 990ms | 1.00s | 0 | ok |"),
	      "row");
	CHECK(!strstr(t, "km-1"), "other run in a labelled report");
	free(t);
}

/* ---- a small JSON parser, enough to say the output is JSON ---- */

static const char *jv(const char *p);

static const char *jws(const char *p)
{
	while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
		p++;
	return p;
}

static const char *jstr(const char *p)
{
	if (*p++ != '"')
		return NULL;
	while (*p && *p != '"') {
		if ((unsigned char)*p < 0x20)
			return NULL;
		if (*p == '\\') {
			p++;
			if (*p == 'u') {
				for (int i = 1; i <= 4; i++)
					if (!strchr("0123456789abcdefABCDEF", p[i]) || !p[i])
						return NULL;
				p += 4;
			} else if (!*p || !strchr("\"\\/bfnrt", *p)) {
				return NULL;
			}
		}
		p++;
	}
	return *p == '"' ? p + 1 : NULL;
}

static const char *jv(const char *p)
{
	p = jws(p);
	if (*p == '{' || *p == '[') {
		char close = *p == '{' ? '}' : ']';
		bool obj = *p == '{';

		p = jws(p + 1);
		if (*p == close)
			return p + 1;
		for (;;) {
			if (obj) {
				p = jstr(jws(p));
				if (!p || *(p = jws(p)) != ':')
					return NULL;
				p++;
			}
			if (!(p = jv(p)))
				return NULL;
			p = jws(p);
			if (*p == close)
				return p + 1;
			if (*p++ != ',')
				return NULL;
		}
	}
	if (*p == '"')
		return jstr(p);
	if (!strncmp(p, "true", 4) || !strncmp(p, "null", 4))
		return p + 4;
	if (!strncmp(p, "false", 5))
		return p + 5;
	if (*p == '-' || (*p >= '0' && *p <= '9')) {
		char *end;

		strtod(p, &end);
		return end;
	}
	return NULL;
}

static void test_json(void)
{
	char *t = NULL;
	const char *end;

	CHECK_INT(render(NULL, REPORT_JSON, &t), 0);
	if (!t)
		return;
	end = jv(t);
	CHECK(end && *jws(end) == '\0', "json does not parse at offset %ld",
	      end ? (long)(end - t) : -1L);
	CHECK(!strncmp(t, "{\"format_version\":1,\"runs\":[", 26), "top level");
	CHECK(strstr(t, "\"label\":\"real-1\",\"kind\":\"real\",\"started_ns\":1700000000000000000,"
		     "\"ended_ns\":1700003725000000000"), "run keys");
	CHECK(strstr(t, "\"label\":\"km-1\",\"kind\":\"kubemark\""), "second run");
	CHECK(strstr(t, "\"ended_ns\":null"), "unended run");
	CHECK(strstr(t, "\"exe\":\"/usr/local/bin/kube-\\\"api\\\\server\\\"\\n\\ufffd\""),
	      "escaping");
	CHECK(strstr(t, "\"component\":\"apiserver\",\"verb\":\"list\",\"resource\":\"pods\","
		     "\"subresource\":\"\",\"path\":null,\"scope\":\"namespace\",\"count\":1000,"
		     "\"p50_ns\":500000000,\"p90_ns\":900000000,\"p99_ns\":990000000,"
		     "\"max_ns\":1000000000,\"errors\":0,\"slo_threshold_ns\":5000000000,"
		     "\"slo_ok\":true,"), "call object");
	CHECK(strstr(t, "\"p99_ns\":1500000000,\"max_ns\":1500000000,\"errors\":0,"
		     "\"slo_threshold_ns\":1000000000,\"slo_ok\":false,"), "failing call");
	CHECK(strstr(t, "\"path\":\"/healthz\""), "path");
	CHECK(strstr(t, "\"slo_threshold_ns\":0,\"slo_ok\":null,"), "excluded call");
	CHECK(strstr(t, long_res), "long names whole in json");
	free(t);
}

static void test_errors(void)
{
	char want[512], *t = NULL, path[300];
	FILE *f;

	CHECK_INT(render("nope", REPORT_TEXT, &t), -ENOENT);
	snprintf(want, sizeof(want), "no run labelled 'nope' in '%s' (runs: real-1, km-1)", db);
	CHECK_STR(cp_lasterr(), want);
	free(t);

	snprintf(path, sizeof(path), "%s/missing.db", dir);
	{
		struct report_opts o = { .format = REPORT_TEXT };

		CHECK_INT(report__write(path, &o, stdout), -ENOENT);
		snprintf(want, sizeof(want), "'%s': No such file or directory", path);
		CHECK_STR(cp_lasterr(), want);
		CHECK(access(path, F_OK) != 0, "the report created '%s'", path);

		snprintf(path, sizeof(path), "%s/notes.db", dir);
		f = fopen(path, "w");
		if (f) {
			for (int i = 0; i < 20; i++)
				fputs("not a database at all, just some notes\n", f);
			fclose(f);
		}
		CHECK_INT(report__write(path, &o, stdout), -EINVAL);
		snprintf(want, sizeof(want), "'%s' is not a cpprof database (not an SQLite file)",
			 path);
		CHECK_STR(cp_lasterr(), want);
	}
}

/*
 * The model itself, as the renderers see it: what each REPORT_LOAD_* bit
 * reads (the listing does no requests scan), the stored NULLs, and
 * which run a one-run load takes or how it refuses.
 */
static void test_model(void)
{
	struct report_model_opts o = { .what = REPORT_LOAD_RUNS };
	struct report_model *m;
	char want[512];
	int err = 0;

	m = report_model__load(db, NULL, &o, &err);
	CHECK(m != NULL, "listing: %s", cp_lasterr());
	if (m) {
		CHECK_INT(m->nruns, 2);
		CHECK_STR(m->runs[0].label, "real-1");
		CHECK_INT(m->runs[0].ntargets, 2);
		CHECK_INT(m->runs[0].targets[1].pid, 900);
		CHECK_INT(m->runs[0].ncalls, 0);           /* no scan without REPORT_LOAD_CALLS */
		CHECK_INT(m->runs[0].duration_ns, -1);
		CHECK_INT(m->runs[0].stored.requests, 2000);
		CHECK_INT(m->runs[0].stored.lost_events, 4);
		CHECK(m->runs[1].stored.ended_ns == REPORT_NULL, "km-1 has no end");
		CHECK(m->runs[1].stored.requests == REPORT_NULL, "km-1 stored no request count");
		CHECK(m->runs[1].cpu == NULL && m->runs[1].nsyscalls == 0, "nothing past the bits");
	}
	report_model__free(m);

	o.what = REPORT_LOAD_ALL;
	m = report_model__load(db, "real-1", &o, &err);
	CHECK(m != NULL, "real-1: %s", cp_lasterr());
	if (m) {
		long long sum = 0;

		CHECK_INT(m->nruns, 1);
		for (size_t i = 0; i < m->runs[0].ncalls; i++)
			sum += m->runs[0].calls[i].count;
		CHECK_INT(m->runs[0].requests, sum);
		CHECK_INT(sum, 1231);           /* every add() of real-1 in build_db */
		CHECK_INT(m->runs[0].duration_ns, 3725 * S);
		CHECK_INT(m->runs[0].slo_window_ns, 300 * S);
	}
	report_model__free(m);

	o.one_run = true;
	o.how = "choose one with --label";
	CHECK(report_model__load(db, NULL, &o, &err) == NULL, "one run of a file with two");
	CHECK_INT(err, -EINVAL);
	snprintf(want, sizeof(want), "'%s' holds 2 runs (real-1, km-1); choose one with --label", db);
	CHECK_STR(cp_lasterr(), want);
	CHECK(report_model__load(db, "nope", &o, &err) == NULL, "no such label");
	CHECK_INT(err, -ENOENT);
	m = report_model__load(db, "km-1", &o, &err);
	CHECK(m != NULL && m->nruns == 1 && m->runs[0].ncalls == 1, "km-1: one run, one kind");
	report_model__free(m);
	report_model__free(NULL);
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(db, sizeof(db), "%s/r.db", dir);
	if (build_db() == 0) {
		test_calls();
		test_slo_and_units();
		test_text();
		test_md();
		test_json();
		test_errors();
		test_model();
	}
	if (!check_failed) {
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", dir);
	}
	return check_summary("test_report");
}
