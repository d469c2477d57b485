/*
 * The book site's whole data set (9,040 books) through the MongoDB backend
 * in batches of 500, read back by an independent reader (pymongo, in
 * tests/tools/mongo_dump.py) and compared value for value with the truth.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "acrawl/errno.h"
#include "mongo_testlib.h"
#include "runner.h"
#include "site/books.h"
#include "store/internal.h"

enum { BATCH = 500 };

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void write_all(void *be, struct ac__books *books) {
  static ac__store_doc_t docs[BATCH];
  char err[512];
  size_t n = ac__books_count(books);
  for (size_t first = 0; first < n; first += BATCH) {
    size_t k = n - first < BATCH ? n - first : BATCH;
    for (size_t i = 0; i < k; i++) {
      struct ac__books_bytes body;
      ASSERT_OK(ac__books_detail(books, first + i, &body));
      docs[i].key = ac__books_id(books, first + i);
      docs[i].doc = body.base;
      docs[i].len = body.len;
    }
    int transient = -1;
    uint64_t skipped;
    int rc = ac__store_mongo.write(be, docs, k, &skipped, &transient, err, sizeof(err));
    if (rc != 0) AC__FAIL("batch at %zu: %s (transient %d): %s", first, ac_err_name(rc), transient, err);
  }
}

/* Compare the collection with the truth through pymongo (exit 0 = equal). */
static void compare_with_python(const struct mongo_server *s, const char *coll, const char *truth) {
  char plain[1100];
  mongo_plain_uri(s, plain, sizeof(plain));
  if (access("/usr/bin/python3", X_OK) != 0) AC__FAIL("/usr/bin/python3 not found (make test-deps)");
  int rc = mongo_sh("/usr/bin/python3 '%s/mongo_dump.py' '%s' %s '%s' --expect '%s' --key id %s >&2",
                    AC_TEST_TOOLS_DIR, plain, MONGO_TEST_DB, coll, truth,
                    s->real ? "" : "--lossy-int64");
  if (rc == 77) AC__FAIL("pymongo not found under /usr/bin/python3 (python3-pymongo: make test-deps)");
  ASSERT_EQ(rc, 0);
}

TEST_SLOW(mongo_store_books_9040) {
  struct mongo_server s;
  char uri[1200], coll[128], truth[160], err[512];
  void *be;
  mongo_server_start(&s);
  mongo_store_uri(&s, "books", uri, sizeof(uri), coll, sizeof(coll));

  struct ac__books *books;
  ASSERT_OK(ac__books_build(NULL, &books));
  ASSERT_EQ(ac__books_count(books), 9040);
  snprintf(truth, sizeof(truth), "/tmp/ac_mongo_books_%ld.jsonl", (long)getpid());
  FILE *f = fopen(truth, "w");
  ASSERT_NOT_NULL(f);
  ASSERT_OK(ac__books_dump_jsonl(books, f));
  ASSERT_EQ(fclose(f), 0);

  ASSERT_OK(mongo_open_uri(uri, &be, err, sizeof(err)));
  double t0 = now_s();
  write_all(be, books);
  double t1 = now_s();
  ASSERT_EQ(mongo_count(&s, coll), 9040);
  compare_with_python(&s, coll, truth);

  /* A second crawl of the same site: still one document per key. */
  double t2 = now_s();
  write_all(be, books);
  double t3 = now_s();
  ASSERT_EQ(mongo_count(&s, coll), 9040);
  compare_with_python(&s, coll, truth);
  fprintf(stderr, "9,040 books in batches of %d: first write %.1f s, re-write %.1f s (%s)\n",
          BATCH, t1 - t0, t3 - t2, s.real ? "ACRAWL_TEST_MONGODB_URI" : "the CongoDB stand-in");

  ASSERT_OK(ac__store_mongo.close(be, err, sizeof(err)));
  mongo_drop(&s, coll);
  ac__books_free(books);
  unlink(truth);
}
