/* SPDX-License-Identifier: MIT */
/*
 * fixtures: what the unit tests that read Go binaries share: the list of
 * fixture binaries ($FIXTURES_DIR/manifest.tsv, written by
 * tests/fixtures/build.sh) and whole-file read/write for damaged copies.
 */
#ifndef CPPROF_TEST_FIXTURES_H
#define CPPROF_TEST_FIXTURES_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"

struct fixture {
	char file[128];       /* base name in $FIXTURES_DIR */
	char go_version[64];  /* "go1.21.13" */
	int stripped, cgo;
};

/* Read the rows of DIR/manifest.tsv (at most MAX); the count, or -errno (-E2BIG: more than MAX). */
static inline int read_manifest(const char *dir, struct fixture *fx, int max)
{
	char path[4096], line[512];
	FILE *f;
	int n = 0;

	snprintf(path, sizeof(path), "%s/manifest.tsv", dir);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	if (!fgets(line, sizeof(line), f)) { /* header */
		fclose(f);
		return 0;
	}
	while (n < max && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%127[^\t]\t%63[^\t]\t%d\t%d", fx[n].file, fx[n].go_version,
			   &fx[n].stripped, &fx[n].cgo) == 4)
			n++;
	}
	/* more rows than the caller can hold: a test must not skip fixtures quietly */
	if (n == max && fgets(line, sizeof(line), f))
		n = -E2BIG;
	fclose(f);
	return n;
}

/*
 * $FIXTURES_DIR, and its manifest in FX: the count (> 0), or 0 after a
 * failed CHECK saying what is missing. Tests run through tests/run_unit.sh
 * always have it; a missing manifest is a failure, not a skip.
 */
static inline int load_fixtures(const char **dirp, struct fixture *fx, int max)
{
	const char *dir = getenv("FIXTURES_DIR");
	int n;

	*dirp = dir;
	if (!dir) {
		CHECK(0, "FIXTURES_DIR is not set (run through tests/run_unit.sh or make unit)");
		return 0;
	}
	n = read_manifest(dir, fx, max);
	CHECK(n > 0, "no fixtures in '%s/manifest.tsv' (%d): build them with make fixtures", dir, n);
	return n > 0 ? n : 0;
}

/* The whole file at PATH (malloc'd), or NULL. */
static inline unsigned char *slurp(const char *path, size_t *len)
{
	struct stat st;
	unsigned char *buf;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || fstat(fd, &st)) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	buf = malloc(st.st_size ? st.st_size : 1);
	if (buf && read(fd, buf, st.st_size) != st.st_size) {
		free(buf);
		buf = NULL;
	}
	close(fd);
	*len = st.st_size;
	return buf;
}

/* Write LEN bytes of BUF to PATH (mode 0600); 0 or -errno. */
static inline int spit(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	int ok;

	if (fd < 0)
		return -errno;
	ok = write(fd, buf, len) == (ssize_t)len;
	close(fd);
	return ok ? 0 : -EIO;
}

#endif
