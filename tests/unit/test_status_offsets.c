// SPDX-License-Identifier: MIT
/*
 * test_status_offsets: the offsets the HTTP end probes read a request's
 * status from (net/http.response.status; the HTTP/2 writers' rws pointer
 * and responseWriterState.status), proven from each fixture's code
 * (stripped, cgo, every Go of the manifest) and compared with the truth:
 * the DWARF of the unstripped build of the same toolchain. Then the plan:
 * two probes per request (no WriteHeader probe) where proven, and a copy
 * whose (*response).write no longer compares the status with 204 keeps
 * the WriteHeader probe, with the field named.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "fixtures.h"
#include "fieldproof.h"
#include "goelf.h"
#include "gopclntab.h"
#include "log.h"
#include "offsets.h"
#include "plan.h"

/* DWARF offset of TYPE.MEMBER in the unstripped build of FILE. */
static int truth(const char *dir, const char *file, const char *type, const char *member)
{
	char path[4096], base[128], *s;
	struct goelf *g;
	int err = 0, v;

	snprintf(base, sizeof(base), "%s", file);
	if ((s = strstr(base, "-stripped")))
		*s = 0;
	snprintf(path, sizeof(path), "%s/%s", dir, base);
	g = goelf__open(path, &err);
	if (!g)
		return err;
	v = offsets__dwarf_member(g, type, member);
	goelf__close(g);
	return v;
}

/* "pkg.(*T).m" -> "pkg.T" + SUFFIX */
static void type_of(const char *func, const char *suffix, char *buf, size_t size)
{
	const char *a = strstr(func, ".(*"), *b = strstr(func, ").");

	snprintf(buf, size, "%.*s.%.*s%s", (int)(a - func), func, (int)(b - a - 3), a + 3, suffix);
}

static void test_fixture(const char *dir, const struct fixture *fx, int *nh2)
{
	struct probe_plan *plan = calloc(1, sizeof(*plan));
	char path[4096], type[160];
	int i, nend = 0;

	snprintf(path, sizeof(path), "%.3000s/%.127s", dir, fx->file);
	if (!plan)
		return;
	CHECK(plan__build(path, plan) == 0, "%s: plan: %s", fx->file, cp_lasterr());
	for (i = 0; i < plan->nsites; i++) {
		const struct probe_site *s = &plan->sites[i];
		bool h2 = s->kind == PROBE_FINISH_H2;

		CHECK(s->kind != PROBE_WRITE_HEADER, "%s: '%s' still probed: the status should come from the writer",
		      fx->file, s->func);
		if (s->kind != PROBE_FINISH_H1 && !h2)
			continue;
		nend++;
		*nh2 += h2;
		CHECK(s->status_proven, "%s: %s: %s", fx->file, s->status_field, s->status_src);
		CHECK(!strncmp(s->status_src, "code (", 6), "%s: %s", fx->file, s->status_src);
		CHECK(fx->stripped == !strstr(s->status_src, "DWARF agrees"), "%s: %s", fx->file, s->status_src);
		type_of(s->func, h2 ? "State" : "", type, sizeof(type));
		CHECK(!strncmp(s->status_field, type, strlen(type)), "%s: field '%s', type '%s'", fx->file,
		      s->status_field, type);
		CHECK_INT(s->status_off, truth(dir, fx->file, type, "status"));
		if (h2) {
			type_of(s->func, "", type, sizeof(type));
			CHECK_INT(s->status_rws, truth(dir, fx->file, type, "rws"));
		} else {
			CHECK_INT(s->status_rws, -1);
		}
		/* the end probe stays on an emulated instruction */
		CHECK(s->emulated, "%s: %s probed at '%s', not emulated", fx->file, s->func, s->insn);
	}
	CHECK(nend >= 2, "%s: %d end probes (HTTP/1 and HTTP/2 expected)", fx->file, nend);
	free(plan);
}

/*
 * A copy of stripped fixture FX whose (*response).write compares the
 * status with 205 instead of 204: nothing proves net/http.response.status
 * any more, so the plan keeps (*response).WriteHeader and says why.
 */
static void test_unproven(const char *dir, const struct fixture *fx)
{
	struct probe_plan *plan = calloc(1, sizeof(*plan));
	char path[4096], tmp[] = "/tmp/cpprof-status-XXXXXX";
	struct go_status_off so;
	struct gopclntab *pt = NULL;
	struct goelf *g = NULL;
	unsigned char *buf = NULL;
	struct gofunc f;
	size_t len = 0, j;
	uint64_t off;
	int err = 0, fd, patched = 0, wh = 0, i;

	snprintf(path, sizeof(path), "%.3000s/%.127s", dir, fx->file);
	if (!plan || !(buf = slurp(path, &len)) || !(g = goelf__open(path, &err)) ||
	    !(pt = gopclntab__open(g, &err))) {
		CHECK(0, "%s: cannot read it", path);
		goto out;
	}
	CHECK_INT(gopclntab__find(pt, "net/http.(*response).write", &f), 0);
	CHECK_INT(goelf__vaddr_to_offset(g, f.entry, &off), 0);
	/* cmp r64, imm32 (REX.W 81 /7 ib): "48|49 81 f8+r cc 00 00 00" */
	for (j = off; j + 7 <= off + (f.end - f.entry) && j + 7 <= len; j++) {
		if ((buf[j] == 0x48 || buf[j] == 0x49) && buf[j + 1] == 0x81 && buf[j + 2] >= 0xf8 &&
		    !memcmp(buf + j + 3, "\xcc\x00\x00\x00", 4)) {
			buf[j + 3] = 0xcd;
			patched++;
		}
	}
	CHECK_INT(patched, 1);
	fd = mkstemp(tmp);
	CHECK(fd >= 0, "mkstemp: %s", strerror(errno));
	if (fd < 0)
		goto out;
	close(fd);
	CHECK_INT(spit(tmp, buf, len), 0);
	chmod(tmp, 0700);
	CHECK(plan__build(tmp, plan) == 0, "patched %s: plan: %s", fx->file, cp_lasterr());
	for (i = 0; i < plan->nsites; i++) {
		const struct probe_site *s = &plan->sites[i];

		if (s->kind == PROBE_WRITE_HEADER) {
			wh++;
			CHECK(s->fallback, "patched %s: %s not marked as the fallback", fx->file, s->func);
			CHECK(strstr(s->func, "(*response).WriteHeader") != NULL,
			      "patched %s: only HTTP/1's WriteHeader should stay, not '%s'", fx->file, s->func);
		}
		if (s->kind == PROBE_FINISH_H1)
			CHECK(!s->status_proven && !strcmp(s->status_field, "net/http.response.status") &&
			      strstr(s->status_src, "compares no field with 204 and 304"),
			      "patched %s: %s: %s", fx->file, s->status_field, s->status_src);
		if (s->kind == PROBE_FINISH_H2)
			CHECK(s->status_proven, "patched %s: HTTP/2 should still be proven: %s", fx->file,
			      s->status_src);
	}
	CHECK_INT(wh, 1);
	/* the one line a user sees names the field */
	gopclntab__close(pt);
	goelf__close(g);
	pt = NULL;
	g = goelf__open(tmp, &err);
	pt = g ? gopclntab__open(g, &err) : NULL;
	CHECK(pt != NULL, "patched %s: reopen", fx->file);
	if (pt) {
		CHECK_INT(offsets__writer_status(g, pt, "net/http.(*response).finishRequest", false, &so), -ENOTSUP);
		CHECK(!strcmp(cp_lasterr(), "offset of net/http.response.status: 'net/http.(*response).write' "
					    "compares no field with 204 and 304"), "%s", cp_lasterr());
	}
	unlink(tmp);
out:
	gopclntab__close(pt);
	goelf__close(g);
	free(buf);
	free(plan);
}

/* The pattern on hand-assembled code: mov rsi, [rcx+0x78]; cmp rsi, 204; je; cmp rsi, 304 */
static void test_pattern(void)
{
	static const uint8_t code[] = {
		0x48, 0x8b, 0x00,                         /* mov rax, [rax]      (first load: rws at 0) */
		0x48, 0x8b, 0x71, 0x78,                   /* mov rsi, [rcx+0x78] */
		0x4c, 0x8d, 0x46, 0x9c,                   /* lea r8, [rsi-0x64]  */
		0x49, 0x83, 0xf8, 0x63,                   /* cmp r8, 0x63        */
		0x76, 0x12,                               /* jbe                 */
		0x48, 0x81, 0xfe, 0xcc, 0x00, 0x00, 0x00, /* cmp rsi, 0xcc       */
		0x74, 0x09,                               /* je                  */
		0x48, 0x81, 0xfe, 0x30, 0x01, 0x00, 0x00, /* cmp rsi, 0x130      */
		0xc3,
	};
	struct fieldproof_hit h[4];
	struct fieldproof *fp;
	int err = 0;

	fp = fieldproof__decode(code, sizeof(code), 0x401000, &err);
	CHECK(fp != NULL, "decode: %d", err);
	if (!fp)
		return;
	CHECK_INT(fieldproof__cmp_pair(fp, 204, 304, h, 4), 1);
	CHECK_INT(h[0].disp, 0x78);
	CHECK_INT(fieldproof__cmp_pair(fp, 204, 305, h, 4), 0);
	CHECK_INT(fieldproof__first_load(fp, h), 1);
	CHECK_INT(h[0].disp, 0);
	fieldproof__free(fp);
}

int main(void)
{
	struct fixture fx[64];
	const char *dir;
	int n, i, nh2 = 0, patched = 0;

	test_pattern();
	n = load_fixtures(&dir, fx, 64);
	for (i = 0; i < n; i++) {
		test_fixture(dir, &fx[i], &nh2);
		if (!patched && fx[i].stripped) {
			test_unproven(dir, &fx[i]);
			patched = 1;
		}
	}
	CHECK(n > 0 && nh2 >= n, "%d fixtures, %d HTTP/2 writers proven", n, nh2);
	printf("test_status_offsets: %d fixtures, status proven for every writer\n", n);
	return check_summary("test_status_offsets");
}
