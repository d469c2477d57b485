/*
 * Small helpers of the replica: Accept-Encoding negotiation, gzip of a
 * dynamic body (the prebuilt ones are gzip'd by books.c), and a strict JSON
 * validator for httpbin's "json" field.
 */
#include <stdint.h>
#include <string.h>
#include <zlib.h>

#include "common/alloc.h"
#include "site/site_internal.h"

/* Case-insensitive compare of the token s[0..n) with a lower-case word. */
static int token_is(const char *s, size_t n, const char *word) {
  size_t wl = strlen(word);
  if (n != wl) return 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
    if (c != word[i]) return 0;
  }
  return 1;
}

/* 1 if the parameters p[0..n) (after a token's ';') say q=0, q=0.0, ... */
static int q_is_zero(const char *p, size_t n) {
  for (size_t i = 0; i + 1 < n; i++) {
    if ((p[i] == 'q' || p[i] == 'Q') && p[i + 1] == '=' &&
        (i == 0 || p[i - 1] == ';' || p[i - 1] == ' ' || p[i - 1] == '\t')) {
      size_t j = i + 2;
      if (j >= n || p[j] != '0') return 0;
      for (j++; j < n && (p[j] == '.' || p[j] == '0'); j++) {
      }
      return j >= n || p[j] == ' ' || p[j] == '\t' || p[j] == ';';
    }
  }
  return 0;
}

int ac__site_accepts_gzip(const ac_server_req_t *req) {
  size_t nh = ac_server_req_header_count(req);
  int ok = 0;

  /* Every Accept-Encoding header counts (a list may be split over several).
   * An explicit "gzip;q=0" wins over "*". */
  for (size_t h = 0; h < nh; h++) {
    const char *name, *v;
    if (ac_server_req_header_at(req, h, &name, &v) != 0 || !token_is(name, strlen(name),
                                                                      "accept-encoding"))
      continue;
    while (*v) {
      const char *end = strchr(v, ',');
      size_t len = end ? (size_t)(end - v) : strlen(v);
      size_t t = 0, tl;
      while (t < len && (v[t] == ' ' || v[t] == '\t')) t++;
      tl = t;
      while (tl < len && v[tl] != ';' && v[tl] != ' ' && v[tl] != '\t') tl++;
      if (token_is(v + t, tl - t, "gzip") || token_is(v + t, tl - t, "x-gzip")) {
        if (q_is_zero(v + tl, len - tl)) return 0;
        ok = 1;
      } else if (token_is(v + t, tl - t, "*") && !q_is_zero(v + tl, len - tl)) {
        ok = 1;
      }
      v += len;
      if (*v == ',') v++;
    }
  }
  return ok;
}

static voidpf z_alloc(voidpf opaque, uInt items, uInt size) {
  (void)opaque;
  return ac__calloc(items, size);
}

static void z_free(voidpf opaque, voidpf p) {
  (void)opaque;
  ac__free(p);
}

int ac__site_gzip(const void *src, size_t len, unsigned char **out, size_t *out_len) {
  z_stream zs;
  unsigned char *buf;
  uLong cap;
  int zrc;

  if (len > UINT32_MAX) return AC_ETOOLARGE;
  memset(&zs, 0, sizeof(zs));
  zs.zalloc = z_alloc;
  zs.zfree = z_free;
  zrc = deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  if (zrc == Z_MEM_ERROR) return AC_ENOMEM;
  if (zrc != Z_OK) return AC_EIO;
  cap = deflateBound(&zs, (uLong)len);
  buf = ac__malloc(cap);
  if (buf == NULL) {
    deflateEnd(&zs);
    return AC_ENOMEM;
  }
  zs.next_in = (Bytef *)(uintptr_t)src;
  zs.avail_in = (uInt)len;
  zs.next_out = buf;
  zs.avail_out = (uInt)cap;
  /* deflateBound makes one Z_FINISH enough. */
  zrc = deflate(&zs, Z_FINISH);
  *out_len = (size_t)zs.total_out;
  deflateEnd(&zs);
  if (zrc != Z_STREAM_END) {
    ac__free(buf);
    return AC_EIO;
  }
  *out = buf;
  return 0;
}

/* ------------------------------------------------------ JSON validator */

/* Deeper documents are refused rather than risking the task's stack. */
#define JSON_MAX_DEPTH 64

struct jv {
  const char *p, *end;
};

static void ws(struct jv *j) {
  while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
    j->p++;
}

static int lit(struct jv *j, const char *w) {
  size_t n = strlen(w);
  if ((size_t)(j->end - j->p) < n || memcmp(j->p, w, n) != 0) return 0;
  j->p += n;
  return 1;
}

static int digits(struct jv *j) {
  const char *s = j->p;
  while (j->p < j->end && *j->p >= '0' && *j->p <= '9') j->p++;
  return j->p > s;
}

static int number(struct jv *j) {
  if (j->p < j->end && *j->p == '-') j->p++;
  if (j->p < j->end && *j->p == '0') {
    j->p++;
  } else if (!digits(j)) {
    return 0;
  }
  if (j->p < j->end && *j->p == '.') {
    j->p++;
    if (!digits(j)) return 0;
  }
  if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
    j->p++;
    if (j->p < j->end && (*j->p == '+' || *j->p == '-')) j->p++;
    if (!digits(j)) return 0;
  }
  return 1;
}

static int hex4(struct jv *j) {
  if (j->end - j->p < 4) return 0;
  for (int i = 0; i < 4; i++, j->p++) {
    char c = *j->p;
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return 0;
  }
  return 1;
}

/* A string; raw bytes >= 0x80 are taken as they are (the bytes are echoed,
 * not decoded), control characters are refused. */
static int string(struct jv *j) {
  if (j->p >= j->end || *j->p != '"') return 0;
  for (j->p++; j->p < j->end; j->p++) {
    unsigned char c = (unsigned char)*j->p;
    if (c == '"') {
      j->p++;
      return 1;
    }
    if (c < 0x20) return 0;
    if (c == '\\') {
      if (++j->p >= j->end) return 0;
      if (*j->p == 'u') {
        j->p++;
        if (!hex4(j)) return 0;
        j->p--;
      } else if (!strchr("\"\\/bfnrt", *j->p) || *j->p == '\0') {
        return 0;
      }
    }
  }
  return 0;
}

static int value(struct jv *j, int depth) {
  if (depth > JSON_MAX_DEPTH) return 0;
  ws(j);
  if (j->p >= j->end) return 0;
  switch (*j->p) {
  case '{':
    j->p++;
    ws(j);
    if (j->p < j->end && *j->p == '}') {
      j->p++;
      return 1;
    }
    for (;;) {
      ws(j);
      if (!string(j)) return 0;
      ws(j);
      if (j->p >= j->end || *j->p++ != ':') return 0;
      if (!value(j, depth + 1)) return 0;
      ws(j);
      if (j->p >= j->end) return 0;
      if (*j->p == '}') {
        j->p++;
        return 1;
      }
      if (*j->p++ != ',') return 0;
    }
  case '[':
    j->p++;
    ws(j);
    if (j->p < j->end && *j->p == ']') {
      j->p++;
      return 1;
    }
    for (;;) {
      if (!value(j, depth + 1)) return 0;
      ws(j);
      if (j->p >= j->end) return 0;
      if (*j->p == ']') {
        j->p++;
        return 1;
      }
      if (*j->p++ != ',') return 0;
    }
  case '"':
    return string(j);
  case 't':
    return lit(j, "true");
  case 'f':
    return lit(j, "false");
  case 'n':
    return lit(j, "null");
  default:
    return number(j);
  }
}

int ac__json_valid(const char *s, size_t len) {
  struct jv j = {s, s + len};
  if (!value(&j, 0)) return 0;
  ws(&j);
  return j.p == j.end;
}
