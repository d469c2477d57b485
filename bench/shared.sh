#!/bin/bash
# The crawl shared through Redis (--frontier): what it costs one worker, what
# several workers gain when the site is slow, and what its dedup set weighs.
#
#   bench/shared.sh [BUILD_DIR] [RUNS]   (defaults: build, $BENCH_RUNS or 7)
#
# 1. "cost": the whole book site mirrored into nginx (as bench/crawl.sh does:
#    files byte for byte, one nginx worker), crawled by one `acrawl books
#    -c 64` with the in-memory frontier and with --frontier redis://, RUNS
#    times each, interleaved (the order swapped every run, so neither always
#    runs on the other's warm caches), a fresh crawl name and FLUSHALL before
#    every shared run. Wall time (bash's microsecond clock), acrawl's CPU
#    (/usr/bin/time) and redis-server's (utime+stime from /proc/PID/stat
#    before and after: it keeps running between runs), and from INFO: the
#    EVALSHA calls (commandstats) and the read events Redis processed
#    (total_reads_processed: one per batch of commands that arrived
#    together, so about one per round trip), each per request done.
# 2. "scale": `acrawl site --delay 100` (every book API answer after 100 ms),
#    one worker at -c 64 against four at -c 64 sharing one crawl (started
#    together; wall time until the last exits), the in-memory frontier at
#    -c 64 and -c 256 beside them. SCALE_PAGES=N bounds the crawl to N list
#    pages and their books (--pages); by default the whole site.
# 3. "memory": one fresh redis-server each, used_memory before and after
#    1,000,000 URLs' fingerprints stored as acrawl stores them (one SADD of
#    the signed decimal 64-bit hash into the set s:XXXX of its top 16 bits,
#    65,536 sets) and as scrapy-redis does (one set of 40-char SHA1 hex
#    strings); hashes are blake2b (8 bytes) and SHA1 of
#    http://example.com/page/N, sent through redis-cli --pipe. Also the
#    buckets' encodings and the largest bucket (set-max-intset-entries).
#    Then MEMORY_QUEUED (100,000) book requests queued through the script's
#    own "add" step (no dedup): what a queued request weighs with its record.
# --per-host is not given: with --frontier it makes the per-host window one
# for all workers, held in Redis (a step per request), which is not what
# these measure. SECTIONS="cost scale memory" narrows a run. Tables
# (markdown) and the command lines go to stdout; exit 77 when a tool is
# missing.
set -eu
build=${1:-build}
runs=${2:-${BENCH_RUNS:-7}}
here=$(cd "$(dirname "$0")" && pwd)
py=/usr/bin/python3
sections=${SECTIONS:-cost scale memory}
scale_pages=${SCALE_PAGES:-}
nurls_mem=${MEMORY_URLS:-1000000}
nqueue_mem=${MEMORY_QUEUED:-100000}

dir=$(mktemp -d /tmp/ac_sharedbench.XXXXXX)
chmod 755 "$dir"   # nginx's worker may run as nobody
SERVER_DIR=$dir
. "$here/../tests/lib/server.sh"
server_on_exit 'rm -rf "$dir"'
for tool in redis-server redis-cli nginx curl /usr/bin/time "$py"; do server_need "$tool" "make bench-deps"; done
[ -x "$build/acrawl" ] || server_skip "$build/acrawl not built (make)"
"$build/acrawl" books --help 2>&1 | grep -q -- --frontier || server_skip "$build/acrawl books has no --frontier"
want() { case " $sections " in *" $1 "*) return 0 ;; esac; return 1; }

# start_redis NAME: a redis-server with nothing saved to disk; sets $redis
# (the URI), $rport and $rpid.
start_redis() {
  rport=$(server_free_port)
  server_start "$1" port:"$rport" redis-server --bind 127.0.0.1 --port "$rport" --save '' \
    --appendonly no --dir "$dir"
  rpid=$SERVER_PID
  redis=redis://127.0.0.1:$rport
}
rcli() { redis-cli -p "$rport" "$@"; }
# info_field SECTION FIELD: one figure of INFO (cmdstat_evalsha's calls for
# FIELD=cmdstat_evalsha:calls).
info_field() {
  rcli INFO "$1" | tr -d '\r' | "$py" -c '
import sys
name, _, sub = sys.argv[1].partition(":")
for line in sys.stdin:
    k, _, v = line.strip().partition(":")
    if k != name: continue
    if not sub: print(v); break
    print(dict(p.split("=") for p in v.split(",")).get(sub, 0)); break
else: print(0)' "$2"
}
# cpu_ticks PID: utime + stime of PID, in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)

# count_books DB: rows of acrawl's table.
count_books() {
  [ -s "$1" ] || { echo 0; return; }
  "$py" -c 'import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
t = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type=\"table\" AND name NOT LIKE \"sqlite_%\"")]
print(max(db.execute(f"SELECT count(*) FROM \"{n}\"").fetchone()[0] for n in t))' "$1"
}
stat_field() { "$py" -c 'import json,sys; print(json.load(open(sys.argv[1])).get(sys.argv[2], 0))' "$1" "$2" 2>/dev/null || echo 0; }

res=$dir/results   # section \t name \t run \t wall \t cpu \t redis_cpu \t requests \t evalsha \t reads \t evalsha_usec \t status \t books
: > "$res"
cmds=$dir/commands
: > "$cmds"

# measure SECTION NAME RUN CMD: runs CMD (sh -c; $DB is a fresh SQLite file)
# and appends its row. With a redis-server up ($rpid), its CPU and INFO
# deltas too. CMD may start several workers: their CPU is summed by time.
measure() {
  local section=$1 name=$2 r=$3 cmd=$4 st=0 t0 t1 c0=0 c1=0 e0=0 e1=0 u0=0 u1=0 n0=0 n1=0
  export DB=$dir/run.db STATS=$dir/stats.json
  rm -f "$dir"/run.db* "$dir"/stats.json*
  [ "$r" = 1 ] && printf '%s | %s | %s\n' "$section" "$name" "$cmd" >> "$cmds"
  sync
  if [ -n "${rpid:-}" ]; then
    c0=$(cpu_ticks "$rpid"); e0=$(info_field commandstats cmdstat_evalsha:calls)
    u0=$(info_field commandstats cmdstat_evalsha:usec); n0=$(info_field stats total_reads_processed)
  fi
  t0=$EPOCHREALTIME
  /usr/bin/time -f '%U %S' -o "$dir/time" sh -c "$cmd" > "$dir/out" 2> "$dir/err" < /dev/null || st=$?
  t1=$EPOCHREALTIME
  if [ -n "${rpid:-}" ]; then
    # Each redis-cli is two reads (its command, its close): the close of the
    # "before" and the command of the "after" fall between the snapshots.
    n1=$(info_field stats total_reads_processed); c1=$(cpu_ticks "$rpid")
    e1=$(info_field commandstats cmdstat_evalsha:calls); u1=$(info_field commandstats cmdstat_evalsha:usec)
  fi
  local books=0 requests=0 f
  for f in "$dir"/run.db*; do
    case $f in *-wal | *-shm | *-journal | *.state) continue ;; esac
    books=$((books + $(count_books "$f")))
  done
  for f in "$dir"/stats.json*; do
    [ -s "$f" ] && requests=$((requests + $(stat_field "$f" requests)))
  done
  read -r user sys < <(tail -1 "$dir/time")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$section" "$name" "$r" \
    "$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", b - a}')" \
    "$(awk -v u="$user" -v s="$sys" 'BEGIN {print u + s}')" \
    "$(awk -v a="$c0" -v b="$c1" -v hz="$hz" 'BEGIN {printf "%.2f", (b - a) / hz}')" \
    "$requests" $((e1 - e0)) $((n1 - n0 - 2)) $((u1 - u0)) "$st" "$books" >> "$res"
  printf '  %-34s run %s: %ss wall, exit %s, %s books, %s requests\n' "$name" "$r" \
    "$(tail -1 "$res" | cut -f4)" "$st" "$books" "$requests" >&2
  if [ "$st" -ne 0 ]; then tail -3 "$dir/err" | sed 's/^/    | /' >&2; fi
}

# start_site NAME ARGS...: acrawl site on a free port; sets $site.
# --gzip-ahead: else the first run pays for gzipping every body.
start_site() {
  local name=$1
  shift
  server_start "$name" file:"$dir/$name.port" "$build/acrawl" site --gzip-ahead --port 0 \
    --portfile "$dir/$name.port" "$@"
  site="http://127.0.0.1:$SERVER_PORT"
}

A="$build/acrawl books"

# --- 1. cost: one worker, the nginx mirror, 64 in flight -------------------
if want cost; then
  # The mirror, as bench/crawl.sh builds it: list pages as files reached
  # through try_files on the query, details as files.
  start_site site
  html=$dir/html
  mkdir -p "$html/api/book" "$html/list/18"
  count=$(curl -sf "$site/api/book/?limit=18&offset=0" | "$py" -c 'import json,sys; print(json.load(sys.stdin)["count"])')
  for o in $(seq 0 18 $((count - 1))); do
    printf 'url = "%s/api/book/?limit=18&offset=%s"\noutput = "%s/list/18/%s"\n' "$site" "$o" "$html" "$o"
  done > "$dir/lists.curl"
  curl -sf --no-progress-meter --parallel --parallel-max 64 -K "$dir/lists.curl"
  "$py" - "$html/list/18" > "$dir/ids" <<'PY'
import json, os, sys
for name in os.listdir(sys.argv[1]):
    for book in json.load(open(os.path.join(sys.argv[1], name)))["results"]:
        print(book["id"])
PY
  while read -r id; do
    printf 'url = "%s/api/book/%s"\noutput = "%s/api/book/%s"\n' "$site" "$id" "$html" "$id"
  done < "$dir/ids" > "$dir/details.curl"
  curl -sf --no-progress-meter --parallel --parallel-max 64 -K "$dir/details.curl"
  [ "$(wc -l < "$dir/ids")" -eq "$count" ] || { echo "shared.sh: the mirror lacks books" >&2; exit 1; }
  server_stop site
  nginx_start "$dir" "$html" 1 4096 'location = /api/book/ { try_files /list/$arg_limit/$arg_offset =404; }'
  ngx=$NGINX_URL
  start_redis redis
  echo "# cost: started $(date -u +%H:%M:%S) UTC, load:$(uptime | sed 's/.*load average://')" >&2
  mem="$A --base $ngx --store sqlite:\$DB -c 64 --stats \$STATS --quiet"
  for r in $(seq "$runs"); do
    shared="$A --base $ngx --frontier $redis --crawl cost$r --store sqlite:\$DB -c 64 --stats \$STATS --quiet"
    rcli FLUSHALL > /dev/null
    if [ $((r % 2)) = 1 ]; then
      measure cost "in-memory frontier" "$r" "$mem"
      measure cost "Redis frontier" "$r" "$shared"
    else
      measure cost "Redis frontier" "$r" "$shared"
      measure cost "in-memory frontier" "$r" "$mem"
    fi
  done
  echo "cost | Redis frontier | (run r: --crawl costR, after FLUSHALL)" >> "$cmds"
  server_stop redis
  server_stop nginx
  rpid=
fi

# --- 2. scale: every answer after 100 ms, 1 worker against 4 ---------------
if want scale; then
  start_site slow --delay 100
  start_redis redis
  pages=${scale_pages:+--pages 1-$scale_pages}
  echo "# scale: started $(date -u +%H:%M:%S) UTC, load:$(uptime | sed 's/.*load average://')" >&2
  # Four workers, each its own SQLite file and stats: stores are per worker
  # (their upserts would collide in one SQLite file); books are summed.
  w="$A --base $site $pages --frontier $redis --crawl scale\$R --store sqlite:\$DB.\$i -c 64 --stats \$STATS.\$i --quiet"
  four="p=; for i in 1 2 3 4; do $w & p=\"\$p \$!\"; done; st=0; for q in \$p; do wait \$q || st=\$?; done; exit \$st"
  for r in $(seq "$runs"); do
    export R=$r
    rcli FLUSHALL > /dev/null
    measure scale "in-memory frontier, -c 64" "$r" "$A --base $site $pages --store sqlite:\$DB -c 64 --stats \$STATS --quiet"
    measure scale "1 worker, -c 64" "$r" "i=1; $w"
    rcli FLUSHALL > /dev/null
    measure scale "4 workers, -c 64 each" "$r" "$four"
    measure scale "in-memory frontier, -c 256" "$r" "$A --base $site $pages --store sqlite:\$DB -c 256 --stats \$STATS --quiet"
  done
  server_stop redis
  server_stop slow
  rpid=
fi

# --- 3. memory: 1,000,000 fingerprints in a fresh redis-server -------------
memrows=$dir/memory   # scheme \t used_memory before \t after \t keys \t members
: > "$memrows"
if want memory; then
  for scheme in acrawl scrapy-redis; do
    start_redis mem
    before=$(info_field memory used_memory)
    "$py" - "$scheme" "$nurls_mem" <<'PY' | rcli --pipe > "$dir/pipe.out"
# One SADD per URL, in the Redis protocol for redis-cli --pipe.
import hashlib, sys
scheme, n = sys.argv[1], int(sys.argv[2])
out = sys.stdout.buffer
def cmd(*args):
    b = [b"*%d\r\n" % len(args)]
    for a in args:
        b.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(b)
buf = []
for i in range(n):
    url = b"http://example.com/page/%d" % i
    if scheme == "acrawl":
        d = hashlib.blake2b(url, digest_size=8).digest()
        key = b"acrawl:{books}:s:" + d[:2].hex().encode()
        member = b"%d" % int.from_bytes(d, "big", signed=True)
    else:
        key = b"books:dupefilter"
        member = hashlib.sha1(url).hexdigest().encode()
    buf.append(cmd(b"SADD", key, member))
    if len(buf) == 10000:
        out.write(b"".join(buf)); buf = []
out.write(b"".join(buf))
PY
    grep -q 'errors: 0' "$dir/pipe.out" || { cat "$dir/pipe.out" >&2; exit 1; }
    after=$(info_field memory used_memory)
    keys=$(rcli DBSIZE)
    if [ "$scheme" = acrawl ]; then
      # Every bucket's size and encoding, in one script.
      shape=$(rcli EVAL "local max, n, enc = 0, 0, {}
        for i = 0, 65535 do
          local k = string.format('acrawl:{books}:s:%04x', i)
          local c = redis.call('SCARD', k)
          if c > 0 then
            n = n + c
            if c > max then max = c end
            local e = redis.call('OBJECT', 'ENCODING', k)
            enc[e] = (enc[e] or 0) + 1
          end
        end
        local s = ''
        for e, c in pairs(enc) do s = s .. e .. ' x' .. c .. ' ' end
        return {n, max, s}" 0 | tr '\n' '\t')
      sample=$(for k in 0000 7fff ffff; do printf '%s %s, ' "s:$k" "$(rcli OBJECT ENCODING "acrawl:{books}:s:$k")"; done)
      members=$(echo "$shape" | cut -f1)
      detail="largest bucket $(echo "$shape" | cut -f2) members (set-max-intset-entries $(rcli CONFIG GET set-max-intset-entries | tail -1)); encodings: $(echo "$shape" | cut -f3)(${sample%, })"
    else
      members=$(rcli SCARD books:dupefilter)
      detail="encoding $(rcli OBJECT ENCODING books:dupefilter)"
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$scheme" "$before" "$after" "$keys" "$members" "$detail" >> "$memrows"
    echo "  memory $scheme: used_memory $before -> $after, $keys keys, $members members" >&2
    server_stop mem
    rpid=
  done
  # What a queued request weighs beside its record: book requests added
  # through the crawl's own script (its "add" step, as a producer sends
  # them), without dedup so that only the queue is measured.
  start_redis mem
  before=$(info_field memory used_memory)
  "$py" - "$here/../src/crawl/frontier_redis.lua" "$nqueue_mem" "$dir/reclen" <<'PY' | rcli --pipe > "$dir/pipe.out"
import json, sys
script = open(sys.argv[1], "rb").read()
n, out = int(sys.argv[2]), sys.stdout.buffer
def cmd(*args):
    args = [a if isinstance(a, bytes) else str(a).encode() for a in args]
    return b"".join([b"*%d\r\n" % len(args)] + [b"$%d\r\n%s\r\n" % (len(a), a) for a in args])
prefix = b"acrawl:{queue}:"
out.write(cmd(b"EVAL", script, 1, prefix, b"join", b"w", b"fp", 60000))
lens = []
for start in range(0, n, 1000):
    args = []
    for i in range(start, min(n, start + 1000)):
        rec = json.dumps({"u": "http://127.0.0.1:8080/api/book/%d" % (1000000 + i), "c": 1,
                          "p": 1, "m": '0,7:"%d"' % (1000000 + i)}, separators=(",", ":"))
        lens.append(len(rec))
        args += [b"", b"%d" % i, b"1", rec.encode()]
    out.write(cmd(b"EVAL", script, 1, prefix, b"add", len(args) // 4, *args))
open(sys.argv[3], "w").write("%.0f" % (sum(lens) / len(lens)))
PY
  grep -q 'errors: 0' "$dir/pipe.out" || { cat "$dir/pipe.out" >&2; exit 1; }
  after=$(info_field memory used_memory)
  members=$(rcli ZCARD 'acrawl:{queue}:q')
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "acrawl queue" "$before" "$after" "$(rcli DBSIZE)" "$members" \
    "queued requests, each with a record of $(cat "$dir/reclen") bytes (the request as JSON)" >> "$memrows"
  echo "  memory queue: used_memory $before -> $after, $members queued" >&2
  server_stop mem
  rpid=
fi

# --- the tables -------------------------------------------------------------
echo
echo "# $(nproc) cores (shared by acrawl, the server and Redis), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(date -u '+%Y-%m-%d %H:%M') UTC"
echo "# $runs runs each, interleaved, medians; $(redis-server --version | cut -d' ' -f1-3); load now:$(uptime | sed 's/.*load average://')"
"$py" - "$res" "$memrows" "$nurls_mem" <<'PY'
import statistics as st, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
def table(sec, title, base=None):
    names = list(dict.fromkeys(r[1] for r in rows if r[0] == sec))
    if not names:
        return {}
    med = {}
    for n in names:
        rs = [r for r in rows if r[0] == sec and r[1] == n]
        m = lambda i: st.median(float(r[i]) for r in rs)
        req = m(6)
        med[n] = dict(wall=m(3), cpu=m(4), rcpu=m(5), req=req,
                      evalsha=m(7) / req if req else 0, reads=m(8) / req if req else 0,
                      usec=(st.median(float(r[9]) / float(r[7]) for r in rs if float(r[7]))
                            if any(float(r[7]) for r in rs) else 0),
                      walls=" / ".join(r[3] for r in rs),
                      status=",".join(sorted(set(r[10] for r in rs))),
                      books=" / ".join(dict.fromkeys(r[11] for r in rs)))
    b = med[base]["wall"] if base in med else None
    print(f"\n### {title}\n")
    cols = ["frontier", "wall s (median)", "runs", "acrawl CPU s", "redis-server CPU s",
            "requests", "EVALSHA / request", "Redis reads / request", "usec / EVALSHA"]
    cols += [f"x {base}"] if b else []
    cols += ["exit", "books"]
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for n, v in med.items():
        shared = v["evalsha"] > 0
        row = [n, f"{v['wall']:.3f}", v["walls"], f"{v['cpu']:.2f}",
               f"{v['rcpu']:.2f}" if shared else "-", f"{v['req']:.0f}",
               f"{v['evalsha']:.3f}" if shared else "-", f"{v['reads']:.3f}" if shared else "-",
               f"{v['usec']:.1f}" if shared else "-"]
        row += [f"{v['wall'] / b:.3f}"] if b else []
        row += [v["status"], v["books"]]
        print("| " + " | ".join(row) + " |")
    return med
table("cost", "cost: one worker, nginx mirror, -c 64 (goal: Redis at most 1.3 x in-memory)",
      "in-memory frontier")
table("scale", "scale: acrawl site --delay 100 (goal: 4 workers at most 0.3 x 1 worker)",
      "1 worker, -c 64")
mem = [l.rstrip("\n").split("\t") for l in open(sys.argv[2])]
if mem:
    n = int(sys.argv[3])
    print(f"\n### memory: {n:,} URLs' fingerprints (goal: acrawl's at most 40 B/URL), "
          "and queued requests\n")
    print("| scheme | used_memory before | after | keys | members | bytes / member | shape |")
    print("|---|---|---|---|---|---|---|")
    for scheme, before, after, keys, members, detail in mem:
        print(f"| {scheme} | {int(before):,} | {int(after):,} | {int(keys):,} | {int(members):,} | "
              f"{(int(after) - int(before)) / int(members):.1f} | {detail} |")
PY
echo
echo "# commands (section | row | command; \$DB is a fresh SQLite file, \$STATS a JSON file, per run):"
echo "# redis-server --bind 127.0.0.1 --port P --save '' --appendonly no"
echo "# cost: nginx -c CONF (1 worker) serving the mirror of acrawl site --gzip-ahead"
echo "# scale: $build/acrawl site --gzip-ahead --port 0 --portfile F --delay 100"
sed 's/^/# /' "$cmds"
want memory && echo "# memory: python3 (SADD per URL) | redis-cli -p P --pipe, in a fresh redis-server per scheme"
want memory && echo "# memory queue: python3 (EVAL frontier_redis.lua add, 1,000 requests a call) | redis-cli -p P --pipe"
exit 0
