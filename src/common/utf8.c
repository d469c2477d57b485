/*
 * UTF-8 validation. The fast path (x86-64 with SSSE3, checked at run time)
 * is the "lookup" algorithm of Keiser and Lemire, "Validating UTF-8 in less
 * than one instruction per byte" (2021): each byte's error classes are
 * looked up from the high nibble of the byte before it, its low nibble, and
 * the high nibble of the byte itself (three PSHUFB), ANDed; the bytes that
 * must be the 2nd/3rd continuation of a 3- or 4-byte sequence are checked
 * from the bytes two and three back. Only whether a block is valid comes out
 * of it: on an error the scalar check finds where.
 */
#include "common/utf8.h"

#include <stdint.h>
#include <string.h>

int ac__utf8_valid_scalar(const char *s, size_t n, size_t *errpos) {
  const unsigned char *p = (const unsigned char *)s, *e = p + n, *start = p;
  while (p < e) {
    unsigned c = *p;
    size_t left = (size_t)(e - p);
    if (c < 0x80) {
      p++;
    } else if (c >= 0xC2 && c <= 0xDF) {
      if (left < 2 || (p[1] & 0xC0) != 0x80) goto bad;
      p += 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      if (left < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80) goto bad;
      if (c == 0xE0 && p[1] < 0xA0) goto bad; /* overlong */
      if (c == 0xED && p[1] > 0x9F) goto bad; /* surrogate */
      p += 3;
    } else if (c >= 0xF0 && c <= 0xF4) {
      if (left < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80)
        goto bad;
      if (c == 0xF0 && p[1] < 0x90) goto bad; /* overlong */
      if (c == 0xF4 && p[1] > 0x8F) goto bad; /* past U+10FFFF */
      p += 4;
    } else {
      goto bad; /* a continuation byte, C0, C1 or F5..FF as a lead */
    }
  }
  return 1;
bad:
  if (errpos != NULL) *errpos = (size_t)(p - start);
  return 0;
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

/* Error classes (one bit each) of a pair of bytes (the byte before, this one). */
#define TOO_SHORT (1 << 0)   /* 11______ 0_______ or 11______ 11______ */
#define TOO_LONG (1 << 1)    /* 0_______ 10______ */
#define OVERLONG_3 (1 << 2)  /* 11100000 100_____ */
#define TOO_LARGE (1 << 3)   /* 11110100 1001____, 11110100 101_____, 11110101+ */
#define SURROGATE (1 << 4)   /* 11101101 101_____ */
#define OVERLONG_2 (1 << 5)  /* 1100000_ 10______ */
#define TOO_LARGE_1000 (1 << 6) /* 11110101+ 1000____ */
#define OVERLONG_4 (1 << 6)  /* 11110000 1000____ */
#define TWO_CONTS (1 << 7)   /* 10______ 10______ */
#define CARRY (TOO_SHORT | TOO_LONG | TWO_CONTS)

__attribute__((target("ssse3"))) static inline __m128i prev_bytes(__m128i in, __m128i prev,
                                                                   int k) {
  /* The input shifted right by k bytes, the last k bytes of prev coming in. */
  switch (k) {
  case 1: return _mm_alignr_epi8(in, prev, 15);
  case 2: return _mm_alignr_epi8(in, prev, 14);
  default: return _mm_alignr_epi8(in, prev, 13);
  }
}

/* The three lookup tables, indexed by a nibble. Bytes, loaded as vectors:
 * _mm_setr_epi8 takes chars, and these values do not all fit one. */
static const uint8_t byte_1_high[16] = {
    TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TWO_CONTS,
    TWO_CONTS, TWO_CONTS, TWO_CONTS, TOO_SHORT | OVERLONG_2, TOO_SHORT,
    TOO_SHORT | OVERLONG_3 | SURROGATE, TOO_SHORT | TOO_LARGE | TOO_LARGE_1000 | OVERLONG_4};
static const uint8_t byte_1_low[16] = {
    CARRY | OVERLONG_3 | OVERLONG_2 | OVERLONG_4, CARRY | OVERLONG_2, CARRY, CARRY,
    CARRY | TOO_LARGE, CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000,
    CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000,
    CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000,
    CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000,
    CARRY | TOO_LARGE | TOO_LARGE_1000 | SURROGATE, CARRY | TOO_LARGE | TOO_LARGE_1000,
    CARRY | TOO_LARGE | TOO_LARGE_1000};
static const uint8_t byte_2_high[16] = {
    TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT,
    TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 | TOO_LARGE_1000 | OVERLONG_4,
    TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 | TOO_LARGE,
    TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE,
    TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE, TOO_SHORT, TOO_SHORT, TOO_SHORT,
    TOO_SHORT};

__attribute__((target("ssse3"))) static inline __m128i block_errors(__m128i in, __m128i prev) {
  const __m128i nib = _mm_set1_epi8(0x0F);
  const __m128i byte_1_high_tbl = _mm_loadu_si128((const __m128i *)byte_1_high);
  const __m128i byte_1_low_tbl = _mm_loadu_si128((const __m128i *)byte_1_low);
  const __m128i byte_2_high_tbl = _mm_loadu_si128((const __m128i *)byte_2_high);
  __m128i prev1 = prev_bytes(in, prev, 1);
  __m128i b1h = _mm_shuffle_epi8(byte_1_high_tbl, _mm_and_si128(_mm_srli_epi16(prev1, 4), nib));
  __m128i b1l = _mm_shuffle_epi8(byte_1_low_tbl, _mm_and_si128(prev1, nib));
  __m128i b2h = _mm_shuffle_epi8(byte_2_high_tbl, _mm_and_si128(_mm_srli_epi16(in, 4), nib));
  __m128i special = _mm_and_si128(_mm_and_si128(b1h, b1l), b2h);
  /* Bytes two back >= 0xE0, or three back >= 0xF0, make this byte a
   * required continuation: its TWO_CONTS bit must then be set, else not. */
  __m128i third = _mm_subs_epu8(prev_bytes(in, prev, 2), _mm_set1_epi8((char)(0xE0 - 0x80)));
  __m128i fourth = _mm_subs_epu8(prev_bytes(in, prev, 3), _mm_set1_epi8((char)(0xF0 - 0x80)));
  __m128i must23 = _mm_and_si128(_mm_or_si128(third, fourth), _mm_set1_epi8((char)0x80));
  return _mm_xor_si128(must23, special);
}

__attribute__((target("ssse3"))) static int utf8_valid_ssse3(const char *s, size_t n,
                                                             size_t *done) {
  const unsigned char *p = (const unsigned char *)s;
  __m128i prev = _mm_setzero_si128(), err = _mm_setzero_si128();
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m128i in = _mm_loadu_si128((const __m128i *)(p + i));
    err = _mm_or_si128(err, block_errors(in, prev));
    prev = in;
  }
  *done = i;
  /* SSE2 only (PTEST is SSE4.1): every byte of err is zero. */
  return _mm_movemask_epi8(_mm_cmpeq_epi8(err, _mm_setzero_si128())) == 0xFFFF;
}

static int have_ssse3(void) {
  static int cached = -1;
  if (cached < 0) cached = __builtin_cpu_supports("ssse3") ? 1 : 0;
  return cached;
}
#endif

int ac__utf8_valid(const char *s, size_t n, size_t *errpos) {
#if defined(__x86_64__) && defined(__GNUC__)
  if (n >= 32 && have_ssse3()) {
    size_t done, back = 0;
    if (!utf8_valid_ssse3(s, n, &done)) return ac__utf8_valid_scalar(s, n, errpos);
    /* The blocks are valid as far as they go; a sequence may straddle their
     * end: check from its lead byte on, one byte at a time. */
    while (back < 3 && back < done && ((unsigned char)s[done - 1 - back] & 0xC0) == 0x80) back++;
    if (back < done && (unsigned char)s[done - 1 - back] >= 0xC0) back++;
    else back = 0;
    if (ac__utf8_valid_scalar(s + done - back, n - done + back, errpos)) return 1;
    if (errpos != NULL) *errpos += done - back;
    return 0;
  }
#endif
  return ac__utf8_valid_scalar(s, n, errpos);
}
