#!/bin/sh
# The main job into MongoDB: the whole replica crawled into the MongoDB-wire
# stand-in (or the server of ACRAWL_TEST_MONGODB_URI), compared value for
# value by pymongo; a re-crawl still leaves one document per book; a MongoDB
# that is down at start is a clear error; and a server killed and restarted
# mid-crawl: the crawl slows, then finishes once it is back, every batch
# written after the restart, none dropped or doubled.
#   books_mongo.sh MONGO_DIR MODULES_DIR
. "$(dirname "$0")/lib.sh"
mongo_dir=$1
modules=$2
N=3000
dump_books --books $N

start_mongo() { # [--port N]
  server_start mongo file:"$T/mongo.port" node "$mongo_dir/standin.mjs" \
    --modules "$modules/node_modules" --portfile "$T/mongo.port" "$@"
  MONGO_PORT=$SERVER_PORT
}

check() { # URI DB COLL: the collection equals the truth
  $PY "$TOOLS/mongo_dump.py" "$1" "$2" "$3" --expect "$T/truth.jsonl" --lossy-int64 ||
    fail "collection $2.$3 differs from the data set"
}

# MongoDB down at start: said at once, exit 1.
port=$(server_free_port)
set +e
"$ACRAWL" books --base http://127.0.0.1:1 --store "mongodb://127.0.0.1:$port/acrawl.books" \
  --quiet >"$T/down.txt" 2>&1
rc=$?
set -e
[ $rc -eq 1 ] || fail "MongoDB down at start: exit $rc"
grep -q "unreachable" "$T/down.txt" || fail "no clear error: $(cat "$T/down.txt")"

# The MongoDB store is a module (acrawl-mongo.so) loaded at the first
# mongodb:// store: a run without one never maps libmongoc, whose load-time
# init cost every start about 4 ms and left /dev/shm/mongoc-PID behind every
# killed process. LD_DEBUG=files: glibc's loader names each object it maps.
set +e
LD_DEBUG=files "$ACRAWL" books --base http://127.0.0.1:1 --store "jsonl:$T/none.jsonl" \
  --quiet >"$T/ld_plain.txt" 2>&1
LD_DEBUG=files "$ACRAWL" books --base http://127.0.0.1:1 \
  --store "mongodb://127.0.0.1:$port/acrawl.books" --quiet >"$T/ld_mongo.txt" 2>&1
set -e
grep -q "file=libuv" "$T/ld_plain.txt" || fail "LD_DEBUG=files printed no loads: $(head -3 "$T/ld_plain.txt")"
if grep -q "file=libmongoc" "$T/ld_plain.txt"; then fail "libmongoc mapped by a run without a MongoDB store"; fi
grep -q "file=.*acrawl-mongo.so" "$T/ld_mongo.txt" || fail "the MongoDB module was not loaded for a mongodb:// store"
grep -q "file=libmongoc" "$T/ld_mongo.txt" || fail "libmongoc not loaded for a mongodb:// store"

# No module where it is looked for, or a file that is not one: a clear error, exit 1.
mkdir -p "$T/nomod" "$T/badmod"
: > "$T/badmod/acrawl-mongo.so"
for dir in nomod badmod; do
  set +e
  ACRAWL_MODULE_DIR="$T/$dir" "$ACRAWL" books --base http://127.0.0.1:1 \
    --store "mongodb://127.0.0.1:$port/acrawl.books" --quiet >"$T/$dir.txt" 2>&1
  rc=$?
  set -e
  [ $rc -eq 1 ] || fail "module in $dir: exit $rc"
done
grep -q "needs its module acrawl-mongo.so, which is not in ACRAWL_MODULE_DIR ($T/nomod)" "$T/nomod.txt" ||
  fail "no clear error for a missing module: $(cat "$T/nomod.txt")"
grep -q "cannot load the MongoDB module: $T/badmod/acrawl-mongo.so" "$T/badmod.txt" ||
  fail "no clear error for a broken module: $(cat "$T/badmod.txt")"

if [ -n "${ACRAWL_TEST_MONGODB_URI:-}" ]; then
  base_uri=${ACRAWL_TEST_MONGODB_URI%/}
  restart=0
else
  sh "$mongo_dir/setup.sh" "$modules" || exit $?
  start_mongo
  base_uri=mongodb://127.0.0.1:$MONGO_PORT
  restart=1
fi
coll=books_$$
start_site s --books $N
"$ACRAWL" books --base "$SITE_s" --store "$base_uri/acrawl.$coll" --concurrency 32 --quiet ||
  fail "crawl into MongoDB: exit $?"
check "$base_uri" acrawl $coll
# In the background for its pid: libmongoc's counters file of that process
# (/dev/shm/mongoc-PID) must be gone once it exits, or every run leaves one.
"$ACRAWL" books --base "$SITE_s" --store "$base_uri/acrawl.$coll" --concurrency 32 --quiet &
crawl_pid=$!
wait $crawl_pid || fail "re-crawl into MongoDB: exit $?"
check "$base_uri" acrawl $coll
[ ! -e "/dev/shm/mongoc-$crawl_pid" ] || fail "/dev/shm/mongoc-$crawl_pid left behind"

# The replica laying out, escaping and labelling its bodies in every way a
# real server may, into the three stores at once: every book once in each.
start_site shapes --books $N --json-style any --json-escape any --pbom 0.05 --content-type any
"$ACRAWL" books --base "$SITE_shapes" --store "sqlite:$T/shapes.db" --store "jsonl:$T/shapes.jsonl" \
  --store "$base_uri/acrawl.shapes_$$" --concurrency 32 --quiet || fail "shapes into three stores: exit $?"
check "$base_uri" acrawl shapes_$$
compare "sqlite:$T/shapes.db" || fail "shapes: the sqlite store"
compare "jsonl:$T/shapes.jsonl" || fail "shapes: the jsonl store"

# One store refuses an item the others keep (BSON keys cannot hold NUL): the
# failure names that store and says the others kept it; --resume fetches
# exactly that page again (and the first list page, for the count).
server_start odd file:"$T/nulkey.port" $PY "$HERE/odd_site.py" nulkey "$T/nulkey.port" "$T/nulkey.truth"
odd=http://127.0.0.1:$SERVER_PORT
for run in first resume; do
  set +e
  "$ACRAWL" books --base "$odd" --store "sqlite:$T/nulkey.db" --store "$base_uri/acrawl.nulkey_$$" \
    $([ $run = resume ] && echo --resume) >"$T/nulkey.txt" 2>&1
  rc=$?
  set -e
  [ $rc -eq 3 ] || fail "a refused item ($run): exit $rc: $(tail -5 "$T/nulkey.txt")"
  grep -q "api/book/k3  the store $base_uri/acrawl.nulkey_$$ refused an item of this page: .*NUL.*(the other stores kept it)" \
    "$T/nulkey.txt" || fail "the refusal is not said ($run): $(tail -5 "$T/nulkey.txt")"
done
$PY "$TOOLS/store_compare.py" "$T/nulkey.truth" "sqlite:$T/nulkey.db" --table books ||
  fail "the store that kept the item"
curl -s "$odd/__seen" | $PY -c "import json,sys
seen = json.load(sys.stdin)
details = {p: n for p, n in seen.items() if '?' not in p}
again = sorted(p for p, n in details.items() if n > 1)
assert len(details) == 45 and again == ['/api/book/k3'], (len(details), again)" ||
  fail "--resume did not fetch exactly the refused page again"

[ $restart -eq 1 ] || { echo "ok: mongo (no restart test against a real server)"; exit 0; }

# Killed and restarted mid-crawl (on the same port, empty: the stand-in
# keeps nothing). Requests take 30 ms, so the crawl runs for a few seconds.
start_site d --books $N --delay 30
"$ACRAWL" books --base "$SITE_d" --store "$base_uri/acrawl.restart" --store "jsonl:$T/all.jsonl" \
  --concurrency 32 --stats "$T/restart.json" >"$T/restart.txt" 2>&1 &
crawl=$!
PIDS="$PIDS $crawl"
sleep 1
server_stop mongo KILL
sleep 2
start_mongo --port "$MONGO_PORT"
set +e
wait $crawl
rc=$?
set -e
[ $rc -eq 0 ] || fail "crawl across a MongoDB restart: exit $rc: $(tail -20 "$T/restart.txt")"
[ "$(wc -l <"$T/all.jsonl")" -eq $N ] || fail "the JSON Lines store beside it is incomplete"
# What reached the restarted server: every book not acknowledged before the
# kill, each exactly once and equal to the data set (mongo_dump.py checks
# the collection against the truth's lines for the ids it holds).
$PY - "$base_uri" "$T/truth.jsonl" "$T/sub.jsonl" <<'PYEOF' || fail "nothing written after the restart"
import json, sys, pymongo
uri, truth, sub = sys.argv[1:4]
ids = {d["id"] for d in pymongo.MongoClient(uri).acrawl.restart.find({}, {"id": 1})}
with open(sub, "w") as out:
    for line in open(truth):
        if json.loads(line)["id"] in ids:
            out.write(line)
print(f"after the restart: {len(ids)} books")
sys.exit(0 if ids else 1)
PYEOF
$PY "$TOOLS/mongo_dump.py" "$base_uri" acrawl restart --expect "$T/sub.jsonl" --lossy-int64 ||
  fail "after the restart: a book doubled or unequal"
grep -q '"retries"' "$T/restart.json" || fail "no stats"
echo "ok: mongo"
