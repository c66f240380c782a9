// SPDX-License-Identifier: MIT
/*
 * mcheck_driver: print, as one JSON object, what user/k8s/metrics_check.c
 * computes for run LABEL of DB, beside cpprof's own figures for the same
 * things (gRPC calls per method from requests, fdatasync from syscalls,
 * CPU from targets) and the verdicts. test_scrape.py reads it: the
 * report's rendering of the cross-check is not built yet.
 *
 * usage: mcheck_driver DB LABEL
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "log.h"
#include "metrics_check.h"

static void hist_json(const char *name, const struct mc_hist *h)
{
	int64_t lo, hi;

	printf("\"%s\":{\"total\":%.0f,\"sum\":%.9f,\"buckets\":[", name, h->total, h->sum);
	for (int i = 0; i < h->n; i++)
		printf("%s[%.6g,%.0f]", i ? "," : "", isinf(h->le[i]) ? -1 : h->le[i], h->count[i]);
	printf("]");
	if (mc_hist__bucket(h, 0.5, &lo, &hi) >= 0)
		printf(",\"p50_le_ns\":[%lld,%lld]", (long long)lo, (long long)hi);
	if (mc_hist__bucket(h, 0.99, &lo, &hi) >= 0)
		printf(",\"p99_le_ns\":[%lld,%lld]", (long long)lo, (long long)hi);
	printf("}");
}

static void verdict_json(const char *name, const struct mc_result *r)
{
	printf(",\"%s\":\"%s\",\"%s_reason\":\"%s\"", name, mc_verdict_name(r->verdict), name, r->reason);
}

/* cpprof's fdatasync histogram of the etcd targets: count and the upper bound holding quantile Q. */
static int64_t fdatasync_quantile(sqlite3 *db, int64_t run_id, double q, int64_t *total)
{
	sqlite3_stmt *st;
	int64_t les[256], counts[256], sum = 0, acc = 0;
	int n = 0;

	sqlite3_prepare_v2(db, "SELECT le_ns, sum(count) FROM syscalls WHERE run_id = ?1 AND "
			   "component = 'etcd' AND syscall = 'fdatasync' GROUP BY le_ns ORDER BY le_ns",
			   -1, &st, NULL);
	sqlite3_bind_int64(st, 1, run_id);
	while (sqlite3_step(st) == SQLITE_ROW && n < 256) {
		les[n] = sqlite3_column_int64(st, 0);
		counts[n] = sqlite3_column_int64(st, 1);
		sum += counts[n++];
	}
	sqlite3_finalize(st);
	*total = sum;
	for (int i = 0; i < n; i++) {
		acc += counts[i];
		if (acc >= (int64_t)ceil(q * sum))
			return les[i];
	}
	return -1;
}

int main(int argc, char **argv)
{
	struct metrics_check *mc = NULL;
	struct mc_result r;
	sqlite3 *db = NULL;
	sqlite3_stmt *st;
	int64_t run_id = -1, nfsync = 0, p50, p99;

	if (argc != 3) {
		fprintf(stderr, "usage: mcheck_driver DB LABEL\n");
		return 2;
	}
	if (sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		fprintf(stderr, "cannot open '%s'\n", argv[1]);
		return 1;
	}
	sqlite3_prepare_v2(db, "SELECT id FROM runs WHERE label = ?1", -1, &st, NULL);
	sqlite3_bind_text(st, 1, argv[2], -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		run_id = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (run_id < 0 || metrics_check__load(db, run_id, &mc)) {
		fprintf(stderr, "cannot check run '%s': %s\n", argv[2], cp_lasterr());
		return 1;
	}

	printf("{\"has_etcd\":%s,\"has_apiserver\":%s,\"endpoints\":[", mc->has_etcd ? "true" : "false",
	       mc->has_apiserver ? "true" : "false");
	for (int i = 0; i < mc->neps; i++) {
		const struct mc_endpoint *e = &mc->eps[i];
		int64_t cpu = -1;

		printf("%s{\"url\":\"%s\",\"component\":\"%s\",\"scrapes\":%d,\"ok\":%d,\"errors\":{",
		       i ? "," : "", e->url, e->component, e->scrapes, e->ok);
		for (int k = 1, first = 1; k < SCRAPE_ERR__MAX; k++)
			if (e->errors[k]) {
				printf("%s\"%s\":%d", first ? "" : ",", scrape_error_name(k), e->errors[k]);
				first = 0;
			}
		printf("},\"cpu_seconds\":%s", e->has_cpu ? "" : "null");
		if (e->has_cpu)
			printf("%.3f", e->cpu_seconds);
		/* cpprof's CPU of the target of the same component */
		sqlite3_prepare_v2(db, "SELECT sum(cpu_ns) FROM targets WHERE run_id = ?1 AND component = ?2 "
				   "AND cpu_ns IS NOT NULL", -1, &st, NULL);
		sqlite3_bind_int64(st, 1, run_id);
		sqlite3_bind_text(st, 2, e->component, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
			cpu = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
		printf(",\"cpprof_cpu_ns\":%lld", (long long)cpu);
		mc_check_cpu(cpu, e->has_cpu && e->ok >= 2 ? e->cpu_seconds : -1, &r);
		verdict_json("cpu", &r);
		printf("}");
	}
	printf("],\"calls\":[");
	/* cpprof's apiserver call kinds beside the metric's */
	sqlite3_prepare_v2(db, "SELECT verb, resource, subresource, scope, count(*) FROM requests "
			   "WHERE run_id = ?1 AND component = 'apiserver' AND resource != '' "
			   "GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4", -1, &st, NULL);
	sqlite3_bind_int64(st, 1, run_id);
	for (int i = 0; sqlite3_step(st) == SQLITE_ROW; i++) {
		const char *verb = (const char *)sqlite3_column_text(st, 0);
		const char *res = (const char *)sqlite3_column_text(st, 1);
		const char *sub = (const char *)sqlite3_column_text(st, 2);
		const char *scope = (const char *)sqlite3_column_text(st, 3);
		int64_t n = sqlite3_column_int64(st, 4);
		const struct mc_call *c = metrics_check__find(mc, verb, res, sub, scope);
		double any = metrics_check__count_any_scope(mc, verb, res, sub);

		printf("%s{\"verb\":\"%s\",\"resource\":\"%s\",\"subresource\":\"%s\",\"scope\":\"%s\","
		       "\"cpprof\":%lld,\"metrics_count\":%.0f,\"metrics_count_any_scope\":%.0f",
		       i ? "," : "", verb, res, sub, scope, (long long)n, c ? c->count : -1, any);
		mc_check_count(n, any, 0, &r);
		verdict_json("verdict", &r);
		printf("}");
	}
	sqlite3_finalize(st);
	printf("],\"grpc\":[");
	for (int i = 0; i < mc->ngrpc; i++) {
		const struct mc_grpc *g = &mc->grpc[i];
		char method[160];
		int64_t n = 0;

		snprintf(method, sizeof(method), "/%s/%s", g->service, g->method);
		sqlite3_prepare_v2(db, "SELECT count(*) FROM requests WHERE run_id = ?1 AND "
				   "protocol = 'gRPC' AND method = ?2", -1, &st, NULL);
		sqlite3_bind_int64(st, 1, run_id);
		sqlite3_bind_text(st, 2, method, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW)
			n = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
		printf("%s{\"method\":\"%s\",\"handled\":%.0f,\"not_ok\":%.0f,\"cpprof\":%lld",
		       i ? "," : "", method, g->handled, g->not_ok, (long long)n);
		mc_check_count(n, g->handled, 0, &r);
		verdict_json("verdict", &r);
		printf("}");
	}
	printf("],");
	hist_json("wal_fsync", &mc->wal_fsync);
	printf(",");
	hist_json("backend_commit", &mc->backend_commit);
	p50 = fdatasync_quantile(db, run_id, 0.5, &nfsync);
	p99 = fdatasync_quantile(db, run_id, 0.99, &nfsync);
	printf(",\"fdatasync\":{\"cpprof\":%lld,\"p50_le_ns\":%lld,\"p99_le_ns\":%lld", (long long)nfsync,
	       (long long)p50, (long long)p99);
	mc_check_fdatasync(nfsync, &mc->wal_fsync, &mc->backend_commit, 0, &r);
	verdict_json("count", &r);
	mc_check_quantile(p50, &mc->wal_fsync, 0.5, &r);
	verdict_json("p50", &r);
	mc_check_quantile(p99, &mc->wal_fsync, 0.99, &r);
	verdict_json("p99", &r);
	printf("}}\n");
	metrics_check__free(mc);
	sqlite3_close(db);
	return 0;
}
