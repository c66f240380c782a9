// SPDX-License-Identifier: MIT
/*
 * fieldproof: struct field offsets read out of one function's machine
 * code. See fieldproof.h.
 *
 * One linear pass over the decoded instructions tracks, for each of the
 * 16 general registers, a version (bumped on every write; 0 is the value
 * the function was entered with) and, when the register was last written
 * by an 8-byte "mov reg, [base + disp]", where that value came from
 * (base, its version then, disp, and the same one level further up).
 * From that it records events: 8-byte loads, compares of a field (in
 * memory, or of a register holding one) with an immediate, and compares
 * of the bytes a loaded pointer points to. The patterns then match
 * events, never raw bytes. Jumps are not followed: a join point may make
 * a register's provenance stale, which is why every pattern asks for
 * several facts at once (a length equal to the literal's, the literal's
 * first bytes, the pointer 8 bytes before the length, both on the same
 * value of the same register), and offsets.c asks for several functions
 * to agree.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <capstone/capstone.h>

#include "codeflow.h"
#include "fieldproof.h"

#define NGPR 16
#define MAX_INSNS 16384

enum ev_kind {
	EV_LOAD,     /* 8-byte load of [base + disp] */
	EV_CMP,      /* field [base + disp] (size bytes) compared with imm */
	EV_DEREF,    /* bytes [p + 0] compared with imm, p = [base + disp] */
	EV_JNE,      /* a JNE (right after the compare before it) */
};

struct origin {
	bool valid;
	int base, base_ver;
	int64_t disp;
	bool has_parent;
	int pbase, pbase_ver;
	int64_t pdisp;
};

struct event {
	enum ev_kind kind;
	int insn;          /* index of the instruction */
	uint64_t addr;
	int size;          /* bytes compared */
	uint64_t imm;      /* masked to size */
	struct origin o;   /* the field: where the compared or loaded value lives */
};

struct fieldproof {
	struct event *ev;
	int nev, cap;
	int ninsn;
};

/* The 64-bit Capstone register of index I (for hits: callers compare with X86_REG_*). */
static int gpr_reg(int i)
{
	static const x86_reg r[NGPR] = {
		X86_REG_RAX, X86_REG_RCX, X86_REG_RDX, X86_REG_RBX, X86_REG_RSP, X86_REG_RBP,
		X86_REG_RSI, X86_REG_RDI, X86_REG_R8, X86_REG_R9, X86_REG_R10, X86_REG_R11,
		X86_REG_R12, X86_REG_R13, X86_REG_R14, X86_REG_R15,
	};

	return i >= 0 && i < NGPR ? (int)r[i] : X86_REG_INVALID;
}

/*
 * Capstone register -> 0..15 (rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi,
 * r8..r15), or -1: the 64-bit register it is part of (codeflow_reg64, the
 * one sub-register table), by its index.
 */
static int gpr(x86_reg r)
{
	int full, i;

	if (r == X86_REG_INVALID)
		return -1;
	full = codeflow_reg64(r);
	for (i = 0; i < NGPR; i++)
		if (gpr_reg(i) == full)
			return i;
	return -1;
}

struct regstate {
	int ver[NGPR];
	struct origin held[NGPR];  /* what the register holds, if a tracked load */
	bool is_const[NGPR];
	uint64_t cval[NGPR];
};

static void reg_write(struct regstate *rs, int r)
{
	if (r < 0)
		return;
	rs->ver[r]++;
	rs->held[r].valid = false;
	rs->is_const[r] = false;
}

static uint64_t mask(uint64_t v, int size)
{
	return size >= 8 ? v : v & ((1ull << (size * 8)) - 1);
}

static int push(struct fieldproof *fp, const struct event *e)
{
	if (fp->nev == fp->cap) {
		int ncap = fp->cap ? fp->cap * 2 : 256;
		struct event *n = realloc(fp->ev, (size_t)ncap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		fp->ev = n;
		fp->cap = ncap;
	}
	fp->ev[fp->nev++] = *e;
	return 0;
}

/* A plain [base + disp] operand on a tracked register: its index, else -1. */
static int mem_base(const cs_x86_op *op)
{
	if (op->type != X86_OP_MEM || op->mem.index != X86_REG_INVALID ||
	    op->mem.segment != X86_REG_INVALID)
		return -1;
	return gpr(op->mem.base);
}

/* Where field [B + DISP] is, seen from the current register state. */
static struct origin field_at(const struct regstate *rs, int b, int64_t disp)
{
	struct origin o = { .valid = true, .base = b, .base_ver = rs->ver[b], .disp = disp };

	if (rs->held[b].valid) {
		o.has_parent = true;
		o.pbase = rs->held[b].base;
		o.pbase_ver = rs->held[b].base_ver;
		o.pdisp = rs->held[b].disp;
	}
	return o;
}

static int scan_one(struct fieldproof *fp, struct regstate *rs, const cs_insn *in, int idx)
{
	const cs_x86 *x = &in->detail->x86;
	struct event e = { .insn = idx, .addr = in->address };
	bool writes_op0 = true;
	int i, b, r, err = 0;

	switch (in->id) {
	case X86_INS_CALL:
		/* Go's ABI keeps no general register across a call but RSP, RBP (frame) and R14 (g) */
		for (i = 0; i < NGPR; i++)
			if (i != 4 && i != 5 && i != 14)
				reg_write(rs, i);
		return 0;
	case X86_INS_JNE:
		e.kind = EV_JNE;
		return push(fp, &e);
	case X86_INS_CMP:
		writes_op0 = false;
		if (x->op_count != 2)
			break;
		if (x->operands[1].type == X86_OP_IMM || x->operands[1].type == X86_OP_REG) {
			uint64_t imm;
			int sz = x->operands[0].size;

			if (x->operands[1].type == X86_OP_IMM) {
				imm = (uint64_t)x->operands[1].imm;
			} else {
				r = gpr(x->operands[1].reg);
				if (r < 0 || !rs->is_const[r])
					break;
				imm = rs->cval[r];
			}
			if (sz < 1 || sz > 8)
				break;
			e.size = sz;
			e.imm = mask(imm, sz);
			if ((b = mem_base(&x->operands[0])) >= 0 && b != 4) {
				/* cmp [b + d], imm: a field of the struct b points to */
				e.kind = EV_CMP;
				e.o = field_at(rs, b, x->operands[0].mem.disp);
				err = push(fp, &e);
				/* cmp [p + 0], imm where p was loaded from a field: the bytes it points to */
				if (!err && x->operands[0].mem.disp == 0 && rs->held[b].valid) {
					e.kind = EV_DEREF;
					e.o = rs->held[b];
					err = push(fp, &e);
				}
			} else if (x->operands[0].type == X86_OP_REG && sz == 8 &&
				   (r = gpr(x->operands[0].reg)) >= 0 && rs->held[r].valid) {
				/* cmp reg, imm where reg holds a loaded field */
				e.kind = EV_CMP;
				e.o = rs->held[r];
				err = push(fp, &e);
			}
		}
		break;
	case X86_INS_TEST:
		writes_op0 = false;
		/* test reg, reg on a loaded field: a compare with 0 */
		if (x->op_count == 2 && x->operands[0].type == X86_OP_REG &&
		    x->operands[1].type == X86_OP_REG && x->operands[0].reg == x->operands[1].reg &&
		    x->operands[0].size == 8 && (r = gpr(x->operands[0].reg)) >= 0 && rs->held[r].valid) {
			e.kind = EV_CMP;
			e.size = 8;
			e.imm = 0;
			e.o = rs->held[r];
			err = push(fp, &e);
		}
		break;
	case X86_INS_PUSH:
	case X86_INS_BT:
		writes_op0 = false;
		break;
	case X86_INS_MOV:
	case X86_INS_MOVABS:
		if (x->op_count != 2 || x->operands[0].type != X86_OP_REG || (r = gpr(x->operands[0].reg)) < 0)
			break;
		/* a MOV writes only its destination: set what it now holds and stop here */
		if (x->operands[1].type == X86_OP_IMM) {
			reg_write(rs, r);
			rs->is_const[r] = true;
			rs->cval[r] = mask((uint64_t)x->operands[1].imm, x->operands[0].size);
			return 0;
		}
		if (x->operands[0].size == 8 && (b = mem_base(&x->operands[1])) >= 0 && b != 4) {
			struct origin o = field_at(rs, b, x->operands[1].mem.disp);

			e.kind = EV_LOAD;
			e.size = 8;
			e.o = o;
			reg_write(rs, r);
			rs->held[r] = o;
			return push(fp, &e);
		}
		break;
	default:
		break;
	}
	/* everything else an instruction writes loses its provenance */
	if (writes_op0 && x->op_count >= 1 && x->operands[0].type == X86_OP_REG)
		reg_write(rs, gpr(x->operands[0].reg));
	for (i = 0; i < x->op_count; i++)
		if (x->operands[i].type == X86_OP_REG && (x->operands[i].access & CS_AC_WRITE))
			reg_write(rs, gpr(x->operands[i].reg));
	for (i = 0; i < in->detail->regs_write_count; i++)
		reg_write(rs, gpr(in->detail->regs_write[i]));
	return err;
}

struct fieldproof *fieldproof__decode(const uint8_t *code, size_t len, uint64_t addr, int *err)
{
	struct fieldproof *fp = calloc(1, sizeof(*fp));
	struct regstate rs;
	cs_insn *in = NULL;
	csh h = 0;
	int e = 0;

	if (!fp) {
		*err = -ENOMEM;
		return NULL;
	}
	memset(&rs, 0, sizeof(rs));
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &h) != CS_ERR_OK) {
		free(fp);
		*err = -EINVAL;
		return NULL;
	}
	cs_option(h, CS_OPT_DETAIL, CS_OPT_ON);
	in = cs_malloc(h);
	if (!in) {
		e = -ENOMEM;
		goto out;
	}
	while (fp->ninsn < MAX_INSNS && len > 0) {
		if (!cs_disasm_iter(h, &code, &len, &addr, in)) {
			/* undecodable byte (data in text, or junk): skip it, forget all registers */
			int i;

			for (i = 0; i < NGPR; i++)
				reg_write(&rs, i);
			code++;
			len--;
			addr++;
			continue;
		}
		e = scan_one(fp, &rs, in, fp->ninsn);
		fp->ninsn++;
		if (e)
			break;
	}
	if (!e && fp->ninsn == 0)
		e = -EINVAL;
out:
	if (in)
		cs_free(in, 1);
	cs_close(&h);
	if (e) {
		fieldproof__free(fp);
		*err = e;
		return NULL;
	}
	return fp;
}

void fieldproof__free(struct fieldproof *fp)
{
	if (!fp)
		return;
	free(fp->ev);
	free(fp);
}

int fieldproof__count(const struct fieldproof *fp)
{
	return fp ? fp->ninsn : 0;
}

static bool same_base(const struct origin *a, const struct origin *b)
{
	return a->valid && b->valid && a->base == b->base && a->base_ver == b->base_ver;
}

static void hit_from(struct fieldproof_hit *h, const struct origin *o, uint64_t addr)
{
	memset(h, 0, sizeof(*h));
	h->disp = o->disp;
	h->base = gpr_reg(o->base);
	h->base_ver = o->base_ver;
	h->has_parent = o->has_parent;
	if (o->has_parent) {
		h->pbase = gpr_reg(o->pbase);
		h->pbase_ver = o->pbase_ver;
		h->pdisp = o->pdisp;
	}
	h->addr = addr;
}

/* How far apart (in instructions) the facts of one comparison may be. */
#define NEAR 12

int fieldproof__streq(const struct fieldproof *fp, const char *lit, struct fieldproof_hit *out, int max)
{
	size_t n = lit ? strlen(lit) : 0;
	int i, j, k, cnt = 0;

	if (!fp || n == 0 || n > 64 || max <= 0)
		return 0;
	for (i = 0; i < fp->nev && cnt < max; i++) {
		const struct event *d = &fp->ev[i];
		uint64_t want = 0;

		if (d->kind != EV_DEREF || (size_t)d->size > n)
			continue;
		memcpy(&want, lit, (size_t)d->size); /* little-endian, as the compare reads it */
		if (d->imm != mask(want, d->size))
			continue;
		/* the length compare of the same string, near it */
		for (j = 0; j < fp->nev; j++) {
			const struct event *l = &fp->ev[j];

			if (l->kind != EV_CMP || l->size != 8 || l->imm != n || l->insn < d->insn - NEAR ||
			    l->insn > d->insn + NEAR || !same_base(&l->o, &d->o) || l->o.disp != d->o.disp + 8)
				continue;
			/* one hit per field and base value */
			for (k = 0; k < cnt; k++)
				if (out[k].disp == d->o.disp && out[k].base == gpr_reg(d->o.base) &&
				    out[k].base_ver == d->o.base_ver)
					break;
			if (k == cnt)
				hit_from(&out[cnt++], &d->o, d->addr);
			break;
		}
	}
	return cnt;
}

int fieldproof__flag_or_str(const struct fieldproof *fp, struct fieldproof_hit *out, int max)
{
	int i, j, cnt = 0;

	if (!fp || max <= 0)
		return 0;
	for (i = 0; i + 2 < fp->nev && cnt < max; i++) {
		const struct event *b = &fp->ev[i], *jne = &fp->ev[i + 1], *l = &fp->ev[i + 2];
		bool have_ptr = false, have_len = false;
		int64_t s;

		/* cmp byte [x + f], 0; jne; cmp qword [x + s + 8], 0 (or the register holding it) */
		if (b->kind != EV_CMP || b->size != 1 || b->imm != 0 || jne->kind != EV_JNE ||
		    jne->insn != b->insn + 1 || l->kind != EV_CMP || l->size != 8 || l->imm != 0 ||
		    l->insn > jne->insn + 2 || !same_base(&b->o, &l->o) || l->o.disp == b->o.disp)
			continue;
		s = l->o.disp - 8;
		/* then both words of s are loaded (to be used) */
		for (j = i + 3; j < fp->nev && fp->ev[j].insn <= l->insn + 2 * NEAR; j++) {
			const struct event *ld = &fp->ev[j];

			if (ld->kind != EV_LOAD || !same_base(&ld->o, &l->o))
				continue;
			have_ptr |= ld->o.disp == s;
			have_len |= ld->o.disp == s + 8;
		}
		if (!have_ptr || !have_len)
			continue;
		hit_from(&out[cnt], &l->o, l->addr);
		out[cnt].disp = s;
		cnt++;
	}
	return cnt;
}

int fieldproof__first_pair(const struct fieldproof *fp, struct fieldproof_hit *out)
{
	const struct event *a = NULL, *b = NULL;
	int i;

	if (!fp)
		return 0;
	for (i = 0; i < fp->nev && !b; i++) {
		if (fp->ev[i].kind != EV_LOAD)
			continue;
		if (!a)
			a = &fp->ev[i];
		else
			b = &fp->ev[i];
	}
	if (!b || a->o.base != 0 || a->o.base_ver != 0 || !same_base(&a->o, &b->o) ||
	    (b->o.disp != a->o.disp + 8 && a->o.disp != b->o.disp + 8))
		return 0;
	hit_from(out, a->o.disp < b->o.disp ? &a->o : &b->o, b->addr);
	return 1;
}

int fieldproof__cmp_pair(const struct fieldproof *fp, uint64_t imm_a, uint64_t imm_b,
			 struct fieldproof_hit *out, int max)
{
	int i, j, k, cnt = 0;

	if (!fp || max <= 0)
		return 0;
	for (i = 0; i < fp->nev && cnt < max; i++) {
		const struct event *a = &fp->ev[i];

		if (a->kind != EV_CMP || a->size != 8 || a->imm != imm_a)
			continue;
		for (j = 0; j < fp->nev; j++) {
			const struct event *b = &fp->ev[j];

			if (b->kind != EV_CMP || b->size != 8 || b->imm != imm_b || b->insn < a->insn - NEAR ||
			    b->insn > a->insn + NEAR || !same_base(&a->o, &b->o) || a->o.disp != b->o.disp)
				continue;
			for (k = 0; k < cnt; k++)
				if (out[k].disp == a->o.disp && out[k].base == gpr_reg(a->o.base) &&
				    out[k].base_ver == a->o.base_ver)
					break;
			if (k == cnt)
				hit_from(&out[cnt++], &a->o, a->insn > b->insn ? a->addr : b->addr);
			break;
		}
	}
	return cnt;
}

int fieldproof__first_load(const struct fieldproof *fp, struct fieldproof_hit *out)
{
	int i;

	if (!fp)
		return 0;
	for (i = 0; i < fp->nev; i++) {
		const struct event *e = &fp->ev[i];

		if (e->kind != EV_LOAD)
			continue;
		if (e->o.base != 0 || e->o.base_ver != 0)
			return 0;
		hit_from(out, &e->o, e->addr);
		return 1;
	}
	return 0;
}
