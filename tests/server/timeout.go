package main

// A copy, in behaviour, of kube-apiserver's WithTimeoutForNonLongRunningRequests
// (k8s.io/apiserver/pkg/server/filters/timeout.go): the parent goroutine (the
// one net/http runs ServeHTTP on) starts the real handler in a CHILD goroutine
// and waits for it or for the request context's deadline. The child writes
// through a timeout writer that forwards WriteHeader/Write to the real
// http.ResponseWriter from the child goroutine. On timeout, if nothing was
// written yet, the parent answers 504 with a Status{reason: Timeout}; if the
// child had already written, the parent panics with http.ErrAbortHandler (the
// connection is closed for HTTP/1.1, the stream reset for HTTP/2), exactly as
// the real filter does.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strconv"
	"sync"
	"time"
)

// withTimeout runs h in a child goroutine with a deadline of def, or the
// request's ?timeout= if shorter (kube-apiserver's WithRequestDeadline).
func withTimeout(h http.Handler, def time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d := def
		if q := r.URL.Query().Get("timeout"); q != "" {
			if qd, err := time.ParseDuration(q); err == nil && qd > 0 && qd < d {
				d = qd
			} else if n, err := strconv.Atoi(q); err == nil && n > 0 && time.Duration(n)*time.Second < d {
				d = time.Duration(n) * time.Second
			}
		}
		ctx, cancel := context.WithTimeout(r.Context(), d)
		defer cancel()
		r = r.WithContext(ctx)
		timeoutCh := ctx.Done()

		resultCh := make(chan interface{})
		tw := &timeoutWriter{w: w, handlerHeaders: w.Header().Clone()}
		var body *timeoutReader
		if r.Body != nil && r.Body != http.NoBody {
			body = &timeoutReader{ReadCloser: r.Body}
			r.Body = body
		}
		rCopy := r.Clone(ctx)
		go func() {
			defer func() {
				err := recover()
				if err != nil && err != http.ErrAbortHandler {
					buf := make([]byte, 64<<10)
					buf = buf[:runtime.Stack(buf, false)]
					err = fmt.Sprintf("%v\n%s", err, buf)
				}
				resultCh <- err
			}()
			h.ServeHTTP(tw, rCopy)
		}()
		select {
		case err := <-resultCh:
			if err != nil {
				panic(err)
			}
			return
		case <-timeoutCh:
			defer func() {
				// resultCh needs a reader: the child sends to it when it ends.
				go func() { <-resultCh }()
			}()
			countTimeout()
			if body != nil {
				body.timeout()
			}
			tw.timeout()
		}
	})
}

type timeoutWriter struct {
	w              http.ResponseWriter
	handlerHeaders http.Header

	mu          sync.Mutex
	timedOut    bool
	wroteHeader bool
}

func (tw *timeoutWriter) Header() http.Header {
	tw.mu.Lock()
	defer tw.mu.Unlock()
	if tw.timedOut {
		return http.Header{}
	}
	return tw.handlerHeaders
}

func (tw *timeoutWriter) Write(p []byte) (int, error) {
	tw.mu.Lock()
	defer tw.mu.Unlock()
	if tw.timedOut {
		return 0, http.ErrHandlerTimeout
	}
	if !tw.wroteHeader {
		copyHeaders(tw.w.Header(), tw.handlerHeaders)
		tw.wroteHeader = true
	}
	return tw.w.Write(p)
}

// WriteHeader runs on the child goroutine and calls the real ResponseWriter's
// WriteHeader from there.
func (tw *timeoutWriter) WriteHeader(code int) {
	tw.mu.Lock()
	defer tw.mu.Unlock()
	if tw.timedOut || tw.wroteHeader {
		return
	}
	copyHeaders(tw.w.Header(), tw.handlerHeaders)
	tw.wroteHeader = true
	tw.w.WriteHeader(code)
}

func (tw *timeoutWriter) Flush() {
	tw.mu.Lock()
	defer tw.mu.Unlock()
	if tw.timedOut {
		return
	}
	if f, ok := tw.w.(http.Flusher); ok {
		f.Flush()
	}
}

func copyHeaders(dst, src http.Header) {
	for k, v := range src {
		dst[k] = v
	}
}

func (tw *timeoutWriter) timeout() {
	tw.mu.Lock()
	defer tw.mu.Unlock()
	tw.timedOut = true
	if !tw.wroteHeader {
		st := newStatus(http.StatusGatewayTimeout, "Timeout",
			"Timeout: request did not complete within the allotted timeout", nil)
		st["details"] = map[string]interface{}{"retryAfterSeconds": 0}
		tw.w.Header().Set("Content-Type", "application/json")
		tw.w.WriteHeader(http.StatusGatewayTimeout)
		json.NewEncoder(tw.w).Encode(st)
		return
	}
	panic(http.ErrAbortHandler)
}

type timeoutReader struct {
	lock sync.Mutex
	io.ReadCloser
	timedOut bool
}

func (tr *timeoutReader) timeout() {
	tr.lock.Lock()
	defer tr.lock.Unlock()
	tr.timedOut = true
}

func (tr *timeoutReader) Read(b []byte) (int, error) {
	tr.lock.Lock()
	defer tr.lock.Unlock()
	if tr.timedOut {
		return 0, http.ErrHandlerTimeout
	}
	return tr.ReadCloser.Read(b)
}

func (tr *timeoutReader) Close() error {
	tr.lock.Lock()
	defer tr.lock.Unlock()
	if tr.timedOut {
		return http.ErrHandlerTimeout
	}
	return tr.ReadCloser.Close()
}
