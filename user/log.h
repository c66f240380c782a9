/* SPDX-License-Identifier: MIT */
/*
 * log: cpprof's one logging header, and the last-error slot.
 *
 * Messages go to stderr, prefixed "cpprof: ". Levels follow libbpf-tools:
 * errors always, info unless --quiet, verbose with -v, debug with -vv
 * (which also lets libbpf's own debug output through).
 *
 * Modules report *why* something failed through cp_seterr() and return a
 * negative errno; the caller that knows *what* was being done prints
 * "cpprof: cannot <what>: <cp_lasterr()>". Messages follow git's wording:
 * lower case, no full stop, names quoted, cause last.
 */
#ifndef CPPROF_LOG_H
#define CPPROF_LOG_H

#include <stdarg.h>

enum log_level { LOG_ERROR = 0, LOG_INFO = 1, LOG_VERBOSE = 2, LOG_DEBUG = 3 };

extern int log_verbosity; /* default LOG_INFO */

void log_msg(enum log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define error(...)   log_msg(LOG_ERROR, __VA_ARGS__)
#define info(...)    log_msg(LOG_INFO, __VA_ARGS__)
#define verbose(...) log_msg(LOG_VERBOSE, __VA_ARGS__)
#define debug(...)   log_msg(LOG_DEBUG, __VA_ARGS__)

/* Record why the current operation failed (thread-local, overwritten). */
void cp_seterr(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The last message set, or "unknown error" if none. */
const char *cp_lasterr(void);
/* Forget the last error. */
void cp_clearerr(void);

#endif
