/* SPDX-License-Identifier: MIT */
/*
 * watch: an incremental parser of a Kubernetes watch stream, fed bytes as
 * they arrive. JSON: one {"type":..., "object":...} after another
 * (kube-apiserver ends each with a newline; we do not rely on it).
 * Protobuf (application/vnd.kubernetes.protobuf;stream=watch): frames of a
 * 4-byte big-endian length, each a metav1.WatchEvent{1: type, 2: object
 * RawExtension{1: raw}}, raw being a "k8s\0"-wrapped object; a frame that
 * is itself "k8s\0"-wrapped is unwrapped first.
 */
#ifndef HOLLOWLOAD_WATCH_H
#define HOLLOWLOAD_WATCH_H

#include <stddef.h>

#include "pb.h"

#define WATCH_MAX_EVENT (16u << 20)   /* larger events are a protocol error */

struct watch_event {
	char type[16];          /* ADDED, MODIFIED, DELETED, BOOKMARK, ERROR */
	struct hl_obj obj;
};

typedef void (*watch_event_fn)(const struct watch_event *ev, void *arg);

struct watch_parser {
	int protobuf;
	char *buf;
	size_t len, cap;
	/* JSON framing state, kept across feeds so no byte is scanned twice */
	size_t scan;
	int depth, in_str, esc;
	long events;
};

void watch__init(struct watch_parser *p, int protobuf);
/* feed bytes; calls FN per complete event; 0, or -1 on a malformed stream */
int watch__feed(struct watch_parser *p, const char *data, size_t len, watch_event_fn fn, void *arg);
/* decode one event (a JSON document, or a protobuf frame's payload) */
int watch__event(int protobuf, const char *data, size_t len, struct watch_event *ev);
void watch__reset(struct watch_parser *p);
void watch__free(struct watch_parser *p);

#endif
