/*
 * The book-site replica (acrawl site): the tutorial's book API, httpbin-style
 * endpoints and seeded fault injection, as routes on an ac_server_t.
 *
 * Internal to the site layer; the CLI (src/cli/site.c) drives it. The book
 * bodies are the prebuilt ones of site/books.h, served as they are. Faults
 * (site/faults.h) apply to the book API only, so that the httpbin endpoints
 * stay a clean reference for the client's tests.
 *
 * Everything runs on the server's loop thread.
 */
#ifndef AC_SITE_SITE_H
#define AC_SITE_SITE_H

#include <stddef.h>
#include <stdint.h>

#include "acrawl.h"
#include "site/books.h"
#include "site/faults.h"

/* The largest ?limit= honoured; larger ones are cut to it (the real site's
 * Django REST framework pagination caps it too). */
#define AC__SITE_DEFAULT_MAX_LIMIT 100
/* /delay/{s} waits at most this long, /bytes/{n} sends at most this many. */
#define AC__SITE_MAX_DELAY_MS 10000u
#define AC__SITE_MAX_BYTES (100u * 1024u)
/* /redirect/{n} chains at most this many hops. */
#define AC__SITE_MAX_REDIRECTS 100

/* A shape option's value meaning "one per URL, drawn from the fault seed". */
#define AC__SITE_ANY (-1)

/*
 * What the book API's answers look like beyond the bytes of the data set,
 * decided per URL from the fault seed (the same on every attempt). Each is
 * something real servers send; the 200 list and detail bodies stay equal in
 * value to the data set's.
 */
struct ac__site_shapes {
  int style;    /* enum ac__json_style (json_write.h), or AC__SITE_ANY */
  int escape;   /* enum ac__json_escape (json_write.h), or AC__SITE_ANY */
  double pbom;  /* share of URLs whose 200 bodies start with a UTF-8 BOM */
  /* The Content-Type of every JSON answer of the book API (copied); NULL
   * for "application/json", "any" for one per URL from a list of labels
   * real servers put on JSON (AC__SITE_CONTENT_TYPES). */
  const char *content_type;
};

/* The labels "any" draws from, in this order. */
#define AC__SITE_CONTENT_TYPES                                                             \
  "application/json", "application/json; charset=utf-8", "application/json;charset=UTF-8", \
      "text/json", "text/javascript; charset=utf-8", "text/plain; charset=utf-8",          \
      "text/html; charset=UTF-8"

struct ac__site_options {
  struct ac__books_options books;
  struct ac__faults_config faults;
  struct ac__site_shapes shapes;
  size_t gone;        /* ids answering 404 forever, picked from faults.seed */
  size_t max_limit;   /* cap on ?limit= (default AC__SITE_DEFAULT_MAX_LIMIT) */
  /* /api/books/cursor: the answer for the page at this index (0-based, from
   * 1) gives the previous page's cursor again as next_cursor, a loop a
   * crawler must notice; 0: off. */
  size_t cursor_loop;
  ac_server_opts_t server;
};

/* 200 list and detail bodies counted by /__stats, by what was done to
 * them (a body can count under several). */
enum ac__site_shape {
  AC__SHAPE_PRETTY = 0,
  AC__SHAPE_SPACED,
  AC__SHAPE_MIXED,
  AC__SHAPE_ESCAPE_ASCII,
  AC__SHAPE_ESCAPE_SLASH,
  AC__SHAPE_ESCAPE_PHP,
  AC__SHAPE_BOM,
  AC__SHAPE_KINDS
};

/* "pretty", "spaced", "mixed", "escape_ascii", "escape_slash", "escape_php",
 * "bom". Static. */
const char *ac__site_shape_name(enum ac__site_shape shape);

/* Requests counted by /__stats, by what they asked for. */
enum ac__site_kind {
  AC__SITE_LIST = 0,
  AC__SITE_DETAIL,
  AC__SITE_REDIRECT,
  AC__SITE_NOT_FOUND,
  AC__SITE_HTTPBIN,
  AC__SITE_STATS,
  /* The same list records through other paginators (site_styles.c). */
  AC__SITE_PAGES,
  AC__SITE_PAGES_OPEN,
  AC__SITE_CURSOR,
  AC__SITE_NEXT,
  AC__SITE_LINKED,
  AC__SITE_SEARCH,
  AC__SITE_KINDS
};

struct ac__site;

/* Defaults: 9,040 books, no faults, compact bodies as application/json, the
 * server's default limits. */
void ac__site_options_init(struct ac__site_options *o);

/*
 * Build the data set and the fault planner, create the server on loop and add
 * every route (not listening yet). Returns 0 and *out, AC_EINVAL (options out
 * of bounds), AC_ENOMEM; nothing leaks on failure.
 */
int ac__site_new(ac_loop_t *loop, const struct ac__site_options *o, struct ac__site **out);

/* The server, to listen, read counters and shut down. Owned by the site. */
ac_server_t *ac__site_server(struct ac__site *s);
/* The data set (for the dump and the tests). Owned by the site. */
const struct ac__books *ac__site_books(const struct ac__site *s);
/* 1 if book i was picked to answer 404 forever. */
int ac__site_is_gone(const struct ac__site *s, size_t i);
/* Requests of one kind so far. */
uint64_t ac__site_count(const struct ac__site *s, enum ac__site_kind kind);
/* 200 bodies of one shape so far. */
uint64_t ac__site_shape_count(const struct ac__site *s, enum ac__site_shape shape);

/*
 * Free the site. Its server must have no connection left (after
 * ac_server_shutdown, or before it listened): returns AC_EBUSY and frees
 * nothing otherwise. Run or close the loop afterwards (the listening socket
 * is released there).
 */
int ac__site_free(struct ac__site *s);

#endif /* AC_SITE_SITE_H */
