/* SPDX-License-Identifier: MIT */
/*
 * pb: the little protobuf hollowload needs: an encoder for the objects it
 * creates (Pod, Node, Lease, Namespace, ServiceAccount) in Kubernetes'
 * wire format ("k8s\0" + runtime.Unknown), and a bounds-checked decoder
 * for the fields it reads back (names, resourceVersion, phase, nodeName).
 * Field numbers: k8s.io/api/core/v1/generated.proto,
 * k8s.io/apimachinery/pkg/apis/meta/v1/generated.proto,
 * k8s.io/apimachinery/pkg/runtime/generated.proto.
 */
#ifndef HOLLOWLOAD_PB_H
#define HOLLOWLOAD_PB_H

#include <stddef.h>
#include <stdint.h>

struct pbuf {
	uint8_t *p;
	size_t len, cap;
	int oom;
};

void pb_varint(struct pbuf *b, uint64_t v);
void pb_bytes(struct pbuf *b, int field, const void *data, size_t len);
void pb_str(struct pbuf *b, int field, const char *s);
void pb_uint(struct pbuf *b, int field, uint64_t v);
/* append a nested message (its bytes) as field FIELD */
void pb_msg(struct pbuf *b, int field, const struct pbuf *m);
void pb_free(struct pbuf *b);

/* a decoded field: wire type 0 gives VAL, wire type 2 gives DATA/LEN */
struct pb_field {
	int num, wire;
	uint64_t val;
	const uint8_t *data;
	size_t len;
};

/* next field of [*P, END); 1 found, 0 end, -1 malformed */
int pb_next(const uint8_t **p, const uint8_t *end, struct pb_field *f);
/* the first length-delimited field NUM of a message; 1 found, 0 not, -1 bad */
int pb_find(const uint8_t *p, size_t len, int num, const uint8_t **data, size_t *dlen);

/* Kubernetes objects, wrapped ("k8s\0" + Unknown{typeMeta, raw}) */
struct hl_pod_spec {
	const char *name, *namespace, *node, *run;   /* run: label value */
};
int pb_pod(struct pbuf *out, const struct hl_pod_spec *ps);
/* an object with only metadata: Node, Namespace, ServiceAccount */
int pb_meta_object(struct pbuf *out, const char *api_version, const char *kind,
		   const char *name, const char *namespace);
int pb_lease(struct pbuf *out, const char *name, const char *holder, const char *rv,
	     int64_t renew_sec, int32_t renew_nsec, int duration_s);

/*
 * The object inside a Kubernetes protobuf body: strip "k8s\0" and unwrap
 * runtime.Unknown's raw field; without the magic, DATA is returned as is.
 * Returns 0 or -1 when the wrapper is malformed.
 */
int pb_unwrap(const uint8_t *data, size_t len, const uint8_t **raw, size_t *rawlen);

/* what hollowload reads from an object (Pod, Lease, List, Status) */
struct hl_obj {
	char name[254], namespace[64], rv[32], phase[24], node[254];
	int deleting;       /* metadata.deletionTimestamp set */
	int initial_end;    /* annotation k8s.io/initial-events-end: "true" (a watch-list's end) */
	long code;          /* Status.code */
};
/* fill O from an unwrapped object's protobuf; KIND_LIST reads ListMeta */
int pb_object(const uint8_t *raw, size_t len, int is_list, struct hl_obj *o);

#endif
