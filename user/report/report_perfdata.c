// SPDX-License-Identifier: MIT
/*
 * report_perfdata: `cpprof report --format perfdata`, a run's API calls as
 * perf-tests' PerfData (clusterloader2/pkg/measurement/util: PerfData
 * {version, dataItems, labels}, DataItem {data, unit, labels}) in the shape
 * clusterloader2's APIResponsivenessPrometheus writes, so that perfdash
 * charts cpprof's runs beside clusterloader2's: version "v1", one data item
 * per call kind with data Perc50, Perc90 and Perc99 in ms (unit "ms") and
 * labels Verb, Resource, Subresource, Scope and Count.
 *
 * The labels are the apiserver metric's (apiserver_request_duration_seconds),
 * which clusterloader2 copies: Verb upper case with create as POST, update as
 * PUT and the connect subresources as CONNECT, and create scoped "resource"
 * (mc_key in metrics_check.h). Calls that clusterloader2 leaves out of the
 * SLO query are left out here too: watch and connect (long-running), and
 * non-resource requests (the metric does not key them by path). The
 * percentiles are cpprof's exact nearest-rank ones, the same as
 * `cpprof report`'s p50/p90/p99.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "metrics_check.h"
#include "log.h"
#include "report_render.h"

/* apiserver's metric verb (metrics.go CleanVerb) of cpprof's verb V, upper case, in BUF. */
static const char *metric_verb(const char *v, char *buf, size_t n)
{
	static const struct { const char *cpprof, *metric; } map[] = {
		{ "create", "POST" }, { "update", "PUT" },
	};
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (!strcmp(v, map[i].cpprof))
			return map[i].metric;
	for (i = 0; v[i] && i + 1 < n; i++)
		buf[i] = (char)toupper((unsigned char)v[i]);
	buf[i] = '\0';
	return buf;
}

/* Whether clusterloader2's APIResponsivenessPrometheus would chart call K. */
static bool perfdata_call(const struct report_call *k, const char *component, const char *kv)
{
	if (!k->component || strcmp(k->component, component ? component : "apiserver"))
		return false;
	if (k->path)
		return false;
	return strcmp(kv, "watch") && strcmp(kv, "connect");
}

int report_perfdata__write(FILE *out, const struct report_run *r, const char *component)
{
	size_t n = 0;

	fputs("{\n  \"version\": \"v1\",\n  \"dataItems\": [", out);
	for (size_t i = 0; i < r->ncalls; i++) {
		const struct report_call *k = &r->calls[i];
		char kv[24], ks[16], vbuf[24], count[24];

		mc_key(k->verb, k->subresource, k->scope, kv, ks);
		if (!perfdata_call(k, component, kv))
			continue;
		fprintf(out, "%s\n    {\n      \"data\": {\"Perc50\": %.6f, \"Perc90\": %.6f, "
			"\"Perc99\": %.6f},\n      \"unit\": \"ms\",\n      \"labels\": {",
			n++ ? "," : "", k->p50_ns / 1e6, k->p90_ns / 1e6, k->p99_ns / 1e6);
		snprintf(count, sizeof(count), "%lld", k->count);
		fputs("\"Count\": ", out);
		report__json_str(out, count);
		fputs(", \"Resource\": ", out);
		report__json_str(out, k->resource ? k->resource : "");
		fputs(", \"Scope\": ", out);
		report__json_str(out, ks);
		fputs(", \"Subresource\": ", out);
		report__json_str(out, k->subresource ? k->subresource : "");
		fputs(", \"Verb\": ", out);
		report__json_str(out, metric_verb(kv, vbuf, sizeof(vbuf)));
		fputs("}\n    }", out);
	}
	fputs(n ? "\n  ]\n}\n" : "]\n}\n", out);
	if (!n) {
		cp_seterr("run '%s' has no %s API calls to chart (watch, connect and non-resource "
			  "calls are left out)", report_str_or(r->label, "?"),
			  component ? component : "apiserver");
		return -ENOENT;
	}
	return 0;
}
