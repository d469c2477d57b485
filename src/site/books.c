/*
 * The book site's data set (see books.h): builds every body once, then
 * answers lookups with borrowed byte ranges.
 *
 * Memory layout. Each detail body is one exact-size allocation. The list
 * items live back to back in one buffer, each followed by a comma, so the
 * results of any (limit, offset) are one contiguous slice of it (minus the
 * last comma): ac__books_list_iov hands out head + slice + tail without
 * copying. The pages of the default size are also kept whole, for servers
 * that want one buffer (and for their gzip'd form).
 */
#include "site/books.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "acrawl/errno.h"
#include "common/alloc.h"
#include "common/dynbuf.h"
#include "site/gzip.h"
#include "site/internal.h"

/* A text value of one book (the biggest introduction is 300 KB). */
#define ARENA_MAX (2u << 20)
/* One list item: id, name, authors, cover and score stay far below this. */
#define ITEM_MAX (16u << 10)
#define ID_MAX 24 /* digits of a uint64 plus NUL, rounded up */

struct body {
  char *p;
  size_t len;
  unsigned char *gz; /* gzip'd form, made on first use (NULL until then) */
  size_t gz_len;
};

struct ac__books {
  size_t n;
  size_t page_size;
  size_t n_pages;
  int gzip_level;
  uint64_t *id_num;          /* n, strictly increasing */
  char (*id_str)[ID_MAX];    /* n, the same ids as strings */
  struct body *details;      /* n */
  struct body *pages;        /* n_pages + 1: the last one is the empty page */
  char *items;               /* every list item followed by ',' */
  size_t items_len;
  size_t *item_off;          /* n + 1: item i starts at item_off[i] */
  char head[48];             /* {"count":N,"results":[ */
  size_t head_len;
  size_t gzip_bytes;
  size_t biggest_body;
};

static const char list_tail[] = "]}";

void ac__books_options_init(struct ac__books_options *o) {
  o->n = AC__BOOKS_DEFAULT_N;
  o->seed = AC__BOOKS_DEFAULT_SEED;
  o->page_size = AC__BOOKS_DEFAULT_PAGE_SIZE;
  o->flags = 0;
  o->gzip_level = 6;
}

/* ---- serialisation ---- */

static void write_array(struct ac__dynbuf *o, const struct ac__dynbuf *a, const struct book_val *v,
                        unsigned n) {
  ac__dynbuf_addc(o, '[');
  for (unsigned k = 0; k < n; k++) {
    if (k > 0) ac__dynbuf_addc(o, ',');
    ac__book_write_val(o, a, &v[k]);
  }
  ac__dynbuf_addc(o, ']');
}

static void write_key(struct ac__dynbuf *o, const char *key) {
  ac__dynbuf_addc(o, ',');
  ac__json_str(o, key, strlen(key), AC__JSON_UTF8);
  ac__dynbuf_addc(o, ':');
}

/* The fields a list item shares with the detail, in the same bytes. */
static void write_head_fields(struct ac__dynbuf *o, const struct ac__dynbuf *a, const struct book *bk,
                              const char *id) {
  ac__dynbuf_adds(o, "{\"id\":");
  ac__json_str(o, id, strlen(id), AC__JSON_UTF8);
  write_key(o, "name");
  ac__book_write_val(o, a, &bk->name);
  write_key(o, "authors");
  write_array(o, a, bk->authors, bk->n_authors);
}

static void write_item(struct ac__dynbuf *o, const struct ac__dynbuf *a, const struct book *bk,
                       const char *id) {
  write_head_fields(o, a, bk, id);
  write_key(o, "cover");
  ac__book_write_val(o, a, &bk->cover);
  write_key(o, "score");
  ac__book_write_val(o, a, &bk->score);
  ac__dynbuf_addc(o, '}');
}

static void write_detail(struct ac__dynbuf *o, const struct ac__dynbuf *a, const struct book *bk,
                         const char *id) {
  write_head_fields(o, a, bk, id);
  write_key(o, "translators");
  if (bk->translators_null) ac__dynbuf_adds(o, "null");
  else write_array(o, a, bk->translators, bk->n_translators);
  write_key(o, "publisher");
  ac__book_write_val(o, a, &bk->publisher);
  write_key(o, "tags");
  write_array(o, a, bk->tags, bk->n_tags);
  write_key(o, "url");
  ac__book_write_val(o, a, &bk->url);
  write_key(o, "isbn");
  ac__book_write_val(o, a, &bk->isbn);
  write_key(o, "cover");
  ac__book_write_val(o, a, &bk->cover);
  write_key(o, "page_number");
  ac__book_write_val(o, a, &bk->page_number);
  write_key(o, "price");
  ac__book_write_val(o, a, &bk->price);
  write_key(o, "score");
  ac__book_write_val(o, a, &bk->score);
  write_key(o, "introduction");
  ac__book_write_val(o, a, &bk->introduction);
  write_key(o, "catalog");
  ac__book_write_val(o, a, &bk->catalog);
  write_key(o, "published_at");
  ac__book_write_val(o, a, &bk->published_at);
  write_key(o, "updated_at");
  ac__book_write_val(o, a, &bk->updated_at);
  write_key(o, "comments");
  ac__dynbuf_addc(o, '[');
  for (unsigned k = 0; k < bk->n_comments; k++) {
    if (k > 0) ac__dynbuf_addc(o, ',');
    ac__dynbuf_adds(o, "{\"id\":");
    ac__book_write_val(o, a, &bk->comment_ids[k]);
    write_key(o, "content");
    ac__book_write_val(o, a, &bk->comment_texts[k]);
    ac__dynbuf_addc(o, '}');
  }
  ac__dynbuf_adds(o, "]}");
}

/* ---- build ---- */

/* Each body keeps an exact-size copy of the scratch it was built in: the
 * scratch, grown by doubling, is reused for the next one. */
static int keep_body(struct ac__books *b, struct body *bd, const struct ac__dynbuf *src) {
  size_t len = ac__dynbuf_len(src);
  int rc = ac__dynbuf_err(src);
  if (rc != 0) return rc;
  if (len == 0) return AC_EINVAL; /* bodies are never empty */
  bd->p = ac__malloc(len);
  if (bd->p == NULL) return AC_ENOMEM;
  memcpy(bd->p, ac__dynbuf_ptr(src), len);
  bd->len = len;
  if (len > b->biggest_body) b->biggest_body = len;
  return 0;
}

static void build_ids(struct ac__books *b, uint64_t seed) {
  uint64_t id = 0;
  for (size_t i = 0; i < b->n; i++) {
    id += ac__book_id_step(seed, i);
    b->id_num[i] = id;
    snprintf(b->id_str[i], sizeof b->id_str[i], "%" PRIu64, id);
  }
}

static int build_books(struct ac__books *b, uint64_t seed, struct ac__dynbuf *arena,
                       struct ac__dynbuf *scratch, struct ac__dynbuf *items) {
  struct book bk;
  for (size_t i = 0; i < b->n; i++) {
    int rc = ac__book_generate(&bk, arena, seed, i, b->id_num[i]);
    if (rc != 0) return rc;
    ac__dynbuf_reset(scratch);
    write_detail(scratch, arena, &bk, b->id_str[i]);
    if ((rc = keep_body(b, &b->details[i], scratch)) != 0) return rc;
    write_item(items, arena, &bk, b->id_str[i]);
    ac__dynbuf_addc(items, ',');
    if ((rc = ac__dynbuf_err(items)) != 0) return rc;
    b->item_off[i + 1] = ac__dynbuf_len(items);
  }
  return 0;
}

static int build_pages(struct ac__books *b, struct ac__dynbuf *scratch) {
  for (size_t p = 0; p <= b->n_pages; p++) {
    struct ac__books_bytes parts[3];
    /* The last page slot is the empty page (offset past the end). */
    ac__books_list_iov(b, b->page_size, p < b->n_pages ? p * b->page_size : b->n, parts);
    ac__dynbuf_reset(scratch);
    for (int k = 0; k < 3; k++) ac__dynbuf_add(scratch, parts[k].base, parts[k].len);
    int rc = keep_body(b, &b->pages[p], scratch);
    if (rc != 0) return rc;
  }
  return 0;
}

static int gzip_body(struct ac__books *b, struct body *bd);

int ac__books_build(const struct ac__books_options *opts, struct ac__books **out) {
  struct ac__books_options o;
  struct ac__dynbuf arena, scratch, items;
  struct ac__books *b;
  int rc;

  *out = NULL;
  if (opts == NULL) ac__books_options_init(&o);
  else o = *opts;
  if (o.n > AC__BOOKS_MAX_N || o.page_size == 0 || o.page_size > AC__BOOKS_MAX_PAGE_SIZE ||
      o.gzip_level < 1 || o.gzip_level > 9)
    return AC_EINVAL;

  b = ac__calloc(1, sizeof *b);
  if (b == NULL) return AC_ENOMEM;
  b->n = o.n;
  b->page_size = o.page_size;
  b->n_pages = (o.n + o.page_size - 1) / o.page_size;
  b->gzip_level = o.gzip_level;

  ac__dynbuf_init(&arena, ARENA_MAX);
  ac__dynbuf_init(&scratch, AC__BOOKS_MAX_BODY);
  ac__dynbuf_init(&items, o.n * ITEM_MAX);

  /* calloc(0) is NULL here, so n == 0 gets one slot of everything. */
  size_t slots = o.n > 0 ? o.n : 1;
  b->id_num = ac__calloc(slots, sizeof *b->id_num);
  b->id_str = ac__calloc(slots, sizeof *b->id_str);
  b->details = ac__calloc(slots, sizeof *b->details);
  b->item_off = ac__calloc(o.n + 1, sizeof *b->item_off);
  b->pages = ac__calloc(b->n_pages + 1, sizeof *b->pages);
  rc = AC_ENOMEM;
  if (b->id_num == NULL || b->id_str == NULL || b->details == NULL || b->item_off == NULL ||
      b->pages == NULL)
    goto fail;

  /* The count is the same in every list body: write it once. */
  b->head_len = (size_t)snprintf(b->head, sizeof b->head, "{\"count\":%zu,\"results\":[", o.n);

  build_ids(b, o.seed);
  if ((rc = build_books(b, o.seed, &arena, &scratch, &items)) != 0) goto fail;
  /* Give back what doubling over-allocated; keeping the bigger block is fine
   * if the shrink fails. */
  b->items = ac__dynbuf_take(&items, &b->items_len);
  if (b->items != NULL) {
    char *p = ac__realloc(b->items, b->items_len + 1); /* dynbuf's NUL kept */
    if (p != NULL) b->items = p;
  }
  if ((rc = build_pages(b, &scratch)) != 0) goto fail;

  if (o.flags & AC__BOOKS_GZIP) {
    for (size_t i = 0; i < b->n; i++)
      if ((rc = gzip_body(b, &b->details[i])) != 0) goto fail;
    for (size_t p = 0; p <= b->n_pages; p++)
      if ((rc = gzip_body(b, &b->pages[p])) != 0) goto fail;
  }

  ac__dynbuf_free(&arena);
  ac__dynbuf_free(&scratch);
  *out = b;
  return 0;

fail:
  ac__dynbuf_free(&arena);
  ac__dynbuf_free(&scratch);
  ac__dynbuf_free(&items);
  ac__books_free(b);
  return rc;
}

void ac__books_free(struct ac__books *b) {
  if (b == NULL) return;
  if (b->details != NULL) {
    for (size_t i = 0; i < b->n; i++) {
      ac__free(b->details[i].p);
      ac__free(b->details[i].gz);
    }
  }
  if (b->pages != NULL) {
    for (size_t p = 0; p <= b->n_pages; p++) {
      ac__free(b->pages[p].p);
      ac__free(b->pages[p].gz);
    }
  }
  ac__free(b->id_num);
  ac__free(b->id_str);
  ac__free(b->details);
  ac__free(b->pages);
  ac__free(b->items);
  ac__free(b->item_off);
  ac__free(b);
}

/* ---- lookups ---- */

size_t ac__books_count(const struct ac__books *b) { return b->n; }

const char *ac__books_id(const struct ac__books *b, size_t i) {
  return i < b->n ? b->id_str[i] : NULL;
}

int ac__books_find(const struct ac__books *b, const char *id, size_t len, size_t *index) {
  uint64_t v = 0;
  /* Only the canonical spelling matches: digits, no leading zero, and few
   * enough digits that the value cannot overflow. */
  if (len == 0 || len > 19 || (id[0] == '0' && len > 1)) return AC_ENOENT;
  for (size_t k = 0; k < len; k++) {
    if (id[k] < '0' || id[k] > '9') return AC_ENOENT;
    v = v * 10 + (uint64_t)(id[k] - '0');
  }
  size_t lo = 0, hi = b->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (b->id_num[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  if (lo == b->n || b->id_num[lo] != v) return AC_ENOENT;
  *index = lo;
  return 0;
}

int ac__books_detail(const struct ac__books *b, size_t i, struct ac__books_bytes *out) {
  if (i >= b->n) return AC_ENOENT;
  out->base = b->details[i].p;
  out->len = b->details[i].len;
  return 0;
}

void ac__books_list_iov(const struct ac__books *b, size_t limit, size_t offset,
                        struct ac__books_bytes parts[3]) {
  parts[0].base = b->head;
  parts[0].len = b->head_len;
  parts[1].base = "";
  parts[1].len = 0;
  parts[2].base = list_tail;
  parts[2].len = sizeof list_tail - 1;
  if (offset >= b->n || limit == 0) return;
  size_t end = limit > b->n - offset ? b->n : offset + limit;
  parts[1].base = b->items + b->item_off[offset];
  parts[1].len = b->item_off[end] - b->item_off[offset] - 1; /* without the last ',' */
}

/* The prebuilt page for (limit, offset), or NULL. */
static struct body *find_page(const struct ac__books *b, size_t limit, size_t offset) {
  if (offset >= b->n || limit == 0) return &b->pages[b->n_pages];
  if (limit != b->page_size || offset % b->page_size != 0) return NULL;
  return &b->pages[offset / b->page_size];
}

int ac__books_list_page(const struct ac__books *b, size_t limit, size_t offset,
                        struct ac__books_bytes *out) {
  const struct body *bd = find_page(b, limit, offset);
  if (bd == NULL) return AC_ENOENT;
  out->base = bd->p;
  out->len = bd->len;
  return 0;
}

/* ---- gzip ---- */

static int gzip_body(struct ac__books *b, struct body *bd) {
  unsigned char *gz;
  size_t len;
  int rc;
  if (bd->gz != NULL) return 0;
  rc = ac__site_gzip(bd->p, bd->len, b->gzip_level, &gz, &len);
  if (rc != 0) return rc;
  bd->gz = gz;
  bd->gz_len = len;
  b->gzip_bytes += len;
  return 0;
}

int ac__books_detail_gzip(struct ac__books *b, size_t i, struct ac__books_bytes *out) {
  if (i >= b->n) return AC_ENOENT;
  int rc = gzip_body(b, &b->details[i]);
  if (rc != 0) return rc;
  out->base = (const char *)b->details[i].gz;
  out->len = b->details[i].gz_len;
  return 0;
}

int ac__books_list_page_gzip(struct ac__books *b, size_t limit, size_t offset,
                             struct ac__books_bytes *out) {
  struct body *bd = find_page(b, limit, offset);
  if (bd == NULL) return AC_ENOENT;
  int rc = gzip_body(b, bd);
  if (rc != 0) return rc;
  out->base = (const char *)bd->gz;
  out->len = bd->gz_len;
  return 0;
}

/* ---- dump and stats ---- */

int ac__books_dump_jsonl(const struct ac__books *b, FILE *f) {
  for (size_t i = 0; i < b->n; i++) {
    const struct body *bd = &b->details[i];
    if (fwrite(bd->p, 1, bd->len, f) != bd->len || putc('\n', f) == EOF) return AC_EIO;
  }
  return fflush(f) == 0 ? 0 : AC_EIO;
}

void ac__books_stats(const struct ac__books *b, struct ac__books_stats *st) {
  memset(st, 0, sizeof *st);
  st->n = b->n;
  st->pages = b->n_pages;
  for (size_t i = 0; i < b->n; i++) st->detail_bytes += b->details[i].len;
  st->item_bytes = b->items_len;
  for (size_t p = 0; p <= b->n_pages; p++) st->page_bytes += b->pages[p].len;
  st->gzip_bytes = b->gzip_bytes;
  st->biggest_body = b->biggest_body;
}
