// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * go_grpc: per-call latency and status of Go gRPC servers
 * (google.golang.org/grpc), and the key of etcd's KV calls, from uprobes
 * only.
 *
 * A call is keyed by its *transport.Stream (*transport.ServerStream since
 * grpc 1.69, which embeds Stream first), which both of grpc's server
 * transports hand to the same two places:
 *
 *   (*Server).handleStream(t, stream, ...)       start (RDI: stream)
 *   (*http2Server).WriteStatus(stream, st)       end and status: plaintext / cmux
 *   (*serverHandlerTransport).WriteStatus(...)   end and status: TLS through net/http
 *
 * (writeStatus since grpc 1.69, called by (*ServerStream).WriteStatus
 * through the transport interface, same arguments). grpc's
 * processUnaryRPC and processStreamingRPC end every call that reached a
 * handler (and handleStream every unknown method) with one WriteStatus
 * (grpc server.go, 1.2x-1.8x). The method name is read at the end from the
 * stream, which the call still holds. user/trace/grpc.c proves each register
 * and offset from the binary's code.
 *
 * etcd's v3rpc handlers ((*kvServer).Range/Put/DeleteRange/Txn) run on the
 * stream's goroutine (unary calls are served inline by processUnaryRPC),
 * so their probes store the request key by goroutine (g, R14), and the end
 * probe takes the key of the goroutine that started the call.
 *
 * Probes sit where user/trace/grpc.c found an emulated instruction with the
 * argument registers untouched, as plan.c does for HTTP: the start and end
 * probes carry cookie GRPC_COOKIE_REPEATS when they are on the stack-check
 * jump, which re-runs when the stack grows. Register ABI (Go 1.17+,
 * abi-internal.md): RAX, RBX, RCX, RDI, RSI, ...; g in R14. A method's
 * receiver is its first argument; an interface takes two registers.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "go_abi.bpf.h"
#include "maps.bpf.h"

#include "cpprof/go_grpc.h"
#include "cpprof/cpu_sample.h"
#include "shared_maps.bpf.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, struct go_grpc_cfg);
} targets SEC(".maps");

/* Open calls, watches and keepalive streams included (shared_maps.bpf.h:
 * the CPU sampler reads it too). */
GO_GRPC_INFLIGHT_MAP(inflight);

/* Set by userspace before load when CPU samples are attributed to calls. */
const volatile __u8 track_goroutines = 0;

/* The call's goroutine now works for it, in "goreq" (shared_maps.bpf.h). */
static __always_inline void track_call(__u32 tgid, __u64 g, __u64 stream, __u64 start_ns)
{
	struct goreq_key gk = { .tgid = tgid, .g = g };
	struct goreq_val gv = { .rw = stream, .start_ns = start_ns, .kind = GOREQ_GRPC };

	if (track_goroutines)
		bpf_map_update_elem(&goreq, &gk, &gv, BPF_ANY);
}

/* The request key a v3rpc handler saw, by goroutine, until the call ends. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct go_grpc_gkey);
	__type(value, struct go_grpc_reqkey);
} reqkeys SEC(".maps");

/* Calls just ended, to recognise an end probe hit twice. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct go_grpc_key);
	__type(value, __u64);
} ended SEC(".maps");

/* Scratch space for a reqkey: too big for comfort on the 512-byte stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct go_grpc_reqkey);
} scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, GSTAT__MAX);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);
} events SEC(".maps");

/* Set by userspace before load: ring buffer fill that wakes the collector. */
const volatile __u64 wakeup_bytes = 1 << 20;

/* (*Server).handleStream(t ServerTransport, stream *Stream, ...): RAX s, RBX/RCX t, RDI stream. */
SEC("uprobe")
int BPF_UPROBE(handle_stream)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct go_grpc_key key = { .tgid = tgid, .stream = ctx->di };
	struct go_grpc_gkey gk = { .tgid = tgid, .g = ctx->r14 };
	struct go_grpc_inflight v = {}, *old;

	if (!key.stream || !bpf_map_lookup_elem(&targets, &tgid))
		return 0;
	v.g = ctx->r14;
	v.start_ns = bpf_ktime_get_ns();
	if (bpf_map_update_elem(&inflight, &key, &v, BPF_NOEXIST) == 0) {
		/* a key left by an earlier call of a reused goroutine is not ours */
		bpf_map_delete_elem(&reqkeys, &gk);
		stat_inc(&stats, GSTAT_STARTS);
		track_call(tgid, v.g, key.stream, v.start_ns);
		return 0;
	}
	old = bpf_map_lookup_elem(&inflight, &key);
	if (old) {
		if ((bpf_get_attach_cookie(ctx) & GRPC_COOKIE_REPEATS) && old->g == v.g) {
			stat_inc(&stats, GSTAT_DOUBLE_ENTRY);
			return 0;
		}
		stat_inc(&stats, GSTAT_REPLACED);
	}
	if (bpf_map_update_elem(&inflight, &key, &v, BPF_ANY)) {
		stat_inc(&stats, GSTAT_INFLIGHT_FULL);
		return 0;
	}
	bpf_map_delete_elem(&reqkeys, &gk);
	stat_inc(&stats, GSTAT_STARTS);
	track_call(tgid, v.g, key.stream, v.start_ns);
	return 0;
}

/*
 * etcd's v3rpc (*kvServer).Range/Put/DeleteRange/Txn(ctx, r): RAX the
 * server, RBX/RCX ctx, RDI the request. The cookie says which request.
 * A second hit (stack growth) just stores the same key again.
 */
SEC("uprobe")
int BPF_UPROBE(etcd_request)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32, zero = 0;
	struct go_grpc_gkey gk = { .tgid = tgid, .g = ctx->r14 };
	struct go_grpc_cfg *cfg;
	struct go_grpc_reqkey *rk;
	__u64 req = ctx->di, kind = bpf_get_attach_cookie(ctx), khdr;
	int err = 0;

	cfg = bpf_map_lookup_elem(&targets, &tgid);
	rk = bpf_map_lookup_elem(&scratch, &zero);
	if (!cfg || !rk || !req)
		return 0;
	rk->key_len = 0;
	rk->range_end_len = 0;
	rk->key[0] = 0;
	khdr = req + cfg->req_key;
	if (kind == GRPC_REQ_TXN) {
		struct go_string sl = {};

		/* kube-apiserver's Txns compare the object's key first (etcd3/store.go) */
		if (bpf_probe_read_user(&sl, sizeof(sl), (void *)(req + cfg->txn_compare)))
			err = 1;
		if (!err && sl.len) {
			khdr = go_read_ptr(sl.ptr, &err) + cfg->compare_key;
		} else if (!err) {
			/* else the first Success op: RequestOp.Request is an interface whose
			 * data points at a oneof wrapper holding the *XRequest (Key first) */
			if (bpf_probe_read_user(&sl, sizeof(sl), (void *)(req + cfg->txn_success)) || !sl.len)
				return 0;
			khdr = go_read_ptr(sl.ptr, &err);
			khdr = go_read_ptr(khdr + cfg->op_request + 8, &err);
			khdr = go_read_ptr(khdr, &err) + cfg->req_key;
		}
	}
	if (!err)
		READ_GOSTR(rk->key, GRPC_KEY_MAX - 1, khdr, &rk->key_len, &err);
	if (!err && kind == GRPC_REQ_KEY_RANGE) {
		struct go_string re = {};

		if (bpf_probe_read_user(&re, sizeof(re), (void *)(req + cfg->req_range_end)))
			err = 1;
		rk->range_end_len = re.len > 0xffffffffULL ? 0xffffffffU : (__u32)re.len;
	}
	if (err) {
		stat_inc(&stats, GSTAT_READ_ERR);
		return 0;
	}
	bpf_map_update_elem(&reqkeys, &gk, rk, BPF_ANY);
	stat_inc(&stats, GSTAT_KEYS);
	return 0;
}

/* WriteStatus(s *Stream, st *status.Status): RAX the transport, RBX s, RCX st. */
static __always_inline int end_call(struct pt_regs *ctx, __u32 flags)
{
	struct go_grpc_key key = { .tgid = bpf_get_current_pid_tgid() >> 32, .stream = ctx->bx };
	struct go_grpc_gkey gk = { .tgid = key.tgid };
	struct go_grpc_cfg *cfg;
	struct go_grpc_event *e;
	struct go_grpc_inflight *v;
	struct go_grpc_reqkey *rk;
	__u64 g = ctx->r14, st = ctx->cx, *prev, proto, start_ns, call_g;
	int err = 0;

	cfg = bpf_map_lookup_elem(&targets, &key.tgid);
	if (!cfg)
		return 0;
	v = bpf_map_lookup_elem(&inflight, &key);
	if (!v) {
		/* a second hit of a jcc probe (stack growth), or a second status of
		 * one stream (http2Server.WriteStatus returns early on streamDone) */
		prev = bpf_map_lookup_elem(&ended, &key);
		if (prev)
			stat_inc(&stats, GSTAT_DOUBLE_END);
		else
			stat_inc(&stats, GSTAT_NO_START);
		return 0;
	}
	/*
	 * A stream's status can be written twice, on two goroutines at once
	 * (a streaming call ended by both sides). Claim the call: mark it
	 * ended first, so a second hit that misses it below is recognised,
	 * then delete it; only the hit whose delete succeeds reports it.
	 */
	start_ns = v->start_ns;
	call_g = v->g;
	bpf_map_update_elem(&ended, &key, &g, BPF_ANY);
	if (bpf_map_delete_elem(&inflight, &key)) {
		stat_inc(&stats, GSTAT_DOUBLE_END);
		return 0;
	}
	if (track_goroutines) {
		gk.g = call_g;
		bpf_map_delete_elem(&goreq, &gk);
	}
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		stat_inc(&stats, GSTAT_RB_DROPS);
		gk.g = call_g;
		bpf_map_delete_elem(&reqkeys, &gk);
		return 0;
	}
	e->start_ns = start_ns;
	e->end_ns = bpf_ktime_get_ns();
	e->stream = key.stream;
	e->g = call_g;
	e->tgid = key.tgid;
	e->code = 0;
	e->method_len = 0;
	e->key_len = 0;
	e->range_end_len = 0;
	e->flags = flags;
	e->method[0] = 0;
	e->key[0] = 0;
	/* status.Status{s *spb.Status}; a nil *Status is OK (status.go Code()) */
	if (st) {
		proto = go_read_ptr(st + cfg->status_proto, &err);
		if (proto && !err) {
			__s32 code = 0;

			if (bpf_probe_read_user(&code, sizeof(code), (void *)(proto + cfg->proto_code)))
				err = 1;
			e->code = code;
		}
	}
	READ_GOSTR(e->method, GRPC_METHOD_MAX - 1, key.stream + cfg->stream_method, &e->method_len, &err);
	gk.g = call_g;
	rk = bpf_map_lookup_elem(&reqkeys, &gk);
	if (rk) {
		__u32 n = rk->key_len < GRPC_KEY_MAX - 1 ? rk->key_len : GRPC_KEY_MAX - 1;

		e->key_len = rk->key_len;
		e->range_end_len = rk->range_end_len;
		e->flags |= GO_GRPC_F_HAS_KEY;
		bpf_probe_read_kernel(e->key, n & (GRPC_KEY_MAX - 1), rk->key);
		bpf_map_delete_elem(&reqkeys, &gk);
	}
	if (err) {
		e->flags |= GO_GRPC_F_READ_ERR;
		stat_inc(&stats, GSTAT_READ_ERR);
	}
	bpf_ringbuf_submit(e, rb_wakeup(&events, wakeup_bytes));
	stat_inc(&stats, GSTAT_ENDS);
	return 0;
}

SEC("uprobe")
int BPF_UPROBE(write_status_h2)
{
	return end_call(ctx, 0);
}

SEC("uprobe")
int BPF_UPROBE(write_status_handler)
{
	return end_call(ctx, GO_GRPC_F_HANDLER);
}
