/*
 * The replica's pieces in process: the JSON validator behind httpbin's
 * "json" field, and ac__site_new under allocation failures (AC_ENOMEM
 * returned at every step, nothing leaked).
 */
#include <string.h>

#include "acrawl.h"
#include "common/alloc.h"
#include "runner.h"
#include "site/site.h"
#include "site/site_internal.h"

static int valid(const char *s) { return ac__json_valid(s, strlen(s)); }

TEST_IMPL(site_json_validator) {
  static const char *const good[] = {
      "{}", "[]", "0", "-0.5e+10", "\"\"", "true", "null", " {\"a\" : [1, 2.5, \"x\\u00e9\", {}]} ",
      "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "[[[[[]]]]]", "\"\xe4\xb8\xad\"", "1E5",
  };
  static const char *const bad[] = {
      "", " ", "{", "{\"a\"}", "{\"a\":}", "[1,]", "[,1]", "01", "1.", ".5", "-", "+1",
      "tru", "nul", "\"abc", "\"\\x\"", "\"\\u12\"", "{\"a\":1}}", "{} {}", "'a'",
      "\"a\nb\"", "{\"a\":1,}", "[1 2]", "NaN", "1e",
  };
  char deep[200];
  for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
    if (!valid(good[i])) AC__FAIL("refused: %s", good[i]);
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    if (valid(bad[i])) AC__FAIL("accepted: %s", bad[i]);
  /* Cut anywhere, a document stops being valid. */
  {
    const char *doc = "{\"count\":9040,\"results\":[{\"id\":\"1\",\"score\":8.5}]}";
    for (size_t n = 1; n < strlen(doc); n++) ASSERT(!ac__json_valid(doc, n));
    ASSERT(valid(doc));
  }
  /* Nesting past the cap is refused, not recursed into. */
  memset(deep, '[', 100);
  memset(deep + 100, ']', 100);
  ASSERT(!ac__json_valid(deep, sizeof(deep)));
  ASSERT(ac__json_valid(deep + 40, 120));
}

TEST_IMPL(site_new_out_of_memory) {
  struct ac__site_options o;
  struct ac__site *s = NULL;
  ac_loop_t *loop;
  long n;
  int rc;

  ac_test_count_allocations();
  ASSERT_OK(ac_loop_new(&loop));
  ac__site_options_init(&o);
  o.books.n = 64;
  o.gone = 3;
  for (n = 1;; n++) {
    ac__alloc_fail_after(n);
    rc = ac__site_new(loop, &o, &s);
    ac__alloc_fail_after(0);
    if (rc == 0) break;
    ASSERT_ERR(rc, AC_ENOMEM);
    ASSERT_OK(ac_loop_run(loop)); /* releases what the failed server closed */
  }
  ASSERT_GE(n, 5);
  ASSERT_EQ(ac__books_count(ac__site_books(s)), 64);
  {
    int gone = 0;
    for (size_t i = 0; i < 64; i++) gone += ac__site_is_gone(s, i);
    ASSERT_EQ(gone, 3);
  }
  ASSERT_OK(ac__site_free(s));
  ASSERT_OK(ac_loop_run(loop));
  ASSERT_OK(ac_loop_close(loop));
  ASSERT_EQ(ac_test_live_allocations(), 0);
}
