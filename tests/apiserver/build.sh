#!/bin/sh
# SPDX-License-Identifier: MIT
# Build a real Kubernetes API server for the integration tests:
# k8s.io/apiextensions-apiserver's own main, unmodified, from Debian sid's
# golang-k8s-apiextensions-apiserver-dev (0.36.x, Kubernetes 1.36) and the
# golang-*-dev sources it needs, which tools/fetch_debian.sh unpacks into
# $CACHE/gocode-k8s/usr/share/gocode (GOPATH layout). It serves
# CustomResourceDefinitions and custom resources through the genuine generic
# server (k8s.io/apiserver: authentication, authorization, RequestInfo,
# timeout and priority-and-fairness filters, admission, the watch cache,
# etcd3 storage, JSON/YAML/CBOR, apiserver_request_* metrics).
#
#   OUTDIR/apiextensions-apiserver
#
# GOPATH mode (GO111MODULE=off): Debian ships sources, not a module cache,
# and there is no module proxy. Only the cache's gocode is on GOPATH, never
# bookworm's /usr/share/gocode (its k8s.io and grpc are years older).
# Go 1.26 (sid), else 1.27. -X sets gitVersion as Kubernetes' release
# build does, so that /version and cpprof's k8s_version say v1.36.x.
#
# Incremental: skipped when the binary is newer than this script and the
# source tree's stamp. Quiet unless something is built. A cold build
# compiles ~1400 packages (see README: minutes on 2 cores).
#
# Usage: tests/apiserver/build.sh OUTDIR
set -eu

if [ $# -ne 1 ]; then
	echo "usage: $0 OUTDIR" >&2
	exit 2
fi
out=$1
here=$(cd "$(dirname "$0")" && pwd)
cache=${CPPROF_CACHE:-/var/cache/cpprof}
gocode=$cache/gocode-k8s/usr/share/gocode
pkg=k8s.io/apiextensions-apiserver
bin=apiextensions-apiserver

go=
for v in 1.26 1.27; do
	if [ -x "$cache/go-$v/usr/lib/go-$v/bin/go" ]; then
		go=$cache/go-$v/usr/lib/go-$v/bin/go
		break
	fi
done
if [ -z "$go" ]; then
	echo "apiserver/build.sh: no Go 1.26 or 1.27 under $cache; run 'make deps' (tools/fetch_debian.sh go-1.26)" >&2
	exit 1
fi
if [ ! -f "$gocode/src/$pkg/main.go" ] || [ ! -f "$cache/gocode-k8s/.fetched" ]; then
	echo "apiserver/build.sh: $gocode/src/$pkg is missing; run 'make deps' (tools/fetch_debian.sh gocode-k8s)" >&2
	exit 1
fi

mkdir -p "$out"
out=$(cd "$out" && pwd)
if [ -e "$out/$bin" ] && [ "$out/$bin" -nt "$here/build.sh" ] && [ "$out/$bin" -nt "$cache/gocode-k8s/.fetched" ]; then
	exit 0
fi

# One build at a time per OUTDIR (make -j may start this twice).
if command -v flock >/dev/null 2>&1 && [ -z "${CPPROF_APISERVER_LOCKED:-}" ]; then
	export CPPROF_APISERVER_LOCKED=1
	exec flock "$out/.apiserver.lock" "$0" "$@"
fi

# Kubernetes' version from the Debian package (0.36.4 -> v1.36.4).
ver=$(zcat "$cache/gocode-k8s/usr/share/doc/golang-k8s-apiextensions-apiserver-dev/changelog.Debian.gz" 2>/dev/null |
	sed -n '1s/.*(0\.\([0-9]*\)\.\([0-9]*\).*/v1.\1.\2/p')
ld=
if [ -n "$ver" ]; then
	major=1 minor=$(echo "$ver" | cut -d. -f2)
	vp=k8s.io/component-base/version
	ld="-X $vp.gitVersion=$ver -X $vp.gitMajor=$major -X $vp.gitMinor=$minor -X $vp.gitTreeState=clean"
fi

printf '  %-8s %s\n' "GO" "$out/$bin"
export GO111MODULE=off GOPATH="$gocode" GOCACHE="$out/.gocache-apiserver"
export GOTOOLCHAIN=local GOPROXY=off GOSUMDB=off GOENV=off GOTELEMETRY=off GOFLAGS=-buildvcs=false
export HOME="${HOME:-$out}" CGO_ENABLED=0
unset GOROOT GOOS GOARCH GOAMD64 2>/dev/null || true
rm -f "$out/$bin.tmp"
start=$(date +%s)
if ! (cd "$gocode/src/$pkg" && "$go" build -ldflags "$ld" -o "$out/$bin.tmp" .); then
	rm -f "$out/$bin.tmp"
	echo "apiserver/build.sh: building $pkg with $go failed" >&2
	exit 1
fi
mv -f "$out/$bin.tmp" "$out/$bin"
printf '  %-8s %s (%s, %ss)\n' "DONE" "$out/$bin" "$("$go" version | awk '{print $3}')" "$(($(date +%s) - start))"
