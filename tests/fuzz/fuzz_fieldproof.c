// SPDX-License-Identifier: MIT
/*
 * fuzz_fieldproof: arbitrary bytes as a function body given to the field
 * patterns offsets.c proves struct offsets with (the binary's code is
 * outside data). The first byte picks a literal length for one more
 * string compare, taken from the input; the rest is decoded. Nothing may
 * crash, read out of bounds or leak, and every hit must name a register.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fieldproof.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *lits[] = { "OPTIONS", "PRI", "*", "HTTP/2.0" };
	struct fieldproof_hit h[16];
	struct fieldproof *fp;
	char lit[66];
	size_t n, i;
	int err = 0, k;

	if (size < 1)
		return 0;
	n = data[0] % 66;
	memset(lit, 0, sizeof(lit));
	if (n && n < size)
		memcpy(lit, data + 1, n < 65 ? n : 65);
	data++;
	size--;

	fp = fieldproof__decode(data, size, 0x401000, &err);
	if (!fp)
		return 0;
	for (i = 0; i < sizeof(lits) / sizeof(lits[0]); i++) {
		k = fieldproof__streq(fp, lits[i], h, 16);
		if (k < 0 || k > 16)
			abort();
		while (k-- > 0)
			if (h[k].base == 0 || (h[k].has_parent && h[k].pbase == 0))
				abort();
	}
	fieldproof__streq(fp, lit, h, 16);
	fieldproof__streq(fp, lit, h, 1);
	k = fieldproof__flag_or_str(fp, h, 16);
	if (k < 0 || k > 16)
		abort();
	fieldproof__first_pair(fp, h);
	fieldproof__first_load(fp, h);
	k = fieldproof__cmp_pair(fp, 204, 304, h, 16);
	if (k < 0 || k > 16)
		abort();
	fieldproof__free(fp);
	return 0;
}
