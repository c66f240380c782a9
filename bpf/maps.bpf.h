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

/* The flags of bpf_ringbuf_submit for the ring buffer RB: wake its reader
 * only once more than WAKEUP_BYTES wait, so that one wakeup serves many
 * events (the reader also polls on a timer). */
static __always_inline __u64 rb_wakeup(void *rb, __u64 wakeup_bytes)
{
	return bpf_ringbuf_query(rb, BPF_RB_AVAIL_DATA) > wakeup_bytes ? BPF_RB_FORCE_WAKEUP
								       : BPF_RB_NO_WAKEUP;
}

#endif /* CPPROF_MAPS_BPF_H */
