// SPDX-License-Identifier: MIT
/*
 * report: `cpprof report` over the report model. report_model.c reads the
 * database (all the SQL), a renderer formats what it read: text and
 * Markdown in report_text.c, JSON in report_json.c (html.c wraps it in a
 * page), folded stacks in report_folded.c. This file picks the renderer
 * for a format and holds the formatting helpers they share.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cl2.h"
#include "log.h"
#include "report.h"
#include "report_model.h"
#include "report_render.h"

#define NS_PER_S 1000000000LL

/* ---------- formatting helpers shared by the renderers ---------- */

/* Display columns of a UTF-8 string: one per code point (no wide characters here). */
int report__dwidth(const char *s)
{
	int w = 0;

	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

/* Length of the valid UTF-8 sequence at S, or 0. */
int report__utf8_len(const unsigned char *s)
{
	int n;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	for (int i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	/* Overlong 3/4-byte forms, surrogates and values past U+10FFFF. */
	if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0) ||
	    (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90))
		return 0;
	return n;
}

/*
 * Copy S into BUF for a terminal: control characters (a process name can
 * hold escape sequences) and bytes that are not UTF-8 become '?', and
 * anything past MAXW display columns is cut and marked with an ellipsis.
 */
const char *report__clip(const char *s, int maxw, char *buf, size_t n)
{
	size_t o = 0;
	int w = 0;

	if (!s)
		s = "";
	if (maxw < 1)
		maxw = 1;
	while (*s && o + 5 < n) {
		int len = report__utf8_len((const unsigned char *)s);

		if (w == maxw - 1 && report__dwidth(s) > 1) {
			o += snprintf(buf + o, n - o, "…");
			break;
		}
		if (w == maxw)
			break;
		w++;
		if (len == 0 || (unsigned char)*s < 0x20 || *s == 0x7f) {
			buf[o++] = '?';
			s++;
			continue;
		}
		memcpy(buf + o, s, len);
		o += len;
		s += len;
	}
	buf[o] = '\0';
	return buf;
}

/* Human duration, 3 significant digits: 999ns, 1.00µs, 12.3ms, 990ms, 1.20s, 3600s. */
void report__fmt_ns(long long ns, char *buf, size_t n)
{
	static const struct { const char *unit; double div; } u[] = {
		{ "µs", 1e3 }, { "ms", 1e6 }, { "s", 1e9 },
	};

	if (ns < 0) {
		snprintf(buf, n, "-");
		return;
	}
	if (ns < 1000) {
		snprintf(buf, n, "%lldns", ns);
		return;
	}
	for (size_t i = 0; i < 3; i++) {
		double v = ns / u[i].div;

		/* 999.7µs would print as "1000µs": say 1.00ms instead. */
		if (i < 2 && v >= 999.5)
			continue;
		if (v < 9.995)
			snprintf(buf, n, "%.2f%s", v, u[i].unit);
		else if (v < 99.95)
			snprintf(buf, n, "%.1f%s", v, u[i].unit);
		else
			snprintf(buf, n, "%.0f%s", v, u[i].unit);
		return;
	}
}

void report__fmt_utc(long long ns, char *buf, size_t n)
{
	time_t t = (time_t)(ns / NS_PER_S);
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(buf, n, "%Y-%m-%d %H:%M:%S UTC", &tm))
		snprintf(buf, n, "%lld ns", ns);
}

void report__fmt_span(long long ns, char *buf, size_t n)
{
	long long s = ns / NS_PER_S;

	if (ns < 60 * NS_PER_S)
		report__fmt_ns(ns, buf, n);
	else if (s < 3600)
		snprintf(buf, n, "%lldm %02llds", s / 60, s % 60);
	else
		snprintf(buf, n, "%lldh %02lldm %02llds", s / 3600, s / 60 % 60, s % 60);
}

/* ---------- the renderers, by format ---------- */

/*
 * What each format shows and so what its model needs. A new format is a
 * renderer (report_render.h) and a line here; folded and html are not in
 * the table: folded reads one run's stacks (report__folded), html is the
 * JSON in a page (html.c, called by cli.c).
 */
static const struct report_renderer {
	enum report_format format;
	unsigned what;
	int (*write)(FILE *out, const struct report_model *m);
} renderers[] = {
	{ REPORT_TEXT, REPORT_LOAD_ALL, report_text__write },
	{ REPORT_MD,   REPORT_LOAD_ALL, report_md__write },
	{ REPORT_JSON, REPORT_LOAD_ALL, report_json__write },
};

int report__write(const char *db_path, const struct report_opts *o, FILE *out)
{
	const struct report_src src = { db_path, o->label };

	return report__write_many(&src, 1, o, out);
}

int report__write_many(const struct report_src *src, size_t n, const struct report_opts *o,
		       FILE *out)
{
	const struct report_renderer *rd = NULL;
	struct report_model_opts mo = { 0 };
	struct report_model *m;
	int err;

	for (size_t i = 0; i < sizeof(renderers) / sizeof(renderers[0]); i++)
		if (renderers[i].format == o->format)
			rd = &renderers[i];
	if (!rd) {
		cp_seterr("unknown report format %d", (int)o->format);
		return -EINVAL;
	}
	mo.what = rd->what;
	if (o->cl2) {
		/* clusterloader2's results are of one test: one run of the file */
		mo.one_run = true;
		mo.how = "choose the run of the clusterloader2 test with --label";
	}
	if (!(m = report_model__load_many(src, n, &mo, &err)))
		return err;
	if (o->cl2 && m->nruns == 1) {
		if ((err = cl2__load(o->cl2, &m->runs[0].cl2))) {
			report_model__free(m);
			return err;
		}
		cl2__match(m->runs[0].cl2, &m->runs[0]);
	}
	err = rd->write(out, m);
	report_model__free(m);
	if (!err && (fflush(out) != 0 || ferror(out))) {
		err = -EIO;
		cp_seterr("cannot write the report: %s", strerror(errno));
	}
	return err;
}

int report__folded(const char *db_path, const char *label, const char *component, FILE *out)
{
	const struct report_src src = { db_path, label };

	return report__folded_many(&src, 1, component, out);
}

int report__folded_many(const struct report_src *src, size_t n, const char *component, FILE *out)
{
	const struct report_model_opts mo = {
		.what = REPORT_LOAD_STACKS, .one_run = true, .how = "choose one with --label",
		.component = component,
	};
	struct report_model *m;
	int err;

	if (!(m = report_model__load_many(src, n, &mo, &err)))
		return err;
	err = report_folded__write(out, &m->runs[0], component);
	report_model__free(m);
	return err;
}

int report__pprof(const char *db_path, const char *label, const char *component, FILE *out)
{
	const struct report_model_opts mo = {
		.what = REPORT_LOAD_STACK_LABELS, .one_run = true, .how = "choose one with --label",
		.component = component,
	};
	struct report_model *m;
	int err;

	if (!(m = report_model__load(db_path, label, &mo, &err)))
		return err;
	err = report_pprof__write(out, &m->runs[0], component);
	report_model__free(m);
	return err;
}

/*
 * The file name clusterloader2 gives APIResponsivenessPrometheus' summary,
 * <SummaryName>_<test name>_<RFC 3339 time>.json (clusterloader2's
 * cmd/clusterloader.go), and perfdash looks for: it lists a build's
 * artifacts starting with <OutputFilePrefix>_<Name>, here
 * APIResponsivenessPrometheus_<label> (perfdash/metrics-downloader.go).
 * Characters of the label that would not keep it one name are '-': perfdash
 * splits the rest of the name on '_' (a suite id).
 */
static void perfdata_name(const struct report_run *r, char *buf, size_t n)
{
	char label[128], when[32] = "unknown";
	time_t t = (time_t)(r->started_ns / NS_PER_S);
	struct tm tm;
	size_t i;

	for (i = 0; r->label && r->label[i] && i + 1 < sizeof(label); i++) {
		char c = r->label[i];

		label[i] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			   c == '.' || c == '-' ? c : '-';
	}
	label[i] = '\0';
	if (r->started_ns > 0 && gmtime_r(&t, &tm))
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(buf, n, "APIResponsivenessPrometheus_%s_%s.json", label[0] ? label : "run", when);
}

int report__perfdata(const char *db_path, const char *label, const char *component,
		     FILE *out, const char *dir)
{
	const struct report_model_opts mo = {
		.what = REPORT_LOAD_CALLS, .one_run = !dir, .how = "choose one with --label, or "
		"write one file per run with -o DIRECTORY",
	};
	struct report_model *m;
	size_t written = 0;
	int err = 0;

	if (!(m = report_model__load(db_path, label, &mo, &err)))
		return err;
	for (size_t i = 0; !err && i < m->nruns; i++) {
		char name[256], path[4096];
		FILE *f;
		int fd;

		if (!dir) {
			/* one run (one_run): its error is the answer */
			err = report_perfdata__write(out, &m->runs[i], component);
			report_model__free(m);
			return err;
		}
		perfdata_name(&m->runs[i], name, sizeof(name));
		if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path)) {
			cp_seterr("path of '%s' in '%s' is too long", name, dir);
			err = -ENAMETOOLONG;
			break;
		}
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0 || !(f = fdopen(fd, "w"))) {
			cp_seterr("cannot write '%s': %s", path, strerror(errno));
			if (fd >= 0)
				close(fd);
			err = -errno;
			break;
		}
		err = report_perfdata__write(f, &m->runs[i], component);
		if (fclose(f) && !err) {
			cp_seterr("cannot write '%s': %s", path, strerror(errno));
			err = -EIO;
		}
		if (err)
			unlink(path);
		else
			fprintf(out, "%s\n", path), written++;
		if (err == -ENOENT && m->nruns > 1) {
			/* a run of etcd alone, say: the others still get their files */
			info("no file for run '%s': %s\n", m->runs[i].label, cp_lasterr());
			err = 0;
		}
	}
	if (!err && !written) {
		cp_seterr("no run of '%s' has API calls to chart", db_path);
		err = -ENOENT;
	}
	report_model__free(m);
	return err;
}
