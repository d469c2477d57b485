#!/bin/sh
# The replica with a mix of faults: every URL fails its first attempt
# (5xx), 2% 429 with Retry-After, 1% resets mid-body, 1% short bodies, 1%
# bad JSON, 1% HTML error pages and 1% empty bodies under 200 and a JSON
# label (as proxies and overloaded frameworks send), 5 ids gone. Every other
# book is stored exactly once and equal to the data set; the 5 are reported
# by id; the exit status says incomplete.
. "$(dirname "$0")/lib.sh"
dump_books
start_site s --fail-first 1 --p429 0.02 --retry-after 1 --preset 0.01 --pshort 0.01 \
  --pbadjson 0.01 --phtml200 0.01 --pempty200 0.01 --gone 5 --fault-seed 7
set +e
"$ACRAWL" books --base "$SITE_s" --store "sqlite:$T/books.db" --store "jsonl:$T/books.jsonl" \
  --concurrency 32 --stats "$T/stats.json" >"$T/out.txt" 2>&1
rc=$?
set -e
[ $rc -eq 3 ] || fail "exit $rc, expected 3 (incomplete): $(tail -20 "$T/out.txt")"
grep -q "books: incomplete" "$T/out.txt" || fail "summary does not say incomplete"
[ "$(json_field "$T/stats.json" failures)" = 5 ] || fail "failures: $(json_field "$T/stats.json" failures)"
# The failed URLs are the gone ids: each answers 404 from the site itself.
ids=$($PY -c "import json,sys
d=json.load(open(sys.argv[1]))
assert all(f['cause']=='4xx' and f['status']==404 for f in d['failed']), d['failed']
print(','.join(f['url'].rsplit('/',1)[1] for f in d['failed']))" "$T/stats.json")
for id in $(echo "$ids" | tr , ' '); do
  grep -q "$id" "$T/out.txt" || fail "summary does not name $id"
  [ "$(curl -s -o /dev/null -w '%{http_code}' "$SITE_s/api/book/$id")" = 404 ] || fail "$id is not gone"
done
# Every retry cause the site injected shows up.
$PY -c "import json,sys
r=json.load(open(sys.argv[1]))['retries']
for k in ('5xx','429','network','short','parse'):
    assert r[k] > 0, (k, r)" "$T/stats.json" || fail "retries by cause: $(cat "$T/stats.json")"
# The 200s that were not JSON were sent, and each was retried, not lost.
for k in html200 empty200 badjson; do
  [ "$(site_stat "$SITE_s" faults $k)" -gt 0 ] || fail "the site sent no $k"
done
compare "sqlite:$T/books.db" --expect-missing "$ids" || fail "sqlite store"
compare "jsonl:$T/books.jsonl" --expect-missing "$ids" || fail "jsonl store"
echo "ok: faults, missing $ids"
