// SPDX-License-Identifier: MIT
/*
 * fuzz_retsites: arbitrary bytes as a function body. The first 8 bytes
 * pick the probed address (any offset, in or out of the code); the rest
 * is decoded. Nothing may crash or read out of bounds.
 */
#include <stdint.h>
#include <string.h>

#include "retsites.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint64_t base = 0x400000;
	struct func_layout fl;
	uint64_t pick = 0;
	char text[32];
	int i;

	if (size < 8)
		return 0;
	memcpy(&pick, data, 8);
	data += 8;
	size -= 8;

	if (retsites__analyze(data, size, base, &fl) == 0) {
		if (fl.stack_check_jcc)
			retsites__is_emulated(data, size, base, fl.stack_check_jcc, text, sizeof(text));
		for (i = 0; i < fl.nret && i < RETSITES_MAX; i++)
			retsites__is_boundary(data, size, base, fl.rets[i]);
	}
	retsites__is_boundary(data, size, base, base + pick % (size + 16));
	retsites__is_emulated(data, size, base, base + pick % (size + 1), text, (pick >> 40) % 33);
	retsites__uprobe_class(data, size, base, pick, NULL, 0);
	return 0;
}
