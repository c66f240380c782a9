// SPDX-License-Identifier: MIT
/*
 * fuzz_buildinfo: the input is the contents of a .go.buildinfo section
 * (either format). Parsing must reject or accept, never read outside.
 */
#include <stdint.h>
#include <stddef.h>
#include <string.h>

#include "goelf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct goelf_module *m;
	struct goelf *g;
	int i, err, ma, mi;

	g = goelf__open_buildinfo_mem(data, size, 0x8bc370 & ~0xfull, &err);
	if (!g)
		return 0;
	(void)strlen(goelf__go_version(g));
	go_version_parse(goelf__go_version(g), &ma, &mi);
	if (goelf__main_path(g))
		(void)strlen(goelf__main_path(g));
	for (i = 0; i < goelf__module_count(g); i++) {
		m = goelf__module(g, i);
		(void)strlen(m->path);
		(void)strlen(m->version);
		if (m->replace)
			(void)strlen(m->replace);
		if (m->replace_version)
			(void)strlen(m->replace_version);
		if (goelf__find_module(g, m->path) == NULL)
			__builtin_trap();
	}
	goelf__close(g);
	return 0;
}
