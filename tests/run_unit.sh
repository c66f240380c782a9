#!/bin/sh
# Run every unit test binary in OUTPUT/tests and add up their
# "N passed, N failed" lines. Unit tests need no root; they read Go
# binaries from FIXTURES_DIR (built by tests/fixtures/build.sh).
set -u
out=${1:-build}
: "${FIXTURES_DIR:=$(cd "$out" && pwd)/fixtures}"
export FIXTURES_DIR
pass=0 fail=0 bad=0
for t in "$out"/tests/test_*; do
	[ -x "$t" ] || continue
	case "$t" in *.d) continue ;; esac
	line=$("$t" 2>&1)
	rc=$?
	printf '%s\n' "$line" | grep -v ' passed, ' | sed 's/^/  /'
	sum=$(printf '%s\n' "$line" | grep -E '[0-9]+ passed, [0-9]+ failed' | tail -1)
	p=$(printf '%s' "$sum" | sed -E 's/.* ([0-9]+) passed.*/\1/')
	f=$(printf '%s' "$sum" | sed -E 's/.* ([0-9]+) failed.*/\1/')
	[ -n "$sum" ] || { p=0; f=1; }
	[ $rc -eq 0 ] || [ "$f" -gt 0 ] || f=1   # a crash after the summary still fails
	printf '  %-28s %s\n' "$(basename "$t")" "${sum:-crashed (exit $rc)}"
	pass=$((pass + p)); fail=$((fail + f))
	[ "$f" -eq 0 ] || bad=1
done
echo "unit: $pass passed, $fail failed"
exit $bad
