/* SPDX-License-Identifier: MIT */
/*
 * cpu_sample: what bpf/cpu_sample.bpf.c, bpf/go_http.bpf.c and userspace
 * (user/trace/sampler.c, user/profile/cpuprof.c) share: the goroutine -> request map,
 * the sample event, and the counters. Plain structs with fixed-width
 * fields; userspace checks their sizes with _Static_assert.
 */
#ifndef CPPROF_CPU_SAMPLE_H
#define CPPROF_CPU_SAMPLE_H

#ifndef __VMLINUX_H__ /* userspace; BPF gets the types from vmlinux.h */
#include <linux/types.h>
#endif

#define CPU_USTACK_MAX 127   /* user frames kept per sample (perf's default max is 127) */
#define CPU_KSTACK_MAX 48    /* kernel frames kept per sample */

/*
 * Key of the "goreq" map: a goroutine, by the address of its runtime.g
 * (R14 in Go's register ABI), in one process. A g is reused after its
 * goroutine exits; every creation overwrites or deletes its entry.
 */
struct goreq_key {
	__u32 tgid;
	__u32 pad;
	__u64 g;
};

enum goreq_kind {
	GOREQ_HTTP = 1,           /* rw is go_http's key (a response writer) */
	GOREQ_GRPC = 2,           /* rw is go_grpc's key (a *transport.Stream) */
};

/* The request a goroutine works for: its key in the "inflight" map of its kind, and start. */
struct goreq_val {
	__u64 rw;
	__u64 start_ns;
	__u32 kind;               /* enum goreq_kind */
	__u32 pad;
};

enum cpu_sample_flags {
	CPU_F_USER = 1 << 0,      /* the sample interrupted user code */
	CPU_F_REQ = 1 << 1,       /* rw/req_start_ns name a request in flight */
	CPU_F_STALE = 1 << 2,     /* the goroutine's request had already ended */
};

struct cpu_sample_event {
	__u64 ts;                 /* bpf_ktime_get_ns() */
	__u64 g;                  /* R14 of the user context (0 if unknown) */
	__u64 rw;                 /* request key, when CPU_F_REQ */
	__u64 req_start_ns;       /* its start, bpf_ktime_get_ns() at ServeHTTP */
	__u32 tgid;
	__u32 tid;
	__s32 ustack_bytes;       /* bpf_get_stack result; < 0: error */
	__s32 kstack_bytes;
	__u32 flags;              /* enum cpu_sample_flags */
	__u32 cpu;
	__u64 ustack[CPU_USTACK_MAX];
	__u64 kstack[CPU_KSTACK_MAX];
};

/* Per-CPU counters in the sampler's "stats" map; every drop has one. */
enum cpu_stat {
	CPU_STAT_SAMPLES = 0,     /* samples of targets submitted */
	CPU_STAT_RB_DROPS,        /* ring buffer full: sample lost */
	CPU_STAT_REQ,             /* samples attributed to a request in flight */
	CPU_STAT_STALE,           /* goroutine mapped to a request that had ended */
	CPU_STAT_SPAWN,           /* goroutines created (newproc1) in targets */
	CPU_STAT_SPAWN_REQ,       /* of which by a goroutine working for a request */
	CPU_STAT_SPAWN_NOPARENT,  /* creation seen without its newproc1 entry, or callergp unreadable */
	CPU_STAT_GOREQ_FULL,      /* goreq map full: child not followed */
	CPU_STAT__MAX,
};

#endif
