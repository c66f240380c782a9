// SPDX-License-Identifier: MIT
/*
 * codeflow: where one argument goes inside one Go function. See codeflow.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <capstone/capstone.h>

#include "codeflow.h"
#include "gopclntab.h"
#include "log.h"

#define CODEFLOW_MAX_TARGETS 4096
#define CODEFLOW_MAX_INSNS   20000

/* The 64-bit register R is part of, or R itself. */
int codeflow_reg64(int r)
{
	static const x86_reg m[][5] = {
		{ X86_REG_RAX, X86_REG_EAX, X86_REG_AX, X86_REG_AL, X86_REG_AH },
		{ X86_REG_RBX, X86_REG_EBX, X86_REG_BX, X86_REG_BL, X86_REG_BH },
		{ X86_REG_RCX, X86_REG_ECX, X86_REG_CX, X86_REG_CL, X86_REG_CH },
		{ X86_REG_RDX, X86_REG_EDX, X86_REG_DX, X86_REG_DL, X86_REG_DH },
		{ X86_REG_RSI, X86_REG_ESI, X86_REG_SI, X86_REG_SIL, X86_REG_SIL },
		{ X86_REG_RDI, X86_REG_EDI, X86_REG_DI, X86_REG_DIL, X86_REG_DIL },
		{ X86_REG_RBP, X86_REG_EBP, X86_REG_BP, X86_REG_BPL, X86_REG_BPL },
		{ X86_REG_RSP, X86_REG_ESP, X86_REG_SP, X86_REG_SPL, X86_REG_SPL },
		{ X86_REG_R8, X86_REG_R8D, X86_REG_R8W, X86_REG_R8B, X86_REG_R8B },
		{ X86_REG_R9, X86_REG_R9D, X86_REG_R9W, X86_REG_R9B, X86_REG_R9B },
		{ X86_REG_R10, X86_REG_R10D, X86_REG_R10W, X86_REG_R10B, X86_REG_R10B },
		{ X86_REG_R11, X86_REG_R11D, X86_REG_R11W, X86_REG_R11B, X86_REG_R11B },
		{ X86_REG_R12, X86_REG_R12D, X86_REG_R12W, X86_REG_R12B, X86_REG_R12B },
		{ X86_REG_R13, X86_REG_R13D, X86_REG_R13W, X86_REG_R13B, X86_REG_R13B },
		{ X86_REG_R14, X86_REG_R14D, X86_REG_R14W, X86_REG_R14B, X86_REG_R14B },
		{ X86_REG_R15, X86_REG_R15D, X86_REG_R15W, X86_REG_R15B, X86_REG_R15B },
	};
	size_t i, j;

	for (i = 0; i < sizeof(m) / sizeof(m[0]); i++)
		for (j = 0; j < 5; j++)
			if ((int)m[i][j] == r)
				return m[i][0];
	return r;
}

/* The tag of a load of 8 bytes at [PARENT + DISP]: found or made; 0 if the table is full. */
static int flow_tag(struct codeflow *fl, int parent, int64_t disp)
{
	int i;

	for (i = 2; i < fl->ntags; i++)
		if (fl->tags[i].parent == parent && fl->tags[i].disp == disp)
			return i;
	if (fl->ntags >= CODEFLOW_MAX_TAGS)
		return 0;
	fl->tags[fl->ntags].parent = parent;
	fl->tags[fl->ntags].disp = disp;
	return fl->ntags++;
}

int codeflow__tag(const struct codeflow *fl, int parent, int64_t disp)
{
	int i;

	for (i = 2; i < fl->ntags; i++)
		if (fl->tags[i].parent == parent && fl->tags[i].disp == disp)
			return i;
	return 0;
}

static int *flow_slot(struct codeflow *fl, int64_t disp, bool make)
{
	int i;

	for (i = 0; i < fl->nslots; i++)
		if (fl->slots[i].disp == disp)
			return &fl->slots[i].tag;
	if (!make || fl->nslots >= CODEFLOW_MAX_SLOTS)
		return NULL;
	fl->slots[fl->nslots].disp = disp;
	fl->slots[fl->nslots].tag = 0;
	return &fl->slots[fl->nslots++].tag;
}

/*
 * Instructions that only read their first operand. Every other one is
 * taken to write it (Intel operand order: the destination first), whatever
 * Capstone's access flags say: Capstone 4 marks the destination of an SSE
 * store ("movups [rsp+8], xmm15", Go's stack zeroing) as read only. So a
 * store is never a read, and a slot it touches is forgotten; a
 * read-modify-write of memory is not counted as a read (a missed proof,
 * never a false one).
 */
static bool reads_only(unsigned int id)
{
	switch (id) {
	case X86_INS_CMP: case X86_INS_TEST: case X86_INS_BT: case X86_INS_NOP:
	case X86_INS_PUSH: case X86_INS_CALL: case X86_INS_JMP:
	case X86_INS_UCOMISS: case X86_INS_UCOMISD: case X86_INS_COMISS: case X86_INS_COMISD:
	case X86_INS_PREFETCHT0: case X86_INS_PREFETCHT1: case X86_INS_PREFETCHT2:
	case X86_INS_PREFETCHNTA: case X86_INS_PREFETCHW:
		return true;
	default:
		return false;
	}
}

/* A write of SIZE bytes at [rsp+DISP]: every slot it touches is forgotten. */
static void flow_clobber(struct codeflow *fl, int64_t disp, int size)
{
	int i;

	for (i = 0; i < fl->nslots; i++)
		if (fl->slots[i].disp < disp + size && disp < fl->slots[i].disp + 8)
			fl->slots[i].tag = 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* jmp and every jcc: Capstone 4 numbers them X86_INS_JAE .. X86_INS_JS */
static bool is_jump(const cs_insn *in)
{
	return in->id >= X86_INS_JAE && in->id <= X86_INS_JS;
}

int codeflow__scan(const uint8_t *code, size_t size, uint64_t entry, int start_reg,
		   const struct gopclntab *pt, struct codeflow *fl)
{
	int regs[X86_REG_ENDING];
	uint64_t *targets = NULL, addr;
	const uint8_t *c;
	size_t left;
	int ntargets = 0, k, err = 0;
	cs_insn *in = NULL;
	csh h;

	memset(fl, 0, sizeof(*fl));
	fl->ntags = 2; /* 0: unknown, 1: the argument */
	if (!code || size == 0 || start_reg <= X86_REG_INVALID || start_reg >= X86_REG_ENDING) {
		cp_seterr("no code to scan");
		return -EINVAL;
	}
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &h) != CS_ERR_OK) {
		cp_seterr("cannot open the disassembler");
		return -EINVAL;
	}
	cs_option(h, CS_OPT_DETAIL, CS_OPT_ON);
	in = cs_malloc(h);
	targets = malloc(CODEFLOW_MAX_TARGETS * sizeof(*targets));
	if (!in || !targets) {
		cp_seterr("cannot scan code: out of memory");
		err = -ENOMEM;
		goto out;
	}
	/* pass 1: branch targets */
	c = code, left = size, addr = entry;
	for (k = 0; k < CODEFLOW_MAX_INSNS && cs_disasm_iter(h, &c, &left, &addr, in); k++) {
		cs_x86 *x = &in->detail->x86;

		if (is_jump(in) && x->op_count == 1 && x->operands[0].type == X86_OP_IMM &&
		    ntargets < CODEFLOW_MAX_TARGETS)
			targets[ntargets++] = (uint64_t)x->operands[0].imm;
	}
	qsort(targets, ntargets, sizeof(targets[0]), cmp_u64);

	/* pass 2: the flow */
	memset(regs, 0, sizeof(regs));
	regs[codeflow_reg64(start_reg)] = CODEFLOW_ARG;
	c = code, left = size, addr = entry;
	for (k = 0; k < CODEFLOW_MAX_INSNS && cs_disasm_iter(h, &c, &left, &addr, in); k++) {
		cs_x86 *x = &in->detail->x86;
		cs_regs rd, wr;
		uint8_t nrd = 0, nwr = 0;
		int i, newtag = 0;
		x86_reg dst = X86_REG_INVALID;

		/* the entry is a target too: morestack's jump back, with the arguments restored */
		if (k > 0 && bsearch(&in->address, targets, ntargets, sizeof(targets[0]), cmp_u64))
			memset(regs, 0, sizeof(regs));
		/* reads through a tagged base, and what a load or copy leaves in its destination */
		for (i = 0; i < x->op_count; i++) {
			cs_x86_op *op = &x->operands[i];
			int bt;

			if (op->type != X86_OP_MEM || op->mem.segment != X86_REG_INVALID ||
			    op->mem.index != X86_REG_INVALID || op->mem.base == X86_REG_INVALID ||
			    op->mem.base == X86_REG_RIP)
				continue;
			if (op->mem.base == X86_REG_RSP) {
				int *slot = flow_slot(fl, op->mem.disp, false);

				/*
				 * Overwritten (a tagged store sets it again below): any
				 * slot the write overlaps, a 16-byte zeroing store too.
				 */
				if ((i == 0 && !reads_only(in->id)) || (op->access & CS_AC_WRITE))
					flow_clobber(fl, op->mem.disp, op->size ? op->size : 64);
				if (in->id == X86_INS_MOV && i == 1 && op->size == 8 && slot)
					newtag = *slot;
				continue;
			}
			bt = regs[codeflow_reg64(op->mem.base)];
			/* a source operand, or the first of an instruction that only reads it */
			if (!bt || in->id == X86_INS_LEA || (i == 0 && !reads_only(in->id)))
				continue;
			if (fl->nreads < CODEFLOW_MAX_READS) {
				struct codeflow_read *r = &fl->reads[fl->nreads++];
				struct gofunc_frame fr[8];
				int nf = pt ? gopclntab__frames(pt, in->address, fr, 8) : 0;

				r->pc = in->address;
				r->tag = bt;
				r->disp = op->mem.disp;
				r->size = op->size;
				r->frame = nf > 0 ? fr[0].name : "";
				r->inlined = nf > 1 && fr[0].inlined;
			}
			if (in->id == X86_INS_MOV && i == 1 && op->size == 8)
				newtag = flow_tag(fl, bt, op->mem.disp);
		}
		if (in->id == X86_INS_MOV && x->op_count == 2 && x->operands[0].type == X86_OP_REG) {
			if (x->operands[1].type == X86_OP_REG && x->operands[1].size == 8)
				newtag = regs[codeflow_reg64(x->operands[1].reg)];
			dst = x->operands[0].size == 8 ? codeflow_reg64(x->operands[0].reg) : X86_REG_INVALID;
		}
		/* a spill of a tagged register */
		if (in->id == X86_INS_MOV && x->op_count == 2 && x->operands[0].type == X86_OP_MEM &&
		    x->operands[0].mem.base == X86_REG_RSP && x->operands[0].mem.index == X86_REG_INVALID &&
		    x->operands[1].type == X86_OP_REG && x->operands[1].size == 8 &&
		    regs[codeflow_reg64(x->operands[1].reg)]) {
			int *slot = flow_slot(fl, x->operands[0].mem.disp, true);

			if (slot)
				*slot = regs[codeflow_reg64(x->operands[1].reg)];
		}
		if (in->id == X86_INS_CALL) {
			if (fl->ncalls < CODEFLOW_MAX_CALLS) {
				struct codeflow_call *fc = &fl->calls[fl->ncalls++];
				struct gofunc t;

				fc->pc = in->address;
				fc->callee = pt && x->op_count == 1 && x->operands[0].type == X86_OP_IMM &&
					     gopclntab__lookup(pt, (uint64_t)x->operands[0].imm, &t) == 0 &&
					     t.entry == (uint64_t)x->operands[0].imm ? t.name : NULL;
				fc->rax_tag = regs[X86_REG_RAX];
				fc->rbx_tag = regs[X86_REG_RBX];
				fc->rcx_tag = regs[X86_REG_RCX];
			}
			memset(regs, 0, sizeof(regs));
			continue;
		}
		if (in->id == X86_INS_RET || in->id == X86_INS_JMP) {
			memset(regs, 0, sizeof(regs));
			continue;
		}
		if (cs_regs_access(h, in, rd, &nrd, wr, &nwr) == CS_ERR_OK)
			for (i = 0; i < nwr; i++)
				regs[codeflow_reg64(wr[i])] = 0;
		if (dst != X86_REG_INVALID)
			regs[dst] = newtag;
	}
out:
	free(targets);
	if (in)
		cs_free(in, 1);
	cs_close(&h);
	return err;
}

bool codeflow__reads(const struct codeflow *fl, int tag, int64_t disp, int size)
{
	int i;

	for (i = 0; i < fl->nreads; i++) {
		const struct codeflow_read *r = &fl->reads[i];

		if (r->tag == tag && ((r->disp == disp && r->size == size) ||
				      (size == 8 && r->size == 16 && (r->disp == disp || r->disp + 8 == disp))))
			return true;
	}
	return false;
}

