/* SPDX-License-Identifier: MIT */
/*
 * budget: how much more the recorder may write. Two limits: the database's
 * own size (--max-db-size: the file plus its write-ahead log), and a floor
 * of free space on the filesystem that holds it (--min-free), so that a
 * long recording never fills the master's disk under etcd and the
 * apiserver. Measured with stat and statvfs, at most every
 * BUDGET_CHECK_NS, not per row. No SQL and no logging: the store asks,
 * the recorder tells the user.
 */
#ifndef CPPROF_BUDGET_H
#define CPPROF_BUDGET_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Room kept for the end of the run: FILE-reserve, allocated when the
 * recording starts and removed the moment SQLite finds the disk full, so
 * that the last writes (runs row, targets, CPU profile: a few dozen WAL
 * frames of 4 KiB) still fit. Removed at the end in any case.
 */
#define BUDGET_RESERVE (1 << 20)

/* 0.1 s: at 100,000 rows/s of ~150 bytes, a limit is overshot by ~1.5 MB at most. */
#define BUDGET_CHECK_NS 100000000LL

/* The default floor: 5% of the filesystem, at most 1 GiB (see budget__default_floor). */
#define BUDGET_FLOOR_PERCENT 5
#define BUDGET_FLOOR_MAX (1LL << 30)

enum budget_limit {
	BUDGET_OK = 0,
	BUDGET_MAX_DB_SIZE,  /* the file and its WAL reached --max-db-size */
	BUDGET_MIN_FREE,     /* free space on the filesystem fell below the floor */
	BUDGET_DISK_FULL,    /* SQLite said SQLITE_FULL (set by the store, never measured) */
};

struct budget_opts {
	int64_t max_db_bytes;    /* 0: no limit */
	int64_t min_free_bytes;  /* -1: the default floor; 0: none */
};

struct budget;

/*
 * For database PATH (its -wal is counted too); creates PATH-reserve where
 * the filesystem has room for it. NULL only when out of memory.
 */
struct budget *budget__new(const char *path, const struct budget_opts *o);
void budget__free(struct budget *b);

/*
 * Which limit is reached, if any, measured at most every BUDGET_CHECK_NS
 * of CLOCK_MONOTONIC (NOW_NS); in between, the last answer. A limit once
 * reached stays reached: rows of one run are kept up to a point in time,
 * not with holes.
 */
enum budget_limit budget__check(struct budget *b, int64_t now_ns);
/* Mark the budget as spent by LIMIT (the store's SQLITE_FULL); frees the reserve. */
void budget__exhaust(struct budget *b, enum budget_limit limit);
enum budget_limit budget__limit(const struct budget *b);
/* The limit in bytes (--max-db-size, the floor in force), and the measure that reached it. */
int64_t budget__limit_bytes(const struct budget *b);
int64_t budget__measured_bytes(const struct budget *b);
/* The floor for a filesystem of TOTAL bytes: 5% (in whole KiB), at most 1 GiB. */
int64_t budget__default_floor(int64_t total);
/* "max-db-size", "min-free", "disk-full" (stored in runs.dropped_reason), or NULL. */
const char *budget__limit_name(enum budget_limit l);

/*
 * Parse a size: digits with an optional K, M, G or T (powers of 1024,
 * optionally followed by "B" or "iB"), e.g. 500M, 2G, 1048576. Returns 0,
 * or -EINVAL (not a size) / -ERANGE (over 2^62 bytes).
 */
int budget__parse_size(const char *s, int64_t *out);
/* BYTES as the shortest exact size with a suffix ("50M", "1536K"), else plain digits. */
void budget__fmt_size(int64_t bytes, char *buf, size_t len);

#endif
