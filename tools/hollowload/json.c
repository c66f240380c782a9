// SPDX-License-Identifier: MIT
/*
 * json: a skip-based reader. json_skip validates and steps over one value
 * (depth-limited, so hostile nesting cannot blow the stack); json_get
 * walks object keys along a path using it.
 */
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "pb.h"

#define MAX_DEPTH 64

static const char *ws(const char *s, const char *end)
{
	while (s < end && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r'))
		s++;
	return s;
}

static const char *skip_str(const char *s, const char *end)
{
	/* s at the opening quote */
	for (s++; s < end; s++) {
		if (*s == '\\') {
			s++;
			continue;
		}
		if (*s == '"')
			return s + 1;
	}
	return NULL;
}

const char *json_skip(const char *s, const char *end, int depth)
{
	s = ws(s, end);
	if (s >= end || depth > MAX_DEPTH)
		return NULL;
	switch (*s) {
	case '"':
		return skip_str(s, end);
	case '{':
	case '[': {
		char close = *s == '{' ? '}' : ']';
		int obj = *s == '{';

		s = ws(s + 1, end);
		if (s < end && *s == close)
			return s + 1;
		for (;;) {
			if (obj) {
				s = ws(s, end);
				if (s >= end || *s != '"')
					return NULL;
				s = skip_str(s, end);
				if (!s)
					return NULL;
				s = ws(s, end);
				if (s >= end || *s != ':')
					return NULL;
				s++;
			}
			s = json_skip(s, end, depth + 1);
			if (!s)
				return NULL;
			s = ws(s, end);
			if (s >= end)
				return NULL;
			if (*s == close)
				return s + 1;
			if (*s != ',')
				return NULL;
			s++;
		}
	}
	default:
		if (!strchr("-0123456789tfn", *s))
			return NULL;
		while (s < end && strchr("-+.0123456789eEtruefalsn", *s))
			s++;
		return s;
	}
}

int json_get(const char *s, size_t n, const char *path, const char **val, size_t *vlen)
{
	const char *end = s + n;
	const char *key = path;

	for (;;) {
		const char *dot = strchr(key, '.');
		size_t klen = dot ? (size_t)(dot - key) : strlen(key);
		int found = 0;

		s = ws(s, end);
		if (s >= end)
			return -1;
		if (*s != '{')
			return json_skip(s, end, 0) ? 0 : -1;
		s = ws(s + 1, end);
		if (s < end && *s == '}')
			return 0;
		while (!found) {
			const char *k, *ke;

			s = ws(s, end);
			if (s >= end || *s != '"')
				return -1;
			k = s + 1;
			s = skip_str(s, end);
			if (!s)
				return -1;
			ke = s - 1;
			s = ws(s, end);
			if (s >= end || *s != ':')
				return -1;
			s = ws(s + 1, end);
			if ((size_t)(ke - k) == klen && !memcmp(k, key, klen)) {
				found = 1;
				break;
			}
			s = json_skip(s, end, 1);
			if (!s)
				return -1;
			s = ws(s, end);
			if (s >= end)
				return -1;
			if (*s == '}')
				return 0;
			if (*s != ',')
				return -1;
			s++;
		}
		if (!dot) {
			const char *e = json_skip(s, end, 1);

			if (!e)
				return -1;
			*val = s;
			*vlen = (size_t)(e - s);
			return 1;
		}
		key = dot + 1;
	}
}

int json_get_str(const char *s, size_t n, const char *path, char *out, size_t cap)
{
	const char *v;
	size_t vl, k = 0;
	int r = json_get(s, n, path, &v, &vl);

	if (cap)
		out[0] = 0;
	if (r != 1 || !cap)
		return r;
	if (vl >= 2 && v[0] == '"') {
		v++;
		vl -= 2;
	} else if (vl && (v[0] == '{' || v[0] == '[')) {
		return 0;
	}
	for (size_t i = 0; i < vl && k + 1 < cap; i++) {
		char c = v[i];

		if (c == '\\' && i + 1 < vl)
			c = v[++i];
		out[k++] = (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') ? c : '?';
	}
	out[k] = 0;
	return 1;
}

static int annotation_end(const char *v, size_t vl)
{
	static const char key[] = "\"k8s.io/initial-events-end\"";
	const char *e = v + vl, *p;

	for (p = v; (size_t)(e - p) >= sizeof(key) - 1; p++) {
		const char *q = p + sizeof(key) - 1;

		if (memcmp(p, key, sizeof(key) - 1))
			continue;
		while (q < e && strchr(" \t\r\n", *q))
			q++;
		if (q >= e || *q++ != ':')
			continue;
		while (q < e && strchr(" \t\r\n", *q))
			q++;
		return e - q >= 6 && !memcmp(q, "\"true\"", 6);
	}
	return 0;
}

int json_object(const char *s, size_t n, struct hl_obj *o)
{
	char code[16];
	const char *v;
	size_t vl;
	int r = json_get_str(s, n, "metadata.name", o->name, sizeof(o->name));

	if (r < 0)
		return -1;
	json_get_str(s, n, "metadata.namespace", o->namespace, sizeof(o->namespace));
	json_get_str(s, n, "metadata.resourceVersion", o->rv, sizeof(o->rv));
	json_get_str(s, n, "spec.nodeName", o->node, sizeof(o->node));
	json_get_str(s, n, "status.phase", o->phase, sizeof(o->phase));
	if (json_get(s, n, "metadata.deletionTimestamp", &v, &vl) == 1 && strncmp(v, "null", 4))
		o->deleting = 1;
	/* the watch-list's closing bookmark (client-go reflector.go
	 * watchHandler); json_get's path splits at dots, so the key is
	 * matched in the annotations map: "KEY" then ':' then "true" */
	if (json_get(s, n, "metadata.annotations", &v, &vl) == 1 && vl && *v == '{')
		o->initial_end = annotation_end(v, vl);
	if (json_get_str(s, n, "code", code, sizeof(code)) == 1)
		o->code = strtol(code, NULL, 10);
	return 0;
}
