#!/usr/bin/python3
"""An independent reader for acrawl's MongoDB store tests (pymongo, not libmongoc).

  mongo_dump.py URI DB COLL                 the documents as JSON Lines, without _id
  mongo_dump.py URI DB COLL --expect FILE [--key id] [--lossy-int64]
        compare the collection with FILE (JSON Lines, the truth): the same keys, one
        document per key, and every document equal value for value to its line
        (Python json equality, with types: a bool is not an int, a string not a
        number). --lossy-int64 accepts an integer past 2^53 that came back as the
        nearest double (the CongoDB stand-in cannot hold int64 exactly).
        Prints a summary; exit 0 when equal, 1 with the first differences.

Runs under Debian's /usr/bin/python3 (python3-pymongo); exits 77 without pymongo.
"""
import argparse
import json
import sys

try:
    import pymongo
except ImportError:
    print("mongo_dump.py: pymongo not found (Debian: python3-pymongo, under /usr/bin/python3)",
          file=sys.stderr)
    sys.exit(77)


def same(want, got, lossy, path, diffs):
    """Strict equality that names where two JSON values differ."""
    if isinstance(want, bool) or isinstance(got, bool):
        ok = type(want) is type(got) and want == got
    elif isinstance(want, (int, float)) and isinstance(got, (int, float)):
        ok = want == got
        if not ok and lossy and isinstance(want, int) and abs(want) > 2**53:
            ok = float(want) == got
            if ok:
                diffs["lossy"] += 1
    elif isinstance(want, dict) and isinstance(got, dict):
        if list(want.keys()) != list(got.keys()):
            diffs["list"].append(f"{path}: keys {list(want.keys())} != {list(got.keys())}")
            return False
        return all([same(want[k], got[k], lossy, f"{path}.{k}", diffs) for k in want])
    elif isinstance(want, list) and isinstance(got, list):
        if len(want) != len(got):
            diffs["list"].append(f"{path}: {len(want)} elements != {len(got)}")
            return False
        return all([same(w, g, lossy, f"{path}[{i}]", diffs) for i, (w, g) in enumerate(zip(want, got))])
    else:
        ok = type(want) is type(got) and want == got
    if not ok:
        diffs["list"].append(f"{path}: {want!r} != {got!r}")
    return ok


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("uri")
    ap.add_argument("db")
    ap.add_argument("coll")
    ap.add_argument("--expect")
    ap.add_argument("--key", default="id")
    ap.add_argument("--lossy-int64", action="store_true")
    a = ap.parse_args()

    client = pymongo.MongoClient(a.uri, serverSelectionTimeoutMS=10000)
    docs = list(client[a.db][a.coll].find({}, {"_id": 0}))
    if a.expect is None:
        for d in docs:
            sys.stdout.write(json.dumps(d, ensure_ascii=False) + "\n")
        return 0

    with open(a.expect, encoding="utf-8") as f:
        want = [json.loads(line) for line in f if line.strip()]
    want_by_key = {w[a.key]: w for w in want}
    got_by_key = {}
    dup = 0
    for d in docs:
        k = d.get(a.key)
        if k in got_by_key:
            dup += 1
        got_by_key[k] = d
    diffs = {"list": [], "lossy": 0}
    missing = [k for k in want_by_key if k not in got_by_key]
    extra = [k for k in got_by_key if k not in want_by_key]
    unequal = 0
    for k, w in want_by_key.items():
        if k in got_by_key and not same(w, got_by_key[k], a.lossy_int64, f"[{k}]", diffs):
            unequal += 1
    print(f"mongo_dump.py: {len(docs)} documents, {len(want_by_key)} expected, {dup} duplicate "
          f"keys, {len(missing)} missing, {len(extra)} extra, {unequal} unequal, "
          f"{diffs['lossy']} int64 read back as the nearest double")
    for line in diffs["list"][:10]:
        print("  " + line)
    if missing:
        print(f"  missing keys (first 5): {missing[:5]}")
    if extra:
        print(f"  extra keys (first 5): {extra[:5]}")
    return 0 if not (dup or missing or extra or unequal or len(docs) != len(want)) else 1


if __name__ == "__main__":
    sys.exit(main())
