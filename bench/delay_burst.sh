#!/bin/sh
# N concurrent requests to /delay/1 of `acrawl site`, all started at once:
# acrawl fetch -c N against the aiohttp client (bench/aiohttp_fetch.py with N
# workers). Prints total wall time, client CPU and client peak RSS of each
# run, then the medians. The issue's goals: 10,000 in at most 1.3 s and
# 150 MB; 500 in at most 1.05 s.
#
#   bench/delay_burst.sh [BUILD_DIR] [ROUNDS=3] [SIZES="10000 500"]
#
# Needs open files for N sockets in the client and the site: the script
# raises its soft limit to the hard limit, acrawl site raises its own to
# --max-connections + 64 (16,384 by default), and `acrawl fetch -c N` sizes
# its own. The site listens with a backlog of 4,096 (the kernel caps it at
# net.core.somaxconn, printed below).
set -eu
build=${1:-build}
rounds=${2:-3}
sizes=${3:-10000 500}
here=$(cd "$(dirname "$0")" && pwd)
py=/usr/bin/python3
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
dir=$(mktemp -d /tmp/ac_delay_burst.XXXXXX)
SERVER_DIR=$dir
. "$here/../tests/lib/server.sh"
server_on_exit 'rm -rf "$dir"'
$py -c 'import aiohttp' 2>/dev/null || server_skip "python3-aiohttp not installed (make bench-deps)"
server_start site file:"$dir/port" "$build/acrawl" site --port 0 --portfile "$dir/port" --books 100
url="http://127.0.0.1:$SERVER_PORT/delay/1"
echo "# $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)," \
  "open files $(ulimit -n), somaxconn $(cat /proc/sys/net/core/somaxconn)"
: > "$dir/results"
for r in $(seq "$rounds"); do
  for n in $sizes; do
    seq "$n" | sed "s|.*|$url|" > "$dir/urls$n"
    $py "$here/cpu_of.py" -n "$n" -s -l "$n acrawl_fetch" -- "$build/acrawl" fetch -c "$n" \
      -i "$dir/urls$n" | tee -a "$dir/results"
    $py "$here/cpu_of.py" -n "$n" -s -l "$n aiohttp" -- $py "$here/aiohttp_fetch.py" \
      "$dir/urls$n" "$n" | tee -a "$dir/results"
  done
done
echo
echo "## medians of $rounds rounds (load now $(cut -d' ' -f1-3 /proc/loadavg))"
echo "| concurrent /delay/1 | client | total s | client CPU s | peak RSS MB |"
echo "|---|---|---|---|---|"
$py - "$dir/results" <<'PY'
import collections, statistics, sys
rows = collections.OrderedDict()
for line in open(sys.argv[1]):
    p = line.split()
    kv = dict(x.split("=", 1) for x in p[2:] if "=" in x)
    if "EXIT" in kv:
        print("(a failed run: %s)" % line.strip())
    rows.setdefault((p[0], p[1]), []).append(kv)
for (n, c), l in rows.items():
    m = lambda k: statistics.median(float(x[k]) for x in l)
    print("| %s | %s | %.3f | %.3f | %.1f |" % (n, c, m("wall"), m("cpu"), m("rss_mb")))
PY
echo
echo "commands: seq N | sed 's|.*|$url|' > urlsN;"
echo "  $build/acrawl fetch -c N -i urlsN > /dev/null"
echo "  python3 bench/aiohttp_fetch.py urlsN N     (each under bench/cpu_of.py)"
