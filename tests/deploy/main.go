// checkmanifest: decode cpprof's deployment manifests strictly into the
// real Kubernetes API types (k8s.io/api from Debian sid, Kubernetes 1.36),
// so a misspelt or misplaced field fails, and print what the tests check
// as JSON: one object per manifest.
//
// Built in GOPATH mode against /var/cache/cpprof/gocode-k8s (see
// tests/integration/test_install.py); no network, no module proxy.
package main

import (
	"encoding/json"
	"fmt"
	"os"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

type summary struct {
	File         string              `json:"file"`
	Kind         string              `json:"kind"`
	Namespace    string              `json:"namespace"`
	HostPID      bool                `json:"hostPID"`
	NodeSelector map[string]string   `json:"nodeSelector"`
	Tolerations  []corev1.Toleration `json:"tolerations"`
	Command      []string            `json:"command"`
	Args         []string            `json:"args"`
	Env          []string            `json:"env"`
	RunAsUser    *int64              `json:"runAsUser"`
	Privileged   bool                `json:"privileged"`
	CapAdd       []string            `json:"capAdd"`
	CapDrop      []string            `json:"capDrop"`
	Mounts       map[string]string   `json:"mounts"` // mountPath -> host path
}

func podSummary(file, kind, ns string, spec *corev1.PodSpec) (summary, error) {
	s := summary{File: file, Kind: kind, Namespace: ns, HostPID: spec.HostPID,
		NodeSelector: spec.NodeSelector, Tolerations: spec.Tolerations, Mounts: map[string]string{}}
	if len(spec.Containers) != 1 {
		return s, fmt.Errorf("%s: want one container, got %d", file, len(spec.Containers))
	}
	c := spec.Containers[0]
	s.Command, s.Args = c.Command, c.Args
	for _, e := range c.Env {
		s.Env = append(s.Env, e.Name)
	}
	if sc := c.SecurityContext; sc != nil {
		s.RunAsUser = sc.RunAsUser
		s.Privileged = sc.Privileged != nil && *sc.Privileged
		if sc.Capabilities != nil {
			for _, a := range sc.Capabilities.Add {
				s.CapAdd = append(s.CapAdd, string(a))
			}
			for _, d := range sc.Capabilities.Drop {
				s.CapDrop = append(s.CapDrop, string(d))
			}
		}
	}
	host := map[string]string{}
	for _, v := range spec.Volumes {
		if v.HostPath != nil {
			host[v.Name] = v.HostPath.Path
		}
	}
	for _, m := range c.VolumeMounts {
		h, ok := host[m.Name]
		if !ok {
			return s, fmt.Errorf("%s: mount %q names no hostPath volume", file, m.Name)
		}
		s.Mounts[m.MountPath] = h
	}
	return s, nil
}

func main() {
	var out []summary
	for _, file := range os.Args[1:] {
		data, err := os.ReadFile(file)
		if err != nil {
			fmt.Fprintln(os.Stderr, "checkmanifest:", err)
			os.Exit(1)
		}
		var meta struct {
			Kind string `json:"kind"`
		}
		if err := yaml.Unmarshal(data, &meta); err != nil {
			fmt.Fprintf(os.Stderr, "checkmanifest: %s: %v\n", file, err)
			os.Exit(1)
		}
		var s summary
		switch meta.Kind {
		case "DaemonSet":
			var ds appsv1.DaemonSet
			if err = yaml.UnmarshalStrict(data, &ds); err == nil {
				s, err = podSummary(file, meta.Kind, ds.Namespace, &ds.Spec.Template.Spec)
			}
		case "Pod":
			var p corev1.Pod
			if err = yaml.UnmarshalStrict(data, &p); err == nil {
				s, err = podSummary(file, meta.Kind, p.Namespace, &p.Spec)
			}
		default:
			err = fmt.Errorf("unexpected kind %q", meta.Kind)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "checkmanifest: %s: %v\n", file, err)
			os.Exit(1)
		}
		out = append(out, s)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		os.Exit(1)
	}
}
