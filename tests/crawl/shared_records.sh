#!/bin/sh
# Records that cannot be followed count for the whole shared crawl, not only
# for the worker that met them: against tests/crawl/spec_site.py (an API
# acrawl did not write) two workers crawl a spec whose pages hold a record
# without its id and a key that is a fraction. Each is a failure of a page
# that is done; --status counts both, and every worker exits 3, though each
# met at most its own share of them.
. "$(dirname "$0")/shared_lib.sh"
server_start spec_site file:"$T/site.port" $PY "$HERE/spec_site.py" "$T/site.port" t0k3n
SITE=http://127.0.0.1:$SERVER_PORT
# spec_site.py's spec (spec_site.json) with max_pages: a listing without
# a total needs it to be shared.
$PY - "$HERE/spec_site.json" "$T/spec.json" <<'PY'
import json, sys
spec = json.load(open(sys.argv[1]))
spec["resources"][0]["paginator"]["max_pages"] = 5
json.dump(spec, open(sys.argv[2], "w"), indent=1)
PY
start_redis
export SPEC_TEST_TOKEN=t0k3n
for i in 1 2; do
  start_worker r$i crawl "$T/spec.json" --base "$SITE/v1/" --frontier "$FRONTIER" \
    --store "sqlite:$T/odd.db" -c 2
done
for i in 1 2; do
  wait_worker r$i
  [ "$WRC" -eq 3 ] || fail "worker $i: exit $WRC, expected 3: $(worker_says r$i 20)"
done
status --crawl odd
check_complete
[ "$(st "records that could not be followed")" = 2 ] ||
  fail "records failed: $(st "records that could not be followed"), expected 2"
[ "$(st failed)" = 0 ] || fail "requests failed: $(st failed), expected 0"
rcli LRANGE "acrawl:{odd}:fr" 0 -1 > "$T/fr.txt"
grep -q 'has nothing at' "$T/fr.txt" || fail "the record without an id: $(cat "$T/fr.txt")"
grep -q 'a key that is not an integer' "$T/fr.txt" || fail "the fraction key: $(cat "$T/fr.txt")"
echo "ok: shared records"
