/*
 * A server answering GET /book with a fixed body of about 700 bytes (the size
 * of a book-site detail page), for wrk. Runs until SIGINT or SIGTERM.
 *
 * usage: bench_server [PORT]     (default 0: a free port, printed on stdout)
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acrawl.h"

static char body[700];

static int h_book(ac_server_req_t *req, ac_server_resp_t *resp, void *ud) {
  (void)req;
  (void)ud;
  ac_server_resp_header(resp, "Content-Type", "application/json");
  return ac_server_resp_send(resp, body, sizeof(body));
}

static void on_signal(ac_loop_t *loop, int signum, void *ud) {
  (void)loop;
  (void)signum;
  ac_event_set(ud);
}

static int main_task(void *arg, void **result) {
  ac_loop_t *loop = ac_task_loop(ac_task_current());
  ac_server_t *server = NULL;
  ac_event_t *stop;
  ac_server_opts_t o;
  int rc, port = *(int *)arg;
  (void)result;

  ac_server_opts_init(&o);
  o.max_connections = 4096;
  rc = ac_server_new(loop, &o, &server);
  if (rc == 0) rc = ac_server_route(server, "GET", "/book", h_book, NULL);
  if (rc == 0) rc = ac_server_listen(server, "127.0.0.1", port);
  if (rc != 0) {
    fprintf(stderr, "bench_server: %s\n", ac_strerror(rc));
    if (server != NULL) ac_server_free(server);
    return rc;
  }
  printf("%d\n", ac_server_port(server));
  fflush(stdout);
  if (ac_event_new(loop, &stop) != 0) return AC_ENOMEM;
  ac_signal_watch(loop, SIGINT, on_signal, stop);
  ac_signal_watch(loop, SIGTERM, on_signal, stop);
  rc = ac_event_wait(stop);
  ac_signal_unwatch(loop, SIGINT);
  ac_signal_unwatch(loop, SIGTERM);
  if (rc == 0) rc = ac_server_shutdown(server, 2000);
  ac_server_free(server);
  ac_event_free(stop);
  return rc;
}

int main(int argc, char **argv) {
  int port = argc > 1 ? atoi(argv[1]) : 0;
  size_t i;
  for (i = 0; i < sizeof(body); i++) body[i] = (char)('a' + i % 26);
  body[0] = '{';
  body[sizeof(body) - 1] = '}';
  return ac_run(main_task, &port, NULL) == 0 ? 0 : 1;
}
