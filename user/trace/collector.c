// SPDX-License-Identifier: MIT
/*
 * collector: ring buffer -> tagged request rows -> store. See collector.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/libbpf.h>

#include "collector.h"
#include "cpprof/go_http.h"
#include "k8s_reqinfo.h"
#include "log.h"
#include "store.h"

#define COLLECTOR_TARGETS 64
#define VERB_SLOTS 16

struct collector_target {
	int tgid;
	int64_t target_id;
	char component[16];
};

struct collector {
	struct store *store;
	struct ring_buffer *rb;
	struct collector_opts opts;
	int64_t mono_to_real;   /* add to bpf_ktime_get_ns() for CLOCK_REALTIME */
	struct collector_target targets[COLLECTOR_TARGETS];
	int ntargets;
	uint64_t requests, unknown;
	int err;                /* first store error: stops the recording */
	struct { char verb[24]; uint64_t n; } verbs[VERB_SLOTS];
};

static int64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void count_verb(struct collector *c, const char *verb)
{
	int i;

	for (i = 0; i < VERB_SLOTS; i++) {
		if (!c->verbs[i].verb[0])
			snprintf(c->verbs[i].verb, sizeof(c->verbs[i].verb), "%s", verb);
		if (strcmp(c->verbs[i].verb, verb) == 0) {
			c->verbs[i].n++;
			return;
		}
	}
}

/* Copy a captured field of CAP bytes into a NUL-terminated string. */
static void field(char *dst, size_t dst_cap, const char *src, size_t cap)
{
	if (cap >= dst_cap)
		cap = dst_cap - 1;
	memcpy(dst, src, cap);
	dst[cap] = 0;
	dst[strnlen(dst, cap)] = 0; /* a NUL inside the bytes ends the string earlier */
}

static int handle_event(void *ctx, void *data, size_t len)
{
	struct collector *c = ctx;
	const struct go_http_event *e = data;
	const struct collector_target *t = NULL;
	struct k8s_reqinfo ri;
	struct request_rec r;
	char method[HTTP_METHOD_MAX + 1], path[HTTP_PATH_MAX + 1];
	char query[HTTP_QUERY_MAX + HTTP_QTAIL_MAX + 2];
	const char *s;
	size_t caps;
	int i, err;

	if (len < sizeof(*e) || c->err)
		return 0;
	caps = (size_t)e->method_cap + e->path_cap + e->query_cap + e->qtail_cap;
	if (caps > len - sizeof(*e) || e->method_cap >= HTTP_METHOD_MAX || e->path_cap >= HTTP_PATH_MAX ||
	    e->query_cap >= HTTP_QUERY_MAX || e->qtail_cap >= HTTP_QTAIL_MAX) {
		c->unknown++; /* not an event this build's BPF side writes */
		return 0;
	}
	for (i = 0; i < c->ntargets; i++) {
		if (c->targets[i].tgid == (int)e->tgid) {
			t = &c->targets[i];
			break;
		}
	}
	if (!t) {
		c->unknown++;
		return 0;
	}
	s = (const char *)(e + 1);
	field(method, sizeof(method), s, e->method_cap);
	s += e->method_cap;
	field(path, sizeof(path), s, e->path_cap);
	s += e->path_cap;
	field(query, sizeof(query), s, e->query_cap);
	s += e->query_cap;
	if (e->qtail_cap) {
		/* Cut: add the tail, where client-go's sorted keys put watch=. */
		size_t q = strlen(query);

		query[q++] = '&';
		field(query + q, sizeof(query) - q, s, e->qtail_cap);
	}
	k8s_reqinfo__parse(method, path, query, &ri);

	memset(&r, 0, sizeof(r));
	r.run_id = c->opts.run_id;
	r.target_id = t->target_id;
	r.component = t->component;
	r.protocol = e->proto == GO_HTTP_PROTO_2 ? "HTTP/2" : "HTTP/1.1";
	r.method = method;
	r.verb = ri.verb;
	r.api_group = ri.api_group;
	r.api_version = ri.api_version;
	r.resource = ri.resource;
	r.subresource = ri.subresource;
	r.namespace = ri.namespace;
	r.scope = k8s_scope_name(ri.scope);
	r.name = c->opts.store_names && ri.name[0] ? ri.name : NULL;
	r.path = ri.is_resource ? NULL : path;
	r.watch = strcmp(ri.verb, "watch") == 0;
	/* No WriteHeader call: Go's server sent 200 (net/http server.go finishRequest). */
	r.status = e->status ? (int)e->status : 200;
	r.start_ns = (int64_t)e->start_ns + c->mono_to_real;
	r.latency_ns = e->end_ns > e->start_ns ? (int64_t)(e->end_ns - e->start_ns) : 0;

	err = store__add_request_id(c->store, &r, &r.id);
	if (err) {
		c->err = err;
		return err;
	}
	c->requests++;
	count_verb(c, ri.verb);
	if (c->opts.on_request)
		c->opts.on_request(c->opts.on_request_ctx, (int)e->tgid, e->rw, e->start_ns, &r);
	return 0;
}

struct collector *collector__new(struct store *st, int events_fd,
				 const struct collector_opts *o, int *err)
{
	struct collector *c = calloc(1, sizeof(*c));

	if (!c) {
		*err = -ENOMEM;
		return NULL;
	}
	c->store = st;
	c->opts = *o;
	c->mono_to_real = clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_MONOTONIC);
	c->rb = ring_buffer__new(events_fd, handle_event, c, NULL);
	if (!c->rb) {
		*err = -errno;
		cp_seterr("cannot open the BPF ring buffer: %s", strerror(errno));
		free(c);
		return NULL;
	}
	return c;
}

void collector__free(struct collector *c)
{
	if (!c)
		return;
	ring_buffer__free(c->rb);
	free(c);
}

int collector__add_target(struct collector *c, int tgid, int64_t target_id, const char *component)
{
	struct collector_target *t;

	if (c->ntargets >= COLLECTOR_TARGETS)
		return -E2BIG;
	t = &c->targets[c->ntargets++];
	t->tgid = tgid;
	t->target_id = target_id;
	snprintf(t->component, sizeof(t->component), "%s", component);
	return 0;
}

void collector__remove_target(struct collector *c, int tgid)
{
	int i, j;

	/* the process is gone: everything it sent is in the ring already */
	while (collector__poll(c, 0) > 0)
		;
	for (i = j = 0; i < c->ntargets; i++)
		if (c->targets[i].tgid != tgid)
			c->targets[j++] = c->targets[i];
	c->ntargets = j;
}

int collector__poll(struct collector *c, int timeout_ms)
{
	int n = ring_buffer__poll(c->rb, timeout_ms), m;

	/* The BPF side wakes us only when the ring fills up (see
	 * go_http.bpf.c): drain whatever arrived without a wakeup too. */
	if (n == -EINTR)
		n = 0;
	if (n >= 0 && !c->err) {
		m = ring_buffer__consume(c->rb);
		n = m < 0 ? m : n + m;
	}
	if (c->err)
		return c->err;
	return n;
}

uint64_t collector__requests(const struct collector *c)
{
	return c->requests;
}

uint64_t collector__unknown(const struct collector *c)
{
	return c->unknown;
}

const char *collector__top_verb(const struct collector *c, uint64_t *count)
{
	int i, best = -1;

	for (i = 0; i < VERB_SLOTS && c->verbs[i].verb[0]; i++)
		if (best < 0 || c->verbs[i].n > c->verbs[best].n)
			best = i;
	*count = best < 0 ? 0 : c->verbs[best].n;
	return best < 0 ? "" : c->verbs[best].verb;
}
