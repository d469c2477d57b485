/*
 * From a store URI to its backend: the table of backends built in, and the
 * messages for URIs none of them takes. Only the scheme is checked here; the
 * rest (a path, a MongoDB address) is the backend's to judge at open.
 */
#include <stdio.h>
#include <string.h>

#include "store/generic.h"

static const ac__store_backend_t *const backends[] = {
    &ac__store_sqlite,
    &ac__store_jsonl,
#ifdef AC_HAVE_MONGO_BACKEND
    &ac__store_mongo,
#endif
};

/* The scheme's length: letters, digits, '+', '-', '.' up to a ':' (RFC 3986),
 * or 0 if the URI does not start with one. */
static size_t scheme_len(const char *uri) {
  size_t i = 0;
  while ((uri[i] >= 'a' && uri[i] <= 'z') || (uri[i] >= 'A' && uri[i] <= 'Z') ||
         (i > 0 && ((uri[i] >= '0' && uri[i] <= '9') || uri[i] == '+' || uri[i] == '-' ||
                    uri[i] == '.')))
    i++;
  return i > 0 && uri[i] == ':' ? i : 0;
}

int ac__store_pick_backend(const char *uri, const ac__store_backend_t **backend,
                           const char **rest, char *err, size_t errlen) {
  size_t n = scheme_len(uri);

  for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
    const ac__store_backend_t *b = backends[i];
    if (!b->match(uri)) continue;
    *backend = b;
    /* MongoDB parses its whole connection string; the file stores take the
     * path after "scheme:" as written. */
    *rest = strcmp(b->scheme, "mongodb") == 0 ? uri : uri + n + 1;
    if (**rest == '\0') {
      snprintf(err, errlen, "missing path in store URI \"%s\" (expected %s:PATH)", uri,
               b->scheme);
      return AC_EINVAL;
    }
    return 0;
  }
  if (n == 0) {
    snprintf(err, errlen,
             "store URI \"%s\" has no scheme (expected sqlite:PATH, jsonl:PATH or "
             "mongodb://HOST/DB.COLLECTION)",
             uri);
  } else if ((n == 7 && strncmp(uri, "mongodb", 7) == 0) ||
             (n == 11 && strncmp(uri, "mongodb+srv", 11) == 0)) {
#ifdef AC_HAVE_MONGO_BACKEND
    snprintf(err, errlen, "bad MongoDB store URI \"%s\" (expected mongodb://HOST[:PORT]/DB.COLLECTION)",
             uri);
#else
    snprintf(err, errlen,
             "store URI \"%s\": this acrawl was built without MongoDB support (libmongoc)", uri);
#endif
  } else {
    snprintf(err, errlen,
             "unknown store scheme \"%.*s\" in \"%s\" (expected sqlite:, jsonl: or mongodb://)",
             (int)n, uri, uri);
  }
  return AC_EINVAL;
}
