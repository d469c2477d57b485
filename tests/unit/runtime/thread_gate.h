/*
 * A gate for tests that need libuv's worker pool busy: work that blocks until
 * the test opens the gate, and the pool size to fill. Shared by
 * test_thread.c and test_edge_cases.c.
 */
#ifndef AC_TESTS_THREAD_GATE_H
#define AC_TESTS_THREAD_GATE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "acrawl.h"
#include "runner.h"

/* libuv's pool size, computed the way libuv 1.x reads it (once, at first use). */
static int thread_pool_size(void) {
  const char *v = getenv("UV_THREADPOOL_SIZE");
  unsigned n = 4;
  if (v != NULL) n = (unsigned)atoi(v);
  if (n == 0) n = 1;
  if (n > 1024) n = 1024;
  return (int)n;
}

struct thread_gate {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int open;
  atomic_int started;
  atomic_int finished;
};

static void thread_gate_init(struct thread_gate *g) {
  ASSERT_EQ(pthread_mutex_init(&g->mu, NULL), 0);
  ASSERT_EQ(pthread_cond_init(&g->cv, NULL), 0);
  g->open = 0;
  atomic_init(&g->started, 0);
  atomic_init(&g->finished, 0);
}

static void thread_gate_open(struct thread_gate *g) {
  pthread_mutex_lock(&g->mu);
  g->open = 1;
  pthread_cond_broadcast(&g->cv);
  pthread_mutex_unlock(&g->mu);
}

static void thread_gate_destroy(struct thread_gate *g) {
  pthread_cond_destroy(&g->cv);
  pthread_mutex_destroy(&g->mu);
}

/* Work: blocks until the gate opens. */
static void thread_gate_work(void *arg) {
  struct thread_gate *g = arg;
  atomic_fetch_add(&g->started, 1);
  pthread_mutex_lock(&g->mu);
  while (!g->open) pthread_cond_wait(&g->cv, &g->mu);
  pthread_mutex_unlock(&g->mu);
  atomic_fetch_add(&g->finished, 1);
}

static int thread_gate_task(void *arg, void **result) {
  return ac_run_in_thread(thread_gate_work, arg);
}

#endif /* AC_TESTS_THREAD_GATE_H */
