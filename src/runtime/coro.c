/*
 * Coroutine contexts (see coro.h): backend selection, the asymmetric
 * resume/yield pair and the AddressSanitizer fiber annotations. Stacks, and
 * their valgrind registration, are stack.c's.
 *
 * Not thread-safe, and need not be: a coroutine is resumed only by the loop
 * thread that owns it.
 *
 * Every context switch goes through switch_in (resumer -> coroutine) or
 * switch_out (coroutine -> resumer), each bracketed for ASan:
 * __sanitizer_start_switch_fiber names the stack about to run and saves the
 * leaving side's fake stack (detect_stack_use_after_return), and
 * __sanitizer_finish_switch_fiber, first thing on the other side, restores the
 * arriving side's fake stack. Without them ASan takes a coroutine stack for
 * a stack overflow of the thread's own and reports false errors.
 */
#include "runtime/coro.h"

#include <assert.h>
#include <string.h>

#include "acrawl/errno.h"
#include "common/alloc.h"

#if defined(AC_CORO_USE_UCONTEXT) || !(defined(__x86_64__) || defined(__aarch64__))
#define AC_CORO_BACKEND_UCONTEXT 1
#include <ucontext.h>
#else
#define AC_CORO_BACKEND_ASM 1
#endif

#if defined(__SANITIZE_ADDRESS__)
#define AC_CORO_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define AC_CORO_ASAN 1
#endif
#endif

#ifdef AC_CORO_ASAN
#include <sanitizer/common_interface_defs.h>
#define fiber_start(save, bottom, size) __sanitizer_start_switch_fiber(save, bottom, size)
#define fiber_finish(save, bottom, size) __sanitizer_finish_switch_fiber(save, bottom, size)
#else
#define fiber_start(save, bottom, size) ((void)(save), (void)(bottom), (void)(size))
#define fiber_finish(save, bottom, size) ((void)(save), (void)(bottom), (void)(size))
#endif

static void coro_main(void *arg) __attribute__((noreturn));

#ifdef AC_CORO_BACKEND_ASM

/* coro_switch_<arch>.S */
void ac__coro_switch(void **save_sp, void *load_sp);
void *ac__coro_prepare(void *stack_top, void (*entry)(void *), void *arg);

/* A new coroutine starts with the FP control state (rounding mode...) of the
 * thread that initialised it, then keeps its own. */
static int backend_init(struct ac__coro *c) {
  c->sp = ac__coro_prepare(c->stack->lo + c->stack->size, coro_main, c);
  return 0;
}

static void backend_destroy(struct ac__coro *c) { (void)c; }

static inline void switch_in(struct ac__coro *c) {
  ac__coro_switch(&c->resumer_sp, c->sp);
}

static inline void switch_out(struct ac__coro *c) {
  ac__coro_switch(&c->sp, c->resumer_sp);
}

#if defined(__x86_64__)
const char *ac__coro_backend(void) { return "asm-x86_64"; }
#else
const char *ac__coro_backend(void) { return "asm-aarch64"; }
#endif

#else /* AC_CORO_BACKEND_UCONTEXT */

struct ucontext_pair {
  ucontext_t coro;
  ucontext_t resumer;
};

/* makecontext passes int arguments only: the coroutine's address travels in
 * two halves. */
static void ucontext_start(unsigned hi, unsigned lo) {
  coro_main((void *)(uintptr_t)(((uint64_t)hi << 32) | lo));
}

static int backend_init(struct ac__coro *c) {
  struct ucontext_pair *u = ac__malloc(sizeof *u);
  uint64_t addr = (uint64_t)(uintptr_t)c;
  if (u == NULL) return AC_ENOMEM;
  /* getcontext only reads the signal mask and registers: it cannot fail. */
  (void)getcontext(&u->coro);
  u->coro.uc_stack.ss_sp = c->stack->lo;
  u->coro.uc_stack.ss_size = c->stack->size;
  u->coro.uc_link = NULL; /* coro_main never returns */
  makecontext(&u->coro, (void (*)(void))ucontext_start, 2, (unsigned)(addr >> 32),
              (unsigned)addr);
  c->backend = u;
  return 0;
}

static void backend_destroy(struct ac__coro *c) {
  ac__free(c->backend);
  c->backend = NULL;
}

/* swapcontext fails only for an invalid signal mask, which these never hold. */
static inline void switch_in(struct ac__coro *c) {
  struct ucontext_pair *u = c->backend;
  (void)swapcontext(&u->resumer, &u->coro);
}

static inline void switch_out(struct ac__coro *c) {
  struct ucontext_pair *u = c->backend;
  (void)swapcontext(&u->coro, &u->resumer);
}

const char *ac__coro_backend(void) { return "ucontext"; }

#endif

/* Runs on the coroutine's stack, from its first resume. */
static void coro_main(void *arg) {
  struct ac__coro *c = arg;
  /* No fake stack yet; learn the resumer's stack for the switches back. */
  fiber_finish(NULL, &c->asan_resumer_bottom, &c->asan_resumer_size);
  c->fn(c->arg);
  c->finished = 1;
  /* NULL: this context is gone for good, so ASan frees its fake stack. */
  fiber_start(NULL, c->asan_resumer_bottom, c->asan_resumer_size);
  switch_out(c);
  __builtin_trap(); /* a finished coroutine is never resumed */
}

int ac__coro_init(struct ac__coro *c, struct ac__stack *stack, ac__coro_fn fn, void *arg) {
  memset(c, 0, sizeof *c);
  c->stack = stack;
  c->fn = fn;
  c->arg = arg;
  return backend_init(c);
}

void ac__coro_resume(struct ac__coro *c) {
  assert(!c->finished);
  c->started = 1;
  fiber_start(&c->asan_resumer_fake_stack, c->stack->lo, c->stack->size);
  switch_in(c);
  fiber_finish(c->asan_resumer_fake_stack, NULL, NULL);
}

void ac__coro_yield(struct ac__coro *c) {
  fiber_start(&c->asan_fake_stack, c->asan_resumer_bottom, c->asan_resumer_size);
  switch_out(c);
  /* The resumer may differ from last time: learn its stack again. */
  fiber_finish(c->asan_fake_stack, &c->asan_resumer_bottom, &c->asan_resumer_size);
}

void ac__coro_destroy(struct ac__coro *c) {
  assert(c->finished || !c->started);
  backend_destroy(c);
}
