/* SPDX-License-Identifier: MIT */
/*
 * promserve: `cpprof record --listen ADDR`, a Prometheus endpoint served
 * from the recorder while it records. The recording thread updates
 * in-memory aggregates (one mutex, taken once per stored call); a thread
 * of this module accepts HTTP/1.1 connections one at a time and answers
 * GET /metrics in the text exposition format 0.0.4 from a copy of them.
 * Exposed (names are what tools/deploy/grafana-dashboard.json queries):
 *
 *   cpprof_request_duration_seconds   histogram by component, verb, resource,
 *                                     subresource, scope; the bucket bounds of
 *                                     kube-apiserver's apiserver_request_duration_seconds
 *   cpprof_cpu_samples_total,         sampled CPU by component, category and call kind
 *   cpprof_cpu_seconds_total          (samples tied to a call once it ended)
 *   cpprof_events_lost_total, cpprof_events_unmatched_total,
 *   cpprof_cpu_samples_lost_total     drops, as the run's status line counts them
 *   cpprof_target_attached            1 while a target is traced, by pid, component
 *   cpprof_run_info                   1, labelled with the run's label and kind
 *
 * Call kinds come from URLs, so their series are bounded (2000; past that
 * new kinds count under resource "[other]").
 */
#ifndef CPPROF_PROMSERVE_H
#define CPPROF_PROMSERVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct promserve;
struct request_rec;

/*
 * Listen on ADDR: PORT or :PORT (127.0.0.1), HOST:PORT, [V6]:PORT;
 * 0.0.0.0:PORT or [::]:PORT for every interface. Port 0 picks a free one
 * (promserve__port). NULL with *ERR and cp_lasterr() set.
 */
struct promserve *promserve__open(const char *addr, const char *label, const char *kind, int *err);
/* Stops the server thread and closes the socket; NULL does nothing. */
void promserve__close(struct promserve *ps);
int promserve__port(const struct promserve *ps);

/* A call was stored. */
void promserve__request(struct promserve *ps, const struct request_rec *rec);

/* The run's counters so far (tracer.h's tracer_counts). */
void promserve__counts(struct promserve *ps, uint64_t lost, uint64_t unmatched, uint64_t lost_samples);

/* Target PID of COMPONENT is traced (ATTACHED) or not. */
void promserve__target(struct promserve *ps, int pid, const char *component, bool attached);

/* Replace the CPU figures: begin, add each entry (cpuprof__each), end. */
void promserve__cpu_begin(struct promserve *ps);
void promserve__cpu_add(void *ps, const char *component, const char *category, const char *verb,
			const char *resource, const char *subresource, const char *scope,
			uint64_t samples, uint64_t cpu_ns);
void promserve__cpu_end(struct promserve *ps);

/* What a request line asks for (promserve__route): the server's one decision on outside bytes. */
enum { PROMSERVE_BAD_METHOD, PROMSERVE_NOT_FOUND, PROMSERVE_GET, PROMSERVE_HEAD };
int promserve__route(const char *req, size_t len);

/*
 * --listen's ADDR as HOST (N bytes; 127.0.0.1 when ADDR names none) and
 * PORT (PN bytes, digits); -EINVAL with cp_lasterr() set.
 */
int promserve__parse_addr(const char *addr, char *host, size_t n, char *port, size_t pn);

/* The bucket bounds, in seconds, of apiserver_request_duration_seconds. */
extern const double promserve_buckets[];
#define PROMSERVE_NBUCKETS 23

#endif
