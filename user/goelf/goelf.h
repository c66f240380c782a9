/* SPDX-License-Identifier: MIT */
/*
 * goelf: open an ELF executable with libelf and answer what the rest of
 * cpprof needs to know about it as a Go program: its sections, the
 * executable PT_LOAD segment (to turn virtual addresses into the file
 * offsets uprobes want), its build id, and the Go build information
 * (.go.buildinfo: Go version, main package path, module list).
 *
 * All addresses are ELF virtual addresses as linked (no ASLR applied).
 */
#ifndef CPPROF_GOELF_H
#define CPPROF_GOELF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct goelf;

struct goelf_section {
	const char *name;
	uint64_t addr;   /* sh_addr */
	uint64_t offset; /* sh_offset */
	uint64_t size;
	uint32_t type;   /* SHT_* */
	uint64_t flags;  /* SHF_* */
};

struct goelf_module {
	const char *path;    /* "golang.org/x/net" */
	const char *version; /* "v0.17.0", or "(devel)" */
	const char *replace; /* replacing module path, or NULL */
	const char *replace_version; /* version of the replacement, or NULL */
};

struct goelf_segment {
	uint64_t vaddr;
	uint64_t offset;
	uint64_t filesz;
	uint64_t memsz;
	uint32_t flags;  /* PF_* */
};

/*
 * Open PATH. On failure returns NULL, *err = -errno, and cp_lasterr()
 * says why ("not an ELF file", "not an x86-64 executable", ...).
 * Non-Go ELF files open fine; goelf__is_go() tells.
 */
struct goelf *goelf__open(const char *path, int *err);
void goelf__close(struct goelf *g);

const char *goelf__path(const struct goelf *g);
/* Hex build id from .note.gnu.build-id or the Go build id note, or NULL. */
const char *goelf__build_id(const struct goelf *g);
/* true if a .gopclntab section or the Go build info is present. */
bool goelf__is_go(const struct goelf *g);
/* true for ET_DYN (PIE) executables. */
bool goelf__is_pie(const struct goelf *g);

/* Section by name, or NULL. The struct lives as long as g. */
const struct goelf_section *goelf__section(const struct goelf *g, const char *name);

/*
 * Copy LEN bytes at virtual address VADDR from the file (any PT_LOAD
 * segment with file backing). Returns 0, or -EFAULT if any byte is not
 * backed by the file.
 */
int goelf__read(const struct goelf *g, uint64_t vaddr, void *buf, size_t len);
/* Pointer into the mapped file for [vaddr, vaddr+len), or NULL. */
const void *goelf__ptr(const struct goelf *g, uint64_t vaddr, size_t len);

/*
 * File offset of VADDR through the executable (PF_X) PT_LOAD segment that
 * contains it: what uprobe attach takes. -ENOENT if no executable segment
 * holds it.
 */
int goelf__vaddr_to_offset(const struct goelf *g, uint64_t vaddr, uint64_t *off);

/* Symbol table lookup (.symtab, then .dynsym); -ENOENT if absent/stripped. */
int goelf__symbol(const struct goelf *g, const char *name, uint64_t *addr, uint64_t *size);
bool goelf__has_symtab(const struct goelf *g);
bool goelf__has_dwarf(const struct goelf *g);
/* The file ends before its section headers or their names (a cut copy). */
bool goelf__is_truncated(const struct goelf *g);

/* Go build info, parsed from .go.buildinfo (Go 1.13+ formats). NULL if absent. */
const char *goelf__go_version(const struct goelf *g); /* "go1.21.13" */
const char *goelf__main_path(const struct goelf *g);  /* "k8s.io/kubernetes/cmd/kube-apiserver" */
const char *goelf__main_version(const struct goelf *g); /* main module version ("v3.5.9", "(devel)"), or NULL */
const char *goelf__ldflags(const struct goelf *g);    /* the "build -ldflags=" setting (Go 1.18+), or NULL */
/* Number of dependency modules, and the i-th (main module not included). */
int goelf__module_count(const struct goelf *g);
const struct goelf_module *goelf__module(const struct goelf *g, int i);
/* Dependency module by path, or NULL. */
const struct goelf_module *goelf__find_module(const struct goelf *g, const char *path);

/*
 * Parse "go1.21.13" / "go1.22rc1" / "devel go1.23-abc" into major, minor.
 * Returns 0, or -EINVAL if the string is not a Go version.
 */
int go_version_parse(const char *s, int *major, int *minor);

/* Sections and PT_LOAD segments in file order, for scans. */
int goelf__section_count(const struct goelf *g);
const struct goelf_section *goelf__section_at(const struct goelf *g, int i);
int goelf__segment_count(const struct goelf *g);
const struct goelf_segment *goelf__segment_at(const struct goelf *g, int i);

/*
 * Read the 64-bit pointer stored at VADDR as the program will see it
 * before ASLR: in PIE and externally linked binaries the file holds 0
 * there and an R_X86_64_RELATIVE relocation holds the value as addend.
 * Returns 0, or -EFAULT.
 */
int goelf__read_ptr(const struct goelf *g, uint64_t vaddr, uint64_t *val);
/*
 * Addresses of words that an R_X86_64_RELATIVE relocation sets to VALUE:
 * fills up to MAX of them into WHERE, returns how many exist.
 */
int goelf__relocs_to(const struct goelf *g, uint64_t value, uint64_t *where, int max);

/* true if VADDR lies in a file-backed executable (PF_X) PT_LOAD segment. */
bool goelf__is_text(const struct goelf *g, uint64_t vaddr);

/*
 * Parse LEN bytes as the contents of a .go.buildinfo section at virtual
 * address ADDR (the old pointer-based format can only follow pointers
 * into those bytes). Returns an object on which only the Go build info
 * accessors answer; NULL with *err and cp_lasterr() on failure. Used by
 * the fuzzer and by tests.
 */
struct goelf *goelf__open_buildinfo_mem(const void *data, size_t len, uint64_t addr, int *err);

/* libelf must be initialised once before use; goelf__open does it. */

#endif
