#!/bin/sh
# Fetch every URL of the 9,040-book replica (503 list pages + 9,040 details,
# 9,543 URLs) with 64 in flight: acrawl fetch (native HTTP/1.1 path, then with
# ACRAWL_HTTP_NATIVE=0, all through libcurl) against wrk (cycling over the
# same paths), curl --parallel --parallel-max 64 and an aiohttp client
# (bench/aiohttp_fetch.py). Requests/s and CPU microseconds per request
# (user + sys of the client process, getrusage via bench/cpu_of.py), against
# `acrawl site` and against nginx serving the same bodies from files. Every
# client asks for identity encoding (wrk and curl do; acrawl and aiohttp are
# told to), so all move the same bytes. Prints each run, the medians, ratios
# to wrk, and the commands.
#
#   bench/replica_fetch.sh [BUILD_DIR] [ROUNDS=3] [TARGETS="site nginx"]
set -eu
build=${1:-build}
rounds=${2:-3}
targets=${3:-site nginx}
here=$(cd "$(dirname "$0")" && pwd)
py=/usr/bin/python3   # Debian's python3, with python3-aiohttp
dir=$(mktemp -d /tmp/ac_replica_fetch.XXXXXX)
SERVER_DIR=$dir
. "$here/../tests/lib/server.sh"
server_on_exit 'rm -rf "$dir"'
for tool in wrk nginx curl $py; do server_need $tool "make bench-deps"; done
$py -c 'import aiohttp' 2>/dev/null || server_skip "python3-aiohttp not installed (make bench-deps)"
chmod 755 "$dir"

server_start site file:"$dir/port" "$build/acrawl" site --port 0 --portfile "$dir/port"
site="http://127.0.0.1:$SERVER_PORT"

# The paths: list pages as the tutorial walks them, then every detail.
"$build/acrawl" site --dump - | sed -n 's/^{"id":"\([0-9]*\)".*/\1/p' > "$dir/ids"
nbooks=$(wc -l < "$dir/ids")
off=0
: > "$dir/site.paths"
while [ $off -lt "$nbooks" ]; do
  echo "/api/book/?limit=18&offset=$off" >> "$dir/site.paths"
  off=$((off + 18))
done
sed 's|^|/api/book/|' "$dir/ids" >> "$dir/site.paths"
n=$(wc -l < "$dir/site.paths")
sed "s|^|$site|" "$dir/site.paths" > "$dir/site.urls"

if echo "$targets" | grep -q nginx; then
  # nginx serves the same bodies from files: details at the same paths, list
  # pages at /api/book/list/OFFSET (nginx ignores query strings).
  mkdir -p "$dir/html/api/book/list"
  sed 's|.*offset=\(.*\)|/api/book/list/\1|; t; s|^|&|' "$dir/site.paths" > "$dir/nginx.paths"
  paste -d' ' "$dir/site.paths" "$dir/nginx.paths" |
    awk -v s="$site" -v d="$dir/html" '{printf "url = \"%s%s\"\noutput = \"%s%s\"\n", s, $1, d, $2}' > "$dir/get.cfg"
  curl -s --parallel --parallel-max 64 -K "$dir/get.cfg"
  nginx_start "$dir" "$dir/html"
  sed "s|^|$NGINX_URL|" "$dir/nginx.paths" > "$dir/nginx.urls"
fi

for t in $targets; do
  awk '{printf "url = \"%s\"\noutput = \"/dev/null\"\n", $0}' "$dir/$t.urls" > "$dir/$t.curl"
done
cpu_of="$py $here/cpu_of.py"
echo "# $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $n URLs, 64 in flight"
: > "$dir/results"
for r in $(seq "$rounds"); do
  for t in $targets; do
    urls="$dir/$t.urls"
    base=$(head -n1 "$urls" | sed 's|^\(http://[^/]*\).*|\1|')
    $cpu_of -n "$n" -s -l "$t acrawl_fetch" -- "$build/acrawl" fetch -c 64 -i "$urls" \
      -H 'Accept-Encoding: identity' | tee -a "$dir/results"
    # The same binary with its native HTTP/1.1 path off: everything on libcurl.
    ACRAWL_HTTP_NATIVE=0 $cpu_of -n "$n" -s -l "$t acrawl_fetch_libcurl" -- "$build/acrawl" \
      fetch -c 64 -i "$urls" -H 'Accept-Encoding: identity' | tee -a "$dir/results"
    $cpu_of -n "$n" -s -l "$t curl_parallel" -- curl -s --parallel --parallel-max 64 \
      -K "$dir/$t.curl" 2>/dev/null | tee -a "$dir/results" || true
    $cpu_of -n "$n" -s -l "$t aiohttp" -- $py "$here/aiohttp_fetch.py" "$urls" 64 --identity |
      tee -a "$dir/results"
    # wrk counts its own requests: CPU per request from its total.
    $py - "$t" "$base" "$here/wrk_cycle.lua" "$dir/$t.paths" <<'PY' | tee -a "$dir/results"
import re, resource, subprocess, sys
t, base, lua, paths = sys.argv[1:]
out = subprocess.run(["wrk", "-t1", "-c64", "-d5s", "-s", lua, base, "--", paths],
                     capture_output=True, text=True).stdout
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
n = int(re.search(r"(\d+) requests in", out).group(1))
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
print("%s wrk wall=5 cpu=%.3f rss_mb=%.1f req_s=%.0f cpu_us_req=%.1f%s" %
      (t, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024, rps,
       (ru.ru_utime + ru.ru_stime) * 1e6 / n, " NON2XX=" + bad.group(1) if bad else ""))
PY
  done
done
echo
echo "## medians of $rounds rounds (load now $(cut -d' ' -f1-3 /proc/loadavg))"
echo "| target | client | req/s | CPU µs/request | x wrk's CPU | peak RSS MB |"
echo "|---|---|---|---|---|---|"
$py - "$dir/results" <<'PY'
import collections, statistics, sys
rows = collections.OrderedDict()
for line in open(sys.argv[1]):
    p = line.split()
    kv = dict(x.split("=", 1) for x in p[2:] if "=" in x)
    rows.setdefault((p[0], p[1]), []).append(kv)
med = lambda l, k: statistics.median(float(x[k]) for x in l)
for (t, c), l in rows.items():
    wrk = rows.get((t, "wrk"))
    ratio = med(l, "cpu_us_req") / med(wrk, "cpu_us_req") if wrk else float("nan")
    print("| %s | %s | %.0f | %.1f | %.2f | %.1f |" % (t, c, med(l, "req_s"), med(l, "cpu_us_req"),
                                                      ratio, med(l, "rss_mb")))
PY
echo
echo "commands (per target T, URL file T.urls / paths file T.paths, $n lines):"
echo "  $build/acrawl fetch -c 64 -i T.urls -H 'Accept-Encoding: identity' > /dev/null"
echo "  ACRAWL_HTTP_NATIVE=0 $build/acrawl fetch ...   (the same, all through libcurl)"
echo "  curl -s --parallel --parallel-max 64 -K T.curl   (url = ... / output = \"/dev/null\" per URL)"
echo "  python3 bench/aiohttp_fetch.py T.urls 64 --identity"
echo "  wrk -t1 -c64 -d5s -s bench/wrk_cycle.lua http://HOST:PORT -- T.paths"
echo "  each measured by bench/cpu_of.py (user+sys from getrusage of the child)"
