/*
 * Tutorial example 012: what a response holds (status, headers, text,
 * bytes, JSON), then a timeout: a page that takes 3 seconds, asked with a
 * 1-second limit, fails with AC_ETIMEDOUT.
 *
 * usage: 012_response_timeout BASE_URL
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "acrawl.h"

static int main_task(void *arg, void **result) {
  const char *base = arg;
  ac_loop_t *loop = ac_task_loop(ac_task_current());
  ac_session_t *session;
  ac_request_opts_t o;
  ac_response_t *r;
  ac_http_error_t err;
  const cJSON *json;
  char url[256];
  size_t len = 0;
  int rc;

  if ((rc = ac_session_new(loop, NULL, &session)) != 0) return rc;
  snprintf(url, sizeof(url), "%s/get", base);
  ac_request_opts_init(&o);
  o.url = url;
  if ((rc = ac_session_request(session, &o, &r, &err)) == 0) {
    ac_response_body(r, &len);
    printf("status: %d %s\n", ac_response_status(r), ac_response_reason(r));
    printf("content-type: %s\n", ac_response_header(r, "content-type"));
    printf("text is the body: %s\n", strlen(ac_response_text(r)) == len ? "yes" : "no");
    printf("json has url: %s\n",
           ac_response_json(r, &json) == 0 && cJSON_GetObjectItem(json, "url") ? "yes" : "no");
    ac_response_free(r);
  }
  snprintf(url, sizeof(url), "%s/delay/3", base);
  ac_request_opts_init(&o);
  o.url = url;
  o.timeout_ms = 1000;
  rc = ac_session_request(session, &o, &r, &err);
  printf("3 s page with a 1 s timeout: %s\n", ac_err_name(rc));
  ac_session_free(session);
  return rc == AC_ETIMEDOUT ? 0 : AC_EIO;
}

int main(int argc, char **argv) {
  int rc = ac_run(main_task, argc > 1 ? argv[1] : "http://127.0.0.1:8080", NULL);
  if (rc != 0) fprintf(stderr, "012: %s\n", ac_strerror(rc));
  return rc == 0 ? 0 : 1;
}
