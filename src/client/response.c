/*
 * Responses: built while a transport writes the headers and the body,
 * completed when the transfer ends, then handed to the caller. The write and
 * header callbacks have libcurl's signature; the native transport calls them
 * the same way.
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

int ac__response_complete(ac_response_t *r) {
  if (r->reason == NULL) r->reason = ac__strdup("");
  /* No body at all (HEAD, 204, 304) is "", never NULL. */
  if (ac__dynbuf_ptr(&r->body) == NULL) ac__dynbuf_reserve(&r->body, 0);
  if (r->reason == NULL || ac__dynbuf_ptr(&r->body) == NULL) return AC_ENOMEM;
  return ac__headers_freeze(&r->headers);
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
