// SPDX-License-Identifier: MIT
/*
 * scenario_nodes: N hollow kubelets on timers. Each one, like a kubelet
 * (pkg/kubelet/kubelet_node_status.go, pkg/kubelet/nodelease), creates its
 * Node (409 AlreadyExists is fine: it is ours from an earlier run), keeps
 * a Lease in kube-node-lease renewed every --lease-period with PUT (the
 * resourceVersion of the last answer makes it a conditional update),
 * patches node status every --status-period with a strategic merge patch,
 * and lists then watches the pods bound to it (fieldSelector
 * spec.nodeName), re-watching from the last resourceVersion when the
 * server ends the watch and relisting after 410 Gone. Every period is
 * jittered and registrations are spread over --ramp so nodes do not beat
 * in step.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json.h"
#include "pb.h"
#include "scenario.h"

static void list_pods(struct hnode *n);
static void start_watch(struct hnode *n);

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

static int submit(struct hl_ctx *x, struct hl_req *r, struct hnode *n, hl_done_fn done)
{
	if (!r)
		return -1;
	r->arg = n;
	r->done = done;
	r->retries = r->stream ? 0 : x->o->retries;
	return client__submit(&x->c, r);
}

static double backoff(struct hnode *n)
{
	double b = 1 << (n->backoff < 5 ? n->backoff : 5);   /* 1 s .. 32 s */

	if (n->backoff < 10)
		n->backoff++;
	return hl_jitter(b, 0.5);
}

/* ---- registration ----------------------------------------------------- */

static void registered(struct hl_req *r)
{
	struct hnode *n = r->arg;
	struct hl_ctx *x = n->x;
	double now = hl_now();

	if (r->cancelled || x->stopping)
		return;
	if ((r->status >= 200 && r->status < 300) || r->status == 409) {
		n->registered = 1;
		n->backoff = 0;
		if (x->active_nodes) {
			sched__add(&x->s, &n->lease_t, now);   /* create the lease now */
			sched__add(&x->s, &n->status_t, now + hl_rand() * x->o->status_period);
		}
		list_pods(n);
		return;
	}
	sched__add(&x->s, &n->reg_t, now + backoff(n));
}

static void on_register(struct hl_timer *t)
{
	struct hnode *n = container_of(t, struct hnode, reg_t);
	struct hl_ctx *x = n->x;
	struct hl_req *r = hl_req_new("POST", "create", "nodes", "", "/api/v1/nodes");

	if (!r)
		return;
	if (x->o->protobuf) {
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
	if (submit(x, r, n, registered) < 0)
		sched__add(&x->s, &n->reg_t, hl_now() + backoff(n));
}

/* ---- lease -------------------------------------------------------------- */

static void lease_done(struct hl_req *r)
{
	struct hnode *n = r->arg;
	struct hl_ctx *x = n->x;
	struct hl_obj o;
	double now = hl_now();

	n->lease_busy = 0;
	if (r->cancelled)
		return;
	if (r->status >= 200 && r->status < 300) {
		if (answer_obj(r, 0, &o) == 0 && o.rv[0])
			snprintf(n->lease_rv, sizeof(n->lease_rv), "%s", o.rv);
		if (n->lease_state == 2 && !strcmp(r->verb, "update"))
			samples__add(&x->st.lease_lag, (now - n->lease_due) * 1e3);
		n->lease_state = 2;
	} else if (r->status == 409) {
		/* it exists (create) or our resourceVersion is stale (update):
		 * read it back before the next renewal */
		n->lease_state = 3;
		if (!x->stopping)
			sched__add(&x->s, &n->lease_t, now);
	} else if (r->status == 404) {
		n->lease_state = 0;
	}
}

static void on_lease(struct hl_timer *t)
{
	struct hnode *n = container_of(t, struct hnode, lease_t);
	struct hl_ctx *x = n->x;
	const struct hl_opts *o = x->o;
	const char *ns = "kube-node-lease";
	struct hl_req *r;
	char ts[48];

	double due = t->due;

	if (x->stopping)
		return;
	if (n->lease_state == 2)
		sched__add(&x->s, &n->lease_t, due + hl_jitter(o->lease_period, o->jitter));
	if (n->lease_busy) {
		/* the last renewal is still out: this one is at least a period late */
		samples__add(&x->st.lease_lag, o->lease_period * 1e3);
		return;
	}
	n->lease_due = due;
	if (n->lease_state == 3) {
		r = hl_req_new("GET", "get", "leases", "",
			       "/apis/coordination.k8s.io/v1/namespaces/%s/leases/%s", ns, n->name);
		if (r)
			r->iarg = 0;
		n->lease_state = 2;
		if (!n->lease_t.idx)
			sched__add(&x->s, &n->lease_t, hl_now() + hl_jitter(o->lease_period, o->jitter));
	} else {
		int create = n->lease_state == 0;
		struct timespec now;

		clock_gettime(CLOCK_REALTIME, &now);
		if (create) {
			r = hl_req_new("POST", "create", "leases", "",
				       "/apis/coordination.k8s.io/v1/namespaces/%s/leases", ns);
			/* next attempt or first renewal */
			sched__add(&x->s, &n->lease_t, hl_now() + hl_jitter(o->lease_period, o->jitter));
		} else {
			r = hl_req_new("PUT", "update", "leases", "",
				       "/apis/coordination.k8s.io/v1/namespaces/%s/leases/%s", ns, n->name);
		}
		if (r && o->protobuf) {
			struct pbuf b = { 0 };

			if (pb_lease(&b, n->name, n->name, create ? NULL : n->lease_rv, now.tv_sec,
				     (int32_t)(now.tv_nsec / 1000 * 1000), 40) == 0)
				hl_req_body(r, BODY_PROTOBUF, (char *)b.p, b.len);
			else
				pb_free(&b);
		} else if (r) {
			char *body = NULL, rv[64] = "";
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
	if (r && submit(x, r, n, lease_done) == 0)
		n->lease_busy = 1;
}

/* ---- node status -------------------------------------------------------- */

static void status_done(struct hl_req *r)
{
	struct hnode *n = r->arg;

	n->status_busy = 0;
}

static void on_status(struct hl_timer *t)
{
	struct hnode *n = container_of(t, struct hnode, status_t);
	struct hl_ctx *x = n->x;
	struct hl_req *r;
	char ts[48], *body = NULL;
	int len;

	if (x->stopping)
		return;
	sched__add(&x->s, &n->status_t, hl_now() + hl_jitter(x->o->status_period, x->o->jitter));
	if (n->status_busy)
		return;
	r = hl_req_new("PATCH", "patch", "nodes", "status", "/api/v1/nodes/%s/status", n->name);
	if (!r)
		return;
	hl_timestamp(ts, sizeof(ts), 0);
	/* what a kubelet's heartbeat changes: the Ready condition's times
	 * (patches stay JSON in protobuf mode, as in client-go) */
	len = asprintf(&body,
		"{\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\","
		"\"reason\":\"KubeletReady\",\"message\":\"hollow kubelet is posting ready status\","
		"\"lastHeartbeatTime\":\"%s\"}]}}", ts);
	if (len > 0)
		hl_req_body(r, BODY_SMP, body, len);
	if (submit(x, r, n, status_done) == 0)
		n->status_busy = 1;
}

/* ---- pods bound to the node: list, then watch ---------------------------- */

static void watch_event(const struct watch_event *ev, void *arg)
{
	struct hnode *n = arg;

	if (ev->obj.rv[0])
		snprintf(n->pods_rv, sizeof(n->pods_rv), "%s", ev->obj.rv);
	if (!strcmp(ev->type, "ERROR")) {
		if (ev->obj.code == 410)
			n->relist = 1;
		return;
	}
	if (!strcmp(ev->type, "BOOKMARK"))
		return;
	if (n->x->on_pod)
		n->x->on_pod(n->x, n, ev);
}

static void watch_open(struct hl_req *r)
{
	struct hnode *n = r->arg;

	n->watching = 1;
	n->backoff = 0;
	if (!n->ever_ready) {
		n->ever_ready = 1;
		n->x->nodes_ready++;
	}
	watch__reset(&n->wp);
	n->wp.protobuf = r->resp_protobuf;
}

static int watch_data(struct hl_req *r, const char *data, size_t len)
{
	struct hnode *n = r->arg;

	return watch__feed(&n->wp, data, len, watch_event, n);
}

static void watch_done(struct hl_req *r)
{
	struct hnode *n = r->arg;
	struct hl_ctx *x = n->x;
	double now = hl_now();

	n->watch = NULL;
	n->watching = 0;
	watch__reset(&n->wp);
	if (r->cancelled || x->stopping)
		return;
	if (r->status == 410)
		n->relist = 1;
	if (r->status == 200 && (r->err == ERR_NONE || r->err == ERR_RESET) && !n->relist) {
		/* the server ended it (timeoutSeconds) or dropped it: resume */
		sched__add(&x->s, &n->watch_t, now + (r->err ? backoff(n) : hl_rand() * 0.1));
		return;
	}
	n->relist = 1;
	sched__add(&x->s, &n->watch_t, now + backoff(n));
}

static void start_watch(struct hnode *n)
{
	struct hl_ctx *x = n->x;
	struct hl_req *r;
	long timeout = (long)(x->o->watch_timeout * (1 + hl_rand()));

	/* kubelet's reflector asks timeoutSeconds in [minWatchTimeout, 2x) */
	r = hl_req_new("GET", "watch", "pods", "",
		       "/api/v1/pods?fieldSelector=spec.nodeName%%3D%s&watch=true&resourceVersion=%s"
		       "&allowWatchBookmarks=true&timeoutSeconds=%ld", n->name, n->pods_rv, timeout);
	if (!r)
		return;
	r->stream = 1;
	r->on_open = watch_open;
	r->on_data = watch_data;
	if (submit(x, r, n, watch_done) == 0)
		n->watch = r;
	else
		sched__add(&x->s, &n->watch_t, hl_now() + backoff(n));
}

static void listed(struct hl_req *r)
{
	struct hnode *n = r->arg;
	struct hl_ctx *x = n->x;
	struct hl_obj o;

	if (r->cancelled || x->stopping)
		return;
	if (r->status >= 200 && r->status < 300 && answer_obj(r, 1, &o) == 0) {
		snprintf(n->pods_rv, sizeof(n->pods_rv), "%s", o.rv);
		n->relist = 0;
		start_watch(n);
		return;
	}
	n->relist = 1;
	sched__add(&x->s, &n->watch_t, hl_now() + backoff(n));
}

static void list_pods(struct hnode *n)
{
	struct hl_req *r = hl_req_new("GET", "list", "pods", "",
				      "/api/v1/pods?fieldSelector=spec.nodeName%%3D%s", n->name);

	if (submit(n->x, r, n, listed) < 0)
		sched__add(&n->x->s, &n->watch_t, hl_now() + backoff(n));
}

static void on_watch_timer(struct hl_timer *t)
{
	struct hnode *n = container_of(t, struct hnode, watch_t);

	if (n->x->stopping || n->watch)
		return;
	if (n->relist || !n->pods_rv[0])
		list_pods(n);
	else
		start_watch(n);
}

int nodes__start(struct hl_ctx *x, int active)
{
	const struct hl_opts *o = x->o;
	double now = hl_now();

	x->nnodes = o->nodes;
	x->active_nodes = active;
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
		n->watch_t.fn = on_watch_timer;
		watch__init(&n->wp, 0);
		/* registrations spread evenly over the ramp, with jitter */
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
		sched__del(&x->s, &n->watch_t);
	}
}

void nodes__stop_watches(struct hl_ctx *x)
{
	for (int i = 0; i < x->nnodes; i++)
		if (x->nodes[i].watch)
			client__cancel(&x->c, x->nodes[i].watch);
}

void nodes__free(struct hl_ctx *x)
{
	for (int i = 0; i < x->nnodes; i++)
		watch__free(&x->nodes[i].wp);
	free(x->nodes);
	x->nodes = NULL;
	x->nnodes = 0;
}
