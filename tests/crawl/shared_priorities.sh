#!/bin/sh
# Priorities hold across the workers of a shared crawl: the books spec gives
# a book (priority 1) precedence over a list page (0), and the listing
# planned from the first page's total puts every list page in the queue at
# once. Taken by priority, the workers read a list page only when no book
# is queued, so while the crawl runs the list pages read stay a few ahead of
# the books they listed (18 a page). Taken in order of arrival instead,
# every list page would be read before most books.
. "$(dirname "$0")/shared_lib.sh"
N=3600 # 200 list pages
dump_books --books $N
start_site s --books $N --delay 20
start_redis
for i in 1 2 3; do
  start_worker p$i books --base "$SITE_s" --frontier "$FRONTIER" --store "sqlite:$T/books.db" -c 4
done
lists() { site_stat "$SITE_s" requests list; }
books() { site_stat "$SITE_s" requests detail; }
# Sampled while the crawl runs: the lists read against the books read.
samples=0
worst=0
deadline=$(($(date +%s) + 60))
while [ "$(books)" -lt $((N - 400)) ]; do
  [ "$(date +%s)" -lt "$deadline" ] || fail "not done in 60 s"
  l=$(lists)
  b=$(books)
  if [ "$b" -ge 200 ]; then
    # What the books read need, plus what 3 workers may hold or prefetch
    # (4 in flight and 6 ready each) and the first pages asked for at the
    # start (as many as the seeder's consumers).
    ahead=$((l - b / 18))
    [ "$ahead" -gt "$worst" ] && worst=$ahead
    samples=$((samples + 1))
  fi
  sleep 0.1
done
echo "list pages ahead of the books they listed, at most: $worst (over $samples samples)"
[ "$samples" -ge 5 ] || fail "only $samples samples: the crawl was too fast to watch"
[ "$worst" -le 40 ] || fail "$worst list pages read ahead of their books: priorities did not hold"
for i in 1 2 3; do
  wait_worker p$i
  [ "$WRC" -eq 0 ] || fail "worker $i: exit $WRC: $(tail -10 "$T/p$i.out")"
done
compare "sqlite:$T/books.db" || fail "sqlite store"
echo "ok: shared priorities"
