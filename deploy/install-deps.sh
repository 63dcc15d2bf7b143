#!/bin/sh
# install-deps.sh -- installs the Debian 12 packages that Liandong needs to
# build and test, and only those that are missing.
#
# Idempotent: when everything is present it changes nothing and needs no
# network. Runs as root, or as a user with sudo. Checked against a minimal
# `debootstrap --variant=minbase bookworm` tree, which holds only packages of
# Priority required (no compiler, no cmake, no procps, no ca-certificates).
#
# --no-install-recommends keeps the machine lean, so every package the build
# relies on is named here, even when it usually arrives as a recommendation:
# gcc only *recommends* libc6-dev (the C headers and crt files), so it is
# listed explicitly.
set -eu

# Build: a C compiler that can link, CMake, pkg-config, the protobuf compiler.
BUILD="gcc libc6-dev make cmake pkgconf protobuf-c-compiler"
# Libraries, as -dev packages (pkg-config files and headers).
LIBS="libzmq3-dev libczmq-dev libsodium-dev libprotobuf-c-dev libsqlite3-dev
      libjansson-dev libsmartcols-dev libcmocka-dev"
# Tests: clang with its sanitizer and libFuzzer runtimes for the sanitizer
# and fuzz build, clang-format for the `format` test, procps (ps, pkill)
# for tests that start and stop processes.
TESTS="clang libclang-rt-14-dev clang-format procps"

s_die () {
    echo "install-deps: $*" >&2
    exit 1
}

command -v dpkg-query >/dev/null 2>&1 || s_die "dpkg-query not found: this script is for Debian 12"

missing=""
for pkg in $BUILD $LIBS $TESTS; do
    status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null || true)
    case "$status" in
        ii*) ;;
        *) missing="$missing $pkg" ;;
    esac
done

if [ -z "$missing" ]; then
    echo "install-deps: all packages present"
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    as_root=""
elif command -v sudo >/dev/null 2>&1; then
    as_root="sudo"
else
    s_die "missing packages:$missing; run this script as root or install sudo"
fi

echo "install-deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
$as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
# shellcheck disable=SC2086 # $missing is a word list on purpose
$as_root env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends $missing </dev/null
echo "install-deps: done"
