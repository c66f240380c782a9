// SPDX-License-Identifier: MIT
/*
 * fuzz_pclntab: the input is the contents of a .gopclntab section.
 * Whatever the bytes, gopclntab__open_mem must either reject them with
 * a message or give a table whose every function, lookup and find stays
 * inside the input (ASan proves the "inside").
 */
#include <stdint.h>
#include <stddef.h>
#include <string.h>

#include "gopclntab.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gopclntab *p;
	struct gofunc f, g;
	int i, n, err;

	/* both with and without a caller-supplied runtime.text */
	for (int pass = 0; pass < 2; pass++) {
		p = gopclntab__open_mem(data, size, 0x4a0000, pass ? 0x401000 : 0, &err);
		if (!p)
			continue;
		n = gopclntab__func_count(p);
		for (i = 0; i < n; i++) {
			if (gopclntab__func(p, i, &f))
				__builtin_trap();
			(void)strlen(f.name);
			if (gopclntab__find(p, f.name, &g) || strcmp(g.name, f.name))
				__builtin_trap();
			if (f.end > f.entry && gopclntab__lookup(p, f.entry, &g))
				__builtin_trap();
		}
		gopclntab__lookup(p, 0, &f);
		gopclntab__lookup(p, UINT64_MAX, &f);
		gopclntab__lookup(p, gopclntab__end_pc(p), &f);
		gopclntab__find(p, "main.main", &f);
		(void)gopclntab__format(p);
		(void)gopclntab__text_source(p);
		gopclntab__close(p);
	}
	return 0;
}
