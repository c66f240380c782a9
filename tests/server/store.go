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
	// sinceRV: ?resourceVersion=N with N > 0: no initial ADDED events,
	// only the events after N (410 Expired when they are no longer
	// kept). 0: ADDED events for the objects that exist now first.
	sinceRV int64
	// snapshotRV: set by the backend's watch when it sends the current
	// state (sinceRV 0): the resourceVersion of that state, for the
	// sendInitialEvents bookmark.
	snapshotRV int64
	ch         chan watchEvent // closed by the in-memory store only when the watcher falls behind
	cancel     func()          // etcd backend: ends the etcd watch
}

// eventFor decides what a watcher sees of a change, like kube-apiserver's
// cacher: with a selector, an object that starts to match is ADDED, one
// that stops matching is DELETED (with its new state). old is the previous
// state (nil for ADDED); obj the new one (for DELETED: the deleted object).
func (w *watcher) eventFor(typ string, obj, old object) (watchEvent, bool) {
	md := metadataOf(obj)
	ns, _ := md["namespace"].(string)
	name, _ := md["name"].(string)
	if w.namespace != "" && w.namespace != ns {
		return watchEvent{}, false
	}
	if w.name != "" && w.name != name {
		return watchEvent{}, false
	}
	switch typ {
	case "MODIFIED":
		now, was := w.sel.matches(obj), old != nil && w.sel.matches(old)
		switch {
		case now && was:
			return watchEvent{"MODIFIED", obj}, true
		case now:
			return watchEvent{"ADDED", obj}, true
		case was:
			return watchEvent{"DELETED", obj}, true
		}
		return watchEvent{}, false
	default:
		if !w.sel.matches(obj) {
			return watchEvent{}, false
		}
		return watchEvent{typ, obj}, true
	}
}

// errExpired: a watch from a resourceVersion whose events are no longer
// kept (kube-apiserver: 410 Gone, reason Expired, sent as an ERROR event).
func errExpired(rv, oldest int64) *apiError {
	return &apiError{410, "Expired", fmt.Sprintf("too old resource version: %d (%d)", rv, oldest), nil}
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
	// watch sets w.ch and returns the first events: ADDED for the objects
	// that exist now, or (w.sinceRV > 0) the events after sinceRV (410
	// Expired when they are gone); later events arrive on w.ch until
	// unwatch. A closed w.ch ends the watch.
	watch(ctx context.Context, w *watcher) ([]watchEvent, *apiError)
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
	// history: the last historySize events (a ring), for watches from a
	// resourceVersion; trimmed is the newest resourceVersion dropped.
	history []histEvent
	next    int
	trimmed int64
	// wc: per-resource windows and bookmarks, as kube-apiserver's cacher
	// (-watch-cache, watchcache.go); nil: the one window above
	wc *watchCaches
}

type histEvent struct {
	group, resource, typ string
	obj, old             object
	rv                   int64
}

// historySize: events kept for ?resourceVersion= watches (kube-apiserver's
// watch cache keeps a window of events too; older ones answer 410).
var historySize = 10000

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
		s.notifyLocked(group, resource, "DELETED", gone, old)
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
	if old == nil {
		evType = "ADDED"
	} else if evType == "ADDED" {
		evType = "MODIFIED"
	}
	s.notifyLocked(group, resource, evType, nobj, old)
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
		s.notifyLocked(group, resource, "DELETED", gone, o)
	}
	return objs, strconv.FormatInt(s.rv, 10), nil
}

// watch registers a watcher and returns its first events, atomically with
// the registration: ADDED for the objects that exist now, or (sinceRV > 0)
// the kept events after sinceRV, or 410 Expired when some are gone.
func (s *store) watch(_ context.Context, w *watcher) ([]watchEvent, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []watchEvent
	if w.sinceRV > 0 && s.wc != nil {
		hs, aerr := s.cacheLocked(w.group, w.resource).since(w.sinceRV)
		if aerr != nil {
			return nil, aerr
		}
		for i := range hs {
			if ev, ok := w.eventFor(hs[i].typ, hs[i].obj, hs[i].old); ok {
				out = append(out, ev)
			}
		}
	} else if w.sinceRV > 0 {
		if w.sinceRV < s.trimmed {
			return nil, errExpired(w.sinceRV, s.trimmed+1)
		}
		n := len(s.history)
		for i := 0; i < n; i++ {
			h := &s.history[(s.next+i)%n]
			if h.rv <= w.sinceRV || h.group != w.group || h.resource != w.resource {
				continue
			}
			if ev, ok := w.eventFor(h.typ, h.obj, h.old); ok {
				out = append(out, ev)
			}
		}
	} else {
		w.snapshotRV = s.rv
		for _, o := range s.listLocked(w.group, w.resource, w.namespace, w.sel) {
			if w.name == "" || metadataOf(o)["name"] == w.name {
				out = append(out, watchEvent{"ADDED", o})
			}
		}
	}
	w.ch = make(chan watchEvent, 4096)
	s.watchers[w] = struct{}{}
	return out, nil
}

func (s *store) unwatch(w *watcher) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.watchers, w)
}

// notifyLocked records the event in the history and sends it to every
// watcher it concerns. A watcher that cannot keep up is ended (its channel
// closed), as kube-apiserver's cacher ends slow watchers; its client
// watches again from the last resourceVersion it saw.
func (s *store) notifyLocked(group, resource, typ string, obj, old object) {
	h := histEvent{group, resource, typ, obj, old, s.rv}
	if s.wc != nil {
		s.cacheLocked(group, resource).add(h, time.Now())
	}
	if len(s.history) < historySize {
		s.history = append(s.history, h)
	} else if historySize > 0 {
		s.trimmed = s.history[s.next].rv
		s.history[s.next] = h
		s.next = (s.next + 1) % historySize
	} else {
		s.trimmed = s.rv
	}
	for w := range s.watchers {
		if w.group != group || w.resource != resource {
			continue
		}
		ev, ok := w.eventFor(typ, obj, old)
		if !ok {
			continue
		}
		select {
		case w.ch <- ev:
		default:
			delete(s.watchers, w)
			close(w.ch)
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
// and a field selector (a=b, a==b, a!=b) on any dotted field path, e.g.
// metadata.name, metadata.namespace, spec.nodeName, status.phase (a
// missing field is ""; numbers and booleans compare as their JSON text).
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

// fieldValue is the value of a dotted field path ("" when missing).
func fieldValue(o object, path string) string {
	var cur interface{} = map[string]interface{}(o)
	for _, p := range strings.Split(path, ".") {
		m, ok := cur.(map[string]interface{})
		if !ok {
			return ""
		}
		cur = m[p]
	}
	switch v := cur.(type) {
	case string:
		return v
	case nil:
		return ""
	case bool:
		return strconv.FormatBool(v)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	default:
		return fmt.Sprint(v)
	}
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
			v, ok = fieldValue(o, t.key), true
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
