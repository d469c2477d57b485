/*
 * The HTTP client's private declarations, shared by the files of src/client/.
 *
 *   client.c     the front: sessions, calls (pooled), completion, cancel,
 *                the idle-read timeout; offers each request to the
 *                transports (transport.h) in turn;
 *   request.c    ac_request_opts_t's defaults, URL parameters and form
 *                encoding, for every transport;
 *   response.c   the response object, fed line by line and chunk by chunk
 *                by the transports; ac_http_error_t's filling;
 *   headers.c    the header store: lines kept in order, looked up ignoring case;
 *   await.c      ac_session_request: the awaiting form over ac_session_send;
 *   transport.h  the interface between the front and the transports;
 *   curl/        the libcurl transport (curl/internal.h);
 *   h1/          the native HTTP/1.1 transport (h1/h1.h).
 */
#ifndef AC_CLIENT_INTERNAL_H
#define AC_CLIENT_INTERNAL_H

#include <uv.h>

#include "acrawl.h"
#include "common/alloc.h"
#include "common/dynbuf.h"
#include "common/list.h"
#include "client/transport.h"
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

/* The target of the first link-value of one Link field value whose rel
 * lists rel (link.c): 0 with *target and *len pointing into value, or
 * AC_ENOENT. */
int ac__link_find(const char *value, const char *rel, const char **target, size_t *len);

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
void ac__http_error_set(ac_http_error_t *err, int code, int curl_code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* ------------------------------------------------------------ session */

#define AC__SESSION_MAGIC 0x48545450u /* "HTTP" */

struct ac_session {
  uint32_t magic;
  ac_loop_t *loop;
  struct ac__list calls;     /* struct ac_http_call in flight */
  size_t ncalls;
  struct ac__list pool;      /* finished calls kept for reuse, with their transports' state */
  size_t npool;
  /* The session's options, for the transports to apply. */
  size_t max_idle;           /* idle connections kept, per transport */
  char *user_agent;
  char *proxy;
  char *ca_file;
  char **default_headers;    /* "Name: value" lines */
  size_t ndefault_headers;
  int verify_peer, verify_host, http2, cookies;
  int jar_used;              /* a cookie reached the jar: only libcurl sends it */
  void *transport[AC__HTTP_NTRANSPORTS]; /* each transport's state (transport.h) */
  unsigned in_transport : 1; /* inside a transport's library (libcurl): no call may end */
  unsigned in_callback;      /* depth of user callbacks running */
  unsigned freeing : 1;      /* ac_session_free is cancelling the calls */
};

/* One request. Calls are pooled by the session (AC__HTTP_POOLED_CALLS at
 * most) with their transports' state: making and configuring an easy handle
 * per request was a measurable share of the client's CPU per request. */
struct ac_http_call {
  struct ac__list node;      /* in session->calls, or in session->pool */
  ac_session_t *session;
  const ac__http_transport_t *tp; /* the transport running it; NULL: none */
  void *transport[AC__HTTP_NTRANSPORTS]; /* each transport's state of it, or NULL */
  ac_response_t *resp;
  ac_http_done_cb cb;
  void *userdata;
  int raise_for_status;
  uint64_t read_timeout_ms;  /* idle-read timeout of this request, 0: none */
  struct ac__timer read_timer; /* re-armed at every chunk received */
  long redirects_before;     /* redirects followed by the transport that handed it over */
};

#define AC__HTTP_POOLED_CALLS 256u

/* Build url + "?" + encoded params into a new string (request.c). */
int ac__http_build_url(const char *url, const ac_http_kv_t *params, size_t n, char **out);
/* key=value&... with both URL-encoded (request.c). */
int ac__http_urlencode_pairs(const ac_http_kv_t *kv, size_t n, char **out);

/* ac_session_send with the failure's detail in err (may be NULL). */
int ac__session_send(ac_session_t *s, const ac_request_opts_t *opts, ac_http_done_cb cb,
                     void *userdata, ac_http_call_t **out, ac_http_error_t *err);

#endif /* AC_CLIENT_INTERNAL_H */
