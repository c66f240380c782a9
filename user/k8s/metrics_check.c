// SPDX-License-Identifier: MIT
/*
 * metrics_check: the components' own metrics over a recording, and the
 * verdicts on cpprof's figures. See metrics_check.h.
 *
 * The samples of a run are read once, ordered by endpoint, series and
 * time, so that each series' increase is a running sum over consecutive
 * scrapes; the increases are then added up per call kind, gRPC method,
 * histogram bound or endpoint.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "metrics_check.h"

int mc_hist__add(struct mc_hist *h, double le, double count)
{
	int i;

	for (i = 0; i < h->n && h->le[i] < le; i++)
		;
	if (i < h->n && h->le[i] == le) {
		h->count[i] += count;
		return 0;
	}
	if (h->n == MC_MAX_BUCKETS)
		return -ENOSPC;
	memmove(&h->le[i + 1], &h->le[i], (h->n - i) * sizeof(h->le[0]));
	memmove(&h->count[i + 1], &h->count[i], (h->n - i) * sizeof(h->count[0]));
	h->le[i] = le;
	h->count[i] = count;
	h->n++;
	return 0;
}

static int64_t le_ns(double le)
{
	if (isinf(le) || le * 1e9 >= 9.2e18)
		return INT64_MAX;
	return le <= 0 ? 0 : llround(le * 1e9);
}

/* The cumulative count of all observations: the +Inf bucket, else _count. */
static double hist_total(const struct mc_hist *h)
{
	if (h->n && isinf(h->le[h->n - 1]))
		return h->count[h->n - 1];
	return h->total;
}

int mc_hist__bucket(const struct mc_hist *h, double q, int64_t *lo_ns, int64_t *hi_ns)
{
	double total = hist_total(h), rank;

	if (!h->n || !(total > 0) || !(q > 0) || q > 1)
		return -1;
	/* histogram_quantile (promql/quantile.go): the first bucket with count >= rank */
	rank = q * total;
	for (int i = 0; i < h->n; i++) {
		if (h->count[i] >= rank) {
			*lo_ns = i ? le_ns(h->le[i - 1]) : 0;
			*hi_ns = le_ns(h->le[i]);
			return i;
		}
	}
	/* buckets that do not reach _count (no +Inf bucket exposed): the last one's upper side */
	*lo_ns = le_ns(h->le[h->n - 1]);
	*hi_ns = INT64_MAX;
	return h->n;
}

bool mc_label(const char *labels, const char *name, char *out, size_t len)
{
	size_t nlen = strlen(name);
	const char *p = labels;

	if (len)
		out[0] = 0;
	if (!p || *p != '{')
		return false;
	p++;
	while (*p && *p != '}') {
		const char *key = p;
		size_t o = 0;
		bool match;

		while (*p && *p != '=')
			p++;
		if (*p != '=' || p[1] != '"')
			return false;
		match = (size_t)(p - key) == nlen && !strncmp(key, name, nlen);
		p += 2;
		while (*p && *p != '"') {
			char c = *p++;

			if (c == '\\' && *p) {
				c = *p == 'n' ? '\n' : *p;
				p++;
			}
			if (match && o + 1 < len)
				out[o++] = c;
		}
		if (*p != '"')
			return false;
		p++;
		if (match) {
			if (len)
				out[o] = 0;
			return true;
		}
		if (*p == ',')
			p++;
	}
	return false;
}

const char *mc_verb(const char *v)
{
	/* apiserver/pkg/endpoints/metrics/metrics.go: validRequestMethods, CleanVerb */
	static const struct { const char *metric, *cpprof; } map[] = {
		{ "POST", "create" }, { "PUT", "update" }, { "PATCH", "patch" }, { "APPLY", "patch" },
		{ "GET", "get" }, { "LIST", "list" }, { "WATCH", "watch" }, { "WATCHLIST", "watch" },
		{ "DELETE", "delete" }, { "DELETECOLLECTION", "deletecollection" },
		{ "CONNECT", "connect" }, { "PROXY", "proxy" },
		/* validRequestMethods also has the lower-case RequestInfo verbs */
		{ "CREATE", "create" }, { "UPDATE", "update" },
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (!strcmp(v, map[i].metric))
			return map[i].cpprof;
	return "other";
}

const char *mc_verb_scoped(const char *v, const char *scope)
{
	const char *verb = mc_verb(v);

	if (!strcmp(verb, "delete") && scope && (!strcmp(scope, "namespace") || !strcmp(scope, "cluster")))
		return "deletecollection";
	return verb;
}

void mc_key(const char *verb, const char *subresource, const char *scope,
	    char *out_verb, char *out_scope)
{
	/* metrics.go validConnectRequests */
	static const char *const connect[] = { "log", "exec", "portforward", "attach", "proxy", NULL };
	bool is_connect = false;

	for (int i = 0; subresource && connect[i]; i++)
		is_connect |= !strcmp(subresource, connect[i]);
	snprintf(out_verb, 24, "%s", is_connect ? "connect" : verb ? verb : "");
	/* installer.go: `if strings.Contains(action.Path, "/{name}") || action.Verb == POST` */
	snprintf(out_scope, 16, "%s", !is_connect && verb && !strcmp(verb, "create") ? "resource" :
		 scope ? scope : "");
}

/* ---- loading --------------------------------------------------------------- */

struct loader {
	struct metrics_check *mc;
	int ccap, gcap;
	int last_call;   /* cache: consecutive series are mostly one call kind's buckets */
};

static struct mc_call *find_call(struct loader *L, const char *labels)
{
	struct metrics_check *mc = L->mc;
	char raw[32], res[96], sub[48], scope[16];
	const char *v;
	struct mc_call *c;

	if (!mc_label(labels, "verb", raw, sizeof(raw)) ||
	    !mc_label(labels, "resource", res, sizeof(res)))
		return NULL;
	if (!res[0])
		return NULL;  /* non-resource requests: cpprof keys them by path, the metric does not */
	mc_label(labels, "subresource", sub, sizeof(sub));
	mc_label(labels, "scope", scope, sizeof(scope));
	v = mc_verb_scoped(raw, scope);
	if (L->last_call >= 0 && L->last_call < mc->ncalls) {
		c = &mc->calls[L->last_call];
		if (!strcmp(c->verb, v) && !strcmp(c->resource, res) && !strcmp(c->subresource, sub) &&
		    !strcmp(c->scope, scope))
			return c;
	}
	for (int i = 0; i < mc->ncalls; i++) {
		c = &mc->calls[i];
		if (!strcmp(c->verb, v) && !strcmp(c->resource, res) && !strcmp(c->subresource, sub) &&
		    !strcmp(c->scope, scope)) {
			L->last_call = i;
			return c;
		}
	}
	if (mc->ncalls == L->ccap) {
		int cap = L->ccap ? L->ccap * 2 : 64;
		struct mc_call *p = realloc(mc->calls, cap * sizeof(*p));

		if (!p)
			return NULL;
		mc->calls = p;
		L->ccap = cap;
	}
	c = &mc->calls[mc->ncalls];
	memset(c, 0, sizeof(*c));
	snprintf(c->verb, sizeof(c->verb), "%s", v);
	snprintf(c->resource, sizeof(c->resource), "%s", res);
	snprintf(c->subresource, sizeof(c->subresource), "%s", sub);
	snprintf(c->scope, sizeof(c->scope), "%s", scope);
	L->last_call = mc->ncalls++;
	return c;
}

static struct mc_grpc *find_grpc(struct loader *L, const char *labels)
{
	struct metrics_check *mc = L->mc;
	char svc[64], m[64];
	struct mc_grpc *g;

	if (!mc_label(labels, "grpc_service", svc, sizeof(svc)) ||
	    !mc_label(labels, "grpc_method", m, sizeof(m)))
		return NULL;
	for (int i = 0; i < mc->ngrpc; i++)
		if (!strcmp(mc->grpc[i].service, svc) && !strcmp(mc->grpc[i].method, m))
			return &mc->grpc[i];
	if (mc->ngrpc == L->gcap) {
		int cap = L->gcap ? L->gcap * 2 : 32;
		struct mc_grpc *p = realloc(mc->grpc, cap * sizeof(*p));

		if (!p)
			return NULL;
		mc->grpc = p;
		L->gcap = cap;
	}
	g = &mc->grpc[mc->ngrpc++];
	memset(g, 0, sizeof(*g));
	snprintf(g->service, sizeof(g->service), "%s", svc);
	snprintf(g->method, sizeof(g->method), "%s", m);
	return g;
}

/* NAME is FAMILY + SUFFIX? */
static bool is(const char *name, const char *family, const char *suffix)
{
	size_t n = strlen(family);

	return !strncmp(name, family, n) && !strcmp(name + n, suffix);
}

/* Add a histogram's sample (bucket, _sum or _count of FAMILY) to H; false if NAME is none. */
static bool hist_sample(struct mc_hist *h, const char *name, const char *family, double le,
			double inc)
{
	if (is(name, family, "_bucket")) {
		if (!isnan(le))
			mc_hist__add(h, le, inc);
		return true;
	}
	if (is(name, family, "_sum")) {
		h->sum += inc;
		return true;
	}
	if (is(name, family, "_count")) {
		h->total += inc;
		return true;
	}
	return false;
}

/* One series' increase over the run, to wherever it counts. */
static void account(struct loader *L, struct mc_endpoint *ep, const char *name,
		    const char *labels, double le, double inc)
{
	struct metrics_check *mc = L->mc;
	struct mc_call *c;
	char code[16];

	if (!strcmp(name, "apiserver_request_total")) {
		if (!(c = find_call(L, labels)))
			return;
		c->count += inc;
		if (mc_label(labels, "code", code, sizeof(code)) &&
		    (code[0] == '5' || !strcmp(code, "429")))
			c->errors += inc;
	} else if (!strncmp(name, "apiserver_request_duration_seconds_", 35)) {
		if ((c = find_call(L, labels)))
			hist_sample(&c->dur, name, "apiserver_request_duration_seconds", le, inc);
	} else if (!strncmp(name, "apiserver_request_sli_duration_seconds_", 39) ||
		   !strncmp(name, "apiserver_request_slo_duration_seconds_", 39)) {
		if ((c = find_call(L, labels)))
			hist_sample(&c->sli, name, name[20] == 'i' ? "apiserver_request_sli_duration_seconds" :
				    "apiserver_request_slo_duration_seconds", le, inc);
	} else if (hist_sample(&mc->wal_fsync, name, "etcd_disk_wal_fsync_duration_seconds", le, inc) ||
		   hist_sample(&mc->backend_commit, name, "etcd_disk_backend_commit_duration_seconds",
			       le, inc)) {
		;
	} else if (!strcmp(name, "grpc_server_handled_total")) {
		struct mc_grpc *g = find_grpc(L, labels);

		if (!g)
			return;
		g->handled += inc;
		if (mc_label(labels, "grpc_code", code, sizeof(code)) && strcmp(code, "OK"))
			g->not_ok += inc;
	} else if (!strcmp(name, "process_cpu_seconds_total")) {
		ep->has_cpu = true;
		ep->cpu_seconds += inc;
	}
}

static int db_fail(sqlite3 *db, const char *what)
{
	cp_seterr("cannot read %s: %s", what, sqlite3_errmsg(db));
	return -EIO;
}

static struct mc_endpoint *find_ep(struct metrics_check *mc, const char *url)
{
	for (int i = 0; i < mc->neps; i++)
		if (!strcmp(mc->eps[i].url, url))
			return &mc->eps[i];
	return NULL;
}

static int load_endpoints(sqlite3 *db, struct metrics_check *mc)
{
	sqlite3_stmt *st = NULL;
	int rc, cap = 0;

	if (sqlite3_prepare_v2(db, "SELECT endpoint, component, error, message, t_ns FROM "
			       "metric_scrapes WHERE run_id = ?1 ORDER BY t_ns, id", -1, &st, NULL))
		return db_fail(db, "the scrapes");
	sqlite3_bind_int64(st, 1, mc->run_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *url = (const char *)sqlite3_column_text(st, 0);
		const char *err = (const char *)sqlite3_column_text(st, 2);
		const char *msg = (const char *)sqlite3_column_text(st, 3);
		int64_t t = sqlite3_column_int64(st, 4);
		struct mc_endpoint *e = find_ep(mc, url ? url : "");

		if (!e) {
			if (mc->neps == cap) {
				struct mc_endpoint *p;

				cap = cap ? cap * 2 : 4;
				p = realloc(mc->eps, cap * sizeof(*p));
				if (!p) {
					sqlite3_finalize(st);
					cp_seterr("out of memory");
					return -ENOMEM;
				}
				mc->eps = p;
			}
			e = &mc->eps[mc->neps++];
			memset(e, 0, sizeof(*e));
			snprintf(e->url, sizeof(e->url), "%s", url ? url : "");
			snprintf(e->component, sizeof(e->component), "%s",
				 sqlite3_column_text(st, 1) ? (const char *)sqlite3_column_text(st, 1) : "");
		}
		e->scrapes++;
		if (!err) {
			e->ok++;
			if (!e->first_ns)
				e->first_ns = t;
			e->last_ns = t;
			continue;
		}
		for (int k = 1; k < SCRAPE_ERR__MAX; k++)
			if (!strcmp(err, scrape_error_name(k)))
				e->errors[k]++;
		snprintf(e->last_error, sizeof(e->last_error), "%s", msg ? msg : err);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : db_fail(db, "the scrapes");
}

/* What load_samples keeps of a series: its identity, and its running increase at one endpoint. */
struct series_state {
	char *name, *labels;     /* NULL: a family account() does not read */
	double le;
	double prev, inc;
	int64_t seen_at;         /* the endpoint's scrape it was first seen at, 0: not yet */
};

static const char wanted_sql[] =
	"(name LIKE 'apiserver_request_%' OR name LIKE 'etcd_disk_%' OR "
	"name IN ('grpc_server_handled_total', 'process_cpu_seconds_total'))";

/*
 * Each endpoint's good scrapes in time order, each scrape's samples
 * through the metric_samples_scrape index: no sort of the samples, which
 * an hour of a big apiserver (30,000 series, 240 scrapes) makes millions.
 * The series of the run are few enough to keep in an array by id.
 */
static int load_samples(sqlite3 *db, struct loader *L)
{
	struct metrics_check *mc = L->mc;
	sqlite3_stmt *ser = NULL, *scr = NULL, *smp = NULL;
	struct series_state *ss = NULL;
	int64_t lo = 0, hi = -1;
	char sql[512];
	int rc, err = 0;

	snprintf(sql, sizeof(sql), "SELECT min(id), max(id) FROM metric_series WHERE run_id = ?1 AND %s",
		 wanted_sql);
	if (sqlite3_prepare_v2(db, sql, -1, &ser, NULL))
		return db_fail(db, "the scraped series");
	sqlite3_bind_int64(ser, 1, mc->run_id);
	if (sqlite3_step(ser) == SQLITE_ROW && sqlite3_column_type(ser, 0) != SQLITE_NULL) {
		lo = sqlite3_column_int64(ser, 0);
		hi = sqlite3_column_int64(ser, 1);
	}
	sqlite3_finalize(ser);
	ser = NULL;
	if (hi < lo)
		return 0;
	ss = calloc(hi - lo + 1, sizeof(*ss));
	if (!ss) {
		cp_seterr("out of memory for %lld series", (long long)(hi - lo + 1));
		return -ENOMEM;
	}
	snprintf(sql, sizeof(sql), "SELECT id, name, labels, le FROM metric_series WHERE run_id = ?1 AND %s",
		 wanted_sql);
	if (sqlite3_prepare_v2(db, sql, -1, &ser, NULL) ||
	    sqlite3_prepare_v2(db, "SELECT id FROM metric_scrapes WHERE run_id = ?1 AND endpoint = ?2 "
			       "AND error IS NULL ORDER BY t_ns, id", -1, &scr, NULL) ||
	    sqlite3_prepare_v2(db, "SELECT series_id, value FROM metric_samples WHERE scrape_id = ?1 "
			       "AND value IS NOT NULL", -1, &smp, NULL)) {
		err = db_fail(db, "the scraped samples");
		goto out;
	}
	sqlite3_bind_int64(ser, 1, mc->run_id);
	while ((rc = sqlite3_step(ser)) == SQLITE_ROW) {
		struct series_state *x = &ss[sqlite3_column_int64(ser, 0) - lo];
		const char *name = (const char *)sqlite3_column_text(ser, 1);
		const char *labels = (const char *)sqlite3_column_text(ser, 2);

		x->name = strdup(name ? name : "");
		x->labels = strdup(labels ? labels : "");
		x->le = sqlite3_column_type(ser, 3) == SQLITE_NULL ? NAN : sqlite3_column_double(ser, 3);
		if (!x->name || !x->labels) {
			cp_seterr("out of memory");
			err = -ENOMEM;
			goto out;
		}
	}
	if (rc != SQLITE_DONE) {
		err = db_fail(db, "the scraped series");
		goto out;
	}
	for (int e = 0; e < mc->neps; e++) {
		struct mc_endpoint *ep = &mc->eps[e];
		bool first = true;

		if (ep->ok < 2)
			continue;  /* one scrape: no increase */
		for (int64_t i = 0; i <= hi - lo; i++) {
			ss[i].seen_at = 0;
			ss[i].inc = 0;
		}
		sqlite3_reset(scr);
		sqlite3_bind_int64(scr, 1, mc->run_id);
		sqlite3_bind_text(scr, 2, ep->url, -1, SQLITE_STATIC);
		while ((rc = sqlite3_step(scr)) == SQLITE_ROW) {
			int64_t scrape = sqlite3_column_int64(scr, 0);

			sqlite3_reset(smp);
			sqlite3_bind_int64(smp, 1, scrape);
			while ((rc = sqlite3_step(smp)) == SQLITE_ROW) {
				int64_t id = sqlite3_column_int64(smp, 0);
				double v = sqlite3_column_double(smp, 1);
				struct series_state *x;

				if (id < lo || id > hi || !(x = &ss[id - lo])->name)
					continue;
				if (!x->seen_at) {
					/* there at the first good scrape: the baseline; born later: from 0 */
					x->seen_at = scrape;
					x->inc = first ? 0 : v;
				} else {
					x->inc += v >= x->prev ? v - x->prev : v;  /* a reset starts from 0 */
				}
				x->prev = v;
			}
			if (rc != SQLITE_DONE)
				break;
			first = false;
		}
		if (rc != SQLITE_DONE) {
			err = db_fail(db, "the scraped samples");
			goto out;
		}
		for (int64_t i = 0; i <= hi - lo; i++)
			if (ss[i].seen_at)
				account(L, ep, ss[i].name, ss[i].labels, ss[i].le, ss[i].inc);
	}
out:
	sqlite3_finalize(ser);
	sqlite3_finalize(scr);
	sqlite3_finalize(smp);
	for (int64_t i = 0; ss && i <= hi - lo; i++) {
		free(ss[i].name);
		free(ss[i].labels);
	}
	free(ss);
	return err;
}

static int cmp_call(const void *a, const void *b)
{
	const struct mc_call *x = a, *y = b;
	int d;

	if ((d = strcmp(x->verb, y->verb)) || (d = strcmp(x->resource, y->resource)) ||
	    (d = strcmp(x->subresource, y->subresource)))
		return d;
	return strcmp(x->scope, y->scope);
}

int metrics_check__load(sqlite3 *db, int64_t run_id, struct metrics_check **out)
{
	struct metrics_check *mc = calloc(1, sizeof(*mc));
	struct loader L = { .mc = mc, .last_call = -1 };
	sqlite3_stmt *st = NULL;
	bool tables = false;
	int err = 0;

	*out = NULL;
	if (!mc) {
		cp_seterr("out of memory");
		return -ENOMEM;
	}
	mc->run_id = run_id;
	/* files written before scraping existed have no scrapes: an empty check */
	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
			       "name IN ('metric_scrapes', 'metric_series', 'metric_samples')",
			       -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		tables = sqlite3_column_int(st, 0) == 3;
	sqlite3_finalize(st);
	if (tables && !(err = load_endpoints(db, mc)))
		err = load_samples(db, &L);
	if (err) {
		metrics_check__free(mc);
		return err;
	}
	for (int i = 0; i < mc->neps; i++) {
		if (mc->eps[i].ok < 2)
			continue;
		mc->has_apiserver |= !strcmp(mc->eps[i].component, "apiserver");
		mc->has_etcd |= !strcmp(mc->eps[i].component, "etcd");
	}
	if (mc->ncalls)
		qsort(mc->calls, mc->ncalls, sizeof(mc->calls[0]), cmp_call);
	*out = mc;
	return 0;
}

void metrics_check__free(struct metrics_check *mc)
{
	if (!mc)
		return;
	free(mc->eps);
	free(mc->calls);
	free(mc->grpc);
	free(mc);
}

const struct mc_call *metrics_check__find(const struct metrics_check *mc, const char *verb,
					  const char *resource, const char *subresource,
					  const char *scope)
{
	struct mc_call key = {};

	if (!mc || !mc->ncalls)
		return NULL;
	mc_key(verb, subresource, scope, key.verb, key.scope);
	snprintf(key.resource, sizeof(key.resource), "%s", resource ? resource : "");
	snprintf(key.subresource, sizeof(key.subresource), "%s", subresource ? subresource : "");
	return bsearch(&key, mc->calls, mc->ncalls, sizeof(key), cmp_call);
}

double metrics_check__count_any_scope(const struct metrics_check *mc, const char *verb,
				      const char *resource, const char *subresource)
{
	char v[24], scope[16];
	double n = -1;

	if (!mc)
		return -1;
	mc_key(verb, subresource, "", v, scope);
	for (int i = 0; i < mc->ncalls; i++) {
		const struct mc_call *c = &mc->calls[i];

		if (!strcmp(c->verb, v) && !strcmp(c->resource, resource ? resource : "") &&
		    !strcmp(c->subresource, subresource ? subresource : ""))
			n = (n < 0 ? 0 : n) + c->count;
	}
	return n;
}

const struct mc_grpc *metrics_check__grpc(const struct metrics_check *mc, const char *service,
					  const char *method)
{
	for (int i = 0; mc && i < mc->ngrpc; i++)
		if (!strcmp(mc->grpc[i].service, service) && !strcmp(mc->grpc[i].method, method))
			return &mc->grpc[i];
	return NULL;
}

/* ---- verdicts --------------------------------------------------------------- */

const char *mc_verdict_name(enum mc_verdict v)
{
	return v == MC_AGREE ? "agree" : v == MC_DISAGREE ? "disagree" : "unknown";
}

static void set(struct mc_result *r, enum mc_verdict v, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set(struct mc_result *r, enum mc_verdict v, const char *fmt, ...)
{
	va_list ap;

	r->verdict = v;
	va_start(ap, fmt);
	vsnprintf(r->reason, sizeof(r->reason), fmt, ap);
	va_end(ap);
}

static const char *fmt_ns(int64_t ns, char *buf, size_t len)
{
	if (ns == INT64_MAX)
		snprintf(buf, len, "+Inf");
	else if (ns == 0)
		snprintf(buf, len, "0");
	else if (ns >= 1000000000)
		snprintf(buf, len, "%.3g s", ns / 1e9);
	else if (ns >= 1000000)
		snprintf(buf, len, "%.3g ms", ns / 1e6);
	else
		snprintf(buf, len, "%.3g us", ns / 1e3);
	return buf;
}

void mc_check_count(int64_t cpprof, double metric, double slack, struct mc_result *r)
{
	double d = (double)cpprof - metric;

	if (metric < 0) {
		set(r, MC_UNKNOWN, "no such call in the metric");
		return;
	}
	if (fabs(d) <= slack)
		set(r, MC_AGREE, fabs(d) < 0.5 ? "equal counts" :
		    "counts within the calls in flight at the first or last scrape");
	else
		set(r, MC_DISAGREE, "cpprof counted %lld, the metric grew by %.0f (%+.0f)",
		    (long long)cpprof, metric, d);
}

void mc_check_quantile(int64_t cpprof_ns, const struct mc_hist *h, double q, struct mc_result *r)
{
	int64_t lo, hi;
	int i = mc_hist__bucket(h, q, &lo, &hi), j;
	char a[32], b[32], c[32];

	if (i < 0) {
		set(r, MC_UNKNOWN, "the metric observed no calls");
		return;
	}
	for (j = 0; j < h->n && le_ns(h->le[j]) < cpprof_ns; j++)
		;
	if (j == i)
		set(r, MC_AGREE, "in the metric's bucket (%s, %s]", fmt_ns(lo, a, sizeof(a)),
		    fmt_ns(hi, b, sizeof(b)));
	else if (j == i + 1 || j == i - 1)
		set(r, MC_AGREE, "%s, next to the metric's bucket (%s, %s]",
		    fmt_ns(cpprof_ns, c, sizeof(c)), fmt_ns(lo, a, sizeof(a)), fmt_ns(hi, b, sizeof(b)));
	else
		set(r, MC_DISAGREE, "cpprof's %s is %d buckets %s the metric's (%s, %s]",
		    fmt_ns(cpprof_ns, c, sizeof(c)), abs(j - i), j > i ? "above" : "below",
		    fmt_ns(lo, a, sizeof(a)), fmt_ns(hi, b, sizeof(b)));
}

void mc_check_fdatasync(int64_t fdatasync, const struct mc_hist *wal, const struct mc_hist *commit,
			double slack, struct mc_result *r)
{
	double w = hist_total(wal), c = hist_total(commit), want = w + 2 * c;

	if (fdatasync < 0 || (!wal->n && !commit->n)) {
		set(r, MC_UNKNOWN, "fdatasync not known on both sides");
		return;
	}
	if (fabs(fdatasync - want) <= slack)
		set(r, MC_AGREE, "%lld fdatasync = %.0f WAL syncs + 2 x %.0f backend commits",
		    (long long)fdatasync, w, c);
	else
		set(r, MC_DISAGREE, "cpprof counted %lld fdatasync, etcd %.0f WAL syncs + 2 x %.0f "
		    "backend commits = %.0f", (long long)fdatasync, w, c, want);
}

void mc_check_cpu(int64_t cpprof_ns, double metric_seconds, struct mc_result *r)
{
	double c = cpprof_ns / 1e9, d = c - metric_seconds;

	if (cpprof_ns < 0 || metric_seconds < 0) {
		set(r, MC_UNKNOWN, "CPU not known on both sides");
		return;
	}
	if (fabs(d) <= 0.1 * fmax(c, metric_seconds) + 0.25)
		set(r, MC_AGREE, "%.2f s and %.2f s", c, metric_seconds);
	else
		set(r, MC_DISAGREE, "cpprof %.2f s, process_cpu_seconds_total grew by %.2f s", c,
		    metric_seconds);
}
