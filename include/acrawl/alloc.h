/*
 * acrawl's allocator hooks. Included by acrawl.h; on its own so that the
 * lowest layer (src/common/) needs nothing else of the public API.
 */
#ifndef ACRAWL_ALLOC_H
#define ACRAWL_ALLOC_H

#include <stddef.h>

#include "acrawl/export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef void *(*ac_malloc_fn)(size_t size);
typedef void *(*ac_realloc_fn)(void *ptr, size_t size);
typedef void *(*ac_calloc_fn)(size_t count, size_t size);
typedef void (*ac_free_fn)(void *ptr);

/**
 * Replace the allocator used by all of libacrawl. Call before any other acrawl
 * function (memory from one allocator must not be freed by another). libuv,
 * libcurl and the other libraries keep their own allocators.
 * Returns 0, or AC_EINVAL if any function is NULL.
 */
AC_EXTERN int ac_replace_allocator(ac_malloc_fn malloc_fn, ac_realloc_fn realloc_fn,
                                   ac_calloc_fn calloc_fn, ac_free_fn free_fn);

/** Free memory that an acrawl function returned and documented as the caller's. */
AC_EXTERN void ac_free(void *ptr);

#ifdef __cplusplus
}
#endif
#endif /* ACRAWL_ALLOC_H */
