/*
 * URLs as the frontier sees them. A followed URL is parsed with libcurl's
 * URL API (the same parser that will fetch it), and two forms come out:
 *   - the URL to fetch: the URL without its fragment (never sent anyway);
 *   - the dedup key: scheme and host lower-cased, the default port dropped,
 *     an empty path as "/", the query's parameters sorted (so ?a=1&b=2 and
 *     ?b=2&a=1 are one page), no fragment.
 * Only absolute http:// and https:// URLs are accepted.
 */
#include <ctype.h>
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#include "acrawl/errno.h"
#include "common/alloc.h"
#include "crawl/internal.h"

static int cmp_param(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sort a query's &-separated parameters in place (into a new string). */
static char *sorted_query(const char *q) {
  size_t n = 1, len = strlen(q);
  char *copy = ac__strdup(q), *out, **parts, *p;
  if (copy == NULL) return NULL;
  for (const char *c = q; *c; c++) n += *c == '&';
  parts = ac__malloc(n * sizeof(*parts));
  out = ac__malloc(len + 1);
  if (parts == NULL || out == NULL) {
    ac__free(parts);
    ac__free(out);
    ac__free(copy);
    return NULL;
  }
  n = 0;
  for (p = copy;;) {
    char *amp = strchr(p, '&');
    parts[n++] = p;
    if (amp == NULL) break;
    *amp = '\0';
    p = amp + 1;
  }
  qsort(parts, n, sizeof(*parts), cmp_param);
  out[0] = '\0';
  for (size_t i = 0, o = 0; i < n; i++) {
    size_t k = strlen(parts[i]);
    if (i > 0) out[o++] = '&';
    memcpy(out + o, parts[i], k);
    o += k;
    out[o] = '\0';
  }
  ac__free(parts);
  ac__free(copy);
  return out;
}

int ac__crawl_url_parse(const char *in, ac__crawl_url_t *out) {
  CURLU *u;
  char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL, *query = NULL, *fetch = NULL;
  char *sq = NULL;
  int rc = AC_EINVAL;
  size_t klen;

  memset(out, 0, sizeof(*out));
  if (in == NULL || *in == '\0') return AC_EINVAL;
  u = curl_url();
  if (u == NULL) return AC_ENOMEM;
  /* No CURLU_GUESS_SCHEME / DEFAULT_SCHEME: a relative or scheme-less URL
   * is a spider's bug, reported rather than guessed. */
  if (curl_url_set(u, CURLUPART_URL, in, 0) != CURLUE_OK) goto done;
  if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK) goto done;
  for (char *c = scheme; *c; c++) *c = (char)tolower((unsigned char)*c);
  if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) goto done;
  if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || *host == '\0') goto done;
  for (char *c = host; *c; c++) *c = (char)tolower((unsigned char)*c);
  (void)curl_url_get(u, CURLUPART_PORT, &port, CURLU_NO_DEFAULT_PORT);
  (void)curl_url_get(u, CURLUPART_PATH, &path, 0);
  (void)curl_url_get(u, CURLUPART_QUERY, &query, 0);
  /* The fetch URL: libcurl's own rendering, without the fragment. */
  if (curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0) != CURLUE_OK) goto done;
  if (curl_url_get(u, CURLUPART_URL, &fetch, 0) != CURLUE_OK) goto done;

  rc = AC_ENOMEM;
  if (query != NULL && (sq = sorted_query(query)) == NULL) goto done;
  klen = strlen(scheme) + 3 + strlen(host) + (port ? strlen(port) + 1 : 0) +
         (path && *path ? strlen(path) : 1) + (sq ? strlen(sq) + 1 : 0) + 1;
  out->key = ac__malloc(klen);
  out->fetch = ac__strdup(fetch);
  out->host = ac__malloc(strlen(host) + (port ? strlen(port) + 1 : 0) + 1);
  if (out->key == NULL || out->fetch == NULL || out->host == NULL) {
    ac__crawl_url_free(out);
    goto done;
  }
  strcpy(out->host, host);
  if (port) {
    strcat(out->host, ":");
    strcat(out->host, port);
  }
  strcpy(out->key, scheme);
  strcat(out->key, "://");
  strcat(out->key, out->host);
  strcat(out->key, path && *path ? path : "/");
  if (sq) {
    strcat(out->key, "?");
    strcat(out->key, sq);
  }
  rc = 0;
done:
  ac__free(sq);
  curl_free(scheme);
  curl_free(host);
  curl_free(port);
  curl_free(path);
  curl_free(query);
  curl_free(fetch);
  curl_url_cleanup(u);
  return rc;
}

void ac__crawl_url_free(ac__crawl_url_t *u) {
  ac__free(u->key);
  ac__free(u->fetch);
  ac__free(u->host);
  memset(u, 0, sizeof(*u));
}
