#!/usr/bin/env python3
"""A book API written apart from acrawl, sending what real servers send.

  odd_site.py MODE PORTFILE TRUTH
Serves /api/book/?limit=L&offset=O and /api/book/ID like the book site, on
127.0.0.1 on a port it picks (written to PORTFILE), until SIGTERM. TRUTH
gets, one JSON document per line, every book a complete crawl must store.
MODE:
  ids        ids of every legal shape: integers past 2^53 and 2^64, ".",
             "..", slashes, spaces, escapes, non-ASCII; and results no
             crawl can use (3.7, null, an object, "", true, 600 bytes,
             "\\u0000", no id at all), which must be reported, not skipped
  mismatch   every detail answers for the id "same"
  count      the count says 10^12 books; the data ends after 3 pages, and
             page 2 answers an empty page on its first request
  transient  each URL answers 200 application/json with an HTML error page
             (some in Chinese) on its first request, with an empty body on
             its second
  shapes     bodies pretty-printed (CRLF, tabs), with a BOM, \\u and \\/
             escapes, chunked, under several JSON content types
  nulkey     book k3 has a member named "x\\u0000y": valid JSON that SQLite
             and JSON Lines keep and MongoDB (BSON) cannot
/__seen answers how many times each path was asked, as a JSON object.
"""
import http.server
import json
import os
import signal
import sys
import urllib.parse
from collections import Counter

MODE, PORTFILE, TRUTH = sys.argv[1:4]


def book(i, ident):
    return {"id": ident, "name": "Book %d \u00e9\u66f8 \"q\" \\ / \t\U0001F600" % i,
            "score": 8.5 + i, "tags": ["a", "b\nc"], "authors": None}


if MODE == "ids":
    GOOD = [9007199254740993, 12345678901234567891, -7, 0, ".", "..", "a/b?c#d", "sp ace",
            "\u00fcn\u00ef", "%2E", "q\"uote", "back\\slash", "1.5"] + ["b%d" % i for i in range(20)]
    BAD = [{"id": 3.7}, {"id": 1e3}, {"id": None}, {"id": {"x": 1}}, {"id": ""}, {"id": True},
           {"id": "x" * 600}, {"id": "nul\u0000"}, {"name": "no id"}]
    BOOKS = [book(i, ident) for i, ident in enumerate(GOOD)]
    RESULTS = [{"id": b["id"], "name": b["name"]} for b in BOOKS] + BAD
elif MODE == "mismatch":
    BOOKS = [book(i, "m%d" % i) for i in range(5)]
    RESULTS = [{"id": b["id"]} for b in BOOKS]
else:
    BOOKS = [book(i, "k%d" % i) for i in range(45)]
    RESULTS = [{"id": b["id"]} for b in BOOKS]
if MODE == "nulkey":
    BOOKS[3]["x\u0000y"] = 1
BY_ID = {str(b["id"]): b for b in BOOKS}
SEEN = Counter()

with open(TRUTH, "w") as f:
    for b in (BOOKS if MODE != "mismatch" else []):
        f.write(json.dumps(b) + "\n")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, body, ctype="application/json", chunked=False):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(0, len(body), 7):
                part = body[i:i + 7]
                self.wfile.write(b"%x;ext=1\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\nX-Trailer: t\r\n\r\n")
        else:
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/__seen":
            return self.answer(200, json.dumps(SEEN).encode())
        SEEN[self.path] += 1
        n = SEEN[self.path]
        if MODE == "transient" and n == 1:
            if url.path != "/api/book/" and sum(url.path.encode()) % 2:
                # A localised error page: its first bytes are all multi-byte.
                return self.answer(200, "\u670d\u52a1\u5668\u9519\u8bef\uff0c\u8bf7\u7a0d\u540e"
                                        "\u91cd\u8bd5\u3002\u7f51\u5173\u8d85\u65f6\u3002"
                                        "<html></html>".encode())
            return self.answer(200, b"<html><head><title>502 Bad Gateway</title></head>"
                                    b"<body><center><h1>502 Bad Gateway</h1></center></body></html>")
        if MODE == "transient" and n == 2:
            return self.answer(200, b"")
        if url.path == "/api/book/":
            q = urllib.parse.parse_qs(url.query)
            limit, offset = int(q["limit"][0]), int(q["offset"][0])
            page = RESULTS[offset:offset + limit]
            count = len(RESULTS)
            if MODE == "count":
                count = 10 ** 12
                if offset == limit and n == 1:
                    page = []
            doc = {"count": count, "results": page}
        elif url.path.startswith("/api/book/"):
            ident = urllib.parse.unquote(url.path[len("/api/book/"):])
            if ident not in BY_ID:
                return self.answer(404, b'{"detail": "Not found."}')
            doc = dict(BY_ID[ident])
            if MODE == "mismatch":
                doc["id"] = "same"
        else:
            return self.answer(404, b'{"detail": "Not found."}')
        if MODE == "shapes":
            # The id picks the shape, so that every shape is met.
            k = sum(url.path.encode()) % 5
            if k == 0:
                body = json.dumps(doc, indent=2).replace("\n", "\r\n").encode() + b"\r\n"
                return self.answer(200, body, "application/json; charset=utf-8")
            if k == 1:
                body = b"\xef\xbb\xbf" + json.dumps(doc, indent="\t").encode()
                return self.answer(200, body, "application/json;charset=UTF-8")
            if k == 2:
                body = json.dumps(doc, ensure_ascii=True).replace("/", "\\/").encode()
                return self.answer(200, body, "text/json", chunked=True)
            if k == 3:
                body = b"  \n" + json.dumps(doc, separators=(" , ", " : "), ensure_ascii=False).encode() + b"\n\n"
                return self.answer(200, body, "text/plain; charset=utf-8", chunked=True)
        self.answer(200, json.dumps(doc, ensure_ascii=False).encode())


class Server(http.server.ThreadingHTTPServer):
    request_queue_size = 256  # the default 5 drops connections of a burst


signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
server = Server(("127.0.0.1", 0), Handler)
with open(PORTFILE + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(PORTFILE + ".tmp", PORTFILE)
server.serve_forever()
