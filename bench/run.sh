#!/bin/sh
# Runs the runtime benchmarks and their Python asyncio peers in one go and
# prints each figure side by side with the ratio, then the commands used.
# usage: bench/run.sh [BUILD_DIR]    (default: build)
set -eu
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
py=/usr/bin/python3   # Debian's python3, as the tutorial would use
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

echo "# machine: $(nproc) cores, $(uname -m), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "# date: $(date -u +%Y-%m-%d)"
"$build/bench/bench_switch" | tee "$out/switch.txt"
"$build/bench/bench_runtime" | tee "$out/runtime.txt"
"$py" "$here/asyncio_peer.py" | tee "$out/python.txt"
"$build/bench/bench_books" | tee "$out/books.txt"   # no Python peer: printed only

# Lines look like "name   value unit ...": join acrawl and asyncio by name.
# bench_switch prints "name: value unit", normalised here.
sed -n 's/^\(switch_ping_pong\): \([0-9.]*\) .*/\1 \2/p' "$out/switch.txt" > "$out/c.txt"
awk '/^[a-z0-9_]+ +[0-9.]+ /{print $1, $2}' "$out/runtime.txt" >> "$out/c.txt"
awk '/^[a-z0-9_]+ +[0-9.]+ /{print $1, $2}' "$out/python.txt" > "$out/p.txt"
echo
echo "| operation | acrawl | asyncio | asyncio / acrawl |"
echo "|---|---|---|---|"
awk 'NR == FNR {py[$1] = $2; next}
     ($1 in py) {printf "| %s | %s | %s | %.2f |\n", $1, $2, py[$1], py[$1] / $2}' \
  "$out/p.txt" "$out/c.txt"
echo
echo "commands: $build/bench/bench_switch; $build/bench/bench_runtime; $py $here/asyncio_peer.py; $build/bench/bench_books"
