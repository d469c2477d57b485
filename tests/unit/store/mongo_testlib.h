/*
 * Helpers for the MongoDB store tests: a MongoDB-wire server to write to and
 * the backend's ops called the way store.c's writer thread calls them.
 *
 * The server is the CongoDB stand-in (tests/mongo), started per test on a
 * port it picks and stopped when the test ends however it ends; or, when
 * ACRAWL_TEST_MONGODB_URI is set (mongodb://HOST[:PORT][/?OPTIONS]), that
 * real server, where every test uses its own collection and drops it after.
 * Without node/npm (and no ACRAWL_TEST_MONGODB_URI) the tests skip (77).
 */
#ifndef AC_TESTS_MONGO_TESTLIB_H
#define AC_TESTS_MONGO_TESTLIB_H

#include <mongoc/mongoc.h>
#include <stddef.h>
#include <sys/types.h>

#include "child.h"
#include "store/internal.h"

struct mongo_server {
  int real;           /* 1: ACRAWL_TEST_MONGODB_URI, 0: the stand-in */
  struct ac_child child; /* the stand-in's node process (pid 0 when stopped) */
  int port;
  char base[512];     /* mongodb://HOSTS (no path, no options) */
  char query[512];    /* "" or "?OPTIONS" from ACRAWL_TEST_MONGODB_URI */
  char dir[64];       /* the test's temporary directory */
  char log[128];      /* the stand-in's stderr */
};

/* Start a server for this test (or take the real one). Skips with 77 when
 * node or npm is missing. */
void mongo_server_start(struct mongo_server *s);
/* Start the stand-in again on the port it had (after mongo_server_kill). */
void mongo_server_restart(struct mongo_server *s);
/* Kill the stand-in with sig and wait for it (SIGKILL after 10 s). */
void mongo_server_kill(struct mongo_server *s, int sig);
/* Skip (77) when the server is a real one (a test that kills the server). */
void mongo_server_require_standin(const struct mongo_server *s, const char *why);

/* The store URI of a collection of this test: BASE/acrawl_test.COLL_PID?Q;
 * the collection name (COLL_PID) goes to coll_out when non-NULL. */
void mongo_store_uri(const struct mongo_server *s, const char *coll, char *out, size_t outlen,
                     char *coll_out, size_t coll_outlen);
/* mongodb://HOSTS/?Q for a plain libmongoc client or pymongo. */
void mongo_plain_uri(const struct mongo_server *s, char *out, size_t outlen);
#define MONGO_TEST_DB "acrawl_test"

/* A libmongoc client on the server (mongoc_init done); destroy it. */
mongoc_client_t *mongo_test_client(const struct mongo_server *s);
/* Documents in the test's collection. */
int64_t mongo_count(const struct mongo_server *s, const char *coll);
/* Drop the collection (a real server keeps it otherwise). */
void mongo_drop(const struct mongo_server *s, const char *coll);

/* The backend's open with the defaults store.c would pass. */
int mongo_open_uri(const char *uri, void **be, char *err, size_t errlen);

/* Run a shell command; returns its exit status (-1 when it did not run). */
int mongo_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
