/*
 * acrawl's test runner: one binary (ac_tests), many small tests.
 *
 * TEST_IMPL(name) defines a test and registers it at load time; CMake scans the
 * sources for TEST_IMPL / TEST_SLOW and adds one ctest entry per test, so
 * `ctest -R name` and `ctest -L unit|integration|slow` work. `ac_tests NAME`
 * runs one test in-process (ctest gives the process isolation and the time
 * limit); `ac_tests` alone lists the tests.
 *
 * ASSERT_* print both values and the location, then abort() so that a core,
 * gdb or the sanitizers show where.
 */
#ifndef AC_TESTS_RUNNER_H
#define AC_TESTS_RUNNER_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef void (*ac_test_fn)(void);

struct ac_test_entry {
  const char *name;
  ac_test_fn fn;
  int slow;
  struct ac_test_entry *next;
};

void ac_test_register(struct ac_test_entry *e);

#define AC__TEST_DEFINE(name, is_slow)                                        \
  static void test_##name(void);                                             \
  static struct ac_test_entry test_entry_##name = {#name, test_##name, is_slow, NULL}; \
  __attribute__((constructor)) static void test_register_##name(void) {      \
    ac_test_register(&test_entry_##name);                                    \
  }                                                                          \
  static void test_##name(void)

#define TEST_IMPL(name) AC__TEST_DEFINE(name, 0)
#define TEST_SLOW(name) AC__TEST_DEFINE(name, 1)

/* Multiplier for time-based expectations in tests (AC_TEST_TIMEOUT_MULTIPLIER),
 * raised under valgrind and sanitizers. Never used for pass/fail on speed. */
double ac_test_time_multiplier(void);
/* 1 when running under valgrind (RUNNING_ON_VALGRIND). */
int ac_test_on_valgrind(void);

/* Install a counting allocator (alloc_count.c) before any other acrawl call
 * of the test; ac_test_live_allocations() is then the number of live acrawl
 * allocations, so a leak fails the test without valgrind. */
void ac_test_count_allocations(void);
long ac_test_live_allocations(void);

#define AC__FAIL(...)                                                         \
  do {                                                                       \
    fprintf(stderr, "%s:%d: assertion failed: ", __FILE__, __LINE__);        \
    fprintf(stderr, __VA_ARGS__);                                            \
    fputc('\n', stderr);                                                     \
    fflush(stderr);                                                          \
    abort();                                                                 \
  } while (0)

#define AC__ASSERT_CMP(a, op, b, type, fmt)                                   \
  do {                                                                       \
    type a_ = (type)(a);                                                     \
    type b_ = (type)(b);                                                     \
    if (!(a_ op b_))                                                         \
      AC__FAIL("%s %s %s (%" fmt " vs %" fmt ")", #a, #op, #b, a_, b_);      \
  } while (0)

#define ASSERT(expr)                                                          \
  do {                                                                       \
    if (!(expr)) AC__FAIL("%s", #expr);                                      \
  } while (0)
#define ASSERT_EQ(a, b) AC__ASSERT_CMP(a, ==, b, intmax_t, PRIdMAX)
#define ASSERT_NE(a, b) AC__ASSERT_CMP(a, !=, b, intmax_t, PRIdMAX)
#define ASSERT_LT(a, b) AC__ASSERT_CMP(a, <, b, intmax_t, PRIdMAX)
#define ASSERT_LE(a, b) AC__ASSERT_CMP(a, <=, b, intmax_t, PRIdMAX)
#define ASSERT_GT(a, b) AC__ASSERT_CMP(a, >, b, intmax_t, PRIdMAX)
#define ASSERT_GE(a, b) AC__ASSERT_CMP(a, >=, b, intmax_t, PRIdMAX)
#define ASSERT_UEQ(a, b) AC__ASSERT_CMP(a, ==, b, uintmax_t, PRIuMAX)
#define ASSERT_DEQ(a, b) AC__ASSERT_CMP(a, ==, b, double, "g")
#define ASSERT_PTR_EQ(a, b) AC__ASSERT_CMP(a, ==, b, const void *, "p")
#define ASSERT_NULL(a) ASSERT_PTR_EQ(a, NULL)
#define ASSERT_NOT_NULL(a) ASSERT((a) != NULL)
/* An acrawl status: prints the error name on failure. */
#define ASSERT_OK(expr) ASSERT_ERR(expr, 0)
#define ASSERT_ERR(expr, want)                                                \
  do {                                                                       \
    int got_ = (expr), want_ = (want);                                       \
    if (got_ != want_)                                                       \
      AC__FAIL("%s == %s (%d %s, want %d %s)", #expr, #want, got_,           \
               ac_err_name(got_), want_, ac_err_name(want_));                \
  } while (0)
#define ASSERT_STR_EQ(a, b)                                                   \
  do {                                                                       \
    const char *a_ = (a), *b_ = (b);                                         \
    if (a_ == NULL || b_ == NULL || strcmp(a_, b_) != 0)                     \
      AC__FAIL("%s == %s (\"%s\" vs \"%s\")", #a, #b, a_ ? a_ : "(null)",    \
               b_ ? b_ : "(null)");                                          \
  } while (0)

/* ac_err_name without linking libacrawl (the coroutine test is built alone). */
#ifndef AC_TESTS_NO_LIBACRAWL
#include "acrawl/errno.h"
#else
static inline const char *ac_err_name(int e) { (void)e; return "?"; }
#endif

#endif /* AC_TESTS_RUNNER_H */
