#!/bin/sh
# Stop a crawl at several points and --resume it: it completes, every book
# stored exactly once and equal to the data set, and books already stored are
# not fetched again.
#   SIGINT (graceful: in-flight requests finish): no detail fetched twice;
#   SIGINT twice (at once): at most what was in flight fetched twice;
#   kill -9: at most the work in flight (and its unwritten marks) again.
. "$(dirname "$0")/lib.sh"
N=3000
dump_books --books $N
details() { site_stat "$SITE_s" requests detail; }

# run_until SIGNALS DELAY: start a crawl, signal it after DELAY s, wait.
run_stopped() {
  sig=$1
  after=$2
  "$ACRAWL" books --base "$SITE_s" --store "sqlite:$T/books.db" --concurrency 16 $RESUME \
    >>"$T/out.txt" 2>&1 &
  pid=$!
  sleep "$after"
  case $sig in
    INT) kill -INT $pid ;;
    INT2) kill -INT $pid; sleep 0.02; kill -INT $pid 2>/dev/null || fail "stopped before the second SIGINT" ;;
    KILL) kill -KILL $pid ;;
  esac
  set +e
  wait $pid
  rc=$?
  set -e
  case $sig in
    INT | INT2) [ $rc -eq 130 ] || [ $rc -eq 0 ] || fail "$sig: exit $rc: $(tail -5 "$T/out.txt")" ;;
    KILL) [ $rc -eq 137 ] || fail "KILL: exit $rc" ;;
  esac
}

finish() {
  "$ACRAWL" books --base "$SITE_s" --store "sqlite:$T/books.db" --concurrency 64 --resume \
    --stats "$T/stats.json" >>"$T/out.txt" 2>&1 || fail "resume: exit $?: $(tail -12 "$T/out.txt")"
  [ "$(sqlite3 "$T/books.db" 'select count(*), count(distinct key) from books')" = "$N|$N" ] ||
    fail "rows: $(sqlite3 "$T/books.db" 'select count(*) from books')"
  compare "sqlite:$T/books.db" || fail "store differs after resume"
}

# 1. Graceful stops at three points, each resumed: no detail fetched twice.
start_site s --books $N --delay 10
RESUME=
run_stopped INT 0.3
RESUME=--resume
run_stopped INT 0.8
run_stopped INT 0.8
finish
[ "$(details)" = $N ] || fail "graceful stops: $(details) details fetched for $N books"
# Only the first list page is read again per resume (for its count).
[ "$(site_stat "$SITE_s" requests list)" -le $((167 + 3)) ] || fail "list pages fetched twice"

# 2. Ctrl-C twice: stops at once (requests take 300 ms here, the second
# signal comes 20 ms after the first); resume completes; at most what was in
# flight is fetched twice.
start_site s --books $N --delay 300
RESUME=
run_stopped INT2 1
grep -q "stopping now" "$T/out.txt" || fail "the second SIGINT was not seen"
finish
[ "$(details)" -le $((N + 16)) ] || fail "double SIGINT: $(details) details for $N books"

# 3. kill -9, twice, then resume.
start_site s --books $N --delay 10
RESUME=
run_stopped KILL 0.6
RESUME=--resume
run_stopped KILL 0.6
finish
[ "$(details)" -le $((N + 300)) ] || fail "kill -9: $(details) details for $N books"
# 4. A store URI with options and an escaped '?': the default state sits
# beside the file the store writes (PATH.state), options left out.
start_site s --books $N --delay 10
"$ACRAWL" books --base "$SITE_s" --store "sqlite:$T/odd%3Fname.db?keep_wal=0" --concurrency 16 \
  >>"$T/out.txt" 2>&1 &
pid=$!
sleep 0.5
kill -INT $pid
wait $pid || [ $? -eq 130 ] || fail "odd name: exit $?"
[ -s "$T/odd?name.db.state" ] || fail "no state beside the store: $(ls "$T")"
ls "$T" | grep -q keep_wal && fail "an option became part of a file name: $(ls "$T")"
"$ACRAWL" books --base "$SITE_s" --store "sqlite:$T/odd%3Fname.db?keep_wal=0" --concurrency 64 \
  --resume >>"$T/out.txt" 2>&1 || fail "odd name resume: exit $?: $(tail -5 "$T/out.txt")"
[ "$(sqlite3 "$T/odd?name.db" 'select count(*), count(distinct key) from books')" = "$N|$N" ] ||
  fail "odd name rows: $(sqlite3 "$T/odd?name.db" 'select count(*) from books')"
echo "ok: resume"
