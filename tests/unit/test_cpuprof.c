// SPDX-License-Identifier: MIT
/*
 * Unit tests of cpuprof.c: samples tied to their request whichever comes
 * first (the sample or the request's end), samples outside requests, of
 * requests never stored, of unknown processes; what lands in cpu_profile
 * and cpu_stacks (read back through a second SQLite connection), and the
 * totals adding up. Stacks are this test's own functions, symbolized from
 * its ELF symbol table through /proc/self/maps.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "cpuprof.h"
#include "log.h"
#include "store.h"

static char dir[] = "/tmp/cpprof-cpuprof.XXXXXX";
#include "tmpdb.h"

__attribute__((noinline)) void cpuprof_test_leaf(void)
{
	__asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) void cpuprof_test_caller(void)
{
	cpuprof_test_leaf();
	__asm__ volatile("" ::: "memory");
}

static struct cpu_sample_event ev;

static int sample(struct cpuprof *p, int tgid, uint64_t rw, uint64_t start, uint32_t flags)
{
	memset(&ev, 0, sizeof(ev));
	ev.tgid = tgid;
	ev.tid = tgid;
	ev.ts = 1000;
	ev.rw = rw;
	ev.req_start_ns = start;
	ev.flags = flags | CPU_F_USER;
	ev.ustack[0] = (uint64_t)(uintptr_t)&cpuprof_test_leaf;       /* an IP: the leaf's first byte */
	ev.ustack[1] = (uint64_t)(uintptr_t)&cpuprof_test_caller + 6; /* a return address in the caller */
	ev.ustack_bytes = 16;
	ev.kstack_bytes = 0;
	return cpuprof__sample(p, &ev);
}

static long long q(const char *db, const char *sql)
{
	return sql_int(db, sql);
}

/*
 * Thousands of ended requests (the ring of ended requests grows past its
 * first chunks and chunk table, and its index with it): each request's samples, before and
 * after its end, reach its call kind and its request_breakdown row; an
 * end seen twice for one request replaces the first (its later samples
 * count for the second call kind only), which moves entries of the index
 * around its hole; and every row is written when the ends are forgotten.
 */
#define MANY 20000

static void many_requests(const char *db)
{
	struct run_info ri = { .label = "m", .kind = "other", .started_ns = 1, .sample_hz = 1000 };
	struct target_info ti = { .pid = getpid(), .component = "apiserver", .exe = "/proc/self/exe" };
	struct run_stats rs = { .ended_ns = 2 };
	struct cpuprof_stats cs;
	struct cpuprof *p;
	struct store *st;
	int64_t run_id, target_id;
	int err, me = getpid(), i, bad = 0;
	long long want;

	st = store__open(db, &err);
	CHECK(st != NULL, "store__open: %s", cp_lasterr());
	if (!st)
		return;
	CHECK_INT(store__begin_run(st, &ri, &run_id), 0);
	CHECK_INT(store__add_target(st, run_id, &ti, &target_id), 0);
	p = cpuprof__new(st, run_id, 1000000, &err);
	CHECK(p != NULL, "cpuprof__new: %d", err);
	if (!p)
		return;
	CHECK_INT(cpuprof__add_target(p, me, target_id, "apiserver"), 0);
	/* request i: writer 0x1000 + i % 7 (writers are reused), start 1000 + i, i % 3 samples */
	for (i = 0; i < MANY; i++) {
		uint64_t rw = 0x1000 + i % 7, start = 1000 + (uint64_t)i;
		struct breakdown_rec br = { .run_id = run_id, .target_id = target_id,
					    .request_id = 5000 + i,
					    .request_start_ns = 5000 + i, .latency_ns = 1000000000,
					    .etcd_calls = 0, .etcd_ns = 0, .cpu_ns = -1, .serialization_ns = -1,
					    .apf_wait_ns = -1, .other_ns = -1 };

		if (i % 3 >= 1)
			bad += sample(p, me, rw, start, CPU_F_REQ) != 0;  /* before its end */
		bad += store__add_breakdown(st, &br) != 0;
		cpuprof__request_done(p, me, rw, start, "get", i % 2 ? "pods" : "nodes", "", "resource");
		cpuprof__request_breakdown(p, me, rw, start, 5000 + i);
		if (i % 3 == 2)
			bad += sample(p, me, rw, start, CPU_F_REQ) != 0;  /* after: late */
	}
	/* a second end of every 10th request: a new call kind, no breakdown row */
	for (i = 0; i < MANY; i += 10) {
		uint64_t rw = 0x1000 + i % 7, start = 1000 + (uint64_t)i;

		cpuprof__request_done(p, me, rw, start, "delete", "pods", "", "resource");
		bad += sample(p, me, rw, start, CPU_F_REQ) != 0;
	}
	/* the leaf alone, outside requests: another raw stack, another folded stack */
	for (i = 0; i < 3; i++) {
		bad += sample(p, me, 0, 0, 0) != 0;
		ev.ustack_bytes = 8;
		bad += cpuprof__sample(p, &ev) != 0;
	}
	cpuprof__tick(p);  /* none is 30 s old: all stay */
	for (i = 1; i < MANY; i += 10)
		bad += sample(p, me, 0x1000 + i % 7, 1000 + (uint64_t)i, CPU_F_REQ) != 0;
	CHECK_INT(bad, 0); /* cpuprof__sample and store__add_breakdown failures */
	CHECK_INT(cpuprof__write(p), 0);
	cpuprof__stats(p, &cs);
	/* i % 3 samples each, one more for each of the MANY / 10 replaced and of the MANY / 10 ticked */
	for (i = 0, want = 0; i < MANY; i++)
		want += i % 3;
	CHECK_INT(cs.attributed, want + MANY / 10 * 2);
	CHECK_INT(cs.unresolved, 0);
	CHECK_INT(store__end_run(st, run_id, &rs), 0);
	store__close(st);
	cpuprof__free(p);

	CHECK_INT(q(db, "SELECT sum(samples) FROM cpu_profile WHERE verb='delete'"), MANY / 10);
	CHECK_INT(q(db, "SELECT sum(samples) FROM cpu_stacks WHERE stack NOT LIKE '%cpuprof_test_caller%' "
			"AND stack LIKE '%cpuprof_test_leaf'"), 3);
	CHECK_INT(q(db, "SELECT sum(samples) FROM cpu_stacks WHERE verb = '' AND "
			"stack LIKE '%cpuprof_test_caller;cpuprof_test_leaf'"), 3);
	CHECK_INT(q(db, "SELECT count(*) FROM request_breakdown"), MANY);
	/* rows of replaced ends keep the CPU unset; the others have i % 3 samples (+1 ticked) */
	CHECK_INT(q(db, "SELECT count(*) FROM (SELECT request_start_ns - 5000 AS i, cpu_ns "
			"FROM request_breakdown) WHERE coalesce(cpu_ns, -1) != CASE WHEN i % 10 = 0 "
			"THEN -1 ELSE (i % 3 + (i % 10 = 1)) * 1000000 END"), 0);
	for (i = 0, want = 0; i < MANY; i++)
		want += i % 10 != 0 && (i % 3 != 0 || i % 10 == 1);
	CHECK_INT(q(db, "SELECT count(*) FROM request_breakdown WHERE cpu_ns > 0"), want);
	unlink(db);
	{
		char wal[4096];

		snprintf(wal, sizeof(wal), "%s-wal", db);
		unlink(wal);
		snprintf(wal, sizeof(wal), "%s-shm", db);
		unlink(wal);
	}
}

int main(void)
{
	struct run_info ri = { .label = "t", .kind = "other", .started_ns = 1, .sample_hz = 1000 };
	struct target_info ti = { .pid = getpid(), .component = "apiserver", .exe = "/proc/self/exe" };
	struct run_stats rs = { .ended_ns = 2 };
	struct cpuprof_stats cs;
	struct cpuprof *p;
	struct store *st;
	int64_t run_id, target_id;
	const char *db;
	int err, me = getpid(), i;

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	db = tmp("p.db");
	st = store__open(db, &err);
	CHECK(st != NULL, "store__open: %s", cp_lasterr());
	if (!st)
		return check_summary("test_cpuprof");
	CHECK_INT(store__begin_run(st, &ri, &run_id), 0);
	CHECK_INT(store__add_target(st, run_id, &ti, &target_id), 0);
	p = cpuprof__new(st, run_id, 1000000, &err);
	CHECK(p != NULL, "cpuprof__new: %d", err);
	if (!p)
		return check_summary("test_cpuprof");
	CHECK_INT(cpuprof__add_target(p, me, target_id, "apiserver"), 0);

	/* request 1: three samples before its end, two after (the other ring buffer was late) */
	for (i = 0; i < 3; i++)
		CHECK_INT(sample(p, me, 0x10, 100, CPU_F_REQ), 0);
	cpuprof__request_done(p, me, 0x10, 100, "list", "pods", "", "namespace");
	for (i = 0; i < 2; i++)
		CHECK_INT(sample(p, me, 0x10, 100, CPU_F_REQ), 0);
	/* same writer, a later request: a different call */
	cpuprof__request_done(p, me, 0x10, 200, "get", "pods", "status", "resource");
	CHECK_INT(sample(p, me, 0x10, 200, CPU_F_REQ), 0);
	/* four samples outside any request */
	for (i = 0; i < 4; i++)
		CHECK_INT(sample(p, me, 0, 0, 0), 0);
	/* a request that never ends (a watch still open): two samples */
	for (i = 0; i < 2; i++)
		CHECK_INT(sample(p, me, 0x20, 300, CPU_F_REQ), 0);
	/* a process that is not a target */
	CHECK_INT(sample(p, me + 1, 0, 0, 0), 0);

	cpuprof__tick(p);
	CHECK_INT(cpuprof__write(p), 0);
	cpuprof__stats(p, &cs);
	CHECK_INT(cs.samples, 12);
	CHECK_INT(cs.unknown_tgid, 1);
	CHECK_INT(cs.attributed, 6);
	CHECK_INT(cs.unresolved, 2);
	CHECK_INT(store__end_run(st, run_id, &rs), 0);
	store__close(st);

	CHECK_INT(q(db, "SELECT sum(samples) FROM cpu_profile"), 12);
	CHECK_INT(q(db, "SELECT sum(cpu_ns) FROM cpu_profile"), 12000000);
	CHECK_INT(q(db, "SELECT sum(samples) FROM cpu_profile WHERE verb='list' AND resource='pods' "
			"AND scope='namespace' AND subresource='' AND component='apiserver'"), 5);
	CHECK_INT(q(db, "SELECT sum(samples) FROM cpu_profile WHERE verb='get' AND subresource='status'"), 1);
	CHECK_INT(q(db, "SELECT sum(samples) FROM cpu_profile WHERE verb='' AND resource=''"), 6);
	CHECK_INT(q(db, "SELECT sum(samples) FROM cpu_stacks"), 12);
	CHECK_INT(q(db, "SELECT samples FROM targets"), 12);
	CHECK(q(db, "SELECT cpu_ns FROM targets") >= 0, "the target's CPU from /proc is stored");
	CHECK_INT(q(db, "SELECT count(*) FROM cpu_stacks WHERE stack LIKE "
			"'%cpuprof_test_caller;cpuprof_test_leaf'"), 3);
	CHECK_INT(q(db, "SELECT count(*) FROM cpu_profile WHERE category NOT IN ('other','unknown')"), 0);

	/* NULL is a no-op, like every __free of cpprof */
	cpuprof__free(NULL);
	cpuprof__free(p);

	many_requests(tmp("m.db"));

	unlink(tmp("p.db"));
	unlink(tmp("p.db-wal"));
	unlink(tmp("p.db-shm"));
	rmdir(dir);
	return check_summary("test_cpuprof");
}
