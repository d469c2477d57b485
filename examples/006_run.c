/*
 * asyncio.run: one line runs a main task to completion on a fresh loop; main
 * gathers three children that sleep different times and sums their results.
 */
#include <stdint.h>
#include <stdio.h>

#include "acrawl.h"

static int child(void *arg, void **result) {
  intptr_t n = (intptr_t)arg;
  int rc = ac_sleep((uint64_t)(30 - 10 * n)); /* later children finish first */
  if (rc != 0) return rc;
  printf("child %d done\n", (int)n);
  *result = (void *)(n * n);
  return 0;
}

static int main_fn(void *arg, void **result) {
  ac_task_t *kids[3];
  intptr_t i, sum = 0;
  int rc;
  for (i = 0; i < 3; i++) {
    rc = ac_task_spawn(ac_task_loop(ac_task_current()), child, (void *)i, NULL, &kids[i]);
    if (rc != 0) return rc;
  }
  rc = ac_gather(kids, 3);
  for (i = 0; i < 3; i++) {
    void *r;
    if (ac_task_result(kids[i], &r) == 0) sum += (intptr_t)r;
    ac_task_release(kids[i]);
  }
  printf("sum of squares: %d\n", (int)sum);
  return rc;
}

int main(void) {
  int rc = ac_run(main_fn, NULL, NULL);
  printf("ac_run: %s\n", ac_err_name(rc));
  return rc == 0 ? 0 : 1;
}
