// SPDX-License-Identifier: MIT
/*
 * runs: list the runs of a cpprof database (runs.h). Reads only the runs
 * and targets tables, so it is instant on any size of file.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "log.h"
#include "report.h"
#include "runs.h"

static const char *col(sqlite3 *db, const char *table, const char *c)
{
	return report__has_column(db, table, c) ? c : "NULL";
}

static void json_int(FILE *o, sqlite3_stmt *st, int i)
{
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		fputs("null", o);
	else
		fprintf(o, "%lld", (long long)sqlite3_column_int64(st, i));
}

/* Printable text for a terminal: control characters as '?'. */
static const char *safe(const unsigned char *s, char *buf, size_t n)
{
	size_t o = 0;

	for (s = s ? s : (const unsigned char *)"-"; *s && o + 1 < n; s++)
		buf[o++] = *s < 0x20 || *s == 0x7f ? '?' : (char)*s;
	buf[o] = '\0';
	return buf;
}

int runs__write(const char *db_path, enum report_format format, FILE *out)
{
	char sql[1024];
	sqlite3_stmt *st = NULL, *tg = NULL;
	sqlite3 *db = NULL;
	int rc, err = 0, n = 0;

	if (access(db_path, R_OK) != 0) {
		cp_seterr("'%s': %s", db_path, strerror(errno));
		return -errno;
	}
	rc = sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL);
	if (rc != SQLITE_OK) {
		cp_seterr("'%s': %s", db_path, db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return -EIO;
	}
	sqlite3_busy_timeout(db, 5000);
	sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
	snprintf(sql, sizeof(sql), "SELECT id, label, kind, host, kernel, started_ns, ended_ns, "
		 "ended_ns - started_ns, requests, %s, %s, %s, %s, %s FROM runs ORDER BY id",
		 col(db, "runs", "nodes"), col(db, "runs", "pods"), col(db, "runs", "namespaces"),
		 col(db, "runs", "cluster_source"), col(db, "runs", "sample_hz"));
	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK) {
		if (sqlite3_errcode(db) == SQLITE_NOTADB || strstr(sqlite3_errmsg(db), "no such table"))
			cp_seterr("'%s' is not a cpprof database", db_path);
		else
			cp_seterr("'%s': %s", db_path, sqlite3_errmsg(db));
		err = -EINVAL;
		goto out;
	}
	snprintf(sql, sizeof(sql), "SELECT component, pid, exe, go_version, %s, %s FROM targets "
		 "WHERE run_id = ?1 ORDER BY id", col(db, "targets", "k8s_version"),
		 col(db, "targets", "etcd_version"));
	rc = sqlite3_prepare_v2(db, sql, -1, &tg, NULL);
	if (rc != SQLITE_OK) {
		cp_seterr("'%s': %s", db_path, sqlite3_errmsg(db));
		err = -EIO;
		goto out;
	}
	if (format == REPORT_JSON) {
		fputs("{\"format_version\":1,\"file\":", out);
		report__json_str(out, db_path);
		fputs(",\"runs\":[", out);
	} else {
		fprintf(out, "%-20s %-8s %-20s %9s %10s  %s\n", "LABEL", "KIND", "STARTED (UTC)",
			"DURATION", "REQUESTS", "CLUSTER / HOST");
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		static const char *const k[] = { "id", "label", "kind", "host", "kernel", "started_ns",
						  "ended_ns", "duration_ns", "requests", "nodes",
						  "pods", "namespaces", "cluster_source", "sample_hz" };
		char a[64], b[256], c[256], d[64];
		bool first = true;

		sqlite3_bind_int64(tg, 1, sqlite3_column_int64(st, 0));
		if (format == REPORT_JSON) {
			fputs(n ? ",\n {" : "\n {", out);
			for (int i = 0; i < 14; i++) {
				fprintf(out, "%s\"%s\":", i ? "," : "", k[i]);
				if (i == 1 || i == 2 || i == 3 || i == 4 || i == 12)
					report__json_str(out, (const char *)sqlite3_column_text(st, i));
				else
					json_int(out, st, i);
			}
			fputs(",\"targets\":[", out);
			while (sqlite3_step(tg) == SQLITE_ROW) {
				fputs(first ? "{\"component\":" : ",{\"component\":", out);
				first = false;
				report__json_str(out, (const char *)sqlite3_column_text(tg, 0));
				fputs(",\"pid\":", out);
				json_int(out, tg, 1);
				fputs(",\"exe\":", out);
				report__json_str(out, (const char *)sqlite3_column_text(tg, 2));
				fputs(",\"go_version\":", out);
				report__json_str(out, (const char *)sqlite3_column_text(tg, 3));
				fputs(",\"k8s_version\":", out);
				report__json_str(out, (const char *)sqlite3_column_text(tg, 4));
				fputs(",\"etcd_version\":", out);
				report__json_str(out, (const char *)sqlite3_column_text(tg, 5));
				fputc('}', out);
			}
			fputs("]}", out);
		} else {
			time_t t = (time_t)(sqlite3_column_int64(st, 5) / 1000000000LL);
			struct tm tm;

			if (!gmtime_r(&t, &tm) || !strftime(a, sizeof(a), "%Y-%m-%d %H:%M:%S", &tm))
				snprintf(a, sizeof(a), "?");
			if (sqlite3_column_type(st, 7) == SQLITE_NULL)
				snprintf(d, sizeof(d), "unended");
			else
				snprintf(d, sizeof(d), "%.0fs", sqlite3_column_int64(st, 7) / 1e9);
			if (sqlite3_column_type(st, 9) != SQLITE_NULL)
				snprintf(c, sizeof(c), "%lld nodes, %lld pods, %lld ns; ",
					 (long long)sqlite3_column_int64(st, 9),
					 (long long)sqlite3_column_int64(st, 10),
					 (long long)sqlite3_column_int64(st, 11));
			else
				c[0] = '\0';
			fprintf(out, "%-20.20s %-8.8s %-20s %9s %10lld  %.40s%.24s\n",
				safe(sqlite3_column_text(st, 1), b, sizeof(b)),
				(const char *)sqlite3_column_text(st, 2), a, d,
				(long long)sqlite3_column_int64(st, 8), c,
				safe(sqlite3_column_text(st, 3), b + 128, 128));
			while (sqlite3_step(tg) == SQLITE_ROW) {
				const unsigned char *k8s = sqlite3_column_text(tg, 4);
				const unsigned char *etcd = sqlite3_column_text(tg, 5);
				char e[128], g[64], kv[64], ev[64];

				fprintf(out, "  %-10.10s pid %-8lld %-10.10s%s%.20s%s%.20s %.40s\n",
					safe(sqlite3_column_text(tg, 0), g, sizeof(g)),
					(long long)sqlite3_column_int64(tg, 1),
					safe(sqlite3_column_text(tg, 3), e, sizeof(e)),
					k8s ? " k8s " : "", k8s ? safe(k8s, kv, sizeof(kv)) : "",
					etcd ? " etcd " : "", etcd ? safe(etcd, ev, sizeof(ev)) : "",
					safe(sqlite3_column_text(tg, 2), b, sizeof(b)));
			}
		}
		sqlite3_reset(tg);
		n++;
	}
	if (rc != SQLITE_DONE) {
		cp_seterr("'%s': %s", db_path, sqlite3_errmsg(db));
		err = -EIO;
		goto out;
	}
	if (format == REPORT_JSON)
		fputs("]}\n", out);
	else if (!n)
		fprintf(out, "(no runs)\n");
	if (fflush(out) != 0 || ferror(out)) {
		cp_seterr("cannot write: %s", strerror(errno));
		err = -EIO;
	}
out:
	sqlite3_finalize(st);
	sqlite3_finalize(tg);
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	sqlite3_close(db);
	return err;
}
