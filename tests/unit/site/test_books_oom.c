/*
 * Out of memory while building the data set, and while gzipping lazily:
 * every failing allocation gives AC_ENOMEM and leaks nothing (ASan and
 * valgrind check the leaks), and the first budget that suffices gives the
 * same bytes as an unconstrained build.
 */
#include "books_test.h"

static uint64_t hash_details(const struct ac__books *b) {
  uint64_t h = BT_FNV_INIT;
  struct ac__books_bytes d;
  for (size_t i = 0; i < ac__books_count(b); i++) {
    ASSERT_OK(ac__books_detail(b, i, &d));
    h = bt_fnv(h, d.base, d.len);
  }
  return h;
}

TEST_IMPL(books_oom_build) {
  struct ac__books_options o;
  struct ac__books *ref = bt_build(40, 5, 0), *b;
  uint64_t want = hash_details(ref);
  ac__books_free(ref);
  ac__books_options_init(&o);
  o.n = 40; /* holds a big text (index 17), so the arena grows a lot */
  o.seed = 5;
  o.flags = AC__BOOKS_GZIP; /* zlib's allocations too */
  long budget;
  int rc = -1;
  for (budget = 1; budget < 100000; budget++) {
    b = (struct ac__books *)1;
    ac__alloc_fail_after(budget);
    rc = ac__books_build(&o, &b);
    ac__alloc_fail_after(0);
    if (rc == 0) break;
    ASSERT_ERR(rc, AC_ENOMEM);
    ASSERT_NULL(b);
  }
  ASSERT_OK(rc);
  printf("books_oom_build: %ld allocations for 40 books with gzip\n", budget);
  ASSERT_GT(budget, 40);
  ASSERT_UEQ(hash_details(b), want);
  ac__books_free(b);
}

TEST_IMPL(books_oom_lazy_gzip) {
  struct ac__books *b = bt_build(20, 5, 0);
  struct ac__books_bytes g;
  int rc = -1;
  for (long budget = 1; budget < 1000; budget++) {
    ac__alloc_fail_after(budget);
    rc = ac__books_detail_gzip(b, 17, &g);
    ac__alloc_fail_after(0);
    if (rc == 0) break;
    ASSERT_ERR(rc, AC_ENOMEM);
  }
  ASSERT_OK(rc);
  ac__alloc_fail_after(1);
  ASSERT_ERR(ac__books_list_page_gzip(b, 18, 0, &g), AC_ENOMEM);
  ac__alloc_fail_after(0);
  ASSERT_OK(ac__books_list_page_gzip(b, 18, 0, &g));
  ac__books_free(b);
}
