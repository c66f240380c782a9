// SPDX-License-Identifier: MIT
/*
 * test_offsets: the generated table by Go version, DWARF offsets of every
 * unstripped fixture (and their agreement with the table), the table for
 * stripped ones, and the failure for versions outside the table.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fixtures.h"
#include "goelf.h"
#include "log.h"
#include "offsets.h"

static void test_table(void)
{
	struct go_offsets o;
	int lo, hi;

	offsets__table_range(&lo, &hi);
	CHECK(lo <= 16 && hi >= 27, "table covers go1.%d-go1.%d", lo, hi);

	CHECK_INT(offsets__from_table("go1.21.13", &o), 0);
	CHECK_STR(o.source, "table go1.21");
	CHECK_INT(o.request_method, 0);
	CHECK_INT(o.request_url, 16);
	CHECK_INT(o.url_path, 56);
	CHECK_INT(o.url_rawquery, 96);
	CHECK_INT(offsets__from_table("go1.26.0", &o), 0);
	CHECK_STR(o.source, "table go1.26");
	CHECK_INT(o.url_rawquery, 88); /* Fragment moved before RawQuery */
	CHECK_INT(offsets__from_table("go1.27.3", &o), 0);
	CHECK_INT(o.url_rawquery, 88);
	CHECK_INT(offsets__from_table("go1.16", &o), 0);
	CHECK_INT(o.url_rawquery, 96);

	CHECK_INT(offsets__from_table("go1.99.0", &o), -ENOENT);
	CHECK(strstr(cp_lasterr(), "'go1.99.0' is outside the offsets table") != NULL, "%s", cp_lasterr());
	CHECK_INT(offsets__from_table("go1.10", &o), -ENOENT);
	CHECK_INT(offsets__from_table("go2.1", &o), -ENOENT);
	CHECK_INT(offsets__from_table("garbage", &o), -ENOENT);
	CHECK_INT(offsets__from_table(NULL, &o), -ENOENT);
}

static void test_fixture(const char *path, const char *ver, int stripped)
{
	struct go_offsets o, t;
	struct goelf *g;
	int err = 0, minor = 0, major = 0;

	g = goelf__open(path, &err);
	CHECK(g != NULL, "cannot open '%s': %s", path, cp_lasterr());
	if (!g)
		return;
	CHECK(goelf__go_version(g) && !strncmp(goelf__go_version(g), ver, strlen(ver)),
	      "%s: version '%s' vs manifest '%s'", path, goelf__go_version(g), ver);

	err = offsets__resolve(g, &o);
	CHECK(err == 0, "%s: resolve: %s", path, cp_lasterr());
	go_version_parse(ver, &major, &minor);
	if (stripped) {
		char want[32];

		snprintf(want, sizeof(want), "table go1.%d", minor);
		CHECK_STR(o.source, want);
		CHECK(!goelf__has_dwarf(g), "%s: stripped but has DWARF", path);
		CHECK_INT(offsets__from_dwarf(g, &t), -ENOENT);
	} else {
		char want[64];

		snprintf(want, sizeof(want), "DWARF (agrees with table go1.%d)", minor);
		CHECK_STR(o.source, want);
		CHECK_INT(offsets__from_dwarf(g, &t), 0);
		CHECK_STR(t.source, "DWARF");
		CHECK_INT(t.request_url, o.request_url);
	}
	CHECK_INT(o.request_method, 0);
	CHECK_INT(o.request_url, 16);
	CHECK_INT(o.url_path, 56);
	/* Go 1.26 moved url.URL.Fragment before RawQuery (src/net/url/url.go) */
	CHECK_INT(o.url_rawquery, minor >= 26 ? 88 : 96);
	if (stripped) {
		/* the same binary with a version beyond the table: no way to get offsets */
		CHECK_INT(offsets__from_table("go1.99.1", &t), -ENOENT);
		CHECK(!goelf__has_dwarf(g), "no DWARF to fall back on");
	}
	goelf__close(g);
}

static void test_fixtures(void)
{
	struct fixture fx[64];
	const char *dir;
	char path[4096];
	int n, i, nstripped = 0;

	n = load_fixtures(&dir, fx, 64);
	for (i = 0; i < n; i++) {
		if (snprintf(path, sizeof(path), "%s/%s", dir, fx[i].file) >= (int)sizeof(path))
			continue;
		test_fixture(path, fx[i].go_version, fx[i].stripped);
		nstripped += fx[i].stripped;
	}
	CHECK(n > 0, "no fixture in the manifest");
	printf("test_offsets: %d fixtures (%d stripped)\n", n, nstripped);
}

int main(void)
{
	test_table();
	test_fixtures();
	return check_summary("test_offsets");
}
