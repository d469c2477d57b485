#!/bin/sh
# A worker stalled (SIGSTOP) for longer than its leases (1 s here), then
# resumed: the other worker takes over what it held, and the stalled one's
# answers, arriving late, are refused (fencing tokens) and counted, never
# settled twice. Both workers finish with exit 0, every book stored once.
. "$(dirname "$0")/shared_lib.sh"
N=5000
dump_books --books $N
# 30 ms a request: the crawl outlasts the 4 s stall.
start_site s --books $N --delay 30
start_redis
for i in 1 2; do
  start_worker w$i books --base "$SITE_s" --frontier "$FRONTIER" --store "sqlite:$T/books.db" \
    -c 8 --lease 1 --quiet
done
wait_for 30 "500 requests done" done_over 500
kill -STOP "$WPID_w1"
sleep 4
taken=$(counter reclaimed)
left=$(($(counter seen) - $(counter done) - $(counter failed)))
kill -CONT "$WPID_w1"
echo "after the stall: leases taken over $taken, requests left $left"
[ "$taken" -gt 0 ] || fail "no lease of the stalled worker was taken over in 4 s"
[ "$left" -gt 0 ] || fail "the crawl ended during the stall: too short to test"
for i in 1 2; do
  wait_worker w$i
  [ "$WRC" -eq 0 ] || fail "worker $i: exit $WRC: $(worker_says w$i 20)"
done
status
check_complete
[ "$(st failed)" = 0 ] || fail "failed $(st failed)"
[ "$(st "late answers refused")" -gt 0 ] || fail "no late answer was refused"
compare "sqlite:$T/books.db" || fail "sqlite store"
echo "ok: shared sigstop"
