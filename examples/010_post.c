/*
 * Tutorial example 011: POST a form, then POST JSON; the site echoes what it
 * received (form fields, parsed JSON) as httpbin does.
 *
 * usage: 010_post BASE_URL
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "acrawl.h"

static void print_echo(ac_response_t *r, const char *key) {
  const cJSON *json, *obj;
  printf("%s status: %d\n", key, ac_response_status(r));
  if (ac_response_json(r, &json) != 0 || (obj = cJSON_GetObjectItem(json, key)) == NULL) return;
  printf("%s.name: %s\n", key, cJSON_GetStringValue(cJSON_GetObjectItem(obj, "name")));
  printf("%s.age: %s\n", key, cJSON_GetStringValue(cJSON_GetObjectItem(obj, "age")));
}

static int main_task(void *arg, void **result) {
  const char *base = arg;
  ac_loop_t *loop = ac_task_loop(ac_task_current());
  ac_session_t *session;
  ac_request_opts_t o;
  ac_response_t *r;
  ac_http_kv_t fields[] = {{"name", "germey"}, {"age", "25"}};
  static const char json[] = "{\"name\": \"germey\", \"age\": \"25\"}";
  char url[256];
  int rc;

  if ((rc = ac_session_new(loop, NULL, &session)) != 0) return rc;
  snprintf(url, sizeof(url), "%s/post", base);
  ac_request_opts_init(&o);
  o.url = url;
  o.method = "POST";
  o.body_kind = AC_BODY_FORM;
  o.fields = fields;
  o.nfields = 2;
  if ((rc = ac_session_request(session, &o, &r, NULL)) == 0) {
    print_echo(r, "form");
    ac_response_free(r);
    ac_request_opts_init(&o);
    o.url = url;
    o.method = "POST";
    o.body_kind = AC_BODY_JSON;
    o.body = json;
    o.body_len = strlen(json);
    if ((rc = ac_session_request(session, &o, &r, NULL)) == 0) {
      print_echo(r, "json");
      ac_response_free(r);
    }
  }
  ac_session_free(session);
  return rc;
}

int main(int argc, char **argv) {
  int rc = ac_run(main_task, argc > 1 ? argv[1] : "http://127.0.0.1:8080", NULL);
  if (rc != 0) fprintf(stderr, "010: %s\n", ac_strerror(rc));
  return rc == 0 ? 0 : 1;
}
