// SPDX-License-Identifier: MIT
/*
 * scenario_density: the Kubernetes 1.3 density test. It first asks which
 * components run (their leader-election Leases in kube-system), creates K
 * namespaces and their "default" ServiceAccount (which the ServiceAccount
 * admission plugin requires and only the controller-manager would
 * otherwise make), then P pods at --pod-rate, round-robin over the
 * namespaces, unscheduled; or, when a kube-controller-manager runs, one
 * ReplicaSet per namespace whose controller makes them. With a
 * kube-scheduler running, it binds them; without one, hollowload binds
 * each to a hollow node with POST pods/binding, the scheduler's call
 * (finding ReplicaSet pods by a watch of the run's unbound pods). The owning node sees the pod on its
 * watch and its status manager patches pods/status (Pending, then
 * Running); the MODIFIED event with phase Running ends the pod's startup
 * latency (create sent to Running seen). Then it lists the pods of each
 * namespace and deletes them (gracePeriodSeconds=0, since no real kubelet
 * will confirm a graceful deletion), or deletes the ReplicaSets, whose
 * pods' graceful deletion the hollow kubelets confirm. Namespaces are kept: deleting them
 * needs the namespace controller.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pb.h"
#include "scenario.h"

enum dphase { D_WAIT_NODES, D_DETECT, D_NAMESPACES, D_PODS, D_RUNNING, D_LIST, D_DELETE, D_DONE };
enum pstate { P_UNSENT, P_SENT, P_CREATED, P_STARTING, P_PATCHING, P_RUNNING, P_FAILED, P_DELETED };

#define DELETE_WINDOW 32

struct dpod {
	double created;
	unsigned char state, created_ok, bound, kubelet_deleted;
	short ns;             /* namespace index (ReplicaSet pods) */
};

struct density {
	struct hl_ctx *x;
	enum dphase phase;
	struct hl_timer t;
	double phase_start, last_create;
	int ns_left, list_left, next_pod, next_delete, deletes_out;
	int detect_left, scheduler, controller_manager;   /* their leader leases exist */
	char prefix[96];      /* pod name prefix: PREFIX-RUNID-pod- */
	struct dpod *pods;

	/* with a controller-manager: one ReplicaSet per namespace makes the
	 * pods, named RS-xxxxx; pods[i] is the i-th one seen, its name in
	 * names[i], found again through the open-addressing table slot[] */
	char rs[96];          /* PREFIX-RUNID-rs */
	char (*names)[128];
	int *slot;
	size_t nslots;
	double *rs_sent;      /* per namespace: the ReplicaSet's create sent */
	int rs_left;
	/* without a scheduler: a watch of the run's unbound pods, as kube-scheduler's */
	struct hl_req *sched_watch;
	struct watch_parser swp;
	struct hl_timer sched_t;
	char sched_rv[32];
};

static const char *ns_name(const struct hl_ctx *x, int k, char *buf, size_t len)
{
	snprintf(buf, len, "%s-density-%d", x->o->prefix, k);
	return buf;
}

static void enter(struct density *d, enum dphase p);

/* namespace and name of pod I */
static void pod_id(const struct density *d, int i, char *ns, size_t nslen, char *name, size_t len)
{
	if (d->names) {
		ns_name(d->x, d->pods[i].ns, ns, nslen);
		snprintf(name, len, "%s", d->names[i]);
	} else {
		ns_name(d->x, i % d->x->o->namespaces, ns, nslen);
		snprintf(name, len, "%s%d", d->prefix, i);
	}
}

static size_t name_hash(const char *s)
{
	size_t h = 1469598103934665603ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

/* the index of ReplicaSet pod NAME in NS, a new one when ADD; -1 if none */
static int rs_pod(struct density *d, const char *ns, const char *name, int add)
{
	size_t plen = strlen(d->x->o->prefix) + strlen("-density-");
	size_t h = name_hash(name) % d->nslots;
	char *end;
	long k;

	for (;; h = (h + 1) % d->nslots) {
		int i = d->slot[h] - 1;

		if (i < 0)
			break;
		if (!strcmp(d->names[i], name))
			return i;
	}
	if (!add || d->next_pod >= d->x->o->pods || strlen(ns) <= plen)
		return -1;
	k = strtol(ns + plen, &end, 10);
	if (*end || k < 0 || k >= d->x->o->namespaces)
		return -1;
	d->slot[h] = d->next_pod + 1;
	snprintf(d->names[d->next_pod], sizeof(d->names[0]), "%s", name);
	d->pods[d->next_pod].ns = (short)k;
	d->pods[d->next_pod].created = d->rs_sent[k];
	d->pods[d->next_pod].state = P_CREATED;
	d->pods[d->next_pod].created_ok = 1;
	d->x->st.pods_created++;
	return d->next_pod++;
}

static void rearm(struct density *d, double delay)
{
	sched__add(&d->x->s, &d->t, hl_now() + delay);
}

/* ---- namespaces and their default service accounts ----------------------- */

static void sa_done(struct hl_req *r)
{
	struct density *d = r->arg;

	if (r->cancelled)
		return;
	if (--d->ns_left == 0)
		enter(d, D_PODS);
}

static void ns_done(struct hl_req *r)
{
	struct density *d = r->arg;
	struct hl_ctx *x = d->x;
	struct hl_req *sa;
	char ns[128], *body = NULL;
	int len;

	if (r->cancelled)
		return;
	ns_name(x, (int)r->iarg, ns, sizeof(ns));
	sa = hl_req_new("POST", "create", "serviceaccounts", "",
			"/api/v1/namespaces/%s/serviceaccounts", ns);
	if (!sa)
		goto fail;
	if (x->o->protobuf) {
		struct pbuf b = { 0 };

		if (pb_meta_object(&b, "v1", "ServiceAccount", "default", ns) == 0)
			hl_req_body(sa, BODY_PROTOBUF, (char *)b.p, b.len);
		else
			pb_free(&b);
	} else {
		len = asprintf(&body, "{\"apiVersion\":\"v1\",\"kind\":\"ServiceAccount\","
			       "\"metadata\":{\"name\":\"default\",\"namespace\":\"%s\"}}", ns);
		if (len > 0)
			hl_req_body(sa, BODY_JSON, body, len);
	}
	sa->arg = d;
	sa->done = sa_done;
	sa->retries = x->o->retries;
	if (client__submit(&x->c, sa) == 0)
		return;
fail:
	if (--d->ns_left == 0)
		enter(d, D_PODS);
}

static void create_namespaces(struct density *d)
{
	struct hl_ctx *x = d->x;
	char ns[128], *body;
	int len;

	d->ns_left = x->o->namespaces;
	for (int k = 0; k < x->o->namespaces; k++) {
		struct hl_req *r = hl_req_new("POST", "create", "namespaces", "", "/api/v1/namespaces");

		if (!r) {
			d->ns_left--;
			continue;
		}
		ns_name(x, k, ns, sizeof(ns));
		if (x->o->protobuf) {
			struct pbuf b = { 0 };

			if (pb_meta_object(&b, "v1", "Namespace", ns, NULL) == 0)
				hl_req_body(r, BODY_PROTOBUF, (char *)b.p, b.len);
			else
				pb_free(&b);
		} else {
			body = NULL;
			len = asprintf(&body, "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\","
				       "\"metadata\":{\"name\":\"%s\"}}", ns);
			if (len > 0)
				hl_req_body(r, BODY_JSON, body, len);
		}
		r->arg = d;
		r->iarg = k;
		r->done = ns_done;   /* 201 or 409 AlreadyExists: either way on to its SA */
		r->retries = x->o->retries;
		if (client__submit(&x->c, r) < 0)
			d->ns_left--;
	}
	if (d->ns_left <= 0)
		enter(d, D_PODS);
}

/* ---- pods --------------------------------------------------------------- */

static int pods_settled(const struct density *d)
{
	for (int i = 0; i < d->next_pod; i++)
		if (d->pods[i].state != P_RUNNING && d->pods[i].state != P_FAILED)
			return 0;
	return d->next_pod == d->x->o->pods;
}

static void bound(struct hl_req *r)
{
	struct density *d = r->arg;

	if (r->cancelled || !d->pods)
		return;
	if (!(r->status >= 200 && r->status < 300) && d->pods[r->iarg].state == P_CREATED)
		d->pods[r->iarg].state = P_FAILED;
	if (d->phase == D_RUNNING && pods_settled(d))
		enter(d, D_LIST);
}

/* what kube-scheduler does when none runs: POST pods/binding, round-robin
 * over the hollow nodes (pkg/scheduler/framework/plugins/defaultbinder) */
static void bind_pod(struct density *d, int i)
{
	struct hl_ctx *x = d->x;
	const char *node = x->nnodes ? x->nodes[i % x->nnodes].name : "none";
	char ns[128], name[160], *body = NULL;
	struct hl_req *r;
	int len;

	pod_id(d, i, ns, sizeof(ns), name, sizeof(name));
	r = hl_req_new("POST", "create", "pods", "binding", "/api/v1/namespaces/%s/pods/%s/binding",
		       ns, name);
	if (!r)
		return;
	d->pods[i].bound = 1;
	/* JSON: the stand-in server decodes protobuf bodies of core kinds
	 * it stores, and a Binding is not stored */
	len = asprintf(&body, "{\"apiVersion\":\"v1\",\"kind\":\"Binding\",\"metadata\":"
		       "{\"name\":\"%s\",\"namespace\":\"%s\"},\"target\":{\"apiVersion\":\"v1\","
		       "\"kind\":\"Node\",\"name\":\"%s\"}}", name, ns, node);
	if (len > 0)
		hl_req_body(r, BODY_JSON, body, len);
	r->arg = d;
	r->iarg = i;
	r->done = bound;
	r->retries = x->o->retries;
	if (client__submit(&x->c, r) < 0)
		d->pods[i].state = P_FAILED;
}

static void created(struct hl_req *r)
{
	struct density *d = r->arg;
	struct dpod *p;

	if (r->cancelled || !d->pods)
		return;
	p = &d->pods[r->iarg];
	if (r->status >= 200 && r->status < 300) {
		p->created_ok = 1;
		d->x->st.pods_created++;
		if (p->state == P_SENT)
			p->state = P_CREATED;
		if (!d->scheduler)
			bind_pod(d, (int)r->iarg);
	} else if (p->state == P_SENT) {
		p->state = P_FAILED;
	}
	if (d->phase == D_RUNNING && pods_settled(d))
		enter(d, D_LIST);
}

static void create_pod(struct density *d, int i)
{
	struct hl_ctx *x = d->x;
	const struct hl_opts *o = x->o;
	char ns[128], name[160], run[16];
	const char *node = "";   /* unscheduled: the scheduler, or we, bind it */
	struct hl_req *r;

	ns_name(x, i % o->namespaces, ns, sizeof(ns));
	snprintf(name, sizeof(name), "%s%d", d->prefix, i);
	snprintf(run, sizeof(run), "%s", o->run_id);
	r = hl_req_new("POST", "create", "pods", "", "/api/v1/namespaces/%s/pods", ns);
	if (!r) {
		d->pods[i].state = P_FAILED;
		return;
	}
	if (o->protobuf) {
		struct pbuf b = { 0 };
		struct hl_pod_spec ps = { .name = name, .namespace = ns, .node = node, .run = run };

		if (pb_pod(&b, &ps) == 0)
			hl_req_body(r, BODY_PROTOBUF, (char *)b.p, b.len);
		else
			pb_free(&b);
	} else {
		char *body = NULL;
		int len = asprintf(&body,
			"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\","
			"\"namespace\":\"%s\",\"labels\":{\"app\":\"hollowload\",\"run\":\"%s\"}},"
			"\"spec\":{\"containers\":[{\"name\":\"pause\","
			"\"image\":\"registry.k8s.io/pause:3.9\"}]}}", name, ns, run);

		if (len > 0)
			hl_req_body(r, BODY_JSON, body, len);
	}
	r->arg = d;
	r->iarg = i;
	r->done = created;
	r->retries = o->retries;
	d->pods[i].state = P_SENT;
	d->pods[i].created = hl_now();
	if (client__submit(&x->c, r) < 0)
		d->pods[i].state = P_FAILED;
}

static void run_pod(struct density *d, int node, int i, int running);

static void patched(struct hl_req *r)
{
	struct density *d = r->arg;
	struct dpod *p;
	int i = (int)(r->iarg >> 1);

	if (r->cancelled || !d->pods)
		return;
	p = &d->pods[i];
	if (!(r->status >= 200 && r->status < 300)) {
		if (p->state == P_STARTING || p->state == P_PATCHING)
			p->state = P_FAILED;
	} else if (p->state == P_STARTING && !d->x->stopping) {
		/* the containers run: the status manager's second transition */
		run_pod(d, 0, i, 1);
	}
	if (d->phase == D_RUNNING && pods_settled(d))
		enter(d, D_LIST);
}

/*
 * The owning node's kubelet "starts" the pod, and its status manager
 * syncs pods/status at each transition: first Pending with the container
 * waiting in ContainerCreating and hostIP set, then Running and Ready.
 * Each sync is status_manager.go syncPod: a get of the pod from the API
 * server (not the informer: kubeClient.CoreV1().Pods().Get, in every
 * version from 1.32 to 1.36), then a strategic merge patch of its status.
 */
static void patch_pod(struct density *d, int node, int i, int running)
{
	const struct hl_opts *o = d->x->o;
	struct hl_req *r;
	char ts[48], ns[128], name[160], *body = NULL;
	int len;

	pod_id(d, i, ns, sizeof(ns), name, sizeof(name));
	r = hl_req_new("PATCH", "patch", "pods", "status", "/api/v1/namespaces/%s/pods/%s/status",
		       ns, name);
	if (!r) {
		d->pods[i].state = P_FAILED;
		return;
	}
	hl_timestamp(ts, sizeof(ts), 0);
	if (running)
		len = asprintf(&body,
			"{\"status\":{\"phase\":\"Running\",\"conditions\":["
			"{\"type\":\"ContainersReady\",\"status\":\"True\",\"lastTransitionTime\":\"%s\"},"
			"{\"type\":\"Ready\",\"status\":\"True\",\"lastTransitionTime\":\"%s\"}],"
			"\"containerStatuses\":[{\"name\":\"pause\",\"ready\":true,\"restartCount\":0,"
			"\"image\":\"registry.k8s.io/pause:3.9\",\"imageID\":\"\",\"started\":true,"
			"\"state\":{\"running\":{\"startedAt\":\"%s\"}}}]}}", ts, ts, ts);
	else
		len = asprintf(&body,
			"{\"status\":{\"phase\":\"Pending\",\"startTime\":\"%s\",\"hostIP\":\"10.%d.%d.%d\","
			"\"conditions\":[{\"type\":\"Initialized\",\"status\":\"True\",\"lastTransitionTime\":\"%s\"},"
			"{\"type\":\"Ready\",\"status\":\"False\",\"reason\":\"ContainersNotReady\",\"lastTransitionTime\":\"%s\"}],"
			"\"containerStatuses\":[{\"name\":\"pause\",\"ready\":false,\"restartCount\":0,"
			"\"image\":\"registry.k8s.io/pause:3.9\",\"imageID\":\"\",\"started\":false,"
			"\"state\":{\"waiting\":{\"reason\":\"ContainerCreating\"}}}]}}",
			ts, 64 + (node >> 16 & 63), node >> 8 & 255, node & 255, ts, ts);
	if (len > 0)
		hl_req_body(r, BODY_SMP, body, len);
	r->arg = d;
	r->iarg = (long)i << 1 | running;
	r->done = patched;
	r->retries = o->retries;
	if (client__submit(&d->x->c, r) < 0)
		d->pods[i].state = P_FAILED;
}

/* syncPod's get answered: patch; on an error (404 included) syncPod
 * returns without patching */
static void pod_got(struct hl_req *r)
{
	struct density *d = r->arg;
	int i = (int)(r->iarg >> 1 & 0x7fffffff), running = (int)(r->iarg & 1);
	int node = (int)(r->iarg >> 32);
	struct dpod *p;

	if (r->cancelled || !d->pods)
		return;
	p = &d->pods[i];
	if (r->status >= 200 && r->status < 300 && !d->x->stopping) {
		patch_pod(d, node, i, running);
		return;
	}
	if (p->state == P_STARTING || p->state == P_PATCHING)
		p->state = P_FAILED;
	if (d->phase == D_RUNNING && pods_settled(d))
		enter(d, D_LIST);
}

static void run_pod(struct density *d, int node, int i, int running)
{
	struct hl_req *r;
	char ns[128], name[160];

	pod_id(d, i, ns, sizeof(ns), name, sizeof(name));
	d->pods[i].state = running ? P_PATCHING : P_STARTING;
	r = hl_req_new("GET", "get", "pods", "", "/api/v1/namespaces/%s/pods/%s", ns, name);
	if (!r) {
		d->pods[i].state = P_FAILED;
		return;
	}
	r->arg = d;
	r->iarg = (long)node << 32 | (long)i << 1 | running;
	r->done = pod_got;
	r->retries = d->x->o->retries;
	if (client__submit(&d->x->c, r) < 0)
		d->pods[i].state = P_FAILED;
}

/*
 * The kubelet confirms a graceful deletion once the containers are gone:
 * one syncPod again, a get of the pod, a patch of its terminal status,
 * then (canBeDeleted) a delete with gracePeriodSeconds=0 (the kubelet adds
 * a UID precondition, which hollowload leaves out).
 */
static void kubelet_delete_send(struct density *d, int i)
{
	char ns[128], name[160];
	struct hl_req *r;

	pod_id(d, i, ns, sizeof(ns), name, sizeof(name));
	r = hl_req_new("DELETE", "delete", "pods", "", "/api/v1/namespaces/%s/pods/%s?gracePeriodSeconds=0",
		       ns, name);
	if (!r) {
		d->pods[i].kubelet_deleted = 0;
		return;
	}
	r->retries = d->x->o->retries;
	if (client__submit(&d->x->c, r) < 0)
		d->pods[i].kubelet_deleted = 0;
}

static void kubelet_delete_patched(struct hl_req *r)
{
	struct density *d = r->arg;

	if (r->cancelled || !d->pods || d->x->stopping)
		return;
	kubelet_delete_send(d, (int)r->iarg);
}

static void kubelet_delete_got(struct hl_req *r)
{
	struct density *d = r->arg;
	int i = (int)r->iarg;
	char ts[48], ns[128], name[160], *body = NULL;
	struct hl_req *p;
	int len;

	if (r->cancelled || !d->pods || d->x->stopping)
		return;
	if (!(r->status >= 200 && r->status < 300)) {
		d->pods[i].kubelet_deleted = r->status == 404;   /* gone already */
		return;
	}
	pod_id(d, i, ns, sizeof(ns), name, sizeof(name));
	p = hl_req_new("PATCH", "patch", "pods", "status", "/api/v1/namespaces/%s/pods/%s/status", ns, name);
	if (!p) {
		d->pods[i].kubelet_deleted = 0;
		return;
	}
	hl_timestamp(ts, sizeof(ts), 0);
	len = asprintf(&body,
		"{\"status\":{\"phase\":\"Succeeded\",\"conditions\":["
		"{\"type\":\"Ready\",\"status\":\"False\",\"reason\":\"PodCompleted\",\"lastTransitionTime\":\"%s\"}],"
		"\"containerStatuses\":[{\"name\":\"pause\",\"ready\":false,\"restartCount\":0,"
		"\"image\":\"registry.k8s.io/pause:3.9\",\"imageID\":\"\",\"started\":false,"
		"\"state\":{\"terminated\":{\"exitCode\":0,\"reason\":\"Completed\",\"finishedAt\":\"%s\"}}}]}}",
		ts, ts);
	if (len > 0)
		hl_req_body(p, BODY_SMP, body, len);
	p->arg = d;
	p->iarg = i;
	p->done = kubelet_delete_patched;
	p->retries = d->x->o->retries;
	if (client__submit(&d->x->c, p) < 0)
		d->pods[i].kubelet_deleted = 0;
}

static void kubelet_delete(struct density *d, int i)
{
	char ns[128], name[160];
	struct hl_req *r;

	pod_id(d, i, ns, sizeof(ns), name, sizeof(name));
	r = hl_req_new("GET", "get", "pods", "", "/api/v1/namespaces/%s/pods/%s", ns, name);
	if (!r)
		return;
	d->pods[i].kubelet_deleted = 1;
	r->arg = d;
	r->iarg = i;
	r->done = kubelet_delete_got;
	r->retries = d->x->o->retries;
	if (client__submit(&d->x->c, r) < 0)
		d->pods[i].kubelet_deleted = 0;
}

void density__on_pod(struct hl_ctx *x, struct hnode *n, const struct watch_event *ev)
{
	struct density *d = x->d;
	size_t plen;
	char *end;
	long i;
	struct dpod *p;

	if (!d || !d->pods || x->stopping)
		return;
	if (d->names) {
		plen = strlen(d->rs);
		if (strncmp(ev->obj.name, d->rs, plen) || ev->obj.name[plen] != '-')
			return;   /* not a pod of this run's ReplicaSets */
		i = rs_pod(d, ev->obj.namespace, ev->obj.name, strcmp(ev->type, "DELETED") != 0);
		if (i < 0)
			return;
	} else {
		plen = strlen(d->prefix);
		if (strncmp(ev->obj.name, d->prefix, plen))
			return;   /* not a pod of this run */
		i = strtol(ev->obj.name + plen, &end, 10);
		if (*end || i < 0 || i >= d->next_pod)
			return;
	}
	p = &d->pods[i];
	if (!strcmp(ev->type, "DELETED")) {
		p->state = P_DELETED;
		return;
	}
	if (ev->obj.deleting) {
		if (!p->kubelet_deleted)
			kubelet_delete(d, (int)i);
		return;
	}
	if (!strcmp(ev->obj.phase, "Running")) {
		if (p->state < P_RUNNING || p->state == P_FAILED) {
			if (p->state == P_FAILED)
				x->st.pods_created += !p->created_ok;   /* it exists after all */
			p->created_ok = 1;
			p->state = P_RUNNING;
			x->st.pods_running++;
			samples__add(&x->st.startup, (hl_now() - p->created) * 1e3);
		}
		if (d->phase == D_RUNNING && pods_settled(d))
			enter(d, D_LIST);
		return;
	}
	if (p->state == P_SENT || p->state == P_CREATED)
		run_pod(d, n->idx, (int)i, 0);
}

/* ---- with a controller-manager: ReplicaSets, and binding their pods ------- */

static void sched_watch_start(struct density *d);

static void sched_event(const struct watch_event *ev, void *arg)
{
	struct density *d = arg;
	size_t plen = strlen(d->rs);
	int i;

	if (ev->obj.rv[0])
		snprintf(d->sched_rv, sizeof(d->sched_rv), "%s", ev->obj.rv);
	if (!strcmp(ev->type, "ERROR")) {
		if (ev->obj.code == 410)
			snprintf(d->sched_rv, sizeof(d->sched_rv), "0");   /* start over: ADDED for all */
		return;
	}
	if (strcmp(ev->type, "ADDED") && strcmp(ev->type, "MODIFIED"))
		return;
	if (ev->obj.node[0] || ev->obj.deleting || strncmp(ev->obj.name, d->rs, plen))
		return;
	i = rs_pod(d, ev->obj.namespace, ev->obj.name, 1);
	if (i >= 0 && !d->pods[i].bound && !d->x->stopping)
		bind_pod(d, i);
}

static void sched_open(struct hl_req *r)
{
	struct density *d = r->arg;

	watch__reset(&d->swp);
	d->swp.protobuf = r->resp_protobuf;
}

static int sched_data(struct hl_req *r, const char *data, size_t len)
{
	struct density *d = r->arg;

	return watch__feed(&d->swp, data, len, sched_event, d);
}

static void sched_done(struct hl_req *r)
{
	struct density *d = r->arg;

	d->sched_watch = NULL;
	if (r->cancelled || d->x->stopping || d->phase >= D_DELETE)
		return;
	if (r->status != 200)
		snprintf(d->sched_rv, sizeof(d->sched_rv), "0");
	sched__add(&d->x->s, &d->sched_t, hl_now() + (r->status == 200 ? 0.05 : 1.0));
}

static void on_sched_timer(struct hl_timer *t)
{
	struct density *d = container_of(t, struct density, sched_t);

	if (!d->sched_watch && !d->x->stopping)
		sched_watch_start(d);
}

/* the run's pods no node has: resourceVersion=0 gives ADDED for those
 * already there, then each new one */
static void sched_watch_start(struct density *d)
{
	struct hl_req *r = hl_req_new("GET", "watch", "pods", "",
		"/api/v1/pods?labelSelector=run%%3D%s&fieldSelector=spec.nodeName%%3D&watch=true"
		"&resourceVersion=%s&allowWatchBookmarks=true&timeoutSeconds=%ld", d->x->o->run_id,
		d->sched_rv[0] ? d->sched_rv : "0", (long)d->x->o->watch_timeout);

	if (!r)
		return;
	r->stream = 1;
	r->on_open = sched_open;
	r->on_data = sched_data;
	r->arg = d;
	r->done = sched_done;
	if (client__submit(&d->x->c, r) == 0)
		d->sched_watch = r;
}

static void rs_created(struct hl_req *r)
{
	if (r->cancelled)
		return;
	if (!(r->status >= 200 && r->status < 300) && r->status != 409)
		hl_debug("density: ReplicaSet in namespace %ld: HTTP %ld", r->iarg, r->status);
}

static void create_replicasets(struct density *d)
{
	struct hl_ctx *x = d->x;
	const struct hl_opts *o = x->o;
	char ns[128], *body;

	for (int k = 0; k < o->namespaces; k++) {
		int replicas = o->pods / o->namespaces + (k < o->pods % o->namespaces);
		struct hl_req *r = hl_req_new("POST", "create", "replicasets", "",
					      "/apis/apps/v1/namespaces/%s/replicasets",
					      ns_name(x, k, ns, sizeof(ns)));
		int len;

		if (!r)
			continue;
		/* JSON: the stand-in server has no protobuf for apps/v1 */
		body = NULL;
		len = asprintf(&body,
			"{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",\"metadata\":{\"name\":\"%s\","
			"\"namespace\":\"%s\",\"labels\":{\"app\":\"hollowload\",\"run\":\"%s\"}},"
			"\"spec\":{\"replicas\":%d,\"selector\":{\"matchLabels\":{\"run\":\"%s\"}},"
			"\"template\":{\"metadata\":{\"labels\":{\"app\":\"hollowload\",\"run\":\"%s\"}},"
			"\"spec\":{\"containers\":[{\"name\":\"pause\",\"image\":\"registry.k8s.io/pause:3.9\"}]}}}}",
			d->rs, ns, o->run_id, replicas, o->run_id, o->run_id);
		if (len > 0)
			hl_req_body(r, BODY_JSON, body, len);
		r->arg = d;
		r->iarg = k;
		r->done = rs_created;
		r->retries = o->retries;
		d->rs_sent[k] = hl_now();
		client__submit(&x->c, r);
	}
}

static void rs_deleted(struct hl_req *r)
{
	struct density *d = r->arg;

	if (--d->rs_left <= 0 && !r->cancelled)
		enter(d, D_DONE);
}

/* deleting a ReplicaSet: the garbage collector deletes its pods (gracefully:
 * the hollow kubelets confirm each one) */
static void delete_replicasets(struct density *d)
{
	struct hl_ctx *x = d->x;
	char ns[128];

	d->rs_left = x->o->namespaces;
	for (int k = 0; k < x->o->namespaces; k++) {
		struct hl_req *r = hl_req_new("DELETE", "delete", "replicasets", "",
			"/apis/apps/v1/namespaces/%s/replicasets/%s?propagationPolicy=Background",
			ns_name(x, k, ns, sizeof(ns)), d->rs);

		if (!r) {
			d->rs_left--;
			continue;
		}
		r->arg = d;
		r->done = rs_deleted;
		r->retries = x->o->retries;
		if (client__submit(&x->c, r) < 0)
			d->rs_left--;
	}
	if (d->rs_left <= 0)
		enter(d, D_DONE);
}

/* the arrays of the ReplicaSet mode */
static int rs_mode(struct density *d)
{
	const struct hl_opts *o = d->x->o;

	d->nslots = 2 * (size_t)(o->pods ? o->pods : 1) + 1;
	d->names = calloc(o->pods ? o->pods : 1, sizeof(*d->names));
	d->slot = calloc(d->nslots, sizeof(*d->slot));
	d->rs_sent = calloc(o->namespaces, sizeof(*d->rs_sent));
	if (!d->names || !d->slot || !d->rs_sent) {
		free(d->names);
		free(d->slot);
		free(d->rs_sent);
		d->names = NULL;
		d->slot = NULL;
		d->rs_sent = NULL;
		return -1;
	}
	snprintf(d->rs, sizeof(d->rs), "%s-%s-rs", o->prefix, o->run_id);
	watch__init(&d->swp, 0);
	d->sched_t.fn = on_sched_timer;
	return 0;
}

/* ---- list and delete ---------------------------------------------------- */

static void listed(struct hl_req *r)
{
	struct density *d = r->arg;

	if (r->cancelled)
		return;
	if (--d->list_left == 0)
		enter(d, D_DELETE);
}

static void delete_more(struct density *d);

static void deleted(struct hl_req *r)
{
	struct density *d = r->arg;

	d->deletes_out--;
	if (r->cancelled || !d->pods)
		return;
	if ((r->status >= 200 && r->status < 300) || r->status == 404)
		d->pods[r->iarg].state = P_DELETED;
	delete_more(d);
}

static void delete_more(struct density *d)
{
	struct hl_ctx *x = d->x;
	char ns[128];

	while (d->deletes_out < DELETE_WINDOW && d->next_delete < d->next_pod) {
		int i = d->next_delete++;
		struct hl_req *r;

		if (!d->pods[i].created_ok || d->pods[i].state == P_DELETED)
			continue;
		ns_name(x, i % x->o->namespaces, ns, sizeof(ns));
		r = hl_req_new("DELETE", "delete", "pods", "",
			       "/api/v1/namespaces/%s/pods/%s%d?gracePeriodSeconds=0", ns, d->prefix, i);
		if (!r)
			continue;
		r->arg = d;
		r->iarg = i;
		r->done = deleted;
		r->retries = x->o->retries;
		if (client__submit(&x->c, r) == 0)
			d->deletes_out++;
	}
	if (d->deletes_out == 0 && d->next_delete >= d->next_pod && d->phase == D_DELETE)
		enter(d, D_DONE);
}

/* ---- which components run ------------------------------------------------ */

static void detected(struct hl_req *r)
{
	struct density *d = r->arg;

	if (r->cancelled)
		return;
	if (r->status >= 200 && r->status < 300) {
		if (r->iarg)
			d->controller_manager = 1;
		else
			d->scheduler = 1;
	}
	if (--d->detect_left == 0) {
		if (d->controller_manager && rs_mode(d) < 0)
			d->controller_manager = 0;
		hl_info("density: %s, %s", d->scheduler ? "kube-scheduler runs: it binds the pods"
			: "no kube-scheduler: hollowload binds the pods (pods/binding)",
			d->controller_manager ? "kube-controller-manager runs: a ReplicaSet per namespace "
			"makes the pods" : "no kube-controller-manager: pods created directly");
		enter(d, D_NAMESPACES);
	}
}

/* a component runs when its leader-election Lease exists in kube-system */
static void detect(struct density *d)
{
	static const char *const names[] = { "kube-scheduler", "kube-controller-manager" };

	d->detect_left = 2;
	for (int k = 0; k < 2; k++) {
		struct hl_req *r = hl_req_new("GET", "get", "leases", "",
			"/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/%s", names[k]);

		if (!r) {
			d->detect_left--;
			continue;
		}
		r->arg = d;
		r->iarg = k;
		r->done = detected;
		r->retries = d->x->o->retries;
		if (client__submit(&d->x->c, r) < 0)
			d->detect_left--;
	}
	if (d->detect_left <= 0)
		enter(d, D_NAMESPACES);
}

/* ---- phases ------------------------------------------------------------- */

static void enter(struct density *d, enum dphase p)
{
	struct hl_ctx *x = d->x;

	if (x->stopping || p <= d->phase)
		return;
	d->phase = p;
	d->phase_start = hl_now();
	sched__del(&x->s, &d->t);
	hl_debug("density: phase %d", p);
	switch (p) {
	case D_DETECT:
		detect(d);
		break;
	case D_NAMESPACES:
		create_namespaces(d);
		break;
	case D_PODS:
		if (d->names) {
			if (!d->scheduler)
				sched_watch_start(d);
			create_replicasets(d);
			enter(d, D_RUNNING);
			break;
		}
		rearm(d, 0);
		break;
	case D_RUNNING:
		if (pods_settled(d))
			enter(d, D_LIST);
		else
			rearm(d, x->o->density_timeout);
		break;
	case D_LIST: {
		char ns[128];

		for (int i = 0; i < d->next_pod; i++)
			if (d->pods[i].state != P_RUNNING && d->pods[i].created_ok)
				x->st.pods_not_running++;
		if (d->names)   /* pods no ReplicaSet made */
			x->st.pods_not_running += x->o->pods - d->next_pod;
		d->list_left = x->o->namespaces;
		for (int k = 0; k < x->o->namespaces; k++) {
			struct hl_req *r = hl_req_new("GET", "list", "pods", "",
						      "/api/v1/namespaces/%s/pods?labelSelector=run%%3D%s",
						      ns_name(x, k, ns, sizeof(ns)), x->o->run_id);

			if (!r) {
				d->list_left--;
				continue;
			}
			r->arg = d;
			r->done = listed;
			r->retries = x->o->retries;
			if (client__submit(&x->c, r) < 0)
				d->list_left--;
		}
		if (d->list_left <= 0)
			enter(d, D_DELETE);
		break;
	}
	case D_DELETE:
		if (d->names) {
			if (d->sched_watch)
				client__cancel(&x->c, d->sched_watch);
			delete_replicasets(d);
			break;
		}
		delete_more(d);
		break;
	default:
		break;
	}
}

static void on_timer(struct hl_timer *t)
{
	struct density *d = container_of(t, struct density, t);
	struct hl_ctx *x = d->x;
	double now = hl_now();

	if (x->stopping)
		return;
	switch (d->phase) {
	case D_WAIT_NODES:
		/* wait for every node's watch, or give up waiting after a while */
		if (x->nodes_ready >= x->nnodes || now - d->phase_start > x->o->density_timeout)
			enter(d, D_DETECT);
		else
			rearm(d, 0.05);
		break;
	case D_PODS: {
		/* as many pods as the rate allows since the phase began */
		long due = (long)((now - d->phase_start) * x->o->pod_rate) + 1;

		while (d->next_pod < x->o->pods && d->next_pod < due)
			create_pod(d, d->next_pod++);
		if (d->next_pod >= x->o->pods)
			enter(d, D_RUNNING);
		else
			rearm(d, 1.0 / x->o->pod_rate);
		break;
	}
	case D_RUNNING:
		enter(d, D_LIST);   /* density timeout: the rest never ran */
		break;
	default:
		break;
	}
}

int density__start(struct hl_ctx *x)
{
	struct density *d = calloc(1, sizeof(*d));

	if (!d)
		return -1;
	d->pods = calloc(x->o->pods ? x->o->pods : 1, sizeof(*d->pods));
	if (!d->pods) {
		free(d);
		return -1;
	}
	d->x = x;
	d->t.fn = on_timer;
	snprintf(d->prefix, sizeof(d->prefix), "%s-%s-pod-", x->o->prefix, x->o->run_id);
	d->phase = D_WAIT_NODES;
	d->phase_start = hl_now();
	x->d = d;
	rearm(d, 0.05);
	return 0;
}

int density__done(const struct hl_ctx *x)
{
	return !x->d || x->d->phase == D_DONE;
}

void density__stop(struct hl_ctx *x)
{
	struct density *d = x->d;

	if (!d)
		return;
	sched__del(&x->s, &d->t);
	sched__del(&x->s, &d->sched_t);
	if (d->sched_watch)
		client__cancel(&x->c, d->sched_watch);
	if (d->phase < D_LIST && d->names)   /* pods no ReplicaSet made */
		x->st.pods_not_running += x->o->pods - d->next_pod;
	if (d->phase < D_LIST)   /* stopped before the pods settled */
		for (int i = 0; i < d->next_pod; i++)
			if (d->pods[i].state != P_RUNNING && d->pods[i].created_ok)
				x->st.pods_not_running++;
}

void density__free(struct hl_ctx *x)
{
	if (!x->d)
		return;
	free(x->d->pods);
	free(x->d->names);
	free(x->d->slot);
	free(x->d->rs_sent);
	watch__free(&x->d->swp);
	free(x->d);
	x->d = NULL;
}
