// SPDX-License-Identifier: MIT
/*
 * etcd_key: etcd method -> verb, and kube-apiserver storage key ->
 * resource, namespace, scope. See etcd_key.h.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "etcd_key.h"

/*
 * etcd's own method names (api/etcdserverpb/rpc.proto, 3.4 and 3.5) with
 * the verbs cpprof stores; anything else is snake-cased.
 */
static const struct {
	const char *method;
	const char *verb;
} verbs[] = {
	{ "Range", "range" },
	{ "Put", "put" },
	{ "DeleteRange", "delete_range" },
	{ "Txn", "txn" },
	{ "Compact", "compact" },
	{ "Watch", "watch" },
	{ "LeaseGrant", "lease_grant" },
	{ "LeaseRevoke", "lease_revoke" },
	{ "LeaseKeepAlive", "lease_keepalive" },
	{ "LeaseTimeToLive", "lease_timetolive" },
	{ "LeaseLeases", "lease_leases" },
	{ "HashKV", "hash_kv" },
};

/* Copy at most LEN bytes of SRC into DST[CAP], never cutting a UTF-8 sequence. */
static void copy_cut(char *dst, size_t cap, const char *src, size_t len)
{
	if (!cap)
		return;
	if (len > cap - 1) {
		size_t cut = cap - 1, back = 0;

		/* back over continuation bytes to the lead byte, and drop it too;
		 * a sequence is at most 4 bytes: anything else is not UTF-8 */
		while (back < 3 && cut - back > 0 && ((unsigned char)src[cut - back] & 0xc0) == 0x80)
			back++;
		len = back < 3 || ((unsigned char)src[cut - back] & 0xc0) != 0x80 ? cut - back : cut;
	}
	memcpy(dst, src, len);
	dst[len] = 0;
}

void etcd_verb_from_method(const char *method, char *out, size_t n)
{
	const char *name;
	size_t i, o = 0;

	if (!n)
		return;
	out[0] = 0;
	if (!method)
		return;
	name = strrchr(method, '/');
	name = name ? name + 1 : method;
	if (!*name)
		return;
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		if (strcmp(name, verbs[i].method) == 0) {
			copy_cut(out, n, verbs[i].verb, strlen(verbs[i].verb));
			return;
		}
	}
	/* CamelCase -> snake_case: "MemberList" -> "member_list", "HashKV" -> "hash_kv" */
	for (i = 0; name[i] && o + 2 < n; i++) {
		unsigned char c = name[i];

		if (isupper(c) && i > 0 && (islower((unsigned char)name[i - 1]) ||
					    (name[i + 1] && islower((unsigned char)name[i + 1]) &&
					     isupper((unsigned char)name[i - 1]))))
			out[o++] = '_';
		out[o++] = isupper(c) ? (char)tolower(c) : (char)c;
	}
	if (o < n)
		out[o] = 0;
	else
		out[n - 1] = 0;
}

/*
 * Legacy storage prefixes of core and old groups (kube-apiserver,
 * SpecialDefaultResourcePrefixes), as the API names the resource.
 * "services" is followed by "specs" or "endpoints".
 */
static const struct {
	const char *stored;
	const char *resource;
} legacy[] = {
	{ "minions", "nodes" },
	{ "controllers", "replicationcontrollers" },
	{ "ingress", "ingresses" },
	{ "podsecuritypolicy", "podsecuritypolicies" },
};

struct seg {
	const char *p;
	size_t n;
};

void etcd_key__parse(const char *prefix, const char *method, const char *key, size_t key_len,
		     size_t range_end_len, struct etcd_key *out)
{
	struct seg segs[8];
	size_t plen, i, nseg = 0, first = 0;
	const char *p, *end;
	bool trailing;

	memset(out, 0, sizeof(*out));
	etcd_verb_from_method(method, out->verb, sizeof(out->verb));
	out->is_list = range_end_len > 0;
	if (!key || !key_len)
		return;
	key_len = strnlen(key, key_len); /* a NUL byte ends what we look at */
	if (!prefix)
		prefix = ETCD_KEY_PREFIX_DEFAULT;
	plen = strlen(prefix);
	while (plen && prefix[plen - 1] == '/')
		plen--;
	/* the key must be PREFIX "/" ..., the prefix a whole path element */
	if (key_len < plen + 1 || memcmp(key, prefix, plen) || key[plen] != '/')
		return;
	out->is_k8s = true;
	p = key + plen + 1;
	end = key + key_len;
	trailing = end > p && end[-1] == '/';
	while (p < end && nseg < sizeof(segs) / sizeof(segs[0])) {
		const char *s = memchr(p, '/', end - p);
		size_t n = (s ? s : end) - p;

		if (n) { /* "//" and the trailing "/" give no segment */
			segs[nseg].p = p;
			segs[nseg].n = n;
			nseg++;
		}
		p = s ? s + 1 : end;
	}
	if (nseg == 0)
		return;

	/* group: only group names have a dot ("apiextensions.k8s.io"); resources never do */
	if (memchr(segs[0].p, '.', segs[0].n) && nseg >= 2) {
		copy_cut(out->group, sizeof(out->group), segs[0].p, segs[0].n);
		first = 1;
	}
	copy_cut(out->resource, sizeof(out->resource), segs[first].p, segs[first].n);
	first++;
	if (!out->group[0]) {
		if (strcmp(out->resource, "services") == 0 && nseg > first) {
			if (segs[first].n == 9 && memcmp(segs[first].p, "endpoints", 9) == 0) {
				snprintf(out->resource, sizeof(out->resource), "endpoints");
				first++;
			} else if (segs[first].n == 5 && memcmp(segs[first].p, "specs", 5) == 0) {
				first++;
			}
		}
		for (i = 0; i < sizeof(legacy) / sizeof(legacy[0]); i++)
			if (strcmp(out->resource, legacy[i].stored) == 0)
				snprintf(out->resource, sizeof(out->resource), "%s", legacy[i].resource);
	}

	if (!out->resource[0])
		return;
	switch (nseg - first) {
	case 0:
		out->scope = SCOPE_CLUSTER;
		break;
	case 1:
		if (trailing) {
			/* "/registry/pods/ns/": everything in one namespace */
			copy_cut(out->namespace, sizeof(out->namespace), segs[first].p, segs[first].n);
			out->scope = SCOPE_NAMESPACE;
		} else {
			copy_cut(out->name, sizeof(out->name), segs[first].p, segs[first].n);
			out->scope = SCOPE_RESOURCE;
		}
		break;
	default:
		copy_cut(out->namespace, sizeof(out->namespace), segs[first].p, segs[first].n);
		/* the name is everything after the namespace (names have no '/', but keys may) */
		copy_cut(out->name, sizeof(out->name), segs[first + 1].p,
			 (size_t)(end - segs[first + 1].p) - (trailing ? 1 : 0));
		out->scope = SCOPE_RESOURCE;
		break;
	}
}
