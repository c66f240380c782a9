// SPDX-License-Identifier: MIT
/*
 * promtext: Prometheus text format parser. See promtext.h and
 * https://github.com/prometheus/docs/blob/main/content/docs/instrumenting/exposition_formats.md
 * (metric_name [ "{" label_name "=" `"` label_value `"` { "," ... } [ "," ] "}" ]
 * value [ timestamp ]).
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "promtext.h"

static bool name_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
}

static bool name_char(char c)
{
	return name_start(c) || (c >= '0' && c <= '9');
}

static int bad(int lineno, const char *what)
{
	cp_seterr("line %d: %s", lineno, what);
	return -EINVAL;
}

/* Parse one sample line in place (LINE is a writable NUL-terminated copy). */
static int parse_line(char *p, int lineno, struct prom_sample *s)
{
	char *end, *w;

	memset(s, 0, sizeof(*s));
	if (!name_start(*p))
		return bad(lineno, "a metric name must start the line");
	s->name = p;
	while (name_char(*p))
		p++;
	if (*p == '{') {
		*p++ = 0;
		for (;;) {
			struct prom_label *l;

			while (*p == ' ' || *p == '\t')
				p++;
			if (*p == '}') {
				p++;
				break;
			}
			if (s->nlabels == PROMTEXT_MAX_LABELS)
				return bad(lineno, "too many labels");
			l = &s->labels[s->nlabels++];
			if (!name_start(*p))
				return bad(lineno, "bad label name");
			l->name = p;
			while (name_char(*p))
				p++;
			w = p;
			while (*p == ' ' || *p == '\t')
				p++;
			if (*p != '=')
				return bad(lineno, "expected '=' after a label name");
			*w = 0;
			p++;
			while (*p == ' ' || *p == '\t')
				p++;
			if (*p != '"')
				return bad(lineno, "expected '\"' to open a label value");
			l->value = w = ++p;
			for (;;) {
				if (!*p)
					return bad(lineno, "unterminated label value");
				if (*p == '"')
					break;
				if (*p == '\\') {
					p++;
					if (*p == 'n')
						*w++ = '\n';
					else if (*p == '\\' || *p == '"')
						*w++ = *p;
					else
						return bad(lineno, "bad escape in a label value");
					p++;
					continue;
				}
				*w++ = *p++;
			}
			p++;
			*w = 0;
			while (*p == ' ' || *p == '\t')
				p++;
			if (*p == ',') {
				p++;
				continue;
			}
			if (*p != '}')
				return bad(lineno, "expected ',' or '}' after a label");
		}
	} else if (*p == ' ' || *p == '\t') {
		*p++ = 0;
	} else {
		return bad(lineno, "bad character in a metric name");
	}
	while (*p == ' ' || *p == '\t')
		p++;
	if (!*p)
		return bad(lineno, "missing value");
	if (!strncmp(p, "+Inf", 4) || !strncmp(p, "-Inf", 4) || !strncmp(p, "NaN", 3)) {
		s->value = p[0] == 'N' ? NAN : p[0] == '-' ? -INFINITY : INFINITY;
		end = p + (p[0] == 'N' ? 3 : 4);
	} else {
		s->value = strtod(p, &end);
		if (end == p)
			return bad(lineno, "value is not a number");
		/* strtod also reads "inf", "nan" and hex floats the format does not have: fine */
	}
	p = end;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p) {
		s->timestamp_ms = strtoll(p, &end, 10);
		if (end == p)
			return bad(lineno, "timestamp is not an integer");
		p = end;
		while (*p == ' ' || *p == '\t' || *p == '\r')
			p++;
		if (*p)
			return bad(lineno, "trailing characters after the timestamp");
	}
	return 0;
}

int promtext__parse(const char *buf, size_t len, promtext_fn fn, void *ctx)
{
	struct prom_sample s;
	size_t i = 0, cap = 256;
	char *line = malloc(cap);
	int lineno = 0, err = 0;

	if (!line)
		return -ENOMEM;
	while (i < len && !err) {
		size_t j = i, n;

		while (j < len && buf[j] != '\n')
			j++;
		n = j - i;
		lineno++;
		if (n + 1 > cap) {
			char *bigger = realloc(line, n + 1);

			if (!bigger) {
				err = -ENOMEM;
				break;
			}
			line = bigger;
			cap = n + 1;
		}
		memcpy(line, buf + i, n);
		line[n] = 0;
		if (n && line[n - 1] == '\r')
			line[--n] = 0;
		i = j + 1;
		{
			char *p = line;

			while (*p == ' ' || *p == '\t')
				p++;
			if (!*p || *p == '#')
				continue;
			if (memchr(line, 0, n)) {
				err = bad(lineno, "NUL byte in the line");
				break;
			}
			err = parse_line(p, lineno, &s);
			if (!err)
				err = fn(ctx, &s);
		}
	}
	free(line);
	return err;
}

const char *promtext__label(const struct prom_sample *s, const char *name)
{
	for (int i = 0; i < s->nlabels; i++)
		if (!strcmp(s->labels[i].name, name))
			return s->labels[i].value;
	return NULL;
}
