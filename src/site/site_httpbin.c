/*
 * httpbin-style endpoints, for the HTTP client's examples and tests: the
 * tutorial's examples call httpbin.org, which these machines cannot reach.
 *
 *   /get /post /put /delete /patch /anything[/...]   echo the request
 *   /headers  /status/{code}  /delay/{seconds}  /redirect/{n}  /gzip
 *   /bytes/{n}
 *
 * The echo is httpbin's shape: {"args","data","files","form","headers",
 * "json","method","origin","url"} (/get leaves out the body fields, as
 * httpbin does). Text is written with \uXXXX escapes, as Flask's jsonify
 * does, so any request bytes give valid JSON. Faults never apply here.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/alloc.h"
#include "common/json_scan.h"
#include "site/rng.h"
#include "site/site_internal.h"

/* An echo never grows past this (the request body is capped by the server
 * at 1 MiB by default; escaping can make it up to six times longer). */
#define ECHO_MAX (8u << 20)
/* Query and form fields taken into args/form; the rest are left out. */
#define MAX_FIELDS 256

/* Decode "a=1&b=x+y" into fields, in place into scratch (a copy of src with
 * room for its NUL). Returns the number of fields, or -1 on a bad escape. */
static int parse_fields(const char *src, size_t len, char *scratch, struct ac__site_field *f, int max) {
  int n = 0;
  size_t i = 0;
  memcpy(scratch, src, len);
  scratch[len] = '\0';
  while (i < len && n < max) {
    size_t end = i, eq;
    int kl, vl;
    while (end < len && scratch[end] != '&') end++;
    if (end == i) {
      i = end + 1;
      continue;
    }
    for (eq = i; eq < end && scratch[eq] != '='; eq++) {
    }
    kl = ac_server_url_decode(scratch + i, eq - i, scratch + i, 1);
    if (kl < 0) return -1;
    f[n].k = scratch + i;
    f[n].klen = (size_t)kl;
    f[n].ct = NULL;
    f[n].ctlen = 0;
    if (eq < end) {
      vl = ac_server_url_decode(scratch + eq + 1, end - eq - 1, scratch + eq + 1, 1);
      if (vl < 0) return -1;
      f[n].v = scratch + eq + 1;
      f[n].vlen = (size_t)vl;
    } else {
      f[n].v = "";
      f[n].vlen = 0;
    }
    n++;
    i = end + 1;
  }
  return n;
}

/* 1 if s[0..n) is valid UTF-8 (what Python's bytes.decode("utf-8") takes:
 * no overlong forms, no surrogates, nothing past U+10FFFF). */
static int utf8_valid(const unsigned char *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    unsigned c = s[i], cp, min;
    size_t len;
    if (c < 0x80) {
      i++;
      continue;
    }
    if ((c & 0xE0) == 0xC0) len = 2, min = 0x80, cp = c & 0x1F;
    else if ((c & 0xF0) == 0xE0) len = 3, min = 0x800, cp = c & 0x0F;
    else if ((c & 0xF8) == 0xF0) len = 4, min = 0x10000, cp = c & 0x07;
    else return 0;
    if (len > n - i) return 0;
    for (size_t k = 1; k < len; k++) {
      if ((s[i + k] & 0xC0) != 0x80) return 0;
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    i += len;
  }
  return 1;
}

/* An uploaded file's contents as httpbin's json_safe gives them: the text
 * when it is UTF-8, else a data URI: "data:<type>;base64,<contents>", the
 * type being the part's Content-Type or application/octet-stream. */
static void file_json(struct ac__dynbuf *b, const struct ac__site_field *f) {
  const unsigned char *u = (const unsigned char *)f->v;
  if (utf8_valid(u, f->vlen)) {
    ac__json_str(b, f->v, f->vlen, AC__JSON_ASCII);
    return;
  }
  ac__dynbuf_adds(b, "\"data:");
  /* The type, escaped as the inside of the data URI's string. */
  if (f->ct != NULL) ac__json_escape(b, f->ct, f->ctlen, AC__JSON_ASCII);
  else ac__dynbuf_adds(b, "application/octet-stream");
  ac__dynbuf_adds(b, ";base64,");
  ac__site_base64(b, f->v, f->vlen);
  ac__dynbuf_addc(b, '"');
}

/* Fields as a JSON object; a repeated key becomes an array of its values,
 * in order, as httpbin (werkzeug's MultiDict) does. files: the values are
 * uploaded files (file_json). */
static void fields_json_as(struct ac__dynbuf *b, const struct ac__site_field *f, int n, int files) {
  int first = 1;
  ac__dynbuf_addc(b, '{');
  for (int i = 0; i < n; i++) {
    int seen = 0, count = 0;
    for (int j = 0; j < i && !seen; j++)
      seen = f[j].klen == f[i].klen && memcmp(f[j].k, f[i].k, f[i].klen) == 0;
    if (seen) continue;
    for (int j = i; j < n; j++)
      count += f[j].klen == f[i].klen && memcmp(f[j].k, f[i].k, f[i].klen) == 0;
    if (!first) ac__dynbuf_addc(b, ',');
    first = 0;
    ac__json_str(b, f[i].k, f[i].klen, AC__JSON_ASCII);
    ac__dynbuf_addc(b, ':');
    if (count > 1) ac__dynbuf_addc(b, '[');
    for (int j = i, w = 0; j < n; j++) {
      if (f[j].klen != f[i].klen || memcmp(f[j].k, f[i].k, f[i].klen) != 0) continue;
      if (w++ > 0) ac__dynbuf_addc(b, ',');
      if (files)
        file_json(b, &f[j]);
      else
        ac__json_str(b, f[j].v, f[j].vlen, AC__JSON_ASCII);
    }
    if (count > 1) ac__dynbuf_addc(b, ']');
  }
  ac__dynbuf_addc(b, '}');
}

static void fields_json(struct ac__dynbuf *b, const struct ac__site_field *f, int n) {
  fields_json_as(b, f, n, 0);
}

/* Parse src as fields and write them; a bad escape gives {}. */
static int write_fields(struct ac__dynbuf *b, const char *src, size_t len) {
  struct ac__site_field *f;
  char *scratch;
  int n;

  f = ac__malloc(MAX_FIELDS * sizeof(*f));
  scratch = ac__malloc(len + 1);
  if (f == NULL || scratch == NULL) {
    ac__free(f);
    ac__free(scratch);
    return AC_ENOMEM;
  }
  n = parse_fields(src, len, scratch, f, MAX_FIELDS);
  fields_json(b, f, n < 0 ? 0 : n);
  ac__free(scratch);
  ac__free(f);
  return 0;
}

static int name_eq(const char *a, const char *b) {
  for (; *a && *b; a++, b++) {
    char x = *a, y = *b;
    if (x >= 'A' && x <= 'Z') x = (char)(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = (char)(y - 'A' + 'a');
    if (x != y) return 0;
  }
  return *a == *b;
}

/* A header name as httpbin echoes it: werkzeug rebuilds names from the WSGI
 * environ (HTTP_X_API_KEY) with str.title(), so every letter that follows a
 * non-letter is upper case, every other one lower case, and '_' is '-'
 * ("x-api-KEY" -> "X-Api-Key", "dnt" -> "Dnt"). */
static int is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

static void title_name(struct ac__dynbuf *b, const char *name) {
  size_t n = strlen(name), i = 0;
  int prev_letter = 0;
  ac__dynbuf_addc(b, '"');
  while (i < n) {
    /* Escaping leaves ASCII letters and '_' as they are: only the runs
     * between them go through it, cut at ASCII bytes (json_write.h). */
    size_t run = i;
    while (run < n && !is_letter(name[run]) && name[run] != '_') run++;
    if (run > i) {
      ac__json_escape(b, name + i, run - i, AC__JSON_ASCII);
      prev_letter = 0;
      i = run;
      continue;
    }
    char c = name[i++];
    if (c == '_') {
      c = '-';
      prev_letter = 0;
    } else {
      if (!prev_letter && c >= 'a') c = (char)(c - 'a' + 'A');
      else if (prev_letter && c <= 'Z') c = (char)(c - 'A' + 'a');
      prev_letter = 1;
    }
    ac__dynbuf_addc(b, c);
  }
  ac__dynbuf_addc(b, '"');
}

/* Headers as an object; a repeated name gets its values joined by ",", as
 * a proxy would fold them. Names are title-cased as httpbin does. */
static void headers_json(struct ac__dynbuf *b, const ac_server_req_t *req) {
  size_t n = ac_server_req_header_count(req);
  int first = 1;
  ac__dynbuf_addc(b, '{');
  for (size_t i = 0; i < n; i++) {
    const char *name, *v, *n2, *v2;
    int seen = 0, w = 0;
    ac_server_req_header_at(req, i, &name, &v);
    for (size_t j = 0; j < i && !seen; j++) {
      ac_server_req_header_at(req, j, &n2, &v2);
      seen = name_eq(name, n2);
    }
    if (seen) continue;
    if (!first) ac__dynbuf_addc(b, ',');
    first = 0;
    title_name(b, name);
    ac__dynbuf_adds(b, ":\"");
    for (size_t j = i; j < n; j++) {
      ac_server_req_header_at(req, j, &n2, &v2);
      if (!name_eq(name, n2)) continue;
      if (w++ > 0) ac__dynbuf_addc(b, ',');
      /* The values join inside one JSON string, at ',' (ASCII). */
      ac__json_escape(b, v2, strlen(v2), AC__JSON_ASCII);
    }
    ac__dynbuf_addc(b, '"');
  }
  ac__dynbuf_addc(b, '}');
}

/* The URL as one JSON string, written in pieces that meet at ASCII bytes
 * (json_write.h): the path of a routed request starts with '/'. */
static void url_json(struct ac__dynbuf *b, const ac_server_req_t *req) {
  const char *host = ac_server_req_header(req, "Host");
  const char *path = ac_server_req_path(req);
  const char *q = ac_server_req_query(req);
  if (host == NULL) host = "localhost";
  ac__dynbuf_adds(b, "\"http://");
  ac__json_escape(b, host, strlen(host), AC__JSON_ASCII);
  ac__json_escape(b, path, strlen(path), AC__JSON_ASCII);
  if (*q) {
    ac__dynbuf_addc(b, '?');
    ac__json_escape(b, q, strlen(q), AC__JSON_ASCII);
  }
  ac__dynbuf_addc(b, '"');
}

static int is_form(const ac_server_req_t *req) {
  const char *ct = ac_server_req_header(req, "Content-Type");
  const char *want = "application/x-www-form-urlencoded";
  return ct != NULL && strncasecmp(ct, want, strlen(want)) == 0;
}

/* data, files and form of a multipart body, as httpbin gives them: data
 * empty, file contents as text, or as a base64 data URI when not UTF-8. 1 when the body was multipart, 0 if not,
 * AC_ENOMEM. */
static int write_multipart(struct ac__dynbuf *b, const ac_server_req_t *req, const char *body,
                           size_t blen) {
  struct ac__site_field *form, *files;
  int nform, nfiles, rc = 1;

  form = ac__malloc(2 * MAX_FIELDS * sizeof(*form));
  if (form == NULL) return AC_ENOMEM;
  files = form + MAX_FIELDS;
  if (ac__site_multipart(ac_server_req_header(req, "Content-Type"), body, blen, form, &nform,
                         files, &nfiles, MAX_FIELDS) != 0) {
    rc = 0;
  } else {
    ac__dynbuf_adds(b, ",\"data\":\"\",\"files\":");
    fields_json_as(b, files, nfiles, 1);
    ac__dynbuf_adds(b, ",\"form\":");
    fields_json(b, form, nform);
  }
  ac__free(form);
  return rc;
}

/* The echo of httpbin's /anything; with_body 0 leaves out data, files, form
 * and json (/get, /delay), with_method 0 leaves out method. */
static int echo(ac_server_req_t *req, ac_server_resp_t *resp, int with_body, int with_method) {
  struct ac__dynbuf b;
  size_t blen;
  const char *body = ac_server_req_body(req, &blen);
  const char *q = ac_server_req_query(req);
  int rc = 0;

  ac__dynbuf_init(&b, ECHO_MAX);
  ac__dynbuf_adds(&b, "{\"args\":");
  rc = write_fields(&b, q, strlen(q));
  if (with_body && rc == 0 && (rc = write_multipart(&b, req, body, blen)) == 1) {
    rc = 0;
  } else if (with_body && rc == 0) {
    int form = is_form(req);
    ac__dynbuf_adds(&b, ",\"data\":");
    if (form) ac__dynbuf_adds(&b, "\"\"");
    else ac__json_str(&b, body, blen, AC__JSON_ASCII);
    ac__dynbuf_adds(&b, ",\"files\":{},\"form\":");
    if (form) rc = write_fields(&b, body, blen);
    else ac__dynbuf_adds(&b, "{}");
  }
  if (rc == 0) {
    ac__dynbuf_adds(&b, ",\"headers\":");
    headers_json(&b, req);
    if (with_body) {
      /* The parsed body, given back as the client sent it when it is JSON
       * (strict: invalid UTF-8 is not, as httpbin's json.loads refuses it). */
      ac__dynbuf_adds(&b, ",\"json\":");
      if (blen > 0 && ac__json_scan(body, blen, NULL, NULL, NULL, NULL) == 0)
        ac__dynbuf_add(&b, body, blen);
      else ac__dynbuf_adds(&b, "null");
    }
    if (with_method) {
      ac__dynbuf_adds(&b, ",\"method\":");
      ac__json_str(&b, ac_server_req_method(req), strlen(ac_server_req_method(req)),
                   AC__JSON_ASCII);
    }
    ac__dynbuf_adds(&b, ",\"origin\":");
    ac__json_str(&b, ac_server_req_remote_addr(req), strlen(ac_server_req_remote_addr(req)),
                 AC__JSON_ASCII);
    ac__dynbuf_adds(&b, ",\"url\":");
    url_json(&b, req);
    ac__dynbuf_adds(&b, "}\n");
    rc = ac__site_send_json(resp, 200, &b);
  }
  ac__dynbuf_free(&b);
  return rc;
}

#define SITE(ud) ((struct ac__site *)(ud))

static int h_get(ac_server_req_t *req, ac_server_resp_t *resp, void *ud) {
  SITE(ud)->kinds[AC__SITE_HTTPBIN]++;
  return echo(req, resp, 0, 0);
}

static int h_body(ac_server_req_t *req, ac_server_resp_t *resp, void *ud) {
  SITE(ud)->kinds[AC__SITE_HTTPBIN]++;
  return echo(req, resp, 1, 0);
}

static int h_anything(ac_server_req_t *req, ac_server_resp_t *resp, void *ud) {
  SITE(ud)->kinds[AC__SITE_HTTPBIN]++;
  return echo(req, resp, 1, 1);
}

static int h_headers(ac_server_req_t *req, ac_server_resp_t *resp, void *ud) {
  struct ac__dynbuf b;
  int rc;
  SITE(ud)->kinds[AC__SITE_HTTPBIN]++;
  ac__dynbuf_init(&b, ECHO_MAX);
  ac__dynbuf_adds(&b, "{\"headers\":");
  headers_json(&b, req);
  ac__dynbuf_adds(&b, "}\n");
  rc = ac__site_send_json(resp, 200, &b);
  ac__dynbuf_free(&b);
  return rc;
}

/* A path parameter as an unsigned decimal up to max; -1 if it is not one. */
static long param_ulong(const ac_server_req_t *req, const char *name, unsigned long max) {
  const char *s = ac_server_req_param(req, name);
  unsigned long v = 0;
  if (s == NULL || *s == '\0' || strlen(s) > 9) return -1;
  for (; *s; s++) {
    if (*s < '0' || *s > '9') return -1;
    v = v * 10 + (unsigned long)(*s - '0');
  }
  return v > max ? -1 : (long)v;
}

static int bad_request(ac_server_resp_t *resp, const char *why) {
  return ac_server_resp_text(resp, 400, why);
}

static int h_status(ac_server_req_t *req, ac_server_resp_t *resp, void *ud) {
  long code = param_ulong(req, "code", 999);
  int rc;
  SITE(ud)->kinds[AC__SITE_HTTPBIN]++;
  if (code < 100 || code > 599) return bad_request(resp, "Invalid status code\n");
  rc = ac_server_resp_status(resp, (int)code, NULL);
  /* httpbin sends redirects somewhere real, so a client following them ends. */
  if (rc == 0 && code >= 300 && code < 400 && code != 304)
    rc = ac_server_resp_header(resp, "Location", "/redirect/1");
  if (rc == 0 && code == 418) return ac_server_resp_text(resp, 418, "I'm a teapot\n");
  if (rc == 0) rc = ac_server_resp_send(resp, NULL, 0);
  return rc;
}

static int h_delay(ac_server_req_t *req, ac_server_resp_t *resp, void *ud) {
  const char *s = ac_server_req_param(req, "seconds");
  char *end;
  double sec;
  int rc;

  SITE(ud)->kinds[AC__SITE_HTTPBIN]++;
  errno = 0;
  sec = s != NULL ? strtod(s, &end) : -1;
  if (s == NULL || end == s || *end != '\0' || errno != 0 || !isfinite(sec) || sec < 0)
    return bad_request(resp, "Invalid delay\n");
  /* Capped as httpbin caps it, so a typo cannot hold a connection for hours. */
  if (sec * 1000.0 > AC__SITE_MAX_DELAY_MS) sec = AC__SITE_MAX_DELAY_MS / 1000.0;
  rc = ac_sleep((uint64_t)(sec * 1000.0 + 0.5));
  if (rc != 0) return rc;
  return echo(req, resp, 1, 0);
}

static int h_redirect(ac_server_req_t *req, ac_server_resp_t *resp, void *ud) {
  long n = param_ulong(req, "n", AC__SITE_MAX_REDIRECTS);
  char loc[32];
  int rc;
  SITE(ud)->kinds[AC__SITE_HTTPBIN]++;
  if (n < 1) return bad_request(resp, "Invalid redirect count\n");
  if (n == 1) snprintf(loc, sizeof(loc), "/get");
  else snprintf(loc, sizeof(loc), "/redirect/%ld", n - 1);
  rc = ac_server_resp_status(resp, 302, NULL);
  if (rc == 0) rc = ac_server_resp_header(resp, "Location", loc);
  if (rc == 0) rc = ac_server_resp_send(resp, NULL, 0);
  return rc;
}

static int h_gzip(ac_server_req_t *req, ac_server_resp_t *resp, void *ud) {
  struct ac__dynbuf b;
  unsigned char *gz = NULL;
  size_t gzlen = 0;
  int rc;

  SITE(ud)->kinds[AC__SITE_HTTPBIN]++;
  ac__dynbuf_init(&b, ECHO_MAX);
  ac__dynbuf_adds(&b, "{\"gzipped\":true,\"headers\":");
  headers_json(&b, req);
  ac__dynbuf_adds(&b, ",\"method\":");
  ac__json_str(&b, ac_server_req_method(req), strlen(ac_server_req_method(req)),
               AC__JSON_ASCII);
  ac__dynbuf_adds(&b, ",\"origin\":");
  ac__json_str(&b, ac_server_req_remote_addr(req), strlen(ac_server_req_remote_addr(req)),
               AC__JSON_ASCII);
  ac__dynbuf_adds(&b, "}\n");
  rc = ac__dynbuf_err(&b);
  /* Always gzip'd, whatever the client accepts: that is the endpoint's point. */
  if (rc == 0)
    rc = ac__site_gzip(ac__dynbuf_ptr(&b), ac__dynbuf_len(&b), AC__SITE_GZIP_LEVEL, &gz, &gzlen);
  ac__dynbuf_free(&b);
  if (rc != 0) return rc;
  rc = ac_server_resp_header(resp, "Content-Type", "application/json");
  if (rc == 0) rc = ac_server_resp_header(resp, "Content-Encoding", "gzip");
  if (rc == 0) rc = ac_server_resp_send(resp, gz, gzlen);
  ac__free(gz);
  return rc;
}

static int h_bytes(ac_server_req_t *req, ac_server_resp_t *resp, void *ud) {
  long n = param_ulong(req, "n", 999999999ul);
  char seed_s[24];
  uint64_t seed = 0;
  struct ac__rng r;
  unsigned char *buf;
  int rc;

  SITE(ud)->kinds[AC__SITE_HTTPBIN]++;
  if (n < 0) return bad_request(resp, "Invalid byte count\n");
  if (n > (long)AC__SITE_MAX_BYTES) n = (long)AC__SITE_MAX_BYTES;
  /* Deterministic: the same n (and ?seed=) always gives the same bytes. */
  if (ac_server_req_query_value(req, "seed", seed_s, sizeof(seed_s), NULL) == 0)
    seed = strtoull(seed_s, NULL, 10);
  ac__rng_seed(&r, seed ^ 0x6279746573ull);
  buf = ac__malloc((size_t)n + 8);
  if (buf == NULL) return AC_ENOMEM;
  for (long i = 0; i < n; i += 8) {
    uint64_t v = ac__rng_next(&r);
    memcpy(buf + i, &v, 8);
  }
  rc = ac_server_resp_header(resp, "Content-Type", "application/octet-stream");
  if (rc == 0) rc = ac_server_resp_send(resp, buf, (size_t)n);
  ac__free(buf);
  return rc;
}

int ac__site_httpbin_routes(struct ac__site *s) {
  static const struct {
    const char *method, *pattern;
    ac_server_handler_fn fn;
  } routes[] = {
      {"GET", "/get", h_get},
      {"POST", "/post", h_body},
      {"PUT", "/put", h_body},
      {"DELETE", "/delete", h_body},
      {"PATCH", "/patch", h_body},
      {NULL, "/anything", h_anything},
      {NULL, "/anything/*", h_anything},
      {"GET", "/headers", h_headers},
      {NULL, "/status/{code}", h_status},
      {NULL, "/delay/{seconds}", h_delay},
      {"GET", "/redirect/{n}", h_redirect},
      {"GET", "/gzip", h_gzip},
      {"GET", "/bytes/{n}", h_bytes},
  };
  for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
    int rc = ac_server_route(s->server, routes[i].method, routes[i].pattern, routes[i].fn, s);
    if (rc != 0) return rc;
  }
  return 0;
}
