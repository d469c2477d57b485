#include "mongo_testlib.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "runner.h"

/* The stand-in and the temporary directory go whatever way the test ends. */
static pid_t standin_pid;
static char tmpdir[64];
static int cleanup_installed;

static void cleanup(void) {
  if (standin_pid > 0) {
    kill(standin_pid, SIGKILL);
    waitpid(standin_pid, NULL, 0);
    standin_pid = 0;
  }
  if (tmpdir[0] != '\0') {
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) {
    }
    tmpdir[0] = '\0';
  }
}

/* A failed ASSERT aborts, which skips atexit: clean up there too. */
static void on_fatal(int sig) {
  cleanup();
  signal(sig, SIG_DFL);
  raise(sig);
}

static void install_cleanup(void) {
  if (cleanup_installed) return;
  cleanup_installed = 1;
  atexit(cleanup);
  signal(SIGABRT, on_fatal);
  signal(SIGTERM, on_fatal);
}

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

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void print_log(const struct mongo_server *s) {
  fprintf(stderr, "--- the stand-in's log (%s):\n", s->log);
  if (mongo_sh("cat '%s' >&2", s->log) != 0) {
  }
}

/* Fork node on the stand-in launcher; wait for its portfile. */
static void spawn(struct mongo_server *s, int port) {
  char portfile[128], modules[512], launcher[512], portarg[16];
  snprintf(portfile, sizeof(portfile), "%s/port", s->dir);
  snprintf(modules, sizeof(modules), "%s/node_modules", AC_TEST_MONGO_MODULES);
  snprintf(launcher, sizeof(launcher), "%s/standin.mjs", AC_TEST_MONGO_DIR);
  snprintf(portarg, sizeof(portarg), "%d", port);
  unlink(portfile);
  pid_t pid = fork();
  ASSERT(pid >= 0);
  if (pid == 0) {
    /* The stand-in dies with the test runner, even on SIGKILL. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    int fd = open(s->log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, 2);
      dup2(fd, 1);
      close(fd);
    }
    execlp("node", "node", launcher, "--modules", modules, "--port", portarg, "--portfile",
           portfile, (char *)NULL);
    _exit(127);
  }
  s->pid = standin_pid = pid;
  uint64_t deadline = now_ms() + (uint64_t)(30000 * ac_test_time_multiplier());
  for (;;) {
    FILE *f = fopen(portfile, "r");
    if (f != NULL) {
      int p = 0;
      int got = fscanf(f, "%d", &p);
      fclose(f);
      if (got == 1 && p > 0) {
        s->port = p;
        break;
      }
    }
    int st;
    if (waitpid(pid, &st, WNOHANG) == pid) {
      s->pid = standin_pid = 0;
      print_log(s);
      AC__FAIL("the MongoDB stand-in exited before listening (status %d)", st);
    }
    if (now_ms() > deadline) {
      print_log(s);
      AC__FAIL("the MongoDB stand-in did not write its port in time");
    }
    usleep(20000);
  }
  snprintf(s->base, sizeof(s->base), "mongodb://127.0.0.1:%d", s->port);
  s->query[0] = '\0';
}

void mongo_server_start(struct mongo_server *s) {
  memset(s, 0, sizeof(*s));
  install_cleanup();
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
  if (rc == 77) {
    /* setup.sh said why: node or npm missing, or the registry out of reach. */
    fprintf(stderr, "the MongoDB stand-in cannot run (make test-deps installs node and npm, "
                    "or set ACRAWL_TEST_MONGODB_URI to a real server): skipped\n");
    exit(77);
  }
  ASSERT_EQ(rc, 0);
  snprintf(tmpdir, sizeof(tmpdir), "/tmp/ac_mongo_test_XXXXXX");
  ASSERT_NOT_NULL(mkdtemp(tmpdir));
  snprintf(s->dir, sizeof(s->dir), "%s", tmpdir);
  snprintf(s->log, sizeof(s->log), "%s/standin.log", s->dir);
  spawn(s, 0);
}

void mongo_server_restart(struct mongo_server *s) {
  ASSERT(!s->real);
  ASSERT_EQ(s->pid, 0);
  spawn(s, s->port);
}

void mongo_server_kill(struct mongo_server *s, int sig) {
  ASSERT(!s->real);
  ASSERT(s->pid > 0);
  ASSERT_EQ(kill(s->pid, sig), 0);
  ASSERT_EQ(waitpid(s->pid, NULL, 0), s->pid);
  s->pid = standin_pid = 0;
}

void mongo_server_require_standin(const struct mongo_server *s, const char *why) {
  if (s->real) {
    fprintf(stderr, "%s: needs the stand-in, not ACRAWL_TEST_MONGODB_URI: skipped\n", why);
    exit(77);
  }
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
