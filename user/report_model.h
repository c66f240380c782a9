/* SPDX-License-Identifier: MIT */
/*
 * report_model: everything `cpprof report`, `diff` and `runs` show of a
 * cpprof database, read in one pass per run into plain structs: the run
 * and its targets, the call kinds with their SLO windows, timelines and
 * histograms, etcd WAL fsync, syscalls, clients served, sampled CPU, and
 * (for folded output) CPU stacks. All the SQL of reporting is in
 * report_model.c; the renderers (report_text.c, report_json.c,
 * report_folded.c, runs.c, diff.c, html.c through JSON) only format a
 * model. A new section is a struct here, its loader in report_model.c and
 * its lines in each renderer; a new format is one more renderer.
 *
 * Memory is by call kind, never by row: the requests table is aggregated
 * by a streaming scan split over two threads (report_model.c).
 */
#ifndef CPPROF_REPORT_MODEL_H
#define CPPROF_REPORT_MODEL_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "cpprof/loghist.h"

/* An integer column that is NULL in the database, where the format tells NULL apart. */
#define REPORT_NULL LLONG_MIN

/* Requests of one status code of a call group. */
struct report_status {
	int status;
	int error;                   /* counted as an error (see is_error in report_model.c) */
	long long count;
};

/* One window of a call group's latency over time; percentiles are bucket bounds. */
struct report_window {
	long long start_ns, count, errors, p50_ns, p99_ns;
};

/* Statistics of one call group of a run, as in the json "calls" (REPORT-JSON.md). */
struct report_call {
	char *component, *verb, *resource, *subresource, *scope, *path;
	long long count, errors;
	long long p50_ns, p90_ns, p99_ns, max_ns;
	long long slo_threshold_ns;  /* 0: outside the SLO */
	int slo_ok;                  /* 1 ok, 0 failed, -1 outside the SLO (worst 5-minute window) */
	/* added with the 5-minute SLO windows, timelines and histograms */
	double rate_per_s;           /* < 0: unknown */
	long long slo_windows, slo_windows_failed;
	long long slo_worst_start_ns, slo_worst_p99_ns;  /* -1 outside the SLO */
	struct report_status *statuses;
	size_t nstatuses;
	__u64 *hist;                 /* LOGHIST_NBUCKETS counts over the whole run */
	struct report_window *timeline;
	size_t ntimeline;
};

/* Sampled CPU of one category of a component (table cpu_profile). */
struct report_cpu_cat {
	char *category;
	long long samples, cpu_ns;
};

struct report_cpu_comp {
	char *component;
	long long samples, cpu_ns;   /* sampled */
	long long kernel_cpu_ns;     /* sum of targets.cpu_ns; -1 unknown */
	long long ser_ns, unknown_ns;
	struct report_cpu_cat *cats; /* largest first */
	size_t ncats;
};

/* Serialization CPU of one call kind (no path: cpu_profile has none). */
struct report_ser {
	char *component, *verb, *resource, *subresource, *scope;
	long long ser_ns, requests;
};

struct report_cpu {
	struct report_cpu_comp *comps;
	size_t ncomps;
	struct report_ser *ser;      /* by ns per request, largest first */
	size_t nser;
};

/* A row of table targets; integers REPORT_NULL where NULL. */
struct report_target {
	char *component, *exe, *go_version, *k8s_version, *etcd_version;
	char *main_path, *build_id, *offsets_source, *probes;
	long long id, pid, attached_ns, exited_ns, samples;
	long long cpu_ns;            /* < 0: unknown (REPORT_NULL) */
};

/*
 * Syscall latency merged from table syscalls (a log-linear histogram per
 * row): per target and syscall, or for etcd's WAL fsync over the run or
 * per interval. Percentiles are bucket bounds (at most 25% high).
 */
struct report_sys {
	char component[64], syscall[32];
	long long target_id, pid;            /* per-target groups */
	long long start_ns, len_ns;          /* per-interval groups */
	long long count, sum_ns, p50_ns, p99_ns;
	__u64 hist[LOGHIST_NBUCKETS];
};

/* Connections served by one component (table sock_stats). */
struct report_client {
	char component[64];
	long long accepted, closed, peers_max, bytes_in, bytes_out, retransmits, intervals;
};

/* One folded CPU stack (table cpu_stacks), samples summed. */
struct report_stack {
	char *stack;
	long long samples;
};

/* A row of table runs as stored: integers REPORT_NULL where NULL. */
struct report_runrow {
	long long started_ns, ended_ns, requests, lost_events, unmatched;
};

/* One run. */
struct report_run {
	char *db, *label, *kind, *host, *kernel, *command, *cluster_source;
	long long id, started_ns, ended_ns;      /* started_ns 0, ended_ns -1: NULL */
	struct report_runrow stored;
	long long duration_ns;                   /* -1: unknown */
	long long requests;                      /* stored (counted over the calls) */
	long long nodes, pods, namespaces;       /* -1: unknown */
	long long sample_hz, lost_samples;       /* -1: unknown */
	long long timeline_window_ns, slo_window_ns;
	struct report_target *targets;
	size_t ntargets;
	struct report_call *calls;               /* sorted by component, verb, resource, ... */
	size_t ncalls;
	struct report_cpu *cpu;                  /* NULL: no CPU samples */
	struct report_sys *wal;                  /* etcd fdatasync, fsync over the run */
	size_t nwal;
	struct report_sys *wal_iv;               /* the same per interval, by syscall and time */
	size_t nwal_iv;
	struct report_sys *syscalls;             /* per target and syscall */
	size_t nsyscalls;
	struct report_client *clients;           /* per component */
	size_t nclients;
	struct report_stack *stacks;             /* sorted by stack */
	size_t nstacks;
};

struct report_model {
	char *db;
	struct report_run *runs;                 /* by id */
	size_t nruns;
};

/* What to read: REPORT_LOAD_RUNS alone is the quick listing of `cpprof runs`. */
enum {
	REPORT_LOAD_RUNS    = 0,        /* runs and targets */
	REPORT_LOAD_CALLS   = 1 << 0,   /* the requests scan: calls, duration, timelines */
	REPORT_LOAD_CPU     = 1 << 1,   /* cpu_profile (needs CALLS for requests per kind) */
	REPORT_LOAD_WAL     = 1 << 2,   /* etcd WAL fsync over the run (wal) */
	REPORT_LOAD_SYS     = 1 << 3,   /* WAL per interval, syscalls per target, sock_stats */
	REPORT_LOAD_STACKS  = 1 << 4,   /* cpu_stacks */
	REPORT_LOAD_ALL     = REPORT_LOAD_CALLS | REPORT_LOAD_CPU | REPORT_LOAD_WAL | REPORT_LOAD_SYS,
	/* what diff compares: the calls, serialization CPU and WAL fsync */
	REPORT_LOAD_DIFF    = REPORT_LOAD_CALLS | REPORT_LOAD_CPU | REPORT_LOAD_WAL,
};

struct report_model_opts {
	unsigned what;                  /* REPORT_LOAD_* */
	/*
	 * LABEL NULL: false reads every run, true needs the file to hold
	 * exactly one. HOW says how to name a run in that error ("choose one
	 * with --label"); NULL: "name one as FILE:LABEL".
	 */
	bool one_run;
	const char *how;
	const char *component;          /* STACKS of this component only; NULL every one */
	/*
	 * Open FILE as `cpprof runs` always has: any SQLite file with a runs
	 * table, and its own wording of errors.
	 */
	bool listing;
};

/*
 * Read run LABEL of DB_PATH (NULL: see opts->one_run) inside one read
 * transaction, so that a recorder writing meanwhile cannot shift rows
 * between the queries. NULL on error with *ERR a negative errno and
 * cp_lasterr() set (no such file, no such label, not a cpprof db).
 * Free with report_model__free (NULL is fine).
 */
struct report_model *report_model__load(const char *db_path, const char *label,
					const struct report_model_opts *opts, int *err);
void report_model__free(struct report_model *m);

/* Frees what a run holds (not R itself). */
void report_model__run_clear(struct report_run *r);
void report_model__calls_free(struct report_call *calls, size_t n);

/*
 * Kubernetes API-call latency SLO threshold for a call kind, in ns;
 * 0 if the call is excluded (watch, long-running, non-resource).
 * Mutating verbs: 1 s. get/list: 1 s single object (scope resource),
 * 5 s namespace, 30 s cluster.
 */
long long report__slo_threshold_ns(const char *verb, const char *scope, const char *resource,
				   const char *subresource);

/* Serialization categories: json/protobuf encode/decode and yaml (gzip is compression). */
int report__is_serialization(const char *category);
extern const char *const report_ser_categories[];

#define REPORT_SLO_WINDOW_NS (300 * 1000000000LL)

#endif
