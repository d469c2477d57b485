/*
 * Intrusive binary min-heap. The tree is complete: node k (1-based, in level
 * order) has children 2k and 2k+1, so the path from the root to position k is
 * the binary digits of k after the leading 1, read from the top.
 */
#include "common/heap.h"

void ac__heap_init(struct ac__heap *h, ac__heap_less_fn less) {
  h->min = NULL;
  h->count = 0;
  h->less = less;
}

/* The slot (a parent's child pointer, or the root pointer) of position k. */
static struct ac__heap_node **slot_of(struct ac__heap *h, size_t k,
                                      struct ac__heap_node **parent) {
  size_t path = 0, depth = 0;
  struct ac__heap_node **slot = &h->min;
  *parent = NULL;
  for (; k >= 2; k /= 2, depth++) path = (path << 1) | (k & 1);
  while (depth-- > 0) {
    *parent = *slot;
    slot = (path & 1) ? &(*slot)->right : &(*slot)->left;
    path >>= 1;
  }
  return slot;
}

/* Exchange a node with its child, fixing every pointer that referred to either. */
static void swap_with_child(struct ac__heap *h, struct ac__heap_node *parent,
                            struct ac__heap_node *child) {
  struct ac__heap_node saved = *parent, *sibling;

  *parent = *child;
  *child = saved;
  /* child now holds parent's old links, one of which points at child itself. */
  parent->parent = child;
  if (child->left == child) {
    child->left = parent;
    sibling = child->right;
  } else {
    child->right = parent;
    sibling = child->left;
  }
  if (sibling != NULL) sibling->parent = child;
  if (parent->left != NULL) parent->left->parent = parent;
  if (parent->right != NULL) parent->right->parent = parent;

  if (child->parent == NULL)
    h->min = child;
  else if (child->parent->left == parent)
    child->parent->left = child;
  else
    child->parent->right = child;
}

static void sift_up(struct ac__heap *h, struct ac__heap_node *n) {
  while (n->parent != NULL && h->less(n, n->parent)) swap_with_child(h, n->parent, n);
}

static void sift_down(struct ac__heap *h, struct ac__heap_node *n) {
  for (;;) {
    struct ac__heap_node *smallest = n;
    if (n->left != NULL && h->less(n->left, smallest)) smallest = n->left;
    if (n->right != NULL && h->less(n->right, smallest)) smallest = n->right;
    if (smallest == n) return;
    swap_with_child(h, n, smallest);
  }
}

void ac__heap_insert(struct ac__heap *h, struct ac__heap_node *n) {
  struct ac__heap_node *parent;
  struct ac__heap_node **slot = slot_of(h, h->count + 1, &parent);

  n->left = n->right = NULL;
  n->parent = parent;
  *slot = n;
  h->count++;
  sift_up(h, n);
}

void ac__heap_remove(struct ac__heap *h, struct ac__heap_node *n) {
  struct ac__heap_node *parent, *last;
  struct ac__heap_node **slot;

  if (h->count == 0) return;
  /* Detach the last node, then put it where n was and restore the order. */
  slot = slot_of(h, h->count, &parent);
  last = *slot;
  *slot = NULL;
  h->count--;
  if (last == n) {
    if (h->min == n) h->min = NULL;
    return;
  }
  last->left = n->left;
  last->right = n->right;
  last->parent = n->parent;
  if (last->left != NULL) last->left->parent = last;
  if (last->right != NULL) last->right->parent = last;
  if (n->parent == NULL)
    h->min = last;
  else if (n->parent->left == n)
    n->parent->left = last;
  else
    n->parent->right = last;
  sift_down(h, last);
  sift_up(h, last);
}
