/*
 * The module's side of mongo_module.h: its one exported function, and the
 * allocator that mongo.c and json_bson.c call (common/alloc.h), forwarded
 * to the host's so that the module allocates the way the library does.
 * Everything else here is hidden (-fvisibility=hidden).
 */
#include <string.h>

#include "acrawl/version.h"
#include "common/alloc.h"
#include "store/mongo_module.h"

static ac__mongo_host_t host;

void *ac__malloc(size_t size) { return host.malloc(size); }
void *ac__calloc(size_t count, size_t size) { return host.calloc(count, size); }
void *ac__realloc(void *ptr, size_t size) { return host.realloc(ptr, size); }
void ac__free(void *ptr) { host.free(ptr); }
char *ac__strdup(const char *s) { return host.strdup(s); }

__attribute__((visibility("default"))) const ac__store_backend_t *ac_mongo_module_entry(
    const ac__mongo_host_t *h);

const ac__store_backend_t *ac_mongo_module_entry(const ac__mongo_host_t *h) {
  if (h == NULL || h->size != sizeof(host) || h->version == NULL ||
      strcmp(h->version, AC_VERSION_STRING) != 0)
    return NULL;
  host = *h;
  return &ac__store_mongo_impl;
}
