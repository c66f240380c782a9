// SPDX-License-Identifier: MIT
/*
 * report_breakdown_render: the per-request breakdown of each call kind
 * (report_breakdown.c's model) in text, Markdown and JSON: the median
 * request, the mean, and the slowest 1%, each with its parts and a
 * stacked bar. Bars of one call kind share a scale (the slowest 1%'s
 * latency), so the median's bar is shorter by as much as it is faster.
 */
#include <stdio.h>
#include <string.h>

#include "report_render.h"

#define BAR_W 40

/* Bar glyphs, in the order the parts are laid out (REPORT-JSON.md names them). */
static const char bar_legend[] = "# etcd  = serialization  + other CPU  ~ APF wait (before the handler)  . rest  ? unknown";

/* The stacked bar of P in BUF (BAR_W + 1), scaled so that SCALE_NS fills it. */
static void bar(const struct report_parts *p, long long scale_ns, char *buf)
{
	long long parts[5] = { p->etcd_ns, p->ser_ns,
			       p->cpu_ns >= 0 && p->ser_ns >= 0 ? p->cpu_ns - p->ser_ns : p->cpu_ns,
			       p->apf_ns, p->other_ns };
	static const char glyph[5] = { '#', '=', '+', '~', '.' };
	long long known = 0, acc = 0;
	int at = 0, i, end;

	memset(buf, ' ', BAR_W);
	buf[BAR_W] = 0;
	if (scale_ns <= 0 || p->latency_ns < 0)
		return;
	for (i = 0; i < 5; i++) {
		if (parts[i] <= 0)
			continue;
		acc += parts[i];
		known += parts[i];
		end = (int)((acc * BAR_W + scale_ns / 2) / scale_ns);
		for (; at < end && at < BAR_W; at++)
			buf[at] = glyph[i];
	}
	/* what no part accounts for: unknown */
	end = (int)((p->latency_ns * BAR_W + scale_ns / 2) / scale_ns);
	for (; at < end && at < BAR_W; at++)
		buf[at] = '?';
	(void)known;
}

static void fmt_ms(long long ns, char *buf, size_t n)
{
	if (ns < 0)
		snprintf(buf, n, "?");
	else
		snprintf(buf, n, "%.1f", ns / 1e6);
}

static void kind_name(const struct report_breakdown *b, char *buf, size_t n)
{
	snprintf(buf, n, "%s %s%s%s%s%s", b->verb, report_str_or(b->resource, "-"), b->subresource[0] ? "/" : "",
		 b->subresource, b->scope[0] ? " " : "", b->scope);
}

void report_breakdown__text(FILE *o, const struct report_run *r, bool md)
{
	static const char *const names[3] = { "median", "mean", "p99 (slowest 1%)" };

	if (!r->nbd)
		return;
	if (md) {
		fprintf(o, "\n### Where the time goes, per request\n\n"
			   "Times in ms; bar: `%s`, scaled to the slowest 1%%'s latency.\n\n"
			   "| call | requests | which | latency | etcd calls | etcd | CPU | serialization | APF wait | rest | bar |\n"
			   "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---|\n", bar_legend);
	} else {
		fprintf(o, "\nWhere the time goes, per request (ms; bar: %s;\nscaled to the slowest 1%%'s latency)\n",
			bar_legend);
	}
	for (size_t i = 0; i < r->nbd; i++) {
		const struct report_breakdown *b = &r->bd[i];
		const struct report_parts *ps[3] = { &b->median, &b->mean, &b->p99 };
		char name[256];

		kind_name(b, name, sizeof(name));
		if (!md)
			fprintf(o, "  %s %s: %lld requests\n", b->component, name, b->count);
		for (int k = 0; k < 3; k++) {
			const struct report_parts *p = ps[k];
			char lat[24], e[24], c[24], s[24], a[24], rest[24], calls[24], br[BAR_W + 1];

			fmt_ms(p->latency_ns, lat, sizeof(lat));
			fmt_ms(p->etcd_ns, e, sizeof(e));
			fmt_ms(p->cpu_ns, c, sizeof(c));
			fmt_ms(p->ser_ns, s, sizeof(s));
			fmt_ms(p->apf_ns, a, sizeof(a));
			fmt_ms(p->other_ns, rest, sizeof(rest));
			if (p->etcd_calls < 0)
				snprintf(calls, sizeof(calls), "?");
			else
				snprintf(calls, sizeof(calls), "%.1f", p->etcd_calls);
			bar(p, b->p99.latency_ns, br);
			if (md)
				fprintf(o, "| %s %s | %lld | %s | %s | %s | %s | %s | %s | %s | %s | `%s` |\n",
					b->component, name, p->requests, names[k], lat, calls, e, c, s, a, rest, br);
			else
				fprintf(o, "    %-17s %8s  etcd %s (%s calls)  cpu %s (ser %s)  apf %s  rest %s\n"
					   "    %17s |%s|\n",
					names[k], lat, e, calls, c, s, a, rest, "", br);
		}
	}
}

static void json_part(FILE *o, const char *key, long long v)
{
	if (v < 0)
		fprintf(o, ",\"%s\":null", key);
	else
		fprintf(o, ",\"%s\":%lld", key, v);
}

static void json_parts(FILE *o, const char *key, const struct report_parts *p)
{
	fprintf(o, ",\"%s\":{\"requests\":%lld", key, p->requests);
	json_part(o, "latency_ns", p->latency_ns);
	if (p->etcd_calls < 0)
		fputs(",\"etcd_calls\":null", o);
	else
		fprintf(o, ",\"etcd_calls\":%.3f", p->etcd_calls);
	json_part(o, "etcd_ns", p->etcd_ns);
	json_part(o, "cpu_ns", p->cpu_ns);
	json_part(o, "serialization_ns", p->ser_ns);
	json_part(o, "apf_wait_ns", p->apf_ns);
	json_part(o, "other_ns", p->other_ns);
	fputc('}', o);
}

void report_breakdown__json(FILE *o, const struct report_run *r)
{
	if (!r->nbd)
		return;
	fputs(",\n \"breakdown\":[", o);
	for (size_t i = 0; i < r->nbd; i++) {
		const struct report_breakdown *b = &r->bd[i];

		fputs(i ? ",\n  {" : "\n  {", o);
		fputs("\"component\":", o);
		report__json_str(o, b->component);
		fputs(",\"verb\":", o);
		report__json_str(o, b->verb);
		fputs(",\"resource\":", o);
		report__json_str(o, b->resource);
		fputs(",\"subresource\":", o);
		report__json_str(o, b->subresource);
		fputs(",\"scope\":", o);
		report__json_str(o, b->scope);
		fprintf(o, ",\"count\":%lld", b->count);
		json_parts(o, "median", &b->median);
		json_parts(o, "mean", &b->mean);
		json_parts(o, "p99", &b->p99);
		fputc('}', o);
	}
	fputs("]", o);
}
