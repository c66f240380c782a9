/* SPDX-License-Identifier: MIT */
/*
 * codeflow: where one argument goes inside one Go function (amd64), to
 * prove from a binary's own code that a probe reads the right register
 * and the right field: "handleStream reads the method string through its
 * RDI argument, inside an inlined (*Stream).Method()".
 *
 * A forward data-flow over the function's instructions in address order,
 * as Capstone decodes them. Each value the scan knows is a tag: tag
 * CODEFLOW_ARG is the argument register the scan starts from; an 8-byte
 * load from [tagged + D] makes the tag (parent, D). Tags move through
 * register copies and stack slots ([rsp+X], where Go spills arguments and
 * keeps locals; Go never moves RSP between prologue and epilogue). Any
 * other write to a register or slot forgets what it held; a call forgets
 * every register (Go's ABI keeps none but RSP, RBP and R14 across a call),
 * and so do every branch target and the instruction after a RET or JMP,
 * where another path may arrive with other values. Slots survive branch
 * targets: an argument's spill slot is written once, at entry, and any
 * other store to it forgets it. The scan records each memory read through
 * a tagged base, with the innermost function at that PC (the inlined one,
 * from the pclntab's inline tree), and each call with the tags of its
 * first three argument registers (RAX, RBX, RCX).
 * Conservative by construction: it can miss a read, never invent one.
 */
#ifndef CPPROF_CODEFLOW_H
#define CPPROF_CODEFLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gopclntab;

#define CODEFLOW_MAX_TAGS  64
#define CODEFLOW_MAX_SLOTS 64
#define CODEFLOW_MAX_READS 256
#define CODEFLOW_MAX_CALLS 256

#define CODEFLOW_ARG 1 /* the tag of the starting register; 0 is "unknown" */

struct codeflow_read {
	uint64_t pc;
	int tag;               /* of the base register */
	int64_t disp;
	int size;              /* bytes read */
	const char *frame;     /* innermost function at PC ("" without a pclntab) */
	bool inlined;          /* FRAME was inlined there */
};

struct codeflow_call {
	uint64_t pc;
	const char *callee;    /* NULL: indirect, or not a function entry */
	int rax_tag;           /* the first three argument registers' tags */
	int rbx_tag;
	int rcx_tag;
};

struct codeflow {
	int ntags;
	struct { int parent; int64_t disp; } tags[CODEFLOW_MAX_TAGS];
	int nslots;
	struct { int64_t disp; int tag; } slots[CODEFLOW_MAX_SLOTS];
	int nreads, ncalls;    /* what did not fit is not recorded */
	struct codeflow_read reads[CODEFLOW_MAX_READS];
	struct codeflow_call calls[CODEFLOW_MAX_CALLS];
};

/*
 * Scan SIZE bytes of CODE, the function at ENTRY, with the Capstone x86
 * register START_REG (any width: RDI, EDI, ...) holding the argument. PT
 * names frames and callees; NULL leaves them unnamed. 0, or a negative
 * errno with cp_lasterr() set.
 */
int codeflow__scan(const uint8_t *code, size_t size, uint64_t entry, int start_reg,
		   const struct gopclntab *pt, struct codeflow *fl);

/* Does the scan read SIZE bytes at [TAG + DISP]? A 16-byte SSE load counts for both its words. */
bool codeflow__reads(const struct codeflow *fl, int tag, int64_t disp, int size);

/* The tag of [PARENT + DISP] if the scan saw it loaded into a register, else 0. */
int codeflow__tag(const struct codeflow *fl, int parent, int64_t disp);

/* The 64-bit register (Capstone x86_reg) that R is part of: RAX for EAX, AX, AL, AH. */
int codeflow_reg64(int r);

#endif
