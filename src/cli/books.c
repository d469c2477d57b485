/*
 * acrawl books: the main job. Crawl the tutorial's book site through its
 * Ajax JSON API (list pages, then one detail per book) into one or more
 * stores, with the crawl state beside the first file store for --resume.
 *
 * Exit status: 0 complete; 1 nothing could be crawled (bad store, site
 * unreachable or not the book API, state unreadable); 2 bad usage;
 * 3 incomplete (some pages failed for good: listed in the summary);
 * 4 the crawl state could not be written (--resume may fetch again what
 * this run did); 130 / 143 stopped by SIGINT / SIGTERM (--resume continues;
 * a second signal stops at once, even while the stores are being flushed).
 */
#include <errno.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acrawl.h"
#include "acrawl/crawl.h"
#include "acrawl/store.h"
#include "cli/books_spider.h"
#include "cli/cli.h"
#include "cli/opts.h"

#define MAX_STORES 8

enum { EXIT_COMPLETE = 0, EXIT_FATAL = 1, EXIT_USAGE = AC__EXIT_USAGE, EXIT_INCOMPLETE = 3, EXIT_STATE = 4 };

typedef struct books_cfg {
  books_spider_opts_t books;
  ac_crawl_opts_t crawl;
  struct ac__opt_list stores; /* --store */
  double timeout_s;           /* --timeout, 0: not given */
  const char *state;
  const char *stats;
  int quiet;
  ac_crawl_t *c;
  ac_store_t *closing_store; /* the store books_main is closing now */
  int signals;
  int last_signal;
  int exit_code;
} books_cfg_t;

/* --pages FIRST-LAST (or one page: N) into the spider's options. */
static int parse_pages(void *field, const char *v) {
  books_spider_opts_t *b = field;
  uint64_t first, last;
  char num[24];
  const char *dash = strchr(v, '-');
  size_t n = dash != NULL ? (size_t)(dash - v) : strlen(v);
  if (n >= sizeof(num)) return -1;
  memcpy(num, v, n);
  num[n] = '\0';
  if (ac__opts_uint(num, 1, 100000000, &first) != 0) return -1;
  if (dash == NULL) last = first;
  else if (ac__opts_uint(dash + 1, first, 100000000, &last) != 0) return -1;
  b->first_page = (int)first;
  b->last_page = (int)last;
  return 0;
}

#define AT(f) AC__OPT_AT(books_cfg_t, f)

static const struct ac__opt books_opts[] = {
    {.name = "base", .type = AC__OPT_STR, AT(books.base_url), .arg = "URL",
     .help = "the site (default https://spa5.scrape.center; the local\n"
             "replica: acrawl site --port 8080, then http://127.0.0.1:8080)"},
    {.name = "store", .type = AC__OPT_LIST, AT(stores), .max = MAX_STORES, .arg = "URI",
     .help = "where books go; repeatable (default sqlite:books.db):\n"
             "  sqlite:PATH  jsonl:PATH  jsonl:-  mongodb://HOST:PORT/DB.COLL"},
    {.name = "state", .type = AC__OPT_STR, AT(state), .arg = "FILE",
     .help = "the crawl state for --resume (default: beside the first\n"
             "sqlite: or jsonl: store, as PATH.state; else acrawl-books.state)"},
    {.name = "resume", .type = AC__OPT_FLAG, AT(crawl.resume),
     .help = "continue from the state instead of starting afresh"},
    {.name = "concurrency", .short_name = 'c', .type = AC__OPT_UINT, AT(crawl.concurrency),
     .min = 1, .max = 100000, .arg = "N", .help = "requests in flight (default 16)"},
    {.name = "per-host", .type = AC__OPT_UINT, AT(crawl.per_host), .min = 1, .max = 100000,
     .arg = "N", .help = "requests in flight to one host (default: concurrency)"},
    /* Slower than one request in 1,000 s is a stopped crawl, not a rate. */
    {.name = "rate", .type = AC__OPT_DOUBLE, .flags = AC__OPT_ZERO, AT(crawl.rate),
     .dmin = 0.001, .dmax = 1e6, .arg = "R",
     .help = "requests per second to one host, 0.001 to 1e6\n(default 0: no limit)"},
    {.name = "throttle", .type = AC__OPT_FLAG, AT(crawl.throttle),
     .help = "back off when the site answers 429/503 or times out"},
    {.name = "retry-after-host", .type = AC__OPT_FLAG, AT(crawl.retry_after_host),
     .help = "a Retry-After pauses the whole host, not just that request"},
    {.name = "page-size", .type = AC__OPT_UINT, AT(books.page_size), .min = 1, .max = 10000,
     .arg = "N", .help = "books per list page (default 18)"},
    {.name = "pages", .type = AC__OPT_FUNC, AT(books), .fn = parse_pages,
     .wants = "FIRST-LAST with 1 <= FIRST <= LAST <= 100000000", .arg = "FIRST-LAST",
     .help = "only these list pages (1-based; default: all, from count)"},
    {.name = "retries", .type = AC__OPT_UINT, AT(crawl.retries), .min = 0, .max = 100,
     .arg = "N", .help = "retries of a failed request (default 4)"},
    {.name = "timeout", .type = AC__OPT_DOUBLE, AT(timeout_s), .dmin = 0.001, .dmax = 86400,
     .arg = "S", .help = "seconds for one request, 0.001 to 86400 (default 30)"},
    {.name = "max-body", .type = AC__OPT_SIZE, AT(crawl.max_body), .min = 1,
     .max = (uint64_t)1 << 40, .arg = "BYTES",
     .help = "fail a response bigger than this (default 16M; suffixes\n"
             "K, M, G, T: times 1024, 1024^2, ...)"},
    {.name = "no-compression", .type = AC__OPT_FLAG, .flags = AC__OPT_OFF, AT(crawl.decompress),
     .help = "do not ask for gzip (saves CPU on a fast link)"},
    {.name = "user-agent", .type = AC__OPT_STR, .flags = AC__OPT_EMPTY, AT(crawl.user_agent),
     .arg = "UA", .help = "the User-Agent header"},
    {.name = "stats", .type = AC__OPT_STR, AT(stats), .arg = "FILE",
     .help = "write the summary as JSON"},
    {.name = "quiet", .short_name = 'q', .type = AC__OPT_FLAG, AT(quiet),
     .help = "no progress and no summary"},
    {.name = "verbose", .short_name = 'v', .type = AC__OPT_FLAG, AT(crawl.verbose),
     .help = "also log every retry and failure as it happens"},
};

#undef AT

static const struct ac__opts books_spec = {
    .cmd = "books",
    .opts = books_opts,
    .nopts = sizeof(books_opts) / sizeof(books_opts[0]),
    .width = 19,
    .intro = "usage: acrawl books [options]\n"
             "\n"
             "Crawl the book site through its JSON API: list pages\n"
             "  BASE/api/book/?limit=L&offset=O, then BASE/api/book/ID for every book,\n"
             "and upsert each book by id into the stores. A live progress line on a\n"
             "terminal (log lines otherwise), a summary at the end. Ctrl-C stops\n"
             "gracefully (requests in flight finish, stores are flushed, the state is\n"
             "saved); a second Ctrl-C stops at once. --resume continues a stopped or\n"
             "killed crawl without fetching again what is stored.\n",
    .outro = "Exit status: 0 complete, 1 nothing could be crawled (the error says why),\n"
             "2 bad usage, 3 incomplete (failed pages listed), 4 the crawl state could not\n"
             "be written (--resume may fetch again), 130/143 stopped by a signal.\n",
};

/* Returns 0, 1 for --help (printed), -1 on a bad command line (said). */
static int parse_args(books_cfg_t *cfg, int argc, char **argv) {
  int rc = ac__opts_parse(&books_spec, cfg, argc, argv);
  if (rc == AC__OPTS_HELP) {
    ac__opts_usage(&books_spec, stdout);
    return 1;
  }
  if (rc != AC__OPTS_OK) return -1;
  if (cfg->quiet && cfg->crawl.verbose) {
    fprintf(stderr, "acrawl books: --quiet and --verbose contradict each other\n");
    return -1;
  }
  if (cfg->timeout_s > 0) cfg->crawl.timeout_ms = (uint64_t)(cfg->timeout_s * 1000);
  return 0;
}

/* A second signal while a store is being closed: a close that keeps
 * retrying (a locked database, a full disk) waits for nothing now. */
static int abort_closing(void *arg, void **result) {
  books_cfg_t *cfg = arg;
  (void)result;
  if (cfg->closing_store != NULL) ac_store_abort(cfg->closing_store);
  return 0;
}

static void on_signal(ac_loop_t *loop, int signum, void *userdata) {
  books_cfg_t *cfg = userdata;
  cfg->last_signal = signum;
  if (++cfg->signals == 1) {
    if (!cfg->quiet)
      fprintf(stderr, "\nstopping: requests in flight finish, the state is saved "
                      "(Ctrl-C again to stop at once)\n");
    if (cfg->c != NULL) ac_crawl_stop(cfg->c, 0);
  } else if (cfg->signals == 2) {
    if (!cfg->quiet) fprintf(stderr, "\nstopping now\n");
    if (cfg->c != NULL) ac_crawl_stop(cfg->c, 1);
    if (cfg->closing_store != NULL) (void)ac_task_spawn(loop, abort_closing, cfg, NULL, NULL);
  }
}

/* The state file beside the first file store: books.db -> books.db.state. */
static char *default_state(const books_cfg_t *cfg) {
  for (size_t i = 0; i < cfg->stores.n; i++) {
    char *path, *s;
    size_t n;
    int rc = ac_store_uri_file(cfg->stores.v[i], &path);
    if (rc == AC_ENOMEM) return NULL;
    if (rc != 0) continue;
    n = strlen(path) + 7;
    s = malloc(n);
    if (s != NULL) snprintf(s, n, "%s.state", path);
    ac_free(path);
    return s;
  }
  return strdup("acrawl-books.state");
}

/* When nothing at all was crawled, the first failure is the whole story. */
static int explain_fatal(ac_crawl_t *c, const books_cfg_t *cfg) {
  ac_crawl_stats_t s;
  ac_crawl_failure_t f;
  ac_crawl_stats(c, &s);
  if (s.pages_done > 0 || s.resumed_done > 0 || ac_crawl_failure_at(c, 0, &f) != 0) return 0;
  fprintf(stderr, "acrawl books: cannot crawl %s: %s (%s, %d attempt%s)\n",
          cfg->books.base_url != NULL ? cfg->books.base_url : "https://spa5.scrape.center",
          f.why, f.url, f.attempts, f.attempts == 1 ? "" : "s");
  return 1;
}

static int books_main(void *arg, void **result) {
  books_cfg_t *cfg = arg;
  ac_loop_t *loop = ac_task_loop(ac_task_current());
  ac_store_t *stores[MAX_STORES] = {0};
  ac_spider_t spider;
  ac_store_opts_t so;
  char *state = NULL;
  int rc;
  size_t opened = 0;
  (void)result;

  rc = books_spider_new(&cfg->books, &spider);
  if (rc != 0) {
    fprintf(stderr, "acrawl books: bad --base '%s': an absolute http:// or https:// URL is needed\n",
            cfg->books.base_url);
    cfg->exit_code = EXIT_USAGE;
    return 0;
  }
  ac_store_opts_init(&so);
  so.collection = "books";
  so.key_field = "id";
  so.resume = cfg->crawl.resume;
  for (; opened < cfg->stores.n; opened++) {
    ac_store_error_t err;
    rc = ac_store_open(loop, cfg->stores.v[opened], &so, &stores[opened], &err);
    if (rc != 0) {
      fprintf(stderr, "acrawl books: %s\n", err.message);
      cfg->exit_code = rc == AC_EINVAL ? EXIT_USAGE : EXIT_FATAL;
      goto out;
    }
  }
  state = cfg->state != NULL ? strdup(cfg->state) : default_state(cfg);
  if (state == NULL) {
    cfg->exit_code = EXIT_FATAL;
    goto out;
  }
  cfg->crawl.stores = stores;
  cfg->crawl.nstores = cfg->stores.n;
  cfg->crawl.state_path = state;
  if (cfg->quiet) {
    cfg->crawl.progress = AC_PROGRESS_QUIET;
    cfg->crawl.summary = 0;
  }
  if (cfg->signals > 0) {
    /* Stopped while the stores were opening: nothing to crawl or save. */
    cfg->exit_code = 128 + cfg->last_signal;
    goto out;
  }
  rc = ac_crawl_new(loop, &spider, &cfg->crawl, &cfg->c);
  if (rc != 0) {
    fprintf(stderr, "acrawl books: cannot start the crawl: %s\n", ac_strerror(rc));
    cfg->exit_code = EXIT_FATAL;
    goto out;
  }
  rc = ac_crawl_run(cfg->c);
  if (cfg->stats != NULL && ac_crawl_write_stats(cfg->c, cfg->stats) != 0)
    fprintf(stderr, "acrawl books: cannot write --stats %s: %s\n", cfg->stats, strerror(errno));
  switch (rc) {
  case 0: cfg->exit_code = EXIT_COMPLETE; break;
  case AC_ECANCELED: cfg->exit_code = 128 + (cfg->last_signal ? cfg->last_signal : SIGINT); break;
  case AC_EFAILED: cfg->exit_code = explain_fatal(cfg->c, cfg) ? EXIT_FATAL : EXIT_INCOMPLETE; break;
  case AC_ESTORE: {
    /* The crawl said why: a state it could not open or read (nothing was
     * crawled), or one it could not write while crawling. */
    ac_crawl_stats_t s;
    ac_crawl_stats(cfg->c, &s);
    cfg->exit_code = s.requests == 0 ? EXIT_FATAL : EXIT_STATE;
    break;
  }
  default:
    fprintf(stderr, "acrawl books: the crawl failed: %s\n", ac_strerror(rc));
    cfg->exit_code = EXIT_FATAL;
    break;
  }
out:
  /* A hard stop does not wait for a store that may be down. */
  for (size_t i = 0; i < opened; i++) {
    if (cfg->signals >= 2) {
      ac_store_abort(stores[i]);
    } else {
      /* The close frees the store: its last error is read before. */
      ac_store_stats_t st;
      ac_store_stats(stores[i], &st);
      cfg->closing_store = stores[i];
      rc = ac_store_close(stores[i]);
      cfg->closing_store = NULL;
      if (rc == 0) continue;
      if (cfg->signals >= 2) {
        fprintf(stderr, "acrawl books: stopped before %s was flushed: --resume fetches again "
                        "what is missing there\n", cfg->stores.v[i]);
        continue;
      }
      if (st.last_error[0] != '\0')
        fprintf(stderr, "acrawl books: closing %s failed: books may be missing there (%s)\n",
                cfg->stores.v[i], st.last_error);
      else
        fprintf(stderr, "acrawl books: closing %s failed: books may be missing there\n",
                cfg->stores.v[i]);
      if (cfg->exit_code == EXIT_COMPLETE) cfg->exit_code = EXIT_FATAL;
    }
  }
  /* Stopped at once, even if the crawl itself had finished. */
  if (cfg->signals >= 2) cfg->exit_code = 128 + cfg->last_signal;
  ac_crawl_free(cfg->c);
  cfg->c = NULL;
  books_spider_free(&spider);
  free(state);
  return 0;
}

int ac__cli_books(int argc, char **argv) {
  books_cfg_t cfg;
  ac_loop_t *loop = NULL;
  ac_task_t *task = NULL;
  int rc;
  memset(&cfg, 0, sizeof(cfg));
  ac_crawl_opts_init(&cfg.crawl);
  rc = parse_args(&cfg, argc, argv);
  if (rc != 0) return rc > 0 ? 0 : EXIT_USAGE;
  if (cfg.stores.n == 0) cfg.stores.v[cfg.stores.n++] = "sqlite:books.db";
  /* A connection per request in flight plus the stores' files, reserved
   * before the stores start their threads: growing the descriptor table
   * later stalls the loop (ac_reserve_fds), 10-16 ms at 256 in flight. */
  if (ac_reserve_fds(cfg.crawl.concurrency + 64, NULL) == AC_EMFILE)
    fprintf(stderr, "acrawl books: the open files limit is below --concurrency %zu + 64: "
                    "connections past it will fail\n", cfg.crawl.concurrency);
  rc = ac_loop_new(&loop);
  if (rc == 0) rc = ac_signal_watch(loop, SIGINT, on_signal, &cfg);
  if (rc == 0) rc = ac_signal_watch(loop, SIGTERM, on_signal, &cfg);
  if (rc == 0) rc = ac_task_spawn(loop, books_main, &cfg, NULL, &task);
  if (rc == 0) rc = ac_loop_run_until_done(loop, task);
  if (task != NULL) ac_task_release(task);
  if (loop != NULL) {
    (void)ac_signal_unwatch(loop, SIGINT);
    (void)ac_signal_unwatch(loop, SIGTERM);
    (void)ac_loop_close(loop);
  }
  if (rc != 0) {
    fprintf(stderr, "acrawl books: %s\n", ac_strerror(rc));
    return EXIT_FATAL;
  }
  return cfg.exit_code;
}
