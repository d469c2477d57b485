/*
 * The book data set as the site serves it (src/site/books.c): determinism,
 * the list API's paging, strict JSON everywhere, list items that agree with
 * their details, id lookups, the JSON Lines dump and the gzip'd bodies.
 */
#include <zlib.h>

#include "books_test.h"

/* Hash of every body the set serves: details, prebuilt pages, an odd page
 * through the iovec path, in a fixed order. */
static uint64_t hash_set(const struct ac__books *b) {
  uint64_t h = BT_FNV_INIT;
  struct ac__books_bytes d, parts[3];
  size_t n = ac__books_count(b);
  for (size_t i = 0; i < n; i++) {
    ASSERT_OK(ac__books_detail(b, i, &d));
    h = bt_fnv(h, d.base, d.len);
  }
  for (size_t off = 0; off < n + 18; off += 18) {
    ASSERT_OK(ac__books_list_page(b, 18, off, &d));
    h = bt_fnv(h, d.base, d.len);
  }
  ac__books_list_iov(b, 7, 5, parts);
  for (int k = 0; k < 3; k++) h = bt_fnv(h, parts[k].base, parts[k].len);
  return h;
}

/* The hash of the default data set (9,040 books, seed 20200321), pinned:
 * if it changes, every machine's truth changes with it. Change it only on
 * purpose, and say so in the commit. */
#define BOOKS_DEFAULT_HASH 0x4c59407ad6c34786ULL

TEST_IMPL(books_determinism) {
  struct ac__books *a = bt_build(AC__BOOKS_DEFAULT_N, AC__BOOKS_DEFAULT_SEED, 0);
  struct ac__books *b = bt_build(AC__BOOKS_DEFAULT_N, AC__BOOKS_DEFAULT_SEED, 0);
  struct ac__books *c = bt_build(AC__BOOKS_DEFAULT_N, AC__BOOKS_DEFAULT_SEED + 1, 0);
  struct ac__books *d = NULL;
  ASSERT_OK(ac__books_build(NULL, &d)); /* NULL options: the defaults */
  uint64_t ha = hash_set(a), hb = hash_set(b), hc = hash_set(c), hd = hash_set(d);
  printf("default data set hash: 0x%016" PRIx64 "\n", ha);
  ASSERT_UEQ(ha, hb);
  ASSERT_UEQ(ha, hd);
  ASSERT(ha != hc);
  ASSERT_UEQ(ha, BOOKS_DEFAULT_HASH);
  /* Another seed changes the books, not just a few bytes. */
  size_t same = 0;
  for (size_t i = 0; i < AC__BOOKS_DEFAULT_N; i++) {
    struct ac__books_bytes x, y;
    ASSERT_OK(ac__books_detail(a, i, &x));
    ASSERT_OK(ac__books_detail(c, i, &y));
    same += x.len == y.len && memcmp(x.base, y.base, x.len) == 0;
  }
  ASSERT_EQ(same, 0);
  ac__books_free(a);
  ac__books_free(b);
  ac__books_free(c);
  ac__books_free(d);
}

/* A smaller set is a prefix of a larger one: same ids, same details. */
TEST_IMPL(books_prefix) {
  struct ac__books *small = bt_build(100, 7, 0), *big = bt_build(2000, 7, 0);
  for (size_t i = 0; i < 100; i++) {
    struct ac__books_bytes x, y;
    ASSERT_STR_EQ(ac__books_id(small, i), ac__books_id(big, i));
    ASSERT_OK(ac__books_detail(small, i, &x));
    ASSERT_OK(ac__books_detail(big, i, &y));
    ASSERT_EQ(x.len, y.len);
    ASSERT(memcmp(x.base, y.base, x.len) == 0);
  }
  ac__books_free(small);
  ac__books_free(big);
}

/* Checks one list body: count, and results = the ids [first, first+want). */
static void check_list(const struct ac__books *b, const char *body, size_t len, size_t first,
                       size_t want) {
  cJSON *j = bt_parse(body, len);
  ASSERT_EQ(cJSON_GetArraySize(j), 2);
  cJSON *count = cJSON_GetObjectItemCaseSensitive(j, "count");
  ASSERT(cJSON_IsNumber(count));
  ASSERT_EQ(count->valueint, (int)ac__books_count(b));
  cJSON *results = cJSON_GetObjectItemCaseSensitive(j, "results");
  ASSERT(cJSON_IsArray(results));
  ASSERT_EQ(cJSON_GetArraySize(results), (int)want);
  size_t i = first;
  cJSON *item;
  cJSON_ArrayForEach(item, results) {
    ASSERT_STR_EQ(cJSON_GetObjectItemCaseSensitive(item, "id")->valuestring, ac__books_id(b, i));
    i++;
  }
  cJSON_Delete(j);
}

static void check_iov(const struct ac__books *b, size_t limit, size_t offset, size_t first,
                      size_t want) {
  struct ac__books_bytes parts[3];
  ac__books_list_iov(b, limit, offset, parts);
  size_t len = parts[0].len + parts[1].len + parts[2].len;
  char *body = malloc(len);
  ASSERT_NOT_NULL(body);
  memcpy(body, parts[0].base, parts[0].len);
  memcpy(body + parts[0].len, parts[1].base, parts[1].len);
  memcpy(body + parts[0].len + parts[1].len, parts[2].base, parts[2].len);
  check_list(b, body, len, first, want);
  /* Where a prebuilt page exists, it is the same bytes. */
  struct ac__books_bytes page;
  if (ac__books_list_page(b, limit, offset, &page) == 0) {
    ASSERT_EQ(page.len, len);
    ASSERT(memcmp(page.base, body, len) == 0);
  }
  free(body);
}

TEST_IMPL(books_list_pages) {
  struct ac__books *b = bt_build(AC__BOOKS_DEFAULT_N, AC__BOOKS_DEFAULT_SEED, 0);
  struct ac__books_stats st;
  struct ac__books_bytes page;
  ac__books_stats(b, &st);
  ASSERT_EQ(st.pages, 503);
  /* The tutorial's loop: pages 1..503 at offset 18 * (page - 1). */
  for (size_t p = 1; p <= 503; p++) {
    size_t off = 18 * (p - 1);
    ASSERT_OK(ac__books_list_page(b, 18, off, &page));
    check_list(b, page.base, page.len, off, p < 503 ? 18 : 9040 - 502 * 18);
  }
  /* Past the end: the same count, empty results. */
  static const char empty[] = "{\"count\":9040,\"results\":[]}";
  size_t past[] = {9040, 9054, 18 * 503, 1000000, (size_t)-1};
  for (size_t k = 0; k < sizeof past / sizeof past[0]; k++) {
    ASSERT_OK(ac__books_list_page(b, 18, past[k], &page));
    ASSERT_EQ(page.len, sizeof empty - 1);
    ASSERT(memcmp(page.base, empty, page.len) == 0);
    check_iov(b, 18, past[k], 0, 0);
  }
  /* Any limit and offset through the iovec path, including a huge limit
   * near SIZE_MAX (no overflow) and limit 0. */
  check_iov(b, 7, 5, 5, 7);
  check_iov(b, 18, 9039, 9039, 1);
  check_iov(b, 18, 9030, 9030, 10);
  check_iov(b, 1, 0, 0, 1);
  check_iov(b, 0, 0, 0, 0);
  check_iov(b, (size_t)-1, 100, 100, 8940);
  check_iov(b, 100000, 0, 0, 9040);
  check_iov(b, 18, 36, 36, 18);
  ASSERT_ERR(ac__books_list_page(b, 7, 0, &page), AC_ENOENT);
  ASSERT_ERR(ac__books_list_page(b, 18, 5, &page), AC_ENOENT);
  ac__books_free(b);
}

/* Every body is strict JSON, and each list item equals the same fields of
 * its detail (as values, and as bytes for the fields they share). */
TEST_IMPL(books_items_match_details) {
  struct ac__books *b = bt_build(AC__BOOKS_DEFAULT_N, AC__BOOKS_DEFAULT_SEED, 0);
  static const char *const keys[] = {"id", "name", "authors", "cover", "score"};
  struct ac__books_bytes page, d;
  for (size_t off = 0; off < 9040; off += 18) {
    ASSERT_OK(ac__books_list_page(b, 18, off, &page));
    cJSON *list = bt_parse(page.base, page.len);
    cJSON *item;
    size_t i = off;
    cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(list, "results")) {
      ASSERT_OK(ac__books_detail(b, i, &d));
      cJSON *detail = bt_parse(d.base, d.len);
      ASSERT_EQ(cJSON_GetArraySize(detail), 17);
      ASSERT_EQ(cJSON_GetArraySize(item), 5);
      for (size_t k = 0; k < 5; k++) {
        cJSON *x = cJSON_GetObjectItemCaseSensitive(item, keys[k]);
        cJSON *y = cJSON_GetObjectItemCaseSensitive(detail, keys[k]);
        ASSERT(x != NULL && y != NULL);
        ASSERT(cJSON_Compare(x, y, 1));
      }
      /* id, name and authors open both bodies with the same bytes. */
      size_t head = (size_t)(bt_find(d.base, d.len, ",\"translators\":", 15) - d.base);
      char pat[40];
      int pn = snprintf(pat, sizeof pat, "{\"id\":\"%s\"", ac__books_id(b, i));
      const char *at = bt_find(page.base, page.len, pat, (size_t)pn);
      ASSERT_NOT_NULL(at);
      ASSERT_GE((size_t)(page.base + page.len - at), head);
      ASSERT(memcmp(at, d.base, head) == 0);
      cJSON_Delete(detail);
      i++;
    }
    cJSON_Delete(list);
  }
  ac__books_free(b);
}

TEST_IMPL(books_find) {
  struct ac__books *b = bt_build(3000, 42, 0);
  struct ac__books_bytes d;
  size_t idx = 0;
  uint64_t prev = 0;
  for (size_t i = 0; i < 3000; i++) {
    const char *id = ac__books_id(b, i);
    ASSERT_OK(ac__books_find(b, id, strlen(id), &idx));
    ASSERT_EQ(idx, i);
    uint64_t v = strtoull(id, NULL, 10);
    ASSERT_GT(v, prev); /* strictly increasing: id order is list order */
    ASSERT_EQ(strlen(id), 8);
    prev = v;
    /* The detail's "id" is this id. */
    ASSERT_OK(ac__books_detail(b, i, &d));
    char want[40];
    snprintf(want, sizeof want, "{\"id\":\"%s\",", id);
    ASSERT(d.len > strlen(want) && memcmp(d.base, want, strlen(want)) == 0);
  }
  ASSERT_NULL(ac__books_id(b, 3000));
  ASSERT_ERR(ac__books_detail(b, 3000, &d), AC_ENOENT);
  const char *id0 = ac__books_id(b, 0);
  char buf[40];
  static const char *const bad[] = {"", "0", "abc", "-1", "+1", " 1", "99999999999999999999",
                                    "18446744073709551616", "1e7"};
  for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++)
    ASSERT_ERR(ac__books_find(b, bad[k], strlen(bad[k]), &idx), AC_ENOENT);
  snprintf(buf, sizeof buf, "0%s", id0); /* a leading zero is another URL */
  ASSERT_ERR(ac__books_find(b, buf, strlen(buf), &idx), AC_ENOENT);
  snprintf(buf, sizeof buf, "%s/", id0);
  ASSERT_ERR(ac__books_find(b, buf, strlen(buf), &idx), AC_ENOENT);
  ASSERT_OK(ac__books_find(b, buf, strlen(id0), &idx)); /* the length decides */
  ASSERT_EQ(idx, 0);
  snprintf(buf, sizeof buf, "%llu", strtoull(id0, NULL, 10) - 1);
  ASSERT_ERR(ac__books_find(b, buf, strlen(buf), &idx), AC_ENOENT);
  snprintf(buf, sizeof buf, "%llu", strtoull(ac__books_id(b, 2999), NULL, 10) + 1);
  ASSERT_ERR(ac__books_find(b, buf, strlen(buf), &idx), AC_ENOENT);
  cJSON_Delete(bt_parse(AC__BOOKS_NOT_FOUND_BODY, strlen(AC__BOOKS_NOT_FOUND_BODY)));
  ac__books_free(b);
}

TEST_IMPL(books_jsonl_dump) {
  struct ac__books *b = bt_build(AC__BOOKS_DEFAULT_N, AC__BOOKS_DEFAULT_SEED, 0);
  FILE *f = tmpfile();
  ASSERT_NOT_NULL(f);
  ASSERT_OK(ac__books_dump_jsonl(b, f));
  rewind(f);
  size_t cap = AC__BOOKS_MAX_BODY + 2, lines = 0;
  char *line = malloc(cap);
  ASSERT_NOT_NULL(line);
  /* Lines may hold \u0000 escapes but never a raw NUL or newline: read with
   * getc to see every byte. */
  for (;;) {
    size_t len = 0;
    int c;
    while ((c = getc(f)) != EOF && c != '\n') {
      ASSERT_LT(len, cap);
      line[len++] = (char)c;
    }
    if (c == EOF) {
      ASSERT_EQ(len, 0);
      break;
    }
    struct ac__books_bytes d;
    ASSERT_OK(ac__books_detail(b, lines, &d));
    ASSERT_EQ(len, d.len);
    ASSERT(memcmp(line, d.base, len) == 0);
    lines++;
  }
  ASSERT_EQ(lines, 9040);
  fclose(f);
  free(line);
  /* A failing stream is reported. */
  f = fopen("/dev/full", "w");
  if (f != NULL) {
    ASSERT_ERR(ac__books_dump_jsonl(b, f), AC_EIO);
    fclose(f);
  }
  ac__books_free(b);
}

static void check_gzip(struct ac__books_bytes gz, struct ac__books_bytes plain) {
  z_stream zs;
  size_t cap = plain.len + 16;
  unsigned char *out = malloc(cap);
  ASSERT_NOT_NULL(out);
  memset(&zs, 0, sizeof zs);
  ASSERT_EQ(inflateInit2(&zs, 15 + 16), Z_OK);
  zs.next_in = (Bytef *)gz.base;
  zs.avail_in = (uInt)gz.len;
  zs.next_out = out;
  zs.avail_out = (uInt)cap;
  ASSERT_EQ(inflate(&zs, Z_FINISH), Z_STREAM_END);
  ASSERT_EQ(zs.avail_in, 0);
  ASSERT_EQ(cap - zs.avail_out, plain.len);
  ASSERT(memcmp(out, plain.base, plain.len) == 0);
  inflateEnd(&zs);
  free(out);
  /* RFC 1952 header: magic, deflate, no flags, mtime 0, OS unknown. */
  ASSERT(gz.len > 18 && memcmp(gz.base, "\x1f\x8b\x08\x00\x00\x00\x00\x00", 8) == 0);
  ASSERT_EQ((unsigned char)gz.base[9], 255);
}

TEST_IMPL(books_gzip) {
  struct ac__books *lazy = bt_build(1000, 3, 0), *eager = bt_build(1000, 3, AC__BOOKS_GZIP);
  struct ac__books_bytes d, g1, g2, g3;
  struct ac__books_stats st;
  ac__books_stats(lazy, &st);
  ASSERT_EQ(st.gzip_bytes, 0);
  size_t picks[] = {0, 1, 5, 17, 921, 999};
  for (size_t k = 0; k < sizeof picks / sizeof picks[0]; k++) {
    ASSERT_OK(ac__books_detail(lazy, picks[k], &d));
    ASSERT_OK(ac__books_detail_gzip(lazy, picks[k], &g1));
    ASSERT_OK(ac__books_detail_gzip(lazy, picks[k], &g2));
    ASSERT_OK(ac__books_detail_gzip(eager, picks[k], &g3));
    ASSERT_PTR_EQ(g1.base, g2.base); /* kept, not made again */
    ASSERT_EQ(g1.len, g3.len);
    ASSERT(memcmp(g1.base, g3.base, g1.len) == 0);
    check_gzip(g1, d);
  }
  ASSERT_ERR(ac__books_detail_gzip(lazy, 1000, &g1), AC_ENOENT);
  for (size_t off = 0; off <= 1000; off += 18 * 11) {
    ASSERT_OK(ac__books_list_page(lazy, 18, off, &d));
    ASSERT_OK(ac__books_list_page_gzip(lazy, 18, off, &g1));
    check_gzip(g1, d);
  }
  ASSERT_OK(ac__books_list_page(lazy, 18, 5000, &d));
  ASSERT_OK(ac__books_list_page_gzip(lazy, 18, 5000, &g1));
  check_gzip(g1, d);
  ASSERT_ERR(ac__books_list_page_gzip(lazy, 5, 0, &g1), AC_ENOENT);
  ac__books_stats(lazy, &st);
  ASSERT_GT(st.gzip_bytes, 0);
  ac__books_stats(eager, &st);
  ASSERT_GT(st.gzip_bytes, st.detail_bytes / 4); /* all of them, at build */
  ac__books_free(lazy);
  ac__books_free(eager);
}

TEST_IMPL(books_small_and_invalid) {
  struct ac__books_options o;
  struct ac__books *b = (struct ac__books *)1;
  struct ac__books_bytes page;
  /* No books: count 0, every page empty, an empty dump. */
  b = bt_build(0, 1, AC__BOOKS_GZIP);
  ASSERT_EQ(ac__books_count(b), 0);
  ASSERT_OK(ac__books_list_page(b, 18, 0, &page));
  ASSERT_EQ(page.len, strlen("{\"count\":0,\"results\":[]}"));
  ASSERT(memcmp(page.base, "{\"count\":0,\"results\":[]}", page.len) == 0);
  check_iov(b, 18, 0, 0, 0);
  size_t idx;
  ASSERT_ERR(ac__books_find(b, "10000000", 8, &idx), AC_ENOENT);
  FILE *f = tmpfile();
  ASSERT_OK(ac__books_dump_jsonl(b, f));
  ASSERT_EQ(ftell(f), 0);
  fclose(f);
  ac__books_free(b);
  /* One book, and a page size that does not divide the count. */
  ac__books_options_init(&o);
  o.n = 10;
  o.page_size = 3;
  ASSERT_OK(ac__books_build(&o, &b));
  check_iov(b, 3, 9, 9, 1);
  ASSERT_OK(ac__books_list_page(b, 3, 9, &page));
  ac__books_free(b);
  b = bt_build(1, 1, 0);
  check_iov(b, 18, 0, 0, 1);
  ac__books_free(b);
  /* Options out of bounds. */
  struct ac__books_options bad[4];
  for (int k = 0; k < 4; k++) ac__books_options_init(&bad[k]);
  bad[0].n = AC__BOOKS_MAX_N + 1;
  bad[1].page_size = 0;
  bad[2].page_size = AC__BOOKS_MAX_PAGE_SIZE + 1;
  bad[3].gzip_level = 10;
  for (int k = 0; k < 4; k++) {
    b = (struct ac__books *)1;
    ASSERT_ERR(ac__books_build(&bad[k], &b), AC_EINVAL);
    ASSERT_NULL(b);
  }
}
