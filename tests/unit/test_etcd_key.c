// SPDX-License-Identifier: MIT
/*
 * test_etcd_key: keys as kube-apiserver writes them into etcd (default
 * prefix /registry, the legacy resource prefixes of
 * SpecialDefaultResourcePrefixes, groups stored under their name) and
 * etcd method names -> verb, group, resource, namespace, name, scope.
 */
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "etcd_key.h"

#define X SCOPE_NONE
#define C SCOPE_CLUSTER
#define N SCOPE_NAMESPACE
#define R SCOPE_RESOURCE

struct row {
	const char *prefix, *method, *key;
	size_t range_end_len;
	const char *verb, *group, *resource, *ns, *name;
	enum k8s_scope scope;
	int is_list, is_k8s;
};

#define KV "/etcdserverpb.KV/"

static const struct row rows[] = {
	/* core, namespaced: get and list (kube-apiserver's etcd3 store: GetList with prefix + "/") */
	{ NULL, KV "Range", "/registry/pods/default/nginx-1", 0, "range", "", "pods", "default", "nginx-1", R, 0, 1 },
	{ NULL, KV "Range", "/registry/pods/default/", 18, "range", "", "pods", "default", "", N, 1, 1 },
	{ NULL, KV "Range", "/registry/pods/", 15, "range", "", "pods", "", "", C, 1, 1 },
	{ NULL, KV "Range", "/registry/pods", 14, "range", "", "pods", "", "", C, 1, 1 },
	{ NULL, KV "Txn", "/registry/pods/kube-system/etcd-master", 0, "txn", "", "pods", "kube-system", "etcd-master", R, 0, 1 },
	{ NULL, KV "Put", "/registry/configmaps/ns1/cm", 0, "put", "", "configmaps", "ns1", "cm", R, 0, 1 },
	{ NULL, KV "DeleteRange", "/registry/secrets/ns1/s", 0, "delete_range", "", "secrets", "ns1", "s", R, 0, 1 },
	{ NULL, KV "DeleteRange", "/registry/secrets/ns1/", 12, "delete_range", "", "secrets", "ns1", "", N, 1, 1 },
	{ NULL, KV "Txn", "/registry/events/default/nginx.17a3b", 0, "txn", "", "events", "default", "nginx.17a3b", R, 0, 1 },
	{ NULL, KV "Txn", "/registry/serviceaccounts/default/default", 0, "txn", "", "serviceaccounts", "default", "default", R, 0, 1 },
	{ NULL, KV "Range", "/registry/persistentvolumeclaims/ns/data-0", 0, "range", "", "persistentvolumeclaims", "ns", "data-0", R, 0, 1 },
	{ NULL, KV "Range", "/registry/limitranges/ns/", 3, "range", "", "limitranges", "ns", "", N, 1, 1 },
	{ NULL, KV "Range", "/registry/resourcequotas/ns/q", 0, "range", "", "resourcequotas", "ns", "q", R, 0, 1 },
	{ NULL, KV "Range", "/registry/podtemplates/ns/t", 0, "range", "", "podtemplates", "ns", "t", R, 0, 1 },
	/* core, cluster-scoped */
	{ NULL, KV "Range", "/registry/namespaces/kube-system", 0, "range", "", "namespaces", "", "kube-system", R, 0, 1 },
	{ NULL, KV "Range", "/registry/namespaces/", 1, "range", "", "namespaces", "", "", C, 1, 1 },
	{ NULL, KV "Range", "/registry/persistentvolumes/pv-1", 0, "range", "", "persistentvolumes", "", "pv-1", R, 0, 1 },
	/* legacy prefixes (SpecialDefaultResourcePrefixes) */
	{ NULL, KV "Txn", "/registry/minions/node-17", 0, "txn", "", "nodes", "", "node-17", R, 0, 1 },
	{ NULL, KV "Range", "/registry/minions/", 1, "range", "", "nodes", "", "", C, 1, 1 },
	{ NULL, KV "Range", "/registry/services/specs/default/kubernetes", 0, "range", "", "services", "default", "kubernetes", R, 0, 1 },
	{ NULL, KV "Range", "/registry/services/specs/", 1, "range", "", "services", "", "", C, 1, 1 },
	{ NULL, KV "Range", "/registry/services/specs/default/", 1, "range", "", "services", "default", "", N, 1, 1 },
	{ NULL, KV "Txn", "/registry/services/endpoints/default/kubernetes", 0, "txn", "", "endpoints", "default", "kubernetes", R, 0, 1 },
	{ NULL, KV "Range", "/registry/services/endpoints/", 1, "range", "", "endpoints", "", "", C, 1, 1 },
	{ NULL, KV "Range", "/registry/controllers/ns/rc-1", 0, "range", "", "replicationcontrollers", "ns", "rc-1", R, 0, 1 },
	{ NULL, KV "Range", "/registry/ingress/ns/web", 0, "range", "", "ingresses", "ns", "web", R, 0, 1 },
	{ NULL, KV "Range", "/registry/podsecuritypolicy/restricted", 0, "range", "", "podsecuritypolicies", "", "restricted", R, 0, 1 },
	/* non-core groups stored under the bare resource name */
	{ NULL, KV "Txn", "/registry/deployments/default/web", 0, "txn", "", "deployments", "default", "web", R, 0, 1 },
	{ NULL, KV "Range", "/registry/replicasets/default/", 1, "range", "", "replicasets", "default", "", N, 1, 1 },
	{ NULL, KV "Txn", "/registry/leases/kube-node-lease/node-3", 0, "txn", "", "leases", "kube-node-lease", "node-3", R, 0, 1 },
	{ NULL, KV "Range", "/registry/clusterroles/admin", 0, "range", "", "clusterroles", "", "admin", R, 0, 1 },
	{ NULL, KV "Range", "/registry/clusterrolebindings/", 1, "range", "", "clusterrolebindings", "", "", C, 1, 1 },
	{ NULL, KV "Range", "/registry/priorityclasses/system-node-critical", 0, "range", "", "priorityclasses", "", "system-node-critical", R, 0, 1 },
	{ NULL, KV "Range", "/registry/flowschemas/exempt", 0, "range", "", "flowschemas", "", "exempt", R, 0, 1 },
	{ NULL, KV "Range", "/registry/jobs/batch-ns/j", 0, "range", "", "jobs", "batch-ns", "j", R, 0, 1 },
	/* groups stored under their name: apiextensions, apiregistration, custom resources */
	{ NULL, KV "Range", "/registry/apiextensions.k8s.io/customresourcedefinitions/widgets.example.com", 0, "range", "apiextensions.k8s.io", "customresourcedefinitions", "", "widgets.example.com", R, 0, 1 },
	{ NULL, KV "Range", "/registry/apiextensions.k8s.io/customresourcedefinitions/", 1, "range", "apiextensions.k8s.io", "customresourcedefinitions", "", "", C, 1, 1 },
	{ NULL, KV "Range", "/registry/apiregistration.k8s.io/apiservices/v1.apps", 0, "range", "apiregistration.k8s.io", "apiservices", "", "v1.apps", R, 0, 1 },
	{ NULL, KV "Txn", "/registry/example.com/widgets/ns1/w1", 0, "txn", "example.com", "widgets", "ns1", "w1", R, 0, 1 },
	{ NULL, KV "Range", "/registry/example.com/widgets/ns1/", 1, "range", "example.com", "widgets", "ns1", "", N, 1, 1 },
	{ NULL, KV "Range", "/registry/example.com/widgets/", 1, "range", "example.com", "widgets", "", "", C, 1, 1 },
	/* names with dots stay names */
	{ NULL, KV "Range", "/registry/configmaps/kube-system/extension-apiserver-authentication", 0, "range", "", "configmaps", "kube-system", "extension-apiserver-authentication", R, 0, 1 },
	/* apiserver internals */
	{ NULL, KV "Range", "/registry/health", 0, "range", "", "health", "", "", C, 0, 1 },
	{ NULL, KV "Range", "/registry/masterleases/10.0.0.1", 0, "range", "", "masterleases", "", "10.0.0.1", R, 0, 1 },
	{ NULL, KV "Range", "/registry/ranges/serviceips", 0, "range", "", "ranges", "", "serviceips", R, 0, 1 },
	{ NULL, KV "Txn", "compact_rev_key", 0, "txn", "", "", "", "", X, 0, 0 },
	/* other prefixes */
	{ "/k8s", KV "Range", "/k8s/pods/a/b", 0, "range", "", "pods", "a", "b", R, 0, 1 },
	{ "/k8s/", KV "Range", "/k8s/pods/a/", 1, "range", "", "pods", "a", "", N, 1, 1 },
	{ "/k8s", KV "Range", "/registry/pods/a/b", 0, "range", "", "", "", "", X, 0, 0 },
	{ "/cluster-a/registry", KV "Put", "/cluster-a/registry/secrets/n/s", 0, "put", "", "secrets", "n", "s", R, 0, 1 },
	/* not under the prefix, or not a whole path element */
	{ NULL, KV "Range", "/registryx/pods/a/b", 0, "range", "", "", "", "", X, 0, 0 },
	{ NULL, KV "Range", "/registry", 0, "range", "", "", "", "", X, 0, 0 },
	{ NULL, KV "Range", "/registry/", 1, "range", "", "", "", "", X, 1, 1 },
	{ NULL, KV "Range", "foo", 0, "range", "", "", "", "", X, 0, 0 },
	{ NULL, KV "Range", "", 0, "range", "", "", "", "", X, 0, 0 },
	{ NULL, KV "Range", "/registry//pods//ns//n", 0, "range", "", "pods", "ns", "n", R, 0, 1 },
	/* calls without a key */
	{ NULL, "/etcdserverpb.Lease/LeaseGrant", NULL, 0, "lease_grant", "", "", "", "", X, 0, 0 },
	{ NULL, "/etcdserverpb.Lease/LeaseRevoke", NULL, 0, "lease_revoke", "", "", "", "", X, 0, 0 },
	{ NULL, "/etcdserverpb.Lease/LeaseKeepAlive", NULL, 0, "lease_keepalive", "", "", "", "", X, 0, 0 },
	{ NULL, "/etcdserverpb.Lease/LeaseTimeToLive", NULL, 0, "lease_timetolive", "", "", "", "", X, 0, 0 },
	{ NULL, "/etcdserverpb.Watch/Watch", NULL, 0, "watch", "", "", "", "", X, 0, 0 },
	{ NULL, "/etcdserverpb.KV/Compact", NULL, 0, "compact", "", "", "", "", X, 0, 0 },
	{ NULL, "/etcdserverpb.Maintenance/Status", NULL, 0, "status", "", "", "", "", X, 0, 0 },
	{ NULL, "/etcdserverpb.Maintenance/HashKV", NULL, 0, "hash_kv", "", "", "", "", X, 0, 0 },
	{ NULL, "/etcdserverpb.Cluster/MemberList", NULL, 0, "member_list", "", "", "", "", X, 0, 0 },
	{ NULL, "/etcdserverpb.Auth/UserGet", NULL, 0, "user_get", "", "", "", "", X, 0, 0 },
	{ NULL, "/grpc.health.v1.Health/Check", NULL, 0, "check", "", "", "", "", X, 0, 0 },
	{ NULL, "", NULL, 0, "", "", "", "", "", X, 0, 0 },
	{ NULL, NULL, NULL, 0, "", "", "", "", "", X, 0, 0 },
	{ NULL, "/x/", NULL, 0, "", "", "", "", "", X, 0, 0 },
};

static void test_rows(void)
{
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		struct etcd_key k;

		etcd_key__parse(r->prefix, r->method, r->key, r->key ? strlen(r->key) : 0,
				r->range_end_len, &k);
		CHECK(strcmp(k.verb, r->verb) == 0, "%s: verb '%s', want '%s'", r->method ?: "(null)", k.verb, r->verb);
		CHECK(strcmp(k.group, r->group) == 0, "%s: group '%s', want '%s'", r->key, k.group, r->group);
		CHECK(strcmp(k.resource, r->resource) == 0, "%s: resource '%s', want '%s'", r->key, k.resource, r->resource);
		CHECK(strcmp(k.namespace, r->ns) == 0, "%s: namespace '%s', want '%s'", r->key, k.namespace, r->ns);
		CHECK(strcmp(k.name, r->name) == 0, "%s: name '%s', want '%s'", r->key, k.name, r->name);
		CHECK(k.scope == r->scope, "%s: scope %d, want %d", r->key, k.scope, r->scope);
		CHECK(k.is_list == r->is_list, "%s: is_list %d", r->key, k.is_list);
		CHECK(k.is_k8s == r->is_k8s, "%s: is_k8s %d", r->key, k.is_k8s);
	}
	CHECK(i >= 40, "only %zu rows", i);
}

/* A key cut by the BPF capture, NUL bytes, long segments cut on UTF-8 boundaries. */
static void test_edges(void)
{
	char key[300], *p;
	struct etcd_key k;

	etcd_key__parse(NULL, KV "Range", "/registry/pods/ns\0junk", 22, 0, &k);
	CHECK_STR(k.name, "ns");
	CHECK_INT(k.scope, R);

	/* cut in the middle of the namespace segment: still tagged */
	etcd_key__parse(NULL, KV "Range", "/registry/pods/kube-sys", 23, 0, &k);
	CHECK_STR(k.resource, "pods");

	strcpy(key, "/registry/pods/");
	p = key + strlen(key);
	for (int i = 0; i < 40; i++) { /* 40 x "é" = 80 bytes */
		*p++ = (char)0xc3;
		*p++ = (char)0xa9;
	}
	strcpy(p, "/name");
	etcd_key__parse(NULL, KV "Range", key, strlen(key), 0, &k);
	CHECK_INT(strlen(k.namespace), 62);
	CHECK(((unsigned char)k.namespace[61] & 0xc0) == 0x80, "cut inside a UTF-8 sequence");
	CHECK_STR(k.name, "name");

	char small[4];
	etcd_verb_from_method("/etcdserverpb.KV/DeleteRange", small, sizeof(small));
	CHECK_STR(small, "del");
	etcd_verb_from_method("/a/VeryLongMethodNameThatGoesOnAndOnAndOn", small, sizeof(small));
	CHECK(strlen(small) < sizeof(small), "unterminated");
}

int main(void)
{
	test_rows();
	test_edges();
	return check_summary("etcd_key");
}
