// SPDX-License-Identifier: MIT
/*
 * cl2: a reader of clusterloader2's PerfData (cl2.h). A small JSON parser
 * of its own, strict about JSON and about the fields it uses, tolerant of
 * fields it does not know (a newer clusterloader2 adds labels such as
 * SlowCount): it is outside data, fuzzed by tests/fuzz/fuzz_cl2.c.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cl2.h"
#include "log.h"
#include "metrics_check.h"
#include "report_model.h"

#define CL2_MAX_BYTES (64 << 20)
#define CL2_MAX_DEPTH 32

struct jp {
	const char *s, *end, *start;
	char *err;
	size_t errlen;
	bool failed;
};

static void fail(struct jp *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(struct jp *p, const char *fmt, ...)
{
	char what[160];
	va_list ap;

	if (p->failed)
		return;
	p->failed = true;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (p->s >= p->end)
		snprintf(p->err, p->errlen, "unexpected end of the file: %s", what);
	else
		snprintf(p->err, p->errlen, "%s at byte %zu", what, (size_t)(p->s - p->start));
}

static void ws(struct jp *p)
{
	while (p->s < p->end && (*p->s == ' ' || *p->s == '\t' || *p->s == '\n' || *p->s == '\r'))
		p->s++;
}

static bool eat(struct jp *p, char c)
{
	ws(p);
	if (p->s < p->end && *p->s == c) {
		p->s++;
		return true;
	}
	return false;
}

/* A JSON string into OUT (LEN bytes, cut when longer; NULL to skip); \u escapes become UTF-8. */
static bool str(struct jp *p, char *out, size_t len)
{
	size_t o = 0;

	ws(p);
	if (p->s >= p->end || *p->s != '"') {
		fail(p, "expected a string");
		return false;
	}
	p->s++;
	while (p->s < p->end && *p->s != '"') {
		unsigned c = (unsigned char)*p->s++;
		char buf[4];
		int n = 1;

		if (c < 0x20) {
			fail(p, "control character in a string");
			return false;
		}
		buf[0] = (char)c;
		if (c == '\\') {
			if (p->s >= p->end)
				break;
			c = (unsigned char)*p->s++;
			switch (c) {
			case '"': case '\\': case '/': buf[0] = (char)c; break;
			case 'b': buf[0] = '\b'; break;
			case 'f': buf[0] = '\f'; break;
			case 'n': buf[0] = '\n'; break;
			case 'r': buf[0] = '\r'; break;
			case 't': buf[0] = '\t'; break;
			case 'u': {
				unsigned v = 0;

				for (int i = 0; i < 4; i++, p->s++) {
					char h = p->s < p->end ? *p->s : 0;

					if (h >= '0' && h <= '9') v = v * 16 + (h - '0');
					else if (h >= 'a' && h <= 'f') v = v * 16 + (h - 'a' + 10);
					else if (h >= 'A' && h <= 'F') v = v * 16 + (h - 'A' + 10);
					else {
						fail(p, "bad \\u escape");
						return false;
					}
				}
				/* surrogates are kept as '?': labels of API calls are ASCII */
				if (v < 0x80) {
					buf[0] = (char)v;
				} else if (v < 0x800) {
					buf[0] = (char)(0xc0 | v >> 6);
					buf[1] = (char)(0x80 | (v & 0x3f));
					n = 2;
				} else if (v >= 0xd800 && v <= 0xdfff) {
					buf[0] = '?';
				} else {
					buf[0] = (char)(0xe0 | v >> 12);
					buf[1] = (char)(0x80 | ((v >> 6) & 0x3f));
					buf[2] = (char)(0x80 | (v & 0x3f));
					n = 3;
				}
				break;
			}
			default:
				fail(p, "bad escape '\\%c'", c >= 0x20 && c < 0x7f ? (char)c : '?');
				return false;
			}
		}
		if (out && o + n < len) {
			memcpy(out + o, buf, n);
			o += n;
		}
	}
	if (p->s >= p->end) {
		fail(p, "unterminated string");
		return false;
	}
	p->s++;
	if (out && len)
		out[o] = 0;
	return true;
}

static bool number(struct jp *p, double *v)
{
	char buf[64], *e;
	size_t n = 0;

	ws(p);
	while (p->s + n < p->end && n < sizeof(buf) - 1 && strchr("+-0123456789.eE", p->s[n]))
		n++;
	if (!n) {
		fail(p, "expected a number");
		return false;
	}
	memcpy(buf, p->s, n);
	buf[n] = 0;
	*v = strtod(buf, &e);
	if (*e || !isfinite(*v)) {
		fail(p, "bad number '%s'", buf);
		return false;
	}
	p->s += n;
	return true;
}

static bool lit(struct jp *p, const char *w)
{
	size_t n = strlen(w);

	ws(p);
	if ((size_t)(p->end - p->s) >= n && !memcmp(p->s, w, n)) {
		p->s += n;
		return true;
	}
	fail(p, "unexpected character");
	return false;
}

static bool skip(struct jp *p, int depth);

/* An object: for each member, FN (or a skip when it declines). */
static bool object(struct jp *p, int depth, bool (*fn)(struct jp *, const char *, void *, int),
		   void *arg)
{
	char key[64];

	if (depth > CL2_MAX_DEPTH) {
		fail(p, "nested too deep");
		return false;
	}
	if (!eat(p, '{')) {
		fail(p, "expected an object");
		return false;
	}
	if (eat(p, '}'))
		return true;
	do {
		if (!str(p, key, sizeof(key)))
			return false;
		if (!eat(p, ':')) {
			fail(p, "expected ':'");
			return false;
		}
		if (!(fn ? fn(p, key, arg, depth + 1) : skip(p, depth + 1)))
			return false;
	} while (eat(p, ','));
	if (!eat(p, '}')) {
		fail(p, "expected ',' or '}'");
		return false;
	}
	return true;
}

static bool skip(struct jp *p, int depth)
{
	double d;

	if (depth > CL2_MAX_DEPTH) {
		fail(p, "nested too deep");
		return false;
	}
	ws(p);
	if (p->s >= p->end) {
		fail(p, "unexpected end");
		return false;
	}
	switch (*p->s) {
	case '{':
		return object(p, depth, NULL, NULL);
	case '[':
		p->s++;
		if (eat(p, ']'))
			return true;
		do {
			if (!skip(p, depth + 1))
				return false;
		} while (eat(p, ','));
		if (!eat(p, ']')) {
			fail(p, "expected ',' or ']'");
			return false;
		}
		return true;
	case '"':
		return str(p, NULL, 0);
	case 't':
		return lit(p, "true");
	case 'f':
		return lit(p, "false");
	case 'n':
		return lit(p, "null");
	default:
		return number(p, &d);
	}
}

static bool data_member(struct jp *p, const char *key, void *arg, int depth)
{
	struct cl2_item *it = arg;
	double *v = !strcmp(key, "Perc50") ? &it->p50_ms : !strcmp(key, "Perc90") ? &it->p90_ms :
		    !strcmp(key, "Perc99") ? &it->p99_ms : NULL;

	if (!v)
		return skip(p, depth);
	if (!number(p, v))
		return false;
	if (*v < 0) {
		fail(p, "negative %s", key);
		return false;
	}
	return true;
}

static bool label_member(struct jp *p, const char *key, void *arg, int depth)
{
	struct cl2_item *it = arg;
	char count[32], *e;

	if (!strcmp(key, "Verb"))
		return str(p, it->verb, sizeof(it->verb));
	if (!strcmp(key, "Resource"))
		return str(p, it->resource, sizeof(it->resource));
	if (!strcmp(key, "Subresource"))
		return str(p, it->subresource, sizeof(it->subresource));
	if (!strcmp(key, "Scope"))
		return str(p, it->scope, sizeof(it->scope));
	if (strcmp(key, "Count"))
		return skip(p, depth);
	if (!str(p, count, sizeof(count)))
		return false;
	it->count = strtoll(count, &e, 10);
	if (!*count || *e || it->count < 0) {
		fail(p, "Count '%s' is not a count", count);
		return false;
	}
	return true;
}

struct unit_ctx {
	struct cl2_item *it;
	char unit[16];
	bool has_data;
};

static bool item_member(struct jp *p, const char *key, void *arg, int depth)
{
	struct unit_ctx *u = arg;

	if (!strcmp(key, "data")) {
		u->has_data = true;
		return object(p, depth, data_member, u->it);
	}
	if (!strcmp(key, "labels"))
		return object(p, depth, label_member, u->it);
	if (!strcmp(key, "unit"))
		return str(p, u->unit, sizeof(u->unit));
	return skip(p, depth);
}

static bool items(struct jp *p, struct report_cl2 *c, int depth)
{
	if (!eat(p, '[')) {
		fail(p, "dataItems is not an array");
		return false;
	}
	if (eat(p, ']'))
		return true;
	do {
		struct unit_ctx u = { 0 };
		struct cl2_item *n = realloc(c->items, (c->n + 1) * sizeof(*c->items));

		if (!n) {
			fail(p, "out of memory");
			return false;
		}
		c->items = n;
		u.it = &c->items[c->n];
		memset(u.it, 0, sizeof(*u.it));
		u.it->p50_ms = u.it->p90_ms = u.it->p99_ms = -1;
		u.it->count = -1;
		if (!object(p, depth, item_member, &u))
			return false;
		if (!u.has_data || !u.it->verb[0]) {
			fail(p, "dataItems[%zu] has no %s", c->n, u.has_data ? "labels.Verb" : "data");
			return false;
		}
		if (u.unit[0] && strcmp(u.unit, "ms")) {
			fail(p, "dataItems[%zu] is in '%s', not ms", c->n, u.unit);
			return false;
		}
		c->n++;
	} while (eat(p, ','));
	if (!eat(p, ']')) {
		fail(p, "expected ',' or ']'");
		return false;
	}
	return true;
}

struct top_ctx {
	struct report_cl2 *c;
	bool has_items;
};

static bool top_member(struct jp *p, const char *key, void *arg, int depth)
{
	struct top_ctx *t = arg;

	if (!strcmp(key, "version"))
		return str(p, t->c->version, sizeof(t->c->version));
	if (!strcmp(key, "dataItems")) {
		t->has_items = true;
		return items(p, t->c, depth);
	}
	return skip(p, depth);
}

int cl2__parse(const char *buf, size_t len, struct report_cl2 **out, char *err, size_t errlen)
{
	struct jp p = { .s = buf, .end = buf + len, .start = buf, .err = err, .errlen = errlen };
	struct report_cl2 *c = calloc(1, sizeof(*c));
	struct top_ctx t = { .c = c };

	*out = NULL;
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (object(&p, 0, top_member, &t)) {
		ws(&p);
		if (p.s != p.end)
			fail(&p, "trailing data after the object");
		else if (!t.has_items)
			fail(&p, "no dataItems");
		else if (strcmp(c->version, "v1"))
			fail(&p, "version '%s', expected \"v1\"", c->version);
	}
	if (p.failed) {
		cl2__free(c);
		return -EINVAL;
	}
	*out = c;
	return 0;
}

int cl2__load(const char *path, struct report_cl2 **out)
{
	char err[256];
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int rc;

	*out = NULL;
	if (!f) {
		rc = -errno;
		cp_seterr("cannot read '%s': %s", path, strerror(errno));
		return rc;
	}
	for (;;) {
		size_t n;

		if (len == cap) {
			char *nb;

			cap = cap ? cap * 2 : 65536;
			if (cap > CL2_MAX_BYTES + 1 || !(nb = realloc(buf, cap))) {
				fclose(f);
				free(buf);
				cp_seterr("'%s' is larger than 64 MiB: not a clusterloader2 PerfData file", path);
				return -EFBIG;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (!n)
			break;
	}
	if (ferror(f)) {
		fclose(f);
		free(buf);
		cp_seterr("cannot read '%s': %s", path, strerror(EIO));
		return -EIO;
	}
	fclose(f);
	rc = cl2__parse(buf ? buf : "", len, out, err, sizeof(err));
	free(buf);
	if (rc) {
		cp_seterr("'%s' is not clusterloader2's API responsiveness PerfData (%s); pass the "
			  "APIResponsivenessPrometheus_*.json file of the test", path, err);
		return rc;
	}
	if (!((*out)->path = strdup(path))) {
		cl2__free(*out);
		*out = NULL;
		cp_seterr("out of memory");
		return -ENOMEM;
	}
	return 0;
}

void cl2__match(struct report_cl2 *c, const struct report_run *r)
{
	for (size_t i = 0; c && i < c->n; i++) {
		struct cl2_item *it = &c->items[i];
		const char *verb = mc_verb(it->verb);

		snprintf(it->cpprof_verb, sizeof(it->cpprof_verb), "%s", verb);
		it->cpprof_count = it->cpprof_p50_ns = it->cpprof_p90_ns = it->cpprof_p99_ns = -1;
		for (size_t j = 0; r && j < r->ncalls; j++) {
			const struct report_call *k = &r->calls[j];
			char kv[24], ks[16];

			if (!k->component || strcmp(k->component, "apiserver") || k->path ||
			    !k->resource || strcmp(k->resource, it->resource) ||
			    strcmp(k->subresource ? k->subresource : "", it->subresource))
				continue;
			/* the metric's key of cpprof's call (create is scope resource, ...) */
			mc_key(k->verb, k->subresource, k->scope, kv, ks);
			if (strcmp(kv, verb) || strcmp(ks, it->scope))
				continue;
			it->cpprof_count = k->count;
			it->cpprof_p50_ns = k->p50_ns;
			it->cpprof_p90_ns = k->p90_ns;
			it->cpprof_p99_ns = k->p99_ns;
			break;
		}
	}
}

void cl2__free(struct report_cl2 *c)
{
	if (!c)
		return;
	free(c->path);
	free(c->items);
	free(c);
}
