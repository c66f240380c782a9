#!/usr/bin/env python3
"""Byte-for-byte check of everything `cpprof report`, `diff` and `runs`
print, against golden outputs written by the code before the report model
(issue 11): the renderers were rebuilt over one model and must print what
the old code printed.

The databases are in tests/golden: real.db holds two real runs (json,
protobuf) of Debian's etcd and the Go test server under hollowload and
etcdctl load, recorded by tests/golden/record.sh; synth.db holds two
synthetic runs (base, cand) by tools/gen_bigdb.py --rows 4000. Each case
runs in a temporary directory holding copies of both (so the file names
in the output are the same everywhere and the committed files are never
opened for writing) and compares standard output, standard error and the
exit status with tests/golden/out/NAME.{out,err,rc}.

Three more files are made here from real.db, the same way every time:
edge.db (NULLs where the recorder leaves them or an older cpprof did not
write them, a run with no requests, no targets and no CPU tables, a
label with a control character), noruns.db (a cpprof file whose runs
were deleted), empty.db (SQLite without tables) and
notadb.db (not SQLite), so that the NULL paths and the error messages
are covered too.

Every case runs a second time on copies of the five files made with
`cpprof migrate` (schema version 2, SCHEMA.md), and must print the same
bytes: the report of a version 2 file is the report of its version 1 original.

HTML has nothing that changes between runs (no clock, no random ids, no
absolute paths when the database is named relatively): the test renders
every HTML case twice and fails if the two differ, so that a
nondeterministic page shows as such and not as a false golden mismatch.

Usage: test_report_golden.py BUILD_DIR [--update]
       ends with "report-golden: N passed, N failed"
--update rewrites the golden files from BUILD_DIR's cpprof (only with the
code whose output is the reference).
"""
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import itlib  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GOLDEN = os.path.join(ROOT, "tests", "golden")
OUT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 and not sys.argv[1].startswith("-") else "build")
CPPROF = os.path.join(OUT, "cpprof")
UPDATE = "--update" in sys.argv

FORMATS = ("text", "md", "json", "html")
CASES = []
for f in FORMATS:
    CASES.append((f"report-real-{f}", ["report", "real.db", "--format", f]))
    CASES.append((f"report-real-protobuf-{f}", ["report", "real.db", "--label", "protobuf", "--format", f]))
    CASES.append((f"report-synth-{f}", ["report", "synth.db", "--format", f]))
    CASES.append((f"report-synth-cand-{f}", ["report", "synth.db", "--label", "cand", "--format", f]))
    CASES.append((f"diff-real-{f}", ["diff", "real.db:json", "real.db:protobuf", "--format", f]))
    CASES.append((f"diff-synth-{f}", ["diff", "synth.db:base", "synth.db:cand", "--format", f]))
    CASES.append((f"diff-synth-delta-{f}", ["diff", "synth.db:base", "synth.db:cand", "--min-delta-ms", "50",
                                            "--format", f]))
    CASES.append((f"diff-trend-{f}", ["diff", "--trend", "synth.db:base", "synth.db:cand", "real.db:json",
                                      "real.db:protobuf", "--format", f]))
    CASES.append((f"diff-trend4-{f}", ["diff", "synth.db:base", "synth.db:cand", "synth.db:cand",
                                       "synth.db:base", "--format", f]))
CASES += [
    ("report-edge-text", ["report", "edge.db"]),
    ("report-edge-md", ["report", "edge.db", "--format", "md"]),
    ("report-edge-json", ["report", "edge.db", "--format", "json"]),
    ("report-edge-html", ["report", "edge.db", "--format", "html"]),
    ("report-edge-folded", ["report", "edge.db", "--label", "json", "--format", "folded"]),
    ("diff-edge", ["diff", "edge.db:json", "edge.db:protobuf"]),
    ("diff-edge-json", ["diff", "edge.db:json", "edge.db:protobuf", "--format", "json"]),
    ("diff-edge-md", ["diff", "edge.db:json", "edge.db:protobuf", "--format", "md"]),
    ("diff-edge-empty", ["diff", "edge.db:json", "edge.db:empty", "--format", "json"]),
    ("runs-edge-text", ["runs", "edge.db"]),
    ("runs-edge-json", ["runs", "edge.db", "--format", "json"]),
    ("report-empty", ["report", "empty.db"]),
    ("report-noruns", ["report", "noruns.db"]),
    ("report-noruns-json", ["report", "noruns.db", "--format", "json"]),
    ("report-noruns-md", ["report", "noruns.db", "--format", "md"]),
    ("report-noruns-folded", ["report", "noruns.db", "--format", "folded"]),
    ("runs-noruns", ["runs", "noruns.db"]),
    ("runs-noruns-json", ["runs", "noruns.db", "--format", "json"]),
    ("diff-noruns", ["diff", "noruns.db", "real.db:json"]),
    ("report-notadb", ["report", "notadb.db"]),
    ("runs-empty", ["runs", "empty.db"]),
    ("runs-notadb", ["runs", "notadb.db"]),
    ("diff-notadb", ["diff", "notadb.db", "real.db:json"]),
    ("report-notadb-folded", ["report", "notadb.db", "--format", "folded"]),
    ("report-real-json-folded", ["report", "real.db", "--label", "json", "--format", "folded"]),
    ("report-real-protobuf-folded-etcd", ["report", "real.db", "--label", "protobuf", "--format", "folded",
                                          "--component", "etcd"]),
    ("report-synth-base-folded", ["report", "synth.db", "--label", "base", "--format", "folded"]),
    ("report-synth-cand-folded-apiserver", ["report", "synth.db", "--label", "cand", "--format", "folded",
                                            "--component", "apiserver"]),
    ("report-real-folded-no-label", ["report", "real.db", "--format", "folded"]),
    ("report-no-such-label", ["report", "real.db", "--label", "nope"]),
    ("report-missing-file", ["report", "missing.db"]),
    ("diff-no-label", ["diff", "real.db", "synth.db:base"]),
    ("diff-no-such-label", ["diff", "real.db:nope", "synth.db:base"]),
    ("diff-self", ["diff", "real.db:json", "real.db:json"]),
    ("runs-real-text", ["runs", "real.db"]),
    ("runs-real-json", ["runs", "real.db", "--format", "json"]),
    ("runs-synth-text", ["runs", "synth.db"]),
    ("runs-synth-json", ["runs", "synth.db", "--format", "json"]),
    ("runs-missing-file", ["runs", "missing.db"]),
]


EDGE_SQL = """
UPDATE runs SET ended_ns = NULL, requests = NULL, lost_events = NULL, unmatched = NULL,
  nodes = NULL, pods = NULL, namespaces = NULL, cluster_source = NULL, host = NULL,
  sample_hz = NULL, lost_samples = NULL WHERE label = 'json';
UPDATE runs SET pods = 7, kernel = NULL, label = 'proto' || char(27) || 'buf' WHERE label = 'protobuf';
UPDATE targets SET cpu_ns = NULL, exited_ns = NULL, k8s_version = '1.36.4', go_version = NULL
  WHERE component = 'apiserver';
UPDATE targets SET etcd_version = '3.5.30', samples = NULL WHERE component = 'etcd';
UPDATE requests SET status = 503 WHERE rowid % 7 = 0;
UPDATE requests SET status = 429 WHERE rowid % 11 = 0;
UPDATE requests SET latency_ns = 2000000000 WHERE rowid % 13 = 0 AND verb = 'create';
INSERT INTO runs(label, kind, started_ns) VALUES ('empty', 'kubemark', 1700000000000000000);
DROP TABLE cpu_stacks;
"""


def make_edge(tmp):
    import sqlite3
    edge = os.path.join(tmp, "edge.db")
    shutil.copy(os.path.join(GOLDEN, "real.db"), edge)
    con = sqlite3.connect(edge)
    con.executescript(EDGE_SQL)
    con.commit()
    con.close()
    noruns = os.path.join(tmp, "noruns.db")
    shutil.copy(os.path.join(GOLDEN, "synth.db"), noruns)
    con = sqlite3.connect(noruns)
    con.execute("DELETE FROM runs")
    con.commit()
    con.close()
    sqlite3.connect(os.path.join(tmp, "empty.db")).execute("VACUUM").connection.close()
    with open(os.path.join(tmp, "notadb.db"), "w") as f:
        f.write("this is not an SQLite file\n" * 40)


def run(tmp, args):
    p = subprocess.run([CPPROF] + args, cwd=tmp, capture_output=True, timeout=120)
    return p.stdout, p.stderr, p.returncode


def main():
    check = itlib.Checks()
    tmp = tempfile.mkdtemp(prefix="cpprof-golden.")
    try:
        for db in ("real.db", "synth.db"):
            shutil.copy(os.path.join(GOLDEN, db), os.path.join(tmp, db))
        make_edge(tmp)
        # Schema version 2: the same files through `cpprof migrate` must print
        # the same bytes (the golden outputs were written from version 1 files).
        v2 = os.path.join(tmp, "v2")
        os.makedirs(v2)
        for db in ("real.db", "synth.db", "edge.db", "noruns.db"):
            p = subprocess.run([CPPROF, "migrate", db, os.path.join(v2, db)], cwd=tmp,
                               capture_output=True, text=True, timeout=120)
            check(p.returncode == 0, f"v2: `cpprof migrate {db}` makes a version 2 file", p.stderr)
        for db in ("empty.db", "notadb.db"):
            shutil.copy(os.path.join(tmp, db), os.path.join(v2, db))
        # Big enough that both scans of a version 2 run are split over two threads
        # (more than 100,000 rows a run): the same bytes as its version 1 original.
        if not UPDATE:
            big1, big2 = os.path.join(tmp, "big1.db"), os.path.join(tmp, "big2.db")
            p = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "gen_bigdb.py"), "--rows", "300000",
                                "--schema", "1", "--out", big1], capture_output=True, text=True, timeout=600)
            check(p.returncode == 0, "gen_bigdb --schema 1 made a 300,000-row file", p.stderr[-300:])
            p = subprocess.run([CPPROF, "migrate", big1, big2], capture_output=True, text=True, timeout=600)
            check(p.returncode == 0, "cpprof migrate copied it into schema version 2", p.stderr[-300:])
            for args in (["report", "{}", "--format", "json"], ["report", "{}", "--label", "cand"],
                         ["diff", "{}:base", "{}:cand", "--format", "json"]):
                a = run(tmp, [x.format("big1.db") for x in args])
                b = run(tmp, [x.format("big2.db") for x in args])
                b = (b[0].replace(b"big2.db", b"big1.db"), b[1], b[2])  # the names in the output
                check(a[2] == 0 and a == b, f"v2-big: `cpprof {' '.join(args).replace('{}', 'FILE')}` prints "
                      f"the same bytes on both schemas ({len(a[0])} bytes)", b[1].decode()[-300:])
        outdir = os.path.join(GOLDEN, "out")
        os.makedirs(outdir, exist_ok=True)
        runs = [(name, args, tmp) for name, args in CASES]
        if not UPDATE:
            # edge.db lacks the cpu_stacks table of version 1 (an old recorder); every
            # version 2 file has the view, empty here, so its folded report is empty.
            runs += [("v2-" + name, args, v2) for name, args in CASES if name != "report-edge-folded"]
        for name, args, where in runs:
            out, err, rc = run(where, args)
            if "html" in args:
                again = run(where, args)
                check(again == (out, err, rc), f"{name}: two renderings are identical")
            base = os.path.join(outdir, name[3:] if where == v2 else name)
            if UPDATE:
                with open(base + ".out", "wb") as f:
                    f.write(out)
                with open(base + ".err", "wb") as f:
                    f.write(err)
                with open(base + ".rc", "w") as f:
                    f.write(f"{rc}\n")
                continue
            try:
                want = [open(base + s, "rb").read() for s in (".out", ".err", ".rc")]
            except OSError as e:
                check(False, f"{name}: golden file missing ({e})")
                continue
            got = [out, err, f"{rc}\n".encode()]
            same = got == want
            detail = ""
            if not same:
                with open(os.path.join(tmp, name + ".out"), "wb") as f:
                    f.write(out)
                detail = f" (differs; got {len(out)} bytes stdout, rc {rc}; see {tmp}/{name}.out)"
            check(same, f"{name}: `cpprof {' '.join(args)}` prints the golden output{detail}")
    finally:
        if check.failed == 0:
            shutil.rmtree(tmp, ignore_errors=True)
    sys.exit(check.summary("report-golden"))


if __name__ == "__main__":
    main()
