/*
 * The native HTTP/1.1 path (see h1.h for why it exists and what it takes).
 *
 * A request runs: resolve (IP literal, the session's DNS cache, or
 * uv_getaddrinfo) -> take an idle connection to the same host and port, or
 * connect (trying each address) -> write the head and body (uv_try_write,
 * then uv_write for the rest) -> parse the response as it arrives
 * (http-parser; headers through response.c's header callback so both paths
 * store them alike; the body through the decoder and the body cap) -> either
 * follow a redirect (same call, natively or handed over to libcurl) or
 * complete the call through client.c.
 *
 * Connections keep reading while idle, so a server's close of an idle
 * connection is seen at once and the connection dropped; a request that
 * meets a connection closed under it before any response byte is sent once
 * more on a new connection (as libcurl does). Every callback here runs on
 * the loop's stack; completions call back into client.c, which calls user
 * code: after that nothing here touches the request or its connection.
 */
#include <errno.h>
#include <http_parser.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "client/h1/cookie.h"
#include "client/h1/decode.h"
#include "client/h1/h1.h"
#include "client/internal.h"

#define DNS_TTL_MS 60000u      /* as libcurl's DNS cache */
#define DNS_CACHE_MAX 64u
#define MAX_ADDRS 4
#define READ_BUF_SIZE 65536u   /* one per session: a read is consumed before the next */
/* The most of a redirect's body read (and dropped) to keep its connection:
 * past it, or past the request's body cap, the connection is closed instead. */
#define REDIRECT_DRAIN_MAX 65536u
/* A Content-Encoding the decoder does not know (inside a parser callback). */
#define AC__H1_EENCODING (-100001)
/* A status under 100 (inside a parser callback). */
#define AC__H1_ESTATUS (-100002)

struct h1_addrs {
  struct sockaddr_storage a[MAX_ADDRS];
  int n;
};

struct ac__h1_dns_entry {
  char *name;
  struct h1_addrs addrs;
  uint64_t expires;            /* loop time, ms */
};

/* A lookup in libuv's thread pool. Its request may be gone when it ends
 * (cancelled, timed out): then `req` is NULL and the entry only frees itself. */
struct h1_lookup {
  uv_getaddrinfo_t gai;
  struct ac__h1_req *req;
  ac_loop_t *loop;             /* counts it as closing: ac_loop_close waits for it */
};

struct ac__h1_conn {
  uv_tcp_t tcp;
  uv_connect_t connect_req;
  uv_write_t write_req;
  struct ac__list node;        /* in session->h1_idle while idle */
  ac_session_t *session;
  ac_loop_t *loop;
  struct ac__h1_req *req;      /* the request on it; NULL while idle */
  unsigned port;
  unsigned connected : 1, writing : 1, reused : 1, closing : 1;
  char host[];                 /* the pool's key, with port */
};

struct ac__h1_req {
  struct ac_http_call *call;
  struct ac__h1_url url;
  struct ac__h1_head head;
  struct ac__h1_conn *conn;
  struct h1_lookup *lookup;
  struct h1_addrs addrs;
  int addr_i;
  http_parser parser;
  char *line;                  /* the header line being assembled, "Name: value" */
  size_t line_len, line_cap;
  int last;                    /* 0, FIELD or VALUE: the last parser callback */
  int status_fed;              /* the status line went to the response */
  char *location;              /* Location of this response, if any */
  char encoding[64];           /* Content-Encoding of this response, lines joined */
  char tcoding[64];            /* its Transfer-Encoding but chunked */
  int cookies;                 /* Set-Cookie lines of this response */
  ac__http_decoder_t *dec;
  int cb_err;                  /* an error found inside a parser callback */
  struct ac__timer deadline;   /* the whole request's timeout */
  struct ac__timer connect_timer;
  struct ac__timer fail_timer; /* a failure found while starting, reported later */
  int fail_status;
  uint64_t timeout_ms, connect_timeout_ms;
  uint64_t t0, t_dns, t_connect, t_first, t_hop;
  long redirects, max_redirects;
  int follow, decompress;
  size_t received;             /* bytes of this hop's response */
  size_t drained;              /* bytes of a redirect's body read and dropped */
  unsigned active : 1, done : 1, keep_alive : 1, redirecting : 1, retried : 1;
  unsigned headers_done : 1;   /* the final response's head is parsed */
};

enum { FIELD = 1, VALUE = 2 };

static void h1_send(struct ac__h1_req *rq);
static void report_cb_err(struct ac__h1_req *rq);
static void h1_fail(struct ac__h1_req *rq, int status, int curl_code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static uint64_t now_ns(void) { return uv_hrtime(); }

/* ----------------------------------------------------------- connections */

static void on_conn_closed(uv_handle_t *h) {
  struct ac__h1_conn *c = h->data;
  ac__loop_handle_closed(c->loop);
  ac__free(c);
}

static void conn_close(struct ac__h1_conn *c) {
  if (c->closing) return;
  c->closing = 1;
  if (!ac__list_unlinked(&c->node)) {
    ac__list_remove(&c->node);
    ac__list_init(&c->node);
    c->session->h1_nidle--;
  }
  if (c->req != NULL) c->req->conn = NULL;
  c->req = NULL;
  ac__loop_close(c->loop, (uv_handle_t *)&c->tcp, on_conn_closed);
}

/* The request is over with this connection: back to the pool when its
 * response was complete and the server keeps it, else closed. */
static void conn_release(struct ac__h1_conn *c, int reusable) {
  ac_session_t *s = c->session;
  c->req = NULL;
  if (!reusable || c->writing || s->freeing || s->h1_nidle >= s->max_idle ||
      s->ncalls > s->max_idle) {
    conn_close(c);
    return;
  }
  c->reused = 1;
  uv_unref((uv_handle_t *)&c->tcp); /* an idle connection keeps no loop alive */
  ac__list_insert_tail(&s->h1_idle, &c->node);
  s->h1_nidle++;
}

/* The most recently used idle connection to host:port (its buffers are
 * likely still in cache), or NULL. */
static struct ac__h1_conn *conn_take(ac_session_t *s, const char *host, unsigned port) {
  struct ac__list *it;
  for (it = s->h1_idle.prev; it != &s->h1_idle; it = it->prev) {
    struct ac__h1_conn *c = ac__container_of(it, struct ac__h1_conn, node);
    if (c->port == port && strcmp(c->host, host) == 0) {
      ac__list_remove(&c->node);
      ac__list_init(&c->node);
      s->h1_nidle--;
      uv_ref((uv_handle_t *)&c->tcp);
      return c;
    }
  }
  return NULL;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  struct ac__h1_conn *c = h->data;
  ac_session_t *s = c->session;
  (void)suggested;
  if (s->h1_buf == NULL) s->h1_buf = ac__malloc(READ_BUF_SIZE);
  /* Out of memory: libuv reports UV_ENOBUFS to the read callback. */
  *buf = uv_buf_init(s->h1_buf, s->h1_buf != NULL ? READ_BUF_SIZE : 0);
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf);

/* ------------------------------------------------------------ the parser */

static int line_add(struct ac__h1_req *rq, const char *at, size_t len) {
  /* http-parser reports an empty reason ("HTTP/1.1 200\r\n") as a zero-length
   * piece: nothing to copy, and line may still be NULL. */
  if (len == 0) return 0;
  if (len > AC__HTTP_MAX_HEADER_BYTES - rq->line_len) return AC_ETOOLARGE;
  if (rq->line_len + len > rq->line_cap) {
    size_t cap = rq->line_cap != 0 ? rq->line_cap : 256;
    char *nb;
    while (cap < rq->line_len + len) cap *= 2;
    nb = ac__realloc(rq->line, cap);
    if (nb == NULL) return AC_ENOMEM;
    rq->line = nb;
    rq->line_cap = cap;
  }
  memcpy(rq->line + rq->line_len, at, len);
  rq->line_len += len;
  return 0;
}

/* Hand one line to the response, as libcurl's header callback would. */
static int feed_line(struct ac__h1_req *rq, const char *line, size_t len) {
  ac_response_t *r = rq->call->resp;
  if (ac__response_on_header((char *)line, 1, len, r) == len) return 0;
  return r->header_errcode != 0 ? r->header_errcode : AC_ENOMEM;
}

static int feed_status(struct ac__h1_req *rq) {
  char st[32 + 1024];
  int n, rc;
  size_t rlen = rq->line_len; /* the reason, collected by on_status (at most 1 KiB) */
  if (rq->status_fed) return 0;
  rq->status_fed = 1;
  n = snprintf(st, 32, "HTTP/%u.%u %u ", rq->parser.http_major, rq->parser.http_minor,
               rq->parser.status_code);
  if (rlen > 0) memcpy(st + n, rq->line, rlen); /* no reason yet: line may be NULL */
  rc = feed_line(rq, st, (size_t)n + rlen);
  rq->line_len = 0;
  return rc;
}

static int name_is(const char *line, size_t len, const char *name, size_t nlen) {
  return len > nlen && line[nlen] == ':' && strncasecmp(line, name, nlen) == 0;
}

static const char *value_of(const char *line, size_t len, size_t nlen, size_t *vlen) {
  const char *v = line + nlen + 1, *end = line + len;
  while (v < end && (*v == ' ' || *v == '\t')) v++;
  while (end > v && (end[-1] == ' ' || end[-1] == '\t')) end--;
  *vlen = (size_t)(end - v);
  return v;
}

/* Add a coding list to list (size bytes): several lines make one list, as
 * libcurl reads them. A list longer than any real one becomes a coding the
 * decoder refuses by name. */
static void list_add(char *list, size_t size, const char *v, size_t vlen) {
  size_t used = strlen(list);
  if (used + 2 + vlen >= size) {
    snprintf(list, size, "(too long)");
  } else if (vlen > 0) {
    if (used > 0) memcpy(list + used, ", ", 2), used += 2;
    memcpy(list + used, v, vlen);
    list[used + vlen] = '\0';
  }
}

/* Keep what the native path needs from a header line, then store it. */
static int flush_line(struct ac__h1_req *rq) {
  const char *line = rq->line, *v;
  size_t len = rq->line_len, vlen;
  ac_session_t *s = rq->call->session;
  int rc;

  rq->last = 0;
  rq->line_len = 0;
  /* A trailer (after a chunked body) is stored and nothing more, as libcurl
   * hands trailers to its header callback only. */
  if (rq->headers_done) return feed_line(rq, line, len);
  if (name_is(line, len, "Location", 8)) {
    /* The first one that is not empty, as libcurl reads them: an empty one
     * is no redirect (following it would fetch the same URL again). */
    v = value_of(line, len, 8, &vlen);
    if (rq->location != NULL || vlen == 0) return feed_line(rq, line, len);
    rq->location = ac__malloc(vlen + 1);
    if (rq->location == NULL) return AC_ENOMEM;
    memcpy(rq->location, v, vlen);
    rq->location[vlen] = '\0';
  } else if (name_is(line, len, "Content-Encoding", 16)) {
    v = value_of(line, len, 16, &vlen);
    list_add(rq->encoding, sizeof(rq->encoding), v, vlen);
  } else if (name_is(line, len, "Transfer-Encoding", 17)) {
    /* http-parser undoes chunked; any other transfer coding is for the
     * decoder, as libcurl undoes them too. */
    const char *end;
    v = value_of(line, len, 17, &vlen);
    end = v + vlen;
    while (v < end) {
      const char *comma = memchr(v, ',', (size_t)(end - v)), *e = comma != NULL ? comma : end;
      while (v < e && (*v == ' ' || *v == '\t')) v++;
      vlen = (size_t)(e - v);
      while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t')) vlen--;
      if (!(vlen == 7 && strncasecmp(v, "chunked", 7) == 0))
        list_add(rq->tcoding, sizeof(rq->tcoding), v, vlen);
      v = e < end ? e + 1 : end;
    }
  } else if (s->cookies && name_is(line, len, "Set-Cookie", 10) && rq->cookies++ < 50) {
    /* (libcurl keeps the first 50 of a response and ignores the rest) */
    char path[1024];
    size_t plen = strcspn(rq->url.target, "?");
    v = value_of(line, len, 10, &vlen);
    if (plen >= sizeof(path)) plen = sizeof(path) - 1;
    memcpy(path, rq->url.target, plen);
    path[plen] = '\0';
    rc = ac__h1_store_cookie(s, v, vlen, rq->url.host, path);
    if (rc == AC_ENOMEM) return rc;
  }
  return feed_line(rq, line, len);
}

static struct ac__h1_req *req_of(http_parser *p) { return p->data; }

static int on_message_begin(http_parser *p) {
  struct ac__h1_req *rq = req_of(p);
  rq->line_len = 0;
  rq->last = 0;
  rq->status_fed = 0;
  rq->encoding[0] = '\0';
  rq->tcoding[0] = '\0';
  rq->cookies = 0;
  ac__free(rq->location);
  rq->location = NULL;
  return 0;
}

static int on_status(http_parser *p, const char *at, size_t len) {
  struct ac__h1_req *rq = req_of(p);
  if (rq->line_len + len > 1024) len = rq->line_len < 1024 ? 1024 - rq->line_len : 0;
  return (rq->cb_err = line_add(rq, at, len)) != 0;
}

static int on_header_field(http_parser *p, const char *at, size_t len) {
  struct ac__h1_req *rq = req_of(p);
  if ((rq->cb_err = feed_status(rq)) != 0) return 1;
  if (rq->last == VALUE && (rq->cb_err = flush_line(rq)) != 0) return 1;
  rq->last = FIELD;
  return (rq->cb_err = line_add(rq, at, len)) != 0;
}

static int on_header_value(http_parser *p, const char *at, size_t len) {
  struct ac__h1_req *rq = req_of(p);
  if (rq->last == FIELD && (rq->cb_err = line_add(rq, ": ", 2)) != 0) return 1;
  rq->last = VALUE;
  return (rq->cb_err = line_add(rq, at, len)) != 0;
}

static int is_redirect(unsigned status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

/* The most of a redirect's body worth reading to keep the connection (a
 * server may send one without end). */
static size_t drain_max(const struct ac__h1_req *rq) {
  size_t cap = rq->call->resp->max_body;
  return cap < REDIRECT_DRAIN_MAX ? cap : REDIRECT_DRAIN_MAX;
}

/* Follow the redirect now, without the rest of its body: its connection
 * closes (what is left of the body would be read as the next response). */
static void drop_rest(struct ac__h1_req *rq) {
  rq->done = 1;
  rq->keep_alive = 0;
  http_parser_pause(&rq->parser, 1);
}

/* The body length the head announces, ULLONG_MAX if none: a chunked body
 * has none, whatever a Content-Length beside it says (RFC 9112 6.3). */
static uint64_t announced(const http_parser *p) {
  return (p->flags & F_CHUNKED) ? ULLONG_MAX : p->content_length;
}

/* Returns 1 to have http-parser skip the body (HEAD), -1 on an error. */
static int on_headers_complete(http_parser *p) {
  struct ac__h1_req *rq = req_of(p);
  ac_response_t *r = rq->call->resp;
  unsigned st = p->status_code;
  int no_body;

  /* A status is three digits (RFC 9112), 100 and up (RFC 9110); http-parser
   * also takes one or two digits. libcurl refuses those as well. */
  if (st < 100) {
    rq->cb_err = AC__H1_ESTATUS;
    return -1;
  }
  if ((rq->cb_err = feed_status(rq)) != 0) return -1;
  if (rq->last == VALUE && (rq->cb_err = flush_line(rq)) != 0) return -1;
  if (st / 100 == 1) return 0; /* 100 Continue, 103 Early Hints: the next head follows */
  rq->headers_done = 1;
  rq->redirecting = rq->follow && is_redirect(st) && rq->location != NULL;
  if (rq->redirecting) {
    if (rq->head.head) return 1;
    /* Announced over the cap: fails, as libcurl's max file size does for a
     * redirect it follows too. */
    if (announced(p) != ULLONG_MAX && announced(p) > r->max_body) {
      r->too_large = 1;
      rq->cb_err = AC_ETOOLARGE;
      return -1;
    }
    /* Its body is read and dropped, unless too long to drain or its
     * connection closes after it anyway (libcurl reads none of that one). */
    if (!http_should_keep_alive(p) ||
        (announced(p) != ULLONG_MAX && announced(p) > drain_max(rq)))
      drop_rest(rq);
    return 0;
  }
  /* A 204 or 304 has no body, whatever its Content-Length says (RFC 9112
   * 6.3): http-parser would wait for one. */
  no_body = rq->head.head || st == 204 || st == 304;
  /* Transfer codings were applied last: listed after the content codings,
   * they are undone first, and whether or not the caller decompresses. */
  if (!rq->decompress) rq->encoding[0] = '\0';
  if (rq->tcoding[0] != '\0') list_add(rq->encoding, sizeof(rq->encoding), rq->tcoding,
                                        strlen(rq->tcoding));
  if (rq->encoding[0] != '\0' && !no_body) {
    int rc = ac__http_decoder_new(rq->encoding, &rq->dec);
    if (rc != 0) {
      rq->cb_err = rc == AC_EPROTO ? AC__H1_EENCODING : rc;
      return -1;
    }
  }
  /* A body announced over the cap fails now, as libcurl's max file size. */
  if (rq->dec == NULL && !no_body && announced(p) != ULLONG_MAX && announced(p) > r->max_body) {
    r->too_large = 1;
    rq->cb_err = AC_ETOOLARGE;
    return -1;
  }
  return no_body ? 1 : 0;
}

static int sink(void *ud, const char *data, size_t len) {
  ac_response_t *r = ud;
  if (ac__response_on_body((char *)data, 1, len, r) == len) return 0;
  return r->too_large ? AC_ETOOLARGE : AC_ENOMEM;
}

static int on_body(http_parser *p, const char *at, size_t len) {
  struct ac__h1_req *rq = req_of(p);
  if (rq->redirecting) {
    rq->drained += len;
    if (rq->drained > drain_max(rq)) drop_rest(rq);
    return 0;
  }
  if (rq->dec != NULL)
    rq->cb_err = ac__http_decoder_feed(rq->dec, at, len, sink, rq->call->resp);
  else
    rq->cb_err = sink(rq->call->resp, at, len);
  return rq->cb_err != 0;
}

static int on_message_complete(http_parser *p) {
  struct ac__h1_req *rq = req_of(p);
  /* The last trailer line: no field callback follows it to flush it. */
  if (rq->last == VALUE && (rq->cb_err = flush_line(rq)) != 0) return 1;
  if (p->status_code / 100 == 1) return 0;
  if (rq->dec != NULL && !rq->redirecting &&
      (rq->cb_err = ac__http_decoder_finish(rq->dec, sink, rq->call->resp)) != 0)
    return 1;
  rq->done = 1;
  /* Both Transfer-Encoding and Content-Length: read as chunked, but the
   * server's framing is in doubt (RFC 9112 6.3): not reused. */
  rq->keep_alive = (unsigned)http_should_keep_alive(p) &&
                   (p->flags & (F_CHUNKED | F_CONTENTLENGTH)) != (F_CHUNKED | F_CONTENTLENGTH);
  http_parser_pause(p, 1); /* nothing after it is this request's */
  return 0;
}

static const http_parser_settings parser_settings = {
    .on_message_begin = on_message_begin,
    .on_status = on_status,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

/* --------------------------------------------------------- the ending */

static uint64_t us_since(uint64_t t0, uint64_t t) { return t > t0 ? (t - t0) / 1000 : 0; }

/* Stop everything of the request but its connection. */
static void req_quiet(struct ac__h1_req *rq) {
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

static void h1_complete(struct ac__h1_req *rq) {
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
  req_quiet(rq);
  if (rq->conn != NULL) conn_release(rq->conn, rc == 0 && rq->keep_alive);
  rq->conn = NULL;
  rq->active = 0;
  if (rc != 0) {
    ac_http_error_t err = {0};
    ac__http_error_set(&err, rc, CURLE_OUT_OF_MEMORY, "cannot complete the response: %s",
                       ac_strerror(rc));
    ac__http_call_end(call, rc, &err);
    return;
  }
  ac__http_call_end(call, 0, NULL);
}

static void h1_fail(struct ac__h1_req *rq, int status, int curl_code, const char *fmt, ...) {
  ac_http_error_t err = {0};
  va_list ap;
  err.code = status;
  err.curl_code = curl_code;
  va_start(ap, fmt);
  vsnprintf(err.message, sizeof(err.message), fmt, ap);
  va_end(ap);
  req_quiet(rq);
  if (rq->conn != NULL) conn_close(rq->conn);
  rq->active = 0;
  ac__http_call_end(rq->call, status, &err);
}

/* ----------------------------------------------------------- timeouts */

static void on_deadline(struct ac__timer *t) {
  struct ac__h1_req *rq = ac__container_of(t, struct ac__h1_req, deadline);
  if (rq->lookup != NULL) { /* still asking for the name: say so, as libcurl does */
    h1_fail(rq, AC_ETIMEDOUT, CURLE_OPERATION_TIMEDOUT,
            "Resolving timed out after %llu milliseconds (%s)", (unsigned long long)rq->timeout_ms,
            rq->url.host);
    return;
  }
  h1_fail(rq, AC_ETIMEDOUT, CURLE_OPERATION_TIMEDOUT,
          "Operation timed out after %llu milliseconds with %zu bytes received",
          (unsigned long long)rq->timeout_ms, rq->received);
}

static void on_connect_timeout(struct ac__timer *t) {
  struct ac__h1_req *rq = ac__container_of(t, struct ac__h1_req, connect_timer);
  h1_fail(rq, AC_ETIMEDOUT, CURLE_OPERATION_TIMEDOUT, "%s timed out after %llu milliseconds",
          rq->lookup != NULL ? "Resolving" : "Connection",
          (unsigned long long)rq->connect_timeout_ms);
}

static void on_fail_later(struct ac__timer *t) {
  struct ac__h1_req *rq = ac__container_of(t, struct ac__h1_req, fail_timer);
  h1_fail(rq, rq->fail_status, CURLE_COULDNT_CONNECT, "Failed to connect to %s port %u: %s",
          rq->url.host, rq->url.port, ac_strerror(rq->fail_status));
}

/* ------------------------------------------------------ response input */

/* The connection failed or closed before the response was complete: retry,
 * fail (then rq may be gone), or, for a body that ends with the connection,
 * return 1: the caller completes the response. */
static int conn_lost(struct ac__h1_req *rq, int uverr) {
  struct ac__h1_conn *c = rq->conn;
  /* A pooled connection the server closed while we were sending: once more
   * on a new one (what libcurl does), never twice. */
  if (rq->received == 0 && c->reused && !rq->retried &&
      (uverr == UV_EOF || uverr == UV_ECONNRESET || uverr == UV_EPIPE)) {
    rq->retried = 1;
    conn_close(c);
    h1_send(rq);
    return 0;
  }
  if (rq->received == 0) {
    if (uverr == UV_EOF)
      h1_fail(rq, AC_ECONNRESET, CURLE_GOT_NOTHING, "Empty reply from server");
    else
      h1_fail(rq, uverr == UV_EPIPE ? AC_ECONNRESET : uverr, CURLE_RECV_ERROR,
              "Recv failure: %s", uv_strerror(uverr));
    return 0;
  }
  if (uverr == UV_EOF) {
    /* End of input tells http-parser that a body "until close" is done. */
    http_parser_execute(&rq->parser, &parser_settings, NULL, 0);
    if (rq->cb_err == 0 && rq->done) {
      rq->keep_alive = 0;
      return 1;
    }
    if (rq->cb_err != 0) {
      report_cb_err(rq);
      return 0;
    }
    if (!rq->headers_done) {
      h1_fail(rq, AC_ECONNRESET, CURLE_RECV_ERROR,
              "connection closed in the middle of the response head");
    } else if (rq->parser.content_length != ULLONG_MAX && rq->parser.content_length > 0 &&
               !(rq->parser.flags & F_CHUNKED)) {
      h1_fail(rq, AC_ESHORT, CURLE_PARTIAL_FILE,
              "transfer closed with %llu bytes remaining to read",
              (unsigned long long)rq->parser.content_length);
    } else {
      h1_fail(rq, AC_ESHORT, CURLE_PARTIAL_FILE,
              "transfer closed with outstanding read data remaining");
    }
    return 0;
  }
  h1_fail(rq, uverr == UV_EPIPE ? AC_ECONNRESET : uverr, CURLE_RECV_ERROR, "Recv failure: %s",
          uv_strerror(uverr));
  return 0;
}

static void report_cb_err(struct ac__h1_req *rq) {
  ac_response_t *r = rq->call->resp;
  int e = rq->cb_err;
  if (e == AC__H1_EENCODING)
    h1_fail(rq, AC_EPROTO, CURLE_BAD_CONTENT_ENCODING,
            "Unrecognized content encoding type: %s", rq->encoding);
  else if (e == AC__H1_ESTATUS)
    h1_fail(rq, AC_EPROTO, CURLE_UNSUPPORTED_PROTOCOL,
            "Unsupported response code in HTTP response (%u)", rq->parser.status_code);
  else if (e == AC_ETOOLARGE && r->too_large)
    h1_fail(rq, e, CURLE_FILESIZE_EXCEEDED, "body larger than max_body (%zu bytes)", r->max_body);
  else if (e == AC_ETOOLARGE)
    h1_fail(rq, e, CURLE_WRITE_ERROR, "cannot store the response headers: %s", ac_strerror(e));
  else if (e == AC_EPROTO)
    h1_fail(rq, e, CURLE_BAD_CONTENT_ENCODING, "Error while processing content unencoding");
  else
    h1_fail(rq, e, CURLE_OUT_OF_MEMORY, "cannot store the response: %s", ac_strerror(e));
}

static void follow(struct ac__h1_req *rq);

/* The response is whole: finish, or follow its redirect. */
static void response_done(struct ac__h1_req *rq) {
  if (rq->redirecting)
    follow(rq);
  else
    h1_complete(rq);
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf) {
  struct ac__h1_conn *c = st->data;
  struct ac__h1_req *rq = c->req;
  size_t n;
  enum http_errno e;

  if (rq == NULL) { /* idle: the server closed it, or sent what nobody asked for */
    if (nread != 0) conn_close(c);
    return;
  }
  if (nread == 0) return;
  if (nread == UV_ENOBUFS) { /* on_alloc had no memory for the read buffer */
    h1_fail(rq, AC_ENOMEM, CURLE_OUT_OF_MEMORY, "cannot allocate the receive buffer");
    return;
  }
  if (nread < 0) {
    int err = (int)nread;
    /* libuv turns a reset that follows data into EOF (a hang-up after a
     * partial read is taken as the end, the error never read), so a reset
     * mid-body would look like a clean close, "short" instead of "network".
     * The socket still holds the error: ask it, as libcurl's poll sees it. */
    if (err == UV_EOF) {
      uv_os_fd_t fd;
      int soerr = 0;
      socklen_t len = sizeof(soerr);
      if (uv_fileno((uv_handle_t *)st, &fd) == 0 &&
          getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == 0 && soerr == ECONNRESET)
        err = UV_ECONNRESET;
    }
    if (conn_lost(rq, err)) response_done(rq);
    return;
  }
  if (rq->received == 0) rq->t_first = now_ns();
  rq->received += (size_t)nread;
  if (rq->call->read_timeout_ms > 0) ac__http_call_got_data(rq->call);
  n = http_parser_execute(&rq->parser, &parser_settings, buf->base, (size_t)nread);
  e = HTTP_PARSER_ERRNO(&rq->parser);
  if (rq->cb_err != 0) {
    report_cb_err(rq);
    return;
  }
  if (e != HPE_OK && e != HPE_PAUSED) {
    if (e == HPE_HEADER_OVERFLOW)
      h1_fail(rq, AC_ETOOLARGE, CURLE_WRITE_ERROR, "response headers too large (%s)",
              http_errno_description(e));
    else if (e == HPE_INVALID_CONTENT_LENGTH && rq->headers_done && (rq->parser.flags & F_CHUNKED))
      /* http-parser counts a chunk's size in its content length, and names
       * that when a size overflows it (libcurl: a receive error). */
      h1_fail(rq, AC_EPROTO, CURLE_RECV_ERROR,
              "invalid HTTP response: chunk size too large");
    else
      h1_fail(rq, AC_EPROTO, CURLE_WEIRD_SERVER_REPLY, "invalid HTTP response: %s",
              http_errno_description(e));
    return;
  }
  if (!rq->done) return;
  /* Bytes past the response: not ours to interpret, and the connection's
   * state is unknown; it is not reused. */
  if (n < (size_t)nread) rq->keep_alive = 0;
  response_done(rq);
}

/* ------------------------------------------------------------ sending */

static void on_write(uv_write_t *w, int status) {
  struct ac__h1_conn *c = w->data;
  c->writing = 0;
  if (status == UV_ECANCELED || c->closing || c->req == NULL) return;
  if (status < 0) (void)conn_lost(c->req, status); /* nothing received yet: never 1 */
}

static void reset_parser(struct ac__h1_req *rq) {
  http_parser_init(&rq->parser, HTTP_RESPONSE);
  rq->parser.data = rq;
  /* A chunked body with a Content-Length too: the chunks win, as RFC 9112
   * 6.3 and libcurl read it (http-parser refuses it by default). */
  rq->parser.allow_chunked_length = 1;
  rq->received = rq->drained = 0;
  rq->done = rq->keep_alive = rq->redirecting = 0;
  rq->cb_err = 0;
  rq->headers_done = 0; /* the rest of a head's state: on_message_begin */
}

/* Write the request on rq->conn (connected). */
static void write_request(struct ac__h1_req *rq) {
  struct ac__h1_conn *c = rq->conn;
  uv_buf_t b = uv_buf_init(rq->head.buf, (unsigned)rq->head.len);
  int n;

  reset_parser(rq);
  n = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
  if (n == UV_EAGAIN) n = 0;
  if (n < 0) {
    (void)conn_lost(rq, n);
    return;
  }
  if ((size_t)n < rq->head.len) {
    int rc;
    b = uv_buf_init(rq->head.buf + n, (unsigned)(rq->head.len - (size_t)n));
    c->write_req.data = c;
    rc = uv_write(&c->write_req, (uv_stream_t *)&c->tcp, &b, 1, on_write);
    if (rc != 0) {
      (void)conn_lost(rq, rc);
      return;
    }
    c->writing = 1;
  }
}

static void on_connect(uv_connect_t *cr, int status) {
  struct ac__h1_conn *c = cr->data;
  struct ac__h1_req *rq = c->req;
  int rc;

  if (status == UV_ECANCELED || c->closing || rq == NULL) return;
  if (status < 0) {
    conn_close(c);
    if (++rq->addr_i < rq->addrs.n) { /* the next address of the name */
      h1_send(rq);
      return;
    }
    h1_fail(rq, status == UV_ETIMEDOUT ? AC_ETIMEDOUT : status == UV_ECONNRESET ? AC_ECONNRESET
                : status == UV_ECONNREFUSED ? AC_ECONNREFUSED : status,
            CURLE_COULDNT_CONNECT, "Failed to connect to %s port %u: %s", rq->url.host,
            rq->url.port, uv_strerror(status));
    return;
  }
  c->connected = 1;
  rq->t_connect = now_ns();
  ac__timer_stop(c->loop, &rq->connect_timer);
  rc = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
  if (rc != 0) {
    h1_fail(rq, rc, CURLE_RECV_ERROR, "cannot read the connection: %s", uv_strerror(rc));
    return;
  }
  write_request(rq);
}

/* A failure while starting that the caller must hear of later: never
 * inside ac_session_send. */
static void fail_later(struct ac__h1_req *rq, int status) {
  rq->fail_status = status;
  ac__timer_start(rq->call->session->loop, &rq->fail_timer, 0);
}

static void connect_new(struct ac__h1_req *rq) {
  ac_session_t *s = rq->call->session;
  size_t hlen = strlen(rq->url.host);
  struct ac__h1_conn *c = ac__calloc(1, sizeof(*c) + hlen + 1);
  int rc;

  if (c == NULL) {
    fail_later(rq, AC_ENOMEM);
    return;
  }
  c->session = s;
  c->loop = s->loop;
  c->port = rq->url.port;
  memcpy(c->host, rq->url.host, hlen + 1);
  ac__list_init(&c->node);
  rc = uv_tcp_init(ac_loop_uv(s->loop), &c->tcp);
  if (rc != 0) {
    ac__free(c);
    fail_later(rq, rc);
    return;
  }
  c->tcp.data = c;
  c->connect_req.data = c;
  c->req = rq;
  rq->conn = c;
  uv_tcp_nodelay(&c->tcp, 1); /* as libcurl: a request is one write; do not hold it back */
  rc = uv_tcp_connect(&c->connect_req, &c->tcp, (const struct sockaddr *)&rq->addrs.a[rq->addr_i],
                      on_connect);
  if (rc != 0) {
    conn_close(c);
    fail_later(rq, rc);
  }
}

/* Send rq: on an idle connection to its host if there is one, else on a new
 * connection to its current address. */
static void h1_send(struct ac__h1_req *rq) {
  ac_session_t *s = rq->call->session;
  struct ac__h1_conn *c = rq->retried ? NULL : conn_take(s, rq->url.host, rq->url.port);
  if (c != NULL) {
    c->req = rq;
    rq->conn = c;
    if (rq->t_connect == 0) rq->t_connect = rq->t_dns = now_ns();
    write_request(rq);
    return;
  }
  if (rq->connect_timeout_ms > 0 && !rq->connect_timer.active)
    ac__timer_start(s->loop, &rq->connect_timer, rq->connect_timeout_ms);
  connect_new(rq);
}

/* ------------------------------------------------------------- names */

static int literal_addr(const char *host, unsigned port, struct sockaddr_storage *a) {
  memset(a, 0, sizeof(*a));
  if (uv_ip4_addr(host, (int)port, (struct sockaddr_in *)a) == 0) return 1;
  if (strchr(host, ':') != NULL && uv_ip6_addr(host, (int)port, (struct sockaddr_in6 *)a) == 0)
    return 1;
  return 0;
}

static void set_port(struct h1_addrs *as, unsigned port) {
  int i;
  for (i = 0; i < as->n; i++) {
    if (as->a[i].ss_family == AF_INET)
      ((struct sockaddr_in *)&as->a[i])->sin_port = htons((uint16_t)port);
    else
      ((struct sockaddr_in6 *)&as->a[i])->sin6_port = htons((uint16_t)port);
  }
}

static struct ac__h1_dns_entry *dns_find(ac_session_t *s, const char *name) {
  size_t i;
  uint64_t now = uv_now(ac_loop_uv(s->loop));
  for (i = 0; i < s->h1_ndns; i++) {
    struct ac__h1_dns_entry *e = &s->h1_dns[i];
    if (strcmp(e->name, name) == 0) return e->expires > now ? e : NULL;
  }
  return NULL;
}

static void dns_store(ac_session_t *s, const char *name, const struct h1_addrs *as) {
  struct ac__h1_dns_entry *e = NULL;
  size_t i;
  char *copy;
  for (i = 0; i < s->h1_ndns && e == NULL; i++)
    if (strcmp(s->h1_dns[i].name, name) == 0) e = &s->h1_dns[i];
  if (e == NULL) {
    if (s->h1_dns == NULL) {
      s->h1_dns = ac__calloc(DNS_CACHE_MAX, sizeof(*s->h1_dns));
      if (s->h1_dns == NULL) return; /* no cache: the next request asks again */
    }
    if (s->h1_ndns < DNS_CACHE_MAX) {
      e = &s->h1_dns[s->h1_ndns++];
    } else { /* full: replace the entry that expires first */
      e = &s->h1_dns[0];
      for (i = 1; i < DNS_CACHE_MAX; i++)
        if (s->h1_dns[i].expires < e->expires) e = &s->h1_dns[i];
      ac__free(e->name);
      e->name = NULL;
    }
    copy = ac__strdup(name);
    if (copy == NULL) {
      *e = s->h1_dns[--s->h1_ndns];
      return;
    }
    e->name = copy;
  }
  e->addrs = *as;
  e->expires = uv_now(ac_loop_uv(s->loop)) + DNS_TTL_MS;
}

static void on_resolved(uv_getaddrinfo_t *g, int status, struct addrinfo *res) {
  struct h1_lookup *lk = ac__container_of(g, struct h1_lookup, gai);
  struct ac__h1_req *rq = lk->req;
  struct addrinfo *ai;

  ac__loop_handle_closed(lk->loop);
  ac__free(lk);
  if (rq == NULL) { /* the request is gone */
    uv_freeaddrinfo(res);
    return;
  }
  rq->lookup = NULL;
  rq->addrs.n = 0;
  for (ai = res; ai != NULL && rq->addrs.n < MAX_ADDRS; ai = ai->ai_next) {
    if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) continue;
    if (ai->ai_addrlen > sizeof(rq->addrs.a[0])) continue;
    memset(&rq->addrs.a[rq->addrs.n], 0, sizeof(rq->addrs.a[0]));
    memcpy(&rq->addrs.a[rq->addrs.n], ai->ai_addr, ai->ai_addrlen);
    rq->addrs.n++;
  }
  uv_freeaddrinfo(res);
  if (status < 0 || rq->addrs.n == 0) {
    h1_fail(rq, AC_EDNS, CURLE_COULDNT_RESOLVE_HOST, "Could not resolve host: %s (%s)",
            rq->url.host, status < 0 ? uv_strerror(status) : "no address");
    return;
  }
  dns_store(rq->call->session, rq->url.host, &rq->addrs);
  set_port(&rq->addrs, rq->url.port);
  rq->t_dns = now_ns();
  rq->addr_i = 0;
  h1_send(rq);
}

/* Find the addresses of rq's host, then send it. */
static void resolve_and_send(struct ac__h1_req *rq) {
  ac_session_t *s = rq->call->session;
  struct ac__h1_dns_entry *e;
  struct addrinfo hints;
  struct h1_lookup *lk;
  int rc;

  rq->addr_i = 0;
  if (literal_addr(rq->url.host, rq->url.port, &rq->addrs.a[0])) {
    rq->addrs.n = 1;
    h1_send(rq);
    return;
  }
  if ((e = dns_find(s, rq->url.host)) != NULL) {
    rq->addrs = e->addrs;
    set_port(&rq->addrs, rq->url.port);
    h1_send(rq);
    return;
  }
  lk = ac__calloc(1, sizeof(*lk));
  if (lk == NULL) {
    fail_later(rq, AC_ENOMEM);
    return;
  }
  memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  lk->req = rq;
  lk->loop = s->loop;
  if (rq->connect_timeout_ms > 0)
    ac__timer_start(s->loop, &rq->connect_timer, rq->connect_timeout_ms);
  rc = uv_getaddrinfo(ac_loop_uv(s->loop), &lk->gai, on_resolved, rq->url.host, NULL, &hints);
  if (rc != 0) {
    ac__free(lk);
    fail_later(rq, rc);
    return;
  }
  ac__loop_closing_add(s->loop);
  rq->lookup = lk;
}

/* ------------------------------------------------------------ redirects */

/* Location resolved against the current URL (libcurl's URL API: relative
 * references, normalization). NULL when it is not a URL. */
static char *resolve_location(const char *base, const char *location) {
  CURLU *u = curl_url();
  char *out = NULL, *copy = NULL;
  if (u == NULL) return NULL;
  if (curl_url_set(u, CURLUPART_URL, base, 0) == CURLUE_OK &&
      curl_url_set(u, CURLUPART_URL, location, CURLU_URLENCODE) == CURLUE_OK &&
      curl_url_get(u, CURLUPART_URL, &out, 0) == CURLUE_OK) {
    copy = ac__strdup(out);
  }
  curl_free(out);
  curl_url_cleanup(u);
  return copy;
}

/* The rest of the request goes to libcurl (https, a proxy-only scheme, a
 * cookie now in the jar): the same call, its options rebuilt from the head. */
static void hand_over(struct ac__h1_req *rq, const char *url, int to_get);

static void follow(struct ac__h1_req *rq) {
  struct ac_http_call *call = rq->call;
  ac_session_t *s = call->session;
  unsigned st = rq->parser.status_code;
  int to_get, rc;
  char *next;
  struct ac__h1_url nu;

  if (rq->max_redirects >= 0 && rq->redirects >= rq->max_redirects) {
    h1_fail(rq, AC_EREDIRECT, CURLE_TOO_MANY_REDIRECTS, "Maximum (%ld) redirects followed",
            rq->max_redirects);
    return;
  }
  next = resolve_location(rq->url.buf, rq->location);
  if (next == NULL) {
    h1_fail(rq, AC_EPROTO, CURLE_WEIRD_SERVER_REPLY, "cannot follow the redirect to \"%s\"",
            rq->location);
    return;
  }
  /* 303 means "GET it there"; 301 and 302 turn a POST into a GET, as every
   * browser and libcurl do; 307 and 308 keep the method and the body. */
  to_get = (st == 303 && !rq->head.head) ||
           ((st == 301 || st == 302) && strcmp(rq->head.method, "POST") == 0);
  rq->redirects++;
  rq->t_hop = now_ns();
  if (rq->conn != NULL) conn_release(rq->conn, rq->keep_alive);
  rq->conn = NULL;
  /* The response of the next hop replaces this one. */
  ac__headers_reset(&call->resp->headers);
  rc = 1;
  if (!(s->cookies && s->jar_used)) rc = ac__h1_url_parse(next, &nu);
  if (rc == 0) {
    rc = ac__h1_head_retarget(&rq->head, &rq->url, &nu, to_get);
    ac__h1_url_free(&rq->url);
    rq->url = nu;
    ac__free(next);
    if (rc != 0) {
      h1_fail(rq, rc, CURLE_OUT_OF_MEMORY, "cannot follow the redirect: %s", ac_strerror(rc));
      return;
    }
    rq->retried = 0;
    resolve_and_send(rq);
    return;
  }
  if (rc < 0) {
    ac__free(next);
    h1_fail(rq, rc, CURLE_OUT_OF_MEMORY, "cannot follow the redirect: %s", ac_strerror(rc));
    return;
  }
  hand_over(rq, next, to_get);
  ac__free(next);
}

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

static void hand_over(struct ac__h1_req *rq, const char *url, int to_get) {
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
    h1_fail(rq, AC_ENOMEM, CURLE_OUT_OF_MEMORY, "cannot follow the redirect: %s",
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
  call->h1_redirects = rq->redirects;
  call->defaults_merged = 1; /* the head's lines hold the session's headers */
  req_quiet(rq);
  rq->active = 0;
  ac_response_free(call->resp);
  call->resp = ac__response_new(max_body);
  rc = call->resp == NULL ? AC_ENOMEM : ac__http_call_to_curl(call, &o, &err);
  ac__free(buf);
  ac__free(kv);
  if (rc != 0) {
    if (err.code == 0) ac__http_error_set(&err, rc, 0, "cannot follow the redirect: %s", ac_strerror(rc));
    ac__http_call_end(call, rc, &err);
  }
}

/* ------------------------------------------------------------ the call */

int ac__h1_session_allows(const ac_session_t *s) {
  return s->native && s->proxy == NULL && !(s->cookies && s->jar_used);
}

int ac__h1_start(struct ac_http_call *call, const ac_request_opts_t *o, ac_http_error_t *err) {
  struct ac__h1_req *rq = call->h1;
  char *built = NULL;
  const char *url = o->url;
  int rc;

  if (url == NULL) return 1; /* libcurl's path reports it */
  if (rq != NULL) ac__h1_url_free(&rq->url); /* left by a hand-over to libcurl */
  if (rq == NULL) {
    rq = ac__calloc(1, sizeof(*rq));
    if (rq == NULL) goto nomem;
    rq->call = call;
    ac__timer_init(&rq->deadline, on_deadline);
    ac__timer_init(&rq->connect_timer, on_connect_timeout);
    ac__timer_init(&rq->fail_timer, on_fail_later);
    call->h1 = rq;
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
  call->native = 1;
  call->h1_redirects = 0;
  if (rq->timeout_ms > 0) ac__timer_start(call->session->loop, &rq->deadline, rq->timeout_ms);
  resolve_and_send(rq);
  return 0;

nomem:
  ac__http_error_set(err, AC_ENOMEM, 0, "cannot allocate the request");
  return AC_ENOMEM;
}

void ac__h1_detach(struct ac_http_call *call) {
  struct ac__h1_req *rq = call->h1;
  call->native = 0;
  if (rq == NULL) return;
  if (rq->active) { /* cancelled or timed out from outside: the response is not whole */
    req_quiet(rq);
    if (rq->conn != NULL) conn_close(rq->conn);
    rq->active = 0;
  }
  ac__h1_url_free(&rq->url);
  ac__free(rq->location);
  rq->location = NULL;
  ac__free(rq->head.first_lines);
  rq->head.first_lines = NULL;
  rq->head.first_host = NULL;
  /* Keep a modest head buffer for the next request of this pooled call. */
  if (rq->head.cap > 4096) ac__h1_head_free(&rq->head);
  if (rq->line_cap > 4096) {
    ac__free(rq->line);
    rq->line = NULL;
    rq->line_cap = 0;
  }
}

void ac__h1_call_free(struct ac_http_call *call) {
  struct ac__h1_req *rq = call->h1;
  if (rq == NULL) return;
  ac__h1_detach(call);
  ac__h1_head_free(&rq->head);
  ac__free(rq->line);
  ac__free(rq);
  call->h1 = NULL;
}

void ac__h1_session_close(ac_session_t *s) {
  size_t i;
  while (!ac__list_empty(&s->h1_idle))
    conn_close(ac__container_of(s->h1_idle.next, struct ac__h1_conn, node));
  for (i = 0; i < s->h1_ndns; i++) ac__free(s->h1_dns[i].name);
  ac__free(s->h1_dns);
  s->h1_dns = NULL;
  s->h1_ndns = 0;
  ac__free(s->h1_buf);
  s->h1_buf = NULL;
}

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
    curl_easy_setopt(e, CURLOPT_SHARE, s->share);
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
