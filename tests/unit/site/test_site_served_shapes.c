/*
 * acrawl site's body shapes seen by curl: every layout, escape, BOM and
 * Content-Type label on the book API's 200s, each body equal in value to the
 * dump, the same bytes gzip'd or not and on every request, lengths right;
 * pretty printing as Python's json.dumps(indent=2) writes it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner.h"
#include "site_proc.h"

#define NBOOKS 60

struct fetched {
  char *body;
  size_t len;
};

/* The ids of the dump's books, in order, and their documents. */
static size_t dump_books(const char *dir, char ids[][32], cJSON **docs) {
  char path[160];
  char *dump, *line, *nl;
  size_t n = 0;
  snprintf(path, sizeof(path), "%s/books.jsonl", dir);
  free(site_shf("'%s' site --books %d --dump '%s'", site_bin(), NBOOKS, path));
  dump = site_read_file(path, NULL);
  for (line = dump; *line != '\0'; line = nl + 1) {
    nl = strchr(line, '\n');
    ASSERT_NOT_NULL(nl);
    *nl = '\0';
    docs[n] = cJSON_Parse(line);
    ASSERT_NOT_NULL(docs[n]);
    snprintf(ids[n], sizeof(ids[n]), "%s",
             cJSON_GetObjectItemCaseSensitive(docs[n], "id")->valuestring);
    n++;
  }
  free(dump);
  return n;
}

/* GET every path[i] in one curl run (gzip'd when compressed), each body into
 * out[i]; asserts 200 and that the length announced is the length sent.
 * ctypes (if not NULL) gets the Content-Type lines. */
static void fetch_all(const struct site_proc *p, char paths[][64], size_t n, int compressed,
                      struct fetched *out, char **ctypes) {
  char cfg[160], file[200], *report, *line;
  FILE *f;
  snprintf(cfg, sizeof(cfg), "%s/fetch.cfg", p->dir);
  f = fopen(cfg, "w");
  ASSERT_NOT_NULL(f);
  for (size_t i = 0; i < n; i++)
    fprintf(f, "url = \"%s%s\"\noutput = \"%s/body.%zu\"\n", p->url, paths[i], p->dir, i);
  fclose(f);
  report = site_shf("curl -s %s -K '%s' -w '%%{http_code} %%header{content-length} "
                    "%%{size_download} %%{content_type}\\n'",
                    compressed ? "--compressed" : "", cfg);
  line = report;
  for (size_t i = 0; i < n; i++) {
    long code, clen, got;
    char *nl = strchr(line, '\n');
    ASSERT_NOT_NULL(nl);
    *nl = '\0';
    ASSERT_EQ(sscanf(line, "%ld %ld %ld", &code, &clen, &got), 3);
    ASSERT_EQ(code, 200);
    ASSERT_EQ(clen, got);
    *nl = '\n';
    line = nl + 1;
    snprintf(file, sizeof(file), "%s/body.%zu", p->dir, i);
    out[i].body = site_read_file(file, &out[i].len);
  }
  if (ctypes != NULL) *ctypes = report;
  else free(report);
}

/* Parse body (without a BOM) and compare with want. */
static void expect_value(const struct fetched *b, const cJSON *want) {
  const char *s = b->body;
  size_t n = b->len;
  const char *end = NULL;
  char *copy;
  cJSON *got;
  if (n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
    s += 3;
    n -= 3;
  }
  copy = malloc(n + 1);
  ASSERT_NOT_NULL(copy);
  memcpy(copy, s, n);
  copy[n] = '\0';
  got = cJSON_ParseWithOpts(copy, &end, 1);
  if (got == NULL) AC__FAIL("not JSON: %.80s", copy);
  ASSERT(cJSON_Compare(want, got, 1));
  cJSON_Delete(got);
  free(copy);
}

TEST_IMPL(site_shapes_served) {
  static char ids[NBOOKS][32], paths[NBOOKS + 5][64];
  static cJSON *docs[NBOOKS];
  static struct fetched plain[NBOOKS + 5], gz[NBOOKS + 5], again[NBOOKS + 5];
  struct site_proc p;
  size_t n = dump_books(site_tmpdir(), ids, docs), np = 0;
  int boms = 0, pretty = 0, mixed = 0, spaced = 0, php = 0, labels = 0;
  char *ctypes, *stats_json;
  cJSON *stats, *shapes, *page = NULL;
  static const char *const want_labels[] = {"application/json; charset=utf-8", "text/json",
                                            "text/plain; charset=utf-8",
                                            "text/html; charset=UTF-8"};

  ASSERT_EQ(n, NBOOKS);
  site_start(&p, "--books 60 --json-style any --json-escape any --pbom 0.3 --content-type any "
                 "--fault-seed 2");
  for (size_t i = 0; i < n; i++) snprintf(paths[np++], sizeof(paths[0]), "/api/book/%.31s", ids[i]);
  for (int off = 0; off < 72; off += 18)
    snprintf(paths[np++], sizeof(paths[0]), "/api/book/?limit=18&offset=%d", off);
  snprintf(paths[np++], sizeof(paths[0]), "/api/book/?limit=7&offset=3");
  fetch_all(&p, paths, np, 0, plain, &ctypes);
  fetch_all(&p, paths, np, 1, gz, NULL);
  fetch_all(&p, paths, np, 0, again, NULL);
  for (size_t i = 0; i < np; i++) {
    /* The same bytes gzip'd or not, and on every request. */
    ASSERT_EQ(plain[i].len, gz[i].len);
    ASSERT(memcmp(plain[i].body, gz[i].body, plain[i].len) == 0);
    ASSERT_EQ(plain[i].len, again[i].len);
    ASSERT(memcmp(plain[i].body, again[i].body, plain[i].len) == 0);
    if (i < n) {
      expect_value(&plain[i], docs[i]);
    } else {
      /* A list page: its items equal the dump's fields. */
      const cJSON *item;
      size_t first = i == np - 1 ? 3 : (i - n) * 18;
      char *copy = malloc(plain[i].len + 1);
      const char *s = copy;
      memcpy(copy, plain[i].body, plain[i].len);
      copy[plain[i].len] = '\0';
      if (memcmp(s, "\xEF\xBB\xBF", 3) == 0) s += 3;
      page = cJSON_Parse(s);
      ASSERT_NOT_NULL(page);
      ASSERT_EQ(site_num(page, "count"), NBOOKS);
      cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(page, "results")) {
        const cJSON *field;
        ASSERT_LT(first, n);
        cJSON_ArrayForEach(field, item) {
          ASSERT(cJSON_Compare(field, cJSON_GetObjectItemCaseSensitive(docs[first], field->string),
                               1));
        }
        first++;
      }
      cJSON_Delete(page);
      free(copy);
    }
    boms += plain[i].len >= 3 && memcmp(plain[i].body, "\xEF\xBB\xBF", 3) == 0;
    pretty += strstr(plain[i].body, "{\n  \"") != NULL;
    spaced += strstr(plain[i].body, "\", \"") != NULL && strchr(plain[i].body, '\n') == NULL;
    mixed += strchr(plain[i].body, '\r') != NULL || strchr(plain[i].body, '\t') != NULL;
    php += strstr(plain[i].body, "\\/") != NULL && strstr(plain[i].body, "\\u") != NULL;
  }
  ASSERT_GT(boms, 0);
  ASSERT_LT(boms, (int)np);
  ASSERT_GT(pretty, 0);
  ASSERT_GT(spaced, 0);
  ASSERT_GT(mixed, 0);
  ASSERT_GT(php, 0);
  for (size_t k = 0; k < sizeof want_labels / sizeof want_labels[0]; k++)
    labels += strstr(ctypes, want_labels[k]) != NULL;
  ASSERT_EQ(labels, 4);
  /* /__stats counts what was sent: three rounds of the same shapes. */
  stats_json = site_shf("curl -s '%s/__stats'", p.url);
  stats = cJSON_Parse(stats_json);
  shapes = cJSON_GetObjectItemCaseSensitive(stats, "shapes");
  ASSERT_EQ(site_num(shapes, "bom"), 3 * boms);
  ASSERT_EQ(site_num(shapes, "pretty"), 3 * pretty);
  ASSERT_GT(site_num(shapes, "mixed"), 0);
  ASSERT_GT(site_num(shapes, "escape_ascii"), 0);
  ASSERT_GT(site_num(shapes, "escape_slash"), 0);
  ASSERT_GT(site_num(shapes, "escape_php"), 0);
  cJSON_Delete(stats);
  free(stats_json);
  free(ctypes);
  for (size_t i = 0; i < np; i++) {
    free(plain[i].body);
    free(gz[i].body);
    free(again[i].body);
  }
  for (size_t i = 0; i < n; i++) cJSON_Delete(docs[i]);
  ASSERT_EQ(site_stop(&p, SIGTERM), 0);
}

/* --json-style pretty is byte for byte what Python's json.dumps(indent=2)
 * writes, plus a newline, with ensure_ascii matching --json-escape (book 0
 * has no float trait: Python would respell 8.50). */
TEST_IMPL(site_shapes_pretty_is_pythons) {
  static const char *const runs[][2] = {
      {"--books 100 --json-style pretty", "False"},
      {"--books 100 --json-style pretty --json-escape ascii", "True"}};
  for (size_t r = 0; r < 2; r++) {
    struct site_proc p;
    char *out;
    site_start(&p, runs[r][0]);
    out = site_shf(
        "id=$(curl -s '%s/api/book/?limit=1' | python3 -c 'import json,sys; "
        "print(json.load(sys.stdin)[\"results\"][0][\"id\"])'); "
        "for u in /api/book/$id '/api/book/?limit=1&offset=0'; do curl -s \"%s$u\" | "
        "python3 -c 'import json,sys; b=sys.stdin.buffer.read().decode(); "
        "d=json.loads(b); w=json.dumps(d, indent=2, ensure_ascii=%s)+\"\\n\"; "
        "print(\"same\" if b == w else \"differ\\n\" + b[:300] + \"\\n\" + w[:300])'; done",
        p.url, p.url, runs[r][1]);
    ASSERT_STR_EQ(out, "same\nsame\n");
    free(out);
    ASSERT_EQ(site_stop(&p, SIGTERM), 0);
  }
}
