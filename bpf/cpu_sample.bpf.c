// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * cpu_sample: on-CPU samples of the target processes, and the goroutine
 * lineage that ties a sample to the request it works for.
 *
 * Sampling: one perf_event per CPU on the software cpu-clock event (no
 * hardware PMU on these machines); the program keeps samples of target
 * processes only: user stack (the kernel's frame-pointer walk; Go keeps
 * frame pointers on amd64), kernel stack, and the goroutine: R14 holds
 * the current g in Go's register ABI (src/cmd/compile/abi-internal.md),
 * read from the interrupted user registers, or from the task's saved user
 * registers when the sample hit the kernel (a syscall).
 *
 * Lineage: go_http.bpf.c maps the goroutine that starts serving a
 * request (serverHandler.ServeHTTP) to it in "goreq". Goroutines are
 * created by runtime.newproc1(fn, callergp, ...) (proc.go, Go 1.17+:
 * callergp in RBX), which returns the new g. No return probe (a RET is
 * single-stepped: ~9.5 us per goroutine on a KVM guest); instead two
 * probes on instructions the kernel emulates:
 *
 *   newproc_entry  the prologue site of newproc1: remember callergp
 *                  for this thread (newproc1 runs on the system stack,
 *                  so nothing else runs on the thread until it returns)
 *   newproc_newg   the "call runtime.casgstatus" with oldval _Gdead
 *                  (6) in RBX: newg is in RAX (casgstatus(newg, _Gdead,
 *                  _Grunnable), in every Go release since 1.17)
 *
 * Where userspace proved the slot newproc1's prologue spills callergp to
 * (user/goelf/lineage.c, lineage__find_callergp_slot; every Go from 1.19
 * to 1.27), newproc_newg alone does both, reading callergp from
 * [RSP + slot] (attach cookie: slot + 1): one probe hit a goroutine, not
 * two, and no "spawning" map. Each hit is a trap that costs the target
 * ~0.7 us on an idle guest and several us on a busy one, more than the
 * program it runs.
 *
 * The new g inherits its creator's request, at any depth; a g that is
 * reused for a goroutine created outside any request loses its entry.
 * A sample's request is checked against go_http's "inflight" map, so a
 * goroutine that outlives its request is not charged to it.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "maps.bpf.h"

#include "cpprof/cpu_sample.h"
#include "shared_maps.bpf.h"
#include "cpprof/go_http.h"
#include "cpprof/go_grpc.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* Target processes to sample: tgid -> 1 (Go, with lineage) or 2 (sample only). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u32);
} sample_targets SEC(".maps");

/* go_http's requests in flight (user/trace/attach.c shares its fd). */
GO_HTTP_INFLIGHT_MAP(inflight);

/* go_grpc's calls in flight (user/trace/grpc.c shares its fd). */
GO_GRPC_INFLIGHT_MAP(grpc_inflight);

/* Thread inside newproc1 -> its callergp. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, __u64);
} spawning SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CPU_STAT__MAX);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);
} samples SEC(".maps");

SEC("uprobe")
int BPF_UPROBE(newproc_entry)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u64 callergp = ctx->bx;

	bpf_map_update_elem(&spawning, &id, &callergp, BPF_ANY);
	return 0;
}

SEC("uprobe")
int BPF_UPROBE(newproc_newg)
{
	__u64 id = bpf_get_current_pid_tgid(), *callergp;
	struct goreq_key child = { .tgid = id >> 32, .g = ctx->ax };
	struct goreq_key parent = { .tgid = id >> 32 };
	struct goreq_val *v;

	__u64 slot = bpf_get_attach_cookie(ctx);

	stat_inc(&stats, CPU_STAT_SPAWN);
	if (slot) {
		if (bpf_probe_read_user(&parent.g, sizeof(parent.g), (void *)(ctx->sp + slot - 1)) ||
		    !parent.g) {
			stat_inc(&stats, CPU_STAT_SPAWN_NOPARENT);
			bpf_map_delete_elem(&goreq, &child);
			return 0;
		}
	} else {
		callergp = bpf_map_lookup_elem(&spawning, &id);
		if (!callergp) {
			stat_inc(&stats, CPU_STAT_SPAWN_NOPARENT);
			bpf_map_delete_elem(&goreq, &child);
			return 0;
		}
		parent.g = *callergp;
		bpf_map_delete_elem(&spawning, &id);
	}
	v = bpf_map_lookup_elem(&goreq, &parent);
	if (!v) {
		/* a reused g must not keep the request of its previous life */
		bpf_map_delete_elem(&goreq, &child);
		return 0;
	}
	stat_inc(&stats, CPU_STAT_SPAWN_REQ);
	if (bpf_map_update_elem(&goreq, &child, v, BPF_ANY))
		stat_inc(&stats, CPU_STAT_GOREQ_FULL);
	return 0;
}

/* R14 of the user context the sample interrupted, or 0. */
static __always_inline __u64 user_g(struct bpf_perf_event_data *ctx, __u32 *flags)
{
	struct pt_regs *regs;

	/* User addresses are below the canonical hole on x86-64, kernel ones above. */
	if ((long)ctx->regs.ip >= 0) {
		*flags |= CPU_F_USER;
		return ctx->regs.r14;
	}
	regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	if (!regs)
		return 0;
	return BPF_CORE_READ(regs, r14);
}

SEC("perf_event")
int sample(struct bpf_perf_event_data *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, *mode, flags = 0;
	struct cpu_sample_event *e;
	struct goreq_key gk = { .tgid = tgid };
	struct go_http_key hk = { .tgid = tgid };
	struct goreq_val *rv;
	struct go_http_inflight *in;
	bool live;

	mode = bpf_map_lookup_elem(&sample_targets, &tgid);
	if (!mode)
		return 0;
	e = bpf_ringbuf_reserve(&samples, sizeof(*e), 0);
	if (!e) {
		stat_inc(&stats, CPU_STAT_RB_DROPS);
		return 0;
	}
	e->ts = bpf_ktime_get_ns();
	e->tgid = tgid;
	e->tid = (__u32)id;
	e->cpu = bpf_get_smp_processor_id();
	e->rw = 0;
	e->req_start_ns = 0;
	e->g = user_g(ctx, &flags);
	if (*mode == 1 && e->g) {
		gk.g = e->g;
		rv = bpf_map_lookup_elem(&goreq, &gk);
		if (rv) {
			hk.rw = rv->rw;
			if (rv->kind == GOREQ_GRPC) {
				struct go_grpc_inflight *gin = bpf_map_lookup_elem(&grpc_inflight, &hk);

				live = gin && gin->start_ns == rv->start_ns;
			} else {
				in = bpf_map_lookup_elem(&inflight, &hk);
				live = in && in->start_ns == rv->start_ns;
			}
			if (live) {
				e->rw = rv->rw;
				e->req_start_ns = rv->start_ns;
				flags |= CPU_F_REQ;
				stat_inc(&stats, CPU_STAT_REQ);
			} else {
				flags |= CPU_F_STALE;
				stat_inc(&stats, CPU_STAT_STALE);
			}
		}
	}
	e->flags = flags;
	e->kstack_bytes = bpf_get_stack(ctx, e->kstack, sizeof(e->kstack), 0);
	e->ustack_bytes = bpf_get_stack(ctx, e->ustack, sizeof(e->ustack), BPF_F_USER_STACK);
	bpf_ringbuf_submit(e, 0);
	stat_inc(&stats, CPU_STAT_SAMPLES);
	return 0;
}
