// SPDX-License-Identifier: MIT
/*
 * report: per-call latency tables from a cpprof database. For each run it
 * asks SQLite twice, inside one read transaction (so that a recorder
 * writing meanwhile cannot shift the rows between the two): first the
 * count, max and errors of every group (component, verb, resource,
 * subresource, scope, path), then every latency of the run sorted by group
 * and latency. Knowing each group's size from the first query, the nearest
 * ranks of p50/p90/p99 are known before the group's rows go by, so the
 * exact percentiles come out of one streaming pass, and memory holds only
 * one entry per group, never the rows. store.c's requests_report index
 * makes both queries scans of one index.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <sqlite3.h>

#include "log.h"
#include "loghist.h"
#include "report.h"
#include "store.h"

#define TEXT_WIDTH 100

#define NS_PER_S 1000000000LL

struct run {
	long long id;
	const char *label, *kind, *host, *kernel, *command; /* owned by the runs statement */
	bool has_ended, has_requests;
	long long started_ns, ended_ns, requests, lost_events, unmatched;
};

/* Run metadata added within version 1; -1 / NULL where unknown. */
struct run_extra {
	long long nodes, pods, namespaces, sample_hz, lost_samples;
	char *cluster_source;
};

struct ctx {
	const char *path;
	sqlite3 *db;
	FILE *out;
	enum report_format format;
	int nruns;               /* runs written so far */
};

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

/* Display columns of a UTF-8 string: one per code point (no wide characters here). */
static int dwidth(const char *s)
{
	int w = 0;

	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

/* Length of the valid UTF-8 sequence at S, or 0. */
static int utf8_len(const unsigned char *s)
{
	int n;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	for (int i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	/* Overlong 3/4-byte forms, surrogates and values past U+10FFFF. */
	if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0) ||
	    (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90))
		return 0;
	return n;
}

/*
 * Copy S into BUF for a terminal: control characters (a process name can
 * hold escape sequences) and bytes that are not UTF-8 become '?', and
 * anything past MAXW display columns is cut and marked with an ellipsis.
 */
static const char *clip(const char *s, int maxw, char *buf, size_t n)
{
	size_t o = 0;
	int w = 0;

	if (!s)
		s = "";
	if (maxw < 1)
		maxw = 1;
	while (*s && o + 5 < n) {
		int len = utf8_len((const unsigned char *)s);

		if (w == maxw - 1 && dwidth(s) > 1) {
			o += snprintf(buf + o, n - o, "…");
			break;
		}
		if (w == maxw)
			break;
		w++;
		if (len == 0 || (unsigned char)*s < 0x20 || *s == 0x7f) {
			buf[o++] = '?';
			s++;
			continue;
		}
		memcpy(buf + o, s, len);
		o += len;
		s += len;
	}
	buf[o] = '\0';
	return buf;
}

/* Human duration, 3 significant digits: 999ns, 1.00µs, 12.3ms, 990ms, 1.20s, 3600s. */
void report__fmt_ns(long long ns, char *buf, size_t n)
{
	static const struct { const char *unit; double div; } u[] = {
		{ "µs", 1e3 }, { "ms", 1e6 }, { "s", 1e9 },
	};

	if (ns < 0) {
		snprintf(buf, n, "-");
		return;
	}
	if (ns < 1000) {
		snprintf(buf, n, "%lldns", ns);
		return;
	}
	for (size_t i = 0; i < 3; i++) {
		double v = ns / u[i].div;

		/* 999.7µs would print as "1000µs": say 1.00ms instead. */
		if (i < 2 && v >= 999.5)
			continue;
		if (v < 9.995)
			snprintf(buf, n, "%.2f%s", v, u[i].unit);
		else if (v < 99.95)
			snprintf(buf, n, "%.1f%s", v, u[i].unit);
		else
			snprintf(buf, n, "%.0f%s", v, u[i].unit);
		return;
	}
}

static void fmt_utc(long long ns, char *buf, size_t n)
{
	time_t t = (time_t)(ns / NS_PER_S);
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(buf, n, "%Y-%m-%d %H:%M:%S UTC", &tm))
		snprintf(buf, n, "%lld ns", ns);
}

static void fmt_span(long long ns, char *buf, size_t n)
{
	long long s = ns / NS_PER_S;

	if (ns < 60 * NS_PER_S)
		report__fmt_ns(ns, buf, n);
	else if (s < 3600)
		snprintf(buf, n, "%lldm %02llds", s / 60, s % 60);
	else
		snprintf(buf, n, "%lldh %02lldm %02llds", s / 3600, s / 60 % 60, s % 60);
}

/* One text line, never wider than TEXT_WIDTH columns. */
static void tline(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void tline(struct ctx *c, const char *fmt, ...)
{
	char line[1024], cut[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(c->out, "%s\n", clip(line, TEXT_WIDTH, cut, sizeof(cut)));
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

void report__calls_free(struct report_call *calls, size_t n)
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

#define SLO_WINDOW_NS (300 * NS_PER_S)
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
				k->slo_worst_start_ns = started_ns + (long long)i * SLO_WINDOW_NS;
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
		struct win_acc *w;
		__u32 b;

		for (int i = 0; i < 6; i++)
			v[i] = sqlite3_column_text(st, i);
		if (!(g = acc_find(a, v, key_hash(v))))
			goto nomem;
		if (sqlite3_column_type(st, 8) != SQLITE_NULL)
			e = is_error((const char *)sqlite3_column_text(st, 9), g->k.verb, status);
		b = loghist_bucket(lat < 0 ? 0 : (__u64)lat);
		g->k.count++;
		g->k.errors += e;
		if (lat > g->k.max_ns)
			g->k.max_ns = lat;
		g->k.hist[b]++;
		if (add_status(g, status, e, 1))
			goto nomem;
		if (!(w = win_at(&g->tl, win_index(start, a->started_ns, a->tl_ns))))
			goto nomem;
		w->count++;
		w->errors += e;
		w->hist[b]++;
		if (g->k.slo_threshold_ns) {
			if (!(w = win_at(&g->slo, win_index(start, a->started_ns, SLO_WINDOW_NS))))
				goto nomem;
			w->count++;
			w->over += lat > g->k.slo_threshold_ns;
			w->hist[b]++;
		}
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
		j->err = scan_rows(j->path, db, j->sql, j->run_id, j->lo, j->hi, &j->a);
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	}
	if (j->err)	/* cp_lasterr() is per thread: carry the message over */
		snprintf(j->errmsg, sizeof(j->errmsg), "%s", cp_lasterr());
	sqlite3_close(db);
	return NULL;
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
static int pass_windows(const char *path, sqlite3 *db, long long run_id, long long started_ns,
			struct calls_out *co)
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

	nruns = query_ll(db, "SELECT count(*) FROM runs", run_id, 0);
	lo = query_ll(db, "SELECT rowid FROM requests WHERE run_id = ?1 ORDER BY rowid LIMIT 1",
		      run_id, 0);
	hi = query_ll(db, "SELECT rowid FROM requests WHERE run_id = ?1 ORDER BY rowid DESC LIMIT 1",
		      run_id, -1);
	job.sql = nruns <= 1 ? scan_sql : index_sql;
	mid = lo + (hi - lo) / 2;
	job.a = (struct accs){ .started_ns = started_ns, .tl_ns = co->tl_ns };
	if (hi - lo > 100000) {
		job.lo = mid + 1;
		job.hi = hi;
		threaded = pthread_create(&th, NULL, scan_thread, &job) == 0;
	}
	err = scan_rows(path, db, job.sql, run_id, lo, threaded ? mid : hi, &a);
	if (threaded) {
		pthread_join(th, NULL);
		if (!err && job.err) {
			err = job.err;
			cp_seterr("%s", job.errmsg);
		}
		if (!err && (err = merge_accs(&a, &job.a)))
			cp_seterr("out of memory");
	}
	if (err)
		goto out;
	if (a.n && !(co->calls = calloc(a.n, sizeof(*co->calls)))) {
		err = -ENOMEM;
		cp_seterr("out of memory");
		goto out;
	}
	for (size_t i = 0; i < a.n; i++) {
		err = finish_group(&a.g[i], started_ns, co->tl_ns, co->dur_ns);
		co->calls[i] = a.g[i].k;
		memset(&a.g[i].k, 0, sizeof(a.g[i].k));
		co->n++;
		if (err) {
			cp_seterr("out of memory");
			goto out;
		}
	}
	if (co->n)
		qsort(co->calls, co->n, sizeof(*co->calls), call_cmp);
out:
	accs_free(&a);
	accs_free(&job.a);
	return err;
}

/*
 * Pass 2: every latency of the run sorted by group and latency, through
 * the requests_report index. Knowing each group's size from pass 1, the
 * nearest ranks of p50/p90/p99 are known before the group's rows go by,
 * so the exact percentiles come out of one streaming pass.
 */
static int run_calls(const char *path, sqlite3 *db, long long run_id, long long started_ns,
		     long long ended_ns, struct calls_out *co)
{
	static const char rows_sql[] =
		"SELECT latency_ns FROM requests WHERE run_id = ?1 AND latency_ns IS NOT NULL"
		" ORDER BY " GROUP_COLS ", latency_ns";
	sqlite3_stmt *st = NULL;
	int rc, err;

	memset(co, 0, sizeof(*co));
	err = run_duration(path, db, run_id, started_ns, ended_ns, &co->dur_ns);
	if (err)
		return err;
	co->tl_ns = timeline_window(co->dur_ns);
	err = pass_windows(path, db, run_id, started_ns, co);
	if (err)
		goto cleanup;

	rc = sqlite3_prepare_v2(db, rows_sql, -1, &st, NULL);
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
		report__calls_free(co->calls, co->n);
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

/* ---------- text ---------- */

/* The group's resource column: resource/subresource, or the path of a non-resource request. */
static void call_name(const struct report_call *k, char *buf, size_t n)
{
	if (k->resource && *k->resource)
		snprintf(buf, n, "%s%s%s", k->resource, k->subresource && *k->subresource ? "/" : "",
			 k->subresource ? k->subresource : "");
	else
		snprintf(buf, n, "%s", str_or(k->path, "-"));
}

/* "ok", "-" (outside the SLO), "FAIL (p99 1.20s > 1s)", or when SHORT "FAIL >1s". */
static void slo_text(const struct report_call *k, bool short_form, char *buf, size_t n)
{
	char p99[32];

	if (k->slo_ok < 0) {
		snprintf(buf, n, "-");
	} else if (k->slo_ok) {
		snprintf(buf, n, "ok");
	} else if (short_form) {
		snprintf(buf, n, "FAIL >%llds", k->slo_threshold_ns / NS_PER_S);
	} else if (k->p99_ns <= k->slo_threshold_ns) {
		/* The run's p99 is fine, but some 5-minute window's is not. */
		snprintf(buf, n, "FAIL (%lld/%lld windows > %llds)", k->slo_windows_failed,
			 k->slo_windows, k->slo_threshold_ns / NS_PER_S);
	} else {
		report__fmt_ns(k->p99_ns, p99, sizeof(p99));
		snprintf(buf, n, "FAIL (p99 %s > %llds)", p99, k->slo_threshold_ns / NS_PER_S);
	}
}

static void text_header(struct ctx *c, const struct run *r, sqlite3_stmt *tg, long long stored,
			const struct run_extra *x, long long dur_ns)
{
	char a[64], b[64], d[64], tmp[512], tmp2[512];
	bool first = true;

	if (c->nruns)
		tline(c, "%s", "");
	tline(c, "run '%s' (%s)", clip(r->label, 60, tmp, sizeof(tmp)),
	      clip(r->kind, 20, tmp2, sizeof(tmp2)));
	fmt_utc(r->started_ns, a, sizeof(a));
	tline(c, "  started   %s", a);
	if (r->has_ended) {
		fmt_utc(r->ended_ns, b, sizeof(b));
		fmt_span(r->ended_ns - r->started_ns, d, sizeof(d));
		tline(c, "  ended     %s, after %s", b, d);
	} else {
		tline(c, "  ended     - (still recording, or the recorder was killed)");
	}
	if (!r->has_ended && dur_ns >= 0) {
		fmt_span(dur_ns, d, sizeof(d));
		tline(c, "            last request ended %s after the start", d);
	}
	if (x->nodes >= 0 || x->pods >= 0 || x->namespaces >= 0) {
		char nn[32] = "?", pp[32] = "?", ns[32] = "?";

		if (x->nodes >= 0)
			snprintf(nn, sizeof(nn), "%lld", x->nodes);
		if (x->pods >= 0)
			snprintf(pp, sizeof(pp), "%lld", x->pods);
		if (x->namespaces >= 0)
			snprintf(ns, sizeof(ns), "%lld", x->namespaces);
		tline(c, "  cluster   %s nodes, %s pods, %s namespaces (from %s)", nn, pp, ns,
		      clip(str_or(x->cluster_source, "?"), 20, tmp, sizeof(tmp)));
	}
	if (r->host || r->kernel)
		tline(c, "  host      %s, kernel %s", clip(str_or(r->host, "?"), 40, tmp, sizeof(tmp)),
		      clip(str_or(r->kernel, "?"), 40, tmp2, sizeof(tmp2)));
	if (r->has_requests)
		tline(c, "  requests  %lld, lost events %lld, unmatched %lld",
		      r->requests, r->lost_events, r->unmatched);
	else
		tline(c, "  requests  %lld stored", stored);
	while (sqlite3_step(tg) == SQLITE_ROW) {
		const char *comp = (const char *)sqlite3_column_text(tg, 2);
		const char *exe = (const char *)sqlite3_column_text(tg, 3);
		const char *gov = (const char *)sqlite3_column_text(tg, 4);
		const char *k8s = (const char *)sqlite3_column_text(tg, 11);
		const char *etcd = (const char *)sqlite3_column_text(tg, 12);
		char ver[128] = "";

		snprintf(tmp2, sizeof(tmp2), "pid %-7d %-9s %-10s", sqlite3_column_int(tg, 1),
			 str_or(comp, "?"), str_or(gov, "-"));
		if (k8s || etcd)
			snprintf(ver, sizeof(ver), " (%s%s%s%s)", k8s ? "kubernetes " : "",
				 k8s ? k8s : "", k8s && etcd ? ", etcd " : etcd ? "etcd " : "",
				 etcd ? etcd : "");
		snprintf(d, sizeof(d), "%s", ver);
		tline(c, "  %-9s %s %s%s", first ? "targets" : "", clip(tmp2, 40, tmp, sizeof(tmp)),
		      clip(str_or(exe, "?"), 50 - dwidth(d) > 20 ? 50 - dwidth(d) : 20, b, sizeof(b)), d);
		first = false;
	}
	if (first)
		tline(c, "  targets   none");
}

enum { C_VERB, C_RES, C_SCOPE, C_COUNT, C_P50, C_P90, C_P99, C_MAX, C_ERR, C_SLO, NCOLS };

/* One table line: indent 2, numbers right-aligned, the last column unpadded. */
static void text_row(struct ctx *c, const int *w, int gap, const char *const *cell)
{
	static const bool right[NCOLS] = { [C_COUNT] = true, [C_P50] = true, [C_P90] = true,
					   [C_P99] = true, [C_MAX] = true, [C_ERR] = true };
	char line[2048];
	size_t o = 0;

	o += snprintf(line + o, sizeof(line) - o, "  ");
	for (int j = 0; j < NCOLS && o < sizeof(line); j++) {
		int pad = w[j] - dwidth(cell[j]);
		bool last = j == NCOLS - 1;

		if (pad < 0)
			pad = 0;
		if (right[j])
			o += snprintf(line + o, sizeof(line) - o, "%*s%s", pad, "", cell[j]);
		else
			o += snprintf(line + o, sizeof(line) - o, "%s%*s", cell[j], last ? 0 : pad, "");
		if (!last && o < sizeof(line))
			o += snprintf(line + o, sizeof(line) - o, "%*s", gap, "");
	}
	tline(c, "%s", line);
}

static void text_table(struct ctx *c, const struct report_call *calls, size_t n)
{
	static const char *const head[NCOLS] = {
		"verb", "resource", "scope", "count", "p50", "p90", "p99", "max", "errors", "SLO",
	};
	char cell[NCOLS][256], cut[512];
	bool short_slo = false;
	int w[NCOLS], total, gap = 2;
	size_t start = 0;

	if (!n) {
		tline(c, "%s", "");
		tline(c, "  no requests recorded");
		return;
	}
	/* Column widths over the whole run, so each component's table lines up with the next. */
	for (int j = 0; j < NCOLS; j++)
		w[j] = dwidth(head[j]);
	for (size_t i = 0; i < n; i++) {
		char name[512], slo[64];

		call_name(&calls[i], name, sizeof(name));
		slo_text(&calls[i], false, slo, sizeof(slo));
		if (dwidth(str_or(calls[i].verb, "-")) > w[C_VERB])
			w[C_VERB] = dwidth(str_or(calls[i].verb, "-"));
		if (dwidth(name) > w[C_RES])
			w[C_RES] = dwidth(name);
		if (dwidth(str_or(calls[i].scope, "-")) > w[C_SCOPE])
			w[C_SCOPE] = dwidth(str_or(calls[i].scope, "-"));
		snprintf(cell[0], sizeof(cell[0]), "%lld", calls[i].count);
		if ((int)strlen(cell[0]) > w[C_COUNT])
			w[C_COUNT] = strlen(cell[0]);
		for (int j = C_P50; j <= C_MAX; j++)
			if (w[j] < 6)
				w[j] = 6;
		snprintf(cell[0], sizeof(cell[0]), "%lld", calls[i].errors);
		if ((int)strlen(cell[0]) > w[C_ERR])
			w[C_ERR] = strlen(cell[0]);
		if (dwidth(slo) > w[C_SLO])
			w[C_SLO] = dwidth(slo);
	}
	/*
	 * Indent 2, gaps of 2. When that is wider than TEXT_WIDTH, give way
	 * in order: gaps of 1, long resource names (cut with an ellipsis;
	 * json has them whole), then the SLO cell's repeat of the p99.
	 */
	total = 2;
	for (int j = 0; j < NCOLS; j++)
		total += w[j] + gap;
	total -= gap;
	if (total > TEXT_WIDTH) {
		total -= NCOLS - 1;
		gap = 1;
	}
	if (total > TEXT_WIDTH) {
		int shrink = total - TEXT_WIDTH;

		if (w[C_RES] - shrink < 16)
			shrink = w[C_RES] > 16 ? w[C_RES] - 16 : 0;
		w[C_RES] -= shrink;
		total -= shrink;
	}
	if (total > TEXT_WIDTH) {
		short_slo = true;
		w[C_SLO] = 8;
		for (size_t i = 0; i < n; i++) {
			char slo[64];

			slo_text(&calls[i], true, slo, sizeof(slo));
			if (dwidth(slo) > w[C_SLO])
				w[C_SLO] = dwidth(slo);
		}
	}

	while (start < n) {
		const char *comp = str_or(calls[start].component, "-");
		size_t end = start;

		while (end < n && strcmp(str_or(calls[end].component, "-"), comp) == 0)
			end++;
		tline(c, "%s", "");
		tline(c, "%s", clip(comp, TEXT_WIDTH, cut, sizeof(cut)));
		text_row(c, w, gap, head);
		for (size_t i = start; i < end; i++) {
			const struct report_call *k = &calls[i];
			const char *cells[NCOLS];
			char name[512];

			call_name(k, name, sizeof(name));
			clip(str_or(k->verb, "-"), w[C_VERB], cell[C_VERB], sizeof(cell[0]));
			clip(name, w[C_RES], cell[C_RES], sizeof(cell[0]));
			clip(str_or(k->scope, "-"), w[C_SCOPE], cell[C_SCOPE], sizeof(cell[0]));
			snprintf(cell[C_COUNT], sizeof(cell[0]), "%lld", k->count);
			report__fmt_ns(k->p50_ns, cell[C_P50], sizeof(cell[0]));
			report__fmt_ns(k->p90_ns, cell[C_P90], sizeof(cell[0]));
			report__fmt_ns(k->p99_ns, cell[C_P99], sizeof(cell[0]));
			report__fmt_ns(k->max_ns, cell[C_MAX], sizeof(cell[0]));
			snprintf(cell[C_ERR], sizeof(cell[0]), "%lld", k->errors);
			slo_text(k, short_slo, cell[C_SLO], sizeof(cell[0]));
			for (int j = 0; j < NCOLS; j++)
				cells[j] = cell[j];
			text_row(c, w, gap, cells);
		}
		start = end;
	}
}

static void text_footer(struct ctx *c)
{
	tline(c, "%s", "");
	tline(c, "percentiles are exact (nearest rank); errors are HTTP 5xx and 429, and gRPC");
	tline(c, "calls not OK (but a watch ended by its client, Canceled)");
	tline(c, "SLO: Kubernetes API-call latency, p99 <= 1s (mutating, get), 5s (namespace list),");
	tline(c, "30s (cluster list), in every 5-minute window from the start (the worst counts);");
	tline(c, "'-' excluded");
}

/* ---------- markdown ---------- */

void report__md_text(FILE *out, const char *s)
{
	for (s = str_or(s, "-"); *s; s++) {
		unsigned char ch = *s;

		if (ch < 0x20 || ch == 0x7f)
			ch = ' ';
		if (strchr("\\|*_`<>[]#", ch))
			fputc('\\', out);
		fputc(ch, out);
	}
}

static void md_cell(FILE *out, const char *s)
{
	fputc(' ', out);
	report__md_text(out, s);
	fputs(" |", out);
}

static void md_run(struct ctx *c, const struct run *r, sqlite3_stmt *tg,
		   const struct report_call *calls, size_t n, long long stored,
		   const struct run_extra *x)
{
	char a[64], b[64], d[64];

	fputs(c->nruns ? "\n## Run " : "## Run ", c->out);
	report__md_text(c->out, r->label);
	fputs(" (", c->out);
	report__md_text(c->out, r->kind);
	fputs(")\n\n", c->out);
	fmt_utc(r->started_ns, a, sizeof(a));
	fprintf(c->out, "- started: %s\n", a);
	if (r->has_ended) {
		fmt_utc(r->ended_ns, b, sizeof(b));
		fmt_span(r->ended_ns - r->started_ns, d, sizeof(d));
		fprintf(c->out, "- ended: %s, after %s\n", b, d);
	} else {
		fprintf(c->out, "- ended: - (still recording, or the recorder was killed)\n");
	}
	fputs("- host: ", c->out);
	report__md_text(c->out, r->host);
	fputs(", kernel ", c->out);
	report__md_text(c->out, r->kernel);
	fputc('\n', c->out);
	if (r->has_requests)
		fprintf(c->out, "- requests: %lld, lost events %lld, unmatched %lld\n",
			r->requests, r->lost_events, r->unmatched);
	else
		fprintf(c->out, "- requests: %lld stored\n", stored);
	if (x->nodes >= 0 || x->pods >= 0 || x->namespaces >= 0) {
		fprintf(c->out, "- cluster: %lld nodes, %lld pods, %lld namespaces (-1: unknown; from ",
			x->nodes, x->pods, x->namespaces);
		report__md_text(c->out, x->cluster_source);
		fputs(")\n", c->out);
	}
	fputs("- targets:\n", c->out);
	while (sqlite3_step(tg) == SQLITE_ROW) {
		fprintf(c->out, "  - pid %d ", sqlite3_column_int(tg, 1));
		report__md_text(c->out, (const char *)sqlite3_column_text(tg, 2));
		fputc(' ', c->out);
		report__md_text(c->out, (const char *)sqlite3_column_text(tg, 4));
		fputc(' ', c->out);
		report__md_text(c->out, (const char *)sqlite3_column_text(tg, 3));
		if (sqlite3_column_type(tg, 11) != SQLITE_NULL) {
			fputs(", kubernetes ", c->out);
			report__md_text(c->out, (const char *)sqlite3_column_text(tg, 11));
		}
		if (sqlite3_column_type(tg, 12) != SQLITE_NULL) {
			fputs(", etcd ", c->out);
			report__md_text(c->out, (const char *)sqlite3_column_text(tg, 12));
		}
		fputc('\n', c->out);
	}
	fputs("\n| component | verb | resource | scope | count | p50 | p90 | p99 | max | errors | SLO |\n"
	      "|---|---|---|---|--:|--:|--:|--:|--:|--:|---|\n", c->out);
	for (size_t i = 0; i < n; i++) {
		const struct report_call *k = &calls[i];
		char name[512], v[5][32], slo[64];

		call_name(k, name, sizeof(name));
		report__fmt_ns(k->p50_ns, v[0], sizeof(v[0]));
		report__fmt_ns(k->p90_ns, v[1], sizeof(v[1]));
		report__fmt_ns(k->p99_ns, v[2], sizeof(v[2]));
		report__fmt_ns(k->max_ns, v[3], sizeof(v[3]));
		slo_text(k, false, slo, sizeof(slo));
		fputc('|', c->out);
		md_cell(c->out, k->component);
		md_cell(c->out, k->verb);
		md_cell(c->out, name);
		md_cell(c->out, k->scope);
		fprintf(c->out, " %lld | %s | %s | %s | %s | %lld |", k->count, v[0], v[1], v[2],
			v[3], k->errors);
		md_cell(c->out, slo);
		fputc('\n', c->out);
	}
}

/* ---------- json ---------- */

/*
 * A JSON string (RFC 8259): quotes, backslashes and control characters
 * escaped; bytes that are not UTF-8 (file names need not be) become
 * U+FFFD so that the output always parses.
 */
void report__json_str(FILE *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	if (!s) {
		fputs("null", out);
		return;
	}
	fputc('"', out);
	while (*p) {
		int n = utf8_len(p);

		if (n == 0) {
			fputs("\\ufffd", out);
			p++;
			continue;
		}
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", out);
		else if (*p == '\t')
			fputs("\\t", out);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(out, "\\u%04x", *p);
		else
			fwrite(p, 1, n, out);
		p += n;
	}
	fputc('"', out);
}

static void json_key_str(FILE *out, const char *key, const char *v)
{
	fprintf(out, "\"%s\":", key);
	report__json_str(out, v);
}

/* The fields naming a call kind, in the order REPORT-JSON.md gives them; "path" only if WITH_PATH. */
static void json_call_key(FILE *o, const char *component, const char *verb, const char *resource,
			  const char *subresource, bool with_path, const char *path, const char *scope)
{
	json_key_str(o, "component", component);
	fputc(',', o);
	json_key_str(o, "verb", verb);
	fputc(',', o);
	json_key_str(o, "resource", resource);
	fputc(',', o);
	json_key_str(o, "subresource", subresource);
	fputc(',', o);
	if (with_path) {
		json_key_str(o, "path", path);
		fputc(',', o);
	}
	json_key_str(o, "scope", scope);
}

static void json_key_int(FILE *out, const char *key, sqlite3_stmt *st, int col)
{
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		fprintf(out, "\"%s\":null", key);
	else
		fprintf(out, "\"%s\":%lld", key, (long long)sqlite3_column_int64(st, col));
}

/* The fields added to a call with the SLO windows (REPORT-JSON.md, CALL). */
static void json_call_more(FILE *o, const struct report_call *k)
{
	if (k->rate_per_s < 0)
		fputs(",\"rate_per_s\":null", o);
	else
		fprintf(o, ",\"rate_per_s\":%.6g", k->rate_per_s);
	fprintf(o, ",\"slo_windows\":%lld,\"slo_windows_failed\":%lld", k->slo_windows,
		k->slo_windows_failed);
	if (k->slo_worst_start_ns < 0)
		fputs(",\"slo_worst_window_start_ns\":null,\"slo_worst_p99_ns\":null", o);
	else
		fprintf(o, ",\"slo_worst_window_start_ns\":%lld,\"slo_worst_p99_ns\":%lld",
			k->slo_worst_start_ns, k->slo_worst_p99_ns);
	fputs(",\"statuses\":[", o);
	for (size_t j = 0; j < k->nstatuses; j++)
		fprintf(o, "%s{\"status\":%d,\"error\":%s,\"count\":%lld}", j ? "," : "",
			k->statuses[j].status, k->statuses[j].error ? "true" : "false",
			k->statuses[j].count);
	fputs("],\"hist\":", o);
	report__json_hist(o, k->hist);
	fputs(",\"timeline\":[", o);
	for (size_t j = 0; j < k->ntimeline; j++) {
		const struct report_window *w = &k->timeline[j];

		fprintf(o, "%s{\"start_ns\":%lld,\"count\":%lld,\"errors\":%lld,\"p50_ns\":%lld,"
			"\"p99_ns\":%lld}", j ? "," : "", w->start_ns, w->count, w->errors, w->p50_ns,
			w->p99_ns);
	}
	fputc(']', o);
}

static void json_ll_or_null(FILE *o, const char *key, long long v)
{
	if (v < 0)
		fprintf(o, ",\"%s\":null", key);
	else
		fprintf(o, ",\"%s\":%lld", key, v);
}

static void json_run(struct ctx *c, const struct run *r, sqlite3_stmt *rs, sqlite3_stmt *tg,
		     const struct report_call *calls, size_t n, const struct calls_out *co,
		     const struct run_extra *x)
{
	static const char *const tcols[] = {
		"id", "pid", "component", "exe", "go_version", "main_path", "build_id",
		"offsets_source", "probes", "attached_ns", "exited_ns",
		"k8s_version", "etcd_version", "cpu_ns", "samples",
	};
	FILE *o = c->out;
	bool first = true;

	fputs(c->nruns ? ",\n{" : "\n{", o);
	json_key_str(o, "label", r->label);
	fputc(',', o);
	json_key_str(o, "kind", r->kind);
	fputc(',', o);
	json_key_int(o, "started_ns", rs, 3);
	fputc(',', o);
	json_key_int(o, "ended_ns", rs, 4);
	fputc(',', o);
	json_key_str(o, "host", r->host);
	fputc(',', o);
	json_key_str(o, "kernel", r->kernel);
	fputc(',', o);
	json_key_str(o, "command", r->command);
	fputc(',', o);
	json_key_int(o, "requests", rs, 8);
	fputc(',', o);
	json_key_int(o, "lost_events", rs, 9);
	fputc(',', o);
	json_key_int(o, "unmatched", rs, 10);
	json_ll_or_null(o, "duration_ns", co->dur_ns);
	json_ll_or_null(o, "nodes", x->nodes);
	json_ll_or_null(o, "pods", x->pods);
	json_ll_or_null(o, "namespaces", x->namespaces);
	fputs(",\"cluster_source\":", o);
	report__json_str(o, x->cluster_source);
	json_ll_or_null(o, "sample_hz", x->sample_hz);
	json_ll_or_null(o, "lost_samples", x->lost_samples);
	fprintf(o, ",\"slo_window_ns\":%lld,\"timeline_window_ns\":%lld", SLO_WINDOW_NS, co->tl_ns);
	fputs(",\n \"targets\":[", o);
	while (sqlite3_step(tg) == SQLITE_ROW) {
		fputs(first ? "\n  {" : ",\n  {", o);
		for (int j = 0; j < (int)(sizeof(tcols) / sizeof(tcols[0])); j++) {
			int t = sqlite3_column_type(tg, j);

			if (j)
				fputc(',', o);
			if (t == SQLITE_INTEGER || t == SQLITE_NULL)
				json_key_int(o, tcols[j], tg, j);
			else
				json_key_str(o, tcols[j], (const char *)sqlite3_column_text(tg, j));
		}
		fputc('}', o);
		first = false;
	}
	fputs("],\n \"calls\":[", o);
	for (size_t i = 0; i < n; i++) {
		const struct report_call *k = &calls[i];

		fputs(i ? ",\n  {" : "\n  {", o);
		json_call_key(o, k->component, k->verb, k->resource, k->subresource, true, k->path,
			      k->scope);
		fprintf(o, ",\"count\":%lld,\"p50_ns\":%lld,\"p90_ns\":%lld,\"p99_ns\":%lld,"
			"\"max_ns\":%lld,\"errors\":%lld,\"slo_threshold_ns\":%lld,\"slo_ok\":%s",
			k->count, k->p50_ns, k->p90_ns, k->p99_ns, k->max_ns, k->errors,
			k->slo_threshold_ns,
			k->slo_ok < 0 ? "null" : k->slo_ok ? "true" : "false");
		json_call_more(o, k);
		fputc('}', o);
	}
	fputs("]", o);
	/* the run object is closed by write_run, after sys_sections */
}

/* ---------- syscalls and served connections (tables syscalls, sock_stats) ---------- */

/*
 * Latency from the syscalls table is a log-linear histogram
 * (include/cpprof/loghist.h): its rows are merged per group and the
 * percentiles are nearest-rank over buckets, reported as the bucket's
 * upper bound (at most 25% above the true value). Each section shows only
 * when the run has rows for it; files older than these tables have none.
 */
#define SYS_TEXT_INTERVALS 40   /* text shows at most this many lines over time */

struct sys_group {
	char component[64], syscall[32];
	long long target_id, pid;            /* per-target groups */
	long long start_ns, len_ns;          /* per-interval groups */
	long long count, sum_ns, p50_ns, p99_ns;
	__u64 hist[LOGHIST_NBUCKETS];
};

struct sys_list {
	struct sys_group *g;
	size_t n, cap;
};

struct clients_row {
	char component[64];
	long long accepted, closed, peers_max, bytes_in, bytes_out, retransmits, intervals;
};

static bool has_table(sqlite3 *db, const char *name)
{
	sqlite3_stmt *st = NULL;
	bool yes = false;

	if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1",
			       -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		yes = sqlite3_step(st) == SQLITE_ROW;
	}
	sqlite3_finalize(st);
	return yes;
}

static void sys_finish(struct sys_group *g)
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
static int sys_groups(struct ctx *c, const char *sql, long long run_id, struct sys_list *l)
{
	sqlite3_stmt *st = NULL;
	struct sys_group *g = NULL;
	int rc, err = 0;

	rc = sqlite3_prepare_v2(c->db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return db_err(c->path, c->db, rc);
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
				struct sys_group *ng = realloc(l->g, cap * sizeof(*ng));

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
		err = db_err(c->path, c->db, rc);
	else if (g)
		sys_finish(g);
out:
	sqlite3_finalize(st);
	return err;
}

static int clients_rows(struct ctx *c, long long run_id, struct clients_row **rows, size_t *n)
{
	static const char sql[] =
		"SELECT component, sum(accepted), sum(closed), max(peers), sum(bytes_in), "
		"sum(bytes_out), sum(retransmits), count(*) FROM sock_stats WHERE run_id = ?1 "
		"GROUP BY component ORDER BY component";
	sqlite3_stmt *st = NULL;
	int rc, err = 0;

	*rows = NULL;
	*n = 0;
	rc = sqlite3_prepare_v2(c->db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return db_err(c->path, c->db, rc);
	sqlite3_bind_int64(st, 1, run_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct clients_row *nr = realloc(*rows, (*n + 1) * sizeof(**rows)), *r;

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
		err = db_err(c->path, c->db, rc);
	sqlite3_finalize(st);
	return err;
}

static void sys_fmt_ns(long long ns, char *buf, size_t n)
{
	if (ns >= (long long)LOGHIST_INF)
		snprintf(buf, n, ">120s");
	else
		report__fmt_ns(ns, buf, n);
}

static void sys_mean(const struct sys_group *g, char *buf, size_t n)
{
	if (g->count)
		report__fmt_ns(g->sum_ns / g->count, buf, n);
	else
		snprintf(buf, n, "-");
}

/* Text: interval lines over time, merging consecutive intervals to at most SYS_TEXT_INTERVALS lines. */
static void text_over_time(struct ctx *c, const struct sys_group *iv, size_t n)
{
	size_t step = (n + SYS_TEXT_INTERVALS - 1) / SYS_TEXT_INTERVALS;

	tline(c, "  %-23s %8s %8s %8s %8s", "interval", "length", "count", "p50", "p99");
	for (size_t i = 0; i < n; i += step) {
		struct sys_group m = iv[i];
		char a[64], len[32], p50[32], p99[32];

		for (size_t j = i + 1; j < i + step && j < n; j++) {
			loghist__merge(m.hist, iv[j].hist);
			m.len_ns = iv[j].start_ns + iv[j].len_ns - m.start_ns;
		}
		sys_finish(&m);
		fmt_utc(m.start_ns, a, sizeof(a));
		fmt_span(m.len_ns, len, sizeof(len));
		sys_fmt_ns(m.p50_ns, p50, sizeof(p50));
		sys_fmt_ns(m.p99_ns, p99, sizeof(p99));
		tline(c, "  %-23s %8s %8lld %8s %8s", a, len, m.count, p50, p99);
	}
}

static void json_sys_group(FILE *o, const struct sys_group *g, bool per_target)
{
	fputs("{", o);
	json_key_str(o, "component", g->component);
	fputc(',', o);
	json_key_str(o, "syscall", g->syscall);
	if (per_target)
		fprintf(o, ",\"target_id\":%lld,\"pid\":%lld", g->target_id, g->pid);
	fprintf(o, ",\"count\":%lld,\"sum_ns\":%lld,\"p50_ns\":%lld,\"p99_ns\":%lld",
		g->count, g->sum_ns, g->p50_ns, g->p99_ns);
}

/*
 * The sections over the syscalls and sock_stats tables, in the run's
 * format; nothing when the run has no such rows. For json, what is
 * written are object members (",\"wal_fsync\":[...]", ...) of the run.
 */
static int sys_sections(struct ctx *c, long long run_id)
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
	struct clients_row *cl = NULL;
	size_t ncl = 0;
	FILE *o = c->out;
	char v[6][32];
	int err = 0;

	if (has_table(c->db, "syscalls") &&
	    ((err = sys_groups(c, by_target_sql, run_id, &tg)) ||
	     (err = sys_groups(c, wal_sql, run_id, &wal)) ||
	     (err = sys_groups(c, wal_iv_sql, run_id, &iv))))
		goto out;
	if (has_table(c->db, "sock_stats") && (err = clients_rows(c, run_id, &cl, &ncl)))
		goto out;

	switch (c->format) {
	case REPORT_JSON:
		if (wal.n) {
			fputs(",\n \"wal_fsync\":[", o);
			for (size_t i = 0; i < wal.n; i++) {
				bool first = true;

				fputs(i ? ",\n  " : "\n  ", o);
				json_sys_group(o, &wal.g[i], false);
				fputs(",\"intervals\":[", o);
				for (size_t j = 0; j < iv.n; j++) {
					const struct sys_group *g = &iv.g[j];

					if (strcmp(g->syscall, wal.g[i].syscall))
						continue;
					fprintf(o, "%s{\"interval_start_ns\":%lld,\"interval_ns\":%lld,"
						"\"count\":%lld,\"p50_ns\":%lld,\"p99_ns\":%lld}",
						first ? "" : ",", g->start_ns, g->len_ns, g->count,
						g->p50_ns, g->p99_ns);
					first = false;
				}
				fputs("]}", o);
			}
			fputs("]", o);
		}
		if (tg.n) {
			fputs(",\n \"syscalls\":[", o);
			for (size_t i = 0; i < tg.n; i++) {
				fputs(i ? ",\n  " : "\n  ", o);
				json_sys_group(o, &tg.g[i], true);
				fputs("}", o);
			}
			fputs("]", o);
		}
		if (ncl) {
			fputs(",\n \"clients\":[", o);
			for (size_t i = 0; i < ncl; i++) {
				fputs(i ? ",\n  {" : "\n  {", o);
				json_key_str(o, "component", cl[i].component);
				fprintf(o, ",\"accepted\":%lld,\"closed\":%lld,\"peers_max\":%lld,"
					"\"bytes_in\":%lld,\"bytes_out\":%lld,\"retransmits\":%lld,"
					"\"intervals\":%lld}", cl[i].accepted, cl[i].closed,
					cl[i].peers_max, cl[i].bytes_in, cl[i].bytes_out,
					cl[i].retransmits, cl[i].intervals);
			}
			fputs("]", o);
		}
		break;
	case REPORT_MD:
		if (wal.n) {
			fputs("\n### etcd WAL fsync\n\n| syscall | count | p50 | p99 | mean |\n"
			      "|---|--:|--:|--:|--:|\n", o);
			for (size_t i = 0; i < wal.n; i++) {
				sys_fmt_ns(wal.g[i].p50_ns, v[0], sizeof(v[0]));
				sys_fmt_ns(wal.g[i].p99_ns, v[1], sizeof(v[1]));
				sys_mean(&wal.g[i], v[2], sizeof(v[2]));
				fprintf(o, "| %s | %lld | %s | %s | %s |\n", wal.g[i].syscall,
					wal.g[i].count, v[0], v[1], v[2]);
			}
			fputs("\n| syscall | interval | length | count | p50 | p99 |\n"
			      "|---|---|--:|--:|--:|--:|\n", o);
			for (size_t j = 0; j < iv.n; j++) {
				fmt_utc(iv.g[j].start_ns, v[3], sizeof(v[3]));
				fmt_span(iv.g[j].len_ns, v[4], sizeof(v[4]));
				sys_fmt_ns(iv.g[j].p50_ns, v[0], sizeof(v[0]));
				sys_fmt_ns(iv.g[j].p99_ns, v[1], sizeof(v[1]));
				fprintf(o, "| %s | %s | %s | %lld | %s | %s |\n", iv.g[j].syscall, v[3],
					v[4], iv.g[j].count, v[0], v[1]);
			}
		}
		if (ncl) {
			fputs("\n### clients served\n\n| component | accepted | closed | peers (max per interval) "
			      "| bytes in | bytes out | retransmits |\n|---|--:|--:|--:|--:|--:|--:|\n", o);
			for (size_t i = 0; i < ncl; i++) {
				fputc('|', o);
				md_cell(o, cl[i].component);
				fprintf(o, " %lld | %lld | %lld | %lld | %lld | %lld |\n", cl[i].accepted,
					cl[i].closed, cl[i].peers_max, cl[i].bytes_in, cl[i].bytes_out,
					cl[i].retransmits);
			}
		}
		if (tg.n) {
			fputs("\n### syscalls per target\n\n| component | pid | syscall | count | p50 | p99 | mean |\n"
			      "|---|--:|---|--:|--:|--:|--:|\n", o);
			for (size_t i = 0; i < tg.n; i++) {
				sys_fmt_ns(tg.g[i].p50_ns, v[0], sizeof(v[0]));
				sys_fmt_ns(tg.g[i].p99_ns, v[1], sizeof(v[1]));
				sys_mean(&tg.g[i], v[2], sizeof(v[2]));
				fputc('|', o);
				md_cell(o, tg.g[i].component);
				fprintf(o, " %lld | %s | %lld | %s | %s | %s |\n", tg.g[i].pid,
					tg.g[i].syscall, tg.g[i].count, v[0], v[1], v[2]);
			}
		}
		break;
	default:
		if (wal.n) {
			tline(c, "%s", "");
			tline(c, "etcd WAL fsync (percentiles are log-linear bucket bounds, <= 25%% high)");
			tline(c, "  %-12s %10s %8s %8s %8s", "syscall", "count", "p50", "p99", "mean");
			for (size_t i = 0; i < wal.n; i++) {
				sys_fmt_ns(wal.g[i].p50_ns, v[0], sizeof(v[0]));
				sys_fmt_ns(wal.g[i].p99_ns, v[1], sizeof(v[1]));
				sys_mean(&wal.g[i], v[2], sizeof(v[2]));
				tline(c, "  %-12s %10lld %8s %8s %8s", wal.g[i].syscall, wal.g[i].count,
				      v[0], v[1], v[2]);
			}
			for (size_t i = 0, j = 0; i < wal.n; i++) {
				size_t k = j;

				while (k < iv.n && strcmp(iv.g[k].syscall, wal.g[i].syscall) == 0)
					k++;
				tline(c, "  %s over time", wal.g[i].syscall);
				text_over_time(c, iv.g + j, k - j);
				j = k;
			}
		}
		if (ncl) {
			tline(c, "%s", "");
			tline(c, "clients served (TCP connections on the targets' listening ports)");
			tline(c, "  %-10s %9s %8s %10s %12s %12s %8s", "component", "accepted", "closed",
			      "peers max", "bytes in", "bytes out", "retrans");
			for (size_t i = 0; i < ncl; i++)
				tline(c, "  %-10.10s %9lld %8lld %10lld %12lld %12lld %8lld",
				      cl[i].component, cl[i].accepted, cl[i].closed, cl[i].peers_max,
				      cl[i].bytes_in, cl[i].bytes_out, cl[i].retransmits);
			tline(c, "  peers max: most distinct client addresses seen in one interval");
		}
		if (tg.n) {
			tline(c, "%s", "");
			tline(c, "syscalls per target");
			tline(c, "  %-10s %8s %-16s %10s %8s %8s %8s", "component", "pid", "syscall",
			      "count", "p50", "p99", "mean");
			for (size_t i = 0; i < tg.n; i++) {
				sys_fmt_ns(tg.g[i].p50_ns, v[0], sizeof(v[0]));
				sys_fmt_ns(tg.g[i].p99_ns, v[1], sizeof(v[1]));
				sys_mean(&tg.g[i], v[2], sizeof(v[2]));
				tline(c, "  %-10.10s %8lld %-16.16s %10lld %8s %8s %8s", tg.g[i].component,
				      tg.g[i].pid, tg.g[i].syscall, tg.g[i].count, v[0], v[1], v[2]);
			}
		}
		break;
	}
out:
	free(tg.g);
	free(wal.g);
	free(iv.g);
	free(cl);
	return err;
}

/* ---------- columns added within schema version 1 ---------- */

bool report__has_column(sqlite3 *db, const char *table, const char *column)
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
	if (report__has_column(db, table, column))
		snprintf(buf, n, "%s%s%s", alias ? alias : "", alias ? "." : "", column);
	else
		snprintf(buf, n, "NULL");
}

static int load_run_extra(const char *path, sqlite3 *db, long long run_id, struct run_extra *x)
{
	static const char *const cols[] = { "nodes", "pods", "namespaces", "sample_hz",
					    "lost_samples", "cluster_source" };
	char sql[512], c[6][64];
	sqlite3_stmt *st = NULL;
	long long *v[] = { &x->nodes, &x->pods, &x->namespaces, &x->sample_hz, &x->lost_samples };
	int rc;

	memset(x, 0, sizeof(*x));
	for (int i = 0; i < 5; i++)
		*v[i] = -1;
	for (int i = 0; i < 6; i++)
		col_or_null(db, "runs", NULL, cols[i], c[i], sizeof(c[i]));
	snprintf(sql, sizeof(sql), "SELECT %s, %s, %s, %s, %s, %s FROM runs WHERE id = ?1", c[0], c[1],
		 c[2], c[3], c[4], c[5]);
	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, run_id);
		rc = sqlite3_step(st);
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		rc = db_err(path, db, rc);
		sqlite3_finalize(st);
		return rc;
	}
	if (rc == SQLITE_ROW) {
		for (int i = 0; i < 5; i++)
			if (sqlite3_column_type(st, i) != SQLITE_NULL)
				*v[i] = sqlite3_column_int64(st, i);
		x->cluster_source = xstrdup(sqlite3_column_text(st, 5));
	}
	sqlite3_finalize(st);
	return 0;
}

/* ---------- CPU: categories per component, serialization per call kind ---------- */

static const char *const ser_categories[] = {
	"json_encode", "json_decode", "protobuf_encode", "protobuf_decode", "yaml", NULL,
};

int report__is_serialization(const char *category)
{
	return is_one_of(category, ser_categories);
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

/*
 * The CPU section of run RUN_ID, or *CPUP NULL when it has no samples.
 * CALLS (the run's call groups) give the requests per kind.
 */
static int load_cpu(const char *path, sqlite3 *db, long long run_id,
		    const struct report_call *calls, size_t ncalls, struct report_cpu **cpup)
{
	char comp[128], sub[64], scope[64], kcpu[64], sql[1024];
	struct report_cpu *cpu = NULL;
	sqlite3_stmt *st = NULL;
	int rc, err = 0;

	*cpup = NULL;
	if (!has_table(db, "cpu_profile"))
		return 0;
	if (report__has_column(db, "cpu_profile", "component"))
		snprintf(comp, sizeof(comp), "coalesce(p.component, t.component, '')");
	else
		snprintf(comp, sizeof(comp), "coalesce(t.component, '')");
	snprintf(sub, sizeof(sub), "%s", report__has_column(db, "cpu_profile", "subresource") ?
		 "coalesce(p.subresource, '')" : "''");
	snprintf(scope, sizeof(scope), "%s", report__has_column(db, "cpu_profile", "scope") ?
		 "coalesce(p.scope, '')" : "''");
	col_or_null(db, "targets", NULL, "cpu_ns", kcpu, sizeof(kcpu));

	snprintf(sql, sizeof(sql),
		 "SELECT %s, coalesce(p.category, 'unknown'), sum(p.samples), sum(p.cpu_ns) "
		 "FROM cpu_profile p LEFT JOIN targets t ON t.id = p.target_id WHERE p.run_id = ?1 "
		 "GROUP BY 1, 2 ORDER BY 1, 4 DESC, 2", comp);
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
	if (rc != SQLITE_DONE)
		goto dberr;
	sqlite3_finalize(st);
	st = NULL;
	if (!cpu)
		return 0;

	/* The kernel's account of the same processes, the sampler's honesty check. */
	snprintf(sql, sizeof(sql), "SELECT coalesce(component, ''), sum(%s), count(%s) FROM targets "
		 "WHERE run_id = ?1 GROUP BY 1", kcpu, kcpu);
	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		goto dberr;
	sqlite3_bind_int64(st, 1, run_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *c = (const char *)sqlite3_column_text(st, 0);

		for (size_t i = 0; i < cpu->ncomps; i++)
			if (c && strcmp(cpu->comps[i].component, c) == 0 &&
			    sqlite3_column_int64(st, 2) > 0)
				cpu->comps[i].kernel_cpu_ns = sqlite3_column_int64(st, 1);
	}
	if (rc != SQLITE_DONE)
		goto dberr;
	sqlite3_finalize(st);
	st = NULL;

	snprintf(sql, sizeof(sql),
		 "SELECT %s, coalesce(p.verb, ''), coalesce(p.resource, ''), %s, %s, sum(p.cpu_ns) "
		 "FROM cpu_profile p LEFT JOIN targets t ON t.id = p.target_id WHERE p.run_id = ?1 "
		 "AND p.category IN ('json_encode', 'json_decode', 'protobuf_encode', "
		 "'protobuf_decode', 'yaml') GROUP BY 1, 2, 3, 4, 5", comp, sub, scope);
	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		goto dberr;
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
	if (rc != SQLITE_DONE)
		goto dberr;
	qsort(cpu->ser, cpu->nser, sizeof(*cpu->ser), ser_cmp);
	goto out;

nomem:
	err = -ENOMEM;
	cp_seterr("out of memory");
	goto out;
dberr:
	err = db_err(path, db, rc);
out:
	sqlite3_finalize(st);
	if (err)
		cpu_free(cpu);
	else
		*cpup = cpu;
	return err;
}

static double share(long long part, long long whole)
{
	return whole > 0 ? (double)part / whole : 0;
}

void report__json_hist(FILE *o, const __u64 *hist)
{
	bool first = true;

	fputc('[', o);
	for (int i = 0; hist && i < LOGHIST_NBUCKETS; i++) {
		if (!hist[i])
			continue;
		fprintf(o, "%s[%llu,%llu]", first ? "" : ",", (unsigned long long)loghist_upper(i),
			(unsigned long long)hist[i]);
		first = false;
	}
	fputc(']', o);
}

void report__json_cpu(FILE *o, const struct report_cpu *cpu)
{
	if (!cpu) {
		fputs("null", o);
		return;
	}
	fputs("{\"serialization_categories\":[", o);
	for (int i = 0; ser_categories[i]; i++)
		fprintf(o, "%s\"%s\"", i ? "," : "", ser_categories[i]);
	fputs("],\n  \"components\":[", o);
	for (size_t i = 0; i < cpu->ncomps; i++) {
		const struct report_cpu_comp *c = &cpu->comps[i];

		fputs(i ? ",\n   {" : "\n   {", o);
		json_key_str(o, "component", c->component);
		fprintf(o, ",\"samples\":%lld,\"sampled_cpu_ns\":%lld,\"kernel_cpu_ns\":", c->samples,
			c->cpu_ns);
		if (c->kernel_cpu_ns < 0)
			fputs("null", o);
		else
			fprintf(o, "%lld", c->kernel_cpu_ns);
		fprintf(o, ",\"serialization_cpu_ns\":%lld,\"serialization_share\":%.6g,"
			"\"unknown_cpu_ns\":%lld,\"unknown_share\":%.6g,\"categories\":[",
			c->ser_ns, share(c->ser_ns, c->cpu_ns), c->unknown_ns,
			share(c->unknown_ns, c->cpu_ns));
		for (size_t j = 0; j < c->ncats; j++) {
			fputs(j ? ",{" : "{", o);
			json_key_str(o, "category", c->cats[j].category);
			fprintf(o, ",\"samples\":%lld,\"cpu_ns\":%lld,\"share\":%.6g}",
				c->cats[j].samples, c->cats[j].cpu_ns,
				share(c->cats[j].cpu_ns, c->cpu_ns));
		}
		fputs("]}", o);
	}
	fputs("],\n  \"top_serialization\":[", o);
	for (size_t i = 0; i < cpu->nser; i++) {
		const struct report_ser *s = &cpu->ser[i];

		fputs(i ? ",\n   {" : "\n   {", o);
		json_call_key(o, s->component, s->verb, s->resource, s->subresource, false, NULL,
			      s->scope);
		fprintf(o, ",\"serialization_cpu_ns\":%lld,\"requests\":%lld,\"ns_per_request\":",
			s->ser_ns, s->requests);
		if (s->requests)
			fprintf(o, "%.6g}", (double)s->ser_ns / s->requests);
		else
			fputs("null}", o);
	}
	fputs("]}", o);
}

/* Text and Markdown of the CPU section. */
static void cpu_text(struct ctx *c, const struct report_cpu *cpu)
{
	char a[32], b[32], name[512], cut[256];

	if (!cpu)
		return;
	if (c->format == REPORT_MD) {
		fputs("\n### CPU (sampled)\n\n| component | samples | sampled CPU | kernel CPU "
		      "| serialization | unknown | top categories |\n|---|--:|--:|--:|--:|--:|---|\n",
		      c->out);
	} else {
		tline(c, "%s", "");
		tline(c, "CPU (sampled; kernel = CPU time /proc accounted to the targets, the check)");
		tline(c, "  %-10s %9s %9s %9s %6s %6s  %s", "component", "samples", "sampled", "kernel",
		      "serial", "unknwn", "top categories");
	}
	for (size_t i = 0; i < cpu->ncomps; i++) {
		const struct report_cpu_comp *cc = &cpu->comps[i];
		char top[256];
		size_t o = 0;

		report__fmt_ns(cc->cpu_ns, a, sizeof(a));
		report__fmt_ns(cc->kernel_cpu_ns, b, sizeof(b));
		top[0] = '\0';
		for (size_t j = 0; j < cc->ncats && j < 4 && o < sizeof(top) - 1; j++)
			o += snprintf(top + o, sizeof(top) - o, "%s%s %.0f%%", j ? ", " : "",
				      cc->cats[j].category, 100 * share(cc->cats[j].cpu_ns, cc->cpu_ns));
		if (c->format == REPORT_MD) {
			fputc('|', c->out);
			md_cell(c->out, cc->component);
			fprintf(c->out, " %lld | %s | %s | %.1f%% | %.1f%% |", cc->samples, a, b,
				100 * share(cc->ser_ns, cc->cpu_ns),
				100 * share(cc->unknown_ns, cc->cpu_ns));
			md_cell(c->out, top);
			fputc('\n', c->out);
		} else {
			tline(c, "  %-10.10s %9lld %9s %9s %5.1f%% %5.1f%%  %s", cc->component,
			      cc->samples, a, b, 100 * share(cc->ser_ns, cc->cpu_ns),
			      100 * share(cc->unknown_ns, cc->cpu_ns), clip(top, 40, cut, sizeof(cut)));
		}
	}
	if (c->format == REPORT_MD)
		fputs("\nSerialization is json_encode, json_decode, protobuf_encode, protobuf_decode "
		      "and yaml; gzip is compression, not serialization. unknown: samples that "
		      "could not be symbolized.\n", c->out);
	else
		tline(c, "  serial: json/protobuf encode+decode and yaml (gzip is compression, not "
		      "counted); unknwn: not symbolized");
	if (!cpu->nser)
		return;
	if (c->format == REPORT_MD)
		fputs("\n| component | verb | resource | scope | serialization CPU | requests "
		      "| per request |\n|---|---|---|---|--:|--:|--:|\n", c->out);
	else {
		tline(c, "%s", "");
		tline(c, "serialization CPU per request (top %d)", 15);
		tline(c, "  %-10s %-10s %-32s %-9s %9s %9s %9s", "component", "verb", "resource", "scope",
		      "CPU", "requests", "per req");
	}
	for (size_t i = 0; i < cpu->nser && (c->format == REPORT_MD || i < 15); i++) {
		const struct report_ser *s = &cpu->ser[i];

		report__fmt_ns(s->ser_ns, a, sizeof(a));
		if (s->requests)
			report__fmt_ns(s->ser_ns / s->requests, b, sizeof(b));
		else
			snprintf(b, sizeof(b), "-");
		snprintf(name, sizeof(name), "%s%s%s", str_or(s->resource, "-"),
			 *s->subresource ? "/" : "", s->subresource);
		if (c->format == REPORT_MD) {
			fputc('|', c->out);
			md_cell(c->out, s->component);
			md_cell(c->out, str_or(s->verb, "-"));
			md_cell(c->out, name);
			md_cell(c->out, str_or(s->scope, "-"));
			fprintf(c->out, " %s | %lld | %s |\n", a, s->requests, b);
		} else {
			char v[64], sc[64];

			tline(c, "  %-10.10s %-10s %-32s %-9s %9s %9lld %9s", s->component,
			      clip(str_or(s->verb, "-"), 10, v, sizeof(v)), clip(name, 32, cut, sizeof(cut)),
			      clip(str_or(s->scope, "-"), 9, sc, sizeof(sc)), a, s->requests, b);
		}
	}
}

/* ---------- folded stacks ---------- */

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

int report__folded(const char *db_path, const char *label, const char *component, FILE *out)
{
	sqlite3_stmt *st = NULL;
	long long run_id = 0, lines = 0;
	sqlite3 *db;
	int rc, err;

	err = open_db(db_path, &db);
	if (err)
		return err;
	sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
	err = find_run(db_path, db, label, "choose one with --label", &run_id);
	if (err)
		goto out;
	if (!has_table(db, "cpu_stacks")) {
		cp_seterr("'%s' has no CPU stacks (recorded by a cpprof without CPU sampling)", db_path);
		err = -ENOENT;
		goto out;
	}
	rc = sqlite3_prepare_v2(db, component ?
		"SELECT stack, sum(samples) FROM cpu_stacks WHERE run_id = ?1 AND component = ?2 "
		"GROUP BY stack ORDER BY stack" :
		"SELECT stack, sum(samples) FROM cpu_stacks WHERE run_id = ?1 "
		"GROUP BY stack ORDER BY stack", -1, &st, NULL);
	if (rc != SQLITE_OK) {
		err = db_err(db_path, db, rc);
		goto out;
	}
	sqlite3_bind_int64(st, 1, run_id);
	if (component)
		sqlite3_bind_text(st, 2, component, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *s = (const char *)sqlite3_column_text(st, 0);
		long long n = sqlite3_column_int64(st, 1);

		if (!s || !*s || n <= 0)
			continue;
		/* A newline in a frame would split the line: flamegraph.pl reads one stack a line. */
		for (; *s; s++)
			fputc(*s == '\n' || *s == '\r' ? ' ' : *s, out);
		fprintf(out, " %lld\n", n);
		lines++;
	}
	if (rc != SQLITE_DONE) {
		err = db_err(db_path, db, rc);
		goto out;
	}
	if (!lines) {
		cp_seterr("run has no CPU samples%s%s%s (recorded with --sample-hz 0?)",
			  component ? " of component '" : "", component ? component : "",
			  component ? "'" : "");
		err = -ENOENT;
		goto out;
	}
	if (fflush(out) != 0 || ferror(out)) {
		err = -EIO;
		cp_seterr("cannot write the stacks: %s", strerror(errno));
	}
out:
	sqlite3_finalize(st);
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	sqlite3_close(db);
	return err;
}

/* ---------- driver ---------- */

static const char runs_cols[] =
	"SELECT id, label, kind, started_ns, ended_ns, host, kernel, command, "
	"requests, lost_events, unmatched FROM runs";

/*
 * Text and Markdown sections after the calls table: the SLO windows of
 * kinds that failed in some, errors by status, and requests over time.
 */
#define TEXT_TIME_LINES 20

static void calls_more(struct ctx *c, const struct report_call *calls, size_t n,
		       const struct calls_out *co)
{
	bool md = c->format == REPORT_MD, any = false;
	char name[512], a[64], b[64], cut[256], line[512];
	long long nwin = 0;
	struct report_window *tot = NULL;

	for (size_t i = 0; i < n; i++) {
		const struct report_call *k = &calls[i];

		if (k->slo_ok != 0)
			continue;
		if (!any) {
			if (md)
				fputs("\n### SLO windows that failed\n\n| component | verb | resource "
				      "| scope | failed windows | worst window | its p99 (bucket) |\n"
				      "|---|---|---|---|--:|---|--:|\n", c->out);
			else {
				tline(c, "%s", "");
				tline(c, "SLO: 5-minute windows from the run's start; a kind fails if any does");
			}
			any = true;
		}
		call_name(k, name, sizeof(name));
		fmt_utc(k->slo_worst_start_ns, a, sizeof(a));
		report__fmt_ns(k->slo_worst_p99_ns, b, sizeof(b));
		if (md) {
			fputc('|', c->out);
			md_cell(c->out, k->component);
			md_cell(c->out, k->verb);
			md_cell(c->out, name);
			md_cell(c->out, k->scope);
			fprintf(c->out, " %lld of %lld | %s | %s |\n", k->slo_windows_failed,
				k->slo_windows, a, b);
		} else {
			snprintf(line, sizeof(line), "%.60s %.300s %.60s", str_or(k->verb, "-"), name,
				 str_or(k->scope, "-"));
			tline(c, "  %-44s %3lld of %-3lld failed, worst %s p99 %s",
			      clip(line, 44, cut, sizeof(cut)), k->slo_windows_failed, k->slo_windows,
			      a + 11, b);
		}
	}

	any = false;
	for (size_t i = 0; i < n; i++) {
		const struct report_call *k = &calls[i];
		size_t o = 0;

		if (!k->errors)
			continue;
		if (!any) {
			if (md)
				fputs("\n### Errors by status\n\n| component | verb | resource | scope "
				      "| errors | by status |\n|---|---|---|---|--:|---|\n", c->out);
			else {
				tline(c, "%s", "");
				tline(c, "errors by status (HTTP status, or gRPC code)");
			}
			any = true;
		}
		line[0] = '\0';
		for (size_t j = 0; j < k->nstatuses && o < sizeof(line) - 1; j++)
			if (k->statuses[j].error)
				o += snprintf(line + o, sizeof(line) - o, "%s%d x%lld", o ? ", " : "",
					      k->statuses[j].status, k->statuses[j].count);
		call_name(k, name, sizeof(name));
		if (md) {
			fputc('|', c->out);
			md_cell(c->out, k->component);
			md_cell(c->out, k->verb);
			md_cell(c->out, name);
			md_cell(c->out, k->scope);
			fprintf(c->out, " %lld |", k->errors);
			md_cell(c->out, line);
			fputc('\n', c->out);
		} else {
			char kind[256];

			snprintf(kind, sizeof(kind), "%.30s %.30s %.150s %.30s", str_or(k->component, "-"),
				 str_or(k->verb, "-"), name, str_or(k->scope, "-"));
			tline(c, "  %-50s %s", clip(kind, 50, cut, sizeof(cut)), line);
		}
	}

	/* Requests over time: every kind summed per timeline window. */
	{
		long long first = -1, last = -1;

		for (size_t i = 0; i < n; i++)
			for (size_t j = 0; j < calls[i].ntimeline; j++) {
				long long s = calls[i].timeline[j].start_ns;

				if (first < 0 || s < first)
					first = s;
				if (s > last)
					last = s;
			}
		if (first < 0 || co->tl_ns <= 0)
			return;
		nwin = (last - first) / co->tl_ns + 1;
		if (nwin > 100000 || !(tot = calloc(nwin, sizeof(*tot))))
			return;
		for (long long w = 0; w < nwin; w++)
			tot[w].start_ns = first + w * co->tl_ns;
		for (size_t i = 0; i < n; i++)
			for (size_t j = 0; j < calls[i].ntimeline; j++) {
				const struct report_window *x = &calls[i].timeline[j];
				long long w = (x->start_ns - first) / co->tl_ns;

				tot[w].count += x->count;
				tot[w].errors += x->errors;
			}
	}
	{
		long long step = (nwin + TEXT_TIME_LINES - 1) / TEXT_TIME_LINES;

		fmt_span(co->tl_ns * step, b, sizeof(b));
		if (md)
			fprintf(c->out, "\n### Requests over time (%s windows)\n\n| from | requests "
				"| per second | errors |\n|---|--:|--:|--:|\n", b);
		else {
			tline(c, "%s", "");
			tline(c, "requests over time (%s windows; JSON has every kind's p50/p99 per window)",
			      b);
			tline(c, "  %-23s %10s %10s %8s", "from", "requests", "per s", "errors");
		}
		for (long long w = 0; w < nwin; w += step) {
			long long cnt = 0, errs = 0;

			for (long long j = w; j < w + step && j < nwin; j++) {
				cnt += tot[j].count;
				errs += tot[j].errors;
			}
			fmt_utc(tot[w].start_ns, a, sizeof(a));
			if (md)
				fprintf(c->out, "| %s | %lld | %.1f | %lld |\n", a, cnt,
					cnt / (co->tl_ns * step / 1e9), errs);
			else
				tline(c, "  %-23s %10lld %10.1f %8lld", a, cnt,
				      cnt / (co->tl_ns * step / 1e9), errs);
		}
	}
	free(tot);
}

static int write_run(struct ctx *c, sqlite3_stmt *rs)
{
	struct report_cpu *cpu = NULL;
	struct run_extra x = { 0 };
	struct calls_out co = { 0 };
	struct report_call *calls;
	sqlite3_stmt *tg = NULL;
	long long stored = 0;
	struct run r = { 0 };
	char sql[512], tc[4][64];
	size_t n;
	int rc, err;

	r.id = sqlite3_column_int64(rs, 0);
	r.label = (const char *)sqlite3_column_text(rs, 1);
	r.kind = (const char *)sqlite3_column_text(rs, 2);
	r.started_ns = sqlite3_column_int64(rs, 3);
	r.has_ended = sqlite3_column_type(rs, 4) != SQLITE_NULL;
	r.ended_ns = sqlite3_column_int64(rs, 4);
	r.host = (const char *)sqlite3_column_text(rs, 5);
	r.kernel = (const char *)sqlite3_column_text(rs, 6);
	r.command = (const char *)sqlite3_column_text(rs, 7);
	r.has_requests = sqlite3_column_type(rs, 8) != SQLITE_NULL;
	r.requests = sqlite3_column_int64(rs, 8);
	r.lost_events = sqlite3_column_int64(rs, 9);
	r.unmatched = sqlite3_column_int64(rs, 10);

	err = run_calls(c->path, c->db, r.id, r.started_ns, r.has_ended ? r.ended_ns : -1, &co);
	calls = co.calls;
	n = co.n;
	if (err)
		goto cleanup;
	for (size_t i = 0; i < n; i++)
		stored += calls[i].count;
	if ((err = load_run_extra(c->path, c->db, r.id, &x)) ||
	    (err = load_cpu(c->path, c->db, r.id, calls, n, &cpu)))
		goto cleanup;

	col_or_null(c->db, "targets", NULL, "k8s_version", tc[0], sizeof(tc[0]));
	col_or_null(c->db, "targets", NULL, "etcd_version", tc[1], sizeof(tc[1]));
	col_or_null(c->db, "targets", NULL, "cpu_ns", tc[2], sizeof(tc[2]));
	col_or_null(c->db, "targets", NULL, "samples", tc[3], sizeof(tc[3]));
	snprintf(sql, sizeof(sql), "SELECT id, pid, component, exe, go_version, main_path, "
		 "build_id, offsets_source, probes, attached_ns, exited_ns, %s, %s, %s, %s "
		 "FROM targets WHERE run_id = ?1 ORDER BY id", tc[0], tc[1], tc[2], tc[3]);
	rc = sqlite3_prepare_v2(c->db, sql, -1, &tg, NULL);
	if (rc != SQLITE_OK) {
		err = db_err(c->path, c->db, rc);
		goto cleanup;
	}
	sqlite3_bind_int64(tg, 1, r.id);

	switch (c->format) {
	case REPORT_JSON:
		json_run(c, &r, rs, tg, calls, n, &co, &x);
		break;
	case REPORT_MD:
		md_run(c, &r, tg, calls, n, stored, &x);
		calls_more(c, calls, n, &co);
		break;
	default:
		text_header(c, &r, tg, stored, &x, co.dur_ns);
		text_table(c, calls, n);
		calls_more(c, calls, n, &co);
		break;
	}
	err = sys_sections(c, r.id);
	if (c->format == REPORT_JSON) {
		if (cpu) {
			fputs(",\n \"cpu\":", c->out);
			report__json_cpu(c->out, cpu);
		}
		fputc('}', c->out);
	} else {
		cpu_text(c, cpu);
	}
	if (err)
		goto cleanup;
	c->nruns++;

cleanup:
	sqlite3_finalize(tg);
	report__calls_free(calls, n);
	cpu_free(cpu);
	free(x.cluster_source);
	return err;
}

int report__write(const char *db_path, const struct report_opts *o, FILE *out)
{
	struct ctx c = { .path = db_path, .out = out, .format = o->format };
	sqlite3_stmt *rs = NULL;
	bool in_tx = false;
	int rc, err;

	err = open_db(db_path, &c.db);
	if (err)
		return err;
	/* One snapshot for everything below, even while a recorder appends. */
	if (sqlite3_exec(c.db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
		err = db_err(db_path, c.db, sqlite3_errcode(c.db));
		goto cleanup;
	}
	in_tx = true;

	if (o->label) {
		rc = sqlite3_prepare_v2(c.db, "SELECT count(*) FROM runs WHERE label = ?1", -1, &rs,
					NULL);
		if (rc == SQLITE_OK) {
			sqlite3_bind_text(rs, 1, o->label, -1, SQLITE_STATIC);
			rc = sqlite3_step(rs);
		}
		if (rc != SQLITE_ROW) {
			err = db_err(db_path, c.db, rc);
			goto cleanup;
		}
		if (sqlite3_column_int64(rs, 0) == 0) {
			err = no_such_label(db_path, c.db, o->label);
			goto cleanup;
		}
		sqlite3_finalize(rs);
		rs = NULL;
	}

	{
		char sql[256];

		snprintf(sql, sizeof(sql), "%s%s ORDER BY id", runs_cols,
			 o->label ? " WHERE label = ?1" : "");
		rc = sqlite3_prepare_v2(c.db, sql, -1, &rs, NULL);
	}
	if (rc != SQLITE_OK) {
		err = db_err(db_path, c.db, rc);
		goto cleanup;
	}
	if (o->label)
		sqlite3_bind_text(rs, 1, o->label, -1, SQLITE_STATIC);

	if (c.format == REPORT_JSON)
		fputs("{\"format_version\":1,\"runs\":[", out);
	while ((rc = sqlite3_step(rs)) == SQLITE_ROW) {
		err = write_run(&c, rs);
		if (err)
			goto cleanup;
	}
	if (rc != SQLITE_DONE) {
		err = db_err(db_path, c.db, rc);
		goto cleanup;
	}
	if (c.format == REPORT_JSON)
		fputs("\n]}\n", out);
	else if (c.nruns == 0)
		fprintf(out, "'%s' holds no runs\n", db_path);
	else if (c.format == REPORT_TEXT)
		text_footer(&c);

	if (fflush(out) != 0 || ferror(out)) {
		err = -EIO;
		cp_seterr("cannot write the report: %s", strerror(errno));
	}

cleanup:
	sqlite3_finalize(rs);
	if (in_tx)
		sqlite3_exec(c.db, "COMMIT", NULL, NULL, NULL);
	sqlite3_close(c.db);
	return err;
}

void report__run_free(struct report_run *r)
{
	if (!r)
		return;
	free(r->db);
	free(r->label);
	free(r->kind);
	free(r->host);
	free(r->kernel);
	free(r->cluster_source);
	for (size_t i = 0; i < r->ntargets; i++) {
		free(r->targets[i].component);
		free(r->targets[i].exe);
		free(r->targets[i].go_version);
		free(r->targets[i].k8s_version);
		free(r->targets[i].etcd_version);
	}
	free(r->targets);
	report__calls_free(r->calls, r->ncalls);
	cpu_free(r->cpu);
	free(r->fsync);
	free(r);
}

static int load_targets(const char *path, sqlite3 *db, struct report_run *r)
{
	char sql[512], k8s[32], etcd[32], cpu[32];
	sqlite3_stmt *st = NULL;
	int rc, err = 0;

	col_or_null(db, "targets", NULL, "k8s_version", k8s, sizeof(k8s));
	col_or_null(db, "targets", NULL, "etcd_version", etcd, sizeof(etcd));
	col_or_null(db, "targets", NULL, "cpu_ns", cpu, sizeof(cpu));
	snprintf(sql, sizeof(sql), "SELECT component, exe, go_version, %s, %s, pid, %s FROM targets "
		 "WHERE run_id = ?1 ORDER BY id", k8s, etcd, cpu);
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
		t->component = xstrdup(sqlite3_column_text(st, 0));
		t->exe = xstrdup(sqlite3_column_text(st, 1));
		t->go_version = xstrdup(sqlite3_column_text(st, 2));
		t->k8s_version = xstrdup(sqlite3_column_text(st, 3));
		t->etcd_version = xstrdup(sqlite3_column_text(st, 4));
		t->pid = sqlite3_column_int64(st, 5);
		t->cpu_ns = sqlite3_column_type(st, 6) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 6);
	}
	if (!err && rc != SQLITE_DONE)
		err = db_err(path, db, rc);
	sqlite3_finalize(st);
	return err;
}

int report__load(const char *db_path, const char *label, struct report_run **runp)
{
	struct report_run *r = NULL;
	struct calls_out co;
	struct run_extra x = { 0 };
	sqlite3_stmt *st = NULL;
	long long run_id = 0;
	sqlite3 *db;
	int rc, err;

	*runp = NULL;
	err = open_db(db_path, &db);
	if (err)
		return err;
	/* One snapshot for everything below, even while a recorder appends. */
	sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
	err = find_run(db_path, db, label, NULL, &run_id);
	if (err)
		goto cleanup;
	if (!(r = calloc(1, sizeof(*r))) || !(r->db = strdup(db_path))) {
		cp_seterr("out of memory");
		err = -ENOMEM;
		goto cleanup;
	}
	r->id = run_id;
	rc = sqlite3_prepare_v2(db, "SELECT label, kind, host, kernel, started_ns, ended_ns "
				"FROM runs WHERE id = ?1", -1, &st, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, run_id);
		rc = sqlite3_step(st);
	}
	if (rc != SQLITE_ROW) {
		err = db_err(db_path, db, rc);
		goto cleanup;
	}
	r->label = xstrdup(sqlite3_column_text(st, 0));
	r->kind = xstrdup(sqlite3_column_text(st, 1));
	r->host = xstrdup(sqlite3_column_text(st, 2));
	r->kernel = xstrdup(sqlite3_column_text(st, 3));
	r->started_ns = sqlite3_column_int64(st, 4);
	r->ended_ns = sqlite3_column_type(st, 5) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 5);
	sqlite3_finalize(st);
	st = NULL;

	err = run_calls(db_path, db, run_id, r->started_ns, r->ended_ns, &co);
	if (err)
		goto cleanup;
	r->calls = co.calls;
	r->ncalls = co.n;
	r->duration_ns = co.dur_ns;
	r->timeline_window_ns = co.tl_ns;
	for (size_t i = 0; i < r->ncalls; i++)
		r->requests += r->calls[i].count;
	if ((err = load_run_extra(db_path, db, run_id, &x)))
		goto cleanup;
	r->nodes = x.nodes;
	r->pods = x.pods;
	r->namespaces = x.namespaces;
	r->cluster_source = x.cluster_source;
	if ((err = load_targets(db_path, db, r)) ||
	    (err = load_cpu(db_path, db, run_id, r->calls, r->ncalls, &r->cpu)))
		goto cleanup;
	if (has_table(db, "syscalls")) {
		static const char wal_sql[] =
			"SELECT component, syscall, 0, 0, 0, 0, le_ns, sum(count), sum(sum_ns) "
			"FROM syscalls WHERE run_id = ?1 AND component = 'etcd' "
			"AND syscall IN ('fdatasync', 'fsync') GROUP BY 2, 7 ORDER BY 2, 7";
		struct ctx c = { .path = db_path, .db = db };
		struct sys_list wal = { 0 };

		err = sys_groups(&c, wal_sql, run_id, &wal);
		if (!err && wal.n && !(r->fsync = calloc(wal.n, sizeof(*r->fsync)))) {
			cp_seterr("out of memory");
			err = -ENOMEM;
		}
		for (size_t i = 0; !err && i < wal.n; i++) {
			struct report_fsync *f = &r->fsync[r->nfsync++];

			snprintf(f->syscall, sizeof(f->syscall), "%s", wal.g[i].syscall);
			f->count = wal.g[i].count;
			f->sum_ns = wal.g[i].sum_ns;
			f->p50_ns = wal.g[i].p50_ns;
			f->p99_ns = wal.g[i].p99_ns;
		}
		free(wal.g);
	}

cleanup:
	sqlite3_finalize(st);
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	sqlite3_close(db);
	if (err)
		report__run_free(r);
	else
		*runp = r;
	return err;
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
