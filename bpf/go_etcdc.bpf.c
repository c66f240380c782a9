// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * go_etcdc: the apiserver's etcd calls as its gRPC client sees them
 * (google.golang.org/grpc, which go.etcd.io/etcd/client/v3 calls through),
 * from uprobes only, each tied to the request whose goroutine made it.
 *
 * etcd's generated clients call every unary method as
 * cc.Invoke(ctx, "/etcdserverpb.KV/Range", in, out, opts...), and grpc
 * runs the whole call, interceptors (etcd's retry) included, on the
 * caller's goroutine, ending it in (*clientStream).finish, which
 * RecvMsg calls for a unary call (grpc stream.go, 1.2x-1.8x; also on a
 * failed newClientStream). So:
 *
 *   (*ClientConn).Invoke(cc, ctx, method, args, reply, ...)   start: method, key
 *   (*clientStream).finish(cs, err)                           end, same goroutine
 *   (*ClientConn).NewStream(cc, ctx, desc, method, ...)       a stream (Watch) opens
 *
 * A call is keyed by its goroutine (R14): Invoke is synchronous. finish
 * also ends streams, on their own goroutines, which have no call here and
 * are ignored. No RET probes: finish's entry is the end.
 *
 * Register ABI (Go 1.17+, abi-internal.md): Invoke's receiver RAX, ctx
 * RBX/RCX, method RDI/RSI, args (interface) R8/R9, reply R10/R11;
 * NewStream's receiver RAX, ctx RBX/RCX, desc RDI, method RSI/R8;
 * finish's receiver RAX, err RBX/RCX (grpc's signatures are unchanged
 * since grpc-go 1.0). user/trace/etcdc.c proves the message offsets from
 * etcdserverpb's getters and the registers from the code that spills them.
 *
 * The key is read at the start from the request message, by method:
 * Range, Put and DeleteRange carry Key (and RangeEnd), Txn the first
 * Compare's Key (kube-apiserver's etcd3 store compares the object's key
 * first: create, update, delete).
 *
 * One more probe, not of grpc: the start of the request's handler
 * (handler_start, below), which ends the wait before it.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "go_abi.bpf.h"
#include "maps.bpf.h"

#include "cpprof/go_etcdc.h"
#include "cpprof/cpu_sample.h"
#include "shared_maps.bpf.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, struct etcdc_cfg);
} targets SEC(".maps");

/* Unary calls in flight, by goroutine. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct etcdc_key);
	__type(value, struct etcdc_event);
} calls SEC(".maps");

/* Scratch space for a call: too big for the 512-byte stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct etcdc_event);
} scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, ESTAT__MAX);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20);
} events SEC(".maps");

/* Set by userspace before load: ring buffer fill that wakes the collector. */
const volatile __u64 wakeup_bytes = 1 << 20;

/* The request the current goroutine works for (goreq: go_http and the lineage probes). */
static __always_inline void tie_request(struct etcdc_event *e, __u32 tgid, __u64 g)
{
	struct goreq_key gk = { .tgid = tgid, .g = g };
	struct goreq_val *gv = bpf_map_lookup_elem(&goreq, &gk);

	if (gv && gv->kind == GOREQ_HTTP) {
		e->req_rw = gv->rw;
		e->req_start_ns = gv->start_ns;
		e->flags |= ETCDC_F_REQ;
		stat_inc(&stats, ESTAT_REQ);
	}
}

static __always_inline struct etcdc_event *start(__u32 tgid, __u64 g, __u64 mptr, __u64 mlen)
{
	__u32 zero = 0, n;
	struct etcdc_event *e = bpf_map_lookup_elem(&scratch, &zero);

	if (!e)
		return NULL;
	__builtin_memset(e, 0, sizeof(*e));
	e->start_ns = bpf_ktime_get_ns();
	e->g = g;
	e->tgid = tgid;
	e->method_len = mlen > 0xffffffffULL ? 0xffffffffU : (__u32)mlen;
	n = mlen < ETCDC_METHOD_MAX - 1 ? mlen : ETCDC_METHOD_MAX - 1;
	n &= ETCDC_METHOD_MAX - 1;
	if (n && bpf_probe_read_user(e->method, n, (void *)mptr))
		e->flags |= ETCDC_F_READ_ERR;
	tie_request(e, tgid, g);
	return e;
}

/* "/etcdserverpb.KV/" followed by the method's first letter, or 0. */
static __always_inline char kv_method(const struct etcdc_event *e)
{
	static const char kv[] = "/etcdserverpb.KV/";
	int i;

	if (e->method_len < sizeof(kv))
		return 0;
	for (i = 0; i < (int)sizeof(kv) - 1; i++)
		if (e->method[i] != kv[i])
			return 0;
	return e->method[sizeof(kv) - 1];
}

static __always_inline void read_key(struct etcdc_event *e, const struct etcdc_cfg *cfg, __u64 msg)
{
	char m = kv_method(e);
	__u64 khdr = msg + cfg->req_key;
	int err = 0;

	if (!msg || !m || cfg->req_key < 0)
		return;
	if (m == 'T') {
		struct go_string sl = {};

		if (cfg->txn_compare < 0 || cfg->compare_key < 0)
			return;
		if (bpf_probe_read_user(&sl, sizeof(sl), (void *)(msg + cfg->txn_compare)))
			err = 1;
		if (!err && !sl.len)
			return; /* no compare: no key */
		if (!err)
			khdr = go_read_ptr(sl.ptr, &err) + cfg->compare_key;
	} else if (m != 'R' && m != 'P' && m != 'D') {
		return; /* Compact: no key */
	}
	if (!err)
		READ_GOSTR(e->key, ETCDC_KEY_MAX - 1, khdr, &e->key_len, &err);
	if (!err && (m == 'R' || m == 'D') && cfg->req_range_end >= 0) {
		struct go_string re = {};

		if (bpf_probe_read_user(&re, sizeof(re), (void *)(msg + cfg->req_range_end)))
			err = 1;
		e->range_end_len = re.len > 0xffffffffULL ? 0xffffffffU : (__u32)re.len;
	}
	if (err) {
		e->flags |= ETCDC_F_READ_ERR;
		stat_inc(&stats, ESTAT_READ_ERR);
		return;
	}
	e->flags |= ETCDC_F_HAS_KEY;
	stat_inc(&stats, ESTAT_KEYS);
}

/* (*ClientConn).Invoke(ctx, method string, args, reply any, opts ...CallOption) */
SEC("uprobe")
int BPF_UPROBE(invoke)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct etcdc_key key = { .tgid = tgid, .g = ctx->r14 };
	struct etcdc_event *e, *old;
	struct etcdc_cfg *cfg;

	cfg = bpf_map_lookup_elem(&targets, &tgid);
	if (!cfg)
		return 0;
	old = bpf_map_lookup_elem(&calls, &key);
	if (old) {
		if ((bpf_get_attach_cookie(ctx) & ETCDC_COOKIE_REPEATS) && old->args == ctx->r9) {
			stat_inc(&stats, ESTAT_DOUBLE_ENTRY);
			return 0;
		}
		stat_inc(&stats, ESTAT_REPLACED);
	}
	e = start(tgid, key.g, ctx->di, ctx->si);
	if (!e)
		return 0;
	e->args = ctx->r9;
	read_key(e, cfg, ctx->r9);
	if (bpf_map_update_elem(&calls, &key, e, BPF_ANY)) {
		stat_inc(&stats, ESTAT_FULL);
		return 0;
	}
	stat_inc(&stats, ESTAT_STARTS);
	return 0;
}

static __always_inline void submit(struct etcdc_event *e)
{
	struct etcdc_event *r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);

	if (!r) {
		stat_inc(&stats, ESTAT_RB_DROPS);
		return;
	}
	__builtin_memcpy(r, e, sizeof(*r));
	bpf_ringbuf_submit(r, rb_wakeup(&events, wakeup_bytes));
}

/* (*clientStream).finish(err error): RAX cs, RBX/RCX err. */
SEC("uprobe")
int BPF_UPROBE(finish)
{
	struct etcdc_key key = { .tgid = bpf_get_current_pid_tgid() >> 32, .g = ctx->r14 };
	struct etcdc_event *e;

	e = bpf_map_lookup_elem(&calls, &key);
	if (!e)
		return 0; /* a stream's end, or not a target */
	e->end_ns = bpf_ktime_get_ns();
	if (ctx->bx)
		e->flags |= ETCDC_F_ERR;
	submit(e);
	bpf_map_delete_elem(&calls, &key);
	stat_inc(&stats, ESTAT_ENDS);
	return 0;
}

/* (*ClientConn).NewStream(ctx, desc *StreamDesc, method string, opts ...CallOption) */
SEC("uprobe")
int BPF_UPROBE(new_stream)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct etcdc_event *e;

	if (!bpf_map_lookup_elem(&targets, &tgid))
		return 0;
	e = start(tgid, ctx->r14, ctx->si, ctx->r8);
	if (!e)
		return 0;
	e->flags |= ETCDC_F_STREAM;
	submit(e);
	stat_inc(&stats, ESTAT_STREAMS);
	return 0;
}

/*
 * k8s.io/apiserver/pkg/server.director.ServeHTTP(w, req): the innermost
 * handler of the generic server's filter chain (server/handler.go,
 * NewAPIServerHandler: FullHandlerChain = DefaultBuildHandlerChain(director)),
 * entered after authentication, APF (or max-in-flight) and authorization
 * (server/config.go DefaultBuildHandlerChain), on the goroutine the
 * timeout filter spawned, which the lineage probes tie to the request.
 * Only the time and the goroutine's request are taken: no argument is
 * read. A delegation chain (kube-apiserver's aggregator, then its own
 * server, then apiextensions) enters one director per server: userspace
 * keeps the first.
 */
SEC("uprobe")
int BPF_UPROBE(handler_start)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct goreq_key gk = { .tgid = tgid, .g = ctx->r14 };
	struct goreq_val *gv;
	struct etcdc_event *r;

	gv = bpf_map_lookup_elem(&goreq, &gk);
	if (!gv || gv->kind != GOREQ_HTTP || !bpf_map_lookup_elem(&targets, &tgid))
		return 0;
	r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		stat_inc(&stats, ESTAT_RB_DROPS);
		return 0;
	}
	__builtin_memset(r, 0, __builtin_offsetof(struct etcdc_event, method));
	r->start_ns = bpf_ktime_get_ns();
	r->g = gk.g;
	r->tgid = tgid;
	r->req_rw = gv->rw;
	r->req_start_ns = gv->start_ns;
	r->flags = ETCDC_F_REQ | ETCDC_F_HANDLER;
	bpf_ringbuf_submit(r, rb_wakeup(&events, wakeup_bytes));
	stat_inc(&stats, ESTAT_HANDLERS);
	return 0;
}
