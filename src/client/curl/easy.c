/*
 * From ac_request_opts_t to a configured easy handle: the URL with its query
 * parameters, the method, headers (the session's defaults merged with the
 * request's), the body in one of its forms, timeouts and limits. Every
 * string is copied into the handle (COPYPOSTFIELDS, slists, mime parts) so
 * that the caller's options may be freed as soon as the call returns.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "client/curl/internal.h"

/* "Name" of a "Name: value" line equals name, ignoring case. */
static int line_has_name(const char *line, const char *name) {
  size_t n = strlen(name);
  return strncasecmp(line, name, n) == 0 && (line[n] == ':' || line[n] == ';');
}

static int request_has_header(const ac_request_opts_t *o, const char *name) {
  size_t i;
  for (i = 0; i < o->nheaders; i++)
    if (o->headers[i].key != NULL && strcasecmp(o->headers[i].key, name) == 0) return 1;
  return 0;
}

static int slist_add(struct curl_slist **list, const char *line) {
  struct curl_slist *n = curl_slist_append(*list, line);
  if (n == NULL) return AC_ENOMEM;
  *list = n;
  return 0;
}

static int slist_add_kv(struct curl_slist **list, const char *name, const char *value) {
  char stack_line[512], *line = stack_line;
  size_t need;
  int rc;
  /* A NULL value deletes a header libcurl would add ("Name:"); an empty one
   * is sent empty ("Name;" in libcurl's syntax). */
  need = strlen(name) + (value != NULL ? strlen(value) : 0) + 4;
  if (need > AC__HTTP_MAX_HEADER_BYTES) return AC_ETOOLARGE;
  if (need > sizeof(stack_line)) {
    line = ac__malloc(need);
    if (line == NULL) return AC_ENOMEM;
  }
  if (value == NULL)
    snprintf(line, need, "%s:", name);
  else if (value[0] == '\0')
    snprintf(line, need, "%s;", name);
  else
    snprintf(line, need, "%s: %s", name, value);
  rc = slist_add(list, line);
  if (line != stack_line) ac__free(line);
  return rc;
}

static int build_headers(struct ac_http_call *call, const ac_request_opts_t *o,
                         const char *content_type) {
  struct ac__curl_call *cc = ac__curl_call(call);
  const struct curl_slist *d;
  size_t i;
  int rc = 0;

  for (d = ac__curl_session(call->session)->default_headers;
       d != NULL && rc == 0 && !cc->all_headers; d = d->next) {
    int overridden = 0;
    for (i = 0; i < o->nheaders && !overridden; i++)
      overridden = o->headers[i].key != NULL && line_has_name(d->data, o->headers[i].key);
    if (!overridden) rc = slist_add(&cc->headers, d->data);
  }
  for (i = 0; i < o->nheaders && rc == 0; i++) {
    if (o->headers[i].key == NULL || o->headers[i].key[0] == '\0') return AC_EINVAL;
    rc = slist_add_kv(&cc->headers, o->headers[i].key, o->headers[i].value);
  }
  if (rc == 0 && content_type != NULL && !request_has_header(o, "Content-Type"))
    rc = slist_add_kv(&cc->headers, "Content-Type", content_type);
  /* libcurl waits up to a second for "100 Continue" before a large body;
   * most servers never send it. */
  if (rc == 0 && o->body_kind != AC_BODY_NONE && !request_has_header(o, "Expect"))
    rc = slist_add(&cc->headers, "Expect:");
  return rc;
}

static int setup_multipart(struct ac_http_call *call, const ac_request_opts_t *o) {
  struct ac__curl_call *cc = ac__curl_call(call);
  size_t i;
  cc->mime = curl_mime_init(cc->easy);
  if (cc->mime == NULL) return AC_ENOMEM;
  for (i = 0; i < o->nparts; i++) {
    const ac_http_part_t *p = &o->parts[i];
    curl_mimepart *part;
    if (p->name == NULL || (p->data == NULL && p->len > 0)) return AC_EINVAL;
    part = curl_mime_addpart(cc->mime);
    if (part == NULL) return AC_ENOMEM;
    if (curl_mime_name(part, p->name) != CURLE_OK ||
        curl_mime_data(part, p->data != NULL ? p->data : "", p->len) != CURLE_OK ||
        (p->filename != NULL && curl_mime_filename(part, p->filename) != CURLE_OK) ||
        (p->content_type != NULL && curl_mime_type(part, p->content_type) != CURLE_OK))
      return AC_ENOMEM;
  }
  return curl_easy_setopt(cc->easy, CURLOPT_MIMEPOST, cc->mime) == CURLE_OK ? 0 : AC_ENOMEM;
}

/* The body: returns the Content-Type to send (NULL: none or libcurl's). */
static int setup_body(struct ac_http_call *call, const ac_request_opts_t *o,
                      const char **content_type) {
  struct ac__curl_call *cc = ac__curl_call(call);
  CURL *e = cc->easy;
  char *form = NULL;
  int rc;

  *content_type = NULL;
  switch (o->body_kind) {
  case AC_BODY_NONE:
    if (o->method != NULL && strcmp(o->method, "POST") == 0) {
      curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
      curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, "");
    }
    return 0;
  case AC_BODY_BYTES:
  case AC_BODY_JSON:
    if (o->body == NULL && o->body_len > 0) return AC_EINVAL;
    *content_type = o->body_kind == AC_BODY_JSON ? "application/json"
                    : o->content_type != NULL    ? o->content_type
                                                 : "application/octet-stream";
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)o->body_len);
    return curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, o->body != NULL ? o->body : "") ==
                   CURLE_OK ? 0 : AC_ENOMEM;
  case AC_BODY_FORM:
    rc = ac__http_urlencode_pairs(o->fields, o->nfields, &form);
    if (rc != 0) return rc;
    *content_type = "application/x-www-form-urlencoded";
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(form));
    rc = curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, form) == CURLE_OK ? 0 : AC_ENOMEM;
    ac__free(form);
    return rc;
  case AC_BODY_MULTIPART:
    return setup_multipart(call, o);
  default:
    return AC_EINVAL;
  }
}

static int setup_method(CURL *e, const ac_request_opts_t *o) {
  const char *m = o->method;
  if (m == NULL || m[0] == '\0') m = "GET";
  if (strcmp(m, "HEAD") == 0) return curl_easy_setopt(e, CURLOPT_NOBODY, 1L) == CURLE_OK ? 0 : AC_EINVAL;
  if (strcmp(m, "GET") == 0 && o->body_kind == AC_BODY_NONE) return 0;
  /* POST with a body is what libcurl does for post fields or mime already;
   * anything else is named, and keeps its name on redirects. */
  if (strcmp(m, "POST") == 0) return 0;
  return curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, m) == CURLE_OK ? 0 : AC_ENOMEM;
}

/* The write and header callbacks get the call, which outlives its requests
 * in the pool; the response is the current request's. */
static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata) {
  struct ac_http_call *call = userdata;
  if (call->read_timeout_ms > 0) ac__http_call_got_data(call);
  return ac__response_on_body(ptr, size, nmemb, call->resp);
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *userdata) {
  struct ac_http_call *call = userdata;
  if (call->read_timeout_ms > 0) ac__http_call_got_data(call);
  /* A cookie in the jar: from now on the session's requests go through
   * libcurl, which sends it (the native path has no jar of its own). */
  if (call->session->cookies && size * nmemb > 11 && strncasecmp(ptr, "set-cookie:", 11) == 0)
    call->session->jar_used = 1;
  return ac__response_on_header(ptr, size, nmemb, call->resp);
}

/* What every transfer of the session has: set when the handle is made or
 * reset, not per request. */
static void setup_base(struct ac_http_call *call) {
  struct ac__curl_call *cc = ac__curl_call(call);
  ac_session_t *s = call->session;
  CURL *e = cc->easy;

  curl_easy_setopt(e, CURLOPT_PRIVATE, call);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, cc->errbuf);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, call);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, call);
  curl_easy_setopt(e, CURLOPT_SHARE, ac__curl_session(s)->share);
  ac__http_set_socket_callbacks(s, e);
  if (s->cookies) curl_easy_setopt(e, CURLOPT_COOKIEFILE, "");
  curl_easy_setopt(e, CURLOPT_USERAGENT, s->user_agent);
  /* "" means no proxy, whatever the environment says: like aiohttp's default
   * (trust_env=False), and it spares libcurl reading the proxy variables
   * again for every transfer. */
  curl_easy_setopt(e, CURLOPT_PROXY, s->proxy != NULL ? s->proxy : "");
  /* Likewise for the exceptions: without it libcurl reads no_proxy and
   * NO_PROXY from the environment for every transfer. */
  curl_easy_setopt(e, CURLOPT_NOPROXY, "");
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, s->verify_peer ? 1L : 0L);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, s->verify_host ? 2L : 0L);
  if (s->ca_file != NULL) curl_easy_setopt(e, CURLOPT_CAINFO, s->ca_file);
  /* HTTP/2 only where ALPN negotiates it (https); never h2c prior knowledge. */
  curl_easy_setopt(e, CURLOPT_HTTP_VERSION,
                   s->http2 ? (long)CURL_HTTP_VERSION_2TLS : (long)CURL_HTTP_VERSION_1_1);
}

/* The per-request options that most requests leave at their defaults: each
 * is set only when it differs from what the pooled handle already has. */
static void setup_limits(struct ac_http_call *call, const ac_request_opts_t *o) {
  struct ac__curl_call *cc = ac__curl_call(call);
  struct ac__http_easy_set *set = &cc->set;
  CURL *e = cc->easy;
  int all = !set->valid, fresh, forbid, small;

  if (all || set->decompress != o->decompress)
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, o->decompress ? "" : NULL);
  if (all || set->follow != o->follow_redirects)
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, o->follow_redirects ? 1L : 0L);
  if (all || set->max_redirects != o->max_redirects)
    curl_easy_setopt(e, CURLOPT_MAXREDIRS, o->max_redirects);
  if (all || set->max_body != call->resp->max_body)
    curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)call->resp->max_body);
  if (all || set->timeout_ms != o->timeout_ms)
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)o->timeout_ms);
  if (all || set->connect_timeout_ms != o->connect_timeout_ms)
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)o->connect_timeout_ms);
  /* No idle connection in the pool: nothing to reuse, so libcurl need not
   * look (7.88 walks every connection to the host, in use or not: quadratic
   * in a burst of thousands to one host). Plain http:// only: an HTTP/2
   * connection in use may still take another stream. */
  fresh = ac__curl_session(call->session)->nparked == 0 && strncasecmp(o->url, "http://", 7) == 0;
  if (all || set->fresh != fresh) curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, (long)fresh);
  set->fresh = fresh;
  /* More requests in flight than the pool keeps: libcurl 7.88 would close
   * this connection when the transfer ends anyway (the pool counts the
   * connections in use), after walking every connection to find the oldest
   * idle one, and curl_multi_remove_handle walks them again to find the
   * transfer's last connection. Closing it at the end skips both walks,
   * which made a burst of 10,000 quadratic. */
  forbid = call->session->ncalls + 1 > call->session->max_idle;
  if (all || set->forbid != forbid) curl_easy_setopt(e, CURLOPT_FORBID_REUSE, (long)forbid);
  set->forbid = forbid;
  /* libcurl's receive buffer (16 KiB by default) is allocated per transfer;
   * with thousands in flight it is most of the client's memory (a burst of
   * 10,000 peaked over 150 MB). Past AC__HTTP_BUSY_CALLS in flight a new
   * transfer gets a small one: more recv calls for a large body, much less
   * memory per transfer. */
  small = call->session->ncalls + 1 > AC__HTTP_BUSY_CALLS;
  if (all || set->small_buffer != small)
    curl_easy_setopt(e, CURLOPT_BUFFERSIZE, small ? AC__HTTP_SMALL_BUFFER : (long)CURL_MAX_WRITE_SIZE);
  set->small_buffer = small;
  set->decompress = o->decompress;
  set->follow = o->follow_redirects;
  set->max_redirects = o->max_redirects;
  set->max_body = call->resp->max_body;
  set->timeout_ms = o->timeout_ms;
  set->connect_timeout_ms = o->connect_timeout_ms;
}

static int setup_url(CURL *e, const ac_request_opts_t *o) {
  char *url = NULL;
  int rc;
  if (o->nparams == 0) { /* the common case: libcurl copies the URL as it is */
    if (strlen(o->url) > AC__HTTP_MAX_URL) return AC_ETOOLARGE;
    return curl_easy_setopt(e, CURLOPT_URL, o->url) == CURLE_OK ? 0 : AC_ENOMEM;
  }
  rc = ac__http_build_url(o->url, o->params, o->nparams, &url);
  if (rc == 0 && curl_easy_setopt(e, CURLOPT_URL, url) != CURLE_OK) rc = AC_ENOMEM;
  ac__free(url);
  return rc;
}

int ac__http_call_setup(struct ac_http_call *call, const ac_request_opts_t *o,
                        ac_http_error_t *err) {
  struct ac__curl_call *cc = ac__curl_call(call);
  ac_session_t *s = call->session;
  CURL *e = cc->easy;
  const char *content_type = NULL;
  const struct curl_slist *headers;
  int rc;

  if (o->url == NULL) {
    ac__http_error_set(err, AC_EINVAL, 0, "no URL");
    return AC_EINVAL;
  }
  if (!cc->set.valid) setup_base(call);
  rc = setup_url(e, o);
  if (rc != 0) {
    ac__http_error_set(err, rc, 0, "cannot build the URL: %s", ac_strerror(rc));
    return rc;
  }
  setup_limits(call, o);
  cc->set.valid = 1;
  /* A method or a body leaves options that the next request of this handle
   * would inherit: such a handle is reset before its next use. */
  if ((o->method != NULL && o->method[0] != '\0' && strcmp(o->method, "GET") != 0) ||
      o->body_kind != AC_BODY_NONE)
    cc->dirty = 1;
  rc = setup_method(e, o);
  if (rc == 0) rc = setup_body(call, o, &content_type);
  /* Without headers of its own, a request sends the session's list as it is. */
  if (rc == 0 && (o->nheaders > 0 || content_type != NULL || o->body_kind != AC_BODY_NONE ||
                  cc->all_headers))
    rc = build_headers(call, o, content_type);
  headers = cc->headers != NULL || cc->all_headers ? cc->headers
                                                         : ac__curl_session(s)->default_headers;
  if (rc == 0 && (headers != cc->set.headers || cc->headers != NULL)) {
    if (curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers) != CURLE_OK) rc = AC_ENOMEM;
    cc->set.headers = headers;
  }
  if (rc != 0) {
    cc->dirty = 1;
    ac__http_error_set(err, rc, 0, "bad request options: %s", ac_strerror(rc));
  }
  return rc;
}

void ac__http_call_recycle(struct ac_http_call *call) {
  struct ac__curl_call *cc = ac__curl_call(call);
  if (cc->easy == NULL) {
    /* Only ever native: nothing of libcurl's to reset. */
  } else if (cc->dirty) {
    /* libcurl 7.88's reset forgets the cookie file list without freeing it:
     * clear it first (with a shared jar, the cookies stay in the share). */
    if (call->session->cookies) curl_easy_setopt(cc->easy, CURLOPT_COOKIEFILE, NULL);
    curl_easy_reset(cc->easy);
    memset(&cc->set, 0, sizeof(cc->set));
  } else if (cc->headers != NULL) {
    /* The list is freed below: libcurl must not keep pointing at it. */
    curl_easy_setopt(cc->easy, CURLOPT_HTTPHEADER, NULL);
    cc->set.headers = NULL;
  }
  curl_mime_free(cc->mime);
  curl_slist_free_all(cc->headers);
  cc->mime = NULL;
  cc->headers = NULL;
  cc->dirty = 0;
  cc->all_headers = 0;
  cc->failed = 0;
  cc->errbuf[0] = '\0';
}
