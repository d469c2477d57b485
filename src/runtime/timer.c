/*
 * Timers, sleep and timeout scopes.
 *
 * All of a loop's timers sit in one intrusive min-heap driven by a single
 * libuv timer armed for the earliest deadline. A libuv timer per sleep would
 * need uv_close (and its asynchronous callback) before its memory could go,
 * and sleeps live on task stacks that must be reusable the moment the task
 * ends; heap entries need no closing, and arming one never allocates.
 */
#include "runtime/internal.h"

static int timer_less(const struct ac__heap_node *a, const struct ac__heap_node *b) {
  const struct ac__timer *ta = ac__container_of(a, struct ac__timer, node);
  const struct ac__timer *tb = ac__container_of(b, struct ac__timer, node);
  if (ta->due != tb->due) return ta->due < tb->due;
  return ta->seq < tb->seq;
}

static void arm(ac_loop_t *loop);

static void on_uv_timer(uv_timer_t *h) {
  ac_loop_t *loop = h->data;
  uint64_t now = uv_now(&loop->uv);
  struct ac__heap_node *n;

  while ((n = ac__heap_min(&loop->timers)) != NULL) {
    struct ac__timer *t = ac__container_of(n, struct ac__timer, node);
    if (t->due > now) break;
    ac__heap_remove(&loop->timers, n);
    t->active = 0;
    t->cb(t);
  }
  arm(loop);
}

static void arm(ac_loop_t *loop) {
  struct ac__heap_node *n = ac__heap_min(&loop->timers);
  if (n == NULL) {
    uv_timer_stop(&loop->timer);
  } else {
    struct ac__timer *t = ac__container_of(n, struct ac__timer, node);
    uint64_t now = uv_now(&loop->uv);
    uv_timer_start(&loop->timer, on_uv_timer, t->due > now ? t->due - now : 0, 0);
  }
}

void ac__timers_init(ac_loop_t *loop) {
  ac__heap_init(&loop->timers, timer_less);
  uv_timer_init(&loop->uv, &loop->timer);
  loop->timer.data = loop;
}

void ac__timer_init(struct ac__timer *t, void (*cb)(struct ac__timer *t)) {
  t->cb = cb;
  t->active = 0;
}

void ac__timer_start(ac_loop_t *loop, struct ac__timer *t, uint64_t timeout_ms) {
  struct ac__heap_node *old_min;
  uint64_t now = uv_now(&loop->uv);

  if (t->active) ac__timer_stop(loop, t);
  t->due = timeout_ms > UINT64_MAX - now ? UINT64_MAX : now + timeout_ms;
  t->seq = ++loop->timer_seq;
  t->active = 1;
  old_min = ac__heap_min(&loop->timers);
  ac__heap_insert(&loop->timers, &t->node);
  if (ac__heap_min(&loop->timers) != old_min) arm(loop);
}

void ac__timer_stop(ac_loop_t *loop, struct ac__timer *t) {
  int was_min;
  if (!t->active) return;
  was_min = ac__heap_min(&loop->timers) == &t->node;
  ac__heap_remove(&loop->timers, &t->node);
  t->active = 0;
  if (was_min) arm(loop);
}

/* ---------------------------------------------------------------- sleep */

struct sleep_wait {
  struct ac__wait w;
  struct ac__timer timer;
};

static void on_sleep_done(struct ac__timer *t) {
  struct sleep_wait *s = ac__container_of(t, struct sleep_wait, timer);
  ac__task_wake(s->w.task, 0);
}

static enum ac__abort_result abort_sleep(struct ac__wait *w) {
  struct sleep_wait *s = ac__container_of(w, struct sleep_wait, w);
  ac__timer_stop(w->task->loop, &s->timer);
  return AC__ABORT_NOW;
}

int ac_sleep(uint64_t ms) {
  struct sleep_wait s = {0};
  int rc;
  ac_task_t *task = ac__task_require(&rc);

  if (task == NULL) return rc;
  if (ms == 0) return ac_yield();
  rc = ac__wait_check(task);
  if (rc != 0) return rc;
  s.w.task = task;
  s.w.abort = abort_sleep;
  ac__list_init(&s.w.node);
  ac__timer_init(&s.timer, on_sleep_done);
  ac__timer_start(task->loop, &s.timer, ms);
  return ac__task_suspend(&s.w);
}

/* ------------------------------------------------------- timeout scopes */

static void on_scope_expired(struct ac__timer *timer) {
  struct ac__scope *scope = ac__container_of(timer, struct ac__scope, timer);
  scope->expired = 1;
  /* Interrupt the wait in progress; a task not waiting now (ready to run)
   * sees the expiry at its next wait (ac__wait_check). */
  ac__task_interrupt(scope->task, AC_ETIMEDOUT);
}

int ac_timeout_enter(ac_timeout_t *t, uint64_t timeout_ms) {
  struct ac__scope *scope;
  int rc;
  ac_task_t *task = ac__task_require(&rc);

  if (task == NULL) return rc;
  if (t == NULL) return AC_EINVAL;
  scope = ac__calloc(1, sizeof(*scope));
  if (scope == NULL) return AC_ENOMEM;
  scope->task = task;
  scope->handle = t;
  scope->outer = task->scopes;
  task->scopes = scope;
  ac__timer_init(&scope->timer, on_scope_expired);
  if (timeout_ms != AC_NO_TIMEOUT) ac__timer_start(task->loop, &scope->timer, timeout_ms);
  t->scope = scope;
  return 0;
}

static void close_scope(ac_task_t *task, struct ac__scope *scope) {
  ac__timer_stop(task->loop, &scope->timer);
  task->scopes = scope->outer;
  ac__free(scope);
}

int ac_timeout_leave(ac_timeout_t *t) {
  ac_task_t *task = ac__current_task;
  struct ac__scope *scope;
  int expired;

  if (t == NULL || task == NULL || task->scopes == NULL || task->scopes != t->scope)
    return AC_EINVAL;
  scope = task->scopes;
  expired = scope->expired;
  close_scope(task, scope);
  t->scope = NULL;
  return expired ? AC_ETIMEDOUT : 0;
}

void ac__scopes_close_all(ac_task_t *task) {
  while (task->scopes != NULL) close_scope(task, task->scopes);
}
