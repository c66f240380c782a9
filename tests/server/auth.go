package main

// Authentication, authorization and throttling, in kube-apiserver's filter
// order (authentication, authorization, priority-and-fairness), before the
// timeout filter: -token-file (401), -forbid (403), -throttle (429).

import (
	"bufio"
	"fmt"
	"math/rand"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
)

type gate struct {
	tokens   map[string]string // bearer token -> user name; nil: no authentication
	forbid   map[string]bool   // RESOURCE, RESOURCE/SUB, RESOURCE:VERB, RESOURCE/SUB:VERB
	throttle float64           // fraction of resource requests answered 429

	mu  sync.Mutex
	rnd *rand.Rand
}

// loadTokens reads kube-apiserver's --token-auth-file format: CSV lines
// "token,user,uid[,\"group1,group2\"]"; a line with the token alone is
// accepted too (user "token-user"). # comments and blank lines are skipped.
func loadTokens(name string) (map[string]string, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		parts := strings.Split(line, ",")
		user := "token-user"
		if len(parts) > 1 && strings.TrimSpace(parts[1]) != "" {
			user = strings.Trim(strings.TrimSpace(parts[1]), `"`)
		}
		out[strings.Trim(strings.TrimSpace(parts[0]), `"`)] = user
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no token in %s", name)
	}
	return out, nil
}

// publicPaths answer without credentials (kube-apiserver's
// system:public-info-viewer role grants them to anonymous users).
func publicPath(p string) bool {
	for _, pre := range []string{"/healthz", "/livez", "/readyz", "/version"} {
		if p == pre || strings.HasPrefix(p, pre+"/") {
			return true
		}
	}
	return false
}

// admit answers 401, 403 or 429 and returns false, or returns true.
func (g *gate) admit(w http.ResponseWriter, r *http.Request, info *requestInfo) bool {
	if g == nil {
		return true
	}
	user := "system:anonymous"
	if r.TLS != nil && len(r.TLS.VerifiedChains) > 0 && len(r.TLS.PeerCertificates) > 0 {
		user = r.TLS.PeerCertificates[0].Subject.CommonName // -client-ca: a verified client certificate
	} else if g.tokens != nil && !publicPath(r.URL.Path) {
		h := r.Header.Get("Authorization")
		tok := ""
		if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
			tok = strings.TrimSpace(h[7:])
		}
		u, ok := g.tokens[tok]
		if !ok {
			writeError(w, &apiError{401, "Unauthorized", "Unauthorized", nil})
			return false
		}
		user = u
	}
	if info.IsResource && len(g.forbid) > 0 {
		keys := []string{info.Resource + ":" + info.Verb, info.Resource}
		if info.Subresource != "" {
			rs := info.Resource + "/" + info.Subresource
			keys = []string{rs + ":" + info.Verb, rs, info.Resource + ":" + info.Verb}
		}
		for _, k := range keys {
			if g.forbid[k] {
				writeError(w, errForbidden(info, user))
				return false
			}
		}
	}
	if info.IsResource && g.throttle > 0 {
		g.mu.Lock()
		if g.rnd == nil {
			g.rnd = rand.New(rand.NewSource(1))
		}
		x := g.rnd.Float64()
		g.mu.Unlock()
		if x < g.throttle {
			w.Header().Set("Retry-After", "1")
			writeError(w, &apiError{429, "TooManyRequests", "Too many requests, please try again later.",
				map[string]interface{}{"retryAfterSeconds": 1}})
			return false
		}
	}
	return true
}

// errForbidden: kube-apiserver's RBAC denial.
func errForbidden(info *requestInfo, user string) *apiError {
	what := qualified(info)
	if info.Name != "" {
		what += " " + strconv.Quote(info.Name)
	}
	res := info.Resource
	if info.Subresource != "" {
		res += "/" + info.Subresource
	}
	where := "at the cluster scope"
	if info.Namespace != "" && info.Resource != "namespaces" {
		where = fmt.Sprintf("in the namespace %q", info.Namespace)
	}
	return &apiError{403, "Forbidden",
		fmt.Sprintf("%s is forbidden: User %q cannot %s resource %q in API group %q %s",
			what, user, info.Verb, res, info.Group, where),
		map[string]interface{}{"name": info.Name, "group": info.Group, "kind": info.Resource}}
}
