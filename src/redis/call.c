/*
 * The calls: commands formatted into the protocol's form at once (nothing
 * of the caller's argv is kept), the connection made ready, one batch sent
 * and awaited, all under one deadline taken when the call starts.
 *
 * NOSCRIPT: Redis forgets the scripts on a restart (a restart drops the
 * connection, and the reconnect's handshake loads them again) and on
 * SCRIPT FLUSH (nothing tells the client). An EVALSHA of one of the
 * client's scripts answered NOSCRIPT is therefore resent once, after the
 * scripts are loaded again; the SHA1 does not change, the command is sent
 * as it was.
 */
#include <stdarg.h>
#include <string.h>
#include <strings.h>

#include "common/alloc.h"
#include "redis/internal.h"

int ac__redis_format(struct ac__redis_fcmd *c, int argc, const char *const *argv,
                     const size_t *lens) {
  char *buf = NULL;
  int len = redisFormatCommandArgv(&buf, argc, (const char **)argv, lens);
  if (len < 0 || buf == NULL) return AC_ENOMEM;
  c->buf = buf;
  c->len = (size_t)len;
  c->script = -1;
  return 0;
}

void ac__redis_fcmds_free(struct ac__redis_fcmd *c, size_t n) {
  size_t i;
  if (c == NULL) return;
  for (i = 0; i < n; i++) redisFreeCommand(c[i].buf);
}

/* Argument k of a formatted command ("*N\r\n$L\r\nARG\r\n..."). */
static int resp_arg(const struct ac__redis_fcmd *c, int k, const char **arg, size_t *len) {
  const char *p = c->buf, *end = c->buf + c->len;
  int i;
  p = memchr(p, '\n', (size_t)(end - p));
  for (i = 0; p != NULL && i <= k; i++) {
    size_t l = 0;
    p++;
    if (p >= end || *p != '$') return 0;
    for (p++; p < end && *p >= '0' && *p <= '9'; p++) l = l * 10 + (size_t)(*p - '0');
    if (end - p < 2 || (size_t)(end - p - 2) < l + 2) return 0;
    p += 2;
    if (i == k) {
      *arg = p;
      *len = l;
      return 1;
    }
    p += l + 1;
  }
  return 0;
}

/* Which of r's scripts c runs by its SHA1, or -1. */
static int script_of(const ac__redis_t *r, const struct ac__redis_fcmd *c) {
  const char *a;
  size_t l, i;
  if (r->nscripts == 0 || !resp_arg(c, 0, &a, &l) || l != 7 || strncasecmp(a, "evalsha", 7) != 0 ||
      !resp_arg(c, 1, &a, &l) || l != 40)
    return -1;
  for (i = 0; i < r->nscripts; i++)
    if (strncasecmp(a, r->shas[i], 40) == 0) return (int)i;
  return -1;
}

static int is_noscript(const redisReply *rep) {
  return rep != NULL && rep->type == REDIS_REPLY_ERROR && strncmp(rep->str, "NOSCRIPT", 8) == 0;
}

static int send_await(ac__redis_t *r, ac_task_t *task, const struct ac__redis_fcmd *cmds,
                      size_t n, uint64_t due_us, redisReply **replies) {
  struct ac__redis_batch *b;
  int rc = ac__redis_ready(r, task, due_us);
  if (rc == 0) rc = ac__wait_check(task);
  if (rc != 0) return rc;
  b = ac__redis_batch_send(r, task, cmds, n, due_us, 0);
  if (b == NULL) return AC_ENOMEM;
  r->stats.round_trips++;
  return ac__redis_batch_await(b, replies);
}

/* Resend, once, the EVALSHAs of r's scripts that met NOSCRIPT. */
static int retry_noscript(ac__redis_t *r, ac_task_t *task, const struct ac__redis_fcmd *cmds,
                          size_t n, uint64_t due_us, redisReply **replies) {
  struct ac__redis_fcmd *again = NULL;
  redisReply **got = NULL;
  size_t i, k = 0, m = 0;
  int rc;

  for (i = 0; i < n; i++)
    if (cmds[i].script >= 0 && is_noscript(replies[i])) m++;
  if (m == 0) return 0;
  rc = ac__redis_ready(r, task, due_us);
  if (rc == 0) rc = ac__redis_reload_scripts(r, task, due_us);
  if (rc != 0) return rc;
  again = ac__calloc(m, sizeof(*again));
  got = ac__calloc(m, sizeof(*got));
  if (again == NULL || got == NULL) {
    rc = AC_ENOMEM;
    goto out;
  }
  for (i = 0; i < n; i++)
    if (cmds[i].script >= 0 && is_noscript(replies[i])) again[k++] = cmds[i];
  rc = send_await(r, task, again, m, due_us, got);
  if (rc == 0) {
    for (i = 0, k = 0; i < n; i++) {
      if (cmds[i].script >= 0 && is_noscript(replies[i])) {
        freeReplyObject(replies[i]);
        replies[i] = got[k++];
      }
    }
  }
out:
  ac__free(again); /* the buffers are cmds' */
  ac__free(got);
  return rc;
}

/* The calls' common part; takes cmds. */
static int run(ac__redis_t *r, ac_task_t *task, struct ac__redis_fcmd *cmds, size_t n,
               redisReply **replies) {
  uint64_t due_us = ac_now_us() + r->timeout_ms * 1000;
  size_t i;
  int rc = ac__redis_enter(r);
  if (rc == 0) {
    for (i = 0; i < n; i++) cmds[i].script = script_of(r, &cmds[i]);
    rc = send_await(r, task, cmds, n, due_us, replies);
    if (rc == 0 && !r->closed) rc = retry_noscript(r, task, cmds, n, due_us, replies);
    ac__redis_leave(r); /* may free r */
  }
  if (rc != 0) {
    for (i = 0; i < n; i++) {
      freeReplyObject(replies[i]);
      replies[i] = NULL;
    }
  }
  ac__redis_fcmds_free(cmds, n);
  return rc;
}

/* What every call checks first; replies are cleared. */
static int start(ac__redis_t *r, size_t n, redisReply **replies, ac_task_t **task) {
  size_t i;
  int rc;
  if (replies != NULL)
    for (i = 0; i < n; i++) replies[i] = NULL;
  *task = ac__task_require(&rc);
  if (*task == NULL) return rc;
  if (r == NULL || replies == NULL || n == 0 || ac_task_loop(*task) != r->loop) return AC_EINVAL;
  if (r->closed) return AC_ECLOSED;
  return ac__wait_check(*task);
}

int ac__redis_pipeline(ac__redis_t *r, size_t n, const ac__redis_cmd_t *cmds,
                       redisReply **replies) {
  struct ac__redis_fcmd *f;
  ac_task_t *task;
  size_t i;
  int rc = start(r, n, replies, &task);
  if (rc != 0) return rc;
  if (cmds == NULL) return AC_EINVAL;
  for (i = 0; i < n; i++)
    if (cmds[i].argc < 1 || cmds[i].argv == NULL) return AC_EINVAL;
  f = ac__calloc(n, sizeof(*f));
  if (f == NULL) return AC_ENOMEM;
  for (i = 0; i < n; i++) {
    rc = ac__redis_format(&f[i], cmds[i].argc, cmds[i].argv, cmds[i].lens);
    if (rc != 0) {
      ac__redis_fcmds_free(f, i);
      ac__free(f);
      return rc;
    }
  }
  rc = run(r, task, f, n, replies);
  ac__free(f);
  return rc;
}

int ac__redis_call(ac__redis_t *r, redisReply **reply, int argc, const char *const *argv,
                   const size_t *lens) {
  struct ac__redis_fcmd f;
  ac_task_t *task;
  int rc = start(r, 1, reply, &task);
  if (rc != 0) return rc;
  if (argc < 1 || argv == NULL) return AC_EINVAL;
  rc = ac__redis_format(&f, argc, argv, lens);
  if (rc != 0) return rc;
  return run(r, task, &f, 1, reply);
}

int ac__redis_callf(ac__redis_t *r, redisReply **reply, const char *fmt, ...) {
  struct ac__redis_fcmd f = {NULL, 0, -1};
  ac_task_t *task;
  va_list ap;
  int len, rc = start(r, 1, reply, &task);
  if (rc != 0) return rc;
  if (fmt == NULL) return AC_EINVAL;
  va_start(ap, fmt);
  len = redisvFormatCommand(&f.buf, fmt, ap);
  va_end(ap);
  if (len < 0 || f.buf == NULL) return len == -1 ? AC_ENOMEM : AC_EINVAL;
  f.len = (size_t)len;
  return run(r, task, &f, 1, reply);
}
