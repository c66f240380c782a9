// SPDX-License-Identifier: MIT
/*
 * report_breakdown: where the requests of each call kind spent their
 * time (table request_breakdown, written by `cpprof record` from the
 * apiserver's etcd client calls and its sampled CPU), for every format:
 * per call kind, the mean over all its requests, the median request, and
 * the slowest 1% of them (at least one), each as the average of its
 * requests' parts. The renderers only format what this reads.
 *
 * The median and the slowest 1% come from one ranked scan per run
 * (SQLite's window functions), so memory stays by call kind.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "log.h"
#include "report_model.h"

/*
 * Each request with its call kind and its rank by latency within it.
 * The "which" column: 0 every request (mean), 1 the median request
 * (rank (n + 1) / 2), 2 the slowest 1% (rank > n - max(1, n / 100)).
 * A row names its request by request_id (requests.id); rows written
 * before that column existed, by (run, target, start).
 */
#define BD_COLS \
	"r.component AS c, r.verb AS v, COALESCE(r.resource, '') AS res,\n" \
	"    COALESCE(r.subresource, '') AS sub, COALESCE(r.scope, '') AS sc, b.latency_ns AS lat,\n" \
	"    b.etcd_calls AS calls, b.etcd_ns AS etcd, b.cpu_ns AS cpu, b.serialization_ns AS ser,\n" \
	"    b.apf_wait_ns AS apf, b.other_ns AS other\n"
#define BD_BY_START \
	"  FROM request_breakdown b JOIN requests r ON r.run_id = b.run_id AND r.target_id = b.target_id\n" \
	"    AND r.start_ns = b.request_start_ns\n"
/*
 * The wait before the handler, averaged: a request that never reached
 * its handler (refused by a filter) has it NULL and its time in the rest,
 * so where its rest is known it counts 0 here, and the set's parts still
 * add up to its latency; NULL when no request of the set knows it.
 */
#define BD_AVG_APF \
	"CASE WHEN COUNT(apf) = 0 THEN NULL ELSE " \
	"AVG(CASE WHEN apf IS NULL AND other IS NOT NULL THEN 0 ELSE apf END) END"
#define BD_RANKED \
	"b AS (SELECT *,\n" \
	"    ROW_NUMBER() OVER (PARTITION BY c, v, res, sub, sc ORDER BY lat) AS rn,\n" \
	"    COUNT(*) OVER (PARTITION BY c, v, res, sub, sc) AS n FROM j),\n"
/* Every request, the median one and the slowest 1% of each kind, averaged. */
#define BD_SUMMARY \
	"w AS (SELECT 0 AS which, * FROM b UNION ALL\n" \
	"      SELECT 1, * FROM b WHERE rn = (n + 1) / 2 UNION ALL\n" \
	"      SELECT 2, * FROM b WHERE rn > n - MAX(1, n / 100))\n" \
	"SELECT c, v, res, sub, sc, which, MAX(n), COUNT(*), AVG(lat), AVG(calls), AVG(etcd), AVG(cpu),\n" \
	"  AVG(ser), " BD_AVG_APF ", AVG(other)\n" \
	"FROM w GROUP BY c, v, res, sub, sc, which ORDER BY c, v, res, sub, sc, which"

static const char bd_sql_by_id[] =
	"WITH j AS (SELECT " BD_COLS
	"  FROM request_breakdown b JOIN requests r ON r.id = b.request_id\n"
	"  WHERE b.run_id = ?1 AND b.request_id IS NOT NULL\n"
	"  UNION ALL SELECT " BD_COLS BD_BY_START
	"  WHERE b.run_id = ?1 AND b.request_id IS NULL),\n"
	BD_RANKED BD_SUMMARY;

/* Files whose request_breakdown has no request_id (before it was added). */
static const char bd_sql_by_start[] =
	"WITH j AS (SELECT " BD_COLS BD_BY_START
	"  WHERE b.run_id = ?1),\n"
	BD_RANKED BD_SUMMARY;

static long long avg_col(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? -1 : (long long)(sqlite3_column_double(st, i) + 0.5);
}

static char *dup_col(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return strdup(t ? (const char *)t : "");
}

static bool same_kind(const struct report_breakdown *b, sqlite3_stmt *st)
{
	const char *f[5] = { b->component, b->verb, b->resource, b->subresource, b->scope };

	for (int i = 0; i < 5; i++) {
		const unsigned char *t = sqlite3_column_text(st, i);

		if (strcmp(f[i], t ? (const char *)t : ""))
			return false;
	}
	return true;
}

int report_breakdown__load(const char *path, sqlite3 *db, struct report_run *r)
{
	struct report_breakdown *bd = NULL, *cur = NULL;
	size_t n = 0, cap = 0;
	sqlite3_stmt *st = NULL;
	int rc, err = 0;

	if (sqlite3_prepare_v2(db, bd_sql_by_id, -1, &st, NULL) != SQLITE_OK &&
	    sqlite3_prepare_v2(db, bd_sql_by_start, -1, &st, NULL) != SQLITE_OK) {
		cp_seterr("'%s': cannot read request_breakdown: %s", path, sqlite3_errmsg(db));
		return -EIO;
	}
	sqlite3_bind_int64(st, 1, r->id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct report_parts *p;
		int which = sqlite3_column_int(st, 5);

		if (!cur || !same_kind(cur, st)) {
			if (n == cap) {
				size_t nc = cap ? cap * 2 : 16;
				struct report_breakdown *nb = realloc(bd, nc * sizeof(*nb));

				if (!nb) {
					err = -ENOMEM;
					break;
				}
				bd = nb;
				cap = nc;
			}
			cur = &bd[n++];
			memset(cur, 0, sizeof(*cur));
			cur->component = dup_col(st, 0);
			cur->verb = dup_col(st, 1);
			cur->resource = dup_col(st, 2);
			cur->subresource = dup_col(st, 3);
			cur->scope = dup_col(st, 4);
			cur->count = sqlite3_column_int64(st, 6);
			cur->mean.latency_ns = cur->median.latency_ns = cur->p99.latency_ns = -1;
			if (!cur->component || !cur->verb || !cur->resource || !cur->subresource || !cur->scope) {
				err = -ENOMEM;
				break;
			}
		}
		p = which == 0 ? &cur->mean : which == 1 ? &cur->median : &cur->p99;
		p->requests = sqlite3_column_int64(st, 7);
		p->latency_ns = avg_col(st, 8);
		p->etcd_calls = sqlite3_column_type(st, 9) == SQLITE_NULL ? -1 : sqlite3_column_double(st, 9);
		p->etcd_ns = avg_col(st, 10);
		p->cpu_ns = avg_col(st, 11);
		p->ser_ns = avg_col(st, 12);
		p->apf_ns = avg_col(st, 13);
		p->other_ns = avg_col(st, 14);
	}
	if (!err && rc != SQLITE_DONE) {
		cp_seterr("'%s': cannot read request_breakdown: %s", path, sqlite3_errmsg(db));
		err = -EIO;
	}
	sqlite3_finalize(st);
	if (err == -ENOMEM)
		cp_seterr("out of memory");
	if (err) {
		report_breakdown__free(bd, n);
		return err;
	}
	r->bd = bd;
	r->nbd = n;
	return 0;
}

void report_breakdown__free(struct report_breakdown *bd, size_t n)
{
	for (size_t i = 0; bd && i < n; i++) {
		free(bd[i].component);
		free(bd[i].verb);
		free(bd[i].resource);
		free(bd[i].subresource);
		free(bd[i].scope);
	}
	free(bd);
}

const struct report_breakdown *report_breakdown__find(const struct report_run *r, const char *component,
						      const char *verb, const char *resource,
						      const char *subresource, const char *scope)
{
	for (size_t i = 0; i < r->nbd; i++) {
		const struct report_breakdown *b = &r->bd[i];

		if (!strcmp(b->component, component ?: "") && !strcmp(b->verb, verb ?: "") &&
		    !strcmp(b->resource, resource ?: "") && !strcmp(b->subresource, subresource ?: "") &&
		    !strcmp(b->scope, scope ?: ""))
			return b;
	}
	return NULL;
}
