// SPDX-License-Identifier: MIT
/*
 * grpc_driver: the gRPC tracer (user/trace/grpc.c) without the rest of cpprof
 * record, for tests/integration/test_etcd.py.
 *
 *   grpc_driver inspect BINARY     print the gRPC probe plan
 *   grpc_driver trace PID          attach; print "ready", then one JSON line
 *                                  per finished call; on SIGINT/SIGTERM drain,
 *                                  print a "stats" line and exit
 *
 * Built by test_etcd.py against the objects in build/user (no Makefile rule needed).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grpc.h"
#include "log.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void json_str(const char *s)
{
	putchar('"');
	for (; s && *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static int print_call(void *ctx, const struct request_rec *r, const struct grpc_call *c)
{
	(void)ctx;
	printf("{\"method\": ");
	json_str(c->method);
	printf(", \"verb\": ");
	json_str(r->verb);
	printf(", \"group\": ");
	json_str(r->api_group);
	printf(", \"resource\": ");
	json_str(r->resource);
	printf(", \"namespace\": ");
	json_str(r->namespace);
	printf(", \"scope\": ");
	json_str(r->scope);
	printf(", \"component\": ");
	json_str(r->component);
	printf(", \"protocol\": ");
	json_str(r->protocol);
	printf(", \"status\": %d, \"latency_ns\": %lld, \"start_ns\": %lld, \"list\": %d, \"tls_handler\": %d, \"has_key\": %d}\n",
	       r->status, (long long)r->latency_ns, (long long)r->start_ns, c->is_list,
	       c->tls_handler, c->has_key);
	return 0;
}

int main(int argc, char **argv)
{
	struct grpc_tracer_stats st;
	struct grpc_tracer *t;
	int err, pid;

	if (argc == 3 && strcmp(argv[1], "inspect") == 0) {
		err = grpc_plan__print(argv[2], stdout);
		if (err)
			fprintf(stderr, "grpc_driver: cannot plan '%s': %s\n", argv[2], cp_lasterr());
		return err ? 1 : 0;
	}
	if (argc < 3 || strcmp(argv[1], "trace")) {
		fprintf(stderr, "usage: grpc_driver inspect BINARY | trace PID [PREFIX]\n");
		return 2;
	}
	pid = atoi(argv[2]);
	struct grpc_tracer_opts o = { .key_prefix = argc > 3 ? argv[3] : NULL };
	t = grpc_tracer__open(&o, &err);
	if (!t) {
		fprintf(stderr, "grpc_driver: cannot load: %s\n", cp_lasterr());
		return 1;
	}
	err = grpc_tracer__add_target(t, pid, NULL, 1, 1, "etcd");
	if (err) {
		fprintf(stderr, "grpc_driver: cannot attach to pid %d: %s\n", pid, cp_lasterr());
		grpc_tracer__close(t);
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	printf("ready\n");
	fflush(stdout);
	while (!stop) {
		err = grpc_tracer__poll(t, 100, print_call, NULL);
		if (err < 0 && err != -EINTR)
			break;
		fflush(stdout);
	}
	while (grpc_tracer__poll(t, 0, print_call, NULL) > 0)
		;
	grpc_tracer__stats(t, &st);
	printf("{\"stats\": {\"starts\": %llu, \"ends\": %llu, \"lost\": %llu, \"no_start\": %llu, "
	       "\"double_entry\": %llu, \"double_end\": %llu, \"replaced\": %llu, \"read_err\": %llu, "
	       "\"inflight_full\": %llu, \"keys\": %llu, \"unknown_pid\": %llu}}\n",
	       (unsigned long long)st.starts, (unsigned long long)st.ends, (unsigned long long)st.lost,
	       (unsigned long long)st.no_start, (unsigned long long)st.double_entry,
	       (unsigned long long)st.double_end, (unsigned long long)st.replaced,
	       (unsigned long long)st.read_err, (unsigned long long)st.inflight_full,
	       (unsigned long long)st.keys, (unsigned long long)st.unknown_pid);
	grpc_tracer__close(t);
	return 0;
}
