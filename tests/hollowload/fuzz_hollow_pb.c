// SPDX-License-Identifier: MIT
/*
 * Fuzz hollowload's protobuf decoder: "k8s\0"-wrapped answers (objects
 * and lists) as the API server sends them with
 * Accept: application/vnd.kubernetes.protobuf.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "pb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *raw;
	size_t len;
	struct hl_obj o;

	if (pb_unwrap(data, size, &raw, &len) < 0)
		return 0;
	if (raw < data || raw + len > data + size)
		__builtin_trap();
	memset(&o, 0, sizeof(o));
	pb_object(raw, len, 0, &o);
	memset(&o, 0, sizeof(o));
	pb_object(raw, len, 1, &o);
	return 0;
}
