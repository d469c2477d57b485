/*
 * Tutorial example 001: a coroutine run on the loop.
 *
 * In Python, calling an async function runs nothing: it returns a coroutine
 * that must be handed to the loop. Here, spawning a task likewise runs
 * nothing until the loop runs.
 */
#include <stdio.h>

#include "acrawl.h"

static int execute(void *arg, void **result) {
  printf("Number: %d\n", *(int *)arg);
  return 0;
}

int main(void) {
  ac_loop_t *loop;
  int x = 1;

  if (ac_loop_new(&loop) != 0) return 1;
  if (ac_task_spawn(loop, execute, &x, NULL, NULL) != 0) return 1;
  printf("After calling execute\n"); /* nothing printed "Number" yet */
  ac_loop_run(loop);
  printf("After calling loop\n");
  return ac_loop_close(loop) == 0 ? 0 : 1;
}
