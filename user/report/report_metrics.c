// SPDX-License-Identifier: MIT
/*
 * report_metrics: the part of the report model (REPORT_LOAD_METRICS) that
 * sets cpprof's figures beside the components' own, from the scrapes
 * `record` stored: metrics_check.c computes the metrics' side and the
 * verdicts, this file pairs them with the model's calls, WAL fsync, gRPC
 * methods and CPU, and computes the SLO both ways per 5-minute window.
 * Like report_model.c it holds SQL; the renderers only format the result.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "log.h"
#include "metrics_check.h"
#include "report_model.h"
#include "scrape.h"

static void verdict_set(struct report_verdict *v, const struct mc_result *r)
{
	v->verdict = mc_verdict_name(r->verdict);
	snprintf(v->reason, sizeof(v->reason), "%s", r->reason);
}

static const char *s0(const char *s)
{
	return s ? s : "";
}

static bool is_apiserver_call(const struct report_call *k)
{
	return k->component && !strcmp(k->component, "apiserver") && k->resource && *k->resource &&
	       !k->path;
}

/* cpprof's count of (verb, resource, subresource) over every scope. */
static long long cpprof_any_scope(const struct report_run *r, const struct report_call *k)
{
	long long n = 0;

	for (size_t i = 0; i < r->ncalls; i++) {
		const struct report_call *o = &r->calls[i];

		if (is_apiserver_call(o) && !strcmp(s0(o->verb), s0(k->verb)) &&
		    !strcmp(s0(o->resource), s0(k->resource)) &&
		    !strcmp(s0(o->subresource), s0(k->subresource)))
			n += o->count;
	}
	return n;
}

static void hist_copy(struct report_prom_hist *d, const struct mc_hist *s)
{
	d->n = s->n;
	memcpy(d->le, s->le, sizeof(double) * s->n);
	memcpy(d->count, s->count, sizeof(double) * s->n);
	d->total = s->total;
	d->sum = s->sum;
}

static void bucket(const struct mc_hist *h, double q, long long *lo, long long *hi)
{
	int64_t l, u;

	if (mc_hist__bucket(h, q, &l, &u) < 0) {
		*lo = *hi = -1;
		return;
	}
	*lo = l;
	*hi = u;
}

/*
 * The metric's one call of K's verb, resource and subresource whatever its
 * scope, or NULL: a server whose metric has no scope label (the test
 * server), or a scope that RequestInfo and the route name differently.
 * Used only when cpprof too has the call under one scope.
 */
static const struct mc_call *only_scope(const struct metrics_check *mc, const struct report_call *k)
{
	const struct mc_call *found = NULL;
	char v[24], scope[16];

	mc_key(k->verb, k->subresource, k->scope, v, scope);
	for (int i = 0; i < mc->ncalls; i++) {
		const struct mc_call *c = &mc->calls[i];

		if (!strcmp(c->verb, v) && !strcmp(c->resource, s0(k->resource)) &&
		    !strcmp(c->subresource, s0(k->subresource))) {
			if (found)
				return NULL;
			found = c;
		}
	}
	return found;
}

/* The apiserver_request_total count, duration buckets and verdict of call K. */
static int call_metrics(const struct report_run *r, const struct metrics_check *mc,
			struct report_call *k)
{
	const struct mc_call *c = metrics_check__find(mc, k->verb, k->resource, k->subresource,
						      k->scope);
	struct report_call_metrics *m = calloc(1, sizeof(*m));
	struct mc_result res;

	if (!m) {
		cp_seterr("out of memory");
		return -ENOMEM;
	}
	k->metrics = m;
	if (!c && cpprof_any_scope(r, k) == k->count)
		c = only_scope(mc, k);
	m->count = c ? llround(c->count) : -1;
	if (c) {
		bucket(&c->dur, 0.5, &m->p50_lo_ns, &m->p50_hi_ns);
		bucket(&c->dur, 0.99, &m->p99_lo_ns, &m->p99_hi_ns);
	} else {
		m->p50_lo_ns = m->p50_hi_ns = m->p99_lo_ns = m->p99_hi_ns = -1;
	}
	mc_check_count(k->count, c ? c->count : -1, 0, &res);
	if (res.verdict != MC_AGREE) {
		/*
		 * A list or watch of one object by fieldSelector=metadata.name
		 * is scope "resource" to cpprof (RequestInfo) but its route's
		 * namespace or cluster to the metric: compare over all scopes.
		 */
		double any = metrics_check__count_any_scope(mc, k->verb, k->resource, k->subresource);
		long long mine = cpprof_any_scope(r, k);
		struct mc_result r2;

		mc_check_count(mine, any, 0, &r2);
		if (r2.verdict == MC_AGREE) {
			res.verdict = MC_AGREE;
			snprintf(res.reason, sizeof(res.reason),
				 "equal over all scopes (%lld), the metric's scope differs", mine);
		} else if (!c && any >= 0) {
			res.verdict = MC_DISAGREE;
			snprintf(res.reason, sizeof(res.reason),
				 "over all scopes cpprof counted %lld, the metric grew by %.0f", mine, any);
		}
	}
	verdict_set(&m->count_v, &res);
	if (c) {
		mc_check_quantile(k->p50_ns, &c->dur, 0.5, &res);
		verdict_set(&m->p50_v, &res);
		mc_check_quantile(k->p99_ns, &c->dur, 0.99, &res);
		verdict_set(&m->p99_v, &res);
	} else {
		m->p50_v.verdict = m->p99_v.verdict = "unknown";
		snprintf(m->p50_v.reason, sizeof(m->p50_v.reason), "no histogram for this scope");
		snprintf(m->p99_v.reason, sizeof(m->p99_v.reason), "no histogram for this scope");
	}
	/*
	 * The call's verdict: a disagreement of any of the three, naming
	 * which; else the count's (a server without the duration histogram
	 * leaves the quantiles unknown, which does not make the count so).
	 */
	m->verdict = m->count_v;
	if (!strcmp(m->p50_v.verdict, "disagree")) {
		m->verdict.verdict = "disagree";
		snprintf(m->verdict.reason, sizeof(m->verdict.reason), "p50: %.180s", m->p50_v.reason);
	} else if (!strcmp(m->p99_v.verdict, "disagree")) {
		m->verdict.verdict = "disagree";
		snprintf(m->verdict.reason, sizeof(m->verdict.reason), "p99: %.180s", m->p99_v.reason);
	}
	return 0;
}

/* Is the metric's call C one cpprof saw (under its key or any scope)? */
static bool seen_by_cpprof(const struct report_run *r, const struct mc_call *c)
{
	for (size_t i = 0; i < r->ncalls; i++) {
		const struct report_call *k = &r->calls[i];
		char v[24], scope[16];

		if (!is_apiserver_call(k))
			continue;
		mc_key(k->verb, k->subresource, k->scope, v, scope);
		if (!strcmp(v, c->verb) && !strcmp(s0(k->resource), c->resource) &&
		    !strcmp(s0(k->subresource), c->subresource))
			return true;
	}
	return false;
}

static long long grpc_cpprof(sqlite3 *db, long long run_id, const char *method)
{
	sqlite3_stmt *st;
	long long n = -1;

	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM requests WHERE run_id = ?1 AND "
			       "protocol = 'gRPC' AND method = ?2", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, run_id);
	sqlite3_bind_text(st, 2, method, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

static void endpoint_cpu(const struct report_run *r, struct report_endpoint *e,
			 const struct mc_endpoint *me)
{
	struct mc_result res;
	bool any = false;

	e->cpprof_cpu_ns = 0;
	for (size_t i = 0; i < r->ntargets; i++) {
		const struct report_target *t = &r->targets[i];

		if (t->component && !strcmp(t->component, e->component) && t->cpu_ns >= 0) {
			e->cpprof_cpu_ns += t->cpu_ns;
			any = true;
		}
	}
	if (!any)
		e->cpprof_cpu_ns = -1;
	e->cpprof_sampled_ns = -1;
	for (size_t i = 0; r->cpu && i < r->cpu->ncomps; i++)
		if (!strcmp(r->cpu->comps[i].component, e->component))
			e->cpprof_sampled_ns = r->cpu->comps[i].cpu_ns;
	mc_check_cpu(e->cpprof_cpu_ns, me->has_cpu && me->ok >= 2 ? me->cpu_seconds : -1, &res);
	verdict_set(&e->cpu, &res);
}

static void fsync_check(const struct report_run *r, const struct metrics_check *mc,
			struct report_metrics *m)
{
	struct mc_result res;

	m->fdatasync = m->fdatasync_p50_ns = m->fdatasync_p99_ns = -1;
	for (size_t i = 0; i < r->nwal; i++)
		if (!strcmp(r->wal[i].syscall, "fdatasync")) {
			m->fdatasync = r->wal[i].count;
			m->fdatasync_p50_ns = r->wal[i].p50_ns;
			m->fdatasync_p99_ns = r->wal[i].p99_ns;
		}
	hist_copy(&m->wal_fsync, &mc->wal_fsync);
	hist_copy(&m->backend_commit, &mc->backend_commit);
	mc_check_fdatasync(m->fdatasync, &mc->wal_fsync, &mc->backend_commit, 0, &res);
	verdict_set(&m->fsync_count, &res);
	if (m->fdatasync > 0) {
		mc_check_quantile(m->fdatasync_p50_ns, &mc->wal_fsync, 0.5, &res);
		verdict_set(&m->fsync_p50, &res);
		mc_check_quantile(m->fdatasync_p99_ns, &mc->wal_fsync, 0.99, &res);
		verdict_set(&m->fsync_p99, &res);
	} else {
		m->fsync_p50.verdict = m->fsync_p99.verdict = "unknown";
		snprintf(m->fsync_p50.reason, sizeof(m->fsync_p50.reason), "cpprof saw no fdatasync");
		snprintf(m->fsync_p99.reason, sizeof(m->fsync_p99.reason), "cpprof saw no fdatasync");
	}
}

void report_metrics__free(struct report_metrics *m)
{
	if (!m)
		return;
	free(m->eps);
	free(m->metric_only);
	free(m->grpc);
	free(m->sli);
	free(m);
}

int report_sli__load(sqlite3 *db, struct report_run *r, struct report_metrics *m);

int report_metrics__load(const char *path, sqlite3 *db, struct report_run *r)
{
	struct metrics_check *mc = NULL;
	struct report_metrics *m;
	int err;

	if ((err = metrics_check__load(db, r->id, &mc))) {
		char why[256];

		snprintf(why, sizeof(why), "%s", cp_lasterr());
		cp_seterr("'%s': cannot read the scraped metrics: %s", path, why);
		return err;
	}
	if (!mc->neps) {
		metrics_check__free(mc);
		return 0;
	}
	err = -ENOMEM;
	if (!(m = calloc(1, sizeof(*m))) ||
	    !(m->eps = calloc(mc->neps, sizeof(*m->eps))) ||
	    (mc->ncalls && !(m->metric_only = calloc(mc->ncalls, sizeof(*m->metric_only)))) ||
	    (mc->ngrpc && !(m->grpc = calloc(mc->ngrpc, sizeof(*m->grpc)))))
		goto oom;
	r->metrics = m;
	m->neps = mc->neps;
	m->has_apiserver = mc->has_apiserver;
	m->has_etcd = mc->has_etcd;
	for (int i = 0; i < mc->neps; i++) {
		const struct mc_endpoint *me = &mc->eps[i];
		struct report_endpoint *e = &m->eps[i];

		snprintf(e->url, sizeof(e->url), "%s", me->url);
		snprintf(e->component, sizeof(e->component), "%s", me->component);
		snprintf(e->last_error, sizeof(e->last_error), "%s", me->last_error);
		e->scrapes = me->scrapes;
		e->ok = me->ok;
		for (int k = 0; k < SCRAPE_ERR__MAX && k < 16; k++)
			e->errors[k] = me->errors[k];
		e->first_ns = me->first_ns;
		e->last_ns = me->last_ns;
		e->cpu_seconds = me->has_cpu && me->ok >= 2 ? me->cpu_seconds : -1;
		endpoint_cpu(r, e, me);
	}
	if (mc->has_apiserver) {
		for (size_t i = 0; i < r->ncalls; i++) {
			struct report_call *k = &r->calls[i];

			if (!is_apiserver_call(k))
				continue;
			if ((err = call_metrics(r, mc, k)))
				goto out;
			if (!strcmp(k->metrics->verdict.verdict, "agree"))
				m->calls_agree++;
			else if (!strcmp(k->metrics->verdict.verdict, "disagree"))
				m->calls_disagree++;
			else
				m->calls_unknown++;
		}
		for (int i = 0; i < mc->ncalls; i++) {
			const struct mc_call *c = &mc->calls[i];
			struct report_metric_call *o;

			if (c->count < 0.5 || seen_by_cpprof(r, c))
				continue;
			o = &m->metric_only[m->nmetric_only++];
			snprintf(o->verb, sizeof(o->verb), "%s", c->verb);
			snprintf(o->resource, sizeof(o->resource), "%s", c->resource);
			snprintf(o->subresource, sizeof(o->subresource), "%s", c->subresource);
			snprintf(o->scope, sizeof(o->scope), "%s", c->scope);
			o->count = llround(c->count);
		}
	}
	if (mc->has_etcd) {
		for (int i = 0; i < mc->ngrpc; i++) {
			const struct mc_grpc *g = &mc->grpc[i];
			struct report_grpc_check *o = &m->grpc[m->ngrpc++];
			struct mc_result res;

			snprintf(o->method, sizeof(o->method), "/%s/%s", g->service, g->method);
			o->handled = llround(g->handled);
			o->not_ok = llround(g->not_ok);
			o->cpprof = grpc_cpprof(db, r->id, o->method);
			mc_check_count(o->cpprof, o->cpprof < 0 ? -1 : g->handled, 0, &res);
			if (o->cpprof < 0)
				snprintf(res.reason, sizeof(res.reason), "cpprof has no gRPC methods");
			verdict_set(&o->verdict, &res);
		}
		fsync_check(r, mc, m);
	}
	err = report_sli__load(db, r, m);
	goto out;
oom:
	cp_seterr("out of memory");
	if (!r->metrics)
		report_metrics__free(m);
out:
	metrics_check__free(mc);
	return err;
}
