// SPDX-License-Identifier: MIT
/*
 * sys_driver: syscall latency (user/trace/syslat.c) and the socket view
 * (user/trace/sockview.c) without the rest of cpprof record, for
 * tests/integration/test_sys.py, which builds it against the objects in
 * build/user (no Makefile rule needed).
 *
 *   sys_driver DB PID COMPONENT INTERVAL_MS
 *       begin a run labelled "sys" in DB, attach to PID, print "ready";
 *       flush every INTERVAL_MS; on SIGINT/SIGTERM flush once more, end the
 *       run and print one JSON line of the BPF counters
 *   sys_driver none
 *       load and attach both BPF objects with no target, print "ready",
 *       wait for SIGINT/SIGTERM (overhead measurements)
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "sockview.h"
#include "store.h"
#include "syslat.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int64_t now_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct syslat *sl = NULL;
	struct sockview *sv = NULL;
	struct store *st = NULL;
	int64_t run_id = 0, target_id = 0, last;
	uint64_t ss[SYSLAT_STAT__MAX], ks[SOCK_STAT__MAX];
	enum syslat_mode mode = SYSLAT_ALL;
	int err = 0, pid, interval_ms;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* SYSLAT_MODE=fsync|all picks the syscall view (default: all) */
	if (getenv("SYSLAT_MODE") && syslat__parse_mode(getenv("SYSLAT_MODE"), &mode)) {
		fprintf(stderr, "sys_driver: SYSLAT_MODE must be fsync or all\n");
		return 2;
	}
	if (argc == 2 && strcmp(argv[1], "none") == 0) {
		sl = syslat__open(mode, &err);
		sv = sl ? sockview__open(&err) : NULL;
		if (!sv) {
			fprintf(stderr, "sys_driver: %s\n", cp_lasterr());
			syslat__close(sl);
			return 1;
		}
		printf("ready\n");
		fflush(stdout);
		while (!stop)
			poll(NULL, 0, 100);
		sockview__close(sv);
		syslat__close(sl);
		return 0;
	}
	if (argc != 5) {
		fprintf(stderr, "usage: sys_driver DB PID COMPONENT INTERVAL_MS | sys_driver none\n");
		return 2;
	}
	pid = atoi(argv[2]);
	interval_ms = atoi(argv[4]);

	st = store__open(argv[1], &err);
	if (!st)
		goto fail;
	{
		struct run_info ri = { .label = "sys", .kind = "other",
				       .started_ns = now_ns(CLOCK_REALTIME), .command = "sys_driver" };
		struct target_info ti = { .pid = pid, .component = argv[3], .exe = "?",
					  .attached_ns = now_ns(CLOCK_REALTIME) };

		if ((err = store__begin_run(st, &ri, &run_id)) ||
		    (err = store__add_target(st, run_id, &ti, &target_id)))
			goto fail;
	}
	sl = syslat__open(mode, &err);
	if (!sl)
		goto fail;
	sv = sockview__open(&err);
	if (!sv)
		goto fail;
	if ((err = syslat__add_target(sl, pid, target_id, argv[3])) ||
	    (err = sockview__add_target(sv, pid, target_id, argv[3])))
		goto fail;
	printf("ready\n");
	fflush(stdout);

	last = now_ns(CLOCK_MONOTONIC);
	while (!stop) {
		poll(NULL, 0, 20);
		if (now_ns(CLOCK_MONOTONIC) - last < interval_ms * 1000000LL)
			continue;
		last = now_ns(CLOCK_MONOTONIC);
		if ((err = syslat__flush(sl, st, run_id, now_ns(CLOCK_REALTIME))) < 0 ||
		    (err = sockview__flush(sv, st, run_id, now_ns(CLOCK_REALTIME))) < 0 ||
		    (err = store__flush(st)))
			goto fail;
	}
	if ((err = syslat__flush(sl, st, run_id, now_ns(CLOCK_REALTIME))) < 0 ||
	    (err = sockview__flush(sv, st, run_id, now_ns(CLOCK_REALTIME))) < 0)
		goto fail;
	{
		struct run_stats rs = { .ended_ns = now_ns(CLOCK_REALTIME) };

		if ((err = store__end_run(st, run_id, &rs)))
			goto fail;
	}
	syslat__stats(sl, ss);
	sockview__stats(sv, ks);
	printf("{\"calls\":%llu,\"starts_full\":%llu,\"hists_full\":%llu,"
	       "\"sock_events\":%llu,\"counts_full\":%llu,\"peers_full\":%llu}\n",
	       (unsigned long long)ss[SYSLAT_STAT_CALLS],
	       (unsigned long long)ss[SYSLAT_STAT_STARTS_FULL],
	       (unsigned long long)ss[SYSLAT_STAT_HISTS_FULL],
	       (unsigned long long)ks[SOCK_STAT_EVENTS],
	       (unsigned long long)ks[SOCK_STAT_COUNTS_FULL],
	       (unsigned long long)ks[SOCK_STAT_PEERS_FULL]);
	err = 0;
fail:
	if (err < 0)
		fprintf(stderr, "sys_driver: %s\n", cp_lasterr());
	sockview__close(sv);
	syslat__close(sl);
	store__close(st);
	return err < 0 ? 1 : 0;
}
