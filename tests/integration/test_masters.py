#!/usr/bin/env python3
"""Integration tests of `cpprof report` and `cpprof diff` over several files,
one per master of an HA control plane, as root, on runs recorded for real.

Three "masters": three Go test servers, each recorded at the same time by
its own `cpprof record --pid` into its own file, all with the same --label
and --kind, as the masters of one cluster are, each served a different
load (N creates, gets and lists of pods and configmaps, N = 20, 35 and 50)
with a different delay on pods (so that the masters' p99s differ). All
three run on this machine, so each file's runs.host is then set to
master-1, -2, -3 (the only thing the test changes in a file). Then:

- each master's apiserver stand-in is scraped (--apiserver): the per-host
  cross-checks are each master's own calls against its own metrics; and
  every syscall is timed (--syscalls all): the merged syscalls per target
  say whose target each is.
- report m1.db m2.db m3.db --format json: "files" names the three, the
  run has "hosts" (three, with their files and names); every call kind's
  count is the sum over the three files, and p50/p90/p99 are the nearest
  ranks over the union of the three files' requests, both read straight
  from the files with sqlite3; each host's own count and p99 are its
  file's; every target carries its host; the document is valid against
  tests/schema/report.schema.json. The text report has the per-host section.
- diff m1.db,m2.db m2.db:LABEL,m3.db:LABEL: each side's counts and p99s are
  those of the union of its files; valid against tests/schema/diff.schema.json.
- refused in one line, exit 1: the same file twice, a copy of a file, a
  label one file lacks, the same run of two kinds, a schema version newer
  than cpprof; and a single file reports as before.

Usage: test_masters.py BUILD_DIR     ends with "masters: N passed, N failed"
"""
import json
import math
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import itlib  # noqa: E402

OUT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
CPPROF = os.path.join(OUT, "cpprof")
FIX = os.environ.get("FIXTURES_DIR", os.path.join(OUT, "fixtures"))
SERVER = os.path.join(FIX, "testserver-go1.23")
CLIENT = os.path.join(FIX, "client")
SCHEMAS = os.path.join(itlib.ROOT, "tests", "schema")
RESOURCES = ("pods", "configmaps")
PER_MASTER = (20, 35, 50)     # N of each kind on master 1, 2, 3
POD_DELAY_MS = (2, 6, 12)     # pods' delay on master 1, 2, 3
LABEL = "ha-3"

check = itlib.Checks()
TMP = tempfile.mkdtemp(prefix="cpprof-masters.")


def write_mix(i, n):
    path = os.path.join(TMP, f"m{i}.mix")
    kinds = {"pods": "Pod", "configmaps": "ConfigMap"}
    with open(path, "w") as f:
        for j in range(n):
            for res in RESOURCES:
                name = f"{res[:3]}-{j}"
                body = json.dumps({"apiVersion": "v1", "kind": kinds[res], "metadata": {"name": name}},
                                  separators=(",", ":"))
                f.write(f"POST /api/v1/namespaces/default/{res} {body}\n")
                f.write(f"GET /api/v1/namespaces/default/{res}/{name}\n")
                f.write(f"GET /api/v1/namespaces/default/{res}\n")
    return path


def start_server(delays):
    p = subprocess.Popen([SERVER, "-listen", "127.0.0.1:0", "-delay", delays],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = p.stdout.readline().strip()
    m = re.search(r"(https?://\S+)", line)
    if not m:
        p.kill()
        raise RuntimeError(f"test server did not print its address: {line!r}")
    return p, m.group(1)


def db(i):
    return os.path.join(TMP, f"m{i}.db")


def record_masters():
    """The three masters recorded at the same time, each its own load; the
    expected number of requests of each."""
    srvs, recs, clients = [], [], []
    ok = True
    try:
        for i in range(3):
            srv, url = start_server(f"pods={POD_DELAY_MS[i]}ms,configmaps=1ms")
            srvs.append((srv, url))
            # each master's apiserver stand-in scraped too: its cross-checks are its own
            recs.append(itlib.start_record([CPPROF, "record", "--db", db(i + 1), "--label", LABEL,
                                            "--kind", "real", "--pid", str(srv.pid), "--sample-hz", "0",
                                            "--component", "apiserver", "--apiserver", url, "--syscalls", "all",
                                            "--metrics-interval", "2"],
                                           os.path.join(TMP, f"m{i + 1}.log")))
        for i, (srv, url) in enumerate(srvs):
            clients.append(subprocess.Popen([CLIENT, "-url", url, "-mix", write_mix(i + 1, PER_MASTER[i]),
                                             "-concurrency", "4"], stdout=subprocess.PIPE,
                                            stderr=subprocess.PIPE, text=True))
        for i, c in enumerate(clients):
            out, err = c.communicate(timeout=600)
            n = sum(1 for line in out.splitlines() if line.count("\t") >= 5)
            ok &= check(c.returncode == 0 and n == 3 * len(RESOURCES) * PER_MASTER[i],
                        f"master-{i + 1}: the client sent {3 * len(RESOURCES) * PER_MASTER[i]} requests",
                        f"rc {c.returncode}, {n} lines: {err[-300:]}")
        time.sleep(0.3)
        for i, (p, log) in enumerate(recs):
            rc, text = itlib.stop_record(p, log)
            ok &= check(rc == 0, f"master-{i + 1}: cpprof record exits 0", text[-300:])
        recs = []
    finally:
        for p, _ in recs:
            p.kill()
            p.wait()
        for srv, _ in srvs:
            srv.terminate()
            srv.wait(timeout=10)
    for i in range(3):
        con = sqlite3.connect(db(i + 1))
        con.execute("UPDATE runs SET host = ?", (f"master-{i + 1}",))
        con.commit()
        # the client's requests (cpprof's own scrapes of /metrics are requests too)
        n = con.execute("SELECT count(*) FROM requests WHERE resource != ''").fetchone()[0]
        con.close()
        # what is merged is what the files hold; a request the recorder did
        # not store (said in its log) is not this test's subject
        want = 3 * len(RESOURCES) * PER_MASTER[i]
        if n != want:
            with open(os.path.join(TMP, f"m{i + 1}.log")) as f:
                print(f"  note m{i + 1}.db holds {n} of {want} requests; its recorder said: "
                      f"{' | '.join(f.read().strip().splitlines()[-3:])}")
        ok &= check(want * 0.95 <= n <= want, f"m{i + 1}.db holds master-{i + 1}'s requests ({n} of {want})")
    return ok


def cpprof(*args):
    return subprocess.run([CPPROF, *args], capture_output=True, text=True, timeout=300)


def latencies(files):
    """Every latency of run LABEL in FILES by call kind, read with sqlite3."""
    lat = {}
    for f in files:
        con = sqlite3.connect(f)
        for row in con.execute("SELECT r.component, r.verb, r.resource, r.subresource, r.scope, r.path, "
                               "r.latency_ns FROM requests r JOIN runs ON runs.id = r.run_id "
                               "WHERE runs.label = ? AND r.latency_ns IS NOT NULL", (LABEL,)):
            lat.setdefault(tuple(row[:6]), []).append(row[6])
        con.close()
    for v in lat.values():
        v.sort()
    return lat


def nearest(v, p):
    return v[max(1, math.ceil(p * len(v) / 100)) - 1]


def key(c):
    return (c["component"], c["verb"], c["resource"], c["subresource"], c["scope"], c.get("path"))


def same_stats(name, calls, lat):
    """CALLS (a report's or a diff side's) against the union LAT, kind by kind."""
    got = {key(c): c for c in calls}
    bad = []
    if set(got) != set(lat):
        bad.append(f"kinds {sorted(set(got) ^ set(lat))}")
    for k, v in lat.items():
        c = got.get(k)
        if not c:
            continue
        if c["count"] != len(v):
            bad.append(f"{k[1]} {k[2]}: count {c['count']} != {len(v)}")
        for p in (50, 90, 99):
            if f"p{p}_ns" in c and c[f"p{p}_ns"] != nearest(v, p):
                bad.append(f"{k[1]} {k[2]}: p{p} {c[f'p{p}_ns']} != {nearest(v, p)}")
    return check(not bad and lat, name, "; ".join(bad[:6]) or "no calls")


def validate(name, doc, schema):
    try:
        import jsonschema
    except ImportError:
        return check(False, f"{name}: python3-jsonschema is installed (make deps)")
    try:
        jsonschema.validate(doc, json.load(open(os.path.join(SCHEMAS, schema))))
    except jsonschema.ValidationError as e:
        return check(False, f"{name}: valid against {schema}", str(e)[:400])
    return check(True, f"{name}: valid against {schema}")


def report_cases():
    print(f"-- report m1.db m2.db m3.db ({TMP})")
    files = [db(i) for i in (1, 2, 3)]
    r = cpprof("report", *files, "--format", "json")
    if not check(r.returncode == 0, "report of three files exits 0", r.stderr[-300:]):
        return
    doc = json.loads(r.stdout)
    validate("merged report", doc, "report.schema.json")
    check(doc.get("files") == files, "\"files\" names the three files in the order given", f"{doc.get('files')}")
    runs = doc["runs"]
    if not check(len(runs) == 1 and runs[0]["label"] == LABEL, f"one run, '{LABEL}', across the three",
                 f"{[x['label'] for x in runs]}"):
        return
    run = runs[0]
    lat = latencies(files)
    same_stats("every call kind: count = the sum over the files, p50/p90/p99 = nearest rank over the union",
               run["calls"], lat)
    total = sum(len(v) for v in lat.values())
    stored = 0
    for f in files:
        con = sqlite3.connect(f)
        stored += con.execute("SELECT count(*) FROM requests").fetchone()[0]
        con.close()
    check(sum(c["count"] for c in run["calls"]) == total == stored,
          f"the calls add up to every request of the three files ({stored})")
    hosts = run.get("hosts") or []
    check([h["host"] for h in hosts] == ["master-1", "master-2", "master-3"] and
          [h["file"] for h in hosts] == files, "\"hosts\": master-1..3 with their files",
          f"{[(h['host'], h['file']) for h in hosts]}")
    for i, h in enumerate(hosts):
        same_stats(f"master-{i + 1}'s own count and percentiles per call kind are its file's",
                   h["calls"], latencies([files[i]]))
    # the masters' p99 differ (their pods delays do), so the union's is not any one's
    pods = [k for k in lat if k[1] == "create" and k[2] == "pods"]
    if pods:
        per = [nearest(latencies([f])[pods[0]], 99) for f in files]
        check(len(set(per)) > 1, f"create pods: the masters' p99s differ ({per}), so the merge is tested")
    # each master's apiserver checked against its own metrics, never the union against one
    agree = [((h.get("metrics_check") or {}).get("apiserver") or {}) for h in hosts]
    check("metrics_check" not in run and len(agree) == 3 and
          all(a.get("calls_agree") == 3 * len(RESOURCES) and a.get("calls_disagree") == 0 for a in agree),
          "cross-checks per host: each master's calls agree with its own apiserver_request_total",
          json.dumps(agree)[:400])
    sc = run.get("syscalls") or []
    check(sc and {x.get("host") for x in sc} == {"master-1", "master-2", "master-3"},
          "syscalls per target: every master's, each with its host",
          f"{len(sc)} groups, hosts {sorted({str(x.get('host')) for x in sc})}")
    tg = run["targets"]
    check(len(tg) == 3 and sorted(t.get("host") for t in tg) == ["master-1", "master-2", "master-3"],
          "three targets, each with its host", f"{[(t['pid'], t.get('host')) for t in tg]}")
    r = cpprof("report", *files)
    check(r.returncode == 0 and "per host (3 files merged" in r.stdout and
          all(f"cross-checks of host 'master-{i}'" in r.stdout for i in (1, 2, 3)) and
          "call kinds by host" in r.stdout,
          "text: the per-host section names the three masters", r.stdout[-500:] + r.stderr[-200:])
    r = cpprof("report", *files, "--format", "md")
    rows = [line for line in r.stdout.splitlines() if "| master-" in line]
    check(r.returncode == 0 and "### Per host" in r.stdout and rows and
          all(line.count("|") in (5, 9) and "||" not in line for line in rows),
          "md: the per-host section, its tables well-formed", r.stderr[-200:] + "\n".join(rows[:3]))
    r = cpprof("report", f"{files[0]}:{LABEL}", files[1], files[2], "--label", LABEL, "--format", "json")
    check(r.returncode == 0 and json.loads(r.stdout)["runs"][0]["calls"] == run["calls"],
          "FILE:LABEL and --label name the same run", r.stderr[-200:])


def diff_cases():
    print("-- diff m1.db,m2.db m2.db:LABEL,m3.db:LABEL")
    base, cand = [db(1), db(2)], [db(2), db(3)]
    r = cpprof("diff", ",".join(base), ",".join(f"{f}:{LABEL}" for f in cand), "--format", "json")
    if not check(r.returncode == 0, "diff of two files per side exits 0", r.stderr[-300:]):
        return
    doc = json.loads(r.stdout)
    validate("merged diff", doc, "diff.schema.json")
    check([h["file"] for h in doc["base"].get("hosts", [])] == base and
          [h["file"] for h in doc["cand"].get("hosts", [])] == cand,
          "each side's \"hosts\" names its files", json.dumps(doc["base"].get("hosts"))[:300])
    lb, lc = latencies(base), latencies(cand)
    check(doc["base"]["requests"] == sum(map(len, lb.values())) and
          doc["cand"]["requests"] == sum(map(len, lc.values())),
          "each side's requests are the sum over its files")
    bad, compared = [], 0
    for c in doc["calls"]:
        k = key(c)
        for side, lat in (("base", lb), ("cand", lc)):
            s = c.get(side)
            if s is None:
                continue
            compared += 1
            v = lat.get(k, [])
            if s["count"] != len(v) or s["p99_ns"] != nearest(v, 99):
                bad.append(f"{side} {k[1]} {k[2]}: {s['count']}/{s['p99_ns']} != {len(v)}/{nearest(v, 99)}")
    if compared != len(lb) + len(lc):
        bad.append(f"{compared} sides compared, the files have {len(lb)} + {len(lc)} kinds")
    check(doc["calls"] and not bad, "every kind: each side's count and p99 are those of the union of its files",
          "; ".join(bad[:5]))


def refused(name, args, want):
    r = cpprof(*args)
    lines = r.stderr.strip().splitlines()
    check(r.returncode == 1 and len(lines) == 1 and want in r.stderr and not r.stdout,
          f"refused in one line: {name}", f"rc {r.returncode}: {r.stderr.strip()[:300]}")


def bad_input_cases():
    print("-- bad input")
    m1, m2, m3 = db(1), db(2), db(3)
    refused("the same file twice", ["report", m1, m2, m1], "is given twice")
    refused("the same file by another path", ["report", m1, os.path.join(TMP, ".", "m1.db")], "is given twice")
    copy = os.path.join(TMP, "copy.db")
    shutil.copy(m1, copy)
    refused("a copy of a file", ["report", m1, copy], "hold the same recording")
    other = os.path.join(TMP, "other.db")
    shutil.copy(m3, other)
    con = sqlite3.connect(other)
    con.execute("UPDATE runs SET label = 'elsewhere', host = 'master-9'")
    con.commit()
    con.close()
    refused("a label one file lacks", ["report", m1, m2, other, "--label", LABEL], "no run labelled")
    refused("a label one file lacks (diff)", ["diff", f"{m1},{m2}:nosuch", m3], "no run labelled 'nosuch'")
    kind = os.path.join(TMP, "kind.db")
    shutil.copy(m3, kind)
    con = sqlite3.connect(kind)
    con.execute("UPDATE runs SET kind = 'kubemark', host = 'master-9'")
    con.commit()
    con.close()
    refused("one run of two kinds", ["report", m1, kind], "is of kind")
    newer = os.path.join(TMP, "newer.db")
    shutil.copy(m3, newer)
    con = sqlite3.connect(newer)
    con.execute("INSERT INTO schema_version(version) VALUES (999)")
    con.execute("UPDATE runs SET host = 'master-9'")
    con.commit()
    con.close()
    refused("a schema version newer than cpprof", ["report", m1, newer], "has schema version 999")
    refused("the same file twice on one side of a diff", ["diff", f"{m1},{m1}", m2], "is given twice")
    # files each holding one run merge whatever their labels (default labels differ by master)
    r = cpprof("report", m1, other, "--format", "json")
    check(r.returncode == 0 and json.loads(r.stdout)["runs"][0]["label"] == f"{LABEL}+elsewhere",
          "files of one run each merge whatever their labels (label 'a+b')", r.stderr[-200:])
    r1, r2 = cpprof("report", m1, "--format", "json"), cpprof("report", m1, "--format", "json")
    d = json.loads(r1.stdout)
    check(r1.returncode == 0 and "files" not in d and "hosts" not in d["runs"][0] and r1.stdout == r2.stdout,
          "one file reports as before: no files, no hosts")


def main():
    if os.geteuid() != 0:
        print("masters: needs root (BPF uprobes); CI runs it as root")
        check(False, "running as root")
        return check.summary("masters")
    for exe in (CPPROF, SERVER, CLIENT):
        if not os.access(exe, os.X_OK):
            check(False, f"{exe} exists (make, tests/fixtures/build.sh)")
            return check.summary("masters")
    try:
        if record_masters():
            report_cases()
            diff_cases()
            bad_input_cases()
    finally:
        if not os.environ.get("KEEP"):
            shutil.rmtree(TMP, ignore_errors=True)
    return check.summary("masters")


if __name__ == "__main__":
    sys.exit(main())
