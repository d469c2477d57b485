/*
 * Coroutine layer benchmark: context switches and stack pool operations.
 *
 *   - ping-pong: one coroutine yields straight back, 10 M switches, through
 *     acrawl's backend (ac__coro_resume / ac__coro_yield) and, for comparison,
 *     through raw glibc swapcontext;
 *   - 10,000 suspended coroutines resumed in random order, which defeats the
 *     caches and the branch predictor the way a busy loop does;
 *   - stacks: a get that maps a new stack against one served from the cache,
 *     the put that caches it, and a whole coroutine life on a cached stack.
 *
 * Each figure is the median of 5 runs, one line each; the last line is the
 * command. usage: bench_switch
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <ucontext.h>

#include "runtime/coro.h"

#define RUNS 5
#define PING_PONG_SWITCHES 10000000L
#define SUSPENDED 10000
#define SUSPENDED_ROUNDS 50
#define STACKS 1000
#define LIFECYCLES 100000L

typedef double (*bench_fn)(struct ac__stack_pool *pool);

static void die(const char *what) {
  fprintf(stderr, "bench_switch: %s failed\n", what);
  exit(1);
}

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static struct ac__stack *get_stack(struct ac__stack_pool *pool) {
  struct ac__stack *s;
  if (ac__stack_get(pool, 0, &s) != 0) die("ac__stack_get");
  return s;
}

static uint64_t xorshift(uint64_t *state) {
  uint64_t x = *state;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  return *state = x;
}

/* ------------------------------------------------------------ ping-pong */

struct looper {
  struct ac__coro coro;
  struct ac__stack *stack;
  int stop;
};

static void looper_fn(void *arg) {
  struct looper *l = arg;
  while (!l->stop) ac__coro_yield(&l->coro);
}

static void looper_start(struct ac__stack_pool *pool, struct looper *l) {
  l->stack = get_stack(pool);
  l->stop = 0;
  if (ac__coro_init(&l->coro, l->stack, looper_fn, l) != 0) die("ac__coro_init");
  ac__coro_resume(&l->coro);
}

static void looper_end(struct ac__stack_pool *pool, struct looper *l) {
  l->stop = 1;
  ac__coro_resume(&l->coro);
  ac__coro_destroy(&l->coro);
  ac__stack_put(pool, l->stack);
}

static double bench_ping_pong(struct ac__stack_pool *pool) {
  struct looper l;
  long i;
  double t0, t1;
  looper_start(pool, &l);
  t0 = now_ns();
  for (i = 0; i < PING_PONG_SWITCHES / 2; i++) ac__coro_resume(&l.coro);
  t1 = now_ns();
  looper_end(pool, &l);
  return (t1 - t0) / PING_PONG_SWITCHES;
}

/* makecontext passes no pointer: the one context pair lives here. */
static struct {
  ucontext_t main, coro;
  volatile int stop;
} uc;

static void uc_fn(void) {
  while (!uc.stop) swapcontext(&uc.coro, &uc.main);
  setcontext(&uc.main);
}

static double bench_swapcontext(struct ac__stack_pool *pool) {
  struct ac__stack *s = get_stack(pool);
  long i;
  double t0, t1;
  if (getcontext(&uc.coro) != 0) die("getcontext");
  uc.coro.uc_stack.ss_sp = s->lo;
  uc.coro.uc_stack.ss_size = s->size;
  uc.coro.uc_link = NULL;
  makecontext(&uc.coro, uc_fn, 0);
  uc.stop = 0;
  swapcontext(&uc.main, &uc.coro);
  t0 = now_ns();
  for (i = 0; i < PING_PONG_SWITCHES / 2; i++) swapcontext(&uc.main, &uc.coro);
  t1 = now_ns();
  uc.stop = 1;
  swapcontext(&uc.main, &uc.coro);
  ac__stack_put(pool, s);
  return (t1 - t0) / PING_PONG_SWITCHES;
}

/* ---------------------------------------------------- random resumption */

static double bench_suspended(struct ac__stack_pool *pool) {
  struct looper *l = malloc(SUSPENDED * sizeof *l);
  uint32_t *order = malloc((size_t)SUSPENDED * SUSPENDED_ROUNDS * sizeof *order);
  uint64_t rng = 0x9e3779b97f4a7c15ull;
  size_t i, n = (size_t)SUSPENDED * SUSPENDED_ROUNDS;
  double t0, t1;
  if (l == NULL || order == NULL) die("malloc");
  for (i = 0; i < SUSPENDED; i++) looper_start(pool, &l[i]);
  /* Every round resumes each coroutine once, in a fresh random order
   * (Fisher-Yates), drawn before the clock starts. */
  for (i = 0; i < n; i++) order[i] = (uint32_t)(i % SUSPENDED);
  for (i = 0; i < n; i++) {
    size_t end = i / SUSPENDED * SUSPENDED + SUSPENDED;
    size_t j = i + xorshift(&rng) % (end - i);
    uint32_t tmp = order[i];
    order[i] = order[j];
    order[j] = tmp;
  }
  t0 = now_ns();
  for (i = 0; i < n; i++) ac__coro_resume(&l[order[i]].coro);
  t1 = now_ns();
  for (i = 0; i < SUSPENDED; i++) looper_end(pool, &l[i]);
  free(order);
  free(l);
  return (t1 - t0) / (2.0 * (double)n);
}

/* ---------------------------------------------------------------- stacks */

/* Each run gets a pool of its own: the first gets map new stacks. */
static struct ac__stack *stacks[STACKS];

static double bench_get_new(struct ac__stack_pool *pool) {
  double t0, t1;
  int i;
  t0 = now_ns();
  for (i = 0; i < STACKS; i++) stacks[i] = get_stack(pool);
  t1 = now_ns();
  for (i = 0; i < STACKS; i++) ac__stack_put(pool, stacks[i]);
  return (t1 - t0) / STACKS;
}

static double bench_put_cached(struct ac__stack_pool *pool) {
  double t0, t1;
  int i;
  for (i = 0; i < STACKS; i++) stacks[i] = get_stack(pool);
  t0 = now_ns();
  for (i = 0; i < STACKS; i++) ac__stack_put(pool, stacks[i]);
  t1 = now_ns();
  return (t1 - t0) / STACKS;
}

static double bench_get_cached(struct ac__stack_pool *pool) {
  double t0, t1;
  int i;
  for (i = 0; i < STACKS; i++) stacks[i] = get_stack(pool);
  for (i = 0; i < STACKS; i++) ac__stack_put(pool, stacks[i]);
  t0 = now_ns();
  for (i = 0; i < STACKS; i++) stacks[i] = get_stack(pool);
  t1 = now_ns();
  for (i = 0; i < STACKS; i++) ac__stack_put(pool, stacks[i]);
  return (t1 - t0) / STACKS;
}

static void nothing_fn(void *arg) { (void)arg; }

static double bench_lifecycle(struct ac__stack_pool *pool) {
  struct ac__coro c;
  double t0, t1;
  long i;
  ac__stack_put(pool, get_stack(pool)); /* one cached stack */
  t0 = now_ns();
  for (i = 0; i < LIFECYCLES; i++) {
    struct ac__stack *s = get_stack(pool);
    if (ac__coro_init(&c, s, nothing_fn, NULL) != 0) die("ac__coro_init");
    ac__coro_resume(&c);
    ac__coro_destroy(&c);
    ac__stack_put(pool, s);
  }
  t1 = now_ns();
  return (t1 - t0) / LIFECYCLES;
}

/* ------------------------------------------------------------------ main */

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* The median of RUNS runs, each with a new pool holding STACKS stacks. */
static double median_of_runs(bench_fn fn) {
  double v[RUNS];
  int r;
  for (r = 0; r < RUNS; r++) {
    struct ac__stack_pool *pool;
    if (ac__stack_pool_new(STACKS, &pool) != 0) die("ac__stack_pool_new");
    v[r] = fn(pool);
    ac__stack_pool_free(pool);
  }
  qsort(v, RUNS, sizeof v[0], cmp_double);
  return v[RUNS / 2];
}

int main(int argc, char **argv) {
  int i;
  printf("coroutine backend: %s, default stack %u KiB\n", ac__coro_backend(),
         AC__STACK_DEFAULT / 1024);
  printf("switch_ping_pong: %.1f ns/switch (acrawl, %ld switches, median of %d)\n",
         median_of_runs(bench_ping_pong), PING_PONG_SWITCHES, RUNS);
  printf("switch_ping_pong_swapcontext: %.1f ns/switch (raw glibc, %ld switches, median of %d)\n",
         median_of_runs(bench_swapcontext), PING_PONG_SWITCHES, RUNS);
  printf("switch_random_suspended: %.1f ns/switch (%d coroutines, %d rounds in random order, "
         "median of %d)\n",
         median_of_runs(bench_suspended), SUSPENDED, SUSPENDED_ROUNDS, RUNS);
  printf("stack_get_new: %.0f ns/stack (mmap + guard, %d stacks, median of %d)\n",
         median_of_runs(bench_get_new), STACKS, RUNS);
  printf("stack_get_cached: %.0f ns/stack (%d stacks, median of %d)\n",
         median_of_runs(bench_get_cached), STACKS, RUNS);
  printf("stack_put_cached: %.0f ns/stack (%d stacks, all but the first 8 trimmed with "
         "MADV_DONTNEED, median of %d)\n",
         median_of_runs(bench_put_cached), STACKS, RUNS);
  printf("coro_lifecycle_cached: %.0f ns/coroutine (get, init, run, destroy, put; %ld, "
         "median of %d)\n",
         median_of_runs(bench_lifecycle), LIFECYCLES, RUNS);
  printf("command:");
  for (i = 0; i < argc; i++) printf(" %s", argv[i]);
  printf("\n");
  return 0;
}
