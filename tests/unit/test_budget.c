// SPDX-License-Identifier: MIT
/*
 * budget (user/store/budget.c) and the store's bounded mode: sizes as
 * --max-db-size and --min-free take them, the default floor, and a real
 * SQLite file written past --max-db-size and under an impossible
 * --min-free floor: the rows before the limit are kept, the rest are
 * counted, the runs row records both, and the file is sound.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "budget.h"
#include "check.h"
#include "log.h"
#include "store.h"

static char dir[] = "/tmp/cpprof-test-budget.XXXXXX";
#include "tmpdb.h"

static void test_parse_size(void)
{
	static const struct { const char *s; long long want; int err; } cases[] = {
		{ "0", 0, 0 }, { "1048576", 1048576, 0 }, { "500M", 500LL << 20, 0 },
		{ "2G", 2LL << 30, 0 }, { "2GiB", 2LL << 30, 0 }, { "2GB", 2LL << 30, 0 },
		{ "64k", 64LL << 10, 0 }, { "64K", 64LL << 10, 0 }, { "3T", 3LL << 40, 0 },
		{ "100B", 100, 0 }, { "", 0, -EINVAL }, { "M", 0, -EINVAL }, { "-1M", 0, -EINVAL },
		{ "1.5G", 0, -EINVAL }, { "2X", 0, -EINVAL }, { "2Gx", 0, -EINVAL },
		{ "2 G", 0, -EINVAL }, { "4194305T", 0, -ERANGE }, { "4194304T", 1LL << 62, 0 },
		{ "99999999999999999999", 0, -ERANGE }, { "4611686018427387905", 0, -ERANGE },
		{ "4611686018427387904", 1LL << 62, 0 }, { "4294967297G", 0, -ERANGE },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t v = -7;
		int err = budget__parse_size(cases[i].s, &v);

		CHECK(err == cases[i].err, "'%s': err %d, want %d", cases[i].s, err, cases[i].err);
		if (!cases[i].err)
			CHECK(v == cases[i].want, "'%s': %lld, want %lld", cases[i].s, (long long)v,
			      cases[i].want);
	}
}

static void test_fmt_size(void)
{
	char b[32];

	budget__fmt_size(50LL << 20, b, sizeof(b));
	CHECK_STR(b, "50M");
	budget__fmt_size(1LL << 30, b, sizeof(b));
	CHECK_STR(b, "1G");
	budget__fmt_size(1536LL << 10, b, sizeof(b));
	CHECK_STR(b, "1536K");
	budget__fmt_size(1000, b, sizeof(b));
	CHECK_STR(b, "1000");
	budget__fmt_size(0, b, sizeof(b));
	CHECK_STR(b, "0");
	/* what the report prints parses back to the same size */
	for (int64_t v = 1; v < (1LL << 42); v = v * 3 + 1024) {
		int64_t back = -1;

		budget__fmt_size(v, b, sizeof(b));
		CHECK(budget__parse_size(b, &back) == 0 && back == v, "%lld -> '%s' -> %lld",
		      (long long)v, b, (long long)back);
	}
}

static void test_default_floor(void)
{
	CHECK_INT(budget__default_floor(100LL << 30), 1LL << 30);        /* 100G disk: 1G, not 5G */
	CHECK_INT(budget__default_floor(10LL << 30), 524287LL << 10);   /* 10G: ~512M, in whole KiB */
	CHECK_INT(budget__default_floor(8LL << 20), 409 << 10);          /* 8M: 409K */
	CHECK_INT(budget__default_floor(0), 0);
}

/* PRAGMA integrity_check through a second connection: "ok", or what is wrong. */
static const char *integrity(const char *path, char *buf, size_t n)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;

	snprintf(buf, n, "(cannot read)");
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		snprintf(buf, n, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
	return buf;
}

static void request(struct request_rec *r, int64_t run_id, int i)
{
	*r = (struct request_rec){
		.run_id = run_id, .target_id = 1, .component = "apiserver", .protocol = "HTTP/2",
		.method = "GET", .verb = "get", .api_version = "v1", .resource = "pods",
		.namespace = "default", .scope = "resource", .status = 200,
		.start_ns = 1700000000000000000LL + i * 1000LL, .latency_ns = 1000 + i % 997,
	};
}

/* Write N requests (and a syscall row every 100) through S, pausing now and then for the budget's clock. */
static void write_rows(struct store *s, int64_t run_id, int n)
{
	struct request_rec r;
	int bad = 0;

	for (int i = 0; i < n; i++) {
		request(&r, run_id, i);
		bad += store__add_request(s, &r) != 0;
		if (i % 100 == 0)
			bad += store__add_syscall(s, &(struct syscall_rec){ .run_id = run_id,
				.target_id = 1, .component = "etcd", .syscall = "fdatasync",
				.le_ns = 1000, .count = 1, .sum_ns = 900 }) != 0;
		if (i % 5000 == 4999) {
			bad += store__flush(s) != 0;
			usleep(120000);  /* past BUDGET_CHECK_NS: the next batch measures */
		}
	}
	bad += store__flush(s) != 0;
	CHECK(bad == 0, "%d rows refused (dropping is not an error): %s", bad, cp_lasterr());
}

static void test_max_db_size(void)
{
	const char *path = tmp("max.db");
	struct budget *b = budget__new(path, &(struct budget_opts){ .max_db_bytes = 1 << 20,
								     .min_free_bytes = 0 });
	struct run_info ri = { .label = "bounded", .kind = "other", .started_ns = 1 };
	struct run_stats rs = { .ended_ns = 2 };
	struct store_drops d;
	struct stat sb;
	int64_t run_id = 0;
	struct store *s;
	long long stored;
	int err = 0, n = 100000;

	CHECK(b != NULL, "budget__new");
	CHECK(stat(tmp("max.db-reserve"), &sb) == 0 && sb.st_size == BUDGET_RESERVE,
	      "the reserve file is there while recording");
	s = store__open(path, &err);
	CHECK(s != NULL, "store__open: %d %s", err, cp_lasterr());
	if (!s || !b)
		return;
	store__set_budget(s, b);
	CHECK_INT(store__begin_run(s, &ri, &run_id), 0);
	write_rows(s, run_id, n);
	store__drops(s, &d);
	CHECK(d.reason && !strcmp(d.reason, "max-db-size"), "reason %s", d.reason ? d.reason : "(none)");
	CHECK_INT(d.limit_bytes, 1 << 20);
	CHECK(d.measured_bytes >= (1 << 20) && d.measured_bytes < (4 << 20),
	      "measured %lld: past the limit by less than a few batches", (long long)d.measured_bytes);
	CHECK(d.requests > n / 2 && d.requests < n, "dropped %lld of %d", (long long)d.requests, n);
	CHECK(d.rows > 0, "syscall rows dropped: %lld", (long long)d.rows);
	rs.requests = n - d.requests;
	CHECK_INT(store__end_run(s, run_id, &rs), 0);
	store__close(s);
	budget__free(b);
	CHECK(stat(tmp("max.db-reserve"), &sb) < 0, "the reserve file is gone at the end");

	stored = sql_int(path, "SELECT count(*) FROM requests");
	CHECK_INT(stored + sql_int(path, "SELECT dropped_requests FROM runs"), n);
	CHECK_INT(sql_int(path, "SELECT requests FROM runs"), stored);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM runs WHERE dropped_reason = 'max-db-size' "
			  "AND drop_limit_bytes = 1048576 AND dropped_since_ns > 0 AND dropped_rows > 0 "
			  "AND ended_ns = 2"), 1);
	/* the rows kept are the first ones: nothing after a hole */
	CHECK_INT(sql_int(path, "SELECT max(start_ns) FROM requests"),
		  1700000000000000000LL + (stored - 1) * 1000LL);
	CHECK(stat(path, &sb) == 0 && sb.st_size < (4 << 20), "file %lld bytes", (long long)sb.st_size);
	{
		char buf[256];

		CHECK_STR(integrity(path, buf, sizeof(buf)), "ok");
	}
}

static void test_min_free_and_unbounded(void)
{
	const char *path = tmp("floor.db");
	/* a floor no filesystem can meet: dropping from the first batch */
	struct budget *b = budget__new(path, &(struct budget_opts){ .min_free_bytes = 1LL << 62 });
	struct run_info ri = { .label = "floor", .kind = "other", .started_ns = 1 };
	struct run_stats rs = { .ended_ns = 2, .requests = 0 };
	struct store_drops d;
	int64_t run_id = 0;
	struct store *s;
	int err = 0;

	s = store__open(path, &err);
	if (!s || !b) {
		CHECK(0, "open: %d %s", err, cp_lasterr());
		return;
	}
	store__set_budget(s, b);
	CHECK_INT(store__begin_run(s, &ri, &run_id), 0);
	write_rows(s, run_id, 3000);
	CHECK_INT(store__add_cpu(s, &(struct cpu_rec){ .run_id = run_id, .target_id = 1,
		.component = "apiserver", .category = "json_encode", .samples = 5, .cpu_ns = 5 }), 0);
	store__drops(s, &d);
	CHECK(d.reason && !strcmp(d.reason, "min-free"), "reason %s", d.reason ? d.reason : "(none)");
	CHECK_INT(d.requests, 3000);
	CHECK_INT(d.limit_bytes, 1LL << 62);
	CHECK_INT(store__end_run(s, run_id, &rs), 0);
	store__close(s);
	budget__free(b);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM requests"), 0);
	CHECK_INT(sql_int(path, "SELECT dropped_requests FROM runs"), 3000);
	CHECK_INT(sql_int(path, "SELECT dropped_rows FROM runs"), 30);
	CHECK_INT(sql_int(path, "SELECT samples FROM cpu_profile"), 5);  /* kept: bounded, the report's */

	/* without a budget, or with limits far away: everything stored, counts 0, reason NULL */
	path = tmp("free.db");
	b = budget__new(path, &(struct budget_opts){ .max_db_bytes = 1LL << 40, .min_free_bytes = 1 });
	s = store__open(path, &err);
	if (!s || !b) {
		CHECK(0, "open: %d %s", err, cp_lasterr());
		return;
	}
	store__set_budget(s, b);
	ri.label = "free";
	CHECK_INT(store__begin_run(s, &ri, &run_id), 0);
	write_rows(s, run_id, 2000);
	store__drops(s, &d);
	CHECK(d.reason == NULL, "reason %s", d.reason ? d.reason : "");
	CHECK_INT(store__end_run(s, run_id, &rs), 0);
	store__close(s);
	budget__free(b);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM requests"), 2000);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM runs WHERE dropped_requests = 0 AND dropped_rows = 0 "
			  "AND dropped_reason IS NULL AND dropped_since_ns IS NULL"), 1);
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_parse_size();
	test_fmt_size();
	test_default_floor();
	test_max_db_size();
	test_min_free_and_unbounded();
	{
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd))
			fprintf(stderr, "cannot remove %s\n", dir);
	}
	return check_summary("budget");
}
