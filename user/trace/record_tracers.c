// SPDX-License-Identifier: MIT
/*
 * record_tracers: the views `cpprof record` records, each a thin adapter
 * of its module to tracer.h's operations, and the table that orders them.
 *
 * The order is the session's order for everything: go_http first (it
 * decides which targets are traced and loads the maps others share), the
 * collector that reads its ring buffer, gRPC (shares go_http's goroutine
 * map), the CPU sampler (reads both in-flight maps; after them, so that
 * its last samples are tied to the calls drained just before), then the
 * kernel views. A new tracer is one more adapter here and one more entry.
 */
#include <errno.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attach.h"
#include "cluster.h"
#include "collector.h"
#include "cpuprof.h"
#include "cpprof/go_http.h"
#include "etcdc.h"
#include "grpc.h"
#include "log.h"
#include "promserve.h"
#include "sampler.h"
#include "scrape.h"
#include "sockview.h"
#include "store.h"
#include "syslat.h"
#include "tracer.h"

/* Longer than any apiserver watch (--min-request-timeout 1800 s, up to 2x). */
#define SWEEP_OLDER_NS (4 * 3600 * 1000000000ULL)

static void *zalloc(size_t n)
{
	void *p = calloc(1, n);

	if (!p)
		error("cannot record: out of memory\n");
	return p;
}

/* ---- go_http: uprobes on net/http's server (attach.c) ----------------- */

struct http_view {
	struct attach *att;
	uint64_t swept;         /* calls the minute sweep forgot */
};

static int http_open(struct recording *r, void **state)
{
	struct http_view *h = zalloc(sizeof(*h));
	int err;

	if (!h)
		return -ENOMEM;
	h->att = attach__open(r->o->sample_hz > 0, &err);
	if (!h->att) {
		error("cannot load BPF: %s\n", cp_lasterr());
		free(h);
		return err;
	}
	r->http_events_fd = attach__events_fd(h->att);
	r->http_inflight_fd = attach__inflight_fd(h->att);
	r->http_goreq_fd = attach__goreq_fd(h->att);
	*state = h;
	return 0;
}

static int http_add_target(struct recording *r, void *state, struct record_target *t)
{
	struct http_view *h = state;
	int err;

	err = attach__target(h->att, t->proc.pid, &t->plan, record_target__component_id(t));
	if (err)
		error("cannot trace '%s' (pid %d): %s\n", t->proc.exe, t->proc.pid, cp_lasterr());
	return err;
}

/*
 * T exited: destroy its uprobe links (a server restarted all night must
 * not pile them up) and count its calls still open; a new process of the
 * same binary gets links and per-pid state of its own.
 */
static void http_remove_target(struct recording *r, void *state, struct record_target *t)
{
	struct http_view *h = state;

	attach__forget(h->att, t->proc.pid);
}

static void http_stop(struct recording *r, void *state)
{
	struct http_view *h = state;

	for (int i = 0; i < r->ntargets; i++)
		if (record_target__live(&r->targets[i]))
			attach__detach(h->att, r->targets[i].proc.pid);
}

static int http_flush(struct recording *r, void *state, enum tracer_flush why)
{
	struct http_view *h = state;

	if (why == TRACER_FLUSH_SWEEP)
		h->swept += attach__sweep(h->att, 0, SWEEP_OLDER_NS);
	return 0;
}

static void http_stats(struct recording *r, void *state, struct tracer_counts *c)
{
	struct http_view *h = state;
	uint64_t s[STAT__MAX] = {};

	attach__stats(h->att, s);
	c->lost += s[STAT_RB_DROPS] + s[STAT_INFLIGHT_FULL];
	c->live_lost += s[STAT_RB_DROPS];
	c->unmatched += s[STAT_NO_START] + s[STAT_REPLACED] + h->swept;
}

static void http_summary(struct recording *r, void *state)
{
	struct http_view *h = state;
	uint64_t s[STAT__MAX] = {};

	if (attach__swept(h->att))
		info("%llu requests were still in flight at the end (watches and other long-running calls) and are not stored\n",
		     (unsigned long long)attach__swept(h->att));
	attach__stats(h->att, s);
	verbose("counters: starts %llu ends %llu double-entry %llu double-end %llu read-errors %llu\n",
		(unsigned long long)s[STAT_STARTS], (unsigned long long)s[STAT_ENDS],
		(unsigned long long)s[STAT_DOUBLE_ENTRY], (unsigned long long)s[STAT_DOUBLE_END],
		(unsigned long long)s[STAT_READ_ERR]);
}

static void http_close(void *state)
{
	struct http_view *h = state;

	attach__close(h->att);
	free(h);
}

static const struct tracer_ops go_http_tracer = {
	.name = "go_http", .required = true,
	.open = http_open, .add_target = http_add_target, .remove_target = http_remove_target,
	.flush = http_flush, .stop = http_stop, .stats = http_stats, .summary = http_summary, .close = http_close,
};

/* ---- collector: go_http's events into requests (collector.c) ---------- */

static void collector_request_done(void *ctx, int tgid, uint64_t rw, uint64_t start_mono_ns,
				   const struct request_rec *rec)
{
	recording__request_done(ctx, tgid, rw, start_mono_ns, rec);
}

static int collector_open(struct recording *r, void **state)
{
	struct collector_opts co = { .run_id = r->run_id, .store_names = r->o->store_names,
				     .on_request = collector_request_done, .on_request_ctx = r };
	int err;

	*state = collector__new(r->st, r->http_events_fd, &co, &err);
	if (!*state) {
		error("cannot start collector: %s\n", cp_lasterr());
		return err;
	}
	return 0;
}

static int collector_add_target(struct recording *r, void *state, struct record_target *t)
{
	return collector__add_target(state, t->proc.pid, t->target_id, t->plan.component);
}

static void collector_remove_target(struct recording *r, void *state, struct record_target *t)
{
	collector__remove_target(state, t->proc.pid);
}

static int collector_poll(struct recording *r, void *state, int timeout_ms)
{
	return collector__poll(state, timeout_ms);
}

static int collector_flush(struct recording *r, void *state, enum tracer_flush why)
{
	int err = 0;

	if (why == TRACER_FLUSH_FINAL)
		while ((err = collector__poll(state, 0)) > 0)
			;
	return err;
}

static void collector_stats(struct recording *r, void *state, struct tracer_counts *c)
{
	c->requests += collector__requests(state);
	/* events of no known target too: they could not be stored */
	c->unmatched += collector__unknown(state);
	c->top_verb = collector__top_verb(state, &c->top_count);
}

static void collector_close(void *state)
{
	collector__free(state);
}

static const struct tracer_ops collector_tracer = {
	.name = "collector", .required = true,
	.open = collector_open, .add_target = collector_add_target,
	.remove_target = collector_remove_target, .poll = collector_poll,
	.flush = collector_flush, .stats = collector_stats, .close = collector_close,
};

/* ---- gRPC: etcd's server side (grpc.c) -------------------------------- */

struct grpc_view {
	struct recording *r;
	struct grpc_tracer *gt; /* opened with the first etcd target */
	char open_err[256];     /* why it could not be opened, said for each etcd target */
	uint64_t calls, swept;
};

static void grpc_open_tracer(struct grpc_view *g)
{
	const struct record_opts *o = g->r->o;
	struct grpc_tracer_opts go = { .key_prefix = o->etcd_prefix, .store_names = o->store_names,
				       .goreq_fd = o->sample_hz > 0 ? g->r->http_goreq_fd : -1 };
	int err;

	g->gt = grpc_tracer__open(&go, &err);
	if (!g->gt)
		snprintf(g->open_err, sizeof(g->open_err), "%s", cp_lasterr());
	else
		g->r->grpc_inflight_fd = grpc_tracer__inflight_fd(g->gt);
}

/*
 * The gRPC probes load with the first etcd target, before the CPU sampler
 * (a late tracer) opens with their in-flight map. An etcd target added
 * mid-run, the first one, would load them without the sampler sharing it.
 */
static int grpc_open(struct recording *r, void **state)
{
	struct grpc_view *g = zalloc(sizeof(*g));

	if (!g)
		return -ENOMEM;
	g->r = r;
	*state = g;
	return 0;
}

/*
 * etcd serves kube-apiserver over gRPC: trace it too. A binary whose gRPC
 * server cannot be planned keeps its HTTP tracing; say why and go on.
 */
static int grpc_add_target(struct recording *r, void *state, struct record_target *t)
{
	struct grpc_view *g = state;
	int err;

	if (strcmp(t->plan.component, "etcd"))
		return 0;
	if (!g->gt && !g->open_err[0])
		grpc_open_tracer(g);
	if (!g->gt) {
		info("no gRPC tracing of '%s' (pid %d): %s\n", t->proc.exe, t->proc.pid, g->open_err);
		return -ENOENT;
	}
	err = grpc_tracer__add_target(g->gt, t->proc.pid, NULL, r->run_id, t->target_id, t->plan.component);
	if (err)
		info("no gRPC tracing of '%s' (pid %d): %s; its HTTP side is traced\n",
		     t->proc.exe, t->proc.pid, cp_lasterr());
	else
		info("tracing gRPC calls of '%s' (pid %d)\n", t->proc.exe, t->proc.pid);
	return err;
}

static int grpc_store(void *ctx, const struct request_rec *rec, const struct grpc_call *c)
{
	struct grpc_view *g = ctx;
	int err = store__add_request(g->r->st, rec);

	if (!err) {
		g->calls++;
		recording__request_done(g->r, c->pid, c->stream, c->start_mono_ns, rec);
	}
	return err;
}

/*
 * T exited (or the run ends): store the calls it left in the ring buffer
 * while its pid still maps to its row, then detach it.
 */
static void grpc_drop(struct grpc_view *g, struct record_target *t, bool exited)
{
	if (!g->gt)
		return;
	while (grpc_tracer__poll(g->gt, 0, grpc_store, g) > 0)
		;
	if (exited)
		grpc_tracer__forget(g->gt, t->proc.pid);
	else
		grpc_tracer__detach(g->gt, t->proc.pid);
}

static void grpc_remove_target(struct recording *r, void *state, struct record_target *t)
{
	grpc_drop(state, t, true);
}

static int grpc_poll(struct recording *r, void *state, int timeout_ms)
{
	struct grpc_view *g = state;

	return g->gt ? grpc_tracer__poll(g->gt, timeout_ms, grpc_store, g) : 0;
}

static int grpc_flush(struct recording *r, void *state, enum tracer_flush why)
{
	struct grpc_view *g = state;
	int err = 0;

	if (!g->gt)
		return 0;
	if (why == TRACER_FLUSH_SWEEP)
		g->swept += grpc_tracer__sweep(g->gt, SWEEP_OLDER_NS);
	if (why == TRACER_FLUSH_FINAL)
		while ((err = grpc_tracer__poll(g->gt, 0, grpc_store, g)) > 0)
			;
	return err;
}

static void grpc_stop(struct recording *r, void *state)
{
	for (int i = 0; i < r->ntargets; i++)
		if (record_target__live(&r->targets[i]))
			grpc_drop(state, &r->targets[i], false);
}

static void grpc_stats(struct recording *r, void *state, struct tracer_counts *c)
{
	struct grpc_view *g = state;
	struct grpc_tracer_stats s = {};

	if (g->gt)
		grpc_tracer__stats(g->gt, &s);
	c->requests += g->calls;
	c->lost += s.lost + s.inflight_full;
	c->unmatched += s.no_start + s.replaced + s.unknown_pid + g->swept;
}

static void grpc_close(void *state)
{
	struct grpc_view *g = state;

	grpc_tracer__close(g->gt);
	free(g);
}

static const struct tracer_ops grpc_tracer = {
	.name = "grpc",
	.open = grpc_open, .add_target = grpc_add_target, .remove_target = grpc_remove_target,
	.poll = grpc_poll, .flush = grpc_flush, .stop = grpc_stop, .stats = grpc_stats,
	.close = grpc_close,
};

/* ---- etcd client: the apiserver's calls to etcd (etcdc.c) ------------ */

struct etcdc_view {
	struct etcdc_tracer *et;  /* opened with the first apiserver target */
	char open_err[256];
};

static int etcdc_open(struct recording *r, void **state)
{
	struct etcdc_view *v = zalloc(sizeof(*v));

	if (!v)
		return -ENOMEM;
	*state = v;
	return 0;
}

/*
 * Every traced process that links etcd's v3 client (kube-apiserver,
 * apiextensions-apiserver, ...): its calls are tied to requests through
 * go_http's goroutine map, which the lineage probes fill only when CPU
 * sampling is on; without it, calls are stored without a request.
 */
static int etcdc_add_target(struct recording *r, void *state, struct record_target *t)
{
	struct etcdc_view *v = state;
	int err;

	if (!strcmp(t->plan.component, "etcd"))
		return 0;
	if (!v->et && !v->open_err[0]) {
		struct etcdc_plan *p = malloc(sizeof(*p));
		char exe[64];

		/* no BPF to load for a run without an etcd client (Go test servers, etcd alone) */
		snprintf(exe, sizeof(exe), "/proc/%d/exe", t->proc.pid);
		err = p ? etcdc_plan__build(exe, p) : -ENOMEM;
		free(p);
		if (err == -ENOENT) {
			verbose("no etcd client in '%s' (pid %d): %s\n", t->proc.exe, t->proc.pid, cp_lasterr());
			return 0;
		}
	}
	if (!v->et && !v->open_err[0]) {
		struct etcdc_tracer_opts eo = { .key_prefix = r->o->etcd_prefix, .st = r->st,
						.goreq_fd = r->o->sample_hz > 0 ? r->http_goreq_fd : -1 };

		v->et = etcdc_tracer__open(&eo, &err);
		if (!v->et)
			snprintf(v->open_err, sizeof(v->open_err), "%s", cp_lasterr());
		r->etcdc = v->et;
	}
	if (!v->et) {
		info("no etcd client tracing of '%s' (pid %d): %s\n", t->proc.exe, t->proc.pid, v->open_err);
		return -ENOENT;
	}
	err = etcdc_tracer__add_target(v->et, t->proc.pid, NULL, r->run_id, t->target_id);
	if (err == -ENOENT) {
		verbose("no etcd client in '%s' (pid %d): %s\n", t->proc.exe, t->proc.pid, cp_lasterr());
		return 0; /* nothing of this kind to trace there */
	}
	if (err)
		info("no etcd client tracing of '%s' (pid %d): %s\n", t->proc.exe, t->proc.pid, cp_lasterr());
	else
		info("tracing etcd client calls of '%s' (pid %d)%s\n", t->proc.exe, t->proc.pid,
		     r->o->sample_hz > 0 ? "" : ", without their requests (CPU sampling is off)");
	return err;
}

static void etcdc_remove_target(struct recording *r, void *state, struct record_target *t)
{
	struct etcdc_view *v = state;

	if (v->et)
		etcdc_tracer__detach(v->et, t->proc.pid);
}

static int etcdc_poll(struct recording *r, void *state, int timeout_ms)
{
	struct etcdc_view *v = state;

	if (r->etcdc_err)
		return r->etcdc_err;
	return v->et ? etcdc_tracer__poll(v->et, timeout_ms) : 0;
}

static int etcdc_flush(struct recording *r, void *state, enum tracer_flush why)
{
	struct etcdc_view *v = state;

	if (r->etcdc_err)
		return r->etcdc_err;
	return v->et && why == TRACER_FLUSH_FINAL ? etcdc_tracer__flush(v->et) : 0;
}

static void etcdc_stop(struct recording *r, void *state)
{
	for (int i = 0; i < r->ntargets; i++)
		if (record_target__live(&r->targets[i]))
			etcdc_remove_target(r, state, &r->targets[i]);
}

static void etcdc_stats(struct recording *r, void *state, struct tracer_counts *c)
{
	struct etcdc_view *v = state;
	struct etcdc_tracer_stats s;

	if (!v->et || etcdc_tracer__stats(v->et, &s))
		return;
	c->lost += s.bpf[ESTAT_RB_DROPS] + s.bpf[ESTAT_FULL];
	c->unmatched += s.bpf[ESTAT_REPLACED] + s.unknown_pid;
}

static void etcdc_summary(struct recording *r, void *state)
{
	struct etcdc_view *v = state;
	struct etcdc_tracer_stats s;

	if (!v->et || etcdc_tracer__stats(v->et, &s))
		return;
	verbose("etcd client: calls %llu streams %llu stored %llu for requests %llu keys %llu "
		"read-errors %llu replaced %llu without a stored request %llu\n",
		(unsigned long long)s.bpf[ESTAT_ENDS], (unsigned long long)s.bpf[ESTAT_STREAMS],
		(unsigned long long)s.stored, (unsigned long long)s.for_requests,
		(unsigned long long)s.bpf[ESTAT_KEYS], (unsigned long long)s.bpf[ESTAT_READ_ERR],
		(unsigned long long)s.bpf[ESTAT_REPLACED], (unsigned long long)s.orphaned);
}

static void etcdc_close(void *state)
{
	struct etcdc_view *v = state;

	etcdc_tracer__close(v->et);
	free(v);
}

static const struct tracer_ops etcdc_tracer = {
	.name = "etcd_client",
	.open = etcdc_open, .add_target = etcdc_add_target, .remove_target = etcdc_remove_target,
	.poll = etcdc_poll, .flush = etcdc_flush, .stop = etcdc_stop, .stats = etcdc_stats,
	.summary = etcdc_summary, .close = etcdc_close,
};

/* ---- CPU: sampled stacks into a profile (sampler.c, cpuprof.c) -------- */

struct cpu_view {
	struct sampler *sp;
	struct cpuprof *cprof;
};

/* Failure to start sampling costs the profile, not the run. */
static int cpu_open(struct recording *r, void **state)
{
	struct cpu_view *v;
	int err;

	if (r->o->sample_hz <= 0)
		return 0;
	v = zalloc(sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->sp = sampler__open((int)r->o->sample_hz, r->http_inflight_fd, r->http_goreq_fd,
			      r->grpc_inflight_fd, &err);
	if (v->sp)
		v->cprof = cpuprof__new(r->st, r->run_id, sampler__period_ns(v->sp), &err);
	if (!v->sp || !v->cprof) {
		info("CPU sampling off: %s\n", cp_lasterr());
		sampler__close(v->sp);
		free(v);
		return 0;
	}
	r->cprof = v->cprof;
	*state = v;
	return 0;
}

static int cpu_add_target(struct recording *r, void *state, struct record_target *t)
{
	struct cpu_view *v = state;
	char note[256];
	int err;

	err = sampler__add_target(v->sp, t->proc.pid, note, sizeof(note));
	if (err < 0) {
		info("CPU of pid %d not sampled: %s\n", t->proc.pid, cp_lasterr());
		return err;
	}
	if (err == 1)
		info("CPU of pid %d sampled, but samples in goroutines its requests create are not attributed to them: %s\n",
		     t->proc.pid, note);
	return cpuprof__add_target(v->cprof, t->proc.pid, t->target_id, t->plan.component);
}

static void cpu_remove_target(struct recording *r, void *state, struct record_target *t)
{
	struct cpu_view *v = state;

	sampler__forget(v->sp, t->proc.pid);
}

static int cpu_poll(struct recording *r, void *state, int timeout_ms)
{
	struct cpu_view *v = state;

	return sampler__poll(v->sp, timeout_ms, cpuprof__sample, v->cprof);
}

/* The targets' /proc CPU is read when sampling stops, so that it covers the sampled interval. */
static void cpu_stop(struct recording *r, void *state)
{
	struct cpu_view *v = state;

	cpuprof__read_cpu(v->cprof);
	for (int i = 0; i < r->ntargets; i++)
		if (record_target__live(&r->targets[i]))
			sampler__remove_target(v->sp, r->targets[i].proc.pid);
}

/* At the end: drain the samples, tie the last ones to the calls drained before, store the profile. */
static int cpu_flush(struct recording *r, void *state, enum tracer_flush why)
{
	struct cpu_view *v = state;
	int err = 0;

	if (why == TRACER_FLUSH_INTERVAL)
		cpuprof__tick(v->cprof);
	if (why != TRACER_FLUSH_FINAL)
		return 0;
	while ((err = sampler__poll(v->sp, 0, cpuprof__sample, v->cprof)) > 0)
		;
	if (err == 0 && (err = cpuprof__write(v->cprof)))
		error("cannot store the CPU profile: %s\n", cp_lasterr());
	return err;
}

static void cpu_stats(struct recording *r, void *state, struct tracer_counts *c)
{
	struct cpu_view *v = state;
	uint64_t s[CPU_STAT__MAX] = {};

	sampler__stats(v->sp, s);
	c->lost_samples += s[CPU_STAT_RB_DROPS];
}

static void cpu_summary(struct recording *r, void *state)
{
	struct cpu_view *v = state;
	uint64_t s[CPU_STAT__MAX] = {};
	struct cpuprof_stats cs;

	sampler__stats(v->sp, s);
	cpuprof__stats(v->cprof, &cs);
	info("CPU: %llu samples (%llu tied to requests, %llu with an unsymbolized leaf, %llu lost)\n",
	     (unsigned long long)cs.samples, (unsigned long long)cs.attributed,
	     (unsigned long long)cs.unknown_leaf, (unsigned long long)s[CPU_STAT_RB_DROPS]);
	verbose("CPU counters: goroutines created %llu (%llu by requests, %llu creator unknown), stale %llu, "
		"unresolved %llu, stacks %llu\n",
		(unsigned long long)s[CPU_STAT_SPAWN], (unsigned long long)s[CPU_STAT_SPAWN_REQ],
		(unsigned long long)s[CPU_STAT_SPAWN_NOPARENT],
		(unsigned long long)s[CPU_STAT_STALE], (unsigned long long)cs.unresolved,
		(unsigned long long)cs.stacks);
}

static void cpu_close(void *state)
{
	struct cpu_view *v = state;

	sampler__close(v->sp);
	cpuprof__free(v->cprof);
	free(v);
}

static const struct tracer_ops cpu_tracer = {
	.name = "cpu", .late = true,
	.open = cpu_open, .add_target = cpu_add_target, .remove_target = cpu_remove_target,
	.poll = cpu_poll, .flush = cpu_flush, .stop = cpu_stop, .stats = cpu_stats,
	.summary = cpu_summary, .close = cpu_close,
};

/* ---- syscalls and sockets: kernel tracepoints (syslat.c, sockview.c) --- */

static int syscalls_open(struct recording *r, void **state)
{
	int err;

	if (r->o->no_syscalls)
		return 0;
	if (!(*state = syslat__open(r->o->sys_mode, &err)))
		info("syscall latency not recorded: %s\n", cp_lasterr());
	return 0;
}

static int syscalls_add_target(struct recording *r, void *state, struct record_target *t)
{
	int err = syslat__add_target(state, t->proc.pid, t->target_id, t->plan.component);

	if (err)
		info("syscall latency of pid %d not recorded: %s\n", t->proc.pid, cp_lasterr());
	return err;
}

/* The histograms of the interval that ends now (and at the end, of the last one). */
static int syscalls_flush(struct recording *r, void *state, enum tracer_flush why)
{
	int err;

	if (why == TRACER_FLUSH_SWEEP)
		return 0;
	if ((err = syslat__flush(state, r->st, r->run_id, r->flush_rt)) < 0)
		error("cannot store syscall latency: %s\n", cp_lasterr());
	return err < 0 ? err : 0;
}

static void syscalls_remove_target(struct recording *r, void *state, struct record_target *t)
{
	syslat__remove_target(state, t->proc.pid);
}

static void syscalls_close(void *state)
{
	syslat__close(state);
}

static const struct tracer_ops syscalls_tracer = {
	.name = "syscalls", .late = true,
	.open = syscalls_open, .add_target = syscalls_add_target,
	.remove_target = syscalls_remove_target, .flush = syscalls_flush, .close = syscalls_close,
};

static int sockets_open(struct recording *r, void **state)
{
	int err;

	if (r->o->no_sockets)
		return 0;
	if (!(*state = sockview__open(&err)))
		info("socket view not recorded: %s\n", cp_lasterr());
	return 0;
}

static int sockets_add_target(struct recording *r, void *state, struct record_target *t)
{
	int err = sockview__add_target(state, t->proc.pid, t->target_id, t->plan.component);

	if (err)
		info("socket view of pid %d not recorded: %s\n", t->proc.pid, cp_lasterr());
	return err;
}

static int sockets_flush(struct recording *r, void *state, enum tracer_flush why)
{
	int err;

	if (why == TRACER_FLUSH_SWEEP)
		return 0;
	if ((err = sockview__flush(state, r->st, r->run_id, r->flush_rt)) < 0)
		error("cannot store socket counters: %s\n", cp_lasterr());
	return err < 0 ? err : 0;
}

static void sockets_remove_target(struct recording *r, void *state, struct record_target *t)
{
	sockview__remove_target(state, t->proc.pid);
}

static int sockets_poll(struct recording *r, void *state, int timeout_ms)
{
	sockview__poll(state);
	return 0;
}

static void sockets_close(void *state)
{
	sockview__close(state);
}

static const struct tracer_ops sockets_tracer = {
	.name = "sockets", .late = true,
	.open = sockets_open, .add_target = sockets_add_target,
	.remove_target = sockets_remove_target, .poll = sockets_poll, .flush = sockets_flush,
	.close = sockets_close,
};

/* ---- metrics: Prometheus endpoints (scrape.c) -------------------------- */

/*
 * Late, so that scraping starts once the probes are in and both sides
 * count the same calls; its last scrapes are taken while every tracer
 * still traces (finishing), for the same reason.
 */
struct metrics_state {
	struct scrape_endpoint eps[SCRAPE_MAX_ENDPOINTS];
	int n;
	char api_url[2048];
	struct scraper *sc;
};

static int metrics_open(struct recording *r, void **state)
{
	const struct record_opts *o = r->o;
	struct scrape_opts so = { .interval_ms = o->metrics_interval_s * 1000,
				  .timeout_ms = o->metrics_timeout_s * 1000 };
	struct metrics_state *m;
	int i, err;

	if (!o->nmetrics && !o->capi.url)
		return 0;
	if (!(m = calloc(1, sizeof(*m))))
		return -ENOMEM;
	for (i = 0; i < o->nmetrics; i++) {
		m->eps[m->n] = o->metrics[i];
		if (!strcmp(m->eps[m->n].component, "etcd")) {
			m->eps[m->n].ca_file = o->etcd_ca;
			m->eps[m->n].cert_file = o->etcd_cert;
			m->eps[m->n].key_file = o->etcd_key;
		}
		m->n++;
	}
	if (o->capi.url) {
		cluster__metrics_url(o->capi.url, m->api_url, sizeof(m->api_url));
		m->eps[m->n++] = (struct scrape_endpoint){ .url = m->api_url, .component = "apiserver",
			.ca_file = o->capi.ca_file, .token_file = o->capi.token_file,
			.insecure = o->capi.insecure };
	}
	if (!(m->sc = scraper__start(m->eps, m->n, &so, &err))) {
		info("metrics not scraped: %s\n", cp_lasterr());
		free(m);
		return 0;
	}
	*state = m;
	return 0;
}

/* Store what the scrapers finished (bounded per call: the loop is never held long). */
static int metrics_poll(struct recording *r, void *state, int timeout_ms)
{
	struct metrics_state *m = state;
	int err = scraper__drain(m->sc, r->st, r->run_id);

	if (err < 0)
		error("cannot store the metrics scraped: %s\n", cp_lasterr());
	return err < 0 ? err : 0;
}

static bool metrics_finishing(struct recording *r, void *state, bool first)
{
	struct metrics_state *m = state;

	if (first)
		scraper__finish(m->sc);
	return scraper__running(m->sc) > 0;
}

static void metrics_stop(struct recording *r, void *state)
{
	struct metrics_state *m = state;

	if (scraper__stop(m->sc, r->st, r->run_id) < 0)
		error("cannot store the metrics scraped: %s\n", cp_lasterr());
}

static void metrics_summary(struct recording *r, void *state)
{
	struct metrics_state *m = state;

	for (int i = 0; i < m->n; i++) {
		struct scrape_stats ss;
		char errs[256] = "";
		size_t off = 0;

		scraper__stats(m->sc, i, &ss);
		for (int k = 1; k < SCRAPE_ERR__MAX; k++)
			if (ss.errors[k] && off < sizeof(errs))
				off += snprintf(errs + off, sizeof(errs) - off, ", %llu %s",
						(unsigned long long)ss.errors[k], scrape_error_name(k));
		info("metrics of %s: %llu of %llu scrapes read%s%s%s\n", m->eps[i].component,
		     (unsigned long long)ss.ok, (unsigned long long)ss.scrapes, errs,
		     ss.last_error[0] ? "; last error: " : "", ss.last_error);
	}
}

static void metrics_close(void *state)
{
	struct metrics_state *m = state;

	if (m)
		scraper__free(m->sc);
	free(m);
}

static const struct tracer_ops metrics_tracer = {
	.name = "metrics", .late = true,
	.open = metrics_open, .poll = metrics_poll, .finishing = metrics_finishing,
	.stop = metrics_stop, .summary = metrics_summary, .close = metrics_close,
};

/* ---- --listen: the live Prometheus endpoint (promserve.c) ------------- */

struct prom_view {
	struct promserve *ps;
	int64_t last_ns;        /* CLOCK_MONOTONIC of the last counters update */
};

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int prom_open(struct recording *r, void **state)
{
	struct prom_view *v;
	int err;

	if (!r->o->listen)
		return 0;
	if (!(v = zalloc(sizeof(*v))))
		return -ENOMEM;
	if (!(v->ps = promserve__open(r->o->listen, r->o->label, r->o->kind, &err))) {
		error("cannot serve metrics: %s\n", cp_lasterr());
		free(v);
		return err;
	}
	info("serving metrics on port %d (--listen %s): GET /metrics\n", promserve__port(v->ps),
	     r->o->listen);
	r->prom = v->ps;
	*state = v;
	return 0;
}

static int prom_add_target(struct recording *r, void *state, struct record_target *t)
{
	struct prom_view *v = state;

	promserve__target(v->ps, t->proc.pid, t->plan.component, true);
	return 0;
}

static void prom_remove_target(struct recording *r, void *state, struct record_target *t)
{
	struct prom_view *v = state;

	promserve__target(v->ps, t->proc.pid, t->plan.component, false);
}

/* The counters and the CPU profile so far into the endpoint's copy. */
static void prom_update(struct recording *r, struct prom_view *v)
{
	struct tracer_counts c;

	recording__counts(r, &c);
	promserve__counts(v->ps, c.lost, c.unmatched, c.lost_samples);
	if (r->cprof) {
		promserve__cpu_begin(v->ps);
		cpuprof__each(r->cprof, promserve__cpu_add, v->ps);
		promserve__cpu_end(v->ps);
	}
	v->last_ns = mono_ns();
}

/* Once a second at most: the CPU profile's walk is over every stack it holds. */
static int prom_poll(struct recording *r, void *state, int timeout_ms)
{
	struct prom_view *v = state;

	if (mono_ns() - v->last_ns >= 1000000000LL)
		prom_update(r, v);
	return 0;
}

/* After every final flush (the CPU profile's last samples): the figures the file holds. */
static void prom_summary(struct recording *r, void *state)
{
	prom_update(r, state);
}

static void prom_stop(struct recording *r, void *state)
{
	struct prom_view *v = state;

	for (int i = 0; i < r->ntargets; i++)
		promserve__target(v->ps, r->targets[i].proc.pid, r->targets[i].plan.component, false);
}

static void prom_close(void *state)
{
	struct prom_view *v = state;

	if (!v)
		return;
	promserve__close(v->ps);
	free(v);
}

/*
 * Early in the table (right after the collector), so that it is open
 * before the first call is stored: its counts are the stored rows'.
 */
static const struct tracer_ops prom_tracer = {
	.name = "prom", .required = true,  /* when asked for: --listen that cannot listen fails */
	.open = prom_open, .add_target = prom_add_target, .remove_target = prom_remove_target,
	.poll = prom_poll, .stop = prom_stop, .summary = prom_summary, .close = prom_close,
};

const struct tracer_ops *const record_tracers[] = {
	&go_http_tracer,
	&collector_tracer,
	&prom_tracer,
	&grpc_tracer,
	&etcdc_tracer,
	&cpu_tracer,
	&syscalls_tracer,
	&sockets_tracer,
	&metrics_tracer,
	NULL
};
