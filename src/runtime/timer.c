/*
 * Timers, sleep and timeout scopes.
 *
 * All of a loop's timers sit in one intrusive min-heap driven by a single
 * kernel timer armed for the earliest deadline. A libuv timer per sleep would
 * need uv_close (and its asynchronous callback) before its memory could go,
 * and sleeps live on task stacks that must be reusable the moment the task
 * ends; heap entries need no closing, and arming one never allocates.
 *
 * Deadlines are in microseconds of the monotonic clock, taken when the timer
 * starts, not from the loop's cached millisecond time. On Linux a timerfd
 * wakes the loop at that microsecond. libuv's own timers cannot: they count
 * from the time cached at the start of the iteration and wake at millisecond
 * ticks, so every sleep started while the loop was busy with a burst shared
 * one deadline. A server that answers after a fixed delay (the replica's
 * --delay) then answered each burst in one block, and the block, plus its
 * writing time, came back every round: 256 connections under a 100 ms delay
 * saw 102.9 ms, not 100.4. Elsewhere, libuv's timer does the arming (to the
 * millisecond, rounded up: never early).
 *
 * The kernel timer is armed lazily: only when a new earliest deadline comes
 * before the one it is armed for. Stopping the earliest timer (a request
 * done before its deadline, the common case) leaves it armed, and the wake
 * that finds nothing due re-arms it: one syscall saved per request.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/timerfd.h>
#endif

#include "runtime/internal.h"

static int timer_less(const struct ac__heap_node *a, const struct ac__heap_node *b) {
  const struct ac__timer *ta = ac__container_of(a, struct ac__timer, node);
  const struct ac__timer *tb = ac__container_of(b, struct ac__timer, node);
  if (ta->due != tb->due) return ta->due < tb->due;
  return ta->seq < tb->seq;
}

static uint64_t now_us(void) { return uv_hrtime() / 1000u; }

static void fire_due(ac_loop_t *loop);

#ifdef __linux__

static void on_timerfd(uv_poll_t *h, int status, int events) {
  ac_loop_t *loop = h->data;
  uint64_t expirations;
  (void)status;
  (void)events;
  /* Consumes the expiry; EAGAIN when the wake was for a deadline re-armed
   * since (the fd is non-blocking). */
  while (read(loop->timer_fd, &expirations, sizeof(expirations)) < 0 && errno == EINTR) {
  }
  loop->timer_armed = 0;
  fire_due(loop);
}

static void arm_at(ac_loop_t *loop, uint64_t due) {
  struct itimerspec its;
  memset(&its, 0, sizeof(its));
  /* An absolute time of 0 would disarm it; anything in the past fires now. */
  if (due == 0) due = 1;
  its.it_value.tv_sec = (time_t)(due / 1000000u);
  its.it_value.tv_nsec = (long)(due % 1000000u) * 1000;
  /* Cannot fail with a valid fd and value; if it did, the poll would never
   * wake for it, so make it fire at once (and be re-armed then). */
  if (timerfd_settime(loop->timer_fd, TFD_TIMER_ABSTIME, &its, NULL) != 0) {
    its.it_value.tv_sec = 0;
    its.it_value.tv_nsec = 1;
    (void)timerfd_settime(loop->timer_fd, 0, &its, NULL);
  }
  loop->timer_armed = due;
}

/* The poll stays started for the loop's life: stopping and restarting it
 * would cost two epoll_ctl calls each time the heap empties. A reference
 * keeps the loop alive while a timer waits; without one the loop can see
 * it has nothing left to wait for. The fd may stay armed: its wake finds
 * nothing due. */
static void hold(ac_loop_t *loop, int any) {
  if (any) uv_ref((uv_handle_t *)&loop->timer);
  else uv_unref((uv_handle_t *)&loop->timer);
}

int ac__timers_init(ac_loop_t *loop) {
  int rc;
  ac__heap_init(&loop->timers, timer_less);
  loop->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (loop->timer_fd < 0) return -errno;
  if ((rc = uv_poll_init(&loop->uv, &loop->timer, loop->timer_fd)) != 0) {
    close(loop->timer_fd);
    return rc;
  }
  loop->timer.data = loop;
  /* Checks only its arguments, which are right: it cannot fail here. */
  (void)uv_poll_start(&loop->timer, UV_READABLE, on_timerfd);
  uv_unref((uv_handle_t *)&loop->timer);
  return 0;
}

static void on_timer_closed(uv_handle_t *h) {
  ac_loop_t *loop = h->data;
  close(loop->timer_fd);
  loop->timer_fd = -1;
  ac__loop_handle_closed(loop);
}

#else /* libuv's timer: millisecond ticks */

static void on_uv_timer(uv_timer_t *h) {
  ac_loop_t *loop = h->data;
  loop->timer_armed = 0;
  fire_due(loop);
}

static void arm_at(ac_loop_t *loop, uint64_t due) {
  uint64_t now;
  uv_update_time(&loop->uv);
  now = now_us();
  /* Rounded up: libuv fires at whole milliseconds of its cached time. */
  uv_timer_start(&loop->timer, on_uv_timer, due > now ? (due - now + 999u) / 1000u : 0, 0);
  loop->timer_armed = due;
}

static void hold(ac_loop_t *loop, int any) {
  if (any) return; /* uv_timer_start refs it */
  uv_timer_stop(&loop->timer);
  loop->timer_armed = 0;
}

int ac__timers_init(ac_loop_t *loop) {
  ac__heap_init(&loop->timers, timer_less);
  uv_timer_init(&loop->uv, &loop->timer);
  loop->timer.data = loop;
  return 0;
}

static void on_timer_closed(uv_handle_t *h) { ac__loop_handle_closed(h->data); }

#endif

void ac__timers_close(ac_loop_t *loop) {
  uv_close((uv_handle_t *)&loop->timer, on_timer_closed);
}

int ac__timers_own(const ac_loop_t *loop, const uv_handle_t *h) {
  return h == (const uv_handle_t *)&loop->timer;
}

/* Arms the kernel timer for the earliest deadline if it is not armed for
 * that one or an earlier one. */
static void arm(ac_loop_t *loop) {
  struct ac__heap_node *n = ac__heap_min(&loop->timers);
  uint64_t due;
  hold(loop, n != NULL);
  if (n == NULL) return;
  due = ac__container_of(n, struct ac__timer, node)->due;
  if (loop->timer_armed == 0 || due < loop->timer_armed) arm_at(loop, due);
}

static void fire_due(ac_loop_t *loop) {
  uint64_t now = now_us();
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

void ac__timer_init(struct ac__timer *t, void (*cb)(struct ac__timer *t)) {
  t->cb = cb;
  t->active = 0;
}

void ac__timer_start(ac_loop_t *loop, struct ac__timer *t, uint64_t timeout_ms) {
  uint64_t now = now_us();
  ac__timer_start_at(loop, t,
                     timeout_ms > (UINT64_MAX - now) / 1000u ? UINT64_MAX : now + timeout_ms * 1000u);
}

void ac__timer_start_at(ac_loop_t *loop, struct ac__timer *t, uint64_t due_us) {
  if (t->active) ac__timer_stop(loop, t);
  t->due = due_us;
  t->seq = ++loop->timer_seq;
  t->active = 1;
  ac__heap_insert(&loop->timers, &t->node);
  arm(loop);
}

void ac__timer_stop(ac_loop_t *loop, struct ac__timer *t) {
  if (!t->active) return;
  ac__heap_remove(&loop->timers, &t->node);
  t->active = 0;
  /* Left armed (see the top); an empty heap lets the loop go. */
  if (ac__heap_min(&loop->timers) == NULL) hold(loop, 0);
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

uint64_t ac_now_us(void) { return now_us(); }

/* Both sleeps: until the absolute due_us, or a yield when it has passed. */
static int sleep_until(uint64_t due_us) {
  struct sleep_wait s = {0};
  int rc;
  ac_task_t *task = ac__task_require(&rc);

  if (task == NULL) return rc;
  if (due_us <= now_us()) return ac_yield();
  rc = ac__wait_check(task);
  if (rc != 0) return rc;
  s.w.task = task;
  s.w.abort = abort_sleep;
  ac__list_init(&s.w.node);
  ac__timer_init(&s.timer, on_sleep_done);
  ac__timer_start_at(task->loop, &s.timer, due_us);
  return ac__task_suspend(&s.w);
}

int ac_sleep(uint64_t ms) {
  uint64_t now = now_us();
  if (ms == 0) return sleep_until(0);
  return sleep_until(ms > (UINT64_MAX - now) / 1000u ? UINT64_MAX : now + ms * 1000u);
}

int ac_sleep_until(uint64_t when_us) { return sleep_until(when_us); }

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
