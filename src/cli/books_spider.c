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
 * The count is the site's word, not a fact: the producer plans at most
 * MAX_PLANNED_PAGES, runs at most a lead of pages ahead of the last page
 * answered, and stops at the first empty page past every page that listed
 * books (an empty page before one that did is a transient answer: retried).
 *
 * A body is checked before anything is followed or stored: a 200 that is not
 * JSON (an HTML error page from a proxy, an empty or cut body) is retried
 * like a transport failure, and recorded with what the site sent once the
 * retries are spent. Ids are text: a string's content, or an integer's own
 * digits (never through a double); a result without a usable id is a
 * reported failure, as is a detail that answers for another id.
 *
 * Before the count is known, the start also asks for the next list pages,
 * as many as the crawl has consumers: otherwise the first round trip
 * carries one request while every other consumer waits (a whole round on a
 * slow site). On a site with fewer pages
 * the extra ones answer an empty `results`: at most concurrency - 1 wasted
 * requests, once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "acrawl/crawl.h"
#include "acrawl/errno.h"
#include "cli/books_spider.h"
/* The library's strict JSON scanner (src/common): the one private piece the
 * tool borrows, until the book site is crawled from a spec. */
#include "common/json_scan.h"

enum { CB_LIST = 0, CB_DETAIL = 1 };
#define PRIO_LIST 0
#define PRIO_DETAIL 1
#define FIRST_META "first"
/* 18 million books at the default page size: past it, a count is more
 * likely a site's bug than its size (--pages still reaches any page). */
#define MAX_PLANNED_PAGES 1000000
/* Ids longer than this are not ids (they go into a path and the stores). */
#define MAX_ID 512

typedef struct books {
  char *base; /* without a trailing slash */
  int page_size;
  int first_page;
  int last_page;
  int pages_last;   /* the plan: from the first page's count, or --pages */
  int producing;    /* a list producer is running */
  int next_page;    /* the next page the producer follows */
  int answered_max; /* the highest list page answered */
  int data_max;     /* the highest list page that listed books */
  int end_page;     /* an empty page past data_max: the listing ends there (0: none) */
  ac_event_t *moved; /* answered_max or end_page moved, or the crawl went quiet */
} books_t;

static const ac_http_kv_t books_headers[] = {{"Accept", "application/json"}};

static void list_url(const books_t *b, int page, char *url, size_t cap) {
  snprintf(url, cap, "%s/api/book/?limit=%d&offset=%lld", b->base, b->page_size,
           (long long)(page - 1) * b->page_size);
}

enum { FOLLOW = 0, FOLLOW_AGAIN, REFETCH };

/* A list page's meta is its number (the first page's: FIRST_META). */
static int follow_list(ac_crawl_t *c, books_t *b, int page, int how) {
  char url[2048], meta[16];
  list_url(b, page, url, sizeof(url));
  if (page == b->first_page) snprintf(meta, sizeof(meta), "%s", FIRST_META);
  else snprintf(meta, sizeof(meta), "%d", page);
  switch (how) {
  case FOLLOW_AGAIN: return ac_crawl_follow_again(c, url, CB_LIST, PRIO_LIST, meta);
  case REFETCH: return ac_crawl_refetch(c, url, CB_LIST, PRIO_LIST, meta);
  default: return ac_crawl_follow(c, url, CB_LIST, PRIO_LIST, meta);
  }
}

static int page_of(const books_t *b, const ac_crawl_req_t *req) {
  if (strcmp(req->meta, FIRST_META) == 0) return b->first_page;
  return atoi(req->meta); /* 0 for a state written without page numbers */
}

static int books_start(ac_crawl_t *c, void *data) {
  books_t *b = data;
  int rc;
  if (b->moved == NULL &&
      (rc = ac_event_new(ac_task_loop(ac_task_current()), &b->moved)) != 0)
    return rc;
  /* Done (or queued) in the run being resumed: read it again for the count. */
  rc = follow_list(c, b, b->first_page, FOLLOW);
  if (rc == 0) rc = follow_list(c, b, b->first_page, FOLLOW_AGAIN);
  if (rc < 0) return rc;
  {
    long long ahead = (long long)ac_crawl_concurrency(c) - 1;
    long long last = (long long)b->first_page + ahead;
    if (b->last_page > 0 && last > b->last_page) last = b->last_page;
    for (long long p = b->first_page + 1; p <= last; p++)
      if ((rc = follow_list(c, b, (int)p, FOLLOW)) < 0) return rc;
  }
  return 0;
}

/* How far the producer may run ahead of the answers: enough list pages to
 * keep every consumer busy, few enough that a count far past the data
 * costs little once the empty page is seen. */
static int lead_of(ac_crawl_t *c) {
  size_t n = ac_crawl_concurrency(c);
  return n > 500000 ? 1000000 : (int)(2 * n + 8);
}

/* Follows the list pages after the first, waiting for frontier room and for
 * answers (see lead_of). */
static int list_producer(ac_crawl_t *c, void *data) {
  books_t *b = data;
  int rc = 0;
  while (b->next_page <= b->pages_last) {
    int p = b->next_page;
    if (b->end_page > 0 && p > b->end_page) break;
    if (p > b->answered_max + lead_of(c)) {
      if (ac_crawl_quiet(c)) {
        /* Every page of the lead failed for good: no answer will move it. */
        ac_crawl_note(c, "the listing stops before page %d: the %d pages before it failed", p,
                      lead_of(c));
        break;
      }
      ac_event_clear(b->moved);
      ac_crawl_notify_quiet(c, b->moved);
      rc = ac_event_wait(b->moved);
      ac_crawl_notify_quiet(c, NULL);
      if (rc != 0) break;
      continue;
    }
    b->next_page++;
    if ((rc = follow_list(c, b, p, FOLLOW)) < 0) break;
    /* Seen before: on --resume, done in the run being resumed (no answer
     * will come), else queued already. */
    if (rc == 0 && p > b->answered_max) b->answered_max = p;
    rc = 0;
  }
  b->producing = 0;
  return rc;
}

static int start_producer(ac_crawl_t *c, books_t *b) {
  int rc;
  if (b->producing || b->next_page > b->pages_last) return 0;
  if ((rc = ac_crawl_produce(c, list_producer, b)) == 0) b->producing = 1;
  return rc;
}

/* What the site sent, for a failure record: its type, size and first bytes
 * (escaped, so an HTML page or binary garbage reads as one line). */
static void describe_body(ac_response_t *resp, char *out, size_t cap) {
  const char *ct = ac_response_header(resp, "Content-Type");
  size_t len, n = 0;
  const unsigned char *body = (const unsigned char *)ac_response_body(resp, &len);
  char head[4 * 48 + 1]; /* each byte at most "\xHH" */
  for (size_t i = 0; i < len && i < 48; i++) {
    unsigned char ch = body[i];
    if (ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\')
      head[n++] = (char)ch;
    else
      n += (size_t)snprintf(head + n, sizeof(head) - n, "\\x%02x", ch);
  }
  head[n] = '\0';
  snprintf(out, cap, "the site answered %s with %zu bytes%s%s%s%s", ct != NULL ? ct : "no type",
           len, len > 0 ? ": \"" : "", head, len > 48 ? "..." : "", len > 0 ? "\"" : "");
}

/* A body that is not the expected JSON: retried, since a proxy's error page,
 * an empty or a cut body is usually gone on the next try. The list pages
 * answering HTML before any answered JSON is also what a wrong --base looks
 * like: their records (kept when the retries are spent) say so. */
static int bad_body(ac_crawl_t *c, ac_response_t *resp, const char *what, size_t pos,
                    int hint_base) {
  const char *ct = ac_response_header(resp, "Content-Type");
  size_t len;
  const char *body = ac_response_body(resp, &len);
  char seen[256], why[512];
  size_t i = 0;
  while (i < len && (body[i] == ' ' || body[i] == '\n' || body[i] == '\r' || body[i] == '\t')) i++;
  describe_body(resp, seen, sizeof(seen));
  if (hint_base && ((ct != NULL && strstr(ct, "html") != NULL) || (i < len && body[i] == '<')))
    snprintf(why, sizeof(why), "%s is not JSON: %s: is the base URL the book API's site?", what,
             seen);
  else if (len > 0)
    snprintf(why, sizeof(why), "%s is not JSON (at byte %zu): %s", what, pos, seen);
  else
    snprintf(why, sizeof(why), "%s is not JSON: %s", what, seen);
  ac_crawl_fail_reason(c, why);
  return AC_EPARSE;
}

/* A body less a UTF-8 byte order mark, which RFC 8259 lets a parser ignore
 * and some servers send: stored without it. */
static const char *json_body(ac_response_t *resp, size_t *len) {
  const char *body = ac_response_body(resp, len);
  if (*len >= 3 && memcmp(body, "\xEF\xBB\xBF", 3) == 0) {
    *len -= 3;
    return body + 3;
  }
  return body;
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
    ac__json_span_t *v = realloc(ids->v, cap * sizeof(*v));
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

/* An id as text: a non-empty string without NUL, or an integer's own digits
 * (a double would round 9007199254740993 to ...992). NULL and *why when it
 * is not a usable id. */
static const char *id_text(const ac__json_span_t *id, char *out, size_t cap, const char **why) {
  int n;
  switch (id->type) {
  case AC__JSON_STRING:
    n = ac__json_span_text(id, out, cap);
    if (n > 0) return out;
    *why = n == 0 ? "an empty id" : n == AC_ETOOLARGE ? "an id too long" : "an id holding \\u0000";
    return NULL;
  case AC__JSON_NUMBER:
    for (size_t i = id->start[0] == '-' ? 1 : 0; i < id->len; i++)
      if (id->start[i] < '0' || id->start[i] > '9') {
        *why = "an id that is not an integer";
        return NULL;
      }
    if (ac__json_span_text(id, out, cap) > 0) return out;
    *why = "an id too long";
    return NULL;
  case AC__JSON_NONE: *why = "no id"; return NULL;
  case AC__JSON_NULL: *why = "a null id"; return NULL;
  case AC__JSON_TRUE: case AC__JSON_FALSE: *why = "a boolean id"; return NULL;
  default: *why = "an id that is an object or an array"; return NULL;
  }
}

/* Ids go into a path: escape whatever is not plainly safe, and the dot
 * segments "." and "..", which would climb the path instead. */
static void escape_id(const char *id, char *out, size_t cap) {
  size_t n = 0;
  int dots = strcmp(id, ".") == 0 || strcmp(id, "..") == 0;
  for (const unsigned char *p = (const unsigned char *)id; *p && n + 3 < cap; p++) {
    if (((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
         *p == '-' || *p == '_' || *p == '.') &&
        !(dots && *p == '.'))
      out[n++] = (char)*p;
    else
      n += (size_t)snprintf(out + n, cap - n, "%%%02X", *p);
  }
  out[n] = '\0';
}

/* The detail page of one result; its meta is the id it is fetched for.
 * 1 (and a failure record) when the URL would not fit. */
static int follow_detail(ac_crawl_t *c, books_t *b, const char *id, size_t index) {
  char url[4096], esc[3 * MAX_ID + 1];
  escape_id(id, esc, sizeof(esc));
  if (snprintf(url, sizeof(url), "%s/api/book/%s", b->base, esc) >= (int)sizeof(url)) {
    char what[160];
    snprintf(what, sizeof(what), "result %zu of the list page makes a detail URL over %zu bytes",
             index, sizeof(url) - 1);
    ac_crawl_fail_record(c, what);
    return 1;
  }
  return ac_crawl_follow(c, url, CB_DETAIL, PRIO_DETAIL, id);
}

/* Plan the listing from the first page's count. */
static int plan(ac_crawl_t *c, books_t *b, const ac__json_span_t *count) {
  /* A count from the site is data: a negative or absurd one must not
   * overflow the page arithmetic, nor plan years of requests. */
  double books_d = number_of(count);
  long long books = books_d < 0 ? 0 : books_d > 1e15 ? (long long)1e15 : (long long)books_d;
  long long pages_ll = (books + b->page_size - 1) / b->page_size;
  int pages, last;
  long long in_range;
  if (b->last_page == 0 && pages_ll > MAX_PLANNED_PAGES) {
    ac_crawl_note(c, "the site's count (%lld books) makes %lld list pages: planning at most %d "
                     "(the listing also ends at its first empty page; --pages reaches further)",
                  books, pages_ll, MAX_PLANNED_PAGES);
    pages_ll = MAX_PLANNED_PAGES;
  }
  pages = pages_ll > 100000000 ? 100000000 : (int)pages_ll;
  last = b->last_page > 0 && b->last_page < pages ? b->last_page : pages;
  in_range = books - (long long)(b->first_page - 1) * b->page_size;
  if (in_range > (long long)(last - b->first_page + 1) * b->page_size)
    in_range = (long long)(last - b->first_page + 1) * b->page_size;
  if (in_range < 0) in_range = 0;
  ac_crawl_set_expected(c, (uint64_t)(last >= b->first_page ? last - b->first_page + 1 : 1) +
                               (uint64_t)in_range);
  if (b->pages_last == 0) {
    b->pages_last = last;
    b->next_page = b->first_page + 1;
  }
  return start_producer(c, b);
}

/* The listing has data up to `page`, or ends at `page` (empty): returns
 * AC_EPARSE for an empty page that cannot be the end. */
static int listing_moved(ac_crawl_t *c, books_t *b, int page, size_t nresults) {
  int rc = 0;
  if (page <= 0) return 0;
  if (page > b->answered_max) b->answered_max = page;
  if (nresults > 0) {
    if (page > b->data_max) b->data_max = page;
    if (b->end_page > 0 && page > b->end_page) {
      /* The empty page was a transient answer: read it again (pending in
       * the state once more, as it was marked done), and list on. */
      int was = b->end_page;
      b->end_page = 0;
      ac_crawl_note(c, "list page %d listed books after the empty page %d: listing on", page, was);
      if ((rc = follow_list(c, b, was, REFETCH)) < 0) return rc;
      if ((rc = start_producer(c, b)) != 0) return rc;
    }
  } else if (page <= b->data_max) {
    char why[160];
    snprintf(why, sizeof(why), "list page %d is empty, but page %d listed books", page,
             b->data_max);
    ac_crawl_fail_reason(c, why);
    rc = AC_EPARSE;
  } else if (b->end_page == 0 || page < b->end_page) {
    if (b->end_page == 0 && page <= b->pages_last && page != b->first_page)
      ac_crawl_note(c, "list page %d is empty: the listing ends there (the site's count "
                       "planned %d pages)", page, b->pages_last);
    b->end_page = page;
  }
  if (b->moved != NULL) ac_event_set(b->moved);
  return rc;
}

static int books_list(ac_crawl_t *c, const ac_crawl_req_t *req, ac_response_t *resp,
                      void *data) {
  books_t *b = data;
  size_t len, pos;
  const char *body = json_body(resp, &len);
  int page = page_of(b, req);
  ac__json_type_t top, results;
  ac__json_span_t count;
  id_spans_t ids = {NULL, 0, 0};
  int rc;
  /* Checked strictly, as a detail is, and without a tree: the ids are all
   * a list page gives (a cJSON tree of it was half of the loop thread's
   * allocations in a crawl). */
  rc = ac__json_scan_each(body, len, "count", &top, &count, "results", &results, "id", keep_id,
                          &ids, &pos);
  if (rc != 0) {
    free(ids.v);
    if (rc != AC_EPARSE) return rc;
    /* Before any page answered: a wrong --base looks like this. */
    return bad_body(c, resp, "the list page", pos, b->answered_max == 0);
  }
  if (top != AC__JSON_OBJECT || count.type != AC__JSON_NUMBER || results != AC__JSON_ARRAY) {
    free(ids.v);
    ac_crawl_fail_reason(c, "a list page without a numeric count and a results array");
    return AC_EPROTO;
  }
  if ((rc = listing_moved(c, b, page, ids.n)) != 0 ||
      (strcmp(req->meta, FIRST_META) == 0 && (rc = plan(c, b, &count)) != 0)) {
    free(ids.v);
    return rc;
  }
  for (size_t i = 0; i < ids.n; i++) {
    char idtext[MAX_ID + 1];
    const char *why = NULL, *id = id_text(&ids.v[i], idtext, sizeof(idtext), &why);
    if (id == NULL) {
      char what[160];
      snprintf(what, sizeof(what), "result %zu of the list page has %s: it cannot be fetched",
               i + 1, why);
      ac_crawl_fail_record(c, what);
      continue;
    }
    if ((rc = follow_detail(c, b, id, i + 1)) < 0) break;
    rc = 0;
  }
  free(ids.v);
  return rc < 0 ? rc : 0;
}

static int books_detail(ac_crawl_t *c, const ac_crawl_req_t *req, ac_response_t *resp,
                        void *data) {
  size_t len, pos;
  const char *body = json_body(resp, &len);
  ac__json_type_t top;
  ac__json_span_t id;
  char key[MAX_ID + 1];
  const char *why = NULL;
  (void)data;
  /* The body is stored as it came, so it is checked, strictly, first: a
   * garbled body is retried, never stored. */
  if (ac__json_scan(body, len, "id", &top, &id, &pos) != 0)
    return bad_body(c, resp, "the detail", pos, 0);
  if (top != AC__JSON_OBJECT) {
    char seen[256], text[320];
    describe_body(resp, seen, sizeof(seen));
    snprintf(text, sizeof(text), "the detail is JSON but not an object: %s", seen);
    ac_crawl_fail_reason(c, text);
    return AC_EPARSE;
  }
  if (id_text(&id, key, sizeof(key), &why) == NULL) {
    char text[160];
    snprintf(text, sizeof(text), "the detail has %s", why);
    ac_crawl_fail_reason(c, text);
    return AC_EPARSE;
  }
  if (req->meta[0] != '\0' && strcmp(key, req->meta) != 0) {
    /* Stored under its own id it would overwrite another book: a site (or a
     * cache in front of it) that mixes answers up gets another try. */
    char text[MAX_ID * 2 + 96];
    snprintf(text, sizeof(text), "the detail for id \"%s\" answered id \"%s\"", req->meta, key);
    ac_crawl_fail_reason(c, text);
    return AC_EPARSE;
  }
  return ac_crawl_emit(c, key, body, len);
}

static const ac_spider_parse_fn books_callbacks[] = {books_list, books_detail};

/* An absolute http(s) URL with a host, as libcurl (which fetches it) reads it. */
static int base_ok(const char *base) {
  CURLU *u = curl_url();
  char *scheme = NULL, *host = NULL;
  int ok = u != NULL && curl_url_set(u, CURLUPART_URL, base, 0) == CURLUE_OK &&
           curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
           curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
           (strcmp(scheme, "http") == 0 || strcmp(scheme, "https") == 0) && host[0] != '\0';
  curl_free(scheme);
  curl_free(host);
  curl_url_cleanup(u);
  return ok;
}

int books_spider_new(const books_spider_opts_t *opts, ac_spider_t *out) {
  books_t *b;
  const char *base = opts != NULL && opts->base_url != NULL ? opts->base_url
                                                            : "https://spa5.scrape.center";
  size_t n;
  memset(out, 0, sizeof(*out));
  if (!base_ok(base)) return AC_EINVAL;
  if (opts != NULL && (opts->page_size < 0 || opts->first_page < 0 || opts->last_page < 0 ||
                       (opts->last_page > 0 && opts->last_page < opts->first_page)))
    return AC_EINVAL;
  b = calloc(1, sizeof(*b));
  if (b == NULL || (b->base = strdup(base)) == NULL) {
    free(b);
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

void books_spider_free(ac_spider_t *spider) {
  books_t *b = spider != NULL ? spider->data : NULL;
  if (b == NULL) return;
  (void)ac_event_free(b->moved);
  free(b->base);
  free(b);
  spider->data = NULL;
}
