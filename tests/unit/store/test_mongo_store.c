/*
 * The MongoDB backend (src/store/mongo.c) through its ops, called one at a
 * time from the test the way store.c's writer thread calls them, against
 * the CongoDB stand-in (or ACRAWL_TEST_MONGODB_URI).
 */
#include <bson/bson.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "acrawl/errno.h"
#include "mongo_testlib.h"
#include "runner.h"
#include "store/internal.h"
#include "store/json_bson.h"
#include "store_test.h"

static char err[512];

static int write_docs(void *be, const ac__store_doc_t *docs, size_t n, int *transient) {
  uint64_t skipped = 99;
  err[0] = '\0';
  int rc = ac__store_mongo.write(be, docs, n, &skipped, transient, err, sizeof(err));
  ASSERT_EQ(skipped, 0);
  if (rc != 0) ASSERT(err[0] != '\0');
  return rc;
}

static void close_be(void *be) {
  err[0] = '\0';
  ASSERT_OK(ac__store_mongo.close(be, err, sizeof(err)));
}

/* The stored document with this filter (JSON), without _id; NULL if none. */
static bson_t *read_back(const struct mongo_server *s, const char *coll, const char *filter_json) {
  mongoc_client_t *c = mongo_test_client(s);
  mongoc_collection_t *col = mongoc_client_get_collection(c, MONGO_TEST_DB, coll);
  bson_error_t e;
  bson_t *filter = bson_new_from_json((const uint8_t *)filter_json, -1, &e);
  ASSERT_NOT_NULL(filter);
  bson_t *opts = BCON_NEW("projection", "{", "_id", BCON_INT32(0), "}");
  mongoc_cursor_t *cur = mongoc_collection_find_with_opts(col, filter, opts, NULL);
  const bson_t *doc;
  bson_t *out = NULL;
  if (mongoc_cursor_next(cur, &doc)) out = bson_copy(doc);
  ASSERT(!mongoc_cursor_next(cur, &doc)); /* one document per key */
  if (mongoc_cursor_error(cur, &e)) AC__FAIL("find in %s: %s", coll, e.message);
  mongoc_cursor_destroy(cur);
  bson_destroy(opts);
  bson_destroy(filter);
  mongoc_collection_destroy(col);
  mongoc_client_destroy(c);
  return out;
}

static int is_number(const bson_iter_t *it) {
  return BSON_ITER_HOLDS_INT32(it) || BSON_ITER_HOLDS_INT64(it) || BSON_ITER_HOLDS_DOUBLE(it);
}

/* Same keys in the same order and the same values; numbers compared by
 * value across int32/int64/double. For the stand-in only: CongoDB keeps
 * numbers as JavaScript numbers, so a whole double (1.2e+2) comes back as
 * int32 and an int64 as int32 or double. A real server must match exactly. */
static int same_by_value(bson_iter_t *w, bson_iter_t *g) {
  for (;;) {
    int wn = bson_iter_next(w), gn = bson_iter_next(g);
    if (wn != gn) return 0;
    if (!wn) return 1;
    if (strcmp(bson_iter_key(w), bson_iter_key(g)) != 0) return 0;
    if (is_number(w) && is_number(g)) {
      if (bson_iter_as_double(w) != bson_iter_as_double(g)) return 0;
      continue;
    }
    if (bson_iter_type(w) != bson_iter_type(g)) return 0;
    if (BSON_ITER_HOLDS_DOCUMENT(w) || BSON_ITER_HOLDS_ARRAY(w)) {
      bson_iter_t wc, gc;
      if (!bson_iter_recurse(w, &wc) || !bson_iter_recurse(g, &gc) || !same_by_value(&wc, &gc))
        return 0;
      continue;
    }
    const bson_value_t *wv = bson_iter_value(w), *gv = bson_iter_value(g);
    bson_t wd, gd;
    /* Any other value: compare its bytes through one-field documents. */
    bson_init(&wd);
    bson_init(&gd);
    bson_append_value(&wd, "v", 1, wv);
    bson_append_value(&gd, "v", 1, gv);
    int eq = bson_equal(&wd, &gd);
    bson_destroy(&wd);
    bson_destroy(&gd);
    if (!eq) return 0;
  }
}

/* The stored document equals what the converter makes of the JSON. */
static void assert_stored(const struct mongo_server *s, const char *coll, const char *filter,
                          const char *json) {
  bson_t want;
  char why[256];
  bson_init(&want);
  ASSERT_OK(ac__json_to_bson(json, strlen(json), AC__JSON_BSON_MONGO_KEYS, &want, why, sizeof(why)));
  bson_t *got = read_back(s, coll, filter);
  if (got == NULL) AC__FAIL("nothing stored for %s", filter);
  bson_iter_t wi, gi;
  int eq = s->real ? bson_equal(got, &want)
                   : bson_iter_init(&wi, &want) && bson_iter_init(&gi, got) && same_by_value(&wi, &gi);
  if (!eq) {
    char *g = bson_as_canonical_extended_json(got, NULL);
    char *w = bson_as_canonical_extended_json(&want, NULL);
    AC__FAIL("stored %s\n  want %s", g, w);
  }
  bson_destroy(got);
  bson_destroy(&want);
}

TEST_IMPL(mongo_store_write_and_read_back) {
  struct mongo_server s;
  char uri[1200], coll[128];
  void *be;
  int transient;
  mongo_server_start(&s);
  mongo_store_uri(&s, "roundtrip", uri, sizeof(uri), coll, sizeof(coll));
  ASSERT_OK(mongo_open_uri(uri, &be, err, sizeof(err)));

  /* Data a crawl meets: non-BMP text, escapes, \u0000 inside a string,
   * floats written as 8.50, nested and empty arrays, Extended-JSON-looking
   * values, a long string. */
  static const char *docs_json[] = {
      "{\"id\":\"1\",\"name\":\"\\u5e73\\u51e1 \xf0\x9f\x98\x80 \\ud83d\\ude00\",\"price\":8.50,"
      "\"n\":-12,\"tags\":[[],[[\"a\"]],{}],\"empty\":{},\"nul\":\"a\\u0000b\",\"ok\":true,"
      "\"none\":null}",
      "{\"id\":\"2\",\"meta\":{\"date\":\"{\\\"$date\\\":1}\",\"q\":\"say \\\"hi\\\"\\n\"},"
      "\"score\":1.2e+2,\"pages\":[1,2.5,\"3\",false]}",
      "{\"id\":\"3\",\"x\":2147483647,\"y\":-2147483648,\"z\":0.001}"};
  ac__store_doc_t docs[3] = {{"1", docs_json[0], strlen(docs_json[0])},
                             {"2", docs_json[1], strlen(docs_json[1])},
                             {"3", docs_json[2], strlen(docs_json[2])}};
  ASSERT_OK(write_docs(be, docs, 3, &transient));
  ASSERT_EQ(mongo_count(&s, coll), 3);
  assert_stored(&s, coll, "{\"id\":\"1\"}", docs_json[0]);
  assert_stored(&s, coll, "{\"id\":\"2\"}", docs_json[1]);
  assert_stored(&s, coll, "{\"id\":\"3\"}", docs_json[2]);

  /* Written again: still one document per key. */
  ASSERT_OK(write_docs(be, docs, 3, &transient));
  ASSERT_EQ(mongo_count(&s, coll), 3);
  /* An empty batch is nothing to do. */
  ASSERT_OK(write_docs(be, docs, 0, &transient));
  close_be(be);
  mongo_drop(&s, coll);
}

TEST_IMPL(mongo_store_replace_drops_removed_fields) {
  /* A re-crawl whose page lost a field: the stored document is the new one
   * whole (replace), not the old one with the new fields merged in ($set). */
  struct mongo_server s;
  char uri[1200], coll[128];
  void *be;
  int transient;
  mongo_server_start(&s);
  mongo_store_uri(&s, "replace", uri, sizeof(uri), coll, sizeof(coll));
  ASSERT_OK(mongo_open_uri(uri, &be, err, sizeof(err)));
  const char *v1 = "{\"id\":\"7\",\"a\":1,\"b\":{\"c\":2},\"gone\":\"soon\"}";
  const char *v2 = "{\"b\":{\"d\":3},\"id\":\"7\",\"a\":\"one\"}";
  ac__store_doc_t d1 = {"7", v1, strlen(v1)}, d2 = {"7", v2, strlen(v2)};
  ASSERT_OK(write_docs(be, &d1, 1, &transient));
  assert_stored(&s, coll, "{\"id\":\"7\"}", v1);
  ASSERT_OK(write_docs(be, &d2, 1, &transient));
  assert_stored(&s, coll, "{\"id\":\"7\"}", v2);
  ASSERT_EQ(mongo_count(&s, coll), 1);
  close_be(be);
  mongo_drop(&s, coll);
}

TEST_IMPL(mongo_store_key_keeps_its_type) {
  /* {"id": 7} and {"id": "7"} are different keys: the filter takes the
   * value with its type from the document. */
  struct mongo_server s;
  char uri[1200], coll[128];
  void *be;
  int transient;
  mongo_server_start(&s);
  mongo_store_uri(&s, "keytype", uri, sizeof(uri), coll, sizeof(coll));
  ASSERT_OK(mongo_open_uri(uri, &be, err, sizeof(err)));
  const char *n = "{\"id\":7,\"v\":\"number\"}", *t = "{\"id\":\"7\",\"v\":\"text\"}";
  ac__store_doc_t docs[2] = {{"7", n, strlen(n)}, {"7", t, strlen(t)}};
  ASSERT_OK(write_docs(be, docs, 2, &transient));
  ASSERT_OK(write_docs(be, docs, 2, &transient));
  ASSERT_EQ(mongo_count(&s, coll), 2);
  assert_stored(&s, coll, "{\"id\":7}", n);
  assert_stored(&s, coll, "{\"id\":\"7\"}", t);
  close_be(be);
  mongo_drop(&s, coll);
}

TEST_IMPL(mongo_store_refuses_what_mongodb_cannot_hold) {
  /* A document that can never be stored fails its batch for good
   * (transient = 0), the message names the item's key and the problem, and
   * nothing of the batch is written (all or nothing). */
  struct mongo_server s;
  char uri[1200], coll[128];
  void *be;
  int transient;
  mongo_server_start(&s);
  mongo_store_uri(&s, "refused", uri, sizeof(uri), coll, sizeof(coll));
  ASSERT_OK(mongo_open_uri(uri, &be, err, sizeof(err)));
  static const struct {
    const char *json;
    const char *needle;
  } bad[] = {
      {"{\"id\":\"b\",\"meta\":{\"$date\":\"x\"}}", "key \"$date\" in meta: MongoDB cannot store"},
      {"{\"id\":\"b\",\"$set\":{\"a\":1}}", "key \"$set\" at the top level"},
      {"{\"id\":\"b\",\"list\":[{\"a.b\":1}]}", "key \"a.b\" in list[0]"},
      {"{\"id\":\"b\",\"x\":1,\"x\":2}", "appears twice"},
      {"{\"id\":\"b\",\"x\":tru}", "invalid JSON at byte"},
      {"[{\"id\":\"b\"}]", "top level must be an object"},
      {"{\"name\":\"no id\"}", "has no \"id\" field"},
      {"{\"id\":{\"n\":1}}", "not a string, number or boolean"},
      {"{\"id\":null}", "not a string, number or boolean"},
  };
  const char *good = "{\"id\":\"a\",\"v\":1}";
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    ac__store_doc_t docs[2] = {{"a", good, strlen(good)}, {"b", bad[i].json, strlen(bad[i].json)}};
    transient = -1;
    ASSERT_ERR(write_docs(be, docs, 2, &transient), AC_ESTORE);
    ASSERT_EQ(transient, 0);
    if (strstr(err, bad[i].needle) == NULL || strstr(err, "with key \"b\"") == NULL)
      AC__FAIL("for %s: message \"%s\" lacks \"%s\" or the key", bad[i].json, err, bad[i].needle);
    ASSERT_EQ(mongo_count(&s, coll), 0);
  }
  close_be(be);
  mongo_drop(&s, coll);
}

/* A port on 127.0.0.1 where nothing listens. */
static int dead_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a;
  socklen_t len = sizeof(a);
  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
  ASSERT_EQ(getsockname(fd, (struct sockaddr *)&a, &len), 0);
  close(fd);
  return ntohs(a.sin_port);
}

TEST_IMPL(mongo_store_unreachable_at_open) {
  /* No server needed: a port with nothing behind it. */
  char uri[256], want[128];
  void *be = (void *)1;
  int port = dead_port();
  snprintf(uri, sizeof(uri), "mongodb://127.0.0.1:%d/db.items", port);
  ASSERT_ERR(mongo_open_uri(uri, &be, err, sizeof(err)), AC_ESTORE);
  ASSERT_NULL(be);
  snprintf(want, sizeof(want), "MongoDB at 127.0.0.1:%d is unreachable: ", port);
  if (strstr(err, want) == NULL) AC__FAIL("message \"%s\" lacks \"%s\"", err, want);
  /* A short timeout in the URI wins over connect_timeout_ms. */
  snprintf(uri, sizeof(uri), "mongodb://127.0.0.1:%d/db.items?serverSelectionTimeoutMS=200", port);
  ASSERT_ERR(mongo_open_uri(uri, &be, err, sizeof(err)), AC_ESTORE);
  ASSERT(strstr(err, "is unreachable") != NULL);
}

TEST_IMPL(mongo_store_bad_uris) {
  static const struct {
    const char *uri;
    const char *needle;
  } bad[] = {
      {"mongodb://127.0.0.1:1", "names no database.collection"},
      {"mongodb://127.0.0.1:1/", "names no database.collection"},
      {"mongodb://127.0.0.1:1/?w=1", "names no database.collection"},
      {"mongodb:///db.c", "names no host"},
      {"mongodb://127.0.0.1:1/.items", "the database name is empty"},
      {"mongodb://127.0.0.1:1/db.", "the collection name is empty"},
      {"mongodb://127.0.0.1:1/d$b.items", "the database name holds"},
      {"mongodb://127.0.0.1:1/db.it$ems", "the collection name holds '$'"},
      {"mongodb://127.0.0.1:1/db.system.users", "starts with \"system.\""},
      {"mongodb://127.0.0.1:1/db.items?notAnOption=%zz", "bad MongoDB URI"},
      {"mongodb://127.0.0.1:99999/db.items", "bad MongoDB URI"},
      {"mongodb://127.0.0.1:1/db.items?replicaSet=", "bad MongoDB URI"},
      {"sqlite:x.db", "not a MongoDB URI"},
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    void *be = (void *)1;
    int rc = mongo_open_uri(bad[i].uri, &be, err, sizeof(err));
    if (rc != AC_EINVAL || strstr(err, bad[i].needle) == NULL)
      AC__FAIL("%s: got %s \"%s\", want AC_EINVAL with \"%s\"", bad[i].uri, ac_err_name(rc), err,
               bad[i].needle);
    ASSERT_NULL(be);
  }
  /* A password never shows in a message. */
  void *be;
  ASSERT_ERR(mongo_open_uri("mongodb://user:s3cret@127.0.0.1:1/", &be, err, sizeof(err)),
             AC_EINVAL);
  ASSERT(strstr(err, "s3cret") == NULL);
  ASSERT(strstr(err, "mongodb://***@127.0.0.1:1/") != NULL);
  /* The key field must be a field name MongoDB can filter on. */
  ac__store_target_t t = {.uri = "mongodb://127.0.0.1:1/db.c",
                          .rest = "mongodb://127.0.0.1:1/db.c",
                          .collection = "items",
                          .key_field = "$id",
                          .connect_timeout_ms = 1000};
  ASSERT_ERR(ac__store_mongo.open(&t, &be, err, sizeof(err)), AC_EINVAL);
  ASSERT(strstr(err, "key field \"$id\"") != NULL);
  t.key_field = "a.b";
  ASSERT_ERR(ac__store_mongo.open(&t, &be, err, sizeof(err)), AC_EINVAL);
  /* match() is the scheme only. */
  ASSERT(ac__store_mongo.match("mongodb://h/db.c"));
  ASSERT(ac__store_mongo.match("mongodb+srv://h/db.c"));
  ASSERT(!ac__store_mongo.match("mongo://h/db.c"));
  ASSERT(!ac__store_mongo.match("jsonl:-"));
  ASSERT_STR_EQ(ac__store_mongo.scheme, "mongodb");
}

TEST_IMPL(mongo_store_collection_from_opts) {
  /* mongodb://HOST/DB without ".COLLECTION": the collection store.c passes
   * (opts.collection, "items" by default). */
  struct mongo_server s;
  char uri[1200], coll[128], plain[1100];
  void *be;
  int transient;
  mongo_server_start(&s);
  mongo_store_uri(&s, "fromopts", uri, sizeof(uri), coll, sizeof(coll));
  mongo_plain_uri(&s, plain, sizeof(plain));
  /* BASE/acrawl_test?Q: the URI without the collection. */
  snprintf(uri, sizeof(uri), "%s/%s%s", s.base, MONGO_TEST_DB, s.query);
  ac__store_target_t t = {
      .uri = uri, .rest = uri, .collection = coll, .key_field = "sku", .connect_timeout_ms = 5000};
  ASSERT_OK(ac__store_mongo.open(&t, &be, err, sizeof(err)));
  const char *j = "{\"sku\":\"x-1\",\"n\":1}";
  ac__store_doc_t d = {"x-1", j, strlen(j)};
  ASSERT_OK(write_docs(be, &d, 1, &transient));
  ASSERT_OK(write_docs(be, &d, 1, &transient));
  ASSERT_EQ(mongo_count(&s, coll), 1);
  assert_stored(&s, coll, "{\"sku\":\"x-1\"}", j);
  close_be(be);
  mongo_drop(&s, coll);
}

TEST_IMPL(mongo_store_server_killed_and_back) {
  /* The server dies mid-run: each write fails as transient (store.c keeps
   * the batch and retries it), and the same batch goes through once the
   * server is back on its port. The stand-in forgets everything when it
   * dies, so what is there afterwards is exactly what was written after. */
  struct mongo_server s;
  char uri[1200], coll[128];
  void *be;
  int transient;
  mongo_server_start(&s);
  mongo_server_require_standin(&s, "mongo_store_server_killed_and_back");
  mongo_store_uri(&s, "restart", uri, sizeof(uri), coll, sizeof(coll));
  ASSERT_OK(mongo_open_uri(uri, &be, err, sizeof(err)));

  enum { N = 100 };
  static char json[2][N][96], keys[2][N][16];
  ac__store_doc_t batch[2][N];
  for (int b = 0; b < 2; b++) {
    for (int i = 0; i < N; i++) {
      snprintf(keys[b][i], sizeof(keys[b][i]), "%c%d", "ab"[b], i);
      int len = snprintf(json[b][i], sizeof(json[b][i]), "{\"id\":\"%s\",\"batch\":%d,\"i\":%d}",
                         keys[b][i], b, i);
      batch[b][i].key = keys[b][i];
      batch[b][i].doc = json[b][i];
      batch[b][i].len = (size_t)len;
    }
  }
  ASSERT_OK(write_docs(be, batch[0], N, &transient));
  ASSERT_EQ(mongo_count(&s, coll), N);

  mongo_server_kill(&s, SIGKILL);
  for (int attempt = 0; attempt < 3; attempt++) {
    transient = 0;
    ASSERT_ERR(write_docs(be, batch[1], N, &transient), AC_ESTORE);
    ASSERT_EQ(transient, 1);
    if (strstr(err, "is unreachable") == NULL) AC__FAIL("while down: \"%s\"", err);
    usleep(50000);
  }

  mongo_server_restart(&s);
  /* Retry the same batch, as store.c would (with backoff), until it goes
   * through; every failure on the way must still be transient. */
  int attempts = 0, rc;
  uint64_t waited_ms = 0, limit_ms = (uint64_t)(60000 * ac_test_time_multiplier());
  while ((rc = write_docs(be, batch[1], N, &transient)) != 0) {
    ASSERT_ERR(rc, AC_ESTORE);
    ASSERT_EQ(transient, 1);
    attempts++;
    if (waited_ms > limit_ms) AC__FAIL("still failing after the restart: \"%s\"", err);
    usleep(100000);
    waited_ms += 100;
  }
  fprintf(stderr, "after the restart: %d failed attempts before the batch went through\n", attempts);
  ASSERT_EQ(mongo_count(&s, coll), N);
  assert_stored(&s, coll, "{\"id\":\"b7\"}", json[1][7]);
  /* The batch written before the crash is gone with the stand-in's memory;
   * writing it again restores it. */
  ASSERT_OK(write_docs(be, batch[0], N, &transient));
  ASSERT_EQ(mongo_count(&s, coll), 2 * N);
  close_be(be);
}

/* ------------------------------------------- one document, three stores */

/* Pretty-printed, with CRLF and tabs, a byte order mark, escapes and the
 * numbers readers disagree on: every store takes it, each the way it keeps
 * text (SQLite as given, JSON Lines one line), and each reads back to the
 * BSON of its compact form. */
static const char pretty_doc[] =
    "\xEF\xBB\xBF{\r\n\t\"id\": \"pp1\",\r\n\t\"title\": \"a \\\"b\\\" \\\\ c\\/d \\u00e9"
    " \\ud83d\\ude00\",\r\n\t\"n\": [ 1, -0, 1E+2, 8.50, 9223372036854775807 ],\r\n"
    "\t\"o\": {\n\t\t\"e\": { },\n\t\t\"a\": [ ]\n\t}\r\n}\r\n";
static const char pretty_compact[] =
    "{\"id\":\"pp1\",\"title\":\"a \\\"b\\\" \\\\ c\\/d \\u00e9 \\ud83d\\ude00\","
    "\"n\":[1,-0,1E+2,8.50,9223372036854775807],\"o\":{\"e\":{},\"a\":[]}}";

struct three {
  const struct mongo_server *srv;
  char dir[256];
  char uri[3][1200];
};

static void assert_same_bson(const char *what, const char *json, size_t len) {
  bson_t want, got;
  char why[256];
  bson_init(&want);
  bson_init(&got);
  ASSERT_OK(ac__json_to_bson(pretty_compact, strlen(pretty_compact), 0, &want, why, sizeof(why)));
  if (ac__json_to_bson(json, len, 0, &got, why, sizeof(why)) != 0)
    AC__FAIL("%s: %s", what, why);
  if (!bson_equal(&want, &got)) AC__FAIL("%s reads back other values", what);
  bson_destroy(&want);
  bson_destroy(&got);
}

static int three_main(void *arg, void **result) {
  struct three *t = arg;
  ac_loop_t *loop = ac_task_loop(ac_task_current());
  struct st_acks a = {0};
  ac_store_error_t e;
  (void)result;
  for (int i = 0; i < 3; i++) {
    ac_store_t *s;
    if (ac_store_open(loop, t->uri[i], NULL, &s, &e) != 0) AC__FAIL("%s", e.message);
    ASSERT_OK(st_put(s, &a, "pp1", pretty_doc));
    ASSERT_OK(ac_store_close(s));
  }
  ASSERT_EQ(a.ok, 3);
  return 0;
}

TEST_IMPL(mongo_store_pretty_printed_in_all_three_stores) {
  struct mongo_server srv;
  struct three t;
  char path[300], coll[128], *got;
  size_t len;
  mongo_server_start(&srv);
  t.srv = &srv;
  st_mkdir(t.dir, sizeof(t.dir));
  snprintf(t.uri[0], sizeof(t.uri[0]), "sqlite:%s/items.db", t.dir);
  snprintf(t.uri[1], sizeof(t.uri[1]), "jsonl:%s/items.jsonl", t.dir);
  mongo_store_uri(&srv, "pretty", t.uri[2], sizeof(t.uri[2]), coll, sizeof(coll));
  ASSERT_OK(ac_run(three_main, &t, NULL));

  /* SQLite: the text as given, but for the byte order mark. */
  snprintf(path, sizeof(path), "%s/items.db", t.dir);
  got = st_sqlite_get(path, "items", "pp1", &len);
  ASSERT_NOT_NULL(got);
  ASSERT_EQ(len, strlen(pretty_doc) - 3);
  ASSERT(memcmp(got, pretty_doc + 3, len) == 0);
  assert_same_bson("SQLite", got, len);
  free(got);
  /* JSON Lines: one line, the compact text. */
  snprintf(path, sizeof(path), "%s/items.jsonl", t.dir);
  got = st_slurp(path, &len);
  ASSERT_EQ(len, strlen(pretty_compact) + 1);
  ASSERT(memcmp(got, pretty_compact, len - 1) == 0 && got[len - 1] == '\n');
  assert_same_bson("JSON Lines", got, len - 1);
  free(got);
  /* MongoDB: the converter's BSON of the compact text. */
  assert_stored(&srv, coll, "{\"id\":\"pp1\"}", pretty_compact);
  mongo_drop(&srv, coll);
  st_rmdir(t.dir);
}
