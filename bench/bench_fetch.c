/*
 * bench_fetch: N GETs of one URL with C in flight through acrawl's HTTP
 * client (C worker tasks sharing one session), as wrk does with C
 * connections. Prints requests/s, CPU microseconds per request (user + sys of
 * the whole process) and peak RSS.
 *
 *   bench_fetch URL [N=20000] [C=64]
 *   wrk -t1 -c64 -d5s URL          (the reference, on the same URL)
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include "acrawl.h"

struct bench {
  const char *url;
  long n, c;
  long next, ok, failed;
  ac_session_t *s;
};

static int worker(void *arg, void **result) {
  struct bench *b = arg;
  ac_request_opts_t o;
  (void)result;
  ac_request_opts_init(&o);
  o.url = b->url;
  while (b->next < b->n) {
    ac_response_t *r = NULL;
    b->next++;
    if (ac_session_request(b->s, &o, &r, NULL) == 0 && ac_response_status(r) == 200)
      b->ok++;
    else
      b->failed++;
    ac_response_free(r);
  }
  return 0;
}

static int bench_main(void *arg, void **result) {
  struct bench *b = arg;
  ac_loop_t *loop = ac_task_loop(ac_task_current());
  ac_task_t **t = calloc((size_t)b->c, sizeof(*t));
  long i;
  int rc;
  (void)result;
  if (t == NULL) return AC_ENOMEM;
  rc = ac_session_new(loop, NULL, &b->s);
  for (i = 0; i < b->c && rc == 0; i++) rc = ac_task_spawn(loop, worker, b, NULL, &t[i]);
  if (rc == 0) rc = ac_gather(t, (size_t)b->c);
  for (i = 0; i < b->c; i++)
    if (t[i] != NULL) ac_task_release(t[i]);
  free(t);
  ac_session_free(b->s);
  return rc;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  struct bench b = {0};
  struct rusage ru;
  double t0, wall, cpu;
  int rc;

  if (argc < 2) {
    fprintf(stderr, "usage: bench_fetch URL [N=20000] [C=64]\n");
    return 2;
  }
  b.url = argv[1];
  b.n = argc > 2 ? atol(argv[2]) : 20000;
  b.c = argc > 3 ? atol(argv[3]) : 64;
  if (b.n <= 0 || b.c <= 0) {
    fprintf(stderr, "bench_fetch: N and C must be positive\n");
    return 2;
  }
  t0 = now_s();
  rc = ac_run(bench_main, &b, NULL);
  wall = now_s() - t0;
  getrusage(RUSAGE_SELF, &ru);
  cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
        (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
  printf("acrawl fetch: %ld requests (%ld ok, %ld failed), %ld in flight: %.0f req/s, "
         "%.1f CPU us/request, peak RSS %.1f MB\n",
         b.n, b.ok, b.failed, b.c, (double)b.n / wall, cpu * 1e6 / (double)b.n,
         (double)ru.ru_maxrss / 1024.0);
  return rc == 0 && b.failed == 0 ? 0 : 1;
}
