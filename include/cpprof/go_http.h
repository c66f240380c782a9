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

/* Per target process, keyed by tgid: Go struct offsets chosen by version. */
struct go_http_cfg {
	__s32 request_method;
	__s32 request_url;
	__s32 url_path;
	__s32 url_rawquery;
	__u32 component;      /* enum in userspace; carried into events */
	__u32 pad;
};

struct go_http_event {
	__u64 start_ns;       /* bpf_ktime_get_ns() at serverHandler.ServeHTTP */
	__u64 end_ns;         /* at finishRequest / handlerDone */
	__u64 rw;             /* the response writer: the request's key */
	__u64 goid_g;         /* g of the serving goroutine (R14) */
	__u32 tgid;
	__u32 status;         /* first final WriteHeader code; 0: none written (Go sends 200) */
	__u32 path_len;       /* full lengths as the target had them */
	__u32 query_len;
	__u8  proto;          /* enum go_http_proto */
	__u8  method_len;
	__u8  flags;          /* enum go_http_flags */
	__u8  pad[5];
	char  method[HTTP_METHOD_MAX];
	char  path[HTTP_PATH_MAX];
	char  query[HTTP_QUERY_MAX];
	char  qtail[HTTP_QTAIL_MAX];
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
	STAT__MAX,
};

#endif
