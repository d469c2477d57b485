/*
 * The book-site replica: construction, and the book API with its faults.
 *
 *   GET /api/book/?limit=L&offset=O   a list page (prebuilt when L is the page
 *                                     size and O a multiple of it)
 *   GET /api/book?...                 301 to the slash form, query kept
 *   GET /api/book/{id}                a detail, or 404 {"detail":"Not found."}
 *
 * The same list through other paginators (site_styles.c) goes through
 * ac__site_book_answer, so that it meets the same faults and shapes.
 *
 * Each book request asks the fault planner for its fate, keyed by method,
 * path and query, then waits the planned delay (counted from the request's
 * arrival) and answers: the planned error status, or the body, whole or
 * damaged (reset mid-body, short, truncated JSON), or a 200 with an HTML
 * error page or nothing in place of the body. Bodies are never copied on the
 * clean path: the prebuilt range goes out in the server's single writev with
 * the head.
 *
 * The same key also fixes the URL's shape (struct ac__site_shapes): its
 * Content-Type label, and for a 200 list or detail a layout, escapes and a
 * BOM. A shaped body is rewritten (and gzip'd) for each request: shapes are
 * for tests, where copying a body costs nothing that matters.
 */
#include "site/site.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "site/site_internal.h"

/* What the URL of one request looks like (see struct ac__site_shapes). */
struct shape {
  enum ac__json_style style;
  enum ac__json_escape escape;
  int bom;
  const char *ctype;
  uint64_t seed;          /* AC__STYLE_MIXED's whitespace */
};

/* Independent per-key draws for the shapes (ac__faults_key_draw). */
enum { SHAPE_DRAW_STYLE = 1, SHAPE_DRAW_ESCAPE, SHAPE_DRAW_BOM, SHAPE_DRAW_CTYPE,
       SHAPE_DRAW_SEED };

static const char *const content_types[] = {AC__SITE_CONTENT_TYPES};
#define NCONTENT_TYPES (sizeof(content_types) / sizeof(content_types[0]))

/* The planner's key (method, path, query) is cut here: longer URLs share the
 * fate of their first bytes, which is enough for a test site. */
#define SITE_KEY_MAX 1024

void ac__site_options_init(struct ac__site_options *o) {
  memset(o, 0, sizeof(*o));
  ac__books_options_init(&o->books);
  ac__faults_config_init(&o->faults);
  o->max_limit = AC__SITE_DEFAULT_MAX_LIMIT;
  ac_server_opts_init(&o->server);
}

ac_server_t *ac__site_server(struct ac__site *s) { return s->server; }
const struct ac__books *ac__site_books(const struct ac__site *s) { return s->books; }

int ac__site_is_gone(const struct ac__site *s, size_t i) {
  return s->gone != NULL && i < ac__books_count(s->books) && s->gone[i];
}

uint64_t ac__site_count(const struct ac__site *s, enum ac__site_kind kind) {
  return (unsigned)kind < AC__SITE_KINDS ? s->kinds[kind] : 0;
}

uint64_t ac__site_shape_count(const struct ac__site *s, enum ac__site_shape shape) {
  return (unsigned)shape < AC__SHAPE_KINDS ? s->shape_counts[shape] : 0;
}

const char *ac__site_shape_name(enum ac__site_shape shape) {
  static const char *const names[AC__SHAPE_KINDS] = {
      "pretty", "spaced", "mixed", "escape_ascii", "escape_slash", "escape_php", "bom"};
  return (unsigned)shape < AC__SHAPE_KINDS ? names[shape] : "unknown";
}

/* ------------------------------------------------------------ helpers */

/* A non-negative decimal query value, or dflt when absent or not a number
 * (Django REST framework ignores a bad limit or offset the same way). */
static size_t query_size(const ac_server_req_t *req, const char *name, size_t dflt) {
  char buf[32];
  size_t len, v = 0;
  if (ac_server_req_query_value(req, name, buf, sizeof(buf), &len) != 0 || len == 0) return dflt;
  for (size_t i = 0; i < len; i++) {
    if (buf[i] < '0' || buf[i] > '9') return dflt;
    if (v > (SIZE_MAX - 9) / 10) return SIZE_MAX; /* saturate: past any end */
    v = v * 10 + (size_t)(buf[i] - '0');
  }
  return v;
}

int ac__site_send_json(ac_server_resp_t *resp, int status, const struct ac__dynbuf *b) {
  int rc;
  if (ac__dynbuf_err(b) != 0 || ac__dynbuf_len(b) == 0)
    return ac_server_resp_text(resp, 500, "Internal Server Error\n");
  rc = ac_server_resp_status(resp, status, NULL);
  if (rc == 0) rc = ac_server_resp_header(resp, "Content-Type", "application/json");
  if (rc == 0) rc = ac_server_resp_send(resp, ac__dynbuf_ptr(b), ac__dynbuf_len(b));
  return rc;
}

static int send_static_json(ac_server_resp_t *resp, int status, const struct shape *sh,
                            const char *body) {
  int rc = ac_server_resp_status(resp, status, NULL);
  if (rc == 0) rc = ac_server_resp_header(resp, "Content-Type", sh->ctype);
  if (rc == 0) rc = ac_server_resp_send(resp, body, strlen(body));
  return rc;
}

/* The shape of the URL whose planner key is key[0..klen). Only what the
 * options leave open is drawn: the defaults cost no hashing per request. */
static void decide_shape(const struct ac__site *s, const char *key, size_t klen,
                         struct shape *sh) {
  const struct ac__site_shapes *o = &s->shapes;

  memset(sh, 0, sizeof(*sh));
  sh->style = o->style == AC__SITE_ANY
                  ? (enum ac__json_style)(ac__faults_key_draw(s->faults, key, klen,
                                                              SHAPE_DRAW_STYLE) %
                                          AC__STYLE_KINDS)
                  : (enum ac__json_style)o->style;
  sh->escape = o->escape == AC__SITE_ANY
                   ? (enum ac__json_escape)(ac__faults_key_draw(s->faults, key, klen,
                                                                SHAPE_DRAW_ESCAPE) %
                                            AC__ESCAPE_KINDS)
                   : (enum ac__json_escape)o->escape;
  if (o->pbom > 0.0) {
    /* The top 53 bits as a double in [0, 1), as the planner draws shares. */
    double u = (double)(ac__faults_key_draw(s->faults, key, klen, SHAPE_DRAW_BOM) >> 11) *
               (1.0 / 9007199254740992.0);
    sh->bom = u < o->pbom;
  }
  if (o->content_type == NULL)
    sh->ctype = "application/json";
  else if (strcmp(o->content_type, "any") == 0)
    sh->ctype = content_types[ac__faults_key_draw(s->faults, key, klen, SHAPE_DRAW_CTYPE) %
                              NCONTENT_TYPES];
  else
    sh->ctype = o->content_type;
  if (sh->style == AC__STYLE_MIXED)
    sh->seed = ac__faults_key_draw(s->faults, key, klen, SHAPE_DRAW_SEED);
}

static int shaped(const struct shape *sh) {
  return sh->style != AC__STYLE_COMPACT || sh->escape != AC__ESCAPE_NONE || sh->bom;
}

/*
 * Plan this request's faults and answer the ones that replace the response
 * (5xx, 429, 503) after the planned delay. Returns 1 when the request was
 * answered (*rc is the handler's result), 0 when the caller goes on with the
 * body fault, if any, in *f.
 */
static int plan(struct ac__site *s, ac_server_req_t *req, ac_server_resp_t *resp,
                const char *extra, size_t elen, struct ac__fault *f, struct shape *sh,
                int *rc) {
  char key[SITE_KEY_MAX];
  const char *q = ac_server_req_query(req);
  int n = snprintf(key, sizeof(key), "%s %s%s%s", ac_server_req_method(req),
                   ac_server_req_path(req), *q ? "?" : "", q);
  size_t klen = n < 0 ? 0 : (size_t)n >= sizeof(key) ? sizeof(key) - 1 : (size_t)n;

  /* A POST's resource is its URL and its body: a newline keeps the two
   * apart, then as much of the body as fits. */
  if (elen > 0 && klen + 1 < sizeof(key)) {
    size_t room = sizeof(key) - 1 - klen - 1;
    key[klen++] = '\n';
    if (elen > room) elen = room;
    memcpy(key + klen, extra, elen);
    klen += elen;
    key[klen] = '\0';
  }

  /* The cap counts the book API's requests in flight (this one included),
   * not the server's: httpbin routes and /__stats must not trip it. */
  ac__faults_decide(s->faults, key, klen, s->book_in_flight, f);
  decide_shape(s, key, klen, sh);
  /* An overload answers at once: holding a slot for the delay would make the
   * overload worse, which is what the client is being told about. */
  if (f->kind == AC__FAULT_OVERLOAD) {
    *rc = send_static_json(resp, 503, sh, "{\"detail\":\"Service temporarily unavailable.\"}");
    return 1;
  }
  if (f->delay_ms > 0 &&
      (*rc = ac_sleep_until(ac_server_req_arrival_us(req) + (uint64_t)f->delay_ms * 1000u)) != 0)
    return 1;
  if (f->kind == AC__FAULT_5XX) {
    *rc = send_static_json(resp, f->status, sh, "{\"detail\":\"A server error occurred.\"}");
    return 1;
  }
  if (f->kind == AC__FAULT_429) {
    char ra[24], body[96];
    snprintf(ra, sizeof(ra), "%u", (unsigned)f->retry_after_s);
    snprintf(body, sizeof(body),
             "{\"detail\":\"Request was throttled. Expected available in %u seconds.\"}",
             (unsigned)f->retry_after_s);
    *rc = ac_server_resp_header(resp, "Retry-After", ra);
    if (*rc == 0) *rc = send_static_json(resp, 429, sh, body);
    return 1;
  }
  return 0;
}

/*
 * Send a JSON body made of parts (their concatenation), damaged as the fault
 * says: RESET and SHORT announce the whole length and stop after half of it
 * (reset, or a clean close), BADJSON sends the first half as the whole body
 * (a cut JSON text never parses), uncompressed. gz says the parts are gzip'd.
 */
static int send_parts(ac_server_resp_t *resp, int status, const struct shape *sh,
                      const struct ac__books_bytes *parts, size_t n, int gz,
                      const struct ac__fault *f) {
  size_t total = 0, half, left;
  int rc;

  for (size_t i = 0; i < n; i++) total += parts[i].len;
  half = total / 2;
  rc = ac_server_resp_status(resp, status, NULL);
  if (rc == 0) rc = ac_server_resp_header(resp, "Content-Type", sh->ctype);
  if (rc == 0) rc = ac_server_resp_header(resp, "Vary", "Accept-Encoding");
  if (rc == 0 && gz) rc = ac_server_resp_header(resp, "Content-Encoding", "gzip");
  if (rc != 0) return rc;
  if (f->kind == AC__FAULT_NONE && n == 1)
    return ac_server_resp_send(resp, parts[0].base, parts[0].len);
  if (f->kind == AC__FAULT_BADJSON) total = half;
  rc = ac_server_resp_start(resp, (int64_t)total);
  left = f->kind == AC__FAULT_NONE ? total : half;
  for (size_t i = 0; i < n && rc == 0 && left > 0; i++) {
    size_t k = parts[i].len < left ? parts[i].len : left;
    rc = ac_server_resp_write(resp, parts[i].base, k);
    left -= k;
  }
  if (rc != 0) return rc;
  if (f->kind == AC__FAULT_RESET) return ac_server_resp_reset(resp);
  if (f->kind == AC__FAULT_SHORT) return ac_server_resp_abort(resp);
  return ac_server_resp_end(resp);
}

/* Send b's bytes as the 200 body, gzip'd for this one request when gz. */
static int send_built(ac_server_resp_t *resp, const struct shape *sh, const struct ac__dynbuf *b,
                      int gz, const struct ac__fault *f) {
  struct ac__books_bytes body;
  unsigned char *z = NULL;
  size_t zlen = 0;
  int rc;

  if ((rc = ac__dynbuf_err(b)) != 0) return rc;
  if (!gz) {
    body.base = ac__dynbuf_ptr(b);
    body.len = ac__dynbuf_len(b);
    return send_parts(resp, 200, sh, &body, 1, 0, f);
  }
  rc = ac__site_gzip(ac__dynbuf_ptr(b), ac__dynbuf_len(b), AC__SITE_GZIP_LEVEL, &z, &zlen);
  if (rc != 0) return rc;
  body.base = (const char *)z;
  body.len = zlen;
  rc = send_parts(resp, 200, sh, &body, 1, 1, f);
  ac__free(z);
  return rc;
}

/*
 * The 200 body of parts (a list page's pieces or a detail), as the shape
 * says and gzip'd when the client takes it. Clean bodies go out from the
 * set's prebuilt bytes when the caller has them (the compact shape); the
 * others are built for this request. BADJSON is never gzip'd: its cut text
 * is meant to reach the JSON parser.
 */
static int send_body(struct ac__site *s, ac_server_req_t *req, ac_server_resp_t *resp,
                     const struct shape *sh, const struct ac__books_bytes *parts, size_t n,
                     const struct ac__fault *f) {
  int gz = f->kind != AC__FAULT_BADJSON && ac__site_accepts_gzip(req);
  struct ac__dynbuf src, out;
  int rc;

  /* A compact body with no gzip'd form at hand (a gzip that failed for
   * want of memory, too) goes out uncompressed, without a copy. */
  if (!shaped(sh) && (n == 1 || !gz)) return send_parts(resp, 200, sh, parts, n, 0, f);
  ac__dynbuf_init(&src, AC__BOOKS_MAX_BODY);
  if (n > 1)
    for (size_t i = 0; i < n; i++) ac__dynbuf_add(&src, parts[i].base, parts[i].len);
  if (!shaped(sh)) { /* an odd list page, gzip'd for this one request */
    rc = send_built(resp, sh, &src, gz, f);
    ac__dynbuf_free(&src);
    return rc;
  }
  /* A reshaped body is at most a few times the compact one (PHP escapes turn
   * 3 bytes of CJK into 6, pretty printing adds indentation). */
  ac__dynbuf_init(&out, 8 * AC__BOOKS_MAX_BODY);
  if (sh->bom) ac__dynbuf_add(&out, "\xEF\xBB\xBF", 3);
  if (n > 1)
    ac__json_reshape(&out, ac__dynbuf_ptr(&src), ac__dynbuf_len(&src), sh->style, sh->escape,
                     sh->seed);
  else
    ac__json_reshape(&out, parts[0].base, parts[0].len, sh->style, sh->escape, sh->seed);
  ac__dynbuf_free(&src);
  if (ac__dynbuf_err(&out) == 0) {
    if (sh->style == AC__STYLE_PRETTY) s->shape_counts[AC__SHAPE_PRETTY]++;
    if (sh->style == AC__STYLE_SPACED) s->shape_counts[AC__SHAPE_SPACED]++;
    if (sh->style == AC__STYLE_MIXED) s->shape_counts[AC__SHAPE_MIXED]++;
    if (sh->escape == AC__ESCAPE_ASCII) s->shape_counts[AC__SHAPE_ESCAPE_ASCII]++;
    if (sh->escape == AC__ESCAPE_SLASH) s->shape_counts[AC__SHAPE_ESCAPE_SLASH]++;
    if (sh->escape == AC__ESCAPE_PHP) s->shape_counts[AC__SHAPE_ESCAPE_PHP]++;
    if (sh->bom) s->shape_counts[AC__SHAPE_BOM]++;
  }
  rc = send_built(resp, sh, &out, gz, f);
  ac__dynbuf_free(&out);
  return rc;
}

/* Error pages that proxies, CDNs and frameworks put under a 200 when the
 * JSON behind them failed: what HTML200 serves in place of the body. */
static const char *const html_pages[] = {
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n",
    "<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n<html><head>\n"
    "<title>503 Service Unavailable</title>\n</head><body>\n<h1>Service Unavailable</h1>\n"
    "<p>The server is temporarily unable to service your\nrequest due to maintenance "
    "downtime or capacity\nproblems. Please try again later.</p>\n</body></html>\n",
    "<!DOCTYPE html><html lang=\"en-US\"><head><title>Just a moment...</title>"
    "<meta http-equiv=\"Content-Type\" content=\"text/html; charset=UTF-8\"></head>"
    "<body><noscript>Enable JavaScript and cookies to continue</noscript></body></html>"};

/* HTML200 and EMPTY200: a 200 with the URL's JSON label and no JSON. */
static int send_bad_200(ac_server_resp_t *resp, const struct shape *sh,
                        const struct ac__fault *f) {
  const char *page =
      f->kind == AC__FAULT_HTML200 ? html_pages[f->variant % (sizeof html_pages /
                                                             sizeof html_pages[0])] : "";
  int rc = ac_server_resp_status(resp, 200, NULL);
  if (rc == 0) rc = ac_server_resp_header(resp, "Content-Type", sh->ctype);
  if (rc == 0) rc = ac_server_resp_send(resp, page, strlen(page));
  return rc;
}

/* ----------------------------------------------------------- handlers */

static int list_answer(ac_server_req_t *req, ac_server_resp_t *resp, void *ud) {
  struct ac__site *s = ud;
  struct ac__books_bytes parts[3];
  struct ac__fault f;
  struct shape sh;
  size_t limit, offset;
  int rc;

  s->kinds[AC__SITE_LIST]++;
  if (plan(s, req, resp, NULL, 0, &f, &sh, &rc)) return rc;
  if (f.kind == AC__FAULT_HTML200 || f.kind == AC__FAULT_EMPTY200)
    return send_bad_200(resp, &sh, &f);
  limit = query_size(req, "limit", s->page_size);
  if (limit > s->max_limit) limit = s->max_limit;
  offset = query_size(req, "offset", 0);
  if (!shaped(&sh) && f.kind != AC__FAULT_BADJSON && ac__site_accepts_gzip(req) &&
      ac__books_list_page_gzip(s->books, limit, offset, &parts[0]) == 0)
    return send_parts(resp, 200, &sh, parts, 1, 1, &f);
  if (ac__books_list_page(s->books, limit, offset, &parts[0]) == 0)
    return send_body(s, req, resp, &sh, parts, 1, &f);
  ac__books_list_iov(s->books, limit, offset, parts);
  return send_body(s, req, resp, &sh, parts, 3, &f);
}

/* /api/book?... : the browser's first hit, answered like the real site. */
static int h_list_redirect(ac_server_req_t *req, ac_server_resp_t *resp, void *ud) {
  struct ac__site *s = ud;
  const char *q = ac_server_req_query(req);
  char *loc;
  size_t qlen = strlen(q);
  int rc;

  s->kinds[AC__SITE_REDIRECT]++;
  loc = ac__malloc(sizeof("/api/book/?") + qlen);
  if (loc == NULL) return AC_ENOMEM;
  memcpy(loc, "/api/book/", 10);
  if (qlen > 0) {
    loc[10] = '?';
    memcpy(loc + 11, q, qlen + 1);
  } else {
    loc[10] = '\0';
  }
  rc = ac_server_resp_status(resp, 301, NULL);
  if (rc == 0) rc = ac_server_resp_header(resp, "Location", loc);
  ac__free(loc);
  if (rc == 0) rc = ac_server_resp_send(resp, NULL, 0);
  return rc;
}

static int detail_answer(ac_server_req_t *req, ac_server_resp_t *resp, void *ud) {
  struct ac__site *s = ud;
  const char *id = ac_server_req_param(req, "id");
  struct ac__books_bytes body;
  struct ac__fault f;
  struct shape sh;
  size_t i;
  int rc;

  if (plan(s, req, resp, NULL, 0, &f, &sh, &rc)) {
    s->kinds[AC__SITE_DETAIL]++;
    return rc;
  }
  if (id == NULL || ac__books_find(s->books, id, strlen(id), &i) != 0 || s->gone[i]) {
    s->kinds[AC__SITE_NOT_FOUND]++;
    body.base = AC__BOOKS_NOT_FOUND_BODY;
    body.len = sizeof(AC__BOOKS_NOT_FOUND_BODY) - 1;
    /* Body faults damage 200 answers only: a 404 goes out whole, and the
     * counts say no fault was injected. */
    if (ac__fault_is_body(f.kind)) {
      ac__faults_recount(s->faults, f.kind, AC__FAULT_NONE);
      f.kind = AC__FAULT_NONE;
    }
    return send_parts(resp, 404, &sh, &body, 1, 0, &f);
  }
  s->kinds[AC__SITE_DETAIL]++;
  if (f.kind == AC__FAULT_HTML200 || f.kind == AC__FAULT_EMPTY200)
    return send_bad_200(resp, &sh, &f);
  if (!shaped(&sh) && f.kind != AC__FAULT_BADJSON && ac__site_accepts_gzip(req) &&
      ac__books_detail_gzip(s->books, i, &body) == 0)
    return send_parts(resp, 200, &sh, &body, 1, 1, &f);
  ac__books_detail(s->books, i, &body);
  return send_body(s, req, resp, &sh, &body, 1, &f);
}

/* The book API's handlers, counted while they answer (--max-in-flight). */
static int h_list(ac_server_req_t *req, ac_server_resp_t *resp, void *ud) {
  struct ac__site *s = ud;
  int rc;
  s->book_in_flight++;
  rc = list_answer(req, resp, ud);
  s->book_in_flight--;
  return rc;
}

static int h_detail(ac_server_req_t *req, ac_server_resp_t *resp, void *ud) {
  struct ac__site *s = ud;
  int rc;
  s->book_in_flight++;
  rc = detail_answer(req, resp, ud);
  s->book_in_flight--;
  return rc;
}

static int styled_answer(struct ac__site *s, ac_server_req_t *req, ac_server_resp_t *resp,
                         const char *extra, size_t elen, ac__site_answer_fn fn, void *ud) {
  struct ac__site_answer a;
  struct ac__fault f;
  struct shape sh;
  int rc;

  if (plan(s, req, resp, extra, elen, &f, &sh, &rc)) return rc;
  memset(&a, 0, sizeof(a));
  if ((rc = fn(s, req, &a, ud)) != 0) return rc;
  if (a.status != 200) {
    /* As for a 404: body faults damage 200 answers only. */
    if (ac__fault_is_body(f.kind)) {
      ac__faults_recount(s->faults, f.kind, AC__FAULT_NONE);
      f.kind = AC__FAULT_NONE;
    }
    return send_parts(resp, a.status, &sh, a.parts, a.nparts, 0, &f);
  }
  if (f.kind == AC__FAULT_HTML200 || f.kind == AC__FAULT_EMPTY200)
    return send_bad_200(resp, &sh, &f);
  if (a.link != NULL && (rc = ac_server_resp_header(resp, "Link", a.link)) != 0) return rc;
  return send_body(s, req, resp, &sh, a.parts, a.nparts, &f);
}

int ac__site_book_answer(struct ac__site *s, ac_server_req_t *req, ac_server_resp_t *resp,
                         enum ac__site_kind kind, const char *extra, size_t elen,
                         ac__site_answer_fn fn, void *ud) {
  int rc;
  s->kinds[kind]++;
  s->book_in_flight++;
  rc = styled_answer(s, req, resp, extra, elen, fn, ud);
  s->book_in_flight--;
  return rc;
}

/* ---------------------------------------------------------- lifecycle */

static int pick_gone(struct ac__site *s, size_t k) {
  size_t n = ac__books_count(s->books);
  const char **ids;
  int rc;

  s->gone = ac__calloc(n > 0 ? n : 1, 1);
  if (s->gone == NULL) return AC_ENOMEM;
  if (k == 0 || n == 0) return 0;
  ids = ac__malloc(n * sizeof(*ids));
  if (ids == NULL) return AC_ENOMEM;
  for (size_t i = 0; i < n; i++) ids[i] = ac__books_id(s->books, i);
  rc = ac__faults_pick_gone(s->faults_seed_for_gone, ids, n, k, s->gone);
  ac__free(ids);
  return rc;
}

static int add_routes(struct ac__site *s) {
  int rc = ac_server_route(s->server, "GET", "/api/book/", h_list, s);
  if (rc == 0) rc = ac_server_route(s->server, "GET", "/api/book", h_list_redirect, s);
  if (rc == 0) rc = ac_server_route(s->server, "GET", "/api/book/{id}", h_detail, s);
  if (rc == 0) rc = ac__site_styles_routes(s);
  if (rc == 0) rc = ac__site_stats_route(s);
  if (rc == 0) rc = ac__site_httpbin_routes(s);
  return rc;
}

static int shapes_valid(const struct ac__site_shapes *sh) {
  const char *ct = sh->content_type;
  if (sh->style != AC__SITE_ANY && (sh->style < 0 || sh->style >= AC__STYLE_KINDS)) return 0;
  if (sh->escape != AC__SITE_ANY && (sh->escape < 0 || sh->escape >= AC__ESCAPE_KINDS)) return 0;
  if (!(sh->pbom >= 0.0 && sh->pbom <= 1.0)) return 0;
  /* A header value: printable ASCII and spaces (the server refuses CR/LF,
   * and an empty label is no label). */
  if (ct != NULL) {
    if (*ct == '\0') return 0;
    for (; *ct != '\0'; ct++)
      if ((unsigned char)*ct < 0x20 || (unsigned char)*ct >= 0x7F) return 0;
  }
  return 1;
}

int ac__site_new(ac_loop_t *loop, const struct ac__site_options *o, struct ac__site **out) {
  struct ac__site_options dflt;
  struct ac__site *s;
  int rc;

  if (loop == NULL || out == NULL) return AC_EINVAL;
  if (o == NULL) {
    ac__site_options_init(&dflt);
    o = &dflt;
  }
  if (o->max_limit == 0 || o->books.page_size == 0 || !shapes_valid(&o->shapes))
    return AC_EINVAL;
  s = ac__calloc(1, sizeof(*s));
  if (s == NULL) return AC_ENOMEM;
  s->shapes = o->shapes;
  s->shapes.content_type = NULL;
  if (o->shapes.content_type != NULL &&
      (s->shapes.content_type = ac__strdup(o->shapes.content_type)) == NULL) {
    ac__free(s);
    return AC_ENOMEM;
  }
  s->loop = loop;
  s->page_size = o->books.page_size;
  s->max_limit = o->max_limit < s->page_size ? s->page_size : o->max_limit;
  s->faults_seed_for_gone = o->faults.seed;
  s->cursor_loop = o->cursor_loop;
  /* Cursors of one data set mean nothing to another. */
  s->cursor_key = o->books.seed ^ 0x6375727330726b79ull;
  rc = ac__books_build(&o->books, &s->books);
  if (rc == 0) rc = ac__faults_new(&o->faults, &s->faults);
  if (rc == 0) rc = pick_gone(s, o->gone);
  if (rc == 0) {
    /* A delay counts from each request's arrival: the kernel's stamp, so
     * that the site's own queue (a wave of requests read one after another)
     * is not added to every answer. */
    ac_server_opts_t so = o->server;
    if (o->faults.delay_ms > 0 || o->faults.jitter_ms > 0) so.stamp_arrival = 1;
    rc = ac_server_new(loop, &so, &s->server);
  }
  if (rc == 0) rc = add_routes(s);
  if (rc != 0) {
    ac__site_free(s);
    return rc;
  }
  *out = s;
  return 0;
}

int ac__site_free(struct ac__site *s) {
  if (s == NULL) return 0;
  if (s->server != NULL) {
    int rc = ac_server_free(s->server);
    if (rc != 0) return rc;
  }
  ac__faults_free(s->faults);
  ac__books_free(s->books);
  ac__free(s->gone);
  ac__free((char *)s->shapes.content_type);
  ac__free(s);
  return 0;
}
