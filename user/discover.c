// SPDX-License-Identifier: MIT
/* discover: target processes from /proc, by pid or by name. See discover.h. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "discover.h"
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

int discover__pid(int pid, struct target_proc *out)
{
	char path[64];
	ssize_t n;
	int err;

	memset(out, 0, sizeof(*out));
	out->pid = pid;
	if (!discover__alive(pid)) {
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
	return 0;
}

bool discover__alive(int pid)
{
	char path[64], buf[512], *p;
	FILE *f;
	bool alive = false;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return false;
	if (fgets(buf, sizeof(buf), f)) {
		/* state follows the last ')' of the comm field (proc(5)) */
		p = strrchr(buf, ')');
		alive = p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
	}
	fclose(f);
	return alive;
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

int discover__by_name(const char *const *names, int nnames, struct target_proc *out, int max)
{
	struct dirent *de;
	DIR *d;
	int n = 0, i;

	d = opendir("/proc");
	if (!d) {
		cp_seterr("cannot open /proc: %s", strerror(errno));
		return -errno;
	}
	while ((de = readdir(d)) && n < max) {
		struct target_proc t;
		const char *exe_base;
		char *end;
		long pid;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid = strtol(de->d_name, &end, 10);
		if (*end || pid <= 0 || pid == getpid())
			continue;
		if (discover__pid((int)pid, &t))
			continue;
		/* "/usr/bin/etcd (deleted)" after an upgrade still names it */
		exe_base = base_name(t.exe);
		for (i = 0; i < nnames; i++) {
			size_t len = strlen(names[i]);

			if (strcmp(t.comm, names[i]) == 0 ||
			    (strncmp(exe_base, names[i], len) == 0 &&
			     (exe_base[len] == 0 || strcmp(exe_base + len, " (deleted)") == 0))) {
				out[n++] = t;
				break;
			}
		}
	}
	closedir(d);
	return n;
}
