#!/bin/sh
# Builds ld_bench (Release) in build-bench and runs it with the defaults: a
# store pre-filled with 1,000,000 events, a few minutes on 2 cores. Extra
# arguments go to ld_bench (e.g. `bench/run.sh --rows 100000` for a quick
# run; `--help` lists them). Progress goes to the terminal; the table is also
# saved under build-bench/, and the last line says where.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build-bench"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >&2
cmake --build "$build" -j"$(nproc)" --target ld_bench >&2
out="$build/bench-$(date -u +%Y%m%dT%H%M%SZ).txt"
"$build/bench/ld_bench" "$@" >"$out"
cat "$out"
echo
echo "figures saved in $out"
