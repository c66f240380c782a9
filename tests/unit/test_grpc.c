// SPDX-License-Identifier: MIT
/*
 * test_grpc: the gRPC probe plans of three real etcd servers, each with
 * every offset and register decoded from its own code and every site on
 * an emulated instruction:
 *
 *   /usr/bin/etcd                                3.4.23, Go 1.19, grpc 1.33 (bookworm)
 *   /var/cache/cpprof/etcd-trixie/usr/bin/etcd   3.5.16, Go 1.24, grpc 1.6x with Stream (trixie)
 *   /var/cache/cpprof/etcd-sid/usr/bin/etcd      3.5.30, Go 1.26, grpc 1.81 with ServerStream
 *                                                and the unexported writeStatus (sid)
 *
 * all stripped, without module info (Debian builds them in GOPATH mode).
 * Then copies of sid's etcd must be refused: one whose (*ServerStream).Method
 * accessor was patched to read another field (the accessor and
 * handleStream's inlined reads disagree), one whose (*ServerStream).WriteStatus
 * passes something else as the stream; and binaries that are not Go or
 * have no gRPC server.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "goelf.h"
#include "gopclntab.h"
#include "grpc.h"
#include "log.h"

#define ETCD34  "/usr/bin/etcd"
#define ETCD35T "/var/cache/cpprof/etcd-trixie/usr/bin/etcd"
#define ETCD35S "/var/cache/cpprof/etcd-sid/usr/bin/etcd"
#define TRANSPORT_NAME "google.golang.org/grpc/internal/transport."

struct want {
	const char *path;
	int stream_method, status_proto, proto_code;
	const char *end_h2, *end_handler; /* function name suffixes */
	const char *stream_src;           /* the accessor that agreed */
	const char *version;              /* what grpc_version says without module info */
};

static const struct want wants[] = {
	{ ETCD34, 0x48, 0, 0, "(*http2Server).WriteStatus", "(*serverHandlerTransport).WriteStatus",
	  "(*Stream).Method reads [rax+72]", "older than 1.69" },
	/* grpc 1.6x: Stream grew (ctx at 32), spb.Status is protobuf APIv2 (Code after 40 bytes of state) */
	{ ETCD35T, 80, 0, 40, "(*http2Server).WriteStatus", "(*serverHandlerTransport).WriteStatus",
	  "(*Stream).Method reads [rax+80]", "older than 1.69" },
	/* grpc 1.81: ServerStream embeds Stream{ctx, method, ...} first */
	{ ETCD35S, 16, 0, 40, "(*http2Server).writeStatus", "(*serverHandlerTransport).writeStatus",
	  "(*ServerStream).Method reads [rax+16]", "1.69 or newer" },
};

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static void test_plan(const struct want *w)
{
	struct grpc_plan *p = calloc(1, sizeof(*p));
	int i, err, nkind[GRPC_PROBE__KINDS] = {};

	if (access(w->path, R_OK)) {
		CHECK(0, "%s missing: run 'make deps' (etcd-server, tools/fetch_debian.sh)", w->path);
		free(p);
		return;
	}
	err = grpc_plan__build(w->path, p);
	CHECK(err == 0, "%s: plan: %s", w->path, cp_lasterr());
	CHECK_INT(p->off.stream_method, w->stream_method);
	CHECK_INT(p->off.status_proto, w->status_proto);
	CHECK_INT(p->off.proto_code, w->proto_code);
	CHECK(strstr(p->off.src_stream, w->stream_src) && strstr(p->off.src_stream, "stream in RDI"),
	      "%s: %s", w->path, p->off.src_stream);
	CHECK(strstr(p->off.src_status, "status in RCX") != NULL, "%s: %s", w->path, p->off.src_status);
	if (strcmp(w->path, ETCD35S) == 0) /* grpc 1.69+: the interface call of both transports' writeStatus */
		CHECK(strstr(p->off.src_status, "(*ServerStream).WriteStatus calls") != NULL, "%s", p->off.src_status);
	/* gogo etcdserverpb, the same in 3.4 and 3.5 */
	CHECK(p->off.etcd, "%s: etcd offsets: %s", w->path, p->off.src_etcd);
	CHECK(strstr(p->off.src_etcd, "request in RDI") != NULL, "%s: %s", w->path, p->off.src_etcd);
	CHECK_INT(p->off.req_key, 0);
	CHECK_INT(p->off.req_range_end, 24);
	CHECK_INT(p->off.txn_compare, 0);
	CHECK_INT(p->off.txn_success, 24);
	CHECK_INT(p->off.compare_key, 8);
	CHECK_INT(p->off.op_request, 0);
	CHECK_STR(p->component, "etcd");
	CHECK(strstr(p->grpc_version, w->version) != NULL, "%s: grpc version '%s'", w->path, p->grpc_version);
	for (i = 0; i < p->nsites; i++) {
		const struct probe_site *s = &p->sites[i].site;

		nkind[p->sites[i].kind]++;
		CHECK(s->emulated, "%s: '%s' not emulated", s->func, s->insn);
		CHECK(s->addr > s->entry && s->addr < s->entry + s->size, "%s: probe outside", s->func);
		CHECK(s->file_off != 0, "%s: no file offset", s->func);
		if (p->sites[i].kind == GRPC_PROBE_END_H2)
			CHECK(ends_with(s->func, w->end_h2), "%s: end_h2 on '%s'", w->path, s->func);
		if (p->sites[i].kind == GRPC_PROBE_END_HANDLER)
			CHECK(ends_with(s->func, w->end_handler), "%s: end_handler on '%s'", w->path, s->func);
	}
	CHECK_INT(nkind[GRPC_PROBE_START], 1);
	CHECK_INT(nkind[GRPC_PROBE_END_H2], 1);
	CHECK_INT(nkind[GRPC_PROBE_END_HANDLER], 1);
	CHECK_INT(nkind[GRPC_PROBE_ETCD_REQUEST], 4);
	free(p);
}

/* Copy SRC to DST; 0 or -1. */
static int copy_file(const char *src, const char *dst)
{
	char buf[1 << 16];
	int in = open(src, O_RDONLY), out = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ssize_t n;
	int err = in < 0 || out < 0 ? -1 : 0;

	while (!err && (n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, n) != n)
			err = -1;
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return err;
}

/*
 * A copy of sid's etcd with the function NAME patched: the first
 * occurrence of FROM in its code replaced by TO. The plan must refuse
 * with an error holding every string of WANT, instead of trusting
 * either side of a disagreement.
 */
static void test_patched(const char *name, const unsigned char *from, const unsigned char *to, size_t n,
			 const char *const *want)
{
	char tmpl[] = "/tmp/cpprof-test-grpc.XXXXXX", path[64];
	struct grpc_plan *p = calloc(1, sizeof(*p));
	struct gopclntab *pt = NULL;
	struct goelf *g = NULL;
	unsigned char code[256];
	struct gofunc f;
	uint64_t off = 0;
	size_t len = 0, i;
	int fd, err;

	if (access(ETCD35S, R_OK) || !mkdtemp(tmpl)) {
		CHECK(0, "%s missing or no temp dir", ETCD35S);
		free(p);
		return;
	}
	snprintf(path, sizeof(path), "%s/etcd", tmpl);
	CHECK(copy_file(ETCD35S, path) == 0, "copy %s", ETCD35S);
	g = goelf__open(path, &err);
	pt = g ? gopclntab__open(g, &err) : NULL;
	CHECK(pt && gopclntab__find(pt, name, &f) == 0 && goelf__vaddr_to_offset(g, f.entry, &off) == 0,
	      "find '%s'", name);
	if (off)
		len = f.end - f.entry < sizeof(code) ? f.end - f.entry : sizeof(code);
	gopclntab__close(pt);
	goelf__close(g);
	fd = open(path, O_RDWR);
	CHECK(fd >= 0 && off && pread(fd, code, len, off) == (ssize_t)len, "read '%s'", name);
	for (i = 0; i + n <= len && memcmp(code + i, from, n); i++)
		;
	CHECK(i + n <= len, "'%s' has the expected instruction", name);
	if (fd >= 0 && i + n <= len)
		CHECK(pwrite(fd, to, n, off + i) == (ssize_t)n, "patch");
	if (fd >= 0)
		close(fd);
	err = grpc_plan__build(path, p);
	CHECK_INT(err, -ENOTSUP);
	for (; *want; want++)
		CHECK(strstr(cp_lasterr(), *want) != NULL, "'%s' not in: %s", *want, cp_lasterr());
	unlink(path);
	rmdir(tmpl);
	free(p);
}

static void test_disagreements(void)
{
	/* (*ServerStream).Method "mov rcx, [rax+0x10]; mov rbx, [rax+0x18]" made to read 0x20/0x28 */
	static const unsigned char acc[] = { 0x48, 0x8b, 0x48, 0x10, 0x48, 0x8b, 0x58, 0x18 };
	static const unsigned char acc2[] = { 0x48, 0x8b, 0x48, 0x20, 0x48, 0x8b, 0x58, 0x28 };
	static const char *const acc_want[] = { "transport.Stream.method", "says 32", "at 16", NULL };
	/* (*ServerStream).WriteStatus's "mov rbx, rax" (the stream) made "mov rbx, rdx" */
	static const unsigned char wr[] = { 0x48, 0x89, 0xc3 }, wr2[] = { 0x48, 0x89, 0xd3 };
	static const char *const wr_want[] = { "(*ServerStream).WriteStatus", "stream in RBX", NULL };

	test_patched(TRANSPORT_NAME "(*ServerStream).Method", acc, acc2, sizeof(acc), acc_want);
	test_patched(TRANSPORT_NAME "(*ServerStream).WriteStatus", wr, wr2, sizeof(wr), wr_want);
}

static void test_refusals(void)
{
	struct grpc_plan *p = calloc(1, sizeof(*p));

	CHECK_INT(grpc_plan__build("/bin/true", p), -ENOEXEC);
	CHECK(strstr(cp_lasterr(), "not a Go binary") != NULL, "%s", cp_lasterr());
	CHECK(grpc_plan__build("/nonexistent/etcd", p) < 0, "a missing file plans");
	CHECK_STR(grpc_probe_kind_name(GRPC_PROBE_ETCD_REQUEST), "etcd_request");
	CHECK_STR(grpc_probe_kind_name(GRPC_PROBE__KINDS), "?");
	free(p);
}

int main(void)
{
	size_t i;

	for (i = 0; i < sizeof(wants) / sizeof(wants[0]); i++)
		test_plan(&wants[i]);
	test_disagreements();
	test_refusals();
	return check_summary("grpc");
}
