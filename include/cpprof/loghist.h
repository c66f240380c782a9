/* SPDX-License-Identifier: MIT */
/*
 * loghist: log-linear latency histograms, shared by BPF and userspace.
 *
 * Every power of two is split into LOGHIST_SUB (4) linear sub-buckets, so
 * a bucket's width is at most a quarter of its lower bound (relative error
 * under 25%, as HdrHistogram with 2 significant bits). Values 0..3 ns have
 * one bucket each. With 144 buckets, bucket 142 ends at 7 * 2^34 - 1 ns
 * (120 s); the last bucket holds everything from 120 s up (a futex or
 * epoll wait can last forever) and its upper bound is LOGHIST_INF.
 *
 *   value v       bucket                              upper bound (inclusive)
 *   0..3          v                                   v
 *   4..7          v                                   v
 *   8..9, 10..11  8, 9  (width 2)                     9, 11
 *   2^m..         4*(m-1) + ((v >> (m-2)) & 3)         ((5 + sub) << (m-2)) - 1
 *
 * Plain C without builtins: the BPF backend has no count-leading-zeros
 * instruction, so log2 is a branchy binary search (as libbpf-tools'
 * bits.bpf.h log2l).
 */
#ifndef CPPROF_LOGHIST_H
#define CPPROF_LOGHIST_H

#ifndef __VMLINUX_H__ /* userspace; BPF gets the types from vmlinux.h */
#include <linux/types.h>
#endif

#define LOGHIST_SUB_BITS 2
#define LOGHIST_SUB      (1 << LOGHIST_SUB_BITS)
#define LOGHIST_NBUCKETS 144
/* Upper bound of the last bucket: "120 s or more" (INT64_MAX, fits SQLite). */
#define LOGHIST_INF      0x7fffffffffffffffULL

/* floor(log2(v)) for v > 0; 0 for v == 0. */
static inline __u32 loghist_log2(__u64 v)
{
	__u32 r = 0;

	if (v >> 32) { v >>= 32; r += 32; }
	if (v >> 16) { v >>= 16; r += 16; }
	if (v >> 8)  { v >>= 8;  r += 8; }
	if (v >> 4)  { v >>= 4;  r += 4; }
	if (v >> 2)  { v >>= 2;  r += 2; }
	if (v >> 1)  { r += 1; }
	return r;
}

/* Bucket of a latency of V ns, always < LOGHIST_NBUCKETS. */
static inline __u32 loghist_bucket(__u64 v)
{
	__u32 m, idx;

	if (v < LOGHIST_SUB)
		return (__u32)v;
	m = loghist_log2(v);
	idx = (m - LOGHIST_SUB_BITS + 1) * LOGHIST_SUB +
	      (__u32)((v >> (m - LOGHIST_SUB_BITS)) & (LOGHIST_SUB - 1));
	return idx < LOGHIST_NBUCKETS ? idx : LOGHIST_NBUCKETS - 1;
}

/* Smallest value of bucket I. */
static inline __u64 loghist_lower(__u32 i)
{
	__u32 m, sub;

	if (i < LOGHIST_SUB)
		return i;
	m = i / LOGHIST_SUB + LOGHIST_SUB_BITS - 1;
	sub = i % LOGHIST_SUB;
	return (__u64)(LOGHIST_SUB + sub) << (m - LOGHIST_SUB_BITS);
}

/* Largest value of bucket I (inclusive); LOGHIST_INF for the last bucket. */
static inline __u64 loghist_upper(__u32 i)
{
	if (i >= LOGHIST_NBUCKETS - 1)
		return LOGHIST_INF;
	return loghist_lower(i + 1) - 1;
}

#endif
