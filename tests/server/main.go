// Command testserver is a small stand-in for kube-apiserver, for cpprof's
// integration tests. It serves the Kubernetes REST API shapes (core /api/v1
// and named groups /apis/GROUP/VERSION, namespaced and cluster-scoped
// resources, all eight verbs, watch streams, subresources) from an in-memory
// store, or (built with -tags etcd, run with -etcd URL) from a real etcd with
// kube-apiserver's key layout, and wraps every non-watch request in a copy of kube-apiserver's
// timeout filter, so the handler runs in a child goroutine.
//
// Failure injection: every object whose name starts with "fail-500" answers
// 500 InternalError on every verb (for create, the name in the body).
//
// Usage:
//
//	testserver [-listen 127.0.0.1:0] [-tls] [-tls-cert F -tls-key F] [-write-ca F] [-client-ca F]
//	           [-token-file F] [-forbid RES[,...]] [-throttle 0.05] [-strict-namespaces=true]
//	           [-watch-timeout 2s] [-max-watch-timeout 30m] [-watch-history 10000]
//	           [-watch-cache [-bookmark-frequency 1m] [-progress-notify-interval 10m] [-watch-cache-reinit 0]]
//	           [-serialize-in-child] [-pidfile FILE] [-request-timeout 60s]
//	           [-delay RESOURCE[:VERB]=DURATION[,...]]... [-v]
//	           [-etcd http://127.0.0.1:2379[,URL...] [-etcd-prefix /registry]]
//
// JSON and application/vnd.kubernetes.protobuf (protobuf.go). See README.md.
//
// The first stdout line is "listening on http(s)://HOST:PORT".
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"flag"
	"fmt"
	"log"
	"math/big"
	mrand "math/rand"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// cgoInit is set by cgo.go (build tag cgo_ext).
var cgoInit func() int

// newEtcdBackend is set by etcd.go (build tag etcd): a backend storing every
// object in etcd under prefix, with kube-apiserver's key layout.
var newEtcdBackend func(endpoints []string, prefix string) (backend, func(), error)

type delayTable struct {
	m map[string]time.Duration
}

func (d *delayTable) String() string {
	if d == nil || d.m == nil {
		return ""
	}
	var s []string
	for k, v := range d.m {
		s = append(s, k+"="+v.String())
	}
	return strings.Join(s, ",")
}

// Set parses RESOURCE=DURATION, RESOURCE:VERB=DURATION, RESOURCE/SUB[:VERB]=DURATION,
// *=DURATION, *:VERB=DURATION, or /PATH=DURATION (non-resource), comma-separated.
func (d *delayTable) Set(v string) error {
	if d.m == nil {
		d.m = map[string]time.Duration{}
	}
	for _, item := range strings.Split(v, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		i := strings.LastIndexByte(item, '=')
		if i <= 0 {
			return fmt.Errorf("bad -delay item %q: want RESOURCE[:VERB]=DURATION", item)
		}
		dur, err := time.ParseDuration(item[i+1:])
		if err != nil || dur < 0 {
			return fmt.Errorf("bad -delay duration in %q", item)
		}
		d.m[strings.ToLower(item[:i])] = dur
	}
	return nil
}

// lookup: most specific first. "*" applies to resource requests only;
// non-resource paths are delayed only by their exact "/path" key.
func (d *delayTable) lookup(info *requestInfo) time.Duration {
	if len(d.m) == 0 {
		return 0
	}
	if !info.IsResource {
		return d.m[strings.ToLower(info.Path)]
	}
	var keys []string
	if info.Subresource != "" {
		rs := info.Resource + "/" + info.Subresource
		keys = append(keys, rs+":"+info.Verb, rs)
	}
	keys = append(keys, info.Resource+":"+info.Verb, info.Resource, "*:"+info.Verb, "*")
	for _, k := range keys {
		if v, ok := d.m[k]; ok {
			return v
		}
	}
	return 0
}

// statusRecorder sits between net/http and everything else, like
// kube-apiserver's httplog/metrics delegators.
type statusRecorder struct {
	http.ResponseWriter
	code int32
}

func (s *statusRecorder) WriteHeader(code int) {
	atomic.CompareAndSwapInt32(&s.code, 0, int32(code))
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	atomic.CompareAndSwapInt32(&s.code, 0, 200)
	return s.ResponseWriter.Write(b)
}

func (s *statusRecorder) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

type server struct {
	api     *apiServer
	inner   http.Handler // non-watch handler chain, inside the timeout filter
	gate    *gate        // -token-file, -forbid, -throttle (nil: none)
	verbose bool
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &statusRecorder{ResponseWriter: w}
	atomic.AddInt64(&inflight, 1)
	info := parseRequestInfo(r)
	defer func() {
		atomic.AddInt64(&inflight, -1)
		code := int(atomic.LoadInt32(&rec.code))
		countRequest(info, code, time.Since(start))
		if s.verbose {
			log.Printf("%s %s %s -> %d %s (%s)", r.Proto, r.Method, r.URL.RequestURI(), code, info.Verb, time.Since(start))
		}
	}()
	if !s.gate.admit(rec, r, info) {
		return
	}
	if info.IsResource && info.Verb == "watch" {
		atomic.AddInt64(&watches, 1)
		defer atomic.AddInt64(&watches, -1)
		s.api.serveWatch(rec, r, info)
		return
	}
	s.inner.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), infoKey{}, info)))
}

type infoKey struct{}

// handle runs in the timeout filter's child goroutine.
func (s *server) handle(w http.ResponseWriter, r *http.Request) {
	info, _ := r.Context().Value(infoKey{}).(*requestInfo)
	if info == nil {
		info = parseRequestInfo(r)
	}
	if info.IsResource {
		s.api.serveResource(w, r, info)
		return
	}
	sleepCtx(r.Context(), s.api.delays.lookup(info))
	if info.Prefix != "" {
		if !s.api.serveDiscovery(w, r, info) {
			writeError(w, errPageNotFound())
		}
		return
	}
	serveNonResource(w, r, s.api)
}

var (
	inflight, watches, timeouts int64
	metricsMu                   sync.Mutex
	requestCounts               = map[string]int64{}
	latencySum                  = map[string]float64{}
)

type reqKey struct{ verb, group, resource, subresource, code string }

func countTimeout() { atomic.AddInt64(&timeouts, 1) }

func countRequest(info *requestInfo, code int, d time.Duration) {
	verb := strings.ToUpper(info.Verb)
	k := fmt.Sprintf("verb=%q,group=%q,resource=%q,subresource=%q,code=\"%d\"",
		verb, info.Group, info.Resource, info.Subresource, code)
	if !info.IsResource {
		k = fmt.Sprintf("verb=%q,path=%q,code=\"%d\"", verb, info.Path, code)
		if len(info.Path) > 64 {
			k = fmt.Sprintf("verb=%q,path=\"other\",code=\"%d\"", verb, code)
		}
	}
	metricsMu.Lock()
	requestCounts[k]++
	latencySum[k] += d.Seconds()
	metricsMu.Unlock()
}

func selfSignedCert() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "testserver", Organization: []string{"cpprof"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "listen address")
	useTLS := flag.Bool("tls", false, "serve HTTPS (self-signed certificate; HTTP/2 and HTTP/1.1 by ALPN)")
	pidfile := flag.String("pidfile", "", "write the process id to this file")
	reqTimeout := flag.Duration("request-timeout", 60*time.Second, "timeout for non-watch requests (answer 504 Timeout)")
	quiet := flag.Bool("quiet", false, "no per-request logs (the default; kept for compatibility)")
	verbose := flag.Bool("v", false, "log every request on stderr")
	delays := &delayTable{}
	flag.Var(delays, "delay", "per-route handler delay, RESOURCE[/SUB][:VERB]=DURATION, *=DURATION, /PATH=DURATION; repeatable, comma-separated")
	etcdURLs := flag.String("etcd", "", "store objects in this etcd (comma-separated client URLs, e.g. http://127.0.0.1:2379) instead of memory; needs a build with -tags etcd")
	etcdPrefix := flag.String("etcd-prefix", "/registry", "etcd key prefix (kube-apiserver's --etcd-prefix)")
	strictNS := flag.Bool("strict-namespaces", true, "creating an object in a namespace that does not exist is 404 NotFound (kube-apiserver's NamespaceLifecycle); -strict-namespaces=false allows it")
	noWatchList := flag.Bool("no-watch-list", false, "refuse watches with ?sendInitialEvents=true (422 Invalid), as a kube-apiserver with the WatchList feature gate off")
	watchTimeout := flag.Duration("watch-timeout", 2*time.Second, "length of a watch without ?timeoutSeconds=")
	maxWatch := flag.Duration("max-watch-timeout", 30*time.Minute, "upper bound of a watch's length (?timeoutSeconds= included)")
	watchHistory := flag.Int("watch-history", 10000, "events kept for watches from a ?resourceVersion= (older: 410 Expired); in-memory store only")
	watchCache := flag.Bool("watch-cache", false, "model kube-apiserver's watch cache (watchcache.go): a window of events per resource sized as the cacher's, 410 \"too old resource version\" below it, bookmarks every -bookmark-frequency and 2 s before a watch's deadline; in-memory store only (without it: one -watch-history window, no bookmarks)")
	bookmarkEvery := flag.Duration("bookmark-frequency", defaultBookmark, "with -watch-cache: bookmark period (the cacher's defaultBookmarkFrequency)")
	progressEvery := flag.Duration("progress-notify-interval", 10*time.Minute, "with -watch-cache: how often a quiet resource's cache learns the current resourceVersion (etcd's watch progress notify interval); 0: never")
	reinitEvery := flag.Duration("watch-cache-reinit", 0, "with -watch-cache: every DURATION each resource's window starts over at the current resourceVersion, as after the cacher lists again or on another kube-apiserver behind the same address (re-watches from before it: 410); 0: never")
	inChild := flag.Bool("serialize-in-child", false, "encode list responses in a goroutine started by the handler (a grandchild of the serving goroutine)")
	tokenFile := flag.String("token-file", "", "require Authorization: Bearer TOKEN (401 otherwise) with a token from FILE (kube-apiserver's --token-auth-file CSV: token,user,uid,groups)")
	forbid := flag.String("forbid", "", "answer 403 Forbidden for these resources: RESOURCE[/SUB][:VERB],... (e.g. secrets,pods/status,nodes:delete)")
	throttle := flag.Float64("throttle", 0, "answer this fraction (0..1) of resource requests 429 TooManyRequests with Retry-After: 1")
	seed := flag.Int64("throttle-seed", 1, "random seed for -throttle")
	tlsCert := flag.String("tls-cert", "", "serve HTTPS with this PEM certificate (chain) instead of a self-signed one (implies -tls; needs -tls-key)")
	tlsKey := flag.String("tls-key", "", "PEM private key of -tls-cert")
	writeCA := flag.String("write-ca", "", "write the serving certificate (PEM; the self-signed one is its own CA) to FILE, for clients' --ca")
	clientCA := flag.String("client-ca", "", "verify client certificates against these PEM CAs if a client sends one; a verified certificate authenticates (user = CN) without a token")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "testserver: unexpected argument %q\n", flag.Arg(0))
		os.Exit(2)
	}
	if cgoInit != nil {
		cgoInit()
	}

	var st backend = newStore()
	if *etcdURLs != "" {
		if newEtcdBackend == nil {
			fmt.Fprintf(os.Stderr, "testserver: -etcd: this binary has no etcd backend; build tests/server with -tags etcd (tests/fixtures/build.sh makes testserver-etcd)\n")
			os.Exit(2)
		}
		prefix := "/" + strings.Trim(*etcdPrefix, "/")
		if prefix == "/" {
			fmt.Fprintf(os.Stderr, "testserver: -etcd-prefix %q: want a path such as /registry\n", *etcdPrefix)
			os.Exit(2)
		}
		eb, closeEtcd, err := newEtcdBackend(strings.Split(*etcdURLs, ","), prefix)
		if err != nil {
			fmt.Fprintf(os.Stderr, "testserver: etcd %s: %v (is etcd running there?)\n", *etcdURLs, err)
			os.Exit(1)
		}
		defer closeEtcd()
		st = eb
	}
	historySize = *watchHistory
	stopCh := make(chan struct{})
	if *watchCache || *reinitEvery > 0 {
		mem, ok := st.(*store)
		if !ok {
			fmt.Fprintf(os.Stderr, "testserver: -watch-cache models the in-memory store's watch cache; with -etcd watches go to etcd (kube-apiserver with its watch cache off): drop one of them\n")
			os.Exit(2)
		}
		if *bookmarkEvery <= 0 {
			fmt.Fprintf(os.Stderr, "testserver: -bookmark-frequency %v: want a positive duration such as 1m\n", *bookmarkEvery)
			os.Exit(2)
		}
		wcConfig.on = true
		wcConfig.bookmarkEvery = *bookmarkEvery
		wcConfig.progressNotify = *progressEvery
		wcConfig.reinit = *reinitEvery
		mem.enableWatchCache(stopCh)
	}
	api := &apiServer{store: st, delays: delays, stop: stopCh, strictNamespaces: *strictNS,
		watchTimeout: *watchTimeout, maxWatch: *maxWatch, serializeInChild: *inChild,
		noWatchList: *noWatchList}
	if err := seedObjects(st); err != nil {
		fmt.Fprintf(os.Stderr, "testserver: creating the initial objects: %v\n", err)
		os.Exit(1)
	}
	s := &server{api: api, verbose: *verbose && !*quiet}
	if *tokenFile != "" || *forbid != "" || *throttle > 0 || *clientCA != "" {
		s.gate = &gate{throttle: *throttle, rnd: mrand.New(mrand.NewSource(*seed))}
		if *tokenFile != "" {
			toks, err := loadTokens(*tokenFile)
			if err != nil {
				fmt.Fprintf(os.Stderr, "testserver: -token-file: %v\n", err)
				os.Exit(2)
			}
			s.gate.tokens = toks
		}
		if *forbid != "" {
			s.gate.forbid = map[string]bool{}
			for _, f := range strings.Split(*forbid, ",") {
				if f = strings.TrimSpace(f); f != "" {
					s.gate.forbid[strings.ToLower(f)] = true
				}
			}
		}
	}
	s.inner = withTimeout(http.HandlerFunc(s.handle), *reqTimeout)

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintf(os.Stderr, "testserver: listen %s: %v\n", *listen, err)
		os.Exit(1)
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 30 * time.Second, ErrorLog: log.New(discard{}, "", 0)}
	if *verbose {
		srv.ErrorLog = nil
	}
	scheme := "http"
	if *tlsCert != "" || *tlsKey != "" || *clientCA != "" || *writeCA != "" {
		*useTLS = true
	}
	if *useTLS {
		var cert tls.Certificate
		var err error
		if *tlsCert != "" || *tlsKey != "" {
			if *tlsCert == "" || *tlsKey == "" {
				fmt.Fprintf(os.Stderr, "testserver: -tls-cert and -tls-key go together\n")
				os.Exit(2)
			}
			cert, err = tls.LoadX509KeyPair(*tlsCert, *tlsKey)
		} else {
			cert, err = selfSignedCert()
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "testserver: certificate: %v\n", err)
			os.Exit(1)
		}
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2", "http/1.1"}}
		if *clientCA != "" {
			pemData, err := os.ReadFile(*clientCA)
			pool := x509.NewCertPool()
			if err != nil || !pool.AppendCertsFromPEM(pemData) {
				fmt.Fprintf(os.Stderr, "testserver: -client-ca %s: no PEM certificate (%v)\n", *clientCA, err)
				os.Exit(2)
			}
			srv.TLSConfig.ClientCAs = pool
			srv.TLSConfig.ClientAuth = tls.VerifyClientCertIfGiven
		}
		if *writeCA != "" {
			var out []byte
			for _, der := range cert.Certificate {
				out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
			}
			if err := os.WriteFile(*writeCA, out, 0644); err != nil {
				fmt.Fprintf(os.Stderr, "testserver: -write-ca: %v\n", err)
				os.Exit(1)
			}
		}
		scheme = "https"
	}
	if *pidfile != "" {
		if err := os.WriteFile(*pidfile, []byte(strconv.Itoa(os.Getpid())+"\n"), 0644); err != nil {
			fmt.Fprintf(os.Stderr, "testserver: pidfile: %v\n", err)
			os.Exit(1)
		}
		defer os.Remove(*pidfile)
	}
	fmt.Fprintf(os.Stdout, "listening on %s://%s\n", scheme, ln.Addr().String())
	os.Stdout.Sync()

	errc := make(chan error, 1)
	go func() {
		if *useTLS {
			errc <- srv.ServeTLS(ln, "", "")
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	sigc := make(chan os.Signal, 1)
	signal.Notify(sigc, syscall.SIGTERM, syscall.SIGINT)
	select {
	case <-sigc:
		close(api.stop)
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		if srv.Shutdown(ctx) != nil {
			srv.Close()
		}
		cancel()
	case err := <-errc:
		fmt.Fprintf(os.Stderr, "testserver: serve: %v\n", err)
		if *pidfile != "" {
			os.Remove(*pidfile)
		}
		os.Exit(1)
	}
}

type discard struct{}

func (discard) Write(b []byte) (int, error) { return len(b), nil }

// seedObjects creates the objects a fresh cluster has: namespaces default,
// kube-system, kube-public and kube-node-lease, and the kubernetes service.
// Objects that exist already (etcd kept from an earlier run) are left alone.
func seedObjects(st backend) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	exists := &apiError{code: 409}
	create := func(resource, ns, name string, o object) error {
		_, aerr := st.mutate(ctx, "", resource, ns, name, func(old object) (object, string, *apiError) {
			if old != nil {
				return nil, "", exists
			}
			return copyObject(o), "ADDED", nil
		})
		if aerr != nil && aerr != exists {
			return fmt.Errorf("%s %s/%s: %s", resource, ns, name, aerr.message)
		}
		return nil
	}
	for _, ns := range []string{"default", "kube-system", "kube-public", "kube-node-lease"} {
		if err := create("namespaces", "", ns, object{"kind": "Namespace", "apiVersion": "v1",
			"metadata": map[string]interface{}{"name": ns},
			"spec":     map[string]interface{}{"finalizers": []interface{}{"kubernetes"}},
			"status":   map[string]interface{}{"phase": "Active"}}); err != nil {
			return err
		}
	}
	return create("services", "default", "kubernetes", object{"kind": "Service", "apiVersion": "v1",
		"metadata": map[string]interface{}{"name": "kubernetes", "namespace": "default"},
		"spec": map[string]interface{}{"clusterIP": "10.0.0.1",
			"ports": []interface{}{map[string]interface{}{"name": "https", "port": 443, "protocol": "TCP"}}}})
}
