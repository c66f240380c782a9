/* SPDX-License-Identifier: MIT */
/*
 * plan: decide where cpprof's probes go in one Go binary. Inspects it
 * (goelf, gopclntab, retsites, offsets), finds the net/http server
 * functions, picks for each the cheapest safe probe address (the
 * prologue's stack-check jump, which the kernel emulates, else the entry)
 * and proves the address is an instruction boundary of that function.
 * Nothing here touches a process; attach.c does.
 */
#ifndef CPPROF_PLAN_H
#define CPPROF_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "offsets.h"

enum probe_kind {
	PROBE_SERVE = 0,     /* serverHandler.ServeHTTP: request start */
	PROBE_WRITE_HEADER,  /* a response writer's WriteHeader: status */
	PROBE_FINISH_H1,     /* (*response).finishRequest: HTTP/1 end */
	PROBE_FINISH_H2,     /* an HTTP/2 responseWriter's handlerDone: HTTP/2 end */
	PROBE__KINDS,
};

#define PLAN_MAX_SITES 16

struct probe_site {
	enum probe_kind kind;
	char func[160];
	uint64_t entry;       /* function entry (ELF vaddr) */
	uint64_t size;
	uint64_t addr;        /* probe address (ELF vaddr) */
	uint64_t file_off;    /* what uprobe attach takes */
	bool at_jcc;          /* on the prologue's stack-check jump */
	bool once;            /* after the stack check: hit once per call, never twice */
	bool emulated;        /* the kernel emulates the probed instruction */
	char insn[64];        /* the probed instruction, as decoded */
	int nret;             /* RET instructions in the function */
	/* end probes (finish_h1, finish_h2): where the status is read, proven by offsets.c */
	bool status_proven;   /* else the writer's WriteHeader probes stay (fallback) */
	int32_t status_rws;   /* HTTP/2: offset of the writer's rws pointer; -1 for HTTP/1 */
	int32_t status_off;   /* offset of the status int */
	char status_field[192];
	char status_src[512]; /* the proof, or why there is none */
	bool fallback;        /* write_header: kept because its writer's status is not proven */
};

struct probe_plan {
	char path[512];
	char go_version[32];
	char main_path[160];
	char build_id[80];
	char component[16];   /* apiserver, etcd, other */
	char k8s_version[40]; /* "v1.29.3" from the build info, or "" */
	char etcd_version[40];/* "v3.5.9" of etcd's main module or dependency, or "" */
	char pclntab_format[24];
	uint64_t text_start;
	char text_source[48];
	bool stripped;        /* no .symtab */
	bool has_dwarf;
	struct go_offsets off;
	int nsites;
	struct probe_site sites[PLAN_MAX_SITES];
};

/*
 * Build the plan for the executable at PATH (may be /proc/PID/exe).
 * Returns 0; or a negative errno with cp_lasterr() saying why in one line:
 * not a Go binary, corrupted pclntab, Go too old for register ABI, Go
 * version outside the offsets table and no DWARF, no net/http server in
 * the binary, a probe address that fails verification.
 */
int plan__build(const char *path, struct probe_plan *plan);

struct goelf;
struct gofunc;
struct gopclntab;

/*
 * Open the Go binary PATH and its function table, for a tracer to plan
 * its probes in. 0 with *G and *PT set (the caller closes both); or a
 * negative errno with cp_lasterr() set (not a Go binary, corrupted
 * pclntab), *PT NULL and nothing left open.
 */
int plan__open_go(const char *path, struct goelf **g, struct gopclntab **pt);

/*
 * 0 if Go GO_VERSION passes arguments in registers, as the probes read
 * them (Go 1.17 moved amd64 to the register ABI, abi-internal.md), or if
 * the version does not parse; else -ENOTSUP with cp_lasterr() naming
 * WHAT probes ("HTTP", "gRPC") need a newer Go.
 */
int plan__check_regabi(const char *go_version, const char *what);

/*
 * Pick and verify the probe address of one Go function F of G: the
 * cheapest instruction the kernel emulates with the argument registers
 * untouched (after the stack check, else the stack-check jump, else the
 * entry), proven an instruction boundary of F by decoding from its entry.
 * S->kind is set to KIND. 0, or a negative errno with cp_lasterr() set
 * (not a Go prologue, not a boundary, outside the executable segment).
 * Every tracer (HTTP, gRPC) places its probes through this one function.
 */
int plan__site(struct goelf *g, const struct gofunc *f, enum probe_kind kind,
	       struct probe_site *s);

/*
 * true if the Go function NAME is SUFFIX or ends in "/" SUFFIX: a vendored
 * copy ("k8s.io/kubernetes/vendor/golang.org/x/net/http2...") matches too.
 */
bool plan_func_matches(const char *name, const char *suffix);

/*
 * Kubernetes and etcd versions a Go binary was built from, from its build
 * info: -ldflags gitVersion, else k8s.io/apiserver's v0.X.Y; etcd's main
 * module or go.etcd.io/etcd/{server,api}/v3. "" where unknown.
 */
void plan_versions(const struct goelf *g, char *k8s, size_t k8slen, char *etcd, size_t etcdlen);

/* "serve", "write_header", "finish_h1", "finish_h2". */
const char *probe_kind_name(enum probe_kind k);

/*
 * Component from Go build info (main package path), else from the file
 * name: "apiserver", "etcd" or "other".
 */
const char *plan_component(const char *main_path, const char *exe_path);

#endif
