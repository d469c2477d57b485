/*
 * Helpers shared by the book data set tests (tests/unit/site/test_books_*.c).
 * Static inline so that each test file takes only what it uses.
 */
#ifndef AC_TESTS_SITE_BOOKS_TEST_H
#define AC_TESTS_SITE_BOOKS_TEST_H

#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "runner.h"
#include "site/books.h"

static inline struct ac__books *bt_build(size_t n, uint64_t seed, unsigned flags) {
  struct ac__books_options o;
  struct ac__books *b = NULL;
  ac__books_options_init(&o);
  o.n = n;
  o.seed = seed;
  o.flags = flags;
  ASSERT_OK(ac__books_build(&o, &b));
  ASSERT_NOT_NULL(b);
  return b;
}

/* FNV-1a, 64 bits: a stable hash to compare and pin down bodies. */
static inline uint64_t bt_fnv(uint64_t h, const void *data, size_t n) {
  const unsigned char *p = data;
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001B3ULL;
  return h;
}
#define BT_FNV_INIT 0xCBF29CE484222325ULL

/* Parses a body as strict JSON: NUL-terminated copy, and nothing may follow
 * the value (cJSON_ParseWithOpts with require_null_terminated). Also checks
 * what cJSON lets through: the bytes must be valid UTF-8 and hold no raw
 * control character (those must be escaped). */
static inline cJSON *bt_parse(const char *body, size_t len) {
  char *copy = malloc(len + 1);
  const char *end = NULL;
  ASSERT_NOT_NULL(copy);
  memcpy(copy, body, len);
  copy[len] = '\0';
  const unsigned char *u = (const unsigned char *)copy;
  for (size_t i = 0; i < len;) {
    unsigned c = u[i];
    size_t k = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
    if (c < 0x20) AC__FAIL("raw control byte 0x%02x at %zu", c, i);
    if (k == 0 || i + k > len) AC__FAIL("bad UTF-8 lead byte 0x%02x at %zu", c, i);
    for (size_t j = 1; j < k; j++)
      if ((u[i + j] & 0xC0) != 0x80) AC__FAIL("bad UTF-8 continuation at %zu", i + j);
    if (k == 2 && c < 0xC2) AC__FAIL("overlong UTF-8 at %zu", i);
    i += k;
  }
  cJSON *j = cJSON_ParseWithOpts(copy, &end, 1);
  if (j == NULL) AC__FAIL("not JSON near byte %td: %.60s", end ? end - copy : -1, end ? end : "");
  free(copy);
  return j;
}

static inline cJSON *bt_detail_json(const struct ac__books *b, size_t i) {
  struct ac__books_bytes d;
  ASSERT_OK(ac__books_detail(b, i, &d));
  return bt_parse(d.base, d.len);
}

/* memmem, spelled out to stay within C11. */
static inline const char *bt_find(const char *hay, size_t n, const char *needle, size_t m) {
  if (m == 0) return hay;
  for (size_t i = 0; i + m <= n; i++)
    if (hay[i] == needle[0] && memcmp(hay + i, needle, m) == 0) return hay + i;
  return NULL;
}
#define BT_HAS(body, lit) (bt_find((body).base, (body).len, lit, sizeof(lit) - 1) != NULL)

/* The raw text of the value of top-level key `key` in a compact body written
 * by books.c. `,"key":` cannot occur inside a string value (a quote there is
 * escaped), so the first match is the key. Scalars only: the value ends at
 * the closing quote of a string, or before ',' / '}' for anything else. */
static inline const char *bt_raw(struct ac__books_bytes body, const char *key, size_t *vlen) {
  char pat[64];
  int n = snprintf(pat, sizeof pat, ",\"%s\":", key);
  ASSERT(n > 0 && (size_t)n < sizeof pat);
  const char *p = bt_find(body.base, body.len, pat, (size_t)n);
  ASSERT_NOT_NULL(p);
  p += n;
  const char *end = body.base + body.len, *q = p;
  if (*q == '"') {
    for (q++; q < end && *q != '"'; q++)
      if (*q == '\\') q++;
    q++;
  } else {
    while (q < end && *q != ',' && *q != '}') q++;
  }
  *vlen = (size_t)(q - p);
  return p;
}

#endif /* AC_TESTS_SITE_BOOKS_TEST_H */
