/* SPDX-License-Identifier: MIT */
/*
 * sampler: load bpf/cpu_sample.bpf.c, open one cpu-clock perf event per
 * CPU at the chosen rate, attach the goroutine-lineage probes (lineage.h)
 * to each Go target, and hand every sample of a target to a callback.
 * One job: no symbols, no SQL (cpuprof.c does those).
 */
#ifndef CPPROF_SAMPLER_H
#define CPPROF_SAMPLER_H

#include <stdbool.h>
#include <stdint.h>

#include "cpprof/cpu_sample.h"

struct sampler;

/*
 * Sample every CPU HZ times a second (cpu-clock, so each sample stands
 * for 1e9/HZ ns of CPU). INFLIGHT_FD and GOREQ_FD are go_http's maps
 * (attach.h), GRPC_INFLIGHT_FD go_grpc's (grpc.h; -1 if none): samples of
 * a goroutine working for a request or call in flight are tagged with it. NULL with *err and cp_lasterr() set on failure (no
 * perf_event support, not root, BPF load failure).
 */
struct sampler *sampler__open(int hz, int inflight_fd, int goreq_fd, int grpc_inflight_fd,
			      int *err);
void sampler__close(struct sampler *s);

/*
 * Sample PID. When it runs a Go binary (/proc/PID/exe), also attach the
 * lineage probes to it, so that samples in goroutines a request creates count for that
 * request; when that is impossible, PID is still sampled, *NOTE says why
 * lineage is off, and 1 is returned. 0: sampled with lineage. Negative
 * errno: not sampled.
 */
int sampler__add_target(struct sampler *s, int pid, char *note, size_t notelen);
/* Stop sampling PID and detach its probes. */
void sampler__remove_target(struct sampler *s, int pid);
/* The same for a PID that has exited: its links are destroyed in the background (bpfutil.h). */
void sampler__forget(struct sampler *s, int pid);

typedef int (*sampler_fn)(void *ctx, const struct cpu_sample_event *e);
/* Wait up to TIMEOUT_MS; call FN for each sample. Count handled, or the first negative FN result. */
int sampler__poll(struct sampler *s, int timeout_ms, sampler_fn fn, void *ctx);

/* Sum the per-CPU counters into OUT[CPU_STAT__MAX]. */
int sampler__stats(const struct sampler *s, uint64_t *out);
/* CPU time one sample stands for, ns. */
uint64_t sampler__period_ns(const struct sampler *s);

#endif
