/*
 * The crawl engine: the frontier, the consumer tasks and the life of a
 * request (see include/acrawl/crawl.h and docs/internals/crawl.md).
 *
 * Every counter and structure here is touched only on the loop's thread, and
 * only between awaits, so none needs a lock. The invariants that end a crawl:
 *   busy      consumers holding a request (from pop to done, failed, retry);
 *   producers start, resume and spider producer tasks still following;
 *   nready, ndelayed  requests in the two heaps.
 * When all four are zero no one can ever add work again: the crawl is over.
 */
#define _GNU_SOURCE /* strptime, timegm */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "acrawl/version.h"
#include "common/alloc.h"
#include "crawl/internal.h"

/* ------------------------------------------------------------ requests */

static int ready_less(const struct ac__heap_node *a, const struct ac__heap_node *b) {
  const ac__creq_t *x = ac__container_of(a, ac__creq_t, node);
  const ac__creq_t *y = ac__container_of(b, ac__creq_t, node);
  if (x->pub.priority != y->pub.priority) return x->pub.priority > y->pub.priority;
  return x->seq < y->seq;
}

static int delayed_less(const struct ac__heap_node *a, const struct ac__heap_node *b) {
  const ac__creq_t *x = ac__container_of(a, ac__creq_t, node);
  const ac__creq_t *y = ac__container_of(b, ac__creq_t, node);
  if (x->due_ms != y->due_ms) return x->due_ms < y->due_ms;
  return x->seq < y->seq;
}

static void creq_free(ac__creq_t *r) {
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

static ac__consumer_t *current_consumer(ac_crawl_t *c) {
  ac_task_t *t = ac_task_current();
  if (t == NULL) return NULL;
  for (size_t i = 0; i < c->nconsumers; i++)
    if (c->consumers[i].task == t) return &c->consumers[i];
  return NULL;
}

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

static void check_finished(ac_crawl_t *c) {
  if (c->finished || c->stopping) return;
  if (!ac_crawl_quiet(c)) return;
  if (c->producers == 0) {
    c->finished = 1;
    wake_everyone(c);
  } else if (c->quiet_ev != NULL) {
    /* A producer waiting for answers that will never come. */
    ac_event_set(c->quiet_ev);
  }
}

/* ------------------------------------------------------------ frontier */

static void push_ready(ac_crawl_t *c, ac__creq_t *r) {
  ac__heap_insert(&c->ready, &r->node);
  c->nready++;
  ac_sem_release(c->avail);
}

static ac__creq_t *pop_ready(ac_crawl_t *c) {
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
  ac__consumer_t *me = current_consumer(c);
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
      creq_free(r);
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
  creq_free(r);
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
    creq_free(r);
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
static int pump_main(void *arg, void **result) {
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

/* ------------------------------------------------ outcome of a request */

static void record_failure(ac_crawl_t *c, ac__creq_t *r, int cause, int code, int status,
                           const char *why) {
  c->st.failures++;
  if (c->nfailures < AC__MAX_FAILURES) {
    ac__failure_t *f;
    if (c->failures == NULL) {
      c->failures = ac__calloc(AC__MAX_FAILURES, sizeof(*c->failures));
      if (c->failures == NULL) return;
    }
    f = &c->failures[c->nfailures];
    f->url = ac__strdup(r->fetch);
    f->why = ac__strdup(why != NULL ? why : "");
    if (f->url == NULL || f->why == NULL) {
      ac__free(f->url);
      ac__free(f->why);
      return;
    }
    f->cause = cause;
    f->code = code;
    f->status = status;
    f->attempts = r->pub.attempt;
    c->nfailures++;
  }
  if (c->opts.progress != AC_PROGRESS_QUIET && c->opts.verbose)
    fprintf(c->out, "%sfailed: %s (%s, %d attempt%s)\n", c->tty ? "\r\033[K" : "", r->fetch,
            why != NULL ? why : "", r->pub.attempt, r->pub.attempt == 1 ? "" : "s");
}

/* Record how a request ended in the crawl state, if it has one. A mark that
 * cannot even be queued is a state error like a write that fails later. */
static void state_mark(ac_crawl_t *c, const ac__creq_t *r, char status) {
  int rc;
  /* A hard stop writes no more marks: a put could wait on a stalled state
   * forever, and an unmarked request is only fetched again on resume. */
  if (c->state == NULL || r->again || c->hard) return;
  rc = ac__state_mark(c, r, status);
  if (rc != 0 && !c->hard && !c->state_error) {
    c->state_error = 1;
    c->state_why = ac__strdup(ac_strerror(rc));
  }
}

/* The request is over for this run without being done or failed (the
 * crawl stops): the state still says pending. */
static void abandon(ac__creq_t *r) {
  r->finished = 1;
  if (r->acks_pending == 0) creq_free(r);
}

static void mark_done(ac_crawl_t *c, ac__creq_t *r) {
  if (r->acks_refused > 0) {
    /* Which store, and its own words (a full disk, a bad path). The page is
     * marked failed, so --resume fetches it again and puts its items in
     * every store: the ones that kept them upsert the same document. */
    char why[640];
    snprintf(why, sizeof(why), "%s%s",
             r->refusal != NULL ? r->refusal : "a store refused an item of this page",
             c->opts.nstores > 1 && (size_t)__builtin_popcountll(r->refused_by) < c->opts.nstores
                 ? " (the other stores kept it)"
                 : "");
    record_failure(c, r, AC_CAUSE_OTHER, AC_ESTORE, 0, why);
    state_mark(c, r, 'f');
  } else {
    c->items_stored += r->nitems;
    c->st.pages_done++;
    state_mark(c, r, 'd');
  }
  creq_free(r);
}

static void fail(ac_crawl_t *c, ac__creq_t *r, int cause, int code, int status,
                 const char *why) {
  record_failure(c, r, cause, code, status, why);
  state_mark(c, r, 'f');
  r->finished = 1;
  if (r->acks_pending == 0) creq_free(r);
}

static void on_item_ack(ac_store_t *store, int status, void *userdata) {
  ac__creq_t *r = userdata;
  ac_crawl_t *c = r->crawl;
  size_t k = 0;
  while (k < c->opts.nstores && c->opts.stores[k] != store) k++;
  if (k < c->opts.nstores) {
    if (status == 0) c->store_ok[k]++;
    else c->store_refused[k]++;
  }
  if (status != 0) {
    r->acks_refused++;
    if (k < 64) r->refused_by |= 1ull << k;
    if (r->refusal == NULL) {
      /* The store's last error is this item's: acks come right after the
       * write that refused it. */
      ac_store_stats_t st;
      char why[600], uri[256];
      ac_store_stats(store, &st);
      ac__crawl_uri_shown(ac_store_uri(store), uri, sizeof(uri));
      snprintf(why, sizeof(why), "the store %s refused an item of this page%s%s", uri,
               st.last_error[0] != '\0' ? ": " : "", st.last_error);
      r->refusal = ac__strdup(why); /* NULL on ENOMEM: mark_done says less */
    }
  }
  if (--r->acks_pending > 0) return;
  if (r->finished) {
    creq_free(r);
  } else if (r->parsed) {
    ac__list_insert_tail(&c->done_list, &r->link);
    ac_event_set(c->marker_wake);
  }
}

/* Writes the done marks of requests whose items were acknowledged after
 * their callback returned (acks arrive outside tasks and cannot await). */
static int marker_main(void *arg, void **result) {
  ac_crawl_t *c = arg;
  (void)result;
  for (;;) {
    struct ac__list *l;
    while ((l = ac__list_head(&c->done_list)) != NULL) {
      ac__creq_t *r = ac__container_of(l, ac__creq_t, link);
      ac__list_remove(l);
      if (c->hard) creq_free(r); /* not marked: fetched again on resume */
      else mark_done(c, r);
    }
    if (c->hard) return 0;
    if (c->expected_dirty && c->state != NULL) {
      c->expected_dirty = 0;
      (void)ac__state_expected(c, c->st.expected);
    }
    if (c->marker_stop) return 0;
    ac_event_clear(c->marker_wake);
    if (ac_event_wait(c->marker_wake) != 0) c->marker_stop = 1;
  }
}

int ac_crawl_emit(ac_crawl_t *c, const char *key, const void *doc, size_t len) {
  ac__consumer_t *me = current_consumer(c);
  ac__creq_t *r = me != NULL ? me->req : NULL;
  if (r == NULL || key == NULL || *key == '\0' || doc == NULL || len == 0) return AC_EINVAL;
  c->st.items++;
  r->nitems++;
  for (size_t i = 0; i < c->opts.nstores; i++) {
    int rc;
    r->acks_pending++;
    rc = ac_store_put(c->opts.stores[i], key, doc, len, on_item_ack, r);
    if (rc != 0) {
      r->acks_pending--;
      return rc;
    }
  }
  return 0;
}

size_t ac_crawl_concurrency(const ac_crawl_t *c) { return c->nconsumers; }

void ac_crawl_set_expected(ac_crawl_t *c, uint64_t requests) {
  c->st.expected = requests;
  c->expected_dirty = 1;
  ac_event_set(c->marker_wake);
}

void ac_crawl_fail_reason(ac_crawl_t *c, const char *why) {
  /* Per consumer: callbacks of several consumers interleave at awaits. */
  ac__consumer_t *me = current_consumer(c);
  char **slot = me != NULL ? &me->fail_reason : &c->fail_reason;
  ac__free(*slot);
  *slot = why != NULL ? ac__strdup(why) : NULL;
}

void ac_crawl_fail_record(ac_crawl_t *c, const char *why) {
  ac__consumer_t *me = current_consumer(c);
  if (me == NULL || me->req == NULL) return;
  record_failure(c, me->req, AC_CAUSE_OTHER, AC_EPROTO, 0, why);
}

void ac_crawl_note(ac_crawl_t *c, const char *fmt, ...) {
  va_list ap;
  if (c->opts.progress == AC_PROGRESS_QUIET) return;
  if (c->tty) fputs("\r\033[K", c->out);
  va_start(ap, fmt);
  vfprintf(c->out, fmt, ap);
  va_end(ap);
  fputc('\n', c->out);
}

/* ------------------------------------------------------- classification */

static int cause_of_error(int rc, int *retryable) {
  *retryable = 1;
  switch (rc) {
  case AC_ETIMEDOUT: return AC_CAUSE_TIMEOUT;
  case AC_ESHORT: return AC_CAUSE_SHORT;
  case AC_ECONNREFUSED: case AC_ECONNRESET: case AC_EDNS: case AC_ETLS: case AC_EPROTO:
  case AC_EIO: case AC_EPIPE:
    return AC_CAUSE_NETWORK;
  default:
    /* AC_ETOOLARGE, AC_EREDIRECT, AC_EINVAL: the same request would fail the
     * same way again. */
    *retryable = 0;
    return AC_CAUSE_OTHER;
  }
}

/* Retry-After (RFC 9110 10.2.3): delay-seconds, or an HTTP-date (the
 * IMF-fixdate form every server sends) counted from now. Anything else, a
 * date past or a negative number is absent: the backoff applies. Capped
 * here so that no value (1e300, "inf") overflows the conversion; the caller
 * caps it again at retry_after_max_ms. */
static uint64_t retry_after_ms(ac_response_t *resp) {
  const char *v = ac_response_header(resp, "Retry-After");
  const double cap_s = 86400.0 * 365;
  double s;
  if (v == NULL) return 0;
  while (*v == ' ' || *v == '\t') v++;
  if (*v >= '0' && *v <= '9') {
    char *end;
    /* delay-seconds is digits (a fraction is tolerated): not strtod's hex. */
    if (strspn(v, "0123456789.") != strcspn(v, " \t")) return 0;
    s = strtod(v, &end);
    while (*end == ' ' || *end == '\t') end++;
    if (*end != '\0' || !(s >= 0)) return 0;
  } else {
    struct tm tm;
    const char *end;
    time_t when;
    memset(&tm, 0, sizeof(tm));
    end = strptime(v, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (end == NULL || (when = timegm(&tm)) == (time_t)-1) return 0;
    s = difftime(when, time(NULL));
    if (!(s > 0)) return 0;
  }
  if (s > cap_s) s = cap_s;
  return (uint64_t)(s * 1000.0);
}

static uint64_t rng_next(ac_crawl_t *c) {
  /* xorshift64*: the jitter needs spread, not secrecy. */
  c->rng ^= c->rng >> 12;
  c->rng ^= c->rng << 25;
  c->rng ^= c->rng >> 27;
  return c->rng * 0x2545F4914F6CDD1Dull;
}

static uint64_t backoff_ms(ac_crawl_t *c, int attempt) {
  uint64_t cap = c->opts.backoff_base_ms;
  for (int i = 1; i < attempt && cap < c->opts.backoff_max_ms; i++) cap *= 2;
  if (cap > c->opts.backoff_max_ms) cap = c->opts.backoff_max_ms;
  /* Full jitter (AWS's analysis): spreads retries of a burst of failures
   * instead of sending them back together. */
  return cap == 0 ? 0 : rng_next(c) % (cap + 1);
}

/* Returns 1 if the request was put in the retry heap. */
static int schedule_retry(ac_crawl_t *c, ac__creq_t *r, int cause, uint64_t ra_ms) {
  uint64_t delay;
  if (ra_ms > 0) {
    delay = ra_ms < c->opts.retry_after_max_ms ? ra_ms : c->opts.retry_after_max_ms;
    if (c->opts.retry_after_host) ac__host_pause(c, r->host, delay);
    else c->st.retry_after_waits++;
  } else {
    delay = backoff_ms(c, r->pub.attempt);
  }
  if (ac_sem_acquire(c->retry_space) != 0) return 0;
  if (c->stopping) {
    ac_sem_release(c->retry_space);
    return 0;
  }
  c->st.retries++;
  c->st.retries_by_cause[cause]++;
  r->nitems = 0; /* items_stored counts the attempt that completes */
  if (c->opts.verbose && c->opts.progress != AC_PROGRESS_QUIET)
    fprintf(c->out, "%sretry %d of %s in %llu ms (%s)\n", c->tty ? "\r\033[K" : "",
            r->pub.attempt, r->fetch, (unsigned long long)delay, ac_crawl_cause_name(cause));
  r->pub.attempt++;
  r->due_ms = ac_loop_now(c->loop) + delay;
  ac__heap_insert(&c->delayed, &r->node);
  c->ndelayed++;
  ac_event_set(c->pump_wake);
  return 1;
}

/* One attempt of one request, and what follows from it. */
static void handle(ac_crawl_t *c, ac__consumer_t *me, ac__creq_t *r) {
  ac_request_opts_t o;
  ac_response_t *resp = NULL;
  ac_http_error_t err;
  char why[320];
  int rc, status = 0, cause, retryable, code;
  uint64_t t0, lat_us, ra = 0;

  me->in_gate = 1;
  rc = ac__host_acquire(c, r->host);
  me->in_gate = 0;
  if (rc != 0 || c->stopping) {
    if (rc == 0) ac__host_release(c, r->host, -1, 0);
    abandon(r);
    return;
  }
  ac_request_opts_init(&o);
  o.url = r->fetch;
  o.timeout_ms = c->opts.timeout_ms;
  o.connect_timeout_ms = c->opts.connect_timeout_ms;
  o.max_body = c->opts.max_body;
  o.decompress = c->opts.decompress;
  c->st.requests++;
  c->st.in_flight++;
  t0 = ac_now_us();
  rc = ac_session_request(c->session, &o, &resp, &err);
  lat_us = ac_now_us() - t0;
  c->st.in_flight--;
  if (rc == AC_ECANCELED) {
    ac__host_release(c, r->host, -1, 0);
    abandon(r);
    return;
  }
  if (rc == 0) {
    size_t len;
    (void)ac_response_body(resp, &len);
    status = ac_response_status(resp);
    c->st.responses++;
    c->st.bytes += len;
    if (status >= 200 && status < 300) {
      ac__latency_add(&c->lat, lat_us);
      ac__host_release(c, r->host, 0, lat_us / 1000);
      ac_crawl_fail_reason(c, NULL);
      rc = c->spider.callbacks[r->pub.callback](c, &r->pub, resp, c->spider.data);
      ac_response_free(resp);
      if (rc == 0) {
        r->parsed = 1;
        if (r->acks_pending == 0) mark_done(c, r);
        return;
      }
      if (rc == AC_ECANCELED) {
        abandon(r);
        return;
      }
      retryable = rc == AC_EPARSE;
      cause = retryable ? AC_CAUSE_PARSE : AC_CAUSE_OTHER;
      code = rc;
      snprintf(why, sizeof(why), "%s", me->fail_reason != NULL ? me->fail_reason : ac_strerror(rc));
    } else {
      int overload = status == 429 || status == 503;
      ac__host_release(c, r->host, overload ? 1 : 2, lat_us / 1000);
      code = 0;
      if (status == 429) {
        cause = AC_CAUSE_429;
        retryable = 1;
      } else if (status >= 500 || status == 408) {
        cause = status == 408 ? AC_CAUSE_TIMEOUT : AC_CAUSE_5XX;
        retryable = 1;
      } else {
        cause = status >= 400 ? AC_CAUSE_4XX : AC_CAUSE_OTHER;
        retryable = 0;
      }
      if (overload) ra = retry_after_ms(resp);
      snprintf(why, sizeof(why), "HTTP %d %s", status, ac_response_reason(resp));
      ac_response_free(resp);
    }
  } else {
    ac__host_release(c, r->host, rc == AC_ETIMEDOUT ? 1 : 2, lat_us / 1000);
    cause = cause_of_error(rc, &retryable);
    code = rc;
    /* The class first (what the retry decision saw), then libcurl's words. */
    if (err.message[0] != '\0')
      snprintf(why, sizeof(why), "%s: %s", ac_strerror(rc), err.message);
    else
      snprintf(why, sizeof(why), "%s", ac_strerror(rc));
  }
  r->last_cause = cause;
  r->last_code = code;
  r->last_status = status;
  if (retryable && r->pub.attempt <= c->opts.retries && !c->stopping) {
    if (schedule_retry(c, r, cause, ra)) return;
  }
  if (retryable && c->stopping) {
    abandon(r); /* not failed: a resumed crawl tries again */
    return;
  }
  fail(c, r, cause, code, status, why);
}

static int consumer_main(void *arg, void **result) {
  ac__consumer_t *me = arg;
  ac_crawl_t *c = me->crawl;
  (void)result;
  for (;;) {
    ac__creq_t *r;
    if (ac_sem_acquire(c->avail) != 0) break;
    if (c->finished || c->stopping) break;
    r = pop_ready(c);
    if (r == NULL) continue; /* cannot happen: a permit per ready request */
    c->busy++;
    r->crawl = c;
    me->req = r;
    handle(c, me, r);
    me->req = NULL;
    c->busy--;
    check_finished(c);
  }
  c->consumers_alive--;
  if (c->consumers_alive == 0) ac_event_set(c->done_ev);
  return 0;
}

typedef struct producer {
  struct ac__list link;
  ac_crawl_t *crawl;
  ac_crawl_producer_fn fn;
  void *arg;
  ac_task_t *task;
} producer_t;

static int producer_main(void *arg, void **result) {
  producer_t *p = arg;
  ac_crawl_t *c = p->crawl;
  int rc;
  (void)result;
  p->task = ac_task_current();
  rc = p->fn(c, p->arg);
  if (rc < 0 && rc != AC_ECANCELED) c->start_error = rc;
  ac__list_remove(&p->link);
  ac__free(p);
  c->producers--;
  check_finished(c);
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
  if ((rc = ac_task_spawn(c->loop, producer_main, p, &to, NULL)) != 0) {
    ac__free(p);
    return rc;
  }
  ac__list_insert_tail(&c->producer_list, &p->link);
  c->producers++;
  return 0;
}

static int start_fn(ac_crawl_t *c, void *arg) {
  (void)arg;
  return c->spider.start(c, c->spider.data);
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
}

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
      (opts->nstores > 0 && opts->stores == NULL) || (opts->resume && opts->state_path == NULL))
    return AC_EINVAL;
  c = ac__calloc(1, sizeof(*c));
  if (c == NULL) return AC_ENOMEM;
  c->loop = loop;
  c->spider = *spider;
  c->opts = *opts;
  if (c->opts.per_host == 0 || c->opts.per_host > c->opts.concurrency)
    c->opts.per_host = c->opts.concurrency;
  c->out = opts->progress_stream != NULL ? opts->progress_stream : stderr;
  c->tty = isatty(fileno(c->out));
  if (c->opts.progress == AC_PROGRESS_AUTO)
    c->opts.progress = c->tty ? AC_PROGRESS_LINE : AC_PROGRESS_LOG;
  c->rng = (uint64_t)ac_now_us() | 1;
  ac__heap_init(&c->ready, ready_less);
  ac__heap_init(&c->delayed, delayed_less);
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
    creq_free(ac__container_of(n, ac__creq_t, node));
  }
}

void ac_crawl_free(ac_crawl_t *c) {
  struct ac__list *l;
  if (c == NULL) return;
  free_heap(&c->ready);
  free_heap(&c->delayed);
  while ((l = ac__list_head(&c->done_list)) != NULL) {
    ac__list_remove(l);
    creq_free(ac__container_of(l, ac__creq_t, link));
  }
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

static void finish_task(ac_task_t **t, int cancel) {
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
  (void)result;
  c->closing_phase = 1; /* a hard stop cancels this task's flush waits */
  for (size_t i = 0; i < c->opts.nstores && !c->hard; i++) (void)ac_store_flush(c->opts.stores[i]);
  c->closing_phase = 2; /* a hard stop cancels the marker */
  c->marker_stop = 1;
  ac_event_set(c->marker_wake);
  finish_task(&c->marker_task, c->hard);
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
      int rc = ac_store_close(c->state);
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

  if (c->state_path != NULL) {
    if (c->opts.resume && (rc = ac__state_load(c)) != 0) goto out;
    if ((rc = ac__state_open(c)) != 0) goto out;
  }
  for (size_t i = 0; i < c->nconsumers; i++) {
    c->consumers[i].crawl = c;
    snprintf(name, sizeof(name), "crawl-%zu", i);
    if ((rc = spawn(c, consumer_main, &c->consumers[i], name, &c->consumers[i].task)) != 0)
      goto stop_now;
    c->consumers_alive++;
  }
  if ((rc = spawn(c, pump_main, c, "crawl-retries", &c->pump_task)) != 0 ||
      (rc = spawn(c, marker_main, c, "crawl-marks", &c->marker_task)) != 0)
    goto stop_now;
  if (c->opts.progress != AC_PROGRESS_QUIET &&
      (rc = spawn(c, ac__crawl_progress_task, c, "crawl-progress", &c->progress_task)) != 0)
    goto stop_now;
  if (c->opts.resume && (rc = ac_crawl_produce(c, ac__state_loader, NULL)) != 0) goto stop_now;
  if ((rc = ac_crawl_produce(c, start_fn, NULL)) != 0) goto stop_now;

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
  for (size_t i = 0; i < c->nconsumers; i++) finish_task(&c->consumers[i].task, c->hard);
  if (!c->stopping) c->stopping = c->finished ? 0 : 1;
  ac_event_set(c->pump_wake);
  finish_task(&c->pump_task, 1);
  c->closing = 1;
  if (spawn(c, closing_main, c, "crawl-close", &c->closing_task) == 0)
    finish_task(&c->closing_task, 0);
  else
    (void)closing_main(c, NULL); /* no task (ENOMEM): the same, without a hard stop */
  finish_task(&c->abort_task, 0);
  finish_task(&c->progress_task, 1);
  c->st.elapsed_s = (double)(ac_now_us() - c->started_us) / 1e6;
  if (c->opts.progress != AC_PROGRESS_QUIET) ac__crawl_progress_line(c, 1);
  if (c->opts.summary) ac__crawl_print_summary(c);
  if (c->state_error && c->state_why != NULL)
    fprintf(c->out, "the crawl state %s could not be written (%s): --resume may fetch again "
            "what this run did\n", c->state_path, c->state_why);
  if (rc == 0) {
    if (c->state_error) rc = AC_ESTORE;
    else if (c->stopping) rc = AC_ECANCELED;
    else if (c->st.failures > 0 || c->start_error != 0) rc = AC_EFAILED;
  }
out:
  c->running = 0;
  c->closing = 0;
  return rc;
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
