/* SPDX-License-Identifier: MIT */
/*
 * check: the few macros cpprof's unit tests need. Each test binary prints
 * one line per failed check and ends with "N passed, N failed"; it exits 1
 * if anything failed. tests/run_unit.sh adds the totals up.
 */
#ifndef CPPROF_CHECK_H
#define CPPROF_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_passed, check_failed;

#define CHECK(cond, ...) do {                                              \
	if (cond) {                                                        \
		check_passed++;                                            \
	} else {                                                           \
		check_failed++;                                            \
		fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
		fprintf(stderr, __VA_ARGS__);                              \
		fputc('\n', stderr);                                       \
	}                                                                  \
} while (0)

#define CHECK_STR(got, want) CHECK(strcmp((got), (want)) == 0, "got '%s', want '%s'", (got), (want))
#define CHECK_INT(got, want) CHECK((long long)(got) == (long long)(want), "got %lld, want %lld", \
				   (long long)(got), (long long)(want))

static inline int check_summary(const char *name)
{
	printf("%s: %d passed, %d failed\n", name, check_passed, check_failed);
	return check_failed ? 1 : 0;
}

#endif
