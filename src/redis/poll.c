/*
 * hiredis's event hooks on a uv_poll_t. hiredis's own libuv adapter is not
 * used: on a poll error it returns without telling hiredis, so a connect to
 * a port where nothing listens (libuv reports POLLERR as an error status and
 * stops the handle) never fails and its caller waits forever. Here an error
 * status still runs hiredis's read and write handlers, which find the
 * socket's error and fail the connect or the commands.
 *
 * The poll record outlives its context: hiredis's cleanup hook only starts
 * the handle's close, through the loop so that ac_loop_close waits for it,
 * and the close callback frees the record.
 */
#include "common/alloc.h"
#include "redis/internal.h"

struct rpoll {
  uv_poll_t h;
  ac_loop_t *loop;
  redisAsyncContext *ac; /* NULL once hiredis cleaned up */
  int events;
};

static void on_poll(uv_poll_t *h, int status, int events) {
  struct rpoll *p = h->data;
  /* Either handler may free the context; cleanup then clears p->ac. */
  if (p->ac != NULL && (status < 0 || (events & UV_READABLE))) redisAsyncHandleRead(p->ac);
  if (p->ac != NULL && (status < 0 || (events & UV_WRITABLE))) redisAsyncHandleWrite(p->ac);
}

static void update(struct rpoll *p, int events) {
  if (p->ac == NULL) return;
  p->events = events;
  /* A failing start leaves the socket unwatched: the batch's timer still ends the wait. */
  if (events != 0)
    (void)uv_poll_start(&p->h, events, on_poll);
  else
    (void)uv_poll_stop(&p->h);
}

static void add_read(void *data) {
  struct rpoll *p = data;
  update(p, p->events | UV_READABLE);
}

static void del_read(void *data) {
  struct rpoll *p = data;
  update(p, p->events & ~UV_READABLE);
}

static void add_write(void *data) {
  struct rpoll *p = data;
  update(p, p->events | UV_WRITABLE);
}

static void del_write(void *data) {
  struct rpoll *p = data;
  update(p, p->events & ~UV_WRITABLE);
}

static void on_closed(uv_handle_t *h) {
  struct rpoll *p = h->data;
  ac_loop_t *loop = p->loop;
  ac__free(p);
  ac__loop_handle_closed(loop);
}

/* hiredis 0.14 may call cleanup twice for one context (on disconnect and on
 * free): the hooks are cleared at the first. */
static void cleanup(void *data) {
  struct rpoll *p = data;
  redisAsyncContext *ac = p->ac;
  if (ac == NULL) return;
  p->ac = NULL;
  ac->ev.addRead = ac->ev.delRead = ac->ev.addWrite = ac->ev.delWrite = NULL;
  ac->ev.cleanup = NULL;
  ac->ev.data = NULL;
  ac__loop_close(p->loop, (uv_handle_t *)&p->h, on_closed);
}

int ac__redis_poll_attach(ac_loop_t *loop, redisAsyncContext *ac) {
  struct rpoll *p = ac__calloc(1, sizeof(*p));
  int rc;
  if (p == NULL) return AC_ENOMEM;
  rc = uv_poll_init_socket(ac_loop_uv(loop), &p->h, ac->c.fd);
  if (rc != 0) {
    ac__free(p);
    return rc;
  }
  p->h.data = p;
  p->loop = loop;
  p->ac = ac;
  ac->ev.data = p;
  ac->ev.addRead = add_read;
  ac->ev.delRead = del_read;
  ac->ev.addWrite = add_write;
  ac->ev.delWrite = del_write;
  ac->ev.cleanup = cleanup;
  return 0;
}
