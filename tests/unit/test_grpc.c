// SPDX-License-Identifier: MIT
/*
 * test_grpc: the gRPC probe plan of Debian's etcd (/usr/bin/etcd: 3.4.23,
 * Go 1.19, stripped, grpc 1.33 without module info), with offsets decoded
 * from its accessors and every site on an emulated instruction; and the
 * refusals for binaries that are not Go or have no gRPC server.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "grpc.h"
#include "log.h"

static void test_etcd(void)
{
	struct grpc_plan *p = calloc(1, sizeof(*p));
	int i, err, nkind[GRPC_PROBE__KINDS] = {};

	if (access("/usr/bin/etcd", R_OK)) {
		CHECK(0, "/usr/bin/etcd missing: run 'make deps' (etcd-server)");
		free(p);
		return;
	}
	err = grpc_plan__build("/usr/bin/etcd", p);
	CHECK(err == 0, "plan: %s", cp_lasterr());
	CHECK_INT(p->off.stream_method, 0x48);
	CHECK_INT(p->off.status_proto, 0);
	CHECK_INT(p->off.proto_code, 0);
	CHECK(p->off.etcd, "etcd offsets: %s", p->off.source);
	CHECK_INT(p->off.req_key, 0);
	CHECK_INT(p->off.req_range_end, 24);
	CHECK_INT(p->off.txn_compare, 0);
	CHECK_INT(p->off.txn_success, 24);
	CHECK_INT(p->off.compare_key, 8);
	CHECK_INT(p->off.op_request, 0);
	CHECK_STR(p->component, "etcd");
	for (i = 0; i < p->nsites; i++) {
		const struct probe_site *s = &p->sites[i].site;

		nkind[p->sites[i].kind]++;
		CHECK(s->emulated, "%s: '%s' not emulated", s->func, s->insn);
		CHECK(s->addr > s->entry && s->addr < s->entry + s->size, "%s: probe outside", s->func);
		CHECK(s->file_off != 0, "%s: no file offset", s->func);
	}
	CHECK_INT(nkind[GRPC_PROBE_START], 1);
	CHECK_INT(nkind[GRPC_PROBE_END_H2], 1);
	CHECK_INT(nkind[GRPC_PROBE_END_HANDLER], 1);
	CHECK_INT(nkind[GRPC_PROBE_ETCD_REQUEST], 4);
	free(p);
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
	test_etcd();
	test_refusals();
	return check_summary("grpc");
}
