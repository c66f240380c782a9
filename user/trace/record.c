// SPDX-License-Identifier: MIT
/*
 * record: a recording session, in the phases design.md's data flow names:
 * resolve the targets, inspect and plan each binary, begin the run in the
 * store, attach every tracer, run until told to stop, finish. The views
 * themselves are tracers (tracer.h, record_tracers.c); this file only
 * decides when each of them is asked to do what, and in which order:
 * the order of the end matters most (detach, then drain, then store).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cpuprof.h"
#include "log.h"
#include "record.h"
#include "store.h"
#include "syslat.h"
#include "tracer.h"
#include "etcdc.h"

#define NS_PER_SEC 1000000000LL

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static int64_t now_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

static void plan_summary(const struct probe_plan *p, char *buf, size_t len)
{
	size_t off = 0;
	int i;

	buf[0] = 0;
	for (i = 0; i < p->nsites && off + 1 < len; i++)
		off += snprintf(buf + off, len - off, "%s%s@0x%llx(%s)", i ? " " : "",
				probe_kind_name(p->sites[i].kind),
				(unsigned long long)p->sites[i].addr,
				p->sites[i].emulated ? "emulated" : "single-step");
}

/*
 * Fill what flags left unknown in CS from the apiserver's /metrics; say
 * so when it cannot be read (once: at the START of the run).
 */
static int read_cluster(const struct cluster_opts *o, struct cluster_size *cs, bool start)
{
	struct cluster_size api;
	bool flags = cs->source && !strcmp(cs->source, "flags");
	int err = cluster__from_apiserver(o, &api);

	if (err) {
		if (start)
			info("cluster size not read from the apiserver: %s\n", cp_lasterr());
		return err;
	}
	if (!flags || cs->nodes < 0)
		cs->nodes = api.nodes;
	if (!flags || cs->pods < 0)
		cs->pods = api.pods;
	if (!flags || cs->namespaces < 0)
		cs->namespaces = api.namespaces;
	cs->source = flags ? "flags+apiserver" : "apiserver";
	return 0;
}

/* T is traced: store it as a target of the run, and say so. */
static int recording__register_target(struct recording *r, struct record_target *t)
{
	char probes[1024];
	struct target_info ti;
	int err;

	plan_summary(&t->plan, probes, sizeof(probes));
	ti = (struct target_info){
		.pid = t->proc.pid, .component = t->plan.component, .exe = t->proc.exe,
		.go_version = t->plan.go_version, .main_path = t->plan.main_path,
		.build_id = t->plan.build_id, .offsets_source = t->plan.off.source,
		.probes = probes, .attached_ns = now_ns(CLOCK_REALTIME),
		.k8s_version = t->plan.k8s_version[0] ? t->plan.k8s_version : NULL,
		.etcd_version = t->plan.etcd_version[0] ? t->plan.etcd_version : NULL,
	};
	err = store__add_target(r->st, r->run_id, &ti, &t->target_id);
	if (err) {
		error("cannot store target: %s\n", cp_lasterr());
		return err;
	}
	t->attached = true;
	info("tracing '%s' (pid %d, %s, %s): %d probes\n", t->proc.exe, t->proc.pid,
	     t->plan.component, t->plan.go_version, t->plan.nsites);
	return 0;
}

/* ---- what tracers ask of the session (tracer.h) ---------------------- */

uint32_t record_target__component_id(const struct record_target *t)
{
	const char *c = t->plan.component;

	return strcmp(c, "apiserver") == 0 ? 1 : strcmp(c, "etcd") == 0 ? 2 : 0;
}

void recording__request_done(struct recording *r, int tgid, uint64_t key, uint64_t start_mono_ns,
			     const struct request_rec *rec)
{
	if (r->cprof)
		cpuprof__request_done(r->cprof, tgid, key, start_mono_ns, rec->verb, rec->resource,
				      rec->subresource, rec->scope);
	if (r->etcdc && !r->etcdc_err) {
		int n = etcdc_tracer__request_done(r->etcdc, tgid, key, start_mono_ns, rec);

		if (n < 0)
			r->etcdc_err = n;
		else if (n > 0 && r->cprof) /* it has a breakdown row: its CPU goes there */
			cpuprof__request_breakdown(r->cprof, tgid, key, start_mono_ns, rec->start_ns);
	}
}

/* ---- 1. resolve targets, 2. inspect and plan -------------------------- */

static int recording__resolve_targets(struct recording *r)
{
	static const char *const defaults[] = { "kube-apiserver", "etcd" };
	const struct record_opts *o = r->o;
	const char *const *look = o->nnames ? o->names : defaults;
	int nlook = o->nnames ? o->nnames : 2, n, i;
	struct target_proc *procs;

	for (i = 0; i < o->npids; i++) {
		if (discover__pid(o->pids[i], &r->targets[r->ntargets].proc)) {
			error("cannot trace pid %d: %s\n", o->pids[i], cp_lasterr());
			return -ESRCH;
		}
		r->ntargets++;
	}
	if (o->npids)
		return 0;
	procs = calloc(DISCOVER_MAX, sizeof(*procs));
	if (!procs) {
		error("cannot list processes: out of memory\n");
		return -ENOMEM;
	}
	if (o->nnames) {
		n = discover__by_name(look, nlook, procs, DISCOVER_MAX);
	} else {
		unsigned found = 0;

		/* kube-apiserver and etcd by their build info's main package, or by name */
		n = discover__defaults(procs, DISCOVER_MAX, &found);
		if (n > 0 && !(found & DISCOVER_APISERVER))
			info("no kube-apiserver found (by main package k8s.io/kubernetes/cmd/kube-apiserver or by name); "
			     "recording etcd only\n");
		if (n > 0 && !(found & DISCOVER_ETCD))
			info("no etcd found (by main package go.etcd.io/etcd... or by name 'etcd'); "
			     "recording kube-apiserver only\n");
	}
	if (n < 0)
		error("cannot list processes: %s\n", cp_lasterr());
	if (n == 0 && !o->nnames) {
		error("cannot record: neither kube-apiserver nor etcd is running (looked for their Go main packages "
		      "and names); start them or name a target with --pid or --target\n");
	} else if (n == 0) {
		char list[256];
		size_t off = 0;

		list[0] = 0;
		for (i = 0; i < nlook && off + 1 < sizeof(list); i++)
			off += snprintf(list + off, sizeof(list) - off, "%s'%s'",
					i ? (i == nlook - 1 ? " or " : ", ") : "", look[i]);
		error("cannot record: no process named %s is running; start one or name it with --pid or --target\n",
		      list);
	}
	for (i = 0; i < n; i++)
		r->targets[r->ntargets++].proc = procs[i];
	free(procs);
	return n > 0 ? 0 : -ESRCH;
}

/* All inspection happens before anything is attached. A target that cannot be planned is skipped. */
static void recording__plan_target(struct recording *r, struct record_target *t)
{
	const char *comp = r->o->component; /* --component wins over the binary */
	char exe[64];

	snprintf(exe, sizeof(exe), "/proc/%d/exe", t->proc.pid);
	if (plan__build(exe, &t->plan)) {
		error("cannot trace '%s' (pid %d): %s\n", t->proc.exe, t->proc.pid, cp_lasterr());
		t->exited = true; /* skipped */
		return;
	}
	/* planned through /proc/PID/exe: the file name fallback needs the real name */
	_Static_assert(sizeof(t->plan.path) == sizeof(t->proc.exe), "path and exe differ in size");
	memcpy(t->plan.path, t->proc.exe, sizeof(t->plan.path));
	if (!comp)
		comp = plan_component(t->plan.main_path, t->proc.exe);
	snprintf(t->plan.component, sizeof(t->plan.component), "%s", comp);
}

/* ---- 3. the run in the store ------------------------------------------ */

/*
 * Open the database and begin the run: a label clash or a permission
 * problem shows before anything is attached. *STARTED says whether a run
 * row exists that a failure should take back.
 */
static int recording__begin_run(struct recording *r, bool *started)
{
	const struct record_opts *o = r->o;
	struct cluster_size cluster = o->cluster;
	char kernel[300], host[256] = "";
	struct utsname uts;
	struct stat sb;
	struct run_info ri = {
		.label = o->label, .kind = o->kind, .host = host, .kernel = kernel,
		.command = o->command, .sample_hz = (int)o->sample_hz,
	};
	int err;

	r->db_existed = stat(o->db, &sb) == 0;
	r->st = store__open(o->db, &err);
	if (!r->st) {
		error("cannot open '%s': %s\n", o->db, cp_lasterr());
		return err;
	}
	uname(&uts);
	gethostname(host, sizeof(host) - 1);
	snprintf(kernel, sizeof(kernel), "%s %s", uts.sysname, uts.release);
	ri.started_ns = now_ns(CLOCK_REALTIME);
	err = store__begin_run(r->st, &ri, &r->run_id);
	if (err) {
		error("cannot start run: %s\n", cp_lasterr());
		return err;
	}
	*started = true;
	if (o->capi.url)
		read_cluster(&o->capi, &cluster, true);
	if (cluster.source && (err = store__set_cluster(r->st, r->run_id, &cluster))) {
		error("cannot store the cluster size: %s\n", cp_lasterr());
		return err;
	}
	return 0;
}

/* Nothing was recorded: leave no half-written run (or file) behind. */
static void recording__discard_run(struct recording *r)
{
	char side[4096];

	store__delete_run(r->st, r->run_id);
	store__close(r->st);
	r->st = NULL;
	if (r->db_existed)
		return;
	unlink(r->o->db);
	snprintf(side, sizeof(side), "%s-wal", r->o->db);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", r->o->db);
	unlink(side);
}

/* ---- 4. attach -------------------------------------------------------- */

static int recording__open_tracer(struct recording *r, int i)
{
	const struct tracer_ops *ops = r->tracers[i];
	int err = ops->open(r, &r->state[i]);

	if (err && ops->required)
		return err;
	if (err)
		r->state[i] = NULL;
	return 0;
}

/*
 * Give tracer I target T. The first tracer decides whether T is traced at
 * all: T becomes a target of the run (a row in 'targets') once its probes
 * are in, and is skipped if they cannot be. Returns <0 only when the run
 * cannot go on.
 */
static int recording__give_target(struct recording *r, int i, struct record_target *t)
{
	const struct tracer_ops *ops = r->tracers[i];

	if (!r->state[i] || !ops->add_target)
		return 0;
	if (i > 0) {
		ops->add_target(r, r->state[i], t); /* it said why if not */
		return 0;
	}
	if (ops->add_target(r, r->state[i], t)) {
		t->exited = true;
		return 0;
	}
	return recording__register_target(r, t);
}

/*
 * Give planned target T to every open tracer in table order, stopping
 * where the first one skips it. A target found while the run goes on (a
 * restarted apiserver) takes the same path: append it to targets[], plan
 * it, add it.
 */
static int recording__add_target(struct recording *r, struct record_target *t)
{
	int i, err;

	for (i = 0; i < r->ntracers && !t->exited && (i == 0 || t->attached); i++)
		if ((err = recording__give_target(r, i, t)))
			return err;
	return 0;
}

/*
 * Open the tracers up to the first late one and add every planned target
 * to them; then each late tracer opens and takes every target still in
 * the run, so that the probes are in before the slow loads start.
 */
static int recording__attach(struct recording *r)
{
	int i, k, err, nattached = 0;

	for (i = 0; i < r->ntracers && !r->tracers[i]->late; i++)
		if ((err = recording__open_tracer(r, i)))
			return err;
	for (k = 0; k < r->ntargets; k++) {
		if ((err = recording__add_target(r, &r->targets[k])))
			return err;
		nattached += r->targets[k].attached;
	}
	if (!nattached) {
		error("cannot record: no target could be traced (see above)\n");
		return -ENOENT;
	}
	for (; i < r->ntracers; i++) {
		if ((err = recording__open_tracer(r, i)))
			return err;
		for (k = 0; k < r->ntargets; k++)
			if (record_target__live(&r->targets[k]) &&
			    (err = recording__give_target(r, i, &r->targets[k])))
				return err;
	}
	return 0;
}

/* ---- 5. run ----------------------------------------------------------- */

struct record_clock {
	int64_t t0, tick, sweep, interval, status;
};

static int recording__poll(struct recording *r)
{
	int i, n = 0, wait = 100;

	for (i = 0; i < r->ntracers && n >= 0; i++) {
		if (!r->state[i] || !r->tracers[i]->poll)
			continue;
		n = r->tracers[i]->poll(r, r->state[i], wait);
		wait = 0;
	}
	if (n < 0)
		error("cannot store requests: %s\n", cp_lasterr());
	return n < 0 ? n : 0;
}

static int recording__flush(struct recording *r, enum tracer_flush why)
{
	int i, err;

	r->flush_rt = now_ns(CLOCK_REALTIME);
	for (i = 0; i < r->ntracers; i++) {
		if (!r->state[i] || !r->tracers[i]->flush)
			continue;
		if ((err = r->tracers[i]->flush(r, r->state[i], why)) < 0)
			return err;
	}
	return 0;
}

static void recording__remove_target(struct recording *r, struct record_target *t)
{
	int i;

	t->exited = true;
	info("\ntarget pid %d exited\n", t->proc.pid);
	for (i = r->ntracers - 1; i >= 0; i--)
		if (r->state[i] && r->tracers[i]->remove_target)
			r->tracers[i]->remove_target(r, r->state[i], t);
	store__target_exited(r->st, t->target_id, now_ns(CLOCK_REALTIME));
}

/* Notice targets that exited; how many are still alive. */
static int recording__reap(struct recording *r)
{
	int i, alive = 0;

	for (i = 0; i < r->ntargets; i++) {
		struct record_target *t = &r->targets[i];

		if (!record_target__live(t))
			continue;
		if (discover__alive(t->proc.pid))
			alive++;
		else
			recording__remove_target(r, t);
	}
	return alive;
}

static void recording__counts(struct recording *r, struct tracer_counts *c)
{
	int i;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < r->ntracers; i++)
		if (r->state[i] && r->tracers[i]->stats)
			r->tracers[i]->stats(r, r->state[i], c);
}

static bool status_shown(void)
{
	return isatty(STDERR_FILENO) && log_verbosity >= LOG_INFO;
}

static void recording__status(struct recording *r, int64_t elapsed)
{
	struct tracer_counts c;

	recording__counts(r, &c);
	fprintf(stderr, "\r\033[Kcpprof: %llus  requests %llu  lost %llu  top %s (%llu)",
		(unsigned long long)(elapsed / NS_PER_SEC), (unsigned long long)c.requests,
		(unsigned long long)c.live_lost, c.top_verb && c.top_verb[0] ? c.top_verb : "-",
		(unsigned long long)c.top_count);
}

/* Once a second: the tracers' clocks, the store's batch, exited targets, the status line. */
static int recording__tick(struct recording *r, struct record_clock *k, int64_t now, bool *done)
{
	int err;

	if (now - k->sweep >= 60 * NS_PER_SEC) {
		recording__flush(r, TRACER_FLUSH_SWEEP);
		k->sweep = now;
	}
	if (now - k->interval >= SYSLAT_INTERVAL_NS) {
		if ((err = recording__flush(r, TRACER_FLUSH_INTERVAL)))
			return err;
		k->interval = now;
	}
	if ((err = store__flush(r->st))) {
		error("cannot store requests: %s\n", cp_lasterr());
		return err;
	}
	if (!recording__reap(r)) {
		info("every target has exited; stopping\n");
		*done = true;
		return 0;
	}
	if (status_shown() && now - k->status >= NS_PER_SEC) {
		recording__status(r, now - k->t0);
		k->status = now;
	}
	return 0;
}

static int recording__run_loop(struct recording *r)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct record_clock k = {};
	int64_t duration = r->o->duration * NS_PER_SEC;
	bool done = false;
	int err = 0;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	k.t0 = k.tick = k.sweep = k.interval = now_ns(CLOCK_MONOTONIC);
	info("recording run '%s' into '%s'%s\n", r->o->label, r->o->db,
	     r->o->duration ? "" : "; stop with Ctrl-C");
	while (!stop_requested && !done) {
		int64_t now;

		if ((err = recording__poll(r)))
			break;
		now = now_ns(CLOCK_MONOTONIC);
		if (duration && now - k.t0 >= duration)
			break;
		if (now - k.tick < NS_PER_SEC)
			continue;
		k.tick = now;
		if ((err = recording__tick(r, &k, now, &done)))
			break;
	}
	if (status_shown())
		fputc('\n', stderr);
	return err;
}

/* ---- 6. finish -------------------------------------------------------- */

/* What tracers take while every tracer still traces (tracer.h: finishing). */
static void recording__finishing(struct recording *r)
{
	bool busy = true, first = true;
	int i;

	while (busy) {
		busy = false;
		for (i = 0; i < r->ntracers; i++)
			if (r->state[i] && r->tracers[i]->finishing)
				busy |= r->tracers[i]->finishing(r, r->state[i], first);
		first = false;
		if (busy && recording__poll(r))
			break;
	}
}

/* Stop every tracer first, then drain what is left, in table order. */
static int recording__stop(struct recording *r, int err)
{
	int i;

	recording__finishing(r);
	for (i = 0; i < r->ntracers; i++)
		if (r->state[i] && r->tracers[i]->stop)
			r->tracers[i]->stop(r, r->state[i]);
	if (err == 0)
		err = recording__flush(r, TRACER_FLUSH_FINAL);
	if (err < 0)
		error("cannot store requests: %s\n", cp_lasterr());
	return err;
}

static int recording__end_run(struct recording *r, int err)
{
	const struct record_opts *o = r->o;
	struct cluster_size cluster = o->cluster;
	struct tracer_counts c;
	struct run_stats rs;
	int i, e2;

	/* the size the run ended with (a density test grows it) */
	if (o->capi.url && read_cluster(&o->capi, &cluster, false) == 0 &&
	    store__set_cluster(r->st, r->run_id, &cluster))
		error("cannot store the cluster size: %s\n", cp_lasterr());
	recording__counts(r, &c);
	rs = (struct run_stats){
		.ended_ns = now_ns(CLOCK_REALTIME),
		.requests = (int64_t)c.requests,
		.lost_events = (int64_t)c.lost,
		.unmatched = (int64_t)c.unmatched,
		.lost_samples = (int64_t)c.lost_samples,
	};
	e2 = store__end_run(r->st, r->run_id, &rs);
	if (e2) {
		error("cannot finish run: %s\n", cp_lasterr());
		err = e2;
	}
	info("run '%s': %lld requests stored, %lld lost, %lld unmatched -> %s\n", o->label,
	     (long long)rs.requests, (long long)rs.lost_events, (long long)rs.unmatched, o->db);
	for (i = 0; i < r->ntracers; i++)
		if (r->state[i] && r->tracers[i]->summary)
			r->tracers[i]->summary(r, r->state[i]);
	return err;
}

static void recording__close(struct recording *r)
{
	int i;

	for (i = r->ntracers - 1; i >= 0; i--)
		if (r->state[i] && r->tracers[i]->close)
			r->tracers[i]->close(r->state[i]);
	store__close(r->st);
	free(r->state);
	free(r);
}

static struct recording *recording__new(const struct record_opts *o)
{
	struct recording *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->o = o;
	r->http_inflight_fd = r->http_goreq_fd = r->http_events_fd = r->grpc_inflight_fd = -1;
	r->tracers = record_tracers;
	while (r->tracers[r->ntracers])
		r->ntracers++;
	r->state = calloc(r->ntracers, sizeof(*r->state));
	if (!r->state) {
		free(r);
		return NULL;
	}
	return r;
}

int record__run(const struct record_opts *o)
{
	struct recording *r;
	bool started = false;
	int i, err;

	if (geteuid() != 0) {
		error("cannot record: uprobes need root; run 'sudo cpprof record ...'\n");
		return EXIT_RUNTIME;
	}
	r = recording__new(o);
	if (!r) {
		error("cannot record: out of memory\n");
		return EXIT_RUNTIME;
	}
	err = recording__resolve_targets(r);
	for (i = 0; !err && i < r->ntargets; i++)
		recording__plan_target(r, &r->targets[i]);
	if (!err)
		err = recording__begin_run(r, &started);
	if (!err)
		err = recording__attach(r);
	if (err && started)
		recording__discard_run(r);
	if (err)
		goto out;
	err = recording__run_loop(r);
	err = recording__stop(r, err);
	err = recording__end_run(r, err);
out:
	recording__close(r);
	return err ? EXIT_RUNTIME : EXIT_OK;
}
