/*
 * The client's life: open (the first connection and its handshake, whose
 * failure is the caller's), free, and what it tells about itself.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "redis/internal.h"

#define DEFAULT_TIMEOUT_MS 5000

/* hiredis writes with write(2): a server gone would raise SIGPIPE, which
 * kills the process by default, where a lost connection is expected. A
 * program that installed its own handler keeps it. */
static void ignore_sigpipe(void) {
  struct sigaction sa;
  if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL) {
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
  }
}

static void destroy(ac__redis_t *r) {
  size_t i;
  ac__redis_uri_free(&r->uri);
  ac__free(r->client_name);
  for (i = 0; i < r->nscripts; i++) ac__free(r->scripts[i]);
  ac__free(r->scripts);
  ac__free(r->shas);
  ac__free(r);
}

int ac__redis_enter(ac__redis_t *r) {
  if (r->closed) return AC_ECLOSED;
  r->refs++;
  return 0;
}

void ac__redis_leave(ac__redis_t *r) {
  if (--r->refs == 0 && r->closed) destroy(r);
}

void ac__redis_free(ac__redis_t *r) {
  if (r == NULL || r->closed) return;
  r->closed = 1;
  /* Pending commands fail with AC_ECLOSED, and so do the tasks waiting for a
   * handshake; the poll handle closes through the loop. */
  ac__redis_drop(r, AC_ECLOSED);
  ac__wake_all(&r->conn_waiters, AC_ECLOSED);
  if (r->refs == 0) destroy(r);
}

static void why_set(char *why, size_t cap, const char *text) {
  if (why != NULL && cap > 0) snprintf(why, cap, "%s", text);
}

static int copy_opts(ac__redis_t *r, const ac__redis_opts_t *o) {
  size_t i;
  r->timeout_ms = o->timeout_ms != 0 ? o->timeout_ms : DEFAULT_TIMEOUT_MS;
  if (o->client_name != NULL && (r->client_name = ac__strdup(o->client_name)) == NULL)
    return AC_ENOMEM;
  if (o->nscripts == 0) return 0;
  r->scripts = ac__calloc(o->nscripts, sizeof(*r->scripts));
  r->shas = ac__calloc(o->nscripts, sizeof(*r->shas));
  if (r->scripts == NULL || r->shas == NULL) return AC_ENOMEM;
  for (; r->nscripts < o->nscripts; r->nscripts++) {
    i = r->nscripts;
    if (o->scripts[i] == NULL) return AC_EINVAL;
    if ((r->scripts[i] = ac__strdup(o->scripts[i])) == NULL) return AC_ENOMEM;
  }
  return 0;
}

int ac__redis_open(ac_loop_t *loop, const ac__redis_opts_t *o, ac__redis_t **out, char *why,
                   size_t cap) {
  ac__redis_t *r;
  ac_task_t *task;
  int rc;

  why_set(why, cap, "");
  if (out != NULL) *out = NULL;
  task = ac__task_require(&rc);
  if (task == NULL) {
    why_set(why, cap, "redis: ac__redis_open must run in a task");
    return rc;
  }
  if (loop == NULL || o == NULL || out == NULL || ac_task_loop(task) != loop ||
      (o->nscripts > 0 && o->scripts == NULL)) {
    why_set(why, cap, "redis: invalid arguments");
    return AC_EINVAL;
  }
  rc = ac__wait_check(task);
  if (rc != 0) return rc;
  r = ac__calloc(1, sizeof(*r));
  if (r == NULL) return AC_ENOMEM;
  r->loop = loop;
  ac__list_init(&r->conn_waiters);
  ac__list_init(&r->batches);
  rc = ac__redis_uri_parse(o->uri, &r->uri, why, cap);
  if (rc != 0) {
    destroy(r);
    return rc;
  }
  snprintf(r->addr, sizeof(r->addr), strchr(r->uri.host, ':') ? "[%s]:%d" : "%s:%d",
           r->uri.host, r->uri.port);
  rc = copy_opts(r, o);
  if (rc != 0) {
    why_set(why, cap, rc == AC_EINVAL ? "redis: a script is NULL" : "redis: out of memory");
    destroy(r);
    return rc;
  }
  ignore_sigpipe();
  r->refs = 1;
  rc = ac__redis_ready(r, task, ac_now_us() + r->timeout_ms * 1000);
  r->refs = 0;
  if (rc != 0) {
    if (r->last_error[0] == '\0') ac__redis_set_error(r, "%s", ac_strerror(rc));
    why_set(why, cap, r->last_error);
    ac__redis_free(r); /* a handshake left behind by a cancel is dropped */
    return rc;
  }
  *out = r;
  return 0;
}

const char *ac__redis_script_sha(const ac__redis_t *r, size_t i) {
  return r != NULL && i < r->nscripts ? r->shas[i] : NULL;
}

void ac__redis_stats(const ac__redis_t *r, ac__redis_stats_t *out) {
  if (out == NULL) return;
  if (r == NULL)
    memset(out, 0, sizeof(*out));
  else
    *out = r->stats;
}

const char *ac__redis_last_error(const ac__redis_t *r) {
  return r != NULL ? r->last_error : "";
}
