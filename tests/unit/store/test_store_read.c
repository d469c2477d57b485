/*
 * Reading a collection back (ac_store_reader_*): pages in write order, byte
 * for byte; a read while a store writes the same table; nothing to read (no
 * file, no table) and an empty table; a read that fails (the table dropped
 * under the reader) and starts again at the same place; a reader in use by
 * another task; the backends that cannot read; bad arguments.
 */
#include <sys/stat.h>
#include <unistd.h>

#include "store_test.h"

struct rd_ctx {
  char dir[256];
  char path[300];
  char uri[320];
};

static void run_in_scratch(ac_task_fn main_fn) {
  struct rd_ctx c;
  st_mkdir(c.dir, sizeof(c.dir));
  snprintf(c.path, sizeof(c.path), "%s/items.db", c.dir);
  snprintf(c.uri, sizeof(c.uri), "sqlite:%s", c.path);
  ASSERT_OK(ac_run(main_fn, &c, NULL));
  st_rmdir(c.dir);
}

/* n documents {"id":"k<i>","i":<i>} keyed k<i>, through a store. */
static void fill(const char *uri, int from, int to) {
  ac_store_t *s;
  ac_store_error_t err;
  struct st_acks a = {0};
  char key[32], doc[64];
  ASSERT_OK(ac_store_open(ac_task_loop(ac_task_current()), uri, NULL, &s, &err));
  for (int i = from; i < to; i++) {
    snprintf(key, sizeof(key), "k%d", i);
    snprintf(doc, sizeof(doc), "{\"id\":\"k%d\",\"i\":%d}", i, i);
    ASSERT_OK(st_put(s, &a, key, doc));
  }
  ASSERT_OK(ac_store_close(s));
  ASSERT_EQ(a.ok, to - from);
}

/* The page's documents are k<from>, k<from+1>, ... with their documents. */
static void expect_page(const ac_store_doc_t *d, size_t n, int from) {
  char key[32], doc[64];
  for (size_t i = 0; i < n; i++) {
    snprintf(key, sizeof(key), "k%d", from + (int)i);
    snprintf(doc, sizeof(doc), "{\"id\":\"k%d\",\"i\":%d}", from + (int)i, from + (int)i);
    ASSERT_STR_EQ(d[i].key, key);
    ASSERT_STR_EQ(d[i].doc, doc);
    ASSERT_EQ(d[i].len, strlen(doc));
  }
}

/* ---------------------------------------------------------- paging */

static int paging_main(void *arg, void **result) {
  struct rd_ctx *c = arg;
  ac_store_reader_t *r;
  ac_store_error_t err;
  const ac_store_doc_t *d;
  size_t n;
  (void)result;

  fill(c->uri, 0, 1300);
  ASSERT_OK(ac_store_reader_open(c->uri, NULL, &r, &err));
  ASSERT_OK(ac_store_read(r, 0, &d, &n, &err)); /* 0: 512 */
  ASSERT_EQ(n, 512);
  expect_page(d, n, 0);
  ASSERT_OK(ac_store_read(r, 512, &d, &n, &err));
  ASSERT_EQ(n, 512);
  expect_page(d, n, 512);
  ASSERT_OK(ac_store_read(r, 1000, &d, &n, &err)); /* shorter than max: the end */
  ASSERT_EQ(n, 276);
  expect_page(d, n, 1024);
  ASSERT_OK(ac_store_read(r, 1, &d, &n, &err));
  ASSERT_EQ(n, 0);
  ASSERT_NOT_NULL(d);
  ASSERT_OK(ac_store_reader_close(r));
  ASSERT_OK(ac_store_reader_close(NULL));

  /* Pages of one; the options of the URI are taken (keep_wal is for
   * writing); a document is handed back as stored, NUL and all. */
  {
    char uri[400];
    ac_store_t *s;
    struct st_acks a = {0};
    static const char nul_doc[] = "{\"id\":\"z\",\"v\":\"a\0b\"}";
    snprintf(uri, sizeof(uri), "%s?keep_wal=1", c->uri);
    ASSERT_OK(ac_store_open(ac_task_loop(ac_task_current()), uri, NULL, &s, &err));
    ASSERT_OK(ac_store_put(s, "z", nul_doc, sizeof(nul_doc) - 1, st_ack_cb, &a));
    ASSERT_OK(ac_store_close(s));
    ASSERT_OK(ac_store_reader_open(uri, NULL, &r, &err));
    for (int i = 0; i < 1300; i++) {
      ASSERT_OK(ac_store_read(r, 1, &d, &n, &err));
      ASSERT_EQ(n, 1);
      expect_page(d, 1, i);
    }
    ASSERT_OK(ac_store_read(r, 1, &d, &n, &err));
    ASSERT_EQ(n, 1);
    ASSERT_STR_EQ(d[0].key, "z");
    ASSERT_EQ(d[0].len, sizeof(nul_doc) - 1);
    ASSERT_EQ(memcmp(d[0].doc, nul_doc, sizeof(nul_doc)), 0); /* and the NUL after */
    ASSERT_OK(ac_store_read(r, 1, &d, &n, &err));
    ASSERT_EQ(n, 0);
    ASSERT_OK(ac_store_reader_close(r));
  }
  return 0;
}

TEST_IMPL(store_read_pages_in_write_order) { run_in_scratch(paging_main); }

/* A store writes the table between two pages: a key read is never read
 * again (an upsert keeps its place), a key not read yet comes with its new
 * document, and keys written meanwhile come after. */
static int concurrent_main(void *arg, void **result) {
  struct rd_ctx *c = arg;
  ac_store_t *s;
  ac_store_reader_t *r;
  ac_store_error_t err;
  struct st_acks a = {0};
  const ac_store_doc_t *d;
  size_t n;
  (void)result;

  ASSERT_OK(ac_store_open(ac_task_loop(ac_task_current()), c->uri, NULL, &s, &err));
  for (int i = 0; i < 10; i++) {
    char key[16], doc[64];
    snprintf(key, sizeof(key), "k%d", i);
    snprintf(doc, sizeof(doc), "{\"id\":\"k%d\",\"i\":%d}", i, i);
    ASSERT_OK(st_put(s, &a, key, doc));
  }
  ASSERT_OK(ac_store_flush(s));
  ASSERT_OK(ac_store_reader_open(c->uri, NULL, &r, &err));
  ASSERT_OK(ac_store_read(r, 4, &d, &n, &err));
  ASSERT_EQ(n, 4);
  expect_page(d, n, 0);
  ASSERT_OK(st_put(s, &a, "k1", "{\"id\":\"k1\",\"again\":1}"));
  ASSERT_OK(st_put(s, &a, "k7", "{\"id\":\"k7\",\"again\":1}"));
  ASSERT_OK(st_put(s, &a, "new", "{\"id\":\"new\"}"));
  ASSERT_OK(ac_store_flush(s));
  ASSERT_OK(ac_store_read(r, 100, &d, &n, &err));
  ASSERT_EQ(n, 7);
  expect_page(d, 3, 4);
  ASSERT_STR_EQ(d[3].key, "k7");
  ASSERT_STR_EQ(d[3].doc, "{\"id\":\"k7\",\"again\":1}");
  expect_page(d + 4, 2, 8);
  ASSERT_STR_EQ(d[6].key, "new");
  /* After the end, a read sees what was written since. */
  ASSERT_OK(st_put(s, &a, "newer", "{\"id\":\"newer\"}"));
  ASSERT_OK(ac_store_flush(s));
  ASSERT_OK(ac_store_read(r, 100, &d, &n, &err));
  ASSERT_EQ(n, 1);
  ASSERT_STR_EQ(d[0].key, "newer");
  /* The reader held no transaction: the store closes (and checkpoints). */
  ASSERT_OK(ac_store_close(s));
  ASSERT_OK(ac_store_reader_close(r));
  ASSERT_EQ(a.ok, 14);
  return 0;
}

TEST_IMPL(store_read_while_a_store_writes) { run_in_scratch(concurrent_main); }

/* ------------------------------------------------- nothing to read */

static int nothing_main(void *arg, void **result) {
  struct rd_ctx *c = arg;
  ac_store_reader_t *r = (ac_store_reader_t *)&r;
  ac_store_opts_t o;
  ac_store_error_t err;
  const ac_store_doc_t *d;
  size_t n;
  struct stat sb;
  char uri[400];
  (void)result;

  /* No file: AC_ENOENT, and no file made. */
  ASSERT_ERR(ac_store_reader_open(c->uri, NULL, &r, &err), AC_ENOENT);
  ASSERT_NULL(r);
  ASSERT_ERR(err.code, AC_ENOENT);
  ASSERT(strstr(err.message, "no SQLite file") != NULL);
  ASSERT(strstr(err.message, c->uri) != NULL);
  ASSERT_EQ(stat(c->path, &sb), -1);
  snprintf(uri, sizeof(uri), "sqlite:%s/no/such/dir/x.db", c->dir);
  ASSERT_ERR(ac_store_reader_open(uri, NULL, &r, &err), AC_ENOENT);

  /* A file without the table (a store of another collection). */
  fill(c->uri, 0, 3);
  ac_store_opts_init(&o);
  o.collection = "requests";
  ASSERT_ERR(ac_store_reader_open(c->uri, &o, &r, &err), AC_ENOENT);
  ASSERT_NULL(r);
  ASSERT(strstr(err.message, "no table \"requests\"") != NULL);

  /* An empty table: a reader, and an empty page. */
  {
    ac_store_t *s;
    ASSERT_OK(ac_store_open(ac_task_loop(ac_task_current()), c->uri, &o, &s, &err));
    ASSERT_OK(ac_store_close(s));
  }
  ASSERT_OK(ac_store_reader_open(c->uri, &o, &r, &err));
  ASSERT_OK(ac_store_read(r, 10, &d, &n, &err));
  ASSERT_EQ(n, 0);
  ASSERT_OK(ac_store_reader_close(r));
  return 0;
}

TEST_IMPL(store_read_missing_file_or_table) { run_in_scratch(nothing_main); }

/* ------------------------------------------------------- read errors */

/* Not a database: the open says so. The table dropped under an open
 * reader: the read fails, hands out nothing, and once the table is back
 * the next read starts where the failed one did. */
static int errors_main(void *arg, void **result) {
  struct rd_ctx *c = arg;
  ac_store_reader_t *r = (ac_store_reader_t *)&r;
  ac_store_error_t err;
  const ac_store_doc_t *d = (const ac_store_doc_t *)&d;
  size_t n = 99;
  sqlite3 *db;
  char bad[320], uri[400];
  FILE *f;
  (void)result;

  snprintf(bad, sizeof(bad), "%s/bad.db", c->dir);
  f = fopen(bad, "wb");
  ASSERT_NOT_NULL(f);
  for (int i = 0; i < 20; i++) fputs("this is not a database, it is a text file. ", f);
  fclose(f);
  snprintf(uri, sizeof(uri), "sqlite:%s", bad);
  ASSERT_ERR(ac_store_reader_open(uri, NULL, &r, &err), AC_ESTORE);
  ASSERT_NULL(r);
  ASSERT(strstr(err.message, "file is not a database") != NULL);
  ASSERT(strstr(err.message, uri) != NULL);

  fill(c->uri, 0, 6);
  ASSERT_OK(ac_store_reader_open(c->uri, NULL, &r, &err));
  ASSERT_OK(ac_store_read(r, 2, &d, &n, &err));
  ASSERT_EQ(n, 2);
  ASSERT_EQ(sqlite3_open(c->path, &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "DROP TABLE items", NULL, NULL, NULL), SQLITE_OK);
  ASSERT_ERR(ac_store_read(r, 2, &d, &n, &err), AC_ESTORE);
  ASSERT_NULL(d);
  ASSERT_EQ(n, 0);
  ASSERT_ERR(err.code, AC_ESTORE);
  ASSERT(strstr(err.message, "no such table") != NULL);
  ASSERT(strstr(err.message, c->uri) != NULL);
  ASSERT_ERR(ac_store_read(r, 2, &d, &n, &err), AC_ESTORE); /* still gone */
  ASSERT_EQ(sqlite3_exec(db,
                         "CREATE TABLE items(key TEXT PRIMARY KEY, doc TEXT NOT NULL);"
                         "INSERT INTO items VALUES('k0','{\"id\":\"k0\",\"i\":0}'),"
                         "('k1','{\"id\":\"k1\",\"i\":1}'),('k2','{\"id\":\"k2\",\"i\":2}'),"
                         "('k3','{\"id\":\"k3\",\"i\":3}')",
                         NULL, NULL, NULL),
            SQLITE_OK);
  sqlite3_close(db);
  ASSERT_OK(ac_store_read(r, 10, &d, &n, &err));
  ASSERT_EQ(n, 2);
  expect_page(d, n, 2);
  ASSERT_OK(ac_store_reader_close(r));
  return 0;
}

TEST_IMPL(store_read_errors) { run_in_scratch(errors_main); }

/* ---------------------------------------------- a reader in use */

struct busy_read {
  ac_store_reader_t *r;
  int rc;
  size_t n;
};

static int busy_reader_task(void *arg, void **result) {
  struct busy_read *b = arg;
  const ac_store_doc_t *d;
  ac_store_error_t err;
  (void)result;
  b->rc = ac_store_read(b->r, 10, &d, &b->n, &err);
  return 0;
}

/* A file in rollback-journal mode, locked by another connection: the
 * reader's page waits for the lock on its worker thread, and meanwhile the
 * reader is busy for every other task. */
static int busy_main(void *arg, void **result) {
  struct rd_ctx *c = arg;
  ac_store_reader_t *r;
  ac_store_error_t err;
  const ac_store_doc_t *d;
  struct busy_read b = {0};
  ac_task_t *t;
  size_t n;
  sqlite3 *db;
  (void)result;

  ASSERT_EQ(sqlite3_open(c->path, &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "CREATE TABLE items(key TEXT PRIMARY KEY, doc TEXT NOT NULL);"
                         "INSERT INTO items VALUES('k0','{\"id\":\"k0\",\"i\":0}')",
                         NULL, NULL, NULL),
            SQLITE_OK);
  ASSERT_OK(ac_store_reader_open(c->uri, NULL, &r, &err));
  ASSERT_EQ(sqlite3_exec(db, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
  b.r = r;
  ASSERT_OK(ac_task_spawn(ac_task_loop(ac_task_current()), busy_reader_task, &b, NULL, &t));
  ASSERT_OK(ac_sleep(50)); /* the task is waiting for its page */
  ASSERT(!ac_task_is_finished(t));
  ASSERT_ERR(ac_store_read(r, 10, &d, &n, &err), AC_EBUSY);
  ASSERT(strstr(err.message, "another task") != NULL);
  ASSERT_ERR(ac_store_reader_close(r), AC_EBUSY);
  ASSERT_EQ(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(db);
  ASSERT_OK(ac_task_await(t, NULL));
  ac_task_release(t);
  ASSERT_OK(b.rc);
  ASSERT_EQ(b.n, 1);
  ASSERT_OK(ac_store_reader_close(r));
  return 0;
}

TEST_IMPL(store_read_busy_reader) { run_in_scratch(busy_main); }

/* ------------------------------------- backends, arguments, options */

static void expect_open_error(const char *uri, const ac_store_opts_t *o, int code,
                              const char *needle) {
  ac_store_reader_t *r = (ac_store_reader_t *)&r;
  ac_store_error_t err;
  ASSERT_ERR(ac_store_reader_open(uri, o, &r, &err), code);
  ASSERT_NULL(r);
  ASSERT_ERR(err.code, code);
  if (strstr(err.message, needle) == NULL)
    AC__FAIL("message for \"%s\" is \"%s\", without \"%s\"", uri, err.message, needle);
}

static int args_main(void *arg, void **result) {
  struct rd_ctx *c = arg;
  ac_store_reader_t *r;
  ac_store_opts_t o;
  ac_store_error_t err;
  const ac_store_doc_t *d;
  size_t n;
  char uri[400];
  (void)result;

  fill(c->uri, 0, 1);
  /* Backends that cannot read back, said before anything is opened. */
  snprintf(uri, sizeof(uri), "jsonl:%s/items.jsonl", c->dir);
  expect_open_error(uri, NULL, AC_ENOSYS, "a jsonl: store cannot be read back");
  expect_open_error("jsonl:-", NULL, AC_ENOSYS, "only sqlite:");
#ifdef AC_HAVE_MONGO_BACKEND
  expect_open_error("mongodb://127.0.0.1:1/db.items", NULL, AC_ENOSYS,
                    "a mongodb: store cannot be read back");
#endif
  /* Bad URIs and options, as for ac_store_open. */
  expect_open_error("foo:x", NULL, AC_EINVAL, "unknown store scheme");
  expect_open_error("sqlite:", NULL, AC_EINVAL, "missing path");
  snprintf(uri, sizeof(uri), "%s?keep_wal=2", c->uri);
  expect_open_error(uri, NULL, AC_EINVAL, "bad value \"2\" for option keep_wal");
  snprintf(uri, sizeof(uri), "%s?mode=ro", c->uri);
  expect_open_error(uri, NULL, AC_EINVAL, "unknown option \"mode\"");
  ac_store_opts_init(&o);
  o.collection = "";
  expect_open_error(c->uri, &o, AC_EINVAL, "empty collection name");
  o.collection = "bad\"name";
  expect_open_error(c->uri, &o, AC_EINVAL, "bad table name");
  ASSERT_ERR(ac_store_reader_open(NULL, NULL, &r, &err), AC_EINVAL);
  ASSERT_ERR(ac_store_reader_open(c->uri, NULL, NULL, NULL), AC_EINVAL);
  /* A '?' in the file's name is %3F, as for a store. */
  {
    char path[400];
    snprintf(path, sizeof(path), "%s/a?b.db", c->dir);
    snprintf(uri, sizeof(uri), "sqlite:%s/a%%3Fb.db", c->dir);
    ASSERT_EQ(rename(c->path, path), 0);
    ASSERT_OK(ac_store_reader_open(uri, NULL, &r, &err));
    ASSERT_OK(ac_store_read(r, 10, &d, &n, &err));
    ASSERT_EQ(n, 1);
    expect_page(d, n, 0);
    ASSERT_ERR(ac_store_read(r, 10, NULL, &n, &err), AC_EINVAL);
    ASSERT_ERR(ac_store_read(NULL, 10, &d, &n, NULL), AC_EINVAL);
    ASSERT_OK(ac_store_reader_close(r));
  }
  return 0;
}

TEST_IMPL(store_read_backends_and_arguments) { run_in_scratch(args_main); }

/* Outside a task: open and read refuse; close works anywhere. */
struct outside {
  const char *uri;
  ac_store_reader_t *r;
};

static int outside_open(void *arg, void **result) {
  struct outside *o = arg;
  ac_store_error_t err;
  (void)result;
  fill(o->uri, 0, 2);
  ASSERT_OK(ac_store_reader_open(o->uri, NULL, &o->r, &err));
  return 0;
}

TEST_IMPL(store_read_outside_a_task) {
  struct rd_ctx c;
  struct outside o;
  ac_store_reader_t *r;
  ac_store_error_t err;
  const ac_store_doc_t *d;
  size_t n;
  st_mkdir(c.dir, sizeof(c.dir));
  snprintf(c.path, sizeof(c.path), "%s/items.db", c.dir);
  snprintf(c.uri, sizeof(c.uri), "sqlite:%s", c.path);
  o.uri = c.uri;
  ASSERT_ERR(ac_store_reader_open(c.uri, NULL, &r, &err), AC_ENOTASK);
  ASSERT(strstr(err.message, "task") != NULL);
  ASSERT_OK(ac_run(outside_open, &o, NULL));
  ASSERT_ERR(ac_store_read(o.r, 10, &d, &n, &err), AC_ENOTASK);
  ASSERT_OK(ac_store_reader_close(o.r));
  st_rmdir(c.dir);
}
