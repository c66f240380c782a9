// SPDX-License-Identifier: MIT
/*
 * Unit tests of hollowload's parsers and helpers: the watch stream
 * framer (JSON split at any byte, protobuf frames), the JSON path reader,
 * the protobuf encoder/decoder round trip, nearest-rank percentiles and
 * the timer heap.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "json.h"
#include "pb.h"
#include "sched.h"
#include "stats.h"
#include "watch.h"


struct got {
	int n;
	struct watch_event ev[8];
};

static void on_event(const struct watch_event *ev, void *arg)
{
	struct got *g = arg;

	if (g->n < 8)
		g->ev[g->n] = *ev;
	g->n++;
}

static const char STREAM[] =
	"{\"type\":\"ADDED\",\"object\":{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p-1\",\"namespace\":\"ns\","
	"\"resourceVersion\":\"17\",\"annotations\":{\"x\":\"}{\\\"\"}},\"spec\":{\"nodeName\":\"n1\"},"
	"\"status\":{\"phase\":\"Pending\"}}}\n"
	"{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{\"name\":\"p-1\",\"namespace\":\"ns\",\"resourceVersion\":\"18\"},"
	"\"status\":{\"phase\":\"Running\"}}}\n"
	"{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"status\":\"Failure\",\"code\":410}}\n";

static void test_watch_json(void)
{
	/* split the stream at every position: same three events */
	for (size_t cut = 0; cut <= sizeof(STREAM) - 1; cut++) {
		struct watch_parser p;
		struct got g = { 0 };
		int r1, r2;

		watch__init(&p, 0);
		r1 = watch__feed(&p, STREAM, cut, on_event, &g);
		r2 = watch__feed(&p, STREAM + cut, sizeof(STREAM) - 1 - cut, on_event, &g);
		if (r1 || r2 || g.n != 3) {
			CHECK(0, "cut %zu: r1 %d r2 %d events %d", cut, r1, r2, g.n);
			watch__free(&p);
			return;
		}
		watch__free(&p);
		if (cut == 7) {
			CHECK_STR(g.ev[0].type, "ADDED");
			CHECK_STR(g.ev[0].obj.name, "p-1");
			CHECK_STR(g.ev[0].obj.namespace, "ns");
			CHECK_STR(g.ev[0].obj.rv, "17");
			CHECK_STR(g.ev[0].obj.node, "n1");
			CHECK_STR(g.ev[0].obj.phase, "Pending");
			CHECK_STR(g.ev[1].type, "MODIFIED");
			CHECK_STR(g.ev[1].obj.phase, "Running");
			CHECK_STR(g.ev[2].type, "ERROR");
			CHECK_INT(g.ev[2].obj.code, 410);
			CHECK_STR(g.ev[2].obj.phase, "");
		}
	}
	CHECK(1, "all cuts");
	{
		struct watch_parser p;
		struct got g = { 0 };

		watch__init(&p, 0);
		CHECK(watch__feed(&p, "[1,2]", 5, on_event, &g) < 0, "a non-object is an error");
		watch__free(&p);
		watch__init(&p, 0);
		CHECK(watch__feed(&p, "{\"type\":\"ADDED\"}", 16, on_event, &g) < 0, "no object: error");
		watch__free(&p);
	}
}

static size_t frame(char *out, const struct pbuf *ev)
{
	out[0] = (char)(ev->len >> 24);
	out[1] = (char)(ev->len >> 16);
	out[2] = (char)(ev->len >> 8);
	out[3] = (char)ev->len;
	memcpy(out + 4, ev->p, ev->len);
	return 4 + ev->len;
}

static void test_watch_pb(void)
{
	struct hl_pod_spec ps = { .name = "pod-7", .namespace = "d-1", .node = "node-3", .run = "abc" };
	struct pbuf pod = { 0 }, raw = { 0 }, ev = { 0 }, wrapped = { 0 };
	struct watch_parser p;
	struct got g = { 0 };
	char buf[4096];
	size_t n = 0;

	CHECK_INT(pb_pod(&pod, &ps), 0);
	CHECK(pod.len > 4 && !memcmp(pod.p, "k8s", 4), "magic");
	pb_bytes(&raw, 1, pod.p, pod.len);          /* RawExtension.raw */
	pb_str(&ev, 1, "ADDED");
	pb_msg(&ev, 2, &raw);
	n += frame(buf + n, &ev);
	/* the same event "k8s\0"+Unknown-wrapped, as some servers frame it */
	{
		struct pbuf unk = { 0 };

		pb_msg(&unk, 2, &ev);
		wrapped.len = 0;
		pb_varint(&wrapped, 0);   /* placeholder, replaced below */
		wrapped.len = 0;
		memcpy(buf + n + 4, "k8s", 4);
		memcpy(buf + n + 8, unk.p, unk.len);
		buf[n] = 0;
		buf[n + 1] = 0;
		buf[n + 2] = (char)((unk.len + 4) >> 8);
		buf[n + 3] = (char)(unk.len + 4);
		n += 8 + unk.len;
		pb_free(&unk);
	}
	watch__init(&p, 1);
	for (size_t i = 0; i < n; i++)   /* byte by byte */
		CHECK_INT(watch__feed(&p, buf + i, 1, on_event, &g), 0);
	watch__free(&p);
	CHECK_INT(g.n, 2);
	CHECK_STR(g.ev[0].type, "ADDED");
	CHECK_STR(g.ev[0].obj.name, "pod-7");
	CHECK_STR(g.ev[0].obj.namespace, "d-1");
	CHECK_STR(g.ev[0].obj.node, "node-3");
	CHECK_STR(g.ev[1].obj.name, "pod-7");
	{
		char big[4] = { 0x7f, 0, 0, 0 };

		watch__init(&p, 1);
		CHECK(watch__feed(&p, big, 4, on_event, &g) < 0, "oversized frame is an error");
		watch__free(&p);
	}
	pb_free(&pod);
	pb_free(&raw);
	pb_free(&ev);
	pb_free(&wrapped);
}

static void test_pb(void)
{
	struct pbuf b = { 0 };
	const uint8_t *raw;
	size_t len;
	struct hl_obj o;

	CHECK_INT(pb_lease(&b, "node-1", "node-1", "42", 1700000000, 5000, 40), 0);
	CHECK_INT(pb_unwrap(b.p, b.len, &raw, &len), 0);
	memset(&o, 0, sizeof(o));
	CHECK_INT(pb_object(raw, len, 0, &o), 0);
	CHECK_STR(o.name, "node-1");
	CHECK_STR(o.namespace, "kube-node-lease");
	CHECK_STR(o.rv, "42");
	pb_free(&b);
	/* varint edge: 300 = ac 02 */
	pb_varint(&b, 300);
	CHECK(b.len == 2 && b.p[0] == 0xac && b.p[1] == 0x02, "varint 300");
	pb_free(&b);
	{
		const uint8_t bad[] = { 0x0a, 0x05, 'a' };   /* length past the end */
		const uint8_t *p = bad;
		struct pb_field f;

		CHECK_INT(pb_next(&p, bad + sizeof(bad), &f), -1);
	}
	{
		/* a ListMeta resourceVersion: PodList{1: ListMeta{2: "99"}} */
		const uint8_t list[] = { 0x0a, 0x04, 0x12, 0x02, '9', '9' };

		memset(&o, 0, sizeof(o));
		CHECK_INT(pb_object(list, sizeof(list), 1, &o), 0);
		CHECK_STR(o.rv, "99");
	}
}

/*
 * The bookmark that ends a watch-list's initial events (client-go
 * reflector.go watchHandler): metadata.annotations
 * "k8s.io/initial-events-end": "true"; any other annotation, or "false",
 * is an ordinary bookmark.
 */
static void test_initial_end(void)
{
	struct watch_event ev;
	const char *yes = "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"Pod\",\"metadata\":{\"resourceVersion\":\"12\","
			  "\"annotations\":{\"a\":\"k8s.io/initial-events-end\",\"k8s.io/initial-events-end\" : \"true\"}}}}";
	const char *no = "{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{\"resourceVersion\":\"13\","
			 "\"annotations\":{\"x\":\"k8s.io/initial-events-end\",\"k8s.io/initial-events-end\":\"false\"}}}}";
	const char *plain = "{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{\"resourceVersion\":\"14\"}}}";
	/* Pod{1: ObjectMeta{6: "12", 12: {1: key, 2: value}}} */
	uint8_t pb[80], *q = pb;
	static const char key[] = "k8s.io/initial-events-end";
	const size_t klen = sizeof(key) - 1;
	struct hl_obj o;

	memset(&ev, 0, sizeof(ev));
	CHECK_INT(watch__event(0, yes, strlen(yes), &ev), 0);
	CHECK(ev.obj.initial_end == 1 && !strcmp(ev.obj.rv, "12") && !strcmp(ev.type, "BOOKMARK"),
	      "JSON: the initial-events-end bookmark");
	memset(&ev, 0, sizeof(ev));
	CHECK_INT(watch__event(0, no, strlen(no), &ev), 0);
	CHECK(ev.obj.initial_end == 0, "JSON: \"false\" (and the key as a value) is no end");
	memset(&ev, 0, sizeof(ev));
	CHECK_INT(watch__event(0, plain, strlen(plain), &ev), 0);
	CHECK(ev.obj.initial_end == 0 && !strcmp(ev.obj.rv, "14"), "JSON: a bookmark without annotations");

	for (int val = 0; val < 2; val++) {
		const char *v = val ? "true" : "false";
		size_t vlen = strlen(v), entry = 2 + klen + 2 + vlen, meta = 4 + 2 + entry;

		q = pb;
		*q++ = 0x0a; *q++ = (uint8_t)meta;                   /* Pod.metadata */
		*q++ = 0x32; *q++ = 2; *q++ = '1'; *q++ = '2';       /* resourceVersion */
		*q++ = 0x62; *q++ = (uint8_t)entry;                  /* annotations entry */
		*q++ = 0x0a; *q++ = (uint8_t)klen; memcpy(q, key, klen); q += klen;
		*q++ = 0x12; *q++ = (uint8_t)vlen; memcpy(q, v, vlen); q += vlen;
		memset(&o, 0, sizeof(o));
		CHECK_INT(pb_object(pb, (size_t)(q - pb), 0, &o), 0);
		CHECK(o.initial_end == val && !strcmp(o.rv, "12"),
		      val ? "protobuf: the initial-events-end bookmark" : "protobuf: \"false\" is no end");
	}
}

static void test_json(void)
{
	const char *doc = "{\"a\": {\"b\": [1, {\"c\": 2}], \"d\": \"x\\\"y\"}, \"metadata\": {\"resourceVersion\": \"5\"},"
			  " \"items\": [{\"metadata\": {\"resourceVersion\": \"3\"}}]}";
	char out[32];

	CHECK_INT(json_get_str(doc, strlen(doc), "metadata.resourceVersion", out, sizeof(out)), 1);
	CHECK_STR(out, "5");
	CHECK_INT(json_get_str(doc, strlen(doc), "a.d", out, sizeof(out)), 1);
	CHECK_STR(out, "x?y");
	CHECK_INT(json_get_str(doc, strlen(doc), "a.e", out, sizeof(out)), 0);
	CHECK_INT(json_get_str(doc, strlen(doc), "a.b.c", out, sizeof(out)), 0);
	CHECK_INT(json_get_str("{\"a\":", 5, "a", out, sizeof(out)), -1);
	CHECK(json_skip("[[[[", "[[[[" + 4, 0) == NULL, "unterminated");
}

static void test_stats(void)
{
	struct stats s = { 0 };
	struct samples sm = { 0 };

	for (int i = 100; i >= 1; i--)
		samples__add(&sm, i);
	CHECK(samples__pct(&sm, 50) == 50, "p50 %f", samples__pct(&sm, 50));
	CHECK(samples__pct(&sm, 90) == 90, "p90");
	CHECK(samples__pct(&sm, 99) == 99, "p99");
	CHECK(samples__pct(&sm, 100) == 100, "p100");
	free(sm.v);
	memset(&sm, 0, sizeof(sm));
	samples__add(&sm, 7);
	CHECK(samples__pct(&sm, 1) == 7 && samples__pct(&sm, 99) == 7, "one sample");
	free(sm.v);
	stats__record(&s, "get", "pods", "", 1.0, 200, ERR_NONE);
	stats__record(&s, "get", "pods", "", 2.0, 429, ERR_HTTP_429);
	stats__record(&s, "get", "pods", "", -1, 0, ERR_CONNECT);
	stats__record(&s, "patch", "nodes", "status", 3.0, 200, ERR_NONE);
	CHECK_INT(s.nkeys, 2);
	CHECK_INT(s.keys[0].count, 3);
	CHECK_INT(s.keys[0].responses, 2);
	CHECK_INT(s.keys[0].errors, 2);
	CHECK_INT(s.keys[0].err[ERR_CONNECT], 1);
	CHECK_INT(s.ok, 2);
	CHECK_INT(hl_err_of_status(503), ERR_HTTP_5XX);
	CHECK_INT(hl_err_of_status(418), ERR_HTTP_4XX);
	CHECK_INT(hl_err_of_status(201), ERR_NONE);
	stats__free(&s);
}

static int fired[8], nfired;

static void fire(struct hl_timer *t)
{
	fired[nfired++ % 8] = (int)t->due;
}

static void test_sched(void)
{
	struct sched s = { 0 };
	struct hl_timer t[6];
	int due[6] = { 5, 1, 4, 2, 6, 3 };

	for (int i = 0; i < 6; i++) {
		memset(&t[i], 0, sizeof(t[i]));
		t[i].fn = fire;
		sched__add(&s, &t[i], due[i]);
	}
	sched__del(&s, &t[2]);             /* 4 */
	sched__add(&s, &t[4], 0);          /* 6 -> 0 */
	CHECK(sched__next(&s) == 0, "next");
	CHECK_INT(sched__run(&s, 3), 4);
	CHECK(fired[0] == 0 && fired[1] == 1 && fired[2] == 2 && fired[3] == 3, "order %d %d %d %d",
	      fired[0], fired[1], fired[2], fired[3]);
	CHECK_INT(sched__run(&s, 100), 1);
	CHECK(sched__next(&s) == -1, "empty");
	sched__free(&s);
}

int main(void)
{
	test_watch_json();
	test_watch_pb();
	test_pb();
	test_json();
	test_initial_end();
	test_stats();
	test_sched();
	return check_summary("test_hollowload_parse");
}
