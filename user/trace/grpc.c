// SPDX-License-Identifier: MIT
/*
 * grpc: plan, attach and collect gRPC server calls (bpf/go_grpc.bpf.c).
 * See grpc.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <capstone/capstone.h>

#include "bpfutil.h"
#include "codeflow.h"
#include "cpprof/go_grpc.h"
#include "etcd_key.h"
#include "go_grpc.skel.h"
#include "goelf.h"
#include "gopclntab.h"
#include "grpc.h"
#include "log.h"
#include "retsites.h"

_Static_assert(sizeof(struct go_grpc_event) == 312, "go_grpc_event layout changed");
_Static_assert(sizeof(struct go_grpc_cfg) == 40, "go_grpc_cfg layout changed");
_Static_assert(sizeof(struct go_grpc_reqkey) == 136, "go_grpc_reqkey layout changed");

/* ---- planning -------------------------------------------------------- */

/*
 * The functions, by the suffix of their pclntab name (vendored copies
 * match too). etcd 3.4 is go.etcd.io/etcd/etcdserver/api/v3rpc, 3.5+
 * go.etcd.io/etcd/server/v3/etcdserver/api/v3rpc: the suffix covers both.
 */
static const struct {
	const char *suffix;
	enum grpc_probe_kind kind;
	int req_kind;
} wanted[] = {
	{ "google.golang.org/grpc.(*Server).handleStream", GRPC_PROBE_START, 0 },
	{ "google.golang.org/grpc/internal/transport.(*http2Server).WriteStatus", GRPC_PROBE_END_H2, 0 },
	{ "google.golang.org/grpc/internal/transport.(*serverHandlerTransport).WriteStatus", GRPC_PROBE_END_HANDLER, 0 },
	/*
	 * grpc 1.69+ (ServerStream split from Stream, grpc-go #7802): the
	 * transports' status writers are unexported, called through the
	 * internal interface by the small (*ServerStream).WriteStatus, which
	 * callers may inline; the transports' methods are always called,
	 * with the same (s, st) arguments (internal/transport/server_stream.go).
	 */
	{ "google.golang.org/grpc/internal/transport.(*http2Server).writeStatus", GRPC_PROBE_END_H2, 0 },
	{ "google.golang.org/grpc/internal/transport.(*serverHandlerTransport).writeStatus", GRPC_PROBE_END_HANDLER, 0 },
	/* grpc before 1.8 had no internal/ */
	{ "google.golang.org/grpc/transport.(*http2Server).WriteStatus", GRPC_PROBE_END_H2, 0 },
	{ "google.golang.org/grpc/transport.(*serverHandlerTransport).WriteStatus", GRPC_PROBE_END_HANDLER, 0 },
	{ "etcdserver/api/v3rpc.(*kvServer).Range", GRPC_PROBE_ETCD_REQUEST, GRPC_REQ_KEY_RANGE },
	{ "etcdserver/api/v3rpc.(*kvServer).DeleteRange", GRPC_PROBE_ETCD_REQUEST, GRPC_REQ_KEY_RANGE },
	{ "etcdserver/api/v3rpc.(*kvServer).Put", GRPC_PROBE_ETCD_REQUEST, GRPC_REQ_KEY },
	{ "etcdserver/api/v3rpc.(*kvServer).Txn", GRPC_PROBE_ETCD_REQUEST, GRPC_REQ_TXN },
};
#define NWANTED (int)(sizeof(wanted) / sizeof(wanted[0]))

const char *grpc_probe_kind_name(enum grpc_probe_kind k)
{
	static const char *names[] = { "start", "end_h2", "end_handler", "etcd_request" };

	return k < GRPC_PROBE__KINDS ? names[k] : "?";
}

/*
 * The loads of a small accessor method: "mov reg, [base + disp]" with no
 * index, in decoding order up to the first RET, as Capstone decodes them.
 */
struct mload {
	x86_reg dst, base;
	int64_t disp;
	int size;
};

/* The function named SUFFIX (exact name first, else the first whose name ends in "/" SUFFIX). */
static int find_func(struct gopclntab *pt, const char *suffix, struct gofunc *f)
{
	int i, cnt;

	if (gopclntab__find(pt, suffix, f) == 0)
		return 0;
	cnt = gopclntab__func_count(pt);
	for (i = 0; i < cnt; i++)
		if (gopclntab__func(pt, i, f) == 0 && plan_func_matches(f->name, suffix))
			return 0;
	return -ENOENT;
}

/* Loads of the function FUNC (suffix match); count, 0 if none, -ENOENT if no such function. */
static int func_loads(struct goelf *g, struct gopclntab *pt, const char *suffix, int max_insns,
		      struct mload *out, int max)
{
	const uint8_t *code;
	struct gofunc f;
	uint64_t addr;
	size_t left;
	cs_insn *in;
	csh h;
	int n = 0, k = 0;

	if (find_func(pt, suffix, &f))
		return -ENOENT;
	left = f.end - f.entry;
	if (left == 0 || left > 65536)
		return -EINVAL;
	code = goelf__ptr(g, f.entry, left);
	if (!code)
		return -EFAULT;
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &h) != CS_ERR_OK)
		return -EINVAL;
	cs_option(h, CS_OPT_DETAIL, CS_OPT_ON);
	in = cs_malloc(h);
	addr = f.entry;
	while (in && k++ < max_insns && n < max && cs_disasm_iter(h, &code, &left, &addr, in)) {
		cs_x86 *x = &in->detail->x86;

		if (in->id == X86_INS_RET)
			break;
		if (in->id == X86_INS_MOV && x->op_count == 2 && x->operands[0].type == X86_OP_REG &&
		    x->operands[1].type == X86_OP_MEM && x->operands[1].mem.index == X86_REG_INVALID &&
		    x->operands[1].mem.segment == X86_REG_INVALID &&
		    x->operands[1].mem.base != X86_REG_RIP && x->operands[1].mem.base != X86_REG_RSP) {
			out[n].dst = codeflow_reg64(x->operands[0].reg);
			out[n].base = x->operands[1].mem.base;
			out[n].disp = x->operands[1].mem.disp;
			out[n].size = x->operands[1].size;
			n++;
		}
	}
	if (in)
		cs_free(in, 1);
	cs_close(&h);
	return n;
}

/* true if NAME, a function at some PC, is one of the suffixes in the NULL-ended list */
static bool frame_is(const char *name, const char *const *suffixes)
{
	for (; name && *suffixes; suffixes++)
		if (plan_func_matches(name, *suffixes))
			return true;
	return false;
}

/* Scan F of G from register START (codeflow.h). */
static int flow_scan(struct goelf *g, struct gopclntab *pt, const struct gofunc *f, x86_reg start,
		     struct codeflow *fl)
{
	size_t size = f->end - f->entry;
	const uint8_t *code = size && size <= 1 << 20 ? goelf__ptr(g, f->entry, size) : NULL;

	if (!code) {
		cp_seterr("cannot read the code of '%s'", f->name);
		return -EFAULT;
	}
	return codeflow__scan(code, size, f->entry, start, pt, fl);
}

static void add_source(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void add_source(char *buf, size_t len, const char *fmt, ...)
{
	size_t n = strlen(buf);
	va_list ap;

	if (n && n + 2 < len) {
		memcpy(buf + n, "; ", 3);
		n += 2;
	}
	va_start(ap, fmt);
	vsnprintf(buf + n, len - n, fmt, ap);
	va_end(ap);
}

/*
 * A getter of a []byte or slice field: "mov rdx, [rax+D]; mov rbx,
 * [rax+D+8]; ..." (etcdserverpb's gogo getters, Go 1.17+ ABI). D or -1.
 */
static int getter_disp(struct goelf *g, struct gopclntab *pt, const char *suffix, int size)
{
	struct mload l[4];
	int n = func_loads(g, pt, suffix, 8, l, 4);

	if (n < 1 || l[0].base != X86_REG_RAX || l[0].size != size || l[0].disp < 0 || l[0].disp > 4096)
		return -1;
	return (int)l[0].disp;
}

/* "transport.(*http2Server).writeStatus" of "google.golang.org/grpc/internal/transport.(*http2Server).writeStatus" */
static const char *short_name(const char *name)
{
	const char *p = strrchr(name, '/');

	return p ? p + 1 : name;
}

#define TRANSPORT "google.golang.org/grpc/internal/transport."
#define TRANSPORT_OLD "google.golang.org/grpc/transport." /* grpc before 1.8 */

/* What a stream's Method() is called, inlined or not, in every grpc-go since 1.2x. */
static const char *const method_frames[] = {
	TRANSPORT "(*ServerStream).Method", /* 1.69+: ServerStream embeds Stream */
	TRANSPORT "(*Stream).Method",
	TRANSPORT_OLD "(*Stream).Method",
	NULL,
};

static const char *const code_frames[] = {
	"google.golang.org/grpc/internal/status.(*Status).Code",
	"google.golang.org/grpc/status.(*Status).Code",
	NULL,
};

/*
 * transport.Stream.method, and that (*Server).handleStream gets the
 * stream in RDI, where the start probe reads it.
 *
 * The accessor Method() is "mov rcx, [rax+D]; mov rbx, [rax+D+8]; ret".
 * grpc 1.69 (grpc-go #7802) split Stream into ServerStream (which
 * embeds it first) and ClientStream; handleStream takes a *ServerStream
 * since then, so the promoted (*ServerStream).Method is asked first: its
 * D is relative to the pointer the probes key calls by.
 *
 * handleStream itself begins "sm := stream.Method()" (server.go, grpc
 * 1.2x-1.8x) and reads the method again for tracing and stats. Its
 * signature lost trInfo in 1.60 and took a *ServerStream in 1.69; the
 * stream stays its second argument: receiver RAX, t RBX/RCX, stream RDI.
 * The flow from RDI must read both words of a string at one D, one of
 * them inside an inlined Method(). That proves the register and D at
 * once; the accessor, when linked in, must agree.
 */
static int find_stream_method(struct goelf *g, struct gopclntab *pt, const struct gofunc *hs,
			      struct grpc_offsets *o)
{
	static struct codeflow fl;
	const char *acc_name = NULL;
	int64_t cand[8];
	int ncand = 0, acc = -1, i, j, err;
	struct mload l[4];

	for (i = 0; method_frames[i]; i++) {
		int n = func_loads(g, pt, method_frames[i], 8, l, 4);

		if (n >= 2 && l[0].base == X86_REG_RAX && l[1].base == X86_REG_RAX && l[0].size == 8 &&
		    l[1].size == 8 && (l[1].disp == l[0].disp + 8 || l[0].disp == l[1].disp + 8)) {
			acc = (int)(l[0].disp < l[1].disp ? l[0].disp : l[1].disp);
			acc_name = method_frames[i] + strlen("google.golang.org/grpc/");
			break;
		}
	}
	err = flow_scan(g, pt, hs, X86_REG_RDI, &fl);
	if (err)
		return err;
	for (i = 0; i < fl.nreads; i++) {
		const struct codeflow_read *r = &fl.reads[i];
		int64_t d[2] = { r->disp, r->disp - 8 };

		if (r->tag != CODEFLOW_ARG || !frame_is(r->frame, method_frames) || !r->inlined)
			continue;
		for (j = 0; j < (r->size == 16 ? 1 : 2); j++) {
			int k;

			if (r->size != 8 && r->size != 16)
				break;
			if (!codeflow__reads(&fl, CODEFLOW_ARG, d[j], 8) || !codeflow__reads(&fl, CODEFLOW_ARG, d[j] + 8, 8))
				continue;
			for (k = 0; k < ncand && cand[k] != d[j]; k++)
				;
			if (k == ncand && ncand < 8)
				cand[ncand++] = d[j];
		}
	}
	if (ncand == 0 && acc >= 0 && gopclntab__gofunc(pt) == 0 &&
	    codeflow__reads(&fl, CODEFLOW_ARG, acc, 8) && codeflow__reads(&fl, CODEFLOW_ARG, acc + 8, 8))
		cand[ncand++] = acc; /* no inline tree (Go 1.17): the accessor's D read through RDI */
	if (ncand == 0) {
		cp_seterr("cannot find transport.Stream.method: '%s' reads no string through its stream "
			  "argument (RDI) in an inlined Method()", hs->name);
		return -ENOTSUP;
	}
	if (acc >= 0) {
		for (i = 0; i < ncand && cand[i] != acc; i++)
			;
		if (i == ncand) {
			cp_seterr("cannot find transport.Stream.method: '%s' says %d, but handleStream reads "
				  "the method through RDI at %lld", acc_name, acc, (long long)cand[0]);
			return -ENOTSUP;
		}
		o->stream_method = acc;
		snprintf(o->src_stream, sizeof(o->src_stream),
			 "%s reads [rax+%d]; handleStream reads [rdi+%d] in inlined Method(): stream in RDI",
			 acc_name, acc, acc);
		return 0;
	}
	if (ncand > 1) {
		cp_seterr("cannot find transport.Stream.method: handleStream reads strings at %lld and %lld "
			  "in Method() and no accessor decides", (long long)cand[0], (long long)cand[1]);
		return -ENOTSUP;
	}
	o->stream_method = (int)cand[0];
	snprintf(o->src_stream, sizeof(o->src_stream),
		 "handleStream reads [rdi+%d] in inlined Method(): stream in RDI (no accessor linked in)",
		 o->stream_method);
	return 0;
}

/*
 * grpc 1.69+: (*ServerStream).WriteStatus(st) is "return
 * s.st.writeStatus(s, st)", one call through the transport interface, the
 * same for both transports. When the wrapper is linked in, its flow must
 * pass its receiver (RAX) in RBX and its status (RBX) in RCX to that call:
 * the end probes' registers, proven for serverHandlerTransport too.
 */
static int check_status_wrapper(struct goelf *g, struct gopclntab *pt, struct grpc_offsets *o)
{
	static struct codeflow fs, fst;
	struct gofunc f;
	int i, j, err;

	if (find_func(pt, TRANSPORT "(*ServerStream).WriteStatus", &f))
		return 0; /* before 1.69, or inlined everywhere */
	err = flow_scan(g, pt, &f, X86_REG_RAX, &fs);
	if (!err)
		err = flow_scan(g, pt, &f, X86_REG_RBX, &fst);
	if (err)
		return err;
	for (i = 0; i < fs.ncalls; i++)
		for (j = 0; j < fst.ncalls; j++)
			if (fs.calls[i].pc == fst.calls[j].pc && !fs.calls[i].callee &&
			    fs.calls[i].rbx_tag == CODEFLOW_ARG && fst.calls[j].rcx_tag == CODEFLOW_ARG) {
				add_source(o->src_status, sizeof(o->src_status),
					   "(*ServerStream).WriteStatus calls the transport's writeStatus "
					   "(interface) with the stream in RBX, the status in RCX");
				return 0;
			}
	cp_seterr("cannot prove the status writers' registers: '%s' does not pass its stream in RBX "
		  "and its status in RCX through the transport interface", f.name);
	return -ENOTSUP;
}

/*
 * The status code: status.Status is struct{ s *spb.Status }, Code() is
 * "if s == nil || s.s == nil { return OK }; return s.s.Code"
 * (internal/status/status.go), and spb.Status.Code sits at 0 with
 * golang/protobuf's old generated structs but after protoimpl's state,
 * sizeCache and unknownFields (40) with APIv2 (genproto 2020+).
 *
 * And the end probes' registers: (*http2Server).WriteStatus/writeStatus
 * (s *Stream, st *status.Status) has st in RCX and s in RBX by the
 * register ABI; its flow from RCX must read [st + Status.s] and then the
 * code inside an inlined Code() (or pass st to Code()), proving st in
 * RCX, hence exactly one word-sized argument, the stream, in RBX.
 * serverHandlerTransport implements the same ServerTransport interface
 * method, so its signature is the same.
 */
static int find_status(struct goelf *g, struct gopclntab *pt, const struct gofunc *end_h2,
		       struct grpc_offsets *o)
{
	static struct codeflow fl;
	struct mload l[4];
	int n = -ENOENT, d, i, err, ptag;
	bool proved = false;

	for (i = 0; code_frames[i] && n < 0; i++)
		n = func_loads(g, pt, code_frames[i], 12, l, 4);
	if (n >= 2 && l[0].base == X86_REG_RAX && l[0].size == 8 && l[1].base == l[0].dst &&
	    l[1].size == 4) {
		o->status_proto = (int)l[0].disp;
		o->proto_code = (int)l[1].disp;
		snprintf(o->src_status, sizeof(o->src_status), "(*Status).Code reads [[rax+%d]+%d]",
			 o->status_proto, o->proto_code);
	} else if ((d = getter_disp(g, pt, "google.golang.org/genproto/googleapis/rpc/status.(*Status).GetCode", 4)) >= 0) {
		o->status_proto = 0;
		o->proto_code = d;
		snprintf(o->src_status, sizeof(o->src_status),
			 "spb (*Status).GetCode reads [rax+%d], status.Status{s} has s at 0", d);
	} else {
		cp_seterr("cannot find the status code layout: no (*status.Status).Code or spb (*Status).GetCode to decode");
		return -ENOTSUP;
	}
	if (!end_h2) {
		cp_seterr("cannot prove where WriteStatus gets the status: no (*http2Server) status writer");
		return -ENOTSUP;
	}
	err = flow_scan(g, pt, end_h2, X86_REG_RCX, &fl);
	if (err)
		return err;
	ptag = codeflow__tag(&fl, CODEFLOW_ARG, o->status_proto);
	for (i = 0; i < fl.nreads && !proved; i++) {
		const struct codeflow_read *r = &fl.reads[i];

		proved = ptag && r->tag == ptag && r->disp == o->proto_code && r->size == 4 &&
			 frame_is(r->frame, code_frames);
	}
	for (i = 0; i < fl.ncalls && !proved; i++)
		proved = fl.calls[i].rax_tag == CODEFLOW_ARG && frame_is(fl.calls[i].callee, code_frames);
	if (!proved) {
		cp_seterr("cannot prove the status argument of '%s' is in RCX: it reads no [[rcx+%d]+%d] in Code()",
			  end_h2->name, o->status_proto, o->proto_code);
		return -ENOTSUP;
	}
	add_source(o->src_status, sizeof(o->src_status), "%s reads them through RCX: status in RCX, stream in RBX",
		   short_name(end_h2->name));
	return check_status_wrapper(g, pt, o);
}

/*
 * etcdserverpb's generated getters give the request layouts. The gogo
 * structs put Key first and RangeEnd second (rpc.proto field order) in
 * 3.4 and 3.5 alike; the getters prove it for this binary. And the
 * handlers' registers: v3rpc (*kvServer).Range/Put/DeleteRange(ctx, r)
 * has r in RDI by the register ABI, which their inlined
 * check*Request(r) proves by reading len(r.Key) through RDI; Txn passes
 * RDI to checkTxnRequest(r, ...) (etcd v3rpc/key.go, 3.4 and 3.5). Not
 * fatal when unproven: calls are still traced, without keys.
 */
static void find_etcd(struct goelf *g, struct gopclntab *pt, const struct grpc_plan *plan,
		      struct grpc_offsets *o)
{
#define PB "etcdserverpb."
	static struct codeflow fl;
	int i, j;

	o->req_key = getter_disp(g, pt, PB "(*RangeRequest).GetKey", 8);
	o->req_range_end = getter_disp(g, pt, PB "(*RangeRequest).GetRangeEnd", 8);
	o->txn_compare = getter_disp(g, pt, PB "(*TxnRequest).GetCompare", 8);
	o->txn_success = getter_disp(g, pt, PB "(*TxnRequest).GetSuccess", 8);
	o->compare_key = getter_disp(g, pt, PB "(*Compare).GetKey", 8);
	o->op_request = getter_disp(g, pt, PB "(*RequestOp).GetRequest", 8);
	if (o->req_key < 0 || o->req_range_end < 0 || o->txn_compare < 0 || o->txn_success < 0 ||
	    o->compare_key < 0 || o->op_request < 0 ||
	    getter_disp(g, pt, PB "(*PutRequest).GetKey", 8) != o->req_key ||
	    getter_disp(g, pt, PB "(*DeleteRangeRequest).GetKey", 8) != o->req_key ||
	    getter_disp(g, pt, PB "(*DeleteRangeRequest).GetRangeEnd", 8) != o->req_range_end) {
		snprintf(o->src_etcd, sizeof(o->src_etcd),
			 "etcd request layout unknown (getters missing or disagreeing): no keys");
		return;
	}
#undef PB
	snprintf(o->src_etcd, sizeof(o->src_etcd), "etcdserverpb getters");
	for (i = 0; i < plan->nsites; i++) {
		const struct grpc_site *s = &plan->sites[i];
		struct gofunc f;
		bool proved = false;

		if (s->kind != GRPC_PROBE_ETCD_REQUEST)
			continue;
		if (gopclntab__lookup(pt, s->site.entry, &f) || flow_scan(g, pt, &f, X86_REG_RDI, &fl)) {
			snprintf(o->src_etcd, sizeof(o->src_etcd), "cannot decode '%s': no keys", s->site.func);
			return;
		}
		if (s->req_kind == GRPC_REQ_TXN) {
			for (j = 0; j < fl.ncalls && !proved; j++)
				proved = fl.calls[j].rax_tag == CODEFLOW_ARG && fl.calls[j].callee &&
					 plan_func_matches(fl.calls[j].callee, "etcdserver/api/v3rpc.checkTxnRequest");
		} else {
			proved = codeflow__reads(&fl, CODEFLOW_ARG, o->req_key + 8, 8);
		}
		if (!proved) {
			snprintf(o->src_etcd, sizeof(o->src_etcd),
				 "'%s' not proven to take the request in RDI (%s): no keys", s->site.func,
				 s->req_kind == GRPC_REQ_TXN ? "no checkTxnRequest(rdi)" : "no len(r.Key) read through RDI");
			return;
		}
	}
	o->etcd = true;
	add_source(o->src_etcd, sizeof(o->src_etcd),
		   "Range/Put/DeleteRange read len(r.Key) through RDI, Txn calls checkTxnRequest(rdi): request in RDI");
}

static int find_offsets(struct goelf *g, struct gopclntab *pt, const struct gofunc *handle_stream,
			const struct gofunc *end_h2, const struct grpc_plan *plan, bool want_etcd,
			struct grpc_offsets *o)
{
	int err;

	memset(o, 0, sizeof(*o));
	o->stream_method = -1;
	err = find_stream_method(g, pt, handle_stream, o);
	if (!err)
		err = find_status(g, pt, end_h2, o);
	if (!err && want_etcd)
		find_etcd(g, pt, plan, o);
	return err;
}

int grpc_plan__build(const char *path, struct grpc_plan *plan)
{
	struct gopclntab *pt = NULL;
	struct goelf *g = NULL;
	const struct goelf_module *mod;
	struct gofunc hs = {}, h2 = {};
	bool have_h2 = false, have_start = false, have_end = false, have_etcd = false;
	int err, i, n, w;

	memset(plan, 0, sizeof(*plan));
	snprintf(plan->path, sizeof(plan->path), "%s", path);
	err = plan__open_go(path, &g, &pt);
	if (!pt)
		return err;
	snprintf(plan->go_version, sizeof(plan->go_version), "%s", goelf__go_version(g) ?: "unknown");
	snprintf(plan->component, sizeof(plan->component), "%s",
		 plan_component(goelf__main_path(g), path));
	mod = goelf__find_module(g, "google.golang.org/grpc");
	snprintf(plan->grpc_version, sizeof(plan->grpc_version), "%s",
		 mod && mod->version ? mod->version : "unknown (no module info)");
	err = plan__check_regabi(plan->go_version, "gRPC");
	if (err)
		goto cleanup;

	n = gopclntab__func_count(pt);
	for (i = 0; i < n; i++) {
		struct gofunc f;

		if (gopclntab__func(pt, i, &f))
			continue;
		for (w = 0; w < NWANTED; w++) {
			struct grpc_site *s;

			if (!plan_func_matches(f.name, wanted[w].suffix))
				continue;
			if (plan->nsites >= GRPC_PLAN_MAX_SITES) {
				cp_seterr("too many gRPC server copies in the binary (more than %d functions)",
					  GRPC_PLAN_MAX_SITES);
				err = -E2BIG;
				goto cleanup;
			}
			s = &plan->sites[plan->nsites];
			err = plan__site(g, &f, PROBE__KINDS, &s->site);
			if (err)
				goto cleanup;
			s->kind = wanted[w].kind;
			s->req_kind = wanted[w].req_kind;
			plan->nsites++;
			if (s->kind == GRPC_PROBE_START) {
				if (have_start) {
					cp_seterr("two gRPC servers in the binary ('%s' and '%s'): not supported yet",
						  hs.name, f.name);
					err = -ENOTSUP;
					goto cleanup;
				}
				have_start = true;
				hs = f;
			}
			if (s->kind == GRPC_PROBE_END_H2) {
				if (have_h2) {
					cp_seterr("two gRPC status writers in the binary ('%s' and '%s'): not supported yet",
						  h2.name, f.name);
					err = -ENOTSUP;
					goto cleanup;
				}
				have_h2 = true;
				h2 = f;
			}
			have_end |= s->kind == GRPC_PROBE_END_H2 || s->kind == GRPC_PROBE_END_HANDLER;
			have_etcd |= s->kind == GRPC_PROBE_ETCD_REQUEST;
		}
	}
	if (!have_start || !have_end) {
		cp_seterr("no '%s' in the binary: not a gRPC server",
			  !have_start ? wanted[0].suffix : "transport WriteStatus or writeStatus");
		err = -ENOENT;
		goto cleanup;
	}
	err = find_offsets(g, pt, &hs, have_h2 ? &h2 : NULL, plan, have_etcd, &plan->off);
	if (err)
		goto cleanup;
	if (!mod || !mod->version)
		/* what the code itself says (grpc-go #7802, v1.69.0) */
		snprintf(plan->grpc_version, sizeof(plan->grpc_version),
			 "unknown (no module info; its code has %s: %s)",
			 strstr(h2.name, ").writeStatus") ? "ServerStream, writeStatus" : "Stream, WriteStatus",
			 strstr(h2.name, ").writeStatus") ? "1.69 or newer" : "older than 1.69");
	if (have_etcd && !plan->off.etcd) {
		/* keep the calls, drop the key probes */
		for (i = w = 0; i < plan->nsites; i++)
			if (plan->sites[i].kind != GRPC_PROBE_ETCD_REQUEST)
				plan->sites[w++] = plan->sites[i];
		plan->nsites = w;
	}
cleanup:
	gopclntab__close(pt);
	goelf__close(g);
	return err;
}

int grpc_plan__print(const char *path, FILE *f)
{
	struct grpc_plan *p = malloc(sizeof(*p));
	const struct grpc_offsets *o;
	int err, i;

	if (!p)
		return -ENOMEM;
	err = grpc_plan__build(path, p);
	if (err) {
		fprintf(f, "grpc:          none (%s)\n", cp_lasterr());
		free(p);
		return err;
	}
	o = &p->off;
	fprintf(f, "grpc version:  %s\n", p->grpc_version);
	fprintf(f, "grpc offsets:  Stream.method %d\n               (%s)\n", o->stream_method, o->src_stream);
	fprintf(f, "               Status.s %d, Status.Code %d\n               (%s)\n", o->status_proto,
		o->proto_code, o->src_status);
	if (o->etcd)
		fprintf(f, "               Key %d, RangeEnd %d, Txn.Compare %d, Txn.Success %d, Compare.Key %d, RequestOp.Request %d\n"
			"               (%s)\n", o->req_key, o->req_range_end, o->txn_compare, o->txn_success,
			o->compare_key, o->op_request, o->src_etcd);
	else if (o->src_etcd[0])
		fprintf(f, "               etcd keys: none (%s)\n", o->src_etcd);
	fprintf(f, "grpc probes:\n");
	fprintf(f, "  %-13s %-18s %-18s %-4s %-12s %s\n", "KIND", "ENTRY", "PROBE", "RETS", "COST",
		"FUNCTION / INSTRUCTION");
	for (i = 0; i < p->nsites; i++) {
		const struct probe_site *s = &p->sites[i].site;

		fprintf(f, "  %-13s 0x%-16llx 0x%-16llx %-4d %-12s %s\n",
			grpc_probe_kind_name(p->sites[i].kind), (unsigned long long)s->entry,
			(unsigned long long)s->addr, s->nret, s->emulated ? "emulated" : "single-step",
			s->func);
		fprintf(f, "  %-13s %-18s %-18s %-4s %-12s %s (%s)\n", "", "", "", "", "", s->insn,
			s->once ? "after the stack check: once per call" :
			s->at_jcc ? "prologue stack check: may fire twice" : "entry: may fire twice");
	}
	free(p);
	return 0;
}

/* ---- tracing --------------------------------------------------------- */

#define GRPC_MAX_TARGETS 64
#define GRPC_MAX_LINKS   (GRPC_MAX_TARGETS * GRPC_PLAN_MAX_SITES)

struct grpc_target {
	int pid;
	int64_t run_id, target_id;
	char component[16];
};

struct grpc_tracer {
	struct go_grpc_bpf *skel;
	struct ring_buffer *rb;
	struct grpc_tracer_opts opts;
	char prefix[128];
	int64_t mono_to_real;
	struct grpc_target targets[GRPC_MAX_TARGETS];
	int ntargets;
	struct bpfutil_link links[GRPC_MAX_LINKS];
	int nlinks;
	uint64_t unknown, swept;
	/* the current poll's callback */
	grpc_call_fn fn;
	void *fn_ctx;
	int fn_err;
};

static int64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int handle_event(void *ctx, void *data, size_t len)
{
	struct grpc_tracer *t = ctx;
	const struct go_grpc_event *e = data;
	const struct grpc_target *tg = NULL;
	char method[GRPC_METHOD_MAX + 1];
	struct etcd_key k;
	struct request_rec r;
	struct grpc_call c;
	size_t mlen, klen;
	int i, err;

	if (len < sizeof(*e) || t->fn_err)
		return 0;
	for (i = 0; i < t->ntargets; i++)
		if (t->targets[i].pid == (int)e->tgid)
			tg = &t->targets[i];
	if (!tg) {
		t->unknown++;
		return 0;
	}
	mlen = e->method_len < GRPC_METHOD_MAX - 1 ? e->method_len : GRPC_METHOD_MAX - 1;
	memcpy(method, e->method, mlen);
	method[mlen] = 0;
	klen = e->key_len < GRPC_KEY_MAX - 1 ? e->key_len : GRPC_KEY_MAX - 1;
	etcd_key__parse(t->prefix, method, (e->flags & GO_GRPC_F_HAS_KEY) ? e->key : NULL, klen,
			e->range_end_len, &k);

	memset(&r, 0, sizeof(r));
	r.run_id = tg->run_id;
	r.target_id = tg->target_id;
	r.component = tg->component;
	r.protocol = "gRPC";
	r.method = method;
	r.verb = k.verb;
	r.api_group = k.group;
	r.api_version = "";
	r.resource = k.resource;
	r.subresource = "";
	r.namespace = k.namespace;
	r.scope = k8s_scope_name(k.scope);
	r.name = t->opts.store_names && k.name[0] ? k.name : NULL;
	r.watch = strcmp(k.verb, "watch") == 0;
	r.status = (int)e->code;
	r.start_ns = (int64_t)e->start_ns + t->mono_to_real;
	r.latency_ns = e->end_ns > e->start_ns ? (int64_t)(e->end_ns - e->start_ns) : 0;

	memset(&c, 0, sizeof(c));
	c.pid = tg->pid;
	c.method = method;
	c.key_group = k.group;
	c.is_list = k.is_list;
	c.tls_handler = e->flags & GO_GRPC_F_HANDLER;
	c.stream = e->stream;
	c.start_mono_ns = e->start_ns;
	c.has_key = e->flags & GO_GRPC_F_HAS_KEY;
	c.code = (int)e->code;
	err = t->fn ? t->fn(t->fn_ctx, &r, &c) : 0;
	if (err)
		t->fn_err = err;
	return 0;
}

int grpc_tracer__inflight_fd(const struct grpc_tracer *t)
{
	return bpf_map__fd(t->skel->maps.inflight);
}

struct grpc_tracer *grpc_tracer__open(const struct grpc_tracer_opts *o, int *err)
{
	struct grpc_tracer *t;

	*err = bpfutil__require_root();
	if (*err)
		return NULL;
	libbpf_set_print(bpfutil__libbpf_print);
	t = calloc(1, sizeof(*t));
	if (!t) {
		*err = -ENOMEM;
		return NULL;
	}
	if (o)
		t->opts = *o;
	snprintf(t->prefix, sizeof(t->prefix), "%s",
		 t->opts.key_prefix ? t->opts.key_prefix : ETCD_KEY_PREFIX_DEFAULT);
	t->opts.key_prefix = t->prefix;
	t->mono_to_real = clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_MONOTONIC);
	t->skel = go_grpc_bpf__open();
	if (!t->skel) {
		*err = -errno;
		cp_seterr("cannot open the gRPC BPF object: %s", strerror(errno));
		goto fail;
	}
	t->skel->rodata->wakeup_bytes = bpf_map__max_entries(t->skel->maps.events) / 4;
	if (o && o->goreq_fd > 0) {
		t->skel->rodata->track_goroutines = 1;
		*err = bpfutil__share_map(t->skel->maps.goreq, o->goreq_fd, "the goroutine map with the gRPC tracer");
		if (*err)
			goto fail;
	}
	*err = go_grpc_bpf__load(t->skel);
	if (*err) {
		bpfutil__load_failed("the gRPC BPF programs", *err);
		goto fail;
	}
	t->rb = bpfutil__ring_open(t->skel->maps.events, handle_event, t, "the gRPC ring buffer", err);
	if (!t->rb)
		goto fail;
	return t;
fail:
	grpc_tracer__close(t);
	return NULL;
}

void grpc_tracer__close(struct grpc_tracer *t)
{
	if (!t)
		return;
	ring_buffer__free(t->rb);
	bpfutil__links_truncate(t->links, &t->nlinks, 0);
	go_grpc_bpf__destroy(t->skel);
	free(t);
}

static struct bpf_program *prog_for(struct grpc_tracer *t, enum grpc_probe_kind k)
{
	switch (k) {
	case GRPC_PROBE_START:        return t->skel->progs.handle_stream;
	case GRPC_PROBE_END_H2:       return t->skel->progs.write_status_h2;
	case GRPC_PROBE_END_HANDLER:  return t->skel->progs.write_status_handler;
	case GRPC_PROBE_ETCD_REQUEST: return t->skel->progs.etcd_request;
	default:                      return NULL;
	}
}

int grpc_tracer__add_target(struct grpc_tracer *t, int pid, const char *exe, int64_t run_id,
			    int64_t target_id, const char *component)
{
	struct grpc_plan *p;
	struct go_grpc_cfg cfg = {};
	char procexe[64];
	uint32_t key = pid;
	int i, err, first = t->nlinks;

	snprintf(procexe, sizeof(procexe), "/proc/%d/exe", pid);
	if (t->ntargets >= GRPC_MAX_TARGETS) {
		cp_seterr("too many gRPC targets (at most %d)", GRPC_MAX_TARGETS);
		return -E2BIG;
	}
	p = malloc(sizeof(*p));
	if (!p)
		return -ENOMEM;
	err = grpc_plan__build(exe ? exe : procexe, p);
	if (err)
		goto out;
	if (t->nlinks + p->nsites > GRPC_MAX_LINKS) {
		cp_seterr("too many gRPC probes (at most %d)", GRPC_MAX_LINKS);
		err = -E2BIG;
		goto out;
	}
	cfg.stream_method = p->off.stream_method;
	cfg.status_proto = p->off.status_proto;
	cfg.proto_code = p->off.proto_code;
	cfg.req_key = p->off.req_key;
	cfg.req_range_end = p->off.req_range_end;
	cfg.txn_compare = p->off.txn_compare;
	cfg.txn_success = p->off.txn_success;
	cfg.compare_key = p->off.compare_key;
	cfg.op_request = p->off.op_request;
	if (bpf_map__update_elem(t->skel->maps.targets, &key, sizeof(key), &cfg, sizeof(cfg), BPF_ANY)) {
		err = -errno;
		cp_seterr("cannot configure gRPC target: %s", strerror(errno));
		goto out;
	}
	for (i = 0; i < p->nsites; i++) {
		const struct grpc_site *gs = &p->sites[i];
		const struct probe_site *s = &gs->site;
		uint64_t cookie = gs->kind == GRPC_PROBE_ETCD_REQUEST ? (uint64_t)gs->req_kind :
				  s->once ? 0 : GRPC_COOKIE_REPEATS;
		struct bpf_link *link;

		/* through /proc: the inode the process really runs */
		link = bpfutil__attach_site(prog_for(t, gs->kind), pid, procexe, s, cookie, &err);
		if (!link)
			goto fail;
		t->links[t->nlinks].pid = pid;
		t->links[t->nlinks].link = link;
		t->nlinks++;
		debug("grpc: attached %s at 0x%llx (%s)\n", s->func, (unsigned long long)s->addr, s->insn);
	}
	t->targets[t->ntargets].pid = pid;
	t->targets[t->ntargets].run_id = run_id;
	t->targets[t->ntargets].target_id = target_id;
	snprintf(t->targets[t->ntargets].component, sizeof(t->targets[0].component), "%s",
		 component ? component : p->component);
	t->ntargets++;
	err = 0;
	goto out;
fail:
	bpfutil__links_truncate(t->links, &t->nlinks, first);
	bpf_map__delete_elem(t->skel->maps.targets, &key, sizeof(key), 0);
out:
	free(p);
	return err;
}

static int sweep(struct grpc_tracer *t, int pid, uint64_t older_than_ns)
{
	int fd = bpf_map__fd(t->skel->maps.inflight), n = 0;
	struct go_grpc_key key, next, *prev = NULL;
	struct go_grpc_inflight v;
	uint64_t now = (uint64_t)clock_ns(CLOCK_MONOTONIC);

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		bool stale = false;

		if (bpf_map_lookup_elem(fd, &next, &v) == 0)
			stale = (pid > 0 && (int)next.tgid == pid) ||
				(older_than_ns && v.start_ns + older_than_ns < now);
		if (stale && bpf_map_delete_elem(fd, &next) == 0) {
			n++;
			continue; /* restart from the key before the deleted one */
		}
		key = next;
		prev = &key;
	}
	t->swept += n;
	return n;
}

int grpc_tracer__sweep(struct grpc_tracer *t, uint64_t older_than_ns)
{
	return older_than_ns ? sweep(t, 0, older_than_ns) : 0;
}

static void detach(struct grpc_tracer *t, int pid, bool exited)
{
	uint32_t key = pid;
	int i, j = 0;

	t->nlinks = exited ? bpfutil__links_drop_pid_later(t->links, t->nlinks, pid) :
			     bpfutil__links_drop_pid(t->links, t->nlinks, pid);
	for (i = j = 0; i < t->ntargets; i++)
		if (t->targets[i].pid != pid)
			t->targets[j++] = t->targets[i];
	t->ntargets = j;
	bpf_map__delete_elem(t->skel->maps.targets, &key, sizeof(key), 0);
	sweep(t, pid, 0);
}

void grpc_tracer__detach(struct grpc_tracer *t, int pid)
{
	detach(t, pid, false);
}

void grpc_tracer__forget(struct grpc_tracer *t, int pid)
{
	detach(t, pid, true);
}

int grpc_tracer__poll(struct grpc_tracer *t, int timeout_ms, grpc_call_fn fn, void *ctx)
{
	int n, m;

	t->fn = fn;
	t->fn_ctx = ctx;
	t->fn_err = 0;
	n = ring_buffer__poll(t->rb, timeout_ms);
	if (n == -EINTR)
		n = 0;
	/* the BPF side wakes us only when the ring fills: drain the rest too */
	if (n >= 0 && !t->fn_err) {
		m = ring_buffer__consume(t->rb);
		n = m < 0 ? m : n + m;
	}
	t->fn = NULL;
	return t->fn_err ? t->fn_err : n;
}

int grpc_tracer__stats(struct grpc_tracer *t, struct grpc_tracer_stats *out)
{
	uint64_t sum[GSTAT__MAX];
	int err;

	err = bpfutil__percpu_sum(bpf_map__fd(t->skel->maps.stats), GSTAT__MAX, sum);
	if (err)
		return err;
	memset(out, 0, sizeof(*out));
	out->starts = sum[GSTAT_STARTS];
	out->ends = sum[GSTAT_ENDS];
	out->lost = sum[GSTAT_RB_DROPS];
	out->no_start = sum[GSTAT_NO_START];
	out->double_entry = sum[GSTAT_DOUBLE_ENTRY];
	out->double_end = sum[GSTAT_DOUBLE_END];
	out->replaced = sum[GSTAT_REPLACED];
	out->read_err = sum[GSTAT_READ_ERR];
	out->inflight_full = sum[GSTAT_INFLIGHT_FULL];
	out->keys = sum[GSTAT_KEYS];
	out->unknown_pid = t->unknown;
	out->swept = t->swept;
	return 0;
}
