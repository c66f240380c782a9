/* SPDX-License-Identifier: MIT */
/*
 * discover: find the processes to trace in /proc: by pid, or by name
 * (the comm, or the base name of /proc/PID/exe). Default names are
 * kube-apiserver and etcd.
 */
#ifndef CPPROF_DISCOVER_H
#define CPPROF_DISCOVER_H

#include <stdbool.h>

#define DISCOVER_MAX 64

struct target_proc {
	int pid;
	char exe[512];   /* readlink of /proc/PID/exe */
	char comm[32];
};

/*
 * Fill OUT with processes whose comm or exe base name equals one of NAMES
 * (NNAMES entries). Returns the count found (0..MAX), or a negative errno.
 */
int discover__by_name(const char *const *names, int nnames, struct target_proc *out, int max);

/* Fill OUT for one PID: 0, -ESRCH (no such process) or -EACCES. */
int discover__pid(int pid, struct target_proc *out);

/* true while PID exists and is not a zombie. */
bool discover__alive(int pid);

#endif
