#include "server_helpers.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "runner.h"

void srv_init(struct srv_fixture *fx, const ac_server_opts_t *opts) {
  if (fx->grace_ms == 0) fx->grace_ms = 2000;
  ASSERT_OK(ac_loop_new(&fx->loop));
  ASSERT_OK(ac_server_new(fx->loop, opts, &fx->server));
}

static void client_thread(void *arg) {
  struct srv_fixture *fx = arg;
  fx->client(fx);
}

static int main_task(void *arg, void **result) {
  struct srv_fixture *fx = arg;
  (void)result;
  ASSERT_OK(ac_run_in_thread(client_thread, fx));
  fx->shutdown_rc = ac_server_shutdown(fx->server, fx->grace_ms);
  return 0;
}

void srv_run(struct srv_fixture *fx) {
  ac_task_t *t;
  ac_server_stats_t st;

  if (ac_server_port(fx->server) == 0) ASSERT_OK(ac_server_listen(fx->server, "127.0.0.1", 0));
  fx->port = ac_server_port(fx->server);
  ASSERT_GT(fx->port, 0);
  ASSERT_OK(ac_task_spawn(fx->loop, main_task, fx, NULL, &t));
  ASSERT_OK(ac_loop_run_until_done(fx->loop, t));
  ASSERT_OK(ac_task_result(t, NULL));
  ac_task_release(t);
  ac_server_stats(fx->server, &st);
  ASSERT_EQ(st.connections_now, 0);
  ASSERT_EQ(st.in_flight_now, 0);
}

void srv_done(struct srv_fixture *fx) {
  ASSERT_OK(ac_server_free(fx->server));
  ASSERT_OK(ac_loop_run(fx->loop));
  ASSERT_OK(ac_loop_close(fx->loop));
}

int run_cmd(const char *cmd, char *out, size_t cap) {
  FILE *f = popen(cmd, "r");
  size_t n = 0, r;
  int st;
  ASSERT_NOT_NULL(f);
  while (n + 1 < cap && (r = fread(out + n, 1, cap - 1 - n, f)) > 0) n += r;
  out[n] = '\0';
  /* Drain what did not fit so that the command is not killed by SIGPIPE. */
  {
    char sink[4096];
    while (fread(sink, 1, sizeof(sink), f) > 0) {
    }
  }
  st = pclose(f);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

void require_curl(void) {
  if (system("curl --version >/dev/null 2>&1") != 0) {
    fprintf(stderr, "curl not found: skipped\n");
    exit(77);
  }
}

int raw_connect(int port) {
  struct sockaddr_in sa;
  struct timeval tv = {10, 0};
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  memset(&sa, 0, sizeof(sa));
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
  ASSERT_EQ(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
  return fd;
}

void raw_send(int fd, const char *data, size_t len) {
  while (len > 0) {
    ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    ASSERT_GT(n, 0);
    data += n;
    len -= (size_t)n;
  }
}

size_t raw_read_all(int fd, char *buf, size_t cap, int *err) {
  size_t n = 0;
  *err = 0;
  while (n + 1 < cap) {
    ssize_t r = recv(fd, buf + n, cap - 1 - n, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      *err = errno;
      break;
    }
    if (r == 0) break;
    n += (size_t)r;
  }
  buf[n] = '\0';
  return n;
}

size_t raw_read_response(int fd, char *buf, size_t cap) {
  size_t n = 0, want = 0;
  for (;;) {
    ssize_t r;
    char *end;
    buf[n] = '\0';
    end = strstr(buf, "\r\n\r\n");
    if (end != NULL && want == 0) {
      const char *cl = strstr(buf, "Content-Length: ");
      size_t head = (size_t)(end + 4 - buf);
      want = head + (cl != NULL && cl < end ? strtoul(cl + 16, NULL, 10) : 0);
    }
    if (want != 0 && n >= want) return want;
    ASSERT_LT(n + 1, cap);
    r = recv(fd, buf + n, cap - 1 - n, 0);
    if (r < 0 && errno == EINTR) continue;
    ASSERT_GT(r, 0);
    n += (size_t)r;
  }
}

int resp_status(const char *buf) {
  int st;
  if (sscanf(buf, "HTTP/1.%*d %d", &st) != 1) return -1;
  return st;
}

uint64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}
