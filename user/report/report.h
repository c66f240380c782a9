/* SPDX-License-Identifier: MIT */
/*
 * report: read a cpprof database and print, per run, per component, verb,
 * resource (with subresource) and scope: count, p50, p90, p99 and max
 * latency, and the Kubernetes API-call latency SLO verdict. The database
 * is read into the report model (report_model.h, in one streaming pass
 * over the rows, never loading the table into memory) and a renderer
 * formats it (report_render.h).
 */
#ifndef CPPROF_REPORT_H
#define CPPROF_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "cpprof/loghist.h"
#include "report_model.h"

enum report_format { REPORT_TEXT = 0, REPORT_MD, REPORT_JSON };

struct report_opts {
	const char *label;  /* NULL: every run in the file */
	enum report_format format;
	const char *cl2;    /* clusterloader2 PerfData to show beside cpprof's (cl2.h); NULL: none */
};

/*
 * 0, or negative errno with cp_lasterr() set (no such file, no such label, not a cpprof db).
 *
 * Text is aligned and at most 100 columns wide (long resource names are
 * cut with an ellipsis; json has them whole). md is a Markdown section per
 * run with one table. json is a stable shape, one object per run, ordered
 * by run id; integers are null where the database holds NULL. The
 * authoritative description is REPORT-JSON.md; the original fields:
 *
 *   {"runs":[{"label":s,"kind":s,"started_ns":i,"ended_ns":i|null,
 *             "host":s|null,"kernel":s|null,"command":s|null,
 *             "requests":i|null,"lost_events":i|null,"unmatched":i|null,
 *             "targets":[{"id":i,"pid":i,"component":s,"exe":s,"go_version":s,
 *                         "main_path":s,"build_id":s,"offsets_source":s,
 *                         "probes":s,"attached_ns":i,"exited_ns":i|null}],
 *             "calls":[{"component":s,"verb":s,"resource":s,"subresource":s,
 *                       "path":s|null,"scope":s,"count":i,"p50_ns":i,"p90_ns":i,
 *                       "p99_ns":i,"max_ns":i,"errors":i,
 *                       "slo_threshold_ns":i,"slo_ok":true|false|null}],
 *             "wal_fsync":[{"component":"etcd","syscall":s,"count":i,"sum_ns":i,
 *                           "p50_ns":i,"p99_ns":i,
 *                           "intervals":[{"interval_start_ns":i,"interval_ns":i,
 *                                         "count":i,"p50_ns":i,"p99_ns":i}]}],
 *             "syscalls":[{"component":s,"syscall":s,"target_id":i,"pid":i,
 *                          "count":i,"sum_ns":i,"p50_ns":i,"p99_ns":i}],
 *             "clients":[{"component":s,"accepted":i,"closed":i,"peers_max":i,
 *                         "bytes_in":i,"bytes_out":i,"retransmits":i,"intervals":i}]}]}
 *
 * wal_fsync, syscalls and clients are present only when the run has rows
 * in the syscalls / sock_stats tables (SCHEMA.md). wal_fsync has the
 * fdatasync and fsync calls of component etcd, all etcd targets merged,
 * over the run and per interval in time order; syscalls has one entry per
 * target and syscall; clients one per component (peers_max: most distinct
 * client addresses of one target in one interval). Their percentiles are
 * nearest-rank over log-linear buckets and are the bucket's upper bound
 * (at most 25% high; 9223372036854775807 for calls of 120 s or more).
 *
 * calls are sorted by component, verb, resource, subresource, scope, path;
 * path is set only for non-resource requests; slo_threshold_ns is 0 and
 * slo_ok null for calls outside the SLO. Percentiles are nearest-rank over
 * all latencies of the call in the run. errors counts HTTP 5xx and 429,
 * and for etcd every non-OK gRPC status.
 */
int report__write(const char *db_path, const struct report_opts *o, FILE *out);

/*
 * The same over N files recorded at once on several hosts (the masters of
 * an HA control plane), merged into one view with a per-host breakdown
 * (report_model__load_many); each SRC's label, or O's when NULL. JSON has
 * "files" and, per run, "hosts" (REPORT-JSON.md). N == 1 is report__write.
 */
int report__write_many(const struct report_src *src, size_t n, const struct report_opts *o,
		       FILE *out);

/*
 * Load run LABEL of DB_PATH (LABEL NULL: the file's only run; -EINVAL with
 * "'x.db' holds 3 runs (a, b, c); name one as x.db:LABEL" if it holds
 * several), with what diff compares (REPORT_LOAD_DIFF: the calls, CPU
 * and the WAL fsync over the run). Free with report__run_free (NULL is
 * fine).
 */
int report__load(const char *db_path, const char *label, struct report_run **run);
/* The same run of N files (one per master) merged into one (report_model__load_many). */
int report__load_many(const struct report_src *src, size_t n, struct report_run **run);
void report__run_free(struct report_run *r);

/* JSON pieces shared with diff (REPORT-JSON.md): HIST and CPU. */
void report__json_hist(FILE *out, const __u64 *hist);
void report__json_cpu(FILE *out, const struct report_cpu *cpu);

/*
 * `cpprof report --format folded`: the run's stacks of table cpu_stacks
 * as "frame;frame;frame COUNT" lines (flamegraph.pl, speedscope), samples
 * summed over rows with the same stack, sorted by stack; COMPONENT NULL:
 * every component.
 */
int report__folded(const char *db_path, const char *label, const char *component, FILE *out);
int report__folded_many(const struct report_src *src, size_t n, const char *component, FILE *out);

/*
 * `cpprof report --format pprof`: the same stacks as a gzipped
 * profile.proto (report_pprof.c), with values samples/count and
 * cpu/nanoseconds and labels component, category, verb, resource,
 * subresource and scope.
 */
int report__pprof(const char *db_path, const char *label, const char *component, FILE *out);

/*
 * `cpprof report --format perfdata`: the API calls of COMPONENT (NULL:
 * apiserver) as perf-tests' PerfData (report_perfdata.c). DIR NULL: one
 * run to OUT; else one file per run (or run LABEL) in DIR, named
 * APIResponsivenessPrometheus_<label>_<start, RFC 3339>.json as perfdash
 * expects, each path printed to OUT.
 */
int report__perfdata(const char *db_path, const char *label, const char *component,
		     FILE *out, const char *dir);

/*
 * The call groups of run LABEL in DB_PATH (LABEL NULL: the file's only
 * run; -EINVAL if it holds several), for diff. Free with report__calls_free.
 */
int report__calls(const char *db_path, const char *label, struct report_call **calls,
		  size_t *n);
void report__calls_free(struct report_call *calls, size_t n);

/* S as Markdown text ("-" if NULL or empty): escapes what CommonMark reads as markup, and '|'. */
void report__md_text(FILE *out, const char *s);

/* A duration in human units with 3 significant digits: 999ns, 1.23µs, 12.3ms, 1.20s, 3600s. */
void report__fmt_ns(long long ns, char *buf, size_t n);

/*
 * S as a JSON string (RFC 8259), "null" for NULL; bytes that are not
 * UTF-8 (file and function names need not be) become U+FFFD, so that the
 * output always parses. Every --format json of cpprof writes through it.
 */
void report__json_str(FILE *out, const char *s);


#endif
