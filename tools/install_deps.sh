#!/bin/sh
# Install everything cpprof's build, tests and demo need on Debian bookworm
# (run as root; idempotent). bookworm-backports brings libbpf 1.4,
# bpftool 7.5 and Go 1.21-1.23; bookworm itself has Go 1.19, etcd 3.4,
# Capstone, and etcd's Go client as source (golang-etcd-server-dev, with
# grpc, gogo protobuf, zap... as dependencies, under /usr/share/gocode) for
# the etcd-backed test server, and google.golang.org/protobuf (with the
# modules its go.mod names) for the test server's protobuf encoding.
set -eu
[ "$(id -u)" = 0 ] || { echo "install_deps: must run as root (apt-get): try 'sudo make deps'" >&2; exit 1; }
. /etc/os-release
[ "${VERSION_CODENAME:-}" = bookworm ] || echo "install_deps: warning: written for Debian bookworm, this is '${VERSION_CODENAME:-unknown}'" >&2

bp=/etc/apt/sources.list.d/cpprof-backports.sources
if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
	cat > "$bp" <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# backports first: its bpftool pulls libelf1/libdw1 0.192, and the -dev
# packages must match them.
apt-get install -y -qq --no-install-recommends -t bookworm-backports \
	libbpf-dev bpftool libelf-dev libdw-dev golang-1.21-go golang-1.22-go golang-1.23-go >/dev/null
apt-get install -y -qq --no-install-recommends \
	make gcc clang llvm pkg-config libc6-dev \
	zlib1g-dev libsqlite3-dev sqlite3 libcapstone-dev \
	libcurl4-openssl-dev libclang-rt-14-dev \
	golang-1.19-go etcd-server etcd-client golang-etcd-server-dev \
	golang-github-gogo-protobuf-dev golang-google-protobuf-dev golang-github-golang-protobuf-1-3-dev golang-github-google-go-cmp-dev \
	curl procps iproute2 ca-certificates openssl python3 \
	chromium fonts-dejavu-core python3-jsonschema groff-base man-db util-linux >/dev/null
# Newer Go toolchains, etcd 3.5, kubectl and the Kubernetes 1.36 apiserver
# sources, from trixie and sid, into a private cache (never installed).
"$(dirname "$0")/fetch_debian.sh" >/dev/null
echo "install_deps: done"
