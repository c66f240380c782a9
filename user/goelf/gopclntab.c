// SPDX-License-Identifier: MIT
/*
 * gopclntab: Go's function table, read so that stripped Go binaries can
 * be probed and symbolized. Layouts follow src/runtime/symtab.go
 * (pcHeader, functab, _func) and src/debug/gosym/pclntab.go:
 *
 *   pcHeader  magic u32, pad1, pad2, minLC, ptrSize,
 *             nfunc, nfiles, [textStart (1.18+)], funcnameOffset,
 *             cuOffset, filetabOffset, pctabOffset, pclnOffset (uintptr)
 *   functab   at pclnOffset: nfunc pairs {entry, funcoff} and one final
 *             entry (end of text); uintptr fields in 1.16-1.17, u32 in
 *             1.18+ where entry is an offset from runtime.text
 *   _func     at pclnOffset+funcoff: entry (uintptr / u32 entryOff),
 *             nameOff int32 into funcnametab
 *
 * Every offset and count is checked against the bytes we have before it
 * is used, so a corrupted table is reported, not followed.
 *
 * runtime.text: 1.18-1.25 store it in pcHeader.textStart (a relocation,
 * so PIE files may hold 0 there plus an R_X86_64_RELATIVE addend). Go
 * 1.26 keeps the field but always writes 0 ("The next field used to be
 * textStart. This is no longer stored as it requires a relocation. Code
 * should use the moduledata text field instead." - runtime/symtab.go,
 * go1.26; the moduledata now sits in its own .go.module section). So
 * when the header has none we read runtime.firstmoduledata.text, found
 * as the data word that points at the pclntab (moduledata's first field
 * is pcHeader), and check it against the symbol table when one exists.
 */
#include <elf.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "goelf.h"
#include "gopclntab.h"
#include "log.h"

#define MAGIC_GO12  0xfffffffbu /* Go 1.2-1.15: not supported */
#define MAGIC_GO116 0xfffffffau
#define MAGIC_GO118 0xfffffff0u
#define MAGIC_GO120 0xfffffff1u

/*
 * runtime.moduledata (symtab.go, identical from go1.16 through go1.26 up
 * to etext): pcHeader *pcHeader; funcnametab, cutab, filetab, pctab,
 * pclntable, ftab []T; findfunctab, minpc, maxpc, text, etext uintptr.
 */
#define MD_PCHEADER   0
#define MD_PCLNTABLE  104
#define MD_MINPC      160
#define MD_MAXPC      168
#define MD_TEXT       176
#define MD_ETEXT      184
#define MD_SIZE       192

struct pfunc {
	uint64_t entry;
	uint32_t name;   /* offset of the name in data */
	int32_t funcoff; /* _func offset from pclnOffset */
};

struct gopclntab {
	const uint8_t *data;
	size_t len;
	uint64_t addr;
	uint32_t magic;
	uint64_t text_start;
	const char *text_source;
	uint64_t hdr_text;  /* pcHeader.textStart as stored (1.18+) */
	struct pfunc *funcs;
	int nfunc;
	uint64_t end_pc;
	int *by_name;       /* indexes into funcs, sorted by name */
	/* for line tables and inline trees (gopclntab__frames) */
	const struct goelf *g; /* NULL for gopclntab__open_mem */
	uint64_t off_funcname, off_cu, off_filetab, off_pctab, off_pcln;
	uint64_t gofunc;       /* go:func.* (1.18+ funcdata base), 0 if unknown */
};

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static const char *format_name(uint32_t magic)
{
	switch (magic) {
	case MAGIC_GO116: return "go1.16-1.17";
	case MAGIC_GO118: return "go1.18-1.19";
	case MAGIC_GO120: return "go1.20+";
	default:          return "unknown";
	}
}

static int check_magic(const uint8_t *d, size_t len, uint32_t *magic)
{
	if (len < 8) {
		cp_seterr("corrupted pclntab: %zu bytes, shorter than its header", len);
		return -EINVAL;
	}
	*magic = rd32(d);
	switch (*magic) {
	case MAGIC_GO116:
	case MAGIC_GO118:
	case MAGIC_GO120:
		break;
	case MAGIC_GO12:
		cp_seterr("unsupported pclntab magic 0x%08x (Go 1.2-1.15); supported: Go 1.16 and newer",
			  *magic);
		return -ENOTSUP;
	default:
		cp_seterr("unsupported pclntab magic 0x%08x (not a Go 1.16+ function table); "
			  "supported: Go 1.16 and newer", *magic);
		return -ENOTSUP;
	}
	/* pad1, pad2 = 0; minLC = 1 (PC quantum on x86); ptrSize = 8 */
	if (d[4] || d[5] || d[6] != 1 || d[7] != 8) {
		cp_seterr("corrupted pclntab: bad header (pad %u,%u, quantum %u, pointer size %u; "
			  "want 0,0, 1, 8 for x86-64)", d[4], d[5], d[6], d[7]);
		return -EINVAL;
	}
	return 0;
}

static int name_cmp(const void *a, const void *b, void *arg)
{
	const struct gopclntab *p = arg;
	int x = *(const int *)a, y = *(const int *)b;
	int c = strcmp((const char *)p->data + p->funcs[x].name,
		       (const char *)p->data + p->funcs[y].name);

	return c ? c : (x > y) - (x < y);
}

/*
 * Parse the table. TEXT is runtime.text for 1.18+ (0 = use the header's
 * value HDR_TEXT); for 1.16-1.17 entries are absolute and TEXT is unused.
 */
static int parse(struct gopclntab *p, uint64_t text)
{
	const uint8_t *d = p->data;
	size_t len = p->len, hdrsz, fs, nameoff_at;
	uint64_t nfunc, off_funcname, off_pcln, ftab_size, i, prev = 0;
	int ret;

	ret = check_magic(d, len, &p->magic);
	if (ret)
		return ret;
	if (p->magic == MAGIC_GO116) {
		hdrsz = 8 + 7 * 8;
		fs = 8;         /* functab field size */
		nameoff_at = 8; /* _func.nameoff after entry uintptr */
	} else {
		hdrsz = 8 + 8 * 8;
		fs = 4;
		nameoff_at = 4;
	}
	if (len < hdrsz) {
		cp_seterr("corrupted pclntab: %zu bytes, shorter than its %zu-byte header", len, hdrsz);
		return -EINVAL;
	}
	nfunc = rd64(d + 8);
	if (p->magic == MAGIC_GO116) {
		off_funcname = rd64(d + 24);
		p->off_cu = rd64(d + 32);
		p->off_filetab = rd64(d + 40);
		p->off_pctab = rd64(d + 48);
		off_pcln = rd64(d + 56);
	} else {
		p->hdr_text = rd64(d + 24);
		off_funcname = rd64(d + 32);
		p->off_cu = rd64(d + 40);
		p->off_filetab = rd64(d + 48);
		p->off_pctab = rd64(d + 56);
		off_pcln = rd64(d + 64);
	}
	p->off_funcname = off_funcname;
	p->off_pcln = off_pcln;
	if (off_funcname >= len || off_pcln >= len) {
		cp_seterr("corrupted pclntab: table offset past the end (funcname 0x%llx, pcln 0x%llx, size 0x%zx)",
			  (unsigned long long)off_funcname, (unsigned long long)off_pcln, len);
		return -EINVAL;
	}
	/* nfunc pairs plus the final end-of-text entry, all inside the data */
	if (nfunc == 0 || nfunc > (len - off_pcln) / (2 * fs)) {
		cp_seterr("corrupted pclntab: function count %llu does not fit in %zu bytes",
			  (unsigned long long)nfunc, len);
		return -EINVAL;
	}
	ftab_size = (nfunc * 2 + 1) * fs;
	if (ftab_size > len - off_pcln) {
		cp_seterr("corrupted pclntab: function table runs past the end");
		return -EINVAL;
	}
	if (p->magic != MAGIC_GO116) {
		if (!text)
			text = p->hdr_text;
		if (!text) {
			cp_seterr("pclntab header has no text start (Go 1.26+) and runtime.text is unknown");
			return -ENOENT;
		}
	}
	p->text_start = text;

	p->funcs = calloc(nfunc, sizeof(*p->funcs));
	p->by_name = calloc(nfunc, sizeof(*p->by_name));
	if (!p->funcs || !p->by_name)
		return -ENOMEM;
	for (i = 0; i <= nfunc; i++) {
		const uint8_t *ft = d + off_pcln + i * 2 * fs;
		uint64_t entry, funcoff, fentry, at;
		int32_t nameoff;
		const char *name;

		entry = fs == 8 ? rd64(ft) : text + rd32(ft);
		if (i && entry < prev) {
			cp_seterr("corrupted pclntab: function table not sorted at entry %llu",
				  (unsigned long long)i);
			return -EINVAL;
		}
		prev = entry;
		if (i == nfunc) {
			p->end_pc = entry;
			break;
		}
		funcoff = fs == 8 ? rd64(ft + fs) : rd32(ft + fs);
		/* _func record: entry field and nameOff must be inside */
		if (funcoff > len - off_pcln || len - off_pcln - funcoff < nameoff_at + 4) {
			cp_seterr("corrupted pclntab: function %llu record offset 0x%llx past the end",
				  (unsigned long long)i, (unsigned long long)funcoff);
			return -EINVAL;
		}
		at = off_pcln + funcoff;
		fentry = fs == 8 ? rd64(d + at) : text + rd32(d + at);
		if (fentry != entry) {
			cp_seterr("corrupted pclntab: function %llu entry 0x%llx disagrees with its record (0x%llx)",
				  (unsigned long long)i, (unsigned long long)entry,
				  (unsigned long long)fentry);
			return -EINVAL;
		}
		nameoff = (int32_t)rd32(d + at + nameoff_at);
		if (nameoff < 0 || (uint64_t)nameoff >= len - off_funcname) {
			cp_seterr("corrupted pclntab: function %llu name offset %d past the end",
				  (unsigned long long)i, nameoff);
			return -EINVAL;
		}
		name = (const char *)d + off_funcname + nameoff;
		if (!memchr(name, '\0', len - off_funcname - nameoff)) {
			cp_seterr("corrupted pclntab: function %llu name not terminated",
				  (unsigned long long)i);
			return -EINVAL;
		}
		p->funcs[i].entry = entry;
		p->funcs[i].name = (uint32_t)(off_funcname + nameoff);
		p->funcs[i].funcoff = (int32_t)funcoff;
		if ((uint64_t)p->funcs[i].funcoff != funcoff || p->funcs[i].name != off_funcname + nameoff) {
			cp_seterr("corrupted pclntab: offsets of function %llu exceed 32 bits",
				  (unsigned long long)i);
			return -EINVAL;
		}
		p->by_name[i] = (int)i;
	}
	p->nfunc = (int)nfunc;
	qsort_r(p->by_name, p->nfunc, sizeof(*p->by_name), name_cmp, p);
	return 0;
}

struct gopclntab *gopclntab__open_mem(const void *data, size_t len, uint64_t section_addr,
				      uint64_t text_hint, int *err)
{
	struct gopclntab *p;
	int ret;

	*err = 0;
	if (len > INT32_MAX) {
		cp_seterr("corrupted pclntab: %zu bytes is too large", len);
		*err = -EINVAL;
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		*err = -ENOMEM;
		return NULL;
	}
	p->data = data;
	p->len = len;
	p->addr = section_addr;
	ret = parse(p, 0);
	if (ret == -ENOENT && text_hint) {
		/* header without textStart (Go 1.26+): the caller's runtime.text */
		free(p->funcs);
		free(p->by_name);
		p->funcs = NULL;
		p->by_name = NULL;
		ret = parse(p, text_hint);
		p->text_source = "caller";
	} else if (!ret) {
		p->text_source = "pclntab header";
		if (p->magic == MAGIC_GO116) {
			p->text_start = text_hint ? text_hint : p->funcs[0].entry;
			p->text_source = text_hint ? "caller" : "function table";
		}
	}
	if (ret) {
		gopclntab__close(p);
		*err = ret;
		return NULL;
	}
	return p;
}

/* --- finding things in the ELF file --------------------------------- */

/* File-backed bytes from VADDR to the end of its PT_LOAD segment. */
static size_t bytes_to_segment_end(const struct goelf *g, uint64_t vaddr)
{
	int i;

	for (i = 0; i < goelf__segment_count(g); i++) {
		const struct goelf_segment *s = goelf__segment_at(g, i);

		if (vaddr >= s->vaddr && vaddr - s->vaddr < s->filesz)
			return s->filesz - (vaddr - s->vaddr);
	}
	return 0;
}

/*
 * Is CAND runtime.firstmoduledata for the pclntab at PCLN? Its pcHeader
 * points at the pclntab, pclntable into it, and text..etext, minpc..maxpc
 * are ordered and inside executable code.
 */
static bool moduledata_text(const struct goelf *g, uint64_t cand, uint64_t pcln, size_t pcln_len,
			    uint64_t *text, uint64_t *minpc, uint64_t *maxpc)
{
	uint64_t hdr, tab, t, et, lo, hi;

	if (goelf__read_ptr(g, cand + MD_PCHEADER, &hdr) || hdr != pcln)
		return false;
	if (goelf__read_ptr(g, cand + MD_PCLNTABLE, &tab) || tab < pcln || tab - pcln >= pcln_len)
		return false;
	if (goelf__read_ptr(g, cand + MD_MINPC, &lo) || goelf__read_ptr(g, cand + MD_MAXPC, &hi) ||
	    goelf__read_ptr(g, cand + MD_TEXT, &t) || goelf__read_ptr(g, cand + MD_ETEXT, &et))
		return false;
	if (!t || t >= et || lo < t || hi > et || lo >= hi)
		return false;
	if (!goelf__is_text(g, t) || !goelf__is_text(g, et - 1))
		return false;
	*text = t;
	*minpc = lo;
	*maxpc = hi;
	return true;
}

static bool find_moduledata(const struct goelf *g, uint64_t pcln, size_t pcln_len,
			    uint64_t *text, uint64_t *minpc, uint64_t *maxpc, uint64_t *md)
{
	const struct goelf_section *s;
	uint64_t cand, where[16];
	int i, n;

	if (!goelf__symbol(g, "runtime.firstmoduledata", &cand, NULL) &&
	    moduledata_text(g, cand, pcln, pcln_len, text, minpc, maxpc)) {
		*md = cand;
		return true;
	}
	/* Go 1.26+: the moduledata has its own section */
	s = goelf__section(g, ".go.module");
	if (s && moduledata_text(g, s->addr, pcln, pcln_len, text, minpc, maxpc)) {
		*md = s->addr;
		return true;
	}
	/* PIE: the pointer is a relocation addend, the file holds 0 */
	n = goelf__relocs_to(g, pcln, where, 16);
	for (i = 0; i < n && i < 16; i++)
		if (moduledata_text(g, where[i] - MD_PCHEADER, pcln, pcln_len, text, minpc, maxpc)) {
			*md = where[i] - MD_PCHEADER;
			return true;
		}
	/* Otherwise scan writable data for the word equal to the pclntab address. */
	for (i = 0; i < goelf__segment_count(g); i++) {
		const struct goelf_segment *seg = goelf__segment_at(g, i);
		const uint8_t *d;
		uint64_t off;

		if ((seg->flags & (PF_W | PF_X)) != PF_W || !seg->filesz)
			continue;
		d = goelf__ptr(g, seg->vaddr, seg->filesz);
		if (!d)
			continue;
		for (off = (8 - seg->vaddr % 8) % 8; off + 8 <= seg->filesz; off += 8) {
			if (rd64(d + off) == pcln &&
			    moduledata_text(g, seg->vaddr + off, pcln, pcln_len, text, minpc, maxpc)) {
				*md = seg->vaddr + off;
				return true;
			}
		}
	}
	return false;
}

/*
 * No .gopclntab section header (some PIE/external links put the table
 * in .data.rel.ro, and stripped-of-headers files have none): try the
 * symbol table, then look for the header magic in read-only data and
 * accept it only if a moduledata points at it.
 */
static int find_pclntab(const struct goelf *g, uint64_t *addr, size_t *len)
{
	const struct goelf_section *s = goelf__section(g, ".gopclntab");
	uint64_t a, t, lo, hi, md;
	int i;

	if (s && s->type != SHT_NOBITS && goelf__ptr(g, s->addr, s->size)) {
		*addr = s->addr;
		*len = s->size;
		return 0;
	}
	if (s && s->type != SHT_NOBITS) {
		cp_seterr("truncated file: .gopclntab (offset 0x%llx, 0x%llx bytes) is not in the file",
			  (unsigned long long)s->offset, (unsigned long long)s->size);
		return -EINVAL;
	}
	if (!goelf__symbol(g, "runtime.pclntab", &a, NULL) ||
	    !goelf__symbol(g, "runtime.pcheader", &a, NULL)) {
		*addr = a;
		*len = bytes_to_segment_end(g, a);
		if (*len)
			return 0;
	}
	for (i = 0; i < goelf__segment_count(g); i++) {
		const struct goelf_segment *seg = goelf__segment_at(g, i);
		const uint8_t *d;
		uint64_t off;

		if (seg->flags & PF_X || !seg->filesz)
			continue;
		d = goelf__ptr(g, seg->vaddr, seg->filesz);
		if (!d)
			continue;
		for (off = (8 - seg->vaddr % 8) % 8; off + 16 <= seg->filesz; off += 8) {
			uint32_t m = rd32(d + off);

			if ((m != MAGIC_GO116 && m != MAGIC_GO118 && m != MAGIC_GO120) ||
			    d[off + 4] || d[off + 5] || d[off + 6] != 1 || d[off + 7] != 8)
				continue;
			a = seg->vaddr + off;
			if (find_moduledata(g, a, seg->filesz - off, &t, &lo, &hi, &md)) {
				*addr = a;
				*len = seg->filesz - off;
				return 0;
			}
		}
	}
	if (goelf__is_truncated(g))
		cp_seterr("truncated file: '%s' ends before its section headers or their names; copy it again",
			  goelf__path(g));
	else if (goelf__go_version(g))
		cp_seterr("no .gopclntab: Go build info says %s but no function table was found",
			  goelf__go_version(g));
	else
		cp_seterr("no .gopclntab: not a Go binary");
	return -ENOENT;
}

/*
 * go:func.* ("go.func.*" in 1.18-1.19): the base that 1.18+ funcdata
 * offsets are added to (runtime/symtab.go funcdata(): datap.gofunc + off).
 * From the symbol table when there is one, else moduledata.gofunc, which
 * sits after rodata at offset 304 in 1.18-1.19 and 320 from 1.20 (which
 * added covctrs, ecovctrs): symtab.go of go1.19 and go1.23; and at 344
 * from 1.27, whose moduledata adds typedesclen after types and itaboffset,
 * itabsize before rodata (symtab.go of go1.27.3). The magic is the same
 * from 1.20 on, so the release comes from the build info; without one,
 * both 1.20+ places are tried and only a value that passes the checks
 * below is taken. 0 if unknown: then no inline frames, which costs
 * detail, not correctness.
 */
#define MD_GOFUNC_118 304
#define MD_GOFUNC_120 320
#define MD_GOFUNC_127 344

/* moduledata.gofunc at AT, with moduledata.rodata just before it; 0 if implausible. */
static uint64_t gofunc_at(const struct goelf *g, uint64_t at)
{
	uint64_t a = 0, rodata = 0;

	if (goelf__read_ptr(g, at, &a) || goelf__read_ptr(g, at - 8, &rodata))
		return 0;
	/* gofunc lies in read-only data, after moduledata.rodata */
	if (!a || !rodata || a < rodata || !goelf__ptr(g, a, 1) || goelf__is_text(g, a))
		return 0;
	return a;
}

static uint64_t find_gofunc(const struct goelf *g, uint32_t magic, uint64_t md)
{
	uint64_t a = 0;
	int ma = 0, mi = 0;

	if (magic == MAGIC_GO116)
		return 0; /* absolute funcdata pointers, no base */
	if (!goelf__symbol(g, "go:func.*", &a, NULL) || !goelf__symbol(g, "go.func.*", &a, NULL))
		return a;
	if (!md)
		return 0;
	if (magic == MAGIC_GO118)
		return gofunc_at(g, md + MD_GOFUNC_118);
	if (goelf__go_version(g) && go_version_parse(goelf__go_version(g), &ma, &mi) == 0 && ma == 1)
		return gofunc_at(g, md + (mi >= 27 ? MD_GOFUNC_127 : MD_GOFUNC_120));
	return gofunc_at(g, md + MD_GOFUNC_120) ?: gofunc_at(g, md + MD_GOFUNC_127);
}

struct gopclntab *gopclntab__open(struct goelf *g, int *err)
{
	struct gopclntab *p = NULL;
	uint64_t addr, md_text = 0, md_min = 0, md_max = 0, sym_text = 0, hdr_text = 0, text = 0;
	uint64_t md = 0;
	const char *source = NULL;
	bool have_md, have_sym;
	size_t len;
	int ret, i;

	*err = 0;
	ret = find_pclntab(g, &addr, &len);
	if (ret)
		goto cleanup;
	if (len > INT32_MAX) {
		cp_seterr("corrupted pclntab: %zu bytes is too large", len);
		ret = -EINVAL;
		goto cleanup;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		ret = -ENOMEM;
		goto cleanup;
	}
	p->data = goelf__ptr(g, addr, len);
	p->len = len;
	p->addr = addr;
	ret = check_magic(p->data, len, &p->magic);
	if (ret)
		goto cleanup;

	have_md = find_moduledata(g, addr, len, &md_text, &md_min, &md_max, &md);
	have_sym = goelf__symbol(g, "runtime.text", &sym_text, NULL) == 0;
	if (p->magic != MAGIC_GO116) {
		/* the header field as the loader will see it (relocated in PIE) */
		if (len >= 32 && goelf__read_ptr(g, addr + 24, &hdr_text))
			hdr_text = 0;
		if (hdr_text) {
			text = hdr_text;
			source = "pclntab header";
		} else if (have_md) {
			text = md_text;
			source = "moduledata";
		} else if (have_sym) {
			text = sym_text;
			source = "symtab";
		} else {
			cp_seterr("cannot find runtime.text: the pclntab header has none (Go 1.26+) "
				  "and neither runtime.firstmoduledata nor a symbol table was found");
			ret = -ENOENT;
			goto cleanup;
		}
		/* the runtime itself throws if header and moduledata differ */
		if (hdr_text && have_md && md_text != hdr_text)
			verbose("'%s': pclntab header text 0x%llx != moduledata text 0x%llx; ignoring moduledata\n",
				goelf__path(g), (unsigned long long)hdr_text,
				(unsigned long long)md_text);
		if (have_sym && sym_text != text) {
			verbose("'%s': runtime.text from %s is 0x%llx but the symbol table says 0x%llx; using the symbol\n",
				goelf__path(g), source, (unsigned long long)text,
				(unsigned long long)sym_text);
			text = sym_text;
			source = "symtab (disagreed with pclntab)";
		}
	}
	ret = parse(p, text);
	if (ret)
		goto cleanup;
	if (p->magic == MAGIC_GO116) {
		if (have_md) {
			p->text_start = md_text;
			source = "moduledata";
		} else if (have_sym) {
			p->text_start = sym_text;
			source = "symtab";
		} else {
			p->text_start = p->funcs[0].entry;
			source = "function table";
		}
	}
	p->text_source = source;

	/* A probe one byte off crashes the target: every entry must be code. */
	if (!goelf__is_text(g, p->text_start)) {
		cp_seterr("corrupted pclntab: runtime.text 0x%llx (from %s) is not in an executable segment",
			  (unsigned long long)p->text_start, source);
		ret = -EINVAL;
		goto cleanup;
	}
	for (i = 0; i < p->nfunc; i++) {
		if (!goelf__is_text(g, p->funcs[i].entry)) {
			cp_seterr("corrupted pclntab: function '%s' at 0x%llx is not in an executable segment",
				  (const char *)p->data + p->funcs[i].name,
				  (unsigned long long)p->funcs[i].entry);
			ret = -EINVAL;
			goto cleanup;
		}
	}
	if (have_md && p->magic != MAGIC_GO116 && md_text == p->text_start &&
	    (md_min != p->funcs[0].entry || md_max != p->end_pc))
		verbose("'%s': moduledata minpc/maxpc 0x%llx/0x%llx differ from the function table 0x%llx/0x%llx\n",
			goelf__path(g), (unsigned long long)md_min, (unsigned long long)md_max,
			(unsigned long long)p->funcs[0].entry, (unsigned long long)p->end_pc);
	p->g = g;
	p->gofunc = find_gofunc(g, p->magic, have_md ? md : 0);
	return p;

cleanup:
	gopclntab__close(p);
	*err = ret;
	return NULL;
}

void gopclntab__close(struct gopclntab *p)
{
	if (!p)
		return;
	free(p->funcs);
	free(p->by_name);
	free(p);
}

uint32_t gopclntab__magic(const struct gopclntab *p)
{
	return p ? p->magic : 0;
}

const char *gopclntab__format(const struct gopclntab *p)
{
	return p ? format_name(p->magic) : NULL;
}

uint64_t gopclntab__text_start(const struct gopclntab *p)
{
	return p ? p->text_start : 0;
}

const char *gopclntab__text_source(const struct gopclntab *p)
{
	return p ? p->text_source : NULL;
}

uint64_t gopclntab__addr(const struct gopclntab *p)
{
	return p ? p->addr : 0;
}

uint64_t gopclntab__size(const struct gopclntab *p)
{
	return p ? p->len : 0;
}

uint64_t gopclntab__end_pc(const struct gopclntab *p)
{
	return p ? p->end_pc : 0;
}

int gopclntab__func_count(const struct gopclntab *p)
{
	return p ? p->nfunc : 0;
}

int gopclntab__func(const struct gopclntab *p, int i, struct gofunc *out)
{
	if (!p || i < 0 || i >= p->nfunc)
		return -ERANGE;
	out->name = (const char *)p->data + p->funcs[i].name;
	out->entry = p->funcs[i].entry;
	out->end = i + 1 < p->nfunc ? p->funcs[i + 1].entry : p->end_pc;
	out->funcoff = p->funcs[i].funcoff;
	return 0;
}

int gopclntab__find(const struct gopclntab *p, const char *name, struct gofunc *out)
{
	int lo = 0, hi = p ? p->nfunc : 0;

	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;

		if (strcmp((const char *)p->data + p->funcs[p->by_name[mid]].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!p || lo >= p->nfunc ||
	    strcmp((const char *)p->data + p->funcs[p->by_name[lo]].name, name) != 0)
		return -ENOENT;
	return gopclntab__func(p, p->by_name[lo], out);
}

int gopclntab__lookup(const struct gopclntab *p, uint64_t pc, struct gofunc *out)
{
	int lo = 0, hi = p ? p->nfunc : 0;

	if (!p || !p->nfunc || pc < p->funcs[0].entry || pc >= p->end_pc)
		return -ENOENT;
	/* last function whose entry <= pc */
	while (hi - lo > 1) {
		int mid = lo + (hi - lo) / 2;

		if (p->funcs[mid].entry <= pc)
			lo = mid;
		else
			hi = mid;
	}
	return gopclntab__func(p, lo, out);
}

/* --- line tables and inline trees ------------------------------------ */

/*
 * _func fields after entry and nameOff (runtime2.go):
 *   1.16-1.17: entry uintptr, nameoff, args, deferreturn, pcsp, pcfile,
 *              pcln, npcdata, cuOffset, funcID u8, _ [2]byte, nfuncdata u8 (44 bytes)
 *   1.18-1.19: entryoff u32, nameoff, args, deferreturn, pcsp, pcfile,
 *              pcln, npcdata, cuOffset, funcID, flag, _, nfuncdata (40 bytes)
 *   1.20+:     as 1.18 with startLine int32 after cuOffset (44 bytes)
 * followed by pcdata [npcdata]uint32 (pctab offsets) and funcdata:
 * [nfuncdata]uint32 offsets from go:func.* (1.18+, ^0 = none), or
 * [nfuncdata]uintptr pointers aligned to 8 (1.16-1.17).
 */
#define PCDATA_INLTREEINDEX 2 /* runtime/symtab.go _PCDATA_InlTreeIndex */
#define FUNCDATA_INLTREE    3 /* runtime/symtab.go _FUNCDATA_InlTree */

struct funcinfo {
	const uint8_t *f;
	size_t at;       /* offset of the record in data */
	uint64_t entry;
	uint32_t pcfile, pcln, npcdata, cu;
	uint8_t nfuncdata;
	size_t pcdata;   /* offset of pcdata[0] in data */
};

static int get_funcinfo(const struct gopclntab *p, const struct gofunc *fn, struct funcinfo *fi)
{
	size_t hdr = p->magic == MAGIC_GO118 ? 40 : 44;
	const uint8_t *f;

	fi->at = p->off_pcln + (uint64_t)(uint32_t)fn->funcoff;
	if (fn->funcoff < 0 || fi->at > p->len || p->len - fi->at < hdr) {
		cp_seterr("corrupted pclntab: record of '%s' runs past the end", fn->name);
		return -EINVAL;
	}
	f = p->data + fi->at;
	fi->f = f;
	fi->entry = fn->entry;
	if (p->magic == MAGIC_GO116) {
		fi->pcfile = rd32(f + 24);
		fi->pcln = rd32(f + 28);
		fi->npcdata = rd32(f + 32);
		fi->cu = rd32(f + 36);
		fi->nfuncdata = f[43];
	} else {
		fi->pcfile = rd32(f + 20);
		fi->pcln = rd32(f + 24);
		fi->npcdata = rd32(f + 28);
		fi->cu = rd32(f + 32);
		fi->nfuncdata = f[hdr - 1];
	}
	fi->pcdata = fi->at + hdr;
	/* pcdata, and funcdata with the worst-case alignment pad */
	if (fi->npcdata > (p->len - fi->pcdata) / 4 ||
	    p->len - fi->pcdata - fi->npcdata * 4 < (size_t)fi->nfuncdata * 8 + 4) {
		if (fi->npcdata > (p->len - fi->pcdata) / 4) {
			cp_seterr("corrupted pclntab: '%s' has %u pcdata tables past the end",
				  fn->name, fi->npcdata);
			return -EINVAL;
		}
		fi->nfuncdata = 0; /* funcdata do not fit: treat as absent */
	}
	return 0;
}

/* Go's readvarint (symtab.go): up to 5 bytes into a uint32. */
static bool rd_uvarint(const struct gopclntab *p, uint64_t *pos, uint32_t *v)
{
	uint32_t shift = 0, r = 0;

	for (;;) {
		uint8_t b;

		if (*pos >= p->len || shift > 28)
			return false;
		b = p->data[(*pos)++];
		r |= (uint32_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			break;
		shift += 7;
	}
	*v = r;
	return true;
}

/*
 * Value of the pc-value table at pctab offset OFF for TARGET in the
 * function starting at ENTRY (runtime/symtab.go pcvalue/step): pairs of
 * zig-zag value delta and pc delta (times the quantum, 1 on x86), the
 * value starting at -1. false if the table is absent or ends first.
 */
static bool pcvalue(const struct gopclntab *p, uint32_t off, uint64_t entry, uint64_t target,
		    int32_t *out)
{
	uint64_t pos, pc = entry;
	uint32_t val = (uint32_t)-1, uvd, pcd;
	bool first = true;

	if (!off || p->off_pctab >= p->len || off >= p->len - p->off_pctab)
		return false;
	pos = p->off_pctab + off;
	for (;;) {
		if (!rd_uvarint(p, &pos, &uvd))
			return false;
		if (uvd == 0 && !first)
			return false;
		first = false;
		val += (uvd & 1) ? ~(uvd >> 1) : (uvd >> 1);
		if (!rd_uvarint(p, &pos, &pcd))
			return false;
		pc += pcd;
		if (target < pc) {
			*out = (int32_t)val;
			return true;
		}
	}
}

/* A NUL-terminated string at OFF of data, or NULL. */
static const char *str_at(const struct gopclntab *p, uint64_t off)
{
	if (off >= p->len || !memchr(p->data + off, '\0', p->len - off))
		return NULL;
	return (const char *)p->data + off;
}

static void fileline(const struct gopclntab *p, const struct funcinfo *fi, uint64_t pc,
		     const char **file, int *line)
{
	int32_t fno, ln;
	uint64_t at;

	*file = "";
	*line = 0;
	if (pcvalue(p, fi->pcln, fi->entry, pc, &ln) && ln > 0)
		*line = ln;
	if (!pcvalue(p, fi->pcfile, fi->entry, pc, &fno) || fno < 0)
		return;
	/* cutab[cuOffset + fileno] is the file's offset in filetab (^0: none) */
	at = p->off_cu + ((uint64_t)fi->cu + (uint64_t)fno) * 4;
	if (at < p->off_cu || at >= p->len || p->len - at < 4)
		return;
	if (rd32(p->data + at) != UINT32_MAX) {
		const char *f = str_at(p, p->off_filetab + rd32(p->data + at));

		if (f)
			*file = f;
	}
}

/* LEN bytes at virtual address VADDR: inside the table, or in the ELF file. */
static const uint8_t *vptr(const struct gopclntab *p, uint64_t vaddr, size_t len)
{
	if (vaddr >= p->addr && vaddr - p->addr <= p->len && p->len - (vaddr - p->addr) >= len)
		return p->data + (vaddr - p->addr);
	return p->g ? goelf__ptr(p->g, vaddr, len) : NULL;
}

/* Virtual address of funcdata[I] of the function, or 0. */
static uint64_t funcdata(const struct gopclntab *p, const struct funcinfo *fi, int i)
{
	size_t at = fi->pcdata + (size_t)fi->npcdata * 4;
	uint64_t v;
	uint32_t off;

	if (i >= fi->nfuncdata)
		return 0;
	if (p->magic != MAGIC_GO116) {
		off = rd32(p->data + at + (size_t)i * 4);
		if (off == UINT32_MAX || !p->gofunc)
			return 0;
		return p->gofunc + off;
	}
	/* 1.16-1.17: pointers, 8-aligned in memory (symtab.go funcdata) */
	if ((p->addr + at) & 4)
		at += 4;
	at += (size_t)i * 8;
	if (p->g && !goelf__read_ptr(p->g, p->addr + at, &v))
		return v;
	return rd64(p->data + at);
}

uint64_t gopclntab__gofunc(const struct gopclntab *p)
{
	return p ? p->gofunc : 0;
}

void gopclntab__set_gofunc(struct gopclntab *p, uint64_t gofunc)
{
	if (p)
		p->gofunc = gofunc;
}

int gopclntab__fileline(const struct gopclntab *p, uint64_t pc, const char **file, int *line)
{
	struct funcinfo fi;
	struct gofunc fn;
	int ret;

	if (!p || !file || !line) {
		cp_seterr("gopclntab__fileline: no table or no output");
		return -EINVAL;
	}
	ret = gopclntab__lookup(p, pc, &fn);
	if (ret) {
		cp_seterr("no function at 0x%llx", (unsigned long long)pc);
		return ret;
	}
	ret = get_funcinfo(p, &fn, &fi);
	if (ret)
		return ret;
	fileline(p, &fi, pc, file, line);
	return 0;
}

/*
 * Frames at PC, innermost first, as the runtime's traceback does
 * (runtime/symtabinl.go inlineUnwinder for 1.20+; traceback.go's loop in
 * 1.16-1.19): pcdata InlTreeIndex at PC is an index into the function's
 * inline tree, or -1 for code of the function itself; an entry names the
 * inlined function and parentPc, the offset from entry of an instruction
 * whose position is the call site, where the lookup repeats. inlinedCall
 * is {funcID u8, _ [3]byte, nameOff, parentPc, startLine int32} (16 bytes)
 * in 1.20+ and {parent int16, funcID u8, _ u8, file, line, func_ (nameoff),
 * parentPc int32} (20 bytes) in 1.16-1.19. Each frame's file:line is the
 * pcln/pcfile value at its PC. The physical function is always the last
 * frame written, even when MAX cuts the inline chain.
 */
int gopclntab__frames(const struct gopclntab *p, uint64_t pc, struct gofunc_frame *out, int max)
{
	size_t esz = p && p->magic == MAGIC_GO120 ? 16 : 20;
	uint64_t inl = 0, cur = pc;
	struct funcinfo fi;
	struct gofunc fn;
	int n = 0, ret;

	if (!p || !out || max < 1) {
		cp_seterr("gopclntab__frames: no table or no room for frames");
		return -EINVAL;
	}
	ret = gopclntab__lookup(p, pc, &fn);
	if (ret) {
		cp_seterr("no function at 0x%llx", (unsigned long long)pc);
		return ret;
	}
	if (get_funcinfo(p, &fn, &fi)) {
		out[0] = (struct gofunc_frame){ .name = fn.name, .file = "", .line = 0 };
		return 1;
	}
	if (fi.npcdata > PCDATA_INLTREEINDEX)
		inl = funcdata(p, &fi, FUNCDATA_INLTREE);
	while (n < max - 1 && inl) {
		uint32_t taboff = rd32(p->data + fi.pcdata + PCDATA_INLTREEINDEX * 4);
		const uint8_t *e;
		int32_t ix, nameoff, parent;
		const char *name;

		if (!pcvalue(p, taboff, fi.entry, cur, &ix) || ix < 0)
			break;
		e = vptr(p, inl + (uint64_t)ix * esz, esz);
		if (!e)
			break;
		nameoff = (int32_t)rd32(e + (esz == 16 ? 4 : 12));
		parent = (int32_t)rd32(e + (esz == 16 ? 8 : 16));
		name = nameoff >= 0 ? str_at(p, p->off_funcname + (uint64_t)nameoff) : NULL;
		if (!name)
			break;
		out[n].name = name;
		out[n].inlined = true;
		fileline(p, &fi, cur, &out[n].file, &out[n].line);
		n++;
		/* the call site must be inside the function itself */
		if (parent < 0 || fi.entry + (uint64_t)parent >= fn.end)
			break;
		cur = fi.entry + (uint64_t)parent;
	}
	out[n].name = fn.name;
	out[n].inlined = false;
	fileline(p, &fi, cur, &out[n].file, &out[n].line);
	return n + 1;
}
