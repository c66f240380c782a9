// SPDX-License-Identifier: MIT
/*
 * test_k8s_reqinfo: real kube-apiserver request forms -> the RequestInfo
 * kube-apiserver itself computes. Rows marked "rit" repeat a case of
 * k8s.io/apiserver/pkg/endpoints/request/requestinfo_test.go with the same
 * expected values (TestGetAPIRequestInfo, TestGetNonAPIRequestInfo,
 * TestSelectorParsing); the rest follow from requestinfo.go read line by line.
 */
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "check.h"
#include "k8s_reqinfo.h"

#define X SCOPE_NONE
#define C SCOPE_CLUSTER
#define N SCOPE_NAMESPACE
#define R SCOPE_RESOURCE

struct row {
	const char *method, *path, *query;
	const char *verb, *group, *version, *resource, *sub, *ns, *name;
	enum k8s_scope scope;
	int is_res, long_running;
};

static const struct row rows[] = {
	/* rit: resource paths */
	{ "GET", "/api/v1/namespaces", "", "list", "", "v1", "namespaces", "", "", "", C, 1, 0 },
	{ "GET", "/api/v1/namespaces/other", "", "get", "", "v1", "namespaces", "", "other", "other", R, 1, 0 },
	{ "GET", "/api/v1/namespaces/other/pods", "", "list", "", "v1", "pods", "", "other", "", N, 1, 0 },
	{ "GET", "/api/v1/namespaces/other/pods/foo", "", "get", "", "v1", "pods", "", "other", "foo", R, 1, 0 },
	{ "HEAD", "/api/v1/namespaces/other/pods/foo", "", "get", "", "v1", "pods", "", "other", "foo", R, 1, 0 },
	{ "GET", "/api/v1/pods", "", "list", "", "v1", "pods", "", "", "", C, 1, 0 },
	{ "HEAD", "/api/v1/pods", "", "list", "", "v1", "pods", "", "", "", C, 1, 0 },
	/* rit: special verbs */
	{ "GET", "/api/v1/proxy/namespaces/other/pods/foo", "", "proxy", "", "v1", "pods", "", "other", "foo", R, 1, 1 },
	{ "GET", "/api/v1/proxy/namespaces/other/pods/foo/subpath/not/a/subresource", "", "proxy", "", "v1", "pods", "", "other", "foo", R, 1, 1 },
	{ "GET", "/api/v1/watch/pods", "", "watch", "", "v1", "pods", "", "", "", C, 1, 1 },
	{ "GET", "/api/v1/pods", "watch=true", "watch", "", "v1", "pods", "", "", "", C, 1, 1 },
	{ "GET", "/api/v1/pods", "watch=false", "list", "", "v1", "pods", "", "", "", C, 1, 0 },
	{ "GET", "/api/v1/watch/namespaces/other/pods", "", "watch", "", "v1", "pods", "", "other", "", N, 1, 1 },
	{ "GET", "/api/v1/namespaces/other/pods", "watch=1", "watch", "", "v1", "pods", "", "other", "", N, 1, 1 },
	{ "GET", "/api/v1/namespaces/other/pods", "watch=0", "list", "", "v1", "pods", "", "other", "", N, 1, 0 },
	/* rit: subresources, and the namespace object's own subresources */
	{ "GET", "/api/v1/namespaces/other/pods/foo/status", "", "get", "", "v1", "pods", "status", "other", "foo", R, 1, 0 },
	{ "GET", "/api/v1/namespaces/other/pods/foo/proxy/subpath", "", "get", "", "v1", "pods", "proxy", "other", "foo", R, 1, 1 },
	{ "PUT", "/api/v1/namespaces/other/finalize", "", "update", "", "v1", "namespaces", "finalize", "other", "other", R, 1, 0 },
	{ "PUT", "/api/v1/namespaces/other/status", "", "update", "", "v1", "namespaces", "status", "other", "other", R, 1, 0 },
	/* rit: verbs */
	{ "PATCH", "/api/v1/namespaces/other/pods/foo", "", "patch", "", "v1", "pods", "", "other", "foo", R, 1, 0 },
	{ "DELETE", "/api/v1/namespaces/other/pods/foo", "", "delete", "", "v1", "pods", "", "other", "foo", R, 1, 0 },
	{ "POST", "/api/v1/namespaces/other/pods", "", "create", "", "v1", "pods", "", "other", "", R, 1, 0 },
	{ "DELETE", "/api/v1/nodes", "", "deletecollection", "", "v1", "nodes", "", "", "", C, 1, 0 },
	{ "DELETE", "/api/v1/namespaces", "", "deletecollection", "", "v1", "namespaces", "", "", "", C, 1, 0 },
	{ "DELETE", "/api/v1/namespaces/other/pods", "", "deletecollection", "", "v1", "pods", "", "other", "", N, 1, 0 },
	{ "DELETE", "/apis/extensions/v1/namespaces/other/pods", "", "deletecollection", "extensions", "v1", "pods", "", "other", "", N, 1, 0 },
	{ "POST", "/apis/extensions/v1/namespaces/other/pods", "", "create", "extensions", "v1", "pods", "", "other", "", R, 1, 0 },
	{ "POST", "/apis/extensions/v1beta3/namespaces/other/pods", "", "create", "extensions", "v1beta3", "pods", "", "other", "", R, 1, 0 },
	/* rit: TestGetNonAPIRequestInfo (resource ones) */
	{ "GET", "/api/version/resource", "", "list", "", "version", "resource", "", "", "", C, 1, 0 },
	{ "GET", "/apis/group/version/resource/name/subresource", "", "get", "group", "version", "resource", "subresource", "", "name", R, 1, 0 },
	{ "GET", "/api/version/resource/name/subresource", "", "get", "", "version", "resource", "subresource", "", "name", R, 1, 0 },
	{ "GET", "/apis/batch/v1/job", "", "list", "batch", "v1", "job", "", "", "", C, 1, 0 },
	{ "GET", "/apis/batch/v1/job/foo", "", "get", "batch", "v1", "job", "", "", "foo", R, 1, 0 },
	{ "GET", "/apis/batch/v1/job/foo/scale", "", "get", "batch", "v1", "job", "scale", "", "foo", R, 1, 0 },
	/* rit: TestSelectorParsing */
	{ "GET", "/apis/group/version/resource", "", "list", "group", "version", "resource", "", "", "", C, 1, 0 },
	{ "GET", "/apis/group/version/resource", "fieldSelector=metadata.name=name1", "list", "group", "version", "resource", "", "", "name1", R, 1, 0 },
	{ "GET", "/apis/group/version/resource", "watch=true&fieldSelector=metadata.name=name1", "watch", "group", "version", "resource", "", "", "name1", R, 1, 1 },
	{ "GET", "/apis/group/version/resource", "fieldSelector=foo=bar&labelSelector=baz=qux", "list", "group", "version", "resource", "", "", "", C, 1, 0 },
	{ "GET", "/apis/group/version/resource", "fieldSelector=metadata.name=name1,foo", "list", "group", "version", "resource", "", "", "", C, 1, 0 },
	{ "GET", "/apis/group/version/resource", "fieldSelector=metadata.name=name1,foo&watch=true", "watch", "group", "version", "resource", "", "", "", C, 1, 1 },
	{ "GET", "/apis/group/version/resource", "fieldSelector=metadata.name=name1,foo&watch=false", "list", "group", "version", "resource", "", "", "", C, 1, 0 },
	{ "DELETE", "/apis/group/version/resource", "fieldSelector=foo=bar&labelSelector=baz=qux", "deletecollection", "group", "version", "resource", "", "", "", C, 1, 0 },
	{ "GET", "/apis/group/version/resource", "fieldSelector=metadata.name=foo&fieldSelector=metadata.name=bar&labelSelector=foo=bar&labelSelector=foo=baz", "list", "group", "version", "resource", "", "", "foo", R, 1, 0 },
	{ "GET", "/apis/group/version/resource/name", "fieldSelector=foo=bar&labelSelector=foo=bar", "get", "group", "version", "resource", "", "", "name", R, 1, 0 },
	{ "GET", "/apis/group/version/watch/resource", "fieldSelector=metadata.name=foo&labelSelector=foo=bar", "watch", "group", "version", "resource", "", "", "", C, 1, 1 },
	{ "GET", "/apis/group/version/watch/resource/name", "fieldSelector=metadata.name=foo&labelSelector=foo=bar", "watch", "group", "version", "resource", "", "", "name", R, 1, 1 },

	/* Named groups: apps, batch, coordination, rbac, apiextensions, a CRD */
	{ "GET", "/apis/apps/v1/namespaces/default/deployments", "limit=500", "list", "apps", "v1", "deployments", "", "default", "", N, 1, 0 },
	{ "GET", "/apis/apps/v1/deployments", "", "list", "apps", "v1", "deployments", "", "", "", C, 1, 0 },
	{ "GET", "/apis/apps/v1/namespaces/default/deployments/web", "", "get", "apps", "v1", "deployments", "", "default", "web", R, 1, 0 },
	{ "POST", "/apis/apps/v1/namespaces/default/deployments", "fieldManager=kubectl-client-side-apply", "create", "apps", "v1", "deployments", "", "default", "", R, 1, 0 },
	{ "PUT", "/apis/apps/v1/namespaces/default/deployments/web/scale", "", "update", "apps", "v1", "deployments", "scale", "default", "web", R, 1, 0 },
	{ "PATCH", "/apis/apps/v1/namespaces/default/deployments/web/status", "", "patch", "apps", "v1", "deployments", "status", "default", "web", R, 1, 0 },
	{ "DELETE", "/apis/apps/v1/namespaces/default/deployments/web", "", "delete", "apps", "v1", "deployments", "", "default", "web", R, 1, 0 },
	{ "GET", "/apis/apps/v1/watch/namespaces/default/deployments", "", "watch", "apps", "v1", "deployments", "", "default", "", N, 1, 1 },
	{ "GET", "/apis/apps/v1/replicasets", "allowWatchBookmarks=true&resourceVersion=1234&timeout=9m21s&timeoutSeconds=561&watch=true", "watch", "apps", "v1", "replicasets", "", "", "", C, 1, 1 },
	{ "GET", "/apis/batch/v1/namespaces/ci/jobs", "", "list", "batch", "v1", "jobs", "", "ci", "", N, 1, 0 },
	{ "POST", "/apis/batch/v1/namespaces/ci/jobs", "", "create", "batch", "v1", "jobs", "", "ci", "", R, 1, 0 },
	{ "DELETE", "/apis/batch/v1/namespaces/ci/jobs", "labelSelector=app%3Dbuild", "deletecollection", "batch", "v1", "jobs", "", "ci", "", N, 1, 0 },
	{ "GET", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/node-1", "", "get", "coordination.k8s.io", "v1", "leases", "", "kube-node-lease", "node-1", R, 1, 0 },
	{ "PUT", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/node-1", "timeout=10s", "update", "coordination.k8s.io", "v1", "leases", "", "kube-node-lease", "node-1", R, 1, 0 },
	{ "GET", "/apis/rbac.authorization.k8s.io/v1/clusterroles", "", "list", "rbac.authorization.k8s.io", "v1", "clusterroles", "", "", "", C, 1, 0 },
	{ "GET", "/apis/rbac.authorization.k8s.io/v1/clusterroles/admin", "", "get", "rbac.authorization.k8s.io", "v1", "clusterroles", "", "", "admin", R, 1, 0 },
	{ "POST", "/apis/rbac.authorization.k8s.io/v1/namespaces/team-a/rolebindings", "", "create", "rbac.authorization.k8s.io", "v1", "rolebindings", "", "team-a", "", R, 1, 0 },
	{ "GET", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", "", "list", "apiextensions.k8s.io", "v1", "customresourcedefinitions", "", "", "", C, 1, 0 },
	{ "PUT", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/crontabs.stable.example.com/status", "", "update", "apiextensions.k8s.io", "v1", "customresourcedefinitions", "status", "", "crontabs.stable.example.com", R, 1, 0 },
	{ "GET", "/apis/stable.example.com/v1/namespaces/default/crontabs", "", "list", "stable.example.com", "v1", "crontabs", "", "default", "", N, 1, 0 },
	{ "GET", "/apis/stable.example.com/v1/namespaces/default/crontabs", "resourceVersion=123&watch=true", "watch", "stable.example.com", "v1", "crontabs", "", "default", "", N, 1, 1 },
	{ "PATCH", "/apis/stable.example.com/v1/namespaces/default/crontabs/my-cron", "", "patch", "stable.example.com", "v1", "crontabs", "", "default", "my-cron", R, 1, 0 },

	/* Cluster-scoped core objects */
	{ "GET", "/api/v1/nodes/node-1", "", "get", "", "v1", "nodes", "", "", "node-1", R, 1, 0 },
	{ "PATCH", "/api/v1/nodes/node-1/status", "", "patch", "", "v1", "nodes", "status", "", "node-1", R, 1, 0 },
	{ "GET", "/api/v1/nodes/node-1/proxy/metrics", "", "get", "", "v1", "nodes", "proxy", "", "node-1", R, 1, 1 },
	{ "GET", "/api/v1/watch/nodes/node-1", "", "watch", "", "v1", "nodes", "", "", "node-1", R, 1, 1 },
	{ "GET", "/api/v1/nodes", "fieldSelector=metadata.name%3Dnode-1&resourceVersion=0", "list", "", "v1", "nodes", "", "", "node-1", R, 1, 0 },
	{ "GET", "/api/v1/persistentvolumes", "", "list", "", "v1", "persistentvolumes", "", "", "", C, 1, 0 },
	{ "DELETE", "/api/v1/persistentvolumes/pv-1", "", "delete", "", "v1", "persistentvolumes", "", "", "pv-1", R, 1, 0 },
	{ "POST", "/api/v1/namespaces", "", "create", "", "v1", "namespaces", "", "", "", R, 1, 0 },
	{ "DELETE", "/api/v1/namespaces/team-a", "", "delete", "", "v1", "namespaces", "", "team-a", "team-a", R, 1, 0 },
	{ "GET", "/api/v1/namespaces/team-a/status", "", "get", "", "v1", "namespaces", "status", "team-a", "team-a", R, 1, 0 },

	/* Pod subresources */
	{ "POST", "/api/v1/namespaces/default/pods/web-0/binding", "", "create", "", "v1", "pods", "binding", "default", "web-0", R, 1, 0 },
	{ "GET", "/api/v1/namespaces/default/pods/web-0/log", "container=app&follow=true", "get", "", "v1", "pods", "log", "default", "web-0", R, 1, 1 },
	{ "POST", "/api/v1/namespaces/default/pods/web-0/exec", "command=ls&container=app&stdin=true&stdout=true", "create", "", "v1", "pods", "exec", "default", "web-0", R, 1, 1 },
	{ "GET", "/api/v1/namespaces/default/pods/web-0/exec", "command=sh&stdin=true&tty=true", "get", "", "v1", "pods", "exec", "default", "web-0", R, 1, 1 },
	{ "POST", "/api/v1/namespaces/default/pods/web-0/attach", "stdout=true", "create", "", "v1", "pods", "attach", "default", "web-0", R, 1, 1 },
	{ "POST", "/api/v1/namespaces/default/pods/web-0/portforward", "ports=8080", "create", "", "v1", "pods", "portforward", "default", "web-0", R, 1, 1 },
	{ "GET", "/api/v1/namespaces/default/services/web:80/proxy/healthz", "", "get", "", "v1", "services", "proxy", "default", "web:80", R, 1, 1 },
	{ "POST", "/api/v1/namespaces/default/pods/web-0/eviction", "", "create", "", "v1", "pods", "eviction", "default", "web-0", R, 1, 0 },
	{ "PATCH", "/api/v1/namespaces/default/pods/web-0/ephemeralcontainers", "", "patch", "", "v1", "pods", "ephemeralcontainers", "default", "web-0", R, 1, 0 },
	{ "POST", "/api/v1/namespaces/default/serviceaccounts/default/token", "", "create", "", "v1", "serviceaccounts", "token", "default", "default", R, 1, 0 },
	{ "PUT", "/api/v1/namespaces/default/pods/web-0/status", "", "update", "", "v1", "pods", "status", "default", "web-0", R, 1, 0 },
	{ "GET", "/api/v1/watch/namespaces/default/pods/web-0", "", "watch", "", "v1", "pods", "", "default", "web-0", R, 1, 1 },

	/* watch= and fieldSelector= as url.ParseQuery and the ListOptions conversion read them */
	{ "GET", "/api/v1/pods", "watch=TRUE", "watch", "", "v1", "pods", "", "", "", C, 1, 1 },
	{ "GET", "/api/v1/pods", "watch=False", "list", "", "v1", "pods", "", "", "", C, 1, 0 },
	{ "GET", "/api/v1/pods", "watch=", "watch", "", "v1", "pods", "", "", "", C, 1, 1 },
	{ "GET", "/api/v1/pods", "watch", "watch", "", "v1", "pods", "", "", "", C, 1, 1 },
	{ "GET", "/api/v1/pods", "watch=f", "watch", "", "v1", "pods", "", "", "", C, 1, 1 },
	{ "GET", "/api/v1/pods", "watch=%31", "watch", "", "v1", "pods", "", "", "", C, 1, 1 },
	{ "GET", "/api/v1/pods", "w%61tch=0", "list", "", "v1", "pods", "", "", "", C, 1, 0 },
	{ "GET", "/api/v1/pods", "watch=false&watch=true", "list", "", "v1", "pods", "", "", "", C, 1, 0 },
	{ "GET", "/api/v1/pods", "watch=%zz&watch=true", "watch", "", "v1", "pods", "", "", "", C, 1, 1 },
	{ "GET", "/api/v1/pods", "watch=1;x=2", "list", "", "v1", "pods", "", "", "", C, 1, 0 },
	{ "GET", "/api/v1/pods", "x=1&&watch=1&", "watch", "", "v1", "pods", "", "", "", C, 1, 1 },
	{ "GET", "/api/v1/pods", "watch=fals", "watch", "", "v1", "pods", "", "", "", C, 1, 1 },
	{ "GET", "/api/v1/namespaces/default/pods", "fieldSelector=metadata.name%3Dweb-0", "list", "", "v1", "pods", "", "default", "web-0", R, 1, 0 },
	{ "GET", "/api/v1/namespaces/default/pods", "fieldSelector=metadata.name==web-0", "list", "", "v1", "pods", "", "default", "web-0", R, 1, 0 },
	{ "GET", "/api/v1/namespaces/default/pods", "fieldSelector=metadata.name!=web-0", "list", "", "v1", "pods", "", "default", "", N, 1, 0 },
	{ "GET", "/api/v1/namespaces/default/pods", "fieldSelector=spec.nodeName%3Dnode-1%2Cmetadata.name%3Dweb-0", "list", "", "v1", "pods", "", "default", "web-0", R, 1, 0 },
	{ "GET", "/api/v1/namespaces/default/pods", "fieldSelector=metadata.name=b,metadata.name=a", "list", "", "v1", "pods", "", "default", "a", R, 1, 0 },
	{ "GET", "/api/v1/namespaces/default/pods", "fieldSelector=metadata.name=web-0&limit=abc", "list", "", "v1", "pods", "", "default", "", N, 1, 0 },
	{ "GET", "/api/v1/namespaces/default/pods", "fieldSelector=metadata.name=web-0&timeoutSeconds=", "list", "", "v1", "pods", "", "default", "", N, 1, 0 },
	{ "GET", "/api/v1/namespaces/default/pods", "fieldSelector=metadata.name=web-0&limit=%2B500", "list", "", "v1", "pods", "", "default", "web-0", R, 1, 0 },
	{ "GET", "/api/v1/namespaces/default/pods", "fieldSelector=metadata.name=a%2Fb", "list", "", "v1", "pods", "", "default", "", N, 1, 0 },
	{ "GET", "/api/v1/namespaces/default/pods", "fieldSelector=metadata.name=..", "list", "", "v1", "pods", "", "default", "", N, 1, 0 },
	{ "GET", "/api/v1/namespaces/default/pods", "fieldSelector=metadata.name=a\\,b", "list", "", "v1", "pods", "", "default", "a,b", R, 1, 0 },
	{ "GET", "/api/v1/namespaces/default/pods", "fieldSelector=metadata.name=a\\", "list", "", "v1", "pods", "", "default", "", N, 1, 0 },
	{ "GET", "/api/v1/namespaces/default/pods", "fieldSelector=metadata.name=a=b", "list", "", "v1", "pods", "", "default", "", N, 1, 0 },
	{ "DELETE", "/api/v1/namespaces/default/pods", "fieldSelector=metadata.name=web-0", "deletecollection", "", "v1", "pods", "", "default", "", N, 1, 0 },

	/* Non-resource paths and discovery: the lower-case method, no resource */
	{ "GET", "/healthz", "", "get", "", "", "", "", "", "", X, 0, 0 },
	{ "GET", "/healthz/etcd", "", "get", "", "", "", "", "", "", X, 0, 0 },
	{ "GET", "/livez", "verbose", "get", "", "", "", "", "", "", X, 0, 0 },
	{ "GET", "/readyz", "", "get", "", "", "", "", "", "", X, 0, 0 },
	{ "GET", "/metrics", "", "get", "", "", "", "", "", "", X, 0, 0 },
	{ "GET", "/version", "", "get", "", "", "", "", "", "", X, 0, 0 },
	{ "GET", "/openapi/v2", "", "get", "", "", "", "", "", "", X, 0, 0 },
	{ "GET", "/openapi/v3", "", "get", "", "", "", "", "", "", X, 0, 0 },
	{ "GET", "/openapi/v3/apis/apps/v1", "hash=ABC", "get", "", "", "", "", "", "", X, 0, 0 },
	{ "GET", "/api", "", "get", "", "", "", "", "", "", X, 0, 0 },           /* rit */
	{ "GET", "/apis", "", "get", "", "", "", "", "", "", X, 0, 0 },
	{ "GET", "/api/v1", "", "get", "", "", "", "", "", "", X, 0, 0 },
	{ "GET", "/apis/apps", "", "get", "", "", "", "", "", "", X, 0, 0 },
	{ "GET", "/apis/apps/v1", "", "get", "", "", "", "", "", "", X, 0, 0 },
	{ "GET", "/apis/extensions/v1beta1/", "", "get", "", "", "", "", "", "", X, 0, 0 }, /* rit */
	{ "GET", "/api/version", "", "get", "", "", "", "", "", "", X, 0, 0 },   /* rit */
	{ "GET", "/not-api/version/resource", "", "get", "", "", "", "", "", "", X, 0, 0 }, /* rit */
	{ "GET", "/apis/version/resource", "", "get", "", "", "", "", "", "", X, 0, 0 },  /* rit: missing api group */
	{ "POST", "/healthz", "", "post", "", "", "", "", "", "", X, 0, 0 },
	{ "OPTIONS", "/healthz", "", "options", "", "", "", "", "", "", X, 0, 0 },
	{ "GET", "/debug/pprof/profile", "seconds=30", "get", "", "", "", "", "", "", X, 0, 1 },

	/* Odd input: what requestinfo.go does with it, step by step */
	{ "GET", "", "", "get", "", "", "", "", "", "", X, 0, 0 },               /* rit */
	{ "GET", "/", "", "get", "", "", "", "", "", "", X, 0, 0 },              /* rit */
	{ "GET", "//api//v1", "", "list", "", "", "v1", "", "", "", C, 1, 0 },   /* split keeps the empty segment: version "" */
	{ "GET", "/api/v1/pods/", "", "list", "", "v1", "pods", "", "", "", C, 1, 0 },
	{ "GET", "/api/v1/namespaces/default/pods//", "", "list", "", "v1", "pods", "", "default", "", N, 1, 0 },
	{ "GET", "/api/v1/namespaces//pods", "", "list", "", "v1", "pods", "", "", "", C, 1, 0 },
	{ "GET", "/api/v1/namespaces/default/pods//web", "", "list", "", "v1", "pods", "web", "default", "", N, 1, 0 },
	{ "GET", "/api/v1/watch", "", "get", "", "v1", "", "", "", "", C, 1, 0 }, /* kube-apiserver: error, 500 */
	{ "OPTIONS", "/api/v1/pods", "", "", "", "v1", "pods", "", "", "", C, 1, 0 },
	{ "get", "/api/v1/pods", "", "", "", "v1", "pods", "", "", "", C, 1, 0 },
	{ "GET", "/api/v1/namesp", "", "list", "", "v1", "namesp", "", "", "", C, 1, 0 },        /* truncated */
	{ "GET", "/apis/apps/v1/namespaces/def", "", "get", "apps", "v1", "namespaces", "", "def", "def", R, 1, 0 }, /* truncated */
	{ "GET", "/api/v1/namespaces/default/pods", "fieldSelector=metadata.name%3Dweb-", "list", "", "v1", "pods", "", "default", "web-", R, 1, 0 },
	{ "GET", "/api/v1/namespaces/default/pods", "limit=500&watch=tr%", "list", "", "v1", "pods", "", "default", "", N, 1, 0 }, /* cut escape */
};

static void check_row(const struct row *w)
{
	struct k8s_reqinfo ri;
	int before = check_failed;

	k8s_reqinfo__parse(w->method, w->path, w->query, &ri);
	CHECK_STR(ri.verb, w->verb);
	CHECK_STR(ri.api_group, w->group);
	CHECK_STR(ri.api_version, w->version);
	CHECK_STR(ri.resource, w->resource);
	CHECK_STR(ri.subresource, w->sub);
	CHECK_STR(ri.namespace, w->ns);
	CHECK_STR(ri.name, w->name);
	CHECK_INT(ri.scope, w->scope);
	CHECK_INT(ri.is_resource, w->is_res);
	CHECK_INT(ri.long_running, w->long_running);
	if (check_failed != before)
		fprintf(stderr, "  ... in row: %s %s ? %s\n", w->method, w->path, w->query);
}

static void test_prefix(void)
{
	struct k8s_reqinfo ri;

	k8s_reqinfo__parse("GET", "/apis/apps/v1/deployments", NULL, &ri);
	CHECK_STR(ri.api_prefix, "apis");
	k8s_reqinfo__parse("GET", "/api/v1/pods", NULL, &ri);
	CHECK_STR(ri.api_prefix, "api");
	k8s_reqinfo__parse("GET", "/healthz", NULL, &ri);
	CHECK_STR(ri.api_prefix, "");
}

static void test_null_and_cut(void)
{
	struct k8s_reqinfo ri;
	char path[1200], seg[400], ufield[80];
	int i;

	k8s_reqinfo__parse(NULL, NULL, NULL, &ri);
	CHECK_STR(ri.verb, "");
	CHECK_INT(ri.is_resource, 0);
	k8s_reqinfo__parse("GET", "/api/v1/pods", NULL, NULL); /* no crash */

	/* An absurdly long name is cut to the field; the parse is unchanged. */
	memset(seg, 'a', sizeof(seg) - 1);
	seg[sizeof(seg) - 1] = 0;
	snprintf(path, sizeof(path), "/api/v1/namespaces/%s/pods/%s/status", seg, seg);
	k8s_reqinfo__parse("PUT", path, "", &ri);
	CHECK_STR(ri.verb, "update");
	CHECK_STR(ri.resource, "pods");
	CHECK_STR(ri.subresource, "status");
	CHECK_INT(strlen(ri.name), REQINFO_STR - 1);
	CHECK_INT(strlen(ri.namespace), REQINFO_STR - 1);
	CHECK_INT(ri.scope, SCOPE_RESOURCE);

	/* Many segments: only the first few matter. */
	strcpy(path, "/api/v1/namespaces/ns/pods/p/log");
	for (i = 0; i < 100; i++)
		strcat(path, "/x");
	k8s_reqinfo__parse("GET", path, "", &ri);
	CHECK_STR(ri.subresource, "log");
	CHECK_STR(ri.name, "p");

	/* A cut never splits a UTF-8 sequence: 62 'a' then "é" (2 bytes). */
	memset(ufield, 'a', 62);
	strcpy(ufield + 62, "\xc3\xa9");
	snprintf(path, sizeof(path), "/api/v1/namespaces/ns/pods/%s", ufield);
	k8s_reqinfo__parse("GET", path, "", &ri);
	CHECK_INT(strlen(ri.name), 62);

	/* A method too long for the field */
	k8s_reqinfo__parse("VERYLONGMETHODNAMEOFTHIRTYTWOCHARS", "/healthz", "", &ri);
	CHECK_INT(strlen(ri.verb), sizeof(ri.verb) - 1);

	CHECK_STR(k8s_scope_name(SCOPE_NONE), "");
	CHECK_STR(k8s_scope_name(SCOPE_CLUSTER), "cluster");
	CHECK_STR(k8s_scope_name(SCOPE_NAMESPACE), "namespace");
	CHECK_STR(k8s_scope_name(SCOPE_RESOURCE), "resource");
}

static void bench(void)
{
	const size_t nrows = sizeof(rows) / sizeof(rows[0]);
	const long iters = 1000000;
	struct k8s_reqinfo ri;
	struct timespec a, b;
	unsigned sink = 0;
	long i;

	clock_gettime(CLOCK_MONOTONIC, &a);
	for (i = 0; i < iters; i++) {
		const struct row *w = &rows[i % nrows];

		k8s_reqinfo__parse(w->method, w->path, w->query, &ri);
		sink += (unsigned)ri.scope;
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("k8s_reqinfo: %.0f ns per parse over %ld parses (%zu request forms, sink %u)\n",
	       ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / iters, iters, nrows, sink);
}

int main(void)
{
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		check_row(&rows[i]);
	printf("k8s_reqinfo: %zu request forms\n", sizeof(rows) / sizeof(rows[0]));
	test_prefix();
	test_null_and_cut();
	if (!getenv("CPPROF_NO_BENCH"))
		bench();
	return check_summary("test_k8s_reqinfo");
}
