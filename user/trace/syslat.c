// SPDX-License-Identifier: MIT
/*
 * syslat: load bpf/syscalls.bpf.c, tell it the target processes, and turn
 * its per-CPU histograms into rows of the syscalls table every interval.
 *
 * Reading a live per-CPU hash while BPF adds into it would lose or split
 * counts, so BPF writes into generation "gen" (.bss) and a flush flips it
 * first, then reads and deletes the previous generation. Only a sys_exit
 * already past its read of gen when the flip lands can still add to the
 * old generation; such a count (the flip and the read are microseconds
 * apart) is lost with the deleted entry, or, if its entry was created
 * after the read, is kept for the next flush of that generation.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mount.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpfutil.h"
#include "log.h"
#include "loghist.h"
#include "store.h"
#include "syscalls.skel.h"
#include "syslat.h"

_Static_assert(sizeof(struct syslat_key) == 8, "syslat_key layout changed");
_Static_assert(sizeof(struct syslat_start) == 16, "syslat_start layout changed");
_Static_assert(sizeof(struct syslat_hist) == 16 * LOGHIST_NBUCKETS, "syslat_hist layout changed");

#define SYSLAT_MAX_TARGETS 64

static const char *const names[SYSLAT_NSYSCALLS] = {
#define SYSLAT_NAME(idx, name, num) [idx] = #name,
	SYSLAT_SYSCALLS(SYSLAT_NAME)
#undef SYSLAT_NAME
};

struct syslat_target {
	int pid;
	int64_t target_id;
	char *component;
	int64_t since_ns;   /* start of the current interval, CLOCK_REALTIME */
	bool gone;          /* exited: its last interval is stored, then the slot freed */
};

struct syslat {
	struct syscalls_bpf *skel;
	struct syslat_target t[SYSLAT_MAX_TARGETS];
	int nt;
	int ncpus;
	struct syslat_hist *percpu;   /* one lookup's worth: ncpus values */
	uint64_t swept;               /* starts of dead threads removed */
};

static int64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

const char *syslat__name(int i)
{
	return i >= 0 && i < SYSLAT_NSYSCALLS ? names[i] : NULL;
}

int syslat__parse_mode(const char *s, enum syslat_mode *mode)
{
	if (strcmp(s, "fsync") == 0)
		*mode = SYSLAT_FSYNC;
	else if (strcmp(s, "all") == 0)
		*mode = SYSLAT_ALL;
	else
		return -EINVAL;
	return 0;
}

const char *syslat__mode_name(enum syslat_mode mode)
{
	return mode == SYSLAT_ALL ? "all" : "fsync";
}

/*
 * Per-syscall tracepoints are perf trace events: libbpf resolves their ids
 * in tracefs (events/syscalls/sys_enter_NAME/id), which a fresh master VM
 * may not have mounted yet.
 */
static int ensure_tracefs(void)
{
	static const char dir[] = "/sys/kernel/tracing";

	if (access("/sys/kernel/tracing/events/syscalls", F_OK) == 0 ||
	    access("/sys/kernel/debug/tracing/events/syscalls", F_OK) == 0)
		return 0;
	if (mount("tracefs", dir, "tracefs", 0, NULL) && errno != EBUSY) {
		int err = -errno;

		cp_seterr("cannot mount tracefs at %s: %s; mount it ('mount -t tracefs nodev %s') or use --syscalls all",
			  dir, strerror(errno), dir);
		return err;
	}
	if (access("/sys/kernel/tracing/events/syscalls", F_OK)) {
		cp_seterr("tracefs has no syscall events (kernel without CONFIG_FTRACE_SYSCALLS); use --syscalls all or --no-syscalls");
		return -ENOENT;
	}
	return 0;
}

struct syslat *syslat__open(enum syslat_mode mode, int *err)
{
	struct bpf_program *prog;
	struct syslat *sl;

	*err = bpfutil__require_root();
	if (*err)
		return NULL;
	sl = calloc(1, sizeof(*sl));
	if (!sl) {
		*err = -ENOMEM;
		return NULL;
	}
	sl->ncpus = bpfutil__possible_cpus();
	if (sl->ncpus <= 0) {
		*err = sl->ncpus;
		goto fail;
	}
	sl->percpu = calloc(sl->ncpus, sizeof(*sl->percpu));
	if (!sl->percpu) {
		*err = -ENOMEM;
		goto fail;
	}
	sl->skel = syscalls_bpf__open();
	if (!sl->skel) {
		*err = -errno;
		cp_seterr("cannot open syscalls BPF object: %s", strerror(errno));
		goto fail;
	}
	/* raw sys_enter/sys_exit for "all", the per-syscall tracepoints otherwise */
	bpf_object__for_each_program(prog, sl->skel->obj) {
		bool raw = strncmp(bpf_program__name(prog), "sys_", 4) == 0;

		bpf_program__set_autoload(prog, raw == (mode == SYSLAT_ALL));
	}
	if (mode == SYSLAT_FSYNC) {
		*err = ensure_tracefs();
		if (*err)
			goto fail;
	}
	bpf_map__set_max_entries(sl->skel->maps.targets, SYSLAT_MAX_TARGETS);
	bpf_map__set_max_entries(sl->skel->maps.hists, SYSLAT_MAX_TARGETS * SYSLAT_NSYSCALLS * 2);
	*err = syscalls_bpf__load(sl->skel);
	if (*err) {
		bpfutil__load_failed("syscalls BPF programs", *err);
		goto fail;
	}
	*err = syscalls_bpf__attach(sl->skel);
	if (*err) {
		cp_seterr(mode == SYSLAT_ALL ? "cannot attach to raw tracepoints sys_enter/sys_exit: %s"
			  : "cannot attach to the tracepoints syscalls:sys_{enter,exit}_{fsync,fdatasync,sync_file_range}: %s",
			  strerror(-*err));
		goto fail;
	}
	return sl;
fail:
	syslat__close(sl);
	return NULL;
}

void syslat__close(struct syslat *sl)
{
	if (!sl)
		return;
	syscalls_bpf__destroy(sl->skel);
	for (int i = 0; i < sl->nt; i++)
		free(sl->t[i].component);
	free(sl->percpu);
	free(sl);
}

int syslat__add_target(struct syslat *sl, int pid, int64_t target_id, const char *component)
{
	struct syslat_target *t;
	uint32_t key = pid, one = 1;

	if (sl->nt >= SYSLAT_MAX_TARGETS) {
		cp_seterr("too many targets for syscall timing (at most %d)", SYSLAT_MAX_TARGETS);
		return -E2BIG;
	}
	t = &sl->t[sl->nt];
	t->component = strdup(component ? component : "");
	if (!t->component)
		return -ENOMEM;
	t->pid = pid;
	t->target_id = target_id;
	t->since_ns = realtime_ns();
	if (bpf_map_update_elem(bpf_map__fd(sl->skel->maps.targets), &key, &one, BPF_ANY)) {
		int err = -errno;

		cp_seterr("cannot add pid %d to the syscall targets: %s", pid, strerror(errno));
		free(t->component);
		return err;
	}
	sl->nt++;
	return 0;
}

static struct syslat_target *target_of(struct syslat *sl, uint32_t tgid)
{
	/* the newest: a restarted server may get an exited one's pid */
	for (int i = sl->nt - 1; i >= 0; i--)
		if ((uint32_t)sl->t[i].pid == tgid)
			return &sl->t[i];
	return NULL;
}

/* Remove the starts of threads that no longer exist (killed inside a syscall). */
static void sweep_starts(struct syslat *sl)
{
	int fd = bpf_map__fd(sl->skel->maps.starts);
	uint64_t key, next, dead[256];
	int ndead = 0;
	char p[64];
	void *prev = NULL;

	while (ndead < (int)(sizeof(dead) / sizeof(dead[0])) &&
	       bpf_map_get_next_key(fd, prev, &next) == 0) {
		snprintf(p, sizeof(p), "/proc/%u/task/%u", (unsigned)(next >> 32), (unsigned)next);
		if (access(p, F_OK) != 0 && errno == ENOENT)
			dead[ndead++] = next;
		key = next;
		prev = &key;
	}
	for (int i = 0; i < ndead; i++)
		if (bpf_map_delete_elem(fd, &dead[i]) == 0)
			sl->swept++;
}

int syslat__flush(struct syslat *sl, struct store *st, int64_t run_id, int64_t now_ns)
{
	int fd = bpf_map__fd(sl->skel->maps.hists);
	struct syslat_key keys[SYSLAT_MAX_TARGETS * SYSLAT_NSYSCALLS], key, next;
	uint32_t old = sl->skel->bss->gen & 1;
	int nkeys = 0, rows = 0, err;
	void *prev = NULL;

	/* Flip first: from here on BPF adds into the other generation. */
	__atomic_store_n(&sl->skel->bss->gen, old ^ 1, __ATOMIC_SEQ_CST);

	/* Collect the old generation's keys, then delete as we read: deleting
	 * while walking with get_next_key would restart the walk. */
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		if (next.gen == old && nkeys < (int)(sizeof(keys) / sizeof(keys[0])))
			keys[nkeys++] = next;
		key = next;
		prev = &key;
	}
	for (int k = 0; k < nkeys; k++) {
		struct syslat_target *t = target_of(sl, keys[k].tgid);
		__u64 count[LOGHIST_NBUCKETS] = { 0 }, sum[LOGHIST_NBUCKETS] = { 0 };

		if (bpf_map_lookup_and_delete_elem(fd, &keys[k], sl->percpu))
			continue;
		if (!t || keys[k].sc >= SYSLAT_NSYSCALLS)
			continue;
		for (int c = 0; c < sl->ncpus; c++) {
			loghist__merge(count, sl->percpu[c].count);
			loghist__merge(sum, sl->percpu[c].sum_ns);
		}
		for (int b = 0; b < LOGHIST_NBUCKETS; b++) {
			struct syscall_rec r = {
				.run_id = run_id, .target_id = t->target_id,
				.component = t->component, .syscall = names[keys[k].sc],
				.interval_start_ns = t->since_ns,
				.interval_ns = now_ns - t->since_ns,
				.le_ns = (int64_t)loghist_upper(b),
				.count = (int64_t)count[b], .sum_ns = (int64_t)sum[b],
			};

			if (!count[b])
				continue;
			err = store__add_syscall(st, &r);
			if (err)
				return err;
			rows++;
		}
	}
	for (int i = 0; i < sl->nt; i++)
		sl->t[i].since_ns = now_ns;
	/* exited targets had their last interval: free their slots */
	{
		int j = 0;

		for (int i = 0; i < sl->nt; i++) {
			if (sl->t[i].gone)
				free(sl->t[i].component);
			else
				sl->t[j++] = sl->t[i];
		}
		sl->nt = j;
	}
	sweep_starts(sl);
	return rows;
}

void syslat__remove_target(struct syslat *sl, int pid)
{
	uint32_t key = pid;

	for (int i = sl->nt - 1; i >= 0; i--) {
		if (sl->t[i].pid != pid || sl->t[i].gone)
			continue;
		/* a process that gets the pid later is not timed as this target */
		bpf_map_delete_elem(bpf_map__fd(sl->skel->maps.targets), &key);
		sl->t[i].gone = true;
		return;
	}
}

void syslat__stats(struct syslat *sl, uint64_t out[SYSLAT_STAT__MAX])
{
	uint64_t v[sl->ncpus];

	bpfutil__percpu_sum_buf(bpf_map__fd(sl->skel->maps.stats), SYSLAT_STAT__MAX, sl->ncpus, v, out);
}
