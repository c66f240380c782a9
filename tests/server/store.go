package main

// In-memory object store: objects keyed by group/resource/namespace/name,
// held as decoded JSON (map[string]interface{}), never mutated once stored
// (every change stores a fresh copy), so responses can be encoded without a
// lock. One global resourceVersion counter, as etcd's revision.

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

type object = map[string]interface{}

type watchEvent struct {
	Type   string `json:"type"`
	Object object `json:"object"`
}

type watcher struct {
	group, resource, namespace, name string
	sel                              selector
	ch                               chan watchEvent // never closed by the in-memory store
	cancel                           func()          // etcd backend: ends the etcd watch
}

// mutateFunc gets the current object (nil if missing) and returns the new
// object (nil to delete), the event type (ADDED, MODIFIED, DELETED), or an
// error status. It must not keep old. The etcd backend may call it more
// than once (after a concurrent change, like kube-apiserver's
// GuaranteedUpdate), and calls it with nil first when it may be a create.
type mutateFunc func(old object) (object, string, *apiError)

// backend is where objects live: the in-memory store below (the default),
// or etcd (etcd.go, build tag etcd, flag -etcd). Objects returned are never
// mutated afterwards by the backend. resourceVersion strings are the
// store's counter or etcd's revision.
type backend interface {
	get(ctx context.Context, group, resource, ns, name string) (object, *apiError)
	// list: matching objects sorted by namespace/name, and the current resourceVersion.
	list(ctx context.Context, group, resource, ns string, sel selector) ([]object, string, *apiError)
	mutate(ctx context.Context, group, resource, ns, name string, fn mutateFunc) (object, *apiError)
	// remove deletes one object and returns it (nil, nil when there was none).
	remove(ctx context.Context, group, resource, ns, name string) (object, *apiError)
	deleteCollection(ctx context.Context, group, resource, ns string, sel selector) ([]object, string, *apiError)
	// watch sets w.ch and returns the objects that exist now (sent as ADDED
	// first); events after them arrive on w.ch until unwatch.
	watch(ctx context.Context, w *watcher) ([]object, *apiError)
	unwatch(w *watcher)
	// currentRV: for /metrics, without a round trip.
	currentRV() string
}

type store struct {
	mu       sync.Mutex
	rv       int64
	uid      int64
	objs     map[string]object
	watchers map[*watcher]struct{}
}

func newStore() *store {
	return &store{objs: map[string]object{}, watchers: map[*watcher]struct{}{}}
}

func storeKey(group, resource, ns, name string) string {
	return group + "/" + resource + "/" + ns + "/" + name
}

func keyPrefix(group, resource, ns string) string {
	if ns == "" {
		return group + "/" + resource + "/"
	}
	return group + "/" + resource + "/" + ns + "/"
}

func (s *store) nextRV() string {
	s.rv++
	return strconv.FormatInt(s.rv, 10)
}

func (s *store) currentRV() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strconv.FormatInt(s.rv, 10)
}

func (s *store) get(_ context.Context, group, resource, ns, name string) (object, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.objs[storeKey(group, resource, ns, name)], nil
}

// list returns the matching objects sorted by namespace/name and the
// current resourceVersion.
func (s *store) list(_ context.Context, group, resource, ns string, sel selector) ([]object, string, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.listLocked(group, resource, ns, sel), strconv.FormatInt(s.rv, 10), nil
}

func (s *store) listLocked(group, resource, ns string, sel selector) []object {
	prefix := keyPrefix(group, resource, ns)
	var keys []string
	for k, o := range s.objs {
		if strings.HasPrefix(k, prefix) && sel.matches(o) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	out := make([]object, 0, len(keys))
	for _, k := range keys {
		out = append(out, s.objs[k])
	}
	return out
}

// mutate runs fn under the lock with the current object (nil if missing);
// fn returns the new object (nil to delete), the event type, or an error
// status. The new object gets the next resourceVersion.
func (s *store) mutate(_ context.Context, group, resource, ns, name string, fn mutateFunc) (object, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := storeKey(group, resource, ns, name)
	old := s.objs[key]
	nobj, evType, aerr := fn(old)
	if aerr != nil {
		return nil, aerr
	}
	if evType == "DELETED" {
		delete(s.objs, key)
		gone := copyObject(old)
		metadataOf(gone)["resourceVersion"] = s.nextRV()
		s.notifyLocked(group, resource, watchEvent{"DELETED", gone})
		return gone, nil
	}
	md := metadataOf(nobj)
	md["resourceVersion"] = s.nextRV()
	if old == nil {
		s.uid++
		md["uid"] = fmt.Sprintf("00000000-0000-4000-8000-%012d", s.uid)
		md["creationTimestamp"] = time.Now().UTC().Format(time.RFC3339)
	}
	s.objs[key] = nobj
	s.notifyLocked(group, resource, watchEvent{evType, nobj})
	return nobj, nil
}

func (s *store) remove(ctx context.Context, group, resource, ns, name string) (object, *apiError) {
	missing := &apiError{code: 404}
	old, aerr := s.mutate(ctx, group, resource, ns, name, func(old object) (object, string, *apiError) {
		if old == nil {
			return nil, "", missing
		}
		return nil, "DELETED", nil
	})
	if aerr == missing {
		return nil, nil
	}
	return old, aerr
}

func (s *store) deleteCollection(_ context.Context, group, resource, ns string, sel selector) ([]object, string, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	objs := s.listLocked(group, resource, ns, sel)
	for _, o := range objs {
		md := metadataOf(o)
		n, _ := md["name"].(string)
		ons, _ := md["namespace"].(string)
		delete(s.objs, storeKey(group, resource, ons, n))
		gone := copyObject(o)
		metadataOf(gone)["resourceVersion"] = s.nextRV()
		s.notifyLocked(group, resource, watchEvent{"DELETED", gone})
	}
	return objs, strconv.FormatInt(s.rv, 10), nil
}

// watch registers a watcher and returns the objects that exist now (sent
// as ADDED events first), atomically with the registration.
func (s *store) watch(_ context.Context, w *watcher) ([]object, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w.ch = make(chan watchEvent, 4096)
	s.watchers[w] = struct{}{}
	var out []object
	for _, o := range s.listLocked(w.group, w.resource, w.namespace, w.sel) {
		if w.name == "" || metadataOf(o)["name"] == w.name {
			out = append(out, o)
		}
	}
	return out, nil
}

func (s *store) unwatch(w *watcher) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.watchers, w)
}

func (s *store) notifyLocked(group, resource string, ev watchEvent) {
	md := metadataOf(ev.Object)
	ns, _ := md["namespace"].(string)
	name, _ := md["name"].(string)
	for w := range s.watchers {
		if w.group != group || w.resource != resource {
			continue
		}
		if w.namespace != "" && w.namespace != ns {
			continue
		}
		if w.name != "" && w.name != name {
			continue
		}
		if !w.sel.matches(ev.Object) {
			continue
		}
		select {
		case w.ch <- ev:
		default: // a slow watcher loses events rather than blocking writers
		}
	}
}

func metadataOf(o object) map[string]interface{} {
	if o == nil {
		return map[string]interface{}{}
	}
	md, ok := o["metadata"].(map[string]interface{})
	if !ok {
		md = map[string]interface{}{}
		o["metadata"] = md
	}
	return md
}

func deepCopy(v interface{}) interface{} {
	switch t := v.(type) {
	case map[string]interface{}:
		m := make(map[string]interface{}, len(t))
		for k, e := range t {
			m[k] = deepCopy(e)
		}
		return m
	case []interface{}:
		a := make([]interface{}, len(t))
		for i, e := range t {
			a[i] = deepCopy(e)
		}
		return a
	default:
		return v
	}
}

func copyObject(o object) object {
	if o == nil {
		return nil
	}
	return deepCopy(o).(map[string]interface{})
}

// mergePatch applies an RFC 7386 JSON merge patch to target (in place for
// maps; returns the result).
func mergePatch(target interface{}, patch interface{}) interface{} {
	p, ok := patch.(map[string]interface{})
	if !ok {
		return deepCopy(patch)
	}
	t, ok := target.(map[string]interface{})
	if !ok {
		t = map[string]interface{}{}
	}
	for k, v := range p {
		if v == nil {
			delete(t, k)
			continue
		}
		t[k] = mergePatch(t[k], v)
	}
	return t
}

// selector: a label selector of equality terms (a=b, a==b, a!=b, a, !a),
// plus the field selectors metadata.name and metadata.namespace.
type selTerm struct {
	field bool
	key   string
	op    string // "=", "!=", "exists", "!exists"
	val   string
}

type selector []selTerm

func parseSelector(label, field string) selector {
	var s selector
	add := func(expr string, isField bool) {
		for _, t := range strings.Split(expr, ",") {
			t = strings.TrimSpace(t)
			switch {
			case t == "":
			case strings.Contains(t, "!="):
				kv := strings.SplitN(t, "!=", 2)
				s = append(s, selTerm{isField, strings.TrimSpace(kv[0]), "!=", strings.TrimSpace(kv[1])})
			case strings.Contains(t, "=="):
				kv := strings.SplitN(t, "==", 2)
				s = append(s, selTerm{isField, strings.TrimSpace(kv[0]), "=", strings.TrimSpace(kv[1])})
			case strings.Contains(t, "="):
				kv := strings.SplitN(t, "=", 2)
				s = append(s, selTerm{isField, strings.TrimSpace(kv[0]), "=", strings.TrimSpace(kv[1])})
			case strings.HasPrefix(t, "!"):
				s = append(s, selTerm{isField, t[1:], "!exists", ""})
			default:
				s = append(s, selTerm{isField, t, "exists", ""})
			}
		}
	}
	add(label, false)
	add(field, true)
	return s
}

func (s selector) matches(o object) bool {
	if len(s) == 0 {
		return true
	}
	md := metadataOf(o)
	labels, _ := md["labels"].(map[string]interface{})
	for _, t := range s {
		var v string
		var ok bool
		if t.field {
			switch t.key {
			case "metadata.name":
				v, ok = md["name"].(string)
			case "metadata.namespace":
				v, ok = md["namespace"].(string)
			default:
				continue // unknown fields match everything
			}
		} else {
			v, ok = labels[t.key].(string)
		}
		switch t.op {
		case "=":
			if !ok || v != t.val {
				return false
			}
		case "!=":
			if ok && v == t.val {
				return false
			}
		case "exists":
			if !ok {
				return false
			}
		case "!exists":
			if ok {
				return false
			}
		}
	}
	return true
}
