#!/usr/bin/env python3
"""Compares what a store holds with the JSON Lines dump it should hold.

Reads the store with Python's own json and sqlite3 modules (an implementation
independent of acrawl's) and checks that every document of the dump is in the
store exactly once, equal value for value (json.loads equality: key order and
number spelling are free, 2^53+1 stays exact), and that the store holds
nothing else -- except the ids listed as expected missing, which must be
absent. Prints a summary of every difference; exits 0 when they match, 1 when
they do not, 2 on bad usage or unreadable input.

usage: store_compare.py DUMP.jsonl STORE [--expect-missing ID,...]
                        [--key-field id] [--table items]
  STORE: sqlite:PATH       the table's (key, doc) rows; key must equal the
                           doc's key field
         jsonl:PATH        one document per line (blank lines allowed)
         jsonl:- or -      JSON Lines from stdin (e.g. a MongoDB collection
                           dumped by another tool)
         PATH.jsonl        the same as jsonl:PATH
"""
import argparse
import json
import sqlite3
import sys
from collections import Counter

SHOW = 10  # examples printed per kind of difference


def strict_loads(text, where):
    def no_dups(pairs):
        keys = [k for k, _ in pairs]
        dups = [k for k, n in Counter(keys).items() if n > 1]
        if dups:
            raise ValueError("duplicate key %r" % dups[0])
        return dict(pairs)

    def no_const(c):
        raise ValueError("%s is not JSON" % c)

    try:
        return json.loads(text, object_pairs_hook=no_dups, parse_constant=no_const)
    except ValueError as e:
        raise SystemExit("store_compare: %s: not JSON: %s" % (where, e)) from None


def key_text(doc, field, where):
    """The key as acrawl's stores take it: a string's content, a number's text."""
    if not isinstance(doc, dict) or field not in doc:
        raise SystemExit("store_compare: %s: no %r field" % (where, field))
    v = doc[field]
    if isinstance(v, bool) or not isinstance(v, (str, int, float)):
        raise SystemExit("store_compare: %s: %r is neither a string nor a number" % (where, field))
    return v if isinstance(v, str) else str(v)


def read_jsonl(stream, name, field):
    """[(key, doc)] in file order."""
    out = []
    for n, raw in enumerate(stream.read().split(b"\n"), 1):
        if raw.strip() == b"":
            continue
        where = "%s line %d" % (name, n)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise SystemExit("store_compare: %s: not UTF-8: %s" % (where, e)) from None
        doc = strict_loads(text, where)
        out.append((key_text(doc, field, where), doc))
    return out


def read_sqlite(path, table, field):
    if '"' in table:
        raise SystemExit("store_compare: bad table name %r" % table)
    try:
        db = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
        rows = db.execute('SELECT key, doc FROM "%s"' % table).fetchall()
        db.close()
    except sqlite3.Error as e:
        raise SystemExit("store_compare: sqlite:%s: %s" % (path, e)) from None
    out = []
    for key, text in rows:
        where = "sqlite:%s row %r" % (path, key)
        if isinstance(text, bytes):
            text = text.decode("utf-8")
        doc = strict_loads(text, where)
        doc_key = key_text(doc, field, where)
        if doc_key != key:
            raise SystemExit("store_compare: %s: the row's key %r differs from the document's %r %r"
                             % (where, key, field, doc_key))
        out.append((key, doc))
    return out


def first_difference(a, b, path="$"):
    """Where two JSON values first differ, as a short text."""
    if type(a) is not type(b) and not (isinstance(a, (int, float)) and isinstance(b, (int, float))
                                       and not isinstance(a, bool) and not isinstance(b, bool)):
        return "%s: %s vs %s" % (path, type(a).__name__, type(b).__name__)
    if isinstance(a, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                return "%s.%s: only in the %s" % (path, k, "dump" if k in a else "store")
            d = first_difference(a[k], b[k], "%s.%s" % (path, k))
            if d:
                return d
        return None
    if isinstance(a, list):
        if len(a) != len(b):
            return "%s: %d items vs %d" % (path, len(a), len(b))
        for i, (x, y) in enumerate(zip(a, b)):
            d = first_difference(x, y, "%s[%d]" % (path, i))
            if d:
                return d
        return None
    if a != b:
        return "%s: %.60r vs %.60r" % (path, a, b)
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dump")
    ap.add_argument("store")
    ap.add_argument("--expect-missing", default="", help="ids that must not be in the store")
    ap.add_argument("--key-field", default="id")
    ap.add_argument("--table", default="items")
    a = ap.parse_args()

    try:
        with open(a.dump, "rb") as f:
            dump = read_jsonl(f, a.dump, a.key_field)
        s = a.store
        if s.startswith("sqlite:"):
            store = read_sqlite(s[7:], a.table, a.key_field)
        elif s in ("-", "jsonl:-"):
            store = read_jsonl(sys.stdin.buffer, "stdin", a.key_field)
        else:
            path = s[6:] if s.startswith("jsonl:") else s
            if not s.startswith("jsonl:") and not path.endswith(".jsonl"):
                raise SystemExit("store_compare: %r: expected sqlite:PATH, jsonl:PATH, "
                                 "jsonl:- or a .jsonl file" % s)
            with open(path, "rb") as f:
                store = read_jsonl(f, path, a.key_field)
    except OSError as e:
        raise SystemExit("store_compare: %s" % e) from None

    missing_ok = {x for x in a.expect_missing.split(",") if x}
    want = {}
    for key, doc in dump:
        if key in want:
            raise SystemExit("store_compare: the dump holds key %r twice" % key)
        want[key] = doc
    unknown = sorted(missing_ok - set(want))
    if unknown:
        raise SystemExit("store_compare: --expect-missing ids not in the dump: %s"
                         % ", ".join(unknown[:SHOW]))
    count = Counter(k for k, _ in store)
    got = {}
    for key, doc in store:
        got.setdefault(key, doc)

    doubled = sorted(k for k, n in count.items() if n > 1)
    extra = sorted(k for k in count if k not in want)
    missing = sorted(k for k in want if k not in count and k not in missing_ok)
    present = sorted(k for k in missing_ok if k in count)
    differ = [(k, first_difference(want[k], got[k])) for k in want
              if k in got and k not in missing_ok and want[k] != got[k]]

    ok = want.keys() - missing_ok
    print("store_compare: dump %d documents (%d expected missing), store %d documents (%d keys)"
          % (len(want), len(missing_ok), len(store), len(count)))
    problems = 0
    for title, items in (("missing from the store", missing), ("not in the dump", extra),
                         ("stored more than once", doubled),
                         ("expected missing but present", present)):
        if items:
            problems += len(items)
            print("  %d %s: %s%s" % (len(items), title, ", ".join(items[:SHOW]),
                                     " ..." if len(items) > SHOW else ""))
    if differ:
        problems += len(differ)
        print("  %d differ:" % len(differ))
        for k, d in differ[:SHOW]:
            print("    %s: %s" % (k, d))
    if problems:
        print("store_compare: MISMATCH (%d problems)" % problems)
        return 1
    print("store_compare: OK, %d documents equal" % len(ok))
    return 0


if __name__ == "__main__":
    sys.exit(main())
