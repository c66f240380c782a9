/* SPDX-License-Identifier: MIT */
/*
 * cl2: clusterloader2's API responsiveness results, the PerfData JSON
 * that APIResponsivenessPrometheus writes (perf-tests clusterloader2
 * pkg/measurement/common/slos/api_responsiveness_prometheus.go,
 * apiCallMetrics.ToPerfData):
 *
 *   {"version": "v1", "dataItems": [{"data": {"Perc50": ms, "Perc90": ms,
 *    "Perc99": ms}, "unit": "ms", "labels": {"Verb": "LIST", "Resource":
 *    "pods", "Subresource": "", "Scope": "namespace", "Count": "12",
 *    "SlowCount": "0"}}]}
 *
 * Verb is the apiserver metric's (GET, LIST, POST, ...), Count a string.
 * report.c reads one with --cl2 and sets cpprof's percentiles of the same
 * call kind beside each item (cl2__match).
 */
#ifndef CPPROF_CL2_H
#define CPPROF_CL2_H

#include <stddef.h>

struct report_run;

struct cl2_item {
	char verb[24];           /* as clusterloader2 wrote it (GET, LIST, POST, ...) */
	char resource[96], subresource[48], scope[16];
	double p50_ms, p90_ms, p99_ms;   /* < 0: absent */
	long long count;                 /* -1: absent */
	/* cpprof's figures of the same call kind (cl2__match); count -1: cpprof has none */
	char cpprof_verb[24];
	long long cpprof_count, cpprof_p50_ns, cpprof_p90_ns, cpprof_p99_ns;
};

struct report_cl2 {
	char *path;
	char version[16];
	struct cl2_item *items;
	size_t n;
};

/*
 * Parse LEN bytes of BUF. 0 with *OUT set, or -EINVAL with ERR (ERRLEN
 * bytes) saying what is wrong and where; never reads past BUF + LEN.
 */
int cl2__parse(const char *buf, size_t len, struct report_cl2 **out, char *err, size_t errlen);
/* Read and parse PATH; on error a negative errno and cp_lasterr() set, naming PATH. */
int cl2__load(const char *path, struct report_cl2 **out);
/* Set cpprof's figures of run R beside each item of C. */
void cl2__match(struct report_cl2 *c, const struct report_run *r);
void cl2__free(struct report_cl2 *c);

#endif
