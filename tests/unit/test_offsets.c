// SPDX-License-Identifier: MIT
/*
 * test_offsets: the struct offsets proven from each fixture's code
 * (stripped, cgo, every Go of the manifest) against the truth (DWARF of
 * the unstripped build of the same toolchain, and the table's rows made
 * by reflection); the patterns on hand-assembled code; the refusals: code
 * against a wrong table row, DWARF, or itself (a fixture whose
 * (*URL).RequestURI was patched to read RawQuery 8 bytes lower), and a
 * field nothing proves.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <capstone/capstone.h>

#include "check.h"
#include "fieldproof.h"
#include "fixtures.h"
#include "goelf.h"
#include "gopclntab.h"
#include "log.h"
#include "offsets.h"
#include "offsets_table.h"

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
	/* Go 1.26 moved Fragment before RawQuery (reflection with go1.26.10) */
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

/* ---- the patterns on hand-assembled code (bytes as Go 1.27 emits them) ---- */

static void test_patterns(void)
{
	/* serverHandler.ServeHTTP, go1.27.3: req.RequestURI == "*" && req.Method == "OPTIONS" */
	static const uint8_t options[] = {
		0x48, 0x83, 0xbf, 0xc8, 0x00, 0x00, 0x00, 0x01, /* cmp qword [rdi+0xc8], 1 */
		0x75, 0x3e,                                     /* jne */
		0x4c, 0x8b, 0x87, 0xc0, 0x00, 0x00, 0x00,       /* mov r8, [rdi+0xc0] */
		0x41, 0x80, 0x38, 0x2a,                         /* cmp byte [r8], '*' */
		0x75, 0x31,                                     /* jne */
		0x48, 0x83, 0x7f, 0x08, 0x07,                   /* cmp qword [rdi+8], 7 */
		0x75, 0x2a,                                     /* jne */
		0x4c, 0x8b, 0x07,                               /* mov r8, [rdi] */
		0x41, 0x81, 0x38, 0x4f, 0x50, 0x54, 0x49,       /* cmp dword [r8], "OPTI" */
		0x75, 0x1e,                                     /* jne */
	};
	/* the same after "mov rdi, rax": the compare no longer reads the entry RDI */
	uint8_t moved[sizeof(options) + 3] = { 0x48, 0x89, 0xc7 };
	/* readRequestLimit, go1.27.3, inlined isH2Upgrade: the "*" base overwritten by its own load */
	static const uint8_t h2[] = {
		0x48, 0x83, 0x78, 0x08, 0x03,                   /* cmp qword [rax+8], 3 */
		0x75, 0x69,                                     /* jne */
		0x48, 0x8b, 0x08,                               /* mov rcx, [rax] */
		0x66, 0x81, 0x39, 0x50, 0x52,                   /* cmp word [rcx], "PR" */
		0x75, 0x5f,                                     /* jne */
		0x80, 0x79, 0x02, 0x49,                         /* cmp byte [rcx+2], 'I' */
		0x75, 0x59,                                     /* jne */
		0x48, 0x8b, 0x48, 0x10,                         /* mov rcx, [rax+0x10] */
		0x48, 0x83, 0x79, 0x40, 0x01,                   /* cmp qword [rcx+0x40], 1 */
		0x75, 0x37,                                     /* jne */
		0x48, 0x8b, 0x49, 0x38,                         /* mov rcx, [rcx+0x38] */
		0x80, 0x39, 0x2a,                               /* cmp byte [rcx], '*' */
		0x75, 0x2e,                                     /* jne */
	};
	/* (*URL).RequestURI, go1.27.3: if u.ForceQuery || u.RawQuery != "" { ... u.RawQuery } */
	static const uint8_t fq[] = {
		0x80, 0xb8, 0x88, 0x00, 0x00, 0x00, 0x00,       /* cmp byte [rax+0x88], 0 */
		0x75, 0x07,                                     /* jne */
		0x48, 0x83, 0x78, 0x60, 0x00,                   /* cmp qword [rax+0x60], 0 */
		0x74, 0x40,                                     /* je */
		0x48, 0x8b, 0x50, 0x58,                         /* mov rdx, [rax+0x58] */
		0x4c, 0x8b, 0x48, 0x60,                         /* mov r9, [rax+0x60] */
	};
	/* (*URL).Query, go1.27.3 */
	static const uint8_t query[] = {
		0x49, 0x3b, 0x66, 0x10,                         /* cmp rsp, [r14+0x10] */
		0x76, 0x3e,                                     /* jbe */
		0x55,                                           /* push rbp */
		0x48, 0x89, 0xe5,                               /* mov rbp, rsp */
		0x48, 0x83, 0xec, 0x30,                         /* sub rsp, 0x30 */
		0x48, 0x8b, 0x48, 0x58,                         /* mov rcx, [rax+0x58] */
		0x48, 0x89, 0x4c, 0x24, 0x20,                   /* mov [rsp+0x20], rcx */
		0x48, 0x8b, 0x40, 0x60,                         /* mov rax, [rax+0x60] */
	};
	struct fieldproof_hit h[8];
	struct fieldproof *fp;
	int err = 0, n;

	fp = fieldproof__decode(options, sizeof(options), 0x1000, &err);
	CHECK(fp != NULL, "decode: %d", err);
	n = fieldproof__streq(fp, "OPTIONS", h, 8);
	CHECK_INT(n, 1);
	if (n == 1) {
		CHECK_INT(h[0].disp, 0);
		CHECK_INT(h[0].base, X86_REG_RDI);
		CHECK_INT(h[0].base_ver, 0);
		CHECK_INT(h[0].has_parent, 0);
	}
	n = fieldproof__streq(fp, "*", h, 8);
	CHECK_INT(n, 1);
	if (n == 1)
		CHECK_INT(h[0].disp, 0xc0);
	/* a literal of the same length but other bytes, or another length: nothing */
	CHECK_INT(fieldproof__streq(fp, "OPTIONZ", h, 8), 1);
	CHECK_INT(fieldproof__streq(fp, "OPTX", h, 8), 0);
	CHECK_INT(fieldproof__streq(fp, "OPTIONSX", h, 8), 0);
	CHECK_INT(fieldproof__streq(fp, "+", h, 8), 0);
	CHECK_INT(fieldproof__flag_or_str(fp, h, 8), 0);
	fieldproof__free(fp);

	memcpy(moved + 3, options, sizeof(options));
	fp = fieldproof__decode(moved, sizeof(moved), 0x1000, &err);
	n = fieldproof__streq(fp, "OPTIONS", h, 8);
	CHECK_INT(n, 1);
	if (n == 1)
		CHECK(h[0].base_ver != 0, "RDI was written: version %d", h[0].base_ver);
	fieldproof__free(fp);

	fp = fieldproof__decode(h2, sizeof(h2), 0x1000, &err);
	n = fieldproof__streq(fp, "PRI", h, 8);
	CHECK_INT(n, 1);
	if (n == 1) {
		CHECK_INT(h[0].disp, 0);
		CHECK_INT(h[0].base, X86_REG_RAX);
	}
	n = fieldproof__streq(fp, "*", h, 8);
	CHECK_INT(n, 1);
	if (n == 1) {
		CHECK_INT(h[0].disp, 56);
		CHECK_INT(h[0].base, X86_REG_RCX);
		CHECK(h[0].has_parent, "the URL pointer was loaded from the request");
		CHECK_INT(h[0].pbase, X86_REG_RAX);
		CHECK_INT(h[0].pbase_ver, 0);
		CHECK_INT(h[0].pdisp, 16);
	}
	fieldproof__free(fp);

	fp = fieldproof__decode(fq, sizeof(fq), 0x1000, &err);
	n = fieldproof__flag_or_str(fp, h, 8);
	CHECK_INT(n, 1);
	if (n == 1)
		CHECK_INT(h[0].disp, 88);
	fieldproof__free(fp);
	/* without the loads of the string the test proves nothing */
	fp = fieldproof__decode(fq, 16, 0x1000, &err);
	CHECK_INT(fieldproof__flag_or_str(fp, h, 8), 0);
	fieldproof__free(fp);

	fp = fieldproof__decode(query, sizeof(query), 0x1000, &err);
	CHECK_INT(fieldproof__first_pair(fp, h), 1);
	CHECK_INT(h[0].disp, 88);
	fieldproof__free(fp);
	/* the receiver overwritten first ("mov rax, rbx"): not the receiver's field */
	{
		uint8_t q2[sizeof(query) + 3] = { 0x48, 0x89, 0xd8 };

		memcpy(q2 + 3, query, sizeof(query));
		fp = fieldproof__decode(q2, sizeof(q2), 0x1000, &err);
		CHECK_INT(fieldproof__first_pair(fp, h), 0);
		fieldproof__free(fp);
	}
	/* nothing decodable */
	{
		static const uint8_t junk[] = { 0x0f, 0x0b, 0xff, 0xff };

		fp = fieldproof__decode(junk, sizeof(junk), 0x1000, &err);
		CHECK_INT(fieldproof__streq(fp, "*", h, 8), 0);
		fieldproof__free(fp);
	}
}

/* ---- deciding -------------------------------------------------------- */

static void set4(struct go_offsets *o, int m, int u, int p, int q, const char *src)
{
	int i;

	memset(o, 0, sizeof(*o));
	o->request_method = m;
	o->request_url = u;
	o->url_path = p;
	o->url_rawquery = q;
	snprintf(o->source, sizeof(o->source), "%s", src);
	for (i = 0; i < GO_OFF__FIELDS; i++)
		snprintf(o->field_source[i], sizeof(o->field_source[i]), "%s",
			 *offsets__field(o, i) >= 0 ? "code (f)" : "no function reading it");
}

static void test_decide(void)
{
	struct go_offsets code, dw, tab, out;

	set4(&code, 0, 16, 56, 88, "code");
	set4(&tab, 0, 16, 56, 96, "table go1.26");
	set4(&dw, 0, 16, 56, 88, "DWARF");

	/* the Go 1.26 mis-tag, now refused, naming the field */
	CHECK_INT(offsets__decide(&code, NULL, &tab, &out), -ENOTSUP);
	CHECK_STR(cp_lasterr(), "offset of net/url.URL.RawQuery: code says 88, table go1.26 says 96");
	CHECK_INT(offsets__decide(&code, &dw, &tab, &out), -ENOTSUP);
	CHECK_STR(cp_lasterr(), "offset of net/url.URL.RawQuery: code says 88, table go1.26 says 96");
	set4(&dw, 0, 24, 56, 88, "DWARF");
	CHECK_INT(offsets__decide(&code, &dw, NULL, &out), -ENOTSUP);
	CHECK_STR(cp_lasterr(), "offset of net/http.Request.URL: code says 16, DWARF says 24");

	/* agreement, and a Go newer than the table */
	set4(&dw, 0, 16, 56, 88, "DWARF");
	set4(&tab, 0, 16, 56, 88, "table go1.26");
	CHECK_INT(offsets__decide(&code, &dw, &tab, &out), 0);
	CHECK_INT(out.url_rawquery, 88);
	CHECK_STR(out.source, "code; DWARF agrees; table go1.26 agrees");
	CHECK_STR(out.field_source[GO_OFF_URL_RAWQUERY], "code (f); DWARF agrees; table go1.26 agrees");
	CHECK_INT(offsets__decide(&code, NULL, NULL, &out), 0);
	CHECK_STR(out.source, "code");

	/* nothing proves RawQuery: a table row alone is not enough */
	set4(&code, 0, 16, 56, -1, "code");
	CHECK_INT(offsets__decide(&code, NULL, &tab, &out), -ENOTSUP);
	CHECK(strstr(cp_lasterr(), "offset of net/url.URL.RawQuery: not proven by the binary's code") ==
	      cp_lasterr(), "%s", cp_lasterr());
	CHECK(strstr(cp_lasterr(), "table go1.26 says 88, which alone is not trusted") != NULL, "%s",
	      cp_lasterr());
	CHECK_INT(offsets__decide(&code, NULL, NULL, &out), -ENOTSUP);
	/* DWARF proves it when the code does not, and must agree with the table */
	CHECK_INT(offsets__decide(&code, &dw, &tab, &out), 0);
	CHECK_INT(out.url_rawquery, 88);
	CHECK_STR(out.source, "code and DWARF; DWARF agrees; table go1.26 agrees");
	set4(&tab, 0, 16, 56, 96, "table go1.26");
	CHECK_INT(offsets__decide(&code, &dw, &tab, &out), -ENOTSUP);
	CHECK(strstr(cp_lasterr(), "offset of net/url.URL.RawQuery: DWARF says 88, table go1.26 says 96") ==
	      cp_lasterr(), "%s", cp_lasterr());
}

/* ---- fixtures -------------------------------------------------------- */

/* The truth for a fixture: DWARF of the unstripped build of the same toolchain. */
static int truth(const char *dir, const char *file, struct go_offsets *t)
{
	char path[4096], base[128];
	struct goelf *g;
	char *s;
	int err = 0;

	snprintf(base, sizeof(base), "%s", file);
	if ((s = strstr(base, "-stripped")))
		*s = 0;
	snprintf(path, sizeof(path), "%s/%s", dir, base);
	g = goelf__open(path, &err);
	if (!g)
		return err;
	err = offsets__from_dwarf(g, t);
	goelf__close(g);
	return err;
}

static void test_fixture(const char *dir, const struct fixture *fx)
{
	struct go_offsets o, c, t, tab;
	struct gopclntab *pt;
	struct goelf *g;
	char path[4096];
	const struct go_offsets_row *row = NULL;
	int err = 0, minor = 0, major = 0, i;

	snprintf(path, sizeof(path), "%s/%s", dir, fx->file);
	g = goelf__open(path, &err);
	CHECK(g != NULL, "cannot open '%s': %s", path, cp_lasterr());
	if (!g)
		return;
	pt = gopclntab__open(g, &err);
	CHECK(pt != NULL, "%s: pclntab: %s", path, cp_lasterr());
	if (!pt) {
		goelf__close(g);
		return;
	}
	CHECK(goelf__go_version(g) && !strncmp(goelf__go_version(g), fx->go_version, strlen(fx->go_version)),
	      "%s: version '%s' vs manifest '%s'", path, goelf__go_version(g), fx->go_version);
	go_version_parse(fx->go_version, &major, &minor);
	for (i = 0; i < (int)(sizeof(go_offsets_table) / sizeof(go_offsets_table[0])); i++)
		if (go_offsets_table[i].minor == minor)
			row = &go_offsets_table[i];

	/* every field proven by the code alone, equal to the truth */
	CHECK_INT(offsets__from_code(g, pt, &c), 0);
	CHECK_INT(truth(dir, fx->file, &t), 0);
	for (i = 0; i < GO_OFF__FIELDS; i++) {
		CHECK(*offsets__field(&c, i) == *offsets__field(&t, i), "%s: %s: code %d, DWARF of the unstripped build %d (%s)",
		      fx->file, offsets__field_name(i), *offsets__field(&c, i), *offsets__field(&t, i),
		      c.field_source[i]);
		CHECK(!strncmp(c.field_source[i], "code (", 6), "%s: %s", fx->file, c.field_source[i]);
	}
	/* the register the BPF start probe reads the request from is proven too */
	CHECK(strstr(c.field_source[GO_OFF_REQUEST_METHOD], "net/http.serverHandler.ServeHTTP") != NULL,
	      "%s: %s", fx->file, c.field_source[GO_OFF_REQUEST_METHOD]);
	/* URL and Path from the request reader's isH2Upgrade, RawQuery from RequestURI */
	CHECK(strstr(c.field_source[GO_OFF_REQUEST_URL], "readRequest") != NULL, "%s: %s", fx->file,
	      c.field_source[GO_OFF_REQUEST_URL]);
	CHECK(strstr(c.field_source[GO_OFF_URL_PATH], "net/url.(*URL).EscapedPath") != NULL, "%s: %s",
	      fx->file, c.field_source[GO_OFF_URL_PATH]);
	CHECK(strstr(c.field_source[GO_OFF_URL_RAWQUERY], "net/url.(*URL).RequestURI") != NULL, "%s: %s",
	      fx->file, c.field_source[GO_OFF_URL_RAWQUERY]);
	/* table rows made by reflection are a second truth */
	if (row && !strncmp(row->how, "reflect/", 8)) {
		CHECK_INT(offsets__from_table(fx->go_version, &tab), 0);
		for (i = 0; i < GO_OFF__FIELDS; i++)
			CHECK(*offsets__field(&c, i) == *offsets__field(&tab, i), "%s: %s: code %d, %s %d",
			      fx->file, offsets__field_name(i), *offsets__field(&c, i), row->how,
			      *offsets__field(&tab, i));
	}

	err = offsets__resolve(g, pt, &o);
	CHECK(err == 0, "%s: resolve: %s", path, cp_lasterr());
	if (!err) {
		char want[160];

		snprintf(want, sizeof(want), "code%s%s", fx->stripped ? "" : "; DWARF agrees",
			 row ? "; table go1." : "; Go version '");
		CHECK(!strncmp(o.source, want, strlen(want)), "%s: source '%s', want '%s...'", fx->file,
		      o.source, want);
		CHECK_INT(o.url_rawquery, t.url_rawquery);
	}
	CHECK(fx->stripped == !goelf__has_dwarf(g), "%s: DWARF presence", fx->file);
	gopclntab__close(pt);
	goelf__close(g);
}

/*
 * A copy of a stripped fixture whose (*URL).RequestURI (and, if PATCH_QUERY,
 * (*URL).Query) reads RawQuery 8 bytes lower: every displacement D+0/D+8
 * of RawQuery rewritten in place, found by decoding the functions.
 */
static int patch_func(unsigned char *buf, size_t len, struct goelf *g, struct gopclntab *pt,
		      const char *name, int64_t rq)
{
	struct gofunc f;
	uint64_t off;
	const uint8_t *code;
	size_t left;
	uint64_t addr;
	cs_insn *in;
	csh h;
	int n = 0;

	if (gopclntab__find(pt, name, &f) || goelf__vaddr_to_offset(g, f.entry, &off) ||
	    off + (f.end - f.entry) > len)
		return -ENOENT;
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &h) != CS_ERR_OK)
		return -EINVAL;
	cs_option(h, CS_OPT_DETAIL, CS_OPT_ON);
	in = cs_malloc(h);
	code = buf + off;
	left = f.end - f.entry;
	addr = f.entry;
	while (cs_disasm_iter(h, &code, &left, &addr, in)) {
		cs_x86 *x = &in->detail->x86;
		int i;

		for (i = 0; i < x->op_count; i++) {
			cs_x86_op *op = &x->operands[i];
			uint8_t *d;

			if (op->type != X86_OP_MEM || op->mem.base == X86_REG_RSP || op->mem.base == X86_REG_RIP ||
			    (op->mem.disp != rq && op->mem.disp != rq + 8) || !x->encoding.disp_offset ||
			    x->encoding.disp_size != 1)
				continue;
			d = buf + off + (in->address - f.entry) + x->encoding.disp_offset;
			*d = (uint8_t)(*d - 8);
			n++;
		}
	}
	cs_free(in, 1);
	cs_close(&h);
	return n;
}

static void test_refusals(const char *dir, const struct fixture *fx)
{
	char path[4096], tmp[] = "/tmp/cpprof-offsets-XXXXXX";
	unsigned char *buf;
	struct go_offsets o;
	struct gopclntab *pt;
	struct goelf *g;
	size_t len;
	int err = 0, fd, pass;

	snprintf(path, sizeof(path), "%s/%s", dir, fx->file);
	for (pass = 0; pass < 2; pass++) {
		char want[256];
		int n;

		buf = slurp(path, &len);
		CHECK(buf != NULL, "cannot read '%s'", path);
		if (!buf)
			return;
		g = goelf__open(path, &err);
		pt = g ? gopclntab__open(g, &err) : NULL;
		CHECK(pt != NULL, "%s: %s", path, cp_lasterr());
		if (!pt) {
			goelf__close(g);
			free(buf);
			return;
		}
		n = patch_func(buf, len, g, pt, "net/url.(*URL).RequestURI", 96);
		CHECK(n >= 3, "%s: %d displacements patched in RequestURI", fx->file, n);
		if (pass == 1)
			CHECK(patch_func(buf, len, g, pt, "net/url.(*URL).Query", 96) >= 2, "%s: Query", fx->file);
		gopclntab__close(pt);
		goelf__close(g);
		fd = mkstemp(tmp);
		CHECK(fd >= 0, "mkstemp");
		if (fd < 0) {
			free(buf);
			return;
		}
		close(fd);
		CHECK_INT(spit(tmp, buf, len), 0);
		free(buf);

		g = goelf__open(tmp, &err);
		pt = g ? gopclntab__open(g, &err) : NULL;
		CHECK(pt != NULL, "patched copy: %s", cp_lasterr());
		if (pt) {
			CHECK_INT(offsets__resolve(g, pt, &o), -ENOTSUP);
			if (pass == 0)
				snprintf(want, sizeof(want), "offset of net/url.URL.RawQuery: the binary's code "
					 "contradicts itself: 'net/url.(*URL).RequestURI' says 88, "
					 "'net/url.(*URL).Query' says 96");
			else
				snprintf(want, sizeof(want), "offset of net/url.URL.RawQuery: code says 88, "
					 "table go1.%d says 96", atoi(fx->go_version + 4));
			CHECK_STR(cp_lasterr(), want);
			CHECK(strchr(cp_lasterr(), '\n') == NULL, "one line");
			gopclntab__close(pt);
		}
		goelf__close(g);
		unlink(tmp);
		strcpy(tmp, "/tmp/cpprof-offsets-XXXXXX");
	}
}

static void test_fixtures(void)
{
	struct fixture fx[64];
	const char *dir;
	int n, i, nstripped = 0, ncgo = 0, refused = 0;

	n = load_fixtures(&dir, fx, 64);
	for (i = 0; i < n; i++) {
		test_fixture(dir, &fx[i]);
		nstripped += fx[i].stripped;
		ncgo += fx[i].cgo;
		/* a stripped one whose table row (reflection) says 96: the patched copy disagrees */
		if (!refused && fx[i].stripped && !fx[i].cgo && !strncmp(fx[i].go_version, "go1.2", 5) &&
		    atoi(fx[i].go_version + 4) >= 21 && atoi(fx[i].go_version + 4) <= 24) {
			test_refusals(dir, &fx[i]);
			refused = 1;
		}
	}
	CHECK(n > 0, "no fixture in the manifest");
	CHECK(refused, "no stripped go1.21-go1.24 fixture to patch");
	printf("test_offsets: %d fixtures (%d stripped, %d cgo) proven from code\n", n, nstripped, ncgo);
}

int main(void)
{
	test_table();
	test_patterns();
	test_decide();
	test_fixtures();
	return check_summary("test_offsets");
}
