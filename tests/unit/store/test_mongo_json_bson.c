/*
 * The strict JSON -> BSON converter of the MongoDB store (src/store/json_bson.c)
 * on nasty inputs: no server needed.
 */
#include <bson/bson.h>
#include <math.h>
#include <string.h>

#include "acrawl/errno.h"
#include "common/alloc.h"
#include "runner.h"
#include "store/json_bson.h"

static char msg[512];

/* Convert text; the BSON goes to out (initialised here). */
static int conv(const char *json, unsigned flags, bson_t *out) {
  bson_init(out);
  return ac__json_to_bson(json, strlen(json), flags, out, msg, sizeof(msg));
}

static void expect_fail(const char *json, unsigned flags, int want, const char *needle) {
  bson_t b;
  int rc = conv(json, flags, &b);
  bson_destroy(&b);
  if (rc != want || strstr(msg, needle) == NULL)
    AC__FAIL("input %s: got %d (%s) \"%s\", want %d with \"%s\"", json, rc, ac_err_name(rc), msg,
             want, needle);
}

static void find(const bson_t *b, const char *path, bson_iter_t *it) {
  bson_iter_t top;
  ASSERT(bson_iter_init(&top, b));
  if (!bson_iter_find_descendant(&top, path, it)) AC__FAIL("no %s in the BSON", path);
}

TEST_IMPL(mongo_json_bson_numbers) {
  bson_t b;
  ASSERT_OK(conv("{\"i\":0,\"neg\":-1,\"i32max\":2147483647,\"i32min\":-2147483648,"
                 "\"i64a\":2147483648,\"i64b\":-2147483649,\"i64max\":9223372036854775807,"
                 "\"i64min\":-9223372036854775808,\"big53\":9007199254740993,"
                 "\"price\":8.50,\"exp\":1.2e+2,\"small\":1E-3,\"negzero\":-0.0,\"z\":-0,"
                 "\"e2\":1E+2}",
                 0, &b));
  bson_iter_t it;
  struct {
    const char *k;
    bson_type_t t;
    int64_t v;
  } ints[] = {{"i", BSON_TYPE_INT32, 0},
              {"neg", BSON_TYPE_INT32, -1},
              {"i32max", BSON_TYPE_INT32, INT32_MAX},
              {"i32min", BSON_TYPE_INT32, INT32_MIN},
              {"i64a", BSON_TYPE_INT64, 2147483648LL},
              {"i64b", BSON_TYPE_INT64, -2147483649LL},
              {"i64max", BSON_TYPE_INT64, INT64_MAX},
              {"i64min", BSON_TYPE_INT64, INT64_MIN},
              /* 2^53 + 1: exact, where a double would make it 2^53 */
              {"big53", BSON_TYPE_INT64, 9007199254740993LL},
              {"z", BSON_TYPE_INT32, 0}};
  for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
    find(&b, ints[i].k, &it);
    if (bson_iter_type(&it) != ints[i].t) AC__FAIL("%s has BSON type %d", ints[i].k, bson_iter_type(&it));
    ASSERT_EQ(bson_iter_as_int64(&it), ints[i].v);
  }
  struct {
    const char *k;
    double v;
  } dbl[] = {{"price", 8.5}, {"exp", 120.0}, {"small", 0.001}, {"e2", 100.0}};
  for (size_t i = 0; i < sizeof(dbl) / sizeof(dbl[0]); i++) {
    find(&b, dbl[i].k, &it);
    if (!BSON_ITER_HOLDS_DOUBLE(&it)) AC__FAIL("%s is not a double", dbl[i].k);
    ASSERT_DEQ(bson_iter_double(&it), dbl[i].v);
  }
  find(&b, "negzero", &it);
  ASSERT(BSON_ITER_HOLDS_DOUBLE(&it));
  ASSERT(bson_iter_double(&it) == 0.0 && signbit(bson_iter_double(&it)));
  bson_destroy(&b);
}

/* What a double cannot hold is never rounded without a word: past int64
 * and out of a double's range, a Decimal128 holding the very value; more
 * digits than that holds, refused by byte. */
TEST_IMPL(mongo_json_bson_numbers_past_double_exact) {
  bson_t b;
  ASSERT_OK(conv("{\"past\":9223372036854775808,\"past1\":9223372036854775809,"
                 "\"pastneg\":-9223372036854775809,\"u64max\":18446744073709551615,"
                 "\"long\":123456789012345678901234567890,"
                 "\"d34\":1234567890123456789012345678901234,"
                 "\"zeros\":100000000000000000000000000000000000000000,"
                 "\"huge\":1e400,\"tiny\":-1.5E-400}",
                 0, &b));
  struct {
    const char *k, *v;
  } dec[] = {{"past", "9223372036854775808"},
             {"past1", "9223372036854775809"},
             {"pastneg", "-9223372036854775809"},
             {"u64max", "18446744073709551615"},
             {"long", "123456789012345678901234567890"},
             {"d34", "1234567890123456789012345678901234"},
             {"zeros", "1.000000000000000000000000000000000E+41"},
             {"huge", "1E+400"},
             {"tiny", "-1.5E-400"}};
  for (size_t i = 0; i < sizeof(dec) / sizeof(dec[0]); i++) {
    bson_iter_t it;
    bson_decimal128_t d;
    char text[BSON_DECIMAL128_STRING];
    find(&b, dec[i].k, &it);
    if (!BSON_ITER_HOLDS_DECIMAL128(&it)) AC__FAIL("%s has BSON type %d", dec[i].k, bson_iter_type(&it));
    ASSERT(bson_iter_decimal128(&it, &d));
    bson_decimal128_to_string(&d, text);
    ASSERT_STR_EQ(text, dec[i].v);
  }
  bson_destroy(&b);
  expect_fail("{\"a\":[1,12345678901234567890123456789012345]}", 0, AC_EINVAL,
              "number at byte 8 (12345678901234567890123456789012345) is held exactly by no BSON");
  expect_fail("{\"a\":1.00000000000000000000000000000000001e400}", 0, AC_EINVAL,
              "is held exactly by no BSON number type");
  expect_fail("{\"a\":1e99999}", 0, AC_EINVAL, "is held exactly by no BSON number type");
}

/* Pretty-printed JSON: space, tab, CR and LF between any two tokens and
 * around the document, and a leading byte order mark, give the BSON of the
 * compact text; escapes ( \/, \u, a surrogate pair) decode the same. */
TEST_IMPL(mongo_json_bson_whitespace_and_bom) {
  static const char compact[] =
      "{\"id\":\"b1\",\"a\":[1,-0,1E+2,8.50,true,false,null,{},[]],"
      "\"o\":{\"k\":\"v \\/ \\u00e9 \\ud83d\\ude00\"}}";
  static const char *const same[] = {
      "\n\r\t {\r\n\t\"id\"\t:\n\"b1\" \r,\n\"a\" : [\n 1 ,\r\n -0\t,\t1E+2 ,\n 8.50 , true\n,"
      " false\r, null ,\n{\n}\t, [\r\n]\n]\r\n,\t\"o\"\n:\n{\n\t\"k\" :\r\n \"v \\/ \\u00e9 "
      "\\ud83d\\ude00\"\n}\n}\r\n\n",
      "\xEF\xBB\xBF{\"id\":\"b1\",\"a\":[1,-0,1E+2,8.50,true,false,null,{},[]],"
      "\"o\":{\"k\":\"v / \xC3\xA9 \xF0\x9F\x98\x80\"}}",
      "\xEF\xBB\xBF\r\n{ \"id\" : \"b1\" , \"a\" : [ 1 , -0 , 1E+2 , 8.50 , true , false , null , "
      "{ } , [ ] ] , \"o\" : { \"k\" : \"v \\/ \\u00E9 \\uD83D\\uDE00\" } }\r\n",
  };
  bson_t want, got;
  ASSERT_OK(conv(compact, 0, &want));
  for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
    ASSERT_OK(conv(same[i], AC__JSON_BSON_MONGO_KEYS, &got));
    if (!bson_equal(&want, &got)) {
      char *g = bson_as_canonical_extended_json(&got, NULL);
      AC__FAIL("form %zu gives %s", i, g);
    }
    bson_destroy(&got);
  }
  bson_iter_t it;
  find(&want, "o.k", &it);
  ASSERT_STR_EQ(bson_iter_utf8(&it, NULL), "v / \xC3\xA9 \xF0\x9F\x98\x80");
  bson_destroy(&want);
  /* The mark counts only where the text begins; other bytes are not space. */
  expect_fail(" \xEF\xBB\xBF{}", 0, AC_EPARSE, "invalid JSON at byte 1");
  expect_fail("{}\xEF\xBB\xBF", 0, AC_EPARSE, "characters after the document");
  expect_fail("{\"a\":\f1}", 0, AC_EPARSE, "invalid JSON at byte 5");
  expect_fail("{\"a\":\v1}", 0, AC_EPARSE, "invalid JSON at byte 5");
  expect_fail("{\"a\":\xC2\xA0" "1}", 0, AC_EPARSE, "invalid JSON at byte 5");
}

TEST_IMPL(mongo_json_bson_strings) {
  bson_t b;
  /* Escapes, a non-BMP character escaped and raw, \u0000 in the middle,
   * Chinese text raw and escaped. */
  ASSERT_OK(conv("{\"esc\":\"q\\\" b\\\\ s\\/ \\b\\f\\n\\r\\t\","
                 "\"emoji\":\"\\ud83d\\ude00\",\"raw\":\"\xf0\x9f\x98\x80\","
                 "\"nul\":\"a\\u0000b\",\"zh\":\"\xe4\xb8\xad\\u6587\",\"e\":\"\\u00E9\","
                 "\"empty\":\"\"}",
                 0, &b));
  bson_iter_t it;
  uint32_t len;
  const char *s;
  find(&b, "esc", &it);
  s = bson_iter_utf8(&it, &len);
  ASSERT_EQ(len, 14);
  ASSERT(memcmp(s, "q\" b\\ s/ \b\f\n\r\t", 14) == 0);
  find(&b, "emoji", &it);
  s = bson_iter_utf8(&it, &len);
  ASSERT_EQ(len, 4);
  ASSERT(memcmp(s, "\xf0\x9f\x98\x80", 4) == 0);
  find(&b, "raw", &it);
  s = bson_iter_utf8(&it, &len);
  ASSERT_EQ(len, 4);
  ASSERT(memcmp(s, "\xf0\x9f\x98\x80", 4) == 0);
  find(&b, "nul", &it);
  s = bson_iter_utf8(&it, &len);
  ASSERT_EQ(len, 3); /* the NUL survives: BSON strings carry a length */
  ASSERT(memcmp(s, "a\0b", 3) == 0);
  find(&b, "zh", &it);
  ASSERT_STR_EQ(bson_iter_utf8(&it, NULL), "\xe4\xb8\xad\xe6\x96\x87");
  find(&b, "e", &it);
  ASSERT_STR_EQ(bson_iter_utf8(&it, NULL), "\xc3\xa9");
  find(&b, "empty", &it);
  ASSERT_STR_EQ(bson_iter_utf8(&it, NULL), "");
  bson_destroy(&b);
}

TEST_IMPL(mongo_json_bson_structure) {
  /* Order kept, empty arrays and objects, arrays of arrays, whitespace. */
  bson_t b;
  ASSERT_OK(conv(" \r\n\t{ \"z\" : [ [ ] , [ [ 1 ] ] , { } ] , \"a\" : { } , \"n\" : null ,"
                 " \"t\" : true , \"f\" : false , \"m\" : [ \"x\" , 2.5 , { \"k\" : [ ] } ] } \n",
                 0, &b));
  bson_t *want = BCON_NEW("z", "[", "[", "]", "[", "[", BCON_INT32(1), "]", "]", "{", "}", "]",
                          "a", "{", "}", "n", BCON_NULL, "t", BCON_BOOL(true), "f",
                          BCON_BOOL(false), "m", "[", BCON_UTF8("x"), BCON_DOUBLE(2.5), "{", "k",
                          "[", "]", "}", "]");
  if (!bson_equal(&b, want)) {
    char *got = bson_as_canonical_extended_json(&b, NULL);
    AC__FAIL("structure differs: %s", got);
  }
  bson_destroy(want);
  bson_destroy(&b);
  ASSERT_OK(conv("{}", 0, &b));
  ASSERT_EQ(bson_count_keys(&b), 0);
  bson_destroy(&b);
}

TEST_IMPL(mongo_json_bson_not_extended_json) {
  /* What bson_init_from_json would read as Extended JSON stays data. */
  bson_t b;
  ASSERT_OK(conv("{\"d\":{\"$date\":\"yesterday\"},\"l\":{\"$numberLong\":\"5\"},"
                 "\"o\":{\"$oid\":\"not an oid\"}}",
                 0, &b));
  bson_iter_t it;
  find(&b, "d.$date", &it);
  ASSERT_STR_EQ(bson_iter_utf8(&it, NULL), "yesterday");
  find(&b, "l.$numberLong", &it);
  ASSERT(BSON_ITER_HOLDS_UTF8(&it));
  ASSERT_STR_EQ(bson_iter_utf8(&it, NULL), "5");
  find(&b, "o.$oid", &it);
  ASSERT_STR_EQ(bson_iter_utf8(&it, NULL), "not an oid");
  bson_destroy(&b);
}

TEST_IMPL(mongo_json_bson_invalid) {
  static const char *bad[] = {
      "", "   ", "[]", "[{\"a\":1}]", "1", "\"s\"", "null", "{", "{\"a\"}", "{\"a\":}",
      "{\"a\":1,}", "{,}", "{\"a\":01}", "{\"a\":1.}", "{\"a\":.5}", "{\"a\":+1}",
      "{\"a\":1e}", "{\"a\":1e+}", "{\"a\":-}", "{\"a\":tru}", "{\"a\":nul}", "{\"a\":NaN}",
      "{\"a\":Infinity}", "{\"a\":\"\x01\"}", "{\"a\":\"tab\there\"}", "{\"a\":\"\\x\"}",
      "{\"a\":\"\\u12\"}", "{\"a\":\"\\u12g4\"}", "{\"a\":\"\\ud800\"}", "{\"a\":\"\\ud800x\"}",
      "{\"a\":\"\\ud800\\u0041\"}", "{\"a\":\"\\udc00\"}", "{\"a\":\"\xff\"}",
      "{\"a\":\"\xc0\xaf\"}", "{\"a\":\"\xe0\x80\xaf\"}", "{\"a\":\"\xed\xa0\x80\"}",
      "{\"a\":\"\xf4\x90\x80\x80\"}", "{\"a\":\"\xe4\xb8\"}", "{\"a\":\"\x80\"}",
      "{\"\xff\":1}", "{} x", "{}{}", "{'a':1}", "{a:1}", "{\"a\":1 \"b\":2}",
      "{\"a\":[1 2]}", "{\"a\":[1,]}", "{\"a\":\"unterminated}", "{\"a\":\"x\\",
      "\xef\xbb\xbf", "\xef\xbb{}", "{\"a\":[}", "{\"a\":{]}", "{\"a\":1}}"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    expect_fail(bad[i], 0, AC_EPARSE, "invalid JSON at byte");
  /* The offset points at the problem. */
  expect_fail("{\"a\":1,\"b\":x}", 0, AC_EPARSE, "at byte 11:");
  expect_fail("[1]", 0, AC_EPARSE, "top level must be an object");
  /* A NUL byte inside the text (not the escape) is a control character. */
  bson_t b;
  bson_init(&b);
  ASSERT_ERR(ac__json_to_bson("{\"a\":\"x\0y\"}", 11, 0, &b, msg, sizeof(msg)), AC_EPARSE);
  bson_destroy(&b);
  /* Length, not NUL, ends the input: a prefix of a valid document is not valid. */
  bson_init(&b);
  ASSERT_ERR(ac__json_to_bson("{\"a\":1}", 6, 0, &b, msg, sizeof(msg)), AC_EPARSE);
  bson_destroy(&b);
}

TEST_IMPL(mongo_json_bson_keys) {
  /* Refused whatever the flags: a key twice (which value would be the
   * document's?), \u0000 in a key (BSON keys end at NUL). */
  expect_fail("{\"a\":1,\"a\":2}", 0, AC_EINVAL, "key \"a\" appears twice in the object at the top level");
  expect_fail("{\"x\":[{\"k\":1,\"j\":0,\"k\":2}]}", 0, AC_EINVAL, "appears twice in the object at x[0]");
  expect_fail("{\"a\\u0000b\":1}", 0, AC_EINVAL, "BSON keys cannot hold NUL");
  /* Many keys (the sorted check, past the small array) and no duplicate. */
  char big[40000];
  size_t len = 0;
  big[len++] = '{';
  for (int i = 0; i < 2000; i++) len += (size_t)snprintf(big + len, sizeof(big) - len, "%s\"k%d\":%d", i ? "," : "", i, i);
  big[len++] = '}';
  big[len] = '\0';
  bson_t b;
  ASSERT_OK(conv(big, AC__JSON_BSON_MONGO_KEYS, &b));
  ASSERT_EQ(bson_count_keys(&b), 2000);
  bson_destroy(&b);
  memcpy(big + len - 1, ",\"k1999\":0}", 12);
  expect_fail(big, 0, AC_EINVAL, "key \"k1999\" appears twice");

  /* MongoDB's field-name rules, with the flag: refused, the path named. */
  expect_fail("{\"$x\":1}", AC__JSON_BSON_MONGO_KEYS, AC_EINVAL, "key \"$x\" at the top level: MongoDB cannot store a field name that starts with '$'");
  expect_fail("{\"meta\":{\"tags\":[0,{\"$date\":\"x\"}]}}", AC__JSON_BSON_MONGO_KEYS, AC_EINVAL,
              "key \"$date\" in meta.tags[1]:");
  expect_fail("{\"a\":{\"b.c\":1}}", AC__JSON_BSON_MONGO_KEYS, AC_EINVAL, "key \"b.c\" in a: MongoDB cannot store a field name with '.'");
  expect_fail("{\"\":1}", AC__JSON_BSON_MONGO_KEYS, AC_EINVAL, "empty field name");
  /* '$' elsewhere in a key and '$' in values are fine. */
  ASSERT_OK(conv("{\"price$\":\"$49.10\",\"a\":[\"$x\"]}", AC__JSON_BSON_MONGO_KEYS, &b));
  bson_destroy(&b);
  /* Without the flag the same keys are data. */
  ASSERT_OK(conv("{\"$x\":1,\"a.b\":2,\"\":3}", 0, &b));
  ASSERT_EQ(bson_count_keys(&b), 3);
  bson_destroy(&b);
}

TEST_IMPL(mongo_json_bson_depth) {
  /* 100 levels pass, 101 do not, and a million brackets fail fast instead
   * of overflowing the stack. */
  size_t n = 1000000;
  char *s = malloc(2 * n + 16);
  ASSERT_NOT_NULL(s);
  for (int levels = 99; levels <= 101; levels++) {
    /* {"a": [ ... levels-1 arrays ... ]} */
    size_t len = 0;
    len += (size_t)sprintf(s, "{\"a\":");
    for (int i = 1; i < levels; i++) s[len++] = '[';
    for (int i = 1; i < levels; i++) s[len++] = ']';
    s[len++] = '}';
    s[len] = '\0';
    bson_t b;
    int rc = conv(s, 0, &b);
    bson_destroy(&b);
    if (levels <= AC__JSON_BSON_MAX_DEPTH) {
      ASSERT_OK(rc);
    } else {
      ASSERT_ERR(rc, AC_ETOOLARGE);
      ASSERT(strstr(msg, "nested deeper than 100 levels") != NULL);
    }
  }
  s[0] = '{';
  memcpy(s + 1, "\"a\":", 4);
  memset(s + 5, '[', n);
  s[5 + n] = '\0';
  expect_fail(s, 0, AC_ETOOLARGE, "nested deeper");
  for (size_t i = 0; i < 200; i++) memcpy(s + 5 + i * 5, "{\"a\":", 5);
  s[5 + 200 * 5] = '\0';
  expect_fail(s, 0, AC_ETOOLARGE, "nested deeper");
  free(s);
}

TEST_IMPL(mongo_json_bson_big_string) {
  /* 5 MB of text with an escape every 100 bytes and a non-BMP character. */
  size_t n = 5u << 20;
  char *s = malloc(n + 64);
  char *want = malloc(n);
  ASSERT(s && want);
  size_t len = (size_t)sprintf(s, "{\"big\":\"");
  size_t wl = 0;
  while (len < n) {
    if (wl % 100 == 99) {
      memcpy(s + len, "\\n", 2);
      len += 2;
      want[wl++] = '\n';
    } else if (wl % 1000 == 500) {
      memcpy(s + len, "\xf0\x9f\x98\x80", 4);
      len += 4;
      memcpy(want + wl, "\xf0\x9f\x98\x80", 4);
      wl += 4;
    } else {
      s[len++] = 'x';
      want[wl++] = 'x';
    }
  }
  memcpy(s + len, "\"}", 3);
  bson_t b;
  ASSERT_OK(conv(s, AC__JSON_BSON_MONGO_KEYS, &b));
  bson_iter_t it;
  find(&b, "big", &it);
  uint32_t got_len;
  const char *got = bson_iter_utf8(&it, &got_len);
  ASSERT_UEQ(got_len, wl);
  ASSERT(memcmp(got, want, wl) == 0);
  bson_destroy(&b);
  free(s);
  free(want);
}

TEST_IMPL(mongo_json_bson_oom) {
  /* The scratch buffer for escaped strings, and the key list of a big
   * object, fail cleanly: AC_ENOMEM, nothing leaked. */
  ac_test_count_allocations();
  long before = ac_test_live_allocations();
  bson_t b;
  for (long fail = 1; fail <= 3; fail++) {
    ac__alloc_fail_after(fail);
    int rc = conv("{\"a\":\"x\\ny\",\"b\":\"\\u00e9\"}", 0, &b);
    ac__alloc_fail_after(0);
    bson_destroy(&b);
    ASSERT(rc == AC_ENOMEM || rc == 0);
    if (fail == 1) {
      ASSERT_ERR(rc, AC_ENOMEM);
      ASSERT(strstr(msg, "out of memory") != NULL);
    }
    ASSERT_EQ(ac_test_live_allocations(), before);
  }
  ASSERT_OK(conv("{\"a\":\"x\\ny\"}", 0, &b));
  bson_destroy(&b);
  ASSERT_EQ(ac_test_live_allocations(), before);
}
