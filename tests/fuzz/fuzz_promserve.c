// SPDX-License-Identifier: MIT
/*
 * fuzz_promserve: arbitrary bytes as what a scraper sends to `cpprof
 * record --listen` (the request router, the only code of promserve.c that
 * reads the network), and as a --listen address. Nothing may crash or
 * read out of bounds; a parsed address must be a NUL-terminated host and
 * a port of digits.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "promserve.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char host[64], port[8], *addr;
	int r = promserve__route((const char *)data, size);

	if (r < PROMSERVE_BAD_METHOD || r > PROMSERVE_HEAD)
		abort();
	if (!(addr = malloc(size + 1)))
		return 0;
	memcpy(addr, data, size);
	addr[size] = '\0';
	if (!promserve__parse_addr(addr, host, sizeof(host), port, sizeof(port))) {
		if (strlen(host) >= sizeof(host) || !port[0] || strspn(port, "0123456789") != strlen(port))
			abort();
	}
	free(addr);
	return 0;
}
