/*
 * Out of memory is an error, never a crash: creating a server and adding
 * routes, and parsing a request, under an allocator that fails from the Nth
 * allocation on, for every N until everything succeeds.
 */
#include <string.h>

#include "acrawl.h"
#include "common/alloc.h"
#include "server/internal.h"
#include "runner.h"

static int h_none(ac_server_req_t *req, ac_server_resp_t *resp, void *ud) {
  (void)req;
  (void)ud;
  return ac_server_resp_send(resp, NULL, 0);
}

TEST_IMPL(server_oom_sweep) {
  static const char request[] =
      "POST /api/book/1?x=y HTTP/1.1\r\nHost: a\r\nX-A: 1\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n0\r\n\r\n";
  long n;
  int done = 0;

  for (n = 1; !done; n++) {
    ac_loop_t *loop;
    ac_server_t *s = NULL;
    int rc;
    ASSERT_LT(n, 1000);
    ASSERT_OK(ac_loop_new(&loop));
    ac__alloc_fail_after(n);
    rc = ac_server_new(loop, NULL, &s);
    if (rc == 0) rc = ac_server_route(s, "GET", "/a/{id}", h_none, NULL);
    if (rc == 0) rc = ac_server_route(s, NULL, "/b/*", h_none, NULL);
    ac__alloc_fail_after(0);
    if (rc == 0) done = 1;
    else ASSERT_ERR(rc, AC_ENOMEM);
    if (s != NULL) ASSERT_OK(ac_server_free(s));
    ASSERT_OK(ac_loop_close(loop));
  }
  for (n = 1, done = 0; !done; n++) {
    struct ac__reqparse p;
    size_t used;
    enum ac__parse_status st;
    ASSERT_LT(n, 1000);
    ac__reqparse_init(&p, 4096, 16, 4096);
    ac__alloc_fail_after(n);
    st = ac__reqparse_feed(&p, request, sizeof(request) - 1, &used);
    ac__alloc_fail_after(0);
    if (st == AC__PARSE_DONE) {
      ASSERT_EQ(used, sizeof(request) - 1);
      ASSERT_EQ(ac__dynbuf_len(&p.body), 5);
      ASSERT_STR_EQ(ac__reqparse_header(&p, "x-a"), "1");
      done = 1;
    } else {
      ASSERT_EQ(st, AC__PARSE_ERROR);
      ASSERT_EQ(p.error_status, 500);
    }
    ac__reqparse_free(&p);
  }
}
