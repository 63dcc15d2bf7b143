#!/bin/sh
# run-all.sh -- the second command of the README, and what CI runs
# (.ci/run): installs the missing Debian packages, then builds and tests
# Liandong twice:
#   1. ./build       gcc, -Werror: every test but the `slow` label;
#   2. ./build-asan  clang with ASan + UBSan (-DLD_SANITIZE=ON) and the
#                    libFuzzer targets (-DLD_FUZZ=ON): the same tests plus
#                    the bounded fuzz runs (label `fuzz`).
# Runs every phase it can, prints a summary with timings, and exits non-zero
# if anything failed. Works from any directory.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

jobs=$(nproc 2>/dev/null || echo 2)
summary=""
failed=0       #  1 once any phase has failed
passed_tests=0 #  summed over both builds, from ctest's closing line
failed_tests=0

# Runs one phase, "$@", and records its result and duration.
s_phase () {
    name=$1
    shift
    echo
    echo "==> $name"
    start=$(date +%s)
    if "$@"; then
        result=ok
    else
        result=FAILED
        failed=1
    fi
    seconds=$(($(date +%s) - start))
    echo "==> $name: $result (${seconds}s)"
    summary="$summary$(printf '  %-30s %-6s %5ss' "$name" "$result" "$seconds")
"
}

# Configures build directory $1 with compiler $2 (CMake id $3), unless it is
# configured already: the build step re-runs CMake when a CMakeLists.txt
# changes, and an explicit re-run would rebuild everything once (CMake 3.25
# orders pkg-config's include flags differently on a second run). A
# directory configured with another compiler starts over: CMake never
# changes the compiler of an existing cache by itself.
s_configure () {
    dir=$1 cc=$2 id=$3
    shift 3
    if [ -f "$dir/CMakeCache.txt" ] &&
        ! grep -qs "CMAKE_C_COMPILER_ID \"$id\"" "$dir"/CMakeFiles/*/CMakeCCompiler.cmake; then
        echo "run-all: $dir was configured with another compiler; starting it over"
        rm -rf "$dir/CMakeCache.txt" "$dir/CMakeFiles"
    fi
    if [ -f "$dir/CMakeCache.txt" ] && { [ -f "$dir/Makefile" ] || [ -f "$dir/build.ninja" ]; }; then
        echo "run-all: $dir is configured"
    else
        CC=$cc cmake -S . -B "$dir" "$@"
    fi
}

s_build () {
    cmake --build "$1" -j "$jobs"
}

# Every test but the slow soaks, in build directory $1; a test prints its
# output only when it fails. Adds ctest's counts to the totals.
s_test () {
    log="$1/run-all-ctest.log"
    rm -f "$log.rc"
    { ctest --test-dir "$1" -LE slow --output-on-failure -j2 || echo $? >"$log.rc"; } 2>&1 |
        tee "$log"
    # ctest closes with "N% tests passed, F tests failed out of T".
    counts=$(sed -nE 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\1 \2/p' "$log" | tail -n 1)
    if [ -n "$counts" ]; then
        set -- $counts # two numbers: split on purpose
        passed_tests=$((passed_tests + $2 - $1))
        failed_tests=$((failed_tests + $1))
    fi
    if [ -f "$log.rc" ]; then
        rm -f "$log.rc"
        return 1
    fi
    [ -n "$counts" ] # no closing line: ctest found no tests or died
}

s_phase "install dependencies" sh deploy/install-deps.sh
if [ "$failed" -ne 0 ]; then
    echo "run-all: cannot go on without the packages" >&2
    exit 1
fi

s_phase "gcc: configure" s_configure build gcc GNU -DCMAKE_BUILD_TYPE=RelWithDebInfo
[ "$failed" -eq 0 ] && s_phase "gcc: build" s_build build
[ "$failed" -eq 0 ] && s_phase "gcc: tests" s_test build

# Second build, whatever became of the first: its findings are different.
# Sanitizers stop at the first error (-fno-sanitize-recover=all) with a stack;
# asserts stay on (Debug).
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}"
gcc_failed=$failed
failed=0
s_phase "clang+asan: configure" s_configure build-asan clang Clang -DCMAKE_BUILD_TYPE=Debug \
    -DLD_SANITIZE=ON -DLD_FUZZ=ON
[ "$failed" -eq 0 ] && s_phase "clang+asan: build" s_build build-asan
[ "$failed" -eq 0 ] && s_phase "clang+asan: tests (+fuzz)" s_test build-asan
[ "$gcc_failed" -ne 0 ] && failed=1

echo
echo "run-all: summary"
printf '%s' "$summary"
if [ "$failed" -ne 0 ]; then
    echo "run-all: FAILED (see the phases marked FAILED above)"
else
    echo "run-all: all phases passed"
fi
echo "run-all: $passed_tests passed, $failed_tests failed"
exit "$failed"
