// SPDX-License-Identifier: MIT
/*
 * fuzz_promtext: arbitrary bytes as a /metrics answer, through the
 * Prometheus text parser and cluster.c's reading of object counts.
 * Nothing may crash or read out of bounds; labels handed out must be
 * NUL-terminated strings. Each sample's canonical label set (scrape.c,
 * what metric_series.labels holds) must read back through mc_label
 * (metrics_check.c) to the same values.
 */
#include <stdint.h>
#include <string.h>

#include <stdlib.h>

#include "cluster.h"
#include "metrics_check.h"
#include "promtext.h"
#include "scrape.h"

static int touch(void *ctx, const struct prom_sample *s)
{
	size_t *n = ctx;
	char canon[4096], v[4096];
	double le;

	*n += strlen(s->name);
	for (int i = 0; i < s->nlabels; i++)
		*n += strlen(s->labels[i].name) + strlen(s->labels[i].value);
	*n += scrape__wanted(s->name);
	if (scrape__labels(s, canon, sizeof(canon), &le) < 0)
		return 0;
	for (int i = 0; i < s->nlabels; i++) {
		const struct prom_label *l = &s->labels[i];
		bool dup = false;

		for (int j = 0; j < s->nlabels; j++)
			dup |= j != i && !strcmp(s->labels[j].name, l->name);
		if (dup || !strcmp(l->name, "le"))
			continue;  /* a repeated name reads back as either value */
		if (!mc_label(canon, l->name, v, sizeof(v)) || strcmp(v, l->value))
			abort();
	}
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
