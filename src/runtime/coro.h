/*
 * Coroutine contexts and their stacks: the lowest part of the runtime.
 *
 * Knows nothing of libuv, tasks or the loop; it can be built and tested alone
 * (tests/unit/runtime/test_coro.c is also cross-built for aarch64 and run under
 * qemu-user). The switch is asymmetric: the scheduler resumes a coroutine, the
 * coroutine yields back to whoever resumed it. Only the scheduler's own stack
 * ever resumes coroutines, so library callbacks never run on a small stack.
 *
 * Backends, chosen at build time (AC_CORO_BACKEND_* in coro.c):
 *   - x86-64 and aarch64: acrawl's own switch (coro_switch_<arch>.S), which
 *     saves the callee-saved registers plus the FP control state and resumes
 *     with an indirect jmp/br (not ret: that would mispredict);
 *   - anything else, or AC_CORO_UCONTEXT=ON: glibc ucontext (much slower:
 *     one sigprocmask syscall per switch).
 *
 * Stacks come from a pool: mmap'd, with a PROT_NONE guard page below, reused
 * after a coroutine ends (LIFO); past the first few cached stacks, all but the
 * top 32 KiB of a cached stack is given back with MADV_DONTNEED. Each guarded
 * stack costs two memory mappings and vm.max_map_count is finite (65530 by
 * default), so past a budget derived from it the pool hands out stacks carved
 * from unguarded slabs instead of failing (counted in ac__stack_pool_stats).
 *
 * AddressSanitizer fiber annotations and valgrind stack registration are done
 * here, so both tools follow every switch.
 */
#ifndef AC_RUNTIME_CORO_H
#define AC_RUNTIME_CORO_H

#include <stddef.h>
#include <stdint.h>

/* One usable stack. Owned by the pool it came from. */
struct ac__stack {
  char *lo;                 /* lowest usable byte (just above the guard page) */
  size_t size;              /* usable bytes, a multiple of the page size */
  void *map;                /* the mapping (or slab) it was carved from */
  size_t map_size;
  unsigned valgrind_id;     /* VALGRIND_STACK_REGISTER id, 0 if none */
  unsigned guarded : 1;     /* has a PROT_NONE guard page below lo */
  unsigned from_slab : 1;   /* carved from an unguarded slab */
  struct ac__stack *next;   /* free-list link while pooled */
};

struct ac__stack_pool_stats {
  size_t live;              /* stacks handed out and not returned */
  size_t cached;            /* stacks kept for reuse */
  size_t guarded_live;      /* live stacks that have a guard page */
  size_t unguarded_live;    /* live stacks from slabs (guard budget exhausted) */
  size_t created;           /* stacks created since init */
  size_t reused;            /* stacks served from the cache */
};

struct ac__stack_pool;

/*
 * Create a pool. max_cached bounds how many freed stacks are kept for reuse
 * (0 means a default). Returns 0 or AC_ENOMEM.
 */
int ac__stack_pool_new(size_t max_cached, struct ac__stack_pool **out);
/* Unmap every cached stack. All stacks must have been returned (asserted). */
void ac__stack_pool_free(struct ac__stack_pool *pool);
/*
 * Get a stack of at least `size` usable bytes (0 means AC__STACK_DEFAULT,
 * less than AC__STACK_MIN means AC__STACK_MIN), rounded up to pages. Returns 0 or AC_ENOMEM (mmap failed). A cached stack of
 * the same rounded size is reused first.
 */
int ac__stack_get(struct ac__stack_pool *pool, size_t size, struct ac__stack **out);
/* Return a stack: cached for reuse or unmapped. The coroutine on it must have
 * finished (never return a suspended coroutine's stack). */
void ac__stack_put(struct ac__stack_pool *pool, struct ac__stack *stack);
void ac__stack_pool_stats(const struct ac__stack_pool *pool,
                          struct ac__stack_pool_stats *stats);
/* How many guarded stacks (live or cached: both hold mappings) the pool may
 * hold before it falls back to unguarded slab stacks. The default is a third
 * of vm.max_map_count's mappings (two per guarded stack); tests lower it to
 * exercise the fallback. */
void ac__stack_pool_set_guard_budget(struct ac__stack_pool *pool, size_t max_guarded);

/* Default usable stack size; larger under ASan, whose frames carry redzones. */
#if defined(__SANITIZE_ADDRESS__)
#define AC__STACK_DEFAULT (256u * 1024u)
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define AC__STACK_DEFAULT (256u * 1024u)
#endif
#endif
#ifndef AC__STACK_DEFAULT
#define AC__STACK_DEFAULT (64u * 1024u)
#endif
#define AC__STACK_MIN (16u * 1024u)

typedef void (*ac__coro_fn)(void *arg);

struct ac__coro {
  void *sp;                 /* the coroutine's saved context while suspended */
  void *resumer_sp;         /* the resumer's saved context while it runs */
  struct ac__stack *stack;
  ac__coro_fn fn;
  void *arg;
  unsigned started : 1;
  unsigned finished : 1;    /* fn returned; the stack may be put back */
  /* Sanitizer bookkeeping (unused in plain builds). */
  void *asan_fake_stack;          /* the coroutine's fake stack while suspended */
  void *asan_resumer_fake_stack;  /* the resumer's fake stack while we run */
  const void *asan_resumer_bottom;
  size_t asan_resumer_size;
  void *backend;            /* ucontext backend state, NULL for asm backends */
};

/*
 * Prepare `c` to run fn(arg) on `stack` when first resumed. Does not run
 * anything. Returns 0, or AC_ENOMEM (ucontext backend only).
 */
int ac__coro_init(struct ac__coro *c, struct ac__stack *stack, ac__coro_fn fn, void *arg);
/*
 * Run `c` until it yields or its function returns (then c->finished is set).
 * Called only from the resumer's stack, never from inside a coroutine.
 */
void ac__coro_resume(struct ac__coro *c);
/* From inside `c`: switch back to the resumer. Returns when resumed again. */
void ac__coro_yield(struct ac__coro *c);
/* Release backend state (ucontext) of a finished or never-started coroutine.
 * Does not touch the stack. */
void ac__coro_destroy(struct ac__coro *c);
/* The backend's name: "asm-x86_64", "asm-aarch64" or "ucontext". */
const char *ac__coro_backend(void);

#endif /* AC_RUNTIME_CORO_H */
