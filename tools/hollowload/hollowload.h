/* SPDX-License-Identifier: MIT */
/*
 * hollowload: what every module of the load generator shares: the clock,
 * the logging helpers (util.c) and the options the command line sets.
 */
#ifndef HOLLOWLOAD_H
#define HOLLOWLOAD_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct hl_opts {
	const char *server;          /* base URL, no trailing slash */
	const char *ca, *cert, *key, *token_file;
	int insecure;
	int http_version;            /* 0 auto, 1 HTTP/1.1, 2 HTTP/2 */
	int protobuf;
	int hollow_nodes, density;   /* scenarios */
	int nodes;
	double lease_period, status_period, jitter, ramp;
	double status_report;        /* nodeStatusReportFrequency: status unchanged, patched this often */
	double ready_delay;          /* registration to the NodeReady transition */
	int plan;                    /* print the per-node schedule and exit */
	int pods;
	double pod_rate;
	int namespaces;
	double duration;             /* 0: none */
	long ops;                    /* 0: none */
	double watch_timeout;        /* timeoutSeconds asked for on watches */
	int kubelet_minor;           /* --kubelet-version 1.MINOR (32..36) */
	int watch_list;              /* informers start with a watch-list (1.35+, WatchListClient) */
	double density_timeout;      /* how long to wait for pods to run */
	const char *report;          /* JSON report: NULL, "-" or a file */
	const char *prefix;
	int connections;             /* 0: libcurl decides */
	int streams;                 /* HTTP/2 streams per connection */
	int retries;
	int verbose;
	char run_id[9];
};

static inline double hl_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

extern int hl_verbose;
void hl_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void hl_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void hl_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* the RFC 3339 time kube objects carry, with MICRO fractional digits */
void hl_timestamp(char *buf, size_t len, int micro);

/* a uniform random number in [0, 1) from a small xorshift generator */
double hl_rand(void);
void hl_srand(uint64_t seed);

/* value * (1 +- jitter), never negative */
static inline double hl_jitter(double value, double jitter)
{
	double v = value * (1.0 + jitter * (2.0 * hl_rand() - 1.0));

	return v < 0 ? 0 : v;
}

#endif
