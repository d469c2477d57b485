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
#include "site/json_write.h"
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

static void put_utf8(struct ac__dynbuf *b, unsigned cp) {
  char u[4];
  if (cp < 0x80) {
    ac__dynbuf_addc(b, (char)cp);
  } else if (cp < 0x800) {
    u[0] = (char)(0xC0 | (cp >> 6));
    u[1] = (char)(0x80 | (cp & 0x3F));
    ac__dynbuf_add(b, u, 2);
  } else if (cp < 0x10000) {
    u[0] = (char)(0xE0 | (cp >> 12));
    u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    u[2] = (char)(0x80 | (cp & 0x3F));
    ac__dynbuf_add(b, u, 3);
  } else {
    u[0] = (char)(0xF0 | (cp >> 18));
    u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    u[3] = (char)(0x80 | (cp & 0x3F));
    ac__dynbuf_add(b, u, 4);
  }
}

/* The canonical form of the JSON text s[0..n) into out. */
static void canonical(const char *s, size_t n, struct ac__dynbuf *out) {
  struct ac__dynbuf str;
  size_t i = 0;
  ac__dynbuf_init(&str, 1 << 22);
  while (i < n) {
    char c = s[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      i++;
    } else if (c == '"') {
      ac__dynbuf_reset(&str);
      for (i++; s[i] != '"'; i++) {
        ASSERT_LT(i, n);
        if (s[i] != '\\') {
          ac__dynbuf_addc(&str, s[i]);
          continue;
        }
        i++;
        switch (s[i]) {
          case 'b': ac__dynbuf_addc(&str, '\b'); break;
          case 'f': ac__dynbuf_addc(&str, '\f'); break;
          case 'n': ac__dynbuf_addc(&str, '\n'); break;
          case 'r': ac__dynbuf_addc(&str, '\r'); break;
          case 't': ac__dynbuf_addc(&str, '\t'); break;
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
          default: ac__dynbuf_addc(&str, s[i]); break; /* " \ / */
        }
      }
      i++;
      ASSERT_OK(ac__dynbuf_err(&str));
      ac__json_str(out, ac__dynbuf_ptr(&str) != NULL ? ac__dynbuf_ptr(&str) : "",
                   ac__dynbuf_len(&str), AC__JSON_UTF8);
    } else {
      ac__dynbuf_addc(out, c);
      i++;
    }
  }
  ac__dynbuf_free(&str);
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
  struct ac__dynbuf want, got, canon;
  cJSON *a = parse(body, n);

  ac__dynbuf_init(&want, 1 << 24);
  ac__dynbuf_init(&got, 1 << 24);
  ac__dynbuf_init(&canon, 1 << 24);
  canonical(body, n, &want);
  for (int style = 0; style < AC__STYLE_KINDS; style++) {
    for (int esc = 0; esc < AC__ESCAPE_KINDS; esc++) {
      cJSON *b;
      ac__dynbuf_reset(&got);
      ac__dynbuf_reset(&canon);
      ac__json_reshape(&got, body, n, (enum ac__json_style)style, (enum ac__json_escape)esc,
                       seed);
      ASSERT_OK(ac__dynbuf_err(&got));
      const char *g = ac__dynbuf_ptr(&got);
      size_t glen = ac__dynbuf_len(&got);
      ASSERT_OK(ac__json_scan(g, glen, NULL, NULL, NULL, NULL));
      if (esc == AC__ESCAPE_ASCII || esc == AC__ESCAPE_PHP)
        for (size_t i = 0; i < glen; i++) ASSERT_LT((unsigned char)g[i], 0x80);
      if (style == AC__STYLE_COMPACT && esc == AC__ESCAPE_NONE) {
        ASSERT_EQ(glen, n);
        ASSERT(memcmp(g, body, n) == 0);
      }
      if (esc != AC__ESCAPE_NONE && (glen != n || memcmp(g, body, n) != 0)) kinds_seen[esc] = 1;
      canonical(g, glen, &canon);
      ASSERT_OK(ac__dynbuf_err(&canon));
      if (ac__dynbuf_len(&canon) != ac__dynbuf_len(&want) ||
          memcmp(ac__dynbuf_ptr(&canon), ac__dynbuf_ptr(&want), ac__dynbuf_len(&want)) != 0)
        AC__FAIL("style %d escape %d: not the same value:\n%.*s", style, esc,
                 (int)(glen < 400 ? glen : 400), g);
      b = parse(g, glen);
      ASSERT(cJSON_Compare(a, b, 1));
      cJSON_Delete(b);
    }
  }
  cJSON_Delete(a);
  ac__dynbuf_free(&want);
  ac__dynbuf_free(&got);
  ac__dynbuf_free(&canon);
}

/* 120 books carry every trait (each rule's first index is below 64). */
TEST_IMPL(site_shapes_value_equal) {
  struct ac__books *b = bt_build(120, AC__BOOKS_DEFAULT_SEED, 0);
  struct ac__books_bytes body, parts[3];
  struct ac__dynbuf list;
  unsigned seen[AC__ESCAPE_KINDS] = {0};

  for (size_t i = 0; i < ac__books_count(b); i++) {
    ASSERT_OK(ac__books_detail(b, i, &body));
    check_body(body.base, body.len, i, seen);
  }
  /* List pages, prebuilt and odd, the empty one past the end too. */
  ac__dynbuf_init(&list, 1 << 22);
  for (size_t off = 0; off <= 126; off += 7) {
    ac__dynbuf_reset(&list);
    ac__books_list_iov(b, 18, off, parts);
    for (int k = 0; k < 3; k++) ac__dynbuf_add(&list, parts[k].base, parts[k].len);
    check_body(ac__dynbuf_ptr(&list), ac__dynbuf_len(&list), off, seen);
  }
  ac__dynbuf_free(&list);
  /* Each escape mode changed some body. */
  for (int e = 1; e < AC__ESCAPE_KINDS; e++) ASSERT(seen[e]);
  ac__books_free(b);
}
