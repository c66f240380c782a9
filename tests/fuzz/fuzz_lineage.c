// SPDX-License-Identifier: MIT
/*
 * fuzz_lineage: arbitrary bytes as runtime.newproc1's body. The first 4
 * bytes pick where "casgstatus" is (relative to the code, in or out of
 * it); the rest is decoded by lineage__find_newg_call, and by
 * lineage__find_callergp_slot for that site (or the code's middle).
 * Nothing may crash or read out of bounds, a site it returns must lie
 * inside the code, and a slot is a non-negative displacement.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lineage.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint64_t base = 0x400000;
	uint64_t call = 0;
	int32_t rel = 0, slot = -1;

	if (size < 4)
		return 0;
	memcpy(&rel, data, 4);
	data += 4;
	size -= 4;
	if (lineage__find_newg_call(data, size, base, base + (int64_t)rel, &call) == 0 &&
	    (call < base || call >= base + size))
		abort();
	if (!call)
		call = base + size / 2;
	if (lineage__find_callergp_slot(data, size, base, call, &slot) == 0 && slot < 0)
		abort();
	return 0;
}
