// SPDX-License-Identifier: MIT
/*
 * util: hollowload's logging (one line, "hollowload: " first, git's
 * wording), its small random number generator and its timestamps, kept
 * apart from main so the unit tests link the modules without it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "hollowload.h"

int hl_verbose;
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static void vlog(const char *prefix, const char *fmt, va_list ap)
{
	fprintf(stderr, "hollowload: %s", prefix);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void hl_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("", fmt, ap);
	va_end(ap);
}

void hl_info(const char *fmt, ...)
{
	va_list ap;

	if (hl_verbose < 1)
		return;
	va_start(ap, fmt);
	vlog("", fmt, ap);
	va_end(ap);
}

void hl_debug(const char *fmt, ...)
{
	va_list ap;

	if (hl_verbose < 2)
		return;
	va_start(ap, fmt);
	vlog("debug: ", fmt, ap);
	va_end(ap);
}

void hl_timestamp(char *buf, size_t len, int micro)
{
	struct timespec ts;
	struct tm tm;
	char base[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	if (micro)
		snprintf(buf, len, "%s.%06ldZ", base, ts.tv_nsec / 1000);
	else
		snprintf(buf, len, "%sZ", base);
}

void hl_srand(uint64_t seed)
{
	rng_state = seed ? seed : 0x9e3779b97f4a7c15ull;
}

double hl_rand(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (double)((rng_state * 0x2545f4914f6cdd1dull) >> 11) / 9007199254740992.0;
}

