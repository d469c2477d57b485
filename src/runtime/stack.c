/*
 * The coroutine stack pool (see coro.h).
 *
 * A pool belongs to one loop, hence to one thread: nothing here locks.
 *
 * Guarded stacks: one mmap holding a guard page and the usable part above it,
 * the guard made PROT_NONE so that an overflow faults instead of overwriting
 * whatever lies below. The mprotect splits the mapping, so each costs two of
 * the process's vm.max_map_count mappings (65530 by default). The pool keeps
 * its guarded stacks, live and cached, within a budget of a third of that
 * count (max_map_count / 6 stacks), leaving the rest to the program, its
 * libraries, thread stacks and other loops' pools.
 *
 * Slab stacks: past the budget, stacks are carved from slabs: one mapping of
 * SLAB_SLOTS same-size stacks, without guards, with the slab's bookkeeping in
 * a header above the last slot (where no overflow reaches: stacks grow down).
 * A slab is unmapped when its last stack comes back.
 *
 * Reuse: a returned stack goes to a LIFO cache (the stack used last has the
 * warmest pages) bounded by max_cached, else it is unmapped or given back to
 * its slab. Trimming: a stack cached while UNTRIMMED_CACHED or more already
 * are loses everything below its top KEEP_RESIDENT bytes (MADV_DONTNEED), so
 * however deep its last coroutine went it holds at most that much memory.
 * The first UNTRIMMED_CACHED are spared because they are reused next: a loop
 * that starts tasks about as fast as others finish never pays the syscall,
 * which would otherwise be most of a short coroutine's cost. The trim does
 * not first measure how deep the stack went (so high_water stays unused):
 * madvise on untouched pages is cheaper than asking which were touched
 * (mincore), and costs more only when deep pages were touched, when it pays.
 *
 * Tools: every stack is registered with valgrind for as long as it is mapped
 * (or else valgrind takes each switch for a huge stack-pointer move: "client
 * switching stacks?"), and unpoisoned for ASan when it comes back: the
 * coroutine's first frame never returns, so nothing else clears what its
 * frames left poisoned.
 */
#include "runtime/coro.h"

#include <assert.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <sanitizer/asan_interface.h>
#include <valgrind/valgrind.h>

#include "acrawl/errno.h"
#include "common/alloc.h"

/* Cache bound when the caller passes 0. A full cache holds 512 mappings and,
 * with default-size stacks, about 8 MiB of memory. */
#define DEFAULT_MAX_CACHED 256
/* Deep enough for the usual task's frames, so reusing a trimmed stack rarely
 * faults pages back in. */
#define KEEP_RESIDENT (32u * 1024u)
/* How many cached stacks may keep all their pages. */
#define UNTRIMMED_CACHED 8
/* Stacks per slab: 2 MiB of address space for default-size stacks. */
#define SLAB_SLOTS 32
/* The kernel's default, used when /proc cannot tell. */
#define DEFAULT_MAX_MAP_COUNT 65530
/* Larger requests cannot be mapped anyway; the bound keeps the size
 * arithmetic below (SLAB_SLOTS * size + header) from overflowing. */
#define MAX_STACK_SIZE (SIZE_MAX / (4 * SLAB_SLOTS))

struct slab {
  struct slab *prev, *next;      /* in pool->open_slabs while a slot is free */
  struct ac__stack *free;        /* slots neither handed out nor cached */
  unsigned used;                 /* slots handed out or cached */
  struct ac__stack slots[SLAB_SLOTS];
};

struct ac__stack_pool {
  size_t page;
  size_t max_cached;
  size_t max_guarded;
  size_t guarded;                /* guarded stacks mapped: live and cached */
  struct ac__stack *cache;       /* LIFO, linked by next */
  struct slab *open_slabs;       /* slabs with a free slot */
  struct ac__stack_pool_stats stats;
};

static size_t round_up(size_t n, size_t to) { return (n + to - 1) / to * to; }

static size_t default_guard_budget(void) {
  char buf[32];
  unsigned long count = 0;
  ssize_t n = -1;
  int fd = open("/proc/sys/vm/max_map_count", O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    n = read(fd, buf, sizeof buf - 1);
    close(fd);
  }
  if (n > 0) {
    buf[n] = '\0';
    count = strtoul(buf, NULL, 10);
  }
  if (count == 0) count = DEFAULT_MAX_MAP_COUNT;
  return count / 3 / 2; /* a third of the mappings, two per guarded stack */
}

static void *map_rw(size_t size) {
  void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK,
                 -1, 0);
  return p == MAP_FAILED ? NULL : p;
}

/* ---------------------------------------------------------- guarded stacks */

static struct ac__stack *guarded_new(struct ac__stack_pool *pool, size_t size) {
  struct ac__stack *s = ac__malloc(sizeof *s);
  size_t map_size = pool->page + size;
  char *map;
  if (s == NULL) return NULL;
  map = map_rw(map_size);
  /* mprotect fails with ENOMEM when the split would pass max_map_count. */
  if (map == NULL || mprotect(map, pool->page, PROT_NONE) != 0) {
    if (map != NULL) munmap(map, map_size);
    ac__free(s);
    return NULL;
  }
  *s = (struct ac__stack){
      .lo = map + pool->page, .size = size, .map = map, .map_size = map_size, .guarded = 1};
  s->valgrind_id = VALGRIND_STACK_REGISTER(s->lo, s->lo + size);
  return s;
}

static void guarded_free(struct ac__stack *s) {
  VALGRIND_STACK_DEREGISTER(s->valgrind_id);
  munmap(s->map, s->map_size);
  ac__free(s);
}

/* ------------------------------------------------------------- slab stacks */

static struct slab *slab_of(const struct ac__stack *s) {
  return (struct slab *)((char *)s->map + SLAB_SLOTS * s->size);
}

static void slab_link(struct ac__stack_pool *pool, struct slab *slab) {
  slab->prev = NULL;
  slab->next = pool->open_slabs;
  if (slab->next != NULL) slab->next->prev = slab;
  pool->open_slabs = slab;
}

static void slab_unlink(struct ac__stack_pool *pool, struct slab *slab) {
  if (slab->prev != NULL) slab->prev->next = slab->next;
  else pool->open_slabs = slab->next;
  if (slab->next != NULL) slab->next->prev = slab->prev;
}

static struct slab *slab_new(struct ac__stack_pool *pool, size_t size) {
  size_t map_size = SLAB_SLOTS * size + round_up(sizeof(struct slab), pool->page);
  char *map = map_rw(map_size);
  struct slab *slab;
  int i;
  if (map == NULL) return NULL;
#ifdef MADV_NOHUGEPAGE
  /* A huge page would put 2 MiB behind the first stack touched and defeat the
   * per-slot MADV_DONTNEED. */
  (void)madvise(map, map_size, MADV_NOHUGEPAGE);
#endif
  slab = (struct slab *)(map + SLAB_SLOTS * size);
  slab->free = NULL;
  slab->used = 0;
  for (i = SLAB_SLOTS - 1; i >= 0; i--) {
    struct ac__stack *s = &slab->slots[i];
    *s = (struct ac__stack){.lo = map + (size_t)i * size, .size = size, .map = map,
                            .map_size = map_size, .from_slab = 1, .next = slab->free};
    s->valgrind_id = VALGRIND_STACK_REGISTER(s->lo, s->lo + size);
    slab->free = s;
  }
  slab_link(pool, slab);
  return slab;
}

static void slab_free(struct ac__stack_pool *pool, struct slab *slab) {
  struct ac__stack *first = &slab->slots[0];
  int i;
  slab_unlink(pool, slab);
  for (i = 0; i < SLAB_SLOTS; i++) VALGRIND_STACK_DEREGISTER(slab->slots[i].valgrind_id);
  munmap(first->map, first->map_size);
}

static struct ac__stack *slab_take(struct ac__stack_pool *pool, size_t size) {
  struct slab *slab;
  struct ac__stack *s;
  for (slab = pool->open_slabs; slab != NULL; slab = slab->next)
    if (slab->slots[0].size == size) break;
  if (slab == NULL && (slab = slab_new(pool, size)) == NULL) return NULL;
  s = slab->free;
  slab->free = s->next;
  slab->used++;
  if (slab->free == NULL) slab_unlink(pool, slab);
  return s;
}

static void slab_give_back(struct ac__stack_pool *pool, struct ac__stack *s) {
  struct slab *slab = slab_of(s);
  if (--slab->used == 0) {
    slab_free(pool, slab);
    return;
  }
  /* The slot keeps its address space but no memory until carved again. */
  (void)madvise(s->lo, s->size, MADV_DONTNEED);
  if (slab->free == NULL) slab_link(pool, slab);
  s->next = slab->free;
  slab->free = s;
}

/* -------------------------------------------------------------------- pool */

static void release(struct ac__stack_pool *pool, struct ac__stack *s) {
  if (s->guarded) {
    guarded_free(s);
    pool->guarded--;
  } else {
    slab_give_back(pool, s);
  }
}

static struct ac__stack *cache_take(struct ac__stack_pool *pool, size_t size) {
  struct ac__stack **link, *s;
  for (link = &pool->cache; (s = *link) != NULL; link = &s->next) {
    if (s->size == size) {
      *link = s->next;
      return s;
    }
  }
  return NULL;
}

int ac__stack_pool_new(size_t max_cached, struct ac__stack_pool **out) {
  struct ac__stack_pool *pool = ac__calloc(1, sizeof *pool);
  long page = sysconf(_SC_PAGESIZE);
  if (pool == NULL) return AC_ENOMEM;
  pool->page = page > 0 ? (size_t)page : 4096;
  pool->max_cached = max_cached != 0 ? max_cached : DEFAULT_MAX_CACHED;
  pool->max_guarded = default_guard_budget();
  *out = pool;
  return 0;
}

void ac__stack_pool_free(struct ac__stack_pool *pool) {
  struct ac__stack *s;
  if (pool == NULL) return;
  assert(pool->stats.live == 0);
  while ((s = pool->cache) != NULL) {
    pool->cache = s->next;
    release(pool, s);
  }
  assert(pool->open_slabs == NULL && pool->guarded == 0);
  ac__free(pool);
}

/* Sizes under AC__STACK_MIN are raised to it. */
int ac__stack_get(struct ac__stack_pool *pool, size_t size, struct ac__stack **out) {
  struct ac__stack *s;
  if (size == 0) size = AC__STACK_DEFAULT;
  if (size < AC__STACK_MIN) size = AC__STACK_MIN;
  if (size > MAX_STACK_SIZE) return AC_ENOMEM;
  size = round_up(size, pool->page);

  if ((s = cache_take(pool, size)) != NULL) {
    pool->stats.cached--;
    pool->stats.reused++;
  } else {
    if (pool->guarded < pool->max_guarded) {
      if ((s = guarded_new(pool, size)) != NULL) pool->guarded++;
    } else {
      s = slab_take(pool, size);
    }
    if (s == NULL) return AC_ENOMEM;
    pool->stats.created++;
  }
  pool->stats.live++;
  if (s->guarded) pool->stats.guarded_live++;
  else pool->stats.unguarded_live++;
  *out = s;
  return 0;
}

void ac__stack_put(struct ac__stack_pool *pool, struct ac__stack *s) {
  ASAN_UNPOISON_MEMORY_REGION(s->lo, s->size);
  assert(pool->stats.live > 0);
  pool->stats.live--;
  if (s->guarded) pool->stats.guarded_live--;
  else pool->stats.unguarded_live--;

  if (pool->stats.cached < pool->max_cached) {
    size_t keep = round_up(KEEP_RESIDENT, pool->page);
    if (pool->stats.cached >= UNTRIMMED_CACHED && s->size > keep)
      (void)madvise(s->lo, s->size - keep, MADV_DONTNEED);
    s->next = pool->cache;
    pool->cache = s;
    pool->stats.cached++;
  } else {
    release(pool, s);
  }
}

void ac__stack_pool_stats(const struct ac__stack_pool *pool, struct ac__stack_pool_stats *stats) {
  *stats = pool->stats;
}

/* Takes effect for the next stacks created: those already mapped stay. */
void ac__stack_pool_set_guard_budget(struct ac__stack_pool *pool, size_t max_guarded) {
  pool->max_guarded = max_guarded;
}
