/* SPDX-License-Identifier: MIT */
/*
 * fieldproof: read Go struct field offsets out of machine code. A Go
 * function that reads a field does it as "mov reg, [base + offset]", so
 * the offset is in the code; what the code does next with the value says
 * which field it was (a string compared with a known literal, a bool
 * tested before a string's length). This module decodes one function
 * (amd64, Capstone), follows in a single linear pass which register holds
 * a value loaded from which [base + disp] (and where the base itself came
 * from, one level up), and matches a few such shapes. offsets.c says
 * which functions to look at and which shape proves which field.
 *
 * Everything here takes raw bytes: the fuzzer feeds it arbitrary code.
 */
#ifndef CPPROF_FIELDPROOF_H
#define CPPROF_FIELDPROOF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fieldproof;

/*
 * A field access found by a pattern. disp is the field's offset from the
 * struct pointer in register base (x86_reg number); base_ver says which
 * value of that register it was (0: the value at function entry, so an
 * argument of the register ABI; each write makes a new version). If the
 * struct pointer was itself loaded from memory, has_parent is set and
 * pbase/pbase_ver/pdisp say from where: [pbase + pdisp] is a pointer field.
 */
struct fieldproof_hit {
	int64_t disp;
	int base, base_ver;
	bool has_parent;
	int pbase, pbase_ver;
	int64_t pdisp;
	uint64_t addr;           /* the instruction that completed the proof */
};

/*
 * Decode LEN bytes of code at virtual address ADDR (one function) and
 * record the loads and compares the patterns need. NULL with *ERR set
 * (-EINVAL: nothing decodable or Capstone failed, -ENOMEM).
 */
struct fieldproof *fieldproof__decode(const uint8_t *code, size_t len, uint64_t addr, int *err);
void fieldproof__free(struct fieldproof *fp);

/*
 * s == LIT for a string field s: the length (8 bytes after the data
 * pointer, in memory or loaded into a register) compared with len(LIT)
 * and the first 1, 2, 4 or 8 bytes the pointer points to compared with
 * LIT's. LIT is 1 to 64 bytes. Hits in address order; the count.
 */
int fieldproof__streq(const struct fieldproof *fp, const char *lit, struct fieldproof_hit *out, int max);

/*
 * "b || s != """ for a bool b and a string s of one struct (Go compiles
 * it as a byte compare with 0, a JNE, then a compare of s's length with
 * 0), where the code then loads both words of s. disp is s's data
 * pointer. Hits in address order; the count.
 */
int fieldproof__flag_or_str(const struct fieldproof *fp, struct fieldproof_hit *out, int max);

/*
 * The first two 8-byte loads of the function are [RAX + D] and
 * [RAX + D + 8] with RAX still the receiver (a method that passes one
 * string field of its receiver on, as (*url.URL).Query does). 1 with
 * *OUT set (disp = D), or 0.
 */
int fieldproof__first_pair(const struct fieldproof *fp, struct fieldproof_hit *out);

/*
 * One 8-byte field compared with both IMM_A and IMM_B (Go's inlined
 * bodyAllowedForStatus(status) compares it with 204 and 304): the two
 * compares within a few instructions of each other, on the same value of
 * the same base register. Hits in address order, one per field and base
 * value; the count.
 */
int fieldproof__cmp_pair(const struct fieldproof *fp, uint64_t imm_a, uint64_t imm_b,
			 struct fieldproof_hit *out, int max);

/*
 * The function's first 8-byte load is [RAX + D] with RAX still the
 * receiver (a method that starts by loading a pointer field of its
 * receiver: rws := w.rws). 1 with *OUT set (disp = D), or 0.
 */
int fieldproof__first_load(const struct fieldproof *fp, struct fieldproof_hit *out);

/* Instructions decoded (tests). */
int fieldproof__count(const struct fieldproof *fp);

#endif
