/*
 * Signals as loop events: libuv turns the signal into a callback on the
 * loop's thread, which is where a program can safely decide to stop.
 */
#include "runtime/internal.h"

struct ac__signal {
  uv_signal_t handle;
  struct ac__list node;     /* in loop->signals */
  ac_loop_t *loop;
  int signum;
  ac_signal_cb cb;
  void *userdata;
};

static void on_signal(uv_signal_t *h, int signum) {
  struct ac__signal *s = h->data;
  s->cb(s->loop, signum, s->userdata);
}

static void on_closed(uv_handle_t *h) {
  struct ac__signal *s = h->data;
  ac__loop_handle_closed(s->loop);
  ac__free(s);
}

static struct ac__signal *find(ac_loop_t *loop, int signum) {
  struct ac__list *it;
  for (it = loop->signals.next; it != &loop->signals; it = it->next) {
    struct ac__signal *s = ac__container_of(it, struct ac__signal, node);
    if (s->signum == signum) return s;
  }
  return NULL;
}

int ac_signal_watch(ac_loop_t *loop, int signum, ac_signal_cb cb, void *userdata) {
  struct ac__signal *s;
  int rc;

  if (loop == NULL || cb == NULL || signum <= 0) return AC_EINVAL;
  s = find(loop, signum);
  if (s != NULL) { /* replace the callback, keep the handle */
    s->cb = cb;
    s->userdata = userdata;
    return 0;
  }
  s = ac__calloc(1, sizeof(*s));
  if (s == NULL) return AC_ENOMEM;
  s->loop = loop;
  s->signum = signum;
  s->cb = cb;
  s->userdata = userdata;
  rc = uv_signal_init(&loop->uv, &s->handle);
  if (rc != 0) {
    ac__free(s);
    return rc;
  }
  s->handle.data = s;
  rc = uv_signal_start(&s->handle, on_signal, signum);
  if (rc != 0) {
    loop->nclosing++;
    uv_close((uv_handle_t *)&s->handle, on_closed);
    return rc;
  }
  uv_unref((uv_handle_t *)&s->handle);
  ac__list_insert_tail(&loop->signals, &s->node);
  return 0;
}

static void close_watcher(struct ac__signal *s) {
  ac__list_remove(&s->node);
  uv_signal_stop(&s->handle);
  s->loop->nclosing++;
  uv_close((uv_handle_t *)&s->handle, on_closed);
}

int ac_signal_unwatch(ac_loop_t *loop, int signum) {
  struct ac__signal *s = find(loop, signum);
  if (s == NULL) return AC_ENOENT;
  close_watcher(s);
  return 0;
}

void ac__signals_close_all(ac_loop_t *loop) {
  while (!ac__list_empty(&loop->signals))
    close_watcher(ac__container_of(loop->signals.next, struct ac__signal, node));
}

int ac__signal_is_ours(ac_loop_t *loop, const uv_handle_t *h) {
  struct ac__list *it;
  for (it = loop->signals.next; it != &loop->signals; it = it->next)
    if ((const uv_handle_t *)&ac__container_of(it, struct ac__signal, node)->handle == h) return 1;
  return 0;
}
