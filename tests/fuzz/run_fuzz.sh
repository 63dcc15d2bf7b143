#!/bin/sh
# run_fuzz.sh -- one bounded libFuzzer run, as the `fuzz` ctest label runs it.
#
# usage: run_fuzz.sh FUZZER SECONDS WORKDIR [SEEDS...]
#
# Each SEEDS is a directory, whose *.bin files are copied into the corpus,
# or a program, run with the corpus directory as its argument to write seeds
# there. The corpus lives in WORKDIR (in the build tree) and is made afresh
# on each run, so the source tree is never written; crash inputs land in
# WORKDIR/artifacts.
set -eu
if [ $# -lt 3 ]; then
    echo "usage: run_fuzz.sh FUZZER SECONDS WORKDIR [SEEDS...]" >&2
    exit 2
fi
fuzzer=$1 seconds=$2 work=$3
shift 3

rm -rf "$work"
mkdir -p "$work/corpus" "$work/artifacts"
# Seeds of each source get its index as a prefix: sources may share names.
i=0
for seeds in "$@"; do
    i=$((i + 1))
    if [ ! -d "$seeds" ]; then
        mkdir "$work/made-$i"
        "$seeds" "$work/made-$i"
        seeds="$work/made-$i"
    fi
    for f in "$seeds"/*.bin; do
        if [ -f "$f" ]; then
            cp "$f" "$work/corpus/$i-$(basename "$f")"
        fi
    done
done
rm -rf "$work"/made-*
echo "run_fuzz: $(ls "$work/corpus" | wc -l) seeds, ${seconds}s"

# -timeout: one input may take at most 10 s; -rss_limit_mb: bound memory.
exec "$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
    -print_final_stats=1 -artifact_prefix="$work/artifacts/" "$work/corpus"
