/*
 * Each nasty property of the data set is where books.h documents it (enum
 * ac__book_trait), and ordinary books look ordinary. Properties that cJSON
 * cannot see (\u0000 cuts its strings, integers past 2^53 become doubles,
 * the text of 8.50) are checked on the bytes.
 */
#include "books_test.h"

static cJSON *field(cJSON *j, const char *key) {
  cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
  if (v == NULL) AC__FAIL("no key %s", key);
  return v;
}

static int starts_with(const char *s, const char *prefix) {
  return strncmp(s, prefix, strlen(prefix)) == 0;
}

static int ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

/* The rules of books.h, counted over the default set size. */
TEST_IMPL(books_trait_rules) {
  static const struct {
    unsigned trait;
    size_t count;
  } want[] = {{AC_BOOK_PADDED_AUTHORS, 2954}, {AC_BOOK_NON_BMP, 181},   {AC_BOOK_U_ESCAPES, 181},
              {AC_BOOK_QUOTES, 181},          {AC_BOOK_CONTROL, 181},   {AC_BOOK_NUL, 19},
              {AC_BOOK_NULLS, 181},           {AC_BOOK_EMPTY_ARRAYS, 181}, {AC_BOOK_BIG_TEXT, 10},
              {AC_BOOK_FLOAT_SCORE, 904},     {AC_BOOK_FLOAT_PRICE, 904}, {AC_BOOK_BIG_INT, 1},
              {AC_BOOK_NUMERIC_IDS, 181}};
  unsigned seen_below_64 = 0;
  for (size_t k = 0; k < sizeof want / sizeof want[0]; k++) {
    size_t count = 0;
    for (size_t i = 0; i < 9040; i++) count += (ac__books_traits(i) & want[k].trait) != 0;
    if (count != want[k].count)
      AC__FAIL("trait 0x%x: %zu books, books.h says %zu", want[k].trait, count, want[k].count);
  }
  for (size_t i = 0; i < 64; i++) seen_below_64 |= ac__books_traits(i);
  ASSERT_UEQ(seen_below_64, (AC_BOOK_NUMERIC_IDS << 1) - 1); /* all of them */
  ASSERT_UEQ(ac__books_traits(11), AC_BOOK_BIG_INT);
}

/* The bytes of a scalar that must look like a JSON number with exactly two
 * decimals. */
static void expect_two_decimals(const char *p, size_t n) {
  ASSERT_GE(n, 4);
  ASSERT(p[n - 3] == '.');
  for (size_t k = 0; k < n; k++)
    if (k != n - 3) ASSERT(p[k] >= '0' && p[k] <= '9');
}

static void check_authors(cJSON *arr, unsigned t) {
  cJSON *a;
  if (cJSON_IsNull(arr)) return;
  cJSON_ArrayForEach(a, arr) {
    ASSERT(cJSON_IsString(a));
    int padded = starts_with(a->valuestring, "\n            ") &&
                 ends_with(a->valuestring, "\n            ");
    ASSERT_EQ(padded, (t & AC_BOOK_PADDED_AUTHORS) != 0);
    if (!padded) ASSERT(a->valuestring[0] != '\n' && a->valuestring[0] != ' ');
  }
}

static void check_book(const struct ac__books *b, size_t i) {
  unsigned t = ac__books_traits(i);
  struct ac__books_bytes d;
  size_t n;
  const char *raw;
  ASSERT_OK(ac__books_detail(b, i, &d));
  cJSON *j = bt_parse(d.base, d.len);
  const char *name = field(j, "name")->valuestring;
  cJSON *intro = field(j, "introduction");

  check_authors(field(j, "authors"), t);
  check_authors(field(j, "translators"), t);

  /* Non-BMP characters, raw. */
  int nonbmp = BT_HAS(d, "📚") && BT_HAS(d, "😀") && BT_HAS(d, "𠮷") && BT_HAS(d, "\xE2\x80\xA8") &&
               BT_HAS(d, "\xEF\xBB\xBF") && BT_HAS(d, "👨\xE2\x80\x8D👩\xE2\x80\x8D👧") &&
               BT_HAS(d, "👍🏽");
  ASSERT_EQ(nonbmp, (t & AC_BOOK_NON_BMP) != 0);
  /* \u escapes with a surrogate pair; the name's bytes are pure ASCII and
   * decode to the UTF-8 name. */
  ASSERT_EQ(BT_HAS(d, "\\ud83d\\udcda\""), (t & AC_BOOK_U_ESCAPES) != 0);
  ASSERT_EQ(BT_HAS(d, "\\u"), (t & (AC_BOOK_U_ESCAPES | AC_BOOK_CONTROL | AC_BOOK_NUL)) != 0);
  if (t & (AC_BOOK_NON_BMP | AC_BOOK_U_ESCAPES)) ASSERT(ends_with(name, "📚"));
  if (t & AC_BOOK_U_ESCAPES) {
    raw = bt_raw(d, "name", &n);
    for (size_t k = 0; k < n; k++) ASSERT((unsigned char)raw[k] < 0x80);
    raw = bt_raw(d, "publisher", &n);
    for (size_t k = 0; k < n; k++) ASSERT((unsigned char)raw[k] < 0x80);
  }
  /* Quotes and backslashes. */
  if (t & AC_BOOK_QUOTES) {
    ASSERT(starts_with(name, "《\"引号\"与\\反斜杠\\》"));
    ASSERT(BT_HAS(d, "\"name\":\"《\\\"引号\\\"与\\\\反斜杠\\\\》"));
    ASSERT_STR_EQ(cJSON_GetArrayItem(field(j, "tags"), 0)->valuestring, "C\\C++ \"进阶\"");
    ASSERT(strstr(intro->valuestring, "C:\\Program Files\\acrawl\\ 而不是 /usr/bin/\"") != NULL);
    ASSERT(strstr(intro->valuestring, "{\"$date\": \"yesterday\"}") != NULL);
  } else {
    ASSERT(!BT_HAS(d, "\\\""));
    ASSERT(!BT_HAS(d, "\\\\"));
  }
  /* Control characters. */
  int ctrl = BT_HAS(d, "\\u0001") && BT_HAS(d, "\\u001f") && BT_HAS(d, "\\t") &&
             BT_HAS(d, "\\r\\n") && BT_HAS(d, "\\b") && BT_HAS(d, "\\f") && BT_HAS(d, "\x7f");
  ASSERT_EQ(ctrl, (t & AC_BOOK_CONTROL) != 0);
  if (t & AC_BOOK_CONTROL) ASSERT(strstr(intro->valuestring, "\x01字符\x1f与\t制表符\r\n") != NULL);
  /* NUL: only visible in the bytes (cJSON stops the string there). */
  ASSERT_EQ(BT_HAS(d, "\\u0000"), (t & AC_BOOK_NUL) != 0);
  if (t & AC_BOOK_NUL) {
    ASSERT(BT_HAS(d, "\\u0000藏在中间"));
    ASSERT(BT_HAS(d, "\"content\":\"\\u0000"));
    raw = bt_raw(d, "catalog", &n);
    ASSERT(bt_find(raw, n, "\\u0000", 6) != NULL);
  }
  /* Nulls. */
  static const char *const nullable[] = {"translators", "publisher", "isbn", "page_number", "price",
                                         "score", "catalog", "published_at", "updated_at"};
  if (t & AC_BOOK_NULLS) {
    for (size_t k = 0; k < sizeof nullable / sizeof nullable[0]; k++)
      ASSERT(cJSON_IsNull(field(j, nullable[k])));
  } else {
    ASSERT(cJSON_IsArray(field(j, "translators")));
    ASSERT(cJSON_IsString(field(j, "publisher")));
    ASSERT(cJSON_IsString(field(j, "isbn")));
    ASSERT(cJSON_IsString(field(j, "catalog")));
    ASSERT(cJSON_IsString(field(j, "updated_at")));
  }
  ASSERT(cJSON_IsString(field(j, "name")) && cJSON_IsString(field(j, "url")) &&
         cJSON_IsString(field(j, "cover")) && cJSON_IsString(intro));
  /* Empty arrays. */
  if (t & AC_BOOK_EMPTY_ARRAYS) {
    static const char *const arrays[] = {"authors", "translators", "tags", "comments"};
    for (size_t k = 0; k < 4; k++) ASSERT_EQ(cJSON_GetArraySize(field(j, arrays[k])), 0);
    ASSERT(BT_HAS(d, "\"authors\":[],\"translators\":[]"));
    if (!(t & AC_BOOK_BIG_TEXT)) ASSERT_STR_EQ(intro->valuestring, "");
  } else {
    ASSERT_GT(cJSON_GetArraySize(field(j, "authors")), 0);
  }
  /* Big texts. */
  size_t ilen = strlen(intro->valuestring);
  if (t & AC_BOOK_BIG_TEXT) {
    ASSERT_GE(ilen, 100000);
    ASSERT_LE(ilen, 300000);
  } else {
    ASSERT_LT(ilen, 20000);
  }
  /* Scores: "8.8" as a string, or 8.50 as a number whose text keeps the
   * trailing zero. */
  cJSON *score = field(j, "score");
  raw = bt_raw(d, "score", &n);
  if (t & AC_BOOK_FLOAT_SCORE) {
    ASSERT(cJSON_IsNumber(score));
    expect_two_decimals(raw, n);
    ASSERT(raw[n - 1] == '0');
    ASSERT(score->valuedouble >= 5.0 && score->valuedouble <= 9.9);
  } else if (!(t & AC_BOOK_NULLS)) {
    ASSERT(cJSON_IsString(score));
    ASSERT_EQ(strlen(score->valuestring), 3);
    ASSERT(score->valuestring[1] == '.');
  }
  /* Prices: strings like "59.00元", or numbers. */
  cJSON *price = field(j, "price");
  raw = bt_raw(d, "price", &n);
  if ((t & AC_BOOK_FLOAT_PRICE) && i % 1000 == 9) {
    ASSERT(n == 6 && memcmp(raw, "1.2e+2", 6) == 0);
    ASSERT_DEQ(price->valuedouble, 120.0);
  } else if (t & AC_BOOK_FLOAT_PRICE) {
    ASSERT(cJSON_IsNumber(price));
    expect_two_decimals(raw, n);
  } else if (!(t & AC_BOOK_NULLS)) {
    ASSERT(cJSON_IsString(price));
    ASSERT(strstr(price->valuestring, ".") != NULL);
  }
  /* Comment ids: strings of 10 digits, numbers, and one integer past 2^53. */
  cJSON *comments = field(j, "comments"), *c;
  int k = 0;
  ASSERT_EQ(BT_HAS(d, "9007199254740993"), (t & AC_BOOK_BIG_INT) != 0);
  if (t & AC_BOOK_BIG_INT) ASSERT(BT_HAS(d, "\"comments\":[{\"id\":9007199254740993,\"content\":"));
  cJSON_ArrayForEach(c, comments) {
    cJSON *id = field(c, "id");
    ASSERT(cJSON_IsString(field(c, "content")));
    if (k == 0 && (t & AC_BOOK_BIG_INT)) {
      ASSERT(cJSON_IsNumber(id));
      ASSERT(id->valuedouble != 0.0); /* a double: the exact value is only in the bytes */
    } else if (t & AC_BOOK_NUMERIC_IDS) {
      ASSERT(cJSON_IsNumber(id));
      ASSERT(id->valuedouble >= 100000 && id->valuedouble <= 2147483647.0);
    } else {
      ASSERT(cJSON_IsString(id));
      ASSERT_EQ(strlen(id->valuestring), 10);
    }
    k++;
  }
  /* The ordinary fields' shapes. */
  cJSON *isbn = field(j, "isbn");
  if (cJSON_IsString(isbn)) {
    const char *s = isbn->valuestring;
    unsigned sum = 0;
    ASSERT_EQ(strlen(s), 13);
    for (int q = 0; q < 13; q++) sum += (unsigned)(s[q] - '0') * (q % 2 ? 3 : 1);
    ASSERT_EQ(sum % 10, 0);
  }
  cJSON *pn = field(j, "page_number");
  ASSERT(cJSON_IsNull(pn) || (cJSON_IsNumber(pn) && pn->valueint >= 80 && pn->valueint <= 1200));
  cJSON *pub = field(j, "published_at"), *upd = field(j, "updated_at");
  if (cJSON_IsString(pub)) ASSERT(strlen(pub->valuestring) == 20 && ends_with(pub->valuestring, "T16:00:00Z"));
  if (cJSON_IsString(upd)) ASSERT(strlen(upd->valuestring) == 27 && starts_with(upd->valuestring, "2020-03-"));
  char url[64];
  snprintf(url, sizeof url, "https://book.douban.com/subject/%s/", ac__books_id(b, i));
  ASSERT_STR_EQ(field(j, "url")->valuestring, url);
  cJSON_Delete(j);
}

TEST_IMPL(books_nasty_where_documented) {
  struct ac__books *b = bt_build(AC__BOOKS_DEFAULT_N, AC__BOOKS_DEFAULT_SEED, 0);
  for (size_t i = 0; i < 9040; i++) check_book(b, i);
  ac__books_free(b);
}

/* The traits hold for any seed, not just the default one: forced where a
 * draw could have left no room for them (no comment, no catalog line). */
TEST_IMPL(books_nasty_any_seed) {
  for (uint64_t seed = 0; seed < 24; seed++) {
    struct ac__books *b = bt_build(1000, seed * 0x9E3779B97F4A7C15ULL, 0);
    for (size_t i = 0; i < 1000; i++) check_book(b, i);
    ac__books_free(b);
  }
}

/* cJSON loses what books.h warns about: this is why stores and tests must
 * compare those fields as bytes. */
TEST_IMPL(books_cjson_limits) {
  struct ac__books *b = bt_build(64, AC__BOOKS_DEFAULT_SEED, 0);
  cJSON *j = bt_detail_json(b, 11);
  cJSON *id = field(cJSON_GetArrayItem(field(j, "comments"), 0), "id");
  ASSERT(id->valuedouble == 9007199254740992.0); /* 2^53 + 1 rounded */
  cJSON_Delete(j);
  j = bt_detail_json(b, 5);
  ASSERT_STR_EQ(field(cJSON_GetArrayItem(field(j, "comments"), 0), "content")->valuestring, "");
  cJSON_Delete(j);
  ac__books_free(b);
}
