/*
 * What the replica's files (site.c, site_httpbin.c, site_stats.c) share.
 */
#ifndef AC_SITE_SITE_INTERNAL_H
#define AC_SITE_SITE_INTERNAL_H

#include "site/gzip.h"
#include "site/json_write.h"
#include "site/site.h"

struct ac__site {
  ac_loop_t *loop;
  ac_server_t *server;
  struct ac__books *books;
  struct ac__faults *faults;
  unsigned char *gone;          /* one flag per book: 404 forever */
  uint64_t faults_seed_for_gone; /* the fault seed also picks the gone ids */
  size_t page_size;
  size_t max_limit;
  uint64_t kinds[AC__SITE_KINDS];
  struct ac__site_shapes shapes;  /* content_type owned (NULL: the default) */
  uint64_t shape_counts[AC__SHAPE_KINDS];
  /* Book-API requests (list and detail) being answered now: what
   * --max-in-flight caps, whatever the httpbin routes or /__stats carry. */
  unsigned book_in_flight;
  size_t cursor_loop;           /* see struct ac__site_options */
  uint64_t cursor_key;          /* keys the cursors' checksums (site_styles.c) */
};

/*
 * What a paginated route of site_styles.c answers: a 200 whose body is the
 * concatenation of parts (items borrowed from the set, the rest from the
 * route's own buffers), or an error status with its JSON body.
 */
struct ac__site_answer {
  int status;
  struct ac__books_bytes parts[3];
  size_t nparts;
  const char *link;  /* a 200's Link header, or NULL */
};

/* Fill *a for the request (ud is the route's own). Returns 0, or an error
 * that fails the request (AC_ENOMEM). */
typedef int (*ac__site_answer_fn)(struct ac__site *s, ac_server_req_t *req,
                                  struct ac__site_answer *a, void *ud);

/*
 * Answer a book-API request of another paginator the way /api/book/ is
 * answered: counted under kind and in flight, its faults planned from the
 * method, path and query (and extra, the body of a POST, when elen > 0),
 * its shape decided from the same key; then fn's answer. An error answer
 * goes out whole (body faults dropped, as for a 404); a 200 gets the
 * HTML/empty 200 faults, the shape, gzip and the damaging faults.
 */
int ac__site_book_answer(struct ac__site *s, ac_server_req_t *req, ac_server_resp_t *resp,
                         enum ac__site_kind kind, const char *extra, size_t elen,
                         ac__site_answer_fn fn, void *ud);

/* Add the /api/books/... routes (site_styles.c). */
int ac__site_styles_routes(struct ac__site *s);

/* A name and a value, borrowed (query and form fields, multipart parts). */
struct ac__site_field {
  const char *k, *v;
  size_t klen, vlen;
  const char *ct;  /* a multipart part's Content-Type, or NULL */
  size_t ctlen;
};

/*
 * Split a multipart/form-data body (ctype is its Content-Type) into form
 * fields and files (parts with a filename), at most max of each, borrowed
 * from body. Returns 0 (possibly with no parts when the framing is broken),
 * or -1 when ctype is not multipart/form-data with a usable boundary.
 */
int ac__site_multipart(const char *ctype, const char *body, size_t blen,
                       struct ac__site_field *form, int *nform, struct ac__site_field *files,
                       int *nfiles, int max);

/* Add the httpbin-style routes (site_httpbin.c). 0, AC_EINVAL, AC_ENOMEM. */
int ac__site_httpbin_routes(struct ac__site *s);
/* Add GET /__stats (site_stats.c). */
int ac__site_stats_route(struct ac__site *s);

/* 1 if the request's Accept-Encoding allows gzip (a "gzip" or "*" token
 * without q=0). */
int ac__site_accepts_gzip(const ac_server_req_t *req);

/* Standard base64 (RFC 4648 section 4) of p[0..n), padded with '='. */
void ac__site_base64(struct ac__dynbuf *b, const void *p, size_t n);
/* Decode s[0..n) as padded standard base64 into out (at most cap bytes):
 * 0 and *outlen, or -1 for anything else (a bad length or character, '='
 * not at the end, non-zero bits under the padding, more than cap bytes), so
 * that each blob has exactly one text. */
int ac__site_unbase64(const char *s, size_t n, unsigned char *out, size_t cap, size_t *outlen);

/* Dynamic bodies are gzip'd at zlib's default level (ac__site_gzip). */
#define AC__SITE_GZIP_LEVEL 6

/* Send b's contents as the JSON body with the given status; a failed build
 * (ac__dynbuf_err) answers 500 instead. */
int ac__site_send_json(ac_server_resp_t *resp, int status, const struct ac__dynbuf *b);

#endif /* AC_SITE_SITE_INTERNAL_H */
