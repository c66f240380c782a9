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
	if (err)
		cp_seterr("casgstatus call at 0x%llx is outside the executable segment",
			  (unsigned long long)call);
out:
	gopclntab__close(pt);
	goelf__close(g);
	return err;
}
