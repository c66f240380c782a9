// SPDX-License-Identifier: MIT
/*
 * test_gopclntab: the function table of every fixture in
 * $FIXTURES_DIR/manifest.tsv. A uprobe one byte off crashes the target,
 * so unstripped fixtures are checked function by function against the
 * ELF symbol table, and runtime.text against the runtime.text symbol.
 * Copies with the header's textStart zeroed (what Go 1.26 writes), with
 * the .gopclntab section header renamed, truncated, and with a flipped
 * magic check the fallbacks and the error messages.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "fixtures.h"
#include "goelf.h"
#include "gopclntab.h"
#include "log.h"


static char tmpdir[] = "/tmp/test_gopclntab.XXXXXX";

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static const char *const http_funcs[] = {
	"net/http.serverHandler.ServeHTTP",
	"net/http.(*response).finishRequest",
	"net/http.(*response).WriteHeader",
	"net/http.(*http2responseWriter).WriteHeader",
	"net/http.(*http2responseWriter).handlerDone",
};

/* Go 1.27 moved the bundled HTTP/2 server to net/http/internal/http2. */
static const char *go127_name(const char *name, char *buf, size_t len)
{
	static const char bundled[] = "net/http.(*http2responseWriter).";

	if (strncmp(name, bundled, sizeof(bundled) - 1))
		return name;
	snprintf(buf, len, "net/http/internal/http2.(*responseWriter).%s", name + sizeof(bundled) - 1);
	return buf;
}

/* Another function of the table has NAME and starts at ADDR. */
static bool same_name_at(const struct gopclntab *p, const char *name, uint64_t addr)
{
	struct gofunc o;

	return gopclntab__lookup(p, addr, &o) == 0 && o.entry == addr && !strcmp(o.name, name);
}

/* Every function: lookup() of its first and last byte gives it back. */
static void check_roundtrip(const struct gopclntab *p, const char *what)
{
	int i, n = gopclntab__func_count(p), bad = 0;
	struct gofunc f, l;

	for (i = 0; i < n; i++) {
		gopclntab__func(p, i, &f);
		if (f.end <= f.entry)
			continue; /* zero-size symbols share an entry with the next */
		if (gopclntab__lookup(p, f.entry, &l) || l.entry != f.entry ||
		    gopclntab__lookup(p, f.end - 1, &l) || l.entry != f.entry) {
			if (bad++ < 3)
				CHECK(0, "%s: lookup of '%s' at 0x%llx failed", what, f.name,
				      (unsigned long long)f.entry);
		}
	}
	CHECK_INT(bad, 0);
	gopclntab__func(p, 0, &f);
	CHECK(gopclntab__lookup(p, f.entry - 1, &l) == -ENOENT, "%s: pc before text", what);
	CHECK(gopclntab__lookup(p, gopclntab__end_pc(p), &l) == -ENOENT, "%s: pc at end", what);
	CHECK(gopclntab__func(p, n, &f) == -ERANGE && gopclntab__func(p, -1, &f) == -ERANGE, "%s", what);
}

/*
 * Unstripped: every pclntab entry equals the ELF symbol of that name.
 * Assembly functions called from Go appear twice in the pclntab under one
 * name (the ABI0 body and its ABIInternal wrapper); the linker's symbol
 * table tells them apart with a ".abi0" suffix (cmd/link/internal/ld/
 * symtab.go, mangleABIName), so a name seen twice may match either.
 */
static void check_against_symtab(const struct goelf *g, const struct gopclntab *p, const char *what)
{
	int i, n = gopclntab__func_count(p), matched = 0, bad = 0, dups = 0;
	uint64_t addr, abi0;
	struct gofunc f, first;
	char name[1024];

	for (i = 0; i < n; i++) {
		gopclntab__func(p, i, &f);
		if (goelf__symbol(g, f.name, &addr, NULL))
			continue;
		matched++;
		if (addr == f.entry)
			continue;
		/* a duplicate name: find() gives one of them, the other is ".abi0" */
		snprintf(name, sizeof(name), "%s.abi0", f.name);
		if (gopclntab__find(p, f.name, &first) == 0 &&
		    goelf__symbol(g, name, &abi0, NULL) == 0 && abi0 == f.entry) {
			dups++;
			continue;
		}
		/*
		 * Go 1.27 names closures of distinct generic instantiations alike
		 * (crypto/internal/fips140hash.UnwrapNew[go.shape...].func1, one
		 * per shape): the symbol table keeps the name once, at one of them.
		 */
		if (same_name_at(p, f.name, addr)) {
			dups++;
			continue;
		}
		if (bad++ < 5)
			CHECK(0, "%s: '%s' pclntab 0x%llx, symtab 0x%llx", what, f.name,
			      (unsigned long long)f.entry, (unsigned long long)addr);
	}
	CHECK_INT(bad, 0);
	CHECK(dups < 100, "%s: %d ABI0 duplicates", what, dups);
	CHECK(matched > n * 9 / 10, "%s: only %d of %d functions have symbols", what, matched, n);
}

static struct gopclntab *open_checked(const char *path, struct goelf **gp, const char *what)
{
	struct gopclntab *p;
	int err;

	*gp = goelf__open(path, &err);
	CHECK(*gp != NULL, "%s: goelf__open: %s", what, cp_lasterr());
	if (!*gp)
		return NULL;
	p = gopclntab__open(*gp, &err);
	CHECK(p != NULL, "%s: gopclntab__open: %s", what, cp_lasterr());
	return p;
}

/* The same table as REF, entry for entry. */
static void check_same(const struct gopclntab *p, const struct gopclntab *ref, const char *what)
{
	int i, n = gopclntab__func_count(ref), bad = 0;
	struct gofunc a, b;

	CHECK_INT(gopclntab__func_count(p), n);
	CHECK(gopclntab__text_start(p) == gopclntab__text_start(ref), "%s: text 0x%llx vs 0x%llx",
	      what, (unsigned long long)gopclntab__text_start(p),
	      (unsigned long long)gopclntab__text_start(ref));
	if (gopclntab__func_count(p) != n)
		return;
	for (i = 0; i < n; i++) {
		gopclntab__func(p, i, &a);
		gopclntab__func(ref, i, &b);
		if ((a.entry != b.entry || strcmp(a.name, b.name)) && bad++ < 3)
			CHECK(0, "%s: function %d '%s' 0x%llx vs '%s' 0x%llx", what, i, a.name,
			      (unsigned long long)a.entry, b.name, (unsigned long long)b.entry);
	}
	CHECK_INT(bad, 0);
}

/* Write a mutated copy of PATH; returns the copy's path. */
static const char *mutate(const char *path, const char *name,
			  size_t (*fn)(unsigned char *buf, size_t len, const struct goelf *g))
{
	static char copy[4096];
	unsigned char *buf;
	struct goelf *g;
	size_t len;
	int err;

	snprintf(copy, sizeof(copy), "%s/%s", tmpdir, name);
	buf = slurp(path, &len);
	g = goelf__open(path, &err);
	if (!buf || !g) {
		free(buf);
		goelf__close(g);
		return NULL;
	}
	len = fn(buf, len, g);
	spit(copy, buf, len);
	free(buf);
	goelf__close(g);
	return copy;
}

static size_t zero_textstart(unsigned char *buf, size_t len, const struct goelf *g)
{
	const struct goelf_section *s = goelf__section(g, ".gopclntab");

	memset(buf + s->offset + 24, 0, 8); /* pcHeader: magic..ptrSize, nfunc, nfiles, textStart */
	return len;
}

static size_t rename_section(unsigned char *buf, size_t len, const struct goelf *g)
{
	unsigned char *p = memmem(buf, len, ".gopclntab\0", 11);

	/* the section name string table: the header is there, its name is not */
	while (p) {
		p[1] = 'x';
		p = memmem(p + 1, len - (p + 1 - buf), ".gopclntab\0", 11);
	}
	return len;
}

static size_t truncate_in_pclntab(unsigned char *buf, size_t len, const struct goelf *g)
{
	const struct goelf_section *s = goelf__section(g, ".gopclntab");

	return s->offset + s->size / 2;
}

static size_t flip_magic(unsigned char *buf, size_t len, const struct goelf *g)
{
	const struct goelf_section *s = goelf__section(g, ".gopclntab");

	memcpy(buf + s->offset, "\xfb\xff\xff\xff", 4); /* the Go 1.2-1.15 magic */
	return len;
}

static size_t bad_magic(unsigned char *buf, size_t len, const struct goelf *g)
{
	const struct goelf_section *s = goelf__section(g, ".gopclntab");

	memcpy(buf + s->offset, "\x78\x56\x34\x12", 4);
	return len;
}

static size_t huge_nfunc(unsigned char *buf, size_t len, const struct goelf *g)
{
	const struct goelf_section *s = goelf__section(g, ".gopclntab");

	memset(buf + s->offset + 8, 0x7f, 8);
	return len;
}

static void test_fixture(const char *dir, const struct fixture *fx, struct gopclntab **keep,
			 struct goelf **keepg)
{
	char path[4096];
	const struct goelf_section *text;
	struct gopclntab *p, *q;
	struct goelf *g, *g2;
	const char *copy;
	uint64_t sym;
	size_t i;
	struct gofunc f;

	if (snprintf(path, sizeof(path), "%s/%s", dir, fx->file) >= (int)sizeof(path))
		return;
	p = open_checked(path, &g, fx->file);
	if (!p) {
		goelf__close(g);
		return;
	}
	CHECK(gopclntab__func_count(p) > 1000, "%s: %d functions", fx->file, gopclntab__func_count(p));
	CHECK(gopclntab__magic(p) == 0xfffffff0u || gopclntab__magic(p) == 0xfffffff1u,
	      "%s: magic 0x%x", fx->file, gopclntab__magic(p));
	for (i = 0; i < sizeof(http_funcs) / sizeof(http_funcs[0]); i++) {
		char buf[256];
		const char *name = http_funcs[i];
		int ma = 0, mi = 0;

		if (go_version_parse(fx->go_version, &ma, &mi) == 0 && mi >= 27)
			name = go127_name(name, buf, sizeof(buf));
		CHECK(gopclntab__find(p, name, &f) == 0 && strcmp(f.name, name) == 0 &&
		      f.end > f.entry && goelf__is_text(g, f.entry),
		      "%s: '%s' not found", fx->file, name);
	}
	CHECK(gopclntab__find(p, "net/http.serverHandler.ServeHTTPx", &f) == -ENOENT, "%s", fx->file);
	CHECK(gopclntab__find(p, "", &f) == -ENOENT, "%s", fx->file);
	CHECK(gopclntab__find(p, "main.main", &f) == 0, "%s: main.main", fx->file);
	check_roundtrip(p, fx->file);

	text = goelf__section(g, ".text");
	CHECK(text != NULL, "%s: .text", fx->file);
	if (!fx->stripped) {
		CHECK(goelf__symbol(g, "runtime.text", &sym, NULL) == 0, "%s", fx->file);
		CHECK(gopclntab__text_start(p) == sym, "%s: runtime.text 0x%llx, symtab says 0x%llx",
		      fx->file, (unsigned long long)gopclntab__text_start(p), (unsigned long long)sym);
		CHECK(strcmp(gopclntab__text_source(p), "pclntab header") == 0 ||
		      strcmp(gopclntab__text_source(p), "moduledata") == 0,
		      "%s: runtime.text from '%s'", fx->file, gopclntab__text_source(p));
		check_against_symtab(g, p, fx->file);
	}
	if (fx->cgo && text) {
		int bad = 0, n = gopclntab__func_count(p);

		CHECK(gopclntab__text_start(p) != text->addr, "%s: runtime.text == .text 0x%llx",
		      fx->file, (unsigned long long)text->addr);
		for (int k = 0; k < n; k++) {
			gopclntab__func(p, k, &f);
			if (f.entry < text->addr || f.entry >= text->addr + text->size)
				bad++;
		}
		CHECK_INT(bad, 0);
	}
	if (text)
		printf("  %-32s %-11s %5d funcs  .text 0x%llx  runtime.text 0x%llx (%s)\n", fx->file,
		       gopclntab__format(p), gopclntab__func_count(p), (unsigned long long)text->addr,
		       (unsigned long long)gopclntab__text_start(p), gopclntab__text_source(p));

	/* Go 1.26 layout: no textStart in the header, so the moduledata must answer. */
	copy = mutate(path, "no-textstart", zero_textstart);
	q = copy ? open_checked(copy, &g2, "no-textstart copy") : NULL;
	if (q) {
		CHECK(strcmp(gopclntab__text_source(q), "moduledata") == 0, "%s: no-textstart from '%s'",
		      fx->file, gopclntab__text_source(q));
		check_same(q, p, "no-textstart copy");
	}
	gopclntab__close(q);
	goelf__close(g2);

	/* No .gopclntab section header: symbols, or the magic and the moduledata. */
	copy = mutate(path, "renamed", rename_section);
	q = copy ? open_checked(copy, &g2, "renamed copy") : NULL;
	if (q) {
		CHECK(goelf__section(g2, ".gopclntab") == NULL, "%s: rename failed", fx->file);
		CHECK(gopclntab__addr(q) == gopclntab__addr(p), "%s: pclntab at 0x%llx, want 0x%llx",
		      fx->file, (unsigned long long)gopclntab__addr(q),
		      (unsigned long long)gopclntab__addr(p));
		check_same(q, p, "renamed copy");
	}
	gopclntab__close(q);
	goelf__close(g2);

	/* gopclntab__open_mem on the same bytes */
	{
		int err;
		const void *d = goelf__ptr(g, gopclntab__addr(p), gopclntab__size(p));

		q = gopclntab__open_mem(d, gopclntab__size(p), gopclntab__addr(p),
					gopclntab__text_start(p), &err);
		CHECK(q != NULL, "%s: open_mem: %s", fx->file, cp_lasterr());
		if (q)
			check_same(q, p, "open_mem");
		gopclntab__close(q);
	}

	*keep = p;
	*keepg = g;
}

static void expect_fail(const char *copy, const char *what, const char *want)
{
	struct gopclntab *p;
	struct goelf *g;
	int err = 0;

	CHECK(copy != NULL, "%s: no copy", what);
	if (!copy)
		return;
	g = goelf__open(copy, &err);
	if (!g) {
		/* acceptable for a truncated file, if it says why */
		CHECK(strstr(cp_lasterr(), want) || strstr(cp_lasterr(), "ELF"), "%s: '%s'", what,
		      cp_lasterr());
		return;
	}
	p = gopclntab__open(g, &err);
	CHECK(!p && err < 0, "%s: opened", what);
	CHECK(strstr(cp_lasterr(), want) != NULL, "%s: message '%s', want '%s'", what, cp_lasterr(), want);
	CHECK(strchr(cp_lasterr(), '\n') == NULL, "%s: message is not one line", what);
	gopclntab__close(p);
	goelf__close(g);
}

static void test_performance(const struct gopclntab *p)
{
	int i, n = gopclntab__func_count(p), lookups = 1000000;
	struct gofunc f;
	double t0, t1, t2;
	uint64_t lo, hi, sum = 0;

	gopclntab__func(p, 0, &f);
	lo = f.entry;
	hi = gopclntab__end_pc(p);
	t0 = now();
	for (i = 0; i < 20; i++)
		CHECK(gopclntab__find(p, http_funcs[i % 5], &f) == 0, "find");
	t1 = now();
	for (i = 0; i < lookups; i++) {
		uint64_t pc = lo + (uint64_t)i * 2654435761u % (hi - lo);

		if (gopclntab__lookup(p, pc, &f) == 0)
			sum += f.entry & 1;
	}
	t2 = now();
	printf("  perf: %d functions, 20 finds %.1f us, %d lookups %.1f ms (%.0f ns each)\n", n,
	       (t1 - t0) * 1e6, lookups, (t2 - t1) * 1e3, (t2 - t1) * 1e9 / lookups);
	CHECK((t2 - t1) * 1e9 / lookups < 5000, "lookup too slow");
	(void)sum;
}

int main(void)
{
	const char *dir = getenv("FIXTURES_DIR");
	struct fixture fx[64];
	struct gopclntab *tabs[64] = { 0 };
	struct goelf *elfs[64] = { 0 };
	struct gopclntab *p;
	struct goelf *g;
	char path[4096];
	int i, j, n, err;

	/* not Go: goelf opens it, gopclntab says why not */
	g = goelf__open("/bin/true", &err);
	CHECK(g != NULL, "/bin/true: %s", cp_lasterr());
	p = g ? gopclntab__open(g, &err) : NULL;
	CHECK(!p && err == -ENOENT, "/bin/true has a pclntab");
	CHECK(strcmp(cp_lasterr(), "no .gopclntab: not a Go binary") == 0, "message '%s'", cp_lasterr());
	gopclntab__close(p);
	goelf__close(g);
	gopclntab__close(NULL);

	/* in-memory oddities */
	{
		unsigned char hdr[128] = { 0xfb, 0xff, 0xff, 0xff, 0, 0, 1, 8 };

		p = gopclntab__open_mem(hdr, sizeof(hdr), 0x400000, 0, &err);
		CHECK(!p && err == -ENOTSUP && strstr(cp_lasterr(), "0xfffffffb") &&
		      strstr(cp_lasterr(), "Go 1.16 and newer"), "go1.2 magic: '%s'", cp_lasterr());
		memcpy(hdr, "\xf1\xff\xff\xff", 4);
		p = gopclntab__open_mem(hdr, sizeof(hdr), 0x400000, 0, &err);
		CHECK(!p && err == -EINVAL && strstr(cp_lasterr(), "corrupted pclntab:"), "zeros: '%s'",
		      cp_lasterr());
		p = gopclntab__open_mem(hdr, 5, 0x400000, 0, &err);
		CHECK(!p && strstr(cp_lasterr(), "corrupted pclntab:"), "short: '%s'", cp_lasterr());
	}

	if (!dir) {
		printf("test_gopclntab: FIXTURES_DIR is not set, skipping the Go fixture checks\n");
		return check_summary("test_gopclntab");
	}
	n = read_manifest(dir, fx, 64);
	CHECK(n > 0, "no fixtures in %s/manifest.tsv (%d)", dir, n);
	if (!mkdtemp(tmpdir)) {
		CHECK(0, "mkdtemp: %s", strerror(errno));
		return check_summary("test_gopclntab");
	}
	for (i = 0; i < n; i++)
		test_fixture(dir, &fx[i], &tabs[i], &elfs[i]);

	/* stripped and unstripped builds of one toolchain: same functions */
	for (i = 0; i < n; i++) {
		for (j = 0; j < n; j++) {
			int k, bad = 0;
			struct gofunc a, b;

			if (!tabs[i] || !tabs[j] || fx[i].stripped || !fx[j].stripped ||
			    fx[i].cgo != fx[j].cgo || strcmp(fx[i].go_version, fx[j].go_version))
				continue;
			CHECK_INT(gopclntab__func_count(tabs[j]), gopclntab__func_count(tabs[i]));
			if (gopclntab__func_count(tabs[j]) != gopclntab__func_count(tabs[i]))
				continue;
			for (k = 0; k < gopclntab__func_count(tabs[i]); k++) {
				gopclntab__func(tabs[i], k, &a);
				gopclntab__func(tabs[j], k, &b);
				if (strcmp(a.name, b.name) && bad++ < 3)
					CHECK(0, "%s vs %s: function %d '%s' vs '%s'", fx[i].file,
					      fx[j].file, k, a.name, b.name);
			}
			CHECK_INT(bad, 0);
		}
	}

	/* damaged copies of the first fixture */
	if (n > 0 && elfs[0]) {
		snprintf(path, sizeof(path), "%s/%s", dir, fx[0].file);
		expect_fail(mutate(path, "truncated", truncate_in_pclntab), "truncated copy", "truncated");
		expect_fail(mutate(path, "go12magic", flip_magic), "go1.2 magic copy",
			    "unsupported pclntab magic 0xfffffffb (Go 1.2-1.15)");
		expect_fail(mutate(path, "badmagic", bad_magic), "bad magic copy",
			    "unsupported pclntab magic 0x12345678");
		expect_fail(mutate(path, "nfunc", huge_nfunc), "huge nfunc copy", "corrupted pclntab:");
		test_performance(tabs[0]);
	}

	for (i = 0; i < n; i++) {
		gopclntab__close(tabs[i]);
		goelf__close(elfs[i]);
	}
	snprintf(path, sizeof(path), "rm -rf '%s'", tmpdir);
	if (system(path))
		fprintf(stderr, "cannot remove %s\n", tmpdir);
	return check_summary("test_gopclntab");
}
