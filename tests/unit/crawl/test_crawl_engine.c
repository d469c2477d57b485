/*
 * The crawl engine against acrawl's own server on the same loop, with a
 * spider that knows nothing of books: a tree of nodes, each page linking to
 * its children. What is asserted: every node fetched exactly once, the
 * frontier's bound, the concurrency cap seen by the server, retries and
 * failure records, Retry-After, the rate limit, a graceful stop, bad input.
 */
#include <cjson/cJSON.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "acrawl.h"
#include "acrawl/crawl.h"
#include "runner.h"
#include "../store/store_test.h"

#define MAX_NODES 4096

typedef struct graph {
  ac_loop_t *loop;
  ac_server_t *server;
  int port;
  int nodes;
  int fanout;
  int delay_ms;
  int hits[MAX_NODES];
  int active, max_active;
  /* Faults by node: fail_first[n] 5xx answers first, gone[n] 404 forever,
   * ra_ms[n] a 429 with this Retry-After first. */
  int fail_first[MAX_NODES];
  int gone[MAX_NODES];
  int ra_ms[MAX_NODES];
  const char *ra_text[MAX_NODES]; /* the 429's Retry-After as given, over ra_ms */
  uint64_t first_429_ms[MAX_NODES];
  uint64_t retried_after_ms[MAX_NODES]; /* when the request after the 429 came */
  uint64_t arrivals[MAX_NODES * 2];
  size_t narrivals;
  /* The spider's view. */
  ac_crawl_t *crawl;
  size_t max_queued;
  int stop_after; /* call ac_crawl_stop(…, 0) after this many pages (0: never) */
  int parsed;
  int bad_follow_rc, bad_emit_rc;
} graph_t;

static int node_handler(ac_server_req_t *req, ac_server_resp_t *resp, void *ud) {
  graph_t *g = ud;
  int n = atoi(ac_server_req_param(req, "n"));
  char body[1024];
  size_t len;
  uint64_t now = ac_loop_now(g->loop);
  if (n < 0 || n >= g->nodes) return ac_server_resp_text(resp, 404, "no such node");
  if (g->narrivals < sizeof(g->arrivals) / sizeof(g->arrivals[0]))
    g->arrivals[g->narrivals++] = now;
  g->hits[n]++;
  if (g->first_429_ms[n] != 0 && g->retried_after_ms[n] == 0) g->retried_after_ms[n] = now;
  if (g->gone[n]) return ac_server_resp_text(resp, 404, "gone");
  if (g->fail_first[n] > 0) {
    g->fail_first[n]--;
    return ac_server_resp_text(resp, 503, "busy");
  }
  if ((g->ra_ms[n] > 0 || g->ra_text[n] != NULL) && g->first_429_ms[n] == 0) {
    char v[64];
    g->first_429_ms[n] = now;
    snprintf(v, sizeof(v), "%.3f", g->ra_ms[n] / 1000.0);
    ac_server_resp_header(resp, "Retry-After", g->ra_text[n] != NULL ? g->ra_text[n] : v);
    return ac_server_resp_text(resp, 429, "slow down");
  }
  g->active++;
  if (g->active > g->max_active) g->max_active = g->active;
  if (g->delay_ms > 0) (void)ac_sleep((uint64_t)g->delay_ms);
  g->active--;
  len = (size_t)snprintf(body, sizeof(body), "{\"id\":%d,\"links\":[", n);
  for (int k = 1; k <= g->fanout; k++) {
    int child = n * g->fanout + k;
    if (child >= g->nodes) break;
    len += (size_t)snprintf(body + len, sizeof(body) - len, "%s%d", k > 1 ? "," : "", child);
  }
  len += (size_t)snprintf(body + len, sizeof(body) - len, "]}");
  ac_server_resp_header(resp, "Content-Type", "application/json");
  return ac_server_resp_send(resp, body, len);
}

static int graph_start(ac_crawl_t *c, void *data) {
  graph_t *g = data;
  char url[128];
  /* Bad follows are refused, not crawled. */
  g->bad_follow_rc = ac_crawl_follow(c, "/relative/0", 0, 0, NULL);
  if (g->bad_follow_rc == AC_EINVAL) g->bad_follow_rc = ac_crawl_follow(c, "http://x/", 7, 0, NULL);
  g->bad_emit_rc = ac_crawl_emit(c, "k", "{}", 2); /* not from a callback */
  snprintf(url, sizeof(url), "http://127.0.0.1:%d/node/0", g->port);
  return ac_crawl_follow(c, url, 0, 0, NULL) == 1 ? 0 : AC_EIO;
}

static int graph_parse(ac_crawl_t *c, const ac_crawl_req_t *req, ac_response_t *resp,
                       void *data) {
  graph_t *g = data;
  const cJSON *json, *link;
  ac_crawl_stats_t st;
  if (ac_response_json(resp, &json) != 0) return AC_EPARSE;
  cJSON_ArrayForEach(link, cJSON_GetObjectItemCaseSensitive(json, "links")) {
    char url[128];
    int rc;
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/node/%d", g->port, link->valueint);
    /* Deeper pages first (depth-first), as crawl.h asks of a spider whose
     * pages link to more pages than it takes: the frontier stays small. */
    rc = ac_crawl_follow(c, url, 0, req->priority + 1, NULL);
    if (rc < 0) return rc;
    /* The same link twice is dropped. */
    ASSERT_EQ(ac_crawl_follow(c, url, 0, req->priority + 1, "dup"), 0);
    ac_crawl_stats(c, &st);
    if (st.queued > g->max_queued) g->max_queued = st.queued;
  }
  g->parsed++;
  if (g->stop_after > 0 && g->parsed == g->stop_after) ac_crawl_stop(c, 0);
  return 0;
}

static const ac_spider_parse_fn graph_callbacks[] = {graph_parse};

typedef struct run {
  graph_t *g;
  ac_crawl_opts_t opts;
  int rc;
  ac_crawl_stats_t st;
  size_t nfail;
  ac_crawl_failure_t fail0;
  char fail0_url[128];
} run_t;

static int run_main(void *arg, void **result) {
  run_t *r = arg;
  graph_t *g = r->g;
  ac_spider_t spider = {"graph", graph_start, graph_callbacks, 1, NULL, 0, g};
  (void)result;
  r->opts.progress = AC_PROGRESS_QUIET;
  r->opts.summary = 0;
  ASSERT_EQ(ac_crawl_new(g->loop, &spider, &r->opts, &g->crawl), 0);
  r->rc = ac_crawl_run(g->crawl);
  ac_crawl_stats(g->crawl, &r->st);
  r->nfail = ac_crawl_failure_count(g->crawl);
  if (r->nfail > 0) {
    ASSERT_EQ(ac_crawl_failure_at(g->crawl, 0, &r->fail0), 0);
    snprintf(r->fail0_url, sizeof(r->fail0_url), "%s", r->fail0.url);
  }
  ASSERT_EQ(ac_crawl_failure_at(g->crawl, r->nfail, &r->fail0), AC_EINVAL);
  ac_crawl_free(g->crawl);
  g->crawl = NULL;
  ASSERT_EQ(ac_server_shutdown(g->server, 1000), 0);
  return 0;
}

static void graph_init(graph_t *g, int nodes, int fanout) {
  memset(g, 0, sizeof(*g));
  g->nodes = nodes;
  g->fanout = fanout;
  ASSERT_EQ(ac_loop_new(&g->loop), 0);
  ASSERT_EQ(ac_server_new(g->loop, NULL, &g->server), 0);
  ASSERT_EQ(ac_server_route(g->server, "GET", "/node/{n}", node_handler, g), 0);
  ASSERT_EQ(ac_server_listen(g->server, "127.0.0.1", 0), 0);
  g->port = ac_server_port(g->server);
}

static void graph_run(graph_t *g, run_t *r) {
  ac_task_t *t;
  r->g = g;
  ASSERT_EQ(ac_task_spawn(g->loop, run_main, r, NULL, &t), 0);
  ASSERT_EQ(ac_loop_run_until_done(g->loop, t), 0);
  ASSERT_EQ(ac_task_error(t), 0);
  ac_task_release(t);
  ASSERT_EQ(ac_server_free(g->server), 0);
  ASSERT_EQ(ac_loop_close(g->loop), 0);
}

TEST_IMPL(crawl_engine_every_node_once_frontier_bounded) {
  static graph_t g;
  run_t r;
  graph_init(&g, 3000, 10);
  g.delay_ms = 1;
  ac_crawl_opts_init(&r.opts);
  r.opts.concurrency = 8;
  r.opts.frontier_cap = 16;
  graph_run(&g, &r);
  ASSERT_EQ(r.rc, 0);
  for (int n = 0; n < g.nodes; n++)
    if (g.hits[n] != 1) AC__FAIL("node %d fetched %d times", n, g.hits[n]);
  ASSERT_EQ(r.st.pages_done, 3000);
  ASSERT_EQ(r.st.requests, 3000);
  ASSERT_EQ(r.st.duplicates, 2999); /* each link followed twice */
  /* The cap, plus what the one consumer still running follows past it while
   * the seven others wait for room (see crawl.h): depth-first, at most one
   * fan-out per level below the root (4 levels of 10). */
  ASSERT_LE(g.max_queued, 16 + 4 * 10);
  ASSERT_LE(g.max_active, 8);
  ASSERT_GE(g.max_active, 2);
  ASSERT_EQ(g.bad_follow_rc, AC_EINVAL);
  ASSERT_EQ(g.bad_emit_rc, AC_EINVAL);
}

TEST_IMPL(crawl_engine_retries_and_failures) {
  static graph_t g;
  run_t r;
  graph_init(&g, 200, 4);
  for (int n = 1; n < g.nodes; n += 3) g.fail_first[n] = 2; /* two 503s, then fine */
  g.fail_first[5] = 10;                                      /* more than the retries */
  g.gone[7] = 1;
  ac_crawl_opts_init(&r.opts);
  r.opts.concurrency = 4;
  r.opts.retries = 3;
  r.opts.backoff_base_ms = 1;
  r.opts.backoff_max_ms = 4;
  graph_run(&g, &r);
  ASSERT_EQ(r.rc, AC_EFAILED);
  /* 5 and 7 fail, and with them their subtrees (21..24 and 29..32, ...) are
   * never seen: everything else is done once. */
  ASSERT_EQ(r.st.failures, 2);
  ASSERT_EQ(r.nfail, 2);
  ASSERT_EQ(g.hits[5], 4); /* 1 + 3 retries */
  ASSERT_EQ(g.hits[7], 1); /* 404: permanent, never retried */
  ASSERT_GT(r.st.retries_by_cause[AC_CAUSE_5XX], 60);
  ASSERT_EQ(r.st.retries, r.st.retries_by_cause[AC_CAUSE_5XX]);
  for (int n = 1; n < g.nodes; n += 3)
    if (n != 5 && n != 7 && g.hits[n] != 0 && g.hits[n] != 3) AC__FAIL("node %d: %d hits", n, g.hits[n]);
  ASSERT(strstr(r.fail0_url, "/node/5") != NULL || strstr(r.fail0_url, "/node/7") != NULL);
}

TEST_IMPL(crawl_engine_retry_after_per_request_and_host) {
  for (int host_wide = 0; host_wide <= 1; host_wide++) {
    static graph_t g;
    run_t r;
    graph_init(&g, 60, 59);
    g.ra_ms[3] = 300;
    g.delay_ms = 2;
    ac_crawl_opts_init(&r.opts);
    r.opts.concurrency = 4;
    r.opts.retry_after_host = host_wide;
    graph_run(&g, &r);
    ASSERT_EQ(r.rc, 0);
    ASSERT_EQ(r.st.retry_after_waits, 1);
    /* The retry waited at least Retry-After, in both modes. */
    ASSERT_GE(g.retried_after_ms[3] - g.first_429_ms[3], 300 - 5);
    if (host_wide) {
      /* Nothing reached the host during the pause (past the first 100 ms,
       * which requests sent before the 429 was read may still take). */
      for (size_t i = 0; i < g.narrivals; i++)
        if (g.arrivals[i] > g.first_429_ms[3] + 100 && g.arrivals[i] < g.first_429_ms[3] + 295)
          AC__FAIL("a request %llu ms into a host-wide pause",
                   (unsigned long long)(g.arrivals[i] - g.first_429_ms[3]));
    }
  }
}

/* Retry-After as an HTTP date counts from now; values no clock can hold are
 * capped (never converted past uint64_t), words that are not a delay are
 * absent: the backoff applies. */
TEST_IMPL(crawl_engine_retry_after_forms) {
  static graph_t g;
  static char date[64], past[64];
  run_t r;
  time_t now = time(NULL), then = now + 2, before = now - 3600;
  strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", gmtime(&then));
  strftime(past, sizeof(past), "%a, %d %b %Y %H:%M:%S GMT", gmtime(&before));
  graph_init(&g, 9, 8);
  g.ra_text[1] = date;   /* about 1-2 s from now: waited */
  g.ra_text[2] = "99999999999999999999999999"; /* capped by retry_after_max_ms: waited */
  g.ra_text[3] = "inf";  /* not delay-seconds (digits), nor a date: the backoff */
  g.ra_text[4] = "nan";
  g.ra_text[5] = past;   /* already over */
  g.ra_text[6] = "soon";
  g.ra_text[7] = "1e300";
  g.ra_text[8] = "0x10";
  ac_crawl_opts_init(&r.opts);
  r.opts.concurrency = 8;
  r.opts.retry_after_max_ms = 3000;
  r.opts.backoff_base_ms = 1;
  r.opts.backoff_max_ms = 2;
  graph_run(&g, &r);
  ASSERT_EQ(r.rc, 0);
  ASSERT_EQ(r.st.retry_after_waits, 2);
  ASSERT_EQ(r.st.retries, 8);
  ASSERT_GE(g.retried_after_ms[1] - g.first_429_ms[1], 500);
  ASSERT_GE(g.retried_after_ms[2] - g.first_429_ms[2], 3000 - 5);
  for (int n = 3; n <= 8; n++)
    if (g.retried_after_ms[n] - g.first_429_ms[n] > 1000)
      AC__FAIL("node %d (Retry-After: %s) waited %llu ms", n, g.ra_text[n],
               (unsigned long long)(g.retried_after_ms[n] - g.first_429_ms[n]));
}

/* A refetch is recorded in the state like a new request: node 1's callback
 * refetches node 0 (done long before) and stops the crawl before it runs;
 * the state then says node 0 is pending, and a resume fetches it again.
 * ac_crawl_follow_again (never recorded) left it done: lost on resume. */
static int refetch_start(ac_crawl_t *c, void *data) {
  graph_t *g = data;
  char url[128];
  snprintf(url, sizeof(url), "http://127.0.0.1:%d/node/0", g->port);
  return ac_crawl_follow(c, url, 0, 0, NULL) >= 0 ? 0 : AC_EIO;
}

static int refetch_parse(ac_crawl_t *c, const ac_crawl_req_t *req, ac_response_t *resp,
                         void *data) {
  graph_t *g = data;
  char url[128];
  (void)resp;
  g->parsed++;
  if (strstr(req->url, "/node/0") != NULL && g->stop_after == 0) {
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/node/1", g->port);
    return ac_crawl_follow(c, url, 0, 0, NULL) >= 0 ? 0 : AC_EIO;
  }
  if (strstr(req->url, "/node/1") != NULL && g->stop_after == 0) {
    g->stop_after = 1;
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/node/0", g->port);
    ASSERT_EQ(ac_crawl_refetch(c, url, 0, -1, "again"), 1);
    ac_crawl_stop(c, 0);
  }
  return 0;
}

static const ac_spider_parse_fn refetch_callbacks[] = {refetch_parse};

struct refetch_run {
  graph_t *g;
  const char *state;
  int resume;
  int rc;
  FILE *out; /* the crawl's progress stream (NULL: stderr) */
  int keep_server; /* a resume that is not the last run */
};

static int refetch_main(void *arg, void **result) {
  struct refetch_run *r = arg;
  ac_spider_t spider = {"refetch", refetch_start, refetch_callbacks, 1, NULL, 0, r->g};
  ac_crawl_opts_t o;
  (void)result;
  ac_crawl_opts_init(&o);
  o.concurrency = 1;
  o.progress = AC_PROGRESS_QUIET;
  o.summary = 0;
  o.state_path = r->state;
  o.resume = r->resume;
  o.progress_stream = r->out;
  ASSERT_EQ(ac_crawl_new(r->g->loop, &spider, &o, &r->g->crawl), 0);
  r->rc = ac_crawl_run(r->g->crawl);
  ac_crawl_free(r->g->crawl);
  r->g->crawl = NULL;
  if (r->resume && !r->keep_server) ASSERT_EQ(ac_server_shutdown(r->g->server, 1000), 0);
  return 0;
}

static void refetch_once(struct refetch_run *r) {
  ac_task_t *t;
  ASSERT_EQ(ac_task_spawn(r->g->loop, refetch_main, r, NULL, &t), 0);
  ASSERT_EQ(ac_loop_run_until_done(r->g->loop, t), 0);
  ac_task_release(t);
}

/* The status the state holds for node 0 ("p", "d" or "f"). */
static char node0_status(const char *state) {
  sqlite3 *db;
  sqlite3_stmt *st;
  char s = '?';
  ASSERT_EQ(sqlite3_open_v2(state, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
  ASSERT_EQ(sqlite3_prepare_v2(db,
                               "SELECT json_extract(doc,'$.s') FROM requests WHERE key LIKE "
                               "'%/node/0'", -1, &st, NULL), SQLITE_OK);
  if (sqlite3_step(st) == SQLITE_ROW) s = (char)sqlite3_column_text(st, 0)[0];
  sqlite3_finalize(st);
  sqlite3_close(db);
  return s;
}

/* The state's file name holds a '?' and a '%': the state's store URI must
 * keep them the file's (sqlite:PATH?options, store.h), at write and read. */
TEST_IMPL(crawl_engine_refetch_is_pending_in_the_state) {
  static graph_t g;
  struct refetch_run r;
  char dir[256], state[320];
  st_mkdir(dir, sizeof(dir));
  snprintf(state, sizeof(state), "%s/crawl?keep_wal=0%%3F%%25.state", dir);
  graph_init(&g, 2, 1);
  memset(&r, 0, sizeof(r));
  r.g = &g;
  r.state = state;
  refetch_once(&r);
  ASSERT_EQ(r.rc, AC_ECANCELED);
  ASSERT_EQ(g.hits[0], 1);
  ASSERT_EQ(node0_status(state), 'p');
  r.resume = 1;
  refetch_once(&r);
  ASSERT_EQ(r.rc, 0);
  ASSERT_EQ(g.hits[0], 2);
  ASSERT_EQ(g.hits[1], 1);
  ASSERT_EQ(node0_status(state), 'd');
  ASSERT_EQ(ac_server_free(g.server), 0);
  ASSERT_EQ(ac_loop_close(g.loop), 0);
  st_rmdir(dir);
}

/* A state that cannot be read: --resume says so and stops before anything
 * is fetched, AC_ESTORE; a state file without its table is an empty state
 * (a crawl killed before its first write). */
TEST_IMPL(crawl_engine_resume_unreadable_state) {
  static graph_t g;
  struct refetch_run r;
  char dir[256], state[320], outp[320], *out;
  size_t len;
  FILE *f;
  st_mkdir(dir, sizeof(dir));
  snprintf(state, sizeof(state), "%s/crawl.state", dir);
  snprintf(outp, sizeof(outp), "%s/out.txt", dir);
  f = fopen(state, "wb");
  ASSERT_NOT_NULL(f);
  for (int i = 0; i < 20; i++) fputs("not a database, a text file in the state's place. ", f);
  fclose(f);
  graph_init(&g, 2, 1);
  memset(&r, 0, sizeof(r));
  r.g = &g;
  r.state = state;
  r.resume = 1;
  r.out = fopen(outp, "w");
  r.keep_server = 1;
  ASSERT_NOT_NULL(r.out);
  refetch_once(&r);
  fclose(r.out);
  ASSERT_EQ(r.rc, AC_ESTORE);
  ASSERT_EQ(g.hits[0], 0);
  out = st_slurp(outp, &len);
  if (strstr(out, "cannot read the crawl state") == NULL ||
      strstr(out, "file is not a database") == NULL || strstr(out, state) == NULL)
    AC__FAIL("the state's read error is not said: %s", out);
  free(out);

  /* A SQLite file without the table: nothing to resume, the crawl runs. */
  {
    sqlite3 *db;
    ASSERT_EQ(unlink(state), 0);
    ASSERT_EQ(sqlite3_open(state, &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE other(x)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
  }
  r.out = NULL;
  r.keep_server = 0;
  g.stop_after = 1; /* node 0 only: no refetch, no stop */
  refetch_once(&r);
  ASSERT_EQ(r.rc, 0);
  ASSERT_EQ(g.hits[0], 1);
  ASSERT_EQ(node0_status(state), 'd');
  ASSERT_EQ(ac_server_free(g.server), 0);
  ASSERT_EQ(ac_loop_close(g.loop), 0);
  st_rmdir(dir);
}

TEST_IMPL(crawl_engine_rate_limit) {
  static graph_t g;
  run_t r;
  graph_init(&g, 21, 20);
  ac_crawl_opts_init(&r.opts);
  r.opts.concurrency = 8;
  r.opts.rate = 100; /* 10 ms apart */
  graph_run(&g, &r);
  ASSERT_EQ(r.rc, 0);
  ASSERT_EQ(g.narrivals, 21);
  /* 21 starts at least 10 ms apart span at least 200 ms; the first may come
   * late (its connection), so only 150 ms are asserted. Unlimited, the 20
   * children would all start at once. */
  ASSERT_GE(g.arrivals[20] - g.arrivals[0], 150);
}

TEST_IMPL(crawl_engine_graceful_stop) {
  static graph_t g;
  run_t r;
  graph_init(&g, 2000, 10);
  g.delay_ms = 5;
  g.stop_after = 50;
  ac_crawl_opts_init(&r.opts);
  r.opts.concurrency = 8;
  graph_run(&g, &r);
  ASSERT_EQ(r.rc, AC_ECANCELED);
  /* Requests in flight when the stop came finished (every request sent got
   * its answer and its callback); nothing new started after. */
  ASSERT_EQ(r.st.requests, r.st.pages_done);
  ASSERT_GE(r.st.pages_done, 50);
  ASSERT_LE(r.st.pages_done, 50 + 8);
  ASSERT_EQ(r.st.failures, 0);
}

TEST_IMPL(crawl_engine_bad_options) {
  ac_loop_t *loop;
  ac_crawl_t *c = (ac_crawl_t *)1;
  ac_crawl_opts_t o;
  ac_spider_t spider = {"graph", graph_start, graph_callbacks, 1, NULL, 0, NULL};
  ac_spider_t no_cb = {"graph", graph_start, NULL, 0, NULL, 0, NULL};
  ASSERT_EQ(ac_loop_new(&loop), 0);
  ac_crawl_opts_init(&o);
  o.concurrency = 0;
  ASSERT_EQ(ac_crawl_new(loop, &spider, &o, &c), AC_EINVAL);
  ASSERT(c == NULL);
  ac_crawl_opts_init(&o);
  o.resume = 1; /* resume without a state */
  ASSERT_EQ(ac_crawl_new(loop, &spider, &o, &c), AC_EINVAL);
  /* A rate whose gap between requests no clock can hold. */
  ac_crawl_opts_init(&o);
  o.rate = 1e-300;
  ASSERT_EQ(ac_crawl_new(loop, &spider, &o, &c), AC_EINVAL);
  ac_crawl_opts_init(&o);
  o.retry_failed = 1; /* a shared crawl's option, without a frontier */
  ASSERT_EQ(ac_crawl_new(loop, &spider, &o, &c), AC_EINVAL);
  ASSERT_EQ(ac_crawl_new(loop, &no_cb, NULL, &c), AC_EINVAL);
  ASSERT_EQ(ac_crawl_new(loop, &spider, NULL, &c), 0);
  ASSERT_EQ(ac_crawl_run(c), AC_ENOTASK); /* not from a task */
  ac_crawl_free(c);
  ASSERT_EQ(ac_loop_close(loop), 0);
  ASSERT_STR_EQ(ac_crawl_cause_name(AC_CAUSE_429), "429");
  ASSERT_STR_EQ(ac_crawl_cause_name(99), "unknown");
}

/* Items by collection: each node emits one item to "a", one to "b" (even
 * nodes only) and one to every store; a collection no store holds is
 * refused and neither counted nor stored. */
typedef struct coll_run {
  graph_t *g;
  char db[400], lines[400];
  int unknown_rc, null_rc;
  int rc;
  ac_crawl_stats_t st;
} coll_run_t;

static int coll_parse(ac_crawl_t *c, const ac_crawl_req_t *req, ac_response_t *resp,
                      void *data) {
  coll_run_t *cr = data;
  const cJSON *json, *link, *id;
  char key[32], doc[64];
  int n, rc, len;
  if (ac_response_json(resp, &json) != 0) return AC_EPARSE;
  id = cJSON_GetObjectItemCaseSensitive(json, "id");
  n = id != NULL ? id->valueint : -1;
  snprintf(key, sizeof(key), "a-%d", n);
  len = snprintf(doc, sizeof(doc), "{\"id\":\"%s\"}", key);
  if ((rc = ac_crawl_emit_in(c, "a", key, doc, (size_t)len)) != 0) return rc;
  if (n % 2 == 0) {
    snprintf(key, sizeof(key), "b-%d", n);
    len = snprintf(doc, sizeof(doc), "{\"id\":\"%s\"}", key);
    if ((rc = ac_crawl_emit_in(c, "b", key, doc, (size_t)len)) != 0) return rc;
  }
  snprintf(key, sizeof(key), "all-%d", n);
  len = snprintf(doc, sizeof(doc), "{\"id\":\"%s\"}", key);
  if ((rc = ac_crawl_emit(c, key, doc, (size_t)len)) != 0) return rc;
  cr->unknown_rc = ac_crawl_emit_in(c, "nope", "x", "{}", 2);
  cr->null_rc = ac_crawl_emit_in(c, NULL, "x", "{}", 2);
  cJSON_ArrayForEach(link, cJSON_GetObjectItemCaseSensitive(json, "links")) {
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/node/%d", cr->g->port, link->valueint);
    if ((rc = ac_crawl_follow(c, url, 0, req->priority + 1, NULL)) < 0) return rc;
  }
  return 0;
}

static int coll_start(ac_crawl_t *c, void *data) {
  coll_run_t *cr = data;
  char url[128];
  snprintf(url, sizeof(url), "http://127.0.0.1:%d/node/0", cr->g->port);
  return ac_crawl_follow(c, url, 0, 0, NULL) == 1 ? 0 : AC_EIO;
}

static const ac_spider_parse_fn coll_callbacks[] = {coll_parse};

static int coll_main(void *arg, void **result) {
  coll_run_t *cr = arg;
  graph_t *g = cr->g;
  ac_spider_t spider = {"colls", coll_start, coll_callbacks, 1, NULL, 0, cr};
  /* Two stores on one SQLite file (a table each) and a file for "a". */
  const char *uris[3] = {cr->db, cr->db, cr->lines};
  const char *const colls[3] = {"a", "b", "a"};
  ac_store_t *stores[3];
  ac_crawl_opts_t o;
  ac_crawl_t *c;
  (void)result;
  for (int i = 0; i < 3; i++) {
    ac_store_opts_t so;
    ac_store_opts_init(&so);
    so.collection = colls[i];
    ASSERT_EQ(ac_store_open(g->loop, uris[i], &so, &stores[i], NULL), 0);
  }
  ac_crawl_opts_init(&o);
  o.progress = AC_PROGRESS_QUIET;
  o.summary = 0;
  o.stores = stores;
  o.nstores = 3;
  o.store_collections = colls;
  ASSERT_EQ(ac_crawl_new(g->loop, &spider, &o, &c), 0);
  cr->rc = ac_crawl_run(c);
  ac_crawl_stats(c, &cr->st);
  ac_crawl_free(c);
  for (int i = 0; i < 3; i++) ASSERT_EQ(ac_store_close(stores[i]), 0);
  ASSERT_EQ(ac_server_shutdown(g->server, 1000), 0);
  return 0;
}

TEST_IMPL(crawl_engine_emit_in_routes_by_collection) {
  static graph_t g;
  coll_run_t cr;
  ac_task_t *t;
  char dir[256], path[320], *text;
  size_t len, lines = 0, doc_len;
  char *doc;
  st_mkdir(dir, sizeof(dir));
  graph_init(&g, 40, 3);
  memset(&cr, 0, sizeof(cr));
  cr.g = &g;
  snprintf(path, sizeof(path), "%s/items.db", dir);
  snprintf(cr.db, sizeof(cr.db), "sqlite:%s", path);
  snprintf(cr.lines, sizeof(cr.lines), "jsonl:%s/a.jsonl", dir);
  ASSERT_EQ(ac_task_spawn(g.loop, coll_main, &cr, NULL, &t), 0);
  ASSERT_EQ(ac_loop_run_until_done(g.loop, t), 0);
  ASSERT_EQ(ac_task_error(t), 0);
  ac_task_release(t);
  ASSERT_EQ(ac_server_free(g.server), 0);
  ASSERT_EQ(ac_loop_close(g.loop), 0);
  ASSERT_EQ(cr.rc, 0);
  ASSERT_EQ(cr.unknown_rc, AC_EINVAL);
  ASSERT_EQ(cr.null_rc, AC_EINVAL);
  /* 40 to "a", 20 to "b", 40 to every store; the refused ones not at all. */
  ASSERT_EQ(cr.st.items, 100);
  ASSERT_EQ(cr.st.items_stored, 100);
  ASSERT_EQ(st_sqlite_count(path, "a"), 80);
  ASSERT_EQ(st_sqlite_count(path, "b"), 60);
  doc = st_sqlite_get(path, "b", "b-4", &doc_len);
  ASSERT_NOT_NULL(doc);
  free(doc);
  ASSERT_NULL(st_sqlite_get(path, "a", "b-4", &doc_len));
  ASSERT_NULL(st_sqlite_get(path, "b", "a-4", &doc_len));
  snprintf(path, sizeof(path), "%s/a.jsonl", dir);
  text = st_slurp(path, &len);
  for (size_t i = 0; i < len; i++) lines += text[i] == '\n';
  ASSERT_EQ(lines, 80);
  ASSERT_NULL(strstr(text, "\"b-"));
  free(text);
  st_rmdir(dir);
}
