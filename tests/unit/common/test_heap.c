/*
 * The intrusive min-heap (src/common/heap.h): random inserts and removals,
 * including nodes in the middle of the tree, keep the heap order and shape.
 */
#include <stdint.h>

#include "common/heap.h"
#include "runner.h"

#define HEAP_N 10000

struct heap_item {
  struct ac__heap_node node;
  unsigned key;
  unsigned id;     /* tie-break: a total order, so the pop order is checkable */
  int in_heap;
};

#define HEAP_ITEM(n) ((struct heap_item *)((char *)(n) - offsetof(struct heap_item, node)))

static int heap_less(const struct ac__heap_node *a, const struct ac__heap_node *b) {
  const struct heap_item *x = HEAP_ITEM(a), *y = HEAP_ITEM(b);
  if (x->key != y->key) return x->key < y->key;
  return x->id < y->id;
}

static uint64_t heap_rng_state;

static uint32_t heap_rand(void) {
  /* xorshift64*: deterministic, so a failure reproduces. */
  heap_rng_state ^= heap_rng_state >> 12;
  heap_rng_state ^= heap_rng_state << 25;
  heap_rng_state ^= heap_rng_state >> 27;
  return (uint32_t)((heap_rng_state * 0x2545F4914F6CDD1DULL) >> 32);
}

/* Walk the tree: links consistent, parent never after child, and the shape
 * complete (positions 1..count all used). Returns the node count. */
static size_t heap_check_node(const struct ac__heap *h, const struct ac__heap_node *n,
                              const struct ac__heap_node *parent, size_t pos, size_t *max_pos) {
  size_t count = 1;
  ASSERT(n->parent == parent);
  ASSERT(HEAP_ITEM(n)->in_heap);
  if (parent != NULL) ASSERT(!h->less(n, parent));
  if (pos > *max_pos) *max_pos = pos;
  ASSERT_LE(pos, h->count);
  if (n->left != NULL) count += heap_check_node(h, n->left, n, 2 * pos, max_pos);
  if (n->right != NULL) {
    ASSERT(n->left != NULL);
    count += heap_check_node(h, n->right, n, 2 * pos + 1, max_pos);
  }
  return count;
}

static void heap_check(const struct ac__heap *h) {
  size_t max_pos = 0, count = 0;
  if (h->count == 0) {
    ASSERT(ac__heap_min(h) == NULL);
    return;
  }
  ASSERT(ac__heap_min(h) != NULL);
  count = heap_check_node(h, ac__heap_min(h), NULL, 1, &max_pos);
  ASSERT_UEQ(count, h->count);
  ASSERT_UEQ(max_pos, h->count);
}

static void heap_insert(struct ac__heap *h, struct heap_item *it) {
  ASSERT(!it->in_heap);
  ac__heap_insert(h, &it->node);
  it->in_heap = 1;
}

static void heap_remove(struct ac__heap *h, struct heap_item *it) {
  ASSERT(it->in_heap);
  ac__heap_remove(h, &it->node);
  it->in_heap = 0;
}

/* Pop everything: strictly increasing (key, id), every node once. */
static void heap_drain_sorted(struct ac__heap *h, struct heap_item *items, size_t n) {
  struct heap_item *prev = NULL;
  size_t expected = 0, popped = 0, i;
  for (i = 0; i < n; i++) expected += (size_t)items[i].in_heap;
  ASSERT_UEQ(h->count, expected);
  while (ac__heap_min(h) != NULL) {
    struct heap_item *it = HEAP_ITEM(ac__heap_min(h));
    /* The minimum really is the smallest item still in. */
    if (prev != NULL) ASSERT(heap_less(&prev->node, &it->node));
    heap_remove(h, it);
    popped++;
    ASSERT_UEQ(h->count, expected - popped);
    if (popped % 997 == 0) heap_check(h);
    prev = it;
  }
  ASSERT_UEQ(popped, expected);
  ASSERT_UEQ(h->count, 0);
  for (i = 0; i < n; i++) ASSERT_EQ(items[i].in_heap, 0);
}

static void heap_random_run(uint64_t seed) {
  struct ac__heap h;
  struct heap_item *items = calloc(HEAP_N, sizeof(*items));
  size_t i, step, in = 0;

  ASSERT_NOT_NULL(items);
  heap_rng_state = seed;
  ac__heap_init(&h, heap_less);
  heap_check(&h);
  for (i = 0; i < HEAP_N; i++) {
    items[i].id = (unsigned)i;
    items[i].key = heap_rand() % (HEAP_N / 4); /* many equal keys */
  }
  /* Insert all, in the array's order (random keys). */
  for (i = 0; i < HEAP_N; i++) {
    heap_insert(&h, &items[i]);
    in++;
    if (i % 500 == 0) heap_check(&h);
  }
  heap_check(&h);
  ASSERT_UEQ(h.count, HEAP_N);
  /* Remove 40% chosen at random: mostly nodes that are not the minimum. */
  while (in > HEAP_N * 6 / 10) {
    struct heap_item *it = &items[heap_rand() % HEAP_N];
    if (!it->in_heap) continue;
    heap_remove(&h, it);
    in--;
    if (in % 250 == 0) heap_check(&h);
  }
  heap_check(&h);
  /* Mixed: flip random nodes in or out, sometimes with a new key; also take
   * the minimum now and then. */
  for (step = 0; step < 3 * HEAP_N; step++) {
    uint32_t r = heap_rand();
    struct heap_item *it = &items[r % HEAP_N];
    if ((r >> 20) % 8 == 0 && ac__heap_min(&h) != NULL) {
      heap_remove(&h, HEAP_ITEM(ac__heap_min(&h)));
      in--;
    } else if (it->in_heap) {
      heap_remove(&h, it);
      in--;
    } else {
      if ((r >> 24) & 1) it->key = heap_rand() % (HEAP_N / 4);
      heap_insert(&h, it);
      in++;
    }
    ASSERT_UEQ(h.count, in);
    if (step % 1000 == 0) heap_check(&h);
  }
  heap_check(&h);
  heap_drain_sorted(&h, items, HEAP_N);
  heap_check(&h);
  free(items);
}

TEST_IMPL(heap_random_inserts_and_removals_keep_order) {
  heap_random_run(0x9E3779B97F4A7C15ULL);
  heap_random_run(12345);
}

/* Removing a node whose replacement (the last node) is smaller than the
 * removed node's parent: the replacement must move up. */
TEST_IMPL(heap_remove_middle_node_sifts_up) {
  static const unsigned keys[] = {1, 10, 2, 11, 12, 3, 4};
  struct heap_item items[7];
  struct ac__heap h;
  size_t i;

  memset(items, 0, sizeof(items));
  ac__heap_init(&h, heap_less);
  for (i = 0; i < 7; i++) {
    items[i].key = keys[i];
    items[i].id = (unsigned)i;
    heap_insert(&h, &items[i]);
  }
  heap_check(&h);
  /* Level order is the insertion order here: 11 is a child of 10, and the
   * last node is 4, which must end above 10. */
  ASSERT(h.min == &items[0].node);
  ASSERT(items[3].node.parent == &items[1].node);
  heap_remove(&h, &items[3]);
  heap_check(&h);
  ASSERT(items[6].node.parent == &items[0].node);
  /* The last node itself, and the root. */
  heap_remove(&h, HEAP_ITEM(h.min));
  heap_check(&h);
  ASSERT_EQ(HEAP_ITEM(h.min)->key, 2);
  heap_drain_sorted(&h, items, 7);
  /* A single node in and out. */
  heap_insert(&h, &items[0]);
  heap_check(&h);
  ASSERT(h.min == &items[0].node);
  heap_remove(&h, &items[0]);
  ASSERT(h.min == NULL);
  ASSERT_UEQ(h.count, 0);
}

/* Keys inserted in decreasing order: every insert sifts to the root. */
TEST_IMPL(heap_decreasing_inserts_and_last_node_removal) {
  struct heap_item items[100];
  struct ac__heap h;
  size_t i;

  memset(items, 0, sizeof(items));
  ac__heap_init(&h, heap_less);
  for (i = 0; i < 100; i++) {
    items[i].key = (unsigned)(100 - i);
    items[i].id = (unsigned)i;
    heap_insert(&h, &items[i]);
    ASSERT(h.min == &items[i].node);
  }
  heap_check(&h);
  /* Remove whichever node is last in level order, repeatedly. */
  for (i = 0; i < 30; i++) {
    size_t k = h.count, depth = 0, path = 0;
    struct ac__heap_node *n = h.min;
    for (; k >= 2; k /= 2, depth++) path = (path << 1) | (k & 1);
    while (depth-- > 0) {
      n = (path & 1) ? n->right : n->left;
      path >>= 1;
    }
    ASSERT(n != NULL);
    ASSERT(n->left == NULL && n->right == NULL);
    heap_remove(&h, HEAP_ITEM(n));
    heap_check(&h);
  }
  heap_drain_sorted(&h, items, 100);
}
