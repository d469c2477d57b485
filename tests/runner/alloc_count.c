/*
 * A counting allocator for tests: installed with ac_replace_allocator, it
 * keeps the number of live acrawl allocations, so that a leak fails a test
 * even without valgrind. It must be installed before any other acrawl call;
 * each test runs in its own process (ctest), so that holds per test.
 */
#include <stdlib.h>

#include "acrawl.h"
#include "runner.h"

static long live;

static void *count_malloc(size_t n) {
  void *p = malloc(n);
  live += p != NULL;
  return p;
}

static void *count_calloc(size_t c, size_t n) {
  void *p = calloc(c, n);
  live += p != NULL;
  return p;
}

static void *count_realloc(void *old, size_t n) {
  void *p = realloc(old, n);
  live += p != NULL && old == NULL;
  return p;
}

static void count_free(void *p) {
  live -= p != NULL;
  free(p);
}

void ac_test_count_allocations(void) {
  ASSERT_OK(ac_replace_allocator(count_malloc, count_realloc, count_calloc, count_free));
}

long ac_test_live_allocations(void) { return live; }
