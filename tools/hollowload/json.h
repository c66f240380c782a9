/* SPDX-License-Identifier: MIT */
/*
 * json: read a few fields out of a JSON document by dotted path
 * ("object.metadata.name"), without building a tree. Enough for watch
 * events, objects and Status answers; bounded, for outside input.
 */
#ifndef HOLLOWLOAD_JSON_H
#define HOLLOWLOAD_JSON_H

#include <stddef.h>

/*
 * Find PATH (keys separated by '.') in the JSON value [S, S+N). On success
 * return 1 and set VAL and VLEN to the raw value (strings with their
 * quotes); 0 if absent; -1 if the document is malformed on the way.
 */
int json_get(const char *s, size_t n, const char *path, const char **val, size_t *vlen);
/* json_get for a string or number, copied (unescaped, printable) into OUT */
int json_get_str(const char *s, size_t n, const char *path, char *out, size_t cap);
/* end of the JSON value starting at S (after whitespace), or NULL if bad */
const char *json_skip(const char *s, const char *end, int depth);

struct hl_obj;
/* fill an hl_obj from a JSON object (metadata, spec.nodeName, status.phase, code) */
int json_object(const char *s, size_t n, struct hl_obj *o);

#endif
