/* SPDX-License-Identifier: MIT */
/*
 * tracer: what a recording session (record.c) asks of each view it
 * records. A tracer is a table entry of small operations, as bpftool keeps
 * its commands; record.c calls them in table order, and the session, not
 * the tracer, decides when: open, then every target once it is known
 * (add_target: at start, and for a target found mid-run just the same),
 * poll while running, flush on the session's clock, remove_target when a
 * target exits, stop and a last flush at the end, stats, summary, close.
 *
 * Tracers do not call each other. What one needs of an earlier one (a BPF
 * map to share, the CPU profile to tell of finished calls) goes through
 * struct recording: the earlier tracer publishes it when it opens.
 */
#ifndef CPPROF_TRACER_H
#define CPPROF_TRACER_H

#include <stdbool.h>
#include <stdint.h>

#include "discover.h"
#include "plan.h"
#include "record.h"

struct cpuprof;
struct execwatch;
struct plan_cache;
struct promserve;
struct etcdc_tracer;
struct request_rec;
struct store;

/* One process of the run. */
struct record_target {
	struct target_proc proc;
	struct probe_plan plan;
	int64_t target_id;      /* its row in 'targets', once the first tracer took it */
	bool attached, exited;  /* exited: gone, or skipped (it could not be planned or traced) */
};

struct recording {
	const struct record_opts *o;
	struct store *st;
	int64_t run_id;
	int64_t flush_rt;       /* CLOCK_REALTIME end of the interval being flushed */
	/* slots of exited targets are reused for the processes that follow them */
	struct record_target targets[DISCOVER_MAX];
	int ntargets;
	/* following (record.c): new processes of the targets are traced as they start */
	bool follow;
	const char *follow_names[DISCOVER_MAX];
	int nfollow_names;      /* 0: default discovery */
	char follow_buf[DISCOVER_MAX][64];
	struct target_proc *scan; /* DISCOVER_MAX entries, for each look at /proc */
	struct target_proc ignored[DISCOVER_MAX];
	int nignored;           /* processes that could not be traced: not tried again */
	struct execwatch *execs; /* the cue to look again; NULL: look every time */
	uint64_t execs_seen;
	uint64_t scans;         /* whole /proc scans, for the verbose summary */
	struct plan_cache *plans; /* plans by executable file (record.c) */
	int nplans;
	/* published by tracers as they open, for the tracers after them; -1 or NULL: none */
	int http_events_fd, http_inflight_fd, http_goreq_fd, grpc_inflight_fd;
	struct cpuprof *cprof;
	struct promserve *prom; /* --listen's endpoint (promserve.h), told of every stored call */
	struct etcdc_tracer *etcdc;   /* the apiserver's etcd client calls, told of every stored request */
	int etcdc_err;                /* its first failure there, returned by its next poll */
	/* the session's own */
	const struct tracer_ops *const *tracers;
	void **state;
	int ntracers;
	bool db_existed;
	struct budget *budget;  /* --max-db-size, --min-free (budget.h) */
	bool drop_said;         /* the line saying rows are being dropped was printed */
};

enum tracer_flush {
	TRACER_FLUSH_SWEEP,     /* every minute: forget calls that never ended */
	TRACER_FLUSH_INTERVAL,  /* every SYSLAT_INTERVAL_NS: store the interval that ends at flush_rt */
	TRACER_FLUSH_FINAL,     /* after stop: drain everything and store it */
};

/* What tracers add up to for the run (store.h's run_stats) and the status line. */
struct tracer_counts {
	uint64_t requests;      /* calls stored */
	uint64_t lost;          /* events dropped: ring buffer or in-flight table full */
	uint64_t unmatched;     /* events that could not be joined or have no known target */
	uint64_t lost_samples;  /* CPU samples dropped */
	uint64_t live_lost;     /* the "lost" of the status line: go_http's ring buffer drops */
	const char *top_verb;   /* the most frequent call kind, where a tracer keeps one */
	uint64_t top_count;
};

/*
 * Every operation but open may be NULL. Those returning int give 0 or more
 * on success, a negative errno on failure, having said why; a failure of
 * poll or flush ends the run (what was stored is kept).
 */
struct tracer_ops {
	const char *name;
	/*
	 * Start; *state NULL with 0 returned: off (not asked for, or not
	 * possible here; say why). A failure fails the whole run when the
	 * tracer is required, else it counts as off.
	 */
	int (*open)(struct recording *r, void **state);
	bool required;
	/*
	 * Opened only once the tracers before it took every target at the
	 * start (slow to load: the probes go in first), then takes them all.
	 * Every tracer after a late one is late too.
	 */
	bool late;
	/*
	 * Trace T. The first tracer of the table decides whether a target is
	 * traced at all: once it took T, the session stores T as a target of
	 * the run (t->target_id) and gives it to the others; a target it fails
	 * is skipped. The others may fail (saying so): T stays in the run.
	 */
	int (*add_target)(struct recording *r, void *state, struct record_target *t);
	/* T exited (or is no longer wanted) while the run goes on. */
	void (*remove_target)(struct recording *r, void *state, struct record_target *t);
	/* Handle what arrived: the session waits TIMEOUT_MS only in its first poll. */
	int (*poll)(struct recording *r, void *state, int timeout_ms);
	int (*flush)(struct recording *r, void *state, enum tracer_flush why);
	/*
	 * The run ends, and every tracer still traces: start what must be
	 * taken before any stops (FIRST: the first call), and say whether it
	 * is still under way; the session polls every tracer meanwhile (the
	 * metrics' last scrapes count the calls still being traced).
	 */
	bool (*finishing)(struct recording *r, void *state, bool first);
	/* The run ends: stop capturing from every target, before the final flush. */
	void (*stop)(struct recording *r, void *state);
	/* Add this tracer's counters to C. */
	void (*stats)(struct recording *r, void *state, struct tracer_counts *c);
	/* Say what the user should know of this tracer at the end (after the run line). */
	void (*summary)(struct recording *r, void *state);
	void (*close)(void *state);
};

/* The tracers in the order record.c runs them (record_tracers.c). */
extern const struct tracer_ops *const record_tracers[];

/* go_http's number for T's component (1 apiserver, 2 etcd, 0 other). */
uint32_t record_target__component_id(const struct record_target *t);
/* A call ended: tell the CPU profile, if any, so that its samples get its call kind. */
void recording__request_done(struct recording *r, int tgid, uint64_t key, uint64_t start_mono_ns,
			     const struct request_rec *rec);
/* What the tracers add up to so far (each one's stats). */
void recording__counts(struct recording *r, struct tracer_counts *c);
/* Whether T is still being traced (taken, and not exited). */
static inline bool record_target__live(const struct record_target *t)
{
	return t->attached && !t->exited;
}

#endif
