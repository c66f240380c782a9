// SPDX-License-Identifier: MIT
/*
 * symbolize: addresses of CPU samples to function names, for the
 * serialization-CPU profile.
 *
 * User address -> mapping of /proc/PID/maps (executable mappings only)
 * -> file offset (addr - start + offset) -> ELF virtual address through
 * the PT_LOAD segment holding that offset (the same formula for PIE and
 * non-PIE files, and for shared libraries) -> .gopclntab with inline
 * expansion for Go code, else the nearest preceding STT_FUNC symbol of
 * .symtab, then .dynsym, within its size. Anything else is one frame
 * "[unknown] FILE+0xOFFSET" (offset in the file), counted.
 *
 * Binaries: one struct bin per file content, found by (dev, inode) of the
 * mapping first (no open at all for a second process of the same file),
 * then by build id (a copy of the binary elsewhere), else by dev, inode
 * and mtime. Files are opened through /proc/PID/root/PATH (containers),
 * or /proc/PID/map_files/START-END when the file was deleted or replaced.
 *
 * Memory: bins and processes are few; strings are interned once (names
 * from .gopclntab point into the mapped file and need no copy); the
 * address cache is a fixed 64k-entry direct-mapped table of (binary,
 * address) -> frames, shared across processes; "[unknown] lib+0xOFF"
 * names are interned up to UNKNOWN_NAMES_MAX, then lose their offset.
 */
#include <ctype.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "goelf.h"
#include "gopclntab.h"
#include "log.h"
#include "symbolize.h"

#define CACHE_BITS         16      /* 64k entries */
#define CACHE_FRAMES       4       /* deeper inline chains are recomputed each time */
#define MAX_FRAMES         32      /* inline depth we expand at most */
#define MAPS_REREAD_NS     1000000000ull /* re-read maps on a miss at most once a second */
#define UNKNOWN_NAMES_MAX  65536

/* --- string interning --------------------------------------------------- */

struct strtab {
	char **slot;     /* open addressing */
	size_t cap, n;
	char *arena;     /* current block */
	size_t used, size;
	char **blocks;   /* all blocks, for free */
	size_t nblocks;
};

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	while (*s)
		h = (h ^ (uint8_t)*s++) * 1099511628211ull;
	return h;
}

static char *arena_copy(struct strtab *t, const char *s, size_t len)
{
	char *r;

	if (t->size - t->used < len + 1) {
		size_t sz = len + 1 > 65536 ? len + 1 : 65536;
		char **nb = realloc(t->blocks, (t->nblocks + 1) * sizeof(*nb));

		if (!nb)
			return NULL;
		t->blocks = nb;
		t->arena = malloc(sz);
		if (!t->arena)
			return NULL;
		t->blocks[t->nblocks++] = t->arena;
		t->used = 0;
		t->size = sz;
	}
	r = t->arena + t->used;
	memcpy(r, s, len);
	r[len] = '\0';
	t->used += len + 1;
	return r;
}

static const char *intern(struct strtab *t, const char *s)
{
	size_t i, mask;

	if (t->n * 2 >= t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 1024, j;
		char **ns = calloc(ncap, sizeof(*ns));

		if (!ns)
			return NULL;
		for (j = 0; j < t->cap; j++) {
			if (!t->slot[j])
				continue;
			for (i = hash_str(t->slot[j]) & (ncap - 1); ns[i]; i = (i + 1) & (ncap - 1))
				;
			ns[i] = t->slot[j];
		}
		free(t->slot);
		t->slot = ns;
		t->cap = ncap;
	}
	mask = t->cap - 1;
	for (i = hash_str(s) & mask; t->slot[i]; i = (i + 1) & mask)
		if (!strcmp(t->slot[i], s))
			return t->slot[i];
	t->slot[i] = arena_copy(t, s, strlen(s));
	if (!t->slot[i])
		return NULL;
	t->n++;
	return t->slot[i];
}

static void strtab_free(struct strtab *t)
{
	size_t i;

	for (i = 0; i < t->nblocks; i++)
		free(t->blocks[i]);
	free(t->blocks);
	free(t->slot);
}

/* --- binaries ----------------------------------------------------------- */

struct elfsym {
	uint64_t addr, size;
	const char *name;
};

struct bin {
	char key[96];            /* "build:<hex>" or "file:<dev>:<ino>:<mtime>" */
	dev_t dev;               /* of the first mapping that opened it */
	ino_t ino;
	const char *base;        /* file base name, interned */
	struct goelf *g;         /* NULL if it could not be opened */
	struct gopclntab *pcln;  /* NULL if not Go */
	char *path;              /* what was opened, for the lazy symbol read */
	struct elfsym *syms;     /* STT_FUNC, sorted by address */
	int nsyms;
	bool syms_loaded;
	struct bin *next;
};

struct mapping {
	uint64_t start, end, off;
	struct bin *bin;         /* NULL for anonymous executable memory */
	const char *base;        /* interned base name, "" if anonymous */
};

struct proc {
	int pid;
	struct mapping *maps;
	int nmaps;
	uint64_t read_ns;
	struct proc *next;
};

struct centry {
	const struct bin *bin;   /* NULL: empty */
	uint64_t pc;
	int n;
	struct sym_frame f[CACHE_FRAMES];
};

struct ksym {
	uint64_t addr;
	const char *name;
};

struct symbolizer {
	struct strtab strs;
	struct bin *bins;
	struct proc *procs;
	struct centry *cache;
	struct ksym *ksyms;
	int nksyms;
	bool ksyms_loaded, ksyms_zero;
	char *kallsyms_path;
	size_t unknown_names;
	struct sym_stats st;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

struct symbolizer *symbolizer__new(void)
{
	struct symbolizer *s = calloc(1, sizeof(*s));

	if (!s) {
		cp_seterr("out of memory");
		return NULL;
	}
	/* calloc of a large block is lazily zeroed pages: untouched entries cost nothing */
	s->cache = calloc((size_t)1 << CACHE_BITS, sizeof(*s->cache));
	if (!s->cache) {
		free(s);
		cp_seterr("out of memory for the symbol cache");
		return NULL;
	}
	return s;
}

static void bin_free(struct bin *b)
{
	gopclntab__close(b->pcln);
	goelf__close(b->g);
	free(b->syms);
	free(b->path);
	free(b);
}

static void proc_free(struct proc *p)
{
	free(p->maps);
	free(p);
}

void symbolizer__free(struct symbolizer *s)
{
	if (!s)
		return;
	while (s->bins) {
		struct bin *b = s->bins;

		s->bins = b->next;
		bin_free(b);
	}
	while (s->procs) {
		struct proc *p = s->procs;

		s->procs = p->next;
		proc_free(p);
	}
	free(s->cache);
	free(s->ksyms);
	free(s->kallsyms_path);
	strtab_free(&s->strs);
	free(s);
}

static int sym_cmp(const void *a, const void *b)
{
	const struct elfsym *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	/* sized symbols first among equals, so lookups prefer them */
	return (x->size < y->size) - (x->size > y->size);
}

/* Function symbols of .symtab and .dynsym (both: stripped libraries keep only .dynsym). */
static int load_syms(struct symbolizer *s, struct bin *b)
{
	Elf *e = NULL;
	Elf_Scn *scn = NULL;
	int fd, ret = 0, cap = 0;

	b->syms_loaded = true;
	if (!b->path)
		return -ENOENT;
	fd = open(b->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	elf_version(EV_CURRENT);
	e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!e) {
		ret = -EINVAL;
		goto cleanup;
	}
	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;
		size_t i, n;

		if (!gelf_getshdr(scn, &sh) || (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM))
			continue;
		d = elf_getdata(scn, NULL);
		if (!d || !sh.sh_entsize)
			continue;
		n = sh.sh_size / sh.sh_entsize;
		for (i = 0; i < n; i++) {
			GElf_Sym sym;
			const char *name;

			if (!gelf_getsym(d, (int)i, &sym) || !sym.st_value || sym.st_shndx == SHN_UNDEF)
				continue;
			if (GELF_ST_TYPE(sym.st_info) != STT_FUNC && GELF_ST_TYPE(sym.st_info) != STT_GNU_IFUNC)
				continue;
			name = elf_strptr(e, sh.sh_link, sym.st_name);
			if (!name || !*name)
				continue;
			if (b->nsyms == cap) {
				int ncap = cap ? cap * 2 : 256;
				struct elfsym *ns = realloc(b->syms, ncap * sizeof(*ns));

				if (!ns) {
					ret = -ENOMEM;
					goto cleanup;
				}
				b->syms = ns;
				cap = ncap;
			}
			b->syms[b->nsyms].addr = sym.st_value;
			b->syms[b->nsyms].size = sym.st_size;
			b->syms[b->nsyms].name = intern(&s->strs, name);
			if (!b->syms[b->nsyms].name) {
				ret = -ENOMEM;
				goto cleanup;
			}
			b->nsyms++;
		}
	}
	if (b->nsyms)
		qsort(b->syms, b->nsyms, sizeof(*b->syms), sym_cmp);
cleanup:
	if (e)
		elf_end(e);
	close(fd);
	return ret;
}

/* Nearest preceding function symbol that contains VADDR (size 0: up to the next symbol). */
static const struct elfsym *find_sym(const struct bin *b, uint64_t vaddr)
{
	int lo = 0, hi = b->nsyms, i;

	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;

		if (b->syms[mid].addr <= vaddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* lo-1 is the last symbol at or before vaddr; a few share an address */
	for (i = lo - 1; i >= 0 && i >= lo - 8; i--) {
		const struct elfsym *e = &b->syms[i];

		if (e->size ? vaddr - e->addr < e->size :
		    (i + 1 >= b->nsyms || vaddr < b->syms[i + 1].addr))
			return e;
		if (e->addr != b->syms[lo - 1].addr)
			break;
	}
	return NULL;
}

static struct bin *find_bin_key(struct symbolizer *s, const char *key)
{
	struct bin *b;

	for (b = s->bins; b; b = b->next)
		if (!strcmp(b->key, key))
			return b;
	return NULL;
}

static const char *base_name(const char *path)
{
	const char *b = strrchr(path, '/');

	return b ? b + 1 : path;
}

/*
 * The bin for the file of a mapping: by (dev, inode), else opened through
 * OPENPATH and found or added by build id / identity.
 */
static struct bin *get_bin(struct symbolizer *s, const char *openpath, const char *shown,
			   dev_t dev, ino_t ino)
{
	struct bin *b;
	struct goelf *g;
	struct stat st;
	char key[96];
	int err;

	for (b = s->bins; b; b = b->next)
		if (ino && b->dev == dev && b->ino == ino)
			return b;
	g = goelf__open(openpath, &err);
	if (!g) {
		/* remember the failure under the identity, so we do not retry it per sample */
		snprintf(key, sizeof(key), "fail:%llu:%llu", (unsigned long long)dev,
			 (unsigned long long)ino);
		verbose("cannot symbolize '%s': %s\n", shown, cp_lasterr());
		s->st.binaries_failed++;
	} else if (goelf__build_id(g)) {
		snprintf(key, sizeof(key), "build:%.88s", goelf__build_id(g));
	} else {
		if (stat(openpath, &st))
			memset(&st, 0, sizeof(st));
		snprintf(key, sizeof(key), "file:%llu:%llu:%lld", (unsigned long long)dev,
			 (unsigned long long)ino, (long long)st.st_mtime);
	}
	b = find_bin_key(s, key);
	if (b) {
		goelf__close(g);
		return b;
	}
	b = calloc(1, sizeof(*b));
	if (!b) {
		goelf__close(g);
		return NULL;
	}
	memcpy(b->key, key, sizeof(key));
	b->dev = dev;
	b->ino = ino;
	b->base = intern(&s->strs, base_name(shown));
	b->g = g;
	if (g) {
		b->path = strdup(openpath);
		if (goelf__is_go(g)) {
			b->pcln = gopclntab__open(g, &err);
			if (!b->pcln)
				verbose("'%s': no Go function table, using ELF symbols: %s\n", shown,
					cp_lasterr());
		}
		s->st.binaries_opened++;
	}
	b->next = s->bins;
	s->bins = b;
	return b;
}

static int map_cmp(const void *a, const void *b)
{
	const struct mapping *x = a, *y = b;

	return (x->start > y->start) - (x->start < y->start);
}

/* (Re)read /proc/PID/maps: executable mappings, each with its binary. */
static int read_maps(struct symbolizer *s, struct proc *p)
{
	char path[64], line[4096 + 256];
	struct mapping *maps = NULL;
	int n = 0, cap = 0;
	FILE *f;

	p->read_ns = now_ns();
	s->st.maps_reads++;
	snprintf(path, sizeof(path), "/proc/%d/maps", p->pid);
	f = fopen(path, "re");
	if (!f) {
		cp_seterr("cannot read '%s': %s", path, strerror(errno));
		return -errno;
	}
	while (fgets(line, sizeof(line), f)) {
		unsigned long long start, end, off, ino;
		unsigned int maj, min;
		char perms[8], openpath[4096 + 64];
		int pos = 0;
		char *file;
		size_t len;
		bool deleted = false;
		struct stat st;

		if (sscanf(line, "%llx-%llx %7s %llx %x:%x %llu %n", &start, &end, perms, &off, &maj,
			   &min, &ino, &pos) < 7 || perms[2] != 'x')
			continue;
		file = line + pos;
		len = strlen(file);
		while (len && (file[len - 1] == '\n' || file[len - 1] == ' '))
			file[--len] = '\0';
		if (n == cap) {
			int ncap = cap ? cap * 2 : 32;
			struct mapping *nm = realloc(maps, ncap * sizeof(*nm));

			if (!nm) {
				free(maps);
				fclose(f);
				return -ENOMEM;
			}
			maps = nm;
			cap = ncap;
		}
		maps[n] = (struct mapping){ .start = start, .end = end, .off = off, .base = "" };
		if (file[0] != '/' || !ino) { /* [vdso], anonymous JIT code, ... */
			if (file[0])
				maps[n].base = intern(&s->strs, file);
			if (!maps[n].base)
				maps[n].base = "";
			n++;
			continue;
		}
		if (len > 10 && !strcmp(file + len - 10, " (deleted)")) {
			file[len - 10] = '\0';
			deleted = true;
		}
		/*
		 * The process's own view of the path (it may live in another mount
		 * namespace); the mapping itself if the file is gone or was replaced.
		 */
		snprintf(openpath, sizeof(openpath), "/proc/%d/root%s", p->pid, file);
		if (deleted || stat(openpath, &st) || st.st_ino != ino ||
		    st.st_dev != makedev(maj, min)) {
			snprintf(openpath, sizeof(openpath), "/proc/%d/map_files/%llx-%llx", p->pid,
				 start, end);
			if (access(openpath, R_OK))
				snprintf(openpath, sizeof(openpath), "%s", file);
		}
		maps[n].bin = get_bin(s, openpath, file, makedev(maj, min), (ino_t)ino);
		maps[n].base = maps[n].bin && maps[n].bin->base ? maps[n].bin->base : "";
		n++;
	}
	fclose(f);
	if (n)
		qsort(maps, n, sizeof(*maps), map_cmp);
	free(p->maps);
	p->maps = maps;
	p->nmaps = n;
	return 0;
}

static struct proc *get_proc(struct symbolizer *s, int pid)
{
	struct proc *p;

	for (p = s->procs; p; p = p->next)
		if (p->pid == pid)
			return p;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->pid = pid;
	p->next = s->procs;
	s->procs = p;
	read_maps(s, p); /* a process that is gone has no mappings: its frames are unknown */
	return p;
}

static const struct mapping *find_map(const struct proc *p, uint64_t addr)
{
	int lo = 0, hi = p->nmaps;

	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;

		if (p->maps[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < p->nmaps && p->maps[lo].start <= addr)
		return &p->maps[lo];
	return NULL;
}

void symbolizer__forget(struct symbolizer *s, int pid)
{
	struct proc **pp, *p;

	if (!s)
		return;
	for (pp = &s->procs; (p = *pp); pp = &p->next) {
		if (p->pid == pid) {
			*pp = p->next;
			proc_free(p);
			return;
		}
	}
}

/* File offset -> ELF virtual address through the PT_LOAD segment holding it. */
static int offset_to_vaddr(const struct goelf *g, uint64_t off, uint64_t *vaddr)
{
	int i;

	for (i = 0; i < goelf__segment_count(g); i++) {
		const struct goelf_segment *seg = goelf__segment_at(g, i);

		if (off >= seg->offset && off - seg->offset < seg->filesz) {
			*vaddr = seg->vaddr + (off - seg->offset);
			return 0;
		}
	}
	return -ENOENT;
}

static void unknown_frame(struct symbolizer *s, struct sym_frame *out, const char *base, uint64_t off,
			  bool with_off)
{
	char buf[512];
	const char *name = NULL;

	if (base && *base) {
		if (with_off && s->unknown_names < UNKNOWN_NAMES_MAX) {
			snprintf(buf, sizeof(buf), "[unknown] %s+0x%llx", base, (unsigned long long)off);
			name = intern(&s->strs, buf);
			s->unknown_names++;
		} else {
			snprintf(buf, sizeof(buf), "[unknown] %s", base);
			name = intern(&s->strs, buf);
		}
	}
	*out = (struct sym_frame){ .func = name ? name : "[unknown]", .file = "", .known = false };
}

static int resolve(struct symbolizer *s, struct bin *b, uint64_t vaddr, struct sym_frame *out, int max)
{
	struct gofunc_frame gf[MAX_FRAMES];
	const struct elfsym *e;
	int n, i;

	if (b->pcln) {
		n = gopclntab__frames(b->pcln, vaddr, gf, max < MAX_FRAMES ? max : MAX_FRAMES);
		if (n > 0) {
			for (i = 0; i < n; i++)
				out[i] = (struct sym_frame){ .func = gf[i].name, .file = gf[i].file,
							     .line = gf[i].line, .inlined = gf[i].inlined,
							     .known = true };
			return n;
		}
	}
	if (!b->syms_loaded && load_syms(s, b))
		verbose("'%s': cannot read ELF symbols\n", b->base);
	e = find_sym(b, vaddr);
	if (!e)
		return 0;
	out[0] = (struct sym_frame){ .func = e->name, .file = "", .known = true };
	return 1;
}

int symbolizer__user(struct symbolizer *s, int pid, uint64_t addr, bool is_ip,
		     struct sym_frame *out, int max)
{
	const struct mapping *m;
	struct centry *ce;
	struct proc *p;
	uint64_t pc = is_ip ? addr : addr - 1, off, vaddr, h;
	int n, i;

	if (!s || !out || max < 1 || pid <= 0 || (!is_ip && !addr)) {
		cp_seterr("symbolizer__user: bad arguments (pid %d, max %d)", pid, max);
		return -EINVAL;
	}
	s->st.lookups++;
	p = get_proc(s, pid);
	if (!p) {
		cp_seterr("out of memory");
		return -ENOMEM;
	}
	m = find_map(p, pc);
	if (!m && now_ns() - p->read_ns >= MAPS_REREAD_NS) {
		read_maps(s, p); /* new mapping since (dlopen, exec) */
		m = find_map(p, pc);
	}
	if (!m || !m->bin || !m->bin->g) {
		s->st.unknown++;
		unknown_frame(s, out, m ? m->base : NULL, m ? pc - m->start + m->off : 0, m != NULL);
		return 1;
	}
	off = pc - m->start + m->off;
	if (offset_to_vaddr(m->bin->g, off, &vaddr)) {
		s->st.unknown++;
		unknown_frame(s, out, m->base, off, true);
		return 1;
	}

	h = (((uint64_t)(uintptr_t)m->bin >> 4) ^ vaddr) * 0x9e3779b97f4a7c15ull;
	ce = &s->cache[h >> (64 - CACHE_BITS)];
	if (ce->bin == m->bin && ce->pc == vaddr && ce->n <= max) {
		s->st.cache_hits++;
		memcpy(out, ce->f, ce->n * sizeof(*out));
		if (!out[0].known)
			s->st.unknown++;
		return ce->n;
	}
	n = resolve(s, m->bin, vaddr, out, max);
	if (n <= 0) {
		s->st.unknown++;
		unknown_frame(s, out, m->base, off, true);
		n = 1;
	}
	if (n <= CACHE_FRAMES) {
		ce->bin = m->bin;
		ce->pc = vaddr;
		ce->n = n;
		for (i = 0; i < n; i++)
			ce->f[i] = out[i];
	}
	return n;
}

/* --- kernel ----------------------------------------------------------- */

static int ksym_cmp(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	return (x->addr > y->addr) - (x->addr < y->addr);
}

int symbolizer__set_kallsyms(struct symbolizer *s, const char *path)
{
	if (!s || !path) {
		cp_seterr("symbolizer__set_kallsyms: no path");
		return -EINVAL;
	}
	free(s->kallsyms_path);
	s->kallsyms_path = strdup(path);
	return s->kallsyms_path ? 0 : -ENOMEM;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/*
 * One line of kallsyms, "ADDR TYPE NAME[\t[MODULE]]" (kernel/kallsyms.c,
 * s_show), NUL-terminated: true for a text symbol (t, T, w, W), with its
 * address and name (cut at 255 bytes, NUL-terminated in place). A
 * hand-written scan: sscanf and an interned copy per line took most of
 * the 100+ ms that reading 120k lines cost.
 */
static bool kallsyms_line(char *p, unsigned long long *addr, char **name)
{
	unsigned long long a = 0;
	char *n, type;
	int digits = 0;

	while (*p == ' ' || *p == '\t')
		p++;
	for (;; p++, digits++) {
		int v = hexval(*p);

		if (v < 0)
			break;
		a = a << 4 | (unsigned)v;
	}
	if (!digits || (*p != ' ' && *p != '\t'))
		return false;
	while (*p == ' ' || *p == '\t')
		p++;
	type = (char)tolower((unsigned char)*p);
	if (!*p || (type != 't' && type != 'w') || (p[1] != ' ' && p[1] != '\t'))
		return false;
	for (p += 2; *p == ' ' || *p == '\t'; p++)
		;
	for (n = p; *p && *p != ' ' && *p != '\t' && *p != '\n' && p - n < 255; p++)
		;
	if (p == n)
		return false;
	*p = 0;
	*addr = a;
	*name = n;
	return true;
}

static bool ksyms_sorted(const struct ksym *k, int n)
{
	for (int i = 1; i < n; i++)
		if (k[i].addr < k[i - 1].addr)
			return false;
	return true;
}

/* Text symbols (t, T, w, W) of kallsyms, sorted. All-zero addresses: not root. */
static int load_kallsyms(struct symbolizer *s)
{
	const char *path = s->kallsyms_path ? s->kallsyms_path : "/proc/kallsyms";
	size_t cap_buf = 1 << 20, len = 0;
	char *buf, *line, *nl, *name;
	unsigned long long addr;
	int cap = 0, nonzero = 0, fd, err = 0;
	ssize_t got;

	s->ksyms_loaded = true;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		cp_seterr("cannot read '%s': %s", path, strerror(errno));
		s->ksyms_zero = true;
		return err;
	}
	buf = malloc(cap_buf + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	for (;;) {
		got = read(fd, buf + len, cap_buf - len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			err = -errno;
			cp_seterr("cannot read '%s': %s", path, strerror(errno));
			break;
		}
		len += (size_t)got;
		buf[len] = 0;
		line = buf;
		/* whole lines; at the end of the file the last one may lack its newline */
		while ((nl = memchr(line, '\n', len - (size_t)(line - buf))) || (got == 0 && *line)) {
			if (nl)
				*nl = 0;
			if (kallsyms_line(line, &addr, &name) && addr) {
				nonzero++;
				if (s->nksyms == cap) {
					int ncap = cap ? cap * 2 : 4096;
					struct ksym *nk = realloc(s->ksyms, ncap * sizeof(*nk));

					if (!nk) {
						err = -ENOMEM;
						goto out;
					}
					s->ksyms = nk;
					cap = ncap;
				}
				s->ksyms[s->nksyms].addr = addr;
				/* not interned: the names are nearly all distinct, and nothing compares them by address */
				s->ksyms[s->nksyms].name = arena_copy(&s->strs, name, strlen(name));
				if (!s->ksyms[s->nksyms].name) {
					err = -ENOMEM;
					goto out;
				}
				s->nksyms++;
			}
			if (!nl) {
				line += strlen(line);
				break;
			}
			line = nl + 1;
		}
		if (got == 0)
			break;
		len -= (size_t)(line - buf);
		memmove(buf, line, len);
		if (len == cap_buf) /* a line of a megabyte: not kallsyms; drop it */
			len = 0;
	}
out:
	free(buf);
	close(fd);
	if (err)
		return err;
	if (!nonzero) {
		verbose("'%s' shows no addresses (needs root): kernel frames are unknown\n", path);
		s->ksyms_zero = true;
		return 0;
	}
	/* /proc/kallsyms lists the text in address order: the sort is only a fallback */
	if (!ksyms_sorted(s->ksyms, s->nksyms))
		qsort(s->ksyms, s->nksyms, sizeof(*s->ksyms), ksym_cmp);
	return 0;
}

void symbolizer__load_kernel(struct symbolizer *s)
{
	if (s && !s->ksyms_loaded)
		load_kallsyms(s);
}

int symbolizer__kernel(struct symbolizer *s, uint64_t addr, struct sym_frame *out)
{
	int lo = 0, hi;

	if (!s || !out) {
		cp_seterr("symbolizer__kernel: bad arguments");
		return -EINVAL;
	}
	s->st.kernel_lookups++;
	if (!s->ksyms_loaded)
		load_kallsyms(s);
	hi = s->nksyms;
	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;

		if (s->ksyms[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (s->ksyms_zero || lo == 0) {
		s->st.kernel_unknown++;
		*out = (struct sym_frame){ .func = "[kernel]", .file = "", .known = false };
		return 1;
	}
	*out = (struct sym_frame){ .func = s->ksyms[lo - 1].name, .file = "", .known = true };
	return 1;
}

void symbolizer__stats(const struct symbolizer *s, struct sym_stats *st)
{
	if (!st)
		return;
	if (!s) {
		memset(st, 0, sizeof(*st));
		return;
	}
	*st = s->st;
}
