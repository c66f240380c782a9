/* SPDX-License-Identifier: MIT */
/*
 * grpc: per-call latency and status of Go gRPC servers
 * (google.golang.org/grpc), tagged with the full method name, and for etcd
 * with the verb, resource and namespace of the request key (etcd_key).
 *
 * grpc_plan finds the probe sites in one binary and proves each address
 * safe exactly as plan.c does for HTTP (retsites: the instruction after
 * the prologue's stack-check jump if the kernel emulates it, else the
 * jump, else the entry; always an instruction boundary). Struct offsets
 * and the registers the probes read come from the binary's own code,
 * decoded with Capstone: the accessors ((*ServerStream).Method or
 * (*Stream).Method, (*status.Status).Code, the generated etcdserverpb
 * getters) give the offsets, and a data-flow scan of the probed functions
 * from their argument registers proves that handleStream reads the method
 * through RDI, the status writer reads the code through RCX, and etcd's
 * handlers read the request through RDI, at the same offsets. Stripped
 * binaries without module versions (Debian's etcd, built in GOPATH mode)
 * work too; grpc-go from 1.2x (etcd 3.4) to 1.8x (etcd 3.5.30) is covered,
 * including 1.69's ServerStream and unexported writeStatus.
 *
 * grpc_tracer loads bpf/go_grpc.bpf.c and attaches plans to processes.
 */
#ifndef CPPROF_GRPC_H
#define CPPROF_GRPC_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "plan.h"
#include "store.h"

enum grpc_probe_kind {
	GRPC_PROBE_START = 0,       /* (*Server).handleStream */
	GRPC_PROBE_END_H2,          /* (*http2Server).WriteStatus, writeStatus since grpc 1.69 */
	GRPC_PROBE_END_HANDLER,     /* (*serverHandlerTransport).WriteStatus / writeStatus */
	GRPC_PROBE_ETCD_REQUEST,    /* etcd v3rpc (*kvServer).Range/Put/DeleteRange/Txn */
	GRPC_PROBE__KINDS,
};

#define GRPC_PLAN_MAX_SITES 24

struct grpc_site {
	enum grpc_probe_kind kind;
	int req_kind;               /* enum go_grpc_req_kind, for GRPC_PROBE_ETCD_REQUEST */
	struct probe_site site;     /* site.kind is unused (PROBE__KINDS) */
};

struct grpc_offsets {
	int32_t stream_method;      /* transport.Stream.method (from a *ServerStream since grpc 1.69) */
	int32_t status_proto;       /* status.Status.s */
	int32_t proto_code;         /* spb.Status.Code */
	int32_t req_key, req_range_end, txn_compare, txn_success, compare_key, op_request;
	bool etcd;                  /* etcd request offsets valid */
	/* how each was proven, from which functions' code */
	char src_stream[384];       /* stream_method, and the stream in handleStream's RDI */
	char src_status[384];       /* status_proto, proto_code, and the status writers' registers */
	char src_etcd[384];         /* the etcd request layout and registers, or why keys are off */
};

struct grpc_plan {
	char path[512];
	char go_version[32];
	char grpc_version[96];      /* module version, or "unknown (no module info; ...)" with what the code shows */
	char component[16];
	struct grpc_offsets off;
	int nsites;
	struct grpc_site sites[GRPC_PLAN_MAX_SITES];
};

/*
 * Plan PATH. 0; -ENOENT if the binary has no gRPC server (no
 * handleStream or no WriteStatus), -ENOTSUP if a layout cannot be
 * derived, -ENOEXEC if not Go; cp_lasterr() says why in one line.
 */
int grpc_plan__build(const char *path, struct grpc_plan *plan);
/* "start", "end_h2", "end_handler", "etcd_request" */
const char *grpc_probe_kind_name(enum grpc_probe_kind k);
/* Print the plan the way `cpprof inspect` prints HTTP sites; returns grpc_plan__build's result. */
int grpc_plan__print(const char *path, FILE *f);

struct grpc_tracer;

struct grpc_tracer_opts {
	const char *key_prefix;     /* kube-apiserver's --etcd-prefix; NULL: "/registry" */
	bool store_names;           /* keep object names from keys (off: privacy) */
	int goreq_fd;               /* go_http's goroutine -> request map to share (attach.h); 0 or -1: none */
};

/* Load the BPF programs. -EPERM with a clear message when not root. */
struct grpc_tracer *grpc_tracer__open(const struct grpc_tracer_opts *o, int *err);
void grpc_tracer__close(struct grpc_tracer *t);
/* fd of the calls-in-flight map, for the CPU sampler. */
int grpc_tracer__inflight_fd(const struct grpc_tracer *t);

/*
 * Plan EXE (NULL: /proc/PID/exe) and attach to PID. Records get RUN_ID,
 * TARGET_ID and COMPONENT ("etcd"). -ENOENT/-ENOTSUP as grpc_plan__build
 * (the HTTP and syscall tracing of that target are not affected); on any
 * failure nothing of PID stays attached.
 */
int grpc_tracer__add_target(struct grpc_tracer *t, int pid, const char *exe, int64_t run_id,
			    int64_t target_id, const char *component);
/* Detach PID (it exited) and forget its open calls. */
void grpc_tracer__detach(struct grpc_tracer *t, int pid);
/* The same for a PID that has exited: its links are destroyed in the background (bpfutil.h). */
void grpc_tracer__forget(struct grpc_tracer *t, int pid);

/* What the callback gets besides the request row. */
struct grpc_call {
	int pid;
	const char *method;         /* "/etcdserverpb.KV/Range" */
	const char *key_group;      /* API group from the key ("" for core) */
	bool is_list;               /* a prefix read */
	bool tls_handler;           /* served through net/http (ServeHTTP), not grpc's own HTTP/2 */
	bool has_key;
	int code;                   /* gRPC status code */
	uint64_t stream;            /* the call's key in BPF, and its start (bpf_ktime_get_ns): */
	uint64_t start_mono_ns;     /* what CPU samples are tagged with (cpuprof.h) */
};

/*
 * Called for each finished call: R is filled for store__add_request
 * (protocol "gRPC", method = full gRPC method, verb/resource/namespace/
 * scope from etcd_key, status = gRPC code). Strings live until return. A
 * non-zero return stops the poll and is returned by it.
 */
typedef int (*grpc_call_fn)(void *ctx, const struct request_rec *r, const struct grpc_call *c);

/* Wait up to TIMEOUT_MS, hand every finished call to FN. Calls handled, or a negative errno. */
int grpc_tracer__poll(struct grpc_tracer *t, int timeout_ms, grpc_call_fn fn, void *ctx);

struct grpc_tracer_stats {
	uint64_t starts, ends, lost, no_start, double_entry, double_end, replaced, read_err,
		 inflight_full, keys;
	uint64_t unknown_pid;       /* events of no attached target */
	uint64_t swept;             /* open calls removed without an end */
};
int grpc_tracer__stats(struct grpc_tracer *t, struct grpc_tracer_stats *out);

/* Remove open calls older than OLDER_THAN_NS (streams that never ended). Returns how many. */
int grpc_tracer__sweep(struct grpc_tracer *t, uint64_t older_than_ns);

#endif
