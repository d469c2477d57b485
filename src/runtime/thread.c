/*
 * Blocking work on libuv's thread pool, awaited by a task (asyncio.to_thread).
 *
 * The request, and often the work's argument, live on the task's stack, so
 * the task must not go on before the work is over. A cancellation therefore
 * drops the work only while it is still queued (uv_cancel); once a thread runs
 * it, the task waits for the end and the cancellation stays pending.
 */
#include "runtime/internal.h"

struct thread_wait {
  struct ac__wait w;
  uv_work_t req;
  ac_work_fn work;
  void *arg;
};

static void run_work(uv_work_t *req) {
  struct thread_wait *tw = req->data;
  tw->work(tw->arg);
}

static void after_work(uv_work_t *req, int status) {
  struct thread_wait *tw = req->data;
  /* UV_ECANCELED: abort_work's uv_cancel dropped it before it ran. */
  ac__task_wake(tw->w.task, status == UV_ECANCELED ? tw->w.interrupt : 0);
}

static enum ac__abort_result abort_work(struct ac__wait *w) {
  struct thread_wait *tw = ac__container_of(w, struct thread_wait, w);
  /* Success means after_work will run with UV_ECANCELED and wake the task
   * with w->interrupt; failure means a thread has it already. */
  return uv_cancel((uv_req_t *)&tw->req) == 0 ? AC__ABORT_LATER : AC__ABORT_NEVER;
}

int ac_run_in_thread(ac_work_fn work, void *arg) {
  struct thread_wait tw = {0};
  int rc;
  ac_task_t *t = ac__task_require(&rc);

  if (t == NULL) return rc;
  if (work == NULL) return AC_EINVAL;
  rc = ac__wait_check(t);
  if (rc != 0) return rc;
  tw.w.task = t;
  tw.w.abort = abort_work;
  ac__list_init(&tw.w.node);
  tw.work = work;
  tw.arg = arg;
  tw.req.data = &tw;
  rc = uv_queue_work(&t->loop->uv, &tw.req, run_work, after_work);
  if (rc != 0) return rc;
  return ac__task_suspend(&tw.w);
}
