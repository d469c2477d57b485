/*
 * What tasks and futures have in common: tasks waiting for them to settle,
 * and done callbacks, which run later from the loop's ready queue (asyncio's
 * call_soon), never inside the call that settled the object.
 */
#include "runtime/internal.h"

static void run_callbacks(struct ac__soon *s) {
  struct ac__waitable *w = ac__container_of(s, struct ac__waitable, run_callbacks);
  struct ac__callback *cb;

  /* A callback may add callbacks: they join the list and run in this pass. */
  while ((cb = w->callbacks) != NULL) {
    w->callbacks = cb->next;
    if (w->callbacks == NULL) w->callbacks_tail = &w->callbacks;
    w->invoke(w->owner, cb);
    ac__free(cb);
  }
  w->release(w->owner);
}

void ac__waitable_init(struct ac__waitable *w, ac_loop_t *loop, void *owner,
                       void (*retain)(void *), void (*release)(void *),
                       void (*invoke)(void *, const struct ac__callback *)) {
  ac__list_init(&w->waiters);
  w->callbacks = NULL;
  w->callbacks_tail = &w->callbacks;
  w->run_callbacks.run = run_callbacks;
  w->run_callbacks.queued = 0;
  w->owner = owner;
  w->retain = retain;
  w->release = release;
  w->invoke = invoke;
  w->loop = loop;
}

static void schedule_callbacks(struct ac__waitable *w) {
  if (w->callbacks == NULL || w->run_callbacks.queued) return;
  w->retain(w->owner); /* released by run_callbacks */
  ac__loop_soon(w->loop, &w->run_callbacks);
}

void ac__waitable_settle(struct ac__waitable *w) {
  struct ac__list settled;
  ac__list_init(&settled);
  ac__list_move_all(&w->waiters, &settled);
  while (!ac__list_empty(&settled)) {
    struct ac__wait *wt = ac__container_of(settled.next, struct ac__wait, node);
    ac__list_remove(&wt->node);
    if (wt->notify != NULL)
      wt->notify(wt);
    else
      ac__task_wake(wt->task, 0);
  }
  schedule_callbacks(w);
}

int ac__waitable_add_callback(struct ac__waitable *w, int settled, void (*fn)(void),
                              void *userdata) {
  struct ac__callback *cb = ac__malloc(sizeof(*cb));
  if (cb == NULL) return AC_ENOMEM;
  cb->fn = fn;
  cb->userdata = userdata;
  cb->next = NULL;
  *w->callbacks_tail = cb;
  w->callbacks_tail = &cb->next;
  if (settled) schedule_callbacks(w);
  return 0;
}

void ac__waitable_dispose(struct ac__waitable *w) {
  struct ac__callback *cb;
  while ((cb = w->callbacks) != NULL) {
    w->callbacks = cb->next;
    ac__free(cb);
  }
  w->callbacks_tail = &w->callbacks;
}
