/*
 * gather, wait (all / first completed / first failed), wait_for, as_completed.
 */
#include <stdint.h>

#include "acrawl.h"
#include "runner.h"

/* A child that sleeps arg ms, then returns (int)(ms) as its result, or fails
 * with AC_EIO when ms is odd. */
static int napper(void *arg, void **result) {
  uintptr_t ms = (uintptr_t)arg;
  int rc = ac_sleep(ms);
  if (rc != 0) return rc;
  *result = (void *)ms;
  return (ms & 1) ? AC_EIO : 0;
}

struct group {
  ac_loop_t *loop;
  ac_task_t *kids[40];
  size_t n;
  int rc;
  size_t ndone;
  uintptr_t order[40];
  size_t norder;
  int unwound;
};

static void spawn_kids(struct group *g, const uintptr_t *ms, size_t n) {
  size_t i;
  g->n = n;
  for (i = 0; i < n; i++)
    ASSERT_OK(ac_task_spawn(g->loop, napper, (void *)ms[i], NULL, &g->kids[i]));
}

static void release_kids(struct group *g) {
  size_t i;
  for (i = 0; i < g->n; i++) ac_task_release(g->kids[i]);
}

static void run_main(struct group *g, ac_task_fn fn) {
  ac_task_t *t;
  ASSERT_OK(ac_task_spawn(g->loop, fn, g, NULL, &t));
  ASSERT_OK(ac_loop_run_until_done(g->loop, t));
  ASSERT_EQ(ac_task_state(t), AC_TASK_DONE);
  ac_task_release(t);
}

static int do_gather(void *arg, void **result) {
  struct group *g = arg;
  g->rc = ac_gather(g->kids, g->n);
  return 0;
}

TEST_IMPL(gather_all_done) {
  struct group g = {0};
  const uintptr_t ms[] = {20, 2, 10};
  void *r;
  size_t i;

  ASSERT_OK(ac_loop_new(&g.loop));
  spawn_kids(&g, ms, 3);
  run_main(&g, do_gather);
  ASSERT_OK(g.rc);
  for (i = 0; i < 3; i++) {
    ASSERT_OK(ac_task_result(g.kids[i], &r));
    ASSERT_UEQ((uintptr_t)r, ms[i]);
  }
  release_kids(&g);
  ASSERT_OK(ac_loop_close(g.loop));
}

TEST_IMPL(gather_reports_first_error_in_array_order) {
  struct group g = {0};
  const uintptr_t ms[] = {4, 21, 3, 2};
  int unreported = 0;

  ASSERT_OK(ac_loop_new(&g.loop));
  spawn_kids(&g, ms, 4);
  run_main(&g, do_gather);
  ASSERT_ERR(g.rc, AC_EIO); /* kids 1 and 2 failed; 2 first in time, 1 first in array */
  ASSERT_EQ(ac_task_state(g.kids[1]), AC_TASK_FAILED);
  ASSERT_EQ(ac_task_state(g.kids[3]), AC_TASK_DONE);
  (void)unreported;
  release_kids(&g); /* errors were retrieved by gather: nothing reported */
  ASSERT_OK(ac_loop_close(g.loop));
}

static int cancel_after(void *arg, void **result) {
  ac_task_t *victim = arg;
  int rc = ac_sleep(5);
  return rc != 0 ? rc : ac_task_cancel(victim);
}

TEST_IMPL(gather_cancelled_cancels_children) {
  struct group g = {0};
  const uintptr_t ms[] = {1000000, 2, 1000000};
  ac_task_t *t;

  ASSERT_OK(ac_loop_new(&g.loop));
  spawn_kids(&g, ms, 3);
  ASSERT_OK(ac_task_spawn(g.loop, do_gather, &g, NULL, &t));
  ASSERT_OK(ac_task_spawn(g.loop, cancel_after, t, NULL, NULL));
  ASSERT_OK(ac_loop_run(g.loop));
  ASSERT_ERR(g.rc, AC_ECANCELED);
  ASSERT_EQ(ac_task_state(g.kids[0]), AC_TASK_CANCELLED);
  ASSERT_EQ(ac_task_state(g.kids[1]), AC_TASK_DONE);
  ASSERT_EQ(ac_task_state(g.kids[2]), AC_TASK_CANCELLED);
  ac_task_release(t);
  release_kids(&g);
  ASSERT_OK(ac_loop_close(g.loop));
}

static ac_wait_mode_t wait_mode;
static uint64_t wait_timeout;

static int do_wait(void *arg, void **result) {
  struct group *g = arg;
  g->rc = ac_wait(g->kids, g->n, wait_mode, wait_timeout, &g->ndone);
  return 0;
}

static void cancel_kids(struct group *g) {
  size_t i;
  for (i = 0; i < g->n; i++)
    if (!ac_task_is_finished(g->kids[i])) ASSERT_OK(ac_task_cancel(g->kids[i]));
  ASSERT_OK(ac_loop_run(g->loop));
  for (i = 0; i < g->n; i++) (void)ac_task_error(g->kids[i]);
}

TEST_IMPL(wait_first_completed) {
  struct group g = {0};
  const uintptr_t ms[] = {1000000, 4, 1000000};

  ASSERT_OK(ac_loop_new(&g.loop));
  spawn_kids(&g, ms, 3);
  wait_mode = AC_WAIT_FIRST_COMPLETED;
  wait_timeout = AC_NO_TIMEOUT;
  run_main(&g, do_wait);
  ASSERT_OK(g.rc);
  ASSERT_EQ(g.ndone, 1);
  ASSERT_EQ(ac_task_state(g.kids[1]), AC_TASK_DONE);
  ASSERT_EQ(ac_task_state(g.kids[0]), AC_TASK_PENDING); /* nothing cancelled */
  cancel_kids(&g);
  release_kids(&g);
  ASSERT_OK(ac_loop_close(g.loop));
}

TEST_IMPL(wait_first_failed) {
  struct group g = {0};
  const uintptr_t ms[] = {2, 7, 1000000};

  ASSERT_OK(ac_loop_new(&g.loop));
  spawn_kids(&g, ms, 3);
  wait_mode = AC_WAIT_FIRST_FAILED;
  wait_timeout = AC_NO_TIMEOUT;
  run_main(&g, do_wait);
  ASSERT_OK(g.rc);
  ASSERT_EQ(g.ndone, 2);
  ASSERT_EQ(ac_task_state(g.kids[1]), AC_TASK_FAILED);
  cancel_kids(&g);
  release_kids(&g);
  ASSERT_OK(ac_loop_close(g.loop));
}

TEST_IMPL(wait_all_with_timeout) {
  struct group g = {0};
  const uintptr_t ms[] = {2, 1000000, 4};

  ASSERT_OK(ac_loop_new(&g.loop));
  spawn_kids(&g, ms, 3);
  wait_mode = AC_WAIT_ALL;
  wait_timeout = (uint64_t)(30 * ac_test_time_multiplier());
  run_main(&g, do_wait);
  ASSERT_ERR(g.rc, AC_ETIMEDOUT);
  ASSERT_EQ(g.ndone, 2);
  ASSERT_EQ(ac_task_state(g.kids[1]), AC_TASK_PENDING); /* not cancelled */
  cancel_kids(&g);
  release_kids(&g);
  ASSERT_OK(ac_loop_close(g.loop));
}

TEST_IMPL(wait_many_tasks_allocates_nodes) {
  struct group g = {0};
  uintptr_t ms[40];
  size_t i;

  for (i = 0; i < 40; i++) ms[i] = 2 * (i % 5) + 2; /* even: all succeed */
  ASSERT_OK(ac_loop_new(&g.loop));
  spawn_kids(&g, ms, 40);
  wait_mode = AC_WAIT_ALL;
  wait_timeout = AC_NO_TIMEOUT;
  run_main(&g, do_wait);
  ASSERT_OK(g.rc);
  ASSERT_EQ(g.ndone, 40);
  release_kids(&g);
  ASSERT_OK(ac_loop_close(g.loop));
}

static int cleanup_sleeper(void *arg, void **result) {
  struct group *g = arg;
  int rc = ac_sleep(1000000);
  if (rc == AC_ECANCELED && ac_sleep(2) == 0) g->unwound = 1; /* cleanup that awaits */
  return rc;
}

static int do_wait_for(void *arg, void **result) {
  struct group *g = arg;
  void *r = NULL;
  g->rc = ac_wait_for(g->kids[0], (uint64_t)(20 * ac_test_time_multiplier()), &r);
  if (g->rc == AC_ETIMEDOUT) {
    /* It has unwound before wait_for returned. */
    ASSERT_EQ(g->unwound, 1);
    ASSERT_EQ(ac_task_state(g->kids[0]), AC_TASK_CANCELLED);
  }
  g->ndone = (size_t)(uintptr_t)r;
  return 0;
}

TEST_IMPL(wait_for_timeout_cancels_and_waits_for_unwind) {
  struct group g = {0};

  ASSERT_OK(ac_loop_new(&g.loop));
  g.n = 1;
  ASSERT_OK(ac_task_spawn(g.loop, cleanup_sleeper, &g, NULL, &g.kids[0]));
  run_main(&g, do_wait_for);
  ASSERT_ERR(g.rc, AC_ETIMEDOUT);
  ASSERT_EQ(g.unwound, 1);
  release_kids(&g);
  ASSERT_OK(ac_loop_close(g.loop));
}

TEST_IMPL(wait_for_in_time_returns_result) {
  struct group g = {0};
  const uintptr_t ms[] = {4};

  ASSERT_OK(ac_loop_new(&g.loop));
  spawn_kids(&g, ms, 1);
  run_main(&g, do_wait_for);
  ASSERT_OK(g.rc);
  ASSERT_EQ(g.ndone, 4);
  release_kids(&g);
  ASSERT_OK(ac_loop_close(g.loop));
}

static int do_as_completed(void *arg, void **result) {
  struct group *g = arg;
  ac_as_completed_t it;
  ac_task_t *t;
  void *r;
  ac_as_completed_init(&it, g->kids, g->n, wait_timeout);
  while ((g->rc = ac_as_completed_next(&it, &t)) == 0) {
    (void)ac_task_result(t, &r);
    g->order[g->norder++] = (uintptr_t)r;
  }
  return 0;
}

TEST_IMPL(as_completed_yields_in_finishing_order) {
  struct group g = {0};
  const uintptr_t ms[] = {40, 10, 30, 20};

  ASSERT_OK(ac_loop_new(&g.loop));
  spawn_kids(&g, ms, 4);
  wait_timeout = AC_NO_TIMEOUT;
  run_main(&g, do_as_completed);
  ASSERT_ERR(g.rc, AC_EEOF);
  ASSERT_EQ(g.norder, 4);
  ASSERT_UEQ(g.order[0], 10);
  ASSERT_UEQ(g.order[1], 20);
  ASSERT_UEQ(g.order[2], 30);
  ASSERT_UEQ(g.order[3], 40);
  release_kids(&g);
  ASSERT_OK(ac_loop_close(g.loop));
}

TEST_IMPL(as_completed_timeout) {
  struct group g = {0};
  const uintptr_t ms[] = {1000000, 4};

  ASSERT_OK(ac_loop_new(&g.loop));
  spawn_kids(&g, ms, 2);
  wait_timeout = (uint64_t)(30 * ac_test_time_multiplier());
  run_main(&g, do_as_completed);
  ASSERT_ERR(g.rc, AC_ETIMEDOUT);
  ASSERT_EQ(g.norder, 1);
  ASSERT_UEQ(g.order[0], 4);
  cancel_kids(&g);
  release_kids(&g);
  ASSERT_OK(ac_loop_close(g.loop));
}
