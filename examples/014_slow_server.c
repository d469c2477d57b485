/*
 * The tutorial's slow server and its three clients: an acrawl server whose
 * handler waits D seconds without blocking the others (aiohttp's
 * `await asyncio.sleep(3)`), then N requests made with a plain loop of
 * blocking calls (about N x D), with a pool of N threads (about D), and with
 * N acrawl tasks (about D, on one thread).
 *
 * The server runs in a child process, so the blocking clients cannot stall it.
 * usage: 014_slow_server [D_SECONDS=3] [N=5]
 */
#include <curl/curl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "acrawl.h"

static double delay_s = 3;
static int nreq = 5;
static char url[64];

/* ------------------------------------------------------------- server */

static int slow_handler(ac_server_req_t *req, ac_server_resp_t *resp, void *ud) {
  int rc = ac_sleep((uint64_t)(delay_s * 1000)); /* waits without blocking */
  return rc != 0 ? rc : ac_server_resp_text(resp, 200, "Hello, World");
}

static int server_main(void *arg, void **result) {
  int *port_pipe = arg, port, rc;
  ac_server_t *server;
  if ((rc = ac_server_new(ac_task_loop(ac_task_current()), NULL, &server)) != 0) return rc;
  if ((rc = ac_server_route(server, "GET", "/", slow_handler, NULL)) != 0) return rc;
  if ((rc = ac_server_listen(server, "127.0.0.1", 0)) != 0) return rc;
  port = ac_server_port(server);
  if (write(port_pipe[1], &port, sizeof(port)) != (ssize_t)sizeof(port)) return AC_EIO;
  return ac_sleep(AC_NO_TIMEOUT - 1); /* until the parent kills us */
}

/* ---------------------------------------------------- blocking clients */

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t discard(char *p, size_t size, size_t n, void *ud) { return size * n; }

static void *blocking_get(void *arg) {
  CURL *h = curl_easy_init();
  long status = 0;
  curl_easy_setopt(h, CURLOPT_URL, url);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
  if (curl_easy_perform(h) == CURLE_OK) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(h);
  *(long *)arg = status;
  return NULL;
}

/* ------------------------------------------------------- async client */

static int async_get(void *arg, void **result) {
  ac_request_opts_t o;
  ac_response_t *r;
  int rc;
  ac_request_opts_init(&o);
  o.url = url;
  rc = ac_session_request(arg, &o, &r, NULL);
  if (rc == 0) ac_response_free(r);
  return rc;
}

static int async_main(void *arg, void **result) {
  ac_loop_t *loop = ac_task_loop(ac_task_current());
  ac_session_t *session;
  ac_task_t *tasks[64];
  int i, rc;
  if ((rc = ac_session_new(loop, NULL, &session)) != 0) return rc;
  for (i = 0; i < nreq; i++) ac_task_spawn(loop, async_get, session, NULL, &tasks[i]);
  rc = ac_gather(tasks, (size_t)nreq);
  for (i = 0; i < nreq; i++) ac_task_release(tasks[i]);
  ac_session_free(session);
  return rc;
}

static void report(const char *how, double took, double expected) {
  /* Loose bounds: the point is N x D against D, not the exact figure. */
  int about = took >= expected * 0.9 && took < expected + delay_s * 0.9;
  printf("%-12s %d requests took about %s: %s\n", how, nreq,
         expected > delay_s * 1.5 ? "N x D" : "D", about ? "yes" : "no");
}

int main(int argc, char **argv) {
  int port_pipe[2], port = 0, i, failed = 0;
  long status[64];
  pthread_t threads[64];
  pid_t server;
  double t;

  if (argc > 1) delay_s = atof(argv[1]);
  if (argc > 2) nreq = atoi(argv[2]);
  if (delay_s <= 0 || nreq < 1 || nreq > 64) {
    fprintf(stderr, "usage: 014_slow_server [D_SECONDS>0] [N=1..64]\n");
    return 2;
  }
  if (pipe(port_pipe) != 0) return 1;
  server = fork();
  if (server == 0) _exit(ac_run(server_main, port_pipe, NULL) == 0 ? 0 : 1);
  if (server < 0 || read(port_pipe[0], &port, sizeof(port)) != (ssize_t)sizeof(port)) return 1;
  snprintf(url, sizeof(url), "http://127.0.0.1:%d/", port);
  curl_global_init(CURL_GLOBAL_DEFAULT);

  t = now_s();
  for (i = 0; i < nreq; i++) {
    blocking_get(&status[i]);
    failed += status[i] != 200;
  }
  report("plain loop:", now_s() - t, nreq * delay_s);

  t = now_s();
  for (i = 0; i < nreq; i++) pthread_create(&threads[i], NULL, blocking_get, &status[i]);
  for (i = 0; i < nreq; i++) {
    pthread_join(threads[i], NULL);
    failed += status[i] != 200;
  }
  report("thread pool:", now_s() - t, delay_s);

  t = now_s();
  failed += ac_run(async_main, NULL, NULL) != 0;
  report("async:", now_s() - t, delay_s);

  kill(server, SIGTERM);
  waitpid(server, NULL, 0);
  curl_global_cleanup();
  if (failed) fprintf(stderr, "014: %d requests failed\n", failed);
  return failed ? 1 : 0;
}
