// status_server: a net/http server whose handlers end a request each way
// the status can be set, for test_http.py's status cases: the status is
// read from the response writer when the request ends, so what matters is
// what the writer holds then.
//
// Standard library only, so test_http.py builds it with every toolchain.
// Usage: status_server [-tls CERT,KEY]   prints "listening on URL".
package main

import (
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
)

func main() {
	tlsFiles := flag.String("tls", "", "CERT,KEY: serve HTTPS (HTTP/2 and HTTP/1.1)")
	flag.Parse()
	mux := http.NewServeMux()
	// No WriteHeader and no body: finishRequest / handlerDone sends 200.
	mux.HandleFunc("/nowrite", func(w http.ResponseWriter, r *http.Request) {})
	// A body only: Write sends 200 first.
	mux.HandleFunc("/body", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("x")) })
	mux.HandleFunc("/created", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusCreated) })
	mux.HandleFunc("/notfound", http.NotFound)
	// An informational code first (Go 1.19+ sends 1xx at once), then the final one.
	mux.HandleFunc("/early", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</style.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		w.WriteHeader(http.StatusAccepted)
	})
	// The status written by a child goroutine, as kube-apiserver's timeout
	// filter does; the handler's goroutine waits for it.
	mux.HandleFunc("/child500", func(w http.ResponseWriter, r *http.Request) {
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.WriteHeader(http.StatusInternalServerError)
		}()
		wg.Wait()
	})
	// A second WriteHeader is ignored by net/http: the first code stays.
	mux.HandleFunc("/twice", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusConflict)
		w.WriteHeader(http.StatusOK)
	})
	// The handler aborts: no end method runs, nothing is recorded.
	mux.HandleFunc("/abort", func(w http.ResponseWriter, r *http.Request) { panic(http.ErrAbortHandler) })
	// HTTP/1: the handler takes the connection over and answers itself; no
	// end method runs, nothing is recorded. HTTP/2 cannot be hijacked: 501.
	mux.HandleFunc("/hijack", func(w http.ResponseWriter, r *http.Request) {
		hj, ok := w.(http.Hijacker)
		if !ok {
			w.WriteHeader(http.StatusNotImplemented)
			return
		}
		c, buf, err := hj.Hijack()
		if err != nil {
			return
		}
		buf.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
		buf.Flush()
		c.Close()
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	srv := &http.Server{Handler: mux}
	if *tlsFiles != "" {
		f := strings.SplitN(*tlsFiles, ",", 2)
		fmt.Printf("listening on https://%s\n", ln.Addr())
		err = srv.ServeTLS(ln, f[0], f[1])
	} else {
		fmt.Printf("listening on http://%s\n", ln.Addr())
		err = srv.Serve(ln)
	}
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}
