/*
 * The native path's connections: the idle pool (most recently used first),
 * connecting to each address of a name in turn, writing the request.
 */
#include <string.h>

#include "client/h1/internal.h"

/* ----------------------------------------------------------- connections */

static void on_conn_closed(uv_handle_t *h) {
  struct ac__h1_conn *c = h->data;
  ac__loop_handle_closed(c->loop);
  ac__free(c);
}

void ac__h1_conn_close(struct ac__h1_conn *c) {
  if (c->closing) return;
  c->closing = 1;
  if (!ac__list_unlinked(&c->node)) {
    ac__list_remove(&c->node);
    ac__list_init(&c->node);
    ac__h1_sess(c->session)->nidle--;
  }
  if (c->req != NULL) c->req->conn = NULL;
  c->req = NULL;
  ac__loop_close(c->loop, (uv_handle_t *)&c->tcp, on_conn_closed);
}

/* The request is over with this connection: back to the pool when its
 * response was complete and the server keeps it, else closed. */
void ac__h1_conn_release(struct ac__h1_conn *c, int reusable) {
  ac_session_t *s = c->session;
  struct ac__h1_session *hs = ac__h1_sess(s);
  c->req = NULL;
  if (!reusable || c->writing || s->freeing || hs->nidle >= s->max_idle ||
      s->ncalls > s->max_idle) {
    ac__h1_conn_close(c);
    return;
  }
  c->reused = 1;
  uv_unref((uv_handle_t *)&c->tcp); /* an idle connection keeps no loop alive */
  ac__list_insert_tail(&hs->idle, &c->node);
  hs->nidle++;
}

/* The most recently used idle connection to host:port (its buffers are
 * likely still in cache), or NULL. */
static struct ac__h1_conn *conn_take(ac_session_t *s, const char *host, unsigned port) {
  struct ac__h1_session *hs = ac__h1_sess(s);
  struct ac__list *it;
  for (it = hs->idle.prev; it != &hs->idle; it = it->prev) {
    struct ac__h1_conn *c = ac__container_of(it, struct ac__h1_conn, node);
    if (c->port == port && strcmp(c->host, host) == 0) {
      ac__list_remove(&c->node);
      ac__list_init(&c->node);
      hs->nidle--;
      uv_ref((uv_handle_t *)&c->tcp);
      return c;
    }
  }
  return NULL;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  struct ac__h1_conn *c = h->data;
  struct ac__h1_session *hs = ac__h1_sess(c->session);
  (void)suggested;
  if (hs->buf == NULL) hs->buf = ac__malloc(READ_BUF_SIZE);
  /* Out of memory: libuv reports UV_ENOBUFS to the read callback. */
  *buf = uv_buf_init(hs->buf, hs->buf != NULL ? READ_BUF_SIZE : 0);
}


/* ------------------------------------------------------------ sending */

static void on_write(uv_write_t *w, int status) {
  struct ac__h1_conn *c = w->data;
  c->writing = 0;
  if (status == UV_ECANCELED || c->closing || c->req == NULL) return;
  if (status < 0) (void)ac__h1_conn_lost(c->req, status); /* nothing received yet: never 1 */
}

void ac__h1_reset_parser(struct ac__h1_req *rq) {
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
  char *head = ac__dynbuf_ptr(&rq->head.buf);
  size_t len = ac__dynbuf_len(&rq->head.buf);
  uv_buf_t b = uv_buf_init(head, (unsigned)len);
  int n;

  ac__h1_reset_parser(rq);
  n = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
  if (n == UV_EAGAIN) n = 0;
  if (n < 0) {
    (void)ac__h1_conn_lost(rq, n);
    return;
  }
  if ((size_t)n < len) {
    int rc;
    b = uv_buf_init(head + n, (unsigned)(len - (size_t)n));
    c->write_req.data = c;
    rc = uv_write(&c->write_req, (uv_stream_t *)&c->tcp, &b, 1, on_write);
    if (rc != 0) {
      (void)ac__h1_conn_lost(rq, rc);
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
    ac__h1_conn_close(c);
    if (++rq->addr_i < rq->addrs.n) { /* the next address of the name */
      ac__h1_send(rq);
      return;
    }
    ac__h1_fail(rq, status == UV_ETIMEDOUT ? AC_ETIMEDOUT : status == UV_ECONNRESET ? AC_ECONNRESET
                : status == UV_ECONNREFUSED ? AC_ECONNREFUSED : status,
            "cannot connect to %s port %u: %s", rq->url.host, rq->url.port, uv_strerror(status));
    return;
  }
  c->connected = 1;
  rq->t_connect = now_ns();
  ac__timer_stop(c->loop, &rq->connect_timer);
  rc = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, ac__h1_on_read);
  if (rc != 0) {
    ac__h1_fail(rq, rc, "cannot read the connection: %s", uv_strerror(rc));
    return;
  }
  write_request(rq);
}

/* A failure while starting that the caller must hear of later: never
 * inside ac_session_send. */
void ac__h1_fail_later(struct ac__h1_req *rq, int status) {
  rq->fail_status = status;
  ac__timer_start(rq->call->session->loop, &rq->fail_timer, 0);
}

static void connect_new(struct ac__h1_req *rq) {
  ac_session_t *s = rq->call->session;
  size_t hlen = strlen(rq->url.host);
  struct ac__h1_conn *c = ac__calloc(1, sizeof(*c) + hlen + 1);
  int rc;

  if (c == NULL) {
    ac__h1_fail_later(rq, AC_ENOMEM);
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
    ac__h1_fail_later(rq, rc);
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
    ac__h1_conn_close(c);
    ac__h1_fail_later(rq, rc);
  }
}

/* Send rq: on an idle connection to its host if there is one, else on a new
 * connection to its current address. */
void ac__h1_send(struct ac__h1_req *rq) {
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

