#!/bin/sh
# --per-host and --rate hold for a shared crawl as a whole, not per worker:
# the host's slots and its next start time are leased in Redis. (1) Two
# workers with --rate 50 over about 300 requests: the replica sees at most 50
# a second (10% slack), not 100. (2) Three workers of 16 with --per-host 4,
# one killed and replaced mid-crawl (its slots come back only when their
# leases expire): the replica never has more than 4 requests in flight.
. "$(dirname "$0")/shared_lib.sh"
# (1) The first 16 list pages: 16 + 16 x 18 = 304 requests.
start_site r
start_redis
start=$(date +%s.%N)
for i in 1 2; do
  start_worker r$i books --base "$SITE_r" --frontier "$FRONTIER" --crawl rate --pages 1-16 \
    --store "sqlite:$T/rate.db" -c 16 --rate 50
done
for i in 1 2; do
  wait_worker_within 60 r$i
  [ "$WRC" -eq 0 ] || fail "rate worker $i: exit $WRC: $(tail -10 "$T/r$i.out")"
done
end=$(date +%s.%N)
# Less the /__stats request itself.
n=$(($(site_stat "$SITE_r" requests total) - 1))
$PY -c "import sys
n, t = int(sys.argv[1]), float(sys.argv[3]) - float(sys.argv[2])
print(f'--rate 50, two workers: {n} requests in {t:.2f} s: {n / t:.1f}/s')
sys.exit(0 if n >= 300 and n / t <= 55 else 1)" "$n" "$start" "$end" ||
  fail "the rate is not held for the crawl as a whole (or fewer than 300 requests)"
# Both workers crawled: the rate was shared, not one worker's alone.
for i in 1 2; do
  [ "$(pages_done r$i)" -gt 0 ] || fail "rate worker $i did no page"
done
# (2)
N=1000
dump_books --books $N
# 20 ms a request: four in flight at a time keep the crawl going ~5 s.
start_site s --books $N --delay 20
for i in 1 2 3; do
  start_worker h$i books --base "$SITE_s" --frontier "$FRONTIER" --store "sqlite:$T/books.db" \
    -c 16 --per-host 4 --lease 2 --quiet
done
wait_for 30 "200 requests done" done_over 200
kill -KILL "$WPID_h2"
wait_worker h2
[ "$WRC" -eq 137 ] || fail "worker 2 was to be killed, but exited $WRC"
start_worker h4 books --base "$SITE_s" --frontier "$FRONTIER" --store "sqlite:$T/books.db" \
  -c 16 --per-host 4 --lease 2 --quiet
for i in 1 3 4; do
  wait_worker_within 60 h$i
  [ "$WRC" -eq 0 ] || fail "worker h$i: exit $WRC: $(tail -10 "$T/h$i.out")"
done
status
check_complete
compare "sqlite:$T/books.db" || fail "sqlite store"
# Read once the crawl is over: the /__stats request itself is not in it.
max=$(site_stat "$SITE_s" in_flight max)
echo "--per-host 4: the replica's most requests in flight: $max"
[ "$max" -le 4 ] || fail "$max requests in flight at once with --per-host 4 across the crawl"
# Not vacuous: the workers did use the 4 slots at once.
[ "$max" -ge 3 ] || fail "at most $max in flight: the crawl never used its slots"
echo "ok: shared per-host and rate"
