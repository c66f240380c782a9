// SPDX-License-Identifier: MIT
/*
 * pb: a minimal protobuf encoder and a decoder that never reads past its
 * input, for Kubernetes objects. The wrapper is what
 * k8s.io/apimachinery/pkg/runtime/serializer/protobuf writes: the magic
 * "k8s\x00" then runtime.Unknown{1: TypeMeta{1: apiVersion, 2: kind},
 * 2: raw, 3: contentEncoding, 4: contentType}.
 */
#include <stdlib.h>
#include <string.h>

#include "pb.h"

static const char MAGIC[4] = { 'k', '8', 's', 0 };

static void put(struct pbuf *b, const void *d, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 128;
		uint8_t *p;

		while (cap < b->len + n)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p) {
			b->oom = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	if (n)
		memcpy(b->p + b->len, d, n);
	b->len += n;
}

void pb_varint(struct pbuf *b, uint64_t v)
{
	uint8_t tmp[10];
	size_t n = 0;

	do {
		tmp[n] = v & 0x7f;
		v >>= 7;
		if (v)
			tmp[n] |= 0x80;
		n++;
	} while (v);
	put(b, tmp, n);
}

void pb_bytes(struct pbuf *b, int field, const void *data, size_t len)
{
	pb_varint(b, ((uint64_t)field << 3) | 2);
	pb_varint(b, len);
	put(b, data, len);
}

void pb_str(struct pbuf *b, int field, const char *s)
{
	pb_bytes(b, field, s, strlen(s));
}

void pb_uint(struct pbuf *b, int field, uint64_t v)
{
	pb_varint(b, (uint64_t)field << 3);
	pb_varint(b, v);
}

void pb_msg(struct pbuf *b, int field, const struct pbuf *m)
{
	if (m->oom)
		b->oom = 1;
	pb_bytes(b, field, m->p, m->len);
}

void pb_free(struct pbuf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

int pb_next(const uint8_t **p, const uint8_t *end, struct pb_field *f)
{
	const uint8_t *q = *p;
	uint64_t key = 0, v;
	int shift = 0;

	if (q >= end)
		return 0;
	/* varint key */
	for (;;) {
		if (q >= end || shift > 63)
			return -1;
		key |= (uint64_t)(*q & 0x7f) << shift;
		shift += 7;
		if (!(*q++ & 0x80))
			break;
	}
	f->num = (int)(key >> 3);
	f->wire = key & 7;
	if (f->num <= 0 || (key >> 3) > 0x1fffffff)
		return -1;
	f->val = 0;
	f->data = NULL;
	f->len = 0;
	switch (f->wire) {
	case 0:
	case 2:
		v = 0;
		shift = 0;
		for (;;) {
			if (q >= end || shift > 63)
				return -1;
			v |= (uint64_t)(*q & 0x7f) << shift;
			shift += 7;
			if (!(*q++ & 0x80))
				break;
		}
		if (f->wire == 0) {
			f->val = v;
		} else {
			if (v > (uint64_t)(end - q))
				return -1;
			f->data = q;
			f->len = (size_t)v;
			q += v;
		}
		break;
	case 1:
		if (end - q < 8)
			return -1;
		q += 8;
		break;
	case 5:
		if (end - q < 4)
			return -1;
		q += 4;
		break;
	default:
		return -1;
	}
	*p = q;
	return 1;
}

int pb_find(const uint8_t *p, size_t len, int num, const uint8_t **data, size_t *dlen)
{
	const uint8_t *end = p + len;
	struct pb_field f;
	int r;

	while ((r = pb_next(&p, end, &f)) == 1) {
		if (f.num == num && f.wire == 2) {
			*data = f.data;
			*dlen = f.len;
			return 1;
		}
	}
	return r;
}

static int wrap(struct pbuf *out, const char *api_version, const char *kind, const struct pbuf *raw)
{
	struct pbuf tm = { 0 }, unk = { 0 };

	pb_str(&tm, 1, api_version);
	pb_str(&tm, 2, kind);
	pb_msg(&unk, 1, &tm);
	pb_msg(&unk, 2, raw);
	pb_str(&unk, 3, "");
	pb_str(&unk, 4, "");
	out->len = 0;
	put(out, MAGIC, sizeof(MAGIC));
	put(out, unk.p, unk.len);
	if (unk.oom)
		out->oom = 1;
	pb_free(&tm);
	pb_free(&unk);
	return out->oom ? -1 : 0;
}

/* map<string,string> entry: key=1, value=2 */
static void label(struct pbuf *meta, int field, const char *k, const char *v)
{
	struct pbuf e = { 0 };

	pb_str(&e, 1, k);
	pb_str(&e, 2, v);
	pb_msg(meta, field, &e);
	pb_free(&e);
}

int pb_pod(struct pbuf *out, const struct hl_pod_spec *ps)
{
	struct pbuf meta = { 0 }, spec = { 0 }, c = { 0 }, pod = { 0 };
	int err;

	pb_str(&meta, 1, ps->name);           /* ObjectMeta.name */
	pb_str(&meta, 3, ps->namespace);      /* ObjectMeta.namespace */
	label(&meta, 11, "app", "hollowload"); /* ObjectMeta.labels */
	if (ps->run)
		label(&meta, 11, "run", ps->run);
	pb_str(&c, 1, "pause");               /* Container.name */
	pb_str(&c, 2, "registry.k8s.io/pause:3.9"); /* Container.image */
	pb_msg(&spec, 2, &c);                 /* PodSpec.containers */
	if (ps->node && *ps->node)
		pb_str(&spec, 10, ps->node);  /* PodSpec.nodeName; unset: to be bound */
	pb_msg(&pod, 1, &meta);               /* Pod.metadata */
	pb_msg(&pod, 2, &spec);               /* Pod.spec */
	err = wrap(out, "v1", "Pod", &pod);
	pb_free(&meta);
	pb_free(&spec);
	pb_free(&c);
	pb_free(&pod);
	return err;
}

int pb_meta_object(struct pbuf *out, const char *api_version, const char *kind,
		   const char *name, const char *namespace)
{
	struct pbuf meta = { 0 }, obj = { 0 };
	int err;

	pb_str(&meta, 1, name);
	if (namespace)
		pb_str(&meta, 3, namespace);
	if (!strcmp(kind, "Node"))
		label(&meta, 11, "kubernetes.io/hostname", name);
	pb_msg(&obj, 1, &meta);
	err = wrap(out, api_version, kind, &obj);
	pb_free(&meta);
	pb_free(&obj);
	return err;
}

int pb_lease(struct pbuf *out, const char *name, const char *holder, const char *rv,
	     int64_t renew_sec, int32_t renew_nsec, int duration_s)
{
	struct pbuf meta = { 0 }, spec = { 0 }, t = { 0 }, obj = { 0 };
	int err;

	pb_str(&meta, 1, name);
	pb_str(&meta, 3, "kube-node-lease");
	if (rv && *rv)
		pb_str(&meta, 6, rv);              /* ObjectMeta.resourceVersion */
	pb_uint(&t, 1, (uint64_t)renew_sec);       /* MicroTime.seconds */
	pb_uint(&t, 2, (uint64_t)(uint32_t)renew_nsec); /* MicroTime.nanos */
	pb_str(&spec, 1, holder);                  /* LeaseSpec.holderIdentity */
	pb_uint(&spec, 2, (uint64_t)duration_s);   /* LeaseSpec.leaseDurationSeconds */
	pb_msg(&spec, 4, &t);                      /* LeaseSpec.renewTime */
	pb_msg(&obj, 1, &meta);
	pb_msg(&obj, 2, &spec);
	err = wrap(out, "coordination.k8s.io/v1", "Lease", &obj);
	pb_free(&meta);
	pb_free(&spec);
	pb_free(&t);
	pb_free(&obj);
	return err;
}

int pb_unwrap(const uint8_t *data, size_t len, const uint8_t **raw, size_t *rawlen)
{
	int r;

	if (len < 4 || memcmp(data, MAGIC, 4)) {
		*raw = data;
		*rawlen = len;
		return 0;
	}
	r = pb_find(data + 4, len - 4, 2, raw, rawlen);   /* Unknown.raw */
	if (r == 0) {
		*raw = data + len;
		*rawlen = 0;
	}
	return r < 0 ? -1 : 0;
}

static void copy(char *dst, size_t cap, const uint8_t *s, size_t n)
{
	size_t k = 0;

	/* names and versions are printable; anything else becomes '?' */
	for (size_t i = 0; i < n && k + 1 < cap; i++)
		dst[k++] = (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"' && s[i] != '\\') ? s[i] : '?';
	dst[k] = 0;
}

/*
 * One ObjectMeta.annotations entry (map<string,string>: key 1, value 2):
 * 1 when it is "k8s.io/initial-events-end": "true", the annotation of the
 * bookmark that ends a watch-list's initial events (client-go
 * tools/cache/reflector.go, watchHandler).
 */
static int annotation_end(const uint8_t *p, size_t len)
{
	static const char key[] = "k8s.io/initial-events-end";
	const uint8_t *end = p + len;
	struct pb_field f;
	int k = 0, v = 0;

	while (pb_next(&p, end, &f) == 1) {
		if (f.wire != 2)
			continue;
		if (f.num == 1)
			k = f.len == sizeof(key) - 1 && !memcmp(f.data, key, f.len);
		else if (f.num == 2)
			v = f.len == 4 && !memcmp(f.data, "true", 4);
	}
	return k && v;
}

int pb_object(const uint8_t *raw, size_t len, int is_list, struct hl_obj *o)
{
	const uint8_t *p = raw, *end = raw + len, *q, *qe;
	struct pb_field f, g;
	int r, s;

	while ((r = pb_next(&p, end, &f)) == 1) {
		if (f.wire == 0 && f.num == 6)             /* Status.code */
			o->code = (long)f.val;
		if (f.wire != 2 || f.num > 3)
			continue;
		q = f.data;
		qe = f.data + f.len;
		while ((s = pb_next(&q, qe, &g)) == 1) {
			if (f.num == 1 && is_list && g.num == 2 && g.wire == 2)
				copy(o->rv, sizeof(o->rv), g.data, g.len);      /* ListMeta.resourceVersion */
			else if (f.num == 1 && !is_list && g.wire == 2) {
				if (g.num == 1)
					copy(o->name, sizeof(o->name), g.data, g.len);
				else if (g.num == 3)
					copy(o->namespace, sizeof(o->namespace), g.data, g.len);
				else if (g.num == 6)
					copy(o->rv, sizeof(o->rv), g.data, g.len);
				else if (g.num == 9)
					o->deleting = 1;                        /* deletionTimestamp */
				else if (g.num == 12 && annotation_end(g.data, g.len))
					o->initial_end = 1;                     /* annotations entry */
			} else if (f.num == 2 && !is_list && g.num == 10 && g.wire == 2)
				copy(o->node, sizeof(o->node), g.data, g.len);  /* PodSpec.nodeName */
			else if (f.num == 3 && !is_list && g.num == 1 && g.wire == 2)
				copy(o->phase, sizeof(o->phase), g.data, g.len); /* PodStatus.phase */
		}
		if (s < 0 && f.num != 2 && f.num != 3)
			return -1;   /* metadata must parse; spec/status of other kinds may not be messages */
	}
	return r < 0 ? -1 : 0;
}
