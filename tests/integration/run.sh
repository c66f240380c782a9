#!/bin/sh
# Root integration tests: real BPF, real Go servers, Debian's etcd, real
# SQLite files. Each suite prints "NAME: N passed, N failed"; this adds
# them up into one such line.
set -u
out=${1:-build}
: "${FIXTURES_DIR:=$(cd "$out" && pwd)/fixtures}"
export FIXTURES_DIR
dir=$(dirname "$0")
pass=0 fail=0
for t in test_server_go.py test_http.py test_etcd.py test_sys.py test_cpu.py test_hollowload.py test_diff.py test_report_html.py test_report_golden.py test_scrape.py test_apiserver.py test_install.py test_follow.py test_masters.py test_bounded.py test_exports.py test_breakdown.py; do
	[ -f "$dir/$t" ] || continue
	t0=$(date +%s)
	python3 "$dir/$t" "$out" ${IT_FILTER:-} > /tmp/cpprof-it-$$.log 2>&1
	rc=$?
	cat /tmp/cpprof-it-$$.log
	echo "  ($t took $(( $(date +%s) - t0 )) s)"
	sum=$(grep -E '^[a-z-]+: [0-9]+ passed, [0-9]+ failed' /tmp/cpprof-it-$$.log | tail -1)
	rm -f /tmp/cpprof-it-$$.log
	if [ -z "$sum" ]; then
		echo "$t: ended without a summary (exit $rc)"
		fail=$((fail + 1))
		continue
	fi
	p=$(echo "$sum" | sed -E 's/.*: ([0-9]+) passed.*/\1/')
	f=$(echo "$sum" | sed -E 's/.* ([0-9]+) failed.*/\1/')
	[ $rc -eq 0 ] || [ "$f" -gt 0 ] || f=1
	pass=$((pass + p)); fail=$((fail + f))
done
echo "integration: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
