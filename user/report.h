/* SPDX-License-Identifier: MIT */
/*
 * report: read a cpprof database and print, per run, per component, verb,
 * resource (with subresource) and scope: count, p50, p90, p99 and max
 * latency, and the Kubernetes API-call latency SLO verdict. Aggregates
 * in one streaming pass over rows sorted by SQLite, never loading the
 * table into memory.
 */
#ifndef CPPROF_REPORT_H
#define CPPROF_REPORT_H

#include <stdio.h>

enum report_format { REPORT_TEXT = 0, REPORT_MD, REPORT_JSON };

struct report_opts {
	const char *label;  /* NULL: every run in the file */
	enum report_format format;
};

/* 0, or negative errno with cp_lasterr() set (no such file, no such label, not a cpprof db). */
int report__write(const char *db_path, const struct report_opts *o, FILE *out);

/*
 * Kubernetes API-call latency SLO threshold for a call kind, in ns;
 * 0 if the call is excluded (watch, long-running, non-resource).
 * Mutating verbs: 1 s. get/list: 1 s single object (scope resource),
 * 5 s namespace, 30 s cluster.
 */
long long report__slo_threshold_ns(const char *verb, const char *scope, const char *resource,
				   const char *subresource);

#endif
