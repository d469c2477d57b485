/*
 * Site-layer internals shared by the book generator (books_gen.c) and the
 * body builder (books.c).
 */
#ifndef AC_SITE_INTERNAL_H
#define AC_SITE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "site/json_write.h"
#include "site/rng.h"

/* One JSON value of a book, kept as text in the generator's arena. */
enum book_kind {
  BOOK_NULL = 0, /* null */
  BOOK_STR,      /* a string: arena bytes are the raw (unescaped) UTF-8 */
  BOOK_NUM       /* a number: arena bytes are its JSON text, written as is */
};

struct book_val {
  unsigned char kind;
  unsigned char ascii; /* BOOK_STR: write with \uXXXX escapes (AC__JSON_ASCII) */
  size_t off;          /* into the arena */
  size_t len;
};

/* Caps on the arrays of one book. */
#define BOOK_MAX_AUTHORS 4
#define BOOK_MAX_TRANSLATORS 3
#define BOOK_MAX_TAGS 8
#define BOOK_MAX_COMMENTS 10

struct book {
  uint64_t id;
  unsigned traits;
  struct book_val name, publisher, url, isbn, cover, page_number, price, score;
  struct book_val introduction, catalog, published_at, updated_at;
  struct book_val authors[BOOK_MAX_AUTHORS];
  struct book_val translators[BOOK_MAX_TRANSLATORS];
  struct book_val tags[BOOK_MAX_TAGS];
  struct book_val comment_ids[BOOK_MAX_COMMENTS];
  struct book_val comment_texts[BOOK_MAX_COMMENTS];
  unsigned n_authors, n_translators, n_tags, n_comments;
  int translators_null; /* "translators": null rather than an array */
};

/* The PRNG stream of book i: the same (seed, i) always gives the same book. */
void ac__book_rng(struct ac__rng *r, uint64_t seed, size_t i);
/* The gap between the id of book i-1 and book i (1..999), or the first id's
 * offset for i == 0; the first draw of book i's stream. */
uint64_t ac__book_id_step(uint64_t seed, size_t i);

/*
 * Generates book i with the given id into *bk, its text into `arena` (which
 * is reset first). Returns 0 or the arena's error (AC_ENOMEM, AC_ETOOLARGE).
 */
int ac__book_generate(struct book *bk, struct ac__dynbuf *arena, uint64_t seed, size_t i,
                      uint64_t id);

/* Writes one value (null, a number's text or an escaped string). */
void ac__book_write_val(struct ac__dynbuf *out, const struct ac__dynbuf *arena,
                        const struct book_val *v);

#endif /* AC_SITE_INTERNAL_H */
