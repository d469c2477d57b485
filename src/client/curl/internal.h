/*
 * The libcurl transport: every request the native one does not take (TLS,
 * HTTP/2, proxies, cookies in the jar, multipart bodies, unusual URLs), and
 * the rest of a native request handed over mid-way.
 *
 *   multi.c   the session's multi handle on the loop (one uv_poll per
 *             socket, one uv_timer), the transport's entry points, the end
 *             of a transfer;
 *   easy.c    turning ac_request_opts_t into an easy handle (URL and
 *             params, method, headers, bodies, timeouts, limits);
 *   result.c  a finished transfer's response details, and libcurl's
 *             results as AC_E* codes.
 */
#ifndef AC_CLIENT_CURL_INTERNAL_H
#define AC_CLIENT_CURL_INTERNAL_H

#include <curl/curl.h>

#include "client/internal.h"

/* The session's libcurl state (s->transport[AC__HTTP_CURL]). */
struct ac__curl_session {
  ac_session_t *session;
  ac_loop_t *loop;           /* the session may be gone when the timer's close completes */
  CURLM *multi;
  CURLSH *share;
  uv_timer_t timer;          /* libcurl's timeout; referenced while transfers run */
  size_t ntransfers;         /* calls on this transport now */
  struct ac__list socks;     /* struct ac__curl_sock with an open poll handle */
  struct ac__curl_sock **byfd; /* poll handles by fd, parked ones included */
  size_t nbyfd;
  size_t nparked;            /* sockets of idle pooled connections */
  struct curl_slist *default_headers; /* the session's, as libcurl takes them */
  struct ac__soon reap;      /* completes calls marked failed, from the ready queue */
};

/* What a pooled easy handle was last given, so that a request sets only the
 * options that differ (easy.c). Meaningless until `valid`. */
struct ac__http_easy_set {
  int valid;
  int decompress, follow;
  long max_redirects;
  size_t max_body;
  uint64_t timeout_ms, connect_timeout_ms;
  int fresh;                        /* CURLOPT_FRESH_CONNECT */
  int forbid;                       /* CURLOPT_FORBID_REUSE */
  int small_buffer;                 /* CURLOPT_BUFFERSIZE is AC__HTTP_SMALL_BUFFER */
  const struct curl_slist *headers; /* CURLOPT_HTTPHEADER now */
};

/* A call's libcurl state (call->transport[AC__HTTP_CURL]), kept with the
 * pooled call, its easy handle with it. */
struct ac__curl_call {
  CURL *easy;
  struct curl_slist *headers; /* this request's own header list, or NULL */
  curl_mime *mime;
  int failed;                /* set inside libcurl (socket setup failed); reaped later */
  int dirty;                 /* method, body or a failed setup: reset before reuse */
  int reusable;              /* the transfer ended well: the handle may be used again */
  int added;                 /* in the multi handle */
  int all_headers;           /* start's AC__HTTP_ALL_HEADERS: no session defaults added */
  struct ac__http_easy_set set;
  char errbuf[CURL_ERROR_SIZE];
};

static inline struct ac__curl_session *ac__curl_session(const ac_session_t *s) {
  return (struct ac__curl_session *)s->transport[AC__HTTP_CURL];
}

static inline struct ac__curl_call *ac__curl_call(const struct ac_http_call *call) {
  return (struct ac__curl_call *)call->transport[AC__HTTP_CURL];
}

/* Past this many requests in flight, new transfers get a receive buffer of
 * AC__HTTP_SMALL_BUFFER bytes instead of libcurl's 16 KiB (easy.c). */
#define AC__HTTP_BUSY_CALLS 256u
#define AC__HTTP_SMALL_BUFFER 1024L

/* curl_global_init, once per process, thread-safe. 0 or AC_EIO. */
int ac__http_global_init(void);

/* The open/close socket callbacks that keep poll handles in step with the
 * sockets libcurl opens and closes (multi.c); set on every easy handle. */
void ac__http_set_socket_callbacks(ac_session_t *s, CURL *easy);

/* Set up the call's easy handle from opts (easy.c). 0 or an AC_E* code,
 * with err filled. */
int ac__http_call_setup(struct ac_http_call *call, const ac_request_opts_t *opts,
                        ac_http_error_t *err);
/* Make a pooled call's handle ready for another request: forget what the
 * last request set beyond the session's options (easy.c). */
void ac__http_call_recycle(struct ac_http_call *call);

/* The share holding the session's cookie jar (multi.c). */
CURLSH *ac__curl_share(ac_session_t *s);

/* Fill status, URL, version and timings from a finished easy handle (result.c). */
int ac__response_finish(ac_response_t *r, CURL *easy);
/* A libcurl result as an AC_E* code; r may be NULL (result.c). */
int ac__http_classify(CURLcode rc, CURL *easy, const ac_response_t *r);

#endif /* AC_CLIENT_CURL_INTERNAL_H */
