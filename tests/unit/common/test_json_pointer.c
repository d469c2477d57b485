/*
 * JSON Pointer over JSON text (src/common/json_pointer.c): RFC 6901's own
 * examples, names written with escapes, arrays, what names nothing, and the
 * elements of an array span, on compact and pretty-printed bodies.
 */
#include <string.h>

#include "acrawl/errno.h"
#include "common/json_pointer.h"
#include "runner.h"

/* RFC 6901 section 5's document, pretty-printed as a site may send it. */
static const char rfc[] =
    "{\n"
    "   \"foo\": [\"bar\", \"baz\"],\n"
    "   \"\": 0,\n"
    "   \"a/b\": 1,\n"
    "   \"c%d\": 2,\n"
    "   \"e^f\": 3,\n"
    "   \"g|h\": 4,\n"
    "   \"i\\\\j\": 5,\n"
    "   \"k\\\"l\": 6,\n"
    "   \" \": 7,\n"
    "   \"m~n\": 8\n"
    "}\n";

/* The text ptr names in doc, or NULL (with *rc set) when it names nothing. */
static int get(const char *doc, const char *ptr, char *out, size_t cap) {
  ac__json_span_t s;
  int rc;
  ASSERT_OK(ac__json_scan(doc, strlen(doc), NULL, NULL, NULL, NULL));
  rc = ac__json_pointer_get(doc, strlen(doc), ptr, &s);
  if (rc != 0) return rc;
  ASSERT_LT(s.len, cap);
  memcpy(out, s.start, s.len);
  out[s.len] = '\0';
  return 0;
}

#define ASSERT_NAMES(doc, ptr, want)                 \
  do {                                               \
    char named_[256];                                  \
    ASSERT_OK(get(doc, ptr, named_, sizeof(named_)));    \
    ASSERT_STR_EQ(named_, want);                       \
  } while (0)

TEST_IMPL(json_pointer_rfc6901_examples) {
  char whole[512];
  ASSERT_OK(get(rfc, "", whole, sizeof(whole)));
  ASSERT_EQ(strlen(whole), strlen(rfc) - 1); /* the value, without the trailing newline */
  ASSERT_NAMES(rfc, "/foo", "[\"bar\", \"baz\"]");
  ASSERT_NAMES(rfc, "/foo/0", "\"bar\"");
  ASSERT_NAMES(rfc, "/foo/1", "\"baz\"");
  ASSERT_NAMES(rfc, "/", "0");
  ASSERT_NAMES(rfc, "/a~1b", "1");
  ASSERT_NAMES(rfc, "/c%d", "2");
  ASSERT_NAMES(rfc, "/e^f", "3");
  ASSERT_NAMES(rfc, "/g|h", "4");
  ASSERT_NAMES(rfc, "/i\\j", "5");
  ASSERT_NAMES(rfc, "/k\"l", "6");
  ASSERT_NAMES(rfc, "/ ", "7");
  ASSERT_NAMES(rfc, "/m~0n", "8");
}

TEST_IMPL(json_pointer_names_compared_unescaped) {
  /* Names with escapes match their text; "~01" is "~1", not "/". */
  static const char doc[] =
      "{\"\\u0041\":1,\"caf\\u00e9\":2,\"a\\/b\":3,\"~1\":4,\"\\ud83d\\ude00\":5,\"x\":6}";
  char out[16];
  ASSERT_NAMES(doc, "/A", "1");
  ASSERT_NAMES(doc, "/caf\xc3\xa9", "2");
  ASSERT_NAMES(doc, "/a~1b", "3");
  ASSERT_NAMES(doc, "/~01", "4");
  ASSERT_NAMES(doc, "/\xf0\x9f\x98\x80", "5");
  ASSERT_ERR(get(doc, "/\\u0041", out, sizeof(out)), AC_ENOENT);
  /* Duplicate names: the first counts, as in ac__json_scan. */
  ASSERT_NAMES("{\"id\":1,\"id\":2}", "/id", "1");
}

TEST_IMPL(json_pointer_walks_past_tricky_values) {
  /* Strings holding brackets, quotes and backslashes; nested containers;
   * numbers and literals; all skipped on the way to the last member. */
  static const char doc[] =
      "{ \"s\" : \"]}{[\\\"\\\\\" , \"n\" : [ [ ] , { } , { \"a\" : [ 1 , { \"]\" : \"[\" } ] } ] ,"
      " \"t\" : true , \"f\" : false , \"z\" : null , \"num\" : -1.5e+3 ,"
      " \"results\" : [ { \"id\" : 12345678901234567891 } , { \"id\" : \"x\\\"y\" } ] }";
  ASSERT_NAMES(doc, "/s", "\"]}{[\\\"\\\\\"");
  ASSERT_NAMES(doc, "/n/2/a/1/]", "\"[\"");
  ASSERT_NAMES(doc, "/n/0", "[ ]");
  ASSERT_NAMES(doc, "/t", "true");
  ASSERT_NAMES(doc, "/f", "false");
  ASSERT_NAMES(doc, "/z", "null");
  ASSERT_NAMES(doc, "/num", "-1.5e+3");
  ASSERT_NAMES(doc, "/results/0/id", "12345678901234567891");
  ASSERT_NAMES(doc, "/results/1/id", "\"x\\\"y\"");
}

TEST_IMPL(json_pointer_what_names_nothing) {
  static const char doc[] = "{\"foo\":[\"bar\",\"baz\"],\"o\":{},\"a\":[],\"s\":\"str\"}";
  char out[64];
  ASSERT_ERR(get(doc, "/missing", out, sizeof(out)), AC_ENOENT);
  ASSERT_ERR(get(doc, "/foo/2", out, sizeof(out)), AC_ENOENT);   /* past the end */
  ASSERT_ERR(get(doc, "/foo/-", out, sizeof(out)), AC_ENOENT);   /* "-" when reading */
  ASSERT_ERR(get(doc, "/foo/01", out, sizeof(out)), AC_ENOENT);  /* a leading zero */
  ASSERT_ERR(get(doc, "/foo/+1", out, sizeof(out)), AC_ENOENT);
  ASSERT_ERR(get(doc, "/foo/", out, sizeof(out)), AC_ENOENT);    /* "" is no index */
  ASSERT_ERR(get(doc, "/foo/99999999999999999999999", out, sizeof(out)), AC_ENOENT);
  ASSERT_ERR(get(doc, "/foo/0/x", out, sizeof(out)), AC_ENOENT); /* into a string */
  ASSERT_ERR(get(doc, "/s/0", out, sizeof(out)), AC_ENOENT);
  ASSERT_ERR(get(doc, "/o/x", out, sizeof(out)), AC_ENOENT);     /* empty containers */
  ASSERT_ERR(get(doc, "/a/0", out, sizeof(out)), AC_ENOENT);
  ASSERT_ERR(get("7", "/x", out, sizeof(out)), AC_ENOENT);
  ASSERT_NAMES("[10,20,30]", "/0", "10");
  ASSERT_NAMES("[10,20,30]", "/2", "30");
}

TEST_IMPL(json_pointer_malformed) {
  ac__json_span_t s;
  ASSERT_OK(ac__json_pointer_check(""));
  ASSERT_OK(ac__json_pointer_check("/"));
  ASSERT_OK(ac__json_pointer_check("/a~0~1/0"));
  ASSERT_ERR(ac__json_pointer_check("results"), AC_EINVAL); /* not '/'-led */
  ASSERT_ERR(ac__json_pointer_check("/a~2"), AC_EINVAL);
  ASSERT_ERR(ac__json_pointer_check("/a~"), AC_EINVAL);
  ASSERT_ERR(ac__json_pointer_check(NULL), AC_EINVAL);
  ASSERT_ERR(ac__json_pointer_get("{}", 2, "x", &s), AC_EINVAL);
  ASSERT_ERR(ac__json_pointer_get("{}", 2, "/x~", &s), AC_EINVAL);
  ASSERT_ERR(ac__json_pointer_get("  ", 2, "", &s), AC_ENOENT); /* no value at all */
}

struct seen {
  char text[8][64];
  int n, stop_at;
};

static int collect(const ac__json_span_t *span, void *ud) {
  struct seen *s = ud;
  if (s->n == s->stop_at) return 42;
  ASSERT_LT(span->len, sizeof(s->text[0]));
  memcpy(s->text[s->n], span->start, span->len);
  s->text[s->n][span->len] = '\0';
  s->n++;
  return 0;
}

TEST_IMPL(json_pointer_array_elements) {
  static const char doc[] =
      "{\"count\": 3, \"results\": [\n  {\"id\": 1, \"t\": \"a],b\"},\n  [1, [2]],\n"
      "  \"s\\\"]\" ,\n  null , -0.5 ,{}\n]}";
  ac__json_span_t arr, empty;
  struct seen s;

  ASSERT_OK(ac__json_scan(doc, strlen(doc), NULL, NULL, NULL, NULL));
  ASSERT_OK(ac__json_pointer_get(doc, strlen(doc), "/results", &arr));
  memset(&s, 0, sizeof(s));
  s.stop_at = -1;
  ASSERT_OK(ac__json_array_each(&arr, collect, &s));
  ASSERT_EQ(s.n, 6);
  ASSERT_STR_EQ(s.text[0], "{\"id\": 1, \"t\": \"a],b\"}");
  ASSERT_STR_EQ(s.text[1], "[1, [2]]");
  ASSERT_STR_EQ(s.text[2], "\"s\\\"]\"");
  ASSERT_STR_EQ(s.text[3], "null");
  ASSERT_STR_EQ(s.text[4], "-0.5");
  ASSERT_STR_EQ(s.text[5], "{}");
  /* each's non-zero ends the walk and is returned. */
  memset(&s, 0, sizeof(s));
  s.stop_at = 2;
  ASSERT_EQ(ac__json_array_each(&arr, collect, &s), 42);
  ASSERT_EQ(s.n, 2);
  /* An empty array calls nothing; a non-array is refused. */
  ASSERT_OK(ac__json_pointer_get("{\"r\":[ ]}", 9, "/r", &empty));
  memset(&s, 0, sizeof(s));
  ASSERT_OK(ac__json_array_each(&empty, collect, &s));
  ASSERT_EQ(s.n, 0);
  ASSERT_OK(ac__json_pointer_get(doc, strlen(doc), "/count", &empty));
  ASSERT_ERR(ac__json_array_each(&empty, collect, &s), AC_EINVAL);
}
