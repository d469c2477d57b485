/*
 * The dedup set. Only a 64-bit hash of each key is kept: 8 bytes per URL
 * (16 with the table's slack) instead of the URL itself, which is what lets
 * a crawl of millions of pages keep its memory flat. The price is a
 * collision chance of about n^2 / 2^65: 3 in 100 million at a million URLs.
 */
#include <string.h>

#include "acrawl/errno.h"
#include "common/alloc.h"
#include "crawl/internal.h"

uint64_t ac__crawl_hash(const char *s) {
  /* FNV-1a, then a murmur3-style finaliser so that near-identical URLs
   * (?offset=18, ?offset=36) spread over the whole table. */
  uint64_t h = 0xcbf29ce484222325ull;
  for (; *s; s++) {
    h ^= (unsigned char)*s;
    h *= 0x100000001b3ull;
  }
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return h == 0 ? 1 : h; /* 0 marks an empty slot */
}

static int seen_grow(ac__seen_t *s) {
  size_t cap = s->cap ? s->cap * 2 : 1024;
  uint64_t *slots = ac__calloc(cap, sizeof(*slots));
  if (slots == NULL) return AC_ENOMEM;
  for (size_t i = 0; i < s->cap; i++) {
    uint64_t h = s->slots[i];
    if (h == 0) continue;
    size_t j = (size_t)h & (cap - 1);
    while (slots[j] != 0) j = (j + 1) & (cap - 1);
    slots[j] = h;
  }
  ac__free(s->slots);
  s->slots = slots;
  s->cap = cap;
  return 0;
}

static int seen_add_hash(ac__seen_t *s, uint64_t h) {
  size_t j;
  /* Keep the load under 1/2 so that probes stay short. */
  if ((s->count + 1) * 2 > s->cap && seen_grow(s) != 0) return AC_ENOMEM;
  for (j = (size_t)h & (s->cap - 1); s->slots[j] != 0; j = (j + 1) & (s->cap - 1))
    if (s->slots[j] == h) return 0;
  s->slots[j] = h;
  s->count++;
  return 1;
}

int ac__seen_add(ac__seen_t *s, const char *key) { return seen_add_hash(s, ac__crawl_hash(key)); }

int ac__seen_has(const ac__seen_t *s, const char *key) {
  uint64_t h = ac__crawl_hash(key);
  if (s->cap == 0) return 0;
  for (size_t j = (size_t)h & (s->cap - 1); s->slots[j] != 0; j = (j + 1) & (s->cap - 1))
    if (s->slots[j] == h) return 1;
  return 0;
}

void ac__seen_free(ac__seen_t *s) {
  ac__free(s->slots);
  memset(s, 0, sizeof(*s));
}
