/* SPDX-License-Identifier: MIT */
/*
 * go_http: what bpf/go_http.bpf.c and the collector share. Plain structs
 * with fixed-width fields and explicit padding; userspace checks their
 * sizes with _Static_assert.
 */
#ifndef CPPROF_GO_HTTP_H
#define CPPROF_GO_HTTP_H

#ifndef __VMLINUX_H__ /* userspace; BPF gets the types from vmlinux.h */
#include <linux/types.h>
#endif

#define HTTP_METHOD_MAX 16
#define HTTP_PATH_MAX   256  /* power of two: the BPF side masks lengths with it */
#define HTTP_QUERY_MAX  512
#define HTTP_QTAIL_MAX  64   /* last bytes of a longer query: client-go sorts keys, so watch= comes last */

/* Which probe a BPF program serves; also the index into cpprof's probe plan. */
enum go_http_proto {
	GO_HTTP_PROTO_1 = 1, /* net/http (*response).finishRequest ended it */
	GO_HTTP_PROTO_2 = 2, /* an HTTP/2 responseWriter's handlerDone ended it */
};

enum go_http_flags {
	GO_HTTP_F_READ_ERR = 1 << 0, /* a field of the request could not be read */
};

/* Key of the "inflight" map: the request's response writer in one process. */
struct go_http_key {
	__u32 tgid;
	__u32 pad;
	__u64 rw;
};

/*
 * A request between its start and its end: small, so that the tens of
 * thousands of watches a large cluster keeps open fit. Method and URL are
 * read at the end, from the *Request the writer still holds then
 * (response.req for HTTP/1, rws.req for HTTP/2), and which filters never
 * modify in place (they derive copies with WithContext).
 */
struct go_http_inflight {
	__u64 start_ns;
	__u64 req;
	__u64 g;
	__u32 status;
	__u32 pad;
};

/*
 * Per target process, keyed by tgid: Go struct offsets, proven in
 * userspace (offsets.c). The end probe reads each struct's fields it
 * needs in one bpf_probe_read_user of the span that holds them: REQ_SPAN
 * bytes at *Request + REQ_LO (Method's header at word METHOD_W, the URL
 * pointer at word URL_W), URL_SPAN bytes at *URL + URL_LO (Path's header
 * at word PATH_W, RawQuery's at word QUERY_W).
 */
#define GO_HTTP_SPAN_MAX 64

struct go_http_cfg {
	__s32 req_lo;
	__s32 url_lo;
	__u8  req_span;       /* 1..GO_HTTP_SPAN_MAX */
	__u8  url_span;
	__u8  method_w;       /* 8-byte word indexes into the spans */
	__u8  url_w;
	__u8  path_w;
	__u8  query_w;
	__u8  pad[2];
	__u32 component;      /* enum in userspace; carried into events */
	__u32 pad2;
};

/*
 * The attach cookie of an end probe (finish_h1, finish_h2): whether the
 * probe may fire twice for one call, and where the status is, for this
 * writer (plan.c proves it per writer: a binary may hold net/http's
 * bundled HTTP/2 server and golang.org/x/net/http2's).
 */
#define GO_HTTP_COOKIE_REPEATS  (1ULL << 0) /* on the stack-check jump: may fire twice */
#define GO_HTTP_COOKIE_STATUS   (1ULL << 1) /* status read from the writer at the end */
#define GO_HTTP_COOKIE_RWS      (1ULL << 2) /* ... behind the pointer at [writer + RWS] */
#define GO_HTTP_COOKIE_RWS_SHIFT    16      /* bits 16-31: RWS */
#define GO_HTTP_COOKIE_STATUS_SHIFT 32      /* bits 32-47: offset of the int status */

/*
 * An ended request, variable-sized: the fixed header, then the captured
 * bytes of method, path, query and (when the query was longer than
 * HTTP_QUERY_MAX - 1) its last bytes, back to back after the header, method_cap + path_cap
 * + query_cap + qtail_cap of them. Most requests carry 30-150 bytes of
 * strings: a fixed 904-byte event made every request pay for the
 * longest, in ring buffer space and in the cache lines both sides touch.
 */
struct go_http_event {
	__u64 start_ns;       /* bpf_ktime_get_ns() at serverHandler.ServeHTTP */
	__u64 end_ns;         /* at finishRequest / handlerDone */
	__u64 rw;             /* the response writer: the request's key */
	__u64 goid_g;         /* g of the serving goroutine (R14) */
	__u32 tgid;
	__u32 status;         /* the writer's status at the end, or the first final WriteHeader code; 0: none written (Go sends 200) */
	__u32 path_len;       /* full lengths as the target had them */
	__u32 query_len;
	__u8  proto;          /* enum go_http_proto */
	__u8  method_len;
	__u8  flags;          /* enum go_http_flags */
	__u8  pad;
	__u16 method_cap;     /* bytes of each captured after the header */
	__u16 path_cap;
	__u16 query_cap;
	__u16 qtail_cap;
	__u32 pad2;
	/* then the data: the captured bytes (struct go_http_event_buf) */
};

#define GO_HTTP_DATA_MAX (HTTP_METHOD_MAX + HTTP_PATH_MAX + HTTP_QUERY_MAX + HTTP_QTAIL_MAX)

/* The BPF side's per-CPU scratch: an event at its largest. */
struct go_http_event_buf {
	struct go_http_event e;
	char data[GO_HTTP_DATA_MAX];
};

/* Per-CPU counters in the "stats" map; every drop has one. */
enum go_http_stat {
	STAT_STARTS = 0,      /* ServeHTTP entries recorded */
	STAT_ENDS,            /* events submitted */
	STAT_RB_DROPS,        /* ring buffer full: request lost */
	STAT_NO_START,        /* end with no recorded start */
	STAT_DOUBLE_ENTRY,    /* ServeHTTP entry re-run after stack growth */
	STAT_DOUBLE_END,      /* end probe re-run after stack growth */
	STAT_REPLACED,        /* a start left without end was overwritten */
	STAT_READ_ERR,        /* request fields unreadable */
	STAT_INFLIGHT_FULL,   /* inflight map full: request not tracked */
	STAT_STATUS_ERR,      /* the writer's status unreadable or out of range */
	STAT__MAX,
};

#endif
