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
#include <malloc.h>

#include "acrawl.h"

struct bench {
  const char *url;
  long n, c;
  long next, ok, failed;
  ac_session_t *s;
  double t0;
  double *done_at;           /* per request: seconds from the start to its end */
  ac_http_timings_t *tm;     /* per request: libcurl's timings */
};

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int worker(void *arg, void **result) {
  struct bench *b = arg;
  ac_request_opts_t o;
  (void)result;
  ac_request_opts_init(&o);
  o.url = b->url;
  while (b->next < b->n) {
    ac_response_t *r = NULL;
    long i = b->next++;
    if (ac_session_request(b->s, &o, &r, NULL) == 0 && ac_response_status(r) == 200) {
      b->ok++;
      if (b->tm != NULL) ac_response_timings(r, &b->tm[i]);
    } else {
      b->failed++;
    }
    if (b->done_at != NULL) b->done_at[i] = now_s() - b->t0;
    ac_response_free(r);
  }
  return 0;
}

/* BENCH_FETCH_HEAP=MS: the heap in use MS after the start (where a burst's
 * memory goes). */
static int heap_probe(void *arg, void **result) {
  struct mallinfo2 mi;
  (void)result;
  ac_sleep((uint64_t)atol((const char *)arg));
  mi = mallinfo2();
  printf("heap: in use %.1f MB, arena %.1f MB, mmapped %.1f MB\n", (double)mi.uordblks / 1048576.0,
         (double)mi.arena / 1048576.0, (double)mi.hblkhd / 1048576.0);
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
  if (rc == 0 && getenv("BENCH_FETCH_HEAP") != NULL) {
    ac_task_t *probe;
    if (ac_task_spawn(loop, heap_probe, getenv("BENCH_FETCH_HEAP"), NULL, &probe) == 0)
      ac_task_release(probe);
  }
  for (i = 0; i < b->c && rc == 0; i++) rc = ac_task_spawn(loop, worker, b, NULL, &t[i]);
  if (rc == 0) rc = ac_gather(t, (size_t)b->c);
  for (i = 0; i < b->c; i++)
    if (t[i] != NULL) ac_task_release(t[i]);
  free(t);
  ac_session_free(b->s);
  return rc;
}


static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* BENCH_FETCH_TIMES=1: where the time of each request went (percentiles). */
static void print_times(const struct bench *b) {
  const char *names[] = {"done_at_s", "connect_s", "first_byte_s", "total_s", "done-total_s"};
  double *v = calloc((size_t)b->n, sizeof(*v));
  long i;
  int k;
  if (v == NULL) return;
  for (k = 0; k < 5; k++) {
    for (i = 0; i < b->n; i++)
      v[i] = k == 0 ? b->done_at[i]
             : k == 1 ? (double)b->tm[i].connect_us / 1e6
             : k == 2 ? (double)b->tm[i].first_byte_us / 1e6
             : k == 3 ? (double)b->tm[i].total_us / 1e6
                      : b->done_at[i] - (double)b->tm[i].total_us / 1e6;
    qsort(v, (size_t)b->n, sizeof(*v), cmp_double);
    printf("%-13s min %.3f  p10 %.3f  p50 %.3f  p90 %.3f  p99 %.3f  max %.3f\n", names[k], v[0],
           v[b->n / 10], v[b->n / 2], v[b->n * 9 / 10], v[b->n * 99 / 100], v[b->n - 1]);
  }
  free(v);
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
  if (getenv("BENCH_FETCH_TIMES") != NULL) {
    b.done_at = calloc((size_t)b.n, sizeof(*b.done_at));
    b.tm = calloc((size_t)b.n, sizeof(*b.tm));
  }
  (void)ac_reserve_fds((size_t)b.c + 64, NULL); /* as acrawl fetch does */
  t0 = now_s();
  b.t0 = t0;
  rc = ac_run(bench_main, &b, NULL);
  wall = now_s() - t0;
  getrusage(RUSAGE_SELF, &ru);
  cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
        (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
  printf("acrawl fetch: %ld requests (%ld ok, %ld failed), %ld in flight: %.0f req/s, "
         "%.1f CPU us/request, peak RSS %.1f MB\n",
         b.n, b.ok, b.failed, b.c, (double)b.n / wall, cpu * 1e6 / (double)b.n,
         (double)ru.ru_maxrss / 1024.0);
  if (b.done_at != NULL && b.tm != NULL) print_times(&b);
  free(b.done_at);
  free(b.tm);
  return rc == 0 && b.failed == 0 ? 0 : 1;
}
