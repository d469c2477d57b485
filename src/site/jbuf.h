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

/* Copies the contents into a new exact-size allocation (ac__malloc) that the
 * caller frees with ac__free. Returns 0, b->err, or AC_ENOMEM. An empty
 * buffer is an error (AC_EINVAL): bodies are never empty. */
int ac__jbuf_copy(const struct ac__jbuf *b, char **out);

#endif /* AC_SITE_JBUF_H */
