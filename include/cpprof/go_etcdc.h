/* SPDX-License-Identifier: MIT */
/*
 * go_etcdc: what bpf/go_etcdc.bpf.c and user/trace/etcdc.c share: the
 * apiserver's etcd calls seen from its gRPC client. Plain structs with
 * fixed-width fields and explicit padding; userspace checks their sizes
 * with _Static_assert.
 */
#ifndef CPPROF_GO_ETCDC_H
#define CPPROF_GO_ETCDC_H

#ifndef __VMLINUX_H__ /* userspace; BPF gets the types from vmlinux.h */
#include <linux/types.h>
#endif

#define ETCDC_METHOD_MAX 64   /* powers of two: the BPF side masks lengths with them */
#define ETCDC_KEY_MAX    128

/* Which probe a BPF program serves (also the plan's site kinds). */
enum etcdc_probe_kind {
	ETCDC_PROBE_INVOKE = 0,   /* grpc (*ClientConn).Invoke: a unary call starts */
	ETCDC_PROBE_FINISH,       /* grpc (*clientStream).finish: it ends, on the same goroutine */
	ETCDC_PROBE_STREAM,       /* grpc (*ClientConn).NewStream: a stream (watch) opens */
	ETCDC_PROBE_HANDLER,      /* k8s.io/apiserver director.ServeHTTP: the request's handler starts */
	ETCDC_PROBE__KINDS,
};

/* Cookie bit: the probe sits on the stack-check jump and may fire twice per call. */
#define ETCDC_COOKIE_REPEATS 1

enum etcdc_flags {
	ETCDC_F_READ_ERR = 1 << 0, /* a field could not be read */
	ETCDC_F_HAS_KEY  = 1 << 1, /* the request key was captured */
	ETCDC_F_ERR      = 1 << 2, /* finish got a non-nil error */
	ETCDC_F_STREAM   = 1 << 3, /* a stream opened (NewStream): no end, no latency */
	ETCDC_F_REQ      = 1 << 4, /* req_rw/req_start_ns name the request of the goroutine */
	ETCDC_F_HANDLER  = 1 << 5, /* not a call: the request's handler started at start_ns */
};

/* Key of "calls": a goroutine (its g) in one process: unary calls are synchronous. */
struct etcdc_key {
	__u32 tgid;
	__u32 pad;
	__u64 g;
};

/* Per target process, keyed by tgid: offsets proven by user/trace/etcdc.c (-1: unknown). */
struct etcdc_cfg {
	__s32 req_key;            /* Range/Put/DeleteRangeRequest.Key ([]byte) */
	__s32 req_range_end;      /* Range/DeleteRangeRequest.RangeEnd ([]byte) */
	__s32 txn_compare;        /* TxnRequest.Compare ([]*Compare) */
	__s32 compare_key;        /* Compare.Key ([]byte) */
};

/* A call: in flight in "calls", then the event that reports it. */
struct etcdc_event {
	__u64 start_ns;           /* bpf_ktime_get_ns() at Invoke / NewStream */
	__u64 end_ns;             /* at finish; 0 for a stream */
	__u64 g;
	__u64 args;               /* the request message (Invoke's args), to recognise a repeated entry */
	__u64 req_rw;             /* the HTTP request the goroutine works for (goreq), when ETCDC_F_REQ */
	__u64 req_start_ns;       /* its start, bpf_ktime_get_ns() */
	__u32 tgid;
	__u32 flags;              /* enum etcdc_flags */
	__u32 method_len;
	__u32 key_len;
	__u32 range_end_len;
	__u32 pad;
	char  method[ETCDC_METHOD_MAX];
	char  key[ETCDC_KEY_MAX];
};

/* Per-CPU counters in the "stats" map; every drop has one. */
enum etcdc_stat {
	ESTAT_STARTS = 0,         /* Invoke entries recorded */
	ESTAT_ENDS,               /* unary call events submitted */
	ESTAT_STREAMS,            /* NewStream events submitted */
	ESTAT_RB_DROPS,           /* ring buffer full: call lost */
	ESTAT_REPLACED,           /* a call of the goroutine never ended and was overwritten */
	ESTAT_DOUBLE_ENTRY,       /* Invoke entry re-run after stack growth */
	ESTAT_READ_ERR,           /* fields unreadable */
	ESTAT_FULL,               /* calls map full: call not tracked */
	ESTAT_KEYS,               /* request keys captured */
	ESTAT_REQ,                /* calls made for a traced request */
	ESTAT_HANDLERS,           /* handler starts of a traced request submitted */
	ESTAT__MAX,
};

#endif
