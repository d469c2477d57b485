#!/bin/sh
# A spec against an API acrawl did not write (tests/crawl/spec_site.py,
# Python's http.server): a token from the environment, page numbers without
# totals ending at a short page, ids that must be escaped whole in a path
# ('/', '?', '%', ' ', '+', '=', non-ASCII, ".."), an integer past 2^53 that
# must keep its digits (as a key, and as a JSON body's value), a POST per
# record with a JSON body, three levels of resources, a record without its
# id and a key that is a fraction: each a reported failure, the rest stored.
. "$(dirname "$0")/lib.sh"
server_start spec_site file:"$T/site.port" $PY "$HERE/spec_site.py" "$T/site.port" t0k3n
SITE=http://127.0.0.1:$SERVER_PORT
cp "$HERE/spec_site.json" "$T/spec.json"
# The token is not in the spec: without it in the environment, a clear
# error before any request.
set +e
env -u SPEC_TEST_TOKEN "$ACRAWL" crawl "$T/spec.json" --base "$SITE/v1/" >"$T/noenv.txt" 2>&1
rc=$?
set -e
[ $rc -eq 2 ] || fail "without the token: exit $rc: $(cat "$T/noenv.txt")"
grep -q 'headers/Authorization: the environment variable SPEC_TEST_TOKEN is not set' "$T/noenv.txt" ||
  fail "without the token: $(cat "$T/noenv.txt")"

set +e
SPEC_TEST_TOKEN=t0k3n "$ACRAWL" crawl "$T/spec.json" --base "$SITE/v1/" --store "sqlite:$T/odd.db" \
  --store "jsonl:$T/odd.jsonl" -c 4 --stats "$T/stats.json" >"$T/out.txt" 2>&1
rc=$?
set -e
[ $rc -eq 3 ] || fail "exit $rc, expected 3: $(cat "$T/out.txt")"
[ "$(json_field "$T/stats.json" failures)" = 2 ] || fail "failures: $(cat "$T/out.txt")"
grep -q "record 3 has nothing at /id for {id} of item: it cannot be fetched" "$T/out.txt" ||
  fail "the record without an id is not reported: $(cat "$T/out.txt")"
grep -q "record 1 has a key that is not an integer at /id: it cannot be stored" "$T/out.txt" ||
  fail "the fraction key is not reported: $(cat "$T/out.txt")"
curl -s "$SITE/__seen" > "$T/seen.json"
$PY - "$T/seen.json" "$T/odd.db" "$T/odd.jsonl" <<'PY' || fail "what was asked or stored"
import json, sqlite3, sys
seen = json.load(open(sys.argv[1]))
# Each id encoded whole in the path, asked for once.
for path in ("/v1/items/1", "/v1/items/a%2Fb%3Fc%25d%20e%C3%A9", "/v1/items/9007199254740993",
             "/v1/items/%2E%2E", "/v1/items/2.5", "/v1/items/x%2By%3Dz"):
    assert seen.get("GET " + path) == 1, (path, seen)
for page in (1, 2, 3):
    assert seen.get("GET /v1/items?page=%d" % page) == 1, (page, seen)
# Page 3 is short: the end. Pages past it are only those asked for before
# its answer came (the first pages and the producer's lead: 4 + 2 x 4 + 8).
pages = [k for k in seen if k.startswith("GET /v1/items?page=")]
assert all(seen[k] == 1 for k in pages) and len(pages) <= 4 + 2 * 4 + 8 + 3, pages
# The POST bodies keep each value's JSON type and digits.
posts = [k for k in seen if k.startswith("POST ")]
assert len(posts) == 6, posts
assert 'POST /v1/notes {"for":9007199254740993,"label":"note of 9007199254740993"}' in posts, posts
ids = ["1", "a/b?c%d e\u00e9", "9007199254740993", "..", "x+y=z"]
want = set(ids) | {"note-" + i for i in ids + ["2.5"]}
db = dict(sqlite3.connect(sys.argv[2]).execute("select key, doc from odd"))
assert set(db) == want, sorted(db)
assert json.loads(db["9007199254740993"])["id"] == 9007199254740993
assert json.loads(db["note-.."]) == {"key": "note-..", "for": "..", "label": "note of .."}
lines = [json.loads(l) for l in open(sys.argv[3])]
assert len(lines) == len(want), len(lines)
PY
echo "ok: a spec against an API acrawl did not write"
