// SPDX-License-Identifier: MIT
/*
 * Unit tests of promserve.c, the endpoint of `cpprof record --listen`,
 * over a real loopback socket: --listen's address forms (loopback unless
 * a host is named), the request router, and a scrape after a few stored
 * calls read back through cpprof's own parser (promtext.c): bucket
 * bounds, cumulative counts, +Inf == _count, sums, escaped labels, CPU
 * counters replaced wholesale, counters and targets.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "log.h"
#include "promserve.h"
#include "promtext.h"
#include "store.h"

static void test_addr(void)
{
	char host[64], port[8];

	CHECK_INT(promserve__parse_addr("9464", host, sizeof(host), port, sizeof(port)), 0);
	CHECK_STR(host, "127.0.0.1");
	CHECK_STR(port, "9464");
	CHECK_INT(promserve__parse_addr(":9090", host, sizeof(host), port, sizeof(port)), 0);
	CHECK_STR(host, "127.0.0.1");
	CHECK_INT(promserve__parse_addr("0.0.0.0:0", host, sizeof(host), port, sizeof(port)), 0);
	CHECK_STR(host, "0.0.0.0");
	CHECK_STR(port, "0");
	CHECK_INT(promserve__parse_addr("[::1]:80", host, sizeof(host), port, sizeof(port)), 0);
	CHECK_STR(host, "::1");
	CHECK_INT(promserve__parse_addr("host:", host, sizeof(host), port, sizeof(port)), -EINVAL);
	CHECK(strstr(cp_lasterr(), "invalid --listen 'host:'") != NULL, "%s", cp_lasterr());
	CHECK_INT(promserve__parse_addr("h:70000", host, sizeof(host), port, sizeof(port)), -EINVAL);
	CHECK_INT(promserve__parse_addr("h:-1", host, sizeof(host), port, sizeof(port)), -EINVAL);
	CHECK_INT(promserve__parse_addr("", host, sizeof(host), port, sizeof(port)), -EINVAL);
}

static void test_route(void)
{
	static const struct { const char *req; int want; } cases[] = {
		{ "GET /metrics HTTP/1.1\r\n\r\n", PROMSERVE_GET },
		{ "GET /metrics?x=1 HTTP/1.1\r\n", PROMSERVE_GET },
		{ "HEAD /metrics HTTP/1.0\r\n", PROMSERVE_HEAD },
		{ "GET /metricsx HTTP/1.1\r\n", PROMSERVE_NOT_FOUND },
		{ "GET / HTTP/1.1\r\n", PROMSERVE_NOT_FOUND },
		{ "GET /metrics", PROMSERVE_NOT_FOUND },
		{ "POST /metrics HTTP/1.1\r\n", PROMSERVE_BAD_METHOD },
		{ "", PROMSERVE_BAD_METHOD },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK(promserve__route(cases[i].req, strlen(cases[i].req)) == cases[i].want, "'%s'",
		      cases[i].req);
}

static char *get(int port, const char *req, size_t *len)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	char *buf = malloc(1 << 24);
	size_t n = 0;
	ssize_t r;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || !buf || connect(fd, (void *)&sa, sizeof(sa)) ||
	    write(fd, req, strlen(req)) != (ssize_t)strlen(req)) {
		if (fd >= 0)
			close(fd);
		free(buf);
		return NULL;
	}
	while (n < (1 << 24) - 1 && (r = read(fd, buf + n, (1 << 24) - 1 - n)) > 0)
		n += (size_t)r;
	buf[n] = '\0';
	close(fd);
	*len = n;
	return buf;
}

struct got {
	double count, inf, sum, le1, le0005, cpu, lost, attached;
	int buckets, prev_bad;
	double prev;
	char odd_resource[64];
};

static int collect(void *ctx, const struct prom_sample *s)
{
	struct got *g = ctx;
	const char *verb = promtext__label(s, "verb"), *le = promtext__label(s, "le");

	if (!strcmp(s->name, "cpprof_request_duration_seconds_bucket") && verb && !strcmp(verb, "list")) {
		if (s->value < g->prev)
			g->prev_bad++;
		g->prev = s->value;
		g->buckets++;
		if (!strcmp(le, "+Inf"))
			g->inf = s->value;
		if (!strcmp(le, "1"))
			g->le1 = s->value;
		if (!strcmp(le, "0.005"))
			g->le0005 = s->value;
	}
	if (!strcmp(s->name, "cpprof_request_duration_seconds_count") && verb && !strcmp(verb, "list"))
		g->count = s->value;
	if (!strcmp(s->name, "cpprof_request_duration_seconds_sum") && verb && !strcmp(verb, "list"))
		g->sum = s->value;
	if (!strcmp(s->name, "cpprof_request_duration_seconds_count") && verb && !strcmp(verb, "get"))
		snprintf(g->odd_resource, sizeof(g->odd_resource), "%s", promtext__label(s, "resource"));
	if (!strcmp(s->name, "cpprof_cpu_samples_total"))
		g->cpu += s->value;
	if (!strcmp(s->name, "cpprof_events_lost_total"))
		g->lost = s->value;
	if (!strcmp(s->name, "cpprof_target_attached"))
		g->attached = s->value;
	return 0;
}

static void test_serve(void)
{
	static const long long lat[] = { 1000000, 5000000, 5000001, 999999999, 1000000000, 1000000001,
					 120000000000LL };
	struct promserve *ps;
	struct got g = { 0 };
	size_t len = 0;
	char *body, *text;
	int err, port;

	ps = promserve__open("127.0.0.1:0", "run\"1", "real", &err);
	CHECK(ps != NULL, "open: %s", cp_lasterr());
	if (!ps)
		return;
	port = promserve__port(ps);
	CHECK(port > 0, "port %d", port);
	for (size_t i = 0; i < sizeof(lat) / sizeof(lat[0]); i++)
		promserve__request(ps, &(struct request_rec){ .component = "apiserver", .verb = "list",
			.resource = "pods", .subresource = "", .scope = "namespace", .latency_ns = lat[i] });
	promserve__request(ps, &(struct request_rec){ .component = "apiserver", .verb = "get",
		.resource = "a\"b\\c\nd", .scope = "resource", .latency_ns = 1 });
	promserve__counts(ps, 3, 4, 5);
	promserve__target(ps, 42, "apiserver", true);
	promserve__target(ps, 42, "apiserver", false);
	promserve__cpu_begin(ps);
	promserve__cpu_add(ps, "apiserver", "json_encode", "list", "pods", "", "namespace", 7, 70);
	promserve__cpu_end(ps);
	promserve__cpu_begin(ps);   /* replaced wholesale: not 7 + 9 */
	promserve__cpu_add(ps, "apiserver", "json_encode", "list", "pods", "", "namespace", 9, 90);
	promserve__cpu_end(ps);

	text = get(port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", &len);
	CHECK(text && !strncmp(text, "HTTP/1.1 200 OK\r\n", 17), "%.40s", text ? text : "(none)");
	body = text ? strstr(text, "\r\n\r\n") : NULL;
	if (body) {
		body += 4;
		CHECK_INT(promtext__parse(body, strlen(body), collect, &g), 0);
		CHECK_INT(g.buckets, PROMSERVE_NBUCKETS + 1);
		CHECK_INT(g.prev_bad, 0);
		CHECK_INT(g.count, 7);
		CHECK_INT(g.inf, 7);
		CHECK_INT(g.le0005, 2);   /* le is inclusive: 5 ms counts in 0.005, 5 ms + 1 ns not */
		CHECK_INT(g.le1, 5);      /* 1 s exactly in 1, 1 s + 1 ns not */
		CHECK(fabs(g.sum - 123.011000001) < 1e-6, "sum %.9f", g.sum);
		CHECK_STR(g.odd_resource, "a\"b\\c\nd");
		CHECK_INT(g.cpu, 9);
		CHECK_INT(g.lost, 3);
		CHECK_INT(g.attached, 0);
		CHECK(strstr(body, "cpprof_run_info{label=\"run\\\"1\",kind=\"real\"} 1") != NULL, "run info");
	}
	free(text);
	text = get(port, "GET /other HTTP/1.1\r\n\r\n", &len);
	CHECK(text && !strncmp(text, "HTTP/1.1 404", 12), "%.40s", text ? text : "(none)");
	free(text);
	text = get(port, "DELETE /metrics HTTP/1.1\r\n\r\n", &len);
	CHECK(text && !strncmp(text, "HTTP/1.1 405", 12), "%.40s", text ? text : "(none)");
	free(text);
	text = get(port, "HEAD /metrics HTTP/1.1\r\n\r\n", &len);
	CHECK(text && strstr(text, "\r\n\r\n") && !strstr(text, "\r\n\r\n")[4], "HEAD has no body");
	free(text);
	promserve__close(ps);
	promserve__close(NULL);
	CHECK(promserve__open("127.0.0.1:notaport", "x", "y", &err) == NULL && err == -EINVAL, "bad addr");
}

static int count_other(void *ctx, const struct prom_sample *s)
{
	long *n = ctx;
	const char *r = promtext__label(s, "resource");

	if (!strcmp(s->name, "cpprof_request_duration_seconds_count")) {
		n[0]++;
		if (r && !strcmp(r, "[other]") && !strcmp(promtext__label(s, "component"), "apiserver"))
			n[1] += (long)s->value;
	}
	return 0;
}

/* Resource names come from URLs: past 2000 call kinds, new ones share one series. */
static void test_bounded(void)
{
	struct promserve *ps;
	char res[32], *text, *body;
	long n[2] = { 0, 0 };
	size_t len;
	int err;

	if (!(ps = promserve__open("127.0.0.1:0", "b", "other", &err)))
		return;
	for (int i = 0; i < 2500; i++) {
		snprintf(res, sizeof(res), "r%d", i);
		promserve__request(ps, &(struct request_rec){ .component = "apiserver", .verb = "get",
			.resource = res, .latency_ns = 1 });
	}
	text = get(promserve__port(ps), "GET /metrics HTTP/1.1\r\n\r\n", &len);
	body = text ? strstr(text, "\r\n\r\n") : NULL;
	CHECK(body && promtext__parse(body + 4, strlen(body + 4), count_other, n) == 0, "parse");
	CHECK_INT(n[0], 2001);
	CHECK_INT(n[1], 500);
	free(text);
	promserve__close(ps);
}

int main(void)
{
	test_bounded();
	test_addr();
	test_route();
	test_serve();
	return check_summary("promserve");
}
