// SPDX-License-Identifier: MIT
/*
 * report_sli: the SLO both ways. Per apiserver call kind in the SLO and per
 * 5-minute window from the run's start (the windows of report_model.c),
 * cpprof's exact p99 (nearest rank over every latency that started in
 * the window) beside what clusterloader2 computes from the apiserver's
 * apiserver_request_sli_duration_seconds (apiserver_request_slo_... before
 * 1.27): histogram_quantile(0.99, ...) over the histogram's increase in
 * the window, which interpolates linearly inside the bucket holding the
 * 99th percentile (Prometheus promql/quantile.go bucketQuantile). The two
 * differ by design: the SLI excludes webhook and priority-and-fairness
 * queueing time and long-running requests, and its answer is only as
 * fine as its buckets. The window's increase is taken between the good
 * scrapes nearest its ends (the last at or before its start, the first at
 * or after its end), so with scrapes every 15 s the windows line up within
 * a scrape interval.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "cpprof/loghist.h"
#include "log.h"
#include "metrics_check.h"
#include "report_model.h"

struct sli_series {
	int group;                   /* -1: not a call kind cpprof has in the SLO */
	double le;
};

struct scrape_pt {
	long long id, t_ns;
};

/* histogram_quantile as Prometheus computes it over cumulative buckets. */
static long long hist_quantile(const struct mc_hist *h, double q, long long *lo, long long *hi)
{
	double total, rank, start, end, prev = 0;
	int b;

	if (h->n < 1 || !isinf(h->le[h->n - 1]))
		return -1;
	total = h->count[h->n - 1];
	if (total <= 0)
		return -1;
	rank = q * total;
	for (b = 0; b < h->n - 1 && h->count[b] < rank; b++)
		;
	if (b == h->n - 1) {     /* in +Inf: the highest finite bound, as Prometheus says */
		*lo = *hi = b ? llround(h->le[b - 1] * 1e9) : 0;
		return *lo;
	}
	start = b ? h->le[b - 1] : 0;
	end = h->le[b];
	if (b)
		prev = h->count[b - 1];
	*lo = llround(start * 1e9);
	*hi = llround(end * 1e9);
	if (h->count[b] - prev <= 0)
		return *hi;
	return llround((start + (end - start) * (rank - prev) / (h->count[b] - prev)) * 1e9);
}

static long long nearest_rank(long long n)
{
	long long r = (n * 99 + 99) / 100;      /* ceil(0.99 n) */

	return r < 1 ? 1 : r;
}

static int ll_cmp(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

/* cpprof's count and exact p99 of call K per window, in two passes over its rows. */
static int cpprof_windows(sqlite3 *db, const struct report_run *r, const struct report_call *k,
			  long long nwin, long long *count, long long *p99)
{
	static const char sql[] =
		"SELECT start_ns, latency_ns FROM requests WHERE run_id = ?1 AND component = 'apiserver' "
		"AND verb = ?2 AND resource = ?3 AND IFNULL(subresource, '') = ?4 AND scope = ?5 "
		"AND path IS NULL AND latency_ns IS NOT NULL ORDER BY latency_ns";
	long long *seen = calloc(nwin, sizeof(*seen));
	sqlite3_stmt *st = NULL;
	int pass, rc;

	if (!seen)
		return -ENOMEM;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		free(seen);
		cp_seterr("cannot read requests: %s", sqlite3_errmsg(db));
		return -EIO;
	}
	for (pass = 0; pass < 2; pass++) {
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, r->id);
		sqlite3_bind_text(st, 2, k->verb, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, k->resource, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, k->subresource ? k->subresource : "", -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, k->scope ? k->scope : "", -1, SQLITE_STATIC);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			long long w = (sqlite3_column_int64(st, 0) - r->started_ns) / REPORT_SLO_WINDOW_NS;

			if (w < 0 || w >= nwin)
				continue;
			if (!pass) {
				count[w]++;
			} else if (++seen[w] == nearest_rank(count[w])) {
				p99[w] = sqlite3_column_int64(st, 1);
			}
		}
		if (rc != SQLITE_DONE) {
			cp_seterr("cannot read requests: %s", sqlite3_errmsg(db));
			break;
		}
	}
	sqlite3_finalize(st);
	free(seen);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

/* Schema version 2 (store.c): requests are request_rows of call kinds. */
static int has_request_rows(sqlite3 *db)
{
	sqlite3_stmt *st = NULL;
	int yes = 0;

	if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND "
			       "name = 'request_rows'", -1, &st, NULL) == SQLITE_OK)
		yes = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return yes;
}

/* A (call, window) of cpprof_windows_v2: its histogram, then the latencies of its p99's bucket. */
struct win_rank {
	uint32_t *hist;          /* LOGHIST_NBUCKETS counts, allocated at its first row */
	uint32_t b;              /* the bucket holding the p99 */
	long long within;        /* its rank inside that bucket, from 1 */
	long long *v;
	size_t n, cap;
};

struct v2_kind {
	int row;                 /* row in cnt/p99, or -1 */
	long long base_ns;
};

/*
 * Schema version 2 has no index on the requests, so asking the view once
 * per call kind and window pass would scan the run twice per kind: here
 * every kind's windows come out of two scans of request_rows, the first
 * counting each (call, window) with a log-linear histogram, the second
 * keeping only the latencies of the bucket that holds its nearest-rank
 * p99 (exact, as cpprof_windows). ROW_OF_CALL[i] is the row of call i
 * in CNT and P99 plus one, or 0.
 */
static int cpprof_windows_v2(sqlite3 *db, const struct report_run *r, const int *row_of_call,
			     long long ncw, long long nwin, long long *cnt, long long *p99)
{
	struct v2_kind *km = NULL;
	struct win_rank *wr = NULL;
	sqlite3_stmt *st = NULL;
	long long kmin = 0, kmax = -1, lo = 0, hi = -1;
	int rc, err = -EIO;

	if (sqlite3_prepare_v2(db, "SELECT min(id), max(id) FROM call_kinds WHERE run_id = ?1",
			       -1, &st, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_int64(st, 1, r->id);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
		kmin = sqlite3_column_int64(st, 0);
		kmax = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	st = NULL;
	if (kmax < kmin)
		return 0;
	if (!(km = malloc((size_t)(kmax - kmin + 1) * sizeof(*km))) ||
	    !(wr = calloc((size_t)(ncw * nwin), sizeof(*wr))))
		goto oom;
	for (long long i = 0; i <= kmax - kmin; i++)
		km[i].row = -1;
	if (sqlite3_prepare_v2(db, "SELECT id, verb, resource, ifnull(subresource, ''), scope, base_ns "
			       "FROM call_kinds WHERE run_id = ?1 AND component = 'apiserver' "
			       "AND path IS NULL", -1, &st, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_int64(st, 1, r->id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		long long id = sqlite3_column_int64(st, 0);
		const char *v[4];

		for (int j = 0; j < 4; j++)
			v[j] = (const char *)sqlite3_column_text(st, 1 + j);
		for (size_t i = 0; i < r->ncalls && v[0] && v[1] && v[2] && v[3]; i++) {
			const struct report_call *k = &r->calls[i];

			if (row_of_call[i] && !strcmp(k->verb ? k->verb : "", v[0]) &&
			    !strcmp(k->resource ? k->resource : "", v[1]) &&
			    !strcmp(k->subresource ? k->subresource : "", v[2]) &&
			    !strcmp(k->scope ? k->scope : "", v[3])) {
				km[id - kmin].row = row_of_call[i] - 1;
				km[id - kmin].base_ns = sqlite3_column_int64(st, 5);
				break;
			}
		}
	}
	sqlite3_finalize(st);
	st = NULL;
	if (rc != SQLITE_DONE)
		goto out;
	if (sqlite3_prepare_v2(db, "SELECT min(first_id), max(last_id) FROM request_spans "
			       "WHERE run_id = ?1", -1, &st, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_int64(st, 1, r->id);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
		lo = sqlite3_column_int64(st, 0);
		hi = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	st = NULL;
	if (sqlite3_prepare_v2(db, "SELECT kind, start_off, latency_ns FROM request_rows "
			       "WHERE id BETWEEN ?1 AND ?2 AND latency_ns IS NOT NULL",
			       -1, &st, NULL) != SQLITE_OK)
		goto out;
	for (int pass = 0; pass < 2; pass++) {
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, lo);
		sqlite3_bind_int64(st, 2, hi);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			long long kid = sqlite3_column_int64(st, 0), lat = sqlite3_column_int64(st, 2), w;
			const struct v2_kind *k;
			struct win_rank *x;
			uint32_t b;

			if (kid < kmin || kid > kmax || (k = &km[kid - kmin])->row < 0)
				continue;
			w = (k->base_ns + sqlite3_column_int64(st, 1) - r->started_ns) / REPORT_SLO_WINDOW_NS;
			if (w < 0 || w >= nwin)
				continue;
			x = &wr[k->row * nwin + w];
			b = loghist_bucket(lat < 0 ? 0 : (__u64)lat);
			if (!pass) {
				if (!x->hist && !(x->hist = calloc(LOGHIST_NBUCKETS, sizeof(*x->hist))))
					goto oom;
				x->hist[b]++;
				cnt[k->row * nwin + w]++;
				continue;
			}
			if (b != x->b)
				continue;
			if (x->n == x->cap) {
				size_t nc = x->cap ? 2 * x->cap : 16;
				long long *nv = realloc(x->v, nc * sizeof(*nv));

				if (!nv)
					goto oom;
				x->v = nv;
				x->cap = nc;
			}
			x->v[x->n++] = lat;
		}
		if (rc != SQLITE_DONE)
			goto out;
		for (long long j = 0; !pass && j < ncw * nwin; j++) {
			long long want = nearest_rank(cnt[j]), cum = 0;
			uint32_t b = 0;

			if (!cnt[j])
				continue;
			while (b < LOGHIST_NBUCKETS - 1 && cum + wr[j].hist[b] < want)
				cum += wr[j].hist[b++];
			wr[j].b = b;
			wr[j].within = want - cum;
		}
	}
	for (long long j = 0; j < ncw * nwin; j++) {
		if (!cnt[j])
			continue;
		qsort(wr[j].v, wr[j].n, sizeof(long long), ll_cmp);
		if ((size_t)wr[j].within > wr[j].n)
			goto out;   /* the file changed between the scans */
		p99[j] = wr[j].v[wr[j].within - 1];
	}
	err = 0;
out:
	if (err == -EIO)
		cp_seterr("cannot read requests: %s", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	for (long long j = 0; wr && j < ncw * nwin; j++) {
		free(wr[j].hist);
		free(wr[j].v);
	}
	free(wr);
	free(km);
	return err;
oom:
	err = -ENOMEM;
	goto out;
}

/* The increase of every SLI bucket series between scrapes B and E into VAL (by series index). */
static int scrape_values(sqlite3 *db, long long scrape, long long lo, long long hi, double *val)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, "SELECT series_id, value FROM metric_samples WHERE scrape_id = ?1",
			       -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_int64(st, 1, scrape);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		long long id = sqlite3_column_int64(st, 0);

		if (id >= lo && id <= hi && sqlite3_column_type(st, 1) != SQLITE_NULL)
			val[id - lo] = sqlite3_column_double(st, 1);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

static const char sli_names[] = "name IN ('apiserver_request_sli_duration_seconds_bucket', "
				"'apiserver_request_slo_duration_seconds_bucket')";

/* The SLI bucket series' ids, LO..HI; HI < LO when none was scraped. */
static int sli_series_range(sqlite3 *db, const struct report_run *r, long long *lo, long long *hi)
{
	sqlite3_stmt *st;
	char sql[512];

	snprintf(sql, sizeof(sql), "SELECT min(id), max(id) FROM metric_series WHERE run_id = ?1 AND %s",
		 sli_names);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_int64(st, 1, r->id);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
		*lo = sqlite3_column_int64(st, 0);
		*hi = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	return 0;
}

/*
 * The call kinds: cpprof's in the SLO; a series belongs to the one whose
 * metric key it has. Fills SER (by series index from LO) and marks in
 * GROUP_OF_CALL the calls that have a series.
 */
static int sli_series_match(sqlite3 *db, const struct report_run *r, long long lo,
			    struct sli_series *ser, int *group_of_call)
{
	sqlite3_stmt *st;
	char sql[512];

	snprintf(sql, sizeof(sql), "SELECT id, labels, le FROM metric_series WHERE run_id = ?1 AND %s",
		 sli_names);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_int64(st, 1, r->id);
	while (sqlite3_step(st) == SQLITE_ROW) {
		long long id = sqlite3_column_int64(st, 0);
		const char *labels = (const char *)sqlite3_column_text(st, 1);
		char verb[24], res[96], sub[48], scope[16];

		if (!labels || !mc_label(labels, "verb", verb, sizeof(verb)))
			continue;
		if (!mc_label(labels, "resource", res, sizeof(res)))
			res[0] = 0;
		if (!mc_label(labels, "subresource", sub, sizeof(sub)))
			sub[0] = 0;
		if (!mc_label(labels, "scope", scope, sizeof(scope)))
			scope[0] = 0;
		ser[id - lo].le = sqlite3_column_double(st, 2);
		for (size_t i = 0; i < r->ncalls; i++) {
			const struct report_call *k = &r->calls[i];
			char kv[24], ks[16];

			if (!k->metrics || !k->slo_threshold_ns)
				continue;
			mc_key(k->verb, k->subresource, k->scope, kv, ks);
			if (!strcmp(kv, mc_verb_scoped(verb, scope)) && !strcmp(ks, scope) &&
			    !strcmp(k->resource, res) && !strcmp(k->subresource ? k->subresource : "", sub)) {
				ser[id - lo].group = (int)i;
				group_of_call[i] = 1;
				break;
			}
		}
	}
	sqlite3_finalize(st);
	return 0;
}

/* The apiserver's good scrapes in time order (the first apiserver endpoint's). */
static int sli_scrapes(sqlite3 *db, const struct report_run *r, struct scrape_pt **pts,
		       long long *npts)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(db, "SELECT id, t_ns FROM metric_scrapes WHERE run_id = ?1 AND "
			       "component = 'apiserver' AND error IS NULL AND endpoint = (SELECT "
			       "endpoint FROM metric_scrapes WHERE run_id = ?1 AND component = "
			       "'apiserver' ORDER BY id LIMIT 1) ORDER BY t_ns", -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_int64(st, 1, r->id);
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct scrape_pt *n = realloc(*pts, (*npts + 1) * sizeof(**pts));

		if (!n) {
			sqlite3_finalize(st);
			return -ENOMEM;
		}
		*pts = n;
		(*pts)[*npts].id = sqlite3_column_int64(st, 0);
		(*pts)[(*npts)++].t_ns = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	return 0;
}

/*
 * Call I's SLI histogram over a window: the increase E - B of each of its
 * bucket series (NS of them), summed over the labels cpprof's key leaves
 * out (group, version, component).
 */
static void sli_window_hist(const struct sli_series *ser, long long ns, const double *b,
			    const double *e, int i, struct mc_hist *h)
{
	for (long long s = 0; s < ns; s++) {
		double d = e[s] - b[s];

		if (ser[s].group != i)
			continue;
		if (d < 0)      /* a reset: the counter restarted from 0 */
			d = e[s];
		for (int j = 0; j < h->n; j++)
			if (h->le[j] == ser[s].le) {
				h->count[j] += d;
				d = NAN;
				break;
			}
		if (!isnan(d) && mc_hist__add(h, ser[s].le, d))
			break;
	}
}

/* One row of the SLO both ways: call K in the window from WS, between scrapes B and E. */
static int sli_window_add(struct report_metrics *m, const struct report_call *k, long long ws,
			  const struct scrape_pt *b, const struct scrape_pt *e, long long n,
			  long long q, const struct mc_hist *h)
{
	struct report_sli_window *o, *nn;

	if (!(nn = realloc(m->sli, (m->nsli + 1) * sizeof(*m->sli))))
		return -ENOMEM;
	m->sli = nn;
	o = &m->sli[m->nsli++];
	memset(o, 0, sizeof(*o));
	snprintf(o->verb, sizeof(o->verb), "%s", k->verb);
	snprintf(o->resource, sizeof(o->resource), "%s", k->resource);
	snprintf(o->subresource, sizeof(o->subresource), "%s",
		 k->subresource ? k->subresource : "");
	snprintf(o->scope, sizeof(o->scope), "%s", k->scope ? k->scope : "");
	o->window_start_ns = ws;
	o->start_ns = b->t_ns;
	o->end_ns = e->t_ns;
	o->cpprof_count = n;
	o->cpprof_p99_ns = n ? q : -1;
	o->sli_count = h->n ? h->count[h->n - 1] : 0;
	o->sli_lo_ns = o->sli_hi_ns = -1;
	o->sli_p99_ns = hist_quantile(h, 0.99, &o->sli_lo_ns, &o->sli_hi_ns);
	return 0;
}

int report_sli__load(sqlite3 *db, struct report_run *r, struct report_metrics *m);

int report_sli__load(sqlite3 *db, struct report_run *r, struct report_metrics *m)
{
	struct scrape_pt *pts = NULL;
	struct sli_series *ser = NULL;
	double *b = NULL, *e = NULL;
	long long lo = 0, hi = -1, npts = 0, nwin, ncw, *cnt = NULL, *p99 = NULL;
	int *group_of_call = NULL, err = 0;

	if (!m->has_apiserver || r->ended_ns <= r->started_ns || !r->ncalls)
		return 0;
	nwin = (r->ended_ns - r->started_ns + REPORT_SLO_WINDOW_NS - 1) / REPORT_SLO_WINDOW_NS;
	if (nwin > 10000)       /* 35 days: a clock gone wrong, not a recording */
		return 0;
	if (sli_series_range(db, r, &lo, &hi))
		goto io;
	if (hi < lo)
		return 0;      /* no SLI histogram scraped */
	if (!(ser = calloc(hi - lo + 1, sizeof(*ser))) || !(b = calloc(hi - lo + 1, sizeof(*b))) ||
	    !(e = calloc(hi - lo + 1, sizeof(*e))) ||
	    !(group_of_call = calloc(r->ncalls, sizeof(*group_of_call))))
		goto oom;
	for (long long i = 0; i <= hi - lo; i++)
		ser[i].group = -1;
	if (sli_series_match(db, r, lo, ser, group_of_call))
		goto io;
	err = sli_scrapes(db, r, &pts, &npts);
	if (err == -EIO)
		goto io;
	if (err)
		goto oom;
	if (npts < 2)
		goto out;
	/* cpprof's side: each call kind's windows, one streaming pass each */
	ncw = 0;
	for (size_t i = 0; i < r->ncalls; i++)
		if (group_of_call[i])
			group_of_call[i] = (int)++ncw;    /* its row in cnt and p99, plus one */
	if (!(cnt = calloc(ncw * nwin, sizeof(*cnt))) || !(p99 = malloc(ncw * nwin * sizeof(*p99))))
		goto oom;
	for (long long j = 0; j < ncw * nwin; j++)
		p99[j] = -1;
	if (has_request_rows(db)) {
		if ((err = cpprof_windows_v2(db, r, group_of_call, ncw, nwin, cnt, p99)))
			goto out;
	} else {
		for (size_t i = 0; i < r->ncalls; i++) {
			long long row = group_of_call[i] - 1;

			if (row >= 0 && (err = cpprof_windows(db, r, &r->calls[i], nwin,
							      cnt + row * nwin, p99 + row * nwin)))
				goto out;
		}
	}
	/* the SLI's side: each window's two scrapes read once, for every call kind */
	for (long long w = 0; w < nwin; w++) {
		long long ws = r->started_ns + w * REPORT_SLO_WINDOW_NS, we = ws + REPORT_SLO_WINDOW_NS;
		long long bi = 0, ei = npts - 1;

		for (long long j = 0; j < npts; j++)
			if (pts[j].t_ns <= ws)
				bi = j;
		for (long long j = npts - 1; j >= 0; j--)
			if (pts[j].t_ns >= we)
				ei = j;
		if (ei <= bi)
			continue;
		memset(b, 0, (hi - lo + 1) * sizeof(*b));
		memset(e, 0, (hi - lo + 1) * sizeof(*e));
		if (scrape_values(db, pts[bi].id, lo, hi, b) || scrape_values(db, pts[ei].id, lo, hi, e))
			goto io;
		for (size_t i = 0; i < r->ncalls; i++) {
			long long row = group_of_call[i] - 1, n;
			struct mc_hist h = { 0 };

			if (row < 0)
				continue;
			n = cnt[row * nwin + w];
			sli_window_hist(ser, hi - lo + 1, b, e, (int)i, &h);
			if (!n && (!h.n || h.count[h.n - 1] <= 0))
				continue;
			if (sli_window_add(m, &r->calls[i], ws, &pts[bi], &pts[ei], n,
					   p99[row * nwin + w], &h))
				goto oom;
		}
	}
	goto out;
io:
	cp_seterr("cannot read the scraped SLI histogram: %s", sqlite3_errmsg(db));
	err = -EIO;
	goto out;
oom:
	cp_seterr("out of memory");
	err = -ENOMEM;
out:
	free(pts);
	free(ser);
	free(b);
	free(e);
	free(group_of_call);
	free(cnt);
	free(p99);
	return err;
}
