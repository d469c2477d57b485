/*
 * jsonl:PATH and jsonl:- (stdout): one document per line, appended.
 *
 * A file cannot upsert, so the store remembers every key it holds and never
 * writes one twice: the first document for a key wins. With resume, the keys
 * already in the file are read back at open (each line parsed with cJSON, the
 * key field's value as text) and a torn last line, left by a crash in the
 * middle of a write, is cut off. A batch is one write() then fdatasync(); if
 * either fails the file is truncated back to where the batch began, so a
 * retried batch doubles nothing.
 *
 * A path that is not a regular file (/dev/null, /dev/stdout, a FIFO) is a
 * stream, like stdout: it cannot seek, be cut or be synced, so it is only
 * written, and --resume has nothing to read back from it.
 *
 * A stream that failed once is not written again: part of a line may be
 * out, and whatever followed would be glued to it. A reader that went away
 * (`jsonl:- | head`) is such a failure, EPIPE, said as such; the stream is
 * written with SIGPIPE blocked in the worker thread so that the process
 * sees EPIPE instead of dying, whatever the program does with SIGPIPE.
 *
 * JSON allows CR and LF wherever it allows whitespace, so a pretty-printed
 * document is valid JSON and still must be one line: a document holding CR
 * or LF is written without the whitespace between its tokens (strings byte
 * for byte); the others, nearly all, are copied as they are.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "acrawl/errno.h"
#include "common/alloc.h"
#include "store/internal.h"
#include "store/keyset.h"

/* A longer line at resume is not one of ours: refuse rather than grow. */
#define MAX_LINE (256u << 20)
#define READ_CHUNK (64u << 10)

struct jsonl {
  int fd;        /* -1 for stdout */
  int stream;    /* not a regular file: no seek, cut or sync */
  int broken;    /* a stream whose write failed: never written again */
  char *uri;
  char *path;
  char *broken_msg; /* why, for every later batch */
  struct keyset keys;
  char *buf;     /* the batch being written, reused */
  size_t cap;
  size_t *added; /* indexes of the batch's docs whose keys were added */
  size_t added_cap;
};

static int grow(void **p, size_t *cap, size_t need, size_t elem) {
  size_t c = *cap ? *cap : 4096 / elem;
  void *np;
  if (need <= *cap) return 0;
  while (c < need) {
    if (c > SIZE_MAX / 2 / elem) return AC_ENOMEM;
    c *= 2;
  }
  np = ac__realloc(*p, c * elem);
  if (np == NULL) return AC_ENOMEM;
  *p = np;
  *cap = c;
  return 0;
}

/* The key of one line of the file: its key field's value as text. */
static int line_key(struct jsonl *j, const char *line, size_t len, const char *key_field,
                    unsigned long lineno, char *err, size_t errlen) {
  cJSON *doc = cJSON_ParseWithLength(line, len);
  const cJSON *v;
  char num[64];
  const char *key = NULL;
  int rc = 0;

  if (doc == NULL || !cJSON_IsObject(doc)) {
    snprintf(err, errlen, "cannot resume \"%s\": line %lu is not a JSON object", j->path,
             lineno);
    cJSON_Delete(doc);
    return AC_ESTORE;
  }
  v = cJSON_GetObjectItemCaseSensitive(doc, key_field);
  if (cJSON_IsString(v)) {
    key = v->valuestring;
  } else if (cJSON_IsNumber(v)) {
    double d = v->valuedouble;
    /* Integers as integers (what a producer's key text would be). */
    if (d > -9007199254740992.0 && d < 9007199254740992.0 && d == (double)(long long)d)
      snprintf(num, sizeof(num), "%lld", (long long)d);
    else
      snprintf(num, sizeof(num), "%.17g", d);
    key = num;
  }
  if (key == NULL || key[0] == '\0') {
    snprintf(err, errlen, "cannot resume \"%s\": line %lu has no \"%s\" string or number",
             j->path, lineno, key_field);
    rc = AC_ESTORE;
  } else {
    rc = ac__keyset_add(&j->keys, key, strlen(key));
  }
  cJSON_Delete(doc);
  return rc;
}

/* Read the keys back and cut a torn last line. */
static int resume(struct jsonl *j, const char *key_field, char *err, size_t errlen) {
  char *chunk = ac__malloc(READ_CHUNK), *line = NULL;
  size_t llen = 0, lcap = 0;
  off_t pos = 0, good = 0; /* good: just past the last '\n' */
  unsigned long lineno = 0;
  int rc = chunk == NULL ? AC_ENOMEM : 0;

  while (rc == 0) {
    ssize_t got = read(j->fd, chunk, READ_CHUNK);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      snprintf(err, errlen, "cannot read \"%s\": %s", j->path, strerror(errno));
      rc = AC_ESTORE;
    }
    if (got <= 0) break;
    for (ssize_t i = 0; rc == 0 && i < got; i++) {
      const char *nl = memchr(chunk + i, '\n', (size_t)(got - i));
      size_t take = nl ? (size_t)(nl - (chunk + i)) : (size_t)(got - i);
      if (llen + take > MAX_LINE) {
        snprintf(err, errlen, "cannot resume \"%s\": line %lu is over %u bytes", j->path,
                 lineno + 1, MAX_LINE);
        rc = AC_ESTORE;
        break;
      }
      rc = grow((void **)&line, &lcap, llen + take + 1, 1);
      if (rc != 0) break;
      memcpy(line + llen, chunk + i, take);
      llen += take;
      i += (ssize_t)take;
      if (nl == NULL) break;
      lineno++;
      good = pos + i + 1;
      /* Blank lines are kept and carry no key. */
      size_t s = 0;
      while (s < llen && (line[s] == ' ' || line[s] == '\t' || line[s] == '\r')) s++;
      if (s < llen) rc = line_key(j, line, llen, key_field, lineno, err, errlen);
      llen = 0;
    }
    pos += got;
  }
  if (rc == 0 && good < pos && ftruncate(j->fd, good) != 0) {
    snprintf(err, errlen, "cannot cut the torn last line of \"%s\": %s", j->path,
             strerror(errno));
    rc = AC_ESTORE;
  }
  ac__free(chunk);
  ac__free(line);
  return rc;
}

static void jl_free(struct jsonl *j) {
  if (j->fd >= 0) close(j->fd);
  ac__keyset_free(&j->keys);
  ac__free(j->buf);
  ac__free(j->added);
  ac__free(j->uri);
  ac__free(j->path);
  ac__free(j->broken_msg);
  ac__free(j);
}

static int jl_open(const ac__store_target_t *t, void **out, char *err, size_t errlen) {
  struct jsonl *j = ac__calloc(1, sizeof(*j));
  int rc = 0;

  if (j == NULL) return AC_ENOMEM;
  j->fd = -1;
  ac__keyset_init(&j->keys);
  j->path = ac__strdup(strcmp(t->rest, "-") == 0 ? "(stdout)" : t->rest);
  j->uri = ac__strdup(t->uri);
  if (j->path == NULL || j->uri == NULL) rc = AC_ENOMEM;
  if (rc == 0 && strcmp(t->rest, "-") != 0) {
    int flags = O_CREAT | O_APPEND | O_CLOEXEC | (t->resume ? O_RDWR : O_WRONLY | O_TRUNC);
    struct stat st;
    /* Not O_RDWR on a FIFO: it would open without a reader and read back
     * our own lines at resume. */
    if (stat(t->rest, &st) == 0 && !S_ISREG(st.st_mode)) {
      j->stream = 1;
      flags = O_WRONLY | O_APPEND | O_CLOEXEC;
    }
    j->fd = open(t->rest, flags, 0644);
    if (j->fd < 0) {
      snprintf(err, errlen, "cannot open \"%s\": %s", t->rest, strerror(errno));
      rc = AC_ESTORE;
    } else if (t->resume && !j->stream) {
      rc = resume(j, t->key_field, err, errlen);
    }
  }
  if (rc != 0) {
    jl_free(j);
    return rc;
  }
  *out = j;
  return 0;
}

/*
 * doc[0..n) without the whitespace between its tokens, into out (n bytes at
 * least); the length written. A raw CR or LF can only be whitespace in
 * valid JSON: one inside a string (invalid JSON) cannot be taken out without
 * changing the string, so that gives SIZE_MAX and its offset in *bad.
 * A quote ends a string only when it is not escaped, so the byte after a
 * backslash is copied as data (\" inside a string, \\ right before its end).
 */
static size_t one_line(const char *doc, size_t n, char *out, size_t *bad) {
  size_t i = 0, o = 0;
  while (i < n) {
    char c = doc[i++];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') continue;
    out[o++] = c;
    if (c != '"') continue;
    while (i < n) {
      c = doc[i];
      if (c == '\n' || c == '\r') {
        *bad = i;
        return SIZE_MAX;
      }
      out[o++] = c;
      i++;
      if (c == '"') break;
      if (c == '\\' && i < n) {
        if (doc[i] == '\n' || doc[i] == '\r') {
          *bad = i;
          return SIZE_MAX;
        }
        out[o++] = doc[i++];
      }
    }
  }
  return o;
}

static int write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

/* Write a batch to a stream (stdout when fd < 0) with SIGPIPE blocked in
 * this thread: a reader gone gives EPIPE, and the SIGPIPE that came with it
 * is taken off before the mask is put back, so it is never delivered.
 * Returns 0, or -1 with errno set. */
static int stream_write(int fd, const char *p, size_t n) {
  sigset_t pipe_only, old, pending;
  struct timespec zero = {0, 0};
  int rc, e, was_pending;

  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_only, &old);
  /* One already pending is someone else's: leave it. */
  was_pending = sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE);
  if (fd < 0)
    rc = fwrite(p, 1, n, stdout) == n && fflush(stdout) == 0 ? 0 : -1;
  else
    rc = write_all(fd, p, n);
  e = errno;
  if (rc != 0 && e == EPIPE && !was_pending)
    while (sigtimedwait(&pipe_only, NULL, &zero) < 0 && errno == EINTR) {
    }
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  errno = e;
  return rc;
}

static int jl_write(void *be, const ac__store_doc_t *docs, size_t n, uint64_t *skipped,
                    int *transient, char *err, size_t errlen) {
  struct jsonl *j = be;
  size_t len = 0, nadded = 0;
  off_t start = 0;
  int rc = 0;

  if (j->broken) {
    snprintf(err, errlen, "%s", j->broken_msg != NULL ? j->broken_msg : "the stream failed");
    return AC_ESTORE;
  }
  if (grow((void **)&j->added, &j->added_cap, n, sizeof(*j->added)) != 0) rc = AC_ENOMEM;
  for (size_t i = 0; rc == 0 && i < n; i++) {
    const char *doc = docs[i].doc;
    size_t klen = strlen(docs[i].key), dlen = docs[i].len, bad = 0;
    if (ac__keyset_has(&j->keys, docs[i].key, klen)) {
      (*skipped)++; /* in the file already, or earlier in this batch */
      continue;
    }
    rc = grow((void **)&j->buf, &j->cap, len + dlen + 1, 1);
    if (rc != 0) break;
    /* Compact documents, nearly all, cost two memchr and a copy. */
    if (memchr(doc, '\n', dlen) == NULL && memchr(doc, '\r', dlen) == NULL) {
      memcpy(j->buf + len, doc, dlen);
    } else {
      dlen = one_line(doc, dlen, j->buf + len, &bad);
      /* Refuse the whole batch: store.c then writes its items one by one,
       * so only this one is refused. */
      if (dlen == SIZE_MAX || dlen == 0) {
        if (dlen == 0)
          snprintf(err, errlen, "document for key \"%s\" is only whitespace", docs[i].key);
        else
          snprintf(err, errlen,
                   "document for key \"%s\" holds a raw %s inside a string at byte %zu "
                   "(not valid JSON, cannot be one line)",
                   docs[i].key, doc[bad] == '\n' ? "newline" : "carriage return", bad);
        rc = AC_ESTORE;
        break;
      }
    }
    rc = ac__keyset_add(&j->keys, docs[i].key, klen);
    if (rc != 0) break;
    j->added[nadded++] = i;
    len += dlen;
    j->buf[len++] = '\n';
  }
  if (rc == 0 && len > 0) {
    if (j->fd < 0 || j->stream) {
      if (stream_write(j->fd, j->buf, len) != 0) {
        int e = errno;
        if (e == EPIPE)
          snprintf(err, errlen, "%s: the reader closed %s (EPIPE)", j->uri,
                   j->fd < 0 ? "stdout" : "the pipe");
        else if (j->fd < 0)
          snprintf(err, errlen, "writing to stdout: %s", strerror(e));
        else
          snprintf(err, errlen, "writing to \"%s\": %s", j->path, strerror(e));
        /* A partial line may be out: no way back, so no retry (transient
         * stays 0), and nothing more goes there. */
        j->broken = 1;
        j->broken_msg = ac__strdup(err);
        /* What stdio still holds for stdout can never be written either. */
        if (j->fd < 0) __fpurge(stdout);
        rc = AC_ESTORE;
      }
    } else {
      start = lseek(j->fd, 0, SEEK_END);
      if (start < 0 || write_all(j->fd, j->buf, len) != 0 || fdatasync(j->fd) != 0) {
        int e = errno;
        snprintf(err, errlen, "writing to \"%s\": %s", j->path, strerror(e));
        /* Disk full or over quota may pass; other errors will not. */
        *transient = e == ENOSPC || e == EDQUOT || e == EAGAIN;
        if (start >= 0 && ftruncate(j->fd, start) != 0 && *transient) *transient = 0;
        rc = AC_ESTORE;
      }
    }
  } else if (rc == AC_ENOMEM) {
    snprintf(err, errlen, "out of memory for a batch of %zu documents", n);
    *transient = 1;
  }
  if (rc != 0) {
    *skipped = 0;
    for (size_t k = 0; k < nadded; k++) {
      const char *key = docs[j->added[k]].key;
      ac__keyset_remove(&j->keys, key, strlen(key));
    }
  }
  /* Do not keep a buffer grown by a few huge documents. */
  if (j->cap > (16u << 20)) {
    ac__free(j->buf);
    j->buf = NULL;
    j->cap = 0;
  }
  return rc;
}

static int jl_close(void *be, char *err, size_t errlen) {
  struct jsonl *j = be;
  int rc = 0;
  int e = 0;
  if (j->fd < 0) {
    /* A broken stdout said so at each write: nothing to flush. */
    if (!j->broken && fflush(stdout) != 0) e = errno;
  } else {
    if (!j->stream && fdatasync(j->fd) != 0) e = errno;
    if (close(j->fd) != 0 && e == 0) e = errno;
    j->fd = -1;
  }
  if (e != 0) {
    snprintf(err, errlen, "closing \"%s\": %s", j->path, strerror(e));
    rc = AC_ESTORE;
  }
  jl_free(j);
  return rc;
}

static int jl_match(const char *uri) { return strncmp(uri, "jsonl:", 6) == 0; }

/* No reading back (store.h): --resume reads the keys at open, which is all
 * a file that cannot upsert needs. */
const ac__store_backend_t ac__store_jsonl = {"jsonl",  jl_match, jl_open, jl_write,
                                             jl_close, NULL,     NULL,    NULL};
