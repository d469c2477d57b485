"""The tutorial's book crawl as a Scrapy user would write it: one spider, an
item pipeline that upserts each book by id into SQLite, and the settings for
the fastest fair run (64 requests in flight, all to the one host, no
AutoThrottle, no robots.txt, no cookies, warnings only). Scrapy's own
retries (2, on 5xx/429/network errors) stay on, as they are by default.
A peer for bench/crawl.sh.

Run with Debian's python3-scrapy:
  scrapy runspider bench/crawl/scrapy_books.py -a base=URL [-a store=sqlite:PATH]
      [-s CONCURRENT_REQUESTS=64 -s CONCURRENT_REQUESTS_PER_DOMAIN=64]
Without `store` (or with store=none) nothing is stored.

The first list page gives the site's `count`; its callback asks for every
other list page, and every list page asks for its books, so details start
as soon as the first page is parsed (Scrapy's scheduler, no phases).
"""
import json
import sqlite3

import scrapy


class SqlitePipeline:
    """Upsert by id, one commit per book, WAL + synchronous=NORMAL: the same
    store as the other peers (tutorial_crawler.py)."""

    def open_spider(self, spider):
        self.db = None
        if spider.store != "none":
            self.db = sqlite3.connect(spider.store[len("sqlite:"):])
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute("CREATE TABLE IF NOT EXISTS books "
                            "(id TEXT PRIMARY KEY, doc TEXT NOT NULL)")

    def process_item(self, item, spider):
        if self.db is not None:
            self.db.execute("INSERT INTO books (id, doc) VALUES (?, ?) "
                            "ON CONFLICT (id) DO UPDATE SET doc = excluded.doc",
                            (str(item["id"]), json.dumps(item, ensure_ascii=False)))
            self.db.commit()
        return item

    def close_spider(self, spider):
        if self.db is not None:
            self.db.close()


class BooksSpider(scrapy.Spider):
    name = "books"
    custom_settings = {
        "CONCURRENT_REQUESTS": 64,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 64,
        "CONCURRENT_REQUESTS_PER_IP": 0,
        "DOWNLOAD_DELAY": 0,
        "AUTOTHROTTLE_ENABLED": False,
        "ROBOTSTXT_OBEY": False,
        "COOKIES_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        "LOG_LEVEL": "WARNING",
        "ITEM_PIPELINES": {SqlitePipeline: 300},
        "LOGSTATS_INTERVAL": 0,
        # Items are processed one at a time per response: the pipeline is
        # synchronous, so concurrent items buy nothing, and Scrapy 2.8 starts
        # CONCURRENT_ITEMS (default 100) cooperative tasks for every response's
        # output, which doubled the run's CPU time here (measured: 25 s -> 10 s).
        "CONCURRENT_ITEMS": 1,
        # The value Scrapy recommends for new projects (silences a warning).
        "REQUEST_FINGERPRINTER_IMPLEMENTATION": "2.7",
    }
    page_size = 18

    def __init__(self, base, store="none", **kw):
        super().__init__(**kw)
        if store != "none" and not store.startswith("sqlite:"):
            raise ValueError("store: sqlite:PATH or none")
        self.base = base.rstrip("/")
        self.store = store

    def list_url(self, offset):
        return f"{self.base}/api/book/?limit={self.page_size}&offset={offset}"

    def start_requests(self):
        yield scrapy.Request(self.list_url(0), callback=self.parse_first)

    def parse_first(self, response):
        page = response.json()
        for offset in range(self.page_size, page["count"], self.page_size):
            yield scrapy.Request(self.list_url(offset))
        yield from self.parse(response, page)

    def parse(self, response, page=None):
        page = page or response.json()
        for book in page["results"]:
            # Books first out of the scheduler, so that items flow early.
            yield scrapy.Request(f"{self.base}/api/book/{book['id']}",
                                 callback=self.parse_book, priority=1)

    def parse_book(self, response):
        yield response.json()
