// SPDX-License-Identifier: MIT
/*
 * probecost: measure what one uprobe hit costs on this machine, on an
 * instruction the kernel emulates (the Go prologue's stack-check jcc, and
 * the "push rbp" after it, where cpprof puts its probes) and on one it
 * must single-step (the prologue's first instruction, at the function
 * entry). It runs tools/probecost/loop (a Go program calling main.work in
 * a tight loop) without a probe and with cpprof's write_header BPF program
 * at each of the three places, and prints the added time per call, as
 * wall time and as the loop's CPU time (rusage). The CPU time is what a
 * target pays; on a busy machine the wall time also holds waiting for a
 * CPU. In a PVM guest (this CI's) a hit is a trap that goes through the
 * host both ways: ~0.7 us on an idle host, 5-7 us of the target's CPU
 * (mostly system time, charged at pvm_irq_enable on the way back) when
 * the host is busy.
 *
 * usage: probecost LOOP_BINARY [CALLS]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <bpf/libbpf.h>

#include "go_http.skel.h"
#include "goelf.h"
#include "gopclntab.h"
#include "log.h"
#include "retsites.h"

/* CPU seconds (user + system) of the waited-for children so far. */
static double children_cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_CHILDREN, &ru);
	return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/*
 * One run of the loop: wall ns per call as the loop prints it, and in
 * *CPU the CPU ns per call the loop was charged (its rusage): on a busy
 * machine the wall time also holds the time the loop waited for a CPU,
 * the CPU time only what the calls, and the probe hits, cost.
 */
static double run_loop(const char *bin, long calls, double *cpu)
{
	char cmd[1024], line[256];
	double ns = -1, c0;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "exec %s -n %ld", bin, calls);
	c0 = children_cpu_s();
	p = popen(cmd, "r");
	if (!p)
		return -1;
	while (fgets(line, sizeof(line), p))
		sscanf(line, "ns_per_call %lf", &ns);
	pclose(p);
	*cpu = (children_cpu_s() - c0) * 1e9 / calls;
	return ns;
}

static double median3(double a, double b, double c)
{
	if (a > b) { double t = a; a = b; b = t; }
	if (b > c) { double t = b; b = c; c = t; }
	if (a > b) { double t = a; a = b; b = t; }
	return b;
}

static double measure(const char *bin, long calls, double *cpu)
{
	double c[3], w[3];

	for (int i = 0; i < 3; i++)
		w[i] = run_loop(bin, calls, &c[i]);
	*cpu = median3(c[0], c[1], c[2]);
	return median3(w[0], w[1], w[2]);
}

static double with_probe(struct go_http_bpf *skel, const char *bin, uint64_t off, long calls, double *cpu)
{
	LIBBPF_OPTS(bpf_uprobe_opts, uo);
	struct bpf_link *l;
	double ns;

	l = bpf_program__attach_uprobe_opts(skel->progs.write_header, -1, bin, off, &uo);
	if (!l) {
		fprintf(stderr, "probecost: cannot attach at 0x%llx: %s\n", (unsigned long long)off,
			strerror(errno));
		return -1;
	}
	ns = measure(bin, calls, cpu);
	bpf_link__destroy(l);
	return ns;
}

int main(int argc, char **argv)
{
	struct go_http_bpf *skel = NULL;
	struct gopclntab *pt = NULL;
	struct goelf *g = NULL;
	struct func_layout lay;
	struct gofunc f;
	uint64_t off_entry, off_jcc, off_after = 0;
	long calls = argc > 2 ? atol(argv[2]) : 2000000;
	double base, jcc, entry, after = -1, cbase, cjcc, centry, cafter = -1;
	int err = 1;

	if (argc < 2) {
		fprintf(stderr, "usage: probecost LOOP_BINARY [CALLS]\n");
		return 2;
	}
	g = goelf__open(argv[1], &err);
	if (!g || !(pt = gopclntab__open(g, &err)) || gopclntab__find(pt, "main.work", &f)) {
		fprintf(stderr, "probecost: cannot find main.work in '%s': %s\n", argv[1], cp_lasterr());
		goto out;
	}
	if (retsites__analyze(goelf__ptr(g, f.entry, f.end - f.entry), f.end - f.entry, f.entry, &lay) ||
	    !lay.stack_check_jcc) {
		fprintf(stderr, "probecost: main.work has no stack-check jump\n");
		goto out;
	}
	if (goelf__vaddr_to_offset(g, f.entry, &off_entry) ||
	    goelf__vaddr_to_offset(g, lay.stack_check_jcc, &off_jcc))
		goto out;
	if (lay.after_jcc && retsites__is_emulated(goelf__ptr(g, f.entry, f.end - f.entry), f.end - f.entry,
						   f.entry, lay.after_jcc, NULL, 0))
		goelf__vaddr_to_offset(g, lay.after_jcc, &off_after);
	skel = go_http_bpf__open_and_load();
	if (!skel) {
		fprintf(stderr, "probecost: cannot load BPF (root?)\n");
		goto out;
	}
	base = measure(argv[1], calls, &cbase);
	jcc = with_probe(skel, argv[1], off_jcc, calls, &cjcc);
	entry = with_probe(skel, argv[1], off_entry, calls, &centry);
	if (off_after)
		after = with_probe(skel, argv[1], off_after, calls, &cafter);
	if (base < 0 || jcc < 0 || entry < 0)
		goto out;
	printf("probe_base_ns_per_call %.1f\n", base);
	printf("probe_hit_emulated_us %.2f   (stack-check jcc)\n", (jcc - base) / 1000.0);
	if (after >= 0)
		printf("probe_hit_emulated_push_us %.2f   (push rbp after the stack check)\n",
		       (after - base) / 1000.0);
	printf("probe_hit_single_step_us %.2f   (function entry)\n", (entry - base) / 1000.0);
	printf("probe_single_step_vs_emulated %.1f\n", (entry - base) / (jcc - base));
	/* The same, as the loop's CPU time: what the target pays for a hit. */
	printf("probe_hit_emulated_cpu_us %.2f   (stack-check jcc, CPU time of the target)\n",
	       (cjcc - cbase) / 1000.0);
	if (after >= 0)
		printf("probe_hit_emulated_push_cpu_us %.2f   (push rbp after the stack check, CPU time)\n",
		       (cafter - cbase) / 1000.0);
	printf("probe_hit_single_step_cpu_us %.2f   (function entry, CPU time)\n", (centry - cbase) / 1000.0);
	err = 0;
out:
	go_http_bpf__destroy(skel);
	gopclntab__close(pt);
	goelf__close(g);
	return err;
}
