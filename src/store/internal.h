/*
 * The store layer's private contract: a backend writes batches on a worker
 * thread; store.c (the generic half) owns the queue, the writer task, the
 * batching, the retries with backoff and the acknowledgements on the loop.
 * A backend that can read a collection back (ac_store_reader_open) also
 * answers pages of it, on a worker thread; reader.c is its generic half.
 */
#ifndef ACRAWL_STORE_INTERNAL_H
#define ACRAWL_STORE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "acrawl/store.h"

/* One item of a batch. key and doc are owned by store.c and stay valid
 * until the batch is acknowledged. */
typedef struct ac__store_doc {
  const char *key;
  const char *doc; /* JSON text, NUL-terminated */
  size_t len;
} ac__store_doc_t;

/* What a backend is told at open. Strings are owned by store.c (reader.c). */
typedef struct ac__store_target {
  const char *uri;        /* the whole URI */
  /* sqlite: the path, up to the options and with %3F and %25 decoded;
   * jsonl: what follows "jsonl:", as written; mongodb: the whole URI. */
  const char *rest;
  /* sqlite: what follows the path's '?' ("" if nothing does), for the
   * backend to parse with ac__store_uri_option; NULL for the others. */
  const char *options;
  const char *collection; /* opts.collection or "items" */
  const char *key_field;  /* opts.key_field or "id" */
  int resume;
  uint64_t connect_timeout_ms;
} ac__store_target_t;

/* One page being read back (reader.c): a backend adds each document with
 * ac__store_page_add, at most `max` of them. */
typedef struct ac__store_page ac__store_page_t;
struct ac__store_page {
  size_t max; /* the most documents this page may hold (>= 1) */
  size_t n;   /* added so far */
  /* The rest is reader.c's. */
  struct ac__store_page_entry *entries; /* max of them */
  char *buf; /* keys and documents, NUL-terminated, one after the other */
  size_t used;
  size_t cap;
};

/* Copy a document into the page (key: klen bytes, doc: len bytes; neither
 * needs a NUL). 0, or AC_ENOMEM (nothing added), AC_EINVAL if the page is
 * full. Worker thread, like the backend call that adds. */
int ac__store_page_add(ac__store_page_t *p, const char *key, size_t klen, const char *doc,
                       size_t len);

/*
 * Every function but `match` runs on a worker thread, one call at a time
 * for a given backend (never two at once), so a backend needs no locks.
 * Each returns 0 or an AC_E* code and, on failure, writes a message to
 * err (errlen bytes, NUL-terminated).
 *
 * write must be all-or-nothing from the caller's point of view: on failure
 * the same batch is passed again later (after backoff), so it must be safe
 * to write twice (upserts; JSON Lines skips keys it already wrote).
 * `transient` tells store.c whether a failure is worth retrying (1: server
 * away, busy) or permanent (0: a document the backend can never take; then
 * the batch's items are acknowledged with the error).
 */
typedef struct ac__store_backend {
  const char *scheme;                       /* "sqlite", "jsonl", "mongodb" */
  int (*match)(const char *uri);            /* 1 if the URI is this backend's (on the loop) */
  int (*open)(const ac__store_target_t *t, void **be, char *err, size_t errlen);
  int (*write)(void *be, const ac__store_doc_t *docs, size_t n, uint64_t *skipped,
               int *transient, char *err, size_t errlen);
  int (*close)(void *be, char *err, size_t errlen);

  /*
   * Reading a collection back: NULL in a backend that cannot (the reader
   * then answers AC_ENOSYS). The same rules: worker threads, one call at a
   * time for a given reader. t->collection names what is read; the options
   * of the URI are judged as at open (those that only matter to writing are
   * taken and ignored).
   *
   * read_open: 0 with *rd set; AC_ENOENT when there is nothing to read (no
   * such file, no such collection in it: nothing was ever written there);
   * AC_EINVAL (a bad option or collection name), AC_ESTORE, AC_ENOMEM.
   * read_page: the next documents after the last one answered, in the
   * backend's order, up to page->max of them added to page; fewer means the
   * end was reached. AC_ESTORE or AC_ENOMEM: the page is dropped, and the
   * next call starts where this one did. read_close frees rd; it cannot
   * fail.
   */
  int (*read_open)(const ac__store_target_t *t, void **rd, char *err, size_t errlen);
  int (*read_page)(void *rd, ac__store_page_t *page, char *err, size_t errlen);
  void (*read_close)(void *rd);
} ac__store_backend_t;

/*
 * uri.c, for a backend that takes options (sqlite:PATH?name=value&...):
 * the next option from *cursor, which starts at target.options and moves
 * on. Returns 1 with name/value pointing into the URI (nlen, vlen bytes;
 * *value is NULL for an option without '='), 0 when none is left. Empty
 * options ("a=1&&b=2", a trailing '&') are skipped. Never fails: judging a
 * name or a value is the backend's.
 */
int ac__store_uri_option(const char **cursor, const char **name, size_t *nlen,
                         const char **value, size_t *vlen);

/* printf into a backend's err buffer (errlen bytes; nothing if err is NULL). */
void ac__store_errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

extern const ac__store_backend_t ac__store_sqlite;
extern const ac__store_backend_t ac__store_jsonl;
extern const ac__store_backend_t ac__store_mongo;

#endif /* ACRAWL_STORE_INTERNAL_H */
