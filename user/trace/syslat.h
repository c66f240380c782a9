/* SPDX-License-Identifier: MIT */
/*
 * syslat: latency histograms of chosen syscalls (the table in
 * include/cpprof/syscalls.h) of the target processes, from
 * bpf/syscalls.bpf.c, written per target, syscall and interval into the
 * syscalls table (one row per non-empty bucket; see SCHEMA.md).
 *
 * Use from the record loop:
 *   sl = syslat__open(SYSLAT_FSYNC, &err);         before or after the store's run begins
 *   syslat__add_target(sl, pid, target_id, "etcd"); per traced process
 *   syslat__flush(sl, st, run_id, now_realtime);    every interval, and once at the end
 *   syslat__close(sl);
 */
#ifndef CPPROF_SYSLAT_H
#define CPPROF_SYSLAT_H

#include <stdint.h>

#include "cpprof/syscalls.h"

struct syslat;
struct store;

/* Interval the record loop should flush at, unless told otherwise. */
#define SYSLAT_INTERVAL_NS (10 * 1000000000LL)

/*
 * Which syscalls are timed, and so who pays for it:
 *   SYSLAT_FSYNC  fsync, fdatasync, sync_file_range through their own
 *                 tracepoints (syscalls:sys_enter_fdatasync, ...): only
 *                 processes that sync pay, ~0.2 us a call (tracefs needed)
 *   SYSLAT_ALL    the whole table through raw sys_enter/sys_exit: every
 *                 syscall of every process on the machine pays (see
 *                 'make bench': bystander ratio)
 */
enum syslat_mode { SYSLAT_FSYNC, SYSLAT_ALL };

/* "fsync" or "all" to a mode: 0, or -EINVAL for anything else. */
int syslat__parse_mode(const char *s, enum syslat_mode *mode);
const char *syslat__mode_name(enum syslat_mode mode);

/* Load and attach MODE's tracepoints. NULL with *err and cp_lasterr() set. */
struct syslat *syslat__open(enum syslat_mode mode, int *err);
void syslat__close(struct syslat *sl);

/* Start timing PID's syscalls; its rows carry TARGET_ID and COMPONENT (copied). */
int syslat__add_target(struct syslat *sl, int pid, int64_t target_id, const char *component);
/* PID exited: stop timing it; its last interval is stored by the next flush, which frees its slot. */
void syslat__remove_target(struct syslat *sl, int pid);

/*
 * Close the current interval at NOW_NS (CLOCK_REALTIME): switch BPF to the
 * other generation, read and delete this one, and write a row per
 * non-empty bucket into ST (buffered; the caller's store__flush commits).
 * Returns rows written or negative errno. Also drops thread starts left by
 * threads that died inside a syscall.
 */
int syslat__flush(struct syslat *sl, struct store *st, int64_t run_id, int64_t now_ns);

/* Sum of the BPF per-CPU counters (enum syslat_stat). */
void syslat__stats(struct syslat *sl, uint64_t out[SYSLAT_STAT__MAX]);

/* Name of syscall index I of SYSLAT_SYSCALLS, NULL if out of range. */
const char *syslat__name(int i);

#endif
