/* SPDX-License-Identifier: MIT */
/*
 * fuzz_input: what the text-field fuzz targets share: cutting the input
 * into newline-separated fields, each in a heap buffer of exactly its size
 * plus the NUL, so that ASan catches a parser reading past it.
 */
#ifndef CPPROF_FUZZ_INPUT_H
#define CPPROF_FUZZ_INPUT_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/*
 * The next field of [*P, END): up to the next newline, or (LAST) the rest.
 * Its length goes to *LEN if LEN is not NULL; *P moves past it.
 */
static inline char *fuzz_piece(const uint8_t **p, const uint8_t *end, size_t *len, int last)
{
	const uint8_t *nl = last ? NULL : memchr(*p, '\n', end - *p);
	size_t n = (nl ? nl : end) - *p;
	char *s = malloc(n + 1);

	if (!s)
		abort();
	memcpy(s, *p, n);
	s[n] = 0;
	if (len)
		*len = n;
	*p = nl ? nl + 1 : end;
	return s;
}

/* A fixed-size char array field holds a NUL somewhere. */
#define TERMINATED(f) (memchr((f), 0, sizeof(f)) != NULL)

#endif
