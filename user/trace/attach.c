// SPDX-License-Identifier: MIT
/*
 * attach: load go_http.bpf.o through its skeleton and attach uprobes at
 * the verified addresses of a probe plan. See attach.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "attach.h"
#include "bpfutil.h"
#include "cpprof/cpu_sample.h"
#include "cpprof/go_http.h"
#include "go_http.skel.h"
#include "log.h"

_Static_assert(sizeof(struct go_http_event) == 64, "go_http_event layout changed");
_Static_assert(sizeof(struct go_http_cfg) == 24, "go_http_cfg layout changed");

#define MAX_TARGETS 64
#define MAX_LINKS   (MAX_TARGETS * PLAN_MAX_SITES)

struct attach {
	struct go_http_bpf *skel;
	struct bpfutil_link links[MAX_LINKS];
	int nlinks;
	uint64_t swept;     /* in-flight requests removed without an end */
};

struct attach *attach__open(bool track_goroutines, int *err)
{
	struct attach *a;

	libbpf_set_print(bpfutil__libbpf_print);
	*err = bpfutil__require_root();
	if (*err)
		return NULL;
	a = calloc(1, sizeof(*a));
	if (!a) {
		*err = -ENOMEM;
		return NULL;
	}
	a->skel = go_http_bpf__open();
	if (!a->skel) {
		*err = -errno;
		cp_seterr("cannot open BPF object: %s", strerror(errno));
		goto fail;
	}
	/* The collector drains every 100 ms; wake it early at a quarter full. */
	a->skel->rodata->wakeup_bytes = bpf_map__max_entries(a->skel->maps.events) / 4;
	a->skel->rodata->track_goroutines = track_goroutines;
	*err = go_http_bpf__load(a->skel);
	if (*err) {
		bpfutil__load_failed("BPF programs", *err);
		goto fail;
	}
	return a;
fail:
	attach__close(a);
	return NULL;
}

void attach__close(struct attach *a)
{
	int i;

	if (!a)
		return;
	for (i = 0; i < a->nlinks; i++)
		bpf_link__destroy(a->links[i].link);
	go_http_bpf__destroy(a->skel);
	free(a);
}

static struct bpf_program *prog_for(struct attach *a, enum probe_kind k)
{
	switch (k) {
	case PROBE_SERVE:        return a->skel->progs.serve_http;
	case PROBE_WRITE_HEADER: return a->skel->progs.write_header;
	case PROBE_FINISH_H1:    return a->skel->progs.finish_h1;
	case PROBE_FINISH_H2:    return a->skel->progs.finish_h2;
	default:                 return NULL;
	}
}

/*
 * The span of one struct that holds the string header at A (16 bytes) and
 * the 8-byte word at B: where it starts, its length and the word indexes.
 * -ENOTSUP naming the fields when they are too far apart for one read.
 */
static int span(int32_t a, int32_t b, const char *what, int32_t *lo, uint8_t *len, uint8_t *aw,
		uint8_t *bw)
{
	int32_t l = a < b ? a : b, h = a + 16 > b + 8 ? a + 16 : b + 8;

	if (a < 0 || b < 0 || a % 8 || b % 8 || h - l > GO_HTTP_SPAN_MAX) {
		cp_seterr("offsets of %s (%d and %d) do not fit one %d-byte read", what, a, b,
			  GO_HTTP_SPAN_MAX);
		return -ENOTSUP;
	}
	*lo = l;
	*len = (uint8_t)(h - l);
	*aw = (uint8_t)((a - l) / 8);
	*bw = (uint8_t)((b - l) / 8);
	return 0;
}

/* The end probe's cookie: GO_HTTP_COOKIE_* (go_http.h). */
static uint64_t site_cookie(const struct probe_site *s)
{
	uint64_t c = s->once ? 0 : GO_HTTP_COOKIE_REPEATS;

	if ((s->kind == PROBE_FINISH_H1 || s->kind == PROBE_FINISH_H2) && s->status_proven &&
	    s->status_off >= 0 && s->status_off <= 0xffff && s->status_rws <= 0xffff) {
		c |= GO_HTTP_COOKIE_STATUS | (uint64_t)s->status_off << GO_HTTP_COOKIE_STATUS_SHIFT;
		if (s->status_rws >= 0)
			c |= GO_HTTP_COOKIE_RWS | (uint64_t)s->status_rws << GO_HTTP_COOKIE_RWS_SHIFT;
	}
	return c;
}

int attach__target(struct attach *a, int pid, const struct probe_plan *plan, uint32_t component)
{
	struct go_http_cfg cfg = { .component = component };
	uint8_t qw;
	char exe[64];
	uint32_t key = pid;
	int i, err, first = a->nlinks;

	if ((err = span(plan->off.request_method, plan->off.request_url,
			"net/http.Request.Method and .URL", &cfg.req_lo, &cfg.req_span, &cfg.method_w,
			&cfg.url_w)) ||
	    (err = span(plan->off.url_path, plan->off.url_rawquery, "net/url.URL.Path and .RawQuery",
			&cfg.url_lo, &cfg.url_span, &cfg.path_w, &qw)))
		return err;
	/* RawQuery is a string too: its length word must be in the span */
	if (qw * 8 + 16 > cfg.url_span) {
		if (plan->off.url_rawquery + 16 - cfg.url_lo > GO_HTTP_SPAN_MAX) {
			cp_seterr("offsets of net/url.URL.Path and .RawQuery (%d and %d) do not fit one %d-byte read",
				  plan->off.url_path, plan->off.url_rawquery, GO_HTTP_SPAN_MAX);
			return -ENOTSUP;
		}
		cfg.url_span = (uint8_t)(plan->off.url_rawquery + 16 - cfg.url_lo);
	}
	cfg.query_w = qw;
	if (a->nlinks + plan->nsites > MAX_LINKS) {
		cp_seterr("too many targets (at most %d)", MAX_TARGETS);
		return -E2BIG;
	}
	if (bpf_map__update_elem(a->skel->maps.targets, &key, sizeof(key), &cfg, sizeof(cfg), BPF_ANY)) {
		err = -errno;
		cp_seterr("cannot configure target: %s", strerror(errno));
		return err;
	}
	/* Through /proc: the inode the process really runs, even in another mount namespace. */
	snprintf(exe, sizeof(exe), "/proc/%d/exe", pid);
	for (i = 0; i < plan->nsites; i++) {
		const struct probe_site *s = &plan->sites[i];
		struct bpf_link *link;

		link = bpfutil__attach_site(prog_for(a, s->kind), pid, exe, s, site_cookie(s), &err);
		if (!link)
			goto fail;
		a->links[a->nlinks].pid = pid;
		a->links[a->nlinks].link = link;
		a->nlinks++;
		debug("attached %s at 0x%llx (%s)\n", s->func, (unsigned long long)s->addr, s->insn);
	}
	return 0;
fail:
	bpfutil__links_truncate(a->links, &a->nlinks, first);
	bpf_map__delete_elem(a->skel->maps.targets, &key, sizeof(key), 0);
	return err;
}

/*
 * Forget which goroutines of PID worked for which request: a process
 * killed mid-request (an OOM kill) never ends them, and a restarted
 * server all night would fill "goreq" with the dead ones.
 */
static void drop_goroutines(struct attach *a, int pid)
{
	int fd = bpf_map__fd(a->skel->maps.goreq);
	struct goreq_key key, next, *prev = NULL;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		if ((int)next.tgid == pid && bpf_map_delete_elem(fd, &next) == 0)
			continue; /* the deleted key cannot lead on: restart from the one before it */
		key = next;
		prev = &key;
	}
}

static void detach(struct attach *a, int pid, bool exited)
{
	uint32_t key = pid;

	a->nlinks = exited ? bpfutil__links_drop_pid_later(a->links, a->nlinks, pid) :
			     bpfutil__links_drop_pid(a->links, a->nlinks, pid);
	bpf_map__delete_elem(a->skel->maps.targets, &key, sizeof(key), 0);
	a->swept += attach__sweep(a, pid, 0);
	if (exited)
		drop_goroutines(a, pid);
}

void attach__detach(struct attach *a, int pid)
{
	detach(a, pid, false);
}

void attach__forget(struct attach *a, int pid)
{
	detach(a, pid, true);
}

uint64_t attach__swept(const struct attach *a)
{
	return a->swept;
}

int attach__sweep(struct attach *a, int pid, uint64_t older_than_ns)
{
	int fd = bpf_map__fd(a->skel->maps.inflight), n = 0;
	struct go_http_key key, next, *prev = NULL;
	struct go_http_inflight v;
	struct timespec ts;
	uint64_t now;

	clock_gettime(CLOCK_MONOTONIC, &ts); /* bpf_ktime_get_ns() is CLOCK_MONOTONIC */
	now = (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		bool stale = false;

		if (bpf_map_lookup_elem(fd, &next, &v) == 0)
			stale = (pid > 0 && (int)next.tgid == pid) ||
				(older_than_ns && v.start_ns + older_than_ns < now);
		if (stale && bpf_map_delete_elem(fd, &next) == 0) {
			n++;
			/* the deleted key cannot lead on: restart from the one before it */
			continue;
		}
		key = next;
		prev = &key;
	}
	return n;
}

int attach__inflight_fd(const struct attach *a)
{
	return bpf_map__fd(a->skel->maps.inflight);
}

int attach__goreq_fd(const struct attach *a)
{
	return bpf_map__fd(a->skel->maps.goreq);
}

int attach__events_fd(const struct attach *a)
{
	return bpf_map__fd(a->skel->maps.events);
}

int attach__stats(const struct attach *a, uint64_t *out)
{
	return bpfutil__percpu_sum(bpf_map__fd(a->skel->maps.stats), STAT__MAX, out);
}
