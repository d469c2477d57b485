/*
 * See http_testlib.h. nginx and gunicorn are children of the test
 * (tests/runner/child.h), each with a temporary directory of its own.
 */
#define _GNU_SOURCE
#include "http_testlib.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "child.h"
#include "runner.h"

int ht_listen_loopback(int backlog, int *port) {
  struct sockaddr_in a;
  socklen_t len = sizeof(a);
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT(fd >= 0);
  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
  ASSERT_EQ(listen(fd, backlog), 0);
  ASSERT_EQ(getsockname(fd, (struct sockaddr *)&a, &len), 0);
  *port = ntohs(a.sin_port);
  return fd;
}

const char *ht_url(char *buf, size_t size, int port, const char *path) {
  snprintf(buf, size, "http://127.0.0.1:%d%s", port, path);
  return buf;
}

double ht_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static void write_file(const char *dir, const char *name, const void *data, size_t len) {
  char path[512];
  FILE *f;
  snprintf(path, sizeof(path), "%s/%s", dir, name);
  f = fopen(path, "wb");
  ASSERT_NOT_NULL(f);
  ASSERT_UEQ(fwrite(data, 1, len, f), len);
  ASSERT_EQ(fclose(f), 0);
}

static char small_body[HT_SMALL_LEN + 1];

const char *ht_small_body(void) {
  if (small_body[0] == '\0') {
    /* A list page of the book site, padded to its size with spaces. */
    size_t n = (size_t)snprintf(small_body, sizeof(small_body),
                                "{\"count\": 9040, \"results\": [");
    int i;
    for (i = 0; i < 4; i++)
      n += (size_t)snprintf(small_body + n, sizeof(small_body) - n,
                            "%s{\"id\": \"%d\", \"name\": \"Book %d\", \"authors\": "
                            "[\"\\n  Author %d  \\n\"], \"score\": \"8.%d\"}",
                            i ? ", " : "", i + 1, i + 1, i, i);
    n += (size_t)snprintf(small_body + n, sizeof(small_body) - n, "]}");
    memset(small_body + n, ' ', HT_SMALL_LEN - n);
    small_body[HT_SMALL_LEN] = '\0';
  }
  return small_body;
}

/* The servers a test started; child.c stops them when it ends. */
static struct ac_child servers[4];
static int nservers;

static struct ac_child *next_server(void) {
  ASSERT_LT(nservers, (int)(sizeof(servers) / sizeof(servers[0])));
  /* A server may close first: a send must fail, not kill the test. */
  signal(SIGPIPE, SIG_IGN);
  return &servers[nservers++];
}

int ht_nginx_start(void) { return ht_nginx_start_tls(NULL, NULL, 0); }

static int proxy_port;
int ht_nginx_proxy_port(void) { return proxy_port; }

/* A self-signed certificate for 127.0.0.1 (openssl's command line). */
static void make_cert(const char *dir) {
  char openssl[512], cmd[1024];
  if (ac_child_find("openssl", openssl, sizeof(openssl)) == NULL)
    ac_test_skip("openssl not found (apt-get install openssl)");
  snprintf(cmd, sizeof(cmd),
           "cd '%s' && '%s' req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
           " -keyout key.pem -out cert.pem -days 2 -subj /CN=127.0.0.1"
           " -addext subjectAltName=IP:127.0.0.1 >openssl.log 2>&1",
           dir, openssl);
  ASSERT_EQ(system(cmd), 0);
}

int ht_nginx_start_tls(int *tls_port, char *ca_file, size_t ca_size) {
  const char *dir = ac_test_tmpdir("acrawl-nginx");
  char path[512], log[512], conf[4096], tls[1024];
  unsigned char *large;
  char *text;
  size_t i;
  int port = ac_test_free_port();

  proxy_port = ac_test_free_port();
  tls[0] = '\0';
  if (tls_port != NULL) {
    /* HTTPS with HTTP/2 offered through ALPN, on a second port. */
    *tls_port = ac_test_free_port();
    make_cert(dir);
    snprintf(ca_file, ca_size, "%s/cert.pem", dir);
    snprintf(tls, sizeof(tls),
             "  server {\n"
             "    listen 127.0.0.1:%2$d ssl http2;\n"
             "    ssl_certificate %1$s/cert.pem; ssl_certificate_key %1$s/key.pem;\n"
             "    root %1$s/www;\n"
             "  }\n",
             dir, *tls_port);
  }
  snprintf(path, sizeof(path), "%s/www", dir);
  ASSERT_EQ(mkdir(path, 0755), 0);
  snprintf(path, sizeof(path), "%s/tmp", dir);
  ASSERT_EQ(mkdir(path, 0755), 0);
  write_file(dir, "www/small.json", ht_small_body(), HT_SMALL_LEN);
  text = malloc(HT_TEXT_LEN);
  ASSERT_NOT_NULL(text);
  for (i = 0; i < HT_TEXT_LEN; i++) text[i] = "acrawl fetches pages\n"[i % 21];
  write_file(dir, "www/text.txt", text, HT_TEXT_LEN);
  free(text);
  large = malloc(HT_LARGE_LEN);
  ASSERT_NOT_NULL(large);
  for (i = 0; i < HT_LARGE_LEN; i++) large[i] = ht_large_byte(i);
  write_file(dir, "www/large.bin", large, HT_LARGE_LEN);
  free(large);
  /* One process (no master, no user switch), everything inside the temp
   * directory, gzip on for JSON and text. */
  snprintf(conf, sizeof(conf),
           "daemon off; master_process off; worker_processes 1;\n"
           "pid %1$s/nginx.pid; error_log %1$s/error.log;\n"
           "events { worker_connections 8192; }\n"
           "http {\n"
           "  access_log off;\n"
           "  client_body_temp_path %1$s/tmp; proxy_temp_path %1$s/tmp;\n"
           "  fastcgi_temp_path %1$s/tmp; uwsgi_temp_path %1$s/tmp; scgi_temp_path %1$s/tmp;\n"
           "  types { application/json json; text/plain txt; application/octet-stream bin; }\n"
           "  keepalive_requests 1000000;\n"
           "  gzip on; gzip_types application/json text/plain; gzip_min_length 100;\n"
           "  server {\n"
           "    listen 127.0.0.1:%2$d backlog=4096;\n"
           "    root %1$s/www;\n"
           "    location = /old { return 301 /small.json; }\n"
           "    location = /loop { return 301 /loop; }\n"
           "    location = /r3 { return 302 /r2; }\n"
           "    location = /r2 { return 302 /r1; }\n"
           "    location = /r1 { return 302 /small.json; }\n"
           "  }\n"
           "  server {\n"
           "    listen 127.0.0.1:%4$d;\n"
           "    location / { proxy_pass http://127.0.0.1:%2$d; add_header X-Proxied yes; }\n"
           "  }\n"
           "%3$s"
           "}\n",
           dir, port, tls, proxy_port);
  write_file(dir, "nginx.conf", conf, strlen(conf));
  snprintf(path, sizeof(path), "%s/nginx.conf", dir);
  snprintf(log, sizeof(log), "%s/stderr.log", dir);
  {
    char *argv[] = {"nginx", "-p", (char *)dir, "-c", path, "-e", "stderr", NULL};
    struct ac_child_opts o = {.what = "nginx", .argv = argv, .missing = "apt-get install nginx-light",
                              .cwd = dir, .log = log, .port = port};
    ac_child_start(next_server(), &o);
  }
  return port;
}

int ht_httpbin_start(void) {
  const char *dir;
  char bind[64], log[512];
  int port;

  if (access("/usr/lib/python3/dist-packages/httpbin", F_OK) != 0)
    ac_test_skip("python3-httpbin not installed (apt-get install python3-httpbin)");
  dir = ac_test_tmpdir("acrawl-httpbin");
  port = ac_test_free_port();
  snprintf(bind, sizeof(bind), "127.0.0.1:%d", port);
  snprintf(log, sizeof(log), "%s/gunicorn.log", dir);
  {
    char *argv[] = {"gunicorn", "-b", bind, "-w", "1", "-k", "gthread", "--threads", "16",
                    "--log-level", "warning", "httpbin:app", NULL};
    struct ac_child_opts o = {.what = "gunicorn httpbin", .argv = argv,
                              .missing = "apt-get install gunicorn python3-httpbin", .cwd = dir,
                              .log = log, .port = port};
    ac_child_start(next_server(), &o);
  }
  return port;
}

/* ----------------------------------------------------------- raw server */

static void read_request(int fd) {
  char buf[4096];
  size_t have = 0;
  /* Enough for the tests' requests: stop at the blank line. */
  while (have < sizeof(buf) - 1) {
    ssize_t n = recv(fd, buf + have, sizeof(buf) - 1 - have, 0);
    if (n <= 0) return;
    have += (size_t)n;
    buf[have] = '\0';
    if (strstr(buf, "\r\n\r\n") != NULL) return;
  }
}

void ht_send_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
    if (w <= 0) return;
    p += w;
    n -= (size_t)w;
  }
}

static void *raw_main(void *arg) {
  struct ht_raw *r = arg;
  while (!r->stop) {
    struct pollfd p = {r->listen_fd, POLLIN, 0};
    int fd;
    if (poll(&p, 1, 50) <= 0) continue;
    fd = accept(r->listen_fd, NULL, NULL);
    if (fd < 0) continue;
    r->accepted++;
    read_request(fd);
    if (r->mode == HT_RAW_SHORT) {
      const char *h = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nContent-Type: text/plain\r\n\r\n"
                      "0123456789";
      ht_send_all(fd, h, strlen(h));
      close(fd);
    } else if (r->mode == HT_RAW_RESET) {
      char body[1000];
      const char *h = "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n";
      struct linger lg = {1, 0};
      struct timespec ts = {0, 50 * 1000 * 1000};
      memset(body, 'x', sizeof(body));
      ht_send_all(fd, h, strlen(h));
      ht_send_all(fd, body, sizeof(body));
      /* Let the client read what was sent: a reset discards unread data. */
      nanosleep(&ts, NULL);
      setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
      close(fd);
    } else if (r->mode == HT_RAW_TRICKLE) {
      const char *h = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\nConnection: close\r\n\r\n";
      struct timespec ts = {0, 100 * 1000 * 1000};
      ht_send_all(fd, h, strlen(h));
      for (int i = 0; i < 10 && !r->stop; i++) {
        nanosleep(&ts, NULL);
        ht_send_all(fd, "0123456789" + i, 1);
      }
      close(fd);
    } else {
      char c;
      while (!r->stop) {
        struct pollfd q = {fd, POLLIN, 0};
        if (poll(&q, 1, 20) > 0) {
          if (recv(fd, &c, 1, 0) <= 0) {
            r->peer_closed = 1;
            break;
          }
        }
      }
      close(fd);
    }
  }
  return NULL;
}

void ht_raw_start(struct ht_raw *r, enum ht_raw_mode mode) {
  memset(r, 0, sizeof(*r));
  signal(SIGPIPE, SIG_IGN); /* the client may close first */
  r->mode = mode;
  r->listen_fd = ht_listen_loopback(16, &r->port);
  ASSERT_EQ(pthread_create(&r->thread, NULL, raw_main, r), 0);
}

void ht_raw_stop(struct ht_raw *r) {
  r->stop = 1;
  ASSERT_EQ(pthread_join(r->thread, NULL), 0);
  close(r->listen_fd);
}

void ht_run(ac_task_fn fn, void *arg) {
  int rc = ac_run(fn, arg, NULL);
  ASSERT_OK(rc);
}

int ht_native(void) {
  const char *env = getenv("ACRAWL_HTTP_NATIVE");
  return !(env != NULL && strcmp(env, "0") == 0);
}
