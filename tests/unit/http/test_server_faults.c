/*
 * Concurrency, fault injection and stopping: a sleeping handler does not
 * block the others, a short body and a reset are seen by a raw client as
 * such, and shutdown finishes requests in flight, closes idle connections
 * and, past its grace period, cancels what is left.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "acrawl.h"
#include "runner.h"
#include "server_helpers.h"

#define NFAST 20

/* ------------------------------------------------------- concurrency */

struct conc {
  atomic_int slow_started;
  int fast_done;               /* loop thread only */
  int fast_done_during_slow;
  int slow_in_flight;
  uint64_t max_in_flight_seen;
  ac_server_t *server;
};

static int h_slow(ac_server_req_t *req, ac_server_resp_t *resp, void *ud) {
  struct conc *cc = ud;
  int rounds = 0, before = cc->fast_done;
  (void)req;
  cc->slow_in_flight = 1;
  atomic_store(&cc->slow_started, 1);
  /* Sleep 300 ms at a time until the fast requests are all served (or a
   * generous number of rounds): no assertion depends on the timing. */
  do {
    ASSERT_OK(ac_sleep(300));
  } while (cc->fast_done < NFAST && ++rounds < 100);
  cc->fast_done_during_slow = cc->fast_done - before;
  cc->slow_in_flight = 0;
  return ac_server_resp_text(resp, 200, "slow\n");
}

static int h_fast(ac_server_req_t *req, ac_server_resp_t *resp, void *ud) {
  struct conc *cc = ud;
  ac_server_stats_t st;
  (void)req;
  ac_server_stats(cc->server, &st);
  if (st.in_flight_now > cc->max_in_flight_seen) cc->max_in_flight_seen = st.in_flight_now;
  ASSERT_EQ(cc->slow_in_flight, 1);
  cc->fast_done++;
  return ac_server_resp_text(resp, 200, "fast\n");
}

static void conc_client(struct srv_fixture *fx) {
  struct conc *cc = fx->data;
  char cmd[4096], out[4096], buf[1024];
  size_t n = 0;
  int i, err, fd = raw_connect(fx->port);

  raw_send_str(fd, "GET /slow HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  while (!atomic_load(&cc->slow_started)) usleep(1000);
  n += (size_t)snprintf(cmd + n, sizeof(cmd) - n, "curl -s --parallel --parallel-max %d", NFAST);
  for (i = 0; i < NFAST; i++)
    n += (size_t)snprintf(cmd + n, sizeof(cmd) - n, " http://127.0.0.1:%d/fast/%d", fx->port, i);
  ASSERT_EQ(run_cmd(cmd, out, sizeof(out)), 0);
  ASSERT_EQ(strlen(out), 5 * NFAST);
  raw_read_all(fd, buf, sizeof(buf), &err);
  close(fd);
  ASSERT_NOT_NULL(strstr(buf, "\r\n\r\nslow\n"));
}

TEST_IMPL(server_sleeping_handler_concurrent) {
  struct srv_fixture fx = {0};
  struct conc cc;
  ac_server_stats_t st;

  require_curl();
  memset(&cc, 0, sizeof(cc));
  srv_init(&fx, NULL);
  cc.server = fx.server;
  fx.data = &cc;
  ASSERT_OK(ac_server_route(fx.server, "GET", "/slow", h_slow, &cc));
  ASSERT_OK(ac_server_route(fx.server, "GET", "/fast/{n}", h_fast, &cc));
  fx.client = conc_client;
  srv_run(&fx);
  /* All 20 were served while the slow handler was asleep in flight. */
  ASSERT_EQ(cc.fast_done_during_slow, NFAST);
  ASSERT_GE(cc.max_in_flight_seen, 2);
  ac_server_stats(fx.server, &st);
  ASSERT_EQ(st.requests_total, NFAST + 1);
  ASSERT_GE(st.in_flight_max, 2);
  srv_done(&fx);
}

/* ------------------------------------------------------ fault controls */

static char big_body[65536];

static int h_short(ac_server_req_t *req, ac_server_resp_t *resp, void *ud) {
  (void)req;
  (void)ud;
  ASSERT_OK(ac_server_resp_start(resp, 100));
  ASSERT_OK(ac_server_resp_write(resp, "0123456789", 10));
  ASSERT_EQ(ac_server_resp_write(resp, big_body, 91), AC_ETOOLARGE);
  return ac_server_resp_abort(resp);
}

/* Announces 100 and returns after 10: the server cuts the connection. */
static int h_short_implicit(ac_server_req_t *req, ac_server_resp_t *resp, void *ud) {
  (void)req;
  (void)ud;
  ASSERT_OK(ac_server_resp_start(resp, 100));
  return ac_server_resp_write(resp, "0123456789", 10);
}

static int h_reset(ac_server_req_t *req, ac_server_resp_t *resp, void *ud) {
  (void)req;
  (void)ud;
  ASSERT_OK(ac_server_resp_start(resp, 10 * (int64_t)sizeof(big_body)));
  ASSERT_OK(ac_server_resp_write(resp, big_body, 1000));
  return ac_server_resp_reset(resp);
}

static void short_body_check(int port, const char *path) {
  char buf[4096], req[128];
  int err, fd = raw_connect(port);
  size_t n;
  const char *body;

  snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path);
  raw_send_str(fd, req);
  n = raw_read_all(fd, buf, sizeof(buf), &err);
  close(fd);
  ASSERT_EQ(err, 0); /* EOF, not a reset */
  ASSERT_EQ(resp_status(buf), 200);
  ASSERT_NOT_NULL(strstr(buf, "Content-Length: 100\r\n"));
  body = strstr(buf, "\r\n\r\n");
  ASSERT_NOT_NULL(body);
  ASSERT_EQ(n - (size_t)(body + 4 - buf), 10);
  ASSERT_STR_EQ(body + 4, "0123456789");
}

static void faults_client(struct srv_fixture *fx) {
  char buf[4096];
  int err, fd;

  short_body_check(fx->port, "/short");
  short_body_check(fx->port, "/short2");
  /* The reset: whatever arrived before, the read ends with ECONNRESET. */
  fd = raw_connect(fx->port);
  raw_send_str(fd, "GET /reset HTTP/1.1\r\nHost: x\r\n\r\n");
  usleep(100 * 1000); /* let the RST arrive before we read */
  raw_read_all(fd, buf, sizeof(buf), &err);
  close(fd);
  ASSERT_EQ(err, ECONNRESET);
}

TEST_IMPL(server_fault_short_body_and_reset) {
  struct srv_fixture fx = {0};
  ac_server_stats_t st;

  srv_init(&fx, NULL);
  ASSERT_OK(ac_server_route(fx.server, "GET", "/short", h_short, NULL));
  ASSERT_OK(ac_server_route(fx.server, "GET", "/short2", h_short_implicit, NULL));
  ASSERT_OK(ac_server_route(fx.server, "GET", "/reset", h_reset, NULL));
  fx.client = faults_client;
  srv_run(&fx);
  ac_server_stats(fx.server, &st);
  ASSERT_EQ(st.resets, 1);
  ASSERT_EQ(st.aborts, 2);
  srv_done(&fx);
}

/* ------------------------------------------------------------ stopping */

struct stop_test {
  ac_loop_t *loop;
  ac_server_t *server;
  int port;
  uint64_t sleep_ms, grace_ms;
  atomic_int in_handler;
  int cancelled;
  int shutdown_rc;
  int idle_eof;
  char resp[2048];
};

static int h_sleep(ac_server_req_t *req, ac_server_resp_t *resp, void *ud) {
  struct stop_test *st = ud;
  int rc;
  (void)req;
  atomic_store(&st->in_handler, 1);
  rc = ac_sleep(st->sleep_ms);
  if (rc == AC_ECANCELED) {
    st->cancelled = 1;
    return rc;
  }
  ASSERT_OK(rc);
  return ac_server_resp_text(resp, 200, "slept\n");
}

static int h_ping(ac_server_req_t *req, ac_server_resp_t *resp, void *ud) {
  (void)req;
  (void)ud;
  return ac_server_resp_text(resp, 200, "pong\n");
}

/* Once the sleeping handler runs, shut the server down. */
static int stop_task(void *arg, void **result) {
  struct stop_test *st = arg;
  (void)result;
  while (!atomic_load(&st->in_handler)) ASSERT_OK(ac_sleep(1));
  st->shutdown_rc = ac_server_shutdown(st->server, st->grace_ms);
  return 0;
}

static void stop_client(void *arg) {
  struct stop_test *st = arg;
  char buf[256];
  int err, idle = raw_connect(st->port), fd;

  /* An idle keep-alive connection: one request answered, then nothing. */
  raw_send_str(idle, "GET /ping HTTP/1.1\r\nHost: x\r\n\r\n");
  raw_read_response(idle, buf, sizeof(buf));
  fd = raw_connect(st->port);
  raw_send_str(fd, "GET /sleep HTTP/1.1\r\nHost: x\r\n\r\n");
  raw_read_all(fd, st->resp, sizeof(st->resp), &err);
  close(fd);
  /* The idle one was closed by the shutdown: EOF, nothing else. */
  st->idle_eof = raw_read_all(idle, buf, sizeof(buf), &err) == 0 && err == 0;
  close(idle);
}

static int stop_main(void *arg, void **result) {
  struct stop_test *st = arg;
  ac_task_t *stopper;
  (void)result;
  ASSERT_OK(ac_task_spawn(st->loop, stop_task, st, NULL, &stopper));
  ASSERT_OK(ac_run_in_thread(stop_client, st));
  ASSERT_OK(ac_task_await(stopper, NULL));
  ac_task_release(stopper);
  return 0;
}

static void run_stop(struct stop_test *st, ac_server_stats_t *stats) {
  ac_task_t *t;

  ASSERT_OK(ac_loop_new(&st->loop));
  ASSERT_OK(ac_server_new(st->loop, NULL, &st->server));
  ASSERT_OK(ac_server_route(st->server, "GET", "/sleep", h_sleep, st));
  ASSERT_OK(ac_server_route(st->server, "GET", "/ping", h_ping, NULL));
  ASSERT_OK(ac_server_listen(st->server, "127.0.0.1", 0));
  st->port = ac_server_port(st->server);
  ASSERT_OK(ac_task_spawn(st->loop, stop_main, st, NULL, &t));
  ASSERT_OK(ac_loop_run_until_done(st->loop, t));
  ASSERT_OK(ac_task_result(t, NULL));
  ac_task_release(t);
  ac_server_stats(st->server, stats);
  ASSERT_EQ(stats->connections_now, 0);
  /* Closed: a new listen is refused. */
  ASSERT_EQ(ac_server_listen(st->server, "127.0.0.1", 0), AC_EBUSY);
  ASSERT_OK(ac_server_free(st->server));
  ASSERT_OK(ac_loop_run(st->loop));
  ASSERT_OK(ac_loop_close(st->loop));
}

/* Shutdown lets the request in flight finish, then closes. */
TEST_IMPL(server_graceful_stop) {
  struct stop_test st;
  ac_server_stats_t stats;

  memset(&st, 0, sizeof(st));
  st.sleep_ms = 200;
  st.grace_ms = AC_NO_TIMEOUT;
  run_stop(&st, &stats);
  ASSERT_OK(st.shutdown_rc);
  ASSERT_EQ(st.cancelled, 0);
  ASSERT_EQ(resp_status(st.resp), 200);
  ASSERT_NOT_NULL(strstr(st.resp, "Connection: close\r\n"));
  ASSERT_NOT_NULL(strstr(st.resp, "\r\n\r\nslept\n"));
  ASSERT_EQ(st.idle_eof, 1);
  ASSERT_EQ(stats.requests_total, 2);
}

/* Past the grace period, the handler is cancelled. */
TEST_IMPL(server_stop_cancels_after_grace) {
  struct stop_test st;
  ac_server_stats_t stats;

  memset(&st, 0, sizeof(st));
  st.sleep_ms = 60000;
  st.grace_ms = 100;
  run_stop(&st, &stats);
  ASSERT_ERR(st.shutdown_rc, AC_ETIMEDOUT);
  ASSERT_EQ(st.cancelled, 1);
  /* The failed handler's request got a 500, or nothing if the connection
   * went first: never a 200. */
  ASSERT(resp_status(st.resp) == 500 || st.resp[0] == '\0');
  ASSERT_EQ(st.idle_eof, 1);
}

/* ------------------------------------------- a client that does not read */

static atomic_int stalled_rc = 1;

static int h_flood(ac_server_req_t *req, ac_server_resp_t *resp, void *ud) {
  int rc = 0, i;
  (void)req;
  (void)ud;
  /* Up to 64 MiB: far more than the socket buffers hold. */
  for (i = 0; i < 1024 && rc == 0; i++) rc = ac_server_resp_write(resp, big_body, sizeof(big_body));
  atomic_store(&stalled_rc, rc);
  return rc;
}

static void stalled_client(struct srv_fixture *fx) {
  int fd = raw_connect(fx->port), spins = 0;
  raw_send_str(fd, "GET /flood HTTP/1.1\r\nHost: x\r\n\r\n");
  /* Read nothing: the server's writes must time out, not wait forever. */
  while (atomic_load(&stalled_rc) == 1) {
    ASSERT_LT(spins++, 30000);
    usleep(1000);
  }
  close(fd);
}

TEST_IMPL(server_write_timeout) {
  struct srv_fixture fx = {0};
  ac_server_opts_t o;

  ac_server_opts_init(&o);
  o.write_timeout_ms = 300;
  srv_init(&fx, &o);
  ASSERT_OK(ac_server_route(fx.server, "GET", "/flood", h_flood, NULL));
  fx.client = stalled_client;
  srv_run(&fx);
  ASSERT_ERR(atomic_load(&stalled_rc), AC_ETIMEDOUT);
  srv_done(&fx);
}
