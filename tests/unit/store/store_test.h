/*
 * Helpers for the store tests: a scratch directory per test, reading a
 * SQLite table or a JSON Lines file back with something other than the
 * store (the sqlite3 C API, plain reads), and an ack counter.
 */
#ifndef AC_TESTS_STORE_TEST_H
#define AC_TESTS_STORE_TEST_H

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acrawl.h"
#include "runner.h"

/* A fresh directory under TMPDIR (or /tmp); removed by st_rmdir. */
static inline void st_mkdir(char *dir, size_t n) {
  const char *t = getenv("TMPDIR");
  snprintf(dir, n, "%s/acrawl-store-XXXXXX", t && *t ? t : "/tmp");
  ASSERT_NOT_NULL(mkdtemp(dir));
}

static inline void st_rmdir(const char *dir) {
  char cmd[600];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
  ASSERT_EQ(system(cmd), 0);
}

/* The whole file, NUL-terminated; *len its size. Caller frees. */
static inline char *st_slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  char *buf;
  long n;
  ASSERT_NOT_NULL(f);
  ASSERT_EQ(fseek(f, 0, SEEK_END), 0);
  n = ftell(f);
  ASSERT_GE(n, 0);
  rewind(f);
  buf = malloc((size_t)n + 1);
  ASSERT_NOT_NULL(buf);
  ASSERT_EQ(fread(buf, 1, (size_t)n, f), (size_t)n);
  buf[n] = '\0';
  fclose(f);
  *len = (size_t)n;
  return buf;
}

/* The number of rows of a table, read with our own connection. */
static inline long st_sqlite_count(const char *path, const char *table) {
  sqlite3 *db;
  sqlite3_stmt *st;
  char sql[256];
  long n;
  ASSERT_EQ(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
  snprintf(sql, sizeof(sql), "SELECT count(*) FROM \"%s\"", table);
  ASSERT_EQ(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  n = (long)sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return n;
}

/* The doc stored for key (malloc'd, *len bytes), or NULL. */
static inline char *st_sqlite_get(const char *path, const char *table, const char *key,
                                  size_t *len) {
  sqlite3 *db;
  sqlite3_stmt *st;
  char sql[256], *out = NULL;
  ASSERT_EQ(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
  snprintf(sql, sizeof(sql), "SELECT doc FROM \"%s\" WHERE key = ?1", table);
  ASSERT_EQ(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
  sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
  if (sqlite3_step(st) == SQLITE_ROW) {
    const void *p = sqlite3_column_blob(st, 0);
    *len = (size_t)sqlite3_column_bytes(st, 0);
    out = malloc(*len + 1);
    ASSERT_NOT_NULL(out);
    if (*len) memcpy(out, p, *len);
    out[*len] = '\0';
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

/* Counts acknowledgements by status, and checks they never come from
 * inside ac_store_put: in_put is raised around each put, and an ack may
 * come while it is up only from another task (the store's writer, while
 * the put waits for room), never from the putting task's own stack. */
struct st_acks {
  long ok;
  long failed;
  long cancelled;
  int last_error;
  int in_put;
  ac_task_t *putter;
  long acks_during_put; /* acks that came while a put waited for room */
  int *per_item; /* optional: how many times each item was acknowledged */
};

static inline void st_ack_cb(ac_store_t *s, int status, void *userdata) {
  struct st_acks *a = userdata;
  (void)s;
  if (a->in_put) {
    ASSERT(ac_task_current() != a->putter);
    a->acks_during_put++;
  }
  if (status == 0)
    a->ok++;
  else if (status == AC_ECANCELED)
    a->cancelled++;
  else {
    a->failed++;
    a->last_error = status;
  }
}

static inline int st_put(ac_store_t *s, struct st_acks *a, const char *key, const char *doc) {
  int rc;
  a->in_put = 1;
  a->putter = ac_task_current();
  rc = ac_store_put(s, key, doc, strlen(doc), st_ack_cb, a);
  a->in_put = 0;
  return rc;
}

#endif /* AC_TESTS_STORE_TEST_H */
