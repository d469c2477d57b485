/*
 * ac_session_request: the awaiting form, over the callback form. The waiting
 * record lives on the task's stack; the call's callback fills it and wakes the
 * task, which then resumes from the loop's ready queue.
 *
 * An interruption (cancel, timeout scope) aborts the call at once: its
 * callback fires inside ac_http_call_cancel, the handle is removed, and the
 * runtime wakes the task with the interrupt status (AC__ABORT_NOW). A call
 * that completed before the interruption already woke the task: then the
 * response is kept and the interruption waits for the next await.
 */
#include <string.h>

#include "client/internal.h"
#include "runtime/ext.h"

struct http_wait {
  struct ac__wait w;
  ac_http_call_t *call;      /* NULL once the callback fired */
  ac_response_t *resp;
  ac_http_error_t *err;
  int status;
  int aborting;
};

static void on_call_done(ac_session_t *s, int status, ac_response_t *resp,
                         const ac_http_error_t *err, void *userdata) {
  struct http_wait *hw = userdata;
  (void)s;
  hw->call = NULL;
  hw->status = status;
  hw->resp = resp;
  if (hw->err != NULL && err != NULL) *hw->err = *err;
  /* During an abort the runtime wakes the task itself. */
  if (!hw->aborting) ac__task_wake(hw->w.task, 0);
}

static enum ac__abort_result abort_request(struct ac__wait *w) {
  struct http_wait *hw = ac__container_of(w, struct http_wait, w);
  hw->aborting = 1;
  if (hw->call != NULL) ac_http_call_cancel(hw->call, w->interrupt);
  return AC__ABORT_NOW;
}

int ac_session_request(ac_session_t *s, const ac_request_opts_t *opts, ac_response_t **out,
                       ac_http_error_t *err) {
  struct http_wait hw;
  int rc;
  ac_task_t *task = ac__task_require(&rc);

  if (out != NULL) *out = NULL;
  if (err != NULL) memset(err, 0, sizeof(*err));
  if (task == NULL) goto fail;
  rc = AC_EINVAL;
  if (s == NULL || opts == NULL || out == NULL || s->magic != AC__SESSION_MAGIC ||
      s->loop != ac_task_loop(task))
    goto fail;
  rc = ac__wait_check(task);
  if (rc != 0) goto fail;
  memset(&hw, 0, sizeof(hw));
  hw.w.task = task;
  hw.w.abort = abort_request;
  ac__list_init(&hw.w.node);
  hw.err = err;
  rc = ac__session_send(s, opts, on_call_done, &hw, &hw.call, err);
  if (rc != 0) return rc;
  rc = ac__task_suspend(&hw.w);
  if (rc != 0) {
    /* Interrupted: the abort removed the call; nothing was handed over. */
    ac_response_free(hw.resp);
    if (err != NULL) ac__http_error_set(err, rc, 0, "request aborted: %s", ac_strerror(rc));
    return rc;
  }
  *out = hw.resp;
  return hw.status;

fail:
  ac__http_error_set(err, rc, 0, "%s", ac_strerror(rc));
  return rc;
}
