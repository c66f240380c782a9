// SPDX-License-Identifier: MIT
/*
 * test_etcdc: the etcd client probe plan (user/trace/etcdc.c) and the
 * union of call intervals a request's breakdown counts.
 *
 * Plans: Debian's etcd servers link etcd's v3 client and grpc's
 * ClientConn (for the gRPC gateway and v3client), stripped and without
 * module info, so they stand in for a stripped kube-apiserver: Invoke,
 * finish and NewStream are found, each probe sits on an emulated
 * instruction, each prologue proves the registers the probes read, and
 * the etcdserverpb getters give the key offsets. The spill-slot proof
 * must refuse a prologue that spills something else.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "etcdc.h"
#include "log.h"

static void test_union(void)
{
	int64_t s1[] = { 0 }, l1[] = { 10 };
	int64_t s2[] = { 20, 0, 5 }, l2[] = { 5, 10, 10 };  /* [0,10) [5,15) [20,25) */
	int64_t s3[] = { 0, 2, 4 }, l3[] = { 100, 3, 1 };   /* nested */
	int64_t s4[] = { 0, 10 }, l4[] = { 10, 10 };        /* touching */

	CHECK_INT(etcdc__union_ns(s1, l1, 0), 0);
	CHECK_INT(etcdc__union_ns(s1, l1, 1), 10);
	CHECK_INT(etcdc__union_ns(s2, l2, 3), 20);
	CHECK_INT(etcdc__union_ns(s3, l3, 3), 100);
	CHECK_INT(etcdc__union_ns(s4, l4, 2), 20);
}

/*
 * grpc's (*ClientConn).Invoke prologue as Go 1.26 compiles it (sid's
 * apiextensions-apiserver): lea r12,[rsp-0x10]; cmp r12,[r14+0x10]; jbe;
 * push rbp; mov rbp,rsp; sub rsp,0x88; mov [rsp+0xb8],rbx;
 * mov [rsp+0xc0],rcx; mov [rsp+0xc8],rdi; mov [rsp+0xd8],r8
 */
static const uint8_t invoke_prologue[] = {
	0x4c, 0x8d, 0x64, 0x24, 0xf0, 0x4d, 0x3b, 0x66, 0x10, 0x0f, 0x86, 0x2c, 0x02, 0x00, 0x00,
	0x55, 0x48, 0x89, 0xe5, 0x48, 0x81, 0xec, 0x88, 0x00, 0x00, 0x00,
	0x48, 0x89, 0x9c, 0x24, 0xb8, 0x00, 0x00, 0x00,
	0x48, 0x89, 0x8c, 0x24, 0xc0, 0x00, 0x00, 0x00,
	0x48, 0x89, 0xbc, 0x24, 0xc8, 0x00, 0x00, 0x00,
	0x4c, 0x89, 0x84, 0x24, 0xd8, 0x00, 0x00, 0x00,
};

static void test_spills(void)
{
	uint8_t code[sizeof(invoke_prologue)];
	int slot[9];

	/* abi order: rax rbx rcx rdi rsi r8 r9 r10 r11 */
	CHECK_INT(etcdc__spill_slots(invoke_prologue, sizeof(invoke_prologue), 0x1000, slot, 9), 4);
	CHECK_INT(slot[1], 0xb8 / 8);
	CHECK_INT(slot[2], 0xc0 / 8);
	CHECK_INT(slot[3] - slot[1], 2); /* method in slot 3 when ctx is in 1 */
	CHECK_INT(slot[5] - slot[1], 4);
	CHECK_INT(slot[0], -1);
	/* rdi overwritten before its spill (mov edi, 1 in place of the rcx spill): no longer an argument */
	memcpy(code, invoke_prologue, sizeof(code));
	{
		static const uint8_t mov_edi_1[8] = { 0xbf, 0x01, 0x00, 0x00, 0x00, 0x90, 0x90, 0x90 };

		memcpy(code + 34, mov_edi_1, sizeof(mov_edi_1));
	}
	CHECK_INT(etcdc__spill_slots(code, sizeof(code), 0x1000, slot, 9), 2);
	CHECK_INT(slot[3], -1);
}

static void test_plan(const char *path, bool want_stream)
{
	struct etcdc_plan *p = calloc(1, sizeof(*p));
	int err, i, kinds = 0;

	if (access(path, R_OK)) {
		CHECK(0, "%s missing: run make deps", path);
		free(p);
		return;
	}
	err = etcdc_plan__build(path, p);
	CHECK(err == 0, "%s: %s", path, cp_lasterr());
	for (i = 0; i < p->nsites; i++) {
		CHECK(p->sites[i].site.emulated, "%s: %s probed on '%s', not emulated", path,
		      p->sites[i].site.func, p->sites[i].site.insn);
		kinds |= 1 << p->sites[i].kind;
	}
	CHECK_INT(kinds & 3, 3);
	if (want_stream)
		CHECK(kinds & (1 << ETCDC_PROBE_STREAM), "%s: no NewStream probe", path);
	CHECK_INT(p->off.req_key, 0);
	CHECK_INT(p->off.req_range_end, 24);
	CHECK_INT(p->off.txn_compare, 0);
	CHECK_INT(p->off.compare_key, 8);
	CHECK(strstr(p->src_regs, "Invoke spills rdi") != NULL, "%s: %s", path, p->src_regs);
	/* etcd links the client (grpc-gateway) but no k8s.io/apiserver: no handler probe */
	CHECK(!(kinds & (1 << ETCDC_PROBE_HANDLER)) && !p->src_handler[0], "%s: handler probe planned: %s",
	      path, p->src_handler);
	free(p);
}

int main(void)
{
	struct etcdc_plan *p = calloc(1, sizeof(*p));

	test_union();
	test_spills();
	test_plan("/var/cache/cpprof/etcd-sid/usr/bin/etcd", true);
	test_plan("/var/cache/cpprof/etcd-trixie/usr/bin/etcd", true);
	CHECK_INT(etcdc_plan__build("/bin/true", p), -ENOEXEC);
	free(p);
	return check_summary("test_etcdc");
}
