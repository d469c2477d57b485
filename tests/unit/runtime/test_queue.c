/*
 * Bounded queues: FIFO order, backpressure both ways, the try_ calls, close,
 * cancellation of waiting putters and getters, and many producers and
 * consumers moving many items.
 */
#include <stdint.h>
#include <stdlib.h>

#include "acrawl.h"
#include "runner.h"

#define QUEUE_YIELD_UNTIL(cond)                                               \
  do {                                                                       \
    int spins_ = 0;                                                          \
    while (!(cond)) {                                                        \
      ASSERT_LT(spins_++, 10000);                                            \
      ASSERT_OK(ac_yield());                                                 \
    }                                                                        \
  } while (0)

#define QI(n) ((void *)(uintptr_t)(n))
#define QN(p) ((long)(uintptr_t)(p))

/* ------------------------------------------------------------ basics */

TEST_IMPL(queue_fifo_order_and_try_calls) {
  ac_loop_t *loop;
  ac_queue_t *q = (ac_queue_t *)&q;
  void *item = NULL;
  long i;

  ASSERT_OK(ac_loop_new(&loop));
  ASSERT_ERR(ac_queue_new(loop, 0, &q), AC_EINVAL);
  ASSERT(q == NULL);
  ASSERT_ERR(ac_queue_new(loop, 4, NULL), AC_EINVAL);
  ASSERT_ERR(ac_queue_new(NULL, 4, &q), AC_EINVAL);
  ASSERT_OK(ac_queue_new(loop, 4, &q));
  ASSERT_EQ(ac_queue_capacity(q), 4);
  ASSERT_EQ(ac_queue_size(q), 0);
  ASSERT_EQ(ac_queue_is_closed(q), 0);
  ASSERT_ERR(ac_queue_try_get(q, &item), AC_EAGAIN);
  /* Wrap the ring around a few times. */
  for (i = 1; i <= 30; i++) {
    ASSERT_OK(ac_queue_try_put(q, QI(i)));
    if (i % 3 == 0) {
      ASSERT_OK(ac_queue_try_get(q, &item));
      ASSERT_EQ(QN(item), i - 2);
      ASSERT_OK(ac_queue_try_get(q, &item));
      ASSERT_EQ(QN(item), i - 1);
      ASSERT_OK(ac_queue_try_get(q, &item));
      ASSERT_EQ(QN(item), i);
      ASSERT_EQ(ac_queue_size(q), 0);
    }
  }
  for (i = 1; i <= 4; i++) ASSERT_OK(ac_queue_try_put(q, QI(100 + i)));
  ASSERT_EQ(ac_queue_size(q), 4);
  ASSERT_ERR(ac_queue_try_put(q, QI(999)), AC_EAGAIN);
  ASSERT_EQ(ac_queue_size(q), 4);
  for (i = 1; i <= 4; i++) {
    ASSERT_OK(ac_queue_try_get(q, &item));
    ASSERT_EQ(QN(item), 100 + i); /* 999 never got in */
  }
  ASSERT_ERR(ac_queue_try_get(q, &item), AC_EAGAIN);
  /* NULL is an item like any other. */
  ASSERT_OK(ac_queue_try_put(q, NULL));
  item = &item;
  ASSERT_OK(ac_queue_try_get(q, &item));
  ASSERT(item == NULL);
  ASSERT_OK(ac_queue_free(q));
  ASSERT_OK(ac_queue_free(NULL));
  ASSERT_OK(ac_loop_close(loop));
}

TEST_IMPL(queue_capacity_zero_is_einval) {
  ac_loop_t *loop;
  ac_queue_t *q = (ac_queue_t *)&q;

  ASSERT_OK(ac_loop_new(&loop));
  ASSERT_ERR(ac_queue_new(loop, 0, &q), AC_EINVAL);
  ASSERT(q == NULL);
  ASSERT_OK(ac_queue_new(loop, 1, &q)); /* the smallest that works */
  ASSERT_EQ(ac_queue_capacity(q), 1);
  ASSERT_OK(ac_queue_try_put(q, QI(1)));
  ASSERT_ERR(ac_queue_try_put(q, QI(2)), AC_EAGAIN);
  ASSERT_OK(ac_queue_free(q)); /* an item left in it is the caller's, not freed */
  ASSERT_OK(ac_loop_close(loop));
}

/* ------------------------------------------------------- backpressure */

#define QUEUE_BP_ITEMS 6
#define QUEUE_BP_CAP 2

struct queue_bp {
  ac_queue_t *q;
  int taken;                         /* items the consumer has got */
  int put_done;                      /* puts that returned */
  int taken_when_put_returned[QUEUE_BP_ITEMS];
  long got[QUEUE_BP_ITEMS];
  int put_rc[QUEUE_BP_ITEMS];
  int get_rc[QUEUE_BP_ITEMS];
};

static int queue_bp_producer(void *arg, void **result) {
  struct queue_bp *b = arg;
  int i;
  for (i = 0; i < QUEUE_BP_ITEMS; i++) {
    b->put_rc[i] = ac_queue_put(b->q, QI(i + 1));
    b->taken_when_put_returned[i] = b->taken;
    b->put_done++;
  }
  return 0;
}

static int queue_bp_consumer(void *arg, void **result) {
  struct queue_bp *b = arg;
  int i;
  /* Let the producer fill the queue and block. */
  ASSERT_OK(ac_sleep(5));
  ASSERT_EQ(b->put_done, QUEUE_BP_CAP);
  ASSERT_EQ(ac_queue_size(b->q), QUEUE_BP_CAP);
  for (i = 0; i < QUEUE_BP_ITEMS; i++) {
    void *item = NULL;
    b->get_rc[i] = ac_queue_get(b->q, &item);
    b->got[i] = QN(item);
    b->taken++;
    ASSERT_OK(ac_sleep(1));
  }
  return 0;
}

TEST_IMPL(queue_put_waits_when_full) {
  ac_loop_t *loop;
  struct queue_bp b;
  int i;

  memset(&b, 0, sizeof(b));
  ASSERT_OK(ac_loop_new(&loop));
  ASSERT_OK(ac_queue_new(loop, QUEUE_BP_CAP, &b.q));
  ASSERT_OK(ac_task_spawn(loop, queue_bp_producer, &b, NULL, NULL));
  ASSERT_OK(ac_task_spawn(loop, queue_bp_consumer, &b, NULL, NULL));
  ASSERT_OK(ac_loop_run(loop));
  ASSERT_EQ(b.put_done, QUEUE_BP_ITEMS);
  ASSERT_EQ(b.taken, QUEUE_BP_ITEMS);
  for (i = 0; i < QUEUE_BP_ITEMS; i++) {
    ASSERT_OK(b.put_rc[i]);
    ASSERT_OK(b.get_rc[i]);
    ASSERT_EQ(b.got[i], i + 1);
    /* Put number i (0-based) can only finish once i - cap + 1 were taken. */
    if (i >= QUEUE_BP_CAP) ASSERT_GE(b.taken_when_put_returned[i], i - QUEUE_BP_CAP + 1);
    else ASSERT_EQ(b.taken_when_put_returned[i], 0);
  }
  ASSERT_EQ(ac_queue_size(b.q), 0);
  ASSERT_OK(ac_queue_free(b.q));
  ASSERT_OK(ac_loop_close(loop));
}

struct queue_empty {
  ac_queue_t *q;
  int getting;
  int got_count;
  long got[3];
  int rc[3];
  int put_count;
};

static int queue_empty_getter(void *arg, void **result) {
  struct queue_empty *e = arg;
  int i;
  for (i = 0; i < 3; i++) {
    void *item = NULL;
    e->getting = 1;
    e->rc[i] = ac_queue_get(e->q, &item);
    e->got[i] = QN(item);
    e->got_count++;
  }
  return 0;
}

static int queue_empty_putter(void *arg, void **result) {
  struct queue_empty *e = arg;
  int i;
  QUEUE_YIELD_UNTIL(e->getting);
  for (i = 0; i < 3; i++) {
    ASSERT_OK(ac_sleep(5));
    /* The getter is still blocked: nothing has been put. */
    ASSERT_EQ(e->got_count, i);
    ASSERT_OK(ac_queue_put(e->q, QI(10 + i)));
    e->put_count++;
    ASSERT_EQ(ac_queue_size(e->q), 0); /* handed straight to the waiting getter */
    QUEUE_YIELD_UNTIL(e->got_count == i + 1);
  }
  return 0;
}

TEST_IMPL(queue_get_waits_when_empty) {
  ac_loop_t *loop;
  struct queue_empty e;
  int i;

  memset(&e, 0, sizeof(e));
  ASSERT_OK(ac_loop_new(&loop));
  ASSERT_OK(ac_queue_new(loop, 4, &e.q));
  ASSERT_OK(ac_task_spawn(loop, queue_empty_getter, &e, NULL, NULL));
  ASSERT_OK(ac_task_spawn(loop, queue_empty_putter, &e, NULL, NULL));
  ASSERT_OK(ac_loop_run(loop));
  ASSERT_EQ(e.got_count, 3);
  for (i = 0; i < 3; i++) {
    ASSERT_OK(e.rc[i]);
    ASSERT_EQ(e.got[i], 10 + i);
  }
  ASSERT_OK(ac_queue_free(e.q));
  ASSERT_OK(ac_loop_close(loop));
}

/* ----------------------------------------------- waiters in arrival order */

#define QUEUE_NWAITERS 5

struct queue_order {
  ac_queue_t *q;
  int arrived[QUEUE_NWAITERS];   /* waiter index in arrival order */
  int narrived;
  long got[QUEUE_NWAITERS];      /* getter index -> item it received */
  int rc[QUEUE_NWAITERS];
};

struct queue_order_arg {
  struct queue_order *o;
  int index;
};

/* Waiter i arrives after QUEUE_NWAITERS - i yields: the reverse of spawn order. */
static void queue_order_arrive(struct queue_order_arg *a) {
  int i;
  for (i = 0; i < QUEUE_NWAITERS - a->index; i++) ASSERT_OK(ac_yield());
  a->o->arrived[a->o->narrived++] = a->index;
}

static int queue_order_putter(void *arg, void **result) {
  struct queue_order_arg *a = arg;
  queue_order_arrive(a);
  a->o->rc[a->index] = ac_queue_put(a->o->q, QI(a->index));
  return 0;
}

static int queue_order_getter(void *arg, void **result) {
  struct queue_order_arg *a = arg;
  void *item = QI(-1);
  queue_order_arrive(a);
  a->o->rc[a->index] = ac_queue_get(a->o->q, &item);
  a->o->got[a->index] = QN(item);
  return 0;
}

static void queue_order_run(int putters) {
  ac_loop_t *loop;
  struct queue_order o;
  struct queue_order_arg args[QUEUE_NWAITERS];
  void *item;
  int i;

  memset(&o, 0, sizeof(o));
  ASSERT_OK(ac_loop_new(&loop));
  ASSERT_OK(ac_queue_new(loop, 1, &o.q));
  if (putters) ASSERT_OK(ac_queue_try_put(o.q, QI(1000))); /* full: putters wait */
  for (i = 0; i < QUEUE_NWAITERS; i++) {
    args[i].o = &o;
    args[i].index = i;
    ASSERT_OK(ac_task_spawn(loop, putters ? queue_order_putter : queue_order_getter, &args[i],
                            NULL, NULL));
  }
  ASSERT_OK(ac_loop_run(loop)); /* everyone is waiting now */
  ASSERT_EQ(o.narrived, QUEUE_NWAITERS);
  for (i = 0; i < QUEUE_NWAITERS; i++) ASSERT_EQ(o.arrived[i], QUEUE_NWAITERS - 1 - i);
  if (putters) {
    /* Items come out in the order their putters arrived. */
    ASSERT_OK(ac_queue_try_get(o.q, &item));
    ASSERT_EQ(QN(item), 1000);
    for (i = 0; i < QUEUE_NWAITERS; i++) {
      ASSERT_OK(ac_queue_try_get(o.q, &item));
      ASSERT_EQ(QN(item), o.arrived[i]);
    }
  } else {
    /* Items go to getters in the order they arrived. */
    for (i = 0; i < QUEUE_NWAITERS; i++) ASSERT_OK(ac_queue_try_put(o.q, QI(500 + i)));
  }
  ASSERT_OK(ac_loop_run(loop));
  for (i = 0; i < QUEUE_NWAITERS; i++) {
    ASSERT_OK(o.rc[i]);
    if (!putters) ASSERT_EQ(o.got[o.arrived[i]], 500 + i);
  }
  ASSERT_EQ(ac_queue_size(o.q), 0);
  ASSERT_OK(ac_queue_free(o.q));
  ASSERT_OK(ac_loop_close(loop));
}

TEST_IMPL(queue_putters_served_in_arrival_order) { queue_order_run(1); }
TEST_IMPL(queue_getters_served_in_arrival_order) { queue_order_run(0); }

/* --------------------------------------------------------------- close */

#define QUEUE_NPUTTERS 3

struct queue_close {
  ac_queue_t *full;         /* capacity 1, full: putters wait */
  ac_queue_t *empty;        /* getters wait */
  int put_waiting;
  int get_waiting;
  int put_rc[QUEUE_NPUTTERS];
  int get_rc[2];
  void *get_item[2];
  int after_put_rc;
  int after_try_put_rc;
  int drain_rc[3];
  long drain_item[3];
};

struct queue_close_arg {
  struct queue_close *c;
  int index;
};

static int queue_close_putter(void *arg, void **result) {
  struct queue_close_arg *a = arg;
  a->c->put_waiting++;
  a->c->put_rc[a->index] = ac_queue_put(a->c->full, QI(100 + a->index));
  return 0;
}

static int queue_close_getter(void *arg, void **result) {
  struct queue_close_arg *a = arg;
  a->c->get_item[a->index] = QI(12345);
  a->c->get_waiting++;
  a->c->get_rc[a->index] = ac_queue_get(a->c->empty, &a->c->get_item[a->index]);
  return 0;
}

static int queue_close_controller(void *arg, void **result) {
  struct queue_close *c = arg;
  void *item = NULL;
  int i;

  QUEUE_YIELD_UNTIL(c->put_waiting == QUEUE_NPUTTERS && c->get_waiting == 2);
  ASSERT_OK(ac_yield());
  ac_queue_close(c->full);
  ac_queue_close(c->empty);
  ac_queue_close(c->empty); /* twice: harmless */
  ASSERT_EQ(ac_queue_is_closed(c->full), 1);
  ASSERT_EQ(ac_queue_is_closed(c->empty), 1);
  /* The waiting putters' items were not queued. */
  ASSERT_EQ(ac_queue_size(c->full), 1);
  c->after_put_rc = ac_queue_put(c->full, QI(7));
  c->after_try_put_rc = ac_queue_try_put(c->empty, QI(7));
  for (i = 0; i < 3; i++) {
    item = NULL;
    c->drain_rc[i] = ac_queue_get(c->full, &item);
    c->drain_item[i] = QN(item);
  }
  ASSERT_ERR(ac_queue_try_get(c->full, &item), AC_ECLOSED);
  return 0;
}

TEST_IMPL(queue_close_wakes_putters_and_getters) {
  ac_loop_t *loop;
  struct queue_close c;
  struct queue_close_arg pargs[QUEUE_NPUTTERS], gargs[2];
  int i;

  memset(&c, 0, sizeof(c));
  ASSERT_OK(ac_loop_new(&loop));
  ASSERT_OK(ac_queue_new(loop, 1, &c.full));
  ASSERT_OK(ac_queue_new(loop, 2, &c.empty));
  ASSERT_OK(ac_queue_try_put(c.full, QI(1)));
  for (i = 0; i < QUEUE_NPUTTERS; i++) {
    pargs[i].c = &c;
    pargs[i].index = i;
    ASSERT_OK(ac_task_spawn(loop, queue_close_putter, &pargs[i], NULL, NULL));
  }
  for (i = 0; i < 2; i++) {
    gargs[i].c = &c;
    gargs[i].index = i;
    ASSERT_OK(ac_task_spawn(loop, queue_close_getter, &gargs[i], NULL, NULL));
  }
  ASSERT_OK(ac_task_spawn(loop, queue_close_controller, &c, NULL, NULL));
  ASSERT_OK(ac_loop_run(loop));
  for (i = 0; i < QUEUE_NPUTTERS; i++) ASSERT_ERR(c.put_rc[i], AC_ECLOSED);
  for (i = 0; i < 2; i++) {
    ASSERT_ERR(c.get_rc[i], AC_ECLOSED);
    ASSERT(c.get_item[i] == QI(12345)); /* not written on failure */
  }
  ASSERT_ERR(c.after_put_rc, AC_ECLOSED);
  ASSERT_ERR(c.after_try_put_rc, AC_ECLOSED);
  /* Only the item queued before the close comes out, then AC_ECLOSED. */
  ASSERT_OK(c.drain_rc[0]);
  ASSERT_EQ(c.drain_item[0], 1);
  ASSERT_ERR(c.drain_rc[1], AC_ECLOSED);
  ASSERT_ERR(c.drain_rc[2], AC_ECLOSED);
  ASSERT_OK(ac_queue_free(c.full));
  ASSERT_OK(ac_queue_free(c.empty));
  ASSERT_OK(ac_loop_close(loop));
}

struct queue_drain {
  ac_queue_t *q;
  long got[5];
  int rc[5];
  int put_rc;
};

static int queue_drain_body(void *arg, void **result) {
  struct queue_drain *d = arg;
  int i;
  for (i = 0; i < 5; i++) {
    void *item = QI(-1);
    d->rc[i] = ac_queue_get(d->q, &item);
    d->got[i] = QN(item);
  }
  d->put_rc = ac_queue_put(d->q, QI(9));
  return 0;
}

TEST_IMPL(queue_close_then_drain) {
  ac_loop_t *loop;
  struct queue_drain d;
  void *item;
  int i;

  memset(&d, 0, sizeof(d));
  ASSERT_OK(ac_loop_new(&loop));
  ASSERT_OK(ac_queue_new(loop, 4, &d.q));
  for (i = 1; i <= 3; i++) ASSERT_OK(ac_queue_try_put(d.q, QI(i)));
  ac_queue_close(d.q);
  ASSERT_EQ(ac_queue_size(d.q), 3);
  ASSERT_ERR(ac_queue_try_put(d.q, QI(4)), AC_ECLOSED); /* room, but closed */
  ASSERT_OK(ac_task_spawn(loop, queue_drain_body, &d, NULL, NULL));
  ASSERT_OK(ac_loop_run(loop));
  for (i = 0; i < 3; i++) {
    ASSERT_OK(d.rc[i]);
    ASSERT_EQ(d.got[i], i + 1);
  }
  ASSERT_ERR(d.rc[3], AC_ECLOSED);
  ASSERT_ERR(d.rc[4], AC_ECLOSED);
  ASSERT_ERR(d.put_rc, AC_ECLOSED);
  ASSERT_ERR(ac_queue_try_get(d.q, &item), AC_ECLOSED);
  ASSERT_EQ(ac_queue_size(d.q), 0);
  ASSERT_OK(ac_queue_free(d.q));
  ASSERT_OK(ac_loop_close(loop));
}

/* -------------------------------------------------------- cancellation */

struct queue_cancel {
  ac_queue_t *q;
  ac_task_t *putters[3];
  ac_task_t *getters[2];
  int put_rc[3];
  int get_rc[2];
  long got[2];
  int nput_waiting;
  int nget_waiting;
  long drained[4];
  int ndrained;
};

struct queue_cancel_arg {
  struct queue_cancel *c;
  int index;
};

static int queue_cancel_putter(void *arg, void **result) {
  struct queue_cancel_arg *a = arg;
  a->c->nput_waiting++;
  a->c->put_rc[a->index] = ac_queue_put(a->c->q, QI(100 + a->index));
  return a->c->put_rc[a->index];
}

static int queue_cancel_putter_controller(void *arg, void **result) {
  struct queue_cancel *c = arg;
  void *item;

  QUEUE_YIELD_UNTIL(c->nput_waiting == 3);
  ASSERT_OK(ac_task_cancel(c->putters[1]));
  QUEUE_YIELD_UNTIL(ac_task_is_finished(c->putters[1]));
  ASSERT_ERR(c->put_rc[1], AC_ECANCELED);
  ASSERT_EQ(ac_queue_size(c->q), 1);
  /* Drain: the first item, then putter 0's, then putter 2's; never 101. */
  while (c->ndrained < 3) {
    ASSERT_OK(ac_queue_get(c->q, &item));
    c->drained[c->ndrained++] = QN(item);
  }
  ASSERT_ERR(ac_queue_try_get(c->q, &item), AC_EAGAIN);
  return 0;
}

TEST_IMPL(queue_cancel_waiting_putter) {
  ac_loop_t *loop;
  struct queue_cancel c;
  struct queue_cancel_arg args[3];
  int i;

  memset(&c, 0, sizeof(c));
  ASSERT_OK(ac_loop_new(&loop));
  ASSERT_OK(ac_queue_new(loop, 1, &c.q));
  ASSERT_OK(ac_queue_try_put(c.q, QI(1)));
  for (i = 0; i < 3; i++) {
    args[i].c = &c;
    args[i].index = i;
    ASSERT_OK(ac_task_spawn(loop, queue_cancel_putter, &args[i], NULL, &c.putters[i]));
  }
  ASSERT_OK(ac_task_spawn(loop, queue_cancel_putter_controller, &c, NULL, NULL));
  ASSERT_OK(ac_loop_run(loop));
  ASSERT_EQ(c.ndrained, 3);
  ASSERT_EQ(c.drained[0], 1);
  ASSERT_EQ(c.drained[1], 100);
  ASSERT_EQ(c.drained[2], 102);
  ASSERT_OK(c.put_rc[0]);
  ASSERT_OK(c.put_rc[2]);
  ASSERT_EQ(ac_task_state(c.putters[1]), AC_TASK_CANCELLED);
  for (i = 0; i < 3; i++) ac_task_release(c.putters[i]);
  ASSERT_EQ(ac_queue_size(c.q), 0);
  ASSERT_OK(ac_queue_free(c.q));
  ASSERT_OK(ac_loop_close(loop));
}

static int queue_cancel_getter(void *arg, void **result) {
  struct queue_cancel_arg *a = arg;
  void *item = QI(-1);
  a->c->nget_waiting++;
  a->c->get_rc[a->index] = ac_queue_get(a->c->q, &item);
  a->c->got[a->index] = QN(item);
  return a->c->get_rc[a->index];
}

static int queue_cancel_getter_controller(void *arg, void **result) {
  struct queue_cancel *c = arg;
  QUEUE_YIELD_UNTIL(c->nget_waiting == 2);
  ASSERT_OK(ac_task_cancel(c->getters[0]));
  QUEUE_YIELD_UNTIL(ac_task_is_finished(c->getters[0]));
  ASSERT_ERR(c->get_rc[0], AC_ECANCELED);
  ASSERT_EQ(c->got[0], -1); /* nothing written */
  /* The next item goes to the getter still waiting. */
  ASSERT_OK(ac_queue_put(c->q, QI(55)));
  ASSERT_EQ(ac_queue_size(c->q), 0);
  QUEUE_YIELD_UNTIL(ac_task_is_finished(c->getters[1]));
  ASSERT_OK(c->get_rc[1]);
  ASSERT_EQ(c->got[1], 55);
  /* With no getter left, a put is queued. */
  ASSERT_OK(ac_queue_put(c->q, QI(56)));
  ASSERT_EQ(ac_queue_size(c->q), 1);
  return 0;
}

TEST_IMPL(queue_cancel_waiting_getter) {
  ac_loop_t *loop;
  struct queue_cancel c;
  struct queue_cancel_arg args[2];
  ac_task_t *ctl;
  void *item;
  int i;

  memset(&c, 0, sizeof(c));
  ASSERT_OK(ac_loop_new(&loop));
  ASSERT_OK(ac_queue_new(loop, 2, &c.q));
  for (i = 0; i < 2; i++) {
    args[i].c = &c;
    args[i].index = i;
    ASSERT_OK(ac_task_spawn(loop, queue_cancel_getter, &args[i], NULL, &c.getters[i]));
  }
  ASSERT_OK(ac_task_spawn(loop, queue_cancel_getter_controller, &c, NULL, &ctl));
  ASSERT_OK(ac_loop_run(loop));
  ASSERT_EQ(ac_task_state(ctl), AC_TASK_DONE);
  ASSERT_EQ(ac_task_state(c.getters[0]), AC_TASK_CANCELLED);
  ASSERT_EQ(ac_task_state(c.getters[1]), AC_TASK_DONE);
  ASSERT_OK(ac_queue_try_get(c.q, &item));
  ASSERT_EQ(QN(item), 56);
  for (i = 0; i < 2; i++) ac_task_release(c.getters[i]);
  ac_task_release(ctl);
  ASSERT_OK(ac_queue_free(c.q));
  ASSERT_OK(ac_loop_close(loop));
}

/* A cancel that lands after a put handed its item to a waiting getter (the
 * getter was woken but has not run yet) must not lose the item. */
struct queue_late_cancel {
  ac_queue_t *q;
  ac_task_t *getter;
  int waiting;
  int rc;
  int rc2;
  long got;
};

static int queue_late_cancel_getter(void *arg, void **result) {
  struct queue_late_cancel *l = arg;
  void *item = QI(-1);
  l->waiting = 1;
  l->rc = ac_queue_get(l->q, &item);
  l->got = QN(item);
  l->rc2 = ac_sleep(1);
  return 0;
}

static int queue_late_cancel_controller(void *arg, void **result) {
  struct queue_late_cancel *l = arg;
  QUEUE_YIELD_UNTIL(l->waiting);
  ASSERT_OK(ac_queue_put(l->q, QI(77)));
  ASSERT_OK(ac_task_cancel(l->getter));
  return 0;
}

TEST_IMPL(queue_cancel_after_handoff_loses_no_item) {
  ac_loop_t *loop;
  struct queue_late_cancel l;
  void *item = NULL;
  int rc;

  memset(&l, 0, sizeof(l));
  ASSERT_OK(ac_loop_new(&loop));
  ASSERT_OK(ac_queue_new(loop, 2, &l.q));
  ASSERT_OK(ac_task_spawn(loop, queue_late_cancel_getter, &l, NULL, &l.getter));
  ASSERT_OK(ac_task_spawn(loop, queue_late_cancel_controller, &l, NULL, NULL));
  ASSERT_OK(ac_loop_run(loop));
  rc = ac_queue_try_get(l.q, &item);
  if (l.rc == 0) {
    /* The getter got it; the cancel reached its next await. */
    ASSERT_EQ(l.got, 77);
    ASSERT_ERR(l.rc2, AC_ECANCELED);
    ASSERT_ERR(rc, AC_EAGAIN);
  } else {
    /* Or the get was cancelled, and then the item must still be queued. */
    ASSERT_ERR(l.rc, AC_ECANCELED);
    ASSERT_OK(rc);
    ASSERT_EQ(QN(item), 77);
  }
  ac_task_release(l.getter);
  ASSERT_OK(ac_queue_free(l.q));
  ASSERT_OK(ac_loop_close(loop));
}

/* ----------------------------------------------------- timeouts, outside */

struct queue_timeout {
  ac_queue_t *q;
  int put_rc;
  int get_rc;
  void *item;
};

static int queue_timeout_body(void *arg, void **result) {
  struct queue_timeout *t = arg;
  ac_timeout_t to;
  ASSERT_OK(ac_timeout_enter(&to, 5));
  t->put_rc = ac_queue_put(t->q, QI(2)); /* full */
  ASSERT_ERR(ac_timeout_leave(&to), AC_ETIMEDOUT);
  ASSERT_OK(ac_queue_try_get(t->q, &t->item)); /* empty it */
  ASSERT_OK(ac_timeout_enter(&to, 5));
  t->get_rc = ac_queue_get(t->q, &t->item);  /* empty */
  ASSERT_ERR(ac_timeout_leave(&to), AC_ETIMEDOUT);
  return 0;
}

TEST_IMPL(queue_timeout_and_outside_task) {
  ac_loop_t *loop;
  struct queue_timeout t;
  void *item = NULL;

  memset(&t, 0, sizeof(t));
  ASSERT_OK(ac_loop_new(&loop));
  ASSERT_OK(ac_queue_new(loop, 1, &t.q));
  ASSERT_ERR(ac_queue_put(t.q, QI(1)), AC_ENOTASK);
  ASSERT_EQ(ac_queue_size(t.q), 0);
  ASSERT_ERR(ac_queue_get(t.q, &item), AC_ENOTASK);
  ASSERT_OK(ac_queue_try_put(t.q, QI(1))); /* the try_ calls work anywhere */
  ASSERT_ERR(ac_queue_get(t.q, &item), AC_ENOTASK);
  ASSERT_EQ(ac_queue_size(t.q), 1);
  ASSERT_OK(ac_task_spawn(loop, queue_timeout_body, &t, NULL, NULL));
  ASSERT_OK(ac_loop_run(loop));
  ASSERT_ERR(t.put_rc, AC_ETIMEDOUT);
  ASSERT_EQ(QN(t.item), 1);    /* the timed-out put did not queue 2 */
  ASSERT_ERR(t.get_rc, AC_ETIMEDOUT);
  ASSERT_EQ(ac_queue_size(t.q), 0);
  ASSERT_OK(ac_queue_free(t.q)); /* no waiter left behind */
  ASSERT_OK(ac_loop_close(loop));
}

static int queue_block_get(void *arg, void **result) {
  void *item;
  return ac_queue_get(arg, &item);
}

TEST_IMPL(queue_free_with_waiters_is_busy) {
  ac_loop_t *loop;
  ac_queue_t *q;
  ac_task_t *t;

  ASSERT_OK(ac_loop_new(&loop));
  ASSERT_OK(ac_queue_new(loop, 1, &q));
  ASSERT_OK(ac_task_spawn(loop, queue_block_get, q, NULL, &t));
  ASSERT_OK(ac_loop_run(loop));
  ASSERT_EQ(ac_task_state(t), AC_TASK_PENDING);
  ASSERT_ERR(ac_queue_free(q), AC_EBUSY);
  ASSERT_OK(ac_queue_try_put(q, QI(3))); /* still usable: wakes the getter */
  ASSERT_OK(ac_loop_run(loop));
  ASSERT_EQ(ac_task_state(t), AC_TASK_DONE);
  ac_task_release(t);
  ASSERT_OK(ac_queue_free(q));
  ASSERT_OK(ac_loop_close(loop));
}

/* ------------------------------------------------ many producers, consumers */


#define QUEUE_MANY_ITEMS 100000L
#define QUEUE_MANY_PRODUCERS 4
#define QUEUE_MANY_CONSUMERS 5
#define QUEUE_MANY_CAP 16

struct queue_many {
  ac_loop_t *loop;
  ac_queue_t *q;
  long per_producer;
  long total;
  unsigned char *seen;
  long count;
  long long sum;
  long duplicates;
  long out_of_range;
  long out_of_order;     /* a consumer saw one producer's items out of order */
  long per_consumer[QUEUE_MANY_CONSUMERS];
  int close_rc[QUEUE_MANY_CONSUMERS];
  int coordinator_rc;
};

struct queue_many_arg {
  struct queue_many *m;
  int index;
};

static int queue_many_producer(void *arg, void **result) {
  struct queue_many_arg *a = arg;
  struct queue_many *m = a->m;
  long i, base = a->index * m->per_producer;
  int rc;
  for (i = 1; i <= m->per_producer; i++) {
    void *item = QI(base + i);
    /* Mix in the non-waiting call: fall back to put when full. */
    if (i % 7 == 0) {
      rc = ac_queue_try_put(m->q, item);
      if (rc == AC_EAGAIN) rc = ac_queue_put(m->q, item);
    } else {
      rc = ac_queue_put(m->q, item);
    }
    if (rc != 0) return rc;
    if (i % 1000 == 0 && (rc = ac_yield()) != 0) return rc;
  }
  return 0;
}

static int queue_many_consumer(void *arg, void **result) {
  struct queue_many_arg *a = arg;
  struct queue_many *m = a->m;
  long last[QUEUE_MANY_PRODUCERS] = {0};
  long n = 0;
  int rc;
  for (;;) {
    void *item;
    long v, p;
    if (n % 5 == 0) {
      rc = ac_queue_try_get(m->q, &item);
      if (rc == AC_EAGAIN) rc = ac_queue_get(m->q, &item);
    } else {
      rc = ac_queue_get(m->q, &item);
    }
    if (rc != 0) break;
    n++;
    v = QN(item);
    if (v < 1 || v > m->total) {
      m->out_of_range++;
      continue;
    }
    if (m->seen[v]++) m->duplicates++;
    m->count++;
    m->sum += v;
    p = (v - 1) / m->per_producer;
    if (v <= last[p]) m->out_of_order++;
    last[p] = v;
  }
  m->per_consumer[a->index] = n;
  m->close_rc[a->index] = rc;
  return rc == AC_ECLOSED ? 0 : rc;
}

static int queue_many_coordinator(void *arg, void **result) {
  struct queue_many *m = arg;
  struct queue_many_arg pargs[QUEUE_MANY_PRODUCERS], cargs[QUEUE_MANY_CONSUMERS];
  ac_task_t *producers[QUEUE_MANY_PRODUCERS], *consumers[QUEUE_MANY_CONSUMERS];
  int i, rc;

  for (i = 0; i < QUEUE_MANY_CONSUMERS; i++) {
    cargs[i].m = m;
    cargs[i].index = i;
    ASSERT_OK(ac_task_spawn(m->loop, queue_many_consumer, &cargs[i], NULL, &consumers[i]));
  }
  for (i = 0; i < QUEUE_MANY_PRODUCERS; i++) {
    pargs[i].m = m;
    pargs[i].index = i;
    ASSERT_OK(ac_task_spawn(m->loop, queue_many_producer, &pargs[i], NULL, &producers[i]));
  }
  rc = ac_gather(producers, QUEUE_MANY_PRODUCERS);
  ac_queue_close(m->q); /* consumers drain what is left, then see AC_ECLOSED */
  if (rc == 0) rc = ac_gather(consumers, QUEUE_MANY_CONSUMERS);
  else (void)ac_gather(consumers, QUEUE_MANY_CONSUMERS);
  for (i = 0; i < QUEUE_MANY_PRODUCERS; i++) ac_task_release(producers[i]);
  for (i = 0; i < QUEUE_MANY_CONSUMERS; i++) ac_task_release(consumers[i]);
  m->coordinator_rc = rc;
  return rc;
}

TEST_IMPL(queue_many_producers_and_consumers) {
  ac_loop_t *loop;
  struct queue_many m;
  long v, total_per_consumer = 0;
  int i;

  ac_test_count_allocations();
  memset(&m, 0, sizeof(m));
  m.per_producer = QUEUE_MANY_ITEMS / QUEUE_MANY_PRODUCERS;
  m.total = m.per_producer * QUEUE_MANY_PRODUCERS;
  ASSERT_EQ(m.total, QUEUE_MANY_ITEMS);
  m.seen = calloc((size_t)m.total + 1, 1);
  ASSERT_NOT_NULL(m.seen);
  ASSERT_OK(ac_loop_new(&loop));
  m.loop = loop;
  ASSERT_OK(ac_queue_new(loop, QUEUE_MANY_CAP, &m.q));
  ASSERT_OK(ac_task_spawn(loop, queue_many_coordinator, &m, NULL, NULL));
  ASSERT_OK(ac_loop_run(loop));
  ASSERT_OK(m.coordinator_rc);
  ASSERT_EQ(m.out_of_range, 0);
  ASSERT_EQ(m.duplicates, 0);
  ASSERT_EQ(m.out_of_order, 0);
  ASSERT_EQ(m.count, m.total);
  ASSERT_EQ(m.sum, (long long)m.total * (m.total + 1) / 2);
  for (v = 1; v <= m.total; v++) ASSERT_EQ(m.seen[v], 1);
  for (i = 0; i < QUEUE_MANY_CONSUMERS; i++) {
    ASSERT_ERR(m.close_rc[i], AC_ECLOSED);
    total_per_consumer += m.per_consumer[i];
  }
  ASSERT_EQ(total_per_consumer, m.total);
  ASSERT_EQ(ac_queue_size(m.q), 0);
  ASSERT_GT(ac_test_live_allocations(), 0);
  ASSERT_OK(ac_queue_free(m.q));
  free(m.seen);
  ASSERT_OK(ac_loop_close(loop));
  ASSERT_EQ(ac_test_live_allocations(), 0); /* the queue, tasks, stacks, loop: all freed */
}
