/*
 * Signals as loop events: the callback runs on the loop (outside tasks) and
 * may cancel tasks; a watched SIGINT does not kill the process; unwatch; a
 * watcher does not keep the loop alive.
 *
 * Each test arms alarm() so that a loop that never returns fails the test
 * (SIGALRM's default action) instead of hanging until ctest's limit.
 */
#include <signal.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "acrawl.h"
#include "runner.h"

#define SIGNAL_ALARM_S 30

struct signal_state {
  ac_loop_t *loop;
  ac_task_t *sleeper;
  int calls;
  int last_signum;
  int cb_inside_task;
  int cb_wrong_loop;
  int cb_wrong_userdata;
  int cancel_rc;
  int sleeper_rc;
  int sender_rc;
};

static void signal_count_cb(ac_loop_t *loop, int signum, void *userdata) {
  struct signal_state *s = userdata;
  s->calls++;
  s->last_signum = signum;
  s->cb_inside_task |= ac_task_current() != NULL;
  s->cb_wrong_loop |= loop != s->loop;
}

static void signal_cancel_cb(ac_loop_t *loop, int signum, void *userdata) {
  struct signal_state *s = userdata;
  signal_count_cb(loop, signum, userdata);
  if (s->sleeper != NULL && !ac_task_is_finished(s->sleeper))
    s->cancel_rc = ac_task_cancel(s->sleeper);
}

static int signal_sleep_forever(void *arg, void **result) {
  struct signal_state *s = arg;
  int rc;
  while ((rc = ac_sleep(1000000)) == 0) {
  }
  s->sleeper_rc = rc;
  return rc;
}

static int signal_send_usr1(void *arg, void **result) {
  struct signal_state *s = arg;
  ASSERT_OK(ac_sleep(2)); /* the sleeper is asleep by now */
  s->sender_rc = kill(getpid(), SIGUSR1);
  return 0;
}

TEST_IMPL(signal_callback_on_loop_cancels_sleeper) {
  ac_loop_t *loop;
  struct signal_state s;

  memset(&s, 0, sizeof(s));
  alarm(SIGNAL_ALARM_S);
  ASSERT_OK(ac_loop_new(&loop));
  s.loop = loop;
  ASSERT_OK(ac_signal_watch(loop, SIGUSR1, signal_cancel_cb, &s));
  ASSERT_OK(ac_task_spawn(loop, signal_sleep_forever, &s, NULL, &s.sleeper));
  ASSERT_OK(ac_task_spawn(loop, signal_send_usr1, &s, NULL, NULL));
  ASSERT_OK(ac_loop_run(loop));
  ASSERT_EQ(s.sender_rc, 0);
  ASSERT_EQ(s.calls, 1);
  ASSERT_EQ(s.last_signum, SIGUSR1);
  ASSERT_EQ(s.cb_inside_task, 0);
  ASSERT_EQ(s.cb_wrong_loop, 0);
  ASSERT_OK(s.cancel_rc);
  ASSERT_ERR(s.sleeper_rc, AC_ECANCELED);
  ASSERT_EQ(ac_task_state(s.sleeper), AC_TASK_CANCELLED);
  ac_task_release(s.sleeper);
  ASSERT_OK(ac_signal_unwatch(loop, SIGUSR1));
  ASSERT_OK(ac_loop_close(loop));
  alarm(0);
}

/* ------------------------------------------------------------ SIGINT */

static int signal_raise_sigint(void *arg, void **result) {
  struct signal_state *s = arg;
  int i;
  s->sender_rc = raise(SIGINT);
  /* Still alive: wait for the loop to deliver it. */
  for (i = 0; i < 5000 && s->calls == 0; i++) ASSERT_OK(ac_sleep(1));
  return 0;
}

TEST_IMPL(signal_watched_sigint_does_not_kill) {
  ac_loop_t *loop;
  struct signal_state s;

  memset(&s, 0, sizeof(s));
  alarm(SIGNAL_ALARM_S);
  ASSERT_OK(ac_loop_new(&loop));
  s.loop = loop;
  ASSERT_OK(ac_signal_watch(loop, SIGINT, signal_count_cb, &s));
  ASSERT_OK(ac_task_spawn(loop, signal_raise_sigint, &s, NULL, NULL));
  ASSERT_OK(ac_loop_run(loop));
  ASSERT_EQ(s.sender_rc, 0);
  ASSERT_EQ(s.calls, 1);
  ASSERT_EQ(s.last_signum, SIGINT);
  ASSERT_EQ(s.cb_inside_task, 0);
  ASSERT_OK(ac_signal_unwatch(loop, SIGINT));
  ASSERT_OK(ac_loop_close(loop));
  alarm(0);
}

/* After unwatch the default action applies again: checked in a child,
 * which must die of the SIGINT it raises. */
TEST_IMPL(signal_unwatch_restores_default_action) {
  pid_t pid;
  int status = 0;

  alarm(SIGNAL_ALARM_S);
  pid = fork();
  ASSERT(pid >= 0);
  if (pid == 0) {
    ac_loop_t *loop;
    struct signal_state s;
    memset(&s, 0, sizeof(s));
    if (ac_loop_new(&loop) != 0) _exit(10);
    if (ac_signal_watch(loop, SIGINT, signal_count_cb, &s) != 0) _exit(11);
    if (ac_signal_unwatch(loop, SIGINT) != 0) _exit(12);
    if (ac_loop_run(loop) != 0) _exit(13);
    if (ac_loop_close(loop) != 0) _exit(14);
    raise(SIGINT);
    _exit(0); /* survived: wrong */
  }
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT(WIFSIGNALED(status));
  ASSERT_EQ(WTERMSIG(status), SIGINT);
  alarm(0);
}

/* ---------------------------------------------------------- unwatch */

static void signal_other_cb(ac_loop_t *loop, int signum, void *userdata) {
  struct signal_state *s = userdata;
  s->calls += 100;
}

static int signal_send_usr2(void *arg, void **result) {
  struct signal_state *s = arg;
  int i;
  s->sender_rc = kill(getpid(), SIGUSR2);
  for (i = 0; i < 5000 && s->calls == 0; i++) ASSERT_OK(ac_sleep(1));
  return 0;
}

TEST_IMPL(signal_unwatch_twice_is_enoent) {
  ac_loop_t *loop;
  struct signal_state s;

  memset(&s, 0, sizeof(s));
  alarm(SIGNAL_ALARM_S);
  ASSERT_OK(ac_loop_new(&loop));
  s.loop = loop;
  ASSERT_ERR(ac_signal_unwatch(loop, SIGUSR2), AC_ENOENT); /* never watched */
  ASSERT_ERR(ac_signal_watch(loop, 0, signal_count_cb, &s), AC_EINVAL);
  ASSERT_ERR(ac_signal_watch(loop, SIGUSR2, NULL, &s), AC_EINVAL);
  ASSERT_ERR(ac_signal_watch(NULL, SIGUSR2, signal_count_cb, &s), AC_EINVAL);
  /* Watching again replaces the callback: only the second one runs. */
  ASSERT_OK(ac_signal_watch(loop, SIGUSR2, signal_other_cb, &s));
  ASSERT_OK(ac_signal_watch(loop, SIGUSR2, signal_count_cb, &s));
  ASSERT_OK(ac_task_spawn(loop, signal_send_usr2, &s, NULL, NULL));
  ASSERT_OK(ac_loop_run(loop));
  ASSERT_EQ(s.sender_rc, 0);
  ASSERT_EQ(s.calls, 1);
  ASSERT_EQ(s.last_signum, SIGUSR2);
  ASSERT_OK(ac_signal_unwatch(loop, SIGUSR2));
  ASSERT_ERR(ac_signal_unwatch(loop, SIGUSR2), AC_ENOENT);
  /* And it can be watched again after that. */
  ASSERT_OK(ac_signal_watch(loop, SIGUSR2, signal_count_cb, &s));
  ASSERT_OK(ac_signal_unwatch(loop, SIGUSR2));
  ASSERT_ERR(ac_signal_unwatch(loop, SIGUSR2), AC_ENOENT);
  ASSERT_OK(ac_loop_run(loop));
  ASSERT_OK(ac_loop_close(loop));
  alarm(0);
}

TEST_IMPL(signal_watch_uncatchable_is_einval) {
  ac_loop_t *loop;
  struct signal_state s;

  memset(&s, 0, sizeof(s));
  ASSERT_OK(ac_loop_new(&loop));
  ASSERT_ERR(ac_signal_watch(loop, SIGKILL, signal_count_cb, &s), AC_EINVAL);
  ASSERT_ERR(ac_signal_unwatch(loop, SIGKILL), AC_ENOENT);
  ASSERT_ERR(ac_signal_watch(loop, SIGSTOP, signal_count_cb, &s), AC_EINVAL);
  ASSERT_ERR(ac_signal_watch(loop, -1, signal_count_cb, &s), AC_EINVAL);
  ASSERT_ERR(ac_signal_watch(loop, 4096, signal_count_cb, &s), AC_EINVAL); /* no such signal */
  ASSERT_ERR(ac_signal_unwatch(loop, 4096), AC_ENOENT);
  ASSERT_OK(ac_loop_close(loop)); /* the failed watcher's handle is closed too */
}

/* ---------------------------------------------- unwatch from the callback */

static void signal_unwatch_self_cb(ac_loop_t *loop, int signum, void *userdata) {
  struct signal_state *s = userdata;
  signal_count_cb(loop, signum, userdata);
  s->cancel_rc = ac_signal_unwatch(loop, signum);
}

static int signal_send_usr1_twice(void *arg, void **result) {
  struct signal_state *s = arg;
  int i;
  /* Both are caught by the handler before the loop reads either. */
  s->sender_rc = kill(getpid(), SIGUSR1);
  s->sender_rc |= kill(getpid(), SIGUSR1);
  for (i = 0; i < 5000 && s->calls == 0; i++) ASSERT_OK(ac_sleep(1));
  ASSERT_OK(ac_sleep(5)); /* room for a wrong second call */
  return 0;
}

TEST_IMPL(signal_callback_may_unwatch_itself) {
  ac_loop_t *loop;
  struct signal_state s;

  memset(&s, 0, sizeof(s));
  alarm(SIGNAL_ALARM_S);
  ASSERT_OK(ac_loop_new(&loop));
  s.loop = loop;
  s.cancel_rc = 1;
  ASSERT_OK(ac_signal_watch(loop, SIGUSR1, signal_unwatch_self_cb, &s));
  ASSERT_OK(ac_task_spawn(loop, signal_send_usr1_twice, &s, NULL, NULL));
  ASSERT_OK(ac_loop_run(loop));
  ASSERT_EQ(s.sender_rc, 0);
  ASSERT_EQ(s.calls, 1); /* the second one arrived after the unwatch */
  ASSERT_OK(s.cancel_rc);
  ASSERT_ERR(ac_signal_unwatch(loop, SIGUSR1), AC_ENOENT);
  ASSERT_OK(ac_loop_close(loop));
  alarm(0);
}

/* ------------------------------------------------- does not keep alive */

static int signal_short_task(void *arg, void **result) {
  struct signal_state *s = arg;
  s->sender_rc = ac_sleep(2);
  return 0;
}

TEST_IMPL(signal_watcher_does_not_keep_loop_alive) {
  ac_loop_t *loop;
  struct signal_state s;

  memset(&s, 0, sizeof(s));
  alarm(SIGNAL_ALARM_S); /* a loop kept alive by the watcher would hang */
  ASSERT_OK(ac_loop_new(&loop));
  s.loop = loop;
  ASSERT_OK(ac_signal_watch(loop, SIGUSR1, signal_count_cb, &s));
  ASSERT_OK(ac_signal_watch(loop, SIGTERM, signal_count_cb, &s));
  ASSERT_OK(ac_loop_run(loop)); /* nothing to do: returns at once */
  ASSERT_OK(ac_task_spawn(loop, signal_short_task, &s, NULL, NULL));
  ASSERT_OK(ac_loop_run(loop)); /* returns once the task is over */
  ASSERT_OK(s.sender_rc);
  ASSERT_EQ(s.calls, 0);
  /* ac_loop_close closes the watchers still open. */
  ASSERT_OK(ac_loop_close(loop));
  alarm(0);
}
