// SPDX-License-Identifier: MIT
/*
 * fuzz_inline: the input is the contents of a .gopclntab section whose
 * go:func.* is taken to be the section itself, so funcdata offsets (the
 * inline tree) point back into the input. Whatever the bytes, line
 * tables, pcdata varints and inline trees of any PC must be decoded
 * inside the input (ASan proves it), every frame must have a name and a
 * file string, and the physical function must be the last frame.
 */
#include <stdint.h>
#include <stddef.h>
#include <string.h>

#include "gopclntab.h"

static void frames_at(const struct gopclntab *p, uint64_t pc)
{
	struct gofunc_frame fr[8];
	struct gofunc fn;
	const struct gofunc *f = gopclntab__lookup(p, pc, &fn) ? NULL : &fn;
	const char *file;
	int n, i, line;

	n = gopclntab__frames(p, pc, fr, 8);
	if (n == 0 || n > 8 || (n < 0) != !f)
		__builtin_trap();
	for (i = 0; i < n; i++) {
		(void)strlen(fr[i].name);
		(void)strlen(fr[i].file);
		if (fr[i].inlined != (i < n - 1))
			__builtin_trap();
	}
	/* the function that holds PC (not the one asked about: zero-size ones share entries) */
	if (n > 0 && (!f || strcmp(fr[n - 1].name, f->name)))
		__builtin_trap();
	/* with room for one frame, the physical function alone */
	if (n > 0 && (gopclntab__frames(p, pc, fr, 1) != 1 || fr[0].inlined))
		__builtin_trap();
	if (!gopclntab__fileline(p, pc, &file, &line))
		(void)strlen(file);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint64_t addr = 0x4a0000;
	struct gopclntab *p;
	struct gofunc f;
	int i, n, err;

	for (int pass = 0; pass < 2; pass++) {
		p = gopclntab__open_mem(data, size, addr, 0x401000, &err);
		if (!p)
			return 0;
		gopclntab__set_gofunc(p, pass ? 0 : addr);
		n = gopclntab__func_count(p);
		for (i = 0; i < n && i < 64; i++) {
			if (gopclntab__func(p, i, &f))
				__builtin_trap();
			frames_at(p, f.entry);
			if (f.end > f.entry) {
				frames_at(p, f.end - 1);
				frames_at(p, f.entry + (f.end - f.entry) / 2);
			}
		}
		/* PCs taken from the input's last bytes */
		if (size >= 8) {
			uint32_t off;

			memcpy(&off, data + size - 4, 4);
			frames_at(p, gopclntab__text_start(p) + off % 0x10000);
		}
		if (gopclntab__frames(p, 0, NULL, 8) != -22 || gopclntab__frames(NULL, 0, NULL, 0) != -22)
			__builtin_trap();
		gopclntab__close(p);
	}
	return 0;
}
