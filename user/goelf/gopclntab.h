/* SPDX-License-Identifier: MIT */
/*
 * gopclntab: read Go's function table (.gopclntab, or the pclntab found
 * through runtime.firstmoduledata when the section header is missing) so
 * cpprof can find functions in stripped binaries. Formats: Go 1.16-1.17
 * (magic 0xfffffffa), 1.18-1.19 (0xfffffff0), 1.20 and newer (0xfffffff1).
 *
 * Go 1.18+ stores function entries as offsets from runtime.text, which is
 * not the start of .text in cgo or externally linked binaries, and Go 1.26
 * no longer stores it in the pclntab header: gopclntab__text_start() gives
 * the resolved runtime.text and where it came from.
 */
#ifndef CPPROF_GOPCLNTAB_H
#define CPPROF_GOPCLNTAB_H

#include <stdbool.h>
#include <stdint.h>

struct goelf;
struct gopclntab;

struct gofunc {
	const char *name; /* lives as long as the gopclntab */
	uint64_t entry;   /* virtual address of the first instruction */
	uint64_t end;     /* entry of the next function (or end of text) */
	int32_t  funcoff; /* offset of the _func record (for pcdata lookups) */
};

/*
 * Parse G's pclntab. NULL on failure with *err set and cp_lasterr()
 * naming the problem: "no .gopclntab: not a Go binary",
 * "unsupported pclntab magic 0x%x (Go 1.2-1.15 or newer than known)",
 * "corrupted pclntab: <what>".
 */
struct gopclntab *gopclntab__open(struct goelf *g, int *err);
/* The table points into G's mapping: close it before goelf__close(G). */
void gopclntab__close(struct gopclntab *p);

/* Header magic and a human name of the format ("go1.20+"). */
uint32_t gopclntab__magic(const struct gopclntab *p);
const char *gopclntab__format(const struct gopclntab *p);

/* Resolved runtime.text, and a note saying how ("pclntab header", "moduledata", "symtab"). */
uint64_t gopclntab__text_start(const struct gopclntab *p);
const char *gopclntab__text_source(const struct gopclntab *p);

int gopclntab__func_count(const struct gopclntab *p);
/* i-th function in address order; 0 or -ERANGE. */
int gopclntab__func(const struct gopclntab *p, int i, struct gofunc *out);
/*
 * Function by exact name ("net/http.serverHandler.ServeHTTP"); 0 or
 * -ENOENT. O(log n). A few assembly functions appear twice under one name
 * (ABI0 body and ABIInternal wrapper; the ELF symtab calls the first
 * "<name>.abi0"): find() returns the one at the lower address.
 */
int gopclntab__find(const struct gopclntab *p, const char *name, struct gofunc *out);
/* Function containing PC (binary search over the functab); 0 or -ENOENT. */
int gopclntab__lookup(const struct gopclntab *p, uint64_t pc, struct gofunc *out);

/* Virtual address and size of the pclntab that was parsed. */
uint64_t gopclntab__addr(const struct gopclntab *p);
uint64_t gopclntab__size(const struct gopclntab *p);
/* End of the last function (the functab's final entry). */
uint64_t gopclntab__end_pc(const struct gopclntab *p);

/* One frame at a PC: the function, or a function inlined into it. */
struct gofunc_frame {
	const char *name; /* lives as long as the gopclntab */
	const char *file; /* "" if unknown */
	int line;         /* 0 if unknown */
	bool inlined;     /* inlined into the next (outer) frame */
};

/*
 * Frames at PC, innermost first: the functions inlined at PC (from the
 * function's inline tree, FUNCDATA_InlTree / PCDATA_InlTreeIndex), then
 * the function containing PC, always last. Each with its file:line from
 * the line tables. Returns the number written (1..MAX), -ENOENT if no
 * function holds PC, -EINVAL on bad arguments. For a return address,
 * pass the address - 1 (the call instruction), as tracebacks do.
 * Inline frames need go:func.* (1.18+), found when the table was opened
 * from an ELF file; without it only the physical function is given.
 */
int gopclntab__frames(const struct gopclntab *p, uint64_t pc, struct gofunc_frame *out, int max);
/* File and line of PC (the innermost inlined position). 0 or a negative errno. */
int gopclntab__fileline(const struct gopclntab *p, uint64_t pc, const char **file, int *line);
/* go:func.*, the base of 1.18+ funcdata offsets; 0 if unknown. */
uint64_t gopclntab__gofunc(const struct gopclntab *p);
/* Set it, for tables opened with gopclntab__open_mem (tests, fuzzer). */
void gopclntab__set_gofunc(struct gopclntab *p, uint64_t gofunc);

/*
 * Parse LEN bytes as a pclntab placed at virtual address SECTION_ADDR,
 * with no ELF file behind it. TEXT_HINT is runtime.text if the caller
 * knows it (0 if not): used when the header does not store it (Go 1.26+)
 * and for Go 1.16-1.17. DATA must outlive the result. For the fuzzer and
 * tests; gopclntab__open is the real entry point.
 */
struct gopclntab *gopclntab__open_mem(const void *data, size_t len, uint64_t section_addr,
				      uint64_t text_hint, int *err);

#endif
