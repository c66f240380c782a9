package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

type resourceType struct {
	kind    string
	cluster bool
}

// Known resources (kind, and whether cluster-scoped). Unknown resources are
// served too, as namespaced, with a kind guessed from the name.
var resourceTypes = map[string]resourceType{
	"pods": {"Pod", false}, "services": {"Service", false}, "configmaps": {"ConfigMap", false},
	"secrets": {"Secret", false}, "endpoints": {"Endpoints", false}, "events": {"Event", false},
	"serviceaccounts": {"ServiceAccount", false}, "persistentvolumeclaims": {"PersistentVolumeClaim", false},
	"replicationcontrollers": {"ReplicationController", false}, "limitranges": {"LimitRange", false},
	"resourcequotas": {"ResourceQuota", false}, "podtemplates": {"PodTemplate", false},
	"nodes": {"Node", true}, "namespaces": {"Namespace", true}, "persistentvolumes": {"PersistentVolume", true},
	"componentstatuses": {"ComponentStatus", true},
	"deployments":       {"Deployment", false}, "replicasets": {"ReplicaSet", false},
	"statefulsets": {"StatefulSet", false}, "daemonsets": {"DaemonSet", false},
	"controllerrevisions": {"ControllerRevision", false},
	"leases":              {"Lease", false}, "jobs": {"Job", false}, "cronjobs": {"CronJob", false},
	"endpointslices": {"EndpointSlice", false}, "poddisruptionbudgets": {"PodDisruptionBudget", false},
	"networkpolicies": {"NetworkPolicy", false}, "ingresses": {"Ingress", false},
	"roles": {"Role", false}, "rolebindings": {"RoleBinding", false},
	"clusterroles": {"ClusterRole", true}, "clusterrolebindings": {"ClusterRoleBinding", true},
	"storageclasses": {"StorageClass", true}, "csinodes": {"CSINode", true},
	"volumeattachments": {"VolumeAttachment", true}, "priorityclasses": {"PriorityClass", true},
	"customresourcedefinitions": {"CustomResourceDefinition", true}, "apiservices": {"APIService", true},
	"mutatingwebhookconfigurations":   {"MutatingWebhookConfiguration", true},
	"validatingwebhookconfigurations": {"ValidatingWebhookConfiguration", true},
	"certificatesigningrequests":      {"CertificateSigningRequest", true}, "runtimeclasses": {"RuntimeClass", true},
	"flowschemas": {"FlowSchema", true}, "prioritylevelconfigurations": {"PriorityLevelConfiguration", true},
}

func typeOf(resource string) resourceType {
	if t, ok := resourceTypes[resource]; ok {
		return t
	}
	k := strings.TrimSuffix(resource, "s")
	if k == "" {
		k = resource
	}
	return resourceType{strings.ToUpper(k[:1]) + k[1:], false}
}

type apiError struct {
	code    int
	reason  string
	message string
	details map[string]interface{}
}

func newStatus(code int, reason, message string, details map[string]interface{}) map[string]interface{} {
	st := map[string]interface{}{
		"kind": "Status", "apiVersion": "v1", "metadata": map[string]interface{}{},
		"status": "Failure", "message": message, "reason": reason, "code": code,
	}
	if details != nil {
		st["details"] = details
	}
	return st
}

func writeJSON(w http.ResponseWriter, code int, v interface{}) {
	b, err := json.Marshal(v)
	if err != nil {
		code = http.StatusInternalServerError
		b, _ = json.Marshal(newStatus(code, "InternalError", "Internal error occurred: "+err.Error(), nil))
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(code)
	w.Write(append(b, '\n'))
}

func writeError(w http.ResponseWriter, e *apiError) {
	writeJSON(w, e.code, newStatus(e.code, e.reason, e.message, e.details))
}

func errNotFound(info *requestInfo, name string) *apiError {
	return &apiError{404, "NotFound", fmt.Sprintf("%s %q not found", qualified(info), name),
		map[string]interface{}{"name": name, "group": info.Group, "kind": info.Resource}}
}

func errPageNotFound() *apiError {
	return &apiError{404, "NotFound", "the server could not find the requested resource", nil}
}

func errMethodNotAllowed(info *requestInfo) *apiError {
	return &apiError{405, "MethodNotAllowed", "the server does not allow this method on the requested resource", nil}
}

func errInvalid(info *requestInfo, name, msg string) *apiError {
	return &apiError{422, "Invalid", fmt.Sprintf("%s %q is invalid: %s", typeOf(info.Resource).kind, name, msg),
		map[string]interface{}{"name": name, "group": info.Group, "kind": typeOf(info.Resource).kind}}
}

func errBadRequest(msg string) *apiError {
	return &apiError{400, "BadRequest", msg, nil}
}

func errInternal(info *requestInfo, name string) *apiError {
	return &apiError{500, "InternalError",
		fmt.Sprintf("Internal error occurred: injected failure for %s %q (names starting with fail-500 always fail)", qualified(info), name),
		map[string]interface{}{"causes": []interface{}{map[string]interface{}{"message": "injected failure"}}}}
}

func qualified(info *requestInfo) string {
	if info.Group == "" {
		return info.Resource
	}
	return info.Resource + "." + info.Group
}

func apiVersionOf(info *requestInfo) string {
	if info.Group == "" {
		return info.Version
	}
	return info.Group + "/" + info.Version
}

type apiServer struct {
	store  backend
	delays *delayTable
	stop   chan struct{}
}

func isFail500(name string) bool { return strings.HasPrefix(name, "fail-500") }

// readBody reads a JSON object body; the error is a 422 Invalid.
func readObject(r *http.Request, info *requestInfo, name string) (object, *apiError) {
	b, err := io.ReadAll(io.LimitReader(r.Body, 3<<20))
	if err != nil {
		return nil, &apiError{500, "InternalError", "Internal error occurred: reading request body: " + err.Error(), nil}
	}
	var o object
	if err := json.Unmarshal(b, &o); err != nil || o == nil {
		msg := "request body is not a JSON object"
		if err != nil {
			msg = "request body is not valid JSON: " + err.Error()
		}
		return nil, errInvalid(info, name, msg)
	}
	return o, nil
}

// sleepCtx waits d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// serveResource answers a resource request (not watch: see serveWatch). It
// runs in the child goroutine of the timeout filter.
func (a *apiServer) serveResource(w http.ResponseWriter, r *http.Request, info *requestInfo) {
	sleepCtx(r.Context(), a.delays.lookup(info))

	rt := typeOf(info.Resource)
	ns := info.Namespace
	name := info.Name
	if info.Resource == "namespaces" {
		ns = "" // namespaces are cluster-scoped; info.Namespace is the name
	} else if rt.cluster && ns != "" {
		writeError(w, errPageNotFound())
		return
	}
	if !rt.cluster && ns == "" && name != "" {
		writeError(w, errPageNotFound())
		return
	}
	if !rt.cluster && ns == "" && info.Verb != "list" && info.Verb != "watch" {
		writeError(w, errMethodNotAllowed(info))
		return
	}
	if isFail500(name) {
		writeError(w, errInternal(info, name))
		return
	}
	q := r.URL.Query()
	sel := parseSelector(q.Get("labelSelector"), q.Get("fieldSelector"))

	ctx := r.Context()
	switch info.Verb {
	case "get":
		a.get(ctx, w, info, ns, name)
	case "list":
		a.list(ctx, w, info, ns, sel, q)
	case "create":
		a.create(w, r, info, ns, name)
	case "update":
		a.update(w, r, info, ns, name)
	case "patch":
		a.patch(w, r, info, ns, name)
	case "delete":
		a.delete(ctx, w, info, ns, name)
	case "deletecollection":
		objs, rv, aerr := a.store.deleteCollection(ctx, info.Group, info.Resource, ns, sel)
		if aerr != nil {
			writeError(w, aerr)
			return
		}
		a.writeList(w, info, objs, rv, "")
	default:
		writeError(w, errMethodNotAllowed(info))
	}
}

// otherSubresource answers subresources other than status and binding.
func (a *apiServer) otherSubresource(ctx context.Context, w http.ResponseWriter, info *requestInfo, ns, name string) {
	o, aerr := a.store.get(ctx, info.Group, info.Resource, ns, name)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	if o == nil {
		writeError(w, errNotFound(info, name))
		return
	}
	md := map[string]interface{}{"name": name}
	if ns != "" {
		md["namespace"] = ns
	}
	writeJSON(w, 200, map[string]interface{}{
		"kind": strings.ToUpper(info.Subresource[:1]) + info.Subresource[1:], "apiVersion": apiVersionOf(info),
		"metadata": md, "subresource": info.Subresource, "verb": info.Verb,
	})
}

func (a *apiServer) get(ctx context.Context, w http.ResponseWriter, info *requestInfo, ns, name string) {
	if info.Subresource != "" && info.Subresource != "status" {
		a.otherSubresource(ctx, w, info, ns, name)
		return
	}
	o, aerr := a.store.get(ctx, info.Group, info.Resource, ns, name)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	if o == nil {
		writeError(w, errNotFound(info, name))
		return
	}
	writeJSON(w, 200, o)
}

func (a *apiServer) list(ctx context.Context, w http.ResponseWriter, info *requestInfo, ns string, sel selector, q map[string][]string) {
	objs, rv, aerr := a.store.list(ctx, info.Group, info.Resource, ns, sel)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	cont := ""
	if c := first(q["continue"]); c != "" {
		if off, err := strconv.Atoi(c); err == nil && off >= 0 && off <= len(objs) {
			objs = objs[off:]
		}
	}
	if l, err := strconv.Atoi(first(q["limit"])); err == nil && l > 0 && l < len(objs) {
		off := 0
		if c := first(q["continue"]); c != "" {
			off, _ = strconv.Atoi(c)
		}
		objs = objs[:l]
		cont = strconv.Itoa(off + l)
	}
	a.writeList(w, info, objs, rv, cont)
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

func (a *apiServer) writeList(w http.ResponseWriter, info *requestInfo, objs []object, rv, cont string) {
	items := make([]interface{}, len(objs))
	for i, o := range objs {
		items[i] = o
	}
	md := map[string]interface{}{"resourceVersion": rv}
	if cont != "" {
		md["continue"] = cont
	}
	writeJSON(w, 200, map[string]interface{}{
		"kind": typeOf(info.Resource).kind + "List", "apiVersion": apiVersionOf(info),
		"metadata": md, "items": items,
	})
}

var genCounter int64

func (a *apiServer) create(w http.ResponseWriter, r *http.Request, info *requestInfo, ns, name string) {
	if info.Subresource != "" {
		a.createSubresource(w, r, info, ns, name)
		return
	}
	if name != "" {
		writeError(w, errMethodNotAllowed(info))
		return
	}
	o, aerr := readObject(r, info, "")
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	md := metadataOf(o)
	oname, _ := md["name"].(string)
	if oname == "" {
		if gn, _ := md["generateName"].(string); gn != "" {
			oname = fmt.Sprintf("%s%05d", gn, atomic.AddInt64(&genCounter, 1))
			md["name"] = oname
		}
	}
	if oname == "" {
		writeError(w, errInvalid(info, "", "metadata.name: Required value: name or generateName is required"))
		return
	}
	if isFail500(oname) {
		writeError(w, errInternal(info, oname))
		return
	}
	if ons, _ := md["namespace"].(string); ons != "" && ns != "" && ons != ns {
		writeError(w, errBadRequest("the namespace of the provided object does not match the namespace sent on the request"))
		return
	}
	a.defaults(o, info, ns)
	nobj, aerr := a.store.mutate(r.Context(), info.Group, info.Resource, ns, oname, func(old object) (object, string, *apiError) {
		if old != nil {
			return nil, "", &apiError{409, "AlreadyExists", fmt.Sprintf("%s %q already exists", qualified(info), oname),
				map[string]interface{}{"name": oname, "group": info.Group, "kind": info.Resource}}
		}
		delete(md, "resourceVersion")
		return o, "ADDED", nil
	})
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	writeJSON(w, 201, nobj)
}

// defaults fills kind, apiVersion and metadata.namespace.
func (a *apiServer) defaults(o object, info *requestInfo, ns string) {
	if k, _ := o["kind"].(string); k == "" {
		o["kind"] = typeOf(info.Resource).kind
	}
	if v, _ := o["apiVersion"].(string); v == "" {
		o["apiVersion"] = apiVersionOf(info)
	}
	md := metadataOf(o)
	if ns != "" {
		md["namespace"] = ns
	} else {
		delete(md, "namespace")
	}
	if info.Resource == "pods" {
		st, _ := o["status"].(map[string]interface{})
		if st == nil {
			o["status"] = map[string]interface{}{"phase": "Pending"}
		}
	}
}

func (a *apiServer) createSubresource(w http.ResponseWriter, r *http.Request, info *requestInfo, ns, name string) {
	if info.Resource != "pods" || info.Subresource != "binding" {
		a.otherSubresource(r.Context(), w, info, ns, name)
		return
	}
	b, aerr := readObject(r, info, name)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	target, _ := b["target"].(map[string]interface{})
	node, _ := target["name"].(string)
	if node == "" {
		writeError(w, errInvalid(info, name, "target.name: Required value"))
		return
	}
	_, aerr = a.store.mutate(r.Context(), info.Group, info.Resource, ns, name, func(old object) (object, string, *apiError) {
		if old == nil {
			return nil, "", errNotFound(info, name)
		}
		o := copyObject(old)
		spec, _ := o["spec"].(map[string]interface{})
		if spec == nil {
			spec = map[string]interface{}{}
			o["spec"] = spec
		}
		if n, _ := spec["nodeName"].(string); n != "" {
			return nil, "", &apiError{409, "Conflict", fmt.Sprintf("Operation cannot be fulfilled on pods/binding %q: pod %s is already assigned to node %q", name, name, n), nil}
		}
		spec["nodeName"] = node
		return o, "MODIFIED", nil
	})
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	writeJSON(w, 201, map[string]interface{}{"kind": "Status", "apiVersion": "v1", "metadata": map[string]interface{}{},
		"status": "Success", "code": 201})
}

func errConflict(info *requestInfo, name string) *apiError {
	return &apiError{409, "Conflict",
		fmt.Sprintf("Operation cannot be fulfilled on %s %q: the object has been modified; please apply your changes to the latest version and try again", qualified(info), name),
		map[string]interface{}{"name": name, "group": info.Group, "kind": info.Resource}}
}

func (a *apiServer) update(w http.ResponseWriter, r *http.Request, info *requestInfo, ns, name string) {
	if info.Subresource != "" && info.Subresource != "status" {
		a.otherSubresource(r.Context(), w, info, ns, name)
		return
	}
	o, aerr := readObject(r, info, name)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	md := metadataOf(o)
	if bn, _ := md["name"].(string); bn != "" && bn != name {
		writeError(w, errBadRequest(fmt.Sprintf("the name of the object (%s) does not match the name on the URL (%s)", bn, name)))
		return
	}
	md["name"] = name
	bodyRV, _ := md["resourceVersion"].(string)
	nobj, aerr := a.store.mutate(r.Context(), info.Group, info.Resource, ns, name, func(old object) (object, string, *apiError) {
		if old == nil {
			return nil, "", errNotFound(info, name)
		}
		omd := metadataOf(old)
		if bodyRV != "" && bodyRV != omd["resourceVersion"] {
			return nil, "", errConflict(info, name)
		}
		var n object
		if info.Subresource == "status" {
			n = copyObject(old)
			if st, ok := o["status"]; ok {
				n["status"] = st
			} else {
				delete(n, "status")
			}
		} else {
			n = o
			a.defaults(n, info, ns)
			nmd := metadataOf(n)
			nmd["uid"] = omd["uid"]
			nmd["creationTimestamp"] = omd["creationTimestamp"]
		}
		return n, "MODIFIED", nil
	})
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	writeJSON(w, 200, nobj)
}

func (a *apiServer) patch(w http.ResponseWriter, r *http.Request, info *requestInfo, ns, name string) {
	if info.Subresource != "" && info.Subresource != "status" {
		a.otherSubresource(r.Context(), w, info, ns, name)
		return
	}
	ct := r.Header.Get("Content-Type")
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	switch strings.TrimSpace(ct) {
	case "application/merge-patch+json", "application/strategic-merge-patch+json", "application/apply-patch+yaml":
	default:
		writeError(w, &apiError{415, "UnsupportedMediaType",
			fmt.Sprintf("the body of the request was in an unknown format - accepted media types include: application/merge-patch+json, application/strategic-merge-patch+json (got %q)", ct), nil})
		return
	}
	p, aerr := readObject(r, info, name)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	nobj, aerr := a.store.mutate(r.Context(), info.Group, info.Resource, ns, name, func(old object) (object, string, *apiError) {
		if old == nil {
			return nil, "", errNotFound(info, name)
		}
		omd := metadataOf(old)
		if pmd, ok := p["metadata"].(map[string]interface{}); ok {
			if prv, _ := pmd["resourceVersion"].(string); prv != "" && prv != omd["resourceVersion"] {
				return nil, "", errConflict(info, name)
			}
		}
		var n object
		if info.Subresource == "status" {
			n = copyObject(old)
			if st, ok := p["status"]; ok {
				n["status"] = mergePatch(n["status"], st)
			}
		} else {
			n, _ = mergePatch(copyObject(old), p).(map[string]interface{})
		}
		nmd := metadataOf(n)
		for _, k := range []string{"name", "namespace", "uid", "creationTimestamp"} {
			if v, ok := omd[k]; ok {
				nmd[k] = v
			}
		}
		return n, "MODIFIED", nil
	})
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	writeJSON(w, 200, nobj)
}

func (a *apiServer) delete(ctx context.Context, w http.ResponseWriter, info *requestInfo, ns, name string) {
	if info.Subresource != "" {
		writeError(w, errMethodNotAllowed(info))
		return
	}
	old, aerr := a.store.remove(ctx, info.Group, info.Resource, ns, name)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	if old == nil {
		writeError(w, errNotFound(info, name))
		return
	}
	writeJSON(w, 200, old)
}

// serveWatch streams newline-delimited watch events. Like kube-apiserver it
// runs on the serving goroutine (watch is long-running: no timeout filter).
func (a *apiServer) serveWatch(w http.ResponseWriter, r *http.Request, info *requestInfo) {
	ctx := r.Context()
	sleepCtx(ctx, a.delays.lookup(info))
	rt := typeOf(info.Resource)
	ns, name := info.Namespace, info.Name
	if info.Resource == "namespaces" {
		ns = ""
	} else if rt.cluster && ns != "" {
		writeError(w, errPageNotFound())
		return
	}
	if !rt.cluster && ns == "" && name != "" {
		writeError(w, errPageNotFound())
		return
	}
	if isFail500(name) {
		writeError(w, errInternal(info, name))
		return
	}
	q := r.URL.Query()
	timeout := 2 * time.Second
	if s := q.Get("timeoutSeconds"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n > 0 { // 0 means unset, as in kube-apiserver
			timeout = time.Duration(n) * time.Second
		}
	}
	if timeout > 30*time.Second {
		timeout = 30 * time.Second
	}
	wt := &watcher{group: info.Group, resource: info.Resource, namespace: ns, name: name,
		sel: parseSelector(q.Get("labelSelector"), q.Get("fieldSelector"))}
	initial, aerr := a.store.watch(ctx, wt)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	defer a.store.unwatch(wt)

	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache, private")
	w.WriteHeader(200)
	flusher, _ := w.(http.Flusher)
	enc := json.NewEncoder(w)
	flush := func() {
		if flusher != nil {
			flusher.Flush()
		}
	}
	for _, o := range initial {
		if enc.Encode(watchEvent{"ADDED", o}) != nil {
			return
		}
	}
	flush()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		select {
		case ev, ok := <-wt.ch:
			if !ok { // the backend ended the watch (etcd: compacted, canceled)
				return
			}
			if enc.Encode(ev) != nil {
				return
			}
			flush()
		case <-timer.C:
			return
		case <-ctx.Done():
			return
		case <-a.stop:
			return
		}
	}
}

// Discovery documents: /api, /apis, /api/v1, /apis/GROUP/VERSION.
func (a *apiServer) serveDiscovery(w http.ResponseWriter, r *http.Request, info *requestInfo) bool {
	switch {
	case info.Prefix == "api" && info.Version == "":
		writeJSON(w, 200, map[string]interface{}{"kind": "APIVersions", "versions": []string{"v1"},
			"serverAddressByClientCIDRs": []interface{}{}})
	case info.Prefix == "apis" && info.Version == "":
		var groups []interface{}
		for _, g := range groupVersions {
			gv := map[string]interface{}{"groupVersion": g.group + "/" + g.version, "version": g.version}
			groups = append(groups, map[string]interface{}{"name": g.group, "versions": []interface{}{gv}, "preferredVersion": gv})
		}
		writeJSON(w, 200, map[string]interface{}{"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
	case len(info.Parts) == 0 && info.Version != "":
		var res []string
		for _, g := range groupVersions {
			if g.group == info.Group && g.version == info.Version {
				res = g.resources
			}
		}
		if res == nil && !(info.Group == "" && info.Version == "v1") {
			return false
		}
		if info.Group == "" {
			res = coreResources
		}
		sort.Strings(res)
		var list []interface{}
		for _, rname := range res {
			t := typeOf(rname)
			list = append(list, map[string]interface{}{"name": rname, "singularName": strings.ToLower(t.kind),
				"namespaced": !t.cluster, "kind": t.kind,
				"verbs": []string{"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"}})
		}
		writeJSON(w, 200, map[string]interface{}{"kind": "APIResourceList", "apiVersion": "v1",
			"groupVersion": apiVersionOf(info), "resources": list})
	default:
		return false
	}
	return true
}

var coreResources = []string{"pods", "services", "configmaps", "secrets", "endpoints", "events", "serviceaccounts",
	"persistentvolumeclaims", "replicationcontrollers", "limitranges", "resourcequotas", "podtemplates",
	"nodes", "namespaces", "persistentvolumes", "componentstatuses"}

var groupVersions = []struct {
	group, version string
	resources      []string
}{
	{"apps", "v1", []string{"deployments", "replicasets", "statefulsets", "daemonsets", "controllerrevisions"}},
	{"batch", "v1", []string{"jobs", "cronjobs"}},
	{"coordination.k8s.io", "v1", []string{"leases"}},
	{"discovery.k8s.io", "v1", []string{"endpointslices"}},
	{"events.k8s.io", "v1", []string{"events"}},
	{"policy", "v1", []string{"poddisruptionbudgets"}},
	{"networking.k8s.io", "v1", []string{"networkpolicies", "ingresses"}},
	{"rbac.authorization.k8s.io", "v1", []string{"roles", "rolebindings", "clusterroles", "clusterrolebindings"}},
	{"storage.k8s.io", "v1", []string{"storageclasses", "csinodes", "volumeattachments"}},
	{"scheduling.k8s.io", "v1", []string{"priorityclasses"}},
	{"apiextensions.k8s.io", "v1", []string{"customresourcedefinitions"}},
	{"apiregistration.k8s.io", "v1", []string{"apiservices"}},
	{"admissionregistration.k8s.io", "v1", []string{"mutatingwebhookconfigurations", "validatingwebhookconfigurations"}},
	{"certificates.k8s.io", "v1", []string{"certificatesigningrequests"}},
	{"node.k8s.io", "v1", []string{"runtimeclasses"}},
	{"flowcontrol.apiserver.k8s.io", "v1", []string{"flowschemas", "prioritylevelconfigurations"}},
}
