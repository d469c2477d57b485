/*
 * A native call: its start, its timeouts, its ending, and the native state
 * of the session (idle connections, DNS cache, read buffer).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/h1/cookie.h"
#include "client/curl/internal.h"
#include "client/h1/internal.h"

/* --------------------------------------------------------- the ending */

static uint64_t us_since(uint64_t t0, uint64_t t) { return t > t0 ? (t - t0) / 1000 : 0; }

/* Stop everything of the request but its connection. */
void ac__h1_req_quiet(struct ac__h1_req *rq) {
  ac_loop_t *loop = rq->call->session->loop;
  ac__timer_stop(loop, &rq->deadline);
  ac__timer_stop(loop, &rq->connect_timer);
  ac__timer_stop(loop, &rq->fail_timer);
  if (rq->lookup != NULL) {
    rq->lookup->req = NULL; /* it frees itself when libuv is done with it */
    uv_cancel((uv_req_t *)&rq->lookup->gai);
    rq->lookup = NULL;
  }
  ac__http_decoder_free(rq->dec);
  rq->dec = NULL;
}

void ac__h1_complete(struct ac__h1_req *rq) {
  struct ac_http_call *call = rq->call;
  ac_response_t *r = call->resp;
  uint64_t end = now_ns();
  int rc;

  r->http_version = rq->parser.http_minor == 0 && rq->parser.http_major == 1 ? 10 : 11;
  r->status = (int)rq->parser.status_code;
  r->url = ac__malloc(rq->url.url_len + 1);
  if (r->url != NULL) memcpy(r->url, rq->url.buf, rq->url.url_len + 1);
  r->timings.dns_us = us_since(rq->t0, rq->t_dns);
  r->timings.connect_us = us_since(rq->t0, rq->t_connect);
  r->timings.first_byte_us = us_since(rq->t0, rq->t_first);
  r->timings.total_us = us_since(rq->t0, end);
  r->timings.redirect_us = rq->redirects > 0 ? us_since(rq->t0, rq->t_hop) : 0;
  r->timings.redirects = rq->redirects;
  rc = r->url == NULL ? AC_ENOMEM : ac__response_complete(r);
  ac__h1_req_quiet(rq);
  if (rq->conn != NULL) ac__h1_conn_release(rq->conn, rc == 0 && rq->keep_alive);
  rq->conn = NULL;
  rq->active = 0;
  if (rc != 0) {
    ac_http_error_t err = {0};
    ac__http_error_set(&err, rc, 0, "cannot complete the response: %s", ac_strerror(rc));
    ac__http_call_end(call, rc, &err);
    return;
  }
  ac__http_call_end(call, 0, NULL);
}

void ac__h1_fail(struct ac__h1_req *rq, int status, const char *fmt, ...) {
  ac_http_error_t err = {0};
  va_list ap;
  err.code = status; /* curl_code stays 0: libcurl did not run */
  va_start(ap, fmt);
  vsnprintf(err.message, sizeof(err.message), fmt, ap);
  va_end(ap);
  ac__h1_req_quiet(rq);
  if (rq->conn != NULL) ac__h1_conn_close(rq->conn);
  rq->active = 0;
  ac__http_call_end(rq->call, status, &err);
}

/* ----------------------------------------------------------- timeouts */

static void on_deadline(struct ac__timer *t) {
  struct ac__h1_req *rq = ac__container_of(t, struct ac__h1_req, deadline);
  if (rq->lookup != NULL) { /* still asking for the name: say so */
    ac__h1_fail(rq, AC_ETIMEDOUT, "request timed out after %llu ms, resolving %s",
                (unsigned long long)rq->timeout_ms, rq->url.host);
    return;
  }
  ac__h1_fail(rq, AC_ETIMEDOUT, "request timed out after %llu ms, %zu bytes of the response in",
              (unsigned long long)rq->timeout_ms, rq->received);
}

static void on_connect_timeout(struct ac__timer *t) {
  struct ac__h1_req *rq = ac__container_of(t, struct ac__h1_req, connect_timer);
  ac__h1_fail(rq, AC_ETIMEDOUT, "connect timed out after %llu ms, %s %s port %u",
              (unsigned long long)rq->connect_timeout_ms,
              rq->lookup != NULL ? "resolving" : "connecting to", rq->url.host, rq->url.port);
}

static void on_fail_later(struct ac__timer *t) {
  struct ac__h1_req *rq = ac__container_of(t, struct ac__h1_req, fail_timer);
  ac__h1_fail(rq, rq->fail_status, "cannot connect to %s port %u: %s", rq->url.host,
              rq->url.port, ac_strerror(rq->fail_status));
}


/* ------------------------------------------------------------ the call */

static int h1_start(struct ac_http_call *call, const ac_request_opts_t *o, int flags,
                    ac_http_error_t *err) {
  ac_session_t *s = call->session;
  struct ac__h1_req *rq = call->transport[AC__HTTP_H1];
  char *built = NULL;
  const char *url = o->url;
  int rc;

  /* A cookie in the jar: only libcurl sends it. Headers merged for a
   * hand-over are libcurl's to take. */
  if ((s->cookies && s->jar_used) || (flags & AC__HTTP_ALL_HEADERS)) return 1;
  if (url == NULL) return 1; /* libcurl's path reports it */
  if (rq != NULL) ac__h1_url_free(&rq->url); /* left by a hand-over to libcurl */
  if (rq == NULL) {
    rq = ac__calloc(1, sizeof(*rq));
    if (rq == NULL) goto nomem;
    rq->call = call;
    ac__h1_head_init(&rq->head);
    ac__dynbuf_init(&rq->line, AC__HTTP_MAX_HEADER_BYTES);
    ac__timer_init(&rq->deadline, on_deadline);
    ac__timer_init(&rq->connect_timer, on_connect_timeout);
    ac__timer_init(&rq->fail_timer, on_fail_later);
    call->transport[AC__HTTP_H1] = rq;
  }
  if (o->nparams > 0) {
    rc = ac__http_build_url(o->url, o->params, o->nparams, &built);
    if (rc == AC_ENOMEM) goto nomem;
    if (rc != 0) return 1; /* libcurl's path reports it */
    url = built;
  }
  rc = ac__h1_url_parse(url, &rq->url);
  ac__free(built);
  if (rc == AC_ENOMEM) goto nomem;
  if (rc != 0) return 1;
  rc = ac__h1_head_build(&rq->head, call, o, &rq->url);
  if (rc != 0) {
    ac__h1_url_free(&rq->url);
    if (rc == 1) return 1;
    ac__http_error_set(err, rc, 0, "bad request options: %s", ac_strerror(rc));
    return rc;
  }
  rc = ac__h1_keep_opts(rq, o);
  if (rc != 0) {
    ac__h1_url_free(&rq->url);
    goto nomem;
  }
  rq->timeout_ms = o->timeout_ms;
  rq->connect_timeout_ms = o->connect_timeout_ms;
  rq->follow = o->follow_redirects;
  rq->max_redirects = o->max_redirects;
  rq->decompress = o->decompress;
  rq->redirects = 0;
  rq->retried = 0;
  rq->t0 = rq->t_hop = now_ns();
  rq->t_dns = rq->t_connect = rq->t_first = 0;
  rq->active = 1;
  if (rq->timeout_ms > 0) ac__timer_start(s->loop, &rq->deadline, rq->timeout_ms);
  ac__h1_resolve_and_send(rq);
  return 0;

nomem:
  ac__http_error_set(err, AC_ENOMEM, 0, "cannot allocate the request");
  return AC_ENOMEM;
}

/* The call ends, completed or cancelled: release its connection (closed
 * unless its response was complete), timers and decoder. */
static void h1_detach(struct ac_http_call *call) {
  struct ac__h1_req *rq = call->transport[AC__HTTP_H1];
  if (rq == NULL) return;
  if (rq->active) { /* cancelled or timed out from outside: the response is not whole */
    ac__h1_req_quiet(rq);
    if (rq->conn != NULL) ac__h1_conn_close(rq->conn);
    rq->active = 0;
  }
  ac__h1_url_free(&rq->url);
  ac__free(rq->location);
  rq->location = NULL;
  ac__free(rq->head.first_lines);
  rq->head.first_lines = NULL;
  rq->head.first_host = NULL;
  /* Keep a modest head buffer for the next request of this pooled call. */
  if (ac__dynbuf_len(&rq->head.buf) + ac__dynbuf_spare(&rq->head.buf) > 4096)
    ac__h1_head_free(&rq->head);
  if (ac__dynbuf_len(&rq->line) + ac__dynbuf_spare(&rq->line) > 4096) ac__dynbuf_free(&rq->line);
}

static void h1_call_free(struct ac_http_call *call) {
  struct ac__h1_req *rq = call->transport[AC__HTTP_H1];
  if (rq == NULL) return;
  h1_detach(call);
  ac__h1_head_free(&rq->head);
  ac__dynbuf_free(&rq->line);
  ac__free(rq->opts_mem);
  ac__free(rq);
  call->transport[AC__HTTP_H1] = NULL;
}

/* Plain http:// may go natively unless the session has a proxy or the
 * native path is switched off (ACRAWL_HTTP_NATIVE=0 in every session: to
 * compare the two paths, or to rule the native one out). */
static int h1_open(ac_session_t *s, const ac_session_opts_t *o, void **state) {
  const char *env = getenv("ACRAWL_HTTP_NATIVE");
  struct ac__h1_session *hs;
  *state = NULL;
  if (!o->native_http1 || (env != NULL && strcmp(env, "0") == 0) || s->proxy != NULL) return 0;
  hs = ac__calloc(1, sizeof(*hs));
  if (hs == NULL) return AC_ENOMEM;
  ac__list_init(&hs->idle);
  *state = hs;
  return 0;
}

/* Close the session's idle native connections and forget its DNS cache;
 * the busy ones closed with their calls. */
static void h1_close(ac_session_t *s) {
  struct ac__h1_session *hs = ac__h1_sess(s);
  size_t i;
  while (!ac__list_empty(&hs->idle))
    ac__h1_conn_close(ac__container_of(hs->idle.next, struct ac__h1_conn, node));
  for (i = 0; i < hs->ndns; i++) ac__free(hs->dns[i].name);
  ac__free(hs->dns);
  ac__free(hs->buf);
  ac__free(hs);
  s->transport[AC__HTTP_H1] = NULL;
}

const ac__http_transport_t ac__http_h1 = {
    .name = "h1",
    .open = h1_open,
    .start = h1_start,
    .detach = h1_detach,
    .call_free = h1_call_free,
    .close = h1_close,
};

/* A Set-Cookie of a native response goes into libcurl's jar (the session's
 * share), as libcurl would have stored it; from then on the session's
 * requests go through libcurl, which sends the jar's cookies. A handle of
 * its own per cookie: libcurl counts the cookies a handle stores and drops
 * all past 50 until that handle's next transfer, which this one never makes
 * (the native path rarely meets a cookie: the first one ends its use). */
int ac__h1_store_cookie(ac_session_t *s, const char *value, size_t len, const char *host,
                        const char *path) {
  CURL *e = curl_easy_init();
  char *v = ac__malloc(len + 1);
  int rc = AC_ENOMEM;
  if (e != NULL && v != NULL) {
    memcpy(v, value, len);
    v[len] = '\0';
    curl_easy_setopt(e, CURLOPT_SHARE, ac__curl_share(s));
    curl_easy_setopt(e, CURLOPT_COOKIEFILE, "");
    rc = ac__http_cookie_store(e, v, host, path);
    if (rc == 0) s->jar_used = 1;
  }
  ac__free(v);
  if (e != NULL) {
    curl_easy_setopt(e, CURLOPT_COOKIEFILE, NULL); /* its file list, as request.c does */
    curl_easy_cleanup(e);
  }
  return rc == AC_ENOMEM ? rc : 0;
}

