/*
 * Tasks: spawn, states, results, done callbacks, await, cancellation in each
 * kind of wait, unretrieved errors, and many tasks in one run.
 */
#include <stdint.h>

#include "acrawl.h"
#include "runner.h"

struct probe {
  ac_loop_t *loop;
  int ran;
  int cleanup_ran;
  int rc;                 /* what the awaited call returned */
  int rc2;                /* what a later await returned */
  ac_task_state_t seen;   /* state observed from inside */
  ac_future_t *future;
  ac_sem_t *sem;
  ac_queue_t *queue;
  ac_event_t *event;
  ac_task_t *other;
};

static int set_ran(void *arg, void **result) {
  struct probe *p = arg;
  p->ran++;
  p->seen = ac_task_state(ac_task_current());
  *result = p;
  return 0;
}

TEST_IMPL(task_runs_on_loop_not_inline) {
  ac_loop_t *loop;
  ac_task_t *t;
  struct probe p = {0};
  void *result = NULL;

  ASSERT_OK(ac_loop_new(&loop));
  ASSERT_OK(ac_task_spawn(loop, set_ran, &p, NULL, &t));
  ASSERT_EQ(p.ran, 0);
  ASSERT_EQ(ac_task_state(t), AC_TASK_PENDING);
  ASSERT_ERR(ac_task_result(t, &result), AC_EINPROGRESS);
  ASSERT_OK(ac_loop_run(loop));
  ASSERT_EQ(p.ran, 1);
  ASSERT_EQ(p.seen, AC_TASK_RUNNING);
  ASSERT_EQ(ac_task_state(t), AC_TASK_DONE);
  ASSERT_OK(ac_task_result(t, &result));
  ASSERT_PTR_EQ(result, &p);
  ASSERT_ERR(ac_loop_close(loop), AC_EBUSY); /* t is still referenced */
  ac_task_release(t);
  ASSERT_OK(ac_loop_close(loop));
}

TEST_IMPL(task_names_and_ids) {
  ac_loop_t *loop;
  ac_task_t *a, *b;
  ac_task_opts_t opts = {"fetcher", 0};
  struct probe p = {0};

  ASSERT_OK(ac_loop_new(&loop));
  ASSERT_OK(ac_task_spawn(loop, set_ran, &p, &opts, &a));
  ASSERT_OK(ac_task_spawn(loop, set_ran, &p, NULL, &b));
  ASSERT_STR_EQ(ac_task_name(a), "fetcher");
  ASSERT(strncmp(ac_task_name(b), "task-", 5) == 0);
  ASSERT_GT(ac_task_id(b), ac_task_id(a));
  ASSERT_PTR_EQ(ac_task_loop(a), loop);
  ASSERT_NULL(ac_task_current());
  ASSERT_ERR(ac_task_spawn(loop, NULL, NULL, NULL, NULL), AC_EINVAL);
  ASSERT_OK(ac_loop_run(loop));
  ac_task_release(a);
  ac_task_release(b);
  ASSERT_OK(ac_loop_close(loop));
}

static int fail_eio(void *arg, void **result) { return AC_EIO; }
static int return_positive(void *arg, void **result) { return 7; }
static int return_cancelled(void *arg, void **result) { return AC_ECANCELED; }

TEST_IMPL(task_final_states) {
  ac_loop_t *loop;
  ac_task_t *failed, *bad, *cancelled;

  ASSERT_OK(ac_loop_new(&loop));
  ASSERT_OK(ac_task_spawn(loop, fail_eio, NULL, NULL, &failed));
  ASSERT_OK(ac_task_spawn(loop, return_positive, NULL, NULL, &bad));
  ASSERT_OK(ac_task_spawn(loop, return_cancelled, NULL, NULL, &cancelled));
  ASSERT_OK(ac_loop_run(loop));
  ASSERT_EQ(ac_task_state(failed), AC_TASK_FAILED);
  ASSERT_ERR(ac_task_result(failed, NULL), AC_EIO);
  ASSERT_EQ(ac_task_state(bad), AC_TASK_FAILED); /* a positive return is a bug */
  ASSERT_ERR(ac_task_error(bad), AC_EINVAL);
  ASSERT_EQ(ac_task_state(cancelled), AC_TASK_CANCELLED);
  ASSERT_ERR(ac_task_result(cancelled, NULL), AC_ECANCELED);
  ASSERT_STR_EQ(ac_task_state_name(AC_TASK_CANCELLED), "cancelled");
  ac_task_release(failed);
  ac_task_release(bad);
  ac_task_release(cancelled);
  ASSERT_OK(ac_loop_close(loop));
}

/* ------------------------------------------------ unretrieved errors */

struct unretrieved {
  int calls;
  int err;
  char name[32];
};

static void on_unretrieved(ac_loop_t *loop, ac_task_t *t, int err, void *ud) {
  struct unretrieved *u = ud;
  u->calls++;
  u->err = err;
  snprintf(u->name, sizeof(u->name), "%s", ac_task_name(t));
}

TEST_IMPL(task_error_never_retrieved_is_reported) {
  ac_loop_t *loop;
  ac_task_t *kept;
  ac_task_opts_t opts = {"orphan", 0};
  struct unretrieved u = {0};

  ASSERT_OK(ac_loop_new(&loop));
  ac_loop_set_unretrieved_handler(loop, on_unretrieved, &u);
  /* Fire and forget: nobody holds it, nobody awaits it. */
  ASSERT_OK(ac_task_spawn(loop, fail_eio, NULL, &opts, NULL));
  /* Held and retrieved: not reported. */
  ASSERT_OK(ac_task_spawn(loop, fail_eio, NULL, NULL, &kept));
  ASSERT_OK(ac_loop_run(loop));
  ASSERT_EQ(u.calls, 1);
  ASSERT_ERR(u.err, AC_EIO);
  ASSERT_STR_EQ(u.name, "orphan");
  ASSERT_ERR(ac_task_error(kept), AC_EIO);
  ac_task_release(kept);
  ASSERT_EQ(u.calls, 1);
  ASSERT_OK(ac_loop_close(loop));
}

TEST_IMPL(task_error_held_but_unread_is_reported_at_release) {
  ac_loop_t *loop;
  ac_task_t *t;
  struct unretrieved u = {0};

  ASSERT_OK(ac_loop_new(&loop));
  ac_loop_set_unretrieved_handler(loop, on_unretrieved, &u);
  ASSERT_OK(ac_task_spawn(loop, fail_eio, NULL, NULL, &t));
  ASSERT_OK(ac_loop_run(loop));
  ASSERT_EQ(u.calls, 0); /* still referenced: someone may read it */
  ac_task_release(t);
  ASSERT_EQ(u.calls, 1);
  ASSERT_OK(ac_loop_close(loop));
}

/* ------------------------------------------------------ done callbacks */

struct cb_log {
  int order[4];
  int n;
  int inside_task;
};

static void cb_first(ac_task_t *t, void *ud) {
  struct cb_log *l = ud;
  l->order[l->n++] = 1;
  l->inside_task |= ac_task_current() != NULL;
}
static void cb_second(ac_task_t *t, void *ud) {
  struct cb_log *l = ud;
  l->order[l->n++] = 2;
}

TEST_IMPL(task_done_callbacks_in_order_from_loop) {
  ac_loop_t *loop;
  ac_task_t *t;
  struct probe p = {0};
  struct cb_log log = {{0}, 0, 0};

  ASSERT_OK(ac_loop_new(&loop));
  ASSERT_OK(ac_task_spawn(loop, set_ran, &p, NULL, &t));
  ASSERT_OK(ac_task_add_done_callback(t, cb_first, &log));
  ASSERT_OK(ac_task_add_done_callback(t, cb_second, &log));
  ASSERT_OK(ac_loop_run(loop));
  ASSERT_EQ(log.n, 2);
  ASSERT_EQ(log.order[0], 1);
  ASSERT_EQ(log.order[1], 2);
  ASSERT_EQ(log.inside_task, 0);
  /* On a finished task: not inside the call, at the next turn. */
  ASSERT_OK(ac_task_add_done_callback(t, cb_first, &log));
  ASSERT_EQ(log.n, 2);
  ASSERT_OK(ac_loop_run(loop));
  ASSERT_EQ(log.n, 3);
  ASSERT_EQ(log.order[2], 1);
  ac_task_release(t);
  ASSERT_OK(ac_loop_close(loop));
}

/* --------------------------------------------------------------- await */

static int child_value(void *arg, void **result) {
  int rc = ac_sleep(5);
  *result = arg;
  return rc;
}

static int await_child(void *arg, void **result) {
  struct probe *p = arg;
  ac_task_t *child;
  void *value = NULL;
  int rc = ac_task_spawn(p->loop, child_value, p, NULL, &child);
  if (rc != 0) return rc;
  p->rc = ac_task_await(child, &value);
  p->ran = value == p;
  p->rc2 = ac_task_await(ac_task_current(), NULL); /* awaiting yourself */
  ac_task_release(child);
  return 0;
}

TEST_IMPL(task_await_child_and_self) {
  ac_loop_t *loop;
  struct probe p = {0};

  ASSERT_OK(ac_loop_new(&loop));
  p.loop = loop;
  ASSERT_OK(ac_task_spawn(loop, await_child, &p, NULL, NULL));
  ASSERT_OK(ac_loop_run(loop));
  ASSERT_OK(p.rc);
  ASSERT_EQ(p.ran, 1);
  ASSERT_ERR(p.rc2, AC_EDEADLK);
  ASSERT_OK(ac_loop_close(loop));
}

TEST_IMPL(task_awaiting_calls_outside_a_task) {
  ac_loop_t *loop;
  ac_future_t *f;
  ac_task_t *t;
  struct probe p = {0};

  ASSERT_OK(ac_loop_new(&loop));
  ASSERT_OK(ac_future_new(loop, &f));
  ASSERT_OK(ac_task_spawn(loop, set_ran, &p, NULL, &t));
  ASSERT_ERR(ac_sleep(1), AC_ENOTASK);
  ASSERT_ERR(ac_yield(), AC_ENOTASK);
  ASSERT_ERR(ac_future_await(f, NULL), AC_ENOTASK);
  ASSERT_ERR(ac_task_await(t, NULL), AC_ENOTASK);
  ASSERT_ERR(ac_gather(&t, 1), AC_ENOTASK);
  ASSERT_OK(ac_loop_run(loop));
  ac_task_release(t);
  ac_future_release(f);
  ASSERT_OK(ac_loop_close(loop));
}

/* -------------------------------------------------------- cancellation */

TEST_IMPL(task_cancel_before_start_never_runs) {
  ac_loop_t *loop;
  ac_task_t *t;
  struct probe p = {0};

  ASSERT_OK(ac_loop_new(&loop));
  ASSERT_OK(ac_task_spawn(loop, set_ran, &p, NULL, &t));
  ASSERT_OK(ac_task_cancel(t));
  ASSERT_EQ(ac_task_cancel_pending(t), 1);
  ASSERT_OK(ac_loop_run(loop));
  ASSERT_EQ(p.ran, 0);
  ASSERT_EQ(ac_task_state(t), AC_TASK_CANCELLED);
  ASSERT_ERR(ac_task_cancel(t), AC_EINVAL); /* finished */
  ac_task_release(t);
  ASSERT_OK(ac_loop_close(loop));
}

enum wait_kind { W_SLEEP, W_FUTURE, W_SEM, W_QUEUE_GET, W_QUEUE_PUT, W_EVENT, W_CHILD, W_YIELD };

struct cancel_case {
  struct probe p;
  enum wait_kind kind;
};

static int sleep_forever(void *arg, void **result) {
  int rc;
  while ((rc = ac_sleep(1000000)) == 0) {
  }
  return rc;
}

/* Waits in the chosen way, then cleans up with an await of its own, which
 * must work: the cancellation is delivered once. */
static int waiter(void *arg, void **result) {
  struct cancel_case *c = arg;
  struct probe *p = &c->p;
  void *item;
  p->ran = 1;
  switch (c->kind) {
  case W_SLEEP: p->rc = ac_sleep(1000000); break;
  case W_FUTURE: p->rc = ac_future_await(p->future, NULL); break;
  case W_SEM: p->rc = ac_sem_acquire(p->sem); break;
  case W_QUEUE_GET: p->rc = ac_queue_get(p->queue, &item); break;
  case W_QUEUE_PUT: p->rc = ac_queue_put(p->queue, p); break; /* queue is full */
  case W_EVENT: p->rc = ac_event_wait(p->event); break;
  case W_CHILD: p->rc = ac_task_await(p->other, NULL); break;
  case W_YIELD: p->rc = ac_yield(); break;
  }
  p->rc2 = ac_sleep(1); /* cleanup that awaits */
  p->cleanup_ran = 1;
  return p->rc;
}

static int canceller(void *arg, void **result) {
  ac_task_t *victim = arg;
  int rc = ac_yield(); /* let the victim reach its wait */
  if (rc == 0) rc = ac_task_cancel(victim);
  return rc;
}

/* Cancels at once: the victim, spawned earlier, has run up to its wait. */
static int canceller_now(void *arg, void **result) { return ac_task_cancel(arg); }

static void run_cancel_case(enum wait_kind kind) {
  ac_loop_t *loop;
  ac_task_t *t, *killer;
  struct cancel_case c;
  size_t before;

  memset(&c, 0, sizeof(c));
  c.kind = kind;
  ASSERT_OK(ac_loop_new(&loop));
  ASSERT_OK(ac_future_new(loop, &c.p.future));
  ASSERT_OK(ac_sem_new(loop, 0, &c.p.sem));
  ASSERT_OK(ac_queue_new(loop, 1, &c.p.queue));
  ASSERT_OK(ac_event_new(loop, &c.p.event));
  if (kind == W_QUEUE_PUT) ASSERT_OK(ac_queue_try_put(c.p.queue, &c));
  if (kind == W_CHILD) ASSERT_OK(ac_task_spawn(loop, sleep_forever, NULL, NULL, &c.p.other));
  ASSERT_OK(ac_task_spawn(loop, waiter, &c, NULL, &t));
  ASSERT_OK(ac_task_spawn(loop, kind == W_YIELD ? canceller_now : canceller, t, NULL, &killer));
  ASSERT_OK(ac_loop_run_until_done(loop, t));
  ASSERT_EQ(c.p.ran, 1);
  /* For W_YIELD: the victim is already back on the ready queue, and still
   * its yield reports the cancellation. */
  ASSERT_ERR(c.p.rc, AC_ECANCELED);
  ASSERT_OK(c.p.rc2);
  ASSERT_EQ(c.p.cleanup_ran, 1);
  /* Whatever it waited on forgot it. */
  ASSERT_EQ(ac_sem_waiters(c.p.sem), 0);
  ASSERT_EQ(ac_future_state(c.p.future), AC_FUTURE_PENDING);
  before = ac_queue_size(c.p.queue);
  ASSERT_EQ(before, kind == W_QUEUE_PUT ? 1 : 0);
  ac_sem_release(c.p.sem);
  ASSERT_EQ(ac_sem_value(c.p.sem), 1); /* no ghost waiter took it */
  if (kind == W_CHILD) {
    ASSERT_EQ(ac_task_is_finished(c.p.other), 0); /* await aborted, child untouched */
    ASSERT_OK(ac_task_cancel(c.p.other));
  }
  ASSERT_OK(ac_loop_run(loop));
  if (kind == W_CHILD) {
    ASSERT_EQ(ac_task_state(c.p.other), AC_TASK_CANCELLED);
    ac_task_release(c.p.other);
  }
  ASSERT_EQ(ac_task_state(t), AC_TASK_CANCELLED);
  ac_task_release(t);
  ac_task_release(killer);
  ac_future_release(c.p.future);
  ASSERT_OK(ac_sem_free(c.p.sem));
  ASSERT_OK(ac_queue_free(c.p.queue));
  ASSERT_OK(ac_event_free(c.p.event));
  ASSERT_OK(ac_loop_close(loop));
}

TEST_IMPL(task_cancel_while_sleeping) { run_cancel_case(W_SLEEP); }
TEST_IMPL(task_cancel_while_awaiting_future) { run_cancel_case(W_FUTURE); }
TEST_IMPL(task_cancel_while_acquiring_semaphore) { run_cancel_case(W_SEM); }
TEST_IMPL(task_cancel_while_getting_from_queue) { run_cancel_case(W_QUEUE_GET); }
TEST_IMPL(task_cancel_while_putting_to_full_queue) { run_cancel_case(W_QUEUE_PUT); }
TEST_IMPL(task_cancel_while_waiting_event) { run_cancel_case(W_EVENT); }
TEST_IMPL(task_cancel_while_awaiting_child) { run_cancel_case(W_CHILD); }
TEST_IMPL(task_cancel_while_yielding) { run_cancel_case(W_YIELD); }

static int cancel_self(void *arg, void **result) {
  struct probe *p = arg;
  ASSERT_OK(ac_task_cancel(ac_task_current()));
  p->ran = 1;                 /* cancelling yourself does not stop you at once */
  p->rc = ac_sleep(1);        /* ... the next await sees it */
  p->rc2 = ac_sleep(1);       /* ... once */
  return p->rc;
}

TEST_IMPL(task_cancel_self_delivered_at_next_await) {
  ac_loop_t *loop;
  ac_task_t *t;
  struct probe p = {0};

  ASSERT_OK(ac_loop_new(&loop));
  ASSERT_OK(ac_task_spawn(loop, cancel_self, &p, NULL, &t));
  ASSERT_OK(ac_loop_run(loop));
  ASSERT_EQ(p.ran, 1);
  ASSERT_ERR(p.rc, AC_ECANCELED);
  ASSERT_OK(p.rc2);
  ASSERT_EQ(ac_task_state(t), AC_TASK_CANCELLED);
  ac_task_release(t);
  ASSERT_OK(ac_loop_close(loop));
}

static int swallow_cancel(void *arg, void **result) {
  struct probe *p = arg;
  p->rc = ac_sleep(1000000);
  return 0; /* handled: the task ends done, as when asyncio code catches CancelledError */
}

TEST_IMPL(task_that_handles_cancel_ends_done) {
  ac_loop_t *loop;
  ac_task_t *t;
  struct probe p = {0};

  ASSERT_OK(ac_loop_new(&loop));
  ASSERT_OK(ac_task_spawn(loop, swallow_cancel, &p, NULL, &t));
  ASSERT_OK(ac_task_spawn(loop, canceller, t, NULL, NULL));
  ASSERT_OK(ac_loop_run(loop));
  ASSERT_ERR(p.rc, AC_ECANCELED);
  ASSERT_EQ(ac_task_state(t), AC_TASK_DONE);
  ac_task_release(t);
  ASSERT_OK(ac_loop_close(loop));
}

/* ------------------------------------------------------------- stacks */

static int deep_stack(void *arg, void **result) {
  volatile char big[200 * 1024];
  size_t i;
  for (i = 0; i < sizeof(big); i += 512) big[i] = (char)i;
  ac_sleep(1); /* suspended with the deep frame live */
  for (i = 0; i < sizeof(big); i += 512)
    if (big[i] != (char)i) return AC_EIO;
  return 0;
}

TEST_IMPL(task_stack_size_option) {
  ac_loop_t *loop;
  ac_task_t *t;
  ac_task_opts_t opts = {"deep", 1024 * 1024};

  ASSERT_OK(ac_loop_new(&loop));
  ASSERT_OK(ac_task_spawn(loop, deep_stack, NULL, &opts, &t));
  ASSERT_OK(ac_loop_run(loop));
  ASSERT_EQ(ac_task_state(t), AC_TASK_DONE);
  ac_task_release(t);
  ASSERT_OK(ac_loop_close(loop));
}

/* ------------------------------------------------------ many tasks */

#define MANY 100000

struct many {
  long started;
  long done;
  long max_live;  /* tasks suspended at the same time */
};

static int many_body(void *arg, void **result) {
  struct many *m = arg;
  m->started++;
  /* Every task is suspended here at once (each holds its own stack), then
   * they all resume in FIFO order. */
  if (ac_yield() != 0) return AC_EIO;
  if (m->started - m->done > m->max_live) m->max_live = m->started - m->done;
  m->done++;
  return 0;
}

TEST_SLOW(task_hundred_thousand_in_one_run) {
  ac_loop_t *loop;
  struct many m = {0};
  long i, n = ac_test_on_valgrind() ? MANY / 10 : MANY;
  ac_task_opts_t opts = {"many", 0};

  ASSERT_OK(ac_loop_new(&loop));
  for (i = 0; i < n; i++) ASSERT_OK(ac_task_spawn(loop, many_body, &m, &opts, NULL));
  ASSERT_EQ(ac_loop_task_count(loop), n);
  ASSERT_OK(ac_loop_run(loop));
  ASSERT_EQ(m.done, n);
  ASSERT_EQ(m.max_live, n);
  ASSERT_EQ(ac_loop_task_count(loop), 0);
  ASSERT_OK(ac_loop_close(loop));
}
