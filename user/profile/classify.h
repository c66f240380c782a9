/* SPDX-License-Identifier: MIT */
/*
 * classify: put one CPU sample into a category (json_encode, ..., cbor_*,
 * the apiserver's phases authentication ... http_filters, gc, syscall,
 * other) from the function names of its stack. The rules are one
 * table in classify.c, walked from the leaf (innermost frame) outward;
 * the comment above the table says how precedence works and why.
 */
#ifndef CPPROF_CLASSIFY_H
#define CPPROF_CLASSIFY_H

#include <stdbool.h>

enum cpu_category {
	CAT_JSON_ENCODE,
	CAT_JSON_DECODE,
	CAT_PROTOBUF_ENCODE,
	CAT_PROTOBUF_DECODE,
	CAT_YAML,
	CAT_GZIP,
	CAT_TLS,
	CAT_HTTP2,
	CAT_GRPC,
	CAT_ETCD_STORAGE,
	CAT_CBOR_ENCODE,
	CAT_CBOR_DECODE,
	CAT_AUTHENTICATION,
	CAT_AUTHORIZATION,
	CAT_ADMISSION,
	CAT_VALIDATION,
	CAT_CONVERSION,     /* conversion between versions and to/from unstructured, defaulting, pruning */
	CAT_WATCH_CACHE,
	CAT_ETCD_CLIENT,
	CAT_HTTP_FILTERS,
	CAT_GC,
	CAT_SYSCALL,
	CAT_OTHER,
	CAT_UNKNOWN, /* leaf frame unsymbolized and no frame matched a rule */
	CAT__COUNT
};

/* "json_encode", ..., "other", "unknown"; "invalid" out of range. */
const char *classify__name(enum cpu_category c);
/* The category called NAME, or -1. */
int classify__from_name(const char *name);

/*
 * Category of one sample from its function names, innermost (leaf)
 * first, kernel frames (KERNEL[i] true) before user frames as in the
 * stack. KERNEL may be NULL (no kernel frames). A NULL or "" name, or one
 * starting with "[unknown", is an unsymbolized frame.
 */
enum cpu_category classify__stack(const char *const *funcs, const bool *kernel, int n);

/*
 * The rule one user-space function name matches, ignoring the others on
 * the stack: its category, or -1 if none. *WEAK (may be NULL) says the
 * rule only decides when no frame further out matches a strong rule
 * (allocation, the JSON scanner). For tests and `cpprof inspect`.
 */
int classify__frame(const char *func, bool *weak);

#endif
