// SPDX-License-Identifier: MIT
/*
 * bpfutil: libbpf chores shared by the modules that load BPF programs.
 * See bpfutil.h.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpfutil.h"
#include "log.h"

int bpfutil__libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG && log_verbosity < LOG_DEBUG)
		return 0;
	if (level == LIBBPF_INFO && log_verbosity < LOG_VERBOSE)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

int bpfutil__require_root(void)
{
	if (geteuid() != 0) {
		cp_seterr("BPF needs root (or CAP_BPF and CAP_PERFMON): run it with sudo");
		return -EPERM;
	}
	return 0;
}

int bpfutil__load_failed(const char *what, int err)
{
	if (err == -EPERM || err == -EACCES)
		/* root without the capabilities (a container, setpriv): say which */
		cp_seterr("cannot load %s: %s: needs root, or CAP_SYS_ADMIN and CAP_SYS_PTRACE "
			  "(see cpprof(8), DEPLOYMENT)", what, strerror(-err));
	else
		cp_seterr("cannot load %s: %s (is the kernel built with BPF and BTF? run with -vv "
			  "for the verifier log)", what, strerror(-err));
	return err;
}

int bpfutil__possible_cpus(void)
{
	int n = libbpf_num_possible_cpus();

	if (n <= 0) {
		n = n ? n : -EINVAL;
		cp_seterr("cannot count possible CPUs: %s", strerror(-n));
	}
	return n;
}

void bpfutil__percpu_sum_buf(int fd, uint32_t nkeys, int ncpus, uint64_t *buf, uint64_t *out)
{
	uint32_t k;
	int c;

	for (k = 0; k < nkeys; k++) {
		out[k] = 0;
		if (bpf_map_lookup_elem(fd, &k, buf))
			continue;
		for (c = 0; c < ncpus; c++)
			out[k] += buf[c];
	}
}

int bpfutil__percpu_sum(int fd, uint32_t nkeys, uint64_t *out)
{
	int ncpus = libbpf_num_possible_cpus();
	uint64_t *buf;

	if (ncpus <= 0)
		return ncpus ? ncpus : -EINVAL;
	buf = calloc(ncpus, sizeof(*buf));
	if (!buf)
		return -ENOMEM;
	bpfutil__percpu_sum_buf(fd, nkeys, ncpus, buf, out);
	free(buf);
	return 0;
}

struct bpf_link *bpfutil__attach_site(const struct bpf_program *prog, int pid, const char *exe,
				      const struct probe_site *s, uint64_t cookie, int *err)
{
	LIBBPF_OPTS(bpf_uprobe_opts, uo, .bpf_cookie = cookie);
	struct bpf_link *link;

	link = bpf_program__attach_uprobe_opts(prog, pid, exe, s->file_off, &uo);
	if (!link) {
		*err = -errno;
		cp_seterr("cannot attach uprobe to '%s' at 0x%llx (file offset 0x%llx): %s",
			  s->func, (unsigned long long)s->addr, (unsigned long long)s->file_off,
			  strerror(errno));
	}
	return link;
}

int bpfutil__share_map(struct bpf_map *m, int fd, const char *what)
{
	int err;

	if (!bpf_map__reuse_fd(m, fd))
		return 0;
	err = -errno;
	cp_seterr("cannot share %s: %s", what, strerror(errno));
	return err;
}

struct ring_buffer *bpfutil__ring_open(struct bpf_map *events, ring_buffer_sample_fn fn, void *ctx,
				       const char *what, int *err)
{
	struct ring_buffer *rb = ring_buffer__new(bpf_map__fd(events), fn, ctx, NULL);

	if (!rb) {
		*err = -errno;
		cp_seterr("cannot open %s: %s", what, strerror(errno));
	}
	return rb;
}

void bpfutil__links_truncate(struct bpfutil_link *links, int *n, int from)
{
	while (*n > from)
		bpf_link__destroy(links[--*n].link);
}

int bpfutil__links_drop_pid(struct bpfutil_link *links, int n, int pid)
{
	int i, j = 0;

	for (i = 0; i < n; i++) {
		if (links[i].pid == pid)
			bpf_link__destroy(links[i].link);
		else
			links[j++] = links[i];
	}
	return j;
}

/*
 * Destroying a uprobe link waits until no CPU can still be running its
 * probe (the kernel's uprobe_unregister synchronizes): measured here at
 * 0.2 to 1 s per target on a loaded two-CPU guest, all of it time in
 * which a recording following its targets would not see the restarted
 * server. The probes of a process that has exited can never fire again,
 * so one thread destroys them in the background; bpfutil__links_settle()
 * waits for it.
 */
static struct {
	pthread_mutex_t mu;
	pthread_cond_t more, idle;
	struct bpf_link **q;
	size_t n, cap;
	bool busy, started;
} reaper = { .mu = PTHREAD_MUTEX_INITIALIZER, .more = PTHREAD_COND_INITIALIZER,
	     .idle = PTHREAD_COND_INITIALIZER };

static void *reaper_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&reaper.mu);
	for (;;) {
		struct bpf_link *l;

		while (!reaper.n)
			pthread_cond_wait(&reaper.more, &reaper.mu);
		l = reaper.q[--reaper.n];
		reaper.busy = true;
		pthread_mutex_unlock(&reaper.mu);
		bpf_link__destroy(l);
		pthread_mutex_lock(&reaper.mu);
		reaper.busy = false;
		if (!reaper.n)
			pthread_cond_broadcast(&reaper.idle);
	}
	return NULL;
}

/* Queue L for the reaper thread (started on first use); destroy it here if that cannot be. */
static void destroy_later(struct bpf_link *l)
{
	pthread_mutex_lock(&reaper.mu);
	if (!reaper.started) {
		sigset_t all, old;
		pthread_t th;

		/* signals stay with the recording's own thread */
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		reaper.started = pthread_create(&th, NULL, reaper_main, NULL) == 0;
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		if (reaper.started)
			pthread_detach(th);
	}
	if (reaper.started && reaper.n == reaper.cap) {
		size_t cap = reaper.cap ? reaper.cap * 2 : 64;
		void *q = realloc(reaper.q, cap * sizeof(*reaper.q));

		if (q) {
			reaper.q = q;
			reaper.cap = cap;
		}
	}
	if (!reaper.started || reaper.n == reaper.cap) {
		pthread_mutex_unlock(&reaper.mu);
		bpf_link__destroy(l);
		return;
	}
	reaper.q[reaper.n++] = l;
	pthread_cond_signal(&reaper.more);
	pthread_mutex_unlock(&reaper.mu);
}

int bpfutil__links_drop_pid_later(struct bpfutil_link *links, int n, int pid)
{
	int i, j = 0;

	for (i = 0; i < n; i++) {
		if (links[i].pid == pid)
			destroy_later(links[i].link);
		else
			links[j++] = links[i];
	}
	return j;
}

void bpfutil__link_destroy_later(struct bpf_link *link)
{
	if (link)
		destroy_later(link);
}

void bpfutil__links_settle(void)
{
	pthread_mutex_lock(&reaper.mu);
	while (reaper.n || reaper.busy)
		pthread_cond_wait(&reaper.idle, &reaper.mu);
	pthread_mutex_unlock(&reaper.mu);
}
