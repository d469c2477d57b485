#!/usr/bin/python3
"""aiohttp peer of `acrawl fetch`: GET every URL of a file (one a line) with
C requests in flight over one ClientSession, reading each body; prints the
count, failures and the wall time. CPU is measured by whoever runs it.

  aiohttp_fetch.py URLFILE [C=64] [--identity]

--identity sends Accept-Encoding: identity (as wrk and curl do by default);
without it aiohttp asks for gzip and deflate.
"""
import asyncio
import sys
import time

import aiohttp


async def main(path, c, identity):
    with open(path) as f:
        urls = [line.strip() for line in f if line.strip() and not line.startswith("#")]
    headers = {"Accept-Encoding": "identity"} if identity else None
    # No connection cap of aiohttp's own (default 100): C workers are the cap,
    # as the semaphore is in acrawl fetch.
    conn = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=None)
    it = iter(urls)
    ok = failed = 0

    async def worker(session):
        nonlocal ok, failed
        for url in it:
            try:
                async with session.get(url, headers=headers) as r:
                    await r.read()
                    ok += 1
            except Exception as e:  # counted: the figure must say it
                failed += 1
                if failed <= 3:
                    print("aiohttp_fetch: %s: %r" % (url, e), file=sys.stderr)

    t0 = time.monotonic()
    async with aiohttp.ClientSession(connector=conn, timeout=timeout) as session:
        await asyncio.gather(*(worker(session) for _ in range(min(c, len(urls)))))
    wall = time.monotonic() - t0
    print("aiohttp %s: %d requests (%d ok, %d failed), %d in flight, %.3f s" %
          (aiohttp.__version__, len(urls), ok, failed, c, wall))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if not args:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(asyncio.run(main(args[0], int(args[1]) if len(args) > 1 else 64,
                              "--identity" in sys.argv)))
