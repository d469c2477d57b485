#!/bin/sh
# HTTP benchmarks on loopback, in one run: acrawl's server against nginx
# serving the same 700-byte body (wrk as the client), and acrawl's client
# (bench_fetch) against wrk fetching the same nginx URL. Prints each figure
# with the command that made it.
# usage: bench/http.sh [BUILD_DIR]    (default: build)
set -eu
build=${1:-build}
dur=${DUR:-5}
work=$(mktemp -d)
SERVER_DIR=$work
. "$(dirname "$0")/../tests/lib/server.sh"
server_on_exit 'rm -rf "$work"'

# The same 700 bytes that bench_server answers.
head -c 700 /dev/zero | tr '\0' 'x' > "$work/book"
nport=$(server_free_port)
cat > "$work/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $work/nginx.pid;
error_log $work/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  open_file_cache max=16;
  default_type application/json;
  client_body_temp_path $work; proxy_temp_path $work; fastcgi_temp_path $work;
  uwsgi_temp_path $work; scgi_temp_path $work;
  server { listen 127.0.0.1:$nport; root $work; }
}
CONF
server_start nginx port:"$nport" nginx -c "$work/nginx.conf" -p "$work"
# bench_server prints its port on stdout once it listens.
server_start bench_server stdout "$build/bench/bench_server"
aport=$SERVER_PORT

rps() { wrk -t1 -c64 -d"${dur}s" "$1" | awk '/Requests\/sec/ {print $2}'; }

echo "# $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)"
echo "## server: wrk -t1 -c64 -d${dur}s, 700-byte body, 3 rounds alternating"
for r in 1 2 3; do
  echo "acrawl_server_rps $(rps "http://127.0.0.1:$aport/book")"
  echo "nginx_rps         $(rps "http://127.0.0.1:$nport/book")"
done
# wrk's requests/s and CPU microseconds per request (user + sys of wrk).
wrk_cpu() {
  python3 - "$1" "$dur" <<'PY'
import re, resource, subprocess, sys
out = subprocess.run(["wrk", "-t1", "-c64", "-d%ss" % sys.argv[2], sys.argv[1]],
                     capture_output=True, text=True).stdout
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
reqs = int(re.search(r"(\d+) requests in", out).group(1))
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
print("wrk: %d requests, 64 in flight: %.0f req/s, %.1f CPU us/request" %
      (reqs, rps, (ru.ru_utime + ru.ru_stime) * 1e6 / reqs))
PY
}
echo "## client: 20,000 GETs of the nginx URL, 64 in flight, against wrk on the same URL"
for r in 1 2 3; do
  "$build/bench/bench_fetch" "http://127.0.0.1:$nport/book" 20000 64
  wrk_cpu "http://127.0.0.1:$nport/book"
done
echo "commands: bench/http.sh $build  (wrk -t1 -c64 -d${dur}s URL; $build/bench/bench_server; $build/bench/bench_fetch URL 20000 64; nginx 1 worker, access_log off)"
