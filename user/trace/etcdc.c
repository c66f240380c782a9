// SPDX-License-Identifier: MIT
/*
 * etcdc: plan, attach and collect the apiserver's etcd client calls
 * (bpf/go_etcdc.bpf.c), and each request's breakdown. See etcdc.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <capstone/capstone.h>

#include "bpfutil.h"
#include "codeflow.h"
#include "etcd_key.h"
#include "etcdc.h"
#include "fieldproof.h"
#include "go_etcdc.skel.h"
#include "goelf.h"
#include "gopclntab.h"
#include "log.h"

_Static_assert(sizeof(struct etcdc_event) == 264, "etcdc_event layout changed");
_Static_assert(sizeof(struct etcdc_cfg) == 16, "etcdc_cfg layout changed");

/* ---- planning -------------------------------------------------------- */

#define GRPC "google.golang.org/grpc."

/*
 * Each probed function, and the argument slots (0: the receiver) its
 * prologue must be seen to spill the probed registers to. Register ABI
 * (abi-internal.md): integer arguments take RAX, RBX, RCX, RDI, RSI, R8,
 * R9, R10, R11 in order, one per word, so slot i is the i-th register;
 * Go spills them to consecutive words above the frame, and a spill of
 * register R to [rsp + D] shows R's slot relative to another's.
 *
 *   Invoke(cc, ctx, method, args, reply, ...)  method RDI/RSI: slots 3/4, args R8/R9: 5/6
 *   NewStream(cc, ctx, desc, method, ...)      method RSI/R8: slots 4/5
 *   finish(cs, err)                            err RBX/RCX: slots 1/2
 */
static const struct {
	const char *name;
	enum etcdc_probe_kind kind;
	int reg, slot;        /* one probed register and its slot; RBX's slot is 1 in all */
} wanted[] = {
	{ GRPC "(*ClientConn).Invoke", ETCDC_PROBE_INVOKE, X86_REG_RDI, 3 },
	{ GRPC "(*clientStream).finish", ETCDC_PROBE_FINISH, X86_REG_RAX, 0 },
	{ GRPC "(*ClientConn).NewStream", ETCDC_PROBE_STREAM, X86_REG_RSI, 4 },
	/* no argument read: only the time and the goroutine (go_etcdc.bpf.c, handler_start) */
	{ "k8s.io/apiserver/pkg/server.director.ServeHTTP", ETCDC_PROBE_HANDLER, -1, -1 },
};
#define NWANTED (int)(sizeof(wanted) / sizeof(wanted[0]))

const char *etcdc_probe_kind_name(enum etcdc_probe_kind k)
{
	static const char *names[] = { "invoke", "finish", "new_stream", "handler" };

	return k < ETCDC_PROBE__KINDS ? names[k] : "?";
}

static const x86_reg abi_regs[] = { X86_REG_RAX, X86_REG_RBX, X86_REG_RCX, X86_REG_RDI, X86_REG_RSI,
				    X86_REG_R8, X86_REG_R9, X86_REG_R10, X86_REG_R11 };
#define NABI (int)(sizeof(abi_regs) / sizeof(abi_regs[0]))

/*
 * The prologue's spills "mov [rsp + D], reg" of the ABI's argument
 * registers, in the first 32 instructions, before any call: SLOT_OF_REG[i]
 * (for abi_regs[i]) gets D / 8, or -1. A register written before its
 * spill is not an argument any more: its later spills do not count. The
 * number of spills seen.
 */
int etcdc__spill_slots(const uint8_t *code, size_t len, uint64_t addr, int *slot_of_reg, int nregs)
{
	bool dirty[NABI] = {};
	cs_insn *in;
	csh h;
	int n = 0, k = 0, i;

	for (i = 0; i < nregs; i++)
		slot_of_reg[i] = -1;
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &h) != CS_ERR_OK)
		return -EINVAL;
	cs_option(h, CS_OPT_DETAIL, CS_OPT_ON);
	in = cs_malloc(h);
	while (in && k++ < 32 && cs_disasm_iter(h, &code, &len, &addr, in)) {
		const cs_x86 *x = &in->detail->x86;
		cs_regs rd, wr;
		uint8_t nrd, nwr;

		if (in->id == X86_INS_CALL || in->id == X86_INS_RET || in->id == X86_INS_JMP)
			break;
		if (in->id == X86_INS_MOV && x->op_count == 2 && x->operands[0].type == X86_OP_MEM &&
		    x->operands[0].mem.base == X86_REG_RSP && x->operands[0].mem.index == X86_REG_INVALID &&
		    x->operands[1].type == X86_OP_REG && x->operands[1].size == 8 &&
		    x->operands[0].mem.disp >= 0 && x->operands[0].mem.disp % 8 == 0) {
			for (i = 0; i < NABI && i < nregs; i++)
				if (abi_regs[i] == x->operands[1].reg && !dirty[i] && slot_of_reg[i] < 0) {
					slot_of_reg[i] = (int)(x->operands[0].mem.disp / 8);
					n++;
				}
			continue;
		}
		if (cs_regs_access(h, in, rd, &nrd, wr, &nwr) == CS_ERR_OK)
			for (int w = 0; w < nwr; w++)
				for (i = 0; i < NABI; i++)
					if (codeflow_reg64(wr[w]) == (int)abi_regs[i])
						dirty[i] = true;
	}
	if (in)
		cs_free(in, 1);
	cs_close(&h);
	return n;
}

/* Prove F takes REG in SLOT, relative to RBX in slot 1 (see wanted[]). */
static int prove_regs(struct goelf *g, const struct gofunc *f, int reg, int slot, char *src, size_t srclen)
{
	int slots[NABI], ri = -1, i;
	size_t size = f->end - f->entry;
	const uint8_t *code = size && size <= 1 << 20 ? goelf__ptr(g, f->entry, size) : NULL;

	for (i = 0; i < NABI; i++)
		if ((int)abi_regs[i] == reg)
			ri = i;
	if (!code || ri < 0 || etcdc__spill_slots(code, size, f->entry, slots, NABI) < 0) {
		cp_seterr("cannot decode '%s'", f->name);
		return -EFAULT;
	}
	/* RBX is abi_regs[1] */
	if (slots[1] < 0 || slots[ri] < 0 || slots[ri] - slots[1] != slot - 1) {
		cp_seterr("'%s' not proven to take its argument %d in %s (prologue spills: %s at %d, rbx at %d)",
			  f->name, slot, ri == 0 ? "rax" : ri == 3 ? "rdi" : "rsi", ri == 0 ? "rax" : "reg",
			  slots[ri], slots[1]);
		return -ENOTSUP;
	}
	snprintf(src + strlen(src), srclen - strlen(src), "%s%s spills %s at word %d, rbx at %d",
		 src[0] ? "; " : "", strrchr(f->name, '.') + 1, ri == 0 ? "rax" : ri == 3 ? "rdi" : "rsi",
		 slots[ri], slots[1]);
	return 0;
}

/*
 * The function named NAME, or else the first whose name ends in "/" NAME:
 * module builds name the package go.etcd.io/etcd/api/v3/etcdserverpb,
 * GOPATH builds (Debian's) go.etcd.io/etcd/api/etcdserverpb.
 */
static int find_func(struct gopclntab *pt, const char *name, struct gofunc *f)
{
	int i, cnt;

	if (gopclntab__find(pt, name, f) == 0)
		return 0;
	cnt = gopclntab__func_count(pt);
	for (i = 0; i < cnt; i++)
		if (gopclntab__func(pt, i, f) == 0 && plan_func_matches(f->name, name))
			return 0;
	return -ENOENT;
}

/* D of a getter of a slice field: its first two loads are [RAX+D], [RAX+D+8] (fieldproof.h). */
static int getter_disp(struct goelf *g, struct gopclntab *pt, const char *name)
{
	struct fieldproof_hit hit;
	struct fieldproof *fp;
	struct gofunc f;
	const uint8_t *code;
	int err, d = -1;

	if (find_func(pt, name, &f) || f.end <= f.entry || f.end - f.entry > 4096)
		return -1;
	code = goelf__ptr(g, f.entry, f.end - f.entry);
	if (!code)
		return -1;
	fp = fieldproof__decode(code, f.end - f.entry, f.entry, &err);
	if (fp && fieldproof__first_pair(fp, &hit) == 1 && hit.disp >= 0 && hit.disp < 4096)
		d = (int)hit.disp;
	fieldproof__free(fp);
	return d;
}

static void find_keys(struct goelf *g, struct gopclntab *pt, struct etcdc_plan *p)
{
#define PB "etcdserverpb."
	struct etcdc_cfg *o = &p->off;

	o->req_key = getter_disp(g, pt, PB "(*RangeRequest).GetKey");
	o->req_range_end = getter_disp(g, pt, PB "(*RangeRequest).GetRangeEnd");
	o->txn_compare = getter_disp(g, pt, PB "(*TxnRequest).GetCompare");
	o->compare_key = getter_disp(g, pt, PB "(*Compare).GetKey");
	if (o->req_key < 0 || o->req_range_end < 0 || o->txn_compare < 0 || o->compare_key < 0 ||
	    getter_disp(g, pt, PB "(*PutRequest).GetKey") != o->req_key ||
	    getter_disp(g, pt, PB "(*DeleteRangeRequest).GetKey") != o->req_key ||
	    getter_disp(g, pt, PB "(*DeleteRangeRequest).GetRangeEnd") != o->req_range_end) {
		o->req_key = o->req_range_end = o->txn_compare = o->compare_key = -1;
		snprintf(p->src_keys, sizeof(p->src_keys),
			 "etcd request layout unknown (etcdserverpb getters missing or disagreeing): no keys");
		return;
	}
#undef PB
	snprintf(p->src_keys, sizeof(p->src_keys),
		 "etcdserverpb getters: Key %d, RangeEnd %d (Range, Put, DeleteRange agree), "
		 "TxnRequest.Compare %d, Compare.Key %d",
		 o->req_key, o->req_range_end, o->txn_compare, o->compare_key);
}

int etcdc_plan__build(const char *path, struct etcdc_plan *plan)
{
	struct gopclntab *pt = NULL;
	struct goelf *g = NULL;
	struct gofunc f;
	bool have[ETCDC_PROBE__KINDS] = {};
	int err, w;

	memset(plan, 0, sizeof(*plan));
	snprintf(plan->path, sizeof(plan->path), "%s", path);
	err = plan__open_go(path, &g, &pt);
	if (!pt)
		return err;
	snprintf(plan->go_version, sizeof(plan->go_version), "%s", goelf__go_version(g) ?: "unknown");
	err = plan__check_regabi(plan->go_version, "etcd client");
	if (err)
		goto cleanup;
	if (find_func(pt, "etcdserverpb.(*kVClient).Range", &f)) {
		cp_seterr("no etcd v3 client in the binary (no etcdserverpb.(*kVClient).Range)");
		err = -ENOENT;
		goto cleanup;
	}
	for (w = 0; w < NWANTED; w++) {
		struct etcdc_site *s;

		if (find_func(pt, wanted[w].name, &f))
			continue;
		s = &plan->sites[plan->nsites];
		err = plan__site(g, &f, PROBE__KINDS, &s->site);
		if (!err && wanted[w].reg >= 0)
			err = prove_regs(g, &f, wanted[w].reg, wanted[w].slot, plan->src_regs,
					 sizeof(plan->src_regs));
		if (err && wanted[w].kind == ETCDC_PROBE_HANDLER) {
			/* optional: without it, the wait before the handler stays unknown */
			snprintf(plan->src_handler, sizeof(plan->src_handler), "no handler probe: %s",
				 cp_lasterr());
			err = 0;
			continue;
		}
		if (err)
			goto cleanup;
		if (wanted[w].kind == ETCDC_PROBE_HANDLER)
			snprintf(plan->src_handler, sizeof(plan->src_handler), "handler start: %s at 0x%llx (%s)",
				 f.name, (unsigned long long)s->site.addr, s->site.insn);
		/* a stream is reported at its start: a second hit would be a second stream */
		if (wanted[w].kind == ETCDC_PROBE_STREAM && !s->site.once)
			continue;
		s->kind = wanted[w].kind;
		have[s->kind] = true;
		plan->nsites++;
	}
	if (!have[ETCDC_PROBE_INVOKE] || !have[ETCDC_PROBE_FINISH]) {
		cp_seterr("no '%s' in the binary: not a gRPC client",
			  !have[ETCDC_PROBE_INVOKE] ? wanted[0].name : wanted[1].name);
		err = -ENOENT;
		goto cleanup;
	}
	find_keys(g, pt, plan);
cleanup:
	gopclntab__close(pt);
	goelf__close(g);
	return err;
}

/* ---- tracing --------------------------------------------------------- */

#define ETCDC_MAX_TARGETS 64
#define ETCDC_MAX_LINKS (ETCDC_MAX_TARGETS * ETCDC_PLAN_MAX_SITES)

/* A call held until its request is stored. */
struct held_call {
	uint32_t tgid;
	uint64_t rw, req_start;
	struct etcd_call_rec rec;
	char method[ETCDC_METHOD_MAX];
	struct etcd_key k;
	int64_t start_mono;
	bool handler;           /* not a call: the request's handler started at start_mono */
};

struct etcdc_tracer {
	struct go_etcdc_bpf *skel;
	struct ring_buffer *rb;
	struct etcdc_tracer_opts opts;
	char prefix[128];
	int64_t mono_to_real;
	struct bpfutil_link links[ETCDC_MAX_LINKS];
	int nlinks;
	struct {
		int pid;
		int64_t run_id, target_id;
	} targets[ETCDC_MAX_TARGETS];
	int ntargets;
	struct held_call *held;
	size_t nheld, capheld;
	uint64_t stored, for_requests, unknown, orphaned;
	int err;                 /* the first store error of a poll */
};

static int64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Point the strings of H's record at H's own copies (after H moved). */
static void held_fix(struct held_call *h)
{
	h->rec.method = h->method;
	h->rec.verb = h->k.verb;
	h->rec.resource = h->k.resource;
	h->rec.namespace = h->k.namespace;
}

static int store_call(struct etcdc_tracer *t, struct held_call *h)
{
	int err;

	held_fix(h);
	err = store__add_etcd_call(t->opts.st, &h->rec);
	if (!err)
		t->stored++;
	return err;
}

static int handle_event(void *ctx, void *data, size_t len)
{
	struct etcdc_tracer *t = ctx;
	const struct etcdc_event *e = data;
	struct held_call h = {};
	size_t mlen, klen;
	int i, ti = -1, err;

	if (len < sizeof(*e) || t->err)
		return 0;
	for (i = 0; i < t->ntargets; i++)
		if (t->targets[i].pid == (int)e->tgid)
			ti = i;
	if (ti < 0) {
		t->unknown++;
		return 0;
	}
	if (e->flags & ETCDC_F_HANDLER) {
		if (!e->req_rw)
			return 0;
		h.handler = true;
		h.tgid = e->tgid;
		h.rw = e->req_rw;
		h.req_start = e->req_start_ns;
		h.start_mono = (int64_t)e->start_ns;
		goto hold;
	}
	mlen = e->method_len < ETCDC_METHOD_MAX - 1 ? e->method_len : ETCDC_METHOD_MAX - 1;
	memcpy(h.method, e->method, mlen);
	h.method[mlen] = 0;
	klen = e->key_len < ETCDC_KEY_MAX - 1 ? e->key_len : ETCDC_KEY_MAX - 1;
	etcd_key__parse(t->prefix, h.method, (e->flags & ETCDC_F_HAS_KEY) ? e->key : NULL, klen,
			e->range_end_len, &h.k);
	h.tgid = e->tgid;
	h.rw = e->req_rw;
	h.req_start = e->req_start_ns;
	h.start_mono = (int64_t)e->start_ns;
	h.rec.run_id = t->targets[ti].run_id;
	h.rec.target_id = t->targets[ti].target_id;
	h.rec.request_start_ns = -1;
	h.rec.list = h.k.is_list;
	h.rec.stream = !!(e->flags & ETCDC_F_STREAM);
	h.rec.start_ns = (int64_t)e->start_ns + t->mono_to_real;
	if (e->flags & ETCDC_F_STREAM) {
		h.rec.latency_ns = -1;
		h.rec.status = -1;
	} else {
		h.rec.latency_ns = e->end_ns > e->start_ns ? (int64_t)(e->end_ns - e->start_ns) : 0;
		h.rec.status = (e->flags & ETCDC_F_ERR) ? 2 : 0;
	}
	if (!(e->flags & ETCDC_F_REQ) || !e->req_rw) {
		err = store_call(t, &h);
		if (err)
			t->err = err;
		return 0;
	}
hold:
	if (t->nheld == t->capheld) {
		size_t cap = t->capheld ? t->capheld * 2 : 256;
		struct held_call *n = realloc(t->held, cap * sizeof(*n));

		if (!n) {
			t->err = -ENOMEM;
			return 0;
		}
		t->held = n;
		t->capheld = cap;
	}
	t->held[t->nheld++] = h;
	return 0;
}

int etcdc_tracer__poll(struct etcdc_tracer *t, int timeout_ms)
{
	int n, m;

	t->err = 0;
	n = ring_buffer__poll(t->rb, timeout_ms);
	if (n == -EINTR)
		n = 0;
	if (n >= 0 && !t->err) {
		m = ring_buffer__consume(t->rb);
		n = m < 0 ? m : n + m;
	}
	return t->err ? t->err : n;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

int64_t etcdc__union_ns(int64_t *start, int64_t *len, int n)
{
	int64_t *iv, total = 0, cs = 0, ce = 0;
	int i;

	if (n <= 0)
		return 0;
	iv = malloc(sizeof(*iv) * 2 * n);
	if (!iv)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		iv[2 * i] = start[i];
		iv[2 * i + 1] = start[i] + (len[i] > 0 ? len[i] : 0);
	}
	qsort(iv, n, 2 * sizeof(*iv), cmp_i64); /* by start: the pair's first word */
	for (i = 0; i < n; i++) {
		int64_t s = iv[2 * i], e = iv[2 * i + 1];

		if (i == 0 || s > ce) {
			total += ce - cs;
			cs = s;
			ce = e;
		} else if (e > ce) {
			ce = e;
		}
	}
	total += ce - cs;
	free(iv);
	return total;
}

int etcdc_tracer__request_done(struct etcdc_tracer *t, int tgid, uint64_t rw, uint64_t start_mono_ns,
			       const struct request_rec *rec)
{
	int64_t starts[64], lens[64], etcd_ns = 0, req_end, handler = -1;
	struct breakdown_rec bd = {};
	size_t i, j;
	int n = 0, ncalls = 0, err, k;

	for (k = 0; k < t->ntargets && t->targets[k].pid != tgid; k++)
		;
	if (k == t->ntargets)
		return 0; /* not a client traced here (etcd's own calls) */
	/* its calls ended before it did: their events are in the ring already */
	t->err = 0;
	ring_buffer__consume(t->rb);
	if (t->err)
		return t->err;
	req_end = (int64_t)start_mono_ns + rec->latency_ns;
	for (i = j = 0; i < t->nheld; i++) {
		struct held_call *h = &t->held[i];

		if (h->tgid != (uint32_t)tgid || h->rw != rw || h->req_start != start_mono_ns) {
			t->held[j++] = *h;
			continue;
		}
		if (h->handler) {
			/* the first director entered (a delegation chain enters one per server) */
			if (handler < 0 || h->start_mono < handler)
				handler = h->start_mono;
			continue;
		}
		h->rec.request_start_ns = rec->start_ns;
		h->rec.request_id = rec->id;
		err = store_call(t, h);
		if (err)
			return err;
		t->for_requests++;
		if (h->rec.stream)
			continue;
		ncalls++;
		/* clip to the request: a call of a child goroutine may outlive it */
		if (n < 64 && h->start_mono < req_end) {
			starts[n] = h->start_mono;
			lens[n] = h->start_mono + h->rec.latency_ns > req_end ? req_end - h->start_mono
									     : h->rec.latency_ns;
			n++;
		} else if (n >= 64) {
			etcd_ns = -1; /* too many to tell their union here */
		}
	}
	t->nheld = j;
	if (etcd_ns == 0)
		etcd_ns = etcdc__union_ns(starts, lens, n);
	if (rec->id <= 0)
		return 0; /* not stored (the store's budget is spent): no row to key a breakdown by */
	bd.request_id = rec->id;
	bd.run_id = rec->run_id;
	bd.target_id = rec->target_id;
	bd.request_start_ns = rec->start_ns;
	bd.latency_ns = rec->latency_ns;
	bd.etcd_calls = ncalls;
	bd.etcd_ns = etcd_ns > rec->latency_ns ? rec->latency_ns : etcd_ns;
	/*
	 * The wait before the handler: from the request's start (go_http) to
	 * the first director entered. Its etcd calls come after it, so the two
	 * are disjoint in time; clipped to what etcd leaves all the same. No
	 * handler seen (a request the filters answered: 401, 403, 429, or a
	 * binary without the probe): unknown.
	 */
	bd.apf_wait_ns = -1;
	if (handler >= (int64_t)start_mono_ns && handler <= req_end) {
		int64_t left = rec->latency_ns - (bd.etcd_ns > 0 ? bd.etcd_ns : 0);

		bd.apf_wait_ns = handler - (int64_t)start_mono_ns;
		if (bd.apf_wait_ns > left)
			bd.apf_wait_ns = left;
	}
	/* CPU comes from the profile once its samples are in (cpuprof__request_breakdown);
	 * until then, or without sampling, it is unknown, and so is the rest. */
	bd.cpu_ns = bd.serialization_ns = bd.other_ns = -1;
	err = store__add_breakdown(t->opts.st, &bd);
	return err ? err : 1;
}

int etcdc_tracer__flush(struct etcdc_tracer *t)
{
	size_t i;
	int err = 0;

	etcdc_tracer__poll(t, 0);
	for (i = 0; i < t->nheld && !err; i++) {
		if (t->held[i].handler)
			continue; /* a handler start of a request never stored */
		err = store_call(t, &t->held[i]);
		t->orphaned++;
	}
	t->nheld = 0;
	return err;
}

struct etcdc_tracer *etcdc_tracer__open(const struct etcdc_tracer_opts *o, int *err)
{
	struct etcdc_tracer *t;

	*err = bpfutil__require_root();
	if (*err)
		return NULL;
	libbpf_set_print(bpfutil__libbpf_print);
	t = calloc(1, sizeof(*t));
	if (!t) {
		*err = -ENOMEM;
		return NULL;
	}
	t->opts = *o;
	snprintf(t->prefix, sizeof(t->prefix), "%s", o->key_prefix ? o->key_prefix : ETCD_KEY_PREFIX_DEFAULT);
	t->mono_to_real = clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_MONOTONIC);
	t->skel = go_etcdc_bpf__open();
	if (!t->skel) {
		*err = -errno;
		cp_seterr("cannot open the etcd client BPF object: %s", strerror(errno));
		goto fail;
	}
	t->skel->rodata->wakeup_bytes = bpf_map__max_entries(t->skel->maps.events) / 4;
	if (o->goreq_fd >= 0 &&
	    (*err = bpfutil__share_map(t->skel->maps.goreq, o->goreq_fd,
				       "the goroutine map with the etcd client tracer")))
		goto fail;
	*err = go_etcdc_bpf__load(t->skel);
	if (*err) {
		bpfutil__load_failed("the etcd client BPF programs", *err);
		goto fail;
	}
	t->rb = bpfutil__ring_open(t->skel->maps.events, handle_event, t, "the etcd client ring buffer", err);
	if (!t->rb)
		goto fail;
	return t;
fail:
	etcdc_tracer__close(t);
	return NULL;
}

void etcdc_tracer__close(struct etcdc_tracer *t)
{
	if (!t)
		return;
	ring_buffer__free(t->rb);
	bpfutil__links_truncate(t->links, &t->nlinks, 0);
	go_etcdc_bpf__destroy(t->skel);
	free(t->held);
	free(t);
}

static struct bpf_program *prog_for(struct etcdc_tracer *t, enum etcdc_probe_kind k)
{
	switch (k) {
	case ETCDC_PROBE_INVOKE: return t->skel->progs.invoke;
	case ETCDC_PROBE_FINISH: return t->skel->progs.finish;
	case ETCDC_PROBE_STREAM: return t->skel->progs.new_stream;
	case ETCDC_PROBE_HANDLER: return t->skel->progs.handler_start;
	default:                 return NULL;
	}
}

int etcdc_tracer__add_target(struct etcdc_tracer *t, int pid, const char *exe, int64_t run_id,
			     int64_t target_id)
{
	struct etcdc_plan *p;
	char procexe[64];
	uint32_t key = pid;
	int i, err, first = t->nlinks;

	snprintf(procexe, sizeof(procexe), "/proc/%d/exe", pid);
	if (t->ntargets >= ETCDC_MAX_TARGETS) {
		cp_seterr("too many etcd client targets (at most %d)", ETCDC_MAX_TARGETS);
		return -E2BIG;
	}
	p = malloc(sizeof(*p));
	if (!p)
		return -ENOMEM;
	err = etcdc_plan__build(exe ? exe : procexe, p);
	if (err)
		goto out;
	if (bpf_map__update_elem(t->skel->maps.targets, &key, sizeof(key), &p->off, sizeof(p->off), BPF_ANY)) {
		err = -errno;
		cp_seterr("cannot configure etcd client target: %s", strerror(errno));
		goto out;
	}
	for (i = 0; i < p->nsites; i++) {
		const struct etcdc_site *es = &p->sites[i];
		const struct probe_site *s = &es->site;
		struct bpf_link *link;

		link = bpfutil__attach_site(prog_for(t, es->kind), pid, procexe, s,
					    s->once ? 0 : ETCDC_COOKIE_REPEATS, &err);
		if (!link)
			goto fail;
		t->links[t->nlinks].pid = pid;
		t->links[t->nlinks].link = link;
		t->nlinks++;
		debug("etcdc: attached %s at 0x%llx (%s)\n", s->func, (unsigned long long)s->addr, s->insn);
	}
	verbose("etcdc: '%s': %s; %s; %s\n", p->path, p->src_regs, p->src_keys,
		p->src_handler[0] ? p->src_handler : "no handler probe (no k8s.io/apiserver director)");
	t->targets[t->ntargets].pid = pid;
	t->targets[t->ntargets].run_id = run_id;
	t->targets[t->ntargets].target_id = target_id;
	t->ntargets++;
	err = 0;
	goto out;
fail:
	bpfutil__links_truncate(t->links, &t->nlinks, first);
	bpf_map__delete_elem(t->skel->maps.targets, &key, sizeof(key), 0);
out:
	free(p);
	return err;
}

void etcdc_tracer__detach(struct etcdc_tracer *t, int pid)
{
	uint32_t key = pid;

	/*
	 * Its probes go, its row in the target list stays: the collector's
	 * last drain, after every tracer stopped, still hands over requests of
	 * PID, whose calls and breakdowns are written then.
	 */
	t->nlinks = bpfutil__links_drop_pid(t->links, t->nlinks, pid);
	bpf_map__delete_elem(t->skel->maps.targets, &key, sizeof(key), 0);
}

int etcdc_tracer__stats(struct etcdc_tracer *t, struct etcdc_tracer_stats *out)
{
	int err;

	memset(out, 0, sizeof(*out));
	err = bpfutil__percpu_sum(bpf_map__fd(t->skel->maps.stats), ESTAT__MAX, out->bpf);
	out->stored = t->stored;
	out->for_requests = t->for_requests;
	out->unknown_pid = t->unknown;
	out->orphaned = t->orphaned;
	return err;
}
