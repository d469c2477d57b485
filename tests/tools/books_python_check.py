#!/usr/bin/env python3
"""Cross-checks ac_books_dump's JSON Lines against Python's json module.

Every line must parse (strictly: no NaN/Infinity, no duplicate keys), and for
every book whose numbers are written the way Python writes them (no 8.50, no
1.2e+2) and whose strings are not \\u-escaped on purpose, re-serialising with
json.dumps(ensure_ascii=False, separators=(",", ":")) -- what the real site's
Django REST framework does -- must give back the very same bytes. That checks
acrawl's escaper against an independent one. The big integer must come back
exact.

usage: books_python_check.py AC_BOOKS_DUMP [N [SEED]]
"""
import json
import subprocess
import sys

U_ESCAPES, FLOAT_SCORE, FLOAT_PRICE = 1 << 2, 1 << 9, 1 << 10


def traits(i):
    # The rules of enum ac__book_trait (src/site/books.h) this check needs.
    t = 0
    if i % 50 == 2:
        t |= U_ESCAPES
    if i % 10 == 8:
        t |= FLOAT_SCORE
    if i % 10 == 9:
        t |= FLOAT_PRICE
    return t


def no_constants(name):
    raise ValueError("non-standard constant " + name)


def no_duplicates(pairs):
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError("duplicate key")
    return dict(pairs)


def main():
    args = sys.argv[1:]
    out = subprocess.run(args, check=True, stdout=subprocess.PIPE).stdout
    lines = out.split(b"\n")
    if lines[-1] != b"":
        sys.exit("the dump does not end with a newline")
    lines = lines[:-1]
    want_n = int(args[1]) if len(args) > 1 else 9040
    if len(lines) != want_n:
        sys.exit("%d lines, want %d" % (len(lines), want_n))
    compared = 0
    prev = 0
    for i, raw in enumerate(lines):
        book = json.loads(raw.decode("utf-8"), parse_constant=no_constants,
                          object_pairs_hook=no_duplicates)
        if int(book["id"]) <= prev:
            sys.exit("book %d: ids not increasing" % i)
        prev = int(book["id"])
        if i == 11 and book["comments"][0]["id"] != 9007199254740993:
            sys.exit("book 11: the big integer did not survive")
        if traits(i) & (U_ESCAPES | FLOAT_SCORE | FLOAT_PRICE):
            continue
        again = json.dumps(book, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        if again != raw:
            k = next(k for k in range(min(len(raw), len(again))) if raw[k] != again[k])
            sys.exit("book %d differs from Python at byte %d: %r vs %r"
                     % (i, k, raw[k - 20:k + 20], again[k - 20:k + 20]))
        compared += 1
    print("%d books parsed, %d byte-identical to Python's json.dumps" % (len(lines), compared))


if __name__ == "__main__":
    main()
