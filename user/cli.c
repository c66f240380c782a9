// SPDX-License-Identifier: MIT
/*
 * cli: cpprof's command line. Global options, then a command table as in
 * bpftool; every command has --help with examples. Exit codes: 0 ok,
 * 1 runtime error, 2 usage error (design.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "attach.h"
#include "cli.h"
#include "cluster.h"
#include "collector.h"
#include "cpuprof.h"
#include "cpprof/go_http.h"
#include "discover.h"
#include "grpc.h"
#include "lineage.h"
#include "sockview.h"
#include "syslat.h"
#include "log.h"
#include "plan.h"
#include "report.h"
#include "diff.h"
#include "html.h"
#include "runs.h"
#include "sampler.h"
#include "scrape.h"
#include "store.h"

#define CPPROF_VERSION "0.1.0"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static int64_t now_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int usage_error(const char *cmd, const char *fmt, const char *arg)
{
	fprintf(stderr, "cpprof: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\ntry 'cpprof %s --help'\n", cmd);
	return EXIT_USAGE;
}

static int parse_int(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* ---- record ----------------------------------------------------------- */

static const char record_help[] =
"usage: cpprof record --db FILE [--label NAME] [--kind real|kubemark|other]\n"
"                     [--pid PID]... [--target NAME]... [--duration SECONDS]\n"
"                     [--component apiserver|etcd|other] [--store-names]\n"
"                     [--sample-hz N] [--metrics URL]... [--etcd-metrics URL]\n"
"\n"
"Trace Go HTTP servers (kube-apiserver by default) with uprobes and store\n"
"every request's latency, tagged by Kubernetes verb and resource, in FILE\n"
"(SQLite, created 0600). etcd targets also get their gRPC calls traced,\n"
"tagged by operation and by the resource their key names. Runs until --duration elapses, SIGINT/SIGTERM, or\n"
"every target has exited; the run is saved in all three cases.\n"
"\n"
"  --db FILE          database to create or add a run to (required)\n"
"  --label NAME       unique name of this run in FILE (default: KIND-DATE-TIME)\n"
"  --kind KIND        real, kubemark or other (default: other)\n"
"  --pid PID          trace this process (repeatable)\n"
"  --target NAME      trace processes whose name or executable is NAME\n"
"                     (repeatable; default: kube-apiserver and etcd)\n"
"  --duration SECS    stop after SECS seconds (default: until interrupted)\n"
"  --component C      override the component decided from the binary\n"
"  --store-names      also store object names (off: names can be sensitive)\n"
"  --etcd-prefix P    kube-apiserver's --etcd-prefix, to tag etcd keys\n"
"                     (default: /registry)\n"
"  --syscalls MODE    which of the targets' syscalls to time (histograms):\n"
"                     fsync (default): fsync, fdatasync, sync_file_range\n"
"                     (etcd's WAL and bbolt commits), through their own\n"
"                     tracepoints: other processes pay only when they sync;\n"
"                     all: 21 syscalls (read, write, futex, epoll, ...)\n"
"                     through raw sys_enter/sys_exit: EVERY syscall of every\n"
"                     process on the machine pays ~0.1 us (make bench)\n"
"  --no-syscalls      do not time syscalls at all (same as --syscalls none)\n"
"  --no-sockets       do not count the targets' connections and bytes\n"
"  --sample-hz N      sample the targets' stacks N times a second per CPU\n"
"                     (default 199; 0 turns CPU sampling off): CPU per\n"
"                     category (json_encode, protobuf_decode, gc, ...) and\n"
"                     per request, and folded stacks for flame graphs\n"
"  --nodes N, --pods N, --namespaces N\n"
"                     size of the cluster under test, kept with the run\n"
"  --apiserver URL    read the cluster size from kube-apiserver's /metrics\n"
"                     (apiserver_storage_objects) at the start and the end\n"
"                     of the run; flags above win over it\n"
"  --apiserver-ca FILE, --apiserver-token-file FILE, --apiserver-insecure\n"
"                     how to reach it (CA bundle, bearer token, no TLS check)\n"
"  --metrics URL      a Prometheus endpoint to scrape (repeatable); with\n"
"                     --apiserver, kube-apiserver's /metrics is scraped too\n"
"  --etcd-metrics URL etcd's metrics (http://HOST:2381/metrics, or the client URL\n"
"                     + /metrics), with --etcd-metrics-ca FILE, --etcd-metrics-cert\n"
"                     FILE and --etcd-metrics-key FILE for client TLS\n"
"  --metrics-interval SECS\n"
"                     scrape at the start, every SECS (default 15) and at the\n"
"                     end; an endpoint that fails is counted and skipped\n"
"  --metrics-timeout SECS\n"
"                     time allowed a scrape (default 10; its body: 64 MiB)\n"
"\n"
"Needs root (uprobes). Probes sit on instructions the kernel emulates where\n"
"the binary allows; see 'cpprof inspect'.\n"
"\n"
"examples:\n"
"  sudo cpprof record --db real.db --label real-2000 --kind real --duration 3600\n"
"  sudo cpprof record --db t.db --pid $(pidof kube-apiserver) --duration 60\n"
"  sudo cpprof record --db t.db --target my-go-server\n";

struct record_target {
	struct target_proc proc;
	struct probe_plan plan;
	int64_t target_id;
	bool attached, exited;
};

static void default_label(char *buf, size_t len, const char *kind)
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(buf, len, "%s-%04d%02d%02d-%02d%02d%02d", kind, tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static void join_argv(char *buf, size_t len, int argc, char **argv)
{
	size_t off = 0;
	int i;

	buf[0] = 0;
	for (i = 0; i < argc && off + 1 < len; i++)
		off += snprintf(buf + off, len - off, "%s%s", i ? " " : "", argv[i]);
}

static uint32_t component_id(const char *c)
{
	return strcmp(c, "apiserver") == 0 ? 1 : strcmp(c, "etcd") == 0 ? 2 : 0;
}

static void plan_summary(const struct probe_plan *p, char *buf, size_t len)
{
	size_t off = 0;
	int i;

	buf[0] = 0;
	for (i = 0; i < p->nsites && off + 1 < len; i++)
		off += snprintf(buf + off, len - off, "%s%s@0x%llx(%s)", i ? " " : "",
				probe_kind_name(p->sites[i].kind),
				(unsigned long long)p->sites[i].addr,
				p->sites[i].emulated ? "emulated" : "single-step");
}

/* Where the gRPC tracer's finished calls go. */
struct grpc_sink {
	struct store *st;
	struct cpuprof *cprof;  /* tags CPU samples of each call, or NULL */
	uint64_t calls;
};

static int grpc_store(void *ctx, const struct request_rec *r, const struct grpc_call *c)
{
	struct grpc_sink *s = ctx;
	int err = store__add_request(s->st, r);

	if (!err)
		s->calls++;
	if (!err && s->cprof)
		cpuprof__request_done(s->cprof, c->pid, c->stream, c->start_mono_ns, r->verb,
				      r->resource, r->subresource, r->scope);
	return err;
}

/*
 * etcd serves kube-apiserver over gRPC: trace it too. A binary whose gRPC
 * server cannot be planned keeps its HTTP tracing; say why and go on.
 */
static void trace_grpc(struct grpc_tracer **gt, struct record_target *t, int64_t run_id,
		       const char *etcd_prefix, bool store_names, int goreq_fd)
{
	struct grpc_tracer_opts o = { .key_prefix = etcd_prefix, .store_names = store_names,
				      .goreq_fd = goreq_fd };
	int err;

	if (!*gt) {
		*gt = grpc_tracer__open(&o, &err);
		if (!*gt) {
			info("no gRPC tracing of '%s' (pid %d): %s\n", t->proc.exe, t->proc.pid, cp_lasterr());
			return;
		}
	}
	if (grpc_tracer__add_target(*gt, t->proc.pid, NULL, run_id, t->target_id, t->plan.component))
		info("no gRPC tracing of '%s' (pid %d): %s; its HTTP side is traced\n",
		     t->proc.exe, t->proc.pid, cp_lasterr());
	else
		info("tracing gRPC calls of '%s' (pid %d)\n", t->proc.exe, t->proc.pid);
}

/* Write the syscall histograms and socket counters of the interval that ends now. */
static int flush_kernel_views(struct syslat *sl, struct sockview *sv, struct store *st, int64_t run_id)
{
	int64_t rt = now_ns(CLOCK_REALTIME);
	int err = 0;

	if (sl && (err = syslat__flush(sl, st, run_id, rt)) < 0) {
		error("cannot store syscall latency: %s\n", cp_lasterr());
		return err;
	}
	if (sv && (err = sockview__flush(sv, st, run_id, rt)) < 0) {
		error("cannot store socket counters: %s\n", cp_lasterr());
		return err;
	}
	return 0;
}

/*
 * Fill what flags left unknown in CS from the apiserver's /metrics; say
 * so when it cannot be read (once: at the START of the run).
 */
static int read_cluster(const struct cluster_opts *o, struct cluster_size *cs, bool start)
{
	struct cluster_size api;
	bool flags = cs->source && !strcmp(cs->source, "flags");
	int err = cluster__from_apiserver(o, &api);

	if (err) {
		if (start)
			info("cluster size not read from the apiserver: %s\n", cp_lasterr());
		return err;
	}
	if (!flags || cs->nodes < 0)
		cs->nodes = api.nodes;
	if (!flags || cs->pods < 0)
		cs->pods = api.pods;
	if (!flags || cs->namespaces < 0)
		cs->namespaces = api.namespaces;
	cs->source = flags ? "flags+apiserver" : "apiserver";
	return 0;
}

/* What the record loop polls, for waits at its end. */
struct record_poll {
	struct collector *col;
	struct grpc_tracer *gt;
	struct sampler *sp;
	struct cpuprof *cprof;
	struct grpc_sink *gsink;
};

static int record_poll(void *ctx)
{
	struct record_poll *p = ctx;
	int n = collector__poll(p->col, 100);

	if (n >= 0 && p->gt)
		n = grpc_tracer__poll(p->gt, 0, grpc_store, p->gsink);
	if (n >= 0 && p->sp)
		n = sampler__poll(p->sp, 0, cpuprof__sample, p->cprof);
	return n;
}

/* Scraping options of `record`: endpoints named by flags, then started at once. */
struct record_scrape {
	struct scrape_endpoint eps[SCRAPE_MAX_ENDPOINTS];
	int n;
	const char *etcd_ca, *etcd_cert, *etcd_key;
	long interval_s, timeout_s;
	char api_url[2048];
	struct scraper *sc;
};

/* Ask for the last scrapes; keep the ring buffers drained (POLL) while they are taken. */
static int finish_scrapes(struct record_scrape *rs, struct store *st, int64_t run_id,
			  int (*poll)(void *), void *ctx)
{
	int err;

	if (!rs->sc)
		return 0;
	scraper__finish(rs->sc);
	while (scraper__running(rs->sc))
		poll(ctx);
	err = scraper__stop(rs->sc, st, run_id);
	if (err < 0)
		error("cannot store the metrics scraped: %s\n", cp_lasterr());
	for (int i = 0; i < rs->n; i++) {
		struct scrape_stats ss;
		char errs[256] = "";
		size_t off = 0;

		scraper__stats(rs->sc, i, &ss);
		for (int k = 1; k < SCRAPE_ERR__MAX; k++)
			if (ss.errors[k] && off < sizeof(errs))
				off += snprintf(errs + off, sizeof(errs) - off, ", %llu %s",
						(unsigned long long)ss.errors[k], scrape_error_name(k));
		info("metrics of %s: %llu of %llu scrapes read%s%s%s\n", rs->eps[i].component,
		     (unsigned long long)ss.ok, (unsigned long long)ss.scrapes, errs,
		     ss.last_error[0] ? "; last error: " : "", ss.last_error);
	}
	scraper__free(rs->sc);
	rs->sc = NULL;
	return err < 0 ? err : 0;
}

/* The collector stored a request: its CPU samples can now be tagged with its call kind. */
static void on_request_cpu(void *ctx, int tgid, uint64_t rw, uint64_t start_mono_ns,
			   const struct request_rec *r)
{
	cpuprof__request_done(ctx, tgid, rw, start_mono_ns, r->verb, r->resource, r->subresource,
			      r->scope);
}

static int do_record(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "label", required_argument, NULL, 'l' },
		{ "kind", required_argument, NULL, 'k' },
		{ "pid", required_argument, NULL, 'p' },
		{ "target", required_argument, NULL, 't' },
		{ "duration", required_argument, NULL, 'D' },
		{ "component", required_argument, NULL, 'c' },
		{ "store-names", no_argument, NULL, 'N' },
		{ "etcd-prefix", required_argument, NULL, 'E' },
		{ "no-syscalls", no_argument, NULL, 'Y' },
		{ "syscalls", required_argument, NULL, 'W' },
		{ "no-sockets", no_argument, NULL, 'O' },
		{ "sample-hz", required_argument, NULL, 'S' },
		{ "metrics", required_argument, NULL, 'M' },
		{ "nodes", required_argument, NULL, 1000 },
		{ "pods", required_argument, NULL, 1001 },
		{ "namespaces", required_argument, NULL, 1002 },
		{ "apiserver", required_argument, NULL, 1003 },
		{ "apiserver-ca", required_argument, NULL, 1004 },
		{ "apiserver-token-file", required_argument, NULL, 1005 },
		{ "apiserver-insecure", no_argument, NULL, 1006 },
		{ "etcd-metrics", required_argument, NULL, 1007 },
		{ "etcd-metrics-ca", required_argument, NULL, 1008 },
		{ "etcd-metrics-cert", required_argument, NULL, 1009 },
		{ "etcd-metrics-key", required_argument, NULL, 1010 },
		{ "metrics-interval", required_argument, NULL, 1011 },
		{ "metrics-timeout", required_argument, NULL, 1012 },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	const char *db = NULL, *label = NULL, *kind = "other", *component = NULL, *etcd_prefix = NULL;
	struct grpc_tracer *gt = NULL;
	struct grpc_tracer_stats gstats = {};
	struct grpc_sink gsink = {};
	struct syslat *sl = NULL;
	struct sockview *sv = NULL;
	bool no_syscalls = false, no_sockets = false;
	enum syslat_mode sys_mode = SYSLAT_FSYNC;
	int64_t last_sys;
	long sample_hz = 199;
	struct cluster_size cluster = { .nodes = -1, .pods = -1, .namespaces = -1 };
	struct cluster_opts capi = {};
	static struct record_scrape scr = { .interval_s = 15, .timeout_s = 10 };
	struct sampler *sp = NULL;
	struct cpuprof *cprof = NULL;
	uint64_t cstats[CPU_STAT__MAX] = {};
	const char *names[DISCOVER_MAX];
	int pids[DISCOVER_MAX], npids = 0, nnames = 0, ntargets = 0, nattached = 0;
	static struct record_target targets[DISCOVER_MAX];
	struct target_proc procs[DISCOVER_MAX];
	long duration = 0, v;
	bool store_names = false, db_existed;
	char label_buf[64], cmdline[1024], host[256] = "", probes[1024];
	struct attach *att = NULL;
	struct store *st = NULL;
	struct collector *col = NULL;
	struct utsname uts;
	struct stat sb;
	int64_t run_id = 0, t0, last_tick, last_status = 0, last_sweep;
	uint64_t swept = 0;
	uint64_t stats[STAT__MAX] = {};
	int c, i, err = 0, ret = EXIT_RUNTIME;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': db = optarg; break;
		case 'l': label = optarg; break;
		case 'k': kind = optarg; break;
		case 'c': component = optarg; break;
		case 'N': store_names = true; break;
		case 'Y': no_syscalls = true; break;
		case 'W':
			if (strcmp(optarg, "none") == 0)
				no_syscalls = true;
			else if (syslat__parse_mode(optarg, &sys_mode))
				return usage_error("record", "--syscalls must be fsync, all or none, not '%s'", optarg);
			else
				no_syscalls = false;
			break;
		case 'O': no_sockets = true; break;
		case 'E':
			if (optarg[0] != '/')
				return usage_error("record", "invalid --etcd-prefix '%s': expected a key prefix starting with '/'", optarg);
			etcd_prefix = optarg;
			break;
		case 'p':
			if (npids >= DISCOVER_MAX || parse_int(optarg, 1, 4194304, &v))
				return usage_error("record", "invalid --pid '%s': expected a process id", optarg);
			pids[npids++] = (int)v;
			break;
		case 't':
			if (nnames >= DISCOVER_MAX)
				return usage_error("record", "too many --target options%s", "");
			names[nnames++] = optarg;
			break;
		case 'D':
			if (parse_int(optarg, 1, 31L * 24 * 3600, &duration))
				return usage_error("record", "invalid --duration '%s': expected whole seconds, at least 1", optarg);
			break;
		case 'S':
			if (parse_int(optarg, 0, 10000, &sample_hz))
				return usage_error("record", "invalid --sample-hz '%s': expected 0 (off) or a rate of 1-10000 Hz", optarg);
			break;
		case 1000: case 1001: case 1002:
			if (parse_int(optarg, 0, 100000000, &v))
				return usage_error("record", "invalid cluster size '%s': expected a count", optarg);
			*(c == 1000 ? &cluster.nodes : c == 1001 ? &cluster.pods : &cluster.namespaces) = v;
			cluster.source = "flags";
			break;
		case 1003:
			if (strncmp(optarg, "http://", 7) && strncmp(optarg, "https://", 8))
				return usage_error("record", "invalid --apiserver '%s': expected an http:// or https:// URL", optarg);
			capi.url = optarg;
			break;
		case 1004: capi.ca_file = optarg; break;
		case 1005: capi.token_file = optarg; break;
		case 1006: capi.insecure = true; break;
		case 'M': case 1007:
			if (strncmp(optarg, "http://", 7) && strncmp(optarg, "https://", 8))
				return usage_error("record", "invalid metrics URL '%s': expected http:// or https://", optarg);
			if (scr.n >= SCRAPE_MAX_ENDPOINTS - 1)
				return usage_error("record", "too many metrics endpoints at '%s'", optarg);
			scr.eps[scr.n++] = (struct scrape_endpoint){ .url = optarg,
				.component = c == 'M' ? "other" : "etcd" };
			break;
		case 1008: scr.etcd_ca = optarg; break;
		case 1009: scr.etcd_cert = optarg; break;
		case 1010: scr.etcd_key = optarg; break;
		case 1011:
			if (parse_int(optarg, 1, 3600, &scr.interval_s))
				return usage_error("record", "invalid --metrics-interval '%s': expected 1-3600 seconds", optarg);
			break;
		case 1012:
			if (parse_int(optarg, 1, 600, &scr.timeout_s))
				return usage_error("record", "invalid --metrics-timeout '%s': expected 1-600 seconds", optarg);
			break;
		case 'h': fputs(record_help, stdout); return EXIT_OK;
		default: return usage_error("record", "%s", "invalid option");
		}
	}
	if (optind < argc)
		return usage_error("record", "unexpected argument '%s'", argv[optind]);
	if (!db)
		return usage_error("record", "%s", "missing --db FILE: where to store the run");
	if (strcmp(kind, "real") && strcmp(kind, "kubemark") && strcmp(kind, "other"))
		return usage_error("record", "invalid --kind '%s': expected real, kubemark or other", kind);
	if (component && strcmp(component, "apiserver") && strcmp(component, "etcd") && strcmp(component, "other"))
		return usage_error("record", "invalid --component '%s': expected apiserver, etcd or other", component);
	if (!label) {
		default_label(label_buf, sizeof(label_buf), kind);
		label = label_buf;
	}
	if (geteuid() != 0) {
		error("cannot record: uprobes need root; run 'sudo cpprof record ...'\n");
		return EXIT_RUNTIME;
	}

	/* 1. targets */
	for (i = 0; i < npids; i++) {
		if (discover__pid(pids[i], &targets[ntargets].proc)) {
			error("cannot trace pid %d: %s\n", pids[i], cp_lasterr());
			return EXIT_RUNTIME;
		}
		ntargets++;
	}
	if (!npids) {
		static const char *const defaults[] = { "kube-apiserver", "etcd" };
		const char *const *look = nnames ? names : defaults;
		int nlook = nnames ? nnames : 2, n;

		n = discover__by_name(look, nlook, procs, DISCOVER_MAX);
		if (n < 0) {
			error("cannot list processes: %s\n", cp_lasterr());
			return EXIT_RUNTIME;
		}
		if (n == 0) {
			char list[256];
			size_t off = 0;
			int k;

			list[0] = 0;
			for (k = 0; k < nlook && off + 1 < sizeof(list); k++)
				off += snprintf(list + off, sizeof(list) - off, "%s'%s'",
						k ? (k == nlook - 1 ? " or " : ", ") : "", look[k]);
			error("cannot record: no process named %s is running; start one or name it with --pid or --target\n",
			      list);
			return EXIT_RUNTIME;
		}
		for (i = 0; i < n; i++)
			targets[ntargets++].proc = procs[i];
	}

	/* 2. plans: all inspection before anything is attached */
	for (i = 0; i < ntargets; i++) {
		struct record_target *t = &targets[i];
		char exe[64];

		snprintf(exe, sizeof(exe), "/proc/%d/exe", t->proc.pid);
		if (plan__build(exe, &t->plan)) {
			error("cannot trace '%s' (pid %d): %s\n", t->proc.exe, t->proc.pid, cp_lasterr());
			t->exited = true; /* skipped */
			continue;
		}
		/* planned through /proc/PID/exe: the file name fallback needs the real name */
		snprintf(t->plan.path, sizeof(t->plan.path), "%s", t->proc.exe);
		snprintf(t->plan.component, sizeof(t->plan.component), "%s",
			 plan_component(t->plan.main_path, t->proc.exe));
		if (component)
			snprintf(t->plan.component, sizeof(t->plan.component), "%s", component);
	}

	/* 3. the database: label clash and permissions found before attaching */
	db_existed = stat(db, &sb) == 0;
	st = store__open(db, &err);
	if (!st) {
		error("cannot open '%s': %s\n", db, cp_lasterr());
		return EXIT_RUNTIME;
	}
	uname(&uts);
	gethostname(host, sizeof(host) - 1);
	join_argv(cmdline, sizeof(cmdline), argc + 1, argv - 1);
	{
		char kernel[300];
		struct run_info ri = {
			.label = label, .kind = kind, .started_ns = now_ns(CLOCK_REALTIME),
			.host = host, .kernel = kernel, .command = cmdline,
			.sample_hz = (int)sample_hz,
		};

		snprintf(kernel, sizeof(kernel), "%s %s", uts.sysname, uts.release);
		err = store__begin_run(st, &ri, &run_id);
		if (err) {
			error("cannot start run: %s\n", cp_lasterr());
			goto cleanup;
		}
		if (capi.url)
			read_cluster(&capi, &cluster, true);
		if (cluster.source && (err = store__set_cluster(st, run_id, &cluster))) {
			error("cannot store the cluster size: %s\n", cp_lasterr());
			goto cleanup_run;
		}
	}

	/* 4. BPF */
	att = attach__open(sample_hz > 0, &err);
	if (!att) {
		error("cannot load BPF: %s\n", cp_lasterr());
		goto cleanup_run;
	}
	for (i = 0; i < ntargets; i++) {
		struct record_target *t = &targets[i];
		struct target_info ti;

		if (t->exited)
			continue;
		if (attach__target(att, t->proc.pid, &t->plan, component_id(t->plan.component))) {
			error("cannot trace '%s' (pid %d): %s\n", t->proc.exe, t->proc.pid, cp_lasterr());
			t->exited = true;
			continue;
		}
		plan_summary(&t->plan, probes, sizeof(probes));
		ti = (struct target_info){
			.pid = t->proc.pid, .component = t->plan.component, .exe = t->proc.exe,
			.go_version = t->plan.go_version, .main_path = t->plan.main_path,
			.build_id = t->plan.build_id, .offsets_source = t->plan.off.source,
			.probes = probes, .attached_ns = now_ns(CLOCK_REALTIME),
			.k8s_version = t->plan.k8s_version[0] ? t->plan.k8s_version : NULL,
			.etcd_version = t->plan.etcd_version[0] ? t->plan.etcd_version : NULL,
		};
		err = store__add_target(st, run_id, &ti, &t->target_id);
		if (err) {
			error("cannot store target: %s\n", cp_lasterr());
			goto cleanup_run;
		}
		t->attached = true;
		nattached++;
		info("tracing '%s' (pid %d, %s, %s): %d probes\n", t->proc.exe, t->proc.pid,
		     t->plan.component, t->plan.go_version, t->plan.nsites);
		if (strcmp(t->plan.component, "etcd") == 0)
			trace_grpc(&gt, t, run_id, etcd_prefix, store_names,
				   sample_hz > 0 ? attach__goreq_fd(att) : -1);
	}
	if (!nattached) {
		error("cannot record: no target could be traced (see above)\n");
		err = -ENOENT;
		goto cleanup_run;
	}

	/* CPU sampling: failure to start it costs the profile, not the run */
	if (sample_hz > 0) {
		sp = sampler__open((int)sample_hz, attach__inflight_fd(att), attach__goreq_fd(att),
				   gt ? grpc_tracer__inflight_fd(gt) : -1, &err);
		if (sp)
			cprof = cpuprof__new(st, run_id, sampler__period_ns(sp), &err);
		if (!sp || !cprof) {
			info("CPU sampling off: %s\n", cp_lasterr());
			sampler__close(sp);
			sp = NULL;
		}
	}
	for (i = 0; sp && i < ntargets; i++) {
		struct record_target *t = &targets[i];
		char note[256];

		if (!t->attached)
			continue;
		err = sampler__add_target(sp, t->proc.pid, note, sizeof(note));
		if (err < 0) {
			info("CPU of pid %d not sampled: %s\n", t->proc.pid, cp_lasterr());
			continue;
		}
		if (err == 1)
			info("CPU of pid %d sampled, but samples in goroutines its requests create are not attributed to them: %s\n",
			     t->proc.pid, note);
		cpuprof__add_target(cprof, t->proc.pid, t->target_id, t->plan.component);
	}
	err = 0;

	{
		struct collector_opts co = { .run_id = run_id, .store_names = store_names,
					     .on_request = cprof ? on_request_cpu : NULL,
					     .on_request_ctx = cprof };

		col = collector__new(st, attach__events_fd(att), &co, &err);
		if (!col) {
			error("cannot start collector: %s\n", cp_lasterr());
			goto cleanup_run;
		}
	}
	for (i = 0; i < ntargets; i++)
		if (targets[i].attached)
			collector__add_target(col, targets[i].proc.pid, targets[i].target_id,
					      targets[i].plan.component);

	gsink.st = st;
	gsink.cprof = cprof;

	/* syscall latency and the socket view, per target (kernel tracepoints) */
	if (!no_syscalls && !(sl = syslat__open(sys_mode, &err)))
		info("syscall latency not recorded: %s\n", cp_lasterr());
	if (!no_sockets && !(sv = sockview__open(&err)))
		info("socket view not recorded: %s\n", cp_lasterr());
	for (i = 0; i < ntargets; i++) {
		struct record_target *t = &targets[i];

		if (!t->attached)
			continue;
		if (sl && syslat__add_target(sl, t->proc.pid, t->target_id, t->plan.component))
			info("syscall latency of pid %d not recorded: %s\n", t->proc.pid, cp_lasterr());
		if (sv && sockview__add_target(sv, t->proc.pid, t->target_id, t->plan.component))
			info("socket view of pid %d not recorded: %s\n", t->proc.pid, cp_lasterr());
	}
	err = 0;

	/* 5. record */
	{
		struct sigaction sa = { .sa_handler = on_signal };

		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
	}
	/* Prometheus endpoints: started once the probes are in, so both sides count the same calls */
	for (i = 0; i < scr.n; i++)
		if (!strcmp(scr.eps[i].component, "etcd")) {
			scr.eps[i].ca_file = scr.etcd_ca;
			scr.eps[i].cert_file = scr.etcd_cert;
			scr.eps[i].key_file = scr.etcd_key;
		}
	if (capi.url) {
		cluster__metrics_url(capi.url, scr.api_url, sizeof(scr.api_url));
		scr.eps[scr.n++] = (struct scrape_endpoint){ .url = scr.api_url, .component = "apiserver",
			.ca_file = capi.ca_file, .token_file = capi.token_file, .insecure = capi.insecure };
	}
	if (scr.n) {
		struct scrape_opts so = { .interval_ms = scr.interval_s * 1000,
					  .timeout_ms = scr.timeout_s * 1000 };

		if (!(scr.sc = scraper__start(scr.eps, scr.n, &so, &err)))
			info("metrics not scraped: %s\n", cp_lasterr());
		err = 0;
	}
	t0 = last_tick = last_sweep = last_sys = now_ns(CLOCK_MONOTONIC);
	info("recording run '%s' into '%s'%s\n", label, db,
	     duration ? "" : "; stop with Ctrl-C");
	while (!stop_requested) {
		int64_t now;
		int n = collector__poll(col, 100);

		if (n >= 0 && gt)
			n = grpc_tracer__poll(gt, 0, grpc_store, &gsink);
		if (n >= 0 && sp)
			n = sampler__poll(sp, 0, cpuprof__sample, cprof);
		if (n < 0) {
			error("cannot store requests: %s\n", cp_lasterr());
			err = n;
			break;
		}
		now = now_ns(CLOCK_MONOTONIC);
		if (duration && now - t0 >= duration * 1000000000LL)
			break;
		if (now - last_tick < 1000000000LL)
			continue;
		last_tick = now;
		if (now - last_sweep >= 60 * 1000000000LL) {
			/* Longer than any apiserver watch (--min-request-timeout 1800 s, up to 2x). */
			swept += attach__sweep(att, 0, 4 * 3600 * 1000000000ULL);
			if (gt)
				swept += grpc_tracer__sweep(gt, 4 * 3600 * 1000000000ULL);
			last_sweep = now;
		}
		if (now - last_sys >= SYSLAT_INTERVAL_NS) {
			if ((err = flush_kernel_views(sl, sv, st, run_id)))
				break;
			if (cprof)
				cpuprof__tick(cprof);
			last_sys = now;
		}
		if (scr.sc && (err = scraper__drain(scr.sc, st, run_id)) < 0) {
			error("cannot store the metrics scraped: %s\n", cp_lasterr());
			break;
		}
		err = 0;
		if ((err = store__flush(st))) {
			error("cannot store requests: %s\n", cp_lasterr());
			break;
		}
		{
			int alive = 0;

			for (i = 0; i < ntargets; i++) {
				struct record_target *t = &targets[i];

				if (!t->attached || t->exited)
					continue;
				if (discover__alive(t->proc.pid)) {
					alive++;
					continue;
				}
				t->exited = true;
				info("\ntarget pid %d exited\n", t->proc.pid);
				if (sp)
					sampler__remove_target(sp, t->proc.pid);
				if (gt)
					grpc_tracer__detach(gt, t->proc.pid);
				store__target_exited(st, t->target_id, now_ns(CLOCK_REALTIME));
			}
			if (!alive) {
				info("every target has exited; stopping\n");
				break;
			}
		}
		if (isatty(STDERR_FILENO) && log_verbosity >= LOG_INFO && now - last_status >= 1000000000LL) {
			uint64_t topn;
			const char *top = collector__top_verb(col, &topn);

			attach__stats(att, stats);
			fprintf(stderr, "\r\033[Kcpprof: %llus  requests %llu  lost %llu  top %s (%llu)",
				(unsigned long long)((now - t0) / 1000000000LL),
				(unsigned long long)(collector__requests(col) + gsink.calls),
				(unsigned long long)stats[STAT_RB_DROPS],
				top[0] ? top : "-", (unsigned long long)topn);
			last_status = now;
		}
	}
	if (isatty(STDERR_FILENO) && log_verbosity >= LOG_INFO)
		fputc('\n', stderr);

	/* 6. stop: the last scrapes while still tracing, then detach and drain the ring buffer */
	{
		struct record_poll rp = { col, gt, sp, cprof, &gsink };
		int e2 = finish_scrapes(&scr, st, run_id, record_poll, &rp);

		if (!err)
			err = e2;
	}
	attach__stats(att, stats);
	for (i = 0; i < ntargets; i++)
		if (targets[i].attached)
			attach__detach(att, targets[i].proc.pid);
	if (gt)
		for (i = 0; i < ntargets; i++)
			if (targets[i].attached && !targets[i].exited)
				grpc_tracer__detach(gt, targets[i].proc.pid);
	if (err == 0)
		while ((err = collector__poll(col, 0)) > 0)
			;
	if (err == 0 && gt)
		while ((err = grpc_tracer__poll(gt, 0, grpc_store, &gsink)) > 0)
			;
	if (sp) {
		/* Drain the samples, then tie the last ones to the requests just drained. */
		cpuprof__read_cpu(cprof);
		for (i = 0; i < ntargets; i++)
			if (targets[i].attached && !targets[i].exited)
				sampler__remove_target(sp, targets[i].proc.pid);
		if (err == 0)
			while ((err = sampler__poll(sp, 0, cpuprof__sample, cprof)) > 0)
				;
		sampler__stats(sp, cstats);
		if (err == 0 && (err = cpuprof__write(cprof)))
			error("cannot store the CPU profile: %s\n", cp_lasterr());
	}
	if (gt)
		grpc_tracer__stats(gt, &gstats);
	if (err == 0)
		err = flush_kernel_views(sl, sv, st, run_id);
	if (err < 0)
		error("cannot store requests: %s\n", cp_lasterr());
	attach__stats(att, stats);
	/* the size the run ended with (a density test grows it) */
	if (capi.url && read_cluster(&capi, &cluster, false) == 0 && store__set_cluster(st, run_id, &cluster))
		error("cannot store the cluster size: %s\n", cp_lasterr());
	{
		struct run_stats rs = {
			.ended_ns = now_ns(CLOCK_REALTIME),
			.requests = (int64_t)(collector__requests(col) + gsink.calls),
			.lost_events = (int64_t)(stats[STAT_RB_DROPS] + stats[STAT_INFLIGHT_FULL] +
						 gstats.lost + gstats.inflight_full),
			/* events of no known target too: they could not be stored */
			.unmatched = (int64_t)(stats[STAT_NO_START] + stats[STAT_REPLACED] + swept +
					       collector__unknown(col) + gstats.no_start + gstats.replaced +
					       gstats.unknown_pid),
			.lost_samples = (int64_t)cstats[CPU_STAT_RB_DROPS],
		};
		int e2 = store__end_run(st, run_id, &rs);

		if (e2) {
			error("cannot finish run: %s\n", cp_lasterr());
			err = e2;
		}
		info("run '%s': %lld requests stored, %lld lost, %lld unmatched -> %s\n", label,
		     (long long)rs.requests, (long long)rs.lost_events, (long long)rs.unmatched, db);
		if (attach__swept(att))
			info("%llu requests were still in flight at the end (watches and other long-running calls) and are not stored\n",
			     (unsigned long long)attach__swept(att));
		if (cprof) {
			struct cpuprof_stats cs;

			cpuprof__stats(cprof, &cs);
			info("CPU: %llu samples (%llu tied to requests, %llu with an unsymbolized leaf, %llu lost)\n",
			     (unsigned long long)cs.samples, (unsigned long long)cs.attributed,
			     (unsigned long long)cs.unknown_leaf,
			     (unsigned long long)cstats[CPU_STAT_RB_DROPS]);
			verbose("CPU counters: goroutines created %llu (%llu by requests), stale %llu, unresolved %llu, stacks %llu\n",
				(unsigned long long)cstats[CPU_STAT_SPAWN],
				(unsigned long long)cstats[CPU_STAT_SPAWN_REQ],
				(unsigned long long)cstats[CPU_STAT_STALE],
				(unsigned long long)cs.unresolved, (unsigned long long)cs.stacks);
		}
		verbose("counters: starts %llu ends %llu double-entry %llu double-end %llu read-errors %llu\n",
			(unsigned long long)stats[STAT_STARTS], (unsigned long long)stats[STAT_ENDS],
			(unsigned long long)stats[STAT_DOUBLE_ENTRY], (unsigned long long)stats[STAT_DOUBLE_END],
			(unsigned long long)stats[STAT_READ_ERR]);
	}
	ret = err ? EXIT_RUNTIME : EXIT_OK;
	goto cleanup;

cleanup_run:
	/* Nothing was recorded: leave no half-written run (or file) behind. */
	store__delete_run(st, run_id);
	store__close(st);
	st = NULL;
	if (!db_existed) {
		char side[4096];

		unlink(db);
		snprintf(side, sizeof(side), "%s-wal", db);
		unlink(side);
		snprintf(side, sizeof(side), "%s-shm", db);
		unlink(side);
	}
cleanup:
	collector__free(col);
	sampler__close(sp);
	cpuprof__free(cprof);
	syslat__close(sl);
	sockview__close(sv);
	grpc_tracer__close(gt);
	attach__close(att);
	store__close(st);
	return ret;
}

/* ---- report ----------------------------------------------------------- */

static const char report_help[] =
"usage: cpprof report FILE [--label NAME] [--format text|md|json|html|folded]\n"
"                     [--component C] [--cl2 PERFDATA.json] [-o OUT]\n"
"\n"
"Summarise the runs in FILE: per component, verb, resource and scope, the\n"
"request count, rate, p50/p90/p99/max latency, errors (by status), and the\n"
"Kubernetes API-call latency SLO verdict over 5-minute windows, the worst\n"
"counting (mutating calls p99 <= 1 s; get/list p99 <= 1 s for one object,\n"
"5 s in a namespace, 30 s cluster-wide; watch and other long-running calls\n"
"excluded); requests over time, etcd WAL fsync, clients served, and sampled\n"
"CPU with the serialization share and serialization CPU per request.\n"
"\n"
"  --label NAME   only this run (default: every run in FILE)\n"
"  --format F     text (default, 100 columns), md, json (shape: REPORT-JSON.md),\n"
"                 html (one self-contained page with SVG charts), or folded\n"
"                 (CPU stacks for flamegraph.pl and speedscope; one run)\n"
"  --component C  with folded: only the stacks of component C (apiserver, etcd)\n"
"  --cl2 FILE     clusterloader2's APIResponsivenessPrometheus PerfData of the\n"
"                 same test: its p50/p90/p99 beside cpprof's per call kind (one run)\n"
"  -o OUT         write to OUT instead of standard output\n"
"\n"
"A run recorded with --apiserver, --etcd-metrics or --metrics is checked\n"
"against the components' own metrics: apiserver_request_total and the\n"
"request duration buckets per call kind, etcd's WAL fsync and gRPC counts,\n"
"process_cpu_seconds_total, and the SLO both ways per 5-minute window.\n"
"\n"
"examples:\n"
"  cpprof report real.db\n"
"  cpprof report real.db --label real-2000 --format json -o real.json\n"
"  cpprof report real.db --format html -o real.html\n"
"  cpprof report real.db --cl2 APIResponsivenessPrometheus_load_2026-12-06.json\n"
"  cpprof report real.db --format folded --component apiserver | flamegraph.pl > cpu.svg\n";

/* Open OUT_PATH (NULL: stdout); NULL with a message on failure. */
static FILE *open_out(const char *out_path)
{
	FILE *out;

	if (!out_path)
		return stdout;
	out = fopen(out_path, "w");
	if (!out)
		error("cannot write '%s': %s\n", out_path, strerror(errno));
	return out;
}

/* Close OUT; on ERR or a close failure, remove OUT_PATH. The exit code. */
static int close_out(FILE *out, const char *out_path, int err, const char *what)
{
	if (out != stdout && fclose(out) && !err) {
		error("cannot write '%s': %s\n", out_path, strerror(errno));
		err = -EIO;
		if (out_path)
			unlink(out_path);
		return EXIT_RUNTIME;
	}
	if (err) {
		error("cannot %s: %s\n", what, cp_lasterr());
		if (out_path)
			unlink(out_path);
		return EXIT_RUNTIME;
	}
	return EXIT_OK;
}

/* Run WRITE into memory as JSON, then wrap it in the HTML page of KIND. */
static int write_html(FILE *out, const char *kind, const char *title,
		      int (*write)(void *arg, FILE *f), void *arg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);
	int err;

	if (!mem) {
		cp_seterr("out of memory");
		return -ENOMEM;
	}
	err = write(arg, mem);
	if (fclose(mem) && !err) {
		cp_seterr("out of memory");
		err = -ENOMEM;
	}
	if (!err)
		err = html__write(out, kind, title, buf, len);
	free(buf);
	return err;
}

struct report_job {
	const char *db;
	struct report_opts ro;
};

static int report_json(void *arg, FILE *f)
{
	struct report_job *j = arg;

	return report__write(j->db, &j->ro, f);
}

static int do_report(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "label", required_argument, NULL, 'l' },
		{ "format", required_argument, NULL, 'f' },
		{ "component", required_argument, NULL, 'c' },
		{ "cl2", required_argument, NULL, '2' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct report_job j = { .ro = { .format = REPORT_TEXT } };
	const char *out_path = NULL, *component = NULL;
	bool html = false, folded = false;
	char title[512];
	FILE *out;
	int c, err;

	optind = 1;
	while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
		switch (c) {
		case 'l': j.ro.label = optarg; break;
		case 'o': out_path = optarg; break;
		case 'c': component = optarg; break;
		case '2': j.ro.cl2 = optarg; break;
		case 'f':
			if (!strcmp(optarg, "text")) j.ro.format = REPORT_TEXT;
			else if (!strcmp(optarg, "md")) j.ro.format = REPORT_MD;
			else if (!strcmp(optarg, "json")) j.ro.format = REPORT_JSON;
			else if (!strcmp(optarg, "html")) html = true, j.ro.format = REPORT_JSON;
			else if (!strcmp(optarg, "folded")) folded = true;
			else
				return usage_error("report", "invalid --format '%s': expected text, md, json, html or folded", optarg);
			break;
		case 'h': fputs(report_help, stdout); return EXIT_OK;
		default: return usage_error("report", "%s", "invalid option");
		}
	}
	if (optind + 1 != argc)
		return usage_error("report", "%s", optind >= argc ? "missing FILE: the database to report on"
								 : "expected exactly one FILE");
	if (component && !folded)
		return usage_error("report", "--component '%s' goes with --format folded", component);
	if (j.ro.cl2 && folded)
		return usage_error("report", "--cl2 '%s' goes with --format text, md, json or html", j.ro.cl2);
	j.db = argv[optind];
	if (access(j.db, R_OK)) {
		error("cannot read '%s': %s\n", j.db, strerror(errno));
		return EXIT_RUNTIME;
	}
	if (!(out = open_out(out_path)))
		return EXIT_RUNTIME;
	if (folded) {
		err = report__folded(j.db, j.ro.label, component, out);
	} else if (html) {
		snprintf(title, sizeof(title), "cpprof report: %s%s%s", j.db, j.ro.label ? ":" : "",
			 j.ro.label ? j.ro.label : "");
		err = write_html(out, "report", title, report_json, &j);
	} else {
		err = report__write(j.db, &j.ro, out);
	}
	snprintf(title, sizeof(title), "report on '%s'", j.db);
	return close_out(out, out_path, err, title);
}

/* ---- diff ------------------------------------------------------------- */

static const char diff_help[] =
"usage: cpprof diff BASE.db[:LABEL] CAND.db[:LABEL] [--format text|md|json|html]\n"
"                   [--min-delta-ms MS] [-o OUT]\n"
"       cpprof diff --trend REAL_BEFORE REAL_AFTER KUBEMARK_BEFORE KUBEMARK_AFTER [...]\n"
"\n"
"Compare two runs call kind by call kind (component, verb, resource,\n"
"subresource, scope, path): counts, rates, p50/p90/p99 of each side and the\n"
"ratio CAND/BASE. Flags: P99 where the p99 ratio leaves [0.5, 2] (and the\n"
"p99s are at least --min-delta-ms apart), SLO where the verdicts differ,\n"
"BASE-ONLY/CAND-ONLY for kinds on one side; kinds with fewer than 20\n"
"requests on a side are shown but never flagged. Serialization CPU per\n"
"request and etcd WAL fsync are compared the same way.\n"
"\n"
"With four runs (--trend, or simply four arguments), the trend check: for\n"
"each call kind, the p99 change real after/before and Kubemark after/before,\n"
"and whether they agree: both within [0.8, 1.25] (no change), or both up or\n"
"both down with sizes within 2x of each other.\n"
"\n"
"A FILE holding several runs needs :LABEL ('cpprof runs FILE' lists them).\n"
"\n"
"  --format F        text (default, 100 columns), md, json (REPORT-JSON.md), html\n"
"  --min-delta-ms MS p99 differences below MS are not flagged (default 1)\n"
"  --trend           four runs: the trend check\n"
"  -o OUT            write to OUT instead of standard output\n"
"\n"
"examples:\n"
"  cpprof diff real.db km.db\n"
"  cpprof diff both.db:real-2000 both.db:km-2000 --format html -o diff.html\n"
"  cpprof diff --trend real-1.2.db real-1.3.db km-1.2.db km-1.3.db\n";

struct diff_job {
	const char *const *specs;
	int n;
	struct diff_opts o;
};

static int diff_json(void *arg, FILE *f)
{
	struct diff_job *j = arg;

	return diff__write(j->specs, j->n, &j->o, f);
}

static int do_diff(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "min-delta-ms", required_argument, NULL, 'm' },
		{ "trend", no_argument, NULL, 't' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct diff_job j = { .o = { .format = REPORT_TEXT, .min_delta_ns = DIFF_MIN_DELTA_NS } };
	const char *out_path = NULL;
	bool html = false, trend = false;
	char title[1024];
	FILE *out;
	long v;
	int c, err;

	optind = 1;
	while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
		switch (c) {
		case 'o': out_path = optarg; break;
		case 't': trend = true; break;
		case 'm':
			if (parse_int(optarg, 0, 3600000, &v))
				return usage_error("diff", "invalid --min-delta-ms '%s': expected whole milliseconds", optarg);
			j.o.min_delta_ns = v * 1000000LL;
			break;
		case 'f':
			if (!strcmp(optarg, "text")) j.o.format = REPORT_TEXT;
			else if (!strcmp(optarg, "md")) j.o.format = REPORT_MD;
			else if (!strcmp(optarg, "json")) j.o.format = REPORT_JSON;
			else if (!strcmp(optarg, "html")) html = true, j.o.format = REPORT_JSON;
			else
				return usage_error("diff", "invalid --format '%s': expected text, md, json or html", optarg);
			break;
		case 'h': fputs(diff_help, stdout); return EXIT_OK;
		default: return usage_error("diff", "%s", "invalid option");
		}
	}
	j.specs = (const char *const *)argv + optind;
	j.n = argc - optind;
	if (trend && j.n != 4)
		return usage_error("diff", "--trend takes 4 runs (real before, real after, Kubemark before, Kubemark after), not %s",
				   j.n < 4 ? "fewer" : "more");
	if (j.n != 2 && j.n != 4)
		return usage_error("diff", "%s", j.n < 2 ? "missing runs: expected BASE CAND (or 4 runs with --trend)"
							 : "expected 2 runs (BASE CAND) or 4 (the trend check)");
	if (!(out = open_out(out_path)))
		return EXIT_RUNTIME;
	if (html) {
		if (j.n == 2)
			snprintf(title, sizeof(title), "cpprof diff: %s vs %s", j.specs[0], j.specs[1]);
		else
			snprintf(title, sizeof(title), "cpprof trend: %s %s %s %s", j.specs[0],
				 j.specs[1], j.specs[2], j.specs[3]);
		err = write_html(out, j.n == 2 ? "diff" : "trend", title, diff_json, &j);
	} else {
		err = diff__write(j.specs, j.n, &j.o, out);
	}
	return close_out(out, out_path, err, "compare the runs");
}

/* ---- runs ------------------------------------------------------------- */

static const char runs_help[] =
"usage: cpprof runs FILE [--format text|json]\n"
"\n"
"List the runs FILE holds: label, kind, start, duration, requests, cluster\n"
"size, host, and each target with its Go, Kubernetes and etcd versions.\n"
"Name a run of a file with several as FILE:LABEL in 'cpprof diff', or with\n"
"--label in 'cpprof report'.\n"
"\n"
"examples:\n"
"  cpprof runs real.db\n"
"  cpprof runs real.db --format json\n";

static int do_runs(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	enum report_format f = REPORT_TEXT;
	int c, err;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (!strcmp(optarg, "text")) f = REPORT_TEXT;
			else if (!strcmp(optarg, "json")) f = REPORT_JSON;
			else
				return usage_error("runs", "invalid --format '%s': expected text or json", optarg);
			break;
		case 'h': fputs(runs_help, stdout); return EXIT_OK;
		default: return usage_error("runs", "%s", "invalid option");
		}
	}
	if (optind + 1 != argc)
		return usage_error("runs", "%s", optind >= argc ? "missing FILE: the database to list"
							       : "expected exactly one FILE");
	err = runs__write(argv[optind], f, stdout);
	if (err) {
		error("cannot list the runs of '%s': %s\n", argv[optind], cp_lasterr());
		return EXIT_RUNTIME;
	}
	return EXIT_OK;
}

/* ---- inspect ---------------------------------------------------------- */

static const char inspect_help[] =
"usage: cpprof inspect BINARY | --pid PID [--format text|json]\n"
"\n"
"Show what cpprof finds in a Go binary without touching any process: Go\n"
"version, main package, pclntab format, runtime.text, where the struct\n"
"offsets come from, and each probe: function, address, the instruction\n"
"under it (emulated by the kernel, ~0.7 us a hit, or single-stepped,\n"
"~9.5 us in a KVM guest) and the function's RET count.\n"
"\n"
"examples:\n"
"  cpprof inspect /usr/local/bin/kube-apiserver\n"
"  sudo cpprof inspect --pid $(pidof kube-apiserver) --format json\n";

static int do_inspect(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	static struct probe_plan plan;
	struct lineage_plan lp;
	char path[64], exe_name[512] = "";
	const char *target = NULL;
	bool json = false;
	long pid = 0;
	int c, i;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (parse_int(optarg, 1, 4194304, &pid))
				return usage_error("inspect", "invalid --pid '%s': expected a process id", optarg);
			break;
		case 'f':
			if (!strcmp(optarg, "json")) json = true;
			else if (strcmp(optarg, "text"))
				return usage_error("inspect", "invalid --format '%s': expected text or json", optarg);
			break;
		case 'h': fputs(inspect_help, stdout); return EXIT_OK;
		default: return usage_error("inspect", "%s", "invalid option");
		}
	}
	if (pid) {
		struct target_proc tp;

		if (optind < argc)
			return usage_error("inspect", "give BINARY or --pid, not both (got '%s')", argv[optind]);
		if (discover__pid((int)pid, &tp)) {
			error("cannot inspect pid %ld: %s\n", pid, cp_lasterr());
			return EXIT_RUNTIME;
		}
		snprintf(path, sizeof(path), "/proc/%ld/exe", pid);
		snprintf(exe_name, sizeof(exe_name), "%s", tp.exe);
		target = path;
	} else {
		if (optind + 1 != argc)
			return usage_error("inspect", "%s", "expected one BINARY or --pid PID");
		target = argv[optind];
	}
	if (plan__build(target, &plan)) {
		error("cannot inspect '%s': %s\n", target, cp_lasterr());
		return EXIT_RUNTIME;
	}
	if (pid) /* the file name fallback needs the real name, not /proc/PID/exe */
		snprintf(plan.component, sizeof(plan.component), "%s",
			 plan_component(plan.main_path, exe_name));
	if (json) {
		printf("{\"path\":");
		report__json_str(stdout, target);
		printf(",\"go_version\":");
		report__json_str(stdout, plan.go_version);
		printf(",\"main_path\":");
		report__json_str(stdout, plan.main_path);
		printf(",\"component\":");
		report__json_str(stdout, plan.component);
		printf(",\"build_id\":");
		report__json_str(stdout, plan.build_id);
		printf(",\"pclntab\":");
		report__json_str(stdout, plan.pclntab_format);
		printf(",\"runtime_text\":%llu,\"runtime_text_source\":", (unsigned long long)plan.text_start);
		report__json_str(stdout, plan.text_source);
		printf(",\"stripped\":%s,\"dwarf\":%s,\"offsets\":{\"request_method\":%d,\"request_url\":%d,"
		       "\"url_path\":%d,\"url_rawquery\":%d,\"source\":",
		       plan.stripped ? "true" : "false", plan.has_dwarf ? "true" : "false",
		       plan.off.request_method, plan.off.request_url, plan.off.url_path, plan.off.url_rawquery);
		report__json_str(stdout, plan.off.source);
		printf(",\"fields\":{");
		for (i = 0; i < GO_OFF__FIELDS; i++) {
			printf("%s", i ? "," : "");
			report__json_str(stdout, offsets__field_name(i));
			printf(":{\"offset\":%d,\"source\":", *offsets__field(&plan.off, i));
			report__json_str(stdout, plan.off.field_source[i]);
			printf("}");
		}
		printf("}},\"probes\":[");
		for (i = 0; i < plan.nsites; i++) {
			const struct probe_site *s = &plan.sites[i];

			printf("%s{\"kind\":\"%s\",\"function\":", i ? "," : "", probe_kind_name(s->kind));
			report__json_str(stdout, s->func);
			printf(",\"entry\":%llu,\"address\":%llu,\"file_offset\":%llu,\"placement\":\"%s\","
			       "\"emulated\":%s,\"instruction\":",
			       (unsigned long long)s->entry, (unsigned long long)s->addr,
			       (unsigned long long)s->file_off,
			       s->once ? "after_stack_check" : s->at_jcc ? "stack_check" : "entry",
			       s->emulated ? "true" : "false");
			report__json_str(stdout, s->insn);
			printf(",\"rets\":%d", s->nret);
			if (s->kind == PROBE_FINISH_H1 || s->kind == PROBE_FINISH_H2) {
				printf(",\"status\":{\"field\":");
				report__json_str(stdout, s->status_field);
				printf(",\"proven\":%s,\"offset\":%d,\"rws\":%d,\"source\":",
				       s->status_proven ? "true" : "false", s->status_off, s->status_rws);
				report__json_str(stdout, s->status_src);
				printf("}");
			}
			if (s->kind == PROBE_WRITE_HEADER)
				printf(",\"fallback\":%s", s->fallback ? "true" : "false");
			printf("}");
		}
		printf("],\"lineage\":");
		if (lineage__plan(target, &lp) == 0) {
			printf("{\"entry\":%llu,\"entry_instruction\":", (unsigned long long)lp.entry.addr);
			report__json_str(stdout, lp.entry.insn);
			printf(",\"newg\":%llu,\"newg_instruction\":", (unsigned long long)lp.newg.addr);
			report__json_str(stdout, lp.newg.insn);
			printf(",\"emulated\":%s}", lp.entry.emulated && lp.newg.emulated ? "true" : "false");
		} else {
			printf("{\"error\":");
			report__json_str(stdout, cp_lasterr());
			printf("}");
		}
		printf("}\n");
		return EXIT_OK;
	}
	printf("binary:        %s\n", target);
	printf("go version:    %s\n", plan.go_version);
	printf("main package:  %s\n", plan.main_path[0] ? plan.main_path : "-");
	printf("component:     %s\n", plan.component);
	printf("build id:      %s\n", plan.build_id[0] ? plan.build_id : "-");
	printf("symbols:       %s%s\n", plan.stripped ? "stripped" : ".symtab present",
	       plan.has_dwarf ? ", DWARF present" : ", no DWARF");
	printf("pclntab:       %s, runtime.text 0x%llx (%s)\n", plan.pclntab_format,
	       (unsigned long long)plan.text_start, plan.text_source);
	printf("offsets:       Request.Method %d, Request.URL %d, URL.Path %d, URL.RawQuery %d (%s)\n",
	       plan.off.request_method, plan.off.request_url, plan.off.url_path,
	       plan.off.url_rawquery, plan.off.source);
	offsets__print(&plan.off, stdout);
	printf("probes:\n");
	printf("  %-13s %-18s %-18s %-4s %-12s %s\n", "KIND", "ENTRY", "PROBE", "RETS", "COST", "FUNCTION / INSTRUCTION");
	for (i = 0; i < plan.nsites; i++) {
		const struct probe_site *s = &plan.sites[i];

		printf("  %-13s 0x%-16llx 0x%-16llx %-4d %-12s %s\n", probe_kind_name(s->kind),
		       (unsigned long long)s->entry, (unsigned long long)s->addr, s->nret,
		       s->emulated ? "emulated" : "single-step", s->func);
		printf("  %-13s %-18s %-18s %-4s %-12s %s%s\n", "", "", "", "", "", s->insn,
		       s->once ? " (after the prologue stack check)" :
		       s->at_jcc ? " (prologue stack check)" : " (entry)");
	}
	/* the status of each request, read by its end probe, or WriteHeader probes where not proven */
	for (i = 0; i < plan.nsites; i++) {
		const struct probe_site *s = &plan.sites[i];

		if (s->kind != PROBE_FINISH_H1 && s->kind != PROBE_FINISH_H2)
			continue;
		if (s->status_proven && s->status_rws >= 0)
			printf("status:        %s at [[writer + %d] + %d], read at the end: %s\n", s->status_field,
			       s->status_rws, s->status_off, s->status_src);
		else if (s->status_proven)
			printf("status:        %s at [writer + %d], read at the end: %s\n", s->status_field,
			       s->status_off, s->status_src);
		else
			printf("status:        %s not proven (%s): WriteHeader probes instead (fallback)\n",
			       s->status_field, s->status_src);
	}
	if (lineage__plan(target, &lp) == 0) {
		printf("lineage:       runtime.newproc1 0x%llx (%s, %s) and its casgstatus(newg, _Gdead)\n"
		       "               call 0x%llx (%s, %s): CPU samples of goroutines a request creates\n"
		       "               count for that request\n",
		       (unsigned long long)lp.entry.addr, lp.entry.insn,
		       lp.entry.emulated ? "emulated" : "single-step", (unsigned long long)lp.newg.addr,
		       lp.newg.insn, lp.newg.emulated ? "emulated" : "single-step");
	} else {
		printf("lineage:       none (%s): CPU samples count for a request only on its own goroutine\n",
		       cp_lasterr());
	}
	grpc_plan__print(target, stdout);
	return EXIT_OK;
}

/* ---- main ------------------------------------------------------------- */

static const struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
} cmds[] = {
	{ "record",  do_record,  "trace kube-apiserver/etcd (or any Go HTTP server) into a database" },
	{ "report",  do_report,  "per verb/resource latency table and SLO verdicts of a database" },
	{ "inspect", do_inspect, "show Go version, probe sites and offsets of a binary" },
	{ "diff",    do_diff,    "compare two runs call kind by call kind, or four (--trend)" },
	{ "runs",    do_runs,    "list the runs a database holds" },
};

static void main_usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: cpprof [-v|-vv|-q] COMMAND [ARGS]\n\n"
		   "cpprof profiles the Kubernetes control plane from the kernel: per-request\n"
		   "latency of kube-apiserver (and any Go net/http server) by verb and resource,\n"
		   "stored in SQLite for offline reports.\n\ncommands:\n");
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %-8s %s\n", cmds[i].name, cmds[i].summary);
	fprintf(f, "\n'cpprof COMMAND --help' explains a command, with examples.\n"
		   "  -v, --verbose   more output (-vv: libbpf debug too)\n"
		   "  -q, --quiet     errors only\n"
		   "  -V, --version   print the version\n");
}

int cli_main(int argc, char **argv)
{
	size_t i;
	int a;

	for (a = 1; a < argc && argv[a][0] == '-'; a++) {
		const char *o = argv[a];

		if (!strcmp(o, "-v") || !strcmp(o, "--verbose"))
			log_verbosity = LOG_VERBOSE;
		else if (!strcmp(o, "-vv"))
			log_verbosity = LOG_DEBUG;
		else if (!strcmp(o, "-q") || !strcmp(o, "--quiet"))
			log_verbosity = LOG_ERROR;
		else if (!strcmp(o, "-V") || !strcmp(o, "--version")) {
			printf("cpprof %s\n", CPPROF_VERSION);
			return EXIT_OK;
		} else if (!strcmp(o, "-h") || !strcmp(o, "--help")) {
			main_usage(stdout);
			return EXIT_OK;
		} else {
			fprintf(stderr, "cpprof: unknown option '%s'\n", o);
			main_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (a >= argc) {
		main_usage(stderr);
		return EXIT_USAGE;
	}
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[a], cmds[i].name))
			return cmds[i].fn(argc - a, argv + a);
	fprintf(stderr, "cpprof: unknown command '%s'; see 'cpprof --help'\n", argv[a]);
	return EXIT_USAGE;
}
