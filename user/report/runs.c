// SPDX-License-Identifier: MIT
/*
 * runs: list the runs of a cpprof database (runs.h), a renderer of the
 * report model read without its requests scan (REPORT_LOAD_RUNS: only the
 * runs and targets tables), so it is instant on any size of file.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "report.h"
#include "report_model.h"
#include "runs.h"

/* An integer as stored: null for NULL (REPORT_NULL, or -1 where the model says unknown). */
static void json_int(FILE *o, long long v, long long null)
{
	if (v == null)
		fputs("null", o);
	else
		fprintf(o, "%lld", v);
}

/* Printable text for a terminal: control characters as '?'. */
static const char *safe(const char *str, char *buf, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t o = 0;

	for (s = s ? s : (const unsigned char *)"-"; *s && o + 1 < n; s++)
		buf[o++] = *s < 0x20 || *s == 0x7f ? '?' : (char)*s;
	buf[o] = '\0';
	return buf;
}

/* ended_ns - started_ns as SQL computes it: NULL if either is. */
static long long stored_duration(const struct report_run *r)
{
	if (r->stored.started_ns == REPORT_NULL || r->stored.ended_ns == REPORT_NULL)
		return REPORT_NULL;
	return r->stored.ended_ns - r->stored.started_ns;
}

static void json_run(FILE *out, const struct report_run *r)
{
	fprintf(out, "\"id\":%lld,\"label\":", r->id);
	report__json_str(out, r->label);
	fputs(",\"kind\":", out);
	report__json_str(out, r->kind);
	fputs(",\"host\":", out);
	report__json_str(out, r->host);
	fputs(",\"kernel\":", out);
	report__json_str(out, r->kernel);
	fputs(",\"started_ns\":", out);
	json_int(out, r->stored.started_ns, REPORT_NULL);
	fputs(",\"ended_ns\":", out);
	json_int(out, r->stored.ended_ns, REPORT_NULL);
	fputs(",\"duration_ns\":", out);
	json_int(out, stored_duration(r), REPORT_NULL);
	fputs(",\"requests\":", out);
	json_int(out, r->stored.requests, REPORT_NULL);
	fputs(",\"nodes\":", out);
	json_int(out, r->nodes, -1);
	fputs(",\"pods\":", out);
	json_int(out, r->pods, -1);
	fputs(",\"namespaces\":", out);
	json_int(out, r->namespaces, -1);
	fputs(",\"cluster_source\":", out);
	report__json_str(out, r->cluster_source);
	fputs(",\"sample_hz\":", out);
	json_int(out, r->sample_hz, -1);
	fputs(",\"targets\":[", out);
	for (size_t i = 0; i < r->ntargets; i++) {
		const struct report_target *t = &r->targets[i];

		fputs(i ? ",{\"component\":" : "{\"component\":", out);
		report__json_str(out, t->component);
		fputs(",\"pid\":", out);
		json_int(out, t->pid, REPORT_NULL);
		fputs(",\"exe\":", out);
		report__json_str(out, t->exe);
		fputs(",\"go_version\":", out);
		report__json_str(out, t->go_version);
		fputs(",\"k8s_version\":", out);
		report__json_str(out, t->k8s_version);
		fputs(",\"etcd_version\":", out);
		report__json_str(out, t->etcd_version);
		fputc('}', out);
	}
	fputs("]}", out);
}

static long long or0(long long v)
{
	return v < 0 ? 0 : v;
}

static void text_run(FILE *out, const struct report_run *r)
{
	time_t t = (time_t)(r->started_ns / 1000000000LL);
	long long dur = stored_duration(r);
	char a[64], b[256], c[256], d[64];
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(a, sizeof(a), "%Y-%m-%d %H:%M:%S", &tm))
		snprintf(a, sizeof(a), "?");
	if (dur == REPORT_NULL)
		snprintf(d, sizeof(d), "unended");
	else
		snprintf(d, sizeof(d), "%.0fs", dur / 1e9);
	/* nodes, pods and namespaces are stored together, or none of them */
	if (r->nodes >= 0)
		snprintf(c, sizeof(c), "%lld nodes, %lld pods, %lld ns; ", r->nodes, or0(r->pods),
			 or0(r->namespaces));
	else
		c[0] = '\0';
	fprintf(out, "%-20.20s %-8.8s %-20s %9s %10lld  %.40s%.24s\n",
		safe(r->label, b, sizeof(b)), r->kind, a, d,
		r->stored.requests == REPORT_NULL ? 0 : r->stored.requests, c,
		safe(r->host, b + 128, 128));
	for (size_t i = 0; i < r->ntargets; i++) {
		const struct report_target *tg = &r->targets[i];
		const char *k8s = tg->k8s_version, *etcd = tg->etcd_version;
		char e[128], g[64], kv[64], ev[64];

		fprintf(out, "  %-10.10s pid %-8lld %-10.10s%s%.20s%s%.20s %.40s\n",
			safe(tg->component, g, sizeof(g)), tg->pid == REPORT_NULL ? 0 : tg->pid,
			safe(tg->go_version, e, sizeof(e)),
			k8s ? " k8s " : "", k8s ? safe(k8s, kv, sizeof(kv)) : "",
			etcd ? " etcd " : "", etcd ? safe(etcd, ev, sizeof(ev)) : "",
			safe(tg->exe, b, sizeof(b)));
	}
}

int runs__write(const char *db_path, enum report_format format, FILE *out)
{
	const struct report_model_opts mo = { .what = REPORT_LOAD_RUNS, .listing = true };
	struct report_model *m;
	int err;

	if (!(m = report_model__load(db_path, NULL, &mo, &err)))
		return err;
	if (format == REPORT_JSON) {
		fputs("{\"format_version\":1,\"file\":", out);
		report__json_str(out, db_path);
		fputs(",\"runs\":[", out);
	} else {
		fprintf(out, "%-20s %-8s %-20s %9s %10s  %s\n", "LABEL", "KIND", "STARTED (UTC)",
			"DURATION", "REQUESTS", "CLUSTER / HOST");
	}
	for (size_t i = 0; i < m->nruns; i++) {
		if (format == REPORT_JSON) {
			fputs(i ? ",\n {" : "\n {", out);
			json_run(out, &m->runs[i]);
		} else {
			text_run(out, &m->runs[i]);
		}
	}
	if (format == REPORT_JSON)
		fputs("]}\n", out);
	else if (!m->nruns)
		fprintf(out, "(no runs)\n");
	report_model__free(m);
	if (fflush(out) != 0 || ferror(out)) {
		cp_seterr("cannot write: %s", strerror(errno));
		err = -EIO;
	}
	return err;
}
