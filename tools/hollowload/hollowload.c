// SPDX-License-Identifier: MIT
/*
 * hollowload: a hollow-node load generator for Kubernetes API servers,
 * after Kubemark's hollow kubelets: one process, one libcurl multi
 * handle, timers in a heap, HTTP/2 streams multiplexed over a few
 * connections. This file holds the command line, the main loop and the
 * report; the scenarios live in scenario_nodes.c and scenario_density.c.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scenario.h"

static volatile sig_atomic_t got_signal;
static struct client *signal_client;

static void usage(FILE *f)
{
	fprintf(f,
"Usage: hollowload --server URL [OPTIONS]\n"
"\n"
"Drive a Kubernetes API server with hollow kubelets (Kubemark's hollow nodes\n"
"without containers) and a pod density run, and report client-side latency\n"
"per verb and resource: ground truth for what cpprof records.\n"
"\n"
"Connection:\n"
"  --server URL          API server, e.g. https://127.0.0.1:6443 (required)\n"
"  --ca FILE             CA bundle to verify the server with\n"
"  --cert FILE --key FILE  client certificate and key\n"
"  --token-file FILE     bearer token (Authorization: Bearer ...)\n"
"  --insecure            do not verify the server's certificate\n"
"  --http1 | --http2     protocol (default: HTTP/2 over TLS for https, else HTTP/1.1;\n"
"                        --http2 on http:// means h2c with prior knowledge)\n"
"  --json                speak JSON (Accept and bodies application/json); the default\n"
"                        is protobuf, as the kubelet's --kube-api-content-type:\n"
"                        application/vnd.kubernetes.protobuf asked for (JSON accepted),\n"
"                        creates and updates sent as protobuf (patches stay JSON)\n"
"  --protobuf            protobuf (the default; kept for old command lines)\n"
"  --connections N       at most N connections (default: over HTTP/2, twice what\n"
"                        the nodes' streams need; over HTTP/1.1, as many as needed)\n"
"  --streams N           HTTP/2 streams per connection (default 200; Go servers allow 250)\n"
"  --retries N           retries of a failed request (default 3; connection errors,\n"
"                        resets, 429 honouring Retry-After, 5xx; backoff 0.1 s x 2^n)\n"
"\n"
"Scenarios (--scenario hollow-nodes,density; default hollow-nodes):\n"
"  --nodes N             hollow nodes (default 100)\n"
"  --lease-period D      Lease renewal period (default 10s)\n"
"  --status-period D     node status sync period (default 10s, nodeStatusUpdateFrequency);\n"
"                        a sync patches only when the status changed\n"
"  --status-report D     patch an unchanged status this often (default 5m,\n"
"                        nodeStatusReportFrequency)\n"
"  --ready-delay D       registration to the NodeReady transition (default 5s)\n"
"  --jitter F            +-fraction of every period (default 0.1)\n"
"  --ramp D              spread node registrations over D (default 5s)\n"
"  --watch-timeout D     informers' watch timeoutSeconds, times 1..2 (default 300s,\n"
"                        client-go's minWatchTimeout)\n"
"  --kubelet-version V   the kubelet's informer calls: 1.32 to 1.34 list, then\n"
"                        watch; 1.35 and 1.36 (default 1.36: client-go's\n"
"                        WatchListClient) a watch with sendInitialEvents=true,\n"
"                        falling back to list and watch when refused\n"
"  --pods P              density: pods to create (default 100)\n"
"  --pod-rate R          density: pods per second (default 20; '20/s' works too)\n"
"  --namespaces K        density: namespaces (default 8)\n"
"  --density-timeout D   density: how long to wait for pods to run (default 60s)\n"
"  --prefix NAME         names: NAME-node-I, NAME-density-K (default hollow)\n"
"\n"
"Run:\n"
"  --duration D          stop after D (default: 60s with hollow-nodes;\n"
"                        density alone stops when its pods are deleted)\n"
"  --ops N               stop after N requests\n"
"  --report FILE|-       also write the report as JSON (was --json FILE before\n"
"                        --json chose the content type)\n"
"  --plan                print each hollow node's calls (the registration sequence,\n"
"                        calls per node at startup and per minute after) for the\n"
"                        periods given, and exit; no server needed\n"
"  --seed N              random seed (jitter, names of the run)\n"
"  -v                    more messages (-vv: every failed request)\n"
"  -h, --help            this help\n"
"\n"
"Durations take s, ms, m suffixes (plain numbers are seconds).\n"
"\n"
"Exit status: 0 the run completed (failed requests are counted and reported,\n"
"not fatal); 1 the server was unreachable or failed TLS at start, or no\n"
"request at all succeeded; 2 usage error.\n"
"\n"
"Examples:\n"
"  hollowload --server https://127.0.0.1:6443 --ca ca.crt --token-file token \\\n"
"      --nodes 500 --duration 5m\n"
"  hollowload --server http://127.0.0.1:8080 --scenario hollow-nodes,density \\\n"
"      --nodes 300 --pods 3000 --pod-rate 50 --duration 3m --report out.json\n"
"  hollowload --plan\n"
"  hollowload --server https://10.0.0.1:6443 --cert admin.crt --key admin.key --ca ca.crt \\\n"
"      --json --scenario density --nodes 50 --pods 500\n");
}

static int parse_duration(const char *s, double *out)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || v < 0 || !isfinite(v))
		return -1;
	if (!strcmp(end, "") || !strcmp(end, "s"))
		*out = v;
	else if (!strcmp(end, "ms"))
		*out = v / 1e3;
	else if (!strcmp(end, "m"))
		*out = v * 60;
	else if (!strcmp(end, "h"))
		*out = v * 3600;
	else
		return -1;
	return 0;
}

static int parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (end == s || *end || errno || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int bad(const char *opt, const char *val, const char *want)
{
	hl_error("invalid %s '%s': %s", opt, val, want);
	return 2;
}

static int parse_args(int argc, char **argv, struct hl_opts *o, uint64_t *seed)
{
	enum { O_CA = 256, O_CERT, O_KEY, O_TOKEN, O_INSECURE, O_H1, O_H2, O_PB, O_SCEN, O_NODES,
	       O_LEASE, O_STATUS, O_JITTER, O_RAMP, O_WT, O_PODS, O_RATE, O_NS, O_DT, O_DUR, O_OPS,
	       O_JSON, O_PREFIX, O_CONN, O_STREAMS, O_RETRIES, O_SEED, O_SERVER, O_REPORT,
	       O_SREPORT, O_READY, O_PLAN, O_KVER };
	static const struct option lo[] = {
		{ "server", 1, 0, O_SERVER }, { "ca", 1, 0, O_CA }, { "cert", 1, 0, O_CERT },
		{ "key", 1, 0, O_KEY }, { "token-file", 1, 0, O_TOKEN }, { "insecure", 0, 0, O_INSECURE },
		{ "http1", 0, 0, O_H1 }, { "http2", 0, 0, O_H2 }, { "protobuf", 0, 0, O_PB },
		{ "scenario", 1, 0, O_SCEN }, { "nodes", 1, 0, O_NODES }, { "lease-period", 1, 0, O_LEASE },
		{ "status-period", 1, 0, O_STATUS }, { "jitter", 1, 0, O_JITTER }, { "ramp", 1, 0, O_RAMP },
		{ "watch-timeout", 1, 0, O_WT }, { "pods", 1, 0, O_PODS }, { "pod-rate", 1, 0, O_RATE },
		{ "namespaces", 1, 0, O_NS }, { "density-timeout", 1, 0, O_DT },
		{ "duration", 1, 0, O_DUR }, { "ops", 1, 0, O_OPS }, { "json", 0, 0, O_JSON },
		{ "report", 1, 0, O_REPORT }, { "status-report", 1, 0, O_SREPORT },
		{ "ready-delay", 1, 0, O_READY }, { "plan", 0, 0, O_PLAN },
		{ "kubelet-version", 1, 0, O_KVER },
		{ "prefix", 1, 0, O_PREFIX }, { "connections", 1, 0, O_CONN },
		{ "streams", 1, 0, O_STREAMS }, { "retries", 1, 0, O_RETRIES }, { "seed", 1, 0, O_SEED },
		{ "verbose", 0, 0, 'v' }, { "help", 0, 0, 'h' }, { 0 }
	};
	int c, duration_set = 0;
	long v;
	double d;

	while ((c = getopt_long(argc, argv, "vh", lo, NULL)) != -1) {
		switch (c) {
		case O_SERVER: o->server = optarg; break;
		case O_CA: o->ca = optarg; break;
		case O_CERT: o->cert = optarg; break;
		case O_KEY: o->key = optarg; break;
		case O_TOKEN: o->token_file = optarg; break;
		case O_INSECURE: o->insecure = 1; break;
		case O_H1: o->http_version = 1; break;
		case O_H2: o->http_version = 2; break;
		case O_PB: o->protobuf = 1; break;
		case O_SCEN: {
			char *copy = strdup(optarg), *save = NULL, *tok;

			o->hollow_nodes = o->density = 0;
			for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
				if (!strcmp(tok, "hollow-nodes"))
					o->hollow_nodes = 1;
				else if (!strcmp(tok, "density"))
					o->density = 1;
				else {
					free(copy);
					return bad("--scenario", optarg, "use hollow-nodes, density or both, comma-separated");
				}
			}
			free(copy);
			if (!o->hollow_nodes && !o->density)
				return bad("--scenario", optarg, "name at least one scenario");
			break;
		}
		case O_NODES:
			if (parse_long(optarg, 1, 1000000, &v))
				return bad("--nodes", optarg, "want a count from 1 to 1000000");
			o->nodes = (int)v;
			break;
		case O_PODS:
			if (parse_long(optarg, 0, 10000000, &v))
				return bad("--pods", optarg, "want a count from 0 to 10000000");
			o->pods = (int)v;
			break;
		case O_NS:
			if (parse_long(optarg, 1, 10000, &v))
				return bad("--namespaces", optarg, "want a count from 1 to 10000");
			o->namespaces = (int)v;
			break;
		case O_OPS:
			if (parse_long(optarg, 1, 1L << 40, &v))
				return bad("--ops", optarg, "want a positive count");
			o->ops = v;
			break;
		case O_CONN:
			if (parse_long(optarg, 1, 100000, &v))
				return bad("--connections", optarg, "want a count from 1 to 100000");
			o->connections = (int)v;
			break;
		case O_STREAMS:
			if (parse_long(optarg, 1, 100000, &v))
				return bad("--streams", optarg, "want a count from 1 to 100000");
			o->streams = (int)v;
			break;
		case O_RETRIES:
			if (parse_long(optarg, 0, 100, &v))
				return bad("--retries", optarg, "want a count from 0 to 100");
			o->retries = (int)v;
			break;
		case O_SEED:
			if (parse_long(optarg, 0, (long)(~0UL >> 1), &v))
				return bad("--seed", optarg, "want a non-negative number");
			*seed = (uint64_t)v;
			break;
		case O_LEASE: case O_STATUS: case O_RAMP: case O_WT: case O_DT: case O_DUR:
		case O_SREPORT: case O_READY:
			if (parse_duration(optarg, &d) || (c != O_RAMP && c != O_READY && d <= 0))
			{
				char name[32] = "--?";

				for (const struct option *p = lo; p->name; p++)
					if (p->val == c)
						snprintf(name, sizeof(name), "--%s", p->name);
				return bad(name, optarg, "want a positive duration such as 10s, 500ms or 2m");
			}
			if (c == O_LEASE) o->lease_period = d;
			else if (c == O_STATUS) o->status_period = d;
			else if (c == O_RAMP) o->ramp = d;
			else if (c == O_WT) o->watch_timeout = d < 1 ? 1 : d;
			else if (c == O_DT) o->density_timeout = d;
			else if (c == O_SREPORT) o->status_report = d;
			else if (c == O_READY) o->ready_delay = d;
			else { o->duration = d; duration_set = 1; }
			break;
		case O_JITTER: {
			char *end;

			d = strtod(optarg, &end);
			if (end == optarg || *end || !(d >= 0 && d < 1))
				return bad("--jitter", optarg, "want a fraction from 0 to 0.99");
			o->jitter = d;
			break;
		}
		case O_RATE: {
			char *end;

			d = strtod(optarg, &end);
			if (end == optarg || (*end && strcmp(end, "/s")) || !(d > 0 && d <= 1e6))
				return bad("--pod-rate", optarg, "want pods per second, e.g. 20 or 20/s");
			o->pod_rate = d;
			break;
		}
		case O_JSON: o->protobuf = 0; break;
		case O_REPORT: o->report = optarg; break;
		case O_PLAN: o->plan = 1; break;
		case O_KVER: {
			char *end = optarg;
			long minor = -1;

			if (!strncmp(optarg, "1.", 2) || !strncmp(optarg, "v1.", 3))
				minor = strtol(optarg + (*optarg == 'v' ? 3 : 2), &end, 10);
			if (minor < 32 || minor > 36 || (*end && *end != '.'))
				return bad("--kubelet-version", optarg, "want 1.32 to 1.36, e.g. 1.34");
			o->kubelet_minor = (int)minor;
			/* client-go features/known_features.go: WatchListClient
			 * Beta, off by default from 1.30, on from 1.35 */
			o->watch_list = minor >= 35;
			break;
		}
		case O_PREFIX:
			if (!*optarg || strspn(optarg, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(optarg) ||
			    strlen(optarg) > 40)
				return bad("--prefix", optarg, "want lower-case letters, digits and '-', at most 40");
			o->prefix = optarg;
			break;
		case 'v': o->verbose++; break;
		case 'h': usage(stdout); exit(0);
		default:
			fprintf(stderr, "Try 'hollowload --help'.\n");
			return 2;
		}
	}
	if (optind < argc) {
		for (int i = 1; i + 1 < argc; i++)
			if (!strcmp(argv[i], "--json") && !strcmp(argv[i + 1], argv[optind])) {
				hl_error("--json takes no file now: it selects JSON instead of protobuf; "
					 "write the report with --report %s", argv[optind]);
				return 2;
			}
		hl_error("unexpected argument '%s'; options only, see --help", argv[optind]);
		return 2;
	}
	if (o->plan)
		return 0;
	if (!o->server) {
		hl_error("no API server given; use --server URL, e.g. --server https://127.0.0.1:6443");
		return 2;
	}
	if (strncmp(o->server, "http://", 7) && strncmp(o->server, "https://", 8)) {
		hl_error("invalid --server '%s': want an http:// or https:// URL", o->server);
		return 2;
	}
	if (!o->cert != !o->key) {
		hl_error("--cert and --key go together; give both or neither");
		return 2;
	}
	if (!duration_set && o->hollow_nodes && !o->ops)
		o->duration = 60;
	return 0;
}

static void on_signal(int sig)
{
	got_signal = sig;
	if (signal_client)
		client__wakeup(signal_client);   /* curl_multi_wakeup is async-signal-safe enough: a write(2) */
}

/* a JSON string body for the report's metadata */
static void json_str(char *dst, size_t cap, const char *s)
{
	size_t k = 0;

	for (; *s && k + 7 < cap; s++) {
		if (*s == '"' || *s == '\\') {
			dst[k++] = '\\';
			dst[k++] = *s;
		} else if ((unsigned char)*s < 0x20) {
			k += snprintf(dst + k, cap - k, "\\u%04x", (unsigned char)*s);
		} else {
			dst[k++] = *s;
		}
	}
	dst[k] = 0;
}

static void report(struct hl_ctx *x, double elapsed, const char *outcome)
{
	const struct hl_opts *o = x->o;
	char server[1024], meta[2048];

	stats__print(&x->st, stdout);
	printf("%ld requests in %.1f s (%.1f/s), %d hollow nodes (%d watching at the end)\n",
	       stats__total(&x->st), elapsed, elapsed > 0 ? stats__total(&x->st) / elapsed : 0,
	       x->nnodes, x->nodes_ready);
	fflush(stdout);
	if (!o->report)
		return;
	json_str(server, sizeof(server), o->server);
	snprintf(meta, sizeof(meta),
		 "\"server\": \"%s\", \"run_id\": \"%s\", \"scenarios\": [%s%s%s], \"nodes\": %d, "
		 "\"nodes_watching\": %d, \"pods\": %d, \"namespaces\": %d, \"protobuf\": %s, "
		 "\"http_version\": %d, \"elapsed_s\": %.3f, \"outcome\": \"%s\"",
		 server, o->run_id, o->hollow_nodes ? "\"hollow-nodes\"" : "",
		 o->hollow_nodes && o->density ? ", " : "", o->density ? "\"density\"" : "",
		 x->nnodes, x->nodes_ready, o->density ? o->pods : 0, o->namespaces,
		 o->protobuf ? "true" : "false", o->http_version, elapsed, outcome);
	if (!strcmp(o->report, "-")) {
		stats__json(&x->st, stdout, meta);
	} else {
		FILE *f = fopen(o->report, "w");

		if (!f) {
			hl_error("cannot write --report '%s': %s", o->report, strerror(errno));
			return;
		}
		stats__json(&x->st, f, meta);
		if (fclose(f))
			hl_error("cannot write --report '%s': %s", o->report, strerror(errno));
	}
}

/* the most frequent error kind, to name in the final message */
static enum hl_err top_error(const struct stats *s, long *count)
{
	long best = 0;
	enum hl_err e = ERR_OTHER;

	for (int k = 1; k < ERR_KINDS; k++) {
		long n = 0;

		for (size_t i = 0; i < s->nkeys; i++)
			n += s->keys[i].err[k];
		if (n > best) {
			best = n;
			e = k;
		}
	}
	*count = best;
	return e;
}

static struct {
	int done;
	enum hl_err err;
	long http_version;
	char msg[CURL_ERROR_SIZE];
} first;

static void preflight_done(struct hl_req *r)
{
	first.done = 1;
	first.err = r->err;
	first.http_version = r->http_version;
	if (r->err == ERR_CONNECT && r->os_errno)
		snprintf(first.msg, sizeof(first.msg), "%s", strerror((int)r->os_errno));
	else
		snprintf(first.msg, sizeof(first.msg), "%s", r->errmsg[0] ? r->errmsg : hl_err_names[r->err]);
}

/* GET /version once before the scenarios: a server we cannot reach or
 * whose TLS fails is a runtime error (exit 1), not a run of errors */
static int preflight(struct hl_ctx *x, char *msg, size_t len)
{
	struct hl_req *r = hl_req_new("GET", "get", "", "", "/version");
	double deadline = hl_now() + 30;

	if (!r)
		return -ENOMEM;
	r->retries = 0;
	r->done = preflight_done;
	if (client__submit(&x->c, r) < 0)
		return -EIO;
	while (!first.done && hl_now() < deadline && !got_signal)
		client__poll(&x->c, 200);
	if (first.done && first.err >= ERR_CONNECT && first.err <= ERR_TIMEOUT) {
		snprintf(msg, len, "%s", first.msg);
		return -(int)first.err;
	}
	if (first.done && first.http_version == CURL_HTTP_VERSION_2_0)
		client__multiplexed(&x->c, x->o);
	return 0;
}

int main(int argc, char **argv)
{
	struct hl_opts o = {
		.lease_period = 10, .status_period = 10, .jitter = 0.1, .ramp = 5,
		.status_report = 300, .ready_delay = 5, .protobuf = 1,
		.pods = 100, .pod_rate = 20, .namespaces = 8, .nodes = 100,
		.watch_timeout = 300, .density_timeout = 60, .prefix = "hollow",
		.streams = 200, .retries = 3, .hollow_nodes = 1,
		.kubelet_minor = 36, .watch_list = 1,
	};
	struct hl_ctx x = { .o = &o };
	uint64_t seed = 0;
	double start, deadline, now, stop_at = 0;
	int err, rc = 0, seeded = 0;
	char what[CURL_ERROR_SIZE] = "";
	const char *outcome = "completed";

	for (int i = 1; i < argc; i++)
		if (!strncmp(argv[i], "--seed", 6))
			seeded = 1;
	err = parse_args(argc, argv, &o, &seed);
	if (err)
		return err;
	hl_verbose = o.verbose;
	if (o.plan)
		return nodes__plan(&o, stdout);
	if (!seeded) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		seed = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^ (uint64_t)getpid();
	}
	hl_srand(seed);
	snprintf(o.run_id, sizeof(o.run_id), "%08x", (unsigned)(hl_rand() * 4294967295.0));

	if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
		hl_error("cannot initialize libcurl");
		return 1;
	}
	err = client__init(&x.c, &o, &x.s, &x.st);
	if (err) {
		client__free(&x.c);
		curl_global_cleanup();
		return 1;
	}
	signal_client = &x.c;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);

	start = hl_now();
	err = preflight(&x, what, sizeof(what));
	if (err < 0) {
		enum hl_err e = (enum hl_err)-err;

		hl_error("cannot connect to '%s': %s; %s", o.server, what, client__hint(e));
		rc = 1;
		outcome = "unreachable";
		goto out;
	}

	/* the nodes tell of the pods on their watches; density counts its own as they run */
	if (o.density)
		x.on_pod = density__on_pod;
	if (nodes__start(&x, o.hollow_nodes) < 0 || (o.density && density__start(&x) < 0)) {
		hl_error("out of memory for %d nodes and %d pods", o.nodes, o.pods);
		rc = 1;
		goto out;
	}
	hl_info("run %s: %d hollow nodes%s against %s", o.run_id, o.nodes,
		o.density ? " and a density run" : "", o.server);
	deadline = o.duration > 0 ? start + o.duration : 0;
	for (;;) {
		double next;
		int timeout;

		now = hl_now();
		sched__run(&x.s, now);
		if (got_signal) {
			outcome = "interrupted";
			break;
		}
		if (deadline && now >= deadline)
			break;
		if (o.ops && x.c.completed >= o.ops)
			break;
		if (o.density && !o.hollow_nodes && density__done(&x) && !deadline)
			break;
		next = sched__next(&x.s);
		timeout = 1000;
		if (next >= 0)
			timeout = next <= now ? 0 : (int)ceil((next - now) * 1e3);
		if (deadline && (deadline - now) * 1e3 < timeout)
			timeout = (int)ceil((deadline - now) * 1e3);
		if (timeout > 1000)
			timeout = 1000;
		client__poll(&x.c, timeout);
	}

	/* clean stop: no new requests, let the ones in flight finish (so the
	 * server saw as many as we count), then close every watch */
	x.stopping = 1;
	x.c.stopping = 1;
	nodes__stop_timers(&x);
	density__stop(&x);
	stop_at = hl_now() + 10;
	while (client__busy(&x.c) && hl_now() < stop_at && got_signal != SIGTERM) {
		sched__run(&x.s, hl_now());
		client__poll(&x.c, 100);
	}
	nodes__stop_watches(&x);

	if (x.st.ok == 0) {
		long n;
		enum hl_err e = top_error(&x.st, &n);

		hl_error("no request succeeded against '%s': %ld answered %s; %s", o.server, n,
			 hl_err_names[e], client__hint(e));
		rc = 1;
		outcome = "nothing-succeeded";
	}
out:
	report(&x, hl_now() - start, outcome);
	signal_client = NULL;
	client__free(&x.c);
	sched__free(&x.s);
	density__free(&x);
	nodes__free(&x);
	stats__free(&x.st);
	curl_global_cleanup();
	return rc;
}
