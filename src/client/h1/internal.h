/*
 * The native HTTP/1.1 path's private declarations, shared by its files:
 *
 *   call.c      starting a call, its timeouts, its ending (complete or fail),
 *               detaching it, the session's native state;
 *   dns.c       the DNS cache and lookups in libuv's thread pool;
 *   pool.c      connections: the idle pool, connecting, writing the request;
 *   parse.c     the response parser (http-parser callbacks) and the input;
 *   redirect.c  following a redirect natively;
 *   handover.c  giving the rest of a redirected request to libcurl.
 *
 * A request runs: resolve (IP literal, the session's DNS cache, or
 * uv_getaddrinfo) -> take an idle connection to the same host and port, or
 * connect (trying each address) -> write the head and body (uv_try_write,
 * then uv_write for the rest) -> parse the response as it arrives
 * (http-parser; headers through response.c's header callback so both paths
 * store them alike; the body through the decoder and the body cap) -> either
 * follow a redirect (same call, natively or handed over to libcurl) or
 * complete the call through client.c.
 *
 * Connections keep reading while idle, so a server's close of an idle
 * connection is seen at once and the connection dropped; a request that
 * meets a connection closed under it before any response byte is sent once
 * more on a new connection (as libcurl does). Every callback here runs on
 * the loop's stack; completions call back into client.c, which calls user
 * code: after that nothing here touches the request or its connection.
 */
#ifndef AC_CLIENT_H1_INTERNAL_H
#define AC_CLIENT_H1_INTERNAL_H

#include <http_parser.h>
#include <sys/socket.h>

#include "client/h1/decode.h"
#include "client/h1/h1.h"
#include "client/internal.h"


#define DNS_TTL_MS 60000u      /* as libcurl's DNS cache */
#define DNS_CACHE_MAX 64u
#define MAX_ADDRS 4
#define READ_BUF_SIZE 65536u   /* one per session: a read is consumed before the next */
/* The most of a redirect's body read (and dropped) to keep its connection:
 * past it, or past the request's body cap, the connection is closed instead. */
#define REDIRECT_DRAIN_MAX 65536u
/* A Content-Encoding the decoder does not know (inside a parser callback). */
#define AC__H1_EENCODING (-100001)
/* A status under 100 (inside a parser callback). */
#define AC__H1_ESTATUS (-100002)

struct h1_addrs {
  struct sockaddr_storage a[MAX_ADDRS];
  int n;
};

/* The session's native state (s->transport[AC__HTTP_H1]). */
struct ac__h1_session {
  struct ac__list idle;        /* idle connections, oldest first */
  size_t nidle;
  char *buf;                   /* the read buffer, one per session */
  struct ac__h1_dns_entry *dns; /* the DNS cache */
  size_t ndns;
};

static inline struct ac__h1_session *ac__h1_sess(const ac_session_t *s) {
  return (struct ac__h1_session *)s->transport[AC__HTTP_H1];
}

struct ac__h1_dns_entry {
  char *name;
  struct h1_addrs addrs;
  uint64_t expires;            /* loop time, ms */
};

/* A lookup in libuv's thread pool. Its request may be gone when it ends
 * (cancelled, timed out): then `req` is NULL and the entry only frees itself. */
struct h1_lookup {
  uv_getaddrinfo_t gai;
  struct ac__h1_req *req;
  ac_loop_t *loop;             /* counts it as closing: ac_loop_close waits for it */
};

struct ac__h1_conn {
  uv_tcp_t tcp;
  uv_connect_t connect_req;
  uv_write_t write_req;
  struct ac__list node;        /* in the session's idle list while idle */
  ac_session_t *session;
  ac_loop_t *loop;
  struct ac__h1_req *req;      /* the request on it; NULL while idle */
  unsigned port;
  unsigned connected : 1, writing : 1, reused : 1, closing : 1;
  char host[];                 /* the pool's key, with port */
};

struct ac__h1_req {
  struct ac_http_call *call;
  struct ac__h1_url url;
  struct ac__h1_head head;
  struct ac__h1_conn *conn;
  struct h1_lookup *lookup;
  struct h1_addrs addrs;
  int addr_i;
  http_parser parser;
  struct ac__dynbuf line;      /* the header line being assembled, "Name: value";
                                  capped at AC__HTTP_MAX_HEADER_BYTES */
  int last;                    /* 0, FIELD or VALUE: the last parser callback */
  int status_fed;              /* the status line went to the response */
  char *location;              /* Location of this response, if any */
  char encoding[64];           /* Content-Encoding of this response, lines joined */
  char tcoding[64];            /* its Transfer-Encoding but chunked */
  int cookies;                 /* Set-Cookie lines of this response */
  ac__http_decoder_t *dec;
  int cb_err;                  /* an error found inside a parser callback */
  struct ac__timer deadline;   /* the whole request's timeout */
  struct ac__timer connect_timer;
  struct ac__timer fail_timer; /* a failure found while starting, reported later */
  int fail_status;
  uint64_t timeout_ms, connect_timeout_ms;
  uint64_t t0, t_dns, t_connect, t_first, t_hop;
  long redirects, max_redirects;
  int follow, decompress;
  size_t received;             /* bytes of this hop's response */
  size_t drained;              /* bytes of a redirect's body read and dropped */
  /* The caller's options, for a hand-over to libcurl: pointers into
   * opts_mem (the caller may free its own once ac_session_send returns). */
  ac_request_opts_t opts;
  char *opts_mem;
  size_t opts_cap;
  unsigned active : 1, done : 1, keep_alive : 1, redirecting : 1, retried : 1;
  unsigned headers_done : 1;   /* the final response's head is parsed */
};


static inline uint64_t now_ns(void) { return uv_hrtime(); }

/* call.c */
/* Stop everything of the request but its connection. */
void ac__h1_req_quiet(struct ac__h1_req *rq);
/* The response is whole and final: fill it and complete the call. */
void ac__h1_complete(struct ac__h1_req *rq);
/* Fail the call (closing its connection): rq may be gone after. */
void ac__h1_fail(struct ac__h1_req *rq, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A failure while starting that the caller must hear of later: never
 * inside ac_session_send. */
void ac__h1_fail_later(struct ac__h1_req *rq, int status);

/* dns.c */
/* Find the addresses of rq's host, then send it. */
void ac__h1_resolve_and_send(struct ac__h1_req *rq);

/* pool.c */
void ac__h1_conn_close(struct ac__h1_conn *c);
/* The request is over with this connection: back to the pool when its
 * response was complete and the server keeps it, else closed. */
void ac__h1_conn_release(struct ac__h1_conn *c, int reusable);
/* Send rq: on an idle connection to its host if there is one, else on a new
 * connection to its current address. */
void ac__h1_send(struct ac__h1_req *rq);

/* parse.c */
void ac__h1_reset_parser(struct ac__h1_req *rq);
void ac__h1_on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf);
/* The connection failed or closed before the response was complete: retry,
 * fail (then rq may be gone), or, for a body that ends with the connection,
 * return 1: the caller completes the response. */
int ac__h1_conn_lost(struct ac__h1_req *rq, int uverr);

/* redirect.c */
/* Follow the redirect of rq's response: natively, or through libcurl. */
void ac__h1_follow(struct ac__h1_req *rq);

/* handover.c */
/* Keep what a hand-over needs of the caller's options in rq->opts. 0 or AC_ENOMEM. */
int ac__h1_keep_opts(struct ac__h1_req *rq, const ac_request_opts_t *o);
/* The rest of the request goes to libcurl (https, user info, a cookie now
 * in the jar): the same call, restarted from the caller's options with url,
 * the method of the redirect (GET when to_get) and what is left of its
 * timeout and redirect budget. */
void ac__h1_hand_over(struct ac__h1_req *rq, const char *url, int to_get);

#endif /* AC_CLIENT_H1_INTERNAL_H */
