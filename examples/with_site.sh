#!/bin/sh
# Starts the book-site replica (acrawl site) on a free loopback port, runs an
# example against it through check.sh, and stops the site, even on failure.
# usage: with_site.sh ACRAWL_BIN EXAMPLE EXPECTED [SITE OPTIONS...]
set -u
acrawl=$1 example=$2 expected=$3
shift 3
here=$(dirname "$0")
. "$here/../tests/lib/server.sh"
server_start site file:"$SERVER_DIR/port" "$acrawl" site --port 0 --portfile "$SERVER_DIR/port" --books 200 "$@"
"$here/check.sh" "$example" "$expected" "http://127.0.0.1:$SERVER_PORT"
