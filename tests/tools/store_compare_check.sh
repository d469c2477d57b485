#!/bin/sh
# The 9,040 books through acrawl's stores and back, judged by an independent
# reader (store_compare.py, Python's json and sqlite3): into SQLite and JSON
# Lines, each compared with the dump; then the checker itself is checked:
# respaced and re-escaped documents must pass (it compares values, not
# bytes), one with a BOM, a deleted row and a changed document must fail,
# --expect-missing must pass.
# usage: store_compare_check.sh AC_BOOKS_DUMP STORE_FILL STORE_COMPARE_PY
set -eu
dump_tool=$1 fill=$2 compare=$3
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$dump_tool" 9040 > "$dir/books.jsonl"

"$fill" "$dir/books.jsonl" "sqlite:$dir/books.db"
python3 "$compare" "$dir/books.jsonl" "sqlite:$dir/books.db"
"$fill" "$dir/books.jsonl" "jsonl:$dir/store.jsonl"
python3 "$compare" "$dir/books.jsonl" "jsonl:$dir/store.jsonl"
python3 "$compare" "$dir/books.jsonl" - < "$dir/store.jsonl"

# Documents stored as a server sent them, respaced and re-escaped (as
# acrawl site's --json-style and --json-escape send them): equal by value.
# One stored with a BOM is not JSON to a strict reader: reported.
cp "$dir/books.db" "$dir/shaped.db"
python3 - "$dir/shaped.db" <<'PY'
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
for n, (key, doc) in enumerate(db.execute("SELECT key, doc FROM items").fetchall()):
    d = json.loads(doc)
    # '/' only occurs inside strings: "\/" is the same character.
    text = [json.dumps(d, indent=2, ensure_ascii=True).replace("/", "\\/"),
            " \r\n\t" + json.dumps(d, separators=(", ", " : ")) + "\r\n",
            json.dumps(d, indent="\t", ensure_ascii=False)][n % 3]
    db.execute("UPDATE items SET doc = ? WHERE key = ?", (text, key))
db.commit()
PY
python3 "$compare" "$dir/books.jsonl" "sqlite:$dir/shaped.db"
python3 - "$dir/shaped.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("UPDATE items SET doc = char(65279) || doc WHERE rowid = 5")
db.commit()
PY
if python3 "$compare" "$dir/books.jsonl" "sqlite:$dir/shaped.db" > "$dir/out" 2>&1; then
  echo "store_compare passed a document stored with a BOM"; cat "$dir/out"; exit 1
fi
grep -q 'BOM' "$dir/out"

# A book gone from the store: a mismatch, unless it is expected missing.
gone=$(head -n 3 "$dir/books.jsonl" | tail -n 1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
python3 - "$dir/books.db" "$gone" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("DELETE FROM items WHERE key = ?", (sys.argv[2],))
db.execute("UPDATE items SET doc = json_set(doc, '$.score', 'x') WHERE rowid = 10")
db.commit()
PY
if python3 "$compare" "$dir/books.jsonl" "sqlite:$dir/books.db" > "$dir/out" 2>&1; then
  echo "store_compare passed a store with a book gone and one changed"; cat "$dir/out"; exit 1
fi
cat "$dir/out"
grep -q "1 missing from the store: $gone" "$dir/out"
grep -q '1 differ' "$dir/out"
grep -q 'score' "$dir/out"
python3 - "$dir/books.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("DELETE FROM items WHERE rowid = 10")
db.commit()
PY
gone10=$(python3 - "$dir/books.jsonl" "$dir/books.db" <<'PY'
import json, sqlite3, sys
have = {k for (k,) in sqlite3.connect(sys.argv[2]).execute("SELECT key FROM items")}
print(",".join(json.loads(l)["id"] for l in open(sys.argv[1]) if json.loads(l)["id"] not in have))
PY
)
python3 "$compare" --expect-missing "$gone10" "$dir/books.jsonl" "sqlite:$dir/books.db"
echo "store_compare_check: ok"
