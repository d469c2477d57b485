#!/bin/sh
# The site's own count of requests in flight never exceeds --concurrency
# (nor --per-host), and the crawl does reach it (the cap is not just idle).
. "$(dirname "$0")/lib.sh"
start_site s --books 1500 --delay 20
"$ACRAWL" books --base "$SITE_s" --store "jsonl:$T/a.jsonl" --concurrency 12 --quiet ||
  fail "crawl exit $?"
max=$(site_stat "$SITE_s" in_flight max)
[ "$max" -le 12 ] || fail "site saw $max in flight with --concurrency 12"
[ "$max" -ge 10 ] || fail "site saw only $max in flight with --concurrency 12"
start_site p --books 600 --delay 20
"$ACRAWL" books --base "$SITE_p" --store "jsonl:$T/b.jsonl" --concurrency 12 --per-host 5 --quiet ||
  fail "crawl exit $?"
max=$(site_stat "$SITE_p" in_flight max)
[ "$max" -le 5 ] || fail "site saw $max in flight with --per-host 5"
[ "$(wc -l <"$T/b.jsonl")" -eq 600 ] || fail "per-host crawl incomplete"
echo "ok: in flight $max"
