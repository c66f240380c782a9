package main

// Request tagging, following k8s.io/apiserver/pkg/endpoints/request/requestinfo.go:
//
//	/api/v1[/watch]/namespaces/{ns}/{resource}[/{name}[/{subresource}]]
//	/api/v1[/watch]/{resource}[/{name}[/{subresource}]]
//	/apis/{group}/{version}[/watch]/...                 (same shapes)
//
// GET without a name is list, or watch with ?watch=true|1; the /watch/ prefix
// makes watch; POST create, PUT update, PATCH patch, DELETE delete (with a name)
// or deletecollection (without). Anything else is a non-resource request.

import (
	"net/http"
	"strings"
)

type requestInfo struct {
	IsResource  bool
	Verb        string // lower case, or the HTTP method for non-resource paths
	Prefix      string // "api" or "apis"
	Group       string
	Version     string
	Namespace   string
	Resource    string
	Subresource string
	Name        string
	Path        string
	Parts       []string // the path parts after group/version (for discovery)
}

var namespaceSubresources = map[string]bool{"status": true, "finalize": true}

func parseRequestInfo(r *http.Request) *requestInfo {
	info := &requestInfo{Verb: strings.ToLower(r.Method), Path: r.URL.Path}
	parts := splitPath(r.URL.Path)
	if len(parts) < 1 || (parts[0] != "api" && parts[0] != "apis") {
		info.Verb = r.Method
		return info
	}
	info.Prefix = parts[0]
	parts = parts[1:]
	if info.Prefix == "api" {
		if len(parts) < 1 {
			info.Verb = r.Method
			return info
		}
		info.Version = parts[0]
		parts = parts[1:]
	} else {
		if len(parts) < 2 {
			info.Group = strings.Join(parts, "")
			info.Verb = r.Method
			return info
		}
		info.Group, info.Version = parts[0], parts[1]
		parts = parts[2:]
	}
	info.Parts = parts
	if len(parts) == 0 {
		// discovery: /api/v1, /apis/apps/v1
		info.Verb = r.Method
		return info
	}
	info.IsResource = true

	switch r.Method {
	case "POST":
		info.Verb = "create"
	case "GET", "HEAD":
		info.Verb = "get"
	case "PUT":
		info.Verb = "update"
	case "PATCH":
		info.Verb = "patch"
	case "DELETE":
		info.Verb = "delete"
	default:
		info.Verb = ""
	}
	if parts[0] == "watch" {
		parts = parts[1:]
		if info.Verb == "get" || info.Verb == "list" {
			info.Verb = "watch"
		} else {
			info.Verb = ""
		}
	}
	if len(parts) > 0 && parts[0] == "namespaces" {
		if len(parts) > 1 {
			info.Namespace = parts[1]
			if len(parts) > 2 && !namespaceSubresources[parts[2]] {
				parts = parts[2:]
			}
		}
	}
	if len(parts) >= 3 {
		info.Subresource = parts[2]
	}
	if len(parts) >= 2 {
		info.Name = parts[1]
	}
	if len(parts) >= 1 {
		info.Resource = parts[0]
	}
	if len(parts) > 3 {
		// deeper paths (e.g. proxy/...) keep the first subresource
		info.Subresource = parts[2]
	}
	if len(parts) == 0 {
		info.IsResource = false
		info.Verb = r.Method
		return info
	}
	q := r.URL.Query()
	if info.Name == "" && info.Verb == "get" {
		info.Verb = "list"
	}
	if info.Verb == "list" {
		if w := q.Get("watch"); w == "true" || w == "1" {
			info.Verb = "watch"
		}
	}
	if info.Name == "" && info.Verb == "delete" {
		info.Verb = "deletecollection"
	}
	return info
}

func splitPath(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}
