#!/usr/bin/env python3
"""The shared frontier's Lua script (src/crawl/frontier_redis.lua) step by
step against a real redis-server, with a RESP client of its own (not the one
acrawl's workers use): seeding, dedup, priorities, leases and fencing,
reclaims and poison, retries, host slots, the end, and keys that vanish.
After every step the counts must balance:
queued + delayed + leased + done + failed = seen.

Usage: frontier_script_check.py SCRIPT.lua   (exits 77 without redis-server)
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

P = "acrawl:{t}:"


class Resp:
    """A minimal RESP2 client: commands as arrays of bulk strings."""

    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = b""

    def call(self, *args):
        out = b"*%d\r\n" % len(args)
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        self.s.sendall(out)
        return self._reply()

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.s.recv(65536)
            if not chunk:
                raise EOFError("redis closed the connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _reply(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            return RedisError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                self.buf += self.s.recv(65536)
            data, self.buf = self.buf[:n], self.buf[n + 2:]
            return data.decode()
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self._reply() for _ in range(n)]
        raise ValueError("bad reply %r" % line)


class RedisError(str):
    pass


FAILS = []


def check(cond, what):
    if not cond:
        FAILS.append(what)
        print("FAIL: " + what, file=sys.stderr)


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    server = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not os.path.exists(server):
        print("skip: redis-server not found (make test-deps installs it)")
        return 77
    script = open(sys.argv[1], encoding="utf-8").read()
    tmp = tempfile.mkdtemp(prefix="ac_frontier_script.")
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    proc = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", tmp, "--daemonize", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        r = None
        for _ in range(200):
            try:
                r = Resp(port)
                if r.call("PING") == "PONG":
                    break
            except OSError:
                time.sleep(0.05)
        if r is None:
            print("FAIL: redis-server did not start", file=sys.stderr)
            return 1
        run(r, script)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)
    if FAILS:
        print("%d checks failed" % len(FAILS), file=sys.stderr)
        return 1
    print("ok: the frontier script")
    return 0


def run(r, script):
    sha = r.call("SCRIPT", "LOAD", script)
    check(isinstance(sha, str) and len(sha) == 40, "SCRIPT LOAD: %r" % sha)

    def step(*args):
        return r.call("EVALSHA", sha, 1, P, *args)

    def counts():
        st = step("status", 10000)
        d = dict(zip(st[0::2], st[1::2]))
        return d

    def balanced(where):
        d = counts()
        total = sum(int(d.get(k) or 0) for k in ("queued", "delayed", "leased", "done", "failed"))
        check(total == int(d.get("seen") or 0),
              "%s: counts do not balance: %r" % (where, d))
        return d

    batches = [0]

    def settle(*ops, worker="w", batch=None):
        if batch is None:
            batches[0] += 1
            batch = batches[0]
        return step("settle", worker, batch, *ops)

    def rec(url, prio=0):
        return json.dumps({"u": url, "c": 0, "p": prio, "m": ""})

    # Nothing there yet: every step but join says the crawl is gone.
    gone = step("take", "w1", 1, 1000, 3, 0)
    check(isinstance(gone, RedisError) and gone.startswith("ACRAWL_GONE"),
          "take before join: %r" % gone)

    # Seeding: the first worker seeds, the next one joins, another spec is refused.
    check(step("join", "w1", "fp1", 60000) == ["seed"], "first join seeds")
    check(step("join", "w2", "fp1", 60000) == ["seeding"], "second join waits for the seed")
    other = step("join", "w3", "fp2", 60000)
    check(isinstance(other, RedisError) and other.startswith("ACRAWL_SPEC"),
          "another spec is refused: %r" % other)

    # Dedup: the same fingerprint twice is one request; an empty bucket skips dedup.
    added = step("add", 4,
                 "s:0001", "11", 0, rec("http://h/list/1"),
                 "s:0001", "11", 0, rec("http://h/list/1"),
                 "s:0002", "22", 5, rec("http://h/detail/1", 5),
                 "", "11", 0, rec("http://h/list/1"))
    check(added == [3, 1, 0, 1, 1], "add: queued then new/seen: %r" % added)
    check(r.call("OBJECT", "ENCODING", P + "s:0001") == "intset",
          "fingerprints are kept as an intset")
    balanced("after add")

    # take's answer: a header of 7 (state, queued, delayed, leased, next due,
    # suspects waiting, 1 if this is a suspect alone), then 4 per request.
    H = 7

    def take(worker, n, lease, alone=0):
        return step("take", worker, n, lease, 3, alone)

    # Not complete while seeding, even when empty later.
    t = take("w1", 1, 60000)
    check(t[0] == "seeding", "state while seeding: %r" % t[0])
    # Priority first: the detail (5) before the list pages (0).
    check(len(t) == H + 4 and t[H + 3].find("detail/1") > 0, "highest priority first: %r" % t)
    did, dtok = t[H], t[H + 1]
    check(t[H + 2] == "0", "attempts made so far: 0")
    check(r.call("HGET", P + "lt", did) == dtok + " w1", "the lease names its holder")
    balanced("after take")

    # Fencing: a wrong token is refused and counted; the right one is done.
    check(settle(1, "d", did, "999999", 0) == [0], "a stale token is refused")
    check(counts().get("extra") == "1", "the refusal is counted in extra")
    # The same batch again (its answer lost): the same answer, nothing done twice.
    check(settle(1, "d", did, "999999", 0, batch=batches[0]) == [0], "a batch sent again")
    check(counts().get("extra") == "1", "a batch sent again counts nothing")
    check(settle(1, "d", did, dtok, 1, "s:0003", "33", 1, rec("http://h/detail/2", 1))
          == [1], "done with the right token")
    check(step("seeded", "w1") == "seeded", "the seeder marks the crawl seeded")
    d = balanced("after done")
    check(int(d["done"]) == 1 and int(d["queued"]) == 3, "done 1, queued 3: %r" % d)

    # FIFO within a priority: the child (priority 1) first, then the two list pages in order.
    t = take("w2", 3, 60000)
    urls = [json.loads(t[H + 3 + 4 * i])["u"] for i in range(3)]
    check(urls == ["http://h/detail/2", "http://h/list/1", "http://h/list/1"],
          "priority then FIFO: %r" % urls)
    ids = [t[H + 4 * i] for i in range(3)]
    toks = [t[H + 1 + 4 * i] for i in range(3)]

    # Renew: the leases held are extended; a stale one is reported lost.
    lost = step("renew", "w2", 60000, "{}", 2, ids[0], toks[0], ids[1], "1", 0)
    check(lost == [ids[1]], "renew reports the lease it does not hold: %r" % lost)
    check(settle(1, "d", ids[1], toks[1], 0) == [1], "the list page done")
    check(settle(1, "d", ids[1], toks[1], 0, batch=batches[0]) == [1],
          "its batch again answers as the first time")
    check(int(counts()["done"]) == 2 and counts().get("extra") == "1",
          "and is not done twice nor refused")

    # Retry: into the delayed set, not takeable before it is due.
    check(settle(1, "r", ids[0], toks[0], 300, 1) == [1], "retry accepted")
    d = balanced("after retry")
    check(int(d["delayed"]) == 1, "one delayed: %r" % d)
    t = take("w1", 5, 60000)
    check(len(t) == H and t[4] >= 0, "nothing to take before the retry is due: %r" % t)
    time.sleep(0.4)
    t = take("w1", 5, 60000)
    check(len(t) == H + 4 and t[H + 2] == "1", "the retry comes back with its attempt: %r" % t)
    rid, rtok = t[H], t[H + 1]

    # Fail for good: in the failures with its JSON.
    fj = json.dumps({"u": "http://h/detail/2", "cause": "4xx", "why": "HTTP 404"})
    check(settle(1, "f", rid, rtok, fj) == [1], "fail accepted")
    check(json.loads(r.call("HGET", P + "f", rid))["why"] == "HTTP 404", "failure kept")
    balanced("after fail")

    # A take whose answer was lost: the worker's leases it does not know of
    # go back to the queue, the ones it knows stay.
    settle(1, "b", ids[2], toks[2])          # given back, never fetched
    step("add", 1, "s:0005", "55", 0, rec("http://h/list/2"))
    t = take("w7", 2, 60000)
    check(len(t) == H + 8, "two taken: %r" % t)
    check(step("recover", "w7", 1, t[H]) == 1, "the unknown lease comes back")
    check(step("recover", "w8", 0) == 0, "another worker's leases stay")
    d = balanced("after recover")
    check(int(d["leased"]) == 1 and int(d["queued"]) == 1, "one leased, one queued: %r" % d)
    check(settle(1, "b", t[H], t[H + 1]) == [1], "the known one given back")

    # Leases expire: the request waits as a suspect, for a worker that holds
    # nothing else; it takes it alone, with a new token, and the first
    # worker's answer is refused.
    t = take("w1", 1, 50)                            # a 50 ms lease
    lid, ltok = t[H], t[H + 1]
    time.sleep(0.1)
    t = take("w2", 5, 60000)                         # not alone: no suspect
    check(t[5] == 1 and all(t[H + 4 * i] != lid for i in range((len(t) - H) // 4)),
          "a suspect waits for a worker alone: %r" % t)
    for i in range((len(t) - H) // 4):
        settle(1, "b", t[H + 4 * i], t[H + 1 + 4 * i])
    t = take("w2", 5, 60000, 1)
    check(len(t) == H + 4 and t[H] == lid and t[H + 1] != ltok and t[6] == 1,
          "an expired lease is taken over, alone: %r" % t)
    check(settle(1, "d", lid, ltok, 0) == [0], "the late answer is refused")
    check(settle(1, "d", lid, t[H + 1], 0) == [1], "the new holder's answer counts")
    d = balanced("after takeover")
    check(int(d["reclaimed"]) == 1, "one reclaim: %r" % d)
    t = take("w2", 5, 60000)
    for i in range((len(t) - H) // 4):
        settle(1, "d", t[H + 4 * i], t[H + 1 + 4 * i], 0)

    # Poison: a request whose lease keeps expiring ends in the failures, and
    # the request leased beside it the first time is not taken down with it.
    step("add", 2, "s:0004", "44", 0, rec("http://h/poison"), "s:0006", "66", 0,
         rec("http://h/beside"))
    t = take("w0", 2, 20, 1)
    check(len(t) == H + 8, "poison and another taken together: %r" % t)
    time.sleep(0.05)
    beside_done = False
    for k in range(1, 4):
        t = take("w%d" % k, 5, 20, 1)
        check(len(t) == H + 4 and t[6] == 1, "a suspect taken alone, round %d: %r" % (k, t))
        if "beside" in t[H + 3] and not beside_done:
            settle(1, "d", t[H], t[H + 1], 0)  # not the poison: done alone
            beside_done = True
            t = take("w%d" % k, 5, 20, 1)
        time.sleep(0.05)
    t = take("w9", 1, 20, 1)
    if len(t) > H and "beside" in t[H + 3]:
        settle(1, "d", t[H], t[H + 1], 0)
        t = take("w9", 1, 20, 1)
    fails = r.call("HGETALL", P + "f")
    poison = [json.loads(v) for v in fails[1::2] if "poison" in v]
    check(len(poison) == 1 and "expired 4 times" in poison[0]["why"],
          "poison in the failures after 4 expiries: %r" % fails)
    check(not any("beside" in v for v in fails[1::2]), "the other one did not fail")
    d = balanced("after poison")

    # The end: seeded, nothing queued, delayed or leased.
    check(d["state"] == "complete" or t[0] == "complete", "complete at the end: %r %r" % (d, t))
    check(step("join", "w5", "fp1", 60000) == ["complete"], "a late worker sees complete")

    # Host slots: per_host 2, then a release; a rate reserves spaced starts; a pause.
    check(step("host", "h1", "a", 2, 0, 60000) == [0, 0], "slot a")
    check(step("host", "h1", "b", 2, 0, 60000) == [0, 0], "slot b")
    check(step("host", "h1", "c", 2, 0, 60000) == [1, 0], "full at 2")
    check(settle(1, "h", "h1", "a") == [1], "slot a given back")
    check(step("host", "h1", "c", 2, 0, 60000) == [0, 0], "slot c after the release")
    w1 = step("host", "h2", "a", 0, 100, 60000)
    w2 = step("host", "h2", "b", 0, 100, 60000)
    check(w1[0] == 0 and w2[0] == 0 and 90 <= w2[1] - w1[1] <= 110,
          "rate: starts reserved 100 ms apart: %r %r" % (w1, w2))
    settle(1, "p", "h3", 500)
    p = step("host", "h3", "a", 0, 0, 60000)
    check(p[0] == 2 and 0 < p[1] <= 500, "a paused host: %r" % p)
    check(step("host", "h4", "a", 1, 0, 30) == [0, 0], "a slot leased 30 ms")
    time.sleep(0.06)
    check(step("host", "h4", "b", 1, 0, 60000) == [0, 0], "an expired slot comes back")

    # A record that could not be followed: counted apart from the requests
    # (the counts still balance), and kept.
    check(settle(1, "x", "http://h/list/9", "record 2 has nothing at /id") == [1],
          "a record's failure taken")
    d = balanced("after a record's failure")
    check(d.get("records_failed") == "1", "counted in records_failed: %r" % d)
    check("nothing at" in r.call("LRANGE", P + "fr", 0, -1)[0], "kept in fr")

    # Failures back in the queue (--retry-failed): the 404 and the poison
    # are queued again, their attempts and reclaims forgotten, in steps
    # that walk the failures with a cursor; the complete crawl is not
    # complete while they wait; done requests stay done.
    check(d["state"] == "complete" and d["failed"] == "2", "two failures: %r" % d)

    def retry_failed():
        moved, cursor = 0, "0"
        while True:
            got = step("retry_failed", cursor, 1)
            check(isinstance(got, list) and len(got) == 2, "retry_failed: %r" % (got,))
            cursor, moved = got[0], moved + got[1]
            if cursor == "0":
                return moved

    done = d["done"]
    check(retry_failed() == 2, "both failures moved")
    d = balanced("after retry_failed")
    check(d["failed"] == "0" and d["queued"] == 2 and d["state"] == "seeded" and d["done"] == done,
          "queued again, not complete: %r" % d)
    check(r.call("HLEN", P + "f") == 0 and r.call("HLEN", P + "k") == 0 and
          r.call("HLEN", P + "a") == 0, "failures, reclaims and attempts forgotten")
    t = take("w1", 5, 60000)
    urls = sorted(json.loads(t[H + 3 + 4 * i])["u"] for i in range((len(t) - H) // 4))
    check(urls == ["http://h/detail/2", "http://h/poison"] and t[H + 2] == "0" and t[H + 6] == "0",
          "taken again, with no attempt: %r" % t)
    check(settle(2, "d", t[H], t[H + 1], 0, "f", t[H + 4], t[H + 5], fj) == [1, 1],
          "one done, one failed again")
    check(take("w1", 5, 60000)[0] == "complete", "complete again, with one failure")
    check(retry_failed() == 1, "the new failure moved")
    d = balanced("after the second retry_failed")
    check(d["failed"] == "0" and d["queued"] == 1, "queued again: %r" % d)
    t = take("w1", 5, 60000)
    check(settle(1, "f", t[H], t[H + 1], fj) == [1], "failed once more")
    # A failure whose request is not kept stays a failure.
    r.call("HDEL", P + "r", t[H])
    check(retry_failed() == 0, "a failure without its request stays")
    check(take("w1", 5, 60000)[0] == "complete", "complete, with that failure")
    d = balanced("after retry_failed without a request")
    check(d["failed"] == "1", "still failed: %r" % d)

    # Keys that vanish: a crawl gone is an error, never "complete".
    r.call("FLUSHALL")
    gone = step("take", "w1", 1, 1000, 3, 0)
    check(isinstance(gone, RedisError) and gone.startswith("ACRAWL_GONE"),
          "take after FLUSHALL: %r" % gone)
    gone = settle(1, "d", "000000000001", "1", 0)
    check(isinstance(gone, RedisError) and gone.startswith("ACRAWL_GONE"),
          "settle after FLUSHALL: %r" % gone)


if __name__ == "__main__":
    sys.exit(main())
