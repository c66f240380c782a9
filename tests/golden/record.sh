#!/bin/sh
# Records the real databases of tests/golden (run once, by hand, as root;
# the files are committed): Debian's etcd and the Go test server (named
# kube-apiserver, as in tools/demo.sh, but on its in-memory store: the
# etcd-backed build is not among the prebuilt fixtures) recorded together
# by `cpprof record` while hollowload drives a few hollow nodes and a small
# density run and etcdctl writes keys, twice (JSON, then protobuf), so that
# report, diff and runs have two real runs with every section. Then
# `tests/integration/test_report_golden.py BUILD_DIR --update`, run with
# the code whose output is the reference, writes the golden outputs.
# tests/golden/synth.db is `tools/gen_bigdb.py --rows 4000` (SQLite's
# random() cannot be seeded, so it is kept rather than regenerated).
# Both files were set to journal_mode=DELETE and vacuumed.
#   sudo tests/golden/record.sh [BUILD_DIR] [OUT_DB]
set -eu
out=${1:-build}
db=${2:-tests/golden/real.db}
fix=${FIXTURES_DIR:-$out/fixtures}
server=$fix/testserver-go1.23
rm -f "$db" "$db-wal" "$db-shm"
tmp=$(mktemp -d /tmp/cpprof-golden.XXXXXX)
rec= srv= etcd_pid=
cleanup() {
	rc=$?
	set +e
	[ -n "$rec" ] && kill -INT "$rec" 2>/dev/null && wait "$rec"
	[ -n "$srv" ] && kill "$srv" 2>/dev/null && wait "$srv" 2>/dev/null
	[ -n "$etcd_pid" ] && kill "$etcd_pid" 2>/dev/null && wait "$etcd_pid" 2>/dev/null
	rm -rf "$tmp"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM
set -- $(python3 -c 'import socket
s=[socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(" ".join(str(x.getsockname()[1]) for x in s))')
etcd_url=http://127.0.0.1:$1 peer_url=http://127.0.0.1:$2
etcd --name golden --data-dir "$tmp/etcd" \
	--listen-client-urls "$etcd_url" --advertise-client-urls "$etcd_url" \
	--listen-peer-urls "$peer_url" --initial-advertise-peer-urls "$peer_url" \
	--initial-cluster "golden=$peer_url" --logger zap --log-level warn >"$tmp/etcd.log" 2>&1 &
etcd_pid=$!
until ETCDCTL_API=3 etcdctl --endpoints "$etcd_url" --dial-timeout 1s endpoint health >/dev/null 2>&1; do
	kill -0 "$etcd_pid" || exit 1
	sleep 0.1
done
cp "$server" "$tmp/kube-apiserver"
"$tmp/kube-apiserver" -tls -listen 127.0.0.1:0 -delay 'pods=5ms,configmaps:list=20ms' \
	>"$tmp/server.out" 2>"$tmp/server.err" &
srv=$!
while ! grep -q listening "$tmp/server.out" 2>/dev/null; do
	kill -0 "$srv" || exit 1
	sleep 0.1
done
url=$(grep -o 'https://[^ ]*' "$tmp/server.out" | head -1)

record() {
	label=$1
	shift
	"$out/cpprof" record --db "$db" --label "$label" --kind other --pid "$etcd_pid" --pid "$srv" \
		--nodes 20 --namespaces 2 2>"$tmp/record-$label.log" &
	rec=$!
	while ! grep -q 'recording run' "$tmp/record-$label.log" 2>/dev/null; do
		kill -0 "$rec" || { cat "$tmp/record-$label.log" >&2; rec=; exit 1; }
		sleep 0.1
	done
	for i in $(seq 1 40); do
		ETCDCTL_API=3 etcdctl --endpoints "$etcd_url" put "/golden/$label/$i" "v$i" >/dev/null
	done &
	"$out/hollowload" --server "$url" --insecure --http2 --scenario hollow-nodes,density \
		--nodes 20 --lease-period 2s --status-period 2s --ramp 1s --seed 1 \
		--pods 40 --pod-rate 20 --namespaces 2 --duration 6s --prefix "$label" "$@" >/dev/null
	wait $!
	sleep 1
	kill -INT "$rec"
	wait "$rec" || true
	rec=
	tail -1 "$tmp/record-$label.log"
}
record json --json
record protobuf --protobuf
sqlite3 "$db" 'VACUUM'
ls -l "$db"
