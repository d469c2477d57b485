#!/bin/sh
# A shared crawl's requests that failed for good are fetched again by a
# worker started with --retry-failed, as a one-process --resume fetches its
# failed pages again. The replica fails every book API URL's first 2 tries
# and the workers retry once, so each run gets one level further: the first
# C list pages the start asks for (C the concurrency) fail; then they list,
# and the other list pages and their books fail; then those list, and only
# their books fail; then every book is in. After every run the counts
# balance; a worker started without the option on the complete crawl
# changes nothing.
. "$(dirname "$0")/shared_lib.sh"
N=100
SIZE=18
C=4
PAGES=$(((N + SIZE - 1) / SIZE))
dump_books --books $N
start_site s --books $N --fail-first 2
start_redis
W="books --base $SITE_s --frontier $FRONTIER --store sqlite:$T/books.db --retries 1 -c $C"
# run NAME EXIT FAILED [OPTIONS]: a worker, its exit status, then the crawl
# complete with FAILED requests failed for good.
run() {
  # shellcheck disable=SC2086 # W is split on purpose: no spaces in it
  start_worker "$1" $W ${4:-}
  wait_worker_within 60 "$1"
  [ "$WRC" -eq "$2" ] || fail "worker $1: exit $WRC, expected $2: $(worker_says "$1")"
  status
  check_complete
  [ "$(st failed)" = "$3" ] || fail "after $1: failed $(st failed), expected $3"
  f=$(rcli HLEN "acrawl:{books}:f")
  [ "$f" = "$3" ] || fail "after $1: Redis holds $f failures, expected $3"
}
# Nothing fetched: exit 1, as one process says "nothing could be crawled";
# a worker that finds the crawl complete with failures: 3.
run first 1 $C
run again 3 $C
grep -q "is complete already" "$T/again.out" || fail "the crawl was not complete: $(worker_says again)"
[ "$(st done)" = 0 ] || fail "done $(st done) after the first list pages failed"
run second 3 $((PAGES - C + C * SIZE)) --retry-failed
grep -q "redis: $C failed requests back in the queue" "$T/second.out" ||
  fail "the worker does not say what it put back: $(worker_says second)"
# This worker did not run the start: the first page's producer follows the
# listing from its second page, and the start's other pages are dropped as
# seen, counted for the whole crawl.
[ "$(st "duplicates dropped")" = $((C - 1)) ] ||
  fail "duplicates dropped $(st "duplicates dropped"), expected $((C - 1))"
run third 3 $((N - C * SIZE)) --retry-failed
run fourth 0 0 --retry-failed
[ "$(st done)" = $((PAGES + N)) ] || fail "done $(st done), expected $((PAGES + N)) pages and books"
compare "sqlite:$T/books.db" || fail "sqlite store"
# Nothing left to put back: the crawl stays complete, the worker exits 0.
run fifth 0 0 --retry-failed
grep -q "redis: 0 failed requests back in the queue" "$T/fifth.out" ||
  fail "the worker does not say it put nothing back: $(worker_says fifth)"
grep -q "is complete already" "$T/fifth.out" || fail "the crawl was not complete: $(worker_says fifth)"
echo "ok: shared retry failed"
