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
for tool in wrk nginx curl; do
  command -v $tool >/dev/null 2>&1 || { echo "site_vs_nginx: $tool not found (make bench-deps)" >&2; exit 77; }
done
dir=$(mktemp -d /tmp/ac_site_nginx.XXXXXX)
# nginx's worker may run as nobody: it must be able to read the bodies.
chmod 755 "$dir"
site_pid=
nginx_pid=
cleanup() {
  [ -n "$site_pid" ] && kill -TERM "$site_pid" 2>/dev/null && wait "$site_pid" 2>/dev/null
  [ -n "$nginx_pid" ] && kill -TERM "$nginx_pid" 2>/dev/null && wait "$nginx_pid" 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT INT TERM

"$build/acrawl" site --port 0 --portfile "$dir/port" 2>"$dir/site.log" &
site_pid=$!
for _ in $(seq 100); do [ -s "$dir/port" ] && break; sleep 0.05; done
site="http://127.0.0.1:$(cat "$dir/port")"
id=$(curl -s "$site/api/book/?limit=1&offset=100" | sed 's/^.*"id":"\([0-9]*\)".*$/\1/')
mkdir -p "$dir/html/api/book/list" "$dir/logs"
curl -s -o "$dir/html/api/book/$id" "$site/api/book/$id"
curl -s -o "$dir/html/api/book/list/page" "$site/api/book/?limit=18&offset=180"

# A free port for nginx, from the kernel.
nport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$dir/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $dir/nginx.pid;
error_log $dir/logs/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  default_type application/json;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  open_file_cache max=100;
  server { listen 127.0.0.1:$nport; root $dir/html; }
}
CONF
nginx -c "$dir/nginx.conf" -p "$dir" &
nginx_pid=$!
sleep 0.5
ngx="http://127.0.0.1:$nport"

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
