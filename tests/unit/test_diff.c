// SPDX-License-Identifier: MIT
/*
 * test_diff: runs with known, different delays written through store.c;
 * the diff flags exactly the kind made 3x slower, lists one-sided kinds,
 * and the four-run trend check agrees when both sides move alike and
 * disagrees when one does not. Also: the SLO's worst 5-minute window,
 * serialization CPU per request, folded stacks, runs, and the JSON.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "diff.h"
#include "log.h"
#include "report.h"
#include "runs.h"
#include "store.h"

#define MS 1000000LL
#define S  1000000000LL
#define T0 (1700000000LL * S)

static char dir[] = "/tmp/test_diff.XXXXXX";

#include "tmpdb.h"

static struct store *st;
static int64_t run_id, tgt;

static void add(const char *verb, const char *res, const char *scope, long long start,
		long long lat)
{
	struct request_rec r = {
		.run_id = run_id, .target_id = tgt, .component = "apiserver", .protocol = "HTTP/2",
		.verb = verb, .resource = res, .subresource = "", .scope = scope, .status = 200,
		.start_ns = start, .latency_ns = lat,
	};

	if (store__add_request(st, &r))
		CHECK(0, "add_request: %s", cp_lasterr());
}

/*
 * One run: 40 each of get pods, list nodes, create configmaps, with
 * latencies scaled per kind; EXTRA adds a kind only this run has.
 */
static void make_run(const char *path, const char *label, double get_x, double list_x,
		     const char *extra)
{
	struct run_info ri = { .label = label, .kind = "real", .started_ns = T0, .host = "m" };
	struct target_info ti = { .pid = 1, .component = "apiserver", .exe = "/kube-apiserver",
				  .go_version = "go1.22.1", .k8s_version = "v1.30.0" };
	struct run_stats rs = { .ended_ns = T0 + 600 * S };
	int err;

	st = store__open(path, &err);
	CHECK(st != NULL, "store__open: %s", cp_lasterr());
	if (!st)
		return;
	CHECK_INT(store__begin_run(st, &ri, &run_id), 0);
	CHECK_INT(store__add_target(st, run_id, &ti, &tgt), 0);
	for (int i = 0; i < 40; i++) {
		long long t = T0 + i * 10 * S;

		add("get", "pods", "resource", t, (long long)((10 + i % 5) * MS * get_x));
		add("list", "nodes", "cluster", t, (long long)((50 + i % 7) * MS * list_x));
		add("create", "configmaps", "namespace", t, (20 + i % 3) * MS);
		if (extra)
			add("delete", extra, "namespace", t, 5 * MS);
	}
	CHECK_INT(store__end_run(st, run_id, &rs), 0);
	store__close(st);
}

static int render(const char *const *specs, int n, enum report_format f, char **text)
{
	struct diff_opts o = { .format = f, .min_delta_ns = DIFF_MIN_DELTA_NS };
	size_t len;
	FILE *out = open_memstream(text, &len);
	int err;

	if (!out)
		return -ENOMEM;
	err = diff__write(specs, n, &o, out);
	fclose(out);
	return err;
}

static int count(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

static bool lines_fit(const char *t)
{
	for (const char *p = t, *nl; *p; p = nl + 1) {
		int w = 0;

		if (!(nl = strchr(p, '\n')))
			break;
		for (const char *q = p; q < nl; q++)
			w += ((unsigned char)*q & 0xc0) != 0x80;
		if (w > 100) {
			fprintf(stderr, "wide: %.*s\n", (int)(nl - p), p);
			return false;
		}
	}
	return true;
}

static void test_pair(void)
{
	char *p[2] = { strdup(tmp("base.db")), strdup(tmp("cand.db")) };
	const char *specs[] = { p[0], p[1] };
	char *t = NULL;

	make_run(specs[0], "base", 1, 1, "secrets");
	make_run(specs[1], "cand", 3, 1, "leases");

	CHECK_INT(render(specs, 2, REPORT_JSON, &t), 0);
	if (t) {
		CHECK_INT(count(t, "\"flags\":[\"p99\"]"), 1);
		CHECK(strstr(t, "\"verb\":\"get\",\"resource\":\"pods\""), "get pods listed");
		CHECK_INT(count(t, "\"flags\":[\"base_only\"]"), 1);
		CHECK_INT(count(t, "\"flags\":[\"cand_only\"]"), 1);
		CHECK(strstr(t, "\"summary\":{\"both\":3,\"within\":2,\"outside\":1,\"low_confidence\":0,"
			     "\"base_only\":1,\"cand_only\":1,\"slo_differs\":0,"), "summary");
		CHECK(strstr(t, "\"mode\":\"pair\""), "mode");
		CHECK(strstr(t, "\"k8s_version\":\"v1.30.0\""), "versions in RUNSUM");
	}
	free(t);
	t = NULL;
	CHECK_INT(render(specs, 2, REPORT_TEXT, &t), 0);
	if (t) {
		CHECK(lines_fit(t), "text wider than 100 columns");
		CHECK_INT(count(t, " P99\n"), 1);
		CHECK(strstr(t, "3 call kinds on both sides: 2 within 2x (p99), 1 outside"), "summary");
		CHECK(strstr(t, "BASE-ONLY") && strstr(t, "CAND-ONLY"), "one-sided kinds");
	}
	free(t);
	t = NULL;
	CHECK_INT(render(specs, 2, REPORT_MD, &t), 0);
	if (t)
		CHECK(strstr(t, "| component | verb | resource | scope | count BASE |") &&
		      count(t, "| P99 |") == 1, "md table with one flagged row");
	free(t);
	free(p[0]);
	free(p[1]);
}

static void test_trend(void)
{
	/* tmp() has four buffers: keep copies. */
	char *p[5] = { strdup(tmp("rb.db")), strdup(tmp("ra.db")), strdup(tmp("kb.db")),
		       strdup(tmp("ka.db")), strdup(tmp("kflat.db")) };
	const char *agree[] = { p[0], p[1], p[2], p[3] };
	const char *dis[] = { p[0], p[1], p[2], p[4] };
	char *t = NULL;

	/* Real: get pods 3x slower after; Kubemark: 2.5x. list nodes: unchanged on both. */
	make_run(agree[0], "rb", 1, 1, NULL);
	make_run(agree[1], "ra", 3, 1, NULL);
	make_run(agree[2], "kb", 2, 1, NULL);
	make_run(agree[3], "ka", 5, 1, NULL);
	make_run(dis[3], "kflat", 2, 1, NULL);

	CHECK_INT(render(agree, 4, REPORT_JSON, &t), 0);
	if (t) {
		CHECK(strstr(t, "\"summary\":{\"compared\":3,\"agree\":3,\"disagree\":0,"), "all agree");
		CHECK(strstr(t, "\"real_direction\":\"up\",\"km_direction\":\"up\",\"verdict\":\"agree\""),
		      "get pods up on both");
	}
	free(t);
	t = NULL;
	CHECK_INT(render(dis, 4, REPORT_JSON, &t), 0);
	if (t) {
		CHECK(strstr(t, "\"summary\":{\"compared\":3,\"agree\":2,\"disagree\":1,"), "one disagrees");
		CHECK(strstr(t, "\"real_direction\":\"up\",\"km_direction\":\"none\","
			     "\"verdict\":\"disagree\""), "Kubemark did not move");
	}
	free(t);
	t = NULL;
	CHECK_INT(render(dis, 4, REPORT_TEXT, &t), 0);
	if (t)
		CHECK(lines_fit(t) && strstr(t, "disagree"), "trend text");
	free(t);
	for (int i = 0; i < 5; i++)
		free(p[i]);
}

/* The SLO's worst window: fine over the run, one bad 5-minute window. */
static void test_windows_and_cpu(void)
{
	const char *path = tmp("win.db");
	struct run_info ri = { .label = "w", .kind = "kubemark", .started_ns = T0 };
	struct target_info ti = { .pid = 2, .component = "apiserver", .exe = "/a" };
	struct run_stats rs = { .ended_ns = T0 + 900 * S };
	struct report_call *k = NULL;
	struct report_run *r = NULL;
	size_t n = 0;
	int err;

	st = store__open(path, &err);
	if (!st)
		return;
	CHECK_INT(store__begin_run(st, &ri, &run_id), 0);
	CHECK_INT(store__add_target(st, run_id, &ti, &tgt), 0);
	/* 300 gets in each of 3 windows; window 2 has 5 of 300 at 2 s (p99 2 s). */
	for (int w = 0; w < 3; w++)
		for (int i = 0; i < 300; i++)
			add("get", "pods", "resource", T0 + w * 300 * S + i * S,
			    w == 1 && i < 5 ? 2 * S : 10 * MS);
	for (int i = 0; i < 50; i++)
		add("list", "pods", "namespace", T0 + i * S, 100 * MS);
	{
		struct cpu_rec c = { .run_id = run_id, .target_id = tgt, .component = "apiserver",
				     .verb = "list", .resource = "pods", .subresource = "",
				     .scope = "namespace" };

		c.category = "json_encode"; c.samples = 10; c.cpu_ns = 100 * MS;
		CHECK_INT(store__add_cpu(st, &c), 0);
		c.category = "gzip"; c.samples = 5; c.cpu_ns = 50 * MS;
		CHECK_INT(store__add_cpu(st, &c), 0);
		c.category = "unknown"; c.verb = ""; c.resource = ""; c.scope = "";
		c.samples = 5; c.cpu_ns = 50 * MS;
		CHECK_INT(store__add_cpu(st, &c), 0);
	}
	{
		struct stack_rec s = { .run_id = run_id, .target_id = tgt, .component = "apiserver",
				       .category = "json_encode", .verb = "list", .resource = "pods",
				       .stack = "main;encode;json.Marshal", .samples = 3, .cpu_ns = 1 };

		CHECK_INT(store__add_stack(st, &s), 0);
		s.samples = 4;
		CHECK_INT(store__add_stack(st, &s), 0);
		s.stack = "main;gc";
		s.samples = 2;
		CHECK_INT(store__add_stack(st, &s), 0);
	}
	CHECK_INT(store__end_run(st, run_id, &rs), 0);
	store__close(st);

	CHECK_INT(report__calls(path, NULL, &k, &n), 0);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(k[i].verb, "get"))
			continue;
		CHECK_INT(k[i].count, 900);
		CHECK_INT(k[i].p99_ns, 10 * MS);       /* the whole run's p99 is fine */
		CHECK_INT(k[i].slo_windows, 3);
		CHECK_INT(k[i].slo_windows_failed, 1); /* but window 2's is 2 s */
		CHECK_INT(k[i].slo_ok, 0);
		CHECK_INT(k[i].slo_worst_start_ns, T0 + 300 * S);
		CHECK(k[i].slo_worst_p99_ns >= 2 * S && k[i].slo_worst_p99_ns <= 25 * S / 10,
		      "worst p99 %lld", k[i].slo_worst_p99_ns);
		CHECK(k[i].rate_per_s > 0.99 && k[i].rate_per_s < 1.01, "rate %f", k[i].rate_per_s);
		CHECK_INT(k[i].ntimeline, 60);  /* max(10 s, 900 s / 60) = 15 s windows */
	}
	report__calls_free(k, n);

	CHECK_INT(report__load(path, "w", &r), 0);
	if (r && r->cpu) {
		CHECK_INT(r->cpu->ncomps, 1);
		CHECK_INT(r->cpu->comps[0].cpu_ns, 200 * MS);
		CHECK_INT(r->cpu->comps[0].ser_ns, 100 * MS);     /* gzip is not serialization */
		CHECK_INT(r->cpu->comps[0].unknown_ns, 50 * MS);  /* counted, not dropped */
		CHECK_INT(r->cpu->nser, 1);
		CHECK_INT(r->cpu->ser[0].requests, 50);
		CHECK_INT(r->cpu->ser[0].ser_ns / r->cpu->ser[0].requests, 2 * MS);
	} else {
		CHECK(0, "no CPU section");
	}
	report__run_free(r);

	{
		char *t = NULL;
		size_t len;
		FILE *out = open_memstream(&t, &len);

		CHECK_INT(report__folded(path, NULL, "apiserver", out), 0);
		fclose(out);
		CHECK_STR(t ? t : "", "main;encode;json.Marshal 7\nmain;gc 2\n");
		free(t);
	}
	{
		char *t = NULL;
		size_t len;
		FILE *out = open_memstream(&t, &len);

		CHECK_INT(runs__write(path, REPORT_JSON, out), 0);
		fclose(out);
		CHECK(t && strstr(t, "\"label\":\"w\",\"kind\":\"kubemark\""), "runs json");
		free(t);
	}
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_pair();
	test_trend();
	test_windows_and_cpu();
	if (!check_failed) {
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", dir);
	}
	return check_summary("test_diff");
}
