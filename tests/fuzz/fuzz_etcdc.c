// SPDX-License-Identifier: MIT
/*
 * fuzz_etcdc: arbitrary bytes as a prologue given to the spill-slot proof
 * the etcd client probes rest on (user/trace/etcdc.c; the binary's code is
 * outside data), and as intervals to the union a request's etcd time is.
 * Nothing may crash or leak; every slot is -1 or a word index; the union
 * is never negative nor more than the intervals' extent.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "etcdc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int64_t st[32], ln[32], lo = INT64_MAX, hi = INT64_MIN, u;
	int slots[9], n, i;

	n = etcdc__spill_slots(data, size, 0x401000, slots, 9);
	if (n < -1000 || n > 9)
		abort();
	for (i = 0; i < 9; i++)
		if (slots[i] < -1)
			abort();
	n = (int)(size / 8) < 32 ? (int)(size / 8) : 32;
	for (i = 0; i < n; i++) {
		uint32_t a, b;

		memcpy(&a, data + 8 * i, 4);
		memcpy(&b, data + 8 * i + 4, 4);
		st[i] = a;
		ln[i] = b % 100000;
		if (st[i] < lo)
			lo = st[i];
		if (st[i] + ln[i] > hi)
			hi = st[i] + ln[i];
	}
	u = etcdc__union_ns(st, ln, n);
	if (u < 0 || (n && u > hi - lo))
		abort();
	return 0;
}
