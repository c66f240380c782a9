// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * proc_exec: count the execs of the machine, so that `cpprof record`,
 * following its targets across restarts, looks at /proc only when a
 * process may have started (a restarted server always comes through
 * exec), not on every tick. The raw tracepoint sched_process_exec fires
 * once the new executable is in place (fs/exec.c, exec_binprm), so a scan
 * after the count moved sees the new /proc/PID/exe. One add per exec is
 * all the rest of the machine pays.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* read by userspace through the skeleton's mmapped .bss */
__u64 execs = 0;

SEC("raw_tracepoint/sched_process_exec")
int on_exec(void *ctx)
{
	__sync_fetch_and_add(&execs, 1);
	return 0;
}
