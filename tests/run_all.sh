#!/bin/sh
# The test command of README and CI: build warning-free, run the unit tests
# (plain and under ASan+UBSan), a short libFuzzer run of every fuzz target,
# and the root integration tests with real BPF, real Go servers and real
# SQLite files. Ends with one "N passed, N failed" line; exits non-zero if
# anything failed or a stage could not run.
set -u
out=${1:-build}
cd "$(dirname "$0")/.." || exit 1
log=$(mktemp -d /tmp/cpprof-test.XXXXXX)
pass=0 fail=0 broken=""

stage() {
	name=$1; shift
	echo "== $name"
	t0=$(date +%s)
	"$@" 2>&1 | tee "$log/$name.log"
	rc=$?
	echo "== $name took $(( $(date +%s) - t0 )) s"
	# POSIX sh has no PIPESTATUS: the stage's own status comes from its summary
	sum=$(grep -E '^[a-z-]+: [0-9]+ passed, [0-9]+ failed' "$log/$name.log" | tail -1)
	if [ -z "$sum" ]; then
		broken="$broken $name"
		fail=$((fail + 1))
		return
	fi
	p=$(echo "$sum" | sed -E 's/.*: ([0-9]+) passed.*/\1/')
	f=$(echo "$sum" | sed -E 's/.* ([0-9]+) failed.*/\1/')
	pass=$((pass + p)); fail=$((fail + f))
	: "$rc"
}

echo "== build (warnings are errors)"
if ! make -s OUTPUT="$out" CFLAGS="-g -O2 -Werror" all; then
	echo "build: 0 passed, 1 failed"
	exit 1
fi
stage unit make -s --no-print-directory OUTPUT="$out" CFLAGS="-g -O2 -Werror" unit
stage unit-asan make -s --no-print-directory OUTPUT="$out" unit-asan
stage fuzz make -s --no-print-directory OUTPUT="$out" fuzz-smoke
stage integration make -s --no-print-directory OUTPUT="$out" integration
[ -z "$broken" ] || echo "stages that did not report a summary (counted as failures):$broken"
echo "logs: $log"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
