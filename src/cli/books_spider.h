/*
 * The books spider of `acrawl books`: the tutorial's site (spa5.scrape.center)
 * through its Ajax JSON API, as a spider of the crawl engine. A part of the
 * tool, not of libacrawl: the engine knows nothing of any site.
 */
#ifndef AC_CLI_BOOKS_SPIDER_H
#define AC_CLI_BOOKS_SPIDER_H

#include "acrawl/crawl.h"

/* List pages `<base>/api/book/?limit=L&offset=O`, then `<base>/api/book/<id>`
 * for each book, each emitted with its id as key and the detail body as
 * document. */
typedef struct books_spider_opts {
  const char *base_url; /* "https://spa5.scrape.center" when NULL. Copied. */
  int page_size;        /* 18 when 0 */
  int first_page;       /* 1-based; 1 when 0 */
  int last_page;        /* 0: from the first page's count */
} books_spider_opts_t;

/* Make the spider: returns 0, AC_EINVAL (a base URL that is not
 * http(s)://host..., a page range that is empty), AC_ENOMEM. Free with
 * books_spider_free after the crawl. */
int books_spider_new(const books_spider_opts_t *opts, ac_spider_t *out);
void books_spider_free(ac_spider_t *spider);

#endif /* AC_CLI_BOOKS_SPIDER_H */
