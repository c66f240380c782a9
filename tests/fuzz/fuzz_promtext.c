// SPDX-License-Identifier: MIT
/*
 * fuzz_promtext: arbitrary bytes as a /metrics answer, through the
 * Prometheus text parser and cluster.c's reading of object counts.
 * Nothing may crash or read out of bounds; labels handed out must be
 * NUL-terminated strings.
 */
#include <stdint.h>
#include <string.h>

#include "cluster.h"
#include "promtext.h"

static int touch(void *ctx, const struct prom_sample *s)
{
	size_t *n = ctx;

	*n += strlen(s->name);
	for (int i = 0; i < s->nlabels; i++)
		*n += strlen(s->labels[i].name) + strlen(s->labels[i].value);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cluster_size cs;
	size_t n = 0;

	promtext__parse((const char *)data, size, touch, &n);
	cluster__from_metrics((const char *)data, size, &cs);
	return 0;
}
