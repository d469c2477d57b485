/*
 * The loop, ac_run, sleep and timeout scopes.
 */
#include <stdint.h>

#include <uv.h>

#include "acrawl.h"
#include "runner.h"

struct log {
  int order[8];
  int n;
  int rc[4];
  int cleanup;
};

struct sleeper_arg {
  struct log *log;
  int id;
  uint64_t ms;
};

static int sleeper(void *arg, void **result) {
  struct sleeper_arg *s = arg;
  int rc = ac_sleep(s->ms);
  s->log->order[s->log->n++] = s->id;
  return rc;
}

TEST_IMPL(sleep_wakes_in_deadline_order) {
  ac_loop_t *loop;
  struct log log = {{0}, 0, {0}, 0};
  struct sleeper_arg a[4] = {{&log, 1, 30}, {&log, 2, 10}, {&log, 3, 20}, {&log, 4, 10}};
  int i;
  uint64_t start;

  ASSERT_OK(ac_loop_new(&loop));
  start = ac_loop_now(loop);
  for (i = 0; i < 4; i++) ASSERT_OK(ac_task_spawn(loop, sleeper, &a[i], NULL, NULL));
  ASSERT_OK(ac_loop_run(loop));
  ASSERT_EQ(log.n, 4);
  ASSERT_EQ(log.order[0], 2); /* equal deadlines keep spawn order */
  ASSERT_EQ(log.order[1], 4);
  ASSERT_EQ(log.order[2], 3);
  ASSERT_EQ(log.order[3], 1);
  ASSERT_GE(ac_loop_now(loop) - start, 30); /* never early */
  ASSERT_OK(ac_loop_close(loop));
}

/* Keeps the loop thread busy without returning to it, as a burst of work
 * in one turn does. */
static void busy_ms(uint64_t ms) {
  uint64_t end = uv_hrtime() + ms * 1000000u;
  while (uv_hrtime() < end) {
  }
}

struct late_sleeper {
  struct log *log;
  int id;
  uint64_t busy_ms, sleep_ms;
  uint64_t slept_ns;
};

static int late_sleeper(void *arg, void **result) {
  struct late_sleeper *s = arg;
  uint64_t t0;
  (void)result;
  busy_ms(s->busy_ms);
  t0 = uv_hrtime();
  ASSERT_OK(ac_sleep(s->sleep_ms));
  s->slept_ns = uv_hrtime() - t0;
  s->log->order[s->log->n++] = s->id;
  return 0;
}

/* A sleep counts from the moment it starts, not from the loop's time cached
 * at the start of the turn: a server that answers after a fixed delay
 * answers each request after that delay even when a burst of requests kept
 * the loop busy. Task 1 starts a 4 ms sleep at once; task 2, in the same
 * turn, works 2 ms, then sleeps 3 ms: due 1 ms after task 1. With deadlines
 * from the turn's time, task 2 (due at 3 ms) would wake first and after
 * only 1 ms of sleep. */
TEST_IMPL(sleep_counts_from_its_own_start) {
  ac_loop_t *loop;
  struct log log = {{0}, 0, {0}, 0};
  struct late_sleeper a = {&log, 1, 0, 4, 0}, b = {&log, 2, 2, 3, 0};

  ASSERT_OK(ac_loop_new(&loop));
  ASSERT_OK(ac_task_spawn(loop, late_sleeper, &a, NULL, NULL));
  ASSERT_OK(ac_task_spawn(loop, late_sleeper, &b, NULL, NULL));
  ASSERT_OK(ac_loop_run(loop));
  ASSERT_EQ(log.n, 2);
  ASSERT_EQ(log.order[0], 1);
  ASSERT_EQ(log.order[1], 2);
  ASSERT_GE(a.slept_ns, 4u * 1000000u); /* never early */
  ASSERT_GE(b.slept_ns, 3u * 1000000u);
  ASSERT_OK(ac_loop_close(loop));
}

static int yielder(void *arg, void **result) {
  struct sleeper_arg *s = arg;
  int i;
  for (i = 0; i < 2; i++) {
    s->log->order[s->log->n++] = s->id;
    ASSERT_OK(ac_sleep(0)); /* sleep(0) is a yield */
  }
  return 0;
}

TEST_IMPL(sleep_zero_yields_round_robin) {
  ac_loop_t *loop;
  struct log log = {{0}, 0, {0}, 0};
  struct sleeper_arg a[2] = {{&log, 1, 0}, {&log, 2, 0}};

  ASSERT_OK(ac_loop_new(&loop));
  ASSERT_OK(ac_task_spawn(loop, yielder, &a[0], NULL, NULL));
  ASSERT_OK(ac_task_spawn(loop, yielder, &a[1], NULL, NULL));
  ASSERT_OK(ac_loop_run(loop));
  ASSERT_EQ(log.n, 4);
  ASSERT_EQ(log.order[0], 1);
  ASSERT_EQ(log.order[1], 2);
  ASSERT_EQ(log.order[2], 1);
  ASSERT_EQ(log.order[3], 2);
  ASSERT_OK(ac_loop_close(loop));
}

/* ac_sleep_until: a deadline computed before the work that led to it (the
 * replica answers a fixed time after a request arrived, however long the
 * loop took to read it). Task 1 takes its deadline (now + 4 ms), works 2 ms,
 * then sleeps until it; task 2, spawned after, sleeps 3 ms once task 1 has
 * worked: it starts 2 ms in and is due at 5 ms. With the deadline taken as
 * a duration when the sleep starts (ac_sleep(4) at 2 ms: due at 6 ms),
 * task 2 would wake first. */
struct until_sleeper {
  struct log *log;
  uint64_t due_us, woke_us;
  int rc;
};

static int until_first(void *arg, void **result) {
  struct until_sleeper *s = arg;
  (void)result;
  s->due_us = ac_now_us() + 4000;
  busy_ms(2);
  s->rc = ac_sleep_until(s->due_us);
  s->woke_us = ac_now_us();
  s->log->order[s->log->n++] = 1;
  return 0;
}

static int until_second(void *arg, void **result) {
  struct log *log = arg;
  (void)result;
  ASSERT_OK(ac_sleep(3));
  log->order[log->n++] = 2;
  return 0;
}

/* A moment already past is a yield: the task spawned next runs meanwhile. */
static int until_past(void *arg, void **result) {
  struct log *log = arg;
  (void)result;
  log->rc[0] = ac_sleep_until(ac_now_us() - 1);
  log->rc[1] = log->cleanup;
  return 0;
}

static int mark_ran(void *arg, void **result) {
  (void)result;
  ((struct log *)arg)->cleanup = 1;
  return 0;
}

static int until_in_scope(void *arg, void **result) {
  struct log *log = arg;
  ac_timeout_t t;
  (void)result;
  ASSERT_OK(ac_timeout_enter(&t, 5));
  log->rc[2] = ac_sleep_until(ac_now_us() + 10000000u);
  log->rc[3] = ac_timeout_leave(&t);
  return 0;
}

TEST_IMPL(sleep_until_an_earlier_deadline) {
  ac_loop_t *loop;
  struct log log = {{0}, 0, {-1, -1, -1, -1}, 0};
  struct until_sleeper a = {&log, 0, 0, -1};
  uint64_t t0;

  ASSERT_ERR(ac_sleep_until(ac_now_us()), AC_ENOTASK);
  ASSERT_OK(ac_loop_new(&loop));
  ASSERT_OK(ac_task_spawn(loop, until_first, &a, NULL, NULL));
  ASSERT_OK(ac_task_spawn(loop, until_second, &log, NULL, NULL));
  ASSERT_OK(ac_loop_run(loop));
  ASSERT_OK(a.rc);
  ASSERT_EQ(log.n, 2);
  ASSERT_EQ(log.order[0], 1);
  ASSERT_EQ(log.order[1], 2);
  ASSERT_GE(a.woke_us, a.due_us); /* never early */

  ASSERT_OK(ac_task_spawn(loop, until_past, &log, NULL, NULL));
  ASSERT_OK(ac_task_spawn(loop, mark_ran, &log, NULL, NULL));
  ASSERT_OK(ac_loop_run(loop));
  ASSERT_OK(log.rc[0]);
  ASSERT_EQ(log.rc[1], 1);

  /* A timeout scope still bounds it. */
  t0 = ac_now_us();
  ASSERT_OK(ac_task_spawn(loop, until_in_scope, &log, NULL, NULL));
  ASSERT_OK(ac_loop_run(loop));
  ASSERT_ERR(log.rc[2], AC_ETIMEDOUT);
  ASSERT_ERR(log.rc[3], AC_ETIMEDOUT);
  ASSERT_LT(ac_now_us() - t0, 5000000u);
  ASSERT_OK(ac_loop_close(loop));
}

/* ------------------------------------------------------ timeout scopes */

static int scoped(void *arg, void **result) {
  struct log *log = arg;
  ac_timeout_t outer, inner;
  ac_future_t *never;

  ASSERT_OK(ac_future_new(ac_task_loop(ac_task_current()), &never));
  /* A scope around an await that would last forever. */
  ASSERT_OK(ac_timeout_enter(&outer, 20));
  log->rc[0] = ac_future_await(never, NULL);
  log->rc[1] = ac_sleep(1); /* the expired scope goes on refusing waits */
  ASSERT_ERR(ac_timeout_leave(&outer), AC_ETIMEDOUT);
  /* Nested: the inner, shorter one fires; the outer is untouched. */
  ASSERT_OK(ac_timeout_enter(&outer, 1000000));
  ASSERT_OK(ac_timeout_enter(&inner, 10));
  log->rc[2] = ac_sleep(1000000);
  ASSERT_ERR(ac_timeout_leave(&outer), AC_EINVAL); /* not the innermost */
  ASSERT_ERR(ac_timeout_leave(&inner), AC_ETIMEDOUT);
  log->rc[3] = ac_sleep(1);
  ASSERT_OK(ac_timeout_leave(&outer));
  ac_future_release(never);
  /* A scope left open when the task ends must not fire into a dead stack. */
  ASSERT_OK(ac_timeout_enter(&inner, 5));
  return 0;
}

TEST_IMPL(timeout_scopes) {
  ac_loop_t *loop;
  struct log log = {{0}, 0, {0}, 0};
  ac_task_t *t;
  ac_timeout_t outside;

  ASSERT_OK(ac_loop_new(&loop));
  ASSERT_ERR(ac_timeout_enter(&outside, 5), AC_ENOTASK);
  ASSERT_OK(ac_task_spawn(loop, scoped, &log, NULL, &t));
  ASSERT_OK(ac_loop_run(loop));
  ASSERT_EQ(ac_task_state(t), AC_TASK_DONE);
  ASSERT_ERR(log.rc[0], AC_ETIMEDOUT);
  ASSERT_ERR(log.rc[1], AC_ETIMEDOUT);
  ASSERT_ERR(log.rc[2], AC_ETIMEDOUT);
  ASSERT_OK(log.rc[3]);
  ac_task_release(t);
  ASSERT_OK(ac_loop_close(loop));
}

static int scoped_in_time(void *arg, void **result) {
  struct log *log = arg;
  ac_timeout_t t;
  ASSERT_OK(ac_timeout_enter(&t, (uint64_t)(1000 * ac_test_time_multiplier())));
  log->rc[0] = ac_sleep(5);
  log->rc[1] = ac_timeout_leave(&t);
  return 0;
}

TEST_IMPL(timeout_scope_not_expired) {
  ac_loop_t *loop;
  struct log log = {{0}, 0, {0}, 0};
  uint64_t start;

  ASSERT_OK(ac_loop_new(&loop));
  start = ac_loop_now(loop);
  ASSERT_OK(ac_task_spawn(loop, scoped_in_time, &log, NULL, NULL));
  ASSERT_OK(ac_loop_run(loop));
  ASSERT_OK(log.rc[0]);
  ASSERT_OK(log.rc[1]);
  /* The loop did not wait for the left scope's timer. */
  ASSERT_LT(ac_loop_now(loop) - start, (uint64_t)(1000 * ac_test_time_multiplier()));
  ASSERT_OK(ac_loop_close(loop));
}

/* --------------------------------------------------------- the loop */

static int wait_forever(void *arg, void **result) {
  return ac_future_await(arg, NULL);
}

TEST_IMPL(loop_run_until_done_detects_deadlock) {
  ac_loop_t *loop;
  ac_future_t *never;
  ac_task_t *t;

  ASSERT_OK(ac_loop_new(&loop));
  ASSERT_OK(ac_future_new(loop, &never));
  ASSERT_OK(ac_task_spawn(loop, wait_forever, never, NULL, &t));
  ASSERT_ERR(ac_loop_run_until_done(loop, t), AC_EDEADLK);
  ASSERT_EQ(ac_task_state(t), AC_TASK_PENDING);
  ASSERT_ERR(ac_loop_close(loop), AC_EBUSY);
  ASSERT_EQ(ac_loop_cancel_all(loop), 1);
  ASSERT_OK(ac_loop_run(loop));
  ASSERT_EQ(ac_task_state(t), AC_TASK_CANCELLED);
  ac_task_release(t);
  ac_future_release(never);
  ASSERT_OK(ac_loop_close(loop));
}

static int reenter(void *arg, void **result) {
  ac_loop_t *loop = arg;
  ASSERT_ERR(ac_loop_run(loop), AC_EBUSY);
  ASSERT_ERR(ac_loop_close(loop), AC_EBUSY);
  return 0;
}

TEST_IMPL(loop_refuses_reentry) {
  ac_loop_t *loop;
  ASSERT_OK(ac_loop_new(&loop));
  ASSERT_OK(ac_task_spawn(loop, reenter, loop, NULL, NULL));
  ASSERT_OK(ac_loop_run(loop));
  ASSERT_OK(ac_loop_close(loop));
}

static int stopper(void *arg, void **result) {
  struct log *log = arg;
  ac_loop_stop(ac_task_loop(ac_task_current()));
  /* Long enough to outlast the rest of the turn, even under valgrind: a
   * deadline is checked at the turn's poll too, so a sleep shorter than
   * the turn would end in it. */
  log->rc[0] = ac_sleep(100);
  log->n++;
  return 0;
}

TEST_IMPL(loop_stop_then_resume) {
  ac_loop_t *loop;
  struct log log = {{0}, 0, {0}, 0};

  ASSERT_OK(ac_loop_new(&loop));
  ASSERT_OK(ac_task_spawn(loop, stopper, &log, NULL, NULL));
  ASSERT_OK(ac_loop_run(loop));
  ASSERT_EQ(log.n, 0); /* stopped while the task sleeps */
  ASSERT_EQ(ac_loop_task_count(loop), 1);
  ASSERT_OK(ac_loop_run(loop));
  ASSERT_EQ(log.n, 1);
  ASSERT_OK(ac_loop_close(loop));
}

/* ------------------------------------------------------------ ac_run */

static struct log run_log;

static int leftover(void *arg, void **result) {
  int rc = ac_sleep(1000000);
  if (rc == AC_ECANCELED && ac_sleep(1) == 0) run_log.cleanup++;
  return rc;
}

static int main_leaves_children(void *arg, void **result) {
  int i;
  for (i = 0; i < 3; i++)
    ASSERT_OK(ac_task_spawn(ac_task_loop(ac_task_current()), leftover, NULL, NULL, NULL));
  ASSERT_OK(ac_sleep(1));
  *result = arg;
  return 0;
}

static int main_fails(void *arg, void **result) { return AC_EPIPE; }

TEST_IMPL(run_returns_main_and_cancels_leftovers) {
  void *result = NULL;
  int token;

  run_log.cleanup = 0;
  ASSERT_OK(ac_run(main_leaves_children, &token, &result));
  ASSERT_PTR_EQ(result, &token);
  ASSERT_EQ(run_log.cleanup, 3);
  ASSERT_ERR(ac_run(main_fails, NULL, NULL), AC_EPIPE);
  ASSERT_ERR(ac_run(NULL, NULL, NULL), AC_EINVAL);
}

static int leftover_done(void *arg, void **result) {
  int rc = ac_sleep(1);
  run_log.cleanup++;
  return rc;
}

static void on_foreign_closed(uv_handle_t *h) { *(int *)h->data = 1; }

TEST_IMPL(loop_close_refuses_while_program_handles_are_open) {
  ac_loop_t *loop;
  uv_timer_t timer;
  int closed = 0;

  ASSERT_OK(ac_loop_new(&loop));
  ASSERT_OK(uv_timer_init(ac_loop_uv(loop), &timer));
  timer.data = &closed;
  ASSERT_ERR(ac_loop_close(loop), AC_EBUSY);
  /* Still usable: a task runs, then the program closes its handle. */
  run_log.cleanup = 0;
  ASSERT_OK(ac_task_spawn(loop, leftover_done, NULL, NULL, NULL));
  ASSERT_OK(ac_loop_run(loop));
  ASSERT_EQ(run_log.cleanup, 1);
  uv_close((uv_handle_t *)&timer, on_foreign_closed);
  ASSERT_OK(ac_loop_close(loop));
  ASSERT_EQ(closed, 1);
}

struct starve {
  int stop;
  long spins;
};

static int spin_until_stopped(void *arg, void **result) {
  struct starve *s = arg;
  while (!s->stop) {
    ASSERT_OK(ac_yield());
    s->spins++;
  }
  return 0;
}

static int stop_after_sleep(void *arg, void **result) {
  struct starve *s = arg;
  ASSERT_OK(ac_sleep(5));
  s->stop = 1;
  return 0;
}

/* Ready work runs in bounded drains: a task that yields forever still lets
 * the loop reach its timers (and its poll). Without the bound this never ends. */
TEST_IMPL(loop_yielding_task_does_not_starve_timers) {
  ac_loop_t *loop;
  struct starve s = {0, 0};

  ASSERT_OK(ac_loop_new(&loop));
  ASSERT_OK(ac_task_spawn(loop, spin_until_stopped, &s, NULL, NULL));
  ASSERT_OK(ac_task_spawn(loop, stop_after_sleep, &s, NULL, NULL));
  ASSERT_OK(ac_loop_run(loop));
  ASSERT_EQ(s.stop, 1);
  ASSERT_GT(s.spins, 0);
  ASSERT_OK(ac_loop_close(loop));
}
