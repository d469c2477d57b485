#!/bin/sh
# acrawl site against nginx serving the same bodies from files, under wrk:
# one detail URL and one list URL each (the replica must be at least as fast
# as nginx, so that it is never what limits a client benchmark).
#
#   bench/site_vs_nginx.sh [BUILD_DIR] [SECONDS]
#
# nginx runs one worker (acrawl site is one loop thread), without access log,
# with sendfile and an open-file cache. Needs wrk and nginx (make bench-deps).
set -eu
build=${1:-build}
secs=${2:-5}
dir=$(mktemp -d /tmp/ac_site_nginx.XXXXXX)
SERVER_DIR=$dir
. "$(dirname "$0")/../tests/lib/server.sh"
server_on_exit 'rm -rf "$dir"'
for tool in wrk nginx curl; do server_need $tool "make bench-deps"; done
# nginx's worker may run as nobody: it must be able to read the bodies.
chmod 755 "$dir"

server_start site file:"$dir/port" "$build/acrawl" site --port 0 --portfile "$dir/port"
site="http://127.0.0.1:$SERVER_PORT"
id=$(curl -s "$site/api/book/?limit=1&offset=100" | sed 's/^.*"id":"\([0-9]*\)".*$/\1/')
mkdir -p "$dir/html/api/book/list"
curl -s -o "$dir/html/api/book/$id" "$site/api/book/$id"
curl -s -o "$dir/html/api/book/list/page" "$site/api/book/?limit=18&offset=180"

nginx_start "$dir" "$dir/html"
ngx=$NGINX_URL

run() {
  printf '%-14s %s  ' "$1" "$(curl -s -o /dev/null -w '%{size_download}B' "$2")"
  wrk -t1 -c64 -d"${secs}s" "$2" |
    awk '/Latency/ {lat = $2} /Non-2xx/ {bad = $NF} /Requests\/sec/ {rps = $2}
         END {printf "%10s req/s  latency avg %s%s\n", rps, lat, bad ? "  NON-2XX: " bad : ""}'
}
run "site detail" "$site/api/book/$id"
run "nginx detail" "$ngx/api/book/$id"
run "site list" "$site/api/book/?limit=18&offset=180"
run "nginx list" "$ngx/api/book/list/page"
