/*
 * Strict JSON text -> BSON, for documents that are data (crawled JSON), never
 * MongoDB Extended JSON: {"$date": "x"} stays a document with a "$date"
 * field, {"$numberLong": "5"} a document holding the string "5".
 *
 * Rules (docs/internals/store-mongo.md):
 *   - RFC 8259 JSON; the top level must be an object; whitespace (space,
 *     tab, CR, LF) anywhere between tokens, before and after it; a leading
 *     UTF-8 byte order mark is ignored; nesting at most
 *     AC__JSON_BSON_MAX_DEPTH objects and arrays.
 *   - Strings must be valid UTF-8 (no overlong forms, no surrogates); \uXXXX
 *     escapes are decoded, surrogate pairs joined, a lone surrogate refused.
 *     \u0000 inside a string value is kept (BSON strings carry a length);
 *     inside a key it is refused (BSON keys end at NUL).
 *   - Integers (no fraction, no exponent) that fit in int32 become int32
 *     (-0 -> 0), in int64 become int64; numbers with a fraction or an
 *     exponent become the nearest double (8.50 -> 8.5, 1E+2 -> 100.0,
 *     -0.0 keeps its sign). Never a silent change of value: an integer past
 *     int64, or a number out of a double's range (1e400, 1e-400), becomes
 *     a Decimal128 when that holds it exactly (34 significant digits) and
 *     is refused (AC_EINVAL) when not.
 *   - Keys keep their order; an object with a key twice is refused.
 */
#ifndef AC_STORE_JSON_BSON_H
#define AC_STORE_JSON_BSON_H

#include <bson/bson.h>
#include <stddef.h>

/* The deepest nesting accepted (the top-level object is level 1): MongoDB
 * stores at most 100 levels. */
#define AC__JSON_BSON_MAX_DEPTH 100

/* Also refuse the keys that MongoDB cannot store through update or replace:
 * empty, starting with '$', or containing '.'. */
#define AC__JSON_BSON_MONGO_KEYS 1u

/*
 * Appends the members of the JSON object json[0..len) to out (initialised by
 * the caller, usually empty). Returns 0, or on failure writes a message to
 * err (errlen bytes, NUL-terminated; the byte offset for bad JSON, the key
 * path for a refused key) and returns:
 *   AC_EPARSE    not strict JSON, invalid UTF-8, not an object at the top
 *   AC_EINVAL    a key refused by the rules above (duplicate, NUL, MONGO_KEYS),
 *                or a number no BSON number type holds exactly
 *   AC_ETOOLARGE nested too deep, or larger than a BSON document can be
 *   AC_ENOMEM
 * On failure out holds a partial document: reinit or destroy it.
 */
int ac__json_to_bson(const char *json, size_t len, unsigned flags, bson_t *out, char *err,
                     size_t errlen);

#endif /* AC_STORE_JSON_BSON_H */
