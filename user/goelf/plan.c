// SPDX-License-Identifier: MIT
/*
 * plan: where cpprof's HTTP probes go in one Go binary, and the proof that
 * each address is safe to probe. See plan.h.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "goelf.h"
#include "gopclntab.h"
#include "log.h"
#include "plan.h"
#include "retsites.h"

/*
 * The functions, by the suffix of their pclntab name: vendored copies
 * (k8s.io/kubernetes/vendor/golang.org/x/net/http2...) match too.
 * net/http bundles its own HTTP/2 server (h2_bundle.go, http2 prefix);
 * kube-apiserver configures golang.org/x/net/http2 instead
 * (http2.ConfigureServer in k8s.io/apiserver/pkg/server/secure_serving.go),
 * so both writers are probed where present. Go 1.27 moved net/http's
 * HTTP/2 server out of the bundle into net/http/internal/http2 (its
 * src/net/http/internal/http2/server.go: (*responseWriter).WriteHeader,
 * handlerDone called by (*serverConn).runHandler as before), so the
 * http2-prefixed names are gone there. Handlers get that writer wrapped in
 * net/http.http2ResponseWriter{*http2.ResponseWriter} (net/http/http2.go),
 * whose WriteHeader wrapper inlines (*responseWriter).WriteHeader: a
 * handler's status never reaches the inner method, so the wrapper is
 * probed too. The struct is pointer-shaped, so its receiver in RAX is the
 * inner writer, the same key ServeHTTP and handlerDone see.
 */
static const struct {
	const char *suffix;
	enum probe_kind kind;
	bool required;
	/* write_header: the end method of the same writer, whose status read replaces it */
	const char *end;
} wanted[] = {
	{ "net/http.serverHandler.ServeHTTP",                  PROBE_SERVE,        true, NULL },
	{ "net/http.(*response).WriteHeader",                  PROBE_WRITE_HEADER, true,
	  "net/http.(*response).finishRequest" },
	{ "net/http.(*response).finishRequest",                PROBE_FINISH_H1,    true, NULL },
	{ "net/http.(*http2responseWriter).WriteHeader",       PROBE_WRITE_HEADER, false,
	  "net/http.(*http2responseWriter).handlerDone" },
	{ "net/http.(*http2responseWriter).handlerDone",       PROBE_FINISH_H2,    false, NULL },
	/* Go 1.27 moved the bundle to net/http/internal/http2 (net/http/http2.go wraps its writer) */
	{ "net/http/internal/http2.(*responseWriter).WriteHeader", PROBE_WRITE_HEADER, false,
	  "net/http/internal/http2.(*responseWriter).handlerDone" },
	/* ... whose WriteHeader the net/http wrapper inlines: RAX is the same *responseWriter */
	{ "net/http.http2ResponseWriter.WriteHeader",          PROBE_WRITE_HEADER, false,
	  "net/http/internal/http2.(*responseWriter).handlerDone" },
	{ "net/http/internal/http2.(*responseWriter).handlerDone", PROBE_FINISH_H2,    false, NULL },
	{ "golang.org/x/net/http2.(*responseWriter).WriteHeader", PROBE_WRITE_HEADER, false,
	  "golang.org/x/net/http2.(*responseWriter).handlerDone" },
	{ "golang.org/x/net/http2.(*responseWriter).handlerDone", PROBE_FINISH_H2,    false, NULL },
};

#define NWANTED (int)(sizeof(wanted) / sizeof(wanted[0]))

const char *probe_kind_name(enum probe_kind k)
{
	static const char *names[] = { "serve", "write_header", "finish_h1", "finish_h2" };

	return k < PROBE__KINDS ? names[k] : "?";
}

bool plan_func_matches(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	if (n < m || strcmp(s + n - m, suffix))
		return false;
	/* a whole path element: "x/golang.org/..." or the name itself */
	return n == m || s[n - m - 1] == '/';
}

/* A module version worth reporting: not empty, "(devel)" or a v0.0.0 placeholder. */
static bool real_version(const char *v)
{
	return v && *v && strcmp(v, "(devel)") && strncmp(v, "v0.0.0", 6);
}

void plan_versions(const struct goelf *g, char *k8s, size_t k8slen, char *etcd, size_t etcdlen)
{
	static const char git_version[] = "k8s.io/component-base/version.gitVersion=";
	const char *ld = goelf__ldflags(g), *mp = goelf__main_path(g), *p;
	const struct goelf_module *m;
	size_t n;

	k8s[0] = etcd[0] = 0;
	/* Kubernetes' release build stamps it: hack/lib/version.sh, -X ...gitVersion=v1.29.3 */
	if (ld && (p = strstr(ld, git_version))) {
		p += sizeof(git_version) - 1;
		n = strcspn(p, " '\"\t");
		snprintf(k8s, k8slen, "%.*s", (int)n, p);
	} else if ((m = goelf__find_module(g, "k8s.io/apiserver")) && real_version(m->version) &&
		   strncmp(m->version, "v0.", 3) == 0) {
		/* staging modules are versioned v0.X.Y for Kubernetes v1.X.Y */
		snprintf(k8s, k8slen, "v1.%s", m->version + 3);
	}
	if (mp && (strncmp(mp, "go.etcd.io/etcd", 15) == 0 || strncmp(mp, "github.com/coreos/etcd", 22) == 0) &&
	    real_version(goelf__main_version(g)))
		snprintf(etcd, etcdlen, "%s", goelf__main_version(g));
	else if (((m = goelf__find_module(g, "go.etcd.io/etcd/server/v3")) ||
		  (m = goelf__find_module(g, "go.etcd.io/etcd/api/v3"))) && real_version(m->version))
		snprintf(etcd, etcdlen, "%s", m->version);
}

const char *plan_component(const char *main_path, const char *exe_path)
{
	const char *base;

	if (main_path && *main_path) {
		if (strstr(main_path, "cmd/kube-apiserver"))
			return "apiserver";
		if (strstr(main_path, "go.etcd.io/etcd") || strstr(main_path, "github.com/coreos/etcd"))
			return "etcd";
	}
	base = exe_path ? strrchr(exe_path, '/') : NULL;
	base = base ? base + 1 : exe_path;
	if (base && strstr(base, "kube-apiserver"))
		return "apiserver";
	if (base && strncmp(base, "etcd", 4) == 0)
		return "etcd";
	return "other";
}

int plan__site(struct goelf *g, const struct gofunc *f, enum probe_kind kind,
	       struct probe_site *s)
{
	struct func_layout lay;
	const uint8_t *code;
	uint64_t size = f->end - f->entry;
	int err;

	memset(s, 0, sizeof(*s));
	s->kind = kind;
	snprintf(s->func, sizeof(s->func), "%s", f->name);
	s->entry = f->entry;
	s->size = size;
	if (size == 0 || size > (1 << 20)) {
		cp_seterr("function '%s' has implausible size %llu: corrupted pclntab", f->name,
			  (unsigned long long)size);
		return -EINVAL;
	}
	code = goelf__ptr(g, f->entry, size);
	if (!code) {
		cp_seterr("function '%s' at 0x%llx is not backed by the file", f->name,
			  (unsigned long long)f->entry);
		return -EFAULT;
	}
	err = retsites__analyze(code, size, f->entry, &lay);
	if (err)
		return err;
	if (!lay.go_prologue) {
		cp_seterr("function '%s' at 0x%llx does not decode as a Go prologue: refusing to probe it",
			  f->name, (unsigned long long)f->entry);
		return -EINVAL;
	}
	s->nret = lay.nret;
	s->addr = f->entry;
	/*
	 * Cheapest first. The instruction after the stack-check jump runs
	 * once per call, and Go 1.21+ puts an emulated "push rbp" there. The
	 * jump itself is emulated too, but runs again when the prologue grows
	 * the stack and restarts the function, so the BPF side must
	 * recognise a second hit. The entry is single-stepped: last resort.
	 */
	if (lay.after_jcc &&
	    retsites__is_emulated(code, size, f->entry, lay.after_jcc, NULL, 0)) {
		s->addr = lay.after_jcc;
		s->once = true;
	} else if (lay.stack_check_jcc &&
		   retsites__is_emulated(code, size, f->entry, lay.stack_check_jcc, NULL, 0)) {
		s->addr = lay.stack_check_jcc;
		s->at_jcc = true;
	} else {
		s->once = false; /* the entry: the restart hits it again as well */
	}
	/* The safety proof, whatever was chosen: an instruction boundary of this function. */
	if (!retsites__is_boundary(code, size, f->entry, s->addr)) {
		cp_seterr("probe address 0x%llx in '%s' is not an instruction boundary: refusing to attach",
			  (unsigned long long)s->addr, f->name);
		return -EINVAL;
	}
	s->emulated = retsites__is_emulated(code, size, f->entry, s->addr, s->insn, sizeof(s->insn));
	err = goelf__vaddr_to_offset(g, s->addr, &s->file_off);
	if (err) {
		cp_seterr("probe address 0x%llx in '%s' is outside the executable segment",
			  (unsigned long long)s->addr, f->name);
		return err;
	}
	return 0;
}

/* The package path of NAME before SUFFIX ("k8s.io/kubernetes/vendor/"), as a length. */
static size_t prefix_len(const char *name, const char *suffix)
{
	size_t n = strlen(name), m = strlen(suffix);

	return n >= m ? n - m : 0;
}

/*
 * Read each request's status at its end from its writer where the
 * writer's status field is proven (offsets__writer_status), and drop that
 * writer's WriteHeader probes: two probe hits per request instead of
 * three. A writer whose field is not proven keeps its WriteHeader probes.
 */
static void plan_status(struct goelf *g, struct gopclntab *pt, struct probe_plan *plan,
			const int *site_wanted)
{
	int i, j, k = 0;

	for (i = 0; i < plan->nsites; i++) {
		struct probe_site *s = &plan->sites[i];
		struct go_status_off so;

		if (s->kind != PROBE_FINISH_H1 && s->kind != PROBE_FINISH_H2)
			continue;
		s->status_proven = offsets__writer_status(g, pt, s->func, s->kind == PROBE_FINISH_H2, &so) == 0;
		s->status_rws = so.rws;
		s->status_off = so.status;
		snprintf(s->status_field, sizeof(s->status_field), "%s", so.field);
		snprintf(s->status_src, sizeof(s->status_src), "%s", so.source);
		if (!s->status_proven)
			verbose("%s: status from WriteHeader probes: offset of %s: %s\n", plan->path,
			     so.field, so.source);
	}
	for (i = 0; i < plan->nsites; i++) {
		struct probe_site *s = &plan->sites[i];
		const char *end = wanted[site_wanted[i]].end;
		bool covered = false;

		if (s->kind == PROBE_WRITE_HEADER && end) {
			/* the end method of the same copy of the package (vendored ones have a prefix) */
			size_t pl = prefix_len(s->func, wanted[site_wanted[i]].suffix);

			for (j = 0; j < plan->nsites; j++) {
				const struct probe_site *f = &plan->sites[j];

				if ((f->kind == PROBE_FINISH_H1 || f->kind == PROBE_FINISH_H2) &&
				    plan_func_matches(f->func, end) && prefix_len(f->func, end) == pl &&
				    strncmp(f->func, s->func, pl) == 0 && f->status_proven)
					covered = true;
			}
			s->fallback = !covered;
		}
		if (!covered)
			plan->sites[k++] = *s;
	}
	plan->nsites = k;
}

int plan__open_go(const char *path, struct goelf **gp, struct gopclntab **ptp)
{
	struct goelf *g;
	int err = 0;

	*gp = NULL;
	*ptp = NULL;
	g = goelf__open(path, &err);
	if (!g)
		return err;
	if (!goelf__is_go(g)) {
		cp_seterr("not a Go binary (no .gopclntab and no Go build info)");
		goelf__close(g);
		return -ENOEXEC;
	}
	*ptp = gopclntab__open(g, &err);
	if (!*ptp) {
		goelf__close(g);
		return err;
	}
	*gp = g;
	return 0;
}

int plan__check_regabi(const char *go_version, const char *what)
{
	int major = 0, minor = 0;

	if (go_version_parse(go_version, &major, &minor) == 0 && major == 1 && minor < 17) {
		cp_seterr("Go %s passes arguments on the stack; cpprof's %s probes need Go 1.17 or newer",
			  go_version, what);
		return -ENOTSUP;
	}
	return 0;
}

int plan__build(const char *path, struct probe_plan *plan)
{
	struct gopclntab *pt = NULL;
	struct goelf *g = NULL;
	bool found_kind[PROBE__KINDS] = {};
	int site_wanted[PLAN_MAX_SITES];
	int err, i, n, w;

	memset(plan, 0, sizeof(*plan));
	snprintf(plan->path, sizeof(plan->path), "%s", path);

	err = plan__open_go(path, &g, &pt);
	if (!pt)
		return err;

	snprintf(plan->go_version, sizeof(plan->go_version), "%s",
		 goelf__go_version(g) ?: "unknown");
	snprintf(plan->main_path, sizeof(plan->main_path), "%s", goelf__main_path(g) ?: "");
	snprintf(plan->build_id, sizeof(plan->build_id), "%s", goelf__build_id(g) ?: "");
	plan_versions(g, plan->k8s_version, sizeof(plan->k8s_version), plan->etcd_version,
		      sizeof(plan->etcd_version));
	snprintf(plan->component, sizeof(plan->component), "%s",
		 plan_component(plan->main_path, path));
	snprintf(plan->pclntab_format, sizeof(plan->pclntab_format), "%s", gopclntab__format(pt));
	plan->text_start = gopclntab__text_start(pt);
	snprintf(plan->text_source, sizeof(plan->text_source), "%s", gopclntab__text_source(pt));
	plan->stripped = !goelf__has_symtab(g);
	plan->has_dwarf = goelf__has_dwarf(g);

	err = plan__check_regabi(plan->go_version, "HTTP");
	if (err)
		goto cleanup;

	n = gopclntab__func_count(pt);
	for (i = 0; i < n; i++) {
		struct gofunc f;

		if (gopclntab__func(pt, i, &f))
			continue;
		for (w = 0; w < NWANTED; w++) {
			if (!plan_func_matches(f.name, wanted[w].suffix))
				continue;
			if (plan->nsites >= PLAN_MAX_SITES) {
				cp_seterr("too many net/http server copies in the binary (more than %d functions)",
					  PLAN_MAX_SITES);
				err = -E2BIG;
				goto cleanup;
			}
			err = plan__site(g, &f, wanted[w].kind, &plan->sites[plan->nsites]);
			if (err)
				goto cleanup;
			site_wanted[plan->nsites++] = w;
			found_kind[wanted[w].kind] = true;
		}
	}
	for (w = 0; w < NWANTED; w++) {
		if (wanted[w].required && !found_kind[wanted[w].kind]) {
			cp_seterr("no '%s' in the binary: not a net/http server", wanted[w].suffix);
			err = -ENOENT;
			goto cleanup;
		}
	}

	err = offsets__resolve(g, pt, &plan->off);
	if (!err)
		plan_status(g, pt, plan, site_wanted);
cleanup:
	gopclntab__close(pt);
	goelf__close(g);
	return err;
}
