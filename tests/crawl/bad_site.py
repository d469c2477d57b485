#!/usr/bin/env python3
"""A site that is not the book API, for acrawl books' error paths.

  bad_site.py MODE PORTFILE
MODE: html (every page is an HTML page with status 200), loop (every URL
redirects to itself), huge (a 20 MiB JSON body). Listens on 127.0.0.1 on a
port it picks and writes it to PORTFILE; stops on SIGTERM.
"""
import http.server
import os
import signal
import sys

MODE = sys.argv[1]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        if MODE == "html":
            body = b"<!doctype html><html><body><h1>Welcome</h1></body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
        elif MODE == "loop":
            body = b""
            self.send_response(301)
            self.send_header("Location", self.path)
        else:
            body = b'{"count": 1, "results": [], "pad": "' + b"x" * (20 << 20) + b'"}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # acrawl hangs up on the huge body on purpose


server = Server(("127.0.0.1", 0), Handler)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
with open(sys.argv[2] + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(sys.argv[2] + ".tmp", sys.argv[2])
server.serve_forever()
