#!/bin/sh
# SPDX-License-Identifier: MIT
# Add fuzz seeds taken from real Go fixtures (tests/fixtures/build.sh) to
# tests/fuzz/corpus: for each FIXTURE given (an unstripped one; its name
# names the seeds),
#   buildinfo/<name>.bin        its whole .go.buildinfo section
#   lineage/newproc1_<name>     what fuzz_lineage reads: casgstatus's entry
#                               relative to runtime.newproc1's (int32, little
#                               endian), then newproc1's code
#   pclntab/<name>-head.bin,    the first 4 KiB of its .gopclntab: a real
#   inline/<name>-head.bin      header and function table start, for the
#                               fuzzer to mutate from (the offsets point
#                               past the cut, so the whole is rejected)
# Seeds stay small (a few KiB); the run itself (tests/run_fuzz.sh) adds
# nothing from the fixtures. Written for the Go 1.24-1.27 seeds; run by
# hand when a new toolchain changes these sections:
#   tests/fuzz/seeds.sh build/fixtures/testserver-go1.27
set -eu
corpus=$(cd "$(dirname "$0")" && pwd)/corpus
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
for bin in "$@"; do
	name=$(basename "$bin")
	objcopy -O binary --only-section=.go.buildinfo "$bin" "$corpus/buildinfo/$name.bin"
	objcopy -O binary --only-section=.gopclntab "$bin" "$tmp/pcln"
	head -c 4096 "$tmp/pcln" > "$corpus/pclntab/$name-head.bin"
	cp "$corpus/pclntab/$name-head.bin" "$corpus/inline/$name-head.bin"
	np=$(nm -S "$bin" | awk '$4 == "runtime.newproc1" { print $1, $2 }')
	cas=$(nm "$bin" | awk '$3 == "runtime.casgstatus" { print $1 }')
	[ -n "$np" ] && [ -n "$cas" ] || { echo "seeds: '$bin' has no runtime.newproc1/casgstatus symbol (stripped?)" >&2; exit 1; }
	set -- $np
	python3 - "$bin" "$1" "$2" "$cas" "$corpus/lineage/newproc1_$name" <<'PY'
import struct, subprocess, sys
path, entry, size, cas, out = sys.argv[1], int(sys.argv[2], 16), int(sys.argv[3], 16), int(sys.argv[4], 16), sys.argv[5]
# the file offset of entry through its PT_LOAD segment
ph = subprocess.run(["readelf", "-lW", path], capture_output=True, text=True).stdout
for line in ph.splitlines():
    f = line.split()
    if f and f[0] == "LOAD":
        off, va, filesz = int(f[1], 16), int(f[2], 16), int(f[4], 16)
        if va <= entry < va + filesz:
            with open(path, "rb") as b:
                b.seek(off + entry - va)
                code = b.read(size)
            open(out, "wb").write(struct.pack("<i", cas - entry) + code)
            break
else:
    sys.exit(f"seeds: runtime.newproc1 0x{entry:x} is in no PT_LOAD segment of '{path}'")
PY
	echo "seeds: $name"
done
