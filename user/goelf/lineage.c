// SPDX-License-Identifier: MIT
/*
 * lineage: plan the goroutine-lineage probes (runtime.newproc1). See
 * lineage.h and bpf/cpu_sample.bpf.c.
 *
 * Go fact, proc.go newproc1 (Go 1.17 to 1.26): after the new g is set
 * up, "casgstatus(newg, _Gdead, _Grunnable)" (Go 1.23+: "_Gdead,
 * status") makes it runnable; in the register ABI newg is passed in RAX,
 * oldval in EBX, newval in ECX. The other casgstatus call of newproc1,
 * on a fresh malg'd g, passes _Gidle (0) in EBX. The call is emitted as
 * "mov ebx, 6; mov ecx, ...; call runtime.casgstatus", which is what
 * lineage__find_newg_call looks for.
 */
#include <capstone/capstone.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "gopclntab.h"
#include "goelf.h"
#include "lineage.h"
#include "log.h"
#include "retsites.h"

#define G_DEAD 6 /* runtime2.go: _Gdead */

#define MAX_TARGETS 1024

static bool is_bx(x86_reg r)
{
	return r == X86_REG_RBX || r == X86_REG_EBX || r == X86_REG_BX || r == X86_REG_BL ||
	       r == X86_REG_BH;
}

static bool writes_bx(csh h, const cs_insn *in)
{
	cs_regs rd, wr;
	uint8_t nrd, nwr;

	if (cs_regs_access(h, in, rd, &nrd, wr, &nwr) != CS_ERR_OK)
		return true; /* unknown: assume the worst */
	for (int i = 0; i < nwr; i++)
		if (is_bx(wr[i]))
			return true;
	return false;
}

static bool is_branch(csh h, const cs_insn *in)
{
	return cs_insn_group(h, in, CS_GRP_JUMP) || in->id == X86_INS_RET ||
	       in->id == X86_INS_CALL || in->id == X86_INS_INT3 || in->id == X86_INS_UD2;
}

/* The immediate target of a direct jmp/jcc/call, or 0. */
static uint64_t direct_target(const cs_insn *in)
{
	const cs_x86 *x = &in->detail->x86;

	if (x->op_count == 1 && x->operands[0].type == X86_OP_IMM)
		return (uint64_t)x->operands[0].imm;
	return 0;
}

static bool in_list(const uint64_t *v, int n, uint64_t a)
{
	for (int i = 0; i < n; i++)
		if (v[i] == a)
			return true;
	return false;
}

int lineage__find_newg_call(const uint8_t *code, size_t len, uint64_t vaddr,
			    uint64_t casgstatus, uint64_t *call)
{
	uint64_t targets[MAX_TARGETS];
	const uint8_t *p;
	uint64_t a, found = 0;
	size_t left;
	cs_insn *in = NULL;
	csh h;
	int ntargets = 0, nfound = 0, pass, err = 0;
	bool bx_known;
	int64_t bx_imm;

	if (cs_open(CS_ARCH_X86, CS_MODE_64, &h) != CS_ERR_OK) {
		cp_seterr("cannot start the Capstone disassembler");
		return -ENOMEM;
	}
	cs_option(h, CS_OPT_DETAIL, CS_OPT_ON);
	in = cs_malloc(h);
	if (!in) {
		cs_close(&h);
		cp_seterr("out of memory");
		return -ENOMEM;
	}
	/* Pass 0: branch targets inside the function, where a straight-line run starts. */
	for (pass = 0; pass < 2; pass++) {
		p = code;
		left = len;
		a = vaddr;
		bx_known = false;
		bx_imm = 0;
		while (left && cs_disasm_iter(h, &p, &left, &a, in)) {
			uint64_t t = is_branch(h, in) ? direct_target(in) : 0;

			if (pass == 0) {
				if (t >= vaddr && t < vaddr + len && in->id != X86_INS_CALL) {
					if (ntargets == MAX_TARGETS) {
						cp_seterr("runtime.newproc1 has more than %d jump targets",
							  MAX_TARGETS);
						err = -E2BIG;
						goto out;
					}
					targets[ntargets++] = t;
				}
				continue;
			}
			if (in_list(targets, ntargets, in->address))
				bx_known = false;
			if (in->id == X86_INS_CALL) {
				if (t == casgstatus && bx_known && bx_imm == G_DEAD) {
					found = in->address;
					nfound++;
				}
				bx_known = false; /* calls clobber every register in Go's ABI */
				continue;
			}
			if (is_branch(h, in)) {
				bx_known = false;
				continue;
			}
			if (in->id == X86_INS_MOV && in->detail->x86.op_count == 2 &&
			    in->detail->x86.operands[0].type == X86_OP_REG &&
			    is_bx(in->detail->x86.operands[0].reg) &&
			    in->detail->x86.operands[1].type == X86_OP_IMM) {
				bx_known = true;
				bx_imm = in->detail->x86.operands[1].imm;
			} else if (writes_bx(h, in)) {
				bx_known = false;
			}
		}
	}
	if (nfound == 0) {
		cp_seterr("no casgstatus(newg, _Gdead, ...) call found in runtime.newproc1");
		err = -ENOENT;
	} else if (nfound > 1) {
		cp_seterr("%d casgstatus(newg, _Gdead, ...) calls in runtime.newproc1, expected one",
			  nfound);
		err = -EMLINK;
	} else {
		*call = found;
	}
out:
	cs_free(in, 1);
	cs_close(&h);
	return err;
}

/* The bytes [D, D+SIZE) of a memory operand [RSP + D] overlap [SLOT, SLOT+8). */
static bool rsp_overlaps(const cs_x86_op *op, int64_t slot)
{
	int64_t d = op->mem.disp, n = op->size ? op->size : 8;

	return op->mem.base == X86_REG_RSP && d < slot + 8 && slot < d + n;
}

int lineage__find_callergp_slot(const uint8_t *code, size_t len, uint64_t vaddr, uint64_t call,
				int32_t *slot)
{
	const uint8_t *p = code;
	size_t left = len;
	uint64_t a = vaddr;
	int64_t depth = 0, body = -1, spill = -1, frame = 0;
	uint64_t spill_at = 0;
	bool bx_written = false, framed = false, call_ok = false;
	cs_insn *in = NULL;
	csh h;
	int err = 0;

	if (cs_open(CS_ARCH_X86, CS_MODE_64, &h) != CS_ERR_OK) {
		cp_seterr("cannot start the Capstone disassembler");
		return -ENOMEM;
	}
	cs_option(h, CS_OPT_DETAIL, CS_OPT_ON);
	in = cs_malloc(h);
	if (!in) {
		cs_close(&h);
		cp_seterr("out of memory");
		return -ENOMEM;
	}
	/*
	 * Pass 1, the prologue, straight-line from the entry: the stack check,
	 * the frame ("push rbp; mov rbp, rsp; sub rsp, N", or Go 1.19's
	 * "sub rsp, N; mov [rsp+N-8], rbp; lea rbp, [rsp+N-8]"), then the
	 * spill of callergp: "mov [rsp+X], rbx" while RBX still holds the
	 * argument, before any call and any branch after the frame is set.
	 */
	while (left && cs_disasm_iter(h, &p, &left, &a, in)) {
		const cs_x86 *x = &in->detail->x86;

		if (in->id == X86_INS_CALL || (framed && is_branch(h, in)))
			break;
		if (in->id == X86_INS_PUSH && !framed) {
			depth += 8;
			continue;
		}
		if (in->id == X86_INS_SUB && x->op_count == 2 && x->operands[0].type == X86_OP_REG &&
		    x->operands[0].reg == X86_REG_RSP && x->operands[1].type == X86_OP_IMM && !framed) {
			frame = x->operands[1].imm;
			depth += frame;
			framed = true;
			continue;
		}
		if (framed && in->id == X86_INS_MOV && x->op_count == 2 && x->operands[0].type == X86_OP_MEM &&
		    x->operands[0].mem.base == X86_REG_RSP && x->operands[0].mem.index == X86_REG_INVALID &&
		    x->operands[0].size == 8 && x->operands[1].type == X86_OP_REG &&
		    x->operands[1].reg == X86_REG_RBX && !bx_written) {
			spill = x->operands[0].mem.disp;
			spill_at = in->address;
			break;
		}
		if (writes_bx(h, in))
			bx_written = true;
	}
	if (spill < 0 || !framed || frame <= 0) {
		cp_seterr("runtime.newproc1 does not spill callergp (RBX) to its frame in the prologue");
		err = -ENOENT;
		goto out;
	}
	body = depth;
	/*
	 * Pass 2, the whole function: nothing else writes the slot or takes an
	 * address on the stack (lea [rsp+D]) that could reach it, and RSP
	 * changes only by the prologue's and epilogues' push/pop/sub/add N
	 * and calls, so at the casgstatus call RSP is the body's and the slot
	 * is [RSP + X]. A linear sweep: after a ret or jmp the next block is
	 * taken to run at the body's depth (Go lays out no other kind).
	 */
	p = code;
	left = len;
	a = vaddr;
	depth = 0;
	while (left && cs_disasm_iter(h, &p, &left, &a, in)) {
		const cs_x86 *x = &in->detail->x86;
		cs_regs rd, wr;
		uint8_t nrd, nwr;
		bool writes_rsp = false;

		if (in->address == call)
			call_ok = depth == body;
		for (int i = 0; i < x->op_count; i++) {
			const cs_x86_op *op = &x->operands[i];

			if (op->type != X86_OP_MEM || in->address == spill_at)
				continue;
			if (in->id == X86_INS_LEA && op->mem.base == X86_REG_RSP && op->mem.disp <= spill + 7 &&
			    depth == body) {
				cp_seterr("runtime.newproc1 takes a stack address at 0x%llx that may reach callergp's slot",
					  (unsigned long long)in->address);
				err = -EINVAL;
				goto out;
			}
			if ((op->access & CS_AC_WRITE) && depth == body && rsp_overlaps(op, spill)) {
				cp_seterr("runtime.newproc1 overwrites callergp's slot at 0x%llx",
					  (unsigned long long)in->address);
				err = -EINVAL;
				goto out;
			}
		}
		if (cs_regs_access(h, in, rd, &nrd, wr, &nwr) != CS_ERR_OK) {
			writes_rsp = true;
		} else {
			for (int i = 0; i < nwr; i++)
				if (wr[i] == X86_REG_RSP || wr[i] == X86_REG_ESP || wr[i] == X86_REG_SP)
					writes_rsp = true;
		}
		if (in->id == X86_INS_RET || in->id == X86_INS_JMP) {
			depth = body;
			continue;
		}
		if (!writes_rsp || in->id == X86_INS_CALL)
			continue;
		if (in->id == X86_INS_PUSH) {
			depth += 8;
		} else if (in->id == X86_INS_POP) {
			depth -= 8;
		} else if ((in->id == X86_INS_SUB || in->id == X86_INS_ADD) && x->op_count == 2 &&
			   x->operands[0].type == X86_OP_REG && x->operands[0].reg == X86_REG_RSP &&
			   x->operands[1].type == X86_OP_IMM && x->operands[1].imm == frame) {
			depth += in->id == X86_INS_SUB ? frame : -frame;
		} else {
			cp_seterr("runtime.newproc1 moves RSP at 0x%llx (%s %s)", (unsigned long long)in->address,
				  in->mnemonic, in->op_str);
			err = -EINVAL;
			goto out;
		}
	}
	if (!call_ok) {
		cp_seterr("RSP at the casgstatus call 0x%llx is not runtime.newproc1's body frame",
			  (unsigned long long)call);
		err = -EINVAL;
		goto out;
	}
	*slot = (int32_t)spill;
out:
	cs_free(in, 1);
	cs_close(&h);
	return err;
}

int lineage__plan(const char *path, struct lineage_plan *out)
{
	struct goelf *g = NULL;
	struct gopclntab *pt = NULL;
	struct gofunc np, cas;
	const uint8_t *code;
	uint64_t size, call = 0;
	int err;

	memset(out, 0, sizeof(*out));
	err = plan__open_go(path, &g, &pt);
	if (err)
		return err;
	err = plan__check_regabi(goelf__go_version(g), "goroutine lineage");
	if (err)
		goto out;
	if (gopclntab__find(pt, "runtime.newproc1", &np) ||
	    gopclntab__find(pt, "runtime.casgstatus", &cas)) {
		cp_seterr("no runtime.newproc1 or runtime.casgstatus in '%s'", path);
		err = -ENOENT;
		goto out;
	}
	err = plan__site(g, &np, PROBE_SERVE, &out->entry);
	if (err)
		goto out;
	size = np.end - np.entry;
	code = goelf__ptr(g, np.entry, size);
	if (!code) {
		cp_seterr("runtime.newproc1 is not backed by the file");
		err = -EFAULT;
		goto out;
	}
	err = lineage__find_newg_call(code, size, np.entry, cas.entry, &call);
	if (err)
		goto out;
	/* The same proofs as every other probe: boundary, emulated, in the file. */
	if (!retsites__is_boundary(code, size, np.entry, call) ||
	    !retsites__is_emulated(code, size, np.entry, call, out->newg.insn, sizeof(out->newg.insn))) {
		cp_seterr("casgstatus call at 0x%llx in runtime.newproc1 is not an emulated instruction boundary",
			  (unsigned long long)call);
		err = -EINVAL;
		goto out;
	}
	snprintf(out->newg.func, sizeof(out->newg.func), "%s", np.name);
	out->newg.kind = PROBE_SERVE;
	out->newg.entry = np.entry;
	out->newg.size = size;
	out->newg.addr = call;
	out->newg.once = true;
	out->newg.emulated = true;
	err = goelf__vaddr_to_offset(g, call, &out->newg.file_off);
	if (err) {
		cp_seterr("casgstatus call at 0x%llx is outside the executable segment",
			  (unsigned long long)call);
		goto out;
	}
	/* Not proven: the entry probe remembers callergp instead (two hits a goroutine). */
	out->callergp_sp = -1;
	if (lineage__find_callergp_slot(code, size, np.entry, call, &out->callergp_sp))
		out->callergp_sp = -1;
out:
	gopclntab__close(pt);
	goelf__close(g);
	return err;
}
