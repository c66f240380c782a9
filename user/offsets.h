/* SPDX-License-Identifier: MIT */
/*
 * offsets: the Go struct field offsets cpprof's BPF programs read, chosen
 * by Go version from a generated table (tools/gen_offsets.sh), and read
 * from DWARF instead where the binary carries it (DWARF wins; a
 * disagreement with the table is reported).
 */
#ifndef CPPROF_OFFSETS_H
#define CPPROF_OFFSETS_H

#include <stdint.h>

struct goelf;

struct go_offsets {
	/* net/http.Request */
	int32_t request_method;   /* string */
	int32_t request_url;      /* *url.URL */
	/* net/url.URL */
	int32_t url_path;         /* string */
	int32_t url_rawquery;     /* string */
	char source[96];          /* "table go1.21", "DWARF", "DWARF (table go1.21 agrees)" */
};

/*
 * Fill OUT for G (Go version from build info; DWARF if present).
 * Returns 0, or -ENOTSUP with cp_lasterr() saying "Go version go1.x is
 * outside the offsets table (go1.a-go1.b) and the binary has no DWARF"
 * or similar.
 */
int offsets__resolve(struct goelf *g, struct go_offsets *out);

/* Table only, by "go1.21.13"; 0 or -ENOENT. */
int offsets__from_table(const char *go_version, struct go_offsets *out);

/* DWARF only; 0, -ENOENT (no DWARF or types absent), or -EINVAL. */
int offsets__from_dwarf(struct goelf *g, struct go_offsets *out);

/* Range of Go minor versions the table covers, e.g. 19 and 26. */
void offsets__table_range(int *min_minor, int *max_minor);

#endif
