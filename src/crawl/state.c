/*
 * The crawl state, for --resume: a SQLite store (the same store layer the
 * items go through: batched, off the loop, retried) holding one record per
 * request, keyed by its dedup key:
 *   {"u": fetch URL, "c": callback, "p": priority, "m": meta, "s": status}
 * and, for a request that is not a GET by URL alone (ac_crawl_request_t),
 * before "s": "x" its method (unless GET), "b" its body and "t" the body's
 * content type (with a body), "h" its headers as [[name, value or null]].
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
 *
 * The state is read back through the store layer too (ac_store_reader_*,
 * store.h), never with SQLite directly: what a request's record says is
 * this file's, how the store keeps it is the store's.
 */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "acrawl/errno.h"
#include "common/alloc.h"
#include "common/dynbuf.h"
#include "crawl/internal.h"

#define EXPECTED_KEY "!expected"
#define LOAD_PAGE 512

/*
 * The state's store: sqlite:PATH?keep_wal=1, with the '?' and '%' of PATH
 * written %3F and %25 (store.h), so that any file name stays one.
 *
 * keep_wal: only acrawl reads the state back, through SQLite: folding the
 * WAL into the file at close (two fsyncs at the end of every
 * crawl) buys nothing. A power loss can still only take the last marks
 * back, as it can during the crawl (synchronous=NORMAL): those requests are
 * fetched again on --resume, and their items upserted, never doubled.
 */
static char *state_uri(const char *path) {
  static const char opts[] = "?keep_wal=1";
  size_t n = strlen(path);
  char *uri, *o;
  if (n > (SIZE_MAX - sizeof(opts) - 7) / 3) return NULL;
  uri = ac__malloc(7 + 3 * n + sizeof(opts));
  if (uri == NULL) return NULL;
  memcpy(uri, "sqlite:", 7);
  o = uri + 7;
  for (const char *p = path; *p; p++) {
    if (*p == '?' || *p == '%') {
      memcpy(o, *p == '?' ? "%3F" : "%25", 3);
      o += 3;
    } else {
      *o++ = *p;
    }
  }
  memcpy(o, opts, sizeof(opts));
  return uri;
}

static void state_opts(ac_store_opts_t *so) {
  ac_store_opts_init(so);
  so->collection = "requests";
  so->key_field = "u";
  so->queue_cap = 8192;
  so->batch_max = 2048;
}

int ac__state_open(ac_crawl_t *c) {
  ac_store_opts_t so;
  ac_store_error_t err;
  char *uri;
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
  uri = state_uri(c->state_path);
  if (uri == NULL) return AC_ENOMEM;
  state_opts(&so);
  rc = ac_store_open(c->loop, uri, &so, &c->state, &err);
  ac__free(uri);
  if (rc != 0) {
    fprintf(c->out, "cannot open the crawl state %s: %s\n", c->state_path, err.message);
    return AC_ESTORE;
  }
  return 0;
}

/* JSON string escaping for the state's own documents. */
static void put_json_string(struct ac__dynbuf *b, const char *s) {
  static const char hex[] = "0123456789abcdef";
  (void)ac__dynbuf_addc(b, '"');
  while (*s) {
    /* A loop, not strcspn: strcspn builds its table of 33 bytes on every
     * call, and a mark is written for every request followed. */
    size_t plain = 0;
    unsigned char ch;
    while ((unsigned char)s[plain] >= 0x20 && s[plain] != '"' && s[plain] != '\\') plain++;
    (void)ac__dynbuf_add(b, s, plain);
    s += plain;
    if (*s == '\0') break;
    ch = (unsigned char)*s++;
    if (ch == '"' || ch == '\\') {
      (void)ac__dynbuf_addc(b, '\\');
      (void)ac__dynbuf_addc(b, (char)ch);
    } else {
      char esc[6] = {'\\', 'u', '0', '0', hex[ch >> 4], hex[ch & 15]};
      (void)ac__dynbuf_add(b, esc, sizeof(esc));
    }
  }
  (void)ac__dynbuf_addc(b, '"');
}

/* An int in decimal. */
static void put_int(struct ac__dynbuf *b, int v) {
  char digits[16];
  size_t n = sizeof(digits);
  unsigned u = v < 0 ? 0u - (unsigned)v : (unsigned)v;
  do digits[--n] = (char)('0' + u % 10);
  while ((u /= 10) != 0);
  if (v < 0) digits[--n] = '-';
  (void)ac__dynbuf_add(b, digits + n, sizeof(digits) - n);
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

void ac__request_record(struct ac__dynbuf *b, const ac__creq_t *r) {
  (void)ac__dynbuf_adds(b, "{\"u\":");
  put_json_string(b, r->fetch);
  /* Not ac__dynbuf_addf: a record is written for every request followed,
   * and formatting two numbers through vsnprintf cost as much as the rest
   * of it. */
  (void)ac__dynbuf_adds(b, ",\"c\":");
  put_int(b, r->pub.callback);
  (void)ac__dynbuf_adds(b, ",\"p\":");
  put_int(b, r->pub.priority);
  (void)ac__dynbuf_adds(b, ",\"m\":");
  put_json_string(b, r->meta);
  /* What a GET by URL does not have, only when the request has it: a plain
   * request's record stays what it always was. */
  if (r->method != NULL) {
    (void)ac__dynbuf_adds(b, ",\"x\":");
    put_json_string(b, r->method);
  }
  if (r->body != NULL) {
    (void)ac__dynbuf_adds(b, ",\"b\":");
    put_json_string(b, r->body);
    (void)ac__dynbuf_adds(b, ",\"t\":");
    put_json_string(b, r->ctype);
  }
  if (r->nheaders > 0) {
    (void)ac__dynbuf_adds(b, ",\"h\":[");
    for (size_t i = 0; i < r->nheaders; i++) {
      (void)ac__dynbuf_adds(b, i > 0 ? ",[" : "[");
      put_json_string(b, r->headers[i].key);
      (void)ac__dynbuf_addc(b, ',');
      if (r->headers[i].value != NULL) put_json_string(b, r->headers[i].value);
      else (void)ac__dynbuf_adds(b, "null");
      (void)ac__dynbuf_addc(b, ']');
    }
    (void)ac__dynbuf_addc(b, ']');
  }
}

int ac__state_mark(ac_crawl_t *c, const ac__creq_t *r, char status) {
  struct ac__dynbuf b;
  int rc;
  /* A done request is never loaded again: its status is all it needs. */
  if (status == 'd')
    return ac_store_put(c->state, r->key, "{\"s\":\"d\"}", 9, on_state_ack, c);
  ac__dynbuf_init(&b, SIZE_MAX / 2);
  ac__request_record(&b, r);
  /* Last, for record_status. */
  (void)ac__dynbuf_adds(&b, ",\"s\":\"");
  (void)ac__dynbuf_addc(&b, status);
  (void)ac__dynbuf_adds(&b, "\"}");
  rc = ac__dynbuf_err(&b);
  if (rc == 0)
    rc = ac_store_put(c->state, r->key, ac__dynbuf_ptr(&b), ac__dynbuf_len(&b), on_state_ack, c);
  ac__dynbuf_free(&b);
  return rc;
}

int ac__state_expected(ac_crawl_t *c, uint64_t expected) {
  char doc[64];
  int n = snprintf(doc, sizeof(doc), "{\"s\":\"m\",\"n\":%llu}", (unsigned long long)expected);
  return ac_store_put(c->state, EXPECTED_KEY, doc, (size_t)n, on_state_ack, c);
}

/* ----------------------------------------------------------- reading */

/*
 * The status of a record: 'd', 'p', 'f' or 'm' ("!expected", whose count
 * goes to *expected when asked), 0 for a record without one. The records
 * this file writes are recognized without parsing: a done mark is exactly
 * {"s":"d"}, and the others end with ,"s":"X"} (the last member; a '"'
 * inside a string is escaped, so in JSON these bytes can only be that
 * member). Anything else, the expected count included, is parsed.
 */
static char record_status(const ac_store_doc_t *d, uint64_t *expected) {
  const char *doc = d->doc;
  size_t len = d->len;
  cJSON *j;
  const cJSON *s, *n;
  char st = 0;
  if (len == 9 && memcmp(doc, "{\"s\":\"d\"}", 9) == 0) return 'd';
  if (len >= 10 && memcmp(doc + len - 9, ",\"s\":\"", 6) == 0 && doc[len - 2] == '"' &&
      doc[len - 1] == '}' && (doc[len - 3] == 'p' || doc[len - 3] == 'f'))
    return doc[len - 3];
  j = cJSON_Parse(doc);
  s = cJSON_GetObjectItemCaseSensitive(j, "s");
  if (cJSON_IsString(s) && s->valuestring[0] != '\0' && s->valuestring[1] == '\0')
    st = s->valuestring[0];
  n = cJSON_GetObjectItemCaseSensitive(j, "n");
  if (st == 'm' && expected != NULL && cJSON_IsNumber(n) && n->valuedouble > 0)
    *expected = (uint64_t)n->valuedouble;
  cJSON_Delete(j);
  return st;
}

/* The state's reader, or NULL with *rc: 0 when there is nothing to read
 * (no state file, or one without the table: a crawl killed before its
 * first write), else the error. */
static ac_store_reader_t *open_reader(ac_crawl_t *c, int *rc, ac_store_error_t *err) {
  ac_store_reader_t *rd = NULL;
  ac_store_opts_t so;
  char *uri = state_uri(c->state_path);
  if (uri == NULL) {
    *rc = AC_ENOMEM;
    return NULL;
  }
  state_opts(&so);
  *rc = ac_store_reader_open(uri, &so, &rd, err);
  ac__free(uri);
  if (*rc == AC_ENOENT) *rc = 0;
  return rd;
}

/* A failed read, said as the crawl state's: AC_ESTORE, or the task's own
 * interruption and AC_ENOMEM as they are (unsaid, as before). */
static int read_failed(ac_crawl_t *c, int rc, const ac_store_error_t *err) {
  if (rc == AC_ENOMEM || rc == AC_ECANCELED || rc == AC_ETIMEDOUT) return rc;
  fprintf(c->out, "cannot read the crawl state %s: %s\n", c->state_path,
          err->message[0] != '\0' ? err->message : ac_strerror(rc));
  return AC_ESTORE;
}

/* Before anything runs: the done keys into seen, a page at a time, and the
 * expected count. */
int ac__state_load(ac_crawl_t *c) {
  ac_store_error_t err;
  const ac_store_doc_t *docs;
  uint64_t done = 0, expected = 0;
  size_t n = 0;
  int rc;
  ac_store_reader_t *rd = open_reader(c, &rc, &err);
  if (rd == NULL) return rc == 0 ? 0 : read_failed(c, rc, &err);
  do {
    rc = ac_store_read(rd, LOAD_PAGE, &docs, &n, &err);
    for (size_t i = 0; rc == 0 && i < n; i++) {
      char st = record_status(&docs[i], &expected);
      if (st != 'd') continue;
      if (ac__seen_add(&c->seen, docs[i].key) < 0) rc = AC_ENOMEM;
      done++;
    }
  } while (rc == 0 && n == LOAD_PAGE);
  (void)ac_store_reader_close(rd);
  if (rc != 0) return read_failed(c, rc, &err);
  c->st.resumed_done = done;
  if (expected > 0) c->st.expected = expected;
  return 0;
}

int ac__request_from_record(const cJSON *d, ac_crawl_request_t *req, ac_http_kv_t **kv) {
  const cJSON *u = cJSON_GetObjectItemCaseSensitive(d, "u");
  const cJSON *cb = cJSON_GetObjectItemCaseSensitive(d, "c");
  const cJSON *p = cJSON_GetObjectItemCaseSensitive(d, "p");
  const cJSON *m = cJSON_GetObjectItemCaseSensitive(d, "m");
  const cJSON *x = cJSON_GetObjectItemCaseSensitive(d, "x");
  const cJSON *b = cJSON_GetObjectItemCaseSensitive(d, "b");
  const cJSON *t = cJSON_GetObjectItemCaseSensitive(d, "t");
  const cJSON *h = cJSON_GetObjectItemCaseSensitive(d, "h"), *e;
  *kv = NULL;
  if (!cJSON_IsString(u) || !cJSON_IsNumber(cb) || !cJSON_IsNumber(p)) return 0;
  memset(req, 0, sizeof(*req));
  req->url = u->valuestring;
  req->callback = cb->valueint;
  req->priority = p->valueint;
  req->meta = cJSON_IsString(m) ? m->valuestring : "";
  req->method = cJSON_IsString(x) ? x->valuestring : NULL;
  req->body = cJSON_IsString(b) ? b->valuestring : NULL;
  req->content_type = cJSON_IsString(t) ? t->valuestring : NULL;
  if (cJSON_IsArray(h) && cJSON_GetArraySize(h) > 0) {
    *kv = ac__calloc((size_t)cJSON_GetArraySize(h), sizeof(**kv));
    if (*kv == NULL) return AC_ENOMEM;
    cJSON_ArrayForEach(e, h) {
      const cJSON *name = cJSON_GetArrayItem(e, 0), *value = cJSON_GetArrayItem(e, 1);
      if (!cJSON_IsString(name) || !(cJSON_IsString(value) || cJSON_IsNull(value))) continue;
      (*kv)[req->nheaders].key = name->valuestring;
      (*kv)[req->nheaders].value = cJSON_IsString(value) ? value->valuestring : NULL;
      req->nheaders++;
    }
    req->headers = *kv;
  }
  return 1;
}

/* A pending or failed record back into the frontier, as it was followed.
 * A record this file did not write (no URL) is skipped; records written
 * before requests had methods have no "x", "b", "t" or "h": plain GETs. */
static int requeue_record(ac_crawl_t *c, const cJSON *d) {
  ac_crawl_request_t req;
  ac_http_kv_t *kv;
  int rc = ac__request_from_record(d, &req, &kv);
  if (rc <= 0) return rc;
  rc = ac__crawl_requeue(c, &req);
  ac__free(kv);
  return rc;
}

/* Feeds pending and failed requests of the previous run back, a page at a
 * time, so that resuming a huge crawl does not load its whole state. */
int ac__state_loader(ac_crawl_t *c, void *arg) {
  ac_store_error_t err;
  const ac_store_doc_t *docs;
  size_t n = 0;
  int rc;
  ac_store_reader_t *rd = open_reader(c, &rc, &err);
  (void)arg;
  if (rd != NULL) {
    do {
      rc = ac_store_read(rd, LOAD_PAGE, &docs, &n, &err);
      if (rc != 0) {
        rc = read_failed(c, rc, &err);
        break;
      }
      for (size_t i = 0; rc == 0 && i < n; i++) {
        char st = record_status(&docs[i], NULL);
        int fresh;
        if (st != 'p' && st != 'f') continue;
        fresh = ac__seen_add(&c->seen, docs[i].key);
        if (fresh < 0) rc = AC_ENOMEM;
        if (fresh == 1) {
          cJSON *d = cJSON_Parse(docs[i].doc);
          int r = requeue_record(c, d);
          if (r < 0) rc = r;
          cJSON_Delete(d);
        }
      }
    } while (rc == 0 && n == LOAD_PAGE);
    (void)ac_store_reader_close(rd);
  } else if (rc != 0) {
    rc = read_failed(c, rc, &err);
  }
  if (rc == AC_ESTORE) c->state_error = 1;
  return rc == AC_ESTORE ? AC_ECANCELED : rc; /* reported as a state error, not a start error */
}
