/*
 * acrawl site's other paginators (/api/books/...): each walked over the
 * whole set with libcurl on one connection, every book exactly once and in
 * the dump's order; the 400s; the cursor's alphabet, its form decoding and
 * --cursor-loop; the four relative forms of "next"; the Link header (several
 * rels, a comma inside a URL, absolute and relative targets); faults and
 * shapes as on /api/book/; the counters of /__stats.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "runner.h"
#include "site_proc.h"

#define NBOOKS 9040
#define LINK_CAP 4096

struct got {
  long status;
  char *body;
  size_t len;
  char link[LINK_CAP]; /* the Link header, "" when none */
};

static size_t on_body(char *p, size_t size, size_t n, void *ud) {
  struct got *g = ud;
  char *nb = realloc(g->body, g->len + size * n + 1);
  ASSERT_NOT_NULL(nb);
  g->body = nb;
  memcpy(g->body + g->len, p, size * n);
  g->len += size * n;
  g->body[g->len] = '\0';
  return size * n;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud) {
  struct got *g = ud;
  size_t len = size * n;
  if (len > 5 && strncasecmp(p, "link:", 5) == 0) {
    size_t k = 5;
    while (k < len && p[k] == ' ') k++;
    while (len > k && (p[len - 1] == '\r' || p[len - 1] == '\n')) len--;
    ASSERT_LT(len - k, LINK_CAP);
    memcpy(g->link, p + k, len - k);
    g->link[len - k] = '\0';
  }
  return size * n;
}

/* One request on the test's handle (kept alive across calls); post is the
 * body of a POST with Content-Type ctype, or NULL for a GET. */
static void fetch(CURL *h, const char *url, const char *post, const char *ctype, struct got *g) {
  struct curl_slist *hd = NULL;
  char ct[128];
  free(g->body);
  memset(g, 0, sizeof(*g));
  curl_easy_setopt(h, CURLOPT_URL, url);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, g);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, g);
  if (post != NULL) {
    snprintf(ct, sizeof(ct), "Content-Type: %s", ctype);
    hd = curl_slist_append(hd, ct);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, post);
  } else {
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
  }
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
  if (curl_easy_perform(h) != CURLE_OK) AC__FAIL("curl failed on %s", url);
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &g->status);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
  curl_slist_free_all(hd);
  if (g->body == NULL) {
    g->body = calloc(1, 1);
    ASSERT_NOT_NULL(g->body);
  }
}

/* GET p->url + pq; the body must parse as JSON with the given status. */
static cJSON *get_json(CURL *h, const struct site_proc *p, const char *pq, long status,
                       struct got *g) {
  char url[512];
  cJSON *j;
  snprintf(url, sizeof(url), "%s%s", p->url, pq);
  fetch(h, url, NULL, NULL, g);
  ASSERT_EQ(g->status, status);
  j = cJSON_ParseWithLength(g->body, g->len);
  if (j == NULL) AC__FAIL("not JSON from %s: %.200s", pq, g->body);
  return j;
}

/* The ids of the dump, in order (NBOOKS of them). */
static char (*dump_ids(void))[16] {
  static char (*ids)[16];
  char path[128], *all, *line;
  size_t n = 0;
  if (ids != NULL) return ids;
  ids = calloc(NBOOKS, sizeof(*ids));
  ASSERT_NOT_NULL(ids);
  snprintf(path, sizeof(path), "%s/styles.jsonl", site_tmpdir());
  free(site_shf("'%s' site --dump '%s'", site_bin(), path));
  all = site_read_file(path, NULL);
  for (line = all; *line; n++) {
    char *nl = strchr(line, '\n');
    ASSERT_NOT_NULL(nl);
    ASSERT_LT(n, NBOOKS);
    ASSERT(sscanf(line, "{\"id\":\"%15[0-9]\"", ids[n]) == 1);
    line = nl + 1;
  }
  ASSERT_EQ(n, NBOOKS);
  free(all);
  return ids;
}

/* A walk's progress: the next book expected. */
struct walk {
  size_t seen;
};

/* Check the items (an array of list records) against the dump from w->seen
 * on; returns how many there were. */
static int take_items(struct walk *w, const cJSON *items) {
  char (*ids)[16] = dump_ids();
  const cJSON *it;
  int n = 0;
  ASSERT(cJSON_IsArray(items));
  cJSON_ArrayForEach(it, items) {
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(it, "id");
    ASSERT(cJSON_IsString(id));
    ASSERT_LT(w->seen, NBOOKS);
    if (strcmp(id->valuestring, ids[w->seen]) != 0)
      AC__FAIL("book %zu: id %s, the dump has %s", w->seen, id->valuestring, ids[w->seen]);
    ASSERT_EQ(cJSON_GetArraySize(it), 5); /* id, name, authors, cover, score */
    w->seen++;
    n++;
  }
  return n;
}

static CURL *new_handle(void) {
  CURL *h = curl_easy_init();
  ASSERT_NOT_NULL(h);
  return h;
}

static const cJSON *field(const cJSON *o, const char *name) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
  if (v == NULL) AC__FAIL("no field \"%s\"", name);
  return v;
}

/* ------------------------------------------------------- page numbers */

TEST_IMPL(site_styles_pages_walk) {
  struct site_proc p;
  struct got g = {0};
  CURL *h = new_handle();
  struct walk w = {0};
  char pq[128];
  cJSON *j;

  site_start(&p, NULL);
  /* The first page equals /api/book/'s first page, record for record. */
  {
    cJSON *list = get_json(h, &p, "/api/book/?limit=18&offset=0", 200, &g);
    j = get_json(h, &p, "/api/books/pages", 200, &g);
    ASSERT(cJSON_Compare(field(list, "results"), field(j, "items"), 1));
    cJSON_Delete(list);
    cJSON_Delete(j);
  }
  for (int page = 1;; page++) {
    snprintf(pq, sizeof(pq), "/api/books/pages?page=%d&size=18", page);
    j = get_json(h, &p, pq, 200, &g);
    ASSERT_EQ(site_num(j, "total"), NBOOKS);
    ASSERT_EQ(site_num(j, "total_pages"), 503);
    ASSERT_EQ(site_num(j, "page"), page);
    if (take_items(&w, field(j, "items")) == 0) {
      ASSERT_EQ(page, 504);
      cJSON_Delete(j);
      break;
    }
    ASSERT_LE(page, 503);
    cJSON_Delete(j);
  }
  ASSERT_EQ(w.seen, NBOOKS);

  /* Open pages: no totals, the end is the first empty page. */
  w.seen = 0;
  for (int page = 1;; page++) {
    snprintf(pq, sizeof(pq), "/api/books/pages-open?size=100&page=%d", page);
    j = get_json(h, &p, pq, 200, &g);
    ASSERT_NULL(cJSON_GetObjectItemCaseSensitive(j, "total"));
    ASSERT_EQ(site_num(j, "page"), page);
    ASSERT_EQ(cJSON_GetArraySize(j), 2);
    if (take_items(&w, field(j, "items")) == 0) {
      ASSERT_EQ(page, 92);
      cJSON_Delete(j);
      break;
    }
    cJSON_Delete(j);
  }
  ASSERT_EQ(w.seen, NBOOKS);
  /* Far past the end: still 200 and no items. */
  j = get_json(h, &p, "/api/books/pages?page=999999999999999", 200, &g);
  ASSERT_EQ(cJSON_GetArraySize(field(j, "items")), 0);
  ASSERT_EQ(site_num(j, "total_pages"), 503);
  cJSON_Delete(j);
  free(g.body);
  curl_easy_cleanup(h);
  ASSERT_EQ(site_stop(&p, SIGTERM), 0);
}

/* Every route's bad parameters: 400 with a JSON error. */
TEST_IMPL(site_styles_bad_params) {
  static const char *const bad[] = {
      "/api/books/pages?page=0",        "/api/books/pages?size=0",
      "/api/books/pages?size=1001",     "/api/books/pages?page=x",
      "/api/books/pages?page=-1",       "/api/books/pages?page=",
      "/api/books/pages?page=1.5",      "/api/books/pages?page=1000000000000000",
      "/api/books/pages-open?page=0",   "/api/books/pages-open?size=abc",
      "/api/books/cursor?size=0",       "/api/books/cursor?cursor=",
      "/api/books/cursor?cursor=abc",   "/api/books/cursor?cursor=AAAAAAAAAAA%3D",
      "/api/books/cursor?cursor=AAAA",  "/api/books/next?after=x",
      "/api/books/next?size=0",         "/api/books/next?after=-18",
      "/api/books/linked?page=0",       "/api/books/linked?size=2000"};
  static const char *const bad_posts[] = {"",          "[1,2]",          "\"page\"",
                                          "{\"page\":0}", "{\"page\":\"2\"}", "{\"size\":0}",
                                          "{\"page\":1.0}", "{\"size\":1001}", "{\"page\":-1}",
                                          "{\"page\":1", "{\"page\":null}"};
  struct site_proc p;
  struct got g = {0};
  CURL *h = new_handle();
  char url[256];
  cJSON *j;

  site_start(&p, NULL);
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    j = get_json(h, &p, bad[i], 400, &g);
    ASSERT(cJSON_IsString(field(j, "error")));
    cJSON_Delete(j);
  }
  j = get_json(h, &p, "/api/books/cursor?cursor=AAAA", 400, &g);
  ASSERT_STR_EQ(g.body, "{\"error\":\"bad cursor\"}");
  cJSON_Delete(j);
  snprintf(url, sizeof(url), "%s/api/books/search", p.url);
  for (size_t i = 0; i < sizeof(bad_posts) / sizeof(bad_posts[0]); i++) {
    fetch(h, url, bad_posts[i], "application/json", &g);
    if (g.status != 400) AC__FAIL("POST %s: %ld", bad_posts[i], g.status);
    j = cJSON_ParseWithLength(g.body, g.len);
    ASSERT_NOT_NULL(j);
    ASSERT(cJSON_IsString(field(j, "error")));
    cJSON_Delete(j);
  }
  /* A GET of the POST route is refused by the router. */
  fetch(h, url, NULL, NULL, &g);
  ASSERT_EQ(g.status, 405);
  free(g.body);
  curl_easy_cleanup(h);
  ASSERT_EQ(site_stop(&p, SIGTERM), 0);
}

/* ------------------------------------------------------------- cursor */

/* Walk /api/books/cursor?size=size from the start; the cursors go into
 * cursors[] (up to max; the count in *ncursors). Returns the books seen. */
static size_t cursor_walk(CURL *h, const struct site_proc *p, int size, char (*cursors)[64],
                          size_t max, size_t *ncursors, int *empty_last) {
  struct got g = {0};
  struct walk w = {0};
  char pq[256], cur[64] = "";
  size_t nc = 0;
  for (;;) {
    cJSON *j;
    const cJSON *next;
    int got;
    if (cur[0] == '\0') {
      snprintf(pq, sizeof(pq), "/api/books/cursor?size=%d", size);
    } else {
      char *esc = curl_easy_escape(h, cur, 0);
      ASSERT_NOT_NULL(esc);
      snprintf(pq, sizeof(pq), "/api/books/cursor?cursor=%s&size=%d", esc, size);
      curl_free(esc);
    }
    j = get_json(h, p, pq, 200, &g);
    got = take_items(&w, field(j, "items"));
    next = field(j, "next_cursor");
    if (cJSON_IsNull(next)) {
      *empty_last = got == 0;
      cJSON_Delete(j);
      break;
    }
    ASSERT(cJSON_IsString(next));
    ASSERT_EQ(got, size); /* only full pages point further */
    ASSERT_LT(strlen(next->valuestring), sizeof(cur));
    snprintf(cur, sizeof(cur), "%s", next->valuestring);
    if (nc < max) snprintf(cursors[nc], sizeof(cursors[nc]), "%s", cur);
    nc++;
    ASSERT_LT(nc, (size_t)NBOOKS + 2);
    cJSON_Delete(j);
  }
  free(g.body);
  *ncursors = nc;
  return w.seen;
}

TEST_IMPL(site_styles_cursor_walk) {
  struct site_proc p;
  struct got g = {0};
  CURL *h = new_handle();
  static char cursors[600][64];
  size_t nc;
  int plus = 0, slash = 0, eq = 0, empty_last;
  char url[256];

  site_start(&p, NULL);
  ASSERT_EQ(cursor_walk(h, &p, 18, cursors, 600, &nc, &empty_last), NBOOKS);
  ASSERT_EQ(nc, 502); /* 503 pages, the last one (4 books) without a cursor */
  ASSERT_EQ(empty_last, 0);
  for (size_t i = 0; i < nc; i++) {
    plus += strchr(cursors[i], '+') != NULL;
    slash += strchr(cursors[i], '/') != NULL;
    eq += strchr(cursors[i], '=') != NULL;
    for (size_t k = 0; k < i; k++) ASSERT(strcmp(cursors[i], cursors[k]) != 0);
  }
  ASSERT_GT(plus, 0);
  ASSERT_GT(slash, 0);
  ASSERT_GT(eq, 0);
  /* A raw '+' in the query is a space once form-decoded: 400. The same
   * cursor percent-encoded works (the walk above). */
  for (size_t i = 0; i < nc; i++) {
    if (strchr(cursors[i], '+') == NULL || strchr(cursors[i], '/') != NULL) continue;
    snprintf(url, sizeof(url), "%s/api/books/cursor?size=18&cursor=%.63s", p.url, cursors[i]);
    fetch(h, url, NULL, NULL, &g);
    ASSERT_EQ(g.status, 400);
    ASSERT_STR_EQ(g.body, "{\"error\":\"bad cursor\"}");
    break;
  }
  /* A cursor with one character changed is unknown. */
  {
    char bent[64];
    char *esc;
    snprintf(bent, sizeof(bent), "%s", cursors[10]);
    bent[3] = bent[3] == 'A' ? 'B' : 'A';
    esc = curl_easy_escape(h, bent, 0);
    snprintf(url, sizeof(url), "%s/api/books/cursor?cursor=%s", p.url, esc);
    curl_free(esc);
    fetch(h, url, NULL, NULL, &g);
    ASSERT_EQ(g.status, 400);
  }
  /* 9,040 is a multiple of 20: the last full page still has a cursor, and
   * its page is empty with next_cursor null. */
  ASSERT_EQ(cursor_walk(h, &p, 20, cursors, 600, &nc, &empty_last), NBOOKS);
  ASSERT_EQ(nc, 452);
  ASSERT_EQ(empty_last, 1);
  free(g.body);
  curl_easy_cleanup(h);
  ASSERT_EQ(site_stop(&p, SIGTERM), 0);
}

TEST_IMPL(site_styles_cursor_loop) {
  struct site_proc p;
  struct got g = {0};
  CURL *h = new_handle();
  char seen[8][64], pq[256];
  int n = 0;

  site_start(&p, "--cursor-loop 3 --books 200");
  /* Pages 0, 1, 2, 3: page 3 points back to page 2, with the same cursor
   * page 1 gave. */
  for (n = 0; n < 5; n++) {
    cJSON *j;
    if (n == 0) {
      snprintf(pq, sizeof(pq), "/api/books/cursor?size=10");
    } else {
      char *esc = curl_easy_escape(h, seen[n - 1], 0);
      snprintf(pq, sizeof(pq), "/api/books/cursor?size=10&cursor=%s", esc);
      curl_free(esc);
    }
    j = get_json(h, &p, pq, 200, &g);
    ASSERT(cJSON_IsString(field(j, "next_cursor")));
    snprintf(seen[n], sizeof(seen[n]), "%s", field(j, "next_cursor")->valuestring);
    cJSON_Delete(j);
  }
  /* seen[k] is what page k gave: 1, 2, 3, 2, 3, ... */
  ASSERT(strcmp(seen[0], seen[1]) != 0 && strcmp(seen[1], seen[2]) != 0);
  ASSERT_STR_EQ(seen[3], seen[1]);
  ASSERT_STR_EQ(seen[4], seen[2]);
  free(g.body);
  curl_easy_cleanup(h);
  ASSERT_EQ(site_stop(&p, SIGTERM), 0);
}

/* --------------------------------------------------------------- next */

TEST_IMPL(site_styles_next_walk) {
  static const char *const forms[4] = {"next?after=", "./next?after=",
                                       "/api/books/next?after=", "?after="};
  struct site_proc p;
  struct got g = {0};
  CURL *h = new_handle();
  CURLU *u = curl_url();
  struct walk w = {0};
  char url[512];
  int pages = 0, form_seen[4] = {0};

  ASSERT_NOT_NULL(u);
  site_start(&p, NULL);
  snprintf(url, sizeof(url), "%s/api/books/next?size=18", p.url);
  for (;;) {
    cJSON *j;
    const cJSON *next;
    char *abs;
    fetch(h, url, NULL, NULL, &g);
    ASSERT_EQ(g.status, 200);
    j = cJSON_ParseWithLength(g.body, g.len);
    ASSERT_NOT_NULL(j);
    take_items(&w, field(j, "items"));
    next = field(j, "next");
    if (cJSON_IsNull(next)) {
      cJSON_Delete(j);
      break;
    }
    ASSERT(cJSON_IsString(next));
    /* Relative, of the form the page index picks. */
    {
      const char *want = forms[pages % 4];
      char tail[64];
      if (strncmp(next->valuestring, want, strlen(want)) != 0)
        AC__FAIL("page %d: next %s, not of the form %s", pages, next->valuestring, want);
      snprintf(tail, sizeof(tail), "%d&size=18", (pages + 1) * 18);
      ASSERT_STR_EQ(next->valuestring + strlen(want), tail);
      form_seen[pages % 4]++;
    }
    /* Resolved against the request's URL (RFC 3986 section 5, libcurl's). */
    ASSERT_EQ(curl_url_set(u, CURLUPART_URL, url, 0), CURLUE_OK);
    ASSERT_EQ(curl_url_set(u, CURLUPART_URL, next->valuestring, 0), CURLUE_OK);
    ASSERT_EQ(curl_url_get(u, CURLUPART_URL, &abs, 0), CURLUE_OK);
    ASSERT_LT(strlen(abs), sizeof(url));
    snprintf(url, sizeof(url), "%s", abs);
    curl_free(abs);
    {
      char want[256];
      snprintf(want, sizeof(want), "%s/api/books/next?after=%d&size=18", p.url,
               (pages + 1) * 18);
      ASSERT_STR_EQ(url, want);
    }
    pages++;
    cJSON_Delete(j);
  }
  ASSERT_EQ(w.seen, NBOOKS);
  ASSERT_EQ(pages + 1, 503);
  for (int k = 0; k < 4; k++) ASSERT_GT(form_seen[k], 100);
  curl_url_cleanup(u);
  free(g.body);
  curl_easy_cleanup(h);
  ASSERT_EQ(site_stop(&p, SIGTERM), 0);
}

/* ------------------------------------------------------------- linked */

struct link {
  char url[512];
  char rel[64];
  int quoted;
};

/* Parse a Link header (RFC 8288: link-values separated by ',', each
 * "<URI>" then ";"-parameters, values a token or a quoted-string) into
 * out[0..max); returns how many. Fails the test on a malformed header. */
static int parse_links(const char *v, struct link *out, int max) {
  int n = 0;
  while (*v) {
    struct link *l;
    const char *end;
    while (*v == ' ' || *v == ',') v++;
    if (*v == '\0') break;
    ASSERT_LT(n, max);
    l = &out[n++];
    memset(l, 0, sizeof(*l));
    ASSERT(*v == '<');
    end = strchr(v, '>');
    ASSERT_NOT_NULL(end);
    ASSERT_LT((size_t)(end - v - 1), sizeof(l->url));
    memcpy(l->url, v + 1, (size_t)(end - v - 1));
    v = end + 1;
    while (*v == ' ' || *v == ';') {
      const char *name;
      size_t nlen, vlen = 0;
      char val[64];
      int quoted = 0;
      while (*v == ' ' || *v == ';') v++;
      name = v;
      while (*v && *v != '=' && *v != ';' && *v != ',') v++;
      nlen = (size_t)(v - name);
      if (*v == '=') {
        v++;
        if (*v == '"') {
          quoted = 1;
          for (v++; *v && *v != '"'; v++)
            if (vlen + 1 < sizeof(val)) val[vlen++] = *v;
          ASSERT(*v == '"');
          v++;
        } else {
          for (; *v && *v != ';' && *v != ',' && *v != ' '; v++)
            if (vlen + 1 < sizeof(val)) val[vlen++] = *v;
        }
      }
      val[vlen] = '\0';
      if (nlen == 3 && strncmp(name, "rel", 3) == 0) {
        snprintf(l->rel, sizeof(l->rel), "%s", val);
        l->quoted = quoted;
      }
    }
  }
  return n;
}

TEST_IMPL(site_styles_linked_walk) {
  struct site_proc p;
  struct got g = {0};
  CURL *h = new_handle();
  CURLU *u = curl_url();
  struct walk w = {0};
  char url[512];
  int page = 1, next_first = 0, next_not_first = 0, absolute = 0, relative = 0, bare = 0;

  ASSERT_NOT_NULL(u);
  site_start(&p, NULL);
  snprintf(url, sizeof(url), "%s/api/books/linked?size=18", p.url);
  for (;; page++) {
    struct link links[8];
    int nl, has_first = 0, has_last = 0, has_prev = 0;
    const struct link *next = NULL;
    cJSON *j;
    fetch(h, url, NULL, NULL, &g);
    ASSERT_EQ(g.status, 200);
    j = cJSON_ParseWithLength(g.body, g.len);
    ASSERT_NOT_NULL(j);
    ASSERT(cJSON_IsArray(j)); /* a bare array */
    take_items(&w, j);
    cJSON_Delete(j);
    nl = parse_links(g.link, links, 8);
    for (int k = 0; k < nl; k++) {
      if (strcmp(links[k].rel, "first") == 0) {
        has_first++;
        ASSERT(strstr(links[k].url, "page=1&") != NULL);
      } else if (strcmp(links[k].rel, "last") == 0) {
        has_last++;
        ASSERT_EQ(links[k].quoted, 0);
        ASSERT(strstr(links[k].url, "page=503&") != NULL);
      } else if (strcmp(links[k].rel, "prev") == 0) {
        has_prev++;
      } else if (strcmp(links[k].rel, "next") == 0) {
        ASSERT_NULL(next);
        next = &links[k];
        if (k == 0) next_first++;
        else next_not_first++;
        bare += !links[k].quoted;
      } else {
        AC__FAIL("page %d: rel \"%s\" in %s", page, links[k].rel, g.link);
      }
    }
    ASSERT_EQ(has_first, 1);
    ASSERT_EQ(has_last, 1);
    ASSERT_EQ(has_prev, page > 1);
    ASSERT_EQ(nl, 2 + (page > 1) + (next != NULL));
    if (next == NULL) break;
    /* The comma inside the next URL survived the parse. */
    ASSERT(strstr(next->url, "&fields=id,name") != NULL);
    if (strncmp(next->url, "http://", 7) == 0) absolute++;
    else relative++;
    ASSERT_EQ(curl_url_set(u, CURLUPART_URL, url, 0), CURLUE_OK);
    ASSERT_EQ(curl_url_set(u, CURLUPART_URL, next->url, 0), CURLUE_OK);
    {
      char *abs;
      ASSERT_EQ(curl_url_get(u, CURLUPART_URL, &abs, 0), CURLUE_OK);
      ASSERT_LT(strlen(abs), sizeof(url));
      snprintf(url, sizeof(url), "%s", abs);
      curl_free(abs);
    }
    ASSERT_LT(page, 600);
  }
  ASSERT_EQ(page, 503);
  ASSERT_EQ(w.seen, NBOOKS);
  ASSERT_GT(next_first, 0);
  ASSERT_GT(next_not_first, 0);
  ASSERT_GT(absolute, 0);
  ASSERT_GT(relative, 0);
  ASSERT_GT(bare, 0);
  curl_url_cleanup(u);
  free(g.body);
  curl_easy_cleanup(h);
  ASSERT_EQ(site_stop(&p, SIGTERM), 0);
}

/* ------------------------------------------------------------- search */

TEST_IMPL(site_styles_search_walk) {
  struct site_proc p;
  struct got g = {0};
  CURL *h = new_handle();
  struct walk w = {0};
  char url[256], body[128];
  cJSON *j;

  site_start(&p, NULL);
  snprintf(url, sizeof(url), "%s/api/books/search", p.url);
  for (int page = 1;; page++) {
    /* Other keys are ignored; the label may carry a charset. */
    snprintf(body, sizeof(body), "{\"q\":\"x\",\"page\":%d,\"size\":40,\"sort\":[1]}", page);
    fetch(h, url, body, page % 2 ? "application/json" : "application/json; charset=utf-8", &g);
    ASSERT_EQ(g.status, 200);
    j = cJSON_ParseWithLength(g.body, g.len);
    ASSERT_NOT_NULL(j);
    ASSERT_EQ(site_num(j, "total"), NBOOKS);
    if (take_items(&w, field(j, "items")) == 0) {
      ASSERT_EQ(page, 227);
      cJSON_Delete(j);
      break;
    }
    cJSON_Delete(j);
  }
  ASSERT_EQ(w.seen, NBOOKS);
  /* Defaults: page 1, the site's page size. */
  fetch(h, url, " {} ", "application/json", &g);
  ASSERT_EQ(g.status, 200);
  j = cJSON_ParseWithLength(g.body, g.len);
  ASSERT_EQ(cJSON_GetArraySize(field(j, "items")), 18);
  cJSON_Delete(j);
  free(g.body);
  curl_easy_cleanup(h);
  ASSERT_EQ(site_stop(&p, SIGTERM), 0);
}

/* ------------------------------------------------------ faults, stats */

/* With --phtml200 1, the first answer of every URL (every URL + body for
 * the POST) is an HTML page under a 200; the retry is the JSON. A 400 is
 * never damaged. */
TEST_IMPL(site_styles_faults) {
  static const char *const gets[] = {
      "/api/books/pages?page=2", "/api/books/pages-open?page=2", "/api/books/cursor?size=5",
      "/api/books/next?after=5&size=5", "/api/books/linked?page=2&size=5"};
  struct site_proc p;
  struct got g = {0};
  CURL *h = new_handle();
  char url[256];
  cJSON *j, *st;

  site_start(&p, "--books 100 --phtml200 1");
  for (size_t i = 0; i < sizeof(gets) / sizeof(gets[0]); i++) {
    snprintf(url, sizeof(url), "%s%s", p.url, gets[i]);
    fetch(h, url, NULL, NULL, &g);
    ASSERT_EQ(g.status, 200);
    ASSERT(g.body[0] == '<');
    ASSERT_STR_EQ(g.link, ""); /* no links on a proxy's page */
    fetch(h, url, NULL, NULL, &g);
    ASSERT_EQ(g.status, 200);
    j = cJSON_ParseWithLength(g.body, g.len);
    if (j == NULL) AC__FAIL("retry of %s: %.100s", gets[i], g.body);
    cJSON_Delete(j);
  }
  snprintf(url, sizeof(url), "%s/api/books/search", p.url);
  fetch(h, url, "{\"page\":2}", "application/json", &g);
  ASSERT(g.body[0] == '<');
  fetch(h, url, "{\"page\":2}", "application/json", &g);
  ASSERT(g.body[0] == '{');
  /* Another body, another resource: its own first answer. */
  fetch(h, url, "{\"page\":3}", "application/json", &g);
  ASSERT(g.body[0] == '<');
  /* Bad parameters: the 400 goes out whole. */
  fetch(h, url, "{\"page\":0}", "application/json", &g);
  ASSERT_EQ(g.status, 400);
  ASSERT(g.body[0] == '{');
  free(g.body);
  g.body = NULL;

  st = get_json(h, &p, "/__stats", 200, &g);
  {
    const cJSON *rq = field(st, "requests");
    ASSERT_EQ(site_num(rq, "pages"), 2);
    ASSERT_EQ(site_num(rq, "pages_open"), 2);
    ASSERT_EQ(site_num(rq, "cursor"), 2);
    ASSERT_EQ(site_num(rq, "next"), 2);
    ASSERT_EQ(site_num(rq, "linked"), 2);
    ASSERT_EQ(site_num(rq, "search"), 4);
    ASSERT_EQ(site_num(rq, "list"), 0);
    ASSERT_EQ(site_num(field(st, "faults"), "html200"), 7);
  }
  cJSON_Delete(st);
  free(g.body);
  curl_easy_cleanup(h);
  ASSERT_EQ(site_stop(&p, SIGTERM), 0);
}

/* Shapes apply as on /api/book/: a PHP-escaped, pretty next link is the
 * same value, and a 5xx first answer is retried into the same page. */
TEST_IMPL(site_styles_shapes) {
  struct site_proc p;
  struct got g = {0};
  CURL *h = new_handle();
  char url[256];
  cJSON *j;

  site_start(&p, "--books 100 --json-style pretty --json-escape php --fail-first 1");
  snprintf(url, sizeof(url), "%s/api/books/next?size=10", p.url);
  fetch(h, url, NULL, NULL, &g);
  ASSERT_GE(g.status, 500);
  j = get_json(h, &p, "/api/books/next?size=10", 200, &g);
  ASSERT(strstr(g.body, "\n  \"next\": \"next?after=10&size=10\"\n}") != NULL);
  ASSERT_EQ(cJSON_GetArraySize(field(j, "items")), 10);
  cJSON_Delete(j);
  snprintf(url, sizeof(url), "%s/api/books/next?after=10&size=10", p.url);
  fetch(h, url, NULL, NULL, &g);
  ASSERT_GE(g.status, 500);
  j = get_json(h, &p, "/api/books/next?after=10&size=10", 200, &g);
  ASSERT(strstr(g.body, "\"next\": \".\\/next?after=20&size=10\"") != NULL);
  ASSERT_STR_EQ(field(j, "next")->valuestring, "./next?after=20&size=10");
  cJSON_Delete(j);
  free(g.body);
  curl_easy_cleanup(h);
  ASSERT_EQ(site_stop(&p, SIGTERM), 0);
}
