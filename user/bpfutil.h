/* SPDX-License-Identifier: MIT */
/*
 * bpfutil: small libbpf chores that every BPF-loading module (attach,
 * grpc, sockview, syslat) does the same way: the libbpf print callback,
 * the root check before loading, and summing per-CPU counter arrays.
 */
#ifndef CPPROF_BPFUTIL_H
#define CPPROF_BPFUTIL_H

#include <stdarg.h>
#include <stdint.h>

#include <bpf/libbpf.h>

/* libbpf print callback for libbpf_set_print(): libbpf's info output at
 * -v, its debug output only at -vv. */
int bpfutil__libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap);

/* 0 when running as root, else -EPERM with the reason set (cp_seterr). */
int bpfutil__require_root(void);

/* Sum keys 0..NKEYS-1 of the per-CPU array FD of __u64 over NCPUS CPUs
 * into OUT, using BUF (NCPUS values) as scratch. A key whose lookup fails
 * sums to 0. */
void bpfutil__percpu_sum_buf(int fd, uint32_t nkeys, int ncpus, uint64_t *buf, uint64_t *out);

/* The same over the possible CPUs, with a scratch buffer of its own.
 * Returns 0 or a negative errno (OUT untouched then). */
int bpfutil__percpu_sum(int fd, uint32_t nkeys, uint64_t *out);

#endif
