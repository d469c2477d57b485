/*
 * The runtime's private declarations, shared by the files of src/runtime/ and
 * by the layers above (http/ will suspend tasks the same way).
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
#ifndef AC_RUNTIME_INTERNAL_H
#define AC_RUNTIME_INTERNAL_H

#include <uv.h>

#include "acrawl.h"
#include "common/alloc.h"
#include "common/heap.h"
#include "common/list.h"
#include "runtime/coro.h"

/* ------------------------------------------------------------ the loop */

/* Something to run on the loop's stack at the next turn (FIFO). A task's
 * resumption is one; so are deferred done callbacks. */
struct ac__soon {
  struct ac__list node;
  void (*run)(struct ac__soon *s);
  unsigned queued : 1;
};

struct ac__timer {
  struct ac__heap_node node;
  uint64_t due;             /* uv_hrtime() in µs (not the loop's cached ms) */
  uint64_t seq;             /* FIFO among equal deadlines */
  void (*cb)(struct ac__timer *t);
  unsigned active : 1;
};

struct ac_loop {
  uv_loop_t uv;
  uv_idle_t idle;           /* active while work is ready: the poll must not block */
  uv_check_t check;         /* runs ready work right after the poll (unref'd) */
#ifdef __linux__
  uv_poll_t timer;          /* on timer_fd, a timerfd armed for the earliest ac__timer */
  int timer_fd;
#else
  uv_timer_t timer;         /* armed for the earliest ac__timer (ms precision) */
#endif
  uint64_t timer_armed;     /* the due time it is armed for; 0: not armed */
  struct ac__heap timers;
  uint64_t timer_seq;
  struct ac__list ready;    /* struct ac__soon, FIFO */
  size_t nready;
  struct ac__list tasks;    /* every live task (all_node), for cancel_all */
  size_t ntasks;            /* live tasks: unfinished or referenced */
  uint64_t completion_seq;  /* stamps finished tasks, for as_completed */
  struct ac__stack_pool *stacks;
  struct ac__list signals;  /* struct ac__signal */
  size_t nclosing;          /* libuv handles whose close callback is pending */
  ac_unretrieved_cb unretrieved_cb;
  void *unretrieved_data;
  unsigned running : 1;
};

/* Queue s to run at the loop's next turn (no-op if already queued). */
void ac__loop_soon(ac_loop_t *loop, struct ac__soon *s);

void ac__timer_init(struct ac__timer *t, void (*cb)(struct ac__timer *t));
void ac__timer_start(ac_loop_t *loop, struct ac__timer *t, uint64_t timeout_ms);
/* The same with an absolute deadline in ac_now_us's microseconds. */
void ac__timer_start_at(ac_loop_t *loop, struct ac__timer *t, uint64_t due_us);
void ac__timer_stop(ac_loop_t *loop, struct ac__timer *t);
/* Sets up the loop's timer handle; returns 0 or an AC_E* code. */
int ac__timers_init(ac_loop_t *loop);
/* Closes it; calls ac__loop_handle_closed once it is closed. */
void ac__timers_close(ac_loop_t *loop);
/* Whether h is the loop's own timer handle. */
int ac__timers_own(const ac_loop_t *loop, const uv_handle_t *h);

/* Called by libuv close callbacks of handles the loop tracks. */
void ac__loop_handle_closed(ac_loop_t *loop);
void ac__signals_close_all(ac_loop_t *loop);
int ac__signal_is_ours(ac_loop_t *loop, const uv_handle_t *h);

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

/* --------------------------------------------- waitables: tasks, futures */

/* A user done callback. */
struct ac__callback {
  struct ac__callback *next;
  void (*fn)(void);         /* the user's callback, cast back by invoke */
  void *userdata;
};

/* What tasks and futures share: a list of waiting tasks notified when the
 * object settles, and done callbacks run from the loop afterwards. */
struct ac__waitable {
  struct ac__list waiters;  /* struct ac__wait */
  struct ac__callback *callbacks;
  struct ac__callback **callbacks_tail;
  struct ac__soon run_callbacks;
  void *owner;              /* the task or future, passed to callbacks */
  void (*retain)(void *owner);
  void (*release)(void *owner);
  /* Calls cb->fn with its real type (task or future callback). */
  void (*invoke)(void *owner, const struct ac__callback *cb);
  ac_loop_t *loop;
};

void ac__waitable_init(struct ac__waitable *w, ac_loop_t *loop, void *owner,
                       void (*retain)(void *), void (*release)(void *),
                       void (*invoke)(void *, const struct ac__callback *));
/* The object has settled: notify waiters, schedule callbacks. */
void ac__waitable_settle(struct ac__waitable *w);
int ac__waitable_add_callback(struct ac__waitable *w, int settled, void (*fn)(void),
                              void *userdata);
/* Free callbacks that never ran (an object freed unsettled). */
void ac__waitable_dispose(struct ac__waitable *w);

/* ------------------------------------------------------------ tasks */

/* A timeout scope. Owned by its task, not by the caller's ac_timeout_t: a
 * scope left open when the task returns would otherwise be a timer in the
 * heap pointing into a dead frame. */
struct ac__scope {
  struct ac__scope *outer;
  ac_task_t *task;
  ac_timeout_t *handle;
  struct ac__timer timer;
  int expired;
};
/* Close every scope the task left open (at its end). */
void ac__scopes_close_all(ac_task_t *task);

struct ac_task {
  struct ac__soon resume;   /* on the loop's ready queue when runnable */
  struct ac__list all_node; /* in loop->tasks */
  struct ac__waitable done; /* tasks awaiting this one; done callbacks */
  ac_loop_t *loop;
  ac_task_fn fn;
  void *arg;
  void *result;
  int err;
  int wake_status;
  ac_task_state_t state;
  unsigned refs;
  unsigned started : 1;
  unsigned cancel_pending : 1;
  unsigned err_retrieved : 1;
  struct ac__wait *wait;    /* the wait it is suspended in, if any */
  struct ac__scope *scopes; /* innermost timeout scope */
  struct ac__coro coro;
  size_t stack_size;
  uint64_t id;
  uint64_t done_seq;        /* loop->completion_seq when it finished; 0 before */
  char *name;               /* a given name (owned), or NULL: "task-<id>" */
  char default_name[28];    /* formatted on first ac_task_name, not at spawn */
};

extern _Thread_local ac_task_t *ac__current_task;

#endif /* AC_RUNTIME_INTERNAL_H */
