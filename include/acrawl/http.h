/*
 * acrawl HTTP client: an aiohttp-like session on libcurl, driven by the
 * runtime's loop. Plain http:// requests take acrawl's own HTTP/1.1 path
 * instead (same results and errors, a fraction of libcurl's CPU per request;
 * see native_http1 below and docs/internals/http-native.md).
 *
 * A session (aiohttp's ClientSession) holds what requests share: a keep-alive
 * connection pool, a DNS cache, a cookie jar, TLS session reuse, default
 * headers, the user agent, a proxy and the TLS verification options. Requests
 * are made from tasks with ac_session_request, which suspends only the
 * calling task, or with ac_session_send, whose callback fires exactly once.
 *
 * Concurrency is not capped here: cap it with a semaphore (ac_sem_t), as the
 * tutorial does with asyncio.Semaphore. libcurl's own connection caps cost CPU.
 *
 * Errors (acrawl/errno.h), as a crawler decides what to retry:
 *   AC_EDNS         the host name could not be resolved (or the proxy's);
 *   AC_ECONNREFUSED the connection was refused (or could not be made at all);
 *   AC_ETIMEDOUT    a timeout of the request expired (total, connect, or idle
 *                   read), or an enclosing ac_timeout scope expired;
 *   AC_ECONNRESET   the peer reset or closed the connection before a response
 *                   (including an empty reply);
 *   AC_ETLS         the TLS handshake or certificate verification failed;
 *   AC_ETOOLARGE    the body is larger than max_body, or the response's
 *                   headers exceed 256 KiB or 1,024 lines;
 *   AC_EREDIRECT    more redirects than max_redirects;
 *   AC_ESHORT       the body ended before its Content-Length;
 *   AC_EPROTO       the server's answer is not valid HTTP (or bad encoding);
 *   AC_EHTTPSTATUS  raise_for_status was asked and the status is >= 400;
 *   AC_ECANCELED    the request was cancelled (task cancelled, ac_http_call_cancel);
 *   AC_EINVAL       a bad option (no URL, a malformed URL, an unknown scheme);
 *   AC_ENOMEM       out of memory;
 *   AC_EIO          any other transport failure (see the detail message).
 * The detail (libcurl's own message and code, or on the native path a
 * message in libcurl's words and the CURLcode libcurl would have given) goes
 * to an optional ac_http_error_t.
 *
 * Everything here runs on the loop's thread, like the runtime.
 */
#ifndef ACRAWL_HTTP_H
#define ACRAWL_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "acrawl/export.h"
#include "acrawl/runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ac_session ac_session_t;
typedef struct ac_response ac_response_t;
typedef struct ac_http_call ac_http_call_t;
struct cJSON;

/** A key/value pair: a header, a query parameter or a form field. Both strings
 * are copied by the calls that take them. */
typedef struct ac_http_kv {
  const char *key;
  const char *value;
} ac_http_kv_t;

/** The detail of a failure, the same whichever transport ran the request
 * (see ac_session_opts_t.native_http1):
 *  - code: the AC_E* code, also what the call returned: what to act on;
 *  - curl_code: libcurl's CURLcode when libcurl ran the request and failed
 *    it, else 0 (the native transport, and failures found by acrawl itself:
 *    bad options, max_body, a read timeout, raise_for_status, a cancel);
 *  - message: what happened, for a person (never empty after a failure):
 *    acrawl's words, or libcurl's error text when libcurl failed it. */
typedef struct ac_http_error {
  int code;
  int curl_code;
  char message[256];
} ac_http_error_t;

/* --------------------------------------------------------------- session */

typedef struct ac_session_opts {
  /** User-Agent header; NULL gives "acrawl/<version>". Copied. */
  const char *user_agent;
  /** Headers sent with every request (a request's own headers of the same
   * name replace them; a redirect keeps them as it keeps the request's, see
   * ac_request_opts_t.headers). Copied. */
  const ac_http_kv_t *headers;
  size_t nheaders;
  /** Proxy URL ("http://host:3128", "socks5h://..."); NULL: none. The
   * environment (http_proxy, ...) is ignored, as aiohttp does by default. Copied. */
  const char *proxy;
  /** Verify the server's certificate (1, default) and its name (1, default). */
  int verify_peer;
  int verify_host;
  /** A CA bundle file instead of the system's; NULL: system. Copied. */
  const char *ca_file;
  /** Offer HTTP/2 over TLS through ALPN (1, default). Plain http:// always
   * uses HTTP/1.1: HTTP/2 prior knowledge (h2c) is broken in Debian 12's
   * libcurl 7.88 and never used. */
  int http2;
  /** Keep a cookie jar for the session (1, default). */
  int cookies;
  /** Idle connections kept open for reuse; 0 gives 256. A request started
   * while more than this many are in flight closes its connection when it
   * ends (the pool would be over its cap anyway). Past 256 in flight, new
   * requests also get a 1 KiB receive buffer instead of 16 KiB, so that
   * thousands in flight stay small (about 11 KiB each). */
  size_t max_idle_connections;
  /** Send plain http:// requests through acrawl's own HTTP/1.1 client (1,
   * default) instead of libcurl: the same results and errors at a fraction
   * of the CPU per request. Requests it does not take go to libcurl: https,
   * a proxy, multipart bodies, URLs with user info or unusual bytes, and
   * every request once the session's cookie jar holds a cookie. A redirect
   * it cannot follow itself is handed over to libcurl mid-request. The
   * environment variable ACRAWL_HTTP_NATIVE=0 turns it off in every session.
   * Failures have the same AC_E* codes on both paths (ac_http_error_t); on
   * this one response headers over 80 KiB fail with AC_ETOOLARGE. */
  int native_http1;
} ac_session_opts_t;

/** Fill opts with the defaults above. */
AC_EXTERN void ac_session_opts_init(ac_session_opts_t *opts);

/**
 * Create a session on a loop; opts may be NULL (defaults). Returns 0 and sets
 * *out, or AC_EINVAL (no loop, a default header without name or value),
 * AC_ETOOLARGE (a default header line over 1 KiB), AC_ENOMEM, AC_EIO (libcurl
 * could not start). Free it with ac_session_free before ac_loop_close.
 */
AC_EXTERN int ac_session_new(ac_loop_t *loop, const ac_session_opts_t *opts,
                             ac_session_t **out);

/**
 * Free a session: cancels its requests in flight, closes its pooled
 * connections; its libuv handles finish closing at the loop's next turn
 * (ac_loop_close waits for them). Each request in flight ends first: its
 * callback fires inside this call with AC_ECANCELED (no response), and a task
 * awaiting it in ac_session_request is woken with AC_ECANCELED. Such a
 * callback may not start requests on this session (ac_session_send returns
 * AC_ECANCELED) and must not free it again. Returns 0, or AC_EBUSY (nothing
 * freed) when called from inside one of the session's request callbacks.
 * NULL is a no-op.
 */
AC_EXTERN int ac_session_free(ac_session_t *session);

/** Requests of the session in flight now. */
AC_EXTERN size_t ac_session_in_flight(const ac_session_t *session);

/* --------------------------------------------------------------- request */

typedef enum {
  AC_BODY_NONE = 0,
  AC_BODY_BYTES,     /* body/body_len, with content_type (default application/octet-stream) */
  AC_BODY_FORM,      /* fields urlencoded (application/x-www-form-urlencoded) */
  AC_BODY_MULTIPART, /* parts as multipart/form-data */
  AC_BODY_JSON       /* body/body_len is JSON text (application/json) */
} ac_body_kind_t;

/** One part of a multipart body. Everything is copied. */
typedef struct ac_http_part {
  const char *name;
  const void *data;
  size_t len;
  const char *filename;     /* NULL: a plain field; else a file upload */
  const char *content_type; /* NULL: libcurl's choice */
} ac_http_part_t;

/**
 * What to send. Initialise with ac_request_opts_init, then set what you need.
 * The struct and everything it points to may be freed once the call that
 * takes it returns: it is all copied.
 */
typedef struct ac_request_opts {
  /** Absolute URL (http:// or https://). Required. */
  const char *url;
  /** Any method by name; NULL or "GET" gives GET. "HEAD" asks for no body. */
  const char *method;
  /** Query parameters appended to the URL, each key and value URL-encoded. */
  const ac_http_kv_t *params;
  size_t nparams;
  /** Request headers ("Accept", ...). A NULL value removes a default header.
   * Following a redirect, both paths send them as libcurl does: Authorization
   * and Cookie (these and the session's) only to the scheme, host and port
   * of the request's URL, and a Host of the caller's only to its host name
   * (elsewhere the target's own Host); a redirect elsewhere drops them, a
   * later one back there sends them again. */
  const ac_http_kv_t *headers;
  size_t nheaders;
  ac_body_kind_t body_kind;
  const void *body;          /* AC_BODY_BYTES, AC_BODY_JSON */
  size_t body_len;
  const char *content_type;  /* AC_BODY_BYTES */
  const ac_http_kv_t *fields; /* AC_BODY_FORM */
  size_t nfields;
  const ac_http_part_t *parts; /* AC_BODY_MULTIPART */
  size_t nparts;
  /** Whole request including redirects; 0: no limit (default 0). */
  uint64_t timeout_ms;
  /** Until connected (TCP and TLS); 0: libcurl's 300 s (default 30,000). */
  uint64_t connect_timeout_ms;
  /** Idle read: fail with AC_ETIMEDOUT when nothing arrives for this long,
   * counted from the start of the request and again from every piece of the
   * response received (a loop timer, precise to the loop's clock: sub-second
   * values work); 0: none (default 0). */
  uint64_t read_timeout_ms;
  /** Follow redirects (1, default) up to max_redirects (default 10; -1: no
   * limit); one more fails with AC_EREDIRECT. Not following, a 3xx is
   * returned as the response. */
  int follow_redirects;
  long max_redirects;
  /** The most body bytes accepted (after decompression); more fails with
   * AC_ETOOLARGE. 0 gives the default, 64 MiB. */
  size_t max_body;
  /** Ask for and decode gzip, deflate and br (1, default). */
  int decompress;
  /** Fail with AC_EHTTPSTATUS on a status >= 400 (0, default). */
  int raise_for_status;
} ac_request_opts_t;

AC_EXTERN void ac_request_opts_init(ac_request_opts_t *opts);

/**
 * AWAITS. Send a request and wait for the whole response; only the calling
 * task waits. Returns 0 and sets *out to a response the caller frees with
 * ac_response_free. On failure returns an AC_E* code (see the top of this
 * file), fills err if it is not NULL, and sets *out to NULL, except for
 * AC_EHTTPSTATUS where *out is the response (the caller frees it).
 *
 * Cancelling the task or an expiring ac_timeout scope aborts the transfer at
 * once and returns AC_ECANCELED / AC_ETIMEDOUT. A response that was complete
 * before the cancellation arrived is returned (0), and the cancellation goes
 * to the task's next await. AC_ENOTASK outside a task; AC_EINVAL for a
 * session of another loop.
 */
AC_EXTERN int ac_session_request(ac_session_t *session, const ac_request_opts_t *opts,
                                 ac_response_t **out, ac_http_error_t *err);

/**
 * Called once per ac_session_send that returned 0, from the loop's own stack
 * (never inside ac_session_send, never inside a libcurl callback), except
 * when the call is cancelled with ac_http_call_cancel: then it fires inside
 * that call. status is 0 or an AC_E* code; resp is the response (owned by the
 * callback now: free it with ac_response_free) or NULL on failure (except
 * AC_EHTTPSTATUS, which comes with its response). err is borrowed for the
 * duration of the call. The call handle is freed when the callback returns.
 */
typedef void (*ac_http_done_cb)(ac_session_t *session, int status, ac_response_t *resp,
                                const ac_http_error_t *err, void *userdata);

/**
 * Start a request; cb fires exactly once when it is over. If call is not NULL
 * it gets a handle usable until the callback runs (for ac_http_call_cancel).
 * Returns 0, or AC_EINVAL / AC_ENOMEM (then cb never fires). Callable from
 * tasks and from callbacks on the loop.
 */
AC_EXTERN int ac_session_send(ac_session_t *session, const ac_request_opts_t *opts,
                              ac_http_done_cb cb, void *userdata, ac_http_call_t **call);

/**
 * Abort a request in flight; its callback fires now with `status` (a negative
 * code, normally AC_ECANCELED). Returns 0, or AC_EINVAL if status >= 0.
 */
AC_EXTERN int ac_http_call_cancel(ac_http_call_t *call, int status);

/* -------------------------------------------------------------- response */

/** 200, 404, ... */
AC_EXTERN int ac_response_status(const ac_response_t *r);
/** The reason phrase of the status line ("OK"; "" for HTTP/2). Owned by r. */
AC_EXTERN const char *ac_response_reason(const ac_response_t *r);
/** 10, 11, 20 or 30 (HTTP/1.0 ... HTTP/3). */
AC_EXTERN int ac_response_http_version(const ac_response_t *r);
/** The URL after redirects. Owned by r. */
AC_EXTERN const char *ac_response_url(const ac_response_t *r);

/** The first value of header `name` (case-insensitive) of the final response,
 * or NULL. Owned by r. */
AC_EXTERN const char *ac_response_header(const ac_response_t *r, const char *name);
/** The index-th value (0-based) of a repeated header such as Set-Cookie, or NULL. */
AC_EXTERN const char *ac_response_header_nth(const ac_response_t *r, const char *name,
                                             size_t index);
/** The number of header lines, and each in order (name and value owned by r).
 * Returns 0, or AC_EINVAL past the end. */
AC_EXTERN size_t ac_response_header_count(const ac_response_t *r);
/** The target of the response's first link whose relation types include
 * rel (compared ignoring case), from every Link header field in order (RFC
 * 8288: several links per field, commas inside <...>, rel quoted or bare,
 * "next last" lists). A link with an anchor parameter is about another
 * resource and is skipped, as is a link-value that does not parse. A
 * relative target is resolved against this response's URL (its last one,
 * after redirects; RFC 3986 section 5), and otherwise taken as the site wrote
 * it, without encoding it again. 0 and *url (free it with ac_free);
 * AC_ENOENT: no such link; AC_EPROTO: a target that is not a URL;
 * AC_EINVAL: a NULL argument; AC_ENOMEM. */
AC_EXTERN int ac_response_link(const ac_response_t *r, const char *rel, char **url);
AC_EXTERN int ac_response_header_at(const ac_response_t *r, size_t i, const char **name,
                                    const char **value);

/** The body bytes (decompressed), owned by r; *len gets the length. Never NULL:
 * an empty body is "". The bytes are always followed by a NUL. */
AC_EXTERN const void *ac_response_body(const ac_response_t *r, size_t *len);
/** The body as text (NUL-terminated; it may contain NULs of its own). Owned by r. */
AC_EXTERN const char *ac_response_text(const ac_response_t *r);

/**
 * The body parsed as JSON with cJSON (parsed once, at the first call). Returns
 * 0 and sets *json to a tree BORROWED from the response: do not free or keep
 * it past ac_response_free. AC_EPARSE if the body is not JSON, AC_ENOMEM.
 */
AC_EXTERN int ac_response_json(ac_response_t *r, const struct cJSON **json);

/** Where the time went, in microseconds from the start of the request. */
typedef struct ac_http_timings {
  uint64_t dns_us;        /* name resolved */
  uint64_t connect_us;    /* TCP connected */
  uint64_t tls_us;        /* TLS handshake done (0 without TLS) */
  uint64_t first_byte_us; /* first response byte */
  uint64_t total_us;      /* whole transfer, redirects included */
  uint64_t redirect_us;   /* spent in redirects before the final request */
  long redirects;         /* redirects followed */
} ac_http_timings_t;
AC_EXTERN void ac_response_timings(const ac_response_t *r, ac_http_timings_t *t);

/** Free a response (and its JSON tree). NULL is a no-op. */
AC_EXTERN void ac_response_free(ac_response_t *r);

#ifdef __cplusplus
}
#endif
#endif /* ACRAWL_HTTP_H */
