/*
 * The request parser: http-parser driven from a buffer, with acrawl's limits.
 *
 * It knows nothing of sockets: the connection feeds it what it read, and the
 * fuzzer feeds it arbitrary bytes. http-parser hands the URL and each header
 * name and value over in pieces (a piece ends where a read ended), so pieces
 * are appended to one arena and an element is closed with a NUL when the next
 * kind of element begins. The parser is paused at the end of each message, so
 * that pipelined requests stay in the caller's buffer until their turn.
 */
#include <string.h>
#include <strings.h>

#include "server/internal.h"

enum { ELEM_NONE = 0, ELEM_URL, ELEM_NAME, ELEM_VALUE };

/* The arena also holds the NUL after each element: room for them. */
#define HEAD_SLACK(p) ((p)->max_headers * 2 + 2)

static int fail(struct ac__reqparse *p, int status) {
  p->error_status = status;
  /* Not 1: from on_headers_complete, 1 means "no body follows", not an
   * error. Any other non-zero value stops http-parser with HPE_CB_*. */
  return -1;
}

static int fail_rc(struct ac__reqparse *p, int rc) {
  return fail(p, rc == AC_ENOMEM ? 500 : 431);
}

/* Close the element being appended (NUL-terminate it). */
static int close_elem(struct ac__reqparse *p) {
  size_t end; /* the offset of the NUL that closes the element */
  int rc;
  if (p->last == ELEM_NONE) return 0;
  rc = ac__dynbuf_addc(&p->head, '\0');
  if (rc != 0) return rc;
  end = ac__dynbuf_len(&p->head) - 1;
  if (p->last == ELEM_URL) p->url_len = (uint32_t)(end - p->url);
  if (p->last == ELEM_NAME) {
    struct ac__srv_header *h = &p->hdrs[p->nhdrs - 1];
    h->name_len = (uint32_t)(end - h->name);
    h->value = (uint32_t)end; /* "" until a value comes */
  }
  if (p->last == ELEM_VALUE)
    p->hdrs[p->nhdrs - 1].value_len = (uint32_t)(end - p->hdrs[p->nhdrs - 1].value);
  p->last = ELEM_NONE;
  return 0;
}

/* Append a piece of element `kind`, opening a new element if kind changed. */
static int append(struct ac__reqparse *p, int kind, const char *at, size_t len) {
  int rc;
  /* The limit counts the bytes of URL, names and values, not the NULs. */
  if (len > p->max_head - p->head_bytes) return fail(p, 431);
  p->head_bytes += len;
  if (kind != p->last) {
    rc = close_elem(p);
    if (rc != 0) return fail_rc(p, rc);
    if (kind == ELEM_NAME) {
      if (p->nhdrs == p->max_headers) return fail(p, 431);
      if (p->hdrs == NULL) {
        p->hdrs = ac__calloc(p->max_headers, sizeof(*p->hdrs));
        if (p->hdrs == NULL) return fail(p, 500);
        p->hdrs_cap = p->max_headers;
      }
      p->hdrs[p->nhdrs].name = (uint32_t)ac__dynbuf_len(&p->head);
      p->hdrs[p->nhdrs].value_len = 0;
      p->nhdrs++;
    } else if (kind == ELEM_VALUE) {
      p->hdrs[p->nhdrs - 1].value = (uint32_t)ac__dynbuf_len(&p->head);
    } else {
      p->url = (uint32_t)ac__dynbuf_len(&p->head);
    }
    p->last = kind;
  }
  rc = ac__dynbuf_add(&p->head, at, len);
  if (rc != 0) return fail_rc(p, rc);
  return 0;
}

static int on_url(http_parser *hp, const char *at, size_t len) {
  return append(hp->data, ELEM_URL, at, len);
}

/* Fields after the head are the trailers of a chunked body. They are
 * discarded (RFC 9112 7.1.2 allows it): kept, they would be header entries
 * that no on_headers_complete ever closes, with stale offsets (the fuzzer
 * found exactly that). http-parser still bounds their size. */
static int on_header_field(http_parser *hp, const char *at, size_t len) {
  struct ac__reqparse *p = hp->data;
  if (p->headers_done) return 0;
  return append(p, ELEM_NAME, at, len);
}

static int on_header_value(http_parser *hp, const char *at, size_t len) {
  struct ac__reqparse *p = hp->data;
  if (p->headers_done) return 0;
  /* A header without a value ("X:\r\n") never calls this: its value stays
   * the empty string that append() set up with the name. */
  return append(p, ELEM_VALUE, at, len);
}

static size_t count_headers(const struct ac__reqparse *p, const char *name) {
  size_t i, n = 0;
  const char *head = ac__dynbuf_ptr(&p->head);
  for (i = 0; i < p->nhdrs; i++) n += strcasecmp(head + p->hdrs[i].name, name) == 0;
  return n;
}

static int on_headers_complete(http_parser *hp) {
  struct ac__reqparse *p = hp->data;
  const char *expect;
  size_t nhost;
  int rc = close_elem(p);

  if (rc != 0) return fail_rc(p, rc);
  if (p->url_len == 0) return fail(p, 400);
  /* RFC 9112 2.3: a server answers a major version it does not speak with
   * 505 rather than guessing at the framing of HTTP/2 or HTTP/9 bytes. */
  if (hp->http_major != 1) return fail(p, 505);
  /* RFC 9112 3.2: an HTTP/1.1 request without Host, and any request with
   * more than one, gets 400 (two Hosts make the target ambiguous, which is
   * what request smuggling through a proxy relies on). */
  nhost = count_headers(p, "Host");
  if (nhost > 1 || (nhost == 0 && hp->http_minor >= 1)) return fail(p, 400);
  /* Refuse a declared body over the cap before reading it. */
  if ((hp->flags & F_CONTENTLENGTH) && hp->content_length > p->max_body) return fail(p, 413);
  p->headers_done = 1;
  expect = ac__reqparse_header(p, "Expect");
  if (expect != NULL) {
    if (strcasecmp(expect, "100-continue") != 0) return fail(p, 417);
    p->expect_continue = hp->http_minor >= 1;
  }
  return 0;
}

static int on_body(http_parser *hp, const char *at, size_t len) {
  struct ac__reqparse *p = hp->data;
  int rc = ac__dynbuf_add(&p->body, at, len);
  if (rc != 0) return fail(p, rc == AC_ENOMEM ? 500 : 413);
  return 0;
}

static int on_message_complete(http_parser *hp) {
  struct ac__reqparse *p = hp->data;
  p->done = 1;
  p->keep_alive = (unsigned)http_should_keep_alive(hp);
  http_parser_pause(hp, 1);
  return 0;
}

static const http_parser_settings settings = {
  .on_url = on_url,
  .on_header_field = on_header_field,
  .on_header_value = on_header_value,
  .on_headers_complete = on_headers_complete,
  .on_body = on_body,
  .on_message_complete = on_message_complete,
};

void ac__reqparse_init(struct ac__reqparse *p, size_t max_head, size_t max_headers,
                       size_t max_body) {
  memset(p, 0, sizeof(*p));
  p->max_head = max_head;
  p->max_headers = max_headers;
  p->max_body = max_body;
  ac__dynbuf_init(&p->head, max_head + HEAD_SLACK(p));
  ac__dynbuf_init(&p->body, max_body);
  ac__reqparse_reset(p);
}

void ac__reqparse_free(struct ac__reqparse *p) {
  ac__dynbuf_free(&p->head);
  ac__free(p->hdrs);
  ac__dynbuf_free(&p->body);
  p->hdrs = NULL;
}

/* Bodies above this are not kept for the next request of a connection: an
 * idle keep-alive connection should not hold a megabyte. */
#define BODY_KEEP_MAX (64 * 1024)

void ac__reqparse_reset(struct ac__reqparse *p) {
  if (p->body.allc > BODY_KEEP_MAX) ac__dynbuf_free(&p->body);
  ac__dynbuf_reset(&p->body);
  ac__dynbuf_reset(&p->head);
  http_parser_init(&p->hp, HTTP_REQUEST);
  p->hp.data = p;
  p->head_bytes = 0;
  p->nhdrs = 0;
  p->last = ELEM_NONE;
  p->url = 0;
  p->url_len = 0;
  p->nbytes = 0;
  p->error_status = 0;
  p->started = 0;
  p->headers_done = 0;
  p->done = 0;
  p->keep_alive = 0;
  p->expect_continue = 0;
  p->upgrade = 0;
}

enum ac__parse_status ac__reqparse_feed(struct ac__reqparse *p, const char *data, size_t len,
                                        size_t *consumed) {
  size_t n;
  enum http_errno e;

  *consumed = 0;
  if (p->done) return AC__PARSE_DONE;
  if (p->error_status != 0) return AC__PARSE_ERROR;
  if (len == 0) return AC__PARSE_MORE; /* 0 would mean EOF to http-parser */
  p->started = 1;
  n = http_parser_execute(&p->hp, &settings, data, len);
  *consumed = n;
  p->nbytes += n;
  e = HTTP_PARSER_ERRNO(&p->hp);
  if (p->error_status != 0) return AC__PARSE_ERROR;
  if (p->done) {
    /* An Upgrade (or CONNECT) request: we answer it as a plain request and
     * close the connection after, since what follows is not HTTP. */
    if (p->hp.upgrade) {
      p->upgrade = 1;
      p->keep_alive = 0;
    }
    return AC__PARSE_DONE;
  }
  if (e == HPE_OK && p->hp.upgrade) {
    /* http-parser stops at the end of an Upgrade head without calling
     * on_message_complete when there is no body. */
    p->done = 1;
    p->upgrade = 1;
    p->keep_alive = 0;
    return AC__PARSE_DONE;
  }
  if (e == HPE_OK) return AC__PARSE_MORE;
  if (p->error_status == 0) p->error_status = e == HPE_HEADER_OVERFLOW ? 431 : 400;
  return AC__PARSE_ERROR;
}

const char *ac__reqparse_header(const struct ac__reqparse *p, const char *name) {
  const char *head = ac__dynbuf_ptr(&p->head);
  size_t i;
  for (i = 0; i < p->nhdrs; i++)
    if (strcasecmp(head + p->hdrs[i].name, name) == 0) return head + p->hdrs[i].value;
  return NULL;
}

void ac__reqparse_split_url(struct ac__reqparse *p, const char **path, const char **query) {
  char *url = ac__dynbuf_ptr(&p->head) + p->url;
  char *q = memchr(url, '?', p->url_len);
  char *frag = memchr(url, '#', p->url_len);

  if (frag != NULL && (q == NULL || frag < q)) {
    *frag = '\0';
    q = NULL;
  } else if (frag != NULL) {
    *frag = '\0';
  }
  *path = url;
  if (q != NULL) {
    *q = '\0';
    *query = q + 1;
  } else {
    *query = url + strlen(url); /* "" */
  }
}

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

int ac_server_url_decode(const char *src, size_t len, char *dst, int plus_is_space) {
  size_t i, o = 0;
  if (src == NULL || dst == NULL) return AC_EINVAL;
  for (i = 0; i < len; i++) {
    char ch = src[i];
    if (ch == '%') {
      int hi, lo;
      if (len - i < 3) return AC_EPARSE;
      hi = hexval((unsigned char)src[i + 1]);
      lo = hexval((unsigned char)src[i + 2]);
      if (hi < 0 || lo < 0) return AC_EPARSE;
      dst[o++] = (char)(hi * 16 + lo);
      i += 2;
    } else if (ch == '+' && plus_is_space) {
      dst[o++] = ' ';
    } else {
      dst[o++] = ch;
    }
  }
  dst[o] = '\0';
  return o > (size_t)INT32_MAX ? AC_ETOOLARGE : (int)o;
}
