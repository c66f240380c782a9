// SPDX-License-Identifier: MIT
/*
 * fuzz_codeflow: arbitrary bytes as a function body for the data-flow scan
 * (user/goelf/codeflow.c). The first byte picks the starting register; the rest
 * is decoded. Nothing may crash or read out of bounds, and every recorded
 * read must lie inside the code and name a known tag.
 */
#include <stdint.h>
#include <stdlib.h>

#include <capstone/capstone.h>

#include "codeflow.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int regs[] = { X86_REG_RAX, X86_REG_RBX, X86_REG_RCX, X86_REG_RDI, X86_REG_RSI,
				    X86_REG_R8, X86_REG_EDI, X86_REG_AL, X86_REG_RSP };
	const uint64_t base = 0x400000;
	static struct codeflow fl;
	int i;

	if (size < 1)
		return 0;
	if (codeflow__scan(data + 1, size - 1, base, regs[data[0] % (sizeof(regs) / sizeof(regs[0]))],
			   NULL, &fl) != 0)
		return 0;
	if (fl.nreads > CODEFLOW_MAX_READS || fl.ncalls > CODEFLOW_MAX_CALLS || fl.ntags > CODEFLOW_MAX_TAGS)
		abort();
	for (i = 0; i < fl.nreads; i++)
		if (fl.reads[i].pc < base || fl.reads[i].pc >= base + size - 1 || fl.reads[i].tag <= 0 ||
		    fl.reads[i].tag >= fl.ntags)
			abort();
	codeflow__reads(&fl, CODEFLOW_ARG, data[0], 8);
	codeflow__tag(&fl, CODEFLOW_ARG, data[0]);
	return 0;
}
