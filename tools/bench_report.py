#!/usr/bin/env python3
"""Time `cpprof report` and `cpprof diff` on a database of 10 million
request rows (the goal: under 5 s each, in bounded memory).

    tools/bench_report.py [BUILD_DIR] [--rows N] [--repeat 3]

The database is made once by tools/gen_bigdb.py (two runs, "base" and
"cand", N/2 rows each) and kept as BUILD_DIR/bench-<N>-v2.db; it is made
again only when missing or holding another row count. A schema version 1
file of the same shape (BUILD_DIR/bench-<N>.db, gen_bigdb --schema 1) is
kept too: the lines "schema 2 vs schema 1" time report and diff on both,
taking turns, and "bytes per request" compares their sizes. Each command runs
--repeat times with its output thrown away; the lines give every wall
time, the median, and the peak resident memory of the slowest run, read
from the child's own rusage (wait4), e.g.

    bench: report on 10,000,000 rows (both runs): 3.95 s median (3.91 4.02 3.95), peak RSS 18 MiB (goal < 5 s: ok)

With --against OTHER_BUILD_DIR each command also runs with that build's
cpprof, the two taking turns on the same file in the same session, and a
line gives the ratio of the medians (this build / the other): how a change
moved the time with the machine's noise shared by both sides.

Exit status 1 when a command fails (not when a goal is missed: a bench
reports, the tests judge).
"""
import argparse
import os
import sqlite3
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GOAL_S = 5.0


def rows_in(db):
    """Request rows in DB by the runs table (quick), None if it is not a
    complete bench database."""
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        n = con.execute("SELECT sum(requests) FROM runs WHERE label IN ('base', 'cand')").fetchone()[0]
        # complete: version 1 has its report index, version 2 its narrow rows
        idx = con.execute("SELECT count(*) FROM sqlite_master WHERE name IN "
                          "('requests_report', 'request_rows')").fetchone()[0]
        con.close()
        return n if idx else None
    except sqlite3.Error:
        return None


def run(cmd):
    """Wall time, peak RSS in KiB, exit status and stderr of CMD (stdout discarded)."""
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    # read stderr before waiting, so that a chatty child cannot block
    err = p.stderr.read()
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    return wall, ru.ru_maxrss, p.returncode, err.decode(errors="replace")


def bench(name, cmd, rows, repeat):
    times, rss = [], 0
    for _ in range(repeat):
        wall, maxrss, rc, err = run(cmd)
        if rc != 0:
            print(f"bench: {name}: FAILED (exit {rc}): {err.strip()[-300:]}")
            print(f"       command: {' '.join(cmd)}")
            return False
        times.append(wall)
        rss = max(rss, maxrss)
    med = statistics.median(times)
    verdict = "ok" if med < GOAL_S else "MISSED"
    print(f"bench: {name} on {rows:,} rows: {med:.2f} s median "
          f"({' '.join(f'{t:.2f}' for t in times)}), peak RSS {rss / 1024:.0f} MiB "
          f"(goal < {GOAL_S:.0f} s: {verdict})")
    sys.stdout.flush()
    return True


def against(name, cmd, other, rows, repeat):
    """CMD with this build and with OTHER (its cpprof in place of CMD[0]),
    alternating; prints both medians and their ratio."""
    mine, theirs = [], []
    for _ in range(repeat):
        for times, c in ((mine, cmd), (theirs, [other] + cmd[1:])):
            wall, _, rc, err = run(c)
            if rc != 0:
                print(f"bench: {name}: FAILED (exit {rc}): {err.strip()[-300:]}")
                return False
            times.append(wall)
    a, b = statistics.median(mine), statistics.median(theirs)
    print(f"bench: {name} on {rows:,} rows: {a:.2f} s here, {b:.2f} s with '{other}' "
          f"(medians of {repeat}, taking turns): ratio {a / b:.3f}")
    sys.stdout.flush()
    return True


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("build", nargs="?", default="build")
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--against", metavar="OTHER_BUILD_DIR",
                    help="also time OTHER_BUILD_DIR/cpprof, taking turns, and print the ratio")
    a = ap.parse_args()
    cpprof = os.path.join(a.build, "cpprof")
    if not os.access(cpprof, os.X_OK):
        print(f"bench_report: no '{cpprof}': run 'make' first", file=sys.stderr)
        return 1
    tag = f"{a.rows // 1_000_000}M" if a.rows % 1_000_000 == 0 else str(a.rows)
    db = os.path.join(a.build, f"bench-{tag}-v2.db")
    old = os.path.join(a.build, f"bench-{tag}.db")   # schema version 1, as before
    for path, schema in ((db, 2), (old, 1)):
        if rows_in(path) != a.rows:
            print(f"bench: generating '{path}' ({a.rows:,} rows, schema version {schema}; once, "
                  f"about {10 if schema == 1 else 5} s per million rows)")
            sys.stdout.flush()
            r = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "gen_bigdb.py"),
                                "--rows", str(a.rows), "--out", path, "--schema", str(schema)])
            if r.returncode != 0 or rows_in(path) != a.rows:
                print("bench: gen_bigdb failed")
                return 1
    size, size_old = os.path.getsize(db), os.path.getsize(old)
    print(f"bench: '{db}': {a.rows:,} request rows in two runs (base, cand), {size / 2**20:.0f} MiB")
    print(f"bench: bytes per request, whole file: {size / a.rows:.1f} (schema 2) vs {size_old / a.rows:.1f} "
          f"(schema 1): ratio {size / size_old:.3f} (goal <= 40 B)")
    sys.stdout.flush()
    ok = True
    if a.against:
        other = os.path.join(a.against, "cpprof")
        for name, cmd, rows in (
                ("report (both runs)", [cpprof, "report", db, "--format", "json"], a.rows),
                ("report --label base", [cpprof, "report", db, "--label", "base", "--format", "json"],
                 a.rows // 2),
                ("report (text)", [cpprof, "report", db], a.rows),
                ("diff base cand", [cpprof, "diff", f"{db}:base", f"{db}:cand", "--format", "json"],
                 a.rows)):
            ok &= against(name, cmd, other, rows, a.repeat)
        return 0 if ok else 1
    # The same build on the two schemas, taking turns: what the compact schema did to the time.
    for name, args in (("report (both runs)", ["report", "{}", "--format", "json"]),
                       ("diff base cand", ["diff", "{}:base", "{}:cand", "--format", "json"])):
        t2, t1 = [], []
        for _ in range(a.repeat):
            for times, path in ((t2, db), (t1, old)):
                wall, _, rc, err = run([cpprof] + [x.format(path) for x in args])
                if rc != 0:
                    print(f"bench: {name} on '{path}': FAILED (exit {rc}): {err.strip()[-300:]}")
                    return 1
                times.append(wall)
        m2, m1 = statistics.median(t2), statistics.median(t1)
        print(f"bench: {name} on {a.rows:,} rows, schema 2 vs schema 1: {m2:.2f} s vs {m1:.2f} s "
              f"(medians of {a.repeat}, taking turns): ratio {m2 / m1:.3f} (goal <= 1)")
        sys.stdout.flush()
    ok &= bench("report (both runs)", [cpprof, "report", db, "--format", "json"], a.rows, a.repeat)
    ok &= bench("report --label base", [cpprof, "report", db, "--label", "base", "--format", "json"],
                a.rows // 2, a.repeat)
    ok &= bench("diff base cand", [cpprof, "diff", f"{db}:base", f"{db}:cand", "--format", "json"],
                a.rows, a.repeat)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
