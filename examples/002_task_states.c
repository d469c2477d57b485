/*
 * Tutorial example 002/003: a task and its state before and after the loop
 * runs it (asyncio's create_task / ensure_future).
 */
#include <stdio.h>

#include "acrawl.h"

static int execute(void *arg, void **result) {
  printf("Number: %d\n", *(int *)arg);
  *result = arg; /* like "return x" */
  return 0;
}

static void print_task(ac_task_t *t) {
  void *result = NULL;
  printf("Task: <Task %s name='%s'", ac_task_state_name(ac_task_state(t)), ac_task_name(t));
  if (ac_task_result(t, &result) == 0) printf(" result=%d", *(int *)result);
  printf(">\n");
}

int main(void) {
  ac_loop_t *loop;
  ac_task_t *task;
  ac_task_opts_t opts = {"execute", 0};
  int x = 1;

  if (ac_loop_new(&loop) != 0) return 1;
  if (ac_task_spawn(loop, execute, &x, &opts, &task) != 0) return 1;
  print_task(task);
  if (ac_loop_run_until_done(loop, task) != 0) return 1;
  print_task(task);
  printf("After calling loop\n");
  ac_task_release(task);
  return ac_loop_close(loop) == 0 ? 0 : 1;
}
