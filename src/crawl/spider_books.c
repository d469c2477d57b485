/*
 * The books spider: the tutorial's site through its Ajax JSON API.
 *   list   <base>/api/book/?limit=L&offset=O -> {"count": N, "results": [{"id": ...}, ...]}
 *   detail <base>/api/book/<id>              -> the whole book, stored as is
 * The first list page's count gives the number of pages; a producer task
 * then follows every later list page (waiting whenever the frontier is
 * full, so memory stays flat however many pages there are), and each list
 * page follows its books' details with a higher priority, so details start
 * as soon as the first list page is parsed and the frontier stays small.
 * On --resume the first page is read again (ac_crawl_follow_again) for its
 * count: the pages and books done before are dropped as duplicates.
 *
 * Before the count is known, the start also asks for the next list pages,
 * as many as the crawl has consumers: otherwise the first round trip
 * carries one request while every other consumer waits (a whole round on a
 * slow site: 100 ms of 3.7 s at 256 in flight). On a site with fewer pages
 * the extra ones answer an empty `results`: at most concurrency - 1 wasted
 * requests, once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acrawl/errno.h"
#include "common/alloc.h"
#include "common/json_scan.h"
#include "crawl/internal.h"

enum { CB_LIST = 0, CB_DETAIL = 1 };
#define PRIO_LIST 0
#define PRIO_DETAIL 1
#define FIRST_META "first"

typedef struct books {
  char *base; /* without a trailing slash */
  int page_size;
  int first_page;
  int last_page;
  int pages_last;  /* from the first page's count */
  int producing;   /* the list producer was started */
} books_t;

static const ac_http_kv_t books_headers[] = {{"Accept", "application/json"}};

static int follow_list(ac_crawl_t *c, books_t *b, int page, const char *meta) {
  char url[2048];
  snprintf(url, sizeof(url), "%s/api/book/?limit=%d&offset=%lld", b->base, b->page_size,
           (long long)(page - 1) * b->page_size);
  return ac_crawl_follow(c, url, CB_LIST, PRIO_LIST, meta);
}

static int books_start(ac_crawl_t *c, void *data) {
  books_t *b = data;
  int rc = follow_list(c, b, b->first_page, FIRST_META);
  if (rc == 0) {
    /* Done (or queued) in the run being resumed: read it again for the count. */
    char url[2048];
    snprintf(url, sizeof(url), "%s/api/book/?limit=%d&offset=%lld", b->base, b->page_size,
             (long long)(b->first_page - 1) * b->page_size);
    rc = ac_crawl_follow_again(c, url, CB_LIST, PRIO_LIST, FIRST_META);
  }
  if (rc < 0) return rc;
  {
    long long ahead = (long long)ac_crawl_concurrency(c) - 1;
    long long last = (long long)b->first_page + ahead;
    if (b->last_page > 0 && last > b->last_page) last = b->last_page;
    for (long long p = b->first_page + 1; p <= last; p++)
      if ((rc = follow_list(c, b, (int)p, NULL)) < 0) return rc;
  }
  return 0;
}

/* Follows the list pages after the first, waiting for frontier room. */
static int list_producer(ac_crawl_t *c, void *data) {
  books_t *b = data;
  for (int p = b->first_page + 1; p <= b->pages_last; p++) {
    int rc = follow_list(c, b, p, NULL);
    if (rc < 0) return rc;
  }
  return 0;
}

/* A page that is HTML (an error page, a site without this API) will be
 * HTML again: say so once instead of retrying a parse. */
static int not_json(ac_crawl_t *c, ac_response_t *resp) {
  const char *ct = ac_response_header(resp, "Content-Type");
  size_t len;
  const char *body = ac_response_body(resp, &len);
  while (len > 0 && (*body == ' ' || *body == '\n' || *body == '\r' || *body == '\t')) {
    body++;
    len--;
  }
  if ((ct != NULL && strstr(ct, "html") != NULL) || (len > 0 && *body == '<')) {
    char why[256];
    snprintf(why, sizeof(why), "the site answered %s, not JSON: is the base URL the book API's site?",
             ct != NULL ? ct : "a page starting with '<'");
    ac_crawl_fail_reason(c, why);
    return 1;
  }
  return 0;
}

/* The results' id spans of a list page, kept until the whole page has been
 * checked (a page that turns out garbled is retried, its ids never followed). */
typedef struct id_spans {
  ac__json_span_t *v;
  size_t n, cap;
} id_spans_t;

static int keep_id(const ac__json_span_t *span, void *ud) {
  id_spans_t *ids = ud;
  if (ids->n == ids->cap) {
    size_t cap = ids->cap ? ids->cap * 2 : 32;
    ac__json_span_t *v = ac__realloc(ids->v, cap * sizeof(*v));
    if (v == NULL) return AC_ENOMEM;
    ids->v = v;
    ids->cap = cap;
  }
  ids->v[ids->n++] = *span;
  return 0;
}

/* A JSON number's text as a double (the span is valid JSON: strtod takes it). */
static double number_of(const ac__json_span_t *span) {
  char text[64];
  if (ac__json_span_text(span, text, sizeof(text)) <= 0) return 0;
  return strtod(text, NULL);
}

/* The detail page of one result: its id (a non-empty string, or a number
 * printed without decimals), escaped into the path. 1: no usable id. */
static int follow_detail(ac_crawl_t *c, books_t *b, const ac__json_span_t *id) {
  char url[2048], idtext[512], esc[3 * sizeof(idtext)];
  size_t n = 0;
  if (id->type == AC__JSON_STRING) {
    if (ac__json_span_text(id, idtext, sizeof(idtext)) <= 0) return 1; /* empty, huge, or NUL */
  } else if (id->type == AC__JSON_NUMBER) {
    snprintf(idtext, sizeof(idtext), "%.0f", number_of(id));
  } else {
    return 1; /* a result without an id has no detail page */
  }
  /* Ids go into a path: escape whatever is not plainly safe. */
  for (const unsigned char *p = (const unsigned char *)idtext; *p; p++) {
    if ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
        *p == '-' || *p == '_' || *p == '.')
      esc[n++] = (char)*p;
    else
      n += (size_t)snprintf(esc + n, sizeof(esc) - n, "%%%02X", *p);
  }
  esc[n] = '\0';
  if (snprintf(url, sizeof(url), "%s/api/book/%s", b->base, esc) >= (int)sizeof(url)) return 1;
  return ac_crawl_follow(c, url, CB_DETAIL, PRIO_DETAIL, NULL);
}

static int books_list(ac_crawl_t *c, const ac_crawl_req_t *req, ac_response_t *resp,
                      void *data) {
  books_t *b = data;
  size_t len, pos;
  const char *body = ac_response_body(resp, &len);
  ac__json_type_t top, results;
  ac__json_span_t count;
  id_spans_t ids = {NULL, 0, 0};
  int rc;
  if (not_json(c, resp)) return AC_EPROTO;
  /* Checked strictly, as a detail is, and without a tree: the ids are all
   * a list page gives (a cJSON tree of it was half of the loop thread's
   * allocations in a crawl). */
  rc = ac__json_scan_each(body, len, "count", &top, &count, "results", &results, "id", keep_id,
                          &ids, &pos);
  if (rc != 0) {
    ac__free(ids.v);
    if (rc != AC_EPARSE) return rc;
    {
      char why[128];
      snprintf(why, sizeof(why), "the list page is not valid JSON (at byte %zu of %zu)", pos, len);
      ac_crawl_fail_reason(c, why);
    }
    return AC_EPARSE;
  }
  if (top != AC__JSON_OBJECT || count.type != AC__JSON_NUMBER || results != AC__JSON_ARRAY) {
    ac__free(ids.v);
    ac_crawl_fail_reason(c, "a list page without a numeric count and a results array");
    return AC_EPROTO;
  }
  if (strcmp(req->meta, FIRST_META) == 0) {
    /* A count from the site is data: a negative or absurd one must not
     * overflow the page arithmetic (--pages has the same ceiling). */
    double books_d = number_of(&count);
    long long books = books_d < 0 ? 0 : books_d > 1e15 ? (long long)1e15 : (long long)books_d;
    long long pages_ll = (books + b->page_size - 1) / b->page_size;
    int pages = pages_ll > 100000000 ? 100000000 : (int)pages_ll;
    int last = b->last_page > 0 && b->last_page < pages ? b->last_page : pages;
    long long in_range = books - (long long)(b->first_page - 1) * b->page_size;
    if (in_range > (long long)(last - b->first_page + 1) * b->page_size)
      in_range = (long long)(last - b->first_page + 1) * b->page_size;
    if (in_range < 0) in_range = 0;
    ac_crawl_set_expected(c, (uint64_t)(last >= b->first_page ? last - b->first_page + 1 : 1) +
                                 (uint64_t)in_range);
    if (!b->producing) {
      b->producing = 1;
      b->pages_last = last;
      if ((rc = ac_crawl_produce(c, list_producer, b)) != 0) {
        ac__free(ids.v);
        return rc;
      }
    }
  }
  for (size_t i = 0; i < ids.n; i++) {
    rc = follow_detail(c, b, &ids.v[i]);
    if (rc < 0) break;
  }
  ac__free(ids.v);
  return rc < 0 ? rc : 0;
}

static int books_detail(ac_crawl_t *c, const ac_crawl_req_t *req, ac_response_t *resp,
                        void *data) {
  size_t len, pos;
  const char *body = ac_response_body(resp, &len);
  ac__json_type_t top;
  ac__json_span_t id;
  char key[256];
  (void)req;
  (void)data;
  if (not_json(c, resp)) return AC_EPROTO;
  /* The body is stored as it came, so it is checked, strictly, first: a
   * garbled body is retried, never stored. */
  if (ac__json_scan(body, len, "id", &top, &id, &pos) != 0) {
    char why[128];
    snprintf(why, sizeof(why), "the detail is not valid JSON (at byte %zu of %zu)", pos, len);
    ac_crawl_fail_reason(c, why);
    return AC_EPARSE;
  }
  if (top != AC__JSON_OBJECT || (id.type != AC__JSON_STRING && id.type != AC__JSON_NUMBER) ||
      ac__json_span_text(&id, key, sizeof(key)) <= 0) {
    ac_crawl_fail_reason(c, "the detail is not an object with a string or number id");
    return AC_EPROTO;
  }
  return ac_crawl_emit(c, key, body, len);
}

static const ac_spider_parse_fn books_callbacks[] = {books_list, books_detail};

int ac_spider_books_new(const ac_books_opts_t *opts, ac_spider_t *out) {
  books_t *b;
  const char *base = opts != NULL && opts->base_url != NULL ? opts->base_url
                                                            : "https://spa5.scrape.center";
  ac__crawl_url_t u;
  size_t n;
  memset(out, 0, sizeof(*out));
  if (ac__crawl_url_parse(base, &u) != 0) return AC_EINVAL;
  ac__crawl_url_free(&u);
  if (opts != NULL && (opts->page_size < 0 || opts->first_page < 0 || opts->last_page < 0 ||
                       (opts->last_page > 0 && opts->last_page < opts->first_page)))
    return AC_EINVAL;
  b = ac__calloc(1, sizeof(*b));
  if (b == NULL || (b->base = ac__strdup(base)) == NULL) {
    ac__free(b);
    return AC_ENOMEM;
  }
  n = strlen(b->base);
  while (n > 0 && b->base[n - 1] == '/') b->base[--n] = '\0';
  b->page_size = opts != NULL && opts->page_size > 0 ? opts->page_size : 18;
  b->first_page = opts != NULL && opts->first_page > 0 ? opts->first_page : 1;
  b->last_page = opts != NULL ? opts->last_page : 0;
  out->name = "books";
  out->start = books_start;
  out->callbacks = books_callbacks;
  out->ncallbacks = sizeof(books_callbacks) / sizeof(books_callbacks[0]);
  out->headers = books_headers;
  out->nheaders = sizeof(books_headers) / sizeof(books_headers[0]);
  out->data = b;
  return 0;
}

void ac_spider_books_free(ac_spider_t *spider) {
  books_t *b = spider != NULL ? spider->data : NULL;
  if (b == NULL) return;
  ac__free(b->base);
  ac__free(b);
  spider->data = NULL;
}
