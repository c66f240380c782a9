// SPDX-License-Identifier: MIT
/*
 * cli: cpprof's command line. Global options, then a command table as in
 * bpftool; every command has --help with examples. Exit codes: 0 ok,
 * 1 runtime error, 2 usage error (design.md).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "budget.h"
#include "cli.h"
#include "discover.h"
#include "grpc.h"
#include "lineage.h"
#include "log.h"
#include "plan.h"
#include "record.h"
#include "report.h"
#include "diff.h"
#include "html.h"
#include "runs.h"
#include "store.h"

#define CPPROF_VERSION "0.1.0"

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
"                     [--listen [HOST]:PORT]\n"
"\n"
"Trace Go HTTP servers (kube-apiserver by default) with uprobes and store\n"
"every request's latency, tagged by Kubernetes verb and resource, in FILE\n"
"(SQLite, created 0600). etcd targets also get their gRPC calls traced,\n"
"tagged by operation and by the resource their key names. Runs until --duration elapses, SIGINT/SIGTERM, or\n"
"(--pid without --follow) every target has exited; the run is saved in all cases.\n"
"Targets found by name or by default discovery are followed: a process that\n"
"starts later (a restarted apiserver) is inspected afresh and traced within about\n"
"a second, and each process's start and exit are recorded.\n"
"\n"
"  --db FILE          database to create or add a run to (required)\n"
"  --label NAME       unique name of this run in FILE (default: KIND-DATE-TIME)\n"
"  --kind KIND        real, kubemark or other (default: other)\n"
"  --pid PID          trace this process (repeatable)\n""  --follow           with --pid: also trace new processes of the same executables,\n"
"                     and go on when the pids exit (without it --pid is strict)\n"
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
"  --max-db-size SIZE stop storing rows once FILE and its WAL reach SIZE\n"
"                     (K, M, G, T: powers of 1024, e.g. 500M, 2G; default: none)\n"
"  --min-free SIZE    stop storing rows once free space on FILE's filesystem\n"
"                     falls below SIZE (default: 5% of the filesystem, at most\n"
"                     1G; 0: no floor). At either limit, or when the disk is\n"
"                     full anyway, requests, CPU stacks, syscall, socket and\n"
"                     metric rows are counted instead of stored; the run is\n"
"                     saved with the counts, and the report says so\n"
"  --listen [HOST]:PORT\n"
"                     serve Prometheus metrics while recording (GET /metrics):\n"
"                     cpprof_request_duration_seconds (the apiserver's buckets),\n"
"                     CPU by category and call kind, drops, targets attached;\n"
"                     PORT or :PORT listens on 127.0.0.1 only, 0.0.0.0:PORT or\n"
"                     [::]:PORT on every interface (no TLS, no authentication)\n"
"\n"
"Needs root (uprobes). Probes sit on instructions the kernel emulates where\n"
"the binary allows; see 'cpprof inspect'.\n"
"\n"
"examples:\n"
"  sudo cpprof record --db real.db --label real-2000 --kind real --duration 3600\n"
"  sudo cpprof record --db t.db --pid $(pidof kube-apiserver) --duration 60\n"
"  sudo cpprof record --db t.db --target my-go-server\n"
"  sudo cpprof record --db real.db --kind real --listen :9464\n";

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

static const struct option record_options[] = {
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
	{ "no-sockets", no_argument, NULL, 'O' },
	{ "sample-hz", required_argument, NULL, 'S' },
	{ "syscalls", required_argument, NULL, 'W' },
	{ "metrics", required_argument, NULL, 'M' },
	{ "etcd-metrics", required_argument, NULL, 1007 },
	{ "etcd-metrics-ca", required_argument, NULL, 1008 },
	{ "etcd-metrics-cert", required_argument, NULL, 1009 },
	{ "etcd-metrics-key", required_argument, NULL, 1010 },
	{ "metrics-interval", required_argument, NULL, 1011 },
	{ "metrics-timeout", required_argument, NULL, 1012 },
	{ "listen", required_argument, NULL, 1700 },
	{ "nodes", required_argument, NULL, 1000 },
	{ "pods", required_argument, NULL, 1001 },
	{ "namespaces", required_argument, NULL, 1002 },
	{ "apiserver", required_argument, NULL, 1003 },
	{ "apiserver-ca", required_argument, NULL, 1004 },
	{ "apiserver-token-file", required_argument, NULL, 1005 },
	{ "apiserver-insecure", no_argument, NULL, 1006 },
	{ "follow", no_argument, NULL, 1013 },
	{ "max-db-size", required_argument, NULL, 1014 },
	{ "min-free", required_argument, NULL, 1015 },
	{ "help", no_argument, NULL, 'h' },
	{}
};

/* One option of record into O; -1 when it was taken, else the exit code (help, usage error). */
static int record_option(int c, struct record_opts *o)
{
	long v;

	switch (c) {
	case 'd': o->db = optarg; break;
	case 'l': o->label = optarg; break;
	case 'k': o->kind = optarg; break;
	case 'c': o->component = optarg; break;
	case 'N': o->store_names = true; break;
	case 'Y': o->no_syscalls = true; break;
	case 'O': o->no_sockets = true; break;
	case 'E':
		if (optarg[0] != '/')
			return usage_error("record", "invalid --etcd-prefix '%s': expected a key prefix starting with '/'", optarg);
		o->etcd_prefix = optarg;
		break;
	case 'p':
		if (o->npids >= DISCOVER_MAX || parse_int(optarg, 1, 4194304, &v))
			return usage_error("record", "invalid --pid '%s': expected a process id", optarg);
		o->pids[o->npids++] = (int)v;
		break;
	case 't':
		if (o->nnames >= DISCOVER_MAX)
			return usage_error("record", "too many --target options%s", "");
		o->names[o->nnames++] = optarg;
		break;
	case 'D':
		if (parse_int(optarg, 1, 31L * 24 * 3600, &o->duration))
			return usage_error("record", "invalid --duration '%s': expected whole seconds, at least 1", optarg);
		break;
	case 'S':
		if (parse_int(optarg, 0, 10000, &o->sample_hz))
			return usage_error("record", "invalid --sample-hz '%s': expected 0 (off) or a rate of 1-10000 Hz", optarg);
		break;
	case 1000: case 1001: case 1002:
		if (parse_int(optarg, 0, 100000000, &v))
			return usage_error("record", "invalid cluster size '%s': expected a count", optarg);
		*(c == 1000 ? &o->cluster.nodes : c == 1001 ? &o->cluster.pods : &o->cluster.namespaces) = v;
		o->cluster.source = "flags";
		break;
	case 1003:
		if (strncmp(optarg, "http://", 7) && strncmp(optarg, "https://", 8))
			return usage_error("record", "invalid --apiserver '%s': expected an http:// or https:// URL", optarg);
		o->capi.url = optarg;
		break;
	case 1004: o->capi.ca_file = optarg; break;
	case 1005: o->capi.token_file = optarg; break;
	case 1006: o->capi.insecure = true; break;
	case 'W':
		if (strcmp(optarg, "none") == 0)
			o->no_syscalls = true;
		else if (syslat__parse_mode(optarg, &o->sys_mode))
			return usage_error("record", "--syscalls must be fsync, all or none, not '%s'", optarg);
		else
			o->no_syscalls = false;
		break;
	case 'M': case 1007:
		if (strncmp(optarg, "http://", 7) && strncmp(optarg, "https://", 8))
			return usage_error("record", "invalid metrics URL '%s': expected http:// or https://", optarg);
		if (o->nmetrics >= SCRAPE_MAX_ENDPOINTS - 1)
			return usage_error("record", "too many metrics endpoints at '%s'", optarg);
		o->metrics[o->nmetrics++] = (struct scrape_endpoint){ .url = optarg,
			.component = c == 'M' ? "other" : "etcd" };
		break;
	case 1008: o->etcd_ca = optarg; break;
	case 1009: o->etcd_cert = optarg; break;
	case 1010: o->etcd_key = optarg; break;
	case 1011:
		if (parse_int(optarg, 1, 3600, &o->metrics_interval_s))
			return usage_error("record", "invalid --metrics-interval '%s': expected 1-3600 seconds", optarg);
		break;
	case 1012:
		if (parse_int(optarg, 1, 600, &o->metrics_timeout_s))
			return usage_error("record", "invalid --metrics-timeout '%s': expected 1-600 seconds", optarg);
		break;
	case 1013: o->follow = true; break;
	case 1014:
		if (budget__parse_size(optarg, &o->max_db_bytes) || o->max_db_bytes < (1 << 20))
			return usage_error("record", "invalid --max-db-size '%s': expected a size of at least 1M, "
					   "e.g. 500M or 2G", optarg);
		break;
	case 1015:
		if (budget__parse_size(optarg, &o->min_free_bytes))
			return usage_error("record", "invalid --min-free '%s': expected a size, e.g. 1G, "
					   "or 0 for no floor", optarg);
		break;
	case 1700: o->listen = optarg; break;
	case 'h': fputs(record_help, stdout); return EXIT_OK;
	default: return usage_error("record", "%s", "invalid option");
	}
	return -1;
}

/* record only parses and checks its options; the session is record.c's. */
static int do_record(int argc, char **argv)
{
	static struct record_opts o;
	char label_buf[64], cmdline[1024];
	int c, ret;

	o = (struct record_opts){
		.kind = "other", .sample_hz = 199, .sys_mode = SYSLAT_FSYNC,
		.metrics_interval_s = 15, .metrics_timeout_s = 10, .min_free_bytes = -1,
		.cluster = { .nodes = -1, .pods = -1, .namespaces = -1 },
	};
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", record_options, NULL)) != -1)
		if ((ret = record_option(c, &o)) >= 0)
			return ret;
	if (optind < argc)
		return usage_error("record", "unexpected argument '%s'", argv[optind]);
	if (!o.db)
		return usage_error("record", "%s", "missing --db FILE: where to store the run");
	if (strcmp(o.kind, "real") && strcmp(o.kind, "kubemark") && strcmp(o.kind, "other"))
		return usage_error("record", "invalid --kind '%s': expected real, kubemark or other", o.kind);
	if (o.component && strcmp(o.component, "apiserver") && strcmp(o.component, "etcd") &&
	    strcmp(o.component, "other"))
		return usage_error("record", "invalid --component '%s': expected apiserver, etcd or other", o.component);
	if (!o.label) {
		default_label(label_buf, sizeof(label_buf), o.kind);
		o.label = label_buf;
	}
	join_argv(cmdline, sizeof(cmdline), argc + 1, argv - 1);
	o.command = cmdline;
	return record__run(&o);
}

/* ---- report ----------------------------------------------------------- */

static const char report_help[] =
"usage: cpprof report FILE[:LABEL]... [--label NAME]\n"
"                     [--format text|md|json|html|folded|pprof|perfdata]\n"
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
"Several FILEs are the files of one cluster's masters (HA control plane),\n"
"each recorded on its own master: they are reported as one, every run\n"
"label the same run across them. Counts and CPU are summed, percentiles\n"
"are exact over the union of the requests, and a per-host section gives\n"
"each master's count and p99 per call kind, its targets, and its metrics\n"
"cross-checks. Files holding one run each merge whatever their labels;\n"
"FILE:LABEL names one file's run. Refused: a file given twice (or a copy),\n"
"a label one file lacks, one run of two kinds.\n"
"\n"
"  --label NAME   only this run (default: every run in FILE)\n"
"  --format F     text (default, 100 columns), md, json (shape: REPORT-JSON.md),\n"
"                 html (one self-contained page with SVG charts), folded\n"
"                 (CPU stacks for flamegraph.pl and speedscope; one run), pprof\n"
"                 (the same stacks as gzipped profile.proto for go tool pprof,\n"
"                 labelled component, category, verb, resource, subresource,\n"
"                 scope; one run; to -o FILE or a pipe), or perfdata (perf-tests'\n"
"                 PerfData of the apiserver calls for perfdash; one run, or with\n"
"                 -o DIRECTORY one APIResponsivenessPrometheus_LABEL_TIME.json\n"
"                 per run)\n"
"  --component C  with folded or pprof: only the stacks of component C (apiserver,\n"
"                 etcd); with perfdata: the calls of C instead of apiserver's\n"
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
"  cpprof report real.db --format folded --component apiserver | flamegraph.pl > cpu.svg\n"
"  cpprof report master-1.db master-2.db master-3.db --label real-2000\n"
"  cpprof report real.db --format pprof -o cpu.pb.gz && go tool pprof -top cpu.pb.gz\n"
"  cpprof report real.db --format perfdata -o results/\n";

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
	struct report_src *src;   /* the FILE[:LABEL] arguments, one per master */
	size_t nsrc;
};

static int report_json(void *arg, FILE *f)
{
	struct report_job *j = arg;

	return report__write_many(j->src, j->nsrc, &j->ro, f);
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
	bool html = false, folded = false, pprof = false, perfdata = false;
	struct stat sb;
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
			else if (!strcmp(optarg, "pprof")) pprof = true;
			else if (!strcmp(optarg, "perfdata")) perfdata = true;
			else
				return usage_error("report", "invalid --format '%s': expected text, md, json, html, folded, pprof or perfdata", optarg);
			break;
		case 'h': fputs(report_help, stdout); return EXIT_OK;
		default: return usage_error("report", "%s", "invalid option");
		}
	}
	if (optind >= argc)
		return usage_error("report", "%s", "missing FILE: the database to report on");
	if (component && !folded && !pprof && !perfdata)
		return usage_error("report", "--component '%s' goes with --format folded, pprof or perfdata", component);
	if ((pprof || perfdata) && argc - optind > 1)
		return usage_error("report", "--format %s takes one FILE (a master's own file)", pprof ? "pprof" : "perfdata");
	if (pprof && !out_path && isatty(STDOUT_FILENO))
		return usage_error("report", "%s", "--format pprof writes gzip: name a file with -o (cpu.pb.gz)");
	if (j.ro.cl2 && (folded || pprof || perfdata))
		return usage_error("report", "--cl2 '%s' goes with --format text, md, json or html", j.ro.cl2);
	j.db = argv[optind];
	/* several FILEs: the masters' files of one cluster, merged (FILE:LABEL names a run) */
	j.nsrc = argc - optind;
	if (!(j.src = calloc(j.nsrc, sizeof(*j.src)))) {
		error("out of memory\n");
		return EXIT_RUNTIME;
	}
	for (size_t i = 0; i < j.nsrc; i++) {
		char *path, *label;

		/* an existing file is a file, whatever its name (diff__split_spec) */
		if (diff__split_spec(argv[optind + i], &path, &label)) {
			error("out of memory\n");
			return EXIT_RUNTIME;
		}
		j.src[i].path = path;
		j.src[i].label = label ? label : j.ro.label;
		if (access(path, R_OK)) {
			error("cannot read '%s': %s\n", path, strerror(errno));
			return EXIT_RUNTIME;
		}
	}
	if (perfdata && out_path && !stat(out_path, &sb) && S_ISDIR(sb.st_mode)) {
		/* -o DIRECTORY: one file per run, named as perfdash looks for them */
		out = stdout;
		err = report__perfdata(j.src[0].path, j.src[0].label, component, stdout, out_path);
		out_path = NULL;
	} else if (!(out = open_out(out_path))) {
		return EXIT_RUNTIME;
	} else if (folded) {
		err = report__folded_many(j.src, j.nsrc, component, out);
	} else if (pprof) {
		err = report__pprof(j.src[0].path, j.src[0].label, component, out);
	} else if (perfdata) {
		err = report__perfdata(j.src[0].path, j.src[0].label, component, out, NULL);
	} else if (html) {
		snprintf(title, sizeof(title), "cpprof report: %s%s%s%s", j.db, j.nsrc > 1 ? " ..." : "",
			 j.ro.label ? ":" : "", j.ro.label ? j.ro.label : "");
		err = write_html(out, "report", title, report_json, &j);
	} else {
		err = report__write_many(j.src, j.nsrc, &j.ro, out);
	}
	if (j.nsrc > 1)
		snprintf(title, sizeof(title), "report on '%s' and %zu more", j.db, j.nsrc - 1);
	else
		snprintf(title, sizeof(title), "report on '%s'", j.db);
	for (size_t i = 0; i < j.nsrc; i++) {
		free((char *)j.src[i].path);
		if (j.src[i].label != j.ro.label)
			free((char *)j.src[i].label);
	}
	free(j.src);
	return close_out(out, out_path, err, title);
}

/* ---- diff ------------------------------------------------------------- */

static const char diff_help[] =
"usage: cpprof diff BASE.db[:LABEL][,BASE2.db[:LABEL]...] CAND.db[:LABEL][,...]\n"
"                   [--format text|md|json|html]\n"
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
"A side may be several files, comma-separated: one per master of an HA\n"
"control plane, merged as 'cpprof report' merges them (exact percentiles\n"
"over the union of the requests, counts summed).\n"
"\n"
"  --format F        text (default, 100 columns), md, json (REPORT-JSON.md), html\n"
"  --min-delta-ms MS p99 differences below MS are not flagged (default 1)\n"
"  --trend           four runs: the trend check\n"
"  -o OUT            write to OUT instead of standard output\n"
"\n"
"examples:\n"
"  cpprof diff real.db km.db\n"
"  cpprof diff both.db:real-2000 both.db:km-2000 --format html -o diff.html\n"
"  cpprof diff --trend real-1.2.db real-1.3.db km-1.2.db km-1.3.db\n"
"  cpprof diff m1.db,m2.db,m3.db km.db\n";

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

/* One option of inspect into PID or JSON; -1 when it was taken, else the exit code (help, usage error). */
static int inspect_option(int c, long *pid, bool *json)
{
	switch (c) {
	case 'p':
		if (parse_int(optarg, 1, 4194304, pid))
			return usage_error("inspect", "invalid --pid '%s': expected a process id", optarg);
		break;
	case 'f':
		if (!strcmp(optarg, "json")) *json = true;
		else if (strcmp(optarg, "text"))
			return usage_error("inspect", "invalid --format '%s': expected text or json", optarg);
		break;
	case 'h': fputs(inspect_help, stdout); return EXIT_OK;
	default: return usage_error("inspect", "%s", "invalid option");
	}
	return -1;
}

static void inspect_json_probe(const struct probe_site *s)
{
	printf("{\"kind\":\"%s\",\"function\":", probe_kind_name(s->kind));
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

/* The lineage probes of TARGET as a JSON object, or {"error": why} when it has none. */
static void inspect_json_lineage(const char *target)
{
	struct lineage_plan lp;

	if (lineage__plan(target, &lp) == 0) {
		printf("{\"entry\":%llu,\"entry_instruction\":", (unsigned long long)lp.entry.addr);
		report__json_str(stdout, lp.entry.insn);
		printf(",\"newg\":%llu,\"newg_instruction\":", (unsigned long long)lp.newg.addr);
		report__json_str(stdout, lp.newg.insn);
		printf(",\"emulated\":%s", lp.entry.emulated && lp.newg.emulated ? "true" : "false");
		/* -1: callergp's slot not proven, the entry probe is attached too */
		printf(",\"callergp_sp\":%d,\"hits_per_goroutine\":%d}", lp.callergp_sp,
		       lp.callergp_sp >= 0 ? 1 : 2);
	} else {
		printf("{\"error\":");
		report__json_str(stdout, cp_lasterr());
		printf("}");
	}
}

static void inspect_json(const char *target, struct probe_plan *plan)
{
	int i;

	printf("{\"path\":");
	report__json_str(stdout, target);
	printf(",\"go_version\":");
	report__json_str(stdout, plan->go_version);
	printf(",\"main_path\":");
	report__json_str(stdout, plan->main_path);
	printf(",\"component\":");
	report__json_str(stdout, plan->component);
	printf(",\"build_id\":");
	report__json_str(stdout, plan->build_id);
	printf(",\"pclntab\":");
	report__json_str(stdout, plan->pclntab_format);
	printf(",\"runtime_text\":%llu,\"runtime_text_source\":", (unsigned long long)plan->text_start);
	report__json_str(stdout, plan->text_source);
	printf(",\"stripped\":%s,\"dwarf\":%s,\"offsets\":{\"request_method\":%d,\"request_url\":%d,"
	       "\"url_path\":%d,\"url_rawquery\":%d,\"source\":",
	       plan->stripped ? "true" : "false", plan->has_dwarf ? "true" : "false",
	       plan->off.request_method, plan->off.request_url, plan->off.url_path, plan->off.url_rawquery);
	report__json_str(stdout, plan->off.source);
	printf(",\"fields\":{");
	for (i = 0; i < GO_OFF__FIELDS; i++) {
		printf("%s", i ? "," : "");
		report__json_str(stdout, offsets__field_name(i));
		printf(":{\"offset\":%d,\"source\":", *offsets__field(&plan->off, i));
		report__json_str(stdout, plan->off.field_source[i]);
		printf("}");
	}
	printf("}},\"probes\":[");
	for (i = 0; i < plan->nsites; i++) {
		printf("%s", i ? "," : "");
		inspect_json_probe(&plan->sites[i]);
	}
	printf("],\"lineage\":");
	inspect_json_lineage(target);
	printf("}\n");
}

static void inspect_text_probes(const struct probe_plan *plan)
{
	int i;

	printf("probes:\n");
	printf("  %-13s %-18s %-18s %-4s %-12s %s\n", "KIND", "ENTRY", "PROBE", "RETS", "COST", "FUNCTION / INSTRUCTION");
	for (i = 0; i < plan->nsites; i++) {
		const struct probe_site *s = &plan->sites[i];

		printf("  %-13s 0x%-16llx 0x%-16llx %-4d %-12s %s\n", probe_kind_name(s->kind),
		       (unsigned long long)s->entry, (unsigned long long)s->addr, s->nret,
		       s->emulated ? "emulated" : "single-step", s->func);
		printf("  %-13s %-18s %-18s %-4s %-12s %s%s\n", "", "", "", "", "", s->insn,
		       s->once ? " (after the prologue stack check)" :
		       s->at_jcc ? " (prologue stack check)" : " (entry)");
	}
	/* the status of each request, read by its end probe, or WriteHeader probes where not proven */
	for (i = 0; i < plan->nsites; i++) {
		const struct probe_site *s = &plan->sites[i];

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
}

static void inspect_text(const char *target, const struct probe_plan *plan)
{
	struct lineage_plan lp;

	printf("binary:        %s\n", target);
	printf("go version:    %s\n", plan->go_version);
	printf("main package:  %s\n", plan->main_path[0] ? plan->main_path : "-");
	printf("component:     %s\n", plan->component);
	printf("build id:      %s\n", plan->build_id[0] ? plan->build_id : "-");
	printf("symbols:       %s%s\n", plan->stripped ? "stripped" : ".symtab present",
	       plan->has_dwarf ? ", DWARF present" : ", no DWARF");
	printf("pclntab:       %s, runtime.text 0x%llx (%s)\n", plan->pclntab_format,
	       (unsigned long long)plan->text_start, plan->text_source);
	printf("offsets:       Request.Method %d, Request.URL %d, URL.Path %d, URL.RawQuery %d (%s)\n",
	       plan->off.request_method, plan->off.request_url, plan->off.url_path,
	       plan->off.url_rawquery, plan->off.source);
	offsets__print(&plan->off, stdout);
	inspect_text_probes(plan);
	if (lineage__plan(target, &lp) == 0) {
		printf("lineage:       runtime.newproc1 0x%llx (%s, %s) and its casgstatus(newg, _Gdead)\n"
		       "               call 0x%llx (%s, %s): CPU samples of goroutines a request creates\n"
		       "               count for that request\n",
		       (unsigned long long)lp.entry.addr, lp.entry.insn,
		       lp.entry.emulated ? "emulated" : "single-step", (unsigned long long)lp.newg.addr,
		       lp.newg.insn, lp.newg.emulated ? "emulated" : "single-step");
		if (lp.callergp_sp >= 0)
			printf("               callergp at [rsp+0x%x] there: the newg probe alone, one hit a goroutine\n",
			       (unsigned)lp.callergp_sp);
		else
			printf("               callergp's slot not proven: both probes, two hits a goroutine\n");
	} else {
		printf("lineage:       none (%s): CPU samples count for a request only on its own goroutine\n",
		       cp_lasterr());
	}
	grpc_plan__print(target, stdout);
}

static int do_inspect(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	static struct probe_plan plan;
	char path[64], exe_name[512] = "";
	const char *target = NULL;
	bool json = false;
	long pid = 0;
	int c, ret;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1)
		if ((ret = inspect_option(c, &pid, &json)) >= 0)
			return ret;
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
	if (json)
		inspect_json(target, &plan);
	else
		inspect_text(target, &plan);
	return EXIT_OK;
}

/* ---- migrate ---------------------------------------------------------- */

static const char migrate_help[] =
"usage: cpprof migrate OLD.db NEW.db\n"
"\n"
"Copy a database of schema version 1 (cpprof before 2026-12) into a new file\n"
"of the current schema (SCHEMA.md): the same runs, requests (with the same\n"
"ids), CPU profile and stacks, in about a quarter of the space. report and\n"
"diff read version 1 files as they are; record only writes the current\n"
"version. OLD.db is not changed; NEW.db must not exist.\n"
"\n"
"examples:\n"
"  cpprof migrate scale-2025.db scale-2025-v2.db\n";

static int do_migrate(int argc, char **argv)
{
	int err;

	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		fputs(migrate_help, stdout);
		return EXIT_OK;
	}
	if (argc != 3)
		return usage_error("migrate", "%s", "expected OLD.db and NEW.db");
	err = store__migrate(argv[1], argv[2]);
	if (err) {
		error("cannot migrate '%s': %s\n", argv[1], cp_lasterr());
		return EXIT_RUNTIME;
	}
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
	{ "migrate", do_migrate, "copy a database of an older schema into the current one" },
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
