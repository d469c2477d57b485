#!/bin/sh
# The end of a shared crawl: once --status says complete, every worker sees
# it too and exits (within 3 s: their idle polls are far shorter), with 0;
# a worker started after that has nothing to do and says so, exit 0 at once.
. "$(dirname "$0")/shared_lib.sh"
N=2000
dump_books --books $N
start_site s --books $N --delay 10
start_redis
for i in 1 2 3; do
  start_worker e$i books --base "$SITE_s" --frontier "$FRONTIER" --store "sqlite:$T/books.db" -c 8
done
now() { date +%s.%N; }
deadline=$(($(date +%s) + 60))
until try_status && [ "$(st state)" = complete ]; do
  [ "$(date +%s)" -lt "$deadline" ] || fail "not complete in 60 s: $(cat "$T/status.txt")"
done
# --status sampled the state at its end: the workers' 3 s start now.
complete_at=$(now)
cat "$T/status.txt"
check_complete
alive() {
  for i in 1 2 3; do
    eval "_server_alive \$WPID_e$i" && return 0
  done
  return 1
}
while alive; do
  $PY -c "import sys; sys.exit(float(sys.argv[2]) - float(sys.argv[1]) > 10)" "$complete_at" "$(now)" ||
    fail "a worker still runs 10 s after the crawl was complete"
  sleep 0.05
done
gone_at=$(now)
$PY -c "import sys
d = float(sys.argv[2]) - float(sys.argv[1])
print(f'the last worker exited {d:.2f} s after --status said complete')
sys.exit(d > 3)" "$complete_at" "$gone_at" || fail "the workers took more than 3 s to see the end"
for i in 1 2 3; do
  wait_worker e$i
  [ "$WRC" -eq 0 ] || fail "worker $i: exit $WRC: $(tail -10 "$T/e$i.out")"
done
compare "sqlite:$T/books.db" || fail "sqlite store"
# A latecomer: joins a complete crawl, fetches nothing.
before=$(site_stat "$SITE_s" requests total)
t0=$(now)
start_worker late books --base "$SITE_s" --frontier "$FRONTIER" --store "sqlite:$T/books.db" -c 8
wait_worker_within 10 late
[ "$WRC" -eq 0 ] || fail "a worker started after the end: exit $WRC: $(cat "$T/late.out")"
$PY -c "import sys
d = float(sys.argv[2]) - float(sys.argv[1])
print(f'a worker started after the end ran {d:.2f} s')
sys.exit(d > 3)" "$t0" "$(now)" || fail "a worker started after the end did not exit at once"
grep -q "the crawl books is complete already: nothing to do" "$T/late.out" ||
  fail "the latecomer does not say the crawl is complete already: $(cat "$T/late.out")"
# Only the two /__stats requests since: the latecomer fetched nothing.
[ "$(site_stat "$SITE_s" requests total)" -eq $((before + 1)) ] || fail "the latecomer fetched pages"
echo "ok: shared end"
