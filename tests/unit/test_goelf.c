// SPDX-License-Identifier: MIT
/*
 * test_goelf: goelf against the Go fixtures listed in
 * $FIXTURES_DIR/manifest.tsv, a non-Go ELF, damaged copies, and
 * hand-made .go.buildinfo blobs in both formats.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "fixtures.h"
#include "goelf.h"
#include "log.h"


static void test_fixture(const char *dir, const struct fixture *fx)
{
	char path[4096];
	const struct goelf_section *text;
	struct goelf *g;
	uint64_t off, addr;
	int err;

	if (snprintf(path, sizeof(path), "%s/%s", dir, fx->file) >= (int)sizeof(path))
		return;
	g = goelf__open(path, &err);
	CHECK(g != NULL, "%s: goelf__open: %s", fx->file, cp_lasterr());
	if (!g)
		return;
	CHECK(goelf__is_go(g), "%s: not recognised as Go", fx->file);
	CHECK(goelf__go_version(g) && strcmp(goelf__go_version(g), fx->go_version) == 0,
	      "%s: go version '%s', manifest says '%s'", fx->file,
	      goelf__go_version(g) ? goelf__go_version(g) : "(null)", fx->go_version);
	CHECK(goelf__main_path(g) && *goelf__main_path(g), "%s: no main path", fx->file);
	CHECK(goelf__build_id(g) != NULL, "%s: no build id", fx->file);
	CHECK(goelf__has_symtab(g) == !fx->stripped, "%s: has_symtab %d, stripped %d", fx->file,
	      goelf__has_symtab(g), fx->stripped);
	CHECK(goelf__has_dwarf(g) == !fx->stripped, "%s: has_dwarf %d, stripped %d", fx->file,
	      goelf__has_dwarf(g), fx->stripped);
	CHECK(goelf__section(g, ".gopclntab") != NULL, "%s: no .gopclntab", fx->file);

	/* what uprobes take: .text's file offset through the PF_X segment */
	text = goelf__section(g, ".text");
	CHECK(text != NULL, "%s: no .text", fx->file);
	if (text) {
		CHECK(goelf__vaddr_to_offset(g, text->addr, &off) == 0 && off == text->offset,
		      "%s: .text 0x%llx -> offset 0x%llx, want 0x%llx", fx->file,
		      (unsigned long long)text->addr, (unsigned long long)off,
		      (unsigned long long)text->offset);
		CHECK(goelf__vaddr_to_offset(g, text->addr + text->size - 1, &off) == 0 &&
		      off == text->offset + text->size - 1, "%s: end of .text", fx->file);
		CHECK(goelf__is_text(g, text->addr), "%s", fx->file);
	}
	/* .rodata is not in an executable segment */
	if (goelf__section(g, ".rodata"))
		CHECK(goelf__vaddr_to_offset(g, goelf__section(g, ".rodata")->addr, &off) == -ENOENT,
		      "%s: .rodata mapped as executable", fx->file);
	if (!fx->stripped) {
		CHECK(goelf__symbol(g, "runtime.text", &addr, NULL) == 0, "%s: no runtime.text", fx->file);
		CHECK(goelf__symbol(g, "main.main", &addr, NULL) == 0 && goelf__is_text(g, addr),
		      "%s: main.main", fx->file);
	} else {
		CHECK(goelf__symbol(g, "runtime.text", &addr, NULL) == -ENOENT, "%s", fx->file);
	}
	CHECK(goelf__symbol(g, "no.such.symbol", &addr, NULL) == -ENOENT, "%s", fx->file);
	goelf__close(g);
}

static void test_damaged(const char *dir, const struct fixture *fx, const char *tmp)
{
	char path[4096], copy[4096];
	unsigned char *buf;
	size_t len;
	struct goelf *g;
	int err;

	if (snprintf(path, sizeof(path), "%s/%s", dir, fx->file) >= (int)sizeof(path))
		return;
	buf = slurp(path, &len);
	CHECK(buf != NULL, "cannot read %s", path);
	if (!buf)
		return;

	/* cut inside the ELF header */
	snprintf(copy, sizeof(copy), "%s/short", tmp);
	spit(copy, buf, 40);
	g = goelf__open(copy, &err);
	CHECK(!g && err < 0, "40-byte file opened");
	CHECK(strstr(cp_lasterr(), "ELF") != NULL, "message '%s'", cp_lasterr());
	goelf__close(g);

	/* cut in the middle: opens, but without what lies past the cut */
	snprintf(copy, sizeof(copy), "%s/half", tmp);
	spit(copy, buf, len / 2);
	g = goelf__open(copy, &err);
	if (g) {
		char b[16];

		CHECK(goelf__read(g, 0xffffffffffff0000ull, b, sizeof(b)) == -EFAULT, "read outside");
		goelf__close(g);
	} else {
		CHECK(strstr(cp_lasterr(), "ELF") != NULL, "message '%s'", cp_lasterr());
	}

	/* no .go.buildinfo section header: found in the data segment */
	{
		unsigned char *q = memmem(buf, len, ".go.buildinfo\0", 14);

		CHECK(q != NULL, "no '.go.buildinfo' name in %s", fx->file);
		if (q) {
			q[1] = 'x';
			snprintf(copy, sizeof(copy), "%s/nobuildinfo", tmp);
			spit(copy, buf, len);
			g = goelf__open(copy, &err);
			CHECK(g && !goelf__section(g, ".go.buildinfo"), "%s: renamed copy", fx->file);
			CHECK(g && goelf__go_version(g) && strcmp(goelf__go_version(g), fx->go_version) == 0,
			      "%s: no Go version without the section header", fx->file);
			goelf__close(g);
			q[1] = 'g';
		}
	}

	/* another machine */
	memcpy(buf + offsetof(Elf64_Ehdr, e_machine), &(uint16_t){ EM_AARCH64 }, 2);
	snprintf(copy, sizeof(copy), "%s/arm64", tmp);
	spit(copy, buf, len);
	g = goelf__open(copy, &err);
	CHECK(!g && err == -ENOEXEC, "aarch64 file opened");
	CHECK(strstr(cp_lasterr(), "not an x86-64 executable") != NULL, "message '%s'", cp_lasterr());
	goelf__close(g);
	free(buf);
}

/* A Go 1.18+ .go.buildinfo: header, then varint-length strings. */
static size_t put_string(unsigned char *p, const char *s)
{
	size_t n = strlen(s), i = 0, v = n;

	do {
		p[i++] = (v & 0x7f) | (v > 0x7f ? 0x80 : 0);
		v >>= 7;
	} while (v);
	memcpy(p + i, s, n);
	return i + n;
}

static const char modinfo_body[] =
	"path\tk8s.io/kubernetes/cmd/kube-apiserver\n"
	"mod\tk8s.io/kubernetes\t(devel)\t\n"
	"dep\tgithub.com/gogo/protobuf\tv1.3.2\th1:abc=\n"
	"dep\tk8s.io/api\tv0.0.0\t\n"
	"=>\t./staging/src/k8s.io/api\t\t\n"
	"dep\tgolang.org/x/net\tv0.17.0\th1:def=\n"
	"=>\tgolang.org/x/net\tv0.19.0\th1:ghi=\n"
	"build\t-compiler=gc\n";

static char *framed_modinfo(void)
{
	/* cmd/go/internal/modload: 16-byte infoStart/infoEnd sentinels */
	static char buf[1024];

	snprintf(buf, sizeof(buf), "0123456789abcdef%sfedcba9876543210", modinfo_body);
	return buf;
}

static void check_modules(struct goelf *g, const char *what)
{
	const struct goelf_module *m;

	CHECK(g != NULL, "%s: %s", what, cp_lasterr());
	if (!g)
		return;
	CHECK_STR(goelf__go_version(g), "go1.21.13");
	CHECK(goelf__main_path(g) && strcmp(goelf__main_path(g), "k8s.io/kubernetes/cmd/kube-apiserver") == 0,
	      "%s: main path", what);
	CHECK_INT(goelf__module_count(g), 3);
	m = goelf__find_module(g, "github.com/gogo/protobuf");
	CHECK(m && strcmp(m->version, "v1.3.2") == 0 && !m->replace, "%s: gogo", what);
	m = goelf__find_module(g, "k8s.io/api");
	CHECK(m && m->replace && strcmp(m->replace, "./staging/src/k8s.io/api") == 0 &&
	      !m->replace_version, "%s: k8s.io/api replacement", what);
	m = goelf__find_module(g, "golang.org/x/net");
	CHECK(m && m->replace_version && strcmp(m->replace_version, "v0.19.0") == 0,
	      "%s: x/net replacement", what);
	CHECK(goelf__find_module(g, "k8s.io/kubernetes") == NULL, "%s: main module listed", what);
	CHECK(goelf__module(g, 3) == NULL && goelf__module(g, -1) == NULL, "%s", what);
}

static void test_buildinfo_blobs(void)
{
	unsigned char blob[2048];
	const char *mod = framed_modinfo();
	struct goelf *g;
	size_t n;
	int err;

	/* a framing check: as cmd/go writes it, byte len-17 is '\n' */
	CHECK(mod[strlen(mod) - 17] == '\n', "test sentinel");

	/* Go 1.18+ inline format */
	memset(blob, 0, sizeof(blob));
	memcpy(blob, "\xff Go buildinf:", 14);
	blob[14] = 8;
	blob[15] = 2;
	n = 32;
	n += put_string(blob + n, "go1.21.13");
	n += put_string(blob + n, mod);
	g = goelf__open_buildinfo_mem(blob, n, 0x8bc370 & ~0xfull, &err);
	check_modules(g, "inline format");
	goelf__close(g);

	/* the magic later in the data, 16-byte aligned */
	{
		unsigned char big[4096] = { 0 };

		memcpy(big + 48, blob, n);
		g = goelf__open_buildinfo_mem(big, 48 + n, 0x10000, &err);
		check_modules(g, "inline at +48");
		goelf__close(g);
		/* not aligned: not build info */
		memmove(big + 49, big + 48, n);
		memset(big + 48, 0, 1);
		g = goelf__open_buildinfo_mem(big, 49 + n, 0x10000, &err);
		CHECK(!g && err == -ENOENT, "unaligned magic accepted");
		goelf__close(g);
	}

	/* Go 1.13-1.17: pointers to string headers, here inside the blob */
	{
		const uint64_t base = 0x900000;
		uint64_t hdr[4];
		size_t vo = 0x100, mo = 0x200;

		memset(blob, 0, sizeof(blob));
		memcpy(blob, "\xff Go buildinf:", 14);
		blob[14] = 8;
		blob[15] = 0;
		hdr[0] = base + 0x40;  /* &runtime.buildVersion */
		hdr[1] = base + 0x50;  /* &runtime.modinfo */
		memcpy(blob + 16, hdr, 16);
		hdr[0] = base + vo;
		hdr[1] = strlen("go1.21.13");
		hdr[2] = base + mo;
		hdr[3] = strlen(mod);
		memcpy(blob + 0x40, hdr, 32);
		memcpy(blob + vo, "go1.21.13", 9);
		memcpy(blob + mo, mod, strlen(mod));
		g = goelf__open_buildinfo_mem(blob, mo + strlen(mod), base, &err);
		check_modules(g, "pointer format");
		goelf__close(g);

		/* a pointer outside the bytes */
		hdr[0] = base + 0x100000;
		memcpy(blob + 0x40, hdr, 8);
		g = goelf__open_buildinfo_mem(blob, mo + strlen(mod), base, &err);
		CHECK(!g && err == -EINVAL, "wild pointer accepted");
		CHECK(strstr(cp_lasterr(), "corrupted Go build info") != NULL, "'%s'", cp_lasterr());
		goelf__close(g);
	}

	/* a length that runs past the end */
	memset(blob, 0, sizeof(blob));
	memcpy(blob, "\xff Go buildinf:", 14);
	blob[14] = 8;
	blob[15] = 2;
	blob[32] = 0xff;
	blob[33] = 0x7f;
	g = goelf__open_buildinfo_mem(blob, 64, 0, &err);
	CHECK(!g && err == -EINVAL, "overlong string accepted");
	goelf__close(g);

	g = goelf__open_buildinfo_mem("nothing here", 12, 0, &err);
	CHECK(!g && err == -ENOENT, "no magic");
	goelf__close(g);
}

static void test_version_parse(void)
{
	int ma = -1, mi = -1;

	CHECK(go_version_parse("go1.21.13", &ma, &mi) == 0 && ma == 1 && mi == 21, "go1.21.13");
	CHECK(go_version_parse("go1.22rc1", &ma, &mi) == 0 && ma == 1 && mi == 22, "go1.22rc1");
	CHECK(go_version_parse("devel go1.23-abc Tue", &ma, &mi) == 0 && ma == 1 && mi == 23, "devel");
	CHECK(go_version_parse("go1.16", &ma, &mi) == 0 && mi == 16, "go1.16");
	CHECK(go_version_parse("go1", &ma, &mi) == 0 && ma == 1 && mi == 0, "go1");
	CHECK(go_version_parse("1.21", &ma, &mi) == -EINVAL, "1.21");
	CHECK(go_version_parse("go", &ma, &mi) == -EINVAL, "go");
	CHECK(go_version_parse("go1.", &ma, &mi) == -EINVAL, "go1.");
	CHECK(go_version_parse("", &ma, &mi) == -EINVAL, "empty");
	CHECK(go_version_parse(NULL, &ma, &mi) == -EINVAL, "NULL");
}

int main(void)
{
	const char *dir = getenv("FIXTURES_DIR");
	char tmp[] = "/tmp/test_goelf.XXXXXX";
	struct fixture fx[64];
	struct goelf *g;
	int i, n, err;

	test_version_parse();
	test_buildinfo_blobs();

	g = goelf__open("/bin/true", &err);
	CHECK(g != NULL, "/bin/true: %s", cp_lasterr());
	if (g) {
		CHECK(!goelf__is_go(g), "/bin/true is Go");
		CHECK(goelf__go_version(g) == NULL, "/bin/true has a Go version");
		CHECK(goelf__build_id(g) != NULL, "/bin/true has no GNU build id");
		CHECK(goelf__section(g, ".text") != NULL, "/bin/true: .text");
	}
	goelf__close(g);
	goelf__close(NULL);

	g = goelf__open("/etc/passwd", &err);
	CHECK(!g && err == -ENOEXEC && strstr(cp_lasterr(), "not an ELF file"), "passwd: %s", cp_lasterr());
	g = goelf__open("/nonexistent/x", &err);
	CHECK(!g && err == -ENOENT && strstr(cp_lasterr(), "/nonexistent/x"), "missing: %s", cp_lasterr());

	if (!dir) {
		printf("test_goelf: FIXTURES_DIR is not set, skipping the Go fixture checks\n");
		return check_summary("test_goelf");
	}
	n = read_manifest(dir, fx, 64);
	CHECK(n > 0, "no fixtures in %s/manifest.tsv (%d)", dir, n);
	if (!mkdtemp(tmp)) {
		CHECK(0, "mkdtemp: %s", strerror(errno));
		return check_summary("test_goelf");
	}
	for (i = 0; i < n; i++)
		test_fixture(dir, &fx[i]);
	for (i = 0; i < n; i++)
		test_damaged(dir, &fx[i], tmp);
	{
		char cmd[4200];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
		if (system(cmd))
			fprintf(stderr, "cannot remove %s\n", tmp);
	}
	return check_summary("test_goelf");
}
