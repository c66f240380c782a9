/* SPDX-License-Identifier: MIT */
/*
 * lineage: where the goroutine-lineage probes of the CPU sampler go in
 * one Go binary (see bpf/cpu_sample.bpf.c): the prologue site of
 * runtime.newproc1, and its "call runtime.casgstatus" with oldval _Gdead,
 * where the new g is in RAX. Both are instructions the kernel emulates,
 * proven instruction boundaries; nothing here touches a process.
 */
#ifndef CPPROF_LINEAGE_H
#define CPPROF_LINEAGE_H

#include "plan.h"

struct lineage_plan {
	struct probe_site entry;  /* newproc1's prologue site (plan__site) */
	struct probe_site newg;   /* the casgstatus(newg, _Gdead, ...) call */
	/*
	 * Where callergp is at the newg call: [RSP + callergp_sp], the slot
	 * newproc1's prologue spills RBX to (lineage__find_callergp_slot).
	 * Then the newg probe alone follows a goroutine (one hit, not two);
	 * -1 when that is not proven, and the entry probe is needed.
	 */
	int32_t callergp_sp;
};

/*
 * Plan the lineage probes of the Go binary PATH. 0, or a negative errno
 * with cp_lasterr() saying why in one line (not a Go binary, no
 * runtime.newproc1, no or several casgstatus(_, _Gdead, _) calls, an
 * address that is not an emulated instruction boundary).
 */
int lineage__plan(const char *path, struct lineage_plan *out);

/*
 * The casgstatus(newg, _Gdead, ...) call in CODE (the LEN bytes of
 * newproc1 at VADDR), given casgstatus's entry: the one "call rel32" to
 * it whose EBX was last set to 6 (_Gdead, runtime2.go) by a mov in the
 * same straight-line run. 0 with *CALL set; -ENOENT (none) or -EMLINK
 * (several) with cp_lasterr() set. For tests and fuzzing.
 */
int lineage__find_newg_call(const uint8_t *code, size_t len, uint64_t vaddr,
			    uint64_t casgstatus, uint64_t *call);

/*
 * The slot runtime.newproc1 (CODE: LEN bytes at VADDR) keeps callergp in,
 * as [RSP + *SLOT] at the instruction CALL: its prologue stores RBX (the
 * callergp argument, still unwritten) there with a plain 8-byte mov, no
 * other instruction of the function writes those bytes or takes a stack
 * address below them, and RSP at CALL is the body's (only push/pop,
 * sub/add of the frame size and calls move it). 0, or -ENOENT / -EINVAL
 * with cp_lasterr() saying what was not proven. For tests and fuzzing.
 */
int lineage__find_callergp_slot(const uint8_t *code, size_t len, uint64_t vaddr, uint64_t call,
				int32_t *slot);

#endif
