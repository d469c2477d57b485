/*
 * sqlite:PATH[?OPTIONS]: one row per key in a table named after the
 * collection, upserted, each batch one transaction. WAL with synchronous=
 * NORMAL: a committed batch survives a crash of the process; a power loss
 * may take the last batches back (SQLite syncs the WAL at checkpoints),
 * never corrupt.
 *
 * Options (store.h): keep_wal=1 makes the close leave the WAL as it is: no
 * checkpoint, no fsync, and the -wal and -shm files stay.
 *
 * Reading back (ac_store_reader_open) is a read-only connection of its own,
 * a page at a time in rowid order, each page its own read transaction: a
 * store writing the same table meanwhile never waits for it (WAL), and an
 * upsert keeps its row's rowid, so a row present throughout is read once.
 *
 * Runs on worker threads, one call at a time (internal.h), hence NOMUTEX.
 */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "acrawl/errno.h"
#include "common/alloc.h"
#include "store/internal.h"

/* How long one write waits for another connection's lock before it reports
 * SQLITE_BUSY; store.c then retries with backoff, without holding a worker
 * thread all the while. */
#define BUSY_TIMEOUT_MS 500
/* A reader is not retried: it may wait longer (WAL readers seldom wait at all). */
#define READ_BUSY_TIMEOUT_MS 5000

/* Opening waits this long for another connection's lock: processes that
 * open one file together (workers of a shared crawl) take turns making it
 * WAL and its table, where a busy handler is not always asked. */
#define OPEN_BUSY_MS 10000

/* sqlite3_exec, again while another connection holds the lock it needs
 * (at open, on a worker thread: sleeping here holds up no loop). */
static int exec_open_step(sqlite3 *db, const char *sql) {
  int waited = 0, rc;
  while ((rc = sqlite3_exec(db, sql, NULL, NULL, NULL)) == SQLITE_BUSY && waited < OPEN_BUSY_MS)
    waited += sqlite3_sleep(20);
  return rc;
}

/* What a sqlite: URI's options say (store.h). */
struct sq_opts {
  int keep_wal;
};

/* Judge the URI's options: 0, or AC_EINVAL naming the option. */
static int sq_options(const ac__store_target_t *t, struct sq_opts *o, char *err,
                      size_t errlen) {
  const char *cur = t->options != NULL ? t->options : "", *name, *value;
  size_t nlen, vlen;
  memset(o, 0, sizeof(*o));
  while (ac__store_uri_option(&cur, &name, &nlen, &value, &vlen)) {
    if (nlen == 8 && memcmp(name, "keep_wal", 8) == 0) {
      if (value == NULL) {
        snprintf(err, errlen,
                 "option keep_wal without a value (expected keep_wal=0 or keep_wal=1)");
        return AC_EINVAL;
      }
      if (vlen != 1 || (value[0] != '0' && value[0] != '1')) {
        snprintf(err, errlen, "bad value \"%.*s\" for option keep_wal (expected 0 or 1)",
                 (int)vlen, value);
        return AC_EINVAL;
      }
      o->keep_wal = value[0] == '1';
    } else {
      snprintf(err, errlen,
               "unknown option \"%.*s\" (a sqlite: URI takes keep_wal=0|1; a '?' in the "
               "file's name is written %%3F)",
               (int)nlen, name);
      return AC_EINVAL;
    }
  }
  return 0;
}

/* The name is quoted as an identifier; a '"' in it could close the quote. */
static int check_table(const char *name, char *err, size_t errlen) {
  if (strchr(name, '"') == NULL && strlen(name) <= 256) return 0;
  snprintf(err, errlen, "bad table name \"%s\" (no '\"', at most 256 bytes)", name);
  return AC_EINVAL;
}

struct sq {
  sqlite3 *db;
  sqlite3_stmt *upsert;
  char *path;
};

/*
 * Worth retrying: another connection's lock, and a full disk, as for JSON
 * Lines. A crawler that stops at a full disk loses the crawl it was in the
 * middle of, while one that waits (the writes pause, put applies
 * backpressure, Ctrl-C twice still aborts) goes on once someone makes room;
 * a failed transaction is rolled back whole, so the retry doubles nothing.
 * SQLite says SQLITE_FULL when write() gives ENOSPC (or a page limit is
 * hit); a quota (EDQUOT), or ENOSPC from a sync, comes as an I/O error,
 * told apart by the errno under it. Other I/O errors (EIO, EFBIG) do not
 * pass by waiting.
 */
static int is_transient(sqlite3 *db, int rc) {
  int e;
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_FULL:
      return 1;
    case SQLITE_IOERR:
      e = sqlite3_system_errno(db);
      return e == ENOSPC || e == EDQUOT;
    default:
      return 0;
  }
}

static int sq_open(const ac__store_target_t *t, void **out, char *err, size_t errlen) {
  struct sq *q;
  struct sq_opts o;
  char sql[1024];
  const char *step = "open";
  int rc;

  /* Judged before the file is made. */
  if ((rc = sq_options(t, &o, err, errlen)) != 0 ||
      (rc = check_table(t->collection, err, errlen)) != 0)
    return rc;
  q = ac__calloc(1, sizeof(*q));
  if (q == NULL || (q->path = ac__strdup(t->rest)) == NULL) {
    ac__free(q);
    return AC_ENOMEM;
  }
  rc = sqlite3_open_v2(t->rest, &q->db,
                       SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
  if (rc == SQLITE_OK) {
    sqlite3_busy_timeout(q->db, BUSY_TIMEOUT_MS);
    step = "set WAL mode";
    rc = exec_open_step(q->db, "PRAGMA journal_mode=WAL");
  }
  /* A setting of this connection: it matters only at its close. */
  if (rc == SQLITE_OK && o.keep_wal) {
    step = "keep the WAL at close";
    rc = sqlite3_db_config(q->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
  }
  if (rc == SQLITE_OK) {
    step = "set synchronous";
    rc = exec_open_step(q->db, "PRAGMA synchronous=NORMAL");
  }
  if (rc == SQLITE_OK) {
    step = "create table";
    snprintf(sql, sizeof(sql),
             "CREATE TABLE IF NOT EXISTS \"%s\"(key TEXT PRIMARY KEY, doc TEXT NOT NULL)",
             t->collection);
    rc = exec_open_step(q->db, sql);
  }
  if (rc == SQLITE_OK) {
    step = "prepare the upsert";
    snprintf(sql, sizeof(sql),
             "INSERT INTO \"%s\"(key, doc) VALUES(?1, ?2) "
             "ON CONFLICT(key) DO UPDATE SET doc = excluded.doc",
             t->collection);
    rc = sqlite3_prepare_v2(q->db, sql, -1, &q->upsert, NULL);
  }
  if (rc != SQLITE_OK) {
    snprintf(err, errlen, "cannot %s in SQLite file \"%s\": %s", step, t->rest,
             q->db != NULL ? sqlite3_errmsg(q->db) : sqlite3_errstr(rc));
    sqlite3_finalize(q->upsert);
    sqlite3_close(q->db);
    ac__free(q->path);
    ac__free(q);
    return rc == SQLITE_NOMEM ? AC_ENOMEM : AC_ESTORE;
  }
  *out = q;
  return 0;
}

static int sq_write(void *be, const ac__store_doc_t *docs, size_t n, uint64_t *skipped,
                    int *transient, char *err, size_t errlen) {
  struct sq *q = be;
  const char *key = NULL;
  size_t i;
  int rc = sqlite3_exec(q->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);

  for (i = 0; rc == SQLITE_OK && i < n; i++) {
    key = docs[i].key;
    rc = sqlite3_bind_text(q->upsert, 1, key, -1, SQLITE_STATIC);
    /* Bytes as given, with their length: no re-encoding, no cut at NUL. */
    if (rc == SQLITE_OK)
      rc = sqlite3_bind_text64(q->upsert, 2, docs[i].doc, docs[i].len, SQLITE_STATIC,
                               SQLITE_UTF8);
    if (rc == SQLITE_OK) {
      rc = sqlite3_step(q->upsert);
      if (rc == SQLITE_DONE) rc = SQLITE_OK;
    }
    sqlite3_reset(q->upsert);
  }
  sqlite3_clear_bindings(q->upsert);
  if (rc == SQLITE_OK) {
    key = NULL;
    rc = sqlite3_exec(q->db, "COMMIT", NULL, NULL, NULL);
  }
  if (rc == SQLITE_OK) return 0;

  *transient = is_transient(q->db, rc);
  if (key != NULL)
    snprintf(err, errlen, "writing key \"%s\" to \"%s\": %s", key, q->path,
             sqlite3_errmsg(q->db));
  else
    snprintf(err, errlen, "writing a batch of %zu to \"%s\": %s", n, q->path,
             sqlite3_errmsg(q->db));
  if (!sqlite3_get_autocommit(q->db)) sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
  return (rc & 0xff) == SQLITE_NOMEM ? AC_ENOMEM : AC_ESTORE;
}

static int sq_close(void *be, char *err, size_t errlen) {
  struct sq *q = be;
  int rc;
  sqlite3_finalize(q->upsert);
  rc = sqlite3_close_v2(q->db);
  if (rc != SQLITE_OK) snprintf(err, errlen, "closing \"%s\": %s", q->path, sqlite3_errstr(rc));
  ac__free(q->path);
  ac__free(q);
  return rc == SQLITE_OK ? 0 : AC_ESTORE;
}

/* ------------------------------------------------------------ reading */

struct sq_reader {
  sqlite3 *db;
  sqlite3_stmt *page;
  char *path;
  char *table;
  sqlite3_int64 after; /* the rowid of the last row answered */
};

static void sq_read_close(void *rd) {
  struct sq_reader *r = rd;
  if (r == NULL) return;
  sqlite3_finalize(r->page);
  sqlite3_close(r->db);
  ac__free(r->path);
  ac__free(r->table);
  ac__free(r);
}

static int sq_read_open(const ac__store_target_t *t, void **out, char *err, size_t errlen) {
  struct sq_reader *r;
  struct sq_opts o;
  struct stat sb;
  sqlite3_stmt *st = NULL;
  char sql[1024];
  const char *step = "open";
  int rc;

  if ((rc = sq_options(t, &o, err, errlen)) != 0 ||
      (rc = check_table(t->collection, err, errlen)) != 0)
    return rc;
  /* Read-only: a file that is not there is never made. */
  if (stat(t->rest, &sb) != 0 && errno == ENOENT) {
    snprintf(err, errlen, "no SQLite file \"%s\"", t->rest);
    return AC_ENOENT;
  }
  r = ac__calloc(1, sizeof(*r));
  if (r == NULL || (r->path = ac__strdup(t->rest)) == NULL ||
      (r->table = ac__strdup(t->collection)) == NULL) {
    sq_read_close(r);
    return AC_ENOMEM;
  }
  rc = sqlite3_open_v2(t->rest, &r->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
  if (rc == SQLITE_OK) {
    sqlite3_busy_timeout(r->db, READ_BUSY_TIMEOUT_MS);
    step = "look for the table";
    rc = sqlite3_prepare_v2(r->db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1",
                            -1, &st, NULL);
  }
  if (rc == SQLITE_OK) {
    sqlite3_bind_text(st, 1, t->collection, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) { /* a file without the table: nothing was written there */
      sqlite3_finalize(st);
      snprintf(err, errlen, "no table \"%s\" in SQLite file \"%s\"", t->collection, t->rest);
      sq_read_close(r);
      return AC_ENOENT;
    }
    if (rc == SQLITE_ROW) rc = SQLITE_OK;
  }
  if (rc == SQLITE_OK) {
    step = "prepare the read";
    snprintf(sql, sizeof(sql),
             "SELECT rowid, key, doc FROM \"%s\" WHERE rowid > ?1 ORDER BY rowid LIMIT ?2",
             t->collection);
    rc = sqlite3_prepare_v2(r->db, sql, -1, &r->page, NULL);
  }
  if (rc != SQLITE_OK) {
    snprintf(err, errlen, "cannot %s in SQLite file \"%s\": %s", step, t->rest,
             r->db != NULL ? sqlite3_errmsg(r->db) : sqlite3_errstr(rc));
    sqlite3_finalize(st);
    sq_read_close(r);
    return (rc & 0xff) == SQLITE_NOMEM ? AC_ENOMEM : AC_ESTORE;
  }
  sqlite3_finalize(st);
  *out = r;
  return 0;
}

static int sq_read_page(void *rd, ac__store_page_t *p, char *err, size_t errlen) {
  struct sq_reader *r = rd;
  sqlite3_int64 from = r->after;
  int rc, added = 0;

  sqlite3_bind_int64(r->page, 1, r->after);
  sqlite3_bind_int64(r->page, 2, (sqlite3_int64)p->max);
  while ((rc = sqlite3_step(r->page)) == SQLITE_ROW) {
    /* Text as stored, with its length; a NULL (a table not written by a
     * store) reads as "". */
    const char *key = (const char *)sqlite3_column_text(r->page, 1);
    size_t klen = (size_t)sqlite3_column_bytes(r->page, 1);
    const char *doc = (const char *)sqlite3_column_text(r->page, 2);
    size_t len = (size_t)sqlite3_column_bytes(r->page, 2);
    if ((key == NULL || doc == NULL) && sqlite3_errcode(r->db) == SQLITE_NOMEM) {
      added = AC_ENOMEM;
      break;
    }
    added = ac__store_page_add(p, key != NULL ? key : "", key != NULL ? klen : 0,
                               doc != NULL ? doc : "", doc != NULL ? len : 0);
    if (added != 0) break;
    r->after = sqlite3_column_int64(r->page, 0);
  }
  if (added == 0 && rc != SQLITE_DONE)
    snprintf(err, errlen, "reading table \"%s\" of SQLite file \"%s\": %s", r->table, r->path,
             sqlite3_errmsg(r->db));
  sqlite3_reset(r->page);
  /* The page is dropped: the next read starts where this one did. */
  if (added != 0 || rc != SQLITE_DONE) r->after = from;
  if (added != 0) {
    snprintf(err, errlen, "reading table \"%s\" of SQLite file \"%s\": %s", r->table,
             r->path, ac_strerror(added));
    return added;
  }
  if (rc != SQLITE_DONE) return (rc & 0xff) == SQLITE_NOMEM ? AC_ENOMEM : AC_ESTORE;
  return 0;
}

static int sq_match(const char *uri) { return strncmp(uri, "sqlite:", 7) == 0; }

const ac__store_backend_t ac__store_sqlite = {"sqlite", sq_match,     sq_open,      sq_write,
                                              sq_close, sq_read_open, sq_read_page, sq_read_close};
