#!/bin/sh
# Stopping while the final store flush keeps retrying: another process holds
# the SQLite file's write lock, so every batch is busy. The crawl fetches
# everything, then waits for the lock; one SIGINT leaves it waiting (the
# books are not durable yet), a second stops it at once with 130. The state
# stays consistent: --resume, with the lock gone, completes the store.
. "$(dirname "$0")/lib.sh"
dump_books --books 60
start_site s --books 60
DB=$T/books.db

# The table exists before the lock is taken (the store creates it at open).
"$ACRAWL" books --base "$SITE_s" --store "sqlite:$DB" --pages 1-1 --quiet ||
  fail "the first page did not crawl"
$PY -c "import sqlite3,sys,time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute('BEGIN EXCLUSIVE')
open(sys.argv[2], 'w').close()
time.sleep(600)" "$DB" "$T/locked" &
LOCKER=$!
PIDS="$PIDS $LOCKER"
for _ in $(seq 100); do [ -e "$T/locked" ] && break; sleep 0.05; done
[ -e "$T/locked" ] || fail "the lock was not taken"

"$ACRAWL" books --base "$SITE_s" --store "sqlite:$DB" >"$T/out.txt" 2>&1 &
pid=$!
PIDS="$PIDS $pid"
# Every detail fetched (18 by the first run, 60 by this one): only the flush is left.
for _ in $(seq 200); do
  [ "$(site_stat "$SITE_s" requests detail 2>/dev/null || echo 0)" -ge 78 ] && break
  sleep 0.05
done
sleep 0.5
kill -INT $pid
sleep 1
kill -0 $pid 2>/dev/null || fail "one SIGINT ended a crawl whose books are not durable: $(cat "$T/out.txt")"
kill -INT $pid
rc=
for _ in $(seq 100); do
  if ! kill -0 $pid 2>/dev/null; then
    set +e
    wait $pid
    rc=$?
    set -e
    break
  fi
  sleep 0.1
done
[ -n "$rc" ] || fail "the second SIGINT did not stop the crawl: $(cat "$T/out.txt")"
[ "$rc" -eq 130 ] || fail "exit $rc after two SIGINTs, expected 130: $(cat "$T/out.txt")"
grep -q "stopping now" "$T/out.txt" || fail "the second SIGINT was not said"

kill $LOCKER
wait $LOCKER 2>/dev/null || true
"$ACRAWL" books --base "$SITE_s" --store "sqlite:$DB" --resume >"$T/resume.txt" 2>&1 ||
  fail "--resume after the stop: $(cat "$T/resume.txt")"
compare "sqlite:$DB" || fail "the store after --resume"
echo "ok: stop while flushing"
