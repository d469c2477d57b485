/*
 * The runtime's private declarations, shared by the files of src/runtime/
 * only. What the layers above may do with a loop and its tasks is declared
 * in runtime/ext.h (included here), and nothing else of this file is theirs.
 */
#ifndef AC_RUNTIME_INTERNAL_H
#define AC_RUNTIME_INTERNAL_H

#include <uv.h>

#include "acrawl.h"
#include "common/alloc.h"
#include "common/heap.h"
#include "common/list.h"
#include "runtime/coro.h"
#include "runtime/ext.h"

/* ------------------------------------------------------------ the loop */

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


/* Sets up the loop's timer handle; returns 0 or an AC_E* code. */
int ac__timers_init(ac_loop_t *loop);
/* Closes it; calls ac__loop_handle_closed once it is closed. */
void ac__timers_close(ac_loop_t *loop);
/* Whether h is the loop's own timer handle. */
int ac__timers_own(const ac_loop_t *loop, const uv_handle_t *h);

void ac__signals_close_all(ac_loop_t *loop);
int ac__signal_is_ours(ac_loop_t *loop, const uv_handle_t *h);

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
