/*
 * Small helpers of the replica: Accept-Encoding negotiation, base64.
 */
#include <stdint.h>
#include <string.h>

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

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void ac__site_base64(struct ac__dynbuf *b, const void *p, size_t n) {
  const unsigned char *u = p;
  size_t i;
  for (i = 0; i + 2 < n; i += 3) {
    char q[4] = {b64[u[i] >> 2], b64[((u[i] & 3) << 4) | (u[i + 1] >> 4)],
                 b64[((u[i + 1] & 15) << 2) | (u[i + 2] >> 6)], b64[u[i + 2] & 63]};
    ac__dynbuf_add(b, q, 4);
  }
  if (n - i == 1) {
    char q[4] = {b64[u[i] >> 2], b64[(u[i] & 3) << 4], '=', '='};
    ac__dynbuf_add(b, q, 4);
  } else if (n - i == 2) {
    char q[4] = {b64[u[i] >> 2], b64[((u[i] & 3) << 4) | (u[i + 1] >> 4)],
                 b64[(u[i + 1] & 15) << 2], '='};
    ac__dynbuf_add(b, q, 4);
  }
}

/* The value of a base64 character, or -1. */
static int b64_value(char c) {
  const char *at = c != '\0' ? strchr(b64, c) : NULL;
  return at != NULL ? (int)(at - b64) : -1;
}

int ac__site_unbase64(const char *s, size_t n, unsigned char *out, size_t cap, size_t *outlen) {
  size_t len = 0;

  if (n % 4 != 0) return -1;
  for (size_t i = 0; i < n; i += 4) {
    int v[4], pad = 0;
    for (int k = 0; k < 4; k++) {
      /* '=' only as the last one or two characters of the text. */
      if (s[i + k] == '=' && i + 4 == n && k >= 2 && (k == 3 || s[i + 3] == '=')) {
        v[k] = 0;
        pad++;
      } else if ((v[k] = b64_value(s[i + k])) < 0) {
        return -1;
      }
    }
    /* The bits the padding leaves over must be zero: one text per blob. */
    if ((pad == 1 && (v[2] & 3) != 0) || (pad == 2 && (v[1] & 15) != 0)) return -1;
    if (len + 3 - (size_t)pad > cap) return -1;
    out[len++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
    if (pad < 2) out[len++] = (unsigned char)((v[1] & 15) << 4 | v[2] >> 2);
    if (pad < 1) out[len++] = (unsigned char)((v[2] & 3) << 6 | v[3]);
  }
  *outlen = len;
  return 0;
}
