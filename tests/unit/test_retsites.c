// SPDX-License-Identifier: MIT
/*
 * test_retsites: Capstone-based probe planning on hand-assembled Go
 * prologues (bytes taken from go tool objdump of real binaries) and on
 * the net/http functions of every unstripped Go fixture.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "fixtures.h"
#include "log.h"
#include "retsites.h"

#define BASE 0x401000ULL

static void test_small_frame(void)
{
	/* net/http.serverHandler.ServeHTTP, go1.23, shortened body */
	static const uint8_t code[] = {
		0x49, 0x3b, 0x66, 0x10,             /* 0:  cmp rsp, [r14+0x10] */
		0x76, 0x06,                         /* 4:  jbe 0x0c */
		0x55,                               /* 6:  push rbp */
		0x48, 0x89, 0xe5,                   /* 7:  mov rbp, rsp */
		0x5d,                               /* a:  pop rbp */
		0xc3,                               /* b:  ret */
		0xe8, 0x00, 0x00, 0x00, 0x00,       /* c:  call morestack_noctxt */
		0xeb, 0xed,                         /* 11: jmp 0x0 */
		0xcc, 0xcc, 0xcc,                   /* 13: int3 padding */
	};
	struct func_layout fl;
	char text[64];

	CHECK_INT(retsites__analyze(code, sizeof(code), BASE, &fl), 0);
	CHECK(fl.go_prologue, "small frame prologue not found");
	CHECK_INT(fl.stack_check_jcc, BASE + 4);
	CHECK_INT(fl.morestack, BASE + 0xc);
	CHECK_INT(fl.nret, 1);
	CHECK_INT(fl.rets[0], BASE + 0xb);
	CHECK_INT(fl.ninsns, 8);
	CHECK_INT(fl.end, BASE + 0x13);
	CHECK(fl.complete, "int3 padding is not an error");
	CHECK(!fl.g_from_tls, "g is in r14");

	CHECK(retsites__is_boundary(code, sizeof(code), BASE, BASE), "entry");
	CHECK(!retsites__is_boundary(code, sizeof(code), BASE, BASE + 1), "entry+1");
	CHECK(retsites__is_boundary(code, sizeof(code), BASE, BASE + 4), "jbe");
	CHECK(!retsites__is_boundary(code, sizeof(code), BASE, BASE + 0x13), "padding");
	CHECK(!retsites__is_boundary(code, sizeof(code), BASE, BASE + sizeof(code)), "past end");
	CHECK(!retsites__is_boundary(code, sizeof(code), BASE, BASE - 1), "before entry");

	CHECK(retsites__is_emulated(code, sizeof(code), BASE, BASE + 4, text, sizeof(text)), "jbe");
	CHECK_STR(text, "jbe 0x40100c");
	CHECK(!retsites__is_emulated(code, sizeof(code), BASE, BASE, text, sizeof(text)), "cmp");
	CHECK_STR(text, "cmp rsp, qword ptr [r14 + 0x10]");
	CHECK(retsites__is_emulated(code, sizeof(code), BASE, BASE + 6, NULL, 0), "push rbp");
	CHECK(!retsites__is_emulated(code, sizeof(code), BASE, BASE + 0xb, NULL, 0), "ret");
	CHECK(retsites__is_emulated(code, sizeof(code), BASE, BASE + 0xc, NULL, 0), "call rel32");
	CHECK(retsites__is_emulated(code, sizeof(code), BASE, BASE + 0x11, NULL, 0), "jmp rel8");
	CHECK(!retsites__is_emulated(code, sizeof(code), BASE, BASE + 1, text, sizeof(text)),
	      "not a boundary");
	CHECK_STR(text, "");
}

static void test_big_frame(void)
{
	static const uint8_t code[] = {
		0x4c, 0x8d, 0x64, 0x24, 0xe8,       /* 0:  lea r12, [rsp-0x18] */
		0x4d, 0x3b, 0x66, 0x10,             /* 5:  cmp r12, [r14+0x10] */
		0x0f, 0x86, 0x09, 0x00, 0x00, 0x00, /* 9:  jbe 0x18 */
		0x55,                               /* f:  push rbp */
		0x48, 0x89, 0xe5,                   /* 10: mov rbp, rsp */
		0x5d,                               /* 13: pop rbp */
		0xc3,                               /* 14: ret */
		0x5d,                               /* 15: pop rbp */
		0xc2, 0x08, 0x00,                   /* 16: ret 8 */
	};
	/* a second layout with the morestack block after two RETs */
	static const uint8_t code2[] = {
		0x4c, 0x8d, 0x64, 0x24, 0xe8,       /* 0:  lea r12, [rsp-0x18] */
		0x4d, 0x3b, 0x66, 0x10,             /* 5:  cmp r12, [r14+0x10] */
		0x0f, 0x86, 0x0c, 0x00, 0x00, 0x00, /* 9:  jbe 0x1b */
		0x55,                               /* f:  push rbp */
		0x48, 0x89, 0xe5,                   /* 10: mov rbp, rsp */
		0x74, 0x02,                         /* 13: je 0x17 */
		0x5d,                               /* 15: pop rbp */
		0xc3,                               /* 16: ret */
		0x5d,                               /* 17: pop rbp */
		0xc2, 0x08, 0x00,                   /* 18: ret 8 */
		0xe8, 0x00, 0x00, 0x00, 0x00,       /* 1b: call morestack */
		0xe9, 0xdb, 0xff, 0xff, 0xff,       /* 20: jmp 0x0 */
	};
	struct func_layout fl;

	/* code: jbe points at 0x18, inside "ret 8": not Go's prologue */
	CHECK_INT(retsites__analyze(code, sizeof(code), BASE, &fl), 0);
	CHECK(!fl.go_prologue, "jbe into the middle of an instruction");
	CHECK_INT(fl.nret, 2);

	{
		const uint8_t *c = code2;

		CHECK_INT(retsites__analyze(c, sizeof(code2), BASE, &fl), 0);
		CHECK(fl.go_prologue, "big frame prologue not found");
		CHECK_INT(fl.stack_check_jcc, BASE + 9);
		CHECK_INT(fl.nret, 2);
		CHECK_INT(fl.rets[1], BASE + 0x18);
		CHECK(fl.complete, "complete");
		CHECK(retsites__is_emulated(c, sizeof(code2), BASE, BASE + 9, NULL, 0), "jbe rel32");
		CHECK(!retsites__is_emulated(c, sizeof(code2), BASE, BASE, NULL, 0), "lea");
		CHECK(!retsites__is_emulated(c, sizeof(code2), BASE, BASE + 0x18, NULL, 0), "ret imm16");
	}
}

static void test_huge_frame(void)
{
	/* main.huge (20000-byte local), go1.23 */
	static const uint8_t code[] = {
		0x49, 0x89, 0xe4,                         /* 0:  mov r12, rsp */
		0x49, 0x81, 0xec, 0xb8, 0x4d, 0x00, 0x00, /* 3:  sub r12, 0x4db8 */
		0x72, 0x0a,                               /* a:  jb 0x16 */
		0x4d, 0x3b, 0x66, 0x10,                   /* c:  cmp r12, [r14+0x10] */
		0x76, 0x04,                               /* 10: jbe 0x16 */
		0x55,                                     /* 12: push rbp */
		0x48, 0x89, 0xe5,                         /* 13: mov rbp, rsp */
		0xe8, 0x00, 0x00, 0x00, 0x00,             /* 16: call morestack */
		0xeb, 0xe3,                               /* 1b: jmp 0x0 */
	};
	struct func_layout fl;

	CHECK_INT(retsites__analyze(code, sizeof(code), BASE, &fl), 0);
	CHECK(fl.go_prologue, "huge frame prologue not found");
	CHECK_INT(fl.stack_check_jcc, BASE + 0x10);
	CHECK_INT(fl.nret, 0);
}

static void test_tls_prologue(void)
{
	/* Go <= 1.16: g from TLS into rcx */
	static const uint8_t code[] = {
		0x64, 0x48, 0x8b, 0x0c, 0x25, 0xf8, 0xff, 0xff, 0xff, /* 0: mov rcx, fs:[-8] */
		0x48, 0x3b, 0x61, 0x10,                               /* 9: cmp rsp, [rcx+0x10] */
		0x76, 0x01,                                           /* d: jbe 0x10 */
		0xc3,                                                 /* f: ret */
		0xe8, 0x00, 0x00, 0x00, 0x00,                         /* 10: call morestack */
		0xeb, 0xe9,                                           /* 15: jmp 0x0 */
	};
	/* Go 1.16 huge frame with the StackPreempt compare */
	static const uint8_t old_huge[] = {
		0x64, 0x48, 0x8b, 0x0c, 0x25, 0xf8, 0xff, 0xff, 0xff, /* 0:  mov rcx, fs:[-8] */
		0x48, 0x8b, 0x71, 0x10,                               /* 9:  mov rsi, [rcx+0x10] */
		0x48, 0x81, 0xfe, 0xde, 0xfa, 0xff, 0xff,             /* d:  cmp rsi, -0x522 */
		0x74, 0x14,                                           /* 14: je 0x2a */
		0x48, 0x8d, 0x84, 0x24, 0x70, 0x03, 0x00, 0x00,       /* 16: lea rax, [rsp+0x370] */
		0x48, 0x29, 0xf0,                                     /* 1e: sub rax, rsi */
		0x48, 0x3d, 0x00, 0x50, 0x00, 0x00,                   /* 21: cmp rax, 0x5000 */
		0x76, 0x01,                                           /* 27: jbe 0x2a */
		0xc3,                                                 /* 29: ret */
		0xe8, 0x00, 0x00, 0x00, 0x00,                         /* 2a: call morestack */
		0xeb, 0xcf,                                           /* 2f: jmp 0x0 */
	};
	struct func_layout fl;

	CHECK_INT(retsites__analyze(code, sizeof(code), BASE, &fl), 0);
	CHECK(fl.go_prologue, "TLS prologue not found");
	CHECK(fl.g_from_tls, "g from TLS");
	CHECK_INT(fl.stack_check_jcc, BASE + 0xd);

	CHECK_INT(retsites__analyze(old_huge, sizeof(old_huge), BASE, &fl), 0);
	CHECK(fl.go_prologue, "old huge-frame prologue not found");
	CHECK_INT(fl.stack_check_jcc, BASE + 0x27);
}

static void test_nosplit_and_invalid(void)
{
	/* a NOSPLIT leaf: no stack check */
	static const uint8_t leaf[] = {
		0x48, 0x8b, 0x44, 0x24, 0x08, /* mov rax, [rsp+8] */
		0x48, 0x85, 0xc0,             /* test rax, rax */
		0x74, 0x01,                   /* je +1 */
		0xc3,                         /* ret */
		0x31, 0xc0,                   /* xor eax, eax */
		0xc3,                         /* ret */
		0xcc, 0xcc,
	};
	/* a compare against [r14+0x10] that is not followed by jbe */
	static const uint8_t notgo[] = {
		0x49, 0x3b, 0x66, 0x10, /* cmp rsp, [r14+0x10] */
		0x90,                   /* nop */
		0xc3,
	};
	/* 0x06 is invalid in 64-bit mode */
	static const uint8_t bad[] = { 0x55, 0x48, 0x89, 0xe5, 0x06, 0xc3 };
	struct func_layout fl;

	CHECK_INT(retsites__analyze(leaf, sizeof(leaf), BASE, &fl), 0);
	CHECK(!fl.go_prologue, "leaf has no prologue");
	CHECK_INT(fl.stack_check_jcc, 0);
	CHECK_INT(fl.nret, 2);
	CHECK(fl.complete, "leaf complete");

	CHECK_INT(retsites__analyze(notgo, sizeof(notgo), BASE, &fl), 0);
	CHECK(!fl.go_prologue, "no jbe, no prologue");

	CHECK_INT(retsites__analyze(bad, sizeof(bad), BASE, &fl), 0);
	CHECK(!fl.complete, "invalid byte stops decoding");
	CHECK_INT(fl.ninsns, 2);
	CHECK(!retsites__is_boundary(bad, sizeof(bad), BASE, BASE + 5), "after invalid byte");

	CHECK_INT(retsites__analyze(bad + 4, 1, BASE, &fl), -EINVAL);
	CHECK_INT(retsites__analyze(NULL, 0, BASE, &fl), -EINVAL);
	CHECK(!retsites__is_boundary(NULL, 0, BASE, BASE), "no code");
}

/* Instruction classes per arch/x86/kernel/uprobes.c (Linux 6.18). */
static void test_uprobe_classes(void)
{
	static const struct {
		uint8_t b[12];
		int len;
		enum uprobe_insn_class want;
		const char *what;
	} t[] = {
		{ { 0x90 }, 1, UPROBE_INSN_EMULATED, "nop" },
		{ { 0x66, 0x90 }, 2, UPROBE_INSN_EMULATED, "xchg ax,ax nop" },
		{ { 0x0f, 0x1f, 0x00 }, 3, UPROBE_INSN_EMULATED, "nop3" },
		{ { 0x0f, 0x1f, 0x40, 0x00 }, 4, UPROBE_INSN_EMULATED, "nop4" },
		{ { 0x0f, 0x1f, 0x44, 0x00, 0x00 }, 5, UPROBE_INSN_EMULATED, "nop5" },
		{ { 0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00 }, 6, UPROBE_INSN_EMULATED, "nop6" },
		{ { 0x0f, 0x1f, 0x80, 0, 0, 0, 0 }, 7, UPROBE_INSN_EMULATED, "nop7" },
		{ { 0x0f, 0x1f, 0x84, 0, 0, 0, 0, 0 }, 8, UPROBE_INSN_EMULATED, "nop8" },
		{ { 0x66, 0x0f, 0x1f, 0x84, 0, 0, 0, 0, 0 }, 9, UPROBE_INSN_SINGLESTEP,
		  "Go's nop9 is not one of the kernel's x86_nops" },
		{ { 0x0f, 0x1f, 0x40, 0x08 }, 4, UPROBE_INSN_SINGLESTEP, "nopl 8(rax)" },
		{ { 0x2e, 0x0f, 0x1f, 0x84, 0, 0, 0, 0, 0 }, 9, UPROBE_INSN_REJECTED, "cs nop" },
		{ { 0x55 }, 1, UPROBE_INSN_EMULATED, "push rbp" },
		{ { 0x41, 0x56 }, 2, UPROBE_INSN_EMULATED, "push r14" },
		{ { 0x48, 0x50 }, 2, UPROBE_INSN_SINGLESTEP, "rex.w push rax" },
		{ { 0x66, 0x50 }, 2, UPROBE_INSN_SINGLESTEP, "push ax" },
		{ { 0xe8, 1, 0, 0, 0 }, 5, UPROBE_INSN_EMULATED, "call rel32" },
		{ { 0xe9, 1, 0, 0, 0 }, 5, UPROBE_INSN_EMULATED, "jmp rel32" },
		{ { 0xeb, 0x02 }, 2, UPROBE_INSN_EMULATED, "jmp rel8" },
		{ { 0x76, 0x02 }, 2, UPROBE_INSN_EMULATED, "jbe rel8" },
		{ { 0x0f, 0x84, 1, 0, 0, 0 }, 6, UPROBE_INSN_EMULATED, "je rel32" },
		{ { 0x3e, 0x74, 0x02 }, 3, UPROBE_INSN_REJECTED, "ds (branch hint) je" },
		{ { 0x66, 0xe9, 1, 0 }, 4, UPROBE_INSN_REJECTED, "jmpw" },
		{ { 0xf0, 0x48, 0x0f, 0xb1, 0x11 }, 5, UPROBE_INSN_REJECTED, "lock cmpxchg" },
		{ { 0xcc }, 1, UPROBE_INSN_REJECTED, "int3" },
		{ { 0xf4 }, 1, UPROBE_INSN_REJECTED, "hlt" },
		{ { 0x8e, 0xd0 }, 2, UPROBE_INSN_REJECTED, "mov ss, eax" },
		{ { 0xc3 }, 1, UPROBE_INSN_SINGLESTEP, "ret" },
		{ { 0x49, 0x3b, 0x66, 0x10 }, 4, UPROBE_INSN_SINGLESTEP, "cmp rsp, [r14+0x10]" },
		{ { 0x4c, 0x8d, 0x64, 0x24, 0xe8 }, 5, UPROBE_INSN_SINGLESTEP, "lea r12" },
		{ { 0x48, 0x89, 0xe5 }, 3, UPROBE_INSN_SINGLESTEP, "mov rbp, rsp" },
		{ { 0xff, 0xd0 }, 2, UPROBE_INSN_SINGLESTEP, "call rax" },
		{ { 0x0f, 0x05 }, 2, UPROBE_INSN_SINGLESTEP, "syscall" },
		{ { 0x64, 0x48, 0x8b, 0x0c, 0x25, 0xf8, 0xff, 0xff, 0xff }, 9,
		  UPROBE_INSN_SINGLESTEP, "fs: load" },
		{ { 0xc5, 0xfe, 0x6f, 0x06 }, 4, UPROBE_INSN_REJECTED,
		  "vmovdqu: OPCODE1 6f is not in good_insns_64" },
	};
	uint8_t buf[512];
	uint64_t addr[64];
	size_t n = 0, i;

	/* all in one function, so each is reached by linear decode */
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		addr[i] = BASE + n;
		memcpy(buf + n, t[i].b, t[i].len);
		n += t[i].len;
	}
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char text[64];
		enum uprobe_insn_class c;

		CHECK(retsites__is_boundary(buf, n, BASE, addr[i]), "%s is a boundary", t[i].what);
		c = retsites__uprobe_class(buf, n, BASE, addr[i], text, sizeof(text));
		CHECK(c == t[i].want, "%s (%s): got %s, want %s", t[i].what, text,
		      uprobe_insn_class__str(c), uprobe_insn_class__str(t[i].want));
		CHECK(retsites__is_emulated(buf, n, BASE, addr[i], NULL, 0) ==
		      (t[i].want == UPROBE_INSN_EMULATED), "%s: is_emulated", t[i].what);
	}
}

/* ---- fixtures: real functions found through the ELF symbol table ---- */

struct elfbin {
	int fd;
	Elf *e;
};

static int elfbin_open(struct elfbin *b, const char *path)
{
	b->fd = open(path, O_RDONLY);
	if (b->fd < 0)
		return -errno;
	b->e = elf_begin(b->fd, ELF_C_READ, NULL);
	if (!b->e) {
		close(b->fd);
		return -EINVAL;
	}
	return 0;
}

static void elfbin_close(struct elfbin *b)
{
	elf_end(b->e);
	close(b->fd);
}

/* Function bytes for symbol NAME from .symtab; malloc'd into *code. */
static int elfbin_func(struct elfbin *b, const char *name, uint8_t **code, size_t *len,
		       uint64_t *vaddr)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;

	if (elf_getshdrstrndx(b->e, &shstrndx))
		return -EINVAL;
	while ((scn = elf_nextscn(b->e, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;
		size_t i, n;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB)
			continue;
		d = elf_getdata(scn, NULL);
		n = sh.sh_entsize ? sh.sh_size / sh.sh_entsize : 0;
		for (i = 0; d && i < n; i++) {
			GElf_Sym s;
			const char *nm;
			Elf_Scn *ts;
			GElf_Shdr tsh;
			Elf_Data *td;

			if (!gelf_getsym(d, i, &s) || GELF_ST_TYPE(s.st_info) != STT_FUNC)
				continue;
			nm = elf_strptr(b->e, sh.sh_link, s.st_name);
			if (!nm || strcmp(nm, name))
				continue;
			ts = elf_getscn(b->e, s.st_shndx);
			if (!ts || !gelf_getshdr(ts, &tsh) || !(td = elf_getdata(ts, NULL)))
				return -EINVAL;
			if (s.st_value < tsh.sh_addr || s.st_value + s.st_size > tsh.sh_addr + td->d_size)
				return -EINVAL;
			*len = s.st_size;
			*vaddr = s.st_value;
			*code = malloc(*len);
			if (!*code)
				return -ENOMEM;
			memcpy(*code, (uint8_t *)td->d_buf + (s.st_value - tsh.sh_addr), *len);
			return 0;
		}
	}
	return -ENOENT;
}

static const char *const http_funcs[] = {
	"net/http.serverHandler.ServeHTTP",
	"net/http.(*response).finishRequest",
	"net/http.(*response).WriteHeader",
	"net/http.(*http2responseWriter).handlerDone",
	"net/http.(*http2responseWriter).WriteHeader",
};

static void test_fixture(const char *path)
{
	struct elfbin b = { .fd = -1 };
	size_t i;

	if (elfbin_open(&b, path)) {
		CHECK(0, "cannot open fixture '%s'", path);
		return;
	}
	for (i = 0; i < sizeof(http_funcs) / sizeof(http_funcs[0]); i++) {
		const char *fn = http_funcs[i];
		struct func_layout fl;
		uint8_t *code = NULL;
		uint64_t va = 0;
		size_t len = 0;
		char text[64], alt[256];
		static const char bundled[] = "net/http.(*http2responseWriter).";
		int err;

		err = elfbin_func(&b, fn, &code, &len, &va);
		if (err == -ENOENT && !strncmp(fn, bundled, sizeof(bundled) - 1)) {
			/* Go 1.27 moved the bundled HTTP/2 server to net/http/internal/http2 */
			snprintf(alt, sizeof(alt), "net/http/internal/http2.(*responseWriter).%s",
				 fn + sizeof(bundled) - 1);
			fn = alt;
			err = elfbin_func(&b, fn, &code, &len, &va);
		}
		CHECK(err == 0, "%s: no symbol '%s' (%d)", path, fn, err);
		if (err)
			continue;
		CHECK_INT(retsites__analyze(code, len, va, &fl), 0);
		CHECK(fl.go_prologue, "%s: %s: no Go prologue", path, fn);
		CHECK(fl.stack_check_jcc != 0, "%s: %s: no stack-check jcc", path, fn);
		CHECK(fl.complete, "%s: %s: decode incomplete", path, fn);
		CHECK(fl.nret >= 1, "%s: %s: no RET", path, fn);
		CHECK(retsites__is_boundary(code, len, va, va), "%s: %s: entry", path, fn);
		CHECK(!retsites__is_boundary(code, len, va, va + 1), "%s: %s: entry+1", path, fn);
		CHECK(retsites__is_boundary(code, len, va, fl.stack_check_jcc), "%s: %s: jcc", path, fn);
		CHECK(retsites__is_emulated(code, len, va, fl.stack_check_jcc, text, sizeof(text)),
		      "%s: %s: jcc '%s' not emulated", path, fn, text);
		CHECK(!retsites__is_emulated(code, len, va, va, text, sizeof(text)),
		      "%s: %s: first instruction '%s' emulated", path, fn, text);
		CHECK(!strncmp(text, "cmp", 3) || !strncmp(text, "lea", 3) || !strncmp(text, "mov", 3),
		      "%s: %s: first instruction '%s'", path, fn, text);
		if (fl.nret >= 1)
			CHECK(retsites__is_boundary(code, len, va, fl.rets[0]), "%s: %s: ret", path, fn);
		free(code);
	}
	elfbin_close(&b);
}

static void test_fixtures(void)
{
	struct fixture fx[64];
	const char *dir;
	char path[4096];
	int n, i, nunstripped = 0;

	n = load_fixtures(&dir, fx, 64);
	elf_version(EV_CURRENT);
	for (i = 0; i < n; i++) {
		if (fx[i].stripped) /* no .symtab: retsites is fed by gopclntab there */
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, fx[i].file) >= (int)sizeof(path))
			continue;
		test_fixture(path);
		nunstripped++;
	}
	CHECK(nunstripped > 0, "no unstripped fixture in the manifest");
}

int main(void)
{
	test_small_frame();
	test_big_frame();
	test_huge_frame();
	test_tls_prologue();
	test_nosplit_and_invalid();
	test_uprobe_classes();
	test_fixtures();
	return check_summary("test_retsites");
}
