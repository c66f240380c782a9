/* SPDX-License-Identifier: MIT */
/*
 * offsets: the Go struct field offsets cpprof's BPF programs read
 * (net/http.Request.Method, .URL, net/url.URL.Path, .RawQuery), proven
 * from the binary's own code (standard-library functions that read those
 * fields, decoded by fieldproof.c), and cross-checked with DWARF where the
 * binary has it and with a table by Go version (tools/gen_offsets.sh).
 * Any disagreement, or a field nothing in the binary proves, is refused
 * with one line naming the field: the table alone never decides.
 */
#ifndef CPPROF_OFFSETS_H
#define CPPROF_OFFSETS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct goelf;
struct gopclntab;

enum go_off_field {
	GO_OFF_REQUEST_METHOD = 0,
	GO_OFF_REQUEST_URL,
	GO_OFF_URL_PATH,
	GO_OFF_URL_RAWQUERY,
	GO_OFF__FIELDS,
};

struct go_offsets {
	/* net/http.Request */
	int32_t request_method;   /* string */
	int32_t request_url;      /* *url.URL */
	/* net/url.URL */
	int32_t url_path;         /* string */
	int32_t url_rawquery;     /* string */
	/* summary, stored with the target: "code; DWARF agrees; table go1.21 agrees" */
	char source[160];
	/* per field: "code (net/http.serverHandler.ServeHTTP, net/http.readRequest); table go1.21 agrees" */
	char field_source[GO_OFF__FIELDS][224];
};

/* "net/url.URL.RawQuery" */
const char *offsets__field_name(enum go_off_field f);
/* The offset of field F in O (an lvalue). */
int32_t *offsets__field(struct go_offsets *o, enum go_off_field f);

/*
 * Fill OUT for G: code proof (PT is G's function table), DWARF if
 * present, the table row of G's Go version if any. Returns 0, or
 * -ENOTSUP with cp_lasterr() naming the field, e.g. "offset of
 * net/url.URL.RawQuery: code says 88, table go1.26 says 96".
 */
int offsets__resolve(struct goelf *g, struct gopclntab *pt, struct go_offsets *out);

/*
 * The deciding step of offsets__resolve, for tests: CODE (fields -1 where
 * unproven, field_source[] naming the functions), DWARF and TABLE (NULL
 * when absent; TABLE's source is its name, "table go1.26"). 0 with OUT
 * filled, or -ENOTSUP with cp_lasterr() set.
 */
int offsets__decide(const struct go_offsets *code, const struct go_offsets *dwarf,
		    const struct go_offsets *table, struct go_offsets *out);

/*
 * Code only: each field from the functions that read it, -1 where none
 * proves it (field_source[] then says what was missing). 0, or -EINVAL
 * when two functions contradict each other (cp_lasterr() says which).
 */
int offsets__from_code(struct goelf *g, struct gopclntab *pt, struct go_offsets *out);

/* Table only, by "go1.21.13"; 0 or -ENOENT. */
int offsets__from_table(const char *go_version, struct go_offsets *out);

/* DWARF only; 0, -ENOENT (no DWARF or types absent), or -EINVAL. */
int offsets__from_dwarf(struct goelf *g, struct go_offsets *out);

/* One line per field for inspect: "  net/url.URL.RawQuery     88  code (...); table go1.26 agrees" */
void offsets__print(const struct go_offsets *o, FILE *f);

/*
 * Where the end probe reads a request's status: in the response writer
 * itself (HTTP/1: net/http.response.status) or behind its state pointer
 * (HTTP/2: responseWriter.rws, then responseWriterState.status). Both
 * writers set status only together with wroteHeader and start from zero
 * (a new *response per request; *rws = responseWriterState{} per stream),
 * so 0 at the end means no WriteHeader yet, and the end itself then sends
 * 200 (finishRequest; handlerDone's Flush -> writeChunk -> writeHeader(200)).
 */
struct go_status_off {
	int32_t rws;           /* HTTP/2: offset of the writer's rws pointer; -1 for HTTP/1 */
	int32_t status;        /* offset of the int status; -1: not proven */
	char field[192];       /* "net/http.response.status" */
	char source[512];      /* how it was proven, or why not */
};

/*
 * Prove the status offset for the writer whose end method is END_FUNC
 * ("net/http.(*response).finishRequest", "...(*responseWriter).handlerDone"),
 * from the code of the writer's own write method (it inlines
 * bodyAllowedForStatus(status): compares with 204 and 304) and, for
 * HTTP/2, the first load of write and END_FUNC (rws := w.rws). DWARF,
 * when present, must agree. 0 with OUT proven; -ENOTSUP with OUT->source
 * and cp_lasterr() naming the field and the reason.
 */
int offsets__writer_status(struct goelf *g, struct gopclntab *pt, const char *end_func, bool h2,
			   struct go_status_off *out);

/* Offset of member MEMBER of struct TYPE in G's DWARF, or a negative errno. */
int offsets__dwarf_member(struct goelf *g, const char *type, const char *member);

/* Range of Go minor versions the table covers, e.g. 19 and 26. */
void offsets__table_range(int *min_minor, int *max_minor);

#endif
