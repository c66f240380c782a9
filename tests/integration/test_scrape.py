#!/usr/bin/env python3
"""Integration tests of Prometheus scraping during `cpprof record`, as root,
with real BPF and real etcd servers.

Debian's etcd 3.4 and sid's etcd 3.5.30 (when `make deps` unpacked it) run
with --metrics=extensive; `cpprof record --pid ETCD --etcd-metrics URL`
scrapes them at the start, every 2 s and at the end, while etcdctl makes 30
puts, 7 ranges, 3 deletes and one range of a future revision (OutOfRange).
Next to etcd, four bad endpoints played by this test's own HTTP server are
scraped with --metrics: a refused port, a server that stalls 12 s (beyond
--metrics-timeout 6; the issue's 5 s stall is the unit test's, test_scrape.c),
binary garbage, and a 100 MB body. The test checks
that recording goes on and ends in time, that each bad endpoint is counted
under its kind of error, that the samples are stored, and that
tests/integration/mcheck_driver.c (user/k8s/metrics_check.c over the file)
finds etcd's grpc_server_handled_total equal to cpprof's gRPC calls per
method, cpprof's fdatasync count equal to etcd's WAL syncs plus two per
backend commit, the fdatasync p50 in or next to the WAL histogram's
bucket, and the CPU of process_cpu_seconds_total beside cpprof's. A TLS
case scrapes etcd's client URL with --etcd-metrics-ca/-cert/-key, and the
Go test server, kube-apiserver's stand-in, is scraped over HTTPS with
--apiserver-ca and --apiserver-token-file, its apiserver_request_total
checked against cpprof's count per call kind.

Usage: test_scrape.py BUILD_DIR [FILTER]
Ends with "scrape: N passed, N failed"; exits 1 on any failure.
"""
import json
import os
import re
import shutil
import socket
import sqlite3
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import itlib  # noqa: E402
from itlib import Etcd, free_port  # noqa: E402

OUT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
FILTER = sys.argv[2] if len(sys.argv) > 2 else ""
CPPROF = os.path.join(OUT, "cpprof")
SID_ETCD = "/var/cache/cpprof/etcd-sid/usr/bin/etcd"

check = itlib.Checks()
TMP = tempfile.mkdtemp(prefix="cpprof-scrape.")
DRIVER = os.path.join(TMP, "mcheck_driver")


# ---- bad endpoints -------------------------------------------------------------

class BadServer:
    """A loopback server answering every connection the same bad way:
    stall (12 s, then close without a word), garbage (HTTP 200, binary
    body), huge (HTTP 200, 100 MB of text, no length)."""

    def __init__(self, mode):
        self.mode, self.stop = mode, False
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.served = 0
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def loop(self):
        while not self.stop:
            try:
                c, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                break
            threading.Thread(target=self.answer, args=(c,), daemon=True).start()

    def answer(self, c):
        try:
            c.settimeout(10)
            c.recv(4096)
            self.served += 1
            if self.mode == "stall":
                end = time.time() + 12
                while time.time() < end and not self.stop:
                    time.sleep(0.1)
            elif self.mode == "garbage":
                junk = bytes((i * 7919 + 13) % 256 for i in range(8192))
                c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 8192\r\nConnection: close\r\n\r\n" + junk)
            elif self.mode == "huge":
                c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n")
                chunk = b"go_goroutines 1\n" * 65536  # 1 MiB: fast enough also under load
                sent = 0
                while sent < 100 << 20 and not self.stop:
                    c.sendall(chunk)
                    sent += len(chunk)
        except OSError:
            pass  # the scraper hung up: that is the point
        finally:
            c.close()

    def close(self):
        self.stop = True
        self.sock.close()
        self.thread.join(2)


def refused_url():
    return f"http://127.0.0.1:{free_port()}/metrics"


# ---- helpers -------------------------------------------------------------------

def make_tls():
    d = os.path.join(TMP, "pki")
    os.makedirs(d, exist_ok=True)
    p = lambda n: os.path.join(d, n)  # noqa: E731
    with open(p("san.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n")
    cmds = [["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-subj", "/CN=cpprof-test-ca", "-keyout", p("ca.key"), "-out", p("ca.crt")]]
    for who in ("server", "client"):
        cmds += [["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={who}",
                  "-keyout", p(who + ".key"), "-out", p(who + ".csr")],
                 ["openssl", "x509", "-req", "-in", p(who + ".csr"), "-CA", p("ca.crt"),
                  "-CAkey", p("ca.key"), "-CAcreateserial", "-days", "2", "-extfile", p("san.ext"),
                  "-out", p(who + ".crt")]]
    for c in cmds:
        r = subprocess.run(c, capture_output=True, text=True)
        if r.returncode:
            check(False, "openssl " + c[1], r.stderr[-400:])
            return None
    return {"ca": p("ca.crt"), "cert": p("server.crt"), "key": p("server.key"),
            "ccert": p("client.crt"), "ckey": p("client.key")}


def run_mix(e):
    """30 puts, 7 ranges, 3 deletes, 1 range of a future revision; the
    number of calls that did not answer as expected."""
    bad = 0
    for i in range(30):
        bad += e.ctl("put", f"/registry/configmaps/ns/c{i}", "v").returncode != 0
    for _ in range(7):
        bad += e.ctl("get", "--prefix", "/registry/configmaps").returncode != 0
    for i in range(3):
        bad += e.ctl("del", f"/registry/configmaps/ns/c{i}").returncode != 0
    bad += e.ctl("get", "/registry/x", "--rev=99999999").returncode == 0
    return bad


def sql(db, q, *args):
    con = sqlite3.connect(db)
    try:
        return con.execute(q, args).fetchall()
    finally:
        con.close()


# ---- cases ---------------------------------------------------------------------

def report_json(name, db, *more):
    """`cpprof report --format json` of DB's run, parsed and checked against
    report.schema.json; None (a failed check) if it fails."""
    r = subprocess.run([CPPROF, "report", db, "--format", "json", *more], capture_output=True, text=True)
    if not check(r.returncode == 0, f"{name}: report --format json", r.stderr[-500:]):
        return None
    try:
        doc = json.loads(r.stdout)
        run = doc["runs"][0]
    except (ValueError, KeyError, IndexError) as e:
        check(False, f"{name}: report --format json parses", str(e))
        return None
    try:
        import jsonschema
    except ImportError:
        check(False, f"{name}: python3-jsonschema is installed (make deps)")
        return run
    schema = json.load(open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "schema",
                                         "report.schema.json")))
    errs = sorted(jsonschema.Draft7Validator(schema).iter_errors(doc), key=lambda e: list(e.path))
    check(not errs, f"{name}: report json with metrics_check valid against report.schema.json",
          "; ".join(f"{list(e.path)}: {e.message[:200]}" for e in errs[:3]))
    return run


def report_text(name, db, fmt="text"):
    r = subprocess.run([CPPROF, "report", db, "--format", fmt], capture_output=True, text=True)
    check(r.returncode == 0, f"{name}: report --format {fmt}", r.stderr[-500:])
    return r.stdout


def check_report_apiserver(name, db, want):
    """The apiserver side of the cross-check in `report`, for any apiserver
    (the stand-in here; a real k8s.io/apiserver server goes through the same
    function): every apiserver call kind's metrics.count equals cpprof's
    count (or, when the server's metric has no scope label, the counts
    agree over all scopes), its verdict agrees, and WANT's call kinds
    ((verb, resource, scope) -> count) are there; the text report shows
    the agreement table with no disagreement."""
    run = report_json(name, db)
    if run is None:
        return
    calls = [c for c in run["calls"] if c["component"] == "apiserver" and c["resource"]]
    check(calls and all("metrics" in c for c in calls), f"{name}: report: every apiserver call has metrics",
          str([c for c in calls if "metrics" not in c][:2]))
    for c in calls:
        m = c.get("metrics") or {}
        key = (c["verb"], c["resource"], c["scope"])
        same = m.get("count") == c["count"] or (m.get("count") is None and
                                                m.get("count_check", {}).get("reason", "").startswith("equal over all scopes"))
        check(same and m.get("verdict") == "agree",
              f"{name}: report: {key}: metrics.count {m.get('count')} beside cpprof's {c['count']}, agree",
              json.dumps(m)[:400])
        if m.get("p50_le_ns") is not None:
            lo, hi = m["p50_le_ns"]
            check(0 <= lo < hi, f"{name}: report: {key}: p50_le_ns is a bucket", str(m["p50_le_ns"]))
    have = {(c["verb"], c["resource"], c["scope"]): c["count"] for c in calls}
    for key, n in want.items():
        check(have.get(key) == n, f"{name}: report: {key} counted {n}", str(have.get(key)))
    mc = run.get("metrics_check") or {}
    api = mc.get("apiserver") or {}
    check(api.get("calls_disagree") == 0 and api.get("calls_agree") == len(calls),
          f"{name}: report: metrics_check.apiserver: all {len(calls)} agree",
          json.dumps({k: api.get(k) for k in ("calls_agree", "calls_disagree", "calls_unknown", "metric_only")}))
    text = report_text(name, db)
    check("Cross-check: cpprof beside the components' own metrics" in text and
          re.search(rf"apiserver call kinds: {len(calls)} agree, 0 disagree", text) is not None,
          f"{name}: report text: the agreement table", text[-1500:])
    md = report_text(name, db, "md")
    check("### Cross-check" in md and "| check | cpprof | metric | verdict | reason |" in md,
          f"{name}: report md: the agreement table")
    return run


def check_report_etcd(name, db, bad_urls):
    """The etcd side of the cross-check in `report`: fdatasync beside the
    WAL and commit histograms, gRPC methods beside grpc_server_handled_total,
    CPU beside process_cpu_seconds_total, the bad endpoints' errors shown."""
    run = report_json(name, db)
    if run is None:
        return
    mc = run.get("metrics_check")
    if not check(mc is not None and mc.get("etcd") is not None, f"{name}: report: metrics_check.etcd"):
        return
    etcd = mc["etcd"]
    fs = etcd["fdatasync"]
    check(fs["count_check"]["verdict"] == "agree" and fs["cpprof_count"] ==
          fs["wal_fsync"]["count"] + 2 * fs["backend_commit"]["count"],
          f"{name}: report: fdatasync = WAL syncs + 2 x commits", json.dumps(fs)[:600])
    check(fs["p50_check"]["verdict"] == "agree", f"{name}: report: fdatasync p50 beside the WAL bucket",
          fs["p50_check"]["reason"])
    grpc = {g["method"]: g for g in etcd["grpc"]}
    for m, n in (("/etcdserverpb.KV/Put", 30), ("/etcdserverpb.KV/Range", 8),
                 ("/etcdserverpb.KV/DeleteRange", 3)):
        g = grpc.get(m, {})
        check(g.get("handled") == n and g.get("cpprof_count") == n and g["check"]["verdict"] == "agree",
              f"{name}: report: {m}: {n} on both sides, agree", str(g))
    ep = [x for x in mc["endpoints"] if x["component"] == "etcd"]
    check(len(ep) == 1 and ep[0]["cpu_check"]["verdict"] == "agree" and ep[0]["cpprof_cpu_ns"] > 0,
          f"{name}: report: etcd CPU beside process_cpu_seconds_total", str(ep))
    eps = {x["url"]: x for x in mc["endpoints"]}
    text = report_text(name, db)
    for kind, u in bad_urls.items():
        x = eps.get(u, {})
        check(x.get("ok") == 0 and x.get("errors", {}).get(kind, 0) >= 2 and x.get("last_error"),
              f"{name}: report: bad endpoint's '{kind}' errors in the JSON", str(x))
        line = [ln for ln in text.splitlines() if u[:30] in ln and "scrapes" in ln]
        check(line and re.search(rf"\d+ {kind}", line[0]) is not None,
              f"{name}: report text: bad endpoint's '{kind}' errors shown", str(line))
    check(re.search(r"etcd gRPC /etcdserverpb.KV/Put +30 +30 +agree", text) is not None,
          f"{name}: report text: gRPC Put in the agreement table")
    check(re.search(r"etcd fdatasync \(WAL \+ 2 x commit\) +\d+ +\S+ +agree", text) is not None,
          f"{name}: report text: fdatasync in the agreement table")


def check_report_sli(name, db):
    """The SLO both ways on a recorded run: an apiserver_request_sli_duration_seconds
    histogram for create pods with known counts is written between the run's
    first and last apiserver scrape (the stand-in exposes no SLI histogram;
    a real apiserver does), and report must show, in the run's one 5-minute
    window, cpprof's exact p99 beside histogram_quantile(0.99) of the
    histogram's increase, interpolated as Prometheus does: rank 9.9 of 10
    falls in (0.1 s, 0.25 s] with 8 below, so 0.1 + 0.15 * 1.9 / 2 = 0.2425 s."""
    con = sqlite3.connect(db)
    try:
        run_id, = con.execute("SELECT id FROM runs").fetchone()
        scr = [r[0] for r in con.execute("SELECT id FROM metric_scrapes WHERE component = 'apiserver' "
                                         "AND error IS NULL ORDER BY t_ns")]
        labels = '{component="apiserver",group="",resource="pods",scope="resource",subresource="",verb="POST",version="v1"}'
        for le, first, last in ((0.05, 0, 4), (0.1, 1, 8), (0.25, 1, 10), (float("inf"), 1, 10)):
            cur = con.execute("INSERT INTO metric_series (run_id, name, labels, le) VALUES (?, ?, ?, ?)",
                              (run_id, "apiserver_request_sli_duration_seconds_bucket", labels, le))
            sid = cur.lastrowid
            con.execute("INSERT INTO metric_samples (scrape_id, series_id, value) VALUES (?, ?, ?)",
                        (scr[0], sid, first))
            con.execute("INSERT INTO metric_samples (scrape_id, series_id, value) VALUES (?, ?, ?)",
                        (scr[-1], sid, first + last))
        con.commit()
    finally:
        con.close()
    run = report_json(name + " with SLI", db)
    if run is None:
        return
    create = [c for c in run["calls"] if c["verb"] == "create" and c["resource"] == "pods"]
    win = [w for w in run["metrics_check"]["apiserver"]["sli_windows"] if w["verb"] == "create"]
    check(len(win) == 1 and len(create) == 1, f"{name}: report: one SLO window of create pods both ways",
          json.dumps(win)[:500])
    if win and create:
        w = win[0]
        check(w["sli_count"] == 10 and w["sli_p99_ns"] == 242500000 and
              w["sli_p99_bucket_ns"] == [100000000, 250000000],
              f"{name}: report: SLI p99 interpolated as histogram_quantile (0.2425 s in (0.1, 0.25])", json.dumps(w))
        check(w["cpprof_count"] == create[0]["count"] == 10 and w["cpprof_p99_ns"] == create[0]["p99_ns"],
              f"{name}: report: cpprof's exact p99 of the window beside it", json.dumps(w))
    text = report_text(name, db)
    check("SLO both ways" in text and re.search(r"create pods \w+ .* n 10 p99 .*SLI n 10 p99 242ms", text),
          f"{name}: report text: the SLO both ways", text[-800:])


def check_report_html(name, db, *more):
    """The HTML page of the run in Chromium, through test_report_html.py's
    page(): the script runs to the end with no console error and shows the
    agreement table (and clusterloader2's table with --cl2)."""
    import test_report_html as th
    shutil.rmtree(th.TMP, ignore_errors=True)
    th.TMP, th.check = TMP, check
    if not check(os.access(th.CHROMIUM, os.X_OK), "chromium is installed (make deps)", th.CHROMIUM):
        return
    os.makedirs(th.ART, exist_ok=True)
    out = os.path.join(th.ART, "metrics-check-" + name.replace(" ", "-") + ".html")
    r = subprocess.run([CPPROF, "report", db, "--format", "html", "-o", out, *more], capture_output=True, text=True)
    if not check(r.returncode == 0, f"{name}: report --format html", r.stderr[-300:]):
        return
    want = ["Cross-check with the components' own metrics", "Scraped endpoints", "No disagreement"]
    if more:
        want += ["clusterloader2 beside cpprof", "APIResponsivenessPrometheus_test.json"]
    th.page(name + " html", out, min_svg=1, must_have=want)


def check_report_cl2(name, db):
    """clusterloader2's PerfData beside cpprof's: a file this test writes from
    known values (verbs as APIResponsivenessPrometheus writes them) read
    with --cl2; bad files refused in one line naming the file."""
    good = os.path.join(TMP, "APIResponsivenessPrometheus_test.json")
    items = [("POST", "pods", "", "resource", 10, 1.5, 2.5, 12.25),
             ("GET", "pods", "", "resource", 11, 0.5, 0.75, 3.0),
             ("DELETE", "pods", "", "resource", 3, 0.4, 0.6, 0.9),
             ("LIST", "nodes", "", "cluster", 9, 1, 2, 3)]
    with open(good, "w") as f:
        json.dump({"version": "v1", "dataItems": [
            {"data": {"Perc50": p50, "Perc90": p90, "Perc99": p99}, "unit": "ms",
             "labels": {"Verb": v, "Resource": r, "Subresource": sub, "Scope": sc, "Count": str(n),
                        "SlowCount": "0"}} for v, r, sub, sc, n, p50, p90, p99 in items]}, f, indent=2)
    run = report_json(name + " --cl2", db, "--cl2", good)
    if run is None:
        return
    calls = {(c["verb"], c["resource"], c["scope"]): c for c in run["calls"]}
    cl2 = {(c["verb"], c["resource"]): c for c in run.get("cl2", {}).get("calls", [])}
    for v, res, cv, scope in (("POST", "pods", "create", "resource"), ("GET", "pods", "get", "resource"),
                              ("DELETE", "pods", "delete", "resource")):
        c, mine = cl2.get((v, res), {}), calls.get((cv, res, scope), {})
        want = [i for i in items if i[0] == v][0]
        check(c.get("count") == want[4] and c.get("p99_ms") == want[7] and c.get("p50_ms") == want[5] and
              (c.get("cpprof") or {}).get("count") == mine.get("count") == want[4] and
              c["cpprof"]["p99_ns"] == mine["p99_ns"] and c["cpprof"]["p50_ns"] == mine["p50_ns"],
              f"{name}: report --cl2: {v} {res}: clusterloader2's {want[4]} calls, p99 {want[7]} ms beside cpprof's",
              json.dumps(c))
    check(cl2.get(("LIST", "nodes"), {}).get("cpprof", 0) is None, f"{name}: report --cl2: a kind cpprof lacks is null")
    text = subprocess.run([CPPROF, "report", db, "--cl2", good], capture_output=True, text=True).stdout
    check(re.search(r"POST pods resource +10 +10 +1\.50ms", text) is not None and "LIST nodes cluster" in text,
          f"{name}: report text --cl2: clusterloader2 beside cpprof", text[-900:])
    for bad, why in (('{"version":"v1","dataItems":[{"data":{"Perc50":1},"labels":{}}]}', "labels.Verb"),
                     ('{"version":"v1","dataItems":[', "unexpected end"),
                     ('\x00\x01garbage', "expected an object"),
                     ('{"version":"v2","dataItems":[]}', "version 'v2'"),
                     ('{"version":"v1","dataItems":[{"data":{"Perc99":5},"unit":"s","labels":{"Verb":"GET"}}]}',
                      "not ms")):
        path = os.path.join(TMP, "bad-cl2.json")
        with open(path, "w") as f:
            f.write(bad)
        r = subprocess.run([CPPROF, "report", db, "--cl2", path], capture_output=True, text=True)
        lines = r.stderr.strip().splitlines()
        check(r.returncode == 1 and len(lines) == 1 and path in lines[0] and why in lines[0] and not r.stdout,
              f"{name}: report --cl2 on a bad file: one line naming it ({why})", r.stderr[-300:])
    r = subprocess.run([CPPROF, "report", db, "--cl2", os.path.join(TMP, "missing.json")], capture_output=True,
                       text=True)
    check(r.returncode == 1 and "missing.json" in r.stderr and len(r.stderr.strip().splitlines()) == 1,
          f"{name}: report --cl2 on a missing file: one line", r.stderr)
    check_report_html(name, db, "--cl2", good)


def case(name, exe, tls=None, bad=True):
    if FILTER and FILTER not in name:
        return
    print(f"{name}:")
    e = Etcd(TMP, name=name.replace(" ", "-").replace(".", ""), tls=tls, exe=exe,
             extra=["--metrics=extensive"])
    servers = []
    try:
        if not check(e.healthy(), f"{name}: etcd up"):
            return
        db = os.path.join(TMP, name.replace(" ", "-") + ".db")
        cmd = [CPPROF, "record", "--db", db, "--label", "run", "--pid", str(e.pid),
               "--no-sockets", "--metrics-interval", "2", "--metrics-timeout", "6",
               "--etcd-metrics", e.url + "/metrics"]
        if tls:
            cmd += ["--etcd-metrics-ca", tls["ca"], "--etcd-metrics-cert", tls["ccert"],
                    "--etcd-metrics-key", tls["ckey"]]
        urls = {}
        if bad:
            urls["connect"] = refused_url()
            for mode, kind in (("stall", "timeout"), ("garbage", "parse"), ("huge", "too_big")):
                s = BadServer(mode)
                servers.append(s)
                urls[kind] = f"http://127.0.0.1:{s.port}/metrics"
            for u in urls.values():
                cmd += ["--metrics", u]
        p, log = itlib.start_record(cmd, os.path.join(TMP, name.replace(" ", "-") + ".log"))
        t0 = time.time()
        nbad = run_mix(e)
        check(nbad == 0, f"{name}: etcdctl mix answered as expected", f"{nbad} calls did not")
        time.sleep(max(0.0, 7 - (time.time() - t0)))  # a few interval scrapes, also of the bad ones
        t_stop = time.time()
        rc, out = itlib.stop_record(p, log)
        t_stop = time.time() - t_stop
        log.close()
        check(rc == 0, f"{name}: record exits 0", out[-1500:])
        # a scrape in progress (<= 6 s), then the last one (<= 6 s), then storing
        check(t_stop < 20, f"{name}: record stops in time despite the stalled endpoint",
              f"{t_stop:.1f} s")
        check(e.alive() and e.ctl("get", "/registry/configmaps/ns/c9").returncode == 0,
              f"{name}: etcd alive and answering")

        scr = sql(db, "SELECT endpoint, component, count(*), sum(error IS NULL), "
                      "group_concat(DISTINCT error) FROM metric_scrapes GROUP BY endpoint")
        by_url = {r[0]: r for r in scr}
        mine = by_url.get(e.url + "/metrics")
        check(mine is not None and mine[1] == "etcd" and mine[3] >= 3 and mine[3] == mine[2],
              f"{name}: etcd scraped at the start, every 2 s and at the end, all read", str(mine))
        for kind, u in urls.items():
            r = by_url.get(u)
            check(r is not None and r[2] >= 2 and r[3] == 0 and r[4] == kind,
                  f"{name}: bad endpoint counted as '{kind}' and scraped again", str(r))
            lines = [ln for ln in out.splitlines() if "metrics of other: 0 of" in ln]
            check(any(re.search(rf"read, (\d+ \w+, )*\d+ {kind}(;|,|$)", ln) for ln in lines),
                  f"{name}: '{kind}' errors reported at the end", "\n".join(lines))
        if bad:
            big = sql(db, "SELECT max(bytes), max(duration_ns) FROM metric_scrapes WHERE error = 'too_big'")[0]
            check(big[0] is not None and big[0] <= 64 << 20, f"{name}: the 100 MB body stopped at 64 MiB",
                  str(big))
            slow = sql(db, "SELECT max(duration_ns) FROM metric_scrapes WHERE error = 'timeout'")[0][0]
            check(slow is not None and slow < 7.5e9, f"{name}: the stall cut at --metrics-timeout 6",
                  str(slow))
        nsamp = sql(db, "SELECT count(*) FROM metric_samples JOIN metric_scrapes s ON s.id = scrape_id "
                        "WHERE s.error IS NULL")[0][0]
        fams = {r[0] for r in sql(db, "SELECT DISTINCT name FROM metric_series")}
        want = {"grpc_server_handled_total", "etcd_disk_wal_fsync_duration_seconds_bucket",
                "etcd_disk_backend_commit_duration_seconds_bucket", "process_cpu_seconds_total",
                "go_goroutines", "grpc_server_handling_seconds_bucket"}
        check(nsamp > 100 and want <= fams, f"{name}: families stored", f"{nsamp} samples, missing {want - fams}")
        reqs = sql(db, "SELECT count(*) FROM requests WHERE protocol = 'gRPC'")[0][0]
        traced = "no gRPC tracing of" not in out
        check(traced and reqs >= 41, f"{name}: gRPC traced, recording went on: gRPC calls stored",
              f"{reqs} {[ln for ln in out.splitlines() if 'no gRPC tracing' in ln]}")
        check(sql(db, "SELECT ended_ns IS NOT NULL FROM runs")[0][0] == 1, f"{name}: the run ended")

        r = subprocess.run([DRIVER, db, "run"], capture_output=True, text=True)
        if not check(r.returncode == 0, f"{name}: mcheck_driver", r.stderr[-500:]):
            return
        mc = json.loads(r.stdout)
        check(mc["has_etcd"], f"{name}: metrics_check has etcd figures")
        grpc = {g["method"]: g for g in mc["grpc"]}
        for m, n in (("/etcdserverpb.KV/Put", 30), ("/etcdserverpb.KV/Range", 8),
                     ("/etcdserverpb.KV/DeleteRange", 3)):
            g = grpc.get(m, {})
            check(g.get("handled") == n, f"{name}: {m}: grpc_server_handled_total grew by {n}", str(g))
            check(g.get("cpprof") == n and g.get("verdict") == "agree",
                  f"{name}: {m}: cpprof counted as many, verdict agree", str(g))
        check(grpc.get("/etcdserverpb.KV/Range", {}).get("not_ok") == 1,
              f"{name}: the future-revision range counted as not OK")
        dis = [g for g in mc["grpc"] if g["verdict"] != "agree"]
        check(not dis, f"{name}: every gRPC method agrees", str(dis[:3]))
        fs = mc["fdatasync"]
        print(f"    fdatasync: cpprof {fs['cpprof']}, WAL {mc['wal_fsync']['total']:.0f}, "
              f"commits {mc['backend_commit']['total']:.0f}; p50 {fs['p50_reason']}; p99 {fs['p99_reason']}")
        check(mc["wal_fsync"]["total"] >= 33, f"{name}: WAL syncs of 33 writes seen",
              str(mc["wal_fsync"]["total"]))
        check(fs["count"] == "agree", f"{name}: fdatasync = WAL syncs + 2 x backend commits",
              fs["count_reason"])
        check(fs["p50"] == "agree", f"{name}: fdatasync p50 in or next to the WAL bucket", fs["p50_reason"])
        ep = [x for x in mc["endpoints"] if x["component"] == "etcd"]
        if ep:
            print(f"    CPU: cpprof {ep[0]['cpprof_cpu_ns'] / 1e9:.2f} s, process_cpu_seconds_total "
                  f"+{ep[0]['cpu_seconds']} s")
        check(len(ep) == 1 and ep[0]["cpu"] == "agree", f"{name}: CPU beside process_cpu_seconds_total",
              str(ep and (ep[0]["cpprof_cpu_ns"], ep[0]["cpu_seconds"], ep[0]["cpu_reason"])))
        for x in mc["endpoints"]:
            if x["component"] == "other":
                check(x["ok"] == 0 and sum(x["errors"].values()) == x["scrapes"],
                      f"{name}: metrics_check reports {x['url'][-20:]}'s errors", str(x["errors"]))
        check_report_etcd(name, db, urls)
    finally:
        for s in servers:
            s.close()
        e.stop()


def standin_case():
    """The Go test server (tests/server) as kube-apiserver's stand-in: HTTPS
    with its own certificate, a bearer token required, and an
    apiserver_request_total of its own (verb, resource, subresource, code;
    no scope). cpprof scrapes it through --apiserver, --apiserver-ca and
    --apiserver-token-file; its counts per call kind must equal cpprof's."""
    name = "apiserver stand-in"
    if FILTER and FILTER not in name:
        return
    print(f"{name}:")
    fix = os.environ.get("FIXTURES_DIR", os.path.join(OUT, "fixtures"))
    binary = os.path.join(fix, "testserver-go1.22")
    if not check(os.path.exists(binary), f"{name}: {binary}", "build the fixtures: make fixtures"):
        return
    ca, csv, tok = (os.path.join(TMP, n) for n in ("standin-ca.pem", "tokens.csv", "token"))
    with open(csv, "w") as f:  # the server's --token-auth-file
        f.write("s3cret-token,admin,1\n")
    with open(tok, "w") as f:  # cpprof's: the token alone
        f.write("s3cret-token\n")
    srv = subprocess.Popen([binary, "-listen", "127.0.0.1:0", "-tls", "-write-ca", ca, "-token-file", csv,
                            "-strict-namespaces=false"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        m = re.search(r"(https://\S+)", srv.stdout.readline())
        if not check(m is not None, f"{name}: server up"):
            return
        url = m.group(1)
        db = os.path.join(TMP, "standin.db")
        p, log = itlib.start_record([CPPROF, "record", "--db", db, "--label", "run", "--pid", str(srv.pid),
                                     "--component", "apiserver", "--no-sockets", "--sample-hz", "0",
                                     "--apiserver", url, "--apiserver-ca", ca, "--apiserver-token-file", tok,
                                     "--metrics-interval", "2"], os.path.join(TMP, "standin.log"))
        ctx = ssl.create_default_context(cafile=ca)
        ctx.check_hostname = False

        def call(method, path, body=None):
            req = urllib.request.Request(url + path, method=method, data=body,
                                         headers={"Authorization": "Bearer s3cret-token",
                                                  "Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(req, timeout=10, context=ctx) as r:
                    return r.status
            except urllib.error.HTTPError as e:
                return e.code
        codes = []
        for i in range(10):
            body = json.dumps({"apiVersion": "v1", "kind": "Pod",
                               "metadata": {"name": f"p{i}", "namespace": "ns1"}}).encode()
            codes.append(call("POST", "/api/v1/namespaces/ns1/pods", body))
        codes += [call("GET", f"/api/v1/namespaces/ns1/pods/p{i}") for i in range(10)]
        codes += [call("GET", "/api/v1/namespaces/ns1/pods") for _ in range(5)]
        codes += [call("GET", "/api/v1/pods") for _ in range(2)]
        codes += [call("DELETE", f"/api/v1/namespaces/ns1/pods/p{i}") for i in range(3)]
        codes.append(call("GET", "/api/v1/namespaces/ns1/pods/nope"))
        check(codes.count(201) + codes.count(200) == 30 and codes[-1] == 404,
              f"{name}: 31 calls answered as expected", str(codes))
        time.sleep(2.5)
        rc, out = itlib.stop_record(p, log)
        log.close()
        check(rc == 0, f"{name}: record exits 0", out[-1000:])
        for (msg,) in sql(db, "SELECT DISTINCT message FROM metric_scrapes WHERE message IS NOT NULL"):
            print(f"    scrape error: {msg}")
        scr = sql(db, "SELECT component, count(*), sum(error IS NULL) FROM metric_scrapes GROUP BY 1")
        check(len(scr) == 1 and scr[0][0] == "apiserver" and scr[0][2] >= 3 and scr[0][1] == scr[0][2],
              f"{name}: /metrics scraped with the CA and token, every scrape read", str(scr))
        r = subprocess.run([DRIVER, db, "run"], capture_output=True, text=True)
        if not check(r.returncode == 0, f"{name}: mcheck_driver", r.stderr[-500:]):
            return
        mc = json.loads(r.stdout)
        check(mc["has_apiserver"], f"{name}: metrics_check has apiserver figures")
        calls = {(c["verb"], c["resource"], c["scope"]): c for c in mc["calls"]}
        for key, n in ((("create", "pods", "resource"), 10), (("get", "pods", "resource"), 11),
                       (("list", "pods", "namespace"), 5), (("list", "pods", "cluster"), 2),
                       (("delete", "pods", "resource"), 3)):
            c = calls.get(key, {})
            if key[0] == "list":
                # the stand-in has no scope label: both lists are one series
                ok = c.get("cpprof") == n and c.get("metrics_count_any_scope") == 7
            else:
                ok = c.get("cpprof") == n and c.get("verdict") == "agree"
            check(ok, f"{name}: {key}: cpprof {n}, apiserver_request_total as many", str(c))
        check_report_apiserver(name, db, {("create", "pods", "resource"): 10, ("get", "pods", "resource"): 11,
                                          ("list", "pods", "namespace"): 5, ("list", "pods", "cluster"): 2,
                                          ("delete", "pods", "resource"): 3})
        check_report_cl2(name, db)
        check_report_sli(name, db)
    finally:
        srv.kill()
        srv.wait()


def main():
    if os.geteuid() != 0:
        print("scrape: skipped: needs root (uprobes)")
        print("scrape: 0 passed, 1 failed")
        return 1
    ok, err = itlib.build_driver(OUT, "mcheck_driver.c", DRIVER)
    if not check(ok, "build mcheck_driver", err[-800:]):
        return check.summary("scrape")
    try:
        case("etcd 3.4", itlib.ETCD)
        if os.path.exists(SID_ETCD):
            case("etcd 3.5.30", SID_ETCD, bad=False)
        else:
            check(False, "etcd 3.5.30", f"{SID_ETCD} missing: run make deps")
        standin_case()
        tls = make_tls()
        if tls:
            case("etcd 3.4 tls", itlib.ETCD, tls=tls, bad=False)
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
    return check.summary("scrape")


if __name__ == "__main__":
    sys.exit(main())
