/*
 * Error codes (AC_ERRNO_MAP, ac_strerror, ac_err_name), and out-of-memory
 * handling: with allocation failure injected at the 1st, 2nd, ... allocation,
 * each constructor returns AC_ENOMEM, frees what it took, and finally works.
 *
 * The OOM tests install a counting allocator (ac_replace_allocator, before
 * any other acrawl call: each test runs in its own process) so that a leak on
 * a failure path fails the test even without valgrind.
 */
#include <limits.h>
#include <signal.h>
#include <stdint.h>

#include "acrawl.h"
#include "common/alloc.h"
#include "runner.h"

/* ------------------------------------------------------------ the table */

struct error_entry {
  int code;
  const char *name;
  const char *msg;
};

static const struct error_entry error_table[] = {
#define ERROR_ENTRY(name, val, msg) {AC_##name, "AC_" #name, msg},
    AC_ERRNO_MAP(ERROR_ENTRY)
#undef ERROR_ENTRY
};
#define ERROR_COUNT (sizeof(error_table) / sizeof(error_table[0]))

TEST_IMPL(error_every_code_has_distinct_name_and_message) {
  size_t i, j;

  ASSERT_GT(ERROR_COUNT, 10);
  for (i = 0; i < ERROR_COUNT; i++) {
    const char *name = ac_err_name(error_table[i].code);
    const char *msg = ac_strerror(error_table[i].code);
    ASSERT_LT(error_table[i].code, 0);
    ASSERT_NOT_NULL(name);
    ASSERT(strncmp(name, "AC_E", 4) == 0);
    ASSERT_GT(strlen(name), 4);
    ASSERT_NOT_NULL(msg);
    ASSERT_GT(strlen(msg), 0);
    if (error_table[i].code != AC_EUNKNOWN) {
      /* The generated name is the table's own, not the fallback. */
      ASSERT_STR_EQ(name, error_table[i].name);
      ASSERT_STR_EQ(msg, error_table[i].msg);
    }
    for (j = 0; j < i; j++) {
      ASSERT_NE(error_table[i].code, error_table[j].code);
      ASSERT(strcmp(name, ac_err_name(error_table[j].code)) != 0);
    }
  }
  ASSERT_STR_EQ(ac_err_name(AC_EUNKNOWN), "AC_EUNKNOWN");
  /* Codes with a POSIX twin are -errno, so libuv statuses pass through. */
  ASSERT_EQ(AC_ENOMEM, -ENOMEM);
  ASSERT_EQ(AC_ECANCELED, -ECANCELED);
  ASSERT_EQ(AC_ETIMEDOUT, -ETIMEDOUT);
}

TEST_IMPL(error_strerror_success_and_unknown_codes) {
  const char *s;

  ASSERT_STR_EQ(ac_strerror(0), "success");
  /* Outside the table: never NULL, never empty. */
  s = ac_strerror(AC__EBASE - 50);
  ASSERT_NOT_NULL(s);
  ASSERT_GT(strlen(s), 0);
  ASSERT_STR_EQ(ac_err_name(AC__EBASE - 50), "AC_EUNKNOWN");
  s = ac_strerror(12345);
  ASSERT_NOT_NULL(s);
  ASSERT_GT(strlen(s), 0);
  s = ac_strerror(INT_MIN);
  ASSERT_NOT_NULL(s);
  ASSERT_GT(strlen(s), 0);
  s = ac_strerror(INT_MAX);
  ASSERT_NOT_NULL(s);
  ASSERT_GT(strlen(s), 0);
  ASSERT_STR_EQ(ac_err_name(INT_MIN), "AC_EUNKNOWN");
  ASSERT_STR_EQ(ac_err_name(1), "AC_EUNKNOWN");
  /* A system code acrawl has no name for gets strerror's text. */
  ASSERT_STR_EQ(ac_strerror(-ENOTDIR), strerror(ENOTDIR));
  ASSERT_STR_EQ(ac_err_name(-ENOTDIR), "AC_EUNKNOWN");
  /* Static strings: the same pointer each time. */
  ASSERT(ac_strerror(AC_ECLOSED) == ac_strerror(AC_ECLOSED));
}

/* ------------------------------------------------------------ OOM sweeps */

static void error_install_counting_allocator(void) {
  ASSERT_ERR(ac_replace_allocator(NULL, realloc, calloc, free), AC_EINVAL);
  ac_test_count_allocations();
}

/* One attempt of the operation under test: 0, or an error. */
typedef int (*error_attempt_fn)(void *ctx);

#define ERROR_MAX_ATTEMPTS 1000

/* Fail the 1st, 2nd, ... allocation until the call succeeds. Each failure
 * must be AC_ENOMEM and leave exactly the allocations there were before.
 * Returns the n at which it succeeded (so at least one failure if > 1). */
static long error_sweep(error_attempt_fn attempt, void *ctx, const char *what) {
  long n;
  for (n = 1; n <= ERROR_MAX_ATTEMPTS; n++) {
    long before = ac_test_live_allocations();
    int rc;
    ac__alloc_fail_after(n);
    rc = attempt(ctx);
    ac__alloc_fail_after(0);
    if (rc == 0) return n;
    if (rc != AC_ENOMEM || ac_test_live_allocations() != before) {
      fprintf(stderr, "%s: failing allocation %ld: rc %d (%s), %ld allocations leaked\n", what,
              n, rc, ac_err_name(rc), ac_test_live_allocations() - before);
    }
    ASSERT_ERR(rc, AC_ENOMEM);
    ASSERT_EQ(ac_test_live_allocations(), before);
  }
  AC__FAIL("%s never succeeded", what);
  return -1;
}

struct error_ctx {
  ac_loop_t *loop;
  ac_loop_t *new_loop;
  ac_task_t *task;
  ac_future_t *future;
  ac_sem_t *sem;
  ac_queue_t *queue;
  ac_event_t *event;
  int ran;
  int cb_ran;
  int wrong_out;   /* an out pointer was not NULL after a failure */
};

static int error_try_loop_new(void *arg) {
  struct error_ctx *c = arg;
  int rc;
  c->new_loop = (ac_loop_t *)c; /* must be reset */
  rc = ac_loop_new(&c->new_loop);
  if (rc != 0 && c->new_loop != NULL) c->wrong_out++;
  return rc;
}

TEST_IMPL(error_oom_sweep_loop_new) {
  struct error_ctx c;
  long n;

  memset(&c, 0, sizeof(c));
  error_install_counting_allocator();
  n = error_sweep(error_try_loop_new, &c, "ac_loop_new");
  ASSERT_GT(n, 1);
  ASSERT_EQ(c.wrong_out, 0);
  ASSERT_NOT_NULL(c.new_loop);
  ASSERT_OK(ac_loop_run(c.new_loop));
  ASSERT_OK(ac_loop_close(c.new_loop));
  ASSERT_EQ(ac_test_live_allocations(), 0);
  ac__alloc_fail_after(0);
}

static int error_task_body(void *arg, void **result) {
  struct error_ctx *c = arg;
  c->ran++;
  return ac_sleep(1);
}

static int error_try_spawn(void *arg) {
  struct error_ctx *c = arg;
  ac_task_opts_t opts = {"oom-task", 0};
  size_t before = ac_loop_task_count(c->loop);
  int rc;
  c->task = (ac_task_t *)c;
  rc = ac_task_spawn(c->loop, error_task_body, c, &opts, &c->task);
  if (rc != 0 && (c->task != NULL || ac_loop_task_count(c->loop) != before)) c->wrong_out++;
  return rc;
}

static int error_try_spawn_unnamed(void *arg) {
  struct error_ctx *c = arg;
  size_t before = ac_loop_task_count(c->loop);
  int rc = ac_task_spawn(c->loop, error_task_body, c, NULL, NULL);
  if (rc != 0 && ac_loop_task_count(c->loop) != before) c->wrong_out++;
  return rc;
}

TEST_IMPL(error_oom_sweep_task_spawn) {
  struct error_ctx c;
  long n;

  memset(&c, 0, sizeof(c));
  error_install_counting_allocator();
  ASSERT_OK(ac_loop_new(&c.loop));
  n = error_sweep(error_try_spawn, &c, "ac_task_spawn");
  ASSERT_GT(n, 1);
  n = error_sweep(error_try_spawn_unnamed, &c, "ac_task_spawn (no name)");
  ASSERT_GT(n, 1);
  ASSERT_EQ(c.wrong_out, 0);
  ASSERT_EQ(c.ran, 0);
  ASSERT_EQ(ac_loop_task_count(c.loop), 2);
  ASSERT_OK(ac_loop_run(c.loop));
  ASSERT_EQ(c.ran, 2); /* only the successful spawns ran */
  ASSERT_EQ(ac_task_state(c.task), AC_TASK_DONE);
  ASSERT_STR_EQ(ac_task_name(c.task), "oom-task");
  ac_task_release(c.task);
  ASSERT_OK(ac_loop_close(c.loop));
  ASSERT_EQ(ac_test_live_allocations(), 0);
}

static int error_try_future_new(void *arg) {
  struct error_ctx *c = arg;
  int rc;
  c->future = (ac_future_t *)c;
  rc = ac_future_new(c->loop, &c->future);
  if (rc != 0 && c->future != NULL) c->wrong_out++;
  return rc;
}

static int error_try_sem_new(void *arg) {
  struct error_ctx *c = arg;
  int rc;
  c->sem = (ac_sem_t *)c;
  rc = ac_sem_new(c->loop, 2, &c->sem);
  if (rc != 0 && c->sem != NULL) c->wrong_out++;
  return rc;
}

static int error_try_queue_new(void *arg) {
  struct error_ctx *c = arg;
  int rc;
  c->queue = (ac_queue_t *)c;
  rc = ac_queue_new(c->loop, 8, &c->queue);
  if (rc != 0 && c->queue != NULL) c->wrong_out++;
  return rc;
}

static int error_try_event_new(void *arg) {
  struct error_ctx *c = arg;
  int rc;
  c->event = (ac_event_t *)c;
  rc = ac_event_new(c->loop, &c->event);
  if (rc != 0 && c->event != NULL) c->wrong_out++;
  return rc;
}

TEST_IMPL(error_oom_sweep_future_sem_queue_event) {
  struct error_ctx c;
  void *item = NULL;

  memset(&c, 0, sizeof(c));
  error_install_counting_allocator();
  ASSERT_OK(ac_loop_new(&c.loop));
  ASSERT_GT(error_sweep(error_try_future_new, &c, "ac_future_new"), 1);
  ASSERT_GT(error_sweep(error_try_sem_new, &c, "ac_sem_new"), 1);
  ASSERT_GT(error_sweep(error_try_queue_new, &c, "ac_queue_new"), 1);
  ASSERT_GT(error_sweep(error_try_event_new, &c, "ac_event_new"), 1);
  ASSERT_EQ(c.wrong_out, 0);
  /* What finally succeeded works. */
  ASSERT_OK(ac_future_resolve(c.future, &c));
  ASSERT_EQ(ac_sem_value(c.sem), 2);
  ASSERT_EQ(ac_queue_capacity(c.queue), 8);
  ASSERT_OK(ac_queue_try_put(c.queue, &c));
  ASSERT_OK(ac_queue_try_get(c.queue, &item));
  ASSERT(item == &c);
  ASSERT_EQ(ac_event_is_set(c.event), 0);
  ac_future_release(c.future);
  ASSERT_OK(ac_sem_free(c.sem));
  ASSERT_OK(ac_queue_free(c.queue));
  ASSERT_OK(ac_event_free(c.event));
  ASSERT_OK(ac_loop_close(c.loop));
  ASSERT_EQ(ac_test_live_allocations(), 0);
}

/* Done callbacks and signal watchers allocate too: a failed add means the
 * callback never runs. */
static void error_future_cb(ac_future_t *f, void *ud) {
  struct error_ctx *c = ud;
  c->cb_ran++;
}

static int error_try_add_future_cb(void *arg) {
  struct error_ctx *c = arg;
  return ac_future_add_done_callback(c->future, error_future_cb, c);
}

static void error_task_cb(ac_task_t *t, void *ud) {
  struct error_ctx *c = ud;
  c->cb_ran += 100;
}

static int error_try_add_task_cb(void *arg) {
  struct error_ctx *c = arg;
  return ac_task_add_done_callback(c->task, error_task_cb, c);
}

static void error_signal_cb(ac_loop_t *loop, int signum, void *ud) {}

static int error_try_signal_watch(void *arg) {
  struct error_ctx *c = arg;
  return ac_signal_watch(c->loop, SIGUSR1, error_signal_cb, c);
}

TEST_IMPL(error_oom_sweep_callbacks_and_signals) {
  struct error_ctx c;

  memset(&c, 0, sizeof(c));
  error_install_counting_allocator();
  ASSERT_OK(ac_loop_new(&c.loop));
  ASSERT_OK(ac_future_new(c.loop, &c.future));
  ASSERT_OK(ac_task_spawn(c.loop, error_task_body, &c, NULL, &c.task));
  ASSERT_GT(error_sweep(error_try_add_future_cb, &c, "ac_future_add_done_callback"), 1);
  ASSERT_GT(error_sweep(error_try_add_task_cb, &c, "ac_task_add_done_callback"), 1);
  ASSERT_GT(error_sweep(error_try_signal_watch, &c, "ac_signal_watch"), 1);
  ASSERT_OK(ac_future_resolve(c.future, NULL));
  ASSERT_OK(ac_loop_run(c.loop));
  ASSERT_EQ(c.cb_ran, 101); /* each callback once: the failed adds never run */
  ac_task_release(c.task);
  ac_future_release(c.future);
  ASSERT_OK(ac_signal_unwatch(c.loop, SIGUSR1));
  ASSERT_OK(ac_loop_close(c.loop));
  ASSERT_EQ(ac_test_live_allocations(), 0);
}

/* A task's stack is taken when it first runs, from the loop: if that fails,
 * the task ends failed with AC_ENOMEM (its body never runs) and nothing leaks. */
TEST_IMPL(error_oom_at_task_start_fails_the_task) {
  struct error_ctx c;
  ac_task_t *t;
  long before;

  memset(&c, 0, sizeof(c));
  error_install_counting_allocator();
  ASSERT_OK(ac_loop_new(&c.loop));
  ASSERT_OK(ac_task_spawn(c.loop, error_task_body, &c, NULL, &t));
  before = ac_test_live_allocations();
  ac__alloc_fail_after(1);
  ASSERT_OK(ac_loop_run(c.loop));
  ac__alloc_fail_after(0);
  ASSERT_EQ(c.ran, 0);
  ASSERT_EQ(ac_task_state(t), AC_TASK_FAILED);
  ASSERT_ERR(ac_task_error(t), AC_ENOMEM);
  ASSERT_EQ(ac_test_live_allocations(), before);
  ac_task_release(t);
  ASSERT_OK(ac_loop_close(c.loop));
  ASSERT_EQ(ac_test_live_allocations(), 0);
}
