/*
 * The crawl run every crawl command shares (run.h): stores opened, the
 * state beside them, signals (one: graceful, two: at once), the crawl run
 * on its loop, the stores closed, the exit status.
 */
#include "cli/run.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acrawl.h"

void ac__cli_run_init(ac__cli_run_t *r) {
  memset(r, 0, sizeof(*r));
  ac_crawl_opts_init(&r->crawl);
}

int ac__cli_run_check(ac__cli_run_t *r) {
  if (r->quiet && r->crawl.verbose) {
    fprintf(stderr, "acrawl %s: --quiet and --verbose contradict each other\n", r->cmd);
    return -1;
  }
  if (r->timeout_s > 0) r->crawl.timeout_ms = (uint64_t)(r->timeout_s * 1000);
  return 0;
}

/* A second signal while a store is being closed: a close that keeps
 * retrying (a locked database, a full disk) waits for nothing now. */
static int abort_closing(void *arg, void **result) {
  ac__cli_run_t *r = arg;
  (void)result;
  if (r->closing_store != NULL) ac_store_abort(r->closing_store);
  return 0;
}

static void on_signal(ac_loop_t *loop, int signum, void *userdata) {
  ac__cli_run_t *r = userdata;
  r->last_signal = signum;
  if (++r->signals == 1) {
    if (!r->quiet)
      fprintf(stderr, "\nstopping: requests in flight finish, the state is saved "
                      "(Ctrl-C again to stop at once)\n");
    if (r->c != NULL) ac_crawl_stop(r->c, 0);
  } else if (r->signals == 2) {
    if (!r->quiet) fprintf(stderr, "\nstopping now\n");
    if (r->c != NULL) ac_crawl_stop(r->c, 1);
    if (r->closing_store != NULL) (void)ac_task_spawn(loop, abort_closing, r, NULL, NULL);
  }
}

/* The state file beside the first file store: books.db -> books.db.state. */
static char *default_state(const ac__cli_run_t *r) {
  for (size_t i = 0; i < r->stores.n; i++) {
    char *path, *s;
    size_t n;
    int rc = ac_store_uri_file(r->stores.v[i], &path);
    if (rc == AC_ENOMEM) return NULL;
    if (rc != 0) continue;
    n = strlen(path) + 7;
    s = malloc(n);
    if (s != NULL) snprintf(s, n, "%s.state", path);
    ac_free(path);
    return s;
  }
  return strdup(r->state_default);
}

/* When nothing at all was crawled, the first failure is the whole story. */
static int explain_fatal(ac_crawl_t *c, const ac__cli_run_t *r) {
  ac_crawl_stats_t s;
  ac_crawl_failure_t f;
  ac_crawl_stats(c, &s);
  if (s.pages_done > 0 || s.resumed_done > 0 || ac_crawl_failure_at(c, 0, &f) != 0) return 0;
  fprintf(stderr, "acrawl %s: cannot crawl %s: %s (%s, %d attempt%s)\n", r->cmd, r->site, f.why,
          f.url, f.attempts, f.attempts == 1 ? "" : "s");
  return 1;
}

typedef struct run_task {
  ac__cli_run_t *r;
  const ac_spider_t *spider;
} run_task_t;

static int run_main(void *arg, void **result) {
  run_task_t *t = arg;
  ac__cli_run_t *r = t->r;
  ac_loop_t *loop = ac_task_loop(ac_task_current());
  ac_store_t *stores[AC__CLI_MAX_STORES] = {0};
  ac_store_opts_t so;
  char *state = NULL;
  int rc;
  size_t opened = 0;
  (void)result;

  ac_store_opts_init(&so);
  so.collection = r->collection;
  so.key_field = r->key_field;
  so.resume = r->crawl.resume;
  for (; opened < r->stores.n; opened++) {
    ac_store_error_t err;
    rc = ac_store_open(loop, r->stores.v[opened], &so, &stores[opened], &err);
    if (rc != 0) {
      fprintf(stderr, "acrawl %s: %s\n", r->cmd, err.message);
      r->exit_code = rc == AC_EINVAL ? AC__EXIT_USAGE : AC__EXIT_FATAL;
      goto out;
    }
  }
  state = r->state != NULL ? strdup(r->state) : default_state(r);
  if (state == NULL) {
    r->exit_code = AC__EXIT_FATAL;
    goto out;
  }
  r->crawl.stores = stores;
  r->crawl.nstores = r->stores.n;
  r->crawl.state_path = state;
  if (r->quiet) {
    r->crawl.progress = AC_PROGRESS_QUIET;
    r->crawl.summary = 0;
  }
  if (r->signals > 0) {
    /* Stopped while the stores were opening: nothing to crawl or save. */
    r->exit_code = 128 + r->last_signal;
    goto out;
  }
  rc = ac_crawl_new(loop, t->spider, &r->crawl, &r->c);
  if (rc != 0) {
    fprintf(stderr, "acrawl %s: cannot start the crawl: %s\n", r->cmd, ac_strerror(rc));
    r->exit_code = AC__EXIT_FATAL;
    goto out;
  }
  rc = ac_crawl_run(r->c);
  if (r->stats != NULL && ac_crawl_write_stats(r->c, r->stats) != 0)
    fprintf(stderr, "acrawl %s: cannot write --stats %s: %s\n", r->cmd, r->stats,
            strerror(errno));
  switch (rc) {
  case 0: r->exit_code = AC__EXIT_COMPLETE; break;
  case AC_ECANCELED: r->exit_code = 128 + (r->last_signal ? r->last_signal : SIGINT); break;
  case AC_EFAILED:
    r->exit_code = explain_fatal(r->c, r) ? AC__EXIT_FATAL : AC__EXIT_INCOMPLETE;
    break;
  case AC_ESTORE: {
    /* The crawl said why: a state it could not open or read (nothing was
     * crawled), or one it could not write while crawling. */
    ac_crawl_stats_t s;
    ac_crawl_stats(r->c, &s);
    r->exit_code = s.requests == 0 ? AC__EXIT_FATAL : AC__EXIT_STATE;
    break;
  }
  default:
    fprintf(stderr, "acrawl %s: the crawl failed: %s\n", r->cmd, ac_strerror(rc));
    r->exit_code = AC__EXIT_FATAL;
    break;
  }
out:
  /* A hard stop does not wait for a store that may be down. */
  for (size_t i = 0; i < opened; i++) {
    if (r->signals >= 2) {
      ac_store_abort(stores[i]);
    } else {
      /* The close frees the store: its last error is read before. */
      ac_store_stats_t st;
      ac_store_stats(stores[i], &st);
      r->closing_store = stores[i];
      rc = ac_store_close(stores[i]);
      r->closing_store = NULL;
      if (rc == 0) continue;
      if (r->signals >= 2) {
        fprintf(stderr, "acrawl %s: stopped before %s was flushed: --resume fetches again "
                        "what is missing there\n", r->cmd, r->stores.v[i]);
        continue;
      }
      if (st.last_error[0] != '\0')
        fprintf(stderr, "acrawl %s: closing %s failed: %s may be missing there (%s)\n", r->cmd,
                r->stores.v[i], r->collection, st.last_error);
      else
        fprintf(stderr, "acrawl %s: closing %s failed: %s may be missing there\n", r->cmd,
                r->stores.v[i], r->collection);
      if (r->exit_code == AC__EXIT_COMPLETE) r->exit_code = AC__EXIT_FATAL;
    }
  }
  /* Stopped at once, even if the crawl itself had finished. */
  if (r->signals >= 2) r->exit_code = 128 + r->last_signal;
  ac_crawl_free(r->c);
  r->c = NULL;
  free(state);
  return 0;
}

int ac__cli_run(ac__cli_run_t *r, const ac_spider_t *spider, const char *default_db) {
  ac_loop_t *loop = NULL;
  ac_task_t *task = NULL;
  run_task_t t = {r, spider};
  int rc;
  static char db_uri[300];
  if (r->stores.n == 0) {
    snprintf(db_uri, sizeof(db_uri), "sqlite:%s", default_db);
    r->stores.v[r->stores.n++] = db_uri;
  }
  /* A connection per request in flight plus the stores' files, reserved
   * before the stores start their threads: growing the descriptor table
   * later stalls the loop (ac_reserve_fds). */
  if (ac_reserve_fds(r->crawl.concurrency + 64, NULL) == AC_EMFILE)
    fprintf(stderr, "acrawl %s: the open files limit is below --concurrency %zu + 64: "
                    "connections past it will fail\n", r->cmd, r->crawl.concurrency);
  rc = ac_loop_new(&loop);
  if (rc == 0) rc = ac_signal_watch(loop, SIGINT, on_signal, r);
  if (rc == 0) rc = ac_signal_watch(loop, SIGTERM, on_signal, r);
  if (rc == 0) rc = ac_task_spawn(loop, run_main, &t, NULL, &task);
  if (rc == 0) rc = ac_loop_run_until_done(loop, task);
  if (task != NULL) ac_task_release(task);
  if (loop != NULL) {
    (void)ac_signal_unwatch(loop, SIGINT);
    (void)ac_signal_unwatch(loop, SIGTERM);
    (void)ac_loop_close(loop);
  }
  if (rc != 0) {
    fprintf(stderr, "acrawl %s: %s\n", r->cmd, ac_strerror(rc));
    return AC__EXIT_FATAL;
  }
  return r->exit_code;
}
