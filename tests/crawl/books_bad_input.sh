#!/bin/sh
# Bad input gets a clear error naming the problem and a non-zero exit:
# options, URLs, store URIs, an unreachable site, a site that is not the
# book API (HTML, a redirect loop, a body over the cap), a store that refuses
# every item.
. "$(dirname "$0")/lib.sh"

# expect CODE PATTERN ARGS...: acrawl books ARGS exits CODE and says PATTERN.
expect() {
  code=$1
  pattern=$2
  shift 2
  set +e
  "$ACRAWL" books --retries 1 --timeout 5 --store "sqlite:$T/x.db" "$@" >"$T/out.txt" 2>&1
  rc=$?
  set -e
  [ $rc -eq "$code" ] || fail "acrawl books $*: exit $rc, expected $code: $(cat "$T/out.txt")"
  grep -q -- "$pattern" "$T/out.txt" || fail "acrawl books $*: no '$pattern' in: $(cat "$T/out.txt")"
}

expect 2 "unknown option '--bogus'" --bogus
expect 2 "--concurrency wants a whole number" --concurrency 0
expect 2 "--concurrency wants a whole number" --concurrency lots
expect 2 "--pages wants FIRST-LAST" --pages 5-2
expect 2 "--rate wants 0 or a number from 0.001" --rate -1
# Numbers that would overflow a rate's gap or a timeout: refused, not "no limit".
expect 2 "--rate wants 0 or a number from 0.001" --rate 1e-300
expect 2 "--rate wants 0 or a number from 0.001" --rate inf
expect 2 "--rate wants 0 or a number from 0.001" --rate nan
expect 2 "--timeout wants a number from 0.001 to 86400" --timeout inf
expect 2 "--timeout wants a number from 0.001 to 86400" --timeout 1e300
expect 2 "--base needs a value" --base
expect 2 "bad --base 'ftp://example.com'" --base ftp://example.com
expect 2 "bad --base 'example.com'" --base example.com
expect 2 "unknown store scheme" --base http://127.0.0.1:1 --store "nosuch:x"
# The option parser all commands share (src/cli/opts.c): --name=VALUE as
# --name VALUE, whole numbers as digits only, one suffix rule for sizes,
# overflow refused; the error names the option and the value.
expect 2 "--concurrency wants a whole number from 1 to 100000, not '0'" --concurrency=0
expect 2 "-c wants a whole number from 1 to 100000, not '+5'" -c +5
expect 2 "--concurrency wants a whole number from 1 to 100000, not ''" --concurrency ''
expect 2 "--retries wants a whole number from 0 to 100, not '99999999999999999999'" \
  --retries 99999999999999999999
expect 2 "--max-body wants a size from 1 to 1T .*, not '1.5M'" --max-body 1.5M
expect 2 "--max-body wants a size from 1 to 1T .*, not '99999999999999999999G'" \
  --max-body 99999999999999999999G
expect 2 "--max-body wants a size from 1 to 1T .*, not '2T'" --max-body=2T
expect 2 "--timeout wants a number from 0.001 to 86400, not 'nan'" --timeout=nan
expect 2 "--pages wants FIRST-LAST .*, not '3-'" --pages 3-
expect 2 "--store wants a non-empty URI, not ''" --store=
expect 2 "--quiet takes no value" --quiet=1
expect 2 "--retries needs a value" --retries
expect 2 "unexpected argument 'stray'" stray
expect 2 "unknown option '--bogus'" --bogus=1
expect 1 "books.db" --base http://127.0.0.1:1 --store "sqlite:$T/no/such/dir/books.db"

# A port nobody listens on: unreachable, said once, exit 1.
port=$(server_free_port)
expect 1 "cannot crawl http://127.0.0.1:$port: .*refused" --base "http://127.0.0.1:$port"
# Four times: the resolver's own sockets once made the loop abort in 3 runs of 8.
# (The answer is "could not resolve", or "Resolving timed out" where the
# machine's DNS server is slow to say no: 5 s here, sometimes.)
for _ in 1 2 3 4; do
  expect 1 "cannot crawl http://no-such-host.invalid: .*[Rr]esolv" --base "http://no-such-host.invalid"
done

for mode in html loop huge; do
  server_start "bad_$mode" file:"$T/$mode.port" $PY "$HERE/bad_site.py" $mode "$T/$mode.port"
done
expect 1 "list: not JSON: the site answered text/html; charset=utf-8 with 57 bytes: \"<!doctype html>.*is the base URL the API's?" --base "http://127.0.0.1:$(cat "$T/html.port")"
# With the default retries too: a wrong --base ends within the first page's
# retries (4, backoff from 100 ms), with the same words.
set +e
"$ACRAWL" books --base "http://127.0.0.1:$(cat "$T/html.port")" --store "sqlite:$T/x.db" \
  >"$T/out.txt" 2>&1
rc=$?
set -e
[ $rc -eq 1 ] || fail "a wrong --base with the default retries: exit $rc: $(tail -3 "$T/out.txt")"
grep -q "cannot crawl .*is the base URL the API's? (.*, 5 attempts)" "$T/out.txt" ||
  fail "a wrong --base with the default retries: $(tail -3 "$T/out.txt")"
expect 1 "cannot crawl.*redirect" --base "http://127.0.0.1:$(cat "$T/loop.port")"
expect 1 "cannot crawl.*\(larger\|limit\|max\)" --base "http://127.0.0.1:$(cat "$T/huge.port")"

# A store that refuses every item: each page is recorded with the store's own
# words (here the device's), the crawl goes on to the end and exits 3.
start_site s --books 40
expect 3 'the store jsonl:/dev/full refused an item of this page: writing to "/dev/full": No space left' \
  --base "$SITE_s" --store jsonl:/dev/full
grep -q "failures 40" "$T/out.txt" || fail "every detail not recorded: $(cat "$T/out.txt")"
# A reader that goes away (jsonl:- | head -1): a store failure like any
# other, not a SIGPIPE. The other store gets every book, the summary says
# which store refused how many, and the run ends incomplete (3). The site
# answers slowly, so that lines are still to come when head has gone.
start_site slow --books 200 --delay 5
set +e
{ "$ACRAWL" books --base "$SITE_slow" --concurrency 4 --store jsonl:- --store "sqlite:$T/pipe.db" \
    2>"$T/pipe.txt"; echo $? >"$T/pipe.rc"; } | head -1 >/dev/null
set -e
[ "$(cat "$T/pipe.rc")" = 3 ] || fail "jsonl:- | head: exit $(cat "$T/pipe.rc"): $(tail -5 "$T/pipe.txt")"
grep -q "the store jsonl:- refused an item of this page: jsonl:-: the reader closed stdout (EPIPE)" \
  "$T/pipe.txt" || fail "jsonl:- | head: the cause is not said: $(tail -5 "$T/pipe.txt")"
grep -q "store jsonl:-: [0-9]* kept, [1-9][0-9]* refused" "$T/pipe.txt" ||
  fail "jsonl:- | head: no count per store: $(tail -8 "$T/pipe.txt")"
grep -q "store sqlite:$T/pipe.db: 200 kept, 0 refused" "$T/pipe.txt" ||
  fail "jsonl:- | head: the other store: $(tail -8 "$T/pipe.txt")"
[ "$(sqlite3 "$T/pipe.db" 'select count(*) from books')" = 200 ] || fail "jsonl:- | head: sqlite rows"

# /dev/null is a stream, not a file to sync or cut: a complete crawl.
expect 0 "books: complete" --base "$SITE_s" --store jsonl:/dev/null
# The same values in the --name=VALUE form, a size with its suffix.
expect 0 "books: complete" --base="$SITE_s" --store=jsonl:/dev/null --max-body=1M \
  --concurrency=4 --rate=0
echo "ok: bad input"
