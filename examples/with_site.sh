#!/bin/sh
# Starts the book-site replica (acrawl site) on a free loopback port, runs an
# example against it through check.sh, and stops the site, even on failure.
# usage: with_site.sh ACRAWL_BIN EXAMPLE EXPECTED [SITE OPTIONS...]
set -u
acrawl=$1 example=$2 expected=$3
shift 3
dir=$(mktemp -d)
"$acrawl" site --port 0 --portfile "$dir/port" --books 200 "$@" > "$dir/site.log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$dir"' EXIT INT TERM
i=0
while [ ! -s "$dir/port" ]; do
  i=$((i + 1))
  if [ $i -gt 100 ] || ! kill -0 "$pid" 2>/dev/null; then
    echo "acrawl site did not start:"; cat "$dir/site.log"; exit 1
  fi
  sleep 0.1
done
"$(dirname "$0")/check.sh" "$example" "$expected" "http://127.0.0.1:$(cat "$dir/port")"
