#!/bin/sh
# quickstart.sh -- the first command of the README: installs the missing
# Debian packages, builds Liandong in ./build and runs the main job,
# `liandong demo`. Exits with the demo's status.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

sh deploy/install-deps.sh

echo "quickstart: building in $root/build"
# Configure once: later builds re-run CMake by themselves when a
# CMakeLists.txt changes (tests/run-all.sh says why not every time).
if [ ! -f build/CMakeCache.txt ] || { [ ! -f build/Makefile ] && [ ! -f build/build.ninja ]; }; then
    cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
fi
cmake --build build -j "$(nproc)"

echo "quickstart: running ./build/liandong demo"
status=0
./build/liandong demo || status=$?
if [ "$status" -ne 0 ]; then
    echo "quickstart: the demo failed (exit status $status)" >&2
fi
exit "$status"
