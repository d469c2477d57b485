/*
 * Events: set wakes every waiter, a set event does not block, clear,
 * cancellation and timeouts of a waiter, freeing while busy.
 */
#include <stdint.h>

#include "acrawl.h"
#include "runner.h"

#define EVENT_NWAITERS 5

#define EVENT_YIELD_UNTIL(cond)                                               \
  do {                                                                       \
    int spins_ = 0;                                                          \
    while (!(cond)) {                                                        \
      ASSERT_LT(spins_++, 10000);                                            \
      ASSERT_OK(ac_yield());                                                 \
    }                                                                        \
  } while (0)

struct event_state {
  ac_event_t *ev;
  int waiting;   /* tasks that entered ac_event_wait */
  int woken;     /* tasks that came back from it */
  int rc[EVENT_NWAITERS];
  ac_task_t *tasks[EVENT_NWAITERS];
};

struct event_arg {
  struct event_state *s;
  int index;
};

static int event_waiter(void *arg, void **result) {
  struct event_arg *a = arg;
  struct event_state *s = a->s;
  s->waiting++;
  s->rc[a->index] = ac_event_wait(s->ev);
  s->woken++;
  return s->rc[a->index];
}

/* --------------------------------------------------------------- set */

static int event_setter(void *arg, void **result) {
  struct event_state *s = arg;
  EVENT_YIELD_UNTIL(s->waiting == EVENT_NWAITERS);
  ASSERT_OK(ac_yield());
  ASSERT_EQ(s->woken, 0); /* nobody passes an unset event */
  ASSERT_EQ(ac_event_is_set(s->ev), 0);
  ac_event_set(s->ev);
  ASSERT_EQ(ac_event_is_set(s->ev), 1);
  ASSERT_EQ(s->woken, 0); /* woken tasks resume from the loop, not inside set */
  ASSERT_OK(ac_yield());
  ASSERT_EQ(s->woken, EVENT_NWAITERS);
  return 0;
}

TEST_IMPL(event_set_wakes_every_waiter) {
  ac_loop_t *loop;
  struct event_state s;
  struct event_arg args[EVENT_NWAITERS];
  ac_task_t *setter;
  int i;

  memset(&s, 0, sizeof(s));
  ASSERT_OK(ac_loop_new(&loop));
  ASSERT_ERR(ac_event_new(loop, NULL), AC_EINVAL);
  ASSERT_OK(ac_event_new(loop, &s.ev));
  ASSERT_EQ(ac_event_is_set(s.ev), 0);
  for (i = 0; i < EVENT_NWAITERS; i++) {
    args[i].s = &s;
    args[i].index = i;
    ASSERT_OK(ac_task_spawn(loop, event_waiter, &args[i], NULL, &s.tasks[i]));
  }
  ASSERT_OK(ac_task_spawn(loop, event_setter, &s, NULL, &setter));
  ASSERT_OK(ac_loop_run(loop));
  ASSERT_EQ(ac_task_state(setter), AC_TASK_DONE);
  ASSERT_EQ(s.woken, EVENT_NWAITERS);
  for (i = 0; i < EVENT_NWAITERS; i++) {
    ASSERT_OK(s.rc[i]);
    ASSERT_EQ(ac_task_state(s.tasks[i]), AC_TASK_DONE);
    ac_task_release(s.tasks[i]);
  }
  ac_task_release(setter);
  ASSERT_OK(ac_event_free(s.ev));
  ASSERT_OK(ac_event_free(NULL));
  ASSERT_OK(ac_loop_close(loop));
}

/* --------------------------------------------------- already set */

struct event_at_once {
  ac_event_t *ev;
  int step;              /* progress of the first task */
  int seen_by_second;    /* the first task's progress when the second ran */
  int rc1, rc2;
};

static int event_at_once_first(void *arg, void **result) {
  struct event_at_once *e = arg;
  e->rc1 = ac_event_wait(e->ev);
  e->step++;
  e->rc2 = ac_event_wait(e->ev);
  e->step++;
  return 0;
}

static int event_at_once_second(void *arg, void **result) {
  struct event_at_once *e = arg;
  e->seen_by_second = e->step;
  return 0;
}

TEST_IMPL(event_wait_on_set_event_returns_at_once) {
  ac_loop_t *loop;
  struct event_at_once e;

  memset(&e, 0, sizeof(e));
  ASSERT_OK(ac_loop_new(&loop));
  ASSERT_OK(ac_event_new(loop, &e.ev));
  ac_event_set(e.ev); /* with no waiter: just the flag */
  ASSERT_EQ(ac_event_is_set(e.ev), 1);
  ASSERT_OK(ac_task_spawn(loop, event_at_once_first, &e, NULL, NULL));
  ASSERT_OK(ac_task_spawn(loop, event_at_once_second, &e, NULL, NULL));
  ASSERT_OK(ac_loop_run(loop));
  ASSERT_OK(e.rc1);
  ASSERT_OK(e.rc2);
  /* Both waits returned without giving the second task a turn. */
  ASSERT_EQ(e.seen_by_second, 2);
  ASSERT_EQ(ac_event_is_set(e.ev), 1); /* waiting does not consume the flag */
  ASSERT_OK(ac_event_free(e.ev));
  ASSERT_OK(ac_loop_close(loop));
}

/* -------------------------------------------------------------- clear */

struct event_clear {
  ac_event_t *ev;
  int waiting;
  int passes;
  int rc[2];
};

static int event_clear_waiter(void *arg, void **result) {
  struct event_clear *c = arg;
  c->waiting = 1;
  c->rc[0] = ac_event_wait(c->ev);
  c->passes++;
  c->waiting = 2;
  c->rc[1] = ac_event_wait(c->ev); /* cleared again: must block */
  c->passes++;
  return 0;
}

static int event_clear_controller(void *arg, void **result) {
  struct event_clear *c = arg;
  int i;

  EVENT_YIELD_UNTIL(c->waiting == 1);
  /* Set then clear at once: the waiter was woken by the set and passes. */
  ac_event_set(c->ev);
  ac_event_clear(c->ev);
  ASSERT_EQ(ac_event_is_set(c->ev), 0);
  EVENT_YIELD_UNTIL(c->waiting == 2);
  ASSERT_EQ(c->passes, 1);
  ASSERT_OK(c->rc[0]);
  /* Cleared: the second wait blocks. */
  for (i = 0; i < 5; i++) ASSERT_OK(ac_yield());
  ASSERT_OK(ac_sleep(5));
  ASSERT_EQ(c->passes, 1);
  ac_event_set(c->ev);
  EVENT_YIELD_UNTIL(c->passes == 2);
  ASSERT_OK(c->rc[1]);
  return 0;
}

TEST_IMPL(event_clear_makes_waiters_block_again) {
  ac_loop_t *loop;
  struct event_clear c;
  ac_task_t *ctl;

  memset(&c, 0, sizeof(c));
  ASSERT_OK(ac_loop_new(&loop));
  ASSERT_OK(ac_event_new(loop, &c.ev));
  ac_event_set(c.ev);
  ac_event_clear(c.ev);
  ASSERT_EQ(ac_event_is_set(c.ev), 0);
  ASSERT_OK(ac_task_spawn(loop, event_clear_waiter, &c, NULL, NULL));
  ASSERT_OK(ac_task_spawn(loop, event_clear_controller, &c, NULL, &ctl));
  ASSERT_OK(ac_loop_run(loop));
  ASSERT_EQ(ac_task_state(ctl), AC_TASK_DONE);
  ASSERT_EQ(c.passes, 2);
  ASSERT_EQ(ac_event_is_set(c.ev), 1);
  ac_task_release(ctl);
  ASSERT_OK(ac_event_free(c.ev));
  ASSERT_OK(ac_loop_close(loop));
}

/* -------------------------------------------------------- cancellation */

static int event_cancel_controller(void *arg, void **result) {
  struct event_state *s = arg;
  EVENT_YIELD_UNTIL(s->waiting == 2);
  ASSERT_OK(ac_task_cancel(s->tasks[0]));
  EVENT_YIELD_UNTIL(ac_task_is_finished(s->tasks[0]));
  ASSERT_ERR(s->rc[0], AC_ECANCELED);
  ASSERT_EQ(s->woken, 1);
  ASSERT_EQ(ac_event_is_set(s->ev), 0); /* the cancel did not touch the flag */
  ASSERT_OK(ac_sleep(2));
  ASSERT_EQ(s->woken, 1);               /* the other waiter still waits */
  ac_event_set(s->ev);
  EVENT_YIELD_UNTIL(s->woken == 2);
  ASSERT_OK(s->rc[1]);
  return 0;
}

TEST_IMPL(event_cancel_waiter) {
  ac_loop_t *loop;
  struct event_state s;
  struct event_arg args[2];
  ac_task_t *ctl;
  int i;

  memset(&s, 0, sizeof(s));
  ASSERT_OK(ac_loop_new(&loop));
  ASSERT_OK(ac_event_new(loop, &s.ev));
  for (i = 0; i < 2; i++) {
    args[i].s = &s;
    args[i].index = i;
    ASSERT_OK(ac_task_spawn(loop, event_waiter, &args[i], NULL, &s.tasks[i]));
  }
  ASSERT_OK(ac_task_spawn(loop, event_cancel_controller, &s, NULL, &ctl));
  ASSERT_OK(ac_loop_run(loop));
  ASSERT_EQ(ac_task_state(ctl), AC_TASK_DONE);
  ASSERT_EQ(ac_task_state(s.tasks[0]), AC_TASK_CANCELLED);
  ASSERT_EQ(ac_task_state(s.tasks[1]), AC_TASK_DONE);
  ASSERT_EQ(s.woken, 2);
  ac_task_release(s.tasks[0]);
  ac_task_release(s.tasks[1]);
  ac_task_release(ctl);
  ASSERT_OK(ac_event_free(s.ev));
  ASSERT_OK(ac_loop_close(loop));
}

/* A pending cancellation wins over an event that is already set. */
static int event_pending_cancel_body(void *arg, void **result) {
  ac_event_t *ev = arg;
  ASSERT_OK(ac_task_cancel(ac_task_current()));
  ASSERT_ERR(ac_event_wait(ev), AC_ECANCELED);
  ASSERT_OK(ac_event_wait(ev)); /* delivered once */
  return 0;
}

TEST_IMPL(event_pending_cancel_beats_set_flag) {
  ac_loop_t *loop;
  ac_event_t *ev;
  ac_task_t *t;

  ASSERT_OK(ac_loop_new(&loop));
  ASSERT_OK(ac_event_new(loop, &ev));
  ac_event_set(ev);
  ASSERT_OK(ac_task_spawn(loop, event_pending_cancel_body, ev, NULL, &t));
  ASSERT_OK(ac_loop_run(loop));
  ASSERT_EQ(ac_task_state(t), AC_TASK_DONE);
  ac_task_release(t);
  ASSERT_OK(ac_event_free(ev));
  ASSERT_OK(ac_loop_close(loop));
}

/* ------------------------------------------------ timeouts, outside */

struct event_timeout {
  ac_event_t *ev;
  int rc;
  int leave_rc;
};

static int event_timeout_body(void *arg, void **result) {
  struct event_timeout *e = arg;
  ac_timeout_t to;
  ASSERT_OK(ac_timeout_enter(&to, 10));
  e->rc = ac_event_wait(e->ev);
  e->leave_rc = ac_timeout_leave(&to);
  return 0;
}

TEST_IMPL(event_wait_timeout_and_outside_task) {
  ac_loop_t *loop;
  struct event_timeout e;
  ac_task_t *t;

  memset(&e, 0, sizeof(e));
  ASSERT_OK(ac_loop_new(&loop));
  ASSERT_OK(ac_event_new(loop, &e.ev));
  ASSERT_ERR(ac_event_wait(e.ev), AC_ENOTASK);
  ac_event_set(e.ev);
  ASSERT_ERR(ac_event_wait(e.ev), AC_ENOTASK); /* even when it would not wait */
  ac_event_clear(e.ev);
  ASSERT_OK(ac_task_spawn(loop, event_timeout_body, &e, NULL, &t));
  ASSERT_OK(ac_loop_run(loop));
  ASSERT_ERR(e.rc, AC_ETIMEDOUT);
  ASSERT_ERR(e.leave_rc, AC_ETIMEDOUT);
  ASSERT_EQ(ac_event_is_set(e.ev), 0);
  ASSERT_OK(ac_event_free(e.ev)); /* the timed-out waiter left the list */
  ac_task_release(t);
  ASSERT_OK(ac_loop_close(loop));
}

TEST_IMPL(event_free_with_waiters_is_busy) {
  ac_loop_t *loop;
  struct event_state s;
  struct event_arg arg;

  memset(&s, 0, sizeof(s));
  ASSERT_OK(ac_loop_new(&loop));
  ASSERT_OK(ac_event_new(loop, &s.ev));
  arg.s = &s;
  arg.index = 0;
  ASSERT_OK(ac_task_spawn(loop, event_waiter, &arg, NULL, &s.tasks[0]));
  ASSERT_OK(ac_loop_run(loop)); /* returns: the waiter cannot progress */
  ASSERT_EQ(s.waiting, 1);
  ASSERT_EQ(s.woken, 0);
  ASSERT_ERR(ac_event_free(s.ev), AC_EBUSY);
  ac_event_set(s.ev); /* still usable */
  ASSERT_OK(ac_loop_run(loop));
  ASSERT_EQ(s.woken, 1);
  ASSERT_OK(s.rc[0]);
  ac_task_release(s.tasks[0]);
  ASSERT_OK(ac_event_free(s.ev));
  ASSERT_OK(ac_loop_close(loop));
}
