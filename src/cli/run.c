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
  if (r->crawl.frontier == NULL) {
    const char *what = r->crawl.crawl_name != NULL ? "--crawl"
                       : r->lease_s > 0            ? "--lease"
                       : r->status                 ? "--status"
                       : r->crawl.retry_failed     ? "--retry-failed"
                                                   : NULL;
    if (what != NULL) {
      fprintf(stderr, "acrawl %s: %s needs --frontier (a shared crawl)\n", r->cmd, what);
      return -1;
    }
    return 0;
  }
  if (r->state != NULL || r->crawl.resume) {
    fprintf(stderr, "acrawl %s: %s: a shared crawl is kept in Redis (start its workers again to "
                    "go on, --retry-failed to fetch its failures again), not in a state file\n",
            r->cmd, r->state != NULL ? "--state" : "--resume");
    return -1;
  }
  if (strncmp(r->crawl.frontier, "redis://", 8) != 0) {
    fprintf(stderr, "acrawl %s: --frontier %s: a redis:// URI is expected\n", r->cmd,
            r->crawl.frontier);
    return -1;
  }
  if (r->status && r->crawl.retry_failed) {
    fprintf(stderr, "acrawl %s: --retry-failed with --status: --status only reads the crawl\n",
            r->cmd);
    return -1;
  }
  if (r->lease_s > 0) r->crawl.lease_ms = (uint64_t)(r->lease_s * 1000);
  return 0;
}

/* --status: the shared crawl's counts, twice a second apart for its rate. */
static int print_status(ac__cli_run_t *r, const char *name) {
  ac_crawl_status_t s, s2;
  char why[512];
  int rc = ac_crawl_status(ac_task_loop(ac_task_current()), r->crawl.frontier, name, &s, why,
                           sizeof(why));
  if (rc == 0 && (rc = ac_sleep(1000)) == 0)
    rc = ac_crawl_status(ac_task_loop(ac_task_current()), r->crawl.frontier, name, &s2, why,
                         sizeof(why));
  if (rc != 0) {
    fprintf(stderr, "acrawl %s: --status: %s\n", r->cmd, why[0] != '\0' ? why : ac_strerror(rc));
    return rc == AC_ENOENT ? AC__EXIT_INCOMPLETE : AC__EXIT_FATAL;
  }
  printf("crawl %s: %s\n"
         "  queued %llu, delayed %llu, leased %llu, done %llu, failed %llu (seen %llu)\n"
         "  duplicates dropped %llu, records that could not be followed %llu\n"
         "  retries %llu, leases taken over %llu, late answers refused %llu\n"
         "  workers %llu (heard from in the last 10 s), %llu requests done in the last second\n",
         name, s2.state, (unsigned long long)s2.queued, (unsigned long long)s2.delayed,
         (unsigned long long)s2.leased, (unsigned long long)s2.done,
         (unsigned long long)s2.failed, (unsigned long long)s2.seen,
         (unsigned long long)s2.dups, (unsigned long long)s2.records_failed,
         (unsigned long long)s2.retries, (unsigned long long)s2.reclaimed,
         (unsigned long long)s2.extra, (unsigned long long)s2.workers,
         (unsigned long long)(s2.done - (s.done < s2.done ? s.done : s2.done)));
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

/* One store of the run: a --store URI opened for one collection. */
typedef struct run_store {
  char *uri;              /* as opened: jsonl: has a file per collection */
  const char *collection; /* the spec's */
  const char *key_field;  /* the spec's, NULL: the store's default */
} run_store_t;

/* A MongoDB URI whose path names DB.COLLECTION (not only DB): what a spec
 * of several collections cannot write to. *what is the DB.COLLECTION part,
 * for a message that leaves the credentials out. */
static int mongo_names_collection(const char *uri, const char **what, size_t *wlen) {
  const char *hosts = strstr(uri, "://"), *path;
  if (strncmp(uri, "mongodb", 7) != 0 || hosts == NULL) return 0;
  hosts += 3;
  path = hosts + strcspn(hosts, "/?");
  if (*path != '/') return 0;
  path++;
  *what = path;
  *wlen = strcspn(path, "?");
  return memchr(path, '.', *wlen) != NULL;
}

/* jsonl:PATH for a collection after the first: PATH with ".COLLECTION"
 * before its extension (items.jsonl -> items.notes.jsonl), or at its end
 * when it has none; a leading dot (.items) is the name's, not one. */
static char *jsonl_uri_for(const char *uri, const char *collection) {
  const char *path = uri + 6, *base = strrchr(path, '/'), *dot;
  size_t stem, n;
  char *out;
  base = base != NULL ? base + 1 : path;
  dot = strrchr(base, '.');
  stem = dot != NULL && dot != base ? (size_t)(dot - uri) : strlen(uri);
  n = strlen(uri) + strlen(collection) + 2;
  if ((out = malloc(n)) != NULL)
    snprintf(out, n, "%.*s.%s%s", (int)stem, uri, collection, uri + stem);
  return out;
}

/* "odd, notes" into buf (cut short at cap). */
static const char *collection_list(const char *const *names, size_t n, char *buf, size_t cap) {
  size_t len = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < n && len < cap; i++) {
    int w = snprintf(buf + len, cap - len, "%s%s", i > 0 ? ", " : "", names[i]);
    if (w < 0) break;
    len += (size_t)w;
  }
  return buf;
}

/* The stores to open, every --store URI once per collection of the spec,
 * URI by URI: *out (free with free_plan). 0, or the exit status having said
 * why: a URI that can hold one collection only with a spec of several. */
static int plan_stores(const ac__cli_run_t *r, run_store_t **out, size_t *nout) {
  const char *const *colls = NULL;
  size_t ncoll = ac_spec_collections(r->spec, &colls), n = 0;
  run_store_t *v;
  char list[512];
  *out = NULL;
  *nout = 0;
  if (ncoll == 0) {
    fprintf(stderr, "acrawl %s: the spec names no collection\n", r->cmd);
    return AC__EXIT_FATAL;
  }
  collection_list(colls, ncoll, list, sizeof(list));
  for (size_t i = 0; i < r->stores.n && ncoll > 1; i++) {
    const char *uri = r->stores.v[i], *what;
    size_t wlen;
    /* Two collections' lines on one stream could not be told apart. */
    if (strcmp(uri, "jsonl:-") == 0) {
      fprintf(stderr, "acrawl %s: --store jsonl:- is one stream, and the items go to %zu "
                      "collections (%s): write them to files, --store jsonl:PATH (one per "
                      "collection)\n", r->cmd, ncoll, list);
      return AC__EXIT_USAGE;
    }
    if (mongo_names_collection(uri, &what, &wlen)) {
      fprintf(stderr, "acrawl %s: the MongoDB store names the collection %.*s, and the items "
                      "go to %zu collections (%s): name only the database "
                      "(mongodb://HOST/DB)\n", r->cmd, (int)wlen, what, ncoll, list);
      return AC__EXIT_USAGE;
    }
  }
  if ((v = calloc(r->stores.n * ncoll, sizeof(*v))) == NULL) goto nomem;
  for (size_t i = 0; i < r->stores.n; i++)
    for (size_t j = 0; j < ncoll; j++, n++) {
      const char *uri = r->stores.v[i];
      v[n].collection = colls[j];
      v[n].key_field = ac_spec_collection_key_field(r->spec, colls[j]);
      v[n].uri = j > 0 && strncmp(uri, "jsonl:", 6) == 0 ? jsonl_uri_for(uri, colls[j])
                                                        : strdup(uri);
      if (v[n].uri == NULL) {
        for (size_t k = 0; k < n; k++) free(v[k].uri);
        free(v);
        goto nomem;
      }
    }
  *out = v;
  *nout = n;
  return 0;
nomem:
  fprintf(stderr, "acrawl %s: out of memory\n", r->cmd);
  return AC__EXIT_FATAL;
}

static void free_plan(run_store_t *v, size_t n) {
  for (size_t i = 0; i < n && v != NULL; i++) free(v[i].uri);
  free(v);
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
  /* --store URIs times collections: past AC__CLI_MAX_STORES, so allocated. */
  ac_store_t **stores = NULL;
  const char **store_colls = NULL;
  run_store_t *plan = NULL;
  ac_store_opts_t so;
  char *state = NULL;
  char fingerprint[1024];
  int rc;
  size_t opened = 0, nplan = 0;
  (void)result;

  if (r->status) {
    r->exit_code = print_status(r, r->crawl.crawl_name != NULL ? r->crawl.crawl_name
                                                               : t->spider->name);
    goto out;
  }
  if ((r->exit_code = plan_stores(r, &plan, &nplan)) != 0) goto out;
  stores = calloc(nplan, sizeof(*stores));
  store_colls = calloc(nplan, sizeof(*store_colls));
  if (stores == NULL || store_colls == NULL) {
    fprintf(stderr, "acrawl %s: out of memory\n", r->cmd);
    r->exit_code = AC__EXIT_FATAL;
    goto out;
  }
  for (; opened < nplan; opened++) {
    ac_store_error_t err;
    ac_store_opts_init(&so);
    so.collection = plan[opened].collection;
    so.key_field = plan[opened].key_field;
    so.resume = r->crawl.resume;
    store_colls[opened] = plan[opened].collection;
    rc = ac_store_open(loop, plan[opened].uri, &so, &stores[opened], &err);
    if (rc != 0) {
      fprintf(stderr, "acrawl %s: %s\n", r->cmd, err.message);
      r->exit_code = rc == AC_EINVAL ? AC__EXIT_USAGE : AC__EXIT_FATAL;
      goto out;
    }
  }
  state = r->crawl.frontier != NULL ? NULL
          : r->state != NULL        ? strdup(r->state)
                                    : default_state(r);
  if (state == NULL && r->crawl.frontier == NULL) {
    r->exit_code = AC__EXIT_FATAL;
    goto out;
  }
  r->crawl.stores = stores;
  r->crawl.nstores = nplan;
  /* One collection: every store takes every item, as before collections. */
  r->crawl.store_collections = nplan > r->stores.n ? store_colls : NULL;
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
  if (r->crawl.frontier != NULL && r->crawl.crawl_fingerprint == NULL) {
    /* Workers of one crawl crawl one site with one spider, from one spec
     * (acrawl books: with one --page-size and --pages). */
    snprintf(fingerprint, sizeof(fingerprint), "%s %s %s", t->spider->name,
             r->site != NULL ? r->site : "", r->spec != NULL ? ac_spec_digest(r->spec) : "");
    r->crawl.crawl_fingerprint = fingerprint;
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
                        "what is missing there\n", r->cmd, plan[i].uri);
        continue;
      }
      if (st.last_error[0] != '\0')
        fprintf(stderr, "acrawl %s: closing %s failed: %s may be missing there (%s)\n", r->cmd,
                plan[i].uri, plan[i].collection, st.last_error);
      else
        fprintf(stderr, "acrawl %s: closing %s failed: %s may be missing there\n", r->cmd,
                plan[i].uri, plan[i].collection);
      if (r->exit_code == AC__EXIT_COMPLETE) r->exit_code = AC__EXIT_FATAL;
    }
  }
  /* Stopped at once, even if the crawl itself had finished. */
  if (r->signals >= 2) r->exit_code = 128 + r->last_signal;
  ac_crawl_free(r->c);
  r->c = NULL;
  r->crawl.stores = NULL;
  r->crawl.store_collections = NULL;
  free(stores);
  free(store_colls);
  free_plan(plan, nplan);
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
