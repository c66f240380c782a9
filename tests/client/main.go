// Command client sends a Kubernetes API request mix to a test server and
// reports exactly what it did, one TSV line per request on stdout:
//
//	METHOD \t PATH \t QUERY \t STATUS \t PROTOCOL \t CLIENT_LATENCY_NS
//
// PATH has no query; QUERY is the raw query string (empty if none); STATUS is
// the HTTP status, or 0 when the request failed at the transport level;
// PROTOCOL is resp.Proto (HTTP/1.1, HTTP/2.0), or "-" on transport failure;
// the latency runs from just before sending to having read the whole body.
// A summary line goes to stderr at the end.
//
//	client -url URL [-http2] [-insecure] -mix FILE [-concurrency N]
//	client -url URL [-http2] [-insecure] -load [-duration 10s] [-concurrency 32] [-path P] [-method GET] [-body JSON]
//
// Mix file: one request per line, "METHOD PATH[?QUERY] [ct=CONTENT-TYPE] [BODY] [xN]",
// # comments and blank lines ignored. BODY is the rest of the line, sent
// as is (it may be invalid JSON on purpose). xN repeats the request N times.
// Content-Type defaults to application/merge-patch+json for PATCH and
// application/json otherwise.
//
// Exit status: 0 if every request got an HTTP response (whatever its
// status), 1 if any failed at the transport level, 2 on usage errors.
package main

import (
	"bufio"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type request struct {
	method, path, query, ctype, body string
	line                             int
}

func parseMix(name string) ([]request, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []request
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	ln := 0
	for sc.Scan() {
		ln++
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) < 2 {
			return nil, fmt.Errorf("%s:%d: want METHOD PATH [BODY] [xN]", name, ln)
		}
		r := request{method: strings.ToUpper(fields[0]), line: ln}
		r.path = fields[1]
		if i := strings.IndexByte(r.path, '?'); i >= 0 {
			r.path, r.query = r.path[:i], r.path[i+1:]
		}
		if !strings.HasPrefix(r.path, "/") {
			return nil, fmt.Errorf("%s:%d: path %q must start with /", name, ln, r.path)
		}
		rest := strings.TrimSpace(line[strings.Index(line, fields[1])+len(fields[1]):])
		count := 1
		if len(fields) > 2 {
			last := fields[len(fields)-1]
			if len(last) > 1 && last[0] == 'x' {
				if n, err := strconv.Atoi(last[1:]); err == nil && n > 0 {
					count = n
					rest = strings.TrimSpace(strings.TrimSuffix(rest, last))
				}
			}
		}
		if strings.HasPrefix(rest, "ct=") {
			f := strings.Fields(rest)
			r.ctype = strings.TrimPrefix(f[0], "ct=")
			rest = strings.TrimSpace(rest[len(f[0]):])
		}
		r.body = rest
		if r.ctype == "" {
			if r.method == "PATCH" {
				r.ctype = "application/merge-patch+json"
			} else {
				r.ctype = "application/json"
			}
		}
		for i := 0; i < count; i++ {
			out = append(out, r)
		}
	}
	return out, sc.Err()
}

type result struct {
	req     request
	status  int
	proto   string
	latency time.Duration
	err     error
}

type client struct {
	base   *url.URL
	hc     *http.Client
	http2  bool
	h2fail int32
}

func (c *client) do(r request) result {
	u := *c.base
	u.Path = strings.TrimRight(c.base.Path, "/") + r.path
	u.RawQuery = r.query
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
	}
	req, err := http.NewRequest(r.method, u.String(), body)
	if err != nil {
		return result{req: r, err: err, proto: "-"}
	}
	if r.body != "" {
		req.Header.Set("Content-Type", r.ctype)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "cpprof-testclient/1.0")
	start := time.Now()
	resp, err := c.hc.Do(req)
	if err != nil {
		return result{req: r, err: err, proto: "-", latency: time.Since(start)}
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	lat := time.Since(start)
	res := result{req: r, status: resp.StatusCode, proto: resp.Proto, latency: lat, err: err}
	if c.http2 && resp.ProtoMajor != 2 {
		atomic.StoreInt32(&c.h2fail, 1)
	}
	if err != nil {
		res.status = 0
	}
	return res
}

func newClient(rawURL string, h2, insecure bool, conc int) (*client, error) {
	base, err := url.Parse(rawURL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("bad -url %q: want http://HOST:PORT or https://HOST:PORT", rawURL)
	}
	if h2 && base.Scheme != "https" {
		return nil, errors.New("-http2 needs an https:// URL (the server has no h2c)")
	}
	tr := &http.Transport{
		TLSClientConfig:     &tls.Config{InsecureSkipVerify: insecure},
		MaxIdleConns:        conc + 16,
		MaxIdleConnsPerHost: conc + 16,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	if h2 {
		tr.ForceAttemptHTTP2 = true
	} else {
		// Force HTTP/1.1 on TLS: no ALPN h2 upgrade.
		tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	}
	return &client{base: base, hc: &http.Client{Transport: tr}, http2: h2}, nil
}

func main() {
	rawURL := flag.String("url", "", "server base URL, http://HOST:PORT or https://HOST:PORT")
	h2 := flag.Bool("http2", false, "use HTTP/2 (https only); fail if the server answers another protocol")
	insecure := flag.Bool("insecure", false, "skip TLS certificate verification (the test server's certificate is self-signed)")
	mix := flag.String("mix", "", "request mix file")
	conc := flag.Int("concurrency", 1, "parallel requests (mix: 1 keeps the file order)")
	load := flag.Bool("load", false, "saturating load mode: repeat one request for -duration")
	duration := flag.Duration("duration", 10*time.Second, "load mode: how long")
	path := flag.String("path", "/api/v1/namespaces/default/pods/x", "load mode: PATH[?QUERY] to request")
	method := flag.String("method", "GET", "load mode: HTTP method")
	body := flag.String("body", "", "load mode: request body")
	flag.Parse()
	if *rawURL == "" || (*mix == "") == !*load || *conc < 1 || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: client -url URL [-http2] [-insecure] (-mix FILE | -load [-duration D] [-path P]) [-concurrency N]")
		os.Exit(2)
	}
	if *load {
		set := false
		flag.Visit(func(f *flag.Flag) { set = set || f.Name == "concurrency" })
		if !set {
			*conc = 32
		}
	}
	c, err := newClient(*rawURL, *h2, *insecure, *conc)
	if err != nil {
		fmt.Fprintln(os.Stderr, "client:", err)
		os.Exit(2)
	}
	if *load {
		os.Exit(runLoad(c, *method, *path, *body, *duration, *conc))
	}
	reqs, err := parseMix(*mix)
	if err != nil {
		fmt.Fprintln(os.Stderr, "client:", err)
		os.Exit(2)
	}
	os.Exit(runMix(c, reqs, *conc))
}

func runMix(c *client, reqs []request, conc int) int {
	out := bufio.NewWriter(os.Stdout)
	var mu sync.Mutex
	var failed, n int
	var firstErr error
	statuses := map[int]int{}
	protos := map[string]int{}
	report := func(r result) {
		mu.Lock()
		defer mu.Unlock()
		n++
		fmt.Fprintf(out, "%s\t%s\t%s\t%d\t%s\t%d\n", r.req.method, r.req.path, r.req.query, r.status, r.proto, r.latency.Nanoseconds())
		if r.err != nil {
			failed++
			if firstErr == nil {
				firstErr = fmt.Errorf("line %d: %s %s: %v", r.req.line, r.req.method, r.req.path, r.err)
			}
		}
		statuses[r.status]++
		protos[r.proto]++
	}
	start := time.Now()
	if conc == 1 {
		for _, r := range reqs {
			report(c.do(r))
		}
	} else {
		ch := make(chan request)
		var wg sync.WaitGroup
		for i := 0; i < conc; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for r := range ch {
					report(c.do(r))
				}
			}()
		}
		for _, r := range reqs {
			ch <- r
		}
		close(ch)
		wg.Wait()
	}
	out.Flush()
	var codes []int
	for k := range statuses {
		codes = append(codes, k)
	}
	sort.Ints(codes)
	var sb strings.Builder
	for _, k := range codes {
		fmt.Fprintf(&sb, " %d:%d", k, statuses[k])
	}
	var ps []string
	for k, v := range protos {
		ps = append(ps, fmt.Sprintf("%s:%d", k, v))
	}
	sort.Strings(ps)
	fmt.Fprintf(os.Stderr, "client: requests %d failed %d seconds %.3f statuses%s protocols %s\n",
		n, failed, time.Since(start).Seconds(), sb.String(), strings.Join(ps, ","))
	rc := 0
	if firstErr != nil {
		fmt.Fprintln(os.Stderr, "client: transport failure:", firstErr)
		if strings.Contains(firstErr.Error(), "x509") || strings.Contains(firstErr.Error(), "certificate") {
			fmt.Fprintln(os.Stderr, "client: the test server's certificate is self-signed: add -insecure")
		}
		rc = 1
	}
	if atomic.LoadInt32(&c.h2fail) != 0 {
		fmt.Fprintln(os.Stderr, "client: FAILED: -http2 was asked for but the server answered with HTTP/1.x")
		rc = 1
	}
	return rc
}

func runLoad(c *client, method, path, body string, d time.Duration, conc int) int {
	r := request{method: strings.ToUpper(method), path: path, body: body, ctype: "application/json"}
	if r.method == "PATCH" {
		r.ctype = "application/merge-patch+json"
	}
	if i := strings.IndexByte(r.path, '?'); i >= 0 {
		r.path, r.query = r.path[:i], r.path[i+1:]
	}
	// One warm-up request: fails fast on a bad URL or certificate.
	if w := c.do(r); w.err != nil {
		fmt.Fprintln(os.Stderr, "client: warm-up request failed:", w.err)
		return 1
	}
	deadline := time.Now().Add(d)
	lats := make([][]time.Duration, conc)
	statuses := make([]map[int]int, conc)
	errs := make([]int, conc)
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < conc; i++ {
		statuses[i] = map[int]int{}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for time.Now().Before(deadline) {
				res := c.do(r)
				if res.err != nil {
					errs[i]++
					continue
				}
				lats[i] = append(lats[i], res.latency)
				statuses[i][res.status]++
			}
		}(i)
	}
	wg.Wait()
	secs := time.Since(start).Seconds()
	var all []time.Duration
	total := map[int]int{}
	nerr := 0
	for i := 0; i < conc; i++ {
		all = append(all, lats[i]...)
		for k, v := range statuses[i] {
			total[k] += v
		}
		nerr += errs[i]
	}
	sort.Slice(all, func(a, b int) bool { return all[a] < all[b] })
	pct := func(p float64) float64 {
		if len(all) == 0 {
			return 0
		}
		i := int(p * float64(len(all)-1))
		return float64(all[i].Nanoseconds()) / 1e3
	}
	n := len(all) + nerr
	fmt.Printf("requests %d\n", n)
	fmt.Printf("seconds %.3f\n", secs)
	fmt.Printf("rps %.1f\n", float64(n)/secs)
	fmt.Printf("errors %d\n", nerr)
	fmt.Printf("p50_us %.1f\n", pct(0.50))
	fmt.Printf("p99_us %.1f\n", pct(0.99))
	var codes []int
	for k := range total {
		codes = append(codes, k)
	}
	sort.Ints(codes)
	for _, k := range codes {
		fmt.Printf("status_%d %d\n", k, total[k])
	}
	if atomic.LoadInt32(&c.h2fail) != 0 {
		fmt.Fprintln(os.Stderr, "client: FAILED: -http2 was asked for but the server answered with HTTP/1.x")
		return 1
	}
	if nerr > 0 {
		return 1
	}
	return 0
}
