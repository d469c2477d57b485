#!/bin/sh
# The books spec (specs/books.json) against the replica sending every body
# shape (pretty, spaced, escaped, BOM): acrawl crawl stores what acrawl books
# stores, value for value, and both equal the data set. Then the books fault
# mix through the spec: exit 3, the 5 gone ids reported, the rest stored once.
. "$(dirname "$0")/lib.sh"
SPECS=$HERE/../../specs
dump_books
start_site s --json-style any --json-escape any --pbom 0.1 --fault-seed 3
"$ACRAWL" crawl "$SPECS/books.json" --base "$SITE_s" --store "sqlite:$T/spec.db" \
  --store "jsonl:$T/spec.jsonl" -c 32 -q || fail "acrawl crawl: exit $?"
"$ACRAWL" books --base "$SITE_s" --store "sqlite:$T/books.db" -c 32 -q || fail "acrawl books: exit $?"
compare "sqlite:$T/spec.db" || fail "spec sqlite store"
compare "jsonl:$T/spec.jsonl" || fail "spec jsonl store"
# Value for value: the same keys, each document equal once parsed (a
# pretty body's surrounding blanks are not part of its value).
$PY -c "import json,sqlite3,sys
def load(p): return {k: json.loads(d) for k, d in sqlite3.connect(p).execute('select key, doc from books')}
a, b = load(sys.argv[1]), load(sys.argv[2])
assert a.keys() == b.keys(), (len(a), len(b))
bad = [k for k in a if a[k] != b[k]]
assert not bad, bad[:5]" "$T/spec.db" "$T/books.db" || fail "acrawl crawl and acrawl books stored different values"

start_site f --fail-first 1 --p429 0.02 --retry-after 1 --preset 0.01 --pshort 0.01 \
  --pbadjson 0.01 --phtml200 0.01 --pempty200 0.01 --gone 5 --fault-seed 7
set +e
"$ACRAWL" crawl "$SPECS/books.json" --base "$SITE_f" --store "sqlite:$T/f.db" -c 32 \
  --stats "$T/stats.json" >"$T/out.txt" 2>&1
rc=$?
set -e
[ $rc -eq 3 ] || fail "exit $rc, expected 3 (incomplete): $(tail -20 "$T/out.txt")"
[ "$(json_field "$T/stats.json" failures)" = 5 ] || fail "failures: $(json_field "$T/stats.json" failures)"
ids=$($PY -c "import json,sys
d=json.load(open(sys.argv[1]))
assert all(f['cause']=='4xx' and f['status']==404 for f in d['failed']), d['failed']
print(','.join(f['url'].rsplit('/',1)[1] for f in d['failed']))" "$T/stats.json")
$PY -c "import json,sys
r=json.load(open(sys.argv[1]))['retries']
for k in ('5xx','429','network','short','parse'):
    assert r[k] > 0, (k, r)" "$T/stats.json" || fail "retries by cause: $(cat "$T/stats.json")"
compare "sqlite:$T/f.db" --expect-missing "$ids" || fail "faults: sqlite store"
echo "ok: the books spec stores what acrawl books does; faults: missing $ids"
