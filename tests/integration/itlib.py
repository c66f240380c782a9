"""What cpprof's integration suites (and tools/bench.py) share: the
check/summary counters, free loopback ports, Debian's etcd as a throwaway
server, and building a small test driver from the already compiled modules.
"""
import glob
import json
import os
import signal
import socket
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ETCD = "/usr/bin/etcd"
ETCDCTL = "/usr/bin/etcdctl"
# Newer etcd servers, unpacked (never installed) by tools/fetch_debian.sh
# into its cache: (name, etcd, etcdctl), the Debian package's own etcdctl.
ETCD_CACHE = os.environ.get("CPPROF_CACHE", "/var/cache/cpprof")
ETCD_SERVERS = [
    ("3.4", ETCD, ETCDCTL),  # bookworm: Go 1.19, grpc 1.33
    ("3.5.30", f"{ETCD_CACHE}/etcd-sid/usr/bin/etcd", f"{ETCD_CACHE}/etcd-sid/usr/bin/etcdctl"),  # sid: Go 1.26, grpc 1.81
    ("3.5.16", f"{ETCD_CACHE}/etcd-trixie/usr/bin/etcd", f"{ETCD_CACHE}/etcd-trixie/usr/bin/etcdctl"),  # trixie: Go 1.24
]


class Checks:
    """Counts checks and prints one line each; summary() prints the
    "NAME: N passed, N failed" line the test runners add up."""

    def __init__(self):
        self.passed = self.failed = 0

    def __call__(self, cond, name, detail=""):
        if cond:
            self.passed += 1
            print(f"  ok   {name}")
        else:
            self.failed += 1
            print(f"  FAIL {name}{': ' + detail if detail else ''}")
        sys.stdout.flush()
        return cond

    def summary(self, suite):
        print(f"{suite}: {self.passed} passed, {self.failed} failed")
        return 1 if self.failed else 0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Etcd:
    """Debian's etcd on loopback with a data directory under WORKDIR and
    ports of its own; client TLS when TLS names ca, cert, key (and ccert,
    ckey for etcdctl). EXE runs another etcd binary (a damaged copy, or
    one of ETCD_SERVERS with its own CTL); EXTRA are more flags
    (--metrics=extensive)."""

    def __init__(self, workdir, name="etcd", tls=None, exe=ETCD, ctl=ETCDCTL, extra=()):
        self.name, self.tls, self.ctlexe = name, tls, ctl
        self.client, self.peer = free_port(), free_port()
        self.dir = os.path.join(workdir, name)
        scheme = "https" if tls else "http"
        self.url = f"{scheme}://127.0.0.1:{self.client}"
        args = [exe, "--name", name, "--data-dir", self.dir,
                "--listen-client-urls", self.url, "--advertise-client-urls", self.url,
                "--listen-peer-urls", f"http://127.0.0.1:{self.peer}",
                "--initial-advertise-peer-urls", f"http://127.0.0.1:{self.peer}",
                "--initial-cluster", f"{name}=http://127.0.0.1:{self.peer}"]
        if tls:
            args += ["--cert-file", tls["cert"], "--key-file", tls["key"],
                     "--client-cert-auth", "--trusted-ca-file", tls["ca"]]
        args += list(extra)
        self.log = open(os.path.join(workdir, name + ".log"), "w")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)
        self.pid = self.proc.pid

    def ctl(self, *args, stdin=None, timeout=20):
        cmd = [self.ctlexe, "--endpoints", self.url, "--command-timeout=10s"]
        if self.tls:
            cmd += ["--cacert", self.tls["ca"], "--cert", self.tls["ccert"], "--key", self.tls["ckey"]]
        env = dict(os.environ, ETCDCTL_API="3")
        return subprocess.run(cmd + list(args), input=stdin, capture_output=True, text=True,
                              env=env, timeout=timeout)

    def healthy(self, wait=15.0):
        end = time.time() + wait
        while time.time() < end:
            if self.proc.poll() is not None:
                return False
            if self.ctl("endpoint", "health", timeout=10).returncode == 0:
                return True
            time.sleep(0.3)
        return False

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def start_record(cmd, logpath, timeout=30):
    """Run CMD (a `cpprof record ...` command line) with its output in
    LOGPATH; return (process, log file) once it says it is recording, or
    raise RuntimeError with the end of its log if it exits or stalls."""
    log = open(logpath, "w+")
    p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + timeout
    while time.time() < deadline:
        log.seek(0)
        if "recording run" in log.read():
            return p, log
        if p.poll() is not None:
            break
        time.sleep(0.05)
    log.seek(0)
    p.kill()
    p.wait()
    raise RuntimeError(f"cpprof record did not start: {log.read()[-800:]}")


def stop_record(p, log, timeout=60):
    """SIGINT the recorder as a user's Ctrl-C would; its exit code and log."""
    p.send_signal(signal.SIGINT)
    try:
        rc = p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        rc = -9
    log.seek(0)
    return rc, log.read()


def stop_proc(p, timeout=20):
    """SIGTERM a server if it still runs, SIGKILL after TIMEOUT seconds; reap it."""
    if p is None or p.poll() is not None:
        return
    p.terminate()
    try:
        p.wait(timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def build_driver(out, source, dest):
    """Compile tests/integration/SOURCE against OUT's module objects into
    DEST. Returns (ok, compiler output)."""
    objs = [o for o in glob.glob(os.path.join(out, "user", "*.o")) + glob.glob(os.path.join(out, "user", "*", "*.o"))
            if not o.endswith("/main.o")]
    # user/ is laid out by job; headers are included by name (as the Makefile's INCLUDES)
    user_dirs = ["-I" + d for d in sorted(glob.glob(os.path.join(ROOT, "user", "*", "")))]
    cmd = ["gcc", "-g", "-O1", "-Wall", "-Wextra", "-Wno-unused-parameter", "-std=gnu11",
           "-D_GNU_SOURCE", "-I" + out, "-I" + os.path.join(ROOT, "include"),
           "-I" + os.path.join(ROOT, "user"), *user_dirs,
           os.path.join(ROOT, "tests", "integration", source), *objs,
           "-lbpf", "-ldw", "-lelf", "-lz", "-lsqlite3", "-lcapstone", "-lcurl", "-lpthread", "-lm",
           "-o", dest]
    r = subprocess.run(cmd, capture_output=True, text=True)
    return r.returncode == 0 and not r.stderr.strip(), r.stderr


def prog_stats(pid):
    """{program name: (run_time_ns, run_cnt)} of the BPF programs the cpprof
    process PID holds (its fds' /proc fdinfo; kernel.bpf_stats_enabled),
    so that other cpprof instances on the machine are not counted."""
    out = subprocess.run(["bpftool", "-j", "prog", "show"], capture_output=True, text=True).stdout
    try:
        names = {p["id"]: p.get("name", "?") for p in json.loads(out)}
    except ValueError:
        return {}
    res = {}
    fddir = f"/proc/{pid}/fdinfo"
    for fd in os.listdir(fddir):
        try:
            with open(os.path.join(fddir, fd)) as f:
                info = dict(l.split(":", 1) for l in f.read().splitlines() if ":" in l)
        except OSError:
            continue
        if "prog_id" not in info:
            continue
        name = names.get(int(info["prog_id"]), "?")
        ns, cnt = res.get(name, (0, 0))
        res[name] = (ns + int(info.get("run_time_ns", "0")), cnt + int(info.get("run_cnt", "0")))
    return res
