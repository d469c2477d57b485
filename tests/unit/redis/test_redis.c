/*
 * The Redis client (src/redis/) against real redis-servers, each test its
 * own, started as a child on a port picked at runtime: replies, pipelines,
 * AUTH and ACL users, SELECT, and the failures a shared frontier must live
 * through (nothing listening, a stopped server, a restart, SCRIPT FLUSH, a
 * cancelled caller, the client freed under a caller).
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "acrawl/errno.h"
#include "acrawl/runtime.h"
#include "child.h"
#include "redis/redis.h"
#include "runner.h"

/* ------------------------------------------------------------ servers */

struct rsrv {
  struct ac_child child;
  int port;
  int aof;
  char dir[256];
  char log[300];
  char uri[128];
};

static void rsrv_spawn(struct rsrv *s, const char *const *extra) {
  char port[16];
  char *argv[32];
  int n = 0, i;
  snprintf(port, sizeof(port), "%d", s->port);
  argv[n++] = "redis-server";
  argv[n++] = "--port";
  argv[n++] = port;
  argv[n++] = "--bind";
  argv[n++] = "127.0.0.1";
  argv[n++] = "--save";
  argv[n++] = "";
  argv[n++] = "--appendonly";
  argv[n++] = s->aof ? "yes" : "no";
  /* everysec may hold a write back while a slow fsync runs (a busy
   * machine): a SIGKILL then loses it. Every write, synced. */
  argv[n++] = "--appendfsync";
  argv[n++] = "always";
  argv[n++] = "--dir";
  argv[n++] = s->dir;
  argv[n++] = "--daemonize";
  argv[n++] = "no";
  for (i = 0; extra != NULL && extra[i] != NULL && n < 30; i++) argv[n++] = (char *)extra[i];
  argv[n] = NULL;
  struct ac_child_opts o = {.what = "redis-server", .argv = argv,
                            .missing = "make test-deps installs redis-server", .log = s->log,
                            .port = s->port};
  ac_child_start(&s->child, &o);
}

static void rsrv_start(struct rsrv *s, int aof, const char *const *extra) {
  memset(s, 0, sizeof(*s));
  s->aof = aof;
  s->port = ac_test_free_port();
  snprintf(s->dir, sizeof(s->dir), "%s", ac_test_tmpdir("ac_redis_test"));
  snprintf(s->log, sizeof(s->log), "%s/redis.log", s->dir);
  snprintf(s->uri, sizeof(s->uri), "redis://127.0.0.1:%d", s->port);
  rsrv_spawn(s, extra);
}

static void rsrv_stop(struct rsrv *s) { ac_child_stop(&s->child, SIGTERM); }

/* ------------------------------------------------------------ helpers */

typedef int (*body_fn)(void *arg);
struct body {
  body_fn fn;
  void *arg;
};

static int body_main(void *arg, void **result) {
  struct body *b = arg;
  (void)result;
  return b->fn(b->arg);
}

/* fn in a task of its own loop; its status. */
static int in_task(body_fn fn, void *arg) {
  struct body b = {fn, arg};
  return ac_run(body_main, &b, NULL);
}

/* body(&server) in a task, against a redis-server of its own (aof: with
 * its append-only file on; extra: more of its options, or NULL). */
static void with_redis(int aof, const char *const *extra, body_fn body) {
  struct rsrv s;
  rsrv_start(&s, aof, extra);
  ASSERT_OK(in_task(body, &s));
  rsrv_stop(&s);
}

static ac_loop_t *this_loop(void) { return ac_task_loop(ac_task_current()); }

static int open_uri(const char *uri, uint64_t timeout_ms, const char *const *scripts, size_t n,
                    ac__redis_t **r, char *why, size_t cap) {
  ac__redis_opts_t o = {.uri = uri, .timeout_ms = timeout_ms, .client_name = "acrawl-test",
                        .scripts = scripts, .nscripts = n};
  return ac__redis_open(this_loop(), &o, r, why, cap);
}

/* A call that must succeed, with a reply of this type. */
static redisReply *must(ac__redis_t *r, int type, const char *fmt, const char *a,
                        const char *b) {
  redisReply *rep = NULL;
  int rc = ac__redis_callf(r, &rep, fmt, a, b);
  if (rc != 0) AC__FAIL("%s: %s (%s)", fmt, ac_err_name(rc), ac__redis_last_error(r));
  ASSERT_NOT_NULL(rep);
  if (rep->type != type)
    AC__FAIL("%s: reply type %d, want %d (%s)", fmt, rep->type, type,
             rep->type == REDIS_REPLY_ERROR ? rep->str : "");
  return rep;
}

static void must_status(ac__redis_t *r, const char *want, const char *fmt, const char *a,
                        const char *b) {
  redisReply *rep = must(r, REDIS_REPLY_STATUS, fmt, a, b);
  ASSERT_STR_EQ(rep->str, want);
  freeReplyObject(rep);
}

static void must_string(ac__redis_t *r, const char *want, const char *fmt, const char *a,
                        const char *b) {
  redisReply *rep = must(r, REDIS_REPLY_STRING, fmt, a, b);
  ASSERT_STR_EQ(rep->str, want);
  freeReplyObject(rep);
}

static const char *const scripts[] = {
    "return redis.call('INCRBY', KEYS[1], ARGV[1])",
    "return 'two:' .. ARGV[1]",
};

/* ------------------------------------------------------------ URIs */

TEST_IMPL(redis_uri_parse) {
  ac__redis_uri_t u;
  char why[256], shown[256];

  ASSERT_OK(ac__redis_uri_parse("redis://localhost", &u, why, sizeof(why)));
  ASSERT_STR_EQ(u.host, "localhost");
  ASSERT_EQ(u.port, 6379);
  ASSERT_EQ(u.db, 0);
  ASSERT_NULL(u.user);
  ASSERT_NULL(u.password);
  ac__redis_uri_free(&u);

  ASSERT_OK(ac__redis_uri_parse("redis://10.0.0.2:6390/7", &u, why, sizeof(why)));
  ASSERT_STR_EQ(u.host, "10.0.0.2");
  ASSERT_EQ(u.port, 6390);
  ASSERT_EQ(u.db, 7);
  ac__redis_uri_free(&u);

  ASSERT_OK(ac__redis_uri_parse("redis://:secret@h:1/", &u, why, sizeof(why)));
  ASSERT_NULL(u.user);
  ASSERT_STR_EQ(u.password, "secret");
  ASSERT_EQ(u.port, 1);
  ASSERT_EQ(u.db, 0);
  ac__redis_uri_free(&u);

  /* Percent-escapes in both; an unescaped '@' in a password is taken too. */
  ASSERT_OK(ac__redis_uri_parse("redis://al%69ce:p%40ss%3Aw%2Frd%25@h/2", &u, why, sizeof(why)));
  ASSERT_STR_EQ(u.user, "alice");
  ASSERT_STR_EQ(u.password, "p@ss:w/rd%");
  ASSERT_EQ(u.db, 2);
  ac__redis_uri_free(&u);
  ASSERT_OK(ac__redis_uri_parse("redis://u:a@b@h", &u, why, sizeof(why)));
  ASSERT_STR_EQ(u.password, "a@b");
  ASSERT_STR_EQ(u.host, "h");
  ac__redis_uri_free(&u);

  ASSERT_OK(ac__redis_uri_parse("redis://[::1]:6400/3", &u, why, sizeof(why)));
  ASSERT_STR_EQ(u.host, "::1");
  ASSERT_EQ(u.port, 6400);
  ASSERT_EQ(u.db, 3);
  ac__redis_uri_free(&u);
  ASSERT_OK(ac__redis_uri_parse("REDIS://[::1]", &u, why, sizeof(why)));
  ASSERT_STR_EQ(u.host, "::1");
  ASSERT_EQ(u.port, 6379);
  ac__redis_uri_free(&u);

  struct {
    const char *uri, *why;
  } bad[] = {
      {"redis://h:99999", "port 99999 out of range"},
      {"redis://h:0", "port 0 out of range"},
      {"redis://h:12x", "bad port"},
      {"redis://h:", "bad port"},
      {"redis://h/x", "bad db"},
      {"redis://h/-1", "bad db"},
      {"redis://h/12345678901", "db 12345678901 out of range"},
      {"redis://", "missing host"},
      {"redis://:pw@:6379", "missing host"},
      {"redis:///3", "missing host"},
      {"http://h", "must start with redis://"},
      {"rediss://h", "TLS"},
      {"redis://::1", "brackets"},
      {"redis://[::1", "'['"},
      {"redis://user@h", "without a password"},
      {"redis://u:%4@h", "bad percent-escape in the password"},
      {"redis://u%zz:p@h", "bad percent-escape in the user"},
      {"redis://h?db=1", "options"},
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    memset(&u, 0x5a, sizeof(u));
    int rc = ac__redis_uri_parse(bad[i].uri, &u, why, sizeof(why));
    if (rc != AC_EINVAL) AC__FAIL("%s parsed (%d)", bad[i].uri, rc);
    if (strstr(why, bad[i].why) == NULL || strncmp(why, "redis URI: ", 11) != 0)
      AC__FAIL("%s: why \"%s\", want \"%s\"", bad[i].uri, why, bad[i].why);
    ASSERT_NULL(u.host); /* nothing left to free */
  }
  /* The password is never quoted. */
  ASSERT_ERR(ac__redis_uri_parse("redis://u:hunter2@h:77777", &u, why, sizeof(why)), AC_EINVAL);
  ASSERT(strstr(why, "hunter2") == NULL);

  ac__redis_uri_shown("redis://u:hunter2@h:1/2", shown, sizeof(shown));
  ASSERT_STR_EQ(shown, "redis://u:***@h:1/2");
  ac__redis_uri_shown("redis://:a@b@h", shown, sizeof(shown));
  ASSERT_STR_EQ(shown, "redis://:***@h");
  ac__redis_uri_shown("redis://h:1/2", shown, sizeof(shown));
  ASSERT_STR_EQ(shown, "redis://h:1/2");
  ac__redis_uri_shown("redis://[::1]:5", shown, sizeof(shown));
  ASSERT_STR_EQ(shown, "redis://[::1]:5");
}

/* ------------------------------------------------------------ basics */

static int roundtrip_body(void *arg) {
  struct rsrv *s = arg;
  ac__redis_t *r;
  char why[256];
  redisReply *rep;
  ac__redis_stats_t st;

  ASSERT_OK(open_uri(s->uri, 0, NULL, 0, &r, why, sizeof(why)));
  ASSERT_STR_EQ(ac__redis_last_error(r), "");
  must_status(r, "PONG", "PING", NULL, NULL);
  must_status(r, "OK", "SET %s %s", "greeting", "hello");
  must_string(r, "hello", "GET %s", "greeting", NULL);
  rep = must(r, REDIS_REPLY_NIL, "GET %s", "nothing-here", NULL);
  freeReplyObject(rep);
  /* An error reply is a reply. */
  rep = must(r, REDIS_REPLY_ERROR, "NOSUCHCOMMAND", NULL, NULL);
  ASSERT(strstr(rep->str, "unknown command") != NULL);
  freeReplyObject(rep);
  const char *argv[] = {"CLIENT", "GETNAME"};
  ASSERT_OK(ac__redis_call(r, &rep, 2, argv, NULL));
  ASSERT_STR_EQ(rep->str, "acrawl-test");
  freeReplyObject(rep);

  ac__redis_stats(r, &st);
  ASSERT_UEQ(st.round_trips, 6);
  ASSERT_GE(st.commands, 6);
  ASSERT_UEQ(st.reconnects, 0);
  ASSERT_UEQ(st.timeouts, 0);
  ac__redis_free(r);
  return 0;
}

TEST_IMPL(redis_roundtrip) { with_redis(0, NULL, roundtrip_body); }

#define NPIPE 10000

static int pipeline_body(void *arg) {
  struct rsrv *s = arg;
  ac__redis_t *r;
  static ac__redis_cmd_t cmds[NPIPE];
  static char keys[NPIPE][16];
  static const char *argvs[NPIPE][3];
  static redisReply *replies[NPIPE];
  ac__redis_stats_t before, after;
  size_t i;

  ASSERT_OK(open_uri(s->uri, 0, NULL, 0, &r, NULL, 0));
  for (i = 0; i < NPIPE; i++) {
    snprintf(keys[i], sizeof(keys[i]), "k%zu", i);
    argvs[i][0] = "INCRBY";
    argvs[i][1] = "counter";
    argvs[i][2] = "1";
    cmds[i].argc = 3;
    cmds[i].argv = argvs[i];
    cmds[i].lens = NULL;
  }
  ac__redis_stats(r, &before);
  ASSERT_OK(ac__redis_pipeline(r, NPIPE, cmds, replies));
  ac__redis_stats(r, &after);
  ASSERT_UEQ(after.round_trips - before.round_trips, 1);
  ASSERT_UEQ(after.commands - before.commands, NPIPE);
  for (i = 0; i < NPIPE; i++) {
    ASSERT_NOT_NULL(replies[i]);
    ASSERT_EQ(replies[i]->type, REDIS_REPLY_INTEGER);
    ASSERT_EQ(replies[i]->integer, (long long)i + 1); /* in order */
    freeReplyObject(replies[i]);
  }
  /* Mixed commands, each reply in its place. */
  for (i = 0; i < NPIPE; i++) {
    argvs[i][0] = i % 2 ? "GET" : "SET";
    argvs[i][1] = keys[i / 2 * 2];
    argvs[i][2] = keys[i / 2 * 2];
    cmds[i].argc = i % 2 ? 2 : 3;
  }
  ASSERT_OK(ac__redis_pipeline(r, NPIPE, cmds, replies));
  for (i = 0; i < NPIPE; i++) {
    if (i % 2 == 0) {
      ASSERT_STR_EQ(replies[i]->str, "OK");
    } else {
      ASSERT_EQ(replies[i]->type, REDIS_REPLY_STRING);
      ASSERT_STR_EQ(replies[i]->str, keys[i - 1]);
    }
    freeReplyObject(replies[i]);
  }
  ac__redis_free(r);
  return 0;
}

TEST_IMPL(redis_pipeline_10000) { with_redis(0, NULL, pipeline_body); }

static int binary_body(void *arg) {
  struct rsrv *s = arg;
  ac__redis_t *r;
  redisReply *rep;
  const char key[] = "bin\0key";
  const char val[] = "a\0b\r\n\0\xff\x01z";
  const char *set[] = {"SET", key, val};
  const size_t set_lens[] = {3, sizeof(key) - 1, sizeof(val) - 1};
  const char *get[] = {"GET", key};
  const size_t get_lens[] = {3, sizeof(key) - 1};

  ASSERT_OK(open_uri(s->uri, 0, NULL, 0, &r, NULL, 0));
  ASSERT_OK(ac__redis_call(r, &rep, 3, set, set_lens));
  ASSERT_STR_EQ(rep->str, "OK");
  freeReplyObject(rep);
  ASSERT_OK(ac__redis_call(r, &rep, 2, get, get_lens));
  ASSERT_EQ(rep->type, REDIS_REPLY_STRING);
  ASSERT_UEQ(rep->len, sizeof(val) - 1);
  ASSERT(memcmp(rep->str, val, sizeof(val) - 1) == 0);
  freeReplyObject(rep);
  /* The key without its tail is another key. */
  freeReplyObject(must(r, REDIS_REPLY_NIL, "GET %s", "bin", NULL));
  /* %b through the printf form. */
  ASSERT_OK(ac__redis_callf(r, &rep, "GET %b", key, sizeof(key) - 1));
  ASSERT_UEQ(rep->len, sizeof(val) - 1);
  ASSERT(memcmp(rep->str, val, sizeof(val) - 1) == 0);
  freeReplyObject(rep);
  ac__redis_free(r);
  return 0;
}

TEST_IMPL(redis_binary_values) { with_redis(0, NULL, binary_body); }

/* ------------------------------------------------------------ AUTH, ACL, SELECT */

static int auth_body(void *arg) {
  struct rsrv *s = arg;
  ac__redis_t *r = NULL;
  char uri[256], why[512];

  snprintf(uri, sizeof(uri), "redis://:s3cr%%40t@127.0.0.1:%d", s->port);
  ASSERT_OK(open_uri(uri, 0, NULL, 0, &r, why, sizeof(why)));
  must_status(r, "PONG", "PING", NULL, NULL);
  ac__redis_free(r);

  /* The wrong password: refused, in Redis's words, never quoted. */
  snprintf(uri, sizeof(uri), "redis://:wrong-one@127.0.0.1:%d", s->port);
  r = (ac__redis_t *)1;
  ASSERT_ERR(open_uri(uri, 0, NULL, 0, &r, why, sizeof(why)), AC_EPERM);
  ASSERT_NULL(r);
  char addr[64];
  snprintf(addr, sizeof(addr), "redis 127.0.0.1:%d: AUTH refused: WRONGPASS", s->port);
  if (strncmp(why, addr, strlen(addr)) != 0) AC__FAIL("why: %s", why);
  ASSERT(strstr(why, "wrong-one") == NULL);

  /* No password where one is needed. */
  ASSERT_ERR(open_uri(s->uri, 0, NULL, 0, &r, why, sizeof(why)), AC_EPERM);
  if (strstr(why, "NOAUTH") == NULL) AC__FAIL("why: %s", why);
  /* The same with nothing but the PING to meet it. */
  ac__redis_opts_t o = {.uri = s->uri};
  ASSERT_ERR(ac__redis_open(this_loop(), &o, &r, why, sizeof(why)), AC_EPERM);
  if (strstr(why, "NOAUTH") == NULL) AC__FAIL("why: %s", why);
  return 0;
}

TEST_IMPL(redis_auth_password) {
  const char *const extra[] = {"--requirepass", "s3cr@t", NULL};
  with_redis(0, extra, auth_body);
}

static int acl_body(void *arg) {
  struct rsrv *s = arg;
  ac__redis_t *r;
  redisReply *rep;
  char uri[256], why[512];

  ASSERT_OK(open_uri(s->uri, 0, NULL, 0, &r, why, sizeof(why)));
  const char *setuser[] = {"ACL", "SETUSER", "crawler", "on", ">p@ss:w/rd%", "~*", "&*", "+@all"};
  ASSERT_OK(ac__redis_call(r, &rep, 8, setuser, NULL));
  ASSERT_STR_EQ(rep->str, "OK");
  freeReplyObject(rep);
  ac__redis_free(r);

  snprintf(uri, sizeof(uri), "redis://crawler:p%%40ss%%3Aw%%2Frd%%25@127.0.0.1:%d/1", s->port);
  ASSERT_OK(open_uri(uri, 0, scripts, 2, &r, why, sizeof(why)));
  must_string(r, "crawler", "ACL WHOAMI", NULL, NULL);
  ac__redis_free(r);

  snprintf(uri, sizeof(uri), "redis://crawler:nope@127.0.0.1:%d", s->port);
  ASSERT_ERR(open_uri(uri, 0, NULL, 0, &r, why, sizeof(why)), AC_EPERM);
  if (strstr(why, "AUTH refused: WRONGPASS") == NULL) AC__FAIL("why: %s", why);
  snprintf(uri, sizeof(uri), "redis://nobody:p%%40ss%%3Aw%%2Frd%%25@127.0.0.1:%d", s->port);
  ASSERT_ERR(open_uri(uri, 0, NULL, 0, &r, why, sizeof(why)), AC_EPERM);
  ASSERT(strstr(why, "p@ss") == NULL);
  return 0;
}

TEST_IMPL(redis_acl_user) { with_redis(0, NULL, acl_body); }

static int select_body(void *arg) {
  struct rsrv *s = arg;
  ac__redis_t *r0, *r3;
  char uri[256], why[512];
  redisReply *rep;

  snprintf(uri, sizeof(uri), "%s/3", s->uri);
  ASSERT_OK(open_uri(uri, 0, NULL, 0, &r3, why, sizeof(why)));
  ASSERT_OK(open_uri(s->uri, 0, NULL, 0, &r0, why, sizeof(why)));
  must_status(r3, "OK", "SET %s %s", "where", "three");
  freeReplyObject(must(r0, REDIS_REPLY_NIL, "GET %s", "where", NULL));
  must_string(r3, "three", "GET %s", "where", NULL);
  rep = must(r3, REDIS_REPLY_STRING, "CLIENT INFO", NULL, NULL);
  ASSERT(strstr(rep->str, " db=3 ") != NULL);
  freeReplyObject(rep);
  ac__redis_free(r0);
  ac__redis_free(r3);

  snprintf(uri, sizeof(uri), "%s/99", s->uri);
  ASSERT_ERR(open_uri(uri, 0, NULL, 0, &r3, why, sizeof(why)), AC_EPROTO);
  if (strstr(why, "SELECT 99 refused: ERR DB index is out of range") == NULL)
    AC__FAIL("why: %s", why);
  return 0;
}

TEST_IMPL(redis_select_db) { with_redis(0, NULL, select_body); }

static int bad_script_body(void *arg) {
  struct rsrv *s = arg;
  ac__redis_t *r;
  char why[512];
  const char *const broken[] = {scripts[0], "return (("};
  ASSERT_ERR(open_uri(s->uri, 0, broken, 2, &r, why, sizeof(why)), AC_EPROTO);
  if (strstr(why, "script 1 refused: ERR") == NULL) AC__FAIL("why: %s", why);
  return 0;
}

TEST_IMPL(redis_bad_script) { with_redis(0, NULL, bad_script_body); }

/* ------------------------------------------------------------ failures */

static int refused_body(void *arg) {
  int port = *(int *)arg;
  ac__redis_t *r;
  char uri[128], why[512];
  uint64_t t0 = ac_now_us();
  snprintf(uri, sizeof(uri), "redis://127.0.0.1:%d", port);
  ASSERT_ERR(open_uri(uri, 5000, NULL, 0, &r, why, sizeof(why)), AC_ECONNREFUSED);
  /* Told by the socket, not by the timer. */
  ASSERT_LT(ac_now_us() - t0, 2500 * 1000);
  char want[64];
  snprintf(want, sizeof(want), "redis 127.0.0.1:%d: cannot connect", port);
  if (strncmp(why, want, strlen(want)) != 0) AC__FAIL("why: %s", why);
  return 0;
}

TEST_IMPL(redis_refused) {
  int port = ac_test_free_port();
  ASSERT_OK(in_task(refused_body, &port));
}

static int sigstop_body(void *arg) {
  struct rsrv *s = arg;
  ac__redis_t *r;
  redisReply *rep = (redisReply *)1;
  ac__redis_stats_t st;
  uint64_t timeout = 400, t0, took;

  ASSERT_OK(open_uri(s->uri, timeout, scripts, 2, &r, NULL, 0));
  must_status(r, "OK", "SET %s %s", "k", "v");
  ASSERT_OK(kill(s->child.pid, SIGSTOP));
  t0 = ac_now_us();
  ASSERT_ERR(ac__redis_callf(r, &rep, "GET %s", "k"), AC_ETIMEDOUT);
  took = ac_now_us() - t0;
  ASSERT_NULL(rep);
  ASSERT_GE(took, timeout * 1000 * 9 / 10);
  ASSERT_LT(took, timeout * 1000 * 3 * (uint64_t)ac_test_time_multiplier());
  ASSERT(strstr(ac__redis_last_error(r), "no answer within 400 ms") != NULL);
  ac__redis_stats(r, &st);
  ASSERT_UEQ(st.timeouts, 1);
  ASSERT_UEQ(st.reconnects, 0);
  /* Still stopped: the reconnect's handshake times out too. */
  ASSERT_ERR(ac__redis_callf(r, &rep, "GET %s", "k"), AC_ETIMEDOUT);
  ASSERT_OK(kill(s->child.pid, SIGCONT));
  must_string(r, "v", "GET %s", "k", NULL);
  ac__redis_stats(r, &st);
  ASSERT_UEQ(st.reconnects, 1);
  ac__redis_free(r);
  return 0;
}

TEST_IMPL(redis_sigstop) {
  struct rsrv s;
  rsrv_start(&s, 0, NULL);
  int rc = in_task(sigstop_body, &s);
  kill(s.child.pid, SIGCONT);
  ASSERT_OK(rc);
  rsrv_stop(&s);
}

static void evalsha_ok(ac__redis_t *r, const char *key, long long want) {
  redisReply *rep;
  const char *argv[] = {"EVALSHA", ac__redis_script_sha(r, 0), "1", key, "5"};
  ASSERT_OK(ac__redis_call(r, &rep, 5, argv, NULL));
  if (rep->type != REDIS_REPLY_INTEGER) AC__FAIL("EVALSHA: type %d %s", rep->type, rep->str);
  ASSERT_EQ(rep->integer, want);
  freeReplyObject(rep);
}

static int restart_body(void *arg) {
  struct rsrv *s = arg;
  ac__redis_t *r;
  ac__redis_stats_t st;
  char sha0[41];

  ASSERT_OK(open_uri(s->uri, 2000, scripts, 2, &r, NULL, 0));
  ASSERT_EQ(strlen(ac__redis_script_sha(r, 0)), 40);
  ASSERT_NULL(ac__redis_script_sha(r, 2));
  snprintf(sha0, sizeof(sha0), "%s", ac__redis_script_sha(r, 0));
  must_status(r, "OK", "SET %s %s", "kept", "yes");
  evalsha_ok(r, "n", 5);

  ac_child_stop(&s->child, SIGKILL);
  rsrv_spawn(s, NULL); /* the same port and directory: the AOF comes back */

  must_string(r, "yes", "GET %s", "kept", NULL);
  evalsha_ok(r, "n", 10);
  ASSERT_STR_EQ(ac__redis_script_sha(r, 0), sha0);
  ac__redis_stats(r, &st);
  ASSERT_UEQ(st.reconnects, 1);
  redisReply *rep;
  const char *argv[] = {"EVALSHA", ac__redis_script_sha(r, 1), "0", "x"};
  ASSERT_OK(ac__redis_call(r, &rep, 4, argv, NULL));
  ASSERT_STR_EQ(rep->str, "two:x");
  freeReplyObject(rep);
  ac__redis_free(r);
  return 0;
}

TEST_IMPL(redis_restart_aof) { with_redis(1, NULL, restart_body); }

static int noscript_body(void *arg) {
  struct rsrv *s = arg;
  ac__redis_t *r;
  redisReply *reps[3];
  ASSERT_OK(open_uri(s->uri, 0, scripts, 2, &r, NULL, 0));
  evalsha_ok(r, "m", 5);
  must_status(r, "OK", "SCRIPT FLUSH", NULL, NULL);
  evalsha_ok(r, "m", 10);
  /* In a pipeline, beside other commands, through the printf form too. */
  must_status(r, "OK", "SCRIPT FLUSH", NULL, NULL);
  const char *a0[] = {"EVALSHA", ac__redis_script_sha(r, 1), "0", "y"};
  const char *a1[] = {"INCR", "plain"};
  const char *a2[] = {"EVALSHA", ac__redis_script_sha(r, 0), "1", "m", "1"};
  ac__redis_cmd_t cmds[] = {{4, a0, NULL}, {2, a1, NULL}, {5, a2, NULL}};
  ASSERT_OK(ac__redis_pipeline(r, 3, cmds, reps));
  ASSERT_STR_EQ(reps[0]->str, "two:y");
  ASSERT_EQ(reps[1]->integer, 1);
  ASSERT_EQ(reps[2]->integer, 11);
  for (int i = 0; i < 3; i++) freeReplyObject(reps[i]);
  must_status(r, "OK", "SCRIPT FLUSH", NULL, NULL);
  must_string(r, "two:z", "EVALSHA %s 0 %s", ac__redis_script_sha(r, 1), "z");
  /* An EVALSHA of a script the client does not know is left alone. */
  redisReply *rep = must(r, REDIS_REPLY_ERROR, "EVALSHA %s 0", "0123456789012345678901234567890123456789", NULL);
  ASSERT(strncmp(rep->str, "NOSCRIPT", 8) == 0);
  freeReplyObject(rep);
  ac__redis_free(r);
  return 0;
}

TEST_IMPL(redis_noscript) { with_redis(0, NULL, noscript_body); }

/* ------------------------------------------------------------ tasks */

struct blocked {
  ac__redis_t *r;
  const char *list;
  int rc;
  int started;
  redisReply *rep;
};

static int blpop_task(void *arg, void **result) {
  struct blocked *b = arg;
  (void)result;
  b->started = 1;
  b->rc = ac__redis_callf(b->r, &b->rep, "BLPOP %s 5", b->list);
  return 0;
}

static int cancel_body(void *arg) {
  struct rsrv *s = arg;
  struct blocked b = {0};
  ac_task_t *t;
  ac__redis_stats_t st;

  ac__redis_t *pusher;
  ASSERT_OK(open_uri(s->uri, 3000, NULL, 0, &b.r, NULL, 0));
  ASSERT_OK(open_uri(s->uri, 3000, NULL, 0, &pusher, NULL, 0));
  b.list = "jobs";
  b.rep = (redisReply *)1;
  ASSERT_OK(ac_task_spawn(this_loop(), blpop_task, &b, NULL, &t));
  ASSERT_OK(ac_sleep(50));
  ASSERT(b.started);
  ASSERT_OK(ac_task_cancel(t));
  ASSERT_OK(ac_task_await(t, NULL));
  ac_task_release(t);
  ASSERT_ERR(b.rc, AC_ECANCELED);
  ASSERT_NULL(b.rep);
  /* The connection is still usable; the BLPOP's answer, when it comes, is
   * freed by the client. The push comes from another connection: Redis
   * holds a blocked client's next commands until it is unblocked. */
  freeReplyObject(must(pusher, REDIS_REPLY_INTEGER, "RPUSH %s %s", "jobs", "x"));
  must_status(b.r, "PONG", "PING", NULL, NULL);
  freeReplyObject(must(b.r, REDIS_REPLY_INTEGER, "LLEN %s", "jobs", NULL));
  ac__redis_stats(b.r, &st);
  ASSERT_UEQ(st.reconnects, 0);
  ASSERT_UEQ(st.timeouts, 0);

  /* Cancelled again, and the client freed before the answer comes. */
  b.rep = (redisReply *)1;
  ASSERT_OK(ac_task_spawn(this_loop(), blpop_task, &b, NULL, &t));
  ASSERT_OK(ac_sleep(50));
  ASSERT_OK(ac_task_cancel(t));
  ASSERT_OK(ac_task_await(t, NULL));
  ac_task_release(t);
  ASSERT_ERR(b.rc, AC_ECANCELED);
  ac__redis_free(b.r);
  ac__redis_free(pusher);
  return 0;
}

TEST_IMPL(redis_cancel) {
  struct rsrv s;
  ac_test_count_allocations();
  rsrv_start(&s, 0, NULL);
  ASSERT_OK(in_task(cancel_body, &s));
  ASSERT_EQ(ac_test_live_allocations(), 0);
  rsrv_stop(&s);
}

static int free_pending_body(void *arg) {
  struct rsrv *s = arg;
  struct blocked b = {0}, c = {0};
  ac_task_t *t, *u;

  ASSERT_OK(open_uri(s->uri, 3000, NULL, 0, &b.r, NULL, 0));
  c.r = b.r;
  b.list = "a";
  c.list = "b";
  b.rep = c.rep = (redisReply *)1;
  ASSERT_OK(ac_task_spawn(this_loop(), blpop_task, &b, NULL, &t));
  ASSERT_OK(ac_task_spawn(this_loop(), blpop_task, &c, NULL, &u));
  ASSERT_OK(ac_sleep(50));
  ASSERT(b.started && c.started);
  ac__redis_free(b.r);
  ASSERT_OK(ac_task_await(t, NULL));
  ASSERT_OK(ac_task_await(u, NULL));
  ac_task_release(t);
  ac_task_release(u);
  ASSERT_ERR(b.rc, AC_ECLOSED);
  ASSERT_ERR(c.rc, AC_ECLOSED);
  ASSERT_NULL(b.rep);
  ASSERT_NULL(c.rep);
  return 0;
}

TEST_IMPL(redis_free_pending) {
  struct rsrv s;
  ac_test_count_allocations();
  rsrv_start(&s, 0, NULL);
  ASSERT_OK(in_task(free_pending_body, &s));
  ASSERT_EQ(ac_test_live_allocations(), 0);
  rsrv_stop(&s);
}

#define NTASKS 16
#define NROUNDS 40

struct worker {
  ac__redis_t *r;
  int id;
  int done;
};

static int worker_task(void *arg, void **result) {
  struct worker *w = arg;
  char key[32], val[64];
  (void)result;
  snprintf(key, sizeof(key), "w%d", w->id);
  for (int i = 0; i < NROUNDS; i++) {
    redisReply *reps[2];
    snprintf(val, sizeof(val), "task %d round %d", w->id, i);
    const char *set[] = {"SET", key, val};
    const char *get[] = {"GET", key};
    ac__redis_cmd_t cmds[] = {{3, set, NULL}, {2, get, NULL}};
    ASSERT_OK(ac__redis_pipeline(w->r, 2, cmds, reps));
    ASSERT_STR_EQ(reps[0]->str, "OK");
    ASSERT_STR_EQ(reps[1]->str, val);
    freeReplyObject(reps[0]);
    freeReplyObject(reps[1]);
    redisReply *rep;
    ASSERT_OK(ac__redis_callf(w->r, &rep, "INCR %s", "total"));
    ASSERT_EQ(rep->type, REDIS_REPLY_INTEGER);
    freeReplyObject(rep);
  }
  w->done = 1;
  return 0;
}

static int concurrent_body(void *arg) {
  struct rsrv *s = arg;
  struct worker w[NTASKS];
  ac_task_t *t[NTASKS];
  ac__redis_t *r;
  ASSERT_OK(open_uri(s->uri, 0, NULL, 0, &r, NULL, 0));
  for (int i = 0; i < NTASKS; i++) {
    w[i] = (struct worker){r, i, 0};
    ASSERT_OK(ac_task_spawn(this_loop(), worker_task, &w[i], NULL, &t[i]));
  }
  ASSERT_OK(ac_gather(t, NTASKS));
  for (int i = 0; i < NTASKS; i++) {
    ASSERT_OK(ac_task_error(t[i]));
    ASSERT(w[i].done);
    ac_task_release(t[i]);
  }
  char want[16];
  snprintf(want, sizeof(want), "%d", NTASKS * NROUNDS);
  must_string(r, want, "GET %s", "total", NULL);
  ac__redis_free(r);
  return 0;
}

TEST_IMPL(redis_concurrent) { with_redis(0, NULL, concurrent_body); }

/* Several tasks find the connection gone at once: one reconnects, the
 * others wait for its handshake, and all get their own replies. */
static int reconnect_many_body(void *arg) {
  struct rsrv *s = arg;
  struct worker w[NTASKS];
  ac_task_t *t[NTASKS];
  ac__redis_t *r, *killer;
  ac__redis_stats_t st;
  ASSERT_OK(open_uri(s->uri, 2000, scripts, 2, &r, NULL, 0));
  ASSERT_OK(open_uri(s->uri, 2000, NULL, 0, &killer, NULL, 0));
  must_status(r, "PONG", "PING", NULL, NULL);
  freeReplyObject(must(killer, REDIS_REPLY_INTEGER, "CLIENT KILL TYPE %s SKIPME %s", "normal",
                       "yes"));
  ASSERT_OK(ac_sleep(50)); /* the close reaches the client's socket */
  for (int i = 0; i < NTASKS; i++) {
    w[i] = (struct worker){r, i, 0};
    ASSERT_OK(ac_task_spawn(this_loop(), worker_task, &w[i], NULL, &t[i]));
  }
  ASSERT_OK(ac_gather(t, NTASKS));
  for (int i = 0; i < NTASKS; i++) {
    ASSERT_OK(ac_task_error(t[i]));
    ac_task_release(t[i]);
  }
  ac__redis_stats(r, &st);
  ASSERT_UEQ(st.reconnects, 1);
  evalsha_ok(r, "n", 5);
  ac__redis_free(killer);
  ac__redis_free(r);
  return 0;
}

TEST_IMPL(redis_reconnect_shared) { with_redis(0, NULL, reconnect_many_body); }

/* Not awaiting outside a task; a NULL client. */
TEST_IMPL(redis_outside_task) {
  ac__redis_opts_t o = {.uri = "redis://127.0.0.1:1"};
  ac__redis_t *r = (ac__redis_t *)1;
  char why[128];
  ac_loop_t *loop;
  ASSERT_OK(ac_loop_new(&loop));
  ASSERT_ERR(ac__redis_open(loop, &o, &r, why, sizeof(why)), AC_ENOTASK);
  ASSERT_NULL(r);
  ASSERT(why[0] != '\0');
  ASSERT_OK(ac_loop_close(loop));
  ac__redis_free(NULL);
  ASSERT_STR_EQ(ac__redis_last_error(NULL), "");
}

static int dns_body(void *arg) {
  ac__redis_t *r;
  char why[512];
  (void)arg;
  ASSERT_ERR(open_uri("redis://no-such-host.invalid:6379", 3000, NULL, 0, &r, why, sizeof(why)),
             AC_EDNS);
  if (strstr(why, "redis no-such-host.invalid:6379: cannot resolve the host") == NULL)
    AC__FAIL("why: %s", why);
  return 0;
}

TEST_IMPL(redis_dns) { ASSERT_OK(in_task(dns_body, NULL)); }

/* Something that answers, but not in RESP: an HTTP server's 400. */
static const char not_redis_py[] =
    "import socket, sys\n"
    "s = socket.socket()\n"
    "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
    "s.bind(('127.0.0.1', int(sys.argv[1])))\n"
    "s.listen(8)\n"
    "while True:\n"
    "    c, _ = s.accept()\n"
    "    try:\n"
    "        if c.recv(100):\n"
    "            c.sendall(b'HTTP/1.1 400 Bad Request\\r\\nContent-Length: 0\\r\\n\\r\\n')\n"
    "    except OSError:\n"
    "        pass\n"
    "    c.close()\n";

static int not_redis_body(void *arg) {
  int port = *(int *)arg;
  ac__redis_t *r;
  char uri[128], why[512];
  snprintf(uri, sizeof(uri), "redis://127.0.0.1:%d", port);
  ASSERT_ERR(open_uri(uri, 3000, NULL, 0, &r, why, sizeof(why)), AC_EPROTO);
  if (strstr(why, "not a Redis server? Protocol error") == NULL) AC__FAIL("why: %s", why);
  return 0;
}

TEST_IMPL(redis_not_redis) {
  struct ac_child c;
  char port[16];
  int p = ac_test_free_port();
  snprintf(port, sizeof(port), "%d", p);
  char *argv[] = {"python3", "-c", (char *)not_redis_py, port, NULL};
  struct ac_child_opts o = {.what = "a TCP server that is not Redis", .argv = argv,
                            .missing = "make test-deps installs python3", .port = p};
  memset(&c, 0, sizeof(c));
  ac_child_start(&c, &o);
  ASSERT_OK(in_task(not_redis_body, &p));
  ac_child_stop(&c, SIGTERM);
}

/* The connection lost under a waiting call: AC_ECONNRESET at once (not at
 * the timeout), and the next call reconnects. */
static int lost_body(void *arg) {
  struct rsrv *s = arg;
  struct blocked b = {0};
  ac__redis_t *killer;
  ac_task_t *t;
  ac__redis_stats_t st;
  uint64_t t0;

  ASSERT_OK(open_uri(s->uri, 5000, NULL, 0, &b.r, NULL, 0));
  ASSERT_OK(open_uri(s->uri, 5000, NULL, 0, &killer, NULL, 0));
  b.list = "never";
  b.rep = (redisReply *)1;
  ASSERT_OK(ac_task_spawn(this_loop(), blpop_task, &b, NULL, &t));
  ASSERT_OK(ac_sleep(50));
  t0 = ac_now_us();
  freeReplyObject(must(killer, REDIS_REPLY_INTEGER, "CLIENT KILL TYPE %s SKIPME %s", "normal",
                       "yes"));
  ASSERT_OK(ac_task_await(t, NULL));
  ac_task_release(t);
  ASSERT_ERR(b.rc, AC_ECONNRESET);
  ASSERT_NULL(b.rep);
  ASSERT_LT(ac_now_us() - t0, 2500 * 1000);
  must_status(b.r, "PONG", "PING", NULL, NULL);
  ac__redis_stats(b.r, &st);
  ASSERT_UEQ(st.reconnects, 1);
  ASSERT_UEQ(st.timeouts, 0);
  ac__redis_free(killer);
  ac__redis_free(b.r);
  return 0;
}

TEST_IMPL(redis_lost_midcall) { with_redis(0, NULL, lost_body); }
