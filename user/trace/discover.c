// SPDX-License-Identifier: MIT
/* discover: target processes from /proc, by pid or by name. See discover.h. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "discover.h"
#include "goelf.h"
#include "log.h"

static int read_comm(int pid, char *buf, size_t len)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	if (!fgets(buf, len, f))
		buf[0] = 0;
	fclose(f);
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

static int read_stat(int pid, char *state, unsigned long long *start_ticks);

int discover__pid(int pid, struct target_proc *out)
{
	char path[64];
	ssize_t n;
	int err;
	unsigned long long start;
	char state;

	memset(out, 0, sizeof(*out));
	out->pid = pid;
	if (read_stat(pid, &state, &start) || state == 'Z' || state == 'X') {
		cp_seterr("no process with pid %d", pid);
		return -ESRCH;
	}
	err = read_comm(pid, out->comm, sizeof(out->comm));
	if (err) {
		cp_seterr("cannot read /proc/%d/comm: %s", pid, strerror(-err));
		return err;
	}
	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	n = readlink(path, out->exe, sizeof(out->exe) - 1);
	if (n < 0) {
		err = -errno;
		if (err == -ENOENT)
			cp_seterr("pid %d ('%s') has no executable (a kernel thread?)", pid, out->comm);
		else
			cp_seterr("cannot read %s: %s (run as root)", path, strerror(errno));
		return err;
	}
	out->exe[n] = 0;
	out->start_ticks = start;
	return 0;
}

/*
 * PID's state letter and start time from /proc/PID/stat: 0, or -errno
 * when the process is gone. The fields after the comm are counted from
 * its last ')' (the comm may hold spaces and parentheses, proc(5)).
 */
static int read_stat(int pid, char *state, unsigned long long *start_ticks)
{
	char path[64], buf[1024], *p;
	int field;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
	fclose(f);
	if (!p || p[1] != ' ')
		return -ESRCH;
	*state = p[2];
	*start_ticks = 0;
	/* state is field 3, starttime field 22 */
	for (field = 3, p += 2; *p && field < 22; p++)
		if (*p == ' ')
			field++;
	if (field == 22)
		*start_ticks = strtoull(p, NULL, 10);
	return 0;
}

bool discover__alive(int pid)
{
	unsigned long long start;
	char state;

	return read_stat(pid, &state, &start) == 0 && state != 'Z' && state != 'X';
}

bool discover__same(const struct target_proc *t)
{
	unsigned long long start;
	char state, path[64], exe[sizeof(t->exe)];
	ssize_t n;

	if (read_stat(t->pid, &state, &start) || state == 'Z' || state == 'X' || start != t->start_ticks)
		return false;
	/* an exec keeps the pid and the start time but replaces the program */
	snprintf(path, sizeof(path), "/proc/%d/exe", t->pid);
	n = readlink(path, exe, sizeof(exe) - 1);
	if (n < 0)
		return false;
	exe[n] = 0;
	return strcmp(exe, t->exe) == 0;
}

long long discover__started_ns(const struct target_proc *t)
{
	struct timespec rt, bt;
	long hz = sysconf(_SC_CLK_TCK);

	/* starttime counts from boot on CLOCK_BOOTTIME (fs/proc/array.c, start_boottime) */
	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_BOOTTIME, &bt);
	if (hz <= 0)
		hz = 100;
	return ((long long)rt.tv_sec - bt.tv_sec) * 1000000000LL + (rt.tv_nsec - bt.tv_nsec) +
	       (long long)(t->start_ticks / hz) * 1000000000LL +
	       (long long)(t->start_ticks % hz) * (1000000000LL / hz);
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

/*
 * Every process but ourselves and kernel threads, in /proc order: KEEP
 * says whether T is wanted. Fills OUT up to MAX; the count, or -errno.
 */
static int scan_proc(bool (*keep)(const struct target_proc *t, void *ctx), void *ctx,
		     struct target_proc *out, int max)
{
	struct dirent *de;
	DIR *d;
	int n = 0;

	d = opendir("/proc");
	if (!d) {
		cp_seterr("cannot open /proc: %s", strerror(errno));
		return -errno;
	}
	while ((de = readdir(d)) && n < max) {
		struct target_proc t;
		char *end;
		long pid;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid = strtol(de->d_name, &end, 10);
		if (*end || pid <= 0 || pid == getpid())
			continue;
		if (discover__pid((int)pid, &t))
			continue; /* gone meanwhile, or a kernel thread (no exe) */
		if (keep(&t, ctx))
			out[n++] = t;
	}
	closedir(d);
	return n;
}

struct names { const char *const *names; int n; };

static bool named(const struct target_proc *t, void *ctx)
{
	const struct names *nm = ctx;
	/* "/usr/bin/etcd (deleted)" after an upgrade still names it */
	const char *exe_base = base_name(t->exe);

	for (int i = 0; i < nm->n; i++) {
		size_t len = strlen(nm->names[i]);

		if (strcmp(t->comm, nm->names[i]) == 0 ||
		    (strncmp(exe_base, nm->names[i], len) == 0 &&
		     (exe_base[len] == 0 || strcmp(exe_base + len, " (deleted)") == 0)))
			return true;
	}
	return false;
}

int discover__by_name(const char *const *names, int nnames, struct target_proc *out, int max)
{
	struct names nm = { names, nnames };

	return scan_proc(named, &nm, out, max);
}

/*
 * Main packages of the servers, as their build info names them:
 * kube-apiserver is k8s.io/kubernetes/cmd/kube-apiserver (vendored or
 * built from staging alike); etcd 3.4 is go.etcd.io/etcd, 3.5+ upstream is
 * go.etcd.io/etcd/server/v3 and Debian's GOPATH build go.etcd.io/etcd/server;
 * releases before 3.4 were github.com/coreos/etcd. etcdctl and etcdutl
 * (go.etcd.io/etcd/etcdctl/v3, ...) are clients and must not match.
 */
enum discover_role discover__role_of_main(const char *mp)
{
	static const char *const etcd_mains[] = {
		"go.etcd.io/etcd", "go.etcd.io/etcd/server", "go.etcd.io/etcd/server/v3",
		"github.com/coreos/etcd",
	};
	size_t i, n;

	if (!mp || !*mp)
		return DISCOVER_NONE;
	n = strlen(mp);
	if (n >= 19 && strcmp(mp + n - 19, "/cmd/kube-apiserver") == 0)
		return DISCOVER_APISERVER;
	for (i = 0; i < sizeof(etcd_mains) / sizeof(etcd_mains[0]); i++)
		if (strcmp(mp, etcd_mains[i]) == 0)
			return DISCOVER_ETCD;
	return DISCOVER_NONE;
}

/* argv[1] of PID into BUF ("" when there is none). */
static void read_arg1(int pid, char *buf, size_t len)
{
	char path[64], raw[256];
	size_t n, a0;
	FILE *f;

	buf[0] = 0;
	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	f = fopen(path, "r");
	if (!f)
		return;
	n = fread(raw, 1, sizeof(raw) - 1, f);
	fclose(f);
	raw[n] = 0;
	a0 = strlen(raw);
	if (a0 + 1 < n)
		snprintf(buf, len, "%s", raw + a0 + 1);
}

static enum discover_role role_by_name(const struct target_proc *t)
{
	const char *base = base_name(t->exe);

	if (strncmp(t->comm, "kube-apiserver", 14) == 0 || strncmp(base, "kube-apiserver", 14) == 0)
		return DISCOVER_APISERVER;
	if (strcmp(t->comm, "etcd") == 0 || strcmp(base, "etcd") == 0 ||
	    strcmp(base, "etcd (deleted)") == 0)
		return DISCOVER_ETCD;
	return DISCOVER_NONE;
}

/*
 * What a binary's main package makes it, cached by file identity: opening
 * every process's executable with libelf is what a /proc scan costs, and
 * a master VM runs the same few binaries. Bounded; a full cache is simply
 * not consulted for new files. Single-threaded callers only (record's
 * main loop).
 */
#define ROLE_CACHE 512
enum { MAIN_OTHER = 0, MAIN_HYPERKUBE = 1 << 4 };
static struct role_entry {
	dev_t dev;
	ino_t ino;
	struct timespec mtime;
	unsigned what; /* a discover_role, MAIN_HYPERKUBE or MAIN_OTHER */
} role_cache[ROLE_CACHE];
static int role_cached;

static unsigned main_kind(int pid)
{
	const char *mp = NULL;
	unsigned what = MAIN_OTHER;
	char exe[64];
	struct stat st;
	struct goelf *g;
	int err, i;

	/* through /proc: the path may not exist in our mount namespace */
	snprintf(exe, sizeof(exe), "/proc/%d/exe", pid);
	if (stat(exe, &st))
		return MAIN_OTHER;
	for (i = 0; i < role_cached; i++)
		if (role_cache[i].dev == st.st_dev && role_cache[i].ino == st.st_ino &&
		    role_cache[i].mtime.tv_sec == st.st_mtim.tv_sec &&
		    role_cache[i].mtime.tv_nsec == st.st_mtim.tv_nsec)
			return role_cache[i].what;
	g = goelf__open(exe, &err);
	if (g && goelf__is_go(g))
		mp = goelf__main_path(g);
	if (mp && *mp) {
		what = discover__role_of_main(mp);
		if (what == DISCOVER_NONE && strstr(mp, "/cmd/hyperkube"))
			what = MAIN_HYPERKUBE;
	}
	goelf__close(g);
	if (g && role_cached < ROLE_CACHE)
		role_cache[role_cached++] = (struct role_entry){ st.st_dev, st.st_ino, st.st_mtim, what };
	return what;
}

enum discover_role discover__role(const struct target_proc *t)
{
	enum discover_role r = DISCOVER_NONE;
	unsigned what = main_kind(t->pid);
	char arg1[64];

	if (what == MAIN_HYPERKUBE) {
		/* hyperkube: one binary, the component is its first argument */
		read_arg1(t->pid, arg1, sizeof(arg1));
		if (strcmp(arg1, "kube-apiserver") == 0 || strcmp(arg1, "apiserver") == 0)
			r = DISCOVER_APISERVER;
	} else {
		r = what;
	}
	/*
	 * A main package that is not a server still goes by its name, as
	 * before (stand-ins run as 'kube-apiserver'); 'etcd' must be the
	 * whole name, so etcdctl and etcdutl never match.
	 */
	return r != DISCOVER_NONE ? r : role_by_name(t);
}

static bool a_default_target(const struct target_proc *t, void *ctx)
{
	enum discover_role r = discover__role(t);

	*(unsigned *)ctx |= r;
	return r != DISCOVER_NONE;
}

int discover__defaults(struct target_proc *out, int max, unsigned *found)
{
	*found = 0;
	return scan_proc(a_default_target, found, out, max);
}
