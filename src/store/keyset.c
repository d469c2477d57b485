/*
 * The JSON Lines store's key set (keyset.h). Chained buckets, doubled when
 * the load passes 1; FNV-1a hashes (keys are short ids).
 */
#include "store/keyset.h"

#include <stdint.h>
#include <string.h>

#include "acrawl/errno.h"
#include "common/alloc.h"

struct keyset_node {
  struct keyset_node *next;
  uint64_t hash;
  size_t len;
  char key[];
};

static uint64_t hash_key(const char *key, size_t len) {
  uint64_t h = 0xCBF29CE484222325ULL;
  for (size_t i = 0; i < len; i++) h = (h ^ (unsigned char)key[i]) * 0x100000001B3ULL;
  return h;
}

void ac__keyset_init(struct keyset *ks) { memset(ks, 0, sizeof(*ks)); }

void ac__keyset_free(struct keyset *ks) {
  for (size_t i = 0; i < ks->nbuckets; i++) {
    struct keyset_node *n = ks->buckets[i];
    while (n != NULL) {
      struct keyset_node *next = n->next;
      ac__free(n);
      n = next;
    }
  }
  ac__free(ks->buckets);
  ac__keyset_init(ks);
}

static struct keyset_node **find(const struct keyset *ks, uint64_t h, const char *key,
                                 size_t len) {
  struct keyset_node **p = &ks->buckets[h & (ks->nbuckets - 1)];
  for (; *p != NULL; p = &(*p)->next)
    if ((*p)->hash == h && (*p)->len == len && memcmp((*p)->key, key, len) == 0) return p;
  return p;
}

int ac__keyset_has(const struct keyset *ks, const char *key, size_t len) {
  if (ks->count == 0) return 0;
  return *find(ks, hash_key(key, len), key, len) != NULL;
}

static int grow(struct keyset *ks) {
  size_t nb = ks->nbuckets ? ks->nbuckets * 2 : 64;
  struct keyset_node **b;
  if (nb > SIZE_MAX / sizeof(*b)) return AC_ENOMEM;
  b = ac__calloc(nb, sizeof(*b));
  if (b == NULL) return AC_ENOMEM;
  for (size_t i = 0; i < ks->nbuckets; i++) {
    struct keyset_node *n = ks->buckets[i];
    while (n != NULL) {
      struct keyset_node *next = n->next;
      n->next = b[n->hash & (nb - 1)];
      b[n->hash & (nb - 1)] = n;
      n = next;
    }
  }
  ac__free(ks->buckets);
  ks->buckets = b;
  ks->nbuckets = nb;
  return 0;
}

int ac__keyset_add(struct keyset *ks, const char *key, size_t len) {
  uint64_t h = hash_key(key, len);
  struct keyset_node **p, *n;
  if (ks->count >= ks->nbuckets && grow(ks) != 0 && ks->nbuckets == 0) return AC_ENOMEM;
  p = find(ks, h, key, len);
  if (*p != NULL) return 0;
  n = ac__malloc(sizeof(*n) + len + 1);
  if (n == NULL) return AC_ENOMEM;
  n->next = NULL;
  n->hash = h;
  n->len = len;
  memcpy(n->key, key, len);
  n->key[len] = '\0';
  *p = n;
  ks->count++;
  return 0;
}

void ac__keyset_remove(struct keyset *ks, const char *key, size_t len) {
  struct keyset_node **p, *n;
  if (ks->count == 0) return;
  p = find(ks, hash_key(key, len), key, len);
  n = *p;
  if (n == NULL) return;
  *p = n->next;
  ac__free(n);
  ks->count--;
}
