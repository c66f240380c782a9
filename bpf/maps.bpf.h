/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * maps: small helpers over BPF maps shared by the BPF program families.
 */
#ifndef CPPROF_MAPS_BPF_H
#define CPPROF_MAPS_BPF_H

/* Add one to counter IDX of STATS, a BPF_MAP_TYPE_PERCPU_ARRAY of __u64:
 * this CPU's copy, so no atomics; userspace sums the CPUs. An IDX out of
 * range finds nothing and counts nothing. */
static __always_inline void stat_inc(void *stats, __u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(stats, &idx);

	if (v)
		*v += 1;
}

#endif /* CPPROF_MAPS_BPF_H */
