/*
 * UTF-8 validation: the fast path agrees with the byte-at-a-time reference
 * on every input, valid or not, at every length and alignment, and both say
 * where the first bad sequence starts.
 */
#include <string.h>

#include "common/utf8.h"
#include "runner.h"

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static unsigned rnd(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return (unsigned)(rng_state >> 11);
}

/* A valid code point's UTF-8 at p; returns its length. */
static size_t put_cp(unsigned char *p, unsigned cp) {
  if (cp < 0x80) { p[0] = (unsigned char)cp; return 1; }
  if (cp < 0x800) { p[0] = (unsigned char)(0xC0 | cp >> 6); p[1] = (unsigned char)(0x80 | (cp & 0x3F)); return 2; }
  if (cp < 0x10000) {
    p[0] = (unsigned char)(0xE0 | cp >> 12);
    p[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
    p[2] = (unsigned char)(0x80 | (cp & 0x3F));
    return 3;
  }
  p[0] = (unsigned char)(0xF0 | cp >> 18);
  p[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
  p[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
  p[3] = (unsigned char)(0x80 | (cp & 0x3F));
  return 4;
}

static unsigned random_cp(void) {
  switch (rnd() % 5) {
  case 0: return rnd() % 0x80;
  case 1: return 0x80 + rnd() % (0x800 - 0x80);
  case 2: {
    unsigned cp = 0x800 + rnd() % (0x10000 - 0x800);
    return cp >= 0xD800 && cp <= 0xDFFF ? 0x4E2D : cp;
  }
  case 3: return 0x4E00 + rnd() % 0x5000; /* CJK, the common case */
  default: return 0x10000 + rnd() % (0x110000 - 0x10000);
  }
}

static void agree(const unsigned char *buf, size_t n) {
  size_t e1 = 999999, e2 = 999999;
  int a = ac__utf8_valid((const char *)buf, n, &e1);
  int b = ac__utf8_valid_scalar((const char *)buf, n, &e2);
  if (a != b || (!a && e1 != e2))
    AC__FAIL("fast %d@%zu, scalar %d@%zu on %zu bytes", a, e1, b, e2, n);
}

TEST_IMPL(utf8_fast_agrees_with_scalar) {
  static unsigned char buf[600];
  for (int round = 0; round < 20000; round++) {
    size_t n = 0, len = rnd() % 200;
    while (n + 4 < len) n += put_cp(buf + n, random_cp());
    agree(buf, n);
    ASSERT(ac__utf8_valid((const char *)buf, n, NULL));
    /* One corruption anywhere: a random byte, a cut, or a classic bad form. */
    if (n > 0) {
      size_t at = rnd() % n;
      switch (rnd() % 4) {
      case 0: buf[at] = (unsigned char)rnd(); break;
      case 1: n = at; break;
      case 2: buf[at] = (unsigned char)(0x80 | (rnd() & 0x3F)); break;
      default: {
        static const unsigned char bad[][4] = {{0xC0, 0xAF}, {0xE0, 0x80, 0xAF}, {0xED, 0xA0, 0x80},
                                               {0xF4, 0x90, 0x80, 0x80}, {0xF8, 0x88, 0x80, 0x80},
                                               {0xC1, 0xBF}, {0xF0, 0x8F, 0xBF, 0xBF}, {0xFF}};
        const unsigned char *b = bad[rnd() % 8];
        size_t k = b[0] >= 0xF0 ? 4 : b[0] >= 0xE0 ? 3 : b[0] == 0xFF ? 1 : 2;
        if (at + k <= n) memcpy(buf + at, b, k);
      }
      }
      agree(buf, n);
    }
  }
}

TEST_IMPL(utf8_known_cases) {
  static const struct { const char *s; int ok; size_t pos; } cases[] = {
      {"plain ascii, long enough to take the fast path of 32+", 1, 0},
      {"\xe4\xb8\xad\xe6\x96\x87\xe4\xb8\xad\xe6\x96\x87\xe4\xb8\xad\xe6\x96\x87\xe4\xb8\xad\xe6\x96\x87\xf0\x9f\x93\x9a ok", 1, 0},
      {"0123456789abcdef0123456789abcde\xe4\xb8", 0, 31},   /* cut at the very end */
      {"0123456789abcde\xe4\xb8\xad" "0123456789abcdef", 1, 0}, /* straddles a block */
      {"0123456789abcdef0123456789abcdef\xed\xa0\x80", 0, 32}, /* a surrogate */
      {"\x80" "0123456789abcdef0123456789abcdef", 0, 0},       /* starts with a continuation */
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    size_t pos = 12345;
    int ok = ac__utf8_valid(cases[i].s, strlen(cases[i].s), &pos);
    if (ok != cases[i].ok) AC__FAIL("case %zu: %d", i, ok);
    if (!ok && pos != cases[i].pos) AC__FAIL("case %zu: at %zu, expected %zu", i, pos, cases[i].pos);
  }
}
