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

# The library ships the runtime, HTTP, stores and the crawl engine: nothing of
# any one site. The replica and the book site's spec belong to the tool;
# the spec spider (ac_spec_spider_*) runs any site's spec and is the library's.
libdir=$(pkg-config --variable=libdir acrawl)
if nm -D --defined-only "$libdir/libacrawl.so" | grep -v ' ac_spec_spider_' |
  grep -iE 'book|site|spider|replica'; then
  echo "libacrawl.so exports site-specific symbols (above)"; exit 1
fi
if grep -rniE '(AC_EXTERN|typedef|struct).*(book|replica)' "$prefix/include/acrawl" \
  "$prefix/include/acrawl.h"; then
  echo "the installed headers declare something of the book site (above)"; exit 1
fi

# The MongoDB module (when built) is installed, and the installed acrawl finds
# it although the prefix is not the configured one: its error is the
# unreachable server's, not a missing module's.
if [ -f "$build/acrawl-mongo.so" ]; then
  libdir=$(pkg-config --variable=libdir acrawl)
  [ -f "$libdir/acrawl/acrawl-mongo.so" ] || { echo "acrawl-mongo.so not installed in $libdir/acrawl"; exit 1; }
  out=$(env -u ACRAWL_MODULE_DIR "$prefix/bin/acrawl" books --base http://127.0.0.1:1 \
    --store mongodb://127.0.0.1:1/acrawl.books --quiet 2>&1) && { echo "a MongoDB store on port 1 opened"; exit 1; }
  echo "$out" | grep -q "unreachable" || { echo "installed acrawl, MongoDB store: $out"; exit 1; }
  echo "module: ok"
fi
