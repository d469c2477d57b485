/*
 * One request of a spec's resource, from its templates and the values of
 * its fields: the URL (path resolved against the base, query), the body
 * (JSON or a form) and the resource's headers.
 *
 * Field values are JSON text taken from the parent's record ("\"a/b\"",
 * "42"). They are data: wherever they land in a path or a query they are
 * percent-encoded whole (a '/' of an id must not make a path segment, a
 * base64 cursor's '+' must not become a space), in a header they are text
 * (CR and LF refused), and in the JSON body a string that is exactly one
 * placeholder takes the value as the record had it (a number stays one).
 * The spec's own text is taken as written, but for params, whose names and
 * values are encoded whole as a form would.
 */
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "common/alloc.h"
#include "common/dynbuf.h"
#include "common/json_scan.h"
#include "crawl/spec_internal.h"

/* A URL, a body: a request is not a document. */
#define REQ_MAX (1u << 20)

typedef enum { ESC_RAW, ESC_PATH, ESC_QUERY, ESC_HEADER, ESC_JSON } esc_t;

static int unreserved(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         c == '-' || c == '_' || c == '.' || c == '~';
}

static void add_pct(struct ac__dynbuf *b, const char *s, size_t n, int dots) {
  static const char hex[] = "0123456789ABCDEF";
  /* "." and ".." as a whole segment would climb the path, not name it. */
  int dot_seg = dots && ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'));
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (unreserved(c) && !(dot_seg && c == '.')) {
      ac__dynbuf_addc(b, (char)c);
    } else {
      char e[3] = {'%', hex[c >> 4], hex[c & 15]};
      ac__dynbuf_add(b, e, 3);
    }
  }
}

static void add_json_string_body(struct ac__dynbuf *b, const char *s, size_t n) {
  static const char hex[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\') {
      ac__dynbuf_addc(b, '\\');
      ac__dynbuf_addc(b, (char)c);
    } else if (c < 0x20) {
      char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
      ac__dynbuf_add(b, e, 6);
    } else {
      ac__dynbuf_addc(b, (char)c);
    }
  }
}

/* The text of a field's JSON value: a string's content, a number's or a
 * literal's own text. AC_EINVAL for an object, an array or a string
 * holding \u0000 (checked when the value was taken). */
static int value_text(const char *raw, char **out, size_t *len) {
  ac__json_span_t sp;
  size_t n = strlen(raw);
  int rc;
  sp.start = raw;
  sp.len = n;
  sp.type = raw[0] == '"' ? AC__JSON_STRING : raw[0] == 't' ? AC__JSON_TRUE
          : raw[0] == 'f' ? AC__JSON_FALSE : raw[0] == 'n' ? AC__JSON_NULL : AC__JSON_NUMBER;
  if ((*out = ac__malloc(n + 1)) == NULL) return AC_ENOMEM;
  /* Unescaping never lengthens: n + 1 bytes always hold the text. */
  rc = ac__json_span_text(&sp, *out, n + 1);
  if (rc < 0) {
    ac__free(*out);
    *out = NULL;
    return rc;
  }
  *len = (size_t)rc;
  return 0;
}

/* Appends tmpl with each placeholder replaced by its field's value,
 * escaped as `esc` says; the literal text as written (ESC_JSON: escaped as
 * a JSON string's content). */
static int expand(struct ac__dynbuf *b, const ac__spec_res_t *r, const char *tmpl,
                  const char *const *vals, esc_t esc, char *why, size_t whycap) {
  size_t pos = 0, last = 0, at, nlen;
  const char *name;
  while (ac__spec_next_placeholder(tmpl, &pos, &at, &name, &nlen)) {
    int f = ac__spec_field_index(r, name, nlen);
    char *text;
    size_t tlen;
    int rc;
    if (esc == ESC_JSON) add_json_string_body(b, tmpl + last, at - last);
    else ac__dynbuf_add(b, tmpl + last, at - last);
    last = pos;
    if (f < 0) continue; /* checked at load: never */
    if ((rc = value_text(vals[f], &text, &tlen)) != 0) {
      if (rc != AC_ENOMEM)
        snprintf(why, whycap, "{%.*s} holds a value that cannot be text", (int)nlen, name);
      return rc;
    }
    switch (esc) {
    case ESC_PATH: add_pct(b, text, tlen, 1); break;
    case ESC_QUERY: add_pct(b, text, tlen, 0); break;
    case ESC_JSON: add_json_string_body(b, text, tlen); break;
    case ESC_RAW: ac__dynbuf_add(b, text, tlen); break;
    case ESC_HEADER:
      if (memchr(text, '\r', tlen) != NULL || memchr(text, '\n', tlen) != NULL) {
        snprintf(why, whycap, "{%.*s} would put a line break in a header", (int)nlen, name);
        ac__free(text);
        return AC_EINVAL;
      }
      ac__dynbuf_add(b, text, tlen);
      break;
    }
    ac__free(text);
  }
  if (esc == ESC_JSON) add_json_string_body(b, tmpl + last, strlen(tmpl + last));
  else ac__dynbuf_adds(b, tmpl + last);
  return ac__dynbuf_err(b);
}

/* A query pair, both halves encoded whole; the value expanded first. */
static int add_query_pair(struct ac__dynbuf *q, const ac__spec_res_t *r, const char *name,
                          const char *tmpl, const char *const *vals, char *why, size_t whycap) {
  struct ac__dynbuf v;
  int rc;
  ac__dynbuf_init(&v, REQ_MAX);
  if (ac__dynbuf_len(q) > 0) ac__dynbuf_addc(q, '&');
  add_pct(q, name, strlen(name), 0);
  ac__dynbuf_addc(q, '=');
  /* Expanded raw, then encoded whole: a value's placeholder text and the
   * spec's own text are both data in a query. */
  if ((rc = expand(&v, r, tmpl, vals, ESC_RAW, why, whycap)) == 0 && ac__dynbuf_len(&v) > 0)
    add_pct(q, ac__dynbuf_ptr(&v), ac__dynbuf_len(&v), 0);
  ac__dynbuf_free(&v);
  return rc != 0 ? rc : ac__dynbuf_err(q);
}

/* Writes the JSON template v with its strings expanded. */
static int write_json(struct ac__dynbuf *b, const ac__spec_res_t *r, const cJSON *v,
                      const char *const *vals, char *why, size_t whycap) {
  int rc = 0;
  if (cJSON_IsString(v)) {
    size_t pos = 0, at, nlen;
    const char *name;
    /* Exactly one placeholder: the field's value as the record had it. */
    if (ac__spec_next_placeholder(v->valuestring, &pos, &at, &name, &nlen) && at == 0 &&
        v->valuestring[pos] == '\0') {
      int f = ac__spec_field_index(r, name, nlen);
      if (f >= 0) return ac__dynbuf_adds(b, vals[f]);
    }
    ac__dynbuf_addc(b, '"');
    if ((rc = expand(b, r, v->valuestring, vals, ESC_JSON, why, whycap)) != 0) return rc;
    return ac__dynbuf_addc(b, '"');
  }
  if (cJSON_IsObject(v) || cJSON_IsArray(v)) {
    int obj = cJSON_IsObject(v);
    ac__dynbuf_addc(b, obj ? '{' : '[');
    for (const cJSON *m = v->child; m != NULL && rc == 0; m = m->next) {
      if (m != v->child) ac__dynbuf_addc(b, ',');
      if (obj) {
        ac__dynbuf_addc(b, '"');
        add_json_string_body(b, m->string, strlen(m->string));
        ac__dynbuf_add(b, "\":", 2);
      }
      rc = write_json(b, r, m, vals, why, whycap);
    }
    if (rc != 0) return rc;
    return ac__dynbuf_addc(b, obj ? '}' : ']');
  } else {
    char *text = cJSON_PrintUnformatted(v);
    if (text == NULL) return AC_ENOMEM;
    ac__dynbuf_adds(b, text);
    cJSON_free(text);
    return ac__dynbuf_err(b);
  }
}

static void add_page_value_json(struct ac__dynbuf *b, const ac__spec_pageval_t *pv) {
  for (size_t i = 0; i < pv->n; i++) {
    ac__dynbuf_addc(b, '"');
    add_json_string_body(b, pv->v[i].name, strlen(pv->v[i].name));
    ac__dynbuf_add(b, "\":", 2);
    if (pv->v[i].text != NULL) {
      ac__dynbuf_addc(b, '"');
      add_json_string_body(b, pv->v[i].text, strlen(pv->v[i].text));
      ac__dynbuf_addc(b, '"');
    } else {
      ac__dynbuf_addf(b, "%lld", (long long)pv->v[i].num);
    }
    if (i + 1 < pv->n) ac__dynbuf_addc(b, ',');
  }
}

static int build_body(const ac__spec_res_t *r, const char *const *vals,
                      const ac__spec_pageval_t *pv, ac__spec_built_t *out, char *why,
                      size_t whycap) {
  struct ac__dynbuf b;
  int rc = 0;
  int page_in_body = pv != NULL && pv->n > 0 && r->pager.in_json;
  ac__dynbuf_init(&b, REQ_MAX);
  if (r->nform > 0) {
    for (size_t i = 0; i < r->nform && rc == 0; i++)
      rc = add_query_pair(&b, r, r->form[i].name, r->form[i].tmpl, vals, why, whycap);
    out->content_type = "application/x-www-form-urlencoded";
  } else if (page_in_body) {
    /* The paginator's keys first, then the template's other members. */
    ac__dynbuf_addc(&b, '{');
    add_page_value_json(&b, pv);
    for (const cJSON *m = r->json != NULL ? r->json->child : NULL; m != NULL && rc == 0;
         m = m->next) {
      int ours = 0;
      for (size_t i = 0; i < pv->n; i++) ours |= strcmp(pv->v[i].name, m->string) == 0;
      if (ours) continue;
      ac__dynbuf_add(&b, ",\"", 2);
      add_json_string_body(&b, m->string, strlen(m->string));
      ac__dynbuf_add(&b, "\":", 2);
      rc = write_json(&b, r, m, vals, why, whycap);
    }
    if (rc == 0) rc = ac__dynbuf_addc(&b, '}');
    out->content_type = "application/json";
  } else if (r->json != NULL) {
    rc = write_json(&b, r, r->json, vals, why, whycap);
    out->content_type = "application/json";
  } else {
    return 0;
  }
  if (rc == 0) rc = ac__dynbuf_err(&b);
  if (rc == 0 && (out->body = ac__dynbuf_take(&b, NULL)) == NULL) rc = AC_ENOMEM;
  if (rc == AC_ETOOLARGE) snprintf(why, whycap, "the request body would pass %u bytes", REQ_MAX);
  ac__dynbuf_free(&b);
  return rc;
}

static int build_headers(const ac__spec_res_t *r, const char *const *vals,
                         ac__spec_built_t *out, char *why, size_t whycap) {
  if (r->nheaders == 0) return 0;
  if ((out->headers = ac__calloc(r->nheaders, sizeof(*out->headers))) == NULL) return AC_ENOMEM;
  for (size_t i = 0; i < r->nheaders; i++) {
    struct ac__dynbuf b;
    int rc;
    ac__dynbuf_init(&b, REQ_MAX);
    ac__dynbuf_reserve(&b, 0);
    rc = expand(&b, r, r->headers[i].tmpl, vals, ESC_HEADER, why, whycap);
    if (rc != 0) {
      ac__dynbuf_free(&b);
      return rc;
    }
    out->headers[i].key = r->headers[i].name;
    out->headers[i].value = ac__dynbuf_take(&b, NULL);
    out->nheaders++;
    if (out->headers[i].value == NULL) return AC_ENOMEM;
  }
  return 0;
}

int ac__spec_base_init(ac__spec_base_t *b, const char *url) {
  CURLU *u = curl_url();
  char *full = NULL, *path = NULL;
  const char *host_end;
  int rc = AC_ENOMEM;
  memset(b, 0, sizeof(*b));
  if (u == NULL) return AC_ENOMEM;
  if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
      curl_url_get(u, CURLUPART_URL, &full, 0) != CURLUE_OK ||
      curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK || strstr(full, "://") == NULL) {
    rc = AC_EINVAL;
    goto out;
  }
  host_end = strchr(strstr(full, "://") + 3, '/');
  b->url = ac__strdup(full);
  if (host_end != NULL) b->origin = ac__malloc((size_t)(host_end - full) + 1);
  b->dir = ac__malloc(strlen(full) + strlen(path) + 1);
  if (b->url != NULL && host_end != NULL && b->origin != NULL && b->dir != NULL) {
    size_t on = (size_t)(host_end - full), dn = (size_t)(strrchr(path, '/') - path) + 1;
    memcpy(b->origin, full, on);
    b->origin[on] = '\0';
    memcpy(b->dir, full, on);
    memcpy(b->dir + on, path, dn);
    b->dir[on + dn] = '\0';
    rc = 0;
  } else if (host_end == NULL) {
    rc = AC_EINVAL;
  }
out:
  curl_free(full);
  curl_free(path);
  curl_url_cleanup(u);
  if (rc != 0) ac__spec_base_free(b);
  return rc;
}

void ac__spec_base_free(ac__spec_base_t *b) {
  ac__free(b->url);
  ac__free(b->origin);
  ac__free(b->dir);
  memset(b, 0, sizeof(*b));
}

/* Whether the reference p resolves against a base by joining alone: a
 * path with no scheme, no authority, no dot segment, not empty and not
 * just a query or fragment (RFC 3986 section 5.2: for such a reference,
 * the merge and remove_dot_segments change nothing more). */
static int joins_plainly(const char *p) {
  const char *seg = p;
  if (*p == '\0' || *p == '?' || *p == '#' || (p[0] == '/' && p[1] == '/')) return 0;
  for (const char *q = p; *q != '\0' && *q != '?' && *q != '#'; q++) {
    if (*q == ':' && seg == p) return 0; /* a scheme, or a first segment curl must judge */
    if (*q == '/') seg = q + 1;
  }
  for (seg = p;; seg++) {
    size_t n = strcspn(seg, "/?#");
    if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.')) return 0;
    seg += n;
    if (*seg != '/') return 1;
  }
}

/* base + the expanded path (RFC 3986 section 5; an absolute URL is taken
 * as it is), then the query. */
static int build_url(const ac__spec_base_t *base, const ac__spec_res_t *r, const char *const *vals,
                     const ac__spec_pageval_t *pv, ac__spec_built_t *out, char *why,
                     size_t whycap) {
  struct ac__dynbuf path, q;
  CURLU *u = NULL;
  char *full = NULL, *joined = NULL;
  int rc;
  ac__dynbuf_init(&path, REQ_MAX);
  ac__dynbuf_init(&q, REQ_MAX);
  rc = expand(&path, r, r->path, vals, ESC_PATH, why, whycap);
  for (size_t i = 0; rc == 0 && i < r->nparams; i++)
    rc = add_query_pair(&q, r, r->params[i].name, r->params[i].tmpl, vals, why, whycap);
  for (size_t i = 0; rc == 0 && pv != NULL && !r->pager.in_json && i < pv->n; i++) {
    char num[32];
    const char *v = pv->v[i].text;
    if (v == NULL) {
      snprintf(num, sizeof(num), "%lld", (long long)pv->v[i].num);
      v = num;
    }
    if (ac__dynbuf_len(&q) > 0) ac__dynbuf_addc(&q, '&');
    add_pct(&q, pv->v[i].name, strlen(pv->v[i].name), 0);
    ac__dynbuf_addc(&q, '=');
    add_pct(&q, v, strlen(v), 0);
    rc = ac__dynbuf_err(&q);
  }
  if (rc == 0 && joins_plainly(ac__dynbuf_ptr(&path))) {
    /* The common case without libcurl's parser: it would only join. */
    struct ac__dynbuf j;
    ac__dynbuf_init(&j, REQ_MAX);
    ac__dynbuf_adds(&j, ac__dynbuf_ptr(&path)[0] == '/' ? base->origin : base->dir);
    ac__dynbuf_adds(&j, ac__dynbuf_ptr(&path));
    if ((rc = ac__dynbuf_err(&j)) == 0 && (joined = ac__dynbuf_take(&j, NULL)) == NULL)
      rc = AC_ENOMEM;
    ac__dynbuf_free(&j);
  } else if (rc == 0) {
    CURLUcode uc;
    if ((u = curl_url()) == NULL) rc = AC_ENOMEM;
    uc = u == NULL ? CURLUE_OUT_OF_MEMORY : curl_url_set(u, CURLUPART_URL, base->url, 0);
    /* Without a flag that would encode it again: the path is encoded already. */
    if (uc == CURLUE_OK) uc = curl_url_set(u, CURLUPART_URL, ac__dynbuf_ptr(&path), 0);
    if (uc == CURLUE_OK) uc = curl_url_get(u, CURLUPART_URL, &full, 0);
    if (rc == 0 && uc != CURLUE_OK) {
      rc = uc == CURLUE_OUT_OF_MEMORY ? AC_ENOMEM : AC_EINVAL;
      if (rc == AC_EINVAL)
        snprintf(why, whycap, "the path makes no URL (%s)", curl_url_strerror(uc));
    }
  }
  if (rc == 0) {
    struct ac__dynbuf url;
    ac__dynbuf_init(&url, REQ_MAX);
    ac__dynbuf_adds(&url, joined != NULL ? joined : full);
    if (ac__dynbuf_len(&q) > 0) {
      /* A fragment ends the URL: the query goes before it. */
      char *hash = strchr(ac__dynbuf_ptr(&url), '#');
      if (hash != NULL) ac__dynbuf_setlen(&url, (size_t)(hash - ac__dynbuf_ptr(&url)));
      ac__dynbuf_addc(&url, strchr(ac__dynbuf_ptr(&url), '?') != NULL ? '&' : '?');
      ac__dynbuf_add(&url, ac__dynbuf_ptr(&q), ac__dynbuf_len(&q));
    }
    if ((rc = ac__dynbuf_err(&url)) == 0) out->url = ac__dynbuf_take(&url, NULL);
    else if (rc == AC_ETOOLARGE) snprintf(why, whycap, "the URL would pass %u bytes", REQ_MAX);
    ac__dynbuf_free(&url);
  } else if (rc == AC_ETOOLARGE) {
    snprintf(why, whycap, "the URL would pass %u bytes", REQ_MAX);
  }
  curl_free(full);
  ac__free(joined);
  curl_url_cleanup(u);
  ac__dynbuf_free(&path);
  ac__dynbuf_free(&q);
  return rc;
}

int ac__spec_expand_text(const ac__spec_res_t *r, const char *tmpl, const char *const *vals,
                         char **out) {
  struct ac__dynbuf b;
  char why[200];
  int rc;
  ac__dynbuf_init(&b, REQ_MAX);
  ac__dynbuf_reserve(&b, 0);
  rc = expand(&b, r, tmpl, vals, ESC_RAW, why, sizeof(why));
  *out = rc == 0 ? ac__dynbuf_take(&b, NULL) : NULL;
  ac__dynbuf_free(&b);
  return rc == 0 && *out == NULL ? AC_ENOMEM : rc;
}

int ac__spec_build(const ac__spec_base_t *base, const ac__spec_res_t *r, const char *const *vals,
                   const ac__spec_pageval_t *pv, const char *url, ac__spec_built_t *out,
                   char *why, size_t whycap) {
  int rc;
  memset(out, 0, sizeof(*out));
  why[0] = '\0';
  if (url != NULL) rc = (out->url = ac__strdup(url)) != NULL ? 0 : AC_ENOMEM;
  else rc = build_url(base, r, vals, pv, out, why, whycap);
  if (rc == 0) rc = build_body(r, vals, pv, out, why, whycap);
  if (rc == 0) rc = build_headers(r, vals, out, why, whycap);
  if (rc != 0) ac__spec_built_free(out);
  return rc;
}

void ac__spec_built_free(ac__spec_built_t *b) {
  for (size_t i = 0; i < b->nheaders; i++) ac__free((char *)b->headers[i].value);
  ac__free(b->headers);
  ac__free(b->url);
  ac__free(b->body);
  memset(b, 0, sizeof(*b));
}
