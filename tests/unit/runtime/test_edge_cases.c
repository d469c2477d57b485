/*
 * Edge cases found by review: cancellations racing completions, a second
 * interrupt during a thread cancel, a program-owned signal handle at close.
 * Each was a bug (red before the fix in the same commit).
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "acrawl.h"
#include "runner.h"
#include "thread_gate.h"

/* ============ 1. ac_gather: a cancellation that arrives while the awaited
 * child finishes in the same turn is taken for the child's outcome and lost. */

struct rv_gather {
  ac_task_t *gatherer;
  ac_task_t *kids[2];
  ac_future_t *never;
  int rc;
  int returned;
};

static int rv_kid_cancels_gatherer(void *arg, void **result) {
  struct rv_gather *g = arg;
  (void)result;
  ASSERT_OK(ac_task_cancel(g->gatherer)); /* gatherer is suspended on us */
  return 0;                               /* ... and we finish right away */
}

static int rv_kid_waits_forever(void *arg, void **result) {
  struct rv_gather *g = arg;
  (void)result;
  return ac_future_await(g->never, NULL);
}

static int rv_gatherer(void *arg, void **result) {
  struct rv_gather *g = arg;
  (void)result;
  g->rc = ac_gather(g->kids, 2);
  g->returned = 1;
  return g->rc;
}

TEST_IMPL(edge_gather_cancel_racing_child_completion_is_not_lost) {
  ac_loop_t *loop;
  struct rv_gather g;
  int rc;

  memset(&g, 0, sizeof(g));
  ASSERT_OK(ac_loop_new(&loop));
  ASSERT_OK(ac_future_new(loop, &g.never));
  ASSERT_OK(ac_task_spawn(loop, rv_gatherer, &g, NULL, &g.gatherer));
  ASSERT_OK(ac_task_spawn(loop, rv_kid_cancels_gatherer, &g, NULL, &g.kids[0]));
  ASSERT_OK(ac_task_spawn(loop, rv_kid_waits_forever, &g, NULL, &g.kids[1]));
  rc = ac_loop_run_until_done(loop, g.gatherer);
  /* Contract: the gathering task was cancelled, so ac_gather returns
   * AC_ECANCELED at once and cancels the unfinished kids[1].
   * Before the fix: the cancel is consumed as kids[0]'s "error", gather goes on
   * awaiting kids[1] forever: run_until_done reports AC_EDEADLK. */
  ASSERT_OK(rc);
  ASSERT_EQ(g.returned, 1);
  ASSERT_ERR(g.rc, AC_ECANCELED);
  ASSERT_OK(ac_loop_run(loop));
  ASSERT_EQ(ac_task_state(g.kids[1]), AC_TASK_CANCELLED);
  ac_task_release(g.gatherer);
  ac_task_release(g.kids[0]);
  ac_task_release(g.kids[1]);
  ac_future_release(g.never);
  ASSERT_OK(ac_loop_close(loop));
}

/* ============ 2. ac_wait_for loses the waiter's cancellation. */

static int rv_quick(void *arg, void **result) {
  (void)arg;
  *result = (void *)(uintptr_t)7;
  return 0;
}

struct rv_wf {
  ac_task_t *waiter;
  ac_task_t *child;
  int rc1, rc2;
};

/* 2a: a pending cancellation and a child that is already finished. */
static int rv_wf_pending_waiter(void *arg, void **result) {
  struct rv_wf *w = arg;
  void *r = NULL;
  (void)result;
  ASSERT_OK(ac_sleep(1));
  ASSERT(ac_task_is_finished(w->child));
  ASSERT_OK(ac_task_cancel(ac_task_current()));
  w->rc1 = ac_wait_for(w->child, 1000, &r);
  w->rc2 = ac_sleep(1);
  return 0;
}

TEST_IMPL(edge_wait_for_pending_cancel_is_delivered) {
  ac_loop_t *loop;
  struct rv_wf w;

  memset(&w, 0, sizeof(w));
  ASSERT_OK(ac_loop_new(&loop));
  ASSERT_OK(ac_task_spawn(loop, rv_quick, NULL, NULL, &w.child));
  ASSERT_OK(ac_task_spawn(loop, rv_wf_pending_waiter, &w, NULL, &w.waiter));
  ASSERT_OK(ac_loop_run_until_done(loop, w.waiter));
  /* Contract: a pending cancellation is delivered by the next awaiting call
   * (or at least by a later one). Before the fix: rc1 == 0, rc2 == 0: never. */
  ASSERT(w.rc1 == AC_ECANCELED || w.rc2 == AC_ECANCELED);
  ac_task_release(w.waiter);
  ac_task_release(w.child);
  ASSERT_OK(ac_loop_close(loop));
}

/* 2b: the waiter is cancelled while it waits, and the child finishes in the
 * same turn (here: the child itself cancels the waiter, then returns). */
static int rv_child_cancels_waiter(void *arg, void **result) {
  struct rv_wf *w = arg;
  ASSERT_OK(ac_task_cancel(w->waiter));
  *result = (void *)(uintptr_t)7;
  return 0;
}

static int rv_wf_inflight_waiter(void *arg, void **result) {
  struct rv_wf *w = arg;
  void *r = NULL;
  (void)result;
  w->rc1 = ac_wait_for(w->child, 1000, &r);
  w->rc2 = ac_sleep(1);
  return 0;
}

TEST_IMPL(edge_wait_for_cancel_racing_child_completion_is_delivered) {
  ac_loop_t *loop;
  struct rv_wf w;

  memset(&w, 0, sizeof(w));
  ASSERT_OK(ac_loop_new(&loop));
  ASSERT_OK(ac_task_spawn(loop, rv_wf_inflight_waiter, &w, NULL, &w.waiter));
  ASSERT_OK(ac_task_spawn(loop, rv_child_cancels_waiter, &w, NULL, &w.child));
  ASSERT_OK(ac_loop_run_until_done(loop, w.waiter));
  /* Before the fix: rc1 == 0 (the child's result), rc2 == 0: the cancel is lost. */
  ASSERT(w.rc1 == AC_ECANCELED || w.rc2 == AC_ECANCELED);
  ac_task_release(w.waiter);
  ac_task_release(w.child);
  ASSERT_OK(ac_loop_close(loop));
}

/* 2c: the waiter is cancelled while ac_wait_for waits for the timed-out
 * child to unwind: the cancel ends that wait, then is swallowed. */
static int rv_slow_unwinder(void *arg, void **result) {
  int rc = ac_sleep(10000);
  (void)arg;
  (void)result;
  if (rc == AC_ECANCELED) (void)ac_sleep(100); /* cleanup that takes a while */
  return rc;
}

static int rv_wf_unwind_waiter(void *arg, void **result) {
  struct rv_wf *w = arg;
  (void)result;
  w->rc1 = ac_wait_for(w->child, 10, NULL);
  w->rc2 = ac_sleep(1);
  return 0;
}

static int rv_canceller(void *arg, void **result) {
  struct rv_wf *w = arg;
  (void)result;
  ASSERT_OK(ac_sleep(40)); /* after the 10 ms timeout, during the unwind */
  ASSERT_OK(ac_task_cancel(w->waiter));
  return 0;
}

TEST_IMPL(edge_wait_for_cancel_during_unwind_is_delivered) {
  ac_loop_t *loop;
  struct rv_wf w;

  memset(&w, 0, sizeof(w));
  ASSERT_OK(ac_loop_new(&loop));
  ASSERT_OK(ac_task_spawn(loop, rv_slow_unwinder, NULL, NULL, &w.child));
  ASSERT_OK(ac_task_spawn(loop, rv_wf_unwind_waiter, &w, NULL, &w.waiter));
  ASSERT_OK(ac_task_spawn(loop, rv_canceller, &w, NULL, NULL));
  ASSERT_OK(ac_loop_run(loop));
  /* Before the fix: rc1 == AC_ETIMEDOUT, rc2 == 0: the cancel is lost. */
  ASSERT(w.rc1 == AC_ECANCELED || w.rc2 == AC_ECANCELED);
  ac_task_release(w.waiter);
  ac_task_release(w.child);
  ASSERT_OK(ac_loop_close(loop));
}

/* ============ 3. ac_run_in_thread: a second interrupt while the first one's
 * uv_cancel is in flight (AC__ABORT_LATER) overwrites w->interrupt; a cancel
 * followed by a scope expiry in the same loop turn loses the cancel. */

struct rv_thr {
  struct thread_gate gate;
  int nblockers;
  ac_task_t *victim;
  uv_timer_t foreign;       /* the program's own timer: cancels the victim */
  uint64_t scope_due_ns;    /* uv_hrtime() by which the victim's scope is due */
  atomic_int victim_ran;
  int cancel_rc;
  int rc, rc2, leave_rc;
  int done;
};

static void rv_victim_work(void *arg) {
  struct rv_thr *x = arg;
  atomic_store(&x->victim_ran, 1);
}

static void rv_on_foreign(uv_timer_t *h) {
  struct rv_thr *x = h->data;
  /* Runs in libuv's timer phase. acrawl's timers wake through a timerfd at
   * their microsecond: wait here until the victim's scope is due, so that
   * its expiry is already pending when the cancel starts; the poll phase of
   * this same turn then sees the timerfd (ready first) before the thread
   * pool's cancellation notice. */
  while (uv_hrtime() < x->scope_due_ns) {
  }
  x->cancel_rc = ac_task_cancel(x->victim);
}

static int rv_thr_victim(void *arg, void **result) {
  struct rv_thr *x = arg;
  ac_timeout_t to;
  (void)result;
  x->foreign.data = x;
  ASSERT_OK(uv_timer_start(&x->foreign, rv_on_foreign, 50, 0));
  /* Due a little after the foreign timer (which waits for it), never
   * before: libuv's timer counts from the loop's cached millisecond. */
  ASSERT_OK(ac_timeout_enter(&to, 52));
  x->scope_due_ns = uv_hrtime() + 52u * 1000000u + 100000u;
  x->rc = ac_run_in_thread(rv_victim_work, x); /* queued: every worker is busy */
  x->leave_rc = ac_timeout_leave(&to);
  x->rc2 = ac_sleep(1);
  return x->rc;
}

static int rv_thr_controller(void *arg, void **result) {
  struct rv_thr *x = arg;
  ac_loop_t *loop = ac_task_loop(ac_task_current());
  int i, spins = 0;
  (void)result;
  for (i = 0; i < x->nblockers; i++)
    ASSERT_OK(ac_task_spawn(loop, thread_gate_task, &x->gate, NULL, NULL));
  while (atomic_load(&x->gate.started) < x->nblockers) {
    ASSERT_LT(spins++, 20000);
    ASSERT_OK(ac_sleep(1));
  }
  ASSERT_OK(ac_task_spawn(loop, rv_thr_victim, x, NULL, &x->victim));
  (void)ac_task_await(x->victim, NULL);
  thread_gate_open(&x->gate);
  spins = 0;
  while (atomic_load(&x->gate.finished) < x->nblockers) {
    ASSERT_LT(spins++, 20000);
    ASSERT_OK(ac_sleep(1));
  }
  uv_close((uv_handle_t *)&x->foreign, NULL);
  x->done = 1;
  return 0;
}

TEST_IMPL(edge_thread_cancel_then_scope_expiry_keeps_cancel) {
  ac_loop_t *loop;
  struct rv_thr x;

  memset(&x, 0, sizeof(x));
  thread_gate_init(&x.gate);
  x.nblockers = thread_pool_size();
  ASSERT_OK(ac_loop_new(&loop));
  ASSERT_OK(uv_timer_init(ac_loop_uv(loop), &x.foreign));
  ASSERT_OK(ac_task_spawn(loop, rv_thr_controller, &x, NULL, NULL));
  ASSERT_OK(ac_loop_run(loop));
  thread_gate_open(&x.gate);
  ASSERT_EQ(x.done, 1);
  ASSERT_OK(x.cancel_rc);
  ASSERT_EQ(atomic_load(&x.victim_ran), 0); /* it was dropped while queued */
  ASSERT_ERR(x.leave_rc, AC_ETIMEDOUT);
  /* Both interrupts happened; the cancel must surface somewhere.
   * Before the fix: rc == AC_ETIMEDOUT and rc2 == 0: the cancel is lost. */
  ASSERT(x.rc == AC_ECANCELED || x.rc2 == AC_ECANCELED);
  ac_task_release(x.victim);
  thread_gate_destroy(&x.gate);
  ASSERT_OK(ac_loop_close(loop));
}

/* ============ 4. ac_loop_close: a signal handle of the program's own (added
 * through ac_loop_uv) is not counted as foreign, so close goes ahead, closes
 * the loop's handles, and then blocks forever in uv_run (ref'd handle). */

static void rv_on_alarm(int sig) {
  static const char msg[] =
      "review: ac_loop_close blocked with a program-owned uv_signal_t open\n";
  (void)sig;
  (void)!write(2, msg, sizeof(msg) - 1);
  abort();
}

static void rv_on_usr2(uv_signal_t *h, int signum) {
  (void)h;
  (void)signum;
}

TEST_IMPL(edge_loop_close_refuses_with_program_signal_handle) {
  ac_loop_t *loop;
  uv_signal_t sig;

  ASSERT_OK(ac_loop_new(&loop));
  ASSERT_OK(uv_signal_init(ac_loop_uv(loop), &sig));
  ASSERT_OK(uv_signal_start(&sig, rv_on_usr2, SIGUSR2));
  signal(SIGALRM, rv_on_alarm);
  alarm(3);
  /* Contract: AC_EBUSY, nothing freed, the loop stays usable. */
  ASSERT_ERR(ac_loop_close(loop), AC_EBUSY);
  alarm(0);
  uv_close((uv_handle_t *)&sig, NULL);
  ASSERT_OK(ac_loop_run(loop));
  ASSERT_OK(ac_loop_close(loop));
}

/* 2d: an expired timeout scope and a child that is already finished: the
 * awaiting call returns the child's result instead of AC_ETIMEDOUT. */
static int rv_wf_expired_waiter(void *arg, void **result) {
  struct rv_wf *w = arg;
  ac_timeout_t to;
  void *r = NULL;
  (void)result;
  ASSERT_OK(ac_timeout_enter(&to, 1));
  ASSERT_ERR(ac_sleep(50), AC_ETIMEDOUT); /* the scope has expired */
  ASSERT(ac_task_is_finished(w->child));
  w->rc1 = ac_wait_for(w->child, 1000, &r);
  w->rc2 = ac_task_await(w->child, &r); /* for comparison: AC_ETIMEDOUT */
  ASSERT_ERR(ac_timeout_leave(&to), AC_ETIMEDOUT);
  return 0;
}

TEST_IMPL(edge_wait_for_in_expired_scope_times_out) {
  ac_loop_t *loop;
  struct rv_wf w;

  memset(&w, 0, sizeof(w));
  ASSERT_OK(ac_loop_new(&loop));
  ASSERT_OK(ac_task_spawn(loop, rv_quick, NULL, NULL, &w.child));
  ASSERT_OK(ac_task_spawn(loop, rv_wf_expired_waiter, &w, NULL, &w.waiter));
  ASSERT_OK(ac_loop_run_until_done(loop, w.waiter));
  ASSERT_ERR(w.rc2, AC_ETIMEDOUT);
  /* Contract: every await in an expired scope returns AC_ETIMEDOUT, also when
   * it would not have had to wait. Before the fix: 0 and the child's result. */
  ASSERT_ERR(w.rc1, AC_ETIMEDOUT);
  ac_task_release(w.waiter);
  ac_task_release(w.child);
  ASSERT_OK(ac_loop_close(loop));
}

/* Cancelling twice before the task has seen the first cancellation is one
 * cancellation: its cleanup may still await. */
struct twice {
  int rc, cleanup_rc;
};

static int edge_sleeper_with_cleanup(void *arg, void **result) {
  struct twice *w = arg;
  (void)result;
  w->rc = ac_sleep(1000000);
  w->cleanup_rc = ac_sleep(1);
  return w->rc;
}

static int edge_cancel_twice(void *arg, void **result) {
  (void)result;
  ASSERT_OK(ac_task_cancel(arg));
  ASSERT_OK(ac_task_cancel(arg)); /* woken, not yet run: the same cancellation */
  return 0;
}

TEST_IMPL(edge_cancel_twice_before_delivery_is_one_cancellation) {
  ac_loop_t *loop;
  ac_task_t *t;
  struct twice w = {0, 0};

  ASSERT_OK(ac_loop_new(&loop));
  ASSERT_OK(ac_task_spawn(loop, edge_sleeper_with_cleanup, &w, NULL, &t));
  ASSERT_OK(ac_task_spawn(loop, edge_cancel_twice, t, NULL, NULL));
  ASSERT_OK(ac_loop_run(loop));
  ASSERT_ERR(w.rc, AC_ECANCELED);
  ASSERT_OK(w.cleanup_rc);
  ASSERT_EQ(ac_task_state(t), AC_TASK_CANCELLED);
  ac_task_release(t);
  ASSERT_OK(ac_loop_close(loop));
}
