/* SPDX-License-Identifier: MIT */
/*
 * discover: find the processes to trace in /proc: by pid, or by name
 * (the comm, or the base name of /proc/PID/exe), or by what they are:
 * default discovery recognises kube-apiserver and etcd by the main
 * package their Go build info names, whatever the file is called.
 */
#ifndef CPPROF_DISCOVER_H
#define CPPROF_DISCOVER_H

#include <stdbool.h>

#define DISCOVER_MAX 64

struct target_proc {
	int pid;
	char exe[512];   /* readlink of /proc/PID/exe */
	char comm[32];
	/*
	 * Start time in clock ticks after boot (proc(5) stat field 22): with
	 * the pid it names one process, so a pid the kernel reuses for a new
	 * process (a restarted server) is never taken for the old one.
	 */
	unsigned long long start_ticks;
};

/*
 * Fill OUT with processes whose comm or exe base name equals one of NAMES
 * (NNAMES entries). Returns the count found (0..MAX), or a negative errno.
 */
int discover__by_name(const char *const *names, int nnames, struct target_proc *out, int max);

/* The control-plane components default discovery looks for. */
enum discover_role {
	DISCOVER_NONE = 0,
	DISCOVER_APISERVER = 1 << 0,
	DISCOVER_ETCD = 1 << 1,
};

/*
 * What the process T is: kube-apiserver or etcd by its Go build info's
 * main package first (renamed binaries, kube-apiserver-amd64, containers),
 * hyperkube by its first argument; otherwise by name (comm or exe base
 * name starting with "kube-apiserver", or equal to "etcd").
 */
enum discover_role discover__role(const struct target_proc *t);

/* The main packages that make a binary a role; NULL for other packages. */
enum discover_role discover__role_of_main(const char *main_path);

/*
 * Default discovery: every kube-apiserver and etcd process, recognised by
 * discover__role. Returns the count (0..MAX) or a negative errno; *FOUND
 * gets the roles seen, so a caller can say which one is missing.
 */
int discover__defaults(struct target_proc *out, int max, unsigned *found);

/* Fill OUT for one PID: 0, -ESRCH (no such process) or -EACCES. */
int discover__pid(int pid, struct target_proc *out);

/* true while PID exists and is not a zombie. */
bool discover__alive(int pid);

/*
 * true while T's process is alive and runs the same program: same pid,
 * same start time (not a reused pid), same executable (no exec since),
 * not a zombie.
 */
bool discover__same(const struct target_proc *t);

/* When T's process started (CLOCK_REALTIME ns, to the tick: 10 ms), from its start_ticks. */
long long discover__started_ns(const struct target_proc *t);

#endif
