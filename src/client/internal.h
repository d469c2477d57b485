/*
 * The HTTP client's private declarations, shared by the files of src/client/.
 *
 *   client.c    the session: libcurl's multi_socket interface on the loop
 *               (one uv_poll per socket, one uv_timer), completions, cancel;
 *   request.c   turning ac_request_opts_t into an easy handle (URL and
 *               params, method, headers, bodies, timeouts, limits);
 *   response.c  the response object, the write and header callbacks, the
 *               classification of libcurl's errors;
 *   headers.c   the header store: lines kept in order, looked up ignoring case;
 *   await.c     ac_session_request: the awaiting form over ac_session_send.
 */
#ifndef AC_CLIENT_INTERNAL_H
#define AC_CLIENT_INTERNAL_H

#include <curl/curl.h>
#include <uv.h>

#include "acrawl.h"
#include "common/alloc.h"
#include "common/dynbuf.h"
#include "common/list.h"
#include "runtime/ext.h"

/* Caps on what a server may make us store, besides the caller's max_body. */
#define AC__HTTP_MAX_HEADER_BYTES (256u * 1024u)
#define AC__HTTP_MAX_HEADER_LINES 1024u
#define AC__HTTP_MAX_URL (64u * 1024u)
#define AC__HTTP_DEFAULT_MAX_BODY ((size_t)64 * 1024 * 1024)

/* ------------------------------------------------------------ headers */

struct ac__header {
  char *name;  /* NUL-terminated, pointing into the store's buffer */
  char *value;
};

/* Header lines of one response, in arrival order. Names and values are
 * copied into one buffer; lines index into it by offset until frozen. */
struct ac__headers {
  struct ac__dynbuf buf;     /* name NUL value NUL ..., capped */
  size_t *offsets;           /* per line: name offset; the value follows its NUL */
  size_t nlines, lines_cap;
  struct ac__header *lines;  /* built by ac__headers_freeze */
};

void ac__headers_init(struct ac__headers *h);
void ac__headers_reset(struct ac__headers *h);
void ac__headers_free(struct ac__headers *h);
/* Add "Name: value" (without CRLF; surrounding blanks trimmed), or a line
 * that starts with a blank to the last value (obs-fold). Returns 0,
 * AC_EPROTO for a line without a colon (or a fold before any line),
 * AC_ETOOLARGE past the caps, AC_ENOMEM. */
int ac__headers_add_line(struct ac__headers *h, const char *line, size_t len);
/* Build the line array (after the last add). 0 or AC_ENOMEM. */
int ac__headers_freeze(struct ac__headers *h);
const char *ac__headers_get(const struct ac__headers *h, const char *name, size_t nth);
/* Parse a status line "HTTP/1.1 200 OK": 0 and *status and the reason span,
 * or AC_EPROTO. */
int ac__http_parse_status_line(const char *line, size_t len, int *status,
                               const char **reason, size_t *reason_len);

/* ------------------------------------------------------------ response */

struct ac_response {
  int status;
  int http_version;
  char *reason;
  char *url;
  struct ac__headers headers;
  struct ac__dynbuf body;    /* capped at max_body; NUL-terminated */
  size_t max_body;
  struct cJSON *json;
  int json_err;
  ac_http_timings_t timings;
  unsigned too_large : 1;    /* the write callback refused bytes past max_body */
  unsigned header_err : 1;   /* the header callback refused a line */
  int header_errcode;
};

ac_response_t *ac__response_new(size_t max_body);
/* The last steps of any response: reason and body never NULL, headers
 * frozen. 0 or AC_ENOMEM. */
int ac__response_complete(ac_response_t *r);
size_t ac__response_on_body(char *ptr, size_t size, size_t nmemb, void *userdata);
size_t ac__response_on_header(char *ptr, size_t size, size_t nmemb, void *userdata);
/* Fill status, URL, version and timings from a finished easy handle. */
int ac__response_finish(ac_response_t *r, CURL *easy);
/* A libcurl result as an AC_E* code; r may be NULL. */
int ac__http_classify(CURLcode rc, CURL *easy, const ac_response_t *r);
void ac__http_error_set(ac_http_error_t *err, int code, int curl_code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* ------------------------------------------------------------ session */

#define AC__SESSION_MAGIC 0x48545450u /* "HTTP" */

struct ac_session {
  uint32_t magic;
  ac_loop_t *loop;
  CURLM *multi;
  CURLSH *share;
  uv_timer_t timer;
  struct ac__list calls;     /* struct ac_http_call in flight */
  size_t ncalls;
  struct ac__list socks;     /* struct ac__http_sock with an open poll handle */
  struct ac__http_sock **byfd; /* poll handles by fd, parked ones included */
  size_t nbyfd;
  size_t nparked;            /* sockets of idle pooled connections */
  size_t max_idle;           /* CURLMOPT_MAXCONNECTS */
  struct ac__list pool;      /* finished calls kept for reuse, with their easy handle */
  size_t npool;
  char *user_agent;
  char *proxy;
  char *ca_file;
  struct curl_slist *default_headers; /* "Name: value" lines */
  int verify_peer, verify_host, http2, cookies;
  int native;                /* plain http:// may take the native path (h1.h) */
  int jar_used;              /* a cookie reached the jar: libcurl must send it */
  struct ac__list h1_idle;   /* idle native connections, oldest first */
  size_t h1_nidle;
  char *h1_buf;              /* the native path's read buffer */
  struct ac__h1_dns_entry *h1_dns; /* the native path's DNS cache */
  size_t h1_ndns;
  struct ac__soon reap;      /* completes calls marked failed, from the ready queue */
  unsigned in_curl : 1;      /* inside a libcurl call: no removal allowed */
  unsigned in_callback;      /* depth of user callbacks running */
  unsigned freeing : 1;      /* ac_session_free is cancelling the calls */
};

/* What a pooled easy handle was last given, so that a request sets only the
 * options that differ (request.c). Meaningless until `valid`. */
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

/* One request. Calls and their easy handles are pooled by the session
 * (AC__HTTP_POOLED_CALLS at most): making and configuring an easy handle
 * per request was a measurable share of the client's CPU per request. */
struct ac_http_call {
  struct ac__list node;      /* in session->calls, or in session->pool */
  ac_session_t *session;
  CURL *easy;
  struct curl_slist *headers; /* this request's own header list, or NULL */
  curl_mime *mime;
  ac_response_t *resp;
  ac_http_done_cb cb;
  void *userdata;
  int raise_for_status;
  int failed;                /* set inside libcurl (socket setup failed); reaped later */
  int dirty;                 /* method, body or a failed setup: reset before reuse */
  int reusable;              /* the transfer ended well: the handle may be pooled */
  uint64_t read_timeout_ms;  /* idle-read timeout of this request, 0: none */
  struct ac__timer read_timer; /* re-armed at every chunk received */
  struct ac__http_easy_set set;
  struct ac__h1_req *h1;     /* the native path's state, kept with the pooled call */
  int native;                /* in flight on the native path (else on libcurl) */
  long h1_redirects;         /* redirects followed natively before a hand-over */
  /* The request's headers already hold the session's, merged and filtered
   * for the target (a native request handed over to libcurl): not added again. */
  int defaults_merged;
  char errbuf[CURL_ERROR_SIZE];
};

#define AC__HTTP_POOLED_CALLS 256u
/* Past this many requests in flight, new transfers get a receive buffer of
 * AC__HTTP_SMALL_BUFFER bytes instead of libcurl's 16 KiB (request.c). */
#define AC__HTTP_BUSY_CALLS 256u
#define AC__HTTP_SMALL_BUFFER 1024L

/* Bytes arrived for call: its idle-read timer starts again (client.c). */
void ac__http_call_got_data(struct ac_http_call *call);

/* The open/close socket callbacks that keep poll handles in step with the
 * sockets libcurl opens and closes (client.c); set on every easy handle. */
void ac__http_set_socket_callbacks(ac_session_t *s, CURL *easy);

/* Set up call->easy from opts (request.c). 0 or an AC_E* code, with err filled. */
int ac__http_call_setup(struct ac_http_call *call, const ac_request_opts_t *opts,
                        ac_http_error_t *err);
/* Make a pooled call's handle ready for another request: forget what the
 * last request set beyond the session's options (request.c). */
void ac__http_call_recycle(struct ac_http_call *call);
/* Build url + "?" + encoded params into a new string (request.c). */
int ac__http_build_url(const char *url, const ac_http_kv_t *params, size_t n, char **out);
/* key=value&... with both URL-encoded (request.c). */
int ac__http_urlencode_pairs(const ac_http_kv_t *kv, size_t n, char **out);

/* ac_session_send with the failure's detail in err (may be NULL). */
int ac__session_send(ac_session_t *s, const ac_request_opts_t *opts, ac_http_done_cb cb,
                     void *userdata, ac_http_call_t **out, ac_http_error_t *err);

/* End a call: status 0 with call->resp complete (raise_for_status is
 * applied here) or an error with its detail. Runs the user's callback. */
void ac__http_call_end(struct ac_http_call *call, int status, ac_http_error_t *err);
/* Send the rest of a native call through libcurl (a redirect the native path
 * does not take). 0 or an AC_E* code with err filled. */
int ac__http_call_to_curl(struct ac_http_call *call, const ac_request_opts_t *o,
                          ac_http_error_t *err);

/* curl_global_init, once per process, thread-safe. 0 or AC_EIO. */
int ac__http_global_init(void);

#endif /* AC_CLIENT_INTERNAL_H */
