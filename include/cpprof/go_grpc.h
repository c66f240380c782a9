/* SPDX-License-Identifier: MIT */
/*
 * go_grpc: what bpf/go_grpc.bpf.c and user/trace/grpc.c share. Plain structs
 * with fixed-width fields and explicit padding; userspace checks their
 * sizes with _Static_assert.
 */
#ifndef CPPROF_GO_GRPC_H
#define CPPROF_GO_GRPC_H

#ifndef __VMLINUX_H__ /* userspace; BPF gets the types from vmlinux.h */
#include <linux/types.h>
#endif

#define GRPC_METHOD_MAX 128  /* powers of two: the BPF side masks lengths with them */
#define GRPC_KEY_MAX    128

/* Attach cookies of the etcd request probes: where the key is. */
enum go_grpc_req_kind {
	GRPC_REQ_KEY = 0,        /* PutRequest: Key only */
	GRPC_REQ_KEY_RANGE = 1,  /* RangeRequest, DeleteRangeRequest: Key and RangeEnd */
	GRPC_REQ_TXN = 2,        /* TxnRequest: first Compare's key, else first Success op's key */
};

/* Cookie bit of the start and end probes: the probe may fire twice per call. */
#define GRPC_COOKIE_REPEATS 1

enum go_grpc_flags {
	GO_GRPC_F_READ_ERR = 1 << 0,  /* a field could not be read */
	GO_GRPC_F_HAS_KEY  = 1 << 1,  /* an etcd request key was captured */
	GO_GRPC_F_HANDLER  = 1 << 2,  /* ended by serverHandlerTransport (ServeHTTP), else http2Server */
};

/* Key of "inflight": the call's *transport.Stream (*ServerStream since grpc 1.69) in one process. */
struct go_grpc_key {
	__u32 tgid;
	__u32 pad;
	__u64 stream;
};

struct go_grpc_inflight {
	__u64 start_ns;
	__u64 g;
};

/* Key of "reqkeys": a goroutine (its g) in one process. */
struct go_grpc_gkey {
	__u32 tgid;
	__u32 pad;
	__u64 g;
};

/* The etcd request key seen by a v3rpc handler on goroutine G. */
struct go_grpc_reqkey {
	__u32 key_len;        /* full length as the target had it */
	__u32 range_end_len;
	char  key[GRPC_KEY_MAX];
};

/* Per target process, keyed by tgid: offsets found by user/trace/grpc.c. */
struct go_grpc_cfg {
	__s32 stream_method;    /* transport.Stream.method (string), from the stream pointer */
	__s32 status_proto;     /* status.Status.s (*spb.Status) */
	__s32 proto_code;       /* spb.Status.Code (int32) */
	__s32 req_key;          /* RangeRequest/PutRequest/DeleteRangeRequest.Key ([]byte) */
	__s32 req_range_end;    /* RangeRequest/DeleteRangeRequest.RangeEnd ([]byte) */
	__s32 txn_compare;      /* TxnRequest.Compare ([]*Compare) */
	__s32 txn_success;      /* TxnRequest.Success ([]*RequestOp) */
	__s32 compare_key;      /* Compare.Key ([]byte) */
	__s32 op_request;       /* RequestOp.Request (interface; data -> oneof wrapper -> *XRequest) */
	__u32 component;        /* carried into events */
};

struct go_grpc_event {
	__u64 start_ns;         /* bpf_ktime_get_ns() at (*Server).handleStream */
	__u64 end_ns;           /* at WriteStatus */
	__u64 stream;
	__u64 g;                /* goroutine that ran handleStream */
	__u32 tgid;
	__u32 code;             /* gRPC status code */
	__u32 method_len;
	__u32 key_len;
	__u32 range_end_len;
	__u32 flags;            /* enum go_grpc_flags */
	char  method[GRPC_METHOD_MAX];
	char  key[GRPC_KEY_MAX];
};

/* Per-CPU counters in the "stats" map; every drop has one. */
enum go_grpc_stat {
	GSTAT_STARTS = 0,       /* handleStream entries recorded */
	GSTAT_ENDS,             /* events submitted */
	GSTAT_RB_DROPS,         /* ring buffer full: call lost */
	GSTAT_NO_START,         /* WriteStatus with no recorded start */
	GSTAT_DOUBLE_ENTRY,     /* handleStream entry re-run after stack growth */
	GSTAT_DOUBLE_END,       /* WriteStatus re-run after stack growth (or written twice) */
	GSTAT_REPLACED,         /* a start left without end was overwritten */
	GSTAT_READ_ERR,         /* fields unreadable */
	GSTAT_INFLIGHT_FULL,    /* inflight map full: call not tracked */
	GSTAT_KEYS,             /* etcd request keys captured */
	GSTAT__MAX,
};

#endif
