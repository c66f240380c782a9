// SPDX-License-Identifier: MIT
/*
 * store: cpprof's SQLite database (schema in SCHEMA.md). The recorder
 * writes one run at a time: a runs row, a targets row per traced process,
 * and a request_rows row per completed call (three integers: its kind,
 * interned in call_kinds through an in-memory hash, its start and its
 * latency; schema version 2). Requests arrive at up to tens of
 * thousands per second, so they go through one statement prepared at open
 * and are committed in batches of STORE_BATCH rows; everything else is
 * rare and committed at once (after the pending batch, so the file never
 * holds a run's end before its requests).
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "budget.h"
#include "log.h"
#include "store.h"

/*
 * Rows per transaction. A commit in WAL mode with synchronous=NORMAL is
 * a write() without fsync, so 1000 keeps commits far below the insert cost
 * while a crash loses at most a fraction of a second of requests.
 */
#define STORE_BATCH 1000

/* The call_kinds row of the row NEW of an insert into the requests view. */
#define KIND_MATCH_NEW \
	"k.run_id IS NEW.run_id AND k.target_id IS NEW.target_id " \
	"AND k.component = ifnull(NEW.component, '') AND k.protocol IS NEW.protocol " \
	"AND k.method IS NEW.method AND k.verb = ifnull(NEW.verb, '') " \
	"AND k.api_group IS NEW.api_group AND k.api_version IS NEW.api_version " \
	"AND k.resource = ifnull(NEW.resource, '') AND k.subresource = ifnull(NEW.subresource, '') " \
	"AND k.namespace IS NEW.namespace AND k.scope = ifnull(NEW.scope, '') " \
	"AND k.name IS NEW.name AND k.path IS NEW.path AND k.watch IS NEW.watch " \
	"AND k.status IS NEW.status"

/*
 * The schema, created in one transaction. requests_run serves deletes and
 * the foreign key; it only ever grows at its end while a run records.
 */
static const char schema_sql[] =
	"CREATE TABLE schema_version(version INTEGER NOT NULL);\n"
	"CREATE TABLE runs(\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  label TEXT UNIQUE NOT NULL,\n"
	"  kind TEXT NOT NULL CHECK(kind IN ('real','kubemark','other')),\n"
	"  started_ns INTEGER, ended_ns INTEGER,\n"
	"  host TEXT, kernel TEXT, command TEXT,\n"
	"  requests INTEGER, lost_events INTEGER, unmatched INTEGER);\n"
	"CREATE TABLE targets(\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  run_id INTEGER REFERENCES runs(id),\n"
	"  pid INTEGER, component TEXT, exe TEXT, go_version TEXT,\n"
	"  main_path TEXT, build_id TEXT, offsets_source TEXT, probes TEXT,\n"
	"  attached_ns INTEGER, exited_ns INTEGER);\n"
	"CREATE INDEX targets_run ON targets(run_id);\n"
	/*
	 * Version 2: a request is four integers (request_rows), everything
	 * that repeats is one call_kinds row, and requests is a view with the
	 * columns of version 1 (SCHEMA.md). See store__add_request.
	 */
	"CREATE TABLE call_kinds(\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  run_id INTEGER REFERENCES runs(id), target_id INTEGER,\n"
	"  component TEXT NOT NULL, protocol TEXT, method TEXT, verb TEXT NOT NULL,\n"
	"  api_group TEXT, api_version TEXT, resource TEXT NOT NULL, subresource TEXT NOT NULL,\n"
	"  namespace TEXT, scope TEXT NOT NULL, name TEXT, path TEXT,\n"
	"  watch INTEGER, status INTEGER, base_ns INTEGER NOT NULL);\n"
	"CREATE INDEX call_kinds_run ON call_kinds(run_id);\n"
	"CREATE TABLE request_rows(\n"
	"  id INTEGER PRIMARY KEY, kind INTEGER NOT NULL,\n"
	"  start_off INTEGER, latency_ns INTEGER);\n"
	"CREATE TABLE request_spans(\n"
	"  run_id INTEGER NOT NULL, first_id INTEGER NOT NULL, last_id INTEGER NOT NULL);\n"
	"CREATE INDEX request_spans_run ON request_spans(run_id);\n"
	"CREATE VIEW requests AS SELECT\n"
	"  k.run_id AS run_id, k.target_id AS target_id, k.component AS component,\n"
	"  k.protocol AS protocol, k.method AS method, k.verb AS verb,\n"
	"  k.api_group AS api_group, k.api_version AS api_version, k.resource AS resource,\n"
	"  k.subresource AS subresource, k.namespace AS namespace, k.scope AS scope,\n"
	"  k.name AS name, k.path AS path, k.watch AS watch, k.status AS status,\n"
	"  k.base_ns + r.start_off AS start_ns, r.latency_ns AS latency_ns, r.id AS id\n"
	"  FROM request_rows r JOIN call_kinds k ON k.id = r.kind;\n"
	/* So that SQL written for version 1 that inserts or deletes keeps working. */
	"CREATE TRIGGER requests_delete INSTEAD OF DELETE ON requests BEGIN\n"
	"  DELETE FROM request_rows WHERE id = OLD.id; END;\n"
	"CREATE TRIGGER requests_insert INSTEAD OF INSERT ON requests BEGIN\n"
	"  INSERT INTO call_kinds(run_id, target_id, component, protocol, method, verb,\n"
	"    api_group, api_version, resource, subresource, namespace, scope, name, path,\n"
	"    watch, status, base_ns)\n"
	"  SELECT NEW.run_id, NEW.target_id, ifnull(NEW.component, ''), NEW.protocol, NEW.method,\n"
	"    ifnull(NEW.verb, ''), NEW.api_group, NEW.api_version, ifnull(NEW.resource, ''),\n"
	"    ifnull(NEW.subresource, ''), NEW.namespace, ifnull(NEW.scope, ''), NEW.name,\n"
	"    NEW.path, NEW.watch, NEW.status,\n"
	"    ifnull((SELECT started_ns FROM runs WHERE id = NEW.run_id), 0)\n"
	"  WHERE NOT EXISTS (SELECT 1 FROM call_kinds k WHERE " KIND_MATCH_NEW ");\n"
	"  INSERT INTO request_rows(id, kind, start_off, latency_ns)\n"
	"  SELECT NEW.id, k.id, NEW.start_ns - k.base_ns, NEW.latency_ns\n"
	"  FROM call_kinds k WHERE " KIND_MATCH_NEW " ORDER BY k.id LIMIT 1;\n"
	"  INSERT INTO request_spans(run_id, first_id, last_id)\n"
	"  SELECT NEW.run_id, last_insert_rowid(), last_insert_rowid(); END;\n"
	"CREATE TABLE cpu_profile(\n"
	"  run_id INTEGER REFERENCES runs(id), target_id INTEGER,\n"
	"  category TEXT, verb TEXT, resource TEXT,\n"
	"  samples INTEGER, cpu_ns INTEGER);\n"
	"CREATE INDEX cpu_profile_run ON cpu_profile(run_id);\n"
	/*
	 * CPU stacks as pprof keeps them (profile.proto's Function and
	 * Location tables): each frame name once, each distinct stack once
	 * as a JSON array of frame ids, and the samples pointing at it; the
	 * cpu_stacks view spells the stack out as version 1 stored it.
	 */
	"CREATE TABLE cpu_functions(id INTEGER PRIMARY KEY, name TEXT NOT NULL,\n"
	"  file TEXT, line INTEGER, inlined INTEGER);\n"
	"CREATE TABLE cpu_stack_ids(id INTEGER PRIMARY KEY, frames TEXT NOT NULL);\n"
	"CREATE TABLE cpu_stack_samples(\n"
	"  run_id INTEGER REFERENCES runs(id), target_id INTEGER, component TEXT,\n"
	"  category TEXT, verb TEXT, resource TEXT, stack_id INTEGER,\n"
	"  samples INTEGER, cpu_ns INTEGER, subresource TEXT, scope TEXT);\n"
	"CREATE INDEX cpu_stack_samples_run ON cpu_stack_samples(run_id);\n"
	"CREATE VIEW cpu_stacks AS SELECT\n"
	"  s.run_id AS run_id, s.target_id AS target_id, s.component AS component,\n"
	"  s.category AS category, s.verb AS verb, s.resource AS resource,\n"
	"  (SELECT group_concat((SELECT name FROM cpu_functions WHERE id = j.value), ';')\n"
	"   FROM json_each(t.frames) j) AS stack,\n"
	"  s.samples AS samples, s.cpu_ns AS cpu_ns,\n"
	"  s.subresource AS subresource, s.scope AS scope\n"
	"  FROM cpu_stack_samples s JOIN cpu_stack_ids t ON t.id = s.stack_id;\n"
	"CREATE TRIGGER cpu_stacks_delete INSTEAD OF DELETE ON cpu_stacks BEGIN\n"
	"  DELETE FROM cpu_stack_samples WHERE run_id IS OLD.run_id\n"
	"    AND target_id IS OLD.target_id AND category IS OLD.category\n"
	"    AND verb IS OLD.verb AND resource IS OLD.resource; END;\n";

/*
 * Tables added within schema version 1, created in every file opened for
 * writing, so that files made by an older cpprof gain them: syscall
 * latency histograms (user/trace/syslat.c) and served TCP connections
 * (user/trace/sockview.c), one row per target and interval (and bucket);
 * Prometheus scrapes (user/k8s/scrape.c): a row per scrape, a row per series
 * of a run (name and label set, stored once), a row per series and scrape.
 */
static const char added_sql[] =
	"CREATE TABLE IF NOT EXISTS syscalls(\n"
	"  run_id INTEGER REFERENCES runs(id), target_id INTEGER, component TEXT,\n"
	"  syscall TEXT, interval_start_ns INTEGER, interval_ns INTEGER,\n"
	"  le_ns INTEGER, count INTEGER, sum_ns INTEGER);\n"
	"CREATE INDEX IF NOT EXISTS syscalls_run ON syscalls(run_id, component, syscall);\n"
	"CREATE TABLE IF NOT EXISTS sock_stats(\n"
	"  run_id INTEGER REFERENCES runs(id), target_id INTEGER, component TEXT,\n"
	"  interval_start_ns INTEGER, interval_ns INTEGER,\n"
	"  accepted INTEGER, closed INTEGER, peers INTEGER,\n"
	"  bytes_in INTEGER, bytes_out INTEGER, retransmits INTEGER);\n"
	"CREATE INDEX IF NOT EXISTS sock_stats_run ON sock_stats(run_id);\n"
	"CREATE TABLE IF NOT EXISTS metric_scrapes(\n"
	"  id INTEGER PRIMARY KEY, run_id INTEGER REFERENCES runs(id),\n"
	"  endpoint TEXT, component TEXT, t_ns INTEGER, duration_ns INTEGER,\n"
	"  bytes INTEGER, samples INTEGER, error TEXT, message TEXT);\n"
	"CREATE INDEX IF NOT EXISTS metric_scrapes_run ON metric_scrapes(run_id);\n"
	"CREATE TABLE IF NOT EXISTS metric_series(\n"
	"  id INTEGER PRIMARY KEY, run_id INTEGER REFERENCES runs(id),\n"
	"  name TEXT, labels TEXT, le REAL);\n"
	"CREATE INDEX IF NOT EXISTS metric_series_run ON metric_series(run_id, name);\n"
	"CREATE TABLE IF NOT EXISTS metric_samples(\n"
	"  scrape_id INTEGER REFERENCES metric_scrapes(id), series_id INTEGER, value REAL);\n"
	"CREATE INDEX IF NOT EXISTS metric_samples_scrape ON metric_samples(scrape_id);\n"
	"CREATE TABLE IF NOT EXISTS etcd_client_calls(\n"
	"  run_id INTEGER REFERENCES runs(id), target_id INTEGER,\n"
	"  request_start_ns INTEGER, method TEXT, verb TEXT, resource TEXT,\n"
	"  namespace TEXT, list INTEGER, stream INTEGER, start_ns INTEGER,\n"
	"  latency_ns INTEGER, status INTEGER, request_id INTEGER);\n"
	"CREATE TABLE IF NOT EXISTS request_breakdown(\n"
	"  run_id INTEGER REFERENCES runs(id), target_id INTEGER, request_start_ns INTEGER,\n"
	"  latency_ns INTEGER, etcd_calls INTEGER, etcd_ns INTEGER, cpu_ns INTEGER,\n"
	"  serialization_ns INTEGER, apf_wait_ns INTEGER, other_ns INTEGER, request_id INTEGER);\n"
	"CREATE INDEX IF NOT EXISTS request_breakdown_req ON request_breakdown(run_id, target_id,\n"
	"  request_start_ns);\n";

/* After added_columns[] (a file of an earlier version 2 build gains request_id first). */
static const char added_index_sql[] =
	"CREATE INDEX IF NOT EXISTS request_breakdown_id ON request_breakdown(request_id);\n";

/*
 * Columns added within schema version 1 (table, column, type): run
 * metadata for `cpprof runs` and diff, and the CPU sampler's figures.
 * ALTER TABLE ADD COLUMN runs only where table_info lacks the column, so
 * files made by an older cpprof gain them when opened for writing; readers
 * treat a missing column as NULL.
 */
static const struct {
	const char *table, *column, *type;
} added_columns[] = {
	{ "runs", "nodes", "INTEGER" },
	{ "runs", "pods", "INTEGER" },
	{ "runs", "namespaces", "INTEGER" },
	{ "runs", "cluster_source", "TEXT" },
	{ "runs", "sample_hz", "INTEGER" },
	{ "runs", "lost_samples", "INTEGER" },
	{ "targets", "k8s_version", "TEXT" },
	{ "targets", "etcd_version", "TEXT" },
	{ "targets", "cpu_ns", "INTEGER" },
	{ "targets", "samples", "INTEGER" },
	{ "cpu_profile", "component", "TEXT" },
	{ "cpu_profile", "subresource", "TEXT" },
	{ "cpu_profile", "scope", "TEXT" },
	{ "targets", "started_ns", "INTEGER" },
	{ "runs", "dropped_requests", "INTEGER" },
	{ "runs", "dropped_rows", "INTEGER" },
	{ "runs", "dropped_reason", "TEXT" },
	{ "runs", "dropped_since_ns", "INTEGER" },
	{ "runs", "drop_limit_bytes", "INTEGER" },
	{ "cpu_stacks", "subresource", "TEXT" },
	{ "cpu_stacks", "scope", "TEXT" },
	{ "cpu_functions", "file", "TEXT" },
	{ "cpu_functions", "line", "INTEGER" },
	{ "cpu_functions", "inlined", "INTEGER" },
	/* the request's id (requests.id): its key, unique where a start time may not be */
	{ "request_breakdown", "request_id", "INTEGER" },
	{ "etcd_client_calls", "request_id", "INTEGER" },
};

/*
 * An in-memory dictionary: a byte string (a call kind's fields, a frame
 * name, a stack's frame ids) -> its row id, open addressing on key_hash, so
 * that a request costs a hash lookup, not a SELECT. Entries live as long
 * as the store; a rolled-back batch empties it (its rows may be gone).
 */
struct dict_ent {
	uint64_t hash;
	int64_t id;
	size_t len;
	char *key;
};

struct dict {
	struct dict_ent *tab;
	size_t n, cap;   /* cap: a power of two, or 0 */
};

/* A stretch of request ids of one run written in the open batch (table request_spans). */
struct span {
	int64_t run_id, first, last;
};

#define SPANS 8

/*
 * Requests are inserted REQ_ROWS at a time by one multi-row INSERT: a
 * single-row statement spends about a fifth of its time starting and
 * halting (0.55 vs 0.45 us of CPU a row on a 2-core KVM guest). Their ids
 * are given by the store, max(id) + 1 on, as SQLite would give them: the
 * batch transaction is BEGIN IMMEDIATE, so no other writer can take one
 * meanwhile, and store__add_request_id can hand the id back at once.
 */
#define REQ_ROWS 64

struct req_row {
	int64_t id, kind, start_off, latency_ns;
};

struct store {
	sqlite3 *db;
	char *path;
	bool in_tx;         /* a batch transaction is open */
	int pending;        /* rows in it */
	sqlite3_stmt *begin, *commit;
	sqlite3_stmt *ins_run, *end_run, *ins_target, *target_exit, *ins_req;
	sqlite3_stmt *target_started;
	sqlite3_stmt *del_req, *del_cpu, *del_targets, *del_run;
	sqlite3_stmt *ins_syscall, *ins_sock, *del_syscalls, *del_sock;
	sqlite3_stmt *set_cluster, *set_target_cpu, *ins_cpu, *ins_stack, *del_stacks;
	sqlite3_stmt *ins_mscrape, *ins_mseries, *ins_msample;
	sqlite3_stmt *del_msamples, *del_mseries, *del_mscrapes;
	/* Bounded recording (budget.h): rows dropped since the budget was spent. */
	struct budget *budget;
	enum budget_limit limit;      /* BUDGET_OK while storing */
	int64_t drop_since_ns;
	int64_t dropped[2];           /* [0] requests, [1] other growing rows */
	int pending_kind[2];          /* of the open batch: what SQLITE_FULL takes back */
	sqlite3_stmt *ins_etcdc, *ins_bd, *del_etcdc, *del_bd, *set_bd_cpu;
	sqlite3_stmt *ins_kind, *ins_span, *run_base, *ins_func, *ins_stackid;
	sqlite3_stmt *del_kinds, *del_spans;
	struct dict kinds, funcs, stacks;
	struct span spans[SPANS];
	int nspans;
	sqlite3_stmt *ins_reqs, *max_req;  /* REQ_ROWS rows at once; the highest id */
	struct req_row reqs[REQ_ROWS];
	int nreqs;
	int64_t next_id;                   /* 0: not read yet in this transaction */
	int64_t base_run, base_ns;  /* started_ns of the run last written to */
};

#define STR_(x) #x
#define STR(x) STR_(x)

/* Map an SQLite result code to the errno the caller returns. */
static int sqlite_errno(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_FULL:	return -ENOSPC;
	case SQLITE_READONLY:	return -EROFS;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:	return -EBUSY;
	case SQLITE_NOMEM:	return -ENOMEM;
	case SQLITE_PERM:
	case SQLITE_AUTH:	return -EACCES;
	case SQLITE_CANTOPEN:	return -ENOENT;
	case SQLITE_CONSTRAINT:	return -EINVAL;
	default:		return -EIO;
	}
}

static int db_err(struct store *s, int rc)
{
	cp_seterr("'%s': %s", s->path, sqlite3_errmsg(s->db));
	/* A full disk under the WAL or its index can come back as an I/O error. */
	if ((rc & 0xff) == SQLITE_IOERR && sqlite3_system_errno(s->db) == ENOSPC)
		return -ENOSPC;
	return sqlite_errno(rc);
}

/* Run SQL without results (pragmas, DDL). */
static int exec(struct store *s, const char *sql)
{
	int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : db_err(s, rc);
}

/* Step a write statement once and reset it; anything but DONE is an error. */
static int step_done(struct store *s, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	int err = 0;

	if (rc != SQLITE_DONE)
		err = db_err(s, rc);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return err;
}

static int prepare(struct store *s, const char *sql, sqlite3_stmt **st)
{
	int rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL);

	return rc == SQLITE_OK ? 0 : db_err(s, rc);
}

static void bind_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

/* Group-key columns: NULL is stored as '' so that GROUP BY never splits a group in two. */
static void bind_key(sqlite3_stmt *st, int i, const char *v)
{
	sqlite3_bind_text(st, i, v ? v : "", -1, SQLITE_STATIC);
}

/*
 * A word at a time (murmur3's 64-bit finalizer constants): a kind's key is
 * about 100 bytes, and FNV-1a's byte loop over it was the store's largest
 * single cost per request (perf -e cpu-clock on test_store's throughput).
 */
static uint64_t key_hash(const void *p, size_t n)
{
	const unsigned char *b = p;
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ n, w;

	for (; n >= 8; b += 8, n -= 8) {
		memcpy(&w, b, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdULL;
		h ^= h >> 32;
	}
	w = 0;
	memcpy(&w, b, n);
	h = (h ^ w) * 0xc4ceb9fe1a85ec53ULL;
	return h ^ (h >> 29);
}

/* The id of KEY, or 0 (row ids start at 1); *HASH gets its hash for dict_put. */
static int64_t dict_get(const struct dict *d, const void *key, size_t len, uint64_t *hash)
{
	uint64_t h = key_hash(key, len);

	*hash = h;
	if (!d->cap)
		return 0;
	for (size_t i = h & (d->cap - 1);; i = (i + 1) & (d->cap - 1)) {
		const struct dict_ent *e = &d->tab[i];

		if (!e->key)
			return 0;
		if (e->hash == h && e->len == len && memcmp(e->key, key, len) == 0)
			return e->id;
	}
}

static int dict_put(struct dict *d, const void *key, size_t len, uint64_t h, int64_t id)
{
	struct dict_ent *e;

	if ((d->n + 1) * 2 > d->cap) {
		size_t nc = d->cap ? d->cap * 2 : 256;
		struct dict_ent *nt = calloc(nc, sizeof(*nt));

		if (!nt)
			return -ENOMEM;
		for (size_t i = 0; i < d->cap; i++) {
			size_t j;

			if (!d->tab[i].key)
				continue;
			for (j = d->tab[i].hash & (nc - 1); nt[j].key; j = (j + 1) & (nc - 1))
				;
			nt[j] = d->tab[i];
		}
		free(d->tab);
		d->tab = nt;
		d->cap = nc;
	}
	for (size_t i = h & (d->cap - 1);; i = (i + 1) & (d->cap - 1)) {
		e = &d->tab[i];
		if (!e->key)
			break;
	}
	if (!(e->key = malloc(len ? len : 1)))
		return -ENOMEM;
	memcpy(e->key, key, len);
	e->len = len;
	e->hash = h;
	e->id = id;
	d->n++;
	return 0;
}

static void dict_clear(struct dict *d)
{
	for (size_t i = 0; i < d->cap; i++)
		free(d->tab[i].key);
	free(d->tab);
	memset(d, 0, sizeof(*d));
}

/* One integer from a query, or -errno. */
static int query_int(struct store *s, const char *sql, long long *out)
{
	sqlite3_stmt *st = NULL;
	int rc, err = 0;

	rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return db_err(s, rc);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	else if (rc == SQLITE_DONE)
		err = -ENOENT;
	else
		err = db_err(s, rc);
	sqlite3_finalize(st);
	return err;
}

/*
 * SQLite gives -wal and -shm the mode of the database file (os_unix.c,
 * findCreateFileMode()), but the file may have been opened by
 * an older SQLite or another tool; make sure nobody but the owner can read
 * recorded requests through them.
 */
static int keep_private(struct store *s)
{
	static const char *const sfx[] = { "-wal", "-shm" };
	char p[4096];
	struct stat sb;

	for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", s->path, sfx[i]);
		if (stat(p, &sb) < 0 || !(sb.st_mode & 077))
			continue;
		if (chmod(p, sb.st_mode & 0700) < 0) {
			cp_seterr("cannot make '%s' private: %s", p, strerror(errno));
			return -errno;
		}
	}
	return 0;
}

/* Add each of added_columns[] that the file lacks. */
static int add_columns(struct store *s)
{
	char sql[256];
	long long have;
	int err;

	for (size_t i = 0; i < sizeof(added_columns) / sizeof(added_columns[0]); i++) {
		snprintf(sql, sizeof(sql),
			 "SELECT count(*) FROM pragma_table_info('%s') WHERE name = '%s'",
			 added_columns[i].table, added_columns[i].column);
		err = query_int(s, sql, &have);
		if (err)
			return err;
		if (have)
			continue;
		snprintf(sql, sizeof(sql), "ALTER TABLE %s ADD COLUMN %s %s",
			 added_columns[i].table, added_columns[i].column, added_columns[i].type);
		err = exec(s, sql);
		if (err)
			return err;
	}
	return 0;
}

/*
 * Check what kind of file we opened, before changing anything in it: an
 * empty file (just created by us, or an SQLite file without tables) gets
 * the schema; a cpprof database of a version we know is used as is;
 * anything else is refused untouched.
 */
static int check_or_create(struct store *s)
{
	long long ntables = 0, version = 0;
	int err;

	err = query_int(s, "SELECT count(*) FROM sqlite_master", &ntables);
	if (err) {
		if (sqlite3_errcode(s->db) == SQLITE_NOTADB) {
			cp_seterr("'%s' is not a cpprof database (not an SQLite file); use a new file",
				  s->path);
			return -EINVAL;
		}
		return err;
	}

	if (ntables == 0) {
		/* journal_mode cannot change inside a transaction: before the schema. */
		err = exec(s, "PRAGMA journal_mode=WAL");
		if (err)
			return err;
		/*
		 * IMMEDIATE takes the write lock now, so of two recorders
		 * creating the same file at once, the second one waits and
		 * then finds the schema instead of failing half-way.
		 */
		err = exec(s, "BEGIN IMMEDIATE");
		if (err)
			return err;
		err = query_int(s, "SELECT count(*) FROM sqlite_master", &ntables);
		if (!err && ntables == 0) {
			err = exec(s, schema_sql);
			if (!err)
				err = exec(s, "INSERT INTO schema_version(version) VALUES ("
					   STR(STORE_SCHEMA_VERSION) ")");
		}
		if (err) {
			sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
			return err;
		}
		err = exec(s, "COMMIT");
		if (err)
			return err;
	}

	err = query_int(s, "SELECT count(*) FROM sqlite_master "
			   "WHERE type = 'table' AND name = 'schema_version'", &ntables);
	if (err)
		return err;
	if (ntables == 0) {
		cp_seterr("'%s' is not a cpprof database (no schema_version table); use a new file",
			  s->path);
		return -EINVAL;
	}
	err = query_int(s, "SELECT max(version) FROM schema_version", &version);
	if (err == -ENOENT || (!err && version == 0)) {
		cp_seterr("'%s' is not a cpprof database (empty schema_version table); use a new file",
			  s->path);
		return -EINVAL;
	}
	if (err)
		return err;
	if (version > STORE_SCHEMA_VERSION) {
		cp_seterr("'%s' has schema version %lld, newer than this cpprof (%d); upgrade cpprof",
			  s->path, version, STORE_SCHEMA_VERSION);
		return -EPROTO;
	}
	if (version < STORE_SCHEMA_VERSION) {
		/*
		 * Version 1 kept every request as a row of text; converting
		 * a file of millions of them in place would hold the recording
		 * for minutes. report and diff read it as it is.
		 */
		cp_seterr("'%s' has schema version %lld, written by an older cpprof; record into "
			  "a new --db file, or convert it with 'cpprof migrate %s NEW.db' (report and "
			  "diff read it as it is)", s->path, version, s->path);
		return -EPROTO;
	}
	/* Persistent in the file; a no-op for databases we created. */
	err = exec(s, "PRAGMA journal_mode=WAL");
	if (err)
		return err;
	err = exec(s, added_sql);
	if (err)
		return err;
	err = add_columns(s);
	return err ? err : exec(s, added_index_sql);
}

/* Insert the buffered requests: REQ_ROWS at once, or one by one for the rest of a batch. */
static int write_reqs(struct store *s)
{
	sqlite3_stmt *st = s->nreqs == REQ_ROWS ? s->ins_reqs : s->ins_req;
	int err = 0;

	for (int i = 0; i < s->nreqs && !err; i++) {
		const struct req_row *q = &s->reqs[i];
		int at = st == s->ins_reqs ? 4 * i : 0;

		sqlite3_bind_int64(st, at + 1, q->id);
		sqlite3_bind_int64(st, at + 2, q->kind);
		sqlite3_bind_int64(st, at + 3, q->start_off);
		sqlite3_bind_int64(st, at + 4, q->latency_ns);
		if (st == s->ins_req || i == s->nreqs - 1) {
			err = sqlite3_step(st) == SQLITE_DONE ? 0 : db_err(s, sqlite3_errcode(s->db));
			sqlite3_reset(st);
		}
	}
	s->nreqs = 0;
	return err;
}

/*
 * Write what the open batch holds in memory: the buffered requests, and
 * the id stretches of each run, so a reader finds a run's rows without an
 * index on them.
 */
static int write_spans(struct store *s)
{
	int err = write_reqs(s);

	for (int i = 0; i < s->nspans && !err; i++) {
		sqlite3_bind_int64(s->ins_span, 1, s->spans[i].run_id);
		sqlite3_bind_int64(s->ins_span, 2, s->spans[i].first);
		sqlite3_bind_int64(s->ins_span, 3, s->spans[i].last);
		err = step_done(s, s->ins_span);
	}
	if (!err)
		s->nspans = 0;
	return err;
}

struct store *store__open(const char *path, int *errp)
{
	struct store *s;
	bool created = false, existed = false;
	int fd, rc, err = 0;

	s = calloc(1, sizeof(*s));
	if (!s || !(s->path = strdup(path))) {
		cp_seterr("out of memory");
		err = -ENOMEM;
		goto cleanup;
	}

	/*
	 * Create the file ourselves: sqlite3_open_v2 would create it with
	 * 0644 minus umask, and requests name the cluster's resources.
	 */
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd >= 0)
		created = true;
	else if ((existed = errno == EEXIST))
		fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		cp_seterr("cannot %s '%s': %s; choose a writable --db path",
			  existed ? "open" : "create", path, strerror(-err));
		goto cleanup;
	}
	close(fd);

	/* One thread at a time uses a store (struct store is not locked either): no mutex per call. */
	rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		err = s->db ? db_err(s, rc) : -ENOMEM;
		goto cleanup;
	}
	sqlite3_extended_result_codes(s->db, 1);
	/* Another recorder or a reader may hold the lock for a moment. */
	sqlite3_busy_timeout(s->db, 5000);

	err = check_or_create(s);
	if (err)
		goto cleanup;
	/*
	 * NORMAL in WAL mode: commits are not fsynced, but the database
	 * cannot be corrupted by a crash; a power cut loses the last batches.
	 */
	err = exec(s, "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON");
	if (err)
		goto cleanup;
	err = keep_private(s);
	if (err)
		goto cleanup;

	{
		/* "INSERT ... VALUES (?,?,?,?),(?,?,?,?),..." for REQ_ROWS rows */
		char sql[64 + REQ_ROWS * 12];
		size_t n = (size_t)snprintf(sql, sizeof(sql), "INSERT INTO request_rows(id, kind, "
					    "start_off, latency_ns) VALUES (?,?,?,?)");

		for (int i = 1; i < REQ_ROWS; i++)
			n += (size_t)snprintf(sql + n, sizeof(sql) - n, ",(?,?,?,?)");
		err = prepare(s, sql, &s->ins_reqs);
		if (err)
			goto cleanup;
	}
	if ((err = prepare(s, "BEGIN IMMEDIATE", &s->begin)) ||
	    (err = prepare(s, "SELECT ifnull(max(id), 0) FROM request_rows", &s->max_req)) ||
	    (err = prepare(s, "COMMIT", &s->commit)) ||
	    (err = prepare(s, "INSERT INTO runs(label, kind, started_ns, host, kernel, command, "
			      "sample_hz) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", &s->ins_run)) ||
	    (err = prepare(s, "UPDATE runs SET ended_ns = ?2, requests = ?3, lost_events = ?4, "
			      "unmatched = ?5, lost_samples = ?6, dropped_requests = ?7, "
			      "dropped_rows = ?8, dropped_reason = ?9, dropped_since_ns = ?10, "
			      "drop_limit_bytes = ?11 WHERE id = ?1", &s->end_run)) ||
	    (err = prepare(s, "INSERT INTO targets(run_id, pid, component, exe, go_version, "
			      "main_path, build_id, offsets_source, probes, attached_ns, "
			      "k8s_version, etcd_version) "
			      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
			   &s->ins_target)) ||
	    (err = prepare(s, "UPDATE runs SET nodes = ?2, pods = ?3, namespaces = ?4, "
			      "cluster_source = ?5 WHERE id = ?1", &s->set_cluster)) ||
	    (err = prepare(s, "UPDATE targets SET cpu_ns = ?2, samples = ?3 WHERE id = ?1",
			   &s->set_target_cpu)) ||
	    (err = prepare(s, "INSERT INTO cpu_profile(run_id, target_id, component, category, "
			      "verb, resource, subresource, scope, samples, cpu_ns) "
			      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)", &s->ins_cpu)) ||
	    (err = prepare(s, "INSERT INTO cpu_stack_samples(run_id, target_id, component, "
			      "category, verb, resource, stack_id, samples, cpu_ns, subresource, scope) "
			      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)", &s->ins_stack)) ||
	    (err = prepare(s, "DELETE FROM cpu_stack_samples WHERE run_id = ?1", &s->del_stacks)) ||
	    (err = prepare(s, "INSERT INTO cpu_functions(name, file, line, inlined) "
			      "VALUES (?1, ?2, ?3, ?4)", &s->ins_func)) ||
	    (err = prepare(s, "INSERT INTO cpu_stack_ids(frames) VALUES (?1)", &s->ins_stackid)) ||
	    (err = prepare(s, "INSERT INTO call_kinds(run_id, target_id, component, protocol, "
			      "method, verb, api_group, api_version, resource, subresource, "
			      "namespace, scope, name, path, watch, status, base_ns) "
			      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, "
			      "?14, ?15, ?16, ?17)", &s->ins_kind)) ||
	    (err = prepare(s, "INSERT INTO request_spans(run_id, first_id, last_id) "
			      "VALUES (?1, ?2, ?3)", &s->ins_span)) ||
	    (err = prepare(s, "SELECT started_ns FROM runs WHERE id = ?1", &s->run_base)) ||
	    (err = prepare(s, "DELETE FROM call_kinds WHERE run_id = ?1", &s->del_kinds)) ||
	    (err = prepare(s, "DELETE FROM request_spans WHERE run_id = ?1", &s->del_spans)) ||
	    (err = prepare(s, "UPDATE targets SET exited_ns = ?2 WHERE id = ?1",
			   &s->target_exit)) ||
	    (err = prepare(s, "UPDATE targets SET started_ns = ?2 WHERE id = ?1",
			   &s->target_started)) ||
	    (err = prepare(s, "INSERT INTO request_rows(id, kind, start_off, latency_ns) "
			      "VALUES (?1, ?2, ?3, ?4)", &s->ins_req)) ||
	    (err = prepare(s, "DELETE FROM request_rows WHERE kind IN "
			      "(SELECT id FROM call_kinds WHERE run_id = ?1)", &s->del_req)) ||
	    (err = prepare(s, "DELETE FROM cpu_profile WHERE run_id = ?1", &s->del_cpu)) ||
	    (err = prepare(s, "DELETE FROM targets WHERE run_id = ?1", &s->del_targets)) ||
	    (err = prepare(s, "DELETE FROM runs WHERE id = ?1", &s->del_run)) ||
	    (err = prepare(s, "INSERT INTO syscalls(run_id, target_id, component, syscall, "
			      "interval_start_ns, interval_ns, le_ns, count, sum_ns) "
			      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)", &s->ins_syscall)) ||
	    (err = prepare(s, "INSERT INTO sock_stats(run_id, target_id, component, "
			      "interval_start_ns, interval_ns, accepted, closed, peers, bytes_in, "
			      "bytes_out, retransmits) "
			      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)", &s->ins_sock)) ||
	    (err = prepare(s, "DELETE FROM syscalls WHERE run_id = ?1", &s->del_syscalls)) ||
	    (err = prepare(s, "DELETE FROM sock_stats WHERE run_id = ?1", &s->del_sock)) ||
	    (err = prepare(s, "INSERT INTO metric_scrapes(run_id, endpoint, component, t_ns, "
			      "duration_ns, bytes, samples, error, message) "
			      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)", &s->ins_mscrape)) ||
	    (err = prepare(s, "INSERT INTO metric_series(run_id, name, labels, le) "
			      "VALUES (?1, ?2, ?3, ?4)", &s->ins_mseries)) ||
	    (err = prepare(s, "INSERT INTO metric_samples(scrape_id, series_id, value) "
			      "VALUES (?1, ?2, ?3)", &s->ins_msample)) ||
	    (err = prepare(s, "DELETE FROM metric_samples WHERE scrape_id IN "
			      "(SELECT id FROM metric_scrapes WHERE run_id = ?1)", &s->del_msamples)) ||
	    (err = prepare(s, "DELETE FROM metric_series WHERE run_id = ?1", &s->del_mseries)) ||
	    (err = prepare(s, "DELETE FROM metric_scrapes WHERE run_id = ?1", &s->del_mscrapes)) ||
	    (err = prepare(s, "INSERT INTO etcd_client_calls(run_id, target_id, request_start_ns, "
			      "method, verb, resource, namespace, list, stream, start_ns, latency_ns, status, "
			      "request_id) "
			      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)", &s->ins_etcdc)) ||
	    (err = prepare(s, "INSERT INTO request_breakdown(run_id, target_id, request_start_ns, "
			      "latency_ns, etcd_calls, etcd_ns, cpu_ns, serialization_ns, apf_wait_ns, other_ns, "
			      "request_id) "
			      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)", &s->ins_bd)) ||
	    (err = prepare(s, "DELETE FROM etcd_client_calls WHERE run_id = ?1", &s->del_etcdc)) ||
	    (err = prepare(s, "DELETE FROM request_breakdown WHERE run_id = ?1", &s->del_bd)) ||
	    /*
	     * The measured intervals (etcd calls, the wait before the handler) are
	     * disjoint in time; sampled CPU, an estimate that may overlap them (a
	     * child goroutine's), is clipped to what they leave of the latency, and
	     * the rest is what all three leave.
	     */
	    (err = prepare(s, "UPDATE request_breakdown SET "
			      "cpu_ns = MIN(?4, latency_ns - COALESCE(etcd_ns, 0) - COALESCE(apf_wait_ns, 0)), "
			      "serialization_ns = MIN(?5, ?4, latency_ns - COALESCE(etcd_ns, 0) - "
			      "COALESCE(apf_wait_ns, 0)), "
			      "other_ns = CASE WHEN etcd_ns IS NULL THEN NULL ELSE "
			      "MAX(0, latency_ns - etcd_ns - COALESCE(apf_wait_ns, 0) - "
			      "MIN(?4, latency_ns - etcd_ns - COALESCE(apf_wait_ns, 0))) END "
			      "WHERE request_id = ?3 AND run_id = ?1 AND target_id = ?2", &s->set_bd_cpu)))
		goto cleanup;

cleanup:
	if (err) {
		/* Leave nothing behind for a file that only this attempt made. */
		store__close(s);
		if (created)
			unlink(path);
		s = NULL;
	}
	if (errp)
		*errp = err;
	return s;
}

void store__close(struct store *s)
{
	if (!s)
		return;
	/* Best effort: the caller that cares about the last batch calls store__flush. */
	if (s->in_tx && s->db) {
		write_spans(s);
		sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
	}
	sqlite3_finalize(s->begin);
	sqlite3_finalize(s->commit);
	sqlite3_finalize(s->ins_run);
	sqlite3_finalize(s->end_run);
	sqlite3_finalize(s->ins_target);
	sqlite3_finalize(s->target_exit);
	sqlite3_finalize(s->target_started);
	sqlite3_finalize(s->ins_req);
	sqlite3_finalize(s->ins_etcdc);
	sqlite3_finalize(s->ins_bd);
	sqlite3_finalize(s->del_etcdc);
	sqlite3_finalize(s->del_bd);
	sqlite3_finalize(s->set_bd_cpu);
	sqlite3_finalize(s->ins_reqs);
	sqlite3_finalize(s->max_req);
	sqlite3_finalize(s->del_req);
	sqlite3_finalize(s->del_cpu);
	sqlite3_finalize(s->del_targets);
	sqlite3_finalize(s->del_run);
	sqlite3_finalize(s->ins_syscall);
	sqlite3_finalize(s->ins_sock);
	sqlite3_finalize(s->del_syscalls);
	sqlite3_finalize(s->del_sock);
	sqlite3_finalize(s->set_cluster);
	sqlite3_finalize(s->set_target_cpu);
	sqlite3_finalize(s->ins_cpu);
	sqlite3_finalize(s->ins_stack);
	sqlite3_finalize(s->del_stacks);
	sqlite3_finalize(s->ins_mscrape);
	sqlite3_finalize(s->ins_mseries);
	sqlite3_finalize(s->ins_msample);
	sqlite3_finalize(s->del_msamples);
	sqlite3_finalize(s->del_mseries);
	sqlite3_finalize(s->del_mscrapes);
	sqlite3_finalize(s->ins_kind);
	sqlite3_finalize(s->ins_span);
	sqlite3_finalize(s->run_base);
	sqlite3_finalize(s->ins_func);
	sqlite3_finalize(s->ins_stackid);
	sqlite3_finalize(s->del_kinds);
	sqlite3_finalize(s->del_spans);
	dict_clear(&s->kinds);
	dict_clear(&s->funcs);
	dict_clear(&s->stacks);
	sqlite3_close(s->db);
	free(s->path);
	free(s);
}

static int store_full(struct store *s, int kind);

/*
 * A batch was rolled back: the call kinds, frames and stacks it wrote are
 * gone with it, so the in-memory dictionaries that point at them go too,
 * with the buffered rows and spans; ids are read afresh next batch.
 */
static void batch_forget(struct store *s)
{
	dict_clear(&s->kinds);
	dict_clear(&s->funcs);
	dict_clear(&s->stacks);
	s->nspans = 0;
	s->nreqs = 0;
	s->next_id = 0;
}

int store__flush(struct store *s)
{
	int err;

	if (!s->in_tx)
		return 0;
	err = write_spans(s);
	if (!err)
		err = step_done(s, s->commit);
	if (err == -ENOSPC)
		return store_full(s, -1);
	/*
	 * A failed COMMIT may have rolled the transaction back; SQLite
	 * knows, so ask it rather than guess.
	 */
	s->in_tx = !sqlite3_get_autocommit(s->db);
	if (!s->in_tx) {
		s->pending = s->pending_kind[0] = s->pending_kind[1] = 0;
		s->next_id = 0;   /* another writer may take ids before our next batch */
	}
	if (err && !s->in_tx)
		batch_forget(s);   /* rolled back: the kinds, frames and stacks of the batch are gone with it */
	return err;
}

int store__begin_run(struct store *s, const struct run_info *ri, int64_t *run_id)
{
	int err;

	err = store__flush(s);
	if (err)
		return err;
	bind_text(s->ins_run, 1, ri->label);
	bind_text(s->ins_run, 2, ri->kind);
	sqlite3_bind_int64(s->ins_run, 3, ri->started_ns);
	bind_text(s->ins_run, 4, ri->host);
	bind_text(s->ins_run, 5, ri->kernel);
	bind_text(s->ins_run, 6, ri->command);
	sqlite3_bind_int(s->ins_run, 7, ri->sample_hz);
	err = step_done(s, s->ins_run);
	if (err) {
		int xrc = sqlite3_extended_errcode(s->db);

		if (xrc == SQLITE_CONSTRAINT_UNIQUE) {
			cp_seterr("run label '%s' already exists in '%s'; choose another --label",
				  ri->label, s->path);
			return -EEXIST;
		}
		if (xrc == SQLITE_CONSTRAINT_CHECK) {
			cp_seterr("run kind '%s' is not one of real, kubemark, other",
				  ri->kind ? ri->kind : "");
			return -EINVAL;
		}
		if (xrc == SQLITE_CONSTRAINT_NOTNULL) {
			cp_seterr("a run needs a label and a kind");
			return -EINVAL;
		}
		return err;
	}
	*run_id = sqlite3_last_insert_rowid(s->db);
	return 0;
}

int store__add_target(struct store *s, int64_t run_id, const struct target_info *ti,
		      int64_t *target_id)
{
	sqlite3_stmt *st = s->ins_target;
	int err;

	err = store__flush(s);
	if (err)
		return err;
	sqlite3_bind_int64(st, 1, run_id);
	sqlite3_bind_int(st, 2, ti->pid);
	bind_text(st, 3, ti->component);
	bind_text(st, 4, ti->exe);
	bind_text(st, 5, ti->go_version);
	bind_text(st, 6, ti->main_path);
	bind_text(st, 7, ti->build_id);
	bind_text(st, 8, ti->offsets_source);
	bind_text(st, 9, ti->probes);
	sqlite3_bind_int64(st, 10, ti->attached_ns);
	bind_text(st, 11, ti->k8s_version);
	bind_text(st, 12, ti->etcd_version);
	err = step_done(s, st);
	if (err)
		return err;
	*target_id = sqlite3_last_insert_rowid(s->db);
	return 0;
}

int store__target_exited(struct store *s, int64_t target_id, int64_t exited_ns)
{
	int err;

	err = store__flush(s);
	if (err)
		return err;
	sqlite3_bind_int64(s->target_exit, 1, target_id);
	sqlite3_bind_int64(s->target_exit, 2, exited_ns);
	return step_done(s, s->target_exit);
}

int store__target_started(struct store *s, int64_t target_id, int64_t started_ns)
{
	int err;

	err = store__flush(s);
	if (err)
		return err;
	sqlite3_bind_int64(s->target_started, 1, target_id);
	sqlite3_bind_int64(s->target_started, 2, started_ns);
	return step_done(s, s->target_started);
}

static int batch_begin(struct store *s);
static int batch_step(struct store *s, sqlite3_stmt *st);

/* Append field V (NULL and "" told apart) to the key being built in BUF. */
static size_t key_add(char *buf, size_t at, size_t cap, const char *v)
{
	size_t n = v ? strlen(v) : 0;

	if (at + n + 2 > cap)
		return cap + 1;     /* too long to intern: the caller stores no kind */
	buf[at++] = v ? 1 : 0;
	memcpy(buf + at, v ? v : "", n);
	at += n;
	buf[at++] = 0;
	return at;
}

/* started_ns of RUN_ID, the base of its rows' start_off; cached for the run being written. */
static int run_base(struct store *s, int64_t run_id, int64_t *base)
{
	int rc;

	if (run_id == s->base_run && run_id) {
		*base = s->base_ns;
		return 0;
	}
	sqlite3_bind_int64(s->run_base, 1, run_id);
	rc = sqlite3_step(s->run_base);
	*base = rc == SQLITE_ROW ? sqlite3_column_int64(s->run_base, 0) : 0;
	sqlite3_reset(s->run_base);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_err(s, rc);
	s->base_run = run_id;
	s->base_ns = *base;
	return 0;
}

/*
 * The call_kinds id of R: the in-memory dictionary, or a new row written
 * in the open batch. Everything of a request but its start and latency is
 * its kind, so a run of any length has only as many kinds as distinct
 * calls (a few hundred on a scale test; more when names are stored).
 */
static int kind_id(struct store *s, const struct request_rec *r, const char *path,
		   int64_t *id, int64_t *base)
{
	const char *text[] = { r->component, r->protocol, r->method, r->verb, r->api_group,
			       r->api_version, r->resource, r->subresource, r->namespace,
			       r->scope, r->name, path };
	sqlite3_stmt *st = s->ins_kind;
	char key[2048];
	size_t n = 0;
	int32_t ints[2] = { r->watch, r->status };
	int64_t ids[2] = { r->run_id, r->target_id };
	uint64_t h;
	int err;

	memcpy(key, ids, sizeof(ids));
	memcpy(key + sizeof(ids), ints, sizeof(ints));
	n = sizeof(ids) + sizeof(ints);
	for (size_t i = 0; i < sizeof(text) / sizeof(text[0]) && n <= sizeof(key); i++)
		n = key_add(key, n, sizeof(key), text[i]);
	err = run_base(s, r->run_id, base);
	if (err)
		return err;
	if (n <= sizeof(key) && (*id = dict_get(&s->kinds, key, n, &h)))
		return 0;
	sqlite3_bind_int64(st, 1, r->run_id);
	sqlite3_bind_int64(st, 2, r->target_id);
	bind_key(st, 3, r->component);
	bind_text(st, 4, r->protocol);
	bind_text(st, 5, r->method);
	bind_key(st, 6, r->verb);
	bind_text(st, 7, r->api_group);
	bind_text(st, 8, r->api_version);
	bind_key(st, 9, r->resource);
	bind_key(st, 10, r->subresource);
	bind_text(st, 11, r->namespace);
	bind_key(st, 12, r->scope);
	bind_text(st, 13, r->name);
	bind_text(st, 14, path);
	sqlite3_bind_int(st, 15, r->watch);
	sqlite3_bind_int(st, 16, r->status);
	sqlite3_bind_int64(st, 17, *base);
	err = step_done(s, st);
	if (err)
		return err;
	*id = sqlite3_last_insert_rowid(s->db);
	if (n <= sizeof(key) && dict_put(&s->kinds, key, n, h, *id)) {
		cp_seterr("out of memory");
		return -ENOMEM;
	}
	return 0;
}

/*
 * Which drop counter a row of statement ST belongs to: 0 requests, 1 the
 * other rows that grow with the run (cpu_stacks, syscalls, sock_stats,
 * metric_scrapes, metric_series, metric_samples), -1 rows that are always
 * kept (cpu_profile: a bounded aggregate written once at the end, that
 * the report's CPU section needs; runs and targets are not batched).
 */
static int row_kind(const struct store *s, sqlite3_stmt *st)
{
	if (st == s->ins_req)
		return 0;
	if (st == s->ins_cpu)
		return -1;
	return 1;
}

static int64_t clock_ns_(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int64_t mono_ns(void) { return clock_ns_(CLOCK_MONOTONIC); }
static int64_t real_ns(void) { return clock_ns_(CLOCK_REALTIME); }

/*
 * The disk filled up despite the floor (SQLITE_FULL, or ENOSPC under the
 * WAL). SQLite may already have rolled the batch back
 * (https://sqlite.org/lang_transaction.html: "the transaction may be
 * rolled back automatically" on SQLITE_FULL); make sure it is, so the
 * file holds every batch before it and none of this one, count the
 * batch's rows (and the row KIND that failed) as dropped, and drop from
 * now on. Not an error: the run goes on counting, and ends properly.
 */
static int store_full(struct store *s, int kind)
{
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	s->in_tx = false;
	s->pending = 0;
	batch_forget(s);
	for (int k = 0; k < 2; k++) {
		s->dropped[k] += s->pending_kind[k];
		s->pending_kind[k] = 0;
	}
	if (kind >= 0)
		s->dropped[kind]++;
	if (!s->limit) {
		s->limit = BUDGET_DISK_FULL;
		s->drop_since_ns = real_ns();
		/*
		 * A checkpoint would grow the database file by the WAL's new
		 * pages and eat the room the budget's reserve frees for the
		 * run's last rows; the WAL is valid as it is (readers use it).
		 */
		sqlite3_wal_autocheckpoint(s->db, 0);
		if (s->budget)
			budget__exhaust(s->budget, BUDGET_DISK_FULL);
	}
	return 0;
}


/* Note request ID of RUN_ID in the batch's spans (written at commit). */
static int span_add(struct store *s, int64_t run_id, int64_t id)
{
	int err;

	for (int i = 0; i < s->nspans; i++) {
		if (s->spans[i].run_id == run_id) {
			if (id > s->spans[i].last)
				s->spans[i].last = id;
			return 0;
		}
	}
	if (s->nspans == SPANS && (err = write_spans(s)))
		return err;
	s->spans[s->nspans++] = (struct span){ run_id, id, id };
	return 0;
}

int store__add_request_id(struct store *s, const struct request_rec *r, int64_t *idp)
{
	bool is_resource = r->resource && r->resource[0];
	int64_t kind, base, id;
	struct req_row *q;
	int err;

	err = batch_begin(s);
	if (err)
		return err;
	if (s->limit) {
		/* The budget is spent (budget.h): count the request instead of storing it. */
		s->dropped[0]++;
		if (idp)
			*idp = 0;
		return 0;
	}
	if (!s->next_id) {
		/* Within BEGIN IMMEDIATE: nobody else can insert until we commit. */
		int rc = sqlite3_step(s->max_req);

		s->next_id = rc == SQLITE_ROW ? sqlite3_column_int64(s->max_req, 0) + 1 : 0;
		sqlite3_reset(s->max_req);
		if (rc != SQLITE_ROW)
			return db_err(s, rc);
	}
	/* path is part of the report's group key: only where it names the call. */
	err = kind_id(s, r, is_resource ? NULL : r->path, &kind, &base);
	if (err)
		return err;
	id = s->next_id++;
	q = &s->reqs[s->nreqs++];
	*q = (struct req_row){ id, kind, r->start_ns - base, r->latency_ns };
	s->pending_kind[0]++;
	if (s->nreqs == REQ_ROWS && (err = write_reqs(s)))
		return err == -ENOSPC ? store_full(s, -1) : err;
	if (idp)
		*idp = id;
	err = span_add(s, r->run_id, id);
	if (err)
		return err == -ENOSPC ? store_full(s, -1) : err;
	if (++s->pending >= STORE_BATCH)
		return store__flush(s);
	return 0;
}

int store__add_request(struct store *s, const struct request_rec *r)
{
	return store__add_request_id(s, r, NULL);
}

/* Step a row of the current batch transaction (opened if needed); commit every STORE_BATCH rows. */
/*
 * Step an insert of the open batch; *ID (if not NULL) gets its rowid, read
 * before the batch may commit. Commits when the batch is full.
 */
static int batch_step_id(struct store *s, sqlite3_stmt *st, int64_t *id)
{
	int kind = row_kind(s, st), err;

	if (s->limit && kind >= 0) {
		/* The budget is spent: count the row instead of storing it. */
		s->dropped[kind]++;
		sqlite3_clear_bindings(st);
		if (id)
			*id = 0;
		return 0;
	}
	err = step_done(s, st);
	if (err == -ENOSPC)
		return store_full(s, kind);
	if (err)
		return err;
	if (id)
		*id = sqlite3_last_insert_rowid(s->db);
	if (kind >= 0)
		s->pending_kind[kind]++;
	if (++s->pending >= STORE_BATCH)
		return store__flush(s);
	return 0;
}

static int batch_step(struct store *s, sqlite3_stmt *st)
{
	return batch_step_id(s, st, NULL);
}

static int batch_begin(struct store *s)
{
	int err;

	if (s->in_tx)
		return 0;
	/* Between batches, never per row: budget__check measures at most every 0.1 s. */
	if (s->budget && !s->limit && (s->limit = budget__check(s->budget, mono_ns())))
		s->drop_since_ns = real_ns();
	err = step_done(s, s->begin);
	if (!err)
		s->in_tx = true;
	return err;
}

int store__add_syscall(struct store *s, const struct syscall_rec *r)
{
	sqlite3_stmt *st = s->ins_syscall;
	int err;

	err = batch_begin(s);
	if (err)
		return err;
	sqlite3_bind_int64(st, 1, r->run_id);
	sqlite3_bind_int64(st, 2, r->target_id);
	bind_key(st, 3, r->component);
	bind_key(st, 4, r->syscall);
	sqlite3_bind_int64(st, 5, r->interval_start_ns);
	sqlite3_bind_int64(st, 6, r->interval_ns);
	sqlite3_bind_int64(st, 7, r->le_ns);
	sqlite3_bind_int64(st, 8, r->count);
	sqlite3_bind_int64(st, 9, r->sum_ns);
	return batch_step(s, st);
}

int store__add_sock_stats(struct store *s, const struct sock_stats_rec *r)
{
	sqlite3_stmt *st = s->ins_sock;
	int err;

	err = batch_begin(s);
	if (err)
		return err;
	sqlite3_bind_int64(st, 1, r->run_id);
	sqlite3_bind_int64(st, 2, r->target_id);
	bind_key(st, 3, r->component);
	sqlite3_bind_int64(st, 4, r->interval_start_ns);
	sqlite3_bind_int64(st, 5, r->interval_ns);
	sqlite3_bind_int64(st, 6, r->accepted);
	sqlite3_bind_int64(st, 7, r->closed);
	sqlite3_bind_int64(st, 8, r->peers);
	sqlite3_bind_int64(st, 9, r->bytes_in);
	sqlite3_bind_int64(st, 10, r->bytes_out);
	sqlite3_bind_int64(st, 11, r->retransmits);
	return batch_step(s, st);
}

/* A count of the cluster: NULL when negative (unknown). */
static void bind_count(sqlite3_stmt *st, int i, int64_t v)
{
	if (v >= 0)
		sqlite3_bind_int64(st, i, v);
	else
		sqlite3_bind_null(st, i);
}

int store__set_cluster(struct store *s, int64_t run_id, const struct cluster_size *cs)
{
	int err;

	err = store__flush(s);
	if (err)
		return err;
	sqlite3_bind_int64(s->set_cluster, 1, run_id);
	bind_count(s->set_cluster, 2, cs->nodes);
	bind_count(s->set_cluster, 3, cs->pods);
	bind_count(s->set_cluster, 4, cs->namespaces);
	bind_text(s->set_cluster, 5, cs->source);
	return step_done(s, s->set_cluster);
}

int store__set_target_cpu(struct store *s, int64_t target_id, int64_t cpu_ns, int64_t samples)
{
	int err;

	err = store__flush(s);
	if (err)
		return err;
	sqlite3_bind_int64(s->set_target_cpu, 1, target_id);
	bind_count(s->set_target_cpu, 2, cpu_ns);
	bind_count(s->set_target_cpu, 3, samples);
	return step_done(s, s->set_target_cpu);
}

int store__add_cpu(struct store *s, const struct cpu_rec *r)
{
	sqlite3_stmt *st = s->ins_cpu;
	int err;

	err = batch_begin(s);
	if (err)
		return err;
	sqlite3_bind_int64(st, 1, r->run_id);
	sqlite3_bind_int64(st, 2, r->target_id);
	bind_key(st, 3, r->component);
	bind_key(st, 4, r->category);
	bind_key(st, 5, r->verb);
	bind_key(st, 6, r->resource);
	bind_key(st, 7, r->subresource);
	bind_key(st, 8, r->scope);
	sqlite3_bind_int64(st, 9, r->samples);
	sqlite3_bind_int64(st, 10, r->cpu_ns);
	return batch_step(s, st);
}

/* The id of NAME in DICT, inserted with INS (one text parameter) when new. */
static int intern(struct store *s, struct dict *d, sqlite3_stmt *ins, const char *name,
		  size_t len, int64_t *id)
{
	uint64_t h;
	int err;

	if ((*id = dict_get(d, name, len, &h)))
		return 0;
	sqlite3_bind_text(ins, 1, name, (int)len, SQLITE_STATIC);
	err = step_done(s, ins);
	if (err)
		return err;
	*id = sqlite3_last_insert_rowid(s->db);
	if (dict_put(d, name, len, h, *id)) {
		cp_seterr("out of memory");
		return -ENOMEM;
	}
	return 0;
}

/*
 * Frame NAME (LEN bytes) with its source position DETAIL (DLEN bytes of
 * stack_rec.lines' "INLINED\tLINE\tFILE", or none) in cpu_functions,
 * inserted when new: a frame is its name and its position, so one
 * function at two lines is two rows of the same name.
 */
static int intern_frame(struct store *s, const char *name, size_t len, const char *detail,
			size_t dlen, int64_t *id)
{
	sqlite3_stmt *ins = s->ins_func;
	long long inl = 0, line = 0;
	const char *file = NULL;
	size_t flen = 0;
	char key[4096];
	uint64_t h;
	int err;

	if (detail && dlen) {
		char num[48];
		const char *t1 = memchr(detail, '\t', dlen), *t2;

		t2 = t1 ? memchr(t1 + 1, '\t', dlen - (size_t)(t1 + 1 - detail)) : NULL;
		if (t2 && (size_t)(t2 - detail) < sizeof(num)) {
			memcpy(num, detail, (size_t)(t2 - detail));
			num[t2 - detail] = 0;
			inl = strtoll(num, NULL, 10);
			line = strtoll(num + (t1 + 1 - detail), NULL, 10);
			file = t2 + 1;
			flen = dlen - (size_t)(t2 + 1 - detail);
		}
	}
	/* no position (kernel, unknown, migrated frames): the name alone is the key */
	if ((!flen && !line && !inl) || len + 1 + dlen > sizeof(key))
		return intern(s, &s->funcs, ins, name, len, id);
	memcpy(key, name, len);
	key[len] = 0;   /* a name has no NUL: name and position cannot run together */
	memcpy(key + len + 1, detail, dlen);
	if ((*id = dict_get(&s->funcs, key, len + 1 + dlen, &h)))
		return 0;
	sqlite3_bind_text(ins, 1, name, (int)len, SQLITE_STATIC);
	if (flen)
		sqlite3_bind_text(ins, 2, file, (int)flen, SQLITE_STATIC);
	sqlite3_bind_int64(ins, 3, line);
	sqlite3_bind_int64(ins, 4, inl);
	err = step_done(s, ins);
	sqlite3_clear_bindings(ins);
	if (err)
		return err;
	*id = sqlite3_last_insert_rowid(s->db);
	if (dict_put(&s->funcs, key, len + 1 + dlen, h, *id)) {
		cp_seterr("out of memory");
		return -ENOMEM;
	}
	return 0;
}

/*
 * A folded stack is split at ';' into frames, each frame (its name, and
 * its file:line from r->lines when given) interned in cpu_functions and
 * the stack, as a JSON array of their ids, in cpu_stack_ids: a deep Go
 * stack of 2 KB of text becomes about 60 bytes once its frames are known.
 */
int store__add_stack(struct store *s, const struct stack_rec *r)
{
	sqlite3_stmt *st = s->ins_stack;
	const char *p = r->stack ? r->stack : "", *l = r->lines;
	size_t cap = 256, n = 0;
	char *frames = malloc(cap);
	int64_t fid, sid;
	int err;

	if (!frames) {
		cp_seterr("out of memory");
		return -ENOMEM;
	}
	err = batch_begin(s);
	frames[n++] = '[';
	while (!err) {
		const char *e = strchr(p, ';');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		const char *le = l ? strchr(l, '\n') : NULL;
		size_t llen = l ? (le ? (size_t)(le - l) : strlen(l)) : 0;

		err = intern_frame(s, p, len, l, llen, &fid);
		if (err)
			break;
		l = le ? le + 1 : NULL;
		if (n + 24 > cap) {
			char *nf = realloc(frames, cap *= 2);

			if (!nf) {
				cp_seterr("out of memory");
				err = -ENOMEM;
				break;
			}
			frames = nf;
		}
		n += (size_t)snprintf(frames + n, cap - n, "%s%lld", n > 1 ? "," : "",
				      (long long)fid);
		if (!e)
			break;
		p = e + 1;
	}
	if (!err) {
		frames[n++] = ']';
		err = intern(s, &s->stacks, s->ins_stackid, frames, n, &sid);
	}
	free(frames);
	if (err)
		return err;
	sqlite3_bind_int64(st, 1, r->run_id);
	sqlite3_bind_int64(st, 2, r->target_id);
	bind_key(st, 3, r->component);
	bind_key(st, 4, r->category);
	bind_key(st, 5, r->verb);
	bind_key(st, 6, r->resource);
	sqlite3_bind_int64(st, 7, sid);
	sqlite3_bind_int64(st, 8, r->samples);
	sqlite3_bind_int64(st, 9, r->cpu_ns);
	bind_key(st, 10, r->subresource);
	bind_key(st, 11, r->scope);
	return batch_step(s, st);
}

int store__add_metric_scrape(struct store *s, const struct metric_scrape_rec *r, int64_t *id)
{
	sqlite3_stmt *st = s->ins_mscrape;
	int err;

	err = batch_begin(s);
	if (err)
		return err;
	sqlite3_bind_int64(st, 1, r->run_id);
	bind_text(st, 2, r->endpoint);
	bind_key(st, 3, r->component);
	sqlite3_bind_int64(st, 4, r->t_ns);
	sqlite3_bind_int64(st, 5, r->duration_ns);
	sqlite3_bind_int64(st, 6, r->bytes);
	sqlite3_bind_int64(st, 7, r->samples);
	bind_text(st, 8, r->error);
	bind_text(st, 9, r->message);
	return batch_step_id(s, st, id);  /* the id is what the samples point at */
}

int store__add_metric_series(struct store *s, int64_t run_id, const char *name,
			     const char *labels, double le, int64_t *id)
{
	sqlite3_stmt *st = s->ins_mseries;
	int err;

	err = batch_begin(s);
	if (err)
		return err;
	sqlite3_bind_int64(st, 1, run_id);
	bind_key(st, 2, name);
	bind_key(st, 3, labels);
	if (isnan(le))
		sqlite3_bind_null(st, 4);
	else
		sqlite3_bind_double(st, 4, le);  /* +Inf is stored as SQLite's Inf REAL */
	return batch_step_id(s, st, id);
}

int store__add_metric_sample(struct store *s, int64_t scrape_id, int64_t series_id, double value)
{
	sqlite3_stmt *st = s->ins_msample;
	int err;

	err = batch_begin(s);
	if (err)
		return err;
	sqlite3_bind_int64(st, 1, scrape_id);
	sqlite3_bind_int64(st, 2, series_id);
	if (isnan(value))
		sqlite3_bind_null(st, 3);  /* SQLite has no NaN: it would store NULL anyway */
	else
		sqlite3_bind_double(st, 3, value);
	return batch_step(s, st);
}

int store__end_run(struct store *s, int64_t run_id, const struct run_stats *st)
{
	struct store_drops d;
	int err;

	err = store__flush(s);
	if (err)
		return err;
	sqlite3_bind_int64(s->end_run, 1, run_id);
	sqlite3_bind_int64(s->end_run, 2, st->ended_ns);
	sqlite3_bind_int64(s->end_run, 3, st->requests);
	sqlite3_bind_int64(s->end_run, 4, st->lost_events);
	sqlite3_bind_int64(s->end_run, 5, st->unmatched);
	sqlite3_bind_int64(s->end_run, 6, st->lost_samples);
	store__drops(s, &d);
	sqlite3_bind_int64(s->end_run, 7, d.requests);
	sqlite3_bind_int64(s->end_run, 8, d.rows);
	bind_text(s->end_run, 9, d.reason);
	if (d.reason)
		sqlite3_bind_int64(s->end_run, 10, d.since_ns);
	if (d.limit_bytes)
		sqlite3_bind_int64(s->end_run, 11, d.limit_bytes);
	err = step_done(s, s->end_run);
	if (err)
		return err;
	if (sqlite3_changes(s->db) == 0) {
		cp_seterr("no run with id %lld in '%s'", (long long)run_id, s->path);
		return -ENOENT;
	}
	return 0;
}

void store__set_budget(struct store *s, struct budget *b)
{
	s->budget = b;
}

void store__drops(const struct store *s, struct store_drops *d)
{
	*d = (struct store_drops){
		.requests = s->dropped[0], .rows = s->dropped[1],
		.reason = budget__limit_name(s->limit),
		.since_ns = s->drop_since_ns,
	};
	if (s->budget && s->limit != BUDGET_DISK_FULL) {
		d->limit_bytes = budget__limit_bytes(s->budget);
		d->measured_bytes = budget__measured_bytes(s->budget);
	}
}

int store__build_index(struct store *s)
{
	/* Version 2 needs no report index (see report_model.c): only the flush is left. */
	return store__flush(s);
}

int store__delete_run(struct store *s, int64_t run_id)
{
	sqlite3_stmt *dels[] = { s->del_etcdc, s->del_bd, s->del_req, s->del_kinds, s->del_spans, s->del_cpu,
				 s->del_stacks, s->del_syscalls,
				 s->del_sock, s->del_msamples, s->del_mseries, s->del_mscrapes,
				 s->del_targets, s->del_run };
	int err;

	err = store__flush(s);
	if (err)
		return err;
	/* One transaction: a run is either all there or all gone. Children first (foreign keys). */
	err = step_done(s, s->begin);
	if (err)
		return err;
	for (size_t i = 0; i < sizeof(dels) / sizeof(dels[0]); i++) {
		sqlite3_bind_int64(dels[i], 1, run_id);
		err = step_done(s, dels[i]);
		if (err)
			goto rollback;
	}
	if (sqlite3_changes(s->db) == 0) {
		cp_seterr("no run with id %lld in '%s'", (long long)run_id, s->path);
		err = -ENOENT;
		goto rollback;
	}
	return step_done(s, s->commit);

rollback:
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return err;
}

/* A nullable int64: NULL when negative (unknown). */
static void bind_known(sqlite3_stmt *st, int i, int64_t v)
{
	if (v >= 0)
		sqlite3_bind_int64(st, i, v);
	else
		sqlite3_bind_null(st, i);
}

int store__add_etcd_call(struct store *s, const struct etcd_call_rec *r)
{
	sqlite3_stmt *st = s->ins_etcdc;
	int err;

	err = batch_begin(s);
	if (err)
		return err;
	sqlite3_bind_int64(st, 1, r->run_id);
	sqlite3_bind_int64(st, 2, r->target_id);
	bind_known(st, 3, r->request_start_ns);
	bind_text(st, 4, r->method);
	bind_key(st, 5, r->verb);
	bind_key(st, 6, r->resource);
	bind_text(st, 7, r->namespace);
	sqlite3_bind_int(st, 8, r->list);
	sqlite3_bind_int(st, 9, r->stream);
	sqlite3_bind_int64(st, 10, r->start_ns);
	bind_known(st, 11, r->latency_ns);
	bind_known(st, 12, r->status);
	bind_known(st, 13, r->request_id > 0 ? r->request_id : -1);
	return batch_step(s, st);
}

int store__add_breakdown(struct store *s, const struct breakdown_rec *r)
{
	sqlite3_stmt *st = s->ins_bd;
	int err;

	err = batch_begin(s);
	if (err)
		return err;
	sqlite3_bind_int64(st, 1, r->run_id);
	sqlite3_bind_int64(st, 2, r->target_id);
	sqlite3_bind_int64(st, 3, r->request_start_ns);
	sqlite3_bind_int64(st, 4, r->latency_ns);
	bind_known(st, 5, r->etcd_calls);
	bind_known(st, 6, r->etcd_ns);
	bind_known(st, 7, r->cpu_ns);
	bind_known(st, 8, r->serialization_ns);
	bind_known(st, 9, r->apf_wait_ns);
	bind_known(st, 10, r->other_ns);
	sqlite3_bind_int64(st, 11, r->request_id);
	return batch_step(s, st);
}

int store__set_breakdown_cpu(struct store *s, int64_t run_id, int64_t target_id, int64_t request_id,
			     int64_t cpu_ns, int64_t serialization_ns)
{
	sqlite3_stmt *st = s->set_bd_cpu;
	int err;

	err = batch_begin(s);
	if (err)
		return err;
	sqlite3_bind_int64(st, 1, run_id);
	sqlite3_bind_int64(st, 2, target_id);
	sqlite3_bind_int64(st, 3, request_id);
	sqlite3_bind_int64(st, 4, cpu_ns);
	sqlite3_bind_int64(st, 5, serialization_ns);
	return batch_step(s, st);
}

/* The columns of TABLE in schema SCHEMA, comma-separated, that OTHER.TABLE has too. */
static int common_columns(struct store *s, const char *table, char *out, size_t cap)
{
	char sql[512];
	sqlite3_stmt *st = NULL;
	size_t n = 0;
	int rc;

	snprintf(sql, sizeof(sql),
		 "SELECT m.name FROM pragma_table_info('%s', 'main') m "
		 "JOIN pragma_table_info('%s', 'old') o ON o.name = m.name ORDER BY m.cid",
		 table, table);
	rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return db_err(s, rc);
	out[0] = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *c = (const char *)sqlite3_column_text(st, 0);

		n += (size_t)snprintf(out + n, n < cap ? cap - n : 0, "%s%s", n ? ", " : "", c);
	}
	sqlite3_finalize(st);
	if (n >= cap) {
		cp_seterr("too many columns in table %s", table);
		return -E2BIG;
	}
	return rc == SQLITE_DONE ? 0 : db_err(s, rc);
}

/* Key columns of call_kinds as version 1 rows R of old.requests give them (see schema_sql). */
#define V1_KIND_COLS \
	"r.run_id, r.target_id, ifnull(r.component, ''), r.protocol, r.method, " \
	"ifnull(r.verb, ''), r.api_group, r.api_version, ifnull(r.resource, ''), " \
	"ifnull(r.subresource, ''), r.namespace, ifnull(r.scope, ''), r.name, r.path, " \
	"r.watch, r.status"
#define V1_KIND_MATCH \
	"k.run_id IS r.run_id AND k.target_id IS r.target_id " \
	"AND k.component = ifnull(r.component, '') AND k.protocol IS r.protocol " \
	"AND k.method IS r.method AND k.verb = ifnull(r.verb, '') " \
	"AND k.api_group IS r.api_group AND k.api_version IS r.api_version " \
	"AND k.resource = ifnull(r.resource, '') AND k.subresource = ifnull(r.subresource, '') " \
	"AND k.namespace IS r.namespace AND k.scope = ifnull(r.scope, '') " \
	"AND k.name IS r.name AND k.path IS r.path AND k.watch IS r.watch " \
	"AND k.status IS r.status"

int store__migrate(const char *from, const char *to)
{
	static const char *const tables[] = { "runs", "targets", "cpu_profile", "syscalls",
		"sock_stats", "metric_scrapes", "metric_series", "metric_samples" };
	sqlite3_stmt *st = NULL;
	struct store *s;
	long long version = 0, have;
	char cols[2048], sql[2 * 2048 + 256];
	int err = 0, rc;

	if (access(to, F_OK) == 0) {
		cp_seterr("'%s' exists; migrate into a new file", to);
		return -EEXIST;
	}
	if (access(from, R_OK) != 0) {
		err = -errno;
		cp_seterr("cannot read '%s': %s", from, strerror(errno));
		return err;
	}
	s = store__open(to, &err);
	if (!s)
		return err;
	rc = sqlite3_prepare_v2(s->db, "ATTACH ?1 AS old", -1, &st, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_text(st, 1, from, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		err = db_err(s, rc);
		goto out;
	}
	err = query_int(s, "SELECT max(version) FROM old.schema_version", &version);
	if (err || version != 1) {
		cp_seterr("'%s' is not a cpprof database of schema version 1 (%s); nothing to migrate",
			  from, err ? "no schema_version table" : "another version");
		err = -EINVAL;
		goto out;
	}
	/* A copy as it is: rows of deleted runs stay (as the old file kept them). */
	err = exec(s, "PRAGMA foreign_keys=OFF; BEGIN");
	for (size_t i = 0; !err && i < sizeof(tables) / sizeof(tables[0]); i++) {
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM old.sqlite_master "
			 "WHERE type = 'table' AND name = '%s'", tables[i]);
		err = query_int(s, sql, &have);
		if (err || !have)
			continue;   /* added within version 1: older files lack it */
		err = common_columns(s, tables[i], cols, sizeof(cols));
		if (err)
			break;
		snprintf(sql, sizeof(sql), "INSERT INTO main.%s(%s) SELECT %s FROM old.%s",
			 tables[i], cols, cols, tables[i]);
		err = exec(s, sql);
	}
	/*
	 * Requests: their distinct kinds first, then each row as its kind's
	 * id, with its rowid kept (the id of the requests view); a temporary
	 * index makes the lookup of 16 columns a seek.
	 */
	if (!err)
		err = exec(s, "INSERT INTO call_kinds(run_id, target_id, component, protocol, method, "
			   "verb, api_group, api_version, resource, subresource, namespace, scope, "
			   "name, path, watch, status, base_ns) "
			   "SELECT DISTINCT " V1_KIND_COLS ", ifnull(u.started_ns, 0) "
			   "FROM old.requests r LEFT JOIN old.runs u ON u.id = r.run_id;"
			   "CREATE INDEX call_kinds_migrate ON call_kinds(run_id, target_id, component, "
			   "verb, resource, subresource, scope, status);"
			   "INSERT INTO request_rows(id, kind, start_off, latency_ns) "
			   "SELECT r.rowid, k.id, r.start_ns - k.base_ns, r.latency_ns "
			   "FROM old.requests r JOIN call_kinds k ON " V1_KIND_MATCH " ORDER BY r.rowid;"
			   "INSERT INTO request_spans(run_id, first_id, last_id) "
			   "SELECT run_id, min(rowid), max(rowid) FROM old.requests GROUP BY run_id;"
			   "DROP INDEX call_kinds_migrate;");
	/*
	 * Breakdowns and etcd client calls of a version 1 file (recorded
	 * between the two): keyed by the request's start there, by its id
	 * here, which is its old rowid (above). A start two requests share
	 * names the first.
	 */
	for (int i = 0; !err && i < 2; i++) {
		static const char *const bt[2] = { "request_breakdown", "etcd_client_calls" };

		snprintf(sql, sizeof(sql), "SELECT count(*) FROM old.sqlite_master "
			 "WHERE type = 'table' AND name = '%s'", bt[i]);
		err = query_int(s, sql, &have);
		if (err || !have)
			continue;
		err = common_columns(s, bt[i], cols, sizeof(cols));
		if (err)
			break;
		snprintf(sql, sizeof(sql),
			 "INSERT INTO main.%s(%s, request_id) SELECT %s, rid_ FROM "
			 "(SELECT b.*, min(r.rowid) AS rid_ FROM old.%s b LEFT JOIN old.requests r "
			 "ON r.run_id = b.run_id AND r.target_id = b.target_id AND r.start_ns = b.request_start_ns "
			 "GROUP BY b.rowid ORDER BY b.rowid)", bt[i], cols, cols, bt[i]);
		err = exec(s, sql);
	}
	if (err) {
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		goto out;
	}
	err = exec(s, "COMMIT");
	if (err)
		goto out;
	err = query_int(s, "SELECT count(*) FROM old.sqlite_master "
			   "WHERE type = 'table' AND name = 'cpu_stacks'", &have);
	if (!err && have) {
		/* Stacks through store__add_stack, which interns their frames. */
		rc = sqlite3_prepare_v2(s->db, "SELECT run_id, target_id, component, category, verb, "
					"resource, stack, samples, cpu_ns FROM old.cpu_stacks "
					"ORDER BY rowid", -1, &st, NULL);
		if (rc != SQLITE_OK) {
			err = db_err(s, rc);
			goto out;
		}
		while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
			struct stack_rec r = {
				.run_id = sqlite3_column_int64(st, 0),
				.target_id = sqlite3_column_int64(st, 1),
				.component = (const char *)sqlite3_column_text(st, 2),
				.category = (const char *)sqlite3_column_text(st, 3),
				.verb = (const char *)sqlite3_column_text(st, 4),
				.resource = (const char *)sqlite3_column_text(st, 5),
				.stack = (const char *)sqlite3_column_text(st, 6),
				.samples = sqlite3_column_int64(st, 7),
				.cpu_ns = sqlite3_column_int64(st, 8),
			};

			err = store__add_stack(s, &r);
		}
		if (!err && rc != SQLITE_DONE)
			err = db_err(s, rc);
		sqlite3_finalize(st);
		if (!err)
			err = store__flush(s);
	}
out:
	if (!err)
		err = exec(s, "DETACH old");
	store__close(s);
	if (err) {
		char p[4096];

		unlink(to);
		snprintf(p, sizeof(p), "%s-wal", to);
		unlink(p);
		snprintf(p, sizeof(p), "%s-shm", to);
		unlink(p);
	}
	return err;
}
