// SPDX-License-Identifier: MIT
/*
 * watch: frames a watch stream into events and decodes each one into the
 * few fields hollowload uses. The buffer only holds the incomplete tail;
 * it is released when empty so an idle watch costs no heap.
 */
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "watch.h"

void watch__init(struct watch_parser *p, int protobuf)
{
	memset(p, 0, sizeof(*p));
	p->protobuf = protobuf;
}

void watch__reset(struct watch_parser *p)
{
	int pbm = p->protobuf;

	watch__free(p);
	watch__init(p, pbm);
}

void watch__free(struct watch_parser *p)
{
	free(p->buf);
	p->buf = NULL;
	p->len = p->cap = p->scan = 0;
	p->depth = p->in_str = p->esc = 0;
}

static void copy_type(char *dst, size_t cap, const char *s, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n && k + 1 < cap; i++)
		dst[k++] = (s[i] >= 'A' && s[i] <= 'Z') ? s[i] : '?';
	dst[k] = 0;
}

int watch__event(int protobuf, const char *data, size_t len, struct watch_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	if (!protobuf) {
		const char *v;
		size_t vl;

		if (json_get_str(data, len, "type", ev->type, sizeof(ev->type)) != 1)
			return -1;
		if (json_get(data, len, "object", &v, &vl) != 1)
			return -1;
		return json_object(v, vl, &ev->obj);
	} else {
		const uint8_t *p, *end, *raw = NULL, *obj;
		size_t rawlen = 0, objlen;
		struct pb_field f;
		int r, have_type = 0;

		if (pb_unwrap((const uint8_t *)data, len, &p, &objlen) < 0)
			return -1;
		end = p + objlen;
		while ((r = pb_next(&p, end, &f)) == 1) {
			if (f.num == 1 && f.wire == 2) {
				copy_type(ev->type, sizeof(ev->type), (const char *)f.data, f.len);
				have_type = 1;
			} else if (f.num == 2 && f.wire == 2) {
				if (pb_find(f.data, f.len, 1, &raw, &rawlen) < 0)  /* RawExtension.raw */
					return -1;
			}
		}
		if (r < 0 || !have_type)
			return -1;
		if (!raw)
			return 0;
		if (rawlen && raw[0] == '{')
			return json_object((const char *)raw, rawlen, &ev->obj);
		if (pb_unwrap(raw, rawlen, &obj, &objlen) < 0)
			return -1;
		return pb_object(obj, objlen, 0, &ev->obj);
	}
}

static int append(struct watch_parser *p, const char *data, size_t len)
{
	if (p->len + len > WATCH_MAX_EVENT + 4)
		return -1;
	if (p->len + len > p->cap) {
		size_t cap = p->cap ? p->cap : 1024;
		char *b;

		while (cap < p->len + len)
			cap *= 2;
		b = realloc(p->buf, cap);
		if (!b)
			return -1;
		p->buf = b;
		p->cap = cap;
	}
	memcpy(p->buf + p->len, data, len);
	p->len += len;
	return 0;
}

/* drop the first N bytes of the buffer */
static void consume(struct watch_parser *p, size_t n)
{
	memmove(p->buf, p->buf + n, p->len - n);
	p->len -= n;
	if (!p->len) {
		free(p->buf);
		p->buf = NULL;
		p->cap = 0;
	}
}

static int feed_json(struct watch_parser *p, watch_event_fn fn, void *arg)
{
	struct watch_event ev;
	size_t i = p->scan;

	while (i < p->len) {
		char c = p->buf[i];

		if (p->depth == 0) {
			if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
				consume(p, i + 1);
				i = 0;
				continue;
			}
			if (c != '{')
				return -1;
		}
		i++;
		if (p->in_str) {
			if (p->esc)
				p->esc = 0;
			else if (c == '\\')
				p->esc = 1;
			else if (c == '"')
				p->in_str = 0;
			continue;
		}
		if (c == '"') {
			p->in_str = 1;
		} else if (c == '{' || c == '[') {
			if (++p->depth > 1000)
				return -1;
		} else if (c == '}' || c == ']') {
			if (--p->depth < 0)
				return -1;
			if (p->depth == 0) {
				if (watch__event(0, p->buf, i, &ev) < 0)
					return -1;
				p->events++;
				fn(&ev, arg);
				consume(p, i);
				i = 0;
			}
		}
	}
	p->scan = i;
	if (p->len > WATCH_MAX_EVENT)
		return -1;
	return 0;
}

static int feed_pb(struct watch_parser *p, watch_event_fn fn, void *arg)
{
	struct watch_event ev;

	while (p->len >= 4) {
		const unsigned char *b = (const unsigned char *)p->buf;
		size_t n = ((size_t)b[0] << 24) | ((size_t)b[1] << 16) | ((size_t)b[2] << 8) | b[3];

		if (n > WATCH_MAX_EVENT)
			return -1;
		if (p->len < 4 + n)
			return 0;
		if (watch__event(1, p->buf + 4, n, &ev) < 0)
			return -1;
		p->events++;
		fn(&ev, arg);
		consume(p, 4 + n);
	}
	return 0;
}

int watch__feed(struct watch_parser *p, const char *data, size_t len, watch_event_fn fn, void *arg)
{
	if (len && append(p, data, len) < 0)
		return -1;
	return p->protobuf ? feed_pb(p, fn, arg) : feed_json(p, fn, arg);
}
