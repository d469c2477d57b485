#!/bin/sh
# A spec whose resources store into two collections (tests/crawl/spec_site.py:
# items, and a note per item into "notes"): SQLite keeps a table each in the
# one file, JSON Lines a file each (PATH, and PATH with ".notes" before its
# extension), every item exactly once; a --resume after the run stores
# nothing twice (the notes' file read back by its own key, "key"); stores
# that can hold one collection only (jsonl:-, a MongoDB URI naming DB.COLL)
# are refused before any request.
. "$(dirname "$0")/lib.sh"
server_start spec_site file:"$T/site.port" $PY "$HERE/spec_site.py" "$T/site.port" t0k3n
SITE=http://127.0.0.1:$SERVER_PORT
export SPEC_TEST_TOKEN=t0k3n
# spec_site.py's spec (spec_site.json), its notes in a collection of their own.
$PY - "$HERE/spec_site.json" "$T/spec.json" <<'PY'
import json, sys
spec = json.load(open(sys.argv[1]))
spec["resources"][2]["collection"] = "notes"
json.dump(spec, open(sys.argv[2], "w"), indent=1)
PY
"$ACRAWL" crawl --check "$T/spec.json" >"$T/check.txt" 2>&1 || fail "--check: $(cat "$T/check.txt")"

# One stream, or one named MongoDB collection, cannot hold two collections:
# refused at start (exit 2), nothing asked of the site.
refused() { # WHAT GREP ARGS...
  what=$1 want=$2
  shift 2
  set +e
  "$ACRAWL" crawl "$T/spec.json" --base "$SITE/v1/" "$@" >"$T/refused.txt" 2>&1
  rc=$?
  set -e
  [ $rc -eq 2 ] || fail "$what: exit $rc, expected 2: $(cat "$T/refused.txt")"
  grep -q "$want" "$T/refused.txt" || fail "$what: $(cat "$T/refused.txt")"
}
refused "jsonl:-" "jsonl:- is one stream, and the items go to 2 collections (odd, notes)" \
  --store jsonl:-
refused "mongodb DB.COLL" "names the collection db.coll, and the items go to 2 collections" \
  --store "sqlite:$T/never.db" --store "mongodb://127.0.0.1:1/db.coll"
[ ! -e "$T/never.db" ] || fail "a refused run opened its stores"
curl -s "$SITE/__seen" > "$T/seen0.json"
[ "$(cat "$T/seen0.json")" = "{\"GET /__seen\": 1}" ] || fail "a refused run asked the site: $(cat "$T/seen0.json")"

set +e
"$ACRAWL" crawl "$T/spec.json" --base "$SITE/v1/" --store "sqlite:$T/odd.db" \
  --store "jsonl:$T/odd.jsonl" -c 4 --stats "$T/stats.json" >"$T/out.txt" 2>&1
rc=$?
set -e
# The record without an id and the fraction key fail, as with one collection.
[ $rc -eq 3 ] || fail "exit $rc, expected 3: $(cat "$T/out.txt")"
[ "$(json_field "$T/stats.json" failures)" = 2 ] || fail "failures: $(cat "$T/out.txt")"
[ -e "$T/odd.db.state" ] || fail "the state is not beside the first file store"

check() { # WHAT: each item in its collection, once
  $PY - "$T/odd.db" "$T/odd.jsonl" "$T/odd.notes.jsonl" "$T/stats.json" <<'PY' || fail "$1"
import json, sqlite3, sys
ids = ["1", "a/b?c%d e\u00e9", "9007199254740993", "..", "x+y=z"]
notes = {"note-" + i for i in ids + ["2.5"]}
db = sqlite3.connect(sys.argv[1])
rows = dict(db.execute("select key, doc from odd"))
assert set(rows) == set(ids), sorted(rows)
rows = dict(db.execute("select key, doc from notes"))
assert set(rows) == notes, sorted(rows)
assert json.loads(rows["note-.."]) == {"key": "note-..", "for": "..", "label": "note of .."}
items = [json.loads(l) for l in open(sys.argv[2])]
assert sorted(json.dumps(d["id"]) if not isinstance(d["id"], str) else d["id"]
              for d in items) == sorted(ids), items
assert all("key" not in d for d in items), items
got = [json.loads(l)["key"] for l in open(sys.argv[3])]
assert sorted(got) == sorted(notes), got
stats = json.load(open(sys.argv[4]))
colls = [(s["uri"].split(":")[0], s["collection"]) for s in stats["stores"]]
assert colls == [("sqlite", "odd"), ("sqlite", "notes"), ("jsonl", "odd"), ("jsonl", "notes")], colls
PY
}
check "after the run"

# Resumed: the failed pages are asked for again, and what they store was
# stored already: upserted (SQLite), skipped (JSON Lines, by each file's key).
set +e
"$ACRAWL" crawl "$T/spec.json" --base "$SITE/v1/" --store "sqlite:$T/odd.db" \
  --store "jsonl:$T/odd.jsonl" -c 4 --resume --stats "$T/stats.json" >"$T/resume.txt" 2>&1
rc=$?
set -e
[ $rc -eq 3 ] || fail "resume: exit $rc, expected 3: $(cat "$T/resume.txt")"
check "after --resume"
echo "ok: a spec's items in two collections, each once"
