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
 *   (*response).finishRequest()           end, HTTP/1.x: method, URL and the
 *                                         writer's status read now
 *   (*http2responseWriter).handlerDone()  end, HTTP/2     (deferred by runHandler)
 *
 * Two probe hits per request. Where userspace could not prove the offset
 * of a writer's status field (plan.c), that writer's WriteHeader is probed
 * as well, and the first final code it sees is the status:
 *   (*response).WriteHeader(code), (*http2responseWriter).WriteHeader
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

/* Where an event is assembled before it is copied, at its used size,
 * into the ring buffer (bpf_ringbuf_output). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct go_http_event_buf);
} scratch SEC(".maps");

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

/*
 * Method, path and query, in five reads at most: the *Request span holding
 * Method's header and the URL pointer, the *URL span holding Path's and
 * RawQuery's headers, then the three strings' bytes (and a long query's
 * tail), packed back to back into e's data. Each read is ~50-100 ns of the
 * target's time; a read per header cost two more. Returns the bytes of
 * data used.
 */
static __always_inline __u32 read_request(struct go_http_event_buf *b, const struct go_http_cfg *cfg,
					  __u64 req)
{
	struct go_http_event *e = &b->e;
	__u64 w[GO_HTTP_SPAN_MAX / 8] = {};
	struct go_string m, p, q;
	__u32 n, i, off = 0;
	__u64 url;
	int err = 0;

	n = cfg->req_span;
	if (n < 16 || n > GO_HTTP_SPAN_MAX ||
	    bpf_probe_read_user(w, n, (void *)(req + cfg->req_lo)))
		goto fail;
	i = cfg->method_w & 7;
	if (i > 6)
		goto fail;
	m.ptr = w[i];
	m.len = w[i + 1];
	url = w[cfg->url_w & 7];
	if (!url)
		goto fail;
	n = cfg->url_span;
	if (n < 16 || n > GO_HTTP_SPAN_MAX ||
	    bpf_probe_read_user(w, n, (void *)(url + cfg->url_lo)))
		goto fail;
	i = cfg->path_w & 7;
	if (i > 6)
		goto fail;
	p.ptr = w[i];
	p.len = w[i + 1];
	i = cfg->query_w & 7;
	if (i > 6)
		goto fail;
	q.ptr = w[i];
	q.len = w[i + 1];

	e->method_len = m.len > 255 ? 255 : m.len;
	e->path_len = p.len > 0xffffffffULL ? 0xffffffffU : (__u32)p.len;
	e->query_len = q.len > 0xffffffffULL ? 0xffffffffU : (__u32)q.len;
	/* The masks keep each offset and length provably inside data[]:
	 * 15 + 255 + 511 + 63 <= GO_HTTP_DATA_MAX. */
	n = m.len < HTTP_METHOD_MAX - 1 ? m.len : HTTP_METHOD_MAX - 1;
	n &= HTTP_METHOD_MAX - 1;
	if (n && bpf_probe_read_user(b->data, n, (void *)m.ptr))
		err = 1;
	e->method_cap = n;
	off = n;
	n = p.len < HTTP_PATH_MAX - 1 ? p.len : HTTP_PATH_MAX - 1;
	n &= HTTP_PATH_MAX - 1;
	if (n && bpf_probe_read_user(b->data + off, n, (void *)p.ptr))
		err = 1;
	e->path_cap = n;
	off = (off + n) & 511;
	n = q.len < HTTP_QUERY_MAX - 1 ? q.len : HTTP_QUERY_MAX - 1;
	n &= HTTP_QUERY_MAX - 1;
	if (n && bpf_probe_read_user(b->data + off, n, (void *)q.ptr))
		err = 1;
	e->query_cap = n;
	off = (off + n) & 1023;
	if (q.len >= HTTP_QUERY_MAX && off <= GO_HTTP_DATA_MAX - HTTP_QTAIL_MAX) {
		if (bpf_probe_read_user(b->data + off, HTTP_QTAIL_MAX - 1,
					(void *)(q.ptr + q.len - (HTTP_QTAIL_MAX - 1))))
			err = 1;
		e->qtail_cap = HTTP_QTAIL_MAX - 1;
		off += HTTP_QTAIL_MAX - 1;
	}
	if (!err)
		return off;
fail:
	e->flags |= GO_HTTP_F_READ_ERR;
	stat_inc(&stats, STAT_READ_ERR);
	return off;
}

/*
 * The status the writer holds when the request ends (cookie: where, see
 * go_http.h). 0 when no WriteHeader ran yet: the end method itself then
 * sends 200, and the collector stores 200.
 */
static __always_inline __u32 read_status(__u64 rw, __u64 cookie)
{
	__u64 p = rw;
	__s64 st = 0;

	if (cookie & GO_HTTP_COOKIE_RWS) {
		if (bpf_probe_read_user(&p, sizeof(p),
					(void *)(rw + ((cookie >> GO_HTTP_COOKIE_RWS_SHIFT) & 0xffff))) || !p)
			goto fail;
	}
	if (bpf_probe_read_user(&st, sizeof(st),
				(void *)(p + ((cookie >> GO_HTTP_COOKIE_STATUS_SHIFT) & 0xffff))))
		goto fail;
	if (st == 0 || (st >= 100 && st <= 999))
		return (__u32)st;
fail:
	stat_inc(&stats, STAT_STATUS_ERR);
	return 0;
}

static __always_inline int end_request(struct pt_regs *ctx, __u8 proto)
{
	struct go_http_key key = { .tgid = bpf_get_current_pid_tgid() >> 32, .rw = ctx->ax };
	struct go_http_cfg *cfg;
	struct go_http_event_buf *b;
	struct go_http_event *e;
	struct go_http_inflight *v;
	__u32 zero = 0, used;
	__u64 g = ctx->r14, *prev, cookie, repeats, start_ns, req, req_g;
	__u32 status;

	cfg = bpf_map_lookup_elem(&targets, &key.tgid);
	if (!cfg)
		return 0;
	cookie = bpf_get_attach_cookie(ctx);
	repeats = cookie & GO_HTTP_COOKIE_REPEATS;
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
	/* Written by whichever goroutine ran WriteHeader (kube-apiserver's
	 * timeout filter: a child), always before the end method runs. */
	if (cookie & GO_HTTP_COOKIE_STATUS)
		status = read_status(key.rw, cookie);
	b = bpf_map_lookup_elem(&scratch, &zero);
	if (!b)
		return 0;
	e = &b->e;
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
	e->method_cap = e->path_cap = e->query_cap = e->qtail_cap = 0;
	used = read_request(b, cfg, req);
	if (used > GO_HTTP_DATA_MAX)
		used = GO_HTTP_DATA_MAX;
	/* Waking the collector for every event costs the target a wakeup per
	 * request; it polls on a timer instead, and is woken early only when
	 * the ring is filling up. */
	if (bpf_ringbuf_output(&events, b, sizeof(*e) + used,
			       bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) > wakeup_bytes ?
			       BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP)) {
		stat_inc(&stats, STAT_RB_DROPS);
		return 0;
	}
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
