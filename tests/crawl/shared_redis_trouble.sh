#!/bin/sh
# Redis in trouble under a shared crawl: (a) killed with SIGKILL and started
# again on the same port a second later (its append-only file synced on
# every write, so nothing it acknowledged is lost); (b) frozen (SIGSTOP) for
# 5 s, longer than the workers' leases would allow if they counted on their
# own clocks. Either way the workers wait, try again, and the crawl completes
# with every book stored once.
. "$(dirname "$0")/shared_lib.sh"
N=3000
dump_books --books $N
# 20 ms a request: the crawl runs for a few seconds around the trouble.
start_site s --books $N --delay 20
start_redis

# run NAME TROUBLE: two workers of crawl NAME, TROUBLE run once 500 of its
# requests are done; then both must complete.
run() {
  name=$1
  t0=$(date +%s)
  for i in 1 2; do
    start_worker ${name}$i books --base "$SITE_s" --frontier "$FRONTIER" --crawl "$name" \
      --store "sqlite:$T/$name.db" -c 8 --quiet
  done
  wait_for 30 "500 requests done ($name)" done_over 500 "$name"
  $2
  left=$(($(counter seen "$name") - $(counter done "$name") - $(counter failed "$name")))
  echo "$name: Redis is back, $(counter done "$name") done, $left left"
  [ "$left" -gt 0 ] || fail "$name: the crawl ended during the trouble: too short to test"
  for i in 1 2; do
    wait_worker ${name}$i
    [ "$WRC" -eq 0 ] || fail "$name: worker $i: exit $WRC: $(tail -20 "$T/${name}$i.out")"
  done
  status --crawl "$name"
  echo "$name: $(($(date +%s) - t0)) s"
  check_complete
  [ "$(st failed)" = 0 ] || fail "$name: failed $(st failed)"
  # No worker died or stalled: a lease taken over, or an answer refused as
  # late, would be Redis's trouble mistaken for a worker's (a take or a
  # batch of answers whose reply was lost, sent again).
  [ "$(st "leases taken over")" = 0 ] || fail "$name: $(st "leases taken over") leases taken over"
  [ "$(st "late answers refused")" = 0 ] ||
    fail "$name: $(st "late answers refused") late answers refused"
  compare "sqlite:$T/$name.db" || fail "$name: sqlite store"
}

restart() {
  before=$(counter done killed)
  server_stop redis KILL
  sleep 1
  start_redis
  # Whatever Redis acknowledged before the kill is in its append-only file.
  [ "$(counter done killed)" -ge "$before" ] ||
    fail "done went back from $before to $(counter done killed) across the restart"
}
run killed restart

freeze() {
  kill -STOP "$REDIS_PID"
  sleep 5
  kill -CONT "$REDIS_PID"
}
run frozen freeze
echo "ok: shared redis trouble"
