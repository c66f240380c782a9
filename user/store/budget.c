// SPDX-License-Identifier: MIT
/*
 * budget: the database's size and its filesystem's free space against the
 * recorder's limits. See budget.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "budget.h"

struct budget {
	char *path, *wal, *reserve;
	bool reserved;             /* the reserve file is ours and there */
	struct budget_opts o;
	enum budget_limit limit;   /* sticky once reached */
	int64_t checked_ns;        /* CLOCK_MONOTONIC of the last measure; 0: never */
	int64_t limit_bytes, measured_bytes;
};

/*
 * Allocate the reserve for real (posix_fallocate: blocks, not a sparse
 * hole; tmpfs and ext4 support it). Best effort: without room for it the
 * recording still starts, the floor or the full disk then stop it sooner.
 */
static void reserve_take(struct budget *b)
{
	int fd = open(b->reserve, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	if (fd < 0)
		return;
	if (posix_fallocate(fd, 0, BUDGET_RESERVE)) {
		close(fd);
		unlink(b->reserve);
		return;
	}
	close(fd);
	b->reserved = true;
}

static void reserve_release(struct budget *b)
{
	if (b->reserved)
		unlink(b->reserve);
	b->reserved = false;
}

struct budget *budget__new(const char *path, const struct budget_opts *o)
{
	struct budget *b = calloc(1, sizeof(*b));
	size_t n = strlen(path);

	if (!b)
		return NULL;
	b->path = strdup(path);
	b->wal = malloc(n + 5);
	b->reserve = malloc(n + 9);
	if (!b->path || !b->wal || !b->reserve) {
		free(b->path);
		free(b->wal);
		free(b->reserve);
		free(b);
		return NULL;
	}
	memcpy(b->wal, path, n);
	memcpy(b->wal + n, "-wal", 5);
	memcpy(b->reserve, path, n);
	memcpy(b->reserve + n, "-reserve", 9);
	b->o = *o;
	reserve_take(b);
	return b;
}

void budget__free(struct budget *b)
{
	if (!b)
		return;
	reserve_release(b);
	free(b->reserve);
	free(b->path);
	free(b->wal);
	free(b);
}

int64_t budget__default_floor(int64_t total)
{
	/* whole KiB, so that messages and the report can print it as such */
	int64_t f = total / 100 * BUDGET_FLOOR_PERCENT / 1024 * 1024;

	return f < BUDGET_FLOOR_MAX ? f : BUDGET_FLOOR_MAX;
}

/* Size of file P; 0 when there is none (no WAL yet, or checkpointed away). */
static int64_t file_bytes(const char *p)
{
	struct stat sb;

	if (stat(p, &sb) < 0)
		return 0;
	return sb.st_size;
}

enum budget_limit budget__check(struct budget *b, int64_t now_ns)
{
	struct statvfs vfs;

	if (b->limit || (b->checked_ns && now_ns - b->checked_ns < BUDGET_CHECK_NS))
		return b->limit;
	b->checked_ns = now_ns;
	if (b->o.max_db_bytes > 0) {
		int64_t used = file_bytes(b->path) + file_bytes(b->wal);  /* the reserve is not the database's */

		if (used >= b->o.max_db_bytes) {
			b->limit = BUDGET_MAX_DB_SIZE;
			b->limit_bytes = b->o.max_db_bytes;
			b->measured_bytes = used;
			return b->limit;
		}
	}
	/* A filesystem statvfs cannot read (gone, FUSE oddities) sets no floor. */
	if (b->o.min_free_bytes != 0 && statvfs(b->path, &vfs) == 0) {
		/* f_bavail: what an unprivileged writer may still use; root may dig into the reserve, but should not */
		int64_t avail = (int64_t)vfs.f_bavail * (int64_t)vfs.f_frsize;
		int64_t floor = b->o.min_free_bytes > 0 ? b->o.min_free_bytes :
				budget__default_floor((int64_t)vfs.f_blocks * (int64_t)vfs.f_frsize);

		if (avail < floor) {
			b->limit = BUDGET_MIN_FREE;
			b->limit_bytes = floor;
			b->measured_bytes = avail;
		}
	}
	return b->limit;
}

void budget__exhaust(struct budget *b, enum budget_limit limit)
{
	reserve_release(b);
	if (!b->limit) {
		b->limit = limit;
		b->limit_bytes = b->measured_bytes = 0;
	}
}

enum budget_limit budget__limit(const struct budget *b)
{
	return b->limit;
}

int64_t budget__limit_bytes(const struct budget *b)
{
	return b->limit_bytes;
}

int64_t budget__measured_bytes(const struct budget *b)
{
	return b->measured_bytes;
}

const char *budget__limit_name(enum budget_limit l)
{
	switch (l) {
	case BUDGET_MAX_DB_SIZE: return "max-db-size";
	case BUDGET_MIN_FREE:    return "min-free";
	case BUDGET_DISK_FULL:   return "disk-full";
	default:                 return NULL;
	}
}

int budget__parse_size(const char *s, int64_t *out)
{
	static const char units[] = "KMGT";
	const char *p = s, *u;
	int64_t v = 0;
	int shift = 0;

	if (*p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > ((1LL << 62) - (*p - '0')) / 10)
			return -ERANGE;
		v = v * 10 + (*p - '0');
	}
	if (*p && (u = strchr(units, *p == 'k' ? 'K' : *p))) {
		shift = 10 * (int)(u - units + 1);
		p++;
		if (p[0] == 'i' && p[1] == 'B')
			p += 2;
		else if (p[0] == 'B')
			p++;
	} else if (p[0] == 'B') {
		p++;
	}
	if (*p)
		return -EINVAL;
	if (v > (1LL << 62) >> shift)
		return -ERANGE;
	*out = v << shift;
	return 0;
}

void budget__fmt_size(int64_t bytes, char *buf, size_t len)
{
	static const char units[] = "TGMK";
	int i;

	for (i = 0; i < 4 && bytes > 0; i++) {
		int shift = 10 * (4 - i);

		if (!(bytes & ((1LL << shift) - 1))) {
			snprintf(buf, len, "%lld%c", (long long)(bytes >> shift), units[i]);
			return;
		}
	}
	snprintf(buf, len, "%lld", (long long)bytes);
}
