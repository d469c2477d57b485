/*
 * Tutorial example 005: no callback; read the task's result once the loop
 * has run it.
 */
#include <stdio.h>

#include "acrawl.h"

static int status = 200;

static int request(void *arg, void **result) {
  int rc = ac_sleep(10);
  if (rc != 0) return rc;
  *result = &status;
  return 0;
}

int main(void) {
  ac_loop_t *loop;
  ac_task_t *task;
  ac_task_opts_t opts = {"request", 0};
  void *result;

  if (ac_loop_new(&loop) != 0) return 1;
  if (ac_task_spawn(loop, request, NULL, &opts, &task) != 0) return 1;
  printf("Task: <Task %s name='%s'>\n", ac_task_state_name(ac_task_state(task)), ac_task_name(task));
  ac_loop_run_until_done(loop, task);
  printf("Task: <Task %s name='%s'>\n", ac_task_state_name(ac_task_state(task)), ac_task_name(task));
  if (ac_task_result(task, &result) != 0) return 1;
  printf("Task Result: %d\n", *(int *)result);
  ac_task_release(task);
  return ac_loop_close(loop) == 0 ? 0 : 1;
}
