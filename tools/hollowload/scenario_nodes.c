// SPDX-License-Identifier: MIT
/*
 * scenario_nodes: N hollow kubelets on timers, making the calls a kubelet
 * of Kubernetes 1.32 to 1.36 makes, in its order (README.md, "What a
 * hollow node calls", cites the kubelet source for each):
 *
 *  1. its informers list, then watch: services (fieldSelector
 *     spec.clusterIP!=None, pkg/kubelet/kubelet.go since 1.30), its own
 *     node (metadata.name=NODE), csidrivers and runtimeclasses, and once
 *     the node informer synced its pods (spec.nodeName=NODE,
 *     pkg/kubelet/config/apiserver.go NewSourceApiserver); a watch the
 *     server ends is resumed from the last resourceVersion, a 410 Gone
 *     (status or ERROR event) relists at that resourceVersion, and at the
 *     latest only if that 410s too (client-go tools/cache/reflector.go);
 *  2. get csinodes (csi_plugin.go waitForAPIServerForever: 404 is fine);
 *  3. create nodes (kubelet_node_status.go registerWithAPIServer; 409:
 *     get nodes, the node of an earlier run);
 *  4. get csinodes, 404: get nodes (the owner's UID), create csinodes
 *     (csi nodeinfomanager tryInitializeCSINodeWithAnnotation, CreateCSINode);
 *  5. get leases, 404: get nodes (SetNodeOwnerFunc), create leases
 *     (component-helpers apimachinery/lease/controller.go ensureLease),
 *     then update leases every --lease-period (10 s: renewInterval, a
 *     quarter of 40 s); on 409 a get, then the update at once;
 *  6. node status every --status-period (10 s, nodeStatusUpdateFrequency)
 *     but patched only when it changed (NotReady at registration, Ready
 *     --ready-delay later) or --status-report (5 min,
 *     nodeStatusReportFrequency) after the last report; the node comes
 *     from the node informer (tryUpdateNodeStatus's first try), from a
 *     get nodes while the informer has not seen it yet.
 *
 * Every period is jittered and nodes start spread over --ramp.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json.h"
#include "pb.h"
#include "scenario.h"

/* the registration sequence, one request at a time */
enum {
	ST_WAIT_API, ST_CREATE_NODE, ST_GET_OLD_NODE, ST_GET_CSINODE, ST_GET_NODE_CSI,
	ST_CREATE_CSINODE, ST_GET_LEASE, ST_GET_NODE_LEASE, ST_CREATE_LEASE, ST_DONE
};

static const char *const inf_names[INF_COUNT] = { "services", "nodes", "pods", "csidrivers", "runtimeclasses" };

static void step(struct hnode *n);
static void list_informer(struct informer *in);
static void start_watch_list(struct informer *in);
static void watch_list_done(struct informer *in, struct hl_req *r);
static void pods_after_node_sync(struct hnode *n);

static int x_watch_list(const struct informer *in)
{
	return in->n->x->o->watch_list;
}

/* parse what an answer says about its object (JSON or protobuf) */
static int answer_obj(const struct hl_req *r, int is_list, struct hl_obj *o)
{
	memset(o, 0, sizeof(*o));
	if (!r->resp || !r->resp_len)
		return -1;
	if (r->resp_protobuf) {
		const uint8_t *raw;
		size_t len;

		if (pb_unwrap((const uint8_t *)r->resp, r->resp_len, &raw, &len) < 0)
			return -1;
		return pb_object(raw, len, is_list, o);
	}
	if (is_list)
		return json_get_str(r->resp, r->resp_len, "metadata.resourceVersion", o->rv,
				    sizeof(o->rv)) == 1 ? 0 : -1;
	return json_object(r->resp, r->resp_len, o);
}

static int submit(struct hl_ctx *x, struct hl_req *r, void *arg, hl_done_fn done)
{
	if (!r)
		return -1;
	r->arg = arg;
	r->done = done;
	r->retries = r->stream ? 0 : x->o->retries;
	return client__submit(&x->c, r);
}

/* 1 s .. 32 s, jittered; COUNT is the caller's failure count */
static double backoff(unsigned char *count)
{
	double b = 1 << (*count < 5 ? *count : 5);

	if (*count < 10)
		(*count)++;
	return hl_jitter(b, 0.5);
}

static int ok(const struct hl_req *r)
{
	return r->status >= 200 && r->status < 300;
}

/* ---- informers: list, then watch ----------------------------------------- */

/* the collection path and selector of informer KIND of node N */
static void inf_path(const struct informer *in, char *buf, size_t len)
{
	const char *name = in->n->name;

	switch (in->kind) {
	case INF_SERVICES:
		snprintf(buf, len, "/api/v1/services?fieldSelector=spec.clusterIP%%21%%3DNone");
		break;
	case INF_NODES:
		snprintf(buf, len, "/api/v1/nodes?fieldSelector=metadata.name%%3D%s", name);
		break;
	case INF_PODS:
		snprintf(buf, len, "/api/v1/pods?fieldSelector=spec.nodeName%%3D%s", name);
		break;
	case INF_CSIDRIVERS:
		snprintf(buf, len, "/apis/storage.k8s.io/v1/csidrivers?");
		break;
	default:
		snprintf(buf, len, "/apis/node.k8s.io/v1/runtimeclasses?");
		break;
	}
}

/*
 * A watch's URL as client-go sends it: the typed client's Watch puts
 * timeoutSeconds in the ListOptions and Timeout(timeoutSeconds) on the
 * request (client-go gentype/type.go), which rest/request.go URL() adds as
 * "timeout" in Go's time.Duration form; the query is url.Values.Encode(),
 * sorted by key: allowWatchBookmarks, fieldSelector, resourceVersion,
 * resourceVersionMatch, sendInitialEvents, timeout, timeoutSeconds, watch.
 * (kube-apiserver ignores "timeout" on a watch: long-running requests get
 * no deadline from it; timeoutSeconds ends the watch.)
 */
static void watch_url(const struct informer *in, char *buf, size_t len, const char *rv, int watch_list,
		      long timeout)
{
	char path[256], dur[32], rvq[64] = "", *q;

	inf_path(in, path, sizeof(path));   /* always has a '?' */
	q = strchr(path, '?');
	*q++ = '\0';
	if (timeout >= 3600)
		snprintf(dur, sizeof(dur), "%ldh%ldm%lds", timeout / 3600, timeout % 3600 / 60, timeout % 60);
	else if (timeout >= 60)
		snprintf(dur, sizeof(dur), "%ldm%lds", timeout / 60, timeout % 60);
	else
		snprintf(dur, sizeof(dur), "%lds", timeout);
	if (rv && rv[0])
		snprintf(rvq, sizeof(rvq), "&resourceVersion=%s", rv);
	snprintf(buf, len, "%s?allowWatchBookmarks=true%s%s%s%s&timeout=%s&timeoutSeconds=%ld&watch=true",
		 path, *q ? "&" : "", q, rvq,
		 watch_list ? "&resourceVersionMatch=NotOlderThan&sendInitialEvents=true" : "", dur, timeout);
}

static void watch_event(const struct watch_event *ev, void *arg)
{
	struct informer *in = arg;
	struct hnode *n = in->n;

	if (in->wl) {
		/*
		 * client-go reflector.go watchList: the initial events go to a
		 * temporary store and the resourceVersion is kept only once the
		 * bookmark annotated "k8s.io/initial-events-end": "true" came;
		 * then the same watch goes on as the informer's watch. An
		 * ERROR event fails the watch-list: 410 (expired) asks again at
		 * resourceVersion "", anything else falls back to list.
		 */
		if (!strcmp(ev->type, "ERROR")) {
			/* isErrorRetriableWithSideEffectsFn: 429 backs off and
			 * asks again, expired asks again at "" */
			if (ev->obj.code == 410)
				in->unavail = 1;
			else if (ev->obj.code == 429)
				in->throttled = 1;
			else
				in->wl_fail = 1;
			return;
		}
		in->seen = 1;
		if (!strcmp(ev->type, "BOOKMARK")) {
			if (!ev->obj.initial_end)
				return;
			snprintf(in->rv, sizeof(in->rv), "%s", ev->obj.rv);
			in->wl = 0;
			in->relist = 0;
			in->unavail = 0;
			/* watchList hands the same watch to watch(), whose
			 * handleWatch starts its clock and count afresh */
			in->seen = 0;
			in->t0 = hl_now();
			n->x->st.watch_lists++;
			if (in->kind == INF_NODES)
				pods_after_node_sync(n);
			return;
		}
	} else if (ev->obj.rv[0])
		snprintf(in->rv, sizeof(in->rv), "%s", ev->obj.rv);
	if (!strcmp(ev->type, "ERROR")) {
		/*
		 * reflector.go watch(): handleWatch returns the event's
		 * apierrors.FromObject; 429 backs off and watches again; any
		 * other (410 expired, a too large resourceVersion, a 500: an
		 * informer's MaxInternalErrorRetryDuration is 0) returns to
		 * ListAndWatch, which lists again.
		 */
		if (ev->obj.code == 429)
			in->throttled = 1;
		else
			in->relist = 1;
		return;
	}
	in->seen = 1;
	if (!strcmp(ev->type, "BOOKMARK"))
		return;
	if (in->kind == INF_NODES && !strcmp(ev->obj.name, n->name))
		n->node_seen = strcmp(ev->type, "DELETED") != 0;
	if (in->kind == INF_PODS && n->x->on_pod)
		n->x->on_pod(n->x, n, ev);
}

static void watch_open(struct hl_req *r)
{
	struct informer *in = r->arg;
	struct hnode *n = in->n;

	in->backoff = 0;
	if (in->kind == INF_PODS && !n->ever_ready) {
		n->ever_ready = 1;
		n->x->nodes_ready++;
	}
	watch__reset(&in->wp);
	in->wp.protobuf = r->resp_protobuf;
}

static int watch_data(struct hl_req *r, const char *data, size_t len)
{
	struct informer *in = r->arg;

	return watch__feed(&in->wp, data, len, watch_event, in);
}

static void watch_done(struct hl_req *r)
{
	struct informer *in = r->arg;
	struct hl_ctx *x = in->n->x;
	double now = hl_now();

	in->watch = NULL;
	watch__reset(&in->wp);
	if (r->cancelled || x->stopping)
		return;
	if (in->wl) {
		watch_list_done(in, r);
		return;
	}
	if (r->status == 410)
		in->relist = 1;
	/*
	 * handleAnyWatch: a watch closed within a second without an event is
	 * a VeryShortWatchError, which watch() returns like any error other
	 * than 429: ListAndWatch lists again (after the reflector's backoff).
	 * A connection reset is a normal close to client-go's StreamWatcher
	 * (net.IsProbableEOF), so the same check applies.
	 */
	if (r->status == 200 && (r->err == ERR_NONE || r->err == ERR_RESET) && !in->throttled &&
	    !in->seen && now - in->t0 < 1.0)
		in->relist = 1;
	if (r->status == 200 && (r->err == ERR_NONE || r->err == ERR_RESET) && !in->relist && !in->throttled) {
		/* the server ended it (timeoutSeconds) or dropped it: the
		 * reflector watches again from the last resourceVersion */
		sched__add(&x->s, &in->t, now + (r->err ? backoff(&in->backoff) : hl_rand() * 0.1));
		return;
	}
	if (!in->relist && (r->status == 429 || r->err == ERR_CONNECT || in->throttled)) {
		/* reflector.go watch: a watch refused by 429 or a refused
		 * connection, or ended by a 429 ERROR event, is retried after
		 * a backoff, without a relist */
		in->throttled = 0;
		sched__add(&x->s, &in->t, now + backoff(&in->backoff));
		return;
	}
	in->relist = 1;
	sched__add(&x->s, &in->t, now + backoff(&in->backoff));
}

/*
 * A watch-list that ended before its closing bookmark (client-go
 * reflector.go, watchList and ListAndWatch): refused by 429 or a refused
 * connection (isWatchErrorRetriable), it is asked again after a backoff;
 * 410 or an expired ERROR event, again at once at resourceVersion "";
 * ended by the server with neither, again at once; any other refusal (an
 * API server without the WatchList feature answers 4xx) or ERROR event
 * makes this ListAndWatch fall back to list, then watch.
 */
static void watch_list_done(struct informer *in, struct hl_req *r)
{
	struct hl_ctx *x = in->n->x;
	double now = hl_now();

	in->wl = 0;
	if (r->status == 429 || r->err == ERR_CONNECT || in->throttled) {
		in->throttled = 0;
		sched__add(&x->s, &in->t, now + backoff(&in->backoff));
		return;
	}
	if (r->status == 410)
		in->unavail = 1;
	/* a watch-list closed within a second without an event: handleListWatch's
	 * VeryShortWatchError is not retriable, so ListAndWatch falls back to list */
	if (r->status == 200 && !r->err && !in->unavail && !in->seen && now - in->t0 < 1.0)
		in->wl_fail = 1;
	if (r->status == 410 || (r->status == 200 && !in->wl_fail && !r->err)) {
		in->relist = 1;
		start_watch_list(in);
		return;
	}
	in->wl_fail = 0;
	x->st.watch_list_fallbacks++;
	hl_debug("%s: watch-list of %s refused (HTTP %ld): list, then watch", in->n->name,
		 inf_names[in->kind], r->status);
	list_informer(in);
}

static void start_watch(struct informer *in)
{
	struct hl_ctx *x = in->n->x;
	struct hl_req *r;
	char url[512];
	/* client-go's reflector: timeoutSeconds in [minWatchTimeout, 2x) */
	long timeout = (long)(x->o->watch_timeout * (1 + hl_rand()));

	watch_url(in, url, sizeof(url), in->rv, 0, timeout < 1 ? 1 : timeout);
	r = hl_req_new("GET", "watch", inf_names[in->kind], "", "%s", url);
	if (!r)
		return;
	in->t0 = hl_now();
	in->seen = 0;
	in->throttled = 0;
	r->stream = 1;
	r->on_open = watch_open;
	r->on_data = watch_data;
	if (submit(x, r, in, watch_done) == 0)
		in->watch = r;
	else
		sched__add(&x->s, &in->t, hl_now() + backoff(&in->backoff));
}

/*
 * client-go reflector.go watchList (1.35+: WatchListClient on by default):
 * instead of a list, a watch with sendInitialEvents=true,
 * resourceVersionMatch=NotOlderThan, allowWatchBookmarks=true and
 * timeoutSeconds in [minWatchTimeout, 2x), at rewatchResourceVersion: ""
 * at first and after an expired one, else the last resourceVersion synced.
 */
static void start_watch_list(struct informer *in)
{
	struct hl_ctx *x = in->n->x;
	struct hl_req *r;
	char url[512];
	long timeout = (long)(x->o->watch_timeout * (1 + hl_rand()));

	watch_url(in, url, sizeof(url), in->rv[0] && !in->unavail ? in->rv : NULL, 1, timeout < 1 ? 1 : timeout);
	r = hl_req_new("GET", "watch", inf_names[in->kind], "", "%s", url);
	if (!r)
		return;
	in->t0 = hl_now();
	in->seen = 0;
	in->throttled = 0;
	r->stream = 1;
	r->on_open = watch_open;
	r->on_data = watch_data;
	in->wl = 1;
	in->wl_fail = 0;
	if (submit(x, r, in, watch_done) == 0) {
		in->watch = r;
	} else {
		in->wl = 0;
		sched__add(&x->s, &in->t, hl_now() + backoff(&in->backoff));
	}
}

/*
 * The kubelet's pod source (pkg/kubelet/config/apiserver.go,
 * NewSourceApiserver) starts its reflector only once the node informer has
 * synced: it checks nodeHasSynced at once, then every
 * WaitForAPIServerSyncPeriod (1 s). So the pods list comes at the first
 * whole second after the node list answered, counted from the start.
 */
static void pods_after_node_sync(struct hnode *n)
{
	struct hl_ctx *x = n->x;
	double now = hl_now(), k = ceil(now - n->started_at);

	if (n->pods_gate)
		return;
	n->pods_gate = 1;
	sched__add(&x->s, &n->inf[INF_PODS].t, n->started_at + (k < 1 ? 1 : k));
}

static void listed(struct hl_req *r)
{
	struct informer *in = r->arg;
	struct hl_ctx *x = in->n->x;
	struct hl_obj o;

	if (r->cancelled || x->stopping)
		return;
	if (ok(r) && answer_obj(r, 1, &o) == 0) {
		snprintf(in->rv, sizeof(in->rv), "%s", o.rv);
		in->relist = 0;
		in->unavail = 0;
		if (in->kind == INF_NODES)
			pods_after_node_sync(in->n);
		start_watch(in);
		return;
	}
	if (r->status == 410 && in->rv[0] && !in->unavail) {
		/* reflector.go list(): the RV listed at is expired; retry at
		 * once with ResourceVersion "" (the latest, from etcd) */
		in->unavail = 1;
		list_informer(in);
		return;
	}
	in->relist = 1;
	sched__add(&x->s, &in->t, hl_now() + backoff(&in->backoff));
}

static void list_informer(struct informer *in)
{
	char path[256], q[64];
	const char *sep;
	struct hl_req *r;

	inf_path(in, path, sizeof(path));
	sep = path[strlen(path) - 1] == '?' ? "" : "&";
	/*
	 * client-go's reflector (tools/cache/reflector.go, list and
	 * relistResourceVersion): the first list asks resourceVersion=0 (the
	 * watch cache, which ignores limit) with the pager's limit=500; a
	 * relist asks the last resourceVersion seen without a limit (so the
	 * watch cache serves it); only when that answers 410 does it ask the
	 * latest (no resourceVersion, limit=500, from etcd).
	 */
	if (!in->rv[0])
		snprintf(q, sizeof(q), "limit=500&resourceVersion=0");
	else if (in->unavail)
		snprintf(q, sizeof(q), "limit=500");
	else
		snprintf(q, sizeof(q), "resourceVersion=%s", in->rv);
	r = hl_req_new("GET", "list", inf_names[in->kind], "", "%s%s%s", path, sep, q);
	if (submit(in->n->x, r, in, listed) < 0)
		sched__add(&in->n->x->s, &in->t, hl_now() + backoff(&in->backoff));
}

static void on_informer_timer(struct hl_timer *t)
{
	struct informer *in = container_of(t, struct informer, t);

	if (in->n->x->stopping || in->watch)
		return;
	if ((in->relist || !in->rv[0]) && x_watch_list(in))
		start_watch_list(in);
	else if (in->relist || !in->rv[0])
		list_informer(in);
	else
		start_watch(in);
}

/* ---- registration -------------------------------------------------------- */

static void lease_body(struct hnode *n, struct hl_req *r, int create);

static void step_done(struct hl_req *r)
{
	struct hnode *n = r->arg;
	struct hl_ctx *x = n->x;
	struct hl_obj o;
	int next = -1;

	if (r->cancelled || x->stopping)
		return;
	switch (n->step) {
	case ST_WAIT_API:        /* any answer means the API server is there */
		if (ok(r) || r->status == 404)
			next = ST_CREATE_NODE;
		break;
	case ST_CREATE_NODE:
		if (ok(r))
			next = x->active_nodes ? ST_GET_CSINODE : ST_DONE;
		else if (r->status == 409)
			next = ST_GET_OLD_NODE;
		break;
	case ST_GET_OLD_NODE:
		if (ok(r))
			next = x->active_nodes ? ST_GET_CSINODE : ST_DONE;
		break;
	case ST_GET_CSINODE:
		if (r->status == 404)
			next = ST_GET_NODE_CSI;
		else if (ok(r))
			next = ST_GET_LEASE;
		break;
	case ST_GET_NODE_CSI:
		next = ok(r) ? ST_CREATE_CSINODE : -1;
		break;
	case ST_CREATE_CSINODE:
		if (ok(r) || r->status == 409)
			next = ST_GET_LEASE;
		break;
	case ST_GET_LEASE:
		if (r->status == 404) {
			next = ST_GET_NODE_LEASE;
		} else if (ok(r)) {
			if (answer_obj(r, 0, &o) == 0 && o.rv[0])
				snprintf(n->lease_rv, sizeof(n->lease_rv), "%s", o.rv);
			n->lease_state = 2;
			next = ST_DONE;
		}
		break;
	case ST_GET_NODE_LEASE:
		next = ST_CREATE_LEASE;   /* without the owner the lease is made all the same */
		break;
	case ST_CREATE_LEASE:
		if (ok(r)) {
			if (answer_obj(r, 0, &o) == 0 && o.rv[0])
				snprintf(n->lease_rv, sizeof(n->lease_rv), "%s", o.rv);
			n->lease_state = 2;
			next = ST_DONE;
		} else if (r->status == 409) {
			n->lease_state = 3;   /* read it back at the first renewal */
			next = ST_DONE;
		}
		break;
	}
	if (next < 0) {
		sched__add(&x->s, &n->reg_t, hl_now() + backoff(&n->backoff));
		return;
	}
	n->backoff = 0;
	n->step = (unsigned char)next;
	step(n);
}

static struct hl_req *create_node_req(struct hnode *n)
{
	struct hl_req *r = hl_req_new("POST", "create", "nodes", "", "/api/v1/nodes");

	if (!r)
		return NULL;
	if (n->x->o->protobuf) {
		struct pbuf b = { 0 };

		if (pb_meta_object(&b, "v1", "Node", n->name, NULL) == 0)
			hl_req_body(r, BODY_PROTOBUF, (char *)b.p, b.len);
		else
			pb_free(&b);
	} else {
		char *body = NULL;
		int len = asprintf(&body,
			"{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"%s\","
			"\"labels\":{\"kubernetes.io/hostname\":\"%s\",\"hollowload\":\"true\"}},"
			"\"spec\":{},\"status\":{\"capacity\":{\"cpu\":\"4\",\"memory\":\"16Gi\",\"pods\":\"110\"},"
			"\"allocatable\":{\"cpu\":\"4\",\"memory\":\"16Gi\",\"pods\":\"110\"}}}",
			n->name, n->name);

		if (len > 0)
			hl_req_body(r, BODY_JSON, body, len);
	}
	return r;
}

static void registered(struct hnode *n)
{
	struct hl_ctx *x = n->x;
	const struct hl_opts *o = x->o;
	double now = hl_now();

	n->registered = 1;
	n->last_report = -1;
	if (++x->nodes_registered == x->nnodes)   /* tools/bench_hollow.py waits for this line */
		hl_info("all %d nodes registered in %.1f s", x->nnodes, now - x->started);
	if (!x->active_nodes)
		return;
	sched__add(&x->s, &n->lease_t, now + hl_jitter(o->lease_period, o->jitter));
	sched__add(&x->s, &n->status_t, now);           /* the first status: NotReady */
	sched__add(&x->s, &n->ready_t, now + o->ready_delay);
}

static void step(struct hnode *n)
{
	struct hl_ctx *x = n->x;
	struct hl_req *r = NULL;
	const char *name = n->name;

	if (x->stopping)
		return;
	switch (n->step) {
	case ST_WAIT_API:
		/* pkg/volume/csi/csi_plugin.go waitForAPIServerForever: in the
		 * newest kubelets (the copy read has MutableCSINodeAllocatableCount,
		 * 1.33+) the object is discarded, so it asks the watch cache
		 * (util.FromApiserverCache: resourceVersion=0); older copies
		 * ask without */
		r = hl_req_new("GET", "get", "csinodes", "", "/apis/storage.k8s.io/v1/csinodes/%s?resourceVersion=0",
			       name);
		break;
	case ST_GET_CSINODE:
		r = hl_req_new("GET", "get", "csinodes", "", "/apis/storage.k8s.io/v1/csinodes/%s", name);
		break;
	case ST_CREATE_NODE:
		r = create_node_req(n);
		break;
	case ST_GET_OLD_NODE:
	case ST_GET_NODE_CSI:
	case ST_GET_NODE_LEASE:
		r = hl_req_new("GET", "get", "nodes", "", "/api/v1/nodes/%s", name);
		break;
	case ST_CREATE_CSINODE: {
		char *body = NULL;
		int len;

		/* JSON even with protobuf: the stand-in server decodes
		 * protobuf bodies of core kinds and Lease only */
		r = hl_req_new("POST", "create", "csinodes", "", "/apis/storage.k8s.io/v1/csinodes");
		len = asprintf(&body, "{\"apiVersion\":\"storage.k8s.io/v1\",\"kind\":\"CSINode\","
			       "\"metadata\":{\"name\":\"%s\"},\"spec\":{\"drivers\":[]}}", name);
		if (r && len > 0)
			hl_req_body(r, BODY_JSON, body, len);
		else
			free(body);
		break;
	}
	case ST_GET_LEASE:
		r = hl_req_new("GET", "get", "leases", "",
			       "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/%s", name);
		break;
	case ST_CREATE_LEASE:
		r = hl_req_new("POST", "create", "leases", "",
			       "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases");
		if (r)
			lease_body(n, r, 1);
		break;
	default:
		registered(n);
		return;
	}
	if (submit(x, r, n, step_done) < 0)
		sched__add(&x->s, &n->reg_t, hl_now() + backoff(&n->backoff));
}

static void on_register(struct hl_timer *t)
{
	struct hnode *n = container_of(t, struct hnode, reg_t);

	if (!n->started) {
		/* the kubelet starts its informers first (NewMainKubelet),
		 * its pod source once the node informer synced
		 * (pods_after_node_sync); a passive node (density alone)
		 * watches its pods only, at once */
		n->started = 1;
		n->started_at = hl_now();
		for (int k = 0; k < INF_COUNT; k++)
			if (n->x->active_nodes ? k != INF_PODS : k == INF_PODS) {
				if (x_watch_list(&n->inf[k]))
					start_watch_list(&n->inf[k]);
				else
					list_informer(&n->inf[k]);
			}
	}
	step(n);
}

/* ---- lease --------------------------------------------------------------- */

static void lease_body(struct hnode *n, struct hl_req *r, int create)
{
	const char *ns = "kube-node-lease";
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	if (n->x->o->protobuf) {
		struct pbuf b = { 0 };

		if (pb_lease(&b, n->name, n->name, create ? NULL : n->lease_rv, now.tv_sec,
			     (int32_t)(now.tv_nsec / 1000 * 1000), 40) == 0)
			hl_req_body(r, BODY_PROTOBUF, (char *)b.p, b.len);
		else
			pb_free(&b);
	} else {
		char *body = NULL, rv[64] = "", ts[48];
		int len;

		hl_timestamp(ts, sizeof(ts), 1);
		if (!create && n->lease_rv[0])
			snprintf(rv, sizeof(rv), ",\"resourceVersion\":\"%s\"", n->lease_rv);
		len = asprintf(&body,
			"{\"apiVersion\":\"coordination.k8s.io/v1\",\"kind\":\"Lease\","
			"\"metadata\":{\"name\":\"%s\",\"namespace\":\"%s\"%s},"
			"\"spec\":{\"holderIdentity\":\"%s\",\"leaseDurationSeconds\":40,"
			"\"renewTime\":\"%s\"}}", n->name, ns, rv, n->name, ts);
		if (len > 0)
			hl_req_body(r, BODY_JSON, body, len);
	}
}

static void lease_done(struct hl_req *r);

/* update leases from the last resourceVersion: the controller's
 * latestLease, so no get before it (controller.go sync) */
static void lease_update(struct hnode *n)
{
	struct hl_req *r = hl_req_new("PUT", "update", "leases", "",
				      "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/%s",
				      n->name);

	if (r)
		lease_body(n, r, 0);
	if (r && submit(n->x, r, n, lease_done) == 0)
		n->lease_busy = 1;
}

static void lease_done(struct hl_req *r)
{
	struct hnode *n = r->arg;
	struct hl_ctx *x = n->x;
	struct hl_obj o;
	double now = hl_now();

	n->lease_busy = 0;
	if (r->cancelled)
		return;
	if (ok(r)) {
		if (answer_obj(r, 0, &o) == 0 && o.rv[0])
			snprintf(n->lease_rv, sizeof(n->lease_rv), "%s", o.rv);
		if (!strcmp(r->verb, "update"))
			samples__add(&x->st.lease_lag, (now - n->lease_due) * 1e3);
		n->lease_state = 2;
		/* the lease read back after a conflict: retryUpdateLease
		 * (component-helpers apimachinery/lease/controller.go) updates
		 * it at once, not a period later */
		if (!strcmp(r->verb, "get") && !x->stopping)
			lease_update(n);
	} else if (r->status == 409) {
		/* our resourceVersion is stale: nodelease reads the lease back */
		n->lease_state = 3;
		if (!x->stopping)
			sched__add(&x->s, &n->lease_t, now);
	}
}

static void on_lease(struct hl_timer *t)
{
	struct hnode *n = container_of(t, struct hnode, lease_t);
	struct hl_ctx *x = n->x;
	const struct hl_opts *o = x->o;
	double due = t->due;
	struct hl_req *r;

	if (x->stopping)
		return;
	sched__add(&x->s, &n->lease_t, due + hl_jitter(o->lease_period, o->jitter));
	if (n->lease_busy) {
		/* the last renewal is still out: this one is at least a period late */
		samples__add(&x->st.lease_lag, o->lease_period * 1e3);
		return;
	}
	n->lease_due = due;
	if (n->lease_state != 3) {
		lease_update(n);
		return;
	}
	r = hl_req_new("GET", "get", "leases", "",
		       "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/%s", n->name);
	n->lease_state = 2;
	if (r && submit(x, r, n, lease_done) == 0)
		n->lease_busy = 1;
}

/* ---- node status ----------------------------------------------------------- */

static void status_done(struct hl_req *r)
{
	struct hnode *n = r->arg;

	n->status_busy = 0;
	if (r->cancelled)
		return;
	if (ok(r)) {
		n->reported_ready = (unsigned char)r->iarg;
		n->last_report = hl_now();
	}
}

static void patch_status(struct hnode *n)
{
	struct hl_ctx *x = n->x;
	struct hl_req *r;
	char ts[48], *body = NULL;
	int len;

	r = hl_req_new("PATCH", "patch", "nodes", "status", "/api/v1/nodes/%s/status", n->name);
	if (!r)
		return;
	hl_timestamp(ts, sizeof(ts), 0);
	/* what the kubelet's patch carries: the conditions' heartbeat times
	 * (a strategic merge patch: JSON with protobuf too, as in client-go) */
	len = asprintf(&body,
		"{\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"%s\","
		"\"reason\":\"%s\",\"message\":\"hollow kubelet is posting %s status\","
		"\"lastHeartbeatTime\":\"%s\"}]}}", n->ready ? "True" : "False",
		n->ready ? "KubeletReady" : "KubeletNotReady", n->ready ? "ready" : "not ready", ts);
	if (len > 0)
		hl_req_body(r, BODY_SMP, body, len);
	r->iarg = n->ready;
	if (submit(x, r, n, status_done) == 0)
		n->status_busy = 1;
}

/* tryUpdateNodeStatus's first try read the node from the informer; it had
 * not seen it, so the kubelet got it from the API server */
static void node_got(struct hl_req *r)
{
	struct hnode *n = r->arg;

	n->status_busy = 0;
	if (r->cancelled || n->x->stopping)
		return;
	if (ok(r))
		patch_status(n);
}

static void on_status(struct hl_timer *t)
{
	struct hnode *n = container_of(t, struct hnode, status_t);
	struct hl_ctx *x = n->x;
	const struct hl_opts *o = x->o;
	double now = hl_now();
	struct hl_req *r;

	if (x->stopping)
		return;
	sched__add(&x->s, &n->status_t, now + hl_jitter(o->status_period, o->jitter));
	if (n->status_busy)
		return;
	/* since node leases, the kubelet patches status only when it changed
	 * or nodeStatusReportFrequency after its last report */
	if (n->last_report >= 0 && n->ready == n->reported_ready &&
	    now - n->last_report < o->status_report)
		return;
	if (n->node_seen) {
		patch_status(n);
		return;
	}
	r = hl_req_new("GET", "get", "nodes", "", "/api/v1/nodes/%s", n->name);
	if (submit(x, r, n, node_got) == 0)
		n->status_busy = 1;
}

static void on_ready(struct hl_timer *t)
{
	struct hnode *n = container_of(t, struct hnode, ready_t);

	n->ready = 1;   /* the next status sync reports the change */
}

/* ---- start and stop ------------------------------------------------------- */

int nodes__start(struct hl_ctx *x, int active)
{
	const struct hl_opts *o = x->o;
	double now = hl_now();

	x->nnodes = o->nodes;
	x->active_nodes = active;
	x->started = now;
	x->nodes = calloc(x->nnodes ? x->nnodes : 1, sizeof(*x->nodes));
	if (!x->nodes)
		return -1;
	for (int i = 0; i < x->nnodes; i++) {
		struct hnode *n = &x->nodes[i];

		n->x = x;
		n->idx = i;
		snprintf(n->name, sizeof(n->name), "%s-node-%d", o->prefix, i);
		n->reg_t.fn = on_register;
		n->lease_t.fn = on_lease;
		n->status_t.fn = on_status;
		n->ready_t.fn = on_ready;
		for (int k = 0; k < INF_COUNT; k++) {
			n->inf[k].n = n;
			n->inf[k].kind = (unsigned char)k;
			n->inf[k].t.fn = on_informer_timer;
			watch__init(&n->inf[k].wp, 0);
		}
		/* passive nodes (density alone) only register and watch pods */
		n->step = active ? ST_WAIT_API : ST_CREATE_NODE;
		sched__add(&x->s, &n->reg_t, now + o->ramp * (i + hl_rand()) / x->nnodes);
	}
	return 0;
}

void nodes__stop_timers(struct hl_ctx *x)
{
	for (int i = 0; i < x->nnodes; i++) {
		struct hnode *n = &x->nodes[i];

		sched__del(&x->s, &n->reg_t);
		sched__del(&x->s, &n->lease_t);
		sched__del(&x->s, &n->status_t);
		sched__del(&x->s, &n->ready_t);
		for (int k = 0; k < INF_COUNT; k++)
			sched__del(&x->s, &n->inf[k].t);
	}
}

void nodes__stop_watches(struct hl_ctx *x)
{
	for (int i = 0; i < x->nnodes; i++)
		for (int k = 0; k < INF_COUNT; k++)
			if (x->nodes[i].inf[k].watch)
				client__cancel(&x->c, x->nodes[i].inf[k].watch);
}

void nodes__free(struct hl_ctx *x)
{
	for (int i = 0; i < x->nnodes; i++)
		for (int k = 0; k < INF_COUNT; k++)
			watch__free(&x->nodes[i].inf[k].wp);
	free(x->nodes);
	x->nodes = NULL;
	x->nnodes = 0;
}

/* ---- the schedule, for --plan -------------------------------------------- */

#define PLAN_STARTUP 85.0

/* V rounded up to a whole number of periods P: a timer ticking every P notices V late */
static double ceil_to(double v, double p)
{
	return p > 0 ? ceil(v / p - 1e-9) * p : v;
}   /* the startup window of issue 16's Kubemark figures */

/* status patches in [0, W) of a node registered at 0: NotReady at once,
 * Ready at the first sync after --ready-delay, then every --status-report
 * (at the sync after it is due) */
static double plan_status(const struct hl_opts *o, double w)
{
	double t, count = 1, every = ceil_to(o->status_report, o->status_period);

	t = ceil_to(o->ready_delay > 0 ? o->ready_delay : o->status_period, o->status_period);
	if (t < w)
		count++;
	for (t += every; t < w; t += every)
		count++;
	return count;
}

int nodes__plan(const struct hl_opts *o, FILE *f)
{
	static const char *const seq[] = {
		"get csinodes", "create nodes", "get csinodes", "get nodes", "create csinodes",
		"get leases", "get nodes", "create leases", "patch nodes/status",
	};
	double w = PLAN_STARTUP, mean_watch = 1.5 * o->watch_timeout;

	fprintf(f, "# hollowload --plan: calls of one hollow node (lease %gs, status sync %gs, "
		"status report %gs, watch %gs..%gs, Ready after %gs)\n", o->lease_period,
		o->status_period, o->status_report, o->watch_timeout, 2 * o->watch_timeout, o->ready_delay);
	/* the pod source's list last: it waits for the node informer's sync
	 * (pods_after_node_sync), so it may come after the first registration calls */
	/* 1.35+ (WatchListClient): each list is a watch-list instead, the
	 * informer's first watch (client-go reflector.go, ListAndWatch) */
	fprintf(f, "# kubelet %d.%d: informers %s\n", 1, o->kubelet_minor, o->watch_list ?
		"watch with sendInitialEvents=true (list, then watch, if refused)" : "list, then watch");
	fprintf(f, "sequence:");
	for (int k = 0; k < INF_COUNT; k++)
		if (k != INF_PODS)
			fprintf(f, " %s %s,", o->watch_list ? "watch-list" : "list", inf_names[k]);
	fprintf(f, " %s %s,", o->watch_list ? "watch-list" : "list", inf_names[INF_PODS]);
	for (size_t i = 0; i < sizeof(seq) / sizeof(seq[0]); i++)
		fprintf(f, " %s%s", seq[i], i + 1 < sizeof(seq) / sizeof(seq[0]) ? "," : "\n");
	fprintf(f, "%-28s %12s %12s\n", "call", "startup/85s", "steady/min");
	for (int k = 0; k < INF_COUNT; k++) {
		char name[48];

		snprintf(name, sizeof(name), "list %s", inf_names[k]);
		fprintf(f, "%-28s %12.2f %12.3f\n", name, o->watch_list ? 0.0 : 1.0, 0.0);
		snprintf(name, sizeof(name), "watch %s", inf_names[k]);
		fprintf(f, "%-28s %12.2f %12.3f\n", name, 1.0 + floor(w / mean_watch), 60 / mean_watch);
	}
	fprintf(f, "%-28s %12.2f %12.3f\n", "get csinodes", 2.0, 0.0);
	fprintf(f, "%-28s %12.2f %12.3f\n", "create nodes", 1.0, 0.0);
	fprintf(f, "%-28s %12.2f %12.3f\n", "get nodes", 2.0, 0.0);
	fprintf(f, "%-28s %12.2f %12.3f\n", "create csinodes", 1.0, 0.0);
	fprintf(f, "%-28s %12.2f %12.3f\n", "get leases", 1.0, 0.0);
	fprintf(f, "%-28s %12.2f %12.3f\n", "create leases", 1.0, 0.0);
	fprintf(f, "%-28s %12.2f %12.3f\n", "update leases", floor(w / o->lease_period), 60 / o->lease_period);
	fprintf(f, "%-28s %12.2f %12.3f\n", "patch nodes/status", plan_status(o, w),
		60 / ceil_to(o->status_report, o->status_period));
	return 0;
}
