#!/bin/sh
# Installs acrawl into a temporary prefix, then builds an example against the
# installed headers with pkg-config, linked both shared and static, and runs
# both: proves that `make install` and acrawl.pc are enough for a user.
# usage: check.sh BUILD_DIR SOURCE_DIR
set -eu
build=$1
src=$2
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT

cmake --install "$build" --prefix "$prefix" >/dev/null
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig:$prefix/lib/$(gcc -print-multiarch)/pkgconfig"
pkg-config --exists acrawl || { echo "acrawl.pc not found under $prefix"; exit 1; }
[ -x "$prefix/bin/acrawl" ] || { echo "acrawl tool not installed"; exit 1; }
"$prefix/bin/acrawl" --version

# shellcheck disable=SC2046
cc -std=c11 -Wall -Werror -o "$prefix/shared" "$src/examples/006_run.c" \
  $(pkg-config --cflags --libs acrawl) -Wl,-rpath,"$(pkg-config --variable=libdir acrawl)"
# shellcheck disable=SC2046
cc -std=c11 -Wall -Werror -o "$prefix/static" "$src/examples/006_run.c" \
  $(pkg-config --cflags acrawl) "$(pkg-config --variable=libdir acrawl)/libacrawl.a" \
  $(pkg-config --libs --static libuv) -lhttp_parser -lpthread
for exe in shared static; do
  out=$("$prefix/$exe")
  [ "$out" = "$(cat "$src/examples/expected/006_run.txt")" ] || {
    echo "$exe build printed:"; echo "$out"; exit 1; }
  echo "$exe: ok"
done
ldd "$prefix/shared" | grep -q "$prefix" || { echo "shared build did not link the installed libacrawl"; exit 1; }
