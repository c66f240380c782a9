package main

import (
	"encoding/binary"
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"

	"cpprof.test/testserver/corepb"
)

const pbAccept = "application/vnd.kubernetes.protobuf, application/json"

var testPod = `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p1","namespace":"default","labels":{"app":"x"},
"annotations":{"a":"b"},"ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"rs","uid":"u1","controller":true}]},
"spec":{"nodeName":"n1","containers":[{"name":"c","image":"pause","ports":[{"containerPort":80,"protocol":"TCP"}],
"resources":{"requests":{"cpu":"100m","memory":"64Mi"}}}],"tolerations":[{"key":"k","operator":"Exists","tolerationSeconds":300}]},
"status":{"phase":"Running","conditions":[{"type":"Ready","status":"True","lastTransitionTime":"2024-01-02T03:04:05Z"}],
"containerStatuses":[{"name":"c","ready":true,"restartCount":2,"state":{"running":{"startedAt":"2024-01-02T03:04:05Z"}}}],"podIP":"10.0.0.5"}}`

var testNode = `{"apiVersion":"v1","kind":"Node","metadata":{"name":"n1","labels":{"kubernetes.io/hostname":"n1"}},
"spec":{"podCIDR":"10.1.0.0/24","taints":[{"key":"t","effect":"NoSchedule"}]},
"status":{"capacity":{"cpu":"4","memory":"8Gi","pods":"110"},"allocatable":{"cpu":"3900m"},
"conditions":[{"type":"Ready","status":"True","lastHeartbeatTime":"2024-01-02T03:04:05Z","reason":"KubeletReady"}],
"addresses":[{"type":"InternalIP","address":"10.0.0.1"}],"daemonEndpoints":{"kubeletEndpoint":{"Port":10250}},
"nodeInfo":{"kubeletVersion":"v1.30.0","architecture":"amd64"},"images":[{"names":["pause:3.9"],"sizeBytes":744000}]}}`

// TestProtobufRoundTrip: JSON -> protobuf -> the same object.
func TestProtobufRoundTrip(t *testing.T) {
	for _, c := range []struct{ resource, body string }{{"pods", testPod}, {"nodes", testNode},
		{"leases", `{"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"name":"n1","namespace":"kube-node-lease"},"spec":{"holderIdentity":"n1","leaseDurationSeconds":40,"renewTime":"2024-01-02T03:04:05.123456Z"}}`}} {
		info := &requestInfo{Resource: c.resource, Version: "v1"}
		if c.resource == "leases" {
			info.Group = "coordination.k8s.io"
		}
		in := jsonRoundTrip(object(mustJSON(t, c.body)))
		b, err := encodeProtobufObject(info, in)
		if err != nil {
			t.Fatal(err)
		}
		if string(b[:4]) != "k8s\x00" {
			t.Fatalf("no magic: %q", b[:8])
		}
		out, aerr := decodeProtobufObject(info, b)
		if aerr != nil {
			t.Fatal(aerr.message)
		}
		if got := jsonRoundTrip(out); !reflect.DeepEqual(normalize(got), normalize(in)) {
			t.Errorf("%s round trip:\n got %v\nwant %v", c.resource, got, in)
		}
	}
	// the generated encoding read back with protowire (an independent
	// decoder), field numbers of k8s.io/api's generated.proto
	checkWire(t)
	// the wire format: Unknown{typeMeta{apiVersion, kind}, raw{Pod{metadata{name=1}}}}
	info := &requestInfo{Resource: "pods", Version: "v1"}
	b, _ := encodeProtobufObject(info, object{"apiVersion": "v1", "kind": "Pod", "metadata": map[string]interface{}{"name": "x"}})
	tm, raw := field(t, b[4:], 1), field(t, b[4:], 2)
	if string(field(t, tm, 1)) != "v1" || string(field(t, tm, 2)) != "Pod" || string(field(t, field(t, raw, 1), 1)) != "x" {
		t.Errorf("wire: %q", b)
	}
}

func checkWire(t *testing.T) {
	info := &requestInfo{Resource: "pods", Version: "v1"}
	b, err := encodeProtobufObject(info, jsonRoundTrip(object(mustJSON(t, testPod))))
	if err != nil {
		t.Fatal(err)
	}
	u := b[4:]
	if string(field(t, u, 3)) != "" || string(field(t, u, 4)) != "" {
		t.Errorf("Unknown contentEncoding/contentType not empty")
	}
	pod := field(t, u, 2)
	md, spec, st := field(t, pod, 1), field(t, pod, 2), field(t, pod, 3)
	str := func(b []byte, n protowire.Number) string { return string(field(t, b, n)) }
	if str(md, 1) != "p1" || str(md, 3) != "default" || str(field(t, md, 13), 3) != "rs" ||
		varint(t, field(t, md, 13), 6) != 1 {
		t.Errorf("ObjectMeta: %q", md)
	}
	if lbl := field(t, md, 11); str(lbl, 1) != "app" || str(lbl, 2) != "x" {
		t.Errorf("labels entry: %q", lbl)
	}
	c := field(t, spec, 2)
	port := field(t, c, 6)
	req := field(t, field(t, c, 8), 2) // resources.requests, sorted: cpu first
	if str(spec, 10) != "n1" || str(c, 1) != "c" || str(c, 2) != "pause" || varint(t, port, 3) != 80 ||
		str(port, 4) != "TCP" || str(req, 1) != "cpu" || str(field(t, req, 2), 1) != "100m" {
		t.Errorf("PodSpec: %q", spec)
	}
	if tol := field(t, spec, 22); str(tol, 1) != "k" || varint(t, tol, 5) != 300 {
		t.Errorf("toleration: %q", tol)
	}
	cs := field(t, st, 8)
	started := field(t, field(t, field(t, cs, 2), 2), 1) // state.running.startedAt
	if str(st, 1) != "Running" || str(st, 6) != "10.0.0.5" || varint(t, cs, 4) != 1 || varint(t, cs, 5) != 2 ||
		varint(t, started, 1) != 1704164645 {
		t.Errorf("PodStatus: %q", st)
	}
	// a Lease's MicroTime keeps microseconds
	linfo := &requestInfo{Group: "coordination.k8s.io", Resource: "leases", Version: "v1"}
	b, err = encodeProtobufObject(linfo, object{"metadata": map[string]interface{}{"name": "n1"},
		"spec": map[string]interface{}{"holderIdentity": "n1", "renewTime": "2024-01-02T03:04:05.123456789Z"}})
	if err != nil {
		t.Fatal(err)
	}
	if str(field(t, b[4:], 1), 1) != "coordination.k8s.io/v1" || str(field(t, b[4:], 1), 2) != "Lease" {
		t.Errorf("lease typeMeta: %q", b)
	}
	rt := field(t, field(t, field(t, b[4:], 2), 2), 4)
	if varint(t, rt, 1) != 1704164645 || varint(t, rt, 2) != 123456000 {
		t.Errorf("renewTime: %q", rt)
	}
	// a list: ListMeta and one item per object
	objs := []object{jsonRoundTrip(object(mustJSON(t, testPod))), jsonRoundTrip(object(mustJSON(t, testPod)))}
	b, err = encodeProtobufList(info, objs, "42", "next")
	if err != nil {
		t.Fatal(err)
	}
	list := field(t, b[4:], 2)
	if str(field(t, b[4:], 1), 2) != "PodList" || str(field(t, list, 1), 2) != "42" || str(field(t, list, 1), 3) != "next" ||
		count(t, list, 2) != 2 {
		t.Errorf("PodList: %q", list)
	}
}

// varint returns the first varint field num.
func varint(t *testing.T, b []byte, num protowire.Number) uint64 {
	t.Helper()
	for len(b) > 0 {
		n, typ, l := protowire.ConsumeTag(b)
		if l < 0 {
			t.Fatalf("bad tag")
		}
		b = b[l:]
		if typ == protowire.VarintType && n == num {
			v, _ := protowire.ConsumeVarint(b)
			return v
		}
		if l = protowire.ConsumeFieldValue(n, typ, b); l < 0 {
			t.Fatalf("bad field %d", n)
		}
		b = b[l:]
	}
	t.Fatalf("no varint field %d", num)
	return 0
}

// count: how many times field num occurs.
func count(t *testing.T, b []byte, num protowire.Number) int {
	t.Helper()
	c := 0
	for len(b) > 0 {
		n, typ, l := protowire.ConsumeTag(b)
		if l < 0 {
			t.Fatalf("bad tag")
		}
		b = b[l:]
		if n == num {
			c++
		}
		if l = protowire.ConsumeFieldValue(n, typ, b); l < 0 {
			t.Fatalf("bad field %d", n)
		}
		b = b[l:]
	}
	return c
}

func mustJSON(t *testing.T, s string) map[string]interface{} {
	var m map[string]interface{}
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// jsonRoundTrip: the object as encoding/json decodes it.
func jsonRoundTrip(o object) object {
	b, _ := json.Marshal(o)
	var out object
	json.Unmarshal(b, &out)
	return out
}

// field returns the bytes of the first length-delimited field num.
func field(t *testing.T, b []byte, num protowire.Number) []byte {
	t.Helper()
	for len(b) > 0 {
		n, typ, l := protowire.ConsumeTag(b)
		if l < 0 {
			t.Fatalf("bad tag")
		}
		b = b[l:]
		if typ == protowire.BytesType {
			v, l := protowire.ConsumeBytes(b)
			if n == num {
				return v
			}
			b = b[l:]
			continue
		}
		l = protowire.ConsumeFieldValue(n, typ, b)
		b = b[l:]
	}
	t.Fatalf("no field %d", num)
	return nil
}

func TestProtobufHTTP(t *testing.T) {
	e := newTestEnv(t, nil)
	info := &requestInfo{Resource: "pods", Version: "v1"}
	pb, _ := encodeProtobufObject(info, jsonRoundTrip(object(mustJSON(t, testPod))))
	// create with a protobuf body, answer in protobuf
	c, b, h := e.do("POST", "/api/v1/namespaces/default/pods", contentTypeProtobuf, string(pb), "Accept", pbAccept)
	if c != 201 || h.Get("Content-Type") != contentTypeProtobuf {
		t.Fatalf("create: %d %s %q", c, h.Get("Content-Type"), b)
	}
	created, aerr := decodeProtobufObject(info, b)
	if aerr != nil || fieldValue(created, "spec.nodeName") != "n1" || fieldValue(created, "metadata.uid") == "" {
		t.Fatalf("created: %v %v", created, aerr)
	}
	// the JSON view of the same object
	j := e.must(200, "GET", "/api/v1/namespaces/default/pods/p1", "", "")
	if fieldValue(j, "status.containerStatuses") == "" || fieldValue(j, "spec.nodeName") != "n1" {
		t.Errorf("json get: %v", j)
	}
	for i := 0; i < 20; i++ {
		o := jsonRoundTrip(object(mustJSON(t, testPod)))
		metadataOf(o)["name"] = "q" + itoa(int64(i))
		pb, _ := encodeProtobufObject(info, o)
		if c, b, _ := e.do("POST", "/api/v1/namespaces/default/pods", contentTypeProtobuf, string(pb)); c != 201 {
			t.Fatalf("create %d: %s", c, b)
		}
	}
	// list in protobuf
	c, b, h = e.do("GET", "/api/v1/namespaces/default/pods?fieldSelector=spec.nodeName%3Dn1", "", "", "Accept", pbAccept)
	if c != 200 || h.Get("Content-Type") != contentTypeProtobuf {
		t.Fatalf("list: %d %q", c, b)
	}
	_, kind, raw, err := unwrapUnknown(b)
	if err != nil || kind != "PodList" {
		t.Fatalf("list: %v %s", err, kind)
	}
	list := decodeKind(t, "PodList", raw)
	if n := len(list["items"].([]interface{})); n != 21 || fieldValue(list, "metadata.resourceVersion") == "" {
		t.Errorf("list: %d items, %v", n, list["metadata"])
	}
	// node list
	e.must(201, "POST", "/api/v1/nodes", "", testNode)
	_, b, _ = e.do("GET", "/api/v1/nodes", "", "", "Accept", contentTypeProtobuf)
	_, kind, raw, _ = unwrapUnknown(b)
	nl := decodeKind(t, "NodeList", raw)
	if kind != "NodeList" || fieldValue(nl["items"].([]interface{})[0].(map[string]interface{}), "status.nodeInfo.kubeletVersion") != "v1.30.0" {
		t.Errorf("node list: %s %v", kind, nl)
	}
	// update with protobuf
	created["spec"].(map[string]interface{})["activeDeadlineSeconds"] = int64(9)
	pb, _ = encodeProtobufObject(info, created)
	if c, b, _ := e.do("PUT", "/api/v1/namespaces/default/pods/p1", contentTypeProtobuf, string(pb)); c != 200 {
		t.Errorf("update: %d %s", c, b)
	}
	// no protobuf for deployments: JSON when JSON is acceptable, 406 when
	// not, 415 for a protobuf body
	if c, _, h := e.do("GET", "/apis/apps/v1/deployments", "", "", "Accept", pbAccept); c != 200 || h.Get("Content-Type") != "application/json" {
		t.Errorf("deployments, pb+json: %d %s", c, h.Get("Content-Type"))
	}
	if c, _, _ := e.do("GET", "/apis/apps/v1/deployments", "", "", "Accept", contentTypeProtobuf); c != 406 {
		t.Errorf("deployments, pb only: %d", c)
	}
	if c, _, _ := e.do("POST", "/apis/example.com/v1/namespaces/default/widgets", contentTypeProtobuf, string(pb)); c != 415 {
		t.Errorf("custom resource, pb body: %d", c)
	}
}

// decodeKind decodes a list or a WatchEvent with the generated Unmarshal.
func decodeKind(t *testing.T, kind string, raw []byte) map[string]interface{} {
	t.Helper()
	var items []interface{}
	var md corepb.ListMeta
	var err error
	switch kind {
	case "PodList":
		var l corepb.PodList
		err = l.Unmarshal(raw)
		for i := range l.Items {
			items = append(items, map[string]interface{}(fromPod(&l.Items[i])))
		}
		md = l.Metadata
	case "NodeList":
		var l corepb.NodeList
		err = l.Unmarshal(raw)
		for i := range l.Items {
			items = append(items, map[string]interface{}(fromNode(&l.Items[i])))
		}
		md = l.Metadata
	case "WatchEvent":
		var ev corepb.WatchEvent
		if err = ev.Unmarshal(raw); err != nil {
			t.Fatal(err)
		}
		return map[string]interface{}{"type": ev.Type, "object": map[string]interface{}{"raw": string(ev.Object.Raw)}}
	default:
		t.Fatalf("decodeKind %s", kind)
	}
	if err != nil {
		t.Fatal(err)
	}
	return map[string]interface{}{"items": items,
		"metadata": map[string]interface{}{"resourceVersion": md.ResourceVersion, "continue": md.Continue}}
}

func TestProtobufWatch(t *testing.T) {
	e := newTestEnv(t, nil)
	rv := e.api.store.currentRV()
	e.must(201, "POST", "/api/v1/namespaces/default/pods", "", pod("a", "", ""))
	e.must(200, "DELETE", "/api/v1/namespaces/default/pods/a", "", "")
	req, _ := http.NewRequest("GET", e.url+"/api/v1/namespaces/default/pods?watch=1&timeoutSeconds=1&resourceVersion="+rv, nil)
	req.Header.Set("Accept", contentTypeProtobuf)
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != contentTypeProtobuf+";stream=watch" {
		t.Fatalf("content type %q", ct)
	}
	b, _ := io.ReadAll(resp.Body)
	if d := time.Since(start); d < 900*time.Millisecond || d > 3*time.Second {
		t.Errorf("timeoutSeconds=1 took %s", d)
	}
	var got []string
	for len(b) >= 4 {
		n := binary.BigEndian.Uint32(b)
		frame := b[4 : 4+n]
		b = b[4+n:]
		_, kind, raw, err := unwrapUnknown(frame)
		if err != nil || kind != "WatchEvent" {
			t.Fatalf("frame: %v %s", err, kind)
		}
		ev := decodeKind(t, "WatchEvent", raw)
		objRaw := ev["object"].(map[string]interface{})["raw"].(string)
		o, aerr := decodeProtobufObject(&requestInfo{Resource: "pods", Version: "v1"}, []byte(objRaw))
		if aerr != nil {
			t.Fatal(aerr.message)
		}
		got = append(got, ev["type"].(string)+":"+fieldValue(o, "metadata.name"))
	}
	if strings.Join(got, " ") != "ADDED:a DELETED:a" {
		t.Errorf("events: %v", got)
	}
}

func TestSerializeInChild(t *testing.T) {
	e := newTestEnv(t, func(a *apiServer, s *server) { a.serializeInChild = true })
	for i := 0; i < 5; i++ {
		e.must(201, "POST", "/api/v1/namespaces/default/pods", "", pod("p"+itoa(int64(i)), "", ""))
	}
	if l := e.must(200, "GET", "/api/v1/pods", "", ""); len(names(l)) != 5 {
		t.Errorf("list: %v", names(l))
	}
	if c, _, _ := e.do("GET", "/api/v1/pods", "", "", "Accept", pbAccept); c != 200 {
		t.Errorf("pb list: %d", c)
	}
}

// The server's two list paths for 500 pods: encodeJSONList (encoding/json),
// encodeProtobufList (objects -> corepb structs -> generated Marshal, in
// the Unknown envelope); and the protobuf path's two halves.
func BenchmarkListProtobuf500(b *testing.B)            { benchList(b, "pb") }
func BenchmarkListJSON500(b *testing.B)                { benchList(b, "json") }
func BenchmarkListProtobufConvertOnly500(b *testing.B) { benchList(b, "convert") }
func BenchmarkListProtobufMarshalOnly500(b *testing.B) { benchList(b, "marshal") }

func benchList(b *testing.B, what string) {
	info := &requestInfo{Resource: "pods", Version: "v1"}
	var objs []object
	for i := 0; i < 500; i++ {
		o := jsonRoundTrip(object(mustJSON(nil, testPod)))
		metadataOf(o)["name"] = "p" + itoa(int64(i))
		objs = append(objs, o)
	}
	m, _ := toListMessage("Pod", objs, corepb.ListMeta{ResourceVersion: "1"})
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var err error
		switch what {
		case "pb":
			_, err = encodeProtobufList(info, objs, "1", "")
		case "json":
			_, err = encodeJSONList(info, objs, "1", "")
		case "convert":
			_, err = toListMessage("Pod", objs, corepb.ListMeta{ResourceVersion: "1"})
		case "marshal":
			_, err = marshalUnknown("v1", "PodList", m)
		}
		if err != nil {
			b.Fatal(err)
		}
	}
}
