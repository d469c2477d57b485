/*
 * Reading a collection back (acrawl/store.h): the generic half of a reader.
 * The backend's read side (internal.h) is opened, read and closed on worker
 * threads, one call at a time; each page is copied into a buffer the reader
 * owns (ac__store_page_add, on the worker thread), and handed to the caller
 * on the loop as an array of ac_store_doc_t that stays valid until the next
 * read. Nothing is shared with a store open on the same URI: the SQLite
 * backend reads through a connection of its own.
 */
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "store/generic.h"

#define DEFAULT_COLLECTION "items"
#define DEFAULT_PAGE 512

/* Where a document of the page is in page.buf (offsets: buf may move). */
struct ac__store_page_entry {
  size_t key;
  size_t doc;
  size_t len;
};

struct ac_store_reader {
  const ac__store_backend_t *backend;
  void *rd; /* the backend's; touched only by worker-thread calls */
  ac__store_target_t target;
  char *uri;
  char *rest;
  char *collection;
  ac__store_page_t page;
  size_t entries_cap;
  ac_store_doc_t *docs; /* entries_cap of them: the page as handed out */
  int busy;             /* a task is inside read or close */
};

int ac__store_page_add(ac__store_page_t *p, const char *key, size_t klen, const char *doc,
                       size_t len) {
  size_t need;
  struct ac__store_page_entry *e;
  if (p->n >= p->max) return AC_EINVAL;
  if (klen > SIZE_MAX / 4 || len > SIZE_MAX / 4) return AC_ENOMEM;
  need = klen + 1 + len + 1;
  if (p->cap - p->used < need) {
    size_t cap = p->cap ? p->cap : 64 * 1024;
    char *buf;
    while (cap - p->used < need) {
      if (cap > SIZE_MAX / 2) return AC_ENOMEM;
      cap *= 2;
    }
    buf = ac__realloc(p->buf, cap);
    if (buf == NULL) return AC_ENOMEM;
    p->buf = buf;
    p->cap = cap;
  }
  e = &p->entries[p->n++];
  e->key = p->used;
  e->doc = p->used + klen + 1;
  e->len = len;
  memcpy(p->buf + e->key, key, klen);
  p->buf[e->key + klen] = '\0';
  memcpy(p->buf + e->doc, doc, len);
  p->buf[e->doc + len] = '\0';
  p->used += need;
  return 0;
}

static void reader_free(ac_store_reader_t *r) {
  ac__free(r->page.entries);
  ac__free(r->page.buf);
  ac__free(r->docs);
  ac__free(r->uri);
  ac__free(r->rest);
  ac__free(r->collection);
  ac__free(r);
}

struct read_call {
  ac_store_reader_t *r;
  int rc;
  char err[512];
};

static void open_work(void *arg) {
  struct read_call *c = arg;
  c->rc = c->r->backend->read_open(&c->r->target, &c->r->rd, c->err, sizeof(c->err));
}

static void page_work(void *arg) {
  struct read_call *c = arg;
  c->rc = c->r->backend->read_page(c->r->rd, &c->r->page, c->err, sizeof(c->err));
}

static void close_work(void *arg) {
  ac_store_reader_t *r = arg;
  r->backend->read_close(r->rd);
  r->rd = NULL;
}

int ac_store_reader_open(const char *uri, const ac_store_opts_t *opts, ac_store_reader_t **out,
                         ac_store_error_t *err) {
  const ac__store_backend_t *backend;
  const char *options, *collection;
  char *rest;
  struct read_call c = {0};
  ac_store_reader_t *r;
  int rc;

  if (err != NULL) {
    err->code = 0;
    err->message[0] = '\0';
  }
  if (out != NULL) *out = NULL;
  if (uri == NULL || out == NULL)
    return ac__store_fail(err, AC_EINVAL, "ac_store_reader_open: uri and out are required");
  if (ac_task_current() == NULL)
    return ac__store_fail(err, AC_ENOTASK,
                          "ac_store_reader_open(\"%s\"): must be called from a task", uri);
  collection = opts != NULL && opts->collection != NULL ? opts->collection : DEFAULT_COLLECTION;
  rc = ac__store_pick_backend(uri, &backend, &rest, &options, c.err, sizeof(c.err));
  if (rc != 0) return ac__store_fail(err, rc, "%s", c.err);
  if (backend->read_open == NULL) {
    ac__free(rest);
    return ac__store_fail(err, AC_ENOSYS,
                          "store \"%s\": a %s: store cannot be read back (only sqlite: ones can)",
                          uri, backend->scheme);
  }
  if (collection[0] == '\0') {
    ac__free(rest);
    return ac__store_fail(err, AC_EINVAL, "store \"%s\": empty collection name", uri);
  }
  r = ac__calloc(1, sizeof(*r));
  if (r == NULL || (r->uri = ac__strdup(uri)) == NULL ||
      (r->collection = ac__strdup(collection)) == NULL) {
    if (r != NULL) reader_free(r);
    ac__free(rest);
    return ac__store_fail(err, AC_ENOMEM, "store \"%s\": out of memory", uri);
  }
  r->backend = backend;
  r->rest = rest;
  r->target.uri = r->uri;
  r->target.rest = rest;
  r->target.options = options != NULL ? r->uri + (options - uri) : NULL;
  r->target.collection = r->collection;

  c.r = r;
  rc = ac_run_in_thread(open_work, &c);
  if (rc != 0)
    ac__store_fail(err, rc, "store \"%s\": open interrupted: %s", uri, ac_strerror(rc));
  else if ((rc = c.rc) != 0)
    ac__store_fail(err, rc, "store \"%s\": %s", uri, c.err[0] ? c.err : ac_strerror(rc));
  if (rc != 0) {
    reader_free(r);
    return rc;
  }
  *out = r;
  return 0;
}

int ac_store_read(ac_store_reader_t *r, size_t max, const ac_store_doc_t **docs, size_t *n,
                  ac_store_error_t *err) {
  struct read_call c = {0};
  int rc;

  if (err != NULL) {
    err->code = 0;
    err->message[0] = '\0';
  }
  if (docs != NULL) *docs = NULL;
  if (n != NULL) *n = 0;
  if (r == NULL || docs == NULL || n == NULL)
    return ac__store_fail(err, AC_EINVAL, "ac_store_read: reader, docs and n are required");
  if (ac_task_current() == NULL)
    return ac__store_fail(err, AC_ENOTASK, "store \"%s\": read must be called from a task",
                          r->uri);
  if (r->busy)
    return ac__store_fail(err, AC_EBUSY, "store \"%s\": another task is using this reader",
                          r->uri);
  if (max == 0) max = DEFAULT_PAGE;
  if (max > r->entries_cap) {
    struct ac__store_page_entry *e = NULL;
    ac_store_doc_t *d = NULL;
    if (max <= SIZE_MAX / sizeof(*e) && max <= SIZE_MAX / sizeof(*d)) {
      e = ac__realloc(r->page.entries, max * sizeof(*e));
      if (e != NULL) r->page.entries = e;
      d = ac__realloc(r->docs, max * sizeof(*d));
      if (d != NULL) r->docs = d;
    }
    if (e == NULL || d == NULL)
      return ac__store_fail(err, AC_ENOMEM, "store \"%s\": out of memory for a page of %zu",
                            r->uri, max);
    r->entries_cap = max;
  }
  r->page.max = max;
  r->page.n = 0;
  r->page.used = 0;

  c.r = r;
  r->busy = 1;
  rc = ac_run_in_thread(page_work, &c);
  r->busy = 0;
  if (rc != 0)
    return ac__store_fail(err, rc, "store \"%s\": read interrupted: %s", r->uri,
                          ac_strerror(rc));
  if (c.rc != 0) {
    r->page.n = 0;
    return ac__store_fail(err, c.rc, "store \"%s\": %s", r->uri,
                          c.err[0] ? c.err : ac_strerror(c.rc));
  }
  for (size_t i = 0; i < r->page.n; i++) {
    const struct ac__store_page_entry *e = &r->page.entries[i];
    r->docs[i].key = r->page.buf + e->key;
    r->docs[i].doc = r->page.buf + e->doc;
    r->docs[i].len = e->len;
  }
  *docs = r->docs;
  *n = r->page.n;
  return 0;
}

int ac_store_reader_close(ac_store_reader_t *r) {
  ac_task_t *self = ac_task_current();
  if (r == NULL) return 0;
  if (r->busy) return AC_EBUSY;
  r->busy = 1;
  if (self == NULL) {
    close_work(r); /* outside a task: here, on the calling thread */
  } else {
    int rc = ac_run_in_thread(close_work, r);
    if (rc != 0) {
      /* Dropped before it ran: close here, and keep the interruption for
       * the caller's next await. */
      close_work(r);
      if (rc == AC_ECANCELED) ac_task_cancel(self);
    }
  }
  reader_free(r);
  return 0;
}
