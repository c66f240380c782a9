package main

// Patches: strategic merge patch (the parts of
// k8s.io/apimachinery/pkg/util/strategicpatch that clients send) and JSON
// patch (RFC 6902).

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// mergeKeys: the patchMergeKey of the lists of the built-in types that
// kubelets, controllers and the scheduler patch (k8s.io/api/core/v1 and
// apps/v1 struct tags). A list with a merge key is merged element by
// element; any other list is replaced, as in a JSON merge patch.
var mergeKeys = map[string]string{
	"conditions": "type", "addresses": "type", "containers": "name", "initContainers": "name",
	"ephemeralContainers": "name", "volumes": "name", "env": "name", "ports": "containerPort",
	"volumeMounts": "mountPath", "volumeDevices": "devicePath", "imagePullSecrets": "name",
	"hostAliases": "ip", "podIPs": "ip", "ownerReferences": "uid", "readinessGates": "conditionType",
	"topologySpreadConstraints": "topologyKey", "resourceClaims": "name",
}

// strategicMerge applies a strategic merge patch to target: maps merge
// (null deletes a key; {"$patch": "replace"} replaces, {"$patch":
// "delete"} deletes), lists with a merge key merge by that key (an element
// {"KEY": v, "$patch": "delete"} removes it), "$setElementOrder/LIST",
// "$retainKeys" and "$deleteFromPrimitiveList/LIST" are honoured, other
// lists are replaced.
func strategicMerge(target, patch interface{}) interface{} {
	p, ok := patch.(map[string]interface{})
	if !ok {
		return deepCopy(patch)
	}
	t, ok := target.(map[string]interface{})
	if !ok {
		t = map[string]interface{}{}
	}
	switch p["$patch"] {
	case "replace":
		out := deepCopy(p).(map[string]interface{})
		delete(out, "$patch")
		return out
	case "delete":
		return nil
	}
	if rk, ok := p["$retainKeys"].([]interface{}); ok {
		keep := map[string]bool{}
		for _, k := range rk {
			if s, ok := k.(string); ok {
				keep[s] = true
			}
		}
		for k := range t {
			if !keep[k] {
				delete(t, k)
			}
		}
	}
	for k, v := range p {
		switch {
		case k == "$patch" || k == "$retainKeys":
			continue
		case strings.HasPrefix(k, "$setElementOrder/"):
			continue // applied below, after the list's own patch
		case strings.HasPrefix(k, "$deleteFromPrimitiveList/"):
			list := strings.TrimPrefix(k, "$deleteFromPrimitiveList/")
			del, _ := v.([]interface{})
			if cur, ok := t[list].([]interface{}); ok {
				var out []interface{}
				for _, e := range cur {
					if !containsValue(del, e) {
						out = append(out, e)
					}
				}
				t[list] = out
			}
			continue
		}
		if v == nil {
			delete(t, k)
			continue
		}
		if pl, ok := v.([]interface{}); ok {
			if mk, ok := mergeKeys[k]; ok {
				t[k] = mergeList(t[k], pl, mk)
				continue
			}
			t[k] = deepCopy(pl)
			continue
		}
		if r := strategicMerge(t[k], v); r == nil {
			delete(t, k)
		} else {
			t[k] = r
		}
	}
	for k, v := range p {
		if strings.HasPrefix(k, "$setElementOrder/") {
			list := strings.TrimPrefix(k, "$setElementOrder/")
			if order, ok := v.([]interface{}); ok {
				if cur, ok := t[list].([]interface{}); ok {
					t[list] = reorder(cur, order, mergeKeys[list])
				}
			}
		}
	}
	return t
}

func containsValue(list []interface{}, v interface{}) bool {
	for _, e := range list {
		if reflect.DeepEqual(e, v) {
			return true
		}
	}
	return false
}

// mergeList merges patch elements into target's by key mk.
func mergeList(target interface{}, patch []interface{}, mk string) interface{} {
	cur, _ := target.([]interface{})
	out := make([]interface{}, 0, len(cur)+len(patch))
	for _, e := range cur {
		out = append(out, deepCopy(e))
	}
	for _, pe := range patch {
		pm, ok := pe.(map[string]interface{})
		if !ok {
			if !containsValue(out, pe) {
				out = append(out, deepCopy(pe))
			}
			continue
		}
		if pm["$patch"] == "replace" {
			out = out[:0]
			continue
		}
		key := pm[mk]
		idx := -1
		for i, e := range out {
			if em, ok := e.(map[string]interface{}); ok && key != nil && reflect.DeepEqual(em[mk], key) {
				idx = i
				break
			}
		}
		if pm["$patch"] == "delete" {
			if idx >= 0 {
				out = append(out[:idx], out[idx+1:]...)
			}
			continue
		}
		if idx >= 0 {
			out[idx] = strategicMerge(out[idx], pm)
		} else {
			out = append(out, strategicMerge(nil, pm))
		}
	}
	return out
}

// reorder sorts list like order (elements of order are {mk: v} maps, or
// values for primitive lists); elements not in order keep their place at
// the end.
func reorder(list, order []interface{}, mk string) []interface{} {
	pos := func(e interface{}) int {
		for i, o := range order {
			if om, ok := o.(map[string]interface{}); ok && mk != "" {
				if em, ok := e.(map[string]interface{}); ok && reflect.DeepEqual(em[mk], om[mk]) {
					return i
				}
			} else if reflect.DeepEqual(o, e) {
				return i
			}
		}
		return len(order)
	}
	out := make([]interface{}, len(list))
	copy(out, list)
	// insertion sort: lists are short, and the order must be stable
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && pos(out[j]) < pos(out[j-1]); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

type jsonPatchOp struct {
	Op    string      `json:"op"`
	Path  string      `json:"path"`
	From  string      `json:"from"`
	Value interface{} `json:"value"`
}

// applyJSONPatch applies RFC 6902 operations (add, remove, replace, move,
// copy, test) to doc.
func applyJSONPatch(doc interface{}, ops []jsonPatchOp) (interface{}, error) {
	var err error
	for i, op := range ops {
		switch op.Op {
		case "add":
			doc, err = jpSet(doc, op.Path, deepCopy(op.Value), "add")
		case "replace":
			doc, err = jpSet(doc, op.Path, deepCopy(op.Value), "replace")
		case "remove":
			doc, _, err = jpRemove(doc, op.Path)
		case "move":
			var v interface{}
			if doc, v, err = jpRemove(doc, op.From); err == nil {
				doc, err = jpSet(doc, op.Path, v, "add")
			}
		case "copy":
			var v interface{}
			if v, err = jpGet(doc, op.From); err == nil {
				doc, err = jpSet(doc, op.Path, deepCopy(v), "add")
			}
		case "test":
			var v interface{}
			if v, err = jpGet(doc, op.Path); err == nil && !reflect.DeepEqual(normalize(v), normalize(op.Value)) {
				err = fmt.Errorf("testing value %s failed", op.Path)
			}
		default:
			err = fmt.Errorf("unexpected kind: %q", op.Op)
		}
		if err != nil {
			return nil, fmt.Errorf("operation %d: %v", i, err)
		}
	}
	return doc, nil
}

func jpTokens(path string) ([]string, error) {
	if path == "" {
		return nil, nil
	}
	if path[0] != '/' {
		return nil, fmt.Errorf("path %q does not start with /", path)
	}
	toks := strings.Split(path[1:], "/")
	for i, t := range toks {
		toks[i] = strings.ReplaceAll(strings.ReplaceAll(t, "~1", "/"), "~0", "~")
	}
	return toks, nil
}

func jpIndex(tok string, n int, add bool) (int, error) {
	if add && tok == "-" {
		return n, nil
	}
	i, err := strconv.Atoi(tok)
	if err != nil || i < 0 || i > n || (!add && i == n) {
		return 0, fmt.Errorf("index %q out of range", tok)
	}
	return i, nil
}

func jpGet(doc interface{}, path string) (interface{}, error) {
	toks, err := jpTokens(path)
	if err != nil {
		return nil, err
	}
	cur := doc
	for _, t := range toks {
		switch c := cur.(type) {
		case map[string]interface{}:
			v, ok := c[t]
			if !ok {
				return nil, fmt.Errorf("path %q not found", path)
			}
			cur = v
		case []interface{}:
			i, err := jpIndex(t, len(c), false)
			if err != nil {
				return nil, err
			}
			cur = c[i]
		default:
			return nil, fmt.Errorf("path %q not found", path)
		}
	}
	return cur, nil
}

// jpSet adds or replaces the value at path; returns the new document.
func jpSet(doc interface{}, path string, v interface{}, mode string) (interface{}, error) {
	toks, err := jpTokens(path)
	if err != nil {
		return nil, err
	}
	if len(toks) == 0 {
		return v, nil
	}
	parent, err := jpGet(doc, "/"+strings.Join(escapeTokens(toks[:len(toks)-1]), "/"))
	if len(toks) == 1 {
		parent, err = doc, nil
	}
	if err != nil {
		return nil, err
	}
	last := toks[len(toks)-1]
	switch c := parent.(type) {
	case map[string]interface{}:
		if _, ok := c[last]; !ok && mode == "replace" {
			return nil, fmt.Errorf("replace operation does not apply: doc is missing key: %s", path)
		}
		c[last] = v
		return doc, nil
	case []interface{}:
		i, err := jpIndex(last, len(c), mode == "add")
		if err != nil {
			return nil, err
		}
		var nl []interface{}
		if mode == "replace" {
			c[i] = v
			nl = c
		} else {
			nl = append(append(append([]interface{}{}, c[:i]...), v), c[i:]...)
		}
		if len(toks) == 1 {
			return nl, nil
		}
		return jpSet(doc, "/"+strings.Join(escapeTokens(toks[:len(toks)-1]), "/"), nl, "replace")
	}
	return nil, fmt.Errorf("path %q: parent is not an object or array", path)
}

func jpRemove(doc interface{}, path string) (interface{}, interface{}, error) {
	toks, err := jpTokens(path)
	if err != nil || len(toks) == 0 {
		return nil, nil, fmt.Errorf("cannot remove %q", path)
	}
	var parent interface{} = doc
	ppath := "/" + strings.Join(escapeTokens(toks[:len(toks)-1]), "/")
	if len(toks) > 1 {
		if parent, err = jpGet(doc, ppath); err != nil {
			return nil, nil, err
		}
	}
	last := toks[len(toks)-1]
	switch c := parent.(type) {
	case map[string]interface{}:
		v, ok := c[last]
		if !ok {
			return nil, nil, fmt.Errorf("remove operation does not apply: doc is missing path: %s", path)
		}
		delete(c, last)
		return doc, v, nil
	case []interface{}:
		i, err := jpIndex(last, len(c), false)
		if err != nil {
			return nil, nil, err
		}
		v := c[i]
		nl := append(append([]interface{}{}, c[:i]...), c[i+1:]...)
		if len(toks) == 1 {
			return nl, v, nil
		}
		doc, err = jpSet(doc, ppath, nl, "replace")
		return doc, v, err
	}
	return nil, nil, fmt.Errorf("path %q not found", path)
}

func escapeTokens(toks []string) []string {
	out := make([]string, len(toks))
	for i, t := range toks {
		out[i] = strings.ReplaceAll(strings.ReplaceAll(t, "~", "~0"), "/", "~1")
	}
	return out
}
