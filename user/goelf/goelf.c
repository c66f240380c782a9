// SPDX-License-Identifier: MIT
/*
 * goelf: what cpprof needs to know about an ELF executable as a Go
 * program. The file is opened once with libelf (ELF_C_READ_MMAP) and all
 * later reads go through elf_rawfile()'s image, bounds-checked against
 * the file size, so a truncated or hostile file yields an error, never a
 * read past the mapping.
 *
 * Go build info follows src/debug/buildinfo/buildinfo.go (Go 1.22):
 * a 32-byte header "\xff Go buildinf:", pointer size, flags; with flag
 * bit 2 (Go 1.18+) two varint-length strings follow the header inline,
 * otherwise (Go 1.13-1.17) two pointers to Go string headers.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "goelf.h"
#include "log.h"

#ifndef SHT_RELR
#define SHT_RELR 19
#endif

/* src/debug/buildinfo/buildinfo.go: buildInfoMagic, buildInfoAlign, buildInfoSize */
static const char buildinfo_magic[14] = "\xff Go buildinf:";
#define BUILDINFO_ALIGN 16
#define BUILDINFO_HDR   32
/*
 * debug/buildinfo reads only the first 64 KiB of the data segment, but
 * in external (cgo) links .data precedes .go.buildinfo there and may be
 * larger than that: scan the whole segment, up to this much.
 */
#define BUILDINFO_SCAN  (256u << 20)
/* No sane modinfo is larger; kube-apiserver's is ~30 KiB. */
#define BUILDINFO_MAXSTR (16u << 20)

/* Note types: elf.h NT_GNU_BUILD_ID; Go's ELF_NOTE_GOBUILDID_TAG (cmd/link/internal/ld/elf.go) */
#define NT_GO_BUILDID 4

struct goelf_sym {
	const char *name;
	uint64_t addr;
	uint64_t size;
	int order; /* position in the tables: .symtab entries win over .dynsym */
};

struct goelf_reloc {
	uint64_t where;
	uint64_t addend;
};

struct goelf {
	char *path;
	int fd;
	Elf *elf;
	const uint8_t *raw;
	size_t rawsz;
	bool pie;
	bool shdrs_cut; /* the section headers or their names lie past the end of the file */

	struct goelf_section *secs;
	int nsecs;
	struct goelf_segment *segs;
	int nsegs;

	struct goelf_sym *syms; /* sorted by name */
	int nsyms;
	bool has_symtab;

	struct goelf_reloc *relocs; /* R_X86_64_RELATIVE, sorted by where */
	int nrelocs;

	char *build_id;

	/* Go build info */
	bool has_buildinfo;
	char *go_version;
	char *modinfo; /* owned copy, split in place */
	const char *main_path;
	const char *main_version;  /* "mod" line's version, or NULL */
	char *ldflags;             /* "build -ldflags=..." setting, or NULL */
	struct goelf_module *mods;
	int nmods;

	/* goelf__open_buildinfo_mem: the bytes stand for [mem_addr, mem_addr+mem_len) */
	const uint8_t *mem;
	size_t mem_len;
	uint64_t mem_addr;
};

static int libelf_init(void)
{
	static int done;

	if (done)
		return 0;
	if (elf_version(EV_CURRENT) == EV_NONE) {
		cp_seterr("libelf initialisation failed: %s", elf_errmsg(-1));
		return -EINVAL;
	}
	done = 1;
	return 0;
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v; /* x86-64 only: little endian host and target */
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

const void *goelf__ptr(const struct goelf *g, uint64_t vaddr, size_t len)
{
	int i;

	if (!g)
		return NULL;
	if (g->mem) {
		if (vaddr < g->mem_addr || vaddr - g->mem_addr > g->mem_len ||
		    len > g->mem_len - (vaddr - g->mem_addr))
			return NULL;
		return g->mem + (vaddr - g->mem_addr);
	}
	for (i = 0; i < g->nsegs; i++) {
		const struct goelf_segment *s = &g->segs[i];
		uint64_t off;

		if (vaddr < s->vaddr || vaddr - s->vaddr >= s->filesz)
			continue;
		off = vaddr - s->vaddr;
		if (len > s->filesz - off)
			continue;
		off += s->offset;
		if (off > g->rawsz || len > g->rawsz - off)
			return NULL;
		return g->raw + off;
	}
	return NULL;
}

int goelf__read(const struct goelf *g, uint64_t vaddr, void *buf, size_t len)
{
	const void *p = goelf__ptr(g, vaddr, len);

	if (!p)
		return -EFAULT;
	memcpy(buf, p, len);
	return 0;
}

int goelf__read_ptr(const struct goelf *g, uint64_t vaddr, uint64_t *val)
{
	int lo = 0, hi = g ? g->nrelocs : 0;
	const uint8_t *p;

	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;

		if (g->relocs[mid].where < vaddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (g && lo < g->nrelocs && g->relocs[lo].where == vaddr) {
		*val = g->relocs[lo].addend;
		return 0;
	}
	p = goelf__ptr(g, vaddr, 8);
	if (!p)
		return -EFAULT;
	*val = rd64(p);
	return 0;
}

int goelf__relocs_to(const struct goelf *g, uint64_t value, uint64_t *where, int max)
{
	int i, n = 0;

	for (i = 0; g && i < g->nrelocs; i++) {
		if (g->relocs[i].addend != value)
			continue;
		if (n < max)
			where[n] = g->relocs[i].where;
		n++;
	}
	return n;
}

int goelf__vaddr_to_offset(const struct goelf *g, uint64_t vaddr, uint64_t *off)
{
	int i;

	for (i = 0; g && i < g->nsegs; i++) {
		const struct goelf_segment *s = &g->segs[i];

		if (!(s->flags & PF_X))
			continue;
		if (vaddr < s->vaddr || vaddr - s->vaddr >= s->filesz)
			continue;
		*off = vaddr - s->vaddr + s->offset;
		return 0;
	}
	return -ENOENT;
}

bool goelf__is_text(const struct goelf *g, uint64_t vaddr)
{
	uint64_t off;

	return goelf__vaddr_to_offset(g, vaddr, &off) == 0;
}

const char *goelf__path(const struct goelf *g)
{
	return g ? g->path : NULL;
}

const char *goelf__build_id(const struct goelf *g)
{
	return g ? g->build_id : NULL;
}

bool goelf__is_pie(const struct goelf *g)
{
	return g && g->pie;
}

const struct goelf_section *goelf__section(const struct goelf *g, const char *name)
{
	int i;

	for (i = 0; g && i < g->nsecs; i++)
		if (strcmp(g->secs[i].name, name) == 0)
			return &g->secs[i];
	return NULL;
}

bool goelf__is_go(const struct goelf *g)
{
	return g && (g->has_buildinfo || goelf__section(g, ".gopclntab"));
}

int goelf__section_count(const struct goelf *g)
{
	return g ? g->nsecs : 0;
}

const struct goelf_section *goelf__section_at(const struct goelf *g, int i)
{
	return g && i >= 0 && i < g->nsecs ? &g->secs[i] : NULL;
}

int goelf__segment_count(const struct goelf *g)
{
	return g ? g->nsegs : 0;
}

const struct goelf_segment *goelf__segment_at(const struct goelf *g, int i)
{
	return g && i >= 0 && i < g->nsegs ? &g->segs[i] : NULL;
}

bool goelf__has_symtab(const struct goelf *g)
{
	return g && g->has_symtab;
}

bool goelf__is_truncated(const struct goelf *g)
{
	return g && g->shdrs_cut;
}

bool goelf__has_dwarf(const struct goelf *g)
{
	return goelf__section(g, ".debug_info") || goelf__section(g, ".zdebug_info");
}

int goelf__symbol(const struct goelf *g, const char *name, uint64_t *addr, uint64_t *size)
{
	int lo = 0, hi = g ? g->nsyms : 0;

	/* lower bound: the first entry of equal names is the .symtab one */
	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;

		if (strcmp(g->syms[mid].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!g || lo >= g->nsyms || strcmp(g->syms[lo].name, name) != 0)
		return -ENOENT;
	if (addr)
		*addr = g->syms[lo].addr;
	if (size)
		*size = g->syms[lo].size;
	return 0;
}

const char *goelf__go_version(const struct goelf *g)
{
	return g ? g->go_version : NULL;
}

const char *goelf__main_version(const struct goelf *g)
{
	return g ? g->main_version : NULL;
}

const char *goelf__ldflags(const struct goelf *g)
{
	return g ? g->ldflags : NULL;
}

const char *goelf__main_path(const struct goelf *g)
{
	return g ? g->main_path : NULL;
}

int goelf__module_count(const struct goelf *g)
{
	return g ? g->nmods : 0;
}

const struct goelf_module *goelf__module(const struct goelf *g, int i)
{
	return g && i >= 0 && i < g->nmods ? &g->mods[i] : NULL;
}

const struct goelf_module *goelf__find_module(const struct goelf *g, const char *path)
{
	int i;

	for (i = 0; g && i < g->nmods; i++)
		if (strcmp(g->mods[i].path, path) == 0)
			return &g->mods[i];
	return NULL;
}

int go_version_parse(const char *s, int *major, int *minor)
{
	long ma, mi = 0;
	char *end;

	if (!s)
		return -EINVAL;
	/* "devel go1.23-abc Tue ..." from a development toolchain */
	if (strncmp(s, "devel ", 6) == 0)
		s += 6;
	if (strncmp(s, "go", 2) != 0 || s[2] < '0' || s[2] > '9')
		return -EINVAL;
	errno = 0;
	ma = strtol(s + 2, &end, 10);
	if (errno || ma < 0 || ma > 1000)
		return -EINVAL;
	if (*end == '.') {
		if (end[1] < '0' || end[1] > '9')
			return -EINVAL;
		mi = strtol(end + 1, &end, 10);
		if (errno || mi < 0 || mi > 100000)
			return -EINVAL;
	}
	if (major)
		*major = (int)ma;
	if (minor)
		*minor = (int)mi;
	return 0;
}

/* --- Go build info --------------------------------------------------- */

/* src/debug/buildinfo/buildinfo.go decodeString: uvarint length, bytes */
static const uint8_t *decode_string(const uint8_t *p, const uint8_t *end,
				    const uint8_t **str, size_t *len)
{
	uint64_t n = 0;
	int shift;

	for (shift = 0; shift < 64; shift += 7) {
		if (p >= end)
			return NULL;
		n |= (uint64_t)(*p & 0x7f) << shift;
		if (!(*p++ & 0x80))
			break;
	}
	if (shift >= 64 || n > (uint64_t)(end - p))
		return NULL;
	*str = p;
	*len = n;
	return p + n;
}

/* Old format: ADDR holds a Go string header {data pointer, length}. */
static int read_go_string(const struct goelf *g, uint64_t addr, int ptrsize,
			  const uint8_t **str, size_t *len)
{
	uint64_t data, n;
	const uint8_t *p;

	if (ptrsize == 8) {
		if (goelf__read_ptr(g, addr, &data) || !(p = goelf__ptr(g, addr + 8, 8)))
			return -EFAULT;
		n = rd64(p);
	} else {
		if (!(p = goelf__ptr(g, addr, 8)))
			return -EFAULT;
		data = rd32(p);
		n = rd32(p + 4);
	}
	if (n > BUILDINFO_MAXSTR)
		return -EFAULT;
	p = goelf__ptr(g, data, n);
	if (!p && n)
		return -EFAULT;
	*str = p;
	*len = n;
	return 0;
}

static char *field(char **line)
{
	char *f = *line, *tab;

	if (!f)
		return NULL;
	tab = strchr(f, '\t');
	if (tab) {
		*tab = '\0';
		*line = tab + 1;
	} else {
		*line = NULL;
	}
	return f;
}

/*
 * modinfo text, as written by cmd/go/internal/modload (and read by
 * runtime/debug.ParseBuildInfo): "path\tP", "mod\tP\tV\tSUM",
 * "dep\tP\tV\tSUM", "=>\tP\tV\tSUM" (replaces the preceding mod/dep),
 * "build\tK=V" (1.18+).
 */
static int parse_modinfo(struct goelf *g, const uint8_t *mod, size_t len)
{
	char *line, *next;
	int cap = 0;

	g->modinfo = malloc(len + 1);
	if (!g->modinfo)
		return -ENOMEM;
	memcpy(g->modinfo, mod, len);
	g->modinfo[len] = '\0';

	for (line = g->modinfo; line; line = next) {
		char *rest = line, *kind, *p, *v;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		kind = field(&rest);
		if (strcmp(kind, "path") == 0) {
			p = field(&rest);
			if (p && *p)
				g->main_path = p;
		} else if (strcmp(kind, "mod") == 0) {
			p = field(&rest);
			v = field(&rest);
			if (v && *v)
				g->main_version = v;
		} else if (strcmp(kind, "build") == 0) {
			/* the rest of the line: "-ldflags=..." (values may hold tabs? no: quoted) */
			if (rest && strncmp(rest, "-ldflags=", 9) == 0)
				g->ldflags = rest + 9;
		} else if (strcmp(kind, "dep") == 0) {
			struct goelf_module *m;

			p = field(&rest);
			v = field(&rest);
			if (!p || !*p)
				continue;
			if (g->nmods == cap) {
				int ncap = cap ? cap * 2 : 32;
				void *n = realloc(g->mods, ncap * sizeof(*g->mods));

				if (!n)
					return -ENOMEM;
				g->mods = n;
				cap = ncap;
			}
			m = &g->mods[g->nmods++];
			m->path = p;
			m->version = v ? v : "";
			m->replace = NULL;
			m->replace_version = NULL;
		} else if (strcmp(kind, "=>") == 0) {
			/* a replacement of the main module ("mod") is not kept */
			if (g->nmods == 0 || !line[0])
				continue;
			p = field(&rest);
			v = field(&rest);
			g->mods[g->nmods - 1].replace = p;
			g->mods[g->nmods - 1].replace_version = v && *v ? v : NULL;
		}
	}
	return 0;
}

/*
 * Parse the build info blob in BLOB (LEN bytes at virtual address ADDR).
 * Searches 16-byte aligned offsets for the magic like debug/buildinfo.
 */
static int parse_buildinfo(struct goelf *g, const uint8_t *blob, size_t len, uint64_t addr)
{
	const uint8_t *d = NULL, *vers, *mod, *end = blob + len;
	size_t off, vlen, mlen;
	int ptrsize, err;

	for (off = 0; off + BUILDINFO_HDR <= len; off += BUILDINFO_ALIGN) {
		/* alignment is of the virtual address, as the linker aligns it */
		if ((addr + off) % BUILDINFO_ALIGN)
			off += BUILDINFO_ALIGN - (addr + off) % BUILDINFO_ALIGN;
		if (off + BUILDINFO_HDR > len)
			break;
		if (memcmp(blob + off, buildinfo_magic, sizeof(buildinfo_magic)) == 0) {
			d = blob + off;
			break;
		}
	}
	if (!d) {
		cp_seterr("no Go build info: magic '\\xff Go buildinf:' not found");
		return -ENOENT;
	}
	ptrsize = d[14];
	if (d[15] & 2) {
		/* Go 1.18+: inline varint-prefixed strings after the header */
		const uint8_t *p = decode_string(d + BUILDINFO_HDR, end, &vers, &vlen);

		if (!p || !decode_string(p, end, &mod, &mlen)) {
			cp_seterr("corrupted Go build info: string runs past the end");
			return -EINVAL;
		}
	} else {
		if (d[15] & 1) {
			cp_seterr("unsupported Go build info: big-endian");
			return -ENOTSUP;
		}
		if (ptrsize != 4 && ptrsize != 8) {
			cp_seterr("corrupted Go build info: pointer size %d", ptrsize);
			return -EINVAL;
		}
		{
			uint64_t va = addr + (uint64_t)(d - blob) + 16, vp, mp;

			if (goelf__read_ptr(g, va, &vp) ||
			    goelf__read_ptr(g, va + ptrsize, &mp)) {
				cp_seterr("corrupted Go build info: header truncated");
				return -EINVAL;
			}
			if (ptrsize == 4) {
				vp &= 0xffffffff;
				mp &= 0xffffffff;
			}
			if (read_go_string(g, vp, ptrsize, &vers, &vlen) ||
			    read_go_string(g, mp, ptrsize, &mod, &mlen)) {
				cp_seterr("corrupted Go build info: string pointer outside the file");
				return -EINVAL;
			}
		}
	}
	if (vlen == 0 || vlen > 256 || memchr(vers, '\0', vlen)) {
		cp_seterr("corrupted Go build info: bad Go version string");
		return -EINVAL;
	}
	g->go_version = strndup((const char *)vers, vlen);
	if (!g->go_version)
		return -ENOMEM;
	/* cmd/go/internal/modload infoStart/infoEnd: 16-byte sentinels */
	if (mlen >= 33 && mod[mlen - 17] == '\n') {
		mod += 16;
		mlen -= 32;
	} else {
		mlen = 0;
	}
	err = parse_modinfo(g, mod, mlen);
	if (err)
		return err;
	g->has_buildinfo = true;
	return 0;
}

struct goelf *goelf__open_buildinfo_mem(const void *data, size_t len, uint64_t addr, int *err)
{
	struct goelf *g = calloc(1, sizeof(*g));
	int ret;

	if (!g) {
		*err = -ENOMEM;
		return NULL;
	}
	g->fd = -1;
	g->mem = data;
	g->mem_len = len;
	g->mem_addr = addr;
	ret = parse_buildinfo(g, data, len, addr);
	if (ret) {
		goelf__close(g);
		*err = ret;
		return NULL;
	}
	/* nothing may point at the caller's bytes after return */
	g->mem = NULL;
	g->mem_len = 0;
	return g;
}

static void load_buildinfo(struct goelf *g)
{
	const struct goelf_section *s = goelf__section(g, ".go.buildinfo");
	const uint8_t *p;
	int i;

	if (s && s->type != SHT_NOBITS) {
		p = goelf__ptr(g, s->addr, s->size);
		if (p && parse_buildinfo(g, p, s->size, s->addr) == 0)
			return;
	}
	/*
	 * No section header (stripped of headers, or another layout): like
	 * debug/buildinfo's DataStart, look at the start of the first
	 * writable non-executable PT_LOAD segment.
	 */
	for (i = 0; i < g->nsegs; i++) {
		const struct goelf_segment *seg = &g->segs[i];
		size_t n;

		if ((seg->flags & (PF_X | PF_W)) != PF_W)
			continue;
		n = seg->filesz < BUILDINFO_SCAN ? seg->filesz : BUILDINFO_SCAN;
		p = goelf__ptr(g, seg->vaddr, n);
		if (p && parse_buildinfo(g, p, n, seg->vaddr) == 0)
			return;
		break;
	}
	cp_clearerr();
}

/* --- ELF tables ------------------------------------------------------- */

static int sym_cmp(const void *a, const void *b)
{
	const struct goelf_sym *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : (x->order > y->order) - (x->order < y->order);
}

static int reloc_cmp(const void *a, const void *b)
{
	const struct goelf_reloc *x = a, *y = b;

	return (x->where > y->where) - (x->where < y->where);
}

static int load_symbols(struct goelf *g, Elf_Scn *scn, const GElf_Shdr *sh, int *cap)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	size_t i, n;

	if (!data || !sh->sh_entsize || sh->sh_entsize != sizeof(Elf64_Sym))
		return 0; /* unreadable table: as if stripped */
	n = data->d_size / sh->sh_entsize;
	for (i = 1; i < n; i++) {
		GElf_Sym sym;
		const char *name;

		if (!gelf_getsym(data, (int)i, &sym) || sym.st_shndx == SHN_UNDEF || !sym.st_name)
			continue;
		name = elf_strptr(g->elf, sh->sh_link, sym.st_name);
		if (!name || !*name)
			continue;
		if (g->nsyms == *cap) {
			int ncap = *cap ? *cap * 2 : 1024;
			void *p = realloc(g->syms, ncap * sizeof(*g->syms));

			if (!p)
				return -ENOMEM;
			g->syms = p;
			*cap = ncap;
		}
		g->syms[g->nsyms].name = name;
		g->syms[g->nsyms].addr = sym.st_value;
		g->syms[g->nsyms].size = sym.st_size;
		g->syms[g->nsyms].order = g->nsyms;
		g->nsyms++;
	}
	return 0;
}

static int load_relocs(struct goelf *g, Elf_Scn *scn, const GElf_Shdr *sh, int *cap)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	size_t i, n;

	if (!data || sh->sh_entsize != sizeof(Elf64_Rela))
		return 0;
	n = data->d_size / sh->sh_entsize;
	for (i = 0; i < n; i++) {
		GElf_Rela r;

		if (!gelf_getrela(data, (int)i, &r) || GELF_R_TYPE(r.r_info) != R_X86_64_RELATIVE)
			continue;
		if (g->nrelocs == *cap) {
			int ncap = *cap ? *cap * 2 : 256;
			void *p = realloc(g->relocs, ncap * sizeof(*g->relocs));

			if (!p)
				return -ENOMEM;
			g->relocs = p;
			*cap = ncap;
		}
		g->relocs[g->nrelocs].where = r.r_offset;
		g->relocs[g->nrelocs].addend = (uint64_t)r.r_addend;
		g->nrelocs++;
	}
	return 0;
}

/* Parse an ELF note area; set build_id from a GNU or Go build id note. */
static void parse_notes(struct goelf *g, const uint8_t *p, size_t len, bool *gnu)
{
	size_t off = 0;

	while (off + 12 <= len) {
		uint32_t namesz = rd32(p + off), descsz = rd32(p + off + 4), type = rd32(p + off + 8);
		size_t name_off = off + 12, desc_off, nlen = ((size_t)namesz + 3) & ~(size_t)3;
		size_t dlen = ((size_t)descsz + 3) & ~(size_t)3;

		if (nlen > len - name_off)
			return;
		desc_off = name_off + nlen;
		if (descsz > len - desc_off)
			return;
		if (type == NT_GNU_BUILD_ID && namesz == 4 && memcmp(p + name_off, "GNU", 4) == 0 &&
		    descsz > 0 && descsz <= 64) {
			char *hex = malloc(descsz * 2 + 1);
			uint32_t i;

			if (!hex)
				return;
			for (i = 0; i < descsz; i++)
				sprintf(hex + 2 * i, "%02x", p[desc_off + i]);
			free(g->build_id);
			g->build_id = hex;
			*gnu = true;
			return;
		}
		/* cmd/link/internal/ld/elf.go: ELF_NOTE_GO_NAME is "Go\x00\x00" */
		if (type == NT_GO_BUILDID && (namesz == 3 || namesz == 4) &&
		    memcmp(p + name_off, "Go", 3) == 0 &&
		    !g->build_id && descsz > 0 && descsz <= 512) {
			g->build_id = strndup((const char *)p + desc_off, descsz);
		}
		if (dlen > len - desc_off)
			return;
		off = desc_off + dlen;
	}
}

/*
 * Open the file and check its ELF header: only x86-64 executables (static
 * or PIE) are ours. On error g is left for goelf__open to close.
 */
static int open_elf(struct goelf *g, const char *path)
{
	GElf_Ehdr eh;

	g->path = strdup(path);
	if (!g->path)
		return -ENOMEM;
	g->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (g->fd < 0) {
		int e = errno;

		cp_seterr("cannot open '%s': %s", path, strerror(e));
		return -e;
	}
	g->elf = elf_begin(g->fd, ELF_C_READ_MMAP, NULL);
	if (!g->elf || elf_kind(g->elf) != ELF_K_ELF) {
		cp_seterr("not an ELF file: '%s'", path);
		return -ENOEXEC;
	}
	g->raw = (const uint8_t *)elf_rawfile(g->elf, &g->rawsz);
	if (!g->raw || !gelf_getehdr(g->elf, &eh)) {
		cp_seterr("truncated ELF file: '%s'", path);
		return -ENOEXEC;
	}
	if (gelf_getclass(g->elf) != ELFCLASS64 || eh.e_machine != EM_X86_64 ||
	    eh.e_ident[EI_DATA] != ELFDATA2LSB) {
		cp_seterr("not an x86-64 executable: '%s' (ELF machine %u, class %u)",
			  path, eh.e_machine, eh.e_ident[EI_CLASS]);
		return -ENOEXEC;
	}
	if (eh.e_type != ET_EXEC && eh.e_type != ET_DYN) {
		cp_seterr("not an executable: '%s' (ELF type %u)", path, eh.e_type);
		return -ENOEXEC;
	}
	g->pie = eh.e_type == ET_DYN;
	/* Go's linker writes the section headers last: a cut file loses them all */
	g->shdrs_cut = eh.e_shoff && (eh.e_shoff > g->rawsz ||
				      (uint64_t)eh.e_shnum * eh.e_shentsize > g->rawsz - eh.e_shoff);
	return 0;
}

/* PT_LOAD segments: without one there is nothing to map addresses through. */
static int load_segments(struct goelf *g, const char *path, size_t *nph)
{
	size_t i;

	if (elf_getphdrnum(g->elf, nph)) {
		cp_seterr("truncated ELF file: '%s': %s", path, elf_errmsg(-1));
		return -ENOEXEC;
	}
	g->segs = calloc(*nph ? *nph : 1, sizeof(*g->segs));
	if (!g->segs)
		return -ENOMEM;
	for (i = 0; i < *nph; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(g->elf, (int)i, &ph)) {
			cp_seterr("truncated ELF file: '%s': bad program header %zu", path, i);
			return -ENOEXEC;
		}
		if (ph.p_type != PT_LOAD)
			continue;
		g->segs[g->nsegs].vaddr = ph.p_vaddr;
		g->segs[g->nsegs].offset = ph.p_offset;
		/* a truncated file backs only what it holds */
		if (ph.p_offset > g->rawsz)
			g->segs[g->nsegs].filesz = 0;
		else if (ph.p_filesz > g->rawsz - ph.p_offset)
			g->segs[g->nsegs].filesz = g->rawsz - ph.p_offset;
		else
			g->segs[g->nsegs].filesz = ph.p_filesz;
		g->segs[g->nsegs].memsz = ph.p_memsz;
		g->segs[g->nsegs].flags = ph.p_flags;
		g->nsegs++;
	}
	if (!g->nsegs) {
		cp_seterr("not an executable: '%s' has no PT_LOAD segment", path);
		return -ENOEXEC;
	}
	return 0;
}

/*
 * Sections are optional (a file may have none). Their walk also collects
 * R_X86_64_RELATIVE relocations and the build id from SHT_NOTE sections.
 */
static int load_sections(struct goelf *g, bool *gnu_id)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	int ret, relcap = 0, seccap = 0;

	if (elf_getshdrstrndx(g->elf, &shstrndx))
		shstrndx = SHN_UNDEF;
	/* Go 1.24's linker writes the section names (.shstrtab) last instead */
	if (shstrndx != SHN_UNDEF) {
		GElf_Shdr ssh;
		Elf_Scn *sscn = elf_getscn(g->elf, shstrndx);

		if (sscn && gelf_getshdr(sscn, &ssh) &&
		    (ssh.sh_offset > g->rawsz || ssh.sh_size > g->rawsz - ssh.sh_offset))
			g->shdrs_cut = true;
	}
	while ((scn = elf_nextscn(g->elf, scn))) {
		GElf_Shdr sh;
		const char *name;
		struct goelf_section *s;

		if (!gelf_getshdr(scn, &sh))
			continue;
		name = shstrndx != SHN_UNDEF ? elf_strptr(g->elf, shstrndx, sh.sh_name) : NULL;
		if (g->nsecs == seccap) {
			int ncap = seccap ? seccap * 2 : 64;
			void *p = realloc(g->secs, ncap * sizeof(*g->secs));

			if (!p)
				return -ENOMEM;
			g->secs = p;
			seccap = ncap;
		}
		s = &g->secs[g->nsecs];
		s->name = strdup(name ? name : "");
		if (!s->name)
			return -ENOMEM;
		g->nsecs++;
		s->addr = sh.sh_addr;
		s->offset = sh.sh_offset;
		s->size = sh.sh_size;
		s->type = sh.sh_type;
		s->flags = sh.sh_flags;
		/* sections that claim bytes past the end of the file are unreadable */
		if (sh.sh_type != SHT_NOBITS &&
		    (sh.sh_offset > g->rawsz || sh.sh_size > g->rawsz - sh.sh_offset))
			continue;

		if (sh.sh_type == SHT_SYMTAB)
			g->has_symtab = true;
		if (sh.sh_type == SHT_RELA) {
			ret = load_relocs(g, scn, &sh, &relcap);
			if (ret)
				return ret;
		}
		if (sh.sh_type == SHT_NOTE)
			parse_notes(g, g->raw + sh.sh_offset, sh.sh_size, gnu_id);
	}
	return 0;
}

static int load_symtabs(struct goelf *g)
{
	Elf_Scn *scn;
	int ret, symcap = 0, pass;

	/* .symtab entries first so that they win on equal names */
	for (pass = 0; pass < 2; pass++) {
		scn = NULL;
		while ((scn = elf_nextscn(g->elf, scn))) {
			GElf_Shdr sh;

			if (!gelf_getshdr(scn, &sh) ||
			    sh.sh_type != (pass == 0 ? SHT_SYMTAB : SHT_DYNSYM))
				continue;
			if (sh.sh_offset > g->rawsz || sh.sh_size > g->rawsz - sh.sh_offset)
				continue;
			ret = load_symbols(g, scn, &sh, &symcap);
			if (ret)
				return ret;
		}
	}
	return 0;
}

/* No build id note in the sections (or no sections): try PT_NOTE segments. */
static void load_note_segments(struct goelf *g, size_t nph, bool *gnu_id)
{
	size_t i;

	for (i = 0; i < nph; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(g->elf, (int)i, &ph) || ph.p_type != PT_NOTE)
			continue;
		if (ph.p_offset > g->rawsz || ph.p_filesz > g->rawsz - ph.p_offset)
			continue;
		parse_notes(g, g->raw + ph.p_offset, ph.p_filesz, gnu_id);
	}
}

struct goelf *goelf__open(const char *path, int *err)
{
	struct goelf *g;
	size_t nph = 0;
	int ret;
	bool gnu_id = false;

	*err = 0;
	ret = libelf_init();
	if (ret) {
		*err = ret;
		return NULL;
	}
	g = calloc(1, sizeof(*g));
	if (!g) {
		*err = -ENOMEM;
		return NULL;
	}
	g->fd = -1;
	ret = open_elf(g, path);
	if (!ret)
		ret = load_segments(g, path, &nph);
	if (!ret)
		ret = load_sections(g, &gnu_id);
	if (!ret)
		ret = load_symtabs(g);
	if (ret)
		goto cleanup;
	if (g->nsyms)
		qsort(g->syms, g->nsyms, sizeof(*g->syms), sym_cmp);
	if (g->nrelocs)
		qsort(g->relocs, g->nrelocs, sizeof(*g->relocs), reloc_cmp);
	if (!gnu_id && !g->build_id)
		load_note_segments(g, nph, &gnu_id);
	load_buildinfo(g);
	return g;

cleanup:
	goelf__close(g);
	*err = ret;
	return NULL;
}

void goelf__close(struct goelf *g)
{
	int i;

	if (!g)
		return;
	for (i = 0; i < g->nsecs; i++)
		free((char *)g->secs[i].name);
	free(g->secs);
	free(g->segs);
	free(g->syms);
	free(g->relocs);
	free(g->build_id);
	free(g->go_version);
	free(g->modinfo);
	free(g->mods);
	if (g->elf)
		elf_end(g->elf);
	if (g->fd >= 0)
		close(g->fd);
	free(g->path);
	free(g);
}
