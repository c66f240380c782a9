/* SPDX-License-Identifier: MIT */
/*
 * scrape: Prometheus /metrics of kube-apiserver, etcd and any other
 * endpoint, read during `cpprof record` at the start, every interval and
 * at the end, so that cpprof's own figures can be checked against the
 * components' (user/k8s/metrics_check.c). Each endpoint is read by a thread
 * of its own with libcurl, with a bound on the body and on the time, so
 * that a server that is down, stalls, or answers garbage or a huge page
 * costs that endpoint its samples (counted per kind of error) and never
 * stalls recording. Only the families listed in scrape.c are kept; the
 * recorder's thread writes them (scraper__drain) into metric_scrapes,
 * metric_series and metric_samples (SCHEMA.md).
 *
 * scrape__get is the one HTTP GET of a metrics page; cluster.c reads the
 * cluster size through it too.
 */
#ifndef CPPROF_SCRAPE_H
#define CPPROF_SCRAPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define SCRAPE_MAX_ENDPOINTS 16

struct scrape_endpoint {
	const char *url;         /* the metrics page itself, http:// or https:// */
	const char *component;   /* apiserver, etcd, other: whose figures these are */
	const char *ca_file;     /* CA bundle; NULL: the system's */
	const char *cert_file;   /* client certificate (etcd --client-cert-auth); NULL: none */
	const char *key_file;    /* its key */
	const char *token_file;  /* bearer token (kube-apiserver); NULL: none */
	bool insecure;           /* skip certificate verification */
};

struct scrape_opts {
	long interval_ms;        /* between scrapes; 0: 15000 */
	long connect_timeout_ms; /* 0: 3000 */
	long timeout_ms;         /* a whole scrape, connect to last byte; 0: 10000 */
	size_t max_body;         /* 0: 64 MiB */
};

/* Why a scrape failed: the kind stored in metric_scrapes.error. */
enum scrape_error {
	SCRAPE_OK,
	SCRAPE_ERR_CONNECT,   /* refused, unreachable, DNS */
	SCRAPE_ERR_TIMEOUT,   /* connect or total timeout: a stalled server */
	SCRAPE_ERR_TLS,       /* handshake or certificate */
	SCRAPE_ERR_HTTP,      /* answered, but not 200 */
	SCRAPE_ERR_TOO_BIG,   /* body over max_body */
	SCRAPE_ERR_PARSE,     /* not Prometheus text */
	SCRAPE_ERR_OTHER,
	SCRAPE_ERR__MAX
};

/* "connect", "timeout", ...; NULL for SCRAPE_OK. */
const char *scrape_error_name(enum scrape_error e);

/* One metrics page read into memory (scrape__get). */
struct scrape_body {
	char *data;              /* NUL-terminated; free() it */
	size_t len;
	enum scrape_error error;
	long http_code;
};

/*
 * GET EP's page, within O's bounds (NULL: the defaults). 0 with BODY
 * filled, or a negative errno with BODY->error set and cp_lasterr()
 * naming the cause and the fix. curl_global_init must have run (scraper
 * __start does it; a single-threaded caller may rely on libcurl's lazy init).
 */
int scrape__get(const struct scrape_endpoint *ep, const struct scrape_opts *o,
		struct scrape_body *body);

/* Is NAME (a sample name: a family, or a histogram's _bucket/_sum/_count) kept? */
bool scrape__wanted(const char *name);

/*
 * Write the canonical label set of S to BUF: `{a="x",b="y"}` sorted by
 * name, escaped as the text format escapes, without "le" (kept apart);
 * "" when S has no other labels. *LE gets le's value, NAN when absent.
 * Returns the length, or -ENOSPC.
 */
struct prom_sample;
int scrape__labels(const struct prom_sample *s, char *buf, size_t len, double *le);

struct scraper;

/*
 * Start one thread per endpoint: each scrapes at once, then every
 * interval until scraper__stop. The endpoints' strings must outlive the
 * scraper. NULL with *err and cp_lasterr() set on failure.
 */
struct scraper *scraper__start(const struct scrape_endpoint *eps, int n,
			       const struct scrape_opts *o, int *err);

/*
 * Write the scrapes finished since the last call into ST for RUN_ID, in
 * the caller's thread (the store is not shared): at most 4096 samples a
 * call (50-100 ms of SQLite), the rest at the next call, so that a large
 * page never holds the record loop long. Cheap when there is nothing:
 * call it from the record loop. The number of scrapes completely written,
 * or a negative errno from the store.
 */
int scraper__drain(struct scraper *sc, struct store *st, int64_t run_id);

/*
 * Ask every endpoint for its last scrape, without waiting: the recorder
 * keeps draining its ring buffers until scraper__running says 0, then
 * calls scraper__stop, which no longer waits.
 */
void scraper__finish(struct scraper *sc);
/* Threads still scraping. */
int scraper__running(struct scraper *sc);

/*
 * Take the last scrape of every endpoint (waits at most about twice the
 * timeout), stop the threads and drain into ST (NULL: drop them).
 */
int scraper__stop(struct scraper *sc, struct store *st, int64_t run_id);

struct scrape_stats {
	uint64_t scrapes, ok;
	uint64_t errors[SCRAPE_ERR__MAX];
	uint64_t samples;        /* kept, over all scrapes */
	uint64_t max_bytes;      /* the largest body read */
	char last_error[256];    /* cp_lasterr() of the last failed scrape; "" if none */
};

/* Counters of endpoint I (in the order given to scraper__start). */
int scraper__stats(struct scraper *sc, int i, struct scrape_stats *out);
void scraper__free(struct scraper *sc);

#endif
