/*
 * The server's private declarations, shared by the files of src/server/.
 *
 * Pieces:
 *   parse.c   the request parser: http-parser driven from a buffer, with
 *             every limit applied; no sockets, so libFuzzer can drive it;
 *   conn.c    a connection: libuv reads into a bounded buffer and wakes
 *             the connection's task, which parses, dispatches and loops;
 *   resp.c    responses: head building, writes that await the kernel;
 *   server.c  the server: listen, accept with a cap, routes, shutdown;
 *   stats.c   counters, and the bounded table of client addresses.
 */
#ifndef AC_SERVER_INTERNAL_H
#define AC_SERVER_INTERNAL_H

#include <http_parser.h>
#include <uv.h>

#include "acrawl.h"
#include "acrawl/server.h"
#include "common/alloc.h"
#include "common/dynbuf.h"
#include "runtime/ext.h"

#define AC__SRV_MAX_PARAMS 8

/* ------------------------------------------------------------ parser */

enum ac__parse_status {
  AC__PARSE_MORE = 0,   /* every byte consumed, the message is not complete */
  AC__PARSE_DONE,       /* a message is complete; bytes after it are not consumed */
  AC__PARSE_ERROR       /* p->error_status says which answer the client gets */
};

struct ac__srv_header {
  uint32_t name, name_len;  /* offsets into the head arena */
  uint32_t value, value_len;
};

struct ac__reqparse {
  http_parser hp;
  size_t max_head;
  size_t max_headers;
  size_t max_body;
  /* The head arena: the URL, then header names and values, each followed by
   * a NUL once complete. Capped at max_head + slack. */
  struct ac__dynbuf head;
  size_t head_bytes;             /* of URL, names and values: <= max_head */
  struct ac__srv_header *hdrs;  /* max_headers entries, allocated lazily */
  size_t nhdrs, hdrs_cap;
  int last;                      /* the element being appended: ELEM_* */
  uint32_t url, url_len;
  struct ac__dynbuf body;        /* capped at max_body */
  size_t nbytes;                 /* bytes fed for the current message */
  int error_status;              /* 400, 413, 417, 431, 505, or 500 (out of memory) */
  unsigned started : 1;          /* a byte of the message was seen */
  unsigned headers_done : 1;
  unsigned done : 1;
  unsigned keep_alive : 1;
  unsigned expect_continue : 1;
  unsigned upgrade : 1;
};

void ac__reqparse_init(struct ac__reqparse *p, size_t max_head, size_t max_headers,
                       size_t max_body);
void ac__reqparse_free(struct ac__reqparse *p);
/* Get ready for the next message of the same connection (buffers kept). */
void ac__reqparse_reset(struct ac__reqparse *p);
/* Feed bytes; *consumed gets how many were used. */
enum ac__parse_status ac__reqparse_feed(struct ac__reqparse *p, const char *data, size_t len,
                                        size_t *consumed);
/* The header value (first match, case-insensitive) or NULL. */
const char *ac__reqparse_header(const struct ac__reqparse *p, const char *name);
/* Split the URL (in the arena, NUL-terminated) into path and query: writes a
 * NUL over '?' (and '#'). */
void ac__reqparse_split_url(struct ac__reqparse *p, const char **path, const char **query);

/* ------------------------------------------------------------ server */

struct ac__srv_route {
  struct ac__srv_route *next;
  char *method;                  /* NULL: any */
  char *pattern;
  ac_server_handler_fn handler;
  void *userdata;
  uint64_t requests;
};

struct ac__srv_client {
  char addr[46];
  uint64_t requests;
  uint64_t in_flight_now;
  uint64_t in_flight_max;
  unsigned used : 1;
};

struct ac_server {
  uint32_t magic;
  ac_loop_t *loop;
  ac_server_opts_t opts;
  uv_tcp_t listener;
  struct ac__list conns;         /* struct ac__conn */
  /* Keep-alive connections waiting for their next request, the one idle
   * longest first: closed to admit a newcomer when the cap is reached. */
  struct ac__list idle_conns;
  size_t shedding;               /* closed to make room, not gone yet */
  struct ac__srv_route *routes, **routes_tail;
  size_t nroutes;
  struct ac__list drain_waiters; /* tasks in ac_server_shutdown */
  ac_server_stats_t stats;
  struct ac__srv_client *clients; /* open addressing, clients_cap slots */
  size_t clients_cap, nclients;
  struct ac__srv_client other;   /* addresses past the cap */
  char date[40];                 /* "Date: ...\r\n", refreshed once a second */
  uint64_t date_sec;
  int port;
  unsigned listening : 1;
  unsigned listener_open : 1;
  unsigned closing : 1;
  unsigned free_requested : 1;
  unsigned accept_pending : 1;   /* a connection waits in the kernel for room */
};

struct ac__conn {
  uv_tcp_t tcp;
  uv_shutdown_t shutdown_req;
  struct ac__list node;          /* in server->conns */
  struct ac__list idle_node;     /* in server->idle_conns while it waits */
  ac_server_t *server;
  ac_task_t *task;               /* while it runs (no reference held) */
  struct ac__reqparse parse;
  char *in;                      /* read buffer: in[0..in_len), parsed up to in_off */
  size_t in_len, in_off, in_cap;
  int read_status;               /* sticky: UV_EOF or an error */
  struct ac__wait *reader;       /* the task waiting for bytes */
  struct ac__dynbuf hdrs;        /* response headers added by the handler */
  struct ac__dynbuf scratch;     /* decoded route parameters */
  struct ac__srv_client *client;
  uint64_t nrequests;            /* requests handled on this connection */
  uint64_t peek_us;              /* kernel stamp of the bytes on_alloc saw queued, or 0 */
  uint64_t read_us;              /* when the latest read's bytes arrived */
  uint64_t arrival_us;           /* when the current request's first bytes did */
  char addr[46];
  unsigned reading : 1;
  unsigned handle_closing : 1;   /* uv_close called */
  unsigned handle_closed : 1;    /* its callback ran */
  unsigned task_done : 1;
  unsigned idle : 1;             /* waiting for a request, no byte of it yet */
  unsigned in_flight : 1;
  unsigned shed : 1;             /* closed to admit a newcomer */
};

struct ac_server_req {
  struct ac__conn *conn;
  const char *method;
  const char *path;
  const char *query;
  const char *param_names[AC__SRV_MAX_PARAMS + 1];
  const char *param_values[AC__SRV_MAX_PARAMS + 1];
  size_t nparams;
};

struct ac_server_resp {
  struct ac__conn *conn;
  int status;
  char reason[64];
  int64_t content_length;        /* announced; AC_SERVER_CHUNKED */
  uint64_t written;              /* body bytes written */
  int error;                     /* a write failed: the connection is done */
  unsigned is_head : 1;          /* a HEAD request: no body bytes */
  unsigned chunked : 1;          /* chunked framing on the body writes */
  unsigned http10 : 1;           /* an HTTP/1.0 client: no chunked encoding */
  unsigned started : 1;
  unsigned finished : 1;
  unsigned close_after : 1;
  unsigned killed : 1;           /* aborted or reset: the connection is gone */
};

/* server.c */
int ac__server_dispatch(ac_server_t *s, ac_server_req_t *req, ac_server_resp_t *resp);
void ac__server_conn_gone(ac_server_t *s);
/* At the cap with a client waiting in the backlog: close the keep-alive
 * connection idle longest, if any (and none is closing for that already),
 * so that the waiting client gets its place. */
void ac__server_make_room(ac_server_t *s);
void ac__server_date(ac_server_t *s, const char **line, size_t *len);

/* conn.c */
int ac__conn_start(ac_server_t *s);
/* Write bufs fully (awaits while the kernel is full). */
int ac__conn_write(struct ac__conn *c, uv_buf_t *bufs, unsigned nbufs);
/* Close the connection now; reset: send RST (SO_LINGER 0). */
void ac__conn_kill(struct ac__conn *c, int reset);
/* 1 if no byte of a request waits for the connection, read or in the kernel
 * (a request may be coming in the moment its idle connection is chosen). */
int ac__conn_quiet(struct ac__conn *c);
/* Wake an idle connection's task so it closes (server closing). */
void ac__conn_wake_idle(struct ac__conn *c);

/* resp.c */
void ac__resp_init(ac_server_resp_t *r, struct ac__conn *c, int is_head);
/* Finish after the handler: default body, 500, or cut the connection. */
int ac__resp_finish(ac_server_resp_t *r, int handler_rc);
const char *ac__status_reason(int status);

/* stats.c */
struct ac__srv_client *ac__stats_client(ac_server_t *s, const char *addr);
void ac__stats_request_begin(ac_server_t *s, struct ac__srv_client *c);
void ac__stats_request_end(ac_server_t *s, struct ac__srv_client *c);

#endif /* AC_SERVER_INTERNAL_H */
