/*
 * The crawl engine's small parts: URL keys for dedup, the seen set, the
 * latency histogram.
 */
#include <stdio.h>
#include <string.h>

#include "acrawl/errno.h"
#include "crawl/internal.h"
#include "runner.h"

static void key_is(const char *in, const char *key, const char *host) {
  ac__crawl_url_t u;
  int rc = ac__crawl_url_parse(in, &u);
  if (rc != 0) AC__FAIL("%s: %s", in, ac_strerror(rc));
  if (strcmp(u.key, key) != 0) AC__FAIL("key of %s: %s, expected %s", in, u.key, key);
  if (strcmp(u.host, host) != 0) AC__FAIL("host of %s: %s, expected %s", in, u.host, host);
  ASSERT(strchr(u.fetch, '#') == NULL);
  ac__crawl_url_free(&u);
}

TEST_IMPL(crawl_url_keys) {
  key_is("http://Example.COM/a?b=2&a=1#frag", "http://example.com/a?a=1&b=2", "example.com");
  key_is("HTTP://example.com:80", "http://example.com/", "example.com");
  key_is("https://example.com:443/x", "https://example.com/x", "example.com");
  key_is("http://127.0.0.1:8080/api/book/?limit=18&offset=36",
         "http://127.0.0.1:8080/api/book/?limit=18&offset=36", "127.0.0.1:8080");
  key_is("http://127.0.0.1:8080/api/book/?offset=36&limit=18",
         "http://127.0.0.1:8080/api/book/?limit=18&offset=36", "127.0.0.1:8080");
  /* The path's case is the site's business. */
  key_is("http://h/API/Book", "http://h/API/Book", "h");
}

TEST_IMPL(crawl_url_refuses) {
  static const char *const bad[] = {"", "/relative/path", "example.com/no-scheme",
                                    "ftp://example.com/", "file:///etc/passwd", "http://",
                                    "http:// spaces.example/"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    ac__crawl_url_t u;
    if (ac__crawl_url_parse(bad[i], &u) != AC_EINVAL) AC__FAIL("accepted '%s'", bad[i]);
  }
  ASSERT_EQ(ac__crawl_url_parse(NULL, &(ac__crawl_url_t){0}), AC_EINVAL);
}

/* The plain parser against libcurl's, over every combination of tricky
 * parts: wherever the plain one takes a URL, the three strings must be
 * libcurl's; and ac__crawl_url_parse must always agree with libcurl. */
TEST_IMPL(crawl_url_plain_agrees_with_libcurl) {
  static const char *const schemes[] = {"http://", "https://", "HTTP://", "Https://"};
  static const char *const hosts[] = {
      "example.com", "Example.com", "127.0.0.1", "127.1", "0x7f.0.0.1", "010.0.0.1",
      "0.0.0.0", "255.255.255.255", "256.1.1.1", "1.2.3.4.5", "00.1.2.3", "1a.b",
      "a-b.c", "-a.b", "a..b", "a.", ".a", "xn--bcher-kva.example", "h", "123",
      "a_b.c", "user@h", "[::1]", "1.2.3", "9.9.9.09"};
  static const char *const ports[] = {"", ":80", ":443", ":8080", ":0", ":65535", ":65536",
                                      ":080", ":1", ":", ":123456"};
  static const char *const paths[] = {"",       "/",       "/a",         "/a/./b",   "/a/../b",
                                      "/.",     "/..",     "/.hidden",   "/a/b/",    "/%41",
                                      "/%zz",   "/%4",     "/a b",       "/~x",      "/a|b",
                                      "/[x]",   "/\xc3\xa9", "/!$&'()*+,;=:@", "/a/..", "/...",
                                      "/a%2e%2e/b", "//double", "/a\\b", "/tab\t"};
  static const char *const queries[] = {"",        "?",          "?a=1",     "?b=2&a=1",
                                        "?a=1&&b", "?x=/y",      "?q=%20",   "?a b",
                                        "?a=?",    "?limit=18&offset=36"};
  static const char *const frags[] = {"", "#f", "#"};
  char url[256];
  long plain = 0, total = 0;

  for (size_t a = 0; a < sizeof(schemes) / sizeof(*schemes); a++)
    for (size_t b = 0; b < sizeof(hosts) / sizeof(*hosts); b++)
      for (size_t c = 0; c < sizeof(ports) / sizeof(*ports); c++)
        for (size_t d = 0; d < sizeof(paths) / sizeof(*paths); d++)
          for (size_t e = 0; e < sizeof(queries) / sizeof(*queries); e++)
            for (size_t f = 0; f < sizeof(frags) / sizeof(*frags); f++) {
              ac__crawl_url_t want, got, fast;
              int rc_want, rc_got, rc_fast;
              snprintf(url, sizeof(url), "%s%s%s%s%s%s", schemes[a], hosts[b], ports[c],
                       paths[d], queries[e], frags[f]);
              rc_want = ac__crawl_url_parse_curl(url, &want);
              rc_got = ac__crawl_url_parse(url, &got);
              rc_fast = ac__crawl_url_parse_plain(url, &fast);
              total++;
              if (rc_got != rc_want) AC__FAIL("%s: rc %d, libcurl's %d", url, rc_got, rc_want);
              if (rc_fast == 0) {
                plain++;
                if (rc_want != 0) AC__FAIL("%s: plain took what libcurl refuses", url);
                if (strcmp(fast.key, want.key) != 0 || strcmp(fast.fetch, want.fetch) != 0 ||
                    strcmp(fast.host, want.host) != 0)
                  AC__FAIL("%s: plain gave key %s fetch %s host %s, libcurl %s %s %s", url,
                           fast.key, fast.fetch, fast.host, want.key, want.fetch, want.host);
                ac__crawl_url_free(&fast);
              } else {
                ASSERT_EQ(rc_fast, 1);
                ASSERT_NULL(fast.key);
              }
              if (rc_want == 0) {
                if (strcmp(got.key, want.key) != 0 || strcmp(got.fetch, want.fetch) != 0 ||
                    strcmp(got.host, want.host) != 0)
                  AC__FAIL("%s: key %s fetch %s host %s, libcurl %s %s %s", url, got.key,
                           got.fetch, got.host, want.key, want.fetch, want.host);
                ac__crawl_url_free(&want);
                ac__crawl_url_free(&got);
              }
            }
  /* The corpus is mostly tricky parts: the plain parser takes a few
   * thousand of its URLs (6,300 when written), never all of them. */
  ASSERT_GT(plain, 1000);
  ASSERT_LT(plain, total / 10);
  {
    static const char *const common[] = {
        "http://127.0.0.1:8080/api/book/?limit=18&offset=36", "http://127.0.0.1:8080/api/book/10710559",
        "https://spa5.scrape.center/api/book/?limit=18&offset=0", "http://example.com/",
        "https://a-b.example.org:8443/x/y.json?q=%C3%A9&z=1"};
    for (size_t i = 0; i < sizeof(common) / sizeof(*common); i++) {
      ac__crawl_url_t u;
      if (ac__crawl_url_parse_plain(common[i], &u) != 0) AC__FAIL("not plain: %s", common[i]);
      ac__crawl_url_free(&u);
    }
  }
}

TEST_IMPL(crawl_seen_set) {
  ac__seen_t s = {0};
  char key[64];
  for (int i = 0; i < 100000; i++) {
    snprintf(key, sizeof(key), "http://h/api/book/?limit=18&offset=%d", i * 18);
    ASSERT_EQ(ac__seen_add(&s, key), 1);
  }
  ASSERT_EQ(s.count, 100000);
  /* The table stays at most half full. */
  ASSERT_LE(s.count * 2, s.cap);
  for (int i = 0; i < 100000; i += 7) {
    snprintf(key, sizeof(key), "http://h/api/book/?limit=18&offset=%d", i * 18);
    ASSERT_EQ(ac__seen_has(&s, key), 1);
    ASSERT_EQ(ac__seen_add(&s, key), 0);
  }
  ASSERT_EQ(ac__seen_has(&s, "http://h/never"), 0);
  ASSERT_EQ(s.count, 100000);
  ac__seen_free(&s);
}

TEST_IMPL(crawl_latency_quantiles) {
  ac__latency_t l;
  memset(&l, 0, sizeof(l));
  ASSERT(ac__latency_quantile_ms(&l, 0.5) == 0);
  /* 1..1000 ms, once each: p50 near 500 ms, p99 near 990 ms, within a bucket (6%). */
  for (uint64_t ms = 1; ms <= 1000; ms++) ac__latency_add(&l, ms * 1000);
  double p50 = ac__latency_quantile_ms(&l, 0.5), p99 = ac__latency_quantile_ms(&l, 0.99);
  if (p50 < 470 || p50 > 535) AC__FAIL("p50 %.1f", p50);
  if (p99 < 930 || p99 > 1050) AC__FAIL("p99 %.1f", p99);
  /* Tiny values are exact. */
  memset(&l, 0, sizeof(l));
  for (int i = 0; i < 10; i++) ac__latency_add(&l, 3);
  ASSERT(ac__latency_quantile_ms(&l, 0.99) * 1000 == 3);
}

/* The adaptive throttle's arithmetic (AIMD on a host's window): an overload
 * halves it, once per second at most; each success widens it by 1/window;
 * it never leaves 1..per_host; without --throttle nothing moves. */
static int no_start(ac_crawl_t *c, void *d) {
  (void)c;
  (void)d;
  return 0;
}
static int no_parse(ac_crawl_t *c, const ac_crawl_req_t *r, ac_response_t *resp, void *d) {
  (void)c;
  (void)r;
  (void)resp;
  (void)d;
  return 0;
}

TEST_IMPL(crawl_throttle_aimd) {
  static const ac_spider_parse_fn cbs[] = {no_parse};
  ac_spider_t spider = {"t", no_start, cbs, 1, NULL, 0, NULL};
  ac_loop_t *loop;
  ac_crawl_t *c;
  ac_crawl_opts_t o;
  ac__host_t *h;
  ASSERT_EQ(ac_loop_new(&loop), 0);
  for (int throttle = 0; throttle <= 1; throttle++) {
    ac_crawl_opts_init(&o);
    o.concurrency = 16;
    o.per_host = 8;
    o.throttle = throttle;
    ASSERT_EQ(ac_crawl_new(loop, &spider, &o, &c), 0);
    h = ac__hosts_get(c, "example.com");
    ASSERT(h != NULL);
    ASSERT(ac__hosts_get(c, "example.com") == h);
    ASSERT(h->window == 8);
    h->active = 3;
    ac__host_release(c, h, 1, 10); /* overload */
    ASSERT(h->window == (throttle ? 4 : 8));
    ac__host_release(c, h, 1, 10); /* within the same second: counted once */
    ASSERT(h->window == (throttle ? 4 : 8));
    ac__host_release(c, h, 2, 10); /* a plain failure: no change */
    ASSERT(h->window == (throttle ? 4 : 8));
    if (throttle) {
      h->last_decrease_ms = 1; /* pretend the last halving was long ago */
      h->active = 20;
      ac__host_release(c, h, 1, 10);
      ASSERT(h->window == 2);
      for (int i = 0; i < 2; i++) ac__host_release(c, h, 0, 10); /* 2 -> 2.5 -> 2.9 */
      ASSERT(h->window > 2.85 && h->window < 2.95);
      for (int i = 0; i < 200; i++) {
        h->active = 1;
        ac__host_release(c, h, 0, 10);
      }
      ASSERT(h->window == 8); /* capped at per_host */
      h->last_decrease_ms = 1;
      h->window = 1;
      h->active = 1;
      ac__host_release(c, h, 1, 10);
      ASSERT(h->window == 1); /* never below one slot */
    }
    ac_crawl_free(c);
  }
  ASSERT_EQ(ac_loop_close(loop), 0);
}
