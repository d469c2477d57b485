/*
 * The frontier: requests from follow to a consumer. The ready heap
 * (priority, then FIFO), the delayed heap of retries (due time) and the pump
 * that moves retries back when due; dedup through the seen set, the crawl
 * state's pending mark, and backpressure on the frontier's room (see
 * include/acrawl/crawl.h and docs/internals/crawl.md).
 */
#include <string.h>

#include "common/alloc.h"
#include "crawl/internal.h"

/* ------------------------------------------------------------ requests */

int ac__creq_ready_less(const struct ac__heap_node *a, const struct ac__heap_node *b) {
  const ac__creq_t *x = ac__container_of(a, ac__creq_t, node);
  const ac__creq_t *y = ac__container_of(b, ac__creq_t, node);
  if (x->pub.priority != y->pub.priority) return x->pub.priority > y->pub.priority;
  return x->seq < y->seq;
}

int ac__creq_delayed_less(const struct ac__heap_node *a, const struct ac__heap_node *b) {
  const ac__creq_t *x = ac__container_of(a, ac__creq_t, node);
  const ac__creq_t *y = ac__container_of(b, ac__creq_t, node);
  if (x->due_ms != y->due_ms) return x->due_ms < y->due_ms;
  return x->seq < y->seq;
}

void ac__creq_free(ac__creq_t *r) {
  if (r == NULL) return;
  ac__free(r->refusal);
  ac__free(r->key);
  ac__free(r->fetch);
  ac__free(r->meta);
  ac__free(r);
}

/* Takes ownership of u's strings. */
static ac__creq_t *creq_new(ac_crawl_t *c, ac__crawl_url_t *u, int callback, int priority,
                            const char *meta) {
  ac__creq_t *r = ac__calloc(1, sizeof(*r));
  if (r == NULL) return NULL;
  r->meta = ac__strdup(meta != NULL ? meta : "");
  r->host = ac__hosts_get(c, u->host);
  if (r->meta == NULL || r->host == NULL) {
    ac__free(r->meta);
    ac__free(r);
    return NULL;
  }
  r->key = u->key;
  r->fetch = u->fetch;
  ac__free(u->host);
  memset(u, 0, sizeof(*u));
  ac__list_init(&r->link);
  r->seq = c->seq++;
  r->pub.url = r->fetch;
  r->pub.callback = callback;
  r->pub.priority = priority;
  r->pub.meta = r->meta;
  r->pub.attempt = 1;
  return r;
}

ac__consumer_t *ac__crawl_consumer(ac_crawl_t *c) {
  ac_task_t *t = ac_task_current();
  if (t == NULL) return NULL;
  for (size_t i = 0; i < c->nconsumers; i++)
    if (c->consumers[i].task == t) return &c->consumers[i];
  return NULL;
}

/* ------------------------------------------------------------ frontier */

static void push_ready(ac_crawl_t *c, ac__creq_t *r) {
  ac__heap_insert(&c->ready, &r->node);
  c->nready++;
  ac_sem_release(c->avail);
}

ac__creq_t *ac__crawl_pop_ready(ac_crawl_t *c) {
  struct ac__heap_node *n = ac__heap_min(&c->ready);
  ac__creq_t *r;
  if (n == NULL) return NULL;
  ac__heap_remove(&c->ready, n);
  c->nready--;
  r = ac__container_of(n, ac__creq_t, node);
  if (!r->overflow) ac_sem_release(c->space);
  return r;
}

/* Put a new request in the frontier, waiting for room (see crawl.h for the
 * one exception). Returns 1, or an error (r is freed then). */
static int admit(ac_crawl_t *c, ac__creq_t *r) {
  ac__consumer_t *me = ac__crawl_consumer(c);
  int rc;
  if (c->stopping) goto recorded_only;
  if (ac_sem_try_acquire(c->space) == 0) {
    r->overflow = 0;
  } else if (me != NULL && c->consumers_alive - c->blocked_on_space <= 1) {
    /* Every other consumer waits for room that only consumers make. */
    r->overflow = 1;
  } else {
    if (me != NULL) {
      me->blocked_on_space = 1;
      c->blocked_on_space++;
    }
    rc = ac_sem_acquire(c->space);
    if (me != NULL) {
      me->blocked_on_space = 0;
      c->blocked_on_space--;
    }
    if (rc != 0) {
      ac__creq_free(r);
      return rc;
    }
    if (c->stopping) {
      ac_sem_release(c->space);
      goto recorded_only;
    }
  }
  push_ready(c, r);
  return 1;
recorded_only:
  /* Stopping: the request is in the state (when there is one) and a resumed
   * crawl will fetch it; this run will not. */
  ac__creq_free(r);
  return 1;
}

static int follow(ac_crawl_t *c, const char *url, int callback, int priority, const char *meta,
                  int again) {
  ac__crawl_url_t u;
  ac__creq_t *r;
  int rc;
  if (c == NULL || callback < 0 || (size_t)callback >= c->spider.ncallbacks) return AC_EINVAL;
  if (c->hard) return AC_ECANCELED;
  if ((rc = ac__crawl_url_parse(url, &u)) != 0) return rc;
  if (again == 0) {
    rc = ac__seen_add(&c->seen, u.key);
    if (rc <= 0) {
      if (rc == 0) c->st.duplicates++;
      ac__crawl_url_free(&u);
      return rc;
    }
  }
  r = creq_new(c, &u, callback, priority, meta);
  if (r == NULL) {
    ac__crawl_url_free(&u);
    return AC_ENOMEM;
  }
  r->again = again == 1; /* a refetch (2) is recorded like a new request */
  if (c->state != NULL && !r->again && (rc = ac__state_mark(c, r, 'p')) != 0) {
    ac__creq_free(r);
    return rc;
  }
  return admit(c, r);
}

int ac_crawl_follow(ac_crawl_t *c, const char *url, int callback, int priority,
                    const char *meta) {
  return follow(c, url, callback, priority, meta, 0);
}

int ac_crawl_follow_again(ac_crawl_t *c, const char *url, int callback, int priority,
                          const char *meta) {
  return follow(c, url, callback, priority, meta, 1);
}

int ac_crawl_refetch(ac_crawl_t *c, const char *url, int callback, int priority,
                     const char *meta) {
  return follow(c, url, callback, priority, meta, 2);
}

int ac__crawl_requeue(ac_crawl_t *c, const char *fetch, int callback, int priority,
                      const char *meta) {
  ac__crawl_url_t u;
  ac__creq_t *r;
  int rc;
  if (callback < 0 || (size_t)callback >= c->spider.ncallbacks) return AC_EINVAL;
  if ((rc = ac__crawl_url_parse(fetch, &u)) != 0) return rc;
  r = creq_new(c, &u, callback, priority, meta);
  if (r == NULL) {
    ac__crawl_url_free(&u);
    return AC_ENOMEM;
  }
  return admit(c, r);
}

/* Moves retries whose time has come back to the ready heap. */
int ac__crawl_pump_main(void *arg, void **result) {
  ac_crawl_t *c = arg;
  (void)result;
  for (;;) {
    uint64_t now = ac_loop_now(c->loop);
    struct ac__heap_node *n;
    int rc;
    while ((n = ac__heap_min(&c->delayed)) != NULL &&
           ac__container_of(n, ac__creq_t, node)->due_ms <= now) {
      ac__creq_t *r = ac__container_of(n, ac__creq_t, node);
      ac__heap_remove(&c->delayed, n);
      c->ndelayed--;
      ac_sem_release(c->retry_space);
      r->overflow = 1; /* it holds retry room, not frontier room */
      push_ready(c, r);
    }
    if (c->finished || c->stopping) return 0;
    ac_event_clear(c->pump_wake);
    if (n == NULL) {
      rc = ac_event_wait(c->pump_wake);
    } else {
      ac_timeout_t t;
      if ((rc = ac_timeout_enter(&t, ac__container_of(n, ac__creq_t, node)->due_ms - now)) != 0)
        return rc;
      rc = ac_event_wait(c->pump_wake);
      (void)ac_timeout_leave(&t);
      if (rc == AC_ETIMEDOUT) rc = 0;
    }
    if (rc != 0) return rc == AC_ECANCELED ? 0 : rc;
  }
}
