#!/bin/sh
# A crawl state that cannot be written is said, and changes the exit status:
# the state file may not grow past 64 KiB (RLIMIT_FSIZE, so every write past
# it fails with EFBIG, an I/O error that waiting does not cure). The books go
# to /dev/null, which no file size limit touches. The run must not end
# "complete" with exit 0 while most of its marks are lost; a --resume without
# the limit then completes.
. "$(dirname "$0")/lib.sh"
start_site s --books 2000
command -v bash >/dev/null || { echo "skip: no bash for ulimit -f"; exit 77; }

set +e
bash -c 'trap "" XFSZ; ulimit -f 64; exec "$@"' limit "$ACRAWL" books --base "$SITE_s" \
  --store jsonl:/dev/null --state "$T/books.state" >"$T/out.txt" 2>&1
rc=$?
set -e
[ $rc -eq 4 ] || fail "exit $rc, expected 4 (state not written): $(tail -5 "$T/out.txt")"
grep -q "the crawl state $T/books.state could not be written (.*disk I/O error)" "$T/out.txt" ||
  fail "the state error is not said: $(tail -5 "$T/out.txt")"

"$ACRAWL" books --base "$SITE_s" --store jsonl:/dev/null --state "$T/books.state" --resume \
  >"$T/resume.txt" 2>&1 || fail "--resume: $(tail -5 "$T/resume.txt")"
grep -q "books: complete" "$T/resume.txt" || fail "--resume: $(tail -5 "$T/resume.txt")"
echo "ok: state write failure"
