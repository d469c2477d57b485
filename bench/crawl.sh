#!/bin/bash
# The whole book site crawled: acrawl books against the tutorial's crawler,
# its queue-and-consumers variant, Scrapy, and wrk and curl --parallel
# fetching the same 9,543 URLs as the limit.
#
#   bench/crawl.sh [BUILD_DIR] [RUNS]        (defaults: build 3)
#
# 1. `acrawl site` (9,040 books) is mirrored into files, byte for byte, and
#    nginx serves them: list pages /api/book/?limit=18&offset=O through a
#    try_files on $arg_limit/$arg_offset, details /api/book/ID as files.
#    nginx runs ONE worker: the machine has 2 cores, the client under test
#    takes one and nginx the other (NGINX_WORKERS=2 to try: measured no
#    faster for wrk, the fastest client; docs/BENCHMARKS.md).
# 2. "nginx, 64 in flight": every peer RUNS times (interleaved), median wall
#    time, CPU (user+sys), peak RSS, and the books in its SQLite file (checked:
#    9,040); wrk (a Lua script cycling the URL list, stopping at exactly 9,543
#    responses, -c64) and curl --parallel --parallel-max 64 over the same URLs.
# 3. "delay": `acrawl site --delay 100` (every book API answer after 100 ms),
#    256 in flight, against the ideal 9,543 / 256 x 0.1 s.
# 4. "faults": `acrawl site` with every URL failing its first try, 2% 429 with
#    Retry-After: 1, 1% resets, 1% short bodies, 1% bad JSON, 5 ids gone:
#    acrawl and the queue peer with --retries 5 (its default is none, like
#    the tutorial's), beside the same two without faults. 9,035 books expected.
# 5. "cursor": the same books through the replica's cursor pagination
#    (specs/books-cursor.json: each list page known only from the one before)
#    with every answer after 100 ms, 256 in flight, against the ideal: the
#    list chain's pages x 100 ms plus the details' 9,040 / 256 x 100 ms.
# acrawl books runs only if `BUILD_DIR/acrawl books --help` works, and
# acrawl crawl (the specs) only if `BUILD_DIR/acrawl crawl --help` does.
# BEFORE=DIR adds DIR/acrawl books (another commit's build) to "nginx", as
# "acrawl books (BEFORE)", to hold a change to the one of this build.
# SECTIONS="nginx delay faults cursor" and ONLY=REGEX (client names) narrow a run.
# Tables (markdown) and every command line go to stdout; exit 77 when a tool
# is missing.
set -eu
build=${1:-build}
runs=${2:-3}
here=$(cd "$(dirname "$0")" && pwd)
py=/usr/bin/python3   # Debian's python3 with python3-aiohttp, -uvloop, -scrapy
workers=${NGINX_WORKERS:-1}
sections=${SECTIONS:-nginx delay faults cursor}
before=${BEFORE:-}
specs=$here/../specs
only=${ONLY:-.}

dir=$(mktemp -d /tmp/ac_crawlbench.XXXXXX)
chmod 755 "$dir"   # nginx's worker may run as nobody
# Every server is started and stopped by tests/lib/server.sh.
SERVER_DIR=$dir
. "$here/../tests/lib/server.sh"
server_on_exit 'rm -rf "$dir"'
for tool in nginx wrk curl scrapy /usr/bin/time "$py"; do server_need "$tool" "make bench-deps"; done
"$py" -c 'import aiohttp, sqlite3' 2>/dev/null || server_skip "python3-aiohttp not installed (make bench-deps)"
"$py" -c 'import uvloop' 2>/dev/null || echo "crawl.sh: python3-uvloop missing: the queue peer runs on asyncio's loop" >&2
[ -x "$build/acrawl" ] || server_skip "$build/acrawl not built (make)"
have_books=0
"$build/acrawl" books --help >/dev/null 2>&1 && have_books=1
have_crawl=0
"$build/acrawl" crawl --help >/dev/null 2>&1 && have_crawl=1
if [ -n "$before" ] && ! "$before/acrawl" books --help >/dev/null 2>&1; then
  echo "crawl.sh: BEFORE=$before: no acrawl books there" >&2
  exit 1
fi

# start_site NAME ARGS...: acrawl site NAME on a free port (a NAME running is
# stopped first); sets $site. --gzip-ahead: otherwise whichever client runs
# first pays for the site gzipping each body at its first request (4.5-5.1 s
# instead of 3.9 on the delay crawl).
start_site() {
  local name=$1
  shift
  server_start "$name" file:"$dir/$name.port" "$build/acrawl" site --gzip-ahead --port 0 \
    --portfile "$dir/$name.port" "$@"
  site="http://127.0.0.1:$SERVER_PORT"
}

# --- 1. the mirror --------------------------------------------------------
start_site site
html=$dir/html
mkdir -p "$html/api/book" "$html/list/18"
count=$(curl -sf "$site/api/book/?limit=18&offset=0" | "$py" -c 'import json,sys; print(json.load(sys.stdin)["count"])')
offsets=$(seq 0 18 $((count - 1)))
for o in $offsets; do printf 'url = "%s/api/book/?limit=18&offset=%s"\noutput = "%s/list/18/%s"\n' "$site" "$o" "$html" "$o"; done > "$dir/lists.curl"
curl -sf --no-progress-meter --parallel --parallel-max 64 -K "$dir/lists.curl"
"$py" - "$html/list/18" > "$dir/ids" <<'PY'
import json, os, sys
for name in sorted(os.listdir(sys.argv[1]), key=int):
    for book in json.load(open(os.path.join(sys.argv[1], name)))["results"]:
        print(book["id"])
PY
while read -r id; do printf 'url = "%s/api/book/%s"\noutput = "%s/api/book/%s"\n' "$site" "$id" "$html" "$id"; done < "$dir/ids" > "$dir/details.curl"
curl -sf --no-progress-meter --parallel --parallel-max 64 -K "$dir/details.curl"
nlists=$(echo "$offsets" | wc -w)
nbooks=$(wc -l < "$dir/ids")
nurls=$((nlists + nbooks))
nfiles=$(find "$html" -type f -size +0 | wc -l)
[ "$nfiles" -eq "$nurls" ] || { echo "crawl.sh: mirrored $nfiles bodies, expected $nurls" >&2; exit 1; }
[ "$nbooks" -eq "$count" ] || { echo "crawl.sh: the lists name $nbooks books, count says $count" >&2; exit 1; }
# The URL list, in the order a crawler asks: list pages, then books.
{ for o in $offsets; do echo "/api/book/?limit=18&offset=$o"; done
  sed 's|^|/api/book/|' "$dir/ids"; } > "$dir/paths"

nginx_start "$dir" "$html" "$workers" 4096 'location = /api/book/ { try_files /list/$arg_limit/$arg_offset =404; }'
ngx=$NGINX_URL
# Byte for byte: one list page and one book through nginx against the site.
for p in "/api/book/?limit=18&offset=$((18 * (nlists - 1)))" "$(sed -n '100p' "$dir/paths")"; do
  cmp -s <(curl -s "$site$p") <(curl -s "$ngx$p") || { echo "crawl.sh: nginx and the site differ on $p" >&2; exit 1; }
done
server_stop site

cat > "$dir/urls.lua" <<'LUA'
-- Cycles through the URL list and ends the process at exactly `total`
-- responses (wrk itself would run until -d is over: its main thread sleeps
-- the whole duration), so the process's wall time is the fetch's time.
local paths, n, i, seen, total, bad = {}, 0, 0, 0, 0, 0
function init(args)
  for line in io.lines(args[1]) do n = n + 1; paths[n] = line end
  total = tonumber(args[2]) or n
end
function request()
  i = i % n + 1
  return wrk.format("GET", paths[i])
end
function response(status, headers, body)
  seen = seen + 1
  if status ~= 200 then bad = bad + 1 end
  if seen == total then
    io.stdout:write(string.format("%d responses, %d non-200\n", seen, bad))
    io.stdout:flush()
    os.exit(bad == 0 and 0 or 1)
  end
end
LUA

# --- measuring -------------------------------------------------------------
res=$dir/results          # section \t name \t run \t wall \t cpu \t rss_kib \t status \t check
cmds=$dir/commands
: > "$res"; : > "$cmds"

# count_books DB: rows of the books table (or acrawl's single table).
count_books() {
  [ -s "$1" ] || { echo 0; return; }
  "$py" - "$1" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")]
t = "books" if "books" in tables else ("items" if "items" in tables else max(tables, key=lambda t: db.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]))
print(db.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0])
PY
}

# plan SECTION NAME KIND COMMAND: KIND says how the run is checked
# (db: $DB's rows; wrk; curl); COMMAND may use $DB and $STATS.
plan() { printf '%s\t%s\t%s\t%s\n' "$@" >> "$dir/plan"; }

# run_section SECTION: every planned command of SECTION, RUNS rounds, interleaved.
run_section() {
  local section=$1 r name kind cmd st check
  case " $sections " in *" $section "*) ;; *) return 0 ;; esac
  echo "# $section: started $(date -u +%H:%M:%S) UTC, load:$(uptime | sed 's/.*load average://')" | tee -a "$dir/loads"
  for r in $(seq "$runs"); do
    while IFS=$'\t' read -r s name kind cmd; do
      [ "$s" = "$section" ] || continue
      echo "$name" | grep -Eq -- "$only" || continue
      [ "$r" = 1 ] && printf '%s | %s | %s\n' "$section" "$name" "$cmd" >> "$cmds"
      # The site's faults are once per URL per process (fail-first, bad
      # JSON): every faulty run gets a fresh site, started before the clock.
      [ "$kind" = dbf ] && restart_faulty
      export DB=$dir/run.db STATS=$dir/stats.json
      rm -f "$DB" "$DB-wal" "$DB-shm" "$DB".* "$STATS"
      # The run before left up to 90 MB of dirty pages (its SQLite file and
      # WAL): written back while this one runs, they could steal its CPU
      # (no difference measured at 00:28 on 2026-11-25, but one confound less).
      sync
      st=0
      # Wall time from bash's microsecond clock: GNU time's %e truncates to
      # centiseconds (a 100.9 ms wrk run prints 0.09), which skewed every
      # ratio to wrk by up to 10%. time still gives the CPU and peak RSS.
      t0=$EPOCHREALTIME
      /usr/bin/time -f '%e %U %S %M' -o "$dir/time" sh -c "$cmd" > "$dir/out" 2> "$dir/err" < /dev/null || st=$?
      t1=$EPOCHREALTIME
      case $kind in
        db | dbf) check="$(count_books "$DB") books" ;;
        wrk) check="$(grep 'responses,' "$dir/out" || echo 'did not reach the count')" ;;
        curl) check="$(grep -c '^200$' "$dir/out" || true) x 200" ;;
      esac
      if [ -s "$STATS" ]; then
        check="$check; stats: $("$py" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(", ".join(f"{k} {round(d[k], 2) if isinstance(d[k], float) else d[k]}" for k in ("requests","items","failures","elapsed_s") if k in d))' "$STATS" 2>/dev/null || echo unreadable)"
      fi
      read -r _ user sys rss < <(tail -1 "$dir/time")
      wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", b - a}')
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$section" "$name" "$r" "$wall" \
        "$(awk -v u="$user" -v s="$sys" 'BEGIN {print u + s}')" "$rss" "$st" "$check" >> "$res"
      printf '  %-28s run %s: %6ss wall, exit %s, %s\n' "$name" "$r" "$wall" "$st" "$check" >&2
      if [ "$st" -ne 0 ] && [ "$section" != faults ]; then tail -3 "$dir/err" | sed 's/^/    | /' >&2; fi
    done < "$dir/plan"
  done
}

T="$py $here/crawl/tutorial_crawler.py --pages $nlists"
Q="$py $here/crawl/queue_crawler.py"
S="scrapy runspider $here/crawl/scrapy_books.py -L WARNING"
W="wrk -t1 -d60s --timeout 10s -s $dir/urls.lua"
# curl: one "url"/"output" pair per URL.
sed "s|.*|url = \"$ngx&\"\noutput = \"/dev/null\"|" "$dir/paths" > "$dir/nginx.curl"

# --- 2. nginx, 64 in flight -------------------------------------------------
plan nginx "tutorial crawler" db "$T --base $ngx --concurrency 64 --store sqlite:\$DB"
plan nginx "tutorial crawler, no store" db "$T --base $ngx --concurrency 64 --store none"
plan nginx "queue crawler (uvloop)" db "$Q --base $ngx --concurrency 64 --store sqlite:\$DB"
plan nginx "queue crawler, no store" db "$Q --base $ngx --concurrency 64 --store none"
plan nginx "scrapy" db "$S -a base=$ngx -a store=sqlite:\$DB"
[ "$have_books" = 1 ] && plan nginx "acrawl books" db \
  "$build/acrawl books --base $ngx --store sqlite:\$DB --concurrency 64 --per-host 64 --stats \$STATS --quiet"
[ -n "$before" ] && plan nginx "acrawl books (BEFORE)" db \
  "$before/acrawl books --base $ngx --store sqlite:\$DB --concurrency 64 --per-host 64 --stats \$STATS --quiet"
[ "$have_crawl" = 1 ] && plan nginx "acrawl crawl specs/books.json" db \
  "$build/acrawl crawl $specs/books.json --base $ngx --store sqlite:\$DB --concurrency 64 --per-host 64 --stats \$STATS --quiet"
plan nginx "curl --parallel (fetch only)" curl "curl -s --no-progress-meter --parallel --parallel-max 64 -w '%{http_code}\n' -K $dir/nginx.curl"
plan nginx "wrk (fetch only)" wrk "$W -c64 $ngx -- $dir/paths $nurls"
run_section nginx

# --- 3. every answer after 100 ms, 256 in flight -----------------------------
start_site site --delay 100
dsite=$site
sed "s|.*|url = \"$dsite&\"\noutput = \"/dev/null\"|" "$dir/paths" > "$dir/delay.curl"
plan delay "tutorial crawler" db "$T --base $dsite --concurrency 256 --store sqlite:\$DB"
plan delay "queue crawler (uvloop)" db "$Q --base $dsite --concurrency 256 --store sqlite:\$DB"
plan delay "scrapy" db "$S -a base=$dsite -a store=sqlite:\$DB -s CONCURRENT_REQUESTS=256 -s CONCURRENT_REQUESTS_PER_DOMAIN=256"
[ "$have_books" = 1 ] && plan delay "acrawl books" db \
  "$build/acrawl books --base $dsite --store sqlite:\$DB --concurrency 256 --per-host 256 --stats \$STATS --quiet"
plan delay "curl --parallel (fetch only)" curl "curl -s --no-progress-meter --parallel --parallel-max 256 -w '%{http_code}\n' -K $dir/delay.curl"
plan delay "wrk (fetch only)" wrk "$W -c256 $dsite -- $dir/paths $nurls"
run_section delay
server_stop site

# --- 4. faults (against the site itself, 64 in flight) -------------------------
faults="--fail-first 1 --p429 0.02 --retry-after 1 --preset 0.01 --pshort 0.01 --pbadjson 0.01 --gone 5"
start_site clean
clean=$site
restart_faulty() {
  start_site faulty $faults
  export FAULTY=$site
}
[ "$have_books" = 1 ] && {
  plan faults "acrawl books, no faults" db \
    "$build/acrawl books --base $clean --store sqlite:\$DB --concurrency 64 --per-host 64 --stats \$STATS --quiet"
  plan faults "acrawl books, faults (--retries 5)" dbf \
    "$build/acrawl books --base \$FAULTY --store sqlite:\$DB --concurrency 64 --per-host 64 --retries 5 --stats \$STATS --quiet"
}
plan faults "queue crawler, no faults" db "$Q --base $clean --concurrency 64 --store sqlite:\$DB"
plan faults "queue crawler, faults (--retries 5)" dbf "$Q --base \$FAULTY --concurrency 64 --retries 5 --store sqlite:\$DB"
run_section faults
server_stop faulty
server_stop clean

# --- 5. a cursor chain, every answer after 100 ms, 256 in flight -------------
if [ "$have_crawl" = 1 ]; then
  start_site site --delay 100
  plan cursor "acrawl crawl specs/books-cursor.json" db \
    "$build/acrawl crawl $specs/books-cursor.json --base $site --store sqlite:\$DB --concurrency 256 --per-host 256 --stats \$STATS --quiet"
  run_section cursor
  server_stop site
fi

# --- the tables ------------------------------------------------------------------
echo
echo "# $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(date -u '+%Y-%m-%d %H:%M') UTC"
echo "# $runs runs each, medians; nginx $(nginx -v 2>&1 | sed 's/.*\///') with $workers worker(s); $nurls URLs ($nlists list pages, $nbooks books)"
[ "$have_books" = 1 ] || echo "# acrawl books: skipped ($build/acrawl books --help failed: not built on this branch)"
cat "$dir/loads"
"$py" - "$res" "$nurls" "$nlists" <<'PY'
import statistics as st, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
nurls, nlists = int(sys.argv[2]), int(sys.argv[3])
cursor_ideal = nlists * 0.1 + (nurls - nlists) / 256 * 0.1
sections = {"nginx": "nginx serving the replica's bodies, 64 in flight",
            "delay": "acrawl site --delay 100, 256 in flight (ideal %.2f s)" % (nurls / 256 * 0.1),
            "faults": "acrawl site, 64 in flight, with and without faults",
            "cursor": "acrawl site --delay 100, cursor pagination, 256 in flight (ideal %.2f s: "
                      "%d chained list pages x 0.1 s + %d details / 256 x 0.1 s)"
                      % (cursor_ideal, nlists, nurls - nlists)}
for sec, title in sections.items():
    names = list(dict.fromkeys(r[1] for r in rows if r[0] == sec))
    if not names:
        continue
    med = {}
    for n in names:
        rs = [r for r in rows if r[0] == sec and r[1] == n]
        med[n] = dict(wall=st.median(float(r[3]) for r in rs), cpu=st.median(float(r[4]) for r in rs),
                      rss=st.median(int(r[5]) for r in rs) / 1024,
                      walls=" / ".join(r[3] for r in rs),
                      status=",".join(sorted(set(r[6] for r in rs))),
                      check=" / ".join(dict.fromkeys(r[7] for r in rs)))  # not " | ": a table cell
    tut = med.get("tutorial crawler", {}).get("wall")
    wrk = med.get("wrk (fetch only)", {}).get("wall")
    ideal = nurls / 256 * 0.1 if sec == "delay" else cursor_ideal if sec == "cursor" else None
    clean = {n.split(",")[0]: m["wall"] for n, m in med.items() if n.endswith(", no faults")}
    cols = ["client", "wall s (median)", "runs", "CPU s", "peak RSS MB"]
    cols += ["x tutorial's time"] if tut else []
    cols += ["x wrk's time"] if wrk else []
    cols += ["x ideal"] if ideal else []
    cols += ["x its fault-free time"] if clean else []
    cols += ["exit", "checked"]
    print(f"\n### {title}\n")
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for n, m in med.items():
        row = [n, f"{m['wall']:.3f}", m["walls"], f"{m['cpu']:.2f}", f"{m['rss']:.1f}"]
        row += [f"{m['wall'] / tut:.3f}"] if tut else []
        row += [f"{m['wall'] / wrk:.2f}"] if wrk else []
        row += [f"{m['wall'] / ideal:.3f}"] if ideal else []
        if clean:
            base = clean.get(n.split(",")[0])
            row += [f"{m['wall'] / base:.2f}" if base and ", faults" in n else "-"]
        row += [m["status"], m["check"]]
        print("| " + " | ".join(row) + " |")
PY
echo
echo "# commands (section | client | command; \$DB is a fresh SQLite file per run, \$STATS a JSON file):"
echo "# acrawl site (mirrored into nginx, and for 'faults' without faults): $build/acrawl site --gzip-ahead --port 0 --portfile F"
echo "# acrawl site for 'delay': $build/acrawl site --gzip-ahead --port 0 --portfile F --delay 100"
echo "# acrawl site for 'faults': $build/acrawl site --gzip-ahead --port 0 --portfile F $faults"
echo "# acrawl site for 'cursor': $build/acrawl site --gzip-ahead --port 0 --portfile F --delay 100"
echo "# nginx: nginx -c CONF (worker_processes $workers; access_log off; sendfile; open_file_cache;"
echo "#   location = /api/book/ { try_files /list/\$arg_limit/\$arg_offset =404; })"
echo "# wrk's Lua script cycles the $nurls paths and stops at $nurls responses; curl's -K file has"
echo "#   one 'url = ...' / 'output = \"/dev/null\"' pair per URL."
sed 's/^/# /' "$cmds"
