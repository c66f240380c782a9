//go:build etcd

package main

// The etcd backend (build tag etcd, flag -etcd URL): every object lives in
// a real etcd, under kube-apiserver's key layout, through etcd's Go client
// (go.etcd.io/etcd/clientv3, Debian's golang-etcd-server-dev, built in
// GOPATH mode: see tests/fixtures/build.sh). The calls are the ones
// kube-apiserver's etcd3 storage makes:
//
//	get               Range key
//	list              Range prefix (the selector is applied here, as the apiserver does)
//	create            Txn(create_revision(key) == 0) Then Put Else Range: no read first
//	update/patch/...  Range key, then Txn(mod_revision(key) == read) Then Put Else Range,
//	                  retried with the Else answer when another writer came first
//	delete            Delete key (with the previous value); 404 when nothing was deleted
//	deletecollection  Range prefix, then Delete each matching key
//	watch             Range (the initial ADDED events), then Watch the key or prefix
//	                  from the next revision, with previous values for DELETED
//
// resourceVersion is etcd's revision: an object's mod_revision, a list's
// header revision. As in kube-apiserver, it is not stored in the value.
// Values are the objects' JSON (kube-apiserver stores built-in types as
// protobuf with a "k8s\x00" header, custom resources as JSON).

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/clientv3"
	"go.etcd.io/etcd/mvcc/mvccpb"
)

func init() {
	newEtcdBackend = openEtcd
}

// specialPrefixes: kube-apiserver's SpecialDefaultResourcePrefixes
// (pkg/kubeapiserver/default_storage_factory_builder.go).
var specialPrefixes = map[[2]string]string{
	{"", "replicationcontrollers"}:        "controllers",
	{"", "endpoints"}:                     "services/endpoints",
	{"", "nodes"}:                         "minions",
	{"", "services"}:                      "services/specs",
	{"extensions", "ingresses"}:           "ingress",
	{"networking.k8s.io", "ingresses"}:    "ingress",
	{"extensions", "podsecuritypolicies"}: "podsecuritypolicy",
	{"policy", "podsecuritypolicies"}:     "podsecuritypolicy",
}

// builtinGroups are served by kube-apiserver's own storage factory, whose
// default key prefix is the resource name alone (so apps/deployments and
// extensions/deployments, or core and events.k8s.io events, share keys).
// The aggregator (apiregistration.k8s.io), apiextensions (CRDs) and every
// custom resource group use "group/resource".
var builtinGroups = map[string]bool{
	"": true, "apps": true, "autoscaling": true, "batch": true, "extensions": true, "policy": true,
	"admissionregistration.k8s.io": true, "authentication.k8s.io": true, "authorization.k8s.io": true,
	"certificates.k8s.io": true, "coordination.k8s.io": true, "discovery.k8s.io": true,
	"events.k8s.io": true, "flowcontrol.apiserver.k8s.io": true, "internal.apiserver.k8s.io": true,
	"networking.k8s.io": true, "node.k8s.io": true, "rbac.authorization.k8s.io": true,
	"resource.k8s.io": true, "scheduling.k8s.io": true, "storage.k8s.io": true,
	"storagemigration.k8s.io": true,
}

// resourcePrefix is the key element(s) after the etcd prefix for a group
// and resource: "pods", "minions", "services/specs",
// "apiregistration.k8s.io/apiservices", "example.com/widgets".
func resourcePrefix(group, resource string) string {
	if p, ok := specialPrefixes[[2]string{group, resource}]; ok {
		return p
	}
	if builtinGroups[group] {
		return resource
	}
	return group + "/" + resource
}

type etcdStore struct {
	cli    *clientv3.Client
	prefix string // "/registry"
	rev    int64  // atomic: the newest revision seen, for /metrics
}

func openEtcd(endpoints []string, prefix string) (backend, func(), error) {
	cli, err := clientv3.New(clientv3.Config{Endpoints: endpoints, DialTimeout: 5 * time.Second})
	if err != nil {
		return nil, nil, err
	}
	e := &etcdStore{cli: cli, prefix: prefix}
	// One read proves etcd answers, and gives the revision that starts
	// generateName's counter (names from an earlier run do not come back).
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	resp, err := cli.Get(ctx, prefix+"/", clientv3.WithPrefix(), clientv3.WithCountOnly())
	cancel()
	if err != nil {
		cli.Close()
		return nil, nil, err
	}
	e.seen(resp.Header.Revision)
	atomic.StoreInt64(&genCounter, resp.Header.Revision)
	return e, func() { cli.Close() }, nil
}

func (e *etcdStore) key(group, resource, ns, name string) string {
	if ns == "" {
		return e.prefix + "/" + resourcePrefix(group, resource) + "/" + name
	}
	return e.prefix + "/" + resourcePrefix(group, resource) + "/" + ns + "/" + name
}

// collection is the prefix of every key of a resource (ns "") or of one namespace.
func (e *etcdStore) collection(group, resource, ns string) string {
	if ns == "" {
		return e.prefix + "/" + resourcePrefix(group, resource) + "/"
	}
	return e.prefix + "/" + resourcePrefix(group, resource) + "/" + ns + "/"
}

func (e *etcdStore) seen(rev int64) {
	for {
		cur := atomic.LoadInt64(&e.rev)
		if rev <= cur || atomic.CompareAndSwapInt64(&e.rev, cur, rev) {
			return
		}
	}
}

func (e *etcdStore) currentRV() string {
	return strconv.FormatInt(atomic.LoadInt64(&e.rev), 10)
}

func etcdError(err error) *apiError {
	return &apiError{500, "InternalError", "Internal error occurred: etcd: " + err.Error(), nil}
}

// decode turns a stored value into an object whose resourceVersion is rev.
func decode(kv *mvccpb.KeyValue, rev int64) (object, *apiError) {
	var o object
	if err := json.Unmarshal(kv.Value, &o); err != nil || o == nil {
		return nil, &apiError{500, "InternalError",
			fmt.Sprintf("Internal error occurred: etcd key %q does not hold a JSON object (written by something else?)", kv.Key), nil}
	}
	metadataOf(o)["resourceVersion"] = strconv.FormatInt(rev, 10)
	return o, nil
}

func newUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func (e *etcdStore) get(ctx context.Context, group, resource, ns, name string) (object, *apiError) {
	resp, err := e.cli.Get(ctx, e.key(group, resource, ns, name))
	if err != nil {
		return nil, etcdError(err)
	}
	e.seen(resp.Header.Revision)
	if len(resp.Kvs) == 0 {
		return nil, nil
	}
	return decode(resp.Kvs[0], resp.Kvs[0].ModRevision)
}

// rangeAll reads every object under prefix that sel matches (etcd returns
// them sorted by key: namespace, then name).
func (e *etcdStore) rangeAll(ctx context.Context, prefix string, sel selector) ([]object, []*mvccpb.KeyValue, int64, *apiError) {
	resp, err := e.cli.Get(ctx, prefix, clientv3.WithPrefix())
	if err != nil {
		return nil, nil, 0, etcdError(err)
	}
	e.seen(resp.Header.Revision)
	objs := make([]object, 0, len(resp.Kvs))
	var kvs []*mvccpb.KeyValue
	for _, kv := range resp.Kvs {
		o, aerr := decode(kv, kv.ModRevision)
		if aerr != nil {
			return nil, nil, 0, aerr
		}
		if sel.matches(o) {
			objs = append(objs, o)
			kvs = append(kvs, kv)
		}
	}
	return objs, kvs, resp.Header.Revision, nil
}

func (e *etcdStore) list(ctx context.Context, group, resource, ns string, sel selector) ([]object, string, *apiError) {
	objs, _, rev, aerr := e.rangeAll(ctx, e.collection(group, resource, ns), sel)
	if aerr != nil {
		return nil, "", aerr
	}
	return objs, strconv.FormatInt(rev, 10), nil
}

// txnResult: ok, or the key's current value (nil: none) when the compare failed.
func (e *etcdStore) txn(ctx context.Context, cmp clientv3.Cmp, op clientv3.Op, key string) (*clientv3.TxnResponse, *mvccpb.KeyValue, *apiError) {
	resp, err := e.cli.Txn(ctx).If(cmp).Then(op).Else(clientv3.OpGet(key)).Commit()
	if err != nil {
		return nil, nil, etcdError(err)
	}
	e.seen(resp.Header.Revision)
	if resp.Succeeded {
		return resp, nil, nil
	}
	if rr := resp.Responses[0].GetResponseRange(); rr != nil && len(rr.Kvs) > 0 {
		return resp, rr.Kvs[0], nil
	}
	return resp, nil, nil
}

// put writes nobj if key is still at cur (nil: absent). Returns the stored
// object, or done=false and the key's current value.
func (e *etcdStore) put(ctx context.Context, key string, cur *mvccpb.KeyValue, nobj object) (object, bool, *mvccpb.KeyValue, *apiError) {
	md := metadataOf(nobj)
	delete(md, "resourceVersion")
	cmp := clientv3.Compare(clientv3.CreateRevision(key), "=", 0)
	if cur == nil {
		md["uid"] = newUID()
		md["creationTimestamp"] = time.Now().UTC().Format(time.RFC3339)
	} else {
		cmp = clientv3.Compare(clientv3.ModRevision(key), "=", cur.ModRevision)
	}
	b, err := json.Marshal(nobj)
	if err != nil {
		return nil, false, nil, &apiError{500, "InternalError", "Internal error occurred: encoding: " + err.Error(), nil}
	}
	resp, now, aerr := e.txn(ctx, cmp, clientv3.OpPut(key, string(b)), key)
	if aerr != nil {
		return nil, false, nil, aerr
	}
	if !resp.Succeeded {
		return nil, false, now, nil
	}
	md["resourceVersion"] = strconv.FormatInt(resp.Header.Revision, 10)
	return nobj, true, nil, nil
}

func (e *etcdStore) mutate(ctx context.Context, group, resource, ns, name string, fn mutateFunc) (object, *apiError) {
	key := e.key(group, resource, ns, name)
	var cur *mvccpb.KeyValue
	known := false
	// A create reads nothing first: one Txn (kube-apiserver's Create). If
	// the key exists, the Else branch's Range answers fn (409 for a create).
	if nobj, ev, aerr := fn(nil); aerr == nil && ev == "ADDED" && nobj != nil {
		out, done, now, aerr := e.put(ctx, key, nil, nobj)
		if aerr != nil || done {
			return out, aerr
		}
		cur, known = now, true
	}
	for attempt := 0; attempt < 100; attempt++ {
		if !known {
			resp, err := e.cli.Get(ctx, key)
			if err != nil {
				return nil, etcdError(err)
			}
			e.seen(resp.Header.Revision)
			cur = nil
			if len(resp.Kvs) > 0 {
				cur = resp.Kvs[0]
			}
		}
		var old object
		if cur != nil {
			var aerr *apiError
			if old, aerr = decode(cur, cur.ModRevision); aerr != nil {
				return nil, aerr
			}
		}
		nobj, ev, aerr := fn(old)
		if aerr != nil {
			return nil, aerr
		}
		if ev == "DELETED" || nobj == nil {
			if cur == nil {
				return nil, nil
			}
			resp, now, aerr := e.txn(ctx, clientv3.Compare(clientv3.ModRevision(key), "=", cur.ModRevision), clientv3.OpDelete(key), key)
			if aerr != nil {
				return nil, aerr
			}
			if resp.Succeeded {
				metadataOf(old)["resourceVersion"] = strconv.FormatInt(resp.Header.Revision, 10)
				return old, nil
			}
			cur, known = now, true
			continue
		}
		out, done, now, aerr := e.put(ctx, key, cur, nobj)
		if aerr != nil || done {
			return out, aerr
		}
		cur, known = now, true
	}
	return nil, &apiError{409, "Conflict", fmt.Sprintf("Operation cannot be fulfilled on %s %q: too many concurrent changes", resource, name), nil}
}

func (e *etcdStore) remove(ctx context.Context, group, resource, ns, name string) (object, *apiError) {
	resp, err := e.cli.Delete(ctx, e.key(group, resource, ns, name), clientv3.WithPrevKV())
	if err != nil {
		return nil, etcdError(err)
	}
	e.seen(resp.Header.Revision)
	if resp.Deleted == 0 || len(resp.PrevKvs) == 0 {
		return nil, nil
	}
	return decode(resp.PrevKvs[0], resp.Header.Revision)
}

func (e *etcdStore) deleteCollection(ctx context.Context, group, resource, ns string, sel selector) ([]object, string, *apiError) {
	objs, kvs, rev, aerr := e.rangeAll(ctx, e.collection(group, resource, ns), sel)
	if aerr != nil {
		return nil, "", aerr
	}
	out := objs[:0]
	for i, kv := range kvs {
		resp, err := e.cli.Delete(ctx, string(kv.Key))
		if err != nil {
			return nil, "", etcdError(err)
		}
		e.seen(resp.Header.Revision)
		rev = resp.Header.Revision
		if resp.Deleted > 0 {
			out = append(out, objs[i])
		}
	}
	return out, strconv.FormatInt(rev, 10), nil
}

// watch: without a resourceVersion, Range first (the ADDED events) and
// Watch from the next revision; with ?resourceVersion=N, Watch from N+1
// (etcd answers ErrCompacted when N+1 is compacted: a 410 Expired ERROR
// event, as kube-apiserver sends).
func (e *etcdStore) watch(ctx context.Context, w *watcher) ([]watchEvent, *apiError) {
	key := e.collection(w.group, w.resource, w.namespace)
	var opts []clientv3.OpOption
	if w.name != "" {
		key = e.key(w.group, w.resource, w.namespace, w.name)
	} else {
		opts = append(opts, clientv3.WithPrefix())
	}
	var initial []watchEvent
	from := w.sinceRV + 1
	if w.sinceRV <= 0 {
		resp, err := e.cli.Get(ctx, key, opts...)
		if err != nil {
			return nil, etcdError(err)
		}
		e.seen(resp.Header.Revision)
		w.snapshotRV = resp.Header.Revision
		for _, kv := range resp.Kvs {
			o, aerr := decode(kv, kv.ModRevision)
			if aerr != nil {
				return nil, aerr
			}
			if w.sel.matches(o) {
				initial = append(initial, watchEvent{"ADDED", o})
			}
		}
		from = resp.Header.Revision + 1
	}
	wctx, cancel := context.WithCancel(ctx)
	wch := e.cli.Watch(clientv3.WithRequireLeader(wctx), key,
		append(opts, clientv3.WithRev(from), clientv3.WithPrevKV())...)
	ch := make(chan watchEvent, 64)
	w.ch, w.cancel = ch, cancel
	go func() {
		defer close(ch)
		for wr := range wch {
			if wr.CompactRevision != 0 {
				aerr := errExpired(w.sinceRV, wr.CompactRevision)
				select {
				case ch <- watchEvent{"ERROR", newStatus(aerr.code, aerr.reason, aerr.message, nil)}:
				case <-wctx.Done():
				}
				return
			}
			if wr.Err() != nil { // canceled, no leader: end the stream
				return
			}
			for _, ev := range wr.Events {
				var typ string
				var obj, old object
				var aerr *apiError
				switch {
				case ev.Type == mvccpb.DELETE && ev.PrevKv != nil:
					typ = "DELETED"
					obj, aerr = decode(ev.PrevKv, ev.Kv.ModRevision)
				case ev.Type == mvccpb.PUT:
					typ = "MODIFIED"
					if ev.IsCreate() {
						typ = "ADDED"
					} else if ev.PrevKv != nil {
						old, _ = decode(ev.PrevKv, ev.PrevKv.ModRevision)
					}
					obj, aerr = decode(ev.Kv, ev.Kv.ModRevision)
				default:
					continue
				}
				e.seen(ev.Kv.ModRevision)
				if aerr != nil {
					continue
				}
				we, ok := w.eventFor(typ, obj, old)
				if !ok {
					continue
				}
				select {
				case ch <- we:
				case <-wctx.Done():
					return
				}
			}
		}
	}()
	return initial, nil
}

func (e *etcdStore) unwatch(w *watcher) {
	if w.cancel != nil {
		w.cancel()
	}
}
