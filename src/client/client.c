/*
 * The client's front: sessions, calls, completion, cancel. A request is
 * offered to the session's transports in turn (transport.h): the native
 * HTTP/1.1 one first, libcurl's for the rest. Whatever transport runs a
 * call, it ends here (ac__http_call_end): the transport lets go of it, then
 * the user's callback runs, on the loop's own stack, and the call goes back
 * to the session's pool.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/internal.h"

/* The transports, in slot order (transport.h). */
static const ac__http_transport_t *const transports[AC__HTTP_NTRANSPORTS] = {
    [AC__HTTP_H1] = &ac__http_h1,
    [AC__HTTP_CURL] = &ac__http_curl,
};

void ac_session_opts_init(ac_session_opts_t *o) {
  memset(o, 0, sizeof(*o));
  o->verify_peer = 1;
  o->verify_host = 1;
  o->http2 = 1;
  o->cookies = 1;
  o->native_http1 = 1;
}

/* --------------------------------------------------------- completion */

static void call_destroy(struct ac_http_call *call) {
  size_t i;
  for (i = 0; i < AC__HTTP_NTRANSPORTS; i++)
    if (call->transport[i] != NULL) transports[i]->call_free(call);
  ac_response_free(call->resp);
  ac__free(call);
}

/* A finished call goes back to the session's pool (up to a cap) with its
 * transports' state (libcurl's easy handle among it). */
static void call_free(struct ac_http_call *call) {
  ac_session_t *s = call->session;
  ac_response_free(call->resp);
  call->resp = NULL;
  if (s->npool >= AC__HTTP_POOLED_CALLS) {
    call_destroy(call);
    return;
  }
  call->cb = NULL;
  call->userdata = NULL;
  ac__list_insert_tail(&s->pool, &call->node);
  s->npool++;
}

static void on_read_timeout(struct ac__timer *t);

/* A call from the pool, or a new one; NULL when out of memory. */
static struct ac_http_call *call_get(ac_session_t *s) {
  struct ac_http_call *call;
  if (s->npool > 0) { /* the most recently used: its memory is likely cached */
    call = ac__container_of(s->pool.prev, struct ac_http_call, node);
    ac__list_remove(&call->node);
    s->npool--;
    return call;
  }
  call = ac__calloc(1, sizeof(*call));
  if (call == NULL) return NULL;
  call->session = s;
  ac__timer_init(&call->read_timer, on_read_timeout);
  return call;
}

/* Detach call from its transport and the session, then fire its callback once. */
static void call_complete(struct ac_http_call *call, int status, ac_http_error_t *err) {
  ac_session_t *s = call->session;
  ac_response_t *resp = NULL;

  /* An internal invariant: no user code runs inside libcurl, so nothing can
   * cancel from there. */
  assert(!s->in_transport);
  ac__timer_stop(s->loop, &call->read_timer);
  if (call->tp != NULL) call->tp->detach(call);
  call->tp = NULL;
  ac__list_remove(&call->node);
  s->ncalls--;
  if (status == 0 || status == AC_EHTTPSTATUS) {
    resp = call->resp;
    call->resp = NULL;
  }
  s->in_callback++;
  call->cb(s, status, resp, err, call->userdata);
  s->in_callback--;
  call_free(call);
}

/* The idle-read timeout: libcurl's own (a low-speed limit) counts whole
 * seconds; this one is a loop timer, started with the transfer and again at
 * every chunk received, so that sub-second values mean what they say. It
 * fires on the loop's stack, outside any transport's library. */
static void on_read_timeout(struct ac__timer *t) {
  struct ac_http_call *call = ac__container_of(t, struct ac_http_call, read_timer);
  ac_http_error_t err = {0};
  ac__http_error_set(&err, AC_ETIMEDOUT, 0, "nothing received for %llu ms (read timeout)",
                     (unsigned long long)call->read_timeout_ms);
  call_complete(call, AC_ETIMEDOUT, &err);
}

void ac__http_call_got_data(struct ac_http_call *call) {
  ac__timer_start(call->session->loop, &call->read_timer, call->read_timeout_ms);
}

void ac__http_call_end(struct ac_http_call *call, int status, ac_http_error_t *err) {
  ac_http_error_t e = {0};
  ac_response_t *r = call->resp;
  if (status == 0 && call->raise_for_status && r->status >= 400) {
    status = AC_EHTTPSTATUS;
    ac__http_error_set(&e, status, 0, "HTTP status %d %s", r->status, r->reason);
    err = &e;
  }
  call_complete(call, status, status == 0 ? NULL : err);
}

int ac__http_call_hand_over(struct ac_http_call *call, int slot, const ac_request_opts_t *o,
                            int flags, ac_http_error_t *err) {
  int rc;
  call->tp = NULL;
  if (call->session->transport[slot] == NULL) {
    ac__http_error_set(err, AC_EINVAL, 0, "no transport for the rest of the request");
    return AC_EINVAL;
  }
  rc = transports[slot]->start(call, o, flags, err);
  if (rc == 1) {
    rc = AC_EINVAL;
    ac__http_error_set(err, rc, 0, "no transport for the rest of the request");
  }
  if (rc == 0) call->tp = transports[slot];
  return rc;
}

/* ------------------------------------------------------------- session */

static int copy_opt(const char *in, char **out) {
  *out = NULL;
  if (in == NULL) return 0;
  *out = ac__strdup(in);
  return *out != NULL ? 0 : AC_ENOMEM;
}

/* Close the transports and free what the session holds; no call in flight. */
static void session_destroy(ac_session_t *s) {
  size_t i;
  /* Pooled calls first: their transport state (easy handles holding
   * libcurl's share) goes before the transports' own. */
  while (!ac__list_empty(&s->pool)) {
    struct ac_http_call *call = ac__container_of(s->pool.next, struct ac_http_call, node);
    ac__list_remove(&call->node);
    call_destroy(call);
  }
  s->npool = 0;
  for (i = 0; i < AC__HTTP_NTRANSPORTS; i++)
    if (s->transport[i] != NULL) transports[i]->close(s);
  for (i = 0; i < s->ndefault_headers; i++) ac__free(s->default_headers[i]);
  ac__free(s->default_headers);
  ac__free(s->user_agent);
  ac__free(s->proxy);
  ac__free(s->ca_file);
  ac__free(s);
}

static int session_setup(ac_session_t *s, const ac_session_opts_t *o) {
  char ua[64];
  size_t i;
  int rc;

  s->verify_peer = o->verify_peer;
  s->verify_host = o->verify_host;
  s->http2 = o->http2;
  s->cookies = o->cookies;
  s->max_idle = o->max_idle_connections != 0 ? o->max_idle_connections : 256;
  snprintf(ua, sizeof(ua), "acrawl/%s", ac_version());
  rc = copy_opt(o->user_agent != NULL ? o->user_agent : ua, &s->user_agent);
  if (rc == 0) rc = copy_opt(o->proxy, &s->proxy);
  if (rc == 0) rc = copy_opt(o->ca_file, &s->ca_file);
  if (rc == 0 && o->nheaders > 0) {
    s->default_headers = ac__calloc(o->nheaders, sizeof(*s->default_headers));
    if (s->default_headers == NULL) rc = AC_ENOMEM;
  }
  for (i = 0; i < o->nheaders && rc == 0; i++) {
    char line[1024];
    if (o->headers[i].key == NULL || o->headers[i].value == NULL) return AC_EINVAL;
    if ((size_t)snprintf(line, sizeof(line), "%s: %s", o->headers[i].key,
                         o->headers[i].value) >= sizeof(line))
      return AC_ETOOLARGE;
    if ((s->default_headers[i] = ac__strdup(line)) == NULL) return AC_ENOMEM;
    s->ndefault_headers++;
  }
  for (i = 0; i < AC__HTTP_NTRANSPORTS && rc == 0; i++)
    rc = transports[i]->open(s, o, &s->transport[i]);
  return rc;
}

int ac_session_new(ac_loop_t *loop, const ac_session_opts_t *opts, ac_session_t **out) {
  ac_session_opts_t defaults;
  ac_session_t *s;
  int rc;

  if (out != NULL) *out = NULL;
  if (loop == NULL || out == NULL) return AC_EINVAL;
  if (opts == NULL) {
    ac_session_opts_init(&defaults);
    opts = &defaults;
  }
  s = ac__calloc(1, sizeof(*s));
  if (s == NULL) return AC_ENOMEM;
  s->magic = AC__SESSION_MAGIC;
  s->loop = loop;
  ac__list_init(&s->calls);
  ac__list_init(&s->pool);
  rc = session_setup(s, opts);
  if (rc != 0) {
    session_destroy(s);
    return rc;
  }
  *out = s;
  return 0;
}

int ac_session_free(ac_session_t *s) {
  if (s == NULL) return 0;
  if (s->magic != AC__SESSION_MAGIC) return AC_EINVAL;
  if (s->in_callback > 0 || s->in_transport || s->freeing) return AC_EBUSY;
  /* Requests in flight are cancelled: each callback fires now with
   * AC_ECANCELED (an awaiting task is woken with it). A callback cannot
   * start a request on this session meanwhile (ac_session_send refuses). */
  s->freeing = 1;
  while (!ac__list_empty(&s->calls)) {
    struct ac_http_call *call = ac__container_of(s->calls.next, struct ac_http_call, node);
    ac_http_error_t err = {0};
    ac__http_error_set(&err, AC_ECANCELED, 0, "the session was freed");
    call_complete(call, AC_ECANCELED, &err);
  }
  s->magic = 0;
  /* The transports' handles finish closing at the loop's next turn. */
  session_destroy(s);
  return 0;
}

size_t ac_session_in_flight(const ac_session_t *s) { return s->ncalls; }

/* ------------------------------------------------------------ requests */

int ac__session_send(ac_session_t *s, const ac_request_opts_t *opts, ac_http_done_cb cb,
                     void *userdata, ac_http_call_t **out, ac_http_error_t *err) {
  struct ac_http_call *call;
  size_t i;
  int rc;

  if (out != NULL) *out = NULL;
  if (s == NULL || s->magic != AC__SESSION_MAGIC || opts == NULL || cb == NULL)
    return AC_EINVAL;
  if (s->freeing) {
    ac__http_error_set(err, AC_ECANCELED, 0, "the session is being freed");
    return AC_ECANCELED;
  }
  call = call_get(s);
  if (call == NULL) {
    ac__http_error_set(err, AC_ENOMEM, 0, "cannot allocate the request");
    return AC_ENOMEM;
  }
  call->cb = cb;
  call->userdata = userdata;
  call->raise_for_status = opts->raise_for_status;
  ac__list_init(&call->node);
  call->resp = ac__response_new(opts->max_body);
  if (call->resp == NULL) {
    call_free(call);
    ac__http_error_set(err, AC_ENOMEM, 0, "cannot allocate the request");
    return AC_ENOMEM;
  }
  call->tp = NULL;
  call->redirects_before = 0;
  ac__list_insert_tail(&s->calls, &call->node);
  s->ncalls++;
  /* The first transport that takes it; libcurl's, last, takes anything. */
  rc = 1;
  for (i = 0; i < AC__HTTP_NTRANSPORTS && rc == 1; i++) {
    if (s->transport[i] == NULL) continue;
    rc = transports[i]->start(call, opts, 0, err);
    if (rc == 0) call->tp = transports[i];
  }
  if (rc != 0) {
    ac__list_remove(&call->node);
    s->ncalls--;
    call_free(call);
    return rc;
  }
  call->read_timeout_ms = opts->read_timeout_ms;
  if (call->read_timeout_ms > 0) ac__http_call_got_data(call); /* counts from now */

  if (out != NULL) *out = call;
  return 0;
}

int ac_session_send(ac_session_t *s, const ac_request_opts_t *opts, ac_http_done_cb cb,
                    void *userdata, ac_http_call_t **out) {
  return ac__session_send(s, opts, cb, userdata, out, NULL);
}

int ac_http_call_cancel(ac_http_call_t *call, int status) {
  ac_http_error_t err = {0};
  if (call == NULL || status >= 0) return AC_EINVAL;
  ac__http_error_set(&err, status, 0, "request aborted: %s", ac_strerror(status));
  call_complete(call, status, &err);
  return 0;
}
