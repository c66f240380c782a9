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

#include "plan.h"

/* libbpf print callback for libbpf_set_print(): libbpf's info output at
 * -v, its debug output only at -vv. */
int bpfutil__libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap);

/* 0 when running as root, else -EPERM with the reason set (cp_seterr). */
int bpfutil__require_root(void);

/* A skeleton's load failed with ERR: say why in one line, naming WHAT; returns ERR. */
int bpfutil__load_failed(const char *what, int err);

/* The number of possible CPUs (libbpf_num_possible_cpus), or a negative
 * errno with the reason set. */
int bpfutil__possible_cpus(void);

/* Sum keys 0..NKEYS-1 of the per-CPU array FD of __u64 over NCPUS CPUs
 * into OUT, using BUF (NCPUS values) as scratch. A key whose lookup fails
 * sums to 0. */
void bpfutil__percpu_sum_buf(int fd, uint32_t nkeys, int ncpus, uint64_t *buf, uint64_t *out);

/* The same over the possible CPUs, with a scratch buffer of its own.
 * Returns 0 or a negative errno (OUT untouched then). */
int bpfutil__percpu_sum(int fd, uint32_t nkeys, uint64_t *out);

/* An attached uprobe and the process it watches. */
struct bpfutil_link {
	int pid;
	struct bpf_link *link;
};

/*
 * Attach PROG to PID at the probe site S of the executable EXE (a
 * /proc/PID/exe path: the inode the process really runs) with attach
 * cookie COOKIE. The link, or NULL with *ERR a negative errno and the
 * reason set.
 */
struct bpf_link *bpfutil__attach_site(const struct bpf_program *prog, int pid, const char *exe,
				      const struct probe_site *s, uint64_t cookie, int *err);

/*
 * What a tracer does between its skeleton's open and its first poll
 * (etcdc, grpc): before load, make the map M use FD, another object's map
 * of the same shape ("cannot share WHAT: ..."); after load, a ring buffer
 * over EVENTS calling FN(CTX, ...) ("cannot open WHAT: ..."). 0 / the ring,
 * or a negative errno / NULL with *ERR, the reason set.
 */
int bpfutil__share_map(struct bpf_map *m, int fd, const char *what);
struct ring_buffer *bpfutil__ring_open(struct bpf_map *events, ring_buffer_sample_fn fn, void *ctx,
				       const char *what, int *err);

/* Destroy LINKS[FROM..*N-1], newest first, and set *N to FROM. */
void bpfutil__links_truncate(struct bpfutil_link *links, int *n, int from);

/* Destroy the N LINKS of PID, keeping the others in order; the number left. */
int bpfutil__links_drop_pid(struct bpfutil_link *links, int n, int pid);
/*
 * The same for a PID that has exited: its links are destroyed by a
 * background thread, since each destroy waits for the kernel's uprobe
 * unregistration (up to a second under load) and its probes can no longer
 * fire.
 */
int bpfutil__links_drop_pid_later(struct bpfutil_link *links, int n, int pid);
void bpfutil__link_destroy_later(struct bpf_link *link);
/* Wait until every link given to the background thread is destroyed. */
void bpfutil__links_settle(void);

#endif
