// SPDX-License-Identifier: MIT
/*
 * Unit tests of cl2.c: clusterloader2's PerfData as APIResponsivenessPrometheus
 * writes it (labels in Go's sorted map order, Count a string, SlowCount
 * from newer versions), unknown fields skipped, and every kind of bad file
 * refused with a message that says what and where.
 */
#include <errno.h>
#include <string.h>

#include "check.h"
#include "cl2.h"

static int parse(const char *s, struct report_cl2 **c, char *err)
{
	return cl2__parse(s, strlen(s), c, err, 256);
}

static void test_good(void)
{
	static const char doc[] =
		"{\n  \"version\": \"v1\",\n  \"dataItems\": [\n    {\n      \"data\": {\n"
		"        \"Perc50\": 25.1,\n        \"Perc90\": 48.4,\n        \"Perc99\": 98.2\n      },\n"
		"      \"unit\": \"ms\",\n      \"labels\": {\n        \"Count\": \"1611\",\n"
		"        \"Resource\": \"pods\",\n        \"Scope\": \"namespace\",\n"
		"        \"SlowCount\": \"0\",\n        \"Subresource\": \"\",\n        \"Verb\": \"LIST\"\n"
		"      }\n    },\n    {\"data\": {\"Perc99\": 1e1, \"PercX\": [1, {\"a\": null}]},"
		" \"labels\": {\"Verb\": \"POST\", \"Resource\": \"pods\", \"Subresource\": \"b\\u0069nding\","
		" \"Scope\": \"resource\"}, \"extra\": true}\n  ],\n  \"more\": {\"x\": [false]}\n}\n";
	struct report_cl2 *c = NULL;
	char err[256] = "";

	CHECK_INT(parse(doc, &c, err), 0);
	if (!c) {
		fprintf(stderr, "parse failed: %s\n", err);
		return;
	}
	CHECK_STR(c->version, "v1");
	CHECK_INT(c->n, 2);
	CHECK_STR(c->items[0].verb, "LIST");
	CHECK_STR(c->items[0].resource, "pods");
	CHECK_STR(c->items[0].scope, "namespace");
	CHECK_STR(c->items[0].subresource, "");
	CHECK_INT(c->items[0].count, 1611);
	CHECK(c->items[0].p50_ms == 25.1 && c->items[0].p90_ms == 48.4 && c->items[0].p99_ms == 98.2,
	      "%g %g %g", c->items[0].p50_ms, c->items[0].p90_ms, c->items[0].p99_ms);
	CHECK_STR(c->items[1].subresource, "binding");
	CHECK_INT(c->items[1].count, -1);
	CHECK(c->items[1].p50_ms < 0 && c->items[1].p99_ms == 10, "%g %g", c->items[1].p50_ms,
	      c->items[1].p99_ms);
	cl2__match(c, NULL);
	CHECK_STR(c->items[0].cpprof_verb, "list");
	CHECK_STR(c->items[1].cpprof_verb, "create");
	CHECK_INT(c->items[1].cpprof_count, -1);
	cl2__free(c);
}

static void test_bad(void)
{
	static const struct { const char *doc, *want; } bad[] = {
		{ "", "unexpected end of the file" },
		{ "[]", "expected an object at byte 0" },
		{ "{\"version\":\"v1\"}", "no dataItems" },
		{ "{\"version\":\"v2\",\"dataItems\":[]}", "version 'v2'" },
		{ "{\"version\":\"v1\",\"dataItems\":{}}", "dataItems is not an array" },
		{ "{\"version\":\"v1\",\"dataItems\":[{\"labels\":{\"Verb\":\"GET\"}}]}", "has no data" },
		{ "{\"version\":\"v1\",\"dataItems\":[{\"data\":{}}]}", "has no labels.Verb" },
		{ "{\"version\":\"v1\",\"dataItems\":[{\"data\":{\"Perc99\":\"5\"},\"labels\":{\"Verb\":\"GET\"}}]}",
		  "expected a number" },
		{ "{\"version\":\"v1\",\"dataItems\":[{\"data\":{\"Perc99\":-5},\"labels\":{\"Verb\":\"GET\"}}]}",
		  "negative Perc99" },
		{ "{\"version\":\"v1\",\"dataItems\":[{\"data\":{},\"labels\":{\"Verb\":\"GET\",\"Count\":\"x\"}}]}",
		  "Count 'x' is not a count" },
		{ "{\"version\":\"v1\",\"dataItems\":[{\"data\":{},\"unit\":\"s\",\"labels\":{\"Verb\":\"GET\"}}]}",
		  "in 's', not ms" },
		{ "{\"version\":\"v1\",\"dataItems\":[]} x", "trailing data" },
		{ "{\"x\":[\"a\\q\"]}", "bad escape" },
		{ "{\"x\":[1e999]}", "bad number" },
		{ "{\"x\":[\"abc", "unterminated string" },
		{ "{\"x\":\"\\u12g4\"}", "bad \\u escape" },
		{ "{\"x\":tru}", "unexpected character" },
	};
	char deep[200];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct report_cl2 *c = (void *)1;
		char err[256] = "";

		CHECK_INT(parse(bad[i].doc, &c, err), -EINVAL);
		CHECK(c == NULL, "%s: got a result", bad[i].doc);
		CHECK(strstr(err, bad[i].want) != NULL, "'%s': '%s' does not say '%s'", bad[i].doc, err,
		      bad[i].want);
	}
	/* nesting is bounded, not a stack overflow */
	memset(deep, '[', sizeof(deep) - 1);
	deep[sizeof(deep) - 1] = 0;
	{
		struct report_cl2 *c = NULL;
		char err[256], doc[300];

		snprintf(doc, sizeof(doc), "{\"x\":%s", deep);
		CHECK_INT(parse(doc, &c, err), -EINVAL);
		CHECK(strstr(err, "nested too deep") != NULL, "%s", err);
	}
}

int main(void)
{
	test_good();
	test_bad();
	return check_summary("cl2");
}
