/*
 * Hostile and unusual requests over raw sockets: malformed request lines,
 * oversized heads and bodies, bad Content-Length, a client that dribbles one
 * byte at a time, pipelining, chunked bodies, the connection cap. The server
 * must answer (400, 408, 413, 431) and go on serving the others.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "acrawl.h"
#include "runner.h"
#include "server_helpers.h"

static int h_ok(ac_server_req_t *req, ac_server_resp_t *resp, void *ud) {
  size_t len;
  char out[64];
  (void)ud;
  ac_server_req_body(req, &len);
  snprintf(out, sizeof(out), "ok %s %zu\n", ac_server_req_path(req), len);
  return ac_server_resp_text(resp, 200, out);
}

static void small_limits(ac_server_opts_t *o) {
  ac_server_opts_init(o);
  o->max_head_size = 1024;
  o->max_body_size = 4096;
  o->head_timeout_ms = 1000;
  o->body_timeout_ms = 1000;
}

/* Send req on a fresh connection; return the status of the answer, which
 * must be followed by EOF. */
static int one_shot(int port, const char *req, size_t len) {
  char buf[8192];
  int err, fd = raw_connect(port);
  raw_send(fd, req, len);
  raw_read_all(fd, buf, sizeof(buf), &err);
  close(fd);
  if (err != 0) fprintf(stderr, "no EOF after: %.60s\n", req);
  ASSERT_EQ(err, 0);
  return resp_status(buf);
}
#define ONE_SHOT(port, s) one_shot((port), (s), strlen(s))

static void hostile_client(struct srv_fixture *fx) {
  char *big;
  size_t i;
  int p = fx->port;

  ASSERT_EQ(ONE_SHOT(p, "GARBAGE\r\n\r\n"), 400);
  ASSERT_EQ(ONE_SHOT(p, "GET /x HTTP/9.9.9\r\n\r\n"), 400);
  ASSERT_EQ(ONE_SHOT(p, "GET  HTTP/1.1\r\n\r\n"), 400);
  ASSERT_EQ(ONE_SHOT(p, "\x01\x02\x03\r\n\r\n"), 400);
  ASSERT_EQ(ONE_SHOT(p, "POST /x HTTP/1.1\r\nContent-Length: abc\r\n\r\n"), 400);
  ASSERT_EQ(ONE_SHOT(p, "POST /x HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd"),
            400);
  ASSERT_EQ(ONE_SHOT(p, "POST /x HTTP/1.1\r\nContent-Length: 5\r\n"
                        "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"), 400);
  ASSERT_EQ(ONE_SHOT(p, "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"), 400);
  ASSERT_EQ(ONE_SHOT(p, "GET /x HTTP/1.1\r\nBad Header\r\n\r\n"), 400);
  /* A body announced over the cap: refused before it is read. */
  ASSERT_EQ(ONE_SHOT(p, "POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n"), 413);
  ASSERT_EQ(ONE_SHOT(p, "GET /x HTTP/1.1\r\nHost: x\r\nExpect: magic\r\n\r\n"), 417);

  /* Oversized heads: a long URL, a long header, too many headers. */
  big = malloc(70000);
  ASSERT_NOT_NULL(big);
  memcpy(big, "GET /", 5);
  memset(big + 5, 'a', 2000);
  strcpy(big + 2005, " HTTP/1.1\r\n\r\n");
  ASSERT_EQ(ONE_SHOT(p, big), 431);
  strcpy(big, "GET /x HTTP/1.1\r\nX-Big: ");
  memset(big + strlen(big), 'b', 60000);
  strcpy(big + 24 + 60000, "\r\n\r\n");
  ASSERT_EQ(ONE_SHOT(p, big), 431);
  strcpy(big, "GET /x HTTP/1.1\r\n");
  for (i = 0; i < 150; i++) strcat(big, "A: b\r\n");
  strcat(big, "\r\n");
  ASSERT_EQ(ONE_SHOT(p, big), 431);

  /* A chunked body over the cap: 413 once it passes it. */
  strcpy(big, "POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
  for (i = 0; i < 6; i++) {
    size_t n = strlen(big);
    memcpy(big + n, "400\r\n", 5);
    memset(big + n + 5, 'c', 1024);
    memcpy(big + n + 5 + 1024, "\r\n", 3);
  }
  strcat(big, "0\r\n\r\n");
  ASSERT_EQ(ONE_SHOT(p, big), 413);
  free(big);

  /* A chunked body under the cap is decoded. */
  {
    char buf[1024];
    int err, fd = raw_connect(p);
    raw_send_str(fd, "POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                     "Connection: close\r\n\r\n"
                     "5\r\nhello\r\n3;ext=1\r\nabc\r\n0\r\nTrailer: x\r\n\r\n");
    raw_read_all(fd, buf, sizeof(buf), &err);
    close(fd);
    ASSERT_EQ(resp_status(buf), 200);
    ASSERT_NOT_NULL(strstr(buf, "ok /c 8\n"));
    ASSERT_NOT_NULL(strstr(buf, "Connection: close\r\n"));
  }
  /* The server is still fine. */
  ASSERT_EQ(ONE_SHOT(p, "GET /fine HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"), 200);
}

TEST_IMPL(server_hostile_requests) {
  struct srv_fixture fx = {0};
  ac_server_opts_t o;
  ac_server_stats_t st;

  small_limits(&o);
  srv_init(&fx, &o);
  ASSERT_OK(ac_server_route(fx.server, NULL, "/*", h_ok, NULL));
  fx.client = hostile_client;
  srv_run(&fx);
  ASSERT_OK(fx.shutdown_rc);
  ac_server_stats(fx.server, &st);
  ASSERT_EQ(st.bad_requests, 15);
  ASSERT_EQ(st.requests_total, 2);
  srv_done(&fx);
}

/* ---------------------------------------------------- Host and version */

static void host_version_client(struct srv_fixture *fx) {
  int p = fx->port;

  ASSERT_EQ(ONE_SHOT(p, "GET /x HTTP/1.1\r\nConnection: close\r\n\r\n"), 400);
  ASSERT_EQ(ONE_SHOT(p, "GET /x HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), 400);
  ASSERT_EQ(ONE_SHOT(p, "GET /x HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n"), 400);
  ASSERT_EQ(ONE_SHOT(p, "GET /x HTTP/9.9\r\nHost: a\r\n\r\n"), 505);
  ASSERT_EQ(ONE_SHOT(p, "GET /x HTTP/2.0\r\nHost: a\r\n\r\n"), 505);
  /* HTTP/1.0 needs no Host; HTTP/1.1 with one is served. */
  ASSERT_EQ(ONE_SHOT(p, "GET /x HTTP/1.0\r\n\r\n"), 200);
  ASSERT_EQ(ONE_SHOT(p, "GET /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"), 200);
}

TEST_IMPL(server_host_and_version_checked) {
  struct srv_fixture fx = {0};
  ac_server_stats_t st;

  srv_init(&fx, NULL);
  ASSERT_OK(ac_server_route(fx.server, NULL, "/*", h_ok, NULL));
  fx.client = host_version_client;
  srv_run(&fx);
  ASSERT_OK(fx.shutdown_rc);
  ac_server_stats(fx.server, &st);
  ASSERT_EQ(st.bad_requests, 5);
  ASSERT_EQ(st.requests_total, 2);
  srv_done(&fx);
}

/* ------------------------------------------------------- slow client */

struct slow_ctx {
  int port;
  int status;
  uint64_t elapsed_ms;
  atomic_int started;
};

static void *slow_thread(void *arg) {
  struct slow_ctx *sc = arg;
  const char *req = "GET /slow HTTP/1.1\r\nHost: x\r\nX-Pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
  char buf[1024];
  int err, fd = raw_connect(sc->port);
  uint64_t t0 = mono_ms();
  size_t i;

  atomic_store(&sc->started, 1);
  /* One byte every 200 ms: the head would take 14 s; its deadline is 1 s. */
  for (i = 0; i < strlen(req); i++) {
    if (send(fd, req + i, 1, MSG_NOSIGNAL) != 1) break;
    usleep(200 * 1000);
    {
      /* Stop as soon as the server answered. */
      char peek;
      ssize_t r = recv(fd, &peek, 1, MSG_PEEK | MSG_DONTWAIT);
      if (r > 0 || r == 0) break;
    }
  }
  raw_read_all(fd, buf, sizeof(buf), &err);
  sc->elapsed_ms = mono_ms() - t0;
  sc->status = resp_status(buf);
  close(fd);
  return NULL;
}

static void slow_client(struct srv_fixture *fx) {
  struct slow_ctx sc = {0};
  pthread_t th;
  char cmd[256], out[256];
  int i;
  double mult = ac_test_time_multiplier();

  sc.port = fx->port;
  ASSERT_EQ(pthread_create(&th, NULL, slow_thread, &sc), 0);
  while (!atomic_load(&sc.started)) usleep(1000);
  /* Others are served while the slow one dribbles. */
  for (i = 0; i < 5; i++) {
    snprintf(cmd, sizeof(cmd), "curl -s http://127.0.0.1:%d/fast", fx->port);
    ASSERT_EQ(run_cmd(cmd, out, sizeof(out)), 0);
    ASSERT_STR_EQ(out, "ok /fast 0\n");
  }
  ASSERT_EQ(pthread_join(th, NULL), 0);
  ASSERT_EQ(sc.status, 408);
  ASSERT_GE(sc.elapsed_ms, 900);
  ASSERT_LE(sc.elapsed_ms, (uint64_t)(3000 * mult));
}

TEST_IMPL(server_slow_client_408) {
  struct srv_fixture fx = {0};
  ac_server_opts_t o;
  ac_server_stats_t st;

  require_curl();
  small_limits(&o);
  srv_init(&fx, &o);
  ASSERT_OK(ac_server_route(fx.server, NULL, "/*", h_ok, NULL));
  fx.client = slow_client;
  srv_run(&fx);
  ac_server_stats(fx.server, &st);
  ASSERT_EQ(st.timeouts, 1);
  ASSERT_EQ(st.requests_total, 5);
  srv_done(&fx);
}

/* ------------------------------------------------ keep-alive, pipelining */

static void pipeline_client(struct srv_fixture *fx) {
  char buf[8192];
  const char *at;
  int err, n, fd = raw_connect(fx->port);
  size_t len;

  /* Sequential requests on one connection. */
  for (n = 0; n < 5; n++) {
    raw_send_str(fd, "GET /seq HTTP/1.1\r\nHost: x\r\n\r\n");
    len = raw_read_response(fd, buf, sizeof(buf));
    ASSERT_EQ(resp_status(buf), 200);
    ASSERT_EQ(memcmp(buf + len - 11, "ok /seq 0\n", 10) == 0 || strstr(buf, "ok /seq 0") != NULL, 1);
  }
  /* Three pipelined requests in one write, with a body in the middle one;
   * the last closes the connection. */
  raw_send_str(fd, "GET /p1 HTTP/1.1\r\nHost: x\r\n\r\n"
                   "POST /p2 HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nabcd"
                   "GET /p3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  raw_read_all(fd, buf, sizeof(buf), &err);
  close(fd);
  ASSERT_EQ(err, 0);
  at = strstr(buf, "ok /p1 0\n");
  ASSERT_NOT_NULL(at);
  at = strstr(at, "ok /p2 4\n");
  ASSERT_NOT_NULL(at);
  at = strstr(at, "ok /p3 0\n");
  ASSERT_NOT_NULL(at);
  /* HTTP/1.0 closes by default, keeps alive when asked. */
  fd = raw_connect(fx->port);
  raw_send_str(fd, "GET /old HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  raw_read_response(fd, buf, sizeof(buf));
  ASSERT_NOT_NULL(strstr(buf, "Connection: keep-alive\r\n"));
  raw_send_str(fd, "GET /old HTTP/1.0\r\n\r\n");
  raw_read_all(fd, buf, sizeof(buf), &err);
  ASSERT_EQ(resp_status(buf), 200);
  close(fd);
}

TEST_IMPL(server_keepalive_pipelined) {
  struct srv_fixture fx = {0};
  ac_server_stats_t st;

  srv_init(&fx, NULL);
  ASSERT_OK(ac_server_route(fx.server, NULL, "/*", h_ok, NULL));
  fx.client = pipeline_client;
  srv_run(&fx);
  ac_server_stats(fx.server, &st);
  ASSERT_EQ(st.connections_total, 2);
  ASSERT_EQ(st.requests_total, 10);
  srv_done(&fx);
}

/* ------------------------------------------------------ connection cap */

static atomic_int cap_seen;

static int h_count_conns(ac_server_req_t *req, ac_server_resp_t *resp, void *ud) {
  ac_server_stats_t st;
  ac_server_t *s = ud;
  ac_server_stats(s, &st);
  if ((int)st.connections_now > atomic_load(&cap_seen)) atomic_store(&cap_seen, (int)st.connections_now);
  return h_ok(req, resp, NULL);
}

static void cap_client(struct srv_fixture *fx) {
  int fds[5], i, err;
  char buf[2048];
  for (i = 0; i < 5; i++) fds[i] = raw_connect(fx->port); /* the kernel accepts all */
  for (i = 0; i < 5; i++) raw_send_str(fds[i], "GET /cap HTTP/1.1\r\nHost: x\r\n\r\n");
  /* The first two are served; the others wait for room. */
  for (i = 0; i < 2; i++) {
    raw_read_response(fds[i], buf, sizeof(buf));
    ASSERT_EQ(resp_status(buf), 200);
  }
  for (i = 0; i < 5; i++) {
    if (i >= 2) {
      raw_read_response(fds[i], buf, sizeof(buf));
      ASSERT_EQ(resp_status(buf), 200);
    }
    close(fds[i]); /* makes room for the next one */
  }
  (void)err;
}

TEST_IMPL(server_connection_cap) {
  struct srv_fixture fx = {0};
  ac_server_opts_t o;
  ac_server_stats_t st;

  ac_server_opts_init(&o);
  o.max_connections = 2;
  srv_init(&fx, &o);
  ASSERT_OK(ac_server_route(fx.server, NULL, "/*", h_count_conns, fx.server));
  fx.client = cap_client;
  srv_run(&fx);
  ac_server_stats(fx.server, &st);
  ASSERT_EQ(st.connections_total, 5);
  ASSERT_EQ(st.requests_total, 5);
  ASSERT_EQ(atomic_load(&cap_seen), 2);
  srv_done(&fx);
}

/* ------------------------------------ idle keep-alive connections make room */

/* Raw sockets give up after 10 s; the idle timeout is far longer, so only a
 * closed idle connection can let a newcomer in before that. */
static void shed_opts(ac_server_opts_t *o) {
  ac_server_opts_init(o);
  o->max_connections = 2;
  o->idle_timeout_ms = 120000;
}

static void shed_client(struct srv_fixture *fx) {
  int idle[2], fd, i, err;
  char buf[2048];

  /* The cap filled with idle keep-alive connections, one request each. */
  for (i = 0; i < 2; i++) {
    idle[i] = raw_connect(fx->port);
    raw_send_str(idle[i], "GET /one HTTP/1.1\r\nHost: x\r\n\r\n");
    raw_read_response(idle[i], buf, sizeof(buf));
    ASSERT_EQ(resp_status(buf), 200);
  }
  /* A newcomer is answered. */
  fd = raw_connect(fx->port);
  raw_send_str(fd, "GET /new HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  raw_read_all(fd, buf, sizeof(buf), &err);
  close(fd);
  ASSERT_EQ(err, 0);
  ASSERT_EQ(resp_status(buf), 200);
  /* The one idle longest was closed for it, silently; the other serves on. */
  ASSERT_EQ(raw_read_all(idle[0], buf, sizeof(buf), &err), 0);
  ASSERT_EQ(err, 0);
  close(idle[0]);
  raw_send_str(idle[1], "GET /two HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  raw_read_all(idle[1], buf, sizeof(buf), &err);
  close(idle[1]);
  ASSERT_EQ(resp_status(buf), 200);
}

TEST_IMPL(server_cap_sheds_idle_keepalive) {
  struct srv_fixture fx = {0};
  ac_server_opts_t o;
  ac_server_stats_t st;

  shed_opts(&o);
  srv_init(&fx, &o);
  ASSERT_OK(ac_server_route(fx.server, NULL, "/*", h_ok, NULL));
  fx.client = shed_client;
  srv_run(&fx);
  ASSERT_OK(fx.shutdown_rc);
  ac_server_stats(fx.server, &st);
  ASSERT_EQ(st.connections_total, 3);
  ASSERT_EQ(st.connections_shed, 1);
  ASSERT_EQ(st.requests_total, 4);
  srv_done(&fx);
}

/* The server full of busy connections when the newcomer comes: the first
 * that goes idle makes room for it. */
static atomic_int newcomer_sent;

static int h_hold(ac_server_req_t *req, ac_server_resp_t *resp, void *ud) {
  (void)ud;
  /* Answer once the newcomer waits in the backlog (and a little after, so
   * that the loop has seen it), so that no connection is idle before. */
  if (strcmp(ac_server_req_path(req), "/hold") == 0) {
    while (!atomic_load(&newcomer_sent)) ASSERT_OK(ac_sleep(1));
    ASSERT_OK(ac_sleep(20));
  }
  return h_ok(req, resp, NULL);
}

static void shed_later_client(struct srv_fixture *fx) {
  int busy[2], fd, i, err;
  char buf[2048];

  for (i = 0; i < 2; i++) {
    busy[i] = raw_connect(fx->port);
    raw_send_str(busy[i], "GET /hold HTTP/1.1\r\nHost: x\r\n\r\n");
  }
  fd = raw_connect(fx->port);
  raw_send_str(fd, "GET /new HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  atomic_store(&newcomer_sent, 1);
  raw_read_all(fd, buf, sizeof(buf), &err);
  close(fd);
  ASSERT_EQ(err, 0);
  ASSERT_EQ(resp_status(buf), 200);
  /* Both busy ones got their answers; one of them was closed after it. */
  for (i = 0; i < 2; i++) {
    raw_read_response(busy[i], buf, sizeof(buf));
    ASSERT_EQ(resp_status(buf), 200);
    close(busy[i]);
  }
}

TEST_IMPL(server_cap_sheds_connection_going_idle) {
  struct srv_fixture fx = {0};
  ac_server_opts_t o;
  ac_server_stats_t st;

  shed_opts(&o);
  srv_init(&fx, &o);
  ASSERT_OK(ac_server_route(fx.server, NULL, "/*", h_hold, NULL));
  fx.client = shed_later_client;
  srv_run(&fx);
  ASSERT_OK(fx.shutdown_rc);
  ac_server_stats(fx.server, &st);
  ASSERT_EQ(st.connections_total, 3);
  ASSERT_EQ(st.connections_shed, 1);
  ASSERT_EQ(st.requests_total, 3);
  srv_done(&fx);
}

/* An idle connection whose client is sending a request at that moment is
 * not the one closed: the request would be lost. The loop is held in a
 * handler while the newcomer connects and then the idle client sends, so
 * that the server sees both at once, the newcomer first. */
static atomic_int holding;

static int h_block_loop(ac_server_req_t *req, ac_server_resp_t *resp, void *ud) {
  (void)ud;
  if (strcmp(ac_server_req_path(req), "/block") == 0) {
    atomic_store(&holding, 1);
    usleep(300 * 1000); /* the whole loop waits: nothing is read meanwhile */
  }
  return h_ok(req, resp, NULL);
}

static void sending_idle_client(struct srv_fixture *fx) {
  int a, b, c, err;
  char buf[2048];

  a = raw_connect(fx->port);
  raw_send_str(a, "GET /one HTTP/1.1\r\nHost: x\r\n\r\n");
  raw_read_response(a, buf, sizeof(buf));
  ASSERT_EQ(resp_status(buf), 200);
  b = raw_connect(fx->port);
  raw_send_str(b, "GET /block HTTP/1.1\r\nHost: x\r\n\r\n");
  while (!atomic_load(&holding)) usleep(1000);
  c = raw_connect(fx->port);
  raw_send_str(c, "GET /new HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  raw_send_str(a, "GET /two HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  /* A's request is answered; B, idle once answered, made room for C. */
  raw_read_all(a, buf, sizeof(buf), &err);
  ASSERT_EQ(resp_status(buf), 200);
  ASSERT_NOT_NULL(strstr(buf, "ok /two"));
  raw_read_all(c, buf, sizeof(buf), &err);
  ASSERT_EQ(resp_status(buf), 200);
  raw_read_all(b, buf, sizeof(buf), &err);
  ASSERT_EQ(resp_status(buf), 200); /* its answer, then EOF */
  close(a);
  close(b);
  close(c);
}

TEST_IMPL(server_cap_spares_idle_connection_sending) {
  struct srv_fixture fx = {0};
  ac_server_opts_t o;
  ac_server_stats_t st;

  shed_opts(&o);
  srv_init(&fx, &o);
  ASSERT_OK(ac_server_route(fx.server, NULL, "/*", h_block_loop, NULL));
  fx.client = sending_idle_client;
  srv_run(&fx);
  ac_server_stats(fx.server, &st);
  ASSERT_EQ(st.connections_shed, 1);
  ASSERT_EQ(st.requests_total, 4);
  srv_done(&fx);
}

/* A connection that has not sent its first request is not closed for a
 * newcomer: the newcomer waits for room. */
static void no_shed_fresh_client(struct srv_fixture *fx) {
  int fresh[2], fd, i, err;
  char buf[2048];

  for (i = 0; i < 2; i++) fresh[i] = raw_connect(fx->port);
  fd = raw_connect(fx->port);
  raw_send_str(fd, "GET /new HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  /* The fresh ones still get answers; the first to finish makes room. */
  for (i = 0; i < 2; i++) {
    raw_send_str(fresh[i], "GET /fresh HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    raw_read_all(fresh[i], buf, sizeof(buf), &err);
    ASSERT_EQ(resp_status(buf), 200);
    close(fresh[i]);
  }
  raw_read_all(fd, buf, sizeof(buf), &err);
  close(fd);
  ASSERT_EQ(resp_status(buf), 200);
}

TEST_IMPL(server_cap_keeps_fresh_connections) {
  struct srv_fixture fx = {0};
  ac_server_opts_t o;
  ac_server_stats_t st;

  shed_opts(&o);
  srv_init(&fx, &o);
  ASSERT_OK(ac_server_route(fx.server, NULL, "/*", h_ok, NULL));
  fx.client = no_shed_fresh_client;
  srv_run(&fx);
  ac_server_stats(fx.server, &st);
  ASSERT_EQ(st.connections_shed, 0);
  ASSERT_EQ(st.requests_total, 3);
  srv_done(&fx);
}

/* ------------------------------------------------------- silent client */

static void silent_client(struct srv_fixture *fx) {
  char buf[1024];
  int err, fd = raw_connect(fx->port), ka;
  uint64_t t0 = mono_ms(), elapsed;

  /* Connects and sends nothing: 408 after the head deadline. */
  raw_read_all(fd, buf, sizeof(buf), &err);
  elapsed = mono_ms() - t0;
  close(fd);
  ASSERT_EQ(err, 0);
  ASSERT_EQ(resp_status(buf), 408);
  ASSERT_GE(elapsed, 400);
  ASSERT_LE(elapsed, (uint64_t)(3000 * ac_test_time_multiplier()));
  /* After a request, an idle keep-alive connection is closed silently. */
  ka = raw_connect(fx->port);
  raw_send_str(ka, "GET /x HTTP/1.1\r\nHost: x\r\n\r\n");
  raw_read_response(ka, buf, sizeof(buf));
  ASSERT_EQ(raw_read_all(ka, buf, sizeof(buf), &err), 0);
  ASSERT_EQ(err, 0);
  close(ka);
}

TEST_IMPL(server_silent_client_408) {
  struct srv_fixture fx = {0};
  ac_server_opts_t o;
  ac_server_stats_t st;

  ac_server_opts_init(&o);
  o.head_timeout_ms = 500;
  o.idle_timeout_ms = 300;
  srv_init(&fx, &o);
  ASSERT_OK(ac_server_route(fx.server, NULL, "/*", h_ok, NULL));
  fx.client = silent_client;
  srv_run(&fx);
  ac_server_stats(fx.server, &st);
  ASSERT_EQ(st.timeouts, 1);
  ASSERT_EQ(st.requests_total, 1);
  srv_done(&fx);
}
