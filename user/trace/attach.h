/* SPDX-License-Identifier: MIT */
/*
 * attach: load cpprof's BPF programs once and attach a probe plan to one
 * target process (uprobes restricted to that pid). Each target gets its
 * Go struct offsets in the BPF "targets" map before its first probe.
 */
#ifndef CPPROF_ATTACH_H
#define CPPROF_ATTACH_H

#include <stdbool.h>
#include <stdint.h>

#include "plan.h"

struct attach;
struct ring_buffer;

/*
 * Load the BPF object. -EPERM with a clear message when not root / no
 * CAP_BPF. TRACK_GOROUTINES: also map each request's goroutine to it in
 * the "goreq" map, for the CPU sampler (sampler.h).
 */
struct attach *attach__open(bool track_goroutines, int *err);
void attach__close(struct attach *a);

/* Attach every site of PLAN to PID. On failure, nothing of PID stays attached. */
int attach__target(struct attach *a, int pid, const struct probe_plan *plan, uint32_t component);
/* Detach PID's probes (it exited); its in-flight requests are forgotten. */
void attach__detach(struct attach *a, int pid);
/* The same for a PID that has exited: its links are destroyed in the background (bpfutil.h). */
void attach__forget(struct attach *a, int pid);

/*
 * Remove in-flight requests that will never end: those of PID (if > 0),
 * and those older than OLDER_THAN_NS (if not 0; a hijacked connection or
 * a handler that panicked never reaches its end probe). Returns how many.
 */
int attach__sweep(struct attach *a, int pid, uint64_t older_than_ns);
/* In-flight requests removed by attach__detach (their target exited). */
uint64_t attach__swept(const struct attach *a);

/* fds of the maps the CPU sampler shares: requests in flight, goroutine -> request. */
int attach__inflight_fd(const struct attach *a);
int attach__goreq_fd(const struct attach *a);
/* fd of the events ring buffer. */
int attach__events_fd(const struct attach *a);
/* Sum the per-CPU counters into OUT[STAT__MAX]. */
int attach__stats(const struct attach *a, uint64_t *out);

#endif
