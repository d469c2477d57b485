/*
 * Tasks: a function on its own coroutine stack, resumed only from the loop's
 * ready queue. See internal.h for the wait protocol every primitive follows.
 */
#include <stdio.h>

#include "runtime/internal.h"

_Thread_local ac_task_t *ac__current_task;
static uint64_t next_task_id;

static void task_step(struct ac__soon *s);

static void retain_cb(void *t) { ac_task_retain(t); }
static void release_cb(void *t) { ac_task_release(t); }
static void invoke_cb(void *t, const struct ac__callback *cb) {
  ((ac_task_done_cb)cb->fn)(t, cb->userdata);
}

static void task_entry(void *arg) {
  ac_task_t *t = arg;
  int rc = t->fn(t->arg, &t->result);
  /* A body must return 0 or a negative code; anything else is a bug in it. */
  t->err = rc > 0 ? AC_EINVAL : rc;
}

int ac_task_spawn(ac_loop_t *loop, ac_task_fn fn, void *arg, const ac_task_opts_t *opts,
                  ac_task_t **out) {
  ac_task_t *t;

  if (out != NULL) *out = NULL;
  if (loop == NULL || fn == NULL) return AC_EINVAL;
  t = ac__calloc(1, sizeof(*t));
  if (t == NULL) return AC_ENOMEM;
  t->id = __atomic_add_fetch(&next_task_id, 1, __ATOMIC_RELAXED);
  if (opts != NULL && opts->name != NULL) {
    t->name = ac__strdup(opts->name);
    if (t->name == NULL) {
      ac__free(t);
      return AC_ENOMEM;
    }
  }
  t->loop = loop;
  t->fn = fn;
  t->arg = arg;
  t->stack_size = opts != NULL ? opts->stack_size : 0;
  t->state = AC_TASK_PENDING;
  t->refs = out != NULL ? 2 : 1; /* the loop holds one until the task finishes */
  t->resume.run = task_step;
  ac__waitable_init(&t->done, loop, t, retain_cb, release_cb, invoke_cb);
  ac__list_insert_tail(&loop->tasks, &t->all_node);
  loop->ntasks++;
  ac__loop_soon(loop, &t->resume);
  if (out != NULL) *out = t;
  return 0;
}

/* The task's function returned (or never ran): record the outcome, give the
 * stack back, wake whoever awaits it. Runs on the loop's stack. */
static void finish(ac_task_t *t, int err) {
  ac_loop_t *loop = t->loop;

  ac__scopes_close_all(t);
  if (t->coro.stack != NULL) {
    ac__coro_destroy(&t->coro);
    ac__stack_put(loop->stacks, t->coro.stack);
    t->coro.stack = NULL;
  }
  t->err = err;
  if (err == 0)
    t->state = AC_TASK_DONE;
  else if (err == AC_ECANCELED)
    t->state = AC_TASK_CANCELLED;
  else
    t->state = AC_TASK_FAILED;
  t->done_seq = ++loop->completion_seq;
  ac__waitable_settle(&t->done);
  ac_task_release(t); /* the loop's reference */
}

static void task_step(struct ac__soon *s) {
  ac_task_t *t = ac__container_of(s, ac_task_t, resume);
  ac_task_t *prev;
  int rc;

  if (!t->started) {
    struct ac__stack *stack;
    t->started = 1;
    if (t->cancel_pending) { /* cancelled before it ever ran */
      t->cancel_pending = 0;
      finish(t, AC_ECANCELED);
      return;
    }
    rc = ac__stack_get(t->loop->stacks, t->stack_size, &stack);
    if (rc == 0) {
      rc = ac__coro_init(&t->coro, stack, task_entry, t);
      if (rc != 0) ac__stack_put(t->loop->stacks, stack);
    }
    if (rc != 0) {
      finish(t, rc);
      return;
    }
  }
  prev = ac__current_task;
  ac__current_task = t;
  t->state = AC_TASK_RUNNING;
  ac__coro_resume(&t->coro);
  ac__current_task = prev;
  if (t->coro.finished)
    finish(t, t->err);
  else
    t->state = AC_TASK_PENDING;
}

ac_task_t *ac__task_require(int *err) {
  ac_task_t *t = ac__current_task;
  *err = t != NULL ? 0 : AC_ENOTASK;
  return t;
}

int ac__wait_check(ac_task_t *t) {
  struct ac__scope *scope;
  if (t->cancel_pending) {
    t->cancel_pending = 0;
    return AC_ECANCELED;
  }
  for (scope = t->scopes; scope != NULL; scope = scope->outer)
    if (scope->expired) return AC_ETIMEDOUT;
  return 0;
}

int ac__task_suspend(struct ac__wait *w) {
  ac_task_t *t = w->task;
  t->wait = w;
  ac__coro_yield(&t->coro);
  t->wait = NULL; /* ac_yield woke itself before suspending */
  return t->wake_status;
}

void ac__task_wake(ac_task_t *t, int status) {
  t->wake_status = status;
  t->wait = NULL;
  ac__loop_soon(t->loop, &t->resume);
}

enum ac__abort_result ac__wait_abort_unlink(struct ac__wait *w) {
  ac__list_remove(&w->node);
  return AC__ABORT_NOW;
}

void ac__wake_all(struct ac__list *waiters, int status) {
  while (!ac__list_empty(waiters)) {
    struct ac__wait *w = ac__container_of(waiters->next, struct ac__wait, node);
    ac__list_remove(&w->node);
    ac__task_wake(w->task, status);
  }
}

int ac__task_interrupt(ac_task_t *t, int status) {
  struct ac__wait *w = t->wait;
  if (w == NULL || w->abort == NULL || w->aborting) return 0;
  w->interrupt = status;
  switch (w->abort(w)) {
  case AC__ABORT_NOW:
    ac__task_wake(t, status);
    return 1;
  case AC__ABORT_LATER:
    w->aborting = 1; /* a second interrupt stays pending (cancel_pending / expired) */
    return 1;
  case AC__ABORT_NEVER:
  default:
    return 0;
  }
}

int ac_task_cancel(ac_task_t *t) {
  if (t == NULL || ac_task_is_finished(t)) return AC_EINVAL;
  /* Already woken by a cancellation it has not seen yet: the same one
   * (asyncio coalesces them too), or its cleanup would be cancelled again. */
  if (t->resume.queued && t->wake_status == AC_ECANCELED) return 0;
  /* Not started, running, or already woken: deliver at the next wait. */
  if (!t->started || t->wait == NULL || !ac__task_interrupt(t, AC_ECANCELED))
    t->cancel_pending = 1;
  return 0;
}

int ac_task_cancel_pending(const ac_task_t *t) { return t->cancel_pending; }

static enum ac__abort_result abort_yield(struct ac__wait *w) {
  (void)w; /* already on the ready queue: just change what the wait returns */
  return AC__ABORT_NOW;
}

int ac_yield(void) {
  struct ac__wait w = {0};
  int rc;
  ac_task_t *t = ac__task_require(&rc);
  if (t == NULL) return rc;
  rc = ac__wait_check(t);
  if (rc != 0) return rc;
  w.task = t;
  w.abort = abort_yield;
  ac__list_init(&w.node);
  ac__task_wake(t, 0); /* queue ourselves behind whatever is ready */
  return ac__task_suspend(&w);
}

int ac_task_await(ac_task_t *target, void **result) {
  int rc;
  ac_task_t *t = ac__task_require(&rc);

  if (t == NULL) return rc;
  if (target == NULL) return AC_EINVAL;
  if (target == t) return AC_EDEADLK;
  /* The awaiting task's interruption and the target's outcome are told
   * apart here, not by the caller: both could be AC_ECANCELED. */
  rc = ac__task_await_finish(t, target);
  return rc != 0 ? rc : ac_task_result(target, result);
}

int ac__task_await_finish(ac_task_t *t, ac_task_t *target) {
  struct ac__wait w = {0};
  int rc = ac__wait_check(t);
  if (rc != 0 || ac_task_is_finished(target)) return rc;
  w.task = t;
  w.abort = ac__wait_abort_unlink;
  ac__list_insert_tail(&target->done.waiters, &w.node);
  ac_task_retain(target);
  rc = ac__task_suspend(&w);
  ac_task_release(target);
  return rc;
}

int ac_task_result(ac_task_t *t, void **result) {
  if (t == NULL) return AC_EINVAL;
  if (!ac_task_is_finished(t)) return AC_EINPROGRESS;
  t->err_retrieved = 1;
  if (t->state == AC_TASK_DONE) {
    if (result != NULL) *result = t->result;
    return 0;
  }
  return t->state == AC_TASK_CANCELLED ? AC_ECANCELED : t->err;
}

int ac_task_error(ac_task_t *t) { return ac_task_result(t, NULL); }

ac_task_t *ac_task_retain(ac_task_t *t) {
  t->refs++;
  return t;
}

void ac_task_release(ac_task_t *t) {
  ac_loop_t *loop;
  if (t == NULL || --t->refs > 0) return;
  loop = t->loop;
  if (t->state == AC_TASK_FAILED && !t->err_retrieved)
    loop->unretrieved_cb(loop, t, t->err, loop->unretrieved_data);
  ac__list_remove(&t->all_node);
  loop->ntasks--;
  ac__waitable_dispose(&t->done);
  ac__free(t->name);
  ac__free(t);
}

int ac_task_add_done_callback(ac_task_t *t, ac_task_done_cb cb, void *userdata) {
  if (t == NULL || cb == NULL) return AC_EINVAL;
  return ac__waitable_add_callback(&t->done, ac_task_is_finished(t), (void (*)(void))cb,
                                   userdata);
}

ac_task_t *ac_task_current(void) { return ac__current_task; }
ac_loop_t *ac_task_loop(const ac_task_t *t) { return t->loop; }
ac_task_state_t ac_task_state(const ac_task_t *t) { return t->state; }
int ac_task_is_finished(const ac_task_t *t) { return t->state >= AC_TASK_DONE; }
const char *ac_task_name(const ac_task_t *t) {
  ac_task_t *mut = (ac_task_t *)t; /* the default name is a cache */
  if (t->name != NULL) return t->name;
  if (mut->default_name[0] == '\0')
    snprintf(mut->default_name, sizeof(mut->default_name), "task-%llu",
             (unsigned long long)t->id);
  return t->default_name;
}
uint64_t ac_task_id(const ac_task_t *t) { return t->id; }

const char *ac_task_state_name(ac_task_state_t s) {
  switch (s) {
  case AC_TASK_PENDING: return "pending";
  case AC_TASK_RUNNING: return "running";
  case AC_TASK_DONE: return "done";
  case AC_TASK_FAILED: return "failed";
  case AC_TASK_CANCELLED: return "cancelled";
  }
  return "unknown";
}
