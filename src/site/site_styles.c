/*
 * The list records of /api/book/ (the same books, bytes and order) through
 * the other paginators real APIs use, so that a crawler driven by a
 * pagination spec can be tested against each:
 *
 *   GET  /api/books/pages?page=N&size=S       {"total":T,"total_pages":P,"page":N,"items":[...]}
 *   GET  /api/books/pages-open?page=N&size=S  {"page":N,"items":[...]}
 *   GET  /api/books/cursor?size=S&cursor=C    {"items":[...],"next_cursor":"C2"} (null at the end)
 *   GET  /api/books/next?after=K&size=S       {"items":[...],"next":"REF"} (null at the end)
 *   GET  /api/books/linked?page=N&size=S      [...], the other pages in a Link header
 *   POST /api/books/search  {"page":N,"size":S}  {"total":T,"items":[...]}
 *
 * Pages are 1-based, size is 1..1000 (the site's page size by default),
 * after counts the books skipped. A page past the end has no items. A bad
 * parameter answers 400 {"error":"bad page"} (size, after, cursor, body).
 *
 * Each route is faulted and shaped as /api/book/ is (ac__site_book_answer):
 * the planner's key is the URL, plus the body for the POST. The items are
 * the set's own bytes (ac__books_list_iov); only the head and tail around
 * them are written per request.
 */
#include <string.h>

#include "acrawl/errno.h"
#include "common/json_pointer.h"
#include "common/json_scan.h"
#include "site/rng.h"
#include "site/site_internal.h"

/* Page numbers and offsets have at most this many digits: their products
 * with a size stay far inside 64 bits. */
#define MAX_DIGITS 15
#define MAX_NUM 999999999999999ull
/* What one request writes around the items: a few numbers and one URL. */
#define HEAD_MAX 256
#define TAIL_MAX 512
/* Four links of at most a Host header's worth each (HOST_MAX). */
#define LINK_MAX 2048
#define HOST_MAX 255

#define ERR_PAGE "{\"error\":\"bad page\"}"
#define ERR_SIZE "{\"error\":\"bad size\"}"
#define ERR_AFTER "{\"error\":\"bad after\"}"
#define ERR_CURSOR "{\"error\":\"bad cursor\"}"
#define ERR_BODY "{\"error\":\"the body is not a JSON object\"}"

/* A cursor is this many bytes before base64: a length that is no multiple
 * of 3, so that every cursor ends in '='. */
#define CURSOR_BYTES 8

/* The bytes written around one answer's items (each capped). */
struct reply {
  struct ac__dynbuf head, tail, link;
};

static void reply_init(struct reply *r) {
  ac__dynbuf_init(&r->head, HEAD_MAX);
  ac__dynbuf_init(&r->tail, TAIL_MAX);
  ac__dynbuf_init(&r->link, LINK_MAX);
}

static void reply_free(struct reply *r) {
  ac__dynbuf_free(&r->head);
  ac__dynbuf_free(&r->tail);
  ac__dynbuf_free(&r->link);
}

static int bad(struct ac__site_answer *a, const char *body) {
  a->status = 400;
  a->parts[0].base = body;
  a->parts[0].len = strlen(body);
  a->nparts = 1;
  return 0;
}

/* The 200: head, items, tail, and the Link header when one was written. */
static int ok(struct ac__site_answer *a, struct reply *r, struct ac__books_bytes items) {
  int rc = ac__dynbuf_err(&r->head);
  if (rc == 0) rc = ac__dynbuf_err(&r->tail);
  if (rc == 0) rc = ac__dynbuf_err(&r->link);
  if (rc != 0) return rc;
  a->status = 200;
  a->parts[0].base = ac__dynbuf_ptr(&r->head);
  a->parts[0].len = ac__dynbuf_len(&r->head);
  a->parts[1] = items;
  a->parts[2].base = ac__dynbuf_ptr(&r->tail);
  a->parts[2].len = ac__dynbuf_len(&r->tail);
  a->nparts = 3;
  a->link = ac__dynbuf_len(&r->link) > 0 ? ac__dynbuf_ptr(&r->link) : NULL;
  return 0;
}

/* Decimal digits p[0..len) with a value in lo..hi: 0 and *v, else -1 (no
 * sign, no spaces, nothing empty). */
static int parse_num(const char *p, size_t len, uint64_t lo, uint64_t hi, uint64_t *v) {
  uint64_t x = 0;
  if (len == 0 || len > MAX_DIGITS) return -1;
  for (size_t i = 0; i < len; i++) {
    if (p[i] < '0' || p[i] > '9') return -1;
    x = x * 10 + (uint64_t)(p[i] - '0');
  }
  if (x < lo || x > hi) return -1;
  *v = x;
  return 0;
}

/* A query parameter as parse_num reads it, dflt when absent. */
static int query_num(const ac_server_req_t *req, const char *name, uint64_t dflt, uint64_t lo,
                     uint64_t hi, uint64_t *v) {
  char buf[MAX_DIGITS + 2];
  size_t len;
  int rc = ac_server_req_query_value(req, name, buf, sizeof(buf), &len);
  if (rc == AC_ENOENT) {
    *v = dflt;
    return 0;
  }
  return rc == 0 ? parse_num(buf, len, lo, hi, v) : -1;
}

/* The items of books [offset, offset + size), and how many there are. */
static struct ac__books_bytes items_at(const struct ac__site *s, uint64_t offset, uint64_t size,
                                       size_t *count) {
  struct ac__books_bytes p[3];
  size_t n = ac__books_count(s->books);
  size_t off = offset >= n ? n : (size_t)offset;
  ac__books_list_iov(s->books, (size_t)size, off, p);
  *count = n - off < size ? n - off : (size_t)size;
  return p[1];
}

static uint64_t books_n(const struct ac__site *s) { return ac__books_count(s->books); }

static void add_u64(struct ac__dynbuf *b, const char *text, uint64_t v) {
  ac__dynbuf_adds(b, text);
  ac__json_u64(b, v);
}

/* page and size from the query, or a 400 said in *a (returns 1 then). */
static int page_and_size(const struct ac__site *s, ac_server_req_t *req,
                         struct ac__site_answer *a, uint64_t *page, uint64_t *size) {
  const char *err = NULL;
  if (query_num(req, "page", 1, 1, MAX_NUM, page) != 0) err = ERR_PAGE;
  else if (query_num(req, "size", s->page_size, 1, AC__BOOKS_MAX_PAGE_SIZE, size) != 0)
    err = ERR_SIZE;
  if (err == NULL) return 0;
  bad(a, err);
  return 1;
}

/* ------------------------------------------------------- page numbers */

static int answer_pages(struct ac__site *s, ac_server_req_t *req, struct ac__site_answer *a,
                        void *ud) {
  struct reply *r = ud;
  uint64_t page, size, n = books_n(s);
  size_t count;
  struct ac__books_bytes items;

  if (page_and_size(s, req, a, &page, &size)) return 0;
  items = items_at(s, (page - 1) * size, size, &count);
  add_u64(&r->head, "{\"total\":", n);
  add_u64(&r->head, ",\"total_pages\":", (n + size - 1) / size);
  add_u64(&r->head, ",\"page\":", page);
  ac__dynbuf_adds(&r->head, ",\"items\":[");
  ac__dynbuf_adds(&r->tail, "]}");
  return ok(a, r, items);
}

/* No totals: a crawler stops at the first page without items. */
static int answer_pages_open(struct ac__site *s, ac_server_req_t *req,
                             struct ac__site_answer *a, void *ud) {
  struct reply *r = ud;
  uint64_t page, size;
  size_t count;
  struct ac__books_bytes items;

  if (page_and_size(s, req, a, &page, &size)) return 0;
  items = items_at(s, (page - 1) * size, size, &count);
  add_u64(&r->head, "{\"page\":", page);
  ac__dynbuf_adds(&r->head, ",\"items\":[");
  ac__dynbuf_adds(&r->tail, "]}");
  return ok(a, r, items);
}

/* ------------------------------------------------------------- cursor */

static uint64_t mix(uint64_t x) { return ac__splitmix64(&x); }

static uint32_t get32(const unsigned char *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put32(unsigned char *p, uint32_t v) {
  p[0] = (unsigned char)(v >> 24);
  p[1] = (unsigned char)(v >> 16);
  p[2] = (unsigned char)(v >> 8);
  p[3] = (unsigned char)v;
}

/*
 * A cursor: the offset masked, then a checksum of it keyed by the data set,
 * the mask drawn from the checksum. Every byte looks random, so the base64
 * text holds '+' and '/' at random places (about one cursor in seven has
 * each) and always ends in '=': what a client must percent-encode.
 */
static void cursor_bytes(const struct ac__site *s, uint32_t offset,
                         unsigned char out[CURSOR_BYTES]) {
  uint32_t check = (uint32_t)(mix(s->cursor_key ^ offset) >> 32);
  put32(out, offset ^ (uint32_t)mix(s->cursor_key + check));
  put32(out + 4, check);
}

/* The offset of the cursor text c[0..len), at most the set's size; -1 for
 * anything that is not a cursor of this set. */
static int cursor_offset(const struct ac__site *s, const char *c, size_t len, uint64_t *offset) {
  unsigned char blob[CURSOR_BYTES], again[CURSOR_BYTES];
  size_t blen;
  uint32_t off;

  if (ac__site_unbase64(c, len, blob, sizeof(blob), &blen) != 0 || blen != CURSOR_BYTES)
    return -1;
  off = get32(blob) ^ (uint32_t)mix(s->cursor_key + get32(blob + 4));
  cursor_bytes(s, off, again);
  if (memcmp(blob, again, CURSOR_BYTES) != 0 || off > books_n(s)) return -1;
  *offset = off;
  return 0;
}

static int answer_cursor(struct ac__site *s, ac_server_req_t *req, struct ac__site_answer *a,
                         void *ud) {
  struct reply *r = ud;
  char c[64];
  size_t clen, count;
  uint64_t size, offset = 0, next;
  struct ac__books_bytes items;
  int rc, has_next;

  if (query_num(req, "size", s->page_size, 1, AC__BOOKS_MAX_PAGE_SIZE, &size) != 0)
    return bad(a, ERR_SIZE);
  /* The value is form-decoded, as Django and PHP read a query: a raw '+'
   * of the cursor arrives as a space and the cursor is refused. */
  rc = ac_server_req_query_value(req, "cursor", c, sizeof(c), &clen);
  if (rc != AC_ENOENT && (rc != 0 || cursor_offset(s, c, clen, &offset) != 0))
    return bad(a, ERR_CURSOR);
  items = items_at(s, offset, size, &count);
  ac__dynbuf_adds(&r->head, "{\"items\":[");
  ac__dynbuf_adds(&r->tail, "],\"next_cursor\":");
  /* A full page has a next one, even when it turns out empty: the client
   * cannot tell the end from a page of exactly size books. */
  has_next = count == size;
  next = offset + size;
  if (s->cursor_loop > 0 && offset % size == 0 && offset / size == s->cursor_loop) {
    has_next = 1;
    next = offset - size; /* the previous page's cursor, once more */
  }
  if (has_next) {
    unsigned char blob[CURSOR_BYTES];
    cursor_bytes(s, (uint32_t)next, blob);
    ac__dynbuf_addc(&r->tail, '"');
    ac__site_base64(&r->tail, blob, sizeof(blob));
    ac__dynbuf_addc(&r->tail, '"');
  } else {
    ac__dynbuf_adds(&r->tail, "null");
  }
  ac__dynbuf_addc(&r->tail, '}');
  return ok(a, r, items);
}

/* --------------------------------------------------------------- next */

/* The next page's reference, relative to /api/books/next?...: the four
 * forms a server writes (RFC 3986 section 5 resolves each to the same URL),
 * one after the other by page index. */
static const char *const next_forms[] = {"next?", "./next?", "/api/books/next?", "?"};

static int answer_next(struct ac__site *s, ac_server_req_t *req, struct ac__site_answer *a,
                       void *ud) {
  struct reply *r = ud;
  uint64_t after, size;
  size_t count;
  struct ac__books_bytes items;

  if (query_num(req, "after", 0, 0, MAX_NUM, &after) != 0) return bad(a, ERR_AFTER);
  if (query_num(req, "size", s->page_size, 1, AC__BOOKS_MAX_PAGE_SIZE, &size) != 0)
    return bad(a, ERR_SIZE);
  items = items_at(s, after, size, &count);
  ac__dynbuf_adds(&r->head, "{\"items\":[");
  if (after + size < books_n(s)) {
    ac__dynbuf_adds(&r->tail, "],\"next\":\"");
    ac__dynbuf_adds(&r->tail, next_forms[(after / size) % 4]);
    add_u64(&r->tail, "after=", after + size);
    add_u64(&r->tail, "&size=", size);
    ac__dynbuf_adds(&r->tail, "\"}");
  } else {
    ac__dynbuf_adds(&r->tail, "],\"next\":null}");
  }
  return ok(a, r, items);
}

/* ------------------------------------------------------------- linked */

/* The Host header when it is a plain host[:port] that can go into a URL,
 * else NULL (then every link is relative). */
static const char *usable_host(const ac_server_req_t *req) {
  const char *h = ac_server_req_header(req, "Host");
  size_t n = h != NULL ? strlen(h) : 0;
  if (n == 0 || n > HOST_MAX) return NULL;
  for (size_t i = 0; i < n; i++)
    if (!((h[i] >= 'a' && h[i] <= 'z') || (h[i] >= 'A' && h[i] <= 'Z') ||
          (h[i] >= '0' && h[i] <= '9') || strchr(".-:[]_", h[i]) != NULL))
      return NULL;
  return h;
}

/* One link-value: <URL>; REL, URL being the route with page and size (and
 * the extra parameter that carries a comma on next links). */
static void add_link(struct ac__dynbuf *b, const char *host, uint64_t page, uint64_t size,
                     int fields, const char *rel) {
  if (ac__dynbuf_len(b) > 0) ac__dynbuf_adds(b, ", ");
  ac__dynbuf_addc(b, '<');
  if (host != NULL) {
    ac__dynbuf_adds(b, "http://");
    ac__dynbuf_adds(b, host);
  }
  add_u64(b, "/api/books/linked?page=", page);
  add_u64(b, "&size=", size);
  if (fields) ac__dynbuf_adds(b, "&fields=id,name");
  ac__dynbuf_adds(b, ">; ");
  ac__dynbuf_adds(b, rel);
}

/*
 * RFC 8288 links as GitHub's API sends them, varied by page index i so that
 * a parser must really read them: the next link's place among the others
 * rotates, its URL is absolute (from the Host header) on even pages and
 * relative on odd ones, and it carries a comma, so splitting the header on
 * ',' breaks it; its rel is quoted except on every third page; rel=last is
 * never quoted.
 */
static void write_links(struct ac__dynbuf *b, const char *host, uint64_t page, uint64_t size,
                        uint64_t last) {
  uint64_t i = page - 1;
  int has_prev = page > 1, has_next = page < last;
  int nlinks = 2 + has_prev + has_next;
  for (int k = 0; k < nlinks; k++) {
    int slot = (int)((k + i) % (uint64_t)nlinks); /* first, [prev], [next], last */
    if (slot == 0) {
      add_link(b, NULL, 1, size, 0, "rel=\"first\"");
    } else if (slot == 1 && has_prev) {
      add_link(b, NULL, page - 1, size, 0, "rel=\"prev\"");
    } else if (slot == nlinks - 1) {
      add_link(b, NULL, last, size, 0, "rel=last");
    } else {
      add_link(b, i % 2 == 0 ? host : NULL, page + 1, size, 1,
               i % 3 == 2 ? "rel=next" : "rel=\"next\"");
    }
  }
}

static int answer_linked(struct ac__site *s, ac_server_req_t *req, struct ac__site_answer *a,
                         void *ud) {
  struct reply *r = ud;
  uint64_t page, size, last;
  size_t count;
  struct ac__books_bytes items;

  if (page_and_size(s, req, a, &page, &size)) return 0;
  items = items_at(s, (page - 1) * size, size, &count);
  last = (books_n(s) + size - 1) / size;
  if (last == 0) last = 1; /* an empty set still has its one empty page */
  write_links(&r->link, usable_host(req), page, size, last);
  ac__dynbuf_addc(&r->head, '[');
  ac__dynbuf_addc(&r->tail, ']');
  return ok(a, r, items);
}

/* ------------------------------------------------------------- search */

/* Member name of the object in body[0..len) as a number in lo..hi, dflt
 * when absent: 0, or -1 (not a plain non-negative integer, out of bounds). */
static int body_num(const char *body, size_t len, const char *ptr, uint64_t dflt, uint64_t lo,
                    uint64_t hi, uint64_t *v) {
  ac__json_span_t span;
  int rc = ac__json_pointer_get(body, len, ptr, &span);
  if (rc == AC_ENOENT) {
    *v = dflt;
    return 0;
  }
  if (rc != 0 || span.type != AC__JSON_NUMBER) return -1;
  return parse_num(span.start, span.len, lo, hi, v);
}

static int answer_search(struct ac__site *s, ac_server_req_t *req, struct ac__site_answer *a,
                         void *ud) {
  struct reply *r = ud;
  size_t blen, count;
  const char *body = ac_server_req_body(req, &blen);
  ac__json_type_t top = AC__JSON_NONE;
  uint64_t page, size;
  struct ac__books_bytes items;

  /* Whatever the request's Content-Type says: the body is read as JSON. */
  if (ac__json_scan(body, blen, NULL, &top, NULL, NULL) != 0 || top != AC__JSON_OBJECT)
    return bad(a, ERR_BODY);
  if (body_num(body, blen, "/page", 1, 1, MAX_NUM, &page) != 0) return bad(a, ERR_PAGE);
  if (body_num(body, blen, "/size", s->page_size, 1, AC__BOOKS_MAX_PAGE_SIZE, &size) != 0)
    return bad(a, ERR_SIZE);
  items = items_at(s, (page - 1) * size, size, &count);
  add_u64(&r->head, "{\"total\":", books_n(s));
  ac__dynbuf_adds(&r->head, ",\"items\":[");
  ac__dynbuf_adds(&r->tail, "]}");
  return ok(a, r, items);
}

/* ----------------------------------------------------------- handlers */

static int serve(ac_server_req_t *req, ac_server_resp_t *resp, struct ac__site *s,
                 enum ac__site_kind kind, ac__site_answer_fn fn) {
  struct reply r;
  const char *body = NULL;
  size_t blen = 0;
  int rc;

  if (kind == AC__SITE_SEARCH) body = ac_server_req_body(req, &blen);
  reply_init(&r);
  rc = ac__site_book_answer(s, req, resp, kind, body, blen, fn, &r);
  reply_free(&r);
  return rc;
}

static int h_pages(ac_server_req_t *req, ac_server_resp_t *resp, void *ud) {
  return serve(req, resp, ud, AC__SITE_PAGES, answer_pages);
}
static int h_pages_open(ac_server_req_t *req, ac_server_resp_t *resp, void *ud) {
  return serve(req, resp, ud, AC__SITE_PAGES_OPEN, answer_pages_open);
}
static int h_cursor(ac_server_req_t *req, ac_server_resp_t *resp, void *ud) {
  return serve(req, resp, ud, AC__SITE_CURSOR, answer_cursor);
}
static int h_next(ac_server_req_t *req, ac_server_resp_t *resp, void *ud) {
  return serve(req, resp, ud, AC__SITE_NEXT, answer_next);
}
static int h_linked(ac_server_req_t *req, ac_server_resp_t *resp, void *ud) {
  return serve(req, resp, ud, AC__SITE_LINKED, answer_linked);
}
static int h_search(ac_server_req_t *req, ac_server_resp_t *resp, void *ud) {
  return serve(req, resp, ud, AC__SITE_SEARCH, answer_search);
}

int ac__site_styles_routes(struct ac__site *s) {
  int rc = ac_server_route(s->server, "GET", "/api/books/pages", h_pages, s);
  if (rc == 0) rc = ac_server_route(s->server, "GET", "/api/books/pages-open", h_pages_open, s);
  if (rc == 0) rc = ac_server_route(s->server, "GET", "/api/books/cursor", h_cursor, s);
  if (rc == 0) rc = ac_server_route(s->server, "GET", "/api/books/next", h_next, s);
  if (rc == 0) rc = ac_server_route(s->server, "GET", "/api/books/linked", h_linked, s);
  if (rc == 0) rc = ac_server_route(s->server, "POST", "/api/books/search", h_search, s);
  return rc;
}
