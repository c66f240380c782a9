// SPDX-License-Identifier: MIT
/*
 * test_store: store.c against real SQLite files in a temp directory:
 * creation (mode, WAL, schema), runs/targets/requests round trip,
 * batching, label clashes, foreign files, deletion, and insert throughput
 * (printed, not asserted: it depends on the machine).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "check.h"
#include "log.h"
#include "store.h"

static char dir[] = "/tmp/test_store.XXXXXX";

#include "tmpdb.h"

static char *sql_text(const char *path, const char *sql, char *buf, size_t n)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;

	buf[0] = '\0';
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		snprintf(buf, n, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
	return buf;
}

static int file_mode(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 ? (int)(sb.st_mode & 0777) : -1;
}

static void fill_request(struct request_rec *r, int64_t run_id, int64_t target_id, int i)
{
	static const char *const verbs[] = { "get", "list", "create", "update", "watch" };
	static const char *const res[] = { "pods", "nodes", "services", "events" };

	memset(r, 0, sizeof(*r));
	r->run_id = run_id;
	r->target_id = target_id;
	r->component = "apiserver";
	r->protocol = "HTTP/2";
	r->method = "GET";
	r->verb = verbs[i % 5];
	r->api_group = "";
	r->api_version = "v1";
	r->resource = res[i % 4];
	r->subresource = i % 7 == 0 ? "status" : "";
	r->namespace = "default";
	r->scope = "namespace";
	r->path = "/api/v1/namespaces/default/pods"; /* dropped: a resource request */
	r->status = i % 100 == 0 ? 500 : 200;
	r->start_ns = 1700000000000000000LL + i * 1000LL;
	r->latency_ns = 1000 + (i * 7919LL) % 1000000;
}

static void test_create_and_roundtrip(void)
{
	const char *path = tmp("a.db");
	struct run_info ri = { .label = "real-2000", .kind = "real",
			       .started_ns = 1700000000000000000LL, .host = "master-0",
			       .kernel = "6.18.0", .command = "cpprof record --db a.db" };
	struct target_info ti = { .pid = 812, .component = "apiserver",
				  .exe = "/usr/local/bin/kube-apiserver", .go_version = "go1.22.1",
				  .main_path = "k8s.io/kubernetes/cmd/kube-apiserver",
				  .build_id = "abc", .offsets_source = "table", .probes = "2 uprobes",
				  .attached_ns = 1700000000000000001LL };
	struct run_stats rs = { .ended_ns = 1700000060000000000LL, .requests = 10000,
				.lost_events = 3, .unmatched = 2 };
	struct request_rec r;
	int64_t run_id = 0, t1 = 0, t2 = 0;
	struct store *s;
	char buf[128];
	int err = 0;

	s = store__open(path, &err);
	CHECK(s != NULL, "store__open: %d %s", err, cp_lasterr());
	if (!s)
		return;
	CHECK_INT(file_mode(path), 0600);
	CHECK_INT(file_mode(tmp("a.db-wal")), 0600);
	CHECK_INT(file_mode(tmp("a.db-shm")), 0600);
	CHECK_STR(sql_text(path, "PRAGMA journal_mode", buf, sizeof(buf)), "wal");
	CHECK_INT(sql_int(path, "SELECT version FROM schema_version"), STORE_SCHEMA_VERSION);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM sqlite_master WHERE name IN "
			  "('runs','targets','requests','cpu_profile','call_kinds','request_rows',"
			  "'request_spans','cpu_stacks')"), 8);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM sqlite_master WHERE type = 'view' AND "
			  "name IN ('requests','cpu_stacks')"), 2);

	CHECK_INT(store__begin_run(s, &ri, &run_id), 0);
	CHECK(run_id > 0, "run_id %lld", (long long)run_id);
	CHECK_INT(store__add_target(s, run_id, &ti, &t1), 0);
	ti.pid = 900;
	ti.component = "etcd";
	CHECK_INT(store__add_target(s, run_id, &ti, &t2), 0);
	CHECK(t1 > 0 && t2 > t1, "target ids %lld %lld", (long long)t1, (long long)t2);

	/* Batching: rows become visible to others per STORE_BATCH (1000) or on flush. */
	for (int i = 0; i < 1500; i++) {
		fill_request(&r, run_id, i % 2 ? t1 : t2, i);
		CHECK_INT(store__add_request(s, &r), 0);
	}
	CHECK_INT(sql_int(path, "SELECT count(*) FROM requests"), 1000);
	CHECK_INT(store__flush(s), 0);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM requests"), 1500);
	CHECK_INT(store__flush(s), 0); /* nothing pending: a no-op */
	for (int i = 1500; i < 10000; i++) {
		fill_request(&r, run_id, i % 2 ? t1 : t2, i);
		if (store__add_request(s, &r)) {
			CHECK(0, "add_request %d: %s", i, cp_lasterr());
			break;
		}
	}
	CHECK_INT(store__target_exited(s, t2, 1700000030000000000LL), 0);
	CHECK_INT(store__end_run(s, run_id, &rs), 0);
	CHECK_INT(store__end_run(s, 12345, &rs), -ENOENT);
	store__close(s);
	store__close(NULL);

	/* Reopen an existing database: accepted, and everything is there. */
	s = store__open(path, &err);
	CHECK(s != NULL, "reopen: %d %s", err, cp_lasterr());
	store__close(s);
	CHECK_INT(file_mode(path), 0600);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM requests"), 10000);
	/* Version 2: the requests are ids into a few kinds, and the view spells them out. */
	CHECK_INT(sql_int(path, "SELECT count(*) FROM request_rows"), 10000);
	CHECK(sql_int(path, "SELECT count(*) FROM call_kinds") < 1000, "kinds are shared");
	CHECK_INT(sql_int(path, "SELECT count(*) FROM requests WHERE id IS NULL"), 0);
	CHECK_INT(sql_int(path, "SELECT count(DISTINCT id) FROM requests"), 10000);
	CHECK_INT(sql_int(path, "SELECT sum(last_id - first_id + 1) FROM request_spans"), 10000);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM requests WHERE path IS NOT NULL"), 0);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM requests WHERE status = 500"), 100);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM targets"), 2);
	CHECK_INT(sql_int(path, "SELECT exited_ns FROM targets WHERE pid = 900"),
		  1700000030000000000LL);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM targets WHERE exited_ns IS NULL"), 1);
	CHECK_INT(sql_int(path, "SELECT ended_ns - started_ns FROM runs"), 60000000000LL);
	CHECK_INT(sql_int(path, "SELECT lost_events * 10 + unmatched FROM runs"), 32);
	CHECK_STR(sql_text(path, "SELECT host || ' ' || kernel FROM runs", buf, sizeof(buf)),
		  "master-0 6.18.0");
}

static void test_labels_and_delete(void)
{
	const char *path = tmp("b.db");
	struct run_info ri = { .label = "km-2000", .kind = "kubemark", .started_ns = 1 };
	struct run_stats rs = { .ended_ns = 2 };
	struct target_info ti = { .pid = 1, .component = "etcd" };
	struct request_rec r;
	int64_t a = 0, b = 0, dup = 0, t = 0;
	char want[512];
	struct store *s;
	int err = 0;

	s = store__open(path, &err);
	CHECK(s != NULL, "store__open: %d %s", err, cp_lasterr());
	if (!s)
		return;
	CHECK_INT(store__begin_run(s, &ri, &a), 0);
	CHECK_INT(store__begin_run(s, &ri, &dup), -EEXIST);
	snprintf(want, sizeof(want),
		 "run label 'km-2000' already exists in '%s'; choose another --label", path);
	CHECK_STR(cp_lasterr(), want);

	ri.label = "bad-kind";
	ri.kind = "staging";
	CHECK_INT(store__begin_run(s, &ri, &dup), -EINVAL);
	CHECK(strstr(cp_lasterr(), "'staging'") != NULL, "%s", cp_lasterr());

	ri.label = "other-run";
	ri.kind = "other";
	CHECK_INT(store__begin_run(s, &ri, &b), 0);
	CHECK_INT(store__add_target(s, a, &ti, &t), 0);
	CHECK_INT(store__add_target(s, b, &ti, &t), 0);
	for (int i = 0; i < 2500; i++) {
		fill_request(&r, i % 5 ? a : b, t, i);
		CHECK_INT(store__add_request(s, &r), 0);
	}
	/* delete_run flushes the pending batch first, then removes only run A. */
	CHECK_INT(store__delete_run(s, a), 0);
	CHECK_INT(store__delete_run(s, a), -ENOENT);
	CHECK_INT(store__end_run(s, b, &rs), 0);
	store__close(s);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM runs"), 1);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM runs WHERE label = 'km-2000'"), 0);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM targets"), 1);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM requests"), 500);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM requests WHERE run_id != (SELECT id FROM runs)"), 0);

	/* The label is free again once its run is gone. */
	s = store__open(path, &err);
	ri.label = "km-2000";
	ri.kind = "kubemark";
	CHECK_INT(s ? store__begin_run(s, &ri, &a) : -1, 0);
	store__close(s);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void test_foreign_files(void)
{
	const char *txt = tmp("notes.db"), *app = tmp("app.db"), *newer = tmp("newer.db");
	char want[512], buf[64];
	struct store *s;
	sqlite3 *db;
	int err = 0;

	/* Not an SQLite file at all: refused, and left as it was. */
	write_file(txt, "these are my notes, not a database\n"
		   "...............................................................\n"
		   "...............................................................\n");
	s = store__open(txt, &err);
	CHECK(s == NULL, "opened a text file");
	CHECK_INT(err, -EINVAL);
	snprintf(want, sizeof(want),
		 "'%s' is not a cpprof database (not an SQLite file); use a new file", txt);
	CHECK_STR(cp_lasterr(), want);
	store__close(s);
	CHECK(access(txt, F_OK) == 0, "the text file was removed");

	/* Another application's database: refused, and not switched to WAL. */
	if (sqlite3_open(app, &db) == SQLITE_OK) {
		sqlite3_exec(db, "CREATE TABLE songs(title TEXT); INSERT INTO songs VALUES ('x')",
			     NULL, NULL, NULL);
		sqlite3_close(db);
	}
	s = store__open(app, &err);
	CHECK(s == NULL, "opened another app's database");
	CHECK_INT(err, -EINVAL);
	snprintf(want, sizeof(want),
		 "'%s' is not a cpprof database (no schema_version table); use a new file", app);
	CHECK_STR(cp_lasterr(), want);
	store__close(s);
	CHECK_STR(sql_text(app, "PRAGMA journal_mode", buf, sizeof(buf)), "delete");
	CHECK_INT(sql_int(app, "SELECT count(*) FROM songs"), 1);

	/* A database from a newer cpprof: refused with the fix. */
	s = store__open(newer, &err);
	store__close(s);
	if (sqlite3_open(newer, &db) == SQLITE_OK) {
		sqlite3_exec(db, "UPDATE schema_version SET version = 7", NULL, NULL, NULL);
		sqlite3_close(db);
	}
	s = store__open(newer, &err);
	CHECK(s == NULL, "opened a newer schema");
	CHECK_INT(err, -EPROTO);
	CHECK(strstr(cp_lasterr(), "schema version 7, newer than this cpprof (2); upgrade cpprof"),
	      "%s", cp_lasterr());
	store__close(s);

	/* A version 1 file: record refuses it with the fix, and leaves it as it was. */
	if (sqlite3_open(newer, &db) == SQLITE_OK) {
		sqlite3_exec(db, "UPDATE schema_version SET version = 1", NULL, NULL, NULL);
		sqlite3_close(db);
	}
	s = store__open(newer, &err);
	CHECK(s == NULL, "recorded into a version 1 file");
	CHECK_INT(err, -EPROTO);
	snprintf(want, sizeof(want), "'%s' has schema version 1, written by an older cpprof; "
		 "record into a new --db file, or convert it with 'cpprof migrate %s NEW.db' (report and "
		 "diff read it as it is)", newer, newer);
	CHECK_STR(cp_lasterr(), want);
	CHECK_INT(sql_int(newer, "SELECT version FROM schema_version"), 1);
	store__close(s);
}

/*
 * Version 2 keeps a request as a kind id and two integers: every column of
 * version 1 comes back through the requests view as it went in, the id the
 * store hands back is the view's id, SQL inserts and deletes through the
 * view still work, and a folded stack comes back from its interned frames.
 */
static void test_view_roundtrip(void)
{
	const char *path = tmp("v.db");
	struct run_info ri = { .label = "v", .kind = "other", .started_ns = 1700000000000000000LL };
	struct target_info ti = { .pid = 7, .component = "apiserver" };
	struct request_rec r;
	int64_t run = 0, t = 0, id = 0, id2 = 0;
	struct store *s;
	char buf[512];
	int err = 0;

	s = store__open(path, &err);
	CHECK(s != NULL, "store__open: %d %s", err, cp_lasterr());
	if (!s)
		return;
	CHECK_INT(store__begin_run(s, &ri, &run), 0);
	CHECK_INT(store__add_target(s, run, &ti, &t), 0);
	fill_request(&r, run, t, 3);
	r.name = "pod-1";
	r.start_ns = 1699999999000000000LL;  /* before the run began: a negative offset */
	r.latency_ns = 123456789012LL;
	CHECK_INT(store__add_request_id(s, &r, &id), 0);
	fill_request(&r, run, t, 4);
	r.resource = "";
	r.path = "/healthz";
	r.api_group = NULL;
	CHECK_INT(store__add_request_id(s, &r, &id2), 0);
	CHECK(id > 0 && id2 == id + 1, "ids %lld %lld", (long long)id, (long long)id2);
	CHECK_INT(store__add_stack(s, &(struct stack_rec){ .run_id = run, .target_id = t,
		.component = "apiserver", .category = "json_encode", .verb = "get",
		.resource = "pods", .stack = "runtime.goexit;main.serve;json.Marshal",
		.samples = 3, .cpu_ns = 30 }), 0);
	CHECK_INT(store__add_stack(s, &(struct stack_rec){ .run_id = run, .target_id = t,
		.component = "apiserver", .category = "other", .verb = "", .resource = "",
		.stack = "runtime.goexit;main.serve", .samples = 1, .cpu_ns = 10 }), 0);
	CHECK_INT(store__flush(s), 0);

	snprintf(buf, sizeof(buf), "SELECT id FROM requests WHERE name = 'pod-1'");
	CHECK_INT(sql_int(path, buf), id);
	CHECK_STR(sql_text(path, "SELECT component || '|' || protocol || '|' || method || '|' || "
			   "verb || '|' || api_group || '|' || api_version || '|' || resource || '|' || "
			   "subresource || '|' || namespace || '|' || scope || '|' || name || '|' || "
			   "ifnull(path, 'NULL') || '|' || watch || '|' || status || '|' || start_ns || "
			   "'|' || latency_ns FROM requests WHERE name = 'pod-1'", buf, sizeof(buf)),
		  "apiserver|HTTP/2|GET|update||v1|events||default|namespace|pod-1|NULL|0|200|"
		  "1699999999000000000|123456789012");
	CHECK_STR(sql_text(path, "SELECT path || '|' || resource || '|' || ifnull(api_group, 'NULL') "
			   "FROM requests WHERE path IS NOT NULL", buf, sizeof(buf)),
		  "/healthz||NULL");
	CHECK_STR(sql_text(path, "SELECT group_concat(stack || '=' || samples, ' ') FROM "
			   "(SELECT * FROM cpu_stacks ORDER BY samples)", buf, sizeof(buf)),
		  "runtime.goexit;main.serve=1 runtime.goexit;main.serve;json.Marshal=3");
	CHECK_INT(sql_int(path, "SELECT count(*) FROM cpu_functions"), 3);
	store__close(s);

	/* SQL written for version 1: insert and delete through the view. */
	CHECK_INT(sql_int(path, "SELECT count(*) FROM requests"), 2);
	{
		sqlite3 *db;

		CHECK_INT(sqlite3_open(path, &db), SQLITE_OK);
		CHECK_INT(sqlite3_exec(db,
			"INSERT INTO requests(run_id, target_id, component, verb, resource, "
			"subresource, scope, status, start_ns, latency_ns) VALUES "
			"(1, 1, 'etcd', 'range', 'pods', '', '', 0, 1700000000000000005, 42);"
			"INSERT INTO requests(run_id, target_id, component, verb, resource, "
			"subresource, scope, status, start_ns, latency_ns) VALUES "
			"(1, 1, 'etcd', 'range', 'pods', '', '', 0, 1700000000000000006, 43);"
			"DELETE FROM requests WHERE path = '/healthz'; DELETE FROM cpu_stacks "
			"WHERE category = 'other';", NULL, NULL, NULL), SQLITE_OK);
		sqlite3_close(db);
	}
	CHECK_INT(sql_int(path, "SELECT count(*) FROM requests"), 3);
	CHECK_INT(sql_int(path, "SELECT sum(start_ns - 1700000000000000000) FROM requests "
			  "WHERE component = 'etcd'"), 11);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM call_kinds WHERE component = 'etcd'"), 1);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM cpu_stacks"), 1);

	/* Many kinds (object names stored): the in-memory dictionary grows and still finds each. */
	s = store__open(path, &err);
	CHECK(s != NULL, "reopen: %s", cp_lasterr());
	if (!s)
		return;
	ri.label = "names";
	CHECK_INT(store__begin_run(s, &ri, &run), 0);
	for (int i = 0; i < 6000; i++) {
		char name[32];

		snprintf(name, sizeof(name), "node-%d", i % 3000);
		fill_request(&r, run, t, 1);
		r.name = name;
		r.latency_ns = i;
		CHECK_INT(store__add_request(s, &r), 0);
	}
	CHECK_INT(store__flush(s), 0);
	store__close(s);
	snprintf(buf, sizeof(buf), "SELECT count(*) FROM call_kinds WHERE run_id = %lld", (long long)run);
	CHECK_INT(sql_int(path, buf), 3000);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM requests WHERE name = 'node-2999' AND "
			  "latency_ns IN (2999, 5999)"), 2);
	snprintf(buf, sizeof(buf), "SELECT count(DISTINCT name) FROM requests WHERE run_id = %lld",
		 (long long)run);
	CHECK_INT(sql_int(path, buf), 3000);
}

static void test_unwritable(void)
{
	/* /sys refuses new files even to root; a 0500 directory only to others. */
	const char *path = "/sys/cpprof-test.db";
	struct store *s;
	char want[256];
	int err = 0;

	s = store__open(path, &err);
	CHECK(s == NULL, "created %s", path);
	CHECK(err == -EACCES || err == -EPERM || err == -EROFS, "err %d", err);
	snprintf(want, sizeof(want), "cannot create '%s': %s; choose a writable --db path",
		 path, strerror(-err));
	CHECK_STR(cp_lasterr(), want);
	store__close(s);

	s = store__open(tmp("no/such/dir.db"), &err);
	CHECK(s == NULL && err == -ENOENT, "err %d", err);
	CHECK(strstr(cp_lasterr(), "No such file or directory; choose a writable --db path"),
	      "%s", cp_lasterr());
	store__close(s);
}

/* CPU time of this thread: the store's cost without the machine's other load. */
static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static long long file_size(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 ? (long long)sb.st_size : 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Insert throughput at the recorder's shape of data; CPPROF_BENCH_ROWS overrides 1M. */
static void test_throughput(void)
{
	const char *path = tmp("bench.db");
	const char *env = getenv("CPPROF_BENCH_ROWS");
	long rows = env ? atol(env) : 1000000;
	struct run_info ri = { .label = "bench", .kind = "other" };
	struct run_stats rs = { .requests = rows };
	struct request_rec r;
	int64_t run_id = 0;
	struct store *s;
	double t0, dt, dt_index, c0, dc;
	int err = 0;
	long i;

	s = store__open(path, &err);
	CHECK(s != NULL, "store__open: %s", cp_lasterr());
	if (!s)
		return;
	CHECK_INT(store__begin_run(s, &ri, &run_id), 0);
	t0 = now_s();
	c0 = cpu_s();
	for (i = 0; i < rows; i++) {
		fill_request(&r, run_id, 1, (int)i);
		if (store__add_request(s, &r))
			break;
	}
	CHECK_INT(store__flush(s), 0);
	dt = now_s() - t0;
	dc = cpu_s() - c0;
	CHECK_INT(i, rows);
	t0 = now_s();
	CHECK_INT(store__end_run(s, run_id, &rs), 0);
	dt_index = now_s() - t0;
	store__close(s);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM requests"), rows);
	printf("store: %ld requests in %.2f s: %.0f rows/s, %.2f us CPU a row; end_run %.2f s; "
	       "%.1f bytes a request\n", rows, dt, dt > 0 ? rows / dt : 0.0, dc / rows * 1e6, dt_index,
	       (double)file_size(path) / rows);
}

/*
 * Frames with their file:line (issue 17): one folded stack sampled at two
 * lines is two stacks of frame ids, and the cpu_stacks view spells both,
 * and a stack without positions (migrated), as the same folded text.
 */
static void test_stack_lines(void)
{
	const char *path = tmp("lines.db");
	struct run_info ri = { .label = "l", .kind = "other", .started_ns = 1700000000000000000LL };
	struct target_info ti = { .pid = 8, .component = "apiserver" };
	const char *folded = "runtime.goexit;main.serve;json.Marshal;tcp_sendmsg_[k]";
	const char *lines[] = {
		"0\t1700\t/go/src/runtime/asm_amd64.s\n0\t10\t/src/main.go\n"
		"1\t20\t/go/src/encoding/json/encode.go\n0\t0\t",
		"0\t1700\t/go/src/runtime/asm_amd64.s\n0\t12\t/src/main.go\n"
		"1\t20\t/go/src/encoding/json/encode.go\n0\t0\t",
		NULL,
	};
	int64_t run = 0, t = 0;
	struct store *s;
	char buf[512];
	int err = 0;

	s = store__open(path, &err);
	CHECK(s != NULL, "store__open: %d %s", err, cp_lasterr());
	if (!s)
		return;
	CHECK_INT(store__begin_run(s, &ri, &run), 0);
	CHECK_INT(store__add_target(s, run, &ti, &t), 0);
	for (int i = 0; i < 3; i++)
		CHECK_INT(store__add_stack(s, &(struct stack_rec){ .run_id = run, .target_id = t,
			.component = "apiserver", .category = "json_encode", .verb = "get",
			.resource = "pods", .stack = folded, .samples = i + 1, .cpu_ns = 10 * (i + 1),
			.lines = lines[i] }), 0);
	CHECK_INT(store__flush(s), 0);
	store__close(s);

	CHECK_STR(sql_text(path, "SELECT group_concat(stack || '=' || n, ' ') FROM "
			   "(SELECT stack, sum(samples) AS n FROM cpu_stacks GROUP BY stack)",
			   buf, sizeof(buf)),
		  "runtime.goexit;main.serve;json.Marshal;tcp_sendmsg_[k]=6");
	CHECK_INT(sql_int(path, "SELECT count(*) FROM cpu_stacks"), 3);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM cpu_stack_ids"), 3);
	CHECK_STR(sql_text(path, "SELECT group_concat(ifnull(file, '-') || ':' || ifnull(line, '-') || "
			   "':' || ifnull(inlined, '-'), ' ') FROM (SELECT * FROM cpu_functions "
			   "WHERE name = 'main.serve' ORDER BY id)", buf, sizeof(buf)),
		  "/src/main.go:10:0 /src/main.go:12:0 -:-:-");
	CHECK_INT(sql_int(path, "SELECT count(*) FROM cpu_functions WHERE name = 'json.Marshal' "
			  "AND inlined = 1 AND line = 20"), 1);
	/* a frame without a position is its name alone, as the frames of migrated stacks */
	CHECK_INT(sql_int(path, "SELECT count(*) FROM cpu_functions WHERE name = 'tcp_sendmsg_[k]' "
			  "AND file IS NULL"), 1);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM cpu_functions"), 8);
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_create_and_roundtrip();
	test_labels_and_delete();
	test_foreign_files();
	test_view_roundtrip();
	test_stack_lines();
	test_unwritable();
	test_throughput();

	if (!check_failed) {
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", dir);
	}
	return check_summary("test_store");
}
