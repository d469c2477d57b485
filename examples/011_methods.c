/*
 * Tutorial section 5: the other methods (PUT, DELETE, HEAD, OPTIONS, PATCH),
 * each against the site's httpbin-style endpoint for it.
 *
 * usage: 011_methods BASE_URL
 */
#include <stdio.h>

#include "acrawl.h"

static int main_task(void *arg, void **result) {
  static const struct {
    const char *method, *path;
  } calls[] = {{"PUT", "/put"},          {"DELETE", "/delete"}, {"HEAD", "/get"},
               {"OPTIONS", "/anything"}, {"PATCH", "/patch"}};
  const char *base = arg;
  ac_loop_t *loop = ac_task_loop(ac_task_current());
  ac_session_t *session;
  size_t i;
  int rc;

  if ((rc = ac_session_new(loop, NULL, &session)) != 0) return rc;
  for (i = 0; i < sizeof(calls) / sizeof(calls[0]) && rc == 0; i++) {
    ac_request_opts_t o;
    ac_response_t *r;
    char url[256];
    size_t len = 0;
    snprintf(url, sizeof(url), "%s%s", base, calls[i].path);
    ac_request_opts_init(&o);
    o.url = url;
    o.method = calls[i].method;
    if (calls[i].method[0] == 'P') { /* PUT and PATCH carry data, as in the tutorial */
      o.body_kind = AC_BODY_BYTES;
      o.body = "data";
      o.body_len = 4;
    }
    if ((rc = ac_session_request(session, &o, &r, NULL)) != 0) break;
    ac_response_body(r, &len);
    printf("%-7s %-10s -> %d, %s body\n", calls[i].method, calls[i].path, ac_response_status(r),
           len > 0 ? "with a" : "no");
    ac_response_free(r);
  }
  ac_session_free(session);
  return rc;
}

int main(int argc, char **argv) {
  int rc = ac_run(main_task, argc > 1 ? argv[1] : "http://127.0.0.1:8080", NULL);
  if (rc != 0) fprintf(stderr, "011: %s\n", ac_strerror(rc));
  return rc == 0 ? 0 : 1;
}
