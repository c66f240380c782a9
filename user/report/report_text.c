// SPDX-License-Identifier: MIT
/*
 * report_text: the text (aligned, at most 100 columns) and Markdown
 * renderers of the report model. They share the sections' order and
 * most of their words, so one file holds both: per run, the header, the
 * calls table, SLO windows that failed, errors by status, requests over
 * time, etcd WAL fsync, clients served, syscalls per target and CPU.
 */
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cl2.h"
#include "loghist.h"
#include "report.h"
#include "report_model.h"
#include "report_render.h"
#include "scrape.h"

#define NS_PER_S 1000000000LL

static long long nz(long long v)
{
	return v == REPORT_NULL ? 0 : v;
}

struct ctx {
	FILE *out;
	enum report_format format;
	int nruns;               /* runs written so far */
};

/* One text line, never wider than REPORT_TEXT_WIDTH columns. */
static void tline(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void tline(struct ctx *c, const char *fmt, ...)
{
	char line[1024], cut[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(c->out, "%s\n", report__clip(line, REPORT_TEXT_WIDTH, cut, sizeof(cut)));
}

/* ---------- SLO ---------- */

/* ---------- text ---------- */

/* The group's resource column: resource/subresource, or the path of a non-resource request. */
static void call_name(const struct report_call *k, char *buf, size_t n)
{
	if (k->resource && *k->resource)
		snprintf(buf, n, "%s%s%s", k->resource, k->subresource && *k->subresource ? "/" : "",
			 k->subresource ? k->subresource : "");
	else
		snprintf(buf, n, "%s", report_str_or(k->path, "-"));
}

/* "ok", "-" (outside the SLO), "FAIL (p99 1.20s > 1s)", or when SHORT "FAIL >1s". */
static void slo_text(const struct report_call *k, bool short_form, char *buf, size_t n)
{
	char p99[32];

	if (k->slo_ok < 0) {
		snprintf(buf, n, "-");
	} else if (k->slo_ok) {
		snprintf(buf, n, "ok");
	} else if (short_form) {
		snprintf(buf, n, "FAIL >%llds", k->slo_threshold_ns / NS_PER_S);
	} else if (k->p99_ns <= k->slo_threshold_ns) {
		/* The run's p99 is fine, but some 5-minute window's is not. */
		snprintf(buf, n, "FAIL (%lld/%lld windows > %llds)", k->slo_windows_failed,
			 k->slo_windows, k->slo_threshold_ns / NS_PER_S);
	} else {
		report__fmt_ns(k->p99_ns, p99, sizeof(p99));
		snprintf(buf, n, "FAIL (p99 %s > %llds)", p99, k->slo_threshold_ns / NS_PER_S);
	}
}


static void text_target(struct ctx *c, const struct report_target *t, bool first)
{
	char b[64], d[64], tmp[512], tmp2[512], ver[128] = "";
	const char *k8s = t->k8s_version, *etcd = t->etcd_version;
	int w;

	snprintf(tmp2, sizeof(tmp2), "pid %-7d %-9s %-10s", (int)t->pid,
		 report_str_or(t->component, "?"), report_str_or(t->go_version, "-"));
	if (t->host)   /* a run merged from several masters' files: on which */
		snprintf(tmp2, sizeof(tmp2), "%.16s pid %-7d %-9s %-10s", t->host, (int)t->pid,
			 report_str_or(t->component, "?"), report_str_or(t->go_version, "-"));
	if (k8s || etcd)
		snprintf(ver, sizeof(ver), " (%s%s%s%s)", k8s ? "kubernetes " : "",
			 k8s ? k8s : "", k8s && etcd ? ", etcd " : etcd ? "etcd " : "",
			 etcd ? etcd : "");
	snprintf(d, sizeof(d), "%.63s", ver);  /* the versions, cut as ever to 63 bytes */
	w = 50 - report__dwidth(d) > 20 ? 50 - report__dwidth(d) : 20;
	tline(c, "  %-9s %s %s%s", first ? "targets" : "", report__clip(tmp2, 40, tmp, sizeof(tmp)),
	      report__clip(report_str_or(t->exe, "?"), w, b, sizeof(b)), d);
}

/* Targets A and B are one server, restarted: the same component, or for 'other' the same file. */
static bool same_server(const struct report_target *a, const struct report_target *b)
{
	const char *ca = report_str_or(a->component, ""), *cb = report_str_or(b->component, "");

	if (strcmp(ca, cb))
		return false;
	return strcmp(ca, "other") ? true : !strcmp(report_str_or(a->exe, ""), report_str_or(b->exe, ""));
}

/*
 * A server followed across restarts (issue 13.2): one line saying how
 * often, then each process's start and exit. Nothing for a run whose
 * targets never restarted, so such reports stay as they were.
 */
static void text_restarts(struct ctx *c, const struct report_run *r)
{
	char a[64], b[64], tmp[512];
	size_t i, k;

	for (i = 0; i < r->ntargets; i++) {
		const struct report_target *t = &r->targets[i];
		int n = 0, exits = 0;
		bool seen = false;

		for (k = 0; k < i && !seen; k++)
			seen = same_server(&r->targets[k], t);
		for (k = i; k < r->ntargets && !seen; k++)
			if (same_server(&r->targets[k], t)) {
				n++;
				exits += r->targets[k].exited_ns != REPORT_NULL;
			}
		if (seen || n < 2 || !exits)
			continue;
		tline(c, "  restarts  %s '%s' restarted %d times", report_str_or(t->component, "?"),
		      report__clip(report_str_or(t->exe, "?"), 60, tmp, sizeof(tmp)), n - 1);
		for (k = i; k < r->ntargets; k++) {
			const struct report_target *u = &r->targets[k];

			if (!same_server(u, t))
				continue;
			report__fmt_utc(u->started_ns != REPORT_NULL ? u->started_ns : u->attached_ns, a, sizeof(a));
			if (u->exited_ns != REPORT_NULL)
				report__fmt_utc(u->exited_ns, b, sizeof(b));
			tline(c, "            pid %-7d started %s, %s%s", (int)u->pid, a,
			      u->exited_ns != REPORT_NULL ? "exited " : "running at the end",
			      u->exited_ns != REPORT_NULL ? b : "");
		}
	}
}

static void text_header(struct ctx *c, const struct report_run *r)
{
	const bool has_ended = r->stored.ended_ns != REPORT_NULL;
	char a[64], b[64], d[64], tmp[512], tmp2[512], note[160];

	if (c->nruns)
		tline(c, "%s", "");
	tline(c, "run '%s' (%s)", report__clip(r->label, 60, tmp, sizeof(tmp)),
	      report__clip(r->kind, 20, tmp2, sizeof(tmp2)));
	report__fmt_utc(r->started_ns, a, sizeof(a));
	tline(c, "  started   %s", a);
	if (has_ended) {
		report__fmt_utc(r->ended_ns, b, sizeof(b));
		report__fmt_span(r->ended_ns - r->started_ns, d, sizeof(d));
		tline(c, "  ended     %s, after %s", b, d);
	} else {
		tline(c, "  ended     - (still recording, or the recorder was killed)");
	}
	if (!has_ended && r->duration_ns >= 0) {
		report__fmt_span(r->duration_ns, d, sizeof(d));
		tline(c, "            last request ended %s after the start", d);
	}
	if (r->nodes >= 0 || r->pods >= 0 || r->namespaces >= 0) {
		char nn[32] = "?", pp[32] = "?", ns[32] = "?";

		if (r->nodes >= 0)
			snprintf(nn, sizeof(nn), "%lld", r->nodes);
		if (r->pods >= 0)
			snprintf(pp, sizeof(pp), "%lld", r->pods);
		if (r->namespaces >= 0)
			snprintf(ns, sizeof(ns), "%lld", r->namespaces);
		tline(c, "  cluster   %s nodes, %s pods, %s namespaces (from %s)", nn, pp, ns,
		      report__clip(report_str_or(r->cluster_source, "?"), 20, tmp, sizeof(tmp)));
	}
	if (r->host || r->kernel)
		tline(c, "  host      %s, kernel %s",
		      report__clip(report_str_or(r->host, "?"), 40, tmp, sizeof(tmp)),
		      report__clip(report_str_or(r->kernel, "?"), 40, tmp2, sizeof(tmp2)));
	if (r->stored.requests != REPORT_NULL)
		tline(c, "  requests  %lld, lost events %lld, unmatched %lld", r->stored.requests,
		      nz(r->stored.lost_events), nz(r->stored.unmatched));
	else
		tline(c, "  requests  %lld stored", r->requests);
	if (report__drop_note(r, note, sizeof(note))) {
		tline(c, "  dropped   %s", note);
		tline(c, "            and %lld other rows (CPU stacks, syscalls, sockets, metrics)",
		      r->dropped_rows);
	}
	for (size_t i = 0; i < r->ntargets; i++)
		text_target(c, &r->targets[i], i == 0);
	if (!r->ntargets)
		tline(c, "  targets   none");
	text_restarts(c, r);
}

enum { C_VERB, C_RES, C_SCOPE, C_COUNT, C_P50, C_P90, C_P99, C_MAX, C_ERR, C_SLO, NCOLS };

/* One table line: indent 2, numbers right-aligned, the last column unpadded. */
static void text_row(struct ctx *c, const int *w, int gap, const char *const *cell)
{
	static const bool right[NCOLS] = { [C_COUNT] = true, [C_P50] = true, [C_P90] = true,
					   [C_P99] = true, [C_MAX] = true, [C_ERR] = true };
	char line[2048];
	size_t o = 0;

	o += snprintf(line + o, sizeof(line) - o, "  ");
	for (int j = 0; j < NCOLS && o < sizeof(line); j++) {
		int pad = w[j] - report__dwidth(cell[j]);
		bool last = j == NCOLS - 1;

		if (pad < 0)
			pad = 0;
		if (right[j])
			o += snprintf(line + o, sizeof(line) - o, "%*s%s", pad, "", cell[j]);
		else
			o += snprintf(line + o, sizeof(line) - o, "%s%*s", cell[j], last ? 0 : pad, "");
		if (!last && o < sizeof(line))
			o += snprintf(line + o, sizeof(line) - o, "%*s", gap, "");
	}
	tline(c, "%s", line);
}

static void text_table(struct ctx *c, const struct report_call *calls, size_t n)
{
	static const char *const head[NCOLS] = {
		"verb", "resource", "scope", "count", "p50", "p90", "p99", "max", "errors", "SLO",
	};
	char cell[NCOLS][256], cut[512];
	bool short_slo = false;
	int w[NCOLS], total, gap = 2;
	size_t start = 0;

	if (!n) {
		tline(c, "%s", "");
		tline(c, "  no requests recorded");
		return;
	}
	/* Column widths over the whole run, so each component's table lines up with the next. */
	for (int j = 0; j < NCOLS; j++)
		w[j] = report__dwidth(head[j]);
	for (size_t i = 0; i < n; i++) {
		char name[512], slo[64];

		call_name(&calls[i], name, sizeof(name));
		slo_text(&calls[i], false, slo, sizeof(slo));
		if (report__dwidth(report_str_or(calls[i].verb, "-")) > w[C_VERB])
			w[C_VERB] = report__dwidth(report_str_or(calls[i].verb, "-"));
		if (report__dwidth(name) > w[C_RES])
			w[C_RES] = report__dwidth(name);
		if (report__dwidth(report_str_or(calls[i].scope, "-")) > w[C_SCOPE])
			w[C_SCOPE] = report__dwidth(report_str_or(calls[i].scope, "-"));
		snprintf(cell[0], sizeof(cell[0]), "%lld", calls[i].count);
		if ((int)strlen(cell[0]) > w[C_COUNT])
			w[C_COUNT] = strlen(cell[0]);
		for (int j = C_P50; j <= C_MAX; j++)
			if (w[j] < 6)
				w[j] = 6;
		snprintf(cell[0], sizeof(cell[0]), "%lld", calls[i].errors);
		if ((int)strlen(cell[0]) > w[C_ERR])
			w[C_ERR] = strlen(cell[0]);
		if (report__dwidth(slo) > w[C_SLO])
			w[C_SLO] = report__dwidth(slo);
	}
	/*
	 * Indent 2, gaps of 2. When that is wider than REPORT_TEXT_WIDTH, give way
	 * in order: gaps of 1, long resource names (cut with an ellipsis;
	 * json has them whole), then the SLO cell's repeat of the p99.
	 */
	total = 2;
	for (int j = 0; j < NCOLS; j++)
		total += w[j] + gap;
	total -= gap;
	if (total > REPORT_TEXT_WIDTH) {
		total -= NCOLS - 1;
		gap = 1;
	}
	if (total > REPORT_TEXT_WIDTH) {
		int shrink = total - REPORT_TEXT_WIDTH;

		if (w[C_RES] - shrink < 16)
			shrink = w[C_RES] > 16 ? w[C_RES] - 16 : 0;
		w[C_RES] -= shrink;
		total -= shrink;
	}
	if (total > REPORT_TEXT_WIDTH) {
		short_slo = true;
		w[C_SLO] = 8;
		for (size_t i = 0; i < n; i++) {
			char slo[64];

			slo_text(&calls[i], true, slo, sizeof(slo));
			if (report__dwidth(slo) > w[C_SLO])
				w[C_SLO] = report__dwidth(slo);
		}
	}

	while (start < n) {
		const char *comp = report_str_or(calls[start].component, "-");
		size_t end = start;

		while (end < n && strcmp(report_str_or(calls[end].component, "-"), comp) == 0)
			end++;
		tline(c, "%s", "");
		tline(c, "%s", report__clip(comp, REPORT_TEXT_WIDTH, cut, sizeof(cut)));
		text_row(c, w, gap, head);
		for (size_t i = start; i < end; i++) {
			const struct report_call *k = &calls[i];
			const char *cells[NCOLS];
			char name[512];

			call_name(k, name, sizeof(name));
			report__clip(report_str_or(k->verb, "-"), w[C_VERB], cell[C_VERB], sizeof(cell[0]));
			report__clip(name, w[C_RES], cell[C_RES], sizeof(cell[0]));
			report__clip(report_str_or(k->scope, "-"), w[C_SCOPE], cell[C_SCOPE], sizeof(cell[0]));
			snprintf(cell[C_COUNT], sizeof(cell[0]), "%lld", k->count);
			report__fmt_ns(k->p50_ns, cell[C_P50], sizeof(cell[0]));
			report__fmt_ns(k->p90_ns, cell[C_P90], sizeof(cell[0]));
			report__fmt_ns(k->p99_ns, cell[C_P99], sizeof(cell[0]));
			report__fmt_ns(k->max_ns, cell[C_MAX], sizeof(cell[0]));
			snprintf(cell[C_ERR], sizeof(cell[0]), "%lld", k->errors);
			slo_text(k, short_slo, cell[C_SLO], sizeof(cell[0]));
			for (int j = 0; j < NCOLS; j++)
				cells[j] = cell[j];
			text_row(c, w, gap, cells);
		}
		start = end;
	}
}

static void text_footer(struct ctx *c)
{
	tline(c, "%s", "");
	tline(c, "percentiles are exact (nearest rank); errors are HTTP 5xx and 429, and gRPC");
	tline(c, "calls not OK (but a watch ended by its client, Canceled)");
	tline(c, "SLO: Kubernetes API-call latency, p99 <= 1s (mutating, get), 5s (namespace list),");
	tline(c, "30s (cluster list), in every 5-minute window from the start (the worst counts);");
	tline(c, "'-' excluded");
}

/* ---------- markdown ---------- */

void report__md_text(FILE *out, const char *s)
{
	for (s = report_str_or(s, "-"); *s; s++) {
		unsigned char ch = *s;

		if (ch < 0x20 || ch == 0x7f)
			ch = ' ';
		if (strchr("\\|*_`<>[]#", ch))
			fputc('\\', out);
		fputc(ch, out);
	}
}

static void md_cell(FILE *out, const char *s)
{
	fputc(' ', out);
	report__md_text(out, s);
	fputs(" |", out);
}

static void md_header(struct ctx *c, const struct report_run *r)
{
	char a[64], b[64], d[64], note[160];

	fputs(c->nruns ? "\n## Run " : "## Run ", c->out);
	report__md_text(c->out, r->label);
	fputs(" (", c->out);
	report__md_text(c->out, r->kind);
	fputs(")\n\n", c->out);
	report__fmt_utc(r->started_ns, a, sizeof(a));
	fprintf(c->out, "- started: %s\n", a);
	if (r->stored.ended_ns != REPORT_NULL) {
		report__fmt_utc(r->ended_ns, b, sizeof(b));
		report__fmt_span(r->ended_ns - r->started_ns, d, sizeof(d));
		fprintf(c->out, "- ended: %s, after %s\n", b, d);
	} else {
		fprintf(c->out, "- ended: - (still recording, or the recorder was killed)\n");
	}
	fputs("- host: ", c->out);
	report__md_text(c->out, r->host);
	fputs(", kernel ", c->out);
	report__md_text(c->out, r->kernel);
	fputc('\n', c->out);
	if (r->stored.requests != REPORT_NULL)
		fprintf(c->out, "- requests: %lld, lost events %lld, unmatched %lld\n",
			r->stored.requests, nz(r->stored.lost_events), nz(r->stored.unmatched));
	else
		fprintf(c->out, "- requests: %lld stored\n", r->requests);
	if (report__drop_note(r, note, sizeof(note)))
		fprintf(c->out, "- **%s**, and %lld other rows (CPU stacks, syscalls, sockets, metrics)\n",
			note, r->dropped_rows);
	if (r->nodes >= 0 || r->pods >= 0 || r->namespaces >= 0) {
		fprintf(c->out, "- cluster: %lld nodes, %lld pods, %lld namespaces (-1: unknown; from ",
			r->nodes, r->pods, r->namespaces);
		report__md_text(c->out, r->cluster_source);
		fputs(")\n", c->out);
	}
	fputs("- targets:\n", c->out);
	for (size_t i = 0; i < r->ntargets; i++) {
		const struct report_target *t = &r->targets[i];

		fprintf(c->out, "  - pid %d ", (int)t->pid);
		report__md_text(c->out, t->component);
		fputc(' ', c->out);
		report__md_text(c->out, t->go_version);
		fputc(' ', c->out);
		report__md_text(c->out, t->exe);
		if (t->k8s_version) {
			fputs(", kubernetes ", c->out);
			report__md_text(c->out, t->k8s_version);
		}
		if (t->etcd_version) {
			fputs(", etcd ", c->out);
			report__md_text(c->out, t->etcd_version);
		}
		fputc('\n', c->out);
	}
}

static void md_calls(struct ctx *c, const struct report_call *calls, size_t n)
{
	fputs("\n| component | verb | resource | scope | count | p50 | p90 | p99 | max | errors | SLO |\n"
	      "|---|---|---|---|--:|--:|--:|--:|--:|--:|---|\n", c->out);
	for (size_t i = 0; i < n; i++) {
		const struct report_call *k = &calls[i];
		char name[512], v[5][32], slo[64];

		call_name(k, name, sizeof(name));
		report__fmt_ns(k->p50_ns, v[0], sizeof(v[0]));
		report__fmt_ns(k->p90_ns, v[1], sizeof(v[1]));
		report__fmt_ns(k->p99_ns, v[2], sizeof(v[2]));
		report__fmt_ns(k->max_ns, v[3], sizeof(v[3]));
		slo_text(k, false, slo, sizeof(slo));
		fputc('|', c->out);
		md_cell(c->out, k->component);
		md_cell(c->out, k->verb);
		md_cell(c->out, name);
		md_cell(c->out, k->scope);
		fprintf(c->out, " %lld | %s | %s | %s | %s | %lld |", k->count, v[0], v[1], v[2],
			v[3], k->errors);
		md_cell(c->out, slo);
		fputc('\n', c->out);
	}
}
/* ---------- syscalls and served connections ---------- */

#define SYS_TEXT_INTERVALS 40   /* text shows at most this many lines over time */

static void sys_finish(struct report_sys *g)
{
	g->count = (long long)loghist__total(g->hist);
	g->p50_ns = (long long)loghist__percentile(g->hist, 50);
	g->p99_ns = (long long)loghist__percentile(g->hist, 99);
}

static void sys_fmt_ns(long long ns, char *buf, size_t n)
{
	if (ns >= (long long)LOGHIST_INF)
		snprintf(buf, n, ">120s");
	else
		report__fmt_ns(ns, buf, n);
}

static void sys_mean(const struct report_sys *g, char *buf, size_t n)
{
	if (g->count)
		report__fmt_ns(g->sum_ns / g->count, buf, n);
	else
		snprintf(buf, n, "-");
}

/* Text: interval lines over time, merging consecutive intervals to at most SYS_TEXT_INTERVALS lines. */
static void text_over_time(struct ctx *c, const struct report_sys *iv, size_t n)
{
	size_t step = (n + SYS_TEXT_INTERVALS - 1) / SYS_TEXT_INTERVALS;

	tline(c, "  %-23s %8s %8s %8s %8s", "interval", "length", "count", "p50", "p99");
	for (size_t i = 0; i < n; i += step) {
		struct report_sys m = iv[i];
		char a[64], len[32], p50[32], p99[32];

		for (size_t j = i + 1; j < i + step && j < n; j++) {
			loghist__merge(m.hist, iv[j].hist);
			m.len_ns = iv[j].start_ns + iv[j].len_ns - m.start_ns;
		}
		sys_finish(&m);
		report__fmt_utc(m.start_ns, a, sizeof(a));
		report__fmt_span(m.len_ns, len, sizeof(len));
		sys_fmt_ns(m.p50_ns, p50, sizeof(p50));
		sys_fmt_ns(m.p99_ns, p99, sizeof(p99));
		tline(c, "  %-23s %8s %8lld %8s %8s", a, len, m.count, p50, p99);
	}
}

static void md_sys(FILE *o, const struct report_run *r)
{
	const struct report_sys *wal = r->wal, *iv = r->wal_iv, *tg = r->syscalls;
	const struct report_client *cl = r->clients;
	char v[6][32];

	if (r->nwal) {
		fputs("\n### etcd WAL fsync\n\n| syscall | count | p50 | p99 | mean |\n"
		      "|---|--:|--:|--:|--:|\n", o);
		for (size_t i = 0; i < r->nwal; i++) {
			sys_fmt_ns(wal[i].p50_ns, v[0], sizeof(v[0]));
			sys_fmt_ns(wal[i].p99_ns, v[1], sizeof(v[1]));
			sys_mean(&wal[i], v[2], sizeof(v[2]));
			fprintf(o, "| %s | %lld | %s | %s | %s |\n", wal[i].syscall,
				wal[i].count, v[0], v[1], v[2]);
		}
		fputs("\n| syscall | interval | length | count | p50 | p99 |\n"
		      "|---|---|--:|--:|--:|--:|\n", o);
		for (size_t j = 0; j < r->nwal_iv; j++) {
			report__fmt_utc(iv[j].start_ns, v[3], sizeof(v[3]));
			report__fmt_span(iv[j].len_ns, v[4], sizeof(v[4]));
			sys_fmt_ns(iv[j].p50_ns, v[0], sizeof(v[0]));
			sys_fmt_ns(iv[j].p99_ns, v[1], sizeof(v[1]));
			fprintf(o, "| %s | %s | %s | %lld | %s | %s |\n", iv[j].syscall, v[3],
				v[4], iv[j].count, v[0], v[1]);
		}
	}
	if (r->nclients) {
		fputs("\n### clients served\n\n| component | accepted | closed | peers (max per interval) "
		      "| bytes in | bytes out | retransmits |\n|---|--:|--:|--:|--:|--:|--:|\n", o);
		for (size_t i = 0; i < r->nclients; i++) {
			fputc('|', o);
			md_cell(o, cl[i].component);
			fprintf(o, " %lld | %lld | %lld | %lld | %lld | %lld |\n", cl[i].accepted,
				cl[i].closed, cl[i].peers_max, cl[i].bytes_in, cl[i].bytes_out,
				cl[i].retransmits);
		}
	}
	if (r->nsyscalls) {
		fputs("\n### syscalls per target\n\n| component | pid | syscall | count | p50 | p99 | mean |\n"
		      "|---|--:|---|--:|--:|--:|--:|\n", o);
		for (size_t i = 0; i < r->nsyscalls; i++) {
			char comp[160];

			sys_fmt_ns(tg[i].p50_ns, v[0], sizeof(v[0]));
			sys_fmt_ns(tg[i].p99_ns, v[1], sizeof(v[1]));
			sys_mean(&tg[i], v[2], sizeof(v[2]));
			fputc('|', o);
			/* a run merged from several masters: whose target */
			snprintf(comp, sizeof(comp), "%s%s%.64s%s", tg[i].component,
				 tg[i].host ? " (" : "", tg[i].host ? tg[i].host : "", tg[i].host ? ")" : "");
			md_cell(o, comp);
			fprintf(o, " %lld | %s | %lld | %s | %s | %s |\n", tg[i].pid,
				tg[i].syscall, tg[i].count, v[0], v[1], v[2]);
		}
	}
}

static void text_wal(struct ctx *c, const struct report_run *r)
{
	const struct report_sys *wal = r->wal, *iv = r->wal_iv;
	char v[3][32];

	tline(c, "%s", "");
	tline(c, "etcd WAL fsync (percentiles are log-linear bucket bounds, <= 25%% high)");
	tline(c, "  %-12s %10s %8s %8s %8s", "syscall", "count", "p50", "p99", "mean");
	for (size_t i = 0; i < r->nwal; i++) {
		sys_fmt_ns(wal[i].p50_ns, v[0], sizeof(v[0]));
		sys_fmt_ns(wal[i].p99_ns, v[1], sizeof(v[1]));
		sys_mean(&wal[i], v[2], sizeof(v[2]));
		tline(c, "  %-12s %10lld %8s %8s %8s", wal[i].syscall, wal[i].count,
		      v[0], v[1], v[2]);
	}
	for (size_t i = 0, j = 0; i < r->nwal; i++) {
		size_t k = j;

		while (k < r->nwal_iv && strcmp(iv[k].syscall, wal[i].syscall) == 0)
			k++;
		tline(c, "  %s over time", wal[i].syscall);
		text_over_time(c, iv + j, k - j);
		j = k;
	}
}

static void text_sys(struct ctx *c, const struct report_run *r)
{
	const struct report_sys *tg = r->syscalls;
	const struct report_client *cl = r->clients;
	char v[3][32];

	if (r->nwal)
		text_wal(c, r);
	if (r->nclients) {
		tline(c, "%s", "");
		tline(c, "clients served (TCP connections on the targets' listening ports)");
		tline(c, "  %-10s %9s %8s %10s %12s %12s %8s", "component", "accepted", "closed",
		      "peers max", "bytes in", "bytes out", "retrans");
		for (size_t i = 0; i < r->nclients; i++)
			tline(c, "  %-10.10s %9lld %8lld %10lld %12lld %12lld %8lld",
			      cl[i].component, cl[i].accepted, cl[i].closed, cl[i].peers_max,
			      cl[i].bytes_in, cl[i].bytes_out, cl[i].retransmits);
		tline(c, "  peers max: most distinct client addresses seen in one interval");
	}
	if (r->nsyscalls) {
		tline(c, "%s", "");
		tline(c, "syscalls per target");
		tline(c, "  %-10s %8s %-16s %10s %8s %8s %8s", "component", "pid", "syscall",
		      "count", "p50", "p99", "mean");
		for (size_t i = 0; i < r->nsyscalls; i++) {
			/* a run merged from several masters: each one's targets under its name */
			if (tg[i].host && (!i || tg[i - 1].host != tg[i].host))
				tline(c, "  on %s", report__clip(tg[i].host, 60, v[0], sizeof(v[0])));
			sys_fmt_ns(tg[i].p50_ns, v[0], sizeof(v[0]));
			sys_fmt_ns(tg[i].p99_ns, v[1], sizeof(v[1]));
			sys_mean(&tg[i], v[2], sizeof(v[2]));
			tline(c, "  %-10.10s %8lld %-16.16s %10lld %8s %8s %8s", tg[i].component,
			      tg[i].pid, tg[i].syscall, tg[i].count, v[0], v[1], v[2]);
		}
	}
}
/* ---------- CPU ---------- */

static double share(long long part, long long whole)
{
	return whole > 0 ? (double)part / whole : 0;
}

/* Text and Markdown of the CPU section. */
static void cpu_text(struct ctx *c, const struct report_cpu *cpu)
{
	char a[32], b[32], name[512], cut[256];

	if (!cpu)
		return;
	if (c->format == REPORT_MD) {
		fputs("\n### CPU (sampled)\n\n| component | samples | sampled CPU | kernel CPU "
		      "| serialization | unknown | top categories |\n|---|--:|--:|--:|--:|--:|---|\n",
		      c->out);
	} else {
		tline(c, "%s", "");
		tline(c, "CPU (sampled; kernel = CPU time /proc accounted to the targets, the check)");
		tline(c, "  %-10s %9s %9s %9s %6s %6s  %s", "component", "samples", "sampled", "kernel",
		      "serial", "unknwn", "top categories");
	}
	for (size_t i = 0; i < cpu->ncomps; i++) {
		const struct report_cpu_comp *cc = &cpu->comps[i];
		char top[256];
		size_t o = 0;

		report__fmt_ns(cc->cpu_ns, a, sizeof(a));
		report__fmt_ns(cc->kernel_cpu_ns, b, sizeof(b));
		top[0] = '\0';
		for (size_t j = 0; j < cc->ncats && j < 4 && o < sizeof(top) - 1; j++)
			o += snprintf(top + o, sizeof(top) - o, "%s%s %.0f%%", j ? ", " : "",
				      cc->cats[j].category, 100 * share(cc->cats[j].cpu_ns, cc->cpu_ns));
		if (c->format == REPORT_MD) {
			fputc('|', c->out);
			md_cell(c->out, cc->component);
			fprintf(c->out, " %lld | %s | %s | %.1f%% | %.1f%% |", cc->samples, a, b,
				100 * share(cc->ser_ns, cc->cpu_ns),
				100 * share(cc->unknown_ns, cc->cpu_ns));
			md_cell(c->out, top);
			fputc('\n', c->out);
		} else {
			tline(c, "  %-10.10s %9lld %9s %9s %5.1f%% %5.1f%%  %s", cc->component,
			      cc->samples, a, b, 100 * share(cc->ser_ns, cc->cpu_ns),
			      100 * share(cc->unknown_ns, cc->cpu_ns), report__clip(top, 40, cut, sizeof(cut)));
		}
	}
	if (c->format == REPORT_MD)
		fputs("\nSerialization is json_encode, json_decode, protobuf_encode, protobuf_decode "
		      "and yaml; gzip is compression, not serialization. unknown: samples that "
		      "could not be symbolized.\n", c->out);
	else
		tline(c, "  serial: json/protobuf encode+decode and yaml (gzip is compression, not "
		      "counted); unknwn: not symbolized");
	if (!cpu->nser)
		return;
	if (c->format == REPORT_MD)
		fputs("\n| component | verb | resource | scope | serialization CPU | requests "
		      "| per request |\n|---|---|---|---|--:|--:|--:|\n", c->out);
	else {
		tline(c, "%s", "");
		tline(c, "serialization CPU per request (top %d)", 15);
		tline(c, "  %-10s %-10s %-32s %-9s %9s %9s %9s", "component", "verb", "resource", "scope",
		      "CPU", "requests", "per req");
	}
	for (size_t i = 0; i < cpu->nser && (c->format == REPORT_MD || i < 15); i++) {
		const struct report_ser *s = &cpu->ser[i];

		report__fmt_ns(s->ser_ns, a, sizeof(a));
		if (s->requests)
			report__fmt_ns(s->ser_ns / s->requests, b, sizeof(b));
		else
			snprintf(b, sizeof(b), "-");
		snprintf(name, sizeof(name), "%s%s%s", report_str_or(s->resource, "-"),
			 *s->subresource ? "/" : "", s->subresource);
		if (c->format == REPORT_MD) {
			fputc('|', c->out);
			md_cell(c->out, s->component);
			md_cell(c->out, report_str_or(s->verb, "-"));
			md_cell(c->out, name);
			md_cell(c->out, report_str_or(s->scope, "-"));
			fprintf(c->out, " %s | %lld | %s |\n", a, s->requests, b);
		} else {
			char v[64], sc[64];

			tline(c, "  %-10.10s %-10s %-32s %-9s %9s %9lld %9s", s->component,
			      report__clip(report_str_or(s->verb, "-"), 10, v, sizeof(v)),
			      report__clip(name, 32, cut, sizeof(cut)),
			      report__clip(report_str_or(s->scope, "-"), 9, sc, sizeof(sc)), a, s->requests, b);
		}
	}
}

/* ---------- the calls' other sections ---------- */

#define TEXT_TIME_LINES 20

static void slo_windows(struct ctx *c, const struct report_call *calls, size_t n)
{
	bool md = c->format == REPORT_MD, any = false;
	char name[512], a[64], b[64], cut[256], line[512];

	for (size_t i = 0; i < n; i++) {
		const struct report_call *k = &calls[i];

		if (k->slo_ok != 0)
			continue;
		if (!any) {
			if (md)
				fputs("\n### SLO windows that failed\n\n| component | verb | resource "
				      "| scope | failed windows | worst window | its p99 (bucket) |\n"
				      "|---|---|---|---|--:|---|--:|\n", c->out);
			else {
				tline(c, "%s", "");
				tline(c, "SLO: 5-minute windows from the run's start; a kind fails if any does");
			}
			any = true;
		}
		call_name(k, name, sizeof(name));
		report__fmt_utc(k->slo_worst_start_ns, a, sizeof(a));
		report__fmt_ns(k->slo_worst_p99_ns, b, sizeof(b));
		if (md) {
			fputc('|', c->out);
			md_cell(c->out, k->component);
			md_cell(c->out, k->verb);
			md_cell(c->out, name);
			md_cell(c->out, k->scope);
			fprintf(c->out, " %lld of %lld | %s | %s |\n", k->slo_windows_failed,
				k->slo_windows, a, b);
		} else {
			snprintf(line, sizeof(line), "%.60s %.300s %.60s", report_str_or(k->verb, "-"), name,
				 report_str_or(k->scope, "-"));
			tline(c, "  %-44s %3lld of %-3lld failed, worst %s p99 %s",
			      report__clip(line, 44, cut, sizeof(cut)), k->slo_windows_failed, k->slo_windows,
			      a + 11, b);
		}
	}
}

static void errors_by_status(struct ctx *c, const struct report_call *calls, size_t n)
{
	bool md = c->format == REPORT_MD, any = false;
	char name[512], cut[256], line[512];

	for (size_t i = 0; i < n; i++) {
		const struct report_call *k = &calls[i];
		size_t o = 0;

		if (!k->errors)
			continue;
		if (!any) {
			if (md)
				fputs("\n### Errors by status\n\n| component | verb | resource | scope "
				      "| errors | by status |\n|---|---|---|---|--:|---|\n", c->out);
			else {
				tline(c, "%s", "");
				tline(c, "errors by status (HTTP status, or gRPC code)");
			}
			any = true;
		}
		line[0] = '\0';
		for (size_t j = 0; j < k->nstatuses && o < sizeof(line) - 1; j++)
			if (k->statuses[j].error)
				o += snprintf(line + o, sizeof(line) - o, "%s%d x%lld", o ? ", " : "",
					      k->statuses[j].status, k->statuses[j].count);
		call_name(k, name, sizeof(name));
		if (md) {
			fputc('|', c->out);
			md_cell(c->out, k->component);
			md_cell(c->out, k->verb);
			md_cell(c->out, name);
			md_cell(c->out, k->scope);
			fprintf(c->out, " %lld |", k->errors);
			md_cell(c->out, line);
			fputc('\n', c->out);
		} else {
			char kind[256];

			snprintf(kind, sizeof(kind), "%.30s %.30s %.150s %.30s", report_str_or(k->component, "-"),
				 report_str_or(k->verb, "-"), name, report_str_or(k->scope, "-"));
			tline(c, "  %-50s %s", report__clip(kind, 50, cut, sizeof(cut)), line);
		}
	}
}

/* Requests over time: every kind summed per timeline window, in at most TEXT_TIME_LINES lines. */
static void requests_over_time(struct ctx *c, const struct report_call *calls, size_t n,
			       long long tl_ns)
{
	bool md = c->format == REPORT_MD;
	char a[64], b[64];
	long long nwin = 0;
	struct report_window *tot = NULL;

	{
		long long first = -1, last = -1;

		for (size_t i = 0; i < n; i++)
			for (size_t j = 0; j < calls[i].ntimeline; j++) {
				long long s = calls[i].timeline[j].start_ns;

				if (first < 0 || s < first)
					first = s;
				if (s > last)
					last = s;
			}
		if (first < 0 || tl_ns <= 0)
			return;
		nwin = (last - first) / tl_ns + 1;
		if (nwin > 100000 || !(tot = calloc(nwin, sizeof(*tot))))
			return;
		for (long long w = 0; w < nwin; w++)
			tot[w].start_ns = first + w * tl_ns;
		for (size_t i = 0; i < n; i++)
			for (size_t j = 0; j < calls[i].ntimeline; j++) {
				const struct report_window *x = &calls[i].timeline[j];
				long long w = (x->start_ns - first) / tl_ns;

				tot[w].count += x->count;
				tot[w].errors += x->errors;
			}
	}
	{
		long long step = (nwin + TEXT_TIME_LINES - 1) / TEXT_TIME_LINES;

		report__fmt_span(tl_ns * step, b, sizeof(b));
		if (md)
			fprintf(c->out, "\n### Requests over time (%s windows)\n\n| from | requests "
				"| per second | errors |\n|---|--:|--:|--:|\n", b);
		else {
			tline(c, "%s", "");
			tline(c, "requests over time (%s windows; JSON has every kind's p50/p99 per window)",
			      b);
			tline(c, "  %-23s %10s %10s %8s", "from", "requests", "per s", "errors");
		}
		for (long long w = 0; w < nwin; w += step) {
			long long cnt = 0, errs = 0;

			for (long long j = w; j < w + step && j < nwin; j++) {
				cnt += tot[j].count;
				errs += tot[j].errors;
			}
			report__fmt_utc(tot[w].start_ns, a, sizeof(a));
			if (md)
				fprintf(c->out, "| %s | %lld | %.1f | %lld |\n", a, cnt,
					cnt / (tl_ns * step / 1e9), errs);
			else
				tline(c, "  %-23s %10lld %10.1f %8lld", a, cnt,
				      cnt / (tl_ns * step / 1e9), errs);
		}
	}
	free(tot);
}

/*
 * Text and Markdown sections after the calls table: the SLO windows of
 * kinds that failed in some, errors by status, and requests over time.
 */
static void calls_more(struct ctx *c, const struct report_call *calls, size_t n,
		       long long tl_ns)
{
	slo_windows(c, calls, n);
	errors_by_status(c, calls, n);
	requests_over_time(c, calls, n, tl_ns);
}

/* ---------- the components' own metrics ---------- */

/* A row of the agreement table, text or Markdown. */
static void agree_row(struct ctx *c, const char *what, const char *cpprof, const char *metric,
		      const struct report_verdict *v)
{
	char a[64], b[64];

	if (c->format == REPORT_MD) {
		fputc('|', c->out);
		md_cell(c->out, what);
		md_cell(c->out, cpprof);
		md_cell(c->out, metric);
		md_cell(c->out, v->verdict);
		md_cell(c->out, v->reason);
		fputc('\n', c->out);
	} else {
		tline(c, "  %-36s %10s %10s  %-8s %s", report__clip(what, 36, a, sizeof(a)),
		      report__clip(cpprof, 10, b, sizeof(b)), metric, v->verdict, v->reason);
	}
}

static void agree_head(struct ctx *c, const char *title)
{
	if (c->format == REPORT_MD) {
		fprintf(c->out, "\n### %s\n\n| check | cpprof | metric | verdict | reason |\n"
			"|---|--:|--:|---|---|\n", title);
	} else {
		tline(c, "%s", "");
		tline(c, "%s", title);
		tline(c, "  %-36s %10s %10s  %-8s %s", "check", "cpprof", "metric", "verdict", "reason");
	}
}

static void fmt_count(long long v, char *buf, size_t n)
{
	if (v < 0)
		snprintf(buf, n, "-");
	else
		snprintf(buf, n, "%lld", v);
}

/*
 * The agreement table: every apiserver call kind, etcd's fdatasync and
 * gRPC methods, and each endpoint's CPU beside the component's own
 * metrics, disagreements named with their reason, then the call kinds'
 * tally.
 */
static void agree_table(struct ctx *c, const struct report_run *r)
{
	const struct report_metrics *m = r->metrics;
	bool md = c->format == REPORT_MD;
	char name[512], what[600], a[64], b[64];
	long long agree = 0, disagree = 0, unknown = 0;

	agree_head(c, "Cross-check: cpprof beside the components' own metrics");
	for (size_t i = 0; i < r->ncalls; i++) {
		const struct report_call *k = &r->calls[i];
		const struct report_call_metrics *cm = k->metrics;

		if (!cm)
			continue;
		call_name(k, name, sizeof(name));
		snprintf(what, sizeof(what), "%s %s %s", k->verb, name, k->scope);
		fmt_count(k->count, a, sizeof(a));
		fmt_count(cm->count, b, sizeof(b));
		agree_row(c, what, a, b, &cm->verdict);
	}
	for (size_t i = 0; i < m->nmetric_only; i++) {
		const struct report_metric_call *o = &m->metric_only[i];
		struct report_verdict v = { .verdict = "disagree" };

		snprintf(what, sizeof(what), "%s %s%s%s %s", o->verb, o->resource,
			 o->subresource[0] ? "/" : "", o->subresource, o->scope);
		snprintf(v.reason, sizeof(v.reason), "only in apiserver_request_total");
		fmt_count(o->count, b, sizeof(b));
		agree_row(c, what, "0", b, &v);
	}
	if (m->has_etcd) {
		fmt_count(m->fdatasync, a, sizeof(a));
		snprintf(b, sizeof(b), "%.0f+2x%.0f", m->wal_fsync.total, m->backend_commit.total);
		agree_row(c, "etcd fdatasync (WAL + 2 x commit)", a, b, &m->fsync_count);
		report__fmt_ns(m->fdatasync_p50_ns, a, sizeof(a));
		agree_row(c, "etcd fdatasync p50 (wal_fsync)", a, "bucket", &m->fsync_p50);
		report__fmt_ns(m->fdatasync_p99_ns, a, sizeof(a));
		agree_row(c, "etcd fdatasync p99 (wal_fsync)", a, "bucket", &m->fsync_p99);
		for (size_t i = 0; i < m->ngrpc; i++) {
			const struct report_grpc_check *g = &m->grpc[i];

			snprintf(what, sizeof(what), "etcd gRPC %s", g->method);
			fmt_count(g->cpprof, a, sizeof(a));
			fmt_count(g->handled, b, sizeof(b));
			agree_row(c, what, a, b, &g->verdict);
		}
	}
	for (size_t i = 0; i < m->neps; i++) {
		const struct report_endpoint *e = &m->eps[i];

		if (e->cpu_seconds < 0 && e->cpprof_cpu_ns < 0)
			continue;
		snprintf(what, sizeof(what), "CPU s of %s", e->component);
		if (e->cpprof_cpu_ns < 0)
			snprintf(a, sizeof(a), "-");
		else
			snprintf(a, sizeof(a), "%.2f", e->cpprof_cpu_ns / 1e9);
		if (e->cpu_seconds < 0)
			snprintf(b, sizeof(b), "-");
		else
			snprintf(b, sizeof(b), "%.2f", e->cpu_seconds);
		agree_row(c, what, a, b, &e->cpu);
	}
	for (size_t i = 0; i < r->ncalls; i++)
		if (r->calls[i].metrics) {
			const char *v = r->calls[i].metrics->verdict.verdict;

			agree += !strcmp(v, "agree");
			disagree += !strcmp(v, "disagree");
			unknown += !strcmp(v, "unknown");
		}
	disagree += (long long)m->nmetric_only;
	if (md)
		fprintf(c->out, "\napiserver call kinds: %lld agree, %lld disagree, %lld unknown\n",
			agree, disagree, unknown);
	else
		tline(c, "  apiserver call kinds: %lld agree, %lld disagree, %lld unknown", agree,
		      disagree, unknown);
}

/* Scrapes: every endpoint, its errors named. */
static void scraped_endpoints(struct ctx *c, const struct report_metrics *m)
{
	bool md = c->format == REPORT_MD;
	char a[64];

	if (md)
		fputs("\n### Scraped endpoints\n\n| endpoint | component | scrapes | read | errors |\n"
		      "|---|---|--:|--:|---|\n", c->out);
	else {
		tline(c, "%s", "");
		tline(c, "%s", "Scraped endpoints");
	}
	for (size_t i = 0; i < m->neps; i++) {
		const struct report_endpoint *e = &m->eps[i];
		char errs[512] = "";
		size_t o = 0;

		for (int k = 1; k < SCRAPE_ERR__MAX && k < 16; k++)
			if (e->errors[k] && o < sizeof(errs))
				o += snprintf(errs + o, sizeof(errs) - o, "%s%d %s", o ? ", " : "",
					      e->errors[k], scrape_error_name(k));
		if (e->last_error[0] && o < sizeof(errs))
			snprintf(errs + o, sizeof(errs) - o, " (last: %s)", e->last_error);
		if (md) {
			fputc('|', c->out);
			md_cell(c->out, e->url);
			md_cell(c->out, e->component);
			fprintf(c->out, " %d | %d |", e->scrapes, e->ok);
			md_cell(c->out, errs[0] ? errs : "none");
			fputc('\n', c->out);
		} else {
			tline(c, "  %-40s %-9s %3d scrapes, %3d read%s%s",
			      report__clip(e->url, 40, a, sizeof(a)), e->component, e->scrapes, e->ok,
			      errs[0] ? "; " : "", errs);
		}
	}
}

/* The SLO both ways: per call kind and window, cpprof's exact p99 beside the SLI's. */
static void sli_both_ways(struct ctx *c, const struct report_metrics *m)
{
	bool md = c->format == REPORT_MD;
	char what[600], a[64];

	if (!m->nsli)
		return;
	if (md)
		fputs("\n### SLO both ways: cpprof's exact p99 and clusterloader2's from "
		      "apiserver_request_sli_duration_seconds\n\n| call | window | cpprof n | cpprof p99 "
		      "| SLI n | SLI p99 (bucket) |\n|---|---|--:|--:|--:|---|\n", c->out);
	else {
		tline(c, "%s", "");
		tline(c, "%s", "SLO both ways: cpprof's exact p99 per 5-minute window, and clusterloader2's");
		tline(c, "%s", "histogram_quantile over apiserver_request_sli_duration_seconds (no webhooks,");
		tline(c, "%s", "no long-running requests, interpolated inside its bucket)");
	}
	for (size_t i = 0; i < m->nsli; i++) {
		const struct report_sli_window *w = &m->sli[i];
		char t[64], p[32], q[32], lo[32], hi[32], bk[80];

		snprintf(what, sizeof(what), "%s %s%s%s %s", w->verb, w->resource,
			 w->subresource[0] ? "/" : "", w->subresource, w->scope);
		report__fmt_utc(w->window_start_ns, t, sizeof(t));
		if (w->cpprof_p99_ns < 0)
			snprintf(p, sizeof(p), "-");
		else
			report__fmt_ns(w->cpprof_p99_ns, p, sizeof(p));
		if (w->sli_p99_ns < 0) {
			snprintf(q, sizeof(q), "-");
			bk[0] = 0;
		} else {
			report__fmt_ns(w->sli_p99_ns, q, sizeof(q));
			report__fmt_ns(w->sli_lo_ns, lo, sizeof(lo));
			report__fmt_ns(w->sli_hi_ns, hi, sizeof(hi));
			snprintf(bk, sizeof(bk), " (%s..%s]", lo, hi);
		}
		if (md) {
			fputc('|', c->out);
			md_cell(c->out, what);
			md_cell(c->out, t);
			fprintf(c->out, " %lld | %s | %.0f | %s%s |\n", w->cpprof_count, p, w->sli_count,
				q, bk);
		} else {
			tline(c, "  %-30s %s n %lld p99 %s | SLI n %.0f p99 %s%s",
			      report__clip(what, 30, a, sizeof(a)), t + 11, w->cpprof_count, p,
			      w->sli_count, q, bk);
		}
	}
}

/*
 * The components' own metrics: the agreement table, then the endpoints'
 * scrape errors and the SLO both ways.
 */
static void metrics_text(struct ctx *c, const struct report_run *r)
{
	if (!r->metrics)
		return;
	agree_table(c, r);
	scraped_endpoints(c, r->metrics);
	sli_both_ways(c, r->metrics);
}

static void fmt_ms(double ms, char *buf, size_t n)
{
	if (ms < 0)
		snprintf(buf, n, "-");
	else
		report__fmt_ns(llround(ms * 1e6), buf, n);
}

static void fmt_ns_or(long long ns, char *buf, size_t n)
{
	if (ns < 0)
		snprintf(buf, n, "-");
	else
		report__fmt_ns(ns, buf, n);
}

/*
 * clusterloader2's APIResponsivenessPrometheus results beside cpprof's:
 * clusterloader2's are histogram_quantile over apiserver_request_sli_
 * duration_seconds (bucket-interpolated, no webhooks or long-running
 * calls), cpprof's exact over every call.
 */
static void cl2_text(struct ctx *c, const struct report_cl2 *cl)
{
	bool md = c->format == REPORT_MD;
	char what[300], a[64];

	if (!cl)
		return;
	if (md) {
		fputs("\n### clusterloader2 beside cpprof\n\n", c->out);
		report__md_text(c->out, cl->path);
		fputs("\n\n| call | cl2 n | cpprof n | cl2 p50 | cpprof p50 | cl2 p90 | cpprof p90 "
		      "| cl2 p99 | cpprof p99 |\n|---|--:|--:|--:|--:|--:|--:|--:|--:|\n", c->out);
	} else {
		tline(c, "%s", "");
		tline(c, "clusterloader2 (%s) beside cpprof", report__clip(cl->path, 60, a, sizeof(a)));
		tline(c, "  %-30s %7s %7s %9s %9s %9s %9s %9s %9s", "call", "cl2 n", "cpprof", "cl2 p50",
		      "p50", "cl2 p90", "p90", "cl2 p99", "p99");
	}
	for (size_t i = 0; i < cl->n; i++) {
		const struct cl2_item *it = &cl->items[i];
		char n1[24], n2[24], x[6][32];

		snprintf(what, sizeof(what), "%s %s%s%s %s", it->verb, it->resource,
			 it->subresource[0] ? "/" : "", it->subresource, it->scope);
		if (it->count < 0)
			snprintf(n1, sizeof(n1), "-");
		else
			snprintf(n1, sizeof(n1), "%lld", it->count);
		if (it->cpprof_count < 0)
			snprintf(n2, sizeof(n2), "none");
		else
			snprintf(n2, sizeof(n2), "%lld", it->cpprof_count);
		fmt_ms(it->p50_ms, x[0], sizeof(x[0]));
		fmt_ns_or(it->cpprof_count < 0 ? -1 : it->cpprof_p50_ns, x[1], sizeof(x[1]));
		fmt_ms(it->p90_ms, x[2], sizeof(x[2]));
		fmt_ns_or(it->cpprof_count < 0 ? -1 : it->cpprof_p90_ns, x[3], sizeof(x[3]));
		fmt_ms(it->p99_ms, x[4], sizeof(x[4]));
		fmt_ns_or(it->cpprof_count < 0 ? -1 : it->cpprof_p99_ns, x[5], sizeof(x[5]));
		if (md) {
			fputc('|', c->out);
			md_cell(c->out, what);
			fprintf(c->out, " %s | %s | %s | %s | %s | %s | %s | %s |\n", n1, n2, x[0], x[1],
				x[2], x[3], x[4], x[5]);
		} else {
			tline(c, "  %-30s %7s %7s %9s %9s %9s %9s %9s %9s",
			      report__clip(what, 30, a, sizeof(a)), n1, n2, x[0], x[1], x[2], x[3], x[4],
			      x[5]);
		}
	}
}

/* ---------- the renderers ---------- */

/*
 * A run merged from several masters' files: each host's own figures, per
 * call kind its count and p99 beside the merged ones above, then each
 * host's cross-checks against its own apiserver's and etcd's metrics.
 */
static void hosts_text(struct ctx *c, const struct report_run *r)
{
	const bool md = c->format == REPORT_MD;
	char a[512], b[512], p99[32], tmp[256], hb[64];

	if (!r->nhosts)
		return;
	if (md) {
		fprintf(c->out, "\n### Per host\n\n%zu files merged; the percentiles above are over "
			"the union of their requests.\n\n| host | file | requests | targets |\n"
			"|---|---|--:|--:|\n", r->nhosts);
		for (size_t i = 0; i < r->nhosts; i++) {
			const struct report_run *h = &r->hosts[i];

			fputs("| ", c->out);
			report__md_text(c->out, h->host);
			fputs(" | ", c->out);
			report__md_text(c->out, h->db);
			fprintf(c->out, " | %lld | %zu |\n", h->requests, h->ntargets);
		}
		fputs("\n| component | verb | resource | scope | host | count | p99 | errors |\n"
		      "|---|---|---|---|---|--:|--:|--:|\n", c->out);
	} else {
		tline(c, "%s", "");
		tline(c, "per host (%zu files merged; percentiles above are over the union of their "
		      "requests)", r->nhosts);
		tline(c, "  %-20s %-44s %10s %8s", "HOST", "FILE", "REQUESTS", "TARGETS");
		for (size_t i = 0; i < r->nhosts; i++) {
			const struct report_run *h = &r->hosts[i];

			report__clip(report_str_or(h->host, "?"), 20, a, sizeof(a));
			report__clip(h->db, 44, b, sizeof(b));
			tline(c, "  %-*s %-*s %10lld %8zu", 20 + (int)strlen(a) - report__dwidth(a), a,
			      44 + (int)strlen(b) - report__dwidth(b), b, h->requests, h->ntargets);
		}
		tline(c, "%s", "");
		tline(c, "call kinds by host: count and p99");
		tline(c, "  %-48s %-20s %9s %9s %7s", "CALL", "HOST", "COUNT", "P99", "ERRORS");
	}
	for (size_t i = 0; i < r->ncalls; i++) {
		const struct report_call *k = &r->calls[i];
		bool first = true;

		call_name(k, tmp, sizeof(tmp));
		for (size_t j = 0; j < r->nhosts; j++) {
			const struct report_run *h = &r->hosts[j];
			const struct report_call *hk = report_model__host_call(h, k);

			if (!hk)
				continue;
			report__fmt_ns(hk->p99_ns, p99, sizeof(p99));
			if (md) {
				fputc('|', c->out);
				md_cell(c->out, k->component);
				md_cell(c->out, k->verb);
				md_cell(c->out, tmp);
				md_cell(c->out, k->scope);
				md_cell(c->out, h->host);
				fprintf(c->out, " %lld | %s | %lld |\n", hk->count, p99, hk->errors);
				continue;
			}
			snprintf(b, sizeof(b), "%.60s %.30s %.255s %.20s", report_str_or(k->component, "-"),
				 report_str_or(k->verb, "-"), tmp, report_str_or(k->scope, ""));
			/* µs is two bytes and one column: pad by columns */
			tline(c, "  %-48s %-20s %9lld %*s %7lld",
			      first ? report__clip(b, 48, a, sizeof(a)) : "",
			      report__clip(report_str_or(h->host, "?"), 20, hb, sizeof(hb)),
			      hk->count, 9 + (int)strlen(p99) - report__dwidth(p99), p99, hk->errors);
			first = false;
		}
	}
	for (size_t j = 0; j < r->nhosts; j++) {
		const struct report_run *h = &r->hosts[j];

		if (!h->metrics)
			continue;
		if (md)
			fputs("\n#### Cross-checks of host ", c->out), report__md_text(c->out, h->host),
				fputs("\n", c->out);
		else
			tline(c, "%s", ""), tline(c, "cross-checks of host '%s' (%s) against its own "
						  "components' metrics",
			      report__clip(report_str_or(h->host, "?"), 30, a, sizeof(a)),
			      report__clip(h->db, 40, b, sizeof(b)));
		metrics_text(c, h);
	}
}

static int write_human(FILE *out, const struct report_model *m, enum report_format f)
{
	struct ctx c = { .out = out, .format = f };

	for (size_t i = 0; i < m->nruns; i++) {
		const struct report_run *r = &m->runs[i];

		if (f == REPORT_MD) {
			md_header(&c, r);
			md_calls(&c, r->calls, r->ncalls);
			calls_more(&c, r->calls, r->ncalls, r->timeline_window_ns);
			md_sys(out, r);
		} else {
			text_header(&c, r);
			text_table(&c, r->calls, r->ncalls);
			calls_more(&c, r->calls, r->ncalls, r->timeline_window_ns);
			text_sys(&c, r);
		}
		cpu_text(&c, r->cpu);
		report_breakdown__text(out, r, f == REPORT_MD);
		metrics_text(&c, r);
		cl2_text(&c, r->cl2);
		hosts_text(&c, r);
		c.nruns++;
	}
	if (!m->nruns)
		fprintf(out, "'%s' holds no runs\n", m->db);
	else if (f == REPORT_TEXT)
		text_footer(&c);
	return 0;
}

int report_text__write(FILE *out, const struct report_model *m)
{
	return write_human(out, m, REPORT_TEXT);
}

int report_md__write(FILE *out, const struct report_model *m)
{
	return write_human(out, m, REPORT_MD);
}
