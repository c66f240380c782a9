// SPDX-License-Identifier: MIT
/*
 * scrape: read Prometheus endpoints during a recording. See scrape.h.
 *
 * One thread per endpoint, because a stalled endpoint must delay neither
 * the recorder nor the other endpoints, and libcurl's easy interface with
 * CURLOPT_TIMEOUT_MS bounds a stalled read without a poll loop of our own.
 * The threads only read and parse; the recorder's thread, which owns the
 * SQLite connection, writes what they leave in a queue (scraper__drain).
 */
#include <curl/curl.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "promtext.h"
#include "scrape.h"

#define DEF_INTERVAL_MS   15000L
#define DEF_CONNECT_MS    3000L
#define DEF_TIMEOUT_MS    10000L
#define DEF_MAX_BODY      ((size_t)64 << 20)

/*
 * The families the cross-checks read (user/k8s/metrics_check.c) and a few
 * that explain them: request counts and latency histograms of
 * kube-apiserver (staging/src/k8s.io/apiserver/pkg/endpoints/metrics/
 * metrics.go; apiserver_request_slo_duration_seconds is the 1.23-1.26
 * name of the SLI histogram), its object counts (apiserver_storage_objects,
 * etcd_object_counts before 1.21) and its etcd client latency; etcd's
 * disk histograms (server/storage/wal, server/storage/backend) and
 * go-grpc-prometheus' server counters; every Go process's CPU and
 * goroutines. A histogram family is stored with its _bucket, _sum and
 * _count samples.
 */
static const char *const wanted_families[] = {
	"apiserver_request_total",
	"apiserver_request_duration_seconds",
	"apiserver_request_sli_duration_seconds",
	"apiserver_request_slo_duration_seconds",
	"apiserver_current_inflight_requests",
	"apiserver_storage_objects",
	"etcd_object_counts",
	"process_cpu_seconds_total",
	"go_goroutines",
	"etcd_request_duration_seconds",
	"etcd_disk_wal_fsync_duration_seconds",
	"etcd_disk_backend_commit_duration_seconds",
	"grpc_server_started_total",
	"grpc_server_handled_total",
	"grpc_server_handling_seconds",
	NULL
};

bool scrape__wanted(const char *name)
{
	static const char *const suffixes[] = { "", "_bucket", "_sum", "_count", NULL };

	for (int i = 0; wanted_families[i]; i++) {
		size_t n = strlen(wanted_families[i]);

		if (strncmp(name, wanted_families[i], n))
			continue;
		for (int j = 0; suffixes[j]; j++)
			if (!strcmp(name + n, suffixes[j]))
				return true;
	}
	return false;
}

const char *scrape_error_name(enum scrape_error e)
{
	static const char *const names[SCRAPE_ERR__MAX] = {
		[SCRAPE_OK] = NULL, [SCRAPE_ERR_CONNECT] = "connect", [SCRAPE_ERR_TIMEOUT] = "timeout",
		[SCRAPE_ERR_TLS] = "tls", [SCRAPE_ERR_HTTP] = "http", [SCRAPE_ERR_TOO_BIG] = "too_big",
		[SCRAPE_ERR_PARSE] = "parse", [SCRAPE_ERR_OTHER] = "other",
	};

	return e >= 0 && e < SCRAPE_ERR__MAX ? names[e] : "other";
}

static int64_t now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* ---- one GET ------------------------------------------------------------- */

struct buf {
	char *p;
	size_t n, cap, max;
	bool too_big;
};

static size_t on_data(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct buf *b = ctx;
	size_t n = size * nmemb;

	if (n > b->max - b->n) {
		b->too_big = true;
		return 0;  /* CURLE_WRITE_ERROR: the transfer stops here */
	}
	if (b->n + n + 1 > b->cap) {
		size_t cap = (b->n + n + 1) * 2;
		char *p;

		if (cap > b->max + 1)
			cap = b->max + 1;
		p = realloc(b->p, cap);
		if (!p)
			return 0;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->n, data, n);
	b->n += n;
	b->p[b->n] = 0;
	return n;
}

static int read_token(const char *path, char *tok, size_t len)
{
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f) {
		cp_seterr("cannot read token file '%s': %s", path, strerror(errno));
		return -errno;
	}
	n = fread(tok, 1, len - 1, f);
	fclose(f);
	tok[n] = 0;
	while (n && (tok[n - 1] == '\n' || tok[n - 1] == '\r' || tok[n - 1] == ' '))
		tok[--n] = 0;
	if (!n || strpbrk(tok, "\r\n")) {
		cp_seterr("token file '%s' does not hold one token", path);
		return -EINVAL;
	}
	return 0;
}

static enum scrape_error classify(CURLcode rc, bool too_big)
{
	if (too_big || rc == CURLE_FILESIZE_EXCEEDED)
		return SCRAPE_ERR_TOO_BIG;
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_GOT_NOTHING:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
		return SCRAPE_ERR_CONNECT;
	case CURLE_OPERATION_TIMEDOUT:
		return SCRAPE_ERR_TIMEOUT;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_CLIENTCERT:
		return SCRAPE_ERR_TLS;
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_UNSUPPORTED_PROTOCOL:  /* "Received HTTP/0.9 when not allowed": not HTTP */
	case CURLE_BAD_CONTENT_ENCODING:
		return SCRAPE_ERR_PARSE;
	default:
		return SCRAPE_ERR_OTHER;
	}
}

/* The endpoint as stored: no user:password@ and no query (a token may hide there). */
static void strip_url(const char *url, char *out, size_t len)
{
	const char *host = strstr(url, "://"), *at, *slash;

	host = host ? host + 3 : url;
	slash = host + strcspn(host, "/?#");
	at = memchr(host, '@', slash - host);
	snprintf(out, len, "%.*s%.*s", (int)(host - url), url,
		 (int)strcspn(at ? at + 1 : host, "?#"), at ? at + 1 : host);
}

int scrape__get(const struct scrape_endpoint *ep, const struct scrape_opts *o,
		struct scrape_body *body)
{
	char auth[4200], tok[4096], errbuf[CURL_ERROR_SIZE] = "", url[1024];
	struct curl_slist *hdrs = NULL;
	struct buf b = { .max = o && o->max_body ? o->max_body : DEF_MAX_BODY };
	long code = 0;
	CURL *c;
	CURLcode rc;
	int err = 0;

	memset(body, 0, sizeof(*body));
	body->error = SCRAPE_ERR_OTHER;
	if (!ep->url || (strncmp(ep->url, "http://", 7) && strncmp(ep->url, "https://", 8))) {
		cp_seterr("'%s' is not an http:// or https:// URL", ep->url ? ep->url : "");
		return -EINVAL;
	}
	/* messages name the endpoint without its user info or query */
	strip_url(ep->url, url, sizeof(url));
	if (ep->token_file) {
		err = read_token(ep->token_file, tok, sizeof(tok));
		if (err)
			return err;
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", tok);
		hdrs = curl_slist_append(hdrs, auth);
		memset(tok, 0, sizeof(tok));
		memset(auth, 0, sizeof(auth));
	}
	c = curl_easy_init();
	if (!c) {
		curl_slist_free_all(hdrs);
		cp_seterr("cannot start libcurl");
		return -ENOMEM;
	}
	curl_easy_setopt(c, CURLOPT_URL, ep->url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
			 o && o->connect_timeout_ms ? o->connect_timeout_ms : DEF_CONNECT_MS);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, o && o->timeout_ms ? o->timeout_ms : DEF_TIMEOUT_MS);
	/* A declared Content-Length over the bound fails before the body is read. */
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)b.max);
	/* Threads: no SIGALRM-based DNS timeouts. */
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	/* Go's servers gzip /metrics when asked; the text is 5-10x smaller on the wire. */
	curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	if (ep->ca_file)
		curl_easy_setopt(c, CURLOPT_CAINFO, ep->ca_file);
	if (ep->cert_file)
		curl_easy_setopt(c, CURLOPT_SSLCERT, ep->cert_file);
	if (ep->key_file)
		curl_easy_setopt(c, CURLOPT_SSLKEY, ep->key_file);
	if (ep->insecure) {
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	body->http_code = code;
	body->len = b.n;  /* read so far, also when the read failed */
	if (rc != CURLE_OK) {
		body->error = classify(rc, b.too_big);
		if (body->error == SCRAPE_ERR_TOO_BIG)
			cp_seterr("cannot read '%s': answer larger than %zu MiB", url, b.max >> 20);
		else
			cp_seterr("cannot read '%s': %s%s", url,
				  errbuf[0] ? errbuf : curl_easy_strerror(rc),
				  body->error == SCRAPE_ERR_TLS ?
				  "; give its CA (and client certificate) with the endpoint's options" : "");
		err = body->error == SCRAPE_ERR_TIMEOUT ? -ETIMEDOUT :
		      body->error == SCRAPE_ERR_TOO_BIG ? -EFBIG :
		      body->error == SCRAPE_ERR_PARSE ? -EPROTO : -EHOSTUNREACH;
	} else if (code != 200) {
		body->error = SCRAPE_ERR_HTTP;
		cp_seterr("'%s' answered HTTP %ld%s", url, code,
			  code == 401 || code == 403 ?
			  "; give a token allowed to read /metrics with --apiserver-token-file" : "");
		err = code == 401 || code == 403 ? -EACCES : -EIO;
	} else {
		body->error = SCRAPE_OK;
		body->data = b.p ? b.p : strdup("");
		body->len = b.n;
		b.p = NULL;
		if (!body->data) {
			body->error = SCRAPE_ERR_OTHER;
			cp_seterr("out of memory");
			err = -ENOMEM;
		}
	}
	curl_easy_cleanup(c);
	curl_slist_free_all(hdrs);
	free(b.p);
	return err;
}

/* ---- canonical label sets ------------------------------------------------ */

static int cmp_label(const void *a, const void *b)
{
	const struct prom_label *x = *(const struct prom_label *const *)a;
	const struct prom_label *y = *(const struct prom_label *const *)b;

	return strcmp(x->name, y->name);
}

int scrape__labels(const struct prom_sample *s, char *buf, size_t len, double *le)
{
	const struct prom_label *ls[PROMTEXT_MAX_LABELS];
	size_t off = 0;
	int n = 0;

	*le = NAN;
	for (int i = 0; i < s->nlabels && i < PROMTEXT_MAX_LABELS; i++) {
		if (!strcmp(s->labels[i].name, "le")) {
			char *end;
			const char *v = s->labels[i].value;

			if (!strcmp(v, "+Inf")) {
				*le = INFINITY;
				continue;
			}
			*le = strtod(v, &end);
			if (end == v || *end)
				*le = NAN;  /* not a bound: such a sample is no bucket */
			continue;
		}
		ls[n++] = &s->labels[i];
	}
	qsort(ls, n, sizeof(ls[0]), cmp_label);
	if (len)
		buf[0] = 0;
	if (!n)
		return 0;
#define PUT(ch) do { if (off + 1 >= len) return -ENOSPC; buf[off++] = (ch); } while (0)
	PUT('{');
	for (int i = 0; i < n; i++) {
		if (i)
			PUT(',');
		for (const char *p = ls[i]->name; *p; p++)
			PUT(*p);
		PUT('=');
		PUT('"');
		for (const char *p = ls[i]->value; *p; p++) {
			if (*p == '\\' || *p == '"') {
				PUT('\\');
				PUT(*p);
			} else if (*p == '\n') {
				PUT('\\');
				PUT('n');
			} else {
				PUT(*p);
			}
		}
		PUT('"');
	}
	PUT('}');
#undef PUT
	buf[off] = 0;
	return (int)off;
}

/* ---- one scrape's result ------------------------------------------------- */

struct kept {
	uint32_t name, labels;  /* offsets into strs */
	double le, value;
};

struct result {
	struct result *next;
	int ep;
	int64_t scrape_id;       /* its metric_scrapes row, once written */
	int64_t t_ns, duration_ns;
	uint64_t bytes;
	enum scrape_error error;
	char message[256];
	struct kept *samples;
	size_t n, cap;
	char *strs;
	size_t slen, scap;
};

static void result__free(struct result *r)
{
	if (!r)
		return;
	free(r->samples);
	free(r->strs);
	free(r);
}

static int put_str(struct result *r, const char *s, uint32_t *off)
{
	size_t n = strlen(s) + 1;

	if (r->slen + n > r->scap) {
		size_t cap = (r->slen + n) * 2 + 4096;
		char *p;

		if (cap > UINT32_MAX)
			return -E2BIG;
		p = realloc(r->strs, cap);
		if (!p)
			return -ENOMEM;
		r->strs = p;
		r->scap = cap;
	}
	memcpy(r->strs + r->slen, s, n);
	*off = (uint32_t)r->slen;
	r->slen += n;
	return 0;
}

static int on_sample(void *ctx, const struct prom_sample *s)
{
	struct result *r = ctx;
	char labels[4096];
	struct kept *k;
	int err;

	if (!scrape__wanted(s->name))
		return 0;
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 1024;
		struct kept *p = realloc(r->samples, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		r->samples = p;
		r->cap = cap;
	}
	k = &r->samples[r->n];
	if (scrape__labels(s, labels, sizeof(labels), &k->le) < 0) {
		cp_seterr("a '%s' sample has labels longer than %zu bytes", s->name, sizeof(labels));
		return -EINVAL;
	}
	k->value = s->value;
	if ((err = put_str(r, s->name, &k->name)) || (err = put_str(r, labels, &k->labels)))
		return err;
	r->n++;
	return 0;
}

/* Read and parse endpoint EP into a new result (never NULL unless out of memory). */
static struct result *scrape_once(const struct scrape_endpoint *ep, const struct scrape_opts *o,
				  int idx, const char *sc_url)
{
	struct result *r = calloc(1, sizeof(*r));
	struct scrape_body body;
	int64_t t0;
	int err;

	if (!r)
		return NULL;
	r->ep = idx;
	r->t_ns = now_ns(CLOCK_REALTIME);
	t0 = now_ns(CLOCK_MONOTONIC);
	err = scrape__get(ep, o, &body);
	r->bytes = body.len;
	if (!err) {
		err = promtext__parse(body.data, body.len, on_sample, r);
		if (err) {
			char why[200];

			snprintf(why, sizeof(why), "%s", cp_lasterr());
			cp_seterr("'%s' is not Prometheus text: %s", sc_url, why);
			body.error = err == -ENOMEM ? SCRAPE_ERR_OTHER : SCRAPE_ERR_PARSE;
			r->n = 0;  /* a page half read is no page */
		}
	}
	r->duration_ns = now_ns(CLOCK_MONOTONIC) - t0;
	r->error = err ? body.error : SCRAPE_OK;
	if (err)
		snprintf(r->message, sizeof(r->message), "%s", cp_lasterr());
	free(body.data);
	return r;
}

/* ---- series ids, known to the recorder's thread ------------------------- */

struct series {
	char *key;       /* name '\0' labels '\0' le as text */
	size_t klen;
	int64_t id;
};

struct series_map {
	struct series *slots;
	size_t cap, n;
};

static uint64_t fnv(const char *p, size_t n)
{
	uint64_t h = 1469598103934665603ULL;

	while (n--) {
		h ^= (unsigned char)*p++;
		h *= 1099511628211ULL;
	}
	return h;
}

static struct series *series_find(struct series_map *m, const char *key, size_t klen)
{
	size_t i;

	if (!m->cap)
		return NULL;
	for (i = fnv(key, klen) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		struct series *s = &m->slots[i];

		if (!s->key)
			return s;
		if (s->klen == klen && !memcmp(s->key, key, klen))
			return s;
	}
}

static int series_grow(struct series_map *m)
{
	struct series_map bigger = { .cap = m->cap ? m->cap * 2 : 4096 };

	bigger.slots = calloc(bigger.cap, sizeof(*bigger.slots));
	if (!bigger.slots)
		return -ENOMEM;
	for (size_t i = 0; i < m->cap; i++)
		if (m->slots[i].key)
			*series_find(&bigger, m->slots[i].key, m->slots[i].klen) = m->slots[i];
	bigger.n = m->n;
	free(m->slots);
	*m = bigger;
	return 0;
}

static void series_free(struct series_map *m)
{
	for (size_t i = 0; i < m->cap; i++)
		free(m->slots[i].key);
	free(m->slots);
	memset(m, 0, sizeof(*m));
}

/* ---- the scraper --------------------------------------------------------- */

struct ep_state {
	struct scraper *sc;
	int idx;
	pthread_t th;
	bool running;
	struct scrape_endpoint ep;
	char stored_url[1024];      /* ep.url without user info or query */
	struct scrape_stats stats;  /* under sc->mu */
};

struct scraper {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stopping;
	struct scrape_opts o;
	struct result *head, *tail;  /* finished scrapes, oldest first, under mu */
	struct result *todo, *todo_tail; /* taken by drain, being written; its thread only */
	size_t todo_i;               /* samples of todo written */
	struct series_map series;
	int n;
	int live;                    /* threads not yet returned, under mu */
	struct ep_state eps[SCRAPE_MAX_ENDPOINTS];
};

static void push(struct scraper *sc, struct result *r)
{
	struct scrape_stats *st = &sc->eps[r->ep].stats;

	pthread_mutex_lock(&sc->mu);
	st->scrapes++;
	if (r->error == SCRAPE_OK) {
		st->ok++;
		st->samples += r->n;
	} else {
		st->errors[r->error]++;
		snprintf(st->last_error, sizeof(st->last_error), "%s", r->message);
	}
	if (r->bytes > st->max_bytes)
		st->max_bytes = r->bytes;
	if (sc->tail)
		sc->tail->next = r;
	else
		sc->head = r;
	sc->tail = r;
	pthread_mutex_unlock(&sc->mu);
}

static void *ep_thread(void *arg)
{
	struct ep_state *e = arg;
	struct scraper *sc = e->sc;

	for (;;) {
		struct result *r;
		struct timespec until;
		bool last;
		int64_t t;

		pthread_mutex_lock(&sc->mu);
		last = sc->stopping;
		pthread_mutex_unlock(&sc->mu);
		r = scrape_once(&e->ep, &sc->o, e->idx, e->stored_url);
		if (r)
			push(sc, r);
		if (last)
			break;
		t = now_ns(CLOCK_MONOTONIC) + sc->o.interval_ms * 1000000LL;
		until.tv_sec = t / 1000000000LL;
		until.tv_nsec = t % 1000000000LL;
		pthread_mutex_lock(&sc->mu);
		while (!sc->stopping && pthread_cond_timedwait(&sc->cv, &sc->mu, &until) != ETIMEDOUT)
			;
		pthread_mutex_unlock(&sc->mu);
	}
	pthread_mutex_lock(&sc->mu);
	sc->live--;
	pthread_mutex_unlock(&sc->mu);
	return NULL;
}

struct scraper *scraper__start(const struct scrape_endpoint *eps, int n,
			       const struct scrape_opts *o, int *errp)
{
	struct scraper *sc;
	pthread_condattr_t ca;
	int err = 0;

	if (n < 1 || n > SCRAPE_MAX_ENDPOINTS) {
		cp_seterr("%d metrics endpoints: expected 1 to %d", n, SCRAPE_MAX_ENDPOINTS);
		err = -EINVAL;
		goto out;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
		cp_seterr("cannot start libcurl");
		err = -ENOMEM;
		goto out;
	}
	sc = calloc(1, sizeof(*sc));
	if (!sc) {
		cp_seterr("out of memory");
		err = -ENOMEM;
		goto out;
	}
	if (o)
		sc->o = *o;
	if (!sc->o.interval_ms)
		sc->o.interval_ms = DEF_INTERVAL_MS;
	pthread_mutex_init(&sc->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&sc->cv, &ca);
	pthread_condattr_destroy(&ca);
	sc->n = n;
	for (int i = 0; i < n; i++) {
		struct ep_state *e = &sc->eps[i];

		e->sc = sc;
		e->idx = i;
		e->ep = eps[i];
		if (!e->ep.component)
			e->ep.component = "other";
		strip_url(e->ep.url ? e->ep.url : "", e->stored_url, sizeof(e->stored_url));
	}
	for (int i = 0; i < n; i++) {
		pthread_mutex_lock(&sc->mu);
		sc->live++;
		pthread_mutex_unlock(&sc->mu);
		err = -pthread_create(&sc->eps[i].th, NULL, ep_thread, &sc->eps[i]);
		if (err) {
			pthread_mutex_lock(&sc->mu);
			sc->live--;
			pthread_mutex_unlock(&sc->mu);
		}
		if (err) {
			cp_seterr("cannot start a scrape thread: %s", strerror(-err));
			scraper__stop(sc, NULL, 0);
			scraper__free(sc);
			goto out;
		}
		sc->eps[i].running = true;
	}
	if (errp)
		*errp = 0;
	return sc;
out:
	if (errp)
		*errp = err;
	return NULL;
}

/*
 * Samples one scraper__drain writes at most. Measured in test_scrape on
 * this project's 2-core KVM guest, shared with other work: 8192 samples
 * of new series (a row in metric_series and one in metric_samples each)
 * took 130-210 ms, 20,000 of known series 240-300 ms: 12-25 us a sample.
 * 4096 holds the record loop for 50-100 ms a second at most, however
 * large the apiserver's page (30,000 kept samples is a big cluster's: two
 * latency histograms of ~37 buckets per call kind), and still writes twice
 * what such a page every 15 s needs; the rest waits for the next call.
 */
#define DRAIN_BUDGET 4096

/* Write R from sample *I on, within *BUDGET; R's scrape row first (*I == 0). */
static int write_result(struct scraper *sc, struct store *st, int64_t run_id, struct result *r,
			size_t *i, size_t *budget)
{
	struct ep_state *e = &sc->eps[r->ep];
	char key[8192];
	int err;

	if (*i == 0 && !r->scrape_id) {
		struct metric_scrape_rec rec = {
			.run_id = run_id, .endpoint = e->stored_url, .component = e->ep.component,
			.t_ns = r->t_ns, .duration_ns = r->duration_ns, .bytes = (int64_t)r->bytes,
			.samples = (int64_t)r->n, .error = scrape_error_name(r->error),
			.message = r->error ? r->message : NULL,
		};

		err = store__add_metric_scrape(st, &rec, &r->scrape_id);
		if (err)
			return err;
	}
	for (; *i < r->n && *budget; ++*i, --*budget) {
		const struct kept *k = &r->samples[*i];
		const char *name = r->strs + k->name, *labels = r->strs + k->labels;
		int klen = snprintf(key, sizeof(key), "%s%c%s%c%.17g", name, 0, labels, 0, k->le);
		struct series *s;

		if (klen < 0 || (size_t)klen >= sizeof(key))
			continue;  /* cannot happen: labels are bounded at 4096 */
		if (sc->series.n * 10 >= sc->series.cap * 7 && (err = series_grow(&sc->series)))
			return err;
		s = series_find(&sc->series, key, klen);
		if (!s->key) {
			int64_t id;

			err = store__add_metric_series(st, run_id, name, labels, k->le, &id);
			if (err)
				return err;
			s->key = malloc(klen);
			if (!s->key)
				return -ENOMEM;
			memcpy(s->key, key, klen);
			s->klen = klen;
			s->id = id;
			sc->series.n++;
		}
		err = store__add_metric_sample(st, r->scrape_id, s->id, k->value);
		if (err)
			return err;
	}
	return 0;
}

/* Write what the threads finished, within BUDGET samples; scrapes completed, or -errno. */
static int drain(struct scraper *sc, struct store *st, int64_t run_id, size_t budget)
{
	struct result *r;
	int n = 0, err = 0;

	pthread_mutex_lock(&sc->mu);
	if (sc->head) {
		if (sc->todo_tail)
			sc->todo_tail->next = sc->head;
		else
			sc->todo = sc->head;
		sc->todo_tail = sc->tail;
		sc->head = sc->tail = NULL;
	}
	pthread_mutex_unlock(&sc->mu);
	while ((r = sc->todo) && (budget || !r->n || sc->todo_i == r->n)) {
		if (st && (err = write_result(sc, st, run_id, r, &sc->todo_i, &budget)))
			break;
		if (st && sc->todo_i < r->n)
			break;  /* out of budget: the rest at the next call */
		sc->todo = r->next;
		if (!sc->todo)
			sc->todo_tail = NULL;
		sc->todo_i = 0;
		result__free(r);
		n++;
	}
	return err ? err : n;
}

int scraper__drain(struct scraper *sc, struct store *st, int64_t run_id)
{
	return sc ? drain(sc, st, run_id, DRAIN_BUDGET) : 0;
}

void scraper__finish(struct scraper *sc)
{
	if (!sc)
		return;
	pthread_mutex_lock(&sc->mu);
	sc->stopping = true;
	pthread_cond_broadcast(&sc->cv);
	pthread_mutex_unlock(&sc->mu);
}

int scraper__running(struct scraper *sc)
{
	int n;

	if (!sc)
		return 0;
	pthread_mutex_lock(&sc->mu);
	n = sc->live;
	pthread_mutex_unlock(&sc->mu);
	return n;
}

int scraper__stop(struct scraper *sc, struct store *st, int64_t run_id)
{
	if (!sc)
		return 0;
	scraper__finish(sc);
	for (int i = 0; i < sc->n; i++) {
		if (sc->eps[i].running)
			pthread_join(sc->eps[i].th, NULL);
		sc->eps[i].running = false;
	}
	return drain(sc, st, run_id, SIZE_MAX);
}

int scraper__stats(struct scraper *sc, int i, struct scrape_stats *out)
{
	if (!sc || i < 0 || i >= sc->n)
		return -EINVAL;
	pthread_mutex_lock(&sc->mu);
	*out = sc->eps[i].stats;
	pthread_mutex_unlock(&sc->mu);
	return 0;
}

void scraper__free(struct scraper *sc)
{
	if (!sc)
		return;
	scraper__stop(sc, NULL, 0);
	while (sc->todo) {
		struct result *r = sc->todo;

		sc->todo = r->next;
		result__free(r);
	}
	series_free(&sc->series);
	pthread_cond_destroy(&sc->cv);
	pthread_mutex_destroy(&sc->mu);
	free(sc);
}
