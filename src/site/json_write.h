/*
 * The book site's JSON writers: numbers without printf, strings escaped per
 * RFC 8259, and a JSON text laid out again (ac__json_reshape). They append
 * to the project's capped buffer (common/dynbuf.h) and return nothing: its
 * errors are sticky, so a serialiser writes a whole document and checks
 * ac__dynbuf_err once at the end.
 */
#ifndef AC_SITE_JSON_WRITE_H
#define AC_SITE_JSON_WRITE_H

#include <stddef.h>
#include <stdint.h>

#include "common/dynbuf.h"

/* Unsigned decimal, no sign, no leading zeros. */
void ac__json_u64(struct ac__dynbuf *b, uint64_t v);
/* Zero-padded to `width` digits (dates). */
void ac__json_u64_pad(struct ac__dynbuf *b, uint64_t v, unsigned width);
/* v / 10^decimals written with exactly `decimals` digits after the point
 * (850, 2 -> "8.50"; 5, 2 -> "0.05"), the way printf("%.2f") would but
 * without floating point or locale. decimals is 0..9; 0 writes no point. */
void ac__json_fixed(struct ac__dynbuf *b, uint64_t v, unsigned decimals);

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
void ac__json_str(struct ac__dynbuf *b, const char *s, size_t n, enum ac__json_mode mode);
/* The same without the quotes: what goes between them, for a string whose
 * pieces are written one after the other. The pieces must meet at ASCII
 * bytes (in AC__JSON_ASCII mode a UTF-8 sequence cut in two is two invalid
 * ones). */
void ac__json_escape(struct ac__dynbuf *b, const char *s, size_t n, enum ac__json_mode mode);

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
void ac__json_reshape(struct ac__dynbuf *b, const char *src, size_t n, enum ac__json_style style,
                      enum ac__json_escape esc, uint64_t seed);

#endif /* AC_SITE_JSON_WRITE_H */
