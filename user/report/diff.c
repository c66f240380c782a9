// SPDX-License-Identifier: MIT
/*
 * diff: BASE against CAND, or the four-run trend check, call kind by call
 * kind (see diff.h). Each run is loaded by report__load, which aggregates
 * in SQL and one streaming pass and holds one entry per call kind, never
 * the rows; the comparison walks the two sorted lists of kinds together.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "diff.h"
#include "log.h"

#define TEXT_WIDTH 100

static const char *str_or(const char *s, const char *dflt)
{
	return s && *s ? s : dflt;
}

/* The first cells of a Markdown table row naming a call kind: "| C | V | R | S" (the caller ends it). */
static void md_key_cells(FILE *out, const char *component, const char *verb, const char *name,
			 const char *scope)
{
	fputs("| ", out);
	report__md_text(out, component);
	fputs(" | ", out);
	report__md_text(out, verb);
	fputs(" | ", out);
	report__md_text(out, name);
	fputs(" | ", out);
	report__md_text(out, scope);
}

int diff__split_spec(const char *spec, char **path, char **label)
{
	const char *colon = strrchr(spec, ':');
	struct stat sb;

	*path = *label = NULL;
	if (!colon || stat(spec, &sb) == 0) {
		*path = strdup(spec);
		return *path ? 0 : -ENOMEM;
	}
	*path = strndup(spec, colon - spec);
	*label = colon[1] ? strdup(colon + 1) : NULL;
	if (!*path || (colon[1] && !*label)) {
		free(*path);
		free(*label);
		*path = *label = NULL;
		return -ENOMEM;
	}
	return 0;
}

int diff__split_side(const char *side, struct report_src **srcp, size_t *np, char ***strsp)
{
	struct report_src *src = NULL;
	char **strs = NULL, *list;
	size_t n = 0;
	struct stat sb;
	int err = 0;

	*srcp = NULL;
	*strsp = NULL;
	*np = 0;
	/* a file whose name has a comma is a file */
	if (!(list = strdup(side)))
		goto nomem;
	for (char *save = NULL, *tok = stat(side, &sb) == 0 ? list : strtok_r(list, ",", &save);
	     tok; tok = stat(side, &sb) == 0 ? NULL : strtok_r(NULL, ",", &save)) {
		void *ns = realloc(src, (n + 1) * sizeof(*src));
		void *nt = ns ? realloc(strs, 2 * (n + 1) * sizeof(*strs)) : NULL;

		if (ns)
			src = ns;
		if (!ns || !nt)
			goto nomem;
		strs = nt;
		if (diff__split_spec(tok, &strs[2 * n], &strs[2 * n + 1]))
			goto nomem;
		src[n].path = strs[2 * n];
		src[n].label = strs[2 * n + 1];
		n++;
		if (stat(side, &sb) == 0)
			break;
	}
	if (!n) {
		cp_seterr("'%s' names no file; expected FILE[:LABEL][,FILE[:LABEL]...]", side);
		err = -EINVAL;
		goto fail;
	}
	free(list);
	*srcp = src;
	*strsp = strs;
	*np = n;
	return 0;
nomem:
	cp_seterr("out of memory");
	err = -ENOMEM;
fail:
	for (size_t j = 0; j < 2 * n; j++)
		free(strs[j]);
	free(strs);
	free(src);
	free(list);
	return err;
}

/* Call-key order of report.c (SQLite BINARY, a NULL path first). */
static int key_cmp(const struct report_call *a, const struct report_call *b)
{
	const char *const av[] = { a->component, a->verb, a->resource, a->subresource, a->scope };
	const char *const bv[] = { b->component, b->verb, b->resource, b->subresource, b->scope };
	int r;

	for (int i = 0; i < 5; i++)
		if ((r = strcmp(str_or(av[i], ""), str_or(bv[i], ""))))
			return r;
	if (!a->path || !b->path)
		return a->path ? 1 : b->path ? -1 : 0;
	return strcmp(a->path, b->path);
}

/* CAND / BASE, or NAN when BASE is not positive. */
static double ratio(double cand, double base)
{
	return base > 0 && cand >= 0 ? cand / base : NAN;
}

static void json_num(FILE *o, double v)
{
	if (isnan(v) || isinf(v))
		fputs("null", o);
	else
		fprintf(o, "%.6g", v);
}

static void json_ll(FILE *o, long long v)
{
	if (v < 0)
		fputs("null", o);
	else
		fprintf(o, "%lld", v);
}

static void json_key(FILE *o, const struct report_call *k, bool with_path)
{
	fputs("\"component\":", o);
	report__json_str(o, k->component);
	fputs(",\"verb\":", o);
	report__json_str(o, k->verb);
	fputs(",\"resource\":", o);
	report__json_str(o, k->resource);
	fputs(",\"subresource\":", o);
	report__json_str(o, k->subresource);
	if (with_path) {
		fputs(",\"path\":", o);
		report__json_str(o, k->path);
	}
	fputs(",\"scope\":", o);
	report__json_str(o, k->scope);
}

static void json_runsum(FILE *o, const struct report_run *r, const char *role)
{
	fputs("{", o);
	if (role)
		fprintf(o, "\"role\":\"%s\",", role);
	fputs("\"db\":", o);
	report__json_str(o, r->db);
	if (r->nhosts) {   /* one side merged from several masters' files */
		fputs(",\"hosts\":[", o);
		for (size_t i = 0; i < r->nhosts; i++) {
			const struct report_run *h = &r->hosts[i];

			fputs(i ? ",{\"host\":" : "{\"host\":", o);
			report__json_str(o, h->host);
			fputs(",\"file\":", o);
			report__json_str(o, h->db);
			fputs(",\"label\":", o);
			report__json_str(o, h->label);
			fprintf(o, ",\"run_id\":%lld,\"requests\":%lld}", h->id, h->requests);
		}
		fputc(']', o);
	}
	fputs(",\"label\":", o);
	report__json_str(o, r->label);
	fputs(",\"kind\":", o);
	report__json_str(o, r->kind);
	fputs(",\"host\":", o);
	report__json_str(o, r->host);
	fputs(",\"kernel\":", o);
	report__json_str(o, r->kernel);
	fprintf(o, ",\"started_ns\":%lld,\"ended_ns\":", r->started_ns);
	json_ll(o, r->ended_ns);
	fputs(",\"duration_ns\":", o);
	json_ll(o, r->duration_ns);
	fprintf(o, ",\"requests\":%lld,\"nodes\":", r->requests);
	json_ll(o, r->nodes);
	fputs(",\"pods\":", o);
	json_ll(o, r->pods);
	fputs(",\"namespaces\":", o);
	json_ll(o, r->namespaces);
	fputs(",\"cluster_source\":", o);
	report__json_str(o, r->cluster_source);
	fputs(",\"targets\":[", o);
	for (size_t i = 0; i < r->ntargets; i++) {
		const struct report_target *t = &r->targets[i];

		fputs(i ? ",{\"component\":" : "{\"component\":", o);
		report__json_str(o, t->component ? t->component : "");
		fprintf(o, ",\"pid\":%lld,\"go_version\":", t->pid);
		report__json_str(o, t->go_version);
		fputs(",\"k8s_version\":", o);
		report__json_str(o, t->k8s_version);
		fputs(",\"etcd_version\":", o);
		report__json_str(o, t->etcd_version);
		fputs(",\"cpu_ns\":", o);
		json_ll(o, t->cpu_ns);
		fputc('}', o);
	}
	fputs("],\"cpu\":", o);
	report__json_cpu(o, r->cpu);
	fputc('}', o);
}

static void json_side(FILE *o, const struct report_call *k)
{
	if (!k) {
		fputs("null", o);
		return;
	}
	fprintf(o, "{\"count\":%lld,\"rate_per_s\":", k->count);
	json_num(o, k->rate_per_s < 0 ? NAN : k->rate_per_s);
	fprintf(o, ",\"p50_ns\":%lld,\"p90_ns\":%lld,\"p99_ns\":%lld,\"max_ns\":%lld,\"errors\":%lld,"
		"\"slo_threshold_ns\":%lld,\"slo_ok\":%s,\"slo_worst_p99_ns\":", k->p50_ns, k->p90_ns,
		k->p99_ns, k->max_ns, k->errors, k->slo_threshold_ns,
		k->slo_ok < 0 ? "null" : k->slo_ok ? "true" : "false");
	json_ll(o, k->slo_worst_p99_ns);
	fputs(",\"hist\":", o);
	report__json_hist(o, k->hist);
	fputc('}', o);
}

/* ---------- text helpers ---------- */

/* Print LINE cut to TEXT_WIDTH display columns (UTF-8 aware, control characters as '?'). */
static void tline(FILE *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void tline(FILE *o, const char *fmt, ...)
{
	char line[1024];
	int w = 0;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	for (const unsigned char *p = (const unsigned char *)line; *p; p++) {
		if ((*p & 0xc0) != 0x80 && ++w > TEXT_WIDTH)
			break;
		fputc(*p < 0x20 || *p == 0x7f ? '?' : *p, o);
	}
	fputc('\n', o);
}

/* At most W display columns of S into BUF. */
static const char *cut(const char *s, int w, char *buf, size_t n)
{
	size_t o = 0;
	int cols = 0;

	for (s = str_or(s, "-"); *s && o + 4 < n; s++) {
		if ((*s & 0xc0) != 0x80 && ++cols > w)
			break;
		buf[o++] = *s;
	}
	buf[o] = '\0';
	return buf;
}

static void kind_name(const struct report_call *k, char *buf, size_t n)
{
	if (k->resource && *k->resource)
		snprintf(buf, n, "%s%s%s", k->resource, k->subresource && *k->subresource ? "/" : "",
			 k->subresource ? k->subresource : "");
	else
		snprintf(buf, n, "%s", str_or(k->path, "-"));
}

static void fmt_ratio(double r, char *buf, size_t n)
{
	if (isnan(r))
		snprintf(buf, n, "-");
	else if (r >= 100)
		snprintf(buf, n, "%.0fx", r);
	else
		snprintf(buf, n, "%.2fx", r);
}

static void fmt_ns(long long ns, char *buf, size_t n)
{
	if (ns < 0)
		snprintf(buf, n, "-");
	else
		report__fmt_ns(ns, buf, n);
}

static void run_line(FILE *o, enum report_format f, const char *role, const struct report_run *r)
{
	char dur[32] = "?", size[128] = "", n[3][24];
	const long long v[3] = { r->nodes, r->pods, r->namespaces };

	if (r->duration_ns >= 0)
		snprintf(dur, sizeof(dur), "%.0fs", r->duration_ns / 1e9);
	for (int i = 0; i < 3; i++) {
		if (v[i] >= 0)
			snprintf(n[i], sizeof(n[i]), "%lld", v[i]);
		else
			snprintf(n[i], sizeof(n[i]), "?");
	}
	if (r->nodes >= 0 || r->pods >= 0 || r->namespaces >= 0)
		snprintf(size, sizeof(size), ", %s nodes, %s pods, %s namespaces", n[0], n[1], n[2]);
	if (f == REPORT_MD) {
		fprintf(o, "- %s: `", role);
		for (const char *p = r->db; *p; p++)
			fputc(*p == '`' || (unsigned char)*p < 0x20 ? '?' : *p, o);
		fputs("` run ", o);
		report__md_text(o, r->label);
		fputs(" (", o);
		report__md_text(o, r->kind);
		fprintf(o, "), %s, %lld requests%s\n", dur, r->requests, size);
	} else {
		tline(o, "%-5s %s:%s (%s), %s, %lld requests%s", role, r->db, str_or(r->label, "?"),
		      str_or(r->kind, "?"), dur, r->requests, size);
	}
}

/* ---------- two runs ---------- */

struct pair {
	const struct report_call *b, *c;
	double r50, r90, r99, rrate;
	bool low, f_p99, f_slo;
};

static void pair_eval(struct pair *p, long long min_delta)
{
	p->r50 = p->r90 = p->r99 = p->rrate = NAN;
	if (!p->b || !p->c)
		return;
	p->r50 = ratio(p->c->p50_ns, p->b->p50_ns);
	p->r90 = ratio(p->c->p90_ns, p->b->p90_ns);
	p->r99 = ratio(p->c->p99_ns, p->b->p99_ns);
	if (p->b->rate_per_s >= 0 && p->c->rate_per_s >= 0)
		p->rrate = ratio(p->c->rate_per_s, p->b->rate_per_s);
	p->low = p->b->count < DIFF_MIN_COUNT || p->c->count < DIFF_MIN_COUNT;
	if (!p->low && llabs(p->c->p99_ns - p->b->p99_ns) >= min_delta &&
	    (p->c->p99_ns == 0 || p->b->p99_ns == 0 || p->r99 < DIFF_RATIO_LOW ||
	     p->r99 > DIFF_RATIO_HIGH))
		p->f_p99 = true;
	p->f_slo = p->b->slo_ok >= 0 && p->c->slo_ok >= 0 && p->b->slo_ok != p->c->slo_ok;
}

static void flags_text(const struct pair *p, char *buf, size_t n)
{
	snprintf(buf, n, "%s%s%s%s%s", p->f_p99 ? "P99 " : "", p->f_slo ? "SLO " : "",
		 !p->c ? "BASE-ONLY " : "", !p->b ? "CAND-ONLY " : "", p->low ? "few " : "");
	if (*buf)
		buf[strlen(buf) - 1] = '\0';
}

static int ser_match(const struct report_ser *a, const struct report_ser *b)
{
	return !strcmp(a->component, b->component) && !strcmp(a->verb, b->verb) &&
	       !strcmp(a->resource, b->resource) && !strcmp(a->subresource, b->subresource) &&
	       !strcmp(a->scope, b->scope);
}

static double per_req(const struct report_ser *s)
{
	return s && s->requests ? (double)s->ser_ns / s->requests : NAN;
}

/* The call kinds of two runs side by side, and how many fall where. */
struct pairs {
	struct pair *ps;
	size_t np;
	long long both, within, outside, low, bonly, conly, slo;
	char summary[512];
};

static int pairs_match(const struct report_run *B, const struct report_run *C,
		       long long min_delta_ns, struct pairs *s)
{
	size_t i = 0, j = 0;

	memset(s, 0, sizeof(*s));
	if (!(s->ps = calloc(B->ncalls + C->ncalls + 1, sizeof(*s->ps)))) {
		cp_seterr("out of memory");
		return -ENOMEM;
	}
	while (i < B->ncalls || j < C->ncalls) {
		struct pair *p = &s->ps[s->np++];
		int r = i >= B->ncalls ? 1 : j >= C->ncalls ? -1 : key_cmp(&B->calls[i], &C->calls[j]);

		if (r <= 0)
			p->b = &B->calls[i++];
		if (r >= 0)
			p->c = &C->calls[j++];
		pair_eval(p, min_delta_ns);
		if (p->b && p->c) {
			s->both++;
			if (p->low)
				s->low++;
			else if (p->f_p99)
				s->outside++;
			else
				s->within++;
		}
		s->bonly += !p->c;
		s->conly += !p->b;
		s->slo += p->f_slo;
	}
	snprintf(s->summary, sizeof(s->summary), "%lld call kinds on both sides: %lld within 2x "
		 "(p99), %lld outside, %lld low-confidence; %lld only in BASE, %lld only in CAND; "
		 "SLO verdicts differ for %lld", s->both, s->within, s->outside, s->low, s->bonly,
		 s->conly, s->slo);
	return 0;
}

/* The serialization kinds of both runs, each once (BASE's first), into OUT (at most MAX). */
struct ser_pair {
	const struct report_ser *x;          /* the kind as listed */
	const struct report_ser *b, *c;      /* its two sides, NULL where missing */
};

static size_t ser_pairs(const struct report_run *B, const struct report_run *C,
			struct ser_pair *out, size_t max)
{
	const struct report_ser *bs = B->cpu ? B->cpu->ser : NULL, *cs = C->cpu ? C->cpu->ser : NULL;
	size_t nbs = B->cpu ? B->cpu->nser : 0, ncs = C->cpu ? C->cpu->nser : 0, n = 0;

	for (int side = 0; side < 2; side++) {
		const struct report_ser *xs = side ? cs : bs, *ys = side ? bs : cs;
		size_t nx = side ? ncs : nbs, ny = side ? nbs : ncs;

		for (size_t a = 0; a < nx && n < max; a++) {
			const struct report_ser *x = &xs[a], *y = NULL;

			for (size_t b = 0; b < ny && !y; b++)
				if (ser_match(x, &ys[b]))
					y = &ys[b];
			if (side && y)
				continue;  /* listed from BASE's side */
			out[n++] = (struct ser_pair){ .x = x, .b = side ? y : x, .c = side ? x : y };
		}
	}
	return n;
}

static size_t ser_count(const struct report_run *r)
{
	return r->cpu ? r->cpu->nser : 0;
}

static const struct report_sys *wal_find(const struct report_run *r, const char *syscall)
{
	const struct report_sys *f = NULL;

	for (size_t k = 0; k < r->nwal; k++)
		if (!strcmp(r->wal[k].syscall, syscall))
			f = &r->wal[k];
	return f;
}

static const char *const wal_syscalls[] = { "fdatasync", "fsync" };

/* A flag in a JSON "flags" array: needs FILE *out and bool first in scope. */
#define FLAG(cond, s) if (cond) { fprintf(out, "%s\"%s\"", first ? "" : ",", s); first = false; }

static void json_pair_calls(FILE *out, const struct pairs *s)
{
	for (size_t k = 0; k < s->np; k++) {
		const struct pair *p = &s->ps[k];
		bool first = true;

		fputs(k ? ",\n {" : "\n {", out);
		json_key(out, p->b ? p->b : p->c, true);
		fputs(",\"base\":", out);
		json_side(out, p->b);
		fputs(",\"cand\":", out);
		json_side(out, p->c);
		fputs(",\"ratio\":", out);
		if (p->b && p->c) {
			fputs("{\"rate\":", out);
			json_num(out, p->rrate);
			fputs(",\"p50\":", out);
			json_num(out, p->r50);
			fputs(",\"p90\":", out);
			json_num(out, p->r90);
			fputs(",\"p99\":", out);
			json_num(out, p->r99);
			fputc('}', out);
		} else {
			fputs("null", out);
		}
		fprintf(out, ",\"low_confidence\":%s,\"flags\":[", p->low ? "true" : "false");
		FLAG(p->f_p99, "p99");
		FLAG(p->f_slo, "slo");
		FLAG(!p->c, "base_only");
		FLAG(!p->b, "cand_only");
		fputs("]}", out);
	}
}

static void json_pair_ser(FILE *out, const struct ser_pair *sp, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		const struct report_ser *x = sp[k].x, *sb = sp[k].b, *sc = sp[k].c;
		double pb = per_req(sb), pc = per_req(sc), r = ratio(pc, pb);
		bool first = true, lowc;

		lowc = !sb || !sc || sb->requests < DIFF_MIN_COUNT || sc->requests < DIFF_MIN_COUNT;
		fputs(k ? ",\n {" : "\n {", out);
		fputs("\"component\":", out);
		report__json_str(out, x->component);
		fputs(",\"verb\":", out);
		report__json_str(out, x->verb);
		fputs(",\"resource\":", out);
		report__json_str(out, x->resource);
		fputs(",\"subresource\":", out);
		report__json_str(out, x->subresource);
		fputs(",\"scope\":", out);
		report__json_str(out, x->scope);
		fputs(",\"base_ns_per_request\":", out);
		json_num(out, pb);
		fputs(",\"cand_ns_per_request\":", out);
		json_num(out, pc);
		fprintf(out, ",\"base_requests\":%lld,\"cand_requests\":%lld,\"ratio\":",
			sb ? sb->requests : 0, sc ? sc->requests : 0);
		json_num(out, r);
		fputs(",\"flags\":[", out);
		FLAG(!lowc && !isnan(r) && (r < DIFF_RATIO_LOW || r > DIFF_RATIO_HIGH), "ratio");
		FLAG(!sc, "base_only");
		FLAG(!sb, "cand_only");
		fputs("]}", out);
	}
}

static double wal_rate(const struct report_sys *x, const struct report_run *R)
{
	return R->duration_ns > 0 ? x->count / (R->duration_ns / 1e9) : NAN;
}

static void json_pair_wal(FILE *out, const struct report_run *B, const struct report_run *C,
			  long long min_delta_ns)
{
	bool firstk = true;

	for (int s = 0; s < 2; s++) {
		const struct report_sys *fb = wal_find(B, wal_syscalls[s]);
		const struct report_sys *fc = wal_find(C, wal_syscalls[s]);
		bool first = true;

		if (!fb && !fc)
			continue;
		fprintf(out, "%s{\"syscall\":\"%s\"", firstk ? "\n " : ",\n ", wal_syscalls[s]);
		firstk = false;
		for (int side = 0; side < 2; side++) {
			const struct report_sys *x = side ? fc : fb;

			fprintf(out, ",\"%s\":", side ? "cand" : "base");
			if (!x) {
				fputs("null", out);
				continue;
			}
			fprintf(out, "{\"count\":%lld,\"rate_per_s\":", x->count);
			json_num(out, wal_rate(x, side ? C : B));
			fprintf(out, ",\"p50_ns\":%lld,\"p99_ns\":%lld}", x->p50_ns, x->p99_ns);
		}
		fputs(",\"ratio\":", out);
		if (fb && fc) {
			fputs("{\"rate\":", out);
			json_num(out, B->duration_ns > 0 && C->duration_ns > 0 ?
				 ratio(wal_rate(fc, C), wal_rate(fb, B)) : NAN);
			fputs(",\"p50\":", out);
			json_num(out, ratio(fc->p50_ns, fb->p50_ns));
			fputs(",\"p99\":", out);
			json_num(out, ratio(fc->p99_ns, fb->p99_ns));
			fputc('}', out);
		} else {
			fputs("null", out);
		}
		fputs(",\"flags\":[", out);
		if (fb && fc) {
			double r = ratio(fc->p99_ns, fb->p99_ns);

			FLAG(fb->count >= DIFF_MIN_COUNT && fc->count >= DIFF_MIN_COUNT &&
			     !isnan(r) && (r < DIFF_RATIO_LOW || r > DIFF_RATIO_HIGH) &&
			     llabs(fc->p99_ns - fb->p99_ns) >= min_delta_ns, "p99");
		}
		FLAG(!fc, "base_only");
		FLAG(!fb, "cand_only");
		fputs("]}", out);
	}
}

#undef FLAG

/* ---------- where the time went: the breakdowns' slowest 1%, part by part ---------- */

/* The parts of the breakdown, as diff names them; value of part I of P, -1 unknown. */
static const char *const bd_part_names[] = { "etcd", "serialization", "other CPU", "APF wait", "rest" };
static const char *const bd_short_names[] = { "etcd", "ser", "cpu", "apf", "rest" };
#define BD_NPARTS 5

static long long bd_part(const struct report_parts *p, int i)
{
	switch (i) {
	case 0: return p->etcd_ns;
	case 1: return p->ser_ns;
	case 2: return p->cpu_ns >= 0 && p->ser_ns >= 0 ? p->cpu_ns - p->ser_ns : p->cpu_ns;
	case 3: return p->apf_ns;
	default: return p->other_ns;
	}
}

/*
 * The part that moved the slowest 1%'s latency most: the largest change in
 * the latency's direction, in ns; -1 when no part is known on both sides.
 */
static int bd_moved(const struct report_parts *b, const struct report_parts *c, long long *delta)
{
	long long dl = c->latency_ns - b->latency_ns, best = 0;
	int at = -1;

	for (int i = 0; i < BD_NPARTS; i++) {
		long long x = bd_part(b, i), y = bd_part(c, i), d;

		if (x < 0 || y < 0)
			continue;
		d = dl >= 0 ? y - x : x - y;
		if (at < 0 || d > best) {
			best = d;
			at = i;
		}
	}
	*delta = at < 0 ? 0 : (dl >= 0 ? best : -best);
	return at;
}

/* A ratio of two parts: CAND/BASE, NAN when either is unknown or BASE is 0 */
static double bd_ratio(long long c, long long b)
{
	return c < 0 || b <= 0 ? NAN : (double)c / (double)b;
}

static void bd_each(const struct report_run *B, const struct report_run *C,
		    void (*fn)(void *ctx, const struct report_breakdown *b, const struct report_breakdown *c),
		    void *ctx)
{
	for (size_t i = 0; i < B->nbd; i++) {
		const struct report_breakdown *b = &B->bd[i];
		const struct report_breakdown *c = report_breakdown__find(C, b->component, b->verb, b->resource,
									  b->subresource, b->scope);

		if (c && b->p99.latency_ns > 0 && c->p99.latency_ns >= 0)
			fn(ctx, b, c);
	}
}

struct bd_out {
	FILE *out;
	enum report_format f;
	int n;
};

static void json_bd_one(void *ctx, const struct report_breakdown *b, const struct report_breakdown *c)
{
	struct bd_out *o = ctx;
	static const char *const keys[BD_NPARTS] = { "etcd", "serialization", "other_cpu", "apf_wait", "rest" };
	long long delta;
	int m = bd_moved(&b->p99, &c->p99, &delta);

	fputs(o->n++ ? ",\n {\"component\":" : "\n {\"component\":", o->out);
	report__json_str(o->out, b->component);
	fputs(",\"verb\":", o->out);
	report__json_str(o->out, b->verb);
	fputs(",\"resource\":", o->out);
	report__json_str(o->out, b->resource);
	fputs(",\"subresource\":", o->out);
	report__json_str(o->out, b->subresource);
	fputs(",\"scope\":", o->out);
	report__json_str(o->out, b->scope);
	fputs(",\"p99_ratio\":{\"latency\":", o->out);
	json_num(o->out, bd_ratio(c->p99.latency_ns, b->p99.latency_ns));
	for (int i = 0; i < BD_NPARTS; i++) {
		fprintf(o->out, ",\"%s\":", keys[i]);
		json_num(o->out, bd_ratio(bd_part(&c->p99, i), bd_part(&b->p99, i)));
	}
	fputs("},\"moved\":", o->out);
	report__json_str(o->out, m < 0 ? NULL : keys[m]);
	fprintf(o->out, ",\"moved_ns\":%lld", delta);
	/* the median request too: the slowest 1% of a small run is one request, whose
	 * time a busy machine's run queue can own */
	m = bd_moved(&b->median, &c->median, &delta);
	fputs(",\"median_ratio\":", o->out);
	json_num(o->out, bd_ratio(c->median.latency_ns, b->median.latency_ns));
	fputs(",\"median_moved\":", o->out);
	report__json_str(o->out, m < 0 ? NULL : keys[m]);
	fprintf(o->out, ",\"median_moved_ns\":%lld}", delta);
}

static void human_bd_one(void *ctx, const struct report_breakdown *b, const struct report_breakdown *c)
{
	struct bd_out *o = ctx;
	char line[512], r[32], mr[32], name[256];
	long long delta, mdelta;
	int m = bd_moved(&b->p99, &c->p99, &delta), mm = bd_moved(&b->median, &c->median, &mdelta), n;

	if (!o->n++) {
		if (o->f == REPORT_MD)
			fputs("\n### Where the slowest 1% spent their time\n\n| call | p99 CAND/BASE | parts CAND/BASE "
			      "| moved most | median CAND/BASE | median: moved most |\n"
			      "|---|--:|---|---|--:|---|\n", o->out);
		else {
			tline(o->out, "%s", "");
			tline(o->out, "where the slowest 1%% spent their time (request_breakdown): p99 CAND/BASE, the part");
			tline(o->out, "that moved most and by how much, and each part's CAND/BASE (ser: serialization,");
			tline(o->out, "cpu: other CPU, apf: APF wait, rest: waiting; ?: unknown on a side)");
		}
	}
	snprintf(name, sizeof(name), "%s %s%s%s%s%s", b->verb, str_or(b->resource, "-"), *b->subresource ? "/" : "",
		 b->subresource, *b->scope ? " " : "", b->scope);
	fmt_ratio(bd_ratio(c->p99.latency_ns, b->p99.latency_ns), r, sizeof(r));
	fmt_ratio(bd_ratio(c->median.latency_ns, b->median.latency_ns), mr, sizeof(mr));
	n = 0;
	line[0] = 0;
	for (int i = 0; i < BD_NPARTS; i++) {
		char pr[32];
		long long x = bd_part(&b->p99, i), y = bd_part(&c->p99, i);

		if (x < 0 && y < 0)
			continue; /* known on neither side (APF wait today) */
		if (x < 0 || y < 0)
			snprintf(pr, sizeof(pr), "?");
		else if (x == 0)
			snprintf(pr, sizeof(pr), y ? "new" : "-");
		else
			fmt_ratio(bd_ratio(y, x), pr, sizeof(pr));
		n += snprintf(line + n, sizeof(line) - n, "%s%s %s", n ? ", " : "",
			      o->f == REPORT_MD ? bd_part_names[i] : bd_short_names[i], pr);
		if (n >= (int)sizeof(line))
			break;
	}
	if (o->f == REPORT_MD)
		fprintf(o->out, "| %s %s | %s | %s | %s (%+.1fms) | %s | %s (%+.1fms) |\n", b->component, name, r,
			line, m < 0 ? "?" : bd_part_names[m], delta / 1e6, mr,
			mm < 0 ? "?" : bd_part_names[mm], mdelta / 1e6);
	else {
		tline(o->out, "  %-40.40s p99 %6s  most: %-4s %+9.1fms", name, r,
		      m < 0 ? "?" : bd_short_names[m], delta / 1e6);
		tline(o->out, "      %.92s", line);
		tline(o->out, "      median request %s, most: %s %+.1fms", mr, mm < 0 ? "?" : bd_short_names[mm],
		      mdelta / 1e6);
	}
}

static void json_pair_bd(FILE *out, const struct report_run *B, const struct report_run *C)
{
	struct bd_out o = { .out = out, .f = REPORT_JSON };

	if (!B->nbd && !C->nbd)
		return; /* runs recorded without the etcd client probes */
	fputs(",\n\"breakdown\":[", out);
	bd_each(B, C, json_bd_one, &o);
	fputs("]", out);
}

static void human_pair_bd(FILE *out, enum report_format f, const struct report_run *B,
			  const struct report_run *C)
{
	struct bd_out o = { .out = out, .f = f };

	bd_each(B, C, human_bd_one, &o);
}

static void json_pair(FILE *out, const struct report_run *B, const struct report_run *C,
		      const struct diff_opts *o, const struct pairs *s,
		      const struct ser_pair *sp, size_t nsp)
{
	fprintf(out, "{\"format_version\":1,\"mode\":\"pair\",\n\"thresholds\":{\"ratio_low\":%g,"
		"\"ratio_high\":%g,\"min_count\":%d,\"min_delta_ns\":%lld},\n\"base\":",
		DIFF_RATIO_LOW, DIFF_RATIO_HIGH, DIFF_MIN_COUNT, o->min_delta_ns);
	json_runsum(out, B, NULL);
	fputs(",\n\"cand\":", out);
	json_runsum(out, C, NULL);
	fputs(",\n\"calls\":[", out);
	json_pair_calls(out, s);
	fputs("],\n\"serialization\":[", out);
	json_pair_ser(out, sp, nsp);
	fputs("],\n\"wal_fsync\":[", out);
	json_pair_wal(out, B, C, o->min_delta_ns);
	fputs("]", out);
	json_pair_bd(out, B, C);
	fprintf(out, ",\n\"summary\":{\"both\":%lld,\"within\":%lld,\"outside\":%lld,"
		"\"low_confidence\":%lld,\"base_only\":%lld,\"cand_only\":%lld,"
		"\"slo_differs\":%lld,\"text\":", s->both, s->within, s->outside, s->low, s->bonly,
		s->conly, s->slo);
	report__json_str(out, s->summary);
	fputs("}}\n", out);
}

static void human_pair_calls(FILE *out, enum report_format f, const struct pairs *s)
{
	char v[8][64], name[512], fl[64];

	for (size_t k = 0; k < s->np; k++) {
		const struct pair *p = &s->ps[k];
		const struct report_call *x = p->b ? p->b : p->c;

		kind_name(x, name, sizeof(name));
		flags_text(p, fl, sizeof(fl));
		snprintf(v[0], sizeof(v[0]), "%lld", p->b ? p->b->count : 0);
		snprintf(v[1], sizeof(v[1]), "%lld", p->c ? p->c->count : 0);
		fmt_ns(p->b ? p->b->p99_ns : -1, v[2], sizeof(v[2]));
		fmt_ns(p->c ? p->c->p99_ns : -1, v[3], sizeof(v[3]));
		fmt_ratio(p->r99, v[4], sizeof(v[4]));
		if (f == REPORT_MD) {
			char w[4][32];
			const char *sb = !p->b || p->b->slo_ok < 0 ? "-" : p->b->slo_ok ? "ok" : "FAIL";
			const char *sc = !p->c || p->c->slo_ok < 0 ? "-" : p->c->slo_ok ? "ok" : "FAIL";

			fmt_ns(p->b ? p->b->p50_ns : -1, w[0], sizeof(w[0]));
			fmt_ns(p->c ? p->c->p50_ns : -1, w[1], sizeof(w[1]));
			fmt_ns(p->b ? p->b->p90_ns : -1, w[2], sizeof(w[2]));
			fmt_ns(p->c ? p->c->p90_ns : -1, w[3], sizeof(w[3]));
			fmt_ratio(p->rrate, v[5], sizeof(v[5]));
			md_key_cells(out, x->component, x->verb, name, x->scope);
			fprintf(out, " | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
				v[0], v[1], w[0], w[1], w[2], w[3], v[2], v[3], v[4], v[5], sb, sc,
				*fl ? fl : "-");
		} else {
			char a[64], b[64], c[64], d[64];

			tline(out, "  %-9s %-8s %-20s %-9s %7s %7s %7s %7s %6s %s",
			      cut(x->component, 9, a, sizeof(a)), cut(x->verb, 8, b, sizeof(b)),
			      cut(name, 20, c, sizeof(c)), cut(x->scope, 9, d, sizeof(d)), v[0], v[1],
			      v[2], v[3], v[4], fl);
		}
	}
}

static void human_pair_ser(FILE *out, enum report_format f, const struct ser_pair *sp, size_t n)
{
	if (!n)
		return;
	if (f == REPORT_MD)
		fputs("\n### Serialization CPU per request\n\n| component | verb | resource | scope "
		      "| BASE | CAND | CAND/BASE |\n|---|---|---|---|--:|--:|--:|\n", out);
	else {
		tline(out, "%s", "");
		tline(out, "serialization CPU per request (json/protobuf encode+decode, yaml)");
	}
	for (size_t k = 0; k < n; k++) {
		const struct report_ser *x = sp[k].x, *sb = sp[k].b, *sc = sp[k].c;
		char nm[512], cb[64], cc[64], cr[64], t1[64], t2[64], t3[64];

		fmt_ns(sb && sb->requests ? sb->ser_ns / sb->requests : -1, cb, sizeof(cb));
		fmt_ns(sc && sc->requests ? sc->ser_ns / sc->requests : -1, cc, sizeof(cc));
		fmt_ratio(ratio(per_req(sc), per_req(sb)), cr, sizeof(cr));
		snprintf(nm, sizeof(nm), "%s%s%s", str_or(x->resource, "-"),
			 *x->subresource ? "/" : "", x->subresource);
		if (f == REPORT_MD) {
			md_key_cells(out, x->component, x->verb, nm, x->scope);
			fprintf(out, " | %s | %s | %s |\n", cb, cc, cr);
		} else {
			tline(out, "  %-9s %-8s %-22s %-9s %9s %9s %7s",
			      cut(x->component, 9, t1, sizeof(t1)), cut(x->verb, 8, t2, sizeof(t2)),
			      cut(nm, 22, t3, sizeof(t3)), x->scope, cb, cc, cr);
		}
	}
}

static void human_pair_wal(FILE *out, enum report_format f, const struct report_run *B,
			   const struct report_run *C)
{
	if (!B->nwal && !C->nwal)
		return;
	if (f == REPORT_MD)
		fputs("\n### etcd WAL fsync\n\n| syscall | count BASE | count CAND | p99 BASE "
		      "| p99 CAND | p99 CAND/BASE |\n|---|--:|--:|--:|--:|--:|\n", out);
	else {
		tline(out, "%s", "");
		tline(out, "etcd WAL fsync (bucket bounds, <= 25%% high)");
	}
	for (int s = 0; s < 2; s++) {
		const char *sys = wal_syscalls[s];
		const struct report_sys *fb = wal_find(B, sys), *fc = wal_find(C, sys);
		char a[32], b[32], r[32];

		if (!fb && !fc)
			continue;
		fmt_ns(fb ? fb->p99_ns : -1, a, sizeof(a));
		fmt_ns(fc ? fc->p99_ns : -1, b, sizeof(b));
		fmt_ratio(fb && fc ? ratio(fc->p99_ns, fb->p99_ns) : NAN, r, sizeof(r));
		if (f == REPORT_MD)
			fprintf(out, "| %s | %lld | %lld | %s | %s | %s |\n", sys,
				fb ? fb->count : 0, fc ? fc->count : 0, a, b, r);
		else
			tline(out, "  %-10s %10lld %10lld %8s %8s %7s", sys, fb ? fb->count : 0,
			      fc ? fc->count : 0, a, b, r);
	}
}

static void text_pair_footer(FILE *out, const char *summary, long long min_delta_ns)
{
	/* wrap at the last space that fits, never inside a word */
	size_t len = strlen(summary), cut = len;

	tline(out, "%s", "");
	if (len > 98) {
		cut = 98;
		while (cut > 40 && summary[cut] != ' ')
			cut--;
	}
	tline(out, "%.*s", (int)cut, summary);
	if (cut < len)
		tline(out, "  %s", summary + cut + (summary[cut] == ' '));
	tline(out, "flags: P99 = p99 CAND/BASE outside [0.5, 2] (and >= %.3gms apart); SLO = "
	      "verdicts differ;", min_delta_ns / 1e6);
	tline(out, "few = under %d requests on a side (not flagged); ratio = p99 CAND/BASE",
	      DIFF_MIN_COUNT);
}

static void human_pair(FILE *out, const struct report_run *B, const struct report_run *C,
		       const struct diff_opts *o, const struct pairs *s,
		       const struct ser_pair *sp, size_t nsp)
{
	enum report_format f = o->format;

	if (f == REPORT_MD) {
		fputs("## cpprof diff\n\n", out);
		run_line(out, f, "BASE", B);
		run_line(out, f, "CAND", C);
		fprintf(out, "\n%s.\n\n| component | verb | resource | scope | count BASE | count CAND "
			"| p50 BASE | p50 CAND | p90 BASE | p90 CAND | p99 BASE | p99 CAND | p99 CAND/BASE "
			"| rate CAND/BASE | SLO BASE | SLO CAND | flags |\n"
			"|---|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|---|---|\n",
			s->summary);
	} else {
		run_line(out, f, "BASE", B);
		run_line(out, f, "CAND", C);
		tline(out, "%s", "");
		tline(out, "  %-9s %-8s %-20s %-9s %7s %7s %7s %7s %6s %s", "component", "verb",
		      "resource", "scope", "n BASE", "n CAND", "p99 B", "p99 C", "ratio", "flags");
	}
	human_pair_calls(out, f, s);
	/* Serialization CPU per request, and etcd WAL fsync. */
	human_pair_ser(out, f, sp, nsp);
	human_pair_wal(out, f, B, C);
	human_pair_bd(out, f, B, C);
	if (f == REPORT_TEXT)
		text_pair_footer(out, s->summary, o->min_delta_ns);
}

static int write_pair(const struct report_run *B, const struct report_run *C,
		      const struct diff_opts *o, FILE *out)
{
	struct ser_pair *sp = calloc(ser_count(B) + ser_count(C) + 1, sizeof(*sp));
	struct pairs s;
	size_t nsp;
	int err;

	if (!sp) {
		cp_seterr("out of memory");
		return -ENOMEM;
	}
	if ((err = pairs_match(B, C, o->min_delta_ns, &s))) {
		free(sp);
		return err;
	}
	nsp = ser_pairs(B, C, sp, ser_count(B) + ser_count(C));
	if (o->format == REPORT_JSON)
		json_pair(out, B, C, o, &s, sp, nsp);
	else
		human_pair(out, B, C, o, &s, sp, nsp);
	free(s.ps);
	free(sp);
	if (fflush(out) != 0 || ferror(out)) {
		cp_seterr("cannot write the diff: %s", strerror(errno));
		return -EIO;
	}
	return 0;
}

/* ---------- four runs: the trend check ---------- */

static const char *direction(double c)
{
	if (isnan(c))
		return NULL;
	return c > TREND_NO_CHANGE_HIGH ? "up" : c < TREND_NO_CHANGE_LOW ? "down" : "none";
}

/* One call kind across the four runs. */
struct trend_row {
	const struct report_call *min, *k[4];   /* K[r] NULL: not in run r */
	double rc, kc;                          /* p99 after/before, real and Kubemark */
	const char *rd, *kd, *verdict;
	bool all, lowc;
};

/* The next call kind of the four runs (their calls are sorted) into T; false at the end. */
static bool trend_next(struct report_run *const *R, size_t idx[4], struct trend_row *t)
{
	memset(t, 0, sizeof(*t));
	t->rc = t->kc = NAN;
	t->all = true;
	for (int r = 0; r < 4; r++)
		if (idx[r] < R[r]->ncalls && (!t->min || key_cmp(&R[r]->calls[idx[r]], t->min) < 0))
			t->min = &R[r]->calls[idx[r]];
	if (!t->min)
		return false;
	for (int r = 0; r < 4; r++) {
		if (idx[r] < R[r]->ncalls && key_cmp(&R[r]->calls[idx[r]], t->min) == 0)
			t->k[r] = &R[r]->calls[idx[r]];
		if (!t->k[r])
			t->all = false;
		else if (t->k[r]->count < DIFF_MIN_COUNT)
			t->lowc = true;
	}
	if (t->k[0] && t->k[1])
		t->rc = ratio(t->k[1]->p99_ns, t->k[0]->p99_ns);
	if (t->k[2] && t->k[3])
		t->kc = ratio(t->k[3]->p99_ns, t->k[2]->p99_ns);
	t->rd = direction(t->rc);
	t->kd = direction(t->kc);
	if (!t->all)
		t->verdict = "missing";
	else if (t->lowc)
		t->verdict = "low_confidence";
	else if (t->rd && t->kd && !strcmp(t->rd, t->kd) &&
		 (!strcmp(t->rd, "none") ||
		  fabs(log(t->rc) - log(t->kc)) <= log(TREND_SIZE_FACTOR) + 1e-12))
		t->verdict = "agree";
	else
		t->verdict = "disagree";
	for (int r = 0; r < 4; r++)
		if (t->k[r])
			idx[r]++;
	return true;
}

static const char *const trend_roles[] = { "real_before", "real_after", "km_before", "km_after" };

static void trend_header(FILE *out, enum report_format f, struct report_run *const *R,
			 const char *summary)
{
	if (f == REPORT_JSON) {
		fprintf(out, "{\"format_version\":1,\"mode\":\"trend\",\n\"thresholds\":"
			"{\"no_change_low\":%g,\"no_change_high\":%g,\"size_factor\":%g,"
			"\"min_count\":%d},\n\"runs\":[", TREND_NO_CHANGE_LOW,
			TREND_NO_CHANGE_HIGH, TREND_SIZE_FACTOR, DIFF_MIN_COUNT);
		for (int r = 0; r < 4; r++) {
			fputs(r ? ",\n " : "\n ", out);
			json_runsum(out, R[r], trend_roles[r]);
		}
		fputs("],\n\"calls\":[", out);
	} else if (f == REPORT_MD) {
		fputs("## cpprof diff --trend\n\n", out);
		for (int r = 0; r < 4; r++)
			run_line(out, f, trend_roles[r], R[r]);
		fprintf(out, "\n%s.\n\n| component | verb | resource | scope | p99 real before "
			"| p99 real after | p99 km before | p99 km after | real change "
			"| km change | verdict |\n|---|---|---|---|--:|--:|--:|--:|--:|--:|---|\n",
			summary);
	} else {
		for (int r = 0; r < 4; r++)
			run_line(out, f, r == 0 ? "RB" : r == 1 ? "RA" : r == 2 ? "KB" : "KA", R[r]);
		tline(out, "%s", "");
		tline(out, "  %-8s %-7s %-18s %-9s %7s %7s %7s %7s %6s %6s %s", "comp",
		      "verb", "resource", "scope", "p99 RB", "p99 RA", "p99 KB", "p99 KA",
		      "real", "km", "verdict");
	}
}

static void json_trend_row(FILE *out, const struct trend_row *t, bool first)
{
	fputs(first ? "\n {" : ",\n {", out);
	json_key(out, t->min, true);
	fputs(",\"counts\":[", out);
	for (int r = 0; r < 4; r++) {
		fputs(r ? "," : "", out);
		json_ll(out, t->k[r] ? t->k[r]->count : -1);
	}
	fputs("],\"p99_ns\":[", out);
	for (int r = 0; r < 4; r++) {
		fputs(r ? "," : "", out);
		json_ll(out, t->k[r] ? t->k[r]->p99_ns : -1);
	}
	fputs("],\"real_change\":", out);
	json_num(out, t->rc);
	fputs(",\"km_change\":", out);
	json_num(out, t->kc);
	fputs(",\"real_direction\":", out);
	report__json_str(out, t->rd);
	fputs(",\"km_direction\":", out);
	report__json_str(out, t->kd);
	fprintf(out, ",\"verdict\":\"%s\"}", t->verdict);
}

static void human_trend_row(FILE *out, enum report_format f, const struct trend_row *t)
{
	const struct report_call *min = t->min;
	char name[512], p[4][32], a[32], b[32];

	kind_name(min, name, sizeof(name));
	for (int r = 0; r < 4; r++)
		fmt_ns(t->k[r] ? t->k[r]->p99_ns : -1, p[r], sizeof(p[r]));
	fmt_ratio(t->rc, a, sizeof(a));
	fmt_ratio(t->kc, b, sizeof(b));
	if (f == REPORT_MD) {
		md_key_cells(out, min->component, min->verb, name, min->scope);
		fprintf(out, " | %s | %s | %s | %s | %s | %s | %s |\n", p[0], p[1],
			p[2], p[3], a, b, t->verdict);
	} else {
		char c[4][64];

		tline(out, "  %-8s %-7s %-18s %-9s %7s %7s %7s %7s %6s %6s %s",
		      cut(min->component, 8, c[0], sizeof(c[0])), cut(min->verb, 7, c[1], sizeof(c[1])),
		      cut(name, 18, c[2], sizeof(c[2])), cut(min->scope, 9, c[3], sizeof(c[3])),
		      p[0], p[1], p[2], p[3], a, b,
		      !strcmp(t->verdict, "low_confidence") ? "few" : t->verdict);
	}
}

static int write_trend(struct report_run *const *R, const struct diff_opts *o, FILE *out)
{
	long long compared = 0, agree = 0, disagree = 0, low = 0, missing = 0;
	enum report_format f = o->format;
	struct trend_row t;
	size_t idx[4] = { 0 };
	char summary[256];
	bool first = true;

	/* The summary goes first, so count before writing. */
	while (trend_next(R, idx, &t)) {
		compared += t.all;
		missing += !t.all;
		low += t.all && t.lowc;
		agree += !strcmp(t.verdict, "agree");
		disagree += !strcmp(t.verdict, "disagree");
	}
	snprintf(summary, sizeof(summary), "%lld call kinds in all four runs: %lld agree, "
		 "%lld disagree, %lld low-confidence; %lld missing from some run",
		 compared, agree, disagree, low, missing);
	trend_header(out, f, R, summary);
	memset(idx, 0, sizeof(idx));
	while (trend_next(R, idx, &t)) {
		if (f == REPORT_JSON)
			json_trend_row(out, &t, first);
		else
			human_trend_row(out, f, &t);
		first = false;
	}
	if (f == REPORT_JSON) {
		fprintf(out, "],\n\"summary\":{\"compared\":%lld,\"agree\":%lld,\"disagree\":%lld,"
			"\"low_confidence\":%lld,\"missing\":%lld,\"text\":", compared, agree, disagree,
			low, missing);
		report__json_str(out, summary);
		fputs("}}\n", out);
	} else if (f == REPORT_TEXT) {
		tline(out, "%s", "");
		tline(out, "%s", summary);
		tline(out, "real/km: p99 after/before; no change within [%.2f, %.2f]; agree: same "
		      "direction and", TREND_NO_CHANGE_LOW, TREND_NO_CHANGE_HIGH);
		tline(out, "sizes within %gx of each other (or both no change); few: under %d requests",
		      TREND_SIZE_FACTOR, DIFF_MIN_COUNT);
	}
	if (fflush(out) != 0 || ferror(out)) {
		cp_seterr("cannot write the diff: %s", strerror(errno));
		return -EIO;
	}
	return 0;
}

int diff__write(const char *const *specs, int nspecs, const struct diff_opts *o, FILE *out)
{
	struct report_run *runs[4] = { 0 };
	int err = 0;

	if (nspecs != 2 && nspecs != 4) {
		cp_seterr("diff takes 2 runs (BASE CAND) or 4 (the trend check), not %d", nspecs);
		return -EINVAL;
	}
	for (int i = 0; i < nspecs && !err; i++) {
		struct report_src *src = NULL;
		char **strs = NULL;
		size_t n = 0;

		if ((err = diff__split_side(specs[i], &src, &n, &strs)))
			break;
		err = report__load_many(src, n, &runs[i]);
		for (size_t j = 0; j < 2 * n; j++)
			free(strs[j]);
		free(strs);
		free(src);
	}
	if (!err)
		err = nspecs == 2 ? write_pair(runs[0], runs[1], o, out) : write_trend(runs, o, out);
	for (int i = 0; i < nspecs; i++)
		report__run_free(runs[i]);
	return err;
}
