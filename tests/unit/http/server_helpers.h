/*
 * Helpers for the server tests: a server on 127.0.0.1 with a free port, run
 * on a loop while a client (curl, or raw blocking sockets) works in a thread
 * of libuv's pool, then shut down and freed, leaving nothing behind.
 */
#ifndef AC_TESTS_SERVER_HELPERS_H
#define AC_TESTS_SERVER_HELPERS_H

#include <stddef.h>

#include "acrawl.h"

struct srv_fixture {
  ac_loop_t *loop;
  ac_server_t *server;
  int port;
  void (*client)(struct srv_fixture *fx);  /* runs in a worker thread */
  void *data;                              /* the test's own */
  uint64_t grace_ms;                       /* for the shutdown; default 2000 */
  int shutdown_rc;                         /* what ac_server_shutdown returned */
};

/* Create the loop and the server (opts may be NULL); routes are added next. */
void srv_init(struct srv_fixture *fx, const ac_server_opts_t *opts);
/* Listen (unless the test did), run fx->client in a thread while the loop
 * serves, then shut the server down; the counters can be read after. */
void srv_run(struct srv_fixture *fx);
/* Free the server and close the loop, asserting that nothing leaked. */
void srv_done(struct srv_fixture *fx);

/* Run a shell command; its stdout (up to cap - 1 bytes, NUL-terminated) into
 * out. Returns the exit status. */
int run_cmd(const char *cmd, char *out, size_t cap);
/* Skip the test (exit 77) when curl is missing. */
void require_curl(void);

/* Blocking sockets, with a 10 s receive timeout so that nothing hangs. */
int raw_connect(int port);
void raw_send(int fd, const char *data, size_t len);
#define raw_send_str(fd, s) raw_send((fd), (s), strlen(s))
/* Read until EOF, an error or cap - 1 bytes. Returns the bytes read; *err gets
 * 0 on EOF or the errno. NUL-terminates. */
size_t raw_read_all(int fd, char *buf, size_t cap, int *err);
/* Read one response (head and a Content-Length body). Returns its length. */
size_t raw_read_response(int fd, char *buf, size_t cap);
/* Status code of the response at buf, or -1. */
int resp_status(const char *buf);
/* Milliseconds of a monotonic clock. */
uint64_t mono_ms(void);

#endif
