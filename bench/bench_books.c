/*
 * The book site's data set: what building it costs, and what serving a
 * body costs once it is built (a lookup, no serialisation).
 *
 *   books_build          build the 9,040-book set, bodies only
 *   books_build_gzip     the same, gzip'ing every body at build (level 6)
 *   books_rss            RSS added by the first build (bodies only; later builds
 *                        reuse the memory freed before them, so this is not a median)
 *   books_detail_lookup  ac__books_find + ac__books_detail for a random id
 *   books_list_lookup    ac__books_list_page for a random page of 18
 *
 * Each figure is the median of 5 runs; RSS comes from /proc/self/statm.
 * Usage: bench_books
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"

#include "site/books.h"

#define RUNS 5
#define LOOKUPS 1000000


static struct ac__books *build(unsigned flags) {
  struct ac__books_options o;
  struct ac__books *b;
  ac__books_options_init(&o);
  o.flags = flags;
  if (ac__books_build(&o, &b) != 0) {
    fprintf(stderr, "bench_books: build failed\n");
    exit(1);
  }
  return b;
}

int main(void) {
  double build_ms[RUNS], gzip_ms[RUNS], detail_ns[RUNS], list_ns[RUNS];
  long rss_first = 0;
  struct ac__books_stats st;
  size_t sink = 0;
  for (int run = 0; run < RUNS; run++) {
    long rss0 = rss_kib();
    double t0 = now_ns();
    struct ac__books *b = build(0);
    build_ms[run] = (now_ns() - t0) / 1e6;
    if (run == 0) rss_first = rss_kib() - rss0;
    ac__books_stats(b, &st);

    /* Random ids and pages, drawn before the clock starts. */
    size_t n = ac__books_count(b);
    size_t *pick = malloc(LOOKUPS * sizeof *pick);
    if (pick == NULL) return 1;
    uint64_t x = 88172645463325252ULL + (uint64_t)run;
    for (size_t k = 0; k < LOOKUPS; k++) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      pick[k] = (size_t)(x % n);
    }
    struct ac__books_bytes body;
    t0 = now_ns();
    for (size_t k = 0; k < LOOKUPS; k++) {
      const char *id = ac__books_id(b, pick[k]);
      size_t idx;
      if (ac__books_find(b, id, strlen(id), &idx) != 0 || ac__books_detail(b, idx, &body) != 0)
        return 1;
      sink += body.len;
    }
    detail_ns[run] = (now_ns() - t0) / LOOKUPS;
    t0 = now_ns();
    for (size_t k = 0; k < LOOKUPS; k++) {
      if (ac__books_list_page(b, 18, 18 * (pick[k] % st.pages), &body) != 0) return 1;
      sink += body.len;
    }
    list_ns[run] = (now_ns() - t0) / LOOKUPS;
    free(pick);
    ac__books_free(b);

    t0 = now_ns();
    b = build(AC__BOOKS_GZIP);
    gzip_ms[run] = (now_ns() - t0) / 1e6;
    ac__books_free(b);
  }
  printf("books_build          %8.1f ms  (%zu books, %zu bodies bytes)\n", median(build_ms, RUNS), st.n,
         st.detail_bytes + st.page_bytes);
  printf("books_build_gzip     %8.1f ms\n", median(gzip_ms, RUNS));
  printf("books_rss            %8ld KiB\n", rss_first);
  printf("books_detail_lookup  %8.1f ns\n", median(detail_ns, RUNS));
  printf("books_list_lookup    %8.1f ns\n", median(list_ns, RUNS));
  return sink == 0;
}
