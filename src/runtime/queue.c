/*
 * A bounded FIFO of pointers (asyncio.Queue with maxsize). The ring is
 * allocated once, at creation; a full queue makes putters wait, which is the
 * backpressure the crawl engine relies on. When a getter is already waiting,
 * a put hands its item straight to it, and when a putter is waiting, a get
 * pulls that putter's item into the ring: both sides stay strictly FIFO.
 */
#include "runtime/internal.h"

struct ac_queue {
  ac_loop_t *loop;
  void **ring;
  size_t capacity;
  size_t head;              /* index of the oldest item */
  size_t size;
  int closed;
  struct ac__list getters;  /* struct ac__wait; w->data receives the item */
  struct ac__list putters;  /* struct ac__wait; w->data holds the item */
};

int ac_queue_new(ac_loop_t *loop, size_t capacity, ac_queue_t **out) {
  ac_queue_t *q;
  if (out != NULL) *out = NULL;
  if (loop == NULL || out == NULL || capacity == 0 || capacity > SIZE_MAX / sizeof(void *))
    return AC_EINVAL;
  q = ac__calloc(1, sizeof(*q));
  if (q == NULL) return AC_ENOMEM;
  q->ring = ac__malloc(capacity * sizeof(void *));
  if (q->ring == NULL) {
    ac__free(q);
    return AC_ENOMEM;
  }
  q->loop = loop;
  q->capacity = capacity;
  ac__list_init(&q->getters);
  ac__list_init(&q->putters);
  *out = q;
  return 0;
}

int ac_queue_free(ac_queue_t *q) {
  if (q == NULL) return 0;
  if (!ac__list_empty(&q->getters) || !ac__list_empty(&q->putters)) return AC_EBUSY;
  ac__free(q->ring);
  ac__free(q);
  return 0;
}

static void push(ac_queue_t *q, void *item) {
  q->ring[(q->head + q->size) % q->capacity] = item;
  q->size++;
}

static void *pop(ac_queue_t *q) {
  void *item = q->ring[q->head];
  q->head = (q->head + 1) % q->capacity;
  q->size--;
  return item;
}

static struct ac__wait *first_waiter(struct ac__list *l) {
  struct ac__wait *w = ac__container_of(l->next, struct ac__wait, node);
  ac__list_remove(&w->node);
  return w;
}

int ac_queue_try_put(ac_queue_t *q, void *item) {
  if (q == NULL) return AC_EINVAL;
  if (q->closed) return AC_ECLOSED;
  if (!ac__list_empty(&q->getters)) { /* the queue is empty: hand over */
    struct ac__wait *w = first_waiter(&q->getters);
    w->data = item;
    ac__task_wake(w->task, 0);
    return 0;
  }
  if (q->size == q->capacity) return AC_EAGAIN;
  push(q, item);
  return 0;
}

int ac_queue_try_get(ac_queue_t *q, void **item) {
  if (q == NULL || item == NULL) return AC_EINVAL;
  if (q->size == 0) return q->closed ? AC_ECLOSED : AC_EAGAIN;
  *item = pop(q);
  if (!ac__list_empty(&q->putters)) { /* a slot opened: take the first putter's item */
    struct ac__wait *w = first_waiter(&q->putters);
    push(q, w->data);
    ac__task_wake(w->task, 0);
  }
  return 0;
}

int ac_queue_put(ac_queue_t *q, void *item) {
  struct ac__wait w = {0};
  int rc;
  ac_task_t *t = ac__task_require(&rc);

  if (t == NULL) return rc;
  if (q == NULL) return AC_EINVAL;
  rc = ac__wait_check(t);
  if (rc != 0) return rc;
  rc = ac_queue_try_put(q, item);
  if (rc != AC_EAGAIN) return rc;
  w.task = t;
  w.abort = ac__wait_abort_unlink;
  w.data = item;
  ac__list_insert_tail(&q->putters, &w.node);
  return ac__task_suspend(&w);
}

int ac_queue_get(ac_queue_t *q, void **item) {
  struct ac__wait w = {0};
  int rc;
  ac_task_t *t = ac__task_require(&rc);

  if (t == NULL) return rc;
  if (q == NULL || item == NULL) return AC_EINVAL;
  rc = ac__wait_check(t);
  if (rc != 0) return rc;
  rc = ac_queue_try_get(q, item);
  if (rc != AC_EAGAIN) return rc;
  w.task = t;
  w.abort = ac__wait_abort_unlink;
  ac__list_insert_tail(&q->getters, &w.node);
  rc = ac__task_suspend(&w);
  if (rc == 0) *item = w.data;
  return rc;
}

void ac_queue_close(ac_queue_t *q) {
  if (q->closed) return;
  q->closed = 1;
  /* Getters wait only on an empty queue, so they can all be told now. */
  ac__wake_all(&q->putters, AC_ECLOSED);
  ac__wake_all(&q->getters, AC_ECLOSED);
}

size_t ac_queue_size(const ac_queue_t *q) { return q->size; }
size_t ac_queue_capacity(const ac_queue_t *q) { return q->capacity; }
int ac_queue_is_closed(const ac_queue_t *q) { return q->closed; }
