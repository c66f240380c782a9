/* SPDX-License-Identifier: MIT */
/*
 * etcdc: the apiserver's etcd calls, seen from its gRPC client
 * (bpf/go_etcdc.bpf.c): each unary call's method, key resource and
 * client-observed latency, and each stream (Watch) opened, tied to the
 * API request whose goroutine lineage made it.
 *
 * etcdc_plan finds grpc's (*ClientConn).Invoke, (*clientStream).finish
 * and (*ClientConn).NewStream in one binary, places each probe as plan.c
 * does (an emulated instruction with the argument registers untouched),
 * proves from each function's prologue that it takes its arguments in
 * the registers the probes read (the spill slots of the register ABI),
 * and proves the etcd request layout from etcdserverpb's getters.
 *
 * In a k8s.io/apiserver binary it also probes director.ServeHTTP, the
 * innermost handler, whose first entry by the request's goroutines ends
 * the wait before the handler (authentication, APF, authorization).
 *
 * A call made for a request is held until that request is stored
 * (etcdc_tracer__request_done), then written with the request's start
 * as stored, and the request's breakdown (etcd calls, their union of
 * time) with it. Calls of no request (the watch cache's reflectors, the
 * compactor, leases) are written as they come.
 */
#ifndef CPPROF_ETCDC_H
#define CPPROF_ETCDC_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cpprof/go_etcdc.h"
#include "plan.h"
#include "store.h"

#define ETCDC_PLAN_MAX_SITES 8

struct etcdc_site {
	enum etcdc_probe_kind kind;
	struct probe_site site;     /* site.kind is unused (PROBE__KINDS) */
};

struct etcdc_plan {
	char path[512];
	char go_version[32];
	struct etcdc_cfg off;       /* -1 where unproven: calls are traced without keys */
	char src_regs[384];         /* how the argument registers were proven */
	char src_keys[384];         /* how the message offsets were proven, or why not */
	char src_handler[384];      /* where the handler-start probe sits, or why there is none */
	int nsites;
	struct etcdc_site sites[ETCDC_PLAN_MAX_SITES];
};

/*
 * Plan PATH. 0; -ENOENT if the binary is no etcd gRPC client (no
 * Invoke/finish, or no etcdserverpb), -ENOTSUP if a register cannot be
 * proven, -ENOEXEC if not Go; cp_lasterr() says why in one line.
 */
int etcdc_plan__build(const char *path, struct etcdc_plan *plan);
/* "invoke", "finish", "new_stream", "handler" */
const char *etcdc_probe_kind_name(enum etcdc_probe_kind k);

/* Pure parts, for tests: the argument slot of REG proven by a prologue's spills. */
int etcdc__spill_slots(const uint8_t *code, size_t len, uint64_t addr, int *slot_of_reg, int nregs);

struct etcdc_tracer;

struct etcdc_tracer_opts {
	const char *key_prefix;     /* kube-apiserver's --etcd-prefix; NULL: "/registry" */
	int goreq_fd;               /* go_http's goroutine -> request map (attach.h); -1: none */
	struct store *st;
};

struct etcdc_tracer *etcdc_tracer__open(const struct etcdc_tracer_opts *o, int *err);
void etcdc_tracer__close(struct etcdc_tracer *t);

/* Plan EXE (NULL: /proc/PID/exe) and attach to PID; as grpc_tracer__add_target. */
int etcdc_tracer__add_target(struct etcdc_tracer *t, int pid, const char *exe, int64_t run_id,
			     int64_t target_id);
/* Detach PID's probes; its calls and requests still arriving are written. */
void etcdc_tracer__detach(struct etcdc_tracer *t, int pid);

/* Handle what arrived, waiting up to TIMEOUT_MS. Events handled, or a negative errno. */
int etcdc_tracer__poll(struct etcdc_tracer *t, int timeout_ms);

/*
 * The request of TGID keyed by RW that started at START_MONO_NS was
 * stored as REC: write its etcd calls and its breakdown. Drains the ring
 * first (its calls ended before it did). 1 when a breakdown row was
 * written, 0 when TGID is not traced here, or a negative errno.
 */
int etcdc_tracer__request_done(struct etcdc_tracer *t, int tgid, uint64_t rw, uint64_t start_mono_ns,
			       const struct request_rec *rec);

/* Write what is held (calls of requests never stored: no request). */
int etcdc_tracer__flush(struct etcdc_tracer *t);

struct etcdc_tracer_stats {
	uint64_t bpf[ESTAT__MAX];
	uint64_t stored, for_requests, unknown_pid, orphaned;
};
int etcdc_tracer__stats(struct etcdc_tracer *t, struct etcdc_tracer_stats *out);

/*
 * Total time covered by N intervals [start[i], start[i] + len[i]) (their
 * union: overlapping calls count once). Sorts the arrays in place.
 */
int64_t etcdc__union_ns(int64_t *start, int64_t *len, int n);

#endif
