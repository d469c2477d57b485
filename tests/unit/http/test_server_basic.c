/*
 * The server against curl: routes, parameters, query strings, headers, HEAD,
 * 404/405, bodies in and out (Content-Length and chunked), keep-alive, and
 * the counters.
 */
#include <stdio.h>
#include <string.h>

#include "acrawl.h"
#include "runner.h"
#include "server_helpers.h"

static int h_hello(ac_server_req_t *req, ac_server_resp_t *resp, void *ud) {
  (void)req;
  (void)ud;
  ASSERT_OK(ac_server_resp_header(resp, "X-Test", "yes"));
  return ac_server_resp_text(resp, 200, "hello\n");
}

static int h_book(ac_server_req_t *req, ac_server_resp_t *resp, void *ud) {
  char out[512], q[64], agent[128];
  const char *ua = ac_server_req_header(req, "user-AGENT");
  (void)ud;
  if (ac_server_req_query_value(req, "q", q, sizeof(q), NULL) != 0) snprintf(q, sizeof(q), "-");
  snprintf(agent, sizeof(agent), "%s", ua != NULL ? ua : "none");
  agent[4] = '\0'; /* "curl" */
  snprintf(out, sizeof(out), "id=%s q=%s ua=%s path=%s\n", ac_server_req_param(req, "id"), q,
           agent, ac_server_req_path(req));
  return ac_server_resp_text(resp, 200, out);
}

static int h_list(ac_server_req_t *req, ac_server_resp_t *resp, void *ud) {
  (void)req;
  (void)ud;
  ASSERT_OK(ac_server_resp_header(resp, "Content-Type", "application/json"));
  return ac_server_resp_send(resp, "{\"count\":0}", 11);
}

/* Echo the body length and its first bytes. */
static int h_echo(ac_server_req_t *req, ac_server_resp_t *resp, void *ud) {
  size_t len;
  const char *body = ac_server_req_body(req, &len);
  char out[128];
  (void)ud;
  snprintf(out, sizeof(out), "len=%zu start=%.5s\n", len, body);
  return ac_server_resp_text(resp, 200, out);
}

/* A chunked response in three writes. */
static int h_stream(ac_server_req_t *req, ac_server_resp_t *resp, void *ud) {
  (void)req;
  (void)ud;
  ASSERT_OK(ac_server_resp_start(resp, AC_SERVER_CHUNKED));
  ASSERT_OK(ac_server_resp_write(resp, "one,", 4));
  ASSERT_OK(ac_sleep(5));
  ASSERT_OK(ac_server_resp_write(resp, "two,", 4));
  ASSERT_OK(ac_server_resp_write(resp, "three", 5));
  return ac_server_resp_end(resp);
}

static int h_fail(ac_server_req_t *req, ac_server_resp_t *resp, void *ud) {
  (void)req;
  (void)resp;
  (void)ud;
  return AC_EIO;
}

static void add_routes(ac_server_t *s) {
  ASSERT_OK(ac_server_route(s, "GET", "/hello", h_hello, NULL));
  ASSERT_OK(ac_server_route(s, "GET", "/api/book/", h_list, NULL));
  ASSERT_OK(ac_server_route(s, "GET", "/api/book/{id}", h_book, NULL));
  ASSERT_OK(ac_server_route(s, "POST", "/echo", h_echo, NULL));
  ASSERT_OK(ac_server_route(s, "PUT", "/echo", h_echo, NULL));
  ASSERT_OK(ac_server_route(s, NULL, "/stream/*", h_stream, NULL));
  ASSERT_OK(ac_server_route(s, "GET", "/fail", h_fail, NULL));
}

#define URL(fx, path) "http://127.0.0.1:%d" path

static void curl_client(struct srv_fixture *fx) {
  char cmd[1024], out[8192];

  snprintf(cmd, sizeof(cmd), "curl -s -i " URL(fx, "/hello"), fx->port);
  ASSERT_EQ(run_cmd(cmd, out, sizeof(out)), 0);
  ASSERT_EQ(resp_status(out), 200);
  ASSERT_NOT_NULL(strstr(out, "X-Test: yes\r\n"));
  ASSERT_NOT_NULL(strstr(out, "Content-Length: 6\r\n"));
  ASSERT_NOT_NULL(strstr(out, "Date: "));
  ASSERT_NOT_NULL(strstr(out, "\r\n\r\nhello\n"));

  snprintf(cmd, sizeof(cmd), "curl -s '" URL(fx, "/api/book/a%%20b?x=1&q=caf%%C3%%A9+au+lait") "'",
           fx->port);
  ASSERT_EQ(run_cmd(cmd, out, sizeof(out)), 0);
  ASSERT_STR_EQ(out, "id=a b q=caf\xc3\xa9 au lait ua=curl path=/api/book/a%20b\n");

  snprintf(cmd, sizeof(cmd), "curl -s " URL(fx, "/api/book/"), fx->port);
  ASSERT_EQ(run_cmd(cmd, out, sizeof(out)), 0);
  ASSERT_STR_EQ(out, "{\"count\":0}");

  /* HEAD through the GET route: the length, no body. */
  snprintf(cmd, sizeof(cmd), "curl -s -I " URL(fx, "/hello"), fx->port);
  ASSERT_EQ(run_cmd(cmd, out, sizeof(out)), 0);
  ASSERT_EQ(resp_status(out), 200);
  ASSERT_NOT_NULL(strstr(out, "Content-Length: 6\r\n"));
  ASSERT_NULL(strstr(out, "hello"));

  snprintf(cmd, sizeof(cmd), "curl -s -o /dev/null -w '%%{http_code}' " URL(fx, "/nope"), fx->port);
  ASSERT_EQ(run_cmd(cmd, out, sizeof(out)), 0);
  ASSERT_STR_EQ(out, "404");
  /* {id} needs a non-empty segment, and does not cross a '/'. */
  snprintf(cmd, sizeof(cmd), "curl -s -o /dev/null -w '%%{http_code}' " URL(fx, "/api/book/1/x"),
           fx->port);
  ASSERT_EQ(run_cmd(cmd, out, sizeof(out)), 0);
  ASSERT_STR_EQ(out, "404");

  snprintf(cmd, sizeof(cmd), "curl -s -i -X DELETE " URL(fx, "/echo"), fx->port);
  ASSERT_EQ(run_cmd(cmd, out, sizeof(out)), 0);
  ASSERT_EQ(resp_status(out), 405);
  ASSERT_NOT_NULL(strstr(out, "Allow: POST, PUT\r\n"));

  snprintf(cmd, sizeof(cmd), "curl -s --data-binary 'hello world' " URL(fx, "/echo"), fx->port);
  ASSERT_EQ(run_cmd(cmd, out, sizeof(out)), 0);
  ASSERT_STR_EQ(out, "len=11 start=hello\n");

  /* A chunked request body, from curl. */
  snprintf(cmd, sizeof(cmd),
           "head -c 70000 /dev/zero | tr '\\0' a | curl -s -T - -H 'Transfer-Encoding: chunked' "
           URL(fx, "/echo"), fx->port);
  ASSERT_EQ(run_cmd(cmd, out, sizeof(out)), 0);
  ASSERT_STR_EQ(out, "len=70000 start=aaaaa\n");

  snprintf(cmd, sizeof(cmd), "curl -s -i " URL(fx, "/stream/x/y"), fx->port);
  ASSERT_EQ(run_cmd(cmd, out, sizeof(out)), 0);
  ASSERT_NOT_NULL(strstr(out, "Transfer-Encoding: chunked\r\n"));
  ASSERT_NOT_NULL(strstr(out, "\r\n\r\none,two,three"));

  snprintf(cmd, sizeof(cmd), "curl -s -o /dev/null -w '%%{http_code}' " URL(fx, "/fail"), fx->port);
  ASSERT_EQ(run_cmd(cmd, out, sizeof(out)), 0);
  ASSERT_STR_EQ(out, "500");
}

TEST_IMPL(server_curl_routes) {
  struct srv_fixture fx = {0};
  ac_server_stats_t st;
  ac_server_route_stat_t rs[8];

  require_curl();
  srv_init(&fx, NULL);
  add_routes(fx.server);
  fx.client = curl_client;
  ASSERT_EQ(ac_server_route(fx.server, "GET", "/bad/{x", h_hello, NULL), AC_EINVAL);
  ASSERT_EQ(ac_server_route(fx.server, "GET", "/bad/*/x", h_hello, NULL), AC_EINVAL);
  ASSERT_EQ(ac_server_route(fx.server, "GET", "nobar", h_hello, NULL), AC_EINVAL);
  /* Stats are read on the loop's thread, so before free. */
  ASSERT_OK(ac_server_listen(fx.server, "127.0.0.1", 0));
  ASSERT_EQ(ac_server_listen(fx.server, "127.0.0.1", 0), AC_EBUSY);
  srv_run(&fx);
  ASSERT_OK(fx.shutdown_rc);
  ac_server_stats(fx.server, &st);
  ASSERT_EQ(st.not_found, 2);
  ASSERT_EQ(st.method_not_allowed, 1);
  ASSERT_EQ(ac_server_route_stats(fx.server, rs, 8), 7);
  ASSERT_STR_EQ(rs[0].pattern, "/hello");
  ASSERT_EQ(rs[0].requests, 2); /* GET and HEAD */
  ASSERT_EQ(rs[2].requests, 1);
  ASSERT_EQ(rs[3].requests, 1); /* POST */
  ASSERT_EQ(rs[4].requests, 1); /* PUT, chunked */
  ASSERT_NULL(rs[5].method);
  ASSERT_EQ(st.requests_total, 11);
  ASSERT_EQ(st.connections_total, 11);
  srv_done(&fx);
}

/* Several URLs in one curl command share one connection. */
static void keepalive_client(struct srv_fixture *fx) {
  char cmd[1024], out[8192];
  snprintf(cmd, sizeof(cmd),
           "curl -s " URL(fx, "/hello") " " URL(fx, "/api/book/7") " " URL(fx, "/hello"),
           fx->port, fx->port, fx->port);
  ASSERT_EQ(run_cmd(cmd, out, sizeof(out)), 0);
  ASSERT_STR_EQ(out, "hello\nid=7 q=- ua=curl path=/api/book/7\nhello\n");
}

TEST_IMPL(server_keepalive_curl) {
  struct srv_fixture fx = {0};
  ac_server_stats_t st;
  ac_server_client_stat_t cs[4];

  require_curl();
  srv_init(&fx, NULL);
  add_routes(fx.server);
  fx.client = keepalive_client;
  srv_run(&fx);
  ac_server_stats(fx.server, &st);
  ASSERT_EQ(st.connections_total, 1);
  ASSERT_EQ(st.requests_total, 3);
  ASSERT_EQ(st.in_flight_max, 1);
  ASSERT_EQ(ac_server_client_stats(fx.server, cs, 4), 1);
  ASSERT_STR_EQ(cs[0].addr, "127.0.0.1");
  ASSERT_EQ(cs[0].requests, 3);
  ASSERT_EQ(cs[0].in_flight_max, 1);
  ASSERT_EQ(cs[0].in_flight_now, 0);
  srv_done(&fx);
}

TEST_IMPL(server_url_decode) {
  char buf[64];
  ASSERT_EQ(ac_server_url_decode("a%20b+c", 7, buf, 1), 5);
  ASSERT_STR_EQ(buf, "a b c");
  ASSERT_EQ(ac_server_url_decode("a%20b+c", 7, buf, 0), 5);
  ASSERT_STR_EQ(buf, "a b+c");
  ASSERT_EQ(ac_server_url_decode("%zz", 3, buf, 0), AC_EPARSE);
  ASSERT_EQ(ac_server_url_decode("ab%2", 4, buf, 0), AC_EPARSE);
  ASSERT_EQ(ac_server_url_decode("%", 1, buf, 0), AC_EPARSE);
  ASSERT_EQ(ac_server_url_decode("", 0, buf, 0), 0);
  ASSERT_STR_EQ(buf, "");
}

static int nap(void *arg, void **result) {
  (void)arg;
  (void)result;
  return ac_sleep(20);
}

/* A port in use: the error, then a retry on another port works, and both
 * servers free cleanly. Bad arguments are refused. */
TEST_IMPL(server_listen_errors) {
  ac_loop_t *loop;
  ac_server_t *a, *b;
  ac_server_opts_t o;

  ASSERT_OK(ac_loop_new(&loop));
  ac_server_opts_init(&o);
  o.max_headers = 0;
  ASSERT_ERR(ac_server_new(loop, &o, &a), AC_EINVAL);
  ASSERT_ERR(ac_server_new(NULL, NULL, &a), AC_EINVAL);
  ASSERT_OK(ac_server_new(loop, NULL, &a));
  ASSERT_OK(ac_server_new(loop, NULL, &b));
  ASSERT_EQ(ac_server_port(a), 0);
  ASSERT_ERR(ac_server_listen(a, "not-an-ip", 0), AC_EINVAL);
  ASSERT_ERR(ac_server_listen(a, "127.0.0.1", 70000), AC_EINVAL);
  ASSERT_OK(ac_server_listen(a, "127.0.0.1", 0));
  ASSERT_ERR(ac_server_listen(b, "127.0.0.1", ac_server_port(a)), AC_EADDRINUSE);
  ASSERT_ERR(ac_server_listen(b, "127.0.0.1", 0), AC_EBUSY); /* still closing */
  {
    /* Let the loop turn (a's listener keeps ac_loop_run from returning). */
    ac_task_t *t;
    ASSERT_OK(ac_task_spawn(loop, nap, NULL, NULL, &t));
    ASSERT_OK(ac_loop_run_until_done(loop, t));
    ac_task_release(t);
  }
  ASSERT_OK(ac_server_listen(b, "127.0.0.1", 0));
  ASSERT_GT(ac_server_port(b), 0);
  ac_server_close(a);
  ac_server_close(a); /* twice is fine */
  ASSERT_OK(ac_server_free(a));
  ASSERT_OK(ac_server_free(b));
  ASSERT_OK(ac_loop_run(loop));
  ASSERT_OK(ac_loop_close(loop));
}
