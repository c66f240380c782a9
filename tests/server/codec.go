package main

// Response encoding: JSON (encoding/json) by default; see protobuf.go for
// application/vnd.kubernetes.protobuf. Objects are encoded afresh for every
// response (nothing is cached), so a list of N objects costs N objects'
// encoding.

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// respond writes one object (get, create, update, patch, delete answers).
func (a *apiServer) respond(w http.ResponseWriter, r *http.Request, info *requestInfo, code int, o object) {
	pb, ok := negotiate(r, info)
	if !ok {
		writeError(w, errNotAcceptable())
		return
	}
	if pb {
		b, err := encodeProtobufObject(info, o)
		if err != nil {
			writeError(w, &apiError{500, "InternalError", "Internal error occurred: protobuf encoding: " + err.Error(), nil})
			return
		}
		writeBytes(w, code, contentTypeProtobuf, b)
		return
	}
	writeJSON(w, code, o)
}

// writeList encodes a list: with -serialize-in-child, in a goroutine the
// handler starts and waits for (a grandchild of the serving goroutine,
// as the handler itself runs in the timeout filter's child goroutine).
func (a *apiServer) writeList(w http.ResponseWriter, r *http.Request, info *requestInfo, objs []object, rv, cont string) {
	pb, ok := negotiate(r, info)
	if !ok {
		writeError(w, errNotAcceptable())
		return
	}
	encode := func() (string, []byte, error) {
		if pb {
			b, err := encodeProtobufList(info, objs, rv, cont)
			return contentTypeProtobuf, b, err
		}
		b, err := encodeJSONList(info, objs, rv, cont)
		return "application/json", b, err
	}
	var ct string
	var b []byte
	var err error
	if a.serializeInChild {
		done := make(chan struct{})
		go func() {
			defer close(done)
			ct, b, err = encode()
		}()
		<-done
	} else {
		ct, b, err = encode()
	}
	if err != nil {
		writeError(w, &apiError{500, "InternalError", "Internal error occurred: encoding: " + err.Error(), nil})
		return
	}
	writeBytes(w, 200, ct, b)
}

// encodeJSONList: a list answer in JSON (encoding/json), newline-terminated.
func encodeJSONList(info *requestInfo, objs []object, rv, cont string) ([]byte, error) {
	items := make([]interface{}, len(objs))
	for i, o := range objs {
		items[i] = o
	}
	md := map[string]interface{}{"resourceVersion": rv}
	if cont != "" {
		md["continue"] = cont
	}
	b, err := json.Marshal(map[string]interface{}{
		"kind": typeOf(info.Resource).kind + "List", "apiVersion": apiVersionOf(info),
		"metadata": md, "items": items,
	})
	return append(b, '\n'), err
}

func writeBytes(w http.ResponseWriter, code int, ct string, b []byte) {
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(code)
	w.Write(b)
}

type watchEnc struct {
	contentType string
	encode      func(watchEvent) error
}

// watchEncoder: newline-delimited JSON events, or (Accept protobuf)
// length-prefixed protobuf frames.
func (a *apiServer) watchEncoder(w http.ResponseWriter, r *http.Request, info *requestInfo) (*watchEnc, *apiError) {
	pb, ok := negotiate(r, info)
	if !ok {
		return nil, errNotAcceptable()
	}
	if pb {
		return &watchEnc{contentTypeProtobuf + ";stream=watch", func(ev watchEvent) error {
			b, err := encodeProtobufWatchEvent(info, ev)
			if err != nil {
				return err
			}
			_, err = w.Write(b)
			return err
		}}, nil
	}
	enc := json.NewEncoder(w)
	return &watchEnc{"application/json", func(ev watchEvent) error { return enc.Encode(ev) }}, nil
}
