/*
 * The MongoDB store backend (docs/internals/store-mongo.md): libmongoc on
 * store.c's worker thread, one client per store, one unordered bulk of
 * upserting replace_one per batch, keyed by the document's own key field.
 *
 * Why replace_one and not update_one with $set: the stored document must
 * equal the site's JSON. $set merges, so a field removed upstream would
 * stay in the store forever; a replacement is the new document, whole.
 *
 * Every call here blocks on the network: store.c runs them on a worker
 * thread, one at a time, so the client needs no lock (a mongoc_client_t is
 * not thread-safe, but it may move between threads).
 */
#include <mongoc/mongoc.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acrawl/errno.h"
#include "common/alloc.h"
#include "store/internal.h"
#include "store/json_bson.h"
#include "store/mongo_module.h"

/* MongoDB's document size limit (maxBsonObjectSize on every server). */
#define MONGO_MAX_DOC (16 * 1024 * 1024)
/* A request to a server that stopped answering fails after this long
 * (libmongoc's own default is 5 minutes), unless the URI says otherwise:
 * long enough for a slow bulk of 512 documents, short enough that a hung
 * server turns into a retry, not a stuck store. */
#define MONGO_SOCKET_TIMEOUT_MS 60000

struct mongo_backend {
  mongoc_client_t *client;
  mongoc_collection_t *coll;
  char *key_field;
  char *where;  /* "host:port[,host:port]", for messages */
  char *ns;     /* "db.collection", for messages */
  bson_t doc;   /* reused for every document of a batch */
  bson_t filter;
  bson_t replace_opts;
  bson_t bulk_opts;
};


static pthread_once_t mongoc_once = PTHREAD_ONCE_INIT;
/* libmongoc wants one mongoc_init per process before any client, and its
 * mongoc_cleanup only once no client is left: another store may open later,
 * so it runs at exit. Exit alone is not enough: init makes a shared-memory
 * file of counters (/dev/shm/mongoc-PID) that only mongoc_cleanup removes.
 * Debian's 1.23 also runs it from a destructor, a feature libmongoc
 * deprecates (gone in 2.0), so it is called here as its docs ask; it runs
 * once however often it is called. */
static void mongoc_init_once(void) {
  mongoc_init();
  atexit(mongoc_cleanup);
}

/* The URI for messages: a password never goes into an error or a log. */
static void redact(const char *uri, char *out, size_t outlen) {
  const char *hosts = strstr(uri, "://");
  hosts = hosts ? hosts + 3 : uri;
  size_t span = strcspn(hosts, "/?");
  const char *at = NULL;
  for (const char *c = hosts; c < hosts + span; c++)
    if (*c == '@') at = c;
  if (at == NULL)
    snprintf(out, outlen, "%s", uri);
  else
    snprintf(out, outlen, "%.*s***%s", (int)(hosts - uri), uri, at);
}

static char *dup_n(const char *s, size_t n) {
  char *p = ac__malloc(n + 1);
  if (p == NULL) return NULL;
  memcpy(p, s, n);
  p[n] = '\0';
  return p;
}

/* MongoDB's rules for names (any platform): database names hold none of
 * / \ . space " $ * < > : | ? and are under 64 bytes; collection names are
 * not empty, hold no '$' and do not start with "system.". */
static const char *bad_db_name(const char *db) {
  if (db[0] == '\0') return "the database name is empty";
  if (strlen(db) >= 64) return "the database name is 64 bytes or longer";
  if (strpbrk(db, "/\\. \"$*<>:|?") != NULL)
    return "the database name holds one of / \\ . space \" $ * < > : | ?";
  return NULL;
}

static const char *bad_coll_name(const char *coll) {
  if (coll[0] == '\0') return "the collection name is empty";
  if (strchr(coll, '$') != NULL) return "the collection name holds '$'";
  if (strncmp(coll, "system.", 7) == 0) return "the collection name starts with \"system.\"";
  if (strlen(coll) > 200) return "the collection name is longer than 200 bytes";
  return NULL;
}

/*
 * mongodb://HOSTS/DB.COLLECTION?OPTIONS -> the driver's URI
 * (mongodb://HOSTS/DB?OPTIONS: DB stays the default auth database), DB and
 * COLLECTION. Without ".COLLECTION" the collection is t->collection.
 */
static int split_uri(const ac__store_target_t *t, char **driver_uri, char **db, char **coll,
                     char *err, size_t errlen) {
  char shown[512];
  redact(t->uri, shown, sizeof(shown));
  const char *hosts = strstr(t->uri, "://");
  if (!ac__mongo_uri_match(t->uri) || hosts == NULL) {
    ac__store_errf(err, errlen, "not a MongoDB URI: %s (mongodb://HOST[:PORT]/DB.COLLECTION)", shown);
    return AC_EINVAL;
  }
  hosts += 3;
  size_t hosts_len = strcspn(hosts, "/?");
  if (hosts_len == 0) {
    ac__store_errf(err, errlen, "MongoDB URI %s names no host (mongodb://HOST[:PORT]/DB.COLLECTION)",
            shown);
    return AC_EINVAL;
  }
  const char *path = hosts + hosts_len;
  if (*path != '/' || path[1] == '\0' || path[1] == '?') {
    ac__store_errf(err, errlen,
            "MongoDB URI %s names no database.collection (mongodb://HOST[:PORT]/DB.COLLECTION)",
            shown);
    return AC_EINVAL;
  }
  path++;
  size_t path_len = strcspn(path, "?");
  const char *query = path + path_len; /* "" or "?..." */
  const char *dot = memchr(path, '.', path_len);
  size_t db_len = dot ? (size_t)(dot - path) : path_len;

  *db = dup_n(path, db_len);
  *coll = dot ? dup_n(dot + 1, path_len - db_len - 1) : ac__strdup(t->collection);
  size_t ulen = (size_t)(hosts - t->uri) + hosts_len + 1 + db_len + strlen(query) + 1;
  *driver_uri = ac__malloc(ulen);
  if (*db == NULL || *coll == NULL || *driver_uri == NULL) {
    ac__store_errf(err, errlen, "out of memory opening %s", shown);
    return AC_ENOMEM;
  }
  snprintf(*driver_uri, ulen, "%.*s/%s%s", (int)((hosts - t->uri) + hosts_len), t->uri, *db, query);

  const char *why = bad_db_name(*db);
  if (why == NULL) why = bad_coll_name(*coll);
  if (why != NULL) {
    ac__store_errf(err, errlen, "MongoDB URI %s: %s (mongodb://HOST[:PORT]/DB.COLLECTION)", shown, why);
    return AC_EINVAL;
  }
  return 0;
}

/* "host:port,host:port" from the parsed URI, for messages. */
static char *hosts_text(const mongoc_uri_t *uri) {
  char buf[512];
  size_t len = 0;
  buf[0] = '\0';
  for (const mongoc_host_list_t *h = mongoc_uri_get_hosts(uri); h != NULL; h = h->next) {
    int n = snprintf(buf + len, sizeof(buf) - len, "%s%s", len ? "," : "", h->host_and_port);
    if (n < 0 || (size_t)n >= sizeof(buf) - len) break;
    len += (size_t)n;
  }
  if (len == 0 && mongoc_uri_get_srv_hostname(uri) != NULL)
    snprintf(buf, sizeof(buf), "%s (SRV)", mongoc_uri_get_srv_hostname(uri));
  return ac__strdup(buf);
}

/* A network-level failure: the server is away or not answering. */
static int is_unreachable(const bson_error_t *e) {
  return e->domain == MONGOC_ERROR_SERVER_SELECTION || e->domain == MONGOC_ERROR_STREAM ||
         e->domain == MONGOC_ERROR_PROTOCOL;
}

/* Server error codes worth retrying: the server is shutting down, stepping
 * down, between primaries, or timed out (the retryable-writes list). */
static int is_transient_code(uint32_t code) {
  static const uint32_t codes[] = {6,    7,    89,    91,    189,   262,   9001, 10107,
                                   11600, 11602, 13435, 13436, 63,   150,  133,  64, 112};
  for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
    if (codes[i] == code) return 1;
  return 0;
}

static int check_key_field(const char *k) {
  return k[0] != '\0' && k[0] != '$' && strchr(k, '.') == NULL;
}

static void backend_free(struct mongo_backend *be) {
  if (be == NULL) return;
  if (be->coll) mongoc_collection_destroy(be->coll);
  if (be->client) mongoc_client_destroy(be->client);
  bson_destroy(&be->doc);
  bson_destroy(&be->filter);
  bson_destroy(&be->replace_opts);
  bson_destroy(&be->bulk_opts);
  ac__free(be->key_field);
  ac__free(be->where);
  ac__free(be->ns);
  ac__free(be);
}

/* Fill in the timeouts the URI leaves to us. */
static void set_default_timeouts(mongoc_uri_t *uri, uint64_t connect_timeout_ms) {
  int32_t ms = connect_timeout_ms == 0 ? 5000
               : connect_timeout_ms > INT32_MAX ? INT32_MAX
                                                : (int32_t)connect_timeout_ms;
  if (!mongoc_uri_has_option(uri, MONGOC_URI_SERVERSELECTIONTIMEOUTMS))
    mongoc_uri_set_option_as_int32(uri, MONGOC_URI_SERVERSELECTIONTIMEOUTMS, ms);
  if (!mongoc_uri_has_option(uri, MONGOC_URI_CONNECTTIMEOUTMS))
    mongoc_uri_set_option_as_int32(uri, MONGOC_URI_CONNECTTIMEOUTMS, ms);
  if (!mongoc_uri_has_option(uri, MONGOC_URI_SOCKETTIMEOUTMS))
    mongoc_uri_set_option_as_int32(uri, MONGOC_URI_SOCKETTIMEOUTMS, MONGO_SOCKET_TIMEOUT_MS);
  if (!mongoc_uri_has_option(uri, MONGOC_URI_APPNAME)) mongoc_uri_set_appname(uri, "acrawl");
}

/* ping, then the unique index on the key field (named like MongoDB's own
 * default, "<field>_1", so that making it again is a no-op). */
static int prepare_server(struct mongo_backend *be, const char *db, const char *coll, char *err,
                          size_t errlen) {
  bson_error_t berr;
  bson_t cmd = BSON_INITIALIZER;
  BSON_APPEND_INT32(&cmd, "ping", 1);
  bool ok = mongoc_client_command_simple(be->client, "admin", &cmd, NULL, NULL, &berr);
  bson_destroy(&cmd);
  if (!ok) {
    if (is_unreachable(&berr))
      ac__store_errf(err, errlen, "MongoDB at %s is unreachable: %s", be->where, berr.message);
    else
      ac__store_errf(err, errlen, "MongoDB at %s refused ping: %s", be->where, berr.message);
    return AC_ESTORE;
  }

  char name[256];
  snprintf(name, sizeof(name), "%s_1", be->key_field);
  bson_t indexes, index, key;
  bson_init(&cmd);
  BSON_APPEND_UTF8(&cmd, "createIndexes", coll);
  BSON_APPEND_ARRAY_BEGIN(&cmd, "indexes", &indexes);
  BSON_APPEND_DOCUMENT_BEGIN(&indexes, "0", &index);
  BSON_APPEND_DOCUMENT_BEGIN(&index, "key", &key);
  BSON_APPEND_INT32(&key, be->key_field, 1);
  bson_append_document_end(&index, &key);
  BSON_APPEND_UTF8(&index, "name", name);
  BSON_APPEND_BOOL(&index, "unique", true);
  bson_append_document_end(&indexes, &index);
  bson_append_array_end(&cmd, &indexes);
  ok = mongoc_client_write_command_with_opts(be->client, db, &cmd, NULL, NULL, &berr);
  bson_destroy(&cmd);
  if (!ok) {
    ac__store_errf(err, errlen, "MongoDB at %s: cannot make the unique index on \"%s\" in %s: %s",
            be->where, be->key_field, be->ns, berr.message);
    return AC_ESTORE;
  }
  return 0;
}

static int mongo_open(const ac__store_target_t *t, void **out, char *err, size_t errlen) {
  char *driver_uri = NULL, *db = NULL, *coll = NULL;
  mongoc_uri_t *uri = NULL;
  struct mongo_backend *be = NULL;
  bson_error_t berr;
  char shown[512];
  int rc;

  *out = NULL;
  redact(t->uri, shown, sizeof(shown));
  if (!check_key_field(t->key_field)) {
    ac__store_errf(err, errlen,
            "MongoDB store %s: the key field \"%s\" cannot be a MongoDB field name "
            "(empty, starts with '$' or holds '.')",
            shown, t->key_field);
    return AC_EINVAL;
  }
  rc = split_uri(t, &driver_uri, &db, &coll, err, errlen);
  if (rc != 0) goto done;

  pthread_once(&mongoc_once, mongoc_init_once);
  uri = mongoc_uri_new_with_error(driver_uri, &berr);
  if (uri == NULL) {
    ac__store_errf(err, errlen, "bad MongoDB URI %s: %s", shown, berr.message);
    rc = AC_EINVAL;
    goto done;
  }
  set_default_timeouts(uri, t->connect_timeout_ms);

  be = ac__calloc(1, sizeof(*be));
  if (be == NULL) {
    rc = AC_ENOMEM;
    ac__store_errf(err, errlen, "out of memory opening %s", shown);
    goto done;
  }
  bson_init(&be->doc);
  bson_init(&be->filter);
  bson_init(&be->replace_opts);
  bson_init(&be->bulk_opts);
  /* validate: false because json_bson.c has already checked everything a
   * server can take, and libmongoc's own check for replacements refuses
   * strings holding \u0000, which are data. */
  BSON_APPEND_BOOL(&be->replace_opts, "upsert", true);
  BSON_APPEND_BOOL(&be->replace_opts, "validate", false);
  BSON_APPEND_BOOL(&be->bulk_opts, "ordered", false);
  be->key_field = ac__strdup(t->key_field);
  be->where = hosts_text(uri);
  size_t nslen = strlen(db) + strlen(coll) + 2;
  be->ns = ac__malloc(nslen);
  if (be->key_field == NULL || be->where == NULL || be->ns == NULL) {
    rc = AC_ENOMEM;
    ac__store_errf(err, errlen, "out of memory opening %s", shown);
    goto done;
  }
  snprintf(be->ns, nslen, "%s.%s", db, coll);

  be->client = mongoc_client_new_from_uri_with_error(uri, &berr);
  if (be->client == NULL) {
    ac__store_errf(err, errlen, "bad MongoDB URI %s: %s", shown, berr.message);
    rc = AC_EINVAL;
    goto done;
  }
  /* Version 2 puts server-side errors in MONGOC_ERROR_SERVER with the
   * server's own code, which is what tells transient from permanent. */
  mongoc_client_set_error_api(be->client, MONGOC_ERROR_API_VERSION_2);
  rc = prepare_server(be, db, coll, err, errlen);
  if (rc != 0) goto done;
  be->coll = mongoc_client_get_collection(be->client, db, coll);
  *out = be;
  be = NULL;

done:
  backend_free(be);
  if (uri) mongoc_uri_destroy(uri);
  ac__free(driver_uri);
  ac__free(db);
  ac__free(coll);
  return rc;
}

/* Convert doc i and queue its replace_one. 0, or a permanent refusal (or
 * AC_ENOMEM, worth retrying) with err naming the key. */
static int queue_doc(struct mongo_backend *be, mongoc_bulk_operation_t *bulk,
                     const ac__store_doc_t *d, char *err, size_t errlen) {
  char why[300];
  bson_iter_t it;
  bson_error_t berr;
  bson_reinit(&be->doc);
  int rc = ac__json_to_bson(d->doc, d->len, AC__JSON_BSON_MONGO_KEYS, &be->doc, why, sizeof(why));
  if (rc != 0) {
    ac__store_errf(err, errlen, "MongoDB store %s: the document with key \"%.100s\" cannot be stored: %s",
            be->ns, d->key, why);
    return rc == AC_ENOMEM ? AC_ENOMEM : AC_ESTORE;
  }
  if (be->doc.len > MONGO_MAX_DOC) {
    ac__store_errf(err, errlen,
            "MongoDB store %s: the document with key \"%.100s\" is %u bytes as BSON, "
            "over MongoDB's 16 MiB",
            be->ns, d->key, (unsigned)be->doc.len);
    return AC_ESTORE;
  }
  if (!bson_iter_init_find(&it, &be->doc, be->key_field)) {
    ac__store_errf(err, errlen, "MongoDB store %s: the document with key \"%.100s\" has no \"%s\" field",
            be->ns, d->key, be->key_field);
    return AC_ESTORE;
  }
  /* The filter takes the value with its type: {"id": 7} matches 7, not "7". */
  bson_type_t type = bson_iter_type(&it);
  if (type != BSON_TYPE_UTF8 && type != BSON_TYPE_INT32 && type != BSON_TYPE_INT64 &&
      type != BSON_TYPE_DOUBLE && type != BSON_TYPE_DECIMAL128 && type != BSON_TYPE_BOOL) {
    ac__store_errf(err, errlen,
            "MongoDB store %s: the document with key \"%.100s\" has a \"%s\" that is not a "
            "string, number or boolean",
            be->ns, d->key, be->key_field);
    return AC_ESTORE;
  }
  bson_reinit(&be->filter);
  bson_append_iter(&be->filter, be->key_field, -1, &it);
  if (!mongoc_bulk_operation_replace_one_with_opts(bulk, &be->filter, &be->doc, &be->replace_opts,
                                                    &berr)) {
    ac__store_errf(err, errlen, "MongoDB store %s: the document with key \"%.100s\" was refused: %s",
            be->ns, d->key, berr.message);
    return AC_ESTORE;
  }
  return 0;
}

/* The bulk failed: say why, and whether trying again can help. */
static int classify_failure(struct mongo_backend *be, const ac__store_doc_t *docs, size_t n,
                            const bson_t *reply, const bson_error_t *berr, int *transient,
                            char *err, size_t errlen) {
  bson_iter_t it, arr;
  /* Documents the server refused (a changed _id, a validator...): the same
   * documents would be refused again. */
  if (bson_iter_init_find(&it, reply, "writeErrors") && BSON_ITER_HOLDS_ARRAY(&it) &&
      bson_iter_recurse(&it, &arr)) {
    size_t count = 0;
    int64_t index = -1;
    const char *msg = "";
    while (bson_iter_next(&arr)) {
      bson_iter_t e;
      if (count++ > 0 || !BSON_ITER_HOLDS_DOCUMENT(&arr)) continue;
      if (bson_iter_recurse(&arr, &e) && bson_iter_find(&e, "index"))
        index = bson_iter_as_int64(&e);
      if (bson_iter_recurse(&arr, &e) && bson_iter_find(&e, "errmsg") && BSON_ITER_HOLDS_UTF8(&e))
        msg = bson_iter_utf8(&e, NULL);
    }
    if (count > 0) {
      *transient = 0;
      ac__store_errf(err, errlen,
              "MongoDB at %s refused the document with key \"%.100s\" in %s: %s "
              "(%zu of the batch's %zu documents refused)",
              be->where, index >= 0 && (size_t)index < n ? docs[index].key : "?", be->ns, msg,
              count, n);
      return AC_ESTORE;
    }
  }
  /* The writes were applied but not confirmed as asked (w: majority and a
   * primary stepping down): the upserts can be replayed. */
  if (bson_iter_init_find(&it, reply, "writeConcernErrors") && BSON_ITER_HOLDS_ARRAY(&it) &&
      bson_iter_recurse(&it, &arr) && bson_iter_next(&arr)) {
    *transient = 1;
    ac__store_errf(err, errlen, "MongoDB at %s: write concern not met in %s: %s", be->where, be->ns,
            berr->message);
    return AC_ESTORE;
  }
  if (is_unreachable(berr)) {
    *transient = 1;
    ac__store_errf(err, errlen, "MongoDB at %s is unreachable: %s", be->where, berr->message);
    return AC_ESTORE;
  }
  *transient = berr->domain == MONGOC_ERROR_SERVER && is_transient_code(berr->code);
  ac__store_errf(err, errlen, "MongoDB at %s: writing to %s failed: %s", be->where, be->ns,
          berr->message);
  return AC_ESTORE;
}

static int mongo_write(void *p, const ac__store_doc_t *docs, size_t n, uint64_t *skipped,
                       int *transient, char *err, size_t errlen) {
  struct mongo_backend *be = p;
  int rc = 0;
  *transient = 0;
  if (skipped) *skipped = 0;
  if (n == 0) return 0;

  bson_t reply;
  bson_error_t berr;
  mongoc_bulk_operation_t *bulk =
      mongoc_collection_create_bulk_operation_with_opts(be->coll, &be->bulk_opts);
  /* All or nothing: one document that can never be stored fails the batch
   * before anything is sent (store.c acknowledges the batch with the error). */
  for (size_t i = 0; i < n && rc == 0; i++) rc = queue_doc(be, bulk, &docs[i], err, errlen);
  if (rc != 0) {
    *transient = rc == AC_ENOMEM;
    mongoc_bulk_operation_destroy(bulk);
    return rc;
  }
  uint32_t ok = mongoc_bulk_operation_execute(bulk, &reply, &berr);
  if (!ok) rc = classify_failure(be, docs, n, &reply, &berr, transient, err, errlen);
  bson_destroy(&reply);
  mongoc_bulk_operation_destroy(bulk);
  return rc;
}

static int mongo_close(void *p, char *err, size_t errlen) {
  (void)err;
  (void)errlen;
  backend_free(p);
  return 0;
}

const ac__store_backend_t ac__store_mongo_impl = {
    "mongodb", ac__mongo_uri_match, mongo_open, mongo_write, mongo_close,
    NULL,      NULL,                NULL, /* no reading back (store.h) */
};
