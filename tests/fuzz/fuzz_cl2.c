// SPDX-License-Identifier: MIT
/*
 * fuzz_cl2: arbitrary bytes as clusterloader2's PerfData (--cl2), through
 * cl2.c's parser. Nothing may crash or read past the input (the input is
 * copied to a buffer of its exact size, so ASan sees any overread); a
 * parse either fails with a message or yields items whose strings are
 * NUL-terminated and whose percentiles are absent or finite and >= 0.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cl2.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size ? size : 1), err[256];
	struct report_cl2 *c = NULL;
	int rc;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	rc = cl2__parse(buf, size, &c, err, sizeof(err));
	if (rc) {
		if (!err[0] || memchr(err, 0, sizeof(err)) == NULL || c)
			abort();
	} else {
		for (size_t i = 0; i < c->n; i++) {
			const struct cl2_item *it = &c->items[i];

			if (strlen(it->verb) >= sizeof(it->verb) || !it->verb[0] ||
			    strlen(it->resource) >= sizeof(it->resource) ||
			    strlen(it->scope) >= sizeof(it->scope))
				abort();
			if ((it->p99_ms >= 0 && !isfinite(it->p99_ms)) || it->count < -1)
				abort();
		}
		cl2__match(c, NULL);
		cl2__free(c);
	}
	free(buf);
	return 0;
}
