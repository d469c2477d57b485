#!/usr/bin/env python3
"""A JSON API written apart from acrawl, for specs: tokens, odd ids, POST.

  spec_site.py PORTFILE TOKEN
Serves on 127.0.0.1, on a port it picks (written to PORTFILE), until SIGTERM:
  GET  /v1/items?page=N       3 records a page, no totals; page 3 is short
                              (the end). Records: integer ids (one past
                              2^53), ids with '/', '?', '%', ' ', '+', '=',
                              non-ASCII, "..", a fraction, and one without
                              an id.
  GET  /v1/items/ID           the detail of the record whose id, as text, is
                              ID percent-decoded; 404 for a path that is not
                              exactly /v1/items/ONE-SEGMENT (an id whose '/'
                              or '?' was not encoded lands here).
  POST /v1/notes              {"for": ID, ...}: the detail's note, keyed by
                              "note-" + ID; the JSON body must say which id.
Every request must carry "Authorization: Bearer TOKEN" (401 otherwise).
/__seen answers how many times each request was made, as a JSON object.
"""
import http.server
import json
import signal
import sys
import urllib.parse
from collections import Counter

PORTFILE, TOKEN = sys.argv[1:3]
IDS = [1, "a/b?c%d e\u00e9", None, 9007199254740993, "..", 2.5, "x+y=z"]
RECORDS = [{"name": "record %d" % i} if v is None else {"id": v, "name": "record %d" % i}
           for i, v in enumerate(IDS)]
SEEN = Counter()


def text(v):
    return json.dumps(v) if not isinstance(v, str) else v


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send(self, status, doc):
        body = json.dumps(doc, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def authorized(self):
        if self.headers.get("Authorization") == "Bearer " + TOKEN:
            return True
        self.send(401, {"error": "no token"})
        return False

    def do_GET(self):
        SEEN["GET " + self.path] += 1
        raw, _, query = self.path.partition("?")
        if raw == "/__seen":
            return self.send(200, dict(SEEN))
        if not self.authorized():
            return
        parts = raw.split("/")
        if raw == "/v1/items":
            q = urllib.parse.parse_qs(query)
            page = int(q.get("page", ["1"])[0])
            return self.send(200, {"items": RECORDS[(page - 1) * 3:page * 3]})
        if len(parts) == 4 and parts[:3] == ["", "v1", "items"]:
            ident = urllib.parse.unquote(parts[3], errors="strict")
            for r in RECORDS:
                if "id" in r and text(r["id"]) == ident:
                    return self.send(200, dict(r, detail=True))
        self.send(404, {"error": "not found"})

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        SEEN["POST " + self.path + " " + body.decode("utf-8", "replace")] += 1
        if not self.authorized():
            return
        if self.path != "/v1/notes" or not self.headers.get("Content-Type", "").startswith(
                "application/json"):
            return self.send(404, {"error": "not found"})
        doc = json.loads(body)
        for r in RECORDS:
            # The id in the body keeps its JSON type: 1 is not "1".
            if "id" in r and r["id"] == doc.get("for") and type(r["id"]) is type(doc.get("for")):
                return self.send(200, {"key": "note-" + text(r["id"]), "for": r["id"],
                                       "label": doc.get("label")})
        self.send(400, {"error": "no such id", "got": doc})


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
signal.signal(signal.SIGTERM, lambda *a: (_ for _ in ()).throw(SystemExit(0)))
with open(PORTFILE + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
import os
os.rename(PORTFILE + ".tmp", PORTFILE)
try:
    server.serve_forever()
except SystemExit:
    pass
