#!/usr/bin/env python3
"""specs/schema.json against the spec loader (src/crawl/spec.c).

1. Every shipped spec (specs/*.json but schema.json) is valid under the
   schema and passes `acrawl crawl --check`.
2. Each bad spec below is refused by both, the loader with exit 2 and a
   message naming the pointer at fault.
3. Each edge case below that the loader takes is taken by the schema too:
   a schema stricter than the loader would flag good specs in editors.

The acrawl binary is $ACRAWL. Exit 77 (skipped) without python3-jsonschema.

usage: spec_schema_check.py SPECS_DIR
"""
import copy
import glob
import json
import os
import subprocess
import sys
import tempfile

try:
    import jsonschema
except ImportError:
    print("skip: python3-jsonschema is not installed")
    sys.exit(77)

BASE = {
    "name": "t",
    "base_url": "http://127.0.0.1:1",
    "resources": [
        {"name": "list", "path": "/l", "records": "/items", "emit": False,
         "paginator": {"type": "offset", "limit": 10}},
        {"name": "item", "parent": "list", "fields": {"id": "/id"}, "path": "/i/{id}",
         "key": "/id"},
    ],
}


def spec(edit):
    s = copy.deepcopy(BASE)
    edit(s)
    return s


def res(i, **kv):
    def edit(s):
        s["resources"][i].update(kv)
    return edit


def drop(i, key):
    def edit(s):
        del s["resources"][i][key]
    return edit


def top(**kv):
    def edit(s):
        s.update(kv)
    return edit


def pager(**kv):
    return res(0, paginator=kv)


# (what, edit, the pointer the loader names)
BAD = [
    ("an unknown paginator", pager(type="ofset", limit=10), "resources/0/paginator/type: unknown paginator"),
    ("an unknown top key", top(nmae="t"), "nmae: unknown key"),
    ("an unknown resource key", res(0, record="/items"), "resources/0/record: unknown key"),
    ("an unknown offset key", pager(type="offset", limit=10, size=10), "resources/0/paginator/size: unknown key"),
    ("in on a next_url paginator", pager(type="next_url", **{"from": "/next", "in": "query"}),
     "resources/0/paginator/in: unknown key"),
    ("a key on none", pager(type="none", max_pages=2), "resources/0/paginator/max_pages: unknown key"),
    ("no paginator type", pager(limit=10), "resources/0/paginator: missing \"type\""),
    ("page total without size", pager(type="page", total="/total"), "resources/0/paginator: \"total\" counts items"),
    ("page total and total_pages", pager(type="page", size=10, total="/t", total_pages="/p"),
     "resources/0/paginator: \"total\" (items) and \"total_pages\""),
    ("size_param without size", pager(type="page", size_param="size"), "resources/0/paginator: \"size_param\" without"),
    ("offset without limit", pager(type="offset"), "resources/0/paginator: missing \"limit\""),
    ("limit 0", pager(type="offset", limit=0), "resources/0/paginator/limit: 0 is out of range"),
    ("a fractional limit", pager(type="offset", limit=10.5), "resources/0/paginator/limit: a fraction"),
    ("max_pages 0", pager(type="offset", limit=10, max_pages=0), "resources/0/paginator/max_pages:"),
    ("in neither query nor json", pager(type="offset", limit=10, **{"in": "body"}), "resources/0/paginator/in:"),
    ("cursor without from", pager(type="cursor"), "resources/0/paginator: missing \"from\""),
    ("a key that is no pointer", res(1, key="id"), "resources/1/key: \"id\" is not a JSON Pointer"),
    ("records that is no pointer", res(0, records="items"), "resources/0/records:"),
    ("a pointer with a bad ~", res(1, key="/a~2"), "resources/1/key:"),
    ("a field that is no pointer", res(1, fields={"id": "id"}), "resources/1/fields/id:"),
    ("a field name starting with a digit", res(1, fields={"1id": "/id"}, path="/i"), "resources/1/fields/1id:"),
    ("an expect key that is no pointer", res(1, expect={"id": "{id}"}), "resources/1/expect/id:"),
    ("an emitting resource without key", drop(1, "key"), "resources/1: an emitting resource needs \"key\""),
    ("json and form", res(0, json={}, form={"a": 1}), "resources/0: \"json\" and \"form\""),
    ("in json with a form", res(0, form={"a": 1}, paginator={"type": "offset", "limit": 10, "in": "json"}),
     "resources/0: the paginator puts its values in a JSON body"),
    ("in json with an array body", res(0, json=[], paginator={"type": "offset", "limit": 10, "in": "json"}),
     "resources/0/json: the paginator puts"),
    ("fields without parent", res(0, fields={"x": "/x"}), "resources/0/fields: fields are taken from a parent"),
    ("a method that is no token", res(0, method="GET /"), "resources/0/method:"),
    ("an HTML kind", res(0, kind="html"), "resources/0/kind:"),
    ("an empty path", res(0, path=""), "resources/0/path: empty"),
    ("a path of the wrong type", res(0, path=1), "resources/0/path: a number"),
    ("a params value that is an object", res(0, params={"a": {}}), "resources/0/params/a:"),
    ("a header value that is a number", res(0, headers={"X-A": 1}), "resources/0/headers/X-A:"),
    ("$schema in a resource", res(0, **{"$schema": "x"}), "resources/0/$schema: unknown key"),
    ("a placeholder in the spec's headers", top(headers={"X-A": "{id}"}), "headers/X-A: {id}"),
    ("no name", lambda s: s.pop("name"), "missing \"name\""),
    ("a name with a dot", top(name="a.b"), "name: \"a.b\""),
    ("an ftp base_url", top(base_url="ftp://h/"), "base_url: \"ftp://h/\""),
    ("retries 101", top(retries=101), "retries: 101 is out of range"),
    ("rate 0", top(rate=0), "rate: 0 is out of range"),
    ("concurrency 0", top(concurrency=0), "concurrency: 0 is out of range"),
    ("no resources", top(resources=[]), "resources: no resource"),
    ("65 resources", top(resources=[dict(BASE["resources"][0], name="r%d" % i) for i in range(65)]),
     "resources: 65 resources"),
    ("no emitting resource", res(1, emit=False), "resources: no resource emits"),
    ("no root", res(0, parent="item"), "resources/0/parent: the parents make a cycle"),
    ("a collection that names no table", res(1, collection="a.b"),
     "resources/1/collection: \"a.b\""),
]

# Taken by the loader: the schema must take them too.
GOOD = [
    ("empty fields on a root", res(0, fields={})),
    ("a field of the whole record", res(1, fields={"id": ""})),
    ("records as the whole body", res(0, records="")),
    ("a ~0 and ~1 in a pointer", res(1, key="/a~0b~1c")),
    ("page with total_pages and no size", pager(type="page", total_pages="/pages")),
    ("page with every key", pager(type="page", param="p", start=0, size_param="n", size=5,
                                  total="/total", max_pages=3, **{"in": "json"})),
    ("offset with every key", pager(type="offset", param="o", limit_param="l", limit=5, start=2,
                                    total="/count", max_pages=9, **{"in": "query"})),
    ("cursor in json", lambda s: s["resources"][0].update(
        method="POST", json={"q": 1}, paginator={"type": "cursor", "from": "/c", "in": "json"})),
    ("next_url", pager(type="next_url", **{"from": "/next"}, max_pages=1)),
    ("link_header", pager(type="link_header")),
    ("none", pager(type="none")),
    ("no paginator", drop(0, "paginator")),
    ("a JSON body that is a string", res(1, method="PUT", json="{id}")),
    ("a form", res(1, method="POST", form={"id": "{id}", "n": 1, "b": True})),
    ("scalar params", res(0, params={"a": 1, "b": 1.5, "c": False, "d": ""})),
    ("expect with scalars", res(1, expect={"/id": "{id}", "/n": 3, "/ok": True})),
    ("a collection on a listing", res(0, collection="any.text")),
    ("a shared collection", res(1, collection="items")),
    ("two collections", lambda s: s["resources"].append(
        {"name": "note", "parent": "item", "fields": {"id": "/id"}, "path": "/n/{id}",
         "key": "/key", "collection": "notes"})),
    ("any $schema", top(**{"$schema": 5})),
    ("every crawl default", top(concurrency=8, per_host=4, rate=0.5, retries=0, timeout=2.5)),
    ("a kind", res(0, kind="json")),
    ("a method token", res(0, method="M-SEARCH")),
    ("text with braces", res(1, path="/i/{id}/{ not}/{1x}")),
    ("the base from the environment", top(base_url="${SPEC_SCHEMA_BASE}")),
]


def check(acrawl, path, env=None):
    p = subprocess.run([acrawl, "crawl", "--check", path], capture_output=True, text=True,
                       env=env)
    return p.returncode, (p.stdout + p.stderr).strip()


def main():
    specs_dir = sys.argv[1]
    acrawl = os.environ["ACRAWL"]
    schema = json.load(open(os.path.join(specs_dir, "schema.json")))
    jsonschema.Draft202012Validator.check_schema(schema)
    v = jsonschema.Draft202012Validator(schema)
    env = dict(os.environ, SPEC_SCHEMA_BASE="http://127.0.0.1:2/api/")
    bad = []

    shipped = sorted(f for f in glob.glob(os.path.join(specs_dir, "*.json"))
                     if os.path.basename(f) != "schema.json")
    if not shipped:
        bad.append("no spec in " + specs_dir)
    for f in shipped:
        errs = [e.message for e in v.iter_errors(json.load(open(f)))]
        if errs:
            bad.append("%s: the schema refuses it: %s" % (f, errs[:3]))
        rc, out = check(acrawl, f)
        if rc != 0:
            bad.append("%s: acrawl crawl --check: exit %d: %s" % (f, rc, out))

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "spec.json")
        for what, edit, pointer in BAD:
            s = spec(edit)
            with open(path, "w") as out:
                json.dump(s, out)
            if v.is_valid(s):
                bad.append("bad spec (%s): the schema takes it" % what)
            rc, out = check(acrawl, path, env)
            if rc != 2:
                bad.append("bad spec (%s): acrawl crawl --check: exit %d, expected 2: %s" % (what, rc, out))
            elif ": " + pointer not in out:
                bad.append("bad spec (%s): the message does not start %r: %s" % (what, pointer, out))
        for what, edit in GOOD:
            s = spec(edit)
            with open(path, "w") as out:
                json.dump(s, out)
            rc, out = check(acrawl, path, env)
            if rc != 0:
                bad.append("edge case (%s): acrawl crawl --check: exit %d: %s" % (what, rc, out))
            errs = [e.message for e in v.iter_errors(s)]
            if errs:
                bad.append("edge case (%s): the loader takes it, the schema refuses: %s" % (what, errs[:3]))

    for line in bad:
        print("FAIL: " + line)
    if bad:
        return 1
    print("ok: %d shipped specs valid and checked; %d bad specs refused by both; %d edge cases "
          "taken by both" % (len(shipped), len(BAD), len(GOOD)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
