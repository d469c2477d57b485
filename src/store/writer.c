/*
 * The writer task of a store: takes what has queued (up to batch_max items),
 * has the backend write it on a worker thread, acknowledges each item on the
 * loop, and retries a batch that failed transiently with doubling backoff
 * until it lands or the store is aborted. At the end of its life it tears
 * the store down, so that a close that is interrupted (its task cancelled)
 * still ends with the backend closed and the memory freed.
 */
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "store/generic.h"

struct write_call {
  ac_store_t *s;
  const ac__store_doc_t *docs;
  size_t n;
  uint64_t skipped;
  int transient;
  int rc;
  char err[512];
};

static void write_work(void *arg) {
  struct write_call *c = arg;
  c->rc = c->s->backend->write(c->s->be, c->docs, c->n, &c->skipped, &c->transient, c->err,
                               sizeof(c->err));
}

static void close_work(void *arg) {
  struct write_call *c = arg;
  c->rc = c->s->backend->close(c->s->be, c->err, sizeof(c->err));
  c->s->be = NULL;
}

/* Cut to the stats' field on purpose (snprintf would warn about it). */
static void set_last_error(ac_store_t *s, const char *msg) {
  size_t n = strlen(msg);
  if (n >= sizeof(s->st.last_error)) n = sizeof(s->st.last_error) - 1;
  memcpy(s->st.last_error, msg, n);
  s->st.last_error[n] = '\0';
}

static void take_batch(ac_store_t *s) {
  s->batch_n = s->batch_done = 0;
  while (s->batch_n < s->batch_max && s->head != NULL) {
    struct store_item *it = s->head;
    s->head = it->next;
    if (s->head == NULL) s->tail = NULL;
    s->listed--;
    s->batch[s->batch_n] = it;
    s->docs[s->batch_n] = it->doc;
    s->batch_n++;
  }
}

/* Items are acknowledged in put order, so seq_done only grows. */
static void ack_item(ac_store_t *s, struct store_item *it, int status) {
  ac_store_ack_cb cb = it->cb;
  void *userdata = it->userdata;
  s->seq_done = it->seq;
  s->st.queued--;
  if (status == 0) {
    s->st.written++;
    s->st.bytes += it->doc.len;
  } else if (status == AC_ECANCELED && s->first_cancelled == 0) {
    s->first_cancelled = it->seq;
  }
  ac__free(it);
  ac_sem_release(s->slots);
  if (cb != NULL) cb(s, status, userdata);
}

static void ack_range(ac_store_t *s, size_t from, size_t to, int status) {
  for (size_t i = from; i < to; i++) {
    struct store_item *it = s->batch[i];
    s->batch[i] = NULL;
    s->batch_done = i + 1;
    ack_item(s, it, status);
  }
  ac_event_set(s->progress);
}

static void ack_all(ac_store_t *s, int status) {
  ack_range(s, s->batch_done, s->batch_n, status);
  s->batch_n = s->batch_done = 0;
  while (s->head != NULL) {
    struct store_item *it = s->head;
    s->head = it->next;
    s->listed--;
    ack_item(s, it, status);
  }
  s->tail = NULL;
  ac_event_set(s->progress);
}

/*
 * Write batch[from, from + n) until it is acknowledged: 0, or AC_ECANCELED
 * when the writer was cancelled (abort) and the items are still held. A
 * permanent failure of several items is retried one item at a time, so that
 * only the documents the backend refuses get the error.
 */
static int write_range(ac_store_t *s, size_t from, size_t n) {
  uint64_t delay = s->retry_min_ms;
  for (;;) {
    struct write_call c = {s, s->docs + from, n, 0, 0, 0, ""};
    int rc = ac_run_in_thread(write_work, &c);
    if (rc == AC_ECANCELED) return rc;
    if (rc != 0) { /* the pool refused the work: worth another try */
      c.rc = rc;
      c.transient = 1;
      snprintf(c.err, sizeof(c.err), "cannot run on a worker thread: %s", ac_strerror(rc));
    }
    if (c.rc == 0) {
      s->st.batches++;
      s->st.skipped += c.skipped;
      s->st.failing = 0;
      ack_range(s, from, from + n, 0);
      return 0;
    }
    set_last_error(s, c.err[0] ? c.err : ac_strerror(c.rc));
    s->st.failing = 1;
    if (!c.transient) {
      if (n == 1) {
        ack_range(s, from, from + 1, c.rc);
        return 0;
      }
      for (size_t i = 0; i < n; i++) {
        rc = write_range(s, from + i, 1);
        if (rc != 0) return rc;
      }
      return 0;
    }
    s->st.retries++;
    rc = ac_sleep(delay);
    if (rc != 0) return rc;
    delay = delay > s->retry_max_ms / 2 ? s->retry_max_ms : delay * 2;
  }
}

int ac__store_teardown(ac_store_t *s) {
  struct write_call c = {s, NULL, 0, 0, 0, 0, ""};
  int interrupted = 0;

  if (s->aborting) ack_all(s, AC_ECANCELED);
  /* Putters and flushers were woken by the acknowledgements; they must be
   * gone before the store's semaphore and events can be freed. A second
   * cancellation of this task only interrupts one wait. */
  while (s->users > 0) {
    ac_event_clear(s->idle);
    if (ac_event_wait(s->idle) != 0) interrupted = 1;
  }
  if (ac_run_in_thread(close_work, &c) != 0) { /* dropped before it ran */
    interrupted = 1;
    close_work(&c);
  }
  s->close_rc = c.rc;
  if (c.rc != 0) set_last_error(s, c.err[0] ? c.err : ac_strerror(c.rc));
  s->writer_done = 1;
  /* The task is over: do not keep it alive (the loop could not close). */
  if (s->writer != NULL) ac_task_release(s->writer);
  s->writer = NULL;
  if (s->orphaned)
    ac__store_free(s);
  else
    ac_event_set(s->done);
  return interrupted;
}

int ac__store_writer_main(void *arg, void **result) {
  ac_store_t *s = arg;
  int rc = 0;

  s->writer_started = 1;
  while (rc == 0 && !s->aborting) {
    if (s->batch_done == s->batch_n) take_batch(s);
    if (s->batch_n == 0) {
      /* Putters that were waiting for room when close began still get in. */
      if (s->closing && s->putters_waiting == 0) break;
      ac_event_clear(s->wake);
      rc = ac_event_wait(s->wake);
      continue;
    }
    rc = write_range(s, s->batch_done, s->batch_n - s->batch_done);
  }
  /* Cancelled: by ac_store_abort, or from outside (the loop shutting down):
   * either way, stop writing and give everything back. */
  if (rc != 0) s->aborting = 1;
  ac__store_teardown(s);
  return 0;
}
