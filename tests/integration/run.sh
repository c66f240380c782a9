#!/bin/sh
# Root integration tests: real BPF, real Go servers, real SQLite files.
set -u
out=${1:-build}
: "${FIXTURES_DIR:=$(cd "$out" && pwd)/fixtures}"
export FIXTURES_DIR
exec python3 "$(dirname "$0")/test_http.py" "$out" ${IT_FILTER:-}
