#!/bin/sh
# Workers of one Redis-shared crawl into one MongoDB collection (the
# MongoDB-wire stand-in, or the server of ACRAWL_TEST_MONGODB_URI): the whole
# replica, exactly one document per book, each equal to the data set, though
# several processes upsert into the collection at once.
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
start_site s
start_redis
t0=$(date +%s)
for i in 1 2 3; do
  start_worker w$i books --base "$SITE_s" --frontier "$FRONTIER" --store "$base_uri/acrawl.$coll" -c 16
done
for i in 1 2 3; do
  wait_worker w$i
  [ "$WRC" -eq 0 ] || fail "worker $i: exit $WRC: $(tail -20 "$T/w$i.out")"
  [ "$(pages_done w$i)" -gt 100 ] || fail "worker $i did $(pages_done w$i) pages"
done
echo "3 workers: $(($(date +%s) - t0)) s"
status
check_complete
[ "$(st failed)" = 0 ] || fail "failed $(st failed)"
$PY "$TOOLS/mongo_dump.py" "$base_uri" acrawl $coll --expect "$T/truth.jsonl" --lossy-int64 ||
  fail "the collection differs from the data set"
echo "ok: shared mongo, 3 workers"
