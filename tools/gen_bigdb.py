#!/usr/bin/env python3
"""Generate a large cpprof database (SCHEMA.md) for `make bench`: N request
rows split over two runs, "base" (kind real) and "cand" (kind kubemark),
without BPF or a cluster.

    tools/gen_bigdb.py [--rows 10000000] [--out build/bench-10M.db] [--seed 1]

What it holds, so that report and diff do the work they do on a real scale
test: two targets per run (apiserver and etcd), about 50 call kinds
(Kubernetes verbs x resources x scopes, non-resource paths, etcd gRPC
operations) with skewed weights, lognormal latencies around a per-kind
median, a few errors (5xx, 429, gRPC Unavailable), start times spread over
one hour; in the cand run pods calls are 3x slower and configmaps lists
0.7x, so diff has something to flag. Small tables too: cpu_profile and
cpu_stacks (serialization categories per call), syscalls (etcd fdatasync
per 10 s interval) and sock_stats.

The rows are made by SQLite itself (a recursive CTE over small lookup
tables: weighted kinds, 4096 lognormal quantiles), one transaction per
run; the indexes are built afterwards, exactly as cpprof's store builds
them when a run ends (the DDL is copied from user/store/store.c). About 10 s per
million rows on a 2-core VM, most of it the report index.
"""
import argparse
import math
import os
import random
import re
import sqlite3
import sys
import time

# user/store/store.c: schema_sql, added_sql and added_columns, as created by
# `cpprof record` today (version 1).
SCHEMA = """
CREATE TABLE schema_version(version INTEGER NOT NULL);
CREATE TABLE runs(
  id INTEGER PRIMARY KEY,
  label TEXT UNIQUE NOT NULL,
  kind TEXT NOT NULL CHECK(kind IN ('real','kubemark','other')),
  started_ns INTEGER, ended_ns INTEGER,
  host TEXT, kernel TEXT, command TEXT,
  requests INTEGER, lost_events INTEGER, unmatched INTEGER,
  nodes INTEGER, pods INTEGER, namespaces INTEGER, cluster_source TEXT,
  sample_hz INTEGER, lost_samples INTEGER);
CREATE TABLE targets(
  id INTEGER PRIMARY KEY,
  run_id INTEGER REFERENCES runs(id),
  pid INTEGER, component TEXT, exe TEXT, go_version TEXT,
  main_path TEXT, build_id TEXT, offsets_source TEXT, probes TEXT,
  attached_ns INTEGER, exited_ns INTEGER,
  k8s_version TEXT, etcd_version TEXT, cpu_ns INTEGER, samples INTEGER);
CREATE INDEX targets_run ON targets(run_id);
CREATE TABLE requests(
  run_id INTEGER REFERENCES runs(id), target_id INTEGER,
  component TEXT, protocol TEXT, method TEXT, verb TEXT,
  api_group TEXT, api_version TEXT, resource TEXT, subresource TEXT,
  namespace TEXT, scope TEXT, name TEXT, path TEXT,
  watch INTEGER, status INTEGER, start_ns INTEGER, latency_ns INTEGER);
CREATE TABLE cpu_profile(
  run_id INTEGER REFERENCES runs(id), target_id INTEGER,
  category TEXT, verb TEXT, resource TEXT,
  samples INTEGER, cpu_ns INTEGER,
  component TEXT, subresource TEXT, scope TEXT);
CREATE INDEX cpu_profile_run ON cpu_profile(run_id);
CREATE TABLE IF NOT EXISTS syscalls(
  run_id INTEGER REFERENCES runs(id), target_id INTEGER, component TEXT,
  syscall TEXT, interval_start_ns INTEGER, interval_ns INTEGER,
  le_ns INTEGER, count INTEGER, sum_ns INTEGER);
CREATE INDEX IF NOT EXISTS syscalls_run ON syscalls(run_id, component, syscall);
CREATE TABLE IF NOT EXISTS sock_stats(
  run_id INTEGER REFERENCES runs(id), target_id INTEGER, component TEXT,
  interval_start_ns INTEGER, interval_ns INTEGER,
  accepted INTEGER, closed INTEGER, peers INTEGER,
  bytes_in INTEGER, bytes_out INTEGER, retransmits INTEGER);
CREATE INDEX IF NOT EXISTS sock_stats_run ON sock_stats(run_id);
CREATE TABLE IF NOT EXISTS cpu_stacks(
  run_id INTEGER REFERENCES runs(id), target_id INTEGER, component TEXT,
  category TEXT, verb TEXT, resource TEXT, stack TEXT,
  samples INTEGER, cpu_ns INTEGER);
CREATE INDEX IF NOT EXISTS cpu_stacks_run ON cpu_stacks(run_id);
INSERT INTO schema_version VALUES (1);
"""


def store_ddl():
    """The version 2 schema exactly as user/store/store.c creates it: its
    schema_sql and added_sql (C string literals and the macros they use)
    and its added_columns, read from the source so the two cannot drift."""
    src = open(os.path.join(ROOT, "user", "store", "store.c")).read()
    macros = {}
    for m in re.finditer(r"#define (\w+) \\\n((?:.*\\\n)*.*)\n", src):
        macros[m.group(1)] = "".join(c_literal(t) for t in re.findall(r'"(?:[^"\\]|\\.)*"', m.group(2)))

    def block(name):
        i = src.index(f"static const char {name}[] =") + len(f"static const char {name}[] =")
        out = []
        for tok in re.finditer(r'/\*.*?\*/|"(?:[^"\\]|\\.)*"|\w+|;|\s+', src[i:], re.S):
            t = tok.group(0)
            if t == ";":
                return "".join(out)
            if t.startswith('"'):
                out.append(c_literal(t))
            elif t in macros:
                out.append(macros[t])
        raise ValueError(name)
    ddl = block("schema_sql") + block("added_sql") + "INSERT INTO schema_version VALUES (2);\n"
    return ddl, re.findall(r'\{ "(\w+)", "(\w+)", "(\w+)" \}', src)


def create_v2(con):
    """store.c's schema, then its added_columns where the table (or view)
    lacks them, as its add_columns does: a version 2 view may have them."""
    ddl, added = store_ddl()
    con.executescript(ddl)
    for table, col, typ in added:
        if not any(r[1] == col for r in con.execute(f"PRAGMA table_info({table})")):
            con.execute(f"ALTER TABLE {table} ADD COLUMN {col} {typ}")


def c_literal(t):
    return t[1:-1].replace("\\n", "\n").replace('\\"', '"').replace("\\\\", "\\")


# user/store/store.c: built when a run ends (requests_run is created with the
# table there; here after the bulk insert, which is faster and the same).
INDEXES = """
CREATE INDEX requests_run ON requests(run_id);
CREATE INDEX IF NOT EXISTS requests_report ON requests(run_id, component, verb,
  resource, subresource, scope, path, latency_ns, status, protocol);
"""

# (component, protocol, method, verb, group, resource, subresource, scope, path, median ms, weight)
A, E = "apiserver", "etcd"
KINDS = []
for res, grp, w in (("pods", "", 30), ("nodes", "", 12), ("configmaps", "", 8), ("secrets", "", 6),
                    ("services", "", 3), ("endpoints", "", 5), ("events", "", 10),
                    ("leases", "coordination.k8s.io", 14), ("deployments", "apps", 2),
                    ("replicasets", "apps", 2)):
    scope_one = "cluster" if res == "nodes" else "resource"
    KINDS += [
        (A, "HTTP/2", "GET", "get", grp, res, "", "resource", None, 4, w * 4),
        (A, "HTTP/2", "GET", "list", grp, res, "", "namespace" if res != "nodes" else "cluster", None, 30, w),
        (A, "HTTP/2", "PUT", "update", grp, res, "", "resource", None, 12, w * 2),
    ]
    if res in ("pods", "events", "configmaps", "deployments"):
        KINDS.append((A, "HTTP/2", "POST", "create", grp, res, "", "namespace", None, 15, w))
    if res in ("pods", "nodes"):
        KINDS.append((A, "HTTP/2", "PATCH", "patch", grp, res, "status", "resource", None, 10, w * 2))
        KINDS.append((A, "HTTP/2", "GET", "list", grp, res, "", "cluster", None, 250, 1))
KINDS += [
    (A, "HTTP/2", "DELETE", "delete", "", "pods", "", "resource", None, 14, 6),
    (A, "HTTP/1.1", "GET", "get", "", "", "", "", "/healthz", 0.3, 3),
    (A, "HTTP/1.1", "GET", "get", "", "", "", "", "/metrics", 8, 1),
    (A, "HTTP/1.1", "GET", "get", "", "", "", "", "/openapi/v2", 120, 1),
    (E, "gRPC", "/etcdserverpb.KV/Range", "range", "", "pods", "", "resource", None, 0.8, 60),
    (E, "gRPC", "/etcdserverpb.KV/Range", "range", "", "pods", "", "namespace", None, 6, 8),
    (E, "gRPC", "/etcdserverpb.KV/Range", "range", "", "nodes", "", "resource", None, 0.7, 20),
    (E, "gRPC", "/etcdserverpb.KV/Txn", "txn", "", "pods", "", "resource", None, 3, 40),
    (E, "gRPC", "/etcdserverpb.KV/Txn", "txn", "", "leases", "", "resource", None, 2.5, 30),
    (E, "gRPC", "/etcdserverpb.KV/Txn", "txn", "", "events", "", "resource", None, 2.8, 20),
    (E, "gRPC", "/etcdserverpb.KV/Put", "put", "", "events", "", "resource", None, 2.2, 5),
    (E, "gRPC", "/etcdserverpb.Lease/LeaseGrant", "lease_grant", "", "", "", "", None, 1.5, 3),
    (E, "gRPC", "/etcdserverpb.KV/Compact", "compact", "", "", "", "", None, 40, 1),
]
# cand: a known change, so diff has something to flag
CAND_FACTOR = {"pods": 3.0}
CAND_LIST_FACTOR = {"configmaps": 0.7}
HOUR_NS = 3600 * 10**9
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CATEGORIES = ("json_encode", "json_decode", "protobuf_encode", "protobuf_decode", "gzip", "tls",
              "http2", "grpc", "etcd_storage", "gc", "syscall", "other")


def create(db, schema=2):
    for suffix in ("", "-wal", "-shm", "-journal"):
        try:
            os.unlink(db + suffix)
        except FileNotFoundError:
            pass
    fd = os.open(db, os.O_CREAT | os.O_WRONLY, 0o600)
    os.close(fd)
    con = sqlite3.connect(db, isolation_level=None)
    con.execute("PRAGMA journal_mode=OFF")  # a throwaway bench file: no rollback journal
    con.execute("PRAGMA synchronous=OFF")
    con.execute("PRAGMA cache_size=-262144")  # 256 MiB for the index sort
    con.execute("PRAGMA temp_store=MEMORY")
    if schema == 1:
        con.executescript(SCHEMA)
    else:
        create_v2(con)
    return con


def lookup_tables(con, rng):
    con.execute("CREATE TEMP TABLE kinds(id INTEGER PRIMARY KEY, component, protocol, method, verb, "
                "api_group, resource, subresource, scope, path, median_ns, watch)")
    con.execute("CREATE TEMP TABLE slots(slot INTEGER PRIMARY KEY, kind_id)")
    con.execute("CREATE TEMP TABLE lat(i INTEGER PRIMARY KEY, f REAL)")
    slots = []
    for i, k in enumerate(KINDS):
        comp, proto, method, verb, grp, res, sub, scope, path, med_ms, w = k
        con.execute("INSERT INTO kinds VALUES (?,?,?,?,?,?,?,?,?,?,?,0)",
                    (i, comp, proto, method, verb, grp, res, sub, scope, path, int(med_ms * 1e6)))
        slots += [i] * w
    rng.shuffle(slots)
    con.executemany("INSERT INTO slots VALUES (?, ?)", enumerate(slots))
    # 4096 lognormal quantiles, sigma 0.6, plus a heavier tail in the top 1%
    n = 4096
    vals = []
    for i in range(n):
        p = (i + 0.5) / n
        z = inv_norm(p)
        f = math.exp(0.6 * z)
        if p > 0.99:
            f *= 1 + 8 * (p - 0.99) / 0.01
        vals.append((i, f))
    con.executemany("INSERT INTO lat VALUES (?, ?)", vals)
    return len(slots)


def inv_norm(p):
    """Acklam's rational approximation of the standard normal quantile."""
    a = (-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
         1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00)
    b = (-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
         6.680131188771972e+01, -1.328068155308572e+01)
    c = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758209767500e+00,
         -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00)
    d = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408503267937e+00)
    if p < 0.02425:
        q = math.sqrt(-2 * math.log(p))
        return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / \
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
    if p > 1 - 0.02425:
        return -inv_norm(1 - p)
    q = p - 0.5
    r = q * q
    return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q / \
        (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)


RUN_COLS = ("id, label, kind, started_ns, ended_ns, host, kernel, command, requests, lost_events, "
            "unmatched, nodes, pods, namespaces, cluster_source, sample_hz, lost_samples")
TARGET_COLS = ("id, run_id, pid, component, exe, go_version, main_path, build_id, offsets_source, probes, "
               "attached_ns, exited_ns, k8s_version, etcd_version, cpu_ns, samples")


def add_run(con, run_id, label, kind, rows, nslots, started, rng, schema=2):
    ended = started + HOUR_NS
    con.execute(f"INSERT INTO runs({RUN_COLS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (run_id, label, kind, started, ended, "bench-master-0", "6.1.0-bench",
                 f"tools/gen_bigdb.py --rows {rows}", rows, 0, 0,
                 5000 if kind == "real" else 5000, 150000, 40, "flags", 99, 0))
    tid_a, tid_e = run_id * 10 + 1, run_id * 10 + 2
    con.execute(f"INSERT INTO targets({TARGET_COLS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (tid_a, run_id, 1000 + run_id, "apiserver", "/usr/local/bin/kube-apiserver", "go1.22.5",
                 "k8s.io/kubernetes/cmd/kube-apiserver", "bench", "offsets table (go1.22)",
                 "net/http server", started, None, "v1.31.0", None, 2400 * 10**9, 240000))
    con.execute(f"INSERT INTO targets({TARGET_COLS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (tid_e, run_id, 2000 + run_id, "etcd", "/usr/local/bin/etcd", "go1.22.5",
                 "go.etcd.io/etcd/server/v3", "bench", "accessor decoding", "gRPC server",
                 started, None, None, "3.5.15", 900 * 10**9, 90000))
    cand = label == "cand"
    pods = CAND_FACTOR["pods"] if cand else 1.0
    cml = CAND_LIST_FACTOR["configmaps"] if cand else 1.0
    # one statement: a counter, a weighted kind, a lognormal factor, a
    # status; starts spread evenly over the hour with a little jitter
    con.execute("BEGIN")
    if schema == 2:
        add_rows_v2(con, run_id, rows, nslots, started, tid_a, tid_e, pods, cml)
    else:
        con.execute(f"""
        WITH RECURSIVE c(n, r1, r2, r3) AS (
            SELECT 0, abs(random()), abs(random()), abs(random())
            UNION ALL
            SELECT n + 1, abs(random()), abs(random()), abs(random()) FROM c WHERE n < :rows - 1)
        INSERT INTO requests
        SELECT :run, CASE k.component WHEN 'etcd' THEN :te ELSE :ta END,
               k.component, k.protocol, k.method, k.verb, k.api_group,
               CASE WHEN k.path IS NULL THEN 'v1' ELSE '' END, k.resource, k.subresource,
               CASE WHEN k.scope IN ('namespace', 'resource') THEN 'ns-' || (n % 8) ELSE '' END,
               k.scope, NULL, k.path, k.watch,
               CASE WHEN k.component = 'etcd' THEN (CASE WHEN n % 5003 = 0 THEN 14 ELSE 0 END)
                    WHEN n % 997 = 0 THEN 500 WHEN n % 1999 = 0 THEN 429
                    WHEN k.method = 'POST' THEN 201 ELSE 200 END,
               :start + n * (3600000000000 / :rows) + r3 % 1000000,
               CAST(k.median_ns * l.f
                    * (CASE WHEN k.resource = 'pods' AND k.component = 'apiserver' THEN :pods ELSE 1.0 END)
                    * (CASE WHEN k.resource = 'configmaps' AND k.verb = 'list' THEN :cml ELSE 1.0 END)
                    * (1.0 + 0.3 * sin(n * 6.283 / :rows * 3)) AS INTEGER)
        FROM c
        JOIN slots s ON s.slot = r1 % :nslots
        JOIN kinds k ON k.id = s.kind_id
        JOIN lat l ON l.i = r2 % 4096
    """, {"rows": rows, "run": run_id, "ta": tid_a, "te": tid_e, "start": started, "pods": pods,
          "cml": cml, "nslots": nslots})
    con.execute("COMMIT")

    # CPU profile: samples per category for the heavier call kinds
    prof, stacks = [], []
    for k in KINDS:
        comp, proto, method, verb, grp, res, sub, scope, path, med_ms, w = k
        if path:
            continue
        tid = tid_e if comp == E else tid_a
        f = pods if (res == "pods" and comp == A) else 1.0
        for cat in CATEGORIES:
            if comp == E and cat.startswith("json"):
                continue
            share = {"json_encode": 6, "json_decode": 3, "protobuf_encode": 4, "protobuf_decode": 3,
                     "etcd_storage": 10 if comp == E else 0, "grpc": 5 if comp == E else 1,
                     "gc": 4, "syscall": 3, "tls": 2, "http2": 2, "gzip": 1, "other": 5}.get(cat, 1)
            if share == 0:
                continue
            samples = max(1, int(w * med_ms * share * f * rng.uniform(0.8, 1.2)))
            cpu = samples * (10**9 // 99)
            prof.append((run_id, tid, cat, verb, res, samples, cpu, comp, sub, scope))
            stacks.append((run_id, tid, comp, cat, verb, res,
                           f"runtime.goexit;net/http.(*conn).serve;k8s.io/apiserver.handle;{cat}.work",
                           samples, cpu))
    con.executemany("INSERT INTO cpu_profile(run_id, target_id, category, verb, resource, samples, cpu_ns, "
                    "component, subresource, scope) VALUES (?,?,?,?,?,?,?,?,?,?)", prof)
    if schema == 1:
        con.executemany("INSERT INTO cpu_stacks VALUES (?,?,?,?,?,?,?,?,?)", stacks)
    else:
        add_stacks_v2(con, stacks)

    # etcd fdatasync histograms per 10 s and connection counters
    sysrows, sock = [], []
    iv = 10 * 10**9
    buckets = [int(2 ** (e / 4) * 1000) for e in range(40, 72)]  # ~1 ms .. ~250 ms
    for t in range(started, ended, iv):
        for le in buckets:
            cnt = int(max(0, 300 * math.exp(-((math.log2(le / 2e6)) ** 2)) * rng.uniform(0.7, 1.3)))
            if cnt:
                sysrows.append((run_id, tid_e, E, "fdatasync", t, iv, le, cnt, cnt * int(le * 0.85)))
        sock.append((run_id, tid_a, A, t, iv, rng.randint(0, 5), rng.randint(0, 5), rng.randint(50, 60),
                     rng.randint(10**7, 2 * 10**7), rng.randint(5 * 10**7, 10**8), rng.randint(0, 3)))
    con.executemany("INSERT INTO syscalls VALUES (?,?,?,?,?,?,?,?,?)", sysrows)
    con.executemany("INSERT INTO sock_stats VALUES (?,?,?,?,?,?,?,?,?,?,?)", sock)


# call_kinds ids of a run: KINDS index x namespace (ns-0..7, or '' as 0) x status
# slot (0: 200/201 or gRPC OK, 1: 500 or gRPC 14, 2: 429), as store.c would intern them
def kind_base(run_id):
    return (run_id - 1) * len(KINDS) * 32 + 1


def add_rows_v2(con, run_id, rows, nslots, started, tid_a, tid_e, pods, cml):
    """The rows of add_run, written as store.c writes schema version 2:
    one call_kinds row per distinct kind, request_rows of integers."""
    kb = kind_base(run_id)
    kinds = []
    for i, k in enumerate(KINDS):
        comp, proto, method, verb, grp, res, sub, scope, path, med_ms, w = k
        for nsi in range(8):
            ns = f"ns-{nsi}" if scope in ("namespace", "resource") else ""
            if not ns and nsi:
                continue
            for si, st in enumerate((0, 14) if comp == E else (201 if method == "POST" else 200, 500, 429)):
                kinds.append((kb + (i * 8 + nsi) * 4 + si, run_id, tid_e if comp == E else tid_a, comp, proto,
                              method, verb, grp, "v1" if path is None else "", res, sub, ns, scope, None, path,
                              0, st, started))
    con.executemany("INSERT INTO call_kinds(id, run_id, target_id, component, protocol, method, verb, "
                    "api_group, api_version, resource, subresource, namespace, scope, name, path, watch, "
                    "status, base_ns) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", kinds)
    first = (con.execute("SELECT max(id) FROM request_rows").fetchone()[0] or 0) + 1
    con.execute("""
        WITH RECURSIVE c(n, r1, r2, r3) AS (
            SELECT 0, abs(random()), abs(random()), abs(random())
            UNION ALL
            SELECT n + 1, abs(random()), abs(random()), abs(random()) FROM c WHERE n < :rows - 1)
        INSERT INTO request_rows(kind, start_off, latency_ns)
        SELECT :kb + (k.id * 8 + CASE WHEN k.scope IN ('namespace', 'resource') THEN n % 8 ELSE 0 END) * 4
                   + CASE WHEN k.component = 'etcd' THEN (CASE WHEN n % 5003 = 0 THEN 1 ELSE 0 END)
                          WHEN n % 997 = 0 THEN 1 WHEN n % 1999 = 0 THEN 2 ELSE 0 END,
               n * (3600000000000 / :rows) + r3 % 1000000,
               CAST(k.median_ns * l.f
                    * (CASE WHEN k.resource = 'pods' AND k.component = 'apiserver' THEN :pods ELSE 1.0 END)
                    * (CASE WHEN k.resource = 'configmaps' AND k.verb = 'list' THEN :cml ELSE 1.0 END)
                    * (1.0 + 0.3 * sin(n * 6.283 / :rows * 3)) AS INTEGER)
        FROM c
        JOIN slots s ON s.slot = r1 % :nslots
        JOIN kinds k ON k.id = s.kind_id
        JOIN lat l ON l.i = r2 % 4096
    """, {"rows": rows, "kb": kb, "pods": pods, "cml": cml, "nslots": nslots})
    last = con.execute("SELECT max(id) FROM request_rows").fetchone()[0]
    con.execute("INSERT INTO request_spans(run_id, first_id, last_id) VALUES (?, ?, ?)", (run_id, first, last))


def add_stacks_v2(con, stacks):
    """cpu_stacks rows as store__add_stack writes them: frames interned."""
    funcs = {n: i for i, n in con.execute("SELECT id, name FROM cpu_functions")}
    ids = {f: i for i, f in con.execute("SELECT id, frames FROM cpu_stack_ids")}
    for run_id, tid, comp, cat, verb, res, stack, samples, cpu in stacks:
        fr = []
        for name in stack.split(";"):
            if name not in funcs:
                funcs[name] = con.execute("INSERT INTO cpu_functions(name) VALUES (?)", (name,)).lastrowid
            fr.append(str(funcs[name]))
        key = "[" + ",".join(fr) + "]"
        if key not in ids:
            ids[key] = con.execute("INSERT INTO cpu_stack_ids(frames) VALUES (?)", (key,)).lastrowid
        con.execute("INSERT INTO cpu_stack_samples(run_id, target_id, component, category, verb, resource, "
                    "stack_id, samples, cpu_ns) VALUES (?,?,?,?,?,?,?,?,?)",
                    (run_id, tid, comp, cat, verb, res, ids[key], samples, cpu))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=10_000_000, help="request rows in all (default 10,000,000)")
    ap.add_argument("--out", default="build/bench-10M.db")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--schema", type=int, choices=(1, 2), default=2,
                    help="schema version to write: 2 (today's, default) or 1 (before 2026-12, for comparisons)")
    a = ap.parse_args()
    if a.rows < 2:
        ap.error("--rows must be at least 2")
    rng = random.Random(a.seed)
    t0 = time.time()
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    con = create(a.out, a.schema)
    nslots = lookup_tables(con, rng)
    base_rows = a.rows // 2
    start = 1_700_000_000 * 10**9
    add_run(con, 1, "base", "real", base_rows, nslots, start, rng, a.schema)
    add_run(con, 2, "cand", "kubemark", a.rows - base_rows, nslots, start + 2 * HOUR_NS, rng, a.schema)
    t1 = time.time()
    if a.schema == 1:
        con.executescript(INDEXES)  # version 2 has none: the report scans request_rows
    con.execute("PRAGMA journal_mode=WAL")  # as cpprof leaves its files
    con.close()
    print(f"gen_bigdb: {a.rows:,} request rows in '{a.out}' (rows {t1 - t0:.1f} s, "
          f"indexes {time.time() - t1:.1f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
