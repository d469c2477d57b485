#!/bin/sh
# Four workers of one crawl shared through Redis, against the replica with
# the books fault mix (as books_faults.sh), into one SQLite file: every book
# is stored exactly once and equal to the data set except the gone ids; the
# gone ids are the crawl's failures, so every worker exits 3 (a worker's exit
# status speaks for the whole crawl, not for its own share); --status says
# complete and its counts balance.
. "$(dirname "$0")/shared_lib.sh"
dump_books
start_site s --fail-first 1 --p429 0.02 --retry-after 1 --preset 0.01 --pshort 0.01 \
  --pbadjson 0.01 --phtml200 0.01 --pempty200 0.01 --gone 5 --fault-seed 7
start_redis
t0=$(date +%s)
for i in 1 2 3 4; do
  start_worker w$i books --base "$SITE_s" --frontier "$FRONTIER" --store "sqlite:$T/books.db" -c 16
done
for i in 1 2 3 4; do
  wait_worker w$i
  [ "$WRC" -eq 3 ] || fail "worker $i: exit $WRC, expected 3 (the gone ids failed): $(worker_says w$i 20)"
done
echo "4 workers: $(($(date +%s) - t0)) s"
status
check_complete
[ "$(st failed)" = 5 ] || fail "failed $(st failed), expected the 5 gone ids"
# The failures in Redis are the gone ids, each a 404 from the site itself.
ids=$(rcli HVALS "acrawl:{books}:f" | $PY -c "import json,sys
fs=[json.loads(l) for l in sys.stdin if l.strip()]
print(','.join(sorted(f['u'].rsplit('/',1)[1] for f in fs)))")
[ "$(echo "$ids" | tr , '\n' | grep -c .)" = 5 ] || fail "the failures do not name 5 ids: $ids"
for id in $(echo "$ids" | tr , ' '); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "$SITE_s/api/book/$id")" = 404 ] || fail "$id failed but is not gone"
done
# Every worker says where the whole crawl ended, and took a share of it:
# four processes crawled, not one while the others watched.
for i in 1 2 3 4; do
  grep -q "crawl books: complete" "$T/w$i.out" || fail "worker $i does not say the crawl is complete: $(worker_says w$i 5)"
  [ "$(pages_done w$i)" -gt 100 ] || fail "worker $i did $(pages_done w$i) pages"
done
compare "sqlite:$T/books.db" --expect-missing "$ids" || fail "sqlite store"
echo "ok: shared sqlite, 4 workers, missing $ids"
