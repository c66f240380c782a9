// SPDX-License-Identifier: MIT
/*
 * test_masters: report_model__load_many over three files written through
 * store.c, one per "master", each with its own host, start, load and
 * latencies (some kinds on one master only, one master with none at all):
 * the merged counts are the sums, p50/p90/p99 the nearest ranks over the
 * union (computed here by sorting every latency), max the largest, each
 * host's own figures its file's; and the refusals, each in one line: a
 * file twice, a copy, a label one file lacks, one run of two kinds.
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
#include "report_model.h"
#include "store.h"

#define MS 1000000LL
#define S  1000000000LL
#define T0 (1700000000LL * S)

static char dir[] = "/tmp/test_masters.XXXXXX";

#include "tmpdb.h"

/* Every latency written, per kind (0: list pods, 1: create pods, 2: get nodes) and file. */
#define NKINDS 3
static long long lat[NKINDS][4][2000];
static int nlat[NKINDS][4];

static const char *const kverb[NKINDS] = { "list", "create", "get" };
static const char *const kres[NKINDS] = { "pods", "pods", "nodes" };
static const char *const kscope[NKINDS] = { "namespace", "namespace", "resource" };

struct rec_run {
	const char *label, *kind;
	long long start;
	int n[NKINDS];          /* requests of each kind */
	unsigned seed;
};

/* FILE with RUNS (recorded on HOST); latencies remembered under file index FI when >= 0. */
static void build(const char *file, const char *host, const struct rec_run *runs, int nruns, int fi)
{
	struct store *st;
	int err;

	unlink(file);
	st = store__open(file, &err);
	CHECK(st != NULL, "store__open '%s': %s", file, cp_lasterr());
	if (!st)
		return;
	for (int r = 0; r < nruns; r++) {
		struct run_info ri = { .label = runs[r].label, .kind = runs[r].kind,
				       .started_ns = runs[r].start, .host = host, .kernel = "6.18.0" };
		struct target_info ti = { .pid = 800 + fi, .component = "apiserver",
					  .exe = "/usr/local/bin/kube-apiserver", .go_version = "go1.22.1" };
		struct run_stats rs = { .ended_ns = runs[r].start + 600 * S };
		unsigned x = runs[r].seed;
		int64_t run_id, tid;

		CHECK_INT(store__begin_run(st, &ri, &run_id), 0);
		CHECK_INT(store__add_target(st, run_id, &ti, &tid), 0);
		for (int k = 0; k < NKINDS; k++)
			for (int i = 0; i < runs[r].n[k]; i++) {
				struct request_rec q = {
					.run_id = run_id, .target_id = tid, .component = "apiserver",
					.protocol = "HTTP/2", .verb = kverb[k], .resource = kres[k],
					.subresource = "", .scope = kscope[k],
					.status = i % 50 == 0 ? 500 : 200,
					.start_ns = runs[r].start + (long long)i * 500 * MS,
				};

				x = x * 1103515245u + 12345u;
				/* 1 µs .. ~2 s, a different spread per master (seed) */
				q.latency_ns = 1000 + (long long)(x >> 8) % (2 * S / (2 + fi + k));
				if (store__add_request(st, &q))
					CHECK(0, "add_request: %s", cp_lasterr());
				if (fi >= 0 && r == 0)
					lat[k][fi][nlat[k][fi]++] = q.latency_ns;
			}
		rs.requests = runs[r].n[0] + runs[r].n[1] + runs[r].n[2];
		CHECK_INT(store__end_run(st, run_id, &rs), 0);
	}
	CHECK_INT(store__flush(st), 0);
	store__close(st);
}

static int ll_cmp(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

/* The nearest-rank percentile P of kind K over the files in MASK. */
static long long expect(int k, unsigned mask, int p, long long *count, long long *max)
{
	static long long all[8000];
	long long n = 0;

	for (int f = 0; f < 4; f++)
		if (mask & (1u << f))
			for (int i = 0; i < nlat[k][f]; i++)
				all[n++] = lat[k][f][i];
	*count = n;
	if (!n)
		return -1;
	qsort(all, n, sizeof(all[0]), ll_cmp);
	*max = all[n - 1];
	return all[((n * p + 99) / 100 < 1 ? 1 : (n * p + 99) / 100) - 1];
}

static const struct report_call *find(const struct report_call *c, size_t n, int k)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(c[i].verb, kverb[k]) && !strcmp(c[i].resource, kres[k]) &&
		    !strcmp(c[i].scope, kscope[k]))
			return &c[i];
	return NULL;
}

static void check_calls(const char *what, const struct report_call *calls, size_t n, unsigned mask)
{
	for (int k = 0; k < NKINDS; k++) {
		const struct report_call *c = find(calls, n, k);
		long long count, max = 0;
		long long p50 = expect(k, mask, 50, &count, &max);

		if (!count) {
			CHECK(c == NULL, "%s: %s %s: no requests, yet a call", what, kverb[k], kres[k]);
			continue;
		}
		CHECK(c != NULL, "%s: %s %s missing", what, kverb[k], kres[k]);
		if (!c)
			continue;
		CHECK_INT(c->count, count);
		CHECK_INT(c->p50_ns, p50);
		CHECK_INT(c->p90_ns, expect(k, mask, 90, &count, &max));
		CHECK_INT(c->p99_ns, expect(k, mask, 99, &count, &max));
		CHECK_INT(c->max_ns, max);
	}
}

static const struct rec_run run_a[3] = {
	{ "ha", "real", T0 + 0 * S,  { 1500, 40, 7 }, 1 },
	{ "ha", "real", T0 + 3 * S,  { 900, 0, 350 }, 2 },   /* no creates on master-2 */
	{ "ha", "real", T0 + 11 * S, { 0, 0, 0 }, 3 },       /* master-3 saw nothing */
};

static void test_merge(void)
{
	const struct report_model_opts o = { .what = REPORT_LOAD_ALL };
	struct report_src src[3];
	struct report_model *m;
	long long tl = 0;
	int err;

	for (int i = 0; i < 3; i++) {
		char host[32];

		snprintf(host, sizeof(host), "master-%d", i + 1);
		src[i] = (struct report_src){ strdup(tmp(i == 0 ? "m1.db" : i == 1 ? "m2.db" : "m3.db")),
					      NULL };
		build(src[i].path, host, &run_a[i], 1, i);
	}
	m = report_model__load_many(src, 3, &o, &err);
	CHECK(m != NULL, "load_many: %s", cp_lasterr());
	if (!m)
		goto out;
	CHECK_INT(m->nfiles, 3);
	CHECK_INT(m->nruns, 1);
	CHECK_STR(m->runs[0].label, "ha");
	CHECK_STR(m->runs[0].host, "master-1, master-2, master-3");
	CHECK_INT(m->runs[0].nhosts, 3);
	CHECK_INT(m->runs[0].started_ns, T0);
	CHECK_INT(m->runs[0].ended_ns, T0 + 11 * S + 600 * S);
	CHECK_INT(m->runs[0].requests, 1500 + 40 + 7 + 900 + 350);
	CHECK_INT(m->runs[0].stored.requests, 1500 + 40 + 7 + 900 + 350);
	CHECK_INT(m->runs[0].ntargets, 3);
	CHECK_STR(m->runs[0].targets[2].host, "master-3");
	check_calls("merged", m->runs[0].calls, m->runs[0].ncalls, 7);
	for (int i = 0; i < 3; i++) {
		const struct report_run *h = &m->runs[0].hosts[i];

		CHECK_STR(h->db, src[i].path);
		check_calls(h->host, h->calls, h->ncalls, 1u << i);
	}
	/* errors summed: every 50th request of each kind of each file */
	{
		const struct report_call *c = find(m->runs[0].calls, m->runs[0].ncalls, 0);

		CHECK_INT(c ? c->errors : -1, 1500 / 50 + 900 / 50);
		for (size_t i = 0; c && i < c->ntimeline; i++)
			tl += c->timeline[i].count;
		CHECK_INT(tl, 2400);
	}
	/* one file: report_model__load's model, no hosts */
	report_model__free(m);
	m = report_model__load_many(src, 1, &o, &err);
	CHECK(m && m->runs[0].nhosts == 0 && m->nfiles == 0, "one file: no hosts");
	if (m)
		check_calls("one file", m->runs[0].calls, m->runs[0].ncalls, 1);
	report_model__free(m);
out:
	for (int i = 0; i < 3; i++)
		free((char *)src[i].path);
}

/* load_many of the N FILES (label LABEL) fails with ERR and a message holding WANT. */
static void refused(const char *const *files, int n, const char *label, int want_err,
		    const char *want)
{
	const struct report_model_opts o = { .what = REPORT_LOAD_DIFF };
	struct report_src src[4];
	struct report_model *m;
	int err = 0;

	for (int i = 0; i < n; i++)
		src[i] = (struct report_src){ files[i], label };
	m = report_model__load_many(src, n, &o, &err);
	CHECK(m == NULL, "'%s': loaded, not refused", want);
	report_model__free(m);
	CHECK_INT(err, want_err);
	CHECK(strstr(cp_lasterr(), want) != NULL, "message '%s' lacks '%s'", cp_lasterr(), want);
	CHECK(strchr(cp_lasterr(), '\n') == NULL, "message '%s' is not one line", cp_lasterr());
}

static void test_refused(void)
{
	const struct rec_run two[2] = {
		{ "a", "real", T0, { 5, 0, 0 }, 4 }, { "b", "real", T0 + S, { 5, 0, 0 }, 5 },
	};
	const struct rec_run only_a[1] = { { "a", "real", T0 + 2 * S, { 5, 0, 0 }, 6 } };
	const struct rec_run km[1] = { { "a", "kubemark", T0 + 3 * S, { 5, 0, 0 }, 7 } };
	const struct rec_run copy[1] = { { "a", "real", T0, { 5, 0, 0 }, 8 } };
	char p2[256], p1[256], pk[256], pc[256], alias[300];

	snprintf(p2, sizeof(p2), "%s", tmp("two.db"));
	snprintf(p1, sizeof(p1), "%s", tmp("only-a.db"));
	snprintf(pk, sizeof(pk), "%s", tmp("km.db"));
	snprintf(pc, sizeof(pc), "%s", tmp("copy.db"));
	snprintf(alias, sizeof(alias), "%s/./two.db", dir);
	build(p2, "master-1", two, 2, -1);
	build(p1, "master-2", only_a, 1, -1);
	build(pk, "master-3", km, 1, -1);
	build(pc, "master-1", copy, 1, -1);   /* host and start of two.db's run 'a' */
	{
		const char *f[] = { p2, p1, p2 };

		refused(f, 3, NULL, -EINVAL, "is given twice");
	}
	{
		const char *f[] = { p2, alias };

		refused(f, 2, NULL, -EINVAL, "is given twice (also as");
	}
	{
		const char *f[] = { p2, p1 };

		refused(f, 2, NULL, -ENOENT, "run 'b' of");
		refused(f, 2, "b", -ENOENT, "no run labelled 'b'");
	}
	{
		const char *f[] = { p1, pk };

		refused(f, 2, NULL, -EINVAL, "is of kind 'real'");
	}
	{
		const char *f[] = { p2, pc };

		refused(f, 2, "a", -EINVAL, "hold the same recording");
	}
	{
		const struct report_model_opts o = { .what = REPORT_LOAD_CALLS };
		struct report_src src[2] = { { p2, "a" }, { p1, NULL } };
		struct report_model *m;
		int err;

		/* a label per file: two.db's 'a' with only-a.db's only run */
		m = report_model__load_many(src, 2, &o, &err);
		CHECK(m && m->nruns == 1 && m->runs[0].requests == 10, "FILE:LABEL with a one-run file: %s",
		      m ? "" : cp_lasterr());
		report_model__free(m);
	}
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_merge();
	test_refused();
	{
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", dir);
	}
	return check_summary("masters");
}
