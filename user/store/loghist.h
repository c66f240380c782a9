/* SPDX-License-Identifier: MIT */
/*
 * loghist: userspace side of the log-linear histograms of
 * include/cpprof/loghist.h: merging per-CPU copies and nearest-rank
 * percentiles over buckets.
 */
#ifndef CPPROF_USER_LOGHIST_H
#define CPPROF_USER_LOGHIST_H

#include <stdint.h>

#include "cpprof/loghist.h"

/* DST[i] += SRC[i] for every bucket. */
void loghist__merge(__u64 *dst, const __u64 *src);

/* Number of values in the histogram. */
uint64_t loghist__total(const __u64 *counts);

/*
 * The nearest-rank P-th percentile (1 <= P <= 100), reported as the upper
 * bound of the bucket holding the value of rank ceil(P/100 * N), as
 * report.c ranks exact latencies. 0 for an empty histogram.
 */
uint64_t loghist__percentile(const __u64 *counts, int p);

/*
 * The same over buckets given as (upper bound, count) pairs sorted by
 * upper bound, as SQL returns them from the syscalls table.
 */
int64_t loghist__percentile_pairs(const int64_t *le, const int64_t *count, int n, int p);

#endif
