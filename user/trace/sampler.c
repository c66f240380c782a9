// SPDX-License-Identifier: MIT
/*
 * sampler: perf_event CPU sampling of the targets. See sampler.h.
 *
 * The software cpu-clock event counts nanoseconds of CPU time per CPU, so
 * with a fixed sample_period of 1e9/hz every sample stands for exactly
 * that much CPU of the task it interrupted (kernel/events/core.c,
 * perf_swevent_hrtimer). Hardware cycles are not used even where they
 * exist: a cycle-based period has no fixed CPU-time weight, and the
 * counts must add up to what /proc/PID/stat says.
 */
#include <errno.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpfutil.h"
#include "cpu_sample.skel.h"
#include "lineage.h"
#include "log.h"
#include "sampler.h"

_Static_assert(sizeof(struct cpu_sample_event) == 56 + 8 * (CPU_USTACK_MAX + CPU_KSTACK_MAX),
	       "cpu_sample_event layout changed");
_Static_assert(sizeof(struct goreq_key) == 16 && sizeof(struct goreq_val) == 24,
	       "goreq layout changed");

#define MAX_CPUS 1024
#define MAX_TARGETS 64

struct sampler_target {
	int pid;
	struct bpf_link *entry, *newg;
};

struct sampler {
	struct cpu_sample_bpf *skel;
	struct ring_buffer *rb;
	struct bpf_link *links[MAX_CPUS];
	int nlinks;
	struct sampler_target targets[MAX_TARGETS];
	int ntargets;
	uint64_t period_ns;
	bool lineage;             /* go_http's goroutine map is shared: lineage probes can feed it */
	sampler_fn fn;
	void *ctx;
	int cb_err;
};

static int on_sample(void *ctx, void *data, size_t len)
{
	struct sampler *s = ctx;

	if (len < sizeof(struct cpu_sample_event) || s->cb_err)
		return 0;
	s->cb_err = s->fn(s->ctx, data);
	return s->cb_err < 0 ? s->cb_err : 0;
}

static int open_cpu_clock(int cpu, uint64_t period)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_SOFTWARE,
		.size = sizeof(attr),
		.config = PERF_COUNT_SW_CPU_CLOCK,
		.sample_period = period,
	};

	return syscall(__NR_perf_event_open, &attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
}

/* Parse a CPU list ("0-3,5") into ONLINE[MAX_CPUS]. 0 or -EINVAL. */
static int parse_cpu_list(const char *buf, bool *online)
{
	const char *p = buf;
	char *end;
	long a, b;

	while (*p && *p != '\n') {
		a = strtol(p, &end, 10);
		if (end == p || a < 0)
			return -EINVAL;
		b = a;
		p = end;
		if (*p == '-') {
			b = strtol(p + 1, &end, 10);
			if (end == p + 1 || b < a)
				return -EINVAL;
			p = end;
		}
		for (; a <= b && a < MAX_CPUS; a++)
			online[a] = true;
		if (*p == ',')
			p++;
		else if (*p && *p != '\n')
			return -EINVAL;
	}
	return 0;
}

static int online_cpus(bool *online)
{
	char buf[4096];
	FILE *f = fopen("/sys/devices/system/cpu/online", "re");
	int err;

	if (!f)
		return -errno;
	err = fgets(buf, sizeof(buf), f) ? parse_cpu_list(buf, online) : -EIO;
	fclose(f);
	return err;
}

struct sampler *sampler__open(int hz, int inflight_fd, int goreq_fd, int grpc_inflight_fd,
			      int *err)
{
	struct sampler *s;
	bool online[MAX_CPUS] = {};
	int i, fd;

	if (hz <= 0 || hz > 10000) {
		cp_seterr("sampling rate %d Hz is out of range (1-10000)", hz);
		*err = -EINVAL;
		return NULL;
	}
	*err = bpfutil__require_root();
	if (*err)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s) {
		*err = -ENOMEM;
		return NULL;
	}
	s->period_ns = 1000000000ULL / hz;
	s->lineage = goreq_fd >= 0;
	s->skel = cpu_sample_bpf__open();
	if (!s->skel) {
		*err = -errno;
		cp_seterr("cannot open the sampler's BPF object: %s", strerror(errno));
		goto fail;
	}
	if ((inflight_fd >= 0 && bpf_map__reuse_fd(s->skel->maps.inflight, inflight_fd)) ||
	    (goreq_fd >= 0 && bpf_map__reuse_fd(s->skel->maps.goreq, goreq_fd)) ||
	    (grpc_inflight_fd >= 0 &&
	     bpf_map__reuse_fd(s->skel->maps.grpc_inflight, grpc_inflight_fd))) {
		*err = -errno;
		cp_seterr("cannot share the request maps with the sampler: %s", strerror(errno));
		goto fail;
	}
	*err = cpu_sample_bpf__load(s->skel);
	if (*err) {
		bpfutil__load_failed("the sampler's BPF programs", *err);
		goto fail;
	}
	*err = online_cpus(online);
	if (*err) {
		cp_seterr("cannot read the online CPUs: %s", strerror(-*err));
		goto fail;
	}
	for (i = 0; i < MAX_CPUS; i++) {
		if (!online[i])
			continue;
		fd = open_cpu_clock(i, s->period_ns);
		if (fd < 0) {
			*err = -errno;
			cp_seterr("cannot open a cpu-clock perf event on CPU %d: %s%s", i, strerror(errno),
				  errno == EACCES || errno == EPERM ?
				  "; check kernel.perf_event_paranoid or run as root" :
				  errno == ENOENT || errno == EOPNOTSUPP ?
				  "; the kernel lacks software perf events (CONFIG_PERF_EVENTS)" : "");
			goto fail;
		}
		s->links[s->nlinks] = bpf_program__attach_perf_event(s->skel->progs.sample, fd);
		if (!s->links[s->nlinks]) {
			*err = -errno;
			close(fd);
			cp_seterr("cannot attach the sampler to CPU %d: %s", i, strerror(errno));
			goto fail;
		}
		s->nlinks++;
	}
	s->rb = ring_buffer__new(bpf_map__fd(s->skel->maps.samples), on_sample, s, NULL);
	if (!s->rb) {
		*err = -errno;
		cp_seterr("cannot open the sample ring buffer: %s", strerror(errno));
		goto fail;
	}
	return s;
fail:
	sampler__close(s);
	return NULL;
}

static void detach_target(struct sampler_target *t)
{
	bpf_link__destroy(t->entry);
	bpf_link__destroy(t->newg);
	t->entry = t->newg = NULL;
}

void sampler__close(struct sampler *s)
{
	int i;

	if (!s)
		return;
	for (i = 0; i < s->ntargets; i++)
		detach_target(&s->targets[i]);
	for (i = 0; i < s->nlinks; i++)
		bpf_link__destroy(s->links[i]);
	ring_buffer__free(s->rb);
	cpu_sample_bpf__destroy(s->skel);
	free(s);
}

int sampler__add_target(struct sampler *s, int pid, char *note, size_t notelen)
{
	struct sampler_target *t;
	struct lineage_plan lp;
	uint32_t key = pid, mode = 2;
	char path[64];
	int err;

	if (s->ntargets >= MAX_TARGETS) {
		cp_seterr("too many targets to sample (at most %d)", MAX_TARGETS);
		return -E2BIG;
	}
	t = &s->targets[s->ntargets];
	memset(t, 0, sizeof(*t));
	t->pid = pid;
	if (note && notelen)
		note[0] = 0;
	/*
	 * Lineage needs go_http's maps and a Go binary with the newproc1 shape
	 * we know. Through /proc: the file the process really runs, also in
	 * another mount namespace (a containerized kube-apiserver).
	 */
	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	err = lineage__plan(path, &lp);
	if (!err && !s->lineage) {
		cp_seterr("no HTTP tracing to share the goroutine map with");
		err = -ENOENT;
	}
	if (!err) {
		/* With callergp's slot proven, the newg probe alone (cookie: slot + 1). */
		if (lp.callergp_sp >= 0)
			t->newg = bpfutil__attach_site(s->skel->progs.newproc_newg, pid, path, &lp.newg,
						       (uint64_t)lp.callergp_sp + 1, &err);
		else
			t->entry = bpfutil__attach_site(s->skel->progs.newproc_entry, pid, path, &lp.entry,
							0, &err);
		if (t->entry)
			t->newg = bpfutil__attach_site(s->skel->progs.newproc_newg, pid, path, &lp.newg, 0,
						       &err);
		if (!t->newg)
			detach_target(t);
		else
			mode = 1;
	}
	if (mode != 1 && note && notelen)
		snprintf(note, notelen, "%s", cp_lasterr());
	if (bpf_map__update_elem(s->skel->maps.sample_targets, &key, sizeof(key), &mode, sizeof(mode),
				 BPF_ANY)) {
		err = -errno;
		detach_target(t);
		cp_seterr("cannot configure sampling of pid %d: %s", pid, strerror(errno));
		return err;
	}
	s->ntargets++;
	return mode == 1 ? 0 : 1;
}

static void remove_target(struct sampler *s, int pid, bool exited)
{
	uint32_t key = pid;
	int i, j = 0;

	bpf_map__delete_elem(s->skel->maps.sample_targets, &key, sizeof(key), 0);
	for (i = 0; i < s->ntargets; i++) {
		if (s->targets[i].pid != pid) {
			s->targets[j++] = s->targets[i];
		} else if (exited) {
			bpfutil__link_destroy_later(s->targets[i].entry);
			bpfutil__link_destroy_later(s->targets[i].newg);
		} else {
			detach_target(&s->targets[i]);
		}
	}
	s->ntargets = j;
}

void sampler__remove_target(struct sampler *s, int pid)
{
	remove_target(s, pid, false);
}

void sampler__forget(struct sampler *s, int pid)
{
	remove_target(s, pid, true);
}

int sampler__poll(struct sampler *s, int timeout_ms, sampler_fn fn, void *ctx)
{
	int n;

	s->fn = fn;
	s->ctx = ctx;
	s->cb_err = 0;
	n = ring_buffer__poll(s->rb, timeout_ms);
	if (n == -EINTR)
		n = 0;
	if (s->cb_err < 0)
		return s->cb_err;
	return n;
}

int sampler__stats(const struct sampler *s, uint64_t *out)
{
	return bpfutil__percpu_sum(bpf_map__fd(s->skel->maps.stats), CPU_STAT__MAX, out);
}

uint64_t sampler__period_ns(const struct sampler *s)
{
	return s->period_ns;
}
