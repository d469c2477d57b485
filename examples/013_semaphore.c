/*
 * Tutorial example 013: a semaphore caps how many requests are in flight, so
 * that a site is not flooded. Twenty tasks, at most five at a time; the
 * site's own counters (/__stats) confirm what it saw.
 *
 * usage: 013_semaphore BASE_URL
 */
#include <cjson/cJSON.h>
#include <stdio.h>

#include "acrawl.h"

#define NTASKS 20
#define CONCURRENCY 5

struct ctx {
  const char *base;
  ac_session_t *session;
  ac_sem_t *sem;
  int in_flight, max_in_flight, ok;
};

static int request(void *arg, void **result) {
  struct ctx *c = arg;
  ac_request_opts_t o;
  ac_response_t *r;
  char url[256];
  int rc = ac_sem_acquire(c->sem); /* async with semaphore: */

  if (rc != 0) return rc;
  if (++c->in_flight > c->max_in_flight) c->max_in_flight = c->in_flight;
  snprintf(url, sizeof(url), "%s/delay/0.2", c->base);
  ac_request_opts_init(&o);
  o.url = url;
  rc = ac_session_request(c->session, &o, &r, NULL);
  c->in_flight--;
  ac_sem_release(c->sem);
  if (rc != 0) return rc;
  c->ok += ac_response_status(r) == 200;
  ac_response_free(r);
  return 0;
}

/* The most requests the site saw in flight at once, from its /__stats. */
static int site_max_in_flight(struct ctx *c) {
  ac_request_opts_t o;
  ac_response_t *r;
  const cJSON *json;
  char url[256];
  int max = -1;
  snprintf(url, sizeof(url), "%s/__stats", c->base);
  ac_request_opts_init(&o);
  o.url = url;
  if (ac_session_request(c->session, &o, &r, NULL) != 0) return -1;
  if (ac_response_json(r, &json) == 0)
    max = (int)cJSON_GetNumberValue(
        cJSON_GetObjectItem(cJSON_GetObjectItem(json, "in_flight"), "max"));
  ac_response_free(r);
  return max;
}

static int main_task(void *arg, void **result) {
  struct ctx *c = arg;
  ac_loop_t *loop = ac_task_loop(ac_task_current());
  ac_task_t *tasks[NTASKS];
  int i, rc;

  if ((rc = ac_session_new(loop, NULL, &c->session)) != 0) return rc;
  if ((rc = ac_sem_new(loop, CONCURRENCY, &c->sem)) != 0) return rc;
  for (i = 0; i < NTASKS; i++) ac_task_spawn(loop, request, c, NULL, &tasks[i]);
  rc = ac_gather(tasks, NTASKS);
  for (i = 0; i < NTASKS; i++) ac_task_release(tasks[i]);
  printf("requests: %d, answered 200: %d\n", NTASKS, c->ok);
  printf("most in flight at once: %d\n", c->max_in_flight);
  printf("most in flight the site saw: %d\n", site_max_in_flight(c));
  ac_sem_free(c->sem);
  ac_session_free(c->session);
  return rc;
}

int main(int argc, char **argv) {
  struct ctx c = {argc > 1 ? argv[1] : "http://127.0.0.1:8080", NULL, NULL, 0, 0, 0};
  int rc = ac_run(main_task, &c, NULL);
  if (rc != 0) fprintf(stderr, "013: %s\n", ac_strerror(rc));
  return rc == 0 ? 0 : 1;
}
