/*
 * Tutorial example 004: a done callback bound to a task. As in asyncio, the
 * callback runs from the loop once the task is done, before run-until-done
 * returns. The tutorial's coroutine makes an HTTP request; until the HTTP
 * layer exists this one waits 10 ms, as a request would, and returns a
 * status code.
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

static void callback(ac_task_t *task, void *userdata) {
  void *result;
  if (ac_task_result(task, &result) == 0) printf("Status: %d\n", *(int *)result);
}

int main(void) {
  ac_loop_t *loop;
  ac_task_t *task;
  ac_task_opts_t opts = {"request", 0};

  if (ac_loop_new(&loop) != 0) return 1;
  if (ac_task_spawn(loop, request, NULL, &opts, &task) != 0) return 1;
  if (ac_task_add_done_callback(task, callback, NULL) != 0) return 1;
  printf("Task: <Task %s name='%s'>\n", ac_task_state_name(ac_task_state(task)), ac_task_name(task));
  ac_loop_run_until_done(loop, task);
  printf("Task: <Task %s name='%s'>\n", ac_task_state_name(ac_task_state(task)), ac_task_name(task));
  ac_task_release(task);
  return ac_loop_close(loop) == 0 ? 0 : 1;
}
