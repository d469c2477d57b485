/*
 * Semaphores: counts, strict FIFO service, no barging, cancellation and
 * timeouts of a waiting acquire, freeing while busy, calls outside a task.
 */
#include <stdint.h>

#include "acrawl.h"
#include "runner.h"

#define SEM_NWAITERS 8

/* Spin on ac_yield until cond holds; fails the test if it never does. */
#define SEM_YIELD_UNTIL(cond)                                                 \
  do {                                                                       \
    int spins_ = 0;                                                          \
    while (!(cond)) {                                                        \
      ASSERT_LT(spins_++, 10000);                                            \
      ASSERT_OK(ac_yield());                                                 \
    }                                                                        \
  } while (0)

/* ------------------------------------------------------------ counts */

static int sem_counts_body(void *arg, void **result) {
  ac_sem_t *s = arg;

  ASSERT_EQ(ac_sem_value(s), 3);
  ASSERT_OK(ac_sem_acquire(s));
  ASSERT_OK(ac_sem_acquire(s));
  ASSERT_EQ(ac_sem_value(s), 1);
  ASSERT_EQ(ac_sem_waiters(s), 0);
  ASSERT_OK(ac_sem_try_acquire(s));
  ASSERT_EQ(ac_sem_value(s), 0);
  ASSERT_ERR(ac_sem_try_acquire(s), AC_EAGAIN);
  ASSERT_EQ(ac_sem_value(s), 0); /* a failed try takes nothing */
  ac_sem_release(s);
  ASSERT_EQ(ac_sem_value(s), 1);
  ASSERT_OK(ac_sem_acquire(s)); /* a free permit: no wait */
  ASSERT_EQ(ac_sem_value(s), 0);
  ac_sem_release(s);
  ac_sem_release(s);
  ac_sem_release(s);
  ASSERT_EQ(ac_sem_value(s), 3);
  ASSERT_EQ(ac_sem_waiters(s), 0);
  return 0;
}

TEST_IMPL(sem_acquire_release_counts) {
  ac_loop_t *loop;
  ac_sem_t *s = (ac_sem_t *)&s; /* must be reset on failure */
  ac_task_t *t;

  ASSERT_OK(ac_loop_new(&loop));
  ASSERT_ERR(ac_sem_new(loop, 1, NULL), AC_EINVAL);
  ASSERT_ERR(ac_sem_new(NULL, 1, &s), AC_EINVAL);
  ASSERT(s == NULL);
  ASSERT_OK(ac_sem_new(loop, 3, &s));
  ASSERT(s != NULL);
  ASSERT_OK(ac_task_spawn(loop, sem_counts_body, s, NULL, &t));
  ASSERT_OK(ac_loop_run(loop));
  ASSERT_EQ(ac_task_state(t), AC_TASK_DONE);
  ASSERT_EQ(ac_sem_value(s), 3);
  ac_task_release(t);
  ASSERT_OK(ac_sem_free(s));
  ASSERT_OK(ac_sem_free(NULL));
  ASSERT_OK(ac_loop_close(loop));
}

/* -------------------------------------------------------------- FIFO */

struct sem_fifo {
  ac_sem_t *sem;
  int arrival[SEM_NWAITERS]; /* waiter index, in the order they started waiting */
  int narrival;
  int order[SEM_NWAITERS];   /* waiter index, in the order they got a permit */
  int norder;
  int rc[SEM_NWAITERS];
};

struct sem_fifo_arg {
  struct sem_fifo *f;
  int index;
};

static int sem_fifo_waiter(void *arg, void **result) {
  struct sem_fifo_arg *a = arg;
  struct sem_fifo *f = a->f;
  int i;
  /* Arrive in the reverse of spawn order, so that FIFO is not spawn order. */
  for (i = 0; i < SEM_NWAITERS - a->index; i++) ASSERT_OK(ac_yield());
  f->arrival[f->narrival++] = a->index;
  f->rc[a->index] = ac_sem_acquire(f->sem);
  f->order[f->norder++] = a->index;
  return f->rc[a->index];
}

static int sem_fifo_releaser(void *arg, void **result) {
  struct sem_fifo *f = arg;
  int k;

  SEM_YIELD_UNTIL(ac_sem_waiters(f->sem) == SEM_NWAITERS);
  ASSERT_EQ(f->narrival, SEM_NWAITERS);
  ASSERT_EQ(f->norder, 0);
  /* One permit at a time: exactly the oldest waiter gets it. */
  for (k = 0; k < SEM_NWAITERS / 2; k++) {
    ac_sem_release(f->sem);
    ASSERT_EQ(ac_sem_value(f->sem), 0);  /* handed over, not counted */
    ASSERT_EQ(ac_sem_waiters(f->sem), SEM_NWAITERS - k - 1);
    ASSERT_EQ(f->norder, k);             /* the waiter resumes later, from the loop */
    ASSERT_OK(ac_yield());
    ASSERT_EQ(f->norder, k + 1);
    ASSERT_EQ(f->order[k], f->arrival[k]);
  }
  /* The rest at once: they resume in arrival order too. */
  for (; k < SEM_NWAITERS; k++) ac_sem_release(f->sem);
  ASSERT_EQ(ac_sem_waiters(f->sem), 0);
  ASSERT_EQ(ac_sem_value(f->sem), 0);
  return 0;
}

TEST_IMPL(sem_fifo_wakes_waiters_in_arrival_order) {
  ac_loop_t *loop;
  struct sem_fifo f;
  struct sem_fifo_arg args[SEM_NWAITERS];
  int i;

  memset(&f, 0, sizeof(f));
  ASSERT_OK(ac_loop_new(&loop));
  ASSERT_OK(ac_sem_new(loop, 0, &f.sem));
  for (i = 0; i < SEM_NWAITERS; i++) {
    args[i].f = &f;
    args[i].index = i;
    ASSERT_OK(ac_task_spawn(loop, sem_fifo_waiter, &args[i], NULL, NULL));
  }
  ASSERT_OK(ac_task_spawn(loop, sem_fifo_releaser, &f, NULL, NULL));
  ASSERT_OK(ac_loop_run(loop));
  ASSERT_EQ(f.norder, SEM_NWAITERS);
  for (i = 0; i < SEM_NWAITERS; i++) {
    /* The arrival order really was the reverse of spawn order. */
    ASSERT_EQ(f.arrival[i], SEM_NWAITERS - 1 - i);
    ASSERT_EQ(f.order[i], f.arrival[i]);
    ASSERT_OK(f.rc[i]);
  }
  ASSERT_EQ(ac_sem_value(f.sem), 0);
  ASSERT_OK(ac_sem_free(f.sem));
  ASSERT_OK(ac_loop_close(loop));
}

/* --------------------------------------------------------- no barging */

struct sem_barge {
  ac_sem_t *sem;
  int released;        /* the releaser has released */
  int waiter_resumed;  /* the first waiter came back from its acquire */
  int waiter_rc;
  int barger_try_rc;
  int barger_try_before_resume; /* the barger's try ran in the window */
  int releaser_try_rc;
  int barger_rc;
  char order[4];
  int norder;
};

static int sem_barge_waiter(void *arg, void **result) {
  struct sem_barge *b = arg;
  b->waiter_rc = ac_sem_acquire(b->sem);
  b->waiter_resumed = 1;
  b->order[b->norder++] = 'W';
  ASSERT_OK(ac_sleep(5)); /* hold the permit a little */
  ac_sem_release(b->sem);
  return b->waiter_rc;
}

static int sem_barge_barger(void *arg, void **result) {
  struct sem_barge *b = arg;
  SEM_YIELD_UNTIL(b->released);
  /* The permit was released but belongs to the waiter now. */
  b->barger_try_before_resume = !b->waiter_resumed;
  b->barger_try_rc = ac_sem_try_acquire(b->sem);
  b->barger_rc = ac_sem_acquire(b->sem); /* queues behind, gets it after W */
  b->order[b->norder++] = 'B';
  ac_sem_release(b->sem);
  return b->barger_rc;
}

static int sem_barge_releaser(void *arg, void **result) {
  struct sem_barge *b = arg;
  SEM_YIELD_UNTIL(ac_sem_waiters(b->sem) == 1);
  ac_sem_release(b->sem);
  b->released = 1;
  ASSERT_EQ(ac_sem_value(b->sem), 0);
  ASSERT_EQ(ac_sem_waiters(b->sem), 0);
  b->releaser_try_rc = ac_sem_try_acquire(b->sem);
  return 0;
}

TEST_IMPL(sem_no_barging_after_handoff) {
  ac_loop_t *loop;
  struct sem_barge b;

  memset(&b, 0, sizeof(b));
  ASSERT_OK(ac_loop_new(&loop));
  ASSERT_OK(ac_sem_new(loop, 0, &b.sem));
  ASSERT_OK(ac_task_spawn(loop, sem_barge_waiter, &b, NULL, NULL));
  ASSERT_OK(ac_task_spawn(loop, sem_barge_barger, &b, NULL, NULL));
  ASSERT_OK(ac_task_spawn(loop, sem_barge_releaser, &b, NULL, NULL));
  ASSERT_OK(ac_loop_run(loop));
  ASSERT_ERR(b.releaser_try_rc, AC_EAGAIN);
  ASSERT_EQ(b.barger_try_before_resume, 1); /* the test did hit the window */
  ASSERT_ERR(b.barger_try_rc, AC_EAGAIN);
  ASSERT_OK(b.waiter_rc);
  ASSERT_OK(b.barger_rc);
  ASSERT_EQ(b.norder, 2);
  ASSERT_EQ(b.order[0], 'W');
  ASSERT_EQ(b.order[1], 'B');
  ASSERT_EQ(ac_sem_value(b.sem), 1);
  ASSERT_EQ(ac_sem_waiters(b.sem), 0);
  ASSERT_OK(ac_sem_free(b.sem));
  ASSERT_OK(ac_loop_close(loop));
}

/* ------------------------------------------------------ cancellation */

struct sem_cancel {
  ac_sem_t *sem;
  ac_task_t *tasks[3];
  int rc[3];
  int order[3];
  int norder;
  int started;
};

struct sem_cancel_arg {
  struct sem_cancel *c;
  int index;
};

static int sem_cancel_waiter(void *arg, void **result) {
  struct sem_cancel_arg *a = arg;
  struct sem_cancel *c = a->c;
  c->started++;
  c->rc[a->index] = ac_sem_acquire(c->sem);
  if (c->rc[a->index] == 0) c->order[c->norder++] = a->index;
  return c->rc[a->index];
}

static int sem_cancel_controller(void *arg, void **result) {
  struct sem_cancel *c = arg;

  SEM_YIELD_UNTIL(ac_sem_waiters(c->sem) == 3);
  ASSERT_OK(ac_task_cancel(c->tasks[1]));
  /* The cancelled waiter left the list at once. */
  ASSERT_EQ(ac_sem_waiters(c->sem), 2);
  ASSERT_EQ(ac_sem_value(c->sem), 0);
  SEM_YIELD_UNTIL(ac_task_is_finished(c->tasks[1]));
  ASSERT_ERR(c->rc[1], AC_ECANCELED);
  ASSERT_EQ(ac_sem_value(c->sem), 0); /* it took no permit */
  ASSERT_EQ(c->norder, 0);

  ac_sem_release(c->sem); /* to waiter 0 */
  ASSERT_EQ(ac_sem_waiters(c->sem), 1);
  SEM_YIELD_UNTIL(c->norder == 1);
  ac_sem_release(c->sem); /* to waiter 2, not the cancelled one */
  ASSERT_EQ(ac_sem_waiters(c->sem), 0);
  ASSERT_EQ(ac_sem_value(c->sem), 0);
  SEM_YIELD_UNTIL(c->norder == 2);
  ac_sem_release(c->sem); /* nobody waits: counted */
  ASSERT_EQ(ac_sem_value(c->sem), 1);
  return 0;
}

TEST_IMPL(sem_cancel_waiter_passes_permit_to_next) {
  ac_loop_t *loop;
  struct sem_cancel c;
  struct sem_cancel_arg args[3];
  int i;

  memset(&c, 0, sizeof(c));
  ASSERT_OK(ac_loop_new(&loop));
  ASSERT_OK(ac_sem_new(loop, 0, &c.sem));
  for (i = 0; i < 3; i++) {
    args[i].c = &c;
    args[i].index = i;
    ASSERT_OK(ac_task_spawn(loop, sem_cancel_waiter, &args[i], NULL, &c.tasks[i]));
  }
  ASSERT_OK(ac_task_spawn(loop, sem_cancel_controller, &c, NULL, NULL));
  ASSERT_OK(ac_loop_run(loop));
  ASSERT_EQ(c.norder, 2);
  ASSERT_EQ(c.order[0], 0);
  ASSERT_EQ(c.order[1], 2);
  ASSERT_OK(c.rc[0]);
  ASSERT_ERR(c.rc[1], AC_ECANCELED);
  ASSERT_OK(c.rc[2]);
  ASSERT_EQ(ac_task_state(c.tasks[0]), AC_TASK_DONE);
  ASSERT_EQ(ac_task_state(c.tasks[1]), AC_TASK_CANCELLED);
  ASSERT_EQ(ac_task_state(c.tasks[2]), AC_TASK_DONE);
  ASSERT_EQ(ac_sem_value(c.sem), 1);
  for (i = 0; i < 3; i++) ac_task_release(c.tasks[i]);
  ASSERT_OK(ac_sem_free(c.sem));
  ASSERT_OK(ac_loop_close(loop));
}

/* A cancel that arrives after a release handed the permit to the waiter, but
 * before the waiter ran again: the permit must not be lost. Either the
 * acquire succeeds and the cancellation is delivered at the next await, or
 * the acquire reports AC_ECANCELED and the permit goes back. */
struct sem_late_cancel {
  ac_sem_t *sem;
  ac_task_t *waiter;
  int rc;
  int rc2;
  size_t value_after_acquire;
};

static int sem_late_cancel_waiter(void *arg, void **result) {
  struct sem_late_cancel *l = arg;
  l->rc = ac_sem_acquire(l->sem);
  l->value_after_acquire = ac_sem_value(l->sem);
  l->rc2 = ac_sleep(1);
  if (l->rc == 0) ac_sem_release(l->sem);
  return l->rc2;
}

static int sem_late_cancel_controller(void *arg, void **result) {
  struct sem_late_cancel *l = arg;
  SEM_YIELD_UNTIL(ac_sem_waiters(l->sem) == 1);
  ac_sem_release(l->sem);
  ASSERT_OK(ac_task_cancel(l->waiter));
  return 0;
}

TEST_IMPL(sem_cancel_after_handoff_loses_no_permit) {
  ac_loop_t *loop;
  struct sem_late_cancel l;

  memset(&l, 0, sizeof(l));
  ASSERT_OK(ac_loop_new(&loop));
  ASSERT_OK(ac_sem_new(loop, 0, &l.sem));
  ASSERT_OK(ac_task_spawn(loop, sem_late_cancel_waiter, &l, NULL, &l.waiter));
  ASSERT_OK(ac_task_spawn(loop, sem_late_cancel_controller, &l, NULL, NULL));
  ASSERT_OK(ac_loop_run(loop));
  if (l.rc == 0) {
    ASSERT_EQ(l.value_after_acquire, 0);
    ASSERT_ERR(l.rc2, AC_ECANCELED); /* delivered at the next await */
  } else {
    ASSERT_ERR(l.rc, AC_ECANCELED);
    ASSERT_EQ(l.value_after_acquire, 1); /* the permit went back */
    ASSERT_OK(l.rc2);                    /* delivered once */
  }
  ASSERT_EQ(ac_task_state(l.waiter), AC_TASK_CANCELLED);
  ASSERT_EQ(ac_sem_value(l.sem), 1);
  ASSERT_EQ(ac_sem_waiters(l.sem), 0);
  ac_task_release(l.waiter);
  ASSERT_OK(ac_sem_free(l.sem));
  ASSERT_OK(ac_loop_close(loop));
}

/* A cancellation already pending when acquire is called is delivered even
 * though a permit is free, and no permit is taken. */
static int sem_pending_cancel_body(void *arg, void **result) {
  ac_sem_t *s = arg;
  int rc;
  ASSERT_OK(ac_task_cancel(ac_task_current()));
  rc = ac_sem_acquire(s);
  ASSERT_ERR(rc, AC_ECANCELED);
  ASSERT_EQ(ac_sem_value(s), 1);
  ASSERT_OK(ac_sem_acquire(s)); /* delivered once */
  ASSERT_EQ(ac_sem_value(s), 0);
  ac_sem_release(s);
  return 0;
}

TEST_IMPL(sem_pending_cancel_delivered_without_wait) {
  ac_loop_t *loop;
  ac_sem_t *s;
  ac_task_t *t;

  ASSERT_OK(ac_loop_new(&loop));
  ASSERT_OK(ac_sem_new(loop, 1, &s));
  ASSERT_OK(ac_task_spawn(loop, sem_pending_cancel_body, s, NULL, &t));
  ASSERT_OK(ac_loop_run(loop));
  ASSERT_EQ(ac_task_state(t), AC_TASK_DONE);
  ASSERT_EQ(ac_sem_value(s), 1);
  ac_task_release(t);
  ASSERT_OK(ac_sem_free(s));
  ASSERT_OK(ac_loop_close(loop));
}

/* ----------------------------------------------------------- timeouts */

struct sem_timeout {
  ac_sem_t *sem;
  int first_rc;
  int first_done;
  int rc;
  int leave_rc;
  int started;
};

static int sem_timeout_first(void *arg, void **result) {
  struct sem_timeout *st = arg;
  st->first_rc = ac_sem_acquire(st->sem); /* no timeout: waits for a release */
  st->first_done = 1;
  return st->first_rc;
}

static int sem_timeout_timed(void *arg, void **result) {
  struct sem_timeout *st = arg;
  ac_timeout_t to;
  st->started = 1;
  ASSERT_OK(ac_timeout_enter(&to, 10));
  st->rc = ac_sem_acquire(st->sem);
  st->leave_rc = ac_timeout_leave(&to);
  return 0;
}

TEST_IMPL(sem_acquire_timeout_takes_no_permit) {
  ac_loop_t *loop;
  struct sem_timeout st;
  ac_task_t *first, *timed;

  memset(&st, 0, sizeof(st));
  ASSERT_OK(ac_loop_new(&loop));
  ASSERT_OK(ac_sem_new(loop, 0, &st.sem));
  ASSERT_OK(ac_task_spawn(loop, sem_timeout_first, &st, NULL, &first));
  ASSERT_OK(ac_task_spawn(loop, sem_timeout_timed, &st, NULL, &timed));
  ASSERT_OK(ac_loop_run_until_done(loop, timed));
  ASSERT_EQ(st.started, 1);
  ASSERT_ERR(st.rc, AC_ETIMEDOUT);
  ASSERT_ERR(st.leave_rc, AC_ETIMEDOUT);
  /* The timed-out waiter is gone; the first one still waits. */
  ASSERT_EQ(ac_sem_waiters(st.sem), 1);
  ASSERT_EQ(ac_sem_value(st.sem), 0);
  ASSERT_EQ(st.first_done, 0);
  ac_sem_release(st.sem); /* from outside a task: allowed, it never suspends */
  ASSERT_EQ(ac_sem_waiters(st.sem), 0);
  ASSERT_EQ(ac_sem_value(st.sem), 0);
  ASSERT_OK(ac_loop_run(loop));
  ASSERT_EQ(st.first_done, 1);
  ASSERT_OK(st.first_rc);
  ASSERT_EQ(ac_sem_value(st.sem), 0);
  ac_task_release(first);
  ac_task_release(timed);
  ASSERT_OK(ac_sem_free(st.sem));
  ASSERT_OK(ac_loop_close(loop));
}

/* An expired scope is delivered by acquire even when a permit is free. */
static int sem_expired_scope_body(void *arg, void **result) {
  ac_sem_t *s = arg;
  ac_timeout_t to;
  ASSERT_OK(ac_timeout_enter(&to, 5));
  ASSERT_ERR(ac_sleep(1000), AC_ETIMEDOUT);
  ASSERT_ERR(ac_sem_acquire(s), AC_ETIMEDOUT);
  ASSERT_EQ(ac_sem_value(s), 1);
  ASSERT_ERR(ac_timeout_leave(&to), AC_ETIMEDOUT);
  ASSERT_OK(ac_sem_acquire(s)); /* outside the scope: fine */
  ASSERT_EQ(ac_sem_value(s), 0);
  ac_sem_release(s);
  return 0;
}

TEST_IMPL(sem_expired_scope_delivered_without_wait) {
  ac_loop_t *loop;
  ac_sem_t *s;
  ac_task_t *t;

  ASSERT_OK(ac_loop_new(&loop));
  ASSERT_OK(ac_sem_new(loop, 1, &s));
  ASSERT_OK(ac_task_spawn(loop, sem_expired_scope_body, s, NULL, &t));
  ASSERT_OK(ac_loop_run(loop));
  ASSERT_EQ(ac_task_state(t), AC_TASK_DONE);
  ASSERT_EQ(ac_sem_value(s), 1);
  ac_task_release(t);
  ASSERT_OK(ac_sem_free(s));
  ASSERT_OK(ac_loop_close(loop));
}

/* ------------------------------------------------- free, outside tasks */

static int sem_block_once(void *arg, void **result) {
  ac_sem_t *s = arg;
  int rc = ac_sem_acquire(s);
  if (rc == 0) ac_sem_release(s);
  return rc;
}

TEST_IMPL(sem_free_with_waiters_is_busy) {
  ac_loop_t *loop;
  ac_sem_t *s;
  ac_task_t *t;

  ASSERT_OK(ac_loop_new(&loop));
  ASSERT_OK(ac_sem_new(loop, 0, &s));
  ASSERT_OK(ac_task_spawn(loop, sem_block_once, s, NULL, &t));
  ASSERT_OK(ac_loop_run(loop)); /* returns: the waiter cannot progress */
  ASSERT_EQ(ac_task_state(t), AC_TASK_PENDING);
  ASSERT_EQ(ac_sem_waiters(s), 1);
  ASSERT_ERR(ac_sem_free(s), AC_EBUSY);
  /* Nothing was freed: the semaphore still works. */
  ASSERT_EQ(ac_sem_waiters(s), 1);
  ac_sem_release(s);
  ASSERT_OK(ac_loop_run(loop));
  ASSERT_EQ(ac_task_state(t), AC_TASK_DONE);
  ASSERT_EQ(ac_sem_value(s), 1);
  ac_task_release(t);
  ASSERT_OK(ac_sem_free(s));
  ASSERT_OK(ac_loop_close(loop));
}

TEST_IMPL(sem_acquire_outside_task_is_enotask) {
  ac_loop_t *loop;
  ac_sem_t *s;
  ac_timeout_t to;

  ASSERT_OK(ac_loop_new(&loop));
  ASSERT_OK(ac_sem_new(loop, 1, &s));
  ASSERT_ERR(ac_sem_acquire(s), AC_ENOTASK);
  ASSERT_EQ(ac_sem_value(s), 1);
  ASSERT_ERR(ac_sem_acquire(s), AC_ENOTASK); /* also with no permit involved */
  ASSERT_ERR(ac_timeout_enter(&to, 10), AC_ENOTASK);
  /* The non-awaiting calls work anywhere. */
  ASSERT_OK(ac_sem_try_acquire(s));
  ASSERT_EQ(ac_sem_value(s), 0);
  ac_sem_release(s);
  ASSERT_EQ(ac_sem_value(s), 1);
  ASSERT_OK(ac_loop_run(loop));
  ASSERT_OK(ac_sem_free(s));
  ASSERT_OK(ac_loop_close(loop));
}
