/* SPDX-License-Identifier: MIT */
/*
 * execwatch: how many execs the machine has done (proc_exec.bpf.c), the
 * cue for a recording that follows its targets to look at /proc again.
 */
#ifndef CPPROF_EXECWATCH_H
#define CPPROF_EXECWATCH_H

#include <stdint.h>

struct execwatch;

/* Load and attach; NULL with *ERR a negative errno and the reason set. */
struct execwatch *execwatch__open(int *err);
void execwatch__close(struct execwatch *w);

/* Execs since open: when it moved, a process may have started. */
uint64_t execwatch__count(const struct execwatch *w);

#endif
