/* SPDX-License-Identifier: MIT */
/*
 * record: one recording session, what `cpprof record` runs once its
 * options are parsed. The phases are in record.c; the views it records
 * (Go HTTP, gRPC, CPU, syscalls, sockets) are tracers (tracer.h).
 */
#ifndef CPPROF_RECORD_H
#define CPPROF_RECORD_H

#include <stdbool.h>
#include <stdint.h>

#include "cluster.h"
#include "discover.h"
#include "scrape.h"
#include "syslat.h"

/* What `cpprof record` was asked for, checked by cli.c (usage errors are its job). */
struct record_opts {
	const char *db;
	const char *label;             /* never NULL: cli.c makes KIND-DATE-TIME */
	const char *kind;              /* real, kubemark, other */
	const char *component;         /* --component, or NULL: decided from the binary */
	const char *etcd_prefix;       /* NULL: /registry */
	const char *command;           /* the command line, kept with the run */
	int pids[DISCOVER_MAX], npids;
	const char *names[DISCOVER_MAX];
	int nnames;                    /* none and no pids: kube-apiserver and etcd */
	long duration;                 /* seconds; 0: until interrupted */
	long sample_hz;                /* 0: no CPU sampling */
	bool store_names, no_syscalls, no_sockets;
	/*
	 * --follow: with --pid, trace new processes of the same executables
	 * and go on when they exit. Always on for --target and default
	 * discovery; --pid alone stays strict.
	 */
	bool follow;
	enum syslat_mode sys_mode;     /* --syscalls fsync (default) or all */
	struct cluster_size cluster;   /* from flags; -1 where not given */
	struct cluster_opts capi;      /* --apiserver: where to read the size (and scrape) */
	/* Prometheus endpoints: --metrics (component other), --etcd-metrics (etcd) */
	struct scrape_endpoint metrics[SCRAPE_MAX_ENDPOINTS - 1];
	int nmetrics;
	const char *etcd_ca, *etcd_cert, *etcd_key;
	long metrics_interval_s, metrics_timeout_s;
	int64_t max_db_bytes;          /* --max-db-size; 0: none */
	int64_t min_free_bytes;        /* --min-free; -1: 5% of the filesystem, at most 1 GiB */
	const char *listen;            /* --listen ADDR: the live Prometheus endpoint; NULL none */
};

/* Record one run; EXIT_OK or EXIT_RUNTIME (cli.h), having said why. */
int record__run(const struct record_opts *o);

#endif
