/*
 * sqlite:PATH: one row per key in a table named after the collection,
 * upserted, each batch one transaction. WAL with synchronous=NORMAL: a
 * committed batch survives a crash of the process; a power loss may take the
 * last batches back (SQLite syncs the WAL at checkpoints), never corrupt.
 *
 * With keep_wal the close leaves the WAL as it is (store.h): no checkpoint,
 * no fsync, and the -wal and -shm files stay.
 *
 * Runs on worker threads, one call at a time (internal.h), hence NOMUTEX.
 */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "acrawl/errno.h"
#include "common/alloc.h"
#include "store/internal.h"

/* How long one write waits for another connection's lock before it reports
 * SQLITE_BUSY; store.c then retries with backoff, without holding a worker
 * thread all the while. */
#define BUSY_TIMEOUT_MS 500

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
  char sql[1024];
  const char *step = "open";
  int rc;

  /* The name is quoted as an identifier; a '"' in it could close the quote. */
  if (strchr(t->collection, '"') != NULL || strlen(t->collection) > 256) {
    snprintf(err, errlen, "bad table name \"%s\" (no '\"', at most 256 bytes)", t->collection);
    return AC_EINVAL;
  }
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
    rc = sqlite3_exec(q->db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL);
  }
  /* A setting of this connection: it matters only at its close. */
  if (rc == SQLITE_OK && t->keep_wal) {
    step = "keep the WAL at close";
    rc = sqlite3_db_config(q->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
  }
  if (rc == SQLITE_OK) {
    step = "set synchronous";
    rc = sqlite3_exec(q->db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL);
  }
  if (rc == SQLITE_OK) {
    step = "create table";
    snprintf(sql, sizeof(sql),
             "CREATE TABLE IF NOT EXISTS \"%s\"(key TEXT PRIMARY KEY, doc TEXT NOT NULL)",
             t->collection);
    rc = sqlite3_exec(q->db, sql, NULL, NULL, NULL);
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

static int sq_match(const char *uri) { return strncmp(uri, "sqlite:", 7) == 0; }

const ac__store_backend_t ac__store_sqlite = {"sqlite", sq_match, sq_open, sq_write, sq_close};
