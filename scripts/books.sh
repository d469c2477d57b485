#!/bin/sh
# The main job on the local replica: start `acrawl site` (the 9,040-book
# replica of the tutorial's site) on a free port, crawl every book into
# SQLite with `acrawl books` (live progress line, summary at the end), stop
# the site. `make books` runs it; extra arguments go to acrawl books:
#   scripts/books.sh [BUILD_DIR] [acrawl books options...]
#   make books BOOKS_ARGS="--store jsonl:books.jsonl --concurrency 32"
# The real site is https://spa5.scrape.center (not reachable from CI):
#   ./build/acrawl books --store sqlite:books.db
set -eu
build=${1:-build}
[ $# -gt 0 ] && shift
acrawl=$build/acrawl
[ -x "$acrawl" ] || { echo "books: $acrawl not built (run make)" >&2; exit 1; }
# The site in the background, stopped at exit (tests/lib/server.sh).
. "$(dirname "$0")/../tests/lib/server.sh"
server_start site file:"$SERVER_DIR/port" "$acrawl" site --port 0 --portfile "$SERVER_DIR/port"
base=http://127.0.0.1:$SERVER_PORT
echo "acrawl site: the book-site replica at $base"
[ $# -eq 0 ] && set -- --store sqlite:books.db --concurrency 64
echo "acrawl books --base $base $*"
set +e
"$acrawl" books --base "$base" "$@"
rc=$?
set -e
[ $rc -eq 0 ] && [ -f books.db ] && command -v sqlite3 >/dev/null 2>&1 &&
  echo "books.db: $(sqlite3 books.db 'select count(*) from books') books (sqlite3 books.db 'select doc from books limit 1')"
exit $rc
