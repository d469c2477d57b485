/*
 * The replaceable allocator (see alloc.h), in the manner of libuv's
 * uv_replace_allocator.
 */
#include "common/alloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "acrawl/alloc.h"
#include "acrawl/errno.h"

static struct {
  ac_malloc_fn malloc_fn;
  ac_realloc_fn realloc_fn;
  ac_calloc_fn calloc_fn;
  ac_free_fn free_fn;
} allocator = {malloc, realloc, calloc, free};

/* Countdown for failure injection: <= 0 means off. */
static long fail_countdown;
static int fail_active;

static int should_fail(void) {
  if (!fail_active) return 0;
  if (fail_countdown > 1) {
    fail_countdown--;
    return 0;
  }
  return 1;
}

void ac__alloc_fail_after(long n) {
  fail_active = n > 0;
  fail_countdown = n;
}

int ac_replace_allocator(ac_malloc_fn malloc_fn, ac_realloc_fn realloc_fn,
                         ac_calloc_fn calloc_fn, ac_free_fn free_fn) {
  if (malloc_fn == NULL || realloc_fn == NULL || calloc_fn == NULL || free_fn == NULL)
    return AC_EINVAL;
  allocator.malloc_fn = malloc_fn;
  allocator.realloc_fn = realloc_fn;
  allocator.calloc_fn = calloc_fn;
  allocator.free_fn = free_fn;
  return 0;
}

void *ac__malloc(size_t size) {
  if (size == 0 || should_fail()) return NULL;
  return allocator.malloc_fn(size);
}

void *ac__calloc(size_t count, size_t size) {
  if (count == 0 || size == 0 || should_fail()) return NULL;
  return allocator.calloc_fn(count, size);
}

void *ac__realloc(void *ptr, size_t size) {
  if (size == 0) {
    ac__free(ptr);
    return NULL;
  }
  if (should_fail()) return NULL;
  return allocator.realloc_fn(ptr, size);
}

void ac__free(void *ptr) {
  int saved = errno;
  if (ptr != NULL) allocator.free_fn(ptr);
  errno = saved;
}

void ac_free(void *ptr) { ac__free(ptr); }

char *ac__strdup(const char *s) {
  size_t n = strlen(s) + 1;
  char *d = ac__malloc(n);
  if (d != NULL) memcpy(d, s, n);
  return d;
}
