/* SPDX-License-Identifier: MIT */
/*
 * symbolize: turn the raw addresses of a CPU sample into function names.
 * User addresses go through the process's /proc/PID/maps to a binary and
 * an ELF virtual address, then through .gopclntab (Go, with inlined
 * frames and file:line) or the ELF symbol tables (C libraries, cgo);
 * kernel addresses through /proc/kallsyms. Binaries are opened once and
 * shared by every process that maps them (keyed by build id, else by
 * device, inode and mtime); results are kept in a bounded cache.
 */
#ifndef CPPROF_SYMBOLIZE_H
#define CPPROF_SYMBOLIZE_H

#include <stdbool.h>
#include <stdint.h>

struct symbolizer;

struct sym_frame {
	const char *func;   /* interned; valid until symbolizer__free; never NULL */
	const char *file;   /* may be "" */
	int line;           /* 0 if unknown */
	bool inlined;       /* this frame was inlined into the next (outer) one */
	bool known;         /* false: unsymbolized, func is "[unknown] libfoo.so+0x1234" or "[unknown]" */
};

struct sym_stats {
	uint64_t lookups;          /* symbolizer__user calls */
	uint64_t cache_hits;       /* answered from the address cache */
	uint64_t unknown;          /* user lookups that gave an unsymbolized frame */
	uint64_t binaries_opened;  /* distinct binaries parsed */
	uint64_t binaries_failed;  /* binaries that could not be opened or parsed */
	uint64_t maps_reads;       /* /proc/PID/maps reads */
	uint64_t kernel_lookups;
	uint64_t kernel_unknown;   /* kernel addresses without a symbol */
};

/* NULL on failure (out of memory) with cp_lasterr(). */
struct symbolizer *symbolizer__new(void);
void symbolizer__free(struct symbolizer *s);

/*
 * Frames for a user-space address ADDR of process PID, innermost first
 * (inlined frames expanded, innermost first, then their physical caller).
 * Returns the number of frames written (>= 1; an unknown address gives one
 * frame with known=false), or a negative errno on bad arguments.
 * ADDR is a sampled IP if IS_IP, else a return address (look up ADDR-1).
 */
int symbolizer__user(struct symbolizer *s, int pid, uint64_t addr, bool is_ip,
		     struct sym_frame *out, int max);

/*
 * One frame for a kernel address (from /proc/kallsyms, read once).
 * Returns 1, or a negative errno on bad arguments. Without root the
 * addresses in kallsyms are all zero: every kernel frame is then
 * "[kernel]" with known=false.
 */
int symbolizer__kernel(struct symbolizer *s, uint64_t addr, struct sym_frame *out);

/* Forget PID's mappings (process exited or exec'd). */
void symbolizer__forget(struct symbolizer *s, int pid);

/* Counters: lookups, cache hits, unknown frames, binaries opened. */
void symbolizer__stats(const struct symbolizer *s, struct sym_stats *st);

/*
 * Read kernel symbols from PATH instead of /proc/kallsyms (before the
 * first symbolizer__kernel call). For tests. 0 or a negative errno.
 */
int symbolizer__set_kallsyms(struct symbolizer *s, const char *path);

/*
 * Read the kernel symbols now rather than at the first kernel frame:
 * reading /proc/kallsyms takes tens of milliseconds, better spent before
 * events flow than in the middle of draining them. Failures show as
 * unknown kernel frames later, as they would have.
 */
void symbolizer__load_kernel(struct symbolizer *s);

#endif
