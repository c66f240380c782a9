/* SPDX-License-Identifier: MIT */
/*
 * k8s_reqinfo: kube-apiserver's own request classification, ported from
 * k8s.io/apiserver/pkg/endpoints/request/requestinfo.go
 * (RequestInfoFactory.NewRequestInfo): HTTP method + path + query ->
 * verb, API group, version, resource, subresource, namespace, name, scope.
 *
 * Non-resource paths (/healthz, /metrics, /version, /openapi/v2, ...) keep
 * the lower-case HTTP method as verb and an empty resource.
 */
#ifndef CPPROF_K8S_REQINFO_H
#define CPPROF_K8S_REQINFO_H

#include <stdbool.h>
#include <stddef.h>

#define REQINFO_STR 64

enum k8s_scope {
	SCOPE_NONE = 0,  /* non-resource request */
	SCOPE_CLUSTER,   /* collection of a cluster-scoped resource, or across all namespaces */
	SCOPE_NAMESPACE, /* collection inside one namespace */
	SCOPE_RESOURCE,  /* one named object, or a create (CleanScope in apiserver metrics.go) */
};

struct k8s_reqinfo {
	bool is_resource;
	bool long_running;                /* kube-apiserver's LongRunningFunc: verb watch or proxy; subresource attach, exec, proxy, log (followed or not), portforward; non-resource /debug/pprof/... */
	char verb[24];                    /* get, list, watch, create, update, patch, delete, deletecollection, proxy;
					   * "" for any other method on a resource path (as requestinfo.go);
					   * the lower-case method for non-resource requests */
	char api_prefix[16];              /* "api" or "apis" */
	char api_group[REQINFO_STR];      /* "" for core */
	char api_version[24];
	char namespace[REQINFO_STR];
	char resource[REQINFO_STR];
	char subresource[REQINFO_STR];
	char name[REQINFO_STR];
	enum k8s_scope scope;
};

/*
 * Classify one request. METHOD is "GET", "POST", ... (compared
 * case-sensitively, as Go's net/http does); PATH is the decoded URL path,
 * Go's url.URL.Path ("/api/v1/namespaces/default/pods"), not unescaped
 * again; QUERY is the raw query without '?' (url.URL.RawQuery), decoded
 * here as url.ParseQuery would. Any argument may be NULL. Never fails:
 * inputs that are not Kubernetes API paths come out as non-resource
 * requests. Overlong segments are cut to the field sizes above, never
 * inside a UTF-8 sequence. No allocation.
 *
 * For a GET of a collection, an exact fieldSelector=metadata.name=NAME
 * fills name (and so makes the scope "resource"), as current kube-apiserver
 * releases do, unless the ListOptions would not decode. That check covers
 * fieldSelector, limit and timeoutSeconds but not labelSelector syntax.
 */
void k8s_reqinfo__parse(const char *method, const char *path, const char *query,
			struct k8s_reqinfo *out);

/* "cluster", "namespace", "resource", or "" for SCOPE_NONE. */
const char *k8s_scope_name(enum k8s_scope s);

#endif
