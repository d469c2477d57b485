/*
 * acrawl books: the main job. Crawl the tutorial's book site through its
 * Ajax JSON API (list pages, then one detail per book) into one or more
 * stores, with the crawl state beside the first file store for --resume.
 *
 * It runs the book site's spec (specs/books.json, built in: books_spec.h)
 * with the spec engine, as `acrawl crawl specs/books.json` would; its own
 * options (--page-size, --pages) become the list paginator's limit, start
 * and max_pages. The crawl itself, the stores, signals and the exit status
 * are every crawl command's (run.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "acrawl.h"
#include "cli/books_spec.h"
#include "cli/cli.h"
#include "cli/opts.h"
#include "cli/run.h"

#define BOOKS_SITE "https://spa5.scrape.center"

typedef struct books_opts {
  const char *base_url; /* --base; NULL: the spec's */
  int page_size;        /* 0: the spec's */
  int first_page;       /* 1-based; 0: from the first */
  int last_page;        /* 0: from the site's count */
} books_opts_t;

typedef struct books_cfg {
  books_opts_t books;
  ac__cli_run_t run;
} books_cfg_t;

/* --pages FIRST-LAST (or one page: N) into the spider's options. */
static int parse_pages(void *field, const char *v) {
  books_opts_t *b = field;
  uint64_t first, last;
  char num[24];
  const char *dash = strchr(v, '-');
  size_t n = dash != NULL ? (size_t)(dash - v) : strlen(v);
  if (n >= sizeof(num)) return -1;
  memcpy(num, v, n);
  num[n] = '\0';
  if (ac__opts_uint(num, 1, 100000000, &first) != 0) return -1;
  if (dash == NULL) last = first;
  else if (ac__opts_uint(dash + 1, first, 100000000, &last) != 0) return -1;
  b->first_page = (int)first;
  b->last_page = (int)last;
  return 0;
}

#define AT(f) AC__OPT_AT(books_cfg_t, f)

static const struct ac__opt books_opts[] = {
    {.name = "base", .type = AC__OPT_STR, AT(books.base_url), .arg = "URL",
     .help = "the site (default https://spa5.scrape.center; the local\n"
             "replica: acrawl site --port 8080, then http://127.0.0.1:8080)"},
    {.name = "page-size", .type = AC__OPT_UINT, AT(books.page_size), .min = 1, .max = 10000,
     .arg = "N", .help = "books per list page (default 18)"},
    {.name = "pages", .type = AC__OPT_FUNC, AT(books), .fn = parse_pages,
     .wants = "FIRST-LAST with 1 <= FIRST <= LAST <= 100000000", .arg = "FIRST-LAST",
     .help = "only these list pages (1-based; default: all, from count)"},
    AC__CLI_RUN_OPTS(books_cfg_t, run, "books", "books.db"),
};

#undef AT

static const struct ac__opts books_spec = {
    .cmd = "books",
    .opts = books_opts,
    .nopts = sizeof(books_opts) / sizeof(books_opts[0]),
    .width = 19,
    .intro = "usage: acrawl books [options]\n"
             "\n"
             "Crawl the book site through its JSON API: list pages\n"
             "  BASE/api/book/?limit=L&offset=O, then BASE/api/book/ID for every book,\n"
             "and upsert each book by id into the stores. A live progress line on a\n"
             "terminal (log lines otherwise), a summary at the end. Ctrl-C stops\n"
             "gracefully (requests in flight finish, stores are flushed, the state is\n"
             "saved); a second Ctrl-C stops at once. --resume continues a stopped or\n"
             "killed crawl without fetching again what is stored.\n",
    .outro = AC__CLI_RUN_EXIT_HELP,
};

/* Returns 0, 1 for --help (printed), -1 on a bad command line (said). */
static int parse_args(books_cfg_t *cfg, int argc, char **argv) {
  int rc = ac__opts_parse(&books_spec, cfg, argc, argv);
  if (rc == AC__OPTS_HELP) {
    ac__opts_usage(&books_spec, stdout);
    return 1;
  }
  if (rc != AC__OPTS_OK) return -1;
  return ac__cli_run_check(&cfg->run);
}

/* Sets member `key` of obj to the number v. */
static int set_number(cJSON *obj, const char *key, double v) {
  cJSON *n = cJSON_CreateNumber(v);
  if (n == NULL) return AC_ENOMEM;
  if (cJSON_GetObjectItemCaseSensitive(obj, key) != NULL)
    return cJSON_ReplaceItemInObjectCaseSensitive(obj, key, n) ? 0 : AC_ENOMEM;
  return cJSON_AddItemToObject(obj, key, n) ? 0 : AC_ENOMEM;
}

/* The built-in spec with the list paginator fitted to --page-size and
 * --pages. 0, or an error said on stderr. */
static int load_books_spec(const books_opts_t *o, ac_spec_t **out) {
  cJSON *doc = cJSON_ParseWithLength((const char *)ac__books_spec_json,
                                     sizeof(ac__books_spec_json));
  cJSON *res = cJSON_GetObjectItemCaseSensitive(doc, "resources");
  cJSON *pager = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(res, 0), "paginator");
  cJSON *limit = cJSON_GetObjectItemCaseSensitive(pager, "limit");
  ac_spec_error_t err;
  char *text = NULL;
  int rc = cJSON_IsNumber(limit) ? 0 : AC_EINVAL;
  if (rc == 0 && o->page_size > 0) rc = set_number(pager, "limit", o->page_size);
  if (rc == 0 && o->first_page > 0) {
    double size = cJSON_GetObjectItemCaseSensitive(pager, "limit")->valuedouble;
    rc = set_number(pager, "start", (o->first_page - 1) * size);
    if (rc == 0 && o->last_page > 0)
      rc = set_number(pager, "max_pages", o->last_page - o->first_page + 1);
  }
  if (rc == 0 && (text = cJSON_PrintUnformatted(doc)) == NULL) rc = AC_ENOMEM;
  if (rc == 0) rc = ac_spec_load(text, strlen(text), out, &err);
  if (rc != 0)
    fprintf(stderr, "acrawl books: the built-in spec: %s\n",
            rc == AC_ENOMEM ? "out of memory" : rc == AC_EINVAL && text == NULL
                                                    ? "no list paginator with a limit"
                                                    : err.message);
  cJSON_free(text);
  cJSON_Delete(doc);
  return rc;
}

int ac__cli_books(int argc, char **argv) {
  books_cfg_t cfg;
  ac_spec_t *spec = NULL;
  ac_spec_spider_opts_t so;
  ac_spider_t spider;
  int rc;
  memset(&cfg, 0, sizeof(cfg));
  ac__cli_run_init(&cfg.run);
  cfg.run.cmd = "books";
  rc = parse_args(&cfg, argc, argv);
  if (rc != 0) return rc > 0 ? 0 : AC__EXIT_USAGE;
  if (load_books_spec(&cfg.books, &spec) != 0) return AC__EXIT_FATAL;
  memset(&so, 0, sizeof(so));
  so.base_url = cfg.books.base_url;
  if (ac_spec_spider_new(spec, &so, &spider) != 0) {
    fprintf(stderr, "acrawl books: bad --base '%s': an absolute http:// or https:// URL is needed\n",
            cfg.books.base_url);
    ac_spec_free(spec);
    return AC__EXIT_USAGE;
  }
  cfg.run.site = cfg.books.base_url != NULL ? cfg.books.base_url : BOOKS_SITE;
  cfg.run.spec = spec;
  cfg.run.state_default = "acrawl-books.state";
  rc = ac__cli_run(&cfg.run, &spider, "books.db");
  ac_spec_spider_free(&spider);
  ac_spec_free(spec);
  return rc;
}
