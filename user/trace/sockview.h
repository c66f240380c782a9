/* SPDX-License-Identifier: MIT */
/*
 * sockview: the TCP connections each target serves, per interval, from
 * bpf/sock.bpf.c: connections accepted and closed, distinct client
 * addresses, bytes in and out, retransmits; one sock_stats row per target
 * and interval (see SCHEMA.md for what exactly each column counts).
 *
 * Use from the record loop, like syslat:
 *   sv = sockview__open(&err);
 *   sockview__add_target(sv, pid, target_id, "etcd");
 *   sockview__flush(sv, st, run_id, now_realtime);   every interval, and once at the end
 *   sockview__close(sv);
 */
#ifndef CPPROF_SOCKVIEW_H
#define CPPROF_SOCKVIEW_H

#include <stdint.h>

#include "cpprof/sock.h"

struct sockview;
struct store;

/* Load and attach the raw tracepoints. NULL with *err and cp_lasterr() set. */
struct sockview *sockview__open(int *err);
void sockview__close(struct sockview *sv);

/* Follow PID's listening TCP ports; rows carry TARGET_ID and COMPONENT (copied). */
int sockview__add_target(struct sockview *sv, int pid, int64_t target_id, const char *component);
/* PID exited: stop counting for it; its last interval is stored by the next flush, which frees its slot. */
void sockview__remove_target(struct sockview *sv, int pid);
/* Between flushes: find the listening ports of targets that had none yet (a server still starting). */
void sockview__poll(struct sockview *sv);

/*
 * Close the current interval at NOW_NS (CLOCK_REALTIME) and write one
 * sock_stats row per target (also when all is zero, so intervals are
 * contiguous). Re-reads the targets' listening ports for the next
 * interval. Returns rows written or negative errno.
 */
int sockview__flush(struct sockview *sv, struct store *st, int64_t run_id, int64_t now_ns);

/* Sum of the BPF per-CPU counters (enum sock_stat). */
void sockview__stats(struct sockview *sv, uint64_t out[SOCK_STAT__MAX]);

/*
 * The TCP ports PID listens on (IPv4 and IPv6, deduplicated) and its
 * network namespace inode. Returns the number of ports (at most MAX) or
 * negative errno. Exposed for tests.
 */
int sockview__listen_ports(int pid, uint16_t *ports, int max, uint32_t *netns);

#endif
