/*
 * Futures: settling and states, awaiting (already settled, several awaiters,
 * cancelled awaiter, timeout scope), done callbacks, and reference counting.
 */
#include <stdint.h>
#include <stdlib.h>

#include "acrawl.h"
#include "runner.h"

#define FUTURE_YIELD_UNTIL(cond)                                              \
  do {                                                                       \
    int spins_ = 0;                                                          \
    while (!(cond)) {                                                        \
      ASSERT_LT(spins_++, 10000);                                            \
      ASSERT_OK(ac_yield());                                                 \
    }                                                                        \
  } while (0)

/* ---------------------------------------------------- states, settling */

TEST_IMPL(future_resolve_reject_cancel_states) {
  ac_loop_t *loop;
  ac_future_t *res, *rej, *can;
  int x = 42;
  void *value = NULL;

  ASSERT_OK(ac_loop_new(&loop));
  ASSERT_ERR(ac_future_new(loop, NULL), AC_EINVAL);
  ASSERT_OK(ac_future_new(loop, &res));
  ASSERT_OK(ac_future_new(loop, &rej));
  ASSERT_OK(ac_future_new(loop, &can));

  ASSERT_EQ(ac_future_state(res), AC_FUTURE_PENDING);
  ASSERT_ERR(ac_future_result(res, &value), AC_EINPROGRESS);
  ASSERT_OK(ac_future_resolve(res, &x));
  ASSERT_EQ(ac_future_state(res), AC_FUTURE_RESOLVED);
  ASSERT_OK(ac_future_result(res, &value));
  ASSERT(value == &x);
  ASSERT_OK(ac_future_result(res, NULL)); /* value is optional */

  ASSERT_OK(ac_future_reject(rej, AC_EIO));
  ASSERT_EQ(ac_future_state(rej), AC_FUTURE_REJECTED);
  value = &value;
  ASSERT_ERR(ac_future_result(rej, &value), AC_EIO);
  ASSERT(value == &value); /* untouched */

  ASSERT_OK(ac_future_cancel(can));
  ASSERT_EQ(ac_future_state(can), AC_FUTURE_CANCELLED);
  ASSERT_ERR(ac_future_result(can, NULL), AC_ECANCELED);

  /* Settled once: every later settle is refused and changes nothing. */
  ASSERT_ERR(ac_future_cancel(res), AC_EINVAL);
  ASSERT_ERR(ac_future_reject(res, AC_EIO), AC_EINVAL);
  ASSERT_ERR(ac_future_resolve(rej, &x), AC_EINVAL);
  ASSERT_ERR(ac_future_cancel(rej), AC_EINVAL);
  ASSERT_ERR(ac_future_resolve(can, &x), AC_EINVAL);
  ASSERT_ERR(ac_future_reject(can, AC_EIO), AC_EINVAL);
  ASSERT_EQ(ac_future_state(res), AC_FUTURE_RESOLVED);
  ASSERT_EQ(ac_future_state(rej), AC_FUTURE_REJECTED);
  ASSERT_EQ(ac_future_state(can), AC_FUTURE_CANCELLED);
  ASSERT_ERR(ac_future_result(rej, NULL), AC_EIO);

  ac_future_release(res);
  ac_future_release(rej);
  ac_future_release(can);
  ASSERT_OK(ac_loop_close(loop));
}

TEST_IMPL(future_resolve_twice_is_einval) {
  ac_loop_t *loop;
  ac_future_t *f;
  int a = 1, b = 2;
  void *value = NULL;

  ASSERT_OK(ac_loop_new(&loop));
  ASSERT_OK(ac_future_new(loop, &f));
  ASSERT_OK(ac_future_resolve(f, &a));
  ASSERT_ERR(ac_future_resolve(f, &b), AC_EINVAL);
  ASSERT_OK(ac_future_result(f, &value));
  ASSERT(value == &a); /* the first value stays */
  ac_future_release(f);
  ASSERT_OK(ac_loop_close(loop));
}

TEST_IMPL(future_reject_with_non_negative_is_einval) {
  ac_loop_t *loop;
  ac_future_t *f;

  ASSERT_OK(ac_loop_new(&loop));
  ASSERT_OK(ac_future_new(loop, &f));
  ASSERT_ERR(ac_future_reject(f, 0), AC_EINVAL);
  ASSERT_ERR(ac_future_reject(f, 5), AC_EINVAL);
  ASSERT_EQ(ac_future_state(f), AC_FUTURE_PENDING); /* still settleable */
  ASSERT_OK(ac_future_reject(f, AC_ETIMEDOUT));
  ASSERT_ERR(ac_future_result(f, NULL), AC_ETIMEDOUT);
  ac_future_release(f);
  ASSERT_OK(ac_loop_close(loop));
}

/* ------------------------------------------------------------ await */

struct future_settled {
  ac_future_t *res, *rej, *can;
  int step;             /* progress of the awaiting task */
  int seen_by_second;
  int rc_res, rc_rej, rc_can;
  void *value;
};

static int future_settled_first(void *arg, void **result) {
  struct future_settled *s = arg;
  s->rc_res = ac_future_await(s->res, &s->value);
  s->step++;
  s->rc_rej = ac_future_await(s->rej, NULL);
  s->step++;
  s->rc_can = ac_future_await(s->can, NULL);
  s->step++;
  return 0;
}

static int future_settled_second(void *arg, void **result) {
  struct future_settled *s = arg;
  s->seen_by_second = s->step;
  return 0;
}

TEST_IMPL(future_await_already_settled_returns_at_once) {
  ac_loop_t *loop;
  struct future_settled s;
  int x = 7;

  memset(&s, 0, sizeof(s));
  ASSERT_OK(ac_loop_new(&loop));
  ASSERT_OK(ac_future_new(loop, &s.res));
  ASSERT_OK(ac_future_new(loop, &s.rej));
  ASSERT_OK(ac_future_new(loop, &s.can));
  ASSERT_OK(ac_future_resolve(s.res, &x));
  ASSERT_OK(ac_future_reject(s.rej, AC_EPIPE));
  ASSERT_OK(ac_future_cancel(s.can));
  ASSERT_OK(ac_task_spawn(loop, future_settled_first, &s, NULL, NULL));
  ASSERT_OK(ac_task_spawn(loop, future_settled_second, &s, NULL, NULL));
  ASSERT_OK(ac_loop_run(loop));
  ASSERT_OK(s.rc_res);
  ASSERT(s.value == &x);
  ASSERT_ERR(s.rc_rej, AC_EPIPE);
  ASSERT_ERR(s.rc_can, AC_ECANCELED);
  ASSERT_EQ(s.seen_by_second, 3); /* no await gave the other task a turn */
  ac_future_release(s.res);
  ac_future_release(s.rej);
  ac_future_release(s.can);
  ASSERT_OK(ac_loop_close(loop));
}

#define FUTURE_NAWAITERS 6

struct future_many {
  ac_future_t *f;
  int waiting;
  int woken;
  int rc[FUTURE_NAWAITERS];
  void *value[FUTURE_NAWAITERS];
  int settle_with;  /* 0: resolve, else reject with this */
};

struct future_many_arg {
  struct future_many *m;
  int index;
};

static int future_many_awaiter(void *arg, void **result) {
  struct future_many_arg *a = arg;
  struct future_many *m = a->m;
  m->waiting++;
  m->rc[a->index] = ac_future_await(m->f, &m->value[a->index]);
  m->woken++;
  return 0;
}

static int future_many_settler(void *arg, void **result) {
  struct future_many *m = arg;
  FUTURE_YIELD_UNTIL(m->waiting == FUTURE_NAWAITERS);
  ASSERT_OK(ac_sleep(2));
  ASSERT_EQ(m->woken, 0);
  if (m->settle_with == 0)
    ASSERT_OK(ac_future_resolve(m->f, m));
  else
    ASSERT_OK(ac_future_reject(m->f, m->settle_with));
  ASSERT_EQ(m->woken, 0); /* awaiters resume from the loop, not inside the call */
  return 0;
}

static void future_many_run(int settle_with) {
  ac_loop_t *loop;
  struct future_many m;
  struct future_many_arg args[FUTURE_NAWAITERS];
  int i;

  memset(&m, 0, sizeof(m));
  m.settle_with = settle_with;
  ASSERT_OK(ac_loop_new(&loop));
  ASSERT_OK(ac_future_new(loop, &m.f));
  for (i = 0; i < FUTURE_NAWAITERS; i++) {
    args[i].m = &m;
    args[i].index = i;
    m.value[i] = &args[i]; /* must be overwritten on success only */
    ASSERT_OK(ac_task_spawn(loop, future_many_awaiter, &args[i], NULL, NULL));
  }
  ASSERT_OK(ac_task_spawn(loop, future_many_settler, &m, NULL, NULL));
  ASSERT_OK(ac_loop_run(loop));
  ASSERT_EQ(m.woken, FUTURE_NAWAITERS);
  for (i = 0; i < FUTURE_NAWAITERS; i++) {
    if (settle_with == 0) {
      ASSERT_OK(m.rc[i]);
      ASSERT(m.value[i] == &m);
    } else {
      ASSERT_ERR(m.rc[i], settle_with);
      ASSERT(m.value[i] == &args[i]);
    }
  }
  ac_future_release(m.f);
  ASSERT_OK(ac_loop_close(loop));
}

TEST_IMPL(future_many_awaiters_all_get_the_value) { future_many_run(0); }
TEST_IMPL(future_many_awaiters_all_get_the_error) { future_many_run(AC_ECONNRESET); }

/* A future cancelled while tasks await it: they all get AC_ECANCELED and
 * stay running (the future was cancelled, not the tasks). */
static int future_cancel_settler(void *arg, void **result) {
  struct future_many *m = arg;
  FUTURE_YIELD_UNTIL(m->waiting == FUTURE_NAWAITERS);
  ASSERT_OK(ac_future_cancel(m->f));
  return 0;
}

TEST_IMPL(future_cancel_wakes_awaiters_with_ecanceled) {
  ac_loop_t *loop;
  struct future_many m;
  struct future_many_arg args[FUTURE_NAWAITERS];
  ac_task_t *tasks[FUTURE_NAWAITERS];
  int i;

  memset(&m, 0, sizeof(m));
  ASSERT_OK(ac_loop_new(&loop));
  ASSERT_OK(ac_future_new(loop, &m.f));
  for (i = 0; i < FUTURE_NAWAITERS; i++) {
    args[i].m = &m;
    args[i].index = i;
    ASSERT_OK(ac_task_spawn(loop, future_many_awaiter, &args[i], NULL, &tasks[i]));
  }
  ASSERT_OK(ac_task_spawn(loop, future_cancel_settler, &m, NULL, NULL));
  ASSERT_OK(ac_loop_run(loop));
  for (i = 0; i < FUTURE_NAWAITERS; i++) {
    ASSERT_ERR(m.rc[i], AC_ECANCELED);
    ASSERT_EQ(ac_task_state(tasks[i]), AC_TASK_DONE); /* the awaiter returned 0 */
    ac_task_release(tasks[i]);
  }
  ac_future_release(m.f);
  ASSERT_OK(ac_loop_close(loop));
}

/* ------------------------------------------------------ done callbacks */

struct future_cb_log {
  int order[8];
  int n;
  int inside_task;
  int state_seen[8];
  ac_future_t *f;
  int wrong_future;
};

static void future_log(struct future_cb_log *l, ac_future_t *f, int tag) {
  l->inside_task |= ac_task_current() != NULL;
  l->wrong_future |= l->f != NULL && f != l->f;
  l->state_seen[l->n] = (int)ac_future_state(f);
  l->order[l->n++] = tag;
}

static void future_cb_1(ac_future_t *f, void *ud) { future_log(ud, f, 1); }
static void future_cb_2(ac_future_t *f, void *ud) { future_log(ud, f, 2); }
static void future_cb_3(ac_future_t *f, void *ud) { future_log(ud, f, 3); }

struct future_cb_task {
  ac_future_t *f;
  struct future_cb_log *log;
  int n_after_resolve;
  int n_after_yield;
  int n_after_add_settled;
  int n_after_second_yield;
};

static int future_cb_resolver(void *arg, void **result) {
  struct future_cb_task *t = arg;
  ASSERT_OK(ac_future_resolve(t->f, t));
  t->n_after_resolve = t->log->n;
  ASSERT_OK(ac_yield());
  t->n_after_yield = t->log->n;
  /* Added after settlement: not inside the add, but at the next turn. */
  ASSERT_OK(ac_future_add_done_callback(t->f, future_cb_3, t->log));
  t->n_after_add_settled = t->log->n;
  ASSERT_OK(ac_yield());
  t->n_after_second_yield = t->log->n;
  return 0;
}

TEST_IMPL(future_done_callbacks_after_settlement_in_order) {
  ac_loop_t *loop;
  ac_future_t *f;
  struct future_cb_log log;
  struct future_cb_task t;
  int i;

  memset(&log, 0, sizeof(log));
  memset(&t, 0, sizeof(t));
  ASSERT_OK(ac_loop_new(&loop));
  ASSERT_OK(ac_future_new(loop, &f));
  log.f = f;
  t.f = f;
  t.log = &log;
  ASSERT_ERR(ac_future_add_done_callback(f, NULL, &log), AC_EINVAL);
  ASSERT_OK(ac_future_add_done_callback(f, future_cb_1, &log));
  ASSERT_OK(ac_future_add_done_callback(f, future_cb_2, &log));
  ASSERT_OK(ac_future_add_done_callback(f, future_cb_1, &log));
  ASSERT_OK(ac_task_spawn(loop, future_cb_resolver, &t, NULL, NULL));
  ASSERT_OK(ac_loop_run(loop));
  ASSERT_EQ(t.n_after_resolve, 0);      /* not inside the resolve call */
  ASSERT_EQ(t.n_after_yield, 3);        /* at the next turn */
  ASSERT_EQ(t.n_after_add_settled, 3);  /* not inside the add call */
  ASSERT_EQ(t.n_after_second_yield, 4); /* at the next turn */
  ASSERT_EQ(log.n, 4);
  ASSERT_EQ(log.order[0], 1);
  ASSERT_EQ(log.order[1], 2);
  ASSERT_EQ(log.order[2], 1);
  ASSERT_EQ(log.order[3], 3);
  for (i = 0; i < 4; i++) ASSERT_EQ(log.state_seen[i], AC_FUTURE_RESOLVED);
  ASSERT_EQ(log.inside_task, 0);
  ASSERT_EQ(log.wrong_future, 0);
  ac_future_release(f);
  ASSERT_OK(ac_loop_close(loop));
}

TEST_IMPL(future_done_callbacks_outside_tasks_and_on_reject) {
  ac_loop_t *loop;
  ac_future_t *f;
  struct future_cb_log log;

  memset(&log, 0, sizeof(log));
  ASSERT_OK(ac_loop_new(&loop));
  ASSERT_OK(ac_future_new(loop, &f));
  log.f = f;
  ASSERT_OK(ac_future_add_done_callback(f, future_cb_2, &log));
  ASSERT_OK(ac_future_reject(f, AC_EIO)); /* settled from outside any task */
  ASSERT_EQ(log.n, 0);
  ASSERT_OK(ac_future_add_done_callback(f, future_cb_1, &log));
  ASSERT_EQ(log.n, 0);
  ASSERT_OK(ac_loop_run(loop));
  ASSERT_EQ(log.n, 2);
  ASSERT_EQ(log.order[0], 2);
  ASSERT_EQ(log.order[1], 1);
  ASSERT_EQ(log.state_seen[0], AC_FUTURE_REJECTED);
  ASSERT_EQ(log.inside_task, 0);
  /* Each callback runs once. */
  ASSERT_OK(ac_loop_run(loop));
  ASSERT_EQ(log.n, 2);
  ac_future_release(f);
  ASSERT_OK(ac_loop_close(loop));
}

/* A callback adding another callback to the same, settled, future: the new
 * one is not run inside the add call, runs exactly once, and the future's
 * references stay balanced (valgrind/ASan would see a double free). */
struct future_nested {
  struct future_cb_log log;
  int n_after_add;
  int add_rc;
};

static void future_nested_inner(ac_future_t *f, void *ud) {
  struct future_nested *n = ud;
  future_log(&n->log, f, 2);
}

static void future_nested_outer(ac_future_t *f, void *ud) {
  struct future_nested *n = ud;
  future_log(&n->log, f, 1);
  n->add_rc = ac_future_add_done_callback(f, future_nested_inner, n);
  n->n_after_add = n->log.n;
}

TEST_IMPL(future_callback_added_from_callback_runs_once) {
  ac_loop_t *loop;
  ac_future_t *f;
  struct future_nested n;

  memset(&n, 0, sizeof(n));
  ASSERT_OK(ac_loop_new(&loop));
  ASSERT_OK(ac_future_new(loop, &f));
  n.log.f = f;
  ASSERT_OK(ac_future_add_done_callback(f, future_nested_outer, &n));
  ASSERT_OK(ac_future_resolve(f, NULL));
  ac_future_release(f); /* the scheduled callbacks hold the future */
  ASSERT_OK(ac_loop_run(loop));
  ASSERT_OK(n.add_rc);
  ASSERT_EQ(n.n_after_add, 1); /* not inside the add call */
  ASSERT_EQ(n.log.n, 2);
  ASSERT_EQ(n.log.order[0], 1);
  ASSERT_EQ(n.log.order[1], 2);
  ASSERT_EQ(n.log.inside_task, 0);
  ASSERT_EQ(n.log.wrong_future, 0);
  ASSERT_OK(ac_loop_close(loop));
}

/* The holder may drop its reference right after settling: the scheduled
 * callbacks keep the future alive until they ran. */
TEST_IMPL(future_callbacks_run_after_last_release) {
  ac_loop_t *loop;
  ac_future_t *f;
  struct future_cb_log log;

  memset(&log, 0, sizeof(log));
  ASSERT_OK(ac_loop_new(&loop));
  ASSERT_OK(ac_future_new(loop, &f));
  log.f = f;
  ASSERT_OK(ac_future_add_done_callback(f, future_cb_1, &log));
  ASSERT_OK(ac_future_cancel(f));
  ac_future_release(f);
  ASSERT_OK(ac_loop_run(loop));
  ASSERT_EQ(log.n, 1);
  ASSERT_EQ(log.state_seen[0], AC_FUTURE_CANCELLED);
  ASSERT_EQ(log.wrong_future, 0);
  ASSERT_OK(ac_loop_close(loop));
}


/* Released while pending, with callbacks: the callbacks never run and
 * nothing leaks. */
TEST_IMPL(future_pending_released_with_callbacks_leaks_nothing) {
  ac_loop_t *loop;
  ac_future_t *f, *g;
  struct future_cb_log log;
  long base;

  ac_test_count_allocations();
  memset(&log, 0, sizeof(log));
  ASSERT_OK(ac_loop_new(&loop));
  base = ac_test_live_allocations();
  ASSERT_OK(ac_future_new(loop, &f));
  ASSERT_OK(ac_future_add_done_callback(f, future_cb_1, &log));
  ASSERT_OK(ac_future_add_done_callback(f, future_cb_2, &log));
  ASSERT_GE(ac_test_live_allocations(), base + 3); /* the future and its two callbacks */
  ac_future_release(f);
  ASSERT_EQ(ac_test_live_allocations(), base);
  /* With an extra reference: only the last release frees. */
  ASSERT_OK(ac_future_new(loop, &g));
  ASSERT(ac_future_retain(g) == g);
  ASSERT_OK(ac_future_add_done_callback(g, future_cb_3, &log));
  ac_future_release(g);
  ASSERT_EQ(ac_future_state(g), AC_FUTURE_PENDING); /* still alive */
  ASSERT_GT(ac_test_live_allocations(), base);
  ac_future_release(g);
  ASSERT_EQ(ac_test_live_allocations(), base);
  ASSERT_OK(ac_loop_run(loop));
  ASSERT_EQ(log.n, 0);
  ASSERT_OK(ac_loop_close(loop));
  ASSERT_EQ(ac_test_live_allocations(), 0);
}

/* --------------------------------------------- awaiter cancelled, timeout */

struct future_await_cancel {
  ac_future_t *f;
  ac_task_t *awaiter;
  int waiting;
  int rc;
  int rc2;
  void *value;
  ac_future_state_t state_after;
};

static int future_await_cancel_awaiter(void *arg, void **result) {
  struct future_await_cancel *c = arg;
  c->value = c;
  c->waiting = 1;
  c->rc = ac_future_await(c->f, &c->value);
  c->state_after = ac_future_state(c->f);
  /* Cleanup may await the same future again. */
  c->rc2 = ac_future_await(c->f, NULL);
  return c->rc;
}

static int future_await_cancel_controller(void *arg, void **result) {
  struct future_await_cancel *c = arg;
  FUTURE_YIELD_UNTIL(c->waiting);
  ASSERT_OK(ac_task_cancel(c->awaiter));
  FUTURE_YIELD_UNTIL(c->rc != 0);
  ASSERT_OK(ac_sleep(2));
  ASSERT_OK(ac_future_resolve(c->f, NULL)); /* wakes only the second await */
  return 0;
}

TEST_IMPL(future_awaiter_cancelled_future_stays_pending) {
  ac_loop_t *loop;
  struct future_await_cancel c;

  memset(&c, 0, sizeof(c));
  c.state_after = AC_FUTURE_RESOLVED; /* overwritten by the awaiter */
  ASSERT_OK(ac_loop_new(&loop));
  ASSERT_OK(ac_future_new(loop, &c.f));
  ASSERT_OK(ac_task_spawn(loop, future_await_cancel_awaiter, &c, NULL, &c.awaiter));
  ASSERT_OK(ac_task_spawn(loop, future_await_cancel_controller, &c, NULL, NULL));
  ASSERT_OK(ac_loop_run(loop));
  ASSERT_ERR(c.rc, AC_ECANCELED);
  ASSERT(c.value == &c); /* not written */
  ASSERT_EQ(c.state_after, AC_FUTURE_PENDING);
  ASSERT_OK(c.rc2);
  ASSERT_EQ(ac_task_state(c.awaiter), AC_TASK_CANCELLED);
  ASSERT_EQ(ac_future_state(c.f), AC_FUTURE_RESOLVED);
  ac_task_release(c.awaiter);
  ac_future_release(c.f);
  ASSERT_OK(ac_loop_close(loop));
}

struct future_timeout {
  ac_future_t *f;
  int rc;
  int leave_rc;
  ac_future_state_t state_after;
};

static int future_timeout_body(void *arg, void **result) {
  struct future_timeout *t = arg;
  ac_timeout_t to;
  ASSERT_OK(ac_timeout_enter(&to, 10));
  t->rc = ac_future_await(t->f, NULL);
  t->leave_rc = ac_timeout_leave(&to);
  t->state_after = ac_future_state(t->f);
  return 0;
}

TEST_IMPL(future_await_in_timeout_scope_times_out) {
  ac_loop_t *loop;
  struct future_timeout t;
  ac_future_t *f;

  memset(&t, 0, sizeof(t));
  t.state_after = AC_FUTURE_RESOLVED; /* overwritten by the task */
  ASSERT_OK(ac_loop_new(&loop));
  ASSERT_OK(ac_future_new(loop, &f));
  t.f = f;
  ASSERT_ERR(ac_future_await(f, NULL), AC_ENOTASK);
  ASSERT_OK(ac_task_spawn(loop, future_timeout_body, &t, NULL, NULL));
  ASSERT_OK(ac_loop_run(loop));
  ASSERT_ERR(t.rc, AC_ETIMEDOUT);
  ASSERT_ERR(t.leave_rc, AC_ETIMEDOUT);
  ASSERT_EQ(t.state_after, AC_FUTURE_PENDING);
  /* No stale waiter: settling now wakes nobody and works. */
  ASSERT_OK(ac_future_resolve(f, NULL));
  ASSERT_OK(ac_loop_run(loop));
  ac_future_release(f);
  ASSERT_OK(ac_loop_close(loop));
}

/* The awaiting task holds its own reference: the creator may release the
 * future while a task awaits it, and a callback can settle it later. */
struct future_owned {
  ac_future_t *f;
  int rc;
  void *value;
};

static int future_owned_awaiter(void *arg, void **result) {
  struct future_owned *o = arg;
  o->rc = ac_future_await(o->f, &o->value);
  return 0;
}

static int future_owned_settler(void *arg, void **result) {
  struct future_owned *o = arg;
  ASSERT_OK(ac_sleep(2));
  ASSERT_OK(ac_future_resolve(o->f, o));
  ac_future_release(o->f);
  return 0;
}

TEST_IMPL(future_awaiter_keeps_future_alive) {
  ac_loop_t *loop;
  struct future_owned o;

  memset(&o, 0, sizeof(o));
  ASSERT_OK(ac_loop_new(&loop));
  ASSERT_OK(ac_future_new(loop, &o.f));
  ASSERT_OK(ac_task_spawn(loop, future_owned_awaiter, &o, NULL, NULL));
  /* The settler owns the only reference handed out; it drops it right after
   * resolving, before the awaiter resumes and reads the value. */
  ASSERT_OK(ac_task_spawn(loop, future_owned_settler, &o, NULL, NULL));
  ASSERT_OK(ac_loop_run(loop));
  ASSERT_OK(o.rc);
  ASSERT(o.value == &o);
  ASSERT_OK(ac_loop_close(loop));
}
