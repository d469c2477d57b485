/*
 * What happens to a request once a consumer holds it: the host gate, the
 * HTTP attempt, the spider's callback, the items' acks and the done mark;
 * or a retry after backoff or Retry-After, or a failure record (see
 * include/acrawl/crawl.h and docs/internals/crawl.md).
 */
#define _GNU_SOURCE /* strptime, timegm */
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"
#include "crawl/internal.h"

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

/* The request is over for this run without being done or failed (the
 * crawl stops): the frontier keeps it for a later run. */
static void abandon(ac_crawl_t *c, ac__creq_t *r) {
  c->fr->settle(c, r, 'a');
  r->finished = 1;
  if (r->acks_pending == 0 && r->producers == 0) ac__creq_free(r);
}

/* How many stores were given items of r: with collections, only those of
 * the collections it emitted to. */
static size_t receivers(const ac_crawl_t *c, const ac__creq_t *r) {
  if (c->opts.store_collections == NULL || c->opts.nstores > 64) return c->opts.nstores;
  return (size_t)__builtin_popcountll(r->put_to);
}

/* r failed for good: recorded, and settled so with the frontier, which a
 * shared one keeps with the cause and the words of this failure. */
static void failed_for_good(ac_crawl_t *c, ac__creq_t *r, int cause, int code, int status,
                            const char *why) {
  record_failure(c, r, cause, code, status, why);
  r->last_cause = cause;
  r->last_code = code;
  r->last_status = status;
  ac__free(r->why);
  r->why = ac__strdup(why != NULL ? why : "");
  c->fr->settle(c, r, 'f');
}

static void mark_done(ac_crawl_t *c, ac__creq_t *r) {
  if (r->acks_refused > 0) {
    /* Which store, and its own words (a full disk, a bad path). The page is
     * marked failed, so --resume fetches it again and puts its items in
     * every store: the ones that kept them upsert the same document. */
    char why[640];
    snprintf(why, sizeof(why), "%s%s",
             r->refusal != NULL ? r->refusal : "a store refused an item of this page",
             receivers(c, r) > 1 && (size_t)__builtin_popcountll(r->refused_by) < receivers(c, r)
                 ? " (the other stores kept it)"
                 : "");
    failed_for_good(c, r, AC_CAUSE_OTHER, AC_ESTORE, 0, why);
  } else {
    c->items_stored += r->nitems;
    c->st.pages_done++;
    c->fr->settle(c, r, 'd');
  }
  ac__creq_free(r);
}

static void fail(ac_crawl_t *c, ac__creq_t *r, int cause, int code, int status,
                 const char *why) {
  failed_for_good(c, r, cause, code, status, why);
  r->finished = 1;
  if (r->acks_pending == 0 && r->producers == 0) ac__creq_free(r);
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
  if (--r->acks_pending > 0 || r->producers > 0) return;
  if (r->finished) {
    ac__creq_free(r);
  } else if (r->parsed) {
    ac__list_insert_tail(&c->done_list, &r->link);
    ac_event_set(c->marker_wake);
  }
}

void ac__creq_producer_ended(ac_crawl_t *c, ac__creq_t *r, int completed) {
  if (!completed) r->orphaned = 1;
  if (--r->producers > 0 || r->acks_pending > 0) return;
  if (r->finished) {
    ac__creq_free(r);
  } else if (r->orphaned) {
    /* Its producer stopped short (a stop, an error): done, it would take
     * the rest of the producer's follows with it. Left for a later run,
     * or another worker, which plans again. */
    abandon(c, r);
  } else if (r->parsed) {
    ac__list_insert_tail(&c->done_list, &r->link);
    ac_event_set(c->marker_wake);
  }
}

/* Writes the done marks of requests whose items were acknowledged after
 * their callback returned (acks arrive outside tasks and cannot await). */
int ac__crawl_marker_main(void *arg, void **result) {
  ac_crawl_t *c = arg;
  (void)result;
  for (;;) {
    struct ac__list *l;
    while ((l = ac__list_head(&c->done_list)) != NULL) {
      ac__creq_t *r = ac__container_of(l, ac__creq_t, link);
      ac__list_remove(l);
      if (c->hard) ac__creq_free(r); /* not marked: fetched again on resume */
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

/* A store takes an item of `collection`: every store when the crawl has no
 * collections (or the item none: ac_crawl_emit). */
static int store_takes(const ac_crawl_t *c, size_t i, const char *collection) {
  return collection == NULL || c->opts.store_collections == NULL ||
         (c->opts.store_collections[i] != NULL &&
          strcmp(c->opts.store_collections[i], collection) == 0);
}

/* The one loop of ac_crawl_emit and ac_crawl_emit_in; collection NULL:
 * every store. */
static int emit(ac_crawl_t *c, const char *collection, const char *key, const void *doc,
                size_t len) {
  ac__consumer_t *me = ac__crawl_consumer(c);
  ac__creq_t *r = me != NULL ? me->req : NULL;
  size_t i = 0;
  if (r == NULL || key == NULL || *key == '\0' || doc == NULL || len == 0) return AC_EINVAL;
  /* An item no store takes would count as emitted and be lost. */
  while (i < c->opts.nstores && !store_takes(c, i, collection)) i++;
  if (collection != NULL && i == c->opts.nstores && c->opts.store_collections != NULL)
    return AC_EINVAL;
  c->st.items++;
  r->nitems++;
  for (; i < c->opts.nstores; i++) {
    int rc;
    if (!store_takes(c, i, collection)) continue;
    r->acks_pending++;
    if (i < 64) r->put_to |= 1ull << i;
    rc = ac_store_put(c->opts.stores[i], key, doc, len, on_item_ack, r);
    if (rc != 0) {
      r->acks_pending--;
      return rc;
    }
  }
  return 0;
}

int ac_crawl_emit(ac_crawl_t *c, const char *key, const void *doc, size_t len) {
  return emit(c, NULL, key, doc, len);
}

int ac_crawl_emit_in(ac_crawl_t *c, const char *collection, const char *key, const void *doc,
                     size_t len) {
  if (collection == NULL) return AC_EINVAL;
  return emit(c, collection, key, doc, len);
}

size_t ac_crawl_concurrency(const ac_crawl_t *c) { return c->nconsumers; }

void ac_crawl_set_expected(ac_crawl_t *c, uint64_t requests) {
  c->st.expected = requests;
  c->expected_dirty = 1;
  ac_event_set(c->marker_wake);
}

void ac_crawl_fail_reason(ac_crawl_t *c, const char *why) {
  /* Per consumer: callbacks of several consumers interleave at awaits. */
  ac__consumer_t *me = ac__crawl_consumer(c);
  char **slot = me != NULL ? &me->fail_reason : &c->fail_reason;
  ac__free(*slot);
  *slot = why != NULL ? ac__strdup(why) : NULL;
}

void ac_crawl_fail_record(ac_crawl_t *c, const char *why) {
  ac__consumer_t *me = ac__crawl_consumer(c);
  if (me == NULL || me->req == NULL) return;
  record_failure(c, me->req, AC_CAUSE_OTHER, AC_EPROTO, 0, why);
  c->fr->record_failed(c, me->req, why != NULL ? why : "");
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

/* Returns 1 if the frontier took the request for a retry. */
static int schedule_retry(ac_crawl_t *c, ac__creq_t *r, int cause, uint64_t ra_ms) {
  uint64_t delay;
  if (ra_ms > 0) {
    delay = ra_ms < c->opts.retry_after_max_ms ? ra_ms : c->opts.retry_after_max_ms;
    if (c->opts.retry_after_host) ac__host_pause(c, r->host, delay);
    else c->st.retry_after_waits++;
  } else {
    delay = backoff_ms(c, r->pub.attempt);
  }
  r->pub.attempt++;
  r->nitems = 0; /* items_stored counts the attempt that completes */
  if (c->stopping || !c->fr->retry(c, r, delay)) {
    r->pub.attempt--;
    return 0;
  }
  if (c->opts.verbose && c->opts.progress != AC_PROGRESS_QUIET)
    fprintf(c->out, "%sretry %d of %s in %llu ms (%s)\n", c->tty ? "\r\033[K" : "",
            r->pub.attempt - 1, r->fetch, (unsigned long long)delay, ac_crawl_cause_name(cause));
  c->st.retries++;
  c->st.retries_by_cause[cause]++;
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

  /* A test hook (ACRAWL_TEST_KILL_ON, read at ac_crawl_new): the worker
   * dies on this URL as on a page that crashes it, for the shared
   * frontier's poison test. */
  if (c->kill_on != NULL && strstr(r->fetch, c->kill_on) != NULL) (void)kill(getpid(), SIGKILL);
  me->in_gate = 1;
  rc = ac__host_acquire(c, r->host);
  me->in_gate = 0;
  if (rc != 0 || c->stopping) {
    if (rc == 0) ac__host_release(c, r->host, -1, 0);
    abandon(c, r);
    return;
  }
  ac_request_opts_init(&o);
  o.url = r->fetch;
  /* From the request's own copy, so that every retry sends the same; the
   * session adds the spider's headers, a request's of the same name
   * replacing them. */
  o.method = r->method;
  o.headers = r->headers;
  o.nheaders = r->nheaders;
  if (r->body != NULL) {
    o.body_kind = AC_BODY_BYTES;
    o.body = r->body;
    o.body_len = strlen(r->body);
    o.content_type = r->ctype;
  }
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
    abandon(c, r);
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
        if (r->acks_pending == 0 && r->producers == 0) mark_done(c, r);
        return;
      }
      if (rc == AC_ECANCELED) {
        abandon(c, r);
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
  /* A request whose callback started a producer is that producer's
   * parent until it ends: not sent again meanwhile. */
  if (retryable && r->pub.attempt <= c->opts.retries && !c->stopping && r->producers == 0) {
    if (schedule_retry(c, r, cause, ra)) return;
  }
  if (retryable && c->stopping) {
    abandon(c, r); /* not failed: a resumed crawl tries again */
    return;
  }
  fail(c, r, cause, code, status, why);
}

int ac__crawl_consumer_main(void *arg, void **result) {
  ac__consumer_t *me = arg;
  ac_crawl_t *c = me->crawl;
  (void)result;
  for (;;) {
    ac__creq_t *r;
    if (ac_sem_acquire(c->avail) != 0) break;
    if (c->finished || c->stopping) break;
    r = ac__crawl_pop_ready(c);
    if (r == NULL) continue; /* cannot happen: a permit per ready request */
    c->busy++;
    r->crawl = c;
    me->req = r;
    handle(c, me, r);
    me->req = NULL;
    c->busy--;
    ac__crawl_check_finished(c);
  }
  c->consumers_alive--;
  if (c->consumers_alive == 0) ac_event_set(c->done_ev);
  return 0;
}
