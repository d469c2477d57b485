#!/bin/sh
# Options that make no sense for a shared crawl, or only for one, are bad
# usage (exit 2, said before anything starts); a spec a shared crawl cannot
# split among workers (its root listing has neither a total nor max_pages,
# so its pages can only be found one after another) is refused by name.
. "$(dirname "$0")/shared_lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
start_redis
# usage EXPECTED_WORDS ARGS...: exit 2 and a message with EXPECTED_WORDS.
usage() {
  want=$1
  shift
  set +e
  "$ACRAWL" "$@" >"$T/usage.out" 2>&1
  rc=$?
  set -e
  [ $rc -eq 2 ] || fail "acrawl $*: exit $rc, expected 2: $(cat "$T/usage.out")"
  grep -q -- "$want" "$T/usage.out" || fail "acrawl $*: no '$want' in: $(cat "$T/usage.out")"
}
F=$FRONTIER
usage "--state: a shared crawl is kept in Redis" books --frontier "$F" --state "$T/x.state" --store "sqlite:$T/x.db"
usage "--resume: a shared crawl is kept in Redis" books --frontier "$F" --resume --store "sqlite:$T/x.db"
usage "--crawl needs --frontier" books --crawl x --store "sqlite:$T/x.db"
usage "--lease needs --frontier" books --lease 5 --store "sqlite:$T/x.db"
usage "--status needs --frontier" books --status
usage "--retry-failed needs --frontier" books --retry-failed --store "sqlite:$T/x.db"
usage "--retry-failed with --status" books --frontier "$F" --retry-failed --status
usage "a redis:// URI is expected" books --frontier "http://127.0.0.1:$REDIS_PORT" --store "sqlite:$T/x.db"
usage "--state: a shared crawl" crawl "$here/../../specs/books.json" --frontier "$F" --state "$T/x.state"
usage "--crawl needs --frontier" crawl "$here/../../specs/books.json" --crawl x
# None of these touched Redis.
[ "$(rcli DBSIZE)" = 0 ] || fail "a refused command wrote to Redis: $(rcli KEYS '*')"
start_site s --books 100
# Twice: the refused crawl must not be left in Redis as complete, or the
# next worker started on it would exit 0 having crawled nothing.
for run in first second; do
  set +e
  "$ACRAWL" crawl "$here/../../specs/books-pages-open.json" --base "$SITE_s" --frontier "$F" \
    --store "sqlite:$T/open.db" >"$T/open.out" 2>&1
  rc=$?
  set -e
  cat "$T/open.out"
  [ $rc -ne 0 ] || fail "a root listing with no total and no max_pages ($run worker): exit 0"
  grep -q "max_pages" "$T/open.out" || fail "the refusal does not name max_pages ($run worker)"
  grep -qi "total" "$T/open.out" || fail "the refusal does not name the total ($run worker)"
done
# expect RC NAME ARGS...: acrawl ARGS... exits RC; its output in $T/NAME.out.
expect() {
  want=$1
  name=$2
  shift 2
  set +e
  "$ACRAWL" "$@" >"$T/$name.out" 2>&1
  rc=$?
  set -e
  [ $rc -eq "$want" ] || fail "acrawl $*: exit $rc, expected $want: $(tail -5 "$T/$name.out")"
}
# Workers of one crawl crawl one thing. A worker whose --pages differ from
# the seeder's is refused at start, with the reason, and adds nothing.
W="--base $SITE_s --frontier $F" # no spaces in either: split on purpose
B=$here/../../specs/books.json
expect 0 pages12 books $W --crawl pages --pages 1-2 --store "sqlite:$T/p.db"
seen=$(counter seen pages)
expect 1 pages13 books $W --crawl pages --pages 1-3 --store "sqlite:$T/p.db"
grep -q "was started with another spec" "$T/pages13.out" ||
  fail "no reason given: $(cat "$T/pages13.out")"
[ "$(counter seen pages)" = "$seen" ] || fail "the refused worker added requests"
expect 0 pages12b books $W --crawl pages --pages 1-2 --store "sqlite:$T/p.db"
grep -q "is complete already" "$T/pages12b.out" ||
  fail "the same pages did not join: $(cat "$T/pages12b.out")"
# A spec file joins whatever its layout; changed in one value, it is refused.
python3 -m json.tool --indent 7 "$B" >"$T/pretty.json"
sed 's/"limit": 18/"limit": 17/' "$B" >"$T/limit17.json"
grep -q '"limit": 17' "$T/limit17.json" || fail "the test's edit of the spec did not apply"
expect 0 spec crawl "$B" $W --crawl spec2 --store "sqlite:$T/s.db"
expect 0 pretty crawl "$T/pretty.json" $W --crawl spec2 --store "sqlite:$T/s.db"
grep -q "is complete already" "$T/pretty.out" ||
  fail "the reformatted spec did not join: $(cat "$T/pretty.out")"
expect 1 limit17 crawl "$T/limit17.json" $W --crawl spec2 --store "sqlite:$T/s.db"
grep -q "was started with another spec" "$T/limit17.out" ||
  fail "no reason given: $(cat "$T/limit17.out")"
echo "ok: shared usage"
