#!/bin/sh
# The whole 9,040-book replica crawled into a store, compared value for value
# with the data set; a second crawl (not --resume) still leaves one document
# per book; a --resume of a complete crawl fetches nothing.
#   books_store.sh STORE_KIND [shapes]   (sqlite | jsonl | sqlite+jsonl)
# With `shapes`, the site lays out, escapes and labels its bodies in every way
# a real server may (pretty-printed, re-spaced, \u and \/ escapes, a BOM,
# JSON under any content type, HTML's included): none of that is a fault, so
# still every request once and every book equal to the data set.
. "$(dirname "$0")/lib.sh"
kind=$1
dump_books
if [ "${2:-}" = shapes ]; then
  start_site s --json-style any --json-escape any --pbom 0.05 --content-type any
else
  start_site s
fi
case $kind in
  sqlite) stores="--store sqlite:$T/books.db" ;;
  jsonl) stores="--store jsonl:$T/books.jsonl" ;;
  sqlite+jsonl) stores="--store sqlite:$T/books.db --store jsonl:$T/books.jsonl" ;;
  *) fail "unknown store kind $kind" ;;
esac
# shellcheck disable=SC2086
"$ACRAWL" books --base "$SITE_s" $stores --concurrency 32 --stats "$T/stats.json" \
  >"$T/out.txt" 2>&1 || fail "crawl exit $?: $(tail -20 "$T/out.txt")"
grep -q "books: complete" "$T/out.txt" || fail "no summary: $(cat "$T/out.txt")"
[ "$(json_field "$T/stats.json" items_stored)" = 9040 ] || fail "items_stored"
[ "$(json_field "$T/stats.json" requests)" = 9543 ] || fail "requests: $(json_field "$T/stats.json" requests)"
for s in $stores; do
  [ "$s" = --store ] && continue
  compare "$s" || fail "store $s differs from the data set"
done
# Every request once: 503 list pages and 9,040 details, nothing more.
[ "$(site_stat "$SITE_s" requests detail)" = 9040 ] || fail "details fetched: $(site_stat "$SITE_s" requests detail)"
[ "$(site_stat "$SITE_s" requests list)" = 503 ] || fail "lists fetched"

# --resume of a complete crawl: nothing to do, nothing fetched.
# shellcheck disable=SC2086
"$ACRAWL" books --base "$SITE_s" $stores --resume --quiet || fail "resume of a complete crawl: exit $?"
[ "$(site_stat "$SITE_s" requests detail)" = 9040 ] || fail "a complete crawl's resume fetched again"

# A new crawl (no --resume) fetches everything again and upserts.
if [ "$kind" = sqlite ]; then
  "$ACRAWL" books --base "$SITE_s" $stores --quiet --concurrency 16 || fail "re-crawl: exit $?"
  [ "$(sqlite3 "$T/books.db" 'select count(*), count(distinct key) from books')" = "9040|9040" ] ||
    fail "re-crawl left $(sqlite3 "$T/books.db" 'select count(*) from books') rows"
  compare "sqlite:$T/books.db" || fail "re-crawl differs"
fi
echo "ok: $kind"
