/*
 * The crawl state, for --resume: a SQLite store (the same store layer the
 * items go through: batched, off the loop, retried) holding one record per
 * request, keyed by its dedup key:
 *   {"u": fetch URL, "c": callback, "p": priority, "m": meta, "s": status}
 * with status p (pending: followed, not done) or f (failed for good), and
 * just {"s": "d"} once done (its callback returned and its items are
 * durable): a done request is never loaded again. One more record,
 * "!expected", keeps the expected request count for the ETA.
 *
 * Order is what makes it safe: a request's children are put (pending)
 * during its callback, its done mark after its last item ack, and the store
 * writes in FIFO batches. So whenever a done mark is durable, so are its
 * children's records, and a crawl killed at any point resumes with nothing
 * lost: failed and pending requests are fetched again, done ones are not.
 */
#include <cjson/cJSON.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "acrawl/errno.h"
#include "common/alloc.h"
#include "crawl/internal.h"

#define EXPECTED_KEY "!expected"
#define LOAD_PAGE 512

int ac__state_open(ac_crawl_t *c) {
  ac_store_opts_t so;
  ac_store_error_t err;
  char *uri;
  size_t n = strlen(c->state_path) + 16;
  int rc;
  if (!c->opts.resume) {
    /* A fresh crawl: the old state would make it skip pages. */
    static const char *const sfx[] = {"", "-wal", "-shm", "-journal"};
    for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
      char p[4096];
      snprintf(p, sizeof(p), "%s%s", c->state_path, sfx[i]);
      (void)unlink(p);
    }
  }
  uri = ac__malloc(n);
  if (uri == NULL) return AC_ENOMEM;
  snprintf(uri, n, "sqlite:%s", c->state_path);
  ac_store_opts_init(&so);
  so.collection = "requests";
  so.key_field = "u";
  so.queue_cap = 8192;
  so.batch_max = 2048;
  /* Only acrawl reads the state back, through SQLite: folding the WAL into
   * the file at close (two fsyncs, 5-15 ms at the end of every crawl) buys
   * nothing. A power loss can still only take the last marks back, as it
   * can during the crawl (synchronous=NORMAL): those requests are fetched
   * again on --resume, and their items upserted, never doubled. */
  so.keep_wal = 1;
  rc = ac_store_open(c->loop, uri, &so, &c->state, &err);
  ac__free(uri);
  if (rc != 0) {
    fprintf(c->out, "cannot open the crawl state %s: %s\n", c->state_path, err.message);
    return AC_ESTORE;
  }
  return 0;
}

/* JSON string escaping for the state's own documents. */
static size_t put_json_string(char *out, const char *s) {
  static const char hex[] = "0123456789abcdef";
  size_t n = 0;
  out[n++] = '"';
  for (; *s; s++) {
    unsigned char ch = (unsigned char)*s;
    if (ch == '"' || ch == '\\') {
      out[n++] = '\\';
      out[n++] = (char)ch;
    } else if (ch < 0x20) {
      memcpy(out + n, "\\u00", 4);
      out[n + 4] = hex[ch >> 4];
      out[n + 5] = hex[ch & 15];
      n += 6;
    } else {
      out[n++] = (char)ch;
    }
  }
  out[n++] = '"';
  return n;
}

/* A mark the state's store refused (a disk that went read-only, an I/O
 * error) is lost: a resumed crawl would redo or skip work. Never silent. */
static void on_state_ack(ac_store_t *store, int status, void *userdata) {
  ac_crawl_t *c = userdata;
  /* A hard stop aborts the state: marks it drops are not errors. */
  if (status == 0 || c->state_error || (status == AC_ECANCELED && c->hard)) return;
  c->state_error = 1;
  if (c->state_why == NULL) {
    ac_store_stats_t st;
    ac_store_stats(store, &st);
    c->state_why = ac__strdup(st.last_error[0] != '\0' ? st.last_error : ac_strerror(status));
  }
}

int ac__state_mark(ac_crawl_t *c, const ac__creq_t *r, char status) {
  size_t cap, n = 0;
  char *doc;
  int rc;
  /* A done request is never loaded again: its status is all it needs. */
  if (status == 'd')
    return ac_store_put(c->state, r->key, "{\"s\":\"d\"}", 9, on_state_ack, c);
  cap = 6 * (strlen(r->fetch) + strlen(r->meta)) + 96;
  doc = ac__malloc(cap);
  if (doc == NULL) return AC_ENOMEM;
  memcpy(doc, "{\"u\":", 5);
  n = 5;
  n += put_json_string(doc + n, r->fetch);
  n += (size_t)snprintf(doc + n, cap - n, ",\"c\":%d,\"p\":%d,\"m\":", r->pub.callback,
                        r->pub.priority);
  n += put_json_string(doc + n, r->meta);
  n += (size_t)snprintf(doc + n, cap - n, ",\"s\":\"%c\"}", status);
  rc = ac_store_put(c->state, r->key, doc, n, on_state_ack, c);
  ac__free(doc);
  return rc;
}

int ac__state_expected(ac_crawl_t *c, uint64_t expected) {
  char doc[64];
  int n = snprintf(doc, sizeof(doc), "{\"s\":\"m\",\"n\":%llu}", (unsigned long long)expected);
  return ac_store_put(c->state, EXPECTED_KEY, doc, (size_t)n, on_state_ack, c);
}

/* ----------------------------------------------------------- reading */

typedef struct load_job {
  ac_crawl_t *crawl;
  const char *path;
  int rc;
  char msg[256];
  /* pass 1 */
  uint64_t done;
  uint64_t expected;
  /* pass 2: one page of pending rows */
  int64_t after_rowid;
  size_t n;
  char *keys[LOAD_PAGE];
  char *docs[LOAD_PAGE];
} load_job_t;

/* Open the state read-only and prepare sql. Returns 0, 1 when there is
 * nothing to read (no state file, or one without the table: a crawl killed
 * before its first write), -1 with j->rc and j->msg set. */
static int open_query(load_job_t *j, const char *sql, sqlite3 **db, sqlite3_stmt **st) {
  if (access(j->path, F_OK) != 0) return 1;
  if (sqlite3_open_v2(j->path, db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) goto fail;
  sqlite3_busy_timeout(*db, 5000);
  if (sqlite3_prepare_v2(*db, sql, -1, st, NULL) == SQLITE_OK) return 0;
  if (strstr(sqlite3_errmsg(*db), "no such table") != NULL) return 1;
fail:
  snprintf(j->msg, sizeof(j->msg), "%s", *db ? sqlite3_errmsg(*db) : "cannot open");
  j->rc = AC_ESTORE;
  return -1;
}

/* Runs on a worker thread while the loop waits for it: nothing else touches
 * the dedup set before the crawl starts, so the thread may fill it. */
static void load_done(void *arg) {
  load_job_t *j = arg;
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  int rc;
  if (open_query(j,
                 "SELECT key, json_extract(doc,'$.s'), json_extract(doc,'$.n') "
                 "FROM requests WHERE json_extract(doc,'$.s') IN ('d','m')",
                 &db, &st) != 0)
    goto out;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    const char *s = (const char *)sqlite3_column_text(st, 1);
    if (s != NULL && s[0] == 'm') {
      j->expected = (uint64_t)sqlite3_column_int64(st, 2);
      continue;
    }
    if (ac__seen_add(&j->crawl->seen, (const char *)sqlite3_column_text(st, 0)) < 0) {
      j->rc = AC_ENOMEM;
      goto out;
    }
    j->done++;
  }
  if (rc != SQLITE_DONE) {
    snprintf(j->msg, sizeof(j->msg), "%s", sqlite3_errmsg(db));
    j->rc = AC_ESTORE;
  }
out:
  sqlite3_finalize(st);
  sqlite3_close(db);
}

int ac__state_load(ac_crawl_t *c) {
  load_job_t *j = ac__calloc(1, sizeof(*j));
  int rc;
  if (j == NULL) return AC_ENOMEM;
  j->crawl = c;
  j->path = c->state_path;
  rc = ac_run_in_thread(load_done, j);
  if (rc == 0) rc = j->rc;
  if (rc == 0) {
    c->st.resumed_done = j->done;
    if (j->expected > 0) c->st.expected = j->expected;
  } else if (rc == AC_ESTORE) {
    fprintf(c->out, "cannot read the crawl state %s: %s\n", c->state_path, j->msg);
  }
  ac__free(j);
  return rc;
}

static void load_page(void *arg) {
  load_job_t *j = arg;
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  int rc;
  j->n = 0;
  if (open_query(j,
                 "SELECT rowid, key, doc FROM requests WHERE rowid > ? AND "
                 "json_extract(doc,'$.s') IN ('p','f') ORDER BY rowid LIMIT ?",
                 &db, &st) != 0)
    goto out;
  sqlite3_bind_int64(st, 1, j->after_rowid);
  sqlite3_bind_int(st, 2, LOAD_PAGE);
  while ((rc = sqlite3_step(st)) == SQLITE_ROW && j->n < LOAD_PAGE) {
    j->after_rowid = sqlite3_column_int64(st, 0);
    j->keys[j->n] = ac__strdup((const char *)sqlite3_column_text(st, 1));
    j->docs[j->n] = ac__strdup((const char *)sqlite3_column_text(st, 2));
    if (j->keys[j->n] == NULL || j->docs[j->n] == NULL) {
      ac__free(j->keys[j->n]);
      ac__free(j->docs[j->n]);
      j->rc = AC_ENOMEM;
      goto out;
    }
    j->n++;
  }
  if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
    snprintf(j->msg, sizeof(j->msg), "%s", sqlite3_errmsg(db));
    j->rc = AC_ESTORE;
  }
out:
  sqlite3_finalize(st);
  sqlite3_close(db);
}

/* Feeds pending and failed requests of the previous run back, a page at a
 * time, so that resuming a huge crawl does not load its whole state. */
int ac__state_loader(ac_crawl_t *c, void *arg) {
  load_job_t *j = ac__calloc(1, sizeof(*j));
  int rc = 0;
  (void)arg;
  if (j == NULL) return AC_ENOMEM;
  j->crawl = c;
  j->path = c->state_path;
  for (;;) {
    size_t i;
    rc = ac_run_in_thread(load_page, j);
    if (rc == 0) rc = j->rc;
    for (i = 0; i < j->n; i++) {
      if (rc == 0 && ac__seen_add(&c->seen, j->keys[i]) == 1) {
        cJSON *d = cJSON_Parse(j->docs[i]);
        const cJSON *u = cJSON_GetObjectItemCaseSensitive(d, "u");
        const cJSON *cb = cJSON_GetObjectItemCaseSensitive(d, "c");
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(d, "p");
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(d, "m");
        if (cJSON_IsString(u) && cJSON_IsNumber(cb) && cJSON_IsNumber(p)) {
          int r = ac__crawl_requeue(c, u->valuestring, cb->valueint, p->valueint,
                                    cJSON_IsString(m) ? m->valuestring : "");
          if (r < 0) rc = r;
        }
        cJSON_Delete(d);
      }
      ac__free(j->keys[i]);
      ac__free(j->docs[i]);
    }
    if (rc != 0 || j->n < LOAD_PAGE) break;
  }
  if (rc == AC_ESTORE) {
    fprintf(c->out, "cannot read the crawl state %s: %s\n", c->state_path, j->msg);
    c->state_error = 1;
  }
  ac__free(j);
  return rc == AC_ESTORE ? AC_ECANCELED : rc; /* reported as a state error, not a start error */
}
