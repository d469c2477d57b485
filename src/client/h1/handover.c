/*
 * The hand-over of a redirected native request to libcurl: the same call,
 * restarted from the caller's options (kept at start) with the redirect's
 * target and method, what is left of its timeout and redirect budget, and
 * the header lines libcurl would send there had it followed the redirect
 * itself.
 */
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "client/h1/internal.h"

/* ------------------------------------------------- the caller's options */

/* The bytes kv's pairs take: the array, then each string. */
static size_t kv_bytes(const ac_http_kv_t *kv, size_t n) {
  size_t b = n * sizeof(*kv), i;
  for (i = 0; i < n; i++)
    b += strlen(kv[i].key) + 1 + (kv[i].value != NULL ? strlen(kv[i].value) + 1 : 0);
  return b;
}

/* Copy n bytes to *p (a bump allocator over a buffer sized beforehand). */
static char *put(char **p, const void *src, size_t n) {
  char *at = *p;
  memcpy(at, src, n);
  *p += n;
  return at;
}

static const char *put_str(char **p, const char *s) {
  return s != NULL ? put(p, s, strlen(s) + 1) : NULL;
}

/* Copy the strings of kv's n pairs to *p, pointed at from out. */
static void put_pairs(char **p, ac_http_kv_t *out, const ac_http_kv_t *kv, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) {
    out[i].key = put_str(p, kv[i].key);
    out[i].value = put_str(p, kv[i].value);
  }
}

int ac__h1_keep_opts(struct ac__h1_req *rq, const ac_request_opts_t *o) {
  ac_request_opts_t *k = &rq->opts;
  size_t nfields = o->body_kind == AC_BODY_FORM ? o->nfields : 0;
  int bytes = o->body_kind == AC_BODY_BYTES || o->body_kind == AC_BODY_JSON;
  ac_http_kv_t *headers, *fields;
  size_t need = 0;
  char *p;

  *k = *o;
  k->url = NULL; /* the hand-over's target replaces it, parameters included */
  k->params = NULL;
  k->nparams = 0;
  k->parts = NULL; /* multipart never goes natively */
  k->nparts = 0;
  /* Most requests have none of these: nothing to copy. */
  need += kv_bytes(o->headers, o->nheaders);
  need += kv_bytes(o->fields, nfields);
  if (bytes) need += o->body_len;
  if (o->method != NULL) need += strlen(o->method) + 1;
  if (o->content_type != NULL) need += strlen(o->content_type) + 1;
  if (need == 0) return 0;
  if (need > rq->opts_cap) {
    char *nb = ac__realloc(rq->opts_mem, need);
    if (nb == NULL) return AC_ENOMEM;
    rq->opts_mem = nb;
    rq->opts_cap = need;
  }
  /* The pair arrays first, where malloc's alignment holds; the bytes after. */
  headers = (ac_http_kv_t *)(void *)rq->opts_mem;
  fields = headers + o->nheaders;
  p = (char *)(fields + nfields);
  put_pairs(&p, headers, o->headers, o->nheaders);
  put_pairs(&p, fields, o->fields, nfields);
  k->headers = headers;
  k->fields = nfields > 0 ? fields : NULL;
  if (bytes && o->body != NULL) k->body = put(&p, o->body, o->body_len);
  k->method = put_str(&p, o->method);
  k->content_type = put_str(&p, o->content_type);
  return 0;
}

/* ------------------------------------------------------------ the target */

/* The scheme (whether http), host and port of an absolute URL, as libcurl
 * compares them to the first URL's. 0, or AC_EINVAL / AC_ENOMEM. */
static int url_origin(const char *url, int *http, char *host, size_t hsize, unsigned *port) {
  CURLU *u = curl_url();
  char *scheme = NULL, *h = NULL, *p = NULL;
  int rc = AC_EINVAL;
  if (u == NULL) return AC_ENOMEM;
  if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
      curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
      curl_url_get(u, CURLUPART_HOST, &h, 0) == CURLUE_OK &&
      curl_url_get(u, CURLUPART_PORT, &p, CURLU_DEFAULT_PORT) == CURLUE_OK) {
    const char *name = h;
    size_t n = strlen(h);
    if (n >= 2 && h[0] == '[' && h[n - 1] == ']') name++, n -= 2; /* as a connection names it */
    if (n < hsize) {
      memcpy(host, name, n);
      host[n] = '\0';
      *http = strcasecmp(scheme, "http") == 0;
      *port = (unsigned)strtoul(p, NULL, 10);
      rc = 0;
    }
  }
  curl_free(scheme);
  curl_free(h);
  curl_free(p);
  curl_url_cleanup(u);
  return rc;
}

/* Which of the request's header lines libcurl would send to the target had
 * it followed the redirect itself (CURLOPT_UNRESTRICTED_AUTH off): it
 * compares each hop with the first URL. */
struct target {
  int same_origin;  /* scheme, host and port of the first URL: Authorization, Cookie */
  int same_host;    /* its host: a Host line of the caller's */
  int to_get;       /* the method becomes GET: no body, nor its headers */
};

static int named(const char *name, size_t len, const char *want) {
  return strlen(want) == len && strncasecmp(name, want, len) == 0;
}

static int kept(const struct target *tg, const char *name, size_t len) {
  if (!tg->same_origin && (named(name, len, "Authorization") || named(name, len, "Cookie")))
    return 0;
  if (!tg->same_host && named(name, len, "Host")) return 0;
  if (tg->to_get && (named(name, len, "Content-Type") || named(name, len, "Content-Length")))
    return 0;
  return 1;
}

/* The header list for the target: the session's default lines (those the
 * request's own do not replace, as libcurl's path merges them), then the
 * request's, each kept or not as above. kv and buf are the caller's to free. */
static int target_headers(const ac_session_t *s, const ac_request_opts_t *o,
                          const struct target *tg, ac_http_kv_t **kv_out, char **buf_out,
                          size_t *n_out) {
  size_t i, j, n = 0, bytes = 1;
  ac_http_kv_t *kv;
  char *buf, *p;

  for (i = 0; i < s->ndefault_headers; i++) bytes += strlen(s->default_headers[i]) + 1;
  kv = ac__calloc(s->ndefault_headers + o->nheaders + 1, sizeof(*kv));
  buf = ac__malloc(bytes);
  if (kv == NULL || buf == NULL) {
    ac__free(kv);
    ac__free(buf);
    return AC_ENOMEM;
  }
  p = buf;
  for (i = 0; i < s->ndefault_headers; i++) {
    const char *d = s->default_headers[i];
    size_t nlen = strcspn(d, ":");
    int overridden = 0;
    for (j = 0; j < o->nheaders && !overridden; j++)
      overridden = named(d, nlen, o->headers[j].key);
    if (overridden || !kept(tg, d, nlen)) continue;
    /* "Name: value" becomes Name and value, copied apart. */
    kv[n].key = put(&p, d, nlen);
    *p++ = '\0';
    d += nlen + 1;
    while (*d == ' ') d++;
    kv[n++].value = put_str(&p, d);
  }
  for (i = 0; i < o->nheaders; i++)
    if (kept(tg, o->headers[i].key, strlen(o->headers[i].key))) kv[n++] = o->headers[i];
  *kv_out = kv;
  *buf_out = buf;
  *n_out = n;
  return 0;
}

void ac__h1_hand_over(struct ac__h1_req *rq, const char *url, int to_get) {
  struct ac_http_call *call = rq->call;
  struct ac__h1_head *h = &rq->head;
  ac_request_opts_t o = rq->opts;
  ac_http_error_t err = {0};
  ac_http_kv_t *kv = NULL;
  char *buf = NULL, host[256];
  /* The first URL: the current one until a redirect kept it in the head. */
  const char *first_host = h->first_lines != NULL ? h->first_host : rq->url.host;
  unsigned first_port = h->first_lines != NULL ? h->first_port : rq->url.port;
  uint64_t spent_ms = (now_ns() - rq->t0) / 1000000;
  size_t max_body = call->resp->max_body;
  struct target tg;
  unsigned port = 0;
  int http = 0, rc;

  /* A target libcurl cannot place gets none of the guarded lines. */
  rc = url_origin(url, &http, host, sizeof(host), &port);
  if (rc == AC_EINVAL) host[0] = '\0', http = 0, rc = 0;
  tg.same_host = strcasecmp(host, first_host) == 0;
  tg.same_origin = http && tg.same_host && port == first_port;
  tg.to_get = to_get;
  if (rc == 0) rc = target_headers(call->session, &o, &tg, &kv, &buf, &o.nheaders);
  if (rc != 0) {
    ac__h1_fail(rq, rc, "cannot follow the redirect: %s", ac_strerror(rc));
    return;
  }
  o.url = url;
  o.headers = kv;
  if (to_get) {
    o.method = "GET";
    o.body_kind = AC_BODY_NONE;
    o.body = NULL;
    o.body_len = 0;
    o.fields = NULL;
    o.nfields = 0;
  }
  /* What is left of the request's budget goes with it. */
  o.timeout_ms = rq->timeout_ms == 0 ? 0 : rq->timeout_ms > spent_ms ? rq->timeout_ms - spent_ms : 1;
  o.follow_redirects = 1;
  o.max_redirects = rq->max_redirects < 0 ? -1 : rq->max_redirects - rq->redirects;
  o.max_body = max_body;
  call->redirects_before = rq->redirects;
  ac__h1_req_quiet(rq);
  rq->active = 0;
  ac_response_free(call->resp);
  call->resp = ac__response_new(max_body);
  rc = call->resp == NULL ? AC_ENOMEM
                          : ac__http_call_hand_over(call, AC__HTTP_CURL, &o, AC__HTTP_ALL_HEADERS,
                                                    &err);
  ac__free(buf);
  ac__free(kv);
  if (rc != 0) {
    if (err.code == 0)
      ac__http_error_set(&err, rc, 0, "cannot follow the redirect: %s", ac_strerror(rc));
    ac__http_call_end(call, rc, &err);
  }
}
