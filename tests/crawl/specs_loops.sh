#!/bin/sh
# A cursor that comes back (the replica's --cursor-loop) is a loud failure,
# not an endless crawl: exit 3, the summary says the pagination loops, and
# the books listed before the loop are stored.
. "$(dirname "$0")/lib.sh"
SPECS=$HERE/../../specs
start_site s --cursor-loop 5
set +e
"$ACRAWL" crawl "$SPECS/books-cursor.json" --base "$SITE_s" --store "sqlite:$T/c.db" -c 8 \
  >"$T/out.txt" 2>&1
rc=$?
set -e
[ $rc -eq 3 ] || fail "exit $rc, expected 3: $(tail -20 "$T/out.txt")"
grep -q "repeats a page already read" "$T/out.txt" || fail "no word of the loop: $(tail -20 "$T/out.txt")"
n=$(sqlite3 "$T/c.db" 'select count(*) from books')
[ "$n" -eq $((6 * 18)) ] || fail "$n books stored, expected the 6 pages' $((6 * 18))"
echo "ok: a looping cursor stops the chain loudly"
