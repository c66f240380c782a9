/* SPDX-License-Identifier: MIT */
/*
 * report_render: what the renderers of the report model share, and their
 * entry points. A renderer formats a struct report_model
 * (report_model.h) and holds no SQL; report.c picks one by format.
 */
#ifndef CPPROF_REPORT_RENDER_H
#define CPPROF_REPORT_RENDER_H

#include <stdio.h>

#include "report.h"
#include "report_model.h"

#define REPORT_TEXT_WIDTH 100

static inline const char *report_str_or(const char *s, const char *dflt)
{
	return s && *s ? s : dflt;
}

/* Bytes of the UTF-8 sequence at S, 0 if it is not one. */
int report__utf8_len(const unsigned char *s);
/* Display columns of a UTF-8 string: one per code point (no wide characters here). */
int report__dwidth(const char *s);
/* S cut to MAXW columns with an ellipsis, in BUF. */
const char *report__clip(const char *s, int maxw, char *buf, size_t n);
/* "2026-01-02 03:04:05 UTC" */
void report__fmt_utc(long long ns, char *buf, size_t n);
/* A span: report__fmt_ns below an hour's worth of minutes, else "1h 02m 03s". */
void report__fmt_span(long long ns, char *buf, size_t n);

int report_text__write(FILE *out, const struct report_model *m);
int report_md__write(FILE *out, const struct report_model *m);
int report_json__write(FILE *out, const struct report_model *m);
/* The per-request breakdown of R's call kinds (report_breakdown_render.c); nothing if none. */
void report_breakdown__text(FILE *out, const struct report_run *r, bool md);
void report_breakdown__json(FILE *out, const struct report_run *r);
/* The stacks of R as folded lines; -ENOENT when it has none. */
int report_folded__write(FILE *out, const struct report_run *r, const char *component);
/* The stacks of R (REPORT_LOAD_STACK_LABELS) as gzipped profile.proto; -ENOENT when it has none. */
int report_pprof__write(FILE *out, const struct report_run *r, const char *component);
/* The apiserver calls (COMPONENT's, if set) of R as perf-tests' PerfData; -ENOENT when none. */
int report_perfdata__write(FILE *out, const struct report_run *r, const char *component);

#endif
