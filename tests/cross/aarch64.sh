#!/bin/sh
# Cross-builds the coroutine layer and its tests (tests/unit/runtime/test_coro.c)
# for aarch64 and runs each test under qemu-user: there is no arm64 machine to
# try coro_switch_aarch64.S on. Only coro.h's files are built, statically, so
# no aarch64 libuv or CMake-generated header is needed.
#
# usage: aarch64.sh SOURCE_DIR WORK_DIR
# Exits 0 when every test passed or skipped, 1 when one failed, 77 (skip) when
# the cross compiler or qemu-aarch64 is missing (Debian: gcc-aarch64-linux-gnu,
# qemu-user).
set -eu

if [ $# -ne 2 ]; then
  echo "usage: $0 SOURCE_DIR WORK_DIR" >&2
  exit 2
fi
src=$(cd "$1" && pwd)
work=$2
cc="aarch64-linux-gnu-gcc"
qemu="qemu-aarch64"

for tool in "$cc" "$qemu"; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "skip: $tool not found (install gcc-aarch64-linux-gnu and qemu-user)"
    exit 77
  fi
done
# runner.c and stack.c include <valgrind/valgrind.h>; its client requests
# support arm64, but the host header directory cannot go on the cross include
# path whole, so the one header is copied.
valgrind_h=/usr/include/valgrind/valgrind.h
if [ ! -f "$valgrind_h" ]; then
  echo "skip: $valgrind_h not found (install valgrind)"
  exit 77
fi

mkdir -p "$work/include/valgrind"
cp "$valgrind_h" "$work/include/valgrind/"

bin="$work/ac_tests"
"$cc" -std=gnu11 -static -O2 -g -DAC_TESTS_NO_LIBACRAWL \
  -Wall -Wextra -Wstrict-prototypes -Wshadow -Werror \
  -I"$src/include" -I"$work/include" -I"$src/src" -I"$src/tests/runner" \
  -o "$bin" \
  "$src/tests/runner/runner.c" \
  "$src/tests/unit/runtime/test_coro.c" \
  "$src/src/runtime/coro.c" \
  "$src/src/runtime/stack.c" \
  "$src/src/runtime/coro_switch_aarch64.S" \
  "$src/src/common/alloc.c"

tests=$("$qemu" "$bin" --list | sed 's/ (slow)$//')
if [ -z "$tests" ]; then
  echo "FAIL: ac_tests --list printed no test"
  exit 1
fi
passed=0 failed=0 skipped=0
for t in $tests; do
  if out=$("$qemu" "$bin" "$t" 2>&1); then rc=0; else rc=$?; fi
  case $rc in
    0) passed=$((passed + 1)); echo "ok $t" ;;
    77) skipped=$((skipped + 1)); echo "skip $t" ;;
    *) failed=$((failed + 1)); echo "FAIL $t (exit $rc)"; printf '%s\n' "$out" | sed 's/^/  /' ;;
  esac
done
echo "aarch64: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
