package main

import (
	"fmt"
	"net/http"
	"runtime"
	"sort"
	"strings"
	"sync/atomic"
)

// serveNonResource answers /healthz, /livez, /readyz (and their /NAME
// subpaths), /version, /metrics, /openapi/v2, /openapi/v3; anything else 404.
func serveNonResource(w http.ResponseWriter, r *http.Request, a *apiServer) {
	p := r.URL.Path
	switch {
	case p == "/healthz" || p == "/livez" || p == "/readyz" ||
		strings.HasPrefix(p, "/healthz/") || strings.HasPrefix(p, "/livez/") || strings.HasPrefix(p, "/readyz/"):
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(200)
		w.Write([]byte("ok"))
	case p == "/version":
		writeJSON(w, 200, map[string]interface{}{
			"major": "1", "minor": "30", "gitVersion": "v1.30.0-cpprof-testserver",
			"gitCommit": "0000000000000000000000000000000000000000", "gitTreeState": "clean",
			"buildDate": "2024-01-01T00:00:00Z", "goVersion": runtime.Version(), "compiler": runtime.Compiler,
			"platform": runtime.GOOS + "/" + runtime.GOARCH,
		})
	case p == "/metrics":
		serveMetrics(w, a)
	case p == "/openapi/v2":
		writeJSON(w, 200, map[string]interface{}{
			"swagger": "2.0",
			"info":    map[string]interface{}{"title": "Kubernetes", "version": "v1.30.0"},
			"paths": map[string]interface{}{
				"/api/v1/namespaces/{namespace}/pods": map[string]interface{}{
					"get": map[string]interface{}{"operationId": "listCoreV1NamespacedPod",
						"x-kubernetes-action": "list"}}},
			"definitions": map[string]interface{}{
				"io.k8s.api.core.v1.Pod": map[string]interface{}{"type": "object",
					"x-kubernetes-group-version-kind": []interface{}{
						map[string]interface{}{"group": "", "kind": "Pod", "version": "v1"}}}},
		})
	case p == "/openapi/v3":
		writeJSON(w, 200, map[string]interface{}{"paths": map[string]interface{}{
			"api/v1": map[string]interface{}{"serverRelativeURL": "/openapi/v3/api/v1"}}})
	default:
		writeError(w, errPageNotFound())
	}
}

func serveMetrics(w http.ResponseWriter, a *apiServer) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	w.WriteHeader(200)
	var b strings.Builder
	b.WriteString("# HELP apiserver_request_total Counter of apiserver requests broken out for each verb, group, resource, subresource and HTTP response code.\n")
	b.WriteString("# TYPE apiserver_request_total counter\n")
	metricsMu.Lock()
	keys := make([]string, 0, len(requestCounts))
	for k := range requestCounts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "apiserver_request_total{%s} %d\n", k, requestCounts[k])
	}
	b.WriteString("# HELP apiserver_request_duration_seconds_sum Sum of response latency in seconds.\n")
	b.WriteString("# TYPE apiserver_request_duration_seconds_sum counter\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "apiserver_request_duration_seconds_sum{%s} %g\n", k, latencySum[k])
	}
	metricsMu.Unlock()
	b.WriteString("# HELP apiserver_current_inflight_requests Number of requests in flight.\n")
	b.WriteString("# TYPE apiserver_current_inflight_requests gauge\n")
	fmt.Fprintf(&b, "apiserver_current_inflight_requests %d\n", atomic.LoadInt64(&inflight))
	b.WriteString("# HELP apiserver_registered_watchers Number of currently open watches.\n")
	b.WriteString("# TYPE apiserver_registered_watchers gauge\n")
	fmt.Fprintf(&b, "apiserver_registered_watchers %d\n", atomic.LoadInt64(&watches))
	b.WriteString("# HELP apiserver_request_timeouts_total Requests answered 504 by the timeout filter.\n")
	b.WriteString("# TYPE apiserver_request_timeouts_total counter\n")
	fmt.Fprintf(&b, "apiserver_request_timeouts_total %d\n", atomic.LoadInt64(&timeouts))
	b.WriteString("# HELP etcd_object_counts_rv Current resourceVersion of the store (etcd: the newest revision this server has seen).\n")
	b.WriteString("# TYPE etcd_object_counts_rv gauge\n")
	fmt.Fprintf(&b, "etcd_object_counts_rv %s\n", a.store.currentRV())
	w.Write([]byte(b.String()))
}
