// SPDX-License-Identifier: MIT
/*
 * report_json: the JSON renderer of the report model (the shape is
 * REPORT-JSON.md; `--format html` embeds this document in a page, see
 * html.c), and the JSON pieces diff and runs share: strings, histograms,
 * the CPU section.
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cl2.h"
#include "loghist.h"
#include "report.h"
#include "report_model.h"
#include "report_render.h"
#include "scrape.h"

/*
 * A JSON string (RFC 8259): quotes, backslashes and control characters
 * escaped; bytes that are not UTF-8 (file names need not be) become
 * U+FFFD so that the output always parses.
 */
void report__json_str(FILE *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	if (!s) {
		fputs("null", out);
		return;
	}
	fputc('"', out);
	while (*p) {
		int n = report__utf8_len(p);

		if (n == 0) {
			fputs("\\ufffd", out);
			p++;
			continue;
		}
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", out);
		else if (*p == '\t')
			fputs("\\t", out);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(out, "\\u%04x", *p);
		else
			fwrite(p, 1, n, out);
		p += n;
	}
	fputc('"', out);
}

static void json_key_str(FILE *out, const char *key, const char *v)
{
	fprintf(out, "\"%s\":", key);
	report__json_str(out, v);
}

/* The fields naming a call kind, in the order REPORT-JSON.md gives them; "path" only if WITH_PATH. */
static void json_call_key(FILE *o, const char *component, const char *verb, const char *resource,
			  const char *subresource, bool with_path, const char *path, const char *scope)
{
	json_key_str(o, "component", component);
	fputc(',', o);
	json_key_str(o, "verb", verb);
	fputc(',', o);
	json_key_str(o, "resource", resource);
	fputc(',', o);
	json_key_str(o, "subresource", subresource);
	fputc(',', o);
	if (with_path) {
		json_key_str(o, "path", path);
		fputc(',', o);
	}
	json_key_str(o, "scope", scope);
}

static void json_key_ll(FILE *out, const char *key, long long v)
{
	if (v == REPORT_NULL)
		fprintf(out, "\"%s\":null", key);
	else
		fprintf(out, "\"%s\":%lld", key, v);
}

/* The fields added to a call with the SLO windows (REPORT-JSON.md, CALL). */
static void json_call_more(FILE *o, const struct report_call *k)
{
	if (k->rate_per_s < 0)
		fputs(",\"rate_per_s\":null", o);
	else
		fprintf(o, ",\"rate_per_s\":%.6g", k->rate_per_s);
	fprintf(o, ",\"slo_windows\":%lld,\"slo_windows_failed\":%lld", k->slo_windows,
		k->slo_windows_failed);
	if (k->slo_worst_start_ns < 0)
		fputs(",\"slo_worst_window_start_ns\":null,\"slo_worst_p99_ns\":null", o);
	else
		fprintf(o, ",\"slo_worst_window_start_ns\":%lld,\"slo_worst_p99_ns\":%lld",
			k->slo_worst_start_ns, k->slo_worst_p99_ns);
	fputs(",\"statuses\":[", o);
	for (size_t j = 0; j < k->nstatuses; j++)
		fprintf(o, "%s{\"status\":%d,\"error\":%s,\"count\":%lld}", j ? "," : "",
			k->statuses[j].status, k->statuses[j].error ? "true" : "false",
			k->statuses[j].count);
	fputs("],\"hist\":", o);
	report__json_hist(o, k->hist);
	fputs(",\"timeline\":[", o);
	for (size_t j = 0; j < k->ntimeline; j++) {
		const struct report_window *w = &k->timeline[j];

		fprintf(o, "%s{\"start_ns\":%lld,\"count\":%lld,\"errors\":%lld,\"p50_ns\":%lld,"
			"\"p99_ns\":%lld}", j ? "," : "", w->start_ns, w->count, w->errors, w->p50_ns,
			w->p99_ns);
	}
	fputc(']', o);
}

static void json_ll_or_null(FILE *o, const char *key, long long v)
{
	if (v < 0)
		fprintf(o, ",\"%s\":null", key);
	else
		fprintf(o, ",\"%s\":%lld", key, v);
}

/*
 * What --max-db-size, --min-free or a full disk kept out of the file:
 * only for files that record it (made by a cpprof with those options).
 */
static void json_drops(FILE *o, const struct report_run *r)
{
	char note[160];

	if (r->dropped_requests < 0)
		return;

	json_ll_or_null(o, "dropped_requests", r->dropped_requests);
	json_ll_or_null(o, "dropped_rows", r->dropped_rows);
	fputs(",\"dropped_reason\":", o);
	report__json_str(o, r->dropped_reason);
	json_ll_or_null(o, "drop_limit_bytes", r->drop_limit_bytes);
	fputs(",\"dropped_note\":", o);
	report__json_str(o, report__drop_note(r, note, sizeof(note)) ? note : NULL);
}

static void json_target(FILE *o, const struct report_target *t)
{
	json_key_ll(o, "id", t->id);
	fputc(',', o);
	json_key_ll(o, "pid", t->pid);
	fputc(',', o);
	json_key_str(o, "component", t->component);
	fputc(',', o);
	json_key_str(o, "exe", t->exe);
	fputc(',', o);
	json_key_str(o, "go_version", t->go_version);
	fputc(',', o);
	json_key_str(o, "main_path", t->main_path);
	fputc(',', o);
	json_key_str(o, "build_id", t->build_id);
	fputc(',', o);
	json_key_str(o, "offsets_source", t->offsets_source);
	fputc(',', o);
	json_key_str(o, "probes", t->probes);
	fputc(',', o);
	json_key_ll(o, "attached_ns", t->attached_ns);
	fputc(',', o);
	json_key_ll(o, "exited_ns", t->exited_ns);
	fputc(',', o);
	json_key_str(o, "k8s_version", t->k8s_version);
	fputc(',', o);
	json_key_str(o, "etcd_version", t->etcd_version);
	fputc(',', o);
	json_key_ll(o, "cpu_ns", t->cpu_ns);
	fputc(',', o);
	json_key_ll(o, "samples", t->samples);
	if (t->host) {   /* a run merged from several files: whose target */
		fputc(',', o);
		json_key_str(o, "host", t->host);
	}
}

static void json_verdict(FILE *o, const char *key, const struct report_verdict *v)
{
	fprintf(o, "\"%s\":{\"verdict\":\"%s\",\"reason\":", key, v->verdict);
	report__json_str(o, v->reason);
	fputc('}', o);
}

static void json_bounds(FILE *o, const char *key, long long lo, long long hi)
{
	if (lo < 0)
		fprintf(o, ",\"%s\":null", key);
	else
		fprintf(o, ",\"%s\":[%lld,%lld]", key, lo, hi);
}

/* The call beside apiserver_request_total and apiserver_request_duration_seconds. */
static void json_call_metrics(FILE *o, const struct report_call_metrics *m)
{
	fputs(",\"metrics\":{\"count\":", o);
	if (m->count < 0)
		fputs("null", o);
	else
		fprintf(o, "%lld", m->count);
	json_bounds(o, "p50_le_ns", m->p50_lo_ns, m->p50_hi_ns);
	json_bounds(o, "p99_le_ns", m->p99_lo_ns, m->p99_hi_ns);
	fprintf(o, ",\"verdict\":\"%s\",\"reason\":", m->verdict.verdict);
	report__json_str(o, m->verdict.reason);
	fputc(',', o);
	json_verdict(o, "count_check", &m->count_v);
	fputc(',', o);
	json_verdict(o, "p50_check", &m->p50_v);
	fputc(',', o);
	json_verdict(o, "p99_check", &m->p99_v);
	fputc('}', o);
}

static void json_prom_hist(FILE *o, const struct report_prom_hist *h)
{
	fprintf(o, "{\"count\":%.0f,\"sum_s\":%.9g,\"buckets\":[", h->total, h->sum);
	for (int i = 0; i < h->n; i++) {
		if (isinf(h->le[i]))
			fprintf(o, "%s{\"le_s\":null,\"count\":%.0f}", i ? "," : "", h->count[i]);
		else
			fprintf(o, "%s{\"le_s\":%.9g,\"count\":%.0f}", i ? "," : "", h->le[i],
				h->count[i]);
	}
	fputs("]}", o);
}

static void json_ll_or_nul(FILE *o, long long v)
{
	if (v < 0)
		fputs("null", o);
	else
		fprintf(o, "%lld", v);
}

/* The run's "metrics_check": endpoints, etcd, call totals and the SLI windows (REPORT-JSON.md). */
static void json_metrics(FILE *o, const struct report_metrics *m)
{
	fputs(",\n \"metrics_check\":{\"endpoints\":[", o);
	for (size_t i = 0; i < m->neps; i++) {
		const struct report_endpoint *e = &m->eps[i];
		bool first = true;

		fputs(i ? ",\n  {" : "\n  {", o);
		json_key_str(o, "url", e->url);
		fputc(',', o);
		json_key_str(o, "component", e->component);
		fprintf(o, ",\"scrapes\":%d,\"ok\":%d,\"errors\":{", e->scrapes, e->ok);
		for (int k = 1; k < SCRAPE_ERR__MAX && k < 16; k++)
			if (e->errors[k]) {
				fprintf(o, "%s\"%s\":%d", first ? "" : ",", scrape_error_name(k),
					e->errors[k]);
				first = false;
			}
		fputs("},\"last_error\":", o);
		report__json_str(o, e->last_error[0] ? e->last_error : NULL);
		fputs(",\"cpu_seconds\":", o);
		if (e->cpu_seconds < 0)
			fputs("null", o);
		else
			fprintf(o, "%.3f", e->cpu_seconds);
		fputs(",\"cpprof_cpu_ns\":", o);
		json_ll_or_nul(o, e->cpprof_cpu_ns);
		fputs(",\"cpprof_sampled_cpu_ns\":", o);
		json_ll_or_nul(o, e->cpprof_sampled_ns);
		fputc(',', o);
		json_verdict(o, "cpu_check", &e->cpu);
		fputc('}', o);
	}
	fprintf(o, "],\n  \"apiserver\":%s", m->has_apiserver ? "{" : "null");
	if (m->has_apiserver) {
		fprintf(o, "\"calls_agree\":%lld,\"calls_disagree\":%lld,\"calls_unknown\":%lld,"
			"\"metric_only\":[", m->calls_agree, m->calls_disagree, m->calls_unknown);
		for (size_t i = 0; i < m->nmetric_only; i++) {
			const struct report_metric_call *c = &m->metric_only[i];

			fputs(i ? ",{" : "{", o);
			json_call_key(o, "apiserver", c->verb, c->resource, c->subresource, false, NULL,
				      c->scope);
			fprintf(o, ",\"count\":%lld}", c->count);
		}
		fputs("],\n   \"sli_windows\":[", o);
		for (size_t i = 0; i < m->nsli; i++) {
			const struct report_sli_window *w = &m->sli[i];

			fputs(i ? ",\n    {" : "\n    {", o);
			json_key_str(o, "verb", w->verb);
			fputc(',', o);
			json_key_str(o, "resource", w->resource);
			fputc(',', o);
			json_key_str(o, "subresource", w->subresource);
			fputc(',', o);
			json_key_str(o, "scope", w->scope);
			fprintf(o, ",\"window_start_ns\":%lld,\"scrape_start_ns\":%lld,"
				"\"scrape_end_ns\":%lld,\"cpprof_count\":%lld,\"cpprof_p99_ns\":",
				w->window_start_ns, w->start_ns, w->end_ns, w->cpprof_count);
			json_ll_or_nul(o, w->cpprof_p99_ns);
			fprintf(o, ",\"sli_count\":%.0f,\"sli_p99_ns\":", w->sli_count);
			json_ll_or_nul(o, w->sli_p99_ns);
			json_bounds(o, "sli_p99_bucket_ns", w->sli_lo_ns, w->sli_hi_ns);
			fputc('}', o);
		}
		fputs("]}", o);
	}
	fprintf(o, ",\n  \"etcd\":%s", m->has_etcd ? "{" : "null");
	if (m->has_etcd) {
		fputs("\"fdatasync\":{\"cpprof_count\":", o);
		json_ll_or_nul(o, m->fdatasync);
		fputs(",\"cpprof_p50_ns\":", o);
		json_ll_or_nul(o, m->fdatasync_p50_ns);
		fputs(",\"cpprof_p99_ns\":", o);
		json_ll_or_nul(o, m->fdatasync_p99_ns);
		fputs(",\"wal_fsync\":", o);
		json_prom_hist(o, &m->wal_fsync);
		fputs(",\"backend_commit\":", o);
		json_prom_hist(o, &m->backend_commit);
		fputc(',', o);
		json_verdict(o, "count_check", &m->fsync_count);
		fputc(',', o);
		json_verdict(o, "p50_check", &m->fsync_p50);
		fputc(',', o);
		json_verdict(o, "p99_check", &m->fsync_p99);
		fputs("},\n   \"grpc\":[", o);
		for (size_t i = 0; i < m->ngrpc; i++) {
			const struct report_grpc_check *g = &m->grpc[i];

			fputs(i ? ",\n    {" : "\n    {", o);
			json_key_str(o, "method", g->method);
			fprintf(o, ",\"handled\":%lld,\"not_ok\":%lld,\"cpprof_count\":", g->handled,
				g->not_ok);
			json_ll_or_nul(o, g->cpprof);
			fputc(',', o);
			json_verdict(o, "check", &g->verdict);
			fputc('}', o);
		}
		fputs("]}", o);
	}
	fputc('}', o);
}

static void json_ms(FILE *o, const char *key, double v)
{
	if (v < 0)
		fprintf(o, ",\"%s\":null", key);
	else
		fprintf(o, ",\"%s\":%.6g", key, v);
}

/* The run's "cl2": clusterloader2's percentiles beside cpprof's per call kind. */
static void json_cl2(FILE *o, const struct report_cl2 *c)
{
	fputs(",\n \"cl2\":{", o);
	json_key_str(o, "file", c->path);
	fputc(',', o);
	json_key_str(o, "version", c->version);
	fputs(",\"calls\":[", o);
	for (size_t i = 0; i < c->n; i++) {
		const struct cl2_item *it = &c->items[i];

		fputs(i ? ",\n  {" : "\n  {", o);
		json_key_str(o, "verb", it->verb);
		fputc(',', o);
		json_key_str(o, "resource", it->resource);
		fputc(',', o);
		json_key_str(o, "subresource", it->subresource);
		fputc(',', o);
		json_key_str(o, "scope", it->scope);
		fputs(",\"count\":", o);
		json_ll_or_nul(o, it->count);
		json_ms(o, "p50_ms", it->p50_ms);
		json_ms(o, "p90_ms", it->p90_ms);
		json_ms(o, "p99_ms", it->p99_ms);
		if (it->cpprof_count < 0) {
			fputs(",\"cpprof\":null}", o);
			continue;
		}
		fputs(",\"cpprof\":{", o);
		json_key_str(o, "verb", it->cpprof_verb);
		fprintf(o, ",\"count\":%lld,\"p50_ns\":%lld,\"p90_ns\":%lld,\"p99_ns\":%lld}}",
			it->cpprof_count, it->cpprof_p50_ns, it->cpprof_p90_ns, it->cpprof_p99_ns);
	}
	fputs("]}", o);
}

static void json_call(FILE *o, const struct report_call *k)
{
	json_call_key(o, k->component, k->verb, k->resource, k->subresource, true, k->path,
		      k->scope);
	fprintf(o, ",\"count\":%lld,\"p50_ns\":%lld,\"p90_ns\":%lld,\"p99_ns\":%lld,"
		"\"max_ns\":%lld,\"errors\":%lld,\"slo_threshold_ns\":%lld,\"slo_ok\":%s",
		k->count, k->p50_ns, k->p90_ns, k->p99_ns, k->max_ns, k->errors,
		k->slo_threshold_ns,
		k->slo_ok < 0 ? "null" : k->slo_ok ? "true" : "false");
	json_call_more(o, k);
	if (k->metrics)
		json_call_metrics(o, k->metrics);
}

/* The run's members up to its calls; json_sys and the CPU follow. */
static void json_run(FILE *o, const struct report_run *r)
{
	json_key_str(o, "label", r->label);
	fputc(',', o);
	json_key_str(o, "kind", r->kind);
	fputc(',', o);
	json_key_ll(o, "started_ns", r->stored.started_ns);
	fputc(',', o);
	json_key_ll(o, "ended_ns", r->stored.ended_ns);
	fputc(',', o);
	json_key_str(o, "host", r->host);
	fputc(',', o);
	json_key_str(o, "kernel", r->kernel);
	fputc(',', o);
	json_key_str(o, "command", r->command);
	fputc(',', o);
	json_key_ll(o, "requests", r->stored.requests);
	fputc(',', o);
	json_key_ll(o, "lost_events", r->stored.lost_events);
	fputc(',', o);
	json_key_ll(o, "unmatched", r->stored.unmatched);
	json_ll_or_null(o, "duration_ns", r->duration_ns);
	json_ll_or_null(o, "nodes", r->nodes);
	json_ll_or_null(o, "pods", r->pods);
	json_ll_or_null(o, "namespaces", r->namespaces);
	fputs(",\"cluster_source\":", o);
	report__json_str(o, r->cluster_source);
	json_ll_or_null(o, "sample_hz", r->sample_hz);
	json_ll_or_null(o, "lost_samples", r->lost_samples);
	json_drops(o, r);
	fprintf(o, ",\"slo_window_ns\":%lld,\"timeline_window_ns\":%lld", r->slo_window_ns,
		r->timeline_window_ns);
	fputs(",\n \"targets\":[", o);
	for (size_t i = 0; i < r->ntargets; i++) {
		fputs(i ? ",\n  {" : "\n  {", o);
		json_target(o, &r->targets[i]);
		fputc('}', o);
	}
	fputs("],\n \"calls\":[", o);
	for (size_t i = 0; i < r->ncalls; i++) {
		fputs(i ? ",\n  {" : "\n  {", o);
		json_call(o, &r->calls[i]);
		fputc('}', o);
	}
	fputs("]", o);
}
static void json_sys_group(FILE *o, const struct report_sys *g, bool per_target)
{
	fputs("{", o);
	json_key_str(o, "component", g->component);
	fputc(',', o);
	json_key_str(o, "syscall", g->syscall);
	if (per_target)
		fprintf(o, ",\"target_id\":%lld,\"pid\":%lld", g->target_id, g->pid);
	if (per_target && g->host) {   /* a run merged from several files: whose target */
		fputc(',', o);
		json_key_str(o, "host", g->host);
	}
	fprintf(o, ",\"count\":%lld,\"sum_ns\":%lld,\"p50_ns\":%lld,\"p99_ns\":%lld",
		g->count, g->sum_ns, g->p50_ns, g->p99_ns);
}

/* The wal_fsync, syscalls and clients members of the run, present when it has rows. */
static void json_sys(FILE *o, const struct report_run *r)
{
	if (r->nwal) {
		fputs(",\n \"wal_fsync\":[", o);
		for (size_t i = 0; i < r->nwal; i++) {
			bool first = true;

			fputs(i ? ",\n  " : "\n  ", o);
			json_sys_group(o, &r->wal[i], false);
			fputs(",\"intervals\":[", o);
			for (size_t j = 0; j < r->nwal_iv; j++) {
				const struct report_sys *g = &r->wal_iv[j];

				if (strcmp(g->syscall, r->wal[i].syscall))
					continue;
				fprintf(o, "%s{\"interval_start_ns\":%lld,\"interval_ns\":%lld,"
					"\"count\":%lld,\"p50_ns\":%lld,\"p99_ns\":%lld}",
					first ? "" : ",", g->start_ns, g->len_ns, g->count,
					g->p50_ns, g->p99_ns);
				first = false;
			}
			fputs("]}", o);
		}
		fputs("]", o);
	}
	if (r->nsyscalls) {
		fputs(",\n \"syscalls\":[", o);
		for (size_t i = 0; i < r->nsyscalls; i++) {
			fputs(i ? ",\n  " : "\n  ", o);
			json_sys_group(o, &r->syscalls[i], true);
			fputs("}", o);
		}
		fputs("]", o);
	}
	if (r->nclients) {
		const struct report_client *cl = r->clients;

		fputs(",\n \"clients\":[", o);
		for (size_t i = 0; i < r->nclients; i++) {
			fputs(i ? ",\n  {" : "\n  {", o);
			json_key_str(o, "component", cl[i].component);
			fprintf(o, ",\"accepted\":%lld,\"closed\":%lld,\"peers_max\":%lld,"
				"\"bytes_in\":%lld,\"bytes_out\":%lld,\"retransmits\":%lld,"
				"\"intervals\":%lld}", cl[i].accepted, cl[i].closed,
				cl[i].peers_max, cl[i].bytes_in, cl[i].bytes_out,
				cl[i].retransmits, cl[i].intervals);
		}
		fputs("]", o);
	}
}
static double share(long long part, long long whole)
{
	return whole > 0 ? (double)part / whole : 0;
}

void report__json_hist(FILE *o, const __u64 *hist)
{
	bool first = true;

	fputc('[', o);
	for (int i = 0; hist && i < LOGHIST_NBUCKETS; i++) {
		if (!hist[i])
			continue;
		fprintf(o, "%s[%llu,%llu]", first ? "" : ",", (unsigned long long)loghist_upper(i),
			(unsigned long long)hist[i]);
		first = false;
	}
	fputc(']', o);
}

void report__json_cpu(FILE *o, const struct report_cpu *cpu)
{
	if (!cpu) {
		fputs("null", o);
		return;
	}
	fputs("{\"serialization_categories\":[", o);
	for (int i = 0; report_ser_categories[i]; i++)
		fprintf(o, "%s\"%s\"", i ? "," : "", report_ser_categories[i]);
	fputs("],\n  \"components\":[", o);
	for (size_t i = 0; i < cpu->ncomps; i++) {
		const struct report_cpu_comp *c = &cpu->comps[i];

		fputs(i ? ",\n   {" : "\n   {", o);
		json_key_str(o, "component", c->component);
		fprintf(o, ",\"samples\":%lld,\"sampled_cpu_ns\":%lld,\"kernel_cpu_ns\":", c->samples,
			c->cpu_ns);
		if (c->kernel_cpu_ns < 0)
			fputs("null", o);
		else
			fprintf(o, "%lld", c->kernel_cpu_ns);
		fprintf(o, ",\"serialization_cpu_ns\":%lld,\"serialization_share\":%.6g,"
			"\"unknown_cpu_ns\":%lld,\"unknown_share\":%.6g,\"categories\":[",
			c->ser_ns, share(c->ser_ns, c->cpu_ns), c->unknown_ns,
			share(c->unknown_ns, c->cpu_ns));
		for (size_t j = 0; j < c->ncats; j++) {
			fputs(j ? ",{" : "{", o);
			json_key_str(o, "category", c->cats[j].category);
			fprintf(o, ",\"samples\":%lld,\"cpu_ns\":%lld,\"share\":%.6g}",
				c->cats[j].samples, c->cats[j].cpu_ns,
				share(c->cats[j].cpu_ns, c->cpu_ns));
		}
		fputs("]}", o);
	}
	fputs("],\n  \"top_serialization\":[", o);
	for (size_t i = 0; i < cpu->nser; i++) {
		const struct report_ser *s = &cpu->ser[i];

		fputs(i ? ",\n   {" : "\n   {", o);
		json_call_key(o, s->component, s->verb, s->resource, s->subresource, false, NULL,
			      s->scope);
		fprintf(o, ",\"serialization_cpu_ns\":%lld,\"requests\":%lld,\"ns_per_request\":",
			s->ser_ns, s->requests);
		if (s->requests)
			fprintf(o, "%.6g}", (double)s->ser_ns / s->requests);
		else
			fputs("null}", o);
	}
	fputs("]}", o);
}

/*
 * The run's "hosts": each file of a run merged from several (one per
 * master), as that file alone says it: its row, and per call kind its own
 * count and percentiles, its CPU and its metrics cross-checks.
 */
static void json_hosts(FILE *o, const struct report_run *r)
{
	fputs(",\n \"hosts\":[", o);
	for (size_t i = 0; i < r->nhosts; i++) {
		const struct report_run *h = &r->hosts[i];

		fputs(i ? ",\n {" : "\n {", o);
		json_key_str(o, "host", h->host);
		fputc(',', o);
		json_key_str(o, "file", h->db);
		fputc(',', o);
		json_key_str(o, "label", h->label);
		fprintf(o, ",\"run_id\":%lld,", h->id);
		json_key_ll(o, "started_ns", h->stored.started_ns);
		fputc(',', o);
		json_key_ll(o, "ended_ns", h->stored.ended_ns);
		fputc(',', o);
		json_key_ll(o, "requests", h->stored.requests);
		fputc(',', o);
		json_key_ll(o, "lost_events", h->stored.lost_events);
		fputc(',', o);
		json_key_ll(o, "unmatched", h->stored.unmatched);
		json_ll_or_null(o, "duration_ns", h->duration_ns);
		fprintf(o, ",\"targets\":%zu,\n  \"calls\":[", h->ntargets);
		for (size_t j = 0; j < h->ncalls; j++) {
			const struct report_call *k = &h->calls[j];

			fputs(j ? ",\n   {" : "\n   {", o);
			json_call_key(o, k->component, k->verb, k->resource, k->subresource, true,
				      k->path, k->scope);
			fprintf(o, ",\"count\":%lld,\"errors\":%lld,\"p50_ns\":%lld,\"p90_ns\":%lld,"
				"\"p99_ns\":%lld,\"max_ns\":%lld}", k->count, k->errors, k->p50_ns,
				k->p90_ns, k->p99_ns, k->max_ns);
		}
		fputs("]", o);
		if (h->cpu) {
			fputs(",\n \"cpu\":", o);
			report__json_cpu(o, h->cpu);
		}
		if (h->metrics)
			json_metrics(o, h->metrics);
		fputc('}', o);
	}
	fputs("]", o);
}

int report_json__write(FILE *o, const struct report_model *m)
{
	fputs("{\"format_version\":1,", o);
	if (m->nfiles > 1) {   /* several masters' files merged: which, in the order given */
		fputs("\"files\":[", o);
		for (size_t i = 0; i < m->nfiles; i++) {
			fputs(i ? "," : "", o);
			report__json_str(o, m->files[i]);
		}
		fputs("],", o);
	}
	fputs("\"runs\":[", o);
	for (size_t i = 0; i < m->nruns; i++) {
		const struct report_run *r = &m->runs[i];

		fputs(i ? ",\n{" : "\n{", o);
		json_run(o, r);
		json_sys(o, r);
		if (r->cpu) {
			fputs(",\n \"cpu\":", o);
			report__json_cpu(o, r->cpu);
		}
		if (r->metrics)
			json_metrics(o, r->metrics);
		report_breakdown__json(o, r);
		if (r->cl2)
			json_cl2(o, r->cl2);
		if (r->nhosts)
			json_hosts(o, r);
		fputc('}', o);
	}
	fputs("\n]}\n", o);
	return 0;
}
