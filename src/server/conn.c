/*
 * A connection: one task that reads, parses and answers its requests in order.
 *
 * libuv's read callback only appends to the connection's read buffer (a fixed
 * size: reading stops while it is full) and wakes the task; parsing, routing
 * and handlers run in the task, where awaiting is allowed. Every wait has a
 * deadline: the idle time before a request, the whole head, the whole body.
 *
 * The memory (struct ac__conn) is owned by the pair task + socket: it is freed
 * when the task has finished and libuv has closed the socket, whichever comes
 * last, because a write cancelled by closing calls back into it.
 */
#include <stdio.h>
#include <string.h>
#ifndef _WIN32
#include <sys/socket.h>
#endif
#ifdef __linux__
#include <time.h>
#endif

#include "server/internal.h"

#define LINGER_MS 1000            /* reading what a refused client still sends */
#define LINGER_MAX_BYTES (1u << 20)

enum { PHASE_IDLE, PHASE_HEAD, PHASE_BODY };

/* ------------------------------------------------------------ lifetime */

static void conn_free(struct ac__conn *c) {
  ac_server_t *s = c->server;
  ac__list_remove(&c->node);
  ac__list_remove(&c->idle_node);
  if (c->shed) s->shedding--;
  ac__reqparse_free(&c->parse);
  ac__free(c->in);
  ac__dynbuf_free(&c->hdrs);
  ac__dynbuf_free(&c->scratch);
  ac__free(c);
  ac__server_conn_gone(s);
}

static void on_closed(uv_handle_t *h) {
  struct ac__conn *c = h->data;
  ac__loop_handle_closed(c->server->loop);
  c->handle_closed = 1;
  if (c->task_done) conn_free(c);
}

static void wake_reader(struct ac__conn *c, int status);

void ac__conn_kill(struct ac__conn *c, int reset) {
  if (c->handle_closing) return;
  c->handle_closing = 1;
  c->reading = 0;
  ac__loop_closing_add(c->server->loop);
  /* SO_LINGER 0 then close: the kernel sends RST instead of FIN. */
  if (!reset || uv_tcp_close_reset(&c->tcp, on_closed) != 0)
    uv_close((uv_handle_t *)&c->tcp, on_closed);
  if (c->reader != NULL) wake_reader(c, AC_ECLOSED);
}

/* ----------------------------------------------------- arrival stamps */

#if defined(__linux__) && defined(SO_TIMESTAMPNS)
#define CAN_STAMP 1

static void stamp_enable(struct ac__conn *c) {
  uv_os_fd_t fd;
  int on = 1;
  /* Without it the peek finds no stamp, and the read time stands in. */
  if (uv_fileno((uv_handle_t *)&c->tcp, &fd) == 0)
    (void)setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on));
}

/* The kernel's receive time of the first queued byte, on ac_now_us's clock,
 * or 0. It comes on the wall clock: its age now is moved to the monotonic
 * one (a wall clock set meanwhile could only make it the read time). */
/* The wall clock and ac_now_us read as one instant: the stamp is in wall
 * time and the arrival is wanted in ac_now_us's. A thread preempted between
 * the two reads would shift the arrival by the time it lost, so the wall
 * read is bracketed by two monotonic ones, and the tightest of a few tries
 * is taken at its midpoint. */
static uint64_t wall_and_now(struct timespec *wall) {
  uint64_t best_gap = UINT64_MAX, best_now = 0;
  int i;
  for (i = 0; i < 3 && best_gap > 20; i++) {
    struct timespec w;
    uint64_t before = ac_now_us(), after;
    clock_gettime(CLOCK_REALTIME, &w);
    after = ac_now_us();
    if (after - before < best_gap) {
      best_gap = after - before;
      best_now = before + best_gap / 2;
      *wall = w;
    }
  }
  return best_now;
}

static uint64_t stamp_peek(struct ac__conn *c) {
  union {
    char buf[CMSG_SPACE(sizeof(struct timespec))];
    struct cmsghdr align;
  } ctl;
  char one;
  struct iovec iov = {&one, 1};
  struct msghdr m;
  struct cmsghdr *cm;
  uv_os_fd_t fd;

  if (uv_fileno((uv_handle_t *)&c->tcp, &fd) != 0) return 0;
  memset(&m, 0, sizeof(m));
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  m.msg_control = ctl.buf;
  m.msg_controllen = sizeof(ctl.buf);
  if (recvmsg(fd, &m, MSG_PEEK | MSG_DONTWAIT) <= 0) return 0;
  for (cm = CMSG_FIRSTHDR(&m); cm != NULL; cm = CMSG_NXTHDR(&m, cm)) {
    struct timespec at, wall = {0, 0};
    int64_t age_us;
    uint64_t now;
    if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SO_TIMESTAMPNS) continue;
    memcpy(&at, CMSG_DATA(cm), sizeof(at));
    now = wall_and_now(&wall);
    age_us = ((int64_t)wall.tv_sec - (int64_t)at.tv_sec) * 1000000 +
             ((int64_t)wall.tv_nsec - (int64_t)at.tv_nsec) / 1000;
    if (age_us <= 0 || (uint64_t)age_us > now) return now;
    return now - (uint64_t)age_us;
  }
  return 0;
}
#else
#define CAN_STAMP 0
static void stamp_enable(struct ac__conn *c) { (void)c; }
static uint64_t stamp_peek(struct ac__conn *c) {
  (void)c;
  return 0;
}
#endif

/* ------------------------------------------------------------ reading */

struct read_wait {
  struct ac__wait w;
  struct ac__timer timer;
  struct ac__conn *conn;
};

static void wake_reader(struct ac__conn *c, int status) {
  struct read_wait *rw = ac__container_of(c->reader, struct read_wait, w);
  c->reader = NULL;
  ac__timer_stop(c->server->loop, &rw->timer);
  ac__task_wake(rw->w.task, status);
}

int ac__conn_quiet(struct ac__conn *c) {
#ifndef _WIN32
  uv_os_fd_t fd;
  char one;
  if (uv_fileno((uv_handle_t *)&c->tcp, &fd) == 0 &&
      recv(fd, &one, 1, MSG_PEEK | MSG_DONTWAIT) > 0)
    return 0;
#endif
  return c->in_len == c->in_off;
}

void ac__conn_wake_idle(struct ac__conn *c) {
  if (c->idle && c->reader != NULL) wake_reader(c, AC_ECLOSED);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  struct ac__conn *c = h->data;
  (void)suggested;
  /* Only a read that can start a request is stamped (the task waits for
   * one, and no byte of it is here): the bytes of a request already begun
   * do not move its arrival. */
  c->peek_us = CAN_STAMP && c->idle && c->server->opts.stamp_arrival ? stamp_peek(c) : 0;
  buf->base = c->in + c->in_len;
  buf->len = c->in_cap - c->in_len;
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf) {
  struct ac__conn *c = stream->data;
  (void)buf;
  if (nread > 0) {
    /* Never later than the truth: the kernel's stamp, else now. */
    c->read_us = c->peek_us != 0 ? c->peek_us : ac_now_us();
    c->in_len += (size_t)nread;
  } else if (nread < 0 && nread != UV_ENOBUFS) {
    c->read_status = (int)nread;
  } else if (nread == 0) {
    return; /* EAGAIN: nothing happened */
  }
  /* Bytes (or the end) came: no longer a connection to close for a
   * newcomer, even before its task has run. */
  ac__list_remove(&c->idle_node);
  /* Full (or a read error): stop until the task has made room. */
  if (c->in_len == c->in_cap || c->read_status != 0) {
    uv_read_stop(stream);
    c->reading = 0;
  }
  if (c->reader != NULL) wake_reader(c, 0);
}

static void on_read_deadline(struct ac__timer *t) {
  struct read_wait *rw = ac__container_of(t, struct read_wait, timer);
  rw->conn->reader = NULL;
  ac__task_wake(rw->w.task, AC_ETIMEDOUT);
}

static enum ac__abort_result abort_read(struct ac__wait *w) {
  struct read_wait *rw = ac__container_of(w, struct read_wait, w);
  ac__timer_stop(rw->conn->server->loop, &rw->timer);
  rw->conn->reader = NULL;
  return AC__ABORT_NOW;
}

/* Wait until bytes arrive, EOF or an error (0), the deadline (AC_ETIMEDOUT),
 * a cancellation, or the connection closing (AC_ECLOSED). */
static int wait_data(struct ac__conn *c, uint64_t deadline) {
  struct read_wait rw;
  uint64_t now = ac_loop_now(c->server->loop);
  int rc;

  if (c->handle_closing) return AC_ECLOSED;
  if (c->read_status != 0 || c->in_len > c->in_off) return 0;
  if (!c->reading && c->in_len < c->in_cap) {
    rc = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    if (rc != 0) return rc;
    c->reading = 1;
  }
  if (deadline <= now) return AC_ETIMEDOUT;
  rc = ac__wait_check(c->task);
  if (rc != 0) return rc;
  memset(&rw, 0, sizeof(rw));
  rw.w.task = c->task;
  rw.w.abort = abort_read;
  ac__list_init(&rw.w.node);
  rw.conn = c;
  ac__timer_init(&rw.timer, on_read_deadline);
  if (deadline != UINT64_MAX) ac__timer_start(c->server->loop, &rw.timer, deadline - now);
  c->reader = &rw.w;
  rc = ac__task_suspend(&rw.w);
  c->reader = NULL;
  return rc;
}

/* ------------------------------------------------------------ writing */

struct write_wait {
  struct ac__wait w;
  uv_write_t req;
  struct ac__timer timer;
  struct ac__conn *conn;
};

static void on_written(uv_write_t *req, int status) {
  struct write_wait *ww = req->data;
  ac__timer_stop(ww->conn->server->loop, &ww->timer);
  if (status == UV_ECANCELED) status = ww->w.interrupt != 0 ? ww->w.interrupt : AC_EPIPE;
  ac__task_wake(ww->w.task, status);
}

/* A client that stopped reading: closing cancels the write, and on_written
 * wakes the task with the timeout. */
static void on_write_deadline(struct ac__timer *t) {
  struct write_wait *ww = ac__container_of(t, struct write_wait, timer);
  ww->w.interrupt = AC_ETIMEDOUT;
  ac__conn_kill(ww->conn, 0);
}

static enum ac__abort_result abort_write(struct ac__wait *w) {
  struct write_wait *ww = ac__container_of(w, struct write_wait, w);
  ac__timer_stop(ww->conn->server->loop, &ww->timer);
  /* A write cannot be taken back: closing the socket cancels it, and
   * on_written then wakes the task with the interrupt. */
  ac__conn_kill(ww->conn, 0);
  return AC__ABORT_LATER;
}

int ac__conn_write(struct ac__conn *c, uv_buf_t *bufs, unsigned nbufs) {
  struct write_wait ww;
  int rc;

  /* Skip empty buffers; try the kernel directly first: most responses fit. */
  while (nbufs > 0) {
    if (c->handle_closing) return AC_EPIPE;
    if (bufs[0].len == 0) {
      bufs++;
      nbufs--;
      continue;
    }
    rc = uv_try_write((uv_stream_t *)&c->tcp, bufs, nbufs);
    if (rc == UV_EAGAIN) break;
    if (rc < 0) return rc;
    while (nbufs > 0 && (size_t)rc >= bufs[0].len) {
      rc -= (int)bufs[0].len;
      bufs++;
      nbufs--;
    }
    if (nbufs > 0) {
      bufs[0].base += rc;
      bufs[0].len -= (size_t)rc;
      break; /* the kernel is full: wait for it */
    }
  }
  if (nbufs == 0) return 0;
  rc = ac__wait_check(c->task);
  if (rc != 0) return rc;
  memset(&ww, 0, sizeof(ww));
  ww.w.task = c->task;
  ww.w.abort = abort_write;
  ac__list_init(&ww.w.node);
  ww.conn = c;
  ww.req.data = &ww;
  ac__timer_init(&ww.timer, on_write_deadline);
  rc = uv_write(&ww.req, (uv_stream_t *)&c->tcp, bufs, nbufs, on_written);
  if (rc != 0) return rc;
  ac__timer_start(c->server->loop, &ww.timer, c->server->opts.write_timeout_ms);
  return ac__task_suspend(&ww.w);
}

/* ------------------------------------------------------------ errors */

static void on_shutdown(uv_shutdown_t *req, int status) {
  (void)req;
  (void)status;
}

/* Answer a request the parser refused, then close gracefully: shut our side
 * and read what the client still sends for a while, since closing with
 * unread bytes would send RST and the client could lose the answer. */
static void respond_error(struct ac__conn *c, int status) {
  char msg[256];
  uv_buf_t buf;
  const char *reason = ac__status_reason(status);
  uint64_t deadline;
  size_t discarded = 0;
  int n;

  c->server->stats.bad_requests++;
  if (status == 408) c->server->stats.timeouts++;
  n = snprintf(msg, sizeof(msg),
               "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\n"
               "Content-Length: %zu\r\nConnection: close\r\n\r\n%s\n",
               status, reason, strlen(reason) + 1, reason);
  buf = uv_buf_init(msg, (unsigned)n);
  if (ac__conn_write(c, &buf, 1) != 0 || c->handle_closing) return;
  if (uv_shutdown(&c->shutdown_req, (uv_stream_t *)&c->tcp, on_shutdown) != 0) return;
  deadline = ac_loop_now(c->server->loop) + LINGER_MS;
  for (;;) {
    discarded += c->in_len - c->in_off;
    c->in_off = c->in_len = 0;
    if (c->read_status != 0 || discarded > LINGER_MAX_BYTES) return;
    if (wait_data(c, deadline) != 0) return;
  }
}

/* ------------------------------------------------------------ the task */

/* Read one request. Returns 0 when it is complete, 1 when the connection
 * should close quietly, -1 after an error answer. */
static int read_request(struct ac__conn *c) {
  ac_server_t *s = c->server;
  struct ac__reqparse *p = &c->parse;
  int phase = PHASE_IDLE, rc;
  uint64_t deadline = 0;

  ac__reqparse_reset(p);
  c->idle = 1;
  for (;;) {
    if (c->in_off < c->in_len) {
      size_t n;
      enum ac__parse_status st;
      if (phase == PHASE_IDLE) {
        phase = PHASE_HEAD;
        c->idle = 0;
        c->arrival_us = c->read_us;
        deadline = ac_loop_now(s->loop) + s->opts.head_timeout_ms;
      }
      st = ac__reqparse_feed(p, c->in + c->in_off, c->in_len - c->in_off, &n);
      c->in_off += n;
      if (st == AC__PARSE_ERROR) {
        respond_error(c, p->error_status);
        return -1;
      }
      if (p->headers_done && phase == PHASE_HEAD) {
        phase = PHASE_BODY;
        deadline = ac_loop_now(s->loop) + s->opts.body_timeout_ms;
        if (p->expect_continue && !p->done) {
          char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
          uv_buf_t b = uv_buf_init(cont, sizeof(cont) - 1);
          if (ac__conn_write(c, &b, 1) != 0) return 1;
        }
      }
      if (st == AC__PARSE_DONE) return 0;
    }
    /* The parser took every byte: the buffer is free again. */
    c->in_off = c->in_len = 0;
    if (c->read_status != 0) return 1; /* EOF or error: nobody to answer */
    if (phase == PHASE_IDLE && s->closing) return 1;
    if (phase == PHASE_IDLE) {
      /* A new connection must send its first request within the head
       * deadline, like any request. Between keep-alive requests the idle
       * limit applies instead, and ends silently: a 408 there could cross a
       * request the client is sending at the same moment. */
      deadline = ac_loop_now(s->loop) +
                 (c->nrequests == 0 ? s->opts.head_timeout_ms : s->opts.idle_timeout_ms);
    }
    if (phase == PHASE_IDLE && c->nrequests > 0) {
      /* An idle keep-alive connection: the first to go when a newcomer
       * finds the server full. One waiting for its first request is not:
       * closing it would only swap one waiting client for another. */
      ac__list_insert_tail(&s->idle_conns, &c->idle_node);
      ac__server_make_room(s);
    }
    rc = wait_data(c, deadline);
    ac__list_remove(&c->idle_node);
    if (rc == AC_ETIMEDOUT && (phase != PHASE_IDLE || c->nrequests == 0)) {
      respond_error(c, 408);
      return -1;
    }
    if (rc != 0) return 1;
  }
}

/* Turn an absolute-form target ("http://host/path") into its path. */
static const char *origin_path(const char *target) {
  const char *p;
  if (target[0] == '/') return target;
  p = strstr(target, "://");
  if (p == NULL) return target; /* "*" for OPTIONS, or junk: routes will 404 */
  p = strchr(p + 3, '/');
  return p != NULL ? p : "/";
}

/* Handle the parsed request. Returns 1 to go on with the next one. */
static int handle_request(struct ac__conn *c) {
  ac_server_t *s = c->server;
  struct ac__reqparse *p = &c->parse;
  ac_server_req_t req;
  ac_server_resp_t resp;

  memset(&req, 0, sizeof(req));
  req.conn = c;
  req.method = http_method_str((enum http_method)p->hp.method);
  ac__reqparse_split_url(p, &req.path, &req.query);
  req.path = origin_path(req.path);
  ac__resp_init(&resp, c, p->hp.method == HTTP_HEAD);
  if (!p->keep_alive || s->closing) resp.close_after = 1;
  c->in_flight = 1;
  c->nrequests++;
  ac__stats_request_begin(s, c->client);
  ac__server_dispatch(s, &req, &resp);
  ac__stats_request_end(s, c->client);
  c->in_flight = 0;
  ac__dynbuf_reset(&c->hdrs);
  return !resp.close_after && !resp.killed && resp.error == 0 && !s->closing &&
         !c->handle_closing && !ac_task_cancel_pending(c->task);
}

static int conn_main(void *arg, void **result) {
  struct ac__conn *c = arg;
  (void)result;
  c->task = ac_task_current();
  while (read_request(c) == 0 && handle_request(c)) {
  }
  c->task = NULL;
  c->task_done = 1;
  if (!c->handle_closing) ac__conn_kill(c, 0);
  if (c->handle_closed) conn_free(c);
  return 0;
}

static void on_reject_closed(uv_handle_t *h) {
  ac__loop_handle_closed(h->data);
  ac__free(h);
}

/* Accept one pending connection and start its task. */
int ac__conn_start(ac_server_t *s) {
  struct ac__conn *c;
  struct sockaddr_storage ss;
  int len = (int)sizeof(ss), rc;
  ac_task_opts_t topts = {"http-conn", s->opts.stack_size};
  ac_task_t *task;

  c = ac__calloc(1, sizeof(*c));
  if (c == NULL) return AC_ENOMEM;
  c->in = ac__malloc(s->opts.read_buffer_size);
  if (c->in == NULL) {
    ac__free(c);
    return AC_ENOMEM;
  }
  c->in_cap = s->opts.read_buffer_size;
  c->server = s;
  ac__dynbuf_init(&c->hdrs, s->opts.max_head_size);
  ac__dynbuf_init(&c->scratch, s->opts.max_head_size * 2 + 64);
  ac__list_init(&c->node);
  ac__list_init(&c->idle_node);
  ac__reqparse_init(&c->parse, s->opts.max_head_size, s->opts.max_headers,
                    s->opts.max_body_size);
  uv_tcp_init(ac_loop_uv(s->loop), &c->tcp);
  c->tcp.data = c;
  rc = uv_accept((uv_stream_t *)&s->listener, (uv_stream_t *)&c->tcp);
  if (rc == 0) rc = ac_task_spawn(s->loop, conn_main, c, &topts, &task);
  if (rc != 0) {
    /* The handle is initialised: it must be closed before its memory goes.
     * Its fd (if accepted) is closed with it. */
    uv_tcp_t *h = (uv_tcp_t *)c;
    ac__reqparse_free(&c->parse);
    ac__free(c->in);
    h->data = s->loop;
    ac__loop_close(s->loop, (uv_handle_t *)h, on_reject_closed); /* c begins with its tcp handle */
    return rc;
  }
  ac_task_release(task); /* it runs to its end; conn_main keeps c->task */
  uv_tcp_nodelay(&c->tcp, 1);
  if (s->opts.stamp_arrival) stamp_enable(c);
  if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) == 0) {
    if (ss.ss_family == AF_INET6)
      uv_ip6_name((struct sockaddr_in6 *)&ss, c->addr, sizeof(c->addr));
    else
      uv_ip4_name((struct sockaddr_in *)&ss, c->addr, sizeof(c->addr));
  } else {
    snprintf(c->addr, sizeof(c->addr), "unknown");
  }
  c->client = ac__stats_client(s, c->addr);
  ac__list_insert_tail(&s->conns, &c->node);
  s->stats.connections_total++;
  s->stats.connections_now++;
  return 0;
}

uint64_t ac_server_req_arrival_us(const ac_server_req_t *req) { return req->conn->arrival_us; }
