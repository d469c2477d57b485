/*
 * acrawl stores: where crawled items go.
 *
 * A store is opened from a URI:
 *   sqlite:PATH[?OPTIONS]       SQLite file (WAL), one row per key, upserted:
 *                               table `<collection>`(key TEXT PRIMARY KEY,
 *                               doc TEXT NOT NULL) where doc is the item's
 *                               JSON exactly as given. The embedded default.
 *                               OPTIONS: name=value pairs joined by '&':
 *                                 keep_wal=1  close without folding the
 *                                   write-ahead log back into the file: the
 *                                   close writes and syncs nothing, and the
 *                                   -wal and -shm files stay beside the
 *                                   database, which SQLite (any reader, any
 *                                   later open) reads as part of it.
 *                                   Committed batches are as safe as before
 *                                   the close: a crash of the process loses
 *                                   none, a power loss may take the last
 *                                   ones back, never corrupt. For files only
 *                                   SQLite reads back (the crawl state, 5-15
 *                                   ms off every crawl's end); keep_wal=0,
 *                                   the default, for a file that people copy
 *                                   or open read-only alone.
 *                               An unknown option, one without '=' or a
 *                               value other than 0 or 1 is AC_EINVAL, named
 *                               in the message. The first '?' ends PATH: a
 *                               '?' of the file's name is written %3F, and
 *                               a '%' may be written %25 (it must be where
 *                               "%3F" or "%25" is part of the name: a file
 *                               named a%3Fb is sqlite:a%253Fb); every other
 *                               '%' is taken as it is. So PATH is never
 *                               percent-decoded beyond these two.
 *   jsonl:PATH, jsonl:-         JSON Lines, one document per line (- is
 *                               stdout). Without `resume` the file is
 *                               truncated at open; with it, the keys already
 *                               in the file are read back and never written
 *                               twice, and a torn last line is cut off.
 *                               PATH is taken as written ('?' and '%'
 *                               included: JSON Lines takes no options).
 *                               A PATH that is not a regular file
 *                               (/dev/null, a FIFO) is written like stdout:
 *                               no truncation, no sync, nothing to resume.
 *                               A write to stdout or such a stream that
 *                               fails is permanent (part of a line may be
 *                               out): its items and every later one are
 *                               refused with that error, never retried. A
 *                               reader that went away is "jsonl:-: the
 *                               reader closed stdout (EPIPE)"; SIGPIPE is
 *                               kept from killing the process whatever its
 *                               disposition.
 *   mongodb://HOST[:PORT][,...]/DB.COLLECTION[?options]
 *                               MongoDB through libmongoc: unordered bulk
 *                               upserts keyed by the document's key field, a
 *                               unique index on it made at open. The JSON is
 *                               data, never read as Extended JSON. libmongoc
 *                               lives in a module, acrawl-mongo.so, loaded at
 *                               the first such open (from $ACRAWL_MODULE_DIR if
 *                               set, else beside the program or where `make
 *                               install` put it): programs that use no MongoDB
 *                               store never load libmongoc.
 *
 * An item is a JSON object (the bytes are stored as given where the store
 * keeps text) and a key: the text of its key field's value (for the book
 * site, the `id`). Two exceptions, both keeping every value: a leading UTF-8
 * byte order mark is not part of the JSON text and no store keeps it; and
 * JSON Lines writes a document holding CR or LF (pretty-printed JSON) without
 * the whitespace between its tokens, so that it is one line (strings are
 * kept byte for byte). Stores upsert by key: putting a key again replaces its
 * document, so a re-crawl leaves one document per key.
 *
 * Writes never block the loop. ac_store_put hands the item to a bounded
 * queue and returns; a writer task takes what has queued (up to batch_max
 * items) and writes it as one batch on a worker thread (one transaction in
 * SQLite, one write in JSON Lines, one unordered bulk in MongoDB), then
 * acknowledges each item of the batch. When the queue is full, put waits
 * (backpressure: a store that falls behind slows the crawl). A batch that
 * fails with a transient error is kept and retried with backoff until it
 * succeeds or the store is closed with ac_store_abort: nothing is dropped,
 * and since writes are upserts a retried batch doubles nothing. Transient:
 * the MongoDB server away, SQLite busy or locked, and a full disk or quota
 * under a SQLite or JSON Lines file (ENOSPC, EDQUOT, SQLITE_FULL): the
 * writes pause until there is room again. A batch that fails permanently
 * (a document the backend cannot take, other I/O errors, any failed write
 * to stdout or another stream) is written again one item at a time, so
 * only the items the backend refuses are acknowledged with the error.
 *
 * Durability, per backend: SQLite commits each batch (WAL, synchronous=
 * NORMAL: it survives a crash of the process; a power loss may lose the
 * last batches, never corrupt the file); JSON Lines fdatasync()s each batch
 * (stdout and other streams are only written); MongoDB acknowledges with its write concern.
 * JSON Lines cannot upsert: the first document written for a key stays, a
 * later one with the same key is skipped (counted in `skipped`).
 *
 * MongoDB takes the key field's value, with its type, from the document
 * itself; SQLite and JSON Lines use the key text.
 *
 * Errors: AC_EINVAL (bad URI: unknown scheme, missing path, bad MongoDB
 * database.collection, a sqlite: option unknown or with a bad value; a key
 * or document that is empty), AC_ESTORE (the
 * backend refused: cannot open the file, the MongoDB module not found or
 * not loadable, MongoDB unreachable at open, a
 * document MongoDB cannot take, a JSON Lines document with a raw CR or LF
 * inside a string, which is not JSON), AC_ECLOSED (put after close began), AC_EPERM (a call that would
 * wait on the store's writer, made from an ack callback), AC_ENOMEM. The
 * detail goes to an optional ac_store_error_t (open) or to
 * ac_store_stats().last_error (writes).
 *
 * Everything here runs on the loop's thread, from tasks where marked AWAITS.
 */
#ifndef ACRAWL_STORE_H
#define ACRAWL_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "acrawl/export.h"
#include "acrawl/runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ac_store ac_store_t;

/** The detail of a failure: the AC_E* code and a message naming the store
 * and the cause (never empty after a failure). */
typedef struct ac_store_error {
  int code;
  char message[512];
} ac_store_error_t;

typedef struct ac_store_opts {
  /** The table (SQLite) or collection name where the URI does not give one;
   * NULL gives "items". Copied. SQLite refuses a name holding '"'. */
  const char *collection;
  /** The document's top-level field that keys it (MongoDB's upsert filter
   * and unique index); NULL gives "id". Copied. */
  const char *key_field;
  /** Items queued before put waits; 0 gives 4,096. */
  size_t queue_cap;
  /** The most items in one batch; 0 gives 512; never more than queue_cap. */
  size_t batch_max;
  /** Continue a previous run (JSON Lines: keep the file and its keys). */
  int resume;
  /** Backoff between retries of a failed batch: starts at retry_min_ms
   * (0 gives 100), doubles up to retry_max_ms (0 gives 5,000). */
  uint64_t retry_min_ms;
  uint64_t retry_max_ms;
  /** MongoDB: give up opening after this long (0 gives 5,000 ms). */
  uint64_t connect_timeout_ms;
  /* A backend's own settings are options of its URI, not fields here
   * (sqlite:PATH?keep_wal=1, mongodb://...?w=majority). */
} ac_store_opts_t;

/** Fill opts with the defaults above. */
AC_EXTERN void ac_store_opts_init(ac_store_opts_t *opts);

/**
 * AWAITS. Open a store from a URI (see the top of this file); opts may be
 * NULL. The backend is opened on a worker thread (creating the file and the
 * table, or connecting to MongoDB and making the index), so the loop never
 * blocks. Returns 0 and sets *out, or AC_EINVAL, AC_ESTORE, AC_ENOMEM,
 * AC_ENOTASK (outside a task), AC_ECANCELED; err gets the detail.
 */
AC_EXTERN int ac_store_open(ac_loop_t *loop, const char *uri, const ac_store_opts_t *opts,
                            ac_store_t **out, ac_store_error_t *err);

/**
 * Called once per item that put accepted, on the loop (never inside put),
 * when the item is durable in the store (status 0), when the backend refused
 * it for good (AC_ESTORE and the like; the message is in the stats'
 * last_error), or when the store was aborted before it could be written
 * (AC_ECANCELED). Items are acknowledged in put order. The callback runs in
 * the store's writer task: it must not await, and ac_store_put, flush and
 * close called from it return AC_EPERM (abort does nothing there).
 */
typedef void (*ac_store_ack_cb)(ac_store_t *store, int status, void *userdata);

/**
 * AWAITS while the queue is full. Hand an item over: key (NUL-terminated)
 * and doc (len bytes of JSON text, an object; a leading byte order mark is
 * dropped) are copied. cb may be NULL.
 * Returns 0 (accepted: cb will fire), AC_EINVAL, AC_ECLOSED, AC_ENOMEM,
 * AC_ECANCELED / AC_ETIMEDOUT (the waiting task was cancelled or its timeout
 * scope expired; not accepted), AC_ENOTASK, AC_EPERM (from an ack callback).
 * A put already waiting for room when close begins is still accepted (and
 * written by that close); after an abort it gets AC_ECLOSED.
 */
AC_EXTERN int ac_store_put(ac_store_t *store, const char *key, const void *doc, size_t len,
                           ac_store_ack_cb cb, void *userdata);

/** AWAITS until every item put before this call is acknowledged (durable,
 * or refused by the backend). Returns 0, AC_ECANCELED (the waiting task was
 * cancelled, the writes go on; or the store was aborted before some of
 * those items were written), AC_ETIMEDOUT, AC_ENOTASK, AC_EPERM. */
AC_EXTERN int ac_store_flush(ac_store_t *store);

/**
 * AWAITS. Flush, close the backend and free the store. Returns 0 or the
 * AC_E* code of a close that failed (the store is freed anyway). NULL is a
 * no-op. A store that keeps failing transiently keeps this call waiting
 * (nothing is dropped) until ac_store_abort is called from another task;
 * then it returns AC_ECANCELED. If the closing task is cancelled (or its
 * timeout scope expires) while it waits, the close turns into an abort that
 * finishes on its own (the rest is acknowledged AC_ECANCELED, the store is
 * freed) and AC_ECANCELED / AC_ETIMEDOUT is returned at once. AC_ECLOSED if
 * another task is already closing it; AC_ENOTASK; AC_EPERM from an ack
 * callback.
 *
 * A store must be closed (or aborted) before its loop ends. If its writer
 * is cancelled from outside first (ac_loop_cancel_all, ac_run's cleanup),
 * the queued items are acknowledged AC_ECANCELED and the backend is closed
 * right away; ac_store_close then only frees the handle.
 */
AC_EXTERN int ac_store_close(ac_store_t *store);

/**
 * AWAITS. Stop retrying: queued and failing items are acknowledged with
 * AC_ECANCELED (a batch already on a worker thread finishes first, and is
 * acknowledged as it went), the backend is closed and the store freed. For
 * a second Ctrl-C, or a store that never comes back. NULL is a no-op.
 * Called while another task is inside ac_store_close, it returns at once
 * and that close finishes the job (and returns AC_ECANCELED).
 */
AC_EXTERN void ac_store_abort(ac_store_t *store);

/** The URI the store was opened with (owned by the store). */
AC_EXTERN const char *ac_store_uri(const ac_store_t *store);

/**
 * The file a store URI names, as its backend opens it: the path of a
 * sqlite: URI without its options and with %3F and %25 decoded, or the path
 * of a jsonl: URI as written. For a program that keeps files beside a
 * store's (acrawl books puts its crawl state at PATH.state). 0 and *path
 * (free it with ac_free); AC_ENOENT for a URI that names no file (jsonl:-,
 * mongodb://); AC_EINVAL for a URI no backend takes or without a path;
 * AC_ENOMEM. Nothing is opened or checked on disk.
 */
AC_EXTERN int ac_store_uri_file(const char *uri, char **path);

typedef struct ac_store_stats {
  uint64_t put;       /* items accepted by ac_store_put */
  uint64_t written;   /* items acknowledged durable (skipped ones included) */
  uint64_t skipped;   /* JSON Lines: keys already in the file, not written again */
  uint64_t batches;   /* batches written */
  uint64_t retries;   /* batch attempts that failed and were retried */
  uint64_t bytes;     /* document bytes acknowledged durable */
  size_t queued;      /* items accepted and not yet acknowledged (<= queue_cap) */
  size_t queue_cap;
  int failing;        /* 1 while the last batch attempt failed */
  char last_error[256]; /* the last batch error ("" if none) */
} ac_store_stats_t;
AC_EXTERN void ac_store_stats(const ac_store_t *store, ac_store_stats_t *stats);

/* ------------------------------------------------------ reading back */

/*
 * A reader hands back every document of a collection, a page at a time,
 * read on a worker thread while the loop goes on: for a program that reads
 * back what it stored (the crawl engine's --resume state), without knowing
 * how the backend keeps it.
 *
 * Backends: sqlite: reads, through a read-only connection of its own (the
 * URI's options are judged as at open; keep_wal, which only matters to a
 * close that wrote, is taken and ignored). The order is the table's rowid
 * order, which is the order the keys were first written. jsonl: and
 * mongodb:// stores cannot be read back: AC_ENOSYS.
 *
 * A store may write the same collection while a reader reads it (the crawl
 * state does, through a store open on the same URI): each page is read on
 * its own, as the collection is then. A key present from the reader's open
 * to the end is read once, with its document as of the page that read it;
 * a key first written meanwhile may or may not be read.
 */
typedef struct ac_store_reader ac_store_reader_t;

/** A document read back: the key and the document's bytes as stored, each
 * followed by a NUL (a document is never cut at a NUL inside: len counts
 * its bytes). Owned by the reader. */
typedef struct ac_store_doc {
  const char *key;
  const char *doc;
  size_t len;
} ac_store_doc_t;

/**
 * AWAITS. Open a reader over a store URI's collection: opts->collection
 * (NULL opts or collection gives "items"; the other fields are ignored).
 * Nothing is created. Returns 0 and sets *out, or:
 *   AC_ENOENT   nothing to read: no such file, or no such collection in it
 *               (nothing was ever written there; the message says which).
 *               Callers for whom that is an empty collection take it so.
 *   AC_ENOSYS   the URI's backend cannot read back (jsonl:, mongodb://).
 *   AC_EINVAL   a bad URI or option (as ac_store_open), an empty
 *               collection name or one SQLite refuses.
 *   AC_ESTORE   the backend cannot read it: not a SQLite file, no
 *               permission, a lock held past 5 s.
 *   AC_ENOMEM, AC_ENOTASK (outside a task), AC_ECANCELED / AC_ETIMEDOUT
 *   (the task was interrupted before the open ran: nothing is open).
 * err (optional) gets the code and a message naming the URI and the cause.
 */
AC_EXTERN int ac_store_reader_open(const char *uri, const ac_store_opts_t *opts,
                                   ac_store_reader_t **out, ac_store_error_t *err);

/**
 * AWAITS. Read the next page: up to max documents (0 gives 512) after the
 * last one read, into *docs (an array of *n, owned by the reader, valid
 * until the next ac_store_read or ac_store_reader_close). A page shorter
 * than max is the last one: the end was reached (*n may then be 0; a read
 * after it returns what was written since, if anything). Returns 0, or:
 *   AC_ESTORE   the backend failed to read (the message in err says why):
 *               nothing is handed out, and a read again starts at the same
 *               place (a lock that went away, say).
 *   AC_ENOMEM   the same, for want of memory.
 *   AC_EBUSY    another task is reading with (or closing) this reader.
 *   AC_ECANCELED / AC_ETIMEDOUT  the task was interrupted before the page
 *               was read: nothing was read, the next read starts there.
 *   AC_EINVAL (NULL arguments), AC_ENOTASK.
 */
AC_EXTERN int ac_store_read(ac_store_reader_t *reader, size_t max, const ac_store_doc_t **docs,
                            size_t *n, ac_store_error_t *err);

/**
 * AWAITS inside a task (the backend closes on a worker thread; outside a
 * task, on the calling thread). Close the reader and free it: every page
 * it handed out goes with it. NULL is a no-op. Returns 0, or AC_EBUSY
 * (another task is inside ac_store_read with it: nothing is closed).
 * Interrupted, it still closes (on the loop's thread) and the task's next
 * await gets the cancellation.
 */
AC_EXTERN int ac_store_reader_close(ac_store_reader_t *reader);

#ifdef __cplusplus
}
#endif
#endif /* ACRAWL_STORE_H */
