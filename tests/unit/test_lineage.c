// SPDX-License-Identifier: MIT
/*
 * Unit tests of lineage.c: the goroutine-lineage probe sites in
 * runtime.newproc1 of every fixture (each Go toolchain, stripped, cgo),
 * checked against GNU objdump's disassembly of the same bytes (an
 * independent decoder): the newg site is the one "call" to
 * runtime.casgstatus after "mov $0x6,%ebx"; and hand-made code that must
 * be refused (no such call, two of them, a jump target between the mov and
 * the call).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check.h"
#include "fixtures.h"
#include "goelf.h"
#include "gopclntab.h"
#include "lineage.h"
#include "log.h"

#define MAX_FX 64

/*
 * objdump's answer: the address of the call to CAS inside [START, END)
 * whose nearest preceding instruction writing %ebx is "mov $0x6,%ebx"
 * with no instruction between them that objdump marks as a jump; 0 if
 * none, -1 if several.
 */
static long long objdump_newg(const char *path, uint64_t start, uint64_t end, uint64_t cas)
{
	char cmd[8192], line[512], want[64], want0x[64];
	long long found = 0;
	int bx6 = 0;
	FILE *f;

	snprintf(cmd, sizeof(cmd),
		 "objdump -d --no-show-raw-insn --start-address=0x%llx --stop-address=0x%llx '%s'",
		 (unsigned long long)start, (unsigned long long)end, path);
	/* "call   439620 <runtime.casgstatus>", or "call   0x439620" without symbols */
	snprintf(want, sizeof(want), "call   %llx", (unsigned long long)cas);
	snprintf(want0x, sizeof(want0x), "call   0x%llx", (unsigned long long)cas);
	f = popen(cmd, "r");
	if (!f)
		return -2;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long addr;
		char *insn = strchr(line, ':');

		if (!insn || sscanf(line, " %llx:", &addr) != 1)
			continue;
		insn++;
		while (*insn == ' ' || *insn == '\t')
			insn++;
		if (strncmp(insn, "mov    $0x6,%ebx", 16) == 0) {
			bx6 = 1;
		} else if (strncmp(insn, want, strlen(want)) == 0 ||
			   strncmp(insn, want0x, strlen(want0x)) == 0) {
			if (bx6)
				found = found ? -1 : (long long)addr;
			bx6 = 0;
		} else if (insn[0] == 'j' || strncmp(insn, "call", 4) == 0 || strncmp(insn, "ret", 3) == 0 ||
			   strstr(insn, "%ebx") || strstr(insn, "%rbx") || strstr(insn, "%bl") ||
			   strstr(insn, "%bx")) {
			/* objdump prints the destination last: ", %ebx" means a write */
			const char *comma = strrchr(insn, ',');

			if (insn[0] == 'j' || strncmp(insn, "call", 4) == 0 || strncmp(insn, "ret", 3) == 0 ||
			    (comma && (strstr(comma, "%ebx") || strstr(comma, "%rbx") ||
				       strstr(comma, "%bl") || strstr(comma, "%bx"))) ||
			    strncmp(insn, "xor    %ebx,%ebx", 16) == 0)
				bx6 = 0;
		}
	}
	pclose(f);
	return found;
}

/*
 * objdump's answer for callergp's slot: the displacement of the first
 * "mov %rbx,0xNN(%rsp)" in [START, END) before any call, or -1.
 */
static long long objdump_spill(const char *path, uint64_t start, uint64_t end)
{
	char cmd[8192], line[512];
	long long disp = -1;
	FILE *f;

	snprintf(cmd, sizeof(cmd),
		 "objdump -d --no-show-raw-insn --start-address=0x%llx --stop-address=0x%llx '%s'",
		 (unsigned long long)start, (unsigned long long)end, path);
	f = popen(cmd, "r");
	if (!f)
		return -2;
	while (fgets(line, sizeof(line), f)) {
		char *insn = strchr(line, ':');
		unsigned long long d;

		if (!insn || disp >= 0)
			continue;
		insn++;
		while (*insn == ' ' || *insn == '\t')
			insn++;
		if (strncmp(insn, "call", 4) == 0)
			break;
		if (sscanf(insn, "mov %%rbx,0x%llx(%%rsp)", &d) == 1)
			disp = (long long)d;
	}
	pclose(f);
	return disp;
}

static void test_fixtures(void)
{
	struct fixture fx[MAX_FX];
	const char *dir;
	int n = load_fixtures(&dir, fx, MAX_FX);

	for (int i = 0; i < n; i++) {
		char path[6600];
		struct lineage_plan lp;
		struct goelf *g;
		struct gopclntab *pt;
		struct gofunc np, cas;
		int err;
		long long want;

		snprintf(path, sizeof(path), "%s/%.127s", dir, fx[i].file);
		err = lineage__plan(path, &lp);
		CHECK(err == 0, "%s: lineage__plan: %s", fx[i].file, cp_lasterr());
		if (err)
			continue;
		g = goelf__open(path, &err);
		pt = g ? gopclntab__open(g, &err) : NULL;
		CHECK(pt != NULL, "%s: cannot reopen", fx[i].file);
		if (!pt) {
			goelf__close(g);
			continue;
		}
		CHECK(gopclntab__find(pt, "runtime.newproc1", &np) == 0, "%s: newproc1", fx[i].file);
		CHECK(gopclntab__find(pt, "runtime.casgstatus", &cas) == 0, "%s: casgstatus", fx[i].file);
		want = objdump_newg(path, np.entry, np.end, cas.entry);
		CHECK(want > 0 && (uint64_t)want == lp.newg.addr,
		      "%s: newg site 0x%llx, objdump says 0x%llx", fx[i].file,
		      (unsigned long long)lp.newg.addr, want);
		CHECK(lp.newg.emulated && strncmp(lp.newg.insn, "call", 4) == 0,
		      "%s: newg site is an emulated call (%s)", fx[i].file, lp.newg.insn);
		CHECK(lp.entry.emulated && lp.entry.addr >= np.entry && lp.entry.addr < np.end,
		      "%s: entry site inside newproc1 and emulated (%s)", fx[i].file, lp.entry.insn);
		CHECK(lp.newg.file_off > 0 && lp.entry.file_off > 0, "%s: file offsets", fx[i].file);
		want = objdump_spill(path, np.entry, np.end);
		CHECK(lp.callergp_sp >= 0 && lp.callergp_sp == want,
		      "%s: callergp slot [rsp+0x%x], objdump's prologue spills rbx to 0x%llx", fx[i].file,
		      (unsigned)lp.callergp_sp, want);
		gopclntab__close(pt);
		goelf__close(g);
	}
}

/* Hand-made code at 0x1000 calling "casgstatus" at 0x2000. */
static void test_synthetic(void)
{
	/* mov ebx,6; mov ecx,1; call 0x2000 */
	static const uint8_t one[] = { 0xbb, 6, 0, 0, 0, 0xb9, 1, 0, 0, 0,
				       0xe8, 0xf1, 0x0f, 0, 0 };
	/* xor ebx,ebx; mov ecx,6; call 0x2000 (the malg'd g: _Gidle -> _Gdead) */
	static const uint8_t idle[] = { 0x31, 0xdb, 0xb9, 6, 0, 0, 0, 0xe8, 0xf4, 0x0f, 0, 0 };
	/* mov ebx,6; call 0x2000; mov ebx,6; call 0x2000: two candidates */
	static const uint8_t two[] = { 0xbb, 6, 0, 0, 0, 0xe8, 0xf6, 0x0f, 0, 0,
				       0xbb, 6, 0, 0, 0, 0xe8, 0xec, 0x0f, 0, 0 };
	/* mov ebx,6; jmp +0 (lands on the call: a join point); call 0x2000 */
	static const uint8_t join[] = { 0xbb, 6, 0, 0, 0, 0xeb, 0x00, 0xe8, 0xf4, 0x0f, 0, 0 };
	/* mov ebx,6; mov ebx,eax (overwritten); call 0x2000 */
	static const uint8_t over[] = { 0xbb, 6, 0, 0, 0, 0x89, 0xc3, 0xe8, 0xf4, 0x0f, 0, 0 };
	uint64_t call = 0;

	CHECK_INT(lineage__find_newg_call(one, sizeof(one), 0x1000, 0x2000, &call), 0);
	CHECK_INT(call, 0x100a);
	CHECK_INT(lineage__find_newg_call(idle, sizeof(idle), 0x1000, 0x2000, &call), -ENOENT);
	CHECK_INT(lineage__find_newg_call(two, sizeof(two), 0x1000, 0x2000, &call), -EMLINK);
	CHECK_INT(lineage__find_newg_call(join, sizeof(join), 0x1000, 0x2000, &call), -ENOENT);
	CHECK_INT(lineage__find_newg_call(over, sizeof(over), 0x1000, 0x2000, &call), -ENOENT);
	CHECK_INT(lineage__find_newg_call(one, sizeof(one), 0x1000, 0x3000, &call), -ENOENT);
	CHECK_INT(lineage__find_newg_call(one, 0, 0x1000, 0x2000, &call), -ENOENT);
}

/*
 * Hand-made newproc1 shapes at 0x1000 for lineage__find_callergp_slot:
 * push rbp; mov rbp,rsp; sub rsp,0x50; [spill]; [body]; mov ebx,6;
 * call; add rsp,0x50; pop rbp; ret.
 */
static int slot_of(const uint8_t *spill, size_t nspill, const uint8_t *body, size_t nbody, int32_t *slot)
{
	static const uint8_t pro[] = { 0x55, 0x48, 0x89, 0xe5, 0x48, 0x83, 0xec, 0x50 };
	static const uint8_t tail[] = { 0xbb, 6, 0, 0, 0, 0xe8, 0, 0, 0, 0,
					0x48, 0x83, 0xc4, 0x50, 0x5d, 0xc3 };
	uint8_t code[128];
	size_t n = 0;

	memcpy(code + n, pro, sizeof(pro));
	n += sizeof(pro);
	memcpy(code + n, spill, nspill);
	n += nspill;
	if (nbody)
		memcpy(code + n, body, nbody);
	n += nbody;
	memcpy(code + n, tail, sizeof(tail));
	*slot = -1;
	return lineage__find_callergp_slot(code, n + sizeof(tail), 0x1000, 0x1000 + n + 5, slot);
}

static void test_callergp_slot(void)
{
	static const uint8_t spill[] = { 0x48, 0x89, 0x5c, 0x24, 0x68 };    /* mov [rsp+0x68],rbx */
	static const uint8_t spill_rcx[] = { 0x48, 0x89, 0x4c, 0x24, 0x68 }; /* mov [rsp+0x68],rcx */
	/* mov ebx,1; mov [rsp+0x68],rbx: RBX is no longer callergp */
	static const uint8_t late[] = { 0xbb, 1, 0, 0, 0, 0x48, 0x89, 0x5c, 0x24, 0x68 };
	static const uint8_t over[] = { 0x48, 0x89, 0x44, 0x24, 0x68 };     /* mov [rsp+0x68],rax */
	static const uint8_t over4[] = { 0x89, 0x44, 0x24, 0x6c };          /* mov [rsp+0x6c],eax */
	static const uint8_t near[] = { 0x48, 0x89, 0x44, 0x24, 0x70 };     /* mov [rsp+0x70],rax */
	static const uint8_t lea[] = { 0x48, 0x8d, 0x44, 0x24, 0x20 };      /* lea rax,[rsp+0x20] */
	static const uint8_t push[] = { 0x50 };                             /* push rax */
	static const uint8_t mov_rsp[] = { 0x48, 0x89, 0xc4 };              /* mov rsp,rax */
	int32_t slot;

	CHECK_INT(slot_of(spill, sizeof(spill), NULL, 0, &slot), 0);
	CHECK_INT(slot, 0x68);
	CHECK_INT(slot_of(spill, sizeof(spill), near, sizeof(near), &slot), 0);
	CHECK_INT(slot, 0x68);
	CHECK_INT(slot_of(spill_rcx, sizeof(spill_rcx), NULL, 0, &slot), -ENOENT);
	CHECK_INT(slot_of(late, sizeof(late), NULL, 0, &slot), -ENOENT);
	CHECK_INT(slot_of(spill, sizeof(spill), over, sizeof(over), &slot), -EINVAL);
	CHECK_INT(slot_of(spill, sizeof(spill), over4, sizeof(over4), &slot), -EINVAL);
	CHECK_INT(slot_of(spill, sizeof(spill), lea, sizeof(lea), &slot), -EINVAL);
	CHECK_INT(slot_of(spill, sizeof(spill), push, sizeof(push), &slot), -EINVAL);
	CHECK_INT(slot_of(spill, sizeof(spill), mov_rsp, sizeof(mov_rsp), &slot), -EINVAL);
	CHECK_INT(slot, -1);
}

static void test_refusals(void)
{
	struct lineage_plan lp;

	CHECK(lineage__plan("/bin/sh", &lp) < 0, "a C binary is refused");
	CHECK(strstr(cp_lasterr(), "Go") != NULL || strstr(cp_lasterr(), "pclntab") != NULL,
	      "says why: %s", cp_lasterr());
	CHECK(lineage__plan("/nonexistent/x", &lp) < 0, "a missing file is refused");
}

int main(void)
{
	test_synthetic();
	test_callergp_slot();
	test_refusals();
	test_fixtures();
	return check_summary("test_lineage");
}
