/*
 * A FIFO counting semaphore. A release with waiters hands its permit straight
 * to the first waiter instead of raising the count, so a task that arrives
 * between the release and the waiter's resumption cannot take it: no
 * barging, no starvation.
 */
#include "runtime/internal.h"

struct ac_sem {
  ac_loop_t *loop;
  size_t value;
  size_t nwaiters;
  struct ac__list waiters;
};

int ac_sem_new(ac_loop_t *loop, size_t permits, ac_sem_t **out) {
  ac_sem_t *s;
  if (out != NULL) *out = NULL;
  if (loop == NULL || out == NULL) return AC_EINVAL;
  s = ac__calloc(1, sizeof(*s));
  if (s == NULL) return AC_ENOMEM;
  s->loop = loop;
  s->value = permits;
  ac__list_init(&s->waiters);
  *out = s;
  return 0;
}

int ac_sem_free(ac_sem_t *s) {
  if (s == NULL) return 0;
  if (!ac__list_empty(&s->waiters)) return AC_EBUSY;
  ac__free(s);
  return 0;
}

static enum ac__abort_result abort_acquire(struct ac__wait *w) {
  ac_sem_t *s = w->data;
  ac__list_remove(&w->node);
  s->nwaiters--;
  return AC__ABORT_NOW;
}

int ac_sem_acquire(ac_sem_t *s) {
  struct ac__wait w = {0};
  int rc;
  ac_task_t *t = ac__task_require(&rc);

  if (t == NULL) return rc;
  if (s == NULL) return AC_EINVAL;
  rc = ac__wait_check(t);
  if (rc != 0) return rc;
  if (s->value > 0 && ac__list_empty(&s->waiters)) {
    s->value--;
    return 0;
  }
  w.task = t;
  w.abort = abort_acquire;
  w.data = s;
  ac__list_insert_tail(&s->waiters, &w.node);
  s->nwaiters++;
  return ac__task_suspend(&w); /* 0 means release() handed us its permit */
}

int ac_sem_try_acquire(ac_sem_t *s) {
  if (s == NULL) return AC_EINVAL;
  if (s->value == 0 || !ac__list_empty(&s->waiters)) return AC_EAGAIN;
  s->value--;
  return 0;
}

void ac_sem_release(ac_sem_t *s) {
  if (!ac__list_empty(&s->waiters)) {
    struct ac__wait *w = ac__container_of(s->waiters.next, struct ac__wait, node);
    ac__list_remove(&w->node);
    s->nwaiters--;
    ac__task_wake(w->task, 0);
  } else {
    s->value++;
  }
}

size_t ac_sem_value(const ac_sem_t *s) { return s->value; }
size_t ac_sem_waiters(const ac_sem_t *s) { return s->nwaiters; }
