/*
 * An event: a flag that tasks wait for (asyncio.Event).
 */
#include "runtime/internal.h"

struct ac_event {
  ac_loop_t *loop;
  int is_set;
  struct ac__list waiters;
};

int ac_event_new(ac_loop_t *loop, ac_event_t **out) {
  ac_event_t *ev;
  if (out != NULL) *out = NULL;
  if (loop == NULL || out == NULL) return AC_EINVAL;
  ev = ac__calloc(1, sizeof(*ev));
  if (ev == NULL) return AC_ENOMEM;
  ev->loop = loop;
  ac__list_init(&ev->waiters);
  *out = ev;
  return 0;
}

int ac_event_free(ac_event_t *ev) {
  if (ev == NULL) return 0;
  if (!ac__list_empty(&ev->waiters)) return AC_EBUSY;
  ac__free(ev);
  return 0;
}

void ac_event_set(ac_event_t *ev) {
  ev->is_set = 1;
  ac__wake_all(&ev->waiters, 0);
}

void ac_event_clear(ac_event_t *ev) { ev->is_set = 0; }
int ac_event_is_set(const ac_event_t *ev) { return ev->is_set; }

int ac_event_wait(ac_event_t *ev) {
  struct ac__wait w = {0};
  int rc;
  ac_task_t *t = ac__task_require(&rc);

  if (t == NULL) return rc;
  if (ev == NULL) return AC_EINVAL;
  rc = ac__wait_check(t);
  if (rc != 0 || ev->is_set) return rc;
  w.task = t;
  w.abort = ac__wait_abort_unlink;
  ac__list_insert_tail(&ev->waiters, &w.node);
  return ac__task_suspend(&w);
}
