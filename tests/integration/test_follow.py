#!/usr/bin/env python3
"""Integration test of `cpprof record` following its targets across restarts
(issue 13.2), as root, with real BPF and the Go test server fixtures.

1. By name: a test server recorded with `--target NAME` is restarted three
   times (SIGTERM, SIGKILL as an OOM kill would, from the same file, and
   "upgrades" to binaries of other Go releases at the same path), once with a pause in
   which no target runs at all. Every request the client completed before,
   between and after the restarts must be stored exactly, under the targets
   row of the process that served it: four processes, four rows, each with
   its start and (but the last) its exit. The time from a process's start
   to its probes is printed (goal: within 2 s) and checked generously.
   `report` says the target restarted 3 times.
2. `--pid` alone stays strict (the recorder stops when its target exits);
   `--pid --follow` traces the pid's restarted executable and goes on.
3. Default discovery follows too: a restarted 'kube-apiserver' is traced.
4. Debian's etcd restarted three times under --target: its gRPC calls are
   counted exactly per process.

Usage: test_follow.py BUILD_DIR
Prints one line per check and ends with "follow: N passed, N failed".
"""
import os
import re
import secrets
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import itlib  # noqa: E402

OUT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
CPPROF = os.path.join(OUT, "cpprof")
FIX = os.environ.get("FIXTURES_DIR", os.path.join(OUT, "fixtures"))
check = itlib.Checks()
TMP = tempfile.mkdtemp(prefix="cpprof-follow.")
# Releases the restarts go through: an upgrade changes the binary (and its offsets);
# None: the same file again (an OOM kill and restart).
BUILDS = ["testserver-go1.23", "testserver-go1.27-stripped", "testserver-go1.24"]
RESTARTS = [BUILDS[0], BUILDS[1], None, BUILDS[2]]


def start_server(path):
    p = subprocess.Popen([path, "-listen", "127.0.0.1:0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         text=True)
    line = p.stdout.readline().strip()
    m = re.search(r"(https?://\S+)", line)
    if not m:
        p.kill()
        raise RuntimeError(f"{path} did not print its address: {line!r}")
    return p, m.group(1)


def install(build, path):
    """Put fixture BUILD at PATH as an upgrade would: a new file, renamed over the old one."""
    tmp = path + ".new"
    shutil.copy(os.path.join(FIX, build), tmp)
    os.chmod(tmp, 0o755)
    os.replace(tmp, path)


def send(url, n, ns):
    """N requests, one connection each; how many completed (any status)."""
    done = 0
    for i in range(n):
        try:
            with urllib.request.urlopen(f"{url}/api/v1/namespaces/{ns}/configmaps?limit={i + 1}", timeout=10) as r:
                r.read()
            done += 1
        except urllib.error.HTTPError as e:
            e.read()
            done += 1
        except Exception:
            pass
    return done


def wait_log(log, pattern, timeout=15.0):
    """Wait for PATTERN (a regex) in the recorder's log; the match or None."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        log.seek(0)
        m = re.search(pattern, log.read())
        if m:
            return m
        time.sleep(0.02)
    return None


def stop(p, sig=signal.SIGTERM):
    if p.poll() is None:
        p.send_signal(sig)
    p.wait(timeout=10)


def by_name():
    name = "flw" + secrets.token_hex(4)  # our own: no other process on the machine matches it
    path = os.path.join(TMP, name)
    db = os.path.join(TMP, "name.db")
    install(BUILDS[0], path)
    srv, url = start_server(path)
    procs = [srv]
    rec, log = itlib.start_record([CPPROF, "record", "--db", db, "--label", "restarts", "--target", name],
                                  os.path.join(TMP, "name.log"))
    sent = {}  # pid -> requests completed
    how = [signal.SIGTERM, signal.SIGKILL, signal.SIGTERM]
    try:
        check(wait_log(log, rf"tracing '[^']*' \(pid {srv.pid}") is not None, "first process traced")
        for rnd in range(4):
            sent[srv.pid] = send(url, 30 + 7 * rnd, f"round{rnd}")
            if rnd == 3:
                break
            stop(srv, how[rnd])
            check(wait_log(log, rf"'[^']*' \(pid {srv.pid}\) exited") is not None,
                  f"restart {rnd + 1}: the exit of pid {srv.pid} is noticed")
            if rnd == 0:
                # no target at all for a while: following by name, the recorder waits
                time.sleep(1.5)
                check(rec.poll() is None and "every target has exited" not in open(log.name).read(),
                      "following by name: no 'every target has exited' stop while no target runs")
            if RESTARTS[rnd + 1]:
                install(RESTARTS[rnd + 1], path)
            srv, url = start_server(path)
            procs.append(srv)
            m = wait_log(log, rf"following: '[^']*' \(pid {srv.pid}\) traced (\d+) ms after it started")
            check(m is not None, f"restart {rnd + 1}: new process (pid {srv.pid}, "
                  f"{RESTARTS[rnd + 1] or 'the same file'}) inspected and traced",
                  m.group(0) if m else open(log.name).read()[-600:])
        rc, text = itlib.stop_record(rec, log)
        check(rc == 0, "recorder stops on SIGINT, exit 0", text[-400:])
    finally:
        if rec.poll() is None:
            rec.kill()
            rec.wait()
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    con = sqlite3.connect(db)
    rows = con.execute("SELECT t.id, t.pid, t.started_ns, t.attached_ns, t.exited_ns, t.go_version "
                       "FROM targets t JOIN runs r ON r.id = t.run_id WHERE r.label = 'restarts' "
                       "ORDER BY t.id").fetchall()
    pids = [p.pid for p in procs]
    check([r[1] for r in rows] == pids, "four targets rows, one per process, in order",
          f"{[r[1] for r in rows]} vs {pids}")
    if len(rows) == 4:
        check(all(r[2] and r[3] and r[2] <= r[3] for r in rows), "every row has its start, before its attach",
              str(rows))
        check(all(r[4] for r in rows[:3]) and rows[3][4] is None,
              "the three restarted processes have an exit, the last one outlived the run", str(rows))
        # exited_ns is when the recorder noticed the exit (it looks every 200 ms)
        check(all(rows[i][3] < rows[i][4] <= rows[i + 1][3] for i in range(3)),
              "each exit is recorded after its attach and before the next process is attached", str(rows))
        check(len({r[5] for r in rows}) >= 3, "the upgrades are seen: Go versions " +
              ", ".join(str(r[5]) for r in rows))
        lat = [(r[3] - r[2]) / 1e9 for r in rows[1:]]
        print("  restart to probes attached (s): " +
              ", ".join(f"{x:.3f} ({RESTARTS[i + 1] or 'same file'})" for i, x in enumerate(lat)) +
              f"; max {max(lat):.3f} (goal 2 s)")
        # generous: seven test suites share two cores here
        check(max(lat) <= 5.0, f"restarted processes traced within 5 s of their start (max {max(lat):.3f} s)")
    stored = dict(con.execute("SELECT t.pid, count(q.target_id) FROM targets t JOIN runs r ON r.id = t.run_id "
                              "LEFT JOIN requests q ON q.target_id = t.id WHERE r.label = 'restarts' "
                              "GROUP BY t.id").fetchall())
    check(stored == sent, "every request counted exactly, per process: client " +
          " ".join(f"{sent[p]}" for p in pids) + ", stored " + " ".join(f"{stored.get(p)}" for p in pids),
          f"{stored} vs {sent}")
    ns = con.execute("SELECT t.pid, q.namespace, count(*) FROM requests q JOIN targets t ON t.id = q.target_id "
                     "JOIN runs r ON r.id = q.run_id WHERE r.label = 'restarts' GROUP BY 1, 2").fetchall()
    check(sorted((p, n) for p, n, _ in ns) == [(p, f"round{i}") for i, p in enumerate(pids)],
          "each process's requests are under its own row (no pid mix-up)", str(ns))
    # The socket view follows too: each request was one connection, accepted by its own process.
    # It counts accepts by listening port, found when a process is traced and then on every poll
    # until it listens: a restarted server's first accepts before that are not seen (README), so
    # exact for the first process (listening long before), never more than sent for the others.
    acc = dict(con.execute("SELECT t.pid, sum(s.accepted) FROM sock_stats s JOIN targets t ON t.id = s.target_id "
                           "JOIN runs r ON r.id = s.run_id WHERE r.label = 'restarts' GROUP BY t.id").fetchall())
    print("  connections accepted per process (socket view): " +
          " ".join(f"{acc.get(p)}/{sent[p]}" for p in pids))
    check(acc.get(pids[0]) == sent[pids[0]] and all((acc.get(p) or 0) <= sent[p] for p in pids),
          "socket view: the first process's accepts exact, each later one's its own (none counted twice)",
          f"{acc} vs {sent}")
    lost = con.execute("SELECT lost_events, unmatched FROM runs WHERE label = 'restarts'").fetchone()
    check(lost == (0, 0), "nothing lost or unmatched", str(lost))
    r = subprocess.run([CPPROF, "report", db], capture_output=True, text=True)
    m = re.search(r"restarted 3 times", r.stdout)
    check(r.returncode == 0 and m, "report says the target restarted 3 times",
          "\n".join(r.stdout.splitlines()[:16]))
    for ln in r.stdout.splitlines()[:20]:
        if "restart" in ln or re.match(r"\s+pid \d+\s+started", ln):
            print("  | " + ln)


def pid_strict_and_follow():
    name = "flp" + secrets.token_hex(4)
    path = os.path.join(TMP, name)
    install(BUILDS[0], path)
    # strict: the recorder stops by itself when its pid exits
    srv, url = start_server(path)
    db = os.path.join(TMP, "pid.db")
    rec, log = itlib.start_record([CPPROF, "record", "--db", db, "--label", "strict", "--pid", str(srv.pid)],
                                  os.path.join(TMP, "strict.log"))
    try:
        n = send(url, 5, "strict")
        stop(srv)
        try:
            rc = rec.wait(timeout=20)
        except subprocess.TimeoutExpired:
            rc = None
        log.seek(0)
        text = log.read()
        check(rc == 0 and "every target has exited; stopping" in text,
              "--pid without --follow stays strict: stops when the target exits", text[-300:])
        got = sqlite3.connect(db).execute("SELECT count(*) FROM requests").fetchone()[0]
        check(got == n == 5, "strict run saved with its 5 requests", f"{got} {n}")
    finally:
        for p in (rec, srv):
            if p.poll() is None:
                p.kill()
                p.wait()
    # --follow: the pid's executable, restarted, is traced and the run goes on
    srv, url = start_server(path)
    procs = [srv]
    rec, log = itlib.start_record([CPPROF, "record", "--db", db, "--label", "pidfollow", "--pid", str(srv.pid),
                                   "--follow", "--sample-hz", "0"], os.path.join(TMP, "pidfollow.log"))
    sent = {}
    try:
        sent[srv.pid] = send(url, 11, "a")
        stop(srv)
        time.sleep(1.0)
        check(rec.poll() is None, "--pid --follow: the recorder goes on after the pid exits")
        srv, url = start_server(path)
        procs.append(srv)
        m = wait_log(log, rf"following: '[^']*' \(pid {srv.pid}\) traced")
        check(m is not None, "--pid --follow: the restarted executable is traced", open(log.name).read()[-500:])
        sent[srv.pid] = send(url, 13, "b")
        rc, text = itlib.stop_record(rec, log)
        check(rc == 0, "--pid --follow: SIGINT ends the run, exit 0", text[-300:])
    finally:
        for p in [rec] + procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    stored = dict(sqlite3.connect(db).execute(
        "SELECT t.pid, count(q.target_id) FROM targets t JOIN runs r ON r.id = t.run_id "
        "LEFT JOIN requests q ON q.target_id = t.id WHERE r.label = 'pidfollow' GROUP BY t.id").fetchall())
    check(stored == sent, "--pid --follow: each process's requests counted exactly", f"{stored} vs {sent}")


def defaults():
    """Default discovery (no --pid, no --target) follows a restarted kube-apiserver.
    Other kube-apiservers or etcds on the machine may be traced too: only ours are checked."""
    d = os.path.join(TMP, "kas")
    os.makedirs(d)
    path = os.path.join(d, "kube-apiserver")
    install(BUILDS[2], path)
    srv, url = start_server(path)
    procs = [srv]
    db = os.path.join(TMP, "defaults.db")
    rec, log = itlib.start_record([CPPROF, "record", "--db", db, "--label", "defaults", "--sample-hz", "0",
                                   "--duration", "8"], os.path.join(TMP, "defaults.log"))
    sent = {}
    try:
        check(wait_log(log, rf"tracing '[^']*' \(pid {srv.pid}") is not None, "default discovery traces our kube-apiserver")
        sent[srv.pid] = send(url, 9, "a")
        stop(srv)
        srv, url = start_server(path)
        procs.append(srv)
        m = wait_log(log, rf"following: '[^']*' \(pid {srv.pid}\) traced")
        check(m is not None, "default discovery: the restarted kube-apiserver is traced", open(log.name).read()[-500:])
        sent[srv.pid] = send(url, 12, "b")
        try:
            rc = rec.wait(timeout=30)
        except subprocess.TimeoutExpired:
            rc = None
        log.seek(0)
        text = log.read()
        check(rc == 0 and "every target has exited" not in text, "default discovery: the run lasts its --duration",
              text[-300:])
    finally:
        for p in [rec] + procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    con = sqlite3.connect(db)
    stored = {}
    for pid in sent:
        stored[pid] = con.execute("SELECT count(q.target_id) FROM targets t LEFT JOIN requests q ON q.target_id = t.id "
                                  "WHERE t.pid = ? AND t.exe = ?", (pid, path)).fetchone()[0]
    check(stored == sent, "default discovery: each process's requests counted exactly", f"{stored} vs {sent}")


def etcd_restarts():
    """Debian's etcd, followed by name across three restarts: its gRPC calls
    (the puts of etcdctl) are counted exactly per process, under each one's row."""
    if not os.path.exists(itlib.ETCD):
        check(False, "Debian's etcd installed (make deps)")
        return
    name = "etd" + secrets.token_hex(4)
    exe = os.path.join(TMP, name)
    shutil.copy(itlib.ETCD, exe)
    db = os.path.join(TMP, "etcd.db")
    srv = itlib.Etcd(TMP, name="e0", exe=exe)
    procs, sent = [srv], {}
    rec = None
    try:
        if not check(srv.healthy(), "etcd copy up"):
            return
        rec, log = itlib.start_record([CPPROF, "record", "--db", db, "--label", "etcd", "--target", name,
                                       "--sample-hz", "0"], os.path.join(TMP, "etcd-rec.log"))
        for rnd in range(4):
            if rnd:
                srv = itlib.Etcd(TMP, name=f"e{rnd}", exe=exe)
                procs.append(srv)
                m = wait_log(log, rf"tracing gRPC calls of '[^']*' \(pid {srv.pid}\)", timeout=20)
                check(m is not None and srv.healthy(), f"etcd restart {rnd}: pid {srv.pid} traced, gRPC too",
                      open(log.name).read()[-500:])
            n = 0
            for i in range(6 + 2 * rnd):
                n += srv.ctl("put", f"/registry/configmaps/r{rnd}/k{i}", "v").returncode == 0
            sent[srv.pid] = n
            if rnd < 3:
                srv.proc.send_signal(signal.SIGKILL if rnd == 1 else signal.SIGTERM)
                srv.proc.wait(timeout=20)
                wait_log(log, rf"\(pid {srv.pid}\) exited", timeout=10)
        rc, text = itlib.stop_record(rec, log)
        check(rc == 0, "etcd: recorder stops on SIGINT, exit 0", text[-300:])
    finally:
        if rec and rec.poll() is None:
            rec.kill()
            rec.wait()
        for p in procs:
            if p.proc.poll() is None:
                p.proc.kill()
                p.proc.wait()
    con = sqlite3.connect(db)
    puts = dict(con.execute("SELECT t.pid, count(q.target_id) FROM targets t JOIN runs r ON r.id = t.run_id "
                            "LEFT JOIN requests q ON q.target_id = t.id AND q.protocol = 'gRPC' AND q.verb = 'put' "
                            "WHERE r.label = 'etcd' GROUP BY t.id").fetchall())
    check(puts == sent, "etcd restarted 3 times: every put counted exactly, per process: client " +
          " ".join(str(sent[p.pid]) for p in procs) + ", stored " + " ".join(str(puts.get(p.pid)) for p in procs),
          f"{puts} vs {sent}")
    rows = con.execute("SELECT count(*), count(t.exited_ns), count(t.started_ns) FROM targets t JOIN runs r "
                       "ON r.id = t.run_id WHERE r.label = 'etcd'").fetchone()
    check(rows == (4, 3, 4), "etcd: four targets rows, three exits, four starts", str(rows))
    lat = [(a - s) / 1e9 for s, a in con.execute(
        "SELECT t.started_ns, t.attached_ns FROM targets t JOIN runs r ON r.id = t.run_id "
        "WHERE r.label = 'etcd' ORDER BY t.id").fetchall()[1:] if s and a]
    if lat:
        print("  etcd restart to probes attached (s): " + ", ".join(f"{x:.3f}" for x in lat) +
              f"; max {max(lat):.3f} (goal 2 s)")


def main():
    if os.geteuid() != 0:
        check(False, "root", "the follow tests attach uprobes: run as root (CI does)")
        return check.summary("follow")
    missing = [b for b in BUILDS if not os.path.exists(os.path.join(FIX, b))]
    if not check(not missing, "Go test server fixtures built", f"missing in {FIX}: {missing}"):
        return check.summary("follow")
    try:
        by_name()
        pid_strict_and_follow()
        defaults()
        etcd_restarts()
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
    return check.summary("follow")


if __name__ == "__main__":
    sys.exit(main())
