/*
 * From a store URI to its backend: the table of backends built in, and the
 * messages for URIs none of them takes. Only the scheme is checked here, and
 * a sqlite: URI cut into its path and its options; the rest (a path, a
 * MongoDB address, the options' names and values) is the backend's to judge
 * at open.
 *
 * sqlite:PATH[?OPTIONS]: the first '?' ends the path. In the path, %3F (or
 * %3f) stands for a '?' of the file's name and %25 for a '%' (so that a name
 * holding "%3F" itself can be written too); every other '%' is the file
 * name's own, as it was before options existed. jsonl: paths take no
 * options: a '?' there is part of the file name.
 */
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
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

/* path (len bytes) with %3F and %25 decoded; NULL on out of memory. */
static char *decode_path(const char *path, size_t len) {
  char *out = ac__malloc(len + 1), *o = out;
  if (out == NULL) return NULL;
  for (size_t i = 0; i < len; i++) {
    if (path[i] == '%' && i + 2 < len && path[i + 1] == '3' &&
        (path[i + 2] == 'F' || path[i + 2] == 'f')) {
      *o++ = '?';
      i += 2;
    } else if (path[i] == '%' && i + 2 < len && path[i + 1] == '2' && path[i + 2] == '5') {
      *o++ = '%';
      i += 2;
    } else {
      *o++ = path[i];
    }
  }
  *o = '\0';
  return out;
}

int ac_store_uri_file(const char *uri, char **path) {
  const ac__store_backend_t *b;
  const char *options;
  char err[256];
  int rc;

  if (path == NULL) return AC_EINVAL;
  *path = NULL;
  if (uri == NULL) return AC_EINVAL;
  /* A MongoDB URI names no file, whether or not this build has the backend. */
  if (strncmp(uri, "mongodb:", 8) == 0 || strncmp(uri, "mongodb+srv:", 12) == 0)
    return AC_ENOENT;
  rc = ac__store_pick_backend(uri, &b, path, &options, err, sizeof(err));
  if (rc != 0) return rc;
  if (strcmp(b->scheme, "jsonl") == 0 && strcmp(*path, "-") == 0) {
    ac__free(*path);
    *path = NULL;
    return AC_ENOENT;
  }
  return 0;
}

int ac__store_uri_option(const char **cursor, const char **name, size_t *nlen,
                         const char **value, size_t *vlen) {
  const char *p = *cursor;
  while (*p == '&') p++;
  if (*p == '\0') {
    *cursor = p;
    return 0;
  }
  size_t len = strcspn(p, "&");
  const char *eq = memchr(p, '=', len);
  *name = p;
  *nlen = eq != NULL ? (size_t)(eq - p) : len;
  *value = eq != NULL ? eq + 1 : NULL;
  *vlen = eq != NULL ? len - *nlen - 1 : 0;
  *cursor = p + len;
  return 1;
}

int ac__store_pick_backend(const char *uri, const ac__store_backend_t **backend, char **rest,
                           const char **options, char *err, size_t errlen) {
  size_t n = scheme_len(uri);

  *rest = NULL;
  *options = NULL;
  for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
    const ac__store_backend_t *b = backends[i];
    const char *path = uri + n + 1;
    size_t len;
    if (!b->match(uri)) continue;
    *backend = b;
    /* MongoDB parses its whole connection string, options and all; JSON
     * Lines takes the path after "jsonl:" as written; SQLite's ends at the
     * first '?', where its options begin. */
    if (strcmp(b->scheme, "mongodb") == 0) {
      path = uri;
      len = strlen(uri);
    } else if (strcmp(b->scheme, "sqlite") == 0) {
      len = strcspn(path, "?");
      *options = path[len] == '?' ? path + len + 1 : path + len;
    } else {
      len = strlen(path);
    }
    if (len == 0) {
      snprintf(err, errlen, "missing path in store URI \"%s\" (expected %s:PATH)", uri,
               b->scheme);
      *options = NULL;
      return AC_EINVAL;
    }
    *rest = strcmp(b->scheme, "sqlite") == 0 ? decode_path(path, len) : ac__strdup(path);
    if (*rest == NULL) {
      snprintf(err, errlen, "store URI \"%s\": out of memory", uri);
      *options = NULL;
      return AC_ENOMEM;
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
