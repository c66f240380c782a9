/* SPDX-License-Identifier: MIT */
/*
 * promtext: parse the Prometheus text exposition format (version 0.0.4,
 * what kube-apiserver's and etcd's /metrics serve) into samples, one
 * callback per sample line. Comments (# HELP, # TYPE) are skipped. A
 * malformed line stops the parse with its line number in cp_lasterr().
 */
#ifndef CPPROF_PROMTEXT_H
#define CPPROF_PROMTEXT_H

#include <stddef.h>

#define PROMTEXT_MAX_LABELS 16

struct prom_label {
	const char *name;
	const char *value;   /* unescaped (\\, \", \n) */
};

struct prom_sample {
	const char *name;
	struct prom_label labels[PROMTEXT_MAX_LABELS];
	int nlabels;
	double value;        /* NaN, +Inf and -Inf as the format spells them */
	long long timestamp_ms; /* 0 when absent */
};

/* Return non-zero to stop: promtext__parse returns that value. */
typedef int (*promtext_fn)(void *ctx, const struct prom_sample *s);

/*
 * Parse LEN bytes of BUF (need not be NUL-terminated). 0, FN's non-zero
 * result, -EINVAL ("line N: <what>") on a malformed line, or -ENOMEM.
 * Strings passed to FN live until FN returns.
 */
int promtext__parse(const char *buf, size_t len, promtext_fn fn, void *ctx);

/* The value of label NAME in S, or NULL. */
const char *promtext__label(const struct prom_sample *s, const char *name);

#endif
