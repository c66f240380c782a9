// SPDX-License-Identifier: MIT
/*
 * prom_driver: parse a Prometheus text exposition file with cpprof's own
 * parser (user/k8s/promtext.c) and print every sample as one JSON line,
 * {"name": ..., "labels": {...}, "value": ...}. test_exports.py scrapes
 * `cpprof record --listen` and reads its samples through this, so that
 * what cpprof serves is checked by what cpprof parses when it scrapes.
 *
 * usage: prom_driver FILE
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "promtext.h"

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

static int print_sample(void *ctx, const struct prom_sample *s)
{
	(void)ctx;
	printf("{\"name\":");
	json_str(s->name);
	printf(",\"labels\":{");
	for (int i = 0; i < s->nlabels; i++) {
		printf("%s", i ? "," : "");
		json_str(s->labels[i].name);
		putchar(':');
		json_str(s->labels[i].value);
	}
	if (isnan(s->value) || isinf(s->value))
		printf("},\"value\":\"%g\"}\n", s->value);
	else
		printf("},\"value\":%.17g}\n", s->value);
	return 0;
}

int main(int argc, char **argv)
{
	char *buf = NULL;
	size_t len = 0, cap = 0, n;
	FILE *f;
	int err;

	if (argc != 2 || !(f = fopen(argv[1], "r"))) {
		fprintf(stderr, "usage: prom_driver FILE\n");
		return 2;
	}
	for (;;) {
		if (len == cap) {
			cap = cap ? cap * 2 : 65536;
			if (!(buf = realloc(buf, cap)))
				return 1;
		}
		if (!(n = fread(buf + len, 1, cap - len, f)))
			break;
		len += n;
	}
	fclose(f);
	err = promtext__parse(buf, len, print_sample, NULL);
	free(buf);
	if (err) {
		fprintf(stderr, "prom_driver: %s\n", cp_lasterr());
		return 1;
	}
	return 0;
}
