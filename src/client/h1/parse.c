/*
 * The native path's response parser: http-parser's callbacks, which feed the
 * response object as libcurl's header and write callbacks do, and the input
 * side of a connection (reads, losses, the end of a response).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "client/h1/cookie.h"
#include "client/h1/internal.h"

enum { FIELD = 1, VALUE = 2 };

static void report_cb_err(struct ac__h1_req *rq);

/* ------------------------------------------------------------ the parser */

/* Over AC__HTTP_MAX_HEADER_BYTES: AC_ETOOLARGE (the line's cap). */
static int line_add(struct ac__h1_req *rq, const char *at, size_t len) {
  return ac__dynbuf_add(&rq->line, at, len);
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
  size_t rlen = ac__dynbuf_len(&rq->line); /* the reason, from on_status (at most 1 KiB) */
  if (rq->status_fed) return 0;
  rq->status_fed = 1;
  n = snprintf(st, 32, "HTTP/%u.%u %u ", rq->parser.http_major, rq->parser.http_minor,
               rq->parser.status_code);
  if (rlen > 0) memcpy(st + n, ac__dynbuf_ptr(&rq->line), rlen); /* none yet: may be NULL */
  rc = feed_line(rq, st, (size_t)n + rlen);
  ac__dynbuf_reset(&rq->line);
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
static int keep_line(struct ac__h1_req *rq, const char *line, size_t len) {
  const char *v;
  size_t vlen;
  ac_session_t *s = rq->call->session;
  int rc;

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

/* The line goes to the response; the buffer is emptied only after, as
 * emptying it writes over its first byte. */
static int flush_line(struct ac__h1_req *rq) {
  int rc = keep_line(rq, ac__dynbuf_ptr(&rq->line), ac__dynbuf_len(&rq->line));
  rq->last = 0;
  ac__dynbuf_reset(&rq->line);
  return rc;
}

static struct ac__h1_req *req_of(http_parser *p) { return p->data; }

static int on_message_begin(http_parser *p) {
  struct ac__h1_req *rq = req_of(p);
  ac__dynbuf_reset(&rq->line);
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
  size_t have = ac__dynbuf_len(&rq->line);
  if (have + len > 1024) len = have < 1024 ? 1024 - have : 0;
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


/* ------------------------------------------------------ response input */

/* The connection failed or closed before the response was complete: retry,
 * fail (then rq may be gone), or, for a body that ends with the connection,
 * return 1: the caller completes the response. */
int ac__h1_conn_lost(struct ac__h1_req *rq, int uverr) {
  struct ac__h1_conn *c = rq->conn;
  /* A pooled connection the server closed while we were sending: once more
   * on a new one (what libcurl does), never twice. */
  if (rq->received == 0 && c->reused && !rq->retried &&
      (uverr == UV_EOF || uverr == UV_ECONNRESET || uverr == UV_EPIPE)) {
    rq->retried = 1;
    ac__h1_conn_close(c);
    ac__h1_send(rq);
    return 0;
  }
  if (rq->received == 0) {
    if (uverr == UV_EOF)
      ac__h1_fail(rq, AC_ECONNRESET, "connection closed before any byte of a response");
    else
      ac__h1_fail(rq, uverr == UV_EPIPE ? AC_ECONNRESET : uverr,
                  "connection lost before any byte of a response: %s", uv_strerror(uverr));
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
      ac__h1_fail(rq, AC_ECONNRESET, "connection closed in the middle of the response head");
    } else if (rq->parser.content_length != ULLONG_MAX && rq->parser.content_length > 0 &&
               !(rq->parser.flags & F_CHUNKED)) {
      ac__h1_fail(rq, AC_ESHORT, "connection closed %llu bytes before the end of the body",
                  (unsigned long long)rq->parser.content_length);
    } else {
      ac__h1_fail(rq, AC_ESHORT, "connection closed before the last chunk of the body");
    }
    return 0;
  }
  ac__h1_fail(rq, uverr == UV_EPIPE ? AC_ECONNRESET : uverr,
              "connection lost in the middle of the response: %s", uv_strerror(uverr));
  return 0;
}

static void report_cb_err(struct ac__h1_req *rq) {
  ac_response_t *r = rq->call->resp;
  int e = rq->cb_err;
  if (e == AC__H1_EENCODING)
    ac__h1_fail(rq, AC_EPROTO, "unknown content encoding in \"%s\"", rq->encoding);
  else if (e == AC__H1_ESTATUS)
    ac__h1_fail(rq, AC_EPROTO, "invalid status code %u (three digits, 100 and up)",
                rq->parser.status_code);
  else if (e == AC_ETOOLARGE && r->too_large)
    ac__h1_fail(rq, e, "body larger than max_body (%zu bytes)", r->max_body);
  else if (e == AC_ETOOLARGE)
    ac__h1_fail(rq, e, "cannot store the response headers: %s", ac_strerror(e));
  else if (e == AC_EPROTO)
    ac__h1_fail(rq, e, "cannot decode the body (content encoding \"%s\")", rq->encoding);
  else
    ac__h1_fail(rq, e, "cannot store the response: %s", ac_strerror(e));
}

/* The response is whole: finish, or follow its redirect. */
static void response_done(struct ac__h1_req *rq) {
  if (rq->redirecting)
    ac__h1_follow(rq);
  else
    ac__h1_complete(rq);
}

void ac__h1_on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf) {
  struct ac__h1_conn *c = st->data;
  struct ac__h1_req *rq = c->req;
  size_t n;
  enum http_errno e;

  if (rq == NULL) { /* idle: the server closed it, or sent what nobody asked for */
    if (nread != 0) ac__h1_conn_close(c);
    return;
  }
  if (nread == 0) return;
  if (nread == UV_ENOBUFS) { /* on_alloc had no memory for the read buffer */
    ac__h1_fail(rq, AC_ENOMEM, "cannot allocate the receive buffer");
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
    if (ac__h1_conn_lost(rq, err)) response_done(rq);
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
      ac__h1_fail(rq, AC_ETOOLARGE, "response headers too large (%s)",
                  http_errno_description(e));
    else if (e == HPE_INVALID_CONTENT_LENGTH && rq->headers_done && (rq->parser.flags & F_CHUNKED))
      /* http-parser counts a chunk's size in its content length, and names
       * that when a size overflows it (libcurl: a receive error). */
      ac__h1_fail(rq, AC_EPROTO, "invalid HTTP response: chunk size too large");
    else
      ac__h1_fail(rq, AC_EPROTO, "invalid HTTP response: %s", http_errno_description(e));
    return;
  }
  if (!rq->done) return;
  /* Bytes past the response: not ours to interpret, and the connection's
   * state is unknown; it is not reused. */
  if (n < (size_t)nread) rq->keep_alive = 0;
  response_done(rq);
}

