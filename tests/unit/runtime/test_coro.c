/*
 * The coroutine layer alone (runtime/coro.h): the context switch, stacks and
 * the stack pool. Uses nothing above it, so that tests/cross/aarch64.sh can
 * build this file without the rest of libacrawl (AC_TESTS_NO_LIBACRAWL) and
 * run it under qemu-user.
 */
#include "runner.h"

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/alloc.h"
#include "runtime/coro.h"

/* runner.h leaves acrawl/errno.h out of the standalone build. */
#ifdef AC_TESTS_NO_LIBACRAWL
#define AC_ENOMEM (-ENOMEM)
#endif

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

/* Force a value into a register at this point, so the compiler keeps it in
 * one (a callee-saved one across calls) instead of folding it away. */
#define KEEP_INT(x) __asm__ volatile("" : "+r"(x))
#if defined(__x86_64__)
#define KEEP_DBL(x) __asm__ volatile("" : "+x"(x))
#elif defined(__aarch64__)
#define KEEP_DBL(x) __asm__ volatile("" : "+w"(x))
#else
#define KEEP_DBL(x) __asm__ volatile("" : "+m"(x))
#endif

static void skip(const char *why) {
  printf("skip: %s\n", why);
  exit(77);
}

/* One coroutine on its own pool, for the tests that need only one. */
struct solo {
  struct ac__stack_pool *pool;
  struct ac__stack *stack;
  struct ac__coro coro;
};

static void solo_start(struct solo *s, size_t stack_size, ac__coro_fn fn, void *arg) {
  ASSERT_OK(ac__stack_pool_new(0, &s->pool));
  ASSERT_OK(ac__stack_get(s->pool, stack_size, &s->stack));
  ASSERT_OK(ac__coro_init(&s->coro, s->stack, fn, arg));
}

static void solo_end(struct solo *s) {
  ASSERT(s->coro.finished);
  ac__coro_destroy(&s->coro);
  ac__stack_put(s->pool, s->stack);
  ac__stack_pool_free(s->pool);
}

/* ------------------------------------------------------------- ping-pong */

/*
 * Mixes 6 integers and 8 doubles, calling hop() between rounds: the values
 * must survive the call however the compiler placed them (callee-saved
 * registers, x86-64's spill slots for the doubles).
 */
static void churn(long rounds, uint64_t seed, void (*hop)(void *), void *hop_arg,
                  uint64_t *int_out, double *dbl_out) {
  uint64_t a = seed, b = seed ^ 0x9e3779b97f4a7c15u, c = seed * 3, d = seed + 7, e = ~seed,
           f = seed << 1;
  double x = 0.5, y = 1.25, z = -2.0, w = 3.5, u = (double)(seed & 0xff), v = 0.125, p = 1e3,
         q = -1e-3;
  long i;
  for (i = 0; i < rounds; i++) {
    KEEP_INT(a); KEEP_INT(b); KEEP_INT(c); KEEP_INT(d); KEEP_INT(e); KEEP_INT(f);
    KEEP_DBL(x); KEEP_DBL(y); KEEP_DBL(z); KEEP_DBL(w);
    KEEP_DBL(u); KEEP_DBL(v); KEEP_DBL(p); KEEP_DBL(q);
    hop(hop_arg);
    a += b; b ^= c; c = c * 31 + d; d += e; e ^= f; f += a >> 3;
    x += y; y = y * 0.5 + z; z -= w * 1e-3; w = w * 0.75 + u;
    u += v; v += p * 1e-9; p -= q; q *= -1.0;
  }
  *int_out = a ^ b ^ c ^ d ^ e ^ f;
  *dbl_out = x + y + z + w + u + v + p + q;
}

static void hop_nothing(void *arg) { (void)arg; }
static void hop_yield(void *coro) { ac__coro_yield(coro); }
static void hop_resume(void *coro) { ac__coro_resume(coro); }

#define PING_PONG_ROUNDS 100000L

struct ping_pong {
  struct ac__coro *coro;
  uint64_t ints;
  double dbls;
};

static void ping_pong_fn(void *arg) {
  struct ping_pong *pp = arg;
  churn(PING_PONG_ROUNDS, 11, hop_yield, pp->coro, &pp->ints, &pp->dbls);
}

TEST_IMPL(coro_ping_pong_keeps_values) {
  struct solo s;
  struct ping_pong pp;
  uint64_t want_ints, mine_ints, want_mine_ints;
  double want_dbls, mine_dbls, want_mine_dbls;

  churn(PING_PONG_ROUNDS, 11, hop_nothing, NULL, &want_ints, &want_dbls);
  churn(PING_PONG_ROUNDS, 22, hop_nothing, NULL, &want_mine_ints, &want_mine_dbls);

  solo_start(&s, 0, ping_pong_fn, &pp);
  pp.coro = &s.coro;
  /* The resumer churns too: one resume per coroutine yield, plus the last. */
  churn(PING_PONG_ROUNDS, 22, hop_resume, &s.coro, &mine_ints, &mine_dbls);
  ASSERT(!s.coro.finished);
  ac__coro_resume(&s.coro);

  ASSERT_UEQ(pp.ints, want_ints);
  ASSERT_DEQ(pp.dbls, want_dbls);
  ASSERT_UEQ(mine_ints, want_mine_ints);
  ASSERT_DEQ(mine_dbls, want_mine_dbls);
  solo_end(&s);
}

/* ------------------------------------------------------------- alignment */

static void alignment_fn(void *arg) {
  uintptr_t *addrs = arg;
  _Alignas(16) volatile char local[16];
  local[0] = 1;
  addrs[0] = (uintptr_t)local;
  addrs[1] = (uintptr_t)__builtin_frame_address(0);
}

TEST_IMPL(coro_entry_stack_aligned) {
  size_t sizes[] = {0, AC__STACK_MIN, 100000};
  size_t i;
  for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    struct solo s;
    uintptr_t addrs[2] = {1, 1};
    solo_start(&s, sizes[i], alignment_fn, addrs);
    ac__coro_resume(&s.coro);
    /* The compiler places a 16-aligned local assuming the ABI's alignment at
     * entry, and the frame address is 16-aligned after the prologue's push. */
    ASSERT_UEQ(addrs[0] % 16, 0);
    ASSERT_UEQ(addrs[1] % 16, 0);
    ASSERT(addrs[1] >= (uintptr_t)s.stack->lo);
    ASSERT(addrs[1] < (uintptr_t)(s.stack->lo + s.stack->size));
    solo_end(&s);
  }
}

/* ------------------------------------------------------------- longjmp */

/*
 * A noreturn call (longjmp here) makes ASan unpoison the stack it leaves,
 * which it can only do if the fiber annotations told it where the coroutine's
 * stack is; otherwise it warns, leaves the abandoned frames' redzones
 * poisoned, and the next frames there trip over them.
 */
static void dive(jmp_buf *top, int depth) {
  volatile char buf[256];
  buf[0] = (char)depth;
  if (depth > 0) dive(top, depth - 1);
  else if (top != NULL) longjmp(*top, 1);
  buf[1] = buf[0];
}

static void scribble(void) {
  volatile char wide[4096];
  size_t i;
  for (i = 0; i < sizeof wide; i++) wide[i] = (char)i;
}

static void longjmp_fn(void *arg) {
  struct ac__coro *c = arg;
  jmp_buf top;
  if (setjmp(top) == 0) dive(&top, 4);
  scribble();
  ac__coro_yield(c);
  scribble();
}

TEST_IMPL(coro_longjmp_inside) {
  struct solo s;
  solo_start(&s, 0, longjmp_fn, &s.coro);
  ac__coro_resume(&s.coro);
  ac__coro_resume(&s.coro);
  solo_end(&s);
}

/* ------------------------------------------------------------ interleaved */

#define WORKERS 100

struct worker {
  struct ac__coro coro;
  struct ac__stack *stack;
  unsigned id;
  unsigned steps;     /* yields before finishing */
  unsigned progress;  /* set by the coroutine before each yield */
};

static uint64_t xorshift(uint64_t *state) {
  uint64_t x = *state;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  return *state = x;
}

static void worker_fn(void *arg) {
  struct worker *w = arg;
  uint64_t mine[32];  /* on this coroutine's stack: must survive other coroutines */
  unsigned i, k;
  for (k = 0; k < 32; k++) mine[k] = (uint64_t)w->id * 1000003u + k;
  for (i = 0; i < w->steps; i++) {
    w->progress = i;
    ac__coro_yield(&w->coro);
    for (k = 0; k < 32; k++) ASSERT_UEQ(mine[k], (uint64_t)w->id * 1000003u + k);
  }
  w->progress = w->steps;
}

TEST_IMPL(coro_many_interleaved) {
  struct ac__stack_pool *pool;
  struct worker *w = ac__calloc(WORKERS, sizeof *w);
  unsigned resumes[WORKERS] = {0};
  uint64_t rng = 0x2545f4914f6cdd1dull;
  unsigned i, left = WORKERS;

  ASSERT_NOT_NULL(w);
  ASSERT_OK(ac__stack_pool_new(0, &pool));
  for (i = 0; i < WORKERS; i++) {
    w[i].id = i;
    w[i].steps = i % 13;
    ASSERT_OK(ac__stack_get(pool, 0, &w[i].stack));
    ASSERT_OK(ac__coro_init(&w[i].coro, w[i].stack, worker_fn, &w[i]));
  }
  while (left > 0) {
    struct worker *x = &w[xorshift(&rng) % WORKERS];
    unsigned n = x->id;
    if (x->coro.finished) continue;
    ac__coro_resume(&x->coro);
    ASSERT_UEQ(x->progress, resumes[n]);
    resumes[n]++;
    if (x->coro.finished) {
      ASSERT_UEQ(resumes[n], x->steps + 1);
      left--;
    }
  }
  for (i = 0; i < WORKERS; i++) {
    ac__coro_destroy(&w[i].coro);
    ac__stack_put(pool, w[i].stack);
  }
  ac__stack_pool_free(pool);
  ac__free(w);
}

/* ------------------------------------------------------------------ reuse */

static void touch_fn(void *arg) {
  volatile char buf[8192];
  size_t i;
  for (i = 0; i < sizeof buf; i += 64) buf[i] = (char)i;
  *(int *)arg += 1;
}

TEST_IMPL(coro_stack_reused) {
  struct ac__stack_pool *pool;
  struct ac__stack *first, *again;
  struct ac__stack_pool_stats st;
  struct ac__coro c;
  int runs = 0;

  ASSERT_OK(ac__stack_pool_new(4, &pool));
  ASSERT_OK(ac__stack_get(pool, 0, &first));
  ASSERT_OK(ac__coro_init(&c, first, touch_fn, &runs));
  ac__coro_resume(&c);
  ASSERT(c.finished);
  ac__coro_destroy(&c);
  ac__stack_put(pool, first);
  ac__stack_pool_stats(pool, &st);
  ASSERT_UEQ(st.live, 0);
  ASSERT_UEQ(st.cached, 1);

  ASSERT_OK(ac__stack_get(pool, 0, &again));
  ASSERT_PTR_EQ(again, first);
  ac__stack_pool_stats(pool, &st);
  ASSERT_UEQ(st.created, 1);
  ASSERT_UEQ(st.reused, 1);
  ASSERT_UEQ(st.cached, 0);
  ASSERT_UEQ(st.live, 1);

  ASSERT_OK(ac__coro_init(&c, again, touch_fn, &runs));
  ac__coro_resume(&c);
  ASSERT(c.finished);
  ASSERT_EQ(runs, 2);
  ac__coro_destroy(&c);
  ac__stack_put(pool, again);

  /* A different size is not served from the cache. */
  ASSERT_OK(ac__stack_get(pool, 2 * AC__STACK_DEFAULT, &again));
  ASSERT(again != first);
  ac__stack_put(pool, again);
  ac__stack_pool_stats(pool, &st);
  ASSERT_UEQ(st.created, 2);
  ASSERT_UEQ(st.reused, 1);
  ASSERT_UEQ(st.cached, 2);
  ac__stack_pool_free(pool);
}

/* ------------------------------------------------------- FP control state */

#if defined(__x86_64__)
/* Rounding control: MXCSR bits 13-14 and x87 control word bits 10-11. */
static uint64_t fp_mode(void) {
  uint32_t mxcsr;
  uint16_t cw;
  __asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
  __asm__ volatile("fnstcw %0" : "=m"(cw));
  return (uint64_t)(mxcsr & 0x6000) << 16 | (cw & 0x0c00);
}
static void fp_set_mode(uint64_t mode) {
  uint32_t mxcsr;
  uint16_t cw;
  __asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
  __asm__ volatile("fnstcw %0" : "=m"(cw));
  mxcsr = (mxcsr & ~0x6000u) | (uint32_t)(mode >> 16);
  cw = (uint16_t)((cw & ~0x0c00u) | (mode & 0x0c00));
  __asm__ volatile("ldmxcsr %0" : : "m"(mxcsr));
  __asm__ volatile("fldcw %0" : : "m"(cw));
}
#define FP_UPWARD ((uint64_t)0x4000 << 16 | 0x0800)
#define FP_TOWARD_ZERO ((uint64_t)0x6000 << 16 | 0x0c00)
#elif defined(__aarch64__)
/* FPCR.RMode, bits 22-23. */
static uint64_t fp_mode(void) {
  uint64_t fpcr;
  __asm__ volatile("mrs %0, fpcr" : "=r"(fpcr));
  return fpcr & (3u << 22);
}
static void fp_set_mode(uint64_t mode) {
  uint64_t fpcr;
  __asm__ volatile("mrs %0, fpcr" : "=r"(fpcr));
  fpcr = (fpcr & ~(uint64_t)(3u << 22)) | mode;
  __asm__ volatile("msr fpcr, %0" : : "r"(fpcr));
}
#define FP_UPWARD ((uint64_t)1 << 22)
#define FP_TOWARD_ZERO ((uint64_t)3 << 22)
#endif

#ifdef FP_UPWARD
/* 1/3 rounded to nearest and upward differ in the last bit. */
static double third(void) {
  volatile double one = 1.0, three = 3.0;
  return one / three;
}

struct fp_check {
  struct ac__coro *coro;
  uint64_t mode_at_start, mode_after_yield;
  double third_up;
};

static void fp_fn(void *arg) {
  struct fp_check *f = arg;
  f->mode_at_start = fp_mode();
  fp_set_mode(FP_UPWARD);
  ac__coro_yield(f->coro);
  f->mode_after_yield = fp_mode();
  f->third_up = third();
}
#endif

TEST_IMPL(coro_fp_control_private) {
#ifndef FP_UPWARD
  skip("FP control state is checked on x86-64 and aarch64 only");
#else
  struct solo s;
  struct fp_check f = {0};
  uint64_t mine = fp_mode();
  double third_nearest = third();

  solo_start(&s, 0, fp_fn, &f);
  f.coro = &s.coro;
  ac__coro_resume(&s.coro);
  ASSERT_UEQ(f.mode_at_start, mine);   /* a new coroutine starts with its creator's */
  ASSERT_UEQ(fp_mode(), mine);         /* its change did not leak out */
  ASSERT_DEQ(third(), third_nearest);

  fp_set_mode(FP_TOWARD_ZERO);
  ac__coro_resume(&s.coro);
  ASSERT(s.coro.finished);
  ASSERT_UEQ(f.mode_after_yield, FP_UPWARD);  /* ours did not leak in */
  ASSERT_UEQ(fp_mode(), FP_TOWARD_ZERO);
  fp_set_mode(mine);
  /* valgrind keeps the mode bits but does SSE arithmetic to nearest. */
  if (!ac_test_on_valgrind()) ASSERT(f.third_up > third_nearest);
  solo_end(&s);
#endif
}

/* -------------------------------------------------------------- guard page */

/* The volatile read after the call keeps it from becoming a loop. */
static size_t recurse(size_t depth) {
  volatile char pad[1024];
  pad[0] = (char)depth;
  if (depth == SIZE_MAX) return 0;
  return recurse(depth + 1) + (size_t)pad[0];
}

static void overflow_fn(void *arg) {
  (void)arg;
  recurse(0);
}

TEST_IMPL(coro_guard_page_faults) {
  pid_t pid;
  int status;
#ifdef UNDER_ASAN
  skip("ASan handles SIGSEGV itself");
#endif
  if (ac_test_on_valgrind()) skip("valgrind reports the overflow itself");

  pid = fork();
  ASSERT(pid >= 0);
  if (pid == 0) {
    struct rlimit no_core = {0, 0};
    struct solo s;
    setrlimit(RLIMIT_CORE, &no_core);
    solo_start(&s, AC__STACK_MIN, overflow_fn, NULL);
    if (!s.stack->guarded) _exit(3);
    ac__coro_resume(&s.coro);
    _exit(0); /* not reached: the recursion runs into the guard page */
  }
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  if (!WIFSIGNALED(status)) AC__FAIL("child exited with %d", WEXITSTATUS(status));
  ASSERT_EQ(WTERMSIG(status), SIGSEGV);
}

/* ------------------------------------------------------- guard budget */

#define FALLBACK_STACKS 5

static void touch_yield_fn(void *arg) {
  struct ac__coro *c = arg;
  volatile char buf[8192];
  size_t i;
  for (i = 0; i < sizeof buf; i += 64) buf[i] = (char)i;
  ac__coro_yield(c);
  for (i = 0; i < sizeof buf; i += 64) ASSERT_EQ(buf[i], (char)i);
}

TEST_IMPL(coro_unguarded_fallback) {
  struct ac__stack_pool *pool;
  struct ac__stack *stacks[FALLBACK_STACKS];
  struct ac__coro coros[FALLBACK_STACKS];
  struct ac__stack_pool_stats st;
  int i, round;

  ASSERT_OK(ac__stack_pool_new(0, &pool));
  ac__stack_pool_set_guard_budget(pool, 2);
  for (i = 0; i < FALLBACK_STACKS; i++) ASSERT_OK(ac__stack_get(pool, 0, &stacks[i]));
  ac__stack_pool_stats(pool, &st);
  ASSERT_UEQ(st.live, 5);
  ASSERT_UEQ(st.guarded_live, 2);
  ASSERT_UEQ(st.unguarded_live, 3);
  ASSERT_UEQ(st.created, 5);
  for (i = 0; i < FALLBACK_STACKS; i++) ASSERT_EQ(stacks[i]->guarded, i < 2);
  for (i = 2; i < FALLBACK_STACKS; i++) {
    ASSERT(stacks[i]->from_slab);
    ASSERT_PTR_EQ(stacks[i]->map, stacks[2]->map); /* one mapping for all */
  }

  for (i = 0; i < FALLBACK_STACKS; i++)
    ASSERT_OK(ac__coro_init(&coros[i], stacks[i], touch_yield_fn, &coros[i]));
  for (round = 0; round < 2; round++)
    for (i = 0; i < FALLBACK_STACKS; i++) ac__coro_resume(&coros[i]);
  for (i = 0; i < FALLBACK_STACKS; i++) {
    ASSERT(coros[i].finished);
    ac__coro_destroy(&coros[i]);
    ac__stack_put(pool, stacks[i]);
  }
  ac__stack_pool_stats(pool, &st);
  ASSERT_UEQ(st.live, 0);
  ASSERT_UEQ(st.guarded_live, 0);
  ASSERT_UEQ(st.unguarded_live, 0);
  ASSERT_UEQ(st.cached, 5);
  ac__stack_pool_free(pool);
}

/* Past the cache, slab stacks go back to their slab, which is unmapped with
 * its last stack (valgrind and ASan would see a leak or a bad unmap). */
TEST_IMPL(coro_slab_stacks_released) {
  struct ac__stack_pool *pool;
  struct ac__stack *stacks[40];
  struct ac__stack_pool_stats st;
  int i;

  ASSERT_OK(ac__stack_pool_new(1, &pool));
  ac__stack_pool_set_guard_budget(pool, 0);
  for (i = 0; i < 40; i++) { /* more than one slab */
    ASSERT_OK(ac__stack_get(pool, AC__STACK_MIN, &stacks[i]));
    stacks[i]->lo[0] = 1;
    stacks[i]->lo[stacks[i]->size - 1] = 1;
  }
  for (i = 0; i < 40; i += 2) ac__stack_put(pool, stacks[i]);
  /* The cached stack, then a freed slot of a slab still mapped. */
  ASSERT_OK(ac__stack_get(pool, AC__STACK_MIN, &stacks[0]));
  ASSERT_OK(ac__stack_get(pool, AC__STACK_MIN, &stacks[2]));
  ASSERT(stacks[2]->map == stacks[1]->map || stacks[2]->map == stacks[39]->map);
  ac__stack_pool_stats(pool, &st);
  ASSERT_UEQ(st.unguarded_live, 22);
  ASSERT_UEQ(st.created, 41);
  ASSERT_UEQ(st.reused, 1);
  for (i = 0; i < 40; i++)
    if (i % 2 == 1 || i < 4) ac__stack_put(pool, stacks[i]);
  ac__stack_pool_stats(pool, &st);
  ASSERT_UEQ(st.live, 0);
  ASSERT_UEQ(st.cached, 1);
  ac__stack_pool_free(pool);
}

/* How many pages of [lo, lo + size) are resident. */
static size_t resident_pages(const char *lo, size_t size) {
  size_t page = (size_t)sysconf(_SC_PAGESIZE), n = size / page, i, count = 0;
  unsigned char *vec = ac__malloc(n);
  ASSERT_NOT_NULL(vec);
  ASSERT_EQ(mincore((void *)lo, size, vec), 0);
  for (i = 0; i < n; i++) count += vec[i] & 1;
  ac__free(vec);
  return count;
}

/* The stacks cached first keep their pages (they are reused next); those
 * cached past them keep only their top, however deep their coroutine went.
 * (stack.c: UNTRIMMED_CACHED 8, KEEP_RESIDENT 32 KiB.) */
TEST_IMPL(coro_cached_stacks_trimmed) {
  struct ac__stack_pool *pool;
  struct ac__stack *stacks[10];
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  size_t size = 256 * 1024, top = (32 * 1024 + page - 1) / page * page;
  int i;

  ASSERT_OK(ac__stack_pool_new(16, &pool));
  for (i = 0; i < 10; i++) {
    ASSERT_OK(ac__stack_get(pool, size, &stacks[i]));
    memset(stacks[i]->lo, 1, size); /* as a deep coroutine would */
  }
  for (i = 0; i < 10; i++) ac__stack_put(pool, stacks[i]);
  for (i = 0; i < 10; i++) {
    size_t deep = resident_pages(stacks[i]->lo, size - top);
    ASSERT_UEQ(resident_pages(stacks[i]->lo + size - top, top), top / page);
    ASSERT_UEQ(deep, i < 8 ? (size - top) / page : 0);
  }
  ac__stack_pool_free(pool);
}

/* ------------------------------------------------------------ stack sizes */

#define BIG_FRAME (600 * 1024)

static void big_frame_fn(void *arg) {
  struct ac__coro *c = arg;
  volatile unsigned char big[BIG_FRAME];
  size_t i;
  for (i = 0; i < BIG_FRAME; i++) big[i] = (unsigned char)(i * 7);
  ac__coro_yield(c);
  for (i = 0; i < BIG_FRAME; i++) ASSERT_EQ(big[i], (unsigned char)(i * 7));
}

TEST_IMPL(coro_big_stack_holds_big_frame) {
  struct solo s;
  solo_start(&s, 1024 * 1024, big_frame_fn, &s.coro);
  ASSERT_UEQ(s.stack->size, 1024 * 1024);
  ac__coro_resume(&s.coro);
  ASSERT(!s.coro.finished);
  ac__coro_resume(&s.coro);
  solo_end(&s);
}

TEST_IMPL(coro_stack_get_rounds_size) {
  struct ac__stack_pool *pool;
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  size_t asks[] = {100000, 0, 1, AC__STACK_MIN + 1, 3 * page};
  size_t i;

  ASSERT_OK(ac__stack_pool_new(0, &pool));
  for (i = 0; i < sizeof asks / sizeof asks[0]; i++) {
    struct ac__stack *s;
    size_t want = asks[i] == 0 ? AC__STACK_DEFAULT : asks[i];
    if (want < AC__STACK_MIN) want = AC__STACK_MIN;
    ASSERT_OK(ac__stack_get(pool, asks[i], &s));
    ASSERT_UEQ(s->size, (want + page - 1) / page * page);
    ASSERT_UEQ((uintptr_t)s->lo % page, 0);
    ASSERT(s->guarded);
    s->lo[0] = 1; /* both ends usable */
    s->lo[s->size - 1] = 1;
    ac__stack_put(pool, s);
  }
  ac__stack_pool_free(pool);
}

/* ----------------------------------------------------------- out of memory */

static void never_fn(void *arg) { (void)arg; }

TEST_IMPL(coro_enomem) {
  struct ac__stack_pool *pool;
  struct ac__stack *s;
  struct ac__stack_pool_stats st;
  struct ac__coro c;
  int rc;

  ac__alloc_fail_after(1);
  rc = ac__stack_pool_new(0, &pool);
  ac__alloc_fail_after(0);
  ASSERT_ERR(rc, AC_ENOMEM);

  ASSERT_OK(ac__stack_pool_new(0, &pool));
  ac__alloc_fail_after(1);
  rc = ac__stack_get(pool, 0, &s);
  ac__alloc_fail_after(0);
  ASSERT_ERR(rc, AC_ENOMEM);
  ASSERT_ERR(ac__stack_get(pool, SIZE_MAX, &s), AC_ENOMEM);
  ASSERT_ERR(ac__stack_get(pool, (size_t)1 << 56, &s), AC_ENOMEM); /* mmap fails */
  ac__stack_pool_set_guard_budget(pool, 0);
  ASSERT_ERR(ac__stack_get(pool, (size_t)1 << 52, &s), AC_ENOMEM); /* slab mmap fails */
  ac__stack_pool_stats(pool, &st);
  ASSERT_UEQ(st.live, 0);
  ASSERT_UEQ(st.created, 0);

  /* Only the ucontext backend allocates. */
  ASSERT_OK(ac__stack_get(pool, 0, &s));
  ac__alloc_fail_after(1);
  rc = ac__coro_init(&c, s, never_fn, NULL);
  ac__alloc_fail_after(0);
  if (strcmp(ac__coro_backend(), "ucontext") == 0) {
    ASSERT_ERR(rc, AC_ENOMEM);
  } else {
    ASSERT_OK(rc);
    ac__coro_destroy(&c);
  }
  ac__stack_put(pool, s);
  ac__stack_pool_free(pool);
}
