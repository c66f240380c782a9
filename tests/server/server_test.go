package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

type testEnv struct {
	t   *testing.T
	url string
	api *apiServer
}

func newTestEnv(t *testing.T, opt func(*apiServer, *server)) *testEnv {
	st := newStore()
	api := &apiServer{store: st, delays: &delayTable{}, stop: make(chan struct{}), strictNamespaces: true,
		watchTimeout: 2 * time.Second, maxWatch: time.Minute}
	if err := seedObjects(st); err != nil {
		t.Fatal(err)
	}
	s := &server{api: api}
	s.inner = withTimeout(http.HandlerFunc(s.handle), 10*time.Second)
	if opt != nil {
		opt(api, s)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return &testEnv{t, ts.URL, api}
}

// do sends a request and returns the status and the body.
func (e *testEnv) do(method, path, ct, body string, hdr ...string) (int, []byte, http.Header) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.url+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if ct == "" {
		ct = "application/json"
	}
	req.Header.Set("Content-Type", ct)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b, resp.Header
}

func (e *testEnv) must(code int, method, path, ct, body string) object {
	e.t.Helper()
	got, b, _ := e.do(method, path, ct, body)
	if got != code {
		e.t.Fatalf("%s %s: status %d, want %d: %s", method, path, got, code, b)
	}
	var o object
	if err := json.Unmarshal(b, &o); err != nil {
		e.t.Fatalf("%s %s: %v: %s", method, path, err, b)
	}
	return o
}

func names(list object) []string {
	var out []string
	items, _ := list["items"].([]interface{})
	for _, it := range items {
		out = append(out, metadataOf(it.(map[string]interface{}))["name"].(string))
	}
	return out
}

func pod(name, node, phase string) string {
	spec := `{"containers":[{"name":"c","image":"pause"}]`
	if node != "" {
		spec = `{"nodeName":"` + node + `","containers":[{"name":"c","image":"pause"}]`
	}
	st := ""
	if phase != "" {
		st = `,"status":{"phase":"` + phase + `"}`
	}
	return `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"` + name + `","labels":{"app":"x"}},"spec":` + spec + `}` + st + `}`
}

func TestFieldSelectors(t *testing.T) {
	e := newTestEnv(t, nil)
	e.must(201, "POST", "/api/v1/namespaces/default/pods", "", pod("a", "n1", ""))
	e.must(201, "POST", "/api/v1/namespaces/default/pods", "", pod("b", "n2", "Running"))
	e.must(201, "POST", "/api/v1/namespaces/kube-system/pods", "", pod("c", "", ""))
	cases := []struct{ sel, want string }{
		{"spec.nodeName=n1", "a"},
		{"spec.nodeName==n2", "b"},
		{"spec.nodeName=", "c"},
		{"spec.nodeName!=n1", "b,c"},
		{"status.phase=Pending", "a,c"},
		{"status.phase!=Pending,spec.nodeName=n2", "b"},
		{"metadata.name=b", "b"},
		{"metadata.namespace=kube-system", "c"},
		{"metadata.namespace!=kube-system,metadata.name!=a", "b"},
	}
	for _, c := range cases {
		l := e.must(200, "GET", "/api/v1/pods?fieldSelector="+strings.ReplaceAll(c.sel, "=", "%3D"), "", "")
		if got := strings.Join(names(l), ","); got != c.want {
			t.Errorf("fieldSelector %q: %q, want %q", c.sel, got, c.want)
		}
		if rv, _ := metadataOf(l)["resourceVersion"].(string); rv == "" {
			t.Errorf("list without resourceVersion")
		}
	}
	l := e.must(200, "GET", "/api/v1/namespaces/default/pods?labelSelector=app%3Dx&fieldSelector=spec.nodeName%3Dn2", "", "")
	if got := strings.Join(names(l), ","); got != "b" {
		t.Errorf("label+field: %q", got)
	}
}

func TestNamespaceLifecycleAndMetadata(t *testing.T) {
	e := newTestEnv(t, nil)
	e.must(404, "POST", "/api/v1/namespaces/nope/pods", "", pod("a", "", ""))
	e.must(201, "POST", "/api/v1/namespaces", "", `{"metadata":{"name":"nope"}}`)
	p := e.must(201, "POST", "/api/v1/namespaces/nope/pods", "", pod("a", "", ""))
	md := metadataOf(p)
	if md["uid"] == "" || md["creationTimestamp"] == nil || md["generation"] != float64(1) || md["resourceVersion"] == "" {
		t.Errorf("metadata: %v", md)
	}
	if fieldValue(p, "status.phase") != "Pending" {
		t.Errorf("phase: %v", p["status"])
	}
	// a spec change bumps generation, a status change does not; an update
	// of the object keeps its status
	p = e.must(200, "PATCH", "/api/v1/namespaces/nope/pods/a", "application/merge-patch+json", `{"spec":{"activeDeadlineSeconds":5},"status":{"phase":"Failed"}}`)
	if metadataOf(p)["generation"] != float64(2) || fieldValue(p, "status.phase") != "Pending" {
		t.Errorf("after spec patch: %v", p)
	}
	p = e.must(200, "PATCH", "/api/v1/namespaces/nope/pods/a/status", "application/merge-patch+json", `{"status":{"phase":"Running"}}`)
	if metadataOf(p)["generation"] != float64(2) || fieldValue(p, "status.phase") != "Running" {
		t.Errorf("after status patch: %v", p)
	}
	e.must(201, "POST", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases", "",
		`{"metadata":{"name":"n1"},"spec":{"holderIdentity":"n1","leaseDurationSeconds":40}}`)
	l := e.must(200, "GET", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n1", "", "")
	l["spec"].(map[string]interface{})["renewTime"] = "2024-01-01T00:00:00.000000Z"
	b, _ := json.Marshal(l)
	e.must(200, "PUT", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n1", "", string(b))
	e.must(409, "PUT", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n1", "", string(b)) // stale resourceVersion
}

func TestStatusPatchKinds(t *testing.T) {
	e := newTestEnv(t, nil)
	e.must(201, "POST", "/api/v1/nodes", "", `{"metadata":{"name":"n1"},"status":{"conditions":[
		{"type":"Ready","status":"False","reason":"x"},{"type":"MemoryPressure","status":"False"}],
		"addresses":[{"type":"InternalIP","address":"10.0.0.1"}]}}`)
	// kubelet's strategic merge patch: merge conditions by type
	n := e.must(200, "PATCH", "/api/v1/nodes/n1/status", "application/strategic-merge-patch+json",
		`{"status":{"$setElementOrder/conditions":[{"type":"MemoryPressure"},{"type":"Ready"}],
		"conditions":[{"type":"Ready","status":"True","reason":null}]}}`)
	conds := n["status"].(map[string]interface{})["conditions"].([]interface{})
	if len(conds) != 2 || conds[0].(map[string]interface{})["type"] != "MemoryPressure" ||
		conds[1].(map[string]interface{})["status"] != "True" || conds[1].(map[string]interface{})["reason"] != nil {
		t.Errorf("strategic merge: %v", conds)
	}
	if _, ok := n["status"].(map[string]interface{})["$setElementOrder/conditions"]; ok {
		t.Errorf("directive kept: %v", n["status"])
	}
	// merge patch replaces lists
	n = e.must(200, "PATCH", "/api/v1/nodes/n1/status", "application/merge-patch+json",
		`{"status":{"conditions":[{"type":"Ready","status":"Unknown"}]}}`)
	if c := n["status"].(map[string]interface{})["conditions"].([]interface{}); len(c) != 1 {
		t.Errorf("merge patch: %v", c)
	}
	// JSON patch
	n = e.must(200, "PATCH", "/api/v1/nodes/n1/status", "application/json-patch+json",
		`[{"op":"test","path":"/status/conditions/0/type","value":"Ready"},
		  {"op":"add","path":"/status/conditions/-","value":{"type":"DiskPressure","status":"False"}},
		  {"op":"replace","path":"/status/addresses/0/address","value":"10.0.0.2"},
		  {"op":"add","path":"/metadata/labels","value":{"ignored":"on status"}}]`)
	st := n["status"].(map[string]interface{})
	if len(st["conditions"].([]interface{})) != 2 || fieldValue(st["addresses"].([]interface{})[0].(map[string]interface{}), "address") != "10.0.0.2" {
		t.Errorf("json patch: %v", st)
	}
	if metadataOf(n)["labels"] != nil {
		t.Errorf("status patch changed metadata: %v", metadataOf(n))
	}
	e.must(422, "PATCH", "/api/v1/nodes/n1/status", "application/json-patch+json", `[{"op":"test","path":"/status/conditions/0/type","value":"Nope"}]`)
	// PUT status
	n["status"] = map[string]interface{}{"phase": "x"}
	b, _ := json.Marshal(n)
	n = e.must(200, "PUT", "/api/v1/nodes/n1/status", "", string(b))
	if fieldValue(n, "status.phase") != "x" {
		t.Errorf("put status: %v", n)
	}
	// pod status, strategic merge of containerStatuses (replaced) and conditions
	e.must(201, "POST", "/api/v1/namespaces/default/pods", "", pod("p", "n1", ""))
	p := e.must(200, "PATCH", "/api/v1/namespaces/default/pods/p/status", "application/strategic-merge-patch+json",
		`{"status":{"phase":"Running","conditions":[{"type":"Ready","status":"True"}],"containerStatuses":[{"name":"c","ready":true}]}}`)
	if fieldValue(p, "status.phase") != "Running" {
		t.Errorf("pod status: %v", p["status"])
	}
}

type wev struct {
	Type   string `json:"type"`
	Object object `json:"object"`
}

func (e *testEnv) watch(path string) []wev {
	e.t.Helper()
	resp, err := http.Get(e.url + path)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		e.t.Fatalf("watch %s: %d %s", path, resp.StatusCode, b)
	}
	var out []wev
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var ev wev
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			e.t.Fatalf("watch event %q: %v", sc.Text(), err)
		}
		out = append(out, ev)
	}
	return out
}

func evs(l []wev) string {
	var s []string
	for _, ev := range l {
		s = append(s, ev.Type+":"+fieldValue(ev.Object, "metadata.name"))
	}
	return strings.Join(s, " ")
}

func TestWatchResourceVersion(t *testing.T) {
	e := newTestEnv(t, nil)
	l := e.must(200, "GET", "/api/v1/namespaces/default/pods", "", "")
	rv := metadataOf(l)["resourceVersion"].(string)
	e.must(201, "POST", "/api/v1/namespaces/default/pods", "", pod("a", "", ""))
	e.must(201, "POST", "/api/v1/namespaces/default/pods", "", pod("b", "n2", ""))
	e.must(201, "POST", "/api/v1/namespaces/default/configmaps", "", `{"metadata":{"name":"cm"}}`)
	e.must(201, "POST", "/api/v1/namespaces/default/pods/a/binding", "", `{"target":{"name":"n1"}}`)
	e.must(200, "PATCH", "/api/v1/namespaces/default/pods/b/status", "application/merge-patch+json", `{"status":{"phase":"Running"}}`)
	e.must(200, "DELETE", "/api/v1/namespaces/default/pods/b", "", "")

	if got := evs(e.watch("/api/v1/namespaces/default/pods?watch=true&timeoutSeconds=1&resourceVersion=" + rv)); got != "ADDED:a ADDED:b MODIFIED:a MODIFIED:b DELETED:b" {
		t.Errorf("replay: %s", got)
	}
	// a field selector turns the binding into ADDED for that node's watch
	if got := evs(e.watch("/api/v1/pods?watch=1&timeoutSeconds=1&fieldSelector=spec.nodeName%3Dn1&resourceVersion=" + rv)); got != "ADDED:a" {
		t.Errorf("nodeName watch: %s", got)
	}
	if got := evs(e.watch("/api/v1/pods?watch=1&timeoutSeconds=1&fieldSelector=spec.nodeName%3D&resourceVersion=" + rv)); got != "ADDED:a DELETED:a" {
		t.Errorf("unscheduled watch: %s", got)
	}
	if got := evs(e.watch("/api/v1/watch/namespaces/default/pods?timeoutSeconds=1")); got != "ADDED:a" {
		t.Errorf("no rv: %s", got)
	}
	// live events after the start
	done := make(chan []wev)
	go func() {
		done <- e.watch("/api/v1/watch/nodes?timeoutSeconds=1&resourceVersion=" + e.api.store.currentRV())
	}()
	time.Sleep(300 * time.Millisecond)
	e.must(201, "POST", "/api/v1/nodes", "", `{"metadata":{"name":"n9"}}`)
	if got := evs(<-done); got != "ADDED:n9" {
		t.Errorf("live: %s", got)
	}
}

func TestWatchExpired(t *testing.T) {
	old := historySize
	historySize = 4
	defer func() { historySize = old }()
	e := newTestEnv(t, nil)
	for _, n := range []string{"a", "b", "c", "d", "e", "f"} {
		e.must(201, "POST", "/api/v1/namespaces/default/configmaps", "", `{"metadata":{"name":"`+n+`"}}`)
	}
	got := e.watch("/api/v1/namespaces/default/configmaps?watch=1&timeoutSeconds=1&resourceVersion=2")
	if len(got) != 1 || got[0].Type != "ERROR" || got[0].Object["code"] != float64(410) || got[0].Object["reason"] != "Expired" {
		t.Fatalf("want one 410 ERROR event, got %v", got)
	}
	cur := toInt64(e.api.store.currentRV())
	got = e.watch("/api/v1/namespaces/default/configmaps?watch=1&timeoutSeconds=1&resourceVersion=" + itoa(cur-3))
	if evs(got) != "ADDED:d ADDED:e ADDED:f" {
		t.Fatalf("within the window: %s", evs(got))
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestAuthForbidThrottle(t *testing.T) {
	e := newTestEnv(t, func(a *apiServer, s *server) {
		s.gate = &gate{tokens: map[string]string{"sekret": "alice"}, forbid: map[string]bool{"secrets": true, "pods/status:patch": true}}
	})
	if c, _, _ := e.do("GET", "/api/v1/namespaces/default/pods", "", ""); c != 401 {
		t.Errorf("no token: %d", c)
	}
	if c, _, _ := e.do("GET", "/healthz", "", ""); c != 200 {
		t.Errorf("healthz without token: %d", c)
	}
	if c, _, _ := e.do("GET", "/api/v1/namespaces/default/pods", "", "", "Authorization", "Bearer sekret"); c != 200 {
		t.Errorf("token: %d", c)
	}
	c, b, _ := e.do("GET", "/api/v1/namespaces/default/secrets", "", "", "Authorization", "Bearer sekret")
	if c != 403 || !bytes.Contains(b, []byte(`User \"alice\" cannot list resource \"secrets\"`)) {
		t.Errorf("forbid: %d %s", c, b)
	}
	e2 := newTestEnv(t, func(a *apiServer, s *server) { s.gate = &gate{throttle: 1} })
	c, _, h := e2.do("GET", "/api/v1/namespaces/default/pods", "", "")
	if c != 429 || h.Get("Retry-After") != "1" {
		t.Errorf("throttle: %d %v", c, h)
	}
}

// sendInitialEvents=true (client-go's watch-list): the current objects as
// ADDED, then a BOOKMARK annotated k8s.io/initial-events-end at the
// state's resourceVersion; 422 without resourceVersionMatch=NotOlderThan,
// and with -no-watch-list.
func TestWatchSendInitialEvents(t *testing.T) {
	e := newTestEnv(t, nil)
	e.must(201, "POST", "/api/v1/namespaces/default/pods", "", pod("a", "n1", ""))
	e.must(201, "POST", "/api/v1/namespaces/default/pods", "", pod("b", "n2", ""))
	l := e.must(200, "GET", "/api/v1/namespaces/default/pods", "", "")
	rv := metadataOf(l)["resourceVersion"].(string)
	got := e.watch("/api/v1/namespaces/default/pods?watch=true&timeoutSeconds=1&sendInitialEvents=true" +
		"&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&resourceVersion=" + rv)
	if evs(got) != "ADDED:a ADDED:b BOOKMARK:" {
		t.Fatalf("watch-list: %s", evs(got))
	}
	md := metadataOf(got[2].Object)
	ann, _ := md["annotations"].(map[string]interface{})
	if md["resourceVersion"] != rv || ann["k8s.io/initial-events-end"] != "true" {
		t.Errorf("watch-list bookmark: %v", got[2].Object)
	}
	if code, b, _ := e.do("GET", "/api/v1/namespaces/default/pods?watch=true&sendInitialEvents=true", "", ""); code != 422 {
		t.Errorf("sendInitialEvents without resourceVersionMatch: %d %s", code, b)
	}
	off := newTestEnv(t, func(a *apiServer, _ *server) { a.noWatchList = true })
	if code, b, _ := off.do("GET", "/api/v1/pods?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan", "", ""); code != 422 ||
		!strings.Contains(string(b), "WatchList feature gate") {
		t.Errorf("-no-watch-list: %d %s", code, b)
	}
}
