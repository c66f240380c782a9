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

#include "bpfutil.h"
#include "budget.h"
#include "cli.h"
#include "cpuprof.h"
#include "execwatch.h"
#include "log.h"
#include "promserve.h"
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
	if (!err)
		err = store__target_started(r->st, t->target_id, discover__started_ns(&t->proc));
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
	if (r->prom)
		promserve__request(r->prom, rec);
	if (r->etcdc && !r->etcdc_err) {
		int n = etcdc_tracer__request_done(r->etcdc, tgid, key, start_mono_ns, rec);

		if (n < 0)
			r->etcdc_err = n;
		else if (n > 0 && r->cprof) /* it has a breakdown row: its CPU goes there */
			cpuprof__request_breakdown(r->cprof, tgid, key, start_mono_ns, rec->id);
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

/*
 * What to follow: the --target names, default discovery, or with --pid
 * --follow the executables of those pids (their base names, as
 * discover__by_name matches them).
 */
static void recording__follow_names(struct recording *r)
{
	const struct record_opts *o = r->o;
	int i;

	r->follow = o->follow || !o->npids;
	if (o->nnames) {
		for (i = 0; i < o->nnames; i++)
			r->follow_names[i] = o->names[i];
		r->nfollow_names = o->nnames;
		return;
	}
	for (i = 0; i < r->ntargets && o->npids; i++) {
		const char *exe = r->targets[i].proc.exe, *base = strrchr(exe, '/');
		char *buf = r->follow_buf[r->nfollow_names], *del;

		snprintf(buf, sizeof(r->follow_buf[0]), "%s", base ? base + 1 : exe);
		if ((del = strstr(buf, " (deleted)")) && !del[10])
			*del = 0;
		r->follow_names[r->nfollow_names++] = buf;
	}
}

/*
 * Plans of the executables planned so far, by file identity: a server
 * restarted from the same file (an OOM kill) runs the same bytes, so the
 * proof of its addresses holds, and inspecting a large unstripped binary
 * again (its DWARF cross-check) takes seconds. Any write to the file
 * changes its ctime, and an upgrade that replaces it a new inode: either
 * way it is inspected afresh.
 */
#define PLAN_CACHE 8

struct plan_cache {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec ctime;
	struct probe_plan plan;
};

static struct plan_cache *recording__cached_plan(struct recording *r, const struct stat *sb)
{
	for (int i = 0; i < r->nplans && i < PLAN_CACHE; i++) {
		struct plan_cache *c = &r->plans[i];

		if (c->dev == sb->st_dev && c->ino == sb->st_ino && c->size == sb->st_size &&
		    c->ctime.tv_sec == sb->st_ctim.tv_sec && c->ctime.tv_nsec == sb->st_ctim.tv_nsec)
			return c;
	}
	return NULL;
}

static void recording__cache_plan(struct recording *r, const struct stat *sb, const struct probe_plan *p)
{
	struct plan_cache *c = &r->plans[r->nplans++ % PLAN_CACHE]; /* the oldest goes */

	*c = (struct plan_cache){ .dev = sb->st_dev, .ino = sb->st_ino, .size = sb->st_size,
				  .ctime = sb->st_ctim };
	c->plan = *p;
}

/* All inspection happens before anything is attached. A target that cannot be planned is skipped. */
static void recording__plan_target(struct recording *r, struct record_target *t)
{
	const char *comp = r->o->component; /* --component wins over the binary */
	const struct plan_cache *c;
	struct stat sb;
	bool known;
	char exe[64];

	snprintf(exe, sizeof(exe), "/proc/%d/exe", t->proc.pid);
	known = stat(exe, &sb) == 0;
	if (known && (c = recording__cached_plan(r, &sb))) {
		t->plan = c->plan;
		verbose("pid %d runs a file planned before ('%s'): its plan holds\n", t->proc.pid, t->proc.exe);
	} else if (plan__build(exe, &t->plan)) {
		error("cannot trace '%s' (pid %d): %s\n", t->proc.exe, t->proc.pid, cp_lasterr());
		t->exited = true; /* skipped */
		return;
	} else if (known) {
		recording__cache_plan(r, &sb, &t->plan);
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
	r->budget = budget__new(o->db, &(struct budget_opts){ .max_db_bytes = o->max_db_bytes,
							     .min_free_bytes = o->min_free_bytes });
	if (!r->budget) {
		error("cannot record: out of memory\n");
		return -ENOMEM;
	}
	store__set_budget(r->st, r->budget);
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
	int64_t t0, tick, sweep, interval, status, follow, rescan, commit;
};

/*
 * How often the open batch is committed when it does not fill up first.
 * A request reaches the batch within one poll (0.1 s) of its end; with
 * this, it is in the file within about 0.35 s, well inside the promise
 * that a SIGKILLed recorder keeps whatever ended a second before. A WAL
 * commit with synchronous=NORMAL is a write(), not an fsync.
 */
#define RECORD_COMMIT_NS (250 * 1000000LL)

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

static bool status_shown(void)
{
	return isatty(STDERR_FILENO) && log_verbosity >= LOG_INFO;
}

static void recording__remove_target(struct recording *r, struct record_target *t)
{
	int64_t t0 = now_ns(CLOCK_MONOTONIC), t1;
	int i;

	t->exited = true;
	info("%starget '%s' (pid %d) exited%s\n", status_shown() ? "\n" : "", t->proc.exe, t->proc.pid,
	     r->follow ? "; following its restarts" : "");
	for (i = r->ntracers - 1; i >= 0; i--) {
		if (!r->state[i] || !r->tracers[i]->remove_target)
			continue;
		t1 = now_ns(CLOCK_MONOTONIC);
		r->tracers[i]->remove_target(r, r->state[i], t);
		debug("%s: pid %d removed in %.1f ms\n", r->tracers[i]->name, t->proc.pid,
		      (double)(now_ns(CLOCK_MONOTONIC) - t1) / 1e6);
	}
	store__target_exited(r->st, t->target_id, now_ns(CLOCK_REALTIME));
	verbose("pid %d: its probes detached and its rows stored in %.0f ms\n", t->proc.pid,
		(double)(now_ns(CLOCK_MONOTONIC) - t0) / 1e6);
}

/* Notice targets that exited; how many are still alive. */
static int recording__reap(struct recording *r)
{
	int i, alive = 0;

	for (i = 0; i < r->ntargets; i++) {
		struct record_target *t = &r->targets[i];

		if (!record_target__live(t))
			continue;
		/* the same process and program: a restarted server may get the pid of the one it replaces */
		if (discover__same(&t->proc))
			alive++;
		else
			recording__remove_target(r, t);
	}
	return alive;
}

/* ---- 5a. follow: new processes of the targets ------------------------ */

/*
 * Exits are looked for every 200 ms (one read of /proc/PID/stat per
 * target); new processes then too, but only when an exec happened on the
 * machine since the last look (execwatch), and at least every 5 s: a
 * whole /proc scan costs the recorder about 2% of a core at 200 ms with
 * 110 processes (measured), and a master runs several hundred.
 */
#define FOLLOW_INTERVAL_NS (200 * 1000000LL)
#define FOLLOW_RESCAN_NS (5 * NS_PER_SEC)

/* Following: load the exec counter, or say that /proc is scanned on every look. */
static void recording__watch_execs(struct recording *r)
{
	int err;

	if (!r->follow)
		return;
	r->execs = execwatch__open(&err);
	r->execs_seen = UINT64_MAX; /* the first look scans: something may have started since the start */
	if (!r->execs)
		info("new processes are looked for in /proc every %lld ms (no exec counter: %s)\n",
		     FOLLOW_INTERVAL_NS / 1000000, cp_lasterr());
}

static void recording__ignore(struct recording *r, const struct target_proc *p)
{
	r->ignored[r->nignored++ % DISCOVER_MAX] = *p; /* oldest first out: it is long gone */
}

/* P and Q are one process running one program (a wrapper that execs the server is not). */
static bool same_image(const struct target_proc *p, const struct target_proc *q)
{
	return p->pid == q->pid && p->start_ticks == q->start_ticks && !strcmp(p->exe, q->exe);
}

/* Whether P is traced already, or was found untraceable before. */
static bool recording__knows(const struct recording *r, const struct target_proc *p)
{
	int i, n = r->nignored < DISCOVER_MAX ? r->nignored : DISCOVER_MAX;

	for (i = 0; i < r->ntargets; i++)
		if (record_target__live(&r->targets[i]) && same_image(&r->targets[i].proc, p))
			return true;
	for (i = 0; i < n; i++)
		if (same_image(&r->ignored[i], p))
			return true;
	return false;
}

/* A slot for a new target: the first of an exited (or skipped) one, else a new one. */
static struct record_target *recording__slot(struct recording *r)
{
	int i;

	for (i = 0; i < r->ntargets; i++)
		if (r->targets[i].exited)
			break;
	if (i == DISCOVER_MAX)
		return NULL;
	if (i == r->ntargets)
		r->ntargets++;
	memset(&r->targets[i], 0, sizeof(r->targets[i]));
	return &r->targets[i];
}

/*
 * Trace what started since the last look: a restarted (perhaps upgraded)
 * server is inspected afresh, from its own /proc/PID/exe, and attached
 * only where its plan proves the addresses, as at the start. Exits were
 * reaped just before, so a pid the kernel reused is a new target.
 */
static int recording__follow(struct recording *r)
{
	int64_t found_rt = now_ns(CLOCK_REALTIME), t0, t1;
	unsigned found;
	int i, n, err;

	r->scans++;
	if (r->nfollow_names)
		n = discover__by_name(r->follow_names, r->nfollow_names, r->scan, DISCOVER_MAX);
	else
		n = discover__defaults(r->scan, DISCOVER_MAX, &found);
	for (i = 0; i < n; i++) {
		struct target_proc *p = &r->scan[i];
		struct record_target *t;

		if (recording__knows(r, p))
			continue;
		if (!(t = recording__slot(r))) {
			info("cannot trace '%s' (pid %d): more than %d targets at once\n", p->exe, p->pid,
			     DISCOVER_MAX);
			recording__ignore(r, p);
			continue;
		}
		t->proc = *p;
		t0 = now_ns(CLOCK_MONOTONIC);
		recording__plan_target(r, t);
		t1 = now_ns(CLOCK_MONOTONIC);
		if (!t->exited && (err = recording__add_target(r, t)))
			return err;
		if (!t->attached) {
			t->exited = true;
			recording__ignore(r, p);
			continue;
		}
		info("following: '%s' (pid %d) traced %.0f ms after it started\n", p->exe, p->pid,
		     (double)(now_ns(CLOCK_REALTIME) - discover__started_ns(p)) / 1e6);
		verbose("following: pid %d found %.0f ms after it started, planned in %.0f ms, attached in %.0f ms\n",
			p->pid, (double)(found_rt - discover__started_ns(p)) / 1e6, (double)(t1 - t0) / 1e6,
			(double)(now_ns(CLOCK_MONOTONIC) - t1) / 1e6);
	}
	return 0;
}

void recording__counts(struct recording *r, struct tracer_counts *c)
{
	int i;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < r->ntracers; i++)
		if (r->state[i] && r->tracers[i]->stats)
			r->tracers[i]->stats(r, r->state[i], c);
}

static void recording__status(struct recording *r, int64_t elapsed)
{
	struct tracer_counts c;
	struct store_drops d;

	recording__counts(r, &c);
	fprintf(stderr, "\r\033[Kcpprof: %llus  requests %llu  lost %llu  top %s (%llu)",
		(unsigned long long)(elapsed / NS_PER_SEC), (unsigned long long)c.requests,
		(unsigned long long)c.live_lost, c.top_verb && c.top_verb[0] ? c.top_verb : "-",
		(unsigned long long)c.top_count);
	store__drops(r->st, &d);
	if (d.reason)
		fprintf(stderr, "  dropped %lld (%s)", (long long)d.requests, d.reason);
}

/*
 * Once, when the store starts dropping rows (store__set_budget): which
 * limit, what is no longer stored, and the way out.
 */
static void recording__say_drops(struct recording *r)
{
	static const char what[] = "no longer storing requests, CPU stacks, syscall, socket and metric "
				   "rows, only counting them (the run is still saved)";
	struct store_drops d;
	char lim[32];

	store__drops(r->st, &d);
	if (r->drop_said || !d.reason)
		return;
	r->drop_said = true;
	if (status_shown())
		fputc('\n', stderr);
	budget__fmt_size(d.limit_bytes, lim, sizeof(lim));
	if (!strcmp(d.reason, "max-db-size")) {
		error("database '%s' reached --max-db-size %s (%.1f MiB with its WAL): %s; "
		      "to record more, raise --max-db-size\n",
		      r->o->db, lim, d.measured_bytes / 1048576.0, what);
	} else if (!strcmp(d.reason, "min-free")) {
		error("free space on the filesystem of '%s' fell below %s %s (%.1f MiB left): %s; "
		      "free space, put --db on a larger filesystem, or lower --min-free\n",
		      r->o->db, r->o->min_free_bytes < 0 ? "the default floor (5%, at most 1G)" :
		      "--min-free", lim, (double)(d.measured_bytes * 10 / 1048576) / 10, what);
	} else {
		error("the filesystem of '%s' is full (SQLite: database or disk is full): %s; "
		      "free space or put --db on a larger filesystem\n", r->o->db, what);
	}
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
	recording__say_drops(r);
	if (!r->follow && !recording__reap(r)) {
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
	k.t0 = k.tick = k.sweep = k.interval = k.follow = k.rescan = k.commit = now_ns(CLOCK_MONOTONIC);
	info("recording run '%s' into '%s'%s\n", r->o->label, r->o->db,
	     r->o->duration ? "" : "; stop with Ctrl-C");
	while (!stop_requested && !done) {
		int64_t now;

		if ((err = recording__poll(r)))
			break;
		now = now_ns(CLOCK_MONOTONIC);
		if (duration && now - k.t0 >= duration)
			break;
		if (now - k.commit >= RECORD_COMMIT_NS) {
			k.commit = now;
			if ((err = store__flush(r->st))) {
				error("cannot store requests: %s\n", cp_lasterr());
				break;
			}
		}
		if (r->follow && now - k.follow >= FOLLOW_INTERVAL_NS) {
			uint64_t execs = r->execs ? execwatch__count(r->execs) : 0;

			k.follow = now;
			recording__reap(r);
			/* the count is read before the scan: an exec after it is seen next time */
			if (!r->execs || execs != r->execs_seen || now - k.rescan >= FOLLOW_RESCAN_NS) {
				r->execs_seen = execs;
				k.rescan = now;
				if ((err = recording__follow(r)))
					break;
			}
		}
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
	struct store_drops d;
	struct run_stats rs;
	int i, e2;

	/* the size the run ended with (a density test grows it) */
	if (o->capi.url && read_cluster(&o->capi, &cluster, false) == 0 &&
	    store__set_cluster(r->st, r->run_id, &cluster))
		error("cannot store the cluster size: %s\n", cp_lasterr());
	recording__counts(r, &c);
	/* the tracers count every call they handed the store; it kept all but the dropped */
	store__flush(r->st);
	recording__say_drops(r);
	store__drops(r->st, &d);
	rs = (struct run_stats){
		.ended_ns = now_ns(CLOCK_REALTIME),
		.requests = (int64_t)c.requests - d.requests,
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
	store__drops(r->st, &d);
	if (d.reason)
		info("run '%s': %lld requests and %lld other rows dropped (%s)\n", o->label,
		     (long long)d.requests, (long long)d.rows, d.reason);
	for (i = 0; i < r->ntracers; i++)
		if (r->state[i] && r->tracers[i]->summary)
			r->tracers[i]->summary(r, r->state[i]);
	if (r->follow)
		verbose("following: %llu scans of /proc, %llu execs on the machine\n",
			(unsigned long long)r->scans,
			(unsigned long long)(r->execs ? execwatch__count(r->execs) : 0));
	return err;
}

static void recording__close(struct recording *r)
{
	int i;

	bpfutil__links_settle(); /* the links of exited targets (bpfutil.h) */
	for (i = r->ntracers - 1; i >= 0; i--)
		if (r->state[i] && r->tracers[i]->close)
			r->tracers[i]->close(r->state[i]);
	store__close(r->st);
	execwatch__close(r->execs);
	budget__free(r->budget);
	free(r->state);
	free(r->scan);
	free(r->plans);
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
	r->scan = calloc(DISCOVER_MAX, sizeof(*r->scan));
	r->plans = calloc(PLAN_CACHE, sizeof(*r->plans));
	if (!r->state || !r->scan || !r->plans) {
		free(r->state);
		free(r->scan);
		free(r->plans);
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
	if (!err)
		recording__follow_names(r);
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
	for (i = 0; i < r->ntargets; i++)
		if (!r->targets[i].attached)
			recording__ignore(r, &r->targets[i].proc);
	recording__watch_execs(r);
	err = recording__run_loop(r);
	err = recording__stop(r, err);
	err = recording__end_run(r, err);
out:
	recording__close(r);
	return err ? EXIT_RUNTIME : EXIT_OK;
}
