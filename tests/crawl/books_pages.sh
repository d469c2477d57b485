#!/bin/sh
# --pages and --page-size narrow the crawl to exactly those list pages' books
# (in the site's order, which is the dump's), and the ETA's expected count
# says so; a range past the last page is clamped to it.
. "$(dirname "$0")/lib.sh"
dump_books --books 500
start_site s --books 500
expect_ids() { # FIRST_LINE LAST_LINE STORE_FILE
  sed -n "$1,$2p" "$T/truth.jsonl" | $PY -c "import json,sys; print('\n'.join(sorted(json.loads(l)['id'] for l in sys.stdin)))" >"$T/want"
  $PY -c "import json,sys; print('\n'.join(sorted(json.loads(l)['id'] for l in open(sys.argv[1]))))" "$3" >"$T/got"
  cmp -s "$T/want" "$T/got" || fail "books $1..$2: $(diff "$T/want" "$T/got" | head)"
}
"$ACRAWL" books --base "$SITE_s" --store "jsonl:$T/a.jsonl" --pages 2-3 --quiet --stats "$T/a.json" ||
  fail "exit $?"
expect_ids 19 54 "$T/a.jsonl"
[ "$(json_field "$T/a.json" expected)" = 38 ] || fail "expected $(json_field "$T/a.json" expected), not 2 pages + 36 books"
"$ACRAWL" books --base "$SITE_s" --store "jsonl:$T/b.jsonl" --page-size 50 --pages 9-20 --quiet ||
  fail "exit $?"
expect_ids 401 500 "$T/b.jsonl"
echo "ok: pages"
