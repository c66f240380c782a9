/* SPDX-License-Identifier: MIT */
/*
 * sched: the timers of every hollow node in one binary min-heap, so that
 * thousands of nodes cost one heap, not one thread each.
 */
#ifndef HOLLOWLOAD_SCHED_H
#define HOLLOWLOAD_SCHED_H

#include <stddef.h>

struct hl_timer {
	double due;
	void (*fn)(struct hl_timer *t);
	size_t idx;          /* position in the heap + 1; 0 when not armed */
};

struct sched {
	struct hl_timer **heap;
	size_t len, cap;
};

/* arm T to fire at DUE (re-arming moves it); returns 0 or -ENOMEM */
int sched__add(struct sched *s, struct hl_timer *t, double due);
void sched__del(struct sched *s, struct hl_timer *t);
/* fire every timer due at or before NOW; returns how many fired */
int sched__run(struct sched *s, double now);
/* due time of the earliest timer, or -1 when none */
double sched__next(const struct sched *s);
void sched__free(struct sched *s);

#endif
