// SPDX-License-Identifier: MIT
/*
 * report_pprof: `cpprof report --format pprof`, the renderer of a run's
 * CPU stacks (report_model.h, REPORT_LOAD_STACK_LABELS) as a gzipped
 * profile.proto, the format of `go tool pprof`, Parca, Pyroscope and
 * speedscope. The protobuf is written by hand (a dozen fields of
 * github.com/google/pprof/proto/profile.proto; no protobuf library is
 * worth one message) and compressed with zlib's gzip wrapper.
 *
 * What is stored decides what the profile holds: table cpu_functions keeps
 * each frame's name, file, line and whether it was inlined into its caller
 * (SCHEMA.md), and no address. So each name and file is one Function, and
 * each frame together with the frames inlined into it is one Location,
 * their Lines innermost first, of a single mapping marked has_functions
 * (which keeps pprof from trying to symbolize it again) and has_filenames,
 * has_line_numbers, has_inline_frames as the frames have them. Files made
 * before cpu_functions had file and line give names only: a Location of
 * one Line, line 0, per frame. Samples carry the values samples/count and cpu/nanoseconds and
 * the string labels component, category, verb, resource, subresource and
 * scope; a label whose value is '' (samples of no request) is left out, as
 * pprof drops empty string labels when it reads a profile.
 */
#include <errno.h>
#include <stdbool.h>
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
	MAPPING_HAS_FILENAMES = 8, MAPPING_HAS_LINE_NUMBERS = 9, MAPPING_HAS_INLINE_FRAMES = 10,
	LOCATION_ID = 1, LOCATION_MAPPING_ID = 2, LOCATION_LINE = 4,
	LINE_FUNCTION_ID = 1, LINE_LINE = 2,
	FUNCTION_ID = 1, FUNCTION_NAME = 2, FUNCTION_SYSTEM_NAME = 3, FUNCTION_FILENAME = 4,
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

/* One frame of a stack: its name and, when stored, its file:line. */
struct frame {
	const char *name, *file;
	size_t nlen, flen;
	long line;
	int inlined;               /* inlined into the frame before it (its caller) */
};

/* What the profile's tables hold so far. */
struct tables {
	struct strtab st;          /* the string table */
	struct strtab fkeys;       /* "NAME\x1fFILE" -> Function id (strtab.func) */
	struct strtab lkeys;       /* "FUNC:LINE,..." innermost first -> Location id */
	uint32_t nfunc, nloc;
	struct pb funcs, locs, sub, sub2;
	struct frame *fr;
	size_t nfr, frcap;
	bool files, line_numbers, inline_frames;
};

/* Split STACK (';', outermost first) and LINES (stack_rec.lines, or NULL) into t->fr. */
static int split_frames(struct tables *t, const char *stack, const char *lines)
{
	const char *s = stack, *l = lines;

	t->nfr = 0;
	for (;;) {
		const char *e = strchr(s, ';'), *le = l ? strchr(l, '\n') : NULL;
		struct frame *f;

		if (t->nfr == t->frcap) {
			size_t nc = t->frcap ? t->frcap * 2 : 64;
			struct frame *n = realloc(t->fr, nc * sizeof(*n));

			if (!n)
				return -ENOMEM;
			t->fr = n;
			t->frcap = nc;
		}
		f = &t->fr[t->nfr++];
		*f = (struct frame){ .name = s, .nlen = e ? (size_t)(e - s) : strlen(s), .file = "" };
		if (l) {
			/* "INLINED\tLINE\tFILE" */
			char *end;
			long inl = strtol(l, &end, 10), line = 0;

			if (*end == '\t')
				line = strtol(end + 1, &end, 10);
			if (*end == '\t') {
				f->inlined = inl == 1;
				f->line = line > 0 ? line : 0;
				f->file = end + 1;
				f->flen = le ? (size_t)(le - f->file) : strlen(f->file);
			}
			l = le ? le + 1 : NULL;
		}
		if (!e)
			break;
		s = e + 1;
	}
	return 0;
}

/* The Function id of frame F, adding its Function; < 0: -ENOMEM. */
static int64_t function_id(struct tables *t, const struct frame *f)
{
	char *key = malloc(f->nlen + f->flen + 2);
	int64_t k, name, file;

	if (!key)
		return -ENOMEM;
	memcpy(key, f->name, f->nlen);
	key[f->nlen] = 0x1f;
	memcpy(key + f->nlen + 1, f->file, f->flen);
	k = strtab_id(&t->fkeys, key, f->nlen + 1 + f->flen);
	free(key);
	if (k < 0)
		return k;
	if (t->fkeys.func[k])
		return t->fkeys.func[k];
	if ((name = strtab_id(&t->st, f->name, f->nlen)) < 0 ||
	    (file = strtab_id(&t->st, f->file, f->flen)) < 0)
		return -ENOMEM;
	t->fkeys.func[k] = ++t->nfunc;
	pb_int(&t->sub, FUNCTION_ID, t->nfunc);
	pb_int(&t->sub, FUNCTION_NAME, name);
	pb_int(&t->sub, FUNCTION_SYSTEM_NAME, name);
	pb_int(&t->sub, FUNCTION_FILENAME, file);
	pb_msg(&t->funcs, PROFILE_FUNCTION, &t->sub);
	t->files |= f->flen > 0;
	return t->nfunc;
}

/*
 * Location ids of one stack, innermost first; -ENOMEM. A Location is a
 * frame together with the frames inlined into it, its Lines innermost
 * first: profile.proto's "the last entry is the caller into which the
 * preceding entries were inlined".
 */
static int stack_locations(struct tables *t, const struct report_stack *k, uint64_t **ids,
			   size_t *nids, size_t *cap)
{
	char key[4096];

	*nids = 0;
	if (split_frames(t, k->stack, k->lines))
		return -ENOMEM;
	for (size_t i = t->nfr; i-- > 0;) {
		size_t first = i, klen = 0, n = 0;
		int64_t fid[64], lid;

		/* frame i and the callers it was inlined into, up to the one it was not */
		for (;;) {
			if ((fid[n] = function_id(t, &t->fr[i])) < 0)
				return -ENOMEM;
			klen += (size_t)snprintf(key + klen, sizeof(key) - klen, "%lld:%ld,",
						 (long long)fid[n], t->fr[i].line);
			n++;
			if (!t->fr[i].inlined || i == 0 || n == 64 || klen >= sizeof(key) - 48)
				break;
			i--;
		}
		if ((lid = strtab_id(&t->lkeys, key, klen)) < 0)
			return -ENOMEM;
		if (!t->lkeys.func[lid]) {
			t->lkeys.func[lid] = ++t->nloc;
			pb_int(&t->sub, LOCATION_ID, t->nloc);
			pb_int(&t->sub, LOCATION_MAPPING_ID, 1);
			for (size_t j = 0; j < n; j++) {
				pb_int(&t->sub2, LINE_FUNCTION_ID, fid[j]);
				pb_int(&t->sub2, LINE_LINE, t->fr[first - j].line);
				pb_msg(&t->sub, LOCATION_LINE, &t->sub2);
				t->line_numbers |= t->fr[first - j].line > 0;
			}
			pb_msg(&t->locs, PROFILE_LOCATION, &t->sub);
			t->inline_frames |= n > 1;
		}
		if (*nids == *cap) {
			size_t nc = *cap ? *cap * 2 : 64;
			uint64_t *np = realloc(*ids, nc * sizeof(*np));

			if (!np)
				return -ENOMEM;
			*ids = np;
			*cap = nc;
		}
		(*ids)[(*nids)++] = t->lkeys.func[lid];
	}
	return 0;
}

int report_pprof__write(FILE *out, const struct report_run *r, const char *component)
{
	struct pb prof = { 0 }, samples = { 0 };
	struct tables t = { 0 };
	struct strtab *st = &t.st;
	struct pb *sub = &t.sub, *sub2 = &t.sub2;
	uint64_t *ids = NULL;
	size_t nids = 0, idcap = 0;
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
	if (strtab_id(st, "", 0) < 0)
		goto nomem;
	for (int c = 0; c < REPORT_STACK_NLABELS; c++)
		if ((keys[c] = strtab_id(st, label_keys[c], strlen(label_keys[c]))) < 0)
			goto nomem;
	if (value_type(&prof, sub, st, PROFILE_SAMPLE_TYPE, "samples", "count") ||
	    value_type(&prof, sub, st, PROFILE_SAMPLE_TYPE, "cpu", "nanoseconds"))
		goto nomem;

	for (size_t i = 0; i < r->nstacks; i++) {
		const struct report_stack *k = &r->stacks[i];

		if (stack_locations(&t, k, &ids, &nids, &idcap))
			goto nomem;
		/* packed repeated fields: one length-delimited run of varints */
		for (size_t j = 0; j < nids; j++)
			pb_varint(sub2, ids[j]);
		pb_msg(sub, SAMPLE_LOCATION_ID, sub2);
		pb_varint(sub2, (uint64_t)k->samples);
		pb_varint(sub2, (uint64_t)k->cpu_ns);
		pb_msg(sub, SAMPLE_VALUE, sub2);
		for (int c = 0; c < REPORT_STACK_NLABELS; c++) {
			const char *v = k->labels[c];

			if (!v || !*v)
				continue;
			if ((name = strtab_id(st, v, strlen(v))) < 0)
				goto nomem;
			pb_int(sub2, LABEL_KEY, keys[c]);
			pb_int(sub2, LABEL_STR, name);
			pb_msg(sub, SAMPLE_LABEL, sub2);
		}
		pb_msg(&samples, PROFILE_SAMPLE, sub);
		if (!period && k->samples > 0)
			period = k->cpu_ns / k->samples;
	}
	if (r->sample_hz > 0)
		period = 1000000000LL / r->sample_hz;
	pb_put(&prof, samples.b, samples.n);

	/* one mapping that has its functions already: pprof does not look for a binary */
	if ((name = strtab_id(st, "cpprof", 6)) < 0)
		goto nomem;
	pb_int(sub, MAPPING_ID, 1);
	pb_int(sub, MAPPING_FILENAME, name);
	pb_int(sub, MAPPING_HAS_FUNCTIONS, 1);
	pb_int(sub, MAPPING_HAS_FILENAMES, t.files);
	pb_int(sub, MAPPING_HAS_LINE_NUMBERS, t.line_numbers);
	pb_int(sub, MAPPING_HAS_INLINE_FRAMES, t.inline_frames);
	pb_msg(&prof, PROFILE_MAPPING, sub);
	pb_put(&prof, t.locs.b, t.locs.n);
	pb_put(&prof, t.funcs.b, t.funcs.n);

	snprintf(comment, sizeof(comment), "cpprof run '%s' of '%s'%s%s: %s",
		 report_str_or(r->label, "?"), report_str_or(r->db, "?"),
		 component ? ", component " : "", component ? component : "",
		 t.line_numbers ? "frames with file:line of table cpu_functions"
				: "folded function names of table cpu_stacks, no file:line");
	if ((name = strtab_id(st, comment, strlen(comment))) < 0)
		goto nomem;
	for (uint32_t i = 0; i < st->n; i++)
		pb_bytes(&prof, PROFILE_STRING_TABLE, st->s[i], strlen(st->s[i]));
	if (r->started_ns > 0)
		pb_int(&prof, PROFILE_TIME_NANOS, r->started_ns);
	if (r->duration_ns > 0)
		pb_int(&prof, PROFILE_DURATION_NANOS, r->duration_ns);
	else if (r->started_ns > 0 && r->ended_ns > r->started_ns)
		pb_int(&prof, PROFILE_DURATION_NANOS, r->ended_ns - r->started_ns);
	/* "cpu" and "nanoseconds" are in the table already (the sample types) */
	if (value_type(&prof, sub, st, PROFILE_PERIOD_TYPE, "cpu", "nanoseconds"))
		goto nomem;
	pb_int(&prof, PROFILE_PERIOD, period);
	pb_int(&prof, PROFILE_COMMENT, name);
	if (prof.err || samples.err || t.funcs.err || t.locs.err || sub->err || sub2->err)
		goto nomem;
	err = gzip_write(out, prof.b, prof.n);
	goto out;
nomem:
	cp_seterr("out of memory");
	err = -ENOMEM;
out:
	free(prof.b);
	free(samples.b);
	free(t.funcs.b);
	free(t.locs.b);
	free(sub->b);
	free(sub2->b);
	free(t.fr);
	free(ids);
	strtab_free(&t.st);
	strtab_free(&t.fkeys);
	strtab_free(&t.lkeys);
	return err;
}
