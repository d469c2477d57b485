/*
 * The server: the listening socket, accepting under a cap, the routes, and
 * the graceful close.
 *
 * Past max_connections the connection callback simply does not accept:
 * libuv then stops polling the listening socket until uv_accept is called,
 * so pending clients wait in the kernel's backlog (backpressure) instead of
 * costing memory here. A closing connection accepts the one waiting. So
 * that clients holding idle keep-alive connections cannot keep a newcomer
 * out until their idle timeout, one of them (the idle longest) is closed for
 * each newcomer that finds the server full, as nginx reuses its keep-alive
 * connections when it runs out.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "server/internal.h"

#define SERVER_MAGIC 0x53525652u /* "SRVR" */

void ac_server_opts_init(ac_server_opts_t *o) {
  if (o == NULL) return;
  memset(o, 0, sizeof(*o));
  o->max_head_size = 16 * 1024;
  o->max_headers = 100;
  o->max_body_size = 1024 * 1024;
  o->read_buffer_size = 16 * 1024;
  o->head_timeout_ms = 10000;
  o->body_timeout_ms = 30000;
  o->idle_timeout_ms = 15000;
  o->write_timeout_ms = 30000;
  o->max_connections = 1024;
  o->max_tracked_clients = 1024;
  o->stack_size = 0;
  o->backlog = 511;
}

int ac_server_new(ac_loop_t *loop, const ac_server_opts_t *opts, ac_server_t **out) {
  ac_server_t *s;
  if (out != NULL) *out = NULL;
  if (loop == NULL || out == NULL) return AC_EINVAL;
  s = ac__calloc(1, sizeof(*s));
  if (s == NULL) return AC_ENOMEM;
  if (opts != NULL)
    s->opts = *opts;
  else
    ac_server_opts_init(&s->opts);
  if (s->opts.max_head_size < 64 || s->opts.max_head_size > (1u << 24) ||
      s->opts.max_headers == 0 || s->opts.max_headers > 10000 ||
      s->opts.read_buffer_size < 512 || s->opts.max_connections == 0 ||
      s->opts.max_body_size > UINT32_MAX) {
    ac__free(s);
    return AC_EINVAL;
  }
  if (s->opts.backlog <= 0) s->opts.backlog = 511;
  s->magic = SERVER_MAGIC;
  s->loop = loop;
  ac__list_init(&s->conns);
  ac__list_init(&s->idle_conns);
  ac__list_init(&s->drain_waiters);
  s->routes_tail = &s->routes;
  snprintf(s->other.addr, sizeof(s->other.addr), "other");
  s->clients_cap = s->opts.max_tracked_clients;
  if (s->clients_cap > 0) {
    /* Open addressing at most half full: twice the slots. */
    s->clients = ac__calloc(s->clients_cap * 2, sizeof(*s->clients));
    if (s->clients == NULL) {
      ac__free(s);
      return AC_ENOMEM;
    }
  }
  *out = s;
  return 0;
}

/* ------------------------------------------------------------ routes */

/* A pattern: '/'-separated; a {name} segment (name without '/', '{', '}');
 * a '*' only at the very end. */
static int pattern_ok(const char *p) {
  int nparams = 0;
  if (p[0] != '/') return 0;
  for (; *p != '\0'; p++) {
    if (*p == '*') return p[1] == '\0';
    if (*p == '}') return 0;
    if (*p == '{') {
      const char *end = strchr(p, '}');
      const char *slash = strchr(p, '/');
      if (end == NULL || end == p + 1 || (slash != NULL && slash < end)) return 0;
      if (memchr(p + 1, '{', (size_t)(end - p - 1)) != NULL) return 0;
      if (p[-1] != '/' || (end[1] != '/' && end[1] != '\0')) return 0;
      if (++nparams > AC__SRV_MAX_PARAMS) return 0;
      p = end;
    }
  }
  return 1;
}

int ac_server_route(ac_server_t *s, const char *method, const char *pattern,
                    ac_server_handler_fn handler, void *userdata) {
  struct ac__srv_route *r;
  if (s == NULL || s->magic != SERVER_MAGIC || pattern == NULL || handler == NULL ||
      !pattern_ok(pattern) || (method != NULL && !method[0]))
    return AC_EINVAL;
  r = ac__calloc(1, sizeof(*r));
  if (r == NULL) return AC_ENOMEM;
  r->pattern = ac__strdup(pattern);
  r->method = method != NULL ? ac__strdup(method) : NULL;
  if (r->pattern == NULL || (method != NULL && r->method == NULL)) {
    ac__free(r->pattern);
    ac__free(r->method);
    ac__free(r);
    return AC_ENOMEM;
  }
  r->handler = handler;
  r->userdata = userdata;
  *s->routes_tail = r;
  s->routes_tail = &r->next;
  s->nroutes++;
  return 0;
}

/* Match path against pattern; on success the parameters are decoded into
 * the connection's scratch buffer and recorded in req. Returns 1, 0 (no
 * match), or a negative error. */
static int match(const struct ac__srv_route *r, const char *path, ac_server_req_t *req) {
  const char *p = r->pattern, *s = path;
  const char *names[AC__SRV_MAX_PARAMS + 1], *vals[AC__SRV_MAX_PARAMS + 1];
  size_t lens[AC__SRV_MAX_PARAMS + 1], nlens[AC__SRV_MAX_PARAMS + 1], n = 0, i, need = 0, off;
  struct ac__conn *c = req->conn;
  int rc;

  while (*p != '\0') {
    if (p[0] == '*' && p[1] == '\0') {
      names[n] = "*";
      nlens[n] = 1;
      vals[n] = s;
      lens[n] = strlen(s);
      n++;
      s += strlen(s);
      break;
    }
    if (*p == '{') {
      const char *end = strchr(p, '}');
      size_t vlen = strcspn(s, "/");
      if (vlen == 0) return 0;
      names[n] = p + 1;
      nlens[n] = (size_t)(end - p - 1);
      vals[n] = s;
      lens[n] = vlen;
      n++;
      p = end + 1;
      s += vlen;
      continue;
    }
    if (*p != *s) return 0;
    p++;
    s++;
  }
  if (*s != '\0') return 0;
  /* Names and decoded values, NUL-terminated, in the scratch buffer. */
  for (i = 0; i < n; i++) need += nlens[i] + lens[i] + 2;
  ac__dynbuf_reset(&c->scratch);
  if (need > 0) {
    rc = ac__dynbuf_reserve(&c->scratch, need);
    if (rc != 0) return rc;
  }
  for (i = 0, off = 0; i < n; i++) {
    char *name = ac__dynbuf_ptr(&c->scratch) + off, *val = name + nlens[i] + 1;
    memcpy(name, names[i], nlens[i]);
    name[nlens[i]] = '\0';
    rc = ac_server_url_decode(vals[i], lens[i], val, 0);
    if (rc < 0) return rc;
    off += nlens[i] + 1 + (size_t)rc + 1;
    req->param_names[i] = name;
    req->param_values[i] = val;
  }
  req->nparams = n;
  return 1;
}

static int method_matches(const struct ac__srv_route *r, const char *method, int head_as_get) {
  if (r->method == NULL) return 1;
  if (strcmp(r->method, method) == 0) return 1;
  return head_as_get && strcmp(r->method, "GET") == 0;
}

int ac__server_dispatch(ac_server_t *s, ac_server_req_t *req, ac_server_resp_t *resp) {
  struct ac__srv_route *r, *found = NULL;
  char allow[256];
  size_t alen = 0;
  int pass, rc, path_matched = 0;

  /* First the routes of this method; then, for HEAD, the GET routes. */
  for (pass = 0; pass < 2 && found == NULL; pass++) {
    if (pass == 1 && strcmp(req->method, "HEAD") != 0) break;
    for (r = s->routes; r != NULL; r = r->next) {
      if (!method_matches(r, req->method, pass == 1)) continue;
      rc = match(r, req->path, req);
      if (rc < 0) return ac__resp_finish(resp, ac_server_resp_text(resp, 400, "Bad Request\n"));
      if (rc == 1) {
        found = r;
        break;
      }
    }
  }
  if (found == NULL) {
    allow[0] = '\0';
    for (r = s->routes; r != NULL; r = r->next) {
      if (r->method == NULL || match(r, req->path, req) != 1) continue;
      path_matched = 1;
      if (alen + strlen(r->method) + 3 < sizeof(allow) &&
          strstr(allow, r->method) == NULL) /* a crude dedup, enough for Allow */
        alen += (size_t)snprintf(allow + alen, sizeof(allow) - alen, "%s%s",
                                 alen > 0 ? ", " : "", r->method);
    }
    req->nparams = 0;
    if (path_matched) {
      s->stats.method_not_allowed++;
      ac_server_resp_header(resp, "Allow", allow);
      rc = ac_server_resp_text(resp, 405, "Method Not Allowed\n");
    } else {
      s->stats.not_found++;
      rc = ac_server_resp_text(resp, 404, "Not Found\n");
    }
    return ac__resp_finish(resp, rc);
  }
  found->requests++;
  rc = found->handler(req, resp, found->userdata);
  return ac__resp_finish(resp, rc);
}

/* ------------------------------------------------------------ listening */

static void close_listener(ac_server_t *s);

static void on_connection(uv_stream_t *listener, int status) {
  ac_server_t *s = listener->data;
  if (status != 0 || s->closing) return;
  if (s->stats.connections_now >= s->opts.max_connections) {
    /* Not accepting makes libuv stop polling the socket: backpressure,
     * unless an idle connection can make room. */
    s->accept_pending = 1;
    ac__server_make_room(s);
    return;
  }
  /* Out of memory leaves the connection in the kernel: retried when another
   * connection closes. */
  if (ac__conn_start(s) != 0) s->accept_pending = 1;
}

/* A write to a socket the client has closed raises SIGPIPE, which kills the
 * process by default; a server must see EPIPE instead. A program that
 * installed its own handler keeps it. */
static void ignore_sigpipe(void) {
  struct sigaction sa;
  if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL) {
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
  }
}

int ac_server_listen(ac_server_t *s, const char *host, int port) {
  struct sockaddr_storage ss;
  int rc, len = (int)sizeof(ss);

  if (s == NULL || s->magic != SERVER_MAGIC || host == NULL || port < 0 || port > 65535)
    return AC_EINVAL;
  /* listener_open without listening: a failed listen whose socket is still
   * being closed; the loop must run before trying again. */
  if (s->listening || s->closing || s->listener_open) return AC_EBUSY;
  ignore_sigpipe();
  if (uv_ip4_addr(host, port, (struct sockaddr_in *)&ss) != 0 &&
      uv_ip6_addr(host, port, (struct sockaddr_in6 *)&ss) != 0)
    return AC_EINVAL;
  rc = uv_tcp_init(ac_loop_uv(s->loop), &s->listener);
  if (rc != 0) return rc;
  s->listener.data = s;
  s->listener_open = 1;
  rc = uv_tcp_bind(&s->listener, (const struct sockaddr *)&ss, 0);
  if (rc == 0) rc = uv_listen((uv_stream_t *)&s->listener, s->opts.backlog, on_connection);
  if (rc == 0) rc = uv_tcp_getsockname(&s->listener, (struct sockaddr *)&ss, &len);
  if (rc != 0) {
    close_listener(s);
    return rc;
  }
  s->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                            : ((struct sockaddr_in *)&ss)->sin_port);
  s->listening = 1;
  return 0;
}

int ac_server_port(const ac_server_t *s) { return s != NULL ? s->port : 0; }

static void server_release(ac_server_t *s) {
  struct ac__srv_route *r = s->routes, *next;
  for (; r != NULL; r = next) {
    next = r->next;
    ac__free(r->method);
    ac__free(r->pattern);
    ac__free(r);
  }
  ac__free(s->clients);
  s->magic = 0;
  ac__free(s);
}

static void on_listener_closed(uv_handle_t *h) {
  ac_server_t *s = h->data;
  ac__loop_handle_closed(s->loop);
  s->listener_open = 0;
  if (s->free_requested) server_release(s);
}

static void close_listener(ac_server_t *s) {
  if (!s->listener_open || uv_is_closing((uv_handle_t *)&s->listener)) return;
  ac__loop_close(s->loop, (uv_handle_t *)&s->listener, on_listener_closed);
}

void ac_server_close(ac_server_t *s) {
  struct ac__list *it, *next;
  if (s == NULL || s->magic != SERVER_MAGIC || s->closing) return;
  s->closing = 1;
  s->listening = 0;
  close_listener(s);
  for (it = s->conns.next; it != &s->conns; it = next) {
    next = it->next;
    ac__conn_wake_idle(ac__container_of(it, struct ac__conn, node));
  }
}

void ac__server_make_room(ac_server_t *s) {
  struct ac__list *n;
  struct ac__conn *c;

  /* One closing connection makes room for one newcomer; the next newcomer
   * finds the server full again and makes its own. */
  if (!s->accept_pending || s->closing || s->shedding > 0 ||
      s->stats.connections_now < s->opts.max_connections)
    return;
  /* The one idle longest whose client is not sending a request right now:
   * closing that one would lose the request. */
  for (n = s->idle_conns.next;; n = n->next) {
    if (n == &s->idle_conns) return;
    c = ac__container_of(n, struct ac__conn, idle_node);
    if (ac__conn_quiet(c)) break;
  }
  ac__list_remove(n);
  c->shed = 1;
  s->shedding++;
  s->stats.connections_shed++;
  /* Silently, as the idle timeout does: the client sent nothing to answer.
   * Its task wakes from the idle wait and ends. */
  ac__conn_kill(c, 0);
}

void ac__server_conn_gone(ac_server_t *s) {
  s->stats.connections_now--;
  if (s->accept_pending && !s->closing) {
    s->accept_pending = 0;
    if (ac__conn_start(s) != 0) s->accept_pending = 1;
  }
  if (s->stats.connections_now == 0) ac__wake_all(&s->drain_waiters, 0);
}

struct drain_wait {
  struct ac__wait w;
  struct ac__timer timer;
};

static void on_grace_over(struct ac__timer *t) {
  struct drain_wait *d = ac__container_of(t, struct drain_wait, timer);
  ac__list_remove(&d->w.node);
  ac__task_wake(d->w.task, AC_ETIMEDOUT);
}

static enum ac__abort_result abort_drain(struct ac__wait *w) {
  struct drain_wait *d = ac__container_of(w, struct drain_wait, w);
  ac__timer_stop(ac_task_loop(w->task), &d->timer);
  ac__list_remove(&w->node);
  return AC__ABORT_NOW;
}

/* Wait until no connection is left, or the time limit. */
static int drain(ac_server_t *s, ac_task_t *self, uint64_t timeout_ms) {
  struct drain_wait d;
  int rc;
  if (s->stats.connections_now == 0) return 0;
  rc = ac__wait_check(self);
  if (rc != 0) return rc;
  memset(&d, 0, sizeof(d));
  d.w.task = self;
  d.w.abort = abort_drain;
  ac__timer_init(&d.timer, on_grace_over);
  ac__list_insert_tail(&s->drain_waiters, &d.w.node);
  if (timeout_ms != AC_NO_TIMEOUT) ac__timer_start(s->loop, &d.timer, timeout_ms);
  rc = ac__task_suspend(&d.w);
  ac__timer_stop(s->loop, &d.timer);
  return rc;
}

int ac_server_shutdown(ac_server_t *s, uint64_t grace_ms) {
  struct ac__list *it;
  int rc;
  ac_task_t *self = ac__task_require(&rc);

  if (self == NULL) return rc;
  if (s == NULL || s->magic != SERVER_MAGIC) return AC_EINVAL;
  ac_server_close(s);
  rc = drain(s, self, grace_ms);
  if (rc != AC_ETIMEDOUT) return rc;
  /* The grace period is over: cancel the handlers still running. */
  for (it = s->conns.next; it != &s->conns; it = it->next) {
    struct ac__conn *c = ac__container_of(it, struct ac__conn, node);
    if (c->task != NULL) ac_task_cancel(c->task);
  }
  rc = drain(s, self, AC_NO_TIMEOUT);
  return rc != 0 ? rc : AC_ETIMEDOUT;
}

int ac_server_free(ac_server_t *s) {
  if (s == NULL || s->magic != SERVER_MAGIC) return AC_EINVAL;
  if (s->stats.connections_now > 0) return AC_EBUSY;
  s->closing = 1;
  s->free_requested = 1;
  close_listener(s);
  if (!s->listener_open) server_release(s);
  return 0;
}

/* ------------------------------------------------------------ misc */

void ac__server_date(ac_server_t *s, const char **line, size_t *len) {
  time_t now = time(NULL);
  if ((uint64_t)now != s->date_sec || s->date[0] == '\0') {
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(s->date, sizeof(s->date), "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
    s->date_sec = (uint64_t)now;
  }
  *line = s->date;
  *len = strlen(s->date);
}

/* ------------------------------------------------------------ requests */

const char *ac_server_req_method(const ac_server_req_t *req) { return req->method; }
const char *ac_server_req_path(const ac_server_req_t *req) { return req->path; }
const char *ac_server_req_query(const ac_server_req_t *req) { return req->query; }
const char *ac_server_req_remote_addr(const ac_server_req_t *req) { return req->conn->addr; }
int ac_server_req_http_minor(const ac_server_req_t *req) {
  return req->conn->parse.hp.http_minor;
}

const char *ac_server_req_param(const ac_server_req_t *req, const char *name) {
  size_t i;
  if (req == NULL || name == NULL) return NULL;
  for (i = 0; i < req->nparams; i++)
    if (strcmp(req->param_names[i], name) == 0) return req->param_values[i];
  return NULL;
}

const char *ac_server_req_header(const ac_server_req_t *req, const char *name) {
  if (req == NULL || name == NULL) return NULL;
  return ac__reqparse_header(&req->conn->parse, name);
}

size_t ac_server_req_header_count(const ac_server_req_t *req) {
  return req->conn->parse.nhdrs;
}

int ac_server_req_header_at(const ac_server_req_t *req, size_t i, const char **name,
                            const char **value) {
  const struct ac__reqparse *p = &req->conn->parse;
  if (i >= p->nhdrs) return AC_EINVAL;
  if (name != NULL) *name = ac__dynbuf_ptr(&p->head) + p->hdrs[i].name;
  if (value != NULL) *value = ac__dynbuf_ptr(&p->head) + p->hdrs[i].value;
  return 0;
}

const void *ac_server_req_body(const ac_server_req_t *req, size_t *len) {
  const struct ac__reqparse *p = &req->conn->parse;
  if (len != NULL) *len = ac__dynbuf_len(&p->body);
  return ac__dynbuf_len(&p->body) != 0 ? (const void *)ac__dynbuf_ptr(&p->body) : (const void *)"";
}

int ac_server_req_query_value(const ac_server_req_t *req, const char *name, char *buf,
                              size_t size, size_t *len) {
  const char *q, *end;
  size_t nlen;
  if (req == NULL || name == NULL || buf == NULL || size == 0) return AC_EINVAL;
  nlen = strlen(name);
  for (q = req->query; *q != '\0'; q = *end == '&' ? end + 1 : end) {
    const char *eq;
    size_t klen;
    end = q + strcspn(q, "&");
    eq = memchr(q, '=', (size_t)(end - q));
    klen = (size_t)((eq != NULL ? eq : end) - q);
    /* Names are compared raw: the usual names need no escaping. */
    if (klen == nlen && memcmp(q, name, nlen) == 0) {
      const char *v = eq != NULL ? eq + 1 : end;
      size_t vlen = (size_t)(end - v);
      int rc;
      if (vlen + 1 > size) {
        /* A decoded value is never longer; decode to see whether it fits. */
        char *tmp = ac__malloc(vlen + 1);
        if (tmp == NULL) return AC_ENOMEM;
        rc = ac_server_url_decode(v, vlen, tmp, 1);
        if (rc >= 0 && (size_t)rc + 1 <= size) memcpy(buf, tmp, (size_t)rc + 1);
        ac__free(tmp);
        if (rc < 0) return rc;
        if ((size_t)rc + 1 > size) return AC_ETOOLARGE;
      } else {
        rc = ac_server_url_decode(v, vlen, buf, 1);
        if (rc < 0) return rc;
      }
      if (len != NULL) *len = (size_t)rc;
      return 0;
    }
  }
  return AC_ENOENT;
}
