// SPDX-License-Identifier: MIT
/*
 * offsets: the Go struct offsets the BPF side reads (http.Request.Method,
 * .URL, url.URL.Path, .RawQuery). Go structs have no BTF, so they come
 * from DWARF when the binary still has it (Go emits it zlib-compressed,
 * which libdw inflates by itself), else from a table generated per Go
 * minor version by tools/gen_offsets.sh.
 */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <fcntl.h>
#include <libelf.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "goelf.h"
#include "log.h"
#include "offsets.h"
#include "offsets_table.h"

#define NROWS (int)(sizeof(go_offsets_table) / sizeof(go_offsets_table[0]))

void offsets__table_range(int *min_minor, int *max_minor)
{
	*min_minor = go_offsets_table[0].minor;
	*max_minor = go_offsets_table[NROWS - 1].minor;
}

static const struct go_offsets_row *table_row(const char *go_version)
{
	int major, minor, i;

	if (!go_version || go_version_parse(go_version, &major, &minor) || major != 1)
		return NULL;
	for (i = 0; i < NROWS; i++)
		if (go_offsets_table[i].minor == minor)
			return &go_offsets_table[i];
	return NULL;
}

int offsets__from_table(const char *go_version, struct go_offsets *out)
{
	const struct go_offsets_row *r = table_row(go_version);
	int lo, hi;

	memset(out, 0, sizeof(*out));
	if (!r) {
		offsets__table_range(&lo, &hi);
		cp_seterr("Go version '%s' is outside the offsets table (go1.%d-go1.%d)",
			  go_version ? go_version : "(none)", lo, hi);
		return -ENOENT;
	}
	out->request_method = r->request_method;
	out->request_url = r->request_url;
	out->url_path = r->url_path;
	out->url_rawquery = r->url_rawquery;
	snprintf(out->source, sizeof(out->source), "table go1.%d", r->minor);
	return 0;
}

/* DW_AT_data_member_location of member NAME of struct DIE, or -1. */
static int member_offset(Dwarf_Die *st, const char *name)
{
	Dwarf_Die m;

	if (dwarf_child(st, &m) != 0)
		return -1;
	do {
		Dwarf_Attribute a;
		Dwarf_Word off;
		const char *n;

		if (dwarf_tag(&m) != DW_TAG_member)
			continue;
		n = dwarf_diename(&m);
		if (!n || strcmp(n, name))
			continue;
		/* Go writes a constant here (cmd/link/internal/ld/dwarf.go) */
		if (!dwarf_attr(&m, DW_AT_data_member_location, &a) || dwarf_formudata(&a, &off))
			return -1;
		return off > 0x7fffffff ? -1 : (int)off;
	} while (dwarf_siblingof(&m, &m) == 0);
	return -1;
}

int offsets__from_dwarf(struct goelf *g, struct go_offsets *out)
{
	Dwarf_Die req = { 0 }, url = { 0 };
	bool have_req = false, have_url = false;
	const char *path = goelf__path(g);
	Dwarf_Off off = 0, next;
	size_t hsize;
	Dwarf *dw = NULL;
	Elf *elf = NULL;
	int fd, err = 0;

	memset(out, 0, sizeof(*out));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		cp_seterr("cannot open '%s': %s", path, strerror(errno));
		return err;
	}
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf) {
		cp_seterr("'%s': %s", path, elf_errmsg(-1));
		err = -EINVAL;
		goto cleanup;
	}
	/* libdw inflates .zdebug_* and SHF_COMPRESSED sections itself */
	dw = dwarf_begin_elf(elf, DWARF_C_READ, NULL);
	if (!dw) {
		cp_seterr("'%s' has no DWARF", path);
		err = -ENOENT;
		goto cleanup;
	}
	/* Go puts each package's types at the top level of its compile unit */
	while (!(have_req && have_url) && dwarf_nextcu(dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
		Dwarf_Die cu, d;

		if (dwarf_offdie(dw, off + hsize, &cu) && dwarf_child(&cu, &d) == 0) {
			do {
				const char *n;

				if (dwarf_tag(&d) != DW_TAG_structure_type || !(n = dwarf_diename(&d)))
					continue;
				if (!have_req && !strcmp(n, "net/http.Request")) {
					req = d;
					have_req = true;
				} else if (!have_url && !strcmp(n, "net/url.URL")) {
					url = d;
					have_url = true;
				}
			} while (dwarf_siblingof(&d, &d) == 0);
		}
		off = next;
	}
	if (!have_req || !have_url) {
		cp_seterr("DWARF of '%s' has no %s type", path,
			  !have_req ? "'net/http.Request'" : "'net/url.URL'");
		err = -ENOENT;
		goto cleanup;
	}
	out->request_method = member_offset(&req, "Method");
	out->request_url = member_offset(&req, "URL");
	out->url_path = member_offset(&url, "Path");
	out->url_rawquery = member_offset(&url, "RawQuery");
	if (out->request_method < 0 || out->request_url < 0 || out->url_path < 0 ||
	    out->url_rawquery < 0) {
		cp_seterr("DWARF of '%s' lacks a field offset of net/http.Request or net/url.URL", path);
		err = -EINVAL;
		goto cleanup;
	}
	snprintf(out->source, sizeof(out->source), "DWARF");
cleanup:
	if (dw)
		dwarf_end(dw);
	if (elf)
		elf_end(elf);
	close(fd);
	return err;
}

int offsets__resolve(struct goelf *g, struct go_offsets *out)
{
	const char *ver = goelf__go_version(g);
	struct go_offsets tab;
	int err, terr, lo, hi;

	terr = offsets__from_table(ver, &tab);
	err = goelf__has_dwarf(g) ? offsets__from_dwarf(g, out) : -ENOENT;
	if (!err) {
		char diff[64] = "";

		if (terr) {
			snprintf(out->source, sizeof(out->source), "DWARF (Go version '%.32s' not in table)",
				 ver ? ver : "unknown");
			return 0;
		}
#define CMP(f) if (!diff[0] && out->f != tab.f) \
			snprintf(diff, sizeof(diff), #f " %d vs %d", out->f, tab.f)
		CMP(request_method);
		CMP(request_url);
		CMP(url_path);
		CMP(url_rawquery);
#undef CMP
		if (diff[0])
			snprintf(out->source, sizeof(out->source), "DWARF (table go1.%d differs: %.40s)",
				 table_row(ver)->minor, diff);
		else
			snprintf(out->source, sizeof(out->source), "DWARF (agrees with table go1.%d)",
				 table_row(ver)->minor);
		return 0;
	}
	if (!terr) {
		*out = tab;
		return 0;
	}
	offsets__table_range(&lo, &hi);
	memset(out, 0, sizeof(*out));
	cp_seterr("Go version '%s' is outside the offsets table (go1.%d-go1.%d) and the binary has "
		  "no DWARF to read them from", ver ? ver : "unknown", lo, hi);
	return -ENOTSUP;
}
