/*
 * Request options: their defaults, and the encodings every transport needs
 * (the URL with its query parameters, urlencoded form bodies). Turning them
 * into a request is each transport's (curl/easy.c, h1/h1_request.c).
 */
#include <curl/curl.h>
#include <string.h>

#include "client/internal.h"

void ac_request_opts_init(ac_request_opts_t *o) {
  memset(o, 0, sizeof(*o));
  o->connect_timeout_ms = 30000;
  o->follow_redirects = 1;
  o->max_redirects = 10;
  o->decompress = 1;
}

/* Append curl_easy_escape(s): every byte but ALPHA DIGIT - . _ ~ as %XX.
 * libcurl ignores the function's handle (NULL here), so that the native
 * path, whose calls have none, encodes the same way. */
static int add_escaped(struct ac__dynbuf *b, const char *s) {
  char *e;
  int rc;
  if (s == NULL) s = "";
  e = curl_easy_escape(NULL, s, 0);
  if (e == NULL) return AC_ENOMEM;
  rc = ac__dynbuf_add(b, e, strlen(e));
  curl_free(e);
  return rc;
}

static int add_pairs(struct ac__dynbuf *b, const ac_http_kv_t *kv, size_t n) {
  size_t i;
  int rc = 0;
  for (i = 0; i < n && rc == 0; i++) {
    if (kv[i].key == NULL) return AC_EINVAL;
    if (i > 0) rc = ac__dynbuf_add(b, "&", 1);
    if (rc == 0) rc = add_escaped(b, kv[i].key);
    if (rc == 0) rc = ac__dynbuf_add(b, "=", 1);
    if (rc == 0) rc = add_escaped(b, kv[i].value);
  }
  return rc;
}

int ac__http_urlencode_pairs(const ac_http_kv_t *kv, size_t n, char **out) {
  struct ac__dynbuf b;
  int rc;
  ac__dynbuf_init(&b, AC__HTTP_DEFAULT_MAX_BODY);
  rc = ac__dynbuf_reserve(&b, 0); /* no pairs make "", not NULL */
  if (rc == 0) rc = add_pairs(&b, kv, n);
  if (rc != 0) {
    ac__dynbuf_free(&b);
    return rc;
  }
  *out = ac__dynbuf_take(&b, NULL);
  return 0;
}

int ac__http_build_url(const char *url, const ac_http_kv_t *params, size_t n, char **out) {
  struct ac__dynbuf b;
  const char *hash, *q;
  size_t base_len;
  int rc;

  *out = NULL;
  if (url == NULL) return AC_EINVAL;
  /* Parameters go before a fragment, after any query already there. */
  hash = strchr(url, '#');
  base_len = hash != NULL ? (size_t)(hash - url) : strlen(url);
  ac__dynbuf_init(&b, AC__HTTP_MAX_URL);
  rc = ac__dynbuf_reserve(&b, 0); /* "" stays "", not NULL */
  if (rc == 0) rc = ac__dynbuf_add(&b, url, base_len);
  if (rc == 0 && n > 0) {
    q = memchr(url, '?', base_len);
    if (q == NULL)
      rc = ac__dynbuf_add(&b, "?", 1);
    else if (q[1] != '\0' && url[base_len - 1] != '&' && url[base_len - 1] != '?')
      rc = ac__dynbuf_add(&b, "&", 1);
    if (rc == 0) rc = add_pairs(&b, params, n);
  }
  if (rc == 0 && hash != NULL) rc = ac__dynbuf_add(&b, hash, strlen(hash));
  if (rc != 0) {
    ac__dynbuf_free(&b);
    return rc;
  }
  *out = ac__dynbuf_take(&b, NULL);
  return 0;
}
