/*
 * The MongoDB store lives in a module of its own (acrawl-mongo.so), loaded
 * by mongo_load.c the first time a mongodb:// store opens. Why: linked
 * into every acrawl program, libmongoc cost each start about 4 ms of 8.5
 * (its load-time init reads OpenSSL's configuration and loads every SASL
 * plugin) and left a /dev/shm/mongoc-PID file behind every process killed
 * with SIGKILL, which later made libmongoc warn on stderr in unrelated runs
 * that happened to get the same PID.
 *
 * The contract between the two halves, built from the same tree: the
 * module exports one function, AC__MONGO_MODULE_ENTRY, which takes the
 * host's allocator (so that ac_replace_allocator and the tests' failure
 * injection reach the module too) and returns the backend.
 */
#ifndef ACRAWL_STORE_MONGO_MODULE_H
#define ACRAWL_STORE_MONGO_MODULE_H

#include <stddef.h>
#include <string.h>

#include "store/internal.h"

/* The module's file name, and where to find it besides ACRAWL_MODULE_DIR. */
#define AC__MONGO_MODULE_FILE "acrawl-mongo.so"
#define AC__MONGO_MODULE_ENTRY "ac_mongo_module_entry"

typedef struct ac__mongo_host {
  const char *version; /* AC_VERSION_STRING of the loader: must equal the module's */
  size_t size;         /* sizeof(ac__mongo_host_t) */
  void *(*malloc)(size_t size);
  void *(*calloc)(size_t count, size_t size);
  void *(*realloc)(void *ptr, size_t size);
  void (*free)(void *ptr);
  char *(*strdup)(const char *s);
} ac__mongo_host_t;

/* Returns the backend, or NULL when host does not match this module (a
 * module from another acrawl version): the loader reports that. */
typedef const ac__store_backend_t *(*ac__mongo_module_fn)(const ac__mongo_host_t *host);

/* mongodb:// and mongodb+srv:// URIs: the loader answers for the module
 * without loading it. */
static inline int ac__mongo_uri_match(const char *uri) {
  return strncmp(uri, "mongodb://", 10) == 0 || strncmp(uri, "mongodb+srv://", 14) == 0;
}

/* Inside the module: the backend (mongo.c). */
extern const ac__store_backend_t ac__store_mongo_impl;

#endif /* ACRAWL_STORE_MONGO_MODULE_H */
