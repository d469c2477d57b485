/*
 * The client against Debian's python3-httpbin (under gunicorn), which echoes
 * what it received: every method and body type, params, headers, redirects,
 * status codes, gzip, timeouts, cookies, cancellation and the callback form.
 */
#include <cjson/cJSON.h>
#include <string.h>

#include "http_testlib.h"
#include "runner.h"

struct hb {
  int port;
  ac_session_t *s;
  char url[256];
};

static const char *hb_url(struct hb *h, const char *path) {
  return ht_url(h->url, sizeof(h->url), h->port, path);
}

/* Send o, expect 200, return the echoed JSON (a copy: free with cJSON_Delete). */
static cJSON *hb_echo(struct hb *h, ac_request_opts_t *o) {
  ac_response_t *r = NULL;
  ac_http_error_t err;
  const cJSON *j = NULL;
  cJSON *copy;
  int rc = ac_session_request(h->s, o, &r, &err);
  if (rc != 0) fprintf(stderr, "%s %s: %s\n", o->method ? o->method : "GET", o->url, err.message);
  ASSERT_OK(rc);
  ASSERT_EQ(ac_response_status(r), 200);
  ASSERT_OK(ac_response_json(r, &j));
  copy = cJSON_Duplicate(j, 1);
  ASSERT_NOT_NULL(copy);
  ac_response_free(r);
  return copy;
}

static const char *jstr(const cJSON *o, const char *k1, const char *k2) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k1);
  if (k2 != NULL) v = cJSON_GetObjectItemCaseSensitive(v, k2);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void hb_open(struct hb *h) {
  ac_session_opts_t so;
  ac_http_kv_t dh[] = {{"X-Session", "yes"}, {"Accept", "application/json"}};
  ac_session_opts_init(&so);
  so.user_agent = "acrawl-test/1";
  so.headers = dh;
  so.nheaders = 2;
  ASSERT_OK(ac_session_new(ac_task_loop(ac_task_current()), &so, &h->s));
}

static void hb_close(struct hb *h) {
  ASSERT_UEQ(ac_session_in_flight(h->s), 0);
  ASSERT_OK(ac_session_free(h->s));
}

/* ------------------------------------------------------------- methods */

static int methods_main(void *arg, void **result) {
  struct hb *h = arg;
  const char *methods[] = {"GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE"};
  size_t i;
  (void)result;
  hb_open(h);
  for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
    ac_request_opts_t o;
    cJSON *j;
    ac_request_opts_init(&o);
    o.url = hb_url(h, "/anything");
    o.method = methods[i];
    if (strcmp(methods[i], "OPTIONS") == 0) {
      /* httpbin answers OPTIONS itself (CORS) with an empty 200. */
      ac_response_t *r = NULL;
      ASSERT_OK(ac_session_request(h->s, &o, &r, NULL));
      ASSERT_EQ(ac_response_status(r), 200);
      ASSERT_NOT_NULL(ac_response_header(r, "allow"));
      ASSERT(strstr(ac_response_header(r, "Allow"), "OPTIONS") != NULL);
      ac_response_free(r);
      continue;
    }
    j = hb_echo(h, &o);
    ASSERT_STR_EQ(jstr(j, "method", NULL), methods[i]);
    ASSERT_STR_EQ(jstr(j, "headers", "User-Agent"), "acrawl-test/1");
    ASSERT_STR_EQ(jstr(j, "headers", "X-Session"), "yes");
    cJSON_Delete(j);
  }
  {
    /* A method httpbin has no route for is sent by its name: 405, where a
     * GET would have been answered. */
    ac_request_opts_t o;
    ac_response_t *r = NULL;
    ac_request_opts_init(&o);
    o.url = hb_url(h, "/anything");
    o.method = "BREW";
    ASSERT_OK(ac_session_request(h->s, &o, &r, NULL));
    ASSERT_EQ(ac_response_status(r), 405);
    ac_response_free(r);
  }
  {
    /* HEAD: the headers of GET, no body. */
    ac_request_opts_t o;
    ac_response_t *r = NULL;
    size_t len = 99;
    ac_request_opts_init(&o);
    o.url = hb_url(h, "/get");
    o.method = "HEAD";
    ASSERT_OK(ac_session_request(h->s, &o, &r, NULL));
    ASSERT_EQ(ac_response_status(r), 200);
    ac_response_body(r, &len);
    ASSERT_UEQ(len, 0);
    ASSERT_NOT_NULL(ac_response_header(r, "content-length"));
    ASSERT_GT(atoi(ac_response_header(r, "Content-Length")), 0);
    ac_response_free(r);
  }
  hb_close(h);
  return 0;
}

TEST_IMPL(http_integ_methods) {
  struct hb h = {0};
  h.port = ht_httpbin_start();
  ht_run(methods_main, &h);
}

/* -------------------------------------------------------------- bodies */

static int bodies_main(void *arg, void **result) {
  struct hb *h = arg;
  ac_request_opts_t o;
  cJSON *j;
  const cJSON *v;
  (void)result;
  hb_open(h);

  /* Bytes, with a content type of our own, by PUT. */
  ac_request_opts_init(&o);
  o.url = hb_url(h, "/put");
  o.method = "PUT";
  o.body_kind = AC_BODY_BYTES;
  o.body = "raw body\n";
  o.body_len = 9;
  o.content_type = "text/plain";
  j = hb_echo(h, &o);
  ASSERT_STR_EQ(jstr(j, "data", NULL), "raw body\n");
  ASSERT_STR_EQ(jstr(j, "headers", "Content-Type"), "text/plain");
  cJSON_Delete(j);

  /* A form, urlencoded, by POST. */
  {
    ac_http_kv_t f[] = {{"name", "Zhang San"}, {"tags", "a&b=c"}, {"cn", "\xe4\xb9\xa6"}};
    ac_request_opts_init(&o);
    o.url = hb_url(h, "/post");
    o.method = "POST";
    o.body_kind = AC_BODY_FORM;
    o.fields = f;
    o.nfields = 3;
    j = hb_echo(h, &o);
    ASSERT_STR_EQ(jstr(j, "form", "name"), "Zhang San");
    ASSERT_STR_EQ(jstr(j, "form", "tags"), "a&b=c");
    ASSERT_STR_EQ(jstr(j, "form", "cn"), "\xe4\xb9\xa6");
    ASSERT_STR_EQ(jstr(j, "headers", "Content-Type"), "application/x-www-form-urlencoded");
    cJSON_Delete(j);
  }

  /* Multipart: a field and a file. */
  {
    ac_http_part_t p[] = {{"field", "value 1", 7, NULL, NULL},
                          {"upload", "file\0content", 12, "a.bin", "application/octet-stream"}};
    ac_request_opts_init(&o);
    o.url = hb_url(h, "/post");
    o.method = "POST";
    o.body_kind = AC_BODY_MULTIPART;
    o.parts = p;
    o.nparts = 2;
    j = hb_echo(h, &o);
    ASSERT_STR_EQ(jstr(j, "form", "field"), "value 1");
    ASSERT_NOT_NULL(jstr(j, "files", "upload"));
    ASSERT(strncmp(jstr(j, "headers", "Content-Type"), "multipart/form-data", 19) == 0);
    cJSON_Delete(j);
  }

  /* JSON, by PATCH. */
  ac_request_opts_init(&o);
  o.url = hb_url(h, "/patch");
  o.method = "PATCH";
  o.body_kind = AC_BODY_JSON;
  o.body = "{\"id\": 7, \"name\": \"\xe4\xb9\xa6\", \"ok\": true}";
  o.body_len = strlen(o.body);
  j = hb_echo(h, &o);
  v = cJSON_GetObjectItemCaseSensitive(j, "json");
  ASSERT(cJSON_IsObject(v));
  ASSERT_DEQ(cJSON_GetObjectItemCaseSensitive(v, "id")->valuedouble, 7);
  ASSERT_STR_EQ(jstr(v, "name", NULL), "\xe4\xb9\xa6");
  ASSERT(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(v, "ok")));
  ASSERT_STR_EQ(jstr(j, "headers", "Content-Type"), "application/json");
  cJSON_Delete(j);

  /* DELETE with a body; POST with none. */
  ac_request_opts_init(&o);
  o.url = hb_url(h, "/delete");
  o.method = "DELETE";
  o.body_kind = AC_BODY_BYTES;
  o.body = "x=1";
  o.body_len = 3;
  j = hb_echo(h, &o);
  ASSERT_STR_EQ(jstr(j, "data", NULL), "x=1");
  cJSON_Delete(j);
  ac_request_opts_init(&o);
  o.url = hb_url(h, "/post");
  o.method = "POST";
  j = hb_echo(h, &o);
  ASSERT_STR_EQ(jstr(j, "data", NULL), "");
  cJSON_Delete(j);

  /* A large body (over libcurl's Expect: 100-continue threshold). */
  {
    size_t n = 2 * 1024 * 1024;
    char *big = malloc(n);
    ac_response_t *r = NULL;
    double t0 = ht_now_ms();
    ASSERT_NOT_NULL(big);
    memset(big, 'b', n);
    ac_request_opts_init(&o);
    o.url = hb_url(h, "/post");
    o.method = "POST";
    o.body_kind = AC_BODY_BYTES;
    o.body = big;
    o.body_len = n;
    ASSERT_OK(ac_session_request(h->s, &o, &r, NULL));
    free(big); /* copied long ago */
    ASSERT_EQ(ac_response_status(r), 200);
    ASSERT_LT(ht_now_ms() - t0, 20000);
    ac_response_free(r);
  }
  hb_close(h);
  return 0;
}

TEST_IMPL(http_integ_bodies) {
  struct hb h = {0};
  h.port = ht_httpbin_start();
  ht_run(bodies_main, &h);
}

/* ----------------------------------------------- params and headers */

static int params_main(void *arg, void **result) {
  struct hb *h = arg;
  ac_request_opts_t o;
  ac_http_kv_t p[] = {{"limit", "18"}, {"q", "a b&c=d/\xe4\xb9\xa6"}, {"empty", ""}};
  ac_http_kv_t hd[] = {{"X-Request", "r1"}, {"Accept", "text/plain"}, {"X-Session", NULL}};
  cJSON *j;
  (void)result;
  hb_open(h);
  ac_request_opts_init(&o);
  o.url = hb_url(h, "/get?offset=36");
  o.params = p;
  o.nparams = 3;
  o.headers = hd;
  o.nheaders = 3;
  j = hb_echo(h, &o);
  ASSERT_STR_EQ(jstr(j, "args", "offset"), "36");
  ASSERT_STR_EQ(jstr(j, "args", "limit"), "18");
  ASSERT_STR_EQ(jstr(j, "args", "q"), "a b&c=d/\xe4\xb9\xa6");
  ASSERT_STR_EQ(jstr(j, "args", "empty"), "");
  ASSERT_STR_EQ(jstr(j, "headers", "X-Request"), "r1");
  /* The request's Accept replaced the session's; X-Session was removed. */
  ASSERT_STR_EQ(jstr(j, "headers", "Accept"), "text/plain");
  ASSERT_NULL(jstr(j, "headers", "X-Session"));
  cJSON_Delete(j);

  /* Response headers: case-insensitive, repeated values kept. */
  {
    ac_response_t *r = NULL;
    const char *name, *value;
    size_t i, n, found = 0;
    ac_request_opts_init(&o);
    o.url = hb_url(h, "/response-headers?X-Rep=one&X-Rep=two");
    ASSERT_OK(ac_session_request(h->s, &o, &r, NULL));
    ASSERT_STR_EQ(ac_response_header(r, "x-rep"), "one");
    ASSERT_STR_EQ(ac_response_header_nth(r, "X-REP", 1), "two");
    ASSERT_NULL(ac_response_header_nth(r, "X-Rep", 2));
    ASSERT_STR_EQ(ac_response_header(r, "content-type"), "application/json");
    n = ac_response_header_count(r);
    for (i = 0; i < n; i++) {
      ASSERT_OK(ac_response_header_at(r, i, &name, &value));
      if (strcmp(name, "X-Rep") == 0) found++;
    }
    ASSERT_UEQ(found, 2);
    ASSERT_ERR(ac_response_header_at(r, n, &name, &value), AC_EINVAL);
    ASSERT_STR_EQ(ac_response_reason(r), "OK");
    ASSERT_EQ(ac_response_http_version(r), 11);
    ac_response_free(r);
  }
  hb_close(h);
  return 0;
}

TEST_IMPL(http_integ_params_headers) {
  struct hb h = {0};
  h.port = ht_httpbin_start();
  ht_run(params_main, &h);
}

/* ------------------------------------------ redirects, status, gzip */

static int redirects_main(void *arg, void **result) {
  struct hb *h = arg;
  ac_request_opts_t o;
  ac_response_t *r = NULL;
  ac_http_error_t err;
  ac_http_timings_t t;
  const cJSON *j;
  char want[256];
  (void)result;
  hb_open(h);

  ac_request_opts_init(&o);
  o.url = hb_url(h, "/redirect/3");
  ASSERT_OK(ac_session_request(h->s, &o, &r, &err));
  ASSERT_EQ(ac_response_status(r), 200);
  ASSERT_STR_EQ(ac_response_url(r), ht_url(want, sizeof(want), h->port, "/get"));
  ac_response_timings(r, &t);
  ASSERT_EQ(t.redirects, 3);
  ASSERT_GT(t.total_us, 0);
  ASSERT_GE(t.total_us, t.first_byte_us);
  ac_response_free(r);

  o.max_redirects = 2;
  ASSERT_ERR(ac_session_request(h->s, &o, &r, &err), AC_EREDIRECT);
  ASSERT_NULL(r);
  ASSERT_EQ(err.code, AC_EREDIRECT);
  ASSERT(strstr(err.message, "edirect") != NULL);

  o.follow_redirects = 0;
  ASSERT_OK(ac_session_request(h->s, &o, &r, &err));
  ASSERT_EQ(ac_response_status(r), 302);
  ASSERT_NOT_NULL(ac_response_header(r, "location"));
  ac_response_free(r);

  /* Status codes: returned as they are, or failed on request. */
  ac_request_opts_init(&o);
  o.url = hb_url(h, "/status/418");
  ASSERT_OK(ac_session_request(h->s, &o, &r, &err));
  ASSERT_EQ(ac_response_status(r), 418);
  ac_response_free(r);
  o.raise_for_status = 1;
  ASSERT_ERR(ac_session_request(h->s, &o, &r, &err), AC_EHTTPSTATUS);
  ASSERT_NOT_NULL(r);
  ASSERT_EQ(ac_response_status(r), 418);
  ASSERT(strstr(err.message, "418") != NULL);
  ac_response_free(r);
  o.url = hb_url(h, "/status/204");
  ASSERT_OK(ac_session_request(h->s, &o, &r, &err));
  ASSERT_EQ(ac_response_status(r), 204);
  ac_response_free(r);

  /* gzip: decoded for us. */
  ac_request_opts_init(&o);
  o.url = hb_url(h, "/gzip");
  ASSERT_OK(ac_session_request(h->s, &o, &r, &err));
  ASSERT_STR_EQ(ac_response_header(r, "Content-Encoding"), "gzip");
  ASSERT_OK(ac_response_json(r, &j));
  ASSERT(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "gzipped")));
  ac_response_free(r);
  o.url = hb_url(h, "/deflate");
  ASSERT_OK(ac_session_request(h->s, &o, &r, &err));
  ASSERT_OK(ac_response_json(r, &j));
  ASSERT(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "deflated")));
  ac_response_free(r);
  /* Not JSON: AC_EPARSE. */
  o.url = hb_url(h, "/html");
  ASSERT_OK(ac_session_request(h->s, &o, &r, &err));
  ASSERT_ERR(ac_response_json(r, &j), AC_EPARSE);
  ASSERT_NULL(j);
  ASSERT(strstr(ac_response_text(r), "<html>") != NULL);
  ac_response_free(r);
  /* Binary bytes, exactly as many as asked. */
  o.url = hb_url(h, "/bytes/5000");
  ASSERT_OK(ac_session_request(h->s, &o, &r, &err));
  {
    size_t len = 0;
    ac_response_body(r, &len);
    ASSERT_UEQ(len, 5000);
  }
  ac_response_free(r);
  hb_close(h);
  return 0;
}

TEST_IMPL(http_integ_redirects_status_gzip) {
  struct hb h = {0};
  h.port = ht_httpbin_start();
  ht_run(redirects_main, &h);
}

/* ----------------------------------------------------------- cookies */

static int cookies_main(void *arg, void **result) {
  struct hb *h = arg;
  ac_session_t *other;
  ac_request_opts_t o;
  cJSON *j;
  (void)result;
  hb_open(h);
  ASSERT_OK(ac_session_new(ac_task_loop(ac_task_current()), NULL, &other));
  ac_request_opts_init(&o);
  o.url = hb_url(h, "/cookies/set?session=abc&lang=zh"); /* 302 to /cookies */
  j = hb_echo(h, &o);
  ASSERT_STR_EQ(jstr(j, "cookies", "session"), "abc");
  cJSON_Delete(j);
  o.url = hb_url(h, "/cookies");
  j = hb_echo(h, &o);
  ASSERT_STR_EQ(jstr(j, "cookies", "session"), "abc");
  ASSERT_STR_EQ(jstr(j, "cookies", "lang"), "zh");
  cJSON_Delete(j);
  {
    /* Another session has a jar of its own. */
    struct hb h2 = *h;
    h2.s = other;
    j = hb_echo(&h2, &o);
    ASSERT_NULL(jstr(j, "cookies", "session"));
    cJSON_Delete(j);
  }
  ASSERT_OK(ac_session_free(other));
  hb_close(h);
  return 0;
}

TEST_IMPL(http_integ_cookies) {
  struct hb h = {0};
  h.port = ht_httpbin_start();
  ht_run(cookies_main, &h);
}

/* ------------------------------------------------------------ timeouts */

static int timeout_main(void *arg, void **result) {
  struct hb *h = arg;
  ac_request_opts_t o;
  ac_response_t *r = NULL;
  ac_http_error_t err;
  ac_timeout_t scope;
  double t0;
  (void)result;
  hb_open(h);

  ac_request_opts_init(&o);
  o.url = hb_url(h, "/delay/3");
  o.timeout_ms = 300;
  t0 = ht_now_ms();
  ASSERT_ERR(ac_session_request(h->s, &o, &r, &err), AC_ETIMEDOUT);
  ASSERT_NULL(r);
  ASSERT_GE(ht_now_ms() - t0, 250);
  ASSERT_LT(ht_now_ms() - t0, 2000 * ac_test_time_multiplier());
  ASSERT(strstr(err.message, "imeout") != NULL || strstr(err.message, "imed out") != NULL);

  /* A timeout scope around the request, no timeout of its own. */
  ac_request_opts_init(&o);
  o.url = hb_url(h, "/delay/3");
  t0 = ht_now_ms();
  ASSERT_OK(ac_timeout_enter(&scope, 300));
  ASSERT_ERR(ac_session_request(h->s, &o, &r, &err), AC_ETIMEDOUT);
  ASSERT_ERR(ac_timeout_leave(&scope), AC_ETIMEDOUT);
  ASSERT_NULL(r);
  ASSERT_LT(ht_now_ms() - t0, 2000 * ac_test_time_multiplier());
  ASSERT_UEQ(ac_session_in_flight(h->s), 0);

  /* A delay within the limit succeeds. */
  o.url = hb_url(h, "/delay/1");
  o.timeout_ms = 5000;
  ASSERT_OK(ac_session_request(h->s, &o, &r, &err));
  ASSERT_EQ(ac_response_status(r), 200);
  ac_response_free(r);
  hb_close(h);
  return 0;
}

TEST_IMPL(http_integ_timeouts) {
  struct hb h = {0};
  h.port = ht_httpbin_start();
  ht_run(timeout_main, &h);
}

/* -------------------------------------- concurrency and callback form */

struct cb_state {
  int fired;
  int status;
  ac_response_t *resp;
  ac_event_t *done;
};

static void on_done(ac_session_t *s, int status, ac_response_t *resp, const ac_http_error_t *err,
                    void *userdata) {
  struct cb_state *st = userdata;
  (void)s;
  st->fired++;
  st->status = status;
  st->resp = resp;
  if (status != 0) ASSERT_EQ(err->code, status);
  /* A completion runs on the loop's stack, not in a task (a cancellation
   * runs inside ac_http_call_cancel, wherever that was called). */
  if (status == 0) ASSERT_NULL(ac_task_current());
  if (st->done != NULL) ac_event_set(st->done);
}

static int delayed_get(void *arg, void **result) {
  struct hb *h = arg;
  ac_request_opts_t o;
  ac_response_t *r = NULL;
  char url[256];
  int rc;
  ac_request_opts_init(&o);
  o.url = ht_url(url, sizeof(url), h->port, "/delay/1");
  rc = ac_session_request(h->s, &o, &r, NULL);
  ac_response_free(r);
  *result = (void *)(intptr_t)rc;
  return rc;
}

static int concurrency_main(void *arg, void **result) {
  struct hb *h = arg;
  ac_loop_t *loop = ac_task_loop(ac_task_current());
  ac_task_t *t[10];
  ac_request_opts_t o;
  struct cb_state a = {0}, b = {0};
  ac_http_call_t *call;
  double t0;
  int i;
  (void)result;
  hb_open(h);

  /* The tutorial's example 007: ten awaited /delay/1 overlap. One after
   * another they would take ten seconds at least; the bound leaves a loaded
   * machine room without letting a serial client through. */
  t0 = ht_now_ms();
  for (i = 0; i < 10; i++) ASSERT_OK(ac_task_spawn(loop, delayed_get, h, NULL, &t[i]));
  ASSERT_OK(ac_gather(t, 10));
  ASSERT_LT(ht_now_ms() - t0, 9500);
  for (i = 0; i < 10; i++) ac_task_release(t[i]);

  /* Callback form: fires once, with the response. */
  ASSERT_OK(ac_event_new(loop, &a.done));
  ac_request_opts_init(&o);
  o.url = hb_url(h, "/get");
  ASSERT_OK(ac_session_send(h->s, &o, on_done, &a, NULL));
  ASSERT_EQ(a.fired, 0); /* never inside the call */
  ASSERT_OK(ac_event_wait(a.done));
  ASSERT_EQ(a.fired, 1);
  ASSERT_OK(a.status);
  ASSERT_EQ(ac_response_status(a.resp), 200);
  ac_response_free(a.resp);
  ASSERT_OK(ac_event_free(a.done));

  /* Cancelled: fires once, inside the cancel, with the status given. */
  o.url = hb_url(h, "/delay/3");
  ASSERT_OK(ac_session_send(h->s, &o, on_done, &b, &call));
  ASSERT_OK(ac_sleep(50));
  ASSERT_EQ(b.fired, 0);
  ASSERT_ERR(ac_http_call_cancel(call, 0), AC_EINVAL);
  ASSERT_OK(ac_http_call_cancel(call, AC_ECANCELED));
  ASSERT_EQ(b.fired, 1);
  ASSERT_ERR(b.status, AC_ECANCELED);
  ASSERT_NULL(b.resp);
  ASSERT_UEQ(ac_session_in_flight(h->s), 0);
  ASSERT_OK(ac_sleep(100));
  ASSERT_EQ(b.fired, 1);

  hb_close(h);
  return 0;
}

/* ------------------------------------------- freeing a busy session */

struct freeing {
  int fired, status, send_rc, free_rc, had_resp;
};

/* Tries to use and free the session from inside the cancellation. */
static void on_done_while_freeing(ac_session_t *s, int status, ac_response_t *resp,
                                  const ac_http_error_t *err, void *userdata) {
  struct freeing *f = userdata;
  ac_request_opts_t o;
  (void)err;
  f->fired++;
  f->status = status;
  f->had_resp = resp != NULL;
  ac_request_opts_init(&o);
  o.url = "http://127.0.0.1:1/";
  f->send_rc = ac_session_send(s, &o, on_done_while_freeing, f, NULL);
  f->free_rc = ac_session_free(s);
  ac_response_free(resp);
}

struct awaiter {
  ac_session_t *s;
  const char *url;
  int rc;
  int got_resp;
};

static int await_one(void *arg, void **result) {
  struct awaiter *a = arg;
  ac_request_opts_t o;
  ac_response_t *r = NULL;
  (void)result;
  ac_request_opts_init(&o);
  o.url = a->url;
  a->rc = ac_session_request(a->s, &o, &r, NULL);
  a->got_resp = r != NULL;
  ac_response_free(r);
  return 0;
}

static int free_busy_main(void *arg, void **result) {
  struct hb *h = arg;
  ac_loop_t *loop = ac_task_loop(ac_task_current());
  struct freeing f = {0};
  struct awaiter a = {0};
  ac_request_opts_t o;
  ac_session_t *s;
  ac_task_t *t;
  (void)result;

  ASSERT_OK(ac_session_new(loop, NULL, &s));
  ac_request_opts_init(&o);
  o.url = hb_url(h, "/delay/3");
  ASSERT_OK(ac_session_send(s, &o, on_done_while_freeing, &f, NULL));
  a.s = s;
  a.url = o.url;
  ASSERT_OK(ac_task_spawn(loop, await_one, &a, NULL, &t));
  ASSERT_OK(ac_sleep(200));
  ASSERT_UEQ(ac_session_in_flight(s), 2);
  /* Both requests end inside the free, cancelled; the session is gone. */
  ASSERT_OK(ac_session_free(s));
  ASSERT_EQ(f.fired, 1);
  ASSERT_ERR(f.status, AC_ECANCELED);
  ASSERT_EQ(f.had_resp, 0);
  ASSERT_ERR(f.send_rc, AC_ECANCELED);
  ASSERT_ERR(f.free_rc, AC_EBUSY);
  ASSERT_OK(ac_task_await(t, NULL));
  ASSERT_ERR(a.rc, AC_ECANCELED);
  ASSERT_EQ(a.got_resp, 0);
  ac_task_release(t);
  return 0;
}

TEST_IMPL(http_integ_free_cancels_requests_in_flight) {
  struct hb h = {0};
  h.port = ht_httpbin_start();
  ht_run(free_busy_main, &h);
}

TEST_IMPL(http_integ_concurrency_callbacks) {
  struct hb h = {0};
  h.port = ht_httpbin_start();
  ht_run(concurrency_main, &h);
}
