#!/bin/sh
# The README demo: start the Go test server (a kube-apiserver stand-in,
# stripped, HTTP/1.1 and HTTP/2 over TLS), record it with cpprof while the
# test client drives a request mix and a burst of load, then print the
# report. Run as root: make demo
set -eu
out=${1:-build}
fix=${FIXTURES_DIR:-$out/fixtures}
db=${DEMO_DB:-$out/demo.db}
[ "$(id -u)" = 0 ] || { echo "demo: needs root (uprobes): run 'sudo make demo'" >&2; exit 1; }
server=$(ls "$fix"/testserver-go1.*-stripped | grep -v cgo | sort -V | tail -1)
rm -f "$db" "$db-wal" "$db-shm"
tmp=$(mktemp -d /tmp/cpprof-demo.XXXXXX)
cleanup() {
	[ -n "${rec:-}" ] && kill -INT "$rec" 2>/dev/null || true
	[ -n "${srv:-}" ] && kill "$srv" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

"$server" -tls -listen 127.0.0.1:0 -delay 'pods=10ms,deployments=25ms,configmaps:list=40ms' >"$tmp/server.out" &
srv=$!
while ! grep -q listening "$tmp/server.out" 2>/dev/null; do sleep 0.1; done
url=$(grep -o 'https://[^ ]*' "$tmp/server.out" | head -1)
echo "demo: $(basename "$server") (pid $srv) serving $url"

"$out/cpprof" record --db "$db" --label demo --kind other --pid "$srv" 2>"$tmp/record.log" &
rec=$!
while ! grep -q 'recording run' "$tmp/record.log" 2>/dev/null; do
	kill -0 "$rec" 2>/dev/null || { cat "$tmp/record.log" >&2; exit 1; }
	sleep 0.1
done
cat "$tmp/record.log"

echo "demo: driving the request mix over HTTP/2 and HTTP/1.1, then 5 s of load"
for i in 1 2 3; do
	"$fix/client" -url "$url" -insecure -http2 -mix tests/client/mixes/basic.mix >/dev/null
	"$fix/client" -url "$url" -insecure -mix tests/client/mixes/basic.mix >/dev/null
done
"$fix/client" -url "$url" -insecure -http2 -load -duration 5s -concurrency 8 \
	-path /api/v1/namespaces/default/pods >/dev/null

kill -INT "$rec"
wait "$rec" || true
rec=
cat "$tmp/record.log" | tail -1
echo
"$out/cpprof" report "$db"
echo
echo "demo: the run is in $db; try: sqlite3 $db 'SELECT verb, resource, count(*) FROM requests GROUP BY 1, 2'"
