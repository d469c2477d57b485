/*
 * The native HTTP/1.1 path (src/client/h1/h1.h) where it differs from libcurl's
 * inner workings: a pooled connection closed under a request, interim 1xx
 * heads, bodies that end with the connection, chunked bodies with
 * extensions and trailers, bytes past a response, a redirect handed over
 * to libcurl, a name with several addresses, garbage. A scripted server (a
 * thread, raw sockets) answers each request with the next step of its
 * script. The same requests also run through a libcurl-only session where
 * the answer must be the same.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http_testlib.h"
#include "runner.h"

/* ANSWER_RESET: the bytes, then a reset (SO_LINGER 0) instead of a close.
 * ANSWER_ENDLESS: the bytes, then body bytes (chunks if the head says
 * chunked) until the client closes or the server stops. */
enum step_kind { ANSWER, ANSWER_CLOSE, ANSWER_RESET, ANSWER_ENDLESS, CLOSE_UNANSWERED };

struct step {
  enum step_kind kind;
  const char *bytes;   /* "%d" is replaced by the server's port */
};

#define MAX_CONNS 16

struct conn_arg;

struct script_srv {
  int fd, port;
  pthread_mutex_t lock;
  pthread_t threads[MAX_CONNS];
  struct conn_arg *conns;
  pthread_t thread;
  const struct step *steps;
  size_t nsteps, next;
  _Atomic int accepted;
  _Atomic int stop;
  char requests[32768];  /* every request head received, in order */
  size_t req_len;
};

/* Read one request head (and a Content-Length body): 1, or 0 at EOF. */
static int read_head(struct script_srv *s, int fd) {
  char buf[8192];
  size_t n = 0;
  long clen = 0;
  while (n < sizeof(buf) - 1) {
    struct pollfd p = {fd, POLLIN, 0};
    ssize_t r;
    if (s->stop) return 0;
    if (poll(&p, 1, 50) <= 0) continue;
    r = recv(fd, buf + n, 1, 0);
    if (r <= 0) return 0;
    n++;
    if (n >= 4 && memcmp(buf + n - 4, "\r\n\r\n", 4) == 0) break;
  }
  buf[n] = '\0';
  pthread_mutex_lock(&s->lock);
  if (s->req_len + n < sizeof(s->requests)) {
    memcpy(s->requests + s->req_len, buf, n + 1);
    s->req_len += n;
  }
  pthread_mutex_unlock(&s->lock);
  {
    const char *cl = strstr(buf, "Content-Length: ");
    if (cl != NULL) clen = atol(cl + 16);
  }
  while (clen-- > 0 && recv(fd, buf, 1, 0) == 1) {
  }
  return 1;
}

/* bytes with "%d" replaced by the port. */
static void fill_port(char *out, size_t size, const char *bytes, int port) {
  const char *d = strstr(bytes, "%d");
  if (d == NULL) {
    snprintf(out, size, "%s", bytes);
    return;
  }
  snprintf(out, size, "%.*s%d%s", (int)(d - bytes), bytes, port, d + 2);
}

struct conn_arg {
  struct script_srv *s;
  int fd;
};

static void send_endless(struct script_srv *s, int fd, int chunked) {
  char piece[4096 + 16]; /* one per connection: two may send at once */
  size_t n = 0;
  if (chunked) n = (size_t)snprintf(piece, sizeof(piece), "1000\r\n");
  memset(piece + n, 'x', 4096);
  n += 4096;
  if (chunked) memcpy(piece + n, "\r\n", 2), n += 2;
  size_t off = 0; /* a partial send goes on where it stopped: chunks stay framed */
  while (!s->stop) {
    struct pollfd p = {fd, POLLOUT, 0};
    ssize_t w;
    if (poll(&p, 1, 50) <= 0) continue;
    w = send(fd, piece + off, n - off, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w < 0 && errno != EAGAIN) break;
    if (w > 0) off = (off + (size_t)w) % n;
  }
}

/* One connection: its requests take the script's next steps, whichever
 * connection they come on (a client may hold several). */
static void *conn_main(void *arg) {
  struct conn_arg *ca = arg;
  struct script_srv *s = ca->s;
  for (;;) {
    const struct step *st;
    char out[2048];
    if (!read_head(s, ca->fd)) break;
    pthread_mutex_lock(&s->lock);
    st = s->next < s->nsteps ? &s->steps[s->next++] : NULL;
    pthread_mutex_unlock(&s->lock);
    if (st == NULL || st->kind == CLOSE_UNANSWERED) break;
    fill_port(out, sizeof(out), st->bytes, s->port);
    ASSERT_EQ(send(ca->fd, out, strlen(out), MSG_NOSIGNAL), (ssize_t)strlen(out));
    if (st->kind == ANSWER_RESET) {
      struct linger l = {1, 0};
      ASSERT_EQ(setsockopt(ca->fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l)), 0);
    }
    if (st->kind == ANSWER_ENDLESS) {
      send_endless(s, ca->fd, strstr(out, "chunked") != NULL);
      break;
    }
    if (st->kind == ANSWER_CLOSE || st->kind == ANSWER_RESET) break;
  }
  close(ca->fd);
  return NULL;
}

static void *script_main(void *arg) {
  struct script_srv *s = arg;
  while (!s->stop) {
    struct pollfd p = {s->fd, POLLIN, 0};
    int c, i;
    if (poll(&p, 1, 50) <= 0) continue;
    c = accept(s->fd, NULL, NULL);
    if (c < 0) continue;
    i = s->accepted;
    ASSERT(i < MAX_CONNS);
    s->conns[i].s = s;
    s->conns[i].fd = c;
    s->accepted = i + 1; /* counted before it can answer anything */
    ASSERT_EQ(pthread_create(&s->threads[i], NULL, conn_main, &s->conns[i]), 0);
  }
  for (int i = 0; i < s->accepted; i++) ASSERT_EQ(pthread_join(s->threads[i], NULL), 0);
  return NULL;
}

static void script_start(struct script_srv *s, const struct step *steps, size_t n) {
  memset(s, 0, sizeof(*s));
  pthread_mutex_init(&s->lock, NULL);
  s->conns = calloc(MAX_CONNS, sizeof(*s->conns));
  ASSERT_NOT_NULL(s->conns);
  s->steps = steps;
  s->nsteps = n;
  s->fd = ht_listen_loopback(16, &s->port);
  ASSERT_EQ(pthread_create(&s->thread, NULL, script_main, s), 0);
}

static void script_stop(struct script_srv *s) {
  s->stop = 1;
  ASSERT_EQ(pthread_join(s->thread, NULL), 0);
  close(s->fd);
  free(s->conns);
  pthread_mutex_destroy(&s->lock);
}

struct nt {
  struct script_srv srv;
  int native;            /* requests may take the native path */
  char url[256];
};

static ac_session_t *open_session(struct nt *t) {
  ac_session_opts_t so;
  ac_session_t *s = NULL;
  ac_session_opts_init(&so);
  so.native_http1 = t->native;
  ASSERT_OK(ac_session_new(ac_task_loop(ac_task_current()), &so, &s));
  return s;
}

static ac_response_t *get(ac_session_t *s, const char *url, int want, ac_http_error_t *err) {
  ac_request_opts_t o;
  ac_response_t *r = NULL;
  ac_request_opts_init(&o);
  o.url = url;
  o.timeout_ms = 10000;
  ASSERT_ERR(ac_session_request(s, &o, &r, err), want);
  return r;
}

static ac_response_t *get_opts(ac_session_t *s, const ac_request_opts_t *o, int want,
                               ac_http_error_t *err) {
  ac_response_t *r = NULL;
  ASSERT_ERR(ac_session_request(s, o, &r, err), want);
  return r;
}

static const char *body_of(ac_response_t *r) { return ac_response_text(r); }

/* A failure has the same AC_E* code on both paths (the callers check it); a
 * CURLcode only where libcurl ran the request, 0 on the native path. */
static void check_curl_code(const struct nt *t, const ac_http_error_t *err) {
  if (t->native)
    ASSERT_EQ(err->curl_code, 0);
  else
    ASSERT_NE(err->curl_code, 0);
}

/* ------------------------------------------------ a stale pooled connection */

static const struct step stale_steps[] = {
    {ANSWER, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none"},
    /* The server drops the kept-alive connection as the next request comes
     * (its keep-alive timeout): no byte of an answer. */
    {CLOSE_UNANSWERED, NULL},
    {ANSWER, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\ntwo"},
    /* A fresh connection closed unanswered is an error, not retried. */
    {ANSWER_CLOSE, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nthree"},
    {CLOSE_UNANSWERED, NULL},
};

static int stale_main(void *arg, void **result) {
  struct nt *t = arg;
  ac_session_t *s = open_session(t);
  ac_http_error_t err;
  ac_response_t *r;
  (void)result;
  ht_url(t->url, sizeof(t->url), t->srv.port, "/x");
  r = get(s, t->url, 0, &err);
  ASSERT_STR_EQ(body_of(r), "one");
  ac_response_free(r);
  r = get(s, t->url, 0, &err); /* sent on the pooled connection, then again */
  ASSERT_STR_EQ(body_of(r), "two");
  ac_response_free(r);
  ASSERT_EQ(t->srv.accepted, 2);
  r = get(s, t->url, 0, &err);
  ASSERT_STR_EQ(body_of(r), "three");
  ac_response_free(r);
  r = get(s, t->url, AC_ECONNRESET, &err); /* after "Connection: close", a new connection */
  ASSERT_NULL(r);
  check_curl_code(t, &err);
  ASSERT_EQ(t->srv.accepted, 3);
  ASSERT_OK(ac_session_free(s));
  return 0;
}

static void run_both(ac_task_fn fn, const struct step *steps, size_t n) {
  /* Registered again as http.curl.* with ACRAWL_HTTP_NATIVE=0: then both runs
   * go through libcurl, and t.native says so to the checks that differ. */
  const char *env = getenv("ACRAWL_HTTP_NATIVE");
  int forced_off = env != NULL && strcmp(env, "0") == 0;
  int native;
  for (native = 1; native >= 0; native--) {
    struct nt t;
    memset(&t, 0, sizeof(t));
    t.native = native && !forced_off;
    script_start(&t.srv, steps, n);
    ht_run(fn, &t);
    script_stop(&t.srv);
  }
}

TEST_IMPL(http_native_stale_connection_retried_once) {
  run_both(stale_main, stale_steps, sizeof(stale_steps) / sizeof(stale_steps[0]));
}

/* ------------------------------------------------------- odd responses */

static const struct step odd_steps[] = {
    /* An interim head before the real one. */
    {ANSWER, "HTTP/1.1 103 Early Hints\r\nLink: </style.css>\r\n\r\n"
             "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Final: yes\r\n\r\nhello"},
    /* Chunked, with a chunk extension and a trailer. */
    {ANSWER, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
             "5\r\nhello\r\n6;note=x\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n"},
    /* HTTP/1.0 without a length: the body ends with the connection. */
    {ANSWER_CLOSE, "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil close"},
    /* Bytes past the response: the connection is not used again. */
    {ANSWER, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA"},
    {ANSWER, "HTTP/1.1 204 No Content\r\n\r\n"},
    /* Two Content-Encoding lines are one list: "bogus, identity" is refused
     * (the last line alone would pass). */
    {ANSWER, "HTTP/1.1 200 OK\r\nContent-Encoding: bogus\r\nContent-Encoding: identity\r\n"
             "Content-Length: 2\r\n\r\nok"},
    {ANSWER_CLOSE, "HTTP/1.1 abc\r\n\r\n"},
    /* A reset after half the body is a reset, not a short body (libuv
     * reports the hang-up after a partial read as EOF). */
    {ANSWER_RESET, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf"},
};

static int odd_main(void *arg, void **result) {
  struct nt *t = arg;
  ac_session_t *s = open_session(t);
  ac_http_error_t err;
  ac_response_t *r;
  (void)result;
  ht_url(t->url, sizeof(t->url), t->srv.port, "/odd");
  r = get(s, t->url, 0, &err);
  ASSERT_EQ(ac_response_status(r), 200);
  ASSERT_STR_EQ(ac_response_header(r, "x-final"), "yes");
  ASSERT_NULL(ac_response_header(r, "link")); /* only the final head's headers */
  ASSERT_STR_EQ(body_of(r), "hello");
  ac_response_free(r);
  r = get(s, t->url, 0, &err);
  ASSERT_STR_EQ(body_of(r), "hello world");
  ac_response_free(r);
  r = get(s, t->url, 0, &err);
  ASSERT_STR_EQ(body_of(r), "until close");
  ASSERT_EQ(ac_response_http_version(r), 10);
  ac_response_free(r);
  ASSERT_EQ(t->srv.accepted, 1);
  r = get(s, t->url, 0, &err);
  ASSERT_STR_EQ(body_of(r), "ok");
  ac_response_free(r);
  r = get(s, t->url, 0, &err);
  ASSERT_EQ(ac_response_status(r), 204);
  ASSERT_STR_EQ(body_of(r), "");
  ac_response_free(r);
  ASSERT_EQ(t->srv.accepted, 3); /* after the extra bytes: a new connection */
  r = get(s, t->url, AC_EPROTO, &err);
  ASSERT_NULL(r);
  check_curl_code(t, &err);
  /* Both say which failure; only ours can also name the coding (libcurl 7.88
   * lists the ones it knows instead). */
  ASSERT_NOT_NULL(strstr(err.message, "content encoding"));
  if (t->native) ASSERT_NOT_NULL(strstr(err.message, "bogus"));
  r = get(s, t->url, AC_EPROTO, &err);
  ASSERT_NULL(r);
  check_curl_code(t, &err);
  ASSERT(err.message[0] != '\0');
  r = get(s, t->url, AC_ECONNRESET, &err);
  ASSERT_NULL(r);
  check_curl_code(t, &err);
  ASSERT_OK(ac_session_free(s));
  return 0;
}

TEST_IMPL(http_native_odd_responses) {
  run_both(odd_main, odd_steps, sizeof(odd_steps) / sizeof(odd_steps[0]));
}

/* ------------------------------------- a redirect the native path hands over */

static const struct step handover_steps[] = {
    /* User info in the target: the native path never sends credentials, so
     * libcurl takes the rest of the request (and sends them, Basic). */
    {ANSWER, "HTTP/1.1 302 Found\r\nLocation: http://u:p@127.0.0.1:%d/final\r\n"
             "Content-Length: 0\r\n\r\n"},
    {ANSWER, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfinal"},
    /* A relative Location followed natively, then a 303 turning POST into GET. */
    {ANSWER, "HTTP/1.1 307 Temporary\r\nLocation: ../b/next?q=1\r\nContent-Length: 3\r\n\r\nabc"},
    {ANSWER, "HTTP/1.1 303 See Other\r\nLocation: /done\r\nContent-Length: 0\r\n\r\n"},
    {ANSWER, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ndone"},
    /* Handed over mid-request, from the caller's options: a 307 keeps the
     * form POST, a 302 makes it a GET without a body. */
    {ANSWER, "HTTP/1.1 307 Temporary\r\nLocation: http://u:p@127.0.0.1:%d/kept\r\n"
             "Content-Length: 0\r\n\r\n"},
    {ANSWER, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nkept"},
    {ANSWER, "HTTP/1.1 302 Found\r\nLocation: http://u:p@127.0.0.1:%d/got\r\n"
             "Content-Length: 0\r\n\r\n"},
    {ANSWER, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\ngot"},
    /* max_redirects counts the redirects of both paths: the third fails. */
    {ANSWER, "HTTP/1.1 302 Found\r\nLocation: /m2\r\nContent-Length: 0\r\n\r\n"},
    {ANSWER, "HTTP/1.1 302 Found\r\nLocation: http://u:p@127.0.0.1:%d/m3\r\n"
             "Content-Length: 0\r\n\r\n"},
    {ANSWER, "HTTP/1.1 302 Found\r\nLocation: /m4\r\nContent-Length: 0\r\n\r\n"},
};

static int handover_main(void *arg, void **result) {
  struct nt *t = arg;
  ac_session_t *s = open_session(t);
  ac_http_error_t err;
  ac_response_t *r = NULL;
  ac_http_timings_t tm;
  ac_request_opts_t o;
  char want[256], names[200][24]; /* room for any size_t: -Wformat-truncation */
  ac_http_kv_t many[200];
  ac_http_kv_t form[] = {{"a", "1"}};
  const char *req;
  size_t i;
  (void)result;
  /* More headers than any fixed table would hold go over with the hand-over. */
  ac_request_opts_init(&o);
  ht_url(t->url, sizeof(t->url), t->srv.port, "/start");
  o.url = t->url;
  o.headers = many;
  o.nheaders = sizeof(many) / sizeof(many[0]);
  for (i = 0; i < o.nheaders; i++) {
    snprintf(names[i], sizeof(names[i]), "X-H%zu", i);
    many[i].key = names[i];
    many[i].value = "v";
  }
  ASSERT_OK(ac_session_request(s, &o, &r, &err));
  ASSERT_STR_EQ(body_of(r), "final");
  snprintf(want, sizeof(want), "http://u:p@127.0.0.1:%d/final", t->srv.port);
  ASSERT_STR_EQ(ac_response_url(r), want);
  ac_response_timings(r, &tm);
  ASSERT_EQ(tm.redirects, 1);
  ac_response_free(r);
  ASSERT_NOT_NULL(strstr(t->srv.requests, "Authorization: Basic dTpw")); /* u:p */
  ASSERT_NOT_NULL(strstr(strstr(t->srv.requests, "GET /final"), "X-H199: v\r\n"));

  ac_request_opts_init(&o);
  ht_url(t->url, sizeof(t->url), t->srv.port, "/a/first");
  o.url = t->url;
  o.method = "POST";
  o.body_kind = AC_BODY_BYTES;
  o.body = "data";
  o.body_len = 4;
  ASSERT_OK(ac_session_request(s, &o, &r, &err));
  ASSERT_STR_EQ(body_of(r), "done");
  ac_response_timings(r, &tm);
  ASSERT_EQ(tm.redirects, 2);
  ac_response_free(r);
  /* 307 kept POST and its body; 303 made it a GET without one. */
  ASSERT_NOT_NULL(strstr(t->srv.requests, "POST /b/next?q=1 HTTP/1.1"));
  ASSERT_NOT_NULL(strstr(t->srv.requests, "GET /done HTTP/1.1"));

  ac_request_opts_init(&o);
  o.url = ht_url(t->url, sizeof(t->url), t->srv.port, "/form");
  o.method = "POST";
  o.body_kind = AC_BODY_FORM;
  o.fields = form;
  o.nfields = 1;
  ASSERT_OK(ac_session_request(s, &o, &r, &err));
  ASSERT_STR_EQ(body_of(r), "kept");
  ac_response_free(r);
  req = strstr(t->srv.requests, "POST /kept HTTP/1.1");
  ASSERT_NOT_NULL(req);
  ASSERT_NOT_NULL(strstr(req, "Content-Type: application/x-www-form-urlencoded\r\n"));
  ASSERT_NOT_NULL(strstr(req, "Content-Length: 3\r\n")); /* a=1 */
  ASSERT_NOT_NULL(strstr(req, "Authorization: Basic dTpw"));
  o.url = ht_url(t->url, sizeof(t->url), t->srv.port, "/post");
  ASSERT_OK(ac_session_request(s, &o, &r, &err));
  ASSERT_STR_EQ(body_of(r), "got");
  ac_response_free(r);
  req = strstr(t->srv.requests, "GET /got HTTP/1.1");
  ASSERT_NOT_NULL(req);
  if (t->native) { /* the body's headers went with the body */
    const char *end = strstr(req, "\r\n\r\n"), *ct = strstr(req, "Content-");
    ASSERT(ct == NULL || ct > end);
  }

  ac_request_opts_init(&o);
  o.url = ht_url(t->url, sizeof(t->url), t->srv.port, "/m1");
  o.max_redirects = 2;
  ASSERT_NULL(get_opts(s, &o, AC_EREDIRECT, &err));
  ASSERT_NE(err.curl_code, 0); /* libcurl failed it, on either path */
  ASSERT_NOT_NULL(strstr(t->srv.requests, "GET /m3 HTTP/1.1"));
  ASSERT_NULL(strstr(t->srv.requests, "GET /m4"));
  ASSERT_OK(ac_session_free(s));
  return 0;
}

TEST_IMPL(http_native_redirects_and_hand_over) {
  run_both(handover_main, handover_steps, sizeof(handover_steps) / sizeof(handover_steps[0]));
}

/* -------------------------------------------------- a name, not an address */

static const struct step name_steps[] = {
    {ANSWER, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nname"},
    {ANSWER, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nname"},
};

static int name_main(void *arg, void **result) {
  struct nt *t = arg;
  ac_session_t *s = open_session(t);
  ac_http_error_t err;
  ac_response_t *r;
  (void)result;
  /* "localhost" may resolve to ::1 first, where nothing listens: the next
   * address is tried. Twice: the second comes from the cache or the pool. */
  snprintf(t->url, sizeof(t->url), "http://localhost:%d/n", t->srv.port);
  r = get(s, t->url, 0, &err);
  ASSERT_STR_EQ(body_of(r), "name");
  ac_response_free(r);
  r = get(s, t->url, 0, &err);
  ASSERT_STR_EQ(body_of(r), "name");
  ac_response_free(r);
  ASSERT_OK(ac_session_free(s));
  return 0;
}

TEST_IMPL(http_native_host_name_addresses) {
  run_both(name_main, name_steps, sizeof(name_steps) / sizeof(name_steps[0]));
}

/* ------------------------------------- credentials and other hosts */

/* Two servers; each answer is formatted once both ports are known. */
struct two {
  struct script_srv a, b;
  struct step a_steps[5], b_steps[2];
  char text[7][256];
  int native;
};

static const char *fmt_ports(char *out, const char *fmt, int a, int b) {
  /* "%A" and "%B": the ports of the two servers */
  const char *p;
  size_t n = 0;
  for (p = fmt; *p != '\0' && n < 250; p++) {
    if (p[0] == '%' && (p[1] == 'A' || p[1] == 'B')) {
      n += (size_t)snprintf(out + n, 256 - n, "%d", p[1] == 'A' ? a : b);
      p++;
    } else {
      out[n++] = *p;
    }
  }
  out[n] = '\0';
  return out;
}

static int creds_main(void *arg, void **result) {
  struct two *t = arg;
  ac_session_t *s;
  ac_session_opts_t so;
  ac_http_error_t err;
  ac_response_t *r = NULL;
  ac_request_opts_t o;
  ac_http_kv_t hdrs[] = {{"Authorization", "Bearer sekrit-a"},
                         {"Cookie", "sid=sekrit-c"},
                         {"X-Other", "kept"},
                         {"Host", "vhost.test"}};
  ac_http_kv_t defaults[] = {{"Cookie", "dflt=sekrit-d"}};
  char url[256], want[64];
  const char *back, *there;
  (void)result;
  ac_session_opts_init(&so);
  so.native_http1 = t->native;
  so.headers = defaults;
  so.nheaders = 1;
  ASSERT_OK(ac_session_new(ac_task_loop(ac_task_current()), &so, &s));
  ac_request_opts_init(&o);
  o.headers = hdrs;
  o.nheaders = sizeof(hdrs) / sizeof(hdrs[0]);
  o.timeout_ms = 10000;

  /* A -> B (another port) -> A: B gets neither secret; back home, A gets
   * them again (libcurl compares each hop with the first URL). */
  o.url = ht_url(url, sizeof(url), t->a.port, "/start");
  ASSERT_OK(ac_session_request(s, &o, &r, &err));
  ASSERT_STR_EQ(body_of(r), "home");
  ac_response_free(r);
  ASSERT_NOT_NULL(strstr(t->b.requests, "GET /b HTTP/1.1"));
  ASSERT_NOT_NULL(strstr(t->b.requests, "X-Other: kept"));
  ASSERT_NULL(strstr(t->b.requests, "sekrit"));
  /* The caller's Host goes to the first host name, whatever the port. */
  ASSERT_NOT_NULL(strstr(t->b.requests, "Host: vhost.test\r\n"));
  back = strstr(t->a.requests, "GET /back HTTP/1.1");
  ASSERT_NOT_NULL(back);
  ASSERT_NOT_NULL(strstr(back, "Authorization: Bearer sekrit-a"));
  ASSERT_NOT_NULL(strstr(back, "sekrit-c"));
  ASSERT_NOT_NULL(strstr(back, "Host: vhost.test\r\n"));

  /* Same port, another host name: another host. */
  o.url = ht_url(url, sizeof(url), t->a.port, "/to-name");
  ASSERT_OK(ac_session_request(s, &o, &r, &err));
  ASSERT_STR_EQ(body_of(r), "named");
  ac_response_free(r);
  there = strstr(t->a.requests, "GET /named HTTP/1.1");
  ASSERT_NOT_NULL(there);
  ASSERT_NULL(strstr(there, "sekrit"));
  ASSERT_NOT_NULL(strstr(there, "X-Other: kept"));
  /* Another host name gets its own Host line. */
  ASSERT_NULL(strstr(there, "vhost.test"));
  snprintf(want, sizeof(want), "Host: localhost:%d\r\n", t->a.port);
  ASSERT_NOT_NULL(strstr(there, want));

  /* To B with user info: libcurl takes over there (natively), as a request
   * of its own whose first URL is B's: the secrets must not go with it. */
  o.url = ht_url(url, sizeof(url), t->a.port, "/to-userinfo");
  ASSERT_OK(ac_session_request(s, &o, &r, &err));
  ASSERT_STR_EQ(body_of(r), "user");
  ac_response_free(r);
  there = strstr(t->b.requests, "GET /u HTTP/1.1");
  ASSERT_NOT_NULL(there);
  ASSERT_NULL(strstr(there, "sekrit"));
  ASSERT_NOT_NULL(strstr(there, "X-Other: kept"));
  ASSERT_OK(ac_session_free(s));
  return 0;
}

TEST_IMPL(http_native_redirect_drops_credentials_elsewhere) {
  const char *env = getenv("ACRAWL_HTTP_NATIVE");
  int forced_off = env != NULL && strcmp(env, "0") == 0;
  static const char *const a_text[] = {
      "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:%B/b\r\nContent-Length: 0\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nhome",
      "HTTP/1.1 302 Found\r\nLocation: http://localhost:%A/named\r\nContent-Length: 0\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nnamed",
      "HTTP/1.1 302 Found\r\nLocation: http://u:p@127.0.0.1:%B/u\r\nContent-Length: 0\r\n\r\n"};
  static const char *const b_text[] = {
      "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:%A/back\r\nContent-Length: 0\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nuser"};
  int native;
  for (native = 1; native >= 0; native--) {
    struct two *t = calloc(1, sizeof(*t));
    size_t i;
    ASSERT_NOT_NULL(t);
    t->native = native && !forced_off;
    script_start(&t->a, t->a_steps, 5);
    script_start(&t->b, t->b_steps, 2);
    /* Filled before any request: the servers read a step only to answer one. */
    for (i = 0; i < 5; i++)
      t->a_steps[i] = (struct step){ANSWER, fmt_ports(t->text[i], a_text[i], t->a.port, t->b.port)};
    for (i = 0; i < 2; i++)
      t->b_steps[i] = (struct step){ANSWER, fmt_ports(t->text[5 + i], b_text[i], t->a.port, t->b.port)};
    ht_run(creds_main, t);
    script_stop(&t->a);
    script_stop(&t->b);
    free(t);
  }
}

/* ------------------------------------------ a redirect's body without end */

static const struct step endless_steps[] = {
    /* A short one is read, and its connection kept. */
    {ANSWER, "HTTP/1.1 302 Found\r\nLocation: /final\r\nContent-Length: 3\r\n\r\nabc"},
    {ANSWER, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfinal"},
    /* Its connection closes anyway: nothing of the body is worth reading. */
    {ANSWER_ENDLESS, "HTTP/1.1 302 Found\r\nLocation: /final\r\nConnection: close\r\n\r\n"},
    {ANSWER, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfinal"},
    /* Announced over the body cap: fails, as libcurl's max file size. */
    {ANSWER_ENDLESS, "HTTP/1.1 302 Found\r\nLocation: /final\r\nContent-Length: 1000000000000\r\n\r\n"},
    /* Natively only (libcurl 7.88 reads a chunked one to its end, which
     * never comes): dropped after a few chunks, the connection closed. */
    {ANSWER_ENDLESS, "HTTP/1.1 302 Found\r\nLocation: /final\r\nTransfer-Encoding: chunked\r\n\r\n"},
    {ANSWER, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfinal"},
    /* Under the body cap but too long to drain: not read either. */
    {ANSWER_ENDLESS, "HTTP/1.1 302 Found\r\nLocation: /final\r\nContent-Length: 900000\r\n\r\n"},
    {ANSWER, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfinal"},
};

static int endless_main(void *arg, void **result) {
  struct nt *t = arg;
  ac_session_t *s = open_session(t);
  ac_http_error_t err;
  ac_response_t *r = NULL;
  ac_request_opts_t o;
  int i;
  (void)result;
  ac_request_opts_init(&o);
  o.url = ht_url(t->url, sizeof(t->url), t->srv.port, "/start");
  /* Reading a redirect's body to its end would take the whole timeout. */
  o.timeout_ms = 3000;
  o.max_body = 1000000;
  ASSERT_OK(ac_session_request(s, &o, &r, &err));
  ASSERT_STR_EQ(body_of(r), "final");
  ac_response_free(r);
  ASSERT_EQ(t->srv.accepted, 1); /* the redirect and its target on one connection */
  ASSERT_OK(ac_session_request(s, &o, &r, &err));
  ASSERT_STR_EQ(body_of(r), "final");
  ac_response_free(r);
  ASSERT_ERR(ac_session_request(s, &o, &r, &err), AC_ETOOLARGE);
  ASSERT_NULL(r);
  check_curl_code(t, &err);
  for (i = 0; i < 2 && t->native; i++) {
    ASSERT_OK(ac_session_request(s, &o, &r, &err));
    ASSERT_STR_EQ(body_of(r), "final");
    ac_response_free(r);
  }
  ASSERT_OK(ac_session_free(s));
  return 0;
}

TEST_IMPL(http_native_redirect_body_not_drained_past_cap) {
  run_both(endless_main, endless_steps, sizeof(endless_steps) / sizeof(endless_steps[0]));
}

/* ------------------------------------------------------ status lines */

static const struct step reasonless_steps[] = {
    /* No reason phrase at all (not even the space): valid, reason "". */
    {ANSWER, "HTTP/1.1 200\r\nContent-Length: 2\r\n\r\nok"},
    {ANSWER, "HTTP/1.1 404 \r\nContent-Length: 2\r\n\r\nno"},
};

static int reasonless_main(void *arg, void **result) {
  struct nt *t = arg;
  ac_session_t *s = open_session(t);
  ac_http_error_t err;
  ac_response_t *r;
  (void)result;
  ht_url(t->url, sizeof(t->url), t->srv.port, "/status");
  r = get(s, t->url, 0, &err);
  ASSERT_EQ(ac_response_status(r), 200);
  ASSERT_STR_EQ(ac_response_reason(r), "");
  ASSERT_STR_EQ(body_of(r), "ok");
  ac_response_free(r);
  r = get(s, t->url, 0, &err);
  ASSERT_EQ(ac_response_status(r), 404);
  ASSERT_STR_EQ(ac_response_reason(r), "");
  ASSERT_STR_EQ(body_of(r), "no");
  ac_response_free(r);
  ASSERT_OK(ac_session_free(s));
  return 0;
}

TEST_IMPL(http_native_status_without_reason) {
  run_both(reasonless_main, reasonless_steps, sizeof(reasonless_steps) / sizeof(reasonless_steps[0]));
}

static const struct step digits_steps[] = {
    /* A status is three digits, 100 and up: anything else is a malformed
     * response, on both paths. */
    {ANSWER_CLOSE, "HTTP/1.1 20 OK\r\nContent-Length: 2\r\n\r\nok"},
    {ANSWER_CLOSE, "HTTP/1.1 099 Low\r\nContent-Length: 2\r\n\r\nok"},
    {ANSWER_CLOSE, "HTTP/1.1 2\r\nContent-Length: 2\r\n\r\nok"},
};

static int digits_main(void *arg, void **result) {
  struct nt *t = arg;
  ac_session_t *s = open_session(t);
  ac_http_error_t err;
  int i;
  (void)result;
  ht_url(t->url, sizeof(t->url), t->srv.port, "/status");
  for (i = 0; i < 3; i++) {
    ASSERT_NULL(get(s, t->url, AC_EPROTO, &err));
    check_curl_code(t, &err);
    ASSERT(err.message[0] != '\0');
    if (t->native) ASSERT_NOT_NULL(strstr(err.message, "status code"));
  }
  ASSERT_OK(ac_session_free(s));
  return 0;
}

TEST_IMPL(http_native_status_needs_three_digits) {
  run_both(digits_main, digits_steps, sizeof(digits_steps) / sizeof(digits_steps[0]));
}

/* ------------------------------------------------ Location oddities */

static const struct step location_steps[] = {
    /* An empty Location is no redirect: the 302 is the response. */
    {ANSWER, "HTTP/1.1 302 Found\r\nLocation: \r\nContent-Length: 2\r\n\r\nhi"},
    /* Two of them: the first one counts, as libcurl reads them. */
    {ANSWER, "HTTP/1.1 302 Found\r\nLocation: /first\r\nLocation: /second\r\n"
             "Content-Length: 0\r\n\r\n"},
    {ANSWER, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst"},
};

static int location_main(void *arg, void **result) {
  struct nt *t = arg;
  ac_session_t *s = open_session(t);
  ac_http_error_t err;
  ac_response_t *r;
  ac_http_timings_t tm;
  (void)result;
  ht_url(t->url, sizeof(t->url), t->srv.port, "/loc");
  r = get(s, t->url, 0, &err);
  ASSERT_EQ(ac_response_status(r), 302);
  ASSERT_STR_EQ(body_of(r), "hi");
  ASSERT_STR_EQ(ac_response_url(r), t->url);
  ac_response_timings(r, &tm);
  ASSERT_EQ(tm.redirects, 0);
  ac_response_free(r);
  r = get(s, t->url, 0, &err);
  ASSERT_STR_EQ(body_of(r), "first");
  ac_response_free(r);
  ASSERT_NOT_NULL(strstr(t->srv.requests, "GET /first HTTP/1.1"));
  ASSERT_OK(ac_session_free(s));
  return 0;
}

TEST_IMPL(http_native_empty_or_repeated_location) {
  run_both(location_main, location_steps, sizeof(location_steps) / sizeof(location_steps[0]));
}

/* ---------------------------------------------------------- chunk sizes */

static const struct step chunk_steps[] = {
    /* More hex digits than any size fits in. */
    {ANSWER_CLOSE, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                   "ffffffffffffffffff\r\nxx\r\n0\r\n\r\n"},
};

static int chunk_main(void *arg, void **result) {
  struct nt *t = arg;
  ac_session_t *s = open_session(t);
  ac_http_error_t err;
  ac_response_t *r = NULL;
  ac_request_opts_t o;
  (void)result;
  ac_request_opts_init(&o);
  o.url = ht_url(t->url, sizeof(t->url), t->srv.port, "/chunk");
  o.timeout_ms = 10000;
  /* Both name the chunk size; libcurl's path classifies its receive error
   * as a reset, ours as the malformed response it is. */
  ASSERT_NE(ac_session_request(s, &o, &r, &err), 0);
  ASSERT_NULL(r);
  ASSERT_NOT_NULL(strstr(err.message, "chunk"));
  check_curl_code(t, &err);
  if (t->native) ASSERT_EQ(err.code, AC_EPROTO);
  ASSERT_OK(ac_session_free(s));
  return 0;
}

TEST_IMPL(http_native_chunk_size_overflow) {
  run_both(chunk_main, chunk_steps, sizeof(chunk_steps) / sizeof(chunk_steps[0]));
}

/* ------------------------------------------------ an announced body */

static const struct step head_steps[] = {
    {ANSWER, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"},
};

static int head_main(void *arg, void **result) {
  struct nt *t = arg;
  ac_session_t *s = open_session(t);
  ac_http_error_t err;
  ac_response_t *r = NULL;
  ac_request_opts_t o;
  size_t len = 1;
  (void)result;
  ac_request_opts_init(&o);
  o.url = ht_url(t->url, sizeof(t->url), t->srv.port, "/head");
  o.method = "HEAD";
  o.timeout_ms = 10000;
  /* Room reserved for the 5 bytes announced: the empty body is still "". */
  ASSERT_OK(ac_session_request(s, &o, &r, &err));
  ASSERT_EQ(ac_response_status(r), 200);
  ASSERT_STR_EQ(ac_response_text(r), "");
  ASSERT_EQ(((const char *)ac_response_body(r, &len))[0], '\0');
  ASSERT_UEQ(len, 0);
  ac_response_free(r);
  ASSERT_OK(ac_session_free(s));
  return 0;
}

TEST_IMPL(http_native_head_body_is_empty_string) {
  run_both(head_main, head_steps, sizeof(head_steps) / sizeof(head_steps[0]));
}

/* ------------------------------------------- bodies a status rules out */

static const struct step nobody_steps[] = {
    /* No body, whatever Content-Length says: the next answer follows on the
     * same connection. */
    {ANSWER, "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n"},
    {ANSWER, "HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\nETag: \"x\"\r\n\r\n"},
    {ANSWER, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"},
};

static int nobody_main(void *arg, void **result) {
  struct nt *t = arg;
  ac_session_t *s = open_session(t);
  ac_http_error_t err;
  ac_response_t *r;
  (void)result;
  ht_url(t->url, sizeof(t->url), t->srv.port, "/nobody");
  r = get(s, t->url, 0, &err);
  ASSERT_EQ(ac_response_status(r), 204);
  ASSERT_STR_EQ(body_of(r), "");
  ac_response_free(r);
  r = get(s, t->url, 0, &err);
  ASSERT_EQ(ac_response_status(r), 304);
  ASSERT_STR_EQ(body_of(r), "");
  ac_response_free(r);
  r = get(s, t->url, 0, &err);
  ASSERT_STR_EQ(body_of(r), "ok");
  ac_response_free(r);
  ASSERT_EQ(t->srv.accepted, 1);
  ASSERT_OK(ac_session_free(s));
  return 0;
}

TEST_IMPL(http_native_204_304_have_no_body) {
  run_both(nobody_main, nobody_steps, sizeof(nobody_steps) / sizeof(nobody_steps[0]));
}

/* ------------------------------------------------------------- trailers */

static const struct step trailer_steps[] = {
    {ANSWER, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
             "2\r\nok\r\n0\r\nX-T1: one\r\nX-T2: two\r\n\r\n"},
    {ANSWER, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
             "2\r\nok\r\n0\r\nX-Only: yes\r\n\r\n"},
};

static int trailer_main(void *arg, void **result) {
  struct nt *t = arg;
  ac_session_t *s = open_session(t);
  ac_http_error_t err;
  ac_response_t *r;
  (void)result;
  ht_url(t->url, sizeof(t->url), t->srv.port, "/trailers");
  /* Stored with the headers, each of them, as libcurl hands them over. */
  r = get(s, t->url, 0, &err);
  ASSERT_STR_EQ(body_of(r), "ok");
  ASSERT_STR_EQ(ac_response_header(r, "x-t1"), "one");
  ASSERT_STR_EQ(ac_response_header(r, "x-t2"), "two");
  ac_response_free(r);
  r = get(s, t->url, 0, &err);
  ASSERT_STR_EQ(ac_response_header(r, "x-only"), "yes");
  ac_response_free(r);
  ASSERT_EQ(t->srv.accepted, 1);
  ASSERT_OK(ac_session_free(s));
  return 0;
}

TEST_IMPL(http_native_trailers_stored) {
  run_both(trailer_main, trailer_steps, sizeof(trailer_steps) / sizeof(trailer_steps[0]));
}

/* -------------------------------------- chunked with a Content-Length */

static const struct step te_cl_steps[] = {
    /* Transfer-Encoding wins over Content-Length (RFC 9112 6.3). */
    {ANSWER, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 100\r\n\r\n"
             "2\r\nok\r\n0\r\n\r\n"},
    {ANSWER, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nnext"},
};

static int te_cl_main(void *arg, void **result) {
  struct nt *t = arg;
  ac_session_t *s = open_session(t);
  ac_http_error_t err;
  ac_response_t *r;
  (void)result;
  ht_url(t->url, sizeof(t->url), t->srv.port, "/te-cl");
  r = get(s, t->url, 0, &err);
  ASSERT_STR_EQ(body_of(r), "ok");
  ac_response_free(r);
  r = get(s, t->url, 0, &err);
  ASSERT_STR_EQ(body_of(r), "next");
  ac_response_free(r);
  /* Such a connection is not trusted with another request. */
  if (t->native) ASSERT_EQ(t->srv.accepted, 2);
  ASSERT_OK(ac_session_free(s));
  return 0;
}

TEST_IMPL(http_native_chunked_beats_content_length) {
  run_both(te_cl_main, te_cl_steps, sizeof(te_cl_steps) / sizeof(te_cl_steps[0]));
}

/* ---------------------------------------------------- folded header lines */

static const struct step fold_steps[] = {
    /* obs-fold (RFC 9112 5.2): continuation lines join the value, their
     * leading blanks standing for the fold. */
    {ANSWER, "HTTP/1.1 200 OK\r\nX-Fold: a\r\n   b\r\n\tc: d\r\nX-Next: n\r\n"
             "Content-Length: 2\r\n\r\nok"},
};

static int fold_main(void *arg, void **result) {
  struct nt *t = arg;
  ac_session_t *s = open_session(t);
  ac_http_error_t err;
  ac_response_t *r;
  const char *name, *value;
  (void)result;
  ht_url(t->url, sizeof(t->url), t->srv.port, "/fold");
  r = get(s, t->url, 0, &err);
  ASSERT_STR_EQ(ac_response_header(r, "x-fold"), "a   b\tc: d");
  ASSERT_STR_EQ(ac_response_header(r, "x-next"), "n");
  ASSERT_UEQ(ac_response_header_count(r), 3); /* no header made of a continuation */
  ASSERT_OK(ac_response_header_at(r, 1, &name, &value));
  ASSERT_STR_EQ(name, "X-Next");
  ac_response_free(r);
  ASSERT_OK(ac_session_free(s));
  return 0;
}

TEST_IMPL(http_native_folded_header_lines) {
  run_both(fold_main, fold_steps, sizeof(fold_steps) / sizeof(fold_steps[0]));
}

/* ------------------------------------------------------ transfer codings */

/* "world hello world", zlib-wrapped deflate: 22 bytes, none of them NUL
 * (the script sends C strings). */
#define DEFLATED "\x78\x9c\x2b\xcf\x2f\xca\x49\x51\xc8\x48\xcd\xc9\xc9\x57\x28\x07\xb1\x01\x3c\x12\x06\xa5"

static const struct step tcoding_steps[] = {
    /* A transfer coding besides chunked is undone like a content coding. */
    {ANSWER, "HTTP/1.1 200 OK\r\nTransfer-Encoding: deflate, chunked\r\n\r\n"
             "16\r\n" DEFLATED "\r\n0\r\n\r\n"},
    /* And also when the caller asked for no decompression. */
    {ANSWER, "HTTP/1.1 200 OK\r\nTransfer-Encoding: deflate, chunked\r\n\r\n"
             "16\r\n" DEFLATED "\r\n0\r\n\r\n"},
};

static int tcoding_main(void *arg, void **result) {
  struct nt *t = arg;
  ac_session_t *s = open_session(t);
  ac_http_error_t err;
  ac_response_t *r = NULL;
  ac_request_opts_t o;
  (void)result;
  ac_request_opts_init(&o);
  o.url = ht_url(t->url, sizeof(t->url), t->srv.port, "/te");
  o.timeout_ms = 10000;
  ASSERT_OK(ac_session_request(s, &o, &r, &err));
  ASSERT_STR_EQ(body_of(r), "world hello world");
  ac_response_free(r);
  o.decompress = 0;
  ASSERT_OK(ac_session_request(s, &o, &r, &err));
  ASSERT_STR_EQ(body_of(r), "world hello world");
  ac_response_free(r);
  ASSERT_OK(ac_session_free(s));
  return 0;
}

TEST_IMPL(http_native_transfer_codings_undone) {
  run_both(tcoding_main, tcoding_steps, sizeof(tcoding_steps) / sizeof(tcoding_steps[0]));
}
