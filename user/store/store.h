/* SPDX-License-Identifier: MIT */
/*
 * store: cpprof's SQLite database. Creates the file 0600, sets WAL mode,
 * creates or checks the schema (see SCHEMA.md), and writes runs, targets
 * and requests through statements prepared once, in batched
 * transactions. Every sqlite3_step result other than SQLITE_DONE/ROW is
 * an error with the database's message in cp_lasterr().
 */
#ifndef CPPROF_STORE_H
#define CPPROF_STORE_H

#include <stdint.h>

#define STORE_SCHEMA_VERSION 2

struct store;

struct run_info {
	const char *label;   /* unique in the file */
	const char *kind;    /* real, kubemark, other */
	int64_t started_ns;  /* CLOCK_REALTIME */
	const char *host;
	const char *kernel;
	const char *command; /* the cpprof command line */
	int sample_hz;       /* CPU sampling rate, 0 when off */
};

/* Size of the cluster recorded, -1 where unknown (stored as NULL). */
struct cluster_size {
	int64_t nodes, pods, namespaces;
	const char *source;  /* "flags", "apiserver", or NULL */
};

struct run_stats {
	int64_t ended_ns;
	int64_t requests;       /* stored */
	int64_t lost_events;    /* ring buffer full (BPF drop counter) */
	int64_t unmatched;      /* ends without a start, starts evicted without end */
	int64_t lost_samples;   /* CPU samples the kernel dropped (ring buffer full) */
};

struct target_info {
	int pid;
	const char *component;  /* apiserver, etcd, other */
	const char *exe;
	const char *go_version;
	const char *main_path;
	const char *build_id;
	const char *offsets_source;
	const char *probes;     /* human summary of attached probes */
	int64_t attached_ns;
	const char *k8s_version;  /* e.g. "v1.29.3", from the build info; NULL if unknown */
	const char *etcd_version; /* e.g. "3.4.23"; NULL if unknown */
};

/* Sampled CPU of one target, category and call kind (table cpu_profile). */
struct cpu_rec {
	int64_t run_id;
	int64_t target_id;
	const char *component;
	const char *category;     /* json_encode, ..., other, unknown */
	const char *verb;         /* of the request the samples belong to; "" when none */
	const char *resource;
	const char *subresource;
	const char *scope;
	int64_t samples;
	int64_t cpu_ns;
};

/* One folded stack with its count (table cpu_stacks). */
struct stack_rec {
	int64_t run_id;
	int64_t target_id;
	const char *component;
	const char *category;
	const char *verb;
	const char *resource;
	const char *stack;        /* frames root first, ';'-separated; kernel frames end in "_[k]" */
	int64_t samples;
	int64_t cpu_ns;
	const char *subresource;  /* of the request, for the pprof labels */
	const char *scope;
	/*
	 * NULL, or the source position of each frame of stack, in its order,
	 * '\n'-separated: "INLINED\tLINE\tFILE" (INLINED 1: the frame was
	 * inlined into the one before it, its caller); stored with the frame
	 * in cpu_functions for `report --format pprof`.
	 */
	const char *lines;
};

struct request_rec {
	int64_t run_id;
	int64_t target_id;
	const char *component;
	const char *protocol;     /* "HTTP/1.1", "HTTP/2" */
	const char *method;       /* HTTP method */
	const char *verb;
	const char *api_group;
	const char *api_version;
	const char *resource;
	const char *subresource;
	const char *namespace;
	const char *scope;        /* cluster, namespace, resource, "" */
	const char *name;         /* NULL unless names are stored */
	const char *path;         /* non-resource paths only, else NULL */
	int watch;                /* 1 for watch requests */
	int status;
	int64_t start_ns;         /* CLOCK_REALTIME */
	int64_t latency_ns;
	int64_t id;               /* requests.id once stored (store__add_request_id); 0: not stored */
};

/* One bucket of a syscall latency histogram of one target and interval (table syscalls). */
struct syscall_rec {
	int64_t run_id;
	int64_t target_id;
	const char *component;
	const char *syscall;          /* name, e.g. "fdatasync" */
	int64_t interval_start_ns;    /* CLOCK_REALTIME */
	int64_t interval_ns;
	int64_t le_ns;                /* bucket upper bound (inclusive); INT64_MAX: the overflow bucket */
	int64_t count;
	int64_t sum_ns;               /* summed latency of the calls in the bucket */
};

/* Served TCP connections of one target in one interval (table sock_stats). */
struct sock_stats_rec {
	int64_t run_id;
	int64_t target_id;
	const char *component;
	int64_t interval_start_ns;    /* CLOCK_REALTIME */
	int64_t interval_ns;
	int64_t accepted;
	int64_t closed;
	int64_t peers;                /* distinct client addresses */
	int64_t bytes_in;
	int64_t bytes_out;
	int64_t retransmits;
};

/* One read of a Prometheus endpoint (table metric_scrapes; user/k8s/scrape.c). */
struct metric_scrape_rec {
	int64_t run_id;
	const char *endpoint;     /* URL without user info or query */
	const char *component;    /* apiserver, etcd, other */
	int64_t t_ns;             /* CLOCK_REALTIME when the request was sent */
	int64_t duration_ns;
	int64_t bytes;            /* body bytes read (up to the bound) */
	int64_t samples;          /* samples kept */
	const char *error;        /* NULL: ok; else connect, timeout, tls, http, too_big, parse, other */
	const char *message;      /* what went wrong, in words; NULL when ok */
};

/*
 * Open or create PATH. A new file is created mode 0600. Returns NULL with
 * *err and cp_lasterr() set (e.g. "'x.db' is not a cpprof database",
 * "schema version 7 is newer than this cpprof (2)"); a file of schema version 1
 * is refused too (-EPROTO; store__migrate converts it).
 */
struct store *store__open(const char *path, int *err);
void store__close(struct store *s);

/* -EEXIST with a clear message if LABEL is taken. */
int store__begin_run(struct store *s, const struct run_info *ri, int64_t *run_id);
int store__add_target(struct store *s, int64_t run_id, const struct target_info *ti,
		      int64_t *target_id);
/* Mark a target as exited at EXITED_NS (CLOCK_REALTIME). */
int store__target_exited(struct store *s, int64_t target_id, int64_t exited_ns);
/* Record when a target's process started (CLOCK_REALTIME ns, /proc/PID/stat). */
int store__target_started(struct store *s, int64_t target_id, int64_t started_ns);
/* Buffered: written in the current batch transaction. */
int store__add_request(struct store *s, const struct request_rec *r);
/* The same, and *ID gets the request's id (requests.id) for tables keyed by it. */
int store__add_request_id(struct store *s, const struct request_rec *r, int64_t *id);
/* Buffered like requests: a row of table syscalls. */
int store__add_syscall(struct store *s, const struct syscall_rec *r);
/* Buffered like requests: a row of table sock_stats. */
int store__add_sock_stats(struct store *s, const struct sock_stats_rec *r);
/* Record the cluster's size for RUN_ID (flags or read from the apiserver). */
int store__set_cluster(struct store *s, int64_t run_id, const struct cluster_size *cs);
/* CPU the kernel accounted to a target over the run (/proc/PID/stat), and samples taken; -1: unknown. */
int store__set_target_cpu(struct store *s, int64_t target_id, int64_t cpu_ns, int64_t samples);
/* Buffered like requests. */
int store__add_cpu(struct store *s, const struct cpu_rec *r);
int store__add_stack(struct store *s, const struct stack_rec *r);
/* Buffered like requests: a row of metric_scrapes, and its id for its samples. */
int store__add_metric_scrape(struct store *s, const struct metric_scrape_rec *r, int64_t *id);
/* Buffered: a row of metric_series (LE: NAN when the sample is no histogram bucket). */
int store__add_metric_series(struct store *s, int64_t run_id, const char *name,
			     const char *labels, double le, int64_t *id);
/* Buffered: a row of metric_samples. */
int store__add_metric_sample(struct store *s, int64_t scrape_id, int64_t series_id, double value);
/* Commit the current batch (cheap if empty). */
int store__flush(struct store *s);
/* Flush, and record the end of the run and its counters. */
int store__end_run(struct store *s, int64_t run_id, const struct run_stats *st);
/* Schema version 1 had a report index built here; version 2 needs none: a flush. */
int store__build_index(struct store *s);
/*
 * Bound what the recording stores (budget.h; B is not owned, NULL: no
 * bound). Once a limit is reached, or SQLite reports the disk full, rows
 * that grow with the run are counted instead of stored: requests, and
 * cpu_stacks, syscalls, sock_stats, metric_scrapes, metric_series and
 * metric_samples. runs, targets and cpu_profile are still written, and
 * store__end_run records the counts.
 */
struct budget;
void store__set_budget(struct store *s, struct budget *b);

struct store_drops {
	int64_t requests;        /* request rows not stored */
	int64_t rows;            /* other growing rows not stored */
	const char *reason;      /* "max-db-size", "min-free", "disk-full"; NULL: nothing dropped */
	int64_t since_ns;        /* CLOCK_REALTIME when dropping began */
	int64_t limit_bytes;     /* the limit reached (0 for disk-full) */
	int64_t measured_bytes;  /* the database's size, or the free space, that reached it */
};
void store__drops(const struct store *s, struct store_drops *d);

/*
 * One etcd call of the apiserver seen from its gRPC client (etcdc.h).
 * request_start_ns: start_ns of the request it was made for, in the same
 * target; -1 (NULL) when none. latency_ns and status -1 (NULL) for a
 * stream, which is stored when it opens.
 */
struct etcd_call_rec {
	int64_t run_id, target_id, request_start_ns;
	const char *method;       /* "/etcdserverpb.KV/Range" */
	const char *verb;         /* range, put, txn, ... (etcd_key.h) */
	const char *resource;     /* from the key; "" when none */
	const char *namespace;
	int list, stream;
	int64_t start_ns;         /* CLOCK_REALTIME */
	int64_t latency_ns;
	int64_t status;           /* 0 ok, 2 error (code not read), -1 unknown */
	int64_t request_id;       /* requests.id of request_start_ns's request; 0: none */
};
int store__add_etcd_call(struct store *s, const struct etcd_call_rec *r);

/*
 * Where one request's time went. Every part is -1 (NULL) when it cannot
 * be known; the known parts never add up to more than latency_ns.
 */
struct breakdown_rec {
	int64_t run_id, target_id, request_start_ns, latency_ns;
	int64_t request_id;       /* requests.id: the row's key */
	int64_t etcd_calls, etcd_ns, cpu_ns, serialization_ns, apf_wait_ns, other_ns;
};
int store__add_breakdown(struct store *s, const struct breakdown_rec *r);
/*
 * The sampled CPU of the request REQUEST_ID (of RUN_ID, TARGET_ID) and
 * its serialization part, clipped so that etcd, CPU and the rest never add
 * up to more than its latency; other_ns becomes the rest.
 */
int store__set_breakdown_cpu(struct store *s, int64_t run_id, int64_t target_id, int64_t request_id,
			     int64_t cpu_ns, int64_t serialization_ns);

/*
 * Copy the schema version 1 file FROM into a new version 2 file TO (which
 * must not exist): every table, requests as call kinds and narrow rows
 * with their rowids as ids, CPU stacks interned. TO is removed on failure.
 */
int store__migrate(const char *from, const char *to);
/* Remove a run and everything of it (used when recording fails before any data). */
int store__delete_run(struct store *s, int64_t run_id);

#endif
