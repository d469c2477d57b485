/*
 * acrawl server: a small asynchronous HTTP/1.1 server on the runtime, like
 * aiohttp's web half.
 *
 * A server listens on one address, accepts connections (up to a cap: past it,
 * it stops accepting until one closes) and runs one task per connection. The
 * task parses requests (http-parser), matches a route and calls its handler
 * on the task's own stack, so a handler may await (ac_sleep, a semaphore, the
 * HTTP client...) without blocking the other connections. Requests of one
 * connection are answered in order (keep-alive and pipelining).
 *
 * Hostile input never crashes or stalls the server: a malformed request line,
 * a bad Content-Length or both Content-Length and Transfer-Encoding get 400,
 * so do an HTTP/1.1 request without Host and any request with two (RFC 9112
 * 3.2), a version other than HTTP/1.x 505, a request head over the limit
 * 431, a body over the limit 413, a client too slow to send its head or body
 * 408; each closes the connection.
 *
 * Everything here runs on the loop's thread. Functions marked AWAITS suspend
 * the calling task (they must be called from inside one: handlers are).
 * Errors are negative AC_E* codes (acrawl/errno.h).
 */
#ifndef ACRAWL_SERVER_H
#define ACRAWL_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "acrawl/export.h"
#include "acrawl/runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ac_server ac_server_t;
typedef struct ac_server_req ac_server_req_t;
typedef struct ac_server_resp ac_server_resp_t;

/**
 * Limits and knobs. Fill with ac_server_opts_init, then change fields.
 * Every buffer a connection uses is bounded by these.
 */
typedef struct ac_server_opts {
  /** Bytes of a request head (request line and headers): past it, 431.
   * Default 16 KiB. */
  size_t max_head_size;
  /** Number of request headers: past it, 431. Default 100. */
  size_t max_headers;
  /** Bytes of a request body (Content-Length or chunked): past it, 413.
   * Default 1 MiB. */
  size_t max_body_size;
  /** Bytes read from a socket ahead of the parser (pipelined requests wait
   * there); reading stops while it is full. Default 16 KiB. */
  size_t read_buffer_size;
  /** Milliseconds from the first byte of a request to the end of its head
   * (a whole-head deadline, not per byte): past it, 408. A new connection
   * has the same time to send its first request (else 408 too). Default
   * 10000. */
  uint64_t head_timeout_ms;
  /** Milliseconds for the whole body once the head is in: past it, 408.
   * Default 30000. */
  uint64_t body_timeout_ms;
  /** Milliseconds a keep-alive connection may wait for its next request
   * before it is closed (silently: no request was started, and an answer
   * could cross one the client is sending). Default 15000. */
  uint64_t idle_timeout_ms;
  /** Milliseconds one write may wait for a client that does not read:
   * past it, the connection is closed and the write returns AC_ETIMEDOUT.
   * Default 30000. */
  uint64_t write_timeout_ms;
  /** Connections open at once. A client that connects past it makes the
   * server close the keep-alive connection idle longest (silently, as the
   * idle timeout would) and takes its place; with none idle, the server
   * stops accepting (the kernel's backlog holds the rest) until one closes
   * or goes idle. A connection that has not sent its first request is never
   * closed for another. Default 1024. Each
   * takes a descriptor: a server for thousands should call
   * ac_reserve_fds(max_connections + a margin) first (runtime.h), or the
   * open-files limit caps it and growing the descriptor table stalls the
   * loop while it accepts. */
  size_t max_connections;
  /** Distinct client addresses tracked by the per-address counters; later
   * addresses are counted together under "other". Default 1024. */
  size_t max_tracked_clients;
  /** Stack size of connection tasks (handlers run there); 0: the runtime's
   * default. */
  size_t stack_size;
  /** listen() backlog. Default 511. */
  int backlog;
  /** Nonzero: take each request's arrival time (ac_server_req_arrival_us)
   * from the kernel's receive timestamp of its first bytes (SO_TIMESTAMPNS,
   * read with one extra recvmsg(MSG_PEEK) before each read that starts a
   * request; Linux). A server that is busy when a request comes in then
   * still knows when it came: a handler that answers a fixed time after
   * arrival (the replica's --delay) does not add its own queueing to every
   * answer. 0 (the default, which spares that system call per request): the
   * arrival is when the server read the bytes. */
  int stamp_arrival;
} ac_server_opts_t;

/** Set every field of opts to its default. */
AC_EXTERN void ac_server_opts_init(ac_server_opts_t *opts);

/**
 * A request handler. Runs in the connection's task, so it may await. It
 * answers through resp (ac_server_resp_send, or start/write/end). Its return
 * value: 0, or a negative error; if it fails before the response started,
 * the client gets 500; if it fails or returns in the middle of a response,
 * the connection is closed (the client sees a short body). If it returns 0
 * without answering, the response is the status set (default 200) with an
 * empty body. req and resp are valid only until it returns.
 */
typedef int (*ac_server_handler_fn)(ac_server_req_t *req, ac_server_resp_t *resp,
                                    void *userdata);

/**
 * Create a server on loop (not listening yet). opts may be NULL for the
 * defaults; it is copied. Returns 0 and *out, AC_EINVAL or AC_ENOMEM. Free it
 * with ac_server_free once it has no connection left (after
 * ac_server_shutdown, or before it ever listened).
 */
AC_EXTERN int ac_server_new(ac_loop_t *loop, const ac_server_opts_t *opts, ac_server_t **out);

/**
 * Add a route. method is "GET", "POST", ... (case-sensitive, as HTTP is) or
 * NULL for any method. A GET route also answers HEAD (without the body) unless
 * a HEAD route matches first. pattern is a path:
 *   "/api/book/"      matches exactly that path;
 *   "/api/book/{id}"  a {name} segment matches one non-empty path segment,
 *                     read with ac_server_req_param(req, "id") (decoded);
 *   a final '*'       ("/static/" followed by '*') matches any rest, even
 *                     empty, read with ac_server_req_param(req, "*").
 * Routes are tried in the order added; the first match wins. A path that
 * matches only routes of other methods gets 405 with Allow; no match, 404.
 * pattern is copied. Returns 0, AC_EINVAL (bad pattern, at most 8
 * parameters), AC_ENOMEM.
 */
AC_EXTERN int ac_server_route(ac_server_t *server, const char *method, const char *pattern,
                              ac_server_handler_fn handler, void *userdata);

/**
 * Bind host:port (an IPv4 or IPv6 literal, e.g. "127.0.0.1"; port 0 picks a
 * free port) and start accepting. SIGPIPE is set to be ignored if it still
 * has its default action (writes to a closed socket must fail with EPIPE, not
 * kill the process). Returns 0, AC_EINVAL, AC_EBUSY (already listening or
 * closed, or a failed listen's socket still closing: run the loop, then
 * retry) or the system error (AC_EADDRINUSE...).
 */
AC_EXTERN int ac_server_listen(ac_server_t *server, const char *host, int port);

/** The port bound by ac_server_listen (the picked one when 0 was asked), or
 * 0 before. */
AC_EXTERN int ac_server_port(const ac_server_t *server);

/**
 * Begin a graceful close, without waiting: stop accepting (the listening
 * socket is closed), close idle keep-alive connections, let requests in
 * flight finish (their responses say Connection: close), then close their
 * connections. Calling it again does nothing. Usable from callbacks (a signal
 * handler, for example).
 */
AC_EXTERN void ac_server_close(ac_server_t *server);

/**
 * AWAITS. ac_server_close, then wait until every connection is closed. After
 * grace_ms (AC_NO_TIMEOUT: never), the handlers still running are cancelled
 * (their awaits return AC_ECANCELED) and their connections closed; the call
 * still waits until they have unwound. Returns 0 when all finished within the
 * grace period, AC_ETIMEDOUT when some had to be cancelled, AC_ECANCELED if
 * the calling task is cancelled (the server then goes on closing).
 */
AC_EXTERN int ac_server_shutdown(ac_server_t *server, uint64_t grace_ms);

/**
 * Free the server. Returns AC_EBUSY (and frees nothing) while connections are
 * open; otherwise closes the listening socket if needed and returns 0. The
 * memory itself goes when libuv has closed the socket (at the loop's next turn
 * or in ac_loop_close), so run or close the loop afterwards.
 */
AC_EXTERN int ac_server_free(ac_server_t *server);

/* ------------------------------------------------------------ counters */

/** Server-wide counters, a snapshot (ac_server_stats). */
typedef struct ac_server_stats {
  uint64_t connections_total;    /* accepted since start */
  uint64_t connections_now;      /* open now */
  uint64_t requests_total;       /* requests whose head was parsed */
  uint64_t in_flight_now;        /* requests being handled now */
  uint64_t in_flight_max;        /* the most seen at once */
  uint64_t not_found;            /* 404 answered by the router */
  uint64_t method_not_allowed;   /* 405 answered by the router */
  uint64_t bad_requests;         /* 400, 408, 413, 417, 431, 505 answered by the parser */
  uint64_t timeouts;             /* 408 among them */
  uint64_t resets;               /* ac_server_resp_reset calls */
  uint64_t aborts;               /* responses cut short (abort, or a failed handler) */
  uint64_t connections_shed;     /* idle keep-alive ones closed to admit a newcomer */
} ac_server_stats_t;

AC_EXTERN void ac_server_stats(const ac_server_t *server, ac_server_stats_t *out);

/** Requests handled by one route, with the route as it was added. */
typedef struct ac_server_route_stat {
  const char *method;    /* NULL for any; owned by the server */
  const char *pattern;   /* owned by the server */
  uint64_t requests;
} ac_server_route_stat_t;

/** Fill out[0..max) with the routes in the order added; returns the number of
 * routes (may exceed max). Strings stay valid until ac_server_free. */
AC_EXTERN size_t ac_server_route_stats(const ac_server_t *server, ac_server_route_stat_t *out,
                                       size_t max);

/** Counters of one client address (IP, without the port). */
typedef struct ac_server_client_stat {
  char addr[46];         /* "127.0.0.1", "::1", or "other" past the cap */
  uint64_t requests;
  uint64_t in_flight_now;
  uint64_t in_flight_max;
} ac_server_client_stat_t;

/** Fill out[0..max) with the tracked addresses (in no particular order);
 * returns how many there are (may exceed max). */
AC_EXTERN size_t ac_server_client_stats(const ac_server_t *server, ac_server_client_stat_t *out,
                                        size_t max);

/* ------------------------------------------------------------- requests */

/** "GET", "POST"... Static. */
AC_EXTERN const char *ac_server_req_method(const ac_server_req_t *req);
/** The request target's path, still percent-encoded, without the query. */
AC_EXTERN const char *ac_server_req_path(const ac_server_req_t *req);
/** The raw query string after '?', or "" when there is none. */
AC_EXTERN const char *ac_server_req_query(const ac_server_req_t *req);
/**
 * Look up name in the query string (form decoding: '+' is a space, %XX a
 * byte) and copy its decoded value, NUL-terminated, into buf. Returns 0 (and
 * *len, if not NULL, the length without the NUL), AC_ENOENT when absent,
 * AC_ETOOLARGE when buf is too small, AC_EPARSE on a bad %-escape.
 */
AC_EXTERN int ac_server_req_query_value(const ac_server_req_t *req, const char *name, char *buf,
                                        size_t size, size_t *len);
/** A route parameter ({name} or "*"), percent-decoded, or NULL. */
AC_EXTERN const char *ac_server_req_param(const ac_server_req_t *req, const char *name);
/** The first header called name (case-insensitive), or NULL. */
AC_EXTERN const char *ac_server_req_header(const ac_server_req_t *req, const char *name);
/** The number of headers, and the i-th one (as received; repeated headers
 * are separate entries). Returns 0 or AC_EINVAL past the end. */
AC_EXTERN size_t ac_server_req_header_count(const ac_server_req_t *req);
AC_EXTERN int ac_server_req_header_at(const ac_server_req_t *req, size_t i, const char **name,
                                      const char **value);
/** The body (decoded from chunked if it was), and its length; never NULL
 * (an empty string for no body). */
AC_EXTERN const void *ac_server_req_body(const ac_server_req_t *req, size_t *len);
/** The client's IP address as text. */
AC_EXTERN const char *ac_server_req_remote_addr(const ac_server_req_t *req);
/** When the request's first bytes arrived, in ac_now_us's microseconds: the
 * kernel's receive time with opts.stamp_arrival (where the kernel gives one),
 * else when the server read them. Never later than the handler's start. */
AC_EXTERN uint64_t ac_server_req_arrival_us(const ac_server_req_t *req);
/** HTTP minor version: 0 or 1. */
AC_EXTERN int ac_server_req_http_minor(const ac_server_req_t *req);

/**
 * Percent-decode src[0..len) into dst (which must hold len + 1 bytes; dst may
 * equal src); '+' becomes a space when plus_is_space. NUL-terminates. Returns
 * the decoded length, or AC_EPARSE on a bad escape.
 */
AC_EXTERN int ac_server_url_decode(const char *src, size_t len, char *dst, int plus_is_space);

/* ------------------------------------------------------------ responses */

/** For ac_server_resp_start: a chunked body of unknown length. */
#define AC_SERVER_CHUNKED (-1)

/** Set the status (100-999) and reason (copied; NULL: the standard one).
 * AC_EINVAL for a bad status or a reason with CR/LF, AC_EBUSY once the head
 * was sent. */
AC_EXTERN int ac_server_resp_status(ac_server_resp_t *resp, int status, const char *reason);
/**
 * Add a header (both copied). Content-Length, Transfer-Encoding and
 * Connection are the server's: AC_EINVAL for them, and for CR, LF or NUL in
 * either. AC_ETOOLARGE past the response head limit (the same size as the
 * request one), AC_EBUSY once the head was sent.
 */
AC_EXTERN int ac_server_resp_header(ac_server_resp_t *resp, const char *name, const char *value);
/** Ask for the connection to close after this response. */
AC_EXTERN void ac_server_resp_close_after(ac_server_resp_t *resp);
/**
 * AWAITS. Send the whole response: head with Content-Length: len, then body
 * (not sent for HEAD). body is borrowed during the call. Returns 0, AC_EBUSY
 * if the head was already sent, or a write error (AC_ECONNRESET, AC_EPIPE,
 * AC_ECANCELED...), after which the connection is closed.
 */
AC_EXTERN int ac_server_resp_send(ac_server_resp_t *resp, const void *body, size_t len);
/** AWAITS. ac_server_resp_send of a NUL-terminated text with the given
 * status and a Content-Type of "text/plain; charset=utf-8". */
AC_EXTERN int ac_server_resp_text(ac_server_resp_t *resp, int status, const char *text);
/**
 * AWAITS. Send the head for a streamed body: Content-Length: content_length
 * when >= 0, chunked when AC_SERVER_CHUNKED. Then ac_server_resp_write and
 * ac_server_resp_end. Returns 0, AC_EBUSY (head already sent), a write error.
 */
AC_EXTERN int ac_server_resp_start(ac_server_resp_t *resp, int64_t content_length);
/**
 * AWAITS. Write part of the body (a chunk when chunked). Returns once the
 * kernel took the bytes: a slow client makes the writer wait (backpressure),
 * nothing is queued behind its back. With a Content-Length, writing past it
 * is AC_ETOOLARGE (nothing written). data is borrowed during the call.
 */
AC_EXTERN int ac_server_resp_write(ac_server_resp_t *resp, const void *data, size_t len);
/** AWAITS. Finish a streamed body (the last chunk when chunked). With a
 * Content-Length not reached, returns AC_ESHORT and closes the connection. */
AC_EXTERN int ac_server_resp_end(ac_server_resp_t *resp);

/**
 * Fault injection: close the connection now, after what was written so far
 * (a head announcing N bytes and fewer sent gives the client a short body,
 * then EOF). The response is over. Returns 0.
 */
AC_EXTERN int ac_server_resp_abort(ac_server_resp_t *resp);
/**
 * Fault injection: reset the connection (SO_LINGER 0 then close: the client
 * sees ECONNRESET, possibly before bytes already written). The response is
 * over. Returns 0.
 */
AC_EXTERN int ac_server_resp_reset(ac_server_resp_t *resp);
/** 1 once the head was sent. */
AC_EXTERN int ac_server_resp_started(const ac_server_resp_t *resp);

#ifdef __cplusplus
}
#endif
#endif /* ACRAWL_SERVER_H */
