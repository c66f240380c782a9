// SPDX-License-Identifier: MIT
/*
 * cpuprof: samples -> symbolized, classified, attributed CPU profile. See
 * cpuprof.h.
 *
 * A sample's request tags (verb, resource, ...) are known only when the
 * request ends, and its end event travels in another ring buffer than
 * the sample, so either may come first: samples of a request not yet
 * ended wait in "pending" (per request: its stacks and counts); ended
 * requests stay in "done" for DONE_KEEP_NS, for samples that arrive late.
 *
 * Every stored request passes through "done" (thousands a second, tens
 * of thousands for a few samples a second), so it is a ring in the order
 * the requests ended with an index by key: an end is one append, and
 * forgetting the old ones pops the ring's head, never rebuilding a table
 * of the last DONE_KEEP_NS of requests nor touching fresh pages.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "classify.h"
#include "cpuprof.h"
#include "log.h"
#include "store.h"
#include "symbolize.h"

#define MAX_TARGETS    64
#define MAX_STACKS     (1 << 17)  /* distinct folded stacks kept; more count in "[stack table full]" */
#define MAX_TAGS       (1 << 14)  /* distinct call kinds */
#define MAX_PENDING    (1 << 20)  /* samples waiting for their request's end */
#define DONE_KEEP_NS   (30ULL * 1000000000ULL)
#define FRAMES_MAX     512        /* frames per sample after inline expansion */
#define FOLDED_MAX     16384      /* bytes of one folded stack */
#define LINES_MAX      32768      /* bytes of its frames' file:line (stack_rec.lines) */
#define INLINE_MAX     16
#define RAW_SLOTS      4096       /* raw stacks remembered (raw_stack): ~1.5 MiB when full */

/* ---- a small open-addressing hash of fixed-size keys ------------------- */

/* Keys and values are multiples of 8 bytes, so every field in a slot stays aligned. */
struct htab {
	size_t cap, n, ksize, vsize;
	uint8_t *slots;           /* per slot: a used word (8 bytes), key, value */
};

#define SLOT_HDR 8

#define FNV_BASIS 1469598103934665603ULL

/* FNV-1a of N bytes at P, continuing from H (start with FNV_BASIS). */
static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n--)
		h = (h ^ *b++) * 1099511628211ULL;
	return h;
}

static uint64_t hash_bytes(const void *p, size_t n)
{
	uint64_t h = fnv(FNV_BASIS, p, n);

	return h ^ (h >> 29);
}

static size_t slot_size(const struct htab *h)
{
	return SLOT_HDR + h->ksize + h->vsize;
}

static int htab_init(struct htab *h, size_t ksize, size_t vsize, size_t cap)
{
	if (ksize % 8 || vsize % 8)
		return -EINVAL; /* see struct htab */
	h->ksize = ksize;
	h->vsize = vsize;
	h->cap = cap;
	h->n = 0;
	h->slots = calloc(cap, slot_size(h));
	return h->slots ? 0 : -ENOMEM;
}

static void htab_free(struct htab *h)
{
	free(h->slots);
	h->slots = NULL;
	h->n = h->cap = 0;
}

static uint8_t *htab_slot(const struct htab *h, const void *key, bool *found)
{
	size_t i = hash_bytes(key, h->ksize) & (h->cap - 1), ss = slot_size(h);

	for (;;) {
		uint8_t *s = h->slots + i * ss;

		if (!s[0]) {
			*found = false;
			return s;
		}
		if (memcmp(s + SLOT_HDR, key, h->ksize) == 0) {
			*found = true;
			return s;
		}
		i = (i + 1) & (h->cap - 1);
	}
}

static void *htab_get(const struct htab *h, const void *key)
{
	bool found;
	uint8_t *s = htab_slot(h, key, &found);

	return found ? s + SLOT_HDR + h->ksize : NULL;
}

static int htab_grow(struct htab *h)
{
	struct htab n;
	size_t i, ss = slot_size(h);
	bool found;

	if (htab_init(&n, h->ksize, h->vsize, h->cap * 2))
		return -ENOMEM;
	for (i = 0; i < h->cap; i++) {
		uint8_t *s = h->slots + i * ss;

		if (s[0])
			memcpy(htab_slot(&n, s + SLOT_HDR, &found), s, ss);
	}
	n.n = h->n;
	free(h->slots);
	*h = n;
	return 0;
}

/* Value of KEY, inserted zeroed if new (*CREATED says so); NULL when out of memory. */
static void *htab_put(struct htab *h, const void *key, bool *created)
{
	bool found;
	uint8_t *s;

	if ((h->n + 1) * 4 > h->cap * 3 && htab_grow(h))
		return NULL;
	s = htab_slot(h, key, &found);
	*created = !found;
	if (!found) {
		s[0] = 1;
		memcpy(s + SLOT_HDR, key, h->ksize);
		memset(s + SLOT_HDR + h->ksize, 0, h->vsize);
		h->n++;
	}
	return s + SLOT_HDR + h->ksize;
}

typedef bool (*htab_keep_fn)(void *ctx, const void *key, void *val);

/* Rebuild H with only the entries KEEP returns true for. */
static int htab_filter(struct htab *h, htab_keep_fn keep, void *ctx)
{
	struct htab n;
	size_t i, ss = slot_size(h), cap = h->cap;
	bool found;

	while (cap > 1024 && h->n * 8 < cap)
		cap /= 2;
	if (htab_init(&n, h->ksize, h->vsize, cap))
		return -ENOMEM;
	for (i = 0; i < h->cap; i++) {
		uint8_t *s = h->slots + i * ss;

		if (s[0] && keep(ctx, s + SLOT_HDR, s + SLOT_HDR + h->ksize)) {
			memcpy(htab_slot(&n, s + SLOT_HDR, &found), s, ss);
			n.n++;
		}
	}
	free(h->slots);
	*h = n;
	return 0;
}

/* ---- the profile ------------------------------------------------------- */

struct req_key {
	uint32_t tgid;
	uint32_t pad;
	uint64_t rw;
	uint64_t start_ns;
};

struct sample_ref {
	uint32_t target;          /* index into targets[] */
	uint32_t stack;           /* index into stacks[] */
};

struct pending_val {
	struct sample_ref *refs;
	uint32_t n, cap;
	uint64_t first_ts;
};

struct done_val {
	uint32_t tag;
	uint32_t target;          /* index in targets[] */
	uint64_t ended_ts;        /* when cpuprof learnt of it (monotonic) */
	/* the request's samples, for its row of request_breakdown (cpuprof__request_breakdown) */
	uint32_t samples, ser_samples;
	int64_t request_id;       /* its requests.id; set when it has a breakdown row */
	bool breakdown;
};

/* An ended request in the done ring; DEAD once a later end of the same key replaced it. */
struct done_rec {
	struct req_key key;
	struct done_val v;
	bool dead;
};

/*
 * The done ring: records numbered by a 31-bit sequence that wraps, the
 * live ones head .. head + n - 1, oldest first (ended_ts never decreases
 * along it). They sit in chunks of DONE_CHUNK records, so that growing
 * copies no record, and chunks the head leaves are reused for the tail
 * (spare) instead of faulting in fresh pages. idx is an open-addressing
 * index (linear probing, at most half full) of the live records: each
 * entry is the key's 32-bit hash above DONE_LIVE | sequence, 0 empty, so
 * probing and moving entries never reads a record.
 */
#define DONE_CHUNK_SHIFT 10
#define DONE_CHUNK       (1u << DONE_CHUNK_SHIFT)
#define DONE_SEQ_MASK    0x7fffffffu
#define DONE_LIVE        0x80000000u
#define DONE_CMASK       (DONE_SEQ_MASK >> DONE_CHUNK_SHIFT)  /* chunk numbers wrap with the sequence */
#define DONE_MIN_ICAP    4096

struct done_ring {
	struct done_rec **chunks; /* chunk number c at chunks[c & (nchunks - 1)] */
	size_t nchunks;           /* a power of two */
	uint32_t cfirst, nlive;   /* the chunks in use: cfirst, cfirst + 1, ... */
	uint32_t head, n;
	struct done_rec *spare;   /* unused chunks, linked through their first bytes */
	uint32_t nspare;
	uint64_t *idx;
	size_t icap;              /* a power of two */
};

struct agg_key {
	uint32_t target, tag, stack, pad;
};

/*
 * Interned things (folded stacks, call kinds) are found by (hash, probe):
 * equal hashes of different things take the next probe.
 */
struct intern_key {
	uint64_t hash;
	uint32_t probe, pad;
};

struct stack_entry {
	char *folded;             /* one allocation with lines after its NUL */
	char *lines;
	uint32_t category;
};

struct tag {
	char *verb, *resource, *subresource, *scope;
};

/*
 * A sample's raw stack (its addresses, of one target) and the stack it
 * was interned as: a server's hot paths are sampled again and again, and
 * symbolizing, classifying and folding 50-odd frames costs tens of
 * microseconds a sample. Direct-mapped by hash (the test server under
 * one load showed ~600 distinct raw stacks in its first thousand
 * samples); only stacks whose every frame was symbolized, so a frame not
 * known yet is tried again.
 */
struct raw_stack {
	uint64_t hash;
	uint64_t *addrs;          /* nk kernel, then nu user addresses; NULL: slot unused */
	uint32_t target, nk, nu, stack, category;
};

struct target {
	int tgid;
	int64_t target_id;
	char component[16];
	int64_t cpu_start_ns, cpu_last_ns;  /* utime+stime from /proc; -1 unknown */
	uint64_t samples;
};

struct cpuprof {
	struct store *store;
	int64_t run_id;
	uint64_t period_ns;
	struct symbolizer *sym;
	struct target targets[MAX_TARGETS];
	int ntargets;
	struct stack_entry *stacks;
	uint32_t nstacks;
	struct htab stack_ids;    /* intern_key of a folded stack -> its index in stacks[] */
	struct htab tag_ids;      /* intern_key of a call kind -> its index in tags[] */
	struct tag *tags;
	uint32_t ntags;
	uint32_t last_tag;        /* the call kind found last (tag_intern) */
	struct htab pending;      /* req_key -> pending_val */
	uint64_t npending;
	struct done_ring done;    /* ended requests, oldest first, by req_key */
	struct htab agg;          /* agg_key -> uint64 samples */
	struct raw_stack *raw;    /* RAW_SLOTS */
	bool all_known;           /* build_stack: every frame symbolized */
	struct cpuprof_stats st;
	uint64_t last_ts;         /* newest sample time seen */
	char folded[FOLDED_MAX];
	char lines[LINES_MAX];
	struct sym_frame frames[FRAMES_MAX];
	const char *names[FRAMES_MAX];
	bool kernel[FRAMES_MAX];
	long clk_tck;
};

typedef bool (*intern_same_fn)(const struct cpuprof *p, uint64_t id, const void *arg);

/*
 * The slot of the id interned in H under HASH that SAME accepts (*FOUND
 * true); else, if INSERT, a new slot for the caller to fill (*FOUND false);
 * else NULL. NULL with *FOUND false when out of memory too.
 */
static uint64_t *intern_slot(const struct cpuprof *p, struct htab *h, uint64_t hash,
			     intern_same_fn same, const void *arg, bool insert, bool *found)
{
	struct intern_key key = { .hash = hash };
	uint64_t *slot;
	bool created;

	for (;; key.probe++) {
		slot = htab_get(h, &key);
		if (!slot)
			break;
		if (same(p, *slot, arg)) {
			*found = true;
			return slot;
		}
	}
	*found = false;
	return insert ? htab_put(h, &key, &created) : NULL;
}

static bool same_tag(const struct cpuprof *p, uint64_t id, const void *arg)
{
	const char *const *k = arg;
	const struct tag *t = &p->tags[id];

	return !strcmp(t->verb, k[0]) && !strcmp(t->resource, k[1]) &&
	       !strcmp(t->subresource, k[2]) && !strcmp(t->scope, k[3]);
}

/*
 * Id of a call kind (tags[] index). Tag 0 is "no call": samples outside
 * any request, or of one never stored, and every kind past MAX_TAGS.
 * Called for every stored request: a hash lookup, not a scan.
 */
static int tag_intern(struct cpuprof *p, const char *verb, const char *resource,
		      const char *subresource, const char *scope, uint32_t *id)
{
	const char *k[4] = { verb ? verb : "", resource ? resource : "",
			     subresource ? subresource : "", scope ? scope : "" };
	uint64_t h = FNV_BASIS, *slot;
	struct tag *t;
	bool found;

	/* a server under one load asks for the same call kind again and again */
	if (p->last_tag < p->ntags && same_tag(p, p->last_tag, k)) {
		*id = p->last_tag;
		return 0;
	}
	for (int i = 0; i < 4; i++)
		h = fnv(h, k[i], strlen(k[i]) + 1); /* the NUL separates the fields */
	slot = intern_slot(p, &p->tag_ids, h, same_tag, k, p->ntags < MAX_TAGS, &found);
	if (found) {
		*id = p->last_tag = (uint32_t)*slot;
		return 0;
	}
	if (p->ntags >= MAX_TAGS) {
		*id = 0;
		return 0;
	}
	if (!slot)
		return -ENOMEM;
	t = &p->tags[p->ntags];
	t->verb = strdup(k[0]);
	t->resource = strdup(k[1]);
	t->subresource = strdup(k[2]);
	t->scope = strdup(k[3]);
	if (!t->verb || !t->resource || !t->subresource || !t->scope) {
		free(t->verb);
		free(t->resource);
		free(t->subresource);
		free(t->scope);
		memset(t, 0, sizeof(*t));
		/* the slot stays, naming tag 0: "no call" */
		return -ENOMEM;
	}
	*slot = p->ntags;
	*id = p->last_tag = p->ntags++;
	return 0;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* ---- the done ring (see struct done_ring) ------------------------------ */

/* A mix of the key's words (murmur3's 64-bit finalizer), its top 32 bits. */
static uint32_t req_hash(const struct req_key *k)
{
	uint64_t h = k->rw ^ (k->start_ns * 0x9e3779b97f4a7c15ULL) ^ ((uint64_t)k->tgid << 40);

	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	return (uint32_t)((h ^ (h >> 33)) >> 32);
}

static bool req_eq(const struct req_key *a, const struct req_key *b)
{
	return a->tgid == b->tgid && a->rw == b->rw && a->start_ns == b->start_ns;
}

static struct done_rec *done_rec(const struct done_ring *d, uint32_t seq)
{
	return &d->chunks[(seq >> DONE_CHUNK_SHIFT) & (d->nchunks - 1)][seq & (DONE_CHUNK - 1)];
}

static uint64_t done_entry(uint32_t hash, uint32_t seq)
{
	return (uint64_t)hash << 32 | DONE_LIVE | seq;
}

/* The index slot of KEY (hash HASH), or the empty slot where it would go. */
static size_t done_slot(const struct done_ring *d, const struct req_key *k, uint32_t hash)
{
	size_t mask = d->icap - 1, i = hash & mask;
	uint64_t e;

	while ((e = d->idx[i])) {
		if ((uint32_t)(e >> 32) == hash && req_eq(&done_rec(d, (uint32_t)e & DONE_SEQ_MASK)->key, k))
			break;
		i = (i + 1) & mask;
	}
	return i;
}

static struct done_rec *done_get(const struct done_ring *d, const struct req_key *k)
{
	uint64_t e;

	if (!d->n)
		return NULL;
	e = d->idx[done_slot(d, k, req_hash(k))];
	return e ? done_rec(d, (uint32_t)e & DONE_SEQ_MASK) : NULL;
}

/*
 * Empty index slot I, moving later entries of its probe run back so that
 * every entry stays reachable from its home slot (Knuth, TAOCP vol. 3,
 * 6.4, algorithm R: deletion with linear probing, no tombstones).
 */
static void done_unindex(struct done_ring *d, size_t i)
{
	size_t mask = d->icap - 1, j = i, home;

	d->idx[i] = 0;
	for (;;) {
		j = (j + 1) & mask;
		if (!d->idx[j])
			return;
		home = (d->idx[j] >> 32) & mask;
		/* leave it if its home is cyclically in (i, j] */
		if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
			continue;
		d->idx[i] = d->idx[j];
		d->idx[j] = 0;
		i = j;
	}
}

#define HUGE_BYTES (2u << 20)

/*
 * Zeroed memory for an index of ICAP slots. One of megabytes is probed
 * at random for every request: in its own mapping, with transparent huge
 * pages asked for (madvise(2) MADV_HUGEPAGE), a probe costs a cache miss
 * but no TLB miss.
 */
static uint64_t *idx_alloc(size_t icap)
{
	size_t bytes = icap * sizeof(uint64_t);
	void *m;

	if (bytes < HUGE_BYTES)
		return calloc(icap, sizeof(uint64_t));
	m = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	madvise(m, bytes, MADV_HUGEPAGE); /* a hint: without THP, small pages do */
	return m;
}

static void idx_free(uint64_t *idx, size_t icap)
{
	if (icap * sizeof(uint64_t) < HUGE_BYTES)
		free(idx);
	else if (idx)
		munmap(idx, icap * sizeof(uint64_t));
}

/* A new index of ICAP slots (a power of two, at least twice the records) with the same entries. */
static int done_reindex(struct done_ring *d, size_t icap)
{
	uint64_t *idx = icap <= (1ULL << 32) ? idx_alloc(icap) : NULL;
	size_t i, j, mask = icap - 1;

	if (!idx)
		return -ENOMEM;
	for (i = 0; i < d->icap; i++) {
		uint64_t e = d->idx[i];

		if (!e)
			continue;
		for (j = (e >> 32) & mask; idx[j]; j = (j + 1) & mask)
			;
		idx[j] = e;
	}
	idx_free(d->idx, d->icap);
	d->idx = idx;
	d->icap = icap;
	return 0;
}

static int done_init(struct done_ring *d)
{
	memset(d, 0, sizeof(*d));
	d->nchunks = 16;
	d->chunks = calloc(d->nchunks, sizeof(*d->chunks));
	d->idx = calloc(DONE_MIN_ICAP, sizeof(*d->idx));
	d->icap = DONE_MIN_ICAP;
	return d->chunks && d->idx ? 0 : -ENOMEM;
}

static void done_free(struct done_ring *d)
{
	struct done_rec *c;

	for (uint32_t i = 0; i < d->nlive && d->chunks; i++)
		free(d->chunks[(d->cfirst + i) & (d->nchunks - 1)]);
	while ((c = d->spare)) {
		d->spare = *(struct done_rec **)c;
		free(c);
	}
	free(d->chunks);
	idx_free(d->idx, d->icap);
	memset(d, 0, sizeof(*d));
}

/* A chunk for the tail: a spare one or a new one, the chunk table doubled if full. */
static int done_add_chunk(struct done_ring *d)
{
	struct done_rec *c;

	if (d->nlive == d->nchunks) {
		size_t n = d->nchunks * 2;
		struct done_rec **t;

		if (n > DONE_CMASK + 1 || !(t = calloc(n, sizeof(*t))))
			return -ENOMEM;
		for (uint32_t i = 0; i < d->nlive; i++) {
			uint32_t cn = (d->cfirst + i) & DONE_CMASK;

			t[cn & (n - 1)] = d->chunks[cn & (d->nchunks - 1)];
		}
		free(d->chunks);
		d->chunks = t;
		d->nchunks = n;
	}
	if ((c = d->spare)) {
		d->spare = *(struct done_rec **)c;
		d->nspare--;
	} else if (!(c = malloc(DONE_CHUNK * sizeof(*c)))) {
		return -ENOMEM;
	}
	d->chunks[((d->cfirst + d->nlive) & DONE_CMASK) & (d->nchunks - 1)] = c;
	d->nlive++;
	return 0;
}

/*
 * Start loading the index slot where a key of HASH is looked for: the
 * slot is a cache miss (the index is megabytes, probed at random), so
 * callers ask for it some work ahead of the probe.
 */
static void done_prefetch(const struct done_ring *d, uint32_t hash)
{
	__builtin_prefetch(&d->idx[hash & (d->icap - 1)], 1, 1);
}

/*
 * A fresh record for KEY (of req_hash HASH) at the ring's tail (zeroed but
 * for the key), replacing an earlier one of the same key; NULL when out of
 * memory.
 */
static struct done_val *done_add(struct done_ring *d, const struct req_key *k, uint32_t hash)
{
	uint32_t seq = (d->head + d->n) & DONE_SEQ_MASK;
	struct done_rec *r;
	size_t i;

	if (d->n == DONE_SEQ_MASK || ((d->n + 1) * 2ULL > d->icap && done_reindex(d, d->icap * 2)))
		return NULL;
	/*
	 * The tail starts a chunk: a new one, for the chunk the head is in is
	 * another, or none (the head left it when it crossed into this one).
	 */
	if (!(seq & (DONE_CHUNK - 1)) && done_add_chunk(d))
		return NULL;
	i = done_slot(d, k, hash);
	if (d->idx[i]) {
		done_rec(d, (uint32_t)d->idx[i] & DONE_SEQ_MASK)->dead = true; /* as the table did */
		done_unindex(d, i);
		i = done_slot(d, k, hash);
	}
	r = done_rec(d, seq);
	memset(r, 0, sizeof(*r));
	r->key = *k;
	d->idx[i] = done_entry(hash, seq);
	d->n++;
	return &r->v;
}

static struct done_rec *done_first(const struct done_ring *d)
{
	return d->n ? done_rec(d, d->head) : NULL;
}

/* Drop the oldest record (after done_first): unindex it if live, give back a chunk left empty. */
static void done_pop(struct done_ring *d)
{
	struct done_rec *r = done_rec(d, d->head), *c;

	if (!r->dead) {
		uint64_t want = done_entry(req_hash(&r->key), d->head);
		size_t mask = d->icap - 1, i = (want >> 32) & mask;

		while (d->idx[i] && d->idx[i] != want)
			i = (i + 1) & mask;
		if (d->idx[i])
			done_unindex(d, i);
	}
	d->head = (d->head + 1) & DONE_SEQ_MASK;
	d->n--;
	if (d->head & (DONE_CHUNK - 1))
		return;
	c = d->chunks[(d->cfirst & DONE_CMASK) & (d->nchunks - 1)];
	d->cfirst = (d->cfirst + 1) & DONE_CMASK;
	d->nlive--;
	*(struct done_rec **)c = d->spare;
	d->spare = c;
	d->nspare++;
}

/*
 * Give back memory a burst took: spare chunks past half those in use (a
 * steady load keeps the ones forgetting a tick's requests leaves), and
 * index slots past eight per record.
 */
static void done_trim(struct done_ring *d)
{
	size_t icap = d->icap;
	struct done_rec *c;

	while (d->nspare > d->nlive / 2 + 4 && (c = d->spare)) {
		d->spare = *(struct done_rec **)c;
		d->nspare--;
		free(c);
	}
	while (icap > DONE_MIN_ICAP && d->n * 8ULL < icap)
		icap /= 2;
	if (icap != d->icap)
		done_reindex(d, icap); /* out of memory: keep the larger one */
}

static int64_t proc_cpu_ns(const struct cpuprof *p, int tgid)
{
	char path[64], buf[2048], *s;
	unsigned long long ut, st;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", tgid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	/* comm may hold spaces and parentheses: fields start after the last ')' (proc(5)). */
	s = strrchr(buf, ')');
	if (!s || sscanf(s + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
			 &ut, &st) != 2)
		return -1;
	return (int64_t)((ut + st) * (1000000000ULL / (unsigned long long)p->clk_tck));
}

struct cpuprof *cpuprof__new(struct store *st, int64_t run_id, uint64_t period_ns, int *err)
{
	struct cpuprof *p = calloc(1, sizeof(*p));
	uint32_t none;

	if (!p) {
		*err = -ENOMEM;
		return NULL;
	}
	p->store = st;
	p->run_id = run_id;
	p->period_ns = period_ns;
	p->clk_tck = sysconf(_SC_CLK_TCK);
	if (p->clk_tck <= 0)
		p->clk_tck = 100;
	p->stacks = calloc(MAX_STACKS + CAT__COUNT, sizeof(*p->stacks));
	p->tags = calloc(MAX_TAGS, sizeof(*p->tags));
	p->raw = calloc(RAW_SLOTS, sizeof(*p->raw));
	p->sym = symbolizer__new();
	if (!p->stacks || !p->tags || !p->raw || !p->sym ||
	    htab_init(&p->stack_ids, sizeof(struct intern_key), sizeof(uint64_t), 4096) ||
	    htab_init(&p->tag_ids, sizeof(struct intern_key), sizeof(uint64_t), 256) ||
	    htab_init(&p->pending, sizeof(struct req_key), sizeof(struct pending_val), 1024) ||
	    done_init(&p->done) ||
	    htab_init(&p->agg, sizeof(struct agg_key), sizeof(uint64_t), 4096) ||
	    tag_intern(p, "", "", "", "", &none)) {
		cpuprof__free(p);
		cp_seterr("out of memory");
		*err = -ENOMEM;
		return NULL;
	}
	symbolizer__load_kernel(p->sym);
	return p;
}

static bool drop_all_pending(void *ctx, const void *key, void *val)
{
	struct pending_val *pv = val;

	(void)ctx;
	(void)key;
	free(pv->refs);
	return false;
}

void cpuprof__free(struct cpuprof *p)
{
	uint32_t i;

	if (!p)
		return;
	if (p->pending.slots)
		htab_filter(&p->pending, drop_all_pending, NULL);
	htab_free(&p->pending);
	done_free(&p->done);
	htab_free(&p->agg);
	for (i = 0; p->raw && i < RAW_SLOTS; i++)
		free(p->raw[i].addrs);
	free(p->raw);
	htab_free(&p->stack_ids);
	htab_free(&p->tag_ids);
	if (p->stacks)
		for (i = 0; i < p->nstacks; i++)
			free(p->stacks[i].folded);
	free(p->stacks);
	if (p->tags)
		for (i = 0; i < p->ntags; i++) {
			free(p->tags[i].verb);
			free(p->tags[i].resource);
			free(p->tags[i].subresource);
			free(p->tags[i].scope);
		}
	free(p->tags);
	symbolizer__free(p->sym);
	free(p);
}

int cpuprof__add_target(struct cpuprof *p, int tgid, int64_t target_id, const char *component)
{
	struct target *t;

	if (p->ntargets >= MAX_TARGETS) {
		cp_seterr("too many targets to profile (at most %d)", MAX_TARGETS);
		return -E2BIG;
	}
	t = &p->targets[p->ntargets++];
	memset(t, 0, sizeof(*t));
	t->tgid = tgid;
	t->target_id = target_id;
	snprintf(t->component, sizeof(t->component), "%s", component ? component : "other");
	t->cpu_start_ns = t->cpu_last_ns = proc_cpu_ns(p, tgid);
	return 0;
}

/*
 * Append S (and SUFFIX) to the folded stack at *OFF. ';' separates frames
 * and a line ends the stack; spaces are fine (flamegraph.pl and speedscope
 * take the count after the last space).
 */
static void fold_append(char *buf, size_t *off, const char *s, const char *suffix)
{
	size_t o = *off;

	if (o && o < FOLDED_MAX - 1)
		buf[o++] = ';';
	for (; *s && o < FOLDED_MAX - 1; s++)
		buf[o++] = (*s == ';' || *s == '\n' || *s == '\r') ? '_' : *s;
	for (; suffix && *suffix && o < FOLDED_MAX - 1; suffix++)
		buf[o++] = *suffix;
	buf[o] = 0;
	*off = o;
}

/*
 * Append frame F's source position to p->lines at *OFF: whole or not at
 * all (once full, the deeper frames have none), so no entry is cut short.
 */
static void lines_append(struct cpuprof *p, size_t *off, const struct sym_frame *f)
{
	char buf[64];
	size_t o = *off, n;
	int k;

	k = snprintf(buf, sizeof(buf), "%s%d\t%d\t", o ? "\n" : "", f->inlined ? 1 : 0,
		     f->line > 0 ? f->line : 0);
	n = strlen(f->file ? f->file : "");
	if (k < 0 || o + (size_t)k + n + 1 > LINES_MAX) {
		*off = LINES_MAX;   /* full */
		return;
	}
	memcpy(p->lines + o, buf, (size_t)k);
	o += (size_t)k;
	for (size_t i = 0; i < n; i++)
		p->lines[o++] = (f->file[i] == '\n' || f->file[i] == '\t') ? '_' : f->file[i];
	p->lines[o] = 0;
	*off = o;
}

/* A stack is its frames' names and their positions: p->folded and p->lines. */
static bool same_stack(const struct cpuprof *p, uint64_t id, const void *arg)
{
	return !strcmp(p->stacks[id].folded, arg) && !strcmp(p->stacks[id].lines, p->lines);
}

/*
 * Id of the folded stack in p->folded (interned with CATEGORY), or -ENOSPC
 * when MAX_STACKS are taken. LIMIT is MAX_STACKS, or more for the stacks
 * that stand for the ones that did not fit (overflow_stack).
 */
static int stack_intern_upto(struct cpuprof *p, uint32_t category, uint32_t limit, uint32_t *id)
{
	size_t fl = strlen(p->folded), ll = strlen(p->lines);
	uint64_t *slot;
	char *copy;
	bool found;

	slot = intern_slot(p, &p->stack_ids,
			   hash_bytes(p->folded, fl) ^ (hash_bytes(p->lines, ll) * 31),
			   same_stack, p->folded, p->nstacks < limit, &found);
	if (found) {
		*id = (uint32_t)*slot;
		return 0;
	}
	if (p->nstacks >= limit)
		return -ENOSPC;
	if (!slot || !(copy = malloc(fl + ll + 2)))
		return -ENOMEM;
	memcpy(copy, p->folded, fl + 1);
	memcpy(copy + fl + 1, p->lines, ll + 1);
	p->stacks[p->nstacks].folded = copy;
	p->stacks[p->nstacks].lines = copy + fl + 1;
	p->stacks[p->nstacks].category = category;
	*slot = p->nstacks;
	*id = p->nstacks++;
	p->st.stacks = p->nstacks;
	return 0;
}

static int stack_intern(struct cpuprof *p, uint32_t category, uint32_t *id)
{
	return stack_intern_upto(p, category, MAX_STACKS, id);
}

/*
 * The stack "[stack table full];[CATEGORY]" that samples count under once
 * MAX_STACKS stacks are taken, keeping their category: one per category,
 * in the CAT__COUNT entries of stacks[] past MAX_STACKS.
 */
static int overflow_stack(struct cpuprof *p, uint32_t category, uint32_t *id)
{
	snprintf(p->folded, sizeof(p->folded), "[stack table full];[%s]", classify__name(category));
	p->lines[0] = 0;
	return stack_intern_upto(p, category, MAX_STACKS + CAT__COUNT, id);
}

/*
 * Symbolize and classify sample E of target T into p->names/p->kernel
 * (innermost first) and p->folded (outermost first). Returns the category.
 */
static uint32_t build_stack(struct cpuprof *p, const struct target *t,
			    const struct cpu_sample_event *e)
{
	int nk = e->kstack_bytes > 0 ? e->kstack_bytes / 8 : 0;
	int nu = e->ustack_bytes > 0 ? e->ustack_bytes / 8 : 0;
	int n = 0, i, k;
	size_t off = 0, loff = 0;
	bool leaf_unknown;
	uint32_t cat;

	if (nk > CPU_KSTACK_MAX)
		nk = CPU_KSTACK_MAX;
	if (nu > CPU_USTACK_MAX)
		nu = CPU_USTACK_MAX;
	for (i = 0; i < nk && n < FRAMES_MAX; i++) {
		if (symbolizer__kernel(p->sym, e->kstack[i], &p->frames[n]) < 1)
			continue;
		p->kernel[n++] = true;
	}
	if (e->ustack_bytes < 0) {
		p->st.ustack_errors++;
		p->frames[n] = (struct sym_frame){ .func = "[unknown]", .file = "", .known = false };
		p->kernel[n++] = false;
	}
	for (i = 0; i < nu && n < FRAMES_MAX; i++) {
		k = symbolizer__user(p->sym, t->tgid, e->ustack[i], i == 0, &p->frames[n],
				     FRAMES_MAX - n < INLINE_MAX ? FRAMES_MAX - n : INLINE_MAX);
		if (k < 1)
			continue;
		/*
		 * The frames of one address end in the function it is in; cut
		 * short at MAX, the last would claim the next address's frame
		 * as the caller it was inlined into.
		 */
		p->frames[n + k - 1].inlined = false;
		for (int j = 0; j < k; j++)
			p->kernel[n + j] = false;
		n += k;
	}
	if (n == 0) {
		p->frames[0] = (struct sym_frame){ .func = "[unknown]", .file = "", .known = false };
		p->kernel[0] = false;
		n = 1;
	}
	p->all_known = true;
	for (i = 0; i < n; i++) {
		p->names[i] = p->frames[i].known ? p->frames[i].func : "[unknown]";
		p->all_known &= p->frames[i].known;
	}
	leaf_unknown = !p->frames[0].known;
	cat = classify__stack(p->names, p->kernel, n);
	if (leaf_unknown)
		p->st.unknown_leaf++;
	/* Folded: outermost first; unknown frames keep the text the symbolizer gave (binary+offset). */
	p->lines[0] = 0;
	for (i = n; i-- > 0;) {
		fold_append(p->folded, &off, p->frames[i].func, p->kernel[i] ? "_[k]" : NULL);
		lines_append(p, &loff, &p->frames[i]);
	}
	return cat;
}

/* The newest target of TGID: a restarted server may get an exited one's pid. */
static struct target *find_target(struct cpuprof *p, int tgid, uint32_t *idx)
{
	for (int i = p->ntargets - 1; i >= 0; i--)
		if (p->targets[i].tgid == tgid) {
			*idx = i;
			return &p->targets[i];
		}
	return NULL;
}

static int agg_add(struct cpuprof *p, uint32_t target, uint32_t tag, uint32_t stack, uint64_t n)
{
	struct agg_key k = { .target = target, .tag = tag, .stack = stack };
	uint64_t *v;
	bool created;

	v = htab_put(&p->agg, &k, &created);
	if (!v)
		return -ENOMEM;
	*v += n;
	return 0;
}

/* JSON, protobuf and CBOR encoding and decoding: what request_breakdown calls serialization. */
static uint32_t is_serialization(uint32_t cat)
{
	switch (cat) {
	case CAT_JSON_ENCODE: case CAT_JSON_DECODE: case CAT_PROTOBUF_ENCODE:
	case CAT_PROTOBUF_DECODE: case CAT_CBOR_ENCODE: case CAT_CBOR_DECODE:
		return 1;
	default:
		return 0;
	}
}

static uint64_t raw_hash(uint32_t target, const __u64 *k, uint32_t nk, const __u64 *u, uint32_t nu)
{
	uint64_t h = FNV_BASIS ^ ((uint64_t)target << 40 | (uint64_t)nk << 20 | nu);

	/* a multiply-rotate per word: the addresses are already well spread */
	for (uint32_t i = 0; i < nk; i++)
		h = ((h ^ k[i]) * 0x9e3779b97f4a7c15ULL) ^ (h >> 29);
	for (uint32_t i = 0; i < nu; i++)
		h = ((h ^ u[i]) * 0x9e3779b97f4a7c15ULL) ^ (h >> 29);
	return h ^ (h >> 31);
}

/*
 * The interned stack of sample E of target T (index TI) and its category:
 * from the raw stack cache when this target sampled these addresses
 * before, else symbolized, classified and interned (and remembered).
 */
static int sample_stack(struct cpuprof *p, const struct target *t, uint32_t ti,
			const struct cpu_sample_event *e, uint32_t *stack, uint32_t *cat)
{
	uint32_t nk = e->kstack_bytes > 0 ? (uint32_t)e->kstack_bytes / 8 : 0;
	uint32_t nu = e->ustack_bytes > 0 ? (uint32_t)e->ustack_bytes / 8 : 0;
	struct raw_stack *rs;
	uint64_t h, *a;
	int err;

	if (nk > CPU_KSTACK_MAX)
		nk = CPU_KSTACK_MAX;
	if (nu > CPU_USTACK_MAX)
		nu = CPU_USTACK_MAX;
	h = raw_hash(ti, e->kstack, nk, e->ustack, nu);
	rs = &p->raw[h & (RAW_SLOTS - 1)];
	if (e->ustack_bytes >= 0 && rs->addrs && rs->hash == h && rs->target == ti && rs->nk == nk &&
	    rs->nu == nu && !memcmp(rs->addrs, e->kstack, nk * 8) &&
	    !memcmp(rs->addrs + nk, e->ustack, nu * 8)) {
		*stack = rs->stack;
		*cat = rs->category;
		return 0;
	}
	*cat = build_stack(p, t, e);
	err = stack_intern(p, *cat, stack);
	if (err == -ENOSPC) {
		p->st.stacks_dropped++;
		return overflow_stack(p, *cat, stack);
	}
	if (err)
		return err;
	/* a stack with an unread user part or an unsymbolized frame is built again next time */
	if (e->ustack_bytes < 0 || !p->all_known)
		return 0;
	a = realloc(rs->addrs, (nk + nu + 1) * 8);
	if (!a)
		return 0; /* not remembered: no harm */
	memcpy(a, e->kstack, nk * 8);
	memcpy(a + nk, e->ustack, nu * 8);
	*rs = (struct raw_stack){ .hash = h, .addrs = a, .target = ti, .nk = nk, .nu = nu,
				  .stack = *stack, .category = *cat };
	return 0;
}

int cpuprof__sample(void *ctx, const struct cpu_sample_event *e)
{
	struct cpuprof *p = ctx;
	struct req_key rk = { .tgid = e->tgid, .rw = e->rw, .start_ns = e->req_start_ns };
	struct target *t;
	struct done_rec *dr;
	struct pending_val *pv;
	uint32_t ti, stack, cat;
	bool created;
	int err;

	t = find_target(p, (int)e->tgid, &ti);
	if (!t) {
		p->st.unknown_tgid++;
		return 0;
	}
	p->st.samples++;
	t->samples++;
	if (e->ts > p->last_ts)
		p->last_ts = e->ts;
	err = sample_stack(p, t, ti, e, &stack, &cat);
	if (err)
		return err;
	if (!(e->flags & CPU_F_REQ))
		return agg_add(p, ti, 0, stack, 1);
	dr = done_get(&p->done, &rk);
	if (dr) {
		p->st.attributed++;
		dr->v.samples++;
		dr->v.ser_samples += is_serialization(cat);
		return agg_add(p, ti, dr->v.tag, stack, 1);
	}
	if (p->npending >= MAX_PENDING) {
		p->st.unresolved++;
		return agg_add(p, ti, 0, stack, 1);
	}
	pv = htab_put(&p->pending, &rk, &created);
	if (!pv)
		return -ENOMEM;
	if (created)
		pv->first_ts = e->ts;
	if (pv->n == pv->cap) {
		uint32_t cap = pv->cap ? pv->cap * 2 : 4;
		struct sample_ref *r = realloc(pv->refs, cap * sizeof(*r));

		if (!r)
			return -ENOMEM;
		pv->refs = r;
		pv->cap = cap;
	}
	pv->refs[pv->n++] = (struct sample_ref){ .target = ti, .stack = stack };
	p->npending++;
	return 0;
}

void cpuprof__request_done(struct cpuprof *p, int tgid, uint64_t rw, uint64_t start_mono_ns,
			   const char *verb, const char *resource, const char *subresource,
			   const char *scope)
{
	struct req_key rk = { .tgid = (uint32_t)tgid, .rw = rw, .start_ns = start_mono_ns };
	struct pending_val *pv;
	struct done_val *dv;
	uint32_t tag = 0, hash = req_hash(&rk);

	done_prefetch(&p->done, hash); /* loads while the call kind is looked up */
	if (tag_intern(p, verb, resource, subresource, scope, &tag))
		tag = 0;
	dv = done_add(&p->done, &rk, hash);
	if (dv) {
		dv->tag = tag;
		dv->ended_ts = mono_ns();
	}
	/* no sample waits: most requests end between two samples of their thread */
	pv = p->npending ? htab_get(&p->pending, &rk) : NULL;
	if (pv && pv->n) {
		for (uint32_t i = 0; i < pv->n; i++) {
			if (agg_add(p, pv->refs[i].target, tag, pv->refs[i].stack, 1) == 0)
				p->st.attributed++;
			if (dv) {
				dv->samples++;
				dv->ser_samples += is_serialization(p->stacks[pv->refs[i].stack].category);
			}
		}
		p->npending -= pv->n;
		free(pv->refs);
		pv->refs = NULL;
		pv->n = pv->cap = 0;
	}
}

void cpuprof__request_breakdown(struct cpuprof *p, int tgid, uint64_t rw, uint64_t start_mono_ns,
				int64_t request_id)
{
	struct req_key rk = { .tgid = (uint32_t)tgid, .rw = rw, .start_ns = start_mono_ns };
	struct done_rec *dr = done_get(&p->done, &rk);
	uint32_t ti;

	if (dr && find_target(p, tgid, &ti)) {
		dr->v.breakdown = true;
		dr->v.target = ti;
		dr->v.request_id = request_id;
	}
}

/* The request's sampled CPU into its request_breakdown row, once its late samples are in. */
static int write_breakdown(struct cpuprof *p, const struct done_val *dv)
{
	if (!dv->breakdown)
		return 0;
	return store__set_breakdown_cpu(p->store, p->run_id, p->targets[dv->target].target_id,
					dv->request_id, (int64_t)(dv->samples * p->period_ns),
					(int64_t)(dv->ser_samples * p->period_ns));
}

/*
 * Forget the requests that ended DONE_KEEP_NS before NOW (0: every one,
 * at the end), writing their breakdown CPU. The first store error.
 */
static int forget_done(struct cpuprof *p, uint64_t now)
{
	struct done_ring *d = &p->done;
	struct done_rec *r;
	int err, first = 0;

	while ((r = done_first(d)) && (r->dead || !now || r->v.ended_ts + DONE_KEEP_NS <= now)) {
		/* the index slots of the records popped a few rounds from now */
		if (d->n > 16)
			done_prefetch(d, req_hash(&done_rec(d, (d->head + 16) & DONE_SEQ_MASK)->key));
		if (!r->dead && (err = write_breakdown(p, &r->v)) && !first)
			first = err;
		done_pop(d);
	}
	done_trim(&p->done);
	return first;
}

static bool keep_pending(void *ctx, const void *key, void *val)
{
	const struct pending_val *pv = val;

	(void)ctx;
	(void)key;
	return pv->n > 0;
}

void cpuprof__read_cpu(struct cpuprof *p)
{
	for (int i = 0; i < p->ntargets; i++) {
		int64_t ns = proc_cpu_ns(p, p->targets[i].tgid);

		if (ns >= 0)
			p->targets[i].cpu_last_ns = ns;
	}
}

void cpuprof__tick(struct cpuprof *p)
{
	cpuprof__read_cpu(p);
	/* Forget old ends and emptied pending entries (out of memory: keep them, try later). */
	forget_done(p, mono_ns());
	htab_filter(&p->pending, keep_pending, NULL);
}

struct prof_key {
	uint32_t target, tag, category, pad;
};

static bool flush_pending(void *ctx, const void *key, void *val)
{
	struct cpuprof *p = ctx;
	struct pending_val *pv = val;

	(void)key;
	for (uint32_t i = 0; i < pv->n; i++)
		if (agg_add(p, pv->refs[i].target, 0, pv->refs[i].stack, 1) == 0)
			p->st.unresolved++;
	free(pv->refs);
	return false;
}

int cpuprof__write(struct cpuprof *p)
{
	struct htab prof;
	size_t i, ss;
	bool created;
	int err;

	/* The targets' CPU was read when sampling stopped (cpuprof__read_cpu), not now. */
	/* Requests that never ended (watches still open, hijacked connections): no call kind. */
	err = htab_filter(&p->pending, flush_pending, p);
	if (err)
		return err;
	p->npending = 0;
	err = forget_done(p, 0);
	if (err)
		return err;
	if (htab_init(&prof, sizeof(struct prof_key), sizeof(uint64_t), 1024))
		return -ENOMEM;
	ss = slot_size(&p->agg);
	for (i = 0; i < p->agg.cap; i++) {
		const uint8_t *slot = p->agg.slots + i * ss;
		const struct agg_key *k = (const void *)(slot + SLOT_HDR);
		uint64_t n = *(const uint64_t *)(slot + SLOT_HDR + sizeof(*k));
		const struct target *t;
		const struct tag *tg;
		struct prof_key pk;
		uint64_t *v;

		if (!slot[0])
			continue;
		t = &p->targets[k->target];
		tg = &p->tags[k->tag];
		pk = (struct prof_key){ .target = k->target, .tag = k->tag,
					.category = p->stacks[k->stack].category };
		v = htab_put(&prof, &pk, &created);
		if (!v) {
			err = -ENOMEM;
			goto out;
		}
		*v += n;
		err = store__add_stack(p->store, &(struct stack_rec){
			.run_id = p->run_id, .target_id = t->target_id, .component = t->component,
			.category = classify__name(p->stacks[k->stack].category),
			.verb = tg->verb, .resource = tg->resource,
			.stack = p->stacks[k->stack].folded, .lines = p->stacks[k->stack].lines,
			.samples = (int64_t)n, .cpu_ns = (int64_t)(n * p->period_ns),
			.subresource = tg->subresource, .scope = tg->scope });
		if (err)
			goto out;
	}
	ss = slot_size(&prof);
	for (i = 0; i < prof.cap; i++) {
		const uint8_t *slot = prof.slots + i * ss;
		const struct prof_key *k = (const void *)(slot + SLOT_HDR);
		uint64_t n = *(const uint64_t *)(slot + SLOT_HDR + sizeof(*k));
		const struct target *t;
		const struct tag *tg;

		if (!slot[0])
			continue;
		t = &p->targets[k->target];
		tg = &p->tags[k->tag];
		err = store__add_cpu(p->store, &(struct cpu_rec){
			.run_id = p->run_id, .target_id = t->target_id, .component = t->component,
			.category = classify__name(k->category), .verb = tg->verb,
			.resource = tg->resource, .subresource = tg->subresource, .scope = tg->scope,
			.samples = (int64_t)n, .cpu_ns = (int64_t)(n * p->period_ns) });
		if (err)
			goto out;
	}
	for (int j = 0; j < p->ntargets; j++) {
		const struct target *t = &p->targets[j];
		int64_t cpu = t->cpu_start_ns >= 0 && t->cpu_last_ns >= t->cpu_start_ns ?
			      t->cpu_last_ns - t->cpu_start_ns : -1;

		err = store__set_target_cpu(p->store, t->target_id, cpu, (int64_t)t->samples);
		if (err)
			goto out;
	}
	err = store__flush(p->store);
out:
	htab_free(&prof);
	return err;
}

void cpuprof__stats(const struct cpuprof *p, struct cpuprof_stats *st)
{
	*st = p->st;
}

void cpuprof__each(const struct cpuprof *p, cpuprof_each_fn fn, void *ctx)
{
	size_t ss = slot_size(&p->agg);

	for (size_t i = 0; i < p->agg.cap; i++) {
		const uint8_t *slot = p->agg.slots + i * ss;
		const struct agg_key *k = (const void *)(slot + SLOT_HDR);
		uint64_t n = *(const uint64_t *)(slot + SLOT_HDR + sizeof(*k));
		const struct tag *tg;

		if (!slot[0])
			continue;
		tg = &p->tags[k->tag];
		fn(ctx, p->targets[k->target].component, classify__name(p->stacks[k->stack].category),
		   tg->verb, tg->resource, tg->subresource, tg->scope, n, n * p->period_ns);
	}
}
