/*
 * The frontier of a crawl kept in this process: dedup in the seen set,
 * requests in the local ready heap, retries in the delayed heap until the
 * pump moves them back, and, with a crawl state, every request's pending,
 * done and failed marks for --resume (state.c). The crawl ends when this
 * process holds nothing and no producer runs (see docs/internals/crawl.md).
 */
#include <stdlib.h>

#include "common/alloc.h"
#include "crawl/internal.h"

static int mem_open(ac_crawl_t *c) {
  int rc;
  if (c->state_path == NULL) return 0;
  if (c->opts.resume && (rc = ac__state_load(c)) != 0) return rc;
  return ac__state_open(c);
}

static int start_fn(ac_crawl_t *c, void *arg) {
  (void)arg;
  return c->spider.start(c, c->spider.data);
}

static int mem_begin(ac_crawl_t *c) {
  ac_task_opts_t to = {"crawl-retries", 0};
  int rc;
  if ((rc = ac_task_spawn(c->loop, ac__crawl_pump_main, c, &to, &c->pump_task)) != 0) return rc;
  if (c->opts.resume && (rc = ac_crawl_produce(c, ac__state_loader, NULL)) != 0) return rc;
  return ac_crawl_produce(c, start_fn, NULL);
}

static int mem_add(ac_crawl_t *c, ac__crawl_url_t *u, const ac_crawl_request_t *req,
                   ac_follow_how_t how) {
  ac__creq_t *r;
  int rc;
  if (how == AC_FOLLOW_NEW) {
    rc = ac__seen_add(&c->seen, u->key);
    if (rc <= 0) {
      if (rc == 0) c->st.duplicates++;
      ac__crawl_url_free(u);
      return rc;
    }
  }
  r = ac__creq_new(c, u, req);
  if (r == NULL) {
    ac__crawl_url_free(u);
    return AC_ENOMEM;
  }
  r->again = how == AC_FOLLOW_AGAIN; /* a refetch is recorded like a new request */
  if (c->state != NULL && !r->again && (rc = ac__state_mark(c, r, 'p')) != 0) {
    ac__creq_free(r);
    return rc;
  }
  return ac__crawl_admit(c, r);
}

int ac__crawl_requeue(ac_crawl_t *c, const ac_crawl_request_t *req) {
  ac__crawl_url_t u;
  ac__creq_t *r;
  int rc;
  if (!ac__crawl_request_valid(c, req)) return AC_EINVAL;
  if ((rc = ac__crawl_request_url(req, &u)) != 0) return rc;
  r = ac__creq_new(c, &u, req);
  if (r == NULL) {
    ac__crawl_url_free(&u);
    return AC_ENOMEM;
  }
  return ac__crawl_admit(c, r);
}

static int mem_retry(ac_crawl_t *c, ac__creq_t *r, uint64_t delay_ms) {
  if (ac_sem_acquire(c->retry_space) != 0) return 0;
  if (c->stopping) {
    ac_sem_release(c->retry_space);
    return 0;
  }
  r->due_ms = ac_loop_now(c->loop) + delay_ms;
  ac__heap_insert(&c->delayed, &r->node);
  c->ndelayed++;
  ac_event_set(c->pump_wake);
  return 1;
}

/* Record how a request ended in the crawl state, if it has one. A mark that
 * cannot even be queued is a state error like a write that fails later. */
static void mem_settle(ac_crawl_t *c, ac__creq_t *r, char how) {
  int rc;
  /* Abandoned: the state still says pending. A hard stop writes no more
   * marks: a put could wait on a stalled state forever, and an unmarked
   * request is only fetched again on resume. */
  if (how == 'a' || c->state == NULL || r->again || c->hard) return;
  rc = ac__state_mark(c, r, how);
  if (rc != 0 && !c->hard && !c->state_error) {
    c->state_error = 1;
    c->state_why = ac__strdup(ac_strerror(rc));
  }
}

static int mem_finished(const ac_crawl_t *c) { return ac_crawl_quiet(c) && c->producers == 0; }

static void mem_end(ac_crawl_t *c) {
  ac_event_set(c->pump_wake);
  ac__crawl_finish_task(&c->pump_task, 1);
}

static int mem_close(ac_crawl_t *c) {
  (void)c;
  return 0;
}

static void mem_free(ac_crawl_t *c) { (void)c; }

/* A producer's follows are in the heaps as soon as it makes them. */
static int mem_flush(ac_crawl_t *c) {
  (void)c;
  return 0;
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
      ac__crawl_push_ready(c, r);
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

/* The local gate is the whole gate. */
static int mem_gate_enter(ac_crawl_t *c, ac__host_t *h) {
  (void)c;
  (void)h;
  return 0;
}

static void mem_gate_leave(ac_crawl_t *c, ac__host_t *h) {
  (void)c;
  (void)h;
}

static void mem_gate_pause(ac_crawl_t *c, ac__host_t *h, uint64_t ms) {
  (void)c;
  (void)h;
  (void)ms;
}

/* The crawl's failures are this process's own (c->st.failures). */
static void mem_record_failed(ac_crawl_t *c, ac__creq_t *r, const char *why) {
  (void)c;
  (void)r;
  (void)why;
}

const ac__frontier_ops_t ac__frontier_mem = {
    .name = "memory",
    .open = mem_open,
    .begin = mem_begin,
    .add = mem_add,
    .retry = mem_retry,
    .settle = mem_settle,
    .finished = mem_finished,
    .end = mem_end,
    .close = mem_close,
    .free = mem_free,
    .flush = mem_flush,
    .gate_enter = mem_gate_enter,
    .gate_leave = mem_gate_leave,
    .gate_pause = mem_gate_pause,
    .record_failed = mem_record_failed,
};
