// SPDX-License-Identifier: MIT
/*
 * retsites: plan instruction-level uprobe sites in a Go function.
 *
 * Everything here comes from Capstone's decode of the function from its
 * entry (linear sweep; Go puts jump tables in .rodata, not in .text, so a
 * linear sweep of a Go function sees every instruction). Two kinds of
 * facts come out: where Go's stack-check prologue puts its conditional
 * jump to morestack (the cheapest entry probe site, see design.md), and
 * which instructions the kernel emulates for a uprobe instead of
 * single-stepping them out of line.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <capstone/capstone.h>

#include "log.h"
#include "retsites.h"

/* Go's g.stackguard0 and g.stackguard1 (runtime/runtime2.go: struct g
 * starts with stack{lo, hi}, then stackguard0, stackguard1). */
#define G_STACKGUARD0 0x10
#define G_STACKGUARD1 0x18

/* How far from the entry the stack check may start and end: the longest
 * form (Go <= 1.16 huge frame) is 8 instructions including the TLS load. */
#define PROLOGUE_MAX_INSNS 12

struct dec {
	csh h;
	cs_insn *insn;
	const uint8_t *p;
	size_t left;
	uint64_t addr;
	bool open;
};

static int dec_init(struct dec *d, const uint8_t *code, size_t len, uint64_t vaddr, bool detail)
{
	memset(d, 0, sizeof(*d));
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &d->h) != CS_ERR_OK) {
		cp_seterr("cannot open the Capstone x86-64 disassembler");
		return -EINVAL;
	}
	d->open = true;
	if (detail)
		cs_option(d->h, CS_OPT_DETAIL, CS_OPT_ON);
	d->insn = cs_malloc(d->h);
	if (!d->insn) {
		cs_close(&d->h);
		d->open = false;
		cp_seterr("out of memory for Capstone");
		return -ENOMEM;
	}
	d->p = code;
	d->left = code ? len : 0;
	d->addr = vaddr;
	return 0;
}

/* Decode the next instruction into d->insn; false at the end or on an invalid byte. */
static bool dec_next(struct dec *d)
{
	if (!d->left)
		return false;
	return cs_disasm_iter(d->h, &d->p, &d->left, &d->addr, d->insn);
}

static void dec_fini(struct dec *d)
{
	if (!d->open)
		return;
	cs_free(d->insn, 1);
	cs_close(&d->h);
	d->open = false;
}

static bool is_int3(const cs_insn *in)
{
	return in->id == X86_INS_INT3;
}

static bool op_is_reg(const cs_x86_op *op, x86_reg r)
{
	return op->type == X86_OP_REG && (r == X86_REG_INVALID || op->reg == r);
}

/* [G+0x10] or [G+0x18] with no index and no segment: g.stackguard0/1. */
static bool op_is_stackguard(const cs_x86_op *op, x86_reg g)
{
	return op->type == X86_OP_MEM && op->mem.base == g &&
	       op->mem.index == X86_REG_INVALID && op->mem.segment == X86_REG_INVALID &&
	       (op->mem.disp == G_STACKGUARD0 || op->mem.disp == G_STACKGUARD1);
}

static uint64_t branch_target(const cs_insn *in)
{
	const cs_x86 *x = &in->detail->x86;

	if (x->op_count == 1 && x->operands[0].type == X86_OP_IMM)
		return (uint64_t)x->operands[0].imm;
	return 0;
}

/*
 * The prologue matcher, fed one instruction at a time from the entry.
 * The forms come from Go's cmd/internal/obj/x86/obj6.go, stacksplit():
 *
 *   Go 1.17+ (register ABI, g in R14; tmp = REGENTRYTMP0 = R12):
 *     small frame:  cmp rsp, [r14+0x10]; jbe morestack
 *     big frame:    lea r12, [rsp-N]; cmp r12, [r14+0x10]; jbe morestack
 *     huge frame:   mov r12, rsp; sub r12, N; jb morestack;
 *                   cmp r12, [r14+0x10]; jbe morestack
 *   Go <= 1.16 (stack ABI): g comes from TLS first (load_g_cx:
 *     mov rcx, fs:[-8], or mov rcx, [rip+x]; mov rcx, fs:[rcx] in PIE),
 *     then the same small/big forms with rax as tmp, and the old huge
 *     form that compares g.stackguard0 against StackPreempt first:
 *     mov rsi, [rcx+0x10]; cmp rsi, StackPreempt; je morestack;
 *     lea rax, [rsp+StackGuard]; sub rax, rsi; cmp rax, N; jbe morestack
 * All of them end in JLS (jbe), the jump this matcher reports. Stack
 * guard 1 ([g+0x18]) is used instead for functions callable from C.
 */
enum pro_state { PRO_START, PRO_GUARD, PRO_DONE, PRO_NONE };

struct prologue {
	enum pro_state st;
	x86_reg g;
	bool tls;
	int n;          /* instructions seen */
	int since_guard;
	uint64_t jcc, after_jcc, target;
};

static void prologue_feed(struct prologue *pr, const cs_insn *in)
{
	const cs_x86 *x = &in->detail->x86;
	const cs_x86_op *o0 = &x->operands[0], *o1 = &x->operands[1];

	if (pr->st == PRO_DONE || pr->st == PRO_NONE)
		return;
	if (++pr->n > PROLOGUE_MAX_INSNS) {
		pr->st = PRO_NONE;
		return;
	}

	if (pr->st == PRO_START) {
		switch (in->id) {
		case X86_INS_MOV:
			if (x->op_count != 2 || !op_is_reg(o0, X86_REG_INVALID))
				break;
			/* g from TLS: mov reg, fs:[...] (Go <= 1.16) */
			if (o1->type == X86_OP_MEM && o1->mem.segment == X86_REG_FS) {
				pr->g = o0->reg;
				pr->tls = true;
				return;
			}
			/* PIE TLS offset load before the fs: load */
			if (o1->type == X86_OP_MEM && o1->mem.base == X86_REG_RIP)
				return;
			/* huge frame: mov tmp, rsp */
			if (op_is_reg(o1, X86_REG_RSP))
				return;
			/* old huge frame: mov rsi, [g+0x10] */
			if (op_is_stackguard(o1, pr->g)) {
				pr->st = PRO_GUARD;
				return;
			}
			break;
		case X86_INS_LEA:
			/* big frame: lea tmp, [rsp-N] */
			if (x->op_count == 2 && op_is_reg(o0, X86_REG_INVALID) &&
			    o1->type == X86_OP_MEM && o1->mem.base == X86_REG_RSP)
				return;
			break;
		case X86_INS_SUB:
			/* huge frame: sub tmp, N */
			if (x->op_count == 2 && op_is_reg(o0, X86_REG_INVALID) && o1->type == X86_OP_IMM)
				return;
			break;
		case X86_INS_JB:
			/* huge frame: jb morestack when SP-N wrapped */
			return;
		case X86_INS_CMP:
			if (x->op_count == 2 && op_is_reg(o0, X86_REG_INVALID) &&
			    op_is_stackguard(o1, pr->g)) {
				pr->st = PRO_GUARD;
				return;
			}
			break;
		default:
			break;
		}
		pr->st = PRO_NONE;
		return;
	}

	/* PRO_GUARD: the guard was read; the jbe follows within a few instructions. */
	if (++pr->since_guard > 6) {
		pr->st = PRO_NONE;
		return;
	}
	switch (in->id) {
	case X86_INS_JBE:
		pr->jcc = in->address;
		pr->after_jcc = in->address + in->size;
		pr->target = branch_target(in);
		pr->st = pr->target > in->address ? PRO_DONE : PRO_NONE;
		return;
	case X86_INS_CMP:
	case X86_INS_JE:
	case X86_INS_LEA:
	case X86_INS_SUB:
		return;
	default:
		pr->st = PRO_NONE;
		return;
	}
}

int retsites__analyze(const uint8_t *code, size_t len, uint64_t vaddr, struct func_layout *out)
{
	struct prologue pr = { .st = PRO_START, .g = X86_REG_R14 };
	/* morestack block check: 0 before it, 1 at it, 2 after its call, 3 jumped back */
	int ms = 0, pending_int3 = 0;
	uint64_t end = vaddr;
	struct dec d;
	int err;

	memset(out, 0, sizeof(*out));
	out->entry = vaddr;
	if (!code || !len) {
		cp_seterr("no code to decode at 0x%llx", (unsigned long long)vaddr);
		return -EINVAL;
	}
	err = dec_init(&d, code, len, vaddr, true);
	if (err)
		return err;

	while (dec_next(&d)) {
		const cs_insn *in = d.insn;

		if (is_int3(in)) {
			pending_int3++;
			continue;
		}
		out->ninsns += pending_int3 + 1;
		pending_int3 = 0;
		end = in->address + in->size;

		prologue_feed(&pr, in);

		if (in->id == X86_INS_RET) { /* c3, and c2 imm16 */
			if (out->nret < RETSITES_MAX)
				out->rets[out->nret] = in->address;
			out->nret++;
		}

		if (pr.st == PRO_DONE) {
			if (ms == 0 && in->address == pr.target)
				ms = 1;
			else if (ms == 0 && in->address > pr.target)
				ms = -1; /* the jbe lands inside an instruction */
			if (ms == 1 && in->id == X86_INS_CALL)
				ms = 2;
			else if (ms == 2 && in->id == X86_INS_JMP && branch_target(in) == vaddr)
				ms = 3;
		}
	}
	out->complete = d.left == 0;
	out->end = end;
	dec_fini(&d);

	if (out->ninsns == 0) {
		cp_seterr("no instruction decodes at 0x%llx", (unsigned long long)vaddr);
		return -EINVAL;
	}
	/*
	 * Only a jbe whose target calls morestack and jumps back to the
	 * entry (obj6.go: "JMP start" after the morestack call) counts;
	 * anything else that merely looks like a guard compare is not Go's
	 * prologue.
	 */
	if (pr.st == PRO_DONE && ms == 3) {
		out->go_prologue = true;
		out->stack_check_jcc = pr.jcc;
		out->after_jcc = pr.after_jcc;
		out->morestack = pr.target;
		out->g_from_tls = pr.tls;
	}
	return 0;
}

/*
 * Find the instruction at ADDR by linear decode from VADDR. Returns 0 and
 * fills *size, bytes and text if ADDR starts an instruction that is not
 * part of trailing int3 padding; -ENOENT otherwise.
 */
static int find_insn(const uint8_t *code, size_t len, uint64_t vaddr, uint64_t addr,
		     size_t *size, char *text, size_t textlen)
{
	bool found = false, padding = false;
	struct dec d;
	int err = -ENOENT;

	if (!code || !len || addr < vaddr || addr - vaddr >= len)
		return -ENOENT;
	if (dec_init(&d, code, len, vaddr, false))
		return -ENOENT;
	while (dec_next(&d)) {
		const cs_insn *in = d.insn;

		if (!found) {
			if (in->address > addr)
				break;
			if (in->address < addr)
				continue;
			found = true;
			*size = in->size;
			if (text && textlen)
				snprintf(text, textlen, "%s%s%s", in->mnemonic,
					 in->op_str[0] ? " " : "", in->op_str);
			if (!is_int3(in)) {
				err = 0;
				break;
			}
			padding = true;
			continue;
		}
		/* an int3 at ADDR is padding unless real code follows it */
		if (!is_int3(in)) {
			padding = false;
			break;
		}
	}
	if (found && !err)
		goto out;
	if (found && !padding)
		err = 0;
out:
	dec_fini(&d);
	return err;
}

bool retsites__is_boundary(const uint8_t *code, size_t len, uint64_t vaddr, uint64_t addr)
{
	size_t size;

	return find_insn(code, len, vaddr, addr, &size, NULL, 0) == 0;
}

/*
 * The kernel's view, from arch/x86/kernel/uprobes.c as of Linux 6.18,
 * arch_uprobe_analyze_insn():
 *  1. uprobe_init_insn() rejects (attach fails with ENOTSUPP) any
 *     instruction with an es/cs/ss/ds segment prefix or lock
 *     (is_prefix_bad()), "mov ss"/"pop ss" (insn_masking_exception()),
 *     and opcodes not in good_insns_64 (int3, int n, in/out, hlt, ...).
 *     good_insns_64[0x0f] is set, so every 0f-escaped opcode passes.
 *  2. branch_setup_xol_ops() emulates:
 *     - the kernel's own nops x86_nops[len] for len <= ASM_NOP_MAX (8),
 *       compared byte for byte (added by Jiri Olsa, Linux 6.16: "uprobes/x86:
 *       Add support to emulate NOP instructions"); other 0f 1f nops
 *       are single-stepped until insn_is_nop() (Linux 6.19);
 *     - any opcode 90 (nop, with any prefix: "prefix* + nop");
 *     - jmp rel8/rel32 (eb, e9), call rel32 (e8), jcc (70-7f, 0f 80-8f);
 *       but rejects these branches outright if they carry a 66 prefix.
 *  3. push_setup_xol_ops() emulates push reg (50-57, one byte) and
 *     push r8-r15 (41 50-57, exactly two bytes).
 *  4. Everything else uses default_xol_ops: single-stepped out of line.
 */
static const uint16_t good_insns_64[16] = {
	/* bit n = column n; rows copied from the kernel's table */
	0xbf3f, /* 00: 06 07 0e invalid */
	0x3f3f, /* 10: 16 17 1e 1f */
	0x7f7f, /* 20: 27 2f */
	0x7f7f, /* 30: 37 3f */
	0xffff, /* 40 */
	0xffff, /* 50 */
	0x0ff8, /* 60: 60-62, 6c-6f */
	0xffff, /* 70 */
	0xfffb, /* 80: 82 */
	0xfbff, /* 90: 9a */
	0xffff, /* a0 */
	0xffff, /* b0 */
	0x0fff, /* c0: cc-cf */
	0xff8f, /* d0: d4-d6 */
	0x0b0f, /* e0: e4-e7, ea, ec-ef */
	0xf3ed, /* f0: f1 f4 fa fb */
};

/* BYTES_NOP1..8 of arch/x86/include/asm/nops.h: the x86_nops[] table */
static const uint8_t kernel_nops[9][8] = {
	{ 0 },
	{ 0x90 },
	{ 0x66, 0x90 },
	{ 0x0f, 0x1f, 0x00 },
	{ 0x0f, 0x1f, 0x40, 0x00 },
	{ 0x0f, 0x1f, 0x44, 0x00, 0x00 },
	{ 0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00 },
	{ 0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00 },
	{ 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00 },
};

static bool is_legacy_prefix(uint8_t b)
{
	switch (b) {
	case 0xf0: case 0xf2: case 0xf3:
	case 0x26: case 0x2e: case 0x36: case 0x3e: case 0x64: case 0x65:
	case 0x66: case 0x67:
		return true;
	default:
		return false;
	}
}

/*
 * Classify the SIZE bytes of one instruction Capstone decoded. The walk
 * over its prefixes mirrors the kernel's for_each_insn_prefix(); it never
 * looks past the instruction Capstone delimited.
 */
static enum uprobe_insn_class classify(const uint8_t *b, size_t size)
{
	bool p66 = false;
	uint8_t rex = 0, op1, op2 = 0;
	size_t i = 0;

	for (; i < size && is_legacy_prefix(b[i]); i++) {
		switch (b[i]) {
		case 0x26: case 0x2e: case 0x36: case 0x3e: case 0xf0:
			return UPROBE_INSN_REJECTED; /* is_prefix_bad() */
		case 0x66:
			p66 = true;
			break;
		}
	}
	if (i < size && (b[i] & 0xf0) == 0x40)
		rex = b[i++];
	if (i >= size)
		return UPROBE_INSN_REJECTED;
	op1 = b[i];
	/* VEX (c4/c5) and EVEX (62): the kernel's OPCODE1 is the byte after the payload */
	if (op1 == 0xc5 || op1 == 0xc4 || op1 == 0x62) {
		size_t skip = op1 == 0xc5 ? 3 : op1 == 0xc4 ? 4 : 5;

		if (i + skip > size)
			return UPROBE_INSN_REJECTED;
		op1 = b[i + skip - 1];
		return good_insns_64[op1 >> 4] & (1u << (op1 & 15)) ?
		       UPROBE_INSN_SINGLESTEP : UPROBE_INSN_REJECTED;
	}
	if (op1 == 0x0f && i + 1 < size)
		op2 = b[i + 1];

	/* insn_masking_exception(): mov ss, r/m (8e /2) */
	if (op1 == 0x8e && i + 1 < size && ((b[i + 1] >> 3) & 7) == 2)
		return UPROBE_INSN_REJECTED;
	if (!(good_insns_64[op1 >> 4] & (1u << (op1 & 15))))
		return UPROBE_INSN_REJECTED;

	/* branch_setup_xol_ops(): the kernel's nops, byte for byte */
	if (size <= 8 && !memcmp(b, kernel_nops[size], size))
		return UPROBE_INSN_EMULATED;
	switch (op1) {
	case 0x90: /* "prefix* + nop; same as jmp with .offs = 0" */
		return UPROBE_INSN_EMULATED;
	case 0xeb: case 0xe9: case 0xe8:
		return p66 ? UPROBE_INSN_REJECTED : UPROBE_INSN_EMULATED;
	case 0x0f:
		if (op2 >= 0x80 && op2 <= 0x8f)
			return p66 ? UPROBE_INSN_REJECTED : UPROBE_INSN_EMULATED;
		break;
	default:
		if (op1 >= 0x70 && op1 <= 0x7f)
			return p66 ? UPROBE_INSN_REJECTED : UPROBE_INSN_EMULATED;
		break;
	}

	/* push_setup_xol_ops() */
	if (op1 >= 0x50 && op1 <= 0x57) {
		if (size == 1)
			return UPROBE_INSN_EMULATED;
		if (size == 2 && rex == 0x41 && i == 1)
			return UPROBE_INSN_EMULATED;
	}
	return UPROBE_INSN_SINGLESTEP;
}

enum uprobe_insn_class retsites__uprobe_class(const uint8_t *code, size_t len, uint64_t vaddr,
					      uint64_t addr, char *mnemonic, size_t mnlen)
{
	size_t size = 0;

	if (mnemonic && mnlen)
		mnemonic[0] = '\0';
	if (find_insn(code, len, vaddr, addr, &size, mnemonic, mnlen))
		return UPROBE_INSN_NOT_BOUNDARY;
	return classify(code + (addr - vaddr), size);
}

bool retsites__is_emulated(const uint8_t *code, size_t len, uint64_t vaddr, uint64_t addr,
			   char *mnemonic, size_t mnlen)
{
	return retsites__uprobe_class(code, len, vaddr, addr, mnemonic, mnlen) ==
	       UPROBE_INSN_EMULATED;
}

const char *uprobe_insn_class__str(enum uprobe_insn_class c)
{
	switch (c) {
	case UPROBE_INSN_EMULATED:   return "emulated";
	case UPROBE_INSN_SINGLESTEP: return "single-step";
	case UPROBE_INSN_REJECTED:   return "rejected";
	default:                     return "not an instruction boundary";
	}
}
