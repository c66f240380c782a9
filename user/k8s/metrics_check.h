/* SPDX-License-Identifier: MIT */
/*
 * metrics_check: the components' own figures over a recording, computed
 * from the scrapes user/k8s/scrape.c stored (metric_scrapes, metric_series,
 * metric_samples), for cpprof's figures to be checked against: per
 * apiserver call kind the apiserver_request_total delta and the buckets
 * of apiserver_request_duration_seconds (and _sli_) holding p50 and p99;
 * etcd's WAL fsync and backend commit histograms and per-method
 * grpc_server_handled_total; each endpoint's process_cpu_seconds_total
 * and its scrape errors. Plus the verdicts, as pure functions of both
 * sides. No rendering: report.c and diff.c show what this computes.
 *
 * "Over the recording" is from each endpoint's first good scrape to its
 * last (counters' increase, resets handled as Prometheus' increase() does;
 * a series first seen after the first scrape counts from 0, as client_golang
 * creates a labelled series at its first observation).
 */
#ifndef CPPROF_METRICS_CHECK_H
#define CPPROF_METRICS_CHECK_H

#include <stdbool.h>
#include <stdint.h>

#include <sqlite3.h>

#include "scrape.h"

#define MC_MAX_BUCKETS 64

/* A delta histogram: cumulative counts per upper bound, ascending, +Inf last. */
struct mc_hist {
	int n;
	double le[MC_MAX_BUCKETS];     /* seconds; INFINITY for +Inf */
	double count[MC_MAX_BUCKETS];  /* cumulative, as Prometheus exposes them */
	double sum;                    /* _sum delta, seconds */
	double total;                  /* _count delta */
};

/*
 * The bucket holding quantile Q (0 < Q <= 1) of H, as histogram_quantile
 * finds it (the first bucket whose cumulative count reaches Q * total):
 * *LO_NS the bound below it (0 for the first), *HI_NS its own bound
 * (INT64_MAX for +Inf). The bucket's index, or -1 when H is empty.
 */
int mc_hist__bucket(const struct mc_hist *h, double q, int64_t *lo_ns, int64_t *hi_ns);
/* Add COUNT (cumulative) at bound LE (seconds), keeping H sorted; -ENOSPC when full. */
int mc_hist__add(struct mc_hist *h, double le, double count);

/* One apiserver call kind, keyed as cpprof keys it (see mc_key). */
struct mc_call {
	char verb[24];           /* cpprof's verb; "connect" for log/exec/attach/portforward/proxy */
	char resource[96];
	char subresource[48];
	char scope[16];          /* as apiserver_request_total says it (see mc_key) */
	double count;            /* apiserver_request_total increase, over codes, groups, versions */
	double errors;           /* of which code 5xx or 429 */
	struct mc_hist dur;      /* apiserver_request_duration_seconds */
	struct mc_hist sli;      /* apiserver_request_sli_duration_seconds (_slo_ before 1.27) */
};

/* One gRPC method of etcd (grpc_server_handled_total; service without its package dots kept). */
struct mc_grpc {
	char service[64];        /* etcdserverpb.KV */
	char method[64];         /* Range */
	double handled;          /* increase, all codes */
	double not_ok;           /* of which grpc_code != OK */
};

/* One scraped endpoint. */
struct mc_endpoint {
	char url[256];
	char component[16];
	int scrapes, ok;
	int errors[SCRAPE_ERR__MAX];
	char last_error[256];
	int64_t first_ns, last_ns;   /* first and last good scrape; 0 when none */
	bool has_cpu;
	double cpu_seconds;          /* process_cpu_seconds_total increase */
};

struct metrics_check {
	int64_t run_id;
	struct mc_endpoint *eps;
	int neps;
	struct mc_call *calls;       /* sorted by verb, resource, subresource, scope */
	int ncalls;
	bool has_apiserver;          /* an apiserver endpoint had two good scrapes */
	struct mc_grpc *grpc;
	int ngrpc;
	bool has_etcd;               /* an etcd endpoint had two good scrapes */
	struct mc_hist wal_fsync;    /* etcd_disk_wal_fsync_duration_seconds */
	struct mc_hist backend_commit; /* etcd_disk_backend_commit_duration_seconds */
};

/*
 * Compute the figures of RUN_ID from DB. 0 with *OUT set (free with
 * metrics_check__free; a run without scrapes gives an empty check), or a
 * negative errno with cp_lasterr() set.
 */
int metrics_check__load(sqlite3 *db, int64_t run_id, struct metrics_check **out);
void metrics_check__free(struct metrics_check *mc);

/*
 * apiserver_request_total's key for a call cpprof tagged (VERB, RESOURCE,
 * SUBRESOURCE, SCOPE): the installer's route scope and CleanVerb (k8s.io/
 * apiserver/pkg/endpoints/installer.go, metrics/metrics.go) say create is
 * scope "resource" (a POST route), and a log, exec, attach, portforward or
 * proxy subresource is verb CONNECT whatever the method. OUT_VERB and
 * OUT_SCOPE get the key's verb and scope (24 and 16 bytes).
 */
void mc_key(const char *verb, const char *subresource, const char *scope,
	    char *out_verb, char *out_scope);
/* cpprof's verb for the metric's VERB label: POST->create, PUT->update, APPLY->patch, ... */
const char *mc_verb(const char *metric_verb);

/*
 * mc_verb, knowing the metric's scope label: a DELETE scoped to a
 * collection ("namespace" or "cluster") is a deletecollection, since
 * CleanScope gives a delete of one named object the scope "resource" and
 * custom resources' handler reports deletecollection as DELETE.
 */
const char *mc_verb_scoped(const char *metric_verb, const char *scope);
/* The call for cpprof's call kind, or NULL. */
const struct mc_call *metrics_check__find(const struct metrics_check *mc, const char *verb,
					  const char *resource, const char *subresource,
					  const char *scope);
/*
 * The sum of COUNT over every scope of (verb, resource, subresource): a
 * list or watch of one object by fieldSelector=metadata.name is scope
 * "resource" to RequestInfo (cpprof) but its route's "namespace" or
 * "cluster" to the metric. -1 when the metric has no such call.
 */
double metrics_check__count_any_scope(const struct metrics_check *mc, const char *verb,
				      const char *resource, const char *subresource);
const struct mc_grpc *metrics_check__grpc(const struct metrics_check *mc, const char *service,
					  const char *method);

/* The value of label NAME in a canonical label set ({a="x",...}), unescaped, into OUT; false if absent. */
bool mc_label(const char *labels, const char *name, char *out, size_t len);

enum mc_verdict { MC_UNKNOWN, MC_AGREE, MC_DISAGREE };

struct mc_result {
	enum mc_verdict verdict;
	char reason[200];
};

const char *mc_verdict_name(enum mc_verdict v);   /* "unknown", "agree", "disagree" */

/*
 * Counts: agree when |CPPROF - METRIC| <= SLACK (calls in flight at the
 * first or last scrape are seen by one side only); METRIC < 0: unknown.
 */
void mc_check_count(int64_t cpprof, double metric, double slack, struct mc_result *r);
/*
 * A quantile cpprof measured exactly (CPPROF_NS) against the bucket
 * [LO_NS, HI_NS] of the metric's histogram H holding it: agree inside,
 * or in the bucket next to it (cpprof times from ServeHTTP's entry, the
 * apiserver from its request-received filter, and bucket edges split
 * equal latencies); otherwise disagree, naming the buckets apart.
 */
void mc_check_quantile(int64_t cpprof_ns, const struct mc_hist *h, double q, struct mc_result *r);
/*
 * etcd's fdatasync calls cpprof counted (FDATASYNC) against what etcd
 * says it synced: one per WAL sync (etcd_disk_wal_fsync_duration_seconds;
 * server/storage/wal/wal.go sync: fileutil.Fdatasync) and two per bbolt
 * commit (etcd_disk_backend_commit_duration_seconds; bbolt tx.go Commit:
 * tx.write() then tx.writeMeta(), each ending in fdatasync). Agree within
 * SLACK (syncs under way at a scrape).
 */
void mc_check_fdatasync(int64_t fdatasync, const struct mc_hist *wal, const struct mc_hist *commit,
			double slack, struct mc_result *r);
/*
 * CPU: cpprof's figure (the kernel's, over attach..end) against the
 * process_cpu_seconds_total increase (the kernel's, over the first to last
 * scrape): agree within 10% + 250 ms. The windows differ at both ends (attach
 * to the first scrape, the last scrape to the end of the run, which waits
 * for the slowest endpoint's last scrape): on a 10 s test run of etcd 3.4
 * that was 0.48 s against 0.36 s; over an hour's run it is noise.
 */
void mc_check_cpu(int64_t cpprof_ns, double metric_seconds, struct mc_result *r);

#endif
