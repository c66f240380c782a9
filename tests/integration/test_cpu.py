#!/usr/bin/env python3
"""Integration tests of cpprof's CPU sampler (serialization CPU), as root.

The Go test server (stripped, like kube-apiserver) holds a few hundred
pods and serves the same load twice, once asking for JSON and once for
protobuf (Accept: application/vnd.kubernetes.protobuf, encoded by gogo
code generated as Kubernetes generates k8s.io/api): lists of every pod and
gets of one. It runs
with -serialize-in-child, so list responses are encoded in a grandchild of
the goroutine serving the request. cpprof records both runs with
--sample-hz 999; the checks are what a user reads off the result:

- the JSON run's serialization CPU is mostly json_*, the protobuf run's
  mostly protobuf_*, and a JSON list costs more serialization CPU per
  request than a protobuf list;
- a list of many objects costs more serialization CPU per request than a
  get of one;
- the grandchild's encoding is charged to list/pods, not to "no request";
- sampled CPU of the target is within 10% of what /proc/PID/stat says;
- no sample is dropped silently: cpu_profile and cpu_stacks add up to the
  samples taken, unsymbolized samples included (category unknown);
- the folded stacks name the serializers' real functions (encoding/json,
  and the generated gogo code's MarshalToSizedBuffer, as in k8s.io/api).

Then every Go toolchain of the manifest (1.19-1.27), one stripped
fixture each (the cgo one where built), short: the lineage charges the
grandchild's encoding to list/pods, every sample is stored once.

Then a server nobody here wrote: Debian's etcd (stripped, cgo, Go 1.19)
under puts and ranges through its gRPC gateway: its samples symbolize, its
CPU adds up against /proc, WAL/bbolt work shows as etcd_storage, and
samples of the gRPC handlers count for their put/range calls.

Usage: test_cpu.py BUILD_DIR [FILTER]. Ends with "cpu: N passed, N failed".
"""
import base64
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
from itlib import Checks, Etcd, stop_record  # noqa: E402

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
FILTER = sys.argv[2] if len(sys.argv) > 2 else ""
CPPROF = os.path.join(BUILD, "cpprof")
FIX = os.environ.get("FIXTURES_DIR", os.path.join(BUILD, "fixtures"))
TMP = tempfile.mkdtemp(prefix="cpprof-cpu.")
PB = "application/vnd.kubernetes.protobuf"
SER = ("json_encode", "json_decode", "protobuf_encode", "protobuf_decode", "yaml")
NPODS = 400
SECS = 8
HZ = 999
VPODS = 120  # the per-Go-version runs: short, the same checks
VSECS = 2

check = Checks()


def start_server(binary, *extra):
    p = subprocess.Popen([binary, "-listen", "127.0.0.1:0", *extra],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = p.stdout.readline().strip()
    m = re.search(r"https?://([^/\s]+)", line)
    if not m:
        p.kill()
        raise RuntimeError(f"{binary} did not print its address: {line!r}")
    host, port = m.group(1).rsplit(":", 1)
    return p, host, int(port)


def start_record(db, label, pid, extra=()):
    return itlib.start_record([CPPROF, "-v", "record", "--db", db, "--label", label, "--pid", str(pid),
                               "--no-syscalls", "--no-sockets", *extra],
                              os.path.join(TMP, f"{label}.log"))


def create_pods(host, port, ns, n):
    c = http.client.HTTPConnection(host, port, timeout=10)
    ok = 0
    for i in range(n):
        body = json.dumps({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": f"p-{i:04d}", "namespace": ns,
                         "labels": {"app": "bench", "tier": f"t{i % 7}"}},
            "spec": {"nodeName": f"node-{i % 50}",
                     "containers": [{"name": "c", "image": "registry.k8s.io/pause:3.9"}]}})
        c.request("POST", f"/api/v1/namespaces/{ns}/pods", body=body,
                  headers={"Content-Type": "application/json"})
        r = c.getresponse()
        r.read()
        ok += r.status == 201
    c.close()
    return ok


def drive(host, port, ns, accept, secs, counts, errors, npods=NPODS):
    """One keep-alive connection: list all pods, then get one, until SECS pass."""
    c = http.client.HTTPConnection(host, port, timeout=30)
    end = time.time() + secs
    i = 0
    while time.time() < end:
        for kind, path in (("list", f"/api/v1/namespaces/{ns}/pods"),
                           ("get", f"/api/v1/namespaces/{ns}/pods/p-{i % npods:04d}")):
            c.request("GET", path, headers={"Accept": accept})
            r = c.getresponse()
            body = r.read()
            if r.status != 200 or (accept == PB and not body.startswith(b"k8s\x00")):
                errors.append((kind, r.status, body[:80]))
            counts[kind] = counts.get(kind, 0) + 1
        i += 1
    c.close()


def run_load(host, port, ns, accept, secs, npods=NPODS):
    counts, errors = [{}, {}], []
    ts = [threading.Thread(target=drive, args=(host, port, ns, accept, secs, counts[k], errors, npods))
          for k in range(2)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    total = {}
    for c in counts:
        for k, v in c.items():
            total[k] = total.get(k, 0) + v
    return total, errors


def profile(db, label):
    con = sqlite3.connect(db)
    run = con.execute("SELECT id, sample_hz FROM runs WHERE label = ?", (label,)).fetchone()
    rid = run[0]
    rows = con.execute("SELECT category, verb, resource, sum(samples), sum(cpu_ns) FROM cpu_profile "
                       "WHERE run_id = ? GROUP BY 1, 2, 3", (rid,)).fetchall()
    tgt = con.execute("SELECT cpu_ns, samples FROM targets WHERE run_id = ?", (rid,)).fetchone()
    stacks = con.execute("SELECT sum(samples) FROM cpu_stacks WHERE run_id = ?", (rid,)).fetchone()[0]
    reqs = dict(((v, r), n) for v, r, n in con.execute(
        "SELECT verb, resource, count(*) FROM requests WHERE run_id = ? GROUP BY 1, 2", (rid,)))
    folded = [s for (s,) in con.execute(
        "SELECT stack FROM cpu_stacks WHERE run_id = ? ORDER BY samples DESC LIMIT 200", (rid,))]
    con.close()
    return {"hz": run[1], "rows": rows, "target_cpu_ns": tgt[0], "target_samples": tgt[1],
            "stack_samples": stacks or 0, "requests": reqs, "folded": folded}


def ser_ns(prof, verb=None, resource=None, cats=SER):
    return sum(ns for cat, v, r, _, ns in prof["rows"]
               if cat in cats and (verb is None or v == verb) and (resource is None or r == resource))


def per_request(prof, verb):
    n = prof["requests"].get((verb, "pods"), 0)
    return ser_ns(prof, verb, "pods") / n if n else 0.0


def one_run(binary, label, accept, db):
    srv, host, port = start_server(binary, "-serialize-in-child")
    try:
        made = create_pods(host, port, "default", NPODS)
        check(made == NPODS, f"{label}: {NPODS} pods created", f"{made}")
        rec, log = start_record(db, label, srv.pid, ["--sample-hz", str(HZ)])
        time.sleep(0.5)
        counts, errors = run_load(host, port, "default", accept, SECS)
        time.sleep(0.5)
        rc, text = stop_record(rec, log)
        check(rc == 0, f"{label}: cpprof record exits 0", text[-400:])
        check(not errors, f"{label}: every request answered 200 in the asked format",
              str(errors[:3]))
        check(counts.get("list", 0) >= 20 and counts.get("get", 0) >= 20,
              f"{label}: load ran (list {counts.get('list')}, get {counts.get('get')})")
        check("CPU:" in text and "CPU sampling off" not in text, f"{label}: CPU sampling ran",
              text[-400:])
        return profile(db, label), counts
    finally:
        srv.kill()
        srv.wait()


def etcd_load(url, secs, counts):
    """Puts of 4 KiB values under /registry/pods/ and prefix ranges, through
    etcd's gRPC gateway: each is one HTTP request and one gRPC call."""
    host, port = url.split("//")[1].rsplit(":", 1)
    c = http.client.HTTPConnection(host, int(port), timeout=30)
    val = base64.b64encode(b"x" * 4096).decode()
    end, i = time.time() + secs, 0
    while time.time() < end:
        key = base64.b64encode(f"/registry/pods/default/p{i % 200}".encode()).decode()
        c.request("POST", "/v3/kv/put", body=json.dumps({"key": key, "value": val}))
        r = c.getresponse()
        r.read()
        counts["put"] = counts.get("put", 0) + (r.status == 200)
        if i % 10 == 0:
            pre = base64.b64encode(b"/registry/pods/").decode()
            end_key = base64.b64encode(b"/registry/pods0").decode()
            c.request("POST", "/v3/kv/range", body=json.dumps({"key": pre, "range_end": end_key}))
            r = c.getresponse()
            r.read()
            counts["range"] = counts.get("range", 0) + (r.status == 200)
        i += 1
    c.close()


def etcd_case(db, server):
    ver, exe, ctl = server
    label = "etcd-" + ver
    print(f"== etcd {ver} (Debian's, stripped)")
    etcd = Etcd(TMP, "cpu-" + label, exe=exe, ctl=ctl)
    try:
        etcd.healthy()
        rec, log = start_record(db, label, etcd.pid, ["--sample-hz", str(HZ)])
        counts = {}
        etcd_load(etcd.url, SECS, counts)
        rc, text = stop_record(rec, log)
    finally:
        etcd.stop()
    check(rc == 0 and "CPU:" in text, f"{label}: recorded with CPU sampling", text[-400:])
    check(counts.get("put", 0) > 50, f"{label}: load ran ({counts.get('put')} puts, {counts.get('range')} ranges)")
    prof = profile(db, label)
    period = 1e9 / prof["hz"]
    sampled = prof["target_samples"] * period
    kernel = prof["target_cpu_ns"] or 0
    check(kernel > 0 and abs(sampled - kernel) <= 0.10 * kernel,
          f"{label}: sampled CPU {sampled / 1e9:.3f} s within 10% of /proc's {kernel / 1e9:.3f} s")
    total = sum(r[3] for r in prof["rows"])
    unknown = sum(r[3] for r in prof["rows"] if r[0] == "unknown")
    cats = {}
    for cat, verb, res, n, ns in prof["rows"]:
        cats[cat] = cats.get(cat, 0) + n
    print(f"  etcd: {total} samples: " + ", ".join(f"{k} {v}" for k, v in sorted(cats.items(), key=lambda x: -x[1])))
    check(unknown <= 0.05 * max(total, 1), f"{label}: stripped cgo binary symbolizes ({unknown} of {total} unknown)")
    check(cats.get("etcd_storage", 0) > 0, f"{label}: WAL and bbolt work classified as etcd_storage")
    check(cats.get("grpc", 0) + cats.get("protobuf_encode", 0) + cats.get("protobuf_decode", 0) > 0,
          f"{label}: gRPC and protobuf work classified")
    put = sum(n for cat, verb, res, n, ns in prof["rows"] if verb == "put" and res == "pods")
    check(put > 0, f"{label}: samples of gRPC put handlers count for put/pods ({put})")


def manifest():
    with open(os.path.join(FIX, "manifest.tsv")) as f:
        rows = [line.rstrip("\n").split("\t") for line in f if line.strip()]
    return [dict(zip(rows[0], r)) for r in rows[1:]]


def versions_case(db):
    """The sampler and the goroutine lineage on every Go toolchain of the
    manifest, short: one stripped fixture per Go version (its cgo build
    where there is one, the hardest case: C in .text, external link), a
    JSON load for VSECS. The grandchild's encoding must be charged to
    list/pods (runtime.newproc1's pattern found and probed on that
    release), every sample stored once, the stacks symbolized."""
    by_ver = {}
    for fx in manifest():
        if fx["stripped"] != "1":
            continue
        # one per Go version, the cgo one preferred
        if fx["go_version"] not in by_ver or fx["cgo"] == "1":
            by_ver[fx["go_version"]] = fx
    passed = []
    for ver, fx in sorted(by_ver.items(), key=lambda kv: [int(x) for x in re.findall(r"\d+", kv[0])]):
        label = f"lineage-{fx['file']}"
        if FILTER and FILTER not in label:
            continue
        print(f"== {label} ({ver})")
        before = check.failed
        srv, host, port = start_server(os.path.join(FIX, fx["file"]), "-serialize-in-child")
        try:
            made = create_pods(host, port, "default", VPODS)
            check(made == VPODS, f"{label}: {VPODS} pods created", f"{made}")
            rec, log = start_record(db, label, srv.pid, ["--sample-hz", str(HZ)])
            time.sleep(0.5)
            counts, errors = run_load(host, port, "default", "application/json", VSECS, VPODS)
            time.sleep(0.3)
            rc, text = stop_record(rec, log)
        finally:
            srv.kill()
            srv.wait()
        check(rc == 0 and "CPU:" in text and "CPU sampling off" not in text,
              f"{label}: recorded with CPU sampling", text[-400:])
        ins = subprocess.run([CPPROF, "inspect", os.path.join(FIX, fx["file"])], capture_output=True, text=True,
                             timeout=120)
        check(ins.returncode == 0 and "lineage:       runtime.newproc1 0x" in ins.stdout,
              f"{label}: inspect proves the runtime.newproc1 lineage sites", (ins.stdout + ins.stderr)[-400:])
        check(not errors and counts.get("list", 0) >= 5, f"{label}: load ran (list {counts.get('list')})",
              str(errors[:3]))
        prof = profile(db, label)
        n = sum(r[3] for r in prof["rows"])
        check(n > 0 and n == prof["target_samples"] == prof["stack_samples"],
              f"{label}: every sample stored once ({n} in cpu_profile, {prof['stack_samples']} in "
              f"cpu_stacks, {prof['target_samples']} taken)")
        tagged = ser_ns(prof, "list", "pods", ("json_encode",))
        untagged = ser_ns(prof, "", "", ("json_encode",))
        check(tagged > 0 and tagged >= 0.8 * (tagged + untagged),
              f"{label}: list encoding in a grandchild goroutine charged to list/pods "
              f"({tagged / 1e6:.1f} ms tagged, {untagged / 1e6:.1f} ms untagged)")
        check(any("encoding/json." in st for st in prof["folded"]),
              f"{label}: folded stacks name encoding/json (stripped, via .gopclntab)")
        if check.failed == before:
            passed.append(ver)
    print(f"  lineage and sampler pass on: {' '.join(passed) or 'none'}")


def shares(prof):
    tot = ser_ns(prof)
    js = ser_ns(prof, cats=("json_encode", "json_decode"))
    pb = ser_ns(prof, cats=("protobuf_encode", "protobuf_decode"))
    return tot, (js / tot if tot else 0), (pb / tot if tot else 0)


def main():
    if os.geteuid() != 0:
        print("cpu: 0 passed, 1 failed (needs root)")
        return 1
    binary = os.path.join(FIX, "testserver-go1.23-stripped")
    db = os.path.join(TMP, "cpu.db")
    profs = {}
    for label, accept in (("json", "application/json"), ("protobuf", PB)):
        if FILTER and FILTER not in label:
            continue
        print(f"== {label}")
        prof, counts = one_run(binary, label, accept, db)
        profs[label] = prof
        period = 1e9 / prof["hz"]
        sampled = prof["target_samples"] * period
        kernel = prof["target_cpu_ns"] or 0
        check(kernel > 0 and abs(sampled - kernel) <= 0.10 * kernel,
              f"{label}: sampled CPU {sampled / 1e9:.3f} s within 10% of /proc's {kernel / 1e9:.3f} s")
        prof_samples = sum(r[3] for r in prof["rows"])
        check(prof_samples == prof["target_samples"] == prof["stack_samples"],
              f"{label}: every sample stored once ({prof_samples} in cpu_profile, "
              f"{prof['stack_samples']} in cpu_stacks, {prof['target_samples']} taken)")
        unknown = sum(r[3] for r in prof["rows"] if r[0] == "unknown")
        check(unknown <= 0.2 * max(prof_samples, 1),
              f"{label}: unsymbolized samples counted as 'unknown' ({unknown} of {prof_samples})")
        tot, js, pb = shares(prof)
        print(f"  {label}: serialization {tot / 1e6:.1f} ms: json {js:.0%}, protobuf {pb:.0%}; "
              f"per list {per_request(prof, 'list') / 1e3:.1f} us, per get "
              f"{per_request(prof, 'get') / 1e3:.1f} us")
        if label == "json":
            check(js > 0.8, f"json: serialization is mostly json_* ({js:.0%})")
        else:
            check(pb > 0.5 and pb > js, f"protobuf: serialization is mostly protobuf_* ({pb:.0%}, json {js:.0%})")
        check(per_request(prof, "list") > 3 * max(per_request(prof, "get"), 1),
              f"{label}: a list of {NPODS} pods costs more serialization CPU per request than a get")
        enc = ("json_encode",) if label == "json" else ("protobuf_encode",)
        tagged = ser_ns(prof, "list", "pods", enc)
        untagged = ser_ns(prof, "", "", enc)
        check(tagged > 0 and tagged >= 0.8 * (tagged + untagged),
              f"{label}: list encoding in a grandchild goroutine charged to list/pods "
              f"({tagged / 1e6:.1f} ms tagged, {untagged / 1e6:.1f} ms untagged)")
        want = "encoding/json." if label == "json" else ").MarshalToSizedBuffer"
        check(any(want in s for s in prof["folded"]),
              f"{label}: folded stacks name {want} (stripped binary, via .gopclntab)")
    for server in itlib.ETCD_SERVERS:
        if not FILTER or FILTER in "etcd-" + server[0]:
            etcd_case(db, server)
    versions_case(db)
    if "json" in profs and "protobuf" in profs:
        j, p = per_request(profs["json"], "list"), per_request(profs["protobuf"], "list")
        check(j > p, f"JSON list costs more serialization CPU per request than protobuf "
                     f"({j / 1e3:.0f} us vs {p / 1e3:.0f} us)")
    rc = check.summary("cpu")
    if rc == 0:
        shutil.rmtree(TMP, ignore_errors=True)
    else:
        print(f"logs and databases kept in {TMP}")
    return rc


if __name__ == "__main__":
    sys.exit(main())
