// SPDX-License-Identifier: MIT
/*
 * k8s_reqinfo: tag one HTTP request to kube-apiserver the way kube-apiserver
 * tags it itself, so that cpprof's verb/resource/scope columns mean what the
 * apiserver's own metrics and the API-call latency SLO mean.
 *
 * This is a port of RequestInfoFactory.NewRequestInfo from
 * k8s.io/apiserver/pkg/endpoints/request/requestinfo.go (a current release,
 * which also takes the name from fieldSelector=metadata.name when listing or
 * watching a collection), configured as kube-apiserver
 * configures it: APIPrefixes {"api", "apis"}, GrouplessAPIPrefixes {"api"}.
 * Comments name the Go function each step follows. Expected values in
 * tests/unit/test_k8s_reqinfo.c are cross-checked against requestinfo_test.go.
 *
 * It runs once per traced request, so it allocates nothing: path segments
 * are (pointer, length) views into the caller's string, and the query is
 * decoded into small stack buffers.
 */
#include <stdint.h>
#include <string.h>

#include "k8s_reqinfo.h"

/*
 * The deepest index NewRequestInfo reads: prefix, group, version, special
 * verb, "namespaces", namespace, then Parts[0..2] = resource, name,
 * subresource. Segments past these are never looked at, only counted, and
 * counts are only compared against small numbers, so keeping a few more
 * than needed is enough.
 */
#define MAX_SEGS 12

/*
 * Decoded query values longer than this are not interpreted (the BPF side
 * captures at most HTTP_QUERY_MAX + HTTP_QTAIL_MAX bytes anyway).
 */
#define QVAL_MAX 2048

struct seg {
	const char *p;
	size_t n;
};

static bool seg_is(struct seg s, const char *lit)
{
	size_t n = strlen(lit);

	return s.n == n && memcmp(s.p, lit, n) == 0;
}

/*
 * Copy N bytes into a fixed field, cut to fit. A cut never splits a UTF-8
 * sequence: the field may end up shorter, but stays valid text when the
 * input was valid UTF-8.
 */
static void copy_field(char *dst, size_t cap, const char *src, size_t n)
{
	if (n >= cap) {
		n = cap - 1;
		while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
			n--;
	}
	memcpy(dst, src, n);
	dst[n] = 0;
}

#define SET(field, s) copy_field((field), sizeof(field), (s).p, (s).n)

/*
 * splitPath in requestinfo.go: strings.Trim(path, "/") then
 * strings.Split(path, "/"); an empty trimmed path has no parts. Empty
 * segments ("a//b") are kept, as strings.Split keeps them.
 */
static int split_path(const char *path, struct seg *segs)
{
	const char *b = path, *e = path + strlen(path), *p;
	int n = 0;

	while (b < e && *b == '/')
		b++;
	while (e > b && e[-1] == '/')
		e--;
	if (b == e)
		return 0;
	for (;;) {
		p = memchr(b, '/', e - b);
		if (!p)
			p = e;
		if (n < MAX_SEGS)
			segs[n] = (struct seg){ b, (size_t)(p - b) };
		n++;
		if (p == e || n > MAX_SEGS)
			break;
		b = p + 1;
	}
	return n;
}

static int unhex(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * net/url.QueryUnescape (unescape with encodeQueryComponent, Go 1.17+):
 * '+' is a space, '%' must be followed by two hex digits or the whole
 * component is an error. Writes at most CAP bytes; returns the full
 * decoded length, or -1 on a bad escape.
 */
static long query_unescape(const char *s, size_t n, char *out, size_t cap)
{
	size_t i, o = 0;
	int hi, lo;
	char c;

	for (i = 0; i < n; i++) {
		c = s[i];
		if (c == '%') {
			if (n - i < 3)
				return -1;
			hi = unhex(s[i + 1]);
			lo = unhex(s[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			c = (char)(hi << 4 | lo);
			i += 2;
		} else if (c == '+') {
			c = ' ';
		}
		if (o < cap)
			out[o] = c;
		o++;
	}
	return (long)o;
}

/*
 * strconv.ParseInt(s, 10, 64) succeeds: optional sign, at least one
 * digit, nothing else, within int64 range.
 */
static bool parses_int64(const char *s, size_t n)
{
	uint64_t v = 0, lim = INT64_MAX;
	size_t i = 0;

	if (i < n && (s[i] == '+' || s[i] == '-')) {
		if (s[i] == '-')
			lim = (uint64_t)INT64_MAX + 1;
		i++;
	}
	if (i == n)
		return false;
	for (; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		if (v > (lim - (uint64_t)(s[i] - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	return true;
}

/* What NewRequestInfo takes from the query for a collection GET. */
struct list_query {
	bool has_watch;
	bool watch;             /* Convert_Slice_string_To_bool of watch[0] */
	bool decode_err;        /* DecodeParameters into ListOptions would fail */
	bool has_limit;
	bool has_timeout;
	bool has_fs;
	bool fs_too_long;
	size_t fs_len;
	char fs[QVAL_MAX];      /* fieldSelector[0], decoded */
};

/*
 * url.ParseQuery as Go 1.17+ does it (net/url/url.go parseQuery): pairs
 * split on '&'; a pair containing ';' is dropped with an error; empty pairs
 * are skipped; key and value split at the first '='; a pair whose key or
 * value has a bad escape is dropped. url.Values keeps every value in order,
 * and every conversion that matters here reads values[0], the first pair
 * that survived.
 *
 * Then the part of DecodeParameters(query, v1, &ListOptions) that can fail
 * (apimachinery zz_generated.conversion.go, autoConvert_url_Values_To_v1_ListOptions):
 * limit and timeoutSeconds go through strconv.ParseInt. The fieldSelector
 * parse is checked by the caller. labelSelector is not parsed (see
 * k8s_reqinfo.h): a malformed one next to a metadata.name field selector
 * gives a name here where kube-apiserver gives none.
 */
static bool is_false(const char *v, long n)
{
	static const char f[] = "false";
	long i;

	if (n == 1)
		return v[0] == '0';
	if (n != 5)
		return false;
	for (i = 0; i < 5; i++)
		if ((v[i] | 0x20) != f[i])
			return false;
	return true;
}

/* One "key=value" pair of the query, [pair, end). */
static void list_query_pair(const char *pair, const char *end, struct list_query *lq)
{
	const char *eq, *v;
	char key[16], buf[24];
	long kn, vn;

	if (end == pair || memchr(pair, ';', end - pair))
		return;
	eq = memchr(pair, '=', end - pair);
	v = eq ? eq + 1 : end;
	kn = query_unescape(pair, (eq ? eq : end) - pair, key, sizeof(key));
	if (kn < 0 || kn >= (long)sizeof(key))
		return; /* a bad escape, or longer than any key looked at */
	key[kn] = 0;

	if (!strcmp(key, "watch") && !lq->has_watch) {
		vn = query_unescape(v, end - v, buf, sizeof(buf));
		if (vn < 0)
			return;
		lq->has_watch = true;
		/* runtime.Convert_Slice_string_To_bool: only "false" and "0", any case, are false */
		lq->watch = !is_false(buf, vn);
	} else if (!strcmp(key, "fieldSelector") && !lq->has_fs) {
		vn = query_unescape(v, end - v, lq->fs, sizeof(lq->fs));
		if (vn < 0)
			return;
		lq->has_fs = true;
		lq->fs_too_long = vn >= (long)sizeof(lq->fs);
		lq->fs_len = lq->fs_too_long ? 0 : (size_t)vn;
	} else if ((!strcmp(key, "limit") && !lq->has_limit) ||
		   (!strcmp(key, "timeoutSeconds") && !lq->has_timeout)) {
		vn = query_unescape(v, end - v, buf, sizeof(buf));
		if (vn < 0)
			return;
		if (key[0] == 'l')
			lq->has_limit = true;
		else
			lq->has_timeout = true;
		if (vn >= (long)sizeof(buf) || !parses_int64(buf, (size_t)vn))
			lq->decode_err = true;
	}
}

static void parse_list_query(const char *q, struct list_query *lq)
{
	const char *pair, *end, *amp;

	memset(lq, 0, offsetof(struct list_query, fs));
	if (!q)
		return;
	end = q + strlen(q);
	for (pair = q;; pair = amp + 1) {
		amp = memchr(pair, '&', end - pair);
		if (!amp)
			amp = end;
		list_query_pair(pair, amp, lq);
		if (amp == end)
			break;
	}
}

/*
 * fields.UnescapeValue (apimachinery/pkg/fields/selector.go): "\\", "\,"
 * and "\=" stand for themselves; any other escape, a trailing backslash,
 * or a bare ',' or '=' is an error. Returns the decoded length or -1.
 */
static long fs_unescape(const char *s, size_t n, char *out, size_t cap)
{
	bool in_slash = false;
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		char c = s[i];

		if (in_slash) {
			if (c != '\\' && c != ',' && c != '=')
				return -1;
			in_slash = false;
		} else if (c == '\\') {
			in_slash = true;
			continue;
		} else if (c == ',' || c == '=') {
			return -1;
		}
		if (o < cap)
			out[o] = c;
		o++;
	}
	return in_slash ? -1 : (long)o;
}

/*
 * fields.ParseSelector(sel).RequiresExactMatch("metadata.name").
 *
 * parseSelector splits terms at commas not escaped by '\' (splitTerms),
 * sorts them as strings, drops empty ones, and splits each at the first
 * "!=", "==" or "=" (splitTerm; a term with none is an error), unescaping
 * the right side (an error fails the whole parse). andTerm's
 * RequiresExactMatch returns the first "=" or "==" term on the field in
 * that sorted order, so of all matching terms the smallest string wins.
 *
 * Returns -1 if the selector does not parse, 0 if it parses without an
 * exact metadata.name, 1 with the raw right side of the winning term in *rhs.
 */
static int fs_exact_name(const char *s, size_t n, struct seg *rhs)
{
	static const char field[] = "metadata.name";
	const size_t flen = sizeof(field) - 1;
	struct seg best = { NULL, 0 }, term;
	bool in_slash = false;
	size_t i, start = 0, j;

	for (i = 0; i <= n; i++) {
		if (i < n) {
			if (in_slash) {
				in_slash = false;
				continue;
			}
			if (s[i] == '\\') {
				in_slash = true;
				continue;
			}
			if (s[i] != ',')
				continue;
		}
		term = (struct seg){ s + start, i - start };
		start = i + 1;
		if (!term.n)
			continue;

		size_t op = 0, oplen = 0;
		bool ne = false;

		for (j = 0; j < term.n; j++) {
			if (term.p[j] == '!' && j + 1 < term.n && term.p[j + 1] == '=') {
				op = j, oplen = 2, ne = true;
				break;
			}
			if (term.p[j] == '=') {
				op = j;
				oplen = j + 1 < term.n && term.p[j + 1] == '=' ? 2 : 1;
				break;
			}
		}
		if (!oplen)
			return -1;
		const char *r = term.p + op + oplen;
		size_t rn = term.n - op - oplen;

		if (fs_unescape(r, rn, NULL, 0) < 0)
			return -1;
		if (ne || op != flen || memcmp(term.p, field, flen))
			continue;
		if (best.p) {
			size_t m = best.n < term.n ? best.n : term.n;
			int c = memcmp(term.p, best.p, m);

			if (c > 0 || (c == 0 && term.n >= best.n))
				continue;
		}
		best = term;
		rhs->p = r;
		rhs->n = rn;
	}
	return best.p ? 1 : 0;
}

/*
 * The name an exact metadata.name field selector asks for, if
 * path.IsValidPathSegmentName accepts it (apimachinery/pkg/api/validation/path:
 * not "." or "..", no '/' or '%'); empty when there is none.
 */
static void name_from_selector(const struct list_query *lq, char *name, size_t cap)
{
	char buf[QVAL_MAX];
	struct seg rhs;
	long n;

	if (!lq->has_fs || lq->fs_too_long)
		return;
	if (fs_exact_name(lq->fs, lq->fs_len, &rhs) != 1)
		return;
	n = fs_unescape(rhs.p, rhs.n, buf, sizeof(buf));
	if (n < 0 || n >= (long)sizeof(buf))
		return;
	if ((n == 1 && buf[0] == '.') || (n == 2 && buf[0] == '.' && buf[1] == '.'))
		return;
	if (memchr(buf, '/', n) || memchr(buf, '%', n))
		return;
	copy_field(name, cap, buf, (size_t)n);
}

/* strings.ToLower for an HTTP method (a token: ASCII in practice). */
static void lower_method(char *dst, size_t cap, const char *m)
{
	size_t i;

	for (i = 0; m[i] && i < cap - 1; i++)
		dst[i] = (m[i] >= 'A' && m[i] <= 'Z') ? m[i] + ('a' - 'A') : m[i];
	dst[i] = 0;
}

static bool in_set(struct seg s, const char *const *set)
{
	for (; *set; set++)
		if (seg_is(s, *set))
			return true;
	return false;
}

static bool str_in_set(const char *s, const char *const *set)
{
	for (; *set; set++)
		if (!strcmp(s, *set))
			return true;
	return false;
}

/* requestinfo.go: specialVerbs, specialVerbsNoSubresources, namespaceSubresources. */
static const char *const special_verbs[] = { "proxy", "watch", NULL };
static const char *const namespace_subresources[] = { "status", "finalize", NULL };

/*
 * kube-apiserver's LongRunningFunc, set in pkg/controlplane/apiserver/config.go
 * (BuildGenericConfig; cmd/kube-apiserver/app/server.go in older releases):
 * BasicLongRunningRequestCheck(verbs {watch, proxy}, subresources {attach,
 * exec, proxy, log, portforward}), which also counts non-resource paths
 * under /debug/pprof/ (apiserver/pkg/server/filters/longrunning.go).
 */
static const char *const long_running_verbs[] = { "watch", "proxy", NULL };
static const char *const long_running_subresources[] = {
	"attach", "exec", "proxy", "log", "portforward", NULL
};

static void finish(struct k8s_reqinfo *out, const char *path)
{
	/*
	 * The scope kube-apiserver's own metrics give a request (CleanScope,
	 * k8s.io/apiserver/pkg/endpoints/metrics/metrics.go): a create is
	 * "resource" scope like a call on one named object, so cpprof's call
	 * kinds line up with apiserver_request_total and clusterloader2's.
	 */
	if (!out->is_resource)
		out->scope = SCOPE_NONE;
	else if (out->name[0] || !strcmp(out->verb, "create"))
		out->scope = SCOPE_RESOURCE;
	else if (out->namespace[0])
		out->scope = SCOPE_NAMESPACE;
	else
		out->scope = SCOPE_CLUSTER;

	out->long_running = str_in_set(out->verb, long_running_verbs) ||
		(out->is_resource && str_in_set(out->subresource, long_running_subresources)) ||
		(!out->is_resource && !strncmp(path, "/debug/pprof/", 13));
}

void k8s_reqinfo__parse(const char *method, const char *path, const char *query,
			struct k8s_reqinfo *out)
{
	struct seg segs[MAX_SEGS], *parts;
	int n;

	if (!out)
		return;
	if (!method)
		method = "";
	if (!path)
		path = "";
	memset(out, 0, sizeof(*out));

	/* Start as a non-resource request until proven otherwise. */
	lower_method(out->verb, sizeof(out->verb), method);

	n = split_path(path, segs);
	parts = segs;
	if (n < 3 || !(seg_is(parts[0], "api") || seg_is(parts[0], "apis")))
		goto done;
	SET(out->api_prefix, parts[0]);
	parts++, n--;

	if (!seg_is(segs[0], "api")) {
		/* One part (the prefix) is gone already: "do we have four parts?" */
		if (n < 3)
			goto done;
		SET(out->api_group, parts[0]);
		parts++, n--;
	}

	out->is_resource = true;
	SET(out->api_version, parts[0]);
	parts++, n--;

	if (in_set(parts[0], special_verbs)) {
		/*
		 * "/api/v1/watch" alone: kube-apiserver returns the info so far
		 * with an error (and answers 500); keep what it has.
		 */
		if (n < 2)
			goto done;
		SET(out->verb, parts[0]);
		parts++, n--;
	} else if (!strcmp(method, "POST")) {
		strcpy(out->verb, "create");
	} else if (!strcmp(method, "GET") || !strcmp(method, "HEAD")) {
		strcpy(out->verb, "get");
	} else if (!strcmp(method, "PUT")) {
		strcpy(out->verb, "update");
	} else if (!strcmp(method, "PATCH")) {
		strcpy(out->verb, "patch");
	} else if (!strcmp(method, "DELETE")) {
		strcpy(out->verb, "delete");
	} else {
		/* requestinfo.go: any other method on a resource path has verb "". */
		out->verb[0] = 0;
	}

	/*
	 * /namespaces/{namespace}/{resource}/...: parts become relative to the
	 * resource, unless the step after the name is a subresource of the
	 * namespace itself (status, finalize): then the namespace object is
	 * the resource and its name is also the namespace.
	 */
	if (seg_is(parts[0], "namespaces") && n > 1) {
		SET(out->namespace, parts[1]);
		if (n > 2 && !in_set(parts[2], namespace_subresources))
			parts += 2, n -= 2;
	}

	/* Parts: resource/name/subresource/other/stuff/not/interpreted */
	if (n >= 3 && strcmp(out->verb, "proxy"))
		SET(out->subresource, parts[2]);
	if (n >= 2)
		SET(out->name, parts[1]);
	if (n >= 1)
		SET(out->resource, parts[0]);

	/*
	 * No name and a GET: list, or watch when ListOptions.Watch is set.
	 * (A verb from the /watch/ or /proxy/ prefix never gets here, so the
	 * legacy watch of one object keeps its name from the path and ignores
	 * fieldSelector, as requestinfo_test.go's "deprecated root item watch"
	 * case expects.)
	 * DecodeParameters failing resets the options but still honours
	 * watch; either way watch[0] decides, so only the name from an exact
	 * metadata.name field selector depends on the decode succeeding.
	 */
	if (!out->name[0] && !strcmp(out->verb, "get")) {
		struct list_query lq;

		parse_list_query(query, &lq);
		strcpy(out->verb, lq.has_watch && lq.watch ? "watch" : "list");
		if (!lq.decode_err)
			name_from_selector(&lq, out->name, sizeof(out->name));
	}

	if (!out->name[0] && !strcmp(out->verb, "delete"))
		strcpy(out->verb, "deletecollection");
done:
	finish(out, path);
}

const char *k8s_scope_name(enum k8s_scope s)
{
	switch (s) {
	case SCOPE_CLUSTER:
		return "cluster";
	case SCOPE_NAMESPACE:
		return "namespace";
	case SCOPE_RESOURCE:
		return "resource";
	default:
		return "";
	}
}
