#!/usr/bin/env python3
"""Integration tests of cpprof's Go HTTP tracing, as root, with real BPF.

For every Go test server build of the manifest (each toolchain 1.19-1.27,
stripped and not, cgo with external linking and not) over HTTP/1.1 or
HTTP/2 with TLS (both for the stripped build of each release; see
protocols()): start
the server with per-resource delays, record it with `cpprof record --pid`,
send the known request mix with the test client, stop cpprof, and check the
SQLite file against what the client did: exactly as many requests of each
verb, resource, namespace and status; no losses; each latency at least the
server's configured delay and at most the client-observed latency; the
server still alive and answering.

Then the bad inputs a user meets: not root, a pid that is gone, a target
that exits mid-recording, non-Go and corrupted binaries, a Go version the offsets
table does not know (proven from its code; refused when nothing proves a
field), label clashes, usage errors.

Usage: test_http.py BUILD_DIR [FILTER]   (FILTER: substring of case names)
Prints one line per check and ends with "http: N passed, N failed".
"""
import collections
import glob
import json
import os
import re
import shutil
import sqlite3
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import itlib  # noqa: E402
from itlib import Etcd, stop_record  # noqa: E402

OUT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
FILTER = sys.argv[2] if len(sys.argv) > 2 else ""
CPPROF = os.path.join(OUT, "cpprof")
FIX = os.environ.get("FIXTURES_DIR", os.path.join(OUT, "fixtures"))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MIX = os.path.join(ROOT, "tests", "client", "mixes", "basic.mix")
# Server-side delays per resource, applied in the handler's child goroutine.
DELAYS_MS = {"pods": 15, "configmaps": 5, "deployments": 8}
DELAY_FLAG = ",".join(f"{k}={v}ms" for k, v in DELAYS_MS.items())

check = itlib.Checks()
TMP = tempfile.mkdtemp(prefix="cpprof-it.")


# ---- an independent oracle for the mix's request forms --------------------

def classify(method, path, query):
    """verb, resource, subresource, namespace of a request of the mix.

    Deliberately simple and separate from user/k8s/k8s_reqinfo.c: the test must
    not trust the code it tests."""
    q = dict(kv.split("=", 1) if "=" in kv else (kv, "") for kv in query.split("&") if kv)
    parts = [p for p in path.strip("/").split("/") if p]
    if not parts or parts[0] not in ("api", "apis"):
        return method.lower(), "", "", ""
    parts = parts[2:] if parts[0] == "api" else parts[3:]
    if not parts:
        return method.lower(), "", "", ""
    watch_prefix = parts[0] == "watch"
    if watch_prefix:
        parts = parts[1:]
    ns = ""
    if parts[0] == "namespaces" and len(parts) >= 3:
        ns, parts = parts[1], parts[2:]
    resource = parts[0]
    name = parts[1] if len(parts) > 1 else ""
    sub = parts[2] if len(parts) > 2 else ""
    if resource == "namespaces" and len(parts) >= 2 and ns == "":
        ns = name
    verb = {"GET": "get", "HEAD": "get", "POST": "create", "PUT": "update",
            "PATCH": "patch", "DELETE": "delete"}.get(method, method.lower())
    if watch_prefix or q.get("watch") in ("true", "1"):
        verb = "watch"
    elif not name and verb == "get":
        verb = "list"
    elif not name and verb == "delete":
        verb = "deletecollection"
    return verb, resource, sub, ns


# ---- processes ------------------------------------------------------------

def start_server(binary, tls):
    args = [binary, "-listen", "127.0.0.1:0", "-delay", DELAY_FLAG]
    if tls:
        args.append("-tls")
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = p.stdout.readline().strip()
    m = re.search(r"(https?://\S+)", line)
    if not m:
        p.kill()
        raise RuntimeError(f"{binary} did not print its address: {line!r} {p.stderr.read()}")
    return p, m.group(1)


def start_record(db, label, pid, extra=()):
    return itlib.start_record([CPPROF, "record", "--db", db, "--label", label, "--pid", str(pid), *extra],
                              os.path.join(TMP, f"{label}.log"))


def alive(url):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    try:
        with urllib.request.urlopen(url + "/healthz", timeout=5, context=ctx) as r:
            return r.status == 200
    except Exception:
        return False


def run_client(url, h2):
    args = [os.path.join(FIX, "client"), "-url", url, "-mix", MIX, "-concurrency", "1"]
    if url.startswith("https"):
        args.append("-insecure")
    if h2:
        args.append("-http2")
    r = subprocess.run(args, capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        raise RuntimeError(f"client failed ({r.returncode}): {r.stderr[-2000:]}")
    rows = []
    for line in r.stdout.splitlines():
        f = line.split("\t")
        if len(f) < 6:
            continue
        rows.append({"method": f[0], "path": f[1], "query": f[2], "status": int(f[3]),
                     "proto": f[4], "latency": int(f[5])})
    return rows


def cpprof(*args, user=None):
    cmd = [CPPROF, *args]
    if user:
        cmd = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *cmd]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60)


HTTP_PROGS = ("serve_http", "write_header", "finish_h1", "finish_h2")


def prog_runs(pid):
    """run_cnt of each go_http BPF program the process PID holds (itlib.prog_stats:
    its fds' /proc fdinfo, while kernel.bpf_stats_enabled is on)."""
    runs = collections.Counter()
    for name, (_, cnt) in itlib.prog_stats(pid).items():
        if name in HTTP_PROGS:
            runs[name] += cnt
    return runs


def inspect_json(binary):
    r = cpprof("inspect", "--format", "json", binary)
    return json.loads(r.stdout) if r.returncode == 0 else {}


# ---- the matrix -------------------------------------------------------------

def fixtures():
    with open(os.path.join(FIX, "manifest.tsv")) as f:
        rows = [l.rstrip("\n").split("\t") for l in f if l.strip()]
    return [dict(zip(rows[0], r)) for r in rows[1:]]


def protocols(fx):
    """Which protocols a fixture is traced over. Every Go toolchain has
    four fixtures; tracing each over both protocols would take 8 cases per
    release (about 12 s each), so: the plain stripped one (table offsets,
    as kube-apiserver ships) gets HTTP/1.1 and HTTP/2, each of the others
    one protocol, both covered across them (unstripped and cgo-stripped
    HTTP/1.1, cgo HTTP/2). CPPROF_IT_ALL=1 traces every fixture over both."""
    if os.environ.get("CPPROF_IT_ALL") or (fx["stripped"] == "1" and fx["cgo"] == "0"):
        return (False, True)
    if fx["cgo"] == "1" and fx["stripped"] == "0":
        return (True,)
    return (False,)


def traced_case(fx, h2):
    name = f"{fx['file']} {'HTTP/2+TLS' if h2 else 'HTTP/1.1'}"
    if FILTER and FILTER not in name:
        return
    print(f"-- {name}")
    binary = os.path.join(FIX, fx["file"])
    db = os.path.join(TMP, f"{fx['file']}-{'h2' if h2 else 'h1'}.db")
    srv, url = start_server(binary, tls=h2)
    rec = None
    try:
        rec, log = start_record(db, "it", srv.pid)
        rows = run_client(url, h2)
        time.sleep(0.3)
        runs = prog_runs(rec.pid)
        stats_on = open("/proc/sys/kernel/bpf_stats_enabled").read().strip() == "1"
        rc, text = stop_record(rec, log)
        rec = None
        check(rc == 0, f"{name}: cpprof record exits 0", text[-500:])
        check(alive(url), f"{name}: traced server alive and answering after recording")
        check(srv.poll() is None, f"{name}: traced server process still running")
    finally:
        if rec:
            rec.kill()
        srv.terminate()
        srv.wait(timeout=10)

    con = sqlite3.connect(db)
    run = con.execute("SELECT lost_events, unmatched, ended_ns, requests FROM runs WHERE label='it'").fetchone()
    check(run is not None and run[2] is not None, f"{name}: run saved with its end time")
    if run is None:
        return
    check(run[0] == 0, f"{name}: no lost events", str(run[0]))
    check(run[1] == 0, f"{name}: no unmatched requests", str(run[1]))
    db_rows = con.execute("""SELECT verb, resource, subresource, namespace, status, latency_ns,
                                    protocol FROM requests ORDER BY start_ns""").fetchall()
    check(len(db_rows) == len(rows), f"{name}: {len(rows)} requests sent, {len(db_rows)} stored")
    want = collections.Counter()
    for r in rows:
        v, res, sub, ns = classify(r["method"], r["path"], r["query"])
        want[(v, res, sub, ns, r["status"])] += 1
    got = collections.Counter((v, res, sub, ns, st) for v, res, sub, ns, st, _, _ in db_rows)
    diff = {k: (want[k], got[k]) for k in set(want) | set(got) if want[k] != got[k]}
    check(not diff, f"{name}: counts per verb, resource, subresource, namespace and status match "
          f"({len(want)} kinds, {len({k[0] for k in want})} verbs, {len({k[1] for k in want if k[1]})} resources, "
          f"{len({k[3] for k in want if k[3]})} namespaces, {len({k[4] for k in want})} statuses)",
          f"(want, got) {diff}")
    # ?watch=true is read from url.URL.RawQuery, whose offset Go 1.26 moved
    wl = {v: sum(n for k, n in want.items() if k[0] == v) for v in ("watch", "list")}
    gl = {v: sum(n for k, n in got.items() if k[0] == v) for v in ("watch", "list")}
    check(wl == gl and wl["watch"] > 0 and wl["list"] > 0,
          f"{name}: watch ({wl['watch']}) and list ({wl['list']}) told apart exactly", f"want {wl} got {gl}")
    # Requests are sequential: the i-th stored start is the i-th request sent.
    bad_lat, bad_delay, bad_proto = [], [], []
    for r, d in zip(rows, db_rows):
        v, res, sub, ns = classify(r["method"], r["path"], r["query"])
        if d[5] > r["latency"]:
            bad_lat.append((r["method"], r["path"], d[5], r["latency"]))
        delay = DELAYS_MS.get(res, 0) * 1_000_000
        # the server delays resource calls it answers in a handler (not 404s of unknown routes)
        if v not in ("watch",) and res and d[5] < delay:
            bad_delay.append((r["method"], r["path"], d[5], delay))
        want_proto = "HTTP/2" if h2 else "HTTP/1.1"
        if d[6] != want_proto:
            bad_proto.append(d[6])
    check(not bad_lat, f"{name}: every latency <= client-observed latency", str(bad_lat[:5]))
    check(not bad_delay, f"{name}: every latency >= the server's configured delay", str(bad_delay[:5]))
    check(not bad_proto, f"{name}: protocol recorded as {'HTTP/2' if h2 else 'HTTP/1.1'}", str(bad_proto[:5]))
    con.close()
    # Two probe hits per request: the start and the end, which reads the status
    # from the writer (no WriteHeader probe). A probe on the stack-check jump
    # may run again when the prologue grows the stack: only those may add hits.
    plan = inspect_json(binary)
    probes = plan.get("probes", [])
    kinds = collections.Counter(p["kind"] for p in probes)
    ends = [p for p in probes if p["kind"] in ("finish_h1", "finish_h2")]
    check(kinds["write_header"] == 0 and len(ends) >= 2 and all(p["status"]["proven"] for p in ends),
          f"{name}: inspect: status read by the end probes, no WriteHeader probe",
          json.dumps([p.get("status") for p in ends]))
    check(stats_on, f"{name}: kernel.bpf_stats_enabled stayed on while recording (another test turned it off?)")
    n = len(rows)
    end = runs["finish_h1"] + runs["finish_h2"]
    twice = {p["kind"] for p in probes if p["placement"] != "after_stack_check"}
    exact = not twice & {"serve", "finish_h1", "finish_h2"}
    ok = runs["write_header"] == 0 and (runs["serve_http"] == n and end == n if exact else
                                       n <= runs["serve_http"] <= n * 1.1 and n <= end <= n * 1.1)
    check(ok, f"{name}: {'exactly ' if exact else ''}two probe hits per request "
          f"({runs['serve_http']} starts, {end} ends, {runs['write_header']} WriteHeader for {n} requests)",
          f"{dict(runs)}; placements {[(p['kind'], p['placement']) for p in probes]}")


# ---- statuses read from the writer at the end ----------------------------------

STATUS_SRC = os.path.join(ROOT, "tests", "integration", "status_server.go")
# path -> the status the client sees and cpprof must store (None: no row)
STATUS_WANT = {"/nowrite": 200, "/body": 200, "/created": 201, "/notfound": 404, "/early": 202,
               "/child500": 500, "/twice": 409, "/abort": None}


def toolchains():
    """Every Go toolchain tests/fixtures/build.sh builds with, by version."""
    gos = glob.glob("/usr/lib/go-1.*/bin/go") + glob.glob("/var/cache/cpprof/go-1.*/usr/lib/go-1.*/bin/go")
    return sorted(gos, key=lambda g: int(re.search(r"go-1\.(\d+)", g).group(1)))


def build_status_servers():
    """tests/integration/status_server.go built with each toolchain (stripped,
    as a release build is), two builds at a time; {version: binary}."""
    out = os.path.join(OUT, "status-server")
    os.makedirs(out, exist_ok=True)
    # the fixtures' build cache has the standard library of every toolchain compiled (make fixtures)
    cache = os.path.join(FIX, ".gocache")
    if not (os.path.realpath(FIX) == os.path.realpath(os.path.join(OUT, "fixtures")) and os.path.isdir(cache)):
        cache = os.path.join(out, ".gocache")
    env = dict(os.environ, GOCACHE=cache, GOPATH=os.path.join(out, ".gopath"),
               GOTOOLCHAIN="local", GOFLAGS="", GO111MODULE="off", GOPROXY="off", CGO_ENABLED="0")
    bins, procs = {}, []
    for go in toolchains():
        ver = "go1." + re.search(r"go-1\.(\d+)", go).group(1)
        b = os.path.join(out, f"status-server-{ver}")
        bins[ver] = b
        if os.path.exists(b) and os.path.getmtime(b) >= os.path.getmtime(STATUS_SRC):
            continue
        procs.append((ver, subprocess.Popen([go, "build", "-ldflags=-s -w", "-o", b, STATUS_SRC], env=env,
                                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)))
        if len(procs) >= 2:
            ver0, p0 = procs.pop(0)
            check(p0.wait() == 0, f"status_server builds with {ver0}", p0.stdout.read()[-1000:])
    for ver0, p0 in procs:
        check(p0.wait() == 0, f"status_server builds with {ver0}", p0.stdout.read()[-1000:])
    return {v: b for v, b in bins.items() if os.path.exists(b)}


def status_case(ver, binary, h2, cert):
    """Each way of setting the status, recorded with two probes a request:
    the stored status equals what the client got, also 200 for a handler that
    never writes (the end method sends it) and 500 written by a child goroutine."""
    name = f"status {ver} {'HTTP/2+TLS' if h2 else 'HTTP/1.1'}"
    args = [binary] + (["-tls", cert] if h2 else [])
    srv = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    url = re.search(r"(https?://\S+)", srv.stdout.readline()).group(1)
    db = os.path.join(TMP, f"status-{ver}-{'h2' if h2 else 'h1'}.db")
    mix = os.path.join(TMP, "status.mix")
    with open(mix, "w") as f:
        f.write("".join(f"GET {p}\n" for p in list(STATUS_WANT) + ["/hijack"] for _ in range(3)))
    rec = None
    try:
        rec, log = start_record(db, "st", srv.pid)
        args = [os.path.join(FIX, "client"), "-url", url, "-mix", mix, "-concurrency", "1"]
        if h2:
            args += ["-insecure", "-http2"]
        r = subprocess.run(args, capture_output=True, text=True, timeout=120)
        time.sleep(0.3)
        runs = prog_runs(rec.pid)
        stats_on = open("/proc/sys/kernel/bpf_stats_enabled").read().strip() == "1"
        rc, text = stop_record(rec, log)
        rec = None
        check(rc == 0, f"{name}: cpprof record exits 0", text[-500:])
        check(srv.poll() is None, f"{name}: server still running")
        check(stats_on, f"{name}: kernel.bpf_stats_enabled stayed on while recording (another test turned it off?)")
    finally:
        if rec:
            rec.kill()
        srv.terminate()
        srv.wait(timeout=10)
    sent = collections.Counter()
    for line in r.stdout.splitlines():
        f = line.split("\t")
        if len(f) >= 6:
            sent[(f[1], int(f[3]))] += 1
    want = collections.Counter({(p, st): 3 for p, st in STATUS_WANT.items() if st})
    check(all(sent[k] == n for k, n in want.items()), f"{name}: the client saw the statuses the handlers set",
          f"sent {dict(sent)}")
    # a hijacked HTTP/1 connection answers by itself and is not stored; HTTP/2 cannot be hijacked
    check(sent[("/hijack", 200 if not h2 else 501)] == 3, f"{name}: /hijack answered", f"sent {dict(sent)}")
    if h2:
        want[("/hijack", 501)] = 3
    con = sqlite3.connect(db)
    got = collections.Counter(con.execute("SELECT path, status FROM requests").fetchall())
    con.close()
    check(got == want, f"{name}: stored statuses exact: " + ", ".join(f"{p} {st}" for p, st in STATUS_WANT.items() if st)
          + "; /abort and a hijacked HTTP/1 connection not stored", f"want {dict(want)} got {dict(got)}")
    n = sum(want.values())
    check(runs["write_header"] == 0 and runs["finish_h1"] + runs["finish_h2"] >= n,
          f"{name}: statuses read by the end probe, no WriteHeader probe hit", str(dict(runs)))


def status_cases():
    if FILTER and FILTER not in "status":
        return
    cert = os.path.join(TMP, "cert.pem") + "," + os.path.join(TMP, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", os.path.join(TMP, "key.pem"),
                    "-out", os.path.join(TMP, "cert.pem")], check=True, capture_output=True)
    bins = build_status_servers()
    check(len(bins) == len(toolchains()) and len(bins) > 0, f"status_server built with every toolchain ({len(bins)})")
    for ver, b in bins.items():
        for h2 in (False, True):
            try:
                status_case(ver, b, h2, cert)
            except Exception as e:
                check(False, f"status {ver} {'h2' if h2 else 'h1'}: case ran", repr(e))


# ---- a real stripped Go server nobody here wrote -------------------------------

def real_server_cases(server):
    """Debian's etcd (stripped, cgo, externally linked; 3.4 with Go 1.19,
    3.5.30 with Go 1.26, 3.5.16 with Go 1.24) serves its HTTP endpoints and
    the gRPC gateway through net/http: exact counts must hold there too."""
    if FILTER and FILTER not in "etcd-http":
        return
    ver, etcd, etcdctl = server
    print(f"-- etcd-http (Debian's etcd {ver}, {etcd})")
    r = cpprof("inspect", etcd)
    check(r.returncode == 0 and "serverHandler.ServeHTTP" in r.stdout and "component:     etcd" in r.stdout,
          f"inspect of Debian's etcd {ver} finds the net/http probes and names it etcd", r.stderr[-300:])
    e = Etcd(TMP, "etcd-http-" + ver, exe=etcd, ctl=etcdctl)
    url, p = e.url, e.proc
    rec = None
    try:
        deadline = time.time() + 30
        while time.time() < deadline and not alive_path(url, "/health"):
            time.sleep(0.2)
        db = os.path.join(TMP, f"etcd-http-{ver}.db")
        rec, log = start_record(db, "etcd", p.pid)
        sent = collections.Counter()
        for path, n in (("/version", 3), ("/health", 4), ("/metrics", 2), ("/no-such-path", 2)):
            for _ in range(n):
                st = http_status(url + path)
                sent[(path, st)] += 1
        for i in range(2):  # the gRPC gateway: JSON over HTTP/1.1 into net/http
            st = http_status(url + "/v3/kv/put", b'{"key":"Zm9v","value":"YmFy"}')
            sent[("/v3/kv/put", st)] += 1
        # and its gRPC side, through `cpprof record` itself
        env = dict(os.environ, ETCDCTL_API="3")
        ctl = [etcdctl, "--endpoints", url]
        # the gateway's two JSON puts above reach the gRPC server too, with a
        # key outside /registry: no resource
        grpc_sent = collections.Counter({("put", "", "", "", 0): 2})
        for args, want in (
                (["put", "/registry/pods/default/web-1", "x"], ("put", "pods", "default", "resource", 0)),
                (["put", "/registry/pods/kube-system/dns-1", "x"], ("put", "pods", "kube-system", "resource", 0)),
                (["put", "/registry/configmaps/default/cfg", "x"], ("put", "configmaps", "default", "resource", 0)),
                (["get", "/registry/pods/default/web-1"], ("range", "pods", "default", "resource", 0)),
                (["get", "--prefix", "/registry/pods/default/"], ("range", "pods", "default", "namespace", 0)),
                (["del", "/registry/configmaps/default/cfg"], ("delete_range", "configmaps", "default", "resource", 0)),
                (["put", "--lease=1234", "/registry/pods/default/web-2", "x"], ("put", "pods", "default", "resource", 5))):
            subprocess.run(ctl + args, env=env, capture_output=True, timeout=30)
            grpc_sent[want] += 1
        time.sleep(0.3)
        rc, text = stop_record(rec, log)
        rec = None
        check(rc == 0 and "tracing gRPC calls" in text, f"etcd {ver}: cpprof record traces its gRPC side too, exits 0",
              text[-300:])
        check(p.poll() is None and alive_path(url, "/health"), f"etcd {ver}: alive and healthy after recording")
        con = sqlite3.connect(db)
        got = collections.Counter(
            (path, st) for path, st in con.execute("SELECT path, status FROM requests WHERE protocol != 'gRPC'"))
        grpc_got = collections.Counter(con.execute(
            "SELECT verb, resource, namespace, scope, status FROM requests WHERE protocol = 'gRPC'"))
        check(grpc_got == grpc_sent, f"etcd {ver}: exact gRPC calls per verb, resource, namespace, scope and status "
              f"({sum(grpc_sent.values())} calls, one failing with NotFound)",
              f"sent {dict(grpc_sent)} stored {dict(grpc_got)}")
        comp = {c for (c,) in con.execute("SELECT DISTINCT component FROM requests")}
        lost = con.execute("SELECT lost_events, unmatched FROM runs").fetchone()
        check(got == sent, f"etcd {ver}: exact counts per path and status ({sum(sent.values())} requests)",
              f"sent {dict(sent)} stored {dict(got)}")
        check(comp == {"etcd"}, f"etcd {ver}: component decided from the binary's build info", str(comp))
        check(lost == (0, 0), f"etcd {ver}: no lost or unmatched requests", str(lost))
    finally:
        if rec:
            rec.kill()
        e.stop()


def etcd_without_grpc_symbols():
    """An etcd whose gRPC server functions cannot be found (renamed in its
    function table): the gRPC part says why in one line, the rest is
    traced."""
    if FILTER and FILTER not in "etcd-http":
        return
    print("-- etcd without the expected gRPC symbols")
    data = bytearray(open(shutil.which("etcd") or "/usr/bin/etcd", "rb").read())
    old = b"google.golang.org/grpc.(*Server).handleStream"
    check(data.count(old) >= 1, "the function name is in etcd's function table")
    data = data.replace(old, old[:-1] + b"X")
    exe = os.path.join(TMP, "etcd-nogrpc")
    open(exe, "wb").write(data)
    os.chmod(exe, 0o755)
    e = Etcd(TMP, "nogrpc", exe=exe)
    url, p = e.url, e.proc
    rec = None
    try:
        deadline = time.time() + 30
        while time.time() < deadline and not alive_path(url, "/health"):
            time.sleep(0.2)
        r = cpprof("inspect", exe)
        check(r.returncode == 0 and re.search(r"^grpc:\s+none", r.stdout, re.M), "inspect: HTTP probes shown, gRPC part says none",
              r.stdout[-400:] + r.stderr)
        db = os.path.join(TMP, "etcd-nogrpc.db")
        rec, log = start_record(db, "nogrpc", p.pid, extra=("--component", "etcd"))
        for _ in range(3):
            http_status(url + "/version")
        rc, text = stop_record(rec, log)
        rec = None
        lines = [l for l in text.splitlines() if "no gRPC tracing" in l]
        check(rc == 0 and len(lines) == 1 and "handleStream" in lines[0],
              "record: one line says why gRPC is not traced, naming the missing function", text[-500:])
        n = sqlite3.connect(db).execute("SELECT count(*) FROM requests WHERE path='/version'").fetchone()[0]
        check(n == 3, "record: the HTTP side is still traced exactly", str(n))
        check(p.poll() is None, "etcd alive after recording")
    finally:
        if rec:
            rec.kill()
        e.stop()


def alive_path(url, path):
    try:
        with urllib.request.urlopen(url + path, timeout=5) as r:
            return r.status == 200
    except Exception:
        return False


def http_status(url, body=None):
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=body), timeout=10) as r:
            r.read()
            return r.status
    except urllib.error.HTTPError as e:
        e.read()
        return e.code


# ---- bad inputs ---------------------------------------------------------------

def error_cases():
    if FILTER and FILTER not in "errors":
        return
    print("-- errors")
    fx = [f for f in fixtures() if f["stripped"] == "1" and f["cgo"] == "0"][-1]
    binary = os.path.join(FIX, fx["file"])

    r = cpprof("record", "--help")
    check(r.returncode == 0 and "examples:" in r.stdout, "record --help teaches, exit 0")
    for cmd in ("report", "inspect"):
        r = cpprof(cmd, "--help")
        check(r.returncode == 0 and "usage:" in r.stdout, f"{cmd} --help, exit 0")
    r = cpprof("record")
    check(r.returncode == 2 and "--db" in r.stderr, "record without --db is a usage error (2)", r.stderr)
    r = cpprof("record", "--db", os.path.join(TMP, "u.db"), "--kind", "bogus")
    check(r.returncode == 2 and "'bogus'" in r.stderr, "bad --kind is a usage error naming it", r.stderr)
    r = cpprof("frobnicate")
    check(r.returncode == 2, "unknown command exits 2")

    # not root: a clear error and no database left behind
    srv, url = start_server(binary, tls=False)
    try:
        db = os.path.join(TMP, "nonroot.db")
        os.chmod(TMP, 0o777)
        r = cpprof("record", "--db", db, "--pid", str(srv.pid), "--duration", "1", user=65534)
        check(r.returncode == 1 and "root" in r.stderr and len(r.stderr.strip().splitlines()) == 1,
              "not root: one-line error naming root", r.stderr)
        check(not os.path.exists(db), "not root: no database file created")

        # label clash: first run, then the same label again
        db = os.path.join(TMP, "clash.db")
        r1 = cpprof("record", "--db", db, "--label", "x", "--pid", str(srv.pid), "--duration", "1")
        r2 = cpprof("record", "--db", db, "--label", "x", "--pid", str(srv.pid), "--duration", "1")
        check(r1.returncode == 0, "record --duration 1 exits 0", r1.stderr)
        check(r2.returncode == 1 and "already exists" in r2.stderr, "duplicate --label is refused", r2.stderr)
        check(oct(os.stat(db).st_mode & 0o777) == "0o600", "database file is created 0600")
        n = sqlite3.connect(db).execute("SELECT count(*) FROM runs").fetchone()[0]
        check(n == 1, "refused run leaves the first run alone and adds none", str(n))

        # target exits mid-recording: cpprof stops by itself, the run is saved
        db = os.path.join(TMP, "exit.db")
        rec, log = start_record(db, "exits", srv.pid)
        for _ in range(5):
            alive(url)
        srv.terminate()
        srv.wait(timeout=10)
        try:
            rc = rec.wait(timeout=20)
        except subprocess.TimeoutExpired:
            rec.kill()
            rc = -9
        log.seek(0)
        text = log.read()
        check(rc == 0 and "exited" in text, "target exits mid-recording: cpprof stops, exit 0", text[-400:])
        con = sqlite3.connect(db)
        row = con.execute("SELECT ended_ns, requests FROM runs WHERE label='exits'").fetchone()
        nreq = con.execute("SELECT count(*) FROM requests WHERE path='/healthz'").fetchone()[0]
        exited = con.execute("SELECT exited_ns FROM targets").fetchone()
        check(row and row[0] and nreq == 5, "target exits mid-recording: run saved with its 5 requests",
              f"{row} {nreq}")
        check(exited and exited[0], "target exit time recorded")
    finally:
        if srv.poll() is None:
            srv.kill()

    # default targets: found by name, component from the file name when the
    # build info names no known main package
    ka = os.path.join(TMP, "kube-apiserver")
    shutil.copy(binary, ka)
    srv, url = start_server(ka, tls=False)
    try:
        db = os.path.join(TMP, "default.db")
        r = cpprof("record", "--db", db, "--duration", "1")
        row = sqlite3.connect(db).execute("SELECT component FROM targets WHERE pid = ?", (srv.pid,)).fetchone() \
            if os.path.exists(db) else None
        check(r.returncode == 0 and row == ("apiserver",),
              "record with no --pid finds 'kube-apiserver' by name, component apiserver", f"{row} {r.stderr}")
        r = cpprof("inspect", "--pid", str(srv.pid))
        check(r.returncode == 0 and re.search(r"^component:\s+apiserver", r.stdout, re.M),
              "inspect --pid names the component from the real file name", r.stdout[:300])
    finally:
        srv.kill()
        srv.wait()

    # default targets by build info: a kube-apiserver renamed beyond recognition
    # (testserver-kas: main package k8s.io/kubernetes/cmd/kube-apiserver), no etcd
    kas = os.path.join(FIX, "testserver-kas")
    if check(os.path.exists(kas), "testserver-kas fixture built (tests/fixtures/build.sh)"):
        renamed = os.path.join(TMP, "control-plane-7f3a")
        shutil.copy(kas, renamed)
        srv, url = start_server(renamed, tls=False)
        try:
            db = os.path.join(TMP, "default-buildinfo.db")
            r = cpprof("record", "--db", db, "--duration", "1")
            row = sqlite3.connect(db).execute("SELECT component FROM targets WHERE pid = ?",
                                              (srv.pid,)).fetchone() if os.path.exists(db) else None
            check(r.returncode == 0 and row == ("apiserver",),
                  "record with no --pid finds a renamed kube-apiserver by its build info's main package",
                  f"{row} {r.stderr}")
            missing = [ln for ln in r.stderr.splitlines() if "no etcd found" in ln]
            check(len(missing) == 1, "one line says the default etcd target was not found", r.stderr)
        finally:
            srv.kill()
            srv.wait()

    r = cpprof("record", "--db", os.path.join(TMP, "gone.db"), "--pid", "4000000")
    check(r.returncode == 1 and "4000000" in r.stderr and not os.path.exists(os.path.join(TMP, "gone.db")),
          "pid that is gone: clear error, no database", r.stderr)

    r = cpprof("inspect", "/bin/true")
    check(r.returncode == 1 and "not a Go binary" in r.stderr and len(r.stderr.strip().splitlines()) == 1,
          "inspect of a non-Go binary: one-line error", r.stderr)
    r = cpprof("record", "--db", os.path.join(TMP, "sleep.db"), "--target", "sleep", "--duration", "1")
    check(r.returncode == 1, "record with no such target exits 1", r.stderr)

    data = bytearray(open(binary, "rb").read())
    # corrupted pclntab: flip the magic of the function table
    bad = bytearray(data)
    for magic in (b"\xf1\xff\xff\xff\x00\x00", b"\xf0\xff\xff\xff\x00\x00"):
        i = bad.find(magic)
        if i >= 0:
            bad[i:i + 4] = b"\x12\x34\x56\x78"
            break
    p = os.path.join(TMP, "corrupt-pclntab")
    open(p, "wb").write(bad)
    r = cpprof("inspect", p)
    check(r.returncode == 1 and "pclntab" in r.stderr and len(r.stderr.strip().splitlines()) == 1,
          "inspect of a corrupted pclntab: one-line error naming it", r.stderr)
    # truncated binary
    p = os.path.join(TMP, "truncated")
    open(p, "wb").write(data[: len(data) // 3])
    r = cpprof("inspect", p)
    check(r.returncode == 1 and len(r.stderr.strip().splitlines()) == 1, "inspect of a truncated binary: one-line error",
          r.stderr)
    # a Go version the offsets table does not know, in a binary without DWARF:
    # its own code proves the offsets
    ver = fx["go_version"].encode()
    fake = b"go1.99" + ver[6:]
    bad = bytearray(data.replace(ver, fake[: len(ver)]))
    p = os.path.join(TMP, "unknown-go")
    open(p, "wb").write(bad)
    r = cpprof("inspect", p)
    fields = re.findall(r"^  net/(?:http|url)\.\S+\s+\d+\s+code \(", r.stdout, re.M)
    check(r.returncode == 0 and "Go version 'go1.99" in r.stdout and len(fields) == 4,
          "unknown Go version without DWARF: every offset proven by the code", r.stdout[:1200] + r.stderr)
    # ... and when nothing in it reads RawQuery any more, refused in one line naming the field
    for f in (b"net/url.(*URL).RequestURI\x00", b"net/url.(*URL).Query\x00"):
        bad = bad.replace(f, f[:-2] + b"X\x00")
    p = os.path.join(TMP, "unknown-go-unproven")
    open(p, "wb").write(bad)
    r = cpprof("inspect", p)
    check(r.returncode == 1 and len(r.stderr.strip().splitlines()) == 1 and
          "offset of net/url.URL.RawQuery: not proven by the binary's code" in r.stderr,
          "unknown Go version, RawQuery unproven: one-line error naming the field", r.stderr)

    # reports
    r = cpprof("report", "/etc/hostname")
    check(r.returncode == 1 and "cpprof database" in r.stderr, "report of a non-database: clear error", r.stderr)
    r = cpprof("report", os.path.join(TMP, "clash.db"), "--format", "json")
    try:
        doc = json.loads(r.stdout)
        ok = r.returncode == 0 and doc["runs"][0]["label"] == "x"
    except Exception as e:  # noqa
        ok = False
    check(ok, "report --format json parses", r.stdout[:300] + r.stderr)
    r = cpprof("report", os.path.join(TMP, "clash.db"), "--label", "nope")
    check(r.returncode == 1 and "nope" in r.stderr, "report of an unknown label names it", r.stderr)


def main():
    if os.geteuid() != 0:
        print("integration: these tests load BPF programs and need root; run them as root (CI does)")
        print("http: 0 passed, 1 failed")
        return 1
    if not os.path.isdir("/sys/kernel/tracing/events") and not os.path.isdir("/sys/kernel/debug/tracing"):
        subprocess.run(["mount", "-t", "tracefs", "nodev", "/sys/kernel/tracing"], check=False)
    stats_path = "/proc/sys/kernel/bpf_stats_enabled"
    stats_was = open(stats_path).read().strip()
    with open(stats_path, "w") as f:  # run_cnt per BPF program: the probe hits of each request
        f.write("1")
    try:
        for fx in fixtures():
            for h2 in protocols(fx):
                try:
                    traced_case(fx, h2)
                except Exception as e:  # a broken case is a failure, not a crash of the suite
                    check(False, f"{fx['file']} {'h2' if h2 else 'h1'}: case ran", repr(e))
        try:
            status_cases()
        except Exception as e:
            check(False, "status cases ran", repr(e))
        try:
            for server in itlib.ETCD_SERVERS:
                real_server_cases(server)
            etcd_without_grpc_symbols()
        except Exception as e:
            check(False, "etcd-http cases ran", repr(e))
        try:
            error_cases()
        except Exception as e:
            check(False, "error cases ran", repr(e))
    finally:
        with open(stats_path, "w") as f:
            f.write(stats_was)
        if check.failed == 0:
            shutil.rmtree(TMP, ignore_errors=True)
        else:
            print(f"kept {TMP} for inspection")
    return check.summary("http")


if __name__ == "__main__":
    sys.exit(main())
