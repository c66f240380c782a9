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
 * Probes sit on the prologue's stack-check jump where userspace found one
 * (the kernel emulates jcc: ~0.7 us a hit instead of ~9.5 us for a
 * single-stepped instruction), where no argument register has changed
 * yet. That jump re-runs when the prologue grows the stack and the
 * function restarts from its entry: a second hit for the same call, which
 * is recognised (same writer, request and goroutine) and counted.
 *
 * Go register ABI (Go 1.17+, src/cmd/compile/abi-internal.md): integer
 * arguments in RAX, RBX, RCX, RDI, RSI, R8-R11; g in R14. A method value
 * receiver is the first argument. serverHandler is struct{srv *Server}:
 * RAX; rw (interface: itab, data) RBX, RCX; req RDI.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "cpprof/go_http.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

struct rw_key {
	__u32 tgid;
	__u32 pad;
	__u64 rw;
};

/* A request between its start and its end: small, so that the tens of
 * thousands of watches a large cluster keeps open fit. Method and URL are
 * read at the end, from the *Request the writer still holds then
 * (response.req for HTTP/1, rws.req for HTTP/2), and which filters never
 * modify in place (they derive copies with WithContext). */
struct inflight {
	__u64 start_ns;
	__u64 req;
	__u64 g;
	__u32 status;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, struct go_http_cfg);
} targets SEC(".maps");

/* LRU: a start whose end never comes (hijacked connection, panicking
 * handler) ages out instead of filling the map. Sized by userspace. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct rw_key);
	__type(value, struct inflight);
} inflight SEC(".maps");

/* Requests just ended, to recognise an end probe hit twice. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct rw_key);
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
	__uint(max_entries, 8 << 20);
} events SEC(".maps");

static __always_inline void stat_inc(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &idx);

	if (v)
		*v += 1;
}

struct go_string {
	__u64 ptr;
	__u64 len;
};

/*
 * Copy at most MASK bytes (MASK = size-1, size a power of two) of the Go
 * string whose header is at HDR into DST; store the full length in *LEN.
 */
#define READ_GOSTR(dst, mask, hdr, lenp, errp) do {                          \
	struct go_string s__ = {};                                             \
	__u64 n__;                                                              \
	if (bpf_probe_read_user(&s__, sizeof(s__), (void *)(hdr))) {            \
		*(errp) = 1;                                                    \
		break;                                                          \
	}                                                                       \
	*(lenp) = s__.len > 0xffffffffULL ? 0xffffffffU : (__u32)s__.len;     \
	n__ = s__.len < (mask) ? s__.len : (mask);                              \
	n__ &= (mask);                                                          \
	if (n__ && bpf_probe_read_user((dst), n__, (void *)s__.ptr))            \
		*(errp) = 1;                                                    \
} while (0)

SEC("uprobe")
int BPF_UPROBE(serve_http)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct rw_key key = { .tgid = tgid, .rw = ctx->cx };
	struct inflight v = {}, *old;

	if (!key.rw || !bpf_map_lookup_elem(&targets, &tgid))
		return 0;
	v.req = ctx->di;
	v.g = ctx->r14;
	old = bpf_map_lookup_elem(&inflight, &key);
	if (old) {
		if (old->g == v.g && old->req == v.req) {
			/* The prologue grew the stack and re-ran the entry. */
			stat_inc(STAT_DOUBLE_ENTRY);
			return 0;
		}
		stat_inc(STAT_REPLACED);
	}
	v.start_ns = bpf_ktime_get_ns();
	if (bpf_map_update_elem(&inflight, &key, &v, BPF_ANY)) {
		stat_inc(STAT_INFLIGHT_FULL);
		return 0;
	}
	stat_inc(STAT_STARTS);
	return 0;
}

/* (*response).WriteHeader(code) and the HTTP/2 writers': RAX receiver, RBX code. */
SEC("uprobe")
int BPF_UPROBE(write_header)
{
	struct rw_key key = { .tgid = bpf_get_current_pid_tgid() >> 32, .rw = ctx->ax };
	struct inflight *v;
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
		stat_inc(STAT_READ_ERR);
	}
}

static __always_inline int end_request(struct pt_regs *ctx, __u8 proto)
{
	struct rw_key key = { .tgid = bpf_get_current_pid_tgid() >> 32, .rw = ctx->ax };
	struct go_http_cfg *cfg;
	struct go_http_event *e;
	struct inflight *v;
	__u64 g = ctx->r14, *prev;

	cfg = bpf_map_lookup_elem(&targets, &key.tgid);
	if (!cfg)
		return 0;
	v = bpf_map_lookup_elem(&inflight, &key);
	if (!v) {
		prev = bpf_map_lookup_elem(&ended, &key);
		if (prev && *prev == g)
			stat_inc(STAT_DOUBLE_END);
		else
			stat_inc(STAT_NO_START);
		return 0;
	}
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		stat_inc(STAT_RB_DROPS);
		goto out;
	}
	e->start_ns = v->start_ns;
	e->end_ns = bpf_ktime_get_ns();
	e->rw = key.rw;
	e->goid_g = v->g;
	e->tgid = key.tgid;
	e->status = v->status;
	e->path_len = 0;
	e->query_len = 0;
	e->proto = proto;
	e->method_len = 0;
	e->flags = 0;
	e->method[0] = 0;
	e->path[0] = 0;
	e->query[0] = 0;
	e->qtail[0] = 0;
	read_request(e, cfg, v->req);
	bpf_ringbuf_submit(e, 0);
	stat_inc(STAT_ENDS);
out:
	bpf_map_delete_elem(&inflight, &key);
	bpf_map_update_elem(&ended, &key, &g, BPF_ANY);
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
