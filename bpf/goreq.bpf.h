/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * goreq: the goroutine -> request map that go_http, go_grpc and
 * cpu_sample share (userspace loads it once, in go_http's object, and
 * hands its fd to the others with bpf_map__reuse_fd, so the definitions
 * must match: they are this one). See include/cpprof/cpu_sample.h.
 */
#ifndef CPPROF_GOREQ_BPF_H
#define CPPROF_GOREQ_BPF_H

#include "cpprof/cpu_sample.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 131072);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct goreq_key);
	__type(value, struct goreq_val);
} goreq SEC(".maps");

#endif /* CPPROF_GOREQ_BPF_H */
