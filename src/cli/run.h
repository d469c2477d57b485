/*
 * What every crawl command of the tool shares (acrawl books, acrawl crawl):
 * the crawl options, the stores, the state beside them, signals, the
 * summary and the exit status. A command parses its own options plus
 * AC__CLI_RUN_OPTS into an ac__cli_run_t, makes its spider and calls
 * ac__cli_run.
 *
 * Exit status: 0 complete; 1 nothing could be crawled (bad store, site
 * unreachable or not the expected API, state unreadable); 2 bad usage;
 * 3 incomplete (some requests or records failed for good: listed in the
 * summary); 4 the crawl state could not be written (--resume may fetch
 * again what this run did); 130 / 143 stopped by SIGINT / SIGTERM
 * (--resume continues; a second signal stops at once, even while the
 * stores are being flushed).
 */
#ifndef AC_CLI_RUN_H
#define AC_CLI_RUN_H

#include "acrawl/crawl.h"
#include "acrawl/spec.h"
#include "acrawl/store.h"
#include "cli/opts.h"

#define AC__CLI_MAX_STORES 8

enum {
  AC__EXIT_COMPLETE = 0,
  AC__EXIT_FATAL = 1,
  AC__EXIT_INCOMPLETE = 3,
  AC__EXIT_STATE = 4
};

typedef struct ac__cli_run {
  ac_crawl_opts_t crawl;
  struct ac__opt_list stores; /* --store */
  double timeout_s;           /* --timeout, 0: not given */
  const char *state;
  const char *stats;
  int quiet;
  double lease_s;            /* --lease, 0: not given */
  int status;                /* --status: print the shared crawl's counts */
  /* Set by the command before ac__cli_run. */
  const char *cmd;           /* "books": messages start "acrawl books: " */
  const char *site;          /* the site's URL, for "cannot crawl SITE: ..." */
  const ac_spec_t *spec;     /* its collections (each --store is opened once per
                              * collection) and their key members (MongoDB) */
  const char *state_default; /* the state without a file store ("acrawl-books.state") */
  /* The run's own. */
  ac_crawl_t *c;
  ac_store_t *closing_store; /* the store being closed now */
  int signals;
  int last_signal;
  int exit_code;
} ac__cli_run_t;

/* The options of every crawl command, as entries of a command's table
 * whose config struct T holds an ac__cli_run_t named `m`. What a store
 * holds is named by `items` in the help ("books"), its default by `db`. */
#define AC__CLI_RUN_AT(T, f) AC__OPT_AT(T, f)
#define AC__CLI_RUN_OPTS(T, m, items, db)                                                         \
  {.name = "store", .type = AC__OPT_LIST, AC__CLI_RUN_AT(T, m.stores),                          \
   .max = AC__CLI_MAX_STORES, .arg = "URI",                                                     \
   .help = "where " items " go; repeatable (default sqlite:" db "):\n"                         \
           "  sqlite:PATH  jsonl:PATH  jsonl:-  mongodb://HOST:PORT/DB[.COLL]"},               \
  {.name = "state", .type = AC__OPT_STR, AC__CLI_RUN_AT(T, m.state), .arg = "FILE",             \
   .help = "the crawl state for --resume (default: beside the first\n"                          \
           "sqlite: or jsonl: store, as PATH.state)"},                                          \
  {.name = "resume", .type = AC__OPT_FLAG, AC__CLI_RUN_AT(T, m.crawl.resume),                   \
   .help = "continue from the state instead of starting afresh"},                               \
  {.name = "concurrency", .short_name = 'c', .type = AC__OPT_UINT,                              \
   AC__CLI_RUN_AT(T, m.crawl.concurrency), .min = 1, .max = 100000, .arg = "N",                 \
   .help = "requests in flight (default 16)"},                                                  \
  {.name = "per-host", .type = AC__OPT_UINT, AC__CLI_RUN_AT(T, m.crawl.per_host), .min = 1,     \
   .max = 100000, .arg = "N", .help = "requests in flight to one host (default: concurrency)"}, \
  /* Slower than one request in 1,000 s is a stopped crawl, not a rate. */                      \
  {.name = "rate", .type = AC__OPT_DOUBLE, .flags = AC__OPT_ZERO,                               \
   AC__CLI_RUN_AT(T, m.crawl.rate), .dmin = 0.001, .dmax = 1e6, .arg = "R",                     \
   .help = "requests per second to one host, 0.001 to 1e6\n(default 0: no limit)"},             \
  {.name = "throttle", .type = AC__OPT_FLAG, AC__CLI_RUN_AT(T, m.crawl.throttle),               \
   .help = "back off when the site answers 429/503 or times out"},                              \
  {.name = "retry-after-host", .type = AC__OPT_FLAG,                                            \
   AC__CLI_RUN_AT(T, m.crawl.retry_after_host),                                                 \
   .help = "a Retry-After pauses the whole host, not just that request"},                       \
  {.name = "retries", .type = AC__OPT_UINT, AC__CLI_RUN_AT(T, m.crawl.retries), .min = 0,       \
   .max = 100, .arg = "N", .help = "retries of a failed request (default 4)"},                  \
  {.name = "timeout", .type = AC__OPT_DOUBLE, AC__CLI_RUN_AT(T, m.timeout_s), .dmin = 0.001,    \
   .dmax = 86400, .arg = "S", .help = "seconds for one request, 0.001 to 86400 (default 30)"},  \
  {.name = "max-body", .type = AC__OPT_SIZE, AC__CLI_RUN_AT(T, m.crawl.max_body), .min = 1,     \
   .max = (uint64_t)1 << 40, .arg = "BYTES",                                                    \
   .help = "fail a response bigger than this (default 16M; suffixes\n"                          \
           "K, M, G, T: times 1024, 1024^2, ...)"},                                             \
  {.name = "no-compression", .type = AC__OPT_FLAG, .flags = AC__OPT_OFF,                        \
   AC__CLI_RUN_AT(T, m.crawl.decompress), .help = "do not ask for gzip (saves CPU on a fast link)"}, \
  {.name = "user-agent", .type = AC__OPT_STR, .flags = AC__OPT_EMPTY,                           \
   AC__CLI_RUN_AT(T, m.crawl.user_agent), .arg = "UA", .help = "the User-Agent header"},        \
  {.name = "frontier", .type = AC__OPT_STR, AC__CLI_RUN_AT(T, m.crawl.frontier), .arg = "URI", \
   .help = "share the crawl with other workers through Redis:\n"                                 \
           "redis://[[USER]:PASSWORD@]HOST[:PORT][/DB] (docs/distributed.md)"},                    \
  {.name = "crawl", .type = AC__OPT_STR, AC__CLI_RUN_AT(T, m.crawl.crawl_name), .arg = "NAME",  \
   .help = "the shared crawl's name (default: the spec's name)"},                               \
  {.name = "lease", .type = AC__OPT_DOUBLE, AC__CLI_RUN_AT(T, m.lease_s), .dmin = 0.1,          \
   .dmax = 86400, .arg = "S",                                                                   \
   .help = "seconds a worker holds a request before others may take\n"                          \
           "it over, renewed while it works (default 30)"},                                     \
  {.name = "retry-failed", .type = AC__OPT_FLAG, AC__CLI_RUN_AT(T, m.crawl.retry_failed),      \
   .help = "put the shared crawl's failed requests back in its queue,\n"                         \
           "then work on it (with --frontier)"},                                                \
  {.name = "status", .type = AC__OPT_FLAG, AC__CLI_RUN_AT(T, m.status),                         \
   .help = "print the shared crawl's counts and exit (with --frontier)"},                       \
  {.name = "stats", .type = AC__OPT_STR, AC__CLI_RUN_AT(T, m.stats), .arg = "FILE",             \
   .help = "write the summary as JSON"},                                                        \
  {.name = "quiet", .short_name = 'q', .type = AC__OPT_FLAG, AC__CLI_RUN_AT(T, m.quiet),        \
   .help = "no progress and no summary"},                                                       \
  {.name = "verbose", .short_name = 'v', .type = AC__OPT_FLAG,                                  \
   AC__CLI_RUN_AT(T, m.crawl.verbose), .help = "also log every retry and failure as it happens"}

/* The exit status lines of every crawl command's help. */
#define AC__CLI_RUN_EXIT_HELP                                                          \
  "Exit status: 0 complete, 1 nothing could be crawled (the error says why),\n"       \
  "2 bad usage, 3 incomplete (failed pages listed), 4 the crawl state could not\n"   \
  "be written (--resume may fetch again) or a shared crawl's keys are gone from\n"   \
  "Redis, 130/143 stopped by a signal.\n"

/* Fills the defaults (before parsing the command line). */
void ac__cli_run_init(ac__cli_run_t *r);

/* After parsing: the checks between options (--quiet with --verbose) and
 * the conversions (--timeout). 0, or -1 having said why. */
int ac__cli_run_check(ac__cli_run_t *r);

/* Runs the crawl of `spider` into the stores (default sqlite:DEFAULT_DB
 * when none was given), each opened once per collection of the spec:
 * sqlite: one table each in the file; mongodb://HOST/DB one collection
 * each (a URI naming DB.COLL takes a spec of one collection only); jsonl:PATH
 * one file each, PATH for the first and PATH with ".COLLECTION" before its
 * extension for the others (jsonl:- takes one collection only). Returns the
 * process exit status. */
int ac__cli_run(ac__cli_run_t *r, const ac_spider_t *spider, const char *default_db);

#endif /* AC_CLI_RUN_H */
