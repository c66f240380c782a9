// SPDX-License-Identifier: MIT
/*
 * Unit tests of scrape.c: the canonical label set, the families kept, and
 * the scraper against loopback servers of this test that play a good
 * etcd (a real etcd 3.5.30 exposition, tests/unit/data), a refused port,
 * a server that stalls 5 s, binary garbage with and without an HTTP
 * header, HTTP 500, and a 100 MB body. Each bad endpoint must be counted
 * under its kind of error, the good one must go on being scraped, no
 * scrape may exceed its bounds (time, body), the recorder's drain must
 * never wait for the network, and the store must hold what was kept.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static char dir[] = "/tmp/cpprof-test-scrape.XXXXXX";

#include "check.h"
#include "fixtures.h"
#include "log.h"
#include "promtext.h"
#include "scrape.h"
#include "store.h"
#include "tmpdb.h"

#define FIXTURE "tests/unit/data/etcd-3.5.30-metrics.txt"

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* ---- labels and families ----------------------------------------------- */

/* The canonical labels of the first sample (its strings live only in the callback). */
struct lab {
	char buf[256];
	size_t len;
	double le;
	int ret;
};

static int one(void *ctx, const struct prom_sample *s)
{
	struct lab *l = ctx;

	l->ret = scrape__labels(s, l->buf, l->len ? l->len : sizeof(l->buf), &l->le);
	return 1;
}

static void test_labels(void)
{
	static const char line[] =
		"apiserver_request_duration_seconds_bucket{verb=\"LIST\",le=\"0.05\","
		"resource=\"pods\",component=\"apiserver\",x=\"a\\\"b\\\\c\\nd\"} 7\n";
	struct lab l = {};

	CHECK_INT(promtext__parse(line, sizeof(line) - 1, one, &l), 1);
	CHECK(l.ret > 0, "labels");
	CHECK_STR(l.buf, "{component=\"apiserver\",resource=\"pods\",verb=\"LIST\",x=\"a\\\"b\\\\c\\nd\"}");
	CHECK(l.le == 0.05, "le %g", l.le);
	l = (struct lab){ .len = 20 };
	CHECK_INT(promtext__parse(line, sizeof(line) - 1, one, &l), 1);
	CHECK_INT(l.ret, -ENOSPC);

	l = (struct lab){};
	CHECK_INT(promtext__parse("go_goroutines 12\n", 17, one, &l), 1);
	CHECK_INT(l.ret, 0);
	CHECK_STR(l.buf, "");
	CHECK(isnan(l.le), "no le: NaN");
	CHECK_INT(promtext__parse("h_bucket{le=\"+Inf\"} 3\n", 22, one, &l), 1);
	CHECK_INT(l.ret, 0);
	CHECK(isinf(l.le) && l.le > 0, "+Inf bucket");
	CHECK_INT(promtext__parse("h_bucket{le=\"x\"} 3\n", 19, one, &l), 1);
	CHECK(isnan(l.le), "a bad bound is no bucket");

	CHECK(scrape__wanted("apiserver_request_total"), "counter");
	CHECK(scrape__wanted("etcd_disk_wal_fsync_duration_seconds_bucket"), "bucket");
	CHECK(scrape__wanted("grpc_server_handling_seconds_sum"), "sum");
	CHECK(scrape__wanted("process_cpu_seconds_total"), "cpu");
	CHECK(!scrape__wanted("apiserver_request_total_bucket_x"), "suffix after suffix");
	CHECK(!scrape__wanted("apiserver_request"), "prefix only");
	CHECK(!scrape__wanted("etcd_mvcc_db_total_size_in_bytes"), "not kept");
	CHECK_STR(scrape_error_name(SCRAPE_ERR_TOO_BIG), "too_big");
	CHECK(scrape_error_name(SCRAPE_OK) == NULL, "ok has no error");
}

/* ---- loopback servers ---------------------------------------------------- */

enum mode { GOOD, STALL, GARBAGE, RAW, HTTP500, HUGE, NMODES };

struct server {
	enum mode mode;
	int fd, port;
	pthread_t th;
	const char *body;
	size_t blen;
	volatile int stop;
	int served;
};

static void send_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n) {
		ssize_t w = send(fd, c, n, MSG_NOSIGNAL);

		if (w <= 0)
			return;
		c += w;
		n -= (size_t)w;
	}
}

static void *serve(void *arg)
{
	struct server *sv = arg;
	char req[4096], hdr[256];

	while (!sv->stop) {
		int c = accept(sv->fd, NULL, NULL);

		if (c < 0)
			continue;
		if (sv->stop) {
			close(c);
			break;
		}
		/* the request: one read is enough for curl's small GET */
		if (recv(c, req, sizeof(req), 0) <= 0) {
			close(c);
			continue;
		}
		sv->served++;
		switch (sv->mode) {
		case GOOD:
			snprintf(hdr, sizeof(hdr), "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n"
				 "Content-Length: %zu\r\nConnection: close\r\n\r\n", sv->blen);
			send_all(c, hdr, strlen(hdr));
			send_all(c, sv->body, sv->blen);
			break;
		case STALL:
			for (int i = 0; i < 50 && !sv->stop; i++)
				usleep(100000);  /* 5 s, then nothing */
			break;
		case GARBAGE:
		case RAW: {
			unsigned char junk[4096];
			unsigned x = 12345;

			for (size_t i = 0; i < sizeof(junk); i++)
				junk[i] = (unsigned char)((x = x * 1103515245 + 12345) >> 16);
			junk[0] = 0x8b;  /* no letter: not a metric name */
			if (sv->mode == GARBAGE) {
				snprintf(hdr, sizeof(hdr), "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n"
					 "Connection: close\r\n\r\n", sizeof(junk));
				send_all(c, hdr, strlen(hdr));
			}
			send_all(c, junk, sizeof(junk));
			break;
		}
		case HTTP500: {
			static const char r500[] = "HTTP/1.1 500 Internal Server Error\r\n"
				"Content-Length: 4\r\nConnection: close\r\n\r\noops";

			send_all(c, r500, sizeof(r500) - 1);
			break;
		}
		case HUGE: {
			/* 100 MB of valid text, length unknown: only the bound stops it */
			static char chunk[1 << 16];
			size_t sent = 0;

			for (size_t i = 0; i + 11 <= sizeof(chunk); i += 11)
				memcpy(chunk + i, "go_gorout 1\n", 11);
			static const char h[] = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n";

			send_all(c, h, sizeof(h) - 1);
			while (sent < 100u << 20 && !sv->stop) {
				ssize_t w = send(c, chunk, sizeof(chunk) / 11 * 11, MSG_NOSIGNAL);

				if (w <= 0)
					break;
				sent += (size_t)w;
			}
			break;
		}
		default:
			break;
		}
		shutdown(c, SHUT_RDWR);
		close(c);
	}
	return NULL;
}

static int listen_any(int *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 16) ||
	    getsockname(fd, (struct sockaddr *)&a, &len)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*port = ntohs(a.sin_port);
	return fd;
}

/* A port nobody listens on: bound, then closed. */
static int refused_port(void)
{
	int port = 0, fd = listen_any(&port);

	if (fd >= 0)
		close(fd);
	return port;
}

static void server_stop(struct server *sv)
{
	int port = sv->port;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd;

	sv->stop = 1;
	/* wake accept() */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd >= 0) {
		connect(fd, (struct sockaddr *)&a, sizeof(a));
		close(fd);
	}
	pthread_join(sv->th, NULL);
	close(sv->fd);
}

static long long count_where(const char *db, const char *fmt, const char *arg)
{
	char sql[512];

	snprintf(sql, sizeof(sql), fmt, arg);
	return sql_int(db, sql);
}

static int count_wanted(void *ctx, const struct prom_sample *s)
{
	*(size_t *)ctx += scrape__wanted(s->name);
	return 0;
}

static void test_scraper(void)
{
	static const char *const names[] = { "good", "refused", "stall", "garbage", "raw", "500", "huge" };
	static const enum scrape_error want[] = {
		SCRAPE_OK, SCRAPE_ERR_CONNECT, SCRAPE_ERR_TIMEOUT, SCRAPE_ERR_PARSE, SCRAPE_ERR_PARSE,
		SCRAPE_ERR_HTTP, SCRAPE_ERR_TOO_BIG,
	};
	enum { NEP = 7 };
	static const enum mode modes[NEP] = { GOOD, NMODES, STALL, GARBAGE, RAW, HTTP500, HUGE };
	struct server sv[NEP] = {};
	struct scrape_endpoint eps[NEP] = {};
	char urls[NEP][128];
	struct scrape_opts o = { .interval_ms = 1000, .connect_timeout_ms = 1000, .timeout_ms = 3000 };
	struct scrape_stats ss;
	struct run_info ri = { .label = "scrape", .kind = "other", .started_ns = 1 };
	struct scraper *sc;
	struct store *st;
	unsigned char *text;
	size_t tlen = 0, kept = 0;
	int64_t run_id, t0, worst = 0, t_stop;
	const char *db = tmp("scrape.db");
	int err, n = 0;

	text = slurp(FIXTURE, &tlen);
	CHECK(text != NULL, "cannot read '%s': run from the source tree", FIXTURE);
	if (!text)
		return;
	/* what the scraper should keep of the fixture, by the parser alone */
	CHECK_INT(promtext__parse((char *)text, tlen, count_wanted, &kept), 0);
	CHECK(kept > 50, "the fixture has the families: %zu samples", kept);
	for (int i = 0; i < NEP; i++) {
		int port;

		if (modes[i] == NMODES) {
			port = refused_port();
		} else {
			sv[i].mode = modes[i];
			sv[i].body = (char *)text;
			sv[i].blen = tlen;
			sv[i].fd = listen_any(&sv[i].port);
			CHECK(sv[i].fd >= 0, "listen");
			pthread_create(&sv[i].th, NULL, serve, &sv[i]);
			port = sv[i].port;
		}
		snprintf(urls[i], sizeof(urls[i]), "http://user:secret@127.0.0.1:%d/metrics?token=x", port);
		eps[i].url = urls[i];
		eps[i].component = i == 0 ? "etcd" : "other";
	}

	st = store__open(db, &err);
	CHECK(st != NULL, "store: %s", cp_lasterr());
	if (!st)
		goto out;
	CHECK_INT(store__begin_run(st, &ri, &run_id), 0);

	t0 = mono_ms();
	sc = scraper__start(eps, NEP, &o, &err);
	CHECK(sc != NULL, "start: %s", cp_lasterr());
	if (!sc)
		goto out;
	/* the record loop: drain every 100 ms for 3.5 s; a drain must never wait for a server */
	while (mono_ms() - t0 < 3500) {
		int64_t a = mono_ms(), d;
		int k = scraper__drain(sc, st, run_id);

		CHECK(k >= 0, "drain: %s", cp_lasterr());
		n += k > 0 ? k : 0;
		d = mono_ms() - a;
		worst = d > worst ? d : worst;
		usleep(100000);
	}
	t_stop = mono_ms();
	err = scraper__stop(sc, st, run_id);
	t_stop = mono_ms() - t_stop;
	CHECK(err >= 0, "stop: %s", cp_lasterr());
	n += err > 0 ? err : 0;
	CHECK_INT(store__flush(st), 0);
	/* the slowest drain wrote a whole etcd page to SQLite; no network in it */
	CHECK(worst < 1000, "a drain took %lld ms", (long long)worst);
	/* a scrape in progress (<= timeout), then the last one (<= timeout) */
	CHECK(t_stop <= 2 * o.timeout_ms + 1000, "stop took %lld ms", (long long)t_stop);

	for (int i = 0; i < NEP; i++) {
		CHECK_INT(scraper__stats(sc, i, &ss), 0);
		if (want[i] == SCRAPE_OK) {
			/* at 0, 1, 2, 3 s and the last one */
			CHECK(ss.ok >= 4 && ss.ok == ss.scrapes, "%s: %llu of %llu ok", names[i],
			      (unsigned long long)ss.ok, (unsigned long long)ss.scrapes);
			CHECK_INT(ss.samples, ss.ok * kept);
			CHECK_INT(ss.max_bytes, tlen);
		} else {
			CHECK(ss.scrapes >= 2 && ss.errors[want[i]] == ss.scrapes && ss.ok == 0,
			      "%s: %llu scrapes, %llu '%s' errors, %llu ok (%s)", names[i],
			      (unsigned long long)ss.scrapes, (unsigned long long)ss.errors[want[i]],
			      scrape_error_name(want[i]), (unsigned long long)ss.ok, ss.last_error);
			CHECK(ss.last_error[0] && strstr(ss.last_error, "127.0.0.1"),
			      "%s: the error names the endpoint: %s", names[i], ss.last_error);
			CHECK(!strstr(ss.last_error, "secret"), "%s: no password in '%s'", names[i],
			      ss.last_error);
		}
		/* bounds: no body over 64 MiB, the huge one stopped at it */
		CHECK(ss.max_bytes <= (64u << 20), "%s: %llu bytes", names[i],
		      (unsigned long long)ss.max_bytes);
		if (want[i] == SCRAPE_ERR_TOO_BIG)
			CHECK(ss.max_bytes >= (60u << 20), "huge: read up to the bound, %llu",
			      (unsigned long long)ss.max_bytes);
		if (want[i] == SCRAPE_ERR_TIMEOUT)
			CHECK(strstr(ss.last_error, "imed out") != NULL, "stall: %s", ss.last_error);
	}
	scraper__free(sc);
	store__close(st);
	st = NULL;

	/* what the file holds */
	CHECK_INT(sql_int(db, "SELECT count(*) FROM metric_scrapes"), n);
	CHECK_INT(count_where(db, "SELECT count(*) FROM metric_scrapes WHERE endpoint LIKE '%%secret%%' "
			      "OR endpoint LIKE '%%token%%' OR endpoint NOT LIKE 'http://127.0.0.1:%%/metrics'%s", ""),
		  0);
	CHECK(sql_int(db, "SELECT count(*) FROM metric_scrapes WHERE error IS NULL AND component = 'etcd'") >= 4,
	      "good scrapes stored");
	for (int i = 1; i < NEP; i++)
		CHECK(count_where(db, "SELECT count(*) FROM metric_scrapes WHERE error = '%s' "
				  "AND message IS NOT NULL", scrape_error_name(want[i])) >= 2,
		      "%s stored as '%s'", names[i], scrape_error_name(want[i]));
	CHECK_INT(sql_int(db, "SELECT max(duration_ns) < 4500000000 FROM metric_scrapes"), 1);
	/* series stored once, samples once per scrape */
	CHECK_INT(sql_int(db, "SELECT count(*) FROM metric_series"), kept);
	CHECK_INT(sql_int(db, "SELECT count(*) FROM metric_samples"),
		  kept * sql_int(db, "SELECT count(*) FROM metric_scrapes WHERE error IS NULL"));
	CHECK_INT(sql_int(db, "SELECT count(*) FROM metric_samples WHERE scrape_id IN "
			  "(SELECT id FROM metric_scrapes WHERE error IS NOT NULL)"), 0);
	/* the fixture's real figures, read back */
	CHECK_INT(sql_int(db, "SELECT DISTINCT value FROM metric_samples JOIN metric_series s "
			  "ON s.id = series_id WHERE s.name = 'etcd_disk_wal_fsync_duration_seconds_count'"), 25);
	CHECK_INT(sql_int(db, "SELECT DISTINCT value FROM metric_samples JOIN metric_series s "
			  "ON s.id = series_id WHERE s.name = 'etcd_disk_wal_fsync_duration_seconds_bucket' "
			  "AND s.le = 0.004"), 17);
	CHECK_INT(sql_int(db, "SELECT count(*) FROM metric_series WHERE name = "
			  "'etcd_disk_wal_fsync_duration_seconds_bucket' AND le > 1e300"), 1);
	CHECK_INT(sql_int(db, "SELECT DISTINCT value FROM metric_samples JOIN metric_series s "
			  "ON s.id = series_id WHERE s.name = 'grpc_server_handled_total' AND s.labels = "
			  "'{grpc_code=\"OK\",grpc_method=\"Put\",grpc_service=\"etcdserverpb.KV\",grpc_type=\"unary\"}'"), 20);
out:
	store__close(st);
	for (int i = 0; i < NEP; i++)
		if (modes[i] != NMODES && sv[i].fd >= 0)
			server_stop(&sv[i]);
	free(text);
}

/* A page of 20,000 kept samples is written 4096 samples a drain, whole in the end. */
static void test_budget(void)
{
	struct run_info ri = { .label = "budget", .kind = "other", .started_ns = 1 };
	struct scrape_opts o = { .interval_ms = 600000, .timeout_ms = 5000 };
	struct server sv = { .mode = GOOD };
	struct scrape_endpoint ep = { .component = "apiserver" };
	const char *db = tmp("budget.db");
	char url[64], *text;
	size_t off = 0, cap = 20000 * 48;
	struct scraper *sc;
	struct store *st;
	int64_t run_id;
	int err, k, calls = 0;

	text = malloc(cap);
	for (int i = 0; i < 20000; i++)
		off += snprintf(text + off, cap - off, "go_goroutines{i=\"%d\"} %d\n", i, i);
	sv.body = text;
	sv.blen = off;
	sv.fd = listen_any(&sv.port);
	CHECK(sv.fd >= 0, "listen");
	pthread_create(&sv.th, NULL, serve, &sv);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/metrics", sv.port);
	ep.url = url;
	st = store__open(db, &err);
	CHECK(st != NULL, "store: %s", cp_lasterr());
	if (!st)
		goto out;
	CHECK_INT(store__begin_run(st, &ri, &run_id), 0);
	sc = scraper__start(&ep, 1, &o, &err);
	CHECK(sc != NULL, "start");
	if (!sc)
		goto out;
	/* the first scrape, then drains until it is written */
	for (int i = 0; i < 100 && sc; i++) {
		struct scrape_stats ss;

		scraper__stats(sc, 0, &ss);
		if (ss.scrapes)
			break;
		usleep(50000);
	}
	k = scraper__drain(sc, st, run_id);
	calls++;
	CHECK_INT(k, 0);
	CHECK_INT(store__flush(st), 0);
	CHECK_INT(sql_int(db, "SELECT count(*) FROM metric_samples"), 4096);
	CHECK_INT(sql_int(db, "SELECT count(*) FROM metric_scrapes"), 1);
	while ((k = scraper__drain(sc, st, run_id)) == 0 && calls < 10)
		calls++;
	CHECK_INT(k, 1);
	CHECK_INT(calls, 4);  /* 4 x 4096 + 3616 */
	CHECK_INT(store__flush(st), 0);
	CHECK_INT(sql_int(db, "SELECT count(*) FROM metric_samples"), 20000);
	CHECK_INT(sql_int(db, "SELECT sum(value) FROM metric_samples"), 19999LL * 20000 / 2);
	/* the last scrape at stop is written whole */
	CHECK_INT(scraper__stop(sc, st, run_id), 1);
	CHECK_INT(store__flush(st), 0);
	CHECK_INT(sql_int(db, "SELECT count(*) FROM metric_samples"), 40000);
	CHECK_INT(sql_int(db, "SELECT count(*) FROM metric_series"), 20000);
	scraper__free(sc);
out:
	store__close(st);
	server_stop(&sv);
	free(text);
}

/* A run deleted takes its scrapes along. */
static void test_delete(void)
{
	struct run_info ri = { .label = "del", .kind = "other", .started_ns = 1 };
	struct metric_scrape_rec rec = { .endpoint = "http://x/metrics", .component = "etcd" };
	const char *db = tmp("delete.db");
	struct store *st;
	int64_t run_id, sid, ser;
	int err;

	st = store__open(db, &err);
	CHECK(st != NULL, "store: %s", cp_lasterr());
	if (!st)
		return;
	CHECK_INT(store__begin_run(st, &ri, &run_id), 0);
	rec.run_id = run_id;
	CHECK_INT(store__add_metric_scrape(st, &rec, &sid), 0);
	CHECK_INT(store__add_metric_series(st, run_id, "go_goroutines", "", NAN, &ser), 0);
	CHECK_INT(store__add_metric_sample(st, sid, ser, 42), 0);
	CHECK_INT(store__flush(st), 0);
	CHECK_INT(sql_int(db, "SELECT value FROM metric_samples"), 42);
	CHECK_INT(sql_int(db, "SELECT le IS NULL FROM metric_series"), 1);
	CHECK_INT(store__delete_run(st, run_id), 0);
	CHECK_INT(sql_int(db, "SELECT (SELECT count(*) FROM metric_samples) + (SELECT count(*) FROM "
			  "metric_series) + (SELECT count(*) FROM metric_scrapes)"), 0);
	store__close(st);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	log_verbosity = LOG_ERROR;
	test_labels();
	test_delete();
	test_budget();
	test_scraper();
	{
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd))
			fprintf(stderr, "cannot remove '%s'\n", dir);
	}
	return check_summary("test_scrape");
}
