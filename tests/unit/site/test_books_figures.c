/*
 * Figures for the default data set (9,040 books): build time, memory, and
 * the bytes of every body, printed for the record and never asserted (the
 * machine decides them). Run: ./build/tests/ac_tests books_figures
 */
#include <sys/resource.h>
#include <time.h>

#include "books_test.h"

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long max_rss_kb(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

static void figure(unsigned flags) {
  struct ac__books *b;
  struct ac__books_stats st;
  long rss0 = max_rss_kb();
  double t0 = now_s();
  b = bt_build(AC__BOOKS_DEFAULT_N, AC__BOOKS_DEFAULT_SEED, flags);
  double t1 = now_s();
  long rss1 = max_rss_kb();
  ac__books_stats(b, &st);
  size_t total = st.detail_bytes + st.page_bytes;
  printf("books: %zu books, %zu pages, gzip at build: %s\n", st.n, st.pages,
         flags & AC__BOOKS_GZIP ? "yes" : "no");
  printf("  build %.3f s, peak RSS %ld KB -> %ld KB (+%ld KB)\n", t1 - t0, rss0, rss1, rss1 - rss0);
  printf("  details %zu B, list items %zu B, prebuilt pages %zu B, all bodies %zu B, "
         "gzip'd %zu B, biggest body %zu B\n",
         st.detail_bytes, st.item_bytes, st.page_bytes, total, st.gzip_bytes, st.biggest_body);
  ac__books_free(b);
}

TEST_IMPL(books_figures) {
  figure(0);
  figure(AC__BOOKS_GZIP);
}
