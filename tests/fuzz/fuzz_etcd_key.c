// SPDX-License-Identifier: MIT
/*
 * fuzz_etcd_key: etcd_key__parse on an arbitrary prefix, method and key.
 * Input is "PREFIX\nMETHOD\nKEY" (the key may hold any byte, NUL and
 * newline included); each piece gets its own exactly-sized heap buffer so
 * AddressSanitizer catches a read past it. The result must be consistent:
 * every field terminated, scope as etcd_key.h documents.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "etcd_key.h"
#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size;
	size_t plen, mlen, klen;
	char *prefix = fuzz_piece(&p, end, &plen, 0);
	char *method = fuzz_piece(&p, end, &mlen, 0);
	char *key = fuzz_piece(&p, end, &klen, 1);
	struct etcd_key k;
	char *exact = malloc(klen ? klen : 1);

	if (!exact)
		abort();
	memcpy(exact, key, klen); /* no NUL after it: the parser must honour the length */
	etcd_key__parse(plen ? prefix : NULL, method, exact, klen, size & 1, &k);

	if (!TERMINATED(k.verb) || !TERMINATED(k.group) || !TERMINATED(k.resource) ||
	    !TERMINATED(k.namespace) || !TERMINATED(k.name))
		abort();
	if (k.is_list != (size & 1))
		abort();
	if (!k.is_k8s && (k.scope != SCOPE_NONE || k.resource[0]))
		abort();
	if (k.scope == SCOPE_NONE && (k.namespace[0] || k.name[0]))
		abort();
	if (k.scope == SCOPE_NAMESPACE && (!k.namespace[0] || k.name[0]))
		abort();
	if (k.scope == SCOPE_RESOURCE && !k.name[0])
		abort();
	if (k.scope != SCOPE_NONE && !k.resource[0])
		abort();
	if (k.group[0] && !k.resource[0])
		abort();

	free(exact);
	free(prefix);
	free(method);
	free(key);
	return 0;
}
