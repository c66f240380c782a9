/* SPDX-License-Identifier: MIT */
/*
 * retsites: decode a Go function with Capstone (a real x86-64
 * disassembler, never a byte scan) to plan where probes may go:
 *  - the prologue's stack-check conditional jump (cmp rsp/r12 against
 *    g.stackguard0 at [r14+0x10], then jbe/jna to morestack), where a
 *    uprobe is emulated by the kernel (~0.7 us) and the argument registers
 *    are still untouched;
 *  - every RET instruction;
 *  - proof that a given address is an instruction boundary reached by
 *    linear decoding from the function entry.
 * It also says whether the kernel's x86 uprobe code emulates an
 * instruction (arch/x86/kernel/uprobes.c: nop, push, jmp, jcc, call rel32)
 * or must single-step it out of line (~9.5 us in a KVM guest).
 */
#ifndef CPPROF_RETSITES_H
#define CPPROF_RETSITES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RETSITES_MAX 64

struct func_layout {
	uint64_t entry;
	uint64_t stack_check_jcc; /* address of the prologue's jbe/jna, 0 if none */
	bool     go_prologue;     /* entry decodes as a Go stack-check prologue */
	int      nret;            /* RET instructions found (may exceed RETSITES_MAX) */
	uint64_t rets[RETSITES_MAX];
	int      ninsns;          /* instructions decoded (trailing int3 padding excluded) */
	bool     complete;        /* decoding reached the end without an invalid byte */
	/* Added by retsites.c; 0 when unknown. */
	uint64_t morestack;       /* target of stack_check_jcc: the morestack call block */
	uint64_t after_jcc;       /* the instruction after stack_check_jcc: runs once per call,
				   * where the jcc runs again when the stack grows */
	uint64_t end;             /* first address after the last non-padding instruction */
	bool     g_from_tls;      /* g loaded from TLS (fs:), the Go <1.17 stack ABI */
};

/*
 * Decode CODE (LEN bytes, at virtual address VADDR = function entry) and
 * fill OUT. Returns 0, or -EINVAL (cp_lasterr() says why: no instruction
 * decodes at the entry, Capstone unavailable, ...).
 */
int retsites__analyze(const uint8_t *code, size_t len, uint64_t vaddr, struct func_layout *out);

/*
 * true if ADDR is the start of an instruction reached by linear decoding
 * of CODE from VADDR (the function entry). Trailing int3 padding is not
 * part of the function and is never a boundary.
 */
bool retsites__is_boundary(const uint8_t *code, size_t len, uint64_t vaddr, uint64_t addr);

/*
 * true if the kernel emulates a uprobe on the instruction at ADDR (inside
 * CODE), false if it single-steps it. *mnemonic gets a short text of the
 * instruction ("jbe 0x4a1f20") if non-NULL and MNLEN > 0.
 */
bool retsites__is_emulated(const uint8_t *code, size_t len, uint64_t vaddr, uint64_t addr,
			   char *mnemonic, size_t mnlen);

/* What the kernel (6.18, arch/x86/kernel/uprobes.c) does with a uprobe on an instruction. */
enum uprobe_insn_class {
	UPROBE_INSN_NOT_BOUNDARY = 0, /* ADDR is not an instruction start (or no decode) */
	UPROBE_INSN_EMULATED,         /* branch_xol_ops / push_xol_ops: no single-step */
	UPROBE_INSN_SINGLESTEP,       /* default_xol_ops: executed out of line, trap */
	UPROBE_INSN_REJECTED,         /* arch_uprobe_analyze_insn fails: attach errors */
};

/*
 * Classify the instruction at ADDR, as retsites__is_emulated does, but
 * tell single-stepped from rejected instructions. MNEMONIC as above.
 */
enum uprobe_insn_class retsites__uprobe_class(const uint8_t *code, size_t len, uint64_t vaddr,
					      uint64_t addr, char *mnemonic, size_t mnlen);

/* "emulated", "single-step", "rejected", "not an instruction boundary" */
const char *uprobe_insn_class__str(enum uprobe_insn_class c);

#endif
