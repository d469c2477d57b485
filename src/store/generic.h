/*
 * The generic half of a store, shared by its files: the handle, the queue of
 * items, and the writer task (writer.c) that turns the queue into batches for
 * a backend (internal.h).
 *
 * An item is "held" from the moment put accepts it until its ack callback
 * has run; a semaphore of queue_cap permits bounds the held items, so the
 * items in the queue plus those of the batch being written never exceed the
 * cap (the memory bound), and a full store makes put wait (backpressure).
 */
#ifndef AC_STORE_GENERIC_H
#define AC_STORE_GENERIC_H

#include <stddef.h>
#include <stdint.h>

#include "acrawl/errno.h"
#include "acrawl/runtime.h"
#include "acrawl/store.h"
#include "store/internal.h"

/* One accepted item: key and doc live in the same allocation. */
struct store_item {
  struct store_item *next;
  ac_store_ack_cb cb;
  void *userdata;
  uint64_t seq; /* 1, 2, ... in put order */
  ac__store_doc_t doc;
};

struct ac_store {
  ac_loop_t *loop;
  const ac__store_backend_t *backend;
  void *be; /* the backend's handle; touched only by worker-thread calls */
  ac__store_target_t target;
  char *uri;
  char *rest; /* target.rest */
  char *collection;
  char *key_field;

  size_t queue_cap;
  size_t batch_max;
  uint64_t retry_min_ms;
  uint64_t retry_max_ms;

  /* Items accepted and not yet taken into a batch, oldest first. */
  struct store_item *head;
  struct store_item *tail;
  size_t listed;
  /* The batch being written: taken from head, acknowledged as a whole. */
  struct store_item **batch;
  ac__store_doc_t *docs;
  size_t batch_n;
  size_t batch_done; /* batch[0..batch_done) are acknowledged */

  ac_sem_t *slots;       /* queue_cap permits, one per held item */
  ac_event_t *wake;      /* set when the writer has something new to look at */
  ac_event_t *progress;  /* set when items were acknowledged (flush waits on it) */
  ac_event_t *idle;      /* set when the last task inside put/flush leaves */
  ac_event_t *done;      /* set by the writer when it has closed the backend */
  ac_task_t *writer;     /* our reference; the writer owns the teardown */

  uint64_t seq_put;  /* the last item accepted */
  uint64_t seq_done; /* every item up to this one is acknowledged */
  size_t users;            /* tasks inside put or flush (they touch the store) */
  size_t putters_waiting;  /* of which waiting for room, accepted at close */
  int closing;  /* close or abort began: new puts get AC_ECLOSED */
  int aborting; /* stop writing, acknowledge the rest with AC_ECANCELED */
  int writer_started; /* a writer cancelled before its first turn never runs */
  int writer_done; /* the backend is closed, close_rc is final */
  int orphaned;    /* the closing task gave up waiting: the writer frees */
  int close_rc;
  uint64_t first_cancelled; /* the first item acknowledged AC_ECANCELED (0: none) */

  ac_store_stats_t st;
};

/* writer.c: the writer task's body. It writes until the store closes, then
 * tears down: acknowledges what is left with AC_ECANCELED if aborting, waits
 * for the tasks inside put and flush to leave, closes the backend and sets
 * `done` (and frees the store if orphaned). Always returns 0. */
int ac__store_writer_main(void *arg, void **result);
/* The teardown above; close runs it itself for a writer that never ran.
 * Returns 1 if one of its waits was interrupted (a cancellation it used up). */
int ac__store_teardown(ac_store_t *s);

/* store.c: free the store's memory (the backend is closed, nothing waits). */
void ac__store_free(ac_store_t *s);

/* uri.c: the backend for a URI, the part it opens (target.rest: allocated,
 * the caller frees it) and where its options begin (target.options: inside
 * uri; NULL but for sqlite:). Returns 0, or AC_EINVAL (AC_ENOMEM) with a
 * message naming the URI in err. */
int ac__store_pick_backend(const char *uri, const ac__store_backend_t **backend, char **rest,
                           const char **options, char *err, size_t errlen);

/* A message into an optional ac_store_error_t; returns code. */
int ac__store_fail(ac_store_error_t *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif /* AC_STORE_GENERIC_H */
