package main

// Kubernetes' protobuf wire format (application/vnd.kubernetes.protobuf),
// encoded and decoded with GENERATED gogo code, as kube-apiserver does:
// corepb/ holds trimmed copies of k8s.io/api core/v1 and coordination/v1
// and apimachinery's meta/v1, runtime and resource generated.proto (same
// proto packages and field numbers) and the Go code Debian's protoc +
// protoc-gen-gogo make of them (corepb/generate.sh): (*Pod).Marshal,
// MarshalToSizedBuffer, Size, Unmarshal... on plain structs. The server
// keeps objects as decoded JSON (map[string]interface{}), so a protobuf
// answer is object -> corepb struct (direct field copies, below) ->
// generated Marshal; a protobuf body is generated Unmarshal -> struct ->
// object. Nothing goes through JSON or reflection.
//
// A body is "k8s\x00" then a runtime.Unknown {1: typeMeta {1: apiVersion,
// 2: kind}, 2: raw (the object's message), 3: contentEncoding, 4:
// contentType}. A watch stream is frames of a 4-byte big-endian length and
// an Unknown-wrapped WatchEvent {1: type, 2: RawExtension {1: raw (the
// object, itself "k8s\x00" + Unknown)}}.
//
// Only the kinds in protoKinds (and Status) have messages; only the fields
// of corepb/*.proto are carried (others are dropped from protobuf answers
// and cannot be sent in protobuf requests).

import (
	"encoding/binary"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"cpprof.test/testserver/corepb"
)

const contentTypeProtobuf = "application/vnd.kubernetes.protobuf"

var protoMagic = []byte("k8s\x00")

// protoKinds: resource -> kind, for the resources served in protobuf.
var protoKinds = map[string]string{
	"pods": "Pod", "nodes": "Node", "namespaces": "Namespace", "configmaps": "ConfigMap",
	"serviceaccounts": "ServiceAccount", "leases": "Lease",
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

// ---- objects -> generated structs ------------------------------------------

// enc copies decoded-JSON values into corepb structs: one pass over each
// JSON object's keys (a switch, not a map lookup per field), direct field
// copies. The first type mismatch is kept in err (a 500 for answers).
type enc struct{ err error }

func (c *enc) fail(k, want string, v interface{}) {
	if c.err == nil {
		c.err = fmt.Errorf("%s: want %s, got %T", k, want, v)
	}
}

func (c *enc) str(k string, v interface{}) string {
	s, ok := v.(string)
	if !ok {
		c.fail(k, "a string", v)
	}
	return s
}

func (c *enc) strp(k string, v interface{}) *string { s := c.str(k, v); return &s }

func (c *enc) i32(v interface{}) int32 { return int32(toInt64(v)) }

func (c *enc) i64p(v interface{}) *int64 { n := toInt64(v); return &n }

func (c *enc) i32p(v interface{}) *int32 { n := int32(toInt64(v)); return &n }

func (c *enc) bool(v interface{}) bool { b, _ := v.(bool); return b }

func (c *enc) boolp(v interface{}) *bool { b, _ := v.(bool); return &b }

func (c *enc) obj(k string, v interface{}) map[string]interface{} {
	o, ok := v.(map[string]interface{})
	if !ok {
		c.fail(k, "an object", v)
	}
	return o
}

// objs: the objects of the JSON array v, for an n-element slice made by
// the caller; f fills element i.
func (c *enc) objs(k string, v interface{}, f func(i int, e map[string]interface{})) int {
	l, ok := v.([]interface{})
	if !ok {
		c.fail(k, "an array", v)
	}
	for i, e := range l {
		o, ok := e.(map[string]interface{})
		if !ok {
			c.fail(k, "an array of objects", e)
			continue
		}
		f(i, o)
	}
	return len(l)
}

func arrayLen(v interface{}) int { l, _ := v.([]interface{}); return len(l) }

func (c *enc) strs(k string, v interface{}) []string {
	l, ok := v.([]interface{})
	if !ok {
		c.fail(k, "an array", v)
	}
	if len(l) == 0 {
		return nil
	}
	out := make([]string, len(l))
	for i, e := range l {
		out[i] = c.str(k, e)
	}
	return out
}

func (c *enc) strMap(k string, v interface{}) map[string]string {
	o := c.obj(k, v)
	if len(o) == 0 {
		return nil
	}
	out := make(map[string]string, len(o))
	for key, e := range o {
		out[key] = c.str(k, e)
	}
	return out
}

// quantities: a ResourceList; a quantity is a string, or a JSON number.
func (c *enc) quantities(k string, v interface{}) map[string]corepb.Quantity {
	o := c.obj(k, v)
	if len(o) == 0 {
		return nil
	}
	out := make(map[string]corepb.Quantity, len(o))
	for key, e := range o {
		s, ok := e.(string)
		if !ok {
			s = strings.TrimSpace(fmt.Sprint(normalize(e)))
		}
		out[key] = corepb.Quantity{String_: s}
	}
	return out
}

func (c *enc) parseTime(k string, v interface{}) time.Time {
	s, _ := v.(string)
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil && c.err == nil {
		c.err = fmt.Errorf("%s: bad time %q", k, s)
	}
	return t
}

// time: metav1.Time, seconds precision.
func (c *enc) time(k string, v interface{}) corepb.Time {
	return corepb.Time{Seconds: c.parseTime(k, v).Unix()}
}

func (c *enc) timep(k string, v interface{}) *corepb.Time { t := c.time(k, v); return &t }

// microTimep: metav1.MicroTime, nanos rounded down to microseconds.
func (c *enc) microTimep(k string, v interface{}) *corepb.MicroTime {
	t := c.parseTime(k, v)
	return &corepb.MicroTime{Seconds: t.Unix(), Nanos: int32(t.Nanosecond() / 1000 * 1000)}
}

func (c *enc) objectMeta(p *corepb.ObjectMeta, m map[string]interface{}) {
	for k, v := range m {
		if v == nil {
			continue
		}
		switch k {
		case "name":
			p.Name = c.str(k, v)
		case "generateName":
			p.GenerateName = c.str(k, v)
		case "namespace":
			p.Namespace = c.str(k, v)
		case "selfLink":
			p.SelfLink = c.str(k, v)
		case "uid":
			p.Uid = c.str(k, v)
		case "resourceVersion":
			p.ResourceVersion = c.str(k, v)
		case "generation":
			p.Generation = toInt64(v)
		case "creationTimestamp":
			p.CreationTimestamp = c.time(k, v)
		case "deletionTimestamp":
			p.DeletionTimestamp = c.timep(k, v)
		case "deletionGracePeriodSeconds":
			p.DeletionGracePeriodSeconds = c.i64p(v)
		case "labels":
			p.Labels = c.strMap(k, v)
		case "annotations":
			p.Annotations = c.strMap(k, v)
		case "ownerReferences":
			p.OwnerReferences = make([]corepb.OwnerReference, arrayLen(v))
			c.objs(k, v, func(i int, e map[string]interface{}) {
				r := &p.OwnerReferences[i]
				for k, v := range e {
					if v == nil {
						continue
					}
					switch k {
					case "kind":
						r.Kind = c.str(k, v)
					case "name":
						r.Name = c.str(k, v)
					case "uid":
						r.Uid = c.str(k, v)
					case "apiVersion":
						r.ApiVersion = c.str(k, v)
					case "controller":
						r.Controller = c.boolp(v)
					case "blockOwnerDeletion":
						r.BlockOwnerDeletion = c.boolp(v)
					}
				}
			})
		case "finalizers":
			p.Finalizers = c.strs(k, v)
		}
	}
}

func (c *enc) container(p *corepb.Container, m map[string]interface{}) {
	for k, v := range m {
		if v == nil {
			continue
		}
		switch k {
		case "name":
			p.Name = c.str(k, v)
		case "image":
			p.Image = c.str(k, v)
		case "command":
			p.Command = c.strs(k, v)
		case "args":
			p.Args = c.strs(k, v)
		case "workingDir":
			p.WorkingDir = c.str(k, v)
		case "ports":
			p.Ports = make([]corepb.ContainerPort, arrayLen(v))
			c.objs(k, v, func(i int, e map[string]interface{}) {
				q := &p.Ports[i]
				for k, v := range e {
					if v == nil {
						continue
					}
					switch k {
					case "name":
						q.Name = c.str(k, v)
					case "hostPort":
						q.HostPort = c.i32(v)
					case "containerPort":
						q.ContainerPort = c.i32(v)
					case "protocol":
						q.Protocol = c.str(k, v)
					case "hostIP":
						q.HostIP = c.str(k, v)
					}
				}
			})
		case "env":
			p.Env = make([]corepb.EnvVar, arrayLen(v))
			c.objs(k, v, func(i int, e map[string]interface{}) {
				if s := e["name"]; s != nil {
					p.Env[i].Name = c.str("name", s)
				}
				if s := e["value"]; s != nil {
					p.Env[i].Value = c.str("value", s)
				}
			})
		case "resources":
			for k, v := range c.obj(k, v) {
				if v == nil {
					continue
				}
				switch k {
				case "limits":
					p.Resources.Limits = c.quantities(k, v)
				case "requests":
					p.Resources.Requests = c.quantities(k, v)
				}
			}
		case "volumeMounts":
			p.VolumeMounts = make([]corepb.VolumeMount, arrayLen(v))
			c.objs(k, v, func(i int, e map[string]interface{}) {
				q := &p.VolumeMounts[i]
				for k, v := range e {
					if v == nil {
						continue
					}
					switch k {
					case "name":
						q.Name = c.str(k, v)
					case "readOnly":
						q.ReadOnly = c.bool(v)
					case "mountPath":
						q.MountPath = c.str(k, v)
					case "subPath":
						q.SubPath = c.str(k, v)
					}
				}
			})
		case "terminationMessagePath":
			p.TerminationMessagePath = c.str(k, v)
		case "imagePullPolicy":
			p.ImagePullPolicy = c.str(k, v)
		case "terminationMessagePolicy":
			p.TerminationMessagePolicy = c.str(k, v)
		}
	}
}

func (c *enc) containers(k string, v interface{}) []corepb.Container {
	out := make([]corepb.Container, arrayLen(v))
	c.objs(k, v, func(i int, e map[string]interface{}) { c.container(&out[i], e) })
	return out
}

func (c *enc) podSpec(p *corepb.PodSpec, m map[string]interface{}) {
	for k, v := range m {
		if v == nil {
			continue
		}
		switch k {
		case "containers":
			p.Containers = c.containers(k, v)
		case "restartPolicy":
			p.RestartPolicy = c.str(k, v)
		case "terminationGracePeriodSeconds":
			p.TerminationGracePeriodSeconds = c.i64p(v)
		case "activeDeadlineSeconds":
			p.ActiveDeadlineSeconds = c.i64p(v)
		case "dnsPolicy":
			p.DnsPolicy = c.str(k, v)
		case "nodeSelector":
			p.NodeSelector = c.strMap(k, v)
		case "serviceAccountName":
			p.ServiceAccountName = c.str(k, v)
		case "serviceAccount":
			p.ServiceAccount = c.str(k, v)
		case "nodeName":
			p.NodeName = c.str(k, v)
		case "hostNetwork":
			p.HostNetwork = c.bool(v)
		case "hostname":
			p.Hostname = c.str(k, v)
		case "schedulerName":
			p.SchedulerName = c.str(k, v)
		case "initContainers":
			p.InitContainers = c.containers(k, v)
		case "tolerations":
			p.Tolerations = make([]corepb.Toleration, arrayLen(v))
			c.objs(k, v, func(i int, e map[string]interface{}) {
				t := &p.Tolerations[i]
				for k, v := range e {
					if v == nil {
						continue
					}
					switch k {
					case "key":
						t.Key = c.str(k, v)
					case "operator":
						t.Operator = c.str(k, v)
					case "value":
						t.Value = c.str(k, v)
					case "effect":
						t.Effect = c.str(k, v)
					case "tolerationSeconds":
						t.TolerationSeconds = c.i64p(v)
					}
				}
			})
		case "priorityClassName":
			p.PriorityClassName = c.str(k, v)
		case "priority":
			p.Priority = c.i32p(v)
		case "enableServiceLinks":
			p.EnableServiceLinks = c.boolp(v)
		case "preemptionPolicy":
			p.PreemptionPolicy = c.strp(k, v)
		}
	}
}

func (c *enc) containerState(p *corepb.ContainerState, m map[string]interface{}) {
	for k, v := range m {
		if v == nil {
			continue
		}
		switch k {
		case "waiting":
			w := c.obj(k, v)
			p.Waiting = &corepb.ContainerStateWaiting{}
			if s := w["reason"]; s != nil {
				p.Waiting.Reason = c.str("reason", s)
			}
			if s := w["message"]; s != nil {
				p.Waiting.Message = c.str("message", s)
			}
		case "running":
			p.Running = &corepb.ContainerStateRunning{}
			if s := c.obj(k, v)["startedAt"]; s != nil {
				p.Running.StartedAt = c.time("startedAt", s)
			}
		case "terminated":
			t := &corepb.ContainerStateTerminated{}
			p.Terminated = t
			for k, v := range c.obj(k, v) {
				if v == nil {
					continue
				}
				switch k {
				case "exitCode":
					t.ExitCode = c.i32(v)
				case "signal":
					t.Signal = c.i32(v)
				case "reason":
					t.Reason = c.str(k, v)
				case "message":
					t.Message = c.str(k, v)
				case "startedAt":
					t.StartedAt = c.time(k, v)
				case "finishedAt":
					t.FinishedAt = c.time(k, v)
				case "containerID":
					t.ContainerID = c.str(k, v)
				}
			}
		}
	}
}

func (c *enc) containerStatuses(k string, v interface{}) []corepb.ContainerStatus {
	out := make([]corepb.ContainerStatus, arrayLen(v))
	c.objs(k, v, func(i int, e map[string]interface{}) {
		p := &out[i]
		for k, v := range e {
			if v == nil {
				continue
			}
			switch k {
			case "name":
				p.Name = c.str(k, v)
			case "state":
				c.containerState(&p.State, c.obj(k, v))
			case "lastState":
				c.containerState(&p.LastState, c.obj(k, v))
			case "ready":
				p.Ready = c.bool(v)
			case "restartCount":
				p.RestartCount = c.i32(v)
			case "image":
				p.Image = c.str(k, v)
			case "imageID":
				p.ImageID = c.str(k, v)
			case "containerID":
				p.ContainerID = c.str(k, v)
			case "started":
				p.Started = c.boolp(v)
			}
		}
	})
	return out
}

func (c *enc) podStatus(p *corepb.PodStatus, m map[string]interface{}) {
	for k, v := range m {
		if v == nil {
			continue
		}
		switch k {
		case "phase":
			p.Phase = c.str(k, v)
		case "conditions":
			p.Conditions = make([]corepb.PodCondition, arrayLen(v))
			c.objs(k, v, func(i int, e map[string]interface{}) {
				q := &p.Conditions[i]
				for k, v := range e {
					if v == nil {
						continue
					}
					switch k {
					case "type":
						q.Type = c.str(k, v)
					case "status":
						q.Status = c.str(k, v)
					case "lastProbeTime":
						q.LastProbeTime = c.time(k, v)
					case "lastTransitionTime":
						q.LastTransitionTime = c.time(k, v)
					case "reason":
						q.Reason = c.str(k, v)
					case "message":
						q.Message = c.str(k, v)
					}
				}
			})
		case "message":
			p.Message = c.str(k, v)
		case "reason":
			p.Reason = c.str(k, v)
		case "hostIP":
			p.HostIP = c.str(k, v)
		case "podIP":
			p.PodIP = c.str(k, v)
		case "startTime":
			p.StartTime = c.timep(k, v)
		case "containerStatuses":
			p.ContainerStatuses = c.containerStatuses(k, v)
		case "qosClass":
			p.QosClass = c.str(k, v)
		case "initContainerStatuses":
			p.InitContainerStatuses = c.containerStatuses(k, v)
		case "nominatedNodeName":
			p.NominatedNodeName = c.str(k, v)
		case "podIPs":
			p.PodIPs = make([]corepb.PodIP, arrayLen(v))
			c.objs(k, v, func(i int, e map[string]interface{}) {
				if s := e["ip"]; s != nil {
					p.PodIPs[i].Ip = c.str("ip", s)
				}
			})
		}
	}
}

// metadata: the object's metadata, into p.
func (c *enc) metadata(p *corepb.ObjectMeta, o map[string]interface{}) {
	if v := o["metadata"]; v != nil {
		c.objectMeta(p, c.obj("metadata", v))
	}
}

func (c *enc) pod(p *corepb.Pod, o map[string]interface{}) {
	for k, v := range o {
		if v == nil {
			continue
		}
		switch k {
		case "metadata":
			c.objectMeta(&p.Metadata, c.obj(k, v))
		case "spec":
			c.podSpec(&p.Spec, c.obj(k, v))
		case "status":
			c.podStatus(&p.Status, c.obj(k, v))
		}
	}
}

func (c *enc) nodeSpec(s *corepb.NodeSpec, m map[string]interface{}) {
	for k, v := range m {
		if v == nil {
			continue
		}
		switch k {
		case "podCIDR":
			s.PodCIDR = c.str(k, v)
		case "providerID":
			s.ProviderID = c.str(k, v)
		case "unschedulable":
			s.Unschedulable = c.bool(v)
		case "taints":
			s.Taints = make([]corepb.Taint, arrayLen(v))
			c.objs(k, v, func(i int, e map[string]interface{}) {
				t := &s.Taints[i]
				for k, v := range e {
					if v == nil {
						continue
					}
					switch k {
					case "key":
						t.Key = c.str(k, v)
					case "value":
						t.Value = c.str(k, v)
					case "effect":
						t.Effect = c.str(k, v)
					case "timeAdded":
						t.TimeAdded = c.timep(k, v)
					}
				}
			})
		case "podCIDRs":
			s.PodCIDRs = c.strs(k, v)
		}
	}
}

func (c *enc) nodeStatus(s *corepb.NodeStatus, m map[string]interface{}) {
	for k, v := range m {
		if v == nil {
			continue
		}
		switch k {
		case "capacity":
			s.Capacity = c.quantities(k, v)
		case "allocatable":
			s.Allocatable = c.quantities(k, v)
		case "phase":
			s.Phase = c.str(k, v)
		case "conditions":
			s.Conditions = make([]corepb.NodeCondition, arrayLen(v))
			c.objs(k, v, func(i int, e map[string]interface{}) {
				q := &s.Conditions[i]
				for k, v := range e {
					if v == nil {
						continue
					}
					switch k {
					case "type":
						q.Type = c.str(k, v)
					case "status":
						q.Status = c.str(k, v)
					case "lastHeartbeatTime":
						q.LastHeartbeatTime = c.time(k, v)
					case "lastTransitionTime":
						q.LastTransitionTime = c.time(k, v)
					case "reason":
						q.Reason = c.str(k, v)
					case "message":
						q.Message = c.str(k, v)
					}
				}
			})
		case "addresses":
			s.Addresses = make([]corepb.NodeAddress, arrayLen(v))
			c.objs(k, v, func(i int, e map[string]interface{}) {
				if t := e["type"]; t != nil {
					s.Addresses[i].Type = c.str("type", t)
				}
				if a := e["address"]; a != nil {
					s.Addresses[i].Address = c.str("address", a)
				}
			})
		case "daemonEndpoints":
			if ke := c.obj(k, v)["kubeletEndpoint"]; ke != nil {
				s.DaemonEndpoints.KubeletEndpoint.Port = c.i32(c.obj("kubeletEndpoint", ke)["Port"])
			}
		case "nodeInfo":
			ni := &s.NodeInfo
			for k, v := range c.obj(k, v) {
				if v == nil {
					continue
				}
				switch k {
				case "machineID":
					ni.MachineID = c.str(k, v)
				case "systemUUID":
					ni.SystemUUID = c.str(k, v)
				case "bootID":
					ni.BootID = c.str(k, v)
				case "kernelVersion":
					ni.KernelVersion = c.str(k, v)
				case "osImage":
					ni.OsImage = c.str(k, v)
				case "containerRuntimeVersion":
					ni.ContainerRuntimeVersion = c.str(k, v)
				case "kubeletVersion":
					ni.KubeletVersion = c.str(k, v)
				case "kubeProxyVersion":
					ni.KubeProxyVersion = c.str(k, v)
				case "operatingSystem":
					ni.OperatingSystem = c.str(k, v)
				case "architecture":
					ni.Architecture = c.str(k, v)
				}
			}
		case "images":
			s.Images = make([]corepb.ContainerImage, arrayLen(v))
			c.objs(k, v, func(i int, e map[string]interface{}) {
				if n := e["names"]; n != nil {
					s.Images[i].Names = c.strs("names", n)
				}
				if n := e["sizeBytes"]; n != nil {
					s.Images[i].SizeBytes = toInt64(n)
				}
			})
		case "volumesInUse":
			s.VolumesInUse = c.strs(k, v)
		}
	}
}

func (c *enc) node(p *corepb.Node, o map[string]interface{}) {
	for k, v := range o {
		if v == nil {
			continue
		}
		switch k {
		case "metadata":
			c.objectMeta(&p.Metadata, c.obj(k, v))
		case "spec":
			c.nodeSpec(&p.Spec, c.obj(k, v))
		case "status":
			c.nodeStatus(&p.Status, c.obj(k, v))
		}
	}
}

func (c *enc) namespace(p *corepb.Namespace, o map[string]interface{}) {
	c.metadata(&p.Metadata, o)
	if v := o["spec"]; v != nil {
		if f := c.obj("spec", v)["finalizers"]; f != nil {
			p.Spec.Finalizers = c.strs("finalizers", f)
		}
	}
	if v := o["status"]; v != nil {
		if ph := c.obj("status", v)["phase"]; ph != nil {
			p.Status.Phase = c.str("phase", ph)
		}
	}
}

func (c *enc) configMap(p *corepb.ConfigMap, o map[string]interface{}) {
	c.metadata(&p.Metadata, o)
	if v := o["data"]; v != nil {
		p.Data = c.strMap("data", v)
	}
	if v := o["immutable"]; v != nil {
		p.Immutable = c.boolp(v)
	}
}

func (c *enc) serviceAccount(p *corepb.ServiceAccount, o map[string]interface{}) {
	c.metadata(&p.Metadata, o)
	if v := o["secrets"]; v != nil {
		p.Secrets = make([]corepb.ObjectReference, arrayLen(v))
		c.objs("secrets", v, func(i int, e map[string]interface{}) {
			r := &p.Secrets[i]
			for k, v := range e {
				if v == nil {
					continue
				}
				switch k {
				case "kind":
					r.Kind = c.str(k, v)
				case "namespace":
					r.Namespace = c.str(k, v)
				case "name":
					r.Name = c.str(k, v)
				case "uid":
					r.Uid = c.str(k, v)
				case "apiVersion":
					r.ApiVersion = c.str(k, v)
				case "resourceVersion":
					r.ResourceVersion = c.str(k, v)
				case "fieldPath":
					r.FieldPath = c.str(k, v)
				}
			}
		})
	}
	if v := o["imagePullSecrets"]; v != nil {
		p.ImagePullSecrets = make([]corepb.LocalObjectReference, arrayLen(v))
		c.objs("imagePullSecrets", v, func(i int, e map[string]interface{}) {
			if n := e["name"]; n != nil {
				p.ImagePullSecrets[i].Name = c.str("name", n)
			}
		})
	}
	if v := o["automountServiceAccountToken"]; v != nil {
		p.AutomountServiceAccountToken = c.boolp(v)
	}
}

func (c *enc) lease(p *corepb.Lease, o map[string]interface{}) {
	c.metadata(&p.Metadata, o)
	v := o["spec"]
	if v == nil {
		return
	}
	for k, v := range c.obj("spec", v) {
		if v == nil {
			continue
		}
		switch k {
		case "holderIdentity":
			p.Spec.HolderIdentity = c.strp(k, v)
		case "leaseDurationSeconds":
			p.Spec.LeaseDurationSeconds = c.i32p(v)
		case "acquireTime":
			p.Spec.AcquireTime = c.microTimep(k, v)
		case "renewTime":
			p.Spec.RenewTime = c.microTimep(k, v)
		case "leaseTransitions":
			p.Spec.LeaseTransitions = c.i32p(v)
		}
	}
}

// status: a Status object (watch ERROR events).
func (c *enc) status(p *corepb.Status, o map[string]interface{}) {
	s := func(m map[string]interface{}, k string) string {
		if v := m[k]; v != nil {
			return c.str(k, v)
		}
		return ""
	}
	if v := o["metadata"]; v != nil {
		m := c.obj("metadata", v)
		p.Metadata = corepb.ListMeta{ResourceVersion: s(m, "resourceVersion"), Continue: s(m, "continue")}
	}
	p.Status, p.Message, p.Reason, p.Code = s(o, "status"), s(o, "message"), s(o, "reason"), c.i32(o["code"])
	if v := o["details"]; v != nil {
		d := c.obj("details", v)
		p.Details = &corepb.StatusDetails{Name: s(d, "name"), Group: s(d, "group"), Kind: s(d, "kind"),
			RetryAfterSeconds: c.i32(d["retryAfterSeconds"]), Uid: s(d, "uid")}
		if v := d["causes"]; v != nil {
			p.Details.Causes = make([]corepb.StatusCause, arrayLen(v))
			c.objs("causes", v, func(i int, e map[string]interface{}) {
				p.Details.Causes[i] = corepb.StatusCause{Reason: s(e, "reason"), Message: s(e, "message"),
					Field: s(e, "field")}
			})
		}
	}
}

// ---- generated structs -> objects ------------------------------------------

// obj is a decoded-JSON-like map: zero values are left out (Kubernetes'
// omitempty), pointers are kept when set, numbers are int64.
type obj map[string]interface{}

func (o obj) str(k, v string) {
	if v != "" {
		o[k] = v
	}
}

func (o obj) strp(k string, v *string) {
	if v != nil {
		o[k] = *v
	}
}

func (o obj) int(k string, v int64) {
	if v != 0 {
		o[k] = v
	}
}

func (o obj) i64p(k string, v *int64) {
	if v != nil {
		o[k] = *v
	}
}

func (o obj) i32p(k string, v *int32) {
	if v != nil {
		o[k] = int64(*v)
	}
}

func (o obj) bool(k string, v bool) {
	if v {
		o[k] = true
	}
}

func (o obj) boolp(k string, v *bool) {
	if v != nil {
		o[k] = *v
	}
}

func (o obj) sub(k string, v obj) {
	if len(v) > 0 {
		o[k] = map[string]interface{}(v)
	}
}

func (o obj) strs(k string, v []string) {
	if len(v) > 0 {
		a := make([]interface{}, len(v))
		for i, s := range v {
			a[i] = s
		}
		o[k] = a
	}
}

func (o obj) strMap(k string, v map[string]string) {
	if len(v) > 0 {
		m := make(map[string]interface{}, len(v))
		for key, s := range v {
			m[key] = s
		}
		o[k] = m
	}
}

func (o obj) quantities(k string, v map[string]corepb.Quantity) {
	if len(v) > 0 {
		m := make(map[string]interface{}, len(v))
		for key, q := range v {
			m[key] = q.String_
		}
		o[k] = m
	}
}

// list sets o[k] to n objects made by f, if n > 0.
func (o obj) list(k string, n int, f func(i int) obj) {
	if n > 0 {
		a := make([]interface{}, n)
		for i := range a {
			a[i] = map[string]interface{}(f(i))
		}
		o[k] = a
	}
}

// time: RFC 3339 in seconds; the zero Time (seconds and nanos 0) is left out.
func (o obj) time(k string, t corepb.Time) {
	if t.Seconds != 0 || t.Nanos != 0 {
		o[k] = time.Unix(t.Seconds, int64(t.Nanos)).UTC().Format(time.RFC3339)
	}
}

func (o obj) timep(k string, t *corepb.Time) {
	if t != nil {
		o[k] = time.Unix(t.Seconds, int64(t.Nanos)).UTC().Format(time.RFC3339)
	}
}

func (o obj) microTimep(k string, t *corepb.MicroTime) {
	if t != nil {
		o[k] = time.Unix(t.Seconds, int64(t.Nanos)).UTC().Format("2006-01-02T15:04:05.000000Z07:00")
	}
}

func fromObjectMeta(p *corepb.ObjectMeta) obj {
	o := obj{}
	o.str("name", p.Name)
	o.str("generateName", p.GenerateName)
	o.str("namespace", p.Namespace)
	o.str("selfLink", p.SelfLink)
	o.str("uid", p.Uid)
	o.str("resourceVersion", p.ResourceVersion)
	o.int("generation", p.Generation)
	o.time("creationTimestamp", p.CreationTimestamp)
	o.timep("deletionTimestamp", p.DeletionTimestamp)
	o.i64p("deletionGracePeriodSeconds", p.DeletionGracePeriodSeconds)
	o.strMap("labels", p.Labels)
	o.strMap("annotations", p.Annotations)
	o.list("ownerReferences", len(p.OwnerReferences), func(i int) obj {
		r, e := &p.OwnerReferences[i], obj{}
		e.str("apiVersion", r.ApiVersion)
		e.str("kind", r.Kind)
		e.str("name", r.Name)
		e.str("uid", r.Uid)
		e.boolp("controller", r.Controller)
		e.boolp("blockOwnerDeletion", r.BlockOwnerDeletion)
		return e
	})
	o.strs("finalizers", p.Finalizers)
	return o
}

func fromContainers(l []corepb.Container) func(int) obj {
	return func(i int) obj {
		p, o := &l[i], obj{}
		o.str("name", p.Name)
		o.str("image", p.Image)
		o.strs("command", p.Command)
		o.strs("args", p.Args)
		o.str("workingDir", p.WorkingDir)
		o.list("ports", len(p.Ports), func(i int) obj {
			q, e := &p.Ports[i], obj{}
			e.str("name", q.Name)
			e.int("hostPort", int64(q.HostPort))
			e["containerPort"] = int64(q.ContainerPort)
			e.str("protocol", q.Protocol)
			e.str("hostIP", q.HostIP)
			return e
		})
		o.list("env", len(p.Env), func(i int) obj {
			e := obj{"name": p.Env[i].Name}
			e.str("value", p.Env[i].Value)
			return e
		})
		r := obj{}
		r.quantities("limits", p.Resources.Limits)
		r.quantities("requests", p.Resources.Requests)
		o.sub("resources", r)
		o.list("volumeMounts", len(p.VolumeMounts), func(i int) obj {
			v, e := &p.VolumeMounts[i], obj{}
			e.str("name", v.Name)
			e.bool("readOnly", v.ReadOnly)
			e.str("mountPath", v.MountPath)
			e.str("subPath", v.SubPath)
			return e
		})
		o.str("terminationMessagePath", p.TerminationMessagePath)
		o.str("imagePullPolicy", p.ImagePullPolicy)
		o.str("terminationMessagePolicy", p.TerminationMessagePolicy)
		return o
	}
}

func fromPodSpec(p *corepb.PodSpec) obj {
	o := obj{}
	o.list("containers", len(p.Containers), fromContainers(p.Containers))
	o.str("restartPolicy", p.RestartPolicy)
	o.i64p("terminationGracePeriodSeconds", p.TerminationGracePeriodSeconds)
	o.i64p("activeDeadlineSeconds", p.ActiveDeadlineSeconds)
	o.str("dnsPolicy", p.DnsPolicy)
	o.strMap("nodeSelector", p.NodeSelector)
	o.str("serviceAccountName", p.ServiceAccountName)
	o.str("serviceAccount", p.ServiceAccount)
	o.str("nodeName", p.NodeName)
	o.bool("hostNetwork", p.HostNetwork)
	o.str("hostname", p.Hostname)
	o.str("schedulerName", p.SchedulerName)
	o.list("initContainers", len(p.InitContainers), fromContainers(p.InitContainers))
	o.list("tolerations", len(p.Tolerations), func(i int) obj {
		t, e := &p.Tolerations[i], obj{}
		e.str("key", t.Key)
		e.str("operator", t.Operator)
		e.str("value", t.Value)
		e.str("effect", t.Effect)
		e.i64p("tolerationSeconds", t.TolerationSeconds)
		return e
	})
	o.str("priorityClassName", p.PriorityClassName)
	o.i32p("priority", p.Priority)
	o.boolp("enableServiceLinks", p.EnableServiceLinks)
	o.strp("preemptionPolicy", p.PreemptionPolicy)
	return o
}

func fromContainerState(p *corepb.ContainerState) obj {
	o := obj{}
	if w := p.Waiting; w != nil {
		e := obj{}
		e.str("reason", w.Reason)
		e.str("message", w.Message)
		o["waiting"] = map[string]interface{}(e)
	}
	if r := p.Running; r != nil {
		e := obj{}
		e.time("startedAt", r.StartedAt)
		o["running"] = map[string]interface{}(e)
	}
	if t := p.Terminated; t != nil {
		e := obj{"exitCode": int64(t.ExitCode)}
		e.int("signal", int64(t.Signal))
		e.str("reason", t.Reason)
		e.str("message", t.Message)
		e.time("startedAt", t.StartedAt)
		e.time("finishedAt", t.FinishedAt)
		e.str("containerID", t.ContainerID)
		o["terminated"] = map[string]interface{}(e)
	}
	return o
}

func fromContainerStatuses(l []corepb.ContainerStatus) func(int) obj {
	return func(i int) obj {
		p, o := &l[i], obj{}
		o.str("name", p.Name)
		o.sub("state", fromContainerState(&p.State))
		o.sub("lastState", fromContainerState(&p.LastState))
		o["ready"], o["restartCount"] = p.Ready, int64(p.RestartCount) // not omitempty in core/v1
		o.str("image", p.Image)
		o.str("imageID", p.ImageID)
		o.str("containerID", p.ContainerID)
		o.boolp("started", p.Started)
		return o
	}
}

func fromPodStatus(p *corepb.PodStatus) obj {
	o := obj{}
	o.str("phase", p.Phase)
	o.list("conditions", len(p.Conditions), func(i int) obj {
		c, e := &p.Conditions[i], obj{}
		e.str("type", c.Type)
		e.str("status", c.Status)
		e.time("lastProbeTime", c.LastProbeTime)
		e.time("lastTransitionTime", c.LastTransitionTime)
		e.str("reason", c.Reason)
		e.str("message", c.Message)
		return e
	})
	o.str("message", p.Message)
	o.str("reason", p.Reason)
	o.str("hostIP", p.HostIP)
	o.str("podIP", p.PodIP)
	o.timep("startTime", p.StartTime)
	o.list("containerStatuses", len(p.ContainerStatuses), fromContainerStatuses(p.ContainerStatuses))
	o.str("qosClass", p.QosClass)
	o.list("initContainerStatuses", len(p.InitContainerStatuses), fromContainerStatuses(p.InitContainerStatuses))
	o.str("nominatedNodeName", p.NominatedNodeName)
	o.list("podIPs", len(p.PodIPs), func(i int) obj { e := obj{}; e.str("ip", p.PodIPs[i].Ip); return e })
	return o
}

func fromPod(p *corepb.Pod) obj {
	o := obj{}
	o.sub("metadata", fromObjectMeta(&p.Metadata))
	o.sub("spec", fromPodSpec(&p.Spec))
	o.sub("status", fromPodStatus(&p.Status))
	return o
}

func fromNode(p *corepb.Node) obj {
	o := obj{}
	o.sub("metadata", fromObjectMeta(&p.Metadata))
	sp, s := obj{}, &p.Spec
	sp.str("podCIDR", s.PodCIDR)
	sp.str("providerID", s.ProviderID)
	sp.bool("unschedulable", s.Unschedulable)
	sp.list("taints", len(s.Taints), func(i int) obj {
		t, e := &s.Taints[i], obj{}
		e.str("key", t.Key)
		e.str("value", t.Value)
		e.str("effect", t.Effect)
		e.timep("timeAdded", t.TimeAdded)
		return e
	})
	sp.strs("podCIDRs", s.PodCIDRs)
	o.sub("spec", sp)
	st, ns := obj{}, &p.Status
	st.quantities("capacity", ns.Capacity)
	st.quantities("allocatable", ns.Allocatable)
	st.str("phase", ns.Phase)
	st.list("conditions", len(ns.Conditions), func(i int) obj {
		c, e := &ns.Conditions[i], obj{}
		e.str("type", c.Type)
		e.str("status", c.Status)
		e.time("lastHeartbeatTime", c.LastHeartbeatTime)
		e.time("lastTransitionTime", c.LastTransitionTime)
		e.str("reason", c.Reason)
		e.str("message", c.Message)
		return e
	})
	st.list("addresses", len(ns.Addresses), func(i int) obj {
		e := obj{}
		e.str("type", ns.Addresses[i].Type)
		e.str("address", ns.Addresses[i].Address)
		return e
	})
	if port := ns.DaemonEndpoints.KubeletEndpoint.Port; port != 0 {
		st["daemonEndpoints"] = map[string]interface{}{"kubeletEndpoint": map[string]interface{}{"Port": int64(port)}}
	}
	ni, in := obj{}, &ns.NodeInfo
	ni.str("machineID", in.MachineID)
	ni.str("systemUUID", in.SystemUUID)
	ni.str("bootID", in.BootID)
	ni.str("kernelVersion", in.KernelVersion)
	ni.str("osImage", in.OsImage)
	ni.str("containerRuntimeVersion", in.ContainerRuntimeVersion)
	ni.str("kubeletVersion", in.KubeletVersion)
	ni.str("kubeProxyVersion", in.KubeProxyVersion)
	ni.str("operatingSystem", in.OperatingSystem)
	ni.str("architecture", in.Architecture)
	st.sub("nodeInfo", ni)
	st.list("images", len(ns.Images), func(i int) obj {
		e := obj{}
		e.strs("names", ns.Images[i].Names)
		e.int("sizeBytes", ns.Images[i].SizeBytes)
		return e
	})
	st.strs("volumesInUse", ns.VolumesInUse)
	o.sub("status", st)
	return o
}

func fromNamespace(p *corepb.Namespace) obj {
	o, sp, st := obj{}, obj{}, obj{}
	o.sub("metadata", fromObjectMeta(&p.Metadata))
	sp.strs("finalizers", p.Spec.Finalizers)
	o.sub("spec", sp)
	st.str("phase", p.Status.Phase)
	o.sub("status", st)
	return o
}

func fromConfigMap(p *corepb.ConfigMap) obj {
	o := obj{}
	o.sub("metadata", fromObjectMeta(&p.Metadata))
	o.strMap("data", p.Data)
	o.boolp("immutable", p.Immutable)
	return o
}

func fromServiceAccount(p *corepb.ServiceAccount) obj {
	o := obj{}
	o.sub("metadata", fromObjectMeta(&p.Metadata))
	o.list("secrets", len(p.Secrets), func(i int) obj {
		r, e := &p.Secrets[i], obj{}
		e.str("kind", r.Kind)
		e.str("namespace", r.Namespace)
		e.str("name", r.Name)
		e.str("uid", r.Uid)
		e.str("apiVersion", r.ApiVersion)
		e.str("resourceVersion", r.ResourceVersion)
		e.str("fieldPath", r.FieldPath)
		return e
	})
	o.list("imagePullSecrets", len(p.ImagePullSecrets), func(i int) obj {
		e := obj{}
		e.str("name", p.ImagePullSecrets[i].Name)
		return e
	})
	o.boolp("automountServiceAccountToken", p.AutomountServiceAccountToken)
	return o
}

func fromLease(p *corepb.Lease) obj {
	o, sp, s := obj{}, obj{}, &p.Spec
	o.sub("metadata", fromObjectMeta(&p.Metadata))
	sp.strp("holderIdentity", s.HolderIdentity)
	sp.i32p("leaseDurationSeconds", s.LeaseDurationSeconds)
	sp.microTimep("acquireTime", s.AcquireTime)
	sp.microTimep("renewTime", s.RenewTime)
	sp.i32p("leaseTransitions", s.LeaseTransitions)
	o.sub("spec", sp)
	return o
}

// ---- wire format ----------------------------------------------------------

// pbMessage: the methods gogo generates for every message of corepb.
type pbMessage interface {
	Size() int
	MarshalToSizedBuffer([]byte) (int, error)
	Unmarshal([]byte) error
}

// toMessage: the generated struct of kind (an object kind or Status),
// filled from o.
func toMessage(kind string, o object) (pbMessage, error) {
	c := &enc{}
	var m pbMessage
	switch kind {
	case "Pod":
		p := &corepb.Pod{}
		c.pod(p, o)
		m = p
	case "Node":
		p := &corepb.Node{}
		c.node(p, o)
		m = p
	case "Namespace":
		p := &corepb.Namespace{}
		c.namespace(p, o)
		m = p
	case "ConfigMap":
		p := &corepb.ConfigMap{}
		c.configMap(p, o)
		m = p
	case "ServiceAccount":
		p := &corepb.ServiceAccount{}
		c.serviceAccount(p, o)
		m = p
	case "Lease":
		p := &corepb.Lease{}
		c.lease(p, o)
		m = p
	case "Status":
		p := &corepb.Status{}
		c.status(p, o)
		m = p
	default:
		return nil, fmt.Errorf("no protobuf message for %s", kind)
	}
	return m, c.err
}

// toListMessage: the generated KINDList struct of objs.
func toListMessage(kind string, objs []object, md corepb.ListMeta) (pbMessage, error) {
	c := &enc{}
	var m pbMessage
	switch kind {
	case "Pod":
		l := &corepb.PodList{Metadata: md, Items: make([]corepb.Pod, len(objs))}
		for i, o := range objs {
			c.pod(&l.Items[i], o)
		}
		m = l
	case "Node":
		l := &corepb.NodeList{Metadata: md, Items: make([]corepb.Node, len(objs))}
		for i, o := range objs {
			c.node(&l.Items[i], o)
		}
		m = l
	case "Namespace":
		l := &corepb.NamespaceList{Metadata: md, Items: make([]corepb.Namespace, len(objs))}
		for i, o := range objs {
			c.namespace(&l.Items[i], o)
		}
		m = l
	case "ConfigMap":
		l := &corepb.ConfigMapList{Metadata: md, Items: make([]corepb.ConfigMap, len(objs))}
		for i, o := range objs {
			c.configMap(&l.Items[i], o)
		}
		m = l
	case "ServiceAccount":
		l := &corepb.ServiceAccountList{Metadata: md, Items: make([]corepb.ServiceAccount, len(objs))}
		for i, o := range objs {
			c.serviceAccount(&l.Items[i], o)
		}
		m = l
	case "Lease":
		l := &corepb.LeaseList{Metadata: md, Items: make([]corepb.Lease, len(objs))}
		for i, o := range objs {
			c.lease(&l.Items[i], o)
		}
		m = l
	default:
		return nil, fmt.Errorf("no protobuf message for %sList", kind)
	}
	return m, c.err
}

// fromMessage: the decoded-JSON-like object of a protobuf object of kind
// (raw: the Unknown's raw bytes), with generated Unmarshal.
func fromMessage(kind string, raw []byte) (object, error) {
	var o obj
	var err error
	switch kind {
	case "Pod":
		var p corepb.Pod
		if err = p.Unmarshal(raw); err == nil {
			o = fromPod(&p)
		}
	case "Node":
		var p corepb.Node
		if err = p.Unmarshal(raw); err == nil {
			o = fromNode(&p)
		}
	case "Namespace":
		var p corepb.Namespace
		if err = p.Unmarshal(raw); err == nil {
			o = fromNamespace(&p)
		}
	case "ConfigMap":
		var p corepb.ConfigMap
		if err = p.Unmarshal(raw); err == nil {
			o = fromConfigMap(&p)
		}
	case "ServiceAccount":
		var p corepb.ServiceAccount
		if err = p.Unmarshal(raw); err == nil {
			o = fromServiceAccount(&p)
		}
	case "Lease":
		var p corepb.Lease
		if err = p.Unmarshal(raw); err == nil {
			o = fromLease(&p)
		}
	default:
		return nil, fmt.Errorf("no protobuf message for %s", kind)
	}
	return object(o), err
}

func appendVarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

func varintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// marshalUnknown: "k8s\x00" + runtime.Unknown{typeMeta, raw: m,
// contentEncoding: "", contentType: ""}, m marshalled (generated
// MarshalToSizedBuffer) straight into the answer's buffer, as
// runtime.Unknown's NestedMarshalTo in kube-apiserver's protobuf
// serializer. Fields in number order, as generated code writes them.
func marshalUnknown(apiVersion, kind string, m pbMessage) ([]byte, error) {
	tm := corepb.TypeMeta{ApiVersion: apiVersion, Kind: kind}
	tn, n := tm.Size(), m.Size()
	b := make([]byte, 0, len(protoMagic)+1+varintLen(uint64(tn))+tn+1+varintLen(uint64(n))+n+4)
	b = append(b, protoMagic...)
	b = appendVarint(append(b, 0x0a), uint64(tn))
	b = b[:len(b)+tn]
	if _, err := tm.MarshalToSizedBuffer(b[len(b)-tn:]); err != nil {
		return nil, err
	}
	b = appendVarint(append(b, 0x12), uint64(n))
	b = b[:len(b)+n]
	if _, err := m.MarshalToSizedBuffer(b[len(b)-n:]); err != nil {
		return nil, err
	}
	return append(b, 0x1a, 0, 0x22, 0), nil
}

// unwrapUnknown checks the magic and returns the Unknown's apiVersion,
// kind and raw bytes.
func unwrapUnknown(b []byte) (string, string, []byte, error) {
	if len(b) < 4 || string(b[:4]) != string(protoMagic) {
		return "", "", nil, fmt.Errorf("the body does not start with the protobuf magic k8s\\x00")
	}
	var u corepb.Unknown
	if err := u.Unmarshal(b[4:]); err != nil {
		return "", "", nil, err
	}
	return u.TypeMeta.ApiVersion, u.TypeMeta.Kind, u.Raw, nil
}

func encodeProtobufObject(info *requestInfo, o object) ([]byte, error) {
	kind := protobufKind(info)
	if k, _ := o["kind"].(string); k == "Status" {
		kind = "Status"
	}
	m, err := toMessage(kind, o)
	if err != nil {
		return nil, err
	}
	av, _ := o["apiVersion"].(string)
	if av == "" {
		av = apiVersionOf(info)
	}
	return marshalUnknown(av, kind, m)
}

// encodeProtobufList: objects -> generated KINDList struct (field copies)
// -> generated MarshalToSizedBuffer, inside the Unknown.
func encodeProtobufList(info *requestInfo, objs []object, rv, cont string) ([]byte, error) {
	kind := protobufKind(info)
	m, err := toListMessage(kind, objs, corepb.ListMeta{ResourceVersion: rv, Continue: cont})
	if err != nil {
		return nil, err
	}
	return marshalUnknown(apiVersionOf(info), kind+"List", m)
}

// encodeProtobufWatchEvent: one frame, 4-byte big-endian length then the
// Unknown-wrapped WatchEvent whose object is the Unknown-wrapped object.
func encodeProtobufWatchEvent(info *requestInfo, ev watchEvent) ([]byte, error) {
	obj, err := encodeProtobufObject(info, ev.Object)
	if err != nil {
		return nil, err
	}
	we := &corepb.WatchEvent{Type: ev.Type, Object: corepb.RawExtension{Raw: obj}}
	b, err := marshalUnknown(apiVersionOf(info), "WatchEvent", we)
	if err != nil {
		return nil, err
	}
	frame := make([]byte, 4, 4+len(b))
	binary.BigEndian.PutUint32(frame, uint32(len(b)))
	return append(frame, b...), nil
}

// decodeProtobufObject decodes a protobuf request body into the same
// object the JSON path makes; a resource without protobuf messages (custom
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
	o, err := fromMessage(kind, raw)
	if err != nil {
		return nil, errBadRequest("the body of the request could not be decoded as protobuf: " + err.Error())
	}
	if av == "" {
		av = apiVersionOf(info)
	}
	o["apiVersion"], o["kind"] = av, kind
	return o, nil
}
