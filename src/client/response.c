/*
 * Responses: built while libcurl writes the headers and the body, completed
 * when the transfer ends, then handed to the caller. Also the one place where
 * libcurl's results become acrawl's error codes.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "client/internal.h"

ac_response_t *ac__response_new(size_t max_body) {
  ac_response_t *r = ac__calloc(1, sizeof(*r));
  if (r == NULL) return NULL;
  ac__headers_init(&r->headers);
  r->max_body = max_body != 0 ? max_body : AC__HTTP_DEFAULT_MAX_BODY;
  ac__dynbuf_init(&r->body, r->max_body);
  return r;
}

void ac_response_free(ac_response_t *r) {
  if (r == NULL) return;
  if (r->json != NULL) cJSON_Delete(r->json);
  ac__headers_free(&r->headers);
  ac__dynbuf_free(&r->body);
  ac__free(r->reason);
  ac__free(r->url);
  ac__free(r);
}

/* CURLOPT_WRITEFUNCTION. Returning less than asked makes libcurl fail the
 * transfer (CURLE_WRITE_ERROR); too_large tells the classifier why. */
size_t ac__response_on_body(char *ptr, size_t size, size_t nmemb, void *userdata) {
  ac_response_t *r = userdata;
  size_t n = size * nmemb;
  int rc = ac__dynbuf_add(&r->body, ptr, n);

  if (rc == 0) return n;
  if (rc == AC_ETOOLARGE) r->too_large = 1; /* else reported as AC_ENOMEM */
  return 0;
}

/* A Content-Length announces the body: allocate it once rather than grow it
 * (an encoded body may still grow, geometrically, past it). */
static void size_hint(ac_response_t *r, const char *v, size_t n) {
  size_t len = 0, i = 0;
  while (i < n && (v[i] == ' ' || v[i] == '\t')) i++;
  for (; i < n && v[i] >= '0' && v[i] <= '9'; i++) {
    if (len > (SIZE_MAX - 9) / 10) return;
    len = len * 10 + (size_t)(v[i] - '0');
  }
  /* Never past max_body (the write callback refuses that), nor for a body
   * already started, nor past 1 MiB: a server that announces much and sends
   * nothing must not make every request reserve that much. */
  if (len == 0 || len > r->max_body || len > ((size_t)1 << 20) ||
      ac__dynbuf_len(&r->body) != 0)
    return;
  /* Out of memory here is not the body's failure: the write callback will
   * try again, and report it. */
  if (ac__dynbuf_reserve(&r->body, len) != 0) ac__dynbuf_reset(&r->body);
}

/* CURLOPT_HEADERFUNCTION: one line at a time, the status line included, for
 * every response of the transfer (redirects, 100 Continue). */
size_t ac__response_on_header(char *ptr, size_t size, size_t nmemb, void *userdata) {
  ac_response_t *r = userdata;
  size_t n = size * nmemb;
  const char *reason;
  size_t reason_len;
  int status, rc;

  if (n >= 5 && memcmp(ptr, "HTTP/", 5) == 0) {
    if (ac__http_parse_status_line(ptr, n, &status, &reason, &reason_len) != 0) return n;
    ac__headers_reset(&r->headers);
    ac__free(r->reason);
    r->reason = ac__malloc(reason_len + 1);
    if (r->reason == NULL) {
      r->header_err = 1;
      r->header_errcode = AC_ENOMEM;
      return 0;
    }
    memcpy(r->reason, reason, reason_len);
    r->reason[reason_len] = '\0';
    r->status = status;
    return n;
  }
  if (n <= 2 && (ptr[0] == '\r' || ptr[0] == '\n')) return n; /* end of a header block */
  if (n > 15 && strncasecmp(ptr, "content-length:", 15) == 0) size_hint(r, ptr + 15, n - 15);
  rc = ac__headers_add_line(&r->headers, ptr, n);
  if (rc == AC_EPROTO) return n; /* libcurl accepted it; so do we, without storing it */
  if (rc != 0) {
    r->header_err = 1;
    r->header_errcode = rc;
    return 0;
  }
  return n;
}

static uint64_t info_us(CURL *easy, CURLINFO what) {
  curl_off_t v = 0;
  if (curl_easy_getinfo(easy, what, &v) != CURLE_OK || v < 0) return 0;
  return (uint64_t)v;
}

int ac__response_finish(ac_response_t *r, CURL *easy) {
  long code = 0, version = 0;
  char *url = NULL;

  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
  if (code != 0) r->status = (int)code;
  curl_easy_getinfo(easy, CURLINFO_HTTP_VERSION, &version);
  switch (version) {
  case CURL_HTTP_VERSION_1_0: r->http_version = 10; break;
  case CURL_HTTP_VERSION_2_0: r->http_version = 20; break;
  case CURL_HTTP_VERSION_3: r->http_version = 30; break;
  default: r->http_version = 11; break;
  }
  curl_easy_getinfo(easy, CURLINFO_EFFECTIVE_URL, &url);
  r->url = ac__strdup(url != NULL ? url : "");
  r->timings.dns_us = info_us(easy, CURLINFO_NAMELOOKUP_TIME_T);
  r->timings.connect_us = info_us(easy, CURLINFO_CONNECT_TIME_T);
  r->timings.tls_us = info_us(easy, CURLINFO_APPCONNECT_TIME_T);
  r->timings.first_byte_us = info_us(easy, CURLINFO_STARTTRANSFER_TIME_T);
  r->timings.total_us = info_us(easy, CURLINFO_TOTAL_TIME_T);
  r->timings.redirect_us = info_us(easy, CURLINFO_REDIRECT_TIME_T);
  curl_easy_getinfo(easy, CURLINFO_REDIRECT_COUNT, &r->timings.redirects);
  if (r->url == NULL) return AC_ENOMEM;
  return ac__response_complete(r);
}

int ac__response_complete(ac_response_t *r) {
  if (r->reason == NULL) r->reason = ac__strdup("");
  /* No body at all (HEAD, 204, 304) is "", never NULL. */
  if (ac__dynbuf_ptr(&r->body) == NULL) ac__dynbuf_reserve(&r->body, 0);
  if (r->reason == NULL || ac__dynbuf_ptr(&r->body) == NULL) return AC_ENOMEM;
  return ac__headers_freeze(&r->headers);
}

/* A failed connect or receive: what the socket said, when it said anything. */
static int from_os_errno(CURL *easy, int fallback) {
  long os = 0;
  if (easy != NULL) curl_easy_getinfo(easy, CURLINFO_OS_ERRNO, &os);
  switch (os) {
  case 0: return fallback;
  case ECONNREFUSED: return AC_ECONNREFUSED;
  case ECONNRESET: return AC_ECONNRESET;
  case EPIPE: return AC_ECONNRESET;
  case ETIMEDOUT: return AC_ETIMEDOUT;
  default: return (int)-os;
  }
}

/* The transfer reached a server (a new or a reused connection). */
static int connected(CURL *easy) {
  char *ip = NULL;
  return easy != NULL && curl_easy_getinfo(easy, CURLINFO_PRIMARY_IP, &ip) == CURLE_OK &&
         ip != NULL && ip[0] != '\0';
}

int ac__http_classify(CURLcode rc, CURL *easy, const ac_response_t *r) {
  switch (rc) {
  case CURLE_OK: return 0;
  case CURLE_COULDNT_RESOLVE_HOST:
  case CURLE_COULDNT_RESOLVE_PROXY: return AC_EDNS;
  case CURLE_COULDNT_CONNECT: return from_os_errno(easy, AC_ECONNREFUSED);
  case CURLE_OPERATION_TIMEDOUT: return AC_ETIMEDOUT;
  case CURLE_SEND_ERROR:
  case CURLE_RECV_ERROR: return from_os_errno(easy, AC_ECONNRESET);
  case CURLE_GOT_NOTHING: return AC_ECONNRESET;
  case CURLE_PARTIAL_FILE: return AC_ESHORT;
  case CURLE_TOO_MANY_REDIRECTS: return AC_EREDIRECT;
  case CURLE_FILESIZE_EXCEEDED: return AC_ETOOLARGE;
  case CURLE_WRITE_ERROR:
    if (r != NULL && r->too_large) return AC_ETOOLARGE;
    return AC_ENOMEM; /* our write callback only refuses for size or memory */
  case CURLE_OUT_OF_MEMORY: return AC_ENOMEM;
  case CURLE_ABORTED_BY_CALLBACK: return AC_ECANCELED;
  case CURLE_SSL_CONNECT_ERROR:
  case CURLE_PEER_FAILED_VERIFICATION:
  case CURLE_SSL_CERTPROBLEM:
  case CURLE_SSL_CIPHER:
  case CURLE_SSL_CACERT_BADFILE:
  case CURLE_SSL_ISSUER_ERROR:
  case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
  case CURLE_SSL_INVALIDCERTSTATUS:
  case CURLE_SSL_CRL_BADFILE:
  case CURLE_SSL_ENGINE_NOTFOUND:
  case CURLE_SSL_ENGINE_SETFAILED:
  case CURLE_SSL_ENGINE_INITFAILED:
  case CURLE_SSL_SHUTDOWN_FAILED:
  case CURLE_USE_SSL_FAILED: return AC_ETLS;
  case CURLE_WEIRD_SERVER_REPLY:
  case CURLE_HTTP2:
  case CURLE_HTTP2_STREAM:
  case CURLE_HTTP3:
  case CURLE_BAD_CONTENT_ENCODING:
  case CURLE_RANGE_ERROR: return AC_EPROTO;
  case CURLE_UNSUPPORTED_PROTOCOL:
    /* Also what libcurl says of a reply that is not HTTP/1.x ("HTTP/0.9 not
     * allowed"): once connected, that is the server's fault, not the URL's. */
    return connected(easy) ? AC_EPROTO : AC_EINVAL;
  case CURLE_URL_MALFORMAT:
  case CURLE_BAD_FUNCTION_ARGUMENT: return AC_EINVAL;
  default: return AC_EIO;
  }
}

void ac__http_error_set(ac_http_error_t *err, int code, int curl_code, const char *fmt, ...) {
  va_list ap;
  if (err == NULL) return;
  err->code = code;
  err->curl_code = curl_code;
  va_start(ap, fmt);
  vsnprintf(err->message, sizeof(err->message), fmt, ap);
  va_end(ap);
  if (err->message[0] == '\0') snprintf(err->message, sizeof(err->message), "%s", ac_strerror(code));
}

/* ------------------------------------------------------------ accessors */

int ac_response_status(const ac_response_t *r) { return r->status; }
const char *ac_response_reason(const ac_response_t *r) { return r->reason; }
int ac_response_http_version(const ac_response_t *r) { return r->http_version; }
const char *ac_response_url(const ac_response_t *r) { return r->url; }

const char *ac_response_header(const ac_response_t *r, const char *name) {
  return ac__headers_get(&r->headers, name, 0);
}

const char *ac_response_header_nth(const ac_response_t *r, const char *name, size_t index) {
  return ac__headers_get(&r->headers, name, index);
}

size_t ac_response_header_count(const ac_response_t *r) { return r->headers.nlines; }

int ac_response_header_at(const ac_response_t *r, size_t i, const char **name,
                          const char **value) {
  if (i >= r->headers.nlines || r->headers.lines == NULL) return AC_EINVAL;
  if (name != NULL) *name = r->headers.lines[i].name;
  if (value != NULL) *value = r->headers.lines[i].value;
  return 0;
}

const void *ac_response_body(const ac_response_t *r, size_t *len) {
  if (len != NULL) *len = ac__dynbuf_len(&r->body);
  return ac__dynbuf_ptr(&r->body);
}

const char *ac_response_text(const ac_response_t *r) { return ac__dynbuf_ptr(&r->body); }

int ac_response_json(ac_response_t *r, const struct cJSON **json) {
  if (r == NULL || json == NULL) return AC_EINVAL;
  *json = NULL;
  if (r->json == NULL && r->json_err == 0) {
    r->json = cJSON_ParseWithLength(ac__dynbuf_ptr(&r->body), ac__dynbuf_len(&r->body));
    /* cJSON does not tell a syntax error from a failed allocation (its
     * error pointer is a process-wide global): both are reported as input
     * that could not be parsed. */
    if (r->json == NULL) r->json_err = AC_EPARSE;
  }
  if (r->json == NULL) return r->json_err;
  *json = r->json;
  return 0;
}

void ac_response_timings(const ac_response_t *r, ac_http_timings_t *t) { *t = r->timings; }
