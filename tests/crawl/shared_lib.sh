# Shared by the tests of a crawl shared through Redis (tests/crawl/shared_*.sh):
# a real redis-server on a free loopback port, workers in the background,
# their exit statuses, and the crawl's counts as --status prints them and as
# Redis holds them. Source it with ACRAWL set to the binary; it sources
# lib.sh (a temp dir $T, the replica, compare, fail, cleanup at exit).
. "$(dirname "$0")/lib.sh"
# At exit the workers go first, while Redis is still up: a worker stopped
# gracefully sends its outcomes before it exits, and waits for a Redis that
# is gone (lib.sh's cleanup stops the servers first). TERM, then KILL those
# still running 3 s later; then lib.sh's cleanup (_server_exit).
_shared_exit() {
  _rc=$?
  set +e
  for _p in $PIDS; do kill -TERM "$_p" 2>/dev/null; done
  _deadline=$(($(date +%s) + 3))
  for _p in $PIDS; do
    while _server_alive "$_p" && [ "$(date +%s)" -le "$_deadline" ]; do sleep 0.05; done
    kill -KILL "$_p" 2>/dev/null
    wait "$_p" 2>/dev/null
  done
  PIDS=
  (exit $_rc)
  _server_exit
}
trap _shared_exit EXIT
server_need redis-server "the shared frontier's tests run a real Redis"
server_need redis-cli "the tests read and change the crawl's keys behind the workers"

# start_redis [redis-server options...]: sets REDIS_PORT and FRONTIER. Again
# after a kill: the same port (REDIS_PORT kept), the same directory, so the
# append-only file written before the kill is read back. Every write is
# synced (appendfsync always): a kill -9 loses nothing acknowledged.
# Redis accepts connections while it reads that file back, and answers
# LOADING to most commands until it has: it returns only once Redis has
# read it, or the test's own reads (counter) would see nothing there.
# With --requirepass P, the test's commands (rcli) authenticate with P.
REDIS_PORT=
REDIS_AUTH=
start_redis() {
  [ -n "$REDIS_PORT" ] || REDIS_PORT=$(server_free_port)
  mkdir -p "$T/redis"
  _prev=
  for _a in "$@"; do
    [ "$_prev" != --requirepass ] || REDIS_AUTH=$_a
    _prev=$_a
  done
  server_start redis port:"$REDIS_PORT" redis-server --port "$REDIS_PORT" --bind 127.0.0.1 \
    --save '' --appendonly yes --appendfsync always --dir "$T/redis" --daemonize no "$@"
  REDIS_PID=$SERVER_PID
  FRONTIER=redis://127.0.0.1:$REDIS_PORT
  wait_for 20 "Redis to read its append-only file back" redis_loaded
}

rcli() {
  if [ -n "$REDIS_AUTH" ]; then
    REDISCLI_AUTH=$REDIS_AUTH redis-cli -p "$REDIS_PORT" "$@"
  else
    redis-cli -p "$REDIS_PORT" "$@"
  fi
}
redis_loaded() { rcli INFO persistence 2>/dev/null | grep -q '^loading:0'; }

# counter NAME [CRAWL]: a counter of the crawl straight from Redis (0 when
# not set yet): cheap enough to poll, unlike --status, which samples twice a
# second apart.
counter() {
  v=$(rcli HGET "acrawl:{${2:-books}}:n" "$1" 2>/dev/null || true)
  case $v in '' | *[!0-9]*) echo 0 ;; *) echo "$v" ;; esac
}

# start_worker NAME ARGS...: `acrawl ARGS...` in the background, output in
# $T/NAME.out; its pid in WPID_NAME and in PIDS (stopped at exit).
start_worker() {
  _w=$1
  shift
  "$ACRAWL" "$@" </dev/null >"$T/$_w.out" 2>&1 &
  eval "WPID_$_w=$!"
  PIDS="$PIDS $!"
}

# wait_worker NAME: its exit status in WRC (and WRC_NAME).
wait_worker() {
  eval "_p=\$WPID_$1"
  WRC=0
  wait "$_p" || WRC=$?
  eval "WRC_$1=$WRC"
  # Reaped: its pid may be reused, so the cleanup must not signal it.
  PIDS=$(echo "$PIDS" | tr ' ' '\n' | grep -vx "$_p" | tr '\n' ' ' || true)
}

# wait_for SECONDS WHAT COMMAND...: polls COMMAND until it succeeds; fails the
# test after SECONDS, naming WHAT.
wait_for() {
  _deadline=$(($(date +%s) + $1))
  _what=$2
  shift 2
  until "$@"; do
    [ "$(date +%s)" -lt "$_deadline" ] || fail "waited $1 s for $_what"
    sleep 0.1
  done
}

# done_over N [CRAWL]: 0 once more than N requests of the crawl are done.
done_over() { [ "$(counter done "${2:-}")" -gt "$1" ]; }

# status ARGS...: `acrawl books --frontier F --status ARGS...` into
# $T/status.txt (also printed, for the log); fails the test when it fails.
# try_status ARGS...: the same, quiet, its exit status returned (a crawl not
# seeded yet is exit 3, "no such crawl").
try_status() { "$ACRAWL" books --frontier "$FRONTIER" --status "$@" >"$T/status.txt" 2>&1; }
status() {
  try_status "$@" || fail "--status: exit $?: $(cat "$T/status.txt")"
  cat "$T/status.txt"
}

# st WORDS: the number after WORDS in the last status, e.g. st done,
# st "late answers refused"; st state: the word after "crawl NAME:".
st() {
  if [ "$1" = state ]; then
    sed -n 's/^crawl [^:]*: \([a-z]*\).*/\1/p' "$T/status.txt"
  else
    # "(seen N)" and "workers N" end a clause differently: any non-digit.
    tr ',()' '\n\n\n' <"$T/status.txt" | sed -n "s/^ *$1 \([0-9][0-9]*\).*/\1/p" | head -n 1
  fi
}

# check_complete: the last status says complete, nothing is left queued,
# delayed or leased, and the counts balance: every request seen is done or
# failed.
check_complete() {
  [ "$(st state)" = complete ] || fail "the status does not say complete: $(cat "$T/status.txt")"
  for k in queued delayed leased; do
    [ "$(st $k)" = 0 ] || fail "$k $(st $k) in a complete crawl"
  done
  [ $(($(st queued) + $(st delayed) + $(st leased) + $(st done) + $(st failed))) -eq "$(st seen)" ] ||
    fail "the counts do not balance: $(cat "$T/status.txt")"
}

# pages_done NAME: the pages this worker fetched and settled, from its summary.
pages_done() { sed -n 's/^ *pages done \([0-9][0-9]*\).*/\1/p' "$T/$1.out" | tail -n 1; }

# worker_says NAME [LINES]: what to show of a worker that failed a check:
# a sanitizer's report from its start (its tail is the shadow-byte legend,
# which names nothing), else the last LINES (10) of its output.
worker_says() {
  if grep -qE '^==[0-9]+==ERROR|runtime error:' "$T/$1.out"; then
    grep -m 1 -A 14 -E '^==[0-9]+==ERROR|runtime error:' "$T/$1.out"
  else
    tail -n "${2:-10}" "$T/$1.out"
  fi
}

# wait_worker_within SECONDS NAME: wait_worker, but fails the test when the
# worker has not exited by then (a worker that hangs is the bug).
wait_worker_within() {
  eval "_p=\$WPID_$2"
  _deadline=$(($(date +%s) + $1))
  while _server_alive "$_p"; do
    [ "$(date +%s)" -lt "$_deadline" ] || fail "worker $2 still runs after $1 s: $(worker_says "$2" 5)"
    sleep 0.1
  done
  wait_worker "$2"
}
