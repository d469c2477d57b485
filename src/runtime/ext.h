/*
 * The runtime's extension interface: what the layers built on it (the HTTP
 * client and server, and any other that suspends tasks on its own events)
 * may do with a loop and its tasks. The loop's and the task's fields stay
 * private to src/runtime/ (runtime/internal.h): a layer schedules work on
 * the ready queue, cancels what it scheduled, runs timers, counts the libuv
 * handles it closes so that ac_loop_close waits for them, and makes tasks
 * wait on its objects, all through the functions below. The libuv loop
 * itself is reached with the public ac_loop_uv.
 *
 * How a task waits (the one protocol every primitive follows):
 *
 *   1. rc = ac__wait_check(task): refuse to start a wait when a cancellation
 *      or an expired timeout is pending (returns it, consuming a cancel);
 *   2. link a `struct ac__wait` (on the task's stack) into the object's
 *      waiter list, with an abort function;
 *   3. rc = ac__task_suspend(w): the task yields to the loop;
 *   4. the object calls ac__task_wake(task, status) when the wait is over:
 *      the task goes on the ready queue and, when the loop resumes it,
 *      ac__task_suspend returns status.
 *
 * Cancellation and timeouts call w->abort: AC__ABORT_NOW means the wait was
 * unlinked and the task may be woken with the interrupt status at once;
 * AC__ABORT_LATER means the object will wake the task itself (with
 * w->interrupt); AC__ABORT_NEVER means the wait cannot be interrupted (a
 * worker thread running) and the interrupt stays pending for the next wait.
 */
#ifndef AC_RUNTIME_EXT_H
#define AC_RUNTIME_EXT_H

#include <uv.h>

#include "acrawl.h"
#include "common/heap.h"
#include "common/list.h"

/* ------------------------------------------------- the ready queue */

/* Something to run on the loop's stack at the next turn (FIFO). A task's
 * resumption is one; so are deferred done callbacks. */
struct ac__soon {
  struct ac__list node;
  void (*run)(struct ac__soon *s);
  unsigned queued : 1;
};

/* Queue s to run at the loop's next turn (no-op if already queued). */
void ac__loop_soon(ac_loop_t *loop, struct ac__soon *s);
/* Take s off the ready queue if it is queued (no-op otherwise): what was
 * scheduled for an object being freed must not run. */
void ac__loop_soon_cancel(ac_loop_t *loop, struct ac__soon *s);

/* --------------------------------------------------------- timers */

struct ac__timer {
  struct ac__heap_node node;
  uint64_t due;             /* uv_hrtime() in µs (not the loop's cached ms) */
  uint64_t seq;             /* FIFO among equal deadlines */
  void (*cb)(struct ac__timer *t);
  unsigned active : 1;
};

void ac__timer_init(struct ac__timer *t, void (*cb)(struct ac__timer *t));
void ac__timer_start(ac_loop_t *loop, struct ac__timer *t, uint64_t timeout_ms);
/* The same with an absolute deadline in ac_now_us's microseconds. */
void ac__timer_start_at(ac_loop_t *loop, struct ac__timer *t, uint64_t due_us);
void ac__timer_stop(ac_loop_t *loop, struct ac__timer *t);

/* ------------------------------------------------- closing handles */

/* ac_loop_close runs the loop until every libuv handle a layer closes has
 * called back, so that no callback outlives the loop. A layer counts each
 * one: ac__loop_close closes h after counting it, and h's close callback
 * (cb) must call ac__loop_handle_closed. ac__loop_closing_add counts
 * something else that will call back (a libuv request such as a getaddrinfo
 * in flight); its callback calls ac__loop_handle_closed too. */
void ac__loop_closing_add(ac_loop_t *loop);
void ac__loop_close(ac_loop_t *loop, uv_handle_t *h, uv_close_cb cb);
/* Called by libuv close callbacks of handles the loop tracks. */
void ac__loop_handle_closed(ac_loop_t *loop);

/* ------------------------------------------------------- waiting */

enum ac__abort_result { AC__ABORT_NOW, AC__ABORT_LATER, AC__ABORT_NEVER };

struct ac__wait {
  ac_task_t *task;
  struct ac__list node;     /* in the object's waiter list */
  enum ac__abort_result (*abort)(struct ac__wait *w);
  int interrupt;            /* the status an abort delivers (set before abort) */
  unsigned aborting : 1;    /* abort returned AC__ABORT_LATER: wake pending */
  void *data;               /* per-primitive: the item of a queue wait, etc. */
  /* Called instead of waking the task when a waitable settles (multi-waits);
   * NULL means wake the task with status 0. */
  void (*notify)(struct ac__wait *w);
};

/* Returns 0 if the task may start a wait, else AC_ECANCELED (consumed) or
 * AC_ETIMEDOUT (an enclosing timeout scope expired). */
int ac__wait_check(ac_task_t *task);
/* Suspend the current task in wait w (already linked); returns its status. */
int ac__task_suspend(struct ac__wait *w);
/* Put a suspended task on the ready queue; its wait returns status. */
void ac__task_wake(ac_task_t *task, int status);
/* The running task, or NULL; sets *err to AC_ENOTASK when NULL. */
ac_task_t *ac__task_require(int *err);
/* Interrupt a task's current wait with status (cancel or timeout). Returns 1
 * if the wait was interrupted (now or later), 0 if it could not be. */
int ac__task_interrupt(ac_task_t *task, int status);
/* Await target's end without reading its outcome: 0 once it is finished, else
 * the interruption (AC_ECANCELED / AC_ETIMEDOUT) that ended the wait. */
int ac__task_await_finish(ac_task_t *self, ac_task_t *target);
/* Common abort: unlink from the waiter list. */
enum ac__abort_result ac__wait_abort_unlink(struct ac__wait *w);
/* Wake every waiter of a list with status; each is unlinked first. */
void ac__wake_all(struct ac__list *waiters, int status);

#endif /* AC_RUNTIME_EXT_H */
