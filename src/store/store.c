/*
 * The public face of a store (acrawl/store.h): open, put, flush, close,
 * abort, stats. The writing itself is the writer task's (writer.c); this
 * file hands items to it and waits for it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "store/generic.h"

#define DEFAULT_COLLECTION "items"
#define DEFAULT_KEY_FIELD "id"
#define DEFAULT_QUEUE_CAP 4096
#define DEFAULT_BATCH_MAX 512
#define DEFAULT_RETRY_MIN_MS 100
#define DEFAULT_RETRY_MAX_MS 5000
#define DEFAULT_CONNECT_TIMEOUT_MS 5000

int ac__store_fail(ac_store_error_t *err, int code, const char *fmt, ...) {
  if (err != NULL) {
    va_list ap;
    va_start(ap, fmt);
    err->code = code;
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
  }
  return code;
}

void ac_store_opts_init(ac_store_opts_t *opts) {
  memset(opts, 0, sizeof(*opts));
  opts->collection = DEFAULT_COLLECTION;
  opts->key_field = DEFAULT_KEY_FIELD;
  opts->queue_cap = DEFAULT_QUEUE_CAP;
  opts->batch_max = DEFAULT_BATCH_MAX;
  opts->retry_min_ms = DEFAULT_RETRY_MIN_MS;
  opts->retry_max_ms = DEFAULT_RETRY_MAX_MS;
  opts->connect_timeout_ms = DEFAULT_CONNECT_TIMEOUT_MS;
}

void ac__store_free(ac_store_t *s) {
  /* Every item was acknowledged (freed) before the backend closed. */
  ac_sem_free(s->slots);
  ac_event_free(s->wake);
  ac_event_free(s->progress);
  ac_event_free(s->idle);
  ac_event_free(s->done);
  if (s->writer != NULL) ac_task_release(s->writer);
  ac__free(s->batch);
  ac__free(s->docs);
  ac__free(s->uri);
  ac__free(s->rest);
  ac__free(s->collection);
  ac__free(s->key_field);
  ac__free(s);
}

/* Everything but the backend and the writer; NULL on out of memory. */
static ac_store_t *store_new(ac_loop_t *loop, const char *uri, const ac_store_opts_t *o) {
  ac_store_t *s = ac__calloc(1, sizeof(*s));
  if (s == NULL) return NULL;
  s->loop = loop;
  s->queue_cap = o->queue_cap ? o->queue_cap : DEFAULT_QUEUE_CAP;
  s->batch_max = o->batch_max ? o->batch_max : DEFAULT_BATCH_MAX;
  /* A batch can never hold more than the items the cap lets in. */
  if (s->batch_max > s->queue_cap) s->batch_max = s->queue_cap;
  s->retry_min_ms = o->retry_min_ms ? o->retry_min_ms : DEFAULT_RETRY_MIN_MS;
  s->retry_max_ms = o->retry_max_ms ? o->retry_max_ms : DEFAULT_RETRY_MAX_MS;
  if (s->retry_max_ms < s->retry_min_ms) s->retry_max_ms = s->retry_min_ms;
  s->uri = ac__strdup(uri);
  s->collection = ac__strdup(o->collection ? o->collection : DEFAULT_COLLECTION);
  s->key_field = ac__strdup(o->key_field ? o->key_field : DEFAULT_KEY_FIELD);
  if (s->batch_max <= SIZE_MAX / sizeof(*s->docs)) {
    s->batch = ac__malloc(s->batch_max * sizeof(*s->batch));
    s->docs = ac__malloc(s->batch_max * sizeof(*s->docs));
  }
  if (s->uri == NULL || s->collection == NULL || s->key_field == NULL || s->batch == NULL ||
      s->docs == NULL || ac_sem_new(loop, s->queue_cap, &s->slots) != 0 ||
      ac_event_new(loop, &s->wake) != 0 || ac_event_new(loop, &s->progress) != 0 ||
      ac_event_new(loop, &s->idle) != 0 || ac_event_new(loop, &s->done) != 0) {
    ac__store_free(s);
    return NULL;
  }
  s->st.queue_cap = s->queue_cap;
  s->target.uri = s->uri;
  s->target.collection = s->collection;
  s->target.key_field = s->key_field;
  s->target.resume = o->resume;
  s->target.connect_timeout_ms =
      o->connect_timeout_ms ? o->connect_timeout_ms : DEFAULT_CONNECT_TIMEOUT_MS;
  return s;
}

struct open_call {
  ac_store_t *s;
  int rc;
  char err[512];
};

static void open_work(void *arg) {
  struct open_call *c = arg;
  c->rc = c->s->backend->open(&c->s->target, &c->s->be, c->err, sizeof(c->err));
}

static void close_work(void *arg) {
  struct open_call *c = arg;
  c->rc = c->s->backend->close(c->s->be, c->err, sizeof(c->err));
  c->s->be = NULL;
}

int ac_store_open(ac_loop_t *loop, const char *uri, const ac_store_opts_t *opts,
                  ac_store_t **out, ac_store_error_t *err) {
  ac_store_opts_t defaults;
  const ac__store_backend_t *backend;
  char *rest;
  const char *options;
  struct open_call c = {0};
  ac_task_opts_t topts = {"store-writer", 0};
  ac_store_t *s;
  int rc;

  if (err != NULL) {
    err->code = 0;
    err->message[0] = '\0';
  }
  if (out != NULL) *out = NULL;
  if (loop == NULL || uri == NULL || out == NULL)
    return ac__store_fail(err, AC_EINVAL, "ac_store_open: loop, uri and out are required");
  if (ac_task_current() == NULL)
    return ac__store_fail(err, AC_ENOTASK, "ac_store_open(\"%s\"): must be called from a task",
                          uri);
  if (opts == NULL) {
    ac_store_opts_init(&defaults);
    opts = &defaults;
  }
  rc = ac__store_pick_backend(uri, &backend, &rest, &options, c.err, sizeof(c.err));
  if (rc != 0) return ac__store_fail(err, rc, "%s", c.err);
  if ((opts->collection != NULL && opts->collection[0] == '\0') ||
      (opts->key_field != NULL && opts->key_field[0] == '\0')) {
    ac__free(rest);
    return ac__store_fail(err, AC_EINVAL, "store \"%s\": empty collection or key field name",
                          uri);
  }
  s = store_new(loop, uri, opts);
  if (s == NULL) {
    ac__free(rest);
    return ac__store_fail(err, AC_ENOMEM, "store \"%s\": out of memory", uri);
  }
  s->backend = backend;
  s->rest = rest;
  s->target.rest = rest;
  s->target.options = options != NULL ? s->uri + (options - uri) : NULL;

  c.s = s;
  rc = ac_run_in_thread(open_work, &c);
  if (rc == 0 && c.rc != 0) {
    rc = ac__store_fail(err, c.rc, "store \"%s\": %s", uri, c.err[0] ? c.err : ac_strerror(c.rc));
  } else if (rc != 0) {
    ac__store_fail(err, rc, "store \"%s\": open interrupted: %s", uri, ac_strerror(rc));
  } else if (ac_task_spawn(loop, ac__store_writer_main, s, &topts, &s->writer) != 0) {
    /* Nothing was written: closing right here on the loop is short. */
    close_work(&c);
    rc = ac__store_fail(err, AC_ENOMEM, "store \"%s\": out of memory", uri);
  }
  if (rc != 0) {
    ac__store_free(s);
    return rc;
  }
  *out = s;
  return 0;
}

/* A task entering put or flush: the store must outlive its stay. */
static void users_leave(ac_store_t *s) {
  if (--s->users == 0) ac_event_set(s->idle);
}

int ac_store_put(ac_store_t *s, const char *key, const void *doc, size_t len,
                 ac_store_ack_cb cb, void *userdata) {
  ac_task_t *self = ac_task_current();
  struct store_item *it;
  size_t klen;
  int rc;

  if (s == NULL || key == NULL || key[0] == '\0' || doc == NULL) return AC_EINVAL;
  /* A UTF-8 byte order mark is not part of the JSON text (RFC 8259 lets a
   * reader ignore it, and a JSON Lines line must not start with one): no
   * store keeps it. */
  if (len >= 3 && memcmp(doc, "\xEF\xBB\xBF", 3) == 0) {
    doc = (const char *)doc + 3;
    len -= 3;
  }
  if (len == 0) return AC_EINVAL;
  if (self == NULL) return AC_ENOTASK;
  if (self == s->writer) return AC_EPERM; /* from an ack callback: it would wait on itself */
  if (s->closing || s->aborting) return AC_ECLOSED;
  klen = strlen(key);
  if (len > SIZE_MAX - sizeof(*it) - klen - 2) return AC_ENOMEM;

  s->users++;
  s->putters_waiting++;
  rc = ac_sem_acquire(s->slots);
  s->putters_waiting--;
  /* A close waits for putters that were already waiting (they get in); a
   * cancelled one must let the writer see it is gone. */
  if (s->closing) ac_event_set(s->wake);
  if (rc == 0 && s->aborting) {
    ac_sem_release(s->slots);
    rc = AC_ECLOSED;
  }
  if (rc == 0) {
    /* Allocated only once there is room: the cap bounds the memory held. */
    it = ac__malloc(sizeof(*it) + klen + 1 + len + 1);
    if (it == NULL) {
      ac_sem_release(s->slots);
      rc = AC_ENOMEM;
    } else {
      char *k = (char *)(it + 1), *d = k + klen + 1;
      memcpy(k, key, klen + 1);
      memcpy(d, doc, len);
      d[len] = '\0';
      it->next = NULL;
      it->cb = cb;
      it->userdata = userdata;
      it->seq = ++s->seq_put;
      it->doc.key = k;
      it->doc.doc = d;
      it->doc.len = len;
      if (s->tail != NULL)
        s->tail->next = it;
      else
        s->head = it;
      s->tail = it;
      s->listed++;
      s->st.put++;
      s->st.queued++;
      ac_event_set(s->wake);
    }
  }
  users_leave(s);
  return rc;
}

int ac_store_flush(ac_store_t *s) {
  ac_task_t *self = ac_task_current();
  uint64_t target;
  int rc = 0;

  if (s == NULL) return AC_EINVAL;
  if (self == NULL) return AC_ENOTASK;
  if (self == s->writer) return AC_EPERM;
  target = s->seq_put;
  s->users++;
  while (rc == 0 && s->seq_done < target) {
    ac_event_clear(s->progress);
    rc = ac_event_wait(s->progress);
  }
  if (rc == 0 && s->first_cancelled != 0 && s->first_cancelled <= target) rc = AC_ECANCELED;
  users_leave(s);
  return rc;
}

/* Wait until the writer has torn down, then free. On an interrupted wait the
 * writer finishes alone (as an abort) and frees the store itself. */
static int finish(ac_store_t *s) {
  int rc = 0;
  /* Cancelled before its first turn (the loop shutting down right after
   * open): the writer never ran, so close tears down here. */
  if (!s->writer_done && !s->writer_started &&
      (ac_task_is_finished(s->writer) || ac_task_cancel_pending(s->writer))) {
    s->aborting = 1;
    /* Keep an interruption it used up for the caller's next await. */
    if (ac__store_teardown(s)) ac_task_cancel(ac_task_current());
  }
  if (!s->writer_done) {
    ac_event_set(s->wake);
    rc = ac_event_wait(s->done);
    if (rc != 0 && !s->writer_done) {
      s->orphaned = 1;
      if (!s->aborting) {
        s->aborting = 1;
        if (s->writer_started) ac_task_cancel(s->writer);
      }
      return rc;
    }
    /* Done anyway: keep the interruption for the caller's next await. */
    if (rc == AC_ECANCELED) ac_task_cancel(ac_task_current());
  }
  rc = s->close_rc;
  if (rc == 0 && s->first_cancelled != 0) rc = AC_ECANCELED;
  ac__store_free(s);
  return rc;
}

int ac_store_close(ac_store_t *s) {
  ac_task_t *self = ac_task_current();
  if (s == NULL) return 0;
  if (self == NULL) return AC_ENOTASK;
  if (self == s->writer) return AC_EPERM;
  if (s->closing) return AC_ECLOSED; /* another task is closing it */
  s->closing = 1;
  return finish(s);
}

void ac_store_abort(ac_store_t *s) {
  ac_task_t *self = ac_task_current();
  int was_closing;
  if (s == NULL || self == NULL || self == s->writer) return;
  was_closing = s->closing;
  s->closing = 1;
  if (!s->aborting && !s->writer_done) {
    s->aborting = 1;
    /* Cancelling a task before its first turn would keep it from ever
     * running; one that has not started sees `aborting` when it does. */
    if (s->writer_started) ac_task_cancel(s->writer);
    ac_event_set(s->wake);
  }
  /* A close stuck on a failing store is waiting in another task: it frees. */
  if (!was_closing) finish(s);
}

const char *ac_store_uri(const ac_store_t *s) { return s->uri; }

void ac_store_stats(const ac_store_t *s, ac_store_stats_t *stats) { *stats = s->st; }
