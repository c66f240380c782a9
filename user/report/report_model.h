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

struct report_cl2;   /* cl2.h: clusterloader2's results read by report.c */

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

/* A cross-check's outcome (metrics_check.h's verdicts): "agree", "disagree" or "unknown". */
struct report_verdict {
	const char *verdict;
	char reason[200];
};

/*
 * An apiserver call kind beside the apiserver's own metrics over the
 * recording (REPORT_LOAD_METRICS): apiserver_request_total's delta and the
 * buckets of apiserver_request_duration_seconds holding p50 and p99.
 */
struct report_call_metrics {
	long long count;             /* -1: the metric has no such call */
	long long p50_lo_ns, p50_hi_ns, p99_lo_ns, p99_hi_ns;  /* -1: no observations */
	struct report_verdict verdict;       /* all three together: the worst */
	struct report_verdict count_v, p50_v, p99_v;
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
	struct report_call_metrics *metrics; /* NULL: no scraped apiserver metrics (or not apiserver) */
};

/* One scraped Prometheus endpoint (table metric_scrapes) and its CPU beside cpprof's. */
struct report_endpoint {
	char url[256], component[16], last_error[256];
	int scrapes, ok;
	int errors[16];              /* by enum scrape_error (scrape.h); names from scrape_error_name */
	long long first_ns, last_ns;
	double cpu_seconds;          /* process_cpu_seconds_total increase; < 0: not exposed */
	long long cpprof_cpu_ns;     /* kernel's CPU of the targets of component; -1 unknown */
	long long cpprof_sampled_ns; /* sampled CPU of the component; -1 unknown */
	struct report_verdict cpu;
};

/* A call kind in apiserver_request_total that cpprof did not see. */
struct report_metric_call {
	char verb[24], resource[96], subresource[48], scope[16];
	long long count;
};

/* One etcd gRPC method: grpc_server_handled_total beside cpprof's calls. */
struct report_grpc_check {
	char method[160];            /* /etcdserverpb.KV/Range */
	long long handled, not_ok, cpprof;
	struct report_verdict verdict;
};

/* A Prometheus histogram's delta over the run (cumulative counts per bound). */
struct report_prom_hist {
	int n;
	double le[64], count[64];    /* seconds, INFINITY for +Inf */
	double total, sum;
};

/*
 * One 5-minute SLO window of an apiserver call kind, both ways: cpprof's
 * exact p99 and what clusterloader2 computes from apiserver_request_sli_
 * duration_seconds over the same window (histogram_quantile's linear
 * interpolation inside the bucket holding the 99th percentile).
 */
struct report_sli_window {
	char verb[24], resource[96], subresource[48], scope[16];
	long long start_ns, end_ns;          /* the scrapes that bound the delta */
	long long window_start_ns;           /* cpprof's window (run start + k * 5 min) */
	long long cpprof_count, cpprof_p99_ns;  /* -1: cpprof saw none in the window */
	double sli_count;
	long long sli_p99_ns;                /* -1: no observations */
	long long sli_lo_ns, sli_hi_ns;      /* the bucket it interpolated in */
};

/* Everything the components' own metrics say about a run (REPORT_LOAD_METRICS). */
struct report_metrics {
	struct report_endpoint *eps;
	size_t neps;
	bool has_apiserver, has_etcd;
	long long calls_agree, calls_disagree, calls_unknown;
	struct report_metric_call *metric_only;  /* in the metric, not in cpprof */
	size_t nmetric_only;
	struct report_grpc_check *grpc;
	size_t ngrpc;
	struct report_prom_hist wal_fsync, backend_commit;
	long long fdatasync, fdatasync_p50_ns, fdatasync_p99_ns;  /* cpprof's; -1 unknown */
	struct report_verdict fsync_count, fsync_p50, fsync_p99;
	struct report_sli_window *sli;
	size_t nsli;
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
	long long started_ns;        /* the process's start; REPORT_NULL in older files */
	char *host;                  /* runs.host of its file, in a run merged from several; else NULL */
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
	const char *host;    /* a merged run's per-target groups: run.hosts[i].host (not owned); else NULL */
};

/* Connections served by one component (table sock_stats). */
struct report_client {
	char component[64];
	long long accepted, closed, peers_max, bytes_in, bytes_out, retransmits, intervals;
};

#define REPORT_STACK_NLABELS 6
enum { RSL_COMPONENT, RSL_CATEGORY, RSL_VERB, RSL_RESOURCE, RSL_SUBRESOURCE, RSL_SCOPE };

/* One folded CPU stack (table cpu_stacks), samples summed. */
struct report_stack {
	char *stack;
	long long samples, cpu_ns;
	/*
	 * With REPORT_LOAD_STACK_LABELS: component, category, verb, resource,
	 * subresource, scope ('' when none); else NULL.
	 */
	char *labels[REPORT_STACK_NLABELS];
	/*
	 * With REPORT_LOAD_STACK_LABELS from a file whose cpu_functions has
	 * file and line: each frame's "INLINED\tLINE\tFILE", '\n'-separated,
	 * in the order of stack (store.h, stack_rec.lines); else NULL.
	 */
	char *lines;
};

/*
 * Where one request's time went (table request_breakdown), averaged over
 * a set of requests of a call kind. A part is -1 when no request of the
 * set knows it (NULL in the table); a known part is averaged over the
 * requests that know it.
 */
struct report_parts {
	long long requests;          /* in the set */
	long long latency_ns, etcd_ns, cpu_ns, ser_ns, apf_ns, other_ns;
	double etcd_calls;           /* < 0: unknown */
};

/*
 * One call kind's breakdown: every request (mean), the median request
 * (the one at the middle rank by latency) and the slowest 1% (at least
 * one request), each averaged.
 */
struct report_breakdown {
	char *component, *verb, *resource, *subresource, *scope;
	long long count;
	struct report_parts mean, median, p99;
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
	/* rows not stored once --max-db-size, --min-free or a full disk stopped them (-1: unknown) */
	long long dropped_requests, dropped_rows, drop_limit_bytes;
	char *dropped_reason;                    /* max-db-size, min-free, disk-full; NULL: none */
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
	struct report_metrics *metrics;          /* NULL: no scrapes (or not loaded) */
	struct report_breakdown *bd;             /* per call kind, sorted as calls (REPORT_LOAD_BREAKDOWN) */
	size_t nbd;
	struct report_cl2 *cl2;                  /* NULL: no --cl2 file (set by report.c) */
	/*
	 * A run merged from several files (one per master, report_model__load_many):
	 * the same run of each file, in the order given, as read from that file
	 * alone (its row, targets, CPU, syscalls, metrics cross-checks) except
	 * that its calls' windows start at the merged start. The merged run
	 * above holds the union: calls with percentiles over every file's
	 * requests, counts and CPU summed, targets of every host. NULL for one file.
	 */
	struct report_run *hosts;
	size_t nhosts;
};

struct report_model {
	char *db;                                /* several files: joined with ',' */
	char **files;                            /* the files read, in the order given */
	size_t nfiles;
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
	REPORT_LOAD_METRICS = 1 << 5,   /* scraped metrics beside cpprof's (needs CALLS, CPU, WAL) */
	REPORT_LOAD_STACK_LABELS = 1 << 6, /* cpu_stacks, kept apart by component, category, call kind */
	REPORT_LOAD_BREAKDOWN = 1 << 7, /* request_breakdown per call kind */
	REPORT_LOAD_ALL     = REPORT_LOAD_CALLS | REPORT_LOAD_CPU | REPORT_LOAD_WAL | REPORT_LOAD_SYS |
			      REPORT_LOAD_METRICS | REPORT_LOAD_BREAKDOWN,
	/* what diff compares: the calls, serialization CPU, WAL fsync and the breakdowns */
	REPORT_LOAD_DIFF    = REPORT_LOAD_CALLS | REPORT_LOAD_CPU | REPORT_LOAD_WAL | REPORT_LOAD_BREAKDOWN,
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

/* One file of several and the run to read of it (LABEL NULL: see report_model__load_many). */
struct report_src {
	const char *path, *label;
};

/*
 * Read N files recorded at the same time on several hosts (the masters of
 * an HA control plane) as one model: runs with the same label in every
 * file are one run across the hosts, merged exactly (report_run.hosts).
 * Files holding one run each, with no label asked for, merge whatever their
 * labels. N == 1 is report_model__load. Refused with one line: a file
 * given twice (or a copy of another), a label missing in one of the files,
 * the same run of different kinds, and whatever report_model__load refuses.
 */
struct report_model *report_model__load_many(const struct report_src *src, size_t n,
					     const struct report_model_opts *opts, int *err);

/* The call of HOST (one of run.hosts) with the key of K, or NULL. */
const struct report_call *report_model__host_call(const struct report_run *host,
						  const struct report_call *k);

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
/* R's rows not stored, and why, in words into BUF; 0 when none were dropped. */
int report__drop_note(const struct report_run *r, char *buf, size_t n);
extern const char *const report_ser_categories[];

#define REPORT_SLO_WINDOW_NS (300 * 1000000000LL)

/* report_metrics.c: REPORT_LOAD_METRICS of run R (after its calls, targets, CPU and WAL). */
#ifdef SQLITE_VERSION
int report_metrics__load(const char *path, sqlite3 *db, struct report_run *r);
#endif
void report_metrics__free(struct report_metrics *m);

/* report_breakdown.c: REPORT_LOAD_BREAKDOWN of run R; nothing when the file has no breakdowns. */
#ifdef SQLITE_VERSION
int report_breakdown__load(const char *path, sqlite3 *db, struct report_run *r);
#endif
void report_breakdown__free(struct report_breakdown *bd, size_t n);
/* The breakdown of call kind K of R, or NULL. */
const struct report_breakdown *report_breakdown__find(const struct report_run *r, const char *component,
						      const char *verb, const char *resource,
						      const char *subresource, const char *scope);

#endif
