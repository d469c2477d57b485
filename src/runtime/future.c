/*
 * Futures: a value set once, awaited by any number of tasks.
 */
#include "runtime/internal.h"

struct ac_future {
  struct ac__waitable done;
  ac_future_state_t state;
  void *value;
  int err;
  unsigned refs;
};

static void retain_cb(void *f) { ac_future_retain(f); }
static void release_cb(void *f) { ac_future_release(f); }
static void invoke_cb(void *f, const struct ac__callback *cb) {
  ((ac_future_done_cb)cb->fn)(f, cb->userdata);
}

int ac_future_new(ac_loop_t *loop, ac_future_t **out) {
  ac_future_t *f;
  if (out != NULL) *out = NULL;
  if (loop == NULL || out == NULL) return AC_EINVAL;
  f = ac__calloc(1, sizeof(*f));
  if (f == NULL) return AC_ENOMEM;
  ac__waitable_init(&f->done, loop, f, retain_cb, release_cb, invoke_cb);
  f->state = AC_FUTURE_PENDING;
  f->refs = 1;
  *out = f;
  return 0;
}

ac_future_t *ac_future_retain(ac_future_t *f) {
  f->refs++;
  return f;
}

void ac_future_release(ac_future_t *f) {
  if (f == NULL || --f->refs > 0) return;
  /* Waiting tasks hold a reference, so no waiter can be left here. */
  ac__waitable_dispose(&f->done);
  ac__free(f);
}

ac_future_state_t ac_future_state(const ac_future_t *f) { return f->state; }

static int settle(ac_future_t *f, ac_future_state_t state, void *value, int err) {
  if (f == NULL || f->state != AC_FUTURE_PENDING) return AC_EINVAL;
  f->state = state;
  f->value = value;
  f->err = err;
  ac__waitable_settle(&f->done);
  return 0;
}

int ac_future_resolve(ac_future_t *f, void *value) {
  return settle(f, AC_FUTURE_RESOLVED, value, 0);
}

int ac_future_reject(ac_future_t *f, int err) {
  if (err >= 0) return AC_EINVAL;
  return settle(f, AC_FUTURE_REJECTED, NULL, err);
}

int ac_future_cancel(ac_future_t *f) { return settle(f, AC_FUTURE_CANCELLED, NULL, AC_ECANCELED); }

int ac_future_result(const ac_future_t *f, void **value) {
  if (f == NULL) return AC_EINVAL;
  switch (f->state) {
  case AC_FUTURE_PENDING: return AC_EINPROGRESS;
  case AC_FUTURE_RESOLVED:
    if (value != NULL) *value = f->value;
    return 0;
  case AC_FUTURE_REJECTED:
  case AC_FUTURE_CANCELLED:
  default:
    return f->err;
  }
}

int ac_future_await(ac_future_t *f, void **value) {
  struct ac__wait w = {0};
  int rc;
  ac_task_t *t = ac__task_require(&rc);

  if (t == NULL) return rc;
  if (f == NULL) return AC_EINVAL;
  rc = ac__wait_check(t);
  if (rc != 0) return rc;
  if (f->state != AC_FUTURE_PENDING) return ac_future_result(f, value);
  w.task = t;
  w.abort = ac__wait_abort_unlink;
  ac__list_insert_tail(&f->done.waiters, &w.node);
  ac_future_retain(f);
  rc = ac__task_suspend(&w);
  if (rc == 0) rc = ac_future_result(f, value);
  ac_future_release(f);
  return rc;
}

int ac_future_add_done_callback(ac_future_t *f, ac_future_done_cb cb, void *userdata) {
  if (f == NULL || cb == NULL) return AC_EINVAL;
  return ac__waitable_add_callback(&f->done, f->state != AC_FUTURE_PENDING,
                                   (void (*)(void))cb, userdata);
}
