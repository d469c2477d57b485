/*
 * Strict JSON scanning without a tree: see json_scan.h. An explicit stack of
 * container kinds replaces recursion, so nesting depth costs no C stack
 * (crawl callbacks run on 64 KiB coroutine stacks).
 */
#include "common/json_scan.h"

#include <stdint.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "acrawl/errno.h"
#include "common/utf8.h"

typedef struct scanner {
  const unsigned char *p;
  const unsigned char *end;
  const unsigned char *base;
} scanner_t;

static void skip_ws(scanner_t *s) {
  while (s->p < s->end && (*s->p == ' ' || *s->p == '\n' || *s->p == '\r' || *s->p == '\t'))
    s->p++;
}

/* Eight bytes at once: non-zero when any of them is a quote, a backslash
 * or a control character (the classic "has a byte less than" tricks; bytes
 * >= 0x80 are masked out by ~v and pass). */
static inline uint64_t special8(const unsigned char *p) {
  const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
  uint64_t v, q, b;
  memcpy(&v, p, 8);
  q = v ^ (ones * '"');
  b = v ^ (ones * '\\');
  return ((v - ones * 0x20) | (q - ones) | (b - ones)) & ~v & highs;
}

static int hex4(const unsigned char *p, unsigned *out) {
  unsigned v = 0;
  for (int i = 0; i < 4; i++) {
    unsigned c = p[i], d;
    if (c >= '0' && c <= '9') d = c - '0';
    else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
    else return -1;
    v = v << 4 | d;
  }
  *out = v;
  return 0;
}

/* The first byte at or after p that a string cannot hold as is (a quote,
 * a backslash or a control character), or a position less than 16 (8) bytes
 * from e where the caller goes on one byte at a time. Book texts are long
 * runs of plain bytes: this loop is most of the scan. */
static inline const unsigned char *skip_plain(const unsigned char *p, const unsigned char *e) {
#if defined(__SSE2__)
  /* x86-64's baseline: 16 bytes a step, no CPU check needed. */
  const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\'),
                ctl_max = _mm_set1_epi8(0x1f);
  while (e - p >= 16) {
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
    /* v <= 0x1f unsigned: max(v, 0x1f) == 0x1f (bytes >= 0x80 stay out). */
    __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)),
                               _mm_cmpeq_epi8(_mm_max_epu8(v, ctl_max), ctl_max));
    int mask = _mm_movemask_epi8(hit);
    if (mask != 0) return p + __builtin_ctz((unsigned)mask);
    p += 16;
  }
#endif
  while (e - p >= 8 && special8(p) == 0) p += 8;
  return p;
}

/* At the opening quote. The whole buffer's UTF-8 was checked already
 * (utf8.c), so bytes >= 0x80 are plain text here. Lone surrogate *escapes*
 * are accepted, as JSON's grammar does (RFC 8259 section 8.2): they are
 * data. Runs of plain bytes go eight at a time. */
static int scan_string(scanner_t *s) {
  const unsigned char *p = s->p + 1, *e = s->end;
  for (;;) {
    unsigned c;
    p = skip_plain(p, e);
    if (p >= e) goto bad;
    c = *p;
    if (c == '"') {
      s->p = p + 1;
      return 0;
    }
    if (c == '\\') {
      unsigned u;
      if (e - p < 2) goto bad;
      switch (p[1]) {
      case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
        p += 2;
        break;
      case 'u':
        if (e - p < 6 || hex4(p + 2, &u) != 0) goto bad;
        p += 6;
        break;
      default: goto bad;
      }
      continue;
    }
    if (c < 0x20) goto bad; /* raw control characters must be escaped */
    p++;
  }
bad:
  s->p = p;
  return -1;
}

static int scan_number(scanner_t *s) {
  const unsigned char *p = s->p, *e = s->end;
  if (p < e && *p == '-') p++;
  if (p >= e) return -1;
  if (*p == '0') p++;
  else if (*p >= '1' && *p <= '9')
    while (p < e && *p >= '0' && *p <= '9') p++;
  else return -1;
  if (p < e && *p == '.') {
    p++;
    if (p >= e || *p < '0' || *p > '9') return -1;
    while (p < e && *p >= '0' && *p <= '9') p++;
  }
  if (p < e && (*p == 'e' || *p == 'E')) {
    p++;
    if (p < e && (*p == '+' || *p == '-')) p++;
    if (p >= e || *p < '0' || *p > '9') return -1;
    while (p < e && *p >= '0' && *p <= '9') p++;
  }
  s->p = p;
  return 0;
}

static int scan_literal(scanner_t *s, const char *word, size_t n) {
  if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0) return -1;
  s->p += n;
  return 0;
}

/* A scalar, or the opening of a container (returns its kind in *open). */
static int scan_value_start(scanner_t *s, ac__json_type_t *type, int *open) {
  *open = 0;
  if (s->p >= s->end) return -1;
  switch (*s->p) {
  case '{': *type = AC__JSON_OBJECT; *open = 1; s->p++; return 0;
  case '[': *type = AC__JSON_ARRAY; *open = 1; s->p++; return 0;
  case '"': *type = AC__JSON_STRING; return scan_string(s);
  case 't': *type = AC__JSON_TRUE; return scan_literal(s, "true", 4);
  case 'f': *type = AC__JSON_FALSE; return scan_literal(s, "false", 5);
  case 'n': *type = AC__JSON_NULL; return scan_literal(s, "null", 4);
  default: *type = AC__JSON_NUMBER; return scan_number(s);
  }
}

/* Is the string token at k (quotes included, n bytes) the plain key? */
static int key_is(const unsigned char *k, size_t n, const char *key, size_t keylen) {
  return key != NULL && n == keylen + 2 && memcmp(k + 1, key, keylen) == 0;
}

int ac__json_scan(const char *buf, size_t len, const char *key, ac__json_type_t *top,
                  ac__json_span_t *found, size_t *errpos) {
  return ac__json_scan_each(buf, len, key, top, found, NULL, NULL, NULL, NULL, NULL, errpos);
}

int ac__json_scan_each(const char *buf, size_t len, const char *key, ac__json_type_t *top,
                       ac__json_span_t *found, const char *outer, ac__json_type_t *outer_type,
                       const char *inner, ac__json_each_fn each, void *ud, size_t *errpos) {
  /* stack[d] is 1 for an object, 0 for an array. */
  unsigned char stack[AC__JSON_MAX_DEPTH];
  size_t depth = 0, keylen = key != NULL ? strlen(key) : 0;
  size_t outerlen = outer != NULL ? strlen(outer) : 0, innerlen = inner != NULL ? strlen(inner) : 0;
  scanner_t s = {(const unsigned char *)buf, (const unsigned char *)buf + len,
                 (const unsigned char *)buf};
  ac__json_type_t type;
  int open, want_key_value = 0, rc;
  /* outer's array is open at depth 2 (set when its '[' is met); an element
   * object of it at depth 3 has had its inner member (or not). */
  int in_outer = 0, want_inner = 0, inner_done = 0, outer_seen = 0;

  if (found != NULL) memset(found, 0, sizeof(*found));
  if (outer_type != NULL) *outer_type = AC__JSON_NONE;
  {
    size_t bad;
    if (!ac__utf8_valid(buf, len, &bad)) {
      if (errpos != NULL) *errpos = bad;
      return AC_EPARSE;
    }
  }
  skip_ws(&s);
  if (scan_value_start(&s, &type, &open) != 0) goto bad;
  if (top != NULL) *top = type;
  if (!open) goto end;
  stack[depth++] = type == AC__JSON_OBJECT;

  /* Just after an opening bracket: a member/element or the closing one. */
  for (;;) {
    int in_object = stack[depth - 1];
    skip_ws(&s);
    if (s.p >= s.end) goto bad;
    if (*s.p == (in_object ? '}' : ']')) {
      s.p++;
      goto closed;
    }
  member:
    if (in_object) {
      const unsigned char *kstart = s.p;
      if (*s.p != '"' || scan_string(&s) != 0) goto bad;
      want_key_value = depth == 1 && key_is(kstart, (size_t)(s.p - kstart), key, keylen) &&
                       found != NULL && found->type == AC__JSON_NONE;
      want_inner = depth == 3 && in_outer && !inner_done && each != NULL &&
                   key_is(kstart, (size_t)(s.p - kstart), inner, innerlen);
      if (depth == 1 && outer != NULL && !outer_seen &&
          key_is(kstart, (size_t)(s.p - kstart), outer, outerlen)) {
        outer_seen = 1; /* the first member of that name, as for key */
        in_outer = -1;  /* its value: an array becomes in_outer at its '[' */
      }
      skip_ws(&s);
      if (s.p >= s.end || *s.p != ':') goto bad;
      s.p++;
      skip_ws(&s);
    }
    {
      const unsigned char *vstart = s.p;
      if (scan_value_start(&s, &type, &open) != 0) goto bad;
      if (want_key_value) {
        found->type = type;
        found->start = (const char *)vstart;
        found->len = (size_t)(s.p - vstart); /* containers: just the bracket */
        want_key_value = 0;
      }
      if (want_inner) {
        ac__json_span_t span = {type, (const char *)vstart, (size_t)(s.p - vstart)};
        want_inner = 0;
        inner_done = 1;
        if ((rc = each(&span, ud)) != 0) return rc;
      }
      if (in_outer == -1) {
        if (outer_type != NULL) *outer_type = type;
        in_outer = depth == 1 && type == AC__JSON_ARRAY && open;
      } else if (in_outer == 1 && depth == 2 && type != AC__JSON_OBJECT && each != NULL) {
        /* An element that is not an object has no inner member either. */
        ac__json_span_t none = {AC__JSON_NONE, (const char *)vstart, 0};
        if ((rc = each(&none, ud)) != 0) return rc;
      }
      if (open) {
        if (depth == AC__JSON_MAX_DEPTH) goto bad;
        stack[depth++] = type == AC__JSON_OBJECT;
        if (depth == 3) inner_done = 0; /* an element of some array at depth 2 */
        continue;
      }
    }
  after_value:
    skip_ws(&s);
    if (s.p >= s.end) goto bad;
    in_object = stack[depth - 1];
    if (*s.p == ',') {
      s.p++;
      skip_ws(&s);
      if (s.p >= s.end) goto bad;
      goto member;
    }
    if (*s.p != (in_object ? '}' : ']')) goto bad;
    s.p++;
  closed:
    if (depth == 3 && in_outer == 1 && stack[2] && !inner_done && each != NULL) {
      /* An element object without the inner member: reported, not skipped. */
      ac__json_span_t none = {AC__JSON_NONE, (const char *)s.p - 1, 0};
      if ((rc = each(&none, ud)) != 0) return rc;
    }
    if (--depth == 1) in_outer = 0; /* outer's array (or another member) is over */
    if (depth == 0) break;
    goto after_value;
  }
end:
  skip_ws(&s);
  if (s.p != s.end) goto bad;
  return 0;
bad:
  if (errpos != NULL) *errpos = (size_t)(s.p - s.base);
  return AC_EPARSE;
}

static size_t put_utf8(char *out, unsigned cp) {
  if (cp < 0x80) {
    out[0] = (char)cp;
    return 1;
  }
  if (cp < 0x800) {
    out[0] = (char)(0xC0 | cp >> 6);
    out[1] = (char)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    out[0] = (char)(0xE0 | cp >> 12);
    out[1] = (char)(0x80 | (cp >> 6 & 0x3F));
    out[2] = (char)(0x80 | (cp & 0x3F));
    return 3;
  }
  out[0] = (char)(0xF0 | cp >> 18);
  out[1] = (char)(0x80 | (cp >> 12 & 0x3F));
  out[2] = (char)(0x80 | (cp >> 6 & 0x3F));
  out[3] = (char)(0x80 | (cp & 0x3F));
  return 4;
}

int ac__json_span_text(const ac__json_span_t *span, char *out, size_t cap) {
  size_t n = 0;
  if (cap == 0) return AC_ETOOLARGE;
  switch (span->type) {
  case AC__JSON_NUMBER: case AC__JSON_TRUE: case AC__JSON_FALSE: case AC__JSON_NULL:
    if (span->len >= cap) return AC_ETOOLARGE;
    memcpy(out, span->start, span->len);
    out[span->len] = '\0';
    return (int)span->len;
  case AC__JSON_STRING: break;
  default: return AC_EINVAL;
  }
  /* A validated string: between the quotes. */
  const unsigned char *p = (const unsigned char *)span->start + 1;
  const unsigned char *e = (const unsigned char *)span->start + span->len - 1;
  while (p < e) {
    char tmp[4];
    size_t k;
    if (*p != '\\') {
      tmp[0] = (char)*p++;
      k = 1;
    } else {
      unsigned cp;
      switch (p[1]) {
      case 'b': cp = '\b'; break;
      case 'f': cp = '\f'; break;
      case 'n': cp = '\n'; break;
      case 'r': cp = '\r'; break;
      case 't': cp = '\t'; break;
      case 'u': cp = 0; break;
      default: cp = p[1]; break;
      }
      if (p[1] == 'u') {
        (void)hex4(p + 2, &cp);
        p += 6;
        if (cp >= 0xD800 && cp <= 0xDBFF && e - p >= 6 && p[0] == '\\' && p[1] == 'u') {
          unsigned lo;
          if (hex4(p + 2, &lo) == 0 && lo >= 0xDC00 && lo <= 0xDFFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            p += 6;
          }
        }
        if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD; /* a lone surrogate */
      } else {
        p += 2;
      }
      if (cp == 0) return AC_EINVAL;
      k = put_utf8(tmp, cp);
    }
    if (n + k >= cap) return AC_ETOOLARGE;
    memcpy(out + n, tmp, k);
    n += k;
  }
  out[n] = '\0';
  return (int)n;
}
