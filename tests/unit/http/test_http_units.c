/*
 * The HTTP client's pure parts, without a server: the header store, status
 * lines, URL and form encoding, the classification of libcurl's errors, and
 * the argument checks at the API edge.
 */
#include <string.h>

#include "client/curl/internal.h"
#include "runner.h"

static void add(struct ac__headers *h, const char *line) {
  ASSERT_OK(ac__headers_add_line(h, line, strlen(line)));
}

TEST_IMPL(http_headers_lookup) {
  struct ac__headers h;
  ac__headers_init(&h);
  add(&h, "Content-Type: text/html; charset=utf-8\r\n");
  add(&h, "Set-Cookie: a=1\r\n");
  add(&h, "set-cookie:b=2");
  add(&h, "X-Empty:   \r\n");
  add(&h, "X-Spaces :  padded value  \r\n");
  ASSERT_ERR(ac__headers_add_line(&h, "no colon here", 13), AC_EPROTO);
  ASSERT_ERR(ac__headers_add_line(&h, ": no name", 9), AC_EPROTO);
  ASSERT_OK(ac__headers_freeze(&h));
  ASSERT_UEQ(h.nlines, 5);
  ASSERT_STR_EQ(ac__headers_get(&h, "content-type", 0), "text/html; charset=utf-8");
  ASSERT_STR_EQ(ac__headers_get(&h, "SET-COOKIE", 0), "a=1");
  ASSERT_STR_EQ(ac__headers_get(&h, "Set-Cookie", 1), "b=2");
  ASSERT_NULL(ac__headers_get(&h, "Set-Cookie", 2));
  ASSERT_STR_EQ(ac__headers_get(&h, "x-empty", 0), "");
  ASSERT_STR_EQ(ac__headers_get(&h, "X-Spaces", 0), "padded value");
  ASSERT_NULL(ac__headers_get(&h, "X-Missing", 0));
  /* A new response (after a redirect) replaces the lines. */
  ac__headers_reset(&h);
  add(&h, "Location: /next");
  ASSERT_OK(ac__headers_freeze(&h));
  ASSERT_UEQ(h.nlines, 1);
  ASSERT_NULL(ac__headers_get(&h, "Set-Cookie", 0));
  ASSERT_STR_EQ(ac__headers_get(&h, "location", 0), "/next");
  ac__headers_free(&h);
}

TEST_IMPL(http_headers_caps) {
  struct ac__headers h;
  char line[64];
  size_t i;
  int rc = 0;
  ac__headers_init(&h);
  for (i = 0; i < AC__HTTP_MAX_HEADER_LINES + 10 && rc == 0; i++) {
    snprintf(line, sizeof(line), "X-H%zu: v", i);
    rc = ac__headers_add_line(&h, line, strlen(line));
  }
  ASSERT_ERR(rc, AC_ETOOLARGE);
  ASSERT_UEQ(h.nlines, AC__HTTP_MAX_HEADER_LINES);
  ac__headers_free(&h);

  /* A few huge lines hit the byte cap. */
  {
    size_t big = 100 * 1024;
    char *l = malloc(big + 8);
    ASSERT_NOT_NULL(l);
    memcpy(l, "X-Big: ", 7);
    memset(l + 7, 'v', big);
    ac__headers_init(&h);
    ASSERT_OK(ac__headers_add_line(&h, l, big + 7));
    ASSERT_OK(ac__headers_add_line(&h, l, big + 7));
    ASSERT_ERR(ac__headers_add_line(&h, l, big + 7), AC_ETOOLARGE);
    ac__headers_free(&h);
    free(l);
  }
}

TEST_IMPL(http_status_line) {
  int status = 0;
  const char *reason;
  size_t rlen;
  const char *l1 = "HTTP/1.1 404 Not Found\r\n";
  ASSERT_OK(ac__http_parse_status_line(l1, strlen(l1), &status, &reason, &rlen));
  ASSERT_EQ(status, 404);
  ASSERT_UEQ(rlen, 9);
  ASSERT(memcmp(reason, "Not Found", 9) == 0);
  ASSERT_OK(ac__http_parse_status_line("HTTP/2 200\r\n", 12, &status, &reason, &rlen));
  ASSERT_EQ(status, 200);
  ASSERT_UEQ(rlen, 0);
  ASSERT_ERR(ac__http_parse_status_line("HTTP/1.1 20 OK", 14, &status, &reason, &rlen),
             AC_EPROTO);
  ASSERT_ERR(ac__http_parse_status_line("HTTP/1.1 2000 OK", 16, &status, &reason, &rlen),
             AC_EPROTO);
  ASSERT_ERR(ac__http_parse_status_line("ICY 200 OK", 10, &status, &reason, &rlen), AC_EPROTO);
}

TEST_IMPL(http_url_params) {
  char *url = NULL;
  ac_http_kv_t p[] = {{"q", "a b&c=d/é"}, {"empty", ""}, {"k y", NULL}, {"x", "1~._-"}};

  ASSERT_OK(ac__http_global_init());
  ASSERT_OK(ac__http_build_url("http://h/p", p, 4, &url));
  ASSERT_STR_EQ(url, "http://h/p?q=a%20b%26c%3Dd%2F%C3%A9&empty=&k%20y=&x=1~._-");
  ac__free(url);
  ASSERT_OK(ac__http_build_url("http://h/p?a=1#frag", p + 3, 1, &url));
  ASSERT_STR_EQ(url, "http://h/p?a=1&x=1~._-#frag");
  ac__free(url);
  ASSERT_OK(ac__http_build_url("http://h/p?", p + 3, 1, &url));
  ASSERT_STR_EQ(url, "http://h/p?x=1~._-");
  ac__free(url);
  ASSERT_OK(ac__http_build_url("http://h/p", NULL, 0, &url));
  ASSERT_STR_EQ(url, "http://h/p");
  ac__free(url);
  ASSERT_OK(ac__http_urlencode_pairs(p, 2, &url));
  ASSERT_STR_EQ(url, "q=a%20b%26c%3Dd%2F%C3%A9&empty=");
  ac__free(url);
  {
    /* The URL has a ceiling. */
    size_t n = AC__HTTP_MAX_URL;
    char *v = malloc(n + 1);
    ac_http_kv_t big = {"v", v};
    ASSERT_NOT_NULL(v);
    memset(v, 'a', n);
    v[n] = '\0';
    ASSERT_ERR(ac__http_build_url("http://h/", &big, 1, &url), AC_ETOOLARGE);
    ASSERT_NULL(url);
    free(v);
  }
}

TEST_IMPL(http_classify) {
  ac_response_t *r = ac__response_new(0);
  ASSERT_NOT_NULL(r);
  ASSERT_EQ(ac__http_classify(CURLE_OK, NULL, r), 0);
  ASSERT_ERR(ac__http_classify(CURLE_COULDNT_RESOLVE_HOST, NULL, r), AC_EDNS);
  ASSERT_ERR(ac__http_classify(CURLE_COULDNT_CONNECT, NULL, r), AC_ECONNREFUSED);
  ASSERT_ERR(ac__http_classify(CURLE_OPERATION_TIMEDOUT, NULL, r), AC_ETIMEDOUT);
  ASSERT_ERR(ac__http_classify(CURLE_RECV_ERROR, NULL, r), AC_ECONNRESET);
  ASSERT_ERR(ac__http_classify(CURLE_GOT_NOTHING, NULL, r), AC_ECONNRESET);
  ASSERT_ERR(ac__http_classify(CURLE_PARTIAL_FILE, NULL, r), AC_ESHORT);
  ASSERT_ERR(ac__http_classify(CURLE_TOO_MANY_REDIRECTS, NULL, r), AC_EREDIRECT);
  ASSERT_ERR(ac__http_classify(CURLE_FILESIZE_EXCEEDED, NULL, r), AC_ETOOLARGE);
  ASSERT_ERR(ac__http_classify(CURLE_PEER_FAILED_VERIFICATION, NULL, r), AC_ETLS);
  ASSERT_ERR(ac__http_classify(CURLE_SSL_CONNECT_ERROR, NULL, r), AC_ETLS);
  ASSERT_ERR(ac__http_classify(CURLE_WEIRD_SERVER_REPLY, NULL, r), AC_EPROTO);
  ASSERT_ERR(ac__http_classify(CURLE_BAD_CONTENT_ENCODING, NULL, r), AC_EPROTO);
  ASSERT_ERR(ac__http_classify(CURLE_UNSUPPORTED_PROTOCOL, NULL, r), AC_EINVAL);
  ASSERT_ERR(ac__http_classify(CURLE_WRITE_ERROR, NULL, r), AC_ENOMEM);
  r->too_large = 1;
  ASSERT_ERR(ac__http_classify(CURLE_WRITE_ERROR, NULL, r), AC_ETOOLARGE);
  ac_response_free(r);
}

TEST_IMPL(http_body_cap) {
  ac_response_t *r = ac__response_new(10);
  char data[8] = "abcdefg";
  ASSERT_NOT_NULL(r);
  ASSERT_UEQ(ac__response_on_body(data, 1, 7, r), 7);
  ASSERT_UEQ(ac__response_on_body(data, 1, 3, r), 3);
  ASSERT_UEQ(ac__dynbuf_len(&r->body), 10);
  ASSERT_STR_EQ(ac__dynbuf_ptr(&r->body), "abcdefgabc");
  ASSERT_LE(r->body.allc, 11); /* the cap and its NUL, no more */
  ASSERT_UEQ(ac__response_on_body(data, 1, 1, r), 0);
  ASSERT(r->too_large);
  ac_response_free(r);
}

struct units_ctx {
  int rc;
};

static int units_api_edge(void *arg, void **result) {
  ac_loop_t *loop = ac_task_loop(ac_task_current());
  ac_session_t *s = NULL;
  ac_request_opts_t o;
  ac_response_t *resp = (ac_response_t *)&o; /* must be reset to NULL */
  ac_http_error_t err;
  ac_http_kv_t bad_header = {NULL, "v"};
  (void)arg;
  (void)result;

  ASSERT_ERR(ac_session_new(NULL, NULL, &s), AC_EINVAL);
  ASSERT_OK(ac_session_new(loop, NULL, &s));
  ac_request_opts_init(&o);
  ASSERT_ERR(ac_session_request(s, &o, &resp, &err), AC_EINVAL); /* no URL */
  ASSERT_NULL(resp);
  ASSERT_EQ(err.code, AC_EINVAL);
  ASSERT(strlen(err.message) > 0);
  o.url = "http://127.0.0.1:1/";
  o.headers = &bad_header;
  o.nheaders = 1;
  ASSERT_ERR(ac_session_request(s, &o, &resp, &err), AC_EINVAL);
  o.nheaders = 0;
  o.url = "ftp://127.0.0.1/";
  ASSERT_ERR(ac_session_request(s, &o, &resp, &err), AC_EINVAL); /* http(s) only */
  ASSERT_EQ(err.code, AC_EINVAL);
  ASSERT_UEQ(ac_session_in_flight(s), 0);
  ASSERT_OK(ac_session_free(s));
  {
    /* A session belongs to one loop. */
    ac_loop_t *other;
    ASSERT_OK(ac_loop_new(&other));
    ASSERT_OK(ac_session_new(other, NULL, &s));
    o.url = "http://127.0.0.1:1/";
    ASSERT_ERR(ac_session_request(s, &o, &resp, &err), AC_EINVAL);
    ASSERT_OK(ac_session_free(s));
    ASSERT_OK(ac_loop_close(other)); /* waits for the session's handles to close */
  }
  return 0;
}

TEST_IMPL(http_api_edge) {
  ac_request_opts_t o;
  ac_response_t *resp = NULL;
  ac_request_opts_init(&o);
  /* Outside a task. */
  ASSERT_ERR(ac_session_request(NULL, &o, &resp, NULL), AC_ENOTASK);
  ASSERT_OK(ac_run(units_api_edge, NULL, NULL));
}
