/*
 * URLs as the frontier sees them. A followed URL is parsed with libcurl's
 * URL API (the same parser that will fetch it), and two forms come out:
 *   - the URL to fetch: the URL without its fragment (never sent anyway);
 *   - the dedup key: scheme and host lower-cased, the default port dropped,
 *     an empty path as "/", the query's parameters sorted (so ?a=1&b=2 and
 *     ?b=2&a=1 are one page), no fragment.
 * Only absolute http:// and https:// URLs are accepted.
 *
 * Most URLs a crawl follows are already in the form libcurl renders
 * (lower-case scheme and host, no default port, no fragment, nothing to
 * encode or remove): those are taken apart here without libcurl, whose URL
 * API allocates and copies each part, a visible share of the loop thread's
 * time in a books crawl. The test runs both over a corpus of tricky URLs and wants
 * the same three strings whenever the plain parser takes one.
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

/* ------------------------------------------------ without libcurl */

static int is_alnum(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static int is_hex(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* RFC 3986 pchar but '%' (unreserved, sub-delims, ':' and '@'), and '/':
 * what libcurl keeps as it is in a path or a query. */
static int is_plain(unsigned char c) {
  return is_alnum(c) || (c != '\0' && strchr("-._~!$&'()*+,;=:@/", c) != NULL);
}

/* Length of a run of plain characters and %XX escapes at p, stopping at
 * stop (0: none); -1 if something else comes first. */
static long plain_run(const char *p, char stop) {
  const char *s = p;
  for (;;) {
    unsigned char c = (unsigned char)*p;
    if (c == '\0' || c == (unsigned char)stop) return (long)(p - s);
    if (c == '%') {
      if (!is_hex((unsigned char)p[1]) || !is_hex((unsigned char)p[2])) return -1;
      p += 3;
    } else if (is_plain(c)) {
      p++;
    } else {
      return -1;
    }
  }
}

/* A host libcurl leaves as it is: lower-case letters, digits, '-' and
 * dots between non-empty labels, and either a label that starts with a
 * letter or '-' (libcurl reads a name whose every label starts with a digit
 * as an IPv4 address in some base: 0x7f.1, 010.0.0.1) or four decimal
 * numbers 0-255 with no leading zero, already in the form it prints. */
static int plain_host(const char *h, size_t n) {
  int labels = 0, numeric = 1, canonical = 1;
  size_t i = 0;
  if (n == 0 || n > 253) return 0;
  while (i < n) {
    size_t start = i;
    unsigned value = 0;
    if (!((h[i] >= '0' && h[i] <= '9'))) numeric = 0;
    for (; i < n && h[i] != '.'; i++) {
      char c = h[i];
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return 0;
      if (c >= '0' && c <= '9' && value <= 255) value = value * 10 + (unsigned)(c - '0');
      else canonical = 0;
    }
    if (i == start) return 0; /* an empty label: "a..b", ".a", "a." */
    if (value > 255 || (h[start] == '0' && i - start > 1)) canonical = 0;
    labels++;
    if (i < n) i++; /* the dot */
    if (i == n && h[n - 1] == '.') return 0;
  }
  return !numeric || (canonical && labels == 4);
}

int ac__crawl_url_parse_plain(const char *in, ac__crawl_url_t *out) {
  const char *host, *p, *path, *query = NULL;
  size_t scheme_len, host_len, path_len;
  long run;
  char *sq = NULL;

  memset(out, 0, sizeof(*out));
  if (in == NULL) return 1;
  if (strncmp(in, "http://", 7) == 0)
    scheme_len = 4;
  else if (strncmp(in, "https://", 8) == 0)
    scheme_len = 5;
  else
    return 1;
  host = in + scheme_len + 3;
  p = host + strcspn(host, ":/?#");
  if (!plain_host(host, (size_t)(p - host))) return 1;
  if (*p == ':') { /* a port libcurl keeps as written: 1-65535, no leading 0, not the default */
    unsigned long port = 0;
    const char *d = ++p;
    while (*p >= '0' && *p <= '9' && p - d < 6) port = port * 10 + (unsigned long)(*p++ - '0');
    if (p == d || *d == '0' || port > 65535 || port == (scheme_len == 4 ? 80u : 443u)) return 1;
  }
  host_len = (size_t)(p - host);
  if (*p != '/') return 1; /* no path: libcurl adds "/" */
  path = p;
  if ((run = plain_run(path, '?')) < 0) return 1;
  path_len = (size_t)run;
  /* Dot segments are removed by libcurl: "/./", "/../", a final "/." or "/..". */
  for (size_t i = 0; i < path_len; i++) {
    if (path[i] == '/' && i + 1 < path_len && path[i + 1] == '.') {
      size_t j = i + 2;
      if (j < path_len && path[j] == '.') j++;
      if (j == path_len || path[j] == '/') return 1;
    }
  }
  if (path[path_len] == '?') {
    query = path + path_len + 1;
    if ((run = plain_run(query, 0)) <= 0) return 1; /* empty, or something libcurl decides */
  }
  if (query != NULL && (sq = sorted_query(query)) == NULL) return AC_ENOMEM;
  out->fetch = ac__strdup(in);
  out->host = ac__malloc(host_len + 1);
  out->key = ac__malloc(scheme_len + 3 + host_len + path_len + (sq ? strlen(sq) + 1 : 0) + 1);
  if (out->fetch == NULL || out->host == NULL || out->key == NULL) {
    ac__free(sq);
    ac__crawl_url_free(out);
    return AC_ENOMEM;
  }
  memcpy(out->host, host, host_len);
  out->host[host_len] = '\0';
  memcpy(out->key, in, scheme_len + 3 + host_len + path_len);
  out->key[scheme_len + 3 + host_len + path_len] = '\0';
  if (sq != NULL) {
    strcat(out->key, "?");
    strcat(out->key, sq);
    ac__free(sq);
  }
  return 0;
}

/* ------------------------------------------------ with libcurl */

int ac__crawl_url_parse(const char *in, ac__crawl_url_t *out) {
  int rc = ac__crawl_url_parse_plain(in, out);
  return rc != 1 ? rc : ac__crawl_url_parse_curl(in, out);
}

int ac__crawl_url_parse_curl(const char *in, ac__crawl_url_t *out) {
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
