/*
 * The spider of a spec (include/acrawl/spec.h, docs/specs.md): one callback
 * per resource, requests built from the templates (spec_request.c), and
 * the paginators as small state machines over the responses.
 *
 * Two ways to walk pages:
 *  - planned (offset and page paginators of a root resource): the first
 *    page's total plans the pages, and a producer task follows them all
 *    under the engine's backpressure, a bounded lead of pages ahead of the
 *    answers; without a total the listing ends at its first empty (or
 *    short) page. The start asks for as many first pages as the crawl has
 *    consumers, so the first round trip is not one request alone.
 *  - chained (cursor, next_url, link_header, and the offset and page
 *    paginators of a child, which may run once per parent record): each
 *    response follows the next page; each page's children go in parallel.
 *
 * A request's meta carries what its callback and its next pages need: the
 * page's index and the field values from the parent record, as JSON text,
 * "k,len:value,len:value". It is saved in the crawl state, so a resumed
 * crawl continues a chain from its pending page.
 *
 * Everything a site sends is data: a body that is not JSON is retried like
 * a transport failure; a record without its key or a field is a failure of
 * that record (the page's other records go on); a cursor or next URL that
 * comes back to a page read in this run stops the chain with a failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "common/alloc.h"
#include "common/json_pointer.h"
#include "common/json_scan.h"
#include "crawl/internal.h"
#include "crawl/spec_internal.h"

/* A count from a site is data: past this many pages it is more likely a
 * bug of the site than its size (max_pages reaches further). */
#define MAX_PLANNED_PAGES 1000000
/* Keys and field values longer than this are not keys. */
#define MAX_VALUE 4096

typedef struct spec_spider spec_spider_t;

/* A root resource's planned listing (offset or page paginator). */
typedef struct planned {
  spec_spider_t *sp;
  int res;
  int64_t last;     /* the last page index planned; -1 until known */
  int64_t next;     /* the next page the producer follows */
  int64_t answered; /* the highest page answered, -1: none */
  int64_t data;     /* the highest page that held records, -1: none */
  int64_t end;      /* an empty page past `data`: the listing ends there; -1: none */
  int end_short;    /* `end` is a short page (records, fewer than a page's worth) */
  int planned;      /* the first page's total was read */
  int producing;
  ac_event_t *moved;
} planned_t;

struct spec_spider {
  const ac_spec_t *spec;
  ac__spec_base_t base;
  ac_http_kv_t *headers;
  ac_spider_parse_fn *callbacks;
  planned_t *planned; /* one per resource; used by planned roots only */
  ac__seen_t chain;   /* chained pages followed in this run: a repeat stops */
};

static int is_planned(const ac__spec_res_t *r) {
  return r->parent < 0 && (r->pager.type == AC__PG_OFFSET || r->pager.type == AC__PG_PAGE);
}

/* A planned listing without a total ends at its first empty page, which
 * only the worker that reads it sees: the other workers of a shared crawl
 * would list on without end. */
#define UNSHAREABLE                                                                          \
  "a listing without a total (its paginator has neither total nor total_pages) needs "    \
  "max_pages to be crawled by many workers"
static int shareable(const ac__spec_res_t *r) {
  return !is_planned(r) || r->pager.total != NULL || r->pager.total_pages != NULL ||
         r->pager.max_pages > 0;
}

int ac_spec_check_shared(const ac_spec_t *spec, ac_spec_error_t *err) {
  if (spec == NULL) return AC_EINVAL;
  for (size_t i = 0; i < spec->nres; i++) {
    if (shareable(&spec->res[i])) continue;
    if (err != NULL) {
      snprintf(err->pointer, sizeof(err->pointer), "resources/%zu/paginator", i);
      snprintf(err->message, sizeof(err->message), "%s: %s", err->pointer, UNSHAREABLE);
    }
    return AC_EINVAL;
  }
  return 0;
}

/* Items per page as the paginator asks for them; 0 when it does not say. */
static int64_t page_size(const ac__spec_pager_t *pg) {
  return pg->type == AC__PG_OFFSET ? pg->limit : pg->type == AC__PG_PAGE ? pg->size : 0;
}

/* ------------------------------------------------------------ the meta */

typedef struct meta {
  int64_t k;
  const char *vals[AC__SPEC_MAX_FIELDS];
  char *buf; /* the values, NUL-separated */
} meta_t;

/* Writes v in decimal at p; returns the end. */
static char *put_uint(char *p, uint64_t v) {
  char digits[24];
  size_t n = 0;
  do digits[n++] = (char)('0' + v % 10);
  while ((v /= 10) != 0);
  while (n > 0) *p++ = digits[--n];
  return p;
}

static char *meta_make(int64_t k, const char *const *vals, size_t n) {
  size_t cap = 24;
  char *m, *p;
  for (size_t i = 0; i < n; i++) cap += strlen(vals[i]) + 24;
  if ((m = ac__malloc(cap)) == NULL) return NULL;
  p = put_uint(m, (uint64_t)k);
  for (size_t i = 0; i < n; i++) {
    size_t len = strlen(vals[i]);
    *p++ = ',';
    p = put_uint(p, len);
    *p++ = ':';
    memcpy(p, vals[i], len);
    p += len;
  }
  *p = '\0';
  return m;
}

/* 0, AC_EPROTO for a meta this spider did not write (a state of another
 * spec), AC_ENOMEM. */
static int meta_parse(const char *s, size_t nfields, meta_t *m) {
  char *end;
  size_t total = strlen(s) + 1, used = 0;
  memset(m, 0, sizeof(*m));
  m->k = strtoll(s, &end, 10);
  if (end == s || m->k < 0 || nfields > AC__SPEC_MAX_FIELDS) return AC_EPROTO;
  if ((m->buf = ac__malloc(total)) == NULL) return AC_ENOMEM;
  s = end;
  for (size_t i = 0; i < nfields; i++) {
    size_t len;
    if (*s != ',') goto bad;
    len = strtoul(s + 1, &end, 10);
    if (*end != ':' || strlen(end + 1) < len) goto bad;
    memcpy(m->buf + used, end + 1, len);
    m->buf[used + len] = '\0';
    m->vals[i] = m->buf + used;
    used += len + 1;
    s = end + 1 + len;
  }
  if (*s == '\0') return 0;
bad:
  ac__free(m->buf);
  m->buf = NULL;
  return AC_EPROTO;
}

/* ----------------------------------------------------------- following */

/* The page values of page k of r: an offset or page number and the size;
 * a cursor's text (k > 0). */
static void page_values(const ac__spec_res_t *r, int64_t k, const char *cursor,
                        ac__spec_pageval_t *pv) {
  const ac__spec_pager_t *pg = &r->pager;
  memset(pv, 0, sizeof(*pv));
  switch (pg->type) {
  case AC__PG_OFFSET:
    pv->v[0].name = pg->param;
    pv->v[0].num = pg->start + k * pg->limit;
    pv->v[1].name = pg->limit_param;
    pv->v[1].num = pg->limit;
    pv->n = 2;
    break;
  case AC__PG_PAGE:
    pv->v[0].name = pg->param;
    pv->v[0].num = pg->start + k;
    pv->n = 1;
    if (pg->size_param != NULL) {
      pv->v[1].name = pg->size_param;
      pv->v[1].num = pg->size;
      pv->n = 2;
    }
    break;
  case AC__PG_CURSOR:
    if (cursor != NULL) {
      pv->v[0].name = pg->param;
      pv->v[0].text = cursor;
      pv->n = 1;
    }
    break;
  default: break;
  }
}

/* Follows page k of resource `res` (url: a next page's URL from the site,
 * or NULL to build it). Returns as ac_crawl_follow_request; a request that
 * cannot be built is a failure of the record that asked for it (1). */
static int follow_page(ac_crawl_t *c, spec_spider_t *sp, int res, int64_t k,
                       const char *const *vals, const char *cursor, const char *url,
                       ac_follow_how_t how) {
  const ac__spec_res_t *r = &sp->spec->res[res];
  ac__spec_pageval_t pv;
  ac__spec_built_t b;
  ac_crawl_request_t req;
  char why[256], *meta;
  int rc;
  page_values(r, k, cursor, &pv);
  rc = ac__spec_build(&sp->base, r, vals, &pv, url, &b, why, sizeof(why));
  if (rc != 0) {
    if (rc == AC_ENOMEM) return rc;
    {
      char text[400];
      snprintf(text, sizeof(text), "%s: %s", r->name, why);
      ac_crawl_fail_record(c, text);
    }
    return 1;
  }
  if ((meta = meta_make(k, vals, r->nfields)) == NULL) {
    ac__spec_built_free(&b);
    return AC_ENOMEM;
  }
  memset(&req, 0, sizeof(req));
  req.url = b.url;
  req.method = r->method;
  req.body = b.body;
  req.content_type = b.content_type;
  req.headers = b.headers;
  req.nheaders = b.nheaders;
  req.callback = res;
  req.priority = r->depth;
  req.meta = meta;
  rc = ac_crawl_follow_request(c, &req, how);
  if (rc == AC_EINVAL) {
    char text[600];
    snprintf(text, sizeof(text), "%s: the request for %s was refused (not an http(s) URL, or a "
                                 "header or method that cannot be sent)", r->name, b.url);
    ac_crawl_fail_record(c, text);
    rc = 1;
  }
  ac__free(meta);
  ac__spec_built_free(&b);
  return rc;
}

/* The next page of a chain: a follow that meets a page this run already
 * followed is a loop in the site's pagination, stopped loudly. A page done
 * in the run being resumed is no loop: its own next page is in the state. */
static int follow_chain(ac_crawl_t *c, spec_spider_t *sp, int res, int64_t k,
                        const char *const *vals, const char *cursor, const char *url,
                        const char *what) {
  const ac__spec_res_t *r = &sp->spec->res[res];
  ac__spec_pageval_t pv;
  ac__spec_built_t b;
  char why[256], key[64];
  uint64_t h;
  int rc;
  if (r->pager.max_pages > 0 && k >= r->pager.max_pages) return 0;
  /* The chain's own record of what it followed: the URL, and the body for
   * a request that sends its page value there. */
  page_values(r, k, cursor, &pv);
  if ((rc = ac__spec_build(&sp->base, r, vals, &pv, url, &b, why, sizeof(why))) == 0) {
    h = ac__crawl_hash(b.url) ^ (b.body != NULL ? ac__crawl_hash(b.body) * 31 : 0);
    ac__spec_built_free(&b);
    snprintf(key, sizeof(key), "%016llx", (unsigned long long)h);
    rc = ac__seen_add(&sp->chain, key);
    if (rc < 0) return rc;
    if (rc == 0) {
      char text[600];
      snprintf(text, sizeof(text), "%s: %s repeats a page already read: the pagination loops, "
                                   "the chain stops here", r->name, what);
      ac_crawl_fail_record(c, text);
      return 1;
    }
  }
  rc = follow_page(c, sp, res, k, vals, cursor, url, AC_FOLLOW_NEW);
  if (rc == 0) {
    /* A duplicate by the engine's key (the same URL written otherwise:
     * its parameters in another order) is a loop too, unless this crawl
     * resumes one whose state holds the page. */
    ac_crawl_stats_t st;
    ac_crawl_stats(c, &st);
    if (st.resumed_done == 0) {
      char text[600];
      snprintf(text, sizeof(text), "%s: %s comes back to a page already read: the pagination "
                                   "loops, the chain stops here", r->name, what);
      ac_crawl_fail_record(c, text);
    }
  }
  return rc < 0 ? rc : 0;
}

/* -------------------------------------------------- the planned listing */

static int follow_planned(ac_crawl_t *c, planned_t *pl, int64_t k, ac_follow_how_t how) {
  return follow_page(c, pl->sp, pl->res, k, NULL, NULL, NULL, how);
}

/* How far the producer may run ahead of the answers: enough pages to keep
 * every consumer busy, few enough that a total far past the data costs
 * little once the empty page is seen. */
static int64_t lead_of(ac_crawl_t *c) { return (int64_t)(2 * ac_crawl_concurrency(c) + 8); }

static int producer(ac_crawl_t *c, void *arg) {
  planned_t *pl = arg;
  /* With a shared frontier the answers go to every worker: this one sees
   * neither the end nor the lead. It follows the plan (the total's pages)
   * under the shared queue's cap, and each page checks its own emptiness
   * against its own total (listing_moved). */
  int shared = ac_crawl_shared(c);
  int rc = 0;
  while (pl->next <= pl->last) {
    int64_t k = pl->next;
    if (!shared && pl->end >= 0 && k > pl->end) break;
    if (!shared && k > pl->answered + lead_of(c)) {
      if (ac_crawl_quiet(c)) {
        ac_crawl_note(c, "%s: the listing stops before page %lld: the %lld pages before it "
                         "failed", pl->sp->spec->res[pl->res].name, (long long)k + 1,
                      (long long)lead_of(c));
        break;
      }
      ac_event_clear(pl->moved);
      ac_crawl_notify_quiet(c, pl->moved);
      rc = ac_event_wait(pl->moved);
      ac_crawl_notify_quiet(c, NULL);
      if (rc != 0) break;
      continue;
    }
    pl->next++;
    if ((rc = follow_planned(c, pl, k, AC_FOLLOW_NEW)) < 0) break;
    /* Seen before: done in the run being resumed (no answer will come), or
     * queued already. */
    if (rc == 0 && k > pl->answered) pl->answered = k;
    rc = 0;
  }
  pl->producing = 0;
  return rc;
}

static int start_producer(ac_crawl_t *c, planned_t *pl) {
  int rc;
  if (pl->producing || pl->next > pl->last) return 0;
  if ((rc = ac_crawl_produce(c, producer, pl)) == 0) pl->producing = 1;
  return rc;
}

/* A whole number from a body (a total): its span's text, clamped. */
static int count_of(const ac__json_span_t *s, int64_t *out) {
  char text[64];
  double d;
  if (s->type != AC__JSON_NUMBER || ac__json_span_text(s, text, sizeof(text)) <= 0) return -1;
  d = strtod(text, NULL);
  *out = d < 0 ? 0 : d > 1e15 ? (int64_t)1e15 : (int64_t)d;
  return 0;
}

/* The pages and items a page's total makes (items -1 with a total of
 * pages). 0, AC_EPROTO (no number there: said), AC_ENOMEM. */
static int total_of(ac_crawl_t *c, const ac__spec_res_t *r, const char *body, size_t len,
                    int64_t *pages, int64_t *items) {
  const ac__spec_pager_t *pg = &r->pager;
  const char *ptr = pg->total != NULL ? pg->total : pg->total_pages;
  ac__json_span_t s;
  int64_t n, size = page_size(pg);
  int rc = ac__json_pointer_get(body, len, ptr, &s);
  if (rc == AC_ENOMEM) return rc;
  if (rc != 0 || count_of(&s, &n) != 0) {
    char why[300];
    snprintf(why, sizeof(why), "%s: the page has no number at %s (the paginator's %s)", r->name,
             ptr, pg->total != NULL ? "total" : "total_pages");
    ac_crawl_fail_reason(c, why);
    return AC_EPROTO;
  }
  *items = -1;
  if (pg->total != NULL) {
    *items = pg->type == AC__PG_OFFSET ? n - pg->start : n;
    if (*items < 0) *items = 0;
    *pages = (*items + size - 1) / size;
  } else {
    *pages = n;
  }
  return 0;
}

/* Plans the listing from its first page: the total, if the paginator
 * points at one, else until the first empty page (or max_pages). */
static int plan(ac_crawl_t *c, planned_t *pl, const char *body, size_t len) {
  const ac__spec_res_t *r = &pl->sp->spec->res[pl->res];
  const ac__spec_pager_t *pg = &r->pager;
  const char *ptr = pg->total != NULL ? pg->total : pg->total_pages;
  int64_t pages = MAX_PLANNED_PAGES, items = -1, size = page_size(pg);
  if (ptr != NULL) {
    int rc = total_of(c, r, body, len, &pages, &items);
    if (rc != 0) return rc;
    if (pg->max_pages == 0 && pages > MAX_PLANNED_PAGES) {
      ac_crawl_note(c, "%s: the site's total makes %lld pages: planning at most %d (the listing "
                       "also ends at its first empty page; max_pages reaches further)",
                    r->name, (long long)pages, MAX_PLANNED_PAGES);
      pages = MAX_PLANNED_PAGES;
    }
  }
  if (pg->max_pages > 0 && (ptr == NULL || pages > pg->max_pages)) pages = pg->max_pages;
  if (pages < 1) pages = 1;
  if (ptr != NULL) {
    uint64_t expected = (uint64_t)pages;
    if (items >= 0) {
      int64_t listed = items < pages * size ? items : pages * size;
      expected += (uint64_t)listed * r->nchildren;
    }
    ac_crawl_set_expected(c, expected);
  }
  if (!pl->planned) {
    pl->planned = 1;
    pl->last = pages - 1;
    if (pl->next < 1) pl->next = 1;
  }
  return start_producer(c, pl);
}

/* The listing has records up to page k, or ends at k (empty). AC_EPARSE
 * for an empty page that cannot be the end. */
static int listing_moved(ac_crawl_t *c, planned_t *pl, int64_t k, size_t n, int short_page) {
  const char *name = pl->sp->spec->res[pl->res].name;
  int rc = 0;
  if (k > pl->answered) pl->answered = k;
  if (n > 0) {
    if (k > pl->data) pl->data = k;
    if (pl->end >= 0 && k > pl->end) {
      /* The empty page was a transient answer: read it again (pending in
       * the state once more, as it was marked done), and list on. A short
       * page had its records: only the listing goes on. */
      int64_t was = pl->end;
      pl->end = -1;
      ac_crawl_note(c, "%s: page %lld has records after the %s page %lld: listing on", name,
                    (long long)k + 1, pl->end_short ? "short" : "empty", (long long)was + 1);
      if (!pl->end_short && (rc = follow_planned(c, pl, was, AC_FOLLOW_REFETCH)) < 0) return rc;
      pl->end_short = 0;
      if ((rc = start_producer(c, pl)) != 0) return rc;
    }
    /* A short page ends a listing that gives no total, unless a later page
     * already had records (then it was short for another reason). */
    if (short_page && k >= pl->data && (pl->end < 0 || k < pl->end)) {
      pl->end = k;
      pl->end_short = 1;
    }
  } else if (k < pl->data) {
    char why[200];
    snprintf(why, sizeof(why), "%s: page %lld is empty, but page %lld has records", name,
             (long long)k + 1, (long long)pl->data + 1);
    ac_crawl_fail_reason(c, why);
    rc = AC_EPARSE;
  } else if (pl->end < 0 || k < pl->end) {
    if (pl->end < 0 && pl->planned && k <= pl->last && k > 0 &&
        (pl->sp->spec->res[pl->res].pager.total != NULL ||
         pl->sp->spec->res[pl->res].pager.total_pages != NULL))
      ac_crawl_note(c, "%s: page %lld is empty: the listing ends there (the site's total "
                       "planned %lld pages)", name, (long long)k + 1, (long long)pl->last + 1);
    pl->end = k;
    pl->end_short = 0;
  }
  if (pl->moved != NULL) ac_event_set(pl->moved);
  return rc;
}

/* ------------------------------------------------------------ the body */

/* JSON's blanks (RFC 8259 section 2). */
static int is_blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/* What the site sent, for a failure record: its type, size and first bytes
 * (escaped, so an HTML page or binary garbage reads as one line). */
static void describe_body(ac_response_t *resp, char *out, size_t cap) {
  const char *ct = ac_response_header(resp, "Content-Type");
  size_t len, n = 0;
  const unsigned char *body = (const unsigned char *)ac_response_body(resp, &len);
  char head[4 * 48 + 1];
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

/* A body that is not JSON: retried, since a proxy's error page, an empty
 * or a cut body is usually gone on the next try. */
static int bad_body(ac_crawl_t *c, const ac__spec_res_t *r, ac_response_t *resp, size_t pos,
                    int hint_base) {
  const char *ct = ac_response_header(resp, "Content-Type");
  size_t len, i = 0;
  const char *body = ac_response_body(resp, &len);
  char seen[256], why[600];
  while (i < len && is_blank(body[i])) i++;
  describe_body(resp, seen, sizeof(seen));
  if (hint_base && ((ct != NULL && strstr(ct, "html") != NULL) || (i < len && body[i] == '<')))
    snprintf(why, sizeof(why), "%s: not JSON: %s: is the base URL the API's?", r->name, seen);
  else if (len > 0)
    snprintf(why, sizeof(why), "%s: not JSON (at byte %zu): %s", r->name, pos, seen);
  else
    snprintf(why, sizeof(why), "%s: not JSON: %s", r->name, seen);
  ac_crawl_fail_reason(c, why);
  return AC_EPARSE;
}

/* The records of a page, kept until the whole page has been checked. */
typedef struct spans {
  ac__json_span_t *v;
  size_t n, cap;
} spans_t;

static int keep_span(const ac__json_span_t *span, void *ud) {
  spans_t *s = ud;
  if (s->n == s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 32;
    ac__json_span_t *v = ac__realloc(s->v, cap * sizeof(*v));
    if (v == NULL) return AC_ENOMEM;
    s->v = v;
    s->cap = cap;
  }
  s->v[s->n++] = *span;
  return 0;
}

/* A key as text: a non-empty string without NUL, or an integer's own
 * digits (a double would round 9007199254740993). NULL and *why when it is
 * not a usable key. */
static const char *key_text(const ac__json_span_t *k, char *out, size_t cap, const char **why) {
  int n;
  switch (k->type) {
  case AC__JSON_STRING:
    n = ac__json_span_text(k, out, cap);
    if (n > 0) return out;
    *why = n == 0 ? "an empty key" : n == AC_ETOOLARGE ? "a key too long" : "a key holding \\u0000";
    return NULL;
  case AC__JSON_NUMBER:
    for (size_t i = k->start[0] == '-' ? 1 : 0; i < k->len; i++)
      if (k->start[i] < '0' || k->start[i] > '9') {
        *why = "a key that is not an integer";
        return NULL;
      }
    if (ac__json_span_text(k, out, cap) > 0) return out;
    *why = "a key too long";
    return NULL;
  case AC__JSON_NONE: *why = "no key"; return NULL;
  case AC__JSON_NULL: *why = "a null key"; return NULL;
  case AC__JSON_TRUE: case AC__JSON_FALSE: *why = "a boolean key"; return NULL;
  default: *why = "a key that is an object or an array"; return NULL;
  }
}

/* The value at ptr in a record, as text (for expect and keys). */
static int record_get(const ac__json_span_t *rec, const char *ptr, ac__json_span_t *out) {
  int rc = ac__json_pointer_get(rec->start, rec->len, ptr, out);
  if (rc == AC_ENOENT) {
    out->type = AC__JSON_NONE;
    return 0;
  }
  return rc;
}

/* Each `expect` of r holds in every record, or the page is a mixed-up
 * answer (a cache that served another request's body): AC_EPARSE, retried. */
static int check_expect(ac_crawl_t *c, const ac__spec_res_t *r, const spans_t *recs,
                        const char *const *vals) {
  for (size_t e = 0; e < r->nexpect; e++) {
    char *want = NULL;
    int rc = ac__spec_expand_text(r, r->expect[e].tmpl, vals, &want);
    if (rc != 0) return rc == AC_ENOMEM ? rc : 0;
    for (size_t i = 0; i < recs->n; i++) {
      ac__json_span_t got;
      char have[MAX_VALUE + 1], why[800];
      const char *what = NULL;
      if ((rc = record_get(&recs->v[i], r->expect[e].name, &got)) != 0) break;
      /* Compared as text, as the placeholder was filled: a string's
       * content, a number's own digits. */
      if (got.type == AC__JSON_NONE) what = "nothing";
      else if (got.type == AC__JSON_OBJECT || got.type == AC__JSON_ARRAY)
        what = "an object or an array";
      else if (ac__json_span_text(&got, have, sizeof(have)) < 0) what = "a value too long";
      else if (strcmp(have, want) == 0) continue;
      /* Values cut at 200 bytes: a line for a person (and a task's stack). */
      snprintf(why, sizeof(why), "%s: record %zu has %s%.200s%s at %s where \"%.200s\" was "
                                 "asked for: a mixed-up answer", r->name, i + 1,
               what != NULL ? what : "\"", what != NULL ? "" : have, what != NULL ? "" : "\"",
               r->expect[e].name, want);
      ac_crawl_fail_reason(c, why);
      rc = AC_EPARSE;
      break;
    }
    ac__free(want);
    if (rc != 0) return rc;
  }
  return 0;
}

/* The values of child's fields in one record, as JSON text; 1 (and a
 * failure record) when one is missing or not a scalar. */
static int child_values(ac_crawl_t *c, const ac__spec_res_t *child, const ac__json_span_t *rec,
                        size_t index, char **vals) {
  for (size_t f = 0; f < child->nfields; f++) {
    ac__json_span_t v;
    char text[MAX_VALUE + 1];
    const char *why = NULL;
    int rc = record_get(rec, child->fields[f].tmpl, &v);
    if (rc != 0) return rc;
    if (v.type == AC__JSON_NONE) why = "nothing";
    else if (v.type == AC__JSON_NULL) why = "null";
    else if (v.type == AC__JSON_OBJECT || v.type == AC__JSON_ARRAY) why = "an object or an array";
    /* An empty value would make another URL ("/books/" for "/books/{id}"),
     * not this record's. */
    else if (v.type == AC__JSON_STRING && v.len == 2) why = "an empty string";
    else if (v.len > MAX_VALUE) why = "a value too long";
    else if (v.type == AC__JSON_STRING && ac__json_span_text(&v, text, sizeof(text)) < 0)
      why = "a string holding \\u0000";
    if (why != NULL) {
      char msg[600];
      snprintf(msg, sizeof(msg), "record %zu has %s at %s for {%s} of %s: it cannot be fetched",
               index + 1, why, child->fields[f].tmpl, child->fields[f].name, child->name);
      ac_crawl_fail_record(c, msg);
      return 1;
    }
    if ((vals[f] = ac__malloc(v.len + 1)) == NULL) return AC_ENOMEM;
    memcpy(vals[f], v.start, v.len);
    vals[f][v.len] = '\0';
  }
  return 0;
}

static int run_record(ac_crawl_t *c, spec_spider_t *sp, const ac__spec_res_t *r,
                      const ac__json_span_t *rec, size_t index) {
  int rc = 0;
  if (r->emit) {
    ac__json_span_t k;
    char key[MAX_VALUE + 1];
    const char *why = NULL;
    if ((rc = record_get(rec, r->key, &k)) != 0) return rc;
    if (key_text(&k, key, sizeof(key), &why) == NULL) {
      char msg[400];
      snprintf(msg, sizeof(msg), "record %zu has %s at %s: it cannot be stored", index + 1, why,
               r->key);
      ac_crawl_fail_record(c, msg);
    } else if ((rc = ac_crawl_emit_in(c, r->collection, key, rec->start, rec->len)) != 0) {
      return rc;
    }
  }
  for (size_t ci = 0; ci < r->nchildren; ci++) {
    int child = r->children[ci];
    const ac__spec_res_t *cr = &sp->spec->res[child];
    char *vals[AC__SPEC_MAX_FIELDS] = {0};
    rc = child_values(c, cr, rec, index, vals);
    if (rc == 0) rc = follow_page(c, sp, child, 0, (const char *const *)vals, NULL, NULL,
                                  AC_FOLLOW_NEW);
    for (size_t f = 0; f < cr->nfields; f++) ac__free(vals[f]);
    if (rc < 0) return rc;
    rc = 0;
  }
  return 0;
}

/* The next page of a chained resource, from this response. */
static int chain_next(ac_crawl_t *c, spec_spider_t *sp, int res, const meta_t *m,
                      ac_response_t *resp, const char *body, size_t len, size_t n) {
  const ac__spec_res_t *r = &sp->spec->res[res];
  const ac__spec_pager_t *pg = &r->pager;
  ac__json_span_t v;
  int rc;
  switch (pg->type) {
  case AC__PG_OFFSET:
  case AC__PG_PAGE: {
    int64_t size = page_size(pg);
    const char *ptr = pg->total != NULL ? pg->total : pg->total_pages;
    if (n == 0 || (ptr == NULL && size > 0 && (int64_t)n < size)) return 0;
    if (ptr != NULL) {
      int64_t total, pages;
      if ((rc = ac__json_pointer_get(body, len, ptr, &v)) == AC_ENOMEM) return rc;
      if (rc != 0 || count_of(&v, &total) != 0) {
        char why[300];
        snprintf(why, sizeof(why), "%s: no number at %s (the paginator's total)", r->name, ptr);
        ac_crawl_fail_reason(c, why);
        return AC_EPROTO;
      }
      pages = pg->total != NULL ? (total - (pg->type == AC__PG_OFFSET ? pg->start : 0) + size - 1) / size
                                : total;
      if (m->k + 1 >= pages) return 0;
    }
    return follow_chain(c, sp, res, m->k + 1, m->vals, NULL, NULL, "the next page");
  }
  case AC__PG_CURSOR:
  case AC__PG_NEXT_URL: {
    char *text;
    char what[600];
    if ((rc = ac__json_pointer_get(body, len, pg->from, &v)) == AC_ENOMEM) return rc;
    if (rc != 0 || v.type == AC__JSON_NULL || (v.type == AC__JSON_STRING && v.len == 2)) return 0;
    if (v.type != AC__JSON_STRING && !(pg->type == AC__PG_CURSOR && v.type == AC__JSON_NUMBER)) {
      char why[300];
      snprintf(why, sizeof(why), "%s: the value at %s is neither text nor null", r->name, pg->from);
      ac_crawl_fail_reason(c, why);
      return AC_EPROTO;
    }
    if ((text = ac__malloc(v.len + 1)) == NULL) return AC_ENOMEM;
    if (ac__json_span_text(&v, text, v.len + 1) < 0) {
      ac__free(text);
      ac_crawl_fail_reason(c, "the next page's value holds \\u0000");
      return AC_EPROTO;
    }
    if (pg->type == AC__PG_CURSOR) {
      snprintf(what, sizeof(what), "the cursor \"%.200s\"", text);
      rc = follow_chain(c, sp, res, m->k + 1, m->vals, text, NULL, what);
    } else {
      /* Relative to the URL of this response (RFC 3986 section 5), as the
       * site wrote it: no second encoding. */
      CURLU *u = curl_url();
      char *abs = NULL;
      CURLUcode uc = u == NULL ? CURLUE_OUT_OF_MEMORY
                               : curl_url_set(u, CURLUPART_URL, ac_response_url(resp), 0);
      if (uc == CURLUE_OK) uc = curl_url_set(u, CURLUPART_URL, text, 0);
      if (uc == CURLUE_OK) uc = curl_url_get(u, CURLUPART_URL, &abs, 0);
      if (uc == CURLUE_OUT_OF_MEMORY) rc = AC_ENOMEM;
      else if (uc != CURLUE_OK) {
        snprintf(what, sizeof(what), "%s: the next URL \"%.200s\" does not parse (%s)", r->name,
                 text, curl_url_strerror(uc));
        ac_crawl_fail_record(c, what);
        rc = 0;
      } else {
        snprintf(what, sizeof(what), "the next URL %.400s", abs);
        rc = follow_chain(c, sp, res, m->k + 1, m->vals, NULL, abs, what);
      }
      curl_free(abs);
      curl_url_cleanup(u);
    }
    ac__free(text);
    return rc;
  }
  case AC__PG_LINK: {
    char *next = NULL, what[600];
    rc = ac_response_link(resp, "next", &next);
    if (rc == AC_ENOENT) return 0;
    if (rc == AC_EPROTO) {
      snprintf(what, sizeof(what), "%s: the Link header's next target is not a URL", r->name);
      ac_crawl_fail_record(c, what);
      return 0;
    }
    if (rc != 0) return rc;
    snprintf(what, sizeof(what), "the Link header's next URL %.400s", next);
    rc = follow_chain(c, sp, res, m->k + 1, m->vals, NULL, next, what);
    ac__free(next);
    return rc;
  }
  default: return 0;
  }
}

static int on_response(ac_crawl_t *c, const ac_crawl_req_t *req, ac_response_t *resp,
                       void *data) {
  spec_spider_t *sp = data;
  int res = req->callback;
  const ac__spec_res_t *r = &sp->spec->res[res];
  planned_t *pl = is_planned(r) ? &sp->planned[res] : NULL;
  size_t len, pos = 0;
  const char *body = ac_response_body(resp, &len);
  ac__json_type_t top;
  spans_t recs = {NULL, 0, 0};
  meta_t m;
  int rc;

  if ((rc = meta_parse(req->meta, r->nfields, &m)) != 0) {
    if (rc == AC_EPROTO)
      ac_crawl_fail_reason(c, "a request this spec did not make (a crawl state of another spec?)");
    return rc;
  }
  /* RFC 8259 lets a parser ignore a byte order mark; stored without it. */
  if (len >= 3 && memcmp(body, "\xEF\xBB\xBF", 3) == 0) {
    body += 3;
    len -= 3;
  }
  if (ac__json_scan(body, len, NULL, &top, NULL, &pos) != 0) {
    rc = bad_body(c, r, resp, pos, pl != NULL && pl->answered < 0);
    goto out;
  }
  if (r->records != NULL) {
    ac__json_span_t arr;
    rc = ac__json_pointer_get(body, len, r->records, &arr);
    if (rc == AC_ENOMEM) goto out;
    if (rc != 0 || arr.type != AC__JSON_ARRAY) {
      char why[300];
      snprintf(why, sizeof(why), "%s: no array of records at %s", r->name, r->records);
      ac_crawl_fail_reason(c, why);
      rc = AC_EPROTO;
      goto out;
    }
    if ((rc = ac__json_array_each(&arr, keep_span, &recs)) != 0) goto out;
  } else {
    /* The whole body, which the scan found valid: its value is the text
     * between the blanks around it (no second walk over it). */
    ac__json_span_t whole = {top, body, len};
    while (whole.len > 0 && is_blank(whole.start[0])) {
      whole.start++;
      whole.len--;
    }
    while (whole.len > 0 && is_blank(whole.start[whole.len - 1])) whole.len--;
    if (whole.type == AC__JSON_ARRAY) rc = ac__json_array_each(&whole, keep_span, &recs);
    else rc = keep_span(&whole, &recs);
    if (rc != 0) goto out;
  }
  if ((rc = check_expect(c, r, &recs, m.vals)) != 0) goto out;
  /* The pagination first: the next pages start before this page's children. */
  if (pl != NULL) {
    int64_t size = page_size(&r->pager);
    int no_total = r->pager.total == NULL && r->pager.total_pages == NULL;
    int short_page = no_total && size > 0 && recs.n > 0 && (int64_t)recs.n < size;
    if (recs.n == 0 && !no_total && m.k > 0 && ac_crawl_shared(c)) {
      /* Another worker may hold the pages after it: the page's own total
       * says whether it may be empty. Else a transient answer: retried. */
      int64_t pages, items;
      if ((rc = total_of(c, r, body, len, &pages, &items)) != 0) goto out;
      if (m.k < pages && (r->pager.max_pages == 0 || m.k < r->pager.max_pages)) {
        char why[200];
        snprintf(why, sizeof(why), "%s: page %lld is empty, but its total makes %lld pages",
                 r->name, (long long)m.k + 1, (long long)pages);
        ac_crawl_fail_reason(c, why);
        rc = AC_EPARSE;
        goto out;
      }
    }
    if ((rc = listing_moved(c, pl, m.k, recs.n, short_page)) != 0) goto out;
    if (m.k == 0 && (rc = plan(c, pl, body, len)) != 0) goto out;
  } else if ((rc = chain_next(c, sp, res, &m, resp, body, len, recs.n)) < 0) {
    goto out;
  }
  /* A chain that stops (a loop, a next URL that does not parse) is a
   * failure record already: this page's records still count. */
  rc = 0;
  for (size_t i = 0; i < recs.n && rc == 0; i++) rc = run_record(c, sp, r, &recs.v[i], i);
out:
  ac__free(recs.v);
  ac__free(m.buf);
  return rc < 0 ? rc : 0;
}

static int spec_start(ac_crawl_t *c, void *data) {
  spec_spider_t *sp = data;
  ac_loop_t *loop = ac_task_loop(ac_task_current());
  int rc = 0;
  for (size_t i = 0; i < sp->spec->nres && rc >= 0; i++) {
    const ac__spec_res_t *r = &sp->spec->res[i];
    planned_t *pl = &sp->planned[i];
    if (r->parent >= 0) continue;
    if (!is_planned(r)) {
      rc = follow_page(c, sp, (int)i, 0, NULL, NULL, NULL, AC_FOLLOW_NEW);
      continue;
    }
    if (ac_crawl_shared(c) && !shareable(r)) {
      char why[300];
      snprintf(why, sizeof(why), "%s: %s", r->name, UNSHAREABLE);
      ac_crawl_fail_reason(c, why);
      ac_crawl_note(c, "%s", why);
      return AC_EINVAL;
    }
    if (pl->moved == NULL && (rc = ac_event_new(loop, &pl->moved)) != 0) return rc;
    /* Done (or queued) in the run being resumed: read again for the total. */
    rc = follow_planned(c, pl, 0, AC_FOLLOW_NEW);
    if (rc == 0) rc = follow_planned(c, pl, 0, AC_FOLLOW_AGAIN);
    /* Before the total is known, as many pages as there are consumers: a
     * first round trip of one request would leave the others idle. */
    for (int64_t k = 1; rc >= 0 && k < (int64_t)ac_crawl_concurrency(c) &&
                        (r->pager.max_pages == 0 || k < r->pager.max_pages);
         k++) {
      rc = follow_planned(c, pl, k, AC_FOLLOW_NEW);
      if (pl->next <= k) pl->next = k + 1;
    }
  }
  return rc < 0 ? rc : 0;
}

int ac_spec_spider_new(const ac_spec_t *spec, const ac_spec_spider_opts_t *opts,
                       ac_spider_t *out) {
  spec_spider_t *sp;
  const char *base = opts != NULL && opts->base_url != NULL ? opts->base_url : NULL;
  int rc;
  if (out == NULL) return AC_EINVAL;
  memset(out, 0, sizeof(*out));
  if (spec == NULL) return AC_EINVAL;
  if (base == NULL) base = spec->base_url;
  if (!ac__spec_url_ok(base)) return AC_EINVAL;
  if ((sp = ac__calloc(1, sizeof(*sp))) == NULL) return AC_ENOMEM;
  sp->spec = spec;
  if ((rc = ac__spec_base_init(&sp->base, base)) != 0) {
    ac__free(sp);
    return rc;
  }
  sp->callbacks = ac__calloc(spec->nres, sizeof(*sp->callbacks));
  sp->planned = ac__calloc(spec->nres, sizeof(*sp->planned));
  if (spec->nheaders > 0) sp->headers = ac__calloc(spec->nheaders, sizeof(*sp->headers));
  if (sp->callbacks == NULL || sp->planned == NULL ||
      (spec->nheaders > 0 && sp->headers == NULL)) {
    out->data = sp;
    ac_spec_spider_free(out);
    return AC_ENOMEM;
  }
  for (size_t i = 0; i < spec->nres; i++) {
    sp->callbacks[i] = on_response;
    sp->planned[i].sp = sp;
    sp->planned[i].res = (int)i;
    sp->planned[i].last = -1;
    sp->planned[i].answered = -1;
    sp->planned[i].data = -1;
    sp->planned[i].end = -1;
  }
  for (size_t i = 0; i < spec->nheaders; i++) {
    sp->headers[i].key = spec->headers[i].name;
    sp->headers[i].value = spec->headers[i].tmpl;
  }
  out->name = spec->name;
  out->start = spec_start;
  out->callbacks = sp->callbacks;
  out->ncallbacks = spec->nres;
  out->headers = sp->headers;
  out->nheaders = spec->nheaders;
  out->data = sp;
  return 0;
}

void ac_spec_spider_free(ac_spider_t *spider) {
  spec_spider_t *sp = spider != NULL ? spider->data : NULL;
  if (sp == NULL) return;
  for (size_t i = 0; sp->planned != NULL && i < sp->spec->nres; i++)
    (void)ac_event_free(sp->planned[i].moved);
  ac__seen_free(&sp->chain);
  ac__free(sp->planned);
  ac__free(sp->callbacks);
  ac__free(sp->headers);
  ac__spec_base_free(&sp->base);
  ac__free(sp);
  spider->data = NULL;
}
