/*
 * Tutorial example 008, "500 requests": N requests at once to a page that
 * takes a second, for N from 1 to 500. The total stays near one request's
 * time as N grows.
 *
 * usage: 008_many_requests BASE_URL
 */
#include <stdint.h>
#include <stdio.h>

#include "acrawl.h"

struct ctx {
  const char *base;
  ac_session_t *session;
  int ok;
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
  c->ok += ac_response_status(r) == 200;
  ac_response_free(r);
  return 0;
}

static int main_task(void *arg, void **result) {
  static const int counts[] = {1, 3, 5, 10, 15, 30, 50, 75, 100, 200, 500};
  static ac_task_t *tasks[500];
  struct ctx *c = arg;
  ac_loop_t *loop = ac_task_loop(ac_task_current());
  size_t k;
  int i, rc = 0;

  if ((rc = ac_session_new(loop, NULL, &c->session)) != 0) return rc;
  for (k = 0; k < sizeof(counts) / sizeof(counts[0]) && rc == 0; k++) {
    uint64_t start = ac_loop_now(loop);
    c->ok = 0;
    for (i = 0; i < counts[k]; i++) ac_task_spawn(loop, request, c, NULL, &tasks[i]);
    rc = ac_gather(tasks, (size_t)counts[k]);
    for (i = 0; i < counts[k]; i++) ac_task_release(tasks[i]);
    printf("Tasks Count: %d, all 200: %s, cost time about one request: %s\n", counts[k],
           c->ok == counts[k] ? "yes" : "no", ac_loop_now(loop) - start < 3000 ? "yes" : "no");
  }
  ac_session_free(c->session);
  return rc;
}

int main(int argc, char **argv) {
  struct ctx c = {argc > 1 ? argv[1] : "http://127.0.0.1:8080", NULL, 0};
  int rc = ac_run(main_task, &c, NULL);
  if (rc != 0) fprintf(stderr, "008: %s\n", ac_strerror(rc));
  return rc == 0 ? 0 : 1;
}
