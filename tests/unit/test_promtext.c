// SPDX-License-Identifier: MIT
/*
 * Unit tests of promtext.c (Prometheus text format) and of cluster.c's
 * reading of kube-apiserver's object counts: labels with escapes,
 * special values, timestamps, comments, CRLF, and malformed lines that
 * must be refused with their line number.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "cluster.h"
#include "log.h"
#include "promtext.h"

struct seen {
	int n;
	char names[16][64];
	double values[16];
	char labels[16][128];
	long long ts[16];
};

static int collect(void *ctx, const struct prom_sample *s)
{
	struct seen *z = ctx;
	size_t off = 0;

	if (z->n >= 16)
		return 0;
	snprintf(z->names[z->n], sizeof(z->names[0]), "%s", s->name);
	z->values[z->n] = s->value;
	z->ts[z->n] = s->timestamp_ms;
	z->labels[z->n][0] = 0;
	for (int i = 0; i < s->nlabels; i++)
		off += snprintf(z->labels[z->n] + off, sizeof(z->labels[0]) - off, "%s%s=%s",
				i ? "," : "", s->labels[i].name, s->labels[i].value);
	z->n++;
	return 0;
}

static void test_parse(void)
{
	static const char text[] =
		"# HELP apiserver_storage_objects Number of stored objects\n"
		"# TYPE apiserver_storage_objects gauge\n"
		"apiserver_storage_objects{resource=\"pods\"} 60000\n"
		"  apiserver_storage_objects{resource=\"nodes\",} 2000 1700000000000\r\n"
		"\n"
		"weird{a=\"x\\\"y\\\\z\\nw\", b = \"\"} -1.5e3\n"
		"up 1\n"
		"inf_metric +Inf\n"
		"nan_metric NaN\n";
	struct seen z = {};

	CHECK_INT(promtext__parse(text, sizeof(text) - 1, collect, &z), 0);
	CHECK_INT(z.n, 6);
	CHECK_STR(z.names[0], "apiserver_storage_objects");
	CHECK_STR(z.labels[0], "resource=pods");
	CHECK(z.values[0] == 60000, "value %g", z.values[0]);
	CHECK_STR(z.labels[1], "resource=nodes");
	CHECK_INT(z.ts[1], 1700000000000LL);
	CHECK_STR(z.labels[2], "a=x\"y\\z\nw,b=");
	CHECK(z.values[2] == -1500, "value %g", z.values[2]);
	CHECK_STR(z.names[3], "up");
	CHECK(isinf(z.values[4]) && z.values[4] > 0, "+Inf");
	CHECK(isnan(z.values[5]), "NaN");
}

static void test_bad(void)
{
	static const char *const bad[] = {
		"1metric 1\n", "m{a=\"x} 1\n", "m{a=x} 1\n", "m{a=\"x\" b=\"y\"} 1\n", "m\n",
		"m abc\n", "m 1 2 3\n", "m{=\"x\"} 1\n", "m{a=\"\\q\"} 1\n", "m-x 1\n",
	};
	struct seen z = {};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char two[64];

		snprintf(two, sizeof(two), "ok 1\n%s", bad[i]);
		CHECK(promtext__parse(two, strlen(two), collect, &z) == -EINVAL, "refused: %s", bad[i]);
		CHECK(strncmp(cp_lasterr(), "line 2:", 7) == 0, "names the line: %s", cp_lasterr());
	}
	/* a NUL inside a line is refused, not read as the end of the text */
	CHECK(promtext__parse("m 1\0 2\n", 7, collect, &z) == -EINVAL, "NUL refused");
}

static void test_cluster(void)
{
	static const char kas[] =
		"apiserver_storage_objects{resource=\"pods\"} 60000\n"
		"apiserver_storage_objects{resource=\"nodes\"} 2000\n"
		"apiserver_storage_objects{resource=\"namespaces\"} 8\n"
		"apiserver_storage_objects{resource=\"pods.metrics.k8s.io\"} 5\n"
		"etcd_object_counts{resource=\"pods\"} 59999\n";
	static const char old[] = "etcd_object_counts{resource=\"nodes\"} 100\n";
	struct cluster_size cs;

	CHECK_INT(cluster__from_metrics(kas, sizeof(kas) - 1, &cs), 0);
	CHECK_INT(cs.pods, 60000);
	CHECK_INT(cs.nodes, 2000);
	CHECK_INT(cs.namespaces, 8);
	CHECK_STR(cs.source, "apiserver");
	CHECK_INT(cluster__from_metrics(old, sizeof(old) - 1, &cs), 0);
	CHECK_INT(cs.nodes, 100);
	CHECK_INT(cs.pods, -1);
	CHECK_INT(cluster__from_metrics("up 1\n", 5, &cs), -ENOENT);
	CHECK(strstr(cp_lasterr(), "apiserver_storage_objects") != NULL, "%s", cp_lasterr());
	CHECK_INT(cluster__from_metrics("<html>\n", 7, &cs), -EINVAL);
	CHECK(strstr(cp_lasterr(), "not Prometheus text") != NULL, "%s", cp_lasterr());
}

static void test_unreachable(void)
{
	struct cluster_opts o = { .url = "http://127.0.0.1:1", .timeout_ms = 2000 };
	struct cluster_size cs;

	CHECK(cluster__from_apiserver(&o, &cs) < 0, "port 1 is unreachable");
	CHECK(strstr(cp_lasterr(), "127.0.0.1:1/metrics") != NULL, "names the URL: %s", cp_lasterr());
	o.url = "http://127.0.0.1:1";
	o.token_file = "/nonexistent/token";
	CHECK(cluster__from_apiserver(&o, &cs) < 0 && strstr(cp_lasterr(), "token file"),
	      "a missing token file is named: %s", cp_lasterr());
}

int main(void)
{
	test_parse();
	test_bad();
	test_cluster();
	test_unreachable();
	return check_summary("test_promtext");
}
