/*
 * Tutorial example 007: ten awaited requests to a page that takes a second
 * finish in about one request's time, because each task gives the loop back
 * while its request is in flight.
 *
 * usage: 007_ten_requests BASE_URL      (an acrawl site, e.g. http://127.0.0.1:8080)
 */
#include <stdint.h>
#include <stdio.h>

#include "acrawl.h"

#define NREQ 10

struct ctx {
  const char *base;
  ac_session_t *session;
};

static int request(void *arg, void **result) {
  struct ctx *c = arg;
  ac_request_opts_t o;
  ac_response_t *r;
  char url[256];
  int rc;

  snprintf(url, sizeof(url), "%s/delay/1", c->base);
  ac_request_opts_init(&o);
  o.url = url;
  rc = ac_session_request(c->session, &o, &r, NULL);
  if (rc != 0) return rc;
  *result = (void *)(intptr_t)ac_response_status(r);
  ac_response_free(r);
  return 0;
}

static int main_task(void *arg, void **result) {
  struct ctx *c = arg;
  ac_loop_t *loop = ac_task_loop(ac_task_current());
  ac_task_t *tasks[NREQ];
  uint64_t start = ac_loop_now(loop);
  int i, rc;

  if ((rc = ac_session_new(loop, NULL, &c->session)) != 0) return rc;
  for (i = 0; i < NREQ; i++) ac_task_spawn(loop, request, c, NULL, &tasks[i]);
  rc = ac_gather(tasks, NREQ);
  for (i = 0; i < NREQ; i++) {
    void *status = NULL;
    if (ac_task_result(tasks[i], &status) == 0) printf("Task Result: %d\n", (int)(intptr_t)status);
    ac_task_release(tasks[i]);
  }
  /* Ten seconds one after another; about one together (loose bound). */
  printf("Cost time about one request: %s\n", ac_loop_now(loop) - start < 3000 ? "yes" : "no");
  ac_session_free(c->session);
  return rc;
}

int main(int argc, char **argv) {
  struct ctx c = {argc > 1 ? argv[1] : "http://127.0.0.1:8080", NULL};
  int rc = ac_run(main_task, &c, NULL);
  if (rc != 0) fprintf(stderr, "007: %s\n", ac_strerror(rc));
  return rc == 0 ? 0 : 1;
}
