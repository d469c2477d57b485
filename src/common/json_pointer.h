/*
 * JSON Pointer (RFC 6901) over JSON text, without building a tree: the span
 * of the value a pointer names, and the elements of an array span. For the
 * places that take a few values out of a large body (a list page's records,
 * a record's key): the body is validated once by ac__json_scan, then walked
 * here, skipping what the pointer does not enter.
 *
 * Pointers: "" is the whole value; "/a/0/b" steps into the member "a", the
 * element 0, the member "b"; in a step, "~1" is '/' and "~0" is '~'. A step
 * into an object compares the member's name unescaped ("\u0041" is "A");
 * with duplicate names the first member counts, as in ac__json_scan. A step
 * into an array is an index: digits without a leading zero ("-", the
 * position past the end, names nothing when reading).
 */
#ifndef AC_COMMON_JSON_POINTER_H
#define AC_COMMON_JSON_POINTER_H

#include <stddef.h>

#include "common/json_scan.h"

/* 0 if ptr is a well-formed pointer ("" or '/'-led, every '~' followed by
 * '0' or '1'), else AC_EINVAL: for checking a pointer where it is given
 * (a spec), before any document is at hand. */
int ac__json_pointer_check(const char *ptr);

/*
 * The value ptr names in buf[0..len), which must hold one valid JSON value
 * (as ac__json_scan accepts; leading and trailing blanks allowed). Returns 0
 * with *out its span (pointing into buf; a container's span covers it whole);
 * AC_ENOENT when it names nothing (no such member, an index past the end or
 * not an index, "-", a step into a number, string or literal); AC_EINVAL for
 * a malformed pointer; AC_ENOMEM.
 */
int ac__json_pointer_get(const char *buf, size_t len, const char *ptr, ac__json_span_t *out);

/*
 * Calls each(span, ud) for every element of the array span arr (from
 * ac__json_pointer_get or ac__json_scan, so valid JSON), in order. Returns
 * 0, the first non-zero value each returned (which ends the walk), or
 * AC_EINVAL if arr is not an array.
 */
int ac__json_array_each(const ac__json_span_t *arr, ac__json_each_fn each, void *ud);

#endif /* AC_COMMON_JSON_POINTER_H */
