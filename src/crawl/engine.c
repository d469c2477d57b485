/*
 * The crawl engine's life: options, new and free, run (consumers, pump,
 * marker, producers, and the end on a closing task), stop, the quiet and
 * finished checks, and the numbers it gives out. The frontier is in
 * frontier.c, a request's handling in outcome.c (see include/acrawl/crawl.h
 * and docs/internals/crawl.md).
 *
 * Every counter and structure here is touched only on the loop's thread, and
 * only between awaits, so none needs a lock. The invariants that end a crawl:
 *   busy      consumers holding a request (from pop to done, failed, retry);
 *   producers start, resume and spider producer tasks still following;
 *   nready, ndelayed  requests in the two heaps.
 * When all four are zero no one can ever add work again: the crawl is over.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acrawl/version.h"
#include "common/alloc.h"
#include "crawl/internal.h"

/* ----------------------------------------------------------- the end */

static void wake_everyone(ac_crawl_t *c) {
  for (size_t i = 0; i < c->consumers_alive; i++) ac_sem_release(c->avail);
  for (size_t i = 0; i < c->blocked_on_space; i++) ac_sem_release(c->space);
  for (size_t i = 0; i < c->hosts.nbuckets; i++)
    for (ac__host_t *h = c->hosts.buckets[i]; h != NULL; h = h->next) ac_event_set(h->freed);
  ac_event_set(c->pump_wake);
  ac_event_set(c->done_ev);
}

int ac_crawl_quiet(const ac_crawl_t *c) {
  return c->busy == 0 && c->nready == 0 && c->ndelayed == 0;
}

void ac_crawl_notify_quiet(ac_crawl_t *c, ac_event_t *ev) {
  c->quiet_ev = ev;
  if (ev != NULL && ac_crawl_quiet(c)) ac_event_set(ev);
}

void ac__crawl_check_finished(ac_crawl_t *c) {
  if (c->finished || c->stopping) return;
  if (c->fr->finished(c)) {
    c->finished = 1;
    wake_everyone(c);
  } else if (ac_crawl_quiet(c) && c->quiet_ev != NULL) {
    /* A producer waiting for answers that will never come. */
    ac_event_set(c->quiet_ev);
  }
}

typedef struct producer {
  struct ac__list link;
  ac_crawl_t *crawl;
  ac_crawl_producer_fn fn;
  void *arg;
  ac_task_t *task;
  ac__creq_t *parent; /* the request whose callback started it, or NULL */
} producer_t;

static int producer_main(void *arg, void **result) {
  producer_t *p = arg;
  ac_crawl_t *c = p->crawl;
  int rc, flushed;
  (void)result;
  p->task = ac_task_current();
  rc = p->fn(c, p->arg);
  if (rc < 0 && rc != AC_ECANCELED) c->start_error = rc;
  if (!c->hard && (flushed = c->fr->flush(c)) < 0 && flushed != AC_ECANCELED && rc >= 0)
    c->start_error = flushed;
  if (p->parent != NULL) ac__creq_producer_ended(c, p->parent, rc >= 0 && !c->stopping);
  ac__list_remove(&p->link);
  ac__free(p);
  c->producers--;
  ac__crawl_check_finished(c);
  if (c->producers == 0) ac_event_set(c->done_ev);
  return 0;
}

int ac_crawl_produce(ac_crawl_t *c, ac_crawl_producer_fn fn, void *arg) {
  producer_t *p;
  ac_task_opts_t to = {"crawl-producer", 0};
  int rc;
  if (c == NULL || fn == NULL) return AC_EINVAL;
  if (c->stopping) return AC_ECANCELED;
  p = ac__calloc(1, sizeof(*p));
  if (p == NULL) return AC_ENOMEM;
  p->crawl = c;
  p->fn = fn;
  p->arg = arg;
  {
    /* Started by a callback: its request is not done before the producer
     * is, so a shared frontier's lease on it covers what it follows. */
    ac__consumer_t *me = ac__crawl_consumer(c);
    if (me != NULL && me->req != NULL) p->parent = me->req;
  }
  if ((rc = ac_task_spawn(c->loop, producer_main, p, &to, NULL)) != 0) {
    ac__free(p);
    return rc;
  }
  ac__list_insert_tail(&c->producer_list, &p->link);
  c->producers++;
  if (p->parent != NULL) p->parent->producers++;
  return 0;
}

static void cancel_producers(ac_crawl_t *c) {
  for (struct ac__list *l = c->producer_list.next; l != &c->producer_list; l = l->next) {
    producer_t *p = ac__container_of(l, producer_t, link);
    if (p->task != NULL) (void)ac_task_cancel(p->task);
  }
}

/* ------------------------------------------------------------ life */

void ac_crawl_opts_init(ac_crawl_opts_t *o) {
  memset(o, 0, sizeof(*o));
  o->concurrency = 16;
  o->retries = 4;
  o->backoff_base_ms = 100;
  o->backoff_max_ms = 30000;
  o->retry_after_max_ms = 60000;
  o->timeout_ms = 30000;
  o->connect_timeout_ms = 10000;
  o->max_body = 16u << 20;
  o->decompress = 1;
  o->frontier_cap = 4096;
  o->retry_cap = 4096;
  o->progress = AC_PROGRESS_AUTO;
  o->summary = 1;
  o->lease_ms = 30000;
  o->max_reclaims = 3;
  o->redis_timeout_ms = 5000;
}

int ac_crawl_shared(const ac_crawl_t *c) { return c->fr != &ac__frontier_mem; }

int ac_crawl_new(ac_loop_t *loop, const ac_spider_t *spider, const ac_crawl_opts_t *opts,
                 ac_crawl_t **out) {
  ac_crawl_opts_t defaults;
  ac_session_opts_t so;
  ac_crawl_t *c;
  int rc = AC_ENOMEM;
  if (out != NULL) *out = NULL;
  if (loop == NULL || spider == NULL || out == NULL || spider->start == NULL ||
      spider->callbacks == NULL || spider->ncallbacks == 0)
    return AC_EINVAL;
  if (opts == NULL) {
    ac_crawl_opts_init(&defaults);
    opts = &defaults;
  }
  if (opts->concurrency == 0 || opts->frontier_cap == 0 || opts->retry_cap == 0 ||
      opts->retries < 0 || !(opts->rate == 0 || (opts->rate >= 0.001 && opts->rate <= 1e6)) ||
      (opts->nstores > 0 && opts->stores == NULL) || (opts->resume && opts->state_path == NULL) ||
      (opts->retry_failed && opts->frontier == NULL) ||
      (opts->frontier != NULL &&
       (opts->state_path != NULL || opts->resume || opts->lease_ms < 3 ||
        (opts->crawl_name == NULL && (spider->name == NULL || *spider->name == '\0')))))
    return AC_EINVAL;
  c = ac__calloc(1, sizeof(*c));
  if (c == NULL) return AC_ENOMEM;
  c->loop = loop;
  c->fr = &ac__frontier_mem;
  c->spider = *spider;
  c->opts = *opts;
  /* Limits the user set hold for every worker of a shared crawl; the
   * default window is each worker's own. */
  c->gate_shared = opts->frontier != NULL &&
                   (opts->per_host > 0 || opts->rate > 0 || opts->retry_after_host);
  c->gate_per_host = opts->per_host;
  if (c->opts.per_host == 0 || c->opts.per_host > c->opts.concurrency)
    c->opts.per_host = c->opts.concurrency;
  c->out = opts->progress_stream != NULL ? opts->progress_stream : stderr;
  c->tty = isatty(fileno(c->out));
  if (c->opts.progress == AC_PROGRESS_AUTO)
    c->opts.progress = c->tty ? AC_PROGRESS_LINE : AC_PROGRESS_LOG;
  c->rng = (uint64_t)ac_now_us() | 1;
  c->kill_on = getenv("ACRAWL_TEST_KILL_ON");
  if (c->kill_on != NULL && *c->kill_on == '\0') c->kill_on = NULL;
  ac__heap_init(&c->ready, ac__creq_ready_less);
  ac__heap_init(&c->delayed, ac__creq_delayed_less);
  ac__list_init(&c->done_list);
  ac__list_init(&c->producer_list);
  if (opts->user_agent != NULL) {
    c->user_agent = ac__strdup(opts->user_agent);
  } else {
    c->user_agent = ac__malloc(64);
    if (c->user_agent != NULL)
      snprintf(c->user_agent, 64, "acrawl/%s (+https://github.com/acrawl)", AC_VERSION_STRING);
  }
  c->opts.user_agent = c->user_agent;
  if (c->user_agent == NULL) goto fail;
  if (opts->state_path != NULL && (c->state_path = ac__strdup(opts->state_path)) == NULL) goto fail;
  c->opts.state_path = c->state_path;
  c->consumers = ac__calloc(opts->concurrency, sizeof(*c->consumers));
  c->store_ok = ac__calloc(opts->nstores + 1, sizeof(*c->store_ok));
  c->store_refused = ac__calloc(opts->nstores + 1, sizeof(*c->store_refused));
  if (c->consumers == NULL || c->store_ok == NULL || c->store_refused == NULL) goto fail;
  c->nconsumers = opts->concurrency;
  if (opts->frontier != NULL) {
    c->fr = &ac__frontier_redis;
    if ((rc = ac__frontier_redis_init(c, opts->crawl_name != NULL ? opts->crawl_name : spider->name,
                                      opts->crawl_fingerprint)) != 0)
      goto fail;
  }
  if ((rc = ac_sem_new(loop, 0, &c->avail)) != 0 ||
      (rc = ac_sem_new(loop, opts->frontier_cap, &c->space)) != 0 ||
      (rc = ac_sem_new(loop, opts->retry_cap, &c->retry_space)) != 0 ||
      (rc = ac_event_new(loop, &c->pump_wake)) != 0 ||
      (rc = ac_event_new(loop, &c->done_ev)) != 0 ||
      (rc = ac_event_new(loop, &c->marker_wake)) != 0)
    goto fail;
  ac_session_opts_init(&so);
  so.user_agent = c->user_agent;
  so.headers = spider->headers;
  so.nheaders = spider->nheaders;
  /* Idle connections: one per consumer, so keep-alive never churns. */
  so.max_idle_connections = opts->concurrency > 256 ? opts->concurrency : 256;
  if ((rc = ac_session_new(loop, &so, &c->session)) != 0) goto fail;
  *out = c;
  return 0;
fail:
  ac_crawl_free(c);
  return rc;
}

static void free_heap(struct ac__heap *h) {
  struct ac__heap_node *n;
  while ((n = ac__heap_min(h)) != NULL) {
    ac__heap_remove(h, n);
    ac__creq_free(ac__container_of(n, ac__creq_t, node));
  }
}

void ac_crawl_free(ac_crawl_t *c) {
  struct ac__list *l;
  if (c == NULL) return;
  free_heap(&c->ready);
  free_heap(&c->delayed);
  while ((l = ac__list_head(&c->done_list)) != NULL) {
    ac__list_remove(l);
    ac__creq_free(ac__container_of(l, ac__creq_t, link));
  }
  /* After the requests: a shared worker's requests sit on its frontier's
   * list of those it holds, and leave it as they are freed. */
  if (c->fr != NULL) c->fr->free(c);
  (void)ac_session_free(c->session);
  (void)ac_sem_free(c->avail);
  (void)ac_sem_free(c->space);
  (void)ac_sem_free(c->retry_space);
  (void)ac_event_free(c->pump_wake);
  (void)ac_event_free(c->done_ev);
  (void)ac_event_free(c->marker_wake);
  ac__hosts_free(&c->hosts);
  ac__seen_free(&c->seen);
  for (size_t i = 0; i < c->nfailures; i++) {
    ac__free(c->failures[i].url);
    ac__free(c->failures[i].why);
  }
  ac__free(c->failures);
  for (size_t i = 0; c->consumers != NULL && i < c->nconsumers; i++)
    ac__free(c->consumers[i].fail_reason);
  ac__free(c->consumers);
  ac__free(c->store_ok);
  ac__free(c->store_refused);
  ac__free(c->fail_reason);
  ac__free(c->state_why);
  ac__free(c->user_agent);
  ac__free(c->state_path);
  ac__free(c);
}

static int spawn(ac_crawl_t *c, ac_task_fn fn, void *arg, const char *name, ac_task_t **out) {
  ac_task_opts_t to = {name, 0};
  return ac_task_spawn(c->loop, fn, arg, &to, out);
}

void ac__crawl_finish_task(ac_task_t **t, int cancel) {
  if (*t == NULL) return;
  if (cancel) (void)ac_task_cancel(*t);
  /* The awaiting task may be cancelled (a hard stop while closing): the
   * awaited one still touches the crawl until it ends. */
  while (!ac_task_is_finished(*t)) (void)ac_task_await(*t, NULL);
  ac_task_release(*t);
  *t = NULL;
}

/* The end of every run: items become durable, their acks queue the done
 * marks, the marker writes them, then the state itself is closed. On a task
 * of its own, so that a hard stop can cancel its waits: a store that keeps
 * failing (a locked database, a full disk) must not hold the stop. A hard
 * stop does not wait for the item stores at all (the caller aborts them),
 * and aborts the state: marks not yet written only make a resumed crawl
 * fetch those requests again. */
static int closing_main(void *arg, void **result) {
  ac_crawl_t *c = arg;
  int rc;
  (void)result;
  c->closing_phase = 1; /* a hard stop cancels this task's flush waits */
  for (size_t i = 0; i < c->opts.nstores && !c->hard; i++) (void)ac_store_flush(c->opts.stores[i]);
  c->closing_phase = 2; /* a hard stop cancels the marker */
  c->marker_stop = 1;
  ac_event_set(c->marker_wake);
  ac__crawl_finish_task(&c->marker_task, c->hard);
  if ((rc = c->fr->close(c)) != 0 && !c->hard) {
    c->state_error = 1;
    if (c->state_why == NULL) c->state_why = ac__strdup(ac_strerror(rc));
  }
  /* From here a cancellation must not reach ac_store_close: it would turn
   * the close into an abort finishing on its own, whose last acks would
   * come after the crawl is freed. A hard stop aborts the state from
   * another task instead (abort_state_main), and the close returns once
   * the abort is over. A cancel the flush did not take is taken here. */
  c->closing_phase = 3;
  while (ac_task_cancel_pending(ac_task_current())) (void)ac_sleep(0);
  if (c->state != NULL) {
    if (c->hard) {
      ac_store_abort(c->state);
    } else {
      rc = ac_store_close(c->state);
      if (rc != 0 && !c->hard) {
        c->state_error = 1;
        if (c->state_why == NULL) c->state_why = ac__strdup(ac_strerror(rc));
      }
    }
    c->state = NULL;
  }
  return 0;
}

/* A hard stop while the state is being closed (see closing_main). */
static int abort_state_main(void *arg, void **result) {
  ac_crawl_t *c = arg;
  (void)result;
  if (c->state != NULL) ac_store_abort(c->state);
  return 0;
}

int ac_crawl_run(ac_crawl_t *c) {
  int rc = 0;
  char name[32];
  if (c == NULL) return AC_EINVAL;
  if (ac_task_current() == NULL) return AC_ENOTASK;
  if (c->running) return AC_EBUSY;
  c->running = 1;
  c->t0_ms = ac_loop_now(c->loop);
  c->started_us = ac_now_us();

  if ((rc = c->fr->open(c)) != 0) goto out;
  for (size_t i = 0; i < c->nconsumers; i++) {
    c->consumers[i].crawl = c;
    snprintf(name, sizeof(name), "crawl-%zu", i);
    if ((rc = spawn(c, ac__crawl_consumer_main, &c->consumers[i], name, &c->consumers[i].task)) != 0)
      goto stop_now;
    c->consumers_alive++;
  }
  if ((rc = spawn(c, ac__crawl_marker_main, c, "crawl-marks", &c->marker_task)) != 0)
    goto stop_now;
  if (c->opts.progress != AC_PROGRESS_QUIET &&
      (rc = spawn(c, ac__crawl_progress_task, c, "crawl-progress", &c->progress_task)) != 0)
    goto stop_now;
  if ((rc = c->fr->begin(c)) != 0) goto stop_now;

  while (!c->finished && !c->stopping && c->consumers_alive > 0) {
    ac_event_clear(c->done_ev);
    if (ac_event_wait(c->done_ev) != 0) ac_crawl_stop(c, 1); /* run's task cancelled */
  }
  goto wind_down;
stop_now:
  ac_crawl_stop(c, 1);
wind_down:
  /* Producers go first (graceful stop cancels them: what they followed is
   * in the state), then the consumers finish what they hold. */
  if (c->stopping) cancel_producers(c);
  while (c->producers > 0) {
    ac_event_clear(c->done_ev);
    (void)ac_event_wait(c->done_ev);
  }
  for (size_t i = 0; i < c->nconsumers; i++) ac__crawl_finish_task(&c->consumers[i].task, c->hard);
  if (!c->stopping) c->stopping = c->finished ? 0 : 1;
  c->fr->end(c);
  c->closing = 1;
  if (spawn(c, closing_main, c, "crawl-close", &c->closing_task) == 0)
    ac__crawl_finish_task(&c->closing_task, 0);
  else
    (void)closing_main(c, NULL); /* no task (ENOMEM): the same, without a hard stop */
  ac__crawl_finish_task(&c->abort_task, 0);
  ac__crawl_finish_task(&c->progress_task, 1);
  c->st.elapsed_s = (double)(ac_now_us() - c->started_us) / 1e6;
  if (c->opts.progress != AC_PROGRESS_QUIET) ac__crawl_progress_line(c, 1);
  if (c->opts.summary) ac__crawl_print_summary(c);
  if (c->state_error && c->state_why != NULL && c->state_path != NULL)
    fprintf(c->out, "the crawl state %s could not be written (%s): --resume may fetch again "
            "what this run did\n", c->state_path, c->state_why);
  else if (c->state_error && c->state_why != NULL)
    fprintf(c->out, "%s\n", c->state_why);
  if (rc == 0) {
    if (c->state_error) rc = AC_ESTORE;
    else if (c->stopping && !c->stopped_on_error) rc = AC_ECANCELED;
    else if (c->st.failures > 0 || c->start_error != 0) rc = AC_EFAILED;
  }
out:
  c->running = 0;
  c->closing = 0;
  return rc;
}

void ac__crawl_stop_on_error(ac_crawl_t *c, int err) {
  if (c->start_error == 0) c->start_error = err;
  if (!c->stopping) c->stopped_on_error = 1;
  ac_crawl_stop(c, 0);
}

void ac_crawl_stop(ac_crawl_t *c, int hard) {
  if (c == NULL || !c->running) return;
  if (c->closing) {
    /* Over but for its stores: only a hard stop has something to cut short. */
    if (hard && !c->hard) {
      c->hard = 1;
      c->stopping = 1;
      /* Only once it runs: a task cancelled before its start never runs,
       * and this one must (it stops the marker and closes the state). */
      if (c->closing_phase == 1 && c->closing_task != NULL) (void)ac_task_cancel(c->closing_task);
      if (c->marker_task != NULL) (void)ac_task_cancel(c->marker_task);
      if (c->closing_phase == 3 && c->state != NULL && c->abort_task == NULL)
        (void)spawn(c, abort_state_main, c, "crawl-abort-state", &c->abort_task);
    }
    return;
  }
  if (c->finished) {
    /* Finished, its end not yet begun: the end will see the hard stop. */
    if (hard) {
      c->hard = 1;
      c->stopping = 1;
    }
    return;
  }
  if (c->stopping && (!hard || c->hard)) return;
  c->stopping = 1;
  if (hard) c->hard = 1;
  cancel_producers(c);
  for (size_t i = 0; i < c->nconsumers; i++) {
    ac__consumer_t *k = &c->consumers[i];
    /* Graceful: requests in flight finish; those still waiting for their
     * host (a Retry-After pause, a rate slot) never start. */
    if (k->task != NULL && (hard || k->in_gate || k->blocked_on_space))
      (void)ac_task_cancel(k->task);
  }
  wake_everyone(c);
}

void ac_crawl_stats(const ac_crawl_t *c, ac_crawl_stats_t *s) {
  *s = c->st;
  s->items_stored = c->items_stored;
  s->queued = c->nready + c->ndelayed;
  if (c->running) s->elapsed_s = (double)(ac_now_us() - c->started_us) / 1e6;
  s->latency_p50_ms = ac__latency_quantile_ms(&c->lat, 0.50);
  s->latency_p99_ms = ac__latency_quantile_ms(&c->lat, 0.99);
}

const char *ac_crawl_cause_name(int cause) {
  static const char *const names[AC__CAUSES] = {"network", "timeout", "5xx",   "429",
                                                "short",   "parse",   "4xx",   "other"};
  return cause >= 0 && cause < AC__CAUSES ? names[cause] : "unknown";
}

size_t ac_crawl_failure_count(const ac_crawl_t *c) { return c->nfailures; }

int ac_crawl_failure_at(const ac_crawl_t *c, size_t i, ac_crawl_failure_t *f) {
  const ac__failure_t *x;
  if (i >= c->nfailures) return AC_EINVAL;
  x = &c->failures[i];
  f->url = x->url;
  f->cause = x->cause;
  f->code = x->code;
  f->status = x->status;
  f->attempts = x->attempts;
  f->why = x->why;
  return 0;
}
