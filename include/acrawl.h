/*
 * acrawl: an asynchronous crawler toolkit in C.
 *
 * The umbrella header: version, errors, allocation, and every layer's public
 * API. Include this, or one layer's header from acrawl/.
 */
#ifndef ACRAWL_H
#define ACRAWL_H

#include <stddef.h>

#include "acrawl/export.h"
#include "acrawl/errno.h"
#include "acrawl/version.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The library's version string ("0.1.0"); may differ from AC_VERSION_STRING
 * when a program runs against a newer shared library. Static. */
AC_EXTERN const char *ac_version(void);

/** What this build contains (coroutine backend, optional parts), one line. Static. */
AC_EXTERN const char *ac_version_info(void);

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

#include "acrawl/runtime.h"
#include "acrawl/server.h"

#endif /* ACRAWL_H */
