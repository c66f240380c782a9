package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
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
	// strictNamespaces: creating in a namespace that does not exist is a
	// 404 NotFound (kube-apiserver's NamespaceLifecycle admission).
	strictNamespaces bool
	// watchTimeout: a watch's length without ?timeoutSeconds=; maxWatch caps it.
	watchTimeout, maxWatch time.Duration
	// serializeInChild: list responses are encoded in a goroutine the
	// handler starts (a grandchild of the serving goroutine).
	serializeInChild bool
	// noWatchList: refuse ?sendInitialEvents=true with 422 Invalid, as a
	// kube-apiserver with the WatchList feature gate off does (clients
	// then fall back to list and watch).
	noWatchList bool
}

func isFail500(name string) bool { return strings.HasPrefix(name, "fail-500") }

// readObject reads a JSON object body (422 Invalid if it is not one), or a
// protobuf body (Content-Type application/vnd.kubernetes.protobuf).
func readObject(r *http.Request, info *requestInfo, name string) (object, *apiError) {
	b, err := io.ReadAll(io.LimitReader(r.Body, 3<<20))
	if err != nil {
		return nil, &apiError{500, "InternalError", "Internal error occurred: reading request body: " + err.Error(), nil}
	}
	if isProtobufBody(r) {
		return decodeProtobufObject(info, b)
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
		a.get(ctx, w, r, info, ns, name)
	case "list":
		a.list(ctx, w, r, info, ns, sel, q)
	case "create":
		a.create(w, r, info, ns, name)
	case "update":
		a.update(w, r, info, ns, name)
	case "patch":
		a.patch(w, r, info, ns, name)
	case "delete":
		a.delete(ctx, w, r, info, ns, name)
	case "deletecollection":
		objs, rv, aerr := a.store.deleteCollection(ctx, info.Group, info.Resource, ns, sel)
		if aerr != nil {
			writeError(w, aerr)
			return
		}
		a.writeList(w, r, info, objs, rv, "")
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

func (a *apiServer) get(ctx context.Context, w http.ResponseWriter, r *http.Request, info *requestInfo, ns, name string) {
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
	a.respond(w, r, info, 200, o)
}

func (a *apiServer) list(ctx context.Context, w http.ResponseWriter, r *http.Request, info *requestInfo, ns string, sel selector, q map[string][]string) {
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
	a.writeList(w, r, info, objs, rv, cont)
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
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
	if ns != "" && a.strictNamespaces {
		nso, aerr := a.store.get(r.Context(), "", "namespaces", "", ns)
		if aerr != nil {
			writeError(w, aerr)
			return
		}
		if nso == nil {
			writeError(w, &apiError{404, "NotFound", fmt.Sprintf("namespaces %q not found", ns),
				map[string]interface{}{"name": ns, "kind": "namespaces"}})
			return
		}
	}
	md["generation"] = int64(1)
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
	a.respond(w, r, info, 201, nobj)
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
	switch info.Resource {
	case "pods":
		st, _ := o["status"].(map[string]interface{})
		if st == nil {
			st = map[string]interface{}{}
			o["status"] = st
		}
		if p, _ := st["phase"].(string); p == "" {
			st["phase"] = "Pending"
		}
	case "namespaces":
		st, _ := o["status"].(map[string]interface{})
		if st == nil {
			st = map[string]interface{}{}
			o["status"] = st
		}
		if p, _ := st["phase"].(string); p == "" {
			st["phase"] = "Active"
		}
	}
}

// keepIdentity copies what a client cannot change (name, namespace, uid,
// creationTimestamp) from old to n, and sets metadata.generation: old's,
// plus one when anything but metadata and status changed.
func keepIdentity(n, old object, status bool) {
	omd, nmd := metadataOf(old), metadataOf(n)
	for _, k := range []string{"name", "namespace", "uid", "creationTimestamp"} {
		if v, ok := omd[k]; ok {
			nmd[k] = v
		} else {
			delete(nmd, k)
		}
	}
	gen := toInt64(omd["generation"])
	if gen == 0 {
		gen = 1
	}
	if !status && !sameSpec(n, old) {
		gen++
	}
	nmd["generation"] = gen
	if !status && statusResources[resourceOfKind(n, old)] {
		// status changes only through .../status (kube's PrepareForUpdate)
		if st, ok := old["status"]; ok {
			n["status"] = st
		} else {
			delete(n, "status")
		}
	}
}

// statusResources have a status subresource: an update or patch of the
// object itself keeps the old status, as in kube-apiserver.
var statusResources = map[string]bool{
	"Pod": true, "Node": true, "Namespace": true, "Service": true, "Deployment": true, "ReplicaSet": true,
	"StatefulSet": true, "DaemonSet": true, "Job": true, "CronJob": true, "PersistentVolume": true,
	"PersistentVolumeClaim": true, "ReplicationController": true, "PodDisruptionBudget": true,
	"CertificateSigningRequest": true, "ResourceQuota": true, "HorizontalPodAutoscaler": true,
	"Ingress": true, "APIService": true, "CustomResourceDefinition": true, "VolumeAttachment": true,
}

func resourceOfKind(n, old object) string {
	if k, _ := old["kind"].(string); k != "" {
		return k
	}
	k, _ := n["kind"].(string)
	return k
}

// sameSpec: equal but for metadata and status.
func sameSpec(a, b object) bool {
	for k, v := range a {
		if k != "metadata" && k != "status" && !reflect.DeepEqual(normalize(v), normalize(b[k])) {
			return false
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok && k != "metadata" && k != "status" {
			return false
		}
	}
	return true
}

// normalize turns every number into a float64 (objects decoded from JSON
// and from protobuf hold different number types).
func normalize(v interface{}) interface{} {
	switch t := v.(type) {
	case map[string]interface{}:
		m := make(map[string]interface{}, len(t))
		for k, e := range t {
			m[k] = normalize(e)
		}
		return m
	case []interface{}:
		a := make([]interface{}, len(t))
		for i, e := range t {
			a[i] = normalize(e)
		}
		return a
	case int64:
		return float64(t)
	case int:
		return float64(t)
	case int32:
		return float64(t)
	case json.Number:
		f, _ := t.Float64()
		return f
	}
	return v
}

func toInt64(v interface{}) int64 {
	switch t := v.(type) {
	case int64:
		return t
	case int:
		return int64(t)
	case int32:
		return int64(t)
	case float64:
		return int64(t)
	case json.Number:
		n, _ := t.Int64()
		return n
	case string:
		n, _ := strconv.ParseInt(t, 10, 64)
		return n
	}
	return 0
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
			n = copyObject(o)
			a.defaults(n, info, ns)
		}
		keepIdentity(n, old, info.Subresource == "status")
		return n, "MODIFIED", nil
	})
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	a.respond(w, r, info, 200, nobj)
}

// patch applies a JSON merge patch (RFC 7386), a strategic merge patch
// (merge patch plus kube's list merge keys and $patch directives, see
// strategicMerge) or a JSON patch (RFC 6902), to the object or (.../status)
// to its status only.
func (a *apiServer) patch(w http.ResponseWriter, r *http.Request, info *requestInfo, ns, name string) {
	if info.Subresource != "" && info.Subresource != "status" {
		a.otherSubresource(r.Context(), w, info, ns, name)
		return
	}
	ct := r.Header.Get("Content-Type")
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	ct = strings.TrimSpace(ct)
	switch ct {
	case "application/merge-patch+json", "application/strategic-merge-patch+json", "application/apply-patch+yaml",
		"application/json-patch+json":
	default:
		writeError(w, &apiError{415, "UnsupportedMediaType",
			fmt.Sprintf("the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json (got %q)", ct), nil})
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 3<<20))
	if err != nil {
		writeError(w, &apiError{500, "InternalError", "Internal error occurred: reading request body: " + err.Error(), nil})
		return
	}
	var p object
	var ops []jsonPatchOp
	if ct == "application/json-patch+json" {
		if err := json.Unmarshal(body, &ops); err != nil {
			writeError(w, errInvalid(info, name, "the JSON patch is not a JSON array of operations: "+err.Error()))
			return
		}
	} else if err := json.Unmarshal(body, &p); err != nil || p == nil {
		msg := "request body is not a JSON object"
		if err != nil {
			msg = "request body is not valid JSON: " + err.Error()
		}
		writeError(w, errInvalid(info, name, msg))
		return
	}
	nobj, aerr := a.store.mutate(r.Context(), info.Group, info.Resource, ns, name, func(old object) (object, string, *apiError) {
		if old == nil {
			return nil, "", errNotFound(info, name)
		}
		omd := metadataOf(old)
		var n object
		switch {
		case ops != nil || ct == "application/json-patch+json":
			v, err := applyJSONPatch(copyObject(old), ops)
			if err != nil {
				return nil, "", &apiError{422, "Invalid", fmt.Sprintf("the server rejected our request due to an error in our request: %v", err), nil}
			}
			n, _ = v.(map[string]interface{})
			if n == nil {
				return nil, "", errInvalid(info, name, "the patched object is not a JSON object")
			}
			if nrv, _ := metadataOf(n)["resourceVersion"].(string); nrv != "" && nrv != omd["resourceVersion"] {
				return nil, "", errConflict(info, name)
			}
			if info.Subresource == "status" {
				st := n["status"]
				n = copyObject(old)
				n["status"] = st
			}
		default:
			if pmd, ok := p["metadata"].(map[string]interface{}); ok {
				if prv, _ := pmd["resourceVersion"].(string); prv != "" && prv != omd["resourceVersion"] {
					return nil, "", errConflict(info, name)
				}
			}
			merge := mergePatch
			if ct == "application/strategic-merge-patch+json" {
				merge = strategicMerge
			}
			if info.Subresource == "status" {
				n = copyObject(old)
				if st, ok := p["status"]; ok {
					n["status"] = merge(n["status"], st)
				}
			} else {
				n, _ = merge(copyObject(old), p).(map[string]interface{})
			}
		}
		keepIdentity(n, old, info.Subresource == "status")
		return n, "MODIFIED", nil
	})
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	a.respond(w, r, info, 200, nobj)
}

func (a *apiServer) delete(ctx context.Context, w http.ResponseWriter, r *http.Request, info *requestInfo, ns, name string) {
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
	a.respond(w, r, info, 200, old)
}

// serveWatch streams watch events: ADDED for the objects that exist (no
// ?resourceVersion, or 0), or the events after ?resourceVersion=N (an
// ERROR event with a 410 Expired Status when they are no longer kept),
// then ADDED/MODIFIED/DELETED as they happen, until ?timeoutSeconds= (or
// -watch-timeout) ends it. Like kube-apiserver it runs on the serving
// goroutine (watch is long-running: no timeout filter).
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
	timeout := a.watchTimeout
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	if s := q.Get("timeoutSeconds"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n > 0 { // 0 means unset, as in kube-apiserver
			timeout = time.Duration(n) * time.Second
		}
	}
	if a.maxWatch > 0 && timeout > a.maxWatch {
		timeout = a.maxWatch
	}
	wt := &watcher{group: info.Group, resource: info.Resource, namespace: ns, name: name,
		sel: parseSelector(q.Get("labelSelector"), q.Get("fieldSelector"))}
	if s := q.Get("resourceVersion"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			writeError(w, errBadRequest(fmt.Sprintf("invalid resource version: %q", s)))
			return
		}
		wt.sinceRV = n
	}
	// The streaming list (KEP-3157, client-go reflector.go watchList):
	// ?sendInitialEvents=true asks for ADDED events of the current state
	// (at a resourceVersion not older than the one given), then, with
	// allowWatchBookmarks, a BOOKMARK annotated
	// "k8s.io/initial-events-end": "true" at the state's resourceVersion.
	// kube-apiserver's validation (ValidateListOptions) requires
	// resourceVersionMatch=NotOlderThan with it, and refuses it outright
	// when its WatchList feature gate is off (-no-watch-list here).
	initialEnd := false
	if s := q.Get("sendInitialEvents"); s != "" {
		if a.noWatchList {
			writeError(w, &apiError{422, "Invalid", "ListOptions.meta.k8s.io \"\" is invalid: sendInitialEvents: Forbidden: sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled",
				map[string]interface{}{"kind": "ListOptions", "group": "meta.k8s.io"}})
			return
		}
		if s != "true" && s != "false" {
			writeError(w, errBadRequest(fmt.Sprintf("invalid sendInitialEvents: %q", s)))
			return
		}
		if q.Get("resourceVersionMatch") != "NotOlderThan" {
			writeError(w, &apiError{422, "Invalid", "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan",
				map[string]interface{}{"kind": "ListOptions", "group": "meta.k8s.io"}})
			return
		}
		if s == "true" {
			// the current state is not older than any resourceVersion
			// the client saw: send it whole, from this store's now
			wt.sinceRV = 0
			initialEnd = q.Get("allowWatchBookmarks") == "true"
		}
	}
	enc, aerr := a.watchEncoder(w, r, info)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	initial, aerr := a.store.watch(ctx, wt)
	if aerr != nil && aerr.code != 410 {
		writeError(w, aerr)
		return
	}
	if aerr == nil {
		defer a.store.unwatch(wt)
	}

	w.Header().Set("Content-Type", enc.contentType)
	w.Header().Set("Cache-Control", "no-cache, private")
	w.WriteHeader(200)
	flusher, _ := w.(http.Flusher)
	flush := func() {
		if flusher != nil {
			flusher.Flush()
		}
	}
	if aerr != nil { // 410: one ERROR event, as kube-apiserver's watch cache sends
		enc.encode(watchEvent{"ERROR", newStatus(aerr.code, aerr.reason, aerr.message, nil)})
		flush()
		return
	}
	for _, ev := range initial {
		if enc.encode(ev) != nil {
			return
		}
	}
	if initialEnd {
		bm := object{"apiVersion": apiVersionOf(info), "kind": typeOf(info.Resource).kind,
			"metadata": map[string]interface{}{
				"resourceVersion": strconv.FormatInt(wt.snapshotRV, 10),
				"annotations":     map[string]interface{}{"k8s.io/initial-events-end": "true"}}}
		if enc.encode(watchEvent{"BOOKMARK", bm}) != nil {
			return
		}
	}
	flush()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	// -watch-cache: the cacher's bookmarks (watchcache.go), about every
	// minute and 2 s before the deadline, at the resource's
	// lastProcessedResourceVersion when newer than where the watch started
	var bmC <-chan time.Time
	var bmTimer *time.Timer
	deadline := time.Now().Add(timeout)
	startRV := wt.sinceRV
	if wt.snapshotRV > startRV {
		startRV = wt.snapshotRV
	}
	mem, _ := a.store.(*store)
	if mem != nil && mem.wc != nil && q.Get("allowWatchBookmarks") == "true" {
		if t, ok := nextBookmark(time.Now(), deadline); ok {
			bmTimer = time.NewTimer(time.Until(t))
			defer bmTimer.Stop()
			bmC = bmTimer.C
		}
	}
	for {
		select {
		case <-bmC:
			if rv := mem.bookmarkRV(wt.group, wt.resource); rv > startRV {
				bm := object{"apiVersion": apiVersionOf(info), "kind": typeOf(info.Resource).kind,
					"metadata": map[string]interface{}{"resourceVersion": strconv.FormatInt(rv, 10)}}
				if enc.encode(watchEvent{"BOOKMARK", bm}) != nil {
					return
				}
				flush()
			}
			bmC = nil
			if t, ok := nextBookmark(time.Now(), deadline); ok {
				bmTimer.Reset(time.Until(t))
				bmC = bmTimer.C
			}
		case ev, ok := <-wt.ch:
			if !ok { // the backend ended the watch (etcd: canceled; memory: too slow)
				return
			}
			if enc.encode(ev) != nil {
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
