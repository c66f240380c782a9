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
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/dynamicpb"
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
	// the wire format: Unknown{typeMeta{apiVersion, kind}, raw{Pod{metadata{name=1}}}}
	info := &requestInfo{Resource: "pods", Version: "v1"}
	b, _ := encodeProtobufObject(info, object{"apiVersion": "v1", "kind": "Pod", "metadata": map[string]interface{}{"name": "x"}})
	tm, raw := field(t, b[4:], 1), field(t, b[4:], 2)
	if string(field(t, tm, 1)) != "v1" || string(field(t, tm, 2)) != "Pod" || string(field(t, field(t, raw, 1), 1)) != "x" {
		t.Errorf("wire: %q", b)
	}
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

func decodeKind(t *testing.T, kind string, raw []byte) map[string]interface{} {
	t.Helper()
	s := protoMsgs[kind]
	m := dynamicpb.NewMessage(s.desc)
	if err := proto.Unmarshal(raw, m); err != nil {
		t.Fatal(err)
	}
	return fromMessage(m, s)
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

func BenchmarkListProtobuf500(b *testing.B) { benchList(b, true) }
func BenchmarkListJSON500(b *testing.B)     { benchList(b, false) }

func benchList(b *testing.B, pb bool) {
	info := &requestInfo{Resource: "pods", Version: "v1"}
	var objs []object
	for i := 0; i < 500; i++ {
		o := jsonRoundTrip(object(mustJSON(nil, testPod)))
		metadataOf(o)["name"] = "p" + itoa(int64(i))
		objs = append(objs, o)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if pb {
			encodeProtobufList(info, objs, "1", "")
		} else {
			json.Marshal(map[string]interface{}{"items": objs})
		}
	}
}
