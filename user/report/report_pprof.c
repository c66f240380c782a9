// SPDX-License-Identifier: MIT
/*
 * report_pprof: `cpprof report --format pprof`, the renderer of a run's
 * CPU stacks (report_model.h, REPORT_LOAD_STACK_LABELS) as a gzipped
 * profile.proto, the format of `go tool pprof`, Parca, Pyroscope and
 * speedscope. The protobuf is written by hand (a dozen fields of
 * github.com/google/pprof/proto/profile.proto; no protobuf library is
 * worth one message) and compressed with zlib's gzip wrapper.
 *
 * What is stored decides what the profile holds: table cpu_stacks keeps
 * folded function names, outermost first, with inlined functions as frames
 * of their own, and no file, line or address. So each distinct frame name
 * is one Function and one Location (one Line, line 0) of a single mapping
 * marked has_functions, which keeps pprof from trying to symbolize it
 * again. Samples carry the values samples/count and cpu/nanoseconds and
 * the string labels component, category, verb, resource, subresource and
 * scope; a label whose value is '' (samples of no request) is left out, as
 * pprof drops empty string labels when it reads a profile.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "log.h"
#include "report_render.h"

/* profile.proto field numbers (github.com/google/pprof/proto/profile.proto) */
enum {
	PROFILE_SAMPLE_TYPE = 1, PROFILE_SAMPLE = 2, PROFILE_MAPPING = 3, PROFILE_LOCATION = 4,
	PROFILE_FUNCTION = 5, PROFILE_STRING_TABLE = 6, PROFILE_TIME_NANOS = 9,
	PROFILE_DURATION_NANOS = 10, PROFILE_PERIOD_TYPE = 11, PROFILE_PERIOD = 12,
	PROFILE_COMMENT = 13,
	VALUETYPE_TYPE = 1, VALUETYPE_UNIT = 2,
	SAMPLE_LOCATION_ID = 1, SAMPLE_VALUE = 2, SAMPLE_LABEL = 3,
	LABEL_KEY = 1, LABEL_STR = 2,
	MAPPING_ID = 1, MAPPING_FILENAME = 5, MAPPING_HAS_FUNCTIONS = 7,
	LOCATION_ID = 1, LOCATION_MAPPING_ID = 2, LOCATION_LINE = 4,
	LINE_FUNCTION_ID = 1,
	FUNCTION_ID = 1, FUNCTION_NAME = 2, FUNCTION_SYSTEM_NAME = 3,
};

enum { WIRE_VARINT = 0, WIRE_LEN = 2 };

/* A growing protobuf buffer; ERR sticks at the first failed allocation. */
struct pb {
	uint8_t *b;
	size_t n, cap;
	int err;
};

static void pb_put(struct pb *p, const void *d, size_t len)
{
	if (p->err)
		return;
	if (p->n + len > p->cap) {
		size_t cap = p->cap ? p->cap : 256;
		void *nb;

		while (cap < p->n + len)
			cap *= 2;
		if (!(nb = realloc(p->b, cap))) {
			p->err = -ENOMEM;
			return;
		}
		p->b = nb;
		p->cap = cap;
	}
	memcpy(p->b + p->n, d, len);
	p->n += len;
}

static void pb_varint(struct pb *p, uint64_t v)
{
	uint8_t buf[10];
	size_t n = 0;

	do {
		buf[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		v >>= 7;
	} while (v);
	pb_put(p, buf, n);
}

static void pb_key(struct pb *p, int field, int wire)
{
	pb_varint(p, (uint64_t)field << 3 | (uint64_t)wire);
}

/* An integer field; zero is the default and is left out. */
static void pb_int(struct pb *p, int field, int64_t v)
{
	if (!v)
		return;
	pb_key(p, field, WIRE_VARINT);
	pb_varint(p, (uint64_t)v);
}

static void pb_bytes(struct pb *p, int field, const void *d, size_t len)
{
	pb_key(p, field, WIRE_LEN);
	pb_varint(p, len);
	pb_put(p, d, len);
}

/* SUB as an embedded message of P; SUB is emptied for reuse. */
static void pb_msg(struct pb *p, int field, struct pb *sub)
{
	if (sub->err)
		p->err = sub->err;
	pb_bytes(p, field, sub->b, sub->n);
	sub->n = 0;
}

/* The string table: index 0 is "", as profile.proto demands. */
struct strtab {
	char **s;
	uint32_t n, cap;
	uint32_t *slots;             /* open addressing: index + 1, 0 empty */
	uint32_t nslots;
	uint32_t *func;              /* function id of string i, 0 none */
};

static uint32_t str_hash(const char *s)
{
	uint32_t h = 2166136261u;    /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

static int strtab_grow(struct strtab *t)
{
	uint32_t nslots = t->nslots ? t->nslots * 2 : 1024;
	uint32_t *slots = calloc(nslots, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (uint32_t i = 0; i < t->n; i++) {
		uint32_t h = str_hash(t->s[i]) & (nslots - 1);

		while (slots[h])
			h = (h + 1) & (nslots - 1);
		slots[h] = i + 1;
	}
	free(t->slots);
	t->slots = slots;
	t->nslots = nslots;
	return 0;
}

/* Index of S in T, adding it; -ENOMEM. */
static int64_t strtab_id(struct strtab *t, const char *s, size_t len)
{
	char *copy;
	uint32_t h;

	if (!(copy = strndup(s, len)))
		return -ENOMEM;
	if ((t->n + 1) * 2 > t->nslots && strtab_grow(t)) {
		free(copy);
		return -ENOMEM;
	}
	for (h = str_hash(copy) & (t->nslots - 1); t->slots[h]; h = (h + 1) & (t->nslots - 1)) {
		if (!strcmp(t->s[t->slots[h] - 1], copy)) {
			free(copy);
			return t->slots[h] - 1;
		}
	}
	if (t->n == t->cap) {
		uint32_t cap = t->cap ? t->cap * 2 : 1024;
		char **ns = realloc(t->s, cap * sizeof(*ns));
		uint32_t *nf;

		if (!ns) {
			free(copy);
			return -ENOMEM;
		}
		t->s = ns;
		if (!(nf = realloc(t->func, cap * sizeof(*nf)))) {
			free(copy);
			return -ENOMEM;
		}
		t->func = nf;
		t->cap = cap;
	}
	t->s[t->n] = copy;
	t->func[t->n] = 0;
	t->slots[h] = t->n + 1;
	return t->n++;
}

static void strtab_free(struct strtab *t)
{
	for (uint32_t i = 0; i < t->n; i++)
		free(t->s[i]);
	free(t->s);
	free(t->slots);
	free(t->func);
}

/* DATA gzipped into OUT (zlib's gzip wrapper: windowBits 15 + 16). */
static int gzip_write(FILE *out, const uint8_t *data, size_t len)
{
	uint8_t buf[65536];
	z_stream zs = { 0 };
	int rc;

	if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
			 Z_DEFAULT_STRATEGY) != Z_OK) {
		cp_seterr("cannot start zlib's deflate");
		return -ENOMEM;
	}
	zs.next_in = (Bytef *)data;
	zs.avail_in = (uInt)len;      /* profiles stay far below 4 GiB: their stacks are bounded */
	do {
		zs.next_out = buf;
		zs.avail_out = sizeof(buf);
		rc = deflate(&zs, Z_FINISH);
		if (rc == Z_STREAM_ERROR)
			break;
		if (fwrite(buf, 1, sizeof(buf) - zs.avail_out, out) != sizeof(buf) - zs.avail_out) {
			deflateEnd(&zs);
			cp_seterr("cannot write the profile: %s", strerror(errno));
			return -EIO;
		}
	} while (rc != Z_STREAM_END);
	deflateEnd(&zs);
	if (rc != Z_STREAM_END) {
		cp_seterr("zlib's deflate failed");
		return -EIO;
	}
	return 0;
}

static const char *const label_keys[REPORT_STACK_NLABELS] = {
	[RSL_COMPONENT] = "component", [RSL_CATEGORY] = "category", [RSL_VERB] = "verb",
	[RSL_RESOURCE] = "resource", [RSL_SUBRESOURCE] = "subresource", [RSL_SCOPE] = "scope",
};

/* A ValueType message (TYPE, UNIT) as field FIELD of P. */
static int value_type(struct pb *p, struct pb *sub, struct strtab *st, int field,
		      const char *type, const char *unit)
{
	int64_t t = strtab_id(st, type, strlen(type)), u = strtab_id(st, unit, strlen(unit));

	if (t < 0 || u < 0)
		return -ENOMEM;
	pb_int(sub, VALUETYPE_TYPE, t);
	pb_int(sub, VALUETYPE_UNIT, u);
	pb_msg(p, field, sub);
	return 0;
}

/* Location ids of one folded stack, innermost first; -ENOMEM. */
static int stack_locations(struct strtab *st, uint32_t *nfunc, struct pb *funcs, struct pb *sub,
			   const char *stack, uint64_t **ids, size_t *nids, size_t *cap)
{
	const char *s = stack;

	*nids = 0;
	for (;;) {
		const char *e = strchr(s, ';');
		size_t len = e ? (size_t)(e - s) : strlen(s);
		int64_t name = strtab_id(st, s, len);

		if (name < 0)
			return -ENOMEM;
		if (!st->func[name]) {
			/* a new frame: its Function and its Location, both of id nfunc */
			st->func[name] = ++*nfunc;
			pb_int(sub, FUNCTION_ID, *nfunc);
			pb_int(sub, FUNCTION_NAME, name);
			pb_int(sub, FUNCTION_SYSTEM_NAME, name);
			pb_msg(funcs, PROFILE_FUNCTION, sub);
		}
		if (*nids == *cap) {
			size_t nc = *cap ? *cap * 2 : 64;
			uint64_t *n = realloc(*ids, nc * sizeof(*n));

			if (!n)
				return -ENOMEM;
			*ids = n;
			*cap = nc;
		}
		(*ids)[(*nids)++] = st->func[name];
		if (!e)
			break;
		s = e + 1;
	}
	/* folded stacks are outermost first; profile.proto wants the leaf first */
	for (size_t i = 0; i < *nids / 2; i++) {
		uint64_t t = (*ids)[i];

		(*ids)[i] = (*ids)[*nids - 1 - i];
		(*ids)[*nids - 1 - i] = t;
	}
	return 0;
}

int report_pprof__write(FILE *out, const struct report_run *r, const char *component)
{
	struct pb prof = { 0 }, samples = { 0 }, funcs = { 0 }, sub = { 0 }, sub2 = { 0 };
	struct strtab st = { 0 };
	uint64_t *ids = NULL;
	size_t nids = 0, idcap = 0;
	uint32_t nfunc = 0;
	int64_t keys[REPORT_STACK_NLABELS], name;
	long long period = 0;
	char comment[512];
	int err = 0;

	if (!r->nstacks) {
		cp_seterr("run has no CPU samples%s%s%s (recorded with --sample-hz 0?)",
			  component ? " of component '" : "", component ? component : "",
			  component ? "'" : "");
		return -ENOENT;
	}
	if (strtab_id(&st, "", 0) < 0)
		goto nomem;
	for (int c = 0; c < REPORT_STACK_NLABELS; c++)
		if ((keys[c] = strtab_id(&st, label_keys[c], strlen(label_keys[c]))) < 0)
			goto nomem;
	if (value_type(&prof, &sub, &st, PROFILE_SAMPLE_TYPE, "samples", "count") ||
	    value_type(&prof, &sub, &st, PROFILE_SAMPLE_TYPE, "cpu", "nanoseconds"))
		goto nomem;

	for (size_t i = 0; i < r->nstacks; i++) {
		const struct report_stack *k = &r->stacks[i];

		if (stack_locations(&st, &nfunc, &funcs, &sub, k->stack, &ids, &nids, &idcap))
			goto nomem;
		/* packed repeated fields: one length-delimited run of varints */
		for (size_t j = 0; j < nids; j++)
			pb_varint(&sub2, ids[j]);
		pb_msg(&sub, SAMPLE_LOCATION_ID, &sub2);
		pb_varint(&sub2, (uint64_t)k->samples);
		pb_varint(&sub2, (uint64_t)k->cpu_ns);
		pb_msg(&sub, SAMPLE_VALUE, &sub2);
		for (int c = 0; c < REPORT_STACK_NLABELS; c++) {
			const char *v = k->labels[c];

			if (!v || !*v)
				continue;
			if ((name = strtab_id(&st, v, strlen(v))) < 0)
				goto nomem;
			pb_int(&sub2, LABEL_KEY, keys[c]);
			pb_int(&sub2, LABEL_STR, name);
			pb_msg(&sub, SAMPLE_LABEL, &sub2);
		}
		pb_msg(&samples, PROFILE_SAMPLE, &sub);
		if (!period && k->samples > 0)
			period = k->cpu_ns / k->samples;
	}
	if (r->sample_hz > 0)
		period = 1000000000LL / r->sample_hz;
	pb_put(&prof, samples.b, samples.n);

	/* one mapping that has its functions already: pprof does not look for a binary */
	if ((name = strtab_id(&st, "cpprof", 6)) < 0)
		goto nomem;
	pb_int(&sub, MAPPING_ID, 1);
	pb_int(&sub, MAPPING_FILENAME, name);
	pb_int(&sub, MAPPING_HAS_FUNCTIONS, 1);
	pb_msg(&prof, PROFILE_MAPPING, &sub);
	for (uint32_t id = 1; id <= nfunc; id++) {
		pb_int(&sub2, LINE_FUNCTION_ID, id);
		pb_int(&sub, LOCATION_ID, id);
		pb_int(&sub, LOCATION_MAPPING_ID, 1);
		pb_msg(&sub, LOCATION_LINE, &sub2);
		pb_msg(&prof, PROFILE_LOCATION, &sub);
	}
	pb_put(&prof, funcs.b, funcs.n);

	snprintf(comment, sizeof(comment), "cpprof run '%s' of '%s'%s%s: folded function names "
		 "of table cpu_stacks, no file:line", report_str_or(r->label, "?"),
		 report_str_or(r->db, "?"), component ? ", component " : "",
		 component ? component : "");
	if ((name = strtab_id(&st, comment, strlen(comment))) < 0)
		goto nomem;
	for (uint32_t i = 0; i < st.n; i++)
		pb_bytes(&prof, PROFILE_STRING_TABLE, st.s[i], strlen(st.s[i]));
	if (r->started_ns > 0)
		pb_int(&prof, PROFILE_TIME_NANOS, r->started_ns);
	if (r->duration_ns > 0)
		pb_int(&prof, PROFILE_DURATION_NANOS, r->duration_ns);
	else if (r->started_ns > 0 && r->ended_ns > r->started_ns)
		pb_int(&prof, PROFILE_DURATION_NANOS, r->ended_ns - r->started_ns);
	/* "cpu" and "nanoseconds" are in the table already (the sample types) */
	if (value_type(&prof, &sub, &st, PROFILE_PERIOD_TYPE, "cpu", "nanoseconds"))
		goto nomem;
	pb_int(&prof, PROFILE_PERIOD, period);
	pb_int(&prof, PROFILE_COMMENT, name);
	if (prof.err || samples.err || funcs.err || sub.err || sub2.err)
		goto nomem;
	err = gzip_write(out, prof.b, prof.n);
	goto out;
nomem:
	cp_seterr("out of memory");
	err = -ENOMEM;
out:
	free(prof.b);
	free(samples.b);
	free(funcs.b);
	free(sub.b);
	free(sub2.b);
	free(ids);
	strtab_free(&st);
	return err;
}
