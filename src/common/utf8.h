/*
 * UTF-8 validation (RFC 3629: no overlong forms, no surrogates, nothing past
 * U+10FFFF), at about a byte per cycle or better: crawled documents are
 * mostly CJK text, where a byte-at-a-time check was a quarter of the crawl
 * loop's CPU.
 */
#ifndef AC_COMMON_UTF8_H
#define AC_COMMON_UTF8_H

#include <stddef.h>

/* 1 if p[0..n) is valid UTF-8; else 0 and *errpos (if not NULL) is the
 * offset of the first byte of the first bad sequence. */
int ac__utf8_valid(const char *p, size_t n, size_t *errpos);
/* The same, one byte at a time (the reference the fast path is tested against). */
int ac__utf8_valid_scalar(const char *p, size_t n, size_t *errpos);

#endif /* AC_COMMON_UTF8_H */
