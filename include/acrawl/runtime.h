/*
 * acrawl runtime: an asyncio-like runtime in C, on libuv.
 *
 * A loop runs tasks. A task is a function running on its own coroutine stack;
 * when it awaits (sleep, a future, another task, a semaphore, a queue, a
 * worker thread, later HTTP), it is suspended and the loop runs others. A task
 * is resumed only from the loop's ready queue, never from inside a libuv or
 * libcurl callback, so a resumed task may call anything.
 *
 * Conventions (see acrawl/errno.h):
 *   - functions return 0 or a negative AC_E* code;
 *   - functions that suspend (the "awaiting" ones, marked AWAITS below) must be
 *     called from inside a task: elsewhere they return AC_ENOTASK;
 *   - an awaiting call returns AC_ECANCELED when its task was cancelled while
 *     it waited, and AC_ETIMEDOUT when an enclosing timeout scope expired
 *     (ac_timeout_enter). The operation it waited for did not happen: a
 *     semaphore was not acquired, an item was not taken from a queue. A
 *     pending cancellation or expired scope is delivered by the next awaiting
 *     call even when it would not have had to wait. A wait that was already
 *     satisfied (a permit or an item handed over) when the cancellation came
 *     returns 0, and the cancellation goes to the next awaiting call: nothing
 *     handed over is ever lost;
 *   - callbacks (done callbacks, signal callbacks) run on the loop's own stack,
 *     outside every task: they may resolve futures, cancel or spawn tasks, put
 *     to queues with the try_ calls, but never await;
 *   - objects are owned by whoever created them, except tasks and futures,
 *     which are reference counted (each *_release drops one reference).
 *
 * Everything here is single-threaded: call it from the loop's thread only
 * (several loops may run in several threads). To run blocking code, leave the
 * loop with ac_run_in_thread and come back.
 */
#ifndef ACRAWL_RUNTIME_H
#define ACRAWL_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#include "acrawl/export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ac_loop ac_loop_t;
typedef struct ac_task ac_task_t;
typedef struct ac_future ac_future_t;
typedef struct ac_sem ac_sem_t;
typedef struct ac_event ac_event_t;
typedef struct ac_queue ac_queue_t;

/**
 * A task's body: runs on the task's own stack. Returns 0 (and may set
 * *result, a pointer acrawl never frees) or a negative AC_E* error.
 */
typedef int (*ac_task_fn)(void *arg, void **result);

/* ------------------------------------------------------------------ loop */

/**
 * Create a loop with its own libuv loop. Returns 0 and sets *out, or
 * AC_ENOMEM / a libuv error. Free it with ac_loop_close().
 */
AC_EXTERN int ac_loop_new(ac_loop_t **out);

/**
 * Run the loop until nothing is left to do: no task ready, no timer, no
 * active libuv handle. Tasks suspended on something that can never complete
 * (a future nobody resolves) do not keep it running. Returns 0, or AC_EBUSY if
 * called re-entrantly (from inside a task or callback of the same loop).
 */
AC_EXTERN int ac_loop_run(ac_loop_t *loop);

/**
 * Run the loop until `task` is finished (done, failed or cancelled). Returns
 * 0 when it finished (its own outcome is read with ac_task_state /
 * ac_task_result), AC_EDEADLK if the loop ran out of work first (the task
 * waits on something nothing will complete), AC_EBUSY if called re-entrantly.
 */
AC_EXTERN int ac_loop_run_until_done(ac_loop_t *loop, ac_task_t *task);

/** Make ac_loop_run return after the current loop iteration. Tasks keep their state. */
AC_EXTERN void ac_loop_stop(ac_loop_t *loop);

/**
 * Free the loop. Returns AC_EBUSY (and frees nothing: the loop stays usable)
 * while tasks are still alive (unfinished, or finished but still referenced),
 * done callbacks are still queued, or libuv handles the program added through
 * ac_loop_uv are open; cancel and
 * run them first, like libuv's uv_loop_close. Signal watchers are closed
 * here. 0 on success.
 */
AC_EXTERN int ac_loop_close(ac_loop_t *loop);

/** Milliseconds of the loop's monotonic clock, as cached at the current iteration. */
AC_EXTERN uint64_t ac_loop_now(const ac_loop_t *loop);

/** The libuv loop underneath, to add your own handles. Owned by the ac loop. */
AC_EXTERN struct uv_loop_s *ac_loop_uv(ac_loop_t *loop);

/** Number of tasks alive on the loop (unfinished, or finished and referenced). */
AC_EXTERN size_t ac_loop_task_count(const ac_loop_t *loop);

/** Cancel every unfinished task of the loop (as ac_task_cancel). Returns how many. */
AC_EXTERN size_t ac_loop_cancel_all(ac_loop_t *loop);

/**
 * Called when a failed task is freed while nobody retrieved its error (by
 * awaiting it, ac_task_result, gather, or ac_task_error): asyncio's "Task
 * exception was never retrieved". The default handler prints one line on
 * stderr with the task's name and error. `task` is valid only during the call.
 */
typedef void (*ac_unretrieved_cb)(ac_loop_t *loop, ac_task_t *task, int err, void *userdata);
AC_EXTERN void ac_loop_set_unretrieved_handler(ac_loop_t *loop, ac_unretrieved_cb cb,
                                               void *userdata);

/**
 * asyncio.run: create a loop, run main_fn(arg) as a task named "main" until
 * it finishes, cancel the tasks it left behind and let them unwind, close the
 * loop. Returns main's status (0, its error, AC_ECANCELED) or a loop error.
 * If result is not NULL, main's result is stored there.
 */
AC_EXTERN int ac_run(ac_task_fn main_fn, void *arg, void **result);

/* ----------------------------------------------------------------- tasks */

/** A task's life: pending (created or suspended), running, then one of the
 * three finished states. Readable at any time with ac_task_state. */
typedef enum {
  AC_TASK_PENDING = 0,
  AC_TASK_RUNNING,
  AC_TASK_DONE,      /* the function returned 0 */
  AC_TASK_FAILED,    /* it returned a negative error other than AC_ECANCELED */
  AC_TASK_CANCELLED  /* it was cancelled before it started, or returned AC_ECANCELED */
} ac_task_state_t;

/** "pending", "running", "done", "failed", "cancelled". Static. */
AC_EXTERN const char *ac_task_state_name(ac_task_state_t state);

typedef struct ac_task_opts {
  /** Copied. NULL gives "task-<id>". */
  const char *name;
  /** Usable stack bytes, rounded up to pages; 0 gives the default (64 KiB,
   * 256 KiB under AddressSanitizer). The stack has a guard page below it. */
  size_t stack_size;
} ac_task_opts_t;

/**
 * Spawn a task that will run fn(arg, &result) on its own stack. It starts at
 * the loop's next turn, never inside this call (asyncio's create_task).
 *
 * The body returns 0 (state done; it may store a result pointer, which acrawl
 * never frees), or a negative AC_E* error (state failed), or AC_ECANCELED
 * (state cancelled).
 *
 * If out is not NULL, *out gets a reference that the caller must drop with
 * ac_task_release; the task runs to its end whether or not anyone holds it.
 * opts may be NULL. Returns 0, AC_ENOMEM, or AC_EINVAL.
 */
AC_EXTERN int ac_task_spawn(ac_loop_t *loop, ac_task_fn fn, void *arg,
                            const ac_task_opts_t *opts, ac_task_t **out);

/** Add a reference. Returns task. */
AC_EXTERN ac_task_t *ac_task_retain(ac_task_t *task);
/** Drop a reference; the task is freed when it is finished and unreferenced. */
AC_EXTERN void ac_task_release(ac_task_t *task);

/** The task running now, or NULL outside tasks. Borrowed. */
AC_EXTERN ac_task_t *ac_task_current(void);
/** The loop a task belongs to. */
AC_EXTERN ac_loop_t *ac_task_loop(const ac_task_t *task);
AC_EXTERN ac_task_state_t ac_task_state(const ac_task_t *task);
/** 1 for done, failed or cancelled. */
AC_EXTERN int ac_task_is_finished(const ac_task_t *task);
/** The task's name, owned by the task. */
AC_EXTERN const char *ac_task_name(const ac_task_t *task);
/** A number unique in the process, starting at 1. */
AC_EXTERN uint64_t ac_task_id(const ac_task_t *task);

/**
 * A finished task's outcome: 0 and *result (if not NULL) for done; its error
 * for failed; AC_ECANCELED for cancelled; AC_EINPROGRESS if not finished.
 * Marks the error as retrieved.
 */
AC_EXTERN int ac_task_result(ac_task_t *task, void **result);

/** Like ac_task_result without the result: the task's error or 0. */
AC_EXTERN int ac_task_error(ac_task_t *task);

/**
 * AWAITS. Suspend the current task until `task` finishes, then return its
 * outcome as ac_task_result does. If the awaiting task is cancelled or its
 * timeout scope expires first, returns AC_ECANCELED / AC_ETIMEDOUT and `task`
 * goes on running (cancel it yourself if that is wanted; ac_wait_for does).
 * Awaiting yourself returns AC_EDEADLK.
 */
AC_EXTERN int ac_task_await(ac_task_t *task, void **result);

/**
 * Request cancellation. A task that has not started will never run (state
 * cancelled). A suspended task is woken: whatever it awaits is aborted and the
 * awaiting call returns AC_ECANCELED; the task then runs its cleanup (it may
 * await again) and its final state is what it returns. A task cancelling
 * itself sees AC_ECANCELED at its next await. The request is delivered once:
 * cancelling again before the task has seen the first cancellation changes
 * nothing. Returns 0, or AC_EINVAL if the task already finished.
 */
AC_EXTERN int ac_task_cancel(ac_task_t *task);

/** 1 if a cancellation was requested and not yet delivered to an await. */
AC_EXTERN int ac_task_cancel_pending(const ac_task_t *task);

/**
 * Call cb(task, userdata) once the task is finished, from the loop (never
 * from inside this call, even if the task is already finished: then at the
 * next turn, or right after the running callback when added from a callback of
 * the same task). Callbacks run in the order added. Returns 0 or AC_ENOMEM
 * (and then the callback never runs).
 */
typedef void (*ac_task_done_cb)(ac_task_t *task, void *userdata);
AC_EXTERN int ac_task_add_done_callback(ac_task_t *task, ac_task_done_cb cb, void *userdata);

/** AWAITS. Give the other ready tasks a turn (asyncio.sleep(0)). */
AC_EXTERN int ac_yield(void);

/* --------------------------------------------------------------- futures */

/** A future: a value that someone will set once, awaited by tasks. */
typedef enum {
  AC_FUTURE_PENDING = 0,
  AC_FUTURE_RESOLVED,   /* with a value */
  AC_FUTURE_REJECTED,   /* with an error */
  AC_FUTURE_CANCELLED
} ac_future_state_t;

/** Create a pending future; the caller holds one reference. 0 or AC_ENOMEM. */
AC_EXTERN int ac_future_new(ac_loop_t *loop, ac_future_t **out);
AC_EXTERN ac_future_t *ac_future_retain(ac_future_t *f);
AC_EXTERN void ac_future_release(ac_future_t *f);
AC_EXTERN ac_future_state_t ac_future_state(const ac_future_t *f);

/** Resolve with a value (never freed by acrawl). Wakes every awaiting task.
 * Returns 0, or AC_EINVAL if the future is no longer pending. */
AC_EXTERN int ac_future_resolve(ac_future_t *f, void *value);
/** Reject with an error (negative, not 0). AC_EINVAL if not pending or err >= 0. */
AC_EXTERN int ac_future_reject(ac_future_t *f, int err);
/** Cancel: awaiting tasks get AC_ECANCELED. AC_EINVAL if not pending. */
AC_EXTERN int ac_future_cancel(ac_future_t *f);

/**
 * AWAITS. Wait until the future is settled. Returns 0 and *value (if not
 * NULL) when resolved, the error when rejected, AC_ECANCELED when the future
 * was cancelled or the awaiting task was, AC_ETIMEDOUT when a timeout scope
 * expired. Returns at once if it is already settled.
 */
AC_EXTERN int ac_future_await(ac_future_t *f, void **value);

/** The outcome of a settled future without waiting: as ac_future_await, or
 * AC_EINPROGRESS while pending. */
AC_EXTERN int ac_future_result(const ac_future_t *f, void **value);

/** cb(f, userdata) once the future is settled, from the loop (see the task
 * version). 0 or AC_ENOMEM. */
typedef void (*ac_future_done_cb)(ac_future_t *f, void *userdata);
AC_EXTERN int ac_future_add_done_callback(ac_future_t *f, ac_future_done_cb cb, void *userdata);

/* ------------------------------------------------------ gather and wait */

/**
 * AWAITS. asyncio.gather: wait until every task is finished. Returns 0 if all
 * are done, else the error of the first task in the array that did not
 * succeed (AC_ECANCELED for a cancelled one); every task's error is marked as
 * retrieved. Read each result with ac_task_result. If the gathering task is
 * cancelled or its timeout scope expires, the unfinished tasks are cancelled
 * too (as asyncio does; they unwind on their own) and AC_ECANCELED /
 * AC_ETIMEDOUT is returned at once.
 */
AC_EXTERN int ac_gather(ac_task_t *const *tasks, size_t n);

typedef enum {
  AC_WAIT_ALL = 0,         /* every task finished */
  AC_WAIT_FIRST_COMPLETED, /* at least one finished */
  AC_WAIT_FIRST_FAILED     /* one failed, or else all finished */
} ac_wait_mode_t;

/** For timeouts: no limit. */
#define AC_NO_TIMEOUT UINT64_MAX

/**
 * AWAITS. asyncio.wait: wait until `mode` is met or timeout_ms passes. Nothing
 * is cancelled. Returns 0 when the condition is met (also if it already was),
 * AC_ETIMEDOUT on the timeout, AC_ECANCELED if the waiter is cancelled. If
 * ndone is not NULL it gets the number of finished tasks. Errors are not
 * marked as retrieved.
 */
AC_EXTERN int ac_wait(ac_task_t *const *tasks, size_t n, ac_wait_mode_t mode,
                      uint64_t timeout_ms, size_t *ndone);

/**
 * AWAITS. asyncio.wait_for on a task: await it with a time limit; on expiry
 * cancel it, wait until it has unwound, and return AC_ETIMEDOUT. Otherwise as
 * ac_task_await.
 */
AC_EXTERN int ac_wait_for(ac_task_t *task, uint64_t timeout_ms, void **result);

/**
 * asyncio.as_completed: iterate over tasks in the order they finish.
 *
 *   ac_as_completed_t it;
 *   ac_as_completed_init(&it, tasks, n, timeout_ms);
 *   while ((rc = ac_as_completed_next(&it, &t)) == 0) use(t);
 *   // rc is AC_EEOF after the last one, AC_ETIMEDOUT, or AC_ECANCELED
 *
 * The array must stay valid while iterating and list each task once. The
 * deadline covers the whole iteration. Fields are private.
 */
typedef struct ac_as_completed {
  ac_task_t *const *tasks;
  size_t n;
  size_t yielded;
  uint64_t last_seq;
  uint64_t deadline;
} ac_as_completed_t;
AC_EXTERN void ac_as_completed_init(ac_as_completed_t *it, ac_task_t *const *tasks, size_t n,
                                    uint64_t timeout_ms);
/** AWAITS. The next task to finish (borrowed: the array's reference). */
AC_EXTERN int ac_as_completed_next(ac_as_completed_t *it, ac_task_t **task);

/* ------------------------------------------------ sleep and timeouts */

/**
 * AWAITS. Suspend the current task for ms milliseconds (0: let the other ready
 * tasks run first). Returns 0, AC_ECANCELED or AC_ETIMEDOUT.
 * Every deadline of the runtime (sleeps, timeout scopes, timed waits) counts
 * from the moment it is set, to the microsecond, not from ac_loop_now's
 * cached time, and is never early. On Linux it wakes within the kernel's
 * timer latency of that moment; elsewhere at the next millisecond tick.
 */
AC_EXTERN int ac_sleep(uint64_t ms);

/**
 * Microseconds of the monotonic clock that every runtime deadline uses (not
 * cached: read at each call). Only differences mean anything; it does not
 * jump when the wall clock is set (asyncio's loop.time(), in microseconds).
 */
AC_EXTERN uint64_t ac_now_us(void);

/**
 * AWAITS. Suspend the current task until ac_now_us() reaches when_us (a
 * deadline computed from an earlier moment, such as the arrival of a request:
 * ac_server_req_arrival_us). A moment already past behaves as ac_sleep(0).
 * Returns 0, AC_ECANCELED or AC_ETIMEDOUT (a timeout scope's deadline came
 * first); never wakes early.
 */
AC_EXTERN int ac_sleep_until(uint64_t when_us);

/**
 * A timeout around any sequence of awaits (asyncio.timeout, trio's
 * move_on_after): between enter and leave, every await of the current task
 * returns AC_ETIMEDOUT once the deadline has passed, whatever it waits for.
 * Scopes nest (the nearest deadline wins):
 *
 *   ac_timeout_t t;
 *   ac_timeout_enter(&t, 500);
 *   rc = do_several_awaits();
 *   if (ac_timeout_leave(&t) == AC_ETIMEDOUT) ...   // this scope expired
 *
 * Leave scopes in reverse order of entering (AC_EINVAL otherwise). A scope
 * still open when the task ends is closed by the runtime. The field is
 * private.
 */
typedef struct ac_timeout {
  void *scope; /* the task's record of this scope */
} ac_timeout_t;
/** Returns 0, AC_ENOTASK outside a task, AC_EINVAL if t is NULL, AC_ENOMEM. */
AC_EXTERN int ac_timeout_enter(ac_timeout_t *t, uint64_t timeout_ms);
/** Returns AC_ETIMEDOUT if this scope's deadline passed, else 0. */
AC_EXTERN int ac_timeout_leave(ac_timeout_t *t);

/* ------------------------------------------------------------ semaphore */

/**
 * A counting semaphore (asyncio.Semaphore). Waiters are served strictly in
 * arrival order: a release hands the permit to the first waiter, so a task
 * that arrives later cannot overtake it (no starvation).
 */
AC_EXTERN int ac_sem_new(ac_loop_t *loop, size_t permits, ac_sem_t **out);
/** Free a semaphore; AC_EBUSY (nothing freed) while tasks wait on it. */
AC_EXTERN int ac_sem_free(ac_sem_t *sem);
/** AWAITS. Take a permit. 0, AC_ECANCELED, AC_ETIMEDOUT (no permit taken then). */
AC_EXTERN int ac_sem_acquire(ac_sem_t *sem);
/** Take a permit if one is free now: 0, or AC_EAGAIN. Never overtakes waiters. */
AC_EXTERN int ac_sem_try_acquire(ac_sem_t *sem);
/** Give a permit back (to the first waiter if any). Never suspends. Like
 * asyncio.Semaphore (not BoundedSemaphore), releasing more than was acquired
 * raises the count above its initial value. */
AC_EXTERN void ac_sem_release(ac_sem_t *sem);
/** Permits free now. */
AC_EXTERN size_t ac_sem_value(const ac_sem_t *sem);
/** Tasks waiting now. */
AC_EXTERN size_t ac_sem_waiters(const ac_sem_t *sem);

/* ---------------------------------------------------------------- event */

/** asyncio.Event: a flag that tasks wait for. */
AC_EXTERN int ac_event_new(ac_loop_t *loop, ac_event_t **out);
/** AC_EBUSY (nothing freed) while tasks wait on it. */
AC_EXTERN int ac_event_free(ac_event_t *ev);
/** Set the flag and wake every waiter. */
AC_EXTERN void ac_event_set(ac_event_t *ev);
AC_EXTERN void ac_event_clear(ac_event_t *ev);
AC_EXTERN int ac_event_is_set(const ac_event_t *ev);
/** AWAITS. Return when the flag is set (at once if it is). 0, AC_ECANCELED, AC_ETIMEDOUT. */
AC_EXTERN int ac_event_wait(ac_event_t *ev);

/* -------------------------------------------------------- bounded queue */

/**
 * A bounded FIFO of pointers (asyncio.Queue(maxsize)): put waits while it is
 * full, get waits while it is empty; both serve waiters in arrival order.
 * Memory is allocated once, at creation: capacity slots.
 *
 * Closing it (asyncio's Queue.shutdown) wakes every waiter: waiting putters
 * get AC_ECLOSED (their item was not queued), later puts fail with AC_ECLOSED,
 * gets go on returning what is queued and then AC_ECLOSED.
 */
AC_EXTERN int ac_queue_new(ac_loop_t *loop, size_t capacity, ac_queue_t **out);
/**
 * Free a queue; AC_EBUSY (nothing freed) while tasks wait on it. Items still
 * queued are not freed (they are the caller's: drain with ac_queue_try_get).
 */
AC_EXTERN int ac_queue_free(ac_queue_t *q);
/** AWAITS. 0, AC_ECLOSED, AC_ECANCELED or AC_ETIMEDOUT (not queued then). */
AC_EXTERN int ac_queue_put(ac_queue_t *q, void *item);
/** AWAITS. 0 and *item, AC_ECLOSED (closed and empty), AC_ECANCELED, AC_ETIMEDOUT. */
AC_EXTERN int ac_queue_get(ac_queue_t *q, void **item);
/** Without waiting: 0, AC_EAGAIN (full), AC_ECLOSED. Usable from callbacks. */
AC_EXTERN int ac_queue_try_put(ac_queue_t *q, void *item);
/** Without waiting: 0, AC_EAGAIN (empty), AC_ECLOSED (closed and empty). */
AC_EXTERN int ac_queue_try_get(ac_queue_t *q, void **item);
AC_EXTERN void ac_queue_close(ac_queue_t *q);
AC_EXTERN size_t ac_queue_size(const ac_queue_t *q);
AC_EXTERN size_t ac_queue_capacity(const ac_queue_t *q);
AC_EXTERN int ac_queue_is_closed(const ac_queue_t *q);

/* ---------------------------------------------------- blocking work */

/**
 * AWAITS. Run work(arg) on a worker thread (libuv's pool) and suspend the
 * current task until it returns; other tasks run meanwhile (asyncio.to_thread).
 * work must not call acrawl runtime functions. Returns 0 when work ran.
 *
 * Cancellation: if the work has not started it is dropped and AC_ECANCELED
 * returned. Once started it cannot be interrupted, and arg may live on the
 * task's stack, so the task waits for it, gets 0, and the cancellation is
 * delivered at its next await instead. Timeout scopes are handled the same way.
 */
typedef void (*ac_work_fn)(void *arg);
AC_EXTERN int ac_run_in_thread(ac_work_fn work, void *arg);

/* ------------------------------------------------------- descriptors */

/**
 * Make room, up front, for n open descriptors in this process: raise the soft
 * RLIMIT_NOFILE to n (never past the hard limit) and grow the kernel's
 * descriptor table to hold n entries. Call it before opening many sockets
 * (a server's max connections, a client's requests in flight, plus a margin
 * for files), ideally before the first thread exists (before ac_run, or
 * before a loop's first ac_run_in_thread).
 *
 * Why: Linux grows the table by doubling, and in a process with threads each
 * doubling puts the thread that opened the descriptor to sleep for an RCU
 * grace period (milliseconds). Opening 10,000 sockets from the loop otherwise
 * stalls it six times. Growing the table once, early,
 * costs one grace period at most, none without threads. It is process-wide
 * and never undone; a table larger than needed costs 8 bytes per entry.
 *
 * Growing the table is best effort: if the far descriptor cannot be opened
 * (descriptors already exhausted), the table grows on demand as before.
 *
 * *available (if not NULL) receives how many descriptors the soft limit now
 * allows, at most n. Returns 0; AC_EMFILE when the hard limit is below n
 * (the limit was raised as far as it goes and the table grown to it: usable,
 * but fewer than asked); AC_EIO when the limit cannot be read or no
 * descriptor can be opened to grow the table. Not tied to a loop; call it from
 * one thread while no other opens descriptors.
 */
AC_EXTERN int ac_reserve_fds(size_t n, size_t *available);

/* ------------------------------------------------------------- signals */

/**
 * Deliver a signal (SIGINT, SIGTERM, ...) as a loop event: cb(loop, signum,
 * userdata) runs on the loop, outside every task, each time the signal
 * arrives. A watcher does not keep the loop running by itself. One watcher per
 * signal per loop: watching again replaces it. Returns 0, AC_EINVAL, AC_ENOMEM.
 */
typedef void (*ac_signal_cb)(ac_loop_t *loop, int signum, void *userdata);
AC_EXTERN int ac_signal_watch(ac_loop_t *loop, int signum, ac_signal_cb cb, void *userdata);
/** Stop watching; the signal's default action applies again. AC_ENOENT if not watched. */
AC_EXTERN int ac_signal_unwatch(ac_loop_t *loop, int signum);

#ifdef __cplusplus
}
#endif
#endif /* ACRAWL_RUNTIME_H */
