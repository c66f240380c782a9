#!/bin/sh
# Run every unit test binary in OUTPUT/tests and add up their
# "N passed, N failed" lines. Unit tests need no root; they read Go
# binaries from FIXTURES_DIR (built by tests/fixtures/build.sh).
# The binaries are independent, so they run UNIT_JOBS at a time (default:
# the number of CPUs); their output is printed in name order afterwards.
set -u
out=${1:-build}
: "${FIXTURES_DIR:=$(cd "$out" && pwd)/fixtures}"
export FIXTURES_DIR
jobs=${UNIT_JOBS:-$(nproc 2>/dev/null || echo 1)}
res=$(mktemp -d /tmp/cpprof-unit.XXXXXX)
trap 'rm -rf "$res"' EXIT

# one test at a time per slot: its output in RES/NAME.out, its status in RES/NAME.rc
for t in "$out"/tests/test_*; do
	[ -x "$t" ] || continue
	case "$t" in *.d) continue ;; esac
	printf '%s\n' "$t"
done | xargs -P "$jobs" -I{} sh -c 'n=$(basename "$1"); "$1" >"$2/$n.out" 2>&1; echo $? >"$2/$n.rc"' sh {} "$res"

pass=0 fail=0 bad=0
for t in "$out"/tests/test_*; do
	[ -x "$t" ] || continue
	case "$t" in *.d) continue ;; esac
	n=$(basename "$t")
	rc=$(cat "$res/$n.rc" 2>/dev/null || echo 127)
	grep -v ' passed, ' "$res/$n.out" | sed 's/^/  /'
	sum=$(grep -E '[0-9]+ passed, [0-9]+ failed' "$res/$n.out" | tail -1)
	p=$(printf '%s' "$sum" | sed -E 's/.* ([0-9]+) passed.*/\1/')
	f=$(printf '%s' "$sum" | sed -E 's/.* ([0-9]+) failed.*/\1/')
	[ -n "$sum" ] || { p=0; f=1; }
	[ "$rc" -eq 0 ] || [ "$f" -gt 0 ] || f=1   # a crash after the summary still fails
	printf '  %-28s %s\n' "$n" "${sum:-crashed (exit $rc)}"
	pass=$((pass + p)); fail=$((fail + f))
	[ "$f" -eq 0 ] || bad=1
done
echo "unit: $pass passed, $fail failed"
exit $bad
