/*
 * Servers for the HTTP client's tests, none of them written by acrawl:
 * Debian's nginx and python3-httpbin (under gunicorn), each started by the
 * test on 127.0.0.1 on a free port with its files in a temporary directory,
 * plus a tiny raw-socket server (a thread) for the faults real servers do not
 * make on demand. The servers are children (tests/runner/child.h): stopped
 * however the test ends, and a missing server binary makes the test exit 77
 * (skipped); CI installs them (scripts/deps.sh).
 */
#ifndef AC_TESTS_HTTP_TESTLIB_H
#define AC_TESTS_HTTP_TESTLIB_H

#include <pthread.h>
#include <stddef.h>

#include "acrawl.h"

/* nginx: /small.json (HT_SMALL_LEN bytes, gzip-able JSON), /text.txt
 * (HT_TEXT_LEN bytes of repetitive text), /large.bin (HT_LARGE_LEN bytes,
 * byte i is ht_large_byte(i)), /old -> 301 /small.json, /loop -> 301 /loop,
 * /r3 -> /r2 -> /r1 -> /small.json. Returns the port. */
#define HT_SMALL_LEN 704
#define HT_TEXT_LEN 20000
#define HT_LARGE_LEN (3 * 1024 * 1024)
int ht_nginx_start(void);
/* The same, plus HTTPS (HTTP/2 through ALPN) on *tls_port with a self-signed
 * certificate for 127.0.0.1, whose file name goes to ca_file. */
int ht_nginx_start_tls(int *tls_port, char *ca_file, size_t ca_size);
/* The started nginx also is a forward proxy for http:// URLs on this port:
 * whatever the host asked for, it answers from its own files, adding
 * "X-Proxied: yes". */
int ht_nginx_proxy_port(void);
/* The bytes of /small.json. */
const char *ht_small_body(void);
static inline unsigned char ht_large_byte(size_t i) { return (unsigned char)((i * 7u + (i >> 12)) & 0xff); }

/* httpbin under gunicorn (threaded worker, so /delay does not block the
 * rest). Returns the port. */
int ht_httpbin_start(void);

/* A raw server: accepts connections on a thread and misbehaves. */
enum ht_raw_mode {
  HT_RAW_SHORT,  /* Content-Length: 100, then 10 bytes and a clean close */
  HT_RAW_RESET,  /* Content-Length: 100000, 1000 bytes, then a reset (SO_LINGER 0) */
  HT_RAW_SILENT, /* reads the request and never answers until stopped */
  HT_RAW_TRICKLE /* Content-Length: 10, Connection: close, a byte every 100 ms, close */
};
struct ht_raw {
  int listen_fd;
  int port;
  enum ht_raw_mode mode;
  pthread_t thread;
  _Atomic int stop;
  _Atomic int accepted;
  _Atomic int peer_closed; /* SILENT: the client closed its side */
};
void ht_raw_start(struct ht_raw *r, enum ht_raw_mode mode);
void ht_raw_stop(struct ht_raw *r);

/* A TCP socket listening on 127.0.0.1 on a port the kernel picks: returns
 * the fd, *port gets the port. */
int ht_listen_loopback(int backlog, int *port);

/* Sends all of p from a test server's thread; stops quietly when the client
 * has gone (MSG_NOSIGNAL: no SIGPIPE). */
void ht_send_all(int fd, const char *p, size_t n);

/* "http://127.0.0.1:<port><path>" into buf. */
const char *ht_url(char *buf, size_t size, int port, const char *path);

/* Milliseconds of a monotonic clock. */
double ht_now_ms(void);

/* Whether a session with default options sends plain http:// through the
 * native transport (1), or ACRAWL_HTTP_NATIVE=0 sends it through libcurl (0). */
int ht_native(void);

/* Run fn as the main task of a new loop; assert that it returned 0. */
void ht_run(ac_task_fn fn, void *arg);

#endif /* AC_TESTS_HTTP_TESTLIB_H */
