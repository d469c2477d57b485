/*
 * A batch: commands written together and awaited together under one timer.
 *
 * Replies stay alive for the task. hiredis frees each reply right after its
 * callback returns, and a task never runs inside a callback (the callback
 * only stores the reply and queues the task on the ready queue). So the
 * reply functions of each context are hiredis's own but for freeObject,
 * which spares the one reply the running callback has just kept; every other
 * object hiredis frees (a reply without callback, a half-read one on a lost
 * connection) is freed as before. hiredis calls freeObject on the very reply
 * the callback got, straight after it, on the thread of the loop: one
 * pointer per thread says which to spare.
 *
 * hiredis runs every pending callback with a NULL reply when it frees a
 * context (a lost connection, or our drop on a timeout or a free): the
 * batch records the first such failure, and its status is that one.
 */
#include <string.h>

#include "common/alloc.h"
#include "redis/internal.h"

static _Thread_local void *spared;

static void free_object(void *o) {
  if (o != NULL && o == spared) {
    spared = NULL;
    return;
  }
  freeReplyObject(o);
}

void ac__redis_reply_fns_install(ac__redis_t *r, redisAsyncContext *ac) {
  r->fns = *ac->c.reader->fn;
  r->fns.freeObject = free_object;
  ac->c.reader->fn = &r->fns;
}

void ac__redis_detach(ac__redis_t *r, const redisAsyncContext *ac) {
  if (r == NULL || r->ctx != ac) return;
  r->ctx = NULL;
  r->ready = 0;
}

void ac__redis_drop(ac__redis_t *r, int err) {
  redisAsyncContext *ac = r->ctx;
  if (ac == NULL) return;
  r->ctx = NULL;
  r->ready = 0;
  r->drop_err = err;
  redisAsyncFree(ac); /* every pending callback runs now, with NULL */
  r->drop_err = 0;
}

static void batch_free(struct ac__redis_batch *b) {
  size_t i;
  for (i = 0; i < b->n; i++) freeReplyObject(b->replies[i]);
  ac__list_remove(&b->node);
  ac__free(b->kinds);
  ac__free(b);
}

static void batch_complete(struct ac__redis_batch *b) {
  int status = b->timed_out ? AC_ETIMEDOUT : b->lost;
  b->done = 1;
  ac__timer_stop(b->loop, &b->timer);
  if (b->is_handshake) status = ac__redis_handshake_done(b->r, b, status);
  b->status = status;
  if (b->task == NULL)
    batch_free(b); /* nobody awaits: the replies go */
  else if (b->waiting)
    ac__task_wake(b->task, 0);
  /* else done before its task waited (out of memory at send): no wait. */
}

/* How a command failed whose context hiredis is freeing. */
static int lost_status(ac__redis_t *r, const redisAsyncContext *ac, int handshake) {
  if (r->drop_err != 0) return r->drop_err;
  if (ac->err != 0 && r->drop_why[0] == '\0')
    snprintf(r->drop_why, sizeof(r->drop_why), "%s", ac->errstr != NULL ? ac->errstr : "");
  /* Bytes that are not RESP, or an error Redis sent unasked: not a Redis,
   * or one refusing the connection (max clients). */
  if (handshake && (ac->err == REDIS_ERR_PROTOCOL || ac->err == REDIS_ERR_OTHER))
    return AC_EPROTO;
  return AC_ECONNRESET;
}

static void on_reply(redisAsyncContext *ac, void *reply, void *privdata) {
  struct ac__redis_batch *b = privdata;
  if (b->got >= b->n) return; /* cannot happen: one callback per command */
  if (reply == NULL) {
    if (b->lost == 0) b->lost = lost_status(b->r, ac, b->is_handshake);
    ac__redis_detach(b->r, ac); /* hiredis is freeing it */
  } else {
    b->replies[b->got] = reply;
    spared = reply;
  }
  if (++b->got == b->n) batch_complete(b);
}

static void on_timer(struct ac__timer *t) {
  struct ac__redis_batch *b = ac__container_of(t, struct ac__redis_batch, timer);
  ac__redis_t *r = b->r;
  b->timed_out = 1;
  if (r->ctx == NULL) {
    /* Not reachable (an unfinished batch's commands are on r->ctx); ended
     * here rather than left waiting. */
    b->got = b->n;
    batch_complete(b);
    return;
  }
  if (b->task != NULL) r->stats.timeouts++;
  ac__redis_set_error(r, "no answer within %llu ms: connection dropped",
                      (unsigned long long)r->timeout_ms);
  /* The others sharing the connection lose it too (AC_ECONNRESET); b, marked,
   * gets AC_ETIMEDOUT. b may be freed past this point. */
  ac__redis_drop(r, AC_ECONNRESET);
}

struct ac__redis_batch *ac__redis_batch_send(ac__redis_t *r, ac_task_t *task,
                                             const struct ac__redis_fcmd *cmds, size_t n,
                                             uint64_t due_us, int is_handshake) {
  struct ac__redis_batch *b = ac__calloc(1, sizeof(*b) + n * sizeof(redisReply *));
  size_t i;
  if (b == NULL) return NULL;
  b->r = r;
  b->loop = r->loop;
  b->task = task;
  b->n = n;
  b->is_handshake = is_handshake ? 1 : 0;
  ac__list_init(&b->w.node);
  ac__timer_init(&b->timer, on_timer);
  ac__list_insert_tail(&r->batches, &b->node);
  for (i = 0; i < n; i++) {
    if (redisAsyncFormattedCommand(r->ctx, on_reply, b, cmds[i].buf, cmds[i].len) != REDIS_OK)
      break;
  }
  r->stats.commands += i;
  if (i < n) {
    /* hiredis out of memory: what was queued fails with the connection. */
    b->n = i;
    b->lost = AC_ENOMEM;
    if (i > 0)
      ac__redis_drop(r, AC_ENOMEM);
    else
      batch_complete(b);
    return b;
  }
  ac__timer_start_at(r->loop, &b->timer, due_us);
  return b;
}

static enum ac__abort_result abort_batch(struct ac__wait *w) {
  struct ac__redis_batch *b = w->data;
  b->task = NULL; /* freed when its replies are in */
  return AC__ABORT_NOW;
}

int ac__redis_batch_await(struct ac__redis_batch *b, redisReply **replies) {
  size_t i;
  int rc = 0;
  if (!b->done) {
    b->w.task = b->task;
    b->w.abort = abort_batch;
    b->w.data = b;
    b->waiting = 1;
    rc = ac__task_suspend(&b->w);
    if (rc != 0) return rc; /* b is on its own now */
  }
  rc = b->status;
  for (i = 0; i < b->n; i++) {
    if (replies != NULL && rc == 0) {
      replies[i] = b->replies[i];
      b->replies[i] = NULL;
    }
  }
  batch_free(b);
  return rc;
}
