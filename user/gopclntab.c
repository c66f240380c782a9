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
		off_pcln = rd64(d + 56);
	} else {
		p->hdr_text = rd64(d + 24);
		off_funcname = rd64(d + 32);
		off_pcln = rd64(d + 64);
	}
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
			    uint64_t *text, uint64_t *minpc, uint64_t *maxpc)
{
	const struct goelf_section *s;
	uint64_t cand, where[16];
	int i, n;

	if (!goelf__symbol(g, "runtime.firstmoduledata", &cand, NULL) &&
	    moduledata_text(g, cand, pcln, pcln_len, text, minpc, maxpc))
		return true;
	/* Go 1.26+: the moduledata has its own section */
	s = goelf__section(g, ".go.module");
	if (s && moduledata_text(g, s->addr, pcln, pcln_len, text, minpc, maxpc))
		return true;
	/* PIE: the pointer is a relocation addend, the file holds 0 */
	n = goelf__relocs_to(g, pcln, where, 16);
	for (i = 0; i < n && i < 16; i++)
		if (moduledata_text(g, where[i] - MD_PCHEADER, pcln, pcln_len, text, minpc, maxpc))
			return true;
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
			    moduledata_text(g, seg->vaddr + off, pcln, pcln_len, text, minpc, maxpc))
				return true;
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
	uint64_t a, t, lo, hi;
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
			if (find_moduledata(g, a, seg->filesz - off, &t, &lo, &hi)) {
				*addr = a;
				*len = seg->filesz - off;
				return 0;
			}
		}
	}
	if (goelf__go_version(g))
		cp_seterr("no .gopclntab: Go build info says %s but no function table was found",
			  goelf__go_version(g));
	else
		cp_seterr("no .gopclntab: not a Go binary");
	return -ENOENT;
}

struct gopclntab *gopclntab__open(struct goelf *g, int *err)
{
	struct gopclntab *p = NULL;
	uint64_t addr, md_text = 0, md_min = 0, md_max = 0, sym_text = 0, hdr_text = 0, text = 0;
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

	have_md = find_moduledata(g, addr, len, &md_text, &md_min, &md_max);
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
