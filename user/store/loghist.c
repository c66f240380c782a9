// SPDX-License-Identifier: MIT
/*
 * loghist: merge and read log-linear histograms (bucket layout in
 * include/cpprof/loghist.h). Percentiles are nearest-rank, like the exact
 * ones of report.c, but can only name the bucket: they report its upper
 * bound, never less than the true value and at most 25% above it.
 */
#include "loghist.h"

void loghist__merge(__u64 *dst, const __u64 *src)
{
	for (int i = 0; i < LOGHIST_NBUCKETS; i++)
		dst[i] += src[i];
}

uint64_t loghist__total(const __u64 *counts)
{
	uint64_t n = 0;

	for (int i = 0; i < LOGHIST_NBUCKETS; i++)
		n += counts[i];
	return n;
}

/* 1-based nearest rank of percentile P among N values: ceil(P/100 * N), in integers. */
static uint64_t rank(uint64_t n, int p)
{
	uint64_t r;

	if (p < 1)
		p = 1;
	if (p > 100)
		p = 100;
	r = (n * (uint64_t)p + 99) / 100;
	return r < 1 ? 1 : r;
}

uint64_t loghist__percentile(const __u64 *counts, int p)
{
	uint64_t n = loghist__total(counts), r, seen = 0;

	if (!n)
		return 0;
	r = rank(n, p);
	for (int i = 0; i < LOGHIST_NBUCKETS; i++) {
		seen += counts[i];
		if (seen >= r)
			return loghist_upper(i);
	}
	return LOGHIST_INF; /* not reached */
}

int64_t loghist__percentile_pairs(const int64_t *le, const int64_t *count, int n, int p)
{
	uint64_t total = 0, r, seen = 0;

	for (int i = 0; i < n; i++)
		total += count[i] > 0 ? (uint64_t)count[i] : 0;
	if (!total)
		return 0;
	r = rank(total, p);
	for (int i = 0; i < n; i++) {
		seen += count[i] > 0 ? (uint64_t)count[i] : 0;
		if (seen >= r)
			return le[i];
	}
	return le[n - 1];
}
