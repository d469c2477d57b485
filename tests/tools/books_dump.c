/*
 * Writes the book site's data set as JSON Lines (one detail body per line,
 * in id order) to stdout: the truth a crawl is compared against.
 *
 *   ac_books_dump [N [SEED]]      defaults: 9040 books, seed 20200321
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "acrawl/errno.h"
#include "site/books.h"

static int parse_u64(const char *s, unsigned long long *out) {
  char *end;
  errno = 0;
  *out = strtoull(s, &end, 10);
  return errno == 0 && end != s && *end == '\0' && s[0] != '-';
}

int main(int argc, char **argv) {
  struct ac__books_options o;
  struct ac__books *b;
  unsigned long long v;
  ac__books_options_init(&o);
  if (argc > 3 || (argc > 1 && !parse_u64(argv[1], &v))) {
    fprintf(stderr, "usage: %s [N [SEED]]\n", argv[0]);
    return 2;
  }
  if (argc > 1) o.n = (size_t)v;
  if (argc > 2) {
    if (!parse_u64(argv[2], &v)) {
      fprintf(stderr, "usage: %s [N [SEED]]\n", argv[0]);
      return 2;
    }
    o.seed = v;
  }
  int rc = ac__books_build(&o, &b);
  if (rc != 0) {
    fprintf(stderr, "ac_books_dump: %s\n", ac_strerror(rc));
    return 1;
  }
  rc = ac__books_dump_jsonl(b, stdout);
  ac__books_free(b);
  if (rc != 0) {
    fprintf(stderr, "ac_books_dump: writing: %s\n", ac_strerror(rc));
    return 1;
  }
  return 0;
}
