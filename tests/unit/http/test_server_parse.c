/*
 * The server's request parser driven from a buffer (no sockets): cases the
 * fuzzer found, kept as plain tests so every build checks them.
 */
#include <string.h>

#include "acrawl.h"
#include "server/internal.h"
#include "runner.h"

/* Feed everything; returns the status of the last feed. */
static enum ac__parse_status feed_all(struct ac__reqparse *p, const char *s, size_t n,
                                      size_t *consumed) {
  enum ac__parse_status st;
  size_t used = 0;
  st = ac__reqparse_feed(p, s, n, &used);
  *consumed = used;
  return st;
}

static void assert_headers_in_head(const struct ac__reqparse *p) {
  size_t i;
  for (i = 0; i < p->nhdrs; i++) {
    ASSERT_LT(p->hdrs[i].name, ac__dynbuf_len(&p->head));
    ASSERT_LT(p->hdrs[i].value, ac__dynbuf_len(&p->head));
  }
}

/* Trailers after a chunked body are discarded, and the next pipelined
 * request's headers are its own (the fuzzer found stale offsets here). */
TEST_IMPL(server_parse_chunked_trailers_are_discarded) {
  static const char in[] =
      "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n0\r\nX-Trailer: yes\r\nAnother: 1\r\n\r\n"
      "GET /next HTTP/1.1\r\nHost: h\r\n\r\n";
  struct ac__reqparse p;
  const char *path, *query;
  size_t used, off = 0;

  ac__reqparse_init(&p, 4096, 16, 4096);
  ASSERT_EQ(feed_all(&p, in, sizeof(in) - 1, &used), AC__PARSE_DONE);
  off += used;
  ASSERT_EQ(ac__dynbuf_len(&p.body), 5);
  ASSERT(memcmp(ac__dynbuf_ptr(&p.body), "hello", 5) == 0);
  ASSERT_NULL(ac__reqparse_header(&p, "X-Trailer"));
  ASSERT_STR_EQ(ac__reqparse_header(&p, "Transfer-Encoding"), "chunked");
  assert_headers_in_head(&p);
  ac__reqparse_reset(&p);
  ASSERT_EQ(feed_all(&p, in + off, sizeof(in) - 1 - off, &used), AC__PARSE_DONE);
  ac__reqparse_split_url(&p, &path, &query);
  ASSERT_STR_EQ(path, "/next");
  ASSERT_STR_EQ(ac__reqparse_header(&p, "Host"), "h");
  ASSERT_NULL(ac__reqparse_header(&p, "Another"));
  assert_headers_in_head(&p);
  ac__reqparse_free(&p);
}

/* The status a whole request gets from the parser: 0 when it parses. */
static int parse_status(const char *req) {
  struct ac__reqparse p;
  size_t used;
  enum ac__parse_status st;
  int status;

  ac__reqparse_init(&p, 4096, 16, 4096);
  st = feed_all(&p, req, strlen(req), &used);
  status = st == AC__PARSE_DONE ? 0 : st == AC__PARSE_ERROR ? p.error_status : -1;
  ac__reqparse_free(&p);
  return status;
}

/* RFC 9112 3.2 and 2.3: Host is required in HTTP/1.1 and never repeated; a
 * major version other than 1 is not guessed at. */
TEST_IMPL(server_parse_host_and_version) {
  ASSERT_EQ(parse_status("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), 0);
  ASSERT_EQ(parse_status("GET / HTTP/1.1\r\nhOsT: a\r\n\r\n"), 0);
  ASSERT_EQ(parse_status("GET / HTTP/1.1\r\n\r\n"), 400);
  ASSERT_EQ(parse_status("GET / HTTP/1.1\r\nX-Host: a\r\n\r\n"), 400);
  ASSERT_EQ(parse_status("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n"), 400);
  ASSERT_EQ(parse_status("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n"), 400);
  /* HTTP/1.0 had no Host requirement; two are still ambiguous. */
  ASSERT_EQ(parse_status("GET / HTTP/1.0\r\n\r\n"), 0);
  ASSERT_EQ(parse_status("GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n"), 400);
  ASSERT_EQ(parse_status("GET / HTTP/9.9\r\nHost: a\r\n\r\n"), 505);
  ASSERT_EQ(parse_status("GET / HTTP/2.0\r\nHost: a\r\n\r\n"), 505);
  ASSERT_EQ(parse_status("GET / HTTP/0.9\r\n\r\n"), 505);
}
