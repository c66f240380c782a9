#!/usr/bin/env python3
"""Bounded recording and crash safety, as root, with real BPF and a real Go server.

Each case records the Go test server under a saturating loopback load
(the test client, 8 connections) and then looks at the SQLite file with
an independent reader:

- disk-full: the database on a 4 MiB tmpfs with --min-free 0, so SQLite
  itself hits SQLITE_FULL; the one line saying so, exit 0, a sound file
  (PRAGMA integrity_check), the run ended with its counts, stored +
  dropped requests = what the client sent, no reserve file left behind,
  and every report format saying how many requests were dropped and why;
- min-free: a 16 MiB tmpfs with --min-free 12M: the floor stops storing
  while the disk still has room;
- max-db-size: --max-db-size 2M on an ordinary directory: the file stops
  growing near the limit;
- sigkill: a client that names every request (--store-names) and notes
  when each one completed; SIGKILL the recorder in the middle of the
  load: every request that completed more than 1 s before the kill is in
  the file, and the file is sound.

Usage: test_bounded.py BUILD_DIR [FILTER]
Prints one line per check and ends with "bounded: N passed, N failed".
"""
import glob
import http.client
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import itlib  # noqa: E402

OUT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
FILTER = sys.argv[2] if len(sys.argv) > 2 else ""
CPPROF = os.path.join(OUT, "cpprof")
FIX = os.environ.get("FIXTURES_DIR", os.path.join(OUT, "fixtures"))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCHEMA = os.path.join(ROOT, "tests", "schema", "report.schema.json")
CONC = 8

check = itlib.Checks()
TMP = tempfile.mkdtemp(prefix="cpprof-bounded.")
DROP_LINE = "no longer storing requests"


def server_binary():
    s = [p for p in sorted(glob.glob(os.path.join(FIX, "testserver-go1.*-stripped"))) if "cgo" not in p]
    if not s:
        raise RuntimeError(f"no testserver-go1.*-stripped in {FIX}: run 'make fixtures'")
    return s[-1]


def start_server():
    p = subprocess.Popen([server_binary(), "-listen", "127.0.0.1:0"], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True)
    m = re.search(r"(https?://\S+)", p.stdout.readline())
    if not m:
        p.kill()
        raise RuntimeError("the test server did not print its address")
    return p, m.group(1)


def start_load(url, secs):
    """The test client's saturating load; its output holds "requests N" (and
    it waits for every request it started)."""
    return subprocess.Popen([os.path.join(FIX, "client"), "-url", url, "-load", "-duration", f"{secs}s",
                             "-concurrency", str(CONC)], stdout=subprocess.PIPE, text=True)


def load_requests(p):
    out, _ = p.communicate(timeout=300)
    kv = dict(l.split(None, 1) for l in out.splitlines() if " " in l)
    return int(kv.get("requests", "0")), int(kv.get("errors", "0"))


def wait_for(log, text, timeout):
    end = time.time() + timeout
    while True:
        log.seek(0)
        if text in log.read():
            return True
        if time.time() >= end:
            return False
        time.sleep(0.1)


class Tmpfs:
    """A tmpfs of SIZE mounted on a fresh directory, unmounted on exit."""

    def __init__(self, size):
        self.dir = tempfile.mkdtemp(prefix="fs.", dir=TMP)
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", self.dir],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"cannot mount a tmpfs: {r.stderr.strip()}")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        subprocess.run(["umount", "-l", self.dir], check=False)


def integrity(db):
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return con.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        con.close()


def validate(name, text):
    try:
        import jsonschema
    except ImportError:
        check(False, f"{name}: python3-jsonschema is installed (make deps)")
        return
    with open(SCHEMA) as f:
        schema = json.load(f)
    errs = list(jsonschema.Draft7Validator(schema).iter_errors(json.loads(text)))
    check(not errs, f"{name}: report json valid against report.schema.json",
          "; ".join(f"{'/'.join(map(str, e.path))}: {e.message[:200]}" for e in errs[:3]))


def bounded_case(name, dbdir, args, reason, note, load_secs=60):
    """Record under load until the drop line shows (or LOAD_SECS), SIGINT, check."""
    if FILTER and FILTER not in name:
        return
    print(f"-- {name}")
    db = os.path.join(dbdir, "b.db")
    srv, url = start_server()
    rec = load = None
    try:
        rec, log = itlib.start_record([CPPROF, "record", "--db", db, "--label", name, "--pid", str(srv.pid),
                                       *args], os.path.join(TMP, f"{name}.log"))
        # 3 s rounds of load until the line shows, then one more: the counts must go on
        sent = errors = 0
        saw, end = False, time.time() + load_secs
        while time.time() < end:
            load = start_load(url, 3)
            n, e = load_requests(load)
            load = None
            # each run of the client sends one warm-up request before its load
            sent, errors = sent + n + 1, errors + e
            if saw:
                break
            saw = wait_for(log, DROP_LINE, 0)
        time.sleep(0.5)  # the last requests' events reach the ring buffer
        rc, text = itlib.stop_record(rec, log)
        rec = None
    finally:
        if load:
            load.kill()
            load.wait()
        if rec:
            rec.kill()
            rec.wait()
        srv.terminate()
        srv.wait(timeout=10)
    check(saw, f"{name}: the recorder said it started dropping", text[-600:])
    lines = [l for l in text.splitlines() if DROP_LINE in l]
    check(len(lines) == 1, f"{name}: one line says so ({len(lines)})", "\n".join(lines))
    if lines:
        check(f"--{reason}" in lines[0] or (reason == "disk-full" and "is full" in lines[0]),
              f"{name}: the line names the limit and the fix", lines[0])
        print(f"       {lines[0]}")
    check(rc == 0, f"{name}: cpprof record exits 0", text[-600:])
    check("cannot" not in text, f"{name}: no error on the way out", text[-600:])
    check(not os.path.exists(db + "-reserve"), f"{name}: no reserve file left")
    check(integrity(db) == "ok", f"{name}: PRAGMA integrity_check ok")
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    run = con.execute("SELECT ended_ns, requests, dropped_requests, dropped_reason, lost_events FROM runs "
                      "WHERE label = ?", (name,)).fetchone()
    stored = con.execute("SELECT count(*) FROM requests").fetchone()[0]
    con.close()
    check(run is not None and run[0] is not None, f"{name}: the run ended properly (ended_ns set)")
    if run is None:
        return
    ended, counted, dropped, why, lost = run
    check(why == reason, f"{name}: dropped_reason '{why}'")
    check(counted == stored, f"{name}: runs.requests ({counted}) = rows stored ({stored})")
    check(dropped and dropped > 0, f"{name}: drops counted ({dropped})")
    total = stored + (dropped or 0)
    check(errors == 0 and lost == 0 and total == sent,
          f"{name}: stored {stored} + dropped {dropped} = {total}, client sent {sent} (lost {lost})")
    for fmt in ("text", "md", "json", "html"):
        r = subprocess.run([CPPROF, "report", db, "--format", fmt], capture_output=True, text=True, timeout=120)
        want = f"{dropped} requests dropped: {note}"
        check(r.returncode == 0 and want in r.stdout, f"{name}: report --format {fmt} says '{want}'",
              r.stderr[-300:] or r.stdout[:300])
        if fmt == "json" and r.returncode == 0:
            validate(name, r.stdout)


# ---- SIGKILL -------------------------------------------------------------------


def named_client(url, stop, done, idx0):
    """GET a distinct pod name per request on one keep-alive connection; note each completion."""
    host = url.split("//", 1)[1]
    conn = http.client.HTTPConnection(host, timeout=10)
    i = idx0
    while not stop.is_set():
        name = f"k{i}"
        conn.request("GET", f"/api/v1/namespaces/default/pods/{name}")
        conn.getresponse().read()
        done.append((name, time.time()))
        i += 1_000_000
    conn.close()


def sigkill_case():
    name = "sigkill"
    if FILTER and FILTER not in name:
        return
    print(f"-- {name}")
    db = os.path.join(TMP, "kill.db")
    srv, url = start_server()
    rec = load = None
    stop = threading.Event()
    done = []
    threads = [threading.Thread(target=named_client, args=(url, stop, done, k)) for k in range(4)]
    try:
        rec, log = itlib.start_record([CPPROF, "record", "--db", db, "--label", name, "--pid", str(srv.pid),
                                       "--store-names"], os.path.join(TMP, f"{name}.log"))
        load = start_load(url, 30)  # more load beside the named requests
        for t in threads:
            t.start()
        time.sleep(8)
        kill_t = time.time()
        rec.send_signal(signal.SIGKILL)
        rec.wait(timeout=30)
        rec = None
        time.sleep(0.5)
    finally:
        stop.set()
        for t in threads:
            if t.is_alive():
                t.join(timeout=15)
        if load:
            load.kill()
            load.wait()
        if rec:
            rec.kill()
            rec.wait()
        srv.terminate()
        srv.wait(timeout=10)
    before = {n for n, t in done if t < kill_t - 1.0}
    check(len(before) >= 3000, f"{name}: {len(before)} named requests completed more than 1 s before the kill "
          f"({len(done)} in all)")
    check(integrity(db) == "ok", f"{name}: PRAGMA integrity_check ok after SIGKILL")
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    names = {r[0] for r in con.execute("SELECT name FROM requests WHERE name LIKE 'k%'")}
    total = con.execute("SELECT count(*) FROM requests").fetchone()[0]
    ended = con.execute("SELECT ended_ns FROM runs WHERE label = ?", (name,)).fetchone()
    con.close()
    missing = before - names
    check(not missing, f"{name}: every one of them is in the file ({len(names)} named rows, {total} in all)",
          f"{len(missing)} missing, e.g. {sorted(missing)[:5]}")
    check(ended is not None and ended[0] is None, f"{name}: the run has no end (the recorder was killed)")
    r = subprocess.run([CPPROF, "report", db], capture_output=True, text=True, timeout=120)
    check(r.returncode == 0 and "recorder was killed" in r.stdout, f"{name}: report works and says the run "
          "has no end", r.stderr[-300:] or r.stdout[:300])


def main():
    if os.geteuid() != 0:
        print("bounded: needs root (uprobes, mount)")
        print("bounded: 0 passed, 1 failed")
        return 1
    try:
        with Tmpfs("4M") as fs:
            bounded_case("disk-full", fs.dir, ["--min-free", "0"], "disk-full", "the disk was full")
        with Tmpfs("16M") as fs:
            bounded_case("min-free", fs.dir, ["--min-free", "12M"], "min-free",
                         "free space fell below --min-free 12M")
        d = tempfile.mkdtemp(prefix="max.", dir=TMP)
        bounded_case("max-db-size", d, ["--max-db-size", "2M"], "max-db-size",
                     "database reached --max-db-size 2M")
        if not FILTER or FILTER in "max-db-size":
            size = os.path.getsize(os.path.join(d, "b.db"))
            wal = os.path.join(d, "b.db-wal")
            size += os.path.getsize(wal) if os.path.exists(wal) else 0
            check(size < 6 << 20, f"max-db-size: the file stayed near 2M ({size} bytes with its WAL)")
        sigkill_case()
    except RuntimeError as e:
        check(False, "setup", str(e))
    finally:
        if check.failed == 0:
            shutil.rmtree(TMP, ignore_errors=True)
    return check.summary("bounded")


if __name__ == "__main__":
    sys.exit(main())
