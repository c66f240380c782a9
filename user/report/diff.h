/* SPDX-License-Identifier: MIT */
/*
 * diff: compare runs call kind by call kind. Two runs (BASE, CAND): per
 * component, verb, resource, subresource, scope and path, counts, rates,
 * p50/p90/p99 of each side and CAND/BASE ratios, flagged where the p99
 * ratio leaves [0.5, 2] or the SLO verdicts differ; the same for
 * serialization CPU per request and etcd WAL fsync; kinds on one side only
 * are listed. Four runs (real before/after, Kubemark before/after): the
 * trend check, whether real and Kubemark change the same way. The JSON
 * shapes are documented in REPORT-JSON.md.
 */
#ifndef CPPROF_DIFF_H
#define CPPROF_DIFF_H

#include <stdio.h>

#include "report.h"

#define DIFF_RATIO_LOW       0.5
#define DIFF_RATIO_HIGH      2.0
#define DIFF_MIN_COUNT       20          /* fewer requests: low confidence, never flagged */
#define DIFF_MIN_DELTA_NS    1000000LL   /* p99s closer than this are never flagged */
#define TREND_NO_CHANGE_LOW  0.8
#define TREND_NO_CHANGE_HIGH 1.25
#define TREND_SIZE_FACTOR    2.0

struct diff_opts {
	enum report_format format;   /* text, md or json */
	long long min_delta_ns;      /* DIFF_MIN_DELTA_NS unless set by --min-delta-ms */
};

/*
 * Split "FILE[:LABEL]" into a path and a label (NULL when none). A SPEC
 * that names an existing file is a path even if it has a ':'. Free both.
 */
int diff__split_spec(const char *spec, char **path, char **label);

/*
 * Split one side of a diff, "FILE[:LABEL][,FILE[:LABEL]...]" (the masters'
 * files of one cluster, merged: report__load_many), into *N sources. Their
 * strings are in *STRS (2 * N of them, some NULL): free each, then *STRS
 * and *SRC. A SIDE that names an existing file is that file.
 */
int diff__split_side(const char *side, struct report_src **src, size_t *n, char ***strs);

/*
 * Compare NSPECS runs given as "FILE[:LABEL]": 2 (BASE CAND) or 4
 * (REAL_BEFORE REAL_AFTER KUBEMARK_BEFORE KUBEMARK_AFTER, the trend check).
 * 0, or negative errno with cp_lasterr() set.
 */
int diff__write(const char *const *specs, int nspecs, const struct diff_opts *o, FILE *out);

#endif
