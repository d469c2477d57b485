#!/usr/bin/python3
"""The tutorial's own book crawler (section 7 of docs/tutorial.md), as a peer
for bench/crawl.sh: two phases, each an asyncio.gather of every task under
one asyncio.Semaphore(CONCURRENCY), one aiohttp.ClientSession.

Deviations from the tutorial, each for a reason:
- base URL, concurrency and page count come from the command line (the
  tutorial has constants: CONCURRENCY = 5, PAGE_NUMBER = 100);
- books go into SQLite (stdlib sqlite3) instead of MongoDB through motor, as
  there is no MongoDB server for benchmarks: save_data keeps the tutorial's
  place and shape (upsert by id, one call per book, after the fetch and
  outside the semaphore) but is synchronous on the loop's thread, as a
  typical port of motor's update_one to sqlite3 would be. WAL with
  synchronous=NORMAL, one commit per book: update_one is acknowledged per
  document, and WAL/NORMAL commits do not fsync (acrawl's store is WAL too);
- `--store none` stores nothing (to see what the store costs);
- the tutorial logs every URL and every book at INFO; that is off unless
  --log is given, so the benchmark measures crawling, not the terminal;
- the connector's limit is set to CONCURRENCY: aiohttp's default of 100
  pooled connections would otherwise cap a 256-wide run below the semaphore.

Usage: tutorial_crawler.py --base URL [--concurrency 64] [--pages 503]
                           [--store sqlite:PATH | --store none] [--log]
"""
import argparse
import asyncio
import json
import logging
import sqlite3

import aiohttp

p = argparse.ArgumentParser()
p.add_argument("--base", required=True)
p.add_argument("--concurrency", type=int, default=64)
p.add_argument("--pages", type=int, default=503)  # 9,040 books / 18, rounded up
p.add_argument("--store", default="none")
p.add_argument("--log", action="store_true")
args = p.parse_args()

logging.basicConfig(level=logging.INFO if args.log else logging.WARNING,
                    format="%(asctime)s - %(levelname)s: %(message)s")

INDEX_URL = args.base.rstrip("/") + "/api/book/?limit=18&offset={offset}"
DETAIL_URL = args.base.rstrip("/") + "/api/book/{id}"
PAGE_SIZE = 18
PAGE_NUMBER = args.pages
CONCURRENCY = args.concurrency

db = None
if args.store != "none":
    if not args.store.startswith("sqlite:"):
        p.error("--store: sqlite:PATH or none")
    db = sqlite3.connect(args.store[len("sqlite:"):])
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE IF NOT EXISTS books (id TEXT PRIMARY KEY, doc TEXT NOT NULL)")

semaphore = asyncio.Semaphore(CONCURRENCY)
session = None


async def scrape_api(url):
    async with semaphore:
        try:
            logging.info("scraping %s", url)
            async with session.get(url) as response:
                return await response.json()
        except aiohttp.ClientError:
            logging.error("error occurred while scraping %s", url, exc_info=True)


async def scrape_index(page):
    url = INDEX_URL.format(offset=PAGE_SIZE * (page - 1))
    return await scrape_api(url)


async def save_data(data):
    logging.info("saving data %s", data)
    if data and db is not None:
        # The tutorial: collection.update_one({'id': id}, {'$set': data}, upsert=True)
        db.execute("INSERT INTO books (id, doc) VALUES (?, ?) "
                   "ON CONFLICT (id) DO UPDATE SET doc = excluded.doc",
                   (str(data.get("id")), json.dumps(data, ensure_ascii=False)))
        db.commit()


async def scrape_detail(id):
    url = DETAIL_URL.format(id=id)
    data = await scrape_api(url)
    await save_data(data)


async def main():
    global session
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=CONCURRENCY))
    scrape_index_tasks = [asyncio.ensure_future(scrape_index(page))
                          for page in range(1, PAGE_NUMBER + 1)]
    results = await asyncio.gather(*scrape_index_tasks)
    ids = []
    for index_data in results:
        if not index_data:
            continue
        for item in index_data.get("results"):
            ids.append(item.get("id"))
    scrape_detail_tasks = [asyncio.ensure_future(scrape_detail(id)) for id in ids]
    await asyncio.wait(scrape_detail_tasks)
    await session.close()


if __name__ == "__main__":
    asyncio.run(main())
    if db is not None:
        db.close()
