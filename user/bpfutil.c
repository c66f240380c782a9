// SPDX-License-Identifier: MIT
/*
 * bpfutil: libbpf chores shared by the modules that load BPF programs.
 * See bpfutil.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
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
