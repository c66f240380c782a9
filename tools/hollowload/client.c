// SPDX-License-Identifier: MIT
/*
 * client: hollowload's requests on one libcurl multi handle. Each attempt
 * gets a fresh easy handle; connections live in the multi's cache, so
 * HTTP/1.1 keep-alive and HTTP/2 streams are reused across requests.
 * libcurl opens another connection when one carries
 * CURLMOPT_MAX_CONCURRENT_STREAMS streams (we ask for fewer than Go's
 * http2 server default of 250), so hundreds of watches spread over a few
 * connections. Every attempt is one stats record: what the server saw.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "client.h"

#define MAX_BODY (8u << 20)   /* buffered answers are cut beyond this */

static struct curl_slist *hdr_sets[5];

static const char *const content_types[5] = {
	[BODY_NONE] = NULL,
	[BODY_JSON] = "Content-Type: application/json",
	[BODY_PROTOBUF] = "Content-Type: application/vnd.kubernetes.protobuf",
	[BODY_SMP] = "Content-Type: application/strategic-merge-patch+json",
	[BODY_MERGE] = "Content-Type: application/merge-patch+json",
};

const char *client__hint(enum hl_err e)
{
	switch (e) {
	case ERR_CONNECT: return "is the API server running and the URL right?";
	case ERR_DNS: return "check the host name in --server";
	case ERR_TLS: return "check --ca (or use --insecure), --cert and --key";
	case ERR_TIMEOUT: return "is the API server overloaded or the network down?";
	case ERR_RESET: return "the server closed the connection; check its logs";
	case ERR_HTTP_401: return "check --token-file or --cert/--key";
	case ERR_HTTP_403: return "the user lacks RBAC permissions for these resources";
	case ERR_HTTP_429: return "the server is throttling; lower the load";
	default: return "see the table above";
	}
}

static char *read_token(const char *file)
{
	char buf[8192];
	FILE *f = fopen(file, "r");
	size_t n;

	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
		buf[--n] = 0;
	return strdup(buf);
}

int client__init(struct client *c, const struct hl_opts *o, struct sched *s, struct stats *st)
{
	char accept[128];

	memset(c, 0, sizeof(*c));
	c->o = o;
	c->sched = s;
	c->stats = st;
	if (o->token_file) {
		char *tok = read_token(o->token_file);

		if (!tok) {
			hl_error("cannot read --token-file '%s': %s", o->token_file, strerror(errno));
			return -errno;
		}
		if (asprintf(&c->auth, "Authorization: Bearer %s", tok) < 0)
			c->auth = NULL;
		memset(tok, 0, strlen(tok));
		free(tok);
		if (!c->auth)
			return -ENOMEM;
	}
	c->multi = curl_multi_init();
	if (!c->multi)
		return -ENOMEM;
	curl_multi_setopt(c->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
	curl_multi_setopt(c->multi, CURLMOPT_MAX_CONCURRENT_STREAMS, (long)o->streams);
	if (o->connections)
		curl_multi_setopt(c->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)o->connections);
	/* HTTP/1.1 keeps one connection per watch; let the cache hold them all */
	curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, (long)(o->nodes * 2 + 64));

	/* kube clients ask for protobuf with a JSON fallback (client-go's
	 * ContentConfig.AcceptContentTypes for protobuf clients) */
	snprintf(accept, sizeof(accept), "Accept: %s", o->protobuf ?
		 "application/vnd.kubernetes.protobuf, application/json" : "application/json");
	for (int i = 0; i < 5; i++) {
		struct curl_slist *l = NULL;

		l = curl_slist_append(l, accept);
		l = curl_slist_append(l, "User-Agent: hollowload/1.0 (hollow-node)");
		l = curl_slist_append(l, "Expect:");
		if (c->auth)
			l = curl_slist_append(l, c->auth);
		if (content_types[i])
			l = curl_slist_append(l, content_types[i]);
		if (!l)
			return -ENOMEM;
		hdr_sets[i] = l;
	}
	return 0;
}

struct hl_req *hl_req_new(const char *method, const char *verb, const char *resource,
			  const char *subresource, const char *fmt, ...)
{
	struct hl_req *r = calloc(1, sizeof(*r));
	va_list ap;
	int n;

	if (!r)
		return NULL;
	va_start(ap, fmt);
	n = vasprintf(&r->path, fmt, ap);
	va_end(ap);
	if (n < 0) {
		free(r);
		return NULL;
	}
	r->method = method;
	r->verb = verb;
	r->resource = resource;
	r->subresource = subresource ? subresource : "";
	return r;
}

void hl_req_body(struct hl_req *r, enum hl_body type, char *body, size_t len)
{
	free(r->body);
	r->body = body;
	r->body_len = len;
	r->body_type = type;
}

static void req_free(struct hl_req *r)
{
	if (!r)
		return;
	free(r->path);
	free(r->body);
	free(r->resp);
	free(r);
}

static void unlink_req(struct client *c, struct hl_req *r)
{
	if (r->prev)
		r->prev->next = r->next;
	else if (c->live == r)
		c->live = r->next;
	if (r->next)
		r->next->prev = r->prev;
	r->next = r->prev = NULL;
}

static size_t on_header(char *buf, size_t size, size_t n, void *arg)
{
	struct hl_req *r = arg;
	size_t len = size * n;

	if (len > 13 && !strncasecmp(buf, "content-type:", 13)) {
		r->resp_protobuf = memmem(buf, len, "protobuf", 8) != NULL;
	} else if (len > 12 && !strncasecmp(buf, "retry-after:", 12)) {
		char tmp[32];
		size_t k = len - 12 < sizeof(tmp) - 1 ? len - 12 : sizeof(tmp) - 1;

		memcpy(tmp, buf + 12, k);
		tmp[k] = 0;
		r->retry_after = strtod(tmp, NULL);
	} else if (len <= 2 && r->stream && !r->opened) {
		long code = 0;

		curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &code);
		if (code >= 200 && code < 300) {
			r->opened = 1;
			r->status = code;
			if (r->on_open) {
				r->c->in_cb++;
				r->on_open(r);
				r->c->in_cb--;
			}
		}
	}
	return len;
}

static size_t on_write(char *data, size_t size, size_t n, void *arg)
{
	struct hl_req *r = arg;
	size_t len = size * n;

	if (r->stream && r->opened && r->on_data) {
		int bad;

		r->c->in_cb++;
		bad = r->on_data(r, data, len) < 0;
		r->c->in_cb--;
		if (bad) {
			r->err = ERR_PROTOCOL;
			return 0;   /* aborts the transfer: CURLE_WRITE_ERROR */
		}
		return len;
	}
	if (r->resp_len + len > MAX_BODY)
		return len;
	if (r->resp_len + len + 1 > r->resp_cap) {
		size_t cap = r->resp_cap ? r->resp_cap : 4096;
		char *p;

		while (cap < r->resp_len + len + 1)
			cap *= 2;
		p = realloc(r->resp, cap);
		if (!p)
			return 0;
		r->resp = p;
		r->resp_cap = cap;
	}
	memcpy(r->resp + r->resp_len, data, len);
	r->resp_len += len;
	r->resp[r->resp_len] = 0;
	return len;
}

static int start(struct client *c, struct hl_req *r)
{
	const struct hl_opts *o = c->o;
	char *url = NULL;
	CURL *e;

	e = curl_easy_init();
	if (!e || asprintf(&url, "%s%s", o->server, r->path) < 0) {
		if (e)
			curl_easy_cleanup(e);
		return -ENOMEM;
	}
	r->easy = e;
	r->status = 0;
	r->err = ERR_NONE;
	r->errmsg[0] = 0;
	r->resp_len = 0;
	r->retry_after = 0;
	r->opened = 0;
	curl_easy_setopt(e, CURLOPT_URL, url);
	free(url);   /* libcurl copies it */
	curl_easy_setopt(e, CURLOPT_PRIVATE, r);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errmsg);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, 10L);
	/*
	 * A watch asks timeoutSeconds in [--watch-timeout, 2x) (client-go's
	 * reflector) and the server ends it then; client-go puts no deadline
	 * of its own on a watch (rest/request.go Watch, unlike request()).
	 * Ours only catches a server that never ends one: past the longest
	 * timeoutSeconds, so that no watch is cut early (which a reflector
	 * would not do, and which hollowload would count as a timeout).
	 */
	curl_easy_setopt(e, CURLOPT_TIMEOUT, r->stream ? 2 * (long)o->watch_timeout + 60 : 60L);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdr_sets[r->body_type]);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
	if (r->stream)
		curl_easy_setopt(e, CURLOPT_BUFFERSIZE, 4096L);  /* a watch per node: keep it small */
	switch (o->http_version) {
	case 1:
		curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
		break;
	case 2:
		curl_easy_setopt(e, CURLOPT_HTTP_VERSION, !strncmp(o->server, "https:", 6) ?
				 (long)CURL_HTTP_VERSION_2TLS : (long)CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE);
		break;
	default:
		curl_easy_setopt(e, CURLOPT_HTTP_VERSION, !strncmp(o->server, "https:", 6) ?
				 (long)CURL_HTTP_VERSION_2TLS : (long)CURL_HTTP_VERSION_1_1);
	}
	if (o->ca)
		curl_easy_setopt(e, CURLOPT_CAINFO, o->ca);
	if (o->cert)
		curl_easy_setopt(e, CURLOPT_SSLCERT, o->cert);
	if (o->key)
		curl_easy_setopt(e, CURLOPT_SSLKEY, o->key);
	if (o->insecure) {
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (strcmp(r->method, "GET") && strcmp(r->method, "POST"))
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r->method);
	if (r->body) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)r->body_len);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body);
	} else if (!strcmp(r->method, "POST")) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, 0L);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, "");
	}
	r->sent = hl_now();
	if (curl_multi_add_handle(c->multi, e) != CURLM_OK) {
		curl_easy_cleanup(e);
		r->easy = NULL;
		return -EIO;
	}
	c->inflight++;
	if (r->stream)
		c->inflight_streams++;
	return 0;
}

static void on_retry(struct hl_timer *t);

int client__submit(struct client *c, struct hl_req *r)
{
	int err;

	r->c = c;
	r->started = hl_now();
	r->next = c->live;
	r->prev = NULL;
	if (c->live)
		c->live->prev = r;
	c->live = r;
	if (c->in_cb) {
		/* libcurl refuses multi calls from its callbacks
		 * (CURLM_RECURSIVE_API_CALL): start it from the main loop */
		r->retry_t.fn = on_retry;
		return sched__add(c->sched, &r->retry_t, 0);
	}
	err = start(c, r);
	if (err) {
		unlink_req(c, r);
		req_free(r);
	}
	return err;
}

static void on_retry(struct hl_timer *t)
{
	struct hl_req *r = (struct hl_req *)((char *)t - offsetof(struct hl_req, retry_t));
	struct client *c = r->c;

	if (start(c, r) < 0) {
		r->status = 0;
		r->err = ERR_OTHER;
		unlink_req(c, r);
		if (r->done)
			r->done(r);
		req_free(r);
	}
}

static enum hl_err err_of_curl(CURLcode rc)
{
	switch (rc) {
	case CURLE_OK:
		return ERR_NONE;
	case CURLE_COULDNT_CONNECT:
		return ERR_CONNECT;
	case CURLE_COULDNT_RESOLVE_HOST:
		return ERR_DNS;
	case CURLE_OPERATION_TIMEDOUT:
		return ERR_TIMEOUT;
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return ERR_RESET;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_USE_SSL_FAILED:
		return ERR_TLS;
	default:
		return ERR_OTHER;
	}
}

static int retryable(enum hl_err e)
{
	return e == ERR_CONNECT || e == ERR_RESET || e == ERR_TIMEOUT ||
	       e == ERR_HTTP_429 || e == ERR_HTTP_5XX;
}

/* one attempt ended: count it, then retry it or hand it to its owner */
static void finish(struct client *c, struct hl_req *r, CURLcode rc)
{
	double now = hl_now();
	long code = 0;

	curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_getinfo(r->easy, CURLINFO_OS_ERRNO, &r->os_errno);
	curl_easy_getinfo(r->easy, CURLINFO_HTTP_VERSION, &r->http_version);
	curl_multi_remove_handle(c->multi, r->easy);
	curl_easy_cleanup(r->easy);
	r->easy = NULL;
	c->inflight--;
	if (r->stream)
		c->inflight_streams--;
	r->status = code;
	if (r->err != ERR_PROTOCOL) {
		r->err = err_of_curl(rc);
		if (r->err == ERR_NONE)
			r->err = hl_err_of_status(code);
	}
	stats__record(c->stats, r->verb, r->resource, r->subresource, (now - r->sent) * 1e3,
		      code, r->err);
	c->completed++;
	if (r->err != ERR_NONE)
		hl_debug("%s %s: %s%s%s (HTTP %ld)", r->method, r->path, hl_err_names[r->err],
			 r->errmsg[0] ? ": " : "", r->errmsg, code);
	if (!c->stopping && r->retries > 0 && retryable(r->err)) {
		double backoff = 0.1 * (1 << (r->attempt < 6 ? r->attempt : 6));

		if (backoff > 5)
			backoff = 5;
		backoff *= 0.5 + 0.5 * hl_rand();
		if (r->retry_after > 0)
			backoff = r->retry_after > 10 ? 10 : r->retry_after;
		r->retries--;
		r->attempt++;
		r->retry_t.fn = on_retry;
		sched__add(c->sched, &r->retry_t, now + backoff);
		return;
	}
	unlink_req(c, r);
	if (r->done)
		r->done(r);
	req_free(r);
}

void client__cancel(struct client *c, struct hl_req *r)
{
	double now = hl_now();

	if (!r)
		return;
	sched__del(c->sched, &r->retry_t);
	if (r->easy) {
		curl_multi_remove_handle(c->multi, r->easy);
		curl_easy_cleanup(r->easy);
		r->easy = NULL;
		c->inflight--;
		if (r->stream)
			c->inflight_streams--;
		/* a watch we close counts as the request it was, with its status */
		stats__record(c->stats, r->verb, r->resource, r->subresource, (now - r->sent) * 1e3,
			      r->opened ? r->status : 0, ERR_NONE);
		c->completed++;
	}
	r->cancelled = 1;
	unlink_req(c, r);
	if (r->done)
		r->done(r);
	req_free(r);
}

int client__poll(struct client *c, int timeout_ms)
{
	int running = 0, left;
	CURLMsg *m;

	if (curl_multi_poll(c->multi, NULL, 0, timeout_ms, NULL) != CURLM_OK)
		return -EIO;
	curl_multi_perform(c->multi, &running);
	while ((m = curl_multi_info_read(c->multi, &left))) {
		struct hl_req *r = NULL;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
		if (r)
			finish(c, r, m->data.result);
	}
	return 0;
}

void client__wakeup(struct client *c)
{
	if (c->multi)
		curl_multi_wakeup(c->multi);
}

long client__busy(const struct client *c)
{
	long n = 0;

	for (struct hl_req *r = c->live; r; r = r->next)
		if (!r->stream)
			n++;
	return n;
}

void client__free(struct client *c)
{
	while (c->live) {
		struct hl_req *r = c->live;

		r->done = NULL;   /* owners are gone by now */
		client__cancel(c, r);
	}
	if (c->multi)
		curl_multi_cleanup(c->multi);
	c->multi = NULL;
	for (int i = 0; i < 5; i++) {
		curl_slist_free_all(hdr_sets[i]);
		hdr_sets[i] = NULL;
	}
	if (c->auth) {
		memset(c->auth, 0, strlen(c->auth));
		free(c->auth);
	}
	c->auth = NULL;
}

/*
 * Over HTTP/2 every request is a stream of a few shared connections, but
 * libcurl 7.88 does not multiplex onto a connection still in its TLS
 * handshake: while one is being set up (the first, or another once the
 * open ones carry --streams), every transfer that starts opens a
 * connection of its own. At 300 nodes starting over 5 s that made 100 to
 * 340 connections where 9 carry the streams, each with its TLS and
 * HTTP/2 state (about 70 KB), and a peak RSS anywhere from 49 to 89 MB;
 * bounded, 10 connections and 40 to 43 MB. The bound is twice what the
 * streams need (five watches and one request per node, the density run's
 * few, at --streams per connection), so a server that allows fewer
 * streams than --streams still has room; a transfer beyond it waits for
 * a stream (libcurl keeps it pending). Only once the server has answered
 * over HTTP/2: over HTTP/1.1 each watch holds a connection.
 */
void client__multiplexed(struct client *c, const struct hl_opts *o)
{
	long need = ((long)o->nodes * 6 + 64 + o->streams - 1) / o->streams;

	if (o->connections)
		return;
	curl_multi_setopt(c->multi, CURLMOPT_MAX_HOST_CONNECTIONS, 2 * need + 2);
	hl_debug("HTTP/2: at most %ld connections", 2 * need + 2);
}
