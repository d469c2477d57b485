/*
 * A bounded byte buffer with a JSON writer on top, for the book site.
 *
 * Errors are sticky (as in cmark's strbuf): the first failed append records
 * AC_ENOMEM or AC_ETOOLARGE in `err`, and every later append does nothing, so
 * a serialiser writes a whole document and checks once at the end. The
 * buffer never grows past `max` bytes.
 */
#ifndef AC_SITE_JBUF_H
#define AC_SITE_JBUF_H

#include <stddef.h>
#include <stdint.h>

struct ac__jbuf {
  char *p;
  size_t len;
  size_t cap;
  size_t max;
  int err; /* 0, or the first failure (AC_ENOMEM, AC_ETOOLARGE) */
};

void ac__jbuf_init(struct ac__jbuf *b, size_t max);
void ac__jbuf_free(struct ac__jbuf *b);
/* Empties the buffer and clears the error; keeps the memory for reuse. */
void ac__jbuf_reset(struct ac__jbuf *b);
/* Makes room for `extra` more bytes; returns b->err after the attempt. */
int ac__jbuf_reserve(struct ac__jbuf *b, size_t extra);
void ac__jbuf_put(struct ac__jbuf *b, const void *data, size_t n);
void ac__jbuf_putc(struct ac__jbuf *b, char c);
void ac__jbuf_puts(struct ac__jbuf *b, const char *s);
/* Unsigned decimal, no sign, no leading zeros. */
void ac__jbuf_u64(struct ac__jbuf *b, uint64_t v);
/* v / 10^decimals written with exactly `decimals` digits after the point
 * (850, 2 -> "8.50"; 5, 2 -> "0.05"), the way printf("%.2f") would but
 * without floating point or locale. decimals is 0..9; 0 writes no point. */
void ac__jbuf_fixed(struct ac__jbuf *b, uint64_t v, unsigned decimals);
/* Zero-padded to `width` digits (dates). */
void ac__jbuf_u64_pad(struct ac__jbuf *b, uint64_t v, unsigned width);

/* How ac__json_str writes characters outside ASCII. */
enum ac__json_mode {
  /* As UTF-8 bytes, as Python's json.dumps(ensure_ascii=False) and the real
   * site do. */
  AC__JSON_UTF8 = 0,
  /* As \uXXXX escapes (lower-case hex), characters past U+FFFF as a
   * surrogate pair, as json.dumps(ensure_ascii=True) does. */
  AC__JSON_ASCII = 1
};

/*
 * Writes s[0..n) as a JSON string, quotes included, escaped per RFC 8259:
 * '"' and '\\' with a backslash; \b \f \n \r \t in their short forms; every
 * other byte below 0x20 (NUL included) as \u00XX; everything else as is
 * (DEL and U+2028 are legal in JSON and left raw, as Python leaves them).
 * In AC__JSON_ASCII mode the input must be valid UTF-8; an invalid byte is
 * written as \ufffd so that the output stays valid JSON.
 */
void ac__json_str(struct ac__jbuf *b, const char *s, size_t n, enum ac__json_mode mode);

/*
 * How ac__json_reshape lays a JSON text out. Every layout is the same JSON
 * value: only whitespace between tokens changes (RFC 8259 allows space, tab,
 * LF and CR there), never a string's contents.
 */
enum ac__json_style {
  AC__STYLE_COMPACT = 0, /* no whitespace: the site's own bodies */
  /* Python's json.dumps(indent=2), plus a final '\n' as a file served by
   * nginx usually has: a newline and two spaces per level after '{', '['
   * and ',', ": " after keys; empty containers stay "[]" and "{}". */
  AC__STYLE_PRETTY,
  /* Python's json.dumps default separators: ", " and ": ", one line. */
  AC__STYLE_SPACED,
  /* Every gap between tokens, and before and after the text, gets a run
   * drawn from the seed: nothing, spaces, tabs, LF, CRLF, or a mix. */
  AC__STYLE_MIXED,
  AC__STYLE_KINDS
};

/* How ac__json_reshape rewrites the strings' escapes; each is the same value. */
enum ac__json_escape {
  AC__ESCAPE_NONE = 0, /* as they are */
  AC__ESCAPE_ASCII,    /* non-ASCII as \uXXXX (json.dumps(ensure_ascii=True)) */
  AC__ESCAPE_SLASH,    /* '/' as \/ */
  AC__ESCAPE_PHP,      /* both, as PHP's json_encode does by default */
  AC__ESCAPE_KINDS
};

/*
 * Append the JSON text src[0..n) to b laid out in style, its strings'
 * escapes rewritten as esc; seed drives AC__STYLE_MIXED (the same seed gives
 * the same bytes). src must be valid JSON; whitespace already in it is
 * dropped. With AC__ESCAPE_ASCII or _PHP, malformed UTF-8 in a string is
 * copied as it is (it cannot be escaped into the same value).
 */
void ac__json_reshape(struct ac__jbuf *b, const char *src, size_t n, enum ac__json_style style,
                      enum ac__json_escape esc, uint64_t seed);

/* Copies the contents into a new exact-size allocation (ac__malloc) that the
 * caller frees with ac__free. Returns 0, b->err, or AC_ENOMEM. An empty
 * buffer is an error (AC_EINVAL): bodies are never empty. */
int ac__jbuf_copy(const struct ac__jbuf *b, char **out);

#endif /* AC_SITE_JBUF_H */
