/*
 * Every allocation in libacrawl goes through these, so that a program can
 * replace the allocator (ac_replace_allocator) and tests can inject failures.
 * Out of memory is returned to the caller as AC_ENOMEM, never an abort.
 */
#ifndef AC_COMMON_ALLOC_H
#define AC_COMMON_ALLOC_H

#include <stddef.h>

void *ac__malloc(size_t size);
void *ac__calloc(size_t count, size_t size);
void *ac__realloc(void *ptr, size_t size);
/* Frees and preserves errno (so cleanup paths do not clobber it). */
void ac__free(void *ptr);
char *ac__strdup(const char *s);

/* Test hook: make the Nth allocation from now (1-based) and every later one
 * fail; 0 turns failure injection off. Not thread-safe: tests only. */
void ac__alloc_fail_after(long n);

#endif /* AC_COMMON_ALLOC_H */
