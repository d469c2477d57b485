/*
 * A set of keys (NUL-terminated strings) for the JSON Lines store, which
 * cannot upsert: it remembers every key in its file so that a key is never
 * written twice. Chained hashing; an insert can be taken back (a batch that
 * failed is written again later and must find its keys absent).
 */
#ifndef AC_STORE_KEYSET_H
#define AC_STORE_KEYSET_H

#include <stddef.h>

struct keyset_node;

struct keyset {
  struct keyset_node **buckets;
  size_t nbuckets; /* a power of two, or 0 before the first insert */
  size_t count;
};

void ac__keyset_init(struct keyset *ks);
void ac__keyset_free(struct keyset *ks);
int ac__keyset_has(const struct keyset *ks, const char *key, size_t len);
/* 0, or AC_ENOMEM (the set is unchanged). The key is copied. */
int ac__keyset_add(struct keyset *ks, const char *key, size_t len);
/* Take a key out again (no-op if absent). */
void ac__keyset_remove(struct keyset *ks, const char *key, size_t len);

#endif /* AC_STORE_KEYSET_H */
