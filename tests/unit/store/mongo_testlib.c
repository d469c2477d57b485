#include "mongo_testlib.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runner.h"

int mongo_sh(const char *fmt, ...) {
  char cmd[2048];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(cmd, sizeof(cmd), fmt, ap);
  va_end(ap);
  ASSERT(n > 0 && (size_t)n < sizeof(cmd));
  int st = system(cmd);
  if (st == -1 || !WIFEXITED(st)) return -1;
  return WEXITSTATUS(st);
}

/* node on the stand-in's launcher, on port (0: one it picks). */
static void spawn(struct mongo_server *s, int port) {
  char portfile[128], modules[512], launcher[512], portarg[16];
  snprintf(portfile, sizeof(portfile), "%s/port", s->dir);
  snprintf(modules, sizeof(modules), "%s/node_modules", AC_TEST_MONGO_MODULES);
  snprintf(launcher, sizeof(launcher), "%s/standin.mjs", AC_TEST_MONGO_DIR);
  snprintf(portarg, sizeof(portarg), "%d", port);
  char *argv[] = {"node", launcher, "--modules", modules, "--port", portarg, "--portfile", portfile,
                  NULL};
  struct ac_child_opts o = {.what = "the MongoDB stand-in", .argv = argv,
                            .missing = "make test-deps installs node", .log = s->log,
                            .portfile = portfile, .timeout_s = 30};
  ac_child_start(&s->child, &o);
  s->port = s->child.port;
  snprintf(s->base, sizeof(s->base), "mongodb://127.0.0.1:%d", s->port);
  s->query[0] = '\0';
}

void mongo_server_start(struct mongo_server *s) {
  memset(s, 0, sizeof(*s));
  const char *real = getenv("ACRAWL_TEST_MONGODB_URI");
  if (real != NULL && *real != '\0') {
    /* mongodb://HOSTS[/][?OPTIONS]: keep the hosts and the options. */
    const char *hosts = strstr(real, "://");
    ASSERT(hosts != NULL);
    hosts += 3;
    size_t hl = strcspn(hosts, "/?");
    snprintf(s->base, sizeof(s->base), "%.*s", (int)(hosts - real + (ptrdiff_t)hl), real);
    const char *q = strchr(hosts + hl, '?');
    snprintf(s->query, sizeof(s->query), "%s", q ? q : "");
    s->real = 1;
    fprintf(stderr, "using the MongoDB server in ACRAWL_TEST_MONGODB_URI (%s)\n", s->base);
    return;
  }
  int rc = mongo_sh("sh '%s/setup.sh' '%s'", AC_TEST_MONGO_DIR, AC_TEST_MONGO_MODULES);
  /* setup.sh said why: node or npm missing, or the registry out of reach. */
  if (rc == 77)
    ac_test_skip("the MongoDB stand-in cannot run (make test-deps installs node and npm, "
                 "or set ACRAWL_TEST_MONGODB_URI to a real server)");
  ASSERT_EQ(rc, 0);
  snprintf(s->dir, sizeof(s->dir), "%s", ac_test_tmpdir("ac_mongo_test"));
  snprintf(s->log, sizeof(s->log), "%s/standin.log", s->dir);
  spawn(s, 0);
}

void mongo_server_restart(struct mongo_server *s) {
  ASSERT(!s->real);
  ASSERT_EQ(s->child.pid, 0);
  spawn(s, s->port);
}

void mongo_server_kill(struct mongo_server *s, int sig) {
  ASSERT(!s->real);
  ASSERT(s->child.pid > 0);
  ac_child_stop(&s->child, sig);
}

void mongo_server_require_standin(const struct mongo_server *s, const char *why) {
  if (s->real) ac_test_skip("%s: needs the stand-in, not ACRAWL_TEST_MONGODB_URI", why);
}

void mongo_store_uri(const struct mongo_server *s, const char *coll, char *out, size_t outlen,
                     char *coll_out, size_t coll_outlen) {
  char name[128];
  snprintf(name, sizeof(name), "%s_%ld", coll, (long)getpid());
  snprintf(out, outlen, "%s/%s.%s%s", s->base, MONGO_TEST_DB, name, s->query);
  if (coll_out) snprintf(coll_out, coll_outlen, "%s", name);
}

void mongo_plain_uri(const struct mongo_server *s, char *out, size_t outlen) {
  snprintf(out, outlen, "%s/%s", s->base, s->query);
}

mongoc_client_t *mongo_test_client(const struct mongo_server *s) {
  static int inited;
  char uri[1100];
  if (!inited) {
    mongoc_init();
    atexit(mongoc_cleanup); /* removes /dev/shm/mongoc-PID (see src/store/mongo.c) */
    inited = 1;
  }
  mongo_plain_uri(s, uri, sizeof(uri));
  mongoc_client_t *c = mongoc_client_new(uri);
  ASSERT_NOT_NULL(c);
  return c;
}

int64_t mongo_count(const struct mongo_server *s, const char *coll) {
  mongoc_client_t *c = mongo_test_client(s);
  mongoc_collection_t *col = mongoc_client_get_collection(c, MONGO_TEST_DB, coll);
  bson_t filter = BSON_INITIALIZER;
  bson_error_t e;
  int64_t n = mongoc_collection_count_documents(col, &filter, NULL, NULL, NULL, &e);
  if (n < 0) AC__FAIL("count in %s: %s", coll, e.message);
  bson_destroy(&filter);
  mongoc_collection_destroy(col);
  mongoc_client_destroy(c);
  return n;
}

void mongo_drop(const struct mongo_server *s, const char *coll) {
  mongoc_client_t *c = mongo_test_client(s);
  mongoc_collection_t *col = mongoc_client_get_collection(c, MONGO_TEST_DB, coll);
  bson_error_t e;
  mongoc_collection_drop(col, &e); /* "ns not found" is fine */
  mongoc_collection_destroy(col);
  mongoc_client_destroy(c);
}

int mongo_open_uri(const char *uri, void **be, char *err, size_t errlen) {
  ac__store_target_t t;
  memset(&t, 0, sizeof(t));
  t.uri = uri;
  t.rest = uri;
  t.collection = "items";
  t.key_field = "id";
  t.connect_timeout_ms = 5000;
  return ac__store_mongo.open(&t, be, err, errlen);
}
