/*
 * The book site's pseudo-random numbers: splitmix64 to derive seeds and
 * xoshiro256** to draw from them. Integer-only and fully specified, so a data
 * set built from the same seed is byte-identical on every machine and libc
 * (rand() and random() are neither).
 */
#ifndef AC_SITE_RNG_H
#define AC_SITE_RNG_H

#include <stdint.h>

struct ac__rng {
  uint64_t s[4];
};

/* One splitmix64 step: a good 64-bit mixer, used both to fill the xoshiro
 * state and to derive one independent stream per book from (seed, index). */
static inline uint64_t ac__splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

static inline void ac__rng_seed(struct ac__rng *r, uint64_t seed) {
  uint64_t x = seed;
  for (int i = 0; i < 4; i++) r->s[i] = ac__splitmix64(&x);
}

static inline uint64_t ac__rng_rotl(uint64_t v, int k) { return (v << k) | (v >> (64 - k)); }

static inline uint64_t ac__rng_next(struct ac__rng *r) {
  uint64_t *s = r->s;
  uint64_t out = ac__rng_rotl(s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = ac__rng_rotl(s[3], 45);
  return out;
}

/* A value in [0, n) for n > 0. Lemire's multiply-shift: no modulo bias worth
 * the name for the small n used here, and no division. */
static inline uint32_t ac__rng_below(struct ac__rng *r, uint32_t n) {
  return (uint32_t)(((ac__rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

/* A value in [lo, hi], lo <= hi. */
static inline uint32_t ac__rng_range(struct ac__rng *r, uint32_t lo, uint32_t hi) {
  return lo + ac__rng_below(r, hi - lo + 1);
}

/* 1 with probability num/den. */
static inline int ac__rng_chance(struct ac__rng *r, uint32_t num, uint32_t den) {
  return ac__rng_below(r, den) < num;
}

#endif /* AC_SITE_RNG_H */
