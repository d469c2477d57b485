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

/* ------------------------------------------------------ frontier backends */

struct ac_crawl;
struct ac__creq;

/*
 * Where the crawl's requests live between follow and their end: in this
 * process (ac__frontier_mem, frontier_mem.c) or in Redis, shared by many
 * workers (frontier_redis.c). Either way consumers take requests from the
 * local ready heap; the backend decides what goes in it, what a follow, a
 * retry and an outcome do, and when the crawl is over.
 */
typedef struct ac__frontier_ops {
  const char *name;
  /* AWAITS, before anything runs: what the frontier keeps is opened (the
   * crawl state; the Redis connection and the crawl's keys). 0 or an error
   * that ends the run. */
  int (*open)(struct ac_crawl *c);
  /* After the consumers are spawned: the backend's own tasks and the
   * producers (the spider's start, the state's loader). 0 or an error. */
  int (*begin)(struct ac_crawl *c);
  /* A follow, parsed and keyed: takes u's strings. 1 added, 0 a duplicate
   * (or nothing known yet: see crawl.h), or an error. May AWAIT room. */
  int (*add)(struct ac_crawl *c, ac__crawl_url_t *u, const ac_crawl_request_t *req,
             ac_follow_how_t how);
  /* Try r again after delay_ms (r.attempt already counts the next try).
   * Takes r and returns 1, or 0 without taking it (stopping). */
  int (*retry)(struct ac_crawl *c, struct ac__creq *r, uint64_t delay_ms);
  /* How r ended: 'd' done (its items durable), 'f' failed for good (its
   * failure recorded), 'a' abandoned by a stop. Does not take r. */
  void (*settle)(struct ac_crawl *c, struct ac__creq *r, char how);
  /* Nothing is left to do anywhere: the crawl is over. */
  int (*finished)(const struct ac_crawl *c);
  /* The consumers have ended: stop the backend's tasks. */
  void (*end)(struct ac_crawl *c);
  /* AWAITS, on the closing task once the item stores are flushed: make the
   * outcomes durable. 0 or an error (the run returns AC_ESTORE). */
  int (*close)(struct ac_crawl *c);
  void (*free)(struct ac_crawl *c);
  /* AWAITS: a producer has returned; what it followed must be in the
   * frontier before the request that started it is done. 0 or an error. */
  int (*flush)(struct ac_crawl *c);
  /* The host gate beyond this process (hosts.c calls them): AWAITS a slot
   * of the host for the whole crawl once the local gate let a consumer
   * through (0 or the await's error); gives it back; pauses the host for
   * every worker (Retry-After with retry_after_host). */
  int (*gate_enter)(struct ac_crawl *c, struct ac__host *h);
  void (*gate_leave)(struct ac_crawl *c, struct ac__host *h);
  void (*gate_pause)(struct ac_crawl *c, struct ac__host *h, uint64_t ms);
  /* A record of r's page could not be followed (ac_crawl_fail_record):
   * counted where the crawl's failures are, for every worker's end. */
  void (*record_failed)(struct ac_crawl *c, struct ac__creq *r, const char *why);
} ac__frontier_ops_t;

extern const ac__frontier_ops_t ac__frontier_mem;
extern const ac__frontier_ops_t ac__frontier_redis;
/* frontier_redis.c: the crawl's Redis side, before ac_crawl_run: name
 * makes its keys, fingerprint (NULL: name) what its workers must agree on.
 * 0, AC_ENOMEM. */
int ac__frontier_redis_init(struct ac_crawl *c, const char *name, const char *fingerprint);
/* stats.c: what a worker of a shared crawl did, as "shared" in --stats. */
struct cJSON;
void ac__frontier_redis_stats_json(const struct ac_crawl *c, struct cJSON *o);
/* A request's follows waiting for its done (frontier_redis.c). */
void ac__shared_children_free(void *children);

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
  char *why;             /* its failure's message, once it failed for good */
  size_t producers;      /* producers its callback started that still run */
  int orphaned;          /* one of them stopped short: r is not done */
  /* A shared frontier's (frontier_redis.c): on the worker's list of the
   * requests it holds; its id and lease token ("ID\0TOKEN", one
   * allocation); the follows its callback made, sent with its done. */
  struct ac__list held;
  char *lease_id;
  const char *lease_token;
  void *children;
  size_t nchildren;
  int suspect; /* its lease expired before: held alone (frontier_redis.c) */
  struct ac_crawl *crawl;
} ac__creq_t;

typedef struct ac__consumer {
  struct ac_crawl *crawl;
  ac_task_t *task;
  ac__creq_t *req;      /* the request it handles now */
  int blocked_on_space; /* waiting in follow for frontier room */
  int in_gate;          /* waiting for its host (not yet sending) */
  struct ac__host *gate_host; /* a shared frontier's host slot it holds, or NULL */
  uint64_t gate_seq;          /* which acquisition: each slot has a name of its own */
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
  const ac__frontier_ops_t *fr; /* the backend */
  void *fr_data;                /* its own state (frontier_redis.c) */
  ac_event_t *feed_wake; /* a shared frontier's feeder: set when nready falls to feed_low */
  size_t feed_low;
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
  int stopped_on_error; /* ac__crawl_stop_on_error stopped it, not a caller */
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
  const char *kill_on;  /* a test hook: a fetch of a URL holding it kills the process */
  int gate_shared;      /* per_host, rate or retry_after_host hold for every worker */
  size_t gate_per_host; /* the per_host the user set (0: none), for every worker */
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
/* A request as the state and the shared frontier keep it: the JSON object
 * {"u","c","p","m"[,"x"][,"b","t"][,"h"]} without its closing brace, so
 * that the state can add its status. And back: 1 and *req (borrowing d's
 * strings; *kv to free, the headers), 0 for a record without a URL, or
 * AC_ENOMEM. */
struct ac__dynbuf;
void ac__request_record(struct ac__dynbuf *b, const ac__creq_t *r);
struct cJSON;
int ac__request_from_record(const struct cJSON *d, ac_crawl_request_t *req, ac_http_kv_t **kv);

/* frontier.c: the heaps' orders, a request made and freed, the local ready
 * heap (a push releases a permit of avail; a pop takes one), admission
 * with backpressure (1, or an error: r freed), a followed request parsed
 * and keyed, and the consumer the current task is (NULL outside
 * consumers). */
int ac__creq_ready_less(const struct ac__heap_node *a, const struct ac__heap_node *b);
int ac__creq_delayed_less(const struct ac__heap_node *a, const struct ac__heap_node *b);
/* Takes u's strings (u is emptied); NULL on ENOMEM (u untouched). */
ac__creq_t *ac__creq_new(struct ac_crawl *c, ac__crawl_url_t *u, const ac_crawl_request_t *req);
void ac__creq_free(ac__creq_t *r);
void ac__crawl_push_ready(struct ac_crawl *c, ac__creq_t *r);
ac__creq_t *ac__crawl_pop_ready(struct ac_crawl *c);
int ac__crawl_admit(struct ac_crawl *c, ac__creq_t *r);
int ac__crawl_request_url(const ac_crawl_request_t *req, ac__crawl_url_t *u);
/* 1 if the engine can send req (a callback in range, tokens, no CR or LF),
 * else 0: also for requests read back from a state or Redis. */
int ac__crawl_request_valid(const struct ac_crawl *c, const ac_crawl_request_t *req);
ac__consumer_t *ac__crawl_consumer(struct ac_crawl *c);

/* outcome.c: the consumer and marker tasks, and a producer of r's callback
 * has ended, completed or not (r is done once its producers and its acks
 * are, if every producer completed; else abandoned). */
int ac__crawl_consumer_main(void *arg, void **result);
int ac__crawl_marker_main(void *arg, void **result);
void ac__creq_producer_ended(struct ac_crawl *c, ac__creq_t *r, int completed);

/* engine.c: end the crawl when nothing is left to do (or tell a producer
 * waiting for answers that none will come); and wait for a task of the
 * crawl to end (cancelled first if asked), then release it. */
void ac__crawl_check_finished(struct ac_crawl *c);
void ac__crawl_finish_task(ac_task_t **t, int cancel);
/* The crawl cannot go on (err): a graceful stop whose run returns
 * AC_EFAILED, not AC_ECANCELED (unless a stop was asked for already). */
void ac__crawl_stop_on_error(struct ac_crawl *c, int err);

/* frontier_mem.c, for state.c: put a request back in the frontier (it is
 * already in the state and in seen), req.url its fetch URL. AWAITS for
 * room. 1, or an error. And the retry pump's task. */
int ac__crawl_requeue(struct ac_crawl *c, const ac_crawl_request_t *req);
int ac__crawl_pump_main(void *arg, void **result);

#endif /* ACRAWL_CRAWL_INTERNAL_H */
