package main

import "net/http"

const contentTypeProtobuf = "application/vnd.kubernetes.protobuf"

func wantsProtobuf(r *http.Request) bool { return false }

func protobufKind(info *requestInfo) string { return "" }

func encodeProtobufObject(info *requestInfo, o object) ([]byte, error) { return nil, nil }

func encodeProtobufList(info *requestInfo, objs []object, rv, cont string) ([]byte, error) {
	return nil, nil
}

func encodeProtobufWatchEvent(info *requestInfo, ev watchEvent) ([]byte, error) { return nil, nil }
