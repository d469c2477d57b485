/*
 * The book site's JSON writers (src/site/json_write.c): RFC 8259 escaping in
 * both modes, fixed-point numbers without printf, the buffer's cap and OOM
 * as sticky errors. Parsed back with cJSON where cJSON can tell (no NUL
 * inside).
 */
#include "books_test.h"
#include "common/json_scan.h"
#include "site/json_write.h"
#include "site/site_internal.h"

/* b's bytes equal want[0..strlen(want)). */
static void expect_bytes(const struct ac__dynbuf *b, const char *want) {
  ASSERT_OK(ac__dynbuf_err(b));
  if (ac__dynbuf_len(b) != strlen(want) || memcmp(ac__dynbuf_ptr(b), want, strlen(want)) != 0)
    AC__FAIL("wrote\n%.*s\nwant\n%s", (int)ac__dynbuf_len(b), ac__dynbuf_ptr(b), want);
}

static void expect_json(const char *in, size_t n, enum ac__json_mode mode, const char *want) {
  struct ac__dynbuf b;
  ac__dynbuf_init(&b, 1024);
  ac__json_str(&b, in, n, mode);
  expect_bytes(&b, want);
  ac__dynbuf_free(&b);
}

TEST_IMPL(json_write_escapes) {
  expect_json("", 0, AC__JSON_UTF8, "\"\"");
  expect_json("a\"b\\c/d", 7, AC__JSON_UTF8, "\"a\\\"b\\\\c/d\"");
  expect_json("\b\f\n\r\t", 5, AC__JSON_UTF8, "\"\\b\\f\\n\\r\\t\"");
  expect_json("\0\x01\x1f\x7f", 4, AC__JSON_UTF8, "\"\\u0000\\u0001\\u001f\x7f\"");
  /* Non-ASCII stays UTF-8, including U+2028 and characters past the BMP. */
  expect_json("中文\xE2\x80\xA8📚", 13, AC__JSON_UTF8, "\"中文\xE2\x80\xA8📚\"");
  /* ASCII mode: \uXXXX in lower-case hex, a surrogate pair past U+FFFF. */
  expect_json("中📚é", 9, AC__JSON_ASCII, "\"\\u4e2d\\ud83d\\udcda\\u00e9\"");
  expect_json("\xF0\xA0\xAE\xB7", 4, AC__JSON_ASCII, "\"\\ud842\\udfb7\"");
  /* Malformed UTF-8 in ASCII mode: each bad byte becomes U+FFFD. */
  expect_json("a\xFF" "b\xC0\xAF" "c\xE4\xB8", 8, AC__JSON_ASCII,
              "\"a\\ufffdb\\ufffd\\ufffdc\\ufffd\\ufffd\"");
  expect_json("\xED\xA0\x80", 3, AC__JSON_ASCII, "\"\\ufffd\\ufffd\\ufffd\"");
}

/* Every byte below 0x80 but NUL, alone and in both modes, comes back from
 * cJSON as itself; so do the non-BMP and BMP samples from ASCII mode. */
TEST_IMPL(json_write_roundtrip) {
  static const char *const samples[] = {"中文", "😀👨\xE2\x80\x8D👩\xE2\x80\x8D👧", "\xEF\xBB\xBF",
                                        "𠮷野家", "\n            [英]\n            蒂姆·哈福德\n            "};
  struct ac__dynbuf b;
  ac__dynbuf_init(&b, 1 << 16);
  for (int mode = 0; mode < 2; mode++) {
    for (unsigned c = 1; c < 0x80; c++) {
      char in[3] = {'x', (char)c, 'y'};
      ac__dynbuf_reset(&b);
      ac__json_str(&b, in, 3, (enum ac__json_mode)mode);
      cJSON *j = bt_parse(ac__dynbuf_ptr(&b), ac__dynbuf_len(&b));
      ASSERT(cJSON_IsString(j));
      ASSERT_EQ(strlen(j->valuestring), 3);
      ASSERT(memcmp(j->valuestring, in, 3) == 0);
      cJSON_Delete(j);
    }
    for (size_t k = 0; k < sizeof samples / sizeof samples[0]; k++) {
      ac__dynbuf_reset(&b);
      ac__json_str(&b, samples[k], strlen(samples[k]), (enum ac__json_mode)mode);
      cJSON *j = bt_parse(ac__dynbuf_ptr(&b), ac__dynbuf_len(&b));
      ASSERT_STR_EQ(j->valuestring, samples[k]);
      cJSON_Delete(j);
    }
  }
  ac__dynbuf_free(&b);
}

static void expect_fixed(uint64_t v, unsigned dec, const char *want) {
  struct ac__dynbuf b;
  ac__dynbuf_init(&b, 64);
  ac__json_fixed(&b, v, dec);
  expect_bytes(&b, want);
  ac__dynbuf_free(&b);
}

TEST_IMPL(json_write_numbers) {
  expect_fixed(850, 2, "8.50");
  expect_fixed(88, 1, "8.8");
  expect_fixed(5, 2, "0.05");
  expect_fixed(0, 2, "0.00");
  expect_fixed(5900, 2, "59.00");
  expect_fixed(7, 0, "7");
  expect_fixed(UINT64_MAX, 0, "18446744073709551615");
  expect_fixed(UINT64_MAX, 9, "18446744073.709551615");
  struct ac__dynbuf b;
  ac__dynbuf_init(&b, 64);
  ac__json_u64_pad(&b, 7, 4);
  ac__dynbuf_addc(&b, ' ');
  ac__json_u64_pad(&b, 123456, 2);
  ac__dynbuf_addc(&b, ' ');
  ac__json_u64(&b, 9007199254740993ULL);
  expect_bytes(&b, "0007 123456 9007199254740993");
  ac__dynbuf_free(&b);
}

/* A string written in pieces that meet at ASCII bytes is the string written
 * whole, in both modes, malformed UTF-8 included. */
TEST_IMPL(json_write_escape_pieces) {
  static const char *const pieces[] = {"http://", "h\xC3\xA9\xE4\xB8", "/p\"a\\th\x01",
                                        "?", "q=\xF0\x9F\x93\x9A&r=\n"};
  struct ac__dynbuf whole, parts, joined;
  ac__dynbuf_init(&whole, 1024);
  ac__dynbuf_init(&parts, 1024);
  ac__dynbuf_init(&joined, 1024);
  for (size_t k = 0; k < sizeof pieces / sizeof pieces[0]; k++) ac__dynbuf_adds(&joined, pieces[k]);
  for (int mode = 0; mode < 2; mode++) {
    ac__dynbuf_reset(&whole);
    ac__dynbuf_reset(&parts);
    ac__json_str(&whole, ac__dynbuf_ptr(&joined), ac__dynbuf_len(&joined),
                 (enum ac__json_mode)mode);
    ac__dynbuf_addc(&parts, '"');
    for (size_t k = 0; k < sizeof pieces / sizeof pieces[0]; k++)
      ac__json_escape(&parts, pieces[k], strlen(pieces[k]), (enum ac__json_mode)mode);
    ac__dynbuf_addc(&parts, '"');
    expect_bytes(&parts, ac__dynbuf_ptr(&whole));
  }
  /* The last mode was ASCII: the truncated sequence became two U+FFFD. */
  expect_bytes(&whole,
               "\"http://h\\u00e9\\ufffd\\ufffd/p\\\"a\\\\th\\u0001?q=\\ud83d\\udcda&r=\\n\"");
  ac__dynbuf_free(&whole);
  ac__dynbuf_free(&parts);
  ac__dynbuf_free(&joined);
}

TEST_IMPL(json_write_cap_and_oom) {
  struct ac__dynbuf b;
  /* The cap: a string that would pass it fails, and the buffer stays failed. */
  ac__dynbuf_init(&b, 8);
  ac__json_str(&b, "12345", 5, AC__JSON_UTF8);
  expect_bytes(&b, "\"12345\"");
  ac__json_u64(&b, 123);
  ASSERT_ERR(ac__dynbuf_err(&b), AC_ETOOLARGE);
  ac__json_str(&b, "", 0, AC__JSON_UTF8);
  ASSERT_ERR(ac__dynbuf_err(&b), AC_ETOOLARGE);
  ASSERT_EQ(ac__dynbuf_len(&b), 0);
  ac__dynbuf_reset(&b);
  ac__json_reshape(&b, "[1,2]", 5, AC__STYLE_PRETTY, AC__ESCAPE_NONE, 1); /* 13 bytes */
  ASSERT_ERR(ac__dynbuf_err(&b), AC_ETOOLARGE);
  ac__dynbuf_reset(&b);
  ac__json_reshape(&b, "[1, 2]", 6, AC__STYLE_COMPACT, AC__ESCAPE_NONE, 1);
  expect_bytes(&b, "[1,2]");
  ac__dynbuf_free(&b);
  /* Out of memory: AC_ENOMEM, sticky, nothing leaked. */
  ac__dynbuf_init(&b, 1 << 20);
  ac__alloc_fail_after(1);
  ac__json_str(&b, "abc", 3, AC__JSON_UTF8);
  ac__alloc_fail_after(0);
  ASSERT_ERR(ac__dynbuf_err(&b), AC_ENOMEM);
  ASSERT_EQ(ac__dynbuf_len(&b), 0);
  ac__json_fixed(&b, 850, 2);
  ASSERT_ERR(ac__dynbuf_err(&b), AC_ENOMEM);
  ASSERT_EQ(ac__dynbuf_len(&b), 0);
  ac__dynbuf_free(&b);
}

static void expect_reshape(const char *in, enum ac__json_style style, enum ac__json_escape esc,
                           uint64_t seed, const char *want) {
  struct ac__dynbuf b;
  ac__dynbuf_init(&b, 4096);
  ac__json_reshape(&b, in, strlen(in), style, esc, seed);
  expect_bytes(&b, want);
  ac__dynbuf_free(&b);
}

/* The layouts and escapes of ac__json_reshape, written out: pretty is
 * json.dumps(indent=2) plus a newline, spaced its default separators, the
 * PHP escapes json_encode's; a string's bytes are never respaced. */
TEST_IMPL(json_write_reshape) {
  static const char doc[] =
      "{\"a\":[1,{\"b\":[]},{}],\"c\":\"x/y, z: \\\"q\\\" \\\\/ \\u00e9\",\"d\":-1.5e+2,"
      "\"e\":[true,false,null]}";
  static const char utf8[] = "[\"é中📚/\\/\\u4e2d\",\"\x7f\"]";
  struct ac__dynbuf a, b;
  int saw_cr = 0, saw_tab = 0, saw_lead = 0;

  expect_reshape(doc, AC__STYLE_COMPACT, AC__ESCAPE_NONE, 1, doc);
  expect_reshape(doc, AC__STYLE_PRETTY, AC__ESCAPE_NONE, 1,
                 "{\n  \"a\": [\n    1,\n    {\n      \"b\": []\n    },\n    {}\n  ],\n"
                 "  \"c\": \"x/y, z: \\\"q\\\" \\\\/ \\u00e9\",\n  \"d\": -1.5e+2,\n"
                 "  \"e\": [\n    true,\n    false,\n    null\n  ]\n}\n");
  expect_reshape(doc, AC__STYLE_SPACED, AC__ESCAPE_NONE, 1,
                 "{\"a\": [1, {\"b\": []}, {}], \"c\": \"x/y, z: \\\"q\\\" \\\\/ \\u00e9\", "
                 "\"d\": -1.5e+2, \"e\": [true, false, null]}");
  /* Whitespace already there is dropped: a pretty text comes back compact. */
  expect_reshape(" {\r\n\t\"a\" : [ 1 , { } ] }\n", AC__STYLE_COMPACT, AC__ESCAPE_NONE, 1,
                 "{\"a\":[1,{}]}");
  /* Escapes: existing ones are kept, raw characters rewritten. */
  expect_reshape(utf8, AC__STYLE_COMPACT, AC__ESCAPE_NONE, 1, utf8);
  expect_reshape(utf8, AC__STYLE_COMPACT, AC__ESCAPE_ASCII, 1,
                 "[\"\\u00e9\\u4e2d\\ud83d\\udcda/\\/\\u4e2d\",\"\x7f\"]");
  expect_reshape(utf8, AC__STYLE_COMPACT, AC__ESCAPE_SLASH, 1,
                 "[\"é中📚\\/\\/\\u4e2d\",\"\x7f\"]");
  expect_reshape(utf8, AC__STYLE_COMPACT, AC__ESCAPE_PHP, 1,
                 "[\"\\u00e9\\u4e2d\\ud83d\\udcda\\/\\/\\u4e2d\",\"\x7f\"]");
  /* Malformed UTF-8 cannot be escaped into the same value: left as it is. */
  expect_reshape("[\"a\xff\"]", AC__STYLE_COMPACT, AC__ESCAPE_ASCII, 1, "[\"a\xff\"]");

  /* Mixed: the same seed, the same bytes; another seed, others; every
   * layout valid JSON that compacts back to the input. */
  ac__dynbuf_init(&a, 4096);
  ac__dynbuf_init(&b, 4096);
  ac__json_reshape(&a, doc, strlen(doc), AC__STYLE_MIXED, AC__ESCAPE_NONE, 7);
  ac__json_reshape(&b, doc, strlen(doc), AC__STYLE_MIXED, AC__ESCAPE_NONE, 7);
  expect_bytes(&b, ac__dynbuf_ptr(&a));
  ac__dynbuf_reset(&b);
  ac__json_reshape(&b, doc, strlen(doc), AC__STYLE_MIXED, AC__ESCAPE_NONE, 8);
  ASSERT(ac__dynbuf_len(&a) != ac__dynbuf_len(&b) ||
         memcmp(ac__dynbuf_ptr(&a), ac__dynbuf_ptr(&b), ac__dynbuf_len(&a)) != 0);
  for (uint64_t seed = 0; seed < 200; seed++) {
    for (int style = 0; style < AC__STYLE_KINDS; style++) {
      ac__dynbuf_reset(&a);
      ac__dynbuf_reset(&b);
      ac__json_reshape(&a, doc, strlen(doc), (enum ac__json_style)style, AC__ESCAPE_NONE, seed);
      ASSERT_OK(ac__dynbuf_err(&a));
      const char *p = ac__dynbuf_ptr(&a);
      size_t n = ac__dynbuf_len(&a);
      ASSERT_OK(ac__json_scan(p, n, NULL, NULL, NULL, NULL));
      if (style == AC__STYLE_MIXED) {
        saw_cr |= memchr(p, '\r', n) != NULL;
        saw_tab |= memchr(p, '\t', n) != NULL;
        saw_lead |= p[0] != '{';
      }
      ac__json_reshape(&b, p, n, AC__STYLE_COMPACT, AC__ESCAPE_NONE, 0);
      expect_bytes(&b, doc);
    }
  }
  ASSERT(saw_cr && saw_tab && saw_lead);
  ac__dynbuf_free(&a);
  ac__dynbuf_free(&b);
}
