# Shared by the crawl tests: a temp dir, `acrawl site` on a port it picks,
# and cleanup of everything started (the servers by tests/lib/server.sh).
# Source it with ACRAWL set to the binary.
set -eu
: "${ACRAWL:?ACRAWL must name the acrawl binary}"
PY=/usr/bin/python3
HERE=$(cd "$(dirname "$0")" && pwd)
TOOLS=$HERE/../tools
T=$(mktemp -d /tmp/ac_crawl_test.XXXXXX)
SERVER_DIR=$T
. "$HERE/../lib/server.sh"
# Background processes that are not servers (crawls, a lock holder): stopped
# at exit, before $T goes.
PIDS=""
server_on_exit 'rm -rf "$T"'
server_on_exit 'for p in $PIDS; do kill -TERM "$p" 2>/dev/null || true; done
  for p in $PIDS; do wait "$p" 2>/dev/null || true; done'

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# start_site NAME [acrawl site options...]: sets SITE_NAME=http://127.0.0.1:PORT
# (a site NAME already running is stopped first).
start_site() {
  name=$1
  shift
  server_start "site_$name" file:"$T/$name.port" "$ACRAWL" site --port 0 --portfile "$T/$name.port" "$@"
  eval "SITE_$name=http://127.0.0.1:$SERVER_PORT"
}

# The truth a crawl is compared with.
dump_books() { "$ACRAWL" site --dump "$T/truth.jsonl" "$@"; }

# stat_field URL KEY...: a number from the site's /__stats JSON.
site_stat() {
  url=$1
  shift
  curl -s "$url/__stats" | $PY -c "import json,sys; d=json.load(sys.stdin)
for k in sys.argv[1:]: d=d[k]
print(d)" "$@"
}

# json_field FILE KEY: a value from a JSON file (acrawl books --stats).
json_field() { $PY -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$1" "$2"; }

compare() { $PY "$TOOLS/store_compare.py" "$T/truth.jsonl" "$@" --table books; }
