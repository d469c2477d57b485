/*
 * The book site's JSON writers over dynbuf (see json_write.h).
 */
#include "site/json_write.h"

#include <string.h>

#include "site/rng.h"

void ac__json_u64_pad(struct ac__dynbuf *b, uint64_t v, unsigned width) {
  char tmp[24];
  size_t i = sizeof tmp;
  do {
    tmp[--i] = (char)('0' + v % 10);
    v /= 10;
  } while (v != 0);
  while (sizeof tmp - i < width && i > 0) tmp[--i] = '0';
  ac__dynbuf_add(b, tmp + i, sizeof tmp - i);
}

void ac__json_u64(struct ac__dynbuf *b, uint64_t v) { ac__json_u64_pad(b, v, 1); }

void ac__json_fixed(struct ac__dynbuf *b, uint64_t v, unsigned decimals) {
  uint64_t scale = 1;
  if (decimals > 9) decimals = 9;
  for (unsigned i = 0; i < decimals; i++) scale *= 10;
  ac__json_u64(b, v / scale);
  if (decimals == 0) return;
  ac__dynbuf_addc(b, '.');
  ac__json_u64_pad(b, v % scale, decimals);
}

static const char hex_digits[] = "0123456789abcdef";

/* \uXXXX for the UTF-16 code unit cu, into e[0..6). */
static void u_escape(char e[6], unsigned cu) {
  e[0] = '\\';
  e[1] = 'u';
  e[2] = hex_digits[(cu >> 12) & 15];
  e[3] = hex_digits[(cu >> 8) & 15];
  e[4] = hex_digits[(cu >> 4) & 15];
  e[5] = hex_digits[cu & 15];
}

static void put_u_escape(struct ac__dynbuf *b, unsigned cu) {
  char e[6];
  u_escape(e, cu);
  ac__dynbuf_add(b, e, sizeof e);
}

/* Decodes one UTF-8 sequence at s[0..n), n >= 1. Returns its length and the
 * code point, or length 1 and U+FFFD for anything malformed (overlong forms,
 * surrogates, truncation, past U+10FFFF). */
static size_t utf8_decode(const unsigned char *s, size_t n, unsigned *cp) {
  unsigned c = s[0];
  size_t len;
  unsigned min;
  if (c < 0x80) {
    *cp = c;
    return 1;
  } else if ((c & 0xE0) == 0xC0) {
    len = 2, min = 0x80, c &= 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    len = 3, min = 0x800, c &= 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    len = 4, min = 0x10000, c &= 0x07;
  } else {
    *cp = 0xFFFD;
    return 1;
  }
  if (len > n) {
    *cp = 0xFFFD;
    return 1;
  }
  for (size_t i = 1; i < len; i++) {
    if ((s[i] & 0xC0) != 0x80) {
      *cp = 0xFFFD;
      return 1;
    }
    c = (c << 6) | (s[i] & 0x3F);
  }
  if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) {
    *cp = 0xFFFD;
    return 1;
  }
  *cp = c;
  return len;
}

void ac__json_str(struct ac__dynbuf *b, const char *s, size_t n, enum ac__json_mode mode) {
  ac__dynbuf_addc(b, '"');
  ac__json_escape(b, s, n, mode);
  ac__dynbuf_addc(b, '"');
}

void ac__json_escape(struct ac__dynbuf *b, const char *s, size_t n, enum ac__json_mode mode) {
  const unsigned char *u = (const unsigned char *)s;
  size_t i = 0;
  while (i < n && ac__dynbuf_err(b) == 0) {
    /* Copy the longest run that needs no escaping in one go: long texts are
     * mostly such runs. */
    size_t run = i;
    while (run < n && u[run] >= 0x20 && u[run] != '"' && u[run] != '\\' &&
           (mode == AC__JSON_UTF8 || u[run] < 0x80))
      run++;
    ac__dynbuf_add(b, u + i, run - i);
    i = run;
    if (i == n) break;
    unsigned c = u[i];
    if (c >= 0x80) {
      unsigned cp;
      i += utf8_decode(u + i, n - i, &cp);
      if (cp >= 0x10000) {
        cp -= 0x10000;
        put_u_escape(b, 0xD800 | (cp >> 10));
        put_u_escape(b, 0xDC00 | (cp & 0x3FF));
      } else {
        put_u_escape(b, cp);
      }
      continue;
    }
    i++;
    switch (c) {
      case '"': ac__dynbuf_add(b, "\\\"", 2); break;
      case '\\': ac__dynbuf_add(b, "\\\\", 2); break;
      case '\b': ac__dynbuf_add(b, "\\b", 2); break;
      case '\f': ac__dynbuf_add(b, "\\f", 2); break;
      case '\n': ac__dynbuf_add(b, "\\n", 2); break;
      case '\r': ac__dynbuf_add(b, "\\r", 2); break;
      case '\t': ac__dynbuf_add(b, "\\t", 2); break;
      default: put_u_escape(b, c); break;
    }
  }
}

/* ------------------------------------------------------------ reshape */

/* A reshaped text is mostly short pieces (a quote, a comma, an indent, an
 * escape): they gather in `stage` and go to the dynbuf a stage at a time,
 * so that a piece costs a store rather than an append's call and checks.
 * The dynbuf gets the same bytes in the same order, cap and errors
 * included. */
#define STAGE_SIZE 512

struct reshape {
  struct ac__dynbuf *b;
  enum ac__json_style style;
  enum ac__json_escape esc;
  struct ac__rng rng;
  unsigned depth;
  size_t staged;
  char stage[STAGE_SIZE];
};

static void flush(struct reshape *r) {
  ac__dynbuf_add(r->b, r->stage, r->staged);
  r->staged = 0;
}

static void out(struct reshape *r, const void *p, size_t n) {
  if (n > STAGE_SIZE - r->staged) {
    flush(r);
    if (n > STAGE_SIZE / 2) { /* a long run goes straight on */
      ac__dynbuf_add(r->b, p, n);
      return;
    }
  }
  memcpy(r->stage + r->staged, p, n);
  r->staged += n;
}

static void outc(struct reshape *r, char c) {
  if (r->staged == STAGE_SIZE) flush(r);
  r->stage[r->staged++] = c;
}

static void out_u_escape(struct reshape *r, unsigned cu) {
  char e[6];
  u_escape(e, cu);
  out(r, e, sizeof e);
}

/* The runs AC__STYLE_MIXED draws from: every kind of JSON whitespace, alone
 * and mixed, the empty run most often (real mixed files are mostly tight). */
static const char *const mixed_runs[] = {"",   "",     "",   " ",    "  ",     "\t",
                                         "\n", "\r\n", "\n\t", "\r\n    ", " \t\r\n "};

static void mixed_gap(struct reshape *r) {
  const char *run = mixed_runs[ac__rng_below(&r->rng, sizeof mixed_runs / sizeof mixed_runs[0])];
  out(r, run, strlen(run));
}

/* A line break and the indentation of the current depth (PRETTY). */
static void newline(struct reshape *r) {
  outc(r, '\n');
  for (unsigned i = 0; i < r->depth; i++) out(r, "  ", 2);
}

/* Copy the string at s[0..n) (s[0] is its opening quote); returns the bytes
 * it spans. Escapes already there are kept as they are. */
static size_t reshape_string(struct reshape *r, const char *s, size_t n) {
  const unsigned char *u = (const unsigned char *)s;
  int ascii = r->esc == AC__ESCAPE_ASCII || r->esc == AC__ESCAPE_PHP;
  int slash = r->esc == AC__ESCAPE_SLASH || r->esc == AC__ESCAPE_PHP;
  size_t i = 1;

  outc(r, '"');
  while (i < n && ac__dynbuf_err(r->b) == 0) {
    size_t run = i;
    while (run < n && u[run] != '"' && u[run] != '\\' && !(slash && u[run] == '/') &&
           !(ascii && u[run] >= 0x80))
      run++;
    out(r, u + i, run - i);
    i = run;
    if (i == n) break;
    if (u[i] == '"') {
      outc(r, '"');
      return i + 1;
    }
    if (u[i] == '\\') {
      /* An escape goes out whole; \uXXXX's digits are plain characters. */
      size_t len = i + 1 < n ? 2 : 1;
      out(r, u + i, len);
      i += len;
    } else if (u[i] == '/') {
      out(r, "\\/", 2);
      i++;
    } else {
      unsigned cp;
      size_t len = utf8_decode(u + i, n - i, &cp);
      if (cp == 0xFFFD && len == 1) {
        outc(r, (char)u[i]); /* malformed: left as it was */
      } else if (cp >= 0x10000) {
        cp -= 0x10000;
        out_u_escape(r, 0xD800 | (cp >> 10));
        out_u_escape(r, 0xDC00 | (cp & 0x3FF));
      } else {
        out_u_escape(r, cp);
      }
      i += len;
    }
  }
  return i;
}

static int is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

void ac__json_reshape(struct ac__dynbuf *b, const char *src, size_t n, enum ac__json_style style,
                      enum ac__json_escape esc, uint64_t seed) {
  struct reshape r;
  size_t i = 0;

  r.b = b;
  r.style = style;
  r.esc = esc;
  r.depth = 0;
  r.staged = 0;
  ac__rng_seed(&r.rng, seed);
  if (style == AC__STYLE_MIXED) mixed_gap(&r);
  while (i < n && ac__dynbuf_err(b) == 0) {
    char c = src[i];
    if (is_ws(c)) {
      i++;
      continue;
    }
    if (c == '"') {
      i += reshape_string(&r, src + i, n - i);
      continue;
    }
    if (c == '{' || c == '[') {
      size_t k = i + 1;
      while (k < n && is_ws(src[k])) k++;
      outc(&r, c);
      if (k < n && (src[k] == '}' || src[k] == ']')) {
        /* An empty container: written tight, as json.dumps writes it. */
        if (style == AC__STYLE_MIXED) mixed_gap(&r);
        outc(&r, src[k]);
        i = k + 1;
        continue;
      }
      r.depth++;
      if (style == AC__STYLE_PRETTY) newline(&r);
      if (style == AC__STYLE_MIXED) mixed_gap(&r);
    } else if (c == '}' || c == ']') {
      if (r.depth > 0) r.depth--;
      if (style == AC__STYLE_PRETTY) newline(&r);
      if (style == AC__STYLE_MIXED) mixed_gap(&r);
      outc(&r, c);
    } else if (c == ',' || c == ':') {
      if (style == AC__STYLE_MIXED) mixed_gap(&r);
      outc(&r, c);
      if (c == ',' && style == AC__STYLE_PRETTY) newline(&r);
      else if (style == AC__STYLE_PRETTY || style == AC__STYLE_SPACED) outc(&r, ' ');
      if (style == AC__STYLE_MIXED) mixed_gap(&r);
    } else {
      /* A number or a literal: up to the next structural character. */
      size_t k = i;
      while (k < n && !is_ws(src[k]) && !strchr(",:]}", src[k])) k++;
      out(&r, src + i, k - i);
      i = k;
      continue;
    }
    i++;
  }
  if (style == AC__STYLE_PRETTY) outc(&r, '\n');
  if (style == AC__STYLE_MIXED) mixed_gap(&r);
  flush(&r);
}
