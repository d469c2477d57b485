/*
 * Requests with a method, a body and headers of their own
 * (ac_crawl_follow_request), against acrawl's own server on the same loop:
 * what reaches the server (method, body, content type, the spider's and the
 * request's headers), how dedup keys them, what a callback sees, bad input,
 * a retry, and a POST pending at a stop sent again as it was on resume.
 */
#include <cjson/cJSON.h>
#include <string.h>
#include <strings.h>

#include "acrawl.h"
#include "acrawl/crawl.h"
#include "runner.h"
#include "../store/store_test.h"

#define MAX_SEEN 32

/* One request as the server received it. */
typedef struct got {
  char method[16];
  char path[64];
  char body[128];
  char ctype[64];
  char token[32];  /* X-Token, "-" if absent */
  int ntokens;     /* X-Token fields, in any case */
  char spider[32]; /* X-Spider, "-" if absent */
} got_t;

/* One request as a callback saw it. */
typedef struct saw {
  char method[16];
  char body[128]; /* "-" for NULL */
  char meta[32];
} saw_t;

typedef struct api {
  ac_loop_t *loop;
  ac_server_t *server;
  int port;
  char url[128]; /* http://127.0.0.1:PORT/api/search */
  got_t got[MAX_SEEN];
  int ngot;
  int fail_body_a; /* 503s still to answer to the body {"q":"a"} */
  saw_t saw[MAX_SEEN];
  int nsaw;
  ac_crawl_t *crawl;
  /* Each start's results, checked after the run. */
  int rcs[16];
  int nrcs;
  int stop_in_list; /* the list's callback follows the POST, then stops */
} api_t;

static void copy(char *dst, size_t n, const char *src) {
  snprintf(dst, n, "%s", src != NULL ? src : "-");
}

static int api_handler(ac_server_req_t *req, ac_server_resp_t *resp, void *ud) {
  api_t *a = ud;
  got_t *g;
  size_t len;
  const char *body = ac_server_req_body(req, &len);
  if (a->ngot >= MAX_SEEN) return ac_server_resp_text(resp, 500, "too many");
  g = &a->got[a->ngot++];
  copy(g->method, sizeof(g->method), ac_server_req_method(req));
  copy(g->path, sizeof(g->path), ac_server_req_path(req));
  snprintf(g->body, sizeof(g->body), "%.*s", (int)len, (const char *)body);
  copy(g->ctype, sizeof(g->ctype), ac_server_req_header(req, "Content-Type"));
  copy(g->token, sizeof(g->token), ac_server_req_header(req, "X-Token"));
  copy(g->spider, sizeof(g->spider), ac_server_req_header(req, "X-Spider"));
  for (size_t i = 0; i < ac_server_req_header_count(req); i++) {
    const char *name, *value;
    ASSERT_EQ(ac_server_req_header_at(req, i, &name, &value), 0);
    if (strcasecmp(name, "X-Token") == 0) g->ntokens++;
  }
  if (a->fail_body_a > 0 && strcmp(g->body, "{\"q\":\"a\"}") == 0) {
    a->fail_body_a--;
    return ac_server_resp_text(resp, 503, "busy");
  }
  ac_server_resp_header(resp, "Content-Type", "application/json");
  return ac_server_resp_send(resp, "{}", 2);
}

static void api_init(api_t *a) {
  memset(a, 0, sizeof(*a));
  ASSERT_EQ(ac_loop_new(&a->loop), 0);
  ASSERT_EQ(ac_server_new(a->loop, NULL, &a->server), 0);
  ASSERT_EQ(ac_server_route(a->server, NULL, "/api/{what}", api_handler, a), 0);
  ASSERT_EQ(ac_server_listen(a->server, "127.0.0.1", 0), 0);
  a->port = ac_server_port(a->server);
  snprintf(a->url, sizeof(a->url), "http://127.0.0.1:%d/api/search", a->port);
}

static void api_close(api_t *a) {
  ASSERT_EQ(ac_server_free(a->server), 0);
  ASSERT_EQ(ac_loop_close(a->loop), 0);
}

static int api_parse(ac_crawl_t *c, const ac_crawl_req_t *req, ac_response_t *resp, void *data) {
  api_t *a = data;
  saw_t *s;
  (void)c;
  (void)resp;
  ASSERT_LT(a->nsaw, MAX_SEEN);
  s = &a->saw[a->nsaw++];
  copy(s->method, sizeof(s->method), req->method);
  copy(s->body, sizeof(s->body), req->body);
  copy(s->meta, sizeof(s->meta), req->meta);
  return 0;
}

static const ac_spider_parse_fn api_callbacks[] = {api_parse};

static const ac_http_kv_t spider_headers[] = {{"X-Spider", "spider"}, {"X-Token", "spider's"}};

/* The request the tests send most: a JSON search with a token. */
static ac_crawl_request_t search(const api_t *a, const char *body, const ac_http_kv_t *h,
                                 size_t nh) {
  ac_crawl_request_t r;
  memset(&r, 0, sizeof(r));
  r.url = a->url;
  r.method = "POST";
  r.body = body;
  r.content_type = "application/json";
  r.headers = h;
  r.nheaders = nh;
  r.meta = body;
  return r;
}

static int post_start(ac_crawl_t *c, void *data) {
  api_t *a = data;
  static const ac_http_kv_t h[] = {{"x-token", "t1"}, {"X-Trace", "1"}};
  /* The same headers in another order and case: the same request. */
  static const ac_http_kv_t h_again[] = {{"X-TRACE", "1"}, {"X-Token", "t1"}};
  static const ac_http_kv_t crlf_value[] = {{"X-Token", "t1\r\nX-Evil: 1"}};
  static const ac_http_kv_t crlf_name[] = {{"X-To\nken", "t1"}};
  static const ac_http_kv_t no_spider[] = {{"x-spider", NULL}};
  ac_crawl_request_t r;
  int *rc = a->rcs;

  r = search(a, "{\"q\":\"a\"}", h, 2);
  rc[0] = ac_crawl_follow_request(c, &r, AC_FOLLOW_NEW);
  r = search(a, "{\"q\":\"a\"}", h_again, 2);
  rc[1] = ac_crawl_follow_request(c, &r, AC_FOLLOW_NEW); /* a duplicate */
  r = search(a, "{\"q\":\"b\"}", h, 2);
  rc[2] = ac_crawl_follow_request(c, &r, AC_FOLLOW_NEW); /* another body */
  /* The URL alone: a GET, another request than the POSTs to it. */
  rc[3] = ac_crawl_follow(c, a->url, 0, 0, "get");
  /* No content type: application/octet-stream; no headers; the spider's
   * X-Spider taken away by a NULL value. */
  r = search(a, "raw", no_spider, 1);
  r.content_type = NULL;
  r.meta = "raw";
  rc[4] = ac_crawl_follow_request(c, &r, AC_FOLLOW_NEW);
  /* Bad input. */
  r = search(a, "{}", h, 2);
  r.method = "PO ST";
  rc[5] = ac_crawl_follow_request(c, &r, AC_FOLLOW_NEW);
  r = search(a, "{}", crlf_value, 1);
  rc[6] = ac_crawl_follow_request(c, &r, AC_FOLLOW_NEW);
  r = search(a, "{}", crlf_name, 1);
  rc[7] = ac_crawl_follow_request(c, &r, AC_FOLLOW_NEW);
  r = search(a, "{}", h, 2);
  r.url = NULL;
  rc[8] = ac_crawl_follow_request(c, &r, AC_FOLLOW_NEW);
  rc[9] = ac_crawl_follow_request(c, NULL, AC_FOLLOW_NEW);
  r = search(a, "{}", h, 2);
  rc[10] = ac_crawl_follow_request(c, &r, (ac_follow_how_t)7);
  r.method = "";
  rc[11] = ac_crawl_follow_request(c, &r, AC_FOLLOW_NEW);
  r = search(a, "{}", h, 2);
  r.content_type = "application/json\r\nX-Evil: 1";
  rc[14] = ac_crawl_follow_request(c, &r, AC_FOLLOW_NEW);
  /* Again: runs though it was seen. */
  r = search(a, "{\"q\":\"b\"}", h, 2);
  r.meta = "again";
  rc[12] = ac_crawl_follow_request(c, &r, AC_FOLLOW_AGAIN);
  /* An empty body is a body: sent with its content type. */
  r = search(a, "", NULL, 0);
  r.content_type = "text/plain";
  r.meta = "empty";
  rc[13] = ac_crawl_follow_request(c, &r, AC_FOLLOW_NEW);
  a->nrcs = 15;
  return 0;
}

static int post_main(void *arg, void **result) {
  api_t *a = arg;
  ac_spider_t spider = {"api", post_start, api_callbacks, 1, spider_headers, 2, a};
  ac_crawl_opts_t o;
  ac_crawl_stats_t st;
  int rc;
  (void)result;
  ac_crawl_opts_init(&o);
  o.concurrency = 1;
  o.progress = AC_PROGRESS_QUIET;
  o.summary = 0;
  o.backoff_base_ms = 1;
  o.backoff_max_ms = 2;
  ASSERT_EQ(ac_crawl_new(a->loop, &spider, &o, &a->crawl), 0);
  rc = ac_crawl_run(a->crawl);
  ASSERT_EQ(rc, 0);
  ac_crawl_stats(a->crawl, &st);
  ASSERT_EQ(st.duplicates, 1);
  ASSERT_EQ(st.retries, 1);
  ASSERT_EQ(st.pages_done, 6);
  ac_crawl_free(a->crawl);
  a->crawl = NULL;
  ASSERT_EQ(ac_server_shutdown(a->server, 1000), 0);
  return 0;
}

static void run_task(api_t *a, int (*fn)(void *, void **)) {
  ac_task_t *t;
  ASSERT_EQ(ac_task_spawn(a->loop, fn, a, NULL, &t), 0);
  ASSERT_EQ(ac_loop_run_until_done(a->loop, t), 0);
  ASSERT_EQ(ac_task_error(t), 0);
  ac_task_release(t);
}

static const got_t *got_with(const api_t *a, const char *method, const char *body, int nth) {
  for (int i = 0; i < a->ngot; i++)
    if (strcmp(a->got[i].method, method) == 0 && strcmp(a->got[i].body, body) == 0 &&
        nth-- == 0)
      return &a->got[i];
  return NULL;
}

static const saw_t *saw_meta(const api_t *a, const char *meta) {
  for (int i = 0; i < a->nsaw; i++)
    if (strcmp(a->saw[i].meta, meta) == 0) return &a->saw[i];
  return NULL;
}

static void post_case(void) {
  static api_t a;
  const got_t *g;
  const saw_t *s;
  static const int want[] = {1, 0, 1, 1, 1, AC_EINVAL, AC_EINVAL, AC_EINVAL, AC_EINVAL,
                             AC_EINVAL, AC_EINVAL, AC_EINVAL, 1, 1, AC_EINVAL};
  api_init(&a);
  a.fail_body_a = 1; /* the first answer to {"q":"a"} is a 503: retried */
  run_task(&a, post_main);
  ASSERT_EQ(a.nrcs, 15);
  for (int i = 0; i < a.nrcs; i++)
    if (a.rcs[i] != want[i]) AC__FAIL("follow %d returned %d, not %d", i, a.rcs[i], want[i]);
  /* {"q":"a"} twice (a 503, then its retry), the same both times. */
  ASSERT_EQ(a.ngot, 7);
  for (int k = 0; k < 2; k++) {
    g = got_with(&a, "POST", "{\"q\":\"a\"}", k);
    ASSERT_NOT_NULL(g);
    ASSERT_STR_EQ(g->path, "/api/search");
    ASSERT_STR_EQ(g->ctype, "application/json");
    ASSERT_STR_EQ(g->token, "t1"); /* the request's, over the spider's */
    ASSERT_EQ(g->ntokens, 1);
    ASSERT_STR_EQ(g->spider, "spider");
  }
  ASSERT_NULL(got_with(&a, "POST", "{\"q\":\"a\"}", 2));
  for (int k = 0; k < 2; k++) { /* followed, then followed again */
    g = got_with(&a, "POST", "{\"q\":\"b\"}", k);
    ASSERT_NOT_NULL(g);
    ASSERT_STR_EQ(g->token, "t1");
  }
  g = got_with(&a, "GET", "", 0);
  ASSERT_NOT_NULL(g);
  ASSERT_STR_EQ(g->ctype, "-");
  ASSERT_STR_EQ(g->token, "spider's");
  g = got_with(&a, "POST", "raw", 0);
  ASSERT_NOT_NULL(g);
  ASSERT_STR_EQ(g->ctype, "application/octet-stream");
  ASSERT_STR_EQ(g->spider, "-");
  ASSERT_STR_EQ(g->token, "spider's");
  g = got_with(&a, "POST", "", 0);
  ASSERT_NOT_NULL(g);
  ASSERT_STR_EQ(g->ctype, "text/plain");
  /* What the callbacks saw. */
  ASSERT_EQ(a.nsaw, 6);
  s = saw_meta(&a, "{\"q\":\"a\"}");
  ASSERT_NOT_NULL(s);
  ASSERT_STR_EQ(s->method, "POST");
  ASSERT_STR_EQ(s->body, "{\"q\":\"a\"}");
  s = saw_meta(&a, "again");
  ASSERT_NOT_NULL(s);
  ASSERT_STR_EQ(s->body, "{\"q\":\"b\"}");
  s = saw_meta(&a, "empty");
  ASSERT_NOT_NULL(s);
  ASSERT_STR_EQ(s->body, "");
  s = saw_meta(&a, "get");
  ASSERT_NOT_NULL(s);
  ASSERT_STR_EQ(s->method, "GET");
  ASSERT_STR_EQ(s->body, "-");
  api_close(&a);
}

/* Through the native HTTP/1.1 path and through libcurl alone: both send
 * what the request says. */
TEST_IMPL(crawl_request_post_body_headers_dedup) {
  ASSERT_EQ(setenv("ACRAWL_HTTP_NATIVE", "1", 1), 0);
  post_case();
  ASSERT_EQ(setenv("ACRAWL_HTTP_NATIVE", "0", 1), 0);
  post_case();
}

/* ------------------------------------------------------------- resume */

/* The list (a plain GET) follows the POST and stops the crawl before it
 * runs: the POST is pending in the state, and a resume sends it as it was. */
static const ac_http_kv_t resume_headers[] = {{"X-Token", "secret \"quoted\""}};

static int resume_start(ac_crawl_t *c, void *data) {
  api_t *a = data;
  char url[128];
  snprintf(url, sizeof(url), "http://127.0.0.1:%d/api/list", a->port);
  return ac_crawl_follow(c, url, 0, 0, "list") >= 0 ? 0 : AC_EIO;
}

static int resume_parse(ac_crawl_t *c, const ac_crawl_req_t *req, ac_response_t *resp,
                        void *data) {
  api_t *a = data;
  ASSERT_EQ(api_parse(c, req, resp, data), 0);
  if (strcmp(req->meta, "list") == 0 && a->stop_in_list) {
    ac_crawl_request_t r = search(a, "{\"q\":\"line\\nbreak\"}\n", resume_headers, 1);
    r.priority = 3;
    r.meta = "search";
    ASSERT_EQ(ac_crawl_follow_request(c, &r, AC_FOLLOW_NEW), 1);
    ac_crawl_stop(c, 0);
  }
  return 0;
}

static const ac_spider_parse_fn resume_callbacks[] = {resume_parse};

static const char *g_state;
static int g_resume;
static int g_rc;

static int resume_main(void *arg, void **result) {
  api_t *a = arg;
  ac_spider_t spider = {"api", resume_start, resume_callbacks, 1, spider_headers, 2, a};
  ac_crawl_opts_t o;
  (void)result;
  ac_crawl_opts_init(&o);
  o.concurrency = 1;
  o.progress = AC_PROGRESS_QUIET;
  o.summary = 0;
  o.state_path = g_state;
  o.resume = g_resume;
  ASSERT_EQ(ac_crawl_new(a->loop, &spider, &o, &a->crawl), 0);
  g_rc = ac_crawl_run(a->crawl);
  ac_crawl_free(a->crawl);
  a->crawl = NULL;
  if (g_resume) ASSERT_EQ(ac_server_shutdown(a->server, 1000), 0);
  return 0;
}

/* The state's one record of a POST: its key and document. */
static void post_record(const char *state, char *key, size_t nk, char *doc, size_t nd) {
  sqlite3 *db;
  sqlite3_stmt *st;
  ASSERT_EQ(sqlite3_open_v2(state, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT key, doc FROM requests WHERE key LIKE 'POST %'", -1,
                               &st, NULL),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  snprintf(key, nk, "%s", (const char *)sqlite3_column_text(st, 0));
  snprintf(doc, nd, "%s", (const char *)sqlite3_column_text(st, 1));
  ASSERT_EQ(sqlite3_step(st), SQLITE_DONE);
  sqlite3_finalize(st);
  sqlite3_close(db);
}

TEST_IMPL(crawl_request_post_pending_resumes_as_sent) {
  static api_t a;
  char dir[256], state[320], key[256], doc[512], want[256];
  const got_t *g;
  const saw_t *s;
  cJSON *j;
  const char *body = "{\"q\":\"line\\nbreak\"}\n";
  st_mkdir(dir, sizeof(dir));
  snprintf(state, sizeof(state), "%s/crawl.state", dir);
  g_state = state;
  api_init(&a);
  a.stop_in_list = 1;
  g_resume = 0;
  run_task(&a, resume_main);
  ASSERT_EQ(g_rc, AC_ECANCELED);
  ASSERT_EQ(a.ngot, 1); /* the list only */

  /* The key: method, the URL's key, a 64-bit hash in hex. */
  post_record(state, key, sizeof(key), doc, sizeof(doc));
  snprintf(want, sizeof(want), "POST %s #", a.url);
  if (strncmp(key, want, strlen(want)) != 0 || strlen(key) != strlen(want) + 16 ||
      strspn(key + strlen(want), "0123456789abcdef") != 16)
    AC__FAIL("the POST's key: %s", key);
  j = cJSON_Parse(doc);
  ASSERT_NOT_NULL(j);
  ASSERT_STR_EQ(cJSON_GetObjectItem(j, "x")->valuestring, "POST");
  ASSERT_STR_EQ(cJSON_GetObjectItem(j, "b")->valuestring, body);
  ASSERT_STR_EQ(cJSON_GetObjectItem(j, "t")->valuestring, "application/json");
  ASSERT_STR_EQ(cJSON_GetArrayItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "h"), 0), 1)
                    ->valuestring,
                resume_headers[0].value);
  ASSERT_STR_EQ(cJSON_GetObjectItem(j, "s")->valuestring, "p");
  cJSON_Delete(j);

  a.stop_in_list = 0;
  g_resume = 1;
  run_task(&a, resume_main);
  ASSERT_EQ(g_rc, 0);
  ASSERT_EQ(a.ngot, 2); /* the list was done: only the POST */
  g = got_with(&a, "POST", body, 0);
  ASSERT_NOT_NULL(g);
  ASSERT_STR_EQ(g->path, "/api/search");
  ASSERT_STR_EQ(g->ctype, "application/json");
  ASSERT_STR_EQ(g->token, resume_headers[0].value);
  ASSERT_EQ(g->ntokens, 1);
  ASSERT_STR_EQ(g->spider, "spider");
  s = saw_meta(&a, "search");
  ASSERT_NOT_NULL(s);
  ASSERT_STR_EQ(s->method, "POST");
  ASSERT_STR_EQ(s->body, body);
  /* Done now, under the same key. */
  post_record(state, key, sizeof(key), doc, sizeof(doc));
  ASSERT_STR_EQ(doc, "{\"s\":\"d\"}");
  api_close(&a);
  st_rmdir(dir);
}
