#!/bin/sh
# SPDX-License-Identifier: MIT
# Smoke test of the Go fixtures: start every testserver binary listed in
# FIXDIR/manifest.tsv, send mixes/basic.mix with HTTP/1.1 over TLS, HTTP/2
# over TLS and plain HTTP/1.1 (a fresh server each time), and compare the
# statuses with mixes/basic.expected. Needs no root.
#
# Usage: tests/client/smoke.sh FIXDIR
set -u
fix=${1:?usage: smoke.sh FIXDIR}
here=$(cd "$(dirname "$0")" && pwd)
mix="$here/mixes/basic.mix"
want="$here/mixes/basic.expected"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bad=0

# run BIN MODE: MODE is h1 (TLS, HTTP/1.1), h2 (TLS, HTTP/2) or plain.
run() {
	bin=$1 mode=$2
	tlsflag=-tls clientflags="-insecure"
	case $mode in
	h2) clientflags="-insecure -http2" ;;
	plain) tlsflag= clientflags= ;;
	esac
	rm -f "$tmp/out" "$tmp/err" "$tmp/pid"
	"$fix/$bin" $tlsflag -pidfile "$tmp/pid" > "$tmp/out" 2> "$tmp/err" &
	spid=$!
	i=0
	while ! grep -q '^listening on ' "$tmp/out" 2>/dev/null; do
		i=$((i + 1))
		if [ $i -gt 100 ]; then
			echo "FAIL $bin $mode: server did not start: $(cat "$tmp/err")"
			kill "$spid" 2>/dev/null
			wait "$spid" 2>/dev/null
			bad=1
			return
		fi
		sleep 0.05
	done
	url=$(sed -n 's/^listening on //p' "$tmp/out")
	"$fix/client" -url "$url" $clientflags -mix "$mix" > "$tmp/got" 2> "$tmp/cerr"
	rc=$?
	kill -TERM "$spid"
	wait "$spid"
	src=$?
	proto=HTTP/1.1
	[ "$mode" = h2 ] && proto=HTTP/2.0
	if [ $rc -ne 0 ]; then
		echo "FAIL $bin $mode: client exit $rc: $(cat "$tmp/cerr")"
		bad=1
	elif ! cut -f1-4 "$tmp/got" | cmp -s - "$want"; then
		echo "FAIL $bin $mode: statuses differ from basic.expected:"
		cut -f1-4 "$tmp/got" | diff "$want" - | head -10
		bad=1
	elif [ "$(cut -f5 "$tmp/got" | sort -u)" != "$proto" ]; then
		echo "FAIL $bin $mode: protocols $(cut -f5 "$tmp/got" | sort -u | tr '\n' ' ') (want $proto)"
		bad=1
	elif [ $src -ne 0 ] || [ -e "$tmp/pid" ]; then
		echo "FAIL $bin $mode: server exit $src on SIGTERM (or pidfile left)"
		bad=1
	else
		echo "ok   $bin $mode ($(tail -1 "$tmp/cerr" | sed 's/^client: //'))"
	fi
}

for bin in $(tail -n +2 "$fix/manifest.tsv" | cut -f1); do
	for mode in h1 h2 plain; do
		run "$bin" "$mode"
	done
done
exit $bad
