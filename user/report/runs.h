/* SPDX-License-Identifier: MIT */
/*
 * runs: `cpprof runs FILE`, the runs a database holds: label, kind, host,
 * kernel, start, duration, requests, cluster size, and the targets with
 * their Go, Kubernetes and etcd versions. Columns an older cpprof did not
 * write read as unknown (JSON null). JSON shape: REPORT-JSON.md.
 */
#ifndef CPPROF_RUNS_H
#define CPPROF_RUNS_H

#include <stdio.h>

#include "report.h"

/* FORMAT is REPORT_TEXT or REPORT_JSON. 0, or negative errno with cp_lasterr() set. */
int runs__write(const char *db_path, enum report_format format, FILE *out);

#endif
