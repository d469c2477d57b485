/*
 * An intrusive binary min-heap kept as a tree of nodes (the shape of libuv's
 * heap-inl.h): insert and remove are O(log n) and never allocate, so arming a
 * timer cannot fail. The comparison is supplied by the user of the heap.
 */
#ifndef AC_COMMON_HEAP_H
#define AC_COMMON_HEAP_H

#include <stddef.h>

struct ac__heap_node {
  struct ac__heap_node *left;
  struct ac__heap_node *right;
  struct ac__heap_node *parent;
};

/* Returns non-zero when a must come before b. */
typedef int (*ac__heap_less_fn)(const struct ac__heap_node *a, const struct ac__heap_node *b);

struct ac__heap {
  struct ac__heap_node *min;
  size_t count;
  ac__heap_less_fn less;
};

void ac__heap_init(struct ac__heap *h, ac__heap_less_fn less);
void ac__heap_insert(struct ac__heap *h, struct ac__heap_node *n);
void ac__heap_remove(struct ac__heap *h, struct ac__heap_node *n);
static inline struct ac__heap_node *ac__heap_min(const struct ac__heap *h) { return h->min; }

#endif /* AC_COMMON_HEAP_H */
