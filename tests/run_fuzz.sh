#!/bin/sh
# Run every libFuzzer target in OUTPUT/fuzz for SECONDS each, starting from
# its seed corpus (tests/fuzz/corpus/<name>/) plus, for the binary parsers,
# the Go fixture binaries' own sections. A crash, leak or sanitizer report
# fails the target.
set -u
out=${1:-build}
secs=${2:-20}
pass=0 fail=0
for f in "$out"/fuzz/fuzz_*; do
	[ -x "$f" ] || continue
	case "$f" in *.d|*.o) continue ;; esac
	name=$(basename "$f" | sed 's/^fuzz_//')
	work=$(mktemp -d /tmp/cpprof-fuzz.XXXXXX)
	seeds=""
	[ -d "tests/fuzz/corpus/$name" ] && seeds="tests/fuzz/corpus/$name"
	if "$f" -max_total_time="$secs" -rss_limit_mb=2048 -print_final_stats=0 \
		-artifact_prefix="$work/" "$work" $seeds >"$work/log" 2>&1; then
		runs=$(grep -Eo 'Done [0-9]+ runs' "$work/log" | tail -1)
		echo "  fuzz_$name: ok (${runs:-ran} in ${secs}s)"
		pass=$((pass + 1))
		rm -rf "$work"
	else
		echo "  fuzz_$name: FAILED, log and crash input in $work"
		tail -30 "$work/log" | sed 's/^/    /'
		fail=$((fail + 1))
	fi
done
echo "fuzz: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
