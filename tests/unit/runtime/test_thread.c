/*
 * ac_run_in_thread: the work runs on a pool thread while the loop goes on,
 * many calls at once, and cancellation (and timeouts) both while the work is
 * queued and while it runs.
 *
 * The tests that need a busy pool occupy every libuv worker with work that
 * blocks on a gate they control, and always open the gate before they end.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "acrawl.h"
#include "runner.h"
#include "thread_gate.h"

#define THREAD_YIELD_UNTIL(cond)                                              \
  do {                                                                       \
    int spins_ = 0;                                                          \
    while (!(cond)) {                                                        \
      ASSERT_LT(spins_++, 20000);                                            \
      ASSERT_OK(ac_sleep(1));                                                \
    }                                                                        \
  } while (0)

static void thread_sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

/* ------------------------------------------- another thread, loop goes on */

struct thread_other {
  pthread_t loop_thread;
  pthread_t work_thread;
  atomic_int ticks;          /* advanced by a sleeping task on the loop */
  atomic_int work_saw_ticks; /* ticks the work waited for and saw */
  atomic_int work_ran;
  int ticks_when_returned;
  int rc;
  int ticker_done;
};

static void thread_other_work(void *arg) {
  struct thread_other *o = arg;
  int i;
  o->work_thread = pthread_self();
  /* Block this thread until the loop has made progress without us: the
   * loop must go on running tasks meanwhile (bounded: about 20 s). */
  for (i = 0; i < 20000 && atomic_load(&o->ticks) < 3; i++) thread_sleep_ms(1);
  atomic_store(&o->work_saw_ticks, atomic_load(&o->ticks));
  atomic_store(&o->work_ran, 1);
}

static int thread_other_caller(void *arg, void **result) {
  struct thread_other *o = arg;
  o->rc = ac_run_in_thread(thread_other_work, o);
  o->ticks_when_returned = atomic_load(&o->ticks);
  return o->rc;
}

static int thread_other_ticker(void *arg, void **result) {
  struct thread_other *o = arg;
  /* Tick until the work is over. */
  while (!atomic_load(&o->work_ran)) {
    ASSERT_OK(ac_sleep(5));
    atomic_fetch_add(&o->ticks, 1);
    ASSERT_LT(atomic_load(&o->ticks), 100000);
  }
  o->ticker_done = 1;
  return 0;
}

TEST_IMPL(thread_work_runs_on_another_thread_while_loop_runs) {
  ac_loop_t *loop;
  struct thread_other o;

  memset(&o, 0, sizeof(o));
  o.loop_thread = pthread_self();
  ASSERT_OK(ac_loop_new(&loop));
  ASSERT_OK(ac_task_spawn(loop, thread_other_caller, &o, NULL, NULL));
  ASSERT_OK(ac_task_spawn(loop, thread_other_ticker, &o, NULL, NULL));
  ASSERT_OK(ac_loop_run(loop));
  ASSERT_OK(o.rc);
  ASSERT_EQ(atomic_load(&o.work_ran), 1);
  ASSERT(!pthread_equal(o.work_thread, o.loop_thread));
  ASSERT_GE(atomic_load(&o.work_saw_ticks), 3); /* the loop ticked while work blocked */
  ASSERT_GE(o.ticks_when_returned, 3);
  ASSERT_EQ(o.ticker_done, 1);
  ASSERT_OK(ac_loop_close(loop));
}

/* ------------------------------------------------------ fifty at once */

#define THREAD_NCALLS 50

struct thread_many {
  pthread_t loop_thread;
  atomic_int ran;
  atomic_int on_loop_thread;
  int returned;
  int rc[THREAD_NCALLS];
  int flag[THREAD_NCALLS];
};

struct thread_many_arg {
  struct thread_many *m;
  int index;
};

static void thread_many_work(void *arg) {
  struct thread_many_arg *a = arg;
  if (pthread_equal(pthread_self(), a->m->loop_thread)) atomic_fetch_add(&a->m->on_loop_thread, 1);
  thread_sleep_ms(1);
  a->m->flag[a->index]++; /* each slot written by one work only */
  atomic_fetch_add(&a->m->ran, 1);
}

static int thread_many_caller(void *arg, void **result) {
  struct thread_many_arg *a = arg;
  a->m->rc[a->index] = ac_run_in_thread(thread_many_work, a);
  a->m->returned++;
  return a->m->rc[a->index];
}

TEST_IMPL(thread_fifty_concurrent_calls_complete) {
  ac_loop_t *loop;
  struct thread_many m;
  struct thread_many_arg args[THREAD_NCALLS];
  int i;

  memset(&m, 0, sizeof(m));
  m.loop_thread = pthread_self();
  ASSERT_OK(ac_loop_new(&loop));
  for (i = 0; i < THREAD_NCALLS; i++) {
    args[i].m = &m;
    args[i].index = i;
    ASSERT_OK(ac_task_spawn(loop, thread_many_caller, &args[i], NULL, NULL));
  }
  ASSERT_OK(ac_loop_run(loop));
  ASSERT_EQ(m.returned, THREAD_NCALLS);
  ASSERT_EQ(atomic_load(&m.ran), THREAD_NCALLS);
  ASSERT_EQ(atomic_load(&m.on_loop_thread), 0);
  for (i = 0; i < THREAD_NCALLS; i++) {
    ASSERT_OK(m.rc[i]);
    ASSERT_EQ(m.flag[i], 1);
  }
  ASSERT_OK(ac_loop_close(loop));
}

/* -------------------------------------------------- cancel while queued */

struct thread_queued {
  struct thread_gate gate;
  int nblockers;
  ac_task_t *victim;
  atomic_int victim_ran;
  int victim_calling;
  int victim_rc;
  int victim_rc2;
  int interrupt;            /* AC_ECANCELED: cancel; AC_ETIMEDOUT: timeout scope */
  int leave_rc;
  int ctl_done;
};

static void thread_victim_work(void *arg) {
  struct thread_queued *q = arg;
  atomic_store(&q->victim_ran, 1);
}

static int thread_queued_victim(void *arg, void **result) {
  struct thread_queued *q = arg;
  ac_timeout_t to;
  if (q->interrupt == AC_ETIMEDOUT) ASSERT_OK(ac_timeout_enter(&to, 20));
  q->victim_calling = 1;
  q->victim_rc = ac_run_in_thread(thread_victim_work, q);
  if (q->interrupt == AC_ETIMEDOUT) q->leave_rc = ac_timeout_leave(&to);
  q->victim_rc2 = ac_sleep(1); /* the interruption was delivered once */
  return q->victim_rc;
}

static int thread_queued_controller(void *arg, void **result) {
  struct thread_queued *q = arg;
  ac_loop_t *loop = ac_task_loop(ac_task_current());
  int i;

  /* Occupy every worker. */
  for (i = 0; i < q->nblockers; i++)
    ASSERT_OK(ac_task_spawn(loop, thread_gate_task, &q->gate, NULL, NULL));
  THREAD_YIELD_UNTIL(atomic_load(&q->gate.started) == q->nblockers);
  /* Now the victim's work can only wait in the pool's queue. */
  ASSERT_OK(ac_task_spawn(loop, thread_queued_victim, q, NULL, &q->victim));
  THREAD_YIELD_UNTIL(q->victim_calling);
  ASSERT_OK(ac_sleep(2));
  ASSERT_EQ(ac_task_is_finished(q->victim), 0);
  if (q->interrupt == AC_ECANCELED) ASSERT_OK(ac_task_cancel(q->victim));
  THREAD_YIELD_UNTIL(ac_task_is_finished(q->victim));
  /* It came back while every worker was still blocked. */
  ASSERT_EQ(atomic_load(&q->gate.finished), 0);
  ASSERT_EQ(atomic_load(&q->victim_ran), 0);
  thread_gate_open(&q->gate);
  THREAD_YIELD_UNTIL(atomic_load(&q->gate.finished) == q->nblockers);
  q->ctl_done = 1;
  return 0;
}

static void thread_queued_run(int interrupt) {
  ac_loop_t *loop;
  struct thread_queued q;

  memset(&q, 0, sizeof(q));
  thread_gate_init(&q.gate);
  q.nblockers = thread_pool_size();
  q.interrupt = interrupt;
  ASSERT_OK(ac_loop_new(&loop));
  ASSERT_OK(ac_task_spawn(loop, thread_queued_controller, &q, NULL, NULL));
  ASSERT_OK(ac_loop_run(loop));
  thread_gate_open(&q.gate); /* in any case */
  ASSERT_EQ(q.ctl_done, 1);
  ASSERT_ERR(q.victim_rc, interrupt);
  if (interrupt == AC_ETIMEDOUT) ASSERT_ERR(q.leave_rc, AC_ETIMEDOUT);
  ASSERT_OK(q.victim_rc2);
  /* The dropped work never ran, not even once the pool was free. */
  ASSERT_EQ(atomic_load(&q.victim_ran), 0);
  ASSERT_EQ(ac_task_state(q.victim), interrupt == AC_ECANCELED ? AC_TASK_CANCELLED
                                                               : AC_TASK_FAILED);
  ASSERT_ERR(ac_task_error(q.victim), interrupt);
  ac_task_release(q.victim);
  ASSERT_EQ(atomic_load(&q.gate.finished), q.nblockers);
  ASSERT_OK(ac_loop_close(loop));
  thread_gate_destroy(&q.gate);
}

TEST_IMPL(thread_cancel_while_queued_drops_work) { thread_queued_run(AC_ECANCELED); }
TEST_IMPL(thread_timeout_while_queued_drops_work) { thread_queued_run(AC_ETIMEDOUT); }

/* ------------------------------------------------- cancel while running */

struct thread_running {
  struct thread_gate gate;
  uint64_t scope_ms;        /* the victim's timeout scope */
  ac_task_t *victim;
  int interrupt;
  int rc;
  int rc2;
  int leave_rc;
  int finished_when_returned;
  int returned;
  int returned_before_open;
};

static int thread_running_victim(void *arg, void **result) {
  struct thread_running *r = arg;
  ac_timeout_t to;
  if (r->interrupt == AC_ETIMEDOUT) ASSERT_OK(ac_timeout_enter(&to, r->scope_ms));
  r->rc = ac_run_in_thread(thread_gate_work, &r->gate);
  r->finished_when_returned = atomic_load(&r->gate.finished);
  r->returned = 1;
  r->rc2 = ac_sleep(1); /* the interruption arrives here */
  if (r->interrupt == AC_ETIMEDOUT) r->leave_rc = ac_timeout_leave(&to);
  return r->rc2;
}

static int thread_running_controller(void *arg, void **result) {
  struct thread_running *r = arg;
  THREAD_YIELD_UNTIL(atomic_load(&r->gate.started) == 1);
  if (r->interrupt == AC_ECANCELED) {
    ASSERT_OK(ac_task_cancel(r->victim));
    ASSERT_OK(ac_sleep(5));
  } else {
    /* The scope began before the work started: this is past its end. */
    ASSERT_OK(ac_sleep(r->scope_ms + 10));
  }
  /* The work is running: the task must wait for it, whatever happened. */
  r->returned_before_open = r->returned;
  ASSERT_EQ(ac_task_is_finished(r->victim), 0);
  thread_gate_open(&r->gate);
  return 0;
}

static void thread_running_run(int interrupt) {
  ac_loop_t *loop;
  struct thread_running r;

  memset(&r, 0, sizeof(r));
  thread_gate_init(&r.gate);
  r.interrupt = interrupt;
  /* Long enough for an idle pool thread to pick the work up first. */
  r.scope_ms = (uint64_t)(50 * ac_test_time_multiplier());
  ASSERT_OK(ac_loop_new(&loop));
  ASSERT_OK(ac_task_spawn(loop, thread_running_victim, &r, NULL, &r.victim));
  ASSERT_OK(ac_task_spawn(loop, thread_running_controller, &r, NULL, NULL));
  ASSERT_OK(ac_loop_run(loop));
  thread_gate_open(&r.gate); /* in any case */
  ASSERT_EQ(r.returned_before_open, 0);
  ASSERT_OK(r.rc);                          /* the work ran: 0 */
  ASSERT_EQ(r.finished_when_returned, 1);   /* ... and was over */
  ASSERT_ERR(r.rc2, interrupt);             /* delivered at the next await */
  if (interrupt == AC_ETIMEDOUT) ASSERT_ERR(r.leave_rc, AC_ETIMEDOUT);
  ASSERT_EQ(ac_task_state(r.victim), interrupt == AC_ECANCELED ? AC_TASK_CANCELLED
                                                               : AC_TASK_FAILED);
  ASSERT_ERR(ac_task_error(r.victim), interrupt);
  ac_task_release(r.victim);
  ASSERT_OK(ac_loop_close(loop));
  thread_gate_destroy(&r.gate);
}

TEST_IMPL(thread_cancel_while_running_waits_for_work) { thread_running_run(AC_ECANCELED); }
TEST_IMPL(thread_timeout_while_running_waits_for_work) { thread_running_run(AC_ETIMEDOUT); }

/* ---------------------------------------------------------- misuse */

static void thread_never(void *arg) { atomic_store((atomic_int *)arg, 1); }

static int thread_null_work(void *arg, void **result) {
  return ac_run_in_thread(NULL, arg);
}

TEST_IMPL(thread_outside_task_and_null_work) {
  ac_loop_t *loop;
  ac_task_t *t;
  atomic_int ran;

  atomic_init(&ran, 0);
  ASSERT_OK(ac_loop_new(&loop));
  ASSERT_ERR(ac_run_in_thread(thread_never, &ran), AC_ENOTASK);
  ASSERT_OK(ac_task_spawn(loop, thread_null_work, NULL, NULL, &t));
  ASSERT_OK(ac_loop_run(loop));
  ASSERT_ERR(ac_task_error(t), AC_EINVAL);
  ac_task_release(t);
  ASSERT_EQ(atomic_load(&ran), 0);
  ASSERT_OK(ac_loop_close(loop));
}
