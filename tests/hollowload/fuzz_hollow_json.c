// SPDX-License-Identifier: MIT
/*
 * Fuzz hollowload's JSON reader on answers: an object's metadata, a
 * list's resourceVersion, a Status code, as json_object and json_get see
 * them in responses of the API server.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "json.h"
#include "pb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hl_obj o;
	char out[64];
	const char *v;
	size_t vl;

	memset(&o, 0, sizeof(o));
	json_object((const char *)data, size, &o);
	json_get_str((const char *)data, size, "metadata.resourceVersion", out, sizeof(out));
	if (json_get((const char *)data, size, "object", &v, &vl) == 1 &&
	    (v < (const char *)data || v + vl > (const char *)data + size))
		__builtin_trap();
	json_skip((const char *)data, (const char *)data + size, 0);
	return 0;
}
