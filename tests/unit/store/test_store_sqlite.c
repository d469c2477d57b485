/*
 * The SQLite store through the public API, read back with our own sqlite3
 * connection: round trip, upsert, pretty-printed JSON kept as given (but
 * for a byte order mark), the 9,040 books byte for byte, a lock held
 * by another connection (retried until it goes, at a write and at open),
 * a document the table
 * refuses (acknowledged with the error, its batch neighbours stored), an
 * abort while the store is failing, and the URI's options: keep_wal (the
 * log left at close), the errors for bad ones, and a '?' in the path.
 */
#include <stdint.h>
#include <sys/stat.h>

#include "site/books.h"
#include "store_test.h"

struct sq_ctx {
  char dir[256];
  char path[300];
  char uri[320];
};

/* Each test: main_fn run as a task over a fresh items.db in its own directory. */
static void run_in_scratch(ac_task_fn main_fn) {
  struct sq_ctx c;
  st_mkdir(c.dir, sizeof(c.dir));
  snprintf(c.path, sizeof(c.path), "%s/items.db", c.dir);
  snprintf(c.uri, sizeof(c.uri), "sqlite:%s", c.path);
  ASSERT_OK(ac_run(main_fn, &c, NULL));
  st_rmdir(c.dir);
}

/* ------------------------------------------------- round trip, upsert */

static int roundtrip_main(void *arg, void **result) {
  struct sq_ctx *c = arg;
  struct st_acks a = {0};
  ac_store_t *s;
  ac_store_error_t err;
  ac_store_stats_t st;
  /* Raw non-BMP UTF-8, a \u0000 escape and quotes: stored as given. */
  const char *d1 = "{\"id\":\"1\",\"name\":\"\xf0\x9f\x93\x9a \\u0000 \\\"q\\\"\"}";
  const char *d2 = "{\"id\":\"2\",\"n\":2}";
  const char *d1b = "{\"id\":\"1\",\"name\":\"second\"}";
  char *got;
  size_t len;

  ASSERT_OK(ac_store_open(ac_task_loop(ac_task_current()), c->uri, NULL, &s, &err));
  ASSERT_STR_EQ(ac_store_uri(s), c->uri);
  ASSERT_OK(st_put(s, &a, "1", d1));
  ASSERT_OK(st_put(s, &a, "2", d2));
  ASSERT_EQ(a.ok, 0); /* nothing acknowledged inside put */
  ASSERT_OK(ac_store_flush(s));
  ASSERT_EQ(a.ok, 2);
  got = st_sqlite_get(c->path, "items", "1", &len);
  ASSERT_NOT_NULL(got);
  ASSERT_EQ(len, strlen(d1));
  ASSERT_EQ(memcmp(got, d1, len), 0);
  free(got);
  /* Upsert: the same key again replaces its document. */
  ASSERT_OK(st_put(s, &a, "1", d1b));
  ASSERT_OK(ac_store_flush(s));
  ac_store_stats(s, &st);
  ASSERT_UEQ(st.put, 3);
  ASSERT_UEQ(st.written, 3);
  ASSERT_UEQ(st.bytes, strlen(d1) + strlen(d2) + strlen(d1b));
  ASSERT_UEQ(st.queued, 0);
  ASSERT_UEQ(st.queue_cap, 4096);
  ASSERT_EQ(st.failing, 0);
  ASSERT_OK(ac_store_close(s));
  ASSERT_EQ(a.ok, 3);
  ASSERT_EQ(a.failed + a.cancelled, 0);
  ASSERT_EQ(st_sqlite_count(c->path, "items"), 2);
  got = st_sqlite_get(c->path, "items", "1", &len);
  ASSERT_NOT_NULL(got);
  ASSERT_STR_EQ(got, d1b);
  free(got);
  got = st_sqlite_get(c->path, "items", "2", &len);
  ASSERT_STR_EQ(got, d2);
  free(got);
  return 0;
}

TEST_IMPL(store_sqlite_roundtrip_upsert) { run_in_scratch(roundtrip_main); }

/* Pretty-printed JSON is stored as given, CRLF and all; a leading byte
 * order mark is not part of the JSON text and is not kept. */
static int pretty_main(void *arg, void **result) {
  struct sq_ctx *c = arg;
  struct st_acks a = {0};
  ac_store_t *s;
  ac_store_error_t err;
  ac_store_stats_t st;
  const char *pretty = "{\r\n  \"id\": \"p\",\n\t\"v\": [ 1,\n 2 ]\r\n}\n";
  char bom[64], *got;
  size_t len;
  (void)result;
  snprintf(bom, sizeof(bom), "\xEF\xBB\xBF%s", pretty);
  ASSERT_OK(ac_store_open(ac_task_loop(ac_task_current()), c->uri, NULL, &s, &err));
  ASSERT_OK(st_put(s, &a, "p", pretty));
  ASSERT_OK(st_put(s, &a, "bom", bom));
  ASSERT_ERR(st_put(s, &a, "only-bom", "\xEF\xBB\xBF"), AC_EINVAL);
  ASSERT_OK(ac_store_flush(s));
  ac_store_stats(s, &st);
  ASSERT_UEQ(st.bytes, 2 * strlen(pretty));
  ASSERT_OK(ac_store_close(s));
  ASSERT_EQ(a.ok, 2);
  got = st_sqlite_get(c->path, "items", "p", &len);
  ASSERT_NOT_NULL(got);
  ASSERT_STR_EQ(got, pretty);
  free(got);
  got = st_sqlite_get(c->path, "items", "bom", &len);
  ASSERT_NOT_NULL(got);
  ASSERT_STR_EQ(got, pretty);
  free(got);
  return 0;
}

TEST_IMPL(store_sqlite_pretty_printed_as_given) { run_in_scratch(pretty_main); }

/* A collection name picks the table; one with a quote is refused. */
static int table_main(void *arg, void **result) {
  struct sq_ctx *c = arg;
  ac_loop_t *loop = ac_task_loop(ac_task_current());
  ac_store_opts_t o;
  ac_store_t *s;
  ac_store_error_t err;
  struct st_acks a = {0};

  ac_store_opts_init(&o);
  o.collection = "books and more";
  ASSERT_OK(ac_store_open(loop, c->uri, &o, &s, &err));
  ASSERT_OK(st_put(s, &a, "k", "{\"id\":\"k\"}"));
  ASSERT_OK(ac_store_close(s));
  ASSERT_EQ(st_sqlite_count(c->path, "books and more"), 1);
  o.collection = "bad\"name";
  ASSERT_ERR(ac_store_open(loop, c->uri, &o, &s, &err), AC_EINVAL);
  ASSERT_NULL(s);
  ASSERT(strstr(err.message, "bad table name") != NULL);
  ASSERT(strstr(err.message, c->uri) != NULL);
  return 0;
}

TEST_IMPL(store_sqlite_table_names) { run_in_scratch(table_main); }

/* ------------------------------------------ URI options: keep_wal */

static long file_size(const char *path) {
  struct stat sb;
  return stat(path, &sb) == 0 ? (long)sb.st_size : -1;
}

/* sqlite:PATH?keep_wal=1: the close leaves the log (and its rows in it)
 * where it is, and any reader sees them; keep_wal=0, like no option, folds
 * the log into the file at close and removes it. */
static int keep_wal_main(void *arg, void **result) {
  struct sq_ctx *c = arg;
  ac_loop_t *loop = ac_task_loop(ac_task_current());
  ac_store_t *s;
  ac_store_error_t err;
  struct st_acks a = {0};
  char wal[320], uri[400];
  size_t len;
  char *got;

  snprintf(wal, sizeof(wal), "%s-wal", c->path);
  snprintf(uri, sizeof(uri), "%s?keep_wal=1", c->uri);
  ASSERT_OK(ac_store_open(loop, uri, NULL, &s, &err));
  ASSERT_STR_EQ(ac_store_uri(s), uri);
  ASSERT_OK(st_put(s, &a, "1", "{\"id\":\"1\"}"));
  ASSERT_OK(st_put(s, &a, "2", "{\"id\":\"2\"}"));
  ASSERT_OK(st_put(s, &a, "3", "{\"id\":\"3\"}"));
  ASSERT_OK(ac_store_close(s));
  ASSERT_EQ(a.ok, 3);
  /* The options are not part of the file's name. */
  ASSERT_GT(file_size(c->path), 0);
  /* The rows are in the log, not yet in the file. */
  ASSERT_GT(file_size(wal), 0);
  ASSERT_EQ(st_sqlite_count(c->path, "items"), 3);
  got = st_sqlite_get(c->path, "items", "2", &len);
  ASSERT_NOT_NULL(got);
  ASSERT_STR_EQ(got, "{\"id\":\"2\"}");
  free(got);

  /* keep_wal=0 (empty options around it are nothing) takes the log over;
   * its close folds it in. */
  snprintf(uri, sizeof(uri), "%s?&keep_wal=0&", c->uri);
  ASSERT_OK(ac_store_open(loop, uri, NULL, &s, &err));
  ASSERT_OK(st_put(s, &a, "4", "{\"id\":\"4\"}"));
  ASSERT_OK(ac_store_close(s));
  ASSERT_EQ(file_size(wal), -1);
  ASSERT_EQ(st_sqlite_count(c->path, "items"), 4);

  /* The last of a repeated option counts; no option at all is keep_wal=0. */
  snprintf(uri, sizeof(uri), "%s?keep_wal=0&keep_wal=1", c->uri);
  ASSERT_OK(ac_store_open(loop, uri, NULL, &s, &err));
  ASSERT_OK(st_put(s, &a, "5", "{\"id\":\"5\"}"));
  ASSERT_OK(ac_store_close(s));
  ASSERT_GT(file_size(wal), 0);
  ASSERT_OK(ac_store_open(loop, c->uri, NULL, &s, &err));
  ASSERT_OK(ac_store_close(s));
  ASSERT_EQ(file_size(wal), -1);
  ASSERT_EQ(st_sqlite_count(c->path, "items"), 5);
  return 0;
}

TEST_IMPL(store_sqlite_keep_wal_at_close) { run_in_scratch(keep_wal_main); }

static void expect_bad_uri(ac_loop_t *loop, const char *uri, const char *needle) {
  ac_store_t *s = (ac_store_t *)&s;
  ac_store_error_t err;
  ASSERT_ERR(ac_store_open(loop, uri, NULL, &s, &err), AC_EINVAL);
  ASSERT_NULL(s);
  ASSERT_ERR(err.code, AC_EINVAL);
  if (strstr(err.message, needle) == NULL || strstr(err.message, uri) == NULL)
    AC__FAIL("message for \"%s\" is \"%s\", without \"%s\" and the URI", uri, err.message,
             needle);
}

/* An unknown option, one without a value or with a bad one: AC_EINVAL
 * naming it, and no file made. */
static int bad_options_main(void *arg, void **result) {
  struct sq_ctx *c = arg;
  ac_loop_t *loop = ac_task_loop(ac_task_current());
  char uri[400];
  (void)result;
  snprintf(uri, sizeof(uri), "%s?keep_wal=1&journal=off", c->uri);
  expect_bad_uri(loop, uri, "unknown option \"journal\"");
  expect_bad_uri(loop, uri, "keep_wal=0|1");
  snprintf(uri, sizeof(uri), "%s?Keep_Wal=1", c->uri);
  expect_bad_uri(loop, uri, "unknown option \"Keep_Wal\"");
  snprintf(uri, sizeof(uri), "%s?=1", c->uri);
  expect_bad_uri(loop, uri, "unknown option \"\"");
  snprintf(uri, sizeof(uri), "%s?keep_wal=yes", c->uri);
  expect_bad_uri(loop, uri, "bad value \"yes\" for option keep_wal (expected 0 or 1)");
  snprintf(uri, sizeof(uri), "%s?keep_wal=", c->uri);
  expect_bad_uri(loop, uri, "bad value \"\" for option keep_wal");
  snprintf(uri, sizeof(uri), "%s?keep_wal=10", c->uri);
  expect_bad_uri(loop, uri, "bad value \"10\"");
  snprintf(uri, sizeof(uri), "%s?keep_wal", c->uri);
  expect_bad_uri(loop, uri, "option keep_wal without a value");
  /* A path with nothing before its options is no path. */
  expect_bad_uri(loop, "sqlite:?keep_wal=1", "missing path in store URI");
  ASSERT_EQ(file_size(c->path), -1);
  return 0;
}

TEST_IMPL(store_sqlite_uri_bad_options) { run_in_scratch(bad_options_main); }

/* The first '?' ends the path: a '?' of the file's name is %3F (or %3f),
 * and %25 is a '%'; every other '%' is the name's own. An unescaped '?'
 * is read as options and refused, naming what followed it. */
static int question_mark_main(void *arg, void **result) {
  struct sq_ctx *c = arg;
  ac_loop_t *loop = ac_task_loop(ac_task_current());
  ac_store_t *s;
  ac_store_error_t err;
  struct st_acks a = {0};
  char uri[400], path[400];
  (void)result;

  snprintf(uri, sizeof(uri), "sqlite:%s/what%%3Fnot%%3f.db?keep_wal=1", c->dir);
  snprintf(path, sizeof(path), "%s/what?not?.db", c->dir);
  ASSERT_OK(ac_store_open(loop, uri, NULL, &s, &err));
  ASSERT_OK(st_put(s, &a, "1", "{\"id\":\"1\"}"));
  ASSERT_OK(ac_store_close(s));
  ASSERT_EQ(st_sqlite_count(path, "items"), 1);
  ASSERT_GT(file_size(path), 0);
  ASSERT_GT(file_size(strcat(path, "-wal")), 0); /* keep_wal=1 was read as such */

  /* %25 is '%' (so a name holding "%3F" can be written); a lone '%' stays. */
  snprintf(uri, sizeof(uri), "sqlite:%s/100%%253F%%.db", c->dir);
  snprintf(path, sizeof(path), "%s/100%%3F%%.db", c->dir);
  ASSERT_OK(ac_store_open(loop, uri, NULL, &s, &err));
  ASSERT_OK(st_put(s, &a, "1", "{\"id\":\"1\"}"));
  ASSERT_OK(ac_store_close(s));
  ASSERT_EQ(st_sqlite_count(path, "items"), 1);

  /* A raw '?' starts the options: what follows is not an option. */
  snprintf(uri, sizeof(uri), "sqlite:%s/what?.db", c->dir);
  expect_bad_uri(loop, uri, "unknown option \".db\"");
  expect_bad_uri(loop, uri, "%3F");
  snprintf(path, sizeof(path), "%s/what", c->dir);
  ASSERT_EQ(file_size(path), -1);
  snprintf(path, sizeof(path), "%s/what?.db", c->dir);
  ASSERT_EQ(file_size(path), -1);

  /* JSON Lines takes no options: its '?' and '%' are the file's. */
  snprintf(uri, sizeof(uri), "jsonl:%s/a?keep_wal=1%%3F.jsonl", c->dir);
  snprintf(path, sizeof(path), "%s/a?keep_wal=1%%3F.jsonl", c->dir);
  ASSERT_OK(ac_store_open(loop, uri, NULL, &s, &err));
  ASSERT_OK(st_put(s, &a, "1", "{\"id\":\"1\"}"));
  ASSERT_OK(ac_store_close(s));
  ASSERT_GT(file_size(path), 0);
  ASSERT_EQ(a.ok, 3);
  return 0;
}

TEST_IMPL(store_sqlite_uri_question_mark_in_path) { run_in_scratch(question_mark_main); }

/* ac_store_uri_file: the file a URI names, as the backend opens it. */
TEST_IMPL(store_uri_file_names_the_backend_file) {
  char *p = NULL;
  ASSERT_OK(ac_store_uri_file("sqlite:books.db?keep_wal=1", &p));
  ASSERT_STR_EQ(p, "books.db");
  ac_free(p);
  ASSERT_OK(ac_store_uri_file("sqlite:/x/what%3Fnot%253F.db", &p));
  ASSERT_STR_EQ(p, "/x/what?not%3F.db");
  ac_free(p);
  ASSERT_OK(ac_store_uri_file("jsonl:out?.jsonl", &p)); /* jsonl: takes no options */
  ASSERT_STR_EQ(p, "out?.jsonl");
  ac_free(p);
  ASSERT_ERR(ac_store_uri_file("jsonl:-", &p), AC_ENOENT);
  ASSERT_NULL(p);
  ASSERT_ERR(ac_store_uri_file("mongodb://127.0.0.1:1/db.books", &p), AC_ENOENT);
  ASSERT_NULL(p);
  ASSERT_ERR(ac_store_uri_file("sqlite:", &p), AC_EINVAL);
  ASSERT_ERR(ac_store_uri_file("ftp://x/y", &p), AC_EINVAL);
  ASSERT_ERR(ac_store_uri_file(NULL, &p), AC_EINVAL);
  ASSERT_ERR(ac_store_uri_file("sqlite:a.db", NULL), AC_EINVAL);
}

/* ------------------------------------------------------ 9,040 books */

static int books_main(void *arg, void **result) {
  struct sq_ctx *c = arg;
  struct ac__books *b;
  ac_store_t *s;
  ac_store_error_t err;
  struct st_acks a = {0};
  uint64_t bytes = 0;
  size_t n;
  sqlite3 *db;
  sqlite3_stmt *q;

  ASSERT_OK(ac__books_build(NULL, &b));
  n = ac__books_count(b);
  ASSERT_EQ(n, 9040);
  ASSERT_OK(ac_store_open(ac_task_loop(ac_task_current()), c->uri, NULL, &s, &err));
  for (size_t i = 0; i < n; i++) {
    struct ac__books_bytes d;
    ASSERT_OK(ac__books_detail(b, i, &d));
    bytes += d.len;
    a.in_put = 1;
    a.putter = ac_task_current();
    ASSERT_OK(ac_store_put(s, ac__books_id(b, i), d.base, d.len, st_ack_cb, &a));
    a.in_put = 0;
  }
  ASSERT_OK(ac_store_close(s));
  ASSERT_EQ(a.ok, 9040);

  /* Every row byte-equal to its book's detail body, and nothing else. */
  ASSERT_EQ(st_sqlite_count(c->path, "items"), 9040);
  ASSERT_EQ(sqlite3_open_v2(c->path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT key, doc FROM items", -1, &q, NULL), SQLITE_OK);
  size_t rows = 0;
  uint64_t got_bytes = 0;
  while (sqlite3_step(q) == SQLITE_ROW) {
    const char *key = (const char *)sqlite3_column_text(q, 0);
    const void *doc = sqlite3_column_blob(q, 1);
    size_t len = (size_t)sqlite3_column_bytes(q, 1), i;
    struct ac__books_bytes d;
    ASSERT_OK(ac__books_find(b, key, strlen(key), &i));
    ASSERT_OK(ac__books_detail(b, i, &d));
    ASSERT_EQ(len, d.len);
    ASSERT_EQ(memcmp(doc, d.base, len), 0);
    got_bytes += len;
    rows++;
  }
  ASSERT_EQ(rows, 9040);
  ASSERT_UEQ(got_bytes, bytes);
  sqlite3_finalize(q);
  sqlite3_close(db);
  ac__books_free(b);
  return 0;
}

TEST_IMPL(store_sqlite_books_9040_byte_exact) { run_in_scratch(books_main); }

/* ------------------------------------------- a lock held elsewhere */

/* Another connection holds the write lock; the store must report
 * SQLITE_BUSY as a retry, acknowledge nothing meanwhile, and land
 * everything once the lock goes. */
static sqlite3 *lock_db(const char *path) {
  sqlite3 *db;
  ASSERT_EQ(sqlite3_open(path, &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
  return db;
}

static void wait_retries(ac_store_t *s, uint64_t n) {
  ac_store_stats_t st;
  for (int spins = 0;; spins++) {
    ac_store_stats(s, &st);
    if (st.retries >= n) break;
    ASSERT_LT(spins, 60000); /* a minute at most */
    ASSERT_OK(ac_sleep(1));
  }
  ASSERT_EQ(st.failing, 1);
  ASSERT(strstr(st.last_error, "locked") != NULL || strstr(st.last_error, "busy") != NULL);
}

static int busy_main(void *arg, void **result) {
  struct sq_ctx *c = arg;
  ac_store_opts_t o;
  ac_store_t *s;
  ac_store_error_t err;
  ac_store_stats_t st;
  struct st_acks a = {0};
  char key[32], doc[64];
  sqlite3 *db;

  ac_store_opts_init(&o);
  o.retry_min_ms = 10;
  o.retry_max_ms = 80;
  ASSERT_OK(ac_store_open(ac_task_loop(ac_task_current()), c->uri, &o, &s, &err));
  db = lock_db(c->path);
  for (int i = 0; i < 100; i++) {
    snprintf(key, sizeof(key), "%d", i);
    snprintf(doc, sizeof(doc), "{\"id\":\"%d\"}", i);
    ASSERT_OK(st_put(s, &a, key, doc));
  }
  wait_retries(s, 2);
  ASSERT_EQ(a.ok + a.failed + a.cancelled, 0);
  ASSERT_EQ(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(db);
  ASSERT_OK(ac_store_flush(s));
  ac_store_stats(s, &st);
  ASSERT_GE(st.retries, 2);
  ASSERT_EQ(st.failing, 0);
  ASSERT_UEQ(st.written, 100);
  ASSERT_OK(ac_store_close(s));
  ASSERT_EQ(a.ok, 100);
  ASSERT_EQ(a.failed + a.cancelled, 0);
  ASSERT_EQ(st_sqlite_count(c->path, "items"), 100);
  return 0;
}

TEST_IMPL(store_sqlite_busy_is_retried) { run_in_scratch(busy_main); }

/* Processes that open one file together (workers of a shared crawl) take
 * turns: an open that meets another connection's lock waits for it, past
 * the writes' busy timeout, instead of failing. */
static int unlock_later(void *arg, void **result) {
  sqlite3 *db = arg;
  (void)result;
  ASSERT_OK(ac_sleep(1200));
  ASSERT_EQ(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
  return 0;
}

static int open_locked_main(void *arg, void **result) {
  struct sq_ctx *c = arg;
  ac_store_t *s;
  ac_store_error_t err;
  ac_task_t *t;
  sqlite3 *db = lock_db(c->path);
  (void)result;
  ASSERT_OK(ac_task_spawn(ac_task_loop(ac_task_current()), unlock_later, db, NULL, &t));
  if (ac_store_open(ac_task_loop(ac_task_current()), c->uri, NULL, &s, &err) != 0)
    AC__FAIL("open while another connection held the lock: %s", err.message);
  ASSERT_OK(ac_task_await(t, NULL));
  ac_task_release(t);
  sqlite3_close(db);
  ASSERT_OK(ac_store_close(s));
  return 0;
}

TEST_IMPL(store_sqlite_open_waits_for_a_lock) { run_in_scratch(open_locked_main); }

/* ------------------------------------------------ abort while failing */

struct closer {
  ac_store_t *s;
  int rc;
  int returned;
};

static int closer_task(void *arg, void **result) {
  struct closer *cl = arg;
  cl->rc = ac_store_close(cl->s);
  cl->returned = 1;
  return 0;
}

static int abort_main(void *arg, void **result) {
  struct sq_ctx *c = arg;
  ac_loop_t *loop = ac_task_loop(ac_task_current());
  ac_store_opts_t o;
  ac_store_error_t err;
  struct st_acks a = {0};
  struct closer cl = {0};
  ac_task_t *t;
  sqlite3 *db;

  ac_store_opts_init(&o);
  o.retry_min_ms = 5;
  o.retry_max_ms = 20;
  o.batch_max = 4;

  /* 1. Abort straight away: every item is acknowledged AC_ECANCELED. */
  ASSERT_OK(ac_store_open(loop, c->uri, &o, &cl.s, &err));
  db = lock_db(c->path);
  for (int i = 0; i < 10; i++) ASSERT_OK(st_put(cl.s, &a, "k", "{\"id\":\"k\"}"));
  wait_retries(cl.s, 1);
  ac_store_abort(cl.s);
  ASSERT_EQ(a.cancelled, 10);
  ASSERT_EQ(a.ok + a.failed, 0);

  /* 2. A close stuck retrying, then an abort from another task (the second
   * Ctrl-C): the close returns AC_ECANCELED, puts meanwhile get AC_ECLOSED. */
  memset(&a, 0, sizeof(a));
  ASSERT_OK(ac_store_open(loop, c->uri, &o, &cl.s, &err));
  for (int i = 0; i < 10; i++) ASSERT_OK(st_put(cl.s, &a, "k", "{\"id\":\"k\"}"));
  ASSERT_OK(ac_task_spawn(loop, closer_task, &cl, NULL, &t));
  wait_retries(cl.s, 3);
  ASSERT_EQ(cl.returned, 0);
  ASSERT_ERR(st_put(cl.s, &a, "late", "{\"id\":\"late\"}"), AC_ECLOSED);
  ac_store_abort(cl.s);
  ASSERT_OK(ac_task_await(t, NULL));
  ac_task_release(t);
  ASSERT_EQ(cl.returned, 1);
  ASSERT_ERR(cl.rc, AC_ECANCELED);
  ASSERT_EQ(a.cancelled, 10);
  ASSERT_EQ(a.ok + a.failed, 0);

  ASSERT_EQ(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(db);
  ASSERT_EQ(st_sqlite_count(c->path, "items"), 0);
  return 0;
}

TEST_IMPL(store_sqlite_abort_while_failing) { run_in_scratch(abort_main); }

/* ----------------------------------------------- a refused document */

/* The table exists with a CHECK the store does not know about: a document
 * over 40 bytes breaks it (SQLITE_CONSTRAINT, permanent). Only that item is
 * acknowledged with the error; the others of its batch are stored. */
static int refused_main(void *arg, void **result) {
  struct sq_ctx *c = arg;
  ac_store_t *s;
  ac_store_error_t err;
  ac_store_stats_t st;
  struct st_acks a = {0};
  sqlite3 *db;

  ASSERT_EQ(sqlite3_open(c->path, &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "CREATE TABLE items(key TEXT PRIMARY KEY, doc TEXT NOT NULL "
                         "CHECK(length(doc) <= 40))",
                         NULL, NULL, NULL),
            SQLITE_OK);
  sqlite3_close(db);
  ASSERT_OK(ac_store_open(ac_task_loop(ac_task_current()), c->uri, NULL, &s, &err));
  ASSERT_OK(st_put(s, &a, "1", "{\"id\":\"1\"}"));
  ASSERT_OK(st_put(s, &a, "big", "{\"id\":\"big\",\"pad\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}"));
  ASSERT_OK(st_put(s, &a, "3", "{\"id\":\"3\"}"));
  ASSERT_OK(ac_store_flush(s));
  ASSERT_EQ(a.ok, 2);
  ASSERT_EQ(a.failed, 1);
  ASSERT_ERR(a.last_error, AC_ESTORE);
  ac_store_stats(s, &st);
  ASSERT(strstr(st.last_error, "\"big\"") != NULL);
  ASSERT(strstr(st.last_error, "CHECK") != NULL);
  ASSERT_UEQ(st.retries, 0);
  ASSERT_OK(ac_store_close(s));
  ASSERT_EQ(st_sqlite_count(c->path, "items"), 2);
  return 0;
}

TEST_IMPL(store_sqlite_refused_document_acked_with_error) { run_in_scratch(refused_main); }
