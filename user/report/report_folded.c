// SPDX-License-Identifier: MIT
/*
 * report_folded: `cpprof report --format folded`, the renderer of a run's
 * CPU stacks (report_model.h) as "frame;frame;frame COUNT" lines for
 * flamegraph.pl and speedscope, sorted by stack.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "report_render.h"

int report_folded__write(FILE *out, const struct report_run *r, const char *component)
{
	for (size_t i = 0; i < r->nstacks; i++) {
		/* A newline in a frame would split the line: flamegraph.pl reads one stack a line. */
		for (const char *s = r->stacks[i].stack; *s; s++)
			fputc(*s == '\n' || *s == '\r' ? ' ' : *s, out);
		fprintf(out, " %lld\n", r->stacks[i].samples);
	}
	if (!r->nstacks) {
		cp_seterr("run has no CPU samples%s%s%s (recorded with --sample-hz 0?)",
			  component ? " of component '" : "", component ? component : "",
			  component ? "'" : "");
		return -ENOENT;
	}
	if (fflush(out) != 0 || ferror(out)) {
		cp_seterr("cannot write the stacks: %s", strerror(errno));
		return -EIO;
	}
	return 0;
}
