// SPDX-License-Identifier: MIT
/*
 * test_plan: the HTTP probe plan of every fixture in
 * $FIXTURES_DIR/manifest.tsv (each Go toolchain 1.19-1.27, stripped, cgo).
 * Every probe kind is planned, HTTP/2 included, under the names that
 * release uses: the h2_bundle.go writer up to Go 1.26; from 1.27 the
 * net/http/internal/http2 writer and the net/http.http2ResponseWriter
 * wrapper whose WriteHeader inlines the inner one (without it a handler's
 * HTTP/2 status is never seen). Every probe address is cross-checked
 * against objdump's decoding of its function: an instruction start, inside
 * the function.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fixtures.h"
#include "goelf.h"
#include "log.h"
#include "plan.h"

/* ADDR is where objdump starts an instruction in [ENTRY, ENTRY+SIZE) of PATH. */
static bool objdump_boundary(const char *path, uint64_t entry, uint64_t size, uint64_t addr)
{
	char cmd[8400], line[512];
	bool found = false;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "objdump -d --no-show-raw-insn --start-address=0x%llx --stop-address=0x%llx '%s'",
		 (unsigned long long)entry, (unsigned long long)(entry + size), path);
	f = popen(cmd, "r");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long a;

		if (sscanf(line, " %llx:", &a) == 1 && strchr(line, '\t') && a == addr)
			found = true;
	}
	pclose(f);
	return found;
}

static int count_site(const struct probe_plan *pl, enum probe_kind kind, const char *func)
{
	int i, n = 0;

	for (i = 0; i < pl->nsites; i++)
		if (pl->sites[i].kind == kind && (!func || !strcmp(pl->sites[i].func, func)))
			n++;
	return n;
}

static void test_fixture(const char *dir, const struct fixture *fx)
{
	static struct probe_plan pl;
	char path[4400];
	int i, err, ma = 0, mi = 0;

	snprintf(path, sizeof(path), "%s/%.127s", dir, fx->file);
	go_version_parse(fx->go_version, &ma, &mi);
	memset(&pl, 0, sizeof(pl));
	err = plan__build(path, &pl);
	CHECK(err == 0, "%s: plan__build: %s", fx->file, cp_lasterr());
	if (err)
		return;
	CHECK(!strcmp(pl.go_version, fx->go_version), "%s: go version '%s'", fx->file, pl.go_version);
	CHECK(count_site(&pl, PROBE_SERVE, "net/http.serverHandler.ServeHTTP") == 1, "%s: serve", fx->file);
	CHECK(count_site(&pl, PROBE_FINISH_H1, "net/http.(*response).finishRequest") == 1, "%s: finish_h1",
	      fx->file);
	/*
	 * Every writer's status is proven from its code in these binaries, so
	 * the end probes read it and no WriteHeader is probed (two hits a
	 * request); WriteHeader is only the fallback of an unproven writer.
	 */
	CHECK(count_site(&pl, PROBE_WRITE_HEADER, NULL) == 0, "%s: no write_header probe (%d)", fx->file,
	      count_site(&pl, PROBE_WRITE_HEADER, NULL));
	if (mi >= 27)
		CHECK(count_site(&pl, PROBE_FINISH_H2, "net/http/internal/http2.(*responseWriter).handlerDone") == 1,
		      "%s: finish_h2 (net/http/internal/http2)", fx->file);
	else
		CHECK(count_site(&pl, PROBE_FINISH_H2, "net/http.(*http2responseWriter).handlerDone") == 1,
		      "%s: finish_h2 (h2_bundle.go)", fx->file);
	for (i = 0; i < pl.nsites; i++)
		if (pl.sites[i].kind == PROBE_FINISH_H1 || pl.sites[i].kind == PROBE_FINISH_H2)
			CHECK(pl.sites[i].status_proven && pl.sites[i].status_off > 0, "%s: %s reads the status",
			      fx->file, pl.sites[i].func);
	for (i = 0; i < pl.nsites; i++) {
		const struct probe_site *s = &pl.sites[i];

		CHECK(s->addr >= s->entry && s->addr < s->entry + s->size && s->file_off > 0,
		      "%s: %s: probe 0x%llx outside the function", fx->file, s->func, (unsigned long long)s->addr);
		CHECK(objdump_boundary(path, s->entry, s->size, s->addr),
		      "%s: %s: probe 0x%llx is not an instruction start for objdump", fx->file, s->func,
		      (unsigned long long)s->addr);
	}
}

int main(void)
{
	struct fixture fx[64];
	const char *dir;
	int n, i;

	n = load_fixtures(&dir, fx, 64);
	for (i = 0; i < n; i++)
		test_fixture(dir, &fx[i]);
	return check_summary("test_plan");
}
