/*
 * The hand-over of a redirected native request to libcurl: the rest of the
 * request, as libcurl would send it to the target, on the same call.
 */
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "client/h1/internal.h"

/* "Name: value" lines of the head between from and to, as key/value pairs
 * pointing into a copy (buf). Content-Length is libcurl's to write. */
static size_t head_pairs(const struct ac__h1_head *h, size_t from, size_t to, char *buf,
                         ac_http_kv_t *kv) {
  size_t n = 0;
  char *p = buf, *end = buf + (to - from);
  memcpy(buf, h->buf + from, to - from);
  while (p < end) {
    char *eol = memchr(p, '\r', (size_t)(end - p)), *colon;
    if (eol == NULL) break;
    *eol = '\0';
    colon = strchr(p, ':');
    if (colon != NULL && strncasecmp(p, "Content-Length:", 15) != 0) {
      *colon = '\0';
      kv[n].key = p;
      kv[n].value = colon + 1 + (colon[1] == ' ');
      n++;
    }
    p = eol + 2;
  }
  return n;
}

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

void ac__h1_hand_over(struct ac__h1_req *rq, const char *url, int to_get) {
  struct ac_http_call *call = rq->call;
  struct ac__h1_head *h = &rq->head;
  size_t to;
  ac_request_opts_t o;
  ac_http_error_t err = {0};
  ac_http_kv_t *kv = NULL;
  char *buf = NULL, host[256];
  uint64_t spent_ms = (now_ns() - rq->t0) / 1000000;
  size_t max_body = call->resp->max_body;
  unsigned port = 0;
  int http = 0, rc;

  /* libcurl takes the rest as a request of its own, its first URL the
   * target: the header lines it must not see there go now. A target it
   * cannot place keeps none of them. */
  rc = url_origin(url, &http, host, sizeof(host), &port);
  if (rc == AC_EINVAL) host[0] = '\0', http = 0, rc = 0;
  if (rc == 0) rc = ac__h1_head_for_curl(h, &rq->url, http, host, port, to_get);
  to = to_get ? h->fields_end : h->content_end;
  if (rc == 0) {
    /* A header line is at least "x:\r\n": that many pairs at most. */
    kv = ac__calloc((to - h->host_end) / 4 + 1, sizeof(*kv));
    buf = ac__malloc(to - h->host_end + 1);
  }
  if (buf == NULL || kv == NULL) {
    ac__free(buf);
    ac__free(kv);
    ac__h1_fail(rq, AC_ENOMEM, "cannot follow the redirect: %s",
            ac_strerror(AC_ENOMEM));
    return;
  }
  ac_request_opts_init(&o);
  o.url = url;
  o.method = to_get ? "GET" : h->method;
  o.headers = kv;
  o.nheaders = head_pairs(h, h->host_end, to, buf, kv);
  if (!to_get && h->has_body) {
    o.body_kind = AC_BODY_BYTES;
    o.body = h->buf + h->len - h->body_len;
    o.body_len = h->body_len;
  }
  /* What is left of the request's budget goes with it. */
  o.timeout_ms = rq->timeout_ms == 0 ? 0 : rq->timeout_ms > spent_ms ? rq->timeout_ms - spent_ms : 1;
  o.connect_timeout_ms = rq->connect_timeout_ms;
  o.follow_redirects = 1;
  o.max_redirects = rq->max_redirects < 0 ? -1 : rq->max_redirects - rq->redirects;
  o.max_body = max_body;
  o.decompress = rq->decompress;
  call->redirects_before = rq->redirects;
  call->defaults_merged = 1; /* the head's lines hold the session's headers */
  ac__h1_req_quiet(rq);
  rq->active = 0;
  ac_response_free(call->resp);
  call->resp = ac__response_new(max_body);
  rc = call->resp == NULL ? AC_ENOMEM : ac__http_call_hand_over(call, AC__HTTP_CURL, &o, &err);
  ac__free(buf);
  ac__free(kv);
  if (rc != 0) {
    if (err.code == 0) ac__http_error_set(&err, rc, 0, "cannot follow the redirect: %s", ac_strerror(rc));
    ac__http_call_end(call, rc, &err);
  }
}

