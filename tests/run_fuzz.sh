#!/bin/sh
# Run every libFuzzer target in OUTPUT/fuzz for SECONDS each, starting from
# its seed corpus (tests/fuzz/corpus/<name>/) plus, for the binary parsers,
# the Go fixture binaries' own sections. A crash, leak or sanitizer report
# fails the target. Targets are single-threaded, so FUZZ_JOBS of them
# (default: the number of CPUs) run side by side, each for its full time.
set -u
# one target: "ok" or "FAILED <workdir>" in RES/NAME.res; a failure keeps its
# work directory (log and crash input), a success removes it
fuzz_one() {
	f=$1 secs=$2 res=$3
	name=$(basename "$f" | sed 's/^fuzz_//')
	work=$(mktemp -d /tmp/cpprof-fuzz.XXXXXX)
	seeds=""
	[ -d "tests/fuzz/corpus/$name" ] && seeds="tests/fuzz/corpus/$name"
	if "$f" -max_total_time="$secs" -rss_limit_mb=2048 -print_final_stats=0 \
		-artifact_prefix="$work/" "$work" $seeds >"$work/log" 2>&1; then
		runs=$(grep -Eo 'Done [0-9]+ runs' "$work/log" | tail -1)
		echo "  fuzz_$name: ok (${runs:-ran} in ${secs}s)" >"$res/$name.res"
		rm -rf "$work"
	else
		{
			echo "  fuzz_$name: FAILED, log and crash input in $work"
			tail -30 "$work/log" | sed 's/^/    /'
		} >"$res/$name.res"
	fi
}

if [ "${1:-}" = "--one" ]; then	# xargs calls back into this script
	shift
	fuzz_one "$@"
	exit 0
fi

out=${1:-build}
secs=${2:-20}
jobs=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 1)}
res=$(mktemp -d /tmp/cpprof-fuzzrun.XXXXXX)
trap 'rm -rf "$res"' EXIT

for f in "$out"/fuzz/fuzz_*; do
	[ -x "$f" ] || continue
	case "$f" in *.d|*.o) continue ;; esac
	printf '%s\n' "$f"
done | xargs -P "$jobs" -I{} sh "$0" --one {} "$secs" "$res"

pass=0 fail=0
for f in "$out"/fuzz/fuzz_*; do
	[ -x "$f" ] || continue
	case "$f" in *.d|*.o) continue ;; esac
	name=$(basename "$f" | sed 's/^fuzz_//')
	if [ -f "$res/$name.res" ] && head -1 "$res/$name.res" | grep -q ': ok '; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
	fi
	cat "$res/$name.res" 2>/dev/null || echo "  fuzz_$name: FAILED, it never reported"
done
echo "fuzz: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
