#!/bin/sh
# Four workers of one Redis-shared crawl into one MongoDB collection (the
# MongoDB-wire stand-in, or the server of ACRAWL_TEST_MONGODB_URI), against
# the replica with the books fault mix: exactly one document per book, each
# equal to the data set but for the gone ids (the crawl's failures: every
# worker exits 3), though several processes upsert into the collection at
# once and faults make some of them fetch and store a book again.
#   shared_mongo.sh MONGO_DIR MODULES_DIR
. "$(dirname "$0")/shared_lib.sh"
mongo_dir=$1
modules=$2
dump_books
if [ -n "${ACRAWL_TEST_MONGODB_URI:-}" ]; then
  base_uri=${ACRAWL_TEST_MONGODB_URI%/}
else
  sh "$mongo_dir/setup.sh" "$modules" || exit $?
  server_start mongo file:"$T/mongo.port" node "$mongo_dir/standin.mjs" \
    --modules "$modules/node_modules" --portfile "$T/mongo.port"
  base_uri=mongodb://127.0.0.1:$SERVER_PORT
fi
coll=shared_$$
start_site s --fail-first 1 --p429 0.02 --retry-after 1 --preset 0.01 --pshort 0.01 \
  --pbadjson 0.01 --phtml200 0.01 --pempty200 0.01 --gone 5 --fault-seed 7
start_redis
t0=$(date +%s)
for i in 1 2 3 4; do
  start_worker w$i books --base "$SITE_s" --frontier "$FRONTIER" --store "$base_uri/acrawl.$coll" -c 16
done
for i in 1 2 3 4; do
  wait_worker w$i
  [ "$WRC" -eq 3 ] || fail "worker $i: exit $WRC, expected 3 (the gone ids failed): $(worker_says w$i 20)"
  [ "$(pages_done w$i)" -gt 100 ] || fail "worker $i did $(pages_done w$i) pages"
done
echo "4 workers: $(($(date +%s) - t0)) s"
status
check_complete
[ "$(st failed)" = 5 ] || fail "failed $(st failed), expected the 5 gone ids"
# The truth without the gone ids (the failures in Redis name them).
rcli HVALS "acrawl:{books}:f" | $PY -c "import json,sys
gone={json.loads(l)['u'].rsplit('/',1)[1] for l in sys.stdin if l.strip()}
assert len(gone) == 5, gone
with open(sys.argv[1]) as f, open(sys.argv[2], 'w') as out:
    for line in f:
        if str(json.loads(line)['id']) not in gone: out.write(line)" "$T/truth.jsonl" "$T/kept.jsonl" ||
  fail "the failures do not name the 5 gone ids"
$PY "$TOOLS/mongo_dump.py" "$base_uri" acrawl $coll --expect "$T/kept.jsonl" --lossy-int64 ||
  fail "the collection differs from the data set"
echo "ok: shared mongo, 4 workers"
