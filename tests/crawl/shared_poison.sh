#!/bin/sh
# A poison page: one detail URL kills every worker that is about to fetch it
# (the ACRAWL_TEST_KILL_ON hook: SIGKILL, as a page that crashes the
# process). A supervisor keeps two workers running, restarting each that
# dies. The page's lease (1 s) expires with each dead worker; once it has
# expired more than 3 times the request fails for good with that reason,
# rather than killing workers forever, and the crawl ends: exit 3, one
# failure, every other book stored.
. "$(dirname "$0")/shared_lib.sh"
N=1000
dump_books --books $N
# A book from the middle of the data set, its id not the start of another
# (the hook matches a substring of the URL).
id=$($PY -c "import json,sys
ids=[str(json.loads(l)['id']) for l in open(sys.argv[1])]
print(next(i for i in ids[len(ids)//2:] if not any(j != i and j.startswith(i) for j in ids)))" "$T/truth.jsonl")
start_site s --books $N
start_redis
export ACRAWL_TEST_KILL_ON="/api/book/$id"
echo "the poison page: /api/book/$id"
n=0
worker() { # SLOT
  n=$((n + 1))
  eval "slot$1=p$n"
  start_worker p$n books --base "$SITE_s" --frontier "$FRONTIER" --store "sqlite:$T/books.db" \
    -c 8 --lease 1
}
worker 1
worker 2
# The supervisor: a dead worker is replaced until one exits by itself.
kills=0
normal=
deadline=$(($(date +%s) + 60))
while [ -z "$normal" ]; do
  [ "$(date +%s)" -lt "$deadline" ] || fail "no worker exited by itself in 60 s ($kills killed)"
  for s in 1 2; do
    eval "w=\$slot$s"
    eval "p=\$WPID_$w"
    _server_alive "$p" && continue
    wait_worker "$w"
    if [ "$WRC" -eq 137 ]; then
      kills=$((kills + 1))
      worker $s
    else
      normal=$w
      break
    fi
  done
  sleep 0.1
done
for s in 1 2; do
  eval "w=\$slot$s"
  [ "$w" = "$normal" ] || wait_worker_within 30 "$w"
  eval "rc=\$WRC_$w"
  [ "$rc" -eq 3 ] || fail "worker $w: exit $rc, expected 3 (the poison page failed): $(tail -10 "$T/$w.out")"
done
echo "workers killed by the poison page: $kills"
# Each take of the page killed its worker: 4 takes, the 4th expiry fails it.
[ $kills -eq 4 ] || fail "$kills workers killed, expected 4"
status
check_complete
rcli HVALS "acrawl:{books}:f" >"$T/failures.txt"
cat "$T/failures.txt"
# Only the poison page: the requests its workers held beside it were not
# what killed them.
[ "$(st failed)" = 1 ] || fail "failed $(st failed), expected 1 (only /api/book/$id)"
# (Lua's cjson writes "\/" for "/": read as JSON.)
$PY -c "import json,sys
fs=[json.loads(l) for l in open(sys.argv[1]) if l.strip()]
f=[f for f in fs if f['u'].endswith('/api/book/'+sys.argv[2])]
assert f, 'no failure names the poison page'
assert 'its lease expired 4 times' in f[0]['why'], f[0]" "$T/failures.txt" "$id" ||
  fail "the failure of /api/book/$id"
compare "sqlite:$T/books.db" --expect-missing "$id" || fail "sqlite store"
echo "ok: shared poison, /api/book/$id failed after $kills kills"
