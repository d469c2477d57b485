/*
 * Intrusive circular doubly-linked lists (libuv's queue.h idea): the node is
 * embedded in the element, so putting an element on a list never allocates.
 * An empty list is a head pointing at itself.
 */
#ifndef AC_COMMON_LIST_H
#define AC_COMMON_LIST_H

#include <stddef.h>

struct ac__list {
  struct ac__list *next;
  struct ac__list *prev;
};

#define ac__container_of(ptr, type, member) \
  ((type *)((char *)(ptr) - offsetof(type, member)))

static inline void ac__list_init(struct ac__list *h) { h->next = h->prev = h; }
static inline int ac__list_empty(const struct ac__list *h) { return h->next == h; }
/* A node that was removed with ac__list_remove (or only initialised). */
static inline int ac__list_unlinked(const struct ac__list *n) { return n->next == n; }

static inline void ac__list_insert_tail(struct ac__list *h, struct ac__list *n) {
  n->next = h;
  n->prev = h->prev;
  h->prev->next = n;
  h->prev = n;
}

static inline void ac__list_remove(struct ac__list *n) {
  n->prev->next = n->next;
  n->next->prev = n->prev;
  n->next = n->prev = n; /* so a second remove is harmless */
}

static inline struct ac__list *ac__list_head(const struct ac__list *h) {
  return h->next == h ? NULL : h->next;
}

/* Move every node of `from` to the end of `to`; `from` ends empty. */
static inline void ac__list_move_all(struct ac__list *from, struct ac__list *to) {
  if (ac__list_empty(from)) return;
  from->next->prev = to->prev;
  to->prev->next = from->next;
  from->prev->next = to;
  to->prev = from->prev;
  ac__list_init(from);
}

#endif /* AC_COMMON_LIST_H */
