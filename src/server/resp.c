/*
 * Responses: the head is built at the moment it is sent, from the status, the
 * cached Date line, the handler's headers and the framing (Content-Length or
 * chunked), and goes out in one writev with the body when there is one.
 * Writes await the kernel (ac__conn_write), so a slow client slows its
 * handler down instead of growing a queue.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "server/internal.h"

const char *ac__status_reason(int status) {
  switch (status) {
  case 100: return "Continue";
  case 101: return "Switching Protocols";
  case 200: return "OK";
  case 201: return "Created";
  case 202: return "Accepted";
  case 204: return "No Content";
  case 206: return "Partial Content";
  case 301: return "Moved Permanently";
  case 302: return "Found";
  case 303: return "See Other";
  case 304: return "Not Modified";
  case 307: return "Temporary Redirect";
  case 308: return "Permanent Redirect";
  case 400: return "Bad Request";
  case 401: return "Unauthorized";
  case 403: return "Forbidden";
  case 404: return "Not Found";
  case 405: return "Method Not Allowed";
  case 408: return "Request Timeout";
  case 409: return "Conflict";
  case 410: return "Gone";
  case 411: return "Length Required";
  case 413: return "Content Too Large";
  case 414: return "URI Too Long";
  case 417: return "Expectation Failed";
  case 418: return "I'm a teapot";
  case 429: return "Too Many Requests";
  case 431: return "Request Header Fields Too Large";
  case 500: return "Internal Server Error";
  case 501: return "Not Implemented";
  case 502: return "Bad Gateway";
  case 503: return "Service Unavailable";
  case 504: return "Gateway Timeout";
  case 505: return "HTTP Version Not Supported";
  default: return "Unknown";
  }
}

void ac__resp_init(ac_server_resp_t *r, struct ac__conn *c, int is_head) {
  memset(r, 0, sizeof(*r));
  r->conn = c;
  r->status = 200;
  r->is_head = is_head != 0;
  r->http10 = c->parse.hp.http_minor == 0;
  r->content_length = AC_SERVER_CHUNKED;
}

static int has_crlf(const char *s) { return strpbrk(s, "\r\n") != NULL; }

int ac_server_resp_status(ac_server_resp_t *r, int status, const char *reason) {
  if (r == NULL || status < 100 || status > 999) return AC_EINVAL;
  if (r->started) return AC_EBUSY;
  if (reason != NULL && (has_crlf(reason) || strlen(reason) >= sizeof(r->reason)))
    return AC_EINVAL;
  r->status = status;
  snprintf(r->reason, sizeof(r->reason), "%s", reason != NULL ? reason : "");
  return 0;
}

static int valid_token(const char *s) {
  if (*s == '\0') return 0;
  for (; *s != '\0'; s++)
    if ((unsigned char)*s <= ' ' || *s == ':' || (unsigned char)*s == 127) return 0;
  return 1;
}

int ac_server_resp_header(ac_server_resp_t *r, const char *name, const char *value) {
  struct ac__conn *c;
  size_t nlen, vlen;

  if (r == NULL || name == NULL || value == NULL || !valid_token(name) || has_crlf(value))
    return AC_EINVAL;
  /* Framing is the server's business: a handler that set it could desync
   * the connection. */
  if (strcasecmp(name, "Content-Length") == 0 || strcasecmp(name, "Transfer-Encoding") == 0 ||
      strcasecmp(name, "Connection") == 0)
    return AC_EINVAL;
  if (r->started) return AC_EBUSY;
  c = r->conn;
  nlen = strlen(name);
  vlen = strlen(value);
  /* A header over the cap is refused alone: the ones added before stay
   * (a failed append would drop them all). */
  if (nlen + vlen + 4 > c->hdrs.toobig - ac__dynbuf_len(&c->hdrs)) return AC_ETOOLARGE;
  ac__dynbuf_add(&c->hdrs, name, nlen);
  ac__dynbuf_add(&c->hdrs, ": ", 2);
  ac__dynbuf_add(&c->hdrs, value, vlen);
  return ac__dynbuf_add(&c->hdrs, "\r\n", 2);
}

void ac_server_resp_close_after(ac_server_resp_t *r) {
  if (r != NULL) r->close_after = 1;
}

int ac_server_resp_started(const ac_server_resp_t *r) { return r != NULL && r->started; }

static int fail(ac_server_resp_t *r, int rc) {
  r->error = rc;
  r->finished = 1;
  ac__conn_kill(r->conn, 0);
  return rc;
}

/* Send the head, followed by body[0..blen) in the same write. */
static int send_head(ac_server_resp_t *r, int64_t content_length, const void *body,
                     size_t blen) {
  struct ac__conn *c = r->conn;
  char line[128], tail[96];
  const char *date;
  size_t date_len;
  uv_buf_t bufs[5];
  int n, t, rc, no_body = r->status < 200 || r->status == 204 || r->status == 304;

  if (r->started) return AC_EBUSY;
  r->started = 1;
  /* The server began closing while the handler ran: say it's the last one. */
  if (c->server->closing) r->close_after = 1;
  if (content_length == AC_SERVER_CHUNKED && r->http10) {
    /* HTTP/1.0 has no chunked encoding: the body ends with the connection. */
    r->close_after = 1;
    r->chunked = 0;
  } else {
    r->chunked = content_length == AC_SERVER_CHUNKED && !no_body;
  }
  r->content_length = content_length;
  ac__server_date(c->server, &date, &date_len);
  n = snprintf(line, sizeof(line), "HTTP/1.1 %d %s\r\n", r->status,
               r->reason[0] != '\0' ? r->reason : ac__status_reason(r->status));
  if (no_body)
    t = 0;
  else if (content_length >= 0)
    t = snprintf(tail, sizeof(tail), "Content-Length: %lld\r\n", (long long)content_length);
  else if (r->chunked)
    t = snprintf(tail, sizeof(tail), "Transfer-Encoding: chunked\r\n");
  else
    t = 0;
  if (r->close_after)
    t += snprintf(tail + t, sizeof(tail) - (size_t)t, "Connection: close\r\n\r\n");
  else if (r->http10)
    t += snprintf(tail + t, sizeof(tail) - (size_t)t, "Connection: keep-alive\r\n\r\n");
  else
    t += snprintf(tail + t, sizeof(tail) - (size_t)t, "\r\n");
  bufs[0] = uv_buf_init(line, (unsigned)n);
  bufs[1] = uv_buf_init((char *)date, (unsigned)date_len);
  bufs[2] = uv_buf_init(ac__dynbuf_ptr(&c->hdrs), (unsigned)ac__dynbuf_len(&c->hdrs));
  bufs[3] = uv_buf_init(tail, (unsigned)t);
  bufs[4] = uv_buf_init((char *)body, r->is_head || no_body ? 0 : (unsigned)blen);
  rc = ac__conn_write(c, bufs, 5);
  if (rc != 0) return fail(r, rc);
  r->written = blen;
  return 0;
}

int ac_server_resp_send(ac_server_resp_t *r, const void *body, size_t len) {
  int rc;
  if (r == NULL || (body == NULL && len > 0) || len > UINT32_MAX) return AC_EINVAL;
  if (r->started) return AC_EBUSY;
  rc = send_head(r, (int64_t)len, body, len);
  r->finished = 1;
  return rc;
}

int ac_server_resp_text(ac_server_resp_t *r, int status, const char *text) {
  int rc;
  if (r == NULL || text == NULL) return AC_EINVAL;
  rc = ac_server_resp_status(r, status, NULL);
  if (rc == 0) rc = ac_server_resp_header(r, "Content-Type", "text/plain; charset=utf-8");
  if (rc == 0) rc = ac_server_resp_send(r, text, strlen(text));
  return rc;
}

int ac_server_resp_start(ac_server_resp_t *r, int64_t content_length) {
  if (r == NULL || content_length < AC_SERVER_CHUNKED) return AC_EINVAL;
  return send_head(r, content_length, NULL, 0);
}

int ac_server_resp_write(ac_server_resp_t *r, const void *data, size_t len) {
  char size_line[24];
  uv_buf_t bufs[3];
  int rc;

  if (r == NULL || (data == NULL && len > 0) || len > UINT32_MAX) return AC_EINVAL;
  if (!r->started) {
    rc = ac_server_resp_start(r, AC_SERVER_CHUNKED);
    if (rc != 0) return rc;
  }
  if (r->finished) return r->error != 0 ? r->error : AC_EBUSY;
  if (r->content_length >= 0 && r->written + len > (uint64_t)r->content_length)
    return AC_ETOOLARGE;
  if (len == 0) return 0; /* an empty chunk would end the body */
  r->written += len;
  if (r->is_head) return 0;
  if (r->chunked) {
    int n = snprintf(size_line, sizeof(size_line), "%zx\r\n", len);
    bufs[0] = uv_buf_init(size_line, (unsigned)n);
    bufs[1] = uv_buf_init((char *)data, (unsigned)len);
    bufs[2] = uv_buf_init("\r\n", 2);
    rc = ac__conn_write(r->conn, bufs, 3);
  } else {
    bufs[0] = uv_buf_init((char *)data, (unsigned)len);
    rc = ac__conn_write(r->conn, bufs, 1);
  }
  return rc != 0 ? fail(r, rc) : 0;
}

int ac_server_resp_end(ac_server_resp_t *r) {
  uv_buf_t buf;
  int rc;

  if (r == NULL) return AC_EINVAL;
  if (!r->started) return ac_server_resp_send(r, NULL, 0);
  if (r->finished) return r->error != 0 ? r->error : AC_EBUSY;
  r->finished = 1;
  if (r->content_length >= 0 && r->written < (uint64_t)r->content_length) {
    r->conn->server->stats.aborts++;
    r->killed = 1;
    ac__conn_kill(r->conn, 0);
    return AC_ESHORT;
  }
  if (r->chunked && !r->is_head) {
    buf = uv_buf_init("0\r\n\r\n", 5);
    rc = ac__conn_write(r->conn, &buf, 1);
    if (rc != 0) return fail(r, rc);
  }
  return 0;
}

int ac_server_resp_abort(ac_server_resp_t *r) {
  if (r == NULL) return AC_EINVAL;
  if (!r->killed) r->conn->server->stats.aborts++;
  r->killed = 1;
  r->finished = 1;
  ac__conn_kill(r->conn, 0);
  return 0;
}

int ac_server_resp_reset(ac_server_resp_t *r) {
  if (r == NULL) return AC_EINVAL;
  if (!r->killed) r->conn->server->stats.resets++;
  r->killed = 1;
  r->finished = 1;
  ac__conn_kill(r->conn, 1);
  return 0;
}

int ac__resp_finish(ac_server_resp_t *r, int handler_rc) {
  if (r->killed) return 0;
  if (r->finished) {
    /* A body that ends with the connection (HTTP/1.0, no length). */
    if (r->content_length < 0 && !r->chunked) r->close_after = 1;
    return r->error;
  }
  if (!r->started) {
    if (handler_rc == 0) return ac_server_resp_send(r, NULL, 0);
    ac__dynbuf_reset(&r->conn->hdrs); /* the failed handler's headers do not apply */
    r->close_after = 1;
    return ac_server_resp_text(r, 500, "Internal Server Error\n");
  }
  if (handler_rc == 0) return ac_server_resp_end(r);
  return ac_server_resp_abort(r);
}
