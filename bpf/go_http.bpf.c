// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * go_http: per-request latency of Go net/http servers, from uprobes only.
 *
 * A request is keyed by its response writer (the *http.response of
 * HTTP/1, the *http2responseWriter of HTTP/2), not by goroutine: the
 * writer is passed to serverHandler.ServeHTTP, is the receiver of every
 * WriteHeader call (also when a handler runs in a child goroutine, as
 * kube-apiserver's timeout filter does), and is the receiver of the
 * method that runs when the request ends. So:
 *
 *   serverHandler.ServeHTTP(sh, rw, req)  start; the *Request is kept
 *   (*response).WriteHeader(code)         status (first final code wins)
 *   (*http2responseWriter).WriteHeader    status
 *   (*response).finishRequest()           end, HTTP/1.x: method and URL read now
 *   (*http2responseWriter).handlerDone()  end, HTTP/2     (deferred by runHandler)
 *
 * Probes sit where userspace (plan.c) found an instruction the kernel
 * emulates (~0.7 us a hit instead of ~9.5 us for a single-stepped one) and
 * no argument register has changed yet: the "push rbp" after the
 * prologue's stack check (Go 1.21+), else the stack-check jump itself.
 * The jump re-runs when the prologue grows the stack and the function
 * restarts from its entry: a second hit for the same call. Such probes
 * carry attach cookie 1, and their second hit is recognised (same writer,
 * request and goroutine) and counted, not taken for a new request.
 *
 * Go register ABI (Go 1.17+, src/cmd/compile/abi-internal.md): integer
 * arguments in RAX, RBX, RCX, RDI, RSI, R8-R11; g in R14. A method value
 * receiver is the first argument. serverHandler is struct{srv *Server}:
 * RAX; rw (interface: itab, data) RBX, RCX; req RDI.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "go_abi.bpf.h"
#include "maps.bpf.h"

#include "cpprof/go_http.h"
#include "cpprof/cpu_sample.h"
#include "shared_maps.bpf.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, struct go_http_cfg);
} targets SEC(".maps");

/* Requests in flight (shared_maps.bpf.h: the CPU sampler reads it too). */
GO_HTTP_INFLIGHT_MAP(inflight);

/* Requests just ended, to recognise an end probe hit twice. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct go_http_key);
	__type(value, __u64);
} ended SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, STAT__MAX);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20);
} events SEC(".maps");

/* Set by userspace before load: ring buffer fill that wakes the collector. */
const volatile __u64 wakeup_bytes = 1 << 20;
/* Set by userspace before load when CPU samples are attributed to requests. */
const volatile __u8 track_goroutines = 0;

/*
 * The serving goroutine now works for this request, in "goreq"
 * (shared_maps.bpf.h; cpu_sample.bpf.c adds the goroutines it creates and reads
 * the map per sample).
 */
static __always_inline void track_start(__u32 tgid, const struct go_http_inflight *v, __u64 rw)
{
	struct goreq_key gk = { .tgid = tgid, .g = v->g };
	struct goreq_val gv = { .rw = rw, .start_ns = v->start_ns, .kind = GOREQ_HTTP };

	if (track_goroutines)
		bpf_map_update_elem(&goreq, &gk, &gv, BPF_ANY);
}

SEC("uprobe")
int BPF_UPROBE(serve_http)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct go_http_key key = { .tgid = tgid, .rw = ctx->cx };
	struct go_http_inflight v = {}, *old;

	if (!key.rw || !bpf_map_lookup_elem(&targets, &tgid))
		return 0;
	v.req = ctx->di;
	v.g = ctx->r14;
	v.start_ns = bpf_ktime_get_ns();
	if (bpf_map_update_elem(&inflight, &key, &v, BPF_NOEXIST) == 0) {
		stat_inc(&stats, STAT_STARTS);
		track_start(tgid, &v, key.rw);
		return 0;
	}
	old = bpf_map_lookup_elem(&inflight, &key);
	if (old) {
		/* Cookie 1: this probe may fire twice for one call (see plan.c). */
		if (bpf_get_attach_cookie(ctx) && old->g == v.g && old->req == v.req) {
			/* The prologue grew the stack and re-ran the entry. */
			stat_inc(&stats, STAT_DOUBLE_ENTRY);
			return 0;
		}
		stat_inc(&stats, STAT_REPLACED);
	}
	if (bpf_map_update_elem(&inflight, &key, &v, BPF_ANY)) {
		stat_inc(&stats, STAT_INFLIGHT_FULL);
		return 0;
	}
	stat_inc(&stats, STAT_STARTS);
	track_start(tgid, &v, key.rw);
	return 0;
}

/* (*response).WriteHeader(code) and the HTTP/2 writers': RAX receiver, RBX code. */
SEC("uprobe")
int BPF_UPROBE(write_header)
{
	struct go_http_key key = { .tgid = bpf_get_current_pid_tgid() >> 32, .rw = ctx->ax };
	struct go_http_inflight *v;
	__u64 code = ctx->bx;

	v = bpf_map_lookup_elem(&inflight, &key);
	if (!v)
		return 0;
	/* 1xx codes other than 101 are informational and may repeat
	 * (net/http server.go, checkWriteHeaderCode/WriteHeader). */
	if (v->status == 0 && (code >= 200 || code == 101) && code <= 999)
		v->status = code;
	return 0;
}

static __always_inline void read_request(struct go_http_event *e, const struct go_http_cfg *cfg,
					 __u64 req)
{
	__u32 mlen = 0;
	__u64 url = 0;
	int err = 0;

	READ_GOSTR(e->method, HTTP_METHOD_MAX - 1, req + cfg->request_method, &mlen, &err);
	e->method_len = mlen > 255 ? 255 : mlen;
	if (bpf_probe_read_user(&url, sizeof(url), (void *)(req + cfg->request_url)) || !url) {
		err = 1;
	} else {
		READ_GOSTR(e->path, HTTP_PATH_MAX - 1, url + cfg->url_path, &e->path_len, &err);
		READ_GOSTR(e->query, HTTP_QUERY_MAX - 1, url + cfg->url_rawquery, &e->query_len, &err);
		if (e->query_len >= HTTP_QUERY_MAX) {
			struct go_string q = {};

			if (!bpf_probe_read_user(&q, sizeof(q), (void *)(url + cfg->url_rawquery)) &&
			    q.len >= HTTP_QTAIL_MAX)
				bpf_probe_read_user(e->qtail, HTTP_QTAIL_MAX - 1,
						    (void *)(q.ptr + q.len - (HTTP_QTAIL_MAX - 1)));
		}
	}
	if (err) {
		e->flags |= GO_HTTP_F_READ_ERR;
		stat_inc(&stats, STAT_READ_ERR);
	}
}

static __always_inline int end_request(struct pt_regs *ctx, __u8 proto)
{
	struct go_http_key key = { .tgid = bpf_get_current_pid_tgid() >> 32, .rw = ctx->ax };
	struct go_http_cfg *cfg;
	struct go_http_event *e;
	struct go_http_inflight *v;
	__u64 g = ctx->r14, *prev, repeats, start_ns, req, req_g;
	__u32 status;

	cfg = bpf_map_lookup_elem(&targets, &key.tgid);
	if (!cfg)
		return 0;
	repeats = bpf_get_attach_cookie(ctx);
	v = bpf_map_lookup_elem(&inflight, &key);
	if (!v) {
		prev = repeats ? bpf_map_lookup_elem(&ended, &key) : NULL;
		if (prev && *prev == g)
			stat_inc(&stats, STAT_DOUBLE_END);
		else
			stat_inc(&stats, STAT_NO_START);
		return 0;
	}
	/* Claim the request: only the hit whose delete succeeds reports it. */
	start_ns = v->start_ns;
	req = v->req;
	req_g = v->g;
	status = v->status;
	if (repeats)
		bpf_map_update_elem(&ended, &key, &g, BPF_ANY);
	if (bpf_map_delete_elem(&inflight, &key)) {
		stat_inc(&stats, STAT_DOUBLE_END);
		return 0;
	}
	if (track_goroutines) {
		struct goreq_key gk = { .tgid = key.tgid, .g = req_g };

		bpf_map_delete_elem(&goreq, &gk);
	}
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		stat_inc(&stats, STAT_RB_DROPS);
		return 0;
	}
	e->start_ns = start_ns;
	e->end_ns = bpf_ktime_get_ns();
	e->rw = key.rw;
	e->goid_g = req_g;
	e->tgid = key.tgid;
	e->status = status;
	e->path_len = 0;
	e->query_len = 0;
	e->proto = proto;
	e->method_len = 0;
	e->flags = 0;
	e->method[0] = 0;
	e->path[0] = 0;
	e->query[0] = 0;
	e->qtail[0] = 0;
	read_request(e, cfg, req);
	/* Waking the collector for every event costs the target a wakeup per
	 * request; it polls on a timer instead, and is woken early only when
	 * the ring is filling up. */
	bpf_ringbuf_submit(e, bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) > wakeup_bytes ?
				  BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP);
	stat_inc(&stats, STAT_ENDS);
	return 0;
}

SEC("uprobe")
int BPF_UPROBE(finish_h1)
{
	return end_request(ctx, GO_HTTP_PROTO_1);
}

SEC("uprobe")
int BPF_UPROBE(finish_h2)
{
	return end_request(ctx, GO_HTTP_PROTO_2);
}
