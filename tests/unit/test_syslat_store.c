// SPDX-License-Identifier: MIT
/*
 * The syscalls and sock_stats tables (user/store/store.c additions), on real
 * SQLite files in a temp dir: rows round-trip exactly, batches commit,
 * a file made before these tables existed gains them when opened, and
 * deleting a run removes its rows. Also the report sections over them
 * (user/report/report.c): text and json.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "check.h"
#include "log.h"
#include "loghist.h"
#include "report.h"
#include "store.h"

static char dir[] = "/tmp/test_syslat_store.XXXXXX";

#include "tmpdb.h"

static int begin(struct store *s, const char *label, int64_t *run_id, int64_t *target_id,
		 const char *component)
{
	struct run_info ri = { .label = label, .kind = "real", .started_ns = 1000 };
	struct target_info ti = { .pid = 42, .component = component, .exe = "/usr/bin/etcd" };
	int err = store__begin_run(s, &ri, run_id);

	return err ? err : store__add_target(s, *run_id, &ti, target_id);
}

static void test_roundtrip(void)
{
	const char *path = tmp("a.db");
	int64_t run_id = 0, tid = 0;
	struct store *s;
	int err = 0;

	s = store__open(path, &err);
	CHECK(s != NULL, "open: %s", cp_lasterr());
	if (!s)
		return;
	CHECK_INT(begin(s, "a", &run_id, &tid, "etcd"), 0);
	{
		struct syscall_rec r = {
			.run_id = run_id, .target_id = tid, .component = "etcd",
			.syscall = "fdatasync", .interval_start_ns = 1000000000000,
			.interval_ns = 10000000000, .le_ns = 1048575, .count = 7, .sum_ns = 6500000,
		};
		struct sock_stats_rec k = {
			.run_id = run_id, .target_id = tid, .component = "etcd",
			.interval_start_ns = 1000000000000, .interval_ns = 10000000000,
			.accepted = 3, .closed = 2, .peers = 1, .bytes_in = 123456789012,
			.bytes_out = 5, .retransmits = 4,
		};

		CHECK_INT(store__add_syscall(s, &r), 0);
		r.le_ns = INT64_MAX;
		r.count = 1;
		r.sum_ns = 200000000000;
		CHECK_INT(store__add_syscall(s, &r), 0);
		r.component = NULL; /* stored as '' */
		r.syscall = "futex";
		CHECK_INT(store__add_syscall(s, &r), 0);
		CHECK_INT(store__add_sock_stats(s, &k), 0);
	}
	/* Buffered until flushed. */
	CHECK_INT(sql_int(path, "SELECT count(*) FROM syscalls"), 0);
	CHECK_INT(store__flush(s), 0);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM syscalls"), 3);
	CHECK_INT(sql_int(path, "SELECT sum(count) FROM syscalls WHERE syscall = 'fdatasync'"), 8);
	CHECK_INT(sql_int(path, "SELECT max(le_ns) FROM syscalls"), INT64_MAX);
	CHECK_INT(sql_int(path, "SELECT sum_ns FROM syscalls WHERE le_ns = 1048575"), 6500000);
	CHECK_INT(sql_int(path, "SELECT interval_ns FROM syscalls LIMIT 1"), 10000000000);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM syscalls WHERE component = ''"), 1);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM syscalls WHERE component IS NULL"), 0);
	CHECK_INT(sql_int(path, "SELECT bytes_in FROM sock_stats"), 123456789012);
	CHECK_INT(sql_int(path, "SELECT accepted * 1000 + closed * 100 + peers * 10 + retransmits "
			  "FROM sock_stats"), 3214);
	CHECK_INT(sql_int(path, "SELECT target_id FROM sock_stats"), tid);

	/* Batches of STORE_BATCH rows commit by themselves. */
	for (int i = 0; i < 2500; i++) {
		struct syscall_rec r = {
			.run_id = run_id, .target_id = tid, .component = "etcd", .syscall = "read",
			.interval_start_ns = i, .interval_ns = 1, .le_ns = loghist_upper(i % 100),
			.count = 1, .sum_ns = 1,
		};

		err = store__add_syscall(s, &r);
		if (err)
			break;
	}
	CHECK_INT(err, 0);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM syscalls WHERE syscall = 'read'"), 2000);
	{
		struct run_stats rs = { .ended_ns = 2000 };

		CHECK_INT(store__end_run(s, run_id, &rs), 0);
	}
	CHECK_INT(sql_int(path, "SELECT count(*) FROM syscalls WHERE syscall = 'read'"), 2500);

	/* A run is deleted with its rows (foreign keys are on). */
	CHECK_INT(store__delete_run(s, run_id), 0);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM syscalls"), 0);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM sock_stats"), 0);
	store__close(s);
}

/* A version-1 file written before these tables existed gains them. */
static void test_old_file(void)
{
	const char *path = tmp("old.db");
	sqlite3 *db = NULL;
	struct store *s;
	int64_t run_id, tid;
	int err = 0;

	s = store__open(path, &err);
	CHECK(s != NULL, "open: %s", cp_lasterr());
	store__close(s);
	CHECK(sqlite3_open(path, &db) == SQLITE_OK, "sqlite3_open");
	CHECK(sqlite3_exec(db, "DROP TABLE syscalls; DROP TABLE sock_stats", NULL, NULL, NULL) ==
	      SQLITE_OK, "drop: %s", sqlite3_errmsg(db));
	sqlite3_close(db);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM sqlite_master WHERE name IN "
			  "('syscalls', 'sock_stats')"), 0);

	s = store__open(path, &err);
	CHECK(s != NULL, "reopen: %s", cp_lasterr());
	if (!s)
		return;
	CHECK_INT(sql_int(path, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN "
			  "('syscalls', 'sock_stats')"), 2);
	CHECK_INT(sql_int(path, "SELECT max(version) FROM schema_version"), STORE_SCHEMA_VERSION);
	CHECK_INT(begin(s, "old", &run_id, &tid, "etcd"), 0);
	{
		struct sock_stats_rec k = { .run_id = run_id, .target_id = tid, .component = "etcd",
					    .accepted = 1 };

		CHECK_INT(store__add_sock_stats(s, &k), 0);
		CHECK_INT(store__flush(s), 0);
	}
	CHECK_INT(sql_int(path, "SELECT accepted FROM sock_stats"), 1);
	store__close(s);
}

static char *read_all(FILE *f)
{
	size_t n = 0, cap = 1 << 16;
	char *buf = malloc(cap);

	rewind(f);
	while (buf && (n += fread(buf + n, 1, cap - 1 - n, f)) == cap - 1) {
		char *nb = realloc(buf, cap *= 2);

		if (!nb) {
			free(buf);
			return NULL;
		}
		buf = nb;
	}
	if (buf)
		buf[n] = 0;
	return buf;
}

static char *report(const char *path, enum report_format fmt)
{
	struct report_opts o = { .format = fmt };
	FILE *f = tmpfile();
	char *out;
	int err;

	if (!f)
		return NULL;
	err = report__write(path, &o, f);
	CHECK_INT(err, 0);
	out = read_all(f);
	fclose(f);
	return out;
}

/* Report sections: shown only when the run has rows, with bucket percentiles. */
static void test_report(void)
{
	const char *path = tmp("r.db");
	int64_t run_id, tid, tid2;
	struct store *s;
	char *out;
	int err = 0;

	s = store__open(path, &err);
	CHECK(s != NULL, "open: %s", cp_lasterr());
	if (!s)
		return;
	/* A run without such rows: no sections. */
	CHECK_INT(begin(s, "plain", &run_id, &tid, "etcd"), 0);
	{
		struct run_stats rs = { .ended_ns = 2000 };

		CHECK_INT(store__end_run(s, run_id, &rs), 0);
	}
	out = report(path, REPORT_TEXT);
	CHECK(out && !strstr(out, "etcd WAL fsync") && !strstr(out, "clients served"),
	      "no sections expected:\n%s", out ? out : "");
	free(out);
	out = report(path, REPORT_JSON);
	CHECK(out && !strstr(out, "\"syscalls\"") && !strstr(out, "\"clients\""),
	      "no json sections expected:\n%s", out ? out : "");
	free(out);

	CHECK_INT(begin(s, "sys", &run_id, &tid, "etcd"), 0);
	{
		struct target_info ti = { .pid = 43, .component = "apiserver" };

		CHECK_INT(store__add_target(s, run_id, &ti, &tid2), 0);
	}
	/* Two intervals of etcd fdatasync: 90 x ~1 ms and 10 x ~8 ms, then 100 x ~1 ms. */
	{
		struct syscall_rec r = {
			.run_id = run_id, .target_id = tid, .component = "etcd",
			.syscall = "fdatasync", .interval_start_ns = 1000000000000,
			.interval_ns = 10000000000,
		};

		r.le_ns = loghist_upper(loghist_bucket(1000000));
		r.count = 90;
		r.sum_ns = 90000000;
		CHECK_INT(store__add_syscall(s, &r), 0);
		r.le_ns = loghist_upper(loghist_bucket(8000000));
		r.count = 10;
		r.sum_ns = 80000000;
		CHECK_INT(store__add_syscall(s, &r), 0);
		r.interval_start_ns += r.interval_ns;
		r.le_ns = loghist_upper(loghist_bucket(1000000));
		r.count = 100;
		r.sum_ns = 100000000;
		CHECK_INT(store__add_syscall(s, &r), 0);
		r.component = "apiserver";
		r.target_id = tid2;
		r.syscall = "futex";
		r.count = 5;
		CHECK_INT(store__add_syscall(s, &r), 0);
	}
	{
		struct sock_stats_rec k = {
			.run_id = run_id, .target_id = tid, .component = "etcd",
			.interval_start_ns = 1000000000000, .interval_ns = 10000000000,
			.accepted = 3, .closed = 1, .peers = 2, .bytes_in = 1000, .bytes_out = 2000,
		};

		CHECK_INT(store__add_sock_stats(s, &k), 0);
		k.interval_start_ns += k.interval_ns;
		k.accepted = 4;
		k.peers = 1;
		CHECK_INT(store__add_sock_stats(s, &k), 0);
	}
	{
		struct run_stats rs = { .ended_ns = 3000 };

		CHECK_INT(store__end_run(s, run_id, &rs), 0);
	}
	store__close(s);

	out = report(path, REPORT_TEXT);
	CHECK(out && strstr(out, "etcd WAL fsync"), "text: no fsync section:\n%s", out ? out : "");
	CHECK(out && strstr(out, "clients served"), "text: no clients section:\n%s", out ? out : "");
	CHECK(out && strstr(out, "fdatasync") && strstr(out, "futex"), "text: syscalls missing");
	free(out);

	out = report(path, REPORT_JSON);
	CHECK(out != NULL, "json");
	if (out) {
		char want[256];

		/* 200 calls overall: p50 rank 100 in the 1 ms bucket; p99 rank 198 in the 8 ms one. */
		snprintf(want, sizeof(want),
			 "{\"component\":\"etcd\",\"syscall\":\"fdatasync\",\"count\":200,"
			 "\"sum_ns\":270000000,\"p50_ns\":%llu,\"p99_ns\":%llu",
			 (unsigned long long)loghist_upper(loghist_bucket(1000000)),
			 (unsigned long long)loghist_upper(loghist_bucket(8000000)));
		CHECK(strstr(out, want) != NULL, "json: want %s in\n%s", want, out);
		/* Per interval: the second has only 1 ms calls. */
		snprintf(want, sizeof(want),
			 "{\"interval_start_ns\":1010000000000,\"interval_ns\":10000000000,"
			 "\"count\":100,\"p50_ns\":%llu,\"p99_ns\":%llu}",
			 (unsigned long long)loghist_upper(loghist_bucket(1000000)),
			 (unsigned long long)loghist_upper(loghist_bucket(1000000)));
		CHECK(strstr(out, want) != NULL, "json: want %s in\n%s", want, out);
		CHECK(strstr(out, "{\"component\":\"etcd\",\"accepted\":7,\"closed\":2,"
			      "\"peers_max\":2,\"bytes_in\":2000,\"bytes_out\":4000,"
			      "\"retransmits\":0") != NULL, "json: clients in\n%s", out);
		free(out);
	}
	/* The md format has the sections too. */
	out = report(path, REPORT_MD);
	CHECK(out && strstr(out, "etcd WAL fsync") && strstr(out, "clients served"),
	      "md sections:\n%s", out ? out : "");
	free(out);
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_roundtrip();
	test_old_file();
	test_report();

	if (!check_failed) {
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", dir);
	}
	return check_summary("test_syslat_store");
}
