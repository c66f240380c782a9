// SPDX-License-Identifier: MIT
/*
 * fuzz_size: the input is the text of a --max-db-size or --min-free
 * argument (budget__parse_size). Parsing must reject or accept, never
 * overflow; what it accepts is at most 2^62 bytes, and the shortest form
 * budget__fmt_size gives it (what the report prints) parses back the same.
 */
#include <stdint.h>
#include <stddef.h>
#include <string.h>

#include "budget.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char s[64], back[32];
	int64_t v, w;

	if (size >= sizeof(s))
		return 0;
	memcpy(s, data, size);
	s[size] = 0;
	if (budget__parse_size(s, &v))
		return 0;
	if (v < 0 || v > (1LL << 62))
		__builtin_trap();
	budget__fmt_size(v, back, sizeof(back));
	if (budget__parse_size(back, &w) || w != v)
		__builtin_trap();
	return 0;
}
