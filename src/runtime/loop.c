/*
 * The loop: a libuv loop plus acrawl's ready queue.
 *
 * Ready work (task resumptions, deferred callbacks) is a FIFO of ac__soon
 * entries. It runs from two libuv handles: an idle handle, active only while
 * the queue is non-empty so that the poll does not block, and a check handle,
 * which runs what the poll's callbacks made ready without waiting for the next
 * iteration. Each drain runs at most READY_BUDGET entries, including those
 * queued while it runs, so tasks that keep yielding cannot starve I/O, while a
 * chain of wake-ups (a task finishing wakes its awaiter, a put wakes a getter)
 * completes without a poll in between.
 */
#include <stdio.h>
#include <stdlib.h>

#include "runtime/internal.h"

/* How much ready work one drain may run before the loop polls for I/O again. */
#define READY_BUDGET 256

static void run_ready(ac_loop_t *loop) {
  size_t budget = READY_BUDGET;
  while (budget-- > 0 && loop->nready > 0) {
    struct ac__soon *s = ac__container_of(loop->ready.next, struct ac__soon, node);
    ac__list_remove(&s->node);
    s->queued = 0;
    loop->nready--;
    s->run(s);
  }
  if (loop->nready == 0) uv_idle_stop(&loop->idle);
}

static void on_idle(uv_idle_t *h) { run_ready(h->data); }
static void on_check(uv_check_t *h) { run_ready(h->data); }

void ac__loop_soon(ac_loop_t *loop, struct ac__soon *s) {
  if (s->queued) return;
  s->queued = 1;
  ac__list_insert_tail(&loop->ready, &s->node);
  if (loop->nready++ == 0) uv_idle_start(&loop->idle, on_idle);
}

static void default_unretrieved(ac_loop_t *loop, ac_task_t *task, int err, void *ud) {
  (void)loop;
  (void)ud;
  fprintf(stderr, "acrawl: task error was never retrieved: task '%s' failed: %s (%s)\n",
          ac_task_name(task), ac_strerror(err), ac_err_name(err));
}

int ac_loop_new(ac_loop_t **out) {
  ac_loop_t *loop;
  int rc;

  if (out == NULL) return AC_EINVAL;
  *out = NULL;
  loop = ac__calloc(1, sizeof(*loop));
  if (loop == NULL) return AC_ENOMEM;
  rc = ac__stack_pool_new(0, &loop->stacks);
  if (rc != 0) goto fail_pool;
  rc = uv_loop_init(&loop->uv);
  if (rc != 0) goto fail_uv;
  loop->uv.data = loop;
  if ((rc = ac__timers_init(loop)) != 0) {
    (void)uv_loop_close(&loop->uv);
    goto fail_uv;
  }
  uv_idle_init(&loop->uv, &loop->idle);
  loop->idle.data = loop;
  uv_check_init(&loop->uv, &loop->check);
  loop->check.data = loop;
  uv_check_start(&loop->check, on_check);
  uv_unref((uv_handle_t *)&loop->check);
  ac__list_init(&loop->ready);
  ac__list_init(&loop->tasks);
  ac__list_init(&loop->signals);
  loop->unretrieved_cb = default_unretrieved;
  *out = loop;
  return 0;

fail_uv:
  ac__stack_pool_free(loop->stacks);
fail_pool:
  ac__free(loop);
  return rc;
}

int ac_loop_run(ac_loop_t *loop) {
  if (loop == NULL) return AC_EINVAL;
  if (loop->running) return AC_EBUSY;
  loop->running = 1;
  uv_run(&loop->uv, UV_RUN_DEFAULT);
  loop->running = 0;
  return 0;
}

int ac_loop_run_until_done(ac_loop_t *loop, ac_task_t *task) {
  int rc = 0;
  if (loop == NULL || task == NULL || task->loop != loop) return AC_EINVAL;
  if (loop->running) return AC_EBUSY;
  loop->running = 1;
  ac_task_retain(task);
  while (!ac_task_is_finished(task)) {
    /* UV_RUN_ONCE returns 0 when no handle or request is left: with nothing
     * ready either, no event can ever finish the task. */
    if (uv_run(&loop->uv, UV_RUN_ONCE) == 0 && loop->nready == 0 &&
        !ac_task_is_finished(task)) {
      rc = AC_EDEADLK;
      break;
    }
  }
  ac_task_release(task);
  loop->running = 0;
  return rc;
}

void ac_loop_stop(ac_loop_t *loop) { uv_stop(&loop->uv); }

uint64_t ac_loop_now(const ac_loop_t *loop) { return uv_now(&loop->uv); }

uv_loop_t *ac_loop_uv(ac_loop_t *loop) { return &loop->uv; }

size_t ac_loop_task_count(const ac_loop_t *loop) { return loop->ntasks; }

void ac_loop_set_unretrieved_handler(ac_loop_t *loop, ac_unretrieved_cb cb, void *userdata) {
  loop->unretrieved_cb = cb != NULL ? cb : default_unretrieved;
  loop->unretrieved_data = cb != NULL ? userdata : NULL;
}

void ac__loop_soon_cancel(ac_loop_t *loop, struct ac__soon *s) {
  if (!s->queued) return;
  ac__list_remove(&s->node);
  s->queued = 0;
  if (--loop->nready == 0) uv_idle_stop(&loop->idle);
}

void ac__loop_closing_add(ac_loop_t *loop) { loop->nclosing++; }

void ac__loop_close(ac_loop_t *loop, uv_handle_t *h, uv_close_cb cb) {
  loop->nclosing++;
  uv_close(h, cb);
}

void ac__loop_handle_closed(ac_loop_t *loop) { loop->nclosing--; }

static void on_close_count(uv_handle_t *h) { ac__loop_handle_closed(h->loop->data); }

/* Counts open handles that the loop does not own (ours are its idle, check
 * and timer handles and the signal watchers, all of which it closes itself). */
static void count_foreign(uv_handle_t *h, void *arg) {
  ac_loop_t *loop = h->loop->data;
  size_t *n = arg;
  if (uv_is_closing(h)) return;
  if (h == (uv_handle_t *)&loop->idle || h == (uv_handle_t *)&loop->check ||
      ac__timers_own(loop, h) ||
      (h->type == UV_SIGNAL && ac__signal_is_ours(loop, h)))
    return;
  (*n)++;
}

int ac_loop_close(ac_loop_t *loop) {
  size_t foreign = 0;
  int rc;
  if (loop == NULL) return AC_EINVAL;
  if (loop->running || loop->ntasks > 0 || loop->nready > 0) return AC_EBUSY;
  /* Refuse before closing anything of ours, so that the loop stays usable
   * when the program still has handles of its own (added via ac_loop_uv). */
  uv_walk(&loop->uv, count_foreign, &foreign);
  if (foreign > 0) return AC_EBUSY;
  ac__signals_close_all(loop);
  loop->nclosing += 3;
  uv_close((uv_handle_t *)&loop->idle, on_close_count);
  uv_close((uv_handle_t *)&loop->check, on_close_count);
  ac__timers_close(loop);
  while (loop->nclosing > 0) uv_run(&loop->uv, UV_RUN_NOWAIT);
  if (uv_loop_close(&loop->uv) != 0) {
    /* Requests the program started through ac_loop_uv are still running
     * (every handle is closed by now): let them complete, then close. */
    uv_run(&loop->uv, UV_RUN_DEFAULT);
    rc = uv_loop_close(&loop->uv);
    if (rc != 0) return rc;
  }
  ac__stack_pool_free(loop->stacks);
  ac__free(loop);
  return 0;
}

size_t ac_loop_cancel_all(ac_loop_t *loop) {
  size_t n = 0;
  struct ac__list *it;
  for (it = loop->tasks.next; it != &loop->tasks; it = it->next) {
    ac_task_t *t = ac__container_of(it, ac_task_t, all_node);
    if (!ac_task_is_finished(t) && ac_task_cancel(t) == 0) n++;
  }
  return n;
}

int ac_run(ac_task_fn main_fn, void *arg, void **result) {
  ac_loop_t *loop;
  ac_task_t *main_task;
  ac_task_opts_t opts = {"main", 0};
  int rc, close_rc;

  if (main_fn == NULL) return AC_EINVAL;
  rc = ac_loop_new(&loop);
  if (rc != 0) return rc;
  rc = ac_task_spawn(loop, main_fn, arg, &opts, &main_task);
  if (rc != 0) {
    ac_loop_close(loop);
    return rc;
  }
  rc = ac_loop_run_until_done(loop, main_task);
  if (rc == 0) rc = ac_task_result(main_task, result);
  ac_task_release(main_task);
  /* Like asyncio.run: what main left behind is cancelled and may clean up. */
  ac_loop_cancel_all(loop);
  ac_loop_run(loop);
  close_rc = ac_loop_close(loop);
  if (close_rc != 0) {
    fprintf(stderr, "acrawl: ac_run: %zu task(s) still waiting after cancellation; "
                    "their memory is leaked\n", ac_loop_task_count(loop));
    if (rc == 0) rc = close_rc;
  }
  return rc;
}
