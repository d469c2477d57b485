#!/bin/sh
# One pagination style of the replica crawled from its spec (specs/books-STYLE.json):
#  1. with the books fault mix (every URL fails once, 429s, resets, short,
#     bad JSON, HTML and empty 200s): every book exactly once;
#  2. on 9,000 books (a whole number of pages: the cursor, next and Link
#     chains end with an empty page, the open pages at one): every book;
#  3. killed (-9) mid-crawl on a slow site, then --resume: every book, and
#     the list pages done before the kill are not read again (at most the
#     pages in flight at the kill, plus the first page for its total).
# Usage: specs_styles.sh STYLE (pages, pages-open, cursor, next, linked, search)
. "$(dirname "$0")/lib.sh"
style=$1
route=$(echo "$style" | tr - _)
SPEC=$HERE/../../specs/books-$style.json
crawl() { "$ACRAWL" crawl "$SPEC" "$@"; }

dump_books
start_site f --fail-first 1 --p429 0.02 --retry-after 1 --preset 0.01 --pshort 0.01 \
  --pbadjson 0.01 --phtml200 0.01 --pempty200 0.01 --fault-seed 11
crawl --base "$SITE_f" --store "sqlite:$T/f.db" -c 32 --stats "$T/f.json" >"$T/f.txt" 2>&1 ||
  fail "faults: exit $?: $(tail -20 "$T/f.txt")"
compare "sqlite:$T/f.db" || fail "faults: store"
[ "$(site_stat "$SITE_f" requests "$route")" -gt 503 ] || fail "no list page was retried"

"$ACRAWL" site --dump "$T/truth.jsonl" --books 9000
start_site w --books 9000
crawl --base "$SITE_w" --store "sqlite:$T/w.db" -c 16 -q || fail "9000 books: exit $?"
compare "sqlite:$T/w.db" || fail "9000 books: store"

dump_books
start_site k --delay 20
# Not through crawl(): $! must be acrawl's own pid, not a subshell's.
"$ACRAWL" crawl "$SPEC" --base "$SITE_k" --store "sqlite:$T/k.db" -c 8 -q &
pid=$!
PIDS="$PIDS $pid"
# Killed once some list pages and books are done.
i=0
while [ "$(sqlite3 "$T/k.db" 'select count(*) from books' 2>/dev/null || echo 0)" -lt 400 ]; do
  i=$((i + 1))
  [ $i -lt 600 ] || fail "the crawl stored nothing in 60 s"
  sleep 0.1
done
kill -9 $pid
wait $pid 2>/dev/null || true
before=$(site_stat "$SITE_k" requests "$route")
crawl --base "$SITE_k" --store "sqlite:$T/k.db" -c 8 -q --resume || fail "resume: exit $?"
compare "sqlite:$T/k.db" || fail "resume: store"
after=$(site_stat "$SITE_k" requests "$route")
# Every list page at most once over both runs, but those in flight at the
# kill (8), the first page read again for its total, and the pages a
# planned listing asks for ahead of its answers (the lead: 2 x 8 + 8, and
# the 8 asked for before the total is known).
extra=$((after - 503))
[ "$extra" -le 50 ] || fail "resume read $((after - before)) list pages after $before: $extra over 503"
echo "ok: $style: faults, 9000 books, kill -9 and resume ($before + $((after - before)) list pages)"
