/*
 * The strict JSON scanner that checks every crawled detail before it is
 * stored as is: what it accepts, what it refuses, and the member it finds.
 */
#include <stdio.h>
#include <string.h>

#include "acrawl/errno.h"
#include "common/json_scan.h"
#include "runner.h"

static int scan(const char *s) { return ac__json_scan(s, strlen(s), NULL, NULL, NULL, NULL); }

TEST_IMPL(json_scan_accepts_valid) {
  static const char *const ok[] = {
      "{}", "[]", " {\"a\":1} ", "0", "-0.5e+10", "\"x\"", "true", "false", "null",
      "{\"a\":[1,2,{\"b\":null}],\"c\":\"\\u0000\\ud83d\\ude00\\\"\\\\\\/\\b\\f\\n\\r\\t\"}",
      "\"\xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x93\x9a\"", /* Chinese and a non-BMP emoji */
      "[[[[[[]]]]]]", "{\"n\":12345678901234567890123}", "[1.0,8.50,-3e-2]",
      "\"\\udc00 lone surrogate escapes are JSON\""};
  for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
    if (scan(ok[i]) != 0) AC__FAIL("refused valid JSON: %s", ok[i]);
  }
}

TEST_IMPL(json_scan_refuses_invalid) {
  static const char *const bad[] = {
      "", " ", "{", "}", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "{a:1}", "[1 2]", "01", "1.",
      ".5", "-", "1e", "+1", "tru", "nul", "\"abc", "\"\\x\"", "\"\\u12G4\"", "{} {}",
      "[1]x", "\"a\tb\"" /* raw tab */, "\"\xc0\xaf\"" /* overlong */,
      "\"\xed\xa0\x80\"" /* UTF-8 surrogate */, "\"\xf4\x90\x80\x80\"" /* > U+10FFFF */,
      "\"\xe4\xb8\"" /* cut sequence */, "\"\x80\"", "NaN", "[Infinity]", "'a'"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    if (scan(bad[i]) != AC_EPARSE) AC__FAIL("accepted invalid JSON: [%s]", bad[i]);
  }
}

TEST_IMPL(json_scan_nul_and_truncation) {
  /* A NUL byte inside the buffer is not JSON; a body cut in half is not. */
  static const char with_nul[] = "{\"a\":\"x\0y\"}";
  const char *doc = "{\"id\":\"42\",\"name\":\"a long name\",\"tags\":[1,2,3]}";
  size_t pos = 0;
  ASSERT_EQ(ac__json_scan(with_nul, sizeof(with_nul) - 1, NULL, NULL, NULL, &pos), AC_EPARSE);
  ASSERT_EQ(pos, 7); /* the NUL itself */
  for (size_t cut = 0; cut < strlen(doc); cut++)
    ASSERT_EQ(ac__json_scan(doc, cut, NULL, NULL, NULL, NULL), AC_EPARSE);
  ASSERT_EQ(ac__json_scan(doc, strlen(doc), NULL, NULL, NULL, NULL), 0);
}

/* Strings are scanned 16 (or 8) bytes a step: a byte that matters must be
 * seen at every offset of a step, with a plain run after it and before it,
 * and bytes of 0x80 and up (UTF-8) or 0x7f must never be taken for one. */
TEST_IMPL(json_scan_string_bytes_at_every_offset) {
  static const struct {
    const char *ins; /* put at the offset, inside the string */
    int valid;
  } cases[] = {{"\"", 0}, /* ends the string early: the rest is not JSON */
               {"\\n", 1}, {"\\\"", 1}, {"\\u00e9", 1}, {"\x01", 0}, {"\x1f", 0},
               {"\t", 0}, {" ", 1}, {"\x7f", 1}, {"\xc3\xa9", 1}, {"\xef\xbf\xbf", 1},
               {"\xf0\x9f\x93\x9a", 1}, {"\\", 0}};
  char buf[128];
  for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
    size_t ilen = strlen(cases[k].ins);
    for (size_t off = 0; off < 48; off++) {
      for (size_t tail = 0; tail < 40; tail += 13) {
        size_t n = 0, pos = 0;
        int rc;
        buf[n++] = '"';
        for (size_t i = 0; i < off; i++) buf[n++] = (char)('a' + i % 26);
        memcpy(buf + n, cases[k].ins, ilen);
        n += ilen;
        for (size_t i = 0; i < tail; i++) buf[n++] = 'z';
        buf[n++] = '"';
        rc = ac__json_scan(buf, n, NULL, NULL, NULL, &pos);
        if (rc != (cases[k].valid ? 0 : AC_EPARSE))
          AC__FAIL("case %zu at offset %zu, %zu after: rc %d", k, off, tail, rc);
        /* A raw control character is reported where it is. */
        if (!cases[k].valid && (unsigned char)cases[k].ins[0] < 0x20 && pos != 1 + off)
          AC__FAIL("case %zu at offset %zu: error at %zu", k, off, pos);
      }
    }
  }
}

TEST_IMPL(json_scan_depth_cap) {
  char deep[2 * AC__JSON_MAX_DEPTH + 3];
  size_t n;
  for (n = 0; n < AC__JSON_MAX_DEPTH; n++) deep[n] = '[';
  for (size_t i = 0; i < AC__JSON_MAX_DEPTH; i++) deep[n++] = ']';
  ASSERT_EQ(ac__json_scan(deep, n, NULL, NULL, NULL, NULL), 0);
  /* One level more is refused, without recursion (no stack overflow). */
  memmove(deep + 1, deep, n);
  deep[0] = '[';
  deep[n + 1] = ']';
  ASSERT_EQ(ac__json_scan(deep, n + 2, NULL, NULL, NULL, NULL), AC_EPARSE);
}

TEST_IMPL(json_scan_finds_top_level_member) {
  const char *doc = "{\"book\":{\"id\":\"inner\"},\"list\":[{\"id\":1}],\"id\":\"10710559\",\"id\":2}";
  ac__json_span_t span;
  ac__json_type_t top;
  char text[64];
  ASSERT_EQ(ac__json_scan(doc, strlen(doc), "id", &top, &span, NULL), 0);
  ASSERT_EQ(top, AC__JSON_OBJECT);
  ASSERT_EQ(span.type, AC__JSON_STRING);
  /* The first top-level "id", not the nested ones, not the later duplicate. */
  ASSERT_EQ(ac__json_span_text(&span, text, sizeof(text)), 8);
  ASSERT_STR_EQ(text, "10710559");

  doc = "{\"id\":12345,\"x\":[]}";
  ASSERT_EQ(ac__json_scan(doc, strlen(doc), "id", &top, &span, NULL), 0);
  ASSERT_EQ(span.type, AC__JSON_NUMBER);
  ASSERT_EQ(ac__json_span_text(&span, text, sizeof(text)), 5);
  ASSERT_STR_EQ(text, "12345");

  doc = "{\"name\":\"no id\"}";
  ASSERT_EQ(ac__json_scan(doc, strlen(doc), "id", &top, &span, NULL), 0);
  ASSERT_EQ(span.type, AC__JSON_NONE);

  doc = "[{\"id\":1}]";
  ASSERT_EQ(ac__json_scan(doc, strlen(doc), "id", &top, &span, NULL), 0);
  ASSERT_EQ(top, AC__JSON_ARRAY);
  ASSERT_EQ(span.type, AC__JSON_NONE);
}

struct seen_ids {
  char text[8][32];
  ac__json_type_t type[8];
  int n, stop_at;
};

static int collect(const ac__json_span_t *span, void *ud) {
  struct seen_ids *s = ud;
  if (s->n == s->stop_at) return AC_ECANCELED;
  if (s->n == 8) return AC_ENOMEM;
  s->type[s->n] = span->type;
  if (span->type == AC__JSON_NONE)
    s->text[s->n][0] = '\0';
  else if (span->type == AC__JSON_ARRAY || span->type == AC__JSON_OBJECT)
    snprintf(s->text[s->n], sizeof(s->text[0]), "%.*s", (int)span->len, span->start);
  else if (ac__json_span_text(span, s->text[s->n], sizeof(s->text[0])) < 0)
    return AC_EINVAL;
  s->n++;
  return 0;
}

/* The book site's list page: "count", and each result's "id". */
TEST_IMPL(json_scan_each_inner_member_of_outer_array) {
  const char *doc =
      "{\"id\":7,\"count\":3,\"results\":[{\"id\":1,\"x\":{\"id\":9}},"
      "{\"name\":\"a\",\"id\":\"s\\u00e9\"},5,[{\"id\":6}],{\"noid\":1},{\"id\":[1]},"
      "{\"id\":2,\"id\":3}],\"results\":[{\"id\":4}],\"other\":[{\"id\":8}]}";
  struct seen_ids s;
  ac__json_type_t top, outer;
  ac__json_span_t count;
  size_t pos;

  memset(&s, 0, sizeof(s));
  s.stop_at = -1;
  ASSERT_OK(ac__json_scan_each(doc, strlen(doc), "count", &top, &count, "results", &outer, "id",
                               collect, &s, &pos));
  ASSERT_EQ(top, AC__JSON_OBJECT);
  ASSERT_EQ(count.type, AC__JSON_NUMBER);
  ASSERT_EQ(outer, AC__JSON_ARRAY);
  /* One call per element of the first "results" array, the first id of each
   * object: not the nested one, not the inner array's, not the later
   * duplicates; NONE for 5, the inner array and the object without an id. */
  ASSERT_EQ(s.n, 7);
  ASSERT_EQ(s.type[0], AC__JSON_NUMBER);
  ASSERT_STR_EQ(s.text[0], "1");
  ASSERT_EQ(s.type[1], AC__JSON_STRING);
  ASSERT_STR_EQ(s.text[1], "s\xc3\xa9");
  ASSERT_EQ(s.type[2], AC__JSON_NONE);
  ASSERT_EQ(s.type[3], AC__JSON_NONE);
  ASSERT_EQ(s.type[4], AC__JSON_NONE);
  ASSERT_EQ(s.type[5], AC__JSON_ARRAY);
  ASSERT_STR_EQ(s.text[5], "[");
  ASSERT_EQ(s.type[6], AC__JSON_NUMBER);
  ASSERT_STR_EQ(s.text[6], "2");

  /* An empty object element, and an empty array: one NONE, then nothing. */
  memset(&s, 0, sizeof(s));
  s.stop_at = -1;
  ASSERT_OK(ac__json_scan_each("{\"results\":[{}]}", 16, NULL, NULL, NULL, "results", NULL, "id",
                               collect, &s, NULL));
  ASSERT_EQ(s.n, 1);
  ASSERT_EQ(s.type[0], AC__JSON_NONE);
  memset(&s, 0, sizeof(s));
  s.stop_at = -1;
  ASSERT_OK(ac__json_scan_each("{\"results\":[]}", 14, NULL, NULL, NULL, "results", NULL, "id",
                               collect, &s, NULL));
  ASSERT_EQ(s.n, 0);

  /* The callback's code ends the scan. */
  memset(&s, 0, sizeof(s));
  s.stop_at = 1;
  ASSERT_ERR(ac__json_scan_each(doc, strlen(doc), NULL, NULL, NULL, "results", NULL, "id",
                                collect, &s, NULL),
             AC_ECANCELED);
  ASSERT_EQ(s.n, 1);

  /* results not an array, or absent: no calls, and its type says so. */
  memset(&s, 0, sizeof(s));
  s.stop_at = -1;
  doc = "{\"results\":{\"id\":1},\"count\":\"3\"}";
  ASSERT_OK(ac__json_scan_each(doc, strlen(doc), "count", &top, &count, "results", &outer, "id",
                               collect, &s, NULL));
  ASSERT_EQ(outer, AC__JSON_OBJECT);
  ASSERT_EQ(count.type, AC__JSON_STRING);
  ASSERT_EQ(s.n, 0);
  doc = "[{\"results\":[{\"id\":1}]}]";
  ASSERT_OK(ac__json_scan_each(doc, strlen(doc), NULL, &top, NULL, "results", &outer, "id",
                               collect, &s, NULL));
  ASSERT_EQ(top, AC__JSON_ARRAY);
  ASSERT_EQ(outer, AC__JSON_NONE);
  ASSERT_EQ(s.n, 0);

  /* Spans come as met: a document cut short fails after its first ids. */
  doc = "{\"results\":[{\"id\":1},{\"id\":2}";
  ASSERT_ERR(ac__json_scan_each(doc, strlen(doc), NULL, NULL, NULL, "results", &outer, "id",
                                collect, &s, &pos),
             AC_EPARSE);
  ASSERT_EQ(s.n, 2);
  ASSERT_UEQ(pos, strlen(doc));
}

TEST_IMPL(json_scan_span_text_unescapes) {
  const char *doc = "{\"id\":\"a\\\"b\\u4e2d\\ud83d\\udcda\\n\"}";
  ac__json_span_t span;
  char text[64], small[4];
  ASSERT_EQ(ac__json_scan(doc, strlen(doc), "id", NULL, &span, NULL), 0);
  ASSERT_EQ(ac__json_span_text(&span, text, sizeof(text)), 3 + 3 + 4 + 1);
  ASSERT_STR_EQ(text, "a\"b\xe4\xb8\xad\xf0\x9f\x93\x9a\n");
  ASSERT_EQ(ac__json_span_text(&span, small, sizeof(small)), AC_ETOOLARGE);
  doc = "{\"id\":\"a\\u0000b\"}";
  ASSERT_EQ(ac__json_scan(doc, strlen(doc), "id", NULL, &span, NULL), 0);
  ASSERT_EQ(ac__json_span_text(&span, text, sizeof(text)), AC_EINVAL);
  doc = "{\"id\":{\"x\":1}}";
  ASSERT_EQ(ac__json_scan(doc, strlen(doc), "id", NULL, &span, NULL), 0);
  ASSERT_EQ(span.type, AC__JSON_OBJECT);
  ASSERT_EQ(ac__json_span_text(&span, text, sizeof(text)), AC_EINVAL);
}

/* Every detail body of the replica (nasty on purpose: non-BMP text, escapes,
 * control characters, 2^53 + 1, texts of 300 KB) is valid for the scanner,
 * its id is found, and the body cut anywhere in its last 64 bytes is not. */
#include "site/books.h"

TEST_IMPL(json_scan_every_replica_detail) {
  struct ac__books *b;
  ASSERT_EQ(ac__books_build(NULL, &b), 0);
  for (size_t i = 0; i < ac__books_count(b); i++) {
    struct ac__books_bytes d;
    ac__json_span_t span;
    ac__json_type_t top;
    char id[64];
    ASSERT_EQ(ac__books_detail(b, i, &d), 0);
    if (ac__json_scan(d.base, d.len, "id", &top, &span, NULL) != 0)
      AC__FAIL("book %zu refused", i);
    ASSERT_EQ(top, AC__JSON_OBJECT);
    ASSERT(ac__json_span_text(&span, id, sizeof(id)) > 0);
    ASSERT_STR_EQ(id, ac__books_id(b, i));
    if (i % 97 == 0)
      for (size_t cut = 1; cut <= 64 && cut < d.len; cut++)
        ASSERT_EQ(ac__json_scan(d.base, d.len - cut, NULL, NULL, NULL, NULL), AC_EPARSE);
  }
  ac__books_free(b);
}

/* The cases httpbin's "json" field relies on (it echoes a body that scans). */
TEST_IMPL(json_scan_httpbin_bodies) {
  static const char *const good[] = {
      "{}", "[]", "0", "-0.5e+10", "\"\"", "true", "null", " {\"a\" : [1, 2.5, \"x\\u00e9\", {}]} ",
      "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "[[[[[]]]]]", "\"\xe4\xb8\xad\"", "1E5",
  };
  static const char *const bad[] = {
      "{\"a\"}", "{\"a\":}", "[,1]", "\"\\u12\"", "{\"a\":1}}", "\"a\nb\"",
  };
  const char *doc = "{\"count\":9040,\"results\":[{\"id\":\"1\",\"score\":8.5}]}";
  for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
    if (scan(good[i]) != 0) AC__FAIL("refused: %s", good[i]);
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    if (scan(bad[i]) != AC_EPARSE) AC__FAIL("accepted: %s", bad[i]);
  /* Cut anywhere, a document stops being valid. */
  for (size_t n = 1; n < strlen(doc); n++)
    ASSERT_ERR(ac__json_scan(doc, n, NULL, NULL, NULL, NULL), AC_EPARSE);
  ASSERT_OK(scan(doc));
}
