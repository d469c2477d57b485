/*
 * Waiting on several tasks at once: gather, wait, wait_for, as_completed.
 *
 * A multi-wait links one waiter node into each unfinished task; the node's
 * notify callback counts completions and wakes the waiting task once its
 * condition holds. Up to INLINE_NODES nodes live on the waiting task's stack;
 * more are allocated (AC_ENOMEM is then possible).
 */
#include "runtime/internal.h"

#define INLINE_NODES 16

struct multi_wait {
  struct ac__wait w;        /* the task's own wait: aborting it unlinks every node */
  struct ac__wait *nodes;
  ac_task_t *const *tasks;
  size_t n;
  size_t ndone;             /* finished tasks, counted before and during the wait */
  size_t nnew;              /* finished during the wait */
  size_t nfailed;
  ac_wait_mode_t mode;
  struct ac__timer timer;
};

static int condition_met(const struct multi_wait *m) {
  switch (m->mode) {
  case AC_WAIT_FIRST_COMPLETED: return m->nnew > 0;
  case AC_WAIT_FIRST_FAILED: return m->nfailed > 0 || m->ndone == m->n;
  case AC_WAIT_ALL:
  default: return m->ndone == m->n;
  }
}

static void unlink_all(struct multi_wait *m) {
  size_t i;
  for (i = 0; i < m->n; i++) ac__list_remove(&m->nodes[i].node);
  ac__timer_stop(m->w.task->loop, &m->timer);
}

static void on_task_done(struct ac__wait *node) {
  struct multi_wait *m = node->data;
  ac_task_t *done = m->tasks[node - m->nodes];
  m->ndone++;
  m->nnew++;
  if (ac_task_state(done) == AC_TASK_FAILED) m->nfailed++;
  if (condition_met(m)) {
    unlink_all(m);
    ac__task_wake(m->w.task, 0);
  }
}

static void on_wait_timeout(struct ac__timer *t) {
  struct multi_wait *m = ac__container_of(t, struct multi_wait, timer);
  unlink_all(m);
  ac__task_wake(m->w.task, AC_ETIMEDOUT);
}

static enum ac__abort_result abort_multi(struct ac__wait *w) {
  unlink_all(ac__container_of(w, struct multi_wait, w));
  return AC__ABORT_NOW;
}

/* Wait for `mode` among tasks, counting those already finished; for
 * AC_WAIT_FIRST_COMPLETED, wait for one more to finish. */
static int wait_many(ac_task_t *self, ac_task_t *const *tasks, size_t n, ac_wait_mode_t mode,
                     uint64_t timeout_ms) {
  struct ac__wait inline_nodes[INLINE_NODES];
  struct multi_wait m = {0};
  size_t i;
  int rc;

  m.tasks = tasks;
  m.n = n;
  m.mode = mode;
  m.w.task = self;
  m.w.abort = abort_multi;
  ac__list_init(&m.w.node);
  ac__timer_init(&m.timer, on_wait_timeout);
  for (i = 0; i < n; i++) {
    if (!ac_task_is_finished(tasks[i])) continue;
    m.ndone++;
    if (ac_task_state(tasks[i]) == AC_TASK_FAILED) m.nfailed++;
  }
  if (condition_met(&m)) return 0;
  if (timeout_ms == 0) return AC_ETIMEDOUT;
  m.nodes = n <= INLINE_NODES ? inline_nodes : ac__calloc(n, sizeof(*m.nodes));
  if (m.nodes == NULL) return AC_ENOMEM;
  for (i = 0; i < n; i++) {
    struct ac__wait *node = &m.nodes[i];
    node->task = self;
    node->data = &m;
    node->notify = on_task_done;
    ac__list_init(&node->node);
    if (!ac_task_is_finished(tasks[i])) ac__list_insert_tail(&tasks[i]->done.waiters, &node->node);
  }
  if (timeout_ms != AC_NO_TIMEOUT) ac__timer_start(self->loop, &m.timer, timeout_ms);
  rc = ac__task_suspend(&m.w);
  if (m.nodes != inline_nodes) ac__free(m.nodes);
  return rc;
}

static int check_args(ac_task_t **self, ac_task_t *const *tasks, size_t n) {
  int rc;
  size_t i;
  *self = ac__task_require(&rc);
  if (*self == NULL) return rc;
  if (tasks == NULL && n > 0) return AC_EINVAL;
  for (i = 0; i < n; i++)
    if (tasks[i] == NULL || tasks[i] == *self) return AC_EINVAL;
  return ac__wait_check(*self);
}

int ac_wait(ac_task_t *const *tasks, size_t n, ac_wait_mode_t mode, uint64_t timeout_ms,
            size_t *ndone) {
  ac_task_t *self;
  size_t i, done = 0;
  int rc = check_args(&self, tasks, n);

  if (rc == 0) {
    if (mode == AC_WAIT_FIRST_COMPLETED)
      for (i = 0; i < n && done == 0; i++) done += (size_t)ac_task_is_finished(tasks[i]);
    if (n > 0 && done == 0) rc = wait_many(self, tasks, n, mode, timeout_ms);
  }
  if (ndone != NULL) {
    for (i = 0, done = 0; i < n; i++) done += (size_t)ac_task_is_finished(tasks[i]);
    *ndone = done;
  }
  return rc;
}

int ac_gather(ac_task_t *const *tasks, size_t n) {
  ac_task_t *self;
  size_t i, j;
  int rc = check_args(&self, tasks, n), first_err = 0;

  if (rc != 0) return rc;
  for (i = 0; i < n; i++) {
    if (!ac_task_is_finished(tasks[i])) {
      rc = ac__task_await_finish(self, tasks[i]);
      if (rc != 0) {
        /* We were cancelled or timed out, not the task: like asyncio, the
         * gathered tasks are cancelled too; they unwind on their own. */
        for (j = i; j < n; j++)
          if (!ac_task_is_finished(tasks[j])) ac_task_cancel(tasks[j]);
        return rc;
      }
    }
    rc = ac_task_result(tasks[i], NULL);
    if (rc != 0 && first_err == 0) first_err = rc;
  }
  return first_err;
}

int ac_wait_for(ac_task_t *task, uint64_t timeout_ms, void **result) {
  int rc = ac_wait(&task, 1, AC_WAIT_ALL, timeout_ms, NULL), rc2;

  if (rc == 0) return ac_task_result(task, result);
  if (rc != AC_ETIMEDOUT && rc != AC_ECANCELED) return rc;
  if (ac_task_cancel(task) != 0) { /* finished meanwhile */
    /* Our own cancellation, or an expired enclosing scope, must still be
     * delivered; only our own deadline racing the end is forgiven. */
    const struct ac__scope *sc;
    if (rc == AC_ECANCELED) return rc;
    for (sc = ac_task_current()->scopes; sc != NULL; sc = sc->outer)
      if (sc->expired) return rc;
    return ac_task_result(task, result);
  }
  /* Wait until it has unwound, as asyncio.wait_for does. An interruption of
   * this second wait (a second cancel, an outer scope) ends it early; a
   * cancellation is then what we return. */
  while (!ac_task_is_finished(task)) {
    rc2 = ac__task_await_finish(ac_task_current(), task);
    if (rc2 != 0) {
      if (rc2 == AC_ECANCELED) rc = rc2;
      break;
    }
  }
  if (ac_task_is_finished(task)) (void)ac_task_error(task);
  return rc;
}

void ac_as_completed_init(ac_as_completed_t *it, ac_task_t *const *tasks, size_t n,
                          uint64_t timeout_ms) {
  uint64_t now = n > 0 ? ac_loop_now(ac_task_loop(tasks[0])) : 0;
  it->tasks = tasks;
  it->n = n;
  it->yielded = 0;
  it->last_seq = 0;
  it->deadline = timeout_ms == AC_NO_TIMEOUT || timeout_ms > UINT64_MAX - now
                     ? UINT64_MAX : now + timeout_ms;
}

int ac_as_completed_next(ac_as_completed_t *it, ac_task_t **out) {
  ac_task_t *self;
  int rc;

  if (it == NULL || out == NULL) return AC_EINVAL;
  *out = NULL;
  if (it->yielded == it->n) return AC_EEOF;
  rc = check_args(&self, it->tasks, it->n);
  while (rc == 0) {
    /* The earliest finished task not yet yielded: completion stamps only
     * grow, so it is the smallest stamp above the last one yielded. */
    ac_task_t *best = NULL;
    size_t i;
    uint64_t now;
    for (i = 0; i < it->n; i++) {
      ac_task_t *t = it->tasks[i];
      if (t->done_seq > it->last_seq && (best == NULL || t->done_seq < best->done_seq)) best = t;
    }
    if (best != NULL) {
      it->last_seq = best->done_seq;
      it->yielded++;
      *out = best;
      return 0;
    }
    now = ac_loop_now(self->loop);
    if (it->deadline <= now) return AC_ETIMEDOUT;
    rc = wait_many(self, it->tasks, it->n, AC_WAIT_FIRST_COMPLETED,
                   it->deadline == UINT64_MAX ? AC_NO_TIMEOUT : it->deadline - now);
  }
  return rc;
}
