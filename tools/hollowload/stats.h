/* SPDX-License-Identifier: MIT */
/*
 * stats: client-side counts, error kinds and latencies per (verb,
 * resource, subresource), the way kube-apiserver names requests, plus pod
 * startup latency; printed as a table and as JSON.
 */
#ifndef HOLLOWLOAD_STATS_H
#define HOLLOWLOAD_STATS_H

#include <stdio.h>
#include <stddef.h>

enum hl_err {
	ERR_NONE = 0,
	ERR_CONNECT,      /* connection refused, host unreachable */
	ERR_DNS,          /* name did not resolve */
	ERR_TLS,          /* handshake, certificate, CA */
	ERR_TIMEOUT,      /* no answer in time */
	ERR_RESET,        /* connection closed or reset mid-request */
	ERR_HTTP_400, ERR_HTTP_401, ERR_HTTP_403, ERR_HTTP_404, ERR_HTTP_405,
	ERR_HTTP_409, ERR_HTTP_410, ERR_HTTP_415, ERR_HTTP_422, ERR_HTTP_429,
	ERR_HTTP_4XX,     /* any other 4xx */
	ERR_HTTP_5XX,
	ERR_PROTOCOL,     /* an answer we could not parse */
	ERR_OTHER,
	ERR_KINDS
};

extern const char *const hl_err_names[ERR_KINDS];

/* the error kind of an HTTP status (ERR_NONE for 1xx-3xx) */
enum hl_err hl_err_of_status(long status);

struct samples {
	double *v;
	size_t len, cap;
};

struct stat_key {
	char verb[24], resource[48], subresource[24];
	long count;        /* attempts, each retry included */
	long responses;    /* attempts that got an HTTP status */
	long errors;
	long err[ERR_KINDS];
	struct samples lat;    /* ms, of attempts that got an HTTP status */
};

struct stats {
	struct stat_key *keys;
	size_t nkeys, cap;
	struct samples startup;     /* pod startup, ms */
	struct samples lease_lag;   /* lease renewal: due to answered, ms */
	long pods_created, pods_running, pods_not_running;
	long ok;                    /* attempts answered 2xx */
	long watch_lists;           /* watch-lists synced by their closing bookmark */
	long watch_list_fallbacks;  /* watch-lists refused: list, then watch */
};

struct stat_key *stats__key(struct stats *s, const char *verb, const char *resource,
			    const char *subresource);
/* one attempt; LATENCY_MS < 0 when it got no HTTP answer */
void stats__record(struct stats *s, const char *verb, const char *resource,
		   const char *subresource, double latency_ms, long status, enum hl_err err);
int samples__add(struct samples *sm, double v);
/* nearest-rank percentile P (0..100) of the samples, sorting them; 0 if empty */
double samples__pct(struct samples *sm, double p);
double samples__max(const struct samples *sm);
long stats__total(const struct stats *s);
void stats__print(struct stats *s, FILE *f);
/* write the JSON report; META is a JSON object body (without braces) or NULL */
void stats__json(struct stats *s, FILE *f, const char *meta);
void stats__free(struct stats *s);

#endif
