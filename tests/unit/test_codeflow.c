// SPDX-License-Identifier: MIT
/*
 * test_codeflow: the data-flow scan on small hand-assembled functions
 * (what each proves, and what must not prove anything), then on the real
 * handleStream of Debian's etcd 3.4 and sid's 3.5.30, where the stream
 * argument (RDI) is spilled and read back around calls before its method
 * is read inside an inlined Method().
 */
#include <stdlib.h>
#include <unistd.h>

#include <capstone/capstone.h>

#include "check.h"
#include "codeflow.h"
#include "goelf.h"
#include "gopclntab.h"
#include "log.h"
#include "plan.h"

#define BASE 0x401000

static struct codeflow fl;

static int scan(const uint8_t *code, size_t n, int reg)
{
	return codeflow__scan(code, n, BASE, reg, NULL, &fl);
}

static void test_small(void)
{
	/* spilled, a call clobbers every register, read back from the slot: still the argument */
	static const uint8_t spill[] = {
		0x48, 0x89, 0x7c, 0x24, 0x10,   /* mov [rsp+0x10], rdi */
		0xe8, 0x00, 0x00, 0x00, 0x00,   /* call next */
		0x48, 0x8b, 0x4c, 0x24, 0x10,   /* mov rcx, [rsp+0x10] */
		0x48, 0x8b, 0x41, 0x48,         /* mov rax, [rcx+0x48] */
		0xc3,                           /* ret */
	};
	/* the argument register overwritten before the read */
	static const uint8_t clobber[] = {
		0x48, 0x89, 0xc7,               /* mov rdi, rax */
		0x48, 0x8b, 0x47, 0x48,         /* mov rax, [rdi+0x48] */
		0xc3,
	};
	/* a read at a branch target: another path may arrive there with another RDI */
	static const uint8_t target[] = {
		0x48, 0x85, 0xc0,               /* test rax, rax */
		0x74, 0x01,                     /* je L */
		0x90,                           /* nop */
		0x48, 0x8b, 0x47, 0x08,         /* L: mov rax, [rdi+8] */
		0xc3,
	};
	/* a pointer loaded from the argument, then a 4-byte field of it: [[rcx]+0x28] */
	static const uint8_t chain[] = {
		0x48, 0x8b, 0x11,               /* mov rdx, [rcx] */
		0x8b, 0x42, 0x28,               /* mov eax, [rdx+0x28] */
		0x48, 0x83, 0x7f, 0x08, 0x00,   /* cmp qword [rdi+8], 0: not RCX's */
		0xc3,
	};
	/* the spill slot overwritten by another value */
	static const uint8_t reslot[] = {
		0x48, 0x89, 0x7c, 0x24, 0x10,   /* mov [rsp+0x10], rdi */
		0x48, 0x89, 0x44, 0x24, 0x10,   /* mov [rsp+0x10], rax */
		0x48, 0x8b, 0x4c, 0x24, 0x10,   /* mov rcx, [rsp+0x10] */
		0x48, 0x8b, 0x41, 0x48,         /* mov rax, [rcx+0x48] */
		0xc3,
	};
	/* the slot zeroed by a 16-byte store that starts 8 bytes before it */
	static const uint8_t zeroed[] = {
		0x48, 0x89, 0x7c, 0x24, 0x10,   /* mov [rsp+0x10], rdi */
		0x44, 0x0f, 0x11, 0x7c, 0x24, 0x08, /* movups [rsp+8], xmm15 */
		0x48, 0x8b, 0x4c, 0x24, 0x10,   /* mov rcx, [rsp+0x10] */
		0x48, 0x8b, 0x41, 0x48,         /* mov rax, [rcx+0x48] */
		0xc3,
	};
	/* stores through the argument are not reads of it */
	static const uint8_t stores[] = {
		0x48, 0x89, 0x47, 0x48,         /* mov [rdi+0x48], rax */
		0x0f, 0x11, 0x47, 0x50,         /* movups [rdi+0x50], xmm0 */
		0x48, 0x83, 0x7f, 0x08, 0x00,   /* cmp qword [rdi+8], 0: a read */
		0xc3,
	};
	/* an interface call's arguments: s.st.writeStatus(s, st) of grpc 1.69's wrapper */
	static const uint8_t iface[] = {
		0x48, 0x89, 0xd9,               /* mov rcx, rbx */
		0x48, 0x89, 0xc3,               /* mov rbx, rax */
		0xff, 0xd2,                     /* call rdx */
		0xc3,
	};
	int t;

	CHECK_INT(scan(iface, sizeof(iface), X86_REG_RAX), 0);
	CHECK(fl.ncalls == 1 && !fl.calls[0].callee && fl.calls[0].rbx_tag == CODEFLOW_ARG &&
	      fl.calls[0].rax_tag == CODEFLOW_ARG && fl.calls[0].rcx_tag == 0, "receiver passed in RBX (and still in RAX)");
	CHECK_INT(scan(iface, sizeof(iface), X86_REG_RBX), 0);
	CHECK(fl.ncalls == 1 && fl.calls[0].rcx_tag == CODEFLOW_ARG && fl.calls[0].rbx_tag == 0,
	      "status passed in RCX");

	CHECK_INT(scan(stores, sizeof(stores), X86_REG_RDI), 0);
	CHECK(!codeflow__reads(&fl, CODEFLOW_ARG, 0x48, 8) && !codeflow__reads(&fl, CODEFLOW_ARG, 0x50, 8),
	      "stores counted as reads");
	CHECK(codeflow__reads(&fl, CODEFLOW_ARG, 8, 8), "cmp [rdi+8], 0 reads");

	CHECK_INT(scan(zeroed, sizeof(zeroed), X86_REG_RDI), 0);
	CHECK_INT(fl.nreads, 0);

	CHECK_INT(scan(spill, sizeof(spill), X86_REG_RDI), 0);
	CHECK(codeflow__reads(&fl, CODEFLOW_ARG, 0x48, 8), "spilled RDI read back: %d reads", fl.nreads);
	CHECK_INT(fl.ncalls, 1);
	CHECK_INT(fl.calls[0].rax_tag, 0);
	CHECK_INT(scan(spill, sizeof(spill), X86_REG_EDI), 0); /* any width names the register */
	CHECK(codeflow__reads(&fl, CODEFLOW_ARG, 0x48, 8), "EDI as RDI");
	CHECK_INT(scan(spill, sizeof(spill), X86_REG_RSI), 0);
	CHECK_INT(fl.nreads, 0);

	CHECK_INT(scan(clobber, sizeof(clobber), X86_REG_RDI), 0);
	CHECK_INT(fl.nreads, 0);

	CHECK_INT(scan(target, sizeof(target), X86_REG_RDI), 0);
	CHECK_INT(fl.nreads, 0);

	CHECK_INT(scan(chain, sizeof(chain), X86_REG_RCX), 0);
	t = codeflow__tag(&fl, CODEFLOW_ARG, 0);
	CHECK(t > CODEFLOW_ARG, "[rcx] tagged");
	CHECK(codeflow__reads(&fl, t, 0x28, 4), "[[rcx]+0x28] read");
	CHECK(!codeflow__reads(&fl, CODEFLOW_ARG, 8, 8), "RDI's read is not RCX's");
	CHECK(!codeflow__reads(&fl, t, 0x28, 8), "a 4-byte read is not an 8-byte one");

	CHECK_INT(scan(reslot, sizeof(reslot), X86_REG_RDI), 0);
	CHECK_INT(fl.nreads, 0);

	CHECK(scan(NULL, 0, X86_REG_RDI) < 0, "no code");
	CHECK(scan(spill, sizeof(spill), 0) < 0, "no register");
}

/* handleStream reads the stream's method (D, D+8) through RDI inside an inlined Method() */
static void test_handle_stream(const char *path, int64_t d)
{
	struct gopclntab *pt = NULL;
	struct goelf *g = NULL;
	struct gofunc f;
	bool inl = false;
	int i, err;

	if (access(path, R_OK)) {
		CHECK(0, "%s missing: run 'make deps'", path);
		return;
	}
	err = plan__open_go(path, &g, &pt);
	CHECK(err == 0 && pt, "%s: %s", path, cp_lasterr());
	if (!pt)
		return;
	CHECK(gopclntab__find(pt, "google.golang.org/grpc.(*Server).handleStream", &f) == 0, "%s: handleStream", path);
	err = codeflow__scan(goelf__ptr(g, f.entry, f.end - f.entry), f.end - f.entry, f.entry, X86_REG_RDI, pt, &fl);
	CHECK_INT(err, 0);
	CHECK(codeflow__reads(&fl, CODEFLOW_ARG, d, 8) && codeflow__reads(&fl, CODEFLOW_ARG, d + 8, 8),
	      "%s: method read through RDI at %lld", path, (long long)d);
	for (i = 0; i < fl.nreads; i++)
		if (fl.reads[i].tag == CODEFLOW_ARG && fl.reads[i].inlined && fl.reads[i].disp >= d &&
		    fl.reads[i].disp <= d + 8 && strstr(fl.reads[i].frame, ").Method"))
			inl = true;
	CHECK(inl, "%s: inside an inlined Method()", path);
	/* the same function scanned from a register that is not the stream finds no such read */
	codeflow__scan(goelf__ptr(g, f.entry, f.end - f.entry), f.end - f.entry, f.entry, X86_REG_RSI, pt, &fl);
	for (i = 0, inl = false; i < fl.nreads; i++)
		if (fl.reads[i].tag == CODEFLOW_ARG && strstr(fl.reads[i].frame, ").Method"))
			inl = true;
	CHECK(!inl, "%s: RSI is not the stream", path);
	gopclntab__close(pt);
	goelf__close(g);
}

int main(void)
{
	test_small();
	test_handle_stream("/usr/bin/etcd", 0x48);
	test_handle_stream("/var/cache/cpprof/etcd-sid/usr/bin/etcd", 0x10);
	CHECK_INT(codeflow_reg64(X86_REG_R9B), X86_REG_R9);
	CHECK_INT(codeflow_reg64(X86_REG_AH), X86_REG_RAX);
	return check_summary("codeflow");
}
