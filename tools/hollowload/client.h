/* SPDX-License-Identifier: MIT */
/*
 * client: every HTTP request of hollowload, on one libcurl multi handle:
 * connections reused, HTTP/2 streams multiplexed (CURLPIPE_MULTIPLEX,
 * PIPEWAIT), retries with jittered exponential backoff on connection
 * errors, resets, 429 (honouring Retry-After) and 5xx, and one stats
 * record per attempt.
 */
#ifndef HOLLOWLOAD_CLIENT_H
#define HOLLOWLOAD_CLIENT_H

#include <curl/curl.h>

#include "hollowload.h"
#include "sched.h"
#include "stats.h"

struct hl_req;
typedef void (*hl_done_fn)(struct hl_req *r);
/* a streamed (watch) answer: headers arrived, then data as it comes */
typedef void (*hl_open_fn)(struct hl_req *r);
typedef int (*hl_data_fn)(struct hl_req *r, const char *data, size_t len);

enum hl_body { BODY_NONE, BODY_JSON, BODY_PROTOBUF, BODY_SMP, BODY_MERGE };

struct hl_req {
	/* set by the caller (hl_req_new and fields) */
	const char *method, *verb, *resource, *subresource;
	char *path;                  /* path and query, malloc'd */
	char *body;                  /* malloc'd */
	size_t body_len;
	enum hl_body body_type;
	int stream;                  /* watch: pass data to on_data, not buffered */
	int retries;                 /* attempts left after this one */
	hl_done_fn done;
	hl_open_fn on_open;
	hl_data_fn on_data;
	void *arg;
	long iarg;

	/* results, valid in done */
	long status;                 /* HTTP status, 0 if none */
	enum hl_err err;
	char errmsg[CURL_ERROR_SIZE];
	long os_errno;               /* errno of a failed connect */
	long http_version;           /* CURLINFO_HTTP_VERSION of the answer (CURL_HTTP_VERSION_2_0: HTTP/2) */
	char *resp;                  /* buffered answer, NUL-terminated */
	size_t resp_len;
	int resp_protobuf;           /* Content-Type was protobuf */
	double started, sent;        /* first attempt queued; this attempt sent */
	int cancelled;

	/* private */
	struct client *c;
	CURL *easy;
	struct curl_slist *hdrs;
	size_t resp_cap;
	double retry_after;
	int attempt, opened;
	struct hl_timer retry_t;
	struct hl_req *next, *prev;  /* in flight or waiting to retry */
};

struct client {
	const struct hl_opts *o;
	CURLM *multi;
	struct sched *sched;
	struct stats *stats;
	struct curl_slist *base_hdrs;
	char *auth;
	struct hl_req *live;         /* list of every request not yet done */
	long inflight, inflight_streams;
	long completed;              /* attempts finished (stats records) */
	int stopping;                /* no retries after this */
	int in_cb;                   /* inside a libcurl callback */
};

int client__init(struct client *c, const struct hl_opts *o, struct sched *s, struct stats *st);
/* a new request for PATH (printf-style), to fill and submit */
struct hl_req *hl_req_new(const char *method, const char *verb, const char *resource,
			  const char *subresource, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
void hl_req_body(struct hl_req *r, enum hl_body type, char *body, size_t len);
/* start R; it is freed after its done callback; 0 or negative errno */
int client__submit(struct client *c, struct hl_req *r);
/* end R now (a watch we close): counted, done called with cancelled set */
void client__cancel(struct client *c, struct hl_req *r);
/* wait up to TIMEOUT_MS for sockets, drive transfers, finish completed ones */
int client__poll(struct client *c, int timeout_ms);
/* the server answered over HTTP/2: at most as many connections as the
 * nodes' streams need (see client.c) unless --connections says */
void client__multiplexed(struct client *c, const struct hl_opts *o);
void client__wakeup(struct client *c);
/* non-stream requests in flight or waiting to retry */
long client__busy(const struct client *c);
void client__free(struct client *c);
/* "Connection refused; is the API server running?" and such */
const char *client__hint(enum hl_err e);

#endif
