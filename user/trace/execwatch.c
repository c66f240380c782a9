// SPDX-License-Identifier: MIT
/* execwatch: the exec counter of proc_exec.bpf.c. See execwatch.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "bpfutil.h"
#include "execwatch.h"
#include "log.h"
#include "proc_exec.skel.h"

struct execwatch {
	struct proc_exec_bpf *skel;
};

struct execwatch *execwatch__open(int *err)
{
	struct execwatch *w;

	libbpf_set_print(bpfutil__libbpf_print);
	if ((*err = bpfutil__require_root()))
		return NULL;
	w = calloc(1, sizeof(*w));
	if (!w) {
		*err = -ENOMEM;
		cp_seterr("out of memory");
		return NULL;
	}
	w->skel = proc_exec_bpf__open_and_load();
	if (!w->skel) {
		*err = -errno;
		bpfutil__load_failed("the exec counter", *err);
		goto fail;
	}
	if ((*err = proc_exec_bpf__attach(w->skel))) {
		cp_seterr("cannot attach to the sched_process_exec tracepoint: %s", strerror(-*err));
		goto fail;
	}
	return w;
fail:
	execwatch__close(w);
	return NULL;
}

void execwatch__close(struct execwatch *w)
{
	if (!w)
		return;
	proc_exec_bpf__destroy(w->skel);
	free(w);
}

uint64_t execwatch__count(const struct execwatch *w)
{
	return __atomic_load_n(&w->skel->bss->execs, __ATOMIC_RELAXED);
}
