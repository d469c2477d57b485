/*
 * The connection: opened by the call that finds none, never in the
 * background, and made ready by one handshake batch: AUTH, SELECT, CLIENT
 * SETNAME, PING, SCRIPT LOAD of each script. They are queued at once behind
 * the non-blocking connect (hiredis writes them when the socket connects), so
 * a reconnect costs one round trip, under the call's own deadline. PING is
 * always there: with no AUTH, db, name or script, it is what meets a
 * server's NOAUTH. Other tasks that need the connection meanwhile wait for
 * that handshake's outcome instead of opening one of their own.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "common/alloc.h"
#include "redis/internal.h"

/* Between handshakes with a server still loading its data set. */
#define LOADING_PAUSE_MS 50

enum { HS_AUTH, HS_SELECT, HS_NAME, HS_PING, HS_SCRIPT };

void ac__redis_set_error(ac__redis_t *r, const char *fmt, ...) {
  va_list ap;
  int n = snprintf(r->last_error, sizeof(r->last_error), "redis %s: ", r->addr);
  if (n < 0 || (size_t)n >= sizeof(r->last_error)) return;
  va_start(ap, fmt);
  vsnprintf(r->last_error + n, sizeof(r->last_error) - (size_t)n, fmt, ap);
  va_end(ap);
}

static int connect_err(int err) {
  return err == ETIMEDOUT ? AC_ETIMEDOUT : AC_ECONNREFUSED;
}

static void on_connect(const redisAsyncContext *ac, int status) {
  int err = errno; /* the socket's error, as hiredis found it */
  ac__redis_t *r = ac->data;
  if (status == REDIS_OK || r == NULL || r->ctx != ac) return;
  /* The pending commands fail next, with this. */
  r->drop_err = connect_err(err);
  snprintf(r->drop_why, sizeof(r->drop_why), "%s", ac->c.errstr);
  ac__redis_detach(r, ac);
}

static void on_disconnect(const redisAsyncContext *ac, int status) {
  ac__redis_detach(ac->data, ac);
}

/* The handshake's error replies, in Redis's words. */
static int judge_reply(ac__redis_t *r, int kind, size_t script, const redisReply *rep) {
  const char *what = kind == HS_AUTH     ? "AUTH"
                     : kind == HS_SELECT ? "SELECT"
                     : kind == HS_NAME   ? "CLIENT SETNAME"
                     : kind == HS_PING   ? "PING"
                                         : "SCRIPT LOAD";
  if (rep->type == REDIS_REPLY_ERROR && strncmp(rep->str, "LOADING", 7) == 0) {
    /* A restarted Redis answers so until its data set is read back. */
    ac__redis_set_error(r, "still loading its data set: %s", rep->str);
    return AC_EAGAIN;
  }
  if (rep->type == REDIS_REPLY_ERROR) {
    int auth = kind == HS_AUTH || strncmp(rep->str, "NOAUTH", 6) == 0 ||
               strncmp(rep->str, "WRONGPASS", 9) == 0;
    if (auth && kind != HS_AUTH)
      ac__redis_set_error(r, "AUTH needed: %s", rep->str);
    else if (auth)
      ac__redis_set_error(r, "AUTH refused: %s", rep->str);
    else if (kind == HS_SELECT)
      ac__redis_set_error(r, "SELECT %d refused: %s", r->uri.db, rep->str);
    else if (kind == HS_SCRIPT)
      ac__redis_set_error(r, "script %zu refused: %s", script, rep->str);
    else
      ac__redis_set_error(r, "%s refused: %s", what, rep->str);
    return auth ? AC_EPERM : AC_EPROTO;
  }
  if (kind == HS_SCRIPT) {
    if (rep->type != REDIS_REPLY_STRING || rep->len != 40) {
      ac__redis_set_error(r, "SCRIPT LOAD of script %zu answered no SHA1", script);
      return AC_EPROTO;
    }
    memcpy(r->shas[script], rep->str, 40);
    r->shas[script][40] = '\0';
  }
  return 0;
}

static void describe_failure(ac__redis_t *r, int status) {
  const char *why = r->drop_why[0] != '\0' ? r->drop_why : ac_strerror(status);
  switch (status) {
  case AC_ETIMEDOUT: /* the timer said so */
    if (r->last_error[0] == '\0') ac__redis_set_error(r, "timed out");
    break;
  case AC_ECONNREFUSED: ac__redis_set_error(r, "cannot connect: %s", why); break;
  case AC_EPROTO: ac__redis_set_error(r, "not a Redis server? %s", why); break;
  case AC_ECONNRESET:
    ac__redis_set_error(r, "the connection closed during the handshake: %s", why);
    break;
  case AC_ECLOSED: ac__redis_set_error(r, "closed"); break;
  default: ac__redis_set_error(r, "%s", ac_strerror(status)); break;
  }
}

int ac__redis_handshake_done(ac__redis_t *r, struct ac__redis_batch *b, int status) {
  size_t i, script = 0;
  if (status == 0) {
    for (i = 0; i < b->n && status == 0; i++) {
      status = judge_reply(r, b->kinds[i], script, b->replies[i]);
      if (b->kinds[i] == HS_SCRIPT) script++;
    }
    if (status != 0 && r->ctx != NULL) {
      /* Inside the last reply's callback: hiredis frees the context once
       * it returns, with nothing left pending. */
      redisAsyncContext *ac = r->ctx;
      ac__redis_detach(r, ac);
      redisAsyncFree(ac);
    }
  } else {
    describe_failure(r, status);
  }
  if (r->handshake == b) r->handshake = NULL;
  if (status == 0) {
    r->ready = 1;
    if (r->opened) r->stats.reconnects++;
    r->opened = 1;
  }
  ac__wake_all(&r->conn_waiters, status);
  return status;
}

/* An idle connection the server closed (a restart) still looks ready until
 * the loop reads its EOF: looked at before commands are written on it, so
 * that the first call after a restart reconnects instead of failing. */
static int idle_and_gone(ac__redis_t *r) {
  char c;
  ssize_t n;
  if (r->ctx->replies.head != NULL) return 0;
  n = recv(r->ctx->c.fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
  return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

static int add(struct ac__redis_fcmd *cmds, unsigned char *kinds, size_t *n, int kind, int argc,
               const char *const *argv) {
  int rc = ac__redis_format(&cmds[*n], argc, argv, NULL);
  if (rc == 0) kinds[(*n)++] = (unsigned char)kind;
  return rc;
}

static int handshake_cmds(ac__redis_t *r, struct ac__redis_fcmd *cmds, unsigned char *kinds,
                          size_t *n) {
  char db[16];
  size_t i;
  int rc = 0;
  *n = 0;
  if (r->uri.password != NULL) {
    const char *with_user[] = {"AUTH", r->uri.user, r->uri.password};
    const char *alone[] = {"AUTH", r->uri.password};
    rc = r->uri.user != NULL ? add(cmds, kinds, n, HS_AUTH, 3, with_user)
                             : add(cmds, kinds, n, HS_AUTH, 2, alone);
  }
  if (rc == 0 && r->uri.db != 0) {
    const char *argv[] = {"SELECT", db};
    snprintf(db, sizeof(db), "%d", r->uri.db);
    rc = add(cmds, kinds, n, HS_SELECT, 2, argv);
  }
  if (rc == 0 && r->client_name != NULL) {
    const char *argv[] = {"CLIENT", "SETNAME", r->client_name};
    rc = add(cmds, kinds, n, HS_NAME, 3, argv);
  }
  if (rc == 0) {
    const char *argv[] = {"PING"};
    rc = add(cmds, kinds, n, HS_PING, 1, argv);
  }
  for (i = 0; rc == 0 && i < r->nscripts; i++) {
    const char *argv[] = {"SCRIPT", "LOAD", r->scripts[i]};
    rc = add(cmds, kinds, n, HS_SCRIPT, 3, argv);
  }
  return rc;
}

/* Connect and send the handshake; *out is its batch. */
static int connect_start(ac__redis_t *r, ac_task_t *task, uint64_t due_us,
                         struct ac__redis_batch **out) {
  size_t cap = 4 + r->nscripts, n = 0;
  struct ac__redis_fcmd *cmds;
  unsigned char *kinds;
  redisAsyncContext *ac;
  int rc;

  r->drop_err = 0;
  r->drop_why[0] = '\0';
  ac = redisAsyncConnect(r->uri.host, r->uri.port);
  if (ac == NULL) {
    ac__redis_set_error(r, "out of memory");
    return AC_ENOMEM;
  }
  if (ac->err != 0) {
    /* hiredis resolves and connects at once: a name it could not resolve
     * is its only error that is not the socket's. */
    int dns = ac->err != REDIS_ERR_IO;
    rc = dns ? AC_EDNS : connect_err(errno);
    ac__redis_set_error(r, "%s: %s", dns ? "cannot resolve the host" : "cannot connect",
                        ac->errstr);
    redisAsyncFree(ac);
    return rc;
  }
  rc = ac__redis_poll_attach(r->loop, ac);
  if (rc != 0) {
    redisAsyncFree(ac);
    ac__redis_set_error(r, "cannot watch the socket: %s", ac_strerror(rc));
    return rc == UV_ENOMEM ? AC_ENOMEM : rc;
  }
  ac->data = r;
  ac__redis_reply_fns_install(r, ac);
  redisAsyncSetConnectCallback(ac, on_connect);
  redisAsyncSetDisconnectCallback(ac, on_disconnect);
  r->ctx = ac;
  r->ready = 0;

  cmds = ac__calloc(cap, sizeof(*cmds));
  kinds = ac__calloc(cap, 1);
  rc = cmds == NULL || kinds == NULL ? AC_ENOMEM : handshake_cmds(r, cmds, kinds, &n);
  *out = rc == 0 ? ac__redis_batch_send(r, task, cmds, n, due_us, 1) : NULL;
  ac__redis_fcmds_free(cmds, n);
  ac__free(cmds);
  if (*out == NULL) {
    ac__free(kinds);
    ac__redis_drop(r, AC_ENOMEM);
    ac__redis_set_error(r, "out of memory");
    return AC_ENOMEM;
  }
  (*out)->kinds = kinds;
  if (!(*out)->done) r->handshake = *out;
  return 0;
}

/* A server still loading was left; try again shortly, within the deadline. */
static int loading_pause(uint64_t due_us) {
  uint64_t now = ac_now_us();
  if (now >= due_us) return AC_ETIMEDOUT;
  return ac_sleep(due_us - now < LOADING_PAUSE_MS * 1000 ? (due_us - now + 999) / 1000
                                                         : LOADING_PAUSE_MS);
}

int ac__redis_ready(ac__redis_t *r, ac_task_t *task, uint64_t due_us) {
  struct ac__redis_batch *b;
  int rc;
  for (;;) {
    if (r->closed) return AC_ECLOSED;
    if (r->ctx != NULL && r->ready) {
      if (!idle_and_gone(r)) return 0;
      ac__redis_set_error(r, "the connection was closed by the server");
      ac__redis_drop(r, AC_ECONNRESET);
      continue;
    }
    rc = ac__wait_check(task);
    if (rc != 0) return rc;
    if (r->handshake != NULL) {
      struct ac__wait w = {0};
      w.task = task;
      w.abort = ac__wait_abort_unlink;
      ac__list_insert_tail(&r->conn_waiters, &w.node);
      rc = ac__task_suspend(&w);
      if (rc == AC_EAGAIN) rc = loading_pause(due_us);
      if (rc != 0) return rc;
      continue;
    }
    /* A context with neither a handshake nor its success is never kept;
     * should one be, it goes rather than leak. */
    ac__redis_drop(r, AC_ECONNRESET);
    rc = connect_start(r, task, due_us, &b);
    if (rc != 0) return rc;
    rc = ac__redis_batch_await(b, NULL);
    if (rc == AC_EAGAIN) rc = loading_pause(due_us);
    if (rc != 0) return rc;
  }
}

int ac__redis_reload_scripts(ac__redis_t *r, ac_task_t *task, uint64_t due_us) {
  struct ac__redis_fcmd *cmds;
  redisReply **replies;
  struct ac__redis_batch *b = NULL;
  size_t i, n = 0;
  int rc;

  cmds = ac__calloc(r->nscripts, sizeof(*cmds));
  replies = ac__calloc(r->nscripts, sizeof(*replies));
  rc = cmds == NULL || replies == NULL ? AC_ENOMEM : 0;
  for (i = 0; rc == 0 && i < r->nscripts; i++) {
    const char *argv[] = {"SCRIPT", "LOAD", r->scripts[i]};
    rc = ac__redis_format(&cmds[n], 3, argv, NULL);
    if (rc == 0) n++;
  }
  if (rc == 0) rc = ac__wait_check(task);
  if (rc == 0) {
    b = ac__redis_batch_send(r, task, cmds, n, due_us, 0);
    rc = b == NULL ? AC_ENOMEM : ac__redis_batch_await(b, replies);
  }
  for (i = 0; rc == 0 && i < n; i++) rc = judge_reply(r, HS_SCRIPT, i, replies[i]);
  for (i = 0; replies != NULL && i < n; i++) freeReplyObject(replies[i]);
  ac__redis_fcmds_free(cmds, n);
  ac__free(cmds);
  ac__free(replies);
  return rc;
}
