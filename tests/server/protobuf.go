package main

// Kubernetes' protobuf wire format (application/vnd.kubernetes.protobuf),
// encoded and decoded for real with google.golang.org/protobuf (Debian's
// golang-google-protobuf-dev): the message descriptors below are built at
// start (descriptorpb -> protodesc) with the field numbers of
// k8s.io/api/core/v1, coordination/v1 and apimachinery's generated.proto,
// and objects go through dynamicpb messages and proto.Marshal /
// proto.Unmarshal, so a CPU profile shows the encoding in
// google.golang.org/protobuf (and the JSON path in encoding/json).
//
// A body is "k8s\x00" then a runtime.Unknown {1: typeMeta {1: apiVersion,
// 2: kind}, 2: raw (the object's message), 3: contentEncoding, 4:
// contentType}. A watch stream is frames of a 4-byte big-endian length and
// an Unknown-wrapped WatchEvent {1: type, 2: RawExtension {1: raw (the
// object, itself "k8s\x00" + Unknown)}}.
//
// Only the kinds in protoKinds have a schema; only the fields in
// protoSchema are carried (others are dropped from protobuf answers and
// cannot be sent in protobuf requests).

import (
	"encoding/binary"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
)

const contentTypeProtobuf = "application/vnd.kubernetes.protobuf"

var protoMagic = []byte("k8s\x00")

// protoKinds: resource -> kind, for the resources served in protobuf.
var protoKinds = map[string]string{
	"pods": "Pod", "nodes": "Node", "namespaces": "Namespace", "configmaps": "ConfigMap",
	"serviceaccounts": "ServiceAccount", "leases": "Lease",
}

// protoSchema: one message a line, "Name field=NUMBER:TYPE ...". TYPE is
// string, int64, int32, bool, a message name, Time (RFC 3339 seconds in
// JSON), MicroTime (RFC 3339 with microseconds), Quantity (a string in
// JSON), map<string> or map<MESSAGE> (string keys), []TYPE (repeated).
const protoSchema = `
TypeMeta apiVersion=1:string kind=2:string
Unknown typeMeta=1:TypeMeta raw=2:bytes contentEncoding=3:string contentType=4:string
RawExtension raw=1:bytes
Time seconds=1:int64 nanos=2:int32
Quantity string=1:string
WatchEvent type=1:string object=2:RawExtension
ListMeta selfLink=1:string resourceVersion=2:string continue=3:string remainingItemCount=4:int64
OwnerReference kind=1:string name=3:string uid=4:string apiVersion=5:string controller=6:bool blockOwnerDeletion=7:bool
ObjectMeta name=1:string generateName=2:string namespace=3:string selfLink=4:string uid=5:string resourceVersion=6:string generation=7:int64 creationTimestamp=8:Time deletionTimestamp=9:Time deletionGracePeriodSeconds=10:int64 labels=11:map<string> annotations=12:map<string> ownerReferences=13:[]OwnerReference finalizers=14:[]string
StatusCause reason=1:string message=2:string field=3:string
StatusDetails name=1:string group=2:string kind=3:string causes=4:[]StatusCause retryAfterSeconds=5:int32 uid=6:string
Status metadata=1:ListMeta status=2:string message=3:string reason=4:string details=5:StatusDetails code=6:int32
ContainerPort name=1:string hostPort=2:int32 containerPort=3:int32 protocol=4:string hostIP=5:string
EnvVar name=1:string value=2:string
ResourceRequirements limits=1:map<Quantity> requests=2:map<Quantity>
VolumeMount name=1:string readOnly=2:bool mountPath=3:string subPath=4:string
Container name=1:string image=2:string command=3:[]string args=4:[]string workingDir=5:string ports=6:[]ContainerPort env=7:[]EnvVar resources=8:ResourceRequirements volumeMounts=9:[]VolumeMount terminationMessagePath=13:string imagePullPolicy=14:string terminationMessagePolicy=20:string
Toleration key=1:string operator=2:string value=3:string effect=4:string tolerationSeconds=5:int64
PodSpec containers=2:[]Container restartPolicy=3:string terminationGracePeriodSeconds=4:int64 activeDeadlineSeconds=5:int64 dnsPolicy=6:string nodeSelector=7:map<string> serviceAccountName=8:string serviceAccount=9:string nodeName=10:string hostNetwork=11:bool schedulerName=19:string initContainers=20:[]Container hostname=16:string tolerations=22:[]Toleration priorityClassName=24:string priority=25:int32 enableServiceLinks=30:bool preemptionPolicy=31:string
PodCondition type=1:string status=2:string lastProbeTime=3:Time lastTransitionTime=4:Time reason=5:string message=6:string
ContainerStateWaiting reason=1:string message=2:string
ContainerStateRunning startedAt=1:Time
ContainerStateTerminated exitCode=1:int32 signal=2:int32 reason=3:string message=4:string startedAt=5:Time finishedAt=6:Time containerID=7:string
ContainerState waiting=1:ContainerStateWaiting running=2:ContainerStateRunning terminated=3:ContainerStateTerminated
ContainerStatus name=1:string state=2:ContainerState lastState=3:ContainerState ready=4:bool restartCount=5:int32 image=6:string imageID=7:string containerID=8:string started=9:bool
PodIP ip=1:string
PodStatus phase=1:string conditions=2:[]PodCondition message=3:string reason=4:string hostIP=5:string podIP=6:string startTime=7:Time containerStatuses=8:[]ContainerStatus qosClass=9:string initContainerStatuses=10:[]ContainerStatus nominatedNodeName=11:string podIPs=12:[]PodIP
Pod metadata=1:ObjectMeta spec=2:PodSpec status=3:PodStatus
PodList metadata=1:ListMeta items=2:[]Pod
Taint key=1:string value=2:string effect=3:string timeAdded=4:Time
NodeSpec podCIDR=1:string providerID=3:string unschedulable=4:bool taints=5:[]Taint podCIDRs=7:[]string
NodeCondition type=1:string status=2:string lastHeartbeatTime=3:Time lastTransitionTime=4:Time reason=5:string message=6:string
NodeAddress type=1:string address=2:string
DaemonEndpoint Port=1:int32
NodeDaemonEndpoints kubeletEndpoint=1:DaemonEndpoint
NodeSystemInfo machineID=1:string systemUUID=2:string bootID=3:string kernelVersion=4:string osImage=5:string containerRuntimeVersion=6:string kubeletVersion=7:string kubeProxyVersion=8:string operatingSystem=9:string architecture=10:string
ContainerImage names=1:[]string sizeBytes=2:int64
NodeStatus capacity=1:map<Quantity> allocatable=2:map<Quantity> phase=3:string conditions=4:[]NodeCondition addresses=5:[]NodeAddress daemonEndpoints=6:NodeDaemonEndpoints nodeInfo=7:NodeSystemInfo images=8:[]ContainerImage volumesInUse=9:[]string
Node metadata=1:ObjectMeta spec=2:NodeSpec status=3:NodeStatus
NodeList metadata=1:ListMeta items=2:[]Node
NamespaceSpec finalizers=1:[]string
NamespaceStatus phase=1:string
Namespace metadata=1:ObjectMeta spec=2:NamespaceSpec status=3:NamespaceStatus
NamespaceList metadata=1:ListMeta items=2:[]Namespace
ConfigMap metadata=1:ObjectMeta data=2:map<string> immutable=4:bool
ConfigMapList metadata=1:ListMeta items=2:[]ConfigMap
ObjectReference kind=1:string namespace=2:string name=3:string uid=4:string apiVersion=5:string resourceVersion=6:string fieldPath=7:string
LocalObjectReference name=1:string
ServiceAccount metadata=1:ObjectMeta secrets=2:[]ObjectReference imagePullSecrets=3:[]LocalObjectReference automountServiceAccountToken=4:bool
ServiceAccountList metadata=1:ListMeta items=2:[]ServiceAccount
MicroTime seconds=1:int64 nanos=2:int32
LeaseSpec holderIdentity=1:string leaseDurationSeconds=2:int32 acquireTime=3:MicroTime renewTime=4:MicroTime leaseTransitions=5:int32
Lease metadata=1:ObjectMeta spec=2:LeaseSpec
LeaseList metadata=1:ListMeta items=2:[]Lease
`

type pfield struct {
	name     string
	num      int32
	typ      string // scalar, message name, Time, MicroTime, Quantity
	repeated bool
	mapOf    string // map value type ("" if not a map)
}

type pmsg struct {
	name   string
	fields []pfield
	byNum  map[protoreflect.FieldNumber]*pfield
	desc   protoreflect.MessageDescriptor
}

var protoMsgs = map[string]*pmsg{}

const protoPkg = "cpprof.k8s"

var scalarTypes = map[string]descriptorpb.FieldDescriptorProto_Type{
	"string": descriptorpb.FieldDescriptorProto_TYPE_STRING, "int64": descriptorpb.FieldDescriptorProto_TYPE_INT64,
	"int32": descriptorpb.FieldDescriptorProto_TYPE_INT32, "bool": descriptorpb.FieldDescriptorProto_TYPE_BOOL,
	"bytes": descriptorpb.FieldDescriptorProto_TYPE_BYTES,
}

func init() {
	if err := buildProtoSchema(); err != nil {
		panic("testserver: protobuf schema: " + err.Error())
	}
}

// buildProtoSchema parses protoSchema into one FileDescriptorProto (proto2,
// like Kubernetes' generated.proto), and resolves it with protodesc.
func buildProtoSchema() error {
	fdp := &descriptorpb.FileDescriptorProto{Name: proto.String("cpprof/k8s.proto"), Package: proto.String(protoPkg),
		Syntax: proto.String("proto2")}
	var order []*pmsg
	for _, line := range strings.Split(protoSchema, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		m := &pmsg{name: f[0], byNum: map[protoreflect.FieldNumber]*pfield{}}
		dp := &descriptorpb.DescriptorProto{Name: proto.String(m.name)}
		for _, spec := range f[1:] {
			eq, colon := strings.IndexByte(spec, '='), strings.IndexByte(spec, ':')
			if eq < 0 || colon < eq {
				return fmt.Errorf("%s: bad field %q", m.name, spec)
			}
			n, err := strconv.Atoi(spec[eq+1 : colon])
			if err != nil {
				return fmt.Errorf("%s: bad field number in %q", m.name, spec)
			}
			pf := pfield{name: spec[:eq], num: int32(n), typ: spec[colon+1:]}
			if strings.HasPrefix(pf.typ, "[]") {
				pf.repeated, pf.typ = true, pf.typ[2:]
			}
			fd := &descriptorpb.FieldDescriptorProto{Name: proto.String(pf.name), Number: proto.Int32(pf.num),
				JsonName: proto.String(pf.name), Label: descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum()}
			if pf.repeated {
				fd.Label = descriptorpb.FieldDescriptorProto_LABEL_REPEATED.Enum()
			}
			if strings.HasPrefix(pf.typ, "map<") {
				pf.mapOf = strings.TrimSuffix(strings.TrimPrefix(pf.typ, "map<"), ">")
				entry := strings.ToUpper(pf.name[:1]) + pf.name[1:] + "Entry"
				ed := &descriptorpb.DescriptorProto{Name: proto.String(entry),
					Options: &descriptorpb.MessageOptions{MapEntry: proto.Bool(true)},
					Field: []*descriptorpb.FieldDescriptorProto{
						{Name: proto.String("key"), Number: proto.Int32(1), JsonName: proto.String("key"),
							Label: descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum(),
							Type:  descriptorpb.FieldDescriptorProto_TYPE_STRING.Enum()},
						{Name: proto.String("value"), Number: proto.Int32(2), JsonName: proto.String("value"),
							Label: descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum()},
					}}
				setType(ed.Field[1], pf.mapOf)
				dp.NestedType = append(dp.NestedType, ed)
				fd.Label = descriptorpb.FieldDescriptorProto_LABEL_REPEATED.Enum()
				fd.Type = descriptorpb.FieldDescriptorProto_TYPE_MESSAGE.Enum()
				fd.TypeName = proto.String("." + protoPkg + "." + m.name + "." + entry)
			} else {
				setType(fd, pf.typ)
			}
			dp.Field = append(dp.Field, fd)
			m.fields = append(m.fields, pf)
		}
		fdp.MessageType = append(fdp.MessageType, dp)
		protoMsgs[m.name] = m
		order = append(order, m)
	}
	fd, err := protodesc.NewFile(fdp, nil)
	if err != nil {
		return err
	}
	for _, m := range order {
		m.desc = fd.Messages().ByName(protoreflect.Name(m.name))
		for i := range m.fields {
			m.byNum[protoreflect.FieldNumber(m.fields[i].num)] = &m.fields[i]
		}
	}
	for res, kind := range protoKinds {
		if protoMsgs[kind] == nil || protoMsgs[kind+"List"] == nil {
			return fmt.Errorf("%s: no message %s or %sList", res, kind, kind)
		}
	}
	return nil
}

func setType(fd *descriptorpb.FieldDescriptorProto, typ string) {
	if t, ok := scalarTypes[typ]; ok {
		fd.Type = t.Enum()
		return
	}
	fd.Type = descriptorpb.FieldDescriptorProto_TYPE_MESSAGE.Enum()
	fd.TypeName = proto.String("." + protoPkg + "." + typ)
}

// ---- negotiation ----------------------------------------------------------

// mediaTypes: the Accept header's media types, highest q first (stable).
func mediaTypes(accept string) []string {
	type mt struct {
		t string
		q float64
	}
	var l []mt
	for _, part := range strings.Split(accept, ",") {
		fs := strings.Split(part, ";")
		t := strings.ToLower(strings.TrimSpace(fs[0]))
		if t == "" {
			continue
		}
		q := 1.0
		for _, p := range fs[1:] {
			p = strings.TrimSpace(p)
			if strings.HasPrefix(p, "q=") {
				if v, err := strconv.ParseFloat(p[2:], 64); err == nil {
					q = v
				}
			}
		}
		if q > 0 {
			l = append(l, mt{t, q})
		}
	}
	for i := 1; i < len(l); i++ {
		for j := i; j > 0 && l[j].q > l[j-1].q; j-- {
			l[j], l[j-1] = l[j-1], l[j]
		}
	}
	out := make([]string, len(l))
	for i, m := range l {
		out[i] = m.t
	}
	return out
}

// negotiate picks the response encoding like kube-apiserver: the first
// acceptable media type the resource has (protobuf only for the kinds in
// protoKinds); no Accept, or */*: JSON. ok=false: 406 NotAcceptable.
func negotiate(r *http.Request, info *requestInfo) (pb bool, ok bool) {
	types := mediaTypes(r.Header.Get("Accept"))
	if len(types) == 0 {
		return false, true
	}
	for _, t := range types {
		switch t {
		case contentTypeProtobuf:
			if protobufKind(info) != "" {
				return true, true
			}
		case "application/json", "application/*", "*/*", "application/yaml", "application/json;stream=watch":
			return false, true
		}
	}
	return false, false
}

func errNotAcceptable() *apiError {
	return &apiError{406, "NotAcceptable",
		"the server was unable to respond with a content type that the client supports (supported: application/json, application/vnd.kubernetes.protobuf for built-in types)", nil}
}

// protobufKind: the kind served in protobuf for this request's resource
// (core/v1 or coordination.k8s.io/v1 only), or "".
func protobufKind(info *requestInfo) string {
	k := protoKinds[info.Resource]
	if k == "" || (info.Group != "" && !(info.Group == "coordination.k8s.io" && k == "Lease")) ||
		(info.Group == "" && k == "Lease") {
		return ""
	}
	return k
}

func isProtobufBody(r *http.Request) bool {
	ct := r.Header.Get("Content-Type")
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	return strings.TrimSpace(strings.ToLower(ct)) == contentTypeProtobuf
}

// ---- objects <-> messages -------------------------------------------------

// toMessage fills m (of schema s) from a decoded-JSON map.
func toMessage(m protoreflect.Message, s *pmsg, v map[string]interface{}) error {
	fields := m.Descriptor().Fields()
	for i := range s.fields {
		f := &s.fields[i]
		val, ok := v[f.name]
		if !ok || val == nil {
			continue
		}
		fd := fields.ByNumber(protoreflect.FieldNumber(f.num))
		switch {
		case f.mapOf != "":
			mv, ok := val.(map[string]interface{})
			if !ok {
				return fmt.Errorf("%s.%s: not an object", s.name, f.name)
			}
			mp := m.Mutable(fd).Map()
			for k, e := range mv {
				pv, err := toValue(mp.NewValue, f.mapOf, e)
				if err != nil {
					return fmt.Errorf("%s.%s[%s]: %v", s.name, f.name, k, err)
				}
				mp.Set(protoreflect.ValueOfString(k).MapKey(), pv)
			}
		case f.repeated:
			lv, ok := val.([]interface{})
			if !ok {
				return fmt.Errorf("%s.%s: not an array", s.name, f.name)
			}
			l := m.Mutable(fd).List()
			for _, e := range lv {
				pv, err := toValue(l.NewElement, f.typ, e)
				if err != nil {
					return fmt.Errorf("%s.%s: %v", s.name, f.name, err)
				}
				l.Append(pv)
			}
		default:
			pv, err := toValue(func() protoreflect.Value { return m.NewField(fd) }, f.typ, val)
			if err != nil {
				return fmt.Errorf("%s.%s: %v", s.name, f.name, err)
			}
			m.Set(fd, pv)
		}
	}
	return nil
}

// toValue converts one JSON value to a protobuf value of type typ; newMsg
// makes an empty message value when typ is a message.
func toValue(newMsg func() protoreflect.Value, typ string, v interface{}) (protoreflect.Value, error) {
	switch typ {
	case "string":
		s, ok := v.(string)
		if !ok {
			return protoreflect.Value{}, fmt.Errorf("want a string, got %T", v)
		}
		return protoreflect.ValueOfString(s), nil
	case "int64":
		return protoreflect.ValueOfInt64(toInt64(v)), nil
	case "int32":
		return protoreflect.ValueOfInt32(int32(toInt64(v))), nil
	case "bool":
		b, _ := v.(bool)
		return protoreflect.ValueOfBool(b), nil
	case "bytes":
		s, _ := v.(string)
		return protoreflect.ValueOfBytes([]byte(s)), nil
	}
	pv := newMsg()
	m := pv.Message()
	switch typ {
	case "Time", "MicroTime":
		s, _ := v.(string)
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return protoreflect.Value{}, fmt.Errorf("bad time %q", s)
		}
		fs := m.Descriptor().Fields()
		m.Set(fs.ByNumber(1), protoreflect.ValueOfInt64(t.Unix()))
		if typ == "MicroTime" && t.Nanosecond() != 0 {
			m.Set(fs.ByNumber(2), protoreflect.ValueOfInt32(int32(t.Nanosecond()/1000*1000)))
		}
		return pv, nil
	case "Quantity":
		s, ok := v.(string)
		if !ok {
			s = strings.TrimSpace(fmt.Sprint(normalize(v)))
		}
		m.Set(m.Descriptor().Fields().ByNumber(1), protoreflect.ValueOfString(s))
		return pv, nil
	}
	sub := protoMsgs[typ]
	mv, ok := v.(map[string]interface{})
	if sub == nil || !ok {
		return protoreflect.Value{}, fmt.Errorf("want an object for %s, got %T", typ, v)
	}
	return pv, toMessage(m, sub, mv)
}

// fromMessage turns m (of schema s) into a decoded-JSON-like map (numbers
// as int64).
func fromMessage(m protoreflect.Message, s *pmsg) map[string]interface{} {
	out := map[string]interface{}{}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		f := s.byNum[fd.Number()]
		if f == nil {
			return true
		}
		switch {
		case f.mapOf != "":
			mv := map[string]interface{}{}
			v.Map().Range(func(k protoreflect.MapKey, e protoreflect.Value) bool {
				mv[k.String()] = fromValue(f.mapOf, e)
				return true
			})
			out[f.name] = mv
		case f.repeated:
			l := v.List()
			a := make([]interface{}, l.Len())
			for i := range a {
				a[i] = fromValue(f.typ, l.Get(i))
			}
			out[f.name] = a
		default:
			out[f.name] = fromValue(f.typ, v)
		}
		return true
	})
	return out
}

func fromValue(typ string, v protoreflect.Value) interface{} {
	switch typ {
	case "string":
		return v.String()
	case "int64":
		return v.Int()
	case "int32":
		return v.Int()
	case "bool":
		return v.Bool()
	case "bytes":
		return string(v.Bytes())
	}
	m := v.Message()
	fs := m.Descriptor().Fields()
	switch typ {
	case "Time", "MicroTime":
		t := time.Unix(m.Get(fs.ByNumber(1)).Int(), m.Get(fs.ByNumber(2)).Int()).UTC()
		if typ == "MicroTime" {
			return t.Format("2006-01-02T15:04:05.000000Z07:00")
		}
		return t.Format(time.RFC3339)
	case "Quantity":
		return m.Get(fs.ByNumber(1)).String()
	}
	return fromMessage(m, protoMsgs[typ])
}

// ---- wire format ----------------------------------------------------------

// marshalKind encodes o as message kind (proto.Marshal).
func marshalKind(kind string, o map[string]interface{}) ([]byte, error) {
	s := protoMsgs[kind]
	m := dynamicpb.NewMessage(s.desc)
	if err := toMessage(m, s, o); err != nil {
		return nil, err
	}
	return proto.MarshalOptions{Deterministic: true}.Marshal(m)
}

// wrapUnknown: "k8s\x00" + runtime.Unknown{typeMeta, raw}.
func wrapUnknown(apiVersion, kind string, raw []byte) ([]byte, error) {
	b, err := marshalKind("Unknown", map[string]interface{}{
		"typeMeta": map[string]interface{}{"apiVersion": apiVersion, "kind": kind},
		"raw":      string(raw), "contentEncoding": "", "contentType": "",
	})
	if err != nil {
		return nil, err
	}
	return append(append([]byte{}, protoMagic...), b...), nil
}

// unwrapUnknown checks the magic and returns the Unknown's apiVersion,
// kind and raw bytes.
func unwrapUnknown(b []byte) (string, string, []byte, error) {
	if len(b) < 4 || string(b[:4]) != string(protoMagic) {
		return "", "", nil, fmt.Errorf("the body does not start with the protobuf magic k8s\\x00")
	}
	s := protoMsgs["Unknown"]
	m := dynamicpb.NewMessage(s.desc)
	if err := proto.Unmarshal(b[4:], m); err != nil {
		return "", "", nil, err
	}
	u := fromMessage(m, s)
	tm, _ := u["typeMeta"].(map[string]interface{})
	av, _ := tm["apiVersion"].(string)
	kind, _ := tm["kind"].(string)
	raw, _ := u["raw"].(string)
	return av, kind, []byte(raw), nil
}

func encodeProtobufObject(info *requestInfo, o object) ([]byte, error) {
	kind := protobufKind(info)
	if k, _ := o["kind"].(string); k == "Status" {
		kind = "Status"
	}
	raw, err := marshalKind(kind, o)
	if err != nil {
		return nil, err
	}
	av, _ := o["apiVersion"].(string)
	if av == "" {
		av = apiVersionOf(info)
	}
	return wrapUnknown(av, kind, raw)
}

func encodeProtobufList(info *requestInfo, objs []object, rv, cont string) ([]byte, error) {
	kind := protobufKind(info)
	items := make([]interface{}, len(objs))
	for i, o := range objs {
		items[i] = o
	}
	md := map[string]interface{}{"resourceVersion": rv}
	if cont != "" {
		md["continue"] = cont
	}
	raw, err := marshalKind(kind+"List", map[string]interface{}{"metadata": md, "items": items})
	if err != nil {
		return nil, err
	}
	return wrapUnknown(apiVersionOf(info), kind+"List", raw)
}

// encodeProtobufWatchEvent: one frame, 4-byte big-endian length then the
// Unknown-wrapped WatchEvent whose object is the Unknown-wrapped object.
func encodeProtobufWatchEvent(info *requestInfo, ev watchEvent) ([]byte, error) {
	obj, err := encodeProtobufObject(info, ev.Object)
	if err != nil {
		return nil, err
	}
	raw, err := marshalKind("WatchEvent", map[string]interface{}{"type": ev.Type,
		"object": map[string]interface{}{"raw": string(obj)}})
	if err != nil {
		return nil, err
	}
	b, err := wrapUnknown(apiVersionOf(info), "WatchEvent", raw)
	if err != nil {
		return nil, err
	}
	frame := make([]byte, 4, 4+len(b))
	binary.BigEndian.PutUint32(frame, uint32(len(b)))
	return append(frame, b...), nil
}

// decodeProtobufObject decodes a protobuf request body into the same
// object the JSON path makes; a resource without a protobuf schema (custom
// resources, and the built-in kinds not in protoKinds) is 415, as
// kube-apiserver answers for custom resources.
func decodeProtobufObject(info *requestInfo, body []byte) (object, *apiError) {
	kind := protobufKind(info)
	if kind == "" {
		return nil, &apiError{415, "UnsupportedMediaType",
			fmt.Sprintf("the body of the request was in an unknown format - accepted media types include: application/json, application/yaml (%s has no protobuf here)", qualified(info)), nil}
	}
	av, k, raw, err := unwrapUnknown(body)
	if err != nil {
		return nil, errBadRequest("the body of the request could not be decoded as protobuf: " + err.Error())
	}
	if k != "" && k != kind {
		return nil, errBadRequest(fmt.Sprintf("the body of the request is a %s, not a %s", k, kind))
	}
	s := protoMsgs[kind]
	m := dynamicpb.NewMessage(s.desc)
	if err := proto.Unmarshal(raw, m); err != nil {
		return nil, errBadRequest("the body of the request could not be decoded as protobuf: " + err.Error())
	}
	o := fromMessage(m, s)
	if av == "" {
		av = apiVersionOf(info)
	}
	o["apiVersion"], o["kind"] = av, kind
	return o, nil
}
