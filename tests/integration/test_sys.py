#!/usr/bin/env python3
"""Integration test of syscall latency (user/trace/syslat.c) and the socket view
(user/trace/sockview.c) on Debian's etcd, as root, with real BPF.

Each etcd of itlib.ETCD_SERVERS (bookworm's 3.4, sid's 3.5.30, trixie's
3.5.16) is started on loopback with its own data dir and ports.
tests/integration/sys_driver.c attaches both modules to it and flushes
every second into a real SQLite file. 201 puts are sent through etcd's
JSON gateway (/v3/kv/put) over 3 kept-alive HTTP/1.1 connections, one put
at a time, each waiting for its reply. Checks: fdatasync counted at least
once per put (etcd syncs the WAL before it answers a put: etcdserver/raft.go
saves each Ready's entries with wal.Save, which fdatasyncs when there are
entries, before the apply that answers the client; serial puts give one
Ready each), accepted connections >= 3, peers >= 1, bytes in and out > 0,
no drops, the report's sections, and etcd alive afterwards. Then that the
programs load and unload cleanly with no target; what they cost a process
that is not a target is measured by make bench, not asserted here.

Usage: test_sys.py BUILD_DIR
Ends with "sys: N passed, N failed"; exits 1 on any failure.
"""
import base64
import glob
import http.client
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
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PUTS = 201
CONNS = 3

check = itlib.Checks()
TMP = tempfile.mkdtemp(prefix="cpprof-sys.")
DRIVER = os.path.join(TMP, "sys_driver")


def b64(s):
    return base64.b64encode(s.encode()).decode()


def puts(port):
    """PUTS puts over CONNS kept-alive connections, round robin, one at a time."""
    conns = [http.client.HTTPConnection("127.0.0.1", port, timeout=10) for _ in range(CONNS)]
    ok = 0
    for i in range(PUTS):
        c = conns[i % CONNS]
        body = json.dumps({"key": b64(f"/registry/pods/ns{i % 3}/p{i}"), "value": b64("x" * 100)})
        c.request("POST", "/v3/kv/put", body, {"Content-Type": "application/json"})
        r = c.getresponse()
        r.read()
        ok += r.status == 200
    for c in conns:
        c.close()
    return ok


def start_driver(*args, mode="all"):
    p = subprocess.Popen([DRIVER, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=dict(os.environ, SYSLAT_MODE=mode))
    line = p.stdout.readline().strip()
    if line != "ready":
        p.kill()
        out, err = p.communicate()
        return None, f"{line} {out} {err}"
    return p, ""


def stop_driver(p):
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=30)
    return p.returncode, out, err


FSYNC_FAMILY = ("fsync", "fdatasync", "sync_file_range")


def test_etcd(server, mode):
    """MODE all: the 21-syscall view through raw sys_enter/sys_exit; fsync
    (record's default): the fsync family through its own tracepoints, and
    nothing else."""
    ver, exe, ctl = server
    print(f"etcd {ver}: syscall latency ({mode}) and served connections")
    etcd = Etcd(TMP, f"sys-{ver}-{mode}", exe=exe, ctl=ctl)
    drv = None
    try:
        if not check(etcd.healthy(), "etcd starts"):
            return
        db = os.path.join(TMP, f"sys-{ver}-{mode}.db")
        drv, why = start_driver(db, str(etcd.proc.pid), "etcd", "1000", mode=mode)
        if not check(drv is not None, "sys_driver attaches", why):
            return
        t0 = time.time()
        ok = puts(etcd.client)
        dt = time.time() - t0
        check(ok == PUTS, f"{PUTS} puts answered 200 over {CONNS} connections", ok)
        time.sleep(1.5)  # one more interval
        rc, out, err = stop_driver(drv)
        drv = None
        check(rc == 0, "sys_driver exits 0", err[-500:])
        try:
            stats = json.loads(out.strip().splitlines()[-1])
        except (ValueError, IndexError):
            stats = {}
        check(stats.get("calls", 0) > 0, "syscalls timed", stats)
        check(all(stats.get(k, 1) == 0 for k in ("starts_full", "hists_full", "counts_full",
                                                  "peers_full")), "no drops", stats)

        q = sqlite3.connect(db)
        one = lambda sql: q.execute(sql).fetchone()[0]
        n_sync = one("SELECT coalesce(sum(count), 0) FROM syscalls WHERE syscall = 'fdatasync'")
        check(n_sync >= PUTS, f"fdatasync count >= {PUTS} puts", n_sync)
        if mode == "all":  # futex and epoll fill every interval; syncs only come with puts
            check(one("SELECT count(DISTINCT interval_start_ns) FROM syscalls") >= 2,
                  "several intervals", str(one("SELECT count(DISTINCT interval_start_ns) FROM syscalls")))
        mean = one("SELECT sum(sum_ns) / sum(count) FROM syscalls WHERE syscall = 'fdatasync'")
        check(mean is not None and 0 < mean < 1e9, "fdatasync mean plausible", mean)
        # every row's sum lies in its bucket: count * lower bound <= sum_ns <= count * le_ns
        bad = one("SELECT count(*) FROM syscalls WHERE sum_ns > count * le_ns OR count <= 0")
        check(bad == 0, "bucket sums within bucket bounds", bad)
        if mode == "all":
            for sc in ("write", "read", "futex", "epoll_pwait"):
                check(one(f"SELECT coalesce(sum(count), 0) FROM syscalls WHERE syscall = '{sc}'") > 0,
                      f"{sc} timed")
        else:
            others = [r[0] for r in q.execute("SELECT DISTINCT syscall FROM syscalls")
                      if r[0] not in FSYNC_FAMILY]
            check(not others, "fsync mode times the fsync family and nothing else", str(others))
        acc = one("SELECT coalesce(sum(accepted), 0) FROM sock_stats")
        check(acc >= CONNS, f"accepted >= {CONNS}", acc)
        check(one("SELECT coalesce(max(peers), 0) FROM sock_stats") >= 1, "peers >= 1")
        bin_, bout = q.execute("SELECT sum(bytes_in), sum(bytes_out) FROM sock_stats").fetchone()
        # 201 JSON bodies of > 100 bytes came in; replies went out
        check(bin_ is not None and bin_ >= PUTS * 100, "bytes in >= 100 per put", bin_)
        check(bout is not None and bout > 0, "bytes out > 0", bout)
        check(one("SELECT coalesce(sum(closed), 0) FROM sock_stats") >= CONNS,
              f"closed >= {CONNS}", one("SELECT sum(closed) FROM sock_stats"))
        print(f"  ({PUTS} puts in {dt:.2f}s; fdatasync {n_sync}, mean {mean} ns; accepted {acc}, "
              f"bytes in {bin_}, out {bout})")
        q.close()

        r = subprocess.run([os.path.join(OUT, "cpprof"), "report", db, "--format", "json"],
                           capture_output=True, text=True)
        try:
            run = json.loads(r.stdout)["runs"][0]
        except (ValueError, KeyError, IndexError):
            run = {}
        wal = {w["syscall"]: w for w in run.get("wal_fsync", [])}
        check("fdatasync" in wal and wal["fdatasync"]["count"] == n_sync and
              0 < wal["fdatasync"]["p50_ns"] <= wal["fdatasync"]["p99_ns"],
              "report json: wal_fsync fdatasync", wal)
        check("fdatasync" in wal and len(wal["fdatasync"]["intervals"]) >= 1 and
              sum(i["count"] for i in wal["fdatasync"]["intervals"]) == n_sync,
              "report json: fsync intervals add up")
        cl = {c["component"]: c for c in run.get("clients", [])}
        check("etcd" in cl and cl["etcd"]["accepted"] == acc, "report json: clients", cl)
        check(any(s["syscall"] == "fdatasync" and s["pid"] == etcd.proc.pid
                  for s in run.get("syscalls", [])), "report json: syscalls per target")
        r = subprocess.run([os.path.join(OUT, "cpprof"), "report", db], capture_output=True,
                           text=True)
        check(r.returncode == 0 and "etcd WAL fsync" in r.stdout and "clients served" in r.stdout,
              "report text sections", r.stderr[-300:])

        check(etcd.proc.poll() is None and etcd.ctl("get", "/registry/pods/ns0/p0").returncode == 0,
              "etcd alive and answering afterwards")
    finally:
        if drv is not None:
            drv.kill()
            drv.wait()
        etcd.stop()


def test_no_target():
    """The programs load and unload cleanly with no target at all. (What
    they cost every other process is a figure for make bench, not a test.)"""
    print("programs with no target")
    drv, why = start_driver("none")
    if not check(drv is not None, "programs load with no target", why):
        return
    rc, _, err = stop_driver(drv)
    check(rc == 0, "driver exits 0", err[-300:])


def build_driver():
    ok, err = itlib.build_driver(OUT, "sys_driver.c", DRIVER)
    return check(ok, "sys_driver builds warning-free", err[-800:])


def main():
    if os.geteuid() != 0:
        print("sys: needs root for BPF (run as root; CI runs it as root)")
        print("sys: 0 passed, 1 failed")
        return 1
    for need in [t for s in itlib.ETCD_SERVERS for t in s[1:]]:
        if not os.path.exists(need):
            print(f"sys: '{need}' is missing (run 'make deps')")
            print("sys: 0 passed, 1 failed")
            return 1
    try:
        if build_driver():
            for server in itlib.ETCD_SERVERS:
                test_etcd(server, "all")
            # the default view, on bookworm's and sid's etcd
            for server in [s for s in itlib.ETCD_SERVERS if s[0] in ("3.4", "3.5.30")]:
                test_etcd(server, "fsync")
            test_no_target()
    finally:
        if not check.failed:
            shutil.rmtree(TMP, ignore_errors=True)
    return check.summary("sys")


if __name__ == "__main__":
    sys.exit(main())
