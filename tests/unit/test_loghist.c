// SPDX-License-Identifier: MIT
/*
 * Log-linear histogram layout (include/cpprof/loghist.h) and the
 * userspace merge and percentile (user/store/loghist.c), checked exactly:
 * against a reference bucket function, on every bucket boundary, and
 * with hand-counted percentiles.
 */
#include <stdint.h>

#include "check.h"
#include "loghist.h"

/* Reference: the same layout computed with a loop and __builtin_clzll. */
static unsigned ref_bucket(uint64_t v)
{
	unsigned m, idx;

	if (v < 4)
		return v;
	m = 63 - __builtin_clzll(v);
	idx = (m - 1) * 4 + ((v >> (m - 2)) & 3);
	return idx < LOGHIST_NBUCKETS ? idx : LOGHIST_NBUCKETS - 1;
}

static void test_log2(void)
{
	CHECK_INT(loghist_log2(0), 0);
	CHECK_INT(loghist_log2(1), 0);
	for (int m = 0; m < 64; m++) {
		CHECK_INT(loghist_log2(1ULL << m), m);
		if (m > 0)
			CHECK_INT(loghist_log2((1ULL << m) - 1), m - 1);
	}
	CHECK_INT(loghist_log2(UINT64_MAX), 63);
}

static void test_small_values(void)
{
	/* 0..7 ns: one bucket per value. */
	for (uint64_t v = 0; v < 8; v++) {
		CHECK_INT(loghist_bucket(v), v);
		CHECK_INT(loghist_lower(v), v);
		CHECK_INT(loghist_upper(v), v);
	}
	/* 8..15: width 2; 16..31: width 4. */
	CHECK_INT(loghist_bucket(8), 8);
	CHECK_INT(loghist_bucket(9), 8);
	CHECK_INT(loghist_bucket(10), 9);
	CHECK_INT(loghist_bucket(15), 11);
	CHECK_INT(loghist_bucket(16), 12);
	CHECK_INT(loghist_bucket(19), 12);
	CHECK_INT(loghist_bucket(20), 13);
	CHECK_INT(loghist_upper(8), 9);
	CHECK_INT(loghist_upper(11), 15);
	CHECK_INT(loghist_upper(12), 19);
	/* 1 ms = 1,000,000 ns: 2^19 = 524288 <= v < 2^20; sub = (1e6 >> 17) & 3 = 7 & 3 = 3. */
	CHECK_INT(loghist_bucket(1000000), 18 * 4 + 3);
	CHECK_INT(loghist_lower(75), 917504);
	CHECK_INT(loghist_upper(75), 1048575);
}

static void test_boundaries(void)
{
	/* Buckets tile the range: each starts one past the previous end. */
	for (unsigned i = 0; i + 1 < LOGHIST_NBUCKETS; i++) {
		uint64_t lo = loghist_lower(i), hi = loghist_upper(i);

		CHECK(lo <= hi, "bucket %u: lower %llu > upper %llu", i,
		      (unsigned long long)lo, (unsigned long long)hi);
		CHECK_INT(loghist_bucket(lo), i);
		CHECK_INT(loghist_bucket(hi), i);
		CHECK_INT(loghist_lower(i + 1), hi + 1);
		/* Width at most a quarter of the lower bound (exact below 8). */
		if (lo >= 8)
			CHECK(hi - lo + 1 <= lo / 4, "bucket %u too wide", i);
	}
	/* 120 s and more: the overflow bucket. */
	CHECK_INT(loghist_lower(LOGHIST_NBUCKETS - 1), 7ULL << 34);
	CHECK_INT(loghist_upper(LOGHIST_NBUCKETS - 2), (7ULL << 34) - 1);
	CHECK_INT(loghist_upper(LOGHIST_NBUCKETS - 1), LOGHIST_INF);
	CHECK_INT(loghist_bucket(100ULL * 1000000000), LOGHIST_NBUCKETS - 3); /* 100e9 >> 34 = 5 */
	CHECK_INT(loghist_bucket(119ULL * 1000000000), LOGHIST_NBUCKETS - 2); /* 119e9 >> 34 = 6 */
	CHECK_INT(loghist_bucket(7ULL << 34), LOGHIST_NBUCKETS - 1);
	CHECK_INT(loghist_bucket(3600ULL * 1000000000), LOGHIST_NBUCKETS - 1);
	CHECK_INT(loghist_bucket(UINT64_MAX), LOGHIST_NBUCKETS - 1);
	CHECK_INT(loghist_bucket(INT64_MAX), LOGHIST_NBUCKETS - 1);
}

static void test_against_reference(void)
{
	uint64_t x = 88172645463325252ULL;
	int bad = 0;

	/* Every power of two and its neighbours, then pseudo-random values of every magnitude. */
	for (int m = 0; m < 64; m++)
		for (int d = -1; d <= 1; d++) {
			uint64_t v = (1ULL << m) + d;

			bad += loghist_bucket(v) != ref_bucket(v);
		}
	for (int i = 0; i < 200000; i++) {
		x ^= x << 13; x ^= x >> 7; x ^= x << 17;
		uint64_t v = x >> (x % 64);

		bad += loghist_bucket(v) != ref_bucket(v);
		if (loghist_bucket(v) + 1 < LOGHIST_NBUCKETS)
			bad += !(loghist_lower(loghist_bucket(v)) <= v && v <= loghist_upper(loghist_bucket(v)));
	}
	CHECK_INT(bad, 0);
}

static void test_merge_total(void)
{
	__u64 a[LOGHIST_NBUCKETS] = { 0 }, b[LOGHIST_NBUCKETS] = { 0 };

	a[0] = 1; a[10] = 2; a[LOGHIST_NBUCKETS - 1] = 3;
	b[10] = 5; b[20] = 7;
	loghist__merge(a, b);
	CHECK_INT(a[0], 1);
	CHECK_INT(a[10], 7);
	CHECK_INT(a[20], 7);
	CHECK_INT(a[LOGHIST_NBUCKETS - 1], 3);
	CHECK_INT(loghist__total(a), 18);
	CHECK_INT(loghist__total(b), 12);
}

static void test_percentile(void)
{
	__u64 h[LOGHIST_NBUCKETS] = { 0 };
	int64_t le[3], cnt[3];

	CHECK_INT(loghist__percentile(h, 50), 0);
	/* 100 values: 90 of 1000 ns, 9 of 1 ms, 1 of 1 s. */
	h[loghist_bucket(1000)] = 90;
	h[loghist_bucket(1000000)] = 9;
	h[loghist_bucket(1000000000)] = 1;
	CHECK_INT(loghist__percentile(h, 1), loghist_upper(loghist_bucket(1000)));
	CHECK_INT(loghist__percentile(h, 50), 1023);     /* 1000 is in [896, 1023] */
	CHECK_INT(loghist__percentile(h, 90), 1023);     /* rank 90: still the 90th value */
	CHECK_INT(loghist__percentile(h, 91), 1048575);  /* rank 91: first of the 1 ms */
	CHECK_INT(loghist__percentile(h, 99), 1048575);  /* rank 99 */
	CHECK_INT(loghist__percentile(h, 100), loghist_upper(loghist_bucket(1000000000)));
	/* Percentile never below the true value, at most 25% above. */
	CHECK(loghist_upper(loghist_bucket(1000000000)) >= 1000000000 &&
	      loghist_upper(loghist_bucket(1000000000)) <= 1250000000, "1 s bucket bound");

	/* Nearest rank rounds up: 3 values, p50 is rank 2; 200 values, p99 is rank 198. */
	memset(h, 0, sizeof(h));
	h[1] = 1; h[2] = 1; h[3] = 1;
	CHECK_INT(loghist__percentile(h, 50), 2);
	CHECK_INT(loghist__percentile(h, 34), 2);
	CHECK_INT(loghist__percentile(h, 33), 1);
	memset(h, 0, sizeof(h));
	h[5] = 198; h[6] = 2;
	CHECK_INT(loghist__percentile(h, 99), 5);
	h[5] = 197; h[6] = 3;
	CHECK_INT(loghist__percentile(h, 99), 6);
	/* Out-of-range P is clamped. */
	CHECK_INT(loghist__percentile(h, 0), 5);
	CHECK_INT(loghist__percentile(h, 150), 6);

	/* The same over (le, count) pairs, as read from SQL. */
	le[0] = 1023; cnt[0] = 90;
	le[1] = 1048575; cnt[1] = 9;
	le[2] = INT64_MAX; cnt[2] = 1;
	CHECK_INT(loghist__percentile_pairs(le, cnt, 3, 50), 1023);
	CHECK_INT(loghist__percentile_pairs(le, cnt, 3, 99), 1048575);
	CHECK_INT(loghist__percentile_pairs(le, cnt, 3, 100), INT64_MAX);
	CHECK_INT(loghist__percentile_pairs(le, cnt, 0, 50), 0);
}

int main(void)
{
	test_log2();
	test_small_values();
	test_boundaries();
	test_against_reference();
	test_merge_total();
	test_percentile();
	return check_summary("loghist");
}
