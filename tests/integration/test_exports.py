#!/usr/bin/env python3
"""Integration tests of cpprof's exports, as root: the live Prometheus
endpoint of `cpprof record --listen`, `cpprof report --format pprof` read
by Go's own pprof, `--format perfdata` against a JSON Schema written from
perf-tests' Go types, and the example Grafana dashboard.

One recording of the Go test server (stripped, tagged as the apiserver
with --component apiserver) under lists, gets and creates of pods, with
CPU sampling and --listen on a free loopback port:

- the endpoint listens on 127.0.0.1 only (no host given), answers 404
  off /metrics, and is scraped under load and once the load stopped; each
  scrape is parsed by cpprof's own Prometheus parser (user/k8s/promtext.c,
  through tests/integration/prom_driver.c);
- the histogram has kube-apiserver's bucket bounds, cumulative counts and
  +Inf == _count; the last scrape's counts per call kind equal the stored
  rows, and its latency sums the stored latencies; the CPU counters never
  exceed cpu_profile; the target shows as attached;
- `go tool pprof -raw` of the pprof file sums to the run's cpu_profile
  (samples and nanoseconds), `-tags` lists the labels, `-tagfocus
  verb=list` keeps the list samples, `-top` runs; `-raw` shows net/http
  frames at server.go:LINE, locations of several Lines whose inner Lines
  are frames stored as inlined, `-traces` marks them (inline); a version 1
  file (tests/golden/real.db) still gives a profile, of names only;
- the PerfData validates against tests/schema/perfdata.schema.json, has
  one item per charted call kind, and its Perc99 and Count equal the
  report's p99 and count for every call kind; -o DIRECTORY writes
  APIResponsivenessPrometheus_<label>_<RFC 3339 start>.json;
- every query of tools/deploy/grafana-dashboard.json names only metrics
  the endpoint exposes.

Usage: test_exports.py BUILD_DIR [FILTER]. Ends with "exports: N passed, N failed".
"""
import glob
import gzip
import http.client
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import itlib  # noqa: E402
from itlib import ROOT, Checks, stop_record  # noqa: E402

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
CPPROF = os.path.join(BUILD, "cpprof")
FIX = os.environ.get("FIXTURES_DIR", os.path.join(BUILD, "fixtures"))
TMP = tempfile.mkdtemp(prefix="cpprof-exports.")
LABEL = "exp_live"
NPODS = 60
SECS = 6
# k8s.io/apiserver/pkg/endpoints/metrics/metrics.go (Kubernetes 1.36): apiserver_request_duration_seconds
APISERVER_BUCKETS = [0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2, 3,
                     4, 5, 6, 8, 10, 15, 20, 30, 45, 60]
KEY = ("component", "verb", "resource", "subresource", "scope")

check = Checks()


def go_binary():
    """The newest Go toolchain `make deps` installs (bookworm-backports)."""
    for v in ("1.23", "1.22", "1.21"):
        g = f"/usr/lib/go-{v}/bin/go"
        if os.access(g, os.X_OK):
            return g
    return None


def fixture():
    for name in ("testserver-go1.23-stripped", "testserver-go1.22-stripped", "testserver-go1.21-stripped"):
        p = os.path.join(FIX, name)
        if os.access(p, os.X_OK):
            return p
    return None


def start_server(binary):
    p = subprocess.Popen([binary, "-listen", "127.0.0.1:0"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    line = p.stdout.readline().strip()
    m = re.search(r"https?://([^/\s]+)", line)
    if not m:
        p.kill()
        raise RuntimeError(f"{binary} did not print its address: {line!r}")
    host, port = m.group(1).rsplit(":", 1)
    return p, host, int(port)


def pod(ns, name):
    return json.dumps({"apiVersion": "v1", "kind": "Pod",
                       "metadata": {"name": name, "namespace": ns, "labels": {"app": "x"}},
                       "spec": {"containers": [{"name": "c", "image": "registry.k8s.io/pause:3.9"}]}})


def drive(host, port, worker, secs, errors):
    c = http.client.HTTPConnection(host, port, timeout=30)
    end, i = time.time() + secs, 0
    while time.time() < end:
        for method, path, body in (
                ("GET", "/api/v1/namespaces/default/pods", None),
                ("GET", f"/api/v1/namespaces/default/pods/p-{i % NPODS:04d}", None),
                ("POST", "/api/v1/namespaces/default/pods", pod("default", f"w{worker}-{i:06d}"))):
            c.request(method, path, body=body, headers={"Content-Type": "application/json"})
            r = c.getresponse()
            r.read()
            if r.status >= 300:
                errors.append((method, path, r.status))
        i += 1
    c.close()


def scrape(port, path="/metrics"):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("GET", path)
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, r.getheader("Content-Type", ""), body


def parse(driver, body, name):
    """Samples of BODY as cpprof's promtext parses them: [(name, labels, value)]."""
    path = os.path.join(TMP, name)
    with open(path, "wb") as f:
        f.write(body)
    r = subprocess.run([driver, path], capture_output=True, text=True)
    if r.returncode:
        raise RuntimeError(f"prom_driver: {r.stderr.strip()}")
    out = []
    for line in r.stdout.splitlines():
        d = json.loads(line)
        out.append((d["name"], d["labels"], d["value"]))
    return out


def counts_of(samples):
    return {tuple(lb[k] for k in KEY): v for n, lb, v in samples
            if n == "cpprof_request_duration_seconds_count"}


def listens_on_loopback_only(port):
    """From /proc/net/tcp{,6}: the LISTEN sockets of PORT and their local addresses."""
    addrs = []
    for f in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = open(f).read().splitlines()[1:]
        except OSError:
            continue
        for ln in lines:
            parts = ln.split()
            ip, p = parts[1].split(":")
            if int(p, 16) == port and parts[3] == "0A":
                addrs.append(ip)
    return addrs


def check_histogram(samples):
    """Per series: le bounds are the apiserver's, counts cumulative, +Inf == _count."""
    series = {}
    for n, lb, v in samples:
        if n == "cpprof_request_duration_seconds_bucket":
            key = tuple(lb[k] for k in KEY)
            series.setdefault(key, []).append((lb["le"], v))
    counts = counts_of(samples)
    ok, why = bool(series), "no histogram series"
    for key, bs in series.items():
        les = [le for le, _ in bs]
        finite = [float(le) for le in les if le != "+Inf"]
        vals = [v for _, v in bs]
        if finite != APISERVER_BUCKETS or les[-1] != "+Inf":
            ok, why = False, f"{key}: bounds {les}"
        elif any(b > a for a, b in zip(vals[1:], vals[:-1])):
            ok, why = False, f"{key}: not cumulative {vals}"
        elif vals[-1] != counts.get(key):
            ok, why = False, f"{key}: +Inf {vals[-1]} != count {counts.get(key)}"
    return ok, why


def pprof_raw_totals(gobin, path, *extra):
    r = subprocess.run([gobin, "tool", "pprof", "-raw", *extra, path], capture_output=True, text=True,
                       env=dict(os.environ, HOME=TMP, PPROF_TMPDIR=TMP))
    samples = ns = 0
    in_samples = False
    for line in r.stdout.splitlines():
        if line.startswith("Samples:"):
            in_samples = True
            continue
        if line.startswith("Locations") or line.startswith("Mappings"):
            in_samples = False
        m = re.match(r"^\s+(\d+)\s+(\d+):", line) if in_samples else None
        if m:
            samples += int(m.group(1))
            ns += int(m.group(2))
    return r.returncode, samples, ns, r.stderr


def metric_verb(verb, subresource, scope):
    """apiserver metric's key of cpprof's call (metrics_check.h mc_key, metrics.go CleanVerb)."""
    if subresource in ("log", "exec", "portforward", "attach", "proxy"):
        return "CONNECT", scope
    if verb == "create":
        return "POST", "resource"
    return {"update": "PUT"}.get(verb, verb.upper()), scope


def perfdata_checks(db, run):
    import jsonschema
    schema = json.load(open(os.path.join(ROOT, "tests", "schema", "perfdata.schema.json")))
    r = subprocess.run([CPPROF, "report", db, "--label", LABEL, "--format", "perfdata"],
                       capture_output=True, text=True)
    check(r.returncode == 0, "perfdata: report --format perfdata exits 0", r.stderr)
    try:
        pd = json.loads(r.stdout)
    except ValueError as e:
        check(False, "perfdata: output is JSON", str(e))
        return
    try:
        jsonschema.validators.validator_for(schema)(schema).validate(pd)
        check(True, "perfdata: validates against tests/schema/perfdata.schema.json")
    except jsonschema.ValidationError as e:
        check(False, "perfdata: validates against tests/schema/perfdata.schema.json", e.message)
    rep = json.loads(subprocess.run([CPPROF, "report", db, "--label", LABEL, "--format", "json"],
                                    capture_output=True, text=True).stdout)
    calls = [c for c in rep["runs"][0]["calls"]
             if c["component"] == "apiserver" and not c["path"] and c["verb"] != "watch"]
    items = {}
    for it in pd.get("dataItems", []):
        lb = it["labels"]
        items[(lb["Verb"], lb["Resource"], lb["Subresource"], lb["Scope"])] = it
    check(len(items) == len(pd.get("dataItems", [])) == len(calls) and len(calls) >= 3,
          f"perfdata: one item per call kind ({len(calls)} call kinds, {len(items)} items)")
    bad = []
    for c in calls:
        v, s = metric_verb(c["verb"], c["subresource"], c["scope"])
        it = items.get((v, c["resource"], c["subresource"], s))
        if (not it or round(it["data"]["Perc99"] * 1e6) != c["p99_ns"] or
                round(it["data"]["Perc50"] * 1e6) != c["p50_ns"] or it["labels"]["Count"] != str(c["count"])):
            bad.append((c["verb"], c["resource"], c["p99_ns"], it))
    check(not bad and calls, "perfdata: Perc99 (and Perc50, Count) equal the report's p99 for every call kind",
          str(bad[:2]))
    post = [k for k in items if k[0] == "POST"]
    check(post and all(k[3] == "resource" for k in post),
          "perfdata: creates are POST with scope resource, as the apiserver's metric has them", str(post))

    out = os.path.join(TMP, "results")
    os.makedirs(out, exist_ok=True)
    r = subprocess.run([CPPROF, "report", db, "--format", "perfdata", "-o", out],
                       capture_output=True, text=True)
    files = sorted(os.listdir(out))
    want = re.compile(r"^APIResponsivenessPrometheus_exp-live_\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\.json$")
    check(r.returncode == 0 and len(files) == 1 and want.match(files[0]),
          "perfdata: -o DIR writes APIResponsivenessPrometheus_<label>_<RFC 3339>.json per run",
          f"{files} {r.stderr}")
    if files:
        check(json.load(open(os.path.join(out, files[0]))) == pd and r.stdout.strip() == os.path.join(out, files[0]),
              "perfdata: the file holds the same PerfData, and its path is printed")


def pprof_locations(gobin, path):
    """Locations of `go tool pprof -raw`: {id: [(function, file, line), ...]}, innermost first
    (profile.go Location.string: the first Line after "ID: 0xADDR M=N ", the rest indented)."""
    r = subprocess.run([gobin, "tool", "pprof", "-raw", path], capture_output=True, text=True,
                       env=dict(os.environ, HOME=TMP, PPROF_TMPDIR=TMP))
    locs, cur, inside = {}, None, False
    for line in r.stdout.splitlines():
        if line.startswith("Locations"):
            inside = True
            continue
        if line.startswith("Mappings"):
            break
        if not inside:
            continue
        m = re.match(r"^\s*(\d+): 0x[0-9a-f]+ (?:M=\d+ )?(.*)$", line)
        if m:
            cur = locs.setdefault(int(m.group(1)), [])
            rest = m.group(2)
        elif cur is not None and line.startswith(" " * 13):
            rest = line.strip()
        else:
            continue
        f = re.match(r"^(\S+) (\S*?):(\d+)(?::\d+)? s=", rest)  # Go 1.23: FILE:LINE:COLUMN
        if f:
            cur.append((f.group(1), f.group(2), int(f.group(3))))
    return r.returncode, locs, r.stderr


def pprof_line_checks(gobin, db, out):
    """Issue 17: functions with file:line from the symbolizer, inlined frames as Lines."""
    con = sqlite3.connect(db)
    go_rows, inl_rows = con.execute(
        "SELECT count(*) FILTER (WHERE file LIKE '%.go' AND line > 0), "
        "count(*) FILTER (WHERE inlined = 1 AND line > 0) FROM cpu_functions").fetchone()
    # what positions cost: stacks of frame ids against the folded stacks they spell
    nids, nfolded = con.execute("SELECT (SELECT count(*) FROM cpu_stack_ids), "
                                "(SELECT count(DISTINCT stack) FROM cpu_stacks)").fetchone()
    con.close()
    check(go_rows > 0 and inl_rows > 0,
          f"pprof: cpu_functions keeps file:line ({go_rows} frames in .go files, {inl_rows} inlined; "
          f"{nids} stacks of frame ids for {nfolded} folded stacks)")
    rc, locs, err = pprof_locations(gobin, out)
    lines = [ln for ls in locs.values() for ln in ls]
    served = [ln for ln in lines if ln[0].startswith("net/http.") and ln[1].endswith("/net/http/server.go")
              and ln[2] > 0]
    check(rc == 0 and served,
          f"pprof: -raw shows file:line of the test server's Go frames ({len(lines)} lines in "
          f"{len(locs)} locations; e.g. {served[:1]})", err[-300:])
    multi = [ls for ls in locs.values() if len(ls) > 1]
    # every Line of such a Location has a position (Go's wrappers: "<autogenerated>":1)
    whole = [ls for ls in multi if all(f and n > 0 for _, f, n in ls)]
    con = sqlite3.connect(db)
    inl = set(con.execute("SELECT name, file, line FROM cpu_functions WHERE inlined = 1"))
    con.close()
    # the Lines before a Location's last are the frames the symbolizer found inlined
    stray = [ls for ls in multi if not all(ln in inl for ln in ls[:-1])]
    check(multi and not stray, f"pprof: every inlined Line is a stored inlined frame (not so: {stray[:2]})")
    check(multi and len(whole) == len(multi),
          f"pprof: inlined frames are Lines of their caller's Location ({len(multi)} locations of "
          f"several lines, e.g. {multi[:1]}; without file:line {[x for x in multi if x not in whole][:2]})")
    r = subprocess.run([gobin, "tool", "pprof", "-traces", out], capture_output=True, text=True,
                       env=dict(os.environ, HOME=TMP, PPROF_TMPDIR=TMP))
    check(r.returncode == 0 and "(inline)" in r.stdout and
          re.search(r"net/http\.\(\*conn\)\.serve$", r.stdout, re.M),
          "pprof: -traces marks inlined frames (inline)", r.stderr[-300:])


def pprof_v1_checks(gobin):
    """A version 1 file (tests/golden/real.db, names only) still gives a profile, without file:line."""
    v1 = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "golden", "real.db")
    out = os.path.join(TMP, "v1.pb.gz")
    r = subprocess.run([CPPROF, "report", v1, "--label", "json", "--format", "pprof", "-o", out],
                       capture_output=True, text=True)
    con = sqlite3.connect(f"file:{v1}?mode=ro", uri=True)
    want = con.execute("SELECT sum(s.samples), sum(s.cpu_ns) FROM cpu_stacks s JOIN runs r "
                       "ON r.id = s.run_id WHERE r.label = 'json'").fetchone()
    con.close()
    rc, s, ns, err = pprof_raw_totals(gobin, out) if r.returncode == 0 else (1, 0, 0, r.stderr)
    m = subprocess.run([gobin, "tool", "pprof", "-raw", out], capture_output=True, text=True,
                       env=dict(os.environ, HOME=TMP, PPROF_TMPDIR=TMP)).stdout
    flags = re.findall(r"^1: \S+ cpprof\s+(\S*)$", m, re.M)
    check(rc == 0 and (s, ns) == want and flags == ["[FN]"],
          f"pprof: a version 1 file reports names only ({s} samples, {ns} ns of {want}; mapping {flags})",
          err[-300:])


def pprof_checks(db, run_id):
    gobin = go_binary()
    if not check(gobin is not None, "pprof: a Go toolchain of make deps is installed (/usr/lib/go-1.2x)"):
        return
    out = os.path.join(TMP, "cpu.pb.gz")
    r = subprocess.run([CPPROF, "report", db, "--label", LABEL, "--format", "pprof", "-o", out],
                       capture_output=True, text=True)
    check(r.returncode == 0 and open(out, "rb").read(2) == b"\x1f\x8b",
          "pprof: report --format pprof writes a gzip file", r.stderr)
    try:
        gzip.open(out).read()
        check(True, "pprof: the gzip stream is whole")
    except OSError as e:
        check(False, "pprof: the gzip stream is whole", str(e))
    con = sqlite3.connect(db)
    want_s, want_ns = con.execute("SELECT sum(samples), sum(cpu_ns) FROM cpu_profile WHERE run_id = ?",
                                  (run_id,)).fetchone()
    list_ns = con.execute("SELECT ifnull(sum(cpu_ns), 0) FROM cpu_profile WHERE run_id = ? AND verb = 'list'",
                          (run_id,)).fetchone()[0]
    con.close()
    rc, s, ns, err = pprof_raw_totals(gobin, out)
    check(rc == 0 and want_s and s == want_s and ns == want_ns,
          f"pprof: go tool pprof -raw totals equal cpu_profile ({s} samples, {ns} ns; stored {want_s}, {want_ns})",
          err[-300:])
    rc, s, ns, err = pprof_raw_totals(gobin, out, "-tagfocus", "verb=list")
    check(rc == 0 and ns == list_ns and list_ns > 0,
          f"pprof: -tagfocus verb=list keeps the list samples ({ns} ns; cpu_profile {list_ns})", err[-300:])
    pprof_line_checks(gobin, db, out)
    pprof_v1_checks(gobin)
    r = subprocess.run([gobin, "tool", "pprof", "-tags", out], capture_output=True, text=True,
                       env=dict(os.environ, HOME=TMP))
    tags = set(re.findall(r"^\s*(\w+): Total", r.stdout, re.M))
    check(r.returncode == 0 and {"component", "category", "verb", "resource", "scope"} <= tags and
          "apiserver" in r.stdout, f"pprof: -tags lists the labels ({sorted(tags)})", r.stderr[-300:])
    r = subprocess.run([gobin, "tool", "pprof", "-top", out], capture_output=True, text=True,
                       env=dict(os.environ, HOME=TMP))
    check(r.returncode == 0 and "flat%" in r.stdout and re.search(r"runtime\.|net/http\.", r.stdout),
          "pprof: go tool pprof -top names Go functions", r.stderr[-300:])
    r = subprocess.run([CPPROF, "report", db, "--label", LABEL, "--format", "pprof", "--component", "etcd",
                        "-o", os.path.join(TMP, "none.pb.gz")], capture_output=True, text=True)
    check(r.returncode == 1 and "no CPU samples of component 'etcd'" in r.stderr and
          not os.path.exists(os.path.join(TMP, "none.pb.gz")),
          "pprof: --component selects as for folded (none of etcd: one line, exit 1, no file)", r.stderr)


def dashboard_checks(exposed):
    path = os.path.join(ROOT, "tools", "deploy", "grafana-dashboard.json")
    try:
        dash = json.load(open(path))
    except (OSError, ValueError) as e:
        check(False, "grafana: the dashboard parses", str(e))
        return
    exprs = [(p.get("title"), t.get("expr", "")) for p in dash.get("panels", []) for t in p.get("targets", [])]
    check(len(exprs) >= 8 and all(e for _, e in exprs), f"grafana: {len(exprs)} panel queries")
    bad = []
    for title, e in exprs:
        # metric names: cpprof_* anywhere, and any name right before a selector or a range
        stripped = re.sub(r'"[^"]*"', '""', e)
        names = set(re.findall(r"\bcpprof_[a-zA-Z0-9_]+", stripped))
        names |= {n for n in re.findall(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\s*[{\[]", stripped)
                  if n not in ("by", "without", "on", "ignoring", "group_left", "group_right")}
        if not names or names - exposed or stripped.count("(") != stripped.count(")"):
            bad.append((title, sorted(names - exposed)))
    check(not bad, "grafana: every panel's PromQL names only metrics the endpoint exposes", str(bad))


def main():
    binary = fixture()
    if not check(binary is not None, f"a stripped Go test server fixture in {FIX}"):
        return
    driver = os.path.join(TMP, "prom_driver")
    ok, err = itlib.build_driver(BUILD, "prom_driver.c", driver)
    if not check(ok, "prom_driver builds against cpprof's promtext", err[-400:]):
        return
    db = os.path.join(TMP, "exports.db")
    srv, host, port = start_server(binary)
    rec = None
    try:
        errors = []
        c = http.client.HTTPConnection(host, port, timeout=10)
        for i in range(NPODS):
            c.request("POST", "/api/v1/namespaces/default/pods", body=pod("default", f"p-{i:04d}"),
                      headers={"Content-Type": "application/json"})
            c.getresponse().read()
        c.close()

        # a --listen that cannot be used fails the run with one line
        r = subprocess.run([CPPROF, "record", "--db", os.path.join(TMP, "bad.db"), "--pid", str(srv.pid),
                            "--listen", "localhost:notaport", "--duration", "1", "--sample-hz", "0"],
                           capture_output=True, text=True, timeout=60)
        check(r.returncode != 0 and "invalid --listen 'localhost:notaport'" in r.stderr,
              "record: a bad --listen fails with one line naming it", r.stderr[-300:])

        rec, log = itlib.start_record([CPPROF, "record", "--db", db, "--label", LABEL, "--pid", str(srv.pid),
                                       "--component", "apiserver", "--no-syscalls", "--no-sockets",
                                       "--sample-hz", "499", "--listen", ":0"],
                                      os.path.join(TMP, "record.log"))
        log.seek(0)
        m = re.search(r"serving metrics on port (\d+)", log.read())
        if not check(m is not None, "record: says which port it serves metrics on"):
            return
        mport = int(m.group(1))
        addrs = listens_on_loopback_only(mport)
        check(addrs == ["0100007F"], f"endpoint: ':PORT' listens on 127.0.0.1 only ({addrs})")

        ts = [threading.Thread(target=drive, args=(host, port, w, SECS, errors)) for w in range(2)]
        for t in ts:
            t.start()
        time.sleep(SECS / 2)
        st, ctype, body = scrape(mport)
        check(st == 200 and ctype.startswith("text/plain; version=0.0.4"),
              f"endpoint: GET /metrics under load answers 200 text/plain 0.0.4 ({st}, {ctype})")
        live = parse(driver, body, "live.prom")
        check(sum(counts_of(live).values()) > 0, "endpoint: calls counted while recording "
              f"({int(sum(counts_of(live).values()))} so far)")
        ok, why = check_histogram(live)
        check(ok, "endpoint: histogram with the apiserver's bucket bounds, cumulative, +Inf == _count", why)
        att = [(lb, v) for n, lb, v in live if n == "cpprof_target_attached"]
        check(att == [({"pid": str(srv.pid), "component": "apiserver"}, 1)],
              "endpoint: the target shows as attached", str(att))
        st404, _, _ = scrape(mport, "/debug")
        check(st404 == 404, f"endpoint: 404 off /metrics ({st404})")
        for t in ts:
            t.join()
        check(not errors, "load: every call answered 2xx", str(errors[:3]))
        time.sleep(2.5)  # the ring buffer drained, and a counters update (once a second) done
        st, _, body = scrape(mport)
        last = parse(driver, body, "last.prom")
        rc, text = stop_record(rec, log)
        rec = None
        check(rc == 0, "record: exits 0", text[-400:])

        con = sqlite3.connect(db)
        run_id = con.execute("SELECT id FROM runs WHERE label = ?", (LABEL,)).fetchone()[0]
        rows = {tuple(r[:5]): r[5] for r in con.execute(
            "SELECT component, verb, resource, subresource, scope, count(*) FROM requests "
            "WHERE run_id = ? GROUP BY 1, 2, 3, 4, 5", (run_id,))}
        lat = con.execute("SELECT sum(latency_ns) FROM requests WHERE run_id = ?", (run_id,)).fetchone()[0]
        cpu_samples = con.execute("SELECT sum(samples) FROM cpu_profile WHERE run_id = ?",
                                  (run_id,)).fetchone()[0] or 0
        lost, unmatched = con.execute("SELECT lost_events, unmatched FROM runs WHERE id = ?",
                                      (run_id,)).fetchone()
        con.close()
        scraped = counts_of(last)
        check(scraped == rows and len(rows) >= 3,
              f"endpoint: the last scrape's counts per call kind equal the stored rows ({len(rows)} kinds, "
              f"{sum(rows.values())} calls)", f"scraped {scraped} stored {rows}")
        ssum = sum(v for n, _, v in last if n == "cpprof_request_duration_seconds_sum")
        check(lat and abs(ssum - lat / 1e9) <= 1e-6 * len(rows) + 1e-9 * lat / 1e9,
              f"endpoint: latency sums equal the stored latencies ({ssum:.6f} s vs {lat / 1e9:.6f} s)")
        cpu = [(lb, v) for n, lb, v in last if n == "cpprof_cpu_samples_total"]
        ser = sum(v for lb, v in cpu if lb["verb"])
        check(cpu and 0 < sum(v for _, v in cpu) <= cpu_samples and ser > 0,
              f"endpoint: CPU counters by category and call kind ({int(sum(v for _, v in cpu))} samples, "
              f"{int(ser)} tied to calls; stored {cpu_samples})")
        one = {n: v for n, lb, v in last if not lb}
        check(one.get("cpprof_events_lost_total", -1) <= (lost or 0) and
              one.get("cpprof_events_unmatched_total", -1) <= (unmatched or 0) and
              "cpprof_cpu_samples_lost_total" in one,
              f"endpoint: drops and unmatched events, at most what the run stored ({one})")
        exposed = set()
        for line in body.decode().splitlines():
            mt = re.match(r"# TYPE (\S+) (\S+)", line)
            if mt:
                exposed.add(mt.group(1))
                if mt.group(2) == "histogram":
                    exposed |= {mt.group(1) + s for s in ("_bucket", "_sum", "_count")}
        dashboard_checks(exposed)
        pprof_checks(db, run_id)
        perfdata_checks(db, run_id)
    finally:
        if rec is not None:
            rec.kill()
            rec.wait()
        srv.kill()
        srv.wait()


if __name__ == "__main__":
    try:
        main()
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
    sys.exit(check.summary("exports"))
