/* SPDX-License-Identifier: MIT */
/*
 * cpuprof: turn CPU samples (sampler.h) into the run's CPU profile:
 * symbolize each stack (symbolize.h), classify it (classify.h), tie it to
 * the request it worked for once that request's tags are known (the
 * collector reports every stored request), and aggregate per target,
 * category and call kind, and per folded stack, for the store's
 * cpu_profile and cpu_stacks tables. Memory is bounded by distinct stacks
 * and by requests in flight, not by samples.
 */
#ifndef CPPROF_CPUPROF_H
#define CPPROF_CPUPROF_H

#include <stdbool.h>
#include <stdint.h>

#include "cpprof/cpu_sample.h"

struct cpuprof;
struct store;

struct cpuprof *cpuprof__new(struct store *st, int64_t run_id, uint64_t period_ns, int *err);
void cpuprof__free(struct cpuprof *p);

/* Samples of TGID belong to targets row TARGET_ID. Reads its CPU time now (/proc/TGID/stat). */
int cpuprof__add_target(struct cpuprof *p, int tgid, int64_t target_id, const char *component);

/* A sampler_fn: CTX is the cpuprof. */
int cpuprof__sample(void *ctx, const struct cpu_sample_event *e);

/*
 * The request of TGID keyed by response writer RW that started at
 * START_MONO_NS (bpf_ktime_get_ns) ended with these tags: its samples,
 * earlier or still to come, count for it.
 */
void cpuprof__request_done(struct cpuprof *p, int tgid, uint64_t rw, uint64_t start_mono_ns,
			   const char *verb, const char *resource, const char *subresource,
			   const char *scope);

/*
 * That request (after cpuprof__request_done) has a request_breakdown row,
 * keyed by REQUEST_ID (requests.id): its sampled CPU, and the serialization part, go
 * there once its late samples are in (cpuprof__tick, cpuprof__write).
 */
void cpuprof__request_breakdown(struct cpuprof *p, int tgid, uint64_t rw, uint64_t start_mono_ns,
				int64_t request_id);

/*
 * Note each target's CPU time so far, and forget old request tags (call
 * every few seconds: a target may exit).
 */
void cpuprof__tick(struct cpuprof *p);
/*
 * Note each target's CPU time now: call it when sampling stops, so that
 * the kernel's figure covers the same interval as the samples.
 */
void cpuprof__read_cpu(struct cpuprof *p);

/*
 * Write the profile to the store: cpu_profile and cpu_stacks rows, and
 * each target's kernel-accounted CPU (as of the last cpuprof__read_cpu or
 * cpuprof__tick) and sample count. Samples of
 * requests that never ended count without a call kind. Once, at the end.
 */
int cpuprof__write(struct cpuprof *p);

struct cpuprof_stats {
	uint64_t samples;         /* samples of known targets */
	uint64_t unknown_tgid;    /* samples of no known target */
	uint64_t attributed;      /* tied to a stored request */
	uint64_t unresolved;      /* tagged with a request that was never stored */
	uint64_t unknown_leaf;    /* innermost frame not symbolized */
	uint64_t stacks;          /* distinct folded stacks */
	uint64_t stacks_dropped;  /* samples whose stack did not fit the stack table */
	uint64_t ustack_errors;   /* user stack could not be read */
};
void cpuprof__stats(const struct cpuprof *p, struct cpuprof_stats *st);

/*
 * The samples tied so far, by target, category, call kind and stack, for
 * the live endpoint (promserve.h): FN once per entry, strings NULL or ''
 * where none. Samples of requests still in flight are not among them yet.
 */
typedef void (*cpuprof_each_fn)(void *ctx, const char *component, const char *category,
				const char *verb, const char *resource, const char *subresource,
				const char *scope, uint64_t samples, uint64_t cpu_ns);
void cpuprof__each(const struct cpuprof *p, cpuprof_each_fn fn, void *ctx);

#endif
