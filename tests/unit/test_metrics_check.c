// SPDX-License-Identifier: MIT
/*
 * Unit tests of metrics_check.c: the bucket of a quantile, labels of a
 * canonical label set, the metric's verbs and scopes as cpprof's, the
 * verdicts, and the figures over a run computed from stored scrapes:
 * real etcd 3.4.23 and 3.5.30 expositions (tests/unit/data, scraped
 * before and after 30 puts, 7 ranges, 3 deletes and one failed range),
 * and kube-apiserver pages in its format (written after
 * k8s.io/apiserver/pkg/endpoints/metrics/metrics.go: no real apiserver
 * runs here) with a series born mid-run, a counter reset, APPLY and
 * PATCH, CONNECT subresources and a failed scrape in between.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static char dir[] = "/tmp/cpprof-test-mcheck.XXXXXX";

#include "check.h"
#include "fixtures.h"
#include "log.h"
#include "metrics_check.h"
#include "promtext.h"
#include "scrape.h"
#include "store.h"
#include "tmpdb.h"

/* ---- pure functions -------------------------------------------------------- */

static void test_pure(void)
{
	struct mc_hist h = {};
	struct mc_result r;
	int64_t lo = -1, hi = -1;
	char v[24], s[16], out[64];

	CHECK_INT(mc_hist__bucket(&h, 0.5, &lo, &hi), -1);
	/* added out of order, as series come */
	mc_hist__add(&h, INFINITY, 100);
	mc_hist__add(&h, 0.1, 50);
	mc_hist__add(&h, 0.05, 10);
	mc_hist__add(&h, 1, 99);
	mc_hist__add(&h, 0.1, 10);  /* another series of the same call kind */
	CHECK_INT(h.n, 4);
	CHECK(h.le[0] == 0.05 && h.le[1] == 0.1 && h.le[2] == 1 && isinf(h.le[3]), "sorted");
	CHECK(h.count[1] == 60, "merged %g", h.count[1]);
	CHECK_INT(mc_hist__bucket(&h, 0.5, &lo, &hi), 1);
	CHECK_INT(lo, 50000000);
	CHECK_INT(hi, 100000000);
	CHECK_INT(mc_hist__bucket(&h, 0.99, &lo, &hi), 2);
	CHECK_INT(hi, 1000000000);
	CHECK_INT(mc_hist__bucket(&h, 1.0, &lo, &hi), 3);
	CHECK_INT(hi, INT64_MAX);
	CHECK_INT(mc_hist__bucket(&h, 0.1, &lo, &hi), 0);
	CHECK_INT(lo, 0);

	mc_check_quantile(70000000, &h, 0.5, &r);
	CHECK_INT(r.verdict, MC_AGREE);
	CHECK(strstr(r.reason, "in the metric's bucket (50 ms, 100 ms]") != NULL, "%s", r.reason);
	mc_check_quantile(40000000, &h, 0.5, &r);
	CHECK_INT(r.verdict, MC_AGREE);
	CHECK(strstr(r.reason, "next to") != NULL, "%s", r.reason);
	mc_check_quantile(5000000000LL, &h, 0.5, &r);
	CHECK_INT(r.verdict, MC_DISAGREE);
	CHECK(strstr(r.reason, "2 buckets above") != NULL, "%s", r.reason);
	mc_check_quantile(1, &(struct mc_hist){}, 0.5, &r);
	CHECK_INT(r.verdict, MC_UNKNOWN);

	mc_check_count(888, 888, 0, &r);
	CHECK(r.verdict == MC_AGREE && !strcmp(r.reason, "equal counts"), "%s", r.reason);
	mc_check_count(887, 888, 0, &r);
	CHECK(r.verdict == MC_DISAGREE && strstr(r.reason, "887") && strstr(r.reason, "888"),
	      "%s", r.reason);
	mc_check_count(887, 888, 2, &r);
	CHECK_INT(r.verdict, MC_AGREE);
	mc_check_count(5, -1, 0, &r);
	CHECK_INT(r.verdict, MC_UNKNOWN);
	mc_check_cpu(1000000000, 1.05, &r);
	CHECK_INT(r.verdict, MC_AGREE);
	mc_check_cpu(480000000, 0.36, &r);  /* measured: a 10 s run's edges */
	CHECK_INT(r.verdict, MC_AGREE);
	mc_check_cpu(1000000000, 2.0, &r);
	CHECK_INT(r.verdict, MC_DISAGREE);
	mc_check_cpu(100000000, 0.5, &r);
	CHECK(r.verdict == MC_DISAGREE && strstr(r.reason, "grew by 0.50 s"), "%s", r.reason);
	CHECK_STR(mc_verdict_name(MC_DISAGREE), "disagree");
	{
		/* measured on Debian's etcd 3.4.23: 95 fdatasync, 33 WAL syncs, 31 commits */
		struct mc_hist w = { .n = 1, .le = { INFINITY }, .count = { 33 } };
		struct mc_hist c = { .n = 1, .le = { INFINITY }, .count = { 31 } };

		mc_check_fdatasync(95, &w, &c, 0, &r);
		CHECK(r.verdict == MC_AGREE && strstr(r.reason, "33 WAL syncs + 2 x 31"), "%s", r.reason);
		mc_check_fdatasync(64, &w, &c, 0, &r);
		CHECK(r.verdict == MC_DISAGREE && strstr(r.reason, "= 95"), "%s", r.reason);
		mc_check_fdatasync(64, &(struct mc_hist){}, &(struct mc_hist){}, 0, &r);
		CHECK_INT(r.verdict, MC_UNKNOWN);
	}

	CHECK_STR(mc_verb("POST"), "create");
	CHECK_STR(mc_verb("PUT"), "update");
	CHECK_STR(mc_verb("APPLY"), "patch");
	CHECK_STR(mc_verb("PATCH"), "patch");
	CHECK_STR(mc_verb("LIST"), "list");
	CHECK_STR(mc_verb("WATCHLIST"), "watch");
	CHECK_STR(mc_verb("DELETECOLLECTION"), "deletecollection");
	CHECK_STR(mc_verb("CONNECT"), "connect");
	CHECK_STR(mc_verb("other"), "other");
	mc_key("create", "", "namespace", v, s);
	CHECK(!strcmp(v, "create") && !strcmp(s, "resource"), "POST is a resource route: %s %s", v, s);
	mc_key("get", "log", "resource", v, s);
	CHECK(!strcmp(v, "connect") && !strcmp(s, "resource"), "log is CONNECT: %s %s", v, s);
	mc_key("create", "exec", "resource", v, s);
	CHECK(!strcmp(v, "connect") && !strcmp(s, "resource"), "exec is CONNECT: %s %s", v, s);
	mc_key("list", "", "cluster", v, s);
	CHECK(!strcmp(v, "list") && !strcmp(s, "cluster"), "%s %s", v, s);
	mc_key("create", "status", "resource", v, s);
	CHECK(!strcmp(v, "create") && !strcmp(s, "resource"), "%s %s", v, s);

	CHECK(mc_label("{a=\"x\",code=\"200\",q=\"a\\\"b\\\\\"}", "code", out, sizeof(out)), "code");
	CHECK_STR(out, "200");
	CHECK(mc_label("{a=\"x\",code=\"200\",q=\"a\\\"b\\\\\"}", "q", out, sizeof(out)), "q");
	CHECK_STR(out, "a\"b\\");
	CHECK(!mc_label("{a=\"x\"}", "b", out, sizeof(out)), "absent");
	CHECK(!mc_label("", "a", out, sizeof(out)), "no labels");
	CHECK(!mc_label("{a=\"x", "a", out, sizeof(out)), "unterminated");
	CHECK(!mc_label("{aa=\"x\"}", "a", out, sizeof(out)), "prefix is not the name");
}

/* ---- stored scrapes ------------------------------------------------------- */

struct page {
	struct store *st;
	int64_t run_id, scrape_id;
	char keys[2048][600];
	int64_t ids[2048];
	int n;
	int err;
};

static int store_sample(void *ctx, const struct prom_sample *s)
{
	struct page *p = ctx;
	char labels[4096], key[4300];
	double le;
	int64_t id = -1;

	if (!scrape__wanted(s->name))
		return 0;
	if (scrape__labels(s, labels, sizeof(labels), &le) < 0)
		return -ENOSPC;
	if (snprintf(key, sizeof(key), "%s%s%.17g", s->name, labels, le) >= (int)sizeof(p->keys[0]))
		return -ENOSPC;
	for (int i = 0; i < p->n; i++)
		if (!strcmp(p->keys[i], key))
			id = p->ids[i];
	if (id < 0) {
		if (p->n == 2048 || store__add_metric_series(p->st, p->run_id, s->name, labels, le, &id))
			return -ENOSPC;
		memcpy(p->keys[p->n], key, strlen(key) + 1);
		p->ids[p->n++] = id;
	}
	return store__add_metric_sample(p->st, p->scrape_id, id, s->value);
}

/* One scrape of URL at T_NS: TEXT, or an error row when TEXT is NULL. */
static void scrape_text(struct page *p, const char *url, const char *component, int64_t t_ns,
			const char *text, size_t len)
{
	struct metric_scrape_rec rec = {
		.run_id = p->run_id, .endpoint = url, .component = component, .t_ns = t_ns,
		.error = text ? NULL : "timeout", .message = text ? NULL : "cannot read: timed out",
	};

	CHECK_INT(store__add_metric_scrape(p->st, &rec, &p->scrape_id), 0);
	if (text)
		CHECK_INT(promtext__parse(text, len, store_sample, p), 0);
}

static void scrape_file(struct page *p, const char *url, int64_t t_ns, const char *path)
{
	size_t len = 0;
	char *text = (char *)slurp(path, &len);

	CHECK(text != NULL, "cannot read '%s': run from the source tree", path);
	if (text)
		scrape_text(p, url, "etcd", t_ns, text, len);
	free(text);
}

static struct page *new_run(const char *db, const char *label)
{
	struct run_info ri = { .label = label, .kind = "other", .started_ns = 1 };
	struct page *p = calloc(1, sizeof(*p));
	int err;

	p->st = store__open(db, &err);
	CHECK(p->st != NULL, "store: %s", cp_lasterr());
	if (!p->st) {
		free(p);
		return NULL;
	}
	CHECK_INT(store__begin_run(p->st, &ri, &p->run_id), 0);
	return p;
}

static struct metrics_check *load(const char *db, int64_t run_id)
{
	struct metrics_check *mc = NULL;
	sqlite3 *h = NULL;

	CHECK_INT(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	CHECK_INT(metrics_check__load(h, run_id, &mc), 0);
	sqlite3_close(h);
	return mc;
}

static void test_etcd(const char *version, double cpu)
{
	char start[128], end[128], db[64];
	struct page *p;
	struct metrics_check *mc;
	const struct mc_grpc *g;
	int64_t lo, hi;

	snprintf(start, sizeof(start), "tests/unit/data/etcd-%s-start.txt", version);
	snprintf(end, sizeof(end), "tests/unit/data/etcd-%s-end.txt", version);
	snprintf(db, sizeof(db), "etcd-%s.db", version);
	p = new_run(tmp(db), version);
	if (!p)
		return;
	scrape_file(p, "http://127.0.0.1:2379/metrics", 1000000000, start);
	scrape_text(p, "http://127.0.0.1:2379/metrics", "etcd", 1500000000, NULL, 0);
	scrape_file(p, "http://127.0.0.1:2379/metrics", 2000000000, end);
	CHECK_INT(store__flush(p->st), 0);
	store__close(p->st);
	mc = load(tmp(db), p->run_id);
	free(p);
	if (!mc)
		return;
	CHECK(mc->has_etcd && !mc->has_apiserver, "%s: etcd only", version);
	CHECK_INT(mc->neps, 1);
	CHECK_INT(mc->eps[0].scrapes, 3);
	CHECK_INT(mc->eps[0].ok, 2);
	CHECK_INT(mc->eps[0].errors[SCRAPE_ERR_TIMEOUT], 1);
	CHECK(strstr(mc->eps[0].last_error, "timed out") != NULL, "%s", mc->eps[0].last_error);
	/* etcdctl's calls between the two scrapes */
	g = metrics_check__grpc(mc, "etcdserverpb.KV", "Put");
	CHECK(g && g->handled == 30 && g->not_ok == 0, "%s: Put %g", version, g ? g->handled : -1);
	g = metrics_check__grpc(mc, "etcdserverpb.KV", "Range");
	CHECK(g && g->handled == 8 && g->not_ok == 1, "%s: Range %g (%g not OK)", version,
	      g ? g->handled : -1, g ? g->not_ok : -1);
	g = metrics_check__grpc(mc, "etcdserverpb.KV", "DeleteRange");
	CHECK(g && g->handled == 3, "%s: DeleteRange %g", version, g ? g->handled : -1);
	g = metrics_check__grpc(mc, "etcdserverpb.KV", "Txn");
	CHECK(g && g->handled == 0, "%s: no Txn", version);
	/* 30 puts and 3 deletes: 33 WAL syncs between the scrapes */
	CHECK(mc->wal_fsync.total == 33, "%s: fsyncs %g", version, mc->wal_fsync.total);
	CHECK(mc->wal_fsync.n == 15 && mc->wal_fsync.count[14] == 33, "%s: +Inf bucket", version);
	CHECK(mc->wal_fsync.sum > 0 && mc->wal_fsync.sum < 10, "%s: sum %g", version, mc->wal_fsync.sum);
	CHECK(mc->backend_commit.total > 0, "%s: commits %g", version, mc->backend_commit.total);
	CHECK(mc_hist__bucket(&mc->wal_fsync, 0.5, &lo, &hi) >= 0 && hi > lo, "p50 bucket");
	CHECK(mc->eps[0].has_cpu && fabs(mc->eps[0].cpu_seconds - cpu) < 1e-9, "%s: cpu %g", version,
	      mc->eps[0].cpu_seconds);
	metrics_check__free(mc);
}

/* Three pages of kube-apiserver, in its format (metrics.go's label names and order). */
#define REQ(code, res, scope, sub, verb, n) \
	"apiserver_request_total{code=\"" code "\",component=\"apiserver\",dry_run=\"\",group=\"\"," \
	"resource=\"" res "\",scope=\"" scope "\",subresource=\"" sub "\",verb=\"" verb "\",version=\"v1\"} " n "\n"
#define DUR(res, scope, verb, le, n) \
	"apiserver_request_duration_seconds_bucket{component=\"apiserver\",dry_run=\"\",group=\"\"," \
	"resource=\"" res "\",scope=\"" scope "\",subresource=\"\",verb=\"" verb "\",version=\"v1\",le=\"" le "\"} " n "\n"
#define SLI(res, scope, verb, le, n) \
	"apiserver_request_sli_duration_seconds_bucket{component=\"apiserver\",group=\"\"," \
	"resource=\"" res "\",scope=\"" scope "\",subresource=\"\",verb=\"" verb "\",version=\"v1\",le=\"" le "\"} " n "\n"

static const char kas1[] =
	"# HELP apiserver_request_total [STABLE] Counter of apiserver requests broken out for each verb, dry run value, group, version, resource, scope, component, and HTTP response code.\n"
	"# TYPE apiserver_request_total counter\n"
	REQ("201", "pods", "resource", "", "POST", "100")
	REQ("200", "pods", "namespace", "", "LIST", "40")
	REQ("200", "pods", "cluster", "", "WATCH", "3")
	REQ("200", "pods", "resource", "", "PATCH", "5")
	REQ("200", "pods", "resource", "", "APPLY", "2")
	REQ("200", "pods", "resource", "log", "CONNECT", "1")
	REQ("200", "nodes", "resource", "status", "PUT", "1000")
	REQ("200", "", "", "", "GET", "77")
	DUR("pods", "resource", "POST", "0.005", "10")
	DUR("pods", "resource", "POST", "0.025", "60")
	DUR("pods", "resource", "POST", "0.1", "95")
	DUR("pods", "resource", "POST", "1", "100")
	DUR("pods", "resource", "POST", "+Inf", "100")
	"apiserver_request_duration_seconds_sum{component=\"apiserver\",dry_run=\"\",group=\"\",resource=\"pods\",scope=\"resource\",subresource=\"\",verb=\"POST\",version=\"v1\"} 2.5\n"
	"apiserver_request_duration_seconds_count{component=\"apiserver\",dry_run=\"\",group=\"\",resource=\"pods\",scope=\"resource\",subresource=\"\",verb=\"POST\",version=\"v1\"} 100\n"
	SLI("pods", "resource", "POST", "0.005", "20")
	SLI("pods", "resource", "POST", "0.025", "70")
	SLI("pods", "resource", "POST", "+Inf", "100")
	"process_cpu_seconds_total 120.5\n"
	"apiserver_current_inflight_requests{request_kind=\"mutating\"} 1\n";

static const char kas2[] =
	REQ("201", "pods", "resource", "", "POST", "150")
	REQ("409", "pods", "resource", "", "POST", "2")      /* born mid-run */
	REQ("500", "pods", "resource", "", "POST", "1")      /* born mid-run, an error */
	REQ("200", "pods", "namespace", "", "LIST", "60")
	REQ("200", "pods", "cluster", "", "WATCH", "4")
	REQ("200", "pods", "resource", "", "PATCH", "9")
	REQ("200", "pods", "resource", "", "APPLY", "3")
	REQ("200", "pods", "resource", "log", "CONNECT", "2")
	REQ("200", "nodes", "resource", "status", "PUT", "1500")
	REQ("200", "", "", "", "GET", "99")
	DUR("pods", "resource", "POST", "0.005", "10")
	DUR("pods", "resource", "POST", "0.025", "90")
	DUR("pods", "resource", "POST", "0.1", "145")
	DUR("pods", "resource", "POST", "1", "153")
	DUR("pods", "resource", "POST", "+Inf", "153")
	SLI("pods", "resource", "POST", "0.005", "40")
	SLI("pods", "resource", "POST", "0.025", "120")
	SLI("pods", "resource", "POST", "+Inf", "153")
	"process_cpu_seconds_total 130.5\n";

/* the apiserver restarted: counters from 0 */
static const char kas3[] =
	REQ("201", "pods", "resource", "", "POST", "7")
	REQ("200", "pods", "namespace", "", "LIST", "5")
	REQ("200", "nodes", "resource", "status", "PUT", "20")
	DUR("pods", "resource", "POST", "0.005", "0")
	DUR("pods", "resource", "POST", "0.025", "0")
	DUR("pods", "resource", "POST", "0.1", "7")
	DUR("pods", "resource", "POST", "1", "7")
	DUR("pods", "resource", "POST", "+Inf", "7")
	"process_cpu_seconds_total 2\n";

static void test_apiserver(void)
{
	const char *url = "https://10.0.0.1:6443/metrics";
	struct page *p = new_run(tmp("kas.db"), "kas");
	struct metrics_check *mc;
	const struct mc_call *c;
	struct mc_result r;
	int64_t lo, hi;

	if (!p)
		return;
	scrape_text(p, url, "apiserver", 1000, kas1, sizeof(kas1) - 1);
	scrape_text(p, url, "apiserver", 2000, NULL, 0);
	scrape_text(p, url, "apiserver", 3000, kas2, sizeof(kas2) - 1);
	scrape_text(p, url, "apiserver", 4000, kas3, sizeof(kas3) - 1);
	/* an endpoint with one good scrape gives no figures */
	scrape_text(p, "http://127.0.0.1:1/metrics", "other", 1000, "process_cpu_seconds_total 9\n", 28);
	CHECK_INT(store__flush(p->st), 0);
	store__close(p->st);
	mc = load(tmp("kas.db"), p->run_id);
	free(p);
	if (!mc)
		return;
	CHECK(mc->has_apiserver && !mc->has_etcd, "apiserver only");
	CHECK_INT(mc->neps, 2);
	/* POST pods: 50 + 2 + 1 born later, then 7 after the restart */
	c = metrics_check__find(mc, "create", "pods", "", "namespace");
	CHECK(c != NULL, "create pods found from cpprof's key (scope namespace)");
	if (c) {
		CHECK(c->count == 60, "create pods: %g", c->count);
		CHECK(c->errors == 1, "create pods errors: %g", c->errors);
		CHECK(c->dur.total == 0, "no _count after the first page: %g", c->dur.total);
		/* buckets: 0.005: 0+0, 0.025: 30+0, 0.1: 50+7, 1: 53+7, +Inf: 53+7 */
		CHECK(c->dur.n == 5 && c->dur.count[0] == 0 && c->dur.count[1] == 30 &&
		      c->dur.count[2] == 57 && c->dur.count[4] == 60, "create pods buckets %g %g %g %g",
		      c->dur.count[0], c->dur.count[1], c->dur.count[2], c->dur.count[4]);
		/* rank 30 of 60: the 0.025 bucket's 30 reach it */
		CHECK_INT(mc_hist__bucket(&c->dur, 0.5, &lo, &hi), 1);
		CHECK(lo == 5000000 && hi == 25000000, "p50 in (5 ms, 25 ms]: %lld %lld",
		      (long long)lo, (long long)hi);
		CHECK(c->sli.n == 3 && c->sli.count[2] == 53, "sli: %d buckets, %g", c->sli.n,
		      c->sli.count[2]);
		mc_check_count(60, c->count, 0, &r);
		CHECK_INT(r.verdict, MC_AGREE);
		mc_check_quantile(30000000, &c->dur, 0.5, &r);
		CHECK(r.verdict == MC_AGREE, "%s", r.reason);
	}
	CHECK(metrics_check__find(mc, "create", "pods", "", "cluster") == c, "create: any cpprof scope");
	c = metrics_check__find(mc, "list", "pods", "", "namespace");
	CHECK(c && c->count == 25, "list pods: %g", c ? c->count : -1);
	c = metrics_check__find(mc, "watch", "pods", "", "cluster");
	CHECK(c && c->count == 1, "watch pods: %g", c ? c->count : -1);
	c = metrics_check__find(mc, "patch", "pods", "", "resource");
	CHECK(c && c->count == 5, "PATCH + APPLY: %g", c ? c->count : -1);
	c = metrics_check__find(mc, "get", "pods", "log", "resource");
	CHECK(c && c->count == 1 && !strcmp(c->verb, "connect"), "log is CONNECT: %g", c ? c->count : -1);
	c = metrics_check__find(mc, "update", "nodes", "status", "resource");
	CHECK(c && c->count == 520, "update nodes/status: %g", c ? c->count : -1);
	CHECK(metrics_check__find(mc, "get", "", "", "") == NULL, "non-resource requests are not call kinds");
	CHECK(metrics_check__find(mc, "delete", "pods", "", "resource") == NULL, "absent");
	CHECK(metrics_check__count_any_scope(mc, "list", "pods", "") == 25, "any scope");
	CHECK(metrics_check__count_any_scope(mc, "delete", "pods", "") < 0, "any scope, absent");
	for (int i = 0; i < mc->neps; i++) {
		if (!strcmp(mc->eps[i].component, "apiserver")) {
			CHECK(mc->eps[i].ok == 3 && mc->eps[i].errors[SCRAPE_ERR_TIMEOUT] == 1, "scrapes");
			CHECK(fabs(mc->eps[i].cpu_seconds - 12) < 1e-9, "cpu 10 + 2: %g",
			      mc->eps[i].cpu_seconds);
		} else {
			CHECK(mc->eps[i].ok == 1 && mc->eps[i].cpu_seconds == 0, "one scrape: no delta");
		}
	}
	metrics_check__free(mc);
}

/* A file made before scraping existed: no tables, an empty check. */
static void test_old_file(void)
{
	struct metrics_check *mc = NULL;
	sqlite3 *h = NULL;

	CHECK_INT(sqlite3_open(tmp("old.db"), &h), SQLITE_OK);
	sqlite3_exec(h, "CREATE TABLE runs(id INTEGER PRIMARY KEY)", NULL, NULL, NULL);
	CHECK_INT(metrics_check__load(h, 1, &mc), 0);
	CHECK(mc && mc->neps == 0 && mc->ncalls == 0 && !mc->has_etcd, "empty");
	metrics_check__free(mc);
	sqlite3_close(h);
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_pure();
	test_etcd("3.4.23", 0.20);
	test_etcd("3.5.30", 0.21);
	test_apiserver();
	test_old_file();
	{
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd))
			fprintf(stderr, "cannot remove '%s'\n", dir);
	}
	return check_summary("test_metrics_check");
}
