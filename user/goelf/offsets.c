// SPDX-License-Identifier: MIT
/*
 * offsets: the Go struct offsets the BPF side reads (http.Request.Method,
 * .URL, url.URL.Path, .RawQuery). Go structs have no BTF. Each offset is
 * proven from the code of standard-library functions every net/http
 * server links (fieldproof.c reads the displacements), and checked
 * against DWARF when the binary still has it (Go emits it
 * zlib-compressed, which libdw inflates by itself) and against a table
 * generated per Go minor version by tools/gen_offsets.sh. A table row
 * alone once mis-tagged every watch of a Go 1.26 server as a list (1.26
 * moved url.URL.RawQuery from 96 to 88), so it never decides alone.
 */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <fcntl.h>
#include <libelf.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <capstone/capstone.h>

#include "fieldproof.h"
#include "goelf.h"
#include "gopclntab.h"
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

const char *offsets__field_name(enum go_off_field f)
{
	static const char *names[GO_OFF__FIELDS] = {
		"net/http.Request.Method", "net/http.Request.URL", "net/url.URL.Path", "net/url.URL.RawQuery",
	};

	return f < GO_OFF__FIELDS ? names[f] : "?";
}

int32_t *offsets__field(struct go_offsets *o, enum go_off_field f)
{
	switch (f) {
	case GO_OFF_REQUEST_METHOD: return &o->request_method;
	case GO_OFF_REQUEST_URL: return &o->request_url;
	case GO_OFF_URL_PATH: return &o->url_path;
	default: return &o->url_rawquery;
	}
}

static void append(char *buf, size_t size, const char *fmt, const char *s)
{
	size_t n = strlen(buf);

	if (n < size)
		snprintf(buf + n, size - n, fmt, s);
}

void offsets__print(const struct go_offsets *o, FILE *f)
{
	int i;

	for (i = 0; i < GO_OFF__FIELDS; i++)
		fprintf(f, "  %-24s %3d  %s\n", offsets__field_name(i),
			*offsets__field((struct go_offsets *)o, i), o->field_source[i]);
}

/* ---- proof from code -------------------------------------------------- */

/* What the code says of one field so far: the value and who said it. */
struct proof {
	int32_t val;            /* -1: nothing yet */
	char first[96];         /* the function that said it first */
	char by[200];           /* all of them, ", "-separated */
};

static int prove(struct proof *p, enum go_off_field f, int64_t v, const char *func)
{
	if (v < 0 || v > 4096) /* a struct field, not a wild displacement */
		return 0;
	if (p->val >= 0 && p->val != v) {
		cp_seterr("offset of %s: the binary's code contradicts itself: '%s' says %d, '%s' says %lld",
			  offsets__field_name(f), p->first, p->val, func, (long long)v);
		return -EINVAL;
	}
	if (p->val < 0) {
		p->val = (int32_t)v;
		snprintf(p->first, sizeof(p->first), "%s", func);
	}
	if (!strstr(p->by, func))
		append(p->by, sizeof(p->by), p->by[0] ? ", %s" : "%s", func);
	return 0;
}

/* Decode the function named NAME exactly; NULL if the binary has none. */
static struct fieldproof *decode_func(struct goelf *g, struct gopclntab *pt, const char *name)
{
	struct gofunc f;
	const uint8_t *code;
	uint64_t size;
	int err = 0;

	if (gopclntab__find(pt, name, &f))
		return NULL;
	size = f.end - f.entry;
	if (f.end <= f.entry || size > 1 << 20)
		return NULL;
	code = goelf__ptr(g, f.entry, size);
	if (!code)
		return NULL;
	return fieldproof__decode(code, size, f.entry, &err);
}

/* The one value all HITS give (1), none (0), or several (-1). */
static int one_disp(const struct fieldproof_hit *h, int n, int64_t *v)
{
	int i;

	for (i = 0; i < n; i++)
		if (h[i].disp != h[0].disp)
			return -1;
	if (n)
		*v = h[0].disp;
	return n ? 1 : 0;
}

#define MAXHITS 16

/*
 * isH2Upgrade (net/http request.go, the same since Go 1.6):
 *   r.Method == "PRI" && len(r.Header) == 0 && r.URL.Path == "*" && r.Proto == "HTTP/2.0"
 * inlined where requests are read. A "PRI" compare of string [r + M] and a
 * "*" compare of string [u + P] where u was loaded from [r + U], r the same
 * value both times, give Request.Method = M, Request.URL = U, URL.Path = P.
 */
static int prove_h2upgrade(struct fieldproof *fp, const char *func, struct proof *pr)
{
	struct fieldproof_hit pri[MAXHITS], star[MAXHITS];
	int npri = fieldproof__streq(fp, "PRI", pri, MAXHITS);
	int nstar = fieldproof__streq(fp, "*", star, MAXHITS);
	int64_t m = -1, u = -1, p = -1;
	int i, j, found = 0, err;

	for (i = 0; i < nstar; i++) {
		if (!star[i].has_parent)
			continue;
		for (j = 0; j < npri; j++) {
			if (pri[j].base != star[i].pbase || pri[j].base_ver != star[i].pbase_ver)
				continue;
			if (found && (pri[j].disp != m || star[i].pdisp != u || star[i].disp != p))
				return 0; /* two different readings: this function proves nothing */
			m = pri[j].disp;
			u = star[i].pdisp;
			p = star[i].disp;
			found = 1;
		}
	}
	if (!found)
		return 0;
	if ((err = prove(&pr[GO_OFF_REQUEST_METHOD], GO_OFF_REQUEST_METHOD, m, func)) ||
	    (err = prove(&pr[GO_OFF_REQUEST_URL], GO_OFF_REQUEST_URL, u, func)) ||
	    (err = prove(&pr[GO_OFF_URL_PATH], GO_OFF_URL_PATH, p, func)))
		return err;
	return 0;
}

int offsets__from_code(struct goelf *g, struct gopclntab *pt, struct go_offsets *out)
{
	/* every function that reads requests inlines isH2Upgrade (1.27 renamed readRequest) */
	static const char *readers[] = {
		"net/http.(*Request).isH2Upgrade", "net/http.readRequest", "net/http.readRequestLimit",
		"net/http.(*conn).readRequest",
	};
	static const char *missing[GO_OFF__FIELDS] = {
		"no serverHandler.ServeHTTP comparing it with \"OPTIONS\" nor a request reader with \"PRI\"",
		"no request reader comparing req.URL.Path with \"*\" (isH2Upgrade)",
		"no (*URL).EscapedPath nor request reader comparing it with \"*\"",
		"no (*URL).RequestURI testing \"ForceQuery || RawQuery != \\\"\\\"\" nor (*URL).Query passing it on",
	};
	struct proof pr[GO_OFF__FIELDS];
	struct fieldproof_hit h[MAXHITS];
	struct fieldproof *fp;
	int64_t v;
	int i, n, err = 0;

	memset(out, 0, sizeof(*out));
	memset(pr, 0, sizeof(pr));
	for (i = 0; i < GO_OFF__FIELDS; i++)
		pr[i].val = -1;

	/*
	 * serverHandler.ServeHTTP (server.go, 1.19-1.27):
	 *   if ... req.RequestURI == "*" && req.Method == "OPTIONS" {
	 * with req still in RDI as it came in: the register the BPF start
	 * probe takes the *Request from.
	 */
	if ((fp = decode_func(g, pt, "net/http.serverHandler.ServeHTTP"))) {
		int k = 0;

		n = fieldproof__streq(fp, "OPTIONS", h, MAXHITS);
		for (i = 0; i < n; i++)
			if (h[i].base == X86_REG_RDI && h[i].base_ver == 0)
				h[k++] = h[i];
		if (one_disp(h, k, &v) == 1)
			err = prove(&pr[GO_OFF_REQUEST_METHOD], GO_OFF_REQUEST_METHOD, v,
				    "net/http.serverHandler.ServeHTTP");
		fieldproof__free(fp);
		if (err)
			return err;
	}
	for (i = 0; i < (int)(sizeof(readers) / sizeof(readers[0])); i++) {
		if (!(fp = decode_func(g, pt, readers[i])))
			continue;
		err = prove_h2upgrade(fp, readers[i], pr);
		fieldproof__free(fp);
		if (err)
			return err;
	}
	/* (*URL).EscapedPath: if u.Path == "*" { return "*" } (url.go, since Go 1.5) */
	if ((fp = decode_func(g, pt, "net/url.(*URL).EscapedPath"))) {
		n = fieldproof__streq(fp, "*", h, MAXHITS);
		if (one_disp(h, n, &v) == 1)
			err = prove(&pr[GO_OFF_URL_PATH], GO_OFF_URL_PATH, v, "net/url.(*URL).EscapedPath");
		fieldproof__free(fp);
		if (err)
			return err;
	}
	/*
	 * (*URL).RequestURI (url.go, 1.19-1.27), the one bool test of the function:
	 *   if u.ForceQuery || u.RawQuery != "" { result += "?" + u.RawQuery }
	 */
	if ((fp = decode_func(g, pt, "net/url.(*URL).RequestURI"))) {
		n = fieldproof__flag_or_str(fp, h, MAXHITS);
		if (one_disp(h, n, &v) == 1)
			err = prove(&pr[GO_OFF_URL_RAWQUERY], GO_OFF_URL_RAWQUERY, v, "net/url.(*URL).RequestURI");
		fieldproof__free(fp);
		if (err)
			return err;
	}
	/* (*URL).Query: v, _ := ParseQuery(u.RawQuery) (linked when something uses it) */
	if ((fp = decode_func(g, pt, "net/url.(*URL).Query"))) {
		if (fieldproof__first_pair(fp, h) == 1)
			err = prove(&pr[GO_OFF_URL_RAWQUERY], GO_OFF_URL_RAWQUERY, h[0].disp, "net/url.(*URL).Query");
		fieldproof__free(fp);
		if (err)
			return err;
	}

	for (i = 0; i < GO_OFF__FIELDS; i++) {
		*offsets__field(out, i) = pr[i].val;
		if (pr[i].val >= 0)
			snprintf(out->field_source[i], sizeof(out->field_source[i]), "code (%s)", pr[i].by);
		else
			snprintf(out->field_source[i], sizeof(out->field_source[i]), "%s", missing[i]);
	}
	snprintf(out->source, sizeof(out->source), "code");
	return 0;
}

/* ---- deciding ---------------------------------------------------------- */

int offsets__decide(const struct go_offsets *code, const struct go_offsets *dwarf,
		    const struct go_offsets *table, struct go_offsets *out)
{
	struct go_offsets c = *code, d, t;
	const char *tname = table ? table->source : "";
	bool all_code = true;
	int f;

	if (dwarf)
		d = *dwarf;
	if (table)
		t = *table;
	memset(out, 0, sizeof(*out));
	for (f = 0; f < GO_OFF__FIELDS; f++) {
		int32_t cv = *offsets__field(&c, f);
		int32_t dv = dwarf ? *offsets__field(&d, f) : -1;
		int32_t tv = table ? *offsets__field(&t, f) : -1;
		const char *name = offsets__field_name(f);
		char *src = out->field_source[f];
		size_t ss = sizeof(out->field_source[f]);

		if (cv >= 0 && dwarf && cv != dv) {
			cp_seterr("offset of %s: code says %d, DWARF says %d", name, cv, dv);
			return -ENOTSUP;
		}
		if (cv >= 0 && table && cv != tv) {
			cp_seterr("offset of %s: code says %d, %s says %d", name, cv, tname, tv);
			return -ENOTSUP;
		}
		if (cv < 0 && dwarf && table && dv != tv) {
			cp_seterr("offset of %s: DWARF says %d, %s says %d (%s)", name, dv, tname, tv,
				  c.field_source[f]);
			return -ENOTSUP;
		}
		if (cv < 0 && !dwarf) {
			if (table)
				cp_seterr("offset of %s: not proven by the binary's code (%s) and no DWARF; "
					  "%s says %d, which alone is not trusted", name, c.field_source[f],
					  tname, tv);
			else
				cp_seterr("offset of %s: not proven by the binary's code (%s), no DWARF, "
					  "and the Go version is not in the table", name, c.field_source[f]);
			return -ENOTSUP;
		}
		if (cv >= 0) {
			*offsets__field(out, f) = cv;
			snprintf(src, ss, "%s", c.field_source[f]);
			if (dwarf)
				append(src, ss, "%s", "; DWARF agrees");
		} else {
			all_code = false;
			*offsets__field(out, f) = dv;
			snprintf(src, ss, "DWARF (code: %s)", c.field_source[f]);
		}
		if (table)
			append(src, ss, "; %.40s agrees", tname);
	}
	snprintf(out->source, sizeof(out->source), "%s", all_code ? "code" : "code and DWARF");
	if (dwarf)
		append(out->source, sizeof(out->source), "%s", "; DWARF agrees");
	if (table)
		append(out->source, sizeof(out->source), "; %.40s agrees", tname);
	return 0;
}

int offsets__resolve(struct goelf *g, struct gopclntab *pt, struct go_offsets *out)
{
	const char *ver = goelf__go_version(g);
	struct go_offsets code, dw, tab;
	bool have_dw, have_tab;
	int err;

	err = offsets__from_code(g, pt, &code);
	if (err) {
		memset(out, 0, sizeof(*out));
		return -ENOTSUP;
	}
	have_tab = offsets__from_table(ver, &tab) == 0;
	have_dw = goelf__has_dwarf(g) && offsets__from_dwarf(g, &dw) == 0;
	err = offsets__decide(&code, have_dw ? &dw : NULL, have_tab ? &tab : NULL, out);
	if (err) {
		memset(out, 0, sizeof(*out));
		return err;
	}
	if (!have_tab)
		append(out->source, sizeof(out->source), "; Go version '%.32s' not in the table",
		       ver ? ver : "unknown");
	return 0;
}

/* ---- the status of a response writer ----------------------------------- */

int offsets__dwarf_member(struct goelf *g, const char *type, const char *member)
{
	const char *path = goelf__path(g);
	Dwarf_Off off = 0, next;
	size_t hsize;
	Dwarf *dw = NULL;
	Elf *elf = NULL;
	int fd, ret = -ENOENT;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	dw = elf ? dwarf_begin_elf(elf, DWARF_C_READ, NULL) : NULL;
	while (dw && ret == -ENOENT && dwarf_nextcu(dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
		Dwarf_Die cu, d;

		if (dwarf_offdie(dw, off + hsize, &cu) && dwarf_child(&cu, &d) == 0) {
			do {
				const char *n;

				if (dwarf_tag(&d) != DW_TAG_structure_type || !(n = dwarf_diename(&d)) ||
				    strcmp(n, type))
					continue;
				ret = member_offset(&d, member);
				if (ret < 0)
					ret = -EINVAL;
				break;
			} while (dwarf_siblingof(&d, &d) == 0);
		}
		off = next;
	}
	if (dw)
		dwarf_end(dw);
	if (elf)
		elf_end(elf);
	close(fd);
	return ret;
}

/* "pkg.(*T).m" -> "pkg.(*T).<method>" in BUF; false if NAME has no "(*T)." */
static bool sibling(const char *name, const char *method, char *buf, size_t size)
{
	const char *p = strstr(name, ").");

	if (!p || !strstr(name, ".(*"))
		return false;
	return (size_t)snprintf(buf, size, "%.*s%s", (int)(p + 2 - name), name, method) < size;
}

/* "pkg.(*T).m" -> "pkg.T<suffix>" in BUF: the DWARF name of the receiver's type. */
static bool recv_type(const char *name, const char *suffix, char *buf, size_t size)
{
	const char *a = strstr(name, ".(*"), *b = strstr(name, ").");

	if (!a || !b || b < a)
		return false;
	return (size_t)snprintf(buf, size, "%.*s.%.*s%s", (int)(a - name), name, (int)(b - a - 3), a + 3,
				suffix) < size;
}

static int status_refuse(struct go_status_off *out, const char *fmt, const char *a, const char *b)
{
	char why[400];

	snprintf(why, sizeof(why), fmt, a, b);
	snprintf(out->source, sizeof(out->source), "%s", why);
	cp_seterr("offset of %s: %s", out->field, why);
	out->status = -1;
	return -ENOTSUP;
}

int offsets__writer_status(struct goelf *g, struct gopclntab *pt, const char *end_func, bool h2,
			   struct go_status_off *out)
{
	char write[200], wtype[160], stype[160];
	struct fieldproof_hit h[MAXHITS], l;
	struct fieldproof *fp;
	int64_t rws = -1, rws_end = -1, st = -1;
	int n, dv;

	memset(out, 0, sizeof(*out));
	out->rws = -1;
	out->status = -1;
	if (!sibling(end_func, "write", write, sizeof(write)) ||
	    !recv_type(end_func, "", wtype, sizeof(wtype)) ||
	    !recv_type(end_func, "State", stype, sizeof(stype))) {
		snprintf(out->field, sizeof(out->field), "%s", end_func);
		return status_refuse(out, "'%s' is not a method%s", end_func, "");
	}
	snprintf(out->field, sizeof(out->field), "%s.status", h2 ? stype : wtype);
	/*
	 * (*response).write (server.go) and the HTTP/2 writers' write
	 * (h2_bundle.go, internal/http2/server.go, x/net/http2/server.go), the
	 * same in 1.19-1.27: after WriteHeader(200) if needed,
	 *   if !bodyAllowedForStatus(w.status) / (rws.status) { return 0, ErrBodyNotAllowed }
	 * with bodyAllowedForStatus (transfer.go) inlined: status compared
	 * with 204 and 304. The only such pair in the function.
	 */
	if (!(fp = decode_func(g, pt, write)))
		return status_refuse(out, "no '%s' in the binary%s", write, "");
	n = fieldproof__cmp_pair(fp, 204, 304, h, MAXHITS);
	if (one_disp(h, n, &st) != 1) {
		fieldproof__free(fp);
		return status_refuse(out, n ? "'%s' compares several fields with 204 and 304%s" :
					      "'%s' compares no field with 204 and 304%s", write, "");
	}
	/* HTTP/2: both methods start with rws := w.rws (the writer's only field) */
	if (h2 && fieldproof__first_load(fp, &l) == 1)
		rws = l.disp;
	fieldproof__free(fp);
	if (h2) {
		if ((fp = decode_func(g, pt, end_func))) {
			if (fieldproof__first_load(fp, &l) == 1)
				rws_end = l.disp;
			fieldproof__free(fp);
		}
		if (rws < 0 || rws != rws_end)
			return status_refuse(out, "'%s' and '%s' do not both start by loading w.rws", write,
					     end_func);
	}
	if (st < 0 || st > 4096 || rws > 4096)
		return status_refuse(out, "'%s' gives an implausible offset%s", write, "");
	out->status = (int32_t)st;
	out->rws = (int32_t)rws;
	if (h2)
		snprintf(out->source, sizeof(out->source), "code (%s; rws %d by it and %s)", write,
			 out->rws, end_func);
	else
		snprintf(out->source, sizeof(out->source), "code (%s)", write);
	if (!goelf__has_dwarf(g))
		return 0;
	dv = offsets__dwarf_member(g, h2 ? stype : wtype, "status");
	if (dv >= 0 && dv != out->status) {
		char a[32], b[32];

		snprintf(a, sizeof(a), "%d", out->status);
		snprintf(b, sizeof(b), "%d", dv);
		return status_refuse(out, "code says %s, DWARF says %s", a, b);
	}
	if (dv >= 0 && h2) {
		int rv = offsets__dwarf_member(g, wtype, "rws");

		if (rv >= 0 && rv != out->rws) {
			char a[32], b[32];

			snprintf(a, sizeof(a), "%d", out->rws);
			snprintf(b, sizeof(b), "%d", rv);
			snprintf(out->field, sizeof(out->field), "%s.rws", wtype);
			return status_refuse(out, "code says %s, DWARF says %s", a, b);
		}
	}
	if (dv >= 0) {
		size_t len = strlen(out->source);

		snprintf(out->source + len, sizeof(out->source) - len, "; DWARF agrees");
	}
	return 0;
}
