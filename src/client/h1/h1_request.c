/*
 * The native path's request side: which URLs it takes, and the request head.
 * Anything unusual goes to libcurl instead of being half-handled here: the
 * URL rules below are deliberately narrower than RFC 3986 (no user info, no
 * percent-encoded or non-ASCII host, no dot segments to remove, no bytes a
 * server might read differently), so that what is sent is exactly what
 * libcurl would send.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "client/h1/h1.h"
#include "client/internal.h"

void ac__h1_url_free(struct ac__h1_url *u) {
  ac__free(u->buf);
  memset(u, 0, sizeof(*u));
}

static int is_host_char(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '.' || c == '-' || c == '_';
}

/* A byte of a path or query that every server reads the same way: visible
 * ASCII, no backslash (some servers take it for a slash). */
static int is_target_char(unsigned char c) { return c > 0x20 && c < 0x7f && c != '\\'; }

/* "/./", "/../" or a path ending in "/." or "/..": libcurl removes those. */
static int has_dot_segment(const char *p, size_t n) {
  size_t i;
  for (i = 0; i + 1 < n; i++) {
    if (p[i] != '/' || p[i + 1] != '.') continue;
    if (i + 2 == n || p[i + 2] == '/' || p[i + 2] == '?') return 1;
    if (p[i + 2] == '.' && (i + 3 == n || p[i + 3] == '/' || p[i + 3] == '?')) return 1;
  }
  return 0;
}

int ac__h1_url_parse(const char *url, struct ac__h1_url *u) {
  const char *auth, *end, *host, *host_end, *path, *frag;
  size_t auth_len, path_len, hlen;
  unsigned port = 80;
  char *b;

  memset(u, 0, sizeof(*u));
  if (strncmp(url, "http://", 7) != 0) return 1;
  auth = url + 7;
  auth_len = strcspn(auth, "/?#");
  end = auth + auth_len;
  if (auth_len == 0 || memchr(auth, '@', auth_len) != NULL) return 1;
  host = auth;
  if (*host == '[') { /* an IPv6 literal: hex digits, colons and dots only */
    host_end = memchr(host, ']', auth_len);
    if (host_end == NULL || host_end == host + 1) return 1;
    host++;
    if (strspn(host, "0123456789abcdefABCDEF:.") != (size_t)(host_end - host)) return 1;
    hlen = (size_t)(host_end - host);
    host_end++;
  } else {
    host_end = host;
    while (host_end < end && *host_end != ':') {
      if (!is_host_char((unsigned char)*host_end)) return 1;
      host_end++;
    }
    hlen = (size_t)(host_end - host);
    if (hlen == 0) return 1;
  }
  if (host_end < end) { /* ":port", digits only, 1..65535 */
    const char *p = host_end + 1;
    if (*host_end != ':' || p == end || end - p > 5) return 1;
    port = 0;
    for (; p < end; p++) {
      if (*p < '0' || *p > '9') return 1;
      port = port * 10 + (unsigned)(*p - '0');
    }
    if (port == 0 || port > 65535) return 1;
  }
  path = end;
  frag = strchr(path, '#');
  path_len = frag != NULL ? (size_t)(frag - path) : strlen(path);
  if (path_len > AC__HTTP_MAX_URL) return 1;
  {
    size_t i;
    for (i = 0; i < path_len; i++)
      if (!is_target_char((unsigned char)path[i])) return 1;
  }
  if (has_dot_segment(path, path_len)) return 1;

  /* buf: effective URL \0 host \0 */
  b = ac__malloc((size_t)(end - url) + 1 + path_len + 1 + hlen + 1);
  if (b == NULL) return AC_ENOMEM;
  memcpy(b, url, (size_t)(end - url));
  u->url_len = (size_t)(end - url);
  u->authority = b + 7;
  u->authority_len = auth_len;
  u->target = b + u->url_len;
  if (path_len == 0 || path[0] == '?') b[u->url_len++] = '/';
  memcpy(b + u->url_len, path, path_len);
  u->url_len += path_len;
  u->target_len = (size_t)(b + u->url_len - u->target);
  b[u->url_len] = '\0';
  memcpy(b + u->url_len + 1, host, hlen);
  b[u->url_len + 1 + hlen] = '\0';
  u->host = b + u->url_len + 1;
  u->host_len = hlen;
  u->port = port;
  u->buf = b;
  return 0;
}

/* ------------------------------------------------------------------ head */

/* Appends stop at the first failure (the dynbuf's error is sticky): a
 * sequence of them is checked once, by its last. */
static int head_add(struct ac__h1_head *h, const char *s, size_t n) {
  return ac__dynbuf_add(&h->buf, s, n);
}

static int head_adds(struct ac__h1_head *h, const char *s) { return head_add(h, s, strlen(s)); }

/* Bytes in the head so far: the offsets kept in ac__h1_head. */
static size_t head_len(const struct ac__h1_head *h) { return ac__dynbuf_len(&h->buf); }

/* No CR, LF or NUL: a header that would split into two is not ours to send
 * (libcurl's path sends what it is given; the caller's problem, not ours to
 * reinterpret). */
static int clean(const char *s) { return s == NULL || strpbrk(s, "\r\n") == NULL; }

static int add_field(struct ac__h1_head *h, const char *name, size_t nlen, const char *value) {
  head_add(h, name, nlen);
  head_add(h, ": ", value[0] != '\0' ? 2 : 1);
  head_adds(h, value);
  return head_add(h, "\r\n", 2);
}

/* The caller's header of that name: 1 and *value (NULL: removed), or 0. */
static int request_header(const ac_request_opts_t *o, const char *name, const char **value) {
  size_t i;
  for (i = 0; i < o->nheaders; i++) {
    if (o->headers[i].key != NULL && strcasecmp(o->headers[i].key, name) == 0) {
      *value = o->headers[i].value;
      return 1;
    }
  }
  return 0;
}

/* The session's default "Name: value" line of that name, or NULL. */
static const char *default_header(const ac_session_t *s, const char *name) {
  size_t n = strlen(name), i;
  for (i = 0; i < s->ndefault_headers; i++) {
    const char *d = s->default_headers[i];
    if (strncasecmp(d, name, n) == 0 && d[n] == ':') return d;
  }
  return NULL;
}

/* One of the headers libcurl adds itself (Host, User-Agent, Accept,
 * Accept-Encoding): the caller's or the session's version wins, a NULL value
 * removes it. */
static int add_builtin(struct ac__h1_head *h, const ac_session_t *s, const ac_request_opts_t *o,
                       const char *name, const char *value, size_t vlen) {
  const char *v, *line;
  if (request_header(o, name, &v)) return 0; /* added with the caller's headers */
  if ((line = default_header(s, name)) != NULL) return 0; /* added with the session's */
  head_adds(h, name);
  head_add(h, ": ", 2);
  head_add(h, value, vlen);
  return head_add(h, "\r\n", 2);
}

static int valid_method(const char *m) {
  size_t n = strlen(m);
  return n > 0 && n < sizeof(((struct ac__h1_head *)0)->method) &&
         strspn(m, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_!#$%&'*+.^`|~") == n &&
         strcmp(m, "CONNECT") != 0;
}

static int add_request_line(struct ac__h1_head *h, const struct ac__h1_url *u) {
  head_adds(h, h->method);
  head_add(h, " ", 1);
  head_add(h, u->target, u->target_len);
  return head_add(h, " HTTP/1.1\r\n", 11);
}

static int add_host(struct ac__h1_head *h, const struct ac__h1_url *u) {
  head_add(h, "Host: ", 6);
  head_add(h, u->authority, u->authority_len);
  return head_add(h, "\r\n", 2);
}

void ac__h1_head_init(struct ac__h1_head *h) {
  memset(h, 0, sizeof(*h));
  ac__dynbuf_init(&h->buf, AC__H1_HEAD_MAX);
}

int ac__h1_head_build(struct ac__h1_head *h, struct ac_http_call *call,
                      const ac_request_opts_t *o, const struct ac__h1_url *u) {
  ac_session_t *s = call->session;
  const char *m = o->method != NULL && o->method[0] != '\0' ? o->method : "GET";
  const char *ctype = NULL, *v;
  const void *body = NULL;
  char *form = NULL, num[32];
  size_t body_len = 0, i, j;
  int rc;

  ac__dynbuf_reset(&h->buf); /* a pooled call's memory stays for this head */
  h->head = h->has_body = h->custom_host = 0;
  ac__free(h->first_lines); /* a new request: its own first URL */
  h->first_lines = NULL;
  h->first_host = NULL;
  if (!valid_method(m) || o->body_kind == AC_BODY_MULTIPART) return 1;
  for (i = 0; i < o->nheaders; i++) {
    if (o->headers[i].key == NULL || o->headers[i].key[0] == '\0') return AC_EINVAL;
    if (!clean(o->headers[i].key) || !clean(o->headers[i].value) ||
        strchr(o->headers[i].key, ':') != NULL)
      return 1;
  }
  for (i = 0; i < s->ndefault_headers; i++)
    if (!clean(s->default_headers[i])) return 1;
  strcpy(h->method, m);
  h->head = strcmp(m, "HEAD") == 0;

  switch (o->body_kind) {
  case AC_BODY_NONE:
    /* libcurl posts empty fields for a bare POST: same bytes here. */
    if (strcmp(m, "POST") == 0) {
      ctype = "application/x-www-form-urlencoded";
      body = "";
      h->has_body = 1;
    }
    break;
  case AC_BODY_BYTES:
  case AC_BODY_JSON:
    if (o->body == NULL && o->body_len > 0) return AC_EINVAL;
    ctype = o->body_kind == AC_BODY_JSON ? "application/json"
            : o->content_type != NULL    ? o->content_type
                                         : "application/octet-stream";
    if (!clean(ctype)) return 1;
    body = o->body != NULL ? o->body : "";
    body_len = o->body_len;
    h->has_body = 1;
    break;
  case AC_BODY_FORM:
    rc = ac__http_urlencode_pairs(o->fields, o->nfields, &form);
    if (rc != 0) return rc;
    ctype = "application/x-www-form-urlencoded";
    body = form;
    body_len = strlen(form);
    h->has_body = 1;
    break;
  default:
    return AC_EINVAL;
  }

  rc = add_request_line(h, u);
  h->line_end = head_len(h);
  /* Host first, as libcurl sends it; a caller's Host replaces it. */
  h->custom_host = (unsigned)(request_header(o, "Host", &v) || default_header(s, "Host") != NULL);
  if (rc == 0 && !h->custom_host) rc = add_host(h, u);
  h->host_end = head_len(h);
  if (rc == 0) rc = add_builtin(h, s, o, "User-Agent", s->user_agent, strlen(s->user_agent));
  if (rc == 0) rc = add_builtin(h, s, o, "Accept", "*/*", 3);
  if (rc == 0 && o->decompress)
    rc = add_builtin(h, s, o, "Accept-Encoding", "gzip, deflate, br", 17);
  for (j = 0; j < s->ndefault_headers && rc == 0; j++) {
    const char *d = s->default_headers[j];
    size_t nlen = strcspn(d, ":");
    int overridden = 0;
    for (i = 0; i < o->nheaders && !overridden; i++)
      overridden = strlen(o->headers[i].key) == nlen &&
                   strncasecmp(d, o->headers[i].key, nlen) == 0;
    if (!overridden) {
      rc = head_adds(h, d);
      if (rc == 0) rc = head_add(h, "\r\n", 2);
    }
  }
  for (i = 0; i < o->nheaders && rc == 0; i++) {
    const ac_http_kv_t *kv = &o->headers[i];
    if (kv->value == NULL) continue; /* removes the header */
    if (h->has_body && (strcasecmp(kv->key, "Content-Length") == 0)) continue;
    if (ctype != NULL && strcasecmp(kv->key, "Content-Type") == 0) continue; /* below */
    rc = add_field(h, kv->key, strlen(kv->key), kv->value);
  }
  h->fields_end = head_len(h);
  if (rc == 0 && ctype != NULL) {
    if (request_header(o, "Content-Type", &v)) ctype = v; /* NULL: removed */
    if (ctype != NULL) rc = add_field(h, "Content-Type", 12, ctype);
  }
  if (rc == 0 && h->has_body) {
    snprintf(num, sizeof(num), "%zu", body_len);
    rc = add_field(h, "Content-Length", 14, num);
  }
  h->content_end = head_len(h);
  if (rc == 0) rc = head_add(h, "\r\n", 2);
  if (rc == 0 && body_len > 0) rc = head_add(h, body, body_len);
  h->body_len = body_len;
  ac__free(form);
  return rc;
}

/* The first URL's header lines and origin, saved at the first redirect. */
static int keep_first(struct ac__h1_head *h, const struct ac__h1_url *from) {
  size_t n = h->fields_end - h->host_end;
  char *b;
  if (h->first_lines != NULL) return 0;
  b = ac__malloc(n + from->host_len + 1);
  if (b == NULL) return AC_ENOMEM;
  memcpy(b, ac__dynbuf_ptr(&h->buf) + h->host_end, n);
  memcpy(b + n, from->host, from->host_len + 1);
  h->first_lines = b;
  h->first_lines_len = n;
  h->first_host = b + n;
  h->first_port = from->port;
  return 0;
}

static int line_named(const char *line, size_t len, const char *name) {
  size_t n = strlen(name);
  return len > n && line[n] == ':' && strncasecmp(line, name, n) == 0;
}

/* Add the first URL's header lines that libcurl would send on a redirect:
 * same_origin (scheme, host and port as the first URL's) keeps Authorization
 * and Cookie, same_host keeps a Host of the caller's. */
static int add_first_lines(struct ac__h1_head *h, int same_origin, int same_host) {
  const char *p = h->first_lines, *end = p + h->first_lines_len;
  int rc = 0;
  while (p < end && rc == 0) {
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    size_t len = eol != NULL ? (size_t)(eol + 1 - p) : (size_t)(end - p);
    int secret = line_named(p, len, "Authorization") || line_named(p, len, "Cookie");
    int drop = (!same_origin && secret) || (!same_host && line_named(p, len, "Host"));
    if (!drop) rc = head_add(h, p, len);
    p += len;
  }
  return rc;
}

/* Rebuild h for a redirect to u: its request line and Host, then the
 * header lines, content headers and body. */
static int rebuild(struct ac__h1_head *h, const struct ac__h1_url *from, const struct ac__h1_url *u,
                   int to_get) {
  struct ac__h1_head n;
  size_t content = to_get ? 0 : h->content_end - h->fields_end;
  size_t tail = 2 + (to_get ? 0 : h->body_len);
  int same_host, rc = keep_first(h, from);

  if (rc != 0) return rc;
  same_host = strcasecmp(u->host, h->first_host) == 0;
  ac__h1_head_init(&n);
  memcpy(n.method, h->method, sizeof(n.method));
  if (to_get) strcpy(n.method, "GET");
  n.head = h->head && !to_get;
  n.has_body = h->has_body && !to_get;
  n.custom_host = h->custom_host;
  n.first_lines = h->first_lines;
  n.first_lines_len = h->first_lines_len;
  n.first_host = h->first_host;
  n.first_port = h->first_port;
  rc = add_request_line(&n, u);
  n.line_end = head_len(&n);
  /* libcurl sends the caller's Host only to the first host. */
  if (rc == 0 && (!n.custom_host || !same_host)) rc = add_host(&n, u);
  n.host_end = head_len(&n);
  if (rc == 0) rc = add_first_lines(&n, same_host && u->port == h->first_port, same_host);
  n.fields_end = head_len(&n);
  if (rc == 0) rc = head_add(&n, ac__dynbuf_ptr(&h->buf) + h->fields_end, content);
  n.content_end = head_len(&n);
  if (rc == 0) rc = head_add(&n, ac__dynbuf_ptr(&h->buf) + h->content_end, tail);
  n.body_len = to_get ? 0 : h->body_len;
  if (rc != 0) {
    ac__dynbuf_free(&n.buf);
    return rc;
  }
  ac__dynbuf_free(&h->buf);
  *h = n;
  return 0;
}

int ac__h1_head_retarget(struct ac__h1_head *h, const struct ac__h1_url *from,
                         const struct ac__h1_url *u, int to_get) {
  return rebuild(h, from, u, to_get);
}

void ac__h1_head_free(struct ac__h1_head *h) {
  ac__dynbuf_free(&h->buf);
  ac__free(h->first_lines);
  ac__h1_head_init(h);
}
