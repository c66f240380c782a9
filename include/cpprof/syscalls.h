/* SPDX-License-Identifier: MIT */
/*
 * syscalls: what bpf/syscalls.bpf.c and user/trace/syslat.c share. Plain structs
 * with fixed-width fields and explicit padding; userspace checks their
 * sizes with _Static_assert.
 */
#ifndef CPPROF_SYSCALLS_H
#define CPPROF_SYSCALLS_H

#ifndef __VMLINUX_H__ /* userspace; BPF gets the types from vmlinux.h */
#include <linux/types.h>
#endif

#include "cpprof/loghist.h"

/*
 * The syscalls timed: the one table. X(index, name, x86-64 number); numbers
 * from arch/x86/entry/syscalls/syscall_64.tbl. Indexes are dense, stored
 * in map keys, and only meaningful within one cpprof build (the database
 * holds names). What they are for:
 *   fdatasync, fsync, sync_file_range: etcd's WAL and bbolt commits
 *     (etcd pkg/fileutil: Fdatasync on Linux)
 *   read, write, pread64, pwrite64, readv, writev: file and socket I/O
 *     (Go's net and os packages use read/write on both)
 *   sendmsg, recvmsg, sendto, recvfrom: sockets
 *   epoll_wait, epoll_pwait, epoll_pwait2: Go's netpoller (runtime/netpoll_epoll.go)
 *   futex: Go's lock-free-until-it-parks runtime (runtime/lock_futex.go)
 *   nanosleep, accept4, connect, openat: less hot, still telling
 */
#define SYSLAT_SYSCALLS(X) \
	X(0,  read,            0)   \
	X(1,  write,           1)   \
	X(2,  pread64,         17)  \
	X(3,  pwrite64,        18)  \
	X(4,  readv,           19)  \
	X(5,  writev,          20)  \
	X(6,  fsync,           74)  \
	X(7,  fdatasync,       75)  \
	X(8,  sync_file_range, 277) \
	X(9,  sendto,          44)  \
	X(10, recvfrom,        45)  \
	X(11, sendmsg,         46)  \
	X(12, recvmsg,         47)  \
	X(13, epoll_wait,      232) \
	X(14, epoll_pwait,     281) \
	X(15, epoll_pwait2,    441) \
	X(16, futex,           202) \
	X(17, nanosleep,       35)  \
	X(18, accept4,         288) \
	X(19, connect,         42)  \
	X(20, openat,          257)

#define SYSLAT_NSYSCALLS 21

/* SYSLAT_IDX_fdatasync, ...: the indexes by name, for per-syscall programs. */
enum {
#define SYSLAT_ENUM(idx, name, num) SYSLAT_IDX_##name = idx,
	SYSLAT_SYSCALLS(SYSLAT_ENUM)
#undef SYSLAT_ENUM
};

/* Index of syscall number NR in SYSLAT_SYSCALLS, or -1 if it is not timed. */
static inline int syslat_index(long nr)
{
	switch (nr) {
#define SYSLAT_CASE(idx, name, num) case num: return idx;
	SYSLAT_SYSCALLS(SYSLAT_CASE)
#undef SYSLAT_CASE
	default:
		return -1;
	}
}

/* Key of "starts": one thread in a timed syscall. */
struct syslat_start {
	__u64 start_ns;         /* bpf_ktime_get_ns() at sys_enter */
	__u32 sc;               /* index in SYSLAT_SYSCALLS */
	__u32 pad;
};

/*
 * Key of "hists". gen is the generation of the interval the value belongs
 * to: BPF adds into generation "gen" (a .bss variable), userspace flips it
 * and then reads and deletes the other one.
 */
struct syslat_key {
	__u32 tgid;
	__u16 sc;
	__u16 gen;
};

/* Value of "hists" (per CPU): count and summed latency per bucket. */
struct syslat_hist {
	__u64 count[LOGHIST_NBUCKETS];
	__u64 sum_ns[LOGHIST_NBUCKETS];
};

/* Per-CPU counters in the "stats" map; every drop has one. */
enum syslat_stat {
	SYSLAT_STAT_CALLS = 0,   /* syscalls timed */
	SYSLAT_STAT_STARTS_FULL, /* starts map full: syscall not timed */
	SYSLAT_STAT_HISTS_FULL,  /* hists map full: syscall timed but not counted */
	SYSLAT_STAT__MAX,
};

#endif
