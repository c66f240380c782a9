// SPDX-License-Identifier: MIT
/*
 * promserve: the live Prometheus endpoint of `cpprof record --listen`
 * (promserve.h). Aggregates live in a table of series keyed by their label
 * values; the recording thread adds to them under one mutex, the server
 * thread formats them under the same mutex into memory and writes the
 * answer after letting go of it, so a slow scraper never holds up the
 * recording. One connection at a time, each closed after its answer
 * (HTTP/1.1 "Connection: close"): Prometheus scrapes every few seconds.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "log.h"
#include "promserve.h"
#include "store.h"

/*
 * k8s.io/apiserver/pkg/endpoints/metrics/metrics.go (Kubernetes 1.36),
 * requestLatencies: apiserver_request_duration_seconds' buckets, so that a
 * query written for the apiserver's histogram carries over.
 */
const double promserve_buckets[PROMSERVE_NBUCKETS] = {
	0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2, 3,
	4, 5, 6, 8, 10, 15, 20, 30, 45, 60,
};

#define NLABELS 6
#define HASH_SLOTS 4096          /* power of two; chains past it */
/*
 * Call kinds come from URLs (a client may ask for any resource name), so
 * the series are bounded: past this many, new call kinds count in one
 * series of resource "[other]", and the endpoint stays a few MiB.
 */
#define MAX_SERIES 2000

/* One series (a call kind's histogram, or a CPU counter) and its labels. */
struct series {
	char *v[NLABELS];
	uint64_t count, sum_ns;      /* requests: count, latency sum; cpu: samples, cpu_ns */
	uint64_t buckets[PROMSERVE_NBUCKETS];
	int next;                    /* hash chain, -1 end */
};

struct table {
	struct series *s;
	int n, cap;
	int head[HASH_SLOTS];
};

struct ptarget {
	int pid;
	char component[16];
	bool attached;
};

struct promserve {
	int lfd, stop[2], port;
	pthread_t thread;
	bool started;
	pthread_mutex_t mu;
	struct table calls, cpu;
	uint64_t bound_ns[PROMSERVE_NBUCKETS];  /* promserve_buckets in ns: no float per call */
	uint64_t lost, unmatched, lost_samples;
	struct ptarget targets[64];
	int ntargets;
	char *label, *kind;
};

static uint32_t key_hash(const char *const *v, int n)
{
	uint32_t h = 2166136261u;    /* FNV-1a over the values and their ends */

	for (int i = 0; i < n; i++) {
		for (const char *s = v[i] ? v[i] : ""; *s; s++)
			h = (h ^ (uint8_t)*s) * 16777619u;
		h = (h ^ 0xff) * 16777619u;
	}
	return h;
}

static void table_init(struct table *t)
{
	memset(t, 0, sizeof(*t));
	for (int i = 0; i < HASH_SLOTS; i++)
		t->head[i] = -1;
}

static void table_clear(struct table *t)
{
	for (int i = 0; i < t->n; i++)
		for (int j = 0; j < NLABELS; j++)
			free(t->s[i].v[j]);
	free(t->s);
	table_init(t);
}

/*
 * The series of label values V (N of them), added if new (and ADD);
 * NULL when out of memory or not found.
 */
static struct series *table_find(struct table *t, const char *const *v, int n, bool add)
{
	uint32_t h = key_hash(v, n) & (HASH_SLOTS - 1);
	struct series *s;
	int i, j;

	for (i = t->head[h]; i >= 0; i = t->s[i].next) {
		for (j = 0; j < n; j++)
			if (strcmp(t->s[i].v[j], v[j] ? v[j] : ""))
				break;
		if (j == n)
			return &t->s[i];
	}
	if (!add)
		return NULL;
	if (t->n == t->cap) {
		int cap = t->cap ? t->cap * 2 : 64;
		void *ns = realloc(t->s, (size_t)cap * sizeof(*t->s));

		if (!ns)
			return NULL;
		t->s = ns;
		t->cap = cap;
	}
	s = &t->s[t->n];
	memset(s, 0, sizeof(*s));
	for (j = 0; j < n; j++) {
		if (!(s->v[j] = strdup(v[j] ? v[j] : ""))) {
			while (j--)
				free(s->v[j]);
			return NULL;
		}
	}
	s->next = t->head[h];
	t->head[h] = t->n;
	return &t->s[t->n++];
}

static struct series *table_get(struct table *t, const char *const *v, int n)
{
	const char *other[NLABELS] = { v[0], "", "[other]", "", "", "" };
	struct series *s = table_find(t, v, n, t->n < MAX_SERIES);

	if (s || t->n < MAX_SERIES)
		return s;
	return table_find(t, other, n, true);  /* the component stays: it is no URL's */
}

void promserve__request(struct promserve *ps, const struct request_rec *rec)
{
	const char *v[] = { rec->component, rec->verb, rec->resource, rec->subresource, rec->scope };
	uint64_t ns = rec->latency_ns > 0 ? (uint64_t)rec->latency_ns : 0;
	struct series *s;

	if (!ps)
		return;
	pthread_mutex_lock(&ps->mu);
	if ((s = table_get(&ps->calls, v, 5))) {
		s->count++;
		s->sum_ns += ns;
		int lo = 0, hi = PROMSERVE_NBUCKETS;

		/* the first bound >= ns (le is inclusive: a call of exactly 1 s is in le="1") */
		while (lo < hi) {
			int mid = (lo + hi) / 2;

			if (ps->bound_ns[mid] >= ns)
				hi = mid;
			else
				lo = mid + 1;
		}
		if (lo < PROMSERVE_NBUCKETS)
			s->buckets[lo]++;
	}
	pthread_mutex_unlock(&ps->mu);
}

void promserve__counts(struct promserve *ps, uint64_t lost, uint64_t unmatched, uint64_t lost_samples)
{
	if (!ps)
		return;
	pthread_mutex_lock(&ps->mu);
	ps->lost = lost;
	ps->unmatched = unmatched;
	ps->lost_samples = lost_samples;
	pthread_mutex_unlock(&ps->mu);
}

void promserve__target(struct promserve *ps, int pid, const char *component, bool attached)
{
	int i;

	if (!ps)
		return;
	pthread_mutex_lock(&ps->mu);
	for (i = 0; i < ps->ntargets && ps->targets[i].pid != pid; i++)
		;
	if (i < (int)(sizeof(ps->targets) / sizeof(ps->targets[0]))) {
		if (i == ps->ntargets)
			ps->ntargets++;
		ps->targets[i].pid = pid;
		snprintf(ps->targets[i].component, sizeof(ps->targets[i].component), "%s",
			 component ? component : "");
		ps->targets[i].attached = attached;
	}
	pthread_mutex_unlock(&ps->mu);
}

void promserve__cpu_begin(struct promserve *ps)
{
	pthread_mutex_lock(&ps->mu);
	table_clear(&ps->cpu);
}

void promserve__cpu_add(void *ctx, const char *component, const char *category, const char *verb,
			const char *resource, const char *subresource, const char *scope,
			uint64_t samples, uint64_t cpu_ns)
{
	struct promserve *ps = ctx;
	const char *v[] = { component, category, verb, resource, subresource, scope };
	struct series *s = table_get(&ps->cpu, v, NLABELS);

	if (s) {
		s->count += samples;
		s->sum_ns += cpu_ns;
	}
}

void promserve__cpu_end(struct promserve *ps)
{
	pthread_mutex_unlock(&ps->mu);
}

/* ---- the exposition format ----------------------------------------------- */

/* A label value, escaped as the text format asks: backslash, quote, newline. */
static void put_value(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fputc('\\', f);
		if (*s == '\n') {
			fputs("\\n", f);
			continue;
		}
		fputc(*s, f);
	}
}

static void put_labels(FILE *f, const char *const *names, const struct series *s, int n)
{
	for (int i = 0; i < n; i++) {
		fprintf(f, "%s%s=\"", i ? "," : "", names[i]);
		put_value(f, s->v[i]);
		fputc('"', f);
	}
}

static void render(struct promserve *ps, FILE *f)
{
	static const char *const call_names[] = { "component", "verb", "resource", "subresource", "scope" };
	static const char *const cpu_names[] = { "component", "category", "verb", "resource",
						 "subresource", "scope" };
	int i, b;

	fputs("# HELP cpprof_run_info The run being recorded.\n# TYPE cpprof_run_info gauge\n", f);
	fputs("cpprof_run_info{label=\"", f);
	put_value(f, ps->label);
	fputs("\",kind=\"", f);
	put_value(f, ps->kind);
	fputs("\"} 1\n", f);

	fputs("# HELP cpprof_request_duration_seconds Server-side latency of the calls cpprof stored, "
	      "with the buckets of apiserver_request_duration_seconds.\n"
	      "# TYPE cpprof_request_duration_seconds histogram\n", f);
	for (i = 0; i < ps->calls.n; i++) {
		const struct series *s = &ps->calls.s[i];
		uint64_t cum = 0;

		for (b = 0; b < PROMSERVE_NBUCKETS; b++) {
			cum += s->buckets[b];
			fputs("cpprof_request_duration_seconds_bucket{", f);
			put_labels(f, call_names, s, 5);
			fprintf(f, ",le=\"%g\"} %llu\n", promserve_buckets[b], (unsigned long long)cum);
		}
		fputs("cpprof_request_duration_seconds_bucket{", f);
		put_labels(f, call_names, s, 5);
		fprintf(f, ",le=\"+Inf\"} %llu\n", (unsigned long long)s->count);
		fputs("cpprof_request_duration_seconds_sum{", f);
		put_labels(f, call_names, s, 5);
		fprintf(f, "} %.9f\n", s->sum_ns / 1e9);
		fputs("cpprof_request_duration_seconds_count{", f);
		put_labels(f, call_names, s, 5);
		fprintf(f, "} %llu\n", (unsigned long long)s->count);
	}

	fputs("# HELP cpprof_cpu_samples_total CPU samples of the targets by category and the call "
	      "they worked for (once it ended).\n# TYPE cpprof_cpu_samples_total counter\n", f);
	for (i = 0; i < ps->cpu.n; i++) {
		fputs("cpprof_cpu_samples_total{", f);
		put_labels(f, cpu_names, &ps->cpu.s[i], NLABELS);
		fprintf(f, "} %llu\n", (unsigned long long)ps->cpu.s[i].count);
	}
	fputs("# HELP cpprof_cpu_seconds_total CPU time the samples stand for.\n"
	      "# TYPE cpprof_cpu_seconds_total counter\n", f);
	for (i = 0; i < ps->cpu.n; i++) {
		fputs("cpprof_cpu_seconds_total{", f);
		put_labels(f, cpu_names, &ps->cpu.s[i], NLABELS);
		fprintf(f, "} %.9f\n", ps->cpu.s[i].sum_ns / 1e9);
	}

	fprintf(f, "# HELP cpprof_events_lost_total Events dropped: ring buffer or in-flight table full.\n"
		"# TYPE cpprof_events_lost_total counter\ncpprof_events_lost_total %llu\n"
		"# HELP cpprof_events_unmatched_total Events that could not be joined to a call or a target.\n"
		"# TYPE cpprof_events_unmatched_total counter\ncpprof_events_unmatched_total %llu\n"
		"# HELP cpprof_cpu_samples_lost_total CPU samples dropped.\n"
		"# TYPE cpprof_cpu_samples_lost_total counter\ncpprof_cpu_samples_lost_total %llu\n",
		(unsigned long long)ps->lost, (unsigned long long)ps->unmatched,
		(unsigned long long)ps->lost_samples);

	fputs("# HELP cpprof_target_attached Whether cpprof traces the process (1) or no longer (0).\n"
	      "# TYPE cpprof_target_attached gauge\n", f);
	for (i = 0; i < ps->ntargets; i++) {
		fprintf(f, "cpprof_target_attached{pid=\"%d\",component=\"", ps->targets[i].pid);
		put_value(f, ps->targets[i].component);
		fprintf(f, "\"} %d\n", ps->targets[i].attached);
	}
}

/* ---- the server ---------------------------------------------------------- */

static void write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;  /* the scraper went away: nothing to tell anyone */
		p += w;
		n -= (size_t)w;
	}
}

static void respond(int fd, const char *status, const char *type, const char *body, size_t len)
{
	char head[256];
	int n = snprintf(head, sizeof(head), "HTTP/1.1 %s\r\nContent-Type: %s\r\n"
			 "Content-Length: %zu\r\nConnection: close\r\n\r\n", status, type, len);

	write_all(fd, head, (size_t)n);
	write_all(fd, body, len);
}

/*
 * What the request line at the start of REQ (LEN bytes, any bytes) asks
 * for: "GET /metrics HTTP/1.1", with a query or not; HEAD the same.
 */
int promserve__route(const char *req, size_t len)
{
	static const char path[] = "/metrics";
	size_t m, pl = sizeof(path) - 1;
	int route;

	if (len >= 4 && !memcmp(req, "GET ", 4)) {
		route = PROMSERVE_GET;
		m = 4;
	} else if (len >= 5 && !memcmp(req, "HEAD ", 5)) {
		route = PROMSERVE_HEAD;
		m = 5;
	} else {
		return PROMSERVE_BAD_METHOD;
	}
	if (len < m + pl + 1 || memcmp(req + m, path, pl) ||
	    (req[m + pl] != ' ' && req[m + pl] != '?'))
		return PROMSERVE_NOT_FOUND;
	return route;
}

static void serve_one(struct promserve *ps, int fd)
{
	struct timeval tv = { .tv_sec = 2 };
	char req[8192], *body = NULL;
	size_t n = 0, len = 0;
	int route;
	FILE *f;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	tv.tv_sec = 5;
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	/* the request line and headers; a scrape has no body */
	while (n < sizeof(req) - 1) {
		ssize_t r = recv(fd, req + n, sizeof(req) - 1 - n, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
		req[n] = '\0';
		if (strstr(req, "\r\n\r\n") || strstr(req, "\n\n"))
			break;
	}
	req[n] = '\0';
	route = promserve__route(req, n);
	if (route == PROMSERVE_BAD_METHOD) {
		respond(fd, "405 Method Not Allowed", "text/plain", "GET /metrics\n", 13);
		return;
	}
	if (route == PROMSERVE_NOT_FOUND) {
		respond(fd, "404 Not Found", "text/plain", "cpprof serves /metrics\n", 23);
		return;
	}
	if (!(f = open_memstream(&body, &len))) {
		respond(fd, "500 Internal Server Error", "text/plain", "out of memory\n", 14);
		return;
	}
	pthread_mutex_lock(&ps->mu);
	render(ps, f);
	pthread_mutex_unlock(&ps->mu);
	if (fclose(f)) {
		respond(fd, "500 Internal Server Error", "text/plain", "out of memory\n", 14);
	} else {
		respond(fd, "200 OK", "text/plain; version=0.0.4; charset=utf-8",
			route == PROMSERVE_HEAD ? "" : body, route == PROMSERVE_HEAD ? 0 : len);
	}
	free(body);
}

static void *server(void *arg)
{
	struct promserve *ps = arg;

	for (;;) {
		struct pollfd p[2] = { { .fd = ps->lfd, .events = POLLIN },
				       { .fd = ps->stop[0], .events = POLLIN } };
		int fd;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents)
			break;
		if (!(p[0].revents & POLLIN))
			continue;
		fd = accept4(ps->lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		serve_one(ps, fd);
		close(fd);
	}
	return NULL;
}

int promserve__parse_addr(const char *addr, char *host, size_t n, char *port, size_t pn)
{
	const char *colon = strrchr(addr, ':');
	const char *p = colon ? colon + 1 : addr;
	char *end;
	long v;
	size_t hl = colon ? (size_t)(colon - addr) : 0;

	v = strtol(p, &end, 10);
	if (!*p || *end || v < 0 || v > 65535) {
		cp_seterr("invalid --listen '%s': expected [HOST]:PORT, e.g. 127.0.0.1:9464", addr);
		return -EINVAL;
	}
	snprintf(port, pn, "%ld", v);
	if (hl >= 2 && addr[0] == '[' && addr[hl - 1] == ']') {
		addr++;
		hl -= 2;
	}
	if (hl >= n) {
		cp_seterr("invalid --listen '%s': host too long", addr);
		return -EINVAL;
	}
	/* no host (PORT, :PORT): loopback; every interface only when named */
	if (hl)
		snprintf(host, n, "%.*s", (int)hl, addr);
	else
		snprintf(host, n, "127.0.0.1");
	return 0;
}

struct promserve *promserve__open(const char *addr, const char *label, const char *kind, int *err)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *ai = NULL;
	struct sockaddr_storage sa;
	socklen_t sl = sizeof(sa);
	struct promserve *ps;
	char host[256], port[8];
	int rc, one = 1;

	if ((*err = promserve__parse_addr(addr, host, sizeof(host), port, sizeof(port))))
		return NULL;
	if (!(ps = calloc(1, sizeof(*ps)))) {
		cp_seterr("out of memory");
		*err = -ENOMEM;
		return NULL;
	}
	ps->lfd = ps->stop[0] = ps->stop[1] = -1;
	pthread_mutex_init(&ps->mu, NULL);
	table_init(&ps->calls);
	table_init(&ps->cpu);
	for (int i = 0; i < PROMSERVE_NBUCKETS; i++)
		ps->bound_ns[i] = (uint64_t)llround(promserve_buckets[i] * 1e9);
	if (!(ps->label = strdup(label ? label : "")) || !(ps->kind = strdup(kind ? kind : ""))) {
		cp_seterr("out of memory");
		*err = -ENOMEM;
		goto fail;
	}
	if ((rc = getaddrinfo(host, port, &hints, &ai))) {
		cp_seterr("cannot listen on '%s': %s", addr, gai_strerror(rc));
		*err = -EINVAL;
		goto fail;
	}
	ps->lfd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (ps->lfd < 0 ||
	    setsockopt(ps->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(ps->lfd, ai->ai_addr, ai->ai_addrlen) || listen(ps->lfd, 16) ||
	    getsockname(ps->lfd, (struct sockaddr *)&sa, &sl)) {
		*err = -errno;
		cp_seterr("cannot listen on '%s': %s", addr, strerror(errno));
		goto fail;
	}
	ps->port = ntohs(sa.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&sa)->sin6_port
						  : ((struct sockaddr_in *)&sa)->sin_port);
	if (pipe2(ps->stop, O_CLOEXEC)) {
		*err = -errno;
		cp_seterr("cannot make a pipe: %s", strerror(errno));
		goto fail;
	}
	if ((rc = pthread_create(&ps->thread, NULL, server, ps))) {
		*err = -rc;
		cp_seterr("cannot start the metrics server: %s", strerror(rc));
		goto fail;
	}
	ps->started = true;
	freeaddrinfo(ai);
	return ps;
fail:
	if (ai)
		freeaddrinfo(ai);
	promserve__close(ps);
	return NULL;
}

int promserve__port(const struct promserve *ps)
{
	return ps->port;
}

void promserve__close(struct promserve *ps)
{
	if (!ps)
		return;
	if (ps->started) {
		if (write(ps->stop[1], "x", 1) < 0)
			pthread_cancel(ps->thread);
		pthread_join(ps->thread, NULL);
	}
	if (ps->lfd >= 0)
		close(ps->lfd);
	if (ps->stop[0] >= 0)
		close(ps->stop[0]);
	if (ps->stop[1] >= 0)
		close(ps->stop[1]);
	table_clear(&ps->calls);
	table_clear(&ps->cpu);
	pthread_mutex_destroy(&ps->mu);
	free(ps->label);
	free(ps->kind);
	free(ps);
}
