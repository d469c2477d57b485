/*
 * acrawl crawl engine: a frontier, N consumer tasks, politeness, retries,
 * progress, graceful stop and resume. It knows nothing of any site: a
 * spider says where to start and what to do with each response.
 *
 * Data flow (docs/internals/crawl.md):
 *   start / callbacks -- ac_crawl_follow --> frontier (priorities, dedup)
 *     --> consumer task (one of `concurrency`) --> host gate (per-host
 *     slots, rate, Retry-After, adaptive throttle) --> HTTP client
 *     --> spider callback: ac_crawl_follow (more requests),
 *                          ac_crawl_emit (items --> every store),
 *                          ac_crawl_emit_in (items --> the stores of a
 *                          collection)
 *     --> on failure: retry after backoff, or a failure record.
 *
 * A request is done when its callback returned and every item it emitted is
 * durable in every store it went to; only then is it marked done in the
 * crawl state.
 * So a crawl killed at any moment loses at most the work in flight, and a
 * resumed crawl fetches again only requests that were not done (their items,
 * if already stored, are upserted again: never doubled).
 *
 * Bounded memory: the frontier holds at most frontier_cap requests and the
 * retry wait at most retry_cap; a task that follows into a full frontier
 * waits (backpressure), except the last consumer not waiting, which goes
 * over the cap while all the others wait (otherwise consumers that wait on
 * each other would never wake): depth-first, by at most one fan-out per
 * level of the site. So a spider should follow long runs of
 * pages from a producer (ac_crawl_produce, which just waits), and give the
 * pages that link to fewer new pages a higher priority (a list-and-detail
 * spider:
 * details before list pages; a site tree: deeper pages first). A spider
 * whose every callback follows more than it consumes, breadth-first, can
 * grow the frontier past its cap through that last consumer. The dedup set
 * keeps a 64-bit hash per URL seen (16 bytes each with the table's slack).
 * Items wait in the stores' bounded queues.
 *
 * Everything here runs on the loop's thread. Functions marked AWAITS must be
 * called from a task.
 */
#ifndef ACRAWL_CRAWL_H
#define ACRAWL_CRAWL_H

#include <stddef.h>
#include <stdint.h>

#include "acrawl/errno.h"
#include "acrawl/export.h"
#include "acrawl/http.h"
#include "acrawl/runtime.h"
#include "acrawl/store.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ac_crawl ac_crawl_t;

/** A request as the engine hands it to a callback (borrowed). */
typedef struct ac_crawl_req {
  const char *url;    /* normalised */
  int callback;       /* index into the spider's callbacks */
  int priority;       /* higher first; FIFO within a priority */
  const char *meta;   /* what the follower attached ("" if nothing) */
  int attempt;        /* 1 for the first try */
  const char *method; /* "GET" for a request followed by URL alone */
  const char *body;   /* what is sent (ac_crawl_request_t.body), or NULL: none */
} ac_crawl_req_t;

/**
 * A spider callback: look at a response (status 2xx, or any status the
 * spider accepts in accept_status) and follow requests / emit items. Runs in
 * the consumer's task: it may await (follow and emit may wait).
 * Returns 0, or:
 *   AC_EPARSE     the body is not what was expected (bad JSON): retried
 *                 like a transport failure, since a cut or garbled body is
 *                 usually transient;
 *   another code  a permanent failure of this request, recorded with `why`
 *                 (set with ac_crawl_fail_reason if the code says too little).
 */
typedef int (*ac_spider_parse_fn)(ac_crawl_t *crawl, const ac_crawl_req_t *req,
                                  ac_response_t *resp, void *spider_data);

/** AWAITS. Follow the first requests. Runs as the crawl's first producer
 * (see ac_crawl_produce), also on --resume: what it follows that was done or
 * queued before is dropped as a duplicate. Returns 0 or a code that makes the
 * crawl incomplete. */
typedef int (*ac_spider_start_fn)(ac_crawl_t *crawl, void *spider_data);

typedef struct ac_spider {
  const char *name;
  ac_spider_start_fn start;
  /** Callbacks by index: a request names its callback by index so that the
   * crawl state can be saved and resumed. */
  const ac_spider_parse_fn *callbacks;
  size_t ncallbacks;
  /** Request headers for every request ("Accept: application/json", ...). */
  const ac_http_kv_t *headers;
  size_t nheaders;
  void *data;
} ac_spider_t;

typedef enum {
  AC_PROGRESS_AUTO = 0, /* a live line on a terminal (stderr), else a log line every few seconds */
  AC_PROGRESS_LINE,     /* always the live line */
  AC_PROGRESS_LOG,      /* always log lines */
  AC_PROGRESS_QUIET     /* nothing until the summary (and not even that: see summary) */
} ac_progress_mode_t;

typedef struct ac_crawl_opts {
  /** Consumer tasks, which is also the most requests in flight (16). */
  size_t concurrency;
  /** The most requests in flight to one host (0: concurrency). */
  size_t per_host;
  /** Requests per second to one host, from 0.001 to 1e6 (AC_EINVAL
   * otherwise); 0: no rate limit (default 0). */
  double rate;
  /** Back off per host when latency or errors rise (AIMD on its slots). */
  int throttle;
  /** Retries after the first attempt for a retryable failure (4). */
  int retries;
  /** Backoff before retry k: min(backoff_max, backoff_base * 2^(k-1)) with
   * full jitter (100 ms, 30 s). Retry-After overrides it, capped by
   * retry_after_max_ms (60 s). */
  uint64_t backoff_base_ms;
  uint64_t backoff_max_ms;
  uint64_t retry_after_max_ms;
  /** Where Retry-After applies: 0 (default) to the request that got it (its
   * retry waits that long; with throttle on, the host's window also halves);
   * 1 to the whole host (nothing starts there until it has passed). A site
   * that sends 429 at random would stall a host-wide crawl again and again,
   * so host-wide is for sites that use it as a real rate limit. */
  int retry_after_host;
  /** Whole-request timeout (30 s) and connect timeout (10 s). */
  uint64_t timeout_ms;
  uint64_t connect_timeout_ms;
  /** The most body bytes of one response (16 MiB). */
  size_t max_body;
  /** Ask for gzip/deflate/br and decode it (1). On a fast link (the local
   * replica) decoding costs more CPU than the bytes it saves. */
  int decompress;
  /** Bounded queues (see the top of this file): 4,096 and 4,096. */
  size_t frontier_cap;
  size_t retry_cap;
  /** User-Agent; NULL: "acrawl/<version> (+https://github.com/acrawl)". */
  const char *user_agent;
  /** Where items go (every item to each store). Borrowed: open them before
   * and close them after the crawl. */
  ac_store_t *const *stores;
  size_t nstores;
  /** The collection each store holds, parallel to `stores` (nstores
   * names): ac_crawl_emit_in puts an item only in the stores of its
   * collection. NULL: every store takes every item. Borrowed, like the
   * stores: the array and its strings must outlive the crawl. */
  const char *const *store_collections;
  /** The crawl state (a SQLite file) for resume; NULL: none. Copied. */
  const char *state_path;
  /** Continue from state_path instead of starting afresh. */
  int resume;
  ac_progress_mode_t progress;
  /** Where progress and the summary go (stderr when NULL). */
  void *progress_stream; /* FILE * */
  /** Print the summary at the end (1). */
  int summary;
  /** Log every retry and failure as it happens (0). */
  int verbose;
  /**
   * A frontier shared by many workers: redis://[[user]:password@]host[:port][/db].
   * Every process whose crawl names the same Redis and crawl_name is a
   * worker of one crawl (docs/distributed.md): the first seeds it (runs the
   * spider's start), each takes leased requests, fetches, runs the
   * callbacks, stores and acks. NULL (default): the crawl is this
   * process's alone. With a frontier, state_path and resume must be unset
   * (Redis keeps the crawl; start the workers again to resume it), and
   * ac_crawl_follow returns 1 for every request it accepts: whether it was
   * a duplicate is decided in Redis, with the follows of the request whose
   * callback made them, once that request is done.
   */
  const char *frontier;
  /** The crawl's name in Redis (its keys are acrawl:{NAME}:*); NULL: the
   * spider's name. */
  const char *crawl_name;
  /** What the workers of one crawl must agree on, as text (acrawl gives
   * the spider's name, the base URL and ac_spec_digest): a worker whose
   * fingerprint differs from the seeder's is refused. NULL: the crawl's
   * name. */
  const char *crawl_fingerprint;
  /** How long a taken request is leased, on Redis's clock (30 s). The
   * worker renews its leases every third of it; a worker that dies or
   * stalls longer loses them to others. */
  uint64_t lease_ms;
  /** A request whose lease expired more than this many times (its workers
   * died on it) is failed with that cause (3). */
  int max_reclaims;
  /** The bound on each wait for Redis (5 s); a Redis that does not answer
   * in time is waited for, with backoff, and the crawl goes on. */
  uint64_t redis_timeout_ms;
  /** Non-zero: as it joins, this worker puts the shared crawl's requests
   * that failed for good back in the queue, their attempts forgotten (a
   * crawl complete already is then not complete any more), and goes on as
   * a worker. A one-process crawl's resume does the same for its failed
   * pages; this is that for a shared one. Records that could not be
   * followed are not fetched again: their pages were done. Only with
   * frontier (else ac_crawl_new says AC_EINVAL). */
  int retry_failed;
} ac_crawl_opts_t;

/** Fill opts with the polite defaults above. */
AC_EXTERN void ac_crawl_opts_init(ac_crawl_opts_t *opts);

/**
 * Create a crawl of `spider` on a loop. spider and opts are copied (the
 * spider's callbacks table and data are borrowed and must outlive the crawl).
 * Returns 0, AC_EINVAL (a bad option: concurrency 0, no callbacks), AC_ENOMEM.
 */
AC_EXTERN int ac_crawl_new(ac_loop_t *loop, const ac_spider_t *spider,
                           const ac_crawl_opts_t *opts, ac_crawl_t **out);
AC_EXTERN void ac_crawl_free(ac_crawl_t *crawl);

/**
 * AWAITS. Run the crawl to its end: the frontier is empty, nothing is in
 * flight or waiting for a retry, and every item is durable. Returns
 *   0             complete: every request succeeded;
 *   AC_EFAILED    finished, but some requests failed for good (see the
 *                 failures) or the start function failed;
 *   AC_ECANCELED  stopped by ac_crawl_stop (resume continues it);
 *   AC_ESTORE     the crawl state could not be opened or written; with a
 *                 shared frontier, Redis could not be joined (unreachable,
 *                 AUTH refused, a crawl of another spec under the name) or
 *                 the crawl's keys vanished from it. Said on the progress
 *                 stream.
 */
AC_EXTERN int ac_crawl_run(ac_crawl_t *crawl);

/**
 * Stop a running crawl (callable from a signal callback). The first call is
 * graceful: no new request starts, requests in flight finish (each within its
 * timeout), their items are stored and the state saved. A call with
 * hard = 1 (a second Ctrl-C) cancels what is in flight at once; the state
 * stays consistent (cancelled requests are not done and run again on resume).
 * A hard stop also cuts the end of a finished crawl short: ac_crawl_run
 * stops waiting for the item stores' flush (abort them after it returns),
 * writes no more done marks and aborts the state, then returns AC_ECANCELED.
 */
AC_EXTERN void ac_crawl_stop(ac_crawl_t *crawl, int hard);

/**
 * AWAITS when the frontier is full. Add a request, unless its normalised URL
 * was seen already in this crawl (or, on resume, done or queued before).
 * `meta` (may be NULL) is copied and given back in ac_crawl_req_t.
 * Returns 1 (added), 0 (a duplicate), AC_EINVAL (not an absolute http(s)
 * URL, a callback index out of range), AC_ECANCELED (stopping), AC_ENOMEM.
 */
AC_EXTERN int ac_crawl_follow(ac_crawl_t *crawl, const char *url, int callback, int priority,
                              const char *meta);

/**
 * Like ac_crawl_follow, but the request runs even if its URL was seen, and
 * it is not recorded in the crawl state (Scrapy's dont_filter). For a page
 * that must be read again on every run, such as the one that tells how many
 * pages there are when a resumed crawl has already done it. Returns 1 or an
 * error as ac_crawl_follow.
 */
AC_EXTERN int ac_crawl_follow_again(ac_crawl_t *crawl, const char *url, int callback,
                                    int priority, const char *meta);

/**
 * Like ac_crawl_follow_again, but recorded in the crawl state as a new
 * request (pending, then done or failed). For a page whose earlier answer
 * turned out wrong after it was marked done (an empty list page that a
 * later page proved transient): a crawl stopped before the new answer
 * fetches it again on resume. Returns 1 or an error as ac_crawl_follow.
 */
AC_EXTERN int ac_crawl_refetch(ac_crawl_t *crawl, const char *url, int callback, int priority,
                               const char *meta);

/**
 * A request to follow, with everything ac_crawl_follow's arguments say and
 * what a GET by URL cannot: a method, a body, headers of its own. Every
 * pointer is borrowed for the call (copied into the request).
 *
 * Dedup and the crawl state key a request by what makes its answer: a GET
 * without body or headers by its normalised URL, as ac_crawl_follow does;
 * any other by the method, the URL and a hash of the content type, the body
 * and the headers (docs/internals/crawl.md). So two POSTs to one URL with
 * different bodies are two requests, the same POST twice a duplicate. The
 * whole request is kept in the state: a resumed crawl sends it again as it
 * was, and so does every retry.
 */
typedef struct ac_crawl_request {
  const char *url;    /* absolute http(s); required */
  const char *method; /* a token ("POST", "PUT", ...); NULL or "GET": GET */
  /** NUL-terminated text (JSON, a form), or NULL: none. "" is a body, an
   * empty one, sent with its content type. */
  const char *body;
  /** The body's Content-Type; NULL with a body: application/octet-stream
   * (no guess from the bytes: say "application/json" for JSON). Ignored
   * without a body. */
  const char *content_type;
  /** Sent besides the spider's headers; one of the same name (in any case)
   * replaces the spider's, and a NULL value sends neither. A
   * "Content-Type" here replaces content_type. */
  const ac_http_kv_t *headers;
  size_t nheaders;
  int callback; /* as ac_crawl_follow */
  int priority;
  const char *meta; /* may be NULL */
} ac_crawl_request_t;

/** How ac_crawl_follow_request treats a request already seen: as
 * ac_crawl_follow (dropped), ac_crawl_follow_again (run, not recorded in the
 * state) or ac_crawl_refetch (run, recorded as a new request). */
typedef enum { AC_FOLLOW_NEW = 0, AC_FOLLOW_AGAIN = 1, AC_FOLLOW_REFETCH = 2 } ac_follow_how_t;

/**
 * AWAITS when the frontier is full. Follow a request, `how` as
 * ac_crawl_follow, ac_crawl_follow_again or ac_crawl_refetch.
 * Returns as they do: 1 (added), 0 (a duplicate, AC_FOLLOW_NEW only),
 * AC_EINVAL (req or its url NULL, not an absolute http(s) URL, a callback
 * index out of range, a method or a header name that is not a token, so
 * none with CR or LF, a header value or the content type with CR or LF, an
 * unknown `how`), AC_ECANCELED (stopping), AC_ENOMEM.
 */
AC_EXTERN int ac_crawl_follow_request(ac_crawl_t *crawl, const ac_crawl_request_t *req,
                                      ac_follow_how_t how);

/** The counts of a crawl in a shared frontier. They balance: queued +
 * delayed + leased + done + failed = seen (requests that entered it). */
typedef struct ac_crawl_status {
  char state[16];   /* "seeding" (the start runs), "seeded", "complete" */
  uint64_t queued;  /* waiting for a worker */
  uint64_t delayed; /* waiting for a retry's time */
  uint64_t leased;  /* in a worker's hands */
  uint64_t done, failed, seen;
  uint64_t retries;   /* retries scheduled */
  uint64_t reclaimed; /* leases that expired: their worker died or stalled */
  uint64_t extra;     /* outcomes refused: their lease had been taken over */
  uint64_t records_failed; /* records of done pages that could not be followed
                              (ac_crawl_fail_record), every worker's */
  uint64_t workers;   /* workers heard from in the last 10 s */
  uint64_t created_ms, now_ms; /* on Redis's clock */
  uint64_t dups; /* follows dropped as seen already, every worker's (not in seen) */
} ac_crawl_status_t;

/**
 * AWAITS. The counts of the crawl `name` in the shared frontier at URI
 * `frontier` (see ac_crawl_opts_t.frontier). Returns 0, AC_ENOENT (no such
 * crawl there), AC_EINVAL (a bad URI), or the connection's error
 * (AC_ECONNREFUSED, AC_ETIMEDOUT, AC_EPERM for a refused AUTH, ...); `why`
 * (may be NULL) says it in words.
 */
AC_EXTERN int ac_crawl_status(ac_loop_t *loop, const char *frontier, const char *name,
                              ac_crawl_status_t *out, char *why, size_t cap);

/** 1 when the crawl's frontier is shared by many workers (opts.frontier):
 * responses to its requests may be handled by other processes. */
AC_EXTERN int ac_crawl_shared(const ac_crawl_t *crawl);

/** A producer: follows requests, waiting whenever the frontier is full. */
typedef int (*ac_crawl_producer_fn)(ac_crawl_t *crawl, void *arg);

/**
 * Start a producer task: fn(crawl, arg) runs on its own task; the crawl does
 * not end before it returns, and a stop cancels it. For long runs of follows
 * (every list page of a site) that a callback must not make itself: a
 * callback holds a consumer, so it may go over the frontier's cap, while a
 * producer just waits for room, which keeps memory flat whatever the site's
 * size. A negative return other than AC_ECANCELED ends the crawl as
 * incomplete. Returns 0, AC_ENOMEM, AC_ECANCELED (stopping: fn never runs).
 */
AC_EXTERN int ac_crawl_produce(ac_crawl_t *crawl, ac_crawl_producer_fn fn, void *arg);

/**
 * AWAITS when a store's queue is full. Emit an item from a callback: key and
 * the JSON document (copied) go to every store, whatever its collection;
 * the current request is not done until each store has acknowledged it.
 * Returns 0, AC_EINVAL (not in a callback, an empty key or document),
 * AC_ECANCELED, AC_ENOMEM.
 */
AC_EXTERN int ac_crawl_emit(ac_crawl_t *crawl, const char *key, const void *doc, size_t len);

/**
 * AWAITS when a store's queue is full. As ac_crawl_emit, but the item goes
 * only to the stores whose entry of opts.store_collections equals
 * `collection` (to every store when opts.store_collections is NULL). key,
 * collection and doc are the caller's (doc is copied). Returns 0,
 * AC_EINVAL (also: `collection` NULL, or no store holds it: nothing is
 * counted or stored), AC_ECANCELED, AC_ENOMEM.
 */
AC_EXTERN int ac_crawl_emit_in(ac_crawl_t *crawl, const char *collection, const char *key,
                               const void *doc, size_t len);

/** The crawl's concurrency (consumers): what a spider sizes speculative work
 * by, such as the list pages it asks for before it knows how many exist. */
AC_EXTERN size_t ac_crawl_concurrency(const ac_crawl_t *crawl);

/** Tell the progress line how many requests the crawl will make in all (for
 * the ETA): a spider of a paginated list may know it from the first page's
 * item count. */
AC_EXTERN void ac_crawl_set_expected(ac_crawl_t *crawl, uint64_t requests);

/** From a callback: a readable reason for the failure it is about to return
 * ("no `results` array in the list page"), kept with the failure record when
 * the request fails for good. Copied. */
AC_EXTERN void ac_crawl_fail_reason(ac_crawl_t *crawl, const char *why);

/**
 * From a callback: one record of this response can be neither followed nor
 * stored (a list result without a usable id). The request itself goes on;
 * the record is a failure of the crawl: counted in `failures`, listed with
 * the request's URL and `why` (copied), and the crawl ends incomplete
 * (AC_EFAILED). No record is ever dropped silently.
 */
AC_EXTERN void ac_crawl_fail_record(ac_crawl_t *crawl, const char *why);

/** A line for the user about the crawl as a whole ("page 503 is empty: the
 * listing ends there"): printed on the progress stream (unless progress is
 * quiet), like a verbose log line. printf-style. */
AC_EXTERN void ac_crawl_note(ac_crawl_t *crawl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/**
 * For a producer that waits for answers before following more (a listing
 * that stops at its first empty page): 1 when the crawl has no work left but
 * its producers' (nothing queued, waiting for a retry or held by a consumer),
 * so no answer will ever come; 0 otherwise.
 */
AC_EXTERN int ac_crawl_quiet(const ac_crawl_t *crawl);

/** Set ev (borrowed) each time the crawl becomes quiet (see ac_crawl_quiet)
 * until called again with NULL: what such a producer waits on besides its
 * own signal. One event at a time; the last call wins. */
AC_EXTERN void ac_crawl_notify_quiet(ac_crawl_t *crawl, ac_event_t *ev);

typedef struct ac_crawl_stats {
  uint64_t requests;       /* attempts sent */
  uint64_t responses;      /* attempts that got an HTTP response */
  uint64_t pages_done;     /* requests done */
  uint64_t items;          /* items emitted */
  uint64_t items_stored;   /* items of done requests, each kept by every store */
  uint64_t duplicates;     /* follows dropped as already seen */
  uint64_t retries;        /* attempts scheduled again */
  uint64_t retries_by_cause[8]; /* see ac_crawl_cause_name */
  uint64_t failures;       /* requests failed for good, and records that could
                              not be followed (ac_crawl_fail_record) */
  uint64_t bytes;          /* response body bytes */
  uint64_t resumed_done;   /* requests found done in the state at start */
  size_t in_flight;
  size_t queued;           /* frontier + waiting retries */
  uint64_t expected;       /* from ac_crawl_set_expected, 0 if unknown */
  double elapsed_s;
  double latency_p50_ms;   /* of successful attempts */
  double latency_p99_ms;
  uint64_t retry_after_waits; /* times a host was paused by Retry-After */
} ac_crawl_stats_t;
AC_EXTERN void ac_crawl_stats(const ac_crawl_t *crawl, ac_crawl_stats_t *stats);

/** Causes, for retries_by_cause and failure records. */
typedef enum {
  AC_CAUSE_NETWORK = 0, /* refused, reset, DNS, TLS, protocol */
  AC_CAUSE_TIMEOUT,
  AC_CAUSE_5XX,
  AC_CAUSE_429,
  AC_CAUSE_SHORT,       /* body cut short */
  AC_CAUSE_PARSE,       /* the callback could not parse the body */
  AC_CAUSE_4XX,         /* permanent */
  AC_CAUSE_OTHER        /* callback failures, body too large, redirects */
} ac_crawl_cause_t;
AC_EXTERN const char *ac_crawl_cause_name(int cause);

/** One permanent failure, borrowed from the crawl. */
typedef struct ac_crawl_failure {
  const char *url;
  int cause;        /* ac_crawl_cause_t */
  int code;         /* AC_E* code, or 0 for a bad status */
  int status;       /* the HTTP status, 0 without a response */
  int attempts;
  const char *why;  /* a readable message */
} ac_crawl_failure_t;
AC_EXTERN size_t ac_crawl_failure_count(const ac_crawl_t *crawl);
/** Returns 0 and fills f, or AC_EINVAL past the end. Failures are kept up to
 * 10,000 (the count goes on). */
AC_EXTERN int ac_crawl_failure_at(const ac_crawl_t *crawl, size_t i, ac_crawl_failure_t *f);

/**
 * Write the summary (stats, retries by cause, failures) as JSON to path.
 * Returns 0 or AC_EIO.
 */
AC_EXTERN int ac_crawl_write_stats(const ac_crawl_t *crawl, const char *path);

#ifdef __cplusplus
}
#endif
#endif /* ACRAWL_CRAWL_H */
