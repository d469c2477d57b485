/*
 * Tutorial examples 005/006: several tasks awaited together (asyncio.wait).
 * Five "requests" of 100 ms each run at once: together they take about one
 * request's time, not five.
 */
#include <stdio.h>

#include "acrawl.h"

#define NTASKS 5

static int status = 200;

static int request(void *arg, void **result) {
  int rc = ac_sleep(100);
  if (rc != 0) return rc;
  *result = &status;
  return 0;
}

struct main_args {
  ac_task_t *tasks[NTASKS];
};

static int main_task(void *arg, void **result) {
  struct main_args *m = arg;
  return ac_wait(m->tasks, NTASKS, AC_WAIT_ALL, AC_NO_TIMEOUT, NULL);
}

int main(void) {
  ac_loop_t *loop;
  ac_task_t *waiter;
  struct main_args m;
  uint64_t start, elapsed;
  int i;

  if (ac_loop_new(&loop) != 0) return 1;
  for (i = 0; i < NTASKS; i++)
    if (ac_task_spawn(loop, request, NULL, NULL, &m.tasks[i]) != 0) return 1;
  printf("Tasks:");
  for (i = 0; i < NTASKS; i++) printf(" <Task %s>", ac_task_state_name(ac_task_state(m.tasks[i])));
  printf("\n");
  start = ac_loop_now(loop);
  if (ac_task_spawn(loop, main_task, &m, NULL, &waiter) != 0) return 1;
  ac_loop_run_until_done(loop, waiter);
  elapsed = ac_loop_now(loop) - start;
  for (i = 0; i < NTASKS; i++) {
    void *r;
    if (ac_task_result(m.tasks[i], &r) != 0) return 1;
    printf("Task Result: %d\n", *(int *)r);
    ac_task_release(m.tasks[i]);
  }
  /* The tutorial's point: concurrent waits overlap. Checked loosely (the
   * exact time is a benchmark's business, not an example's). */
  printf("Concurrent: %s\n", elapsed < 100 * NTASKS ? "yes" : "no");
  ac_task_release(waiter);
  return ac_loop_close(loop) == 0 ? 0 : 1;
}
