#!/bin/sh
# The README demo, a two-tier control plane as in a real cluster: Debian's
# etcd (a stripped Go gRPC server) on loopback with a data directory of its
# own, and the Go test server (a kube-apiserver stand-in, testserver-etcd,
# HTTP/1.1 and HTTP/2 over TLS) storing every object in that etcd under
# kube-apiserver's key layout. cpprof records both processes while the test
# hollowload (tools/hollowload) drives hollow nodes and a pod density run,
# once asking for JSON and once for protobuf; then the report, the diff of
# the two runs (text and HTML) and folded stacks. etcd, the server and the
# recorder are stopped on every exit path.
# Run as root: make demo
set -eu
out=${1:-build}
fix=${FIXTURES_DIR:-$out/fixtures}
db=${DEMO_DB:-$out/demo.db}
[ "$(id -u)" = 0 ] || { echo "demo: needs root (uprobes): run 'sudo make demo'" >&2; exit 1; }
server=$fix/testserver-etcd
[ -x "$server" ] || { echo "demo: $server is missing: it needs Debian's golang-etcd-server-dev ('make deps'), then 'make fixtures'" >&2; exit 1; }
etcd_bin=$(command -v etcd || true)
[ -n "$etcd_bin" ] || { echo "demo: no etcd in PATH: install Debian's etcd-server ('make deps')" >&2; exit 1; }
command -v python3 >/dev/null || { echo "demo: needs python3 to pick free ports ('make deps')" >&2; exit 1; }
rm -f "$db" "$db-wal" "$db-shm"
tmp=$(mktemp -d /tmp/cpprof-demo.XXXXXX)
rec= srv= etcd_pid=
# Stops what is still running, in order (recorder, server, etcd), then
# removes etcd's data; keeps the script's exit status (a process killed
# here exits non-zero, which must neither end the cleanup nor become ours).
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

# free_ports N: N free loopback TCP ports (bound together, so distinct).
free_ports() {
	python3 -c 'import socket,sys
s=[socket.socket() for _ in range(int(sys.argv[1]))]
for x in s: x.bind(("127.0.0.1", 0))
print(" ".join(str(x.getsockname()[1]) for x in s))' "$1"
}

# etcd, on ports chosen now; another process may take one before etcd
# binds it, so try again with new ports if etcd does not come up.
for try in 1 2 3; do
	set -- $(free_ports 2)
	etcd_url=http://127.0.0.1:$1 peer_url=http://127.0.0.1:$2
	rm -rf "$tmp/etcd"
	"$etcd_bin" --name demo --data-dir "$tmp/etcd" \
		--listen-client-urls "$etcd_url" --advertise-client-urls "$etcd_url" \
		--listen-peer-urls "$peer_url" --initial-advertise-peer-urls "$peer_url" \
		--initial-cluster "demo=$peer_url" --logger zap --log-level warn >"$tmp/etcd.log" 2>&1 &
	etcd_pid=$!
	i=0
	while kill -0 "$etcd_pid" 2>/dev/null && [ $i -lt 100 ] &&
		! ETCDCTL_API=3 etcdctl --endpoints "$etcd_url" --dial-timeout 1s endpoint health >/dev/null 2>&1; do
		sleep 0.1
		i=$((i + 1))
	done
	if kill -0 "$etcd_pid" 2>/dev/null && [ $i -lt 100 ]; then
		break
	fi
	kill "$etcd_pid" 2>/dev/null || true
	wait "$etcd_pid" 2>/dev/null || true
	etcd_pid=
	if [ "$try" = 3 ]; then
		tail -5 "$tmp/etcd.log" >&2
		echo "demo: etcd did not start (log above)" >&2
		exit 1
	fi
done
echo "demo: etcd $("$etcd_bin" --version | sed -n 's/^etcd Version: //p') (pid $etcd_pid) serving $etcd_url, data in $tmp/etcd"

# Run it under the name kube-apiserver, as on a master VM: cpprof decides
# the component from the build info, else from the file name.
cp "$server" "$tmp/kube-apiserver"
"$tmp/kube-apiserver" -tls -listen 127.0.0.1:0 -etcd "$etcd_url" \
	-delay 'pods=10ms,deployments=25ms,configmaps:list=40ms' >"$tmp/server.out" 2>"$tmp/server.err" &
srv=$!
while ! grep -q listening "$tmp/server.out" 2>/dev/null; do
	kill -0 "$srv" 2>/dev/null || { cat "$tmp/server.err" >&2; srv=; exit 1; }
	sleep 0.1
done
url=$(grep -o 'https://[^ ]*' "$tmp/server.out" | head -1)
echo "demo: kube-apiserver stand-in ($(basename "$server"), pid $srv) serving $url, objects in etcd under /registry"

# record LABEL KIND HOLLOWLOAD-ARGS...: one recorded run of both processes
# while hollowload drives 300 hollow nodes and a density run of 400 pods in
# 8 namespaces (names prefixed with LABEL, so runs do not collide).
record() {
	label=$1 kind=$2
	shift 2
	"$out/cpprof" record --db "$db" --label "$label" --kind "$kind" --pid "$etcd_pid" --pid "$srv" \
		--nodes 300 --namespaces 8 2>"$tmp/record-$label.log" &
	rec=$!
	while ! grep -q 'recording run' "$tmp/record-$label.log" 2>/dev/null; do
		kill -0 "$rec" 2>/dev/null || { cat "$tmp/record-$label.log" >&2; rec=; exit 1; }
		sleep 0.1
	done
	sed -n '/tracing/p' "$tmp/record-$label.log"
	echo "demo: run '$label': hollowload --nodes 300 --pods 400 in 8 namespaces over HTTP/2 $*"
	"$out/hollowload" --server "$url" --insecure --http2 --scenario hollow-nodes,density \
		--nodes 300 --lease-period 10s --status-period 10s --ramp 5s \
		--pods 400 --pod-rate 40 --namespaces 8 --duration 30s --prefix "$label" \
		--report "$tmp/hollow-$label.json" "$@" | sed -n '1,40p'
	sleep 1
	kill -INT "$rec"
	wait "$rec" || true
	rec=
	tail -2 "$tmp/record-$label.log"
}

record json other
record protobuf other --protobuf

echo "demo: etcd keys now: $(ETCDCTL_API=3 etcdctl --endpoints "$etcd_url" get --prefix /registry --keys-only | grep -c . || true)"
echo
"$out/cpprof" runs "$db"
echo
"$out/cpprof" report "$db" --label protobuf
echo
"$out/cpprof" diff "$db:json" "$db:protobuf"
"$out/cpprof" report "$db" --label protobuf --format html -o "$out/demo-report.html"
"$out/cpprof" diff "$db:json" "$db:protobuf" --format html -o "$out/demo-diff.html"
"$out/cpprof" report "$db" --label json --format folded -o "$out/demo-json.folded"
echo
echo "demo: the runs are in $db; HTML: $out/demo-report.html, $out/demo-diff.html;"
echo "      flame graph input: $out/demo-json.folded (flamegraph.pl or speedscope)"
echo "      try: sqlite3 $db 'SELECT category, sum(cpu_ns)/1e6 AS ms FROM cpu_profile GROUP BY 1 ORDER BY 2 DESC'"
