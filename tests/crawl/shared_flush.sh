#!/bin/sh
# The crawl's keys flushed from Redis mid-crawl (FLUSHALL: an operator, or
# eviction under maxmemory): a worker cannot tell what is done any more, so
# each stops with exit 4 and says the keys are gone; none may call the crawl
# complete, and none may bring part of it back into Redis.
. "$(dirname "$0")/shared_lib.sh"
N=3000
dump_books --books $N
start_site s --books $N --delay 20
start_redis
for i in 1 2 3; do
  start_worker w$i books --base "$SITE_s" --frontier "$FRONTIER" --store "sqlite:$T/books.db" -c 8
done
# One request in flight against a feeder that keeps a few more ready: this
# worker stops with requests leased and not yet begun in its hands.
start_worker w4 books --base "$SITE_s" --frontier "$FRONTIER" --store "sqlite:$T/books.db" -c 1
wait_for 30 "300 requests done" done_over 300
rcli FLUSHALL >/dev/null
for i in 1 2 3 4; do
  wait_worker_within 30 w$i
  [ "$WRC" -eq 4 ] || fail "worker $i: exit $WRC, expected 4: $(worker_says w$i)"
  grep -qF "the crawl's keys (acrawl:{books}:*) are gone from Redis: flushed, evicted or deleted while it ran" \
    "$T/w$i.out" || fail "worker $i does not say the keys are gone: $(worker_says w$i)"
  if grep -w complete "$T/w$i.out"; then fail "worker $i says complete"; fi
done
[ "$(rcli DBSIZE)" = 0 ] || fail "keys written after the flush: $(rcli KEYS '*' | head)"
echo "ok: shared flush"
