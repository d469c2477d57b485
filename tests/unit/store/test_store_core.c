/*
 * The generic half of a store, whatever the backend: bad URIs and arguments
 * with clear messages, backpressure within the cap, one acknowledgement per
 * item, close of an empty store, put cancelled while it waits, and the
 * calls refused from inside an ack callback.
 */
#include <stdint.h>
#include <unistd.h>

#include "store_test.h"

struct core_ctx {
  char dir[256];
  char path[300];
  char uri[320];
};

static void core_ctx_init(struct core_ctx *c, const char *scheme, const char *file) {
  st_mkdir(c->dir, sizeof(c->dir));
  snprintf(c->path, sizeof(c->path), "%s/%s", c->dir, file);
  snprintf(c->uri, sizeof(c->uri), "%s:%s", scheme, c->path);
}

/* --------------------------------------------------------- bad URIs */

static void expect_open_error(ac_loop_t *loop, const char *uri, int code, const char *needle) {
  ac_store_t *s = (ac_store_t *)&s;
  ac_store_error_t err;
  ASSERT_ERR(ac_store_open(loop, uri, NULL, &s, &err), code);
  ASSERT_NULL(s);
  ASSERT_ERR(err.code, code);
  if (strstr(err.message, needle) == NULL)
    AC__FAIL("message for \"%s\" is \"%s\", without \"%s\"", uri, err.message, needle);
}

static int bad_uri_main(void *arg, void **result) {
  struct core_ctx *c = arg;
  ac_loop_t *loop = ac_task_loop(ac_task_current());
  ac_store_opts_t o;
  ac_store_t *s;
  ac_store_error_t err;
  char uri[400];

  expect_open_error(loop, "foo:x", AC_EINVAL,
                    "unknown store scheme \"foo\" in \"foo:x\" (expected sqlite:, jsonl: or "
                    "mongodb://)");
  expect_open_error(loop, "items.db", AC_EINVAL, "store URI \"items.db\" has no scheme");
  expect_open_error(loop, "", AC_EINVAL, "has no scheme");
  expect_open_error(loop, "sqlite:", AC_EINVAL, "missing path in store URI \"sqlite:\"");
  expect_open_error(loop, "jsonl:", AC_EINVAL, "missing path in store URI \"jsonl:\"");
  /* A directory that does not exist: the backend's cause, with the URI. */
  snprintf(uri, sizeof(uri), "sqlite:%s/no/such/dir/x.db", c->dir);
  expect_open_error(loop, uri, AC_ESTORE, uri);
  expect_open_error(loop, uri, AC_ESTORE, "unable to open database file");
  snprintf(uri, sizeof(uri), "jsonl:%s/no/such/dir/x.jsonl", c->dir);
  expect_open_error(loop, uri, AC_ESTORE, "No such file or directory");
  /* A directory where a file is wanted. */
  snprintf(uri, sizeof(uri), "jsonl:%s", c->dir);
  expect_open_error(loop, uri, AC_ESTORE, "Is a directory");
  /* Not a SQLite file. */
  snprintf(uri, sizeof(uri), "sqlite:%s", c->path);
  {
    FILE *f = fopen(c->path, "wb");
    ASSERT_NOT_NULL(f);
    fputs("this is not a database, it is a long enough text file to be looked at......"
          "................................................................................",
          f);
    fclose(f);
  }
  expect_open_error(loop, uri, AC_ESTORE, "file is not a database");

  ac_store_opts_init(&o);
  o.key_field = "";
  ASSERT_ERR(ac_store_open(loop, "jsonl:-", &o, &s, &err), AC_EINVAL);
  ASSERT(strstr(err.message, "empty collection or key field") != NULL);
  ASSERT_ERR(ac_store_open(NULL, "jsonl:-", NULL, &s, &err), AC_EINVAL);
  ASSERT_ERR(ac_store_open(loop, NULL, NULL, &s, NULL), AC_EINVAL);
  ASSERT_ERR(ac_store_open(loop, "jsonl:-", NULL, NULL, NULL), AC_EINVAL);
  return 0;
}

TEST_IMPL(store_bad_uris_and_args) {
  struct core_ctx c;
  ac_loop_t *loop;
  ac_store_t *s;
  ac_store_error_t err;
  core_ctx_init(&c, "sqlite", "not-a-db");
  ASSERT_OK(ac_run(bad_uri_main, &c, NULL));
  /* Outside a task. */
  ASSERT_OK(ac_loop_new(&loop));
  ASSERT_ERR(ac_store_open(loop, "jsonl:-", NULL, &s, &err), AC_ENOTASK);
  ASSERT(strstr(err.message, "task") != NULL);
  ASSERT_OK(ac_loop_close(loop));
  st_rmdir(c.dir);
}

/* ------------------------------------------------------- put's arguments */

static int put_args_main(void *arg, void **result) {
  struct core_ctx *c = arg;
  ac_store_t *s;
  ac_store_error_t err;
  ASSERT_OK(ac_store_open(ac_task_loop(ac_task_current()), c->uri, NULL, &s, &err));
  ASSERT_ERR(ac_store_put(s, "", "{}", 2, NULL, NULL), AC_EINVAL);
  ASSERT_ERR(ac_store_put(s, NULL, "{}", 2, NULL, NULL), AC_EINVAL);
  ASSERT_ERR(ac_store_put(s, "k", "{}", 0, NULL, NULL), AC_EINVAL);
  ASSERT_ERR(ac_store_put(s, "k", NULL, 2, NULL, NULL), AC_EINVAL);
  ASSERT_ERR(ac_store_put(NULL, "k", "{}", 2, NULL, NULL), AC_EINVAL);
  ASSERT_OK(ac_store_put(s, "k", "{\"id\":\"k\"}", 10, NULL, NULL)); /* no callback is fine */
  ASSERT_OK(ac_store_close(s));
  ASSERT_OK(ac_store_close(NULL));
  ac_store_abort(NULL);
  return 0;
}

TEST_IMPL(store_put_arguments) {
  struct core_ctx c;
  core_ctx_init(&c, "sqlite", "a.db");
  ASSERT_OK(ac_run(put_args_main, &c, NULL));
  ASSERT_EQ(st_sqlite_count(c.path, "items"), 1);
  st_rmdir(c.dir);
}

/* --------------------------------------------------- close when empty */

static int empty_main(void *arg, void **result) {
  struct core_ctx *c = arg;
  ac_loop_t *loop = ac_task_loop(ac_task_current());
  ac_store_t *s;
  ac_store_error_t err;
  char uri[400];
  ASSERT_OK(ac_store_open(loop, c->uri, NULL, &s, &err));
  ASSERT_OK(ac_store_close(s));
  snprintf(uri, sizeof(uri), "jsonl:%s/empty.jsonl", c->dir);
  ASSERT_OK(ac_store_open(loop, uri, NULL, &s, &err));
  ASSERT_OK(ac_store_flush(s));
  ASSERT_OK(ac_store_close(s));
  ASSERT_OK(ac_store_open(loop, uri, NULL, &s, &err));
  ac_store_abort(s);
  return 0;
}

TEST_IMPL(store_close_with_nothing_written) {
  struct core_ctx c;
  char p[400];
  size_t len;
  core_ctx_init(&c, "sqlite", "empty.db");
  ASSERT_OK(ac_run(empty_main, &c, NULL));
  ASSERT_EQ(st_sqlite_count(c.path, "items"), 0); /* the table was made */
  snprintf(p, sizeof(p), "%s/empty.jsonl", c.dir);
  free(st_slurp(p, &len));
  ASSERT_EQ(len, 0);
  st_rmdir(c.dir);
}

/* ---------------------------------------- backpressure, one ack per item */

#define BP_ITEMS 3000
#define BP_CAP 8

struct bp_item {
  struct bp_ctx *ctx;
  int acks;
};

struct bp_ctx {
  ac_store_t *s;
  struct bp_item items[BP_ITEMS];
  long acked;
  long acked_while_putting;
  int putting;
  ac_task_t *putter;
};

static void bp_ack(ac_store_t *s, int status, void *userdata) {
  struct bp_item *it = userdata;
  struct bp_ctx *c = it->ctx;
  ac_store_stats_t st;
  ASSERT_OK(status);
  ASSERT(ac_task_current() != c->putter || !c->putting);
  ac_store_stats(s, &st);
  ASSERT_LE(st.queued, BP_CAP);
  it->acks++;
  c->acked++;
  if (c->putting) c->acked_while_putting++;
}

static int bp_main(void *arg, void **result) {
  struct core_ctx *cc = arg;
  struct bp_ctx *c = calloc(1, sizeof(*c));
  ac_store_opts_t o;
  ac_store_error_t err;
  ac_store_stats_t st;
  char key[32], doc[64], *file;
  size_t len, lines = 0;

  ASSERT_NOT_NULL(c);
  ac_store_opts_init(&o);
  o.queue_cap = BP_CAP;
  o.batch_max = 3;
  ASSERT_OK(ac_store_open(ac_task_loop(ac_task_current()), cc->uri, &o, &c->s, &err));
  c->putter = ac_task_current();
  for (int i = 0; i < BP_ITEMS; i++) {
    c->items[i].ctx = c;
    snprintf(key, sizeof(key), "%d", i);
    snprintf(doc, sizeof(doc), "{\"id\":\"%d\"}", i);
    c->putting = 1;
    ASSERT_OK(ac_store_put(c->s, key, doc, strlen(doc), bp_ack, &c->items[i]));
    c->putting = 0;
    ac_store_stats(c->s, &st);
    ASSERT_LE(st.queued, BP_CAP);
    ASSERT_UEQ(st.queue_cap, BP_CAP);
  }
  /* The producer is far faster than fdatasync: puts had to wait. */
  ASSERT_GT(c->acked_while_putting, 0);
  ASSERT_OK(ac_store_close(c->s));
  ASSERT_EQ(c->acked, BP_ITEMS);
  for (int i = 0; i < BP_ITEMS; i++) ASSERT_EQ(c->items[i].acks, 1);
  /* Nothing lost, in put order. */
  file = st_slurp(cc->path, &len);
  for (char *p = file; p < file + len; lines++) {
    char want[64];
    char *nl = strchr(p, '\n');
    ASSERT_NOT_NULL(nl);
    snprintf(want, sizeof(want), "{\"id\":\"%zu\"}", lines);
    ASSERT_EQ((size_t)(nl - p), strlen(want));
    ASSERT_EQ(memcmp(p, want, strlen(want)), 0);
    p = nl + 1;
  }
  ASSERT_EQ(lines, BP_ITEMS);
  free(file);
  free(c);
  return 0;
}

TEST_IMPL(store_backpressure_within_cap) {
  struct core_ctx c;
  core_ctx_init(&c, "jsonl", "bp.jsonl");
  ASSERT_OK(ac_run(bp_main, &c, NULL));
  st_rmdir(c.dir);
}

/* --------------------------------- a put cancelled while it waits for room */

struct waiter {
  ac_store_t *s;
  struct st_acks *a;
  int rc;
};

static int waiting_putter(void *arg, void **result) {
  struct waiter *w = arg;
  w->rc = ac_store_put(w->s, "w", "{\"id\":\"w\"}", 10, st_ack_cb, w->a);
  return 0;
}

static int cancel_main(void *arg, void **result) {
  struct core_ctx *c = arg;
  ac_loop_t *loop = ac_task_loop(ac_task_current());
  ac_store_opts_t o;
  ac_store_error_t err;
  ac_store_stats_t st;
  struct st_acks a = {0};
  struct waiter w = {0};
  ac_task_t *t;
  sqlite3 *db;

  ac_store_opts_init(&o);
  o.queue_cap = 2;
  o.retry_min_ms = 5;
  ASSERT_OK(ac_store_open(loop, c->uri, &o, &w.s, &err));
  w.a = &a;
  /* Hold the lock so the two queued items stay queued. */
  ASSERT_EQ(sqlite3_open(c->path, &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
  ASSERT_OK(st_put(w.s, &a, "1", "{\"id\":\"1\"}"));
  ASSERT_OK(st_put(w.s, &a, "2", "{\"id\":\"2\"}"));
  ASSERT_OK(ac_task_spawn(loop, waiting_putter, &w, NULL, &t));
  ASSERT_OK(ac_sleep(20));
  ASSERT_EQ(ac_task_is_finished(t), 0); /* waiting for room */
  ASSERT_OK(ac_task_cancel(t));
  ASSERT_OK(ac_task_await(t, NULL));
  ac_task_release(t);
  ASSERT_ERR(w.rc, AC_ECANCELED); /* not accepted: no ack will come */
  ASSERT_EQ(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(db);
  ASSERT_OK(ac_store_flush(w.s));
  ac_store_stats(w.s, &st);
  ASSERT_UEQ(st.put, 2);
  ASSERT_OK(ac_store_close(w.s));
  ASSERT_EQ(a.ok, 2);
  ASSERT_EQ(a.failed + a.cancelled, 0);
  ASSERT_EQ(st_sqlite_count(c->path, "items"), 2);
  return 0;
}

TEST_IMPL(store_put_cancelled_while_waiting) {
  struct core_ctx c;
  core_ctx_init(&c, "sqlite", "c.db");
  ASSERT_OK(ac_run(cancel_main, &c, NULL));
  st_rmdir(c.dir);
}

/* ----------------------- calls from an ack callback, close with waiters */

struct reent {
  int put_rc, flush_rc, close_rc;
  int calls;
};

static void reent_ack(ac_store_t *s, int status, void *userdata) {
  struct reent *r = userdata;
  /* The callback runs on the store's writer: anything that would wait on
   * the writer is refused. */
  r->put_rc = ac_store_put(s, "x", "{}", 2, NULL, NULL);
  r->flush_rc = ac_store_flush(s);
  r->close_rc = ac_store_close(s);
  ac_store_abort(s); /* a no-op there */
  r->calls++;
}

struct late_putter {
  ac_store_t *s;
  int i;
  int rc;
};

static int late_put(void *arg, void **result) {
  struct late_putter *lp = arg;
  char key[16];
  snprintf(key, sizeof(key), "late%d", lp->i);
  lp->rc = ac_store_put(lp->s, key, "{\"late\":1}", 10, NULL, NULL);
  return 0;
}

static int reent_main(void *arg, void **result) {
  struct core_ctx *c = arg;
  ac_loop_t *loop = ac_task_loop(ac_task_current());
  ac_store_opts_t o;
  ac_store_t *s;
  ac_store_error_t err;
  struct reent r = {0};
  struct late_putter lp[4];
  ac_task_t *t[4];

  ASSERT_OK(ac_store_open(loop, c->uri, NULL, &s, &err));
  ASSERT_OK(ac_store_put(s, "1", "{\"id\":\"1\"}", 10, reent_ack, &r));
  ASSERT_OK(ac_store_flush(s));
  ASSERT_EQ(r.calls, 1);
  ASSERT_ERR(r.put_rc, AC_EPERM);
  ASSERT_ERR(r.flush_rc, AC_EPERM);
  ASSERT_ERR(r.close_rc, AC_EPERM);
  ASSERT_OK(ac_store_close(s));

  /* Putters already waiting for room when close begins get in (close
   * writes them too); a put after close began gets AC_ECLOSED. */
  ac_store_opts_init(&o);
  o.queue_cap = 1;
  ASSERT_OK(ac_store_open(loop, c->uri, &o, &s, &err));
  ASSERT_OK(ac_store_put(s, "0", "{\"id\":\"0\"}", 10, NULL, NULL));
  for (int i = 0; i < 4; i++) {
    lp[i].s = s;
    lp[i].i = i;
    lp[i].rc = 1;
    ASSERT_OK(ac_task_spawn(loop, late_put, &lp[i], NULL, &t[i]));
  }
  ASSERT_OK(ac_yield()); /* they start, and wait for room */
  ASSERT_OK(ac_store_close(s));
  for (int i = 0; i < 4; i++) {
    ASSERT_OK(ac_task_await(t[i], NULL));
    ac_task_release(t[i]);
    ASSERT_OK(lp[i].rc);
  }
  return 0;
}

TEST_IMPL(store_reentry_and_close_with_waiting_putters) {
  struct core_ctx c;
  core_ctx_init(&c, "sqlite", "r.db");
  ASSERT_OK(ac_run(reent_main, &c, NULL));
  ASSERT_EQ(st_sqlite_count(c.path, "items"), 6);
  st_rmdir(c.dir);
}

/* ---------------------- the writer cancelled from outside (loop teardown) */

struct leftover {
  struct core_ctx *c;
  ac_store_t *s;
  sqlite3 *db;
};

static int leftover_main(void *arg, void **result) {
  struct leftover *lo = arg;
  ac_store_error_t err;
  ac_store_stats_t st;
  ASSERT_OK(ac_store_open(ac_task_loop(ac_task_current()), lo->c->uri, NULL, &lo->s, &err));
  /* An item stuck behind a lock when main returns without closing: ac_run
   * cancels the writer, which acknowledges it AC_ECANCELED and closes the
   * backend; the handle is left for ac_store_close to free. */
  ASSERT_EQ(sqlite3_open(lo->c->path, &lo->db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(lo->db, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
  ASSERT_OK(ac_store_put(lo->s, "1", "{\"id\":\"1\"}", 10, NULL, NULL));
  do {
    ASSERT_OK(ac_sleep(5));
    ac_store_stats(lo->s, &st);
  } while (st.retries == 0);
  return 0;
}

static int close_leftover(void *arg, void **result) {
  struct leftover *lo = arg;
  ac_store_stats_t st;
  ac_store_stats(lo->s, &st);
  ASSERT_UEQ(st.queued, 0);
  ASSERT_UEQ(st.written, 0);
  ASSERT_ERR(ac_store_put(lo->s, "2", "{}", 2, NULL, NULL), AC_ECLOSED);
  ASSERT_ERR(ac_store_close(lo->s), AC_ECANCELED);
  return 0;
}

TEST_IMPL(store_writer_cancelled_by_loop_teardown) {
  struct core_ctx c;
  struct leftover lo = {&c, NULL, NULL};
  core_ctx_init(&c, "sqlite", "l.db");
  /* ac_run cancels leftover tasks, the store's writer among them. */
  ASSERT_OK(ac_run(leftover_main, &lo, NULL));
  ASSERT_NOT_NULL(lo.s);
  ASSERT_OK(ac_run(close_leftover, &lo, NULL));
  sqlite3_close(lo.db);
  ASSERT_EQ(st_sqlite_count(c.path, "items"), 0);
  st_rmdir(c.dir);
}

/* Cancelled before its first turn: close tears down in the writer's place. */
static int early_main(void *arg, void **result) {
  struct leftover *lo = arg;
  ac_store_error_t err;
  ASSERT_OK(ac_store_open(ac_task_loop(ac_task_current()), lo->c->uri, NULL, &lo->s, &err));
  ASSERT_OK(ac_store_put(lo->s, "1", "{\"id\":\"1\"}", 10, NULL, NULL));
  ASSERT_EQ(ac_loop_cancel_all(ac_task_loop(ac_task_current())), 2); /* us and the writer */
  ASSERT_ERR(ac_store_close(lo->s), AC_ECANCELED); /* its item never got written */
  ASSERT_ERR(ac_sleep(0), AC_ECANCELED); /* our own cancellation is still delivered */
  return 0;
}

TEST_IMPL(store_writer_cancelled_before_it_ran) {
  struct core_ctx c;
  struct leftover lo = {&c, NULL, NULL};
  core_ctx_init(&c, "sqlite", "e.db");
  ASSERT_OK(ac_run(early_main, &lo, NULL));
  ASSERT_EQ(st_sqlite_count(c.path, "items"), 0);
  st_rmdir(c.dir);
}
