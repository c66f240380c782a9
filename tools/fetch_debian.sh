#!/bin/sh
# SPDX-License-Identifier: MIT
# Fetch newer Go toolchains, etcd servers, kubectl and the Kubernetes 1.36
# apiserver sources from Debian trixie and sid into a private cache, without
# installing anything into the bookworm system: a private apt configuration
# (its own sources list, package lists, archive cache and an empty dpkg
# status) downloads the .debs, and dpkg-deb -x unpacks each group into its
# own root. A second run reuses everything (stamp files per group).
#
#   $CACHE/go-1.NN/            GOROOT of Go 1.24 (trixie), 1.26 and 1.27 (sid)
#   $CACHE/etcd-sid/           sid's etcd-server + etcd-client, 3.5.30 today
#                              (usr/bin/etcd, usr/bin/etcdctl; built with Go 1.26, cgo)
#   $CACHE/etcd-trixie/        trixie's, 3.5.16
#   $CACHE/kubectl-sid/        sid's kubectl, 1.36 today (usr/bin/kubectl)
#   $CACHE/gocode-k8s/         sid's golang-k8s-apiextensions-apiserver-dev and
#                              every golang-*-dev it needs (usr/share/gocode/src)
#
# Usage: tools/fetch_debian.sh [GROUP...]   (default: all groups)
# CACHE defaults to /var/cache/cpprof (override with CPPROF_CACHE).
# CPPROF_REFRESH=1 resolves gocode-k8s's dependency closure again (it is
# otherwise reused as stamped, without reading the package lists).
# Prints the cache path on its last line.
set -eu

CACHE=${CPPROF_CACHE:-/var/cache/cpprof}
apt_dir=$CACHE/apt
if ! mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/etc" 2>/dev/null ||
	[ ! -w "$CACHE" ]; then
	echo "fetch_debian: cannot write the cache '$CACHE': run as root ('sudo make deps') or set CPPROF_CACHE" >&2
	exit 1
fi
# One run at a time per cache (make -j, or two checkouts sharing it): a
# second run waits, then finds the stamps the first one wrote.
if command -v flock >/dev/null 2>&1 && [ -z "${CPPROF_FETCH_LOCKED:-}" ]; then
	export CPPROF_FETCH_LOCKED=1
	exec flock "$CACHE/.lock" "$0" "$@"
fi
: > "$apt_dir/status.tmp"
[ -e "$apt_dir/status" ] || mv "$apt_dir/status.tmp" "$apt_dir/status"
rm -f "$apt_dir/status.tmp"
kr=/usr/share/keyrings/debian-archive-keyring.gpg
cat > "$apt_dir/etc/sources.list" <<EOF
deb [signed-by=$kr] http://deb.debian.org/debian sid main
deb [signed-by=$kr] http://deb.debian.org/debian trixie main
EOF

APTOPTS="-o Dir::Etc::sourcelist=$apt_dir/etc/sources.list -o Dir::Etc::sourceparts=/nonexistent
 -o Dir::State::Lists=$apt_dir/lists -o Dir::Cache=$apt_dir/cache -o Dir::State::status=$apt_dir/status
 -o APT::Architecture=amd64 -o APT::Architectures::=amd64 -o Debug::NoLocking=1 -o APT::Sandbox::User=root"

# The package lists are refreshed at most once a day.
lists_fresh() {
	[ -n "$(find "$apt_dir/lists" -maxdepth 1 -name '*sid_InRelease' -mmin -1440 2>/dev/null)" ]
}
update_lists() {
	lists_fresh && return 0
	# shellcheck disable=SC2086
	apt-get $APTOPTS -qq update >/dev/null || {
		echo "fetch_debian: cannot read Debian's trixie/sid package lists; check the network or apt's proxy settings" >&2
		exit 1
	}
}

# fetch GROUP PKG[=VERSION]...: download into $CACHE/debs/GROUP, unpack into
# $CACHE/GROUP, then stamp. Skipped when the stamp names the same packages.
fetch() {
	group=$1; shift
	want="$*"
	stamp=$CACHE/$group/.fetched
	# The stamp alone is not trusted: its group's main file must be
	# there too (a cache pruned by hand is fetched again).
	if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] &&
		{ [ -z "${sentinel:-}" ] || [ -e "$CACHE/$group/$sentinel" ]; }; then
		return 0
	fi
	update_lists
	rm -rf "$CACHE/$group" "$CACHE/debs/$group"
	mkdir -p "$CACHE/debs/$group"
	# shellcheck disable=SC2086
	(cd "$CACHE/debs/$group" && apt-get $APTOPTS -qq download "$@" >/dev/null) || {
		echo "fetch_debian: cannot download '$group' ($*) from Debian" >&2
		exit 1
	}
	mkdir -p "$CACHE/$group"
	for deb in "$CACHE/debs/$group"/*.deb; do
		dpkg-deb -x "$deb" "$CACHE/$group"
	done
	rm -rf "$CACHE/debs/$group"
	echo "$want" > "$stamp"
	echo "fetch_debian: $group ready in $CACHE/$group" >&2
}

# A Go toolchain: the static binaries (golang-1.NN-go) and the standard
# library sources (golang-1.NN-src), unpacked under usr/lib/go-1.NN; the
# group directory is then a GOROOT's parent: $CACHE/go-1.NN/usr/lib/go-1.NN.
fetch_go() {
	sentinel=usr/lib/go-$1/bin/go fetch "go-$1" "golang-$1-go" "golang-$1-src"
}

# The Go sources the real apiserver fixture builds from, in GOPATH layout:
# every golang-*-dev package in the dependency closure of sid's
# apiextensions-apiserver.
fetch_k8s() {
	# Resolving the closure reads both package lists (tens of seconds on
	# a busy machine): a stamped set is reused as it is.
	if [ -f "$CACHE/gocode-k8s/.fetched" ] && [ -z "${CPPROF_REFRESH:-}" ]; then
		return 0
	fi
	update_lists
	# shellcheck disable=SC2086
	pkgs=$(apt-cache $APTOPTS depends --recurse --no-recommends --no-suggests --no-conflicts \
		--no-breaks --no-replaces --no-enhances golang-k8s-apiextensions-apiserver-dev 2>/dev/null |
		grep -E '^golang-.*-dev$' | sort -u | tr '\n' ' ')
	[ -n "$pkgs" ] || { echo "fetch_debian: cannot resolve golang-k8s-apiextensions-apiserver-dev's dependencies" >&2; exit 1; }
	# shellcheck disable=SC2086
	sentinel=usr/share/gocode/src fetch gocode-k8s $pkgs
}

groups=${*:-go-1.24 go-1.26 go-1.27 etcd-sid etcd-trixie kubectl-sid gocode-k8s}
for g in $groups; do
	case $g in
	go-1.24|go-1.26|go-1.27) fetch_go "${g#go-}" ;;
	etcd-sid) sentinel=usr/bin/etcd fetch etcd-sid etcd-server/sid etcd-client/sid ;;
	etcd-trixie) sentinel=usr/bin/etcd fetch etcd-trixie etcd-server/trixie etcd-client/trixie ;;
	kubectl-sid) sentinel=usr/bin/kubectl fetch kubectl-sid kubectl/sid ;;
	gocode-k8s) fetch_k8s ;;
	*) echo "fetch_debian: unknown group '$g' (go-1.24 go-1.26 go-1.27 etcd-sid etcd-trixie kubectl-sid gocode-k8s)" >&2; exit 2 ;;
	esac
done
echo "$CACHE"
