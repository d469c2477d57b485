/*
 * A request's arrival time (ac_server_req_arrival_us): with stamp_arrival it
 * is when the kernel received the bytes, even if the loop was busy then;
 * without, when the server read them. The replica's --delay counts from it.
 */
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "acrawl.h"
#include "runner.h"
#include "server_helpers.h"

#define BUSY_AFTER_SEND_US 50000u

struct arrival {
  atomic_int block_started;
  atomic_int age_sent;     /* the client's request to /age is in the kernel */
  uint64_t age_us;         /* loop thread: the last /age's handler start minus arrival */
};

/* Holds the loop thread (no await) from before the client sends its request
 * to /age until 50 ms after: the server cannot read that request meanwhile. */
static int h_block(ac_server_req_t *req, ac_server_resp_t *resp, void *ud) {
  struct arrival *a = ud;
  uint64_t start = ac_now_us(), sent_at = 0;
  (void)req;
  atomic_store(&a->block_started, 1);
  for (;;) {
    uint64_t now = ac_now_us();
    if (sent_at == 0 && atomic_load(&a->age_sent)) sent_at = now;
    if (sent_at != 0 && now - sent_at >= BUSY_AFTER_SEND_US) break;
    ASSERT_LT(now - start, 10000000u); /* the client is stuck: fail, not hang */
  }
  return ac_server_resp_text(resp, 200, "blocked\n");
}

static int h_age(ac_server_req_t *req, ac_server_resp_t *resp, void *ud) {
  struct arrival *a = ud;
  uint64_t arrival = ac_server_req_arrival_us(req), now = ac_now_us();
  ASSERT_NE(arrival, 0);
  ASSERT_LE(arrival, now);
  a->age_us = now - arrival;
  return ac_server_resp_text(resp, 200, "age\n");
}

static void arrival_client(struct srv_fixture *fx) {
  struct arrival *a = fx->data;
  char buf[1024];
  int keep = raw_connect(fx->port), other = raw_connect(fx->port);

  /* A first request on the kept connection: it is accepted (stamps are
   * asked for at accept) and idle when the loop blocks. */
  raw_send_str(keep, "GET /age HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_GT(raw_read_response(keep, buf, sizeof(buf)), 0);
  ASSERT_EQ(resp_status(buf), 200);
  raw_send_str(other, "GET /block HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  while (!atomic_load(&a->block_started)) usleep(1000);
  raw_send_str(keep, "GET /age HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  atomic_store(&a->age_sent, 1);
  ASSERT_GT(raw_read_response(other, buf, sizeof(buf)), 0);
  ASSERT_EQ(resp_status(buf), 200);
  ASSERT_GT(raw_read_response(keep, buf, sizeof(buf)), 0);
  ASSERT_EQ(resp_status(buf), 200);
  close(keep);
  close(other);
}

static void run_arrival(int stamp, struct arrival *a) {
  struct srv_fixture fx = {0};
  ac_server_opts_t o;

  ac_server_opts_init(&o);
  ASSERT_EQ(o.stamp_arrival, 0); /* off by default */
  o.stamp_arrival = stamp;
  memset(a, 0, sizeof(*a));
  srv_init(&fx, &o);
  fx.data = a;
  ASSERT_OK(ac_server_route(fx.server, "GET", "/block", h_block, a));
  ASSERT_OK(ac_server_route(fx.server, "GET", "/age", h_age, a));
  fx.client = arrival_client;
  srv_run(&fx);
  srv_done(&fx);
}

TEST_IMPL(server_arrival_from_kernel_stamp) {
  struct arrival a;
  run_arrival(1, &a);
  /* The request waited in the kernel while the loop was held: its age at
   * the handler covers that wait (the clock's conversion may lose a few µs). */
  ASSERT_GE(a.age_us, BUSY_AFTER_SEND_US - 1000u);
  ASSERT_LT(a.age_us, 10000000u);
}

TEST_IMPL(server_arrival_without_stamp_is_read_time) {
  struct arrival a;
  run_arrival(0, &a);
  /* Read after the wait: the age is the server's own handling only. */
  ASSERT_LT(a.age_us, BUSY_AFTER_SEND_US - 1000u);
}
