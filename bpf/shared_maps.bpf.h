/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * shared_maps: the maps that more than one BPF object holds. Userspace
 * creates each once and hands its fd to the other objects with
 * bpf_map__reuse_fd, which needs the definitions to match, so they are
 * written once, here:
 *
 *   goreq                     goroutine -> the request it works for
 *                             (go_http, go_grpc, cpu_sample; include/cpprof/cpu_sample.h)
 *   GO_HTTP_INFLIGHT_MAP(n)   go_http's requests in flight (go_http, cpu_sample)
 *   GO_GRPC_INFLIGHT_MAP(n)   go_grpc's calls in flight (go_grpc, cpu_sample)
 *
 * The in-flight maps are plain hashes: LRU maps cost a global list update
 * on every access. A start whose end never comes (hijacked connection,
 * panicking handler) is swept by userspace (attach__sweep,
 * grpc_tracer__sweep).
 */
#ifndef CPPROF_SHARED_MAPS_BPF_H
#define CPPROF_SHARED_MAPS_BPF_H

#include "cpprof/cpu_sample.h"
#include "cpprof/go_grpc.h"
#include "cpprof/go_http.h"

#define GO_HTTP_INFLIGHT_MAP(name)                                        \
	struct {                                                          \
		__uint(type, BPF_MAP_TYPE_HASH);                          \
		__uint(max_entries, 65536);                               \
		__type(key, struct go_http_key);                          \
		__type(value, struct go_http_inflight);                   \
	} name SEC(".maps")

#define GO_GRPC_INFLIGHT_MAP(name)                                        \
	struct {                                                          \
		__uint(type, BPF_MAP_TYPE_HASH);                          \
		__uint(max_entries, 65536);                               \
		__type(key, struct go_grpc_key);                          \
		__type(value, struct go_grpc_inflight);                   \
	} name SEC(".maps")

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 131072);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct goreq_key);
	__type(value, struct goreq_val);
} goreq SEC(".maps");

#endif /* CPPROF_SHARED_MAPS_BPF_H */
