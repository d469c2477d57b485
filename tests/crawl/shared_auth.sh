#!/bin/sh
# A Redis that asks for a password (requirepass): the right one in the
# frontier URI crawls; a wrong one is refused at once with exit 1 and a
# message that names AUTH, never the password itself (it would end up in
# logs).
. "$(dirname "$0")/shared_lib.sh"
N=300
dump_books --books $N
start_site s --books $N
start_redis --requirepass right-pw-4711
start_worker ok books --base "$SITE_s" --frontier "redis://:right-pw-4711@127.0.0.1:$REDIS_PORT" \
  --store "sqlite:$T/books.db" -c 8
wait_worker_within 60 ok
[ "$WRC" -eq 0 ] || fail "the right password: exit $WRC: $(tail -10 "$T/ok.out")"
compare "sqlite:$T/books.db" || fail "sqlite store"
start_worker bad books --base "$SITE_s" --frontier "redis://:wrong-pw-0815@127.0.0.1:$REDIS_PORT" \
  --crawl other --store "sqlite:$T/other.db" -c 8
wait_worker_within 10 bad
cat "$T/bad.out"
[ "$WRC" -eq 1 ] || fail "a wrong password: exit $WRC, expected 1"
grep -q AUTH "$T/bad.out" || fail "a wrong password: the message does not name AUTH"
if grep -q wrong-pw "$T/bad.out"; then fail "the message shows the password"; fi
# Refused before anything was crawled or written.
[ "$(rcli -a right-pw-4711 --no-auth-warning EXISTS 'acrawl:{other}:meta')" = 0 ] ||
  fail "a refused worker created its crawl"
# No password at all: as refused, as clear.
start_worker none books --base "$SITE_s" --frontier "$FRONTIER" --crawl other \
  --store "sqlite:$T/other.db" -c 8
wait_worker_within 10 none
cat "$T/none.out"
[ "$WRC" -eq 1 ] || fail "no password: exit $WRC, expected 1"
echo "ok: shared auth"
