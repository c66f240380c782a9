// SPDX-License-Identifier: MIT
/*
 * fuzz_reqinfo: k8s_reqinfo__parse on arbitrary method, path and query.
 * Input is "METHOD\nPATH\nQUERY" (missing pieces are empty); each piece is
 * copied into its own exactly-sized heap buffer so that AddressSanitizer
 * catches any read past its NUL. Besides not crashing, the result must be
 * internally consistent: every field terminated, scope derived as the
 * header documents.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_input.h"
#include "k8s_reqinfo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size;
	struct k8s_reqinfo ri;
	char *method = fuzz_piece(&p, end, NULL, 0);
	char *path = fuzz_piece(&p, end, NULL, 0);
	char *query = fuzz_piece(&p, end, NULL, 0);

	k8s_reqinfo__parse(method, path, query, &ri);

	if (!TERMINATED(ri.verb) || !TERMINATED(ri.api_prefix) || !TERMINATED(ri.api_group) ||
	    !TERMINATED(ri.api_version) || !TERMINATED(ri.namespace) || !TERMINATED(ri.resource) ||
	    !TERMINATED(ri.subresource) || !TERMINATED(ri.name))
		abort();
	if (!ri.is_resource && (ri.scope != SCOPE_NONE || ri.resource[0] || ri.name[0]))
		abort();
	/* CleanScope: a create is "resource" scope like a call on one named object */
	if (ri.is_resource && ri.scope != (ri.name[0] || !strcmp(ri.verb, "create") ? SCOPE_RESOURCE :
					   ri.namespace[0] ? SCOPE_NAMESPACE : SCOPE_CLUSTER))
		abort();
	if (ri.is_resource && !strcmp(ri.verb, "get") && !ri.name[0] && ri.resource[0])
		abort(); /* a nameless GET is always list or watch */
	if (!strcmp(ri.verb, "watch") && !ri.long_running)
		abort();
	(void)k8s_scope_name(ri.scope);

	free(method);
	free(path);
	free(query);
	return 0;
}
