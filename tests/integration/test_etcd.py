#!/usr/bin/env python3
"""Integration tests of cpprof's gRPC tracing on Debian's etcd, as root, with real BPF.

Each etcd of itlib.ETCD_SERVERS, all stripped and without module versions:
bookworm's /usr/bin/etcd (3.4, Go 1.19, grpc 1.33), sid's 3.5.30 (Go 1.26,
cgo, grpc 1.81: ServerStream, unexported writeStatus) and trixie's 3.5.16
(Go 1.24, grpc 1.6x), is started on loopback with its own data dir and
ports, first plaintext (grpc's own HTTP/2 transport behind cmux), then with
client TLS (grpc's ServeHTTP handler transport behind net/http).
tests/integration/grpc_driver.c attaches user/trace/grpc.c to it; the same
package's etcdctl runs a known mix of KV, lease and watch calls on keys of
five resources in two namespaces under /registry. The test checks exact
counts per method, verb, resource, namespace, scope and gRPC status, no
losses, and that etcd is alive and answering afterwards.

Usage: test_etcd.py BUILD_DIR [FILTER]
Ends with "etcd: N passed, N failed"; exits 1 on any failure.
"""
import collections
import glob
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import itlib  # noqa: E402
from itlib import Etcd, free_port  # noqa: E402,F401

OUT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
FILTER = sys.argv[2] if len(sys.argv) > 2 else ""
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

check = itlib.Checks()
TMP = tempfile.mkdtemp(prefix="cpprof-etcd.")
DRIVER = os.path.join(TMP, "grpc_driver")


# ---- etcd -------------------------------------------------------------------

def make_tls():
    d = os.path.join(TMP, "pki")
    os.makedirs(d)
    p = lambda n: os.path.join(d, n)
    ext = p("san.ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                "extendedKeyUsage=serverAuth,clientAuth\n")
    cmds = [
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=cpprof-test-ca", "-keyout", p("ca.key"), "-out", p("ca.crt")],
    ]
    for who in ("server", "client"):
        cmds += [
            ["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={who}",
             "-keyout", p(who + ".key"), "-out", p(who + ".csr")],
            ["openssl", "x509", "-req", "-in", p(who + ".csr"), "-CA", p("ca.crt"),
             "-CAkey", p("ca.key"), "-CAcreateserial", "-days", "2", "-extfile", ext,
             "-out", p(who + ".crt")],
        ]
    for c in cmds:
        r = subprocess.run(c, capture_output=True, text=True)
        if r.returncode:
            check(False, "openssl " + c[1], r.stderr[-400:])
            return None
    return {"ca": p("ca.crt"), "cert": p("server.crt"), "key": p("server.key"),
            "ccert": p("client.crt"), "ckey": p("client.key")}


# ---- the tracer ---------------------------------------------------------------

class Trace:
    def __init__(self, pid):
        self.proc = subprocess.Popen([DRIVER, "trace", str(pid)], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.ready = self.proc.stdout.readline().strip() == "ready"

    def stop(self):
        self.proc.send_signal(signal.SIGINT)
        out, err = self.proc.communicate(timeout=20)
        calls, stats = [], {}
        for line in out.splitlines():
            if not line.strip():
                continue
            j = json.loads(line)
            if "stats" in j:
                stats = j["stats"]
            else:
                calls.append(j)
        return calls, stats, err, self.proc.returncode


# What etcdctl sends for each step, and what the tracer must report:
# (method, verb, resource, namespace, scope, status). Keys of five
# resources (pods, configmaps, deployments, services, leases) in two
# namespaces, plus a cluster-wide list of nodes (legacy "minions").
OK, CANCELED, NOT_FOUND = 0, 1, 5
KV, LEASE = "/etcdserverpb.KV/", "/etcdserverpb.Lease/"

TXN_COMPARE = """mod("/registry/pods/ns-b/p2") > "0"

put /registry/pods/ns-b/p2 v2


"""
TXN_NO_COMPARE = """
put /registry/leases/ns-b/l1 v


"""


def run_mix(e):
    """Run the mix; returns (expected unary Counter, stream calls expected, errors)."""
    exp = collections.Counter()
    errs = []

    def step(args, want, stdin=None, ok=True):
        r = e.ctl(*args, stdin=stdin)
        if (r.returncode == 0) != ok:
            errs.append(f"etcdctl {' '.join(args)}: rc {r.returncode}: {r.stderr.strip()[-200:]}")
        exp[want] += 1
        return r

    for key in ("/registry/pods/ns-a/p1", "/registry/pods/ns-b/p2", "/registry/configmaps/ns-a/c1",
                "/registry/deployments/ns-b/d1", "/registry/services/specs/ns-a/s1"):
        parts = key.split("/")
        res = "services" if parts[2] == "services" else parts[2]
        ns = parts[-2]
        step(["put", key, "v"], (KV + "Put", "put", res, ns, "resource", OK))
    step(["get", "/registry/pods/ns-a/p1"], (KV + "Range", "range", "pods", "ns-a", "resource", OK))
    step(["get", "/registry/configmaps/ns-a/c1"], (KV + "Range", "range", "configmaps", "ns-a", "resource", OK))
    step(["get", "--prefix", "/registry/pods/ns-a/"], (KV + "Range", "range", "pods", "ns-a", "namespace", OK))
    step(["get", "--prefix", "/registry/pods/"], (KV + "Range", "range", "pods", "", "cluster", OK))
    step(["get", "--prefix", "/registry/deployments/ns-b/"], (KV + "Range", "range", "deployments", "ns-b", "namespace", OK))
    step(["get", "--prefix", "/registry/minions/"], (KV + "Range", "range", "nodes", "", "cluster", OK))
    step(["get", "/registry/services/specs/ns-a/s1"], (KV + "Range", "range", "services", "ns-a", "resource", OK))
    step(["del", "/registry/configmaps/ns-a/c1"], (KV + "DeleteRange", "delete_range", "configmaps", "ns-a", "resource", OK))
    step(["del", "--prefix", "/registry/deployments/ns-b/"], (KV + "DeleteRange", "delete_range", "deployments", "ns-b", "namespace", OK))
    step(["txn"], (KV + "Txn", "txn", "pods", "ns-b", "resource", OK), stdin=TXN_COMPARE)
    step(["txn"], (KV + "Txn", "txn", "leases", "ns-b", "resource", OK), stdin=TXN_NO_COMPARE)
    r = step(["lease", "grant", "60"], (LEASE + "LeaseGrant", "lease_grant", "", "", "", OK))
    lease = r.stdout.split()[1] if r.returncode == 0 and len(r.stdout.split()) > 1 else "0"
    e.ctl("lease", "keep-alive", "--once", lease)            # a stream: checked apart
    step(["lease", "revoke", lease], (LEASE + "LeaseRevoke", "lease_revoke", "", "", "", OK))
    # a failing call: a put on a lease that does not exist -> NotFound
    step(["put", "--lease=1234abcd", "/registry/leases/ns-a/l2", "v"],
         (KV + "Put", "put", "leases", "ns-a", "resource", NOT_FOUND), ok=False)
    # a watch the client gives up after 2 s (a stream: checked apart)
    cmd = [e.ctlexe, "--endpoints", e.url, "watch", "--prefix", "/registry/pods/"]
    if e.tls:
        cmd[3:3] = ["--cacert", e.tls["ca"], "--cert", e.tls["ccert"], "--key", e.tls["ckey"]]
    w = subprocess.Popen(cmd, env=dict(os.environ, ETCDCTL_API="3"), stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    time.sleep(2)
    w.send_signal(signal.SIGTERM)
    w.wait(10)
    time.sleep(0.5)
    return exp, errs


def case(server, name, tls=None):
    ver, exe, ctl = server
    name = f"etcd {ver} {name}"
    if FILTER and FILTER not in name:
        return
    print(f"{name}:")
    e = Etcd(TMP, "cpprof-" + name.replace(" ", "-"), tls, exe=exe, ctl=ctl)
    try:
        if not check(e.healthy(), f"{name}: etcd starts and answers"):
            return
        t = Trace(e.proc.pid)
        if not check(t.ready, f"{name}: tracer attaches"):
            print(t.proc.communicate(timeout=10)[1][-500:])
            return
        exp, errs = run_mix(e)
        calls, stats, err, rc = t.stop()
        check(rc == 0, f"{name}: tracer exits 0", err[-300:])
        check(not errs, f"{name}: etcdctl did what the mix says", "; ".join(errs))
        streams = [c for c in calls if c["method"] in ("/etcdserverpb.Watch/Watch", LEASE + "LeaseKeepAlive")]
        unary = [c for c in calls if c not in streams]
        got = collections.Counter((c["method"], c["verb"], c["resource"], c["namespace"], c["scope"],
                                   c["status"]) for c in unary)
        check(got == exp, f"{name}: exact counts per method, verb, resource, namespace, scope, status",
              f"missing {dict(exp - got)}, unexpected {dict(got - exp)}")
        by = lambda f: collections.Counter(c[f] for c in unary)
        for i, f in ((1, "verb"), (2, "resource"), (3, "namespace"), (5, "status")):
            w = collections.Counter()
            for k, n in exp.items():
                w[k[i]] += n
            check(by(f) == w, f"{name}: counts per {f}", f"got {dict(by(f))}, want {dict(w)}")
        watches = [c for c in streams if c["verb"] == "watch"]
        keeps = [c for c in streams if c["verb"] == "lease_keepalive"]
        check(len(watches) == 1, f"{name}: one watch call", f"{len(watches)}: {watches}")
        check(len(keeps) == 1, f"{name}: one lease_keepalive call", f"{len(keeps)}")
        if watches:
            check(watches[0]["latency_ns"] >= 1.5e9,
                  f"{name}: the watch lasted as long as the client kept it (>= 1.5 s)",
                  str(watches[0]))
            print(f"       watch ended with gRPC status {watches[0]['status']}, "
                  f"keepalive with {keeps[0]['status'] if keeps else '-'}")
        check(all(c["component"] == "etcd" and c["protocol"] == "gRPC" for c in calls),
              f"{name}: component etcd, protocol gRPC")
        check(all(0 < c["latency_ns"] < 10e9 for c in unary), f"{name}: plausible latencies")
        check(all(c["tls_handler"] == (1 if tls else 0) for c in calls),
              f"{name}: served by the {'ServeHTTP handler' if tls else 'http2Server'} transport",
              str(collections.Counter(c["tls_handler"] for c in calls)))
        check(all(c["has_key"] for c in unary if c["method"].startswith(KV)),
              f"{name}: every KV call has its key")
        check(stats.get("lost") == 0 and stats.get("read_err") == 0 and stats.get("no_start") == 0 and
              stats.get("replaced") == 0 and stats.get("inflight_full") == 0,
              f"{name}: no losses, no unmatched ends, no read errors", str(stats))
        check(stats.get("ends") == len(calls), f"{name}: every submitted call was received", str(stats))
        check(e.proc.poll() is None and e.healthy(5), f"{name}: etcd alive and healthy afterwards")
    finally:
        e.stop()


def record_case(server, tls=None):
    """The whole of `cpprof record --pid` (discovery, plan, attach, collector,
    SQLite) on the same mix: exact counts in the requests table."""
    ver, exe, ctl = server
    name = f"etcd {ver} cpprof record{' TLS' if tls else ''}"
    if FILTER and FILTER not in name:
        return
    print(f"{name}:")
    e = Etcd(TMP, "rec-" + name.replace(" ", "-"), tls, exe=exe, ctl=ctl)
    db = os.path.join(TMP, name.replace(" ", "-") + ".db")
    try:
        if not check(e.healthy(), f"{name}: etcd starts and answers"):
            return
        try:
            rec, log = itlib.start_record([os.path.join(OUT, "cpprof"), "record", "--db", db, "--label",
                                           "etcd-" + ver, "--pid", str(e.pid), "--sample-hz", "0"],
                                          os.path.join(TMP, name.replace(" ", "-") + ".log"))
        except RuntimeError as err:
            check(False, f"{name}: cpprof record attaches", str(err))
            return
        exp, errs = run_mix(e)
        rc, text = itlib.stop_record(rec, log)
        log.close()
        check(rc == 0, f"{name}: cpprof record exits 0", text[-400:])
        check(not errs, f"{name}: etcdctl did what the mix says", "; ".join(errs))
        con = sqlite3.connect(db)
        rows = con.execute(
            "SELECT method, verb, coalesce(resource, ''), coalesce(namespace, ''), coalesce(scope, ''), "
            "status, count(*) FROM requests WHERE component = 'etcd' AND protocol = 'gRPC' "
            "GROUP BY 1, 2, 3, 4, 5, 6").fetchall()
        con.close()
        got = collections.Counter()
        streams = collections.Counter()
        for m, verb, res, ns, scope, status, n in rows:
            if m in ("/etcdserverpb.Watch/Watch", LEASE + "LeaseKeepAlive"):
                streams[verb] += n
            else:
                got[(m, verb, res, ns, scope, status)] += n
        check(got == exp, f"{name}: exact counts per method, verb, resource, namespace, scope, status "
              f"({sum(exp.values())} unary calls)", f"missing {dict(exp - got)}, unexpected {dict(got - exp)}")
        check(streams == {"watch": 1, "lease_keepalive": 1}, f"{name}: one watch, one keepalive stream",
              str(dict(streams)))
    finally:
        e.stop()


# What `inspect` must show for each server: the offsets its own code proves,
# and the status writers grpc names them by.
INSPECT = {
    "3.4": ("Stream.method 72", "Status.s 0, Status.Code 0", "(*Stream).Method reads [rax+72]", "WriteStatus"),
    "3.5.16": ("Stream.method 80", "Status.s 0, Status.Code 40", "(*Stream).Method reads [rax+80]", "WriteStatus"),
    "3.5.30": ("Stream.method 16", "Status.s 0, Status.Code 40", "(*ServerStream).Method reads [rax+16]", "writeStatus"),
}


def inspect_cases(servers):
    if FILTER and FILTER not in "inspect":
        return
    print("inspect:")
    for ver, exe, _ in servers:
        v = subprocess.run([exe, "--version"], capture_output=True, text=True).stdout.split("\n")[0]
        # sid moves on: a new patch release must still plan as INSPECT says, a new minor is new work
        minor = ".".join(ver.split(".")[:2]) + "."
        check(v.startswith("etcd Version: " + minor),
              f"inspect: {exe} is etcd {minor}x ({v[len('etcd Version: '):] or '?'})", v)
        r = subprocess.run([DRIVER, "inspect", exe], capture_output=True, text=True)
        out = r.stdout
        check(r.returncode == 0, f"inspect etcd {ver} plans gRPC probes", r.stderr)
        for kind in ("start", "end_h2", "end_handler", "etcd_request"):
            check(any(l.split()[:1] == [kind] and "emulated" in l for l in out.splitlines()),
                  f"inspect etcd {ver}: {kind} probe on an emulated instruction", out[-600:])
        method, status, accessor, writer = INSPECT[ver]
        check(method in out and status in out and "Compare.Key 8" in out and accessor in out,
              f"inspect etcd {ver}: offsets from its own code ({method}, {status}, by {accessor})", out[:900])
        check("stream in RDI" in out and "status in RCX" in out and "request in RDI" in out,
              f"inspect etcd {ver}: the probed registers proven", out[:900])
        ends = [l for l in out.splitlines() if l.split()[:1] in (["end_h2"], ["end_handler"])]
        check(len(ends) == 2 and all(l.endswith(")." + writer) for l in ends),
              f"inspect etcd {ver}: status written by the transports' {writer}", "\n".join(ends))
    r = subprocess.run([DRIVER, "inspect", "/bin/true"], capture_output=True, text=True)
    check(r.returncode == 1 and "not a Go binary" in r.stderr, "inspect: a non-Go binary is refused",
          r.stderr)
    other = sorted(f for f in glob.glob(os.path.join(os.environ.get("FIXTURES_DIR", os.path.join(OUT, "fixtures")),
                                                     "testserver-go*"))
                   if os.access(f, os.X_OK) and not f.endswith(".log"))
    if other:
        r = subprocess.run([DRIVER, "inspect", other[0]], capture_output=True, text=True)
        check(r.returncode == 1 and "not a gRPC server" in r.stderr,
              "inspect: a Go HTTP server without gRPC says so", r.stderr)


def build_driver():
    ok, err = itlib.build_driver(OUT, "grpc_driver.c", DRIVER)
    return check(ok, "grpc_driver builds warning-free", err[-800:])


def main():
    if os.geteuid() != 0:
        print("etcd: needs root (BPF uprobes): skipped, which counts as a failure")
        print("etcd: 0 passed, 1 failed")
        return 1
    servers = itlib.ETCD_SERVERS
    for _, exe, ctl in servers:
        for tool in (exe, ctl):
            if not os.access(tool, os.X_OK):
                print(f"etcd: '{tool}' missing: run 'make deps'")
                print("etcd: 0 passed, 1 failed")
                return 1
    try:
        if build_driver():
            inspect_cases(servers)
            tls = make_tls()
            for server in servers:
                case(server, "plaintext")
                if tls:
                    case(server, "client TLS", tls)
                record_case(server)
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
    return check.summary("etcd")


if __name__ == "__main__":
    sys.exit(main())
