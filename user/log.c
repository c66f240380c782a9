// SPDX-License-Identifier: MIT
/* log: stderr logging by level and the thread-local last-error slot. */
#include <stdio.h>
#include <string.h>

#include "log.h"

int log_verbosity = LOG_INFO;

static __thread char lasterr[512];

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	va_list ap;

	if ((int)lvl > log_verbosity)
		return;
	va_start(ap, fmt);
	fputs("cpprof: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

void cp_seterr(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(lasterr, sizeof(lasterr), fmt, ap);
	va_end(ap);
}

const char *cp_lasterr(void)
{
	return lasterr[0] ? lasterr : "unknown error";
}

void cp_clearerr(void)
{
	lasterr[0] = '\0';
}
