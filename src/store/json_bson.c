/*
 * Strict JSON -> BSON (see json_bson.h for the rules).
 *
 * Why not bson_init_from_json: it reads MongoDB Extended JSON, so crawled
 * data holding {"$date": ...} fails or changes type. Why not cJSON: it cuts
 * strings at \u0000, accepts invalid UTF-8 and turns integers past 2^53
 * into doubles. So: one recursive-descent pass that appends straight into
 * the bson_t (no tree), then one pass over the BSON for the key rules
 * (duplicates, MongoDB's '$' and '.'), which is where the key path is easy
 * to name.
 */
#define _GNU_SOURCE /* strtod_l */
#include "store/json_bson.h"

#include <errno.h>
#include <locale.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acrawl/errno.h"
#include "common/alloc.h"
#include "common/dynbuf.h"
#include "store/internal.h"

struct parser {
  const unsigned char *start;
  const unsigned char *p;
  const unsigned char *end;
  int depth;
  /* Scratch for strings that need unescaping, capped at the input's length
   * (decoding never lengthens a string) and its NUL. */
  struct ac__dynbuf key; /* the decoded key of the member being parsed */
  struct ac__dynbuf val; /* a decoded string value, or a number's text */
  char *err;
  size_t errlen;
};


static int bad_json(struct parser *ps, const char *what) {
  ac__store_errf(ps->err, ps->errlen, "invalid JSON at byte %zu: %s", (size_t)(ps->p - ps->start), what);
  return AC_EPARSE;
}

static int too_big(struct parser *ps) {
  ac__store_errf(ps->err, ps->errlen, "document at byte %zu is larger than a BSON document can be",
          (size_t)(ps->p - ps->start));
  return AC_ETOOLARGE;
}

static int out_of_memory(struct parser *ps) {
  ac__store_errf(ps->err, ps->errlen, "out of memory converting JSON to BSON");
  return AC_ENOMEM;
}

/* The length of the valid UTF-8 sequence at p (RFC 3629: no overlong forms,
 * no surrogates, nothing past U+10FFFF), or 0. */
static size_t utf8_seq(const unsigned char *p, const unsigned char *end) {
  unsigned c = p[0];
  size_t n;
  unsigned lo = 0x80, hi = 0xBF; /* the range of the second byte */
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F; /* U+D800..U+DFFF are surrogates */
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if ((size_t)(end - p) < n) return 0;
  if (p[1] < lo || p[1] > hi) return 0;
  for (size_t i = 2; i < n; i++)
    if ((p[i] & 0xC0) != 0x80) return 0;
  return n;
}

static size_t utf8_encode(uint32_t cp, unsigned char out[4]) {
  if (cp < 0x80) {
    out[0] = (unsigned char)cp;
    return 1;
  }
  if (cp < 0x800) {
    out[0] = (unsigned char)(0xC0 | (cp >> 6));
    out[1] = (unsigned char)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    out[0] = (unsigned char)(0xE0 | (cp >> 12));
    out[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    out[2] = (unsigned char)(0x80 | (cp & 0x3F));
    return 3;
  }
  out[0] = (unsigned char)(0xF0 | (cp >> 18));
  out[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
  out[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
  out[3] = (unsigned char)(0x80 | (cp & 0x3F));
  return 4;
}

static void skip_ws(struct parser *ps) {
  while (ps->p < ps->end &&
         (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
    ps->p++;
}

/* Four hex digits at ps->p (just past "\u"); -1 when they are not. */
static long hex4(struct parser *ps) {
  if (ps->end - ps->p < 4) return -1;
  long v = 0;
  for (int i = 0; i < 4; i++) {
    unsigned c = ps->p[i];
    v <<= 4;
    if (c >= '0' && c <= '9') v |= (long)(c - '0');
    else if (c >= 'a' && c <= 'f') v |= (long)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') v |= (long)(c - 'A' + 10);
    else return -1;
  }
  ps->p += 4;
  return v;
}

/* The string whose opening quote was just read. *out points into the input
 * when there is no escape (the common case: no copy), else into sc. */
static int parse_string(struct parser *ps, struct ac__dynbuf *sc, const char **out, size_t *outlen) {
  const unsigned char *begin = ps->p;
  while (ps->p < ps->end) {
    unsigned c = *ps->p;
    if (c == '"') {
      *out = (const char *)begin;
      *outlen = (size_t)(ps->p - begin);
      ps->p++;
      return 0;
    }
    if (c == '\\') break;
    if (c < 0x20) return bad_json(ps, "control character inside a string (must be escaped)");
    size_t n = utf8_seq(ps->p, ps->end);
    if (n == 0) return bad_json(ps, "invalid UTF-8 inside a string");
    ps->p += n;
  }
  if (ps->p >= ps->end) return bad_json(ps, "unterminated string");

  /* Escapes: decode into the scratch buffer. */
  ac__dynbuf_reset(sc);
  if (ac__dynbuf_add(sc, begin, (size_t)(ps->p - begin)) != 0) return out_of_memory(ps);
  while (ps->p < ps->end) {
    unsigned c = *ps->p;
    unsigned char enc[4];
    size_t n;
    if (c == '"') {
      *out = ac__dynbuf_ptr(sc);
      *outlen = ac__dynbuf_len(sc);
      ps->p++;
      return 0;
    }
    if (c == '\\') {
      ps->p++;
      if (ps->p >= ps->end) break;
      c = *ps->p++;
      switch (c) {
        case '"': case '\\': case '/': enc[0] = (unsigned char)c; n = 1; break;
        case 'b': enc[0] = '\b'; n = 1; break;
        case 'f': enc[0] = '\f'; n = 1; break;
        case 'n': enc[0] = '\n'; n = 1; break;
        case 'r': enc[0] = '\r'; n = 1; break;
        case 't': enc[0] = '\t'; n = 1; break;
        case 'u': {
          long cp = hex4(ps);
          if (cp < 0) return bad_json(ps, "\\u needs four hex digits");
          if (cp >= 0xDC00 && cp <= 0xDFFF)
            return bad_json(ps, "lone low surrogate escape (not valid Unicode text)");
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            /* A high surrogate must be followed by an escaped low one. */
            if (ps->end - ps->p < 2 || ps->p[0] != '\\' || ps->p[1] != 'u')
              return bad_json(ps, "lone high surrogate escape (not valid Unicode text)");
            ps->p += 2;
            long lo = hex4(ps);
            if (lo < 0xDC00 || lo > 0xDFFF)
              return bad_json(ps, "high surrogate escape not followed by a low one");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          }
          n = utf8_encode((uint32_t)cp, enc);
          break;
        }
        default:
          ps->p--;
          return bad_json(ps, "unknown escape in a string");
      }
      if (ac__dynbuf_add(sc, enc, n) != 0) return out_of_memory(ps);
      continue;
    }
    if (c < 0x20) return bad_json(ps, "control character inside a string (must be escaped)");
    n = utf8_seq(ps->p, ps->end);
    if (n == 0) return bad_json(ps, "invalid UTF-8 inside a string");
    if (ac__dynbuf_add(sc, ps->p, n) != 0) return out_of_memory(ps);
    ps->p += n;
  }
  return bad_json(ps, "unterminated string");
}

/* strtod in the C locale whatever the program's LC_NUMERIC is (a library
 * must not read "8.50" as 8 under a locale with a decimal comma). */
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;
static locale_t c_locale;
static void c_locale_init(void) { c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0); }

static int parse_number(struct parser *ps, bson_t *parent, const char *key, int keylen) {
  const unsigned char *s = ps->p;
  int neg = 0, is_int = 1;
  if (*ps->p == '-') {
    neg = 1;
    ps->p++;
  }
  if (ps->p < ps->end && *ps->p == '0') {
    ps->p++;
  } else if (ps->p < ps->end && *ps->p >= '1' && *ps->p <= '9') {
    while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') ps->p++;
  } else {
    return bad_json(ps, "a number needs digits");
  }
  const unsigned char *int_end = ps->p;
  if (ps->p < ps->end && *ps->p == '.') {
    is_int = 0;
    ps->p++;
    if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9')
      return bad_json(ps, "a number needs digits after '.'");
    while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') ps->p++;
  }
  if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
    is_int = 0;
    ps->p++;
    if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-')) ps->p++;
    if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9')
      return bad_json(ps, "a number needs digits in its exponent");
    while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') ps->p++;
  }

  if (is_int) {
    /* Exact integer: accumulate as a magnitude, then check the range. */
    uint64_t mag = 0;
    int fits = 1;
    for (const unsigned char *d = s + neg; d < int_end; d++) {
      unsigned digit = (unsigned)(*d - '0');
      if (mag > (UINT64_MAX - digit) / 10) {
        fits = 0;
        break;
      }
      mag = mag * 10 + digit;
    }
    if (fits && (neg ? mag <= (uint64_t)INT64_MAX + 1 : mag <= (uint64_t)INT64_MAX)) {
      int64_t v = neg ? (int64_t)(0 - mag) : (int64_t)mag;
      int ok = (v >= INT32_MIN && v <= INT32_MAX)
                   ? bson_append_int32(parent, key, keylen, (int32_t)v)
                   : bson_append_int64(parent, key, keylen, v);
      return ok ? 0 : too_big(ps);
    }
  }

  size_t n = (size_t)(ps->p - s);
  /* NUL-terminated (as dynbuf keeps it) for strtod and the decimal parser. */
  ac__dynbuf_reset(&ps->val);
  if (ac__dynbuf_add(&ps->val, s, n) != 0) return out_of_memory(ps);
  const char *text = ac__dynbuf_ptr(&ps->val);
  if (!is_int) {
    /* The nearest double: what RFC 8259 (section 6) says JSON readers can
     * agree on, and what every one of them makes of 0.1 or 8.50. */
    pthread_once(&c_locale_once, c_locale_init);
    errno = 0;
    double d = c_locale != (locale_t)0 ? strtod_l(text, NULL, c_locale) : strtod(text, NULL);
    if (errno != ERANGE) return bson_append_double(parent, key, keylen, d) ? 0 : too_big(ps);
    /* Out of a double's range (1e400 would be infinity, 1e-400 zero): on
     * to Decimal128, exact or refused, like the big integers. */
  }
  /* An integer past int64, or a number out of a double's range. A double
   * would change its value without a word (2^63 + 1 becomes 2^63), so it
   * is a Decimal128 when that holds it exactly (34 significant digits,
   * exponents to 6111), and else refused. */
  bson_decimal128_t dec;
  if (!bson_decimal128_from_string(text, &dec)) {
    ac__store_errf(ps->err, ps->errlen,
                   "number at byte %zu (%.40s%s) is held exactly by no BSON number type "
                   "(past int64 and over 34 significant digits, or out of Decimal128's range)",
                   (size_t)(s - ps->start), text, n > 40 ? "..." : "");
    return AC_EINVAL;
  }
  return bson_append_decimal128(parent, key, keylen, &dec) ? 0 : too_big(ps);
}

static int parse_members(struct parser *ps, bson_t *doc);
static int parse_elements(struct parser *ps, bson_t *arr);

static int literal(struct parser *ps, const char *word) {
  size_t n = strlen(word);
  if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
    return bad_json(ps, "unexpected character (not a JSON value)");
  ps->p += n;
  return 0;
}

/* One value, appended to parent under key. */
static int parse_value(struct parser *ps, bson_t *parent, const char *key, int keylen) {
  skip_ws(ps);
  if (ps->p >= ps->end) return bad_json(ps, "unexpected end (a value was expected)");
  int rc;
  switch (*ps->p) {
    case '{':
    case '[': {
      int is_doc = *ps->p == '{';
      if (++ps->depth > AC__JSON_BSON_MAX_DEPTH) {
        ac__store_errf(ps->err, ps->errlen, "document nested deeper than %d levels at byte %zu",
                AC__JSON_BSON_MAX_DEPTH, (size_t)(ps->p - ps->start));
        return AC_ETOOLARGE;
      }
      ps->p++;
      bson_t child;
      if (!(is_doc ? bson_append_document_begin(parent, key, keylen, &child)
                   : bson_append_array_begin(parent, key, keylen, &child)))
        return too_big(ps);
      rc = is_doc ? parse_members(ps, &child) : parse_elements(ps, &child);
      /* Close the child even after a failure, so the parent stays usable
       * (reinit or destroy) by the caller. */
      int ended = is_doc ? bson_append_document_end(parent, &child)
                         : bson_append_array_end(parent, &child);
      if (rc == 0 && !ended) rc = too_big(ps);
      ps->depth--;
      return rc;
    }
    case '"': {
      const char *s;
      size_t n;
      ps->p++;
      rc = parse_string(ps, &ps->val, &s, &n);
      if (rc != 0) return rc;
      if (n > (size_t)INT32_MAX - 16) return too_big(ps);
      return bson_append_utf8(parent, key, keylen, s, (int)n) ? 0 : too_big(ps);
    }
    case 't':
      rc = literal(ps, "true");
      return rc != 0 ? rc : bson_append_bool(parent, key, keylen, true) ? 0 : too_big(ps);
    case 'f':
      rc = literal(ps, "false");
      return rc != 0 ? rc : bson_append_bool(parent, key, keylen, false) ? 0 : too_big(ps);
    case 'n':
      rc = literal(ps, "null");
      return rc != 0 ? rc : bson_append_null(parent, key, keylen) ? 0 : too_big(ps);
    default:
      if (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9'))
        return parse_number(ps, parent, key, keylen);
      return bad_json(ps, "unexpected character (not a JSON value)");
  }
}

/* The members of an object whose '{' was just read, up to its '}'. */
static int parse_members(struct parser *ps, bson_t *doc) {
  skip_ws(ps);
  if (ps->p < ps->end && *ps->p == '}') {
    ps->p++;
    return 0;
  }
  for (;;) {
    skip_ws(ps);
    if (ps->p >= ps->end || *ps->p != '"') return bad_json(ps, "expected a key (a string)");
    ps->p++;
    const char *key;
    size_t keylen;
    int rc = parse_string(ps, &ps->key, &key, &keylen);
    if (rc != 0) return rc;
    if (memchr(key, '\0', keylen) != NULL) {
      ac__store_errf(ps->err, ps->errlen, "key with \\u0000 at byte %zu (BSON keys cannot hold NUL)",
              (size_t)(ps->p - ps->start));
      return AC_EINVAL;
    }
    if (keylen > (size_t)INT32_MAX - 16) return too_big(ps);
    skip_ws(ps);
    if (ps->p >= ps->end || *ps->p != ':') return bad_json(ps, "expected ':' after a key");
    ps->p++;
    /* key points into the input or ps->key: both stay put until the value
     * is appended (a nested object copies its key at begin). */
    rc = parse_value(ps, doc, key, (int)keylen);
    if (rc != 0) return rc;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == ',') {
      ps->p++;
      continue;
    }
    if (ps->p < ps->end && *ps->p == '}') {
      ps->p++;
      return 0;
    }
    return bad_json(ps, "expected ',' or '}' in an object");
  }
}

/* The elements of an array whose '[' was just read, up to its ']'. */
static int parse_elements(struct parser *ps, bson_t *arr) {
  skip_ws(ps);
  if (ps->p < ps->end && *ps->p == ']') {
    ps->p++;
    return 0;
  }
  for (uint32_t i = 0;; i++) {
    char buf[16];
    const char *key;
    size_t keylen = bson_uint32_to_string(i, &key, buf, sizeof(buf));
    int rc = parse_value(ps, arr, key, (int)keylen);
    if (rc != 0) return rc;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == ',') {
      ps->p++;
      continue;
    }
    if (ps->p < ps->end && *ps->p == ']') {
      ps->p++;
      return 0;
    }
    return bad_json(ps, "expected ',' or ']' in an array");
  }
}

/* ---- The key rules, checked on the finished BSON ---- */

/* Where in the document a key is, for messages: a.b[2].c */
struct path {
  char buf[200];
  size_t len;
};

static size_t path_push(struct path *pa, const char *key, int is_index) {
  size_t old = pa->len;
  size_t room = sizeof(pa->buf) - pa->len;
  int n = is_index ? snprintf(pa->buf + pa->len, room, "[%s]", key)
                   : snprintf(pa->buf + pa->len, room, "%s%s", pa->len ? "." : "", key);
  if (n < 0 || (size_t)n >= room) {
    /* Too deep to name: end the path with "..." once. */
    pa->len = sizeof(pa->buf) - 4;
    memcpy(pa->buf + pa->len, "...", 4);
    pa->len += 3;
  } else {
    pa->len += (size_t)n;
  }
  return old;
}

static void path_pop(struct path *pa, size_t old) {
  pa->len = old;
  pa->buf[old] = '\0';
}

static int cmp_keys(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int check_keys(bson_iter_t *it, int is_array, unsigned flags, struct path *pa, char *err,
                      size_t errlen) {
  const char *small[32];
  const char **keys = small;
  size_t n = 0, cap = sizeof(small) / sizeof(small[0]);
  int rc = 0;
  while (rc == 0 && bson_iter_next(it)) {
    const char *key = bson_iter_key(it);
    if (!is_array) {
      const char *why = NULL;
      if (flags & AC__JSON_BSON_MONGO_KEYS) {
        if (key[0] == '\0') why = "MongoDB cannot store an empty field name";
        else if (key[0] == '$') why = "MongoDB cannot store a field name that starts with '$'";
        else if (strchr(key, '.') != NULL) why = "MongoDB cannot store a field name with '.'";
      }
      if (why != NULL) {
        ac__store_errf(err, errlen, "key \"%.64s\" %s%s: %s", key, pa->len ? "in " : "at the top level",
                pa->buf, why);
        rc = AC_EINVAL;
        break;
      }
      if (n == cap) {
        const char **grown = ac__malloc(2 * cap * sizeof(*grown));
        if (grown == NULL) {
          ac__store_errf(err, errlen, "out of memory checking keys");
          rc = AC_ENOMEM;
          break;
        }
        memcpy(grown, keys, n * sizeof(*keys));
        if (keys != small) ac__free(keys);
        keys = grown;
        cap *= 2;
      }
      keys[n++] = key;
    }
    if (BSON_ITER_HOLDS_DOCUMENT(it) || BSON_ITER_HOLDS_ARRAY(it)) {
      bson_iter_t child;
      if (bson_iter_recurse(it, &child)) {
        size_t old = path_push(pa, key, is_array);
        rc = check_keys(&child, BSON_ITER_HOLDS_ARRAY(it), flags, pa, err, errlen);
        path_pop(pa, old);
      }
    }
  }
  if (rc == 0 && n > 1) {
    qsort(keys, n, sizeof(*keys), cmp_keys);
    for (size_t i = 1; i < n; i++) {
      if (strcmp(keys[i - 1], keys[i]) == 0) {
        ac__store_errf(err, errlen, "key \"%.64s\" appears twice in the object %s%s", keys[i],
                pa->len ? "at " : "at the top level", pa->buf);
        rc = AC_EINVAL;
        break;
      }
    }
  }
  if (keys != small) ac__free(keys);
  return rc;
}

int ac__json_to_bson(const char *json, size_t len, unsigned flags, bson_t *out, char *err,
                     size_t errlen) {
  struct parser ps;
  memset(&ps, 0, sizeof(ps));
  ps.start = ps.p = (const unsigned char *)json;
  ps.end = ps.start + len;
  ps.err = err;
  ps.errlen = errlen;
  ac__dynbuf_init(&ps.key, len);
  ac__dynbuf_init(&ps.val, len);
  if (errlen > 0) err[0] = '\0';

  int rc;
  /* A UTF-8 byte order mark is no part of the JSON text (RFC 8259 lets a
   * reader ignore it; ac_store_put drops it too). */
  if (len >= 3 && memcmp(ps.p, "\xEF\xBB\xBF", 3) == 0) ps.p += 3;
  skip_ws(&ps);
  if (ps.p >= ps.end) {
    rc = bad_json(&ps, "empty document");
  } else if (*ps.p != '{') {
    rc = bad_json(&ps, "the top level must be an object");
  } else {
    ps.p++;
    ps.depth = 1;
    rc = parse_members(&ps, out);
    if (rc == 0) {
      skip_ws(&ps);
      if (ps.p != ps.end) rc = bad_json(&ps, "characters after the document");
    }
  }
  ac__dynbuf_free(&ps.key);
  ac__dynbuf_free(&ps.val);
  if (rc != 0) return rc;

  bson_iter_t it;
  if (!bson_iter_init(&it, out)) {
    ac__store_errf(err, errlen, "internal error: the BSON just built does not read back");
    return AC_EINVAL;
  }
  struct path pa;
  pa.len = 0;
  pa.buf[0] = '\0';
  return check_keys(&it, 0, flags, &pa, err, errlen);
}
