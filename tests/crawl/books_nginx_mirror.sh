#!/bin/sh
# The book site mirrored as files and served by nginx (a server acrawl did not
# write), every body pretty-printed as a Python or PHP backend would write it:
# newlines and indentation between tokens, \u escapes. Crawled into SQLite and
# JSON Lines at once: every book exactly once in each, equal to the data set,
# and each JSON Lines document on one line.
. "$(dirname "$0")/lib.sh"
server_need nginx "make test-deps"
dump_books
root=$T/www
mkdir -p "$root/list/18" "$root/api/book"
chmod 755 "$T" # nginx's workers may run as nobody
$PY - "$T/truth.jsonl" "$root" <<'PY'
import json, os, sys
books = [json.loads(line) for line in open(sys.argv[1])]
root = sys.argv[2]
for i in range(0, len(books), 18):
    page = {"count": len(books), "results": [{"id": b["id"], "name": b.get("name")} for b in books[i:i + 18]]}
    with open(os.path.join(root, "list", "18", str(i)), "w") as f:
        json.dump(page, f, indent=4, ensure_ascii=True)
for n, b in enumerate(books):
    with open(os.path.join(root, "api", "book", str(b["id"])), "w") as f:
        # Both spellings of a line break a server may write.
        f.write(json.dumps(b, indent=2, ensure_ascii=bool(n % 2)).replace("\n", "\r\n" if n % 3 == 0 else "\n") + "\n")
PY
nginx_start "$T" "$root" 1 1024 'location = /api/book/ { try_files /list/$arg_limit/$arg_offset =404; }'
ngx=$NGINX_URL
curl -sf -o /dev/null "$ngx/api/book/?limit=18&offset=0" || fail "nginx does not serve the mirror: $(cat "$T/nginx.log")"

"$ACRAWL" books --base "$ngx" --store "sqlite:$T/books.db" --store "jsonl:$T/books.jsonl" \
  --concurrency 32 >"$T/out.txt" 2>&1 || fail "crawl of the nginx mirror: exit $?: $(tail -20 "$T/out.txt")"
compare "sqlite:$T/books.db" || fail "sqlite store"
compare "jsonl:$T/books.jsonl" || fail "jsonl store"
[ "$(wc -l <"$T/books.jsonl")" -eq "$(wc -l <"$T/truth.jsonl")" ] || fail "not one line per book"
echo "ok: nginx mirror"
