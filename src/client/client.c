/*
 * The session: libcurl's multi_socket interface driven by the runtime's
 * libuv loop (the model is curl's docs/examples/multi-uv.c, with the fixes
 * listed in the project's notes on libcurl and libuv):
 *
 *   - one uv_poll per socket, kept with curl_multi_assign, closed (and freed
 *     in its close callback) when libcurl says CURL_POLL_REMOVE;
 *   - one uv_timer for libcurl's timeout; a 0 ms timeout stays 0 (it fires at
 *     the next loop turn, never inside libcurl);
 *   - curl_multi_info_read is drained after every socket_action;
 *   - a poll error is passed to libcurl as CURL_CSELECT_ERR.
 *
 * Completions run from the poll and timer callbacks, on the loop's own stack,
 * after libcurl has returned: a task is only ever woken (ac__task_wake), so it
 * resumes from the ready queue. Easy handles are removed only outside libcurl
 * (s->in_curl guards it).
 */
#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdlib.h>

#include "client/h1/h1.h"
#include "client/internal.h"

/* libcurl's global state, once per process. */
static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_FAILED_INIT;

static void global_init(void) { global_rc = curl_global_init(CURL_GLOBAL_DEFAULT); }

int ac__http_global_init(void) {
  pthread_once(&global_once, global_init);
  return global_rc == CURLE_OK ? 0 : AC_EIO;
}

/* One socket libcurl asked us to watch. */
struct ac__http_sock {
  uv_poll_t poll;
  struct ac__list node;      /* in session->socks while the poll is open */
  ac_session_t *session;
  ac_loop_t *loop;           /* the session may be gone when the close completes */
  curl_socket_t fd;
  int events;                /* UV_READABLE | UV_WRITABLE being watched now */
  int parked;                /* libcurl said REMOVE: its connection is idle */
  int ours;                  /* opened through CURLOPT_OPENSOCKETFUNCTION */
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
  ac__h1_call_free(call);
  if (call->easy != NULL) curl_easy_cleanup(call->easy);
  curl_mime_free(call->mime);
  curl_slist_free_all(call->headers);
  ac_response_free(call->resp);
  ac__free(call);
}

/* A finished call goes back to the session's pool (up to a cap) with its
 * easy handle, if it has one, which keeps the session's options. */
static void call_free(struct ac_http_call *call) {
  ac_session_t *s = call->session;
  ac_response_free(call->resp);
  call->resp = NULL;
  /* A handle whose transfer failed or was cut short is not reused: libcurl
   * keeps some of a failure's state (CURLINFO_OS_ERRNO) across transfers,
   * which would misclassify the next failure. */
  if (!call->reusable || s->npool >= AC__HTTP_POOLED_CALLS) {
    call_destroy(call);
    return;
  }
  ac__http_call_recycle(call);
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
  /* No easy handle yet: the native path never needs one, and making one
   * (curl_easy_init, 2 us here) then freeing it (curl_easy_cleanup, 1.5 us
   * and three rt_sigaction calls) cost every call past the pool's cap, and
   * 5 KB of RSS each while in flight. ac__http_call_to_curl makes it when
   * libcurl takes the call. */
  call = ac__calloc(1, sizeof(*call));
  if (call == NULL) return NULL;
  call->session = s;
  ac__timer_init(&call->read_timer, on_read_timeout);
  return call;
}

/* Detach call from libcurl and the session, then fire its callback once. */
static void call_complete(struct ac_http_call *call, int status, ac_http_error_t *err) {
  ac_session_t *s = call->session;
  ac_response_t *resp = NULL;

  /* An internal invariant: no user code runs inside libcurl, so nothing can
   * cancel from there. */
  assert(!s->in_curl);
  ac__timer_stop(s->loop, &call->read_timer);
  if (call->native)
    ac__h1_detach(call);
  else if (call->easy != NULL) /* NULL: libcurl never took it */
    curl_multi_remove_handle(s->multi, call->easy);
  ac__list_remove(&call->node);
  if (--s->ncalls == 0) uv_unref((uv_handle_t *)&s->timer);
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
 * fires on the loop's stack, outside libcurl. */
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

static void on_done(struct ac_http_call *call, CURLcode result) {
  ac_http_error_t err = {0};
  ac_response_t *r = call->resp;
  int status = ac__http_classify(result, call->easy, r);

  call->reusable = result == CURLE_OK;

  if (r->header_err && (status == 0 || result == CURLE_WRITE_ERROR)) {
    status = r->header_errcode; /* out of memory, or too many or too large header lines */
    ac__http_error_set(&err, status, (int)result, "cannot store the response headers: %s",
                       ac_strerror(status));
  } else if (status == AC_ETOOLARGE) {
    ac__http_error_set(&err, status, (int)result, "body larger than max_body (%zu bytes)",
                       r->max_body);
  } else if (status == AC_ENOMEM && result == CURLE_WRITE_ERROR) {
    ac__http_error_set(&err, status, (int)result, "cannot store the response body: %s",
                       ac_strerror(status));
  } else if (status != 0) {
    ac__http_error_set(&err, status, (int)result, "%s",
                       call->errbuf[0] != '\0' ? call->errbuf : curl_easy_strerror(result));
  } else if (ac__response_finish(r, call->easy) != 0) {
    status = AC_ENOMEM;
    ac__http_error_set(&err, status, 0, "cannot complete the response: %s", ac_strerror(status));
  } else {
    r->timings.redirects += call->h1_redirects; /* followed natively before libcurl took over */
  }
  ac__http_call_end(call, status, &err);
}

void ac__http_call_end(struct ac_http_call *call, int status, ac_http_error_t *err) {
  ac_http_error_t e = {0};
  ac_response_t *r = call->resp;
  /* A call the native path served goes back to the pool whatever its
   * outcome: its easy handle, if it has one from an earlier transfer, ran
   * no transfer this time and holds no failure state (a failed libcurl
   * transfer's call is never pooled). */
  if (call->native) call->reusable = 1;
  if (status == 0 && call->raise_for_status && r->status >= 400) {
    status = AC_EHTTPSTATUS;
    ac__http_error_set(&e, status, 0, "HTTP status %d %s", r->status, r->reason);
    err = &e;
  }
  call_complete(call, status, status == 0 ? NULL : err);
}

int ac__http_call_to_curl(struct ac_http_call *call, const ac_request_opts_t *o,
                          ac_http_error_t *err) {
  ac_session_t *s = call->session;
  int rc;
  call->native = 0;
  if (call->easy == NULL) {
    call->easy = curl_easy_init();
    if (call->easy == NULL) {
      ac__http_error_set(err, AC_ENOMEM, 0, "cannot allocate the request");
      return AC_ENOMEM;
    }
    memset(&call->set, 0, sizeof(call->set)); /* every option is set on a new handle */
  }
  rc = ac__http_call_setup(call, o, err);
  if (rc == 0 && curl_multi_add_handle(s->multi, call->easy) != CURLM_OK) {
    rc = AC_ENOMEM;
    ac__http_error_set(err, rc, 0, "libcurl refused the transfer");
  }
  return rc;
}

static void drain(ac_session_t *s) {
  CURLMsg *msg;
  int left;
  while ((msg = curl_multi_info_read(s->multi, &left)) != NULL) {
    struct ac_http_call *call = NULL;
    CURLcode result;
    if (msg->msg != CURLMSG_DONE) continue;
    /* msg is invalid once the handle is removed: copy what we need first. */
    result = msg->data.result;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&call);
    on_done(call, result);
  }
}

static void action(ac_session_t *s, curl_socket_t fd, int flags) {
  int running = 0;
  s->in_curl = 1;
  curl_multi_socket_action(s->multi, fd, flags, &running);
  s->in_curl = 0;
  drain(s);
}

/* ------------------------------------------------------------- sockets */

/* libcurl says CURL_POLL_REMOVE when a transfer ends and its connection goes
 * back to the pool, and asks again when the next transfer takes it. Each
 * uv_poll_stop / uv_poll_start costs an epoll_ctl, so a socket's poll handle
 * is kept across transfers ("parked" while idle, still watching for input,
 * which on an idle connection means the server closed it), found again by
 * its fd, and closed only when libcurl closes the socket (the close-socket
 * callback below). */

static struct ac__http_sock *sock_by_fd(ac_session_t *s, curl_socket_t fd) {
  return fd >= 0 && (size_t)fd < s->nbyfd ? s->byfd[fd] : NULL;
}

static void set_parked(struct ac__http_sock *sk, int parked) {
  if (sk->parked == parked) return;
  sk->parked = parked;
  if (parked)
    sk->session->nparked++;
  else
    sk->session->nparked--;
}

static void on_poll(uv_poll_t *h, int status, int events) {
  struct ac__http_sock *sk = h->data;
  int flags = 0;
  if (sk->parked) {
    /* An idle pooled connection became readable (closed by the server) or
     * failed: stop watching it; libcurl finds it dead when it next looks. */
    if (sk->events != 0) uv_poll_stop(&sk->poll);
    sk->events = 0;
    return;
  }
  if (status < 0) {
    sk->events = 0; /* libuv has stopped the handle */
    flags = CURL_CSELECT_ERR;
  } else {
    if (events & UV_READABLE) flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE) flags |= CURL_CSELECT_OUT;
  }
  action(sk->session, sk->fd, flags);
}

static void on_sock_closed(uv_handle_t *h) {
  struct ac__http_sock *sk = h->data;
  ac__loop_handle_closed(sk->loop);
  ac__free(sk);
}

static void sock_close(struct ac__http_sock *sk) {
  ac_session_t *s = sk->session;
  if (sock_by_fd(s, sk->fd) == sk) s->byfd[sk->fd] = NULL;
  set_parked(sk, 0);
  ac__list_remove(&sk->node);
  ac__loop_close(sk->loop, (uv_handle_t *)&sk->poll, on_sock_closed);
}

/* CURLOPT_CLOSESOCKETFUNCTION: stop polling before the fd is closed (after
 * libcurl's CURL_POLL_REMOVE for it, if it was watched). */
static int on_close_socket(void *clientp, curl_socket_t fd) {
  ac_session_t *s = clientp;
  struct ac__http_sock *sk = sock_by_fd(s, fd);
  if (sk != NULL) {
    if (!sk->parked) curl_multi_assign(s->multi, fd, NULL);
    sock_close(sk);
  }
  return close(fd);
}

static struct ac__http_sock *sock_new(ac_session_t *s, CURL *easy, curl_socket_t fd);

/* CURLOPT_OPENSOCKETFUNCTION: a connection socket gets its poll handle here,
 * marked as ours: only such sockets may stay parked after CURL_POLL_REMOVE,
 * because only their close is reported (the close-socket callback). libcurl
 * also asks to watch sockets it opens and closes itself (the threaded
 * resolver's socketpair), whose fd numbers come back for other sockets.
 * A handle still holding this socket's number was left behind by such a
 * close: drop it so that the new socket gets a poll handle of its own. */
static curl_socket_t on_open_socket(void *clientp, curlsocktype purpose,
                                    struct curl_sockaddr *a) {
  ac_session_t *s = clientp;
  curl_socket_t fd = socket(a->family, a->socktype, a->protocol);
  struct ac__http_sock *sk;
  (void)purpose;
  if (fd == CURL_SOCKET_BAD) return fd;
  if ((sk = sock_by_fd(s, fd)) != NULL) sock_close(sk);
  /* Out of memory here, the socket still goes on: its handle is made (or
   * fails the transfer with AC_ENOMEM) when libcurl asks to watch it, and
   * it is closed at REMOVE like a socket that is not ours. */
  if ((sk = sock_new(s, NULL, fd)) != NULL) sk->ours = 1;
  return fd;
}

void ac__http_set_socket_callbacks(ac_session_t *s, CURL *easy) {
  curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
  curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA, s);
  curl_easy_setopt(easy, CURLOPT_CLOSESOCKETFUNCTION, on_close_socket);
  curl_easy_setopt(easy, CURLOPT_CLOSESOCKETDATA, s);
}

/* Complete the calls whose socket could not be watched. Runs from the loop's
 * ready queue, outside libcurl, where removing a handle is allowed. */
static void on_reap(struct ac__soon *soon) {
  ac_session_t *s = ac__container_of(soon, ac_session_t, reap);
  struct ac__list *it = s->calls.next;
  while (it != &s->calls) {
    struct ac_http_call *call = ac__container_of(it, struct ac_http_call, node);
    it = it->next;
    if (call->failed != 0) {
      ac_http_error_t err = {0};
      ac__http_error_set(&err, call->failed, 0, "cannot watch the transfer's socket: %s",
                         ac_strerror(call->failed));
      /* The next call may be completed by this one's callback (cancelled):
       * restart from the head each time rather than keep a stale pointer. */
      call_complete(call, call->failed, &err);
      it = s->calls.next;
    }
  }
}

/* A socket cannot be watched: fail its transfer later, outside libcurl.
 * Returning -1 to libcurl instead would mark the whole multi handle dead
 * (7.88's singlesocket), stalling every other transfer of the session. */
static int fail_socket(ac_session_t *s, CURL *easy, int status) {
  struct ac_http_call *call = NULL;
  if (easy == NULL) return 0; /* from the open-socket callback: tried again later */
  curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&call);
  if (call != NULL && call->failed == 0) call->failed = status;
  ac__loop_soon(s->loop, &s->reap);
  return 0;
}

/* Room in the fd index for fd. 0 or AC_ENOMEM. */
static int byfd_reserve(ac_session_t *s, curl_socket_t fd) {
  size_t n = s->nbyfd != 0 ? s->nbyfd : 64;
  struct ac__http_sock **nb;
  if ((size_t)fd < s->nbyfd) return 0;
  while (n <= (size_t)fd) n *= 2;
  nb = ac__realloc(s->byfd, n * sizeof(*nb));
  if (nb == NULL) return AC_ENOMEM;
  memset(nb + s->nbyfd, 0, (n - s->nbyfd) * sizeof(*nb));
  s->byfd = nb;
  s->nbyfd = n;
  return 0;
}

static struct ac__http_sock *sock_new(ac_session_t *s, CURL *easy, curl_socket_t fd) {
  struct ac__http_sock *sk;
  int rc = fd >= 0 ? byfd_reserve(s, fd) : AC_EINVAL;
  if (rc != 0) {
    fail_socket(s, easy, rc);
    return NULL;
  }
  sk = ac__calloc(1, sizeof(*sk));
  if (sk == NULL) {
    fail_socket(s, easy, AC_ENOMEM);
    return NULL;
  }
  rc = uv_poll_init_socket(ac_loop_uv(s->loop), &sk->poll, fd);
  if (rc != 0) {
    ac__free(sk);
    fail_socket(s, easy, rc);
    return NULL;
  }
  sk->poll.data = sk;
  sk->session = s;
  sk->loop = s->loop;
  sk->fd = fd;
  ac__list_insert_tail(&s->socks, &sk->node);
  s->byfd[fd] = sk;
  return sk;
}

static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp) {
  ac_session_t *s = userp;
  struct ac__http_sock *sk = socketp;
  int events = 0, rc;

  if (what == CURL_POLL_REMOVE) {
    if (sk == NULL) return 0;
    curl_multi_assign(s->multi, fd, NULL);
    if (!sk->ours) {
      /* libcurl closes it without telling: never keep watching it. */
      sock_close(sk);
      return 0;
    }
    /* Kept watching for input only: an idle socket is always writable. */
    if (sk->events & UV_WRITABLE) {
      uv_poll_stop(&sk->poll);
      sk->events = 0;
    }
    set_parked(sk, 1);
    return 0;
  }
  if (sk == NULL) {
    sk = sock_by_fd(s, fd);
    if (sk != NULL && !sk->ours) {
      /* Not assigned to this socket, not one we opened: the handle of an
       * earlier socket with the same number, closed by libcurl itself. */
      sock_close(sk);
      sk = NULL;
    }
    if (sk == NULL && (sk = sock_new(s, easy, fd)) == NULL) return 0;
    set_parked(sk, 0);
    curl_multi_assign(s->multi, fd, sk);
  }
  if (what & CURL_POLL_IN) events |= UV_READABLE;
  if (what & CURL_POLL_OUT) events |= UV_WRITABLE;
  /* Skipping an unchanged watch saves an epoll_ctl, but only for our own
   * sockets: libcurl may hand a socket it closed and opened again under the
   * same number (the resolver's socketpair) with the old assignment, and
   * only uv_poll_start (a DEL then an ADD) registers the new one. */
  if (events == sk->events && sk->ours) return 0;
  rc = uv_poll_start(&sk->poll, events, on_poll);
  sk->events = rc == 0 ? events : 0;
  return rc == 0 ? 0 : fail_socket(s, easy, rc);
}

/* --------------------------------------------------------------- timer */

static void on_uv_timeout(uv_timer_t *h) {
  action(h->data, CURL_SOCKET_TIMEOUT, 0);
}

static int on_timer(CURLM *multi, long timeout_ms, void *userp) {
  ac_session_t *s = userp;
  (void)multi;
  if (timeout_ms < 0)
    uv_timer_stop(&s->timer);
  else /* 0 stays 0: libuv runs it at the next turn, outside libcurl. */
    uv_timer_start(&s->timer, on_uv_timeout, (uint64_t)timeout_ms, 0);
  return 0;
}

/* ------------------------------------------------------------- session */

static int copy_opt(const char *in, char **out) {
  *out = NULL;
  if (in == NULL) return 0;
  *out = ac__strdup(in);
  return *out != NULL ? 0 : AC_ENOMEM;
}

static void session_destroy(ac_session_t *s) {
  if (s->multi != NULL) curl_multi_cleanup(s->multi);
  /* Pooled handles hold the share: they go before it. */
  while (!ac__list_empty(&s->pool)) {
    struct ac_http_call *call = ac__container_of(s->pool.next, struct ac_http_call, node);
    ac__list_remove(&call->node);
    call_destroy(call);
  }
  s->npool = 0;
  if (s->share != NULL) curl_share_cleanup(s->share);
  ac__h1_session_close(s);
  curl_slist_free_all(s->default_headers);
  ac__free(s->byfd);
  ac__free(s->user_agent);
  ac__free(s->proxy);
  ac__free(s->ca_file);
}

static int session_setup(ac_session_t *s, const ac_session_opts_t *o) {
  char ua[64];
  size_t i;
  int rc;

  s->verify_peer = o->verify_peer;
  s->verify_host = o->verify_host;
  s->http2 = o->http2;
  s->cookies = o->cookies;
  {
    /* ACRAWL_HTTP_NATIVE=0 sends everything through libcurl: to compare the
     * two paths, or to rule the native one out. */
    const char *env = getenv("ACRAWL_HTTP_NATIVE");
    s->native = o->native_http1 && !(env != NULL && strcmp(env, "0") == 0);
  }
  snprintf(ua, sizeof(ua), "acrawl/%s", ac_version());
  rc = copy_opt(o->user_agent != NULL ? o->user_agent : ua, &s->user_agent);
  if (rc == 0) rc = copy_opt(o->proxy, &s->proxy);
  if (rc == 0) rc = copy_opt(o->ca_file, &s->ca_file);
  for (i = 0; i < o->nheaders && rc == 0; i++) {
    char line[1024];
    struct curl_slist *n;
    if (o->headers[i].key == NULL || o->headers[i].value == NULL) return AC_EINVAL;
    if ((size_t)snprintf(line, sizeof(line), "%s: %s", o->headers[i].key,
                         o->headers[i].value) >= sizeof(line))
      return AC_ETOOLARGE;
    n = curl_slist_append(s->default_headers, line);
    if (n == NULL) return AC_ENOMEM;
    s->default_headers = n;
  }
  if (rc != 0) return rc;
  s->share = curl_share_init();
  s->multi = curl_multi_init();
  if (s->share == NULL || s->multi == NULL) return AC_ENOMEM;
  /* The multi handle already pools connections and caches DNS; the share
   * adds the session's cookie jar and TLS session reuse. Single-threaded:
   * no lock functions are needed. */
  curl_share_setopt(s->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_COOKIE);
  curl_share_setopt(s->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  curl_multi_setopt(s->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
  curl_multi_setopt(s->multi, CURLMOPT_SOCKETDATA, s);
  curl_multi_setopt(s->multi, CURLMOPT_TIMERFUNCTION, on_timer);
  curl_multi_setopt(s->multi, CURLMOPT_TIMERDATA, s);
  /* Without it the pool is 4x the handles added at the time, which shrinks
   * and grows with the load when a handle is made per request. */
  s->max_idle = o->max_idle_connections != 0 ? o->max_idle_connections : 256;
  curl_multi_setopt(s->multi, CURLMOPT_MAXCONNECTS, (long)s->max_idle);
  /* HTTP/2 over TLS: many streams on one connection rather than many
   * connections (measured: 34.5k req/s over one connection vs ~10k). */
  curl_multi_setopt(s->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
  return 0;
}

int ac_session_new(ac_loop_t *loop, const ac_session_opts_t *opts, ac_session_t **out) {
  ac_session_opts_t defaults;
  ac_session_t *s;
  int rc;

  if (out != NULL) *out = NULL;
  if (loop == NULL || out == NULL) return AC_EINVAL;
  rc = ac__http_global_init();
  if (rc != 0) return rc;
  if (opts == NULL) {
    ac_session_opts_init(&defaults);
    opts = &defaults;
  }
  s = ac__calloc(1, sizeof(*s));
  if (s == NULL) return AC_ENOMEM;
  s->magic = AC__SESSION_MAGIC;
  s->loop = loop;
  s->reap.run = on_reap;
  ac__list_init(&s->calls);
  ac__list_init(&s->socks);
  ac__list_init(&s->pool);
  ac__list_init(&s->h1_idle);
  rc = session_setup(s, opts);
  if (rc != 0) {
    session_destroy(s);
    ac__free(s);
    return rc;
  }
  uv_timer_init(ac_loop_uv(loop), &s->timer);
  s->timer.data = s;
  /* An idle session must not keep the loop running, a busy one must (its
   * timer may be all that is armed while a name resolves): the timer is
   * referenced only while calls are in flight. */
  uv_unref((uv_handle_t *)&s->timer);
  *out = s;
  return 0;
}

static void on_timer_closed(uv_handle_t *h) {
  ac_session_t *s = h->data;
  ac__loop_handle_closed(s->loop);
  ac__free(s);
}

int ac_session_free(ac_session_t *s) {
  if (s == NULL) return 0;
  if (s->magic != AC__SESSION_MAGIC) return AC_EINVAL;
  if (s->in_callback > 0 || s->in_curl || s->freeing) return AC_EBUSY;
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
  ac__h1_session_close(s); /* its idle connections; the busy ones closed with their calls */
  ac__loop_soon_cancel(s->loop, &s->reap); /* every call it was queued for is gone */
  /* Closing the pooled connections makes libcurl report CURL_POLL_REMOVE
   * for their sockets; whatever it did not report is closed here. */
  s->in_curl = 1;
  curl_multi_cleanup(s->multi);
  s->in_curl = 0;
  s->multi = NULL;
  while (!ac__list_empty(&s->socks))
    sock_close(ac__container_of(s->socks.next, struct ac__http_sock, node));
  session_destroy(s);
  ac__loop_close(s->loop, (uv_handle_t *)&s->timer, on_timer_closed);
  return 0;
}

size_t ac_session_in_flight(const ac_session_t *s) { return s->ncalls; }

/* ------------------------------------------------------------ requests */

int ac__session_send(ac_session_t *s, const ac_request_opts_t *opts, ac_http_done_cb cb,
                     void *userdata, ac_http_call_t **out, ac_http_error_t *err) {
  struct ac_http_call *call;
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
  call->reusable = 0;
  call->raise_for_status = opts->raise_for_status;
  ac__list_init(&call->node);
  call->resp = ac__response_new(opts->max_body);
  if (call->resp == NULL) {
    call_free(call);
    ac__http_error_set(err, AC_ENOMEM, 0, "cannot allocate the request");
    return AC_ENOMEM;
  }
  call->native = 0;
  call->h1_redirects = 0;
  call->defaults_merged = 0;
  ac__list_insert_tail(&s->calls, &call->node);
  if (s->ncalls++ == 0) uv_ref((uv_handle_t *)&s->timer);
  rc = 1;
  if (ac__h1_session_allows(s)) rc = ac__h1_start(call, opts, err);
  if (rc == 1) rc = ac__http_call_to_curl(call, opts, err);
  if (rc != 0) {
    ac__list_remove(&call->node);
    if (--s->ncalls == 0) uv_unref((uv_handle_t *)&s->timer);
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
