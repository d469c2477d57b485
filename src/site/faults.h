/*
 * Fault injection for the book-site replica: what each request gets (a
 * delay, a 5xx, a 429 with Retry-After, a reset mid-body, a short body,
 * invalid JSON, an HTML error page or an empty body under a 200, a 503 past
 * the in-flight cap) decided from the seed, the
 * request's key and how many times that key was asked before. A run is
 * therefore reproducible whatever the order and timing of the requests: the
 * third attempt at /api/book/42 gets the same answer in every run with the
 * same seed.
 *
 * Memory is bounded: attempts are counted per key in a table of at most
 * max_keys entries; keys past that cap are answered as if seen many times
 * (no "first K fail" faults, no bad 200 bodies; the other random faults still
 * apply, drawn afresh each time, so not reproducibly).
 *
 * Not thread-safe: one planner per server loop.
 */
#ifndef AC_SITE_FAULTS_H
#define AC_SITE_FAULTS_H

#include <stddef.h>
#include <stdint.h>

struct ac__faults_config {
  uint64_t seed;
  uint32_t delay_ms;        /* added to every answer */
  uint32_t jitter_ms;       /* plus a uniform 0..jitter_ms */
  uint32_t fail_first;      /* every key fails its first K requests with a 5xx */
  double p429;              /* share of 429 Too Many Requests ... */
  uint32_t retry_after_s;   /* ... with this Retry-After */
  double preset;            /* share of connections reset mid-body */
  double pshort;            /* share of bodies shorter than their Content-Length */
  /* Shares of 200s whose body is not the JSON: invalid JSON (cut in half),
   * an HTML error page (a proxy's or a framework's), nothing at all. A key
   * gets at most one of them, once: its retry is answered right. */
  double pbadjson;
  double phtml200;
  double pempty200;
  uint32_t max_in_flight;   /* past this many requests in flight: 503; 0 = no cap */
  size_t max_keys;          /* attempt table cap; 0 = 1,048,576 */
};

/* Zero faults, the default table cap. */
void ac__faults_config_init(struct ac__faults_config *cfg);

enum ac__fault_kind {
  AC__FAULT_NONE = 0,
  AC__FAULT_5XX,
  AC__FAULT_429,
  AC__FAULT_RESET,
  AC__FAULT_SHORT,
  AC__FAULT_BADJSON,
  AC__FAULT_OVERLOAD,
  AC__FAULT_HTML200,
  AC__FAULT_EMPTY200,
  AC__FAULT_KINDS
};

/* "none", "5xx", "429", "reset", "short", "badjson", "overload", "html200",
 * "empty200". Static. */
const char *ac__fault_name(enum ac__fault_kind kind);

struct ac__fault {
  enum ac__fault_kind kind;
  int status;               /* the status to answer with (0 for the body faults: the normal one) */
  uint32_t variant;         /* HTML200: which error page (any number; the site reduces it) */
  uint32_t delay_ms;        /* wait this long before answering */
  uint32_t retry_after_s;   /* for 429 */
  uint32_t attempt;         /* 0 for the key's first request */
};

struct ac__faults;

/* Returns 0, AC_EINVAL (a probability outside [0,1], or the shares of 429,
 * reset, short and the bad 200 bodies summing past 1), AC_ENOMEM. */
int ac__faults_new(const struct ac__faults_config *cfg, struct ac__faults **out);
void ac__faults_free(struct ac__faults *f);

/*
 * Decide the fate of one request. key identifies the resource (the site uses
 * method + path + query); in_flight is the number of requests being served
 * now, this one included. An overload 503 does not count as an attempt: the
 * request never reached the resource.
 */
void ac__faults_decide(struct ac__faults *f, const char *key, size_t key_len,
                       unsigned in_flight, struct ac__fault *out);

/* 1 for the faults that replace or damage a 200's body (RESET, SHORT,
 * BADJSON, HTML200, EMPTY200). */
int ac__fault_is_body(enum ac__fault_kind kind);

/*
 * A draw from the seed, the key and `purpose` alone: the same on every
 * attempt, for what a URL always gets (the site's body shapes) rather than a
 * fault. Distinct purposes give independent draws.
 */
uint64_t ac__faults_key_draw(const struct ac__faults *f, const char *key, size_t key_len,
                             unsigned purpose);

/* A decided fault that was not applied after all (a body fault on a 404):
 * move one count from `from` to `to`. */
void ac__faults_recount(struct ac__faults *f, enum ac__fault_kind from, enum ac__fault_kind to);

/* How many faults of each kind were injected (AC__FAULT_NONE counts clean answers). */
void ac__faults_counts(const struct ac__faults *f, uint64_t counts[AC__FAULT_KINDS]);

/*
 * Pick k of n ids, deterministically from the seed (the ones answering 404
 * forever): chosen[i] is set to 1 for a picked id, 0 otherwise. The pick
 * depends on the ids' text, not their order. Returns 0 or AC_ENOMEM; k > n
 * picks all.
 */
int ac__faults_pick_gone(uint64_t seed, const char *const *ids, size_t n, size_t k,
                         unsigned char *chosen);

#endif /* AC_SITE_FAULTS_H */
