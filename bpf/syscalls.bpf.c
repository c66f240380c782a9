// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * syscalls: latency histograms of chosen syscalls of the target processes,
 * per (process, syscall). Two ways in, chosen by userspace before load
 * (kprobes and fentry do not work on cpprof's machines):
 *
 * - The fsync family (the default): the per-syscall tracepoints
 *   syscalls:sys_{enter,exit}_{fsync,fdatasync,sync_file_range}. They fire
 *   only for those syscalls, so the rest of the machine (kubelet, the
 *   scheduler, etcd when it is not a target) pays nothing for the others.
 *   They need tracefs to resolve their ids.
 * - Every syscall of the table (opt-in): the raw tracepoints sys_enter and
 *   sys_exit, which fire for every syscall of every process on the
 *   machine. So the path for everyone else is kept to the minimum:
 *   sys_enter switches on the syscall number first (most syscalls are not
 *   timed) and only then looks the tgid up; sys_exit does one hash lookup
 *   by thread, which misses for every thread not in a timed syscall of a
 *   target.
 *
 * Raw tracepoint arguments (include/trace/events/syscalls.h):
 *   sys_enter(struct pt_regs *regs, long id)
 *   sys_exit(struct pt_regs *regs, long ret)
 * The syscall number is only passed to sys_enter, so it is kept in "starts".
 * Syscall numbers are x86-64's; 32-bit (ia32) processes are not targets.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "maps.bpf.h"

#include "cpprof/syscalls.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* tgid -> 1; filled by userspace (syslat__add_target). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u32);
} targets SEC(".maps");

/* Thread (pid_tgid) in a timed syscall -> when and which. Sized by userspace. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct syslat_start);
} starts SEC(".maps");

/*
 * Per-CPU histograms. Not preallocated: a value is 2.3 KiB per CPU, and
 * only (target, syscall, generation) triples actually seen take memory.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 64 * SYSLAT_NSYSCALLS * 2);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct syslat_key);
	__type(value, struct syslat_hist);
} hists SEC(".maps");

/* A zeroed value to create "hists" entries from (too big for the stack). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct syslat_hist);
} zero SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SYSLAT_STAT__MAX);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

/* Generation new counts go into; flipped by userspace at each interval. */
__u32 gen = 0;

/* A thread of a target enters timed syscall SC (an index of the table). */
static __always_inline int enter(int sc)
{
	struct syslat_start s = {};
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;

	if (!bpf_map_lookup_elem(&targets, &tgid))
		return 0;
	s.start_ns = bpf_ktime_get_ns();
	s.sc = sc;
	if (bpf_map_update_elem(&starts, &id, &s, BPF_ANY))
		stat_inc(&stats, SYSLAT_STAT_STARTS_FULL);
	return 0;
}

/* A thread leaves a syscall: if enter() saw it, add its latency. */
static __always_inline int leave(void)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct syslat_start *s;
	struct syslat_hist *h;
	struct syslat_key key;
	__u64 lat;
	__u32 b, z = 0;

	s = bpf_map_lookup_elem(&starts, &id);
	if (!s)
		return 0;
	lat = bpf_ktime_get_ns() - s->start_ns;
	key.tgid = id >> 32;
	key.sc = s->sc;
	key.gen = gen & 1;
	bpf_map_delete_elem(&starts, &id);

	h = bpf_map_lookup_elem(&hists, &key);
	if (!h) {
		void *zv = bpf_map_lookup_elem(&zero, &z);

		if (!zv)
			return 0;
		/* NOEXIST: another CPU may have created it meanwhile; then look it up. */
		bpf_map_update_elem(&hists, &key, zv, BPF_NOEXIST);
		h = bpf_map_lookup_elem(&hists, &key);
		if (!h) {
			stat_inc(&stats, SYSLAT_STAT_HISTS_FULL);
			return 0;
		}
	}
	b = loghist_bucket(lat);
	if (b >= LOGHIST_NBUCKETS)
		return 0;
	/* Per-CPU value: this CPU's copy, no atomics needed. */
	h->count[b] += 1;
	h->sum_ns[b] += lat;
	stat_inc(&stats, SYSLAT_STAT_CALLS);
	return 0;
}

SEC("raw_tracepoint/sys_enter")
int sys_enter(struct bpf_raw_tracepoint_args *ctx)
{
	int sc = syslat_index((long)ctx->args[1]);

	return sc < 0 ? 0 : enter(sc);
}

SEC("raw_tracepoint/sys_exit")
int sys_exit(struct bpf_raw_tracepoint_args *ctx)
{
	return leave();
}

/* The fsync family through its own tracepoints (names: user/trace/syslat.c). */
#define SYSLAT_TP(name)                                                 \
	SEC("tracepoint/syscalls/sys_enter_" #name)                     \
	int tp_enter_##name(void *ctx) { return enter(SYSLAT_IDX_##name); } \
	SEC("tracepoint/syscalls/sys_exit_" #name)                      \
	int tp_exit_##name(void *ctx) { return leave(); }

SYSLAT_TP(fsync)
SYSLAT_TP(fdatasync)
SYSLAT_TP(sync_file_range)
