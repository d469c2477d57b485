/*
 * Tutorial example 009/010: a session, a GET with query parameters, and the
 * response's status and JSON (the site echoes the parameters as httpbin does).
 *
 * usage: 009_get_params BASE_URL
 */
#include <cjson/cJSON.h>
#include <stdio.h>

#include "acrawl.h"

static int main_task(void *arg, void **result) {
  const char *base = arg;
  ac_loop_t *loop = ac_task_loop(ac_task_current());
  ac_session_t *session;
  ac_request_opts_t o;
  ac_response_t *r;
  const cJSON *json, *args;
  ac_http_kv_t params[] = {{"name", "germey"}, {"age", "25"}};
  char url[256];
  int rc;

  if ((rc = ac_session_new(loop, NULL, &session)) != 0) return rc;
  snprintf(url, sizeof(url), "%s/get", base);
  ac_request_opts_init(&o);
  o.url = url;
  o.params = params;
  o.nparams = 2;
  rc = ac_session_request(session, &o, &r, NULL);
  if (rc == 0) {
    printf("status: %d\n", ac_response_status(r));
    if (ac_response_json(r, &json) == 0 && (args = cJSON_GetObjectItem(json, "args")) != NULL) {
      printf("args.name: %s\n", cJSON_GetStringValue(cJSON_GetObjectItem(args, "name")));
      printf("args.age: %s\n", cJSON_GetStringValue(cJSON_GetObjectItem(args, "age")));
    }
    ac_response_free(r);
  }
  ac_session_free(session);
  return rc;
}

int main(int argc, char **argv) {
  int rc = ac_run(main_task, argc > 1 ? argv[1] : "http://127.0.0.1:8080", NULL);
  if (rc != 0) fprintf(stderr, "009: %s\n", ac_strerror(rc));
  return rc == 0 ? 0 : 1;
}
