// SPDX-License-Identifier: MIT
/*
 * report_model: read a cpprof database into the report model
 * (report_model.h). Every query of `cpprof report`, `diff` and `runs` is
 * here, the renderers hold none.
 *
 * The calls: for each run SQLite is asked twice, inside one read
 * transaction (so that a recorder writing meanwhile cannot shift the rows
 * between the two): first one streaming pass over the run's rows that
 * counts every group (component, verb, resource, subresource, scope,
 * path), its errors, max, histogram and windows, then every latency of
 * the run sorted by group and latency. Knowing each group's size from the
 * first pass, the nearest ranks of p50/p90/p99 are known before the
 * group's rows go by, so the exact percentiles come out of one streaming
 * pass, and memory holds only one entry per group, never the rows.
 * In a schema version 1 file, store.c's requests_report index makes the
 * second a scan of one index. A version 2 file has no such index: both
 * passes scan request_rows (kind id, start, latency), and the second keeps
 * only the latencies in the histogram buckets of the ranks (ranks_v2).
 */
#include <errno.h>
#include <stddef.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "budget.h"
#include "cl2.h"
#include "log.h"
#include "loghist.h"
#include "report.h"
#include "report_model.h"
#include "store.h"

#define NS_PER_S 1000000000LL

/* ---------- small helpers ---------- */

static int db_err(const char *path, sqlite3 *db, int rc)
{
	cp_seterr("'%s': %s", path, sqlite3_errmsg(db));
	switch (rc & 0xff) {
	case SQLITE_NOMEM:	return -ENOMEM;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:	return -EBUSY;
	case SQLITE_CANTOPEN:	return -ENOENT;
	case SQLITE_PERM:
	case SQLITE_AUTH:	return -EACCES;
	default:		return -EIO;
	}
}

static char *xstrdup(const unsigned char *s)
{
	return s ? strdup((const char *)s) : NULL;
}

static const char *str_or(const char *s, const char *dflt)
{
	return s && *s ? s : dflt;
}

/* ---------- SLO ---------- */

static bool is_one_of(const char *s, const char *const *set)
{
	for (; s && *set; set++)
		if (strcmp(s, *set) == 0)
			return true;
	return false;
}

/*
 * Thresholds of the Kubernetes API-call latency SLO,
 * github.com/kubernetes/community sig-scalability/slos/api_call_latency.md:
 * mutating calls for single objects 1 s; non-streaming read-only calls 1 s
 * for one object, 5 s in one namespace, 30 s cluster-wide. Streaming and
 * long-running calls and non-resource requests are outside the SLO.
 */
long long report__slo_threshold_ns(const char *verb, const char *scope, const char *resource,
				   const char *subresource)
{
	static const char *const mutating[] = {
		"create", "update", "patch", "delete", "deletecollection", NULL,
	};
	static const char *const read_only[] = { "get", "list", NULL };
	/* The connect-style subresources apiserver treats as long-running. */
	static const char *const long_running[] = {
		"exec", "attach", "portforward", "proxy", "log", NULL,
	};

	if (!resource || !*resource || !verb)
		return 0;
	if (subresource && is_one_of(subresource, long_running))
		return 0;
	if (is_one_of(verb, mutating))
		return NS_PER_S;
	if (!is_one_of(verb, read_only) || !scope)
		return 0;
	if (strcmp(scope, "resource") == 0)
		return NS_PER_S;
	if (strcmp(scope, "namespace") == 0)
		return 5 * NS_PER_S;
	if (strcmp(scope, "cluster") == 0)
		return 30 * NS_PER_S;
	return 0;
}

/* ---------- per-call statistics ---------- */

void report_model__calls_free(struct report_call *calls, size_t n)
{
	for (size_t i = 0; calls && i < n; i++) {
		free(calls[i].component);
		free(calls[i].verb);
		free(calls[i].resource);
		free(calls[i].subresource);
		free(calls[i].scope);
		free(calls[i].path);
		free(calls[i].statuses);
		free(calls[i].hist);
		free(calls[i].metrics);
		free(calls[i].timeline);
	}
	free(calls);
}

/* The 1-based nearest rank of percentile P among N sorted values: ceil(P/100 * N). */
static long long rank(long long n, int p)
{
	long long r = (n * p + 99) / 100;

	return r < 1 ? 1 : r;
}

/*
 * Errors: HTTP 5xx, and 429 (apiserver's max-in-flight limit turning
 * calls away is what a scale test looks for); for gRPC calls, whose status
 * is a gRPC code, anything but OK (0), except a watch stream ended by its
 * client (Canceled, 1), which is how every watch ends.
 */
static bool is_error(const char *protocol, const char *verb, int status)
{
	if (protocol && strcmp(protocol, "gRPC") == 0)
		return status != 0 && !(verb && strcmp(verb, "watch") == 0 && status == 1);
	return status >= 500 || status == 429;
}

/* Must match the walk below, which pairs groups with rows by position. */
#define GROUP_COLS "component, verb, resource, subresource, scope, path"

/* Pass 2's rows: every latency of run ?1 sorted by group and latency (requests_report). */
#define RANK_SQL "SELECT latency_ns FROM requests WHERE run_id = ?1 AND latency_ns IS NOT NULL" \
	" ORDER BY " GROUP_COLS ", latency_ns"

#define MAX_WINDOWS 100000      /* a start_ns far off the run is clamped, not allocated for */

/* One window of a group while the rows go by. */
struct win_acc {
	long long count, errors, over;  /* over: latencies above the SLO threshold */
	__u64 *hist;                    /* allocated when the window gets its first row */
};

struct win_list {
	struct win_acc *w;
	size_t n;
};

struct gacc {
	struct report_call k;
	uint64_t hash;
	struct win_list tl, slo;
	size_t nst, capst;
};

/* Group-key comparison in SQLite's BINARY order, a NULL path first, as ORDER BY sorts. */
static int key_cmp(const struct report_call *a, const struct report_call *b)
{
	const char *const av[] = { a->component, a->verb, a->resource, a->subresource, a->scope };
	const char *const bv[] = { b->component, b->verb, b->resource, b->subresource, b->scope };
	int r;

	for (int i = 0; i < 5; i++) {
		if (!av[i] || !bv[i]) {
			if (av[i] != bv[i])
				return av[i] ? 1 : -1;
			continue;
		}
		if ((r = strcmp(av[i], bv[i])))
			return r;
	}
	if (!a->path || !b->path)
		return a->path ? 1 : b->path ? -1 : 0;
	return strcmp(a->path, b->path);
}

static int call_cmp(const void *a, const void *b)
{
	return key_cmp(a, b);
}

static uint64_t fnv(uint64_t h, const unsigned char *s)
{
	if (!s)
		return (h ^ 0xff) * 1099511628211ULL;
	for (; *s; s++)
		h = (h ^ *s) * 1099511628211ULL;
	return (h ^ 0x1f) * 1099511628211ULL;
}

static bool key_eq(const struct report_call *k, const unsigned char *const *v)
{
	const char *const kv[] = { k->component, k->verb, k->resource, k->subresource, k->scope,
				   k->path };

	for (int i = 0; i < 6; i++) {
		if (!kv[i] || !v[i]) {
			if ((const void *)kv[i] != (const void *)v[i])
				return false;
			continue;
		}
		if (strcmp(kv[i], (const char *)v[i]))
			return false;
	}
	return true;
}

/* The window of IDX in L, growing L; NULL when out of memory. */
static struct win_acc *win_at(struct win_list *l, size_t idx)
{
	if (idx >= l->n) {
		size_t n = idx + 1 > 2 * l->n ? idx + 1 : 2 * l->n;
		struct win_acc *w = realloc(l->w, n * sizeof(*w));

		if (!w)
			return NULL;
		memset(w + l->n, 0, (n - l->n) * sizeof(*w));
		l->w = w;
		l->n = n;
	}
	if (!l->w[idx].hist && !(l->w[idx].hist = calloc(LOGHIST_NBUCKETS, sizeof(__u64))))
		return NULL;
	return &l->w[idx];
}

static void win_free(struct win_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->w[i].hist);
	free(l->w);
	l->w = NULL;
	l->n = 0;
}

static int add_status(struct gacc *g, int status, bool error, long long n)
{
	struct report_status *s = g->k.statuses;

	for (size_t i = 0; i < g->nst; i++)
		if (s[i].status == status && s[i].error == error) {
			s[i].count += n;
			return 0;
		}
	if (g->nst == g->capst) {
		size_t cap = g->capst ? 2 * g->capst : 4;

		if (!(s = realloc(s, cap * sizeof(*s))))
			return -ENOMEM;
		g->k.statuses = s;
		g->capst = cap;
	}
	s[g->nst++] = (struct report_status){ .status = status, .error = error, .count = n };
	return 0;
}

static int status_cmp(const void *a, const void *b)
{
	const struct report_status *x = a, *y = b;

	return x->status != y->status ? (x->status < y->status ? -1 : 1) : x->error - y->error;
}

/* Turn a group's window accumulators into its timeline and SLO verdict. */
static int finish_group(struct gacc *g, long long started_ns, long long tl_ns, long long dur_ns)
{
	struct report_call *k = &g->k;
	size_t nt = 0;

	k->nstatuses = g->nst;
	qsort(k->statuses, k->nstatuses, sizeof(*k->statuses), status_cmp);
	k->rate_per_s = dur_ns > 0 ? k->count / (dur_ns / 1e9) : -1;
	for (size_t i = 0; i < g->tl.n; i++)
		nt += g->tl.w[i].count > 0;
	if (nt && !(k->timeline = calloc(nt, sizeof(*k->timeline))))
		return -ENOMEM;
	for (size_t i = 0; i < g->tl.n; i++) {
		const struct win_acc *w = &g->tl.w[i];
		struct report_window *o;

		if (!w->count)
			continue;
		o = &k->timeline[k->ntimeline++];
		o->start_ns = started_ns + (long long)i * tl_ns;
		o->count = w->count;
		o->errors = w->errors;
		o->p50_ns = (long long)loghist__percentile(w->hist, 50);
		o->p99_ns = (long long)loghist__percentile(w->hist, 99);
	}
	k->slo_worst_start_ns = k->slo_worst_p99_ns = -1;
	k->slo_ok = -1;
	if (k->slo_threshold_ns) {
		bool worst_failed = false;

		for (size_t i = 0; i < g->slo.n; i++) {
			const struct win_acc *w = &g->slo.w[i];
			long long p99;
			bool failed;

			if (!w->count)
				continue;
			k->slo_windows++;
			/* p99 <= T exactly when at most count - rank(count, 99) are above T. */
			failed = w->over > w->count - rank(w->count, 99);
			k->slo_windows_failed += failed;
			p99 = (long long)loghist__percentile(w->hist, 99);
			if (k->slo_worst_p99_ns < 0 || p99 > k->slo_worst_p99_ns ||
			    (p99 == k->slo_worst_p99_ns && failed && !worst_failed)) {
				k->slo_worst_p99_ns = p99;
				k->slo_worst_start_ns = started_ns + (long long)i * REPORT_SLO_WINDOW_NS;
				worst_failed = failed;
			}
		}
		k->slo_ok = k->slo_windows_failed == 0;
	}
	win_free(&g->tl);
	win_free(&g->slo);
	return 0;
}

/* Timeline window for a run of DUR_NS: max(10 s, DUR/60) in whole seconds. */
static long long timeline_window(long long dur_ns)
{
	long long w = dur_ns > 0 ? (dur_ns + 59) / 60 : 0;

	w = (w + NS_PER_S - 1) / NS_PER_S * NS_PER_S;
	return w < 10 * NS_PER_S ? 10 * NS_PER_S : w;
}

/*
 * The run's duration: ended - started, or for a run without an end, the
 * end of its last request; -1 when unknown.
 */
static int run_duration(const char *path, sqlite3 *db, long long run_id, long long started_ns,
			long long ended_ns, long long *dur)
{
	sqlite3_stmt *st = NULL;
	int rc;

	*dur = -1;
	if (ended_ns >= 0) {
		*dur = ended_ns - started_ns;
		return 0;
	}
	rc = sqlite3_prepare_v2(db, "SELECT max(start_ns + latency_ns) FROM requests "
				"WHERE run_id = ?1", -1, &st, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, run_id);
		rc = sqlite3_step(st);
	}
	if (rc != SQLITE_ROW) {
		rc = db_err(path, db, rc);
		sqlite3_finalize(st);
		return rc;
	}
	if (sqlite3_column_type(st, 0) != SQLITE_NULL)
		*dur = sqlite3_column_int64(st, 0) - started_ns;
	sqlite3_finalize(st);
	return 0;
}

struct calls_out {
	struct report_call *calls;
	size_t n;
	long long dur_ns, tl_ns;
};

/* The accumulators of one scanner: groups, and a hash table of their indexes. */
struct accs {
	struct gacc *g;
	size_t n, cap;
	size_t *tab, tabn;
	long long started_ns, tl_ns;
};

static void accs_free(struct accs *a)
{
	for (size_t i = 0; i < a->n; i++) {
		struct gacc *g = &a->g[i];

		win_free(&g->tl);
		win_free(&g->slo);
		free(g->k.component);
		free(g->k.verb);
		free(g->k.resource);
		free(g->k.subresource);
		free(g->k.scope);
		free(g->k.path);
		free(g->k.statuses);
		free(g->k.hist);
		free(g->k.timeline);
	}
	free(a->g);
	free(a->tab);
	a->g = NULL;
	a->tab = NULL;
	a->n = a->cap = a->tabn = 0;
}

static uint64_t key_hash(const unsigned char *const *v)
{
	uint64_t h = 14695981039346656037ULL;

	for (int i = 0; i < 6; i++)
		h = fnv(h, v[i]);
	return h;
}

/* The group of key V (hash H), created if new; NULL when out of memory. */
static struct gacc *acc_find(struct accs *a, const unsigned char *const *v, uint64_t h)
{
	size_t slot, gi;
	struct gacc *g;

	if (!a->tab) {
		a->tabn = 1024;
		if (!(a->tab = malloc(a->tabn * sizeof(*a->tab))))
			return NULL;
		memset(a->tab, 0xff, a->tabn * sizeof(*a->tab));
	}
	for (slot = h & (a->tabn - 1);; slot = (slot + 1) & (a->tabn - 1)) {
		gi = a->tab[slot];
		if (gi == (size_t)-1)
			break;
		if (a->g[gi].hash == h && key_eq(&a->g[gi].k, v))
			return &a->g[gi];
	}
	if (a->n == a->cap) {
		size_t nc = a->cap ? 2 * a->cap : 64;
		struct gacc *ng = realloc(a->g, nc * sizeof(*ng));

		if (!ng)
			return NULL;
		a->g = ng;
		a->cap = nc;
	}
	g = &a->g[a->n];
	memset(g, 0, sizeof(*g));
	g->hash = h;
	g->k.component = xstrdup(v[0]);
	g->k.verb = xstrdup(v[1]);
	g->k.resource = xstrdup(v[2]);
	g->k.subresource = xstrdup(v[3]);
	g->k.scope = xstrdup(v[4]);
	g->k.path = xstrdup(v[5]);
	g->k.hist = calloc(LOGHIST_NBUCKETS, sizeof(__u64));
	a->n++;
	if (!g->k.hist || (v[0] && !g->k.component) || (v[1] && !g->k.verb) ||
	    (v[2] && !g->k.resource) || (v[3] && !g->k.subresource) || (v[4] && !g->k.scope) ||
	    (v[5] && !g->k.path))
		return NULL;
	/* SLO verdicts are for API calls; etcd's operations are not. */
	if (!g->k.component || strcmp(g->k.component, "etcd") != 0)
		g->k.slo_threshold_ns = report__slo_threshold_ns(g->k.verb, g->k.scope, g->k.resource,
								 g->k.subresource);
	a->tab[slot] = a->n - 1;
	if (2 * a->n > a->tabn) {
		size_t nn = 2 * a->tabn, *nt = malloc(nn * sizeof(*nt));

		if (!nt)
			return NULL;
		memset(nt, 0xff, nn * sizeof(*nt));
		for (size_t j = 0; j < a->n; j++) {
			size_t s2 = a->g[j].hash & (nn - 1);

			while (nt[s2] != (size_t)-1)
				s2 = (s2 + 1) & (nn - 1);
			nt[s2] = j;
		}
		free(a->tab);
		a->tab = nt;
		a->tabn = nn;
	}
	return &a->g[a->n - 1];
}

static size_t win_index(long long start, long long started_ns, long long len)
{
	size_t wi = start > started_ns ? (size_t)((start - started_ns) / len) : 0;

	return wi >= MAX_WINDOWS ? MAX_WINDOWS - 1 : wi;
}

/* One integer of SQL bound to RUN_ID, or DFLT when NULL or no row. */
static long long query_ll(sqlite3 *db, const char *sql, long long run_id, long long dflt)
{
	sqlite3_stmt *st = NULL;
	long long v = dflt;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, run_id);
		if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
			v = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	return v;
}

/* Count one request of group G into A; -ENOMEM when a window cannot be allocated. */
static int acc_row(struct accs *a, struct gacc *g, long long start, long long lat, int status,
		   bool e)
{
	__u32 b = loghist_bucket(lat < 0 ? 0 : (__u64)lat);
	struct win_acc *w;

	g->k.count++;
	g->k.errors += e;
	if (lat > g->k.max_ns)
		g->k.max_ns = lat;
	g->k.hist[b]++;
	if (add_status(g, status, e, 1))
		return -ENOMEM;
	if (!(w = win_at(&g->tl, win_index(start, a->started_ns, a->tl_ns))))
		return -ENOMEM;
	w->count++;
	w->errors += e;
	w->hist[b]++;
	if (g->k.slo_threshold_ns) {
		if (!(w = win_at(&g->slo, win_index(start, a->started_ns, REPORT_SLO_WINDOW_NS))))
			return -ENOMEM;
		w->count++;
		w->over += lat > g->k.slo_threshold_ns;
		w->hist[b]++;
	}
	return 0;
}

/*
 * Schema version 2 (store.c): the run's call kinds, read once. A request
 * row is a kind id, a start offset and a latency, so the scans below look
 * a row's group, error verdict and time base up in this array instead of
 * comparing six strings per row.
 */
struct kind {
	const unsigned char *v[6];   /* GROUP_COLS, into cols */
	char *cols[6];
	int status;
	bool error;
	long long base_ns;
	size_t call;                 /* index in calls_out after pass 1 */
};

struct kinds {
	struct kind *k;
	size_t n;
	long long min_id;
	int32_t *map;                /* kind id - min_id -> index in k, or -1 (another run's) */
	size_t nmap;
	long long lo, hi;            /* the run's request ids lie within [lo, hi] */
};

static void kinds_free(struct kinds *ks)
{
	for (size_t i = 0; i < ks->n; i++)
		for (int j = 0; j < 6; j++)
			free(ks->k[i].cols[j]);
	free(ks->k);
	free(ks->map);
	memset(ks, 0, sizeof(*ks));
}

static int kinds_load(const char *path, sqlite3 *db, long long run_id, struct kinds *ks)
{
	sqlite3_stmt *st = NULL;
	long long max_id = 0;
	size_t cap = 0;
	int rc;

	memset(ks, 0, sizeof(*ks));
	rc = sqlite3_prepare_v2(db, "SELECT id, " GROUP_COLS ", protocol, status, base_ns "
				"FROM call_kinds WHERE run_id = ?1 ORDER BY id", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return db_err(path, db, rc);
	sqlite3_bind_int64(st, 1, run_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct kind *k;

		if (ks->n == cap) {
			struct kind *nk = realloc(ks->k, (cap = cap ? 2 * cap : 64) * sizeof(*nk));

			if (!nk)
				goto nomem;
			ks->k = nk;
		}
		k = &ks->k[ks->n++];
		memset(k, 0, sizeof(*k));
		if (ks->n == 1)
			ks->min_id = sqlite3_column_int64(st, 0);
		max_id = sqlite3_column_int64(st, 0);
		for (int j = 0; j < 6; j++) {
			const unsigned char *t = sqlite3_column_text(st, 1 + j);

			if (t && !(k->cols[j] = strdup((const char *)t)))
				goto nomem;
			k->v[j] = (const unsigned char *)k->cols[j];
		}
		k->status = sqlite3_column_int(st, 8);
		if (sqlite3_column_type(st, 8) != SQLITE_NULL)
			k->error = is_error((const char *)sqlite3_column_text(st, 7), k->cols[1],
					    k->status);
		k->base_ns = sqlite3_column_int64(st, 9);
	}
	if (rc != SQLITE_DONE) {
		rc = db_err(path, db, rc);
		sqlite3_finalize(st);
		kinds_free(ks);
		return rc;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (ks->n) {
		ks->nmap = (size_t)(max_id - ks->min_id + 1);
		if (!(ks->map = malloc(ks->nmap * sizeof(*ks->map))))
			goto nomem;
		memset(ks->map, 0xff, ks->nmap * sizeof(*ks->map));
	}
	/* Kinds are read ORDER BY id: map them in a second loop over the array. */
	rc = sqlite3_prepare_v2(db, "SELECT id FROM call_kinds WHERE run_id = ?1 ORDER BY id",
				-1, &st, NULL);
	if (rc != SQLITE_OK) {
		kinds_free(ks);
		return db_err(path, db, rc);
	}
	sqlite3_bind_int64(st, 1, run_id);
	for (size_t i = 0; i < ks->n && sqlite3_step(st) == SQLITE_ROW; i++)
		ks->map[sqlite3_column_int64(st, 0) - ks->min_id] = (int32_t)i;
	sqlite3_finalize(st);
	ks->lo = query_ll(db, "SELECT min(first_id) FROM request_spans WHERE run_id = ?1", run_id, 0);
	ks->hi = query_ll(db, "SELECT max(last_id) FROM request_spans WHERE run_id = ?1", run_id, -1);
	return 0;
nomem:
	sqlite3_finalize(st);
	kinds_free(ks);
	cp_seterr("out of memory");
	return -ENOMEM;
}

/* The kind of a row's kind id, or NULL when it belongs to another run. */
static inline const struct kind *kind_of(const struct kinds *ks, long long id, size_t *idx)
{
	long long i = id - ks->min_id;

	if (i < 0 || (size_t)i >= ks->nmap || ks->map[i] < 0)
		return NULL;
	*idx = (size_t)ks->map[i];
	return &ks->k[*idx];
}

static const char rows_v2_sql[] =
	"SELECT kind, start_off, latency_ns FROM request_rows WHERE id BETWEEN ?2 AND ?3";

/* Pass 1 over request ids [LO, HI] of a version 2 file into A (see pass_windows). */
static int scan_rows_v2(const char *path, sqlite3 *db, const struct kinds *ks,
			long long lo, long long hi, struct accs *a)
{
	size_t *gi = malloc((ks->n ? ks->n : 1) * sizeof(*gi));
	sqlite3_stmt *st = NULL;
	int rc, err = 0;

	if (!gi)
		goto nomem;
	for (size_t i = 0; i < ks->n; i++)
		gi[i] = (size_t)-1;
	rc = sqlite3_prepare_v2(db, rows_v2_sql, -1, &st, NULL);
	if (rc != SQLITE_OK) {
		free(gi);
		return db_err(path, db, rc);
	}
	sqlite3_bind_int64(st, 2, lo);
	sqlite3_bind_int64(st, 3, hi);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const struct kind *k;
		size_t ki;

		if (sqlite3_column_type(st, 2) == SQLITE_NULL ||
		    !(k = kind_of(ks, sqlite3_column_int64(st, 0), &ki)))
			continue;
		if (gi[ki] == (size_t)-1) {
			struct gacc *g = acc_find(a, k->v, key_hash(k->v));

			if (!g)
				goto nomem;
			gi[ki] = (size_t)(g - a->g);
		}
		if (acc_row(a, &a->g[gi[ki]], k->base_ns + sqlite3_column_int64(st, 1),
			    sqlite3_column_int64(st, 2), k->status, k->error))
			goto nomem;
	}
	if (rc != SQLITE_DONE)
		err = db_err(path, db, rc);
	sqlite3_finalize(st);
	free(gi);
	return err;
nomem:
	sqlite3_finalize(st);
	free(gi);
	cp_seterr("out of memory");
	return -ENOMEM;
}

/* Scan the rows SQL yields (bound to RUN_ID, LO, HI) into A. */
static int scan_rows(const char *path, sqlite3 *db, const char *sql, long long run_id,
		     long long lo, long long hi, struct accs *a)
{
	sqlite3_stmt *st = NULL;
	int rc, err = 0;

	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return db_err(path, db, rc);
	sqlite3_bind_int64(st, 1, run_id);
	sqlite3_bind_int64(st, 2, lo);
	sqlite3_bind_int64(st, 3, hi);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const unsigned char *v[6];
		long long start = sqlite3_column_int64(st, 6), lat = sqlite3_column_int64(st, 7);
		int status = sqlite3_column_int(st, 8);
		bool e = false;
		struct gacc *g;

		for (int i = 0; i < 6; i++)
			v[i] = sqlite3_column_text(st, i);
		if (!(g = acc_find(a, v, key_hash(v))))
			goto nomem;
		if (sqlite3_column_type(st, 8) != SQLITE_NULL)
			e = is_error((const char *)sqlite3_column_text(st, 9), g->k.verb, status);
		if (acc_row(a, g, start, lat, status, e))
			goto nomem;
	}
	if (rc != SQLITE_DONE)
		err = db_err(path, db, rc);
	sqlite3_finalize(st);
	return err;
nomem:
	sqlite3_finalize(st);
	cp_seterr("out of memory");
	return -ENOMEM;
}

static int merge_wins(struct win_list *dst, const struct win_list *src)
{
	for (size_t i = 0; i < src->n; i++) {
		const struct win_acc *s = &src->w[i];
		struct win_acc *d;

		if (!s->count)
			continue;
		if (!(d = win_at(dst, i)))
			return -ENOMEM;
		d->count += s->count;
		d->errors += s->errors;
		d->over += s->over;
		loghist__merge(d->hist, s->hist);
	}
	return 0;
}

/* Add the groups of SRC to DST. */
static int merge_accs(struct accs *dst, const struct accs *src)
{
	for (size_t i = 0; i < src->n; i++) {
		const struct gacc *s = &src->g[i];
		const unsigned char *v[6] = {
			(const unsigned char *)s->k.component, (const unsigned char *)s->k.verb,
			(const unsigned char *)s->k.resource, (const unsigned char *)s->k.subresource,
			(const unsigned char *)s->k.scope, (const unsigned char *)s->k.path,
		};
		struct gacc *d = acc_find(dst, v, s->hash);

		if (!d)
			return -ENOMEM;
		d->k.count += s->k.count;
		d->k.errors += s->k.errors;
		if (s->k.max_ns > d->k.max_ns)
			d->k.max_ns = s->k.max_ns;
		loghist__merge(d->k.hist, s->k.hist);
		for (size_t j = 0; j < s->nst; j++) {
			const struct report_status *x = &s->k.statuses[j];

			if (add_status(d, x->status, x->error, x->count))
				return -ENOMEM;
		}
		if (merge_wins(&d->tl, &s->tl) || merge_wins(&d->slo, &s->slo))
			return -ENOMEM;
	}
	return 0;
}

struct scan_job {
	const char *path, *sql;
	const struct kinds *ks;     /* version 2: scan request_rows (sql unused) */
	long long run_id, lo, hi;
	struct accs a;
	int err;
	char errmsg[512];
};

/* The second scanner's thread: its own read-only connection, its own accumulators. */
static void *scan_thread(void *arg)
{
	struct scan_job *j = arg;
	sqlite3 *db = NULL;
	int rc;

	rc = sqlite3_open_v2(j->path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		j->err = db ? db_err(j->path, db, rc) : -ENOMEM;
	} else {
		sqlite3_busy_timeout(db, 5000);
		sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
		j->err = j->ks ? scan_rows_v2(j->path, db, j->ks, j->lo, j->hi, &j->a) :
			 scan_rows(j->path, db, j->sql, j->run_id, j->lo, j->hi, &j->a);
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	}
	if (j->err)	/* cp_lasterr() is per thread: carry the message over */
		snprintf(j->errmsg, sizeof(j->errmsg), "%s", cp_lasterr());
	sqlite3_close(db);
	return NULL;
}

/*
 * Pass 1, one streaming pass over the run's rows in table order, into one
 * accumulator per group found through a hash table: count, max, errors
 * by status, the whole-run histogram, and per window (timeline, and the
 * 5-minute SLO windows) count, errors, latencies above the SLO threshold
 * and a histogram. Memory is per group and window, never per row.
 *
 * The rows are split by rowid in two halves, scanned at once by this
 * thread and a second one on its own connection (on 10M rows the scan is
 * most of the report's time), and the two sets of groups merged. A file
 * with one run is scanned in table order (twice as fast as through the
 * run_id index); a file with several goes through requests_run.
 */
static int accs_finish(struct accs *a, long long started_ns, struct calls_out *co);

static int pass_windows(const char *path, sqlite3 *db, long long run_id, long long started_ns,
			const struct kinds *ks, struct calls_out *co, struct accs *sum)
{
	static const char scan_sql[] =
		"SELECT " GROUP_COLS ", start_ns, latency_ns, status, protocol FROM requests "
		"WHERE +run_id = ?1 AND rowid BETWEEN ?2 AND ?3 AND latency_ns IS NOT NULL";
	static const char index_sql[] =
		"SELECT " GROUP_COLS ", start_ns, latency_ns, status, protocol FROM requests "
		"WHERE run_id = ?1 AND rowid BETWEEN ?2 AND ?3 AND latency_ns IS NOT NULL";
	struct accs a = { .started_ns = started_ns, .tl_ns = co->tl_ns };
	struct scan_job job = { .path = path, .run_id = run_id };
	long long lo, hi, mid, nruns;
	bool threaded = false;
	pthread_t th;
	int err = 0;

	if (ks) {
		lo = ks->lo;
		hi = ks->hi;
		job.ks = ks;
	} else {
		nruns = query_ll(db, "SELECT count(*) FROM runs", run_id, 0);
		lo = query_ll(db, "SELECT rowid FROM requests WHERE run_id = ?1 ORDER BY rowid LIMIT 1",
			      run_id, 0);
		hi = query_ll(db, "SELECT rowid FROM requests WHERE run_id = ?1 ORDER BY rowid DESC "
			      "LIMIT 1", run_id, -1);
		job.sql = nruns <= 1 ? scan_sql : index_sql;
	}
	mid = lo + (hi - lo) / 2;
	job.a = (struct accs){ .started_ns = started_ns, .tl_ns = co->tl_ns };
	if (hi - lo > 100000) {
		job.lo = mid + 1;
		job.hi = hi;
		threaded = pthread_create(&th, NULL, scan_thread, &job) == 0;
	}
	err = ks ? scan_rows_v2(path, db, ks, lo, threaded ? mid : hi, &a) :
		   scan_rows(path, db, job.sql, run_id, lo, threaded ? mid : hi, &a);
	if (threaded) {
		pthread_join(th, NULL);
		if (!err && job.err) {
			err = job.err;
			cp_seterr("%s", job.errmsg);
		}
		if (!err && (err = merge_accs(&a, &job.a)))
			cp_seterr("out of memory");
	}
	/* several files: the run's sum over them, before this file's windows are finished */
	if (!err && sum && (err = merge_accs(sum, &a)))
		cp_seterr("out of memory");
	if (!err)
		err = accs_finish(&a, started_ns, co);
	accs_free(&a);
	accs_free(&job.a);
	return err;
}

/* The groups of A as CO's calls, sorted, their windows turned into timelines and verdicts. */
static int accs_finish(struct accs *a, long long started_ns, struct calls_out *co)
{
	if (a->n && !(co->calls = calloc(a->n, sizeof(*co->calls)))) {
		cp_seterr("out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < a->n; i++) {
		int err = finish_group(&a->g[i], started_ns, co->tl_ns, co->dur_ns);

		co->calls[i] = a->g[i].k;
		memset(&a->g[i].k, 0, sizeof(a->g[i].k));
		co->n++;
		if (err) {
			cp_seterr("out of memory");
			return err;
		}
	}
	if (co->n)
		qsort(co->calls, co->n, sizeof(*co->calls), call_cmp);
	return 0;
}

/*
 * Pass 2: every latency of the run sorted by group and latency, through
 * the requests_report index. Knowing each group's size from pass 1, the
 * nearest ranks of p50/p90/p99 are known before the group's rows go by,
 * so the exact percentiles come out of one streaming pass.
 */
static bool has_table(sqlite3 *db, const char *name);

/* The loghist bucket holding one or more of a group's ranks, and its latencies once read. */
struct rank_bucket {
	__u32 b;
	long long *v;
	size_t n, cap;
};

struct call_ranks {
	struct rank_bucket rb[6];         /* 3 of the group; 3 more of a host's own (merged runs) */
	int nrb;
	int at[3];                /* p50, p90, p99: index in rb */
	long long within[3];      /* ... and 1-based rank within that bucket */
};

static int ll_cmp(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

static void ranks_free(struct call_ranks *cr, size_t n)
{
	for (size_t g = 0; cr && g < n; g++)
		for (int j = 0; j < cr[g].nrb; j++)
			free(cr[g].rb[j].v);
	free(cr);
}

static int bucket_append(struct rank_bucket *q, const long long *v, size_t n)
{
	if (q->n + n > q->cap) {
		size_t nc = q->cap ? 2 * q->cap : 16;
		long long *nv;

		while (nc < q->n + n)
			nc *= 2;
		if (!(nv = realloc(q->v, nc * sizeof(*nv))))
			return -ENOMEM;
		q->v = nv;
		q->cap = nc;
	}
	memcpy(q->v + q->n, v, n * sizeof(*v));
	q->n += n;
	return 0;
}

/* Keep the latencies of request ids [LO, HI] that fall in a rank's bucket of their group. */
static int rank_rows(const char *path, sqlite3 *db, const struct kinds *ks, struct call_ranks *cr,
		     long long lo, long long hi)
{
	sqlite3_stmt *st = NULL;
	int rc, err = 0;

	rc = sqlite3_prepare_v2(db, rows_v2_sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return db_err(path, db, rc);
	sqlite3_bind_int64(st, 2, lo);
	sqlite3_bind_int64(st, 3, hi);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const struct kind *k;
		struct call_ranks *x;
		long long lat;
		size_t ki;
		__u32 b;

		if (sqlite3_column_type(st, 2) == SQLITE_NULL ||
		    !(k = kind_of(ks, sqlite3_column_int64(st, 0), &ki)) || k->call == (size_t)-1)
			continue;
		lat = sqlite3_column_int64(st, 2);
		b = loghist_bucket(lat < 0 ? 0 : (__u64)lat);
		x = &cr[k->call];
		for (int j = 0; j < x->nrb; j++) {
			if (x->rb[j].b != b)
				continue;
			if (bucket_append(&x->rb[j], &lat, 1)) {
				sqlite3_finalize(st);
				cp_seterr("out of memory");
				return -ENOMEM;
			}
			break;
		}
	}
	if (rc != SQLITE_DONE)
		err = db_err(path, db, rc);
	sqlite3_finalize(st);
	return err;
}

struct rank_job {
	const char *path;
	const struct kinds *ks;
	struct call_ranks *cr;
	size_t ncr;
	long long lo, hi;
	int err;
	char errmsg[512];
};

/* The second rank scanner: its own read-only connection, its own buckets. */
static void *rank_thread(void *arg)
{
	struct rank_job *j = arg;
	sqlite3 *db = NULL;
	int rc;

	rc = sqlite3_open_v2(j->path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		j->err = db ? db_err(j->path, db, rc) : -ENOMEM;
	} else {
		sqlite3_busy_timeout(db, 5000);
		sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
		j->err = rank_rows(j->path, db, j->ks, j->cr, j->lo, j->hi);
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	}
	if (j->err)
		snprintf(j->errmsg, sizeof(j->errmsg), "%s", cp_lasterr());
	sqlite3_close(db);
	return NULL;
}

/*
 * Pass 2 of a version 2 file, without an index: each percentile's nearest
 * rank falls in a known bucket of the group's whole-run histogram (pass
 * 1), so one more scan of the rows keeps only the latencies of those
 * buckets (at most three per group, each at most 25% wide), and sorting
 * them gives the exact value. Memory is those rows, not the run's.
 */
static int ranks_v2(const char *path, sqlite3 *db, struct kinds *ks, struct calls_out *co)
{
	struct call_ranks *cr = calloc(co->n ? co->n : 1, sizeof(*cr));
	struct rank_job job = { 0 };
	bool threaded = false;
	long long mid;
	pthread_t th;
	int err = 0;

	if (!cr)
		goto nomem;
	for (size_t i = 0; i < ks->n; i++) {
		struct kind *k = &ks->k[i];
		struct report_call key = {
			.component = k->cols[0], .verb = k->cols[1], .resource = k->cols[2],
			.subresource = k->cols[3], .scope = k->cols[4], .path = k->cols[5],
		};
		struct report_call *c = co->n ? bsearch(&key, co->calls, co->n, sizeof(*c),
							call_cmp) : NULL;

		k->call = c ? (size_t)(c - co->calls) : (size_t)-1;
	}
	for (size_t g = 0; g < co->n; g++) {
		const struct report_call *c = &co->calls[g];
		long long r[3] = { rank(c->count, 50), rank(c->count, 90), rank(c->count, 99) };
		struct call_ranks *x = &cr[g];

		for (int p = 0; p < 3; p++) {
			long long cum = 0;
			__u32 b = 0;

			while (b < LOGHIST_NBUCKETS - 1 && cum + (long long)c->hist[b] < r[p])
				cum += (long long)c->hist[b++];
			x->within[p] = r[p] - cum;
			for (x->at[p] = 0; x->at[p] < x->nrb && x->rb[x->at[p]].b != b; x->at[p]++)
				;
			if (x->at[p] == x->nrb)
				x->rb[x->nrb++].b = b;
		}
	}
	mid = ks->lo + (ks->hi - ks->lo) / 2;
	if (ks->hi - ks->lo > 100000 && (job.cr = calloc(co->n ? co->n : 1, sizeof(*job.cr)))) {
		/* The second half of the rows on a thread of its own, as pass 1 does. */
		for (size_t g = 0; g < co->n; g++) {
			job.cr[g].nrb = cr[g].nrb;
			for (int j = 0; j < cr[g].nrb; j++)
				job.cr[g].rb[j].b = cr[g].rb[j].b;
		}
		job.path = path;
		job.ks = ks;
		job.ncr = co->n;
		job.lo = mid + 1;
		job.hi = ks->hi;
		threaded = pthread_create(&th, NULL, rank_thread, &job) == 0;
	}
	err = rank_rows(path, db, ks, cr, ks->lo, threaded ? mid : ks->hi);
	if (threaded) {
		pthread_join(th, NULL);
		if (!err && job.err) {
			err = job.err;
			cp_seterr("%s", job.errmsg);
		}
		for (size_t g = 0; !err && g < co->n; g++)
			for (int j = 0; !err && j < cr[g].nrb; j++)
				if (bucket_append(&cr[g].rb[j], job.cr[g].rb[j].v, job.cr[g].rb[j].n))
					goto nomem;
	}
	if (err)
		goto out;
	for (size_t g = 0; g < co->n; g++) {
		struct call_ranks *x = &cr[g];
		long long v[3];

		for (int j = 0; j < x->nrb; j++)
			qsort(x->rb[j].v, x->rb[j].n, sizeof(long long), ll_cmp);
		for (int p = 0; p < 3; p++) {
			const struct rank_bucket *q = &x->rb[x->at[p]];

			if ((size_t)x->within[p] > q->n) {
				cp_seterr("'%s': fewer requests than counted; the file changed "
					  "while reading", path);
				err = -EIO;
				goto out;
			}
			v[p] = q->v[x->within[p] - 1];
		}
		co->calls[g].p50_ns = v[0];
		co->calls[g].p90_ns = v[1];
		co->calls[g].p99_ns = v[2];
	}
out:
	ranks_free(cr, co->n);
	ranks_free(job.cr, job.ncr);
	return err;
nomem:
	err = -ENOMEM;
	cp_seterr("out of memory");
	goto out;
}

static int run_calls(const char *path, sqlite3 *db, long long run_id, long long started_ns,
		     long long ended_ns, struct calls_out *co)
{
	struct kinds ks;
	sqlite3_stmt *st = NULL;
	int rc, err;

	memset(co, 0, sizeof(*co));
	err = run_duration(path, db, run_id, started_ns, ended_ns, &co->dur_ns);
	if (err)
		return err;
	co->tl_ns = timeline_window(co->dur_ns);
	if (has_table(db, "request_rows")) {
		/* Schema version 2: two scans of the narrow rows, no index. */
		err = kinds_load(path, db, run_id, &ks);
		if (err)
			goto cleanup;
		err = pass_windows(path, db, run_id, started_ns, &ks, co, NULL);
		if (!err)
			err = ranks_v2(path, db, &ks, co);
		kinds_free(&ks);
		goto cleanup;
	}
	err = pass_windows(path, db, run_id, started_ns, NULL, co, NULL);
	if (err)
		goto cleanup;

	rc = sqlite3_prepare_v2(db, RANK_SQL, -1, &st, NULL);
	if (rc != SQLITE_OK) {
		st = NULL;
		err = db_err(path, db, rc);
		goto cleanup;
	}
	sqlite3_bind_int64(st, 1, run_id);
	for (size_t g = 0; g < co->n; g++) {
		struct report_call *k = &co->calls[g];
		long long r50 = rank(k->count, 50), r90 = rank(k->count, 90);
		long long r99 = rank(k->count, 99);

		for (long long i = 1; i <= k->count; i++) {
			long long v;

			rc = sqlite3_step(st);
			if (rc != SQLITE_ROW) {
				err = rc == SQLITE_DONE ? -EIO : db_err(path, db, rc);
				if (rc == SQLITE_DONE)
					cp_seterr("'%s': fewer requests than counted; the file changed "
						  "while reading", path);
				goto cleanup;
			}
			v = sqlite3_column_int64(st, 0);
			if (i == r50)
				k->p50_ns = v;
			if (i == r90)
				k->p90_ns = v;
			if (i == r99)
				k->p99_ns = v;
		}
	}

cleanup:
	sqlite3_finalize(st);
	if (err) {
		report_model__calls_free(co->calls, co->n);
		co->calls = NULL;
		co->n = 0;
	}
	return err;
}

/* ---------- opening ---------- */


static int open_db(const char *path, sqlite3 **dbp)
{
	sqlite3_stmt *st = NULL;
	struct stat sb;
	sqlite3 *db = NULL;
	long long version;
	int rc, err = 0;

	/* SQLite says "unable to open database file"; say which and why. */
	if (stat(path, &sb) < 0) {
		err = -errno;
		cp_seterr("'%s': %s", path, strerror(errno));
		return err;
	}
	rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		err = db ? db_err(path, db, rc) : -ENOMEM;
		goto cleanup;
	}
	sqlite3_busy_timeout(db, 5000);
	rc = sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master "
				"WHERE type = 'table' AND name = 'schema_version'", -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		if ((sqlite3_errcode(db) & 0xff) == SQLITE_NOTADB) {
			cp_seterr("'%s' is not a cpprof database (not an SQLite file)", path);
			err = -EINVAL;
		} else {
			err = db_err(path, db, rc);
		}
		goto cleanup;
	}
	if (sqlite3_column_int64(st, 0) == 0) {
		cp_seterr("'%s' is not a cpprof database (no schema_version table)", path);
		err = -EINVAL;
		goto cleanup;
	}
	sqlite3_finalize(st);
	st = NULL;
	rc = sqlite3_prepare_v2(db, "SELECT max(version) FROM schema_version", -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		err = db_err(path, db, rc);
		goto cleanup;
	}
	version = sqlite3_column_int64(st, 0);
	if (version > STORE_SCHEMA_VERSION) {
		cp_seterr("'%s' has schema version %lld, newer than this cpprof (%d); upgrade cpprof",
			  path, version, STORE_SCHEMA_VERSION);
		err = -EPROTO;
		goto cleanup;
	}

cleanup:
	sqlite3_finalize(st);
	if (err) {
		sqlite3_close(db);
		db = NULL;
	}
	*dbp = db;
	return err;
}

/* The run labels of the file, "a, b, c", for error messages; returns how many. */
static int list_labels(sqlite3 *db, char *list, size_t size)
{
	sqlite3_stmt *st = NULL;
	size_t o = 0;
	int nruns = 0;

	list[0] = '\0';
	if (sqlite3_prepare_v2(db, "SELECT label FROM runs ORDER BY id", -1, &st, NULL) == SQLITE_OK) {
		while (sqlite3_step(st) == SQLITE_ROW) {
			const char *l = (const char *)sqlite3_column_text(st, 0);

			if (o < size - 8 && l)
				o += snprintf(list + o, size - o, "%s%s", nruns ? ", " : "", l);
			nruns++;
		}
	}
	sqlite3_finalize(st);
	if (o >= size - 8)
		snprintf(list + size - 8, 8, ", ...");
	return nruns;
}

/* "no run labelled 'x' in 'f.db' (runs: a, b)" */
static int no_such_label(const char *path, sqlite3 *db, const char *label)
{
	char list[256];

	if (list_labels(db, list, sizeof(list)))
		cp_seterr("no run labelled '%s' in '%s' (runs: %s)", label, path, list);
	else
		cp_seterr("no run labelled '%s' in '%s' (it holds no runs)", label, path);
	return -ENOENT;
}

/* ---------- syscalls and served connections (tables syscalls, sock_stats) ---------- */

struct sys_list {
	struct report_sys *g;
	size_t n, cap;
};

static bool has_table(sqlite3 *db, const char *name)
{
	sqlite3_stmt *st = NULL;
	bool yes = false;

	/* cpu_stacks is a view since schema version 2 */
	if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type IN ('table', 'view') "
			       "AND name = ?1",
			       -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		yes = sqlite3_step(st) == SQLITE_ROW;
	}
	sqlite3_finalize(st);
	return yes;
}

static void sys_finish(struct report_sys *g)
{
	g->count = (long long)loghist__total(g->hist);
	g->p50_ns = (long long)loghist__percentile(g->hist, 50);
	g->p99_ns = (long long)loghist__percentile(g->hist, 99);
}

/*
 * Run SQL (bound to RUN_ID) whose rows are: component, syscall, target_id,
 * pid, interval_start_ns, interval_ns, le_ns, count, sum_ns, sorted so
 * that rows of one group are adjacent, and merge each group's buckets.
 */
static int sys_groups(const char *path, sqlite3 *db, const char *sql, long long run_id,
		      struct sys_list *l)
{
	sqlite3_stmt *st = NULL;
	struct report_sys *g = NULL;
	int rc, err = 0;

	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return db_err(path, db, rc);
	sqlite3_bind_int64(st, 1, run_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *comp = str_or((const char *)sqlite3_column_text(st, 0), "");
		const char *sc = str_or((const char *)sqlite3_column_text(st, 1), "");
		long long tid = sqlite3_column_int64(st, 2), start = sqlite3_column_int64(st, 4);
		long long le = sqlite3_column_int64(st, 6), n = sqlite3_column_int64(st, 7);

		if (!g || strncmp(g->component, comp, sizeof(g->component) - 1) ||
		    strncmp(g->syscall, sc, sizeof(g->syscall) - 1) || g->target_id != tid ||
		    g->start_ns != start) {
			if (g)
				sys_finish(g);
			if (l->n == l->cap) {
				size_t cap = l->cap ? l->cap * 2 : 16;
				struct report_sys *ng = realloc(l->g, cap * sizeof(*ng));

				if (!ng) {
					err = -ENOMEM;
					cp_seterr("out of memory");
					goto out;
				}
				l->g = ng;
				l->cap = cap;
			}
			g = &l->g[l->n++];
			memset(g, 0, sizeof(*g));
			snprintf(g->component, sizeof(g->component), "%s", comp);
			snprintf(g->syscall, sizeof(g->syscall), "%s", sc);
			g->target_id = tid;
			g->pid = sqlite3_column_int64(st, 3);
			g->start_ns = start;
			g->len_ns = sqlite3_column_int64(st, 5);
		}
		/* le_ns is a bucket's upper bound, which lies in that bucket. */
		if (n > 0)
			g->hist[loghist_bucket(le < 0 ? 0 : (__u64)le)] += n;
		g->sum_ns += sqlite3_column_int64(st, 8);
	}
	if (rc != SQLITE_DONE)
		err = db_err(path, db, rc);
	else if (g)
		sys_finish(g);
out:
	sqlite3_finalize(st);
	return err;
}

static int clients_rows(const char *path, sqlite3 *db, long long run_id,
			struct report_client **rows, size_t *n)
{
	static const char sql[] =
		"SELECT component, sum(accepted), sum(closed), max(peers), sum(bytes_in), "
		"sum(bytes_out), sum(retransmits), count(*) FROM sock_stats WHERE run_id = ?1 "
		"GROUP BY component ORDER BY component";
	sqlite3_stmt *st = NULL;
	int rc, err = 0;

	*rows = NULL;
	*n = 0;
	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return db_err(path, db, rc);
	sqlite3_bind_int64(st, 1, run_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct report_client *nr = realloc(*rows, (*n + 1) * sizeof(**rows)), *r;

		if (!nr) {
			err = -ENOMEM;
			cp_seterr("out of memory");
			break;
		}
		*rows = nr;
		r = &nr[(*n)++];
		snprintf(r->component, sizeof(r->component), "%s",
			 str_or((const char *)sqlite3_column_text(st, 0), ""));
		r->accepted = sqlite3_column_int64(st, 1);
		r->closed = sqlite3_column_int64(st, 2);
		r->peers_max = sqlite3_column_int64(st, 3);
		r->bytes_in = sqlite3_column_int64(st, 4);
		r->bytes_out = sqlite3_column_int64(st, 5);
		r->retransmits = sqlite3_column_int64(st, 6);
		r->intervals = sqlite3_column_int64(st, 7);
	}
	if (!err && rc != SQLITE_DONE)
		err = db_err(path, db, rc);
	sqlite3_finalize(st);
	return err;
}

/* ---------- columns added within schema version 1 ---------- */

/*
 * Whether TABLE of DB has COLUMN: files of an older cpprof lack the
 * columns added within schema version 1 (SCHEMA.md), which readers take
 * as NULL.
 */
static bool has_column(sqlite3 *db, const char *table, const char *column)
{
	sqlite3_stmt *st = NULL;
	bool yes = false;

	if (sqlite3_prepare_v2(db, "SELECT 1 FROM pragma_table_info(?1) WHERE name = ?2", -1, &st,
			       NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, column, -1, SQLITE_STATIC);
		yes = sqlite3_step(st) == SQLITE_ROW;
	}
	sqlite3_finalize(st);
	return yes;
}

/* "t.COLUMN" if TABLE has it, else "NULL", for SELECT lists over older files. */
static void col_or_null(sqlite3 *db, const char *table, const char *alias, const char *column,
			char *buf, size_t n)
{
	if (has_column(db, table, column))
		snprintf(buf, n, "%s%s%s", alias ? alias : "", alias ? "." : "", column);
	else
		snprintf(buf, n, "NULL");
}

/* ---------- CPU: categories per component, serialization per call kind ---------- */

const char *const report_ser_categories[] = {
	"json_encode", "json_decode", "protobuf_encode", "protobuf_decode", "yaml", NULL,
};

int report__is_serialization(const char *category)
{
	return is_one_of(category, report_ser_categories);
}

static void cpu_free(struct report_cpu *cpu)
{
	if (!cpu)
		return;
	for (size_t i = 0; i < cpu->ncomps; i++) {
		for (size_t j = 0; j < cpu->comps[i].ncats; j++)
			free(cpu->comps[i].cats[j].category);
		free(cpu->comps[i].cats);
		free(cpu->comps[i].component);
	}
	free(cpu->comps);
	for (size_t i = 0; i < cpu->nser; i++) {
		free(cpu->ser[i].component);
		free(cpu->ser[i].verb);
		free(cpu->ser[i].resource);
		free(cpu->ser[i].subresource);
		free(cpu->ser[i].scope);
	}
	free(cpu->ser);
	free(cpu);
}

static int ser_cmp(const void *a, const void *b)
{
	const struct report_ser *x = a, *y = b;
	double px = x->requests ? (double)x->ser_ns / x->requests : -1;
	double py = y->requests ? (double)y->ser_ns / y->requests : -1;

	if (px != py)
		return px > py ? -1 : 1;
	if (x->ser_ns != y->ser_ns)
		return x->ser_ns > y->ser_ns ? -1 : 1;
	return 0;
}

static void *grow(void *p, size_t n, size_t size)
{
	/* Grow to the next power of two when N reaches one. */
	if (n && (n & (n - 1)) == 0)
		return realloc(p, 2 * n * size);
	return n ? p : malloc(4 * size);
}

/* cpu_profile's SELECT expressions for files of every version: component, subresource, scope. */
struct cpu_cols {
	char comp[128], sub[64], scope[64];
};

static void cpu_cols(sqlite3 *db, struct cpu_cols *c)
{
	if (has_column(db, "cpu_profile", "component"))
		snprintf(c->comp, sizeof(c->comp), "coalesce(p.component, t.component, '')");
	else
		snprintf(c->comp, sizeof(c->comp), "coalesce(t.component, '')");
	snprintf(c->sub, sizeof(c->sub), "%s", has_column(db, "cpu_profile", "subresource") ?
		 "coalesce(p.subresource, '')" : "''");
	snprintf(c->scope, sizeof(c->scope), "%s", has_column(db, "cpu_profile", "scope") ?
		 "coalesce(p.scope, '')" : "''");
}

/* Sampled CPU per component and category, largest first; *CPUP stays NULL without samples. */
static int cpu_categories(const char *path, sqlite3 *db, long long run_id,
			  const struct cpu_cols *cols, struct report_cpu **cpup)
{
	struct report_cpu *cpu = NULL;
	sqlite3_stmt *st = NULL;
	char sql[1024];
	int rc;

	snprintf(sql, sizeof(sql),
		 "SELECT %s, coalesce(p.category, 'unknown'), sum(p.samples), sum(p.cpu_ns) "
		 "FROM cpu_profile p LEFT JOIN targets t ON t.id = p.target_id WHERE p.run_id = ?1 "
		 "GROUP BY 1, 2 ORDER BY 1, 4 DESC, 2", cols->comp);
	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return db_err(path, db, rc);
	sqlite3_bind_int64(st, 1, run_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *c = str_or((const char *)sqlite3_column_text(st, 0), "");
		const char *cat = str_or((const char *)sqlite3_column_text(st, 1), "unknown");
		struct report_cpu_comp *cc;
		struct report_cpu_cat *k;
		void *np;

		if (!cpu && !(cpu = calloc(1, sizeof(*cpu))))
			goto nomem;
		*cpup = cpu;
		cc = cpu->ncomps ? &cpu->comps[cpu->ncomps - 1] : NULL;
		if (!cc || strcmp(cc->component, c)) {
			if (!(np = grow(cpu->comps, cpu->ncomps, sizeof(*cpu->comps))))
				goto nomem;
			cpu->comps = np;
			cc = &cpu->comps[cpu->ncomps++];
			memset(cc, 0, sizeof(*cc));
			cc->kernel_cpu_ns = -1;
			if (!(cc->component = strdup(c)))
				goto nomem;
		}
		if (!(np = grow(cc->cats, cc->ncats, sizeof(*cc->cats))))
			goto nomem;
		cc->cats = np;
		k = &cc->cats[cc->ncats++];
		k->samples = sqlite3_column_int64(st, 2);
		k->cpu_ns = sqlite3_column_int64(st, 3);
		if (!(k->category = strdup(cat)))
			goto nomem;
		cc->samples += k->samples;
		cc->cpu_ns += k->cpu_ns;
		if (report__is_serialization(cat))
			cc->ser_ns += k->cpu_ns;
		if (strcmp(cat, "unknown") == 0)
			cc->unknown_ns += k->cpu_ns;
	}
	rc = rc == SQLITE_DONE ? 0 : db_err(path, db, rc);
	sqlite3_finalize(st);
	return rc;
nomem:
	sqlite3_finalize(st);
	cp_seterr("out of memory");
	return -ENOMEM;
}

/* The kernel's account of the same processes, the sampler's honesty check. */
static int cpu_kernel(const char *path, sqlite3 *db, long long run_id, struct report_cpu *cpu)
{
	char sql[512], kcpu[64];
	sqlite3_stmt *st = NULL;
	int rc;

	col_or_null(db, "targets", NULL, "cpu_ns", kcpu, sizeof(kcpu));
	snprintf(sql, sizeof(sql), "SELECT coalesce(component, ''), sum(%s), count(%s) FROM targets "
		 "WHERE run_id = ?1 GROUP BY 1", kcpu, kcpu);
	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return db_err(path, db, rc);
	sqlite3_bind_int64(st, 1, run_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *c = (const char *)sqlite3_column_text(st, 0);

		for (size_t i = 0; i < cpu->ncomps; i++)
			if (c && strcmp(cpu->comps[i].component, c) == 0 &&
			    sqlite3_column_int64(st, 2) > 0)
				cpu->comps[i].kernel_cpu_ns = sqlite3_column_int64(st, 1);
	}
	rc = rc == SQLITE_DONE ? 0 : db_err(path, db, rc);
	sqlite3_finalize(st);
	return rc;
}

/* Serialization CPU per call kind; CALLS (the run's call groups) give the requests per kind. */
static int cpu_ser(const char *path, sqlite3 *db, long long run_id, const struct cpu_cols *cc,
		   const struct report_call *calls, size_t ncalls, struct report_cpu *cpu)
{
	sqlite3_stmt *st = NULL;
	char sql[1024];
	int rc;

	snprintf(sql, sizeof(sql),
		 "SELECT %s, coalesce(p.verb, ''), coalesce(p.resource, ''), %s, %s, sum(p.cpu_ns) "
		 "FROM cpu_profile p LEFT JOIN targets t ON t.id = p.target_id WHERE p.run_id = ?1 "
		 "AND p.category IN ('json_encode', 'json_decode', 'protobuf_encode', "
		 "'protobuf_decode', 'yaml') GROUP BY 1, 2, 3, 4, 5", cc->comp, cc->sub, cc->scope);
	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return db_err(path, db, rc);
	sqlite3_bind_int64(st, 1, run_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct report_ser *s;
		void *np;

		if (!(np = grow(cpu->ser, cpu->nser, sizeof(*cpu->ser))))
			goto nomem;
		cpu->ser = np;
		s = &cpu->ser[cpu->nser++];
		memset(s, 0, sizeof(*s));
		s->component = xstrdup(sqlite3_column_text(st, 0));
		s->verb = xstrdup(sqlite3_column_text(st, 1));
		s->resource = xstrdup(sqlite3_column_text(st, 2));
		s->subresource = xstrdup(sqlite3_column_text(st, 3));
		s->scope = xstrdup(sqlite3_column_text(st, 4));
		s->ser_ns = sqlite3_column_int64(st, 5);
		if (!s->component || !s->verb || !s->resource || !s->subresource || !s->scope)
			goto nomem;
		/* Requests of the kind, all paths together. */
		for (size_t i = 0; i < ncalls; i++) {
			const struct report_call *k = &calls[i];

			if (!strcmp(str_or(k->component, ""), s->component) &&
			    !strcmp(str_or(k->verb, ""), s->verb) &&
			    !strcmp(str_or(k->resource, ""), s->resource) &&
			    !strcmp(str_or(k->subresource, ""), s->subresource) &&
			    !strcmp(str_or(k->scope, ""), s->scope))
				s->requests += k->count;
		}
	}
	rc = rc == SQLITE_DONE ? 0 : db_err(path, db, rc);
	sqlite3_finalize(st);
	if (!rc && cpu->nser)   /* qsort of NULL, 0 is undefined (UBSan) */
		qsort(cpu->ser, cpu->nser, sizeof(*cpu->ser), ser_cmp);
	return rc;
nomem:
	sqlite3_finalize(st);
	cp_seterr("out of memory");
	return -ENOMEM;
}

/* The CPU section of run RUN_ID, or *CPUP NULL when it has no samples. */
static int load_cpu(const char *path, sqlite3 *db, long long run_id,
		    const struct report_call *calls, size_t ncalls, struct report_cpu **cpup)
{
	struct report_cpu *cpu = NULL;
	struct cpu_cols cc;
	int err;

	*cpup = NULL;
	if (!has_table(db, "cpu_profile"))
		return 0;
	cpu_cols(db, &cc);
	err = cpu_categories(path, db, run_id, &cc, &cpu);
	if (!err && cpu)
		err = cpu_kernel(path, db, run_id, cpu);
	if (!err && cpu)
		err = cpu_ser(path, db, run_id, &cc, calls, ncalls, cpu);
	if (err)
		cpu_free(cpu);
	else
		*cpup = cpu;
	return err;
}

/* ---------- runs and targets ---------- */

/* Find the run id of LABEL (NULL: the only run); HOW says how to name one in the error. */
static int find_run(const char *path, sqlite3 *db, const char *label, const char *how,
		    long long *run_id)
{
	sqlite3_stmt *st = NULL;
	int nruns = 0, rc, err = 0;

	rc = sqlite3_prepare_v2(db, label ? "SELECT id FROM runs WHERE label = ?1"
					  : "SELECT id FROM runs", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return db_err(path, db, rc);
	if (label)
		sqlite3_bind_text(st, 1, label, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*run_id = sqlite3_column_int64(st, 0);
		nruns++;
	}
	if (rc != SQLITE_DONE)
		err = db_err(path, db, rc);
	else if (label && nruns == 0)
		err = no_such_label(path, db, label);
	else if (nruns == 0) {
		cp_seterr("'%s' holds no runs", path);
		err = -ENOENT;
	} else if (nruns > 1) {
		char list[256];

		list_labels(db, list, sizeof(list));
		if (how)
			cp_seterr("'%s' holds %d runs (%s); %s", path, nruns, list, how);
		else
			cp_seterr("'%s' holds %d runs (%s); name one as %s:LABEL", path, nruns, list,
				  path);
		err = -EINVAL;
	}
	sqlite3_finalize(st);
	return err;
}

static long long col_ll(sqlite3_stmt *st, int i, long long null)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? null : sqlite3_column_int64(st, i);
}

static int load_targets(const char *path, sqlite3 *db, struct report_run *r)
{
	char sql[512], c[5][64];
	sqlite3_stmt *st = NULL;
	int rc, err = 0;

	col_or_null(db, "targets", NULL, "k8s_version", c[0], sizeof(c[0]));
	col_or_null(db, "targets", NULL, "etcd_version", c[1], sizeof(c[1]));
	col_or_null(db, "targets", NULL, "cpu_ns", c[2], sizeof(c[2]));
	col_or_null(db, "targets", NULL, "samples", c[3], sizeof(c[3]));
	col_or_null(db, "targets", NULL, "started_ns", c[4], sizeof(c[4]));
	snprintf(sql, sizeof(sql), "SELECT id, pid, component, exe, go_version, main_path, "
		 "build_id, offsets_source, probes, attached_ns, exited_ns, %s, %s, %s, %s, %s "
		 "FROM targets WHERE run_id = ?1 ORDER BY id", c[0], c[1], c[2], c[3], c[4]);
	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return db_err(path, db, rc);
	sqlite3_bind_int64(st, 1, r->id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct report_target *t;
		void *np = grow(r->targets, r->ntargets, sizeof(*r->targets));

		if (!np) {
			cp_seterr("out of memory");
			err = -ENOMEM;
			break;
		}
		r->targets = np;
		t = &r->targets[r->ntargets++];
		memset(t, 0, sizeof(*t));
		t->id = col_ll(st, 0, REPORT_NULL);
		t->pid = col_ll(st, 1, REPORT_NULL);
		t->component = xstrdup(sqlite3_column_text(st, 2));
		t->exe = xstrdup(sqlite3_column_text(st, 3));
		t->go_version = xstrdup(sqlite3_column_text(st, 4));
		t->main_path = xstrdup(sqlite3_column_text(st, 5));
		t->build_id = xstrdup(sqlite3_column_text(st, 6));
		t->offsets_source = xstrdup(sqlite3_column_text(st, 7));
		t->probes = xstrdup(sqlite3_column_text(st, 8));
		t->attached_ns = col_ll(st, 9, REPORT_NULL);
		t->exited_ns = col_ll(st, 10, REPORT_NULL);
		t->k8s_version = xstrdup(sqlite3_column_text(st, 11));
		t->etcd_version = xstrdup(sqlite3_column_text(st, 12));
		t->cpu_ns = col_ll(st, 13, REPORT_NULL);
		t->samples = col_ll(st, 14, REPORT_NULL);
		t->started_ns = col_ll(st, 15, REPORT_NULL);
	}
	if (!err && rc != SQLITE_DONE)
		err = db_err(path, db, rc);
	sqlite3_finalize(st);
	return err;
}

/* The runs statement: every run, or the one labelled ?1; NULL with the error set. */
static sqlite3_stmt *runs_stmt(const char *path, sqlite3 *db, const char *label, bool listing,
			       int *err)
{
	static const char *const extra[] = { "nodes", "pods", "namespaces", "sample_hz",
					     "lost_samples", "cluster_source", "dropped_requests",
					     "dropped_rows", "drop_limit_bytes", "dropped_reason" };
	char sql[1024], c[10][64];
	sqlite3_stmt *st = NULL;
	int rc;

	for (int i = 0; i < 10; i++)
		col_or_null(db, "runs", NULL, extra[i], c[i], sizeof(c[i]));
	snprintf(sql, sizeof(sql), "SELECT id, label, kind, started_ns, ended_ns, host, kernel, "
		 "command, requests, lost_events, unmatched, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s "
		 "FROM runs%s ORDER BY id", c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8],
		 c[9], label ? " WHERE label = ?1" : "");
	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK) {
		if (!listing) {
			*err = db_err(path, db, rc);
		} else {
			if (sqlite3_errcode(db) == SQLITE_NOTADB ||
			    strstr(sqlite3_errmsg(db), "no such table"))
				cp_seterr("'%s' is not a cpprof database", path);
			else
				cp_seterr("'%s': %s", path, sqlite3_errmsg(db));
			*err = -EINVAL;
		}
		return NULL;
	}
	if (label)
		sqlite3_bind_text(st, 1, label, -1, SQLITE_STATIC);
	return st;
}

/* The row ST stands on into R. */
static int run_row(sqlite3_stmt *st, struct report_run *r)
{
	long long *extra[] = { &r->nodes, &r->pods, &r->namespaces, &r->sample_hz,
			       &r->lost_samples };

	r->id = sqlite3_column_int64(st, 0);
	r->label = xstrdup(sqlite3_column_text(st, 1));
	r->kind = xstrdup(sqlite3_column_text(st, 2));
	r->stored.started_ns = col_ll(st, 3, REPORT_NULL);
	r->stored.ended_ns = col_ll(st, 4, REPORT_NULL);
	r->host = xstrdup(sqlite3_column_text(st, 5));
	r->kernel = xstrdup(sqlite3_column_text(st, 6));
	r->command = xstrdup(sqlite3_column_text(st, 7));
	r->stored.requests = col_ll(st, 8, REPORT_NULL);
	r->stored.lost_events = col_ll(st, 9, REPORT_NULL);
	r->stored.unmatched = col_ll(st, 10, REPORT_NULL);
	for (int i = 0; i < 5; i++)
		*extra[i] = col_ll(st, 11 + i, -1);
	r->cluster_source = xstrdup(sqlite3_column_text(st, 16));
	r->dropped_requests = col_ll(st, 17, -1);
	r->dropped_rows = col_ll(st, 18, -1);
	r->drop_limit_bytes = col_ll(st, 19, -1);
	r->dropped_reason = xstrdup(sqlite3_column_text(st, 20));
	r->started_ns = sqlite3_column_int64(st, 3);
	r->ended_ns = col_ll(st, 4, -1);
	r->duration_ns = -1;
	r->slo_window_ns = REPORT_SLO_WINDOW_NS;
	if ((sqlite3_column_type(st, 1) != SQLITE_NULL && !r->label) ||
	    (sqlite3_column_type(st, 2) != SQLITE_NULL && !r->kind) ||
	    (sqlite3_column_type(st, 20) != SQLITE_NULL && !r->dropped_reason)) {
		cp_seterr("out of memory");
		return -ENOMEM;
	}
	return 0;
}

/*
 * WHAT of the sections over tables syscalls and sock_stats: the etcd WAL
 * fsync over the run (REPORT_LOAD_WAL), and per interval, syscalls per
 * target and clients served (REPORT_LOAD_SYS).
 */
static int load_sys(const char *path, sqlite3 *db, unsigned what, struct report_run *r)
{
	static const char by_target_sql[] =
		"SELECT s.component, s.syscall, s.target_id, coalesce(t.pid, 0), 0, 0, s.le_ns, "
		"sum(s.count), sum(s.sum_ns) FROM syscalls s LEFT JOIN targets t ON t.id = s.target_id "
		"WHERE s.run_id = ?1 GROUP BY 1, 2, 3, 4, 7 ORDER BY 1, 2, 3, 7";
	static const char wal_sql[] =
		"SELECT component, syscall, 0, 0, 0, 0, le_ns, sum(count), sum(sum_ns) FROM syscalls "
		"WHERE run_id = ?1 AND component = 'etcd' AND syscall IN ('fdatasync', 'fsync') "
		"GROUP BY 2, 7 ORDER BY 2, 7";
	static const char wal_iv_sql[] =
		"SELECT component, syscall, 0, 0, interval_start_ns, max(interval_ns), le_ns, "
		"sum(count), sum(sum_ns) FROM syscalls "
		"WHERE run_id = ?1 AND component = 'etcd' AND syscall IN ('fdatasync', 'fsync') "
		"GROUP BY 2, 5, 7 ORDER BY 2, 5, 7";
	struct sys_list tg = { 0 }, wal = { 0 }, iv = { 0 };
	int err = 0;

	if (!has_table(db, "syscalls"))
		goto clients;
	if (what & REPORT_LOAD_SYS) {
		err = sys_groups(path, db, by_target_sql, r->id, &tg);
		r->syscalls = tg.g;
		r->nsyscalls = tg.n;
	}
	if (!err && (what & (REPORT_LOAD_WAL | REPORT_LOAD_SYS))) {
		err = sys_groups(path, db, wal_sql, r->id, &wal);
		r->wal = wal.g;
		r->nwal = wal.n;
	}
	if (!err && (what & REPORT_LOAD_SYS)) {
		err = sys_groups(path, db, wal_iv_sql, r->id, &iv);
		r->wal_iv = iv.g;
		r->nwal_iv = iv.n;
	}
clients:
	if (!err && (what & REPORT_LOAD_SYS) && has_table(db, "sock_stats"))
		err = clients_rows(path, db, r->id, &r->clients, &r->nclients);
	return err;
}

/*
 * Stacks of run R (of COMPONENT only, unless NULL), summed over rows with
 * the same stack; with LABELS, summed only over rows that also share the
 * component, category and call kind (pprof's labels). Files made before
 * cpu_stacks had subresource and scope read them as ''.
 */
static int load_stacks(const char *path, sqlite3 *db, const char *component, bool labels,
		       struct report_run *r)
{
	char sub[32], scope[32], sql[1536];
	sqlite3_stmt *st = NULL;
	int rc, err = 0;
	bool lines;

	if (!has_table(db, "cpu_stacks")) {
		cp_seterr("'%s' has no CPU stacks (recorded by a cpprof without CPU sampling)", path);
		return -ENOENT;
	}
	col_or_null(db, "cpu_stacks", NULL, "subresource", sub, sizeof(sub));
	col_or_null(db, "cpu_stacks", NULL, "scope", scope, sizeof(scope));
	/*
	 * The frames' file:line (cpu_functions.file, line, inlined, made by
	 * cpprof since issue 17) only for pprof's labelled stacks: rows of one
	 * folded stack at different lines stay apart, grouped by the frames'
	 * positions as the cpu_stacks view groups by their names.
	 */
	lines = labels && has_column(db, "cpu_functions", "file");
	if (lines)
		snprintf(sql, sizeof(sql),
			 "SELECT stack, sum(samples), sum(cpu_ns), component, category, verb, resource, "
			 "sub, sc, lines FROM (SELECT "
			 "(SELECT group_concat((SELECT name FROM cpu_functions WHERE id = j.value), ';') "
			 "FROM json_each(t.frames) j) AS stack, "
			 "(SELECT group_concat((SELECT ifnull(inlined, 0) || char(9) || ifnull(line, 0) "
			 "|| char(9) || ifnull(file, '') FROM cpu_functions WHERE id = j.value), char(10)) "
			 "FROM json_each(t.frames) j) AS lines, "
			 "s.samples AS samples, s.cpu_ns AS cpu_ns, s.component AS component, "
			 "s.category AS category, s.verb AS verb, s.resource AS resource, "
			 "ifnull(s.subresource, '') AS sub, ifnull(s.scope, '') AS sc "
			 "FROM cpu_stack_samples s JOIN cpu_stack_ids t ON t.id = s.stack_id "
			 "WHERE s.run_id = ?1%s) GROUP BY stack, lines, component, category, verb, "
			 "resource, sub, sc ORDER BY stack, lines, component, category, verb, resource, "
			 "sub, sc", component ? " AND s.component = ?2" : "");
	else if (labels)
		snprintf(sql, sizeof(sql),
			 "SELECT stack, sum(samples), sum(cpu_ns), component, category, verb, resource, "
			 "ifnull(%s, '') AS sub, ifnull(%s, '') AS sc FROM cpu_stacks "
			 "WHERE run_id = ?1%s GROUP BY stack, component, category, verb, resource, "
			 "sub, sc ORDER BY stack, component, category, verb, resource, sub, sc",
			 sub, scope, component ? " AND component = ?2" : "");
	else
		snprintf(sql, sizeof(sql),
			 "SELECT stack, sum(samples), sum(cpu_ns) FROM cpu_stacks WHERE run_id = ?1%s "
			 "GROUP BY stack ORDER BY stack", component ? " AND component = ?2" : "");
	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return db_err(path, db, rc);
	sqlite3_bind_int64(st, 1, r->id);
	if (component)
		sqlite3_bind_text(st, 2, component, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const unsigned char *s = sqlite3_column_text(st, 0);
		long long n = sqlite3_column_int64(st, 1);
		struct report_stack *k;
		void *np;

		if (!s || !*s || n <= 0)
			continue;
		if (!(np = grow(r->stacks, r->nstacks, sizeof(*r->stacks)))) {
			err = -ENOMEM;
			break;
		}
		r->stacks = np;
		k = &r->stacks[r->nstacks++];
		memset(k, 0, sizeof(*k));
		k->samples = n;
		k->cpu_ns = sqlite3_column_int64(st, 2);
		if (!(k->stack = xstrdup(s))) {
			err = -ENOMEM;
			break;
		}
		if (!labels)
			continue;
		for (int c = 0; c < REPORT_STACK_NLABELS; c++) {
			const unsigned char *v = sqlite3_column_text(st, 3 + c);

			if (!(k->labels[c] = xstrdup(v ? v : (const unsigned char *)""))) {
				err = -ENOMEM;
				break;
			}
		}
		if (err)
			break;
		if (lines && sqlite3_column_text(st, 9) &&
		    !(k->lines = xstrdup(sqlite3_column_text(st, 9)))) {
			err = -ENOMEM;
			break;
		}
	}
	if (err)
		cp_seterr("out of memory");
	else if (rc != SQLITE_DONE)
		err = db_err(path, db, rc);
	sqlite3_finalize(st);
	return err;
}

/* Everything OPTS asks for of the run R (its row already read). */
static int load_run(const char *path, sqlite3 *db, const struct report_model_opts *o,
		    struct report_run *r)
{
	struct calls_out co = { 0 };
	int err = 0;

	if (!(r->db = strdup(path))) {
		cp_seterr("out of memory");
		return -ENOMEM;
	}
	if (o->what & REPORT_LOAD_CALLS) {
		err = run_calls(path, db, r->id, r->started_ns, r->ended_ns, &co);
		if (err)
			return err;
		r->calls = co.calls;
		r->ncalls = co.n;
		r->duration_ns = co.dur_ns;
		r->timeline_window_ns = co.tl_ns;
		for (size_t i = 0; i < r->ncalls; i++)
			r->requests += r->calls[i].count;
	}
	if ((err = load_targets(path, db, r)))
		return err;
	if ((o->what & REPORT_LOAD_CPU) &&
	    (err = load_cpu(path, db, r->id, r->calls, r->ncalls, &r->cpu)))
		return err;
	if ((o->what & (REPORT_LOAD_WAL | REPORT_LOAD_SYS)) && (err = load_sys(path, db, o->what, r)))
		return err;
	if (o->what & (REPORT_LOAD_STACKS | REPORT_LOAD_STACK_LABELS))
		err = load_stacks(path, db, o->component, o->what & REPORT_LOAD_STACK_LABELS, r);
	if (!err && (o->what & REPORT_LOAD_METRICS))
		err = report_metrics__load(path, db, r);
	if (!err && (o->what & REPORT_LOAD_BREAKDOWN) && has_table(db, "request_breakdown"))
		err = report_breakdown__load(path, db, r);
	return err;
}

/* `cpprof runs` opens any readable SQLite file and names problems its own way. */
static int open_listing(const char *path, sqlite3 **dbp)
{
	sqlite3 *db = NULL;
	int rc;

	*dbp = NULL;
	if (access(path, R_OK) != 0) {
		cp_seterr("'%s': %s", path, strerror(errno));
		return -errno;
	}
	rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL);
	if (rc != SQLITE_OK) {
		cp_seterr("'%s': %s", path, db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return -EIO;
	}
	sqlite3_busy_timeout(db, 5000);
	*dbp = db;
	return 0;
}

/* Read the runs of ST (every run, or LABEL's) into M. */
static int load_runs(const char *path, sqlite3 *db, const char *label,
		     const struct report_model_opts *o, struct report_model *m)
{
	sqlite3_stmt *st;
	int rc, err = 0;

	if (!(st = runs_stmt(path, db, label, o->listing, &err)))
		return err;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct report_run *r;
		void *np = grow(m->runs, m->nruns, sizeof(*m->runs));

		if (!np) {
			cp_seterr("out of memory");
			err = -ENOMEM;
			break;
		}
		m->runs = np;
		r = &m->runs[m->nruns++];
		memset(r, 0, sizeof(*r));
		if ((err = run_row(st, r)) || (err = load_run(path, db, o, r)))
			break;
	}
	if (!err && rc != SQLITE_DONE) {
		err = o->listing ? -EIO : db_err(path, db, rc);
		if (o->listing)
			cp_seterr("'%s': %s", path, sqlite3_errmsg(db));
	}
	sqlite3_finalize(st);
	return err;
}

struct report_model *report_model__load(const char *db_path, const char *label,
					const struct report_model_opts *o, int *errp)
{
	struct report_model *m = NULL;
	sqlite3 *db = NULL;
	long long run_id;
	int err;

	err = o->listing ? open_listing(db_path, &db) : open_db(db_path, &db);
	if (err)
		goto out;
	/* One snapshot for everything below, even while a recorder appends. */
	if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK && !o->listing) {
		err = db_err(db_path, db, sqlite3_errcode(db));
		goto out;
	}
	if (!(m = calloc(1, sizeof(*m))) || !(m->db = strdup(db_path))) {
		cp_seterr("out of memory");
		err = -ENOMEM;
		goto out;
	}
	if (o->one_run) {
		/* Names the run (LABEL or the only one), or says how to. */
		if ((err = find_run(db_path, db, label, o->how, &run_id)))
			goto out;
	}
	err = load_runs(db_path, db, label, o, m);
	if (!err && label && !m->nruns)
		err = no_such_label(db_path, db, label);
out:
	if (db) {
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
		sqlite3_close(db);
	}
	if (err) {
		report_model__free(m);
		m = NULL;
	}
	*errp = err;
	return m;
}

void report_model__run_clear(struct report_run *r)
{
	if (!r)
		return;
	free(r->db);
	free(r->label);
	free(r->kind);
	free(r->host);
	free(r->kernel);
	free(r->command);
	free(r->cluster_source);
	free(r->dropped_reason);
	for (size_t i = 0; i < r->ntargets; i++) {
		struct report_target *t = &r->targets[i];

		free(t->component);
		free(t->exe);
		free(t->go_version);
		free(t->k8s_version);
		free(t->etcd_version);
		free(t->main_path);
		free(t->build_id);
		free(t->offsets_source);
		free(t->probes);
		free(t->host);
	}
	free(r->targets);
	for (size_t i = 0; i < r->nhosts; i++)
		report_model__run_clear(&r->hosts[i]);
	free(r->hosts);
	report_model__calls_free(r->calls, r->ncalls);
	cpu_free(r->cpu);
	free(r->wal);
	free(r->wal_iv);
	free(r->syscalls);
	free(r->clients);
	for (size_t i = 0; i < r->nstacks; i++) {
		free(r->stacks[i].stack);
		free(r->stacks[i].lines);
		for (int c = 0; c < REPORT_STACK_NLABELS; c++)
			free(r->stacks[i].labels[c]);
	}
	report_metrics__free(r->metrics);
	report_breakdown__free(r->bd, r->nbd);
	cl2__free(r->cl2);
	free(r->stacks);
	memset(r, 0, sizeof(*r));
}

void report_model__free(struct report_model *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->nruns; i++)
		report_model__run_clear(&m->runs[i]);
	free(m->runs);
	free(m->db);
	for (size_t i = 0; i < m->nfiles; i++)
		free(m->files[i]);
	free(m->files);
	free(m);
}

/* ---------- several files: one run across the masters ---------- */

/*
 * An HA control plane has several masters, each recording its own file.
 * report_model__load_many reads them as one model: each file's run is read
 * as that file alone would be (its row, targets, CPU, syscalls, metrics
 * cross-checks: report_run.hosts), with its calls' windows counted from the
 * merged start, and the merged run is the union. Nothing that is not a sum
 * is averaged: pass 1 of every file adds into one set of accumulators
 * (counts, errors, histograms, windows), and pass 2 reads the files'
 * sorted latencies side by side, merging them like sorted runs, so p50,
 * p90 and p99 are the nearest ranks over the union of the requests, and
 * each host's own percentiles come out of the same pass.
 */

/* One file of several: its connection and its runs (rows; loaded when merged). */
struct mfile {
	const char *path;
	sqlite3 *db;
	struct report_run *runs;
	size_t nruns;
};

static void mfile_close(struct mfile *f)
{
	for (size_t i = 0; i < f->nruns; i++)
		report_model__run_clear(&f->runs[i]);
	free(f->runs);
	if (f->db) {
		sqlite3_exec(f->db, "COMMIT", NULL, NULL, NULL);
		sqlite3_close(f->db);
	}
}

/* The rows of F's runs (LABEL's, or every run), nothing else read yet. */
static int mfile_rows(struct mfile *f, const char *label)
{
	sqlite3_stmt *st;
	int rc, err = 0;

	if (!(st = runs_stmt(f->path, f->db, label, false, &err)))
		return err;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct report_run *np = realloc(f->runs, (f->nruns + 1) * sizeof(*np));

		if (!np) {
			cp_seterr("out of memory");
			err = -ENOMEM;
			break;
		}
		f->runs = np;
		memset(&f->runs[f->nruns], 0, sizeof(*np));
		if ((err = run_row(st, &f->runs[f->nruns++])))
			break;
	}
	if (!err && rc != SQLITE_DONE)
		err = db_err(f->path, f->db, rc);
	sqlite3_finalize(st);
	if (!err && label && !f->nruns)
		err = no_such_label(f->path, f->db, label);
	return err;
}

static ssize_t mfile_find(const struct mfile *f, const char *label)
{
	for (size_t i = 0; i < f->nruns; i++)
		if (f->runs[i].label && label && strcmp(f->runs[i].label, label) == 0)
			return (ssize_t)i;
	return -1;
}

/* "run 'x' of 'a.db' is not in 'b.db' (runs: ...)" */
static int run_missing(const struct mfile *has, const struct mfile *lacks, const char *label)
{
	char list[256];

	list_labels(lacks->db, list, sizeof(list));
	cp_seterr("run '%s' of '%s' is not in '%s' (runs: %s); every file needs the run: choose "
		  "one with --label, or name each file's as FILE:LABEL", label, has->path,
		  lacks->path, list);
	return -ENOENT;
}

/*
 * Pair the runs of the N files: the files' only runs (each holds one), or
 * runs by label, each file's put in the order of the first file's.
 */
static int match_runs(struct mfile *f, size_t n, const struct report_model_opts *o,
		      size_t *nlog)
{
	bool all_one = true;
	long long id;

	for (size_t i = 0; i < n; i++) {
		if (!f[i].nruns) {
			cp_seterr("'%s' holds no runs", f[i].path);
			return -ENOENT;
		}
		all_one &= f[i].nruns == 1;
	}
	*nlog = 1;
	if (all_one)
		return 0;
	for (size_t i = 0; i < n; i++)   /* says "holds 3 runs (a, b, c); HOW" */
		if (o->one_run && f[i].nruns > 1)
			return find_run(f[i].path, f[i].db, NULL, o->how, &id);
	for (size_t i = 1; i < n; i++) {
		for (size_t k = 0; k < f[0].nruns; k++) {
			ssize_t j = mfile_find(&f[i], f[0].runs[k].label);
			struct report_run t;

			if (j < 0)
				return run_missing(&f[0], &f[i], f[0].runs[k].label);
			t = f[i].runs[k];
			f[i].runs[k] = f[i].runs[j];
			f[i].runs[j] = t;
		}
		for (size_t k = f[0].nruns; k < f[i].nruns; k++)
			return run_missing(&f[i], &f[0], f[i].runs[k].label);
	}
	*nlog = f[0].nruns;
	return 0;
}

static char *sdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* The distinct non-NULL strings at offset OFF of the N runs, joined with SEP; NULL if none. */
static char *join_runs(const struct report_run *r, size_t n, size_t off, const char *sep)
{
	size_t len = 1;
	char *out;

	for (size_t i = 0; i < n; i++) {
		const char *s = *(char *const *)((const char *)&r[i] + off);

		len += s ? strlen(s) + strlen(sep) : 0;
	}
	if (!(out = calloc(1, len)))
		return NULL;
	for (size_t i = 0; i < n; i++) {
		const char *s = *(char *const *)((const char *)&r[i] + off);
		bool seen = false;

		for (size_t j = 0; s && j < i; j++) {
			const char *p = *(char *const *)((const char *)&r[j] + off);

			seen |= p && strcmp(p, s) == 0;
		}
		if (!s || seen)
			continue;
		if (*out)
			strcat(out, sep);
		strcat(out, s);
	}
	if (!*out) {
		free(out);
		return NULL;
	}
	return out;
}

/* The next latency of cursor C, which must have one (the file changed if not). */
struct rcur {
	sqlite3_stmt *st;
	const char *path;
	struct report_call *k;       /* the host's call of the group; NULL: none */
	size_t j;                    /* the host's next call */
	long long c, i, v;
};

static int rcur_step(struct rcur *c, sqlite3 *db)
{
	int rc = sqlite3_step(c->st);

	if (rc == SQLITE_ROW) {
		c->v = sqlite3_column_int64(c->st, 0);
		return 0;
	}
	if (rc != SQLITE_DONE)
		return db_err(c->path, db, rc);
	cp_seterr("'%s': fewer requests than counted; the file changed while reading", c->path);
	return -EIO;
}

/* Pass 2 over N files at once: the merged run's percentiles and every host's. */
static int ranks_merged(struct mfile *f, size_t n, struct report_run *m)
{
	struct rcur *cur = calloc(n, sizeof(*cur));
	int err = 0;

	if (!cur) {
		cp_seterr("out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < n && !err; i++) {
		int rc = sqlite3_prepare_v2(f[i].db, RANK_SQL, -1, &cur[i].st, NULL);

		cur[i].path = f[i].path;
		if (rc != SQLITE_OK)
			err = db_err(f[i].path, f[i].db, rc);
		else
			sqlite3_bind_int64(cur[i].st, 1, m->hosts[i].id);
	}
	for (size_t g = 0; g < m->ncalls && !err; g++) {
		struct report_call *k = &m->calls[g];
		long long r50 = rank(k->count, 50), r90 = rank(k->count, 90);
		long long r99 = rank(k->count, 99);

		for (size_t i = 0; i < n && !err; i++) {
			const struct report_run *h = &m->hosts[i];
			struct rcur *c = &cur[i];

			c->k = NULL;
			c->c = c->i = 0;
			while (c->j < h->ncalls && key_cmp(&h->calls[c->j], k) < 0)
				c->j++;
			if (c->j < h->ncalls && key_cmp(&h->calls[c->j], k) == 0) {
				c->k = &h->calls[c->j++];
				c->c = c->k->count;
				err = rcur_step(c, f[i].db);
			}
		}
		for (long long i = 1; i <= k->count && !err; i++) {
			struct rcur *best = NULL;
			size_t bi = 0;

			for (size_t j = 0; j < n; j++)
				if (cur[j].i < cur[j].c && (!best || cur[j].v < best->v))
					best = &cur[j], bi = j;
			if (!best) {
				cp_seterr("'%s': fewer requests than counted; the file changed while "
					  "reading", f[0].path);
				err = -EIO;
				break;
			}
			if (i == r50)
				k->p50_ns = best->v;
			if (i == r90)
				k->p90_ns = best->v;
			if (i == r99)
				k->p99_ns = best->v;
			best->i++;
			if (best->i == rank(best->c, 50))
				best->k->p50_ns = best->v;
			if (best->i == rank(best->c, 90))
				best->k->p90_ns = best->v;
			if (best->i == rank(best->c, 99))
				best->k->p99_ns = best->v;
			if (best->i < best->c)
				err = rcur_step(best, f[bi].db);
		}
	}
	for (size_t i = 0; i < n; i++)
		sqlite3_finalize(cur[i].st);
	free(cur);
	return err;
}

/*
 * The bucket of GROUP's histogram H (of COUNT latencies) holding the nearest
 * rank of percentile P, and the rank within it; the bucket is added to X's
 * list if new.
 */
static void rank_bucket_of(struct call_ranks *x, const __u64 *h, long long count, int p,
			   __u32 *bucket, long long *within)
{
	long long r = rank(count, p), cum = 0;
	__u32 b = 0;
	int j;

	while (b < LOGHIST_NBUCKETS - 1 && cum + (long long)h[b] < r)
		cum += (long long)h[b++];
	*bucket = b;
	*within = r - cum;
	for (j = 0; j < x->nrb && x->rb[j].b != b; j++)
		;
	if (j == x->nrb)
		x->rb[x->nrb++].b = b;
}

static const struct rank_bucket *bucket_find(const struct call_ranks *x, __u32 b)
{
	for (int j = 0; j < x->nrb; j++)
		if (x->rb[j].b == b)
			return &x->rb[j];
	return NULL;
}

/*
 * Pass 2 over N version 2 files, as ranks_v2 does for one: the merged
 * histogram (the sum of the hosts') names the bucket holding each merged
 * rank, and each host's own histogram its own. One scan of each file keeps
 * the latencies of those buckets only; the merged value is then the
 * within-bucket rank of the union of the hosts' bucket rows. No file is
 * sorted, and memory is those buckets' rows.
 */
static int ranks_merged_v2(struct mfile *f, size_t n, struct report_run *m)
{
	const int pct[3] = { 50, 90, 99 };
	struct call_ranks **cr = calloc(n, sizeof(*cr));
	size_t *hj = calloc(n, sizeof(*hj));
	long long *vals = NULL;
	size_t cap = 0;
	int err = 0;

	if (!cr || !hj)
		goto nomem;
	for (size_t i = 0; i < n; i++) {
		const struct report_run *h = &m->hosts[i];
		struct kinds ks;

		if (!(cr[i] = calloc(m->ncalls ? m->ncalls : 1, sizeof(**cr))))
			goto nomem;
		for (size_t g = 0; g < m->ncalls; g++) {
			const struct report_call *k = &m->calls[g];
			__u32 b;
			long long w;

			for (int p = 0; p < 3; p++)
				rank_bucket_of(&cr[i][g], k->hist, k->count, pct[p], &b, &w);
		}
		for (size_t j = 0; j < h->ncalls; j++) {
			const struct report_call *hc = &h->calls[j];
			const struct report_call *k = m->ncalls ?
				bsearch(hc, m->calls, m->ncalls, sizeof(*k), call_cmp) : NULL;
			__u32 b;
			long long w;

			for (int p = 0; k && p < 3; p++)
				rank_bucket_of(&cr[i][k - m->calls], hc->hist, hc->count, pct[p], &b, &w);
		}
		if ((err = kinds_load(f[i].path, f[i].db, h->id, &ks)))
			goto out;
		for (size_t j = 0; j < ks.n; j++) {
			struct kind *kk = &ks.k[j];
			struct report_call key = {
				.component = kk->cols[0], .verb = kk->cols[1], .resource = kk->cols[2],
				.subresource = kk->cols[3], .scope = kk->cols[4], .path = kk->cols[5],
			};
			const struct report_call *c = m->ncalls ?
				bsearch(&key, m->calls, m->ncalls, sizeof(*c), call_cmp) : NULL;

			kk->call = c ? (size_t)(c - m->calls) : (size_t)-1;
		}
		err = rank_rows(f[i].path, f[i].db, &ks, cr[i], ks.lo, ks.hi);
		kinds_free(&ks);
		if (err)
			goto out;
		for (size_t g = 0; g < m->ncalls; g++)
			for (int j = 0; j < cr[i][g].nrb; j++)   /* a merged rank's bucket may be empty here */
				if (cr[i][g].rb[j].n > 1)
					qsort(cr[i][g].rb[j].v, cr[i][g].rb[j].n, sizeof(long long), ll_cmp);
	}
	for (size_t g = 0; g < m->ncalls; g++) {
		struct report_call *k = &m->calls[g];
		long long *out[3] = { &k->p50_ns, &k->p90_ns, &k->p99_ns };

		for (int p = 0; p < 3; p++) {
			struct call_ranks scratch = { 0 };
			long long w;
			size_t tot = 0;
			__u32 b;

			rank_bucket_of(&scratch, k->hist, k->count, pct[p], &b, &w);
			for (size_t i = 0; i < n; i++) {
				const struct rank_bucket *q = bucket_find(&cr[i][g], b);

				tot += q ? q->n : 0;
			}
			if ((size_t)w > tot)
				goto changed;
			if (tot > cap) {
				long long *nv = realloc(vals, tot * sizeof(*nv));

				if (!nv)
					goto nomem;
				vals = nv;
				cap = tot;
			}
			tot = 0;
			for (size_t i = 0; i < n; i++) {
				const struct rank_bucket *q = bucket_find(&cr[i][g], b);

				if (q && q->n)
					memcpy(vals + tot, q->v, q->n * sizeof(*vals));
				tot += q ? q->n : 0;
			}
			qsort(vals, tot, sizeof(*vals), ll_cmp);
			*out[p] = vals[w - 1];
		}
		/* each host's own percentiles of the group, from its own buckets */
		for (size_t i = 0; i < n; i++) {
			struct report_run *h = &m->hosts[i];
			struct report_call *hc;

			while (hj[i] < h->ncalls && key_cmp(&h->calls[hj[i]], k) < 0)
				hj[i]++;
			if (hj[i] == h->ncalls || key_cmp(&h->calls[hj[i]], k) != 0)
				continue;
			hc = &h->calls[hj[i]++];
			long long *hout[3] = { &hc->p50_ns, &hc->p90_ns, &hc->p99_ns };
			for (int p = 0; p < 3; p++) {
				struct call_ranks scratch = { 0 };
				const struct rank_bucket *q;
				long long w;
				__u32 b;

				rank_bucket_of(&scratch, hc->hist, hc->count, pct[p], &b, &w);
				q = bucket_find(&cr[i][g], b);
				if (!q || (size_t)w > q->n)
					goto changed;
				*hout[p] = q->v[w - 1];
			}
		}
	}
out:
	for (size_t i = 0; cr && i < n; i++)
		ranks_free(cr[i], m->ncalls);
	free(cr);
	free(hj);
	free(vals);
	return err;
changed:
	cp_seterr("'%s': fewer requests than counted; the file changed while reading", f[0].path);
	err = -EIO;
	goto out;
nomem:
	cp_seterr("out of memory");
	err = -ENOMEM;
	goto out;
}

/* The calls of the merged run M and of each of its hosts (both passes over every file). */
static int merge_calls(struct mfile *f, size_t n, struct report_run *m)
{
	struct accs sum = { .started_ns = m->started_ns };
	struct calls_out co = { 0 };
	long long end = -1;
	int err = 0;

	/* the span of all the hosts' runs: first start to last end (or last request's end) */
	for (size_t i = 0; i < n && !err; i++) {
		struct report_run *h = &m->hosts[i];

		err = run_duration(f[i].path, f[i].db, h->id, h->started_ns, h->ended_ns,
				   &h->duration_ns);
		if (!err && h->duration_ns >= 0 && h->started_ns + h->duration_ns > end)
			end = h->started_ns + h->duration_ns;
	}
	co.dur_ns = end >= 0 ? end - m->started_ns : -1;
	co.tl_ns = sum.tl_ns = timeline_window(co.dur_ns);
	for (size_t i = 0; i < n && !err; i++) {
		struct report_run *h = &m->hosts[i];
		struct calls_out hc = { .dur_ns = co.dur_ns, .tl_ns = co.tl_ns };

		struct kinds ks = {};
		bool v2 = has_table(f[i].db, "request_rows");

		/* schema version 2: the narrow rows through their kinds, as for one file */
		if (v2)
			err = kinds_load(f[i].path, f[i].db, h->id, &ks);
		if (!err)
			err = pass_windows(f[i].path, f[i].db, h->id, m->started_ns, v2 ? &ks : NULL, &hc, &sum);
		if (v2)
			kinds_free(&ks);
		h->calls = hc.calls;
		h->ncalls = hc.n;
		h->timeline_window_ns = hc.tl_ns;
		for (size_t j = 0; j < h->ncalls; j++)
			h->requests += h->calls[j].count;
	}
	if (!err)
		err = accs_finish(&sum, m->started_ns, &co);
	accs_free(&sum);
	m->calls = co.calls;
	m->ncalls = co.n;
	m->duration_ns = co.dur_ns;
	m->timeline_window_ns = co.tl_ns;
	for (size_t j = 0; j < m->ncalls; j++)
		m->requests += m->calls[j].count;
	if (err)
		return err;
	for (size_t i = 0; i < n; i++)
		if (!has_table(f[i].db, "request_rows"))
			return ranks_merged(f, n, m);   /* a version 1 file: sorted through its index */
	return ranks_merged_v2(f, n, m);
}

static int merge_targets(struct report_run *m)
{
	size_t n = 0;

	for (size_t i = 0; i < m->nhosts; i++)
		n += m->hosts[i].ntargets;
	if (n && !(m->targets = calloc(n, sizeof(*m->targets))))
		return -ENOMEM;
	for (size_t i = 0; i < m->nhosts; i++) {
		const struct report_run *h = &m->hosts[i];

		for (size_t j = 0; j < h->ntargets; j++) {
			const struct report_target *t = &h->targets[j];
			struct report_target *d = &m->targets[m->ntargets++];

			*d = *t;
			d->component = sdup(t->component);
			d->exe = sdup(t->exe);
			d->go_version = sdup(t->go_version);
			d->k8s_version = sdup(t->k8s_version);
			d->etcd_version = sdup(t->etcd_version);
			d->main_path = sdup(t->main_path);
			d->build_id = sdup(t->build_id);
			d->offsets_source = sdup(t->offsets_source);
			d->probes = sdup(t->probes);
			d->host = sdup(str_or(h->host, h->db));
			if (!d->host)
				return -ENOMEM;
		}
	}
	return 0;
}

static int cat_cmp(const void *a, const void *b)
{
	const struct report_cpu_cat *x = a, *y = b;

	if (x->cpu_ns != y->cpu_ns)
		return x->cpu_ns > y->cpu_ns ? -1 : 1;
	return strcmp(x->category, y->category);
}

static int comp_cmp(const void *a, const void *b)
{
	return strcmp(((const struct report_cpu_comp *)a)->component,
		      ((const struct report_cpu_comp *)b)->component);
}

static bool ser_eq(const struct report_ser *a, const struct report_ser *b)
{
	return !strcmp(a->component, b->component) && !strcmp(a->verb, b->verb) &&
	       !strcmp(a->resource, b->resource) && !strcmp(a->subresource, b->subresource) &&
	       !strcmp(a->scope, b->scope);
}

/* Sampled CPU of every host, summed per component, category and call kind. */
static int merge_cpu(struct report_run *m)
{
	struct report_cpu *cpu = NULL;

	for (size_t i = 0; i < m->nhosts; i++) {
		const struct report_cpu *hc = m->hosts[i].cpu;

		if (!hc)
			continue;
		if (!cpu && !(m->cpu = cpu = calloc(1, sizeof(*cpu))))
			return -ENOMEM;
		for (size_t j = 0; j < hc->ncomps; j++) {
			const struct report_cpu_comp *s = &hc->comps[j];
			struct report_cpu_comp *d = NULL;

			for (size_t x = 0; x < cpu->ncomps && !d; x++)
				if (!strcmp(cpu->comps[x].component, s->component))
					d = &cpu->comps[x];
			if (!d) {
				void *np = realloc(cpu->comps, (cpu->ncomps + 1) * sizeof(*d));

				if (!np)
					return -ENOMEM;
				cpu->comps = np;
				d = &cpu->comps[cpu->ncomps++];
				memset(d, 0, sizeof(*d));
				d->kernel_cpu_ns = -1;
				if (!(d->component = strdup(s->component)))
					return -ENOMEM;
			}
			d->samples += s->samples;
			d->cpu_ns += s->cpu_ns;
			d->ser_ns += s->ser_ns;
			d->unknown_ns += s->unknown_ns;
			if (s->kernel_cpu_ns >= 0)
				d->kernel_cpu_ns = (d->kernel_cpu_ns < 0 ? 0 : d->kernel_cpu_ns) +
						   s->kernel_cpu_ns;
			for (size_t y = 0; y < s->ncats; y++) {
				struct report_cpu_cat *c = NULL;

				for (size_t x = 0; x < d->ncats && !c; x++)
					if (!strcmp(d->cats[x].category, s->cats[y].category))
						c = &d->cats[x];
				if (!c) {
					void *np = realloc(d->cats, (d->ncats + 1) * sizeof(*c));

					if (!np)
						return -ENOMEM;
					d->cats = np;
					c = &d->cats[d->ncats++];
					memset(c, 0, sizeof(*c));
					if (!(c->category = strdup(s->cats[y].category)))
						return -ENOMEM;
				}
				c->samples += s->cats[y].samples;
				c->cpu_ns += s->cats[y].cpu_ns;
			}
		}
		for (size_t j = 0; j < hc->nser; j++) {
			const struct report_ser *s = &hc->ser[j];
			struct report_ser *d = NULL;

			for (size_t x = 0; x < cpu->nser && !d; x++)
				if (ser_eq(&cpu->ser[x], s))
					d = &cpu->ser[x];
			if (!d) {
				void *np = realloc(cpu->ser, (cpu->nser + 1) * sizeof(*d));

				if (!np)
					return -ENOMEM;
				cpu->ser = np;
				d = &cpu->ser[cpu->nser++];
				memset(d, 0, sizeof(*d));
				d->component = strdup(s->component);
				d->verb = strdup(s->verb);
				d->resource = strdup(s->resource);
				d->subresource = strdup(s->subresource);
				d->scope = strdup(s->scope);
				if (!d->component || !d->verb || !d->resource || !d->subresource ||
				    !d->scope)
					return -ENOMEM;
			}
			d->ser_ns += s->ser_ns;
			d->requests += s->requests;
		}
	}
	if (!cpu)
		return 0;
	for (size_t x = 0; x < cpu->ncomps; x++)
		if (cpu->comps[x].ncats)
			qsort(cpu->comps[x].cats, cpu->comps[x].ncats, sizeof(*cpu->comps[x].cats),
			      cat_cmp);
	if (cpu->ncomps)
		qsort(cpu->comps, cpu->ncomps, sizeof(*cpu->comps), comp_cmp);
	if (cpu->nser)
		qsort(cpu->ser, cpu->nser, sizeof(*cpu->ser), ser_cmp);
	return 0;
}

static int sys_iv_cmp(const void *a, const void *b)
{
	const struct report_sys *x = a, *y = b;
	int r = strcmp(x->syscall, y->syscall);

	return r ? r : x->start_ns < y->start_ns ? -1 : x->start_ns > y->start_ns;
}

static int stack_cmp(const void *a, const void *b)
{
	return strcmp(((const struct report_stack *)a)->stack,
		      ((const struct report_stack *)b)->stack);
}

/* Append the N items of SIZE at SRC to *DST (*DN of them). */
static int append(void *dst, size_t *dn, const void *src, size_t n, size_t size)
{
	void **d = dst;
	char *np;

	if (!n)
		return 0;
	if (!(np = realloc(*d, (*dn + n) * size)))
		return -ENOMEM;
	memcpy(np + *dn * size, src, n * size);
	*d = np;
	*dn += n;
	return 0;
}

/*
 * The WAL fsync merged per syscall, its intervals and the syscalls per
 * target side by side (each host's own, in time and target order), the
 * clients served summed per component, the CPU stacks summed per stack.
 */
static int merge_sys(struct report_run *m)
{
	for (size_t i = 0; i < m->nhosts; i++) {
		const struct report_run *h = &m->hosts[i];

		for (size_t j = 0; j < h->nwal; j++) {
			struct report_sys *d = NULL;

			for (size_t x = 0; x < m->nwal && !d; x++)
				if (!strcmp(m->wal[x].syscall, h->wal[j].syscall))
					d = &m->wal[x];
			if (!d) {
				if (append(&m->wal, &m->nwal, &h->wal[j], 1, sizeof(*d)))
					return -ENOMEM;
				continue;
			}
			loghist__merge(d->hist, h->wal[j].hist);
			d->sum_ns += h->wal[j].sum_ns;
		}
		if (append(&m->wal_iv, &m->nwal_iv, h->wal_iv, h->nwal_iv, sizeof(*h->wal_iv)) ||
		    append(&m->syscalls, &m->nsyscalls, h->syscalls, h->nsyscalls,
			   sizeof(*h->syscalls)))
			return -ENOMEM;
		/* target ids and pids are per host: say whose */
		for (size_t j = m->nsyscalls - h->nsyscalls; j < m->nsyscalls; j++)
			m->syscalls[j].host = str_or(h->host, h->db);
		for (size_t j = 0; j < h->nclients; j++) {
			const struct report_client *s = &h->clients[j];
			struct report_client *d = NULL;

			for (size_t x = 0; x < m->nclients && !d; x++)
				if (!strcmp(m->clients[x].component, s->component))
					d = &m->clients[x];
			if (!d) {
				if (append(&m->clients, &m->nclients, s, 1, sizeof(*s)))
					return -ENOMEM;
				continue;
			}
			d->accepted += s->accepted;
			d->closed += s->closed;
			d->peers_max = s->peers_max > d->peers_max ? s->peers_max : d->peers_max;
			d->bytes_in += s->bytes_in;
			d->bytes_out += s->bytes_out;
			d->retransmits += s->retransmits;
			d->intervals += s->intervals;
		}
		for (size_t j = 0; j < h->nstacks; j++) {
			struct report_stack s = { .stack = strdup(h->stacks[j].stack),
						  .samples = h->stacks[j].samples };

			if (!s.stack || append(&m->stacks, &m->nstacks, &s, 1, sizeof(s))) {
				free(s.stack);
				return -ENOMEM;
			}
		}
	}
	for (size_t x = 0; x < m->nwal; x++)
		sys_finish(&m->wal[x]);
	if (m->nwal_iv)
		qsort(m->wal_iv, m->nwal_iv, sizeof(*m->wal_iv), sys_iv_cmp);
	if (m->nstacks) {
		size_t o = 0;

		qsort(m->stacks, m->nstacks, sizeof(*m->stacks), stack_cmp);
		for (size_t x = 1; x < m->nstacks; x++) {
			if (!strcmp(m->stacks[o].stack, m->stacks[x].stack)) {
				m->stacks[o].samples += m->stacks[x].samples;
				free(m->stacks[x].stack);
			} else {
				m->stacks[++o] = m->stacks[x];
			}
		}
		m->nstacks = o + 1;
	}
	return 0;
}

/* A stored integer summed over the hosts: NULL only if NULL in every one. */
static long long sum_stored(const struct report_run *h, size_t n, size_t off)
{
	long long s = REPORT_NULL;

	for (size_t i = 0; i < n; i++) {
		long long v = *(const long long *)((const char *)&h[i].stored + off);

		if (v != REPORT_NULL)
			s = (s == REPORT_NULL ? 0 : s) + v;
	}
	return s;
}

/* The run row of M from its hosts' rows. */
static int merge_row(struct report_run *m, size_t n)
{
	const struct report_run *h = m->hosts;
	bool ended = true;

	m->id = h[0].id;
	m->stored.started_ns = m->stored.ended_ns = REPORT_NULL;
	m->nodes = m->pods = m->namespaces = m->sample_hz = m->lost_samples = -1;
	for (size_t i = 0; i < n; i++) {
		const struct report_runrow *s = &h[i].stored;

		if (s->started_ns != REPORT_NULL &&
		    (m->stored.started_ns == REPORT_NULL || s->started_ns < m->stored.started_ns))
			m->stored.started_ns = s->started_ns;
		ended &= s->ended_ns != REPORT_NULL;
		if (s->ended_ns != REPORT_NULL && s->ended_ns > m->stored.ended_ns)
			m->stored.ended_ns = s->ended_ns;
		/* the cluster's size is the cluster's, whichever master said it */
		m->nodes = h[i].nodes > m->nodes ? h[i].nodes : m->nodes;
		m->pods = h[i].pods > m->pods ? h[i].pods : m->pods;
		m->namespaces = h[i].namespaces > m->namespaces ? h[i].namespaces : m->namespaces;
		m->sample_hz = h[i].sample_hz > m->sample_hz ? h[i].sample_hz : m->sample_hz;
		if (h[i].lost_samples >= 0)
			m->lost_samples = (m->lost_samples < 0 ? 0 : m->lost_samples) +
					  h[i].lost_samples;
	}
	if (!ended)
		m->stored.ended_ns = REPORT_NULL;
	m->stored.requests = sum_stored(h, n, offsetof(struct report_runrow, requests));
	m->stored.lost_events = sum_stored(h, n, offsetof(struct report_runrow, lost_events));
	m->stored.unmatched = sum_stored(h, n, offsetof(struct report_runrow, unmatched));
	m->started_ns = m->stored.started_ns == REPORT_NULL ? 0 : m->stored.started_ns;
	m->ended_ns = m->stored.ended_ns == REPORT_NULL ? -1 : m->stored.ended_ns;
	m->duration_ns = -1;
	m->slo_window_ns = REPORT_SLO_WINDOW_NS;
	m->label = join_runs(h, n, offsetof(struct report_run, label), "+");
	m->kind = sdup(h[0].kind);
	m->host = join_runs(h, n, offsetof(struct report_run, host), ", ");
	m->kernel = join_runs(h, n, offsetof(struct report_run, kernel), ", ");
	m->command = sdup(h[0].command);
	m->cluster_source = join_runs(h, n, offsetof(struct report_run, cluster_source), ", ");
	m->db = join_runs(h, n, offsetof(struct report_run, db), ",");
	return m->db && (m->label || !h[0].label) && (m->kind || !h[0].kind) ? 0 : -ENOMEM;
}

/* Refuse a run that is not one run across hosts: other kinds, or one file copied. */
static int check_hosts(const struct mfile *f, size_t n, size_t k)
{
	for (size_t i = 1; i < n; i++) {
		const struct report_run *a = &f[0].runs[k], *b = &f[i].runs[k];

		if (strcmp(str_or(a->kind, ""), str_or(b->kind, ""))) {
			cp_seterr("run '%s' is of kind '%s' in '%s' but '%s' in '%s'; the masters of "
				  "one cluster record with the same --kind", str_or(b->label, "?"),
				  str_or(a->kind, "?"), f[0].path, str_or(b->kind, "?"), f[i].path);
			return -EINVAL;
		}
	}
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++) {
			const struct report_run *a = &f[i].runs[k], *b = &f[j].runs[k];

			if (a->stored.started_ns != REPORT_NULL &&
			    a->stored.started_ns == b->stored.started_ns &&
			    !strcmp(str_or(a->host, ""), str_or(b->host, ""))) {
				cp_seterr("'%s' and '%s' hold the same recording (run '%s' of host "
					  "'%s', started at the same nanosecond); give each master's "
					  "file once", f[i].path, f[j].path, str_or(a->label, "?"),
					  str_or(a->host, "?"));
				return -EINVAL;
			}
		}
	return 0;
}

/* Logical run K of the N files into M: the hosts' runs moved in, read, and merged. */
static int merge_run(struct mfile *f, size_t n, size_t k, const struct report_model_opts *o,
		     struct report_run *m)
{
	struct report_model_opts ho = *o;
	int err;

	if ((err = check_hosts(f, n, k)))
		return err;
	if (!(m->hosts = calloc(n, sizeof(*m->hosts))))
		goto nomem;
	for (size_t i = 0; i < n; i++) {
		m->hosts[i] = f[i].runs[k];
		memset(&f[i].runs[k], 0, sizeof(f[i].runs[k]));
		m->nhosts++;
		if (!(m->hosts[i].db = strdup(f[i].path)))
			goto nomem;
	}
	if ((err = merge_row(m, n)))
		goto nomem;
	if ((o->what & REPORT_LOAD_CALLS) && (err = merge_calls(f, n, m)))
		return err;
	/* everything but the calls, as each file alone (load_run) */
	ho.what &= ~REPORT_LOAD_CALLS;
	for (size_t i = 0; i < n; i++) {
		struct report_run *h = &m->hosts[i];
		char *db = h->db;

		h->db = NULL;   /* load_run sets it */
		free(db);
		if ((err = load_run(f[i].path, f[i].db, &ho, h)))
			return err;
	}
	if (merge_targets(m) || merge_cpu(m) || merge_sys(m))
		goto nomem;
	return 0;
nomem:
	cp_seterr("out of memory");
	return -ENOMEM;
}

struct report_model *report_model__load_many(const struct report_src *src, size_t n,
					     const struct report_model_opts *o, int *errp)
{
	struct report_model *m = NULL;
	struct mfile *f = NULL;
	size_t nlog = 0;
	int err = 0;

	if (n == 1)
		return report_model__load(src[0].path, src[0].label, o, errp);
	if (!n || o->listing) {
		cp_seterr("report_model__load_many: no files");
		*errp = -EINVAL;
		return NULL;
	}
	/* one file twice would count its requests twice: by inode, so ./a.db is a.db */
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++) {
			struct stat a, b;

			if (stat(src[i].path, &a) == 0 && stat(src[j].path, &b) == 0 &&
			    a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
				if (strcmp(src[i].path, src[j].path))
					cp_seterr("'%s' is given twice (also as '%s'); give each "
						  "master's file once", src[i].path, src[j].path);
				else
					cp_seterr("'%s' is given twice; give each master's file once",
						  src[i].path);
				*errp = -EINVAL;
				return NULL;
			}
		}
	if (!(f = calloc(n, sizeof(*f)))) {
		err = -ENOMEM;
		cp_seterr("out of memory");
		goto out;
	}
	for (size_t i = 0; i < n && !err; i++) {
		f[i].path = src[i].path;
		if ((err = open_db(f[i].path, &f[i].db)))
			break;
		/* one snapshot of each file for everything below */
		if (sqlite3_exec(f[i].db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
			err = db_err(f[i].path, f[i].db, sqlite3_errcode(f[i].db));
		else
			err = mfile_rows(&f[i], src[i].label);
	}
	if (err || (err = match_runs(f, n, o, &nlog)))
		goto out;
	if (!(m = calloc(1, sizeof(*m))) || !(m->files = calloc(n, sizeof(*m->files))) ||
	    !(m->runs = calloc(nlog, sizeof(*m->runs)))) {
		err = -ENOMEM;
		cp_seterr("out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		if (!(m->files[m->nfiles++] = strdup(src[i].path))) {
			err = -ENOMEM;
			cp_seterr("out of memory");
			goto out;
		}
	for (size_t k = 0; k < nlog && !err; k++) {
		m->nruns++;
		err = merge_run(f, n, k, o, &m->runs[k]);
	}
	if (!err && !(m->db = strdup(m->runs[0].db))) {
		err = -ENOMEM;
		cp_seterr("out of memory");
	}
out:
	for (size_t i = 0; f && i < n; i++)
		mfile_close(&f[i]);
	free(f);
	if (err) {
		report_model__free(m);
		m = NULL;
	}
	*errp = err;
	return m;
}

const struct report_call *report_model__host_call(const struct report_run *host,
						  const struct report_call *k)
{
	if (!host->ncalls)
		return NULL;
	return bsearch(k, host->calls, host->ncalls, sizeof(*host->calls), call_cmp);
}

/* ---------- one run, for diff and the unit tests ---------- */

int report__load(const char *db_path, const char *label, struct report_run **runp)
{
	const struct report_src src = { db_path, label };

	return report__load_many(&src, 1, runp);
}

int report__load_many(const struct report_src *src, size_t n, struct report_run **runp)
{
	const struct report_model_opts o = { .what = REPORT_LOAD_DIFF, .one_run = true };
	struct report_model *m;
	int err;

	*runp = NULL;
	if (!(m = report_model__load_many(src, n, &o, &err)))
		return err;
	if (!(*runp = malloc(sizeof(**runp)))) {
		report_model__free(m);
		cp_seterr("out of memory");
		return -ENOMEM;
	}
	/* find_run made sure there is exactly one */
	**runp = m->runs[0];
	m->nruns = 0;
	report_model__free(m);
	return 0;
}

void report__run_free(struct report_run *r)
{
	report_model__run_clear(r);
	free(r);
}

int report__calls(const char *db_path, const char *label, struct report_call **calls,
		  size_t *n)
{
	struct report_run *r;
	int err;

	*calls = NULL;
	*n = 0;
	err = report__load(db_path, label, &r);
	if (err)
		return err;
	*calls = r->calls;
	*n = r->ncalls;
	r->calls = NULL;
	r->ncalls = 0;
	report__run_free(r);
	return 0;
}

void report__calls_free(struct report_call *calls, size_t n)
{
	report_model__calls_free(calls, n);
}

/* Why the run has fewer rows than calls: "N requests dropped: database reached --max-db-size 50M". */
int report__drop_note(const struct report_run *r, char *buf, size_t n)
{
	char lim[32] = "";
	const char *why = r->dropped_reason;

	if (!why)
		return 0;
	if (r->drop_limit_bytes > 0)
		budget__fmt_size(r->drop_limit_bytes, lim, sizeof(lim));
	if (!strcmp(why, "max-db-size"))
		snprintf(buf, n, "%lld requests dropped: database reached --max-db-size %s",
			 r->dropped_requests, lim);
	else if (!strcmp(why, "min-free"))
		snprintf(buf, n, "%lld requests dropped: free space fell below --min-free %s",
			 r->dropped_requests, lim);
	else if (!strcmp(why, "disk-full"))
		snprintf(buf, n, "%lld requests dropped: the disk was full", r->dropped_requests);
	else
		snprintf(buf, n, "%lld requests dropped: %s", r->dropped_requests, why);
	return 1;
}
