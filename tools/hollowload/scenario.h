/* SPDX-License-Identifier: MIT */
/*
 * scenario: the state the two scenarios share. Hollow nodes register,
 * renew their Lease, patch their status and watch their pods; density
 * creates pods bound to those nodes and learns through each node's watch
 * when its kubelet has reported them Running.
 *
 * The calls go one way: hollowload.c (main) uses both scenarios and the
 * client; density uses the nodes (their names, how many are ready) and the
 * client; the nodes use the client. The nodes do not know density: what
 * they see of pods on their watches goes to the on_pod callback that main
 * sets.
 */
#ifndef HOLLOWLOAD_SCENARIO_H
#define HOLLOWLOAD_SCENARIO_H

#include <stdio.h>

#include "client.h"
#include "hollowload.h"
#include "sched.h"
#include "stats.h"
#include "watch.h"

#define container_of(p, type, member) ((type *)((char *)(p) - offsetof(type, member)))

struct hl_ctx;

/* the informers a kubelet starts, in the order it starts them */
enum { INF_SERVICES, INF_NODES, INF_PODS, INF_CSIDRIVERS, INF_RUNTIMECLASSES, INF_COUNT };

struct hnode;

/* one reflector: list, then watch from the list's resourceVersion */
struct informer {
	struct hnode *n;
	struct hl_timer t;
	struct hl_req *watch;
	struct watch_parser wp;
	char rv[32];
	unsigned char kind, relist, backoff;
	unsigned char unavail;   /* a list at rv answered 410: list the latest (relistResourceVersion "") */
	unsigned char wl;        /* the open watch is a watch-list that has not had its closing bookmark */
	unsigned char wl_fail;   /* that watch-list failed: fall back to list, then watch */
	unsigned char throttled; /* an ERROR event with code 429 ended the watch: back off, watch again */
	unsigned char seen;      /* the open watch delivered an event (client-go's eventCount > 0) */
	double t0;               /* when the open watch was sent (handleAnyWatch's start) */
};

struct hnode {
	struct hl_ctx *x;
	int idx;
	char name[64];
	char lease_rv[32];
	struct hl_timer reg_t, lease_t, status_t, ready_t;
	struct informer inf[INF_COUNT];
	double lease_due, last_report;
	double started_at;           /* NewMainKubelet: the pod source polls node sync from here */
	unsigned char step, started, registered, lease_state, ever_ready, node_seen;
	unsigned char pods_gate;     /* 1: the pod informer is scheduled (the node informer synced) */
	unsigned char ready, reported_ready, lease_busy, status_busy, backoff;
};

struct density;
struct hl_ctx;

/* A pod event on node N's watch (not ERROR or BOOKMARK). */
typedef void (*hl_pod_fn)(struct hl_ctx *x, struct hnode *n, const struct watch_event *ev);

struct hl_ctx {
	struct hl_opts *o;
	struct client c;
	struct sched s;
	struct stats st;
	struct hnode *nodes;
	int nnodes, nodes_ready, active_nodes;
	int nodes_registered;        /* through the registration sequence */
	double started;
	struct density *d;
	hl_pod_fn on_pod;            /* set by main; NULL: pod events are only counted by the watch */
	int stopping;
};

/* nodes: ACTIVE runs the lease and status loops; passive nodes only
 * register and watch (density without the hollow-nodes scenario) */
int nodes__start(struct hl_ctx *x, int active);
void nodes__stop_timers(struct hl_ctx *x);
void nodes__stop_watches(struct hl_ctx *x);
void nodes__free(struct hl_ctx *x);
/* --plan: print one node's schedule (sequence, startup and steady counts) */
int nodes__plan(const struct hl_opts *o, FILE *f);

int density__start(struct hl_ctx *x);
int density__done(const struct hl_ctx *x);
void density__on_pod(struct hl_ctx *x, struct hnode *n, const struct watch_event *ev);
void density__stop(struct hl_ctx *x);
void density__free(struct hl_ctx *x);

#endif
