/*
 * The store layer's private contract: a backend writes batches on a worker
 * thread; store.c (the generic half) owns the queue, the writer task, the
 * batching, the retries with backoff and the acknowledgements on the loop.
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

/* What a backend is told at open. Strings are owned by store.c. */
typedef struct ac__store_target {
  const char *uri;        /* the whole URI */
  const char *rest;       /* after "scheme:" (sqlite, jsonl) or the whole URI (mongodb) */
  const char *collection; /* opts.collection or "items" */
  const char *key_field;  /* opts.key_field or "id" */
  int resume;
  uint64_t connect_timeout_ms;
  int keep_wal; /* SQLite: no checkpoint at close (store.h) */
} ac__store_target_t;

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
} ac__store_backend_t;

/* printf into a backend's err buffer (errlen bytes; nothing if err is NULL). */
void ac__store_errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

extern const ac__store_backend_t ac__store_sqlite;
extern const ac__store_backend_t ac__store_jsonl;
extern const ac__store_backend_t ac__store_mongo;

#endif /* ACRAWL_STORE_INTERNAL_H */
