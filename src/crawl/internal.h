/*
 * The crawl engine's private declarations (see include/acrawl/crawl.h for
 * the contract and docs/internals/crawl.md for the design).
 */
#ifndef ACRAWL_CRAWL_INTERNAL_H
#define ACRAWL_CRAWL_INTERNAL_H

#include <stdint.h>
#include <stdio.h>

#include "acrawl/crawl.h"
#include "common/heap.h"
#include "common/list.h"

/* ---------------------------------------------------------------- url.c */

/* A parsed, followed URL: key (dedup and state), fetch (what is sent),
 * host ("name[:port]", the politeness unit). All owned. */
typedef struct ac__crawl_url {
  char *key;
  char *fetch;
  char *host;
} ac__crawl_url_t;

/* 0, AC_EINVAL (not an absolute http(s) URL), AC_ENOMEM. */
int ac__crawl_url_parse(const char *in, ac__crawl_url_t *out);
/* Its two halves, for the tests: the plain parser returns 1 (and out
 * empty) for a URL it leaves to libcurl; the other always asks libcurl. */
int ac__crawl_url_parse_plain(const char *in, ac__crawl_url_t *out);
int ac__crawl_url_parse_curl(const char *in, ac__crawl_url_t *out);
void ac__crawl_url_free(ac__crawl_url_t *u);

/* --------------------------------------------------------------- seen.c */

/* The dedup set: 64-bit hashes of keys in an open-addressing table (a
 * collision between two URLs is about 1 in 10^7 at a billion URLs). */
typedef struct ac__seen {
  uint64_t *slots; /* 0 = empty */
  size_t cap;      /* a power of two */
  size_t count;
} ac__seen_t;

uint64_t ac__crawl_hash(const char *s);
/* 1 added, 0 already there, AC_ENOMEM. */
int ac__seen_add(ac__seen_t *s, const char *key);
int ac__seen_has(const ac__seen_t *s, const char *key);
void ac__seen_free(ac__seen_t *s);

/* -------------------------------------------------------------- hosts.c */

/* Politeness state of one host. */
typedef struct ac__host {
  struct ac__host *next; /* hash chain */
  char *name;
  size_t active;           /* requests in flight now */
  double window;           /* slots allowed now (AIMD when throttling), 1..per_host */
  uint64_t next_slot_ms;   /* rate limit: the earliest start of the next request */
  uint64_t paused_until_ms; /* Retry-After */
  uint64_t last_decrease_ms;
  ac_event_t *freed;       /* set when a slot frees or a pause ends */
  size_t waiting;
} ac__host_t;

typedef struct ac__hosts {
  ac__host_t **buckets;
  size_t nbuckets; /* a power of two */
  size_t count;
} ac__hosts_t;

struct ac_crawl;
/* The host record for a name, made on first use. NULL on ENOMEM. */
ac__host_t *ac__hosts_get(struct ac_crawl *c, const char *name);
void ac__hosts_free(ac__hosts_t *h);
/* AWAITS: wait for a slot (window, rate, Retry-After). 0 or the await's error. */
int ac__host_acquire(struct ac_crawl *c, ac__host_t *h);
/* Give the slot back with what happened, for the throttle:
 * outcome 0 success, 1 overload (429/503/timeout), 2 other failure. */
void ac__host_release(struct ac_crawl *c, ac__host_t *h, int outcome, uint64_t latency_ms);
/* Retry-After: nothing starts on this host before now + ms. */
void ac__host_pause(struct ac_crawl *c, ac__host_t *h, uint64_t ms);

/* -------------------------------------------------------------- stats.c */

#define AC__LAT_BUCKETS 512
typedef struct ac__latency {
  uint64_t buckets[AC__LAT_BUCKETS];
  uint64_t count;
} ac__latency_t;
void ac__latency_add(ac__latency_t *l, uint64_t us);
double ac__latency_quantile_ms(const ac__latency_t *l, double q);

/* ---------------------------------------------------------- the engine */

/* A request inside the engine, from follow until done or failed. */
typedef struct ac__creq {
  struct ac__heap_node node; /* in the ready or the delayed heap */
  struct ac__list link;      /* on the crawl's done list */
  uint64_t seq;
  uint64_t due_ms;
  ac_crawl_req_t pub;
  char *key;
  char *fetch;
  char *meta;
  /* What a GET by URL does not have (NULL, 0 for one), in the trailing
   * bytes of the request's own allocation: freed with it. */
  const char *method;
  const char *body;
  const char *ctype; /* the body's content type (set whenever body is) */
  ac_http_kv_t *headers;
  size_t nheaders;
  ac__host_t *host;
  int overflow;          /* admitted over the frontier cap: no permit to give back */
  int again;             /* ac_crawl_follow_again: not in seen, not in the state */
  size_t acks_pending;   /* store acknowledgements still to come */
  int parsed;            /* the callback returned 0 */
  int finished;          /* failed for good or abandoned: free once acks are in */
  char *refusal;         /* the first store refusal of one of its items, or NULL */
  size_t acks_refused;
  uint64_t refused_by;   /* stores (by index, the first 64) that refused one of its items */
  uint64_t put_to;       /* stores (by index, the first 64) it put items in */
  size_t nitems;         /* items it emitted */
  int last_cause;
  int last_code;
  int last_status;
  struct ac_crawl *crawl;
} ac__creq_t;

typedef struct ac__consumer {
  struct ac_crawl *crawl;
  ac_task_t *task;
  ac__creq_t *req;      /* the request it handles now */
  int blocked_on_space; /* waiting in follow for frontier room */
  int in_gate;          /* waiting for its host (not yet sending) */
  char *fail_reason;    /* set by its callback (ac_crawl_fail_reason) */
} ac__consumer_t;

typedef struct ac__failure {
  char *url;
  int cause, code, status, attempts;
  char *why;
} ac__failure_t;

#define AC__MAX_FAILURES 10000
#define AC__CAUSES 8

struct ac_crawl {
  ac_loop_t *loop;
  ac_spider_t spider;
  ac_crawl_opts_t opts;
  char *user_agent;
  char *state_path;
  FILE *out;
  ac_session_t *session;

  /* The frontier: ready requests by priority, retries by due time. */
  struct ac__heap ready;
  struct ac__heap delayed;
  size_t nready, ndelayed;
  uint64_t seq;
  ac_sem_t *avail;       /* one permit per ready request (and wake-ups at the end) */
  ac_sem_t *space;       /* frontier_cap permits */
  ac_sem_t *retry_space; /* retry_cap permits */
  ac_event_t *pump_wake;
  ac__seen_t seen;
  ac__hosts_t hosts;

  ac__consumer_t *consumers;
  size_t nconsumers;
  size_t consumers_alive;
  size_t blocked_on_space;
  size_t busy;      /* consumers holding a request */
  size_t producers;            /* producer tasks still running (start, resume, ...) */
  struct ac__list producer_list; /* their records, to cancel them on stop */
  ac_task_t *pump_task;
  ac_task_t *progress_task;
  ac_task_t *marker_task;
  ac_task_t *run_task;
  ac_task_t *closing_task; /* flushes the stores and closes the state at the end */
  int closing;             /* the run is in that last phase */
  int closing_phase;       /* 1 flushing the item stores, 2 the last marks, 3 the state */
  ac_task_t *abort_task;   /* aborts the state on a hard stop in phase 3 */
  int running;
  int stopping;
  int hard;
  int finished;
  int state_error;
  char *state_why; /* the first state write error, for the user */
  int start_error;
  ac_event_t *done_ev;

  /* The crawl state (resume): a SQLite store of requests by key. */
  ac_store_t *state;
  struct ac__list done_list; /* requests whose last ack came in after their callback */
  ac_event_t *marker_wake;
  int marker_stop;
  int expected_dirty;

  /* Numbers. */
  uint64_t t0_ms;
  uint64_t started_us;
  uint64_t rng;
  uint64_t items_stored; /* items of requests whose every item every store kept */
  uint64_t *store_ok;     /* per store (opts.stores order): items acknowledged durable */
  uint64_t *store_refused; /* ... and refused */
  ac_crawl_stats_t st;
  ac__latency_t lat;
  ac__failure_t *failures;
  size_t nfailures;
  char *fail_reason; /* set outside any consumer (a producer) */
  ac_event_t *quiet_ev; /* ac_crawl_notify_quiet */
  int tty;
};

/* stats.c: a store URI as shown to the user, without the password of a
 * mongodb://user:password@host (the user stays, to tell stores apart). */
void ac__crawl_uri_shown(const char *uri, char *out, size_t cap);

/* stats.c: progress and the end. */
void ac__crawl_progress_line(struct ac_crawl *c, int final);
void ac__crawl_print_summary(struct ac_crawl *c);
int ac__crawl_progress_task(void *arg, void **result);

/* state.c: the resume state. */
int ac__state_open(struct ac_crawl *c);
int ac__state_load(struct ac_crawl *c);   /* AWAITS: done keys into seen, the expected count */
int ac__state_loader(ac_crawl_t *c, void *arg); /* producer: pending requests back into the frontier */
int ac__state_mark(struct ac_crawl *c, const ac__creq_t *r, char status);
int ac__state_expected(struct ac_crawl *c, uint64_t expected);

/* frontier.c: the heaps' orders, a request's end, a pop (one per permit of
 * avail), the consumer the current task is (NULL outside consumers) and the
 * retry pump's task. */
int ac__creq_ready_less(const struct ac__heap_node *a, const struct ac__heap_node *b);
int ac__creq_delayed_less(const struct ac__heap_node *a, const struct ac__heap_node *b);
void ac__creq_free(ac__creq_t *r);
ac__creq_t *ac__crawl_pop_ready(struct ac_crawl *c);
ac__consumer_t *ac__crawl_consumer(struct ac_crawl *c);
int ac__crawl_pump_main(void *arg, void **result);

/* outcome.c: the consumer and marker tasks. */
int ac__crawl_consumer_main(void *arg, void **result);
int ac__crawl_marker_main(void *arg, void **result);

/* engine.c: end the crawl when nothing is left to do (or tell a producer
 * waiting for answers that none will come). */
void ac__crawl_check_finished(struct ac_crawl *c);

/* frontier.c, for state.c: put a request back in the frontier (it is already
 * in the state and in seen), req.url its fetch URL. AWAITS for room. 1, or
 * an error. */
int ac__crawl_requeue(struct ac_crawl *c, const ac_crawl_request_t *req);

#endif /* ACRAWL_CRAWL_INTERNAL_H */
