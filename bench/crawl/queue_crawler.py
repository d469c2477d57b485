#!/usr/bin/python3
"""The tutorial's "complete async crawler" (section 7 of ../shared/seed): a
dynamic crawl queue that list pages feed and N consumer tasks drain, so that
all N are busy all the time. A peer for bench/crawl.sh.

The first list page is fetched and parsed, which gives the site's `count`;
then the other list pages and the first page's books go into one
asyncio.Queue, and every list page a consumer parses puts its books in the
same queue: details start as soon as the first list page is parsed, with no
barrier between the phases. N consumers are the concurrency (no semaphore).
Runs on uvloop when python3-uvloop is installed.

Storage as in tutorial_crawler.py: SQLite upserts by id, one commit per book,
WAL + synchronous=NORMAL, synchronous on the loop's thread; `--store none`
stores nothing. The queue is unbounded (the tutorial's sketch has no cap;
9,543 small tuples).

No retries by default, like the tutorial: a failed URL is logged and skipped.
`--retries N` retries network errors, timeouts, 5xx, 429 (honouring
Retry-After) and bodies that do not parse, with exponential backoff, the way
a careful user would add it; used by bench/crawl.sh's fault run.

Usage: queue_crawler.py --base URL [--concurrency 64] [--retries 0]
                        [--store sqlite:PATH | --store none]
"""
import argparse
import asyncio
import json
import logging
import random
import sqlite3

import aiohttp

try:
    import uvloop
except ImportError:
    uvloop = None

p = argparse.ArgumentParser()
p.add_argument("--base", required=True)
p.add_argument("--concurrency", type=int, default=64)
p.add_argument("--retries", type=int, default=0)
p.add_argument("--store", default="none")
args = p.parse_args()
logging.basicConfig(level=logging.WARNING, format="%(asctime)s - %(levelname)s: %(message)s")

BASE = args.base.rstrip("/")
PAGE_SIZE = 18
INDEX_URL = BASE + "/api/book/?limit=18&offset={offset}"
DETAIL_URL = BASE + "/api/book/{id}"

db = None
if args.store != "none":
    if not args.store.startswith("sqlite:"):
        p.error("--store: sqlite:PATH or none")
    db = sqlite3.connect(args.store[len("sqlite:"):])
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE IF NOT EXISTS books (id TEXT PRIMARY KEY, doc TEXT NOT NULL)")

failures = []


class Retry(Exception):
    def __init__(self, why, wait=None):
        super().__init__(why)
        self.wait = wait


async def fetch_json(session, url):
    """The JSON at url, or None after logging the failure (and retries)."""
    for attempt in range(args.retries + 1):
        try:
            async with session.get(url) as r:
                if r.status == 429 or r.status >= 500:
                    ra = r.headers.get("Retry-After")
                    raise Retry(f"HTTP {r.status}", float(ra) if ra and ra.isdigit() else None)
                if r.status >= 400:  # other 4xx are permanent: no retry
                    logging.warning("giving up on %s: HTTP %d", url, r.status)
                    failures.append(url)
                    return None
                return await r.json()
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError, Retry) as e:
            # ValueError covers JSON that does not parse (json.JSONDecodeError).
            if attempt == args.retries:
                logging.warning("giving up on %s: %r", url, e)
                failures.append(url)
                return None
            wait = getattr(e, "wait", None)
            await asyncio.sleep(wait if wait is not None
                                else 0.1 * 2 ** attempt * (0.5 + random.random()))


def save(book):
    db.execute("INSERT INTO books (id, doc) VALUES (?, ?) "
               "ON CONFLICT (id) DO UPDATE SET doc = excluded.doc",
               (str(book["id"]), json.dumps(book, ensure_ascii=False)))
    db.commit()


async def consumer(session, queue):
    while True:
        kind, arg = await queue.get()
        try:
            if kind == "list":
                page = await fetch_json(session, INDEX_URL.format(offset=arg))
                for item in (page or {}).get("results", []):
                    queue.put_nowait(("detail", item["id"]))
            else:
                book = await fetch_json(session, DETAIL_URL.format(id=arg))
                if book and db is not None:
                    save(book)
        finally:
            queue.task_done()


async def main():
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(timeout=timeout,
                                     connector=aiohttp.TCPConnector(limit=args.concurrency)) as s:
        first = await fetch_json(s, INDEX_URL.format(offset=0))
        if first is None:
            raise SystemExit("queue_crawler: the first list page failed")
        queue = asyncio.Queue()
        for item in first["results"]:
            queue.put_nowait(("detail", item["id"]))
        for offset in range(PAGE_SIZE, first["count"], PAGE_SIZE):
            queue.put_nowait(("list", offset))
        workers = [asyncio.create_task(consumer(s, queue)) for _ in range(args.concurrency)]
        await queue.join()
        for w in workers:
            w.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
    if failures:
        logging.warning("%d URLs failed", len(failures))


if __name__ == "__main__":
    if uvloop is not None:
        uvloop.install()
    asyncio.run(main())
    if db is not None:
        db.close()
    raise SystemExit(1 if failures else 0)
