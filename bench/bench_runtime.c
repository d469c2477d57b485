/*
 * Runtime benchmarks: what a task costs.
 *
 *   spawn_join_serial   a main task spawns an empty task and awaits it, N times
 *   spawn_gather_batch  spawn 1,000 empty tasks, gather them, release; N/1000 times
 *   yield_pingpong      two tasks alternate with ac_yield (a task switch via the loop)
 *   suspended_rss       RSS per task with 10,000 tasks suspended at once
 *   queue_1m            1,000,000 items through a bounded queue (capacity 1,024)
 *                       by 4 producers and 4 consumers, with RSS sampled as it runs
 *   queue_tasks_1m      the same, but each item is a task: producers spawn tasks and
 *                       put them in the queue, consumers await and release them, so
 *                       1,000,000 tasks pass with at most ~1,000 alive
 *
 * Each figure is the median of 5 runs; RSS comes from /proc/self/statm.
 * Usage: bench_runtime [name...]   (no name: all)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"

#include "acrawl.h"

#define RUNS 5


static void check(int rc, const char *what) {
  if (rc != 0) {
    fprintf(stderr, "bench_runtime: %s: %s\n", what, ac_strerror(rc));
    exit(1);
  }
}

/* ------------------------------------------------------ spawn and join */

static long iterations;

static int empty(void *arg, void **result) { return 0; }

static int serial_main(void *arg, void **result) {
  ac_loop_t *loop = ac_task_loop(ac_task_current());
  long i;
  for (i = 0; i < iterations; i++) {
    ac_task_t *t;
    check(ac_task_spawn(loop, empty, NULL, NULL, &t), "spawn");
    check(ac_task_await(t, NULL), "await");
    ac_task_release(t);
  }
  return 0;
}

#define BATCH 1000

static int batch_main(void *arg, void **result) {
  ac_loop_t *loop = ac_task_loop(ac_task_current());
  static ac_task_t *tasks[BATCH];
  long i;
  int j;
  for (i = 0; i < iterations / BATCH; i++) {
    for (j = 0; j < BATCH; j++) check(ac_task_spawn(loop, empty, NULL, NULL, &tasks[j]), "spawn");
    check(ac_gather(tasks, BATCH), "gather");
    for (j = 0; j < BATCH; j++) ac_task_release(tasks[j]);
  }
  return 0;
}

static double time_main(ac_task_fn fn, long n) {
  double t0;
  iterations = n;
  t0 = now_ns();
  check(ac_run(fn, NULL, NULL), "ac_run");
  return (now_ns() - t0) / (double)n;
}

static void bench_spawn(void) {
  double serial[RUNS], batch[RUNS];
  long n = 1000000;
  int r;
  for (r = 0; r < RUNS; r++) {
    serial[r] = time_main(serial_main, n);
    batch[r] = time_main(batch_main, n);
  }
  printf("spawn_join_serial   %8.1f ns per task  (spawn + run + await + release, %ld tasks)\n",
         median(serial, RUNS), n);
  printf("spawn_gather_batch  %8.1f ns per task  (batches of %d, gather, %ld tasks)\n",
         median(batch, RUNS), BATCH, n);
}

/* ------------------------------------------------------------ yield */

static int pinger(void *arg, void **result) {
  long i;
  for (i = 0; i < iterations; i++) check(ac_yield(), "yield");
  return 0;
}

static int pingpong_main(void *arg, void **result) {
  ac_loop_t *loop = ac_task_loop(ac_task_current());
  ac_task_t *t[2];
  check(ac_task_spawn(loop, pinger, NULL, NULL, &t[0]), "spawn");
  check(ac_task_spawn(loop, pinger, NULL, NULL, &t[1]), "spawn");
  check(ac_gather(t, 2), "gather");
  ac_task_release(t[0]);
  ac_task_release(t[1]);
  return 0;
}

static void bench_yield(void) {
  double v[RUNS];
  long n = 2000000;
  int r;
  for (r = 0; r < RUNS; r++) v[r] = time_main(pingpong_main, n) / 2; /* two yields per round */
  printf("yield_pingpong      %8.1f ns per yield (two tasks, %ld yields each: "
         "switch out, ready queue, switch in)\n", median(v, RUNS), n);
}

/* ---------------------------------------------------- suspended tasks */

#define SUSPENDED 10000

struct suspended {
  ac_event_t *go;
  long rss_before;
  long rss_all_waiting;
  int waiting;
};

static int suspended_body(void *arg, void **result) {
  struct suspended *s = arg;
  volatile char frame[1024]; /* a realistic frame: a request's locals */
  memset((char *)frame, 1, sizeof(frame));
  s->waiting++;
  check(ac_event_wait(s->go), "event wait");
  return frame[10] == 1 ? 0 : AC_EIO;
}

static int suspended_main(void *arg, void **result) {
  struct suspended *s = arg;
  ac_loop_t *loop = ac_task_loop(ac_task_current());
  int i;
  check(ac_event_new(loop, &s->go), "event");
  s->rss_before = rss_kib();
  for (i = 0; i < SUSPENDED; i++) check(ac_task_spawn(loop, suspended_body, s, NULL, NULL), "spawn");
  while (s->waiting < SUSPENDED) check(ac_sleep(1), "sleep");
  s->rss_all_waiting = rss_kib();
  ac_event_set(s->go);
  while (ac_loop_task_count(loop) > 1) check(ac_sleep(1), "sleep");
  check(ac_event_free(s->go), "event free");
  return 0;
}

static void bench_suspended(void) {
  double v[RUNS];
  int r;
  for (r = 0; r < RUNS; r++) {
    struct suspended s = {0};
    check(ac_run(suspended_main, &s, NULL), "ac_run");
    v[r] = (double)(s.rss_all_waiting - s.rss_before) / SUSPENDED;
  }
  printf("suspended_rss       %8.2f KiB per task (%d tasks suspended at once, 1 KiB frame each, "
         "default stack)\n", median(v, RUNS), SUSPENDED);
}

/* -------------------------------------------------------------- queue */

#define ITEMS 1000000L
#define PRODUCERS 4
#define CONSUMERS 4

struct pipeline {
  ac_queue_t *q;
  long consumed;
  long sum;
  long rss_start, rss_max;
};

static int producer(void *arg, void **result) {
  struct pipeline *p = arg;
  long i;
  for (i = 0; i < ITEMS / PRODUCERS; i++) check(ac_queue_put(p->q, (void *)(intptr_t)(i + 1)), "put");
  return 0;
}

static int consumer(void *arg, void **result) {
  struct pipeline *p = arg;
  void *item;
  int rc;
  while ((rc = ac_queue_get(p->q, &item)) == 0) {
    p->sum += (long)(intptr_t)item;
    if (++p->consumed % 65536 == 0) {
      long rss = rss_kib();
      if (rss > p->rss_max) p->rss_max = rss;
    }
  }
  return rc == AC_ECLOSED ? 0 : rc;
}


/* ------------------------------------------------ tasks through a queue */

static int task_job(void *arg, void **result) {
  *result = arg;
  return 0;
}

static int task_producer(void *arg, void **result) {
  struct pipeline *p = arg;
  ac_loop_t *loop = ac_task_loop(ac_task_current());
  long i;
  for (i = 0; i < ITEMS / PRODUCERS; i++) {
    ac_task_t *t;
    check(ac_task_spawn(loop, task_job, (void *)(intptr_t)(i + 1), NULL, &t), "spawn");
    check(ac_queue_put(p->q, t), "put");
  }
  return 0;
}

static int task_consumer(void *arg, void **result) {
  struct pipeline *p = arg;
  void *item, *value;
  int rc;
  while ((rc = ac_queue_get(p->q, &item)) == 0) {
    check(ac_task_await(item, &value), "await");
    ac_task_release(item);
    p->sum += (long)(intptr_t)value;
    if (++p->consumed % 65536 == 0) {
      long rss = rss_kib();
      if (rss > p->rss_max) p->rss_max = rss;
    }
  }
  return rc == AC_ECLOSED ? 0 : rc;
}

/* Runs PRODUCERS producers and CONSUMERS consumers over one bounded queue,
 * closes it when the producers are done, and waits for the consumers. */
static int run_workers(struct pipeline *p, ac_task_fn produce, ac_task_fn consume) {
  ac_loop_t *loop = ac_task_loop(ac_task_current());
  ac_task_t *prod[PRODUCERS], *cons[CONSUMERS];
  int i;
  check(ac_queue_new(loop, 1024, &p->q), "queue");
  p->rss_start = p->rss_max = rss_kib();
  for (i = 0; i < CONSUMERS; i++) check(ac_task_spawn(loop, consume, p, NULL, &cons[i]), "spawn");
  for (i = 0; i < PRODUCERS; i++) check(ac_task_spawn(loop, produce, p, NULL, &prod[i]), "spawn");
  check(ac_gather(prod, PRODUCERS), "producers");
  ac_queue_close(p->q);
  check(ac_gather(cons, CONSUMERS), "consumers");
  for (i = 0; i < PRODUCERS; i++) ac_task_release(prod[i]);
  for (i = 0; i < CONSUMERS; i++) ac_task_release(cons[i]);
  check(ac_queue_free(p->q), "queue free");
  return 0;
}

static int pipeline_main(void *arg, void **result) { return run_workers(arg, producer, consumer); }

static int task_pipeline_main(void *arg, void **result) {
  return run_workers(arg, task_producer, task_consumer);
}

static void run_pipeline(const char *name, ac_task_fn fn, const char *what) {
  double v[RUNS];
  long growth = 0, per = ITEMS / PRODUCERS;
  int r;
  for (r = 0; r < RUNS; r++) {
    struct pipeline p = {0};
    double t0 = now_ns();
    check(ac_run(fn, &p, NULL), "ac_run");
    v[r] = (now_ns() - t0) / (double)ITEMS;
    if (p.consumed != ITEMS || p.sum != PRODUCERS * per * (per + 1) / 2) {
      fprintf(stderr, "bench_runtime: %s lost items (%ld of %ld)\n", name, p.consumed, ITEMS);
      exit(1);
    }
    if (p.rss_max - p.rss_start > growth) growth = p.rss_max - p.rss_start;
  }
  printf("%-19s %8.1f ns per %s (%ld, capacity 1024, %d producers, %d consumers; "
         "RSS growth while running: %ld KiB)\n",
         name, median(v, RUNS), what, ITEMS, PRODUCERS, CONSUMERS, growth);
}

static void bench_queue(void) { run_pipeline("queue_1m", pipeline_main, "item"); }
static void bench_queue_tasks(void) { run_pipeline("queue_tasks_1m", task_pipeline_main, "task"); }

int main(int argc, char **argv) {
  static const struct {
    const char *name;
    void (*fn)(void);
  } benches[] = {{"spawn", bench_spawn},
                 {"yield", bench_yield},
                 {"suspended", bench_suspended},
                 {"queue", bench_queue},
                 {"queue_tasks", bench_queue_tasks}};
  size_t i;
  int a;
  printf("# %s\n", ac_version_info());
  for (i = 0; i < sizeof(benches) / sizeof(benches[0]); i++) {
    int selected = argc < 2;
    for (a = 1; a < argc; a++) selected |= strcmp(argv[a], benches[i].name) == 0;
    if (selected) benches[i].fn();
  }
  return 0;
}
