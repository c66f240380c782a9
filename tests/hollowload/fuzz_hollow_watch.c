// SPDX-License-Identifier: MIT
/*
 * Fuzz hollowload's watch stream parser: the first byte picks JSON or
 * protobuf framing and a chunk size, the rest is fed in chunks, as
 * libcurl delivers a watch from a server we do not trust.
 */
#include <stddef.h>
#include <stdint.h>

#include "watch.h"

static void on_event(const struct watch_event *ev, void *arg)
{
	(*(long *)arg) += ev->type[0] + ev->obj.name[0] + ev->obj.phase[0];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct watch_parser p;
	long sum = 0;
	size_t chunk;

	if (size < 1)
		return 0;
	watch__init(&p, data[0] & 1);
	chunk = (data[0] >> 1) + 1;
	data++;
	size--;
	for (size_t off = 0; off < size; off += chunk) {
		size_t n = size - off < chunk ? size - off : chunk;

		if (watch__feed(&p, (const char *)data + off, n, on_event, &sum) < 0)
			break;
	}
	watch__free(&p);
	return 0;
}
