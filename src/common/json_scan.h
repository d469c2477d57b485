/*
 * A strict JSON validator that builds nothing (RFC 8259: one value, UTF-8
 * checked, no trailing bytes, nesting capped), and can hand back on the way
 * the span of one top-level member's value, and one member of each object in
 * a top-level array member (a list page's ids).
 *
 * Why not cJSON: a crawl checks every detail body before storing it as is,
 * and a tree costs about as much CPU as the request itself; cJSON
 * is also lenient (invalid UTF-8, trailing garbage, strings cut at \u0000).
 * Scanning without a tree is several times cheaper and stricter.
 */
#ifndef AC_COMMON_JSON_SCAN_H
#define AC_COMMON_JSON_SCAN_H

#include <stddef.h>

typedef enum {
  AC__JSON_NONE = 0,
  AC__JSON_OBJECT,
  AC__JSON_ARRAY,
  AC__JSON_STRING, /* span includes the quotes */
  AC__JSON_NUMBER,
  AC__JSON_TRUE,
  AC__JSON_FALSE,
  AC__JSON_NULL
} ac__json_type_t;

typedef struct ac__json_span {
  ac__json_type_t type;
  const char *start;
  size_t len;
} ac__json_span_t;

/* The most nesting accepted (objects and arrays). */
#define AC__JSON_MAX_DEPTH 256

/*
 * Validate buf[0..len) as one JSON value. *top (if not NULL) gets the type of
 * the top value. When key is not NULL and the top value is an object, *found
 * gets the span of the value of its first member named key (compared on the
 * raw, still-escaped text: fine for plain ASCII keys like "id"), or type
 * AC__JSON_NONE if absent. Returns 0, or AC_EPARSE with *errpos (if not NULL)
 * set to the offset of the first bad byte.
 */
int ac__json_scan(const char *buf, size_t len, const char *key, ac__json_type_t *top,
                  ac__json_span_t *found, size_t *errpos);

/*
 * ac__json_scan, and on the way: *outer_type (if not NULL) gets the type of
 * the top-level object's (first) member named outer (AC__JSON_NONE if
 * absent); when that is an array, each(span, ud) is called once for every
 * element, in order: for an object element, the span of its first member
 * named inner (containers: just the bracket, as for found); for an object
 * without that member, or an element that is not an object, a span of type
 * AC__JSON_NONE (so that no element goes unseen). each returns 0 to go on;
 * anything else ends the scan and is returned. The spans point into buf;
 * they are passed as they are met, before the rest of buf is checked: a
 * caller that must not act on a document that turns out invalid keeps them
 * until this returns 0.
 */
typedef int (*ac__json_each_fn)(const ac__json_span_t *span, void *ud);
int ac__json_scan_each(const char *buf, size_t len, const char *key, ac__json_type_t *top,
                       ac__json_span_t *found, const char *outer, ac__json_type_t *outer_type,
                       const char *inner, ac__json_each_fn each, void *ud, size_t *errpos);

/*
 * The text of a scalar span: a string's content unescaped (\uXXXX pairs to
 * UTF-8; a \u0000 makes it fail: keys never hold NUL), a number's or a
 * literal's own text. Writes at most cap-1 bytes and a NUL to out. Returns
 * the length, or AC_ETOOLARGE (does not fit), AC_EINVAL (an object or array,
 * or a NUL inside).
 */
int ac__json_span_text(const ac__json_span_t *span, char *out, size_t cap);

#endif /* AC_COMMON_JSON_SCAN_H */
