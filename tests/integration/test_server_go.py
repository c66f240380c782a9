#!/usr/bin/env python3
"""The Go test server's own unit tests (tests/server/*_test.go: field
selectors, watch replay and 410, patches, protobuf round trips, ...), run
with the newest Go toolchain (tools/go_toolchains.sh, Go 1.27 from the
cache) the way tests/fixtures/build.sh builds it:
module mode, no proxy, Debian's Go sources for the replaced modules.

Usage: test_server_go.py BUILD_DIR. Ends with "testserver: N passed, N failed"
(one check per Go test function).
"""
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")


def main():
    # the same list build.sh uses: apt's /usr/lib/go-1.* and the cache's trixie/sid toolchains
    gos = subprocess.run([os.path.join(ROOT, "tools", "go_toolchains.sh")], capture_output=True,
                         text=True).stdout.split()
    if not gos:
        print("testserver: no Go toolchain in /usr/lib/go-1.* or /var/cache/cpprof/go-1.*: run 'make deps'")
        print("testserver: 0 passed, 1 failed")
        return 1
    cache = os.path.join(BUILD, "fixtures", ".gocache")
    env = dict(os.environ, GOCACHE=cache, GOPATH=os.path.join(BUILD, "fixtures", ".gopath"),
               GOTOOLCHAIN="local", GOPROXY="off", GOSUMDB="off", GOFLAGS="-buildvcs=false",
               GO111MODULE="on", HOME=os.environ.get("HOME", BUILD))
    r = subprocess.run([gos[-1], "test", "-count=1", "-v", "."], cwd=os.path.join(ROOT, "tests", "server"),
                       env=env, capture_output=True, text=True, timeout=600)
    passed = len(re.findall(r"^--- PASS: \S+", r.stdout, re.M))
    failed = len(re.findall(r"^--- FAIL: \S+", r.stdout, re.M))
    for line in r.stdout.splitlines():
        if line.startswith("--- "):
            print("  " + line)
    if r.returncode != 0 and failed == 0:
        failed = 1
        print((r.stdout + r.stderr)[-2000:])
    print(f"testserver: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
