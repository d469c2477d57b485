#!/usr/bin/python3
"""The tutorial's "complete async crawler" (section 7 of docs/tutorial.md): a
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
Retry-After) and bodies that do not parse, with exponential backoff and
jitter, the way a careful user would add it: a URL to retry goes back into
the queue after its backoff (call_later) instead of sleeping in a consumer.
Used by bench/crawl.sh's fault run.

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


class Transient(Exception):
    """A failure worth retrying; wait is the server's Retry-After, if any."""

    def __init__(self, why, wait=None):
        super().__init__(why)
        self.wait = wait


async def fetch_json(session, url):
    """The JSON at url, or None for a permanent failure (a 4xx but 429).
    Raises Transient for what is worth retrying."""
    try:
        async with session.get(url) as r:
            if r.status == 429 or r.status >= 500:
                ra = r.headers.get("Retry-After")
                raise Transient(f"HTTP {r.status}", float(ra) if ra and ra.isdigit() else None)
            if r.status >= 400:
                logging.warning("giving up on %s: HTTP %d", url, r.status)
                failures.append(url)
                return None
            return await r.json()
    except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as e:
        # ValueError covers JSON that does not parse (json.JSONDecodeError).
        raise Transient(repr(e)) from e


def save(book):
    db.execute("INSERT INTO books (id, doc) VALUES (?, ?) "
               "ON CONFLICT (id) DO UPDATE SET doc = excluded.doc",
               (str(book["id"]), json.dumps(book, ensure_ascii=False)))
    db.commit()


def requeue(queue, item):
    queue.put_nowait(item)
    queue.task_done()  # the failed try, kept unfinished during the backoff


async def consumer(session, queue):
    loop = asyncio.get_running_loop()
    while True:
        kind, arg, attempt = await queue.get()
        url = INDEX_URL.format(offset=arg) if kind == "list" else DETAIL_URL.format(id=arg)
        done = True
        try:
            try:
                data = await fetch_json(session, url)
            except Transient as e:
                if attempt < args.retries:
                    # Back into the queue after the backoff, so that a waiting
                    # retry does not hold one of the N consumers; the item stays
                    # unfinished meanwhile, so queue.join() waits for it.
                    wait = e.wait if e.wait is not None else 0.1 * 2 ** attempt * (0.5 + random.random())
                    loop.call_later(wait, requeue, queue, (kind, arg, attempt + 1))
                    done = False
                    continue
                logging.warning("giving up on %s: %s", url, e)
                failures.append(url)
                data = None
            if kind == "list":
                for item in (data or {}).get("results", []):
                    queue.put_nowait(("detail", item["id"], 0))
            elif data and db is not None:
                save(data)
        finally:
            if done:
                queue.task_done()


async def main():
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(timeout=timeout,
                                     connector=aiohttp.TCPConnector(limit=args.concurrency)) as s:
        first = None
        for attempt in range(args.retries + 1):
            try:
                first = await fetch_json(s, INDEX_URL.format(offset=0))
                break
            except Transient as e:
                if attempt == args.retries:
                    break
                await asyncio.sleep(e.wait if e.wait is not None else 0.1 * 2 ** attempt)
        if first is None:
            raise SystemExit("queue_crawler: the first list page failed")
        queue = asyncio.Queue()
        for item in first["results"]:
            queue.put_nowait(("detail", item["id"], 0))
        for offset in range(PAGE_SIZE, first["count"], PAGE_SIZE):
            queue.put_nowait(("list", offset, 0))
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
