/* SPDX-License-Identifier: MIT */
/*
 * collector: drain the BPF ring buffer, turn each ended request into a
 * tagged row (k8s_reqinfo) with wall-clock start time, and hand it to the
 * store. One job: no BPF loading, no SQL.
 */
#ifndef CPPROF_COLLECTOR_H
#define CPPROF_COLLECTOR_H

#include <stdbool.h>
#include <stdint.h>

struct collector;
struct store;

struct request_rec;

struct collector_opts {
	int64_t run_id;
	bool store_names;  /* keep object names (off by default: privacy) */
	/*
	 * Called for every stored request with its process, response writer
	 * and start (bpf_ktime_get_ns), the key the CPU sampler tags samples
	 * with (cpuprof.h). May be NULL.
	 */
	void (*on_request)(void *ctx, int tgid, uint64_t rw, uint64_t start_mono_ns,
			   const struct request_rec *r);
	void *on_request_ctx;
};

struct collector *collector__new(struct store *st, int events_fd,
				 const struct collector_opts *o, int *err);
void collector__free(struct collector *c);

/* Map events of TGID to the targets row TARGET_ID of COMPONENT. */
int collector__add_target(struct collector *c, int tgid, int64_t target_id, const char *component);
/*
 * TGID exited: store what it left in the ring buffer, then forget it, so
 * that a new process the kernel gives the same pid maps to its own row.
 */
void collector__remove_target(struct collector *c, int tgid);

/*
 * Wait up to TIMEOUT_MS for events and store them. Returns the number of
 * events handled, or a negative errno (a store error is fatal; -EINTR is
 * not an error).
 */
int collector__poll(struct collector *c, int timeout_ms);

uint64_t collector__requests(const struct collector *c);
/* Events whose tgid matched no target (should stay 0). */
uint64_t collector__unknown(const struct collector *c);
/* The most frequent verb so far ("" if none). */
const char *collector__top_verb(const struct collector *c, uint64_t *count);

#endif
