#!/bin/sh
# Workers killed with SIGKILL mid-crawl, again and again, each replaced by a
# new one: what a dead worker held is taken over once its lease (2 s here)
# expires, so the crawl completes with every book stored exactly once, and
# the fetches wasted are bounded by what the dead could hold: each worker
# holds at most c requests in flight plus the few taken ahead for its ready
# heap (c/2 + 4), plus a batch of outcomes not yet sent (8 more, generous).
. "$(dirname "$0")/shared_lib.sh"
N=3000
C=8
KILLS=8
dump_books --books $N
# 50 ms a request: with three workers of 8 the crawl lasts several seconds,
# long enough for every kill to land mid-crawl.
start_site s --books $N --delay 50
start_redis
worker() { # SLOT: a worker in that slot (1..3), its name in the slot's variable
  n=$((n + 1))
  eval "slot$1=k$n"
  start_worker k$n books --base "$SITE_s" --frontier "$FRONTIER" --store "sqlite:$T/books.db" \
    -c $C --lease 2 --quiet
}
n=0
for s in 1 2 3; do worker $s; done
wait_for 20 "the crawl to start" done_over 50
kills=0
while [ $kills -lt $KILLS ]; do
  sleep 0.7
  [ "$(rcli HGET 'acrawl:{books}:meta' state)" != complete ] || break
  s=$(shuf -i 1-3 -n 1)
  eval "victim=\$slot$s"
  eval "kill -KILL \$WPID_$victim"
  wait_worker "$victim"
  [ "$WRC" -eq 137 ] || fail "worker $victim was to be killed, but exited $WRC: $(tail -5 "$T/$victim.out")"
  kills=$((kills + 1))
  worker "$s"
done
[ $kills -ge 6 ] || fail "the crawl ended after $kills kills: too short to test"
for s in 1 2 3; do
  eval "w=\$slot$s"
  wait_worker "$w"
  [ "$WRC" -eq 0 ] || fail "worker $w (a survivor): exit $WRC: $(tail -20 "$T/$w.out")"
done
status
check_complete
[ "$(st failed)" = 0 ] || fail "failed $(st failed)"
[ "$(st "leases taken over")" -gt 0 ] || fail "no lease was taken over after $kills kills"
compare "sqlite:$T/books.db" || fail "sqlite store"
# Every request the site answered, less the /__stats one(s), against what
# the crawl counts as fetched: the difference is what the dead fetched and
# never settled, or settled late.
total=$(($(site_stat "$SITE_s" requests total) - $(site_stat "$SITE_s" requests stats)))
settled=$(($(st done) + $(st failed) + $(st retries)))
extra=$((total - settled))
bound=$((kills * (C + C / 2 + 4 + 8)))
echo "kills $kills, site requests $total, done+failed+retries $settled, extra fetches $extra (bound $bound)"
[ $extra -ge 0 ] || fail "the site answered $total requests, fewer than the $settled settled"
[ $extra -le $bound ] || fail "$extra extra fetches for $kills kills, more than $bound"
echo "ok: shared kill, $kills workers killed"
