/*
 * The book site's data set: a deterministic replica of the books behind
 * spa5.scrape.center (formerly dynamic5.scrape.cuiqingcai.com), the site the
 * tutorial crawls, with every response body built once and kept in memory.
 *
 * Internal to the site layer. The site server (acrawl site) serves these
 * bodies as they are: no serialisation per request. The JSON Lines dump is
 * the truth that crawl and store tests compare against.
 *
 * Determinism. Book i (0-based, in id order) is drawn from its own PRNG
 * stream derived from (seed, i), with integer arithmetic only, so the same
 * seed gives byte-identical bodies on every machine. A smaller set is a
 * prefix of a larger one with the same seed: same ids, same details (only
 * "count" in the list bodies differs). The gzip'd bytes are zlib's and may
 * differ between zlib versions; what they decompress to does not.
 *
 * Shape, as the real site (Django REST framework, compact separators,
 * non-ASCII as UTF-8):
 *   list:   {"count":N,"results":[{"id","name","authors","cover","score"},...]}
 *   detail: {"id","name","authors","translators","publisher","tags","url",
 *            "isbn","cover","page_number","price","score","introduction",
 *            "catalog","published_at","updated_at","comments":[{"id","content"}]}
 * in that key order. Ids are strings of digits, strictly increasing with the
 * index (8 digits for sets of up to about 170,000 books, more past that), so
 * "id order" is the numeric order and the list order. A list item's values
 * are byte-equal to the same fields of the detail.
 *
 * Ordinary books: score a string like "8.8"; price a string like "59.00元",
 * "CNY 39.00" or "$12.99"; page_number an int (null for about 1 in 20);
 * published_at "YYYY-MM-DDT16:00:00Z"; updated_at with microseconds;
 * authors padded or not; Chinese text everywhere, some ASCII.
 *
 * Nasty books are chosen by index alone (not by seed), so tests can target
 * them: see enum ac__book_trait and ac__books_traits().
 */
#ifndef AC_SITE_BOOKS_H
#define AC_SITE_BOOKS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define AC__BOOKS_DEFAULT_N 9040
#define AC__BOOKS_DEFAULT_SEED 20200321u
#define AC__BOOKS_DEFAULT_PAGE_SIZE 18
/* Upper bounds checked by ac__books_build (AC_EINVAL past them). Bodies
 * take about 4.5 KB per book (41 MB for 9,040; 800 MB for 170,000). */
#define AC__BOOKS_MAX_N 2000000
#define AC__BOOKS_MAX_PAGE_SIZE 1000
/* No single body is larger than this (the biggest detail is about 300 KB). */
#define AC__BOOKS_MAX_BODY (4u << 20)

/* The body of a 404 for an unknown id, as Django REST framework words it. */
#define AC__BOOKS_NOT_FOUND_BODY "{\"detail\":\"Not found.\"}"

/*
 * What makes a book nasty, with the rule (on the 0-based index i) that picks
 * the books carrying it. With N = 9,040 the counts are in brackets. A book can
 * carry several; where two would touch the same field, the precedence is
 * said below. Every trait appears at least once in any set of 64 or more
 * books (each rule's first index is below 64).
 */
enum ac__book_trait {
  /* i % 3 == 0 and not AC_BOOK_EMPTY_ARRAYS [2,954]: every author (and
   * translator) string is padded like the real site's, e.g.
   * "\n            [英]\n            蒂姆·哈福德\n            ". */
  AC_BOOK_PADDED_AUTHORS = 1u << 0,
  /* i % 50 == 1 [181]: characters outside the BMP written as raw UTF-8: the
   * name ends with U+1F4DA (📚), the introduction holds U+1F600 (😀),
   * U+20BB7 (𠮷, CJK extension B), U+2028, U+FEFF and a ZWJ sequence
   * (👨‍👩‍👧), the first comment holds 👍🏽. */
  AC_BOOK_NON_BMP = 1u << 1,
  /* i % 50 == 2 [181]: name, publisher, the first author and the first
   * comment written with \uXXXX escapes for every non-ASCII character,
   * characters past U+FFFF (the name's trailing 📚) as surrogate pairs
   * (\ud83d\udcda), as json.dumps(ensure_ascii=True) would. */
  AC_BOOK_U_ESCAPES = 1u << 2,
  /* i % 50 == 3 [181]: '"' and '\\' in the name, in the first tag and in the
   * introduction (a Windows path and the Extended-JSON bait
   * {"$date": "yesterday"} inside the text), and '/' unescaped. */
  AC_BOOK_QUOTES = 1u << 3,
  /* i % 50 == 4 [181]: the introduction holds U+0001 and U+001F (written
   * \u0001, \u001f), \t, \r\n, \b, \f, and a raw DEL (0x7F, legal JSON). */
  AC_BOOK_CONTROL = 1u << 4,
  /* i % 500 == 5 [19]: U+0000 (written \u0000) inside the catalog and at
   * the start of the first comment's content (cJSON cuts strings there:
   * compare bytes). */
  AC_BOOK_NUL = 1u << 5,
  /* i % 50 == 6 [181]: translators, publisher, isbn, page_number, price,
   * score, catalog, published_at and updated_at are all null. */
  AC_BOOK_NULLS = 1u << 6,
  /* i % 50 == 7 [181]: authors, translators, tags and comments are empty
   * arrays, and the introduction is "" (unless AC_BOOK_BIG_TEXT). */
  AC_BOOK_EMPTY_ARRAYS = 1u << 7,
  /* i % 904 == 17 [10]: an introduction of 100,000 to 300,000 bytes. */
  AC_BOOK_BIG_TEXT = 1u << 8,
  /* i % 10 == 8 [904]: score is a JSON number with two decimals and a
   * trailing zero, e.g. 8.50 (value 8.5, text "8.50"). */
  AC_BOOK_FLOAT_SCORE = 1u << 9,
  /* i % 10 == 9 [904]: price is a JSON number with two decimals, e.g. 59.00
   * or 45.50; for i % 1000 == 9 [9] with an exponent instead: 1.2e+2. */
  AC_BOOK_FLOAT_PRICE = 1u << 10,
  /* i == 11 only [1]: the first comment's id is the JSON number
   * 9007199254740993 (2^53 + 1: a double cannot hold it). */
  AC_BOOK_BIG_INT = 1u << 11,
  /* i % 50 == 12 [181]: every comment id is a JSON number (below 2^31)
   * instead of a string. */
  AC_BOOK_NUMERIC_IDS = 1u << 12
};

/* The traits of the book at index i (for any set size and seed). */
unsigned ac__books_traits(size_t i);

/* Ask ac__books_build to gzip every body at build time (otherwise gzip is
 * done on first request and cached). */
#define AC__BOOKS_GZIP 1u

struct ac__books_options {
  size_t n;           /* books, 0..AC__BOOKS_MAX_N (default 9,040) */
  uint64_t seed;      /* default AC__BOOKS_DEFAULT_SEED */
  size_t page_size;   /* the list page that is prebuilt (default 18) */
  unsigned flags;     /* AC__BOOKS_GZIP */
  int gzip_level;     /* 1..9 (default 6) */
};

/* A borrowed byte range owned by the set, valid until ac__books_free. */
struct ac__books_bytes {
  const char *base;
  size_t len;
};

struct ac__books_stats {
  size_t n;
  size_t pages;          /* prebuilt list pages (ceil(n / page_size)) */
  size_t detail_bytes;   /* all detail bodies */
  size_t item_bytes;     /* all list items, with their separators */
  size_t page_bytes;     /* all prebuilt list bodies, the empty one included */
  size_t gzip_bytes;     /* gzip'd bodies made so far */
  size_t biggest_body;
};

struct ac__books;

void ac__books_options_init(struct ac__books_options *o);

/* Builds the data set and every body. Returns 0 and sets *out, AC_EINVAL for
 * options out of bounds, AC_ENOMEM (never aborts; nothing leaks). Free the set
 * with ac__books_free. `o` may be NULL for the defaults. */
int ac__books_build(const struct ac__books_options *o, struct ac__books **out);
void ac__books_free(struct ac__books *b);

size_t ac__books_count(const struct ac__books *b);
/* The id (a string of digits, NUL-terminated, owned by the set) of book i,
 * or NULL past the end. */
const char *ac__books_id(const struct ac__books *b, size_t i);
/* The index of the book with this id (exact string match: no sign, spaces or
 * leading zeros), or AC_ENOENT. */
int ac__books_find(const struct ac__books *b, const char *id, size_t len, size_t *index);

/* The detail body of book i; AC_ENOENT past the end. */
int ac__books_detail(const struct ac__books *b, size_t i, struct ac__books_bytes *out);

/*
 * The list body for ?limit=&offset= as three borrowed pieces (head, items,
 * tail) whose concatenation is the body, for any limit and offset, without
 * copying (writev them). Past the end, and for limit 0, results is [].
 */
void ac__books_list_iov(const struct ac__books *b, size_t limit, size_t offset,
                        struct ac__books_bytes parts[3]);
/* The same body as one contiguous prebuilt range when it exists: limit equal
 * to the page size and offset a multiple of it, or offset past the end.
 * AC_ENOENT otherwise (use ac__books_list_iov). */
int ac__books_list_page(const struct ac__books *b, size_t limit, size_t offset,
                        struct ac__books_bytes *out);

/* Gzip'd forms (RFC 1952, mtime 0, OS "unknown") of the detail of book i and
 * of a prebuilt list page, made on first use and kept. Not thread-safe (the
 * server's loop is one thread). AC_ENOENT as above, AC_ENOMEM. */
int ac__books_detail_gzip(struct ac__books *b, size_t i, struct ac__books_bytes *out);
int ac__books_list_page_gzip(struct ac__books *b, size_t limit, size_t offset,
                             struct ac__books_bytes *out);

/* Writes every detail body, one per line ('\n'), in id order. Returns 0 or
 * AC_EIO when a write fails. */
int ac__books_dump_jsonl(const struct ac__books *b, FILE *f);

void ac__books_stats(const struct ac__books *b, struct ac__books_stats *st);

#endif /* AC_SITE_BOOKS_H */
