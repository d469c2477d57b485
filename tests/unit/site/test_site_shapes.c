/*
 * The replica's body shapes (ac__json_reshape over the data set): every
 * layout and escape of every detail and list page is strict JSON equal in
 * value to the compact body. Value equality is checked two ways: by a
 * canonical form built here (whitespace dropped, each string decoded and
 * written again by ac__json_str, numbers and literals as their text; exact,
 * NUL and 2^53+1 included), and by cJSON_Compare as a second opinion.
 */
#include "books_test.h"
#include "common/json_scan.h"
#include "site/jbuf.h"
#include "site/site_internal.h"

static int hexval(int c) {
  return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                          : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static unsigned hex4(const char *p) {
  unsigned v = 0;
  for (int i = 0; i < 4; i++) {
    int h = hexval((unsigned char)p[i]);
    ASSERT_GE(h, 0);
    v = v * 16 + (unsigned)h;
  }
  return v;
}

static void put_utf8(struct ac__jbuf *b, unsigned cp) {
  char u[4];
  if (cp < 0x80) {
    ac__jbuf_putc(b, (char)cp);
  } else if (cp < 0x800) {
    u[0] = (char)(0xC0 | (cp >> 6));
    u[1] = (char)(0x80 | (cp & 0x3F));
    ac__jbuf_put(b, u, 2);
  } else if (cp < 0x10000) {
    u[0] = (char)(0xE0 | (cp >> 12));
    u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    u[2] = (char)(0x80 | (cp & 0x3F));
    ac__jbuf_put(b, u, 3);
  } else {
    u[0] = (char)(0xF0 | (cp >> 18));
    u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    u[3] = (char)(0x80 | (cp & 0x3F));
    ac__jbuf_put(b, u, 4);
  }
}

/* The canonical form of the JSON text s[0..n) into out. */
static void canonical(const char *s, size_t n, struct ac__jbuf *out) {
  struct ac__jbuf str;
  size_t i = 0;
  ac__jbuf_init(&str, 1 << 22);
  while (i < n) {
    char c = s[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      i++;
    } else if (c == '"') {
      ac__jbuf_reset(&str);
      for (i++; s[i] != '"'; i++) {
        ASSERT_LT(i, n);
        if (s[i] != '\\') {
          ac__jbuf_putc(&str, s[i]);
          continue;
        }
        i++;
        switch (s[i]) {
          case 'b': ac__jbuf_putc(&str, '\b'); break;
          case 'f': ac__jbuf_putc(&str, '\f'); break;
          case 'n': ac__jbuf_putc(&str, '\n'); break;
          case 'r': ac__jbuf_putc(&str, '\r'); break;
          case 't': ac__jbuf_putc(&str, '\t'); break;
          case 'u': {
            unsigned cp = hex4(s + i + 1);
            i += 4;
            if (cp >= 0xD800 && cp < 0xDC00) {
              ASSERT(s[i + 1] == '\\' && s[i + 2] == 'u');
              cp = 0x10000 + ((cp - 0xD800) << 10) + (hex4(s + i + 3) - 0xDC00);
              i += 6;
            }
            put_utf8(&str, cp);
            break;
          }
          default: ac__jbuf_putc(&str, s[i]); break; /* " \ / */
        }
      }
      i++;
      ASSERT_OK(str.err);
      ac__json_str(out, str.p != NULL ? str.p : "", str.len, AC__JSON_UTF8);
    } else {
      ac__jbuf_putc(out, c);
      i++;
    }
  }
  ac__jbuf_free(&str);
}

static cJSON *parse(const char *s, size_t n) {
  char *copy = malloc(n + 1);
  const char *end = NULL;
  cJSON *j;
  ASSERT_NOT_NULL(copy);
  memcpy(copy, s, n);
  copy[n] = '\0';
  j = cJSON_ParseWithOpts(copy, &end, 1);
  free(copy);
  ASSERT_NOT_NULL(j);
  return j;
}

/* Every style and escape of body, against it. */
static void check_body(const char *body, size_t n, uint64_t seed, unsigned *kinds_seen) {
  struct ac__jbuf want, got, canon;
  cJSON *a = parse(body, n);

  ac__jbuf_init(&want, 1 << 24);
  ac__jbuf_init(&got, 1 << 24);
  ac__jbuf_init(&canon, 1 << 24);
  canonical(body, n, &want);
  for (int style = 0; style < AC__STYLE_KINDS; style++) {
    for (int esc = 0; esc < AC__ESCAPE_KINDS; esc++) {
      cJSON *b;
      ac__jbuf_reset(&got);
      ac__jbuf_reset(&canon);
      ac__json_reshape(&got, body, n, (enum ac__json_style)style, (enum ac__json_escape)esc,
                       seed);
      ASSERT_OK(got.err);
      ASSERT_OK(ac__json_scan(got.p, got.len, NULL, NULL, NULL, NULL));
      if (esc == AC__ESCAPE_ASCII || esc == AC__ESCAPE_PHP)
        for (size_t i = 0; i < got.len; i++) ASSERT_LT((unsigned char)got.p[i], 0x80);
      if (style == AC__STYLE_COMPACT && esc == AC__ESCAPE_NONE) {
        ASSERT_EQ(got.len, n);
        ASSERT(memcmp(got.p, body, n) == 0);
      }
      if (esc != AC__ESCAPE_NONE && (got.len != n || memcmp(got.p, body, n) != 0))
        kinds_seen[esc] = 1;
      canonical(got.p, got.len, &canon);
      ASSERT_OK(canon.err);
      if (canon.len != want.len || memcmp(canon.p, want.p, want.len) != 0)
        AC__FAIL("style %d escape %d: not the same value:\n%.*s", style, esc,
                 (int)(got.len < 400 ? got.len : 400), got.p);
      b = parse(got.p, got.len);
      ASSERT(cJSON_Compare(a, b, 1));
      cJSON_Delete(b);
    }
  }
  cJSON_Delete(a);
  ac__jbuf_free(&want);
  ac__jbuf_free(&got);
  ac__jbuf_free(&canon);
}

/* 120 books carry every trait (each rule's first index is below 64). */
TEST_IMPL(site_shapes_value_equal) {
  struct ac__books *b = bt_build(120, AC__BOOKS_DEFAULT_SEED, 0);
  struct ac__books_bytes body, parts[3];
  struct ac__jbuf list;
  unsigned seen[AC__ESCAPE_KINDS] = {0};

  for (size_t i = 0; i < ac__books_count(b); i++) {
    ASSERT_OK(ac__books_detail(b, i, &body));
    check_body(body.base, body.len, i, seen);
  }
  /* List pages, prebuilt and odd, the empty one past the end too. */
  ac__jbuf_init(&list, 1 << 22);
  for (size_t off = 0; off <= 126; off += 7) {
    ac__jbuf_reset(&list);
    ac__books_list_iov(b, 18, off, parts);
    for (int k = 0; k < 3; k++) ac__jbuf_put(&list, parts[k].base, parts[k].len);
    check_body(list.p, list.len, off, seen);
  }
  ac__jbuf_free(&list);
  /* Each escape mode changed some body. */
  for (int e = 1; e < AC__ESCAPE_KINDS; e++) ASSERT(seen[e]);
  ac__books_free(b);
}
