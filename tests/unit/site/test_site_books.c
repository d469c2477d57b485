/*
 * acrawl site's book API against curl: list pages and their count, the 301
 * from /api/book?..., details equal to the JSON Lines dump byte for byte,
 * 404s, gzip, and the dump's determinism.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner.h"
#include "site_proc.h"

static int results_len(const cJSON *page) {
  const cJSON *r = cJSON_GetObjectItemCaseSensitive(page, "results");
  ASSERT(cJSON_IsArray(r));
  return cJSON_GetArraySize(r);
}

TEST_IMPL(site_list_pages) {
  struct site_proc p;
  cJSON *j;
  char pq[128];
  int pages = 0;

  site_start(&p, NULL);
  /* 9,040 books are 503 pages of 18: the first and the 502nd are full, the
   * 503rd holds 4, the 504th is empty (and still 200, with the count). */
  j = site_json(&p, "/api/book/?limit=18&offset=0");
  ASSERT_NOT_NULL(j);
  ASSERT_EQ(site_num(j, "count"), 9040);
  ASSERT_EQ(results_len(j), 18);
  {
    const cJSON *first = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "results"), 0);
    static const char *const keys[] = {"id", "name", "authors", "cover", "score"};
    int k = 0;
    for (const cJSON *f = first->child; f != NULL; f = f->next, k++) {
      ASSERT_LT(k, 5);
      ASSERT_STR_EQ(f->string, keys[k]);
    }
    ASSERT_EQ(k, 5);
  }
  cJSON_Delete(j);
  for (int off = 0; off < 9040 + 36; off += 18) {
    if (off != 0 && off != 501 * 18 && off != 502 * 18 && off != 503 * 18) continue;
    snprintf(pq, sizeof(pq), "/api/book/?limit=18&offset=%d", off);
    j = site_json(&p, pq);
    ASSERT_NOT_NULL(j);
    ASSERT_EQ(site_num(j, "count"), 9040);
    if (off <= 501 * 18) ASSERT_EQ(results_len(j), 18);
    if (off == 502 * 18) ASSERT_EQ(results_len(j), 4);
    if (off == 503 * 18) ASSERT_EQ(results_len(j), 0);
    if (results_len(j) > 0) pages++;
    cJSON_Delete(j);
  }
  ASSERT_EQ(pages, 3);
  /* No limit: the page size; a huge limit is capped at 100; odd ones work. */
  j = site_json(&p, "/api/book/");
  ASSERT_EQ(results_len(j), 18);
  cJSON_Delete(j);
  j = site_json(&p, "/api/book/?limit=100000&offset=0");
  ASSERT_EQ(results_len(j), 100);
  cJSON_Delete(j);
  j = site_json(&p, "/api/book/?limit=7&offset=9038");
  ASSERT_EQ(results_len(j), 2);
  cJSON_Delete(j);
  j = site_json(&p, "/api/book/?limit=18&offset=99999999999999999999999");
  ASSERT_EQ(results_len(j), 0);
  cJSON_Delete(j);
  ASSERT_EQ(site_stop(&p, SIGTERM), 0);
}

TEST_IMPL(site_list_redirect) {
  struct site_proc p;
  char *out;
  site_start(&p, NULL);
  out = site_shf("curl -s -o /dev/null -w '%%{http_code} %%{redirect_url}' "
                 "'%s/api/book?limit=18&offset=36'", p.url);
  {
    char want[256];
    snprintf(want, sizeof(want), "301 %s/api/book/?limit=18&offset=36", p.url);
    ASSERT_STR_EQ(out, want);
  }
  free(out);
  /* Followed, it lands on the third page. */
  free(site_shf("curl -sL -o %s/followed '%s/api/book?limit=18&offset=36' && "
                "curl -s -o %s/direct '%s/api/book/?limit=18&offset=36' && "
                "test -s %s/direct && cmp %s/followed %s/direct",
                site_tmpdir(), p.url, site_tmpdir(), p.url, site_tmpdir(), site_tmpdir(),
                site_tmpdir()));
  ASSERT_EQ(site_stop(&p, SIGTERM), 0);
}

/* The id of a dump line: it starts with {"id":"DIGITS". */
static void line_id(const char *line, char *id, size_t cap) {
  size_t n = 0;
  ASSERT(strncmp(line, "{\"id\":\"", 7) == 0);
  for (line += 7; *line != '"' && n + 1 < cap; line++) id[n++] = *line;
  id[n] = '\0';
}

TEST_IMPL(site_detail_matches_dump) {
  struct site_proc p;
  char dump[128], *all, *line, *out;
  size_t len;
  /* The first book, padded authors, non-BMP, escapes, NUL, a big text, the
   * big int, and the last. */
  static const int picks[] = {0, 1, 2, 3, 5, 11, 17, 921, 9039};
  size_t npicks = sizeof(picks) / sizeof(picks[0]), k = 0;
  int idx = 0;

  site_start(&p, NULL);
  snprintf(dump, sizeof(dump), "%s/books.jsonl", site_tmpdir());
  free(site_shf("'%s' site --dump '%s'", site_bin(), dump));
  all = site_read_file(dump, &len);
  for (line = all; *line && k < npicks; idx++) {
    char *nl = strchr(line, '\n');
    ASSERT_NOT_NULL(nl);
    if (idx == picks[k]) {
      char id[32], body[128];
      size_t blen;
      char *got;
      line_id(line, id, sizeof(id));
      snprintf(body, sizeof(body), "%s/detail.%s", site_tmpdir(), id);
      free(site_shf("curl -s -o '%s' '%s/api/book/%s'", body, p.url, id));
      got = site_read_file(body, &blen);
      ASSERT_EQ(blen, (size_t)(nl - line));
      ASSERT(memcmp(got, line, blen) == 0);
      free(got);
      k++;
    }
    line = nl + 1;
  }
  ASSERT_EQ(k, npicks);
  ASSERT_EQ(idx, 9040);
  free(all);
  /* Unknown ids: 404 with the real site's body. */
  out = site_shf("curl -s -w ' %%{http_code} %%{content_type}' '%s/api/book/1'", p.url);
  ASSERT_STR_EQ(out, "{\"detail\":\"Not found.\"} 404 application/json");
  free(out);
  ASSERT_EQ(site_code(&p, "/api/book/abc"), 404);
  ASSERT_EQ(site_code(&p, "/api/book/99999999999999999999"), 404);
  ASSERT_EQ(site_stop(&p, SIGTERM), 0);
}

/* The site started with args serves gzip when asked, the same bytes. */
static void check_gzip(const char *args) {
  struct site_proc p;
  char *out;
  const char *d = site_tmpdir();
  site_start(&p, args);
  /* Asked for: gzip'd, and --compressed gives back the same bytes. */
  out = site_shf("curl -s -D - -o /dev/null -H 'Accept-Encoding: gzip' "
                 "'%s/api/book/?limit=18&offset=18' | tr -d '\\r' | grep -i '^content-encoding:'",
                 p.url);
  ASSERT_STR_EQ(out, "Content-Encoding: gzip\n");
  free(out);
  free(site_shf("curl -s -o %s/plain '%s/api/book/?limit=18&offset=18' && "
                "curl -s --compressed -o %s/gz '%s/api/book/?limit=18&offset=18' && "
                "cmp %s/plain %s/gz", d, p.url, d, p.url, d, d));
  free(site_shf("id=$(curl -s '%s/api/book/?limit=1&offset=17' | sed 's/^.*\"id\":\"\\([0-9]*\\)\".*$/\\1/') && "
                "curl -s -o %s/dplain \"%s/api/book/$id\" && "
                "curl -s --compressed -o %s/dgz \"%s/api/book/$id\" && "
                "test -s %s/dplain && cmp %s/dplain %s/dgz", p.url, d, p.url, d, p.url, d, d, d));
  /* A page that is not prebuilt is gzip'd on the fly. */
  free(site_shf("curl -s -o %s/oplain '%s/api/book/?limit=7&offset=3' && "
                "curl -s --compressed -D %s/ohead -o %s/ogz '%s/api/book/?limit=7&offset=3' && "
                "grep -qi '^content-encoding: gzip' %s/ohead && cmp %s/oplain %s/ogz",
                d, p.url, d, d, p.url, d, d, d));
  /* Not asked for (or refused with q=0): identity. */
  out = site_shf("curl -s -D - -o /dev/null -H 'Accept-Encoding: gzip;q=0, identity' "
                 "'%s/api/book/?limit=18&offset=18' | grep -ci '^content-encoding:' || true",
                 p.url);
  ASSERT_STR_EQ(out, "0\n");
  free(out);
  ASSERT_EQ(site_stop(&p, SIGTERM), 0);
}

TEST_IMPL(site_gzip) { check_gzip(NULL); }

/* Every body gzip'd at start (for benchmarks): served the same way. */
TEST_IMPL(site_gzip_ahead) { check_gzip("--gzip-ahead --books 300"); }

TEST_IMPL(site_dump_deterministic) {
  char *a, *b;
  size_t la, lb;
  const char *bin = site_bin();
  char cmd[512];
  int st;
  snprintf(cmd, sizeof(cmd), "'%s' site --books 300 --seed 7 --dump -", bin);
  a = site_sh(cmd, &st, &la);
  ASSERT_EQ(st, 0);
  b = site_sh(cmd, &st, &lb);
  ASSERT_EQ(st, 0);
  ASSERT_EQ(la, lb);
  ASSERT(la > 300 * 100);
  ASSERT(memcmp(a, b, la) == 0);
  /* 300 lines, each one JSON object. */
  {
    size_t lines = 0;
    for (size_t i = 0; i < la; i++) lines += a[i] == '\n';
    ASSERT_EQ(lines, 300);
  }
  free(b);
  /* Another seed, other books. */
  snprintf(cmd, sizeof(cmd), "'%s' site --books 300 --seed 8 --dump -", bin);
  b = site_sh(cmd, &st, &lb);
  ASSERT_EQ(st, 0);
  ASSERT(la != lb || memcmp(a, b, la) != 0);
  free(a);
  free(b);
}
