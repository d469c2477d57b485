#!/bin/sh
# acrawl books against a book API acrawl did not write (tests/crawl/odd_site.py,
# Python's http.server), sending what real servers legally or commonly send:
# odd ids, unusable records, a detail answering for another id, a count far
# past the data, 200 error pages and empty bodies, re-spaced and chunked
# bodies. Every book is stored exactly once, equal to what the site holds;
# what cannot be stored is reported, never dropped in silence.
. "$(dirname "$0")/lib.sh"

# odd MODE: starts odd_site.py MODE; sets ODD (its URL) and TRUTH.
odd() {
  server_start "odd_$1" file:"$T/$1.port" $PY "$HERE/odd_site.py" "$1" "$T/$1.port" "$T/$1.truth"
  ODD=http://127.0.0.1:$SERVER_PORT
  TRUTH=$T/$1.truth
}

# crawl EXPECTED_EXIT ARGS...: acrawl books into sqlite and jsonl under $T/$mode.
crawl() {
  want=$1
  shift
  set +e
  "$ACRAWL" books --base "$ODD" --store "sqlite:$T/$mode.db" --store "jsonl:$T/$mode.jsonl" \
    --concurrency 8 --stats "$T/$mode.stats" "$@" >"$T/$mode.out" 2>&1
  rc=$?
  set -e
  [ $rc -eq "$want" ] || fail "$mode: exit $rc, expected $want: $(tail -30 "$T/$mode.out")"
}

same() {
  for s in "sqlite:$T/$mode.db" "jsonl:$T/$mode.jsonl"; do
    $PY "$TOOLS/store_compare.py" "$TRUTH" "$s" --table books || fail "$mode: $s differs"
  done
}

# Ids are data: big integers keep their digits, dot segments and reserved
# characters are escaped; each unusable result is one reported failure:
# a value that makes no URL of its own is refused before any request, and
# the others (a fraction, a boolean, an id too long) are asked for and
# reported with the site's 404.
mode=ids
odd $mode
crawl 3 --retries 1
same
[ "$(json_field "$T/$mode.stats" failures)" = 9 ] || fail "ids: $(cat "$T/$mode.stats")"
for why in "null" "an object or an array" "an empty string" 'a string holding \\u0000' \
  "nothing"; do
  grep -q "record [0-9]* has $why at /id for {id} of book: it cannot be fetched" "$T/$mode.out" ||
    fail "ids: '$why' not reported: $(cat "$T/$mode.out")"
done
[ "$(grep -c 'api/book/[^?]*  HTTP 404' "$T/$mode.out")" = 4 ] ||
  fail "ids: the four ids the site does not know are not reported: $(cat "$T/$mode.out")"

# A detail that answers for another id is never stored under it.
mode=mismatch
odd $mode
crawl 3 --retries 1
[ "$(sqlite3 "$T/$mode.db" 'select count(*) from books')" = 0 ] || fail "mismatch: stored"
[ "$(json_field "$T/$mode.stats" failures)" = 5 ] || fail "mismatch: $(cat "$T/$mode.stats")"
grep -q 'book: record 1 has "same" at /id where "m0" was asked for: a mixed-up answer' "$T/$mode.out" ||
  fail "mismatch: not said: $(cat "$T/$mode.out")"

# A count of 10^12: the listing ends at the first empty page past the data
# (the transient empty page 2 does not end it), in a bounded number of requests.
mode=count
odd $mode
crawl 0
same
grep -q "planning at most" "$T/$mode.out" || fail "count: the cap is not said"
requests=$(json_field "$T/$mode.stats" requests)
[ "$requests" -lt 200 ] || fail "count: $requests requests for 45 books"

# 200 application/json with an HTML error page, then with an empty body: both
# retried, every book stored.
mode=transient
odd $mode
crawl 0 --retries 2
same
$PY -c "import json,sys; r=json.load(open(sys.argv[1]))['retries']; assert r['parse'] >= 2 * 48, r" \
  "$T/$mode.stats" || fail "transient: retries $(cat "$T/$mode.stats")"

# Pretty-printed, BOM, escaped, chunked: stored value for value, one JSON
# line each in the JSON Lines store.
mode=shapes
odd $mode
crawl 0
same
[ "$(wc -l <"$T/$mode.jsonl")" = 45 ] || fail "shapes: $(wc -l <"$T/$mode.jsonl") lines"
echo "ok: odd site"
