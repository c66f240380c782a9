/* SPDX-License-Identifier: MIT */
/*
 * tmpdb: what the SQLite unit tests share: paths in the test's own temp
 * directory (the test defines `static char dir[] = "/tmp/NAME.XXXXXX"` and
 * mkdtemp()s it before use), and reading one number through a second,
 * independent connection, as `sqlite3 file.db` would.
 */
#ifndef CPPROF_TEST_TMPDB_H
#define CPPROF_TEST_TMPDB_H

#include <sqlite3.h>
#include <stdio.h>


/* DIR/NAME; four buffers, so a call may hold a few at once. */
static inline const char *tmp(const char *name)
{
	static char buf[4][256];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", dir, name);
	return buf[i];
}

/* The first column of the first row of SQL on PATH, or -1. */
static inline long long sql_int(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	long long v = -1;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

#endif
