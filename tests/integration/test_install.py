#!/usr/bin/env python3
"""make install and the deployment: PREFIX/DESTDIR layout, man pages that
render cleanly and document every option the --help texts name, and the
control-plane manifests decoded strictly into the real Kubernetes 1.36 API
types (k8s.io/api from Debian sid) with the capability set they declare
proven sufficient by recording a live Go server under exactly that set.

Usage: test_install.py OUTDIR   (root)
"""
import json
import os
import re
import shutil
import subprocess
import sqlite3
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from itlib import ROOT, Checks, free_port  # noqa: E402

check = Checks()
OUT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
FIX = os.environ.get("FIXTURES_DIR", os.path.join(OUT, "fixtures"))
CACHE = os.environ.get("CPPROF_CACHE", "/var/cache/cpprof")
GO = os.path.join(CACHE, "go-1.26/usr/lib/go-1.26/bin/go")
GOCODE = os.path.join(CACHE, "gocode-k8s/usr/share/gocode")
TMP = tempfile.mkdtemp(prefix="cpprof-install.")
MANIFESTS = [os.path.join(ROOT, "tools/deploy", f) for f in ("cpprof-daemonset.yaml", "cpprof-static-pod.yaml")]


def long_options(help_text):
    return sorted(set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]+)", help_text)))


def man_text(path):
    with open(path) as f:
        return f.read().replace("\\-", "-")


def test_install():
    dest = os.path.join(TMP, "dest")
    r = subprocess.run(["make", "-s", "--no-print-directory", f"OUTPUT={OUT}", "install",
                        "PREFIX=/usr", f"DESTDIR={dest}"], cwd=ROOT, capture_output=True, text=True)
    check(r.returncode == 0, "make install PREFIX=/usr DESTDIR=... succeeds", r.stderr[-500:])
    want = {"usr/bin/cpprof": 0o755, "usr/bin/hollowload": 0o755,
            "usr/share/man/man8/cpprof.8": 0o644, "usr/share/man/man1/hollowload.1": 0o644,
            "usr/share/cpprof/deploy/cpprof-daemonset.yaml": 0o644,
            "usr/share/cpprof/deploy/cpprof-static-pod.yaml": 0o644}
    for rel, mode in want.items():
        p = os.path.join(dest, rel)
        ok = os.path.isfile(p) and (os.stat(p).st_mode & 0o777) == mode
        check(ok, f"installed {rel} mode {oct(mode)}",
              oct(os.stat(p).st_mode & 0o777) if os.path.exists(p) else "missing")
    stray = [os.path.relpath(os.path.join(d, f), dest) for d, _, fs in os.walk(dest) for f in fs
             if not os.path.relpath(os.path.join(d, f), dest) in want]
    check(not stray, "nothing installed outside PREFIX's bin, man and share/cpprof", str(stray))
    r = subprocess.run([os.path.join(dest, "usr/bin/cpprof"), "--version"], capture_output=True, text=True)
    check(r.returncode == 0 and r.stdout.strip(), "the installed cpprof runs", r.stderr)


def test_man():
    cpprof = os.path.join(OUT, "cpprof")
    for page in ("cpprof.8", "hollowload.1"):
        path = os.path.join(ROOT, "tools/man", page)
        r = subprocess.run(["groff", "-ww", "-z", "-man", path], capture_output=True, text=True)
        check(r.returncode == 0 and not r.stderr.strip(), f"{page} renders with no groff warning", r.stderr)
        r = subprocess.run(["man", "-l", path], capture_output=True, text=True,
                           env=dict(os.environ, MANWIDTH="80", MANPAGER="cat", PAGER="cat"))
        check(r.returncode == 0 and "SYNOPSIS" in r.stdout and "EXAMPLES" in r.stdout,
              f"man -l {page} shows SYNOPSIS and EXAMPLES", r.stderr)
    text = man_text(os.path.join(ROOT, "tools/man/cpprof.8"))
    for cmd in ("record", "report", "diff", "runs", "inspect"):
        r = subprocess.run([cpprof, cmd, "--help"], capture_output=True, text=True)
        missing = [o for o in long_options(r.stdout + r.stderr) if o not in text]
        check(r.returncode == 0 and not missing, f"cpprof.8 documents every option of 'cpprof {cmd} --help'",
              str(missing))
    r = subprocess.run([os.path.join(OUT, "hollowload"), "--help"], capture_output=True, text=True)
    text = man_text(os.path.join(ROOT, "tools/man/hollowload.1"))
    missing = [o for o in long_options(r.stdout + r.stderr) if o not in text]
    check(not missing, "hollowload.1 documents every option of 'hollowload --help'", str(missing))


def build_checkmanifest():
    """tests/deploy/main.go in GOPATH mode against sid's k8s.io/api."""
    if not (os.access(GO, os.X_OK) and os.path.isdir(os.path.join(GOCODE, "src/k8s.io/api"))):
        check(False, "Go 1.26 and sid's k8s.io/api are in the cache", "run 'make deps'")
        return None
    gopath = os.path.join(OUT, ".gopath-deploy")
    os.makedirs(os.path.join(gopath, "src/cpprof.test"), exist_ok=True)
    link = os.path.join(gopath, "src/cpprof.test/checkmanifest")
    if os.path.islink(link):
        os.unlink(link)
    os.symlink(os.path.join(ROOT, "tests/deploy"), link)
    exe = os.path.join(OUT, "checkmanifest")
    env = dict(os.environ, GO111MODULE="off", GOPATH=f"{gopath}:{GOCODE}", GOTOOLCHAIN="local",
               GOPROXY="off", GOFLAGS="", CGO_ENABLED="0",
               # the real apiserver's build cache (tests/apiserver/build.sh): k8s.io/api is compiled once
               GOCACHE=os.environ.get("CPPROF_K8S_GOCACHE", os.path.join(OUT, "apiserver", ".gocache-apiserver")))
    t0 = time.time()
    r = subprocess.run([GO, "build", "-o", exe, "cpprof.test/checkmanifest"], cwd=OUT, env=env,
                       capture_output=True, text=True)
    check(r.returncode == 0, f"checkmanifest builds against sid's k8s.io/api ({time.time() - t0:.0f} s)",
          r.stderr[-800:])
    return exe if r.returncode == 0 else None


def record_under_caps(caps, args):
    """Run cpprof record ARGS (the manifest's) under exactly CAPS, against a
    live stripped Go server, and return (exit code, requests stored,
    output)."""
    srv_bin = os.path.join(FIX, "testserver-go1.23-stripped")
    if not os.path.exists(srv_bin):
        srv_bin = sorted(p for p in os.listdir(FIX) if p.endswith("-stripped") and "cgo" not in p)[-1]
        srv_bin = os.path.join(FIX, srv_bin)
    ka = os.path.join(TMP, "kube-apiserver")
    shutil.copy(srv_bin, ka)
    port = free_port()
    srv = subprocess.Popen([ka, "-listen", f"127.0.0.1:{port}"], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
        dbdir = os.path.join(TMP, "var-lib-cpprof")
        os.makedirs(dbdir, exist_ok=True)
        args = [a.replace("$(NODE_NAME)", "master-1").replace("/var/lib/cpprof", dbdir) for a in args]
        bounding = "-all," + ",".join("+" + c.lower() for c in caps)
        cmd = ["setpriv", "--inh-caps=-all", "--ambient-caps=-all", f"--bounding-set={bounding}",
               os.path.join(OUT, "cpprof")] + args + ["--pid", str(srv.pid), "--duration", "6",
                                                      "--no-sockets", "--sample-hz", "0"]
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.time() + 4
        sent = 0
        while time.time() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).read()
                sent += 1
            except OSError:
                pass
            time.sleep(0.02)
        out, _ = p.communicate(timeout=60)
        dbs = [os.path.join(dbdir, f) for f in os.listdir(dbdir) if f.endswith(".db")]
        n = 0
        for db in dbs:
            n += sqlite3.connect(db).execute("SELECT count(*) FROM requests").fetchone()[0]
        for db in dbs:
            os.unlink(db)
        return p.returncode, n, out
    finally:
        srv.kill()
        srv.wait()


def test_manifests():
    exe = build_checkmanifest()
    if not exe:
        return
    r = subprocess.run([exe] + MANIFESTS, capture_output=True, text=True)
    check(r.returncode == 0, "both manifests decode strictly into apps/v1 DaemonSet and v1 Pod", r.stderr)
    if r.returncode:
        return
    docs = json.loads(r.stdout)
    for d in docs:
        name = os.path.basename(d["file"])
        check(d["namespace"] == "kube-system", f"{name}: in kube-system")
        check(d["hostPID"], f"{name}: hostPID (the targets are host processes)")
        tol = [(t.get("key", ""), t.get("effect")) for t in d["tolerations"] or []]
        check(("node-role.kubernetes.io/control-plane", "NoSchedule") in tol or ("", "NoSchedule") in tol,
              f"{name}: tolerates the control-plane taint", str(tol))
        check(d["mounts"].get("/sys/kernel/tracing") == "/sys/kernel/tracing" and
              d["mounts"].get("/sys/kernel/btf") == "/sys/kernel/btf",
              f"{name}: tracefs and BTF mounted from the host", str(d["mounts"]))
        argv = d["command"] + d["args"]
        db = argv[argv.index("--db") + 1] if "--db" in argv else ""
        check(argv[:2] == ["cpprof", "record"] and os.path.dirname(db) in d["mounts"] and
              d["mounts"][os.path.dirname(db)] == "/var/lib/cpprof",
              f"{name}: records into the hostPath database directory", str(argv))
        check(not d["privileged"] and d["capDrop"] == ["ALL"] and d["runAsUser"] == 0,
              f"{name}: not privileged; every capability dropped but the listed ones", str(d))
        if d["kind"] == "DaemonSet":
            check(d["nodeSelector"] == {"node-role.kubernetes.io/control-plane": ""},
                  f"{name}: runs on control-plane nodes only", str(d["nodeSelector"]))
            check("NODE_NAME" in (d["env"] or []), f"{name}: database named after the node")
    ds = docs[0]
    rc, n, out = record_under_caps(ds["capAdd"], ds["args"])
    check(rc == 0 and n > 0, f"the manifest's arguments under exactly {ds['capAdd']} record a live "
          f"server ({n} requests)", out[-600:])
    short = [c for c in ds["capAdd"] if c not in ("SYS_ADMIN",)]
    rc, n, out = record_under_caps(short, ds["args"])
    check(rc == 1 and n == 0 and "cannot record" in out, "without SYS_ADMIN the same command fails with a clear "
          "error, nothing stored", out[-300:])


def main():
    if os.geteuid() != 0:
        print("install: needs root (make install into DESTDIR is fine, setpriv and uprobes are not)")
        check(False, "run as root")
        return check.summary("install")
    try:
        test_install()
        test_man()
        test_manifests()
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
    return check.summary("install")


if __name__ == "__main__":
    sys.exit(main())
