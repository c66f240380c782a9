#!/bin/sh
# SPDX-License-Identifier: MIT
# Print the go command of every Go toolchain cpprof's fixtures and
# generators use, one per minor release, oldest first:
#   /usr/lib/go-1.NN/bin/go                         apt (bookworm 1.19, backports 1.21-1.23)
#   $CPPROF_CACHE/go-1.NN/usr/lib/go-1.NN/bin/go    unpacked by tools/fetch_debian.sh
#                                                   (trixie 1.24, sid 1.26 and 1.27)
# An apt-installed toolchain wins over the cache's for the same minor. The
# minor comes from the GOROOT's name (go-1.NN). Each go command finds its
# GOROOT from its own path, so GOROOT must not be set when running them.
# Prints nothing (exit 0) when there is none; callers say what to do.
#
# Usage: tools/go_toolchains.sh
set -eu
cache=${CPPROF_CACHE:-/var/cache/cpprof}
for go in /usr/lib/go-1.*/bin/go "$cache"/go-1.*/usr/lib/go-1.*/bin/go; do
	[ -x "$go" ] || continue
	m=$(basename "$(dirname "$(dirname "$go")")")
	m=${m#go-1.}
	case $m in '' | *[!0-9]*) continue ;; esac
	echo "$m $go"
done | sort -n -s -k1,1 | awk '!seen[$1]++ { print $2 }'
