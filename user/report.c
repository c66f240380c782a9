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
#define ERROR_SQL "sum(CASE WHEN protocol = 'gRPC' THEN status != 0 AND NOT (verb = 'watch' AND status = 1) " \
		  "ELSE status >= 500 OR status = 429 END)"
/* Must match between the two queries: the walk below pairs them by position. */
#define GROUP_COLS "component, verb, resource, subresource, scope, path"

static int run_calls(const char *path, sqlite3 *db, long long run_id,
		     struct report_call **callsp, size_t *np)
{
	static const char groups_sql[] =
		"SELECT " GROUP_COLS ", count(*), max(latency_ns), " ERROR_SQL
		" FROM requests WHERE run_id = ?1 AND latency_ns IS NOT NULL"
		" GROUP BY " GROUP_COLS " ORDER BY " GROUP_COLS;
	static const char rows_sql[] =
		"SELECT latency_ns FROM requests WHERE run_id = ?1 AND latency_ns IS NOT NULL"
		" ORDER BY " GROUP_COLS ", latency_ns";
	struct report_call *calls = NULL, *tmp;
	sqlite3_stmt *st = NULL;
	size_t n = 0, cap = 0;
	int rc, err = 0;

	rc = sqlite3_prepare_v2(db, groups_sql, -1, &st, NULL);
	if (rc != SQLITE_OK) {
		err = db_err(path, db, rc);
		goto cleanup;
	}
	sqlite3_bind_int64(st, 1, run_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct report_call *k;

		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			tmp = realloc(calls, cap * sizeof(*calls));
			if (!tmp) {
				err = -ENOMEM;
				cp_seterr("out of memory");
				goto cleanup;
			}
			calls = tmp;
		}
		k = &calls[n++];
		memset(k, 0, sizeof(*k));
		k->component = xstrdup(sqlite3_column_text(st, 0));
		k->verb = xstrdup(sqlite3_column_text(st, 1));
		k->resource = xstrdup(sqlite3_column_text(st, 2));
		k->subresource = xstrdup(sqlite3_column_text(st, 3));
		k->scope = xstrdup(sqlite3_column_text(st, 4));
		k->path = xstrdup(sqlite3_column_text(st, 5));
		k->count = sqlite3_column_int64(st, 6);
		k->max_ns = sqlite3_column_int64(st, 7);
		k->errors = sqlite3_column_int64(st, 8);
		/* SLO verdicts are for API calls; etcd's operations are not. */
		if (!k->component || strcmp(k->component, "etcd") != 0)
			k->slo_threshold_ns = report__slo_threshold_ns(k->verb, k->scope,
								       k->resource, k->subresource);
	}
	if (rc != SQLITE_DONE) {
		err = db_err(path, db, rc);
		goto cleanup;
	}
	sqlite3_finalize(st);

	rc = sqlite3_prepare_v2(db, rows_sql, -1, &st, NULL);
	if (rc != SQLITE_OK) {
		st = NULL;
		err = db_err(path, db, rc);
		goto cleanup;
	}
	sqlite3_bind_int64(st, 1, run_id);
	for (size_t g = 0; g < n; g++) {
		struct report_call *k = &calls[g];
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
		/*
		 * The SLO takes the p99 over 5-minute windows; this is the p99
		 * of the whole run, which can hide a bad window in a long run.
		 */
		k->slo_ok = k->slo_threshold_ns ? k->p99_ns <= k->slo_threshold_ns : -1;
	}

cleanup:
	sqlite3_finalize(st);
	if (err) {
		report__calls_free(calls, n);
		calls = NULL;
		n = 0;
	}
	*callsp = calls;
	*np = n;
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
	rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL);
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
	} else {
		report__fmt_ns(k->p99_ns, p99, sizeof(p99));
		snprintf(buf, n, "FAIL (p99 %s > %llds)", p99, k->slo_threshold_ns / NS_PER_S);
	}
}

static void text_header(struct ctx *c, const struct run *r, sqlite3_stmt *tg, long long stored)
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

		snprintf(tmp2, sizeof(tmp2), "pid %-7d %-9s %-10s", sqlite3_column_int(tg, 1),
			 str_or(comp, "?"), str_or(gov, "-"));
		tline(c, "  %-9s %s %s", first ? "targets" : "", clip(tmp2, 40, tmp, sizeof(tmp)),
		      clip(str_or(exe, "?"), 50, b, sizeof(b)));
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
	tline(c, "30s (cluster list), over the whole run, not per 5-minute window; '-' excluded");
}

/* ---------- markdown ---------- */

/* Markdown text: escape what CommonMark would read as markup (and '|', which ends a cell). */
static void md_text(FILE *out, const char *s)
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
	md_text(out, s);
	fputs(" |", out);
}

static void md_run(struct ctx *c, const struct run *r, sqlite3_stmt *tg,
		   const struct report_call *calls, size_t n, long long stored)
{
	char a[64], b[64], d[64];

	fputs(c->nruns ? "\n## Run " : "## Run ", c->out);
	md_text(c->out, r->label);
	fputs(" (", c->out);
	md_text(c->out, r->kind);
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
	md_text(c->out, r->host);
	fputs(", kernel ", c->out);
	md_text(c->out, r->kernel);
	fputc('\n', c->out);
	if (r->has_requests)
		fprintf(c->out, "- requests: %lld, lost events %lld, unmatched %lld\n",
			r->requests, r->lost_events, r->unmatched);
	else
		fprintf(c->out, "- requests: %lld stored\n", stored);
	fputs("- targets:\n", c->out);
	while (sqlite3_step(tg) == SQLITE_ROW) {
		fprintf(c->out, "  - pid %d ", sqlite3_column_int(tg, 1));
		md_text(c->out, (const char *)sqlite3_column_text(tg, 2));
		fputc(' ', c->out);
		md_text(c->out, (const char *)sqlite3_column_text(tg, 4));
		fputc(' ', c->out);
		md_text(c->out, (const char *)sqlite3_column_text(tg, 3));
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

static void json_key_int(FILE *out, const char *key, sqlite3_stmt *st, int col)
{
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		fprintf(out, "\"%s\":null", key);
	else
		fprintf(out, "\"%s\":%lld", key, (long long)sqlite3_column_int64(st, col));
}

static void json_run(struct ctx *c, const struct run *r, sqlite3_stmt *rs, sqlite3_stmt *tg,
		     const struct report_call *calls, size_t n)
{
	static const char *const tcols[] = {
		"id", "pid", "component", "exe", "go_version", "main_path", "build_id",
		"offsets_source", "probes", "attached_ns", "exited_ns",
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
		json_key_str(o, "component", k->component);
		fputc(',', o);
		json_key_str(o, "verb", k->verb);
		fputc(',', o);
		json_key_str(o, "resource", k->resource);
		fputc(',', o);
		json_key_str(o, "subresource", k->subresource);
		fputc(',', o);
		json_key_str(o, "path", k->path);
		fputc(',', o);
		json_key_str(o, "scope", k->scope);
		fprintf(o, ",\"count\":%lld,\"p50_ns\":%lld,\"p90_ns\":%lld,\"p99_ns\":%lld,"
			"\"max_ns\":%lld,\"errors\":%lld,\"slo_threshold_ns\":%lld,\"slo_ok\":%s}",
			k->count, k->p50_ns, k->p90_ns, k->p99_ns, k->max_ns, k->errors,
			k->slo_threshold_ns,
			k->slo_ok < 0 ? "null" : k->slo_ok ? "true" : "false");
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

/* ---------- driver ---------- */

static const char runs_cols[] =
	"SELECT id, label, kind, started_ns, ended_ns, host, kernel, command, "
	"requests, lost_events, unmatched FROM runs";

static int write_run(struct ctx *c, sqlite3_stmt *rs)
{
	struct report_call *calls = NULL;
	sqlite3_stmt *tg = NULL;
	long long stored = 0;
	struct run r = { 0 };
	size_t n = 0;
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

	err = run_calls(c->path, c->db, r.id, &calls, &n);
	if (err)
		goto cleanup;
	for (size_t i = 0; i < n; i++)
		stored += calls[i].count;

	rc = sqlite3_prepare_v2(c->db, "SELECT id, pid, component, exe, go_version, main_path, "
				"build_id, offsets_source, probes, attached_ns, exited_ns "
				"FROM targets WHERE run_id = ?1 ORDER BY id", -1, &tg, NULL);
	if (rc != SQLITE_OK) {
		err = db_err(c->path, c->db, rc);
		goto cleanup;
	}
	sqlite3_bind_int64(tg, 1, r.id);

	switch (c->format) {
	case REPORT_JSON:
		json_run(c, &r, rs, tg, calls, n);
		break;
	case REPORT_MD:
		md_run(c, &r, tg, calls, n, stored);
		break;
	default:
		text_header(c, &r, tg, stored);
		text_table(c, calls, n);
		break;
	}
	err = sys_sections(c, r.id);
	if (c->format == REPORT_JSON)
		fputc('}', c->out);
	if (err)
		goto cleanup;
	c->nruns++;

cleanup:
	sqlite3_finalize(tg);
	report__calls_free(calls, n);
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
		fputs("{\"runs\":[", out);
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

int report__calls(const char *db_path, const char *label, struct report_call **calls,
		  size_t *n)
{
	sqlite3_stmt *st = NULL;
	long long run_id = 0;
	int nruns = 0, rc, err;
	sqlite3 *db;

	*calls = NULL;
	*n = 0;
	err = open_db(db_path, &db);
	if (err)
		return err;
	sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
	rc = sqlite3_prepare_v2(db, label ? "SELECT id FROM runs WHERE label = ?1"
					  : "SELECT id FROM runs", -1, &st, NULL);
	if (rc != SQLITE_OK) {
		err = db_err(db_path, db, rc);
		goto cleanup;
	}
	if (label)
		sqlite3_bind_text(st, 1, label, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		run_id = sqlite3_column_int64(st, 0);
		nruns++;
	}
	if (rc != SQLITE_DONE) {
		err = db_err(db_path, db, rc);
		goto cleanup;
	}
	if (label && nruns == 0) {
		err = no_such_label(db_path, db, label);
		goto cleanup;
	}
	if (nruns == 0) {
		cp_seterr("'%s' holds no runs", db_path);
		err = -ENOENT;
		goto cleanup;
	}
	if (nruns > 1) {
		char list[256];

		list_labels(db, list, sizeof(list));
		cp_seterr("'%s' holds %d runs (%s); choose one by label", db_path, nruns, list);
		err = -EINVAL;
		goto cleanup;
	}
	err = run_calls(db_path, db, run_id, calls, n);

cleanup:
	sqlite3_finalize(st);
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	sqlite3_close(db);
	return err;
}
